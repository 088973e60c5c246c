/// Reduction: sum, mean, max, min and product over axes, and argmax. A reduction is laid out
/// as [outer, reduced, inner] blocks; contiguous runs go to SpanKernels (sums) and TensorPrimitives.
namespace FunctionalDiff.Core

open System
open System.Numerics
open KernelSupport

/// Axis reductions over Tensors.
module Reduction =

    /// Runs longer than this are summed in blocks whose partial sums are then added pairwise,
    /// so float32 rounding error grows with log(n) blocks rather than with n.
    let private sumBlock = 1024

    /// The sum of blocks [first, first + count) of a run: one block goes to SpanKernels.sum,
    /// more are split in halves and added, so the error grows with log(blocks). Recursion keeps
    /// the partial sums on the stack (depth log2 of the block count) instead of in an array.
    let rec private sumBlocks<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (first: int) (count: int) : 'T =
        if count = 1 then
            let start = first * sumBlock
            SpanKernels.sum (x.Slice(start, min sumBlock (x.Length - start)))
        else
            let half = count / 2
            sumBlocks x first half + sumBlocks x (first + half) (count - half)

    /// The sum of a contiguous run, blocked and pairwise for long runs.
    let private blockedSum<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) : 'T =
        if x.Length <= sumBlock then SpanKernels.sum x
        else sumBlocks x 0 ((x.Length + sumBlock - 1) / sumBlock)

    /// The product of entries `count` apart from `start`, taken again when their product in floating point came out NaN,
    /// ±∞ or ±0: partial products may have overflowed to ±∞ or underflowed to 0 (or met an entry that is one) before
    /// they met each other, and which comes first depends on the order of the multiplications. The exact product
    /// decides: a NaN, or an infinity and a 0 together, give NaN; an infinity with nonzero numbers is ±∞ (torch's
    /// running product happens to keep it: `fuzz adversarial 2/12`, the product of ∞, subnormals and −0.63 is −∞);
    /// finite numbers with a 0 among them give ±0 (`fuzz adversarial 13/221`: 0s, 1.65e38 and 8.2e307, whose pairwise
    /// product overflowed before it met a 0, where torch's running product meets the 0 first); finite nonzero numbers
    /// give their product, taken in order with its binary exponent kept apart (scaling by a power of 2 is exact, so
    /// each step rounds as the running product would, without overflowing or underflowing before the end: the
    /// product of four 1e300 and four 1e-300 is 1 in every order). The sign is the product of the signs.
    let private exactProduct<'T when 'T :> IFloatingPointIeee754<'T>> (x: ReadOnlySpan<'T>) (start: int) (step: int) (count: int) : 'T =
        let mutable infinite, zero, nan, negative = false, false, false, false
        for q in 0 .. count - 1 do
            let v = x.[start + q * step]
            if 'T.IsNaN v then nan <- true
            elif 'T.IsInfinity v then infinite <- true
            elif 'T.IsZero v then zero <- true
            if 'T.IsNegative v then negative <- not negative
        if nan || (infinite && zero) then 'T.NaN
        elif infinite then (if negative then 'T.NegativeInfinity else 'T.PositiveInfinity)
        elif zero then (if negative then 'T.NegativeZero else 'T.Zero)
        else
            let mutable mantissa = 'T.One
            let mutable exponent = 0L
            for q in 0 .. count - 1 do
                mantissa <- mantissa * x.[start + q * step]
                let k = 'T.ILogB mantissa
                mantissa <- 'T.ScaleB(mantissa, -k)
                exponent <- exponent + int64 k
            // beyond ±2^20 the result is ±∞ or ±0 in both dtypes, as ScaleB gives it at ±2^20
            'T.ScaleB(mantissa, int (max -1048576L (min 1048576L exponent)))

    /// Reduces one contiguous run to a single value (the run is never empty here).
    let private reduceRun<'T when 'T :> IFloatingPointIeee754<'T>> (op: ReduceOp) (x: ReadOnlySpan<'T>) : 'T =
        match op with
        | ReduceOp.Sum -> blockedSum x
        | ReduceOp.Mean -> blockedSum x / 'T.CreateTruncating x.Length
        // NaN when any element is NaN, as torch
        | ReduceOp.Max -> SpanKernels.max x
        | ReduceOp.Min -> SpanKernels.min x
        | ReduceOp.Prod ->
            let product = Tensors.TensorPrimitives.Product x
            if 'T.IsFinite product && not ('T.IsZero product) then product else exactProduct x 0 1 x.Length

    /// The value of a reduction over nothing: 0 for sum, 1 for product, NaN for mean (as torch).
    let private emptyValue<'T when 'T :> IFloatingPointIeee754<'T>> (op: ReduceOp) : 'T =
        match op with
        | ReduceOp.Sum -> 'T.Zero
        | ReduceOp.Prod -> 'T.One
        | ReduceOp.Mean -> 'T.NaN
        // never reached: `reduce` raises for these first, as torch does
        | ReduceOp.Max | ReduceOp.Min -> 'T.NaN

    /// Combines rows elementwise: accumulator ⊕= row, used when the reduced axes are not innermost.
    let private combineRows<'T when 'T :> IFloatingPointIeee754<'T>> (op: ReduceOp) (acc: Span<'T>) (row: ReadOnlySpan<'T>) =
        let a = Span<'T>.op_Implicit acc : ReadOnlySpan<'T>
        match op with
        | ReduceOp.Sum | ReduceOp.Mean -> SpanKernels.add a row acc
        | ReduceOp.Max -> SpanKernels.maximum a row acc
        | ReduceOp.Min -> SpanKernels.minimum a row acc
        | ReduceOp.Prod -> SpanKernels.multiply a row acc

    /// Rows a sum over an outer axis adds in sequence before its partial sums are combined pairwise.
    /// Short, so a float32 element's error grows with this many additions plus log2 of the
    /// number of blocks, as a cascade (torch's sums are cascades too), rather than with the rows.
    let private sumRows = 32

    /// Sums rows [first, first + count) of block o into `target`, in sequence.
    let private sumRowRange<'T when 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (start: int) (inner: int) (first: int) (count: int) (target: Span<'T>) =
        ReadOnlySpan(data, start + first * inner, inner).CopyTo target
        for q in first + 1 .. first + count - 1 do
            combineRows ReduceOp.Sum target (ReadOnlySpan(data, start + q * inner, inner))

    /// Reduces block o of a dense [outer, reduced, inner] layout with inner > 1 into its row
    /// of `result`, combining rows elementwise. Sums go by blocks of sumRows rows whose partial
    /// sums merge like a binary counter: level l holds the sum of 2^l blocks, and a new block
    /// carries up through the occupied levels, so every partial sum is added to one of its size.
    let private combineOuter<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: ReduceOp) (data: 'T[]) (offset: int) (reduced: int) (inner: int) (result: 'T[]) (o: int) =
        let total = Span(result, o * inner, inner)
        let start = offset + o * reduced * inner
        match op with
        | ReduceOp.Sum | ReduceOp.Mean ->
            if reduced <= sumRows then sumRowRange data start inner 0 reduced total
            else
                let blocks = (reduced + sumRows - 1) / sumRows
                let mutable levels = 1
                while (1 <<< (levels - 1)) < blocks do
                    levels <- levels + 1
                // one buffer per level and one for the block being carried, from the pool
                let scratch = Buffers.ArrayPool<'T>.Shared.Rent((levels + 1) * inner)
                let carry = Span(scratch, levels * inner, inner)
                let mutable occupied = 0
                for b in 0 .. blocks - 1 do
                    let first = b * sumRows
                    sumRowRange data start inner first (min sumRows (reduced - first)) carry
                    let mutable l = 0
                    while occupied &&& (1 <<< l) <> 0 do
                        combineRows ReduceOp.Sum carry (ReadOnlySpan(scratch, l * inner, inner))
                        occupied <- occupied &&& ~~~(1 <<< l)
                        l <- l + 1
                    (Span<'T>.op_Implicit carry : ReadOnlySpan<'T>).CopyTo(Span(scratch, l * inner, inner))
                    occupied <- occupied ||| (1 <<< l)
                // the levels left, smallest first
                let mutable started = false
                for l in 0 .. levels - 1 do
                    if occupied &&& (1 <<< l) <> 0 then
                        if started then combineRows ReduceOp.Sum total (ReadOnlySpan(scratch, l * inner, inner))
                        else
                            ReadOnlySpan(scratch, l * inner, inner).CopyTo total
                            started <- true
                Buffers.ArrayPool<'T>.Shared.Return scratch
            if op = ReduceOp.Mean then
                SpanKernels.divideScalar (Span<'T>.op_Implicit total) ('T.CreateTruncating reduced) total
        | ReduceOp.Max | ReduceOp.Min | ReduceOp.Prod ->
            ReadOnlySpan(data, start, inner).CopyTo total
            for q in 1 .. reduced - 1 do
                combineRows op total (ReadOnlySpan(data, start + q * inner, inner))
            if op = ReduceOp.Prod then
                for k in 0 .. inner - 1 do
                    let t = total.[k]
                    if not ('T.IsFinite t) || 'T.IsZero t then total.[k] <- exactProduct (ReadOnlySpan data) (start + k) inner reduced

    /// Reduces blocks [first, last) of a dense [outer, reduced, inner] layout into their rows of `result`.
    let private reduceRange<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: ReduceOp) (data: 'T[]) (offset: int) (reduced: int) (inner: int) (result: 'T[]) (first: int) (last: int) =
        if inner = 1 then
            for o in first .. last - 1 do
                result.[o] <- reduceRun op (ReadOnlySpan(data, offset + o * reduced, reduced))
        else
            for o in first .. last - 1 do
                combineOuter op data offset reduced inner result o
        // torch's running sums start from +0, so a sum (or mean) whose every term is −0 is +0 (0 + −0); ours start
        // from the first term, and adding +0 to the result is the only difference (`fuzz adversarial 5/12`: 1/x of
        // the sum of [−0] is +∞ in torch)
        match op with
        | ReduceOp.Sum | ReduceOp.Mean ->
            for k in first * inner .. last * inner - 1 do
                result.[k] <- result.[k] + 'T.Zero
        | ReduceOp.Max | ReduceOp.Min | ReduceOp.Prod -> ()

    /// Reduces `rows` consecutive runs of `length` entries (length > 0) of `data` into `result` from `at`: what
    /// reduceInto gives for a dense input reduced over its trailing axes, bit for bit (the same run kernel and the
    /// same +0 after a sum). For a fused group whose output is reduced as it is computed (FusedKernel), so that
    /// output is never written whole.
    let internal reduceRunsInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: ReduceOp) (data: 'T[]) (rows: int) (length: int) (result: 'T[]) (at: int) =
        for o in 0 .. rows - 1 do
            let value = reduceRun op (ReadOnlySpan(data, o * length, length))
            result.[at + o] <-
                match op with
                | ReduceOp.Sum | ReduceOp.Mean -> value + 'T.Zero
                | ReduceOp.Max | ReduceOp.Min | ReduceOp.Prod -> value

    /// Writes into `result` (at least outer × inner elements, from index 0).
    let private reduceBlocksInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: ReduceOp) (data: 'T[]) (offset: int) (outer: int) (reduced: int) (inner: int) (result: 'T[]) : unit =
        // every element is written below: the first row of each run is copied, not added to zero
        let elements = outer * reduced * inner
        if outer * inner = 0 then ()
        elif reduced = 0 then Span(result, 0, outer * inner).Fill(emptyValue<'T> op)
        elif elements < parallelThreshold || outer = 1 then reduceRange op data offset reduced inner result 0 outer
        else
            // ranges of blocks of about `chunkSize` elements, split over the cores; the state
            // travels as a struct to a function that captures nothing, so nothing is allocated
            let parts = max 1 (min outer (elements / chunkSize))
            Workers.runWith parts (struct (op, data, offset, outer, reduced, inner, result, parts))
                (fun (struct (op, data, offset, outer, reduced, inner, result, parts)) part ->
                    let first = int (int64 outer * int64 part / int64 parts)
                    let last = int (int64 outer * int64 (part + 1) / int64 parts)
                    reduceRange op data offset reduced inner result first last)

    let private reduceBlocks<'T when 'T :> IFloatingPointIeee754<'T>>
        (op: ReduceOp) (data: 'T[]) (offset: int) (outer: int) (reduced: int) (inner: int) : 'T[] =
        let result = RecycledArrays.Take<'T> (outer * inner)
        reduceBlocksInto op data offset outer reduced inner result
        result

    /// The input rearranged so the reduced axes form one block, with the block sizes.
    let private asBlocks (t: Tensor) (axes: int[]) =
        let dims = t.Dims
        let consecutive = axes.Length = 0 || axes.[axes.Length - 1] - axes.[0] = axes.Length - 1
        if consecutive && axes.Length > 0 then
            let outer = Shape.numel dims.[.. axes.[0] - 1]
            let reduced = Shape.numel dims.[axes.[0] .. axes.[axes.Length - 1]]
            dense t, outer, reduced, Shape.numel dims.[axes.[axes.Length - 1] + 1 ..]
        else
            // scattered axes: copy with the kept axes first and the reduced axes last
            let kept = ResizeArray<int>(dims.Length)
            for a in 0 .. dims.Length - 1 do
                if Array.IndexOf(axes, a) < 0 then kept.Add a
            let kept = kept.ToArray()
            let order = Array.append kept axes
            let view = t.View(order |> Array.map (fun a -> dims.[a]), order |> Array.map (fun a -> t.Strides.[a]), t.Offset)
            view.Contiguous(), Shape.numel (kept |> Array.map (fun a -> dims.[a])), Shape.numel (axes |> Array.map (fun a -> dims.[a])), 1

    /// The runs of consecutive axes in sorted `axes`, as (first, last) pairs; more than one when
    /// the axes are scattered.
    let private axisRuns (axes: int[]) =
        let runs = Collections.Generic.List<struct (int * int)>()
        let mutable first = axes.[0]
        for i in 1 .. axes.Length do
            if i = axes.Length || axes.[i] <> axes.[i - 1] + 1 then
                runs.Add(struct (first, axes.[i - 1]))
                if i < axes.Length then first <- axes.[i]
        runs

    /// A sum over scattered axes of a dense input, one run of consecutive axes at a time from the
    /// last, each stage in place over the dense result of the one before (a pooled array): no
    /// permuted copy of the input, which for the bias gradient of a convolution (axes 0, 2, 3)
    /// is the size of the whole activation. The interpreter and plans both sum this way.
    let private sumScatteredInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (offset: int) (dims: int[]) (runs: Collections.Generic.List<struct (int * int)>) (result: 'T[]) =
        let dims = Array.copy dims
        let mutable source, sourceOffset = data, offset
        let mutable rented: 'T[] = null
        for r in runs.Count - 1 .. -1 .. 0 do
            let struct (first, last) = runs.[r]
            let mutable outer, reduced, inner = 1, 1, 1
            for a in 0 .. dims.Length - 1 do
                if a < first then outer <- outer * dims.[a]
                elif a <= last then reduced <- reduced * dims.[a]
                else inner <- inner * dims.[a]
            let target =
                if r = 0 then result
                else Buffers.ArrayPool<'T>.Shared.Rent(max 1 (outer * inner))
            reduceBlocksInto ReduceOp.Sum source sourceOffset outer reduced inner target
            if not (isNull rented) then Buffers.ArrayPool<'T>.Shared.Return rented
            if r > 0 then rented <- target
            source <- target
            sourceOffset <- 0
            for a in first .. last do dims.[a] <- 1

    /// True when a sum over `axes` goes by stages (see sumScatteredInto): for every layout of the
    /// input, so the interpreter and plans add in the same order whatever layouts they hold.
    let private staged (op: ReduceOp) (axes: int[]) =
        op = ReduceOp.Sum && axes.Length > 1 && axes.[axes.Length - 1] - axes.[0] <> axes.Length - 1

    /// The op's name for error messages; a fixed table because sprintf "%A" is slow.
    let private reduceName (op: ReduceOp) =
        match op with
        | ReduceOp.Sum -> "ReduceSum"
        | ReduceOp.Mean -> "ReduceMean"
        | ReduceOp.Max -> "ReduceMax"
        | ReduceOp.Min -> "ReduceMin"
        | ReduceOp.Prod -> "ReduceProd"

    /// Reduces over `axes` (negative counts from the end; empty reduces nothing), keeping them as
    /// size 1 when `keepDims`. Max and min of an empty axis raise; empty sums are 0, products 1, means NaN.
    let reduce (op: ReduceOp) (axes: int[]) (keepDims: bool) (t: Tensor) : Tensor =
        let name = reduceName op
        let axes = Shape.normalizeAxes name t.Rank axes
        if (op = ReduceOp.Max || op = ReduceOp.Min) && axes |> Array.exists (fun a -> t.Dims.[a] = 0) then
            Shape.fail name (sprintf "cannot reduce over the empty axes %s of shape %s" (Shape.format axes) (Shape.format t.Dims))
        let outShape = Shape.reduced t.Dims axes keepDims
        if axes.Length = 0 then
            // nothing to reduce: the values are the result (a mean of one element is itself)
            t.View(outShape, Array.copy t.Strides, t.Offset)
        elif staged op axes then
            let runs = axisRuns axes
            let t = dense t
            match t.DType with
            | DType.Float64 ->
                let result = RecycledArrays.Take<float> (Shape.numel outShape)
                sumScatteredInto<float> t.Data64 t.Offset t.Dims runs result
                Tensor.OwnDense(outShape, result)
            | DType.Float32 ->
                let result = RecycledArrays.Take<float32> (Shape.numel outShape)
                sumScatteredInto<float32> t.Data32 t.Offset t.Dims runs result
                Tensor.OwnDense(outShape, result)
        else
            let source, outer, reduced, inner = asBlocks t axes
            match t.DType with
            | DType.Float64 -> Tensor.OwnDense(outShape, reduceBlocks<float> op source.Data64 source.Offset outer reduced inner)
            | DType.Float32 -> Tensor.OwnDense(outShape, reduceBlocks<float32> op source.Data32 source.Offset outer reduced inner)

    /// `reduce` writing into a caller's dense buffer of the result's size, for compiled plans.
    /// The axes are normalised, sorted and not empty, and the shapes were checked when the graph
    /// was built.
    let internal reduceInto (op: ReduceOp) (axes: int[]) (t: Tensor) (result: Array) : unit =
        let dims = t.Dims
        if staged op axes then
            let t = dense t
            match t.DType with
            | DType.Float64 -> sumScatteredInto<float> t.Data64 t.Offset dims (axisRuns axes) (result :?> float[])
            | DType.Float32 -> sumScatteredInto<float32> t.Data32 t.Offset dims (axisRuns axes) (result :?> float32[])
        else
            let first, last = axes.[0], axes.[axes.Length - 1]
            // consecutive axes of a dense input: the block sizes by loops, without asBlocks' slices
            let source, outer, reduced, inner =
                if last - first = axes.Length - 1 && t.IsContiguous then
                    let mutable outer, reduced, inner = 1, 1, 1
                    for a in 0 .. dims.Length - 1 do
                        if a < first then outer <- outer * dims.[a]
                        elif a <= last then reduced <- reduced * dims.[a]
                        else inner <- inner * dims.[a]
                    t, outer, reduced, inner
                else asBlocks t axes
            match t.DType with
            | DType.Float64 -> reduceBlocksInto<float> op source.Data64 source.Offset outer reduced inner (result :?> float[])
            | DType.Float32 -> reduceBlocksInto<float32> op source.Data32 source.Offset outer reduced inner (result :?> float32[])

    /// Reduces over every axis to a rank-0 tensor.
    let reduceAll (op: ReduceOp) (t: Tensor) : Tensor = reduce op (Shape.allAxes t.Rank) false t

    /// The argmax of inner positions [first, inner) of every outer block, one at a time: the
    /// scan of a run stops at its first NaN, which wins.
    let private argmaxScalar<'T when 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (offset: int) (outer: int) (reduced: int) (inner: int) (first: int) (result: 'T[]) =
        for o in 0 .. outer - 1 do
            for i in first .. inner - 1 do
                let mutable best = 0
                let mutable bestValue = data.[offset + o * reduced * inner + i]
                let mutable r = 1
                while r < reduced && not ('T.IsNaN bestValue) do
                    let v = data.[offset + (o * reduced + r) * inner + i]
                    if 'T.IsNaN v || 'T.op_GreaterThan(v, bestValue) then
                        best <- r
                        bestValue <- v
                    r <- r + 1
                result.[o * inner + i] <- 'T.CreateTruncating best

    /// The argmax of a vector of neighbouring inner positions at a time, for reductions over an axis
    /// that is not the last (a pooling window's axis): branch-free selects instead of one
    /// unpredictable branch per element. A lane takes row r where it is larger than the best so far,
    /// or NaN while the best is not; nothing is larger than NaN, so the first NaN stays, and equal
    /// values keep the first index, as the scalar scan does. The remaining positions go to it.
    let private argmaxLanes<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (offset: int) (outer: int) (reduced: int) (inner: int) (result: 'T[]) =
        let width = Vector<'T>.Count
        let lanes = if Vector.IsHardwareAccelerated then inner - inner % width else 0
        if lanes > 0 then
            for o in 0 .. outer - 1 do
                let block = offset + o * reduced * inner
                let mutable i = 0
                while i < lanes do
                    let mutable best = Vector<'T>(data, block + i)
                    let mutable index = Vector<'T>.Zero
                    for r in 1 .. reduced - 1 do
                        let v = Vector<'T>(data, block + r * inner + i)
                        let nan = Vector.OnesComplement(Vector.Equals(v, v))
                        let bestNan = Vector.OnesComplement(Vector.Equals(best, best))
                        let takes = Vector.BitwiseOr(Vector.GreaterThan(v, best), Vector.AndNot(nan, bestNan))
                        best <- Vector.ConditionalSelect(takes, v, best)
                        index <- Vector.ConditionalSelect(takes, Vector<'T>('T.CreateTruncating r), index)
                    index.CopyTo(result, o * inner + i)
                    i <- i + width
        argmaxScalar data offset outer reduced inner lanes result

    /// The index of the first largest element in each run; NaN counts as largest, as in torch.
    let private argmaxBlocksInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (offset: int) (outer: int) (reduced: int) (inner: int) (result: 'T[]) =
        match box data with
        | :? (float[]) as d -> argmaxLanes<float> d offset outer reduced inner (box result :?> float[])
        | :? (float32[]) as d -> argmaxLanes<float32> d offset outer reduced inner (box result :?> float32[])
        | _ -> argmaxScalar data offset outer reduced inner 0 result

    let private argmaxBlocks<'T when 'T :> IFloatingPointIeee754<'T>>
        (data: 'T[]) (offset: int) (outer: int) (reduced: int) (inner: int) : 'T[] =
        let result = RecycledArrays.Take<'T> (outer * inner) // every element is written by argmaxBlocksInto
        argmaxBlocksInto data offset outer reduced inner result
        result

    let private argmaxOver (name: string) (axes: int[]) (outShape: int[]) (t: Tensor) =
        let source, outer, reduced, inner = asBlocks t axes
        if reduced = 0 then
            Shape.fail name (sprintf "cannot take the argmax of an empty axis of shape %s" (Shape.format t.Dims))
        match t.DType with
        | DType.Float64 -> Tensor.OwnDense(outShape, argmaxBlocks<float> source.Data64 source.Offset outer reduced inner)
        | DType.Float32 -> Tensor.OwnDense(outShape, argmaxBlocks<float32> source.Data32 source.Offset outer reduced inner)

    /// The index of the largest element along `axis` (first on ties), as values in the input dtype.
    let argmax (axis: int) (keepDims: bool) (t: Tensor) : Tensor =
        let a = Shape.normalizeAxis "Argmax" t.Rank axis
        argmaxOver "Argmax" [| a |] (Shape.reduced t.Dims [| a |] keepDims) t

    /// `argmax` into a caller's dense buffer of the result's size, for compiled plans; `axis` is
    /// normalised. A dense input is read in place; another is copied first, as `argmax` does.
    let internal argmaxInto (axis: int) (t: Tensor) (result: Array) : unit =
        let dims = t.Dims
        if dims.[axis] = 0 then
            Shape.fail "Argmax" (sprintf "cannot take the argmax of an empty axis of shape %s" (Shape.format dims))
        let source, outer, reduced, inner =
            if t.IsContiguous then
                let mutable outer, inner = 1, 1
                for a in 0 .. dims.Length - 1 do
                    if a < axis then outer <- outer * dims.[a]
                    elif a > axis then inner <- inner * dims.[a]
                t, outer, dims.[axis], inner
            else asBlocks t [| axis |]
        match t.DType with
        | DType.Float64 -> argmaxBlocksInto<float> source.Data64 source.Offset outer reduced inner (result :?> float[])
        | DType.Float32 -> argmaxBlocksInto<float32> source.Data32 source.Offset outer reduced inner (result :?> float32[])

    /// The row-major flat index of the largest element, as a rank-0 tensor.
    let argmaxAll (t: Tensor) : Tensor =
        let source = dense t
        let flat = source.View([| t.Numel |], [| 1 |], source.Offset)
        argmaxOver "ArgmaxAll" [| 0 |] [||] flat
