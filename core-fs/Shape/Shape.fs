/// Shapes: dimensions, broadcasting, axis normalisation and the shape errors every layer raises.
namespace FunctionalDiff.Core

open System

/// Raised when an operation meets a shape, axis, index or dtype it cannot accept.
/// It derives from ArgumentException so .NET callers can catch the usual type. A ShapeException raised again with
/// more context (a Scan's step, a kernel behind several public ops) keeps the original as its InnerException.
type ShapeException(message: string, inner: exn) =
    inherit ArgumentException(message, inner)
    /// A ShapeException with no inner exception.
    new(message: string) = ShapeException(message, null)

/// Functions over shapes, which are plain `int[]` values, outermost dimension first.
[<RequireQualifiedAccess>]
module Shape =

    /// Formats a shape as `[2,3]` for error messages and printing.
    let format (shape: int[]) = "[" + String.Join(",", shape) + "]"

    /// Raises a ShapeException whose message starts with the operation's name.
    let fail (op: string) (detail: string) : 'a = raise (ShapeException(op + ": " + detail))

    /// Raises a ShapeException as `fail` does, keeping `inner`, the error it restates, as its InnerException.
    let failFrom (inner: exn) (op: string) (detail: string) : 'a = raise (ShapeException(op + ": " + detail, inner))

    /// The most elements a tensor may hold: the longest .NET array. Element counts and every
    /// offset into storage are int32, so a larger shape could only wrap around silently.
    let maxElements = Array.MaxLength

    /// The element count of a shape as int64, or -1 when a dimension is negative.
    let private count (shape: int[]) =
        let mutable n = 1L
        let mutable negative = false
        for d in shape do
            if d < 0 then negative <- true
            // once past the limit the count only needs to stay past it, never to wrap
            else n <- min (n * int64 d) (int64 Int32.MaxValue + 1L)
        if negative then -1L else n

    /// Checks that a shape has no negative dimension and at most `maxElements` elements,
    /// raising a ShapeException that names `op` and the shape otherwise.
    let checkSize (op: string) (shape: int[]) =
        let n = count shape
        if n < 0L then fail op (sprintf "negative dimension in shape %s" (format shape))
        if n > int64 maxElements then
            let exact = shape |> Array.fold (fun (acc: bigint) d -> acc * bigint d) 1I
            fail op (sprintf "shape %s has %O elements, more than the limit of %d" (format shape) exact maxElements)

    /// The number of elements of a shape; 1 for rank 0. A shape past `maxElements` (or with a
    /// negative dimension, the sign of an overflowed sum) raises instead of wrapping around.
    let numel (shape: int[]) =
        let n = count shape
        if n < 0L || n > int64 maxElements then checkSize "Shape" shape
        int n

    /// The shape a reshape of `source` (its dims) to `shape` gives: `shape` with its one allowed -1
    /// inferred, as a fresh array. Raises a ShapeException naming "Reshape" for more than one -1,
    /// another negative entry, a -1 that cannot be inferred, or a size other than the source's.
    /// Loops, not Array.filter and Array.map: generic FSharp.Core code over int, which tiered
    /// compilation starts unoptimised, on a path a plan's views take every run.
    let reshapeTarget (source: int[]) (shape: int[]) : int[] =
        let mutable inferred, invalid = 0, false
        for d in shape do
            if d = -1 then inferred <- inferred + 1
            elif d < -1 then invalid <- true
        if inferred > 1 || invalid then
            fail "Reshape" (sprintf "invalid target shape %s for %s" (format shape) (format source))
        let sourceCount = numel source
        let target = Array.copy shape
        if inferred = 1 then
            let mutable rest = 1L
            for d in shape do
                if d <> -1 then rest <- min (rest * int64 d) (int64 Int32.MaxValue + 1L)
            if rest = 0L || int64 sourceCount % rest <> 0L then
                fail "Reshape" (sprintf "cannot infer -1 in %s for %s" (format shape) (format source))
            for i in 0 .. target.Length - 1 do
                if target.[i] = -1 then target.[i] <- int (int64 sourceCount / rest)
        checkSize "Reshape" target
        if count target <> int64 sourceCount then
            fail "Reshape" (sprintf "cannot reshape %s (%d elements) to %s" (format source) sourceCount (format target))
        target

    /// a + b for dimensions, raising a ShapeException naming `op` when the sum leaves int32.
    let addDims (op: string) (a: int) (b: int) =
        let sum = int64 a + int64 b
        if sum > int64 maxElements then
            fail op (sprintf "dimension %d + %d exceeds the limit of %d elements" a b maxElements)
        int sum

    /// The length of a Python-style slice [start, stop) with a positive step, where
    /// 0 <= start and stop <= size are already clamped: ceil((stop - start) / step), computed
    /// without the overflow of `stop - start + step - 1` for huge steps.
    let sliceLength (start: int) (stop: int) (step: int) =
        if stop <= start then 0 else 1 + (stop - start - 1) / step

    /// Row-major strides of a contiguous tensor of this shape.
    let contiguousStrides (shape: int[]) =
        let strides = Array.zeroCreate shape.Length
        let mutable s = 1
        for i in shape.Length - 1 .. -1 .. 0 do
            strides.[i] <- s
            s <- s * shape.[i]
        strides

    /// Checks that every dimension is non-negative and the element count within `maxElements`.
    let validate (op: string) (shape: int[]) =
        if isNull shape then nullArg "shape"
        checkSize op shape

    /// Maps a possibly negative axis into [0, rank), naming the op when it is out of range.
    /// True for a scalar's axes as torch reads them: dim 0 or −1 of a rank-0 tensor names its one entry (torch wraps
    /// a scalar's dim as a vector's), so `x.sum(0)`, `x.max(-1)` or `x.softmax(0)` of a scalar are the op over a
    /// one-entry vector, whose result is a scalar again.
    let isScalarAxes (rank: int) (axes: int[]) =
        rank = 0 && axes.Length > 0 && (let mutable all = true in (for a in axes do if a <> 0 && a <> -1 then all <- false); all)

    let normalizeAxis (op: string) (rank: int) (axis: int) =
        let a = if axis < 0 then axis + rank else axis
        if a < 0 || a >= rank then
            fail op (sprintf "axis %d is out of range for rank %d" axis rank)
        a

    /// The axes 0 .. rank - 1, by a loop: a range expression's array runs FSharp.Core's generic
    /// range enumerator, which tiered compilation starts unoptimised.
    let allAxes (rank: int) : int[] =
        let axes: int[] = Array.zeroCreate rank
        for i in 0 .. rank - 1 do
            axes.[i] <- i
        axes

    /// Normalises a set of axes, rejecting duplicates; the result is sorted.
    let normalizeAxes (op: string) (rank: int) (axes: int[]) =
        // plain loops (an insertion sort: a few axes) rather than Array.map and Array.sort, whose
        // generic code would start unoptimised under tiered compilation; every reduction builds this
        let normalized: int[] = Array.zeroCreate axes.Length
        for i in 0 .. axes.Length - 1 do
            let a = normalizeAxis op rank axes.[i]
            let mutable j = i
            while j > 0 && normalized.[j - 1] > a do
                normalized.[j] <- normalized.[j - 1]
                j <- j - 1
            normalized.[j] <- a
        for i in 1 .. normalized.Length - 1 do
            if normalized.[i] = normalized.[i - 1] then
                fail op (sprintf "axis %d appears twice in %s" normalized.[i] (format axes))
        normalized

    /// NumPy/torch broadcasting of two shapes: align on the right, and size 1 stretches.
    let broadcast (op: string) (a: int[]) (b: int[]) =
        let rank = max a.Length b.Length
        let shape =
            Array.init rank (fun i ->
                let da = if i < rank - a.Length then 1 else a.[i - (rank - a.Length)]
                let db = if i < rank - b.Length then 1 else b.[i - (rank - b.Length)]
                if da = db then da
                elif da = 1 then db
                elif db = 1 then da
                else fail op (sprintf "shapes %s and %s cannot be broadcast" (format a) (format b)))
        // [65536,1] and [1,65536] are each small; their broadcast is not
        checkSize op shape
        shape

    /// Broadcasts any number of shapes together.
    let broadcastMany (op: string) (shapes: int[] seq) =
        shapes |> Seq.fold (broadcast op) [||]

    /// True when `source` broadcasts to exactly `target`.
    // (Plain loops here and in `reduced`: every broadcast and reduction node asks, and the
    // pipelines allocated closures, tuples and arrays each time.)
    let broadcastsTo (source: int[]) (target: int[]) =
        source.Length <= target.Length
        && (let offset = target.Length - source.Length
            let mutable fits = true
            let mutable i = 0
            while fits && i < source.Length do
                fits <- source.[i] = 1 || source.[i] = target.[i + offset]
                i <- i + 1
            fits)

    /// The shape left after reducing `axes` (normalised), keeping them as size 1 when asked.
    let reduced (shape: int[]) (axes: int[]) (keepDims: bool) =
        let isReduced (i: int) = Array.IndexOf(axes, i) >= 0
        if keepDims then
            let result = Array.copy shape
            for i in 0 .. shape.Length - 1 do
                if isReduced i then result.[i] <- 1
            result
        else
            let mutable kept = 0
            for i in 0 .. shape.Length - 1 do
                if not (isReduced i) then kept <- kept + 1
            let result = Array.zeroCreate kept
            let mutable k = 0
            for i in 0 .. shape.Length - 1 do
                if not (isReduced i) then
                    result.[k] <- shape.[i]
                    k <- k + 1
            result
