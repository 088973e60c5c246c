/// Fused elementwise groups: a tree of unary, binary and where nodes of one shape and dtype runs
/// as one pass over the output in blocks small enough for the intermediates to stay in cache,
/// instead of one full pass (and one full-size intermediate) per node. Each block calls the same
/// span kernels as the node-by-node path, so the results are the same bits.
namespace FunctionalDiff.Core

open System
open System.Numerics

/// Where a fused instruction reads an operand.
[<RequireQualifiedAccess; Struct>]
type internal FusedOperand =
    /// The block an earlier instruction of the group wrote.
    | Register of register: int
    /// External input k of the group. How it is read is decided per call from its layout: in place
    /// when dense with the group's shape, as a repeated element when it has one, otherwise
    /// gathered block by block into its own load register.
    | External of input: int

/// One node of a fused group; `target` is a register, or -1 for the group's output.
[<RequireQualifiedAccess>]
type internal FusedInstruction =
    | Unary of UnaryOp * FusedOperand * target: int
    | Binary of BinaryOp * FusedOperand * FusedOperand * target: int
    | Where of FusedOperand * FusedOperand * FusedOperand * target: int

/// A compiled fused group: its instructions in dependency order, the registers they need, and the
/// plan values its external inputs are read from.
type internal FusedGroup =
    { Shape: int[]
      Numel: int
      DType: DType
      Instructions: FusedInstruction[]
      Registers: int
      InputValues: int[] }

/// Per-thread block registers. A block runs on one thread from start to end, so a thread's
/// registers are never shared; they are kept between calls so a compiled step allocates nothing.
type internal FusedScratch<'T> private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private buffer: 'T[]

    /// Registers larger than this are not kept (one huge group must not pin memory per thread).
    static member KeepAtMost = 1 <<< 20

    static member Get(length: int) : 'T[] =
        let kept = FusedScratch<'T>.buffer
        if not (isNull kept) && kept.Length >= length then kept
        else
            let fresh = Array.zeroCreate<'T> length
            if length <= FusedScratch<'T>.KeepAtMost then FusedScratch<'T>.buffer <- fresh
            fresh

/// Runs fused groups.
module internal FusedKernel =

    /// Elements per block: 4096 float64 values are 32 KB, so a few registers fit in L1/L2. The
    /// last block takes the remainder as well (between one and two blocks), so no block is
    /// shorter than a vector kernel's full width unless the whole output is.
    let blockSize = 4096

    /// The largest block, which bounds each register.
    let capacity (numel: int) = min numel (2 * blockSize)

    /// Copies elements [start, start + length) of `t` broadcast to `shape`, in row-major order of
    /// `shape`, into `target` from `targetStart`. Walks one inner run at a time; trailing axes
    /// that continue the last one's layout (dense after it, or all broadcast) join its run, so a
    /// [N, C, 1, H, W] operand read as [N, C, K, H, W] copies runs of H·W rather than W.
    let gather<'T> (t: Tensor) (shape: int[]) (start: int) (length: int) (target: 'T[]) (targetStart: int) =
        let source = t.Storage :?> 'T[]
        let rank = shape.Length
        let lead = rank - t.Rank
        let strideAt (axis: int) = if axis < lead || t.Dims.[axis - lead] = 1 then 0 else t.Strides.[axis - lead]
        if rank = 0 then
            if length > 0 then target.[targetStart] <- source.[t.Offset]
        else
            let innerStride = strideAt (rank - 1)
            let mutable inner = shape.[rank - 1]
            let mutable first = rank - 1
            while first > 0 && strideAt (first - 1) = innerStride * inner do
                inner <- inner * shape.[first - 1]
                first <- first - 1
            let mutable p = start
            let mutable written = 0
            while written < length do
                let column = p % inner
                let mutable rest = p / inner
                let mutable position = t.Offset + column * innerStride
                for axis in first - 1 .. -1 .. 0 do
                    position <- position + (rest % shape.[axis]) * strideAt axis
                    rest <- rest / shape.[axis]
                let run = min (inner - column) (length - written)
                let at = targetStart + written
                if innerStride = 1 then Array.Copy(source, position, target, at, run)
                elif innerStride = 0 then Span(target, at, run).Fill(source.[position])
                else
                    let mutable q = position
                    for j in 0 .. run - 1 do
                        target.[at + j] <- source.[q]
                        q <- q + innerStride
                written <- written + run
                p <- p + run

    /// True when an external input is read in place: dense, with the group's element count.
    let inline private readsInPlace (t: Tensor) (numel: int) = t.IsContiguous && t.Numel = numel

    let private runBlock<'T when 'T :> IFloatingPointIeee754<'T>>
        (group: FusedGroup) (values: Tensor[]) (output: Tensor) (start: int) (length: int) =
        let cap = capacity group.Numel
        let inputs = group.InputValues
        let scratch = FusedScratch<'T>.Get((group.Registers + inputs.Length) * cap)
        let result = output.Storage :?> 'T[]
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
        let inline destination (target: int) : struct ('T[] * int) =
            if target < 0 then struct (result, output.Offset + start) else struct (scratch, target * cap)
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

    let private runTyped<'T when 'T :> IFloatingPointIeee754<'T>> (group: FusedGroup) (values: Tensor[]) (output: Tensor) =
        let n = group.Numel
        if n > 0 then
            let blocks = max 1 (n / blockSize)
            // the last block also takes the remainder
            // with no helper (one core, or MaxDegree 1) the loop below runs the blocks without
            // the closure a hand-over needs, so a one-core step allocates nothing here
            if blocks > 1 && n >= KernelSupport.parallelThreshold && Workers.helpers () > 0 then
                Workers.run blocks (fun b ->
                    runBlock<'T> group values output (b * blockSize) (if b = blocks - 1 then n - b * blockSize else blockSize))
            else
                for b in 0 .. blocks - 1 do
                    runBlock<'T> group values output (b * blockSize) (if b = blocks - 1 then n - b * blockSize else blockSize)

    /// Runs the group, reading its inputs from `values` and writing the dense `output`.
    let run (group: FusedGroup) (values: Tensor[]) (output: Tensor) =
        match group.DType with
        | DType.Float64 -> runTyped<float> group values output
        | DType.Float32 -> runTyped<float32> group values output
