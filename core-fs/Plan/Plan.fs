/// Plans: a graph compiled once for a set of roots and bound variables, then run many times. The
/// compiler fixes a schedule, folds constant subgraphs (when asked), fuses elementwise chains,
/// gives every view a static layout, computes the last use of every buffer, and assigns buffers
/// to arena slots: a slot whose value has died is reused by a later buffer of the same dtype and
/// size, and an elementwise group writes over an input that dies at it. An arena (the slot arrays
/// and the tensors over them) is kept by the plan between runs; concurrent runs rent separate
/// arenas, so no buffer is ever in use by two runs. Outputs are never arena memory: each root
/// that a step writes gets a fresh array per run (or the caller's), and any other root is copied.
/// The compiler itself is Planner.fs, over the numbered graph of PlanGraph.fs.
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
    /// True when `storage` is the array of a constant of the loop's body (a tensor its step
    /// captured), which every later run reads.
    abstract IsConstantStorage: storage: Array -> bool

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
    /// fold(left × right) into its planned buffer, one image at a time (PatchFusion joins a
    /// product and the fold that alone reads it).
    | FoldProduct of left: int * right: int * outputSize: int[] * kernel: int[] * stride: int[] * padding: int[] * dilation: int[] * output: int

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
/// position whose output array it is. A struct: a plan of small tensors has a buffer per step.
[<Struct>]
type internal PlanBuffer =
    { DType: DType
      Numel: int
      mutable Slot: int
      mutable Root: int }

