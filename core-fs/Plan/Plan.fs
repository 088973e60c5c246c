/// Plans: a graph compiled once for a set of roots and bound variables, then run many times. The
/// compiler fixes a schedule, folds constant subgraphs (when asked), fuses elementwise chains,
/// gives every view a static layout, computes the last use of every buffer, and assigns buffers
/// to arena slots: a slot whose value has died is reused by a later buffer of the same dtype and
/// size, and an elementwise group writes over an input that dies at it. An arena (the slot arrays
/// and the tensors over them) is kept by the plan between runs; concurrent runs rent separate
/// arenas, so no buffer is ever in use by two runs. Outputs are never arena memory: each root
/// that a step writes gets a fresh array per run (or the caller's), and any other root is copied.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// Where a plan value lives when the plan runs.
[<RequireQualifiedAccess>]
type internal Home =
    /// The tensor bound to input k.
    | Input of index: int
    /// A tensor fixed when the plan was compiled (a Const, or a folded constant subgraph).
    | Constant of Tensor
    /// A static layout over buffer b: an arena slot, or the array of an output.
    | Buffer of buffer: int * shape: int[] * strides: int[] * offset: int
    /// A tensor made per run by a node-by-node kernel (ops without a buffer-writing kernel, and
    /// views of values whose storage is only known per run).
    | Computed

/// A loop a plan step runs (a Scan: its body's own plan and scratch buffers), defined after Plan.
[<AbstractClass>]
type internal LoopRunner() =
    /// Runs the loop with its inputs at `values.[inputs.[k]]`, writing the packed result into the
    /// dense `output`.
    abstract Run: values: Tensor[] * inputs: int[] * output: Tensor -> unit

/// One unit of work of a plan; the ints are value numbers.
[<RequireQualifiedAccess>]
type internal Step =
    | Fused of FusedGroup * output: int
    | Reduce of ReduceOp * axes: int[] * input: int * output: int
    /// `direct`: one dtype and ranks 1 or 2, written by the GEMM driver without the general path.
    /// `packed`: for a right operand that keeps its value over the runs of a loop's body, the
    /// entry of the run's PackCache that keeps its packed panels; -1 otherwise. `addend`: a
    /// value of the product's shape added to it (a direct product whose only use was that sum,
    /// a loop's gradient accumulator), which saves a pass over the result; -1 for none.
    | MatMul of left: int * right: int * output: int * direct: bool * packed: int * addend: int
    /// A dense copy, for a reshape of a layout that cannot be viewed in the new shape.
    | Copy of input: int * output: int
    /// A view of a value whose storage is known only per run (an input, a kernel's result), with
    /// its layout computed for a dense input; other layouts take the view kernel.
    | View of node: Expr * input: int * output: int * shape: int[] * strides: int[] * offset: int
    | Kernel of node: Expr * inputs: int[] * output: int
    /// An op written by its buffer-writing kernel into its planned buffer: a structural op (gather,
    /// scatter-add, pad, concat, cast, argmax), softmax, the Cholesky factor or a triangular solve.
    | Write of node: Expr * inputs: int[] * output: int
    /// im2col of the input into its planned buffer.
    | Unfold of kernel: int[] * stride: int[] * padding: int[] * dilation: int[] * input: int * output: int
    /// col2im of the input into its planned buffer.
    | Fold of outputSize: int[] * kernel: int[] * stride: int[] * padding: int[] * dilation: int[] * input: int * output: int
    /// A Scan, run by its compiled body into its planned (packed) buffer.
    | Loop of runner: LoopRunner * inputs: int[] * output: int

/// The packed right operands of a loop body's products, kept from one step of the loop to the
/// next (see PackedOperand): one entry per product whose B does not change over the loop. One
/// cache per concurrent run of the loop, which marks it stale when the run starts and ends.
[<Sealed; AllowNullLiteral>]
type internal PackCache(count: int) =
    let entries = Array.init count (fun _ -> PackedOperand())
    /// The entry of product `i`.
    member _.Entry(i: int) = entries.[i]
    /// Forgets every operand: the next product by each packs its B again.
    member _.Invalidate() =
        for e in entries do e.Invalidate()
    /// How many times a B was packed into this cache (for tests).
    member _.Packings = entries |> Array.sumBy (fun e -> e.Packings)

/// A buffer written by one step: its dtype and size, and either its arena slot or the root
/// position whose output array it is.
type internal PlanBuffer =
    { DType: DType
      Numel: int
      mutable Slot: int
      mutable Root: int }

/// The per-run state of a plan: slot arrays and one tensor per value (slot views prebuilt).
[<AllowNullLiteral>]
type internal Arena(slots: Array[], values: Tensor[]) =
    member _.Slots = slots
    member _.Values = values
    /// The tensors made over caller-given outputs at the last run, reused while the caller keeps
    /// passing the same arrays (so a loop that writes into its outputs allocates nothing).
    member val Given: Tensor[] = Array.zeroCreate values.Length
    /// The tensors made over caller-given outputs the run before the last (a loop whose two sets
    /// of results take turns as outputs and inputs brings each array every other run).
    member val GivenBefore: Tensor[] = Array.zeroCreate values.Length
    /// The views made at the last run over per-run storage (inputs, kernels' results), reused
    /// while their source brings the same array, so a loop over the same inputs allocates none.
    member val Views: Tensor[] = Array.zeroCreate values.Length
    /// The views made the run before the last, as GivenBefore.
    member val ViewsBefore: Tensor[] = Array.zeroCreate values.Length

    /// The tensor kept for value v (in `last` or `before`) over `storage`, or null; a hit in
    /// `before` becomes the last.
    static member Kept(last: Tensor[], before: Tensor[], v: int, storage: Array) : Tensor =
        let a = last.[v]
        if not (isNull (box a)) && obj.ReferenceEquals(a.Storage, storage) then a
        else
            let b = before.[v]
            if not (isNull (box b)) && obj.ReferenceEquals(b.Storage, storage) then
                before.[v] <- a
                last.[v] <- b
                b
            else Unchecked.defaultof<Tensor>

    /// Keeps `t` as the last tensor of value v; the previous last becomes the one before.
    static member Keep(last: Tensor[], before: Tensor[], v: int, t: Tensor) =
        before.[v] <- last.[v]
        last.[v] <- t

