/// The pooling layers beyond the 2-D ones of Convolution: 1-D pooling (2-D over a height of 1), adaptive max pooling,
/// 3-D pooling (adaptive too), power-average (LP) pooling and Softmax2d, with torch's argument conventions, output shapes and gradient indices. Max pooling reads each
/// window at torch's index (Convolution.windowMax), so every derivative goes where torch's index-based backward sends it.
namespace FunctionalDiff.Core

/// Pooling layers named after torch.nn.functional's.
[<RequireQualifiedAccess>]
module Pooling =

    let private fmt = Shape.format

    /// Checks one axis' pooling arguments as torch does (stride 0 means the kernel size), naming the public method.
    let private checkAxis (op: string) (kernel: int) (stride: int) (padding: int) (dilation: int) =
        if kernel < 1 then Shape.fail op (sprintf "kernelSize %d must be at least 1" kernel)
        if stride < 0 then Shape.fail op (sprintf "stride %d must be positive" stride)
        if padding < 0 then Shape.fail op (sprintf "padding %d must be at least 0" padding)
        if dilation < 1 then Shape.fail op (sprintf "dilation %d must be at least 1" dilation)
        if 2 * padding > kernel then Shape.fail op (sprintf "padding %d must be at most half of kernelSize %d" padding kernel)

    /// A 1-D layer as its 2-D form over a height of 1: [N, C, L] (or [C, L]) to [N, C, 1, L] and back.
    let private overHeightOfOne (op: string) (pool2d: Expr -> Expr) (input: Expr) =
        let body (x: Expr) =
            let y = pool2d (Expr.reshape [| x.Dims.[0]; x.Dims.[1]; 1; x.Dims.[2] |] x)
            Expr.reshape [| y.Dims.[0]; y.Dims.[1]; y.Dims.[3] |] y
        Convolution.batched op 3 "[N, C, L]" body input

    /// Fails when an axis of `size` has no pooling window.
    let private nonEmpty (op: string) (x: Expr) (size: int) (kernel: int) (stride: int) (padding: int) (dilation: int) (ceilMode: bool) =
        if Convolution.poolWindows size kernel stride padding dilation ceilMode < 1 then
            Shape.fail op (sprintf "input %s with kernelSize %d, stride %d, padding %d and dilation %d gives an empty output"
                               (fmt x.Dims) kernel stride padding dilation)

    /// torch's unpooled size along one axis: (size − 1)·stride − 2·padding + kernel, or the one given, which torch
    /// accepts only strictly within a stride of it.
    let private unpooledSize (op: string) (size: int) (kernel: int) (stride: int) (padding: int) (given: int option) =
        let natural = (size - 1) * stride - 2 * padding + kernel
        match given with
        | None -> natural
        | Some wanted ->
            if wanted <= natural - stride || wanted >= natural + stride then
                Shape.fail op (sprintf "outputSize %d must lie strictly between %d and %d (the default %d, give or take the stride %d)"
                                   wanted (natural - stride) (natural + stride) natural stride)
            wanted

    /// maxUnpool2d with `op` naming the public method in errors.
    let private unpoolNamed (op: string) ((kh, kw): int * int) (stride: int * int) ((ph, pw): int * int) (outputSize: (int * int) option)
                            (input: Expr) (indices: Expr) =
        let sh, sw = Convolution.poolStride (kh, kw) stride
        checkAxis op kh sh ph 1
        checkAxis op kw sw pw 1
        if not (Ir.sameDims input.Dims indices.Dims) then
            Shape.fail op (sprintf "indices %s must have input's shape %s" (fmt indices.Dims) (fmt input.Dims))
        if input.Rank <> 3 && input.Rank <> 4 then
            Shape.fail op (sprintf "input %s must be [N, C, H, W] or unbatched without N" (fmt input.Dims))
        let h, w = input.Dims.[input.Rank - 2], input.Dims.[input.Rank - 1]
        let ho = unpooledSize op h kh sh ph (outputSize |> Option.map fst)
        let wo = unpooledSize op w kw sw pw (outputSize |> Option.map snd)
        let planes = input.Dims.[.. input.Rank - 3]
        let flat (x: Expr) = Expr.reshape (Array.append planes [| h * w |]) x
        let target = Array.append planes [| ho * wo |]
        let axis = planes.Length
        let positions = flat (Expr.cast input.DType indices)
        let summed = Expr.scatterAdd axis positions (flat input) target
        // how many entries each position received, a constant of the derivative (it depends on the indices only)
        let count = Expr.scatterAdd axis positions (Expr.ones input.DType [| yield! planes; h * w |]) target
        Expr.reshape (Array.append planes [| ho; wo |]) (summed / Expr.maximum count (Expr.scalar input.DType 1.0))

    /// torch.nn.functional.max_pool1d over [N, C, L] (or [C, L]): padding −∞, stride 0 meaning the kernel size, and
    /// ceilMode torch's ceil_mode; the cotangent of a window goes to its first largest entry, or its last NaN.
    let maxPool1d (kernel: int) (stride: int) (padding: int) (dilation: int) (ceilMode: bool) (input: Expr) : Expr =
        let op = "MaxPool1d"
        checkAxis op kernel stride padding dilation
        let stride = if stride = 0 then kernel else stride
        if input.Rank = 2 || input.Rank = 3 then nonEmpty op input input.Dims.[input.Rank - 1] kernel stride padding dilation ceilMode
        overHeightOfOne op (Convolution.maxPool2dNamed op ceilMode (1, kernel) (1, stride) (0, padding) (1, dilation)) input

    /// torch.nn.functional.max_pool1d with return_indices=True: (values, indices), each window's winner (torch's index,
    /// see maxPool1d) as its position along L, an integer in the input's dtype.
    let maxPool1dWithIndices (kernel: int) (stride: int) (padding: int) (dilation: int) (ceilMode: bool) (input: Expr) : Expr * Expr =
        let op = "MaxPool1dWithIndices"
        checkAxis op kernel stride padding dilation
        let stride = if stride = 0 then kernel else stride
        if input.Rank = 2 || input.Rank = 3 then nonEmpty op input input.Dims.[input.Rank - 1] kernel stride padding dilation ceilMode
        let parts (x: Expr) = Convolution.maxPool2dIndicesNamed op ceilMode (1, kernel) (1, stride) (0, padding) (1, dilation) x
        overHeightOfOne op (parts >> fst) input, overHeightOfOne op (parts >> snd) input

    /// torch.nn.functional.max_pool2d with return_indices=True over [N, C, H, W] (or [C, H, W]): (values, indices), each
    /// window's winner (torch's index: the first largest entry in row-major order inside the input, or the last NaN) as
    /// its flat position h·W + w in its (batch, channel) plane, an integer in the input's dtype; a stride of (0, 0) means
    /// the kernel size. The values are maxPool2dWith's, with its derivatives; the indices have none.
    let maxPool2dWithIndices (ceilMode: bool) (kernelSize: int * int) (stride: int * int) (padding: int * int) (dilation: int * int)
                             (input: Expr) : Expr * Expr =
        Convolution.maxPool2dIndicesNamed "MaxPool2dWithIndices" ceilMode kernelSize stride padding dilation input

    /// torch.nn.functional.max_unpool2d: input [N, C, H, W] (or [C, H, W]) put at `indices` (flat positions h·W + w in
    /// each output plane, input's shape, as maxPool2dWithIndices gives them) of zeros [N, C, Ho, Wo], Ho = (H − 1)·sh −
    /// 2·ph + kh unless outputSize gives it (within a stride, as torch). A stride of (0, 0) means the kernel size. A
    /// position named twice (overlapping windows that chose one entry) gets the mean of its values, which is torch's
    /// value when they are equal, as pooling's are; its cotangent is then shared among them, where torch's gather sends
    /// each the whole. Evaluating it raises for an index outside the plane.
    let maxUnpool2d (kernelSize: int * int) (stride: int * int) (padding: int * int) (outputSize: (int * int) option)
                    (input: Expr) (indices: Expr) : Expr =
        unpoolNamed "MaxUnpool2d" kernelSize stride padding outputSize input indices

    /// torch.nn.functional.max_unpool1d over [N, C, L] (or [C, L]), as maxUnpool2d over a height of 1; the indices are
    /// positions along the output's length.
    let maxUnpool1d (kernel: int) (stride: int) (padding: int) (outputSize: int option) (input: Expr) (indices: Expr) : Expr =
        let op = "MaxUnpool1d"
        if input.Rank <> 2 && input.Rank <> 3 then
            Shape.fail op (sprintf "input %s must be [N, C, L] or unbatched without N" (fmt input.Dims))
        let raise (x: Expr) = Expr.reshape (Array.insertAt (x.Rank - 1) 1 x.Dims) x
        let y = unpoolNamed op (1, kernel) (1, stride) (0, padding) (outputSize |> Option.map (fun l -> 1, l)) (raise input) (raise indices)
        Expr.reshape (Array.removeAt (y.Rank - 2) y.Dims) y

    /// torch.nn.functional.avg_pool1d over [N, C, L] (or [C, L]): stride 0 meaning the kernel size, ceilMode and
    /// countIncludePad as torch's ceil_mode and count_include_pad.
    let private averagePool1d (op: string) (kernel: int) (stride: int) (padding: int) (ceilMode: bool) (countIncludePad: bool) (input: Expr) : Expr =
        checkAxis op kernel stride padding 1
        let stride = if stride = 0 then kernel else stride
        if input.Rank = 2 || input.Rank = 3 then nonEmpty op input input.Dims.[input.Rank - 1] kernel stride padding 1 ceilMode
        overHeightOfOne op (Convolution.avgPool2dNamed op ceilMode countIncludePad 0 (1, kernel) (1, stride) (0, padding)) input

    /// torch.nn.functional.avg_pool1d over [N, C, L] (or [C, L]); a stride of 0 means the kernel size.
    let avgPool1d (kernel: int) (stride: int) (padding: int) (ceilMode: bool) (countIncludePad: bool) (input: Expr) : Expr =
        averagePool1d "AvgPool1d" kernel stride padding ceilMode countIncludePad input

    /// torch.nn.functional.adaptive_avg_pool1d over [N, C, L] (or [C, L]): output i averages entries ⌊i·L/Lo⌋ to
    /// ⌈(i + 1)·L/Lo⌉ − 1.
    let adaptiveAvgPool1d (outputSize: int) (input: Expr) : Expr =
        let op = "AdaptiveAvgPool1d"
        if outputSize < 1 then Shape.fail op (sprintf "outputSize %d must be at least 1" outputSize)
        overHeightOfOne op (Convolution.adaptiveAvgPool2d (1, outputSize)) input

    /// Adaptive max pooling along one axis: the windows ⌊i·S/O⌋ to ⌈(i + 1)·S/O⌉ − 1 gathered as [.., O, k, ..] (k the
    /// longest window; a shorter one repeats its last entry, which changes neither its largest entry nor the entry
    /// torch's index names), then each window's largest entry at torch's index. Pooling the axes one after the other
    /// picks torch's entry of the rectangle: the first largest in row-major order, or the last NaN.
    let private adaptiveMaxAlong (op: string) (axis: int) (outputs: int) (x: Expr) =
        let size = x.Dims.[axis]
        if size = 0 then Shape.fail op (sprintf "input %s has an empty spatial axis" (fmt x.Dims))
        let bounds = Array.init outputs (fun i -> i * size / outputs, ((i + 1) * size + outputs - 1) / outputs)
        let longest = bounds |> Array.map (fun (a, b) -> b - a) |> Array.max
        let index = Array.init (outputs * longest) (fun k -> let a, b = bounds.[k / longest] in float (min (a + k % longest) (b - 1)))
        let gathered = Indexing.indexSelect axis (Expr.constant (Tensor.FromArray(index, [| index.Length |]))) x
        let windows = Expr.reshape (Array.concat [ x.Dims.[.. axis - 1]; [| outputs; longest |]; x.Dims.[axis + 1 ..] ]) gathered
        Convolution.windowMax op (axis + 1) None windows

    /// torch.nn.functional.adaptive_max_pool1d over [N, C, L] (or [C, L]) to outputSize entries.
    let adaptiveMaxPool1d (outputSize: int) (input: Expr) : Expr =
        let op = "AdaptiveMaxPool1d"
        if outputSize < 1 then Shape.fail op (sprintf "outputSize %d must be at least 1" outputSize)
        Convolution.batched op 3 "[N, C, L]" (adaptiveMaxAlong op 2 outputSize) input

    /// torch.nn.functional.adaptive_max_pool2d over [N, C, H, W] (or [C, H, W]) to (Ho, Wo): output (i, j) is the
    /// largest entry of rows ⌊i·H/Ho⌋ to ⌈(i + 1)·H/Ho⌉ − 1 and the columns likewise, its cotangent at torch's index.
    let adaptiveMaxPool2d ((oh, ow): int * int) (input: Expr) : Expr =
        let op = "AdaptiveMaxPool2d"
        if oh < 1 || ow < 1 then Shape.fail op (sprintf "outputSize (%d, %d) must be at least 1" oh ow)
        // columns first, then rows: each row's first largest (last NaN), then the first row holding the largest
        Convolution.batched op 4 "[N, C, H, W]" (adaptiveMaxAlong op 3 ow >> adaptiveMaxAlong op 2 oh) input

    /// The three spatial axes' arguments of a 3-D pooling layer, checked, with torch's default stride.
    let private axes3 (op: string) (kernel: int * int * int) (stride: int * int * int) (padding: int * int * int) (dilation: int * int * int) =
        let triple (a, b, c) = [| a; b; c |]
        let k, s, p, d = triple kernel, triple stride, triple padding, triple dilation
        for a in 0 .. 2 do checkAxis op k.[a] s.[a] p.[a] d.[a]
        k, Array.init 3 (fun a -> if s.[a] = 0 then k.[a] else s.[a]), p, d

    /// The windows of x [N, C, D, H, W] as [N, C, kd·kh·kw, Do, Ho, Wo] (tap (a, b, c) at a·kh·kw + b·kw + c), from
    /// one strided slice of the padded input per tap; the padding is zeros or −∞, and ceilMode's partial last windows
    /// read past it. With the output sizes.
    let private windows3 (op: string) (k: int[]) (s: int[]) (p: int[]) (d: int[]) (fill: float) (ceilMode: bool) (x: Expr) =
        let size = x.Dims.[2..]
        let outputs = Array.init 3 (fun a -> Convolution.poolWindows size.[a] k.[a] s.[a] p.[a] d.[a] ceilMode)
        if Array.exists (fun o -> o < 1) outputs then
            Shape.fail op (sprintf "input %s with kernelSize (%d, %d, %d), stride (%d, %d, %d), padding (%d, %d, %d) and dilation (%d, %d, %d) gives an empty output"
                               (fmt x.Dims) k.[0] k.[1] k.[2] s.[0] s.[1] s.[2] p.[0] p.[1] p.[2] d.[0] d.[1] d.[2])
        let extra = Array.init 3 (fun a -> Convolution.ceilExtra size.[a] k.[a] s.[a] p.[a] d.[a] outputs.[a])
        let before = Array.append [| 0; 0 |] p
        let after = Array.append [| 0; 0 |] (Array.map2 (+) p extra)
        let padded =
            if Array.forall ((=) 0) before && Array.forall ((=) 0) after then x
            elif fill = 0.0 then Expr.pad before after x
            else
                // 1 inside the input and 0 in the padding: pick the fill where it is 0
                let inside = Expr.pad before after (Expr.ones x.DType (Array.append [| 1; 1 |] size))
                Expr.where (Expr.eq inside (Expr.scalar x.DType 0.0)) (Expr.scalar x.DType fill) (Expr.pad before after x)
        let n, c = x.Dims.[0], x.Dims.[1]
        let tap (a: int) (b: int) (t: int) =
            let start = [| 0; 0; a * d.[0]; b * d.[1]; t * d.[2] |]
            let stop = Array.init 5 (fun i -> if i < 2 then x.Dims.[i] else start.[i] + s.[i - 2] * (outputs.[i - 2] - 1) + 1)
            Expr.slice start stop [| 1; 1; s.[0]; s.[1]; s.[2] |] padded
        let taps = [ for a in 0 .. k.[0] - 1 do for b in 0 .. k.[1] - 1 do for t in 0 .. k.[2] - 1 -> tap a b t ]
        let stacked = Expr.stack 2 taps
        Expr.reshape [| n; c; k.[0] * k.[1] * k.[2]; outputs.[0]; outputs.[1]; outputs.[2] |] stacked, outputs

    /// torch.nn.functional.max_pool3d over [N, C, D, H, W] (or [C, D, H, W]) with (depth, height, width) triples
    /// (a stride of 0 along an axis meaning its kernel size); padding −∞; ceilMode torch's ceil_mode. The cotangent of a
    /// window goes to torch's index: its first largest entry inside the input (depth, row, column order), or its last NaN.
    let maxPool3d (kernel: int * int * int) (stride: int * int * int) (padding: int * int * int) (dilation: int * int * int)
                  (ceilMode: bool) (input: Expr) : Expr =
        let op = "MaxPool3d"
        let k, s, p, d = axes3 op kernel stride padding dilation
        let body (x: Expr) =
            let w, outputs = windows3 op k s p d -infinity ceilMode x
            let firstInside (a: int) (o: int) = Convolution.firstTapInside x.Dims.[2 + a] k.[a] s.[a] p.[a] d.[a] o
            let first =
                Array.init (outputs.[0] * outputs.[1] * outputs.[2]) (fun o ->
                    let i, j, l = o / (outputs.[1] * outputs.[2]), (o / outputs.[2]) % outputs.[1], o % outputs.[2]
                    float ((firstInside 0 i * k.[1] + firstInside 1 j) * k.[2] + firstInside 2 l))
            let firstInBounds =
                if Array.forall ((=) 0) p then None
                else Some (Expr.constant (Tensor.FromArray(first, Array.append [| 1; 1; 1 |] outputs)) |> Expr.cast x.DType)
            Convolution.windowMax op 2 firstInBounds w
        Convolution.batched op 5 "[N, C, D, H, W]" body input

    /// torch.nn.functional.avg_pool3d over [N, C, D, H, W] (or [C, D, H, W]) with (depth, height, width) triples (a
    /// stride of 0 meaning the kernel size), ceilMode, countIncludePad and divisorOverride (0 for none) as torch's:
    /// each window's sum over the zero-padded input divided by torch's divisor for that window.
    let avgPool3d (kernel: int * int * int) (stride: int * int * int) (padding: int * int * int) (ceilMode: bool)
                  (countIncludePad: bool) (divisorOverride: int) (input: Expr) : Expr =
        let op = "AvgPool3d"
        let k, s, p, d = axes3 op kernel stride padding (1, 1, 1)
        if divisorOverride < 0 then Shape.fail op (sprintf "divisorOverride %d must be positive (0 for none)" divisorOverride)
        let body (x: Expr) =
            let w, outputs = windows3 op k s p d 0.0 ceilMode x
            let extent (a: int) (o: int) = Convolution.poolExtent countIncludePad x.Dims.[2 + a] k.[a] s.[a] p.[a] o
            let divisors =
                Array.init (outputs.[0] * outputs.[1] * outputs.[2]) (fun o ->
                    let i, j, l = o / (outputs.[1] * outputs.[2]), (o / outputs.[2]) % outputs.[1], o % outputs.[2]
                    if divisorOverride > 0 then float divisorOverride else float (extent 0 i * extent 1 j * extent 2 l))
            if divisors |> Array.forall (fun v -> v = float (k.[0] * k.[1] * k.[2])) then Expr.meanAxes [| 2 |] false w
            else
                Expr.sumAxes [| 2 |] false w / (Expr.constant (Tensor.FromArray(divisors, Array.append [| 1; 1 |] outputs)) |> Expr.cast x.DType)
        Convolution.batched op 5 "[N, C, D, H, W]" body input

    /// torch.nn.functional.adaptive_avg_pool3d over [N, C, D, H, W] (or [C, D, H, W]) to (Do, Ho, Wo): each output
    /// averages the box of rows ⌊i·S/O⌋ to ⌈(i + 1)·S/O⌉ − 1 along each axis, pooled one axis at a time.
    let adaptiveAvgPool3d ((od, oh, ow): int * int * int) (input: Expr) : Expr =
        let op = "AdaptiveAvgPool3d"
        if od < 1 || oh < 1 || ow < 1 then Shape.fail op (sprintf "outputSize (%d, %d, %d) must be at least 1" od oh ow)
        let pool = Convolution.adaptiveMeanAlong op
        Convolution.batched op 5 "[N, C, D, H, W]" (pool 2 od >> pool 3 oh >> pool 4 ow) input

    /// torch.nn.functional.adaptive_max_pool3d over [N, C, D, H, W] (or [C, D, H, W]) to (Do, Ho, Wo): each output is
    /// the largest entry of its box, its cotangent at torch's index (the first largest in row-major order, as
    /// adaptiveMaxPool2d pools the axes from the last).
    let adaptiveMaxPool3d ((od, oh, ow): int * int * int) (input: Expr) : Expr =
        let op = "AdaptiveMaxPool3d"
        if od < 1 || oh < 1 || ow < 1 then Shape.fail op (sprintf "outputSize (%d, %d, %d) must be at least 1" od oh ow)
        Convolution.batched op 5 "[N, C, D, H, W]" (adaptiveMaxAlong op 4 ow >> adaptiveMaxAlong op 3 oh >> adaptiveMaxAlong op 2 od) input

    /// torch's power-average pooling from the windows' mean of x^p (`mean`) over `count` entries: (sign·relu(|m|)·count)^(1/p),
    /// torch's own composition, so the derivatives are the same ops' (0 where a window's mean is 0).
    let private fromMeanOfPowers (normType: float) (count: int) (mean: Expr) =
        let sum = Expr.sign mean * Expr.relu (Expr.abs mean) * float count
        Expr.pow sum (Expr.scalar mean.DType (1.0 / normType))

    let private checkNormType (op: string) (normType: float) =
        if normType = 0.0 || System.Double.IsNaN normType then
            raise (System.ArgumentOutOfRangeException("normType", normType, sprintf "%s: normType %g must be a nonzero number" op normType))

    /// torch.nn.functional.lp_pool1d over [N, C, L] (or [C, L]): (Σ x^p over each window)^(1/p), windows of `kernel`
    /// entries `stride` apart (0: the kernel size), no padding; ceilMode keeps a last partial window.
    let lpPool1d (normType: float) (kernel: int) (stride: int) (ceilMode: bool) (input: Expr) : Expr =
        let op = "LpPool1d"
        checkNormType op normType
        let powers = Expr.pow input (Expr.scalar input.DType normType)
        fromMeanOfPowers normType kernel (averagePool1d op kernel stride 0 ceilMode true powers)

    /// torch.nn.functional.lp_pool2d over [N, C, H, W] (or [C, H, W]) with (height, width) kernel and stride (0 meaning
    /// the kernel size), as lpPool1d over rectangles.
    let lpPool2d (normType: float) ((kh, kw): int * int) ((sh, sw): int * int) (ceilMode: bool) (input: Expr) : Expr =
        let op = "LpPool2d"
        checkNormType op normType
        let powers = Expr.pow input (Expr.scalar input.DType normType)
        let stride = (if sh = 0 then kh else sh), (if sw = 0 then kw else sw)
        fromMeanOfPowers normType (kh * kw) (Convolution.avgPool2dNamed op ceilMode true 0 (kh, kw) stride (0, 0) powers)

    /// torch.nn.Softmax2d: softmax over the channels of [N, C, H, W] or [C, H, W] (axis −3).
    let softmax2d (input: Expr) : Expr =
        if input.Rank <> 3 && input.Rank <> 4 then
            Shape.fail "Softmax2d" (sprintf "input %s must be [N, C, H, W] or [C, H, W]" (fmt input.Dims))
        Expr.softmax -3 input
