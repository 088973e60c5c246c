/// Softmax and log-softmax along one axis: the kernels of the two primitives. Each run along the
/// axis is shifted by its maximum before exp, so nothing overflows, and is computed in float64 in
/// either dtype, so a float32 result is the float64 one rounded once.
namespace FunctionalDiff.Core

open System
open System.Numerics
open KernelSupport

/// Softmax and log-softmax kernels, writing into a dense buffer of the input's shape.
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

    /// Softmax (or log-softmax) of t along `axis` into `result`, a dense array of t's shape.
    let internal into (logarithm: bool) (axis: int) (t: Tensor) (result: Array) : unit =
        let source = dense t
        let dims = t.Dims
        // counted in loops, not over slices of dims: a plan's Write step must not allocate
        let mutable outer, inner = 1, 1
        for a in 0 .. dims.Length - 1 do
            if a < axis then outer <- outer * dims.[a]
            elif a > axis then inner <- inner * dims.[a]
        match t.DType with
        | DType.Float64 -> runsInto<float> logarithm source.Data64 source.Offset outer dims.[axis] inner (result :?> float[])
        | DType.Float32 -> runsInto<float32> logarithm source.Data32 source.Offset outer dims.[axis] inner (result :?> float32[])

    let private fresh (logarithm: bool) (axis: int) (t: Tensor) : Tensor =
        match t.DType with
        | DType.Float64 ->
            let data = RecycledArrays.Take<float> t.Numel
            into logarithm axis t data
            Tensor.OwnDense(Array.copy t.Dims, data)
        | DType.Float32 ->
            let data = RecycledArrays.Take<float32> t.Numel
            into logarithm axis t data
            Tensor.OwnDense(Array.copy t.Dims, data)

    /// exp(x - max) / Σ exp(x - max) along the axis (already normalised).
    let softmax (axis: int) (t: Tensor) = fresh false axis t

    /// (x - max) - log Σ exp(x - max) along the axis (already normalised).
    let logSoftmax (axis: int) (t: Tensor) = fresh true axis t
