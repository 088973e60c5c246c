/// Fused elementwise groups: a tree of unary, binary and where nodes of one shape and dtype runs
/// as one pass over the output in blocks small enough for the intermediates to stay in cache,
/// instead of one full pass (and one full-size intermediate) per node. Each block calls the same
/// span kernels as the node-by-node path, so the results are the same bits.
#nowarn "9" // the stack-allocated odometer of gather

namespace FunctionalDiff.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open Microsoft.FSharp.NativeInterop

/// Where a fused instruction reads an operand.
[<RequireQualifiedAccess; Struct>]
type internal FusedOperand =
    /// The block an earlier instruction of the group wrote.
    | Register of register: int
    /// External input k of the group. How it is read is decided per call from its layout: in place
    /// when dense with the group's shape, as a repeated element when it has one, otherwise
    /// gathered block by block into its own load register.
    | External of input: int
    /// The block an earlier instruction wrote into the group's stored output k (see FusedGroup),
    /// read back while it is still in cache.
    | Stored of stored: int

/// One node of a fused group. `target` is a register (0 and up), -1 for the group's output, or
/// -2 - k for its stored output k.
[<RequireQualifiedAccess>]
type internal FusedInstruction =
    | Unary of UnaryOp * FusedOperand * target: int
    | Binary of BinaryOp * FusedOperand * FusedOperand * target: int
    | Where of FusedOperand * FusedOperand * FusedOperand * target: int

/// How a group walks its output for one set of input layouts (see FusedKernel.rowsPlan): by rows
/// (with this plan) or by blocks (ValueNone).
[<AllowNullLiteral>]
type internal FusedRows(strides: int[][], plan: RowPlan voption) =
    /// The inputs' strides this choice was made for.
    member _.Strides = strides
    member _.Plan = plan

/// What a fused group computes: its output's shape and dtype, its instructions in dependency order
/// and the registers they need. A plan makes one program per distinct computation and shares it
/// between its groups (an unrolled loop of small tensors has 10^5 groups and a dozen programs).
type internal FusedProgram =
    { Shape: int[]
      Numel: int
      DType: DType
      Instructions: FusedInstruction[]
      Registers: int }

/// A compiled fused group: its program, the plan values its external inputs are read from, and the
/// plan values of its stored outputs: members that other steps read too. A member with several
/// uses used to end a group, so a chain whose values the backward pass needs (exp, then tanh) took
/// a full pass per such value; a stored member is written out once, in the same pass, and the
/// chain goes on from the block just written.
/// With a `Reduction`, the group's output is reduced over its trailing axes as it is computed (the op, over
/// runs of Numel / (the step's output's Numel) consecutive elements): a sum or a mean of an elementwise
/// chain, the statistics of a normalisation, then takes no full pass of its own and writes nothing whole.
/// `Rows` keeps the last walk chosen, so a run whose inputs have the layouts of the run before
/// allocates nothing to choose it again; it is replaced whole (never mutated), so concurrent runs
/// read either the old choice or the new one.
[<Sealed>]
type internal FusedGroup(program: FusedProgram, inputValues: int[], storedValues: int[], reduction: ReduceOp voption) =
    member _.Program = program
    member _.Shape = program.Shape
    member _.Numel = program.Numel
    member _.DType = program.DType
    member _.Instructions = program.Instructions
    member _.Registers = program.Registers
    member _.InputValues = inputValues
    member _.StoredValues = storedValues
    member _.Reduction = reduction
    member val Rows: FusedRows = null with get, set

/// Owner of the per-thread block registers. A block runs on one thread from start to end, so a
/// thread's registers are never shared; they are kept between calls so a compiled step allocates
/// nothing. Registers over 1M elements are not kept.
type internal FusedScratch = class end

/// Owner of the per-thread rows a reduced group computes before reducing them (see FusedGroup).
type internal FusedReducedScratch = class end

