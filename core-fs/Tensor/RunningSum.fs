/// The running sum along one axis, the kernel of the CumSum primitive: each output is the sum of
/// the entries before it and itself along the axis (from the last entry with `reverse`). The sum
/// starts from 0 and is kept in float64 in either dtype, as torch's CPU kernel keeps it in its
/// accumulation type, and each output is rounded once: so −0 comes out +0, and a NaN or an
/// infinity carries on to the end of its run, as in torch.
namespace FunctionalDiff.Core

open System
open System.Numerics
open KernelSupport

/// Running sums along one axis, writing into a dense buffer of the input's shape.
module RunningSum =

    /// Runs of `length` entries, consecutive (inner = 1): four runs at a time, so that four
    /// independent chains of additions overlap instead of each addition waiting on the one before.
    let private consecutive<'T when 'T :> IFloatingPointIeee754<'T>>
        (reverse: bool) (data: 'T[]) (offset: int) (outer: int) (length: int) (result: 'T[]) =
        let inline at (run: int) (step: int) = run * length + (if reverse then length - 1 - step else step)
        let mutable o = 0
        while o + 4 <= outer do
            let mutable s0, s1, s2, s3 = 0.0, 0.0, 0.0, 0.0
            for step in 0 .. length - 1 do
                let k0, k1, k2, k3 = at o step, at (o + 1) step, at (o + 2) step, at (o + 3) step
                s0 <- s0 + Double.CreateTruncating data.[offset + k0]
                s1 <- s1 + Double.CreateTruncating data.[offset + k1]
                s2 <- s2 + Double.CreateTruncating data.[offset + k2]
                s3 <- s3 + Double.CreateTruncating data.[offset + k3]
                result.[k0] <- 'T.CreateTruncating s0
                result.[k1] <- 'T.CreateTruncating s1
                result.[k2] <- 'T.CreateTruncating s2
                result.[k3] <- 'T.CreateTruncating s3
            o <- o + 4
        while o < outer do
            let mutable sum = 0.0
            for step in 0 .. length - 1 do
                let k = at o step
                sum <- sum + Double.CreateTruncating data.[offset + k]
                result.[k] <- 'T.CreateTruncating sum
            o <- o + 1

    /// Runs `inner` entries apart: a row of `inner` sums carried along the axis, one pass per row.
    let private strided<'T when 'T :> IFloatingPointIeee754<'T>>
        (reverse: bool) (data: 'T[]) (offset: int) (outer: int) (length: int) (inner: int) (result: 'T[]) =
        let sums = Buffers.ArrayPool<float>.Shared.Rent inner
        try
            for o in 0 .. outer - 1 do
                Array.Clear(sums, 0, inner)
                for step in 0 .. length - 1 do
                    let row = (o * length + (if reverse then length - 1 - step else step)) * inner
                    for i in 0 .. inner - 1 do
                        let s = sums.[i] + Double.CreateTruncating data.[offset + row + i]
                        sums.[i] <- s
                        result.[row + i] <- 'T.CreateTruncating s
        finally
            Buffers.ArrayPool<float>.Shared.Return sums

    /// The running sum of t along `axis` into `result`, a dense array of t's shape.
    let internal into (axis: int) (reverse: bool) (t: Tensor) (result: Array) : unit =
        let source = dense t
        let dims = t.Dims
        // counted in loops, not over slices of dims: a plan's Write step must not allocate
        let mutable outer, inner = 1, 1
        for a in 0 .. dims.Length - 1 do
            if a < axis then outer <- outer * dims.[a]
            elif a > axis then inner <- inner * dims.[a]
        let length = dims.[axis]
        if t.Numel > 0 then
            match t.DType with
            | DType.Float64 when inner = 1 -> consecutive<float> reverse source.Data64 source.Offset outer length (result :?> float[])
            | DType.Float32 when inner = 1 -> consecutive<float32> reverse source.Data32 source.Offset outer length (result :?> float32[])
            | DType.Float64 -> strided<float> reverse source.Data64 source.Offset outer length inner (result :?> float[])
            | DType.Float32 -> strided<float32> reverse source.Data32 source.Offset outer length inner (result :?> float32[])

    /// torch.cumsum of t along `axis` (already normalised), or from the last entry with `reverse`.
    let cumsum (axis: int) (reverse: bool) (t: Tensor) : Tensor =
        match t.DType with
        | DType.Float64 ->
            let data = RecycledArrays.Take<float> t.Numel
            into axis reverse t data
            Tensor.OwnDense(Array.copy t.Dims, data)
        | DType.Float32 ->
            let data = RecycledArrays.Take<float32> t.Numel
            into axis reverse t data
            Tensor.OwnDense(Array.copy t.Dims, data)
