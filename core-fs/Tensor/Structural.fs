/// Structural: ops that move elements without computing on them. Permute, transpose, reshape of
/// contiguous data, broadcastTo, slice and flip are views sharing storage; pad, concat, stack,
/// gather and scatterAdd copy.
namespace FunctionalDiff.Core

#nowarn "9" // stack-allocated odometers in the buffer-writing forms

open System
open Microsoft.FSharp.NativeInterop
open KernelSupport

/// Shape-changing and indexing ops over Tensors.
module Structural =

    /// Reorders the axes: result axis i is input axis perm.[i] (negative counts from the end). A view.
    let permute (perm: int[]) (t: Tensor) : Tensor =
        if perm.Length <> t.Rank then
            Shape.fail "Permute" (sprintf "permutation %s has %d entries for shape %s" (Shape.format perm) perm.Length (Shape.format t.Dims))
        let axes = perm |> Array.map (Shape.normalizeAxis "Permute" t.Rank)
        // a loop, not Array.distinct (FSharp.Core generic code, unoptimised under tiering)
        if (let mutable twice = false in (for i in 1 .. axes.Length - 1 do if Array.IndexOf(axes, axes.[i], 0, i) >= 0 then twice <- true); twice) then
            Shape.fail "Permute" (sprintf "%s is not a permutation of the axes of shape %s" (Shape.format perm) (Shape.format t.Dims))
        t.View(axes |> Array.map (fun a -> t.Dims.[a]), axes |> Array.map (fun a -> t.Strides.[a]), t.Offset)

    /// Reverses the order of the axes (the matrix transpose for rank 2). A view.
    let transpose (t: Tensor) : Tensor =
        let reversed = Shape.allAxes t.Rank
        Array.Reverse reversed
        permute reversed t

    /// The same elements, row-major, in a new shape; one entry may be -1 to infer it.
    /// A view when the input is contiguous, else a copy.
    let reshape (shape: int[]) (t: Tensor) : Tensor =
        let target = Shape.reshapeTarget t.Dims shape
        let source = dense t
        source.View(target, Shape.contiguousStrides target, source.Offset)

    /// Broadcasts to `shape` with stride-0 views along the stretched dimensions.
    let broadcastTo (shape: int[]) (t: Tensor) : Tensor =
        Shape.validate "BroadcastTo" shape
        if not (Shape.broadcastsTo t.Dims shape) then
            Shape.fail "BroadcastTo" (sprintf "shape %s cannot be broadcast to %s" (Shape.format t.Dims) (Shape.format shape))
        let lead = shape.Length - t.Rank
        let strides = Array.init shape.Length (fun i -> if i < lead || t.Dims.[i - lead] <> shape.[i] then 0 else t.Strides.[i - lead])
        t.View(Array.copy shape, strides, t.Offset)

    /// Python-style slicing, one (start, stop, step) per axis: negative start/stop count from the
    /// end, both are clamped to the axis, and the step must be positive. A view.
    let slice (starts: int[]) (stops: int[]) (steps: int[]) (t: Tensor) : Tensor =
        if starts.Length <> t.Rank || stops.Length <> t.Rank || steps.Length <> t.Rank then
            Shape.fail "Slice" (sprintf "starts %s, stops %s and steps %s need one entry per axis of shape %s"
                                    (Shape.format starts) (Shape.format stops) (Shape.format steps) (Shape.format t.Dims))
        let shape = Array.zeroCreate t.Rank
        let strides = Array.zeroCreate t.Rank
        let mutable offset = t.Offset
        for axis in 0 .. t.Rank - 1 do
            let size = t.Dims.[axis]
            if steps.[axis] <= 0 then
                Shape.fail "Slice" (sprintf "step %d on axis %d must be positive" steps.[axis] axis)
            let clamp (i: int) = if i < 0 then max 0 (i + size) else min i size
            let start, stop = clamp starts.[axis], clamp stops.[axis]
            let count = Shape.sliceLength start stop steps.[axis]
            shape.[axis] <- count
            strides.[axis] <- t.Strides.[axis] * steps.[axis]
            if count > 0 then offset <- offset + start * t.Strides.[axis]
        t.View(shape, strides, offset)

    /// Slices one axis and keeps the others whole. A view.
    let sliceAxis (axis: int) (start: int) (stop: int) (step: int) (t: Tensor) : Tensor =
        let a = Shape.normalizeAxis "Slice" t.Rank axis
        let starts = Array.init t.Rank (fun i -> if i = a then start else 0)
        let stops = Array.init t.Rank (fun i -> if i = a then stop else t.Dims.[i])
        let steps = Array.init t.Rank (fun i -> if i = a then step else 1)
        slice starts stops steps t

    /// Reverses the order of elements along `axes`: negative strides over the same storage. A view.
    let flip (axes: int[]) (t: Tensor) : Tensor =
        let axes = Shape.normalizeAxes "Flip" t.Rank axes
        let strides = Array.copy t.Strides
        let mutable offset = t.Offset
        for a in axes do
            if t.Dims.[a] > 0 then
                offset <- offset + (t.Dims.[a] - 1) * t.Strides.[a]
                strides.[a] <- -strides.[a]
        t.View(Array.copy t.Dims, strides, offset)

    let private checkIndexShape (name: string) (a: int) (index: Tensor) (other: int[]) (otherName: string) =
        if index.Rank <> other.Length then
            Shape.fail name (sprintf "index of shape %s must have the rank of %s %s" (Shape.format index.Dims) otherName (Shape.format other))
        for d in 0 .. other.Length - 1 do
            if d <> a && index.Dims.[d] > other.[d] then
                Shape.fail name (sprintf "index of shape %s exceeds %s %s on axis %d" (Shape.format index.Dims) otherName (Shape.format other) d)

    // One kernel per op, in buffer-writing form: it writes the result into a caller's dense array of
    // the result's size and allocates nothing (odometers live on the stack), so a compiled plan puts
    // these ops in its arena, and the allocating forms at the end of this module are the same kernel
    // over a fresh array, so the interpreter and a plan give the same bits by construction.

    /// Copies the strided `source` (dims `shape`) into `target`, walked with `targetStrides` from
    /// `targetOffset`: a box of a larger dense array, or the whole of a dense one.
    let private copyBox<'T> (source: 'T[]) (sourceOffset: int) (sourceStrides: int[]) (shape: int[])
                            (target: 'T[]) (targetOffset: int) (targetStrides: Span<int>) =
        let rank = shape.Length
        let n = Shape.numel shape
        if n > 0 then
            if rank = 0 then target.[targetOffset] <- source.[sourceOffset]
            else
                let counter = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> rank), rank)
                counter.Clear()
                let inner = shape.[rank - 1]
                let innerSource = sourceStrides.[rank - 1]
                let innerTarget = targetStrides.[rank - 1]
                let mutable s = sourceOffset
                let mutable t = targetOffset
                let mutable done' = 0
                while done' < n do
                    if innerSource = 1 && innerTarget = 1 then Array.Copy(source, s, target, t, inner)
                    else
                        for j in 0 .. inner - 1 do target.[t + j * innerTarget] <- source.[s + j * innerSource]
                    done' <- done' + inner
                    let mutable axis = rank - 2
                    let mutable carry = true
                    while carry && axis >= 0 do
                        counter.[axis] <- counter.[axis] + 1
                        s <- s + sourceStrides.[axis]
                        t <- t + targetStrides.[axis]
                        if counter.[axis] < shape.[axis] then carry <- false
                        else
                            s <- s - sourceStrides.[axis] * shape.[axis]
                            t <- t - targetStrides.[axis] * shape.[axis]
                            counter.[axis] <- 0
                            axis <- axis - 1

    /// Row-major strides of `shape`, written into `strides`.
    let private denseStrides (shape: int[]) (strides: Span<int>) =
        let mutable stride = 1
        for axis in shape.Length - 1 .. -1 .. 0 do
            strides.[axis] <- stride
            stride <- stride * shape.[axis]

    let private padTyped<'T> (before: int[]) (t: Tensor) (shape: int[]) (target: 'T[]) =
        let rank = shape.Length
        let strides = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        denseStrides shape strides
        let mutable offset = 0
        for axis in 0 .. rank - 1 do offset <- offset + before.[axis] * strides.[axis]
        Array.Clear target
        copyBox (storage<'T> t) t.Offset t.Strides t.Dims target offset strides

    /// `pad` into `target` (dense, of the padded shape); the padding was checked when the graph was built.
    let internal padInto (before: int[]) (shape: int[]) (t: Tensor) (target: Array) =
        match t.DType with
        | DType.Float64 -> padTyped<float> before t shape (target :?> float[])
        | DType.Float32 -> padTyped<float32> before t shape (target :?> float32[])

    let private concatTyped<'T> (a: int) (values: Tensor[]) (parts: int[]) (shape: int[]) (target: 'T[]) =
        let rank = shape.Length
        let strides = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        denseStrides shape strides
        let mutable offset = 0
        for k in parts do
            let p = values.[k]
            copyBox (storage<'T> p) p.Offset p.Strides p.Dims target offset strides
            offset <- offset + p.Dims.[a] * strides.[a]

    /// `concat` into `target` (dense, of the joined shape) of the parts `values.[k]` for k in
    /// `parts` (a plan's values, so no array of parts is made per call), which share the target's
    /// dtype; `axis` is normalised and the shapes were checked when the graph was built.
    let internal concatInto (axis: int) (values: Tensor[]) (parts: int[]) (shape: int[]) (target: Array) =
        match values.[parts.[0]].DType with
        | DType.Float64 -> concatTyped<float> axis values parts shape (target :?> float[])
        | DType.Float32 -> concatTyped<float32> axis values parts shape (target :?> float32[])

    /// The index element at `position` of the index's storage as an int, checked as checkedIndices does.
    let inline private indexAt (name: string) (index: Tensor) (position: int) (size: int) (axis: int) =
        let v =
            match index.DType with
            | DType.Float64 -> index.Data64.[position]
            | DType.Float32 -> float index.Data32.[position]
        if v <> Math.Floor v || v < 0.0 || v >= float size then
            Shape.fail name (sprintf "index %g is out of range for axis %d of size %d" v axis size)
        int v

    /// Walks the index's elements in row-major order, calling `visit` with the running element
    /// number, the index's storage position, and the position of `other` (walked with
    /// `otherStrides` from `otherOffset`, the coordinate along `skip` left out).
    let inline private walkIndex (index: Tensor) (otherStrides: Span<int>) (otherOffset: int) (skip: int)
                                 ([<InlineIfLambda>] visit: int -> int -> int -> unit) =
        let dims = index.Dims
        let rank = dims.Length
        let n = index.Numel
        let counter = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        counter.Clear()
        let strides = index.Strides
        let mutable i = index.Offset
        let mutable o = otherOffset
        for e in 0 .. n - 1 do
            visit e i o
            let mutable d = rank - 1
            let mutable carry = true
            while carry && d >= 0 do
                counter.[d] <- counter.[d] + 1
                i <- i + strides.[d]
                if d <> skip then o <- o + otherStrides.[d]
                if counter.[d] < dims.[d] then carry <- false
                else
                    i <- i - strides.[d] * dims.[d]
                    if d <> skip then o <- o - otherStrides.[d] * dims.[d]
                    counter.[d] <- 0
                    d <- d - 1

    /// Whether the index holds one value per row along its last axis (stride 0 there, as
    /// index_select's and embedding's broadcast index has it) and the gather is not along that
    /// axis: then each row is one contiguous run of the other tensor, `rowStride` apart.
    let private rowsShareIndex (a: int) (index: Tensor) (otherLastStride: int) =
        let rank = index.Rank
        rank >= 2 && a <> rank - 1 && index.Strides.[rank - 1] = 0 && otherLastStride = 1 && index.Dims.[rank - 1] > 1

    /// The index without its last axis: one element per row of a rowsShareIndex index.
    let private rowsOf (index: Tensor) =
        let rank = index.Rank
        index.View(Array.sub index.Dims 0 (rank - 1), Array.sub index.Strides 0 (rank - 1), index.Offset)

    /// For an index that varies along axis `a` only (stride 0 on every other axis: IndexSelect's vector of
    /// positions, broadcast), whose other extents are `otherDims`, and a dense `other`: the positions along
    /// `a`, each checked once, in a pooled array (return it), and the extents before and after `a`; null
    /// otherwise. Such an index was read and checked once per element, more than the copy or sum it drives.
    let private positionsAlong (name: string) (a: int) (index: Tensor) (other: Tensor) (otherDims: int[]) (size: int) =
        let rank = index.Rank
        // (an empty index has no positions to read, whatever its strides)
        let mutable along = rank >= 2 && otherDims.Length = rank && other.IsContiguous && index.Numel > 0
        let mutable outer, inner = 1, 1
        for d in 0 .. rank - 1 do
            if d <> a then
                if (index.Strides.[d] <> 0 && index.Dims.[d] > 1) || (along && index.Dims.[d] <> otherDims.[d]) then along <- false
                if d < a then outer <- outer * index.Dims.[d] else inner <- inner * index.Dims.[d]
        if not along then struct (null, 0, 0)
        else
            let length = index.Dims.[a]
            let positions = Buffers.ArrayPool<int>.Shared.Rent(max length 1)
            try
                for j in 0 .. length - 1 do
                    positions.[j] <- indexAt name index (index.Offset + j * index.Strides.[a]) size a
            with _ ->
                Buffers.ArrayPool<int>.Shared.Return positions
                reraise ()
            struct (positions, outer, inner)

    let private gatherTypedInto<'T> (a: int) (index: Tensor) (t: Tensor) (target: 'T[]) =
        let source = storage<'T> t
        let rank = t.Rank
        let strides = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        for d in 0 .. rank - 1 do strides.[d] <- t.Strides.[d]
        let stride = t.Strides.[a]
        let size = t.Dims.[a]
        let struct (positions, outer, inner) = positionsAlong "Gather" a index t t.Dims size
        if not (isNull positions) then
            // target (o, j, k) = t (o, positions[j], k), both dense: blocks of `inner` entries
            let length = index.Dims.[a]
            try
                for o in 0 .. outer - 1 do
                    let from = t.Offset + o * size * inner
                    let into = o * length * inner
                    if inner = 1 then
                        for j in 0 .. length - 1 do
                            target.[into + j] <- source.[from + positions.[j]]
                    else
                        for j in 0 .. length - 1 do
                            Array.Copy(source, from + positions.[j] * inner, target, into + j * inner, inner)
            finally
                Buffers.ArrayPool<int>.Shared.Return positions
        elif rowsShareIndex a index t.Strides.[rank - 1] then
            // one index value per row: a block copy of the row instead of an index read per entry
            let length = index.Dims.[rank - 1]
            walkIndex (rowsOf index) strides t.Offset a (fun e i o ->
                let start = o + indexAt "Gather" index i size a * stride
                Array.Copy(source, start, target, e * length, length))
        else
            walkIndex index strides t.Offset a (fun e i o ->
                target.[e] <- source.[o + indexAt "Gather" index i size a * stride])

    /// `gather` into `target` (dense, of the index's shape); `axis` is normalised and the shapes
    /// were checked when the graph was built. An index out of range raises as `gather` does.
    let internal gatherInto (axis: int) (index: Tensor) (t: Tensor) (target: Array) =
        try
            match t.DType with
            | DType.Float64 -> gatherTypedInto<float> axis index t (target :?> float[])
            | DType.Float32 -> gatherTypedInto<float32> axis index t (target :?> float32[])
        with :? ShapeException as e ->
            // IndexSelect, Embedding and OneHot check a constant index when the graph is built; an index
            // computed in it, or passed to a compiled function, reaches this kernel, which knows
            // only its own name, so the message says which public ops gather through it
            raise (ShapeException(sprintf "%s (source %s, index %s; IndexSelect, Embedding, OneHot and Gather select through this op)"
                                      e.Message (Shape.format t.Dims) (Shape.format index.Dims), e))

    let private scatterTypedInto<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
        (a: int) (index: Tensor) (source: Tensor) (shape: int[]) (target: 'T[]) =
        let values = storage<'T> source
        let rank = shape.Length
        let targetStrides = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        denseStrides shape targetStrides
        let stride = targetStrides.[a]
        let size = shape.[a]
        // the source has the index's shape, dense, and the target its extents but along `a`
        let struct (positions, outer, inner) =
            if source.Dims = index.Dims then positionsAlong "ScatterAdd" a index source shape size
            else struct (null, 0, 0)
        if not (isNull positions) then
            // target (o, positions[j], k) += source (o, j, k), in the order of the element loop below (j
            // before k within o), so each entry receives its terms in the same order: the same sums
            let length = index.Dims.[a]
            try
                Array.Clear target
                for o in 0 .. outer - 1 do
                    let from = source.Offset + o * length * inner
                    let into = o * size * inner
                    if inner = 1 then
                        for j in 0 .. length - 1 do
                            let q = into + positions.[j]
                            target.[q] <- target.[q] + values.[from + j]
                    else
                        for j in 0 .. length - 1 do
                            let row = Span<'T>(target, into + positions.[j] * inner, inner)
                            SpanKernels.add (Span<'T>.op_Implicit row) (ReadOnlySpan<'T>(values, from + j * inner, inner)) row
            finally
                Buffers.ArrayPool<int>.Shared.Return positions
        else
        let byRows = rowsShareIndex a index source.Strides.[rank - 1] && source.IsContiguous && source.Dims = index.Dims
        // every index is checked before any sum, so a failure leaves no partial result behind (one
        // check per row when a row shares its index value)
        walkIndex (if byRows then rowsOf index else index) targetStrides 0 a (fun _ i _ -> indexAt "ScatterAdd" index i size a |> ignore)
        Array.Clear target
        // the source walks with the index's coordinates: a second walk over the index, through the
        // source's strides, gives each element's source position in the same order
        let sourceStrides = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        for d in 0 .. rank - 1 do sourceStrides.[d] <- source.Strides.[d]
        if byRows then
            // one index value per row, rows of the source dense: each row is added to one target row
            // by the vector add, every entry receiving its terms in the order of the loop below
            let length = index.Dims.[rank - 1]
            walkIndex (rowsOf index) targetStrides 0 a (fun e i p ->
                let q = p + indexAt "ScatterAdd" index i size a * stride
                let row = Span<'T>(target, q, length)
                SpanKernels.add (Span<'T>.op_Implicit row) (ReadOnlySpan<'T>(values, source.Offset + e * length, length)) row)
        else
        let n = index.Numel
        let dims = index.Dims
        let counter = Span<int>(NativePtr.toVoidPtr (NativePtr.stackalloc<int> (max rank 1)), rank)
        counter.Clear()
        let indexStrides = index.Strides
        let mutable i = index.Offset
        let mutable s = source.Offset
        let mutable p = 0
        // serial on purpose: indices may repeat, and a fixed order keeps the sums reproducible
        for _ in 0 .. n - 1 do
            let q = p + indexAt "ScatterAdd" index i size a * stride
            target.[q] <- target.[q] + values.[s]
            let mutable d = rank - 1
            let mutable carry = true
            while carry && d >= 0 do
                counter.[d] <- counter.[d] + 1
                i <- i + indexStrides.[d]
                s <- s + sourceStrides.[d]
                if d <> a then p <- p + targetStrides.[d]
                if counter.[d] < dims.[d] then carry <- false
                else
                    i <- i - indexStrides.[d] * dims.[d]
                    s <- s - sourceStrides.[d] * dims.[d]
                    if d <> a then p <- p - targetStrides.[d] * dims.[d]
                    counter.[d] <- 0
                    d <- d - 1

    /// `scatterAdd` into `target` (dense, of `shape`); `axis` is normalised and the shapes were
    /// checked when the graph was built.
    let internal scatterAddInto (axis: int) (index: Tensor) (source: Tensor) (shape: int[]) (target: Array) =
        match source.DType with
        | DType.Float64 -> scatterTypedInto<float> axis index source shape (target :?> float[])
        | DType.Float32 -> scatterTypedInto<float32> axis index source shape (target :?> float32[])

    /// A fresh dense tensor of `shape` filled by `write`, a kernel above that writes (or clears)
    /// every entry, so the array is not cleared here.
    let private fresh (dtype: DType) (shape: int[]) (write: Array -> unit) : Tensor =
        match dtype with
        | DType.Float64 ->
            let data = RecycledArrays.Take<float> (Shape.numel shape)
            write data
            Tensor.OwnDense(shape, data)
        | DType.Float32 ->
            let data = RecycledArrays.Take<float32> (Shape.numel shape)
            write data
            Tensor.OwnDense(shape, data)

    /// Pads with zeros: `before.[i]` and `after.[i]` elements around axis i.
    let pad (before: int[]) (after: int[]) (t: Tensor) : Tensor =
        if before.Length <> t.Rank || after.Length <> t.Rank then
            Shape.fail "Pad" (sprintf "before %s and after %s need one entry per axis of shape %s" (Shape.format before) (Shape.format after) (Shape.format t.Dims))
        if Array.exists (fun p -> p < 0) before || Array.exists (fun p -> p < 0) after then
            Shape.fail "Pad" (sprintf "negative padding %s, %s" (Shape.format before) (Shape.format after))
        let shape = Array.init t.Rank (fun i -> Shape.addDims "Pad" (Shape.addDims "Pad" before.[i] t.Dims.[i]) after.[i])
        Shape.checkSize "Pad" shape
        fresh t.DType shape (padInto before shape t)

    /// Joins tensors along an existing axis; all other dimensions must agree. Mixed dtypes give float64.
    let concat (axis: int) (parts: Tensor[]) : Tensor =
        if parts.Length = 0 then Shape.fail "Concat" "needs at least one tensor"
        let first = parts.[0]
        let a = Shape.normalizeAxis "Concat" first.Rank axis
        for p in parts do
            let agrees = p.Rank = first.Rank && Array.forall id (Array.init first.Rank (fun i -> i = a || p.Dims.[i] = first.Dims.[i]))
            if not agrees then
                Shape.fail "Concat" (sprintf "shapes %s and %s differ outside axis %d" (Shape.format first.Dims) (Shape.format p.Dims) axis)
        let dtype = parts |> Array.fold (fun d p -> promote d p.DType) first.DType
        let shape = Array.copy first.Dims
        shape.[a] <- parts |> Array.fold (fun total p -> Shape.addDims "Concat" total p.Dims.[a]) 0
        Shape.checkSize "Concat" shape
        fresh dtype shape (concatInto a (parts |> Array.map (fun p -> p.Cast dtype)) (Array.init parts.Length id) shape)

    /// Joins equally shaped tensors along a new axis at position `axis` (in [-(rank+1), rank]).
    let stack (axis: int) (parts: Tensor[]) : Tensor =
        if parts.Length = 0 then Shape.fail "Stack" "needs at least one tensor"
        let first = parts.[0]
        let a = Shape.normalizeAxis "Stack" (first.Rank + 1) axis
        for p in parts do
            if p.Dims <> first.Dims then
                Shape.fail "Stack" (sprintf "shapes %s and %s differ" (Shape.format first.Dims) (Shape.format p.Dims))
        let expanded = Array.insertAt a 1 first.Dims
        concat a (parts |> Array.map (reshape expanded))

    /// torch.gather: out[i][j][k] = t[index[i][j][k]][j][k] for axis 0, and so on. The index
    /// holds integer values in a float dtype, has the input's rank and no dimension larger
    /// than the input's except along `axis`. The result has the index's shape.
    let gather (axis: int) (index: Tensor) (t: Tensor) : Tensor =
        let a = Shape.normalizeAxis "Gather" t.Rank axis
        checkIndexShape "Gather" a index t.Dims "input"
        fresh t.DType index.Shape (gatherInto a index t)

    /// The transpose of gather: zeros of `shape`, with source[e] added at the position gather
    /// would read for index element e. Only the index's extent of `source` is used.
    let scatterAdd (axis: int) (index: Tensor) (source: Tensor) (shape: int[]) : Tensor =
        Shape.validate "ScatterAdd" shape
        let a = Shape.normalizeAxis "ScatterAdd" shape.Length axis
        checkIndexShape "ScatterAdd" a index shape "shape"
        checkIndexShape "ScatterAdd" -1 index source.Dims "source"
        fresh source.DType (Array.copy shape) (scatterAddInto a index source shape)

