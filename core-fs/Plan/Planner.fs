/// The plan compiler: from a graph to a Plan (see Plan.fs for what a plan is). Every per-node fact
/// lives in an array indexed by the node's position in the PlanGraph, and every per-buffer fact in
/// an array indexed by the buffer, all from the shared pool; so a compile allocates about what the
/// plan keeps (its steps, values and buffers) and runs in time linear in the graph.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// Compiles plans.
module internal Planner =

    let private emptyStorage (dtype: DType) : Array =
        match dtype with
        | DType.Float64 -> Array.empty<float> :> Array
        | DType.Float32 -> Array.empty<float32> :> Array

    /// True when every input has the node's dtype. A loop, not Array.forall: a compile asks this
    /// for every node, and a closure per call was a tenth of what compiling a graph of small
    /// tensors allocated.
    let private inputsShareDType (node: Expr) =
        let mutable same = true
        for k in 0 .. node.ArgCount - 1 do
            if (node.Arg k).DType <> node.DType then same <- false
        same

    /// True for the ops a fused group can hold.
    let private elementwise (node: Expr) =
        match node.Op with
        | Op.Unary _ | Op.Binary _ | Op.Where -> inputsShareDType node
        | Op.Var _ | Op.Const _ | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
        | Op.Cast _ | Op.StopGradient | Op.Custom _
        | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> false

    /// True for ops whose kernel returns a view of its (one) input.
    let private isView (node: Expr) =
        match node.Op with
        | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ -> true
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
        | Op.Pad _ | Op.Concat _ | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _
        | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> false

    /// True for a Var.
    let private isVar (node: Expr) =
        match node.Op with
        | Op.Var _ -> (Ir.boundValue node).IsNone
        | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
        | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
        | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
        | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
        | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> false

    /// True for a reshape.
    let private isReshape (node: Expr) =
        match node.Op with
        | Op.Reshape _ -> true
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _
        | Op.MatMul | Op.Permute _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
        | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
        | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
        | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> false

    /// Shapes compared by their dimensions.
    let private byDimensions =
        { new IEqualityComparer<int[]> with
            member _.Equals(a, b) = Ir.sameDims a b
            member _.GetHashCode(dims) =
                let mutable h = dims.Length
                for d in dims do h <- h * 31 + d
                h }

    /// The number of values a step reads.
    let private readCount (step: Step) =
        match step with
        | Step.Fused(group, _) -> group.InputValues.Length
        | Step.Reduce _ | Step.Copy _ | Step.View _ | Step.Unfold _ | Step.Fold _ -> 1
        | Step.MatMul(_, _, _, _, _, addend) -> if addend >= 0 then 3 else 2
        | Step.Kernel(_, args, _) | Step.Write(_, args, _) | Step.Loop(_, args, _) -> args.Length
        | Step.FoldProduct _ -> 2

    /// Value i of those a step reads (i below readCount).
    let private readAt (step: Step) (i: int) =
        match step with
        | Step.Fused(group, _) -> group.InputValues.[i]
        | Step.Reduce(_, _, input, _) | Step.Copy(input, _) | Step.View(_, input, _, _, _, _) -> input
        | Step.Unfold(_, _, _, _, input, _) | Step.Fold(_, _, _, _, _, input, _) -> input
        | Step.MatMul(left, right, _, _, _, addend) -> (match i with 0 -> left | 1 -> right | _ -> addend)
        | Step.Kernel(_, args, _) | Step.Write(_, args, _) | Step.Loop(_, args, _) -> args.[i]
        | Step.FoldProduct(left, right, _, _, _, _, _, _) -> if i = 0 then left else right

    /// The value a step writes.
    let private writes (step: Step) =
        match step with
        | Step.Fused(_, output) | Step.Reduce(_, _, _, output) | Step.MatMul(_, _, output, _, _, _) | Step.Copy(_, output) -> output
        | Step.Kernel(_, _, output) | Step.View(_, _, output, _, _, _) | Step.Write(_, _, output) -> output
        | Step.Unfold(_, _, _, _, _, output) | Step.Fold(_, _, _, _, _, _, output) -> output
        | Step.Loop(_, _, output) -> output
        | Step.FoldProduct(_, _, _, _, _, _, _, output) -> output

    /// True for a layout that covers its whole buffer of `numel` elements densely, row-major (the
    /// rule of Tensor.IsContiguous, without making a tensor to ask it: a compile asks it per step).
    let private isDenseLayout (numel: int) (shape: int[]) (strides: int[]) (offset: int) =
        offset = 0 && Shape.numel shape = numel
        && (numel = 0
            || (let mutable expected = 1
                let mutable dense = true
                for i in shape.Length - 1 .. -1 .. 0 do
                    if shape.[i] <> 1 && strides.[i] <> expected then dense <- false
                    expected <- expected * shape.[i]
                dense))

    /// A list of at most `capacity` items in an array from the shared pool: the steps, values and
    /// buffers of a plan are at most one per node, and growing lists of 10^5 of them made several
    /// large-object arrays per compile.
    [<Sealed>]
    type private Collected<'T>(capacity: int) =
        let items = Pool.rent<'T> capacity
        let mutable count = 0
        member _.Count = count
        member _.Add(item: 'T) =
            items.[count] <- item
            count <- count + 1
        member _.Item with get (i: int) = items.[i]
        member _.ToArray() = Array.sub items 0 count
        member _.Release() = Pool.release items count

    /// The steps, values and buffers of a schedule, before slots are assigned.
    type private Schedule =
        { Homes: Home[]
          Steps: Step[]
          Buffers: PlanBuffer[]
          RootValues: int[]
          InputValues: int[] }

    /// Assigns arena slots to the buffers of a schedule and makes the plan. A root's buffer is its
    /// output array; every other buffer takes a slot, in schedule order: a fused step's output
    /// takes over an input that dies at it (a dense input of the output's dtype and size that no
    /// other operand reads through another layout), else a freed slot of its dtype and size, else
    /// a new one.
    let private assignSlots (inputs: Expr[]) (roots: Expr[]) (schedule: Schedule) : Plan =
        let homes, steps, buffers, rootValues = schedule.Homes, schedule.Steps, schedule.Buffers, schedule.RootValues
        // the buffer of each value, or -1: read for every operand of every step below
        let buffersOf = Pool.rent<int> homes.Length
        for v in 0 .. homes.Length - 1 do
            buffersOf.[v] <- match homes.[v] with Home.Buffer(b, _, _, _) -> b | Home.Input _ | Home.Constant _ | Home.Computed -> -1
        let bufferOf (v: int) = buffersOf.[v]

        // Roots own the buffer they are a dense full view of (the first root position does).
        let rootBuffers = Array.create roots.Length -1
        for r in 0 .. roots.Length - 1 do
            match homes.[rootValues.[r]] with
            | Home.Buffer(b, shape, strides, offset) when buffers.[b].Root < 0 && isDenseLayout buffers.[b].Numel shape strides offset ->
                buffers.[b].Root <- r
                rootBuffers.[r] <- b
            | Home.Buffer _ | Home.Input _ | Home.Constant _ | Home.Computed -> ()

        let lastUse = Pool.rent<int> buffers.Length
        let handedOver = Pool.rentCleared<bool> buffers.Length
        let released = Pool.rentCleared<bool> buffers.Length
        try
            // Last use of every buffer: the last step that reads any value over it; roots' never end.
            // a loop, not Array.Fill: its generic code over int starts unoptimised under tiering
            for b in 0 .. buffers.Length - 1 do
                lastUse.[b] <- -1
            for i in 0 .. steps.Length - 1 do
                let step = steps.[i]
                for k in 0 .. readCount step - 1 do
                    let b = bufferOf (readAt step k)
                    if b >= 0 then lastUse.[b] <- max lastUse.[b] i
            for v in rootValues do
                let b = bufferOf v
                if b >= 0 then lastUse.[b] <- Int32.MaxValue

            let slotKinds = List<struct (DType * int)>()
            // free slots by kind: a kind (dtype code, numel) is a row of kindRows, and its row
            // number indexes the free lists
            let kindRows = IntRowSet 2
            let freeSlots = List<IntStack>()
            let kindKey: int[] = Array.zeroCreate 2
            let kindOf (b: int) : int =
                kindKey.[0] <- (match buffers.[b].DType with DType.Float32 -> 0 | DType.Float64 -> 1)
                kindKey.[1] <- buffers.[b].Numel
                let known = kindRows.Find kindKey
                if known >= 0 then known
                else
                    freeSlots.Add(IntStack())
                    kindRows.Add kindKey
            let release (b: int) =
                if buffers.[b].Root < 0 && not handedOver.[b] && not released.[b] then
                    released.[b] <- true
                    freeSlots.[kindOf b].Push buffers.[b].Slot
            let isDenseFull (v: int) (b: int) =
                match homes.[v] with
                | Home.Buffer(_, shape, strides, offset) -> isDenseLayout buffers.[b].Numel shape strides offset
                | Home.Input _ | Home.Constant _ | Home.Computed -> false
            // The input of fused step i whose buffer its output can take over, or -1.
            let takeOver (i: int) (group: FusedGroup) (target: PlanBuffer) =
                let read = group.InputValues
                let mutable found = -1
                let mutable k = 0
                while found < 0 && k < read.Length do
                    let b = bufferOf read.[k]
                    if b >= 0 && buffers.[b].Root < 0 && lastUse.[b] = i && not handedOver.[b]
                       && buffers.[b].DType = target.DType && buffers.[b].Numel = target.Numel then
                        let mutable onlyDense = true
                        for u in read do
                            if onlyDense && bufferOf u = b && not (isDenseFull u b) then onlyDense <- false
                        if onlyDense then found <- read.[k]
                    k <- k + 1
                found
            let freshSlot (output: int) =
                let free = freeSlots.[kindOf output]
                if free.Count > 0 then buffers.[output].Slot <- free.Pop()
                else
                    buffers.[output].Slot <- slotKinds.Count
                    slotKinds.Add(struct (buffers.[output].DType, buffers.[output].Numel))
            for i in 0 .. steps.Length - 1 do
                let step = steps.[i]
                let output = bufferOf (writes step)
                if output >= 0 && buffers.[output].Root < 0 then
                    let target = buffers.[output]
                    let taken =
                        match step with
                        // a reduced group writes rows of its output while later rows still read their inputs
                        | Step.Fused(group, _) when group.Reduction.IsNone -> takeOver i group target
                        | Step.Fused _
                        | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.Kernel _ | Step.View _ | Step.Write _
                        | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> -1
                    if taken >= 0 then
                        let b = bufferOf taken
                        buffers.[output].Slot <- buffers.[b].Slot
                        handedOver.[b] <- true
                    else freshSlot output
                // a group's stored outputs never take over an input: the group reads its inputs
                // after writing them (only its last instruction writes a block after every read)
                let stored =
                    match step with
                    | Step.Fused(group, _) -> group.StoredValues
                    | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.Kernel _ | Step.View _ | Step.Write _
                    | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> Array.Empty<int>()
                for v in stored do
                    let b = bufferOf v
                    if buffers.[b].Root < 0 then freshSlot b
                for k in 0 .. readCount step - 1 do
                    let b = bufferOf (readAt step k)
                    if b >= 0 && lastUse.[b] = i then release b
                if output >= 0 && lastUse.[output] < 0 then release output
                for v in stored do
                    let b = bufferOf v
                    if lastUse.[b] < 0 then release b

            // The values over each root's buffer, which a run lays over that root's output array.
            let rootBufferValues =
                let lists = Array.init roots.Length (fun _ -> List<int>())
                for v in 0 .. homes.Length - 1 do
                    let b = bufferOf v
                    if b >= 0 && buffers.[b].Root >= 0 then lists.[buffers.[b].Root].Add v
                lists |> Array.map (fun l -> l.ToArray())
            Plan(Array.copy inputs, schedule.InputValues, Array.copy roots, rootValues, homes, steps, buffers, slotKinds.ToArray(),
                 rootBuffers, rootBufferValues)
        finally
            Pool.giveBack buffersOf
            Pool.giveBack lastUse
            Pool.giveBack handedOver
            Pool.giveBack released

    /// A plan for `roots` with the Vars `inputs` bound per run. With `fold`, subgraphs without a
    /// Var are evaluated now and become constants of the plan (for plans run many times). The
    /// inputs from `firstInvariant` on keep their values over the runs of a loop (a Scan body's
    /// captured values): the products by them (and by views of them) keep B's packed panels in
    /// the loop's PackCache.
    let rec compileWith (inputs: Expr[]) (roots: Expr[]) (fold: bool) (firstInvariant: int) : Plan =
        // marked: the elementwise nodes, which fused groups are made of
        let slopes = ref false
        let mark (node: Expr) =
            if SharedSlopes.isCandidate node then slopes.Value <- true
            elementwise node
        let graph =
            let first = PlanGraph.Build(roots, inputs, mark)
            match if slopes.Value then SharedSlopes.rewrite first else null with
            | null -> first
            | planned ->
                // the plan keeps the caller's roots (Eval finds its cached plans by them)
                first.Release()
                PlanGraph.Build(planned, inputs, elementwise)
        // per node, by position
        let isRoot = graph.Table<bool>()
        let inputIndex = graph.Table<int>() // k + 1 for the Var bound to input k
        let constant = graph.Table<bool>()
        let folded = graph.Table<Tensor>()
        let uses = graph.Table<int>()
        let consumer = graph.Table<int>()
        let joined = graph.Table<bool>()
        // per node: the position of its group's head (its own when it heads one or is not fused),
        // and whether it is a stored member of that group
        let groupHead = graph.Table<int>()
        let stored = graph.Table<bool>()
        let valueOf = graph.Table<int>() // v + 1 for the node's value v
        let registerOf = graph.Table<int>()
        // per member of the group being built: the group it was built in (head + 1), and the
        // reads of its register still to come
        let emittedIn = graph.Table<int>()
        let readsLeft = graph.Table<int>()
        // per fused node: the registers its group needs to compute it (see the walk in buildGroup)
        let need = graph.Table<int>()
        // per value (a node has at most one value of its own)
        let invariant = graph.Table<bool>()
        try
            let n = graph.Count
            let rootPositions = graph.RootPositions
            for p in rootPositions do isRoot.[p] <- true
            for k in 0 .. inputs.Length - 1 do
                let p = graph.VarPositions.[k]
                if p >= 0 then inputIndex.[p] <- k + 1

            // Constant subgraphs: nodes with no Var below. Those a non-constant node (or a root)
            // reads are evaluated now, together, node by node.
            if fold then
                for p in 0 .. n - 1 do
                    if not (isVar (graph.Node p)) then
                        let mutable all = true
                        for k in 0 .. graph.InputCount p - 1 do
                            if not constant.[graph.Input(p, k)] then all <- false
                        constant.[p] <- all
                let wanted = List<int>()
                let marked = graph.Table<bool>()
                let mark (a: int) =
                    if constant.[a] && not marked.[a] && (Ir.leafValue (graph.Node a)).IsNone then
                        marked.[a] <- true
                        wanted.Add a
                for p in 0 .. n - 1 do
                    if not constant.[p] then
                        for k in 0 .. graph.InputCount p - 1 do mark (graph.Input(p, k))
                for p in rootPositions do mark p
                graph.GiveBack marked
                if wanted.Count > 0 then
                    let values = Interpret.evalMany (Dictionary()) (wanted |> Seq.map graph.Node |> Array.ofSeq)
                    for i in 0 .. wanted.Count - 1 do folded.[wanted.[i]] <- values.[i]

            // Uses of each node (an edge per input slot, one per root position), and its consumer
            // (the one that matters is a node's only one).
            for p in 0 .. n - 1 do
                if not constant.[p] then
                    for k in 0 .. graph.InputCount p - 1 do
                        let a = graph.Input(p, k)
                        uses.[a] <- uses.[a] + 1
                        consumer.[a] <- p
            for p in rootPositions do uses.[p] <- uses.[p] + 1
            let fusable (p: int) = not constant.[p] && graph.Marked p
            // A node joins its consumer's group when it is that consumer's private input of the
            // same shape. A node with several uses joins the group of its consumers that comes
            // first: as a register member when every use is in that group, as a stored member (see
            // FusedGroup) when later steps read it too. Decided once per node here, consumers
            // first (their groups are known), as a group's walk asks it twice per edge.
            let consumers = Consumers.Build(graph, constant)
            for p in n - 1 .. -1 .. 0 do
                if not isRoot.[p] && fusable p then
                    if uses.[p] = 1 then
                        let c = consumer.[p]
                        if fusable c && Ir.sameDims (graph.Node c).Dims (graph.Node p).Dims then joined.[p] <- true
                    elif uses.[p] > 1 then
                        let struct (c, edges) = consumers.Joinable(p, groupHead)
                        // Several reads inside one group only for a block of values or more: below
                        // that a pass costs its call, not its memory traffic, and the groups that
                        // split at shared values repeat a few programs over an unrolled loop (one
                        // group for a whole loop of 8-element steps compiled five times slower).
                        let wide = (graph.Node p).Numel >= FusedKernel.blockSize
                        if c >= 0 && (edges = 1 || wide) && fusable c && Ir.sameDims (graph.Node c).Dims (graph.Node p).Dims then
                            joined.[p] <- true
                            // Read by later steps too: written out as a stored member. Read only
                            // inside the group (x·x, or several members, as a derivative reads the
                            // forward's values): a register member kept until its last read, so
                            // a derivative's shared values cost no pass of their own.
                            stored.[p] <- edges < uses.[p]
                            consumer.[p] <- c
                groupHead.[p] <- if joined.[p] then groupHead.[consumer.[p]] else p
            consumers.Release()
            // The registers each fused node needs, counted as Sethi and Ullman count them: inputs
            // from outside its group need none; with its member inputs' needs sorted n1 >= n2 >= n3,
            // computing the largest first and keeping each result while the next is computed needs
            // max(n1, n2 + 1, n3 + 2), and at least the one it writes. A group's walk visits the
            // inputs in that order. In the order of the inputs, the walk of a group that runs
            // through a whole unrolled loop (a gradient's accumulation, one member per step) held
            // a register for each step still pending below it: past maxRegisters each member was
            // written out as a stored member, one more buffer and slot each, so a 10,000-step loop
            // had twice the slots per step of a 1,000-step one.
            for p in 0 .. n - 1 do
                if fusable p then
                    let mutable n1 = 0
                    let mutable n2 = 0
                    let mutable n3 = 0
                    for k in 0 .. graph.InputCount p - 1 do
                        let a = graph.Input(p, k)
                        let na = if joined.[a] && groupHead.[a] = groupHead.[p] then need.[a] else 0
                        if na > n1 then
                            n3 <- n2
                            n2 <- n1
                            n1 <- na
                        elif na > n2 then
                            n3 <- n2
                            n2 <- na
                        elif na > n3 then n3 <- na
                    need.[p] <- max (max 1 n1) (max (if n2 > 0 then n2 + 1 else 0) (if n3 > 0 then n3 + 2 else 0))

            let homes = Collected<Home>(n)
            let mutable packedOperands = 0
            let steps = Collected<Step>(n)
            let buffers = Collected<PlanBuffer>(n)
            let valueAt (p: int) = valueOf.[p] - 1
            let addValue (p: int) (home: Home) =
                let v = homes.Count
                homes.Add home
                valueOf.[p] <- v + 1
                // Values that keep their value over the runs of a loop: invariant inputs,
                // constants, and views of these (a weight's transpose).
                match home with
                | Home.Constant _ -> invariant.[v] <- true
                | Home.Input k when k >= firstInvariant -> invariant.[v] <- true
                | Home.Input _ | Home.Buffer _ | Home.Computed -> ()
                v
            // Dense strides by shape, shared by the buffers of this plan (a graph of small tensors
            // has a handful of shapes and 10^5 buffers). Layout arrays are never written.
            let denseStrides = Dictionary<int[], int[]>(byDimensions)
            // the last shape asked about and its strides: consecutive nodes often share one array
            let mutable lastDims, lastStrides = null, null
            let newBuffer (p: int) =
                let node = graph.Node p
                let b = buffers.Count
                buffers.Add { DType = node.DType; Numel = node.Numel; Slot = -1; Root = -1 }
                let strides =
                    if obj.ReferenceEquals(node.Dims, lastDims) then lastStrides
                    else
                        let s =
                            match denseStrides.TryGetValue node.Dims with
                            | true, s -> s
                            | _ ->
                                let s = Shape.contiguousStrides node.Dims
                                denseStrides.[node.Dims] <- s
                                s
                        lastDims <- node.Dims
                        lastStrides <- s
                        s
                addValue p (Home.Buffer(b, node.Dims, strides, 0))

            // The group of `head`: its members in dependency order (iterative post-order),
            // registers allocated from a free list as operands die. The working tables are shared
            // by all the groups of a compile (a graph of small tensors has one group every few
            // nodes); registerOf is read only for members of the group being built, which it
            // wrote first, so it is never cleared. Instructions and programs are made once per
            // distinct value: an unrolled loop repeats a few programs 10^4 times, and a program
            // that is already known costs no allocation at all.
            let externals = List<int>()
            let externalIndex = IntMap()
            let free = IntStack()
            let storedValues = List<int>()
            // the head of the group being built; a stored node is a member of its own group only
            // (other groups read it as an external input)
            let mutable building = -1
            let isMember (a: int) = joined.[a] && groupHead.[a] = building
            let instructions = List<FusedInstruction>()
            // the walk's pending nodes and, beside each, the next of its inputs to visit
            let stack, nextInput = IntStack(), IntStack()
            // an instruction's key (kind, op's tag, three operand codes, target) is a row of
            // instructionKeys, and its row number its index in knownInstructions
            let instructionKeys = IntRowSet 6
            let instructionKey: int[] = Array.zeroCreate 6
            let knownInstructions = List<FusedInstruction>()
            // unary and binary op kinds as small ints for the key: each kind is one object (Ir
            // makes its Op cases once per kind), and a compile meets a handful of kinds
            let opKinds = List<obj>()
            let opKindOf (kind: obj) =
                let mutable k = -1
                for i in 0 .. opKinds.Count - 1 do
                    if k < 0 && obj.ReferenceEquals(opKinds.[i], kind) then k <- i
                if k >= 0 then k
                else
                    opKinds.Add kind
                    opKinds.Count - 1
            // programs by hash: the hash's entry in programsByHash indexes knownPrograms
            let programsByHash = IntMap()
            let knownPrograms = List<List<FusedProgram>>()
            let mutable registers = 0
            // the registers a group may have; further members are stored (a register is a block,
            // 16-64 KB at the block size)
            let maxRegisters = 24
            // A group's inputs are found by a scan while they are few (most groups have two or
            // three), and by externalIndex once there are more.
            let scanned = 16
            let operand (a: int) =
                if isMember a then
                    if stored.[a] then FusedOperand.Stored registerOf.[a] else FusedOperand.Register registerOf.[a]
                else
                    let v = valueAt a
                    let mutable k = -1
                    if externals.Count <= scanned then
                        for i in 0 .. externals.Count - 1 do
                            if k < 0 && externals.[i] = v then k <- i
                    else k <- externalIndex.Find v
                    if k < 0 then
                        k <- externals.Count
                        externals.Add v
                        if externals.Count = scanned + 1 then
                            for i in 0 .. externals.Count - 1 do externalIndex.Set(externals.[i], i)
                        elif externals.Count > scanned then externalIndex.Set(v, k)
                    FusedOperand.External k
            let code (o: FusedOperand) =
                match o with
                | FusedOperand.Register r -> 3 * r
                | FusedOperand.External k -> 3 * k + 1
                | FusedOperand.Stored k -> 3 * k + 2
            let instructionOf (p: int) (first: FusedOperand) (second: FusedOperand) (third: FusedOperand) (target: int) =
                let op = graph.Node(p).Op
                let kind, tag, operands =
                    match op with
                    | Op.Unary u -> 0, opKindOf (box u), 1
                    | Op.Binary b -> 1, opKindOf (box b), 2
                    | Op.Where -> 2, 0, 3
                    | Op.Var _ | Op.Const _ | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
                    | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                    | Op.Cast _ | Op.StopGradient | Op.Custom _
                    | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd
                    | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
                        invalidOp "only elementwise nodes are fused"
                instructionKey.[0] <- kind
                instructionKey.[1] <- tag
                instructionKey.[2] <- code first
                instructionKey.[3] <- if operands > 1 then code second else 0
                instructionKey.[4] <- if operands > 2 then code third else 0
                instructionKey.[5] <- target
                let known = instructionKeys.Find instructionKey
                if known >= 0 then knownInstructions.[known]
                else
                    let made =
                        match op with
                        | Op.Unary u -> FusedInstruction.Unary(u, first, target)
                        | Op.Binary b -> FusedInstruction.Binary(b, first, second, target)
                        | Op.Where | Op.Var _ | Op.Const _ | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _ | Op.Reshape _
                        | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                        | Op.Cast _ | Op.StopGradient | Op.Custom _
                        | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd
                        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
                            FusedInstruction.Where(first, second, third, target)
                    instructionKeys.Add instructionKey |> ignore
                    knownInstructions.Add made
                    made
            // The program of the instructions just built, found by the identity of its (interned)
            // instructions, or made.
            let programOf (head: Expr) =
                let mutable hash = byDimensions.GetHashCode head.Dims * 31 + registers
                for instruction in instructions do
                    hash <- hash * 31 + Runtime.CompilerServices.RuntimeHelpers.GetHashCode instruction
                let candidates =
                    let known = programsByHash.Find hash
                    if known >= 0 then knownPrograms.[known]
                    else
                        let list = List<FusedProgram>(1)
                        programsByHash.Set(hash, knownPrograms.Count)
                        knownPrograms.Add list
                        list
                let mutable found = Unchecked.defaultof<FusedProgram>
                for c in candidates do
                    if isNull (box found) && c.DType = head.DType && c.Registers = registers && Ir.sameDims c.Shape head.Dims
                       && c.Instructions.Length = instructions.Count then
                        let mutable same = true
                        for i in 0 .. instructions.Count - 1 do
                            if not (obj.ReferenceEquals(c.Instructions.[i], instructions.[i])) then same <- false
                        if same then found <- c
                if not (isNull (box found)) then found
                else
                    let made =
                        { Shape = head.Dims; Numel = head.Numel; DType = head.DType
                          Instructions = instructions.ToArray(); Registers = registers }
                    candidates.Add made
                    made
            // The need of input k of p within the group being built (0 for a non-member).
            let needOfInput (p: int) (k: int) =
                let a = graph.Input(p, k)
                if isMember a then need.[a] else 0
            // Which input of p (arity 1 to 3) the walk visits next-th.
            let visitOrder (p: int) (arity: int) (next: int) =
                if arity = 2 then
                    if needOfInput p 1 > needOfInput p 0 then 1 - next else next
                elif arity = 3 then
                    let n0, n1, n2 = needOfInput p 0, needOfInput p 1, needOfInput p 2
                    // the rank of input k: the inputs before it in the order (larger need, or equal
                    // and earlier); the next-th input is the one of rank next
                    let rank (k: int) (nk: int) =
                        (if k <> 0 && (n0 > nk || (n0 = nk && 0 < k)) then 1 else 0)
                        + (if k <> 1 && (n1 > nk || (n1 = nk && 1 < k)) then 1 else 0)
                        + (if k <> 2 && (n2 > nk || (n2 = nk && 2 < k)) then 1 else 0)
                    if rank 0 n0 = next then 0 elif rank 1 n1 = next then 1 else 2
                else next
            let buildGroup (head: int) (reduction: ReduceOp voption) : FusedGroup =
                externals.Clear()
                externalIndex.Clear()
                free.Clear()
                storedValues.Clear()
                instructions.Clear()
                building <- head
                registers <- 0
                stack.Push head
                nextInput.Push 0
                while stack.Count > 0 do
                    let p, next = stack.Pop(), nextInput.Pop()
                    let arity = graph.InputCount p
                    if next < arity then
                        stack.Push p
                        nextInput.Push(next + 1)
                        // the next input in the order of their needs, largest first (ties in
                        // input order): the visit order only, each instruction still names its
                        // operands by position, so the values and bits are the same
                        let a = graph.Input(p, visitOrder p arity next)
                        // a member read through several edges is built at the first one
                        if isMember a && emittedIn.[a] <> building + 1 then
                            emittedIn.[a] <- building + 1
                            stack.Push a
                            nextInput.Push 0
                    else
                        let first = operand (graph.Input(p, 0))
                        let second = if arity > 1 then operand (graph.Input(p, 1)) else first
                        let third = if arity > 2 then operand (graph.Input(p, 2)) else first
                        for k in 0 .. arity - 1 do
                            let a = graph.Input(p, k)
                            if isMember a && not stored.[a] then
                                // its register is free after its last read (every use of a
                                // register member is an edge inside this group)
                                readsLeft.[a] <- readsLeft.[a] - 1
                                if readsLeft.[a] = 0 then free.Push registerOf.[a]
                        // A member read several times holds its register until its last read, and
                        // the walk holds one member per pending input, so a derivative's group (which
                        // reads forward values late) could hold many at once; past maxRegisters a
                        // member is written out as a stored member instead, which bounds the
                        // per-thread scratch of a group over large tensors.
                        if p <> head && not stored.[p] && free.Count = 0 && registers >= maxRegisters then
                            stored.[p] <- true
                        let target =
                            if p = head then -1
                            elif stored.[p] then
                                // its value for the steps after this one, and its block for this group
                                storedValues.Add(newBuffer p)
                                registerOf.[p] <- storedValues.Count - 1
                                -1 - storedValues.Count
                            elif free.Count > 0 then free.Pop()
                            else
                                registers <- registers + 1
                                registers - 1
                        if target >= 0 then
                            registerOf.[p] <- target
                            readsLeft.[p] <- uses.[p]
                        instructions.Add(instructionOf p first second third target)
                FusedGroup(programOf (graph.Node head), externals.ToArray(), storedValues.ToArray(), reduction)

            // Products whose only use is a sum with a value of their shape (acc + g·h, a loop's
            // gradient accumulator): the sum's position to the product's and its operands' values.
            // (the sum's entry in `deferred` is where its four ints start in deferredValues)
            let deferred = IntMap()
            let deferredValues = List<int>()
            let addendOf (product: int) (direct: bool) : int voption =
                if not direct || isRoot.[product] || uses.[product] <> 1 then ValueNone
                else
                    let sum = consumer.[product]
                    let sumNode, productNode = graph.Node sum, graph.Node product
                    match sumNode.Op with
                    | Op.Binary BinaryOp.Add when fusable sum && not joined.[sum] && sumNode.DType = productNode.DType
                                                  && Ir.sameDims sumNode.Dims productNode.Dims ->
                        let other = if graph.Input(sum, 0) = product then graph.Input(sum, 1) else graph.Input(sum, 0)
                        let otherNode = graph.Node other
                        // the addend must be a value of its own, of the sum's shape (not broadcast)
                        // (a view, a broadcast bias say, would be copied dense on every run)
                        if other = product || joined.[other] || isView otherNode
                           || otherNode.DType <> sumNode.DType || not (Ir.sameDims otherNode.Dims sumNode.Dims) then ValueNone
                        else ValueSome sum
                    | Op.Binary _ | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul | Op.Permute _
                    | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                    | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp
                    | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> ValueNone

            // The reduction that alone reads elementwise head p, with its op, when it reduces p's trailing axes (a sum
            // or mean of a chain, a norm's statistics): p's group then reduces its rows as it computes them (see
            // FusedGroup), and p's output, written whole and read back once by a Reduce step, is never made.
            let reducerOf (p: int) : struct (int * ReduceOp) voption =
                if isRoot.[p] || uses.[p] <> 1 || (graph.Node p).Numel = 0 then ValueNone
                else
                    let r = consumer.[p]
                    let node = graph.Node r
                    match node.Op with
                    | Op.Reduce(op, axes, _) when not constant.[r] && axes.Length > 0 && node.Numel > 0
                                                  && axes.[axes.Length - 1] = (graph.Node p).Rank - 1
                                                  && axes.[axes.Length - 1] - axes.[0] = axes.Length - 1 -> ValueSome(struct (r, op))
                    | Op.Reduce _ | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.ArgMax _ | Op.MatMul | Op.Permute _
                    | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
                    | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp
                    | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _
                    | Op.CumSum _ -> ValueNone

            let inputValuesOf (p: int) =
                let values: int[] = Array.zeroCreate (graph.InputCount p)
                for k in 0 .. values.Length - 1 do
                    values.[k] <- valueAt (graph.Input(p, k))
                values
            let kernel (p: int) =
                let args = inputValuesOf p
                let v = addValue p Home.Computed
                steps.Add(Step.Kernel(graph.Node p, args, v))

            // A Scan as one step: its body compiled into a plan of its own, run once per step.
            let planScan (p: int) =
                let node = graph.Node p
                match node.Op with
                | Op.Scan(body, length, reverse, _) ->
                    let body = ScanNode.bodyOf body
                    let bodyPlan = compileWith body.Vars body.Outputs fold (body.CarryVars.Length + body.XVars.Length)
                    let runner = ScanRunner(body, bodyPlan, length, reverse)
                    let args = inputValuesOf p
                    let v = newBuffer p
                    steps.Add(Step.Loop(runner, args, v))
                | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
                | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
                | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
                | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
                | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> invalidOp "planScan: not a Scan node"
            // The saving Scans in the graph (bodies that extend another body), for forward sharing.
            let savingScans = List<int>()
            for p in 0 .. n - 1 do
                match graph.Node(p).Op with
                | Op.Scan(body, _, _, _) -> if not (isNull (ScanNode.bodyOf body).Extends) && not constant.[p] then savingScans.Add p
                | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
                | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ | Op.Pad _ | Op.Concat _
                | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
                | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
                | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> ()
            let savingScanOf (node: Expr) (body: ScanBody) (length: int) (reverse: bool) =
                let matches (s: Expr) =
                    match s.Op with
                    | Op.Scan(sBody, sLength, sReverse, _) ->
                        obj.ReferenceEquals((ScanNode.bodyOf sBody).Extends, body) && sLength = length && sReverse = reverse
                        && s.DType = node.DType && Ir.sameArgs s node
                    | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
                    | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
                    | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
                    | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
                    | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> false
                let mutable found = -1
                for s in savingScans do
                    if found < 0 && matches (graph.Node s) then found <- s
                found

            for p in 0 .. n - 1 do
                let node = graph.Node p
                if not (isNull (box folded.[p])) then addValue p (Home.Constant folded.[p]) |> ignore
                elif constant.[p] then
                    // other constants are only read by constants, which were folded
                    match Ir.leafValue node with
                    | ValueSome t -> addValue p (Home.Constant t) |> ignore
                    | ValueNone -> ()
                elif joined.[p] then ()
                else
                    match node.Op with
                    | Op.Var(name, _) ->
                        if inputIndex.[p] > 0 then addValue p (Home.Input(inputIndex.[p] - 1)) |> ignore
                        else
                            match Ir.boundValue node with
                            | ValueNone -> invalidOp (sprintf "Eval: variable %s %O%s is not bound" name node.DType (Shape.format node.Dims))
                            | ValueSome t -> addValue p (Home.Constant t) |> ignore
                    // a Const is an input where Eval plans a graph for every graph of its structure (see GraphKey)
                    | Op.Const t ->
                        addValue p (if inputIndex.[p] > 0 then Home.Input(inputIndex.[p] - 1) else Home.Constant t) |> ignore
                    | Op.Binary _ when deferred.Contains p ->
                        // the sum of a product and an addend: the product's step writes it
                        let at = deferred.Find p
                        let product, left, right, packed = deferredValues.[at], deferredValues.[at + 1], deferredValues.[at + 2], deferredValues.[at + 3]
                        let other = if graph.Input(p, 0) = product then graph.Input(p, 1) else graph.Input(p, 0)
                        let v = newBuffer p
                        steps.Add(Step.MatMul(left, right, v, true, packed, valueAt other))
                    | Op.Unary _ | Op.Binary _ | Op.Where ->
                        if fusable p then
                            match reducerOf p with
                            | ValueSome(struct (reducer, op)) ->
                                // the reduction's value is this group's output; its own node is then passed over
                                let group = buildGroup p (ValueSome op)
                                let v = newBuffer reducer
                                steps.Add(Step.Fused(group, v))
                            | ValueNone ->
                                let group = buildGroup p ValueNone
                                let v = newBuffer p
                                steps.Add(Step.Fused(group, v))
                        else kernel p
                    | Op.Reduce _ when valueOf.[p] > 0 -> () // computed by the group of its input, above
                    // max and min over an empty axis raise in the kernel, at run time as without a plan
                    | Op.Reduce(op, axes, _) when axes.Length > 0
                                                  && not ((op = ReduceOp.Max || op = ReduceOp.Min)
                                                          && axes |> Array.exists (fun a -> node.First.Dims.[a] = 0)) ->
                        let input = valueAt (graph.Input(p, 0))
                        let v = newBuffer p
                        steps.Add(Step.Reduce(op, axes, input, v))
                    | Op.MatMul ->
                        let a, b = node.First, node.Second
                        let direct = a.DType = b.DType && a.Rank <= 2 && b.Rank <= 2
                        let left, right = valueAt (graph.Input(p, 0)), valueAt (graph.Input(p, 1))
                        let packed =
                            if direct && invariant.[right] then
                                packedOperands <- packedOperands + 1
                                packedOperands - 1
                            else -1
                        match addendOf p direct with
                        // (of a sum of two products, the first is deferred and the second is its addend)
                        | ValueSome sum when not (deferred.Contains sum) ->
                            deferred.Set(sum, deferredValues.Count)
                            deferredValues.Add p
                            deferredValues.Add left
                            deferredValues.Add right
                            deferredValues.Add packed
                        | ValueSome _ | ValueNone ->
                            let v = newBuffer p
                            steps.Add(Step.MatMul(left, right, v, direct, packed, -1))
                    | Op.StopGradient -> valueOf.[p] <- valueOf.[graph.Input(p, 0)]
                    | Op.Custom _ -> valueOf.[p] <- valueOf.[graph.Input(p, 1)]
                    | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ ->
                        let input = node.First
                        let source = valueAt (graph.Input(p, 0))
                        match homes.[source] with
                        | Home.Constant t -> addValue p (Home.Constant(Interpret.run node [| t |])) |> ignore
                        | Home.Buffer(b, shape, strides, offset) ->
                            let template = new Tensor(input.DType, shape, strides, offset, emptyStorage input.DType)
                            if isReshape node && not template.IsContiguous then
                                let v = newBuffer p
                                steps.Add(Step.Copy(source, v))
                            else
                                let view = Interpret.run node [| template |]
                                addValue p (Home.Buffer(b, view.Dims, view.Strides, view.Offset)) |> ignore
                        | Home.Input _ | Home.Computed ->
                            let template = new Tensor(input.DType, input.Dims, Shape.contiguousStrides input.Dims, 0, emptyStorage input.DType)
                            let view = Interpret.run node [| template |]
                            let v = addValue p Home.Computed
                            if invariant.[source] then invariant.[v] <- true
                            steps.Add(Step.View(node, source, v, view.Dims, view.Strides, view.Offset))
                    | Op.Cast _ when node.DType = node.First.DType ->
                        let source = valueAt (graph.Input(p, 0))
                        let v = newBuffer p
                        steps.Add(Step.Copy(source, v))
                    // parts of another dtype are converted by the node-by-node kernel
                    | Op.Concat _ when node |> Ir.existsArg (fun a -> a.DType <> node.DType) -> kernel p
                    | Op.ArgMax _ | Op.Pad _ | Op.Concat _ | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ ->
                        let args = inputValuesOf p
                        let v = newBuffer p
                        steps.Add(Step.Write(node, args, v))
                    | Op.Reduce _ -> kernel p
                    | Op.Unfold(k, s, pad, d) ->
                        let input = valueAt (graph.Input(p, 0))
                        let v = newBuffer p
                        steps.Add(Step.Unfold(k, s, pad, d, input, v))
                    | Op.Fold(size, k, s, pad, d) ->
                        let input = valueAt (graph.Input(p, 0))
                        let v = newBuffer p
                        steps.Add(Step.Fold(size, k, s, pad, d, input, v))
                    // the factor and the solve into the plan's reused buffers: at n = 256 a fresh
                    // result per run is a large-object array
                    | Op.Cholesky | Op.TriangularSolve _ ->
                        let args = inputValuesOf p
                        let v = newBuffer p
                        steps.Add(Step.Write(node, args, v))
                    | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd -> kernel p
                    | Op.Polygamma _ | Op.ArgSort _ -> kernel p
                    | Op.Scan _ when valueOf.[p] > 0 -> () // a saving Scan planned early, below
                    | Op.Scan(body, length, reverse, _) ->
                        // Forward sharing: a gradient's saving Scan runs this node's loop and more,
                        // and its packed output starts with this node's; this node is then a view of it.
                        let saving = savingScanOf node (ScanNode.bodyOf body) length reverse
                        if saving >= 0 then
                            if valueOf.[saving] = 0 then planScan saving
                            match homes.[valueAt saving] with
                            | Home.Buffer(b, _, _, _) -> addValue p (Home.Buffer(b, node.Dims, [| 1 |], 0)) |> ignore
                            | Home.Input _ | Home.Constant _ | Home.Computed -> planScan p
                        else planScan p

            let inputValues = graph.VarPositions |> Array.map (fun p -> if p >= 0 then valueAt p else -1)
            let finalHomes, finalBuffers, rootValues = homes.ToArray(), buffers.ToArray(), rootPositions |> Array.map valueAt
            let schedule =
                { Homes = finalHomes
                  Steps = PatchFusion.fuse finalHomes finalBuffers rootValues (steps.ToArray())
                  Buffers = finalBuffers
                  RootValues = rootValues
                  InputValues = inputValues }
            homes.Release()
            steps.Release()
            buffers.Release()
            assignSlots inputs roots schedule
        finally
            graph.GiveBack isRoot
            graph.GiveBack inputIndex
            graph.GiveBack constant
            graph.GiveBack folded
            graph.GiveBack uses
            graph.GiveBack consumer
            graph.GiveBack joined
            graph.GiveBack groupHead
            graph.GiveBack stored
            graph.GiveBack valueOf
            graph.GiveBack registerOf
            graph.GiveBack emittedIn
            graph.GiveBack readsLeft
            graph.GiveBack need
            graph.GiveBack invariant
            graph.Release()

    /// A plan for `roots` with the Vars `inputs` bound per run (see compileWith); none of the
    /// inputs is a loop's invariant.
    let compile (inputs: Expr[]) (roots: Expr[]) (fold: bool) : Plan = compileWith inputs roots fold inputs.Length