/// A compiled plan.
[<Sealed>]
type internal Plan(inputs: Expr[], inputValues: int[], roots: Expr[], rootValues: int[], homes: Home[], steps: Step[],
                   buffers: PlanBuffer[], slotKinds: struct (DType * int)[], rootBuffers: int[], buffersValues: int[][]) =
    let pool = Stack<Arena>()
    let transient =
        homes |> Array.indexed |> Array.choose (fun (v, h) ->
            match h with
            | Home.Input _ | Home.Computed -> Some v
            | Home.Buffer(b, _, _, _) when buffers.[b].Root >= 0 -> Some v
            | Home.Buffer _ | Home.Constant _ -> None)

    let newArena () =
        let slots =
            slotKinds |> Array.map (fun struct (dtype, numel) ->
                match dtype with
                | DType.Float64 -> GC.AllocateUninitializedArray<float> numel :> Array
                | DType.Float32 -> GC.AllocateUninitializedArray<float32> numel :> Array)
        let values = Array.zeroCreate<Tensor> homes.Length
        for v in 0 .. homes.Length - 1 do
            match homes.[v] with
            | Home.Constant t -> values.[v] <- t
            | Home.Buffer(b, shape, strides, offset) when buffers.[b].Root < 0 ->
                values.[v] <- Tensor(buffers.[b].DType, shape, strides, offset, slots.[buffers.[b].Slot])
            | Home.Buffer _ | Home.Input _ | Home.Computed -> ()
        Arena(slots, values)

    // Monitor rather than `lock`, whose closure would be an allocation on every run.
    let rent () =
        Threading.Monitor.Enter pool
        let arena = try (if pool.Count > 0 then pool.Pop() else null) finally Threading.Monitor.Exit pool
        if isNull arena then newArena () else arena
    let giveBack (arena: Arena) =
        Threading.Monitor.Enter pool
        try pool.Push arena finally Threading.Monitor.Exit pool

    /// A dense copy of any tensor into `target` (dense, same dtype and element count).
    static let copyInto (source: Tensor) (target: Array) =
        match source.DType with
        | DType.Float64 -> Strided.copy source.Data64 source.Offset source.Strides source.Dims (target :?> float[])
        | DType.Float32 -> Strided.copy source.Data32 source.Offset source.Strides source.Dims (target :?> float32[])

    /// An output's array, from the same source as every kernel's result (see TensorMemory).
    static let freshArray (dtype: DType) (numel: int) : Array =
        match dtype with
        | DType.Float64 -> RecycledArrays.Take<float> numel :> Array
        | DType.Float32 -> RecycledArrays.Take<float32> numel :> Array

    /// The buffer-writing kernel of a Step.Write node: the arguments are plan values.
    static let write (node: Expr) (values: Tensor[]) (args: int[]) (target: Array) =
        match node.Op with
        | Op.Gather axis ->
            let source = values.[args.[0]]
            Structural.gatherInto (Shape.normalizeAxis "Gather" source.Rank axis) values.[args.[1]] source target
        | Op.ScatterAdd(axis, shape) ->
            Structural.scatterAddInto (Shape.normalizeAxis "ScatterAdd" shape.Length axis) values.[args.[0]] values.[args.[1]] shape target
        | Op.Pad(before, _) -> Structural.padInto before node.Dims values.[args.[0]] target
        | Op.Concat axis -> Structural.concatInto (Shape.normalizeAxis "Concat" node.Rank axis) values args node.Dims target
        | Op.Cast _ -> Elementwise.castInto values.[args.[0]] target
        | Op.ArgMax(axis, _) ->
            let source = values.[args.[0]]
            Reduction.argmaxInto (Shape.normalizeAxis "Argmax" source.Rank axis) source target
        | Op.Softmax axis -> Normalise.into false axis values.[args.[0]] target
        | Op.LogSoftmax axis -> Normalise.into true axis values.[args.[0]] target
        | Op.Cholesky -> LinalgTensors.choleskyInto values.[args.[0]] target
        | Op.TriangularSolve(upper, left, unit) -> LinalgTensors.solveTriangularInto upper left unit values.[args.[0]] values.[args.[1]] target
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.MatMul | Op.Permute _ | Op.Reshape _
        | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ | Op.StopGradient | Op.Custom _
        | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ -> invalidOp "no buffer-writing kernel for this op"

    static let freshCopy (t: Tensor) =
        let data = freshArray t.DType t.Numel
        copyInto t data
        Tensor(t.DType, Array.copy t.Dims, Shape.contiguousStrides t.Dims, 0, data)

    /// The bound variables, in the order run takes their tensors.
    member _.Inputs = inputs
    /// The roots, in the order run returns their values.
    member _.Roots = roots
    /// The steps, for tests that count them.
    member _.Steps = steps
    /// The number of arena slots (each a distinct array per arena).
    member _.SlotCount = slotKinds.Length
    /// The bytes of one arena's slots.
    member _.ArenaBytes =
        slotKinds |> Array.sumBy (fun struct (d, n) -> int64 n * (match d with DType.Float64 -> 8L | DType.Float32 -> 4L))

    /// The number of products whose packed B a loop keeps between runs of this plan (the size of
    /// the PackCache that `Run` takes).
    member _.PackedOperands =
        steps |> Array.sumBy (fun step ->
            match step with
            | Step.MatMul(_, _, _, _, packed, _) when packed >= 0 -> 1
            | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
            | Step.Unfold _ | Step.Fold _ | Step.Loop _ -> 0)

    /// Runs the plan on checked inputs. With `outputs` null, every result is a fresh tensor; with
    /// dense caller tensors of the roots' shapes and dtypes, the results are written into them.
    member this.Run(given: Tensor[], outputs: Tensor[]) : Tensor[] = this.Run(given, outputs, null)

    /// As Run, for a loop's body: `packs` (null for none) keeps the packed right operands of the
    /// products marked as loop-invariant, which the caller guarantees keep their values until
    /// it invalidates the cache.
    member _.Run(given: Tensor[], outputs: Tensor[], packs: PackCache) : Tensor[] =
        let arena = rent ()
        let values = arena.Values
        try
            for k in 0 .. inputValues.Length - 1 do
                if inputValues.[k] >= 0 then values.[inputValues.[k]] <- given.[k]
            for r in 0 .. rootBuffers.Length - 1 do
                let b = rootBuffers.[r]
                if b >= 0 then
                    let info = buffers.[b]
                    let storage = if isNull outputs then freshArray info.DType info.Numel else outputs.[r].Storage
                    for v in buffersValues.[b] do
                        match homes.[v] with
                        | Home.Buffer(_, shape, strides, offset) ->
                            let kept = if isNull outputs then Unchecked.defaultof<Tensor> else Arena.Kept(arena.Given, arena.GivenBefore, v, storage)
                            if not (isNull (box kept)) then values.[v] <- kept
                            else
                                let t = Tensor(info.DType, shape, strides, offset, storage)
                                values.[v] <- t
                                if not (isNull outputs) then Arena.Keep(arena.Given, arena.GivenBefore, v, t)
                        | Home.Input _ | Home.Constant _ | Home.Computed -> ()
            for step in steps do
                match step with
                | Step.Fused(group, output) -> FusedKernel.run group values values.[output]
                | Step.Reduce(op, axes, input, output) -> Reduction.reduceInto op axes values.[input] values.[output].Storage
                | Step.MatMul(left, right, output, direct, packed, addend) ->
                    if direct then
                        let entry = if packed >= 0 && not (isNull packs) then packs.Entry packed else null
                        let sum = if addend >= 0 then values.[addend] else Unchecked.defaultof<Tensor>
                        LinearAlgebra.matmulPackedInto values.[left] values.[right] entry sum values.[output].Storage
                    else LinearAlgebra.matmulGeneralInto values.[left] values.[right] values.[output].Storage
                | Step.Copy(input, output) -> copyInto values.[input] values.[output].Storage
                | Step.View(node, input, output, shape, strides, offset) ->
                    let t = values.[input]
                    values.[output] <-
                        if t.IsContiguous && t.Offset = 0 then
                            // the same array in the same (planned) layout: last run's view is this run's
                            let kept = Arena.Kept(arena.Views, arena.ViewsBefore, output, t.Storage)
                            if not (isNull (box kept)) then kept
                            else
                                let view = Tensor(t.DType, shape, strides, offset, t.Storage)
                                Arena.Keep(arena.Views, arena.ViewsBefore, output, view)
                                view
                        else Interpret.run node [| t |]
                | Step.Write(node, args, output) -> write node values args values.[output].Storage
                | Step.Unfold(k, s, p, d, input, output) -> Patches.unfoldInto k s p d values.[input] values.[output].Storage
                | Step.Fold(size, k, s, p, d, input, output) -> Patches.foldInto size k s p d values.[input] values.[output].Storage
                | Step.Loop(runner, args, output) -> runner.Run(values, args, values.[output])
                | Step.Kernel(node, args, output) ->
                    let operands = Array.zeroCreate args.Length
                    for i in 0 .. args.Length - 1 do operands.[i] <- values.[args.[i]]
                    let result = Interpret.run node operands
                    // A kernel may hand back a view of its input; an input in an arena slot will be
                    // overwritten once it dies, so such a result is copied out of the slot.
                    let mutable inSlot = false
                    for s in arena.Slots do
                        if obj.ReferenceEquals(s, result.Storage) then inSlot <- true
                    values.[output] <- if inSlot then freshCopy result else result
            let results = if isNull outputs then Array.zeroCreate roots.Length else outputs
            for r in 0 .. roots.Length - 1 do
                let v = rootValues.[r]
                let value = values.[v]
                if not (isNull outputs) then
                    // a root that owns its buffer was written in place
                    if rootBuffers.[r] < 0 then copyInto value outputs.[r].Storage
                elif rootBuffers.[r] >= 0 then results.[r] <- value
                else
                    match homes.[v] with
                    // slots are reused by the next run: their values leave as copies
                    | Home.Buffer _ -> results.[r] <- freshCopy value
                    | Home.Input _ | Home.Constant _ | Home.Computed -> results.[r] <- value
            results
        finally
            for v in transient do values.[v] <- Unchecked.defaultof<Tensor>
            giveBack arena