/// Runs fused groups.
module internal FusedKernel =

    /// Elements per block: 4096 float64 values are 32 KB, so a few registers fit in L1/L2. The
    /// last block takes the remainder as well (between one and two blocks), so no block is
    /// shorter than a vector kernel's full width unless the whole output is.
    let blockSize = 4096

    /// The largest block, which bounds each register.
    let capacity (numel: int) = min numel (2 * blockSize)

    /// Copies elements [start, start + length) of `t` broadcast to `shape`, in row-major order of
    /// `shape`, into `target` from `targetStart`. Axes of extent 1 are left out, and trailing axes
    /// that continue the last one's layout (dense after it, or all broadcast) join its run, so a
    /// [N, C, 1, H, W] operand read as [N, C, K, H, W] copies runs of H·W rather than W, and a
    /// column [P, 1] of a wider matrix is one strided run rather than P runs of one. The runs along
    /// the axis before the run's are walked by a loop of their own, and the axes before that by an
    /// odometer (the first run's coordinates come by division): a vmapped Jacobian's operands are
    /// broadcast over inner axes of a few entries (P × 3 × 3 read from P × 1 × 3), where a division
    /// per axis for every run was most of the group's time.
    let gather<'T> (t: Tensor) (shape: int[]) (start: int) (length: int) (target: 'T[]) (targetStart: int) =
        let source = t.Storage :?> 'T[]
        let rank = shape.Length
        let lead = rank - t.Rank
        let strideAt (axis: int) = if axis < lead || t.Dims.[axis - lead] = 1 then 0 else t.Strides.[axis - lead]
        // the axes of extent above 1, in order: their extents and strides
        let extents = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        let strides = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        let mutable axes = 0
        for axis in 0 .. rank - 1 do
            if shape.[axis] > 1 then
                extents.[axes] <- shape.[axis]
                strides.[axes] <- strideAt axis
                axes <- axes + 1
        if axes = 0 then
            if length > 0 then target.[targetStart] <- source.[t.Offset]
        else
            let innerStride = strides.[axes - 1]
            let mutable inner = extents.[axes - 1]
            let mutable first = axes - 1
            while first > 0 && strides.[first - 1] = innerStride * inner do
                inner <- inner * extents.[first - 1]
                first <- first - 1
            // the runs' axis (the one before the run), then the odometer's axes 0 .. first - 2
            let rowExtent = if first > 0 then extents.[first - 1] else 1
            let rowStride = if first > 0 then strides.[first - 1] else 0
            let outer = max (first - 1) 0
            let counter = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max outer 1)), outer)
            let mutable column = start % inner
            let mutable rest = start / inner
            let mutable row = rest % rowExtent
            rest <- rest / rowExtent
            let mutable basePosition = t.Offset
            for axis in outer - 1 .. -1 .. 0 do
                counter.[axis] <- rest % extents.[axis]
                basePosition <- basePosition + counter.[axis] * strides.[axis]
                rest <- rest / extents.[axis]
            let mutable written = 0
            while written < length do
                let mutable rowPosition = basePosition + row * rowStride
                while row < rowExtent && written < length do
                    let run = min (inner - column) (length - written)
                    let position = rowPosition + column * innerStride
                    let at = targetStart + written
                    // short runs by hand: a call to Array.Copy or Span.Fill costs more than a few
                    // elements (the spans check the bounds once, for the whole run)
                    if innerStride = 1 then
                        if run >= 16 then Array.Copy(source, position, target, at, run)
                        else
                            let from = &MemoryMarshal.GetReference(ReadOnlySpan(source, position, run))
                            let into = &MemoryMarshal.GetReference(Span(target, at, run))
                            for j in 0 .. run - 1 do
                                Unsafe.Add(&into, j) <- Unsafe.Add(&from, j)
                    elif innerStride = 0 then
                        let value = source.[position]
                        if run >= 16 then Span(target, at, run).Fill value
                        else
                            let into = &MemoryMarshal.GetReference(Span(target, at, run))
                            for j in 0 .. run - 1 do
                                Unsafe.Add(&into, j) <- value
                    else
                        let into = &MemoryMarshal.GetReference(Span(target, at, run))
                        let mutable q = position
                        for j in 0 .. run - 1 do
                            Unsafe.Add(&into, j) <- source.[q]
                            q <- q + innerStride
                    written <- written + run
                    column <- 0
                    row <- row + 1
                    rowPosition <- rowPosition + rowStride
                // the next row of runs: step the odometer (carrying into the axes before)
                row <- 0
                let mutable axis = outer - 1
                let mutable carry = written < length
                while carry && axis >= 0 do
                    counter.[axis] <- counter.[axis] + 1
                    basePosition <- basePosition + strides.[axis]
                    if counter.[axis] = extents.[axis] then
                        basePosition <- basePosition - extents.[axis] * strides.[axis]
                        counter.[axis] <- 0
                        axis <- axis - 1
                    else carry <- false

    /// True when an external input is read in place: dense, with the group's element count.
    let inline private readsInPlace (t: Tensor) (numel: int) = t.IsContiguous && t.Numel = numel

    /// Elements [start, start + length) of the group's output (length at most `capacity`), written to `result` from
    /// `resultAt`: its output tensor's storage, or the rows of a reduced group.
    let private runBlock<'T when 'T :> IFloatingPointIeee754<'T>>
        (group: FusedGroup) (values: Tensor[]) (result: 'T[]) (resultAt: int) (start: int) (length: int) =
        let cap = capacity group.Numel
        let inputs = group.InputValues
        let scratch = ThreadScratch<FusedScratch, 'T>.Get((group.Registers + inputs.Length) * cap, 1 <<< 20)
        for k in 0 .. inputs.Length - 1 do
            let t = values.[inputs.[k]]
            if not (readsInPlace t group.Numel) && t.Numel <> 1 then
                gather<'T> t group.Shape start length scratch ((group.Registers + k) * cap)
        // an operand as (array, first element, stride 0 or 1)
        let inline operand (o: FusedOperand) : struct ('T[] * int * int) =
            match o with
            | FusedOperand.Register r -> struct (scratch, r * cap, 1)
            | FusedOperand.External k ->
                let t = values.[inputs.[k]]
                if readsInPlace t group.Numel then struct (t.Storage :?> 'T[], t.Offset + start, 1)
                elif t.Numel = 1 then struct (t.Storage :?> 'T[], t.Offset, 0)
                else struct (scratch, (group.Registers + k) * cap, 1)
            | FusedOperand.Stored k ->
                let t = values.[group.StoredValues.[k]]
                struct (t.Storage :?> 'T[], t.Offset + start, 1)
        let inline destination (target: int) : struct ('T[] * int) =
            if target >= 0 then struct (scratch, target * cap)
            elif target = -1 then struct (result, resultAt)
            else
                let t = values.[group.StoredValues.[-2 - target]]
                struct (t.Storage :?> 'T[], t.Offset + start)
        for instruction in group.Instructions do
            match instruction with
            | FusedInstruction.Unary(op, x, target) ->
                let struct (xs, xStart, _) = operand x
                let struct (ys, yStart) = destination target
                let wanted = if Elementwise.hasAlignmentCost op then Elementwise.alignmentFor<'T> () else 32
                Elementwise.Aligned.Unary(op, ReadOnlySpan(xs, xStart, length), Span(ys, yStart, length), wanted, 0)
            | FusedInstruction.Binary(op, a, b, target) ->
                let struct (aData, aStart, aStride) = operand a
                let struct (bData, bStart, bStride) = operand b
                let struct (ys, yStart) = destination target
                Elementwise.binaryRun op aData aStart aStride bData bStart bStride ys yStart length
            | FusedInstruction.Where(m, t, f, target) ->
                let struct (mData, mStart, mStride) = operand m
                let struct (tData, tStart, tStride) = operand t
                let struct (fData, fStart, fStride) = operand f
                let struct (ys, yStart) = destination target
                Elementwise.whereRun mData mStart mStride tData tStart tStride fData fStart fStride ys yStart length

    /// The shortest inner run for which a group is walked by rows (see rowsPlan): below it the
    /// per-row offset arithmetic costs more than gathering the operands.
    let minimumRun = 64

    /// A row plan for the group when some external input is broadcast (it would otherwise be
    /// gathered into a load register element by element) and every input can be read in place
    /// along runs of at least `minimumRun` elements, each advancing by 0 or 1 per element. An outer
    /// product x[..., i, 1] * g[..., 1, j] (the per-example gradient of a dense layer) is then, per
    /// row, a scalar times a row of g written straight into the output: one pass over the output
    /// and nothing else, where gathering writes both operands' blocks before the product reads them.
    let rowsPlan (group: FusedGroup) (values: Tensor[]) : RowPlan voption =
        // No run of a group smaller than minimumRun is long enough: blocks, with nothing to
        // choose or keep (graphs of many small tensors have a group every few nodes).
        if group.Numel < minimumRun then ValueNone
        else
            let inputs = group.InputValues
            let kept = group.Rows
            let mutable same = not (isNull kept)
            let mutable k = 0
            while same && k < inputs.Length do
                let strides, keptStrides = values.[inputs.[k]].Strides, kept.Strides.[k]
                same <- strides.Length = keptStrides.Length
                let mutable axis = 0
                while same && axis < strides.Length do
                    same <- strides.[axis] = keptStrides.[axis]
                    axis <- axis + 1
                k <- k + 1
            if same then kept.Plan
            else
                let gathers = inputs |> Array.exists (fun v -> let t = values.[v] in not (readsInPlace t group.Numel) && t.Numel <> 1)
                let chosen =
                    if not gathers || group.Shape.Length = 0 then ValueNone
                    else
                        let plan = KernelSupport.rowPlan group.Shape (inputs |> Array.map (fun v -> KernelSupport.viewStrides values.[v] group.Shape))
                        if plan.Length >= minimumRun && KernelSupport.innerStridesUnit plan then ValueSome plan
                        else ValueNone
                group.Rows <- FusedRows(inputs |> Array.map (fun v -> Array.copy values.[v].Strides), chosen)
                chosen

    /// Runs the group over rows [first, first + count) of `plan`, each in pieces of at most a
    /// block: external inputs are read in place with their inner stride (0 or 1), except that a
    /// unary instruction, whose kernel takes a dense span, reads a repeated element from its load
    /// register filled with it. Every instruction calls the same span kernels as `runBlock`. Row `first` of the
    /// output is written to `result` from `resultAt` (the output's storage, or the rows of a reduced group, which
    /// never stream).
    let private runRows<'T when 'T :> IFloatingPointIeee754<'T>>
        (group: FusedGroup) (values: Tensor[]) (result: 'T[]) (resultAt: int) (plan: RowPlan) (first: int) (count: int) =
        let cap = capacity group.Numel
        let inputs = group.InputValues
        // An output too large for any cache is computed into a staging area after the registers
        // and streamed out from there, many rows at a time (rows are consecutive in the output), so
        // each copy is long and only its ends are not whole aligned lines; one block, so the area
        // stays in L1 between being written and being streamed out.
        let streaming = Streaming.supported && group.Reduction.IsNone && int64 group.Numel * int64 sizeof<'T> >= Streaming.thresholdBytes
        let staging = (group.Registers + inputs.Length) * cap
        let stagingLength = blockSize
        let scratch = ThreadScratch<FusedScratch, 'T>.Get((group.Registers + inputs.Length) * cap + (if streaming then stagingLength else 0), 1 <<< 20)
        let mutable staged = 0
        let mutable stagedAt = resultAt
        let piece = min plan.Length blockSize
        // the first row's coordinates and input offsets by division; later rows step an odometer
        let outer = plan.OuterShape
        // the row's coordinates, then each input's offset: the thread's kept buffer, so a run allocates nothing
        let odometer = ThreadScratch<FusedScratch, int>.Get(outer.Length + inputs.Length, 1 <<< 20)
        let coordinates = odometer
        let startsAt = outer.Length
        for k in 0 .. inputs.Length - 1 do odometer.[startsAt + k] <- 0
        let mutable rest = first
        for axis in outer.Length - 1 .. -1 .. 0 do
            coordinates.[axis] <- rest % outer.[axis]
            rest <- rest / outer.[axis]
            for k in 0 .. inputs.Length - 1 do
                odometer.[startsAt + k] <- odometer.[startsAt + k] + coordinates.[axis] * plan.OuterStrides.[k].[axis]
        for row in first .. first + count - 1 do
            if row > first then
                let mutable axis = outer.Length - 1
                let mutable carry = true
                while carry do
                    coordinates.[axis] <- coordinates.[axis] + 1
                    for k in 0 .. inputs.Length - 1 do
                        odometer.[startsAt + k] <- odometer.[startsAt + k] + plan.OuterStrides.[k].[axis]
                    if coordinates.[axis] = outer.[axis] && axis > 0 then
                        for k in 0 .. inputs.Length - 1 do
                            odometer.[startsAt + k] <- odometer.[startsAt + k] - outer.[axis] * plan.OuterStrides.[k].[axis]
                        coordinates.[axis] <- 0
                        axis <- axis - 1
                    else carry <- false
            let mutable along = 0
            while along < plan.Length do
                let at = along
                let length = min piece (plan.Length - at)
                let outputStart = resultAt + (row - first) * plan.Length + at
                if streaming && staged + length > stagingLength then
                    Streaming.copy scratch staging result stagedAt staged
                    stagedAt <- stagedAt + staged
                    staged <- 0
                let inline operand (o: FusedOperand) : struct ('T[] * int * int) =
                    match o with
                    | FusedOperand.Register r -> struct (scratch, r * cap, 1)
                    | FusedOperand.External k ->
                        let t = values.[inputs.[k]]
                        let stride = plan.InnerStrides.[k]
                        struct (t.Storage :?> 'T[], t.Offset + odometer.[startsAt + k] + at * stride, stride)
                    | FusedOperand.Stored k ->
                        let t = values.[group.StoredValues.[k]]
                        struct (t.Storage :?> 'T[], t.Offset + row * plan.Length + at, 1)
                // a stored output is written in place even when the output streams: later steps
                // read it, so it had better stay in cache
                let inline destination (target: int) : struct ('T[] * int) =
                    if target >= 0 then struct (scratch, target * cap)
                    elif target <= -2 then
                        let t = values.[group.StoredValues.[-2 - target]]
                        struct (t.Storage :?> 'T[], t.Offset + row * plan.Length + at)
                    elif streaming then struct (scratch, staging + staged)
                    else struct (result, outputStart)
                for instruction in group.Instructions do
                    match instruction with
                    | FusedInstruction.Unary(op, x, target) ->
                        let struct (xs, xStart, xStride) = operand x
                        let struct (xs, xStart) =
                            if xStride = 1 then struct (xs, xStart)
                            else
                                // only an external input can repeat; its load register is free in this mode
                                let load =
                                    match x with
                                    | FusedOperand.External k -> (group.Registers + k) * cap
                                    | FusedOperand.Register r -> r * cap
                                    | FusedOperand.Stored _ -> invalidOp "a stored output is read with stride 1"
                                Span(scratch, load, length).Fill(xs.[xStart])
                                struct (scratch, load)
                        let struct (ys, yStart) = destination target
                        let wanted = if Elementwise.hasAlignmentCost op then Elementwise.alignmentFor<'T> () else 32
                        Elementwise.Aligned.Unary(op, ReadOnlySpan(xs, xStart, length), Span(ys, yStart, length), wanted, 0)
                    | FusedInstruction.Binary(op, a, b, target) ->
                        let struct (aData, aStart, aStride) = operand a
                        let struct (bData, bStart, bStride) = operand b
                        let struct (ys, yStart) = destination target
                        Elementwise.binaryRun op aData aStart aStride bData bStart bStride ys yStart length
                    | FusedInstruction.Where(m, t, f, target) ->
                        let struct (mData, mStart, mStride) = operand m
                        let struct (tData, tStart, tStride) = operand t
                        let struct (fData, fStart, fStride) = operand f
                        let struct (ys, yStart) = destination target
                        // strides 0 or 1, as in runBlock: the lanes kernel, not a branch per element
                        Elementwise.whereRun mData mStart mStride tData tStart tStride fData fStart fStride ys yStart length
                if streaming then staged <- staged + length
                along <- along + length
        if streaming then
            Streaming.copy scratch staging result stagedAt staged
            Streaming.fence ()

    let private runTyped<'T when 'T :> IFloatingPointIeee754<'T>> (group: FusedGroup) (values: Tensor[]) (output: Tensor) =
        let n = group.Numel
        match (if n > 0 then rowsPlan group values else ValueNone) with
        | ValueSome plan ->
            // parts of about KernelSupport.chunkSize elements, whole rows each
            let rowsPerPart = max 1 (KernelSupport.chunkSize / plan.Length)
            let parts = (plan.Rows + rowsPerPart - 1) / rowsPerPart
            if parts > 1 && n >= KernelSupport.parallelThreshold && Workers.helpers () > 0 then
                // state by value to a function that captures nothing: the hand-over allocates nothing
                Workers.runWith parts (struct (group, values, output, plan, rowsPerPart)) (fun (struct (group, values, output, plan, rowsPerPart)) p ->
                    let first = p * rowsPerPart
                    runRows<'T> group values (output.Storage :?> 'T[]) (output.Offset + first * plan.Length) plan first
                        (min rowsPerPart (plan.Rows - first)))
            else runRows<'T> group values (output.Storage :?> 'T[]) output.Offset plan 0 plan.Rows
        | ValueNone ->
        if n > 0 then
            let blocks = max 1 (n / blockSize)
            // the last block also takes the remainder
            if blocks > 1 && n >= KernelSupport.parallelThreshold then
                // the blocks travel as a struct to a function that captures nothing, so the
                // hand-over to the worker team allocates nothing
                Workers.runWith blocks (struct (group, values, output, blocks)) (fun (struct (group, values, output, blocks)) b ->
                    let n = group.Numel
                    runBlock<'T> group values (output.Storage :?> 'T[]) (output.Offset + b * blockSize) (b * blockSize)
                        (if b = blocks - 1 then n - b * blockSize else blockSize))
            else
                for b in 0 .. blocks - 1 do
                    runBlock<'T> group values (output.Storage :?> 'T[]) (output.Offset + b * blockSize) (b * blockSize)
                        (if b = blocks - 1 then n - b * blockSize else blockSize)

    /// Rows [first, last) of a reduced group (see FusedGroup), `rowsPerChunk` at a time: each chunk computed into
    /// the thread's rows (by the group's row plan when its rows tile the reduced runs, else in pieces of at most
    /// a block), then reduced into `result` while it is in cache. Every element is the bits the group's output
    /// would hold, and each row is reduced by the kernel a Reduce step runs.
    let private runReducedRows<'T when 'T :> IFloatingPointIeee754<'T>>
        (group: FusedGroup) (values: Tensor[]) (op: ReduceOp) (result: Tensor) (plan: RowPlan voption) (length: int)
        (rowsPerChunk: int) (first: int) (last: int) =
        let rows = ThreadScratch<FusedReducedScratch, 'T>.Get(rowsPerChunk * length, 1 <<< 20)
        let target = result.Storage :?> 'T[]
        let mutable row = first
        while row < last do
            let count = min rowsPerChunk (last - row)
            let start = row * length
            let total = count * length
            match plan with
            | ValueSome plan when length % plan.Length = 0 ->
                let perRun = length / plan.Length
                runRows<'T> group values rows 0 plan (row * perRun) (count * perRun)
            | ValueSome _ | ValueNone ->
                let mutable at = 0
                while at < total do
                    let piece = min blockSize (total - at)
                    runBlock<'T> group values rows at (start + at) piece
                    at <- at + piece
            Reduction.reduceRunsInto op rows count length target (result.Offset + row)
            row <- row + count

    let private runReducedTyped<'T when 'T :> IFloatingPointIeee754<'T>> (group: FusedGroup) (values: Tensor[]) (op: ReduceOp) (result: Tensor) =
        let rowCount = result.Numel
        if rowCount > 0 then
            let length = group.Numel / rowCount
            let rowsPerChunk = max 1 (blockSize / length)
            let chunks = (rowCount + rowsPerChunk - 1) / rowsPerChunk
            let plan = rowsPlan group values
            if chunks > 1 && group.Numel >= KernelSupport.parallelThreshold && Workers.helpers () > 0 then
                // whole chunks per part; the state travels by value to a function that captures nothing
                let parts = min chunks (max 1 (group.Numel / KernelSupport.chunkSize))
                Workers.runWith parts (struct (group, values, op, result, plan, length, rowsPerChunk, struct (chunks, parts)))
                    (fun (struct (group, values, op, result, plan, length, rowsPerChunk, struct (chunks, parts))) p ->
                        let first = chunks * p / parts * rowsPerChunk
                        let last = min result.Numel (chunks * (p + 1) / parts * rowsPerChunk)
                        runReducedRows<'T> group values op result plan length rowsPerChunk first last)
            elif chunks = 1 && plan.IsNone && group.Numel >= KernelSupport.parallelThreshold && Workers.helpers () > 0 then
                // One chunk of large rows (a sum over a whole large chain): split into chunks of rows, it would
                // run on the calling thread alone. Its blocks are computed by the team into the calling thread's
                // rows, the pieces runReducedRows computes one after another, and reduced there as it reduces them,
                // so the bits are the same.
                let rows = ThreadScratch<FusedReducedScratch, 'T>.Get(group.Numel, 1 <<< 20)
                let blocks = (group.Numel + blockSize - 1) / blockSize
                Workers.runWith blocks (struct (group, values, rows)) (fun (struct (group, values, rows)) b ->
                    let at = b * blockSize
                    runBlock<'T> group values rows at at (min blockSize (group.Numel - at)))
                Reduction.reduceRunsInto op rows rowCount length (result.Storage :?> 'T[]) result.Offset
            else runReducedRows<'T> group values op result plan length rowsPerChunk 0 rowCount

    /// Runs the group, reading its inputs from `values` and writing the dense `output` (the reduction of its
    /// output, for a reduced group).
    let run (group: FusedGroup) (values: Tensor[]) (output: Tensor) =
        match group.Reduction, group.DType with
        | ValueNone, DType.Float64 -> runTyped<float> group values output
        | ValueNone, DType.Float32 -> runTyped<float32> group values output
        | ValueSome op, DType.Float64 -> runReducedTyped<float> group values op output
        | ValueSome op, DType.Float32 -> runReducedTyped<float32> group values op output
