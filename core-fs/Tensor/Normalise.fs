/// Softmax and log-softmax along one axis, their pullbacks, and the rank-one map of their rules: the kernels of those primitives. Each run along the
/// axis is shifted by its maximum before exp, so nothing overflows, and is computed in float64 in
/// either dtype, so a float32 result is the float64 one rounded once (its terms by float32's exp
/// series, within a two-hundredth of its half ulp).
namespace FunctionalDiff.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open KernelSupport

/// Softmax, log-softmax and their backward kernels, writing into a dense buffer of the input's shape.
module Normalise =

    /// Writes softmax (or log-softmax, with `logarithm`) of each run of `length` entries, `inner`
    /// apart, into `result`. torch's edge semantics follow from the arithmetic: a NaN entry makes
    /// the maximum NaN, and a maximum of +inf or -inf gives inf - inf = NaN, so such a run is all
    /// NaN; an empty axis writes nothing.
    let private runsInto<'T when 'T :> IFloatingPointIeee754<'T>>
        (logarithm: bool) (data: 'T[]) (offset: int) (outer: int) (length: int) (inner: int) (result: 'T[]) =
        for o in 0 .. outer - 1 do
            for i in 0 .. inner - 1 do
                let first = o * length * inner + i
                let mutable maximum = Double.NegativeInfinity
                for r in 0 .. length - 1 do
                    let v = Double.CreateTruncating data.[offset + first + r * inner]
                    if Double.IsNaN v || v > maximum then maximum <- (if Double.IsNaN maximum then maximum else v)
                let mutable total = 0.0
                for r in 0 .. length - 1 do
                    total <- total + Math.Exp(Double.CreateTruncating data.[offset + first + r * inner] - maximum)
                if logarithm then
                    let logTotal = Math.Log total
                    for r in 0 .. length - 1 do
                        let shifted = Double.CreateTruncating data.[offset + first + r * inner] - maximum
                        result.[first + r * inner] <- 'T.CreateTruncating(shifted - logTotal)
                else
                    for r in 0 .. length - 1 do
                        let e = Math.Exp(Double.CreateTruncating data.[offset + first + r * inner] - maximum)
                        result.[first + r * inner] <- 'T.CreateTruncating(e / total)

    /// One run of consecutive entries (the axis innermost, the common case), by vector kernels in
    /// float64, three passes in either dtype (below). The same arithmetic as `runsInto` gives the
    /// same edge semantics (a NaN or an infinite maximum makes the run NaN); only the sum adds in
    /// the order of Transcendental's eight lanes. `work` holds at least the run's length.
    let private contiguousRun<'T when 'T :> IFloatingPointIeee754<'T>>
        (logarithm: bool) (x: ReadOnlySpan<'T>) (y: Span<'T>) (work: float[]) =
        let n = x.Length
        if Type.op_Equality(typeof<'T>, typeof<float32>) then
            // float32 rows: the maximum over the float32 entries (exact, as over their widened
            // values), then the terms and their sum in one pass, with float32's exp series (see
            // Transcendental.expShiftedSum32), then the last operation and the rounding in one
            // pass: each result within a hair of the float64 one rounded once
            let x32 = MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference x), n)
            let y32 = MemoryMarshal.CreateSpan(&Unsafe.As<'T, float32>(&MemoryMarshal.GetReference y), n)
            let maximum = float (SpanKernels.max x32)
            if logarithm then
                let total = Transcendental.expShiftedSum32 x32 maximum Span.Empty
                SpanKernels.shiftedNarrow x32 maximum (Math.Log total) y32
            else
                let terms = Span(work, 0, n)
                let total = Transcendental.expShiftedSum32 x32 maximum terms
                SpanKernels.narrowDivided (Span<float>.op_Implicit terms) total y32
        else
            // float64 rows: the maximum, then the terms and their sum in one pass (the float64
            // exp, see Transcendental.expShiftedSum64), then the last operation
            let x64 = MemoryMarshal.CreateReadOnlySpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference x), n)
            let y64 = MemoryMarshal.CreateSpan(&Unsafe.As<'T, float>(&MemoryMarshal.GetReference y), n)
            let maximum = SpanKernels.max x64
            if logarithm then
                let logTotal = Math.Log(Transcendental.expShiftedSum64 x64 maximum Span.Empty)
                SpanKernels.subtractScalar x64 maximum y64
                SpanKernels.subtractScalar (Span<float>.op_Implicit y64) logTotal y64
            else
                let terms = Span(work, 0, n)
                let total = Transcendental.expShiftedSum64 x64 maximum terms
                SpanKernels.divideScalar (Span<float>.op_Implicit terms) total y64

    /// The runs of one part: rows [part·rowsPerPart, (part + 1)·rowsPerPart), with scratch from the pool.
    let private runsOfPart<'T when 'T :> IFloatingPointIeee754<'T>>
        (logarithm: bool) (data: 'T[]) (offset: int) (outer: int) (length: int) (result: 'T[]) (rowsPerPart: int) (part: int) =
        let work = Buffers.ArrayPool<float>.Shared.Rent length
        try
            for o in part * rowsPerPart .. min outer ((part + 1) * rowsPerPart) - 1 do
                contiguousRun logarithm (ReadOnlySpan(data, offset + o * length, length)) (Span(result, o * length, length)) work
        finally
            Buffers.ArrayPool<float>.Shared.Return work

    /// Every run of a tensor whose axis is innermost, through `contiguousRun`, split over the
    /// worker team by rows once there are enough entries to repay it. The serial case makes no
    /// closure: a plan's step must not allocate.
    let private contiguousRuns<'T when 'T :> IFloatingPointIeee754<'T>>
        (logarithm: bool) (data: 'T[]) (offset: int) (outer: int) (length: int) (result: 'T[]) =
        if length > 0 then
            // whole runs per part, about a chunk's worth of entries each
            let rowsPerPart = max 1 (KernelSupport.chunkSize / length)
            let parts = (outer + rowsPerPart - 1) / rowsPerPart
            if parts = 1 || outer * length < parallelThresholdCostly || Parallelism.MaxDegree = 1 then
                for part in 0 .. parts - 1 do
                    runsOfPart logarithm data offset outer length result rowsPerPart part
            else Workers.run parts (fun part -> runsOfPart logarithm data offset outer length result rowsPerPart part)

    /// Softmax (or log-softmax) of t along `axis` into `result`, a dense array of t's shape.
    let internal into (logarithm: bool) (axis: int) (t: Tensor) (result: Array) : unit =
        let source = dense t
        let dims = t.Dims
        let struct (outer, inner) = aroundAxis dims axis
        match t.DType with
        | DType.Float64 when inner = 1 -> contiguousRuns<float> logarithm source.Data64 source.Offset outer dims.[axis] (result :?> float[])
        | DType.Float32 when inner = 1 -> contiguousRuns<float32> logarithm source.Data32 source.Offset outer dims.[axis] (result :?> float32[])
        | DType.Float64 -> runsInto<float> logarithm source.Data64 source.Offset outer dims.[axis] inner (result :?> float[])
        | DType.Float32 -> runsInto<float32> logarithm source.Data32 source.Offset outer dims.[axis] inner (result :?> float32[])
    let private fresh (logarithm: bool) (axis: int) (t: Tensor) : Tensor = freshFilled t (into logarithm axis t)

    /// exp(x - max) / Σ exp(x - max) along the axis (already normalised).
    let softmax (axis: int) (t: Tensor) = fresh false axis t

    /// (x - max) - log Σ exp(x - max) along the axis (already normalised).
    let logSoftmax (axis: int) (t: Tensor) = fresh true axis t

    /// Softmax's pullback along runs of `length` entries, `inner` apart: y·(g − Σ g·y) per run, the
    /// sum in float64 rounded to the dtype, and each result rounded once. Every entry of a run is read before the run's
    /// first is written, so `result` may be the array of g or y.
    let private backwardRuns<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (y: 'T[]) (yOffset: int) (outer: int) (length: int) (inner: int) (result: 'T[]) =
        for o in 0 .. outer - 1 do
            for i in 0 .. inner - 1 do
                let first = o * length * inner + i
                let mutable total = 0.0
                for r in 0 .. length - 1 do
                    total <- total + Double.CreateTruncating g.[gOffset + first + r * inner] * Double.CreateTruncating y.[yOffset + first + r * inner]
                // the sum rounded to the dtype first: where g is uniform, g − s is then exactly 0 when Σ y rounds to 1,
                // as in torch's kernel, where the float64 sum of float32 y's kept their rounding residue, g·(1 − Σ y),
                // as a gradient of a constant (`fuzz wide 1/1544`: a sum of softmax rows under a cotangent near 1e4)
                let total = Double.CreateTruncating('T.CreateTruncating total)
                for r in 0 .. length - 1 do
                    let k = first + r * inner
                    let gk = Double.CreateTruncating g.[gOffset + k]
                    result.[k] <- 'T.CreateTruncating(Double.CreateTruncating y.[yOffset + k] * (gk - total))

    /// One run of consecutive entries (the axis innermost): the dot product s = Σ g·y by SpanKernels.dot in
    /// the dtype, as torch's vectorised kernel sums it, then y·(g − s) in vector lanes (the result may alias g or y).
    let private backwardRun<'T when 'T :> IFloatingPointIeee754<'T>> (g: ReadOnlySpan<'T>) (y: ReadOnlySpan<'T>) (result: Span<'T>) =
        SpanKernels.timesDifference g (SpanKernels.dot g y) y result

    /// The consecutive runs of one part, as runsOfPart.
    let private backwardRunsOfPart<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (y: 'T[]) (yOffset: int) (outer: int) (length: int) (result: 'T[]) (rowsPerPart: int) (part: int) =
        for o in part * rowsPerPart .. min outer ((part + 1) * rowsPerPart) - 1 do
            backwardRun (ReadOnlySpan(g, gOffset + o * length, length)) (ReadOnlySpan(y, yOffset + o * length, length)) (Span(result, o * length, length))

    /// Every consecutive run, split over the worker team as contiguousRuns splits them.
    let private backwardContiguous<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (y: 'T[]) (yOffset: int) (outer: int) (length: int) (result: 'T[]) =
        if length > 0 then
            let rowsPerPart = max 1 (KernelSupport.chunkSize / length)
            let parts = (outer + rowsPerPart - 1) / rowsPerPart
            if parts = 1 || outer * length < parallelThresholdCostly || Parallelism.MaxDegree = 1 then
                for part in 0 .. parts - 1 do
                    backwardRunsOfPart g gOffset y yOffset outer length result rowsPerPart part
            else Workers.run parts (fun part -> backwardRunsOfPart g gOffset y yOffset outer length result rowsPerPart part)

    /// Softmax's pullback y·(g − Σ g·y) along `axis` into `result`, a dense array of their shape;
    /// g (the cotangent) and y (softmax's output) have one shape and one dtype.
    let internal backwardInto (axis: int) (g: Tensor) (y: Tensor) (result: Array) : unit =
        let g = dense g
        let y = dense y
        let dims = y.Dims
        let struct (outer, inner) = aroundAxis dims axis
        match y.DType with
        | DType.Float64 when inner = 1 -> backwardContiguous<float> g.Data64 g.Offset y.Data64 y.Offset outer dims.[axis] (result :?> float[])
        | DType.Float32 when inner = 1 -> backwardContiguous<float32> g.Data32 g.Offset y.Data32 y.Offset outer dims.[axis] (result :?> float32[])
        | DType.Float64 -> backwardRuns<float> g.Data64 g.Offset y.Data64 y.Offset outer dims.[axis] inner (result :?> float[])
        | DType.Float32 -> backwardRuns<float32> g.Data32 g.Offset y.Data32 y.Offset outer dims.[axis] inner (result :?> float32[])

    /// y·(g − Σ g·y) along the axis (already normalised): softmax's pullback of g at output y.
    let softmaxBackward (axis: int) (g: Tensor) (y: Tensor) = freshFilled y (backwardInto axis g y)

    /// p = exp y over `count` entries of y from `first` into p, by the Exp op's own kernel, so p holds the
    /// probabilities every other node reads (the Exp node of this op's rule among them): a cotangent that is
    /// the same along the axis, c − p·(n·c) with p = 1/n, is then exactly 0 wherever the dtype's p is, as in
    /// torch's kernel.
    let private probabilitiesInto<'T when 'T :> IFloatingPointIeee754<'T>> (y: 'T[]) (first: int) (count: int) (p: 'T[]) =
        Elementwise.Aligned.Unary(UnaryOp.Exp, ReadOnlySpan(y, first, count), Span(p, 0, count), Elementwise.alignmentFor<'T> (), 0)

    /// Log-softmax's pullback along runs of `length` entries, `inner` apart: g − p·Σ g per run with p = exp y,
    /// the sum in float64 rounded to the dtype, the product and the difference each rounded (as torch's kernel,
    /// and as the vector path below). Every entry of a run is read before the run's first is written, so
    /// `result` may be the array of g.
    let private logBackwardRuns<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (p: 'T[]) (outer: int) (length: int) (inner: int) (result: 'T[]) =
        for o in 0 .. outer - 1 do
            for i in 0 .. inner - 1 do
                let first = o * length * inner + i
                let mutable total = 0.0
                for r in 0 .. length - 1 do
                    total <- total + Double.CreateTruncating g.[gOffset + first + r * inner]
                let total = 'T.CreateTruncating total
                for r in 0 .. length - 1 do
                    let k = first + r * inner
                    result.[k] <- g.[gOffset + k] - p.[k] * total

    /// The consecutive runs of one part (the axis innermost): exp y of the part's rows into pooled scratch,
    /// then per row the sum of g by SpanKernels.sum in the dtype, as torch's vectorised kernel sums it, and
    /// g − p·s in vector lanes (the result may alias g or y: p is read from the scratch).
    let private logBackwardRunsOfPart<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (y: 'T[]) (yOffset: int) (outer: int) (length: int) (result: 'T[]) (rowsPerPart: int) (part: int) =
        let firstRow = part * rowsPerPart
        let rows = min outer (firstRow + rowsPerPart) - firstRow
        let p = Buffers.ArrayPool<'T>.Shared.Rent(rows * length)
        try
            probabilitiesInto y (yOffset + firstRow * length) (rows * length) p
            for row in 0 .. rows - 1 do
                let o = firstRow + row
                let gRow = ReadOnlySpan(g, gOffset + o * length, length)
                let out = Span(result, o * length, length)
                let total = SpanKernels.sum gRow
                gRow.CopyTo out
                SpanKernels.multiplyAddInto (ReadOnlySpan(p, row * length, length)) (-total) out
        finally Buffers.ArrayPool<'T>.Shared.Return p

    /// Every consecutive run, split over the worker team as contiguousRuns splits them.
    let private logBackwardContiguous<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (y: 'T[]) (yOffset: int) (outer: int) (length: int) (result: 'T[]) =
        if length > 0 then
            let rowsPerPart = max 1 (KernelSupport.chunkSize / length)
            let parts = (outer + rowsPerPart - 1) / rowsPerPart
            if parts = 1 || outer * length < parallelThresholdCostly || Parallelism.MaxDegree = 1 then
                for part in 0 .. parts - 1 do
                    logBackwardRunsOfPart g gOffset y yOffset outer length result rowsPerPart part
            else Workers.run parts (fun part -> logBackwardRunsOfPart g gOffset y yOffset outer length result rowsPerPart part)

    /// The runs along an axis that is not innermost: exp y of the whole tensor into pooled scratch, then
    /// logBackwardRuns.
    let private logBackwardStrided<'T when 'T :> IFloatingPointIeee754<'T>>
        (g: 'T[]) (gOffset: int) (y: 'T[]) (yOffset: int) (outer: int) (length: int) (inner: int) (result: 'T[]) =
        let count = outer * length * inner
        let p = Buffers.ArrayPool<'T>.Shared.Rent(max 1 count)
        try
            probabilitiesInto y yOffset count p
            logBackwardRuns g gOffset p outer length inner result
        finally Buffers.ArrayPool<'T>.Shared.Return p

    /// Log-softmax's pullback g − exp(y)·Σ g along `axis` into `result`, a dense array of their shape;
    /// g (the cotangent) and y (log-softmax's output) have one shape and one dtype.
    let internal logBackwardInto (axis: int) (g: Tensor) (y: Tensor) (result: Array) : unit =
        let g = dense g
        let y = dense y
        let dims = y.Dims
        let struct (outer, inner) = aroundAxis dims axis
        match y.DType with
        | DType.Float64 when inner = 1 -> logBackwardContiguous<float> g.Data64 g.Offset y.Data64 y.Offset outer dims.[axis] (result :?> float[])
        | DType.Float32 when inner = 1 -> logBackwardContiguous<float32> g.Data32 g.Offset y.Data32 y.Offset outer dims.[axis] (result :?> float32[])
        | DType.Float64 -> logBackwardStrided<float> g.Data64 g.Offset y.Data64 y.Offset outer dims.[axis] inner (result :?> float[])
        | DType.Float32 -> logBackwardStrided<float32> g.Data32 g.Offset y.Data32 y.Offset outer dims.[axis] inner (result :?> float32[])

    /// g − exp(y)·Σ g along the axis (already normalised): log-softmax's pullback of g at output y.
    let logSoftmaxBackward (axis: int) (g: Tensor) (y: Tensor) = freshFilled y (logBackwardInto axis g y)

    /// w·a − v·Σ a·p along runs of `length` entries, `inner` apart, the sum in float64 and each
    /// result rounded once; each run is read whole before it is written, so `result` may alias an input.
    let private diagonalMinusRankOneRuns<'T when 'T :> IFloatingPointIeee754<'T>>
        (a: Tensor) (p: Tensor) (w: Tensor) (v: Tensor) (read: Tensor -> 'T[]) (outer: int) (length: int) (inner: int) (result: 'T[]) =
        let ad, pd, wd, vd = read a, read p, read w, read v
        let ao, po, wo, vo = a.Offset, p.Offset, w.Offset, v.Offset
        for o in 0 .. outer - 1 do
            for i in 0 .. inner - 1 do
                let first = o * length * inner + i
                let mutable total = 0.0
                for r in 0 .. length - 1 do
                    let k = first + r * inner
                    total <- total + Double.CreateTruncating ad.[ao + k] * Double.CreateTruncating pd.[po + k]
                for r in 0 .. length - 1 do
                    let k = first + r * inner
                    let scaled = Double.CreateTruncating wd.[wo + k] * Double.CreateTruncating ad.[ao + k]
                    result.[k] <- 'T.CreateTruncating(scaled - Double.CreateTruncating vd.[vo + k] * total)

    /// w·a − v·Σ a·p along `axis` into `result`, a dense array of their (common) shape and dtype.
    let internal diagonalMinusRankOneInto (axis: int) (a: Tensor) (p: Tensor) (w: Tensor) (v: Tensor) (result: Array) : unit =
        let a, p, w, v = dense a, dense p, dense w, dense v
        let dims = a.Dims
        let struct (outer, inner) = aroundAxis dims axis
        match a.DType with
        | DType.Float64 -> diagonalMinusRankOneRuns<float> a p w v (fun t -> t.Data64) outer dims.[axis] inner (result :?> float[])
        | DType.Float32 -> diagonalMinusRankOneRuns<float32> a p w v (fun t -> t.Data32) outer dims.[axis] inner (result :?> float32[])

    /// w·a − v·Σ a·p along the axis (already normalised).
    let diagonalMinusRankOne (axis: int) (a: Tensor) (p: Tensor) (w: Tensor) (v: Tensor) =
        freshFilled a (diagonalMinusRankOneInto axis a p w v)