/// The scratch of one run of a compiled Scan: two sets of carries that take turns as the body's
/// inputs and outputs, a dense row per xs, a buffer per y, and the arrays handed to the body's plan.
type internal LoopScratch =
    { CarriesA: Tensor[]
      CarriesB: Tensor[]
      Rows: Tensor[]
      Ys: Tensor[]
      Given: Tensor[]
      Outputs: Tensor[]
      /// The packed captured operands of the body's products, valid during one run.
      Packs: PackCache }

/// A Scan compiled once: the body's plan, run `length` times per run of the outer plan. Each step
/// copies row t of every xs into a dense row, runs the body's plan with the carries, rows and
/// captured values into the other set of carries and the y buffers, then copies the ys into row t
/// of the packed output; the final carries go to its front. Scratch is kept between runs (one
/// per concurrent run), so a run allocates nothing per step.
[<Sealed>]
type internal ScanRunner(body: ScanBody, plan: Plan, length: int, reverse: bool) =
    inherit LoopRunner()
    let carries, xs = body.CarryVars.Length, body.XVars.Length
    let inputCount = body.Vars.Length
    let ys = body.Ys
    let offsets = body.Offsets length
    let pool = Stack<LoopScratch>()
    // every scratch made, for the count of packings (a test's figure, read after the runs)
    let made = List<LoopScratch>()
    static let dense (e: Expr) =
        let storage: Array =
            match e.DType with
            | DType.Float64 -> GC.AllocateUninitializedArray<float> e.Numel :> Array
            | DType.Float32 -> GC.AllocateUninitializedArray<float32> e.Numel :> Array
        Tensor(e.DType, Array.copy e.Dims, Shape.contiguousStrides e.Dims, 0, storage)
    let newScratch () =
        { CarriesA = body.CarryVars |> Array.map dense
          CarriesB = body.CarryVars |> Array.map dense
          Rows = body.XVars |> Array.map dense
          Ys = ys |> Array.map dense
          Given = Array.zeroCreate inputCount
          Outputs = Array.zeroCreate body.Outputs.Length
          Packs = PackCache(plan.PackedOperands) }
    let rent () =
        Threading.Monitor.Enter pool
        let scratch = try (if pool.Count > 0 then ValueSome(pool.Pop()) else ValueNone) finally Threading.Monitor.Exit pool
        match scratch with
        | ValueSome s -> s
        | ValueNone ->
            let s = newScratch ()
            Threading.Monitor.Enter pool
            try made.Add s finally Threading.Monitor.Exit pool
            s
    let giveBack (scratch: LoopScratch) =
        Threading.Monitor.Enter pool
        try pool.Push scratch finally Threading.Monitor.Exit pool

    /// Row t of a stacked tensor, copied into a dense row: one block copy for a dense source (the
    /// usual case, and one that allocates nothing), the strided walk otherwise.
    static let copyRow (source: Tensor) (t: int) (row: Tensor) =
        let offset = source.Offset + t * source.Strides.[0]
        if source.IsContiguous then Array.Copy(source.Storage, offset, row.Storage, 0, row.Numel)
        else
            let strides = source.Strides.[1..]
            match source.DType with
            | DType.Float64 -> Strided.copy source.Data64 offset strides row.Dims row.Data64
            | DType.Float32 -> Strided.copy source.Data32 offset strides row.Dims row.Data32

    /// A part into the packed output at an element offset, converted to its dtype (exact: the
    /// packed dtype is the widest part's).
    static let place (output: Tensor) (offset: int) (part: Tensor) =
        let part = if part.IsContiguous then part else part.Contiguous()
        let n = part.Numel
        let target = output.Offset + offset
        match part.DType, output.DType with
        | DType.Float64, DType.Float64 | DType.Float32, DType.Float32 -> Array.Copy(part.Storage, part.Offset, output.Storage, target, n)
        | DType.Float32, DType.Float64 ->
            let source, destination = part.Data32, output.Data64
            for i in 0 .. n - 1 do destination.[target + i] <- float source.[part.Offset + i]
        | DType.Float64, DType.Float32 ->
            let source, destination = part.Data64, output.Data32
            for i in 0 .. n - 1 do destination.[target + i] <- float32 source.[part.Offset + i]

    /// The body's plan (for tests).
    member _.Plan = plan

    /// How many times a captured operand was packed for the body's products, over all runs (for
    /// tests: once per product per run, whatever the length).
    member _.Packings =
        Threading.Monitor.Enter pool
        try made |> Seq.sumBy (fun s -> s.Packs.Packings) finally Threading.Monitor.Exit pool

    override _.Run(values: Tensor[], inputs: int[], output: Tensor) =
        let s = rent ()
        try
            let given, outputs = s.Given, s.Outputs
            for k in 0 .. inputCount - 1 do
                given.[k] <- if k >= carries && k < carries + xs then s.Rows.[k - carries] else values.[inputs.[k]]
            for j in 0 .. ys.Length - 1 do
                outputs.[carries + j] <- s.Ys.[j]
            for step in 0 .. length - 1 do
                let t = if reverse then length - 1 - step else step
                for j in 0 .. xs - 1 do
                    copyRow values.[inputs.[carries + j]] t s.Rows.[j]
                let target = if step % 2 = 0 then s.CarriesB else s.CarriesA
                for i in 0 .. carries - 1 do
                    outputs.[i] <- target.[i]
                plan.Run(given, outputs, s.Packs) |> ignore
                for i in 0 .. carries - 1 do
                    given.[i] <- target.[i]
                for j in 0 .. ys.Length - 1 do
                    place output (offsets.[carries + j] + t * ys.[j].Numel) s.Ys.[j]
            for i in 0 .. carries - 1 do
                place output offsets.[i] given.[i]
            body.Evaluated length
        finally
            // the scratch keeps no caller's tensor alive between runs, and the next run's captured
            // values may differ from this one's
            Array.Clear s.Given
            s.Packs.Invalidate()
            giveBack s