/// The per-run state of a plan: slot arrays and a tensor for each value (slot views prebuilt,
/// shared by the values of one slot and layout). The four tables of kept tensors are made at
/// first use: a plan run once (Eval) over a graph of 10^5 values would otherwise make four large
/// objects it never reads.
[<AllowNullLiteral>]
type internal Arena(slots: Array[], values: Tensor[]) =
    let mutable given: Tensor[] = null
    let mutable givenBefore: Tensor[] = null
    let mutable views: Tensor[] = null
    let mutable viewsBefore: Tensor[] = null
    // The four tables are made at first use: most arenas never see a caller's output or a view.
    let made (table: Tensor[]) = if isNull table then Array.zeroCreate values.Length else table
    member _.Slots = slots
    member _.Values = values
    /// The tensors made over caller-given outputs at the last run, reused while the caller keeps
    /// passing the same arrays (so a loop that writes into its outputs allocates nothing).
    member _.Given =
        given <- made given
        given
    /// The tensors made over caller-given outputs the run before the last (a loop whose two sets
    /// of results take turns as outputs and inputs brings each array every other run).
    member _.GivenBefore =
        givenBefore <- made givenBefore
        givenBefore
    /// The views made at the last run over per-run storage (inputs, kernels' results), reused
    /// while their source brings the same array, so a loop over the same inputs allocates none.
    member _.Views =
        views <- made views
        views
    /// The views made the run before the last, as GivenBefore.
    member _.ViewsBefore =
        viewsBefore <- made viewsBefore
        viewsBefore

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
                   buffers: PlanBuffer[], slotKinds: struct (DType * int)[], rootBuffers: int[], rootBufferValues: int[][]) =
    let pool = Stack<Arena>()
    /// The constants' arrays, which a caller's output must never be (by reference).
    let constantStorage =
        // the framework's reference comparer (compiled ahead of time), not HashIdentity.Reference
        // (FSharp.Core generic code that tiered compilation starts unoptimised)
        let set = HashSet<obj>(ReferenceEqualityComparer.Instance)
        for h in homes do
            match h with
            | Home.Constant t -> set.Add t.Storage |> ignore
            | Home.Input _ | Home.Buffer _ | Home.Computed -> ()
        set
    /// The loops the steps run: their bodies' constants are this plan's too.
    let loops =
        steps |> Array.choose (fun step ->
            match step with
            | Step.Loop(runner, _, _) -> Some runner
            | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
            | Step.Unfold _ | Step.Fold _ | Step.FoldProduct _ -> None)
    /// True for the values that live in an arena slot.
    let inArenaSlot =
        homes |> Array.map (fun h ->
            match h with
            | Home.Buffer(b, _, _, _) -> buffers.[b].Root < 0
            | Home.Input _ | Home.Constant _ | Home.Computed -> false)
    /// The values a run sets and clears: inputs, per-run tensors, and views of outputs.
    let transient =
        let list = List<int>()
        for v in 0 .. homes.Length - 1 do
            match homes.[v] with
            | Home.Input _ | Home.Computed -> list.Add v
            | Home.Buffer(b, _, _, _) when buffers.[b].Root >= 0 -> list.Add v
            | Home.Buffer _ | Home.Constant _ -> ()
        list.ToArray()

    /// True when runs lend their large slots out between runs (see LendsSlots).
    let mutable lends = false
    /// The slots of the large-object heap's size, and the buffer values laid over each: what a lending
    /// plan gives back after a run and takes again before the next.
    let largeSlots =
        [| for s in 0 .. slotKinds.Length - 1 do
             let struct (dtype, numel) = slotKinds.[s]
             if int64 numel * (match dtype with DType.Float64 -> 8L | DType.Float32 -> 4L) >= RecycledArrays.MinimumBytes then yield s |]
    let valuesOverLargeSlot =
        // each slot's index among largeSlots, -1 for a small one
        let indexOfSlot = Array.create slotKinds.Length -1
        for i in 0 .. largeSlots.Length - 1 do indexOfSlot.[largeSlots.[i]] <- i
        let lists = largeSlots |> Array.map (fun _ -> List<int>())
        for v in 0 .. homes.Length - 1 do
            match homes.[v] with
            | Home.Buffer(b, _, _, _) when buffers.[b].Root < 0 && indexOfSlot.[buffers.[b].Slot] >= 0 ->
                lists.[indexOfSlot.[buffers.[b].Slot]].Add v
            | Home.Buffer _ | Home.Input _ | Home.Constant _ | Home.Computed -> ()
        lists |> Array.map (fun l -> l.ToArray())
    let slotArray (dtype: DType) (numel: int) : Array =
        match dtype with
        | DType.Float64 -> (if lends then LentSlots.Take<float> numel else GC.AllocateUninitializedArray<float> numel) :> Array
        | DType.Float32 -> (if lends then LentSlots.Take<float32> numel else GC.AllocateUninitializedArray<float32> numel) :> Array
    /// The tensor of value v over `storage`, its slot's array: the previous value's (`last`) when
    /// they have one layout (tensors are immutable), else a new one.
    let tensorOver (v: int) (storage: Array) (last: Tensor) : Tensor =
        match homes.[v] with
        | Home.Buffer(b, shape, strides, offset) ->
            if not (isNull (box last)) && last.Offset = offset && Ir.sameDims last.Dims shape && Ir.sameDims last.Strides strides then last
            else new Tensor(buffers.[b].DType, shape, strides, offset, storage)
        | Home.Input _ | Home.Constant _ | Home.Computed -> invalidOp "only a buffer lies over a slot"

    let newArena () =
        let slots = slotKinds |> Array.map (fun struct (dtype, numel) -> slotArray dtype numel)
        let values = Array.zeroCreate<Tensor> homes.Length
        // Values in one slot with one layout share a tensor (tensors are immutable): an unrolled
        // loop of small steps has several values per slot, nearly all dense.
        let lastInSlot = Array.zeroCreate<Tensor> slots.Length
        for v in 0 .. homes.Length - 1 do
            match homes.[v] with
            | Home.Constant t -> values.[v] <- t
            | Home.Buffer(b, _, _, _) when buffers.[b].Root < 0 ->
                let slot = buffers.[b].Slot
                let t = tensorOver v slots.[slot] lastInSlot.[slot]
                lastInSlot.[slot] <- t
                values.[v] <- t
            | Home.Buffer _ | Home.Input _ | Home.Computed -> ()
        Arena(slots, values)

    // Monitor rather than `lock`, whose closure would be an allocation on every run.
    let rent () =
        Threading.Monitor.Enter pool
        let arena = try (if pool.Count > 0 then pool.Pop() else null) finally Threading.Monitor.Exit pool
        if isNull arena then newArena ()
        else
            // a lending plan's large slots went back at the end of the last run: new arrays, and the
            // tensors over them again
            if lends then
                for i in 0 .. largeSlots.Length - 1 do
                    let s = largeSlots.[i]
                    if isNull arena.Slots.[s] then
                        let struct (dtype, numel) = slotKinds.[s]
                        let storage = slotArray dtype numel
                        arena.Slots.[s] <- storage
                        let mutable last = Unchecked.defaultof<Tensor>
                        for v in valuesOverLargeSlot.[i] do
                            last <- tensorOver v storage last
                            arena.Values.[v] <- last
            arena
    let giveBack (arena: Arena) =
        if lends then
            for s in largeSlots do
                let storage = arena.Slots.[s]
                if not (isNull storage) then
                    arena.Slots.[s] <- null
                    LentSlots.Return storage
        Threading.Monitor.Enter pool
        try pool.Push arena finally Threading.Monitor.Exit pool

    /// A dense copy of any tensor into `target` (dense, same dtype and element count).
    static let copyInto (source: Tensor) (target: Array) =
        // a dense source is one block copy, with nothing allocated: a loop body copies a root
        // that is not written in place into the caller's buffer at every step. An empty view's
        // offset may lie past its storage's end, so it copies nothing, as Strided.copy does.
        if source.Numel = 0 then ()
        elif source.IsContiguous then Array.Copy(source.Storage, source.Offset, target, 0, source.Numel)
        else
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
        | Op.SoftmaxBackward axis -> Normalise.backwardInto axis values.[args.[0]] values.[args.[1]] target
        | Op.LogSoftmaxBackward axis -> Normalise.logBackwardInto axis values.[args.[0]] values.[args.[1]] target
        | Op.DiagonalMinusRankOne axis ->
            Normalise.diagonalMinusRankOneInto axis values.[args.[0]] values.[args.[1]] values.[args.[2]] values.[args.[3]] target
        | Op.CumSum(axis, reverse) -> RunningSum.into axis reverse values.[args.[0]] target
        | Op.Cholesky -> LinalgTensors.choleskyInto values.[args.[0]] target
        | Op.TriangularSolve(upper, left, unit) -> LinalgTensors.solveTriangularInto upper left unit values.[args.[0]] values.[args.[1]] target
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.MatMul | Op.Permute _ | Op.Reshape _
        | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ | Op.StopGradient | Op.Custom _
        | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ -> invalidOp "no buffer-writing kernel for this op"

    static let freshCopy (t: Tensor) =
        let data = freshArray t.DType t.Numel
        copyInto t data
        (new Tensor(t.DType, Array.copy t.Dims, Shape.contiguousStrides t.Dims, 0, data)).MarkOwner()

    /// A dense copy of t in memory of its own (what a caller may own).
    static member internal FreshCopy(t: Tensor) = freshCopy t
    /// The bound variables, in the order run takes their tensors.
    member _.Inputs = inputs
    /// The roots, in the order run returns their values.
    member _.Roots = roots
    /// The steps, for tests that count them.
    member _.Steps = steps
    /// The number of elements of value v, or -1 for a value made per run (for tests that count
    /// the passes over large values).
    member _.ValueNumel(v: int) =
        match homes.[v] with
        | Home.Buffer(_, shape, _, _) -> Shape.numel shape
        | Home.Input k -> inputs.[k].Numel
        | Home.Constant t -> t.Numel
        | Home.Computed -> -1
    /// True when each run lends this plan's large slots out when it ends, for any plan's next run
    /// (LentSlots), and takes its own from there: set for the plans Eval makes, which die with their
    /// graphs (an uncompiled loop makes one per step), never for compiled functions, whose plans live
    /// on and keep their arenas. Set before the first run.
    member _.LendsSlots
        with get () = lends
        and set (value: bool) = lends <- value

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
            | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> 0)

    /// Runs the plan on checked inputs. With `outputs` null, the roots that a step writes are
    /// fresh tensors, and a root that is an input, a constant or a view of one is that tensor
    /// (what Eval wants; RunFresh copies them); with dense caller tensors of the roots' shapes
    /// and dtypes that share no memory with the inputs, the results are written into them
    /// (RunFreshInto takes outputs that are also inputs).
    member this.Run(given: Tensor[], outputs: Tensor[]) : Tensor[] = this.Run(given, outputs, null)

    /// As Run with null outputs, but every result is memory of its own, shared with no input, no
    /// constant of the plan and no other result: what a caller owns and may write into later
    /// (as an output of InvokeInto) without changing anything else.
    member this.RunFresh(given: Tensor[]) : Tensor[] =
        let results = this.Run(given, null, null)
        for r in 0 .. results.Length - 1 do
            if rootBuffers.[r] < 0 then
                match homes.[rootValues.[r]] with
                | Home.Buffer _ -> ()   // already copied out of its arena slot
                | Home.Input _ | Home.Constant _ | Home.Computed -> results.[r] <- freshCopy results.[r]
        results

    /// As Run with null outputs, but a result in the memory of a constant of the plan is copied:
    /// what Eval returns, a caller may write into (as an output of InvokeInto), and a constant is
    /// shared with other graphs (a scalar constant, one node per value, with every graph in the
    /// process). Results in other memory are returned as Run gives them.
    member this.RunOwned(given: Tensor[]) : Tensor[] =
        let results = this.Run(given, null, null)
        for r in 0 .. results.Length - 1 do
            if constantStorage.Contains results.[r].Storage then results.[r] <- freshCopy results.[r]
        results

    /// As Run into `outputs` where some output is also an input (an in-place update such as
    /// `step.InvokeInto(p, p)`): written in place, it would be overwritten while later steps
    /// still read it, so the results are computed into fresh memory and copied over (which
    /// allocates, but gives the numbers of the inputs as they were).
    member this.RunFreshInto(given: Tensor[], outputs: Tensor[]) =
        let results = this.RunFresh given
        for r in 0 .. outputs.Length - 1 do copyInto results.[r] outputs.[r].Storage

    /// True when `storage` is the array of a constant of the plan or of a loop's body (a captured
    /// tensor or a folded subgraph), which every later run reads.
    member _.IsConstantStorage(storage: Array) =
        // a loop rather than Array.exists, whose closure would be an allocation per output per call
        let mutable found = constantStorage.Contains storage
        for loop in loops do
            if not found && loop.IsConstantStorage storage then found <- true
        found

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
                    for v in rootBufferValues.[r] do
                        match homes.[v] with
                        | Home.Buffer(_, shape, strides, offset) ->
                            let kept = if isNull outputs then Unchecked.defaultof<Tensor> else Arena.Kept(arena.Given, arena.GivenBefore, v, storage)
                            if not (isNull (box kept)) then values.[v] <- kept
                            else
                                let t = new Tensor(info.DType, shape, strides, offset, storage)
                                // the root itself, over a fresh array, is the caller's alone: the other values
                                // over that array are this run's intermediates, cleared when it ends
                                if isNull outputs && v = rootValues.[r] then t.MarkOwner() |> ignore
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
                                let view = new Tensor(t.DType, shape, strides, offset, t.Storage)
                                // the arena keeps this view: t's array must not be handed back by a Dispose
                                t.MarkShared()
                                Arena.Keep(arena.Views, arena.ViewsBefore, output, view)
                                view
                        else Interpret.run node [| t |]
                | Step.Write(node, args, output) -> write node values args values.[output].Storage
                | Step.Unfold(k, s, p, d, input, output) -> Patches.unfoldInto k s p d values.[input] values.[output].Storage
                | Step.Fold(size, k, s, p, d, input, output) -> Patches.foldInto size k s p d values.[input] values.[output].Storage
                | Step.Loop(runner, args, output) -> runner.Run(values, args, values.[output])
                | Step.FoldProduct(left, right, size, k, s, p, d, output) ->
                    PatchProducts.foldProductInto size k s p d values.[left] values.[right] values.[output].Storage
                | Step.Kernel(node, args, output) ->
                    let operands = Array.zeroCreate args.Length
                    for i in 0 .. args.Length - 1 do operands.[i] <- values.[args.[i]]
                    let result = Interpret.run node operands
                    // A kernel may hand back a view of its input; an input in an arena slot will be
                    // overwritten once it dies, so such a result is copied out of the slot. (Only
                    // its operands can be its storage: asking every slot was a pass over all of
                    // them per kernel step, and a long unrolled loop has 10^4 slots.)
                    let mutable inSlot = false
                    for a in args do
                        if inArenaSlot.[a] && obj.ReferenceEquals(values.[a].Storage, result.Storage) then inSlot <- true
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
        new Tensor(e.DType, Array.copy e.Dims, Shape.contiguousStrides e.Dims, 0, storage)
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
        // an empty row (a batch of no examples) copies nothing; its offset may lie past the storage
        if row.Numel = 0 then ()
        elif source.IsContiguous then Array.Copy(source.Storage, offset, row.Storage, 0, row.Numel)
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
        // an empty part (a batch of no examples) places nothing; its offsets may lie past the storage
        if n > 0 then
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

    override _.IsConstantStorage(storage: Array) = plan.IsConstantStorage storage

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
