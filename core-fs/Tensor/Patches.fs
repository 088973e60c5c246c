/// The patch kernels behind convolution and pooling: unfold (im2col) copies every sliding window
/// of [N, C, H, W] into a column of [N, C·kh·kw, Ho·Wo]; fold (col2im) is its adjoint, adding each
/// column back into the window it came from. Each (n, c) plane is independent, so the planes are
/// the unit of parallel work.
namespace FunctionalDiff.Core

open System
open System.Runtime.Intrinsics
open KernelSupport

/// The geometry of sliding windows over the last two axes: kernel, stride, zero padding and dilation
/// as (height, width) arrays, and the output size they give for an input of `height` × `width`.
[<RequireQualifiedAccess>]
module Windows =

    /// The number of windows along one axis (torch's formula), or 0 when none fits.
    let count (size: int) (kernel: int) (stride: int) (padding: int) (dilation: int) =
        let span = size + 2 * padding - dilation * (kernel - 1) - 1
        if span < 0 then 0 else span / stride + 1

    /// The window counts (Ho, Wo) for an input plane of height × width.
    let output (height: int) (width: int) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) =
        count height kernel.[0] stride.[0] padding.[0] dilation.[0], count width kernel.[1] stride.[1] padding.[1] dilation.[1]

/// unfold and fold over dense float32 and float64 tensors.
module Patches =

    /// The columns [first, last) of an output row whose input column q·stride + offset lies in [0, width).
    let inline private validRange (outputs: int) (stride: int) (offset: int) (width: int) =
        // q·stride + offset >= 0  and  q·stride + offset < width
        let first = if offset >= 0 then 0 else (-offset + stride - 1) / stride
        let last = if width - offset <= 0 then 0 else min outputs ((width - offset + stride - 1) / stride)
        first, max first last

    /// Runs `body plane` for every (n, c) plane, in parallel when the work is large.
    let private forPlanes (planes: int) (elementsPerPlane: int) (body: int -> unit) =
        if int64 planes * int64 elementsPerPlane < int64 parallelThreshold || planes = 1 then
            for plane in 0 .. planes - 1 do body plane
        else Workers.run planes body

    // The runs of a window row are short (a LeNet layer's are 8 to 12 elements, a 32-pixel
    // image's 31 or 32), so both kernels move them with whole vectors of the widest accelerated
    // width, then narrower ones, then single elements: a library call per run (a span made, its
    // overlap checked) cost more than the few vectors it moves.

    /// result[at .. at + run) <- source[from .. from + run).
    let inline private copyRun<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType> (source: 'T[]) (from: int) (result: 'T[]) (at: int) (run: int) =
        let mutable r = 0
        if Vector512.IsHardwareAccelerated then
            while r + Vector512<'T>.Count <= run do
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(&source.[from + r]), &result.[at + r])
                r <- r + Vector512<'T>.Count
        if Vector256.IsHardwareAccelerated then
            while r + Vector256<'T>.Count <= run do
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(&source.[from + r]), &result.[at + r])
                r <- r + Vector256<'T>.Count
        while r < run do
            result.[at + r] <- source.[from + r]
            r <- r + 1

    /// result[at .. at + run) += source[from .. from + run).
    let inline private addRun<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> Numerics.INumberBase<'T>>
        (source: 'T[]) (from: int) (result: 'T[]) (at: int) (run: int) =
        let mutable r = 0
        if Vector512.IsHardwareAccelerated then
            while r + Vector512<'T>.Count <= run do
                Vector512.StoreUnsafe(Vector512.LoadUnsafe(&result.[at + r]) + Vector512.LoadUnsafe(&source.[from + r]), &result.[at + r])
                r <- r + Vector512<'T>.Count
        if Vector256.IsHardwareAccelerated then
            while r + Vector256<'T>.Count <= run do
                Vector256.StoreUnsafe(Vector256.LoadUnsafe(&result.[at + r]) + Vector256.LoadUnsafe(&source.[from + r]), &result.[at + r])
                r <- r + Vector256<'T>.Count
        while r < run do
            result.[at + r] <- result.[at + r] + source.[from + r]
            r <- r + 1

    let private unfoldTyped<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> Numerics.INumberBase<'T>>
        (source: 'T[]) (sourceOffset: int) (planes: int) (h: int) (w: int)
        (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (ho: int) (wo: int) (result: 'T[]) =
        let kh, kw = kernel.[0], kernel.[1]
        let sh, sw, ph, pw, dh, dw = stride.[0], stride.[1], padding.[0], padding.[1], dilation.[0], dilation.[1]
        let columns = ho * wo
        forPlanes planes (kh * kw * columns) (fun plane ->
            let input = sourceOffset + plane * h * w
            for i in 0 .. kh - 1 do
                for j in 0 .. kw - 1 do
                    let target = (plane * kh * kw + i * kw + j) * columns
                    let columnOffset = j * dw - pw
                    let first, last = validRange wo sw columnOffset w
                    for p in 0 .. ho - 1 do
                        let row = p * sh + i * dh - ph
                        let out = target + p * wo
                        if row < 0 || row >= h then
                            for q in out .. out + wo - 1 do result.[q] <- 'T.Zero
                        else
                            for q in out .. out + first - 1 do result.[q] <- 'T.Zero
                            for q in out + last .. out + wo - 1 do result.[q] <- 'T.Zero
                            let start = input + row * w + first * sw + columnOffset
                            let run = last - first
                            if sw = 1 then copyRun source start result (out + first) run
                            else
                                let mutable at = start
                                for q in out + first .. out + last - 1 do
                                    result.[q] <- source.[at]
                                    at <- at + sw)

    /// Folds planes [firstPlane, firstPlane + planes) of the result, reading the first one's columns
    /// at `sourceOffset`; with `spread` false on this thread only (a caller that already splits
    /// the work over the cores).
    let private foldTyped<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> Numerics.INumberBase<'T>>
        (spread: bool) (firstPlane: int) (source: 'T[]) (sourceOffset: int) (planes: int) (h: int) (w: int)
        (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (ho: int) (wo: int) (result: 'T[]) =
        let kh, kw = kernel.[0], kernel.[1]
        let sh, sw, ph, pw, dh, dw = stride.[0], stride.[1], padding.[0], padding.[1], dilation.[0], dilation.[1]
        let columns = ho * wo
        // Windows that neither overlap nor leave gaps (a pooling layer's, stride = kernel) cover each
        // output element once: it is written as +0 + entry, the one addition into zeros, so a −0 entry
        // gives +0 as everywhere else and as torch's col2im (`fuzz adversarial 43/247`, float32: atan2 of
        // a fold's −0 against a negative x was −π where torch's +0 gives π).
        let tiles = sh = kh && sw = kw && dh = 1 && dw = 1 && ph = 0 && pw = 0 && ho * sh = h && wo * sw = w
        let body (local: int) =
            let plane = firstPlane + local
            let output = plane * h * w
            if not tiles then result.AsSpan(output, h * w).Clear()
            for i in 0 .. kh - 1 do
                for j in 0 .. kw - 1 do
                    let column = sourceOffset + (local * kh * kw + i * kw + j) * columns
                    let columnOffset = j * dw - pw
                    let first, last = validRange wo sw columnOffset w
                    for p in 0 .. ho - 1 do
                        let row = p * sh + i * dh - ph
                        if row >= 0 && row < h then
                            let start = output + row * w + first * sw + columnOffset
                            let input = column + p * wo
                            let run = last - first
                            if tiles then
                                let mutable at = start
                                for q in input + first .. input + last - 1 do
                                    result.[at] <- 'T.Zero + source.[q]
                                    at <- at + sw
                            elif sw = 1 then addRun source (input + first) result start run
                            else
                                let mutable at = start
                                for q in input + first .. input + last - 1 do
                                    result.[at] <- result.[at] + source.[q]
                                    at <- at + sw
        if spread then forPlanes planes (kh * kw * columns) body
        else for local in 0 .. planes - 1 do body local

    /// im2col into `target`, a dense array of the result's size: x [N, C, H, W] to [N, C·kh·kw, Ho·Wo].
    /// Entry (n, c·kh·kw + i·kw + j, p·Wo + q) is x[n, c, p·sh + i·dh − ph, q·sw + j·dw − pw], or 0
    /// where that falls in the padding. Every element of the target is written.
    let unfoldInto (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (x: Tensor) (target: Array) =
        let n, c, h, w = x.Dims.[0], x.Dims.[1], x.Dims.[2], x.Dims.[3]
        let ho, wo = Windows.output h w kernel stride padding dilation
        let x = dense x
        match x.DType with
        | DType.Float64 -> unfoldTyped<float> x.Data64 x.Offset (n * c) h w kernel stride padding dilation ho wo (target :?> float[])
        | DType.Float32 -> unfoldTyped<float32> x.Data32 x.Offset (n * c) h w kernel stride padding dilation ho wo (target :?> float32[])

    /// col2im into `target`, a dense array of the result's size: columns [N, C·kh·kw, Ho·Wo] added into
    /// zeros [N, C, H, W] (outputSize = [H; W]) where unfold reads them from; padding positions are dropped.
    let foldInto (outputSize: int[]) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (columns: Tensor) (target: Array) =
        let n = columns.Dims.[0]
        let c = columns.Dims.[1] / (kernel.[0] * kernel.[1])
        let h, w = outputSize.[0], outputSize.[1]
        let ho, wo = Windows.output h w kernel stride padding dilation
        let columns = dense columns
        match columns.DType with
        | DType.Float64 -> foldTyped<float> true 0 columns.Data64 columns.Offset (n * c) h w kernel stride padding dilation ho wo (target :?> float[])
        | DType.Float32 -> foldTyped<float32> true 0 columns.Data32 columns.Offset (n * c) h w kernel stride padding dilation ho wo (target :?> float32[])

    /// col2im of one image's columns [C·kh·kw, Ho·Wo] (dense in `source` from `sourceOffset`) into
    /// image `image` of `target` [N, C, H, W], on this thread: the per-image half of a product fused
    /// with its fold. Each plane gets the additions of foldInto in the same order, so the same bits.
    let internal foldImageInto (outputSize: int[]) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[])
                               (channels: int) (image: int) (source: Array) (sourceOffset: int) (target: Array) =
        let h, w = outputSize.[0], outputSize.[1]
        let ho, wo = Windows.output h w kernel stride padding dilation
        match source with
        | :? (float[]) as s ->
            foldTyped<float> false (image * channels) s sourceOffset channels h w kernel stride padding dilation ho wo (target :?> float[])
        | _ ->
            foldTyped<float32> false (image * channels) (source :?> float32[]) sourceOffset channels h w kernel stride padding dilation ho wo
                               (target :?> float32[])

    let private fresh (dtype: DType) (count: int) : Array =
        match dtype with
        | DType.Float64 -> RecycledArrays.Take<float> count
        | DType.Float32 -> RecycledArrays.Take<float32> count

    let private own (shape: int[]) (data: Array) =
        match data with
        | :? (float[]) as d -> Tensor.OwnDense(shape, d)
        | _ -> Tensor.OwnDense(shape, data :?> float32[])

    /// im2col into a new tensor (see unfoldInto).
    let unfold (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (x: Tensor) : Tensor =
        let ho, wo = Windows.output x.Dims.[2] x.Dims.[3] kernel stride padding dilation
        let shape = [| x.Dims.[0]; x.Dims.[1] * kernel.[0] * kernel.[1]; ho * wo |]
        let data = fresh x.DType (Shape.numel shape)
        unfoldInto kernel stride padding dilation x data
        own shape data

    /// col2im into a new tensor (see foldInto).
    let fold (outputSize: int[]) (kernel: int[]) (stride: int[]) (padding: int[]) (dilation: int[]) (columns: Tensor) : Tensor =
        let shape = [| columns.Dims.[0]; columns.Dims.[1] / (kernel.[0] * kernel.[1]); outputSize.[0]; outputSize.[1] |]
        let data = fresh columns.DType (Shape.numel shape)
        foldInto outputSize kernel stride padding dilation columns data
        own shape data