/// Compiles plans.
module internal Planner =

    let private dense (shape: int[]) = Shape.contiguousStrides shape

    let private emptyStorage (dtype: DType) : Array =
        match dtype with
        | DType.Float64 -> Array.empty<float> :> Array
        | DType.Float32 -> Array.empty<float32> :> Array

    /// True when every input has the node's dtype. A loop, not Array.forall: a compile asks this
    /// for every node, and a closure per call was a tenth of what compiling a graph of small
    /// tensors allocated.
    let private inputsShareDType (node: Expr) =
        let args = node.Args
        let mutable same = true
        for k in 0 .. args.Length - 1 do
            if args.[k].DType <> node.DType then same <- false
        same

    /// True for the ops a fused group can hold.
    let private elementwise (node: Expr) =
        match node.Op with
        | Op.Unary _ | Op.Binary _ | Op.Where -> inputsShareDType node
        | Op.Var _ | Op.Const _ | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
        | Op.Cast _ | Op.StopGradient | Op.Custom _
        | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ -> false

    /// True for ops whose kernel returns a view of its (one) input.
    let private isView (node: Expr) =
        match node.Op with
        | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ -> true
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
        | Op.Pad _ | Op.Concat _ | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _
        | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ -> false

    /// A plan for `roots` with the Vars `inputs` bound per run. With `fold`, subgraphs without a
    /// Var are evaluated now and become constants of the plan (for plans run many times). The
    /// inputs from `firstInvariant` on keep their values over the runs of a loop (a Scan body's
    /// captured values): the products by them (and by views of them) keep B's packed panels in
    /// the loop's PackCache.
    let rec compileWith (inputs: Expr[]) (roots: Expr[]) (fold: bool) (firstInvariant: int) : Plan =
        let order = Graph.topologicalOrder roots
        let inputIndex = Dictionary<int64, int>()
        inputs |> Array.iteri (fun k v -> inputIndex.[v.Id] <- k)
        let isRoot = HashSet<int64>()
        for r in roots do isRoot.Add r.Id |> ignore

        // Constant subgraphs: nodes with no Var below. Those a non-constant node (or a root) reads
        // are evaluated now, together, node by node.
        let constant = HashSet<int64>()
        let folded = Dictionary<int64, Tensor>()
        if fold then
            for node in order do
                match node.Op with
                | Op.Var _ -> ()
                | _ -> if node.Args |> Array.forall (fun a -> constant.Contains a.Id) then constant.Add node.Id |> ignore
            let wanted = List<Expr>()
            let mark (e: Expr) =
                match e.Op with
                | Op.Const _ -> ()
                | _ ->
                    if constant.Contains e.Id && not (folded.ContainsKey e.Id) then
                        folded.[e.Id] <- Unchecked.defaultof<Tensor>
                        wanted.Add e
            for node in order do
                if not (constant.Contains node.Id) then
                    for a in node.Args do mark a
            for r in roots do mark r
            if wanted.Count > 0 then
                let values = Interpret.evalMany (Dictionary()) (wanted.ToArray())
                for i in 0 .. wanted.Count - 1 do folded.[wanted.[i].Id] <- values.[i]

        // Uses of each node (an edge per input slot, one per root position), and its consumer
        // when it has exactly one.
        let uses = Dictionary<int64, int>()
        let consumer = Dictionary<int64, Expr>()
        let addUse (e: Expr) = uses.[e.Id] <- (match uses.TryGetValue e.Id with | true, n -> n + 1 | _ -> 1)
        for node in order do
            if not (constant.Contains node.Id) then
                for a in node.Args do
                    addUse a
                    consumer.[a.Id] <- node
        for r in roots do addUse r
        let fusable (node: Expr) = elementwise node && not (constant.Contains node.Id)
        // A node joins its consumer's group when it is that consumer's private input of the same
        // shape. Decided once per node here: a group's walk asks it twice per edge.
        let joined = HashSet<int64>()
        for node in order do
            if fusable node && not (isRoot.Contains node.Id) then
                match uses.TryGetValue node.Id with
                | true, 1 ->
                    let c = consumer.[node.Id]
                    if fusable c && Ir.sameDims c.Dims node.Dims then joined.Add node.Id |> ignore
                | _ -> ()
        let joins (node: Expr) = joined.Contains node.Id

        let homes = List<Home>()
        let valueOf = Dictionary<int64, int>()
        // Values that keep their value over the runs of a loop: invariant inputs, constants, and
        // views of these (a weight's transpose).
        let invariant = HashSet<int>()
        let mutable packedOperands = 0
        let steps = List<Step>()
        let buffers = List<PlanBuffer>()
        let addValue (node: Expr) (home: Home) =
            let v = homes.Count
            homes.Add home
            valueOf.[node.Id] <- v
            match home with
            | Home.Constant _ -> invariant.Add v |> ignore
            | Home.Input k when k >= firstInvariant -> invariant.Add v |> ignore
            | Home.Input _ | Home.Buffer _ | Home.Computed -> ()
            v
        let newBuffer (node: Expr) =
            let b = buffers.Count
            buffers.Add { DType = node.DType; Numel = node.Numel; Slot = -1; Root = -1 }
            addValue node (Home.Buffer(b, Array.copy node.Dims, dense node.Dims, 0))

        // The group of `head`: its members in dependency order (iterative post-order), registers
        // allocated from a free list as operands die. The working tables are shared by all the
        // groups of a compile (a graph of small tensors has one group every few nodes, and fresh
        // tables per group were most of what compiling it allocated); a table that grew large is
        // replaced rather than cleared, so clearing stays proportional to a group's size.
        let externals = List<int>()
        let externalIndexCell = ref (Dictionary<int, int>())
        let registerOfCell = ref (Dictionary<int64, int>())
        let free = Stack<int>()
        let instructions = List<FusedInstruction>()
        let stack = Stack<struct (Expr * int)>()
        let buildGroup (head: Expr) : FusedGroup =
            externals.Clear()
            if externalIndexCell.Value.Count > 64 then externalIndexCell.Value <- Dictionary<int, int>() else externalIndexCell.Value.Clear()
            if registerOfCell.Value.Count > 64 then registerOfCell.Value <- Dictionary<int64, int>() else registerOfCell.Value.Clear()
            let externalIndex = externalIndexCell.Value
            let registerOf = registerOfCell.Value
            free.Clear()
            instructions.Clear()
            let mutable registers = 0
            stack.Push(struct (head, 0))
            while stack.Count > 0 do
                let struct (node, next) = stack.Pop()
                let args = node.Args
                if next < args.Length then
                    stack.Push(struct (node, next + 1))
                    if joins args.[next] then stack.Push(struct (args.[next], 0))
                else
                    let operand (a: Expr) =
                        if joins a then FusedOperand.Register registerOf.[a.Id]
                        else
                            let v = valueOf.[a.Id]
                            match externalIndex.TryGetValue v with
                            | true, k -> FusedOperand.External k
                            | _ ->
                                let k = externals.Count
                                externals.Add v
                                externalIndex.[v] <- k
                                FusedOperand.External k
                    let operands = args |> Array.map operand
                    for a in args do
                        if joins a then free.Push registerOf.[a.Id]
                    let target =
                        if obj.ReferenceEquals(node, head) then -1
                        elif free.Count > 0 then free.Pop()
                        else
                            registers <- registers + 1
                            registers - 1
                    if target >= 0 then registerOf.[node.Id] <- target
                    let instruction =
                        match node.Op with
                        | Op.Unary op -> FusedInstruction.Unary(op, operands.[0], target)
                        | Op.Binary op -> FusedInstruction.Binary(op, operands.[0], operands.[1], target)
                        | Op.Where -> FusedInstruction.Where(operands.[0], operands.[1], operands.[2], target)
                        | Op.Var _ | Op.Const _ | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
                        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                        | Op.Cast _ | Op.StopGradient | Op.Custom _
                        | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh
                        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ ->
                            invalidOp "only elementwise nodes are fused"
                    instructions.Add instruction
            { Shape = Array.copy head.Dims; Numel = head.Numel; DType = head.DType
              Instructions = instructions.ToArray(); Registers = registers; InputValues = externals.ToArray(); Rows = null }

        // Products whose only use is a sum with a value of their shape (acc + g·h, a loop's
        // gradient accumulator): the sum's node, by id, to the product and its operands' values.
        let deferred = Dictionary<int64, struct (Expr * int * int * int)>()
        let addendOf (product: Expr) (direct: bool) : Expr voption =
            if not direct || isRoot.Contains product.Id || uses.[product.Id] <> 1 then ValueNone
            else
                let sum = consumer.[product.Id]
                match sum.Op with
                | Op.Binary BinaryOp.Add when fusable sum && not (joins sum) && sum.DType = product.DType && Ir.sameDims sum.Dims product.Dims ->
                    let other = if obj.ReferenceEquals(sum.Args.[0], product) then sum.Args.[1] else sum.Args.[0]
                    // the addend must be a value of its own, of the sum's shape (not broadcast)
                    // (a view, a broadcast bias say, would be copied dense on every run)
                    if obj.ReferenceEquals(other, product) || joins other || isView other
                       || other.DType <> sum.DType || not (Ir.sameDims other.Dims sum.Dims) then ValueNone
                    else ValueSome sum
                | Op.Binary _ | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _
                | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr
                | Op.Eigh | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ -> ValueNone

        let kernel (node: Expr) =
            let args = node.Args |> Array.map (fun a -> valueOf.[a.Id])
            let v = addValue node Home.Computed
            steps.Add(Step.Kernel(node, args, v))

        // A Scan as one step: its body compiled into a plan of its own, run once per step.
        let planScan (node: Expr) =
            match node.Op with
            | Op.Scan(body, length, reverse, _) ->
                let body = ScanNode.bodyOf body
                let bodyPlan = compileWith body.Vars body.Outputs fold (body.CarryVars.Length + body.XVars.Length)
                let runner = ScanRunner(body, bodyPlan, length, reverse)
                let args = node.Args |> Array.map (fun a -> valueOf.[a.Id])
                let v = newBuffer node
                steps.Add(Step.Loop(runner, args, v))
            | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
            | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
            | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
            | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh | Op.Polygamma _ | Op.ArgSort _
            | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ -> invalidOp "planScan: not a Scan node"
        // The saving Scans in the graph (bodies that extend another body), for forward sharing.
        let savingScans =
            order |> Array.filter (fun n ->
                match n.Op with
                | Op.Scan(body, _, _, _) -> not (isNull (ScanNode.bodyOf body).Extends) && not (constant.Contains n.Id)
                | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
                | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
                | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
                | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh | Op.Polygamma _ | Op.ArgSort _
                | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ -> false)
        let savingScanOf (node: Expr) (body: ScanBody) (length: int) (reverse: bool) =
            let matches (s: Expr) =
                match s.Op with
                | Op.Scan(sBody, sLength, sReverse, _) ->
                    obj.ReferenceEquals((ScanNode.bodyOf sBody).Extends, body) && sLength = length && sReverse = reverse
                    && s.DType = node.DType && s.Args.Length = node.Args.Length
                    && Array.forall2 (fun (a: Expr) (b: Expr) -> obj.ReferenceEquals(a, b)) s.Args node.Args
                | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
                | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
                | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
                | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh | Op.Polygamma _ | Op.ArgSort _
                | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ -> false
            match Array.tryFind matches savingScans with
            | Some s -> ValueSome s
            | None -> ValueNone

        for node in order do
            if folded.ContainsKey node.Id then addValue node (Home.Constant folded.[node.Id]) |> ignore
            elif constant.Contains node.Id then
                match node.Op with
                | Op.Const t -> addValue node (Home.Constant t) |> ignore
                | _ -> () // only read by other constants, which were folded
            elif joins node then ()
            else
                match node.Op with
                | Op.Var(name, _) ->
                    match inputIndex.TryGetValue node.Id with
                    | true, k -> addValue node (Home.Input k) |> ignore
                    | _ -> invalidOp (sprintf "Eval: variable %s %O%s is not bound" name node.DType (Shape.format node.Dims))
                | Op.Const t -> addValue node (Home.Constant t) |> ignore
                | Op.Binary _ when deferred.ContainsKey node.Id ->
                    // the sum of a product and an addend: the product's step writes it
                    let struct (product, left, right, packed) = deferred.[node.Id]
                    let other = if obj.ReferenceEquals(node.Args.[0], product) then node.Args.[1] else node.Args.[0]
                    let v = newBuffer node
                    steps.Add(Step.MatMul(left, right, v, true, packed, valueOf.[other.Id]))
                | Op.Unary _ | Op.Binary _ | Op.Where ->
                    if fusable node then
                        let group = buildGroup node
                        let v = newBuffer node
                        steps.Add(Step.Fused(group, v))
                    else kernel node
                // max and min over an empty axis raise in the kernel, at run time as without a plan
                | Op.Reduce(op, axes, _) when axes.Length > 0
                                              && not ((op = ReduceOp.Max || op = ReduceOp.Min)
                                                      && axes |> Array.exists (fun a -> node.Args.[0].Dims.[a] = 0)) ->
                    let input = valueOf.[node.Args.[0].Id]
                    let v = newBuffer node
                    steps.Add(Step.Reduce(op, axes, input, v))
                | Op.MatMul ->
                    let a, b = node.Args.[0], node.Args.[1]
                    let direct = a.DType = b.DType && a.Rank <= 2 && b.Rank <= 2
                    let left, right = valueOf.[a.Id], valueOf.[b.Id]
                    let packed =
                        if direct && invariant.Contains right then
                            packedOperands <- packedOperands + 1
                            packedOperands - 1
                        else -1
                    match addendOf node direct with
                    // (of a sum of two products, the first is deferred and the second is its addend)
                    | ValueSome sum when not (deferred.ContainsKey sum.Id) -> deferred.[sum.Id] <- struct (node, left, right, packed)
                    | ValueSome _ | ValueNone ->
                        let v = newBuffer node
                        steps.Add(Step.MatMul(left, right, v, direct, packed, -1))
                | Op.StopGradient -> valueOf.[node.Id] <- valueOf.[node.Args.[0].Id]
                | Op.Custom _ -> valueOf.[node.Id] <- valueOf.[node.Args.[1].Id]
                | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ ->
                    let input = node.Args.[0]
                    match homes.[valueOf.[input.Id]] with
                    | Home.Constant t -> addValue node (Home.Constant(Interpret.run node [| t |])) |> ignore
                    | Home.Buffer(b, shape, strides, offset) ->
                        let template = Tensor(input.DType, shape, strides, offset, emptyStorage input.DType)
                        match node.Op with
                        | Op.Reshape _ when not template.IsContiguous ->
                            let source = valueOf.[input.Id]
                            let v = newBuffer node
                            steps.Add(Step.Copy(source, v))
                        | _ ->
                            let view = Interpret.run node [| template |]
                            addValue node (Home.Buffer(b, view.Dims, view.Strides, view.Offset)) |> ignore
                    | Home.Input _ | Home.Computed ->
                        let template = Tensor(input.DType, input.Dims, dense input.Dims, 0, emptyStorage input.DType)
                        let view = Interpret.run node [| template |]
                        let source = valueOf.[input.Id]
                        let v = addValue node Home.Computed
                        if invariant.Contains source then invariant.Add v |> ignore
                        steps.Add(Step.View(node, source, v, view.Dims, view.Strides, view.Offset))
                | Op.Cast _ when node.DType = node.Args.[0].DType ->
                    let source = valueOf.[node.Args.[0].Id]
                    let v = newBuffer node
                    steps.Add(Step.Copy(source, v))
                // parts of another dtype are converted by the node-by-node kernel
                | Op.Concat _ when node.Args |> Array.exists (fun a -> a.DType <> node.DType) -> kernel node
                | Op.ArgMax _ | Op.Pad _ | Op.Concat _ | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.Softmax _ | Op.LogSoftmax _ ->
                    let args = node.Args |> Array.map (fun a -> valueOf.[a.Id])
                    let v = newBuffer node
                    steps.Add(Step.Write(node, args, v))
                | Op.Reduce _ -> kernel node
                | Op.Unfold(k, s, p, d) ->
                    let input = valueOf.[node.Args.[0].Id]
                    let v = newBuffer node
                    steps.Add(Step.Unfold(k, s, p, d, input, v))
                | Op.Fold(size, k, s, p, d) ->
                    let input = valueOf.[node.Args.[0].Id]
                    let v = newBuffer node
                    steps.Add(Step.Fold(size, k, s, p, d, input, v))
                // the factor and the solve into the plan's reused buffers: at n = 256 a fresh result
                // per run is a large-object array
                | Op.Cholesky | Op.TriangularSolve _ ->
                    let args = node.Args |> Array.map (fun a -> valueOf.[a.Id])
                    let v = newBuffer node
                    steps.Add(Step.Write(node, args, v))
                | Op.Solve | Op.SlogDet | Op.Qr | Op.Eigh -> kernel node
                | Op.Polygamma _ | Op.ArgSort _ -> kernel node
                | Op.Scan _ when valueOf.ContainsKey node.Id -> () // a saving Scan planned early, below
                | Op.Scan(body, length, reverse, _) ->
                    // Forward sharing: a gradient's saving Scan runs this node's loop and more, and
                    // its packed output starts with this node's; this node is then a view of it.
                    match savingScanOf node (ScanNode.bodyOf body) length reverse with
                    | ValueSome saving ->
                        if not (valueOf.ContainsKey saving.Id) then planScan saving
                        match homes.[valueOf.[saving.Id]] with
                        | Home.Buffer(b, _, _, _) -> addValue node (Home.Buffer(b, Array.copy node.Dims, [| 1 |], 0)) |> ignore
                        | Home.Input _ | Home.Constant _ | Home.Computed -> planScan node
                    | ValueNone -> planScan node

        let homes = homes.ToArray()
        let steps = steps.ToArray()
        let buffers = buffers.ToArray()
        let rootValues = roots |> Array.map (fun r -> valueOf.[r.Id])
        let inputValues = inputs |> Array.map (fun v -> match valueOf.TryGetValue v.Id with | true, x -> x | _ -> -1)

        // The values that read each step.
        let reads (step: Step) =
            match step with
            | Step.Fused(group, _) -> group.InputValues
            | Step.Reduce(_, _, input, _) -> [| input |]
            | Step.MatMul(left, right, _, _, _, addend) -> if addend >= 0 then [| left; right; addend |] else [| left; right |]
            | Step.Copy(input, _) -> [| input |]
            | Step.View(_, input, _, _, _, _) -> [| input |]
            | Step.Kernel(_, args, _) | Step.Write(_, args, _) -> args
            | Step.Unfold(_, _, _, _, input, _) | Step.Fold(_, _, _, _, _, input, _) -> [| input |]
            | Step.Loop(_, args, _) -> args
        let writes (step: Step) =
            match step with
            | Step.Fused(_, output) | Step.Reduce(_, _, _, output) | Step.MatMul(_, _, output, _, _, _) | Step.Copy(_, output) -> output
            | Step.Kernel(_, _, output) | Step.View(_, _, output, _, _, _) | Step.Write(_, _, output) -> output
            | Step.Unfold(_, _, _, _, _, output) | Step.Fold(_, _, _, _, _, _, output) -> output
            | Step.Loop(_, _, output) -> output
        let bufferOf (v: int) = match homes.[v] with Home.Buffer(b, _, _, _) -> b | Home.Input _ | Home.Constant _ | Home.Computed -> -1

        // Roots own the buffer they are a dense full view of (the first root position does).
        let rootBuffers = Array.create roots.Length -1
        for r in 0 .. roots.Length - 1 do
            match homes.[rootValues.[r]] with
            | Home.Buffer(b, shape, strides, offset) when buffers.[b].Root < 0 && offset = 0 && Shape.numel shape = buffers.[b].Numel ->
                let template = Tensor(buffers.[b].DType, shape, strides, offset, emptyStorage buffers.[b].DType)
                if template.IsContiguous then
                    buffers.[b].Root <- r
                    rootBuffers.[r] <- b
            | Home.Buffer _ | Home.Input _ | Home.Constant _ | Home.Computed -> ()

        // Last use of every buffer: the last step that reads any value over it; roots' never end.
        let lastUse = Array.create buffers.Length -1
        for i in 0 .. steps.Length - 1 do
            for v in reads steps.[i] do
                let b = bufferOf v
                if b >= 0 then lastUse.[b] <- max lastUse.[b] i
        for v in rootValues do
            let b = bufferOf v
            if b >= 0 then lastUse.[b] <- Int32.MaxValue

        // Slots, in schedule order: a step's output takes over an input that dies at it (fused
        // groups only, and only a dense input of the output's dtype and size that no other operand
        // reads through another layout), else a freed slot of its dtype and size, else a new one.
        let slotKinds = List<struct (DType * int)>()
        let freeSlots = Dictionary<struct (DType * int), Stack<int>>()
        let handedOver = HashSet<int>()
        let released = HashSet<int>()
        let release (b: int) =
            if buffers.[b].Root < 0 && not (handedOver.Contains b) && released.Add b then
                let key = struct (buffers.[b].DType, buffers.[b].Numel)
                match freeSlots.TryGetValue key with
                | true, s -> s.Push buffers.[b].Slot
                | _ ->
                    let s = Stack<int>()
                    s.Push buffers.[b].Slot
                    freeSlots.[key] <- s
        let isDenseFull (v: int) (b: int) =
            match homes.[v] with
            | Home.Buffer(_, shape, strides, offset) ->
                offset = 0 && Shape.numel shape = buffers.[b].Numel
                && Tensor(buffers.[b].DType, shape, strides, 0, emptyStorage buffers.[b].DType).IsContiguous
            | Home.Input _ | Home.Constant _ | Home.Computed -> false
        for i in 0 .. steps.Length - 1 do
            let step = steps.[i]
            let read = reads step
            let output = bufferOf (writes step)
            if output >= 0 && buffers.[output].Root < 0 then
                let target = buffers.[output]
                let takeOver =
                    match step with
                    | Step.Fused _ ->
                        read |> Array.tryFind (fun v ->
                            let b = bufferOf v
                            b >= 0 && buffers.[b].Root < 0 && lastUse.[b] = i && not (handedOver.Contains b)
                            && buffers.[b].DType = target.DType && buffers.[b].Numel = target.Numel
                            && read |> Array.forall (fun u -> bufferOf u <> b || isDenseFull u b))
                    | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.Kernel _ | Step.View _ | Step.Write _
                    | Step.Unfold _ | Step.Fold _ | Step.Loop _ -> None
                match takeOver with
                | Some v ->
                    let b = bufferOf v
                    target.Slot <- buffers.[b].Slot
                    handedOver.Add b |> ignore
                | None ->
                    let key = struct (target.DType, target.Numel)
                    match freeSlots.TryGetValue key with
                    | true, s when s.Count > 0 -> target.Slot <- s.Pop()
                    | _ ->
                        target.Slot <- slotKinds.Count
                        slotKinds.Add key
            for v in read do
                let b = bufferOf v
                if b >= 0 && lastUse.[b] = i then release b
            if output >= 0 && lastUse.[output] < 0 then release output

        let buffersValues =
            let lists = Array.init buffers.Length (fun _ -> List<int>())
            for v in 0 .. homes.Length - 1 do
                let b = bufferOf v
                if b >= 0 && buffers.[b].Root >= 0 then lists.[b].Add v
            lists |> Array.map (fun l -> l.ToArray())
        Plan(Array.copy inputs, inputValues, Array.copy roots, rootValues, homes, steps, buffers, slotKinds.ToArray(), rootBuffers, buffersValues)

    /// A plan for `roots` with the Vars `inputs` bound per run (see compileWith); none of the
    /// inputs is a loop's invariant.
    let compile (inputs: Expr[]) (roots: Expr[]) (fold: bool) : Plan = compileWith inputs roots fold inputs.Length
