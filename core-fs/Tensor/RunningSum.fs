/// The running sum along one axis, the kernel of the CumSum primitive: each output is the sum of
/// the entries before it and itself along the axis (from the last entry with `reverse`). The sum
/// starts from 0 and is kept in float64 in either dtype, as torch's CPU kernel keeps it in its
/// accumulation type, and each output is rounded once: so −0 comes out +0, and a NaN or an
/// infinity carries on to the end of its run, as in torch.
namespace FunctionalDiff.Core

open System
open System.Numerics
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Runtime.Intrinsics
open KernelSupport

/// Running sums along one axis, writing into a dense buffer of the input's shape.
module RunningSum =

    /// Run `run` of `length` consecutive entries alone, entry by entry: the runs left after the
    /// groups of four below.
    let private single<'T when 'T :> IFloatingPointIeee754<'T>>
        (reverse: bool) (data: 'T[]) (offset: int) (length: int) (result: 'T[]) (run: int) =
        let mutable sum = 0.0
        for step in 0 .. length - 1 do
            let k = run * length + (if reverse then length - 1 - step else step)
            sum <- sum + Double.CreateTruncating data.[offset + k]
            result.[k] <- 'T.CreateTruncating sum

    /// Runs of `length` entries, consecutive (inner = 1), four runs at a time: lane j of one float64
    /// vector carries run o + j's sum, so four independent chains of additions overlap instead of
    /// each addition waiting on the one before, and each lane still adds its run's entries in order
    /// (the bits of `single`). The entries are read and written lane by lane without
    /// bounds checks: the callers' runs lie inside both arrays.
    let private consecutive32 (reverse: bool) (data: float32[]) (offset: int) (outer: int) (length: int) (result: float32[]) =
        let source = &MemoryMarshal.GetArrayDataReference data
        let target = &MemoryMarshal.GetArrayDataReference result
        let mutable o = 0
        while o + 4 <= outer do
            let mutable sums = Vector256<float>.Zero
            for step in 0 .. length - 1 do
                let k = o * length + (if reverse then length - 1 - step else step)
                let entries =
                    Vector128.Create(Unsafe.Add(&source, offset + k), Unsafe.Add(&source, offset + k + length),
                                     Unsafe.Add(&source, offset + k + 2 * length), Unsafe.Add(&source, offset + k + 3 * length))
                // widened exactly, added in float64, and each sum rounded once to float32
                sums <- sums + Vector256.WidenLower(entries.ToVector256Unsafe())
                let rounded = Vector256.Narrow(sums, sums)
                Unsafe.Add(&target, k) <- rounded.GetElement 0
                Unsafe.Add(&target, k + length) <- rounded.GetElement 1
                Unsafe.Add(&target, k + 2 * length) <- rounded.GetElement 2
                Unsafe.Add(&target, k + 3 * length) <- rounded.GetElement 3
            o <- o + 4
        for run in o .. outer - 1 do
            single reverse data offset length result run

    /// consecutive32 for float64 entries.
    let private consecutive64 (reverse: bool) (data: float[]) (offset: int) (outer: int) (length: int) (result: float[]) =
        let source = &MemoryMarshal.GetArrayDataReference data
        let target = &MemoryMarshal.GetArrayDataReference result
        let mutable o = 0
        while o + 4 <= outer do
            let mutable sums = Vector256<float>.Zero
            for step in 0 .. length - 1 do
                let k = o * length + (if reverse then length - 1 - step else step)
                sums <- sums + Vector256.Create(Unsafe.Add(&source, offset + k), Unsafe.Add(&source, offset + k + length),
                                                Unsafe.Add(&source, offset + k + 2 * length), Unsafe.Add(&source, offset + k + 3 * length))
                Unsafe.Add(&target, k) <- sums.GetElement 0
                Unsafe.Add(&target, k + length) <- sums.GetElement 1
                Unsafe.Add(&target, k + 2 * length) <- sums.GetElement 2
                Unsafe.Add(&target, k + 3 * length) <- sums.GetElement 3
            o <- o + 4
        for run in o .. outer - 1 do
            single reverse data offset length result run

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
        let struct (outer, inner) = aroundAxis dims axis
        let length = dims.[axis]
        if t.Numel > 0 then
            match t.DType with
            | DType.Float64 when inner = 1 -> consecutive64 reverse source.Data64 source.Offset outer length (result :?> float[])
            | DType.Float32 when inner = 1 -> consecutive32 reverse source.Data32 source.Offset outer length (result :?> float32[])
            | DType.Float64 -> strided<float> reverse source.Data64 source.Offset outer length inner (result :?> float[])
            | DType.Float32 -> strided<float32> reverse source.Data32 source.Offset outer length inner (result :?> float32[])

    /// torch.cumsum of t along `axis` (already normalised), or from the last entry with `reverse`.
    let cumsum (axis: int) (reverse: bool) (t: Tensor) : Tensor = freshFilled t (into axis reverse t)
