/// Convolution and pooling over channel-first tensors ([N, C, H, W], [N, C, L] in 1-D), with torch's
/// argument conventions and output shapes. They are composites over the Unfold primitive (im2col):
/// a convolution is one matmul of the weight against the input's windows, and a pooling reduces
/// each window. Unfold's rule is Fold (col2im) and Fold's is Unfold, so with the rules of matmul,
/// reshape and where every derivative is again made of these and nests to any order.
/// A transposed convolution is its adjoint: the input times the weight, added into place by Fold.
namespace FunctionalDiff.Core

/// Convolution and pooling layers, named after torch.nn.functional's.
[<RequireQualifiedAccess>]
module Convolution =

    let private fmt = Shape.format

    /// Checks that both entries of a (height, width) pair are at least `least`.
    let private atLeast (op: string) (parameter: string) (least: int) ((h, w): int * int) =
        if h < least || w < least then
            Shape.fail op (sprintf "%s (%d, %d) must be at least %d" parameter h w least)

    /// The number of windows along an axis of `size` (torch's formula); 0 when none fits.
    let private windows (size: int) (kernel: int) (stride: int) (padding: int) (dilation: int) =
        let span = size + 2 * padding - dilation * (kernel - 1) - 1
        if span < 0 then 0 else span / stride + 1

    /// The windows of x [N, C, H, W] under a kernel (kh, kw) as columns [N, C·kh·kw, Ho·Wo] (Expr.unfold),
    /// with (Ho, Wo). Column p·Wo + q holds, at row c·kh·kw + i·kw + j, the padded input at row
    /// p·sh + i·dh and column q·sw + j·dw. The padding is zeros, or -inf for max pooling (torch's
    /// implicit padding never wins a window).
    /// The number of pooling windows along an axis (torch's pooling_output_shape): with ceilMode the last,
    /// partial window counts too, unless it would start in the right padding.
    let internal poolWindows (size: int) (kernel: int) (stride: int) (padding: int) (dilation: int) (ceilMode: bool) =
        let span = size + 2 * padding - dilation * (kernel - 1) - 1
        if span < 0 then 0
        elif not ceilMode then span / stride + 1
        else
            let count = (span + stride - 1) / stride + 1
            if (count - 1) * stride >= size + padding then count - 1 else count

    /// The padding past the end that ceil mode's partial last window reads, beyond the symmetric padding.
    let internal ceilExtra (size: int) (kernel: int) (stride: int) (padding: int) (dilation: int) (count: int) =
        max 0 ((count - 1) * stride + dilation * (kernel - 1) + 1 - (size + 2 * padding))

    /// The windows of x [N, C, H, W] under a kernel (kh, kw) as columns [N, C·kh·kw, Ho·Wo] (Expr.unfold),
    /// with (Ho, Wo). Column p·Wo + q holds, at row c·kh·kw + i·kw + j, the padded input at row
    /// p·sh + i·dh and column q·sw + j·dw. The padding is zeros, or -inf for max pooling (torch's
    /// implicit padding never wins a window). With ceilMode a partial last window (torch's ceil_mode)
    /// reads that padding past the end too.
    let private columnsWith (op: string) ((kh, kw): int * int) ((sh, sw): int * int) ((ph, pw): int * int)
                            ((dh, dw): int * int) (negativeInfinityPadding: bool) (ceilMode: bool) (x: Expr) =
        let h, w = x.Dims.[2], x.Dims.[3]
        let ho, wo = poolWindows h kh sh ph dh ceilMode, poolWindows w kw sw pw dw ceilMode
        if ho < 1 || wo < 1 then
            Shape.fail op (sprintf "input %s with kernel (%d, %d), stride (%d, %d), padding (%d, %d) and dilation (%d, %d) gives an empty output (%d, %d)"
                               (fmt x.Dims) kh kw sh sw ph pw dh dw ho wo)
        let eh, ew = ceilExtra h kh sh ph dh ho, ceilExtra w kw sw pw dw wo
        let unfold (padding: int[]) x = Expr.unfold [| kh; kw |] [| sh; sw |] padding [| dh; dw |] x
        let result =
            if negativeInfinityPadding && (ph > 0 || pw > 0 || eh > 0 || ew > 0) then
                // 1 inside the input and 0 in the padding: pick -inf where it is 0
                let before, after = [| 0; 0; ph; pw |], [| 0; 0; ph + eh; pw + ew |]
                let inside = Expr.pad before after (Expr.ones x.DType [| 1; 1; h; w |])
                let outside = Expr.eq inside (Expr.scalar x.DType 0.0)
                let padded = Expr.where outside (Expr.scalar x.DType System.Double.NegativeInfinity) (Expr.pad before after x)
                unfold [| 0; 0 |] padded
            elif eh > 0 || ew > 0 then unfold [| ph; pw |] (Expr.pad [| 0; 0; 0; 0 |] [| 0; 0; eh; ew |] x)
            else unfold [| ph; pw |] x
        result, ho, wo

    /// The windows of a convolution (floor mode), see columnsWith.
    let private columns op kernel stride padding dilation negativeInfinityPadding x =
        columnsWith op kernel stride padding dilation negativeInfinityPadding false x

    /// The windows as [N, C, kh·kw, Ho, Wo], for pooling over the third axis.
    let private patches (op: string) (kernel: int * int) stride padding dilation negativeInfinityPadding ceilMode (x: Expr) =
        let cols, ho, wo = columnsWith op kernel stride padding dilation negativeInfinityPadding ceilMode x
        Expr.reshape [| x.Dims.[0]; x.Dims.[1]; fst kernel * snd kernel; ho; wo |] cols

    /// Runs `body` on a batched input: an unbatched one (rank `rank - 1`) gets a batch of one, as torch
    /// accepts; any other rank is an error naming the expected layout.
    let internal batched (op: string) (rank: int) (layout: string) (body: Expr -> Expr) (x: Expr) =
        if x.Rank = rank then body x
        elif x.Rank = rank - 1 then
            let y = body (Expr.reshape (Array.insertAt 0 1 x.Dims) x)
            Expr.reshape y.Dims.[1..] y
        else Shape.fail op (sprintf "input %s must be %s or unbatched without N" (fmt x.Dims) layout)

    /// The convolution of a batched input [N, C, H, W]; `op` names the public method in errors.
    let private convolve (op: string) (stride: int * int) (padding: int * int) (dilation: int * int) (groups: int)
                         (weight: Expr) (bias: Expr option) (x: Expr) =
        atLeast op "stride" 1 stride
        atLeast op "padding" 0 padding
        atLeast op "dilation" 1 dilation
        if weight.Rank <> 4 then
            Shape.fail op (sprintf "weight %s must be [out_channels, in_channels / groups, kernel...]" (fmt weight.Dims))
        let n, c = x.Dims.[0], x.Dims.[1]
        let co, cg, kh, kw = weight.Dims.[0], weight.Dims.[1], weight.Dims.[2], weight.Dims.[3]
        if groups < 1 then Shape.fail op (sprintf "groups %d must be at least 1" groups)
        if c % groups <> 0 || co % groups <> 0 then
            Shape.fail op (sprintf "groups %d must divide the input's %d channels (input %s) and the weight's %d output channels (weight %s)"
                               groups c (fmt x.Dims) co (fmt weight.Dims))
        if cg * groups <> c then
            Shape.fail op (sprintf "input %s has %d channels but weight %s expects %d (in_channels / groups = %d, groups %d)"
                               (fmt x.Dims) c (fmt weight.Dims) (cg * groups) cg groups)
        match bias with
        | Some b when not (b.Rank = 1 && b.Dims.[0] = co) ->
            Shape.fail op (sprintf "bias %s must be [%d], one per output channel of weight %s" (fmt b.Dims) co (fmt weight.Dims))
        | _ -> ()
        let p, ho, wo = columns op (kh, kw) stride padding dilation false x
        let k = kh * kw
        let y =
            if groups = 1 then Expr.matmul (Expr.reshape [| co; c * k |] weight) p
            else
                Expr.matmul (Expr.reshape [| groups; co / groups; cg * k |] weight)
                            (Expr.reshape [| n; groups; cg * k; ho * wo |] p)
        let y = Expr.reshape [| n; co; ho; wo |] y
        match bias with
        | Some b -> y + Expr.reshape [| 1; co; 1; 1 |] b
        | None -> y

    /// torch.nn.functional.conv2d: input [N, C, H, W] (or [C, H, W]), weight
    /// [out_channels, C / groups, kH, kW], optional bias [out_channels]; (height, width) pairs for
    /// stride, zero padding and dilation. The output is [N, out_channels, Ho, Wo] with
    /// Ho = (H + 2 padH - dilationH (kH - 1) - 1) / strideH + 1.
    let conv2d (stride: int * int) (padding: int * int) (dilation: int * int) (groups: int)
               (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        batched "Conv2d" 4 "[N, C, H, W]" (convolve "Conv2d" stride padding dilation groups weight bias) input

    /// y [N, out_channels, D, H, W] plus the optional bias [out_channels] along the channels, checked against the weight.
    let private withVolumeBias (op: string) (weight: Expr) (bias: Expr option) (y: Expr) =
        let co = y.Dims.[1]
        match bias with
        | Some b when not (b.Rank = 1 && b.Dims.[0] = co) ->
            Shape.fail op (sprintf "bias %s must be [%d], one per output channel of weight %s" (fmt b.Dims) co (fmt weight.Dims))
        | Some b -> y + Expr.reshape [| 1; co; 1; 1; 1 |] b
        | None -> y

    /// torch.nn.functional.conv3d: input [N, C, D, H, W] (or [C, D, H, W]), weight [out_channels, C / groups, kd, kh, kw],
    /// optional bias [out_channels], (depth, height, width) triples for stride, zero padding and dilation; the output is
    /// [N, out_channels, Do, Ho, Wo]. A sum over the kernel's depth taps of conv2d: tap k reads, for every output depth,
    /// the input slice at depth o·stride − padding + k·dilation (zeros past the ends), with the output depths folded into
    /// the batch; so its derivatives are conv2d's, slices' and pads', at every order.
    let conv3d ((sd, sh, sw): int * int * int) ((pd, ph, pw): int * int * int) ((dd, dh, dw): int * int * int) (groups: int)
               (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        let op = "Conv3d"
        if sd < 1 || sh < 1 || sw < 1 then Shape.fail op (sprintf "stride (%d, %d, %d) must be at least 1" sd sh sw)
        if pd < 0 || ph < 0 || pw < 0 then Shape.fail op (sprintf "padding (%d, %d, %d) must be at least 0" pd ph pw)
        if dd < 1 || dh < 1 || dw < 1 then Shape.fail op (sprintf "dilation (%d, %d, %d) must be at least 1" dd dh dw)
        if weight.Rank <> 5 then
            Shape.fail op (sprintf "weight %s must be [out_channels, in_channels / groups, kd, kh, kw]" (fmt weight.Dims))
        let body (x: Expr) =
            let n, c, depth, h, w = x.Dims.[0], x.Dims.[1], x.Dims.[2], x.Dims.[3], x.Dims.[4]
            let co, cg, kd = weight.Dims.[0], weight.Dims.[1], weight.Dims.[2]
            if groups < 1 then Shape.fail op (sprintf "groups %d must be at least 1" groups)
            if c % groups <> 0 || co % groups <> 0 || cg * groups <> c then
                Shape.fail op (sprintf "input %s has %d channels, weight %s has %d output channels and expects %d input channels per group; groups %d must divide both and fit"
                                   (fmt x.Dims) c (fmt weight.Dims) co cg groups)
            let outDepth = windows depth kd sd pd dd
            if outDepth < 1 then
                Shape.fail op (sprintf "input %s with weight %s, stride %d, padding %d and dilation %d along depth gives an empty output"
                                   (fmt x.Dims) (fmt weight.Dims) sd pd dd)
            let padded = if pd = 0 then x else Expr.pad [| 0; 0; pd; 0; 0 |] [| 0; 0; pd; 0; 0 |] x
            let tap (k: int) =
                let start = k * dd
                // the input depths this tap reads for every output depth, [N, C, Do, H, W], then the depths into the batch
                let slices =
                    Expr.slice [| 0; 0; start; 0; 0 |] [| n; c; start + sd * (outDepth - 1) + 1; h; w |] [| 1; 1; sd; 1; 1 |] padded
                let images = Expr.permute [| 0; 2; 1; 3; 4 |] slices |> Expr.reshape [| n * outDepth; c; h; w |]
                let kernel = Expr.sliceAxis 2 k (k + 1) weight |> Expr.reshape [| co; cg; weight.Dims.[3]; weight.Dims.[4] |]
                conv2d (sh, sw) (ph, pw) (dh, dw) groups kernel None images
            let summed = List.init kd tap |> List.reduce Expr.add
            let ho, wo = summed.Dims.[2], summed.Dims.[3]
            let y = summed |> Expr.reshape [| n; outDepth; co; ho; wo |] |> Expr.permute [| 0; 2; 1; 3; 4 |]
            withVolumeBias op weight bias y
        batched op 5 "[N, C, D, H, W]" body input

    /// torch.nn.functional.conv1d: input [N, C, L] (or [C, L]), weight [out_channels, C / groups, k],
    /// optional bias [out_channels]; the output is [N, out_channels, Lo]. It is conv2d over a height of 1.
    let conv1d (stride: int) (padding: int) (dilation: int) (groups: int)
               (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        if weight.Rank <> 3 then
            Shape.fail "Conv1d" (sprintf "weight %s must be [out_channels, in_channels / groups, kernel]" (fmt weight.Dims))
        let body (x: Expr) =
            // checked here on the caller's 1-D shapes, before they become 2-D ones
            let c, co, cg, k = x.Dims.[1], weight.Dims.[0], weight.Dims.[1], weight.Dims.[2]
            if groups >= 1 && (c % groups <> 0 || co % groups <> 0) then
                Shape.fail "Conv1d" (sprintf "groups %d must divide the input's %d channels (input %s) and the weight's %d output channels (weight %s)"
                                         groups c (fmt x.Dims) co (fmt weight.Dims))
            if groups >= 1 && cg * groups <> c then
                Shape.fail "Conv1d" (sprintf "input %s has %d channels but weight %s expects %d (in_channels / groups = %d, groups %d)"
                                         (fmt x.Dims) c (fmt weight.Dims) (cg * groups) cg groups)
            if stride >= 1 && padding >= 0 && dilation >= 1 && windows x.Dims.[2] k stride padding dilation < 1 then
                Shape.fail "Conv1d" (sprintf "input %s with kernel %d, stride %d, padding %d and dilation %d gives an empty output"
                                         (fmt x.Dims) k stride padding dilation)
            let planar = Expr.reshape [| x.Dims.[0]; x.Dims.[1]; 1; x.Dims.[2] |] x
            let w = Expr.reshape (Array.insertAt 2 1 weight.Dims) weight
            let y = convolve "Conv1d" (1, stride) (0, padding) (1, dilation) groups w bias planar
            Expr.reshape [| y.Dims.[0]; y.Dims.[1]; y.Dims.[3] |] y
        batched "Conv1d" 3 "[N, C, L]" body input

    /// torch's padding="same" along one axis (stride 1): dilation·(k − 1) zeros in all, half of them
    /// (rounded down) before and the rest after, so an odd total puts its extra zero at the end, as torch's.
    let private sameSplit (kernel: int) (dilation: int) =
        let total = dilation * (kernel - 1)
        total / 2, total - total / 2

    /// torch.nn.functional.conv2d with padding="same" (stride 1): the output keeps the input's height and
    /// width. The symmetric part of the padding is the convolution's own; an odd total's extra zero at the
    /// bottom or right is padded first, as torch does.
    let conv2dSame (dilation: int * int) (groups: int) (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        atLeast "Conv2d" "dilation" 1 dilation
        if weight.Rank <> 4 then
            Shape.fail "Conv2d" (sprintf "weight %s must be [out_channels, in_channels / groups, kernel...]" (fmt weight.Dims))
        let (top, bottom), (left, right) = sameSplit weight.Dims.[2] (fst dilation), sameSplit weight.Dims.[3] (snd dilation)
        let x =
            // other ranks go on to conv2d unpadded, which names the layout it needs
            if (bottom > top || right > left) && (input.Rank = 3 || input.Rank = 4) then
                let after = Array.zeroCreate input.Rank
                after.[input.Rank - 2] <- bottom - top
                after.[input.Rank - 1] <- right - left
                Expr.pad (Array.zeroCreate input.Rank) after input
            else input
        conv2d (1, 1) (top, left) dilation groups weight bias x

    /// torch.nn.functional.conv1d with padding="same" (stride 1): the output keeps the input's length,
    /// an odd total padding putting its extra zero at the end, as torch's.
    let conv1dSame (dilation: int) (groups: int) (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        if dilation < 1 then Shape.fail "Conv1d" (sprintf "dilation %d must be at least 1" dilation)
        if weight.Rank <> 3 then
            Shape.fail "Conv1d" (sprintf "weight %s must be [out_channels, in_channels / groups, kernel]" (fmt weight.Dims))
        let before, after = sameSplit weight.Dims.[2] dilation
        let x =
            if after > before && (input.Rank = 2 || input.Rank = 3) then
                let extra = Array.zeroCreate input.Rank
                extra.[input.Rank - 1] <- after - before
                Expr.pad (Array.zeroCreate input.Rank) extra input
            else input
        conv1d 1 before dilation groups weight bias x

    /// Pads (positive amounts) or crops (negative amounts) the last two axes.
    let private padOrCrop ((top, bottom): int * int) ((left, right): int * int) (x: Expr) =
        let padded = Expr.pad [| 0; 0; max 0 top; max 0 left |] [| 0; 0; max 0 bottom; max 0 right |] x
        let d = padded.Dims
        Expr.slice [| 0; 0; max 0 -top; max 0 -left |] [| d.[0]; d.[1]; d.[2] - max 0 -bottom; d.[3] - max 0 -right |]
                   [| 1; 1; 1; 1 |] padded

    /// torch.nn.functional.conv_transpose2d: input [N, C, H, W] (or [C, H, W]), weight
    /// [C, out_channels / groups, kH, kW], optional bias [out_channels]. The output is
    /// [N, out_channels, Ho, Wo] with Ho = (H - 1) strideH - 2 padH + dilationH (kH - 1) + outputPaddingH + 1.
    /// It is the adjoint of conv2d with the same arguments, written as torch computes it: every input entry
    /// times every weight tap (one matmul per group, columns [N, out·kH·kW, H·W]), added into place by fold
    /// (col2im) without padding, then cropped by the padding and padded by the output padding. So only input
    /// entries meet the weight: the zeros between entries that a stride implies, and the border that padding
    /// crops, are no products, and an infinite weight gives no 0·∞ = NaN there.
    let private convTranspose2dNamed (op: string) (stride: int * int) (padding: int * int) (outputPadding: int * int)
                                     (dilation: int * int) (groups: int) (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        atLeast op "stride" 1 stride
        atLeast op "padding" 0 padding
        atLeast op "outputPadding" 0 outputPadding
        atLeast op "dilation" 1 dilation
        let (sh, sw), (ph, pw), (oph, opw), (dh, dw) = stride, padding, outputPadding, dilation
        if (oph >= sh && oph >= dh) || (opw >= sw && opw >= dw) then
            Shape.fail op (sprintf "outputPadding (%d, %d) must be smaller than stride (%d, %d) or dilation (%d, %d)" oph opw sh sw dh dw)
        if weight.Rank <> 4 then
            Shape.fail op (sprintf "weight %s must be [in_channels, out_channels / groups, kernel...]" (fmt weight.Dims))
        if groups < 1 then Shape.fail op (sprintf "groups %d must be at least 1" groups)
        let body (x: Expr) =
            let c = x.Dims.[1]
            let ci, cog, kh, kw = weight.Dims.[0], weight.Dims.[1], weight.Dims.[2], weight.Dims.[3]
            if ci <> c then
                Shape.fail op (sprintf "input %s has %d channels but weight %s expects %d" (fmt x.Dims) c (fmt weight.Dims) ci)
            if c % groups <> 0 then
                Shape.fail op (sprintf "groups %d must divide the input's %d channels (input %s)" groups c (fmt x.Dims))
            let ho = (x.Dims.[2] - 1) * sh - 2 * ph + dh * (kh - 1) + oph + 1
            let wo = (x.Dims.[3] - 1) * sw - 2 * pw + dw * (kw - 1) + opw + 1
            if ho < 1 || wo < 1 then
                Shape.fail op (sprintf "input %s with weight %s, stride (%d, %d), padding (%d, %d) and dilation (%d, %d) gives an empty output (%d, %d)"
                                   (fmt x.Dims) (fmt weight.Dims) sh sw ph pw dh dw ho wo)
            let co = groups * cog
            match bias with
            | Some b when not (b.Rank = 1 && b.Dims.[0] = co) ->
                Shape.fail op (sprintf "bias %s must be [%d], one per output channel of weight %s" (fmt b.Dims) co (fmt weight.Dims))
            | _ -> ()
            let n, h, w = x.Dims.[0], x.Dims.[2], x.Dims.[3]
            let taps =
                Expr.reshape [| groups; ci / groups; cog * kh * kw |] weight |> Expr.permute [| 0; 2; 1 |]
            let products =
                Expr.matmul taps (Expr.reshape [| n; groups; ci / groups; h * w |] x)
                |> Expr.reshape [| n; co * kh * kw; h * w |]
            let full = [| (h - 1) * sh + dh * (kh - 1) + 1; (w - 1) * sw + dw * (kw - 1) + 1 |]
            let y =
                Expr.fold full [| kh; kw |] [| sh; sw |] [| 0; 0 |] [| dh; dw |] products
                |> padOrCrop (-ph, oph - ph) (-pw, opw - pw)
            match bias with
            | Some b -> y + Expr.reshape [| 1; co; 1; 1 |] b
            | None -> y
        batched op 4 "[N, C, H, W]" body input

    /// torch.nn.functional.conv_transpose2d; see convTranspose2dNamed.
    let convTranspose2d (stride: int * int) (padding: int * int) (outputPadding: int * int) (dilation: int * int)
                        (groups: int) (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        convTranspose2dNamed "ConvTranspose2d" stride padding outputPadding dilation groups weight bias input

    /// torch.nn.functional.conv_transpose3d: input [N, C, D, H, W] (or [C, D, H, W]), weight [C, out_channels / groups,
    /// kd, kh, kw], optional bias [out_channels], (depth, height, width) triples; each output size is
    /// (size − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1. A sum over the kernel's depth taps of
    /// conv_transpose2d, as conv3d is of conv2d: tap k's images, one per input depth i, land at full depth i·stride +
    /// k·dilation (zeros between), and the full depth is cropped by the padding and extended by the output padding. So
    /// only input entries meet the weight, as in conv_transpose2d, and every derivative is conv_transpose2d's, pads' and
    /// slices'.
    let convTranspose3d ((sd, sh, sw): int * int * int) ((pd, ph, pw): int * int * int) ((od, oh, ow): int * int * int)
                        ((dd, dh, dw): int * int * int) (groups: int) (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        let op = "ConvTranspose3d"
        if sd < 1 || sh < 1 || sw < 1 then Shape.fail op (sprintf "stride (%d, %d, %d) must be at least 1" sd sh sw)
        if pd < 0 || ph < 0 || pw < 0 then Shape.fail op (sprintf "padding (%d, %d, %d) must be at least 0" pd ph pw)
        if dd < 1 || dh < 1 || dw < 1 then Shape.fail op (sprintf "dilation (%d, %d, %d) must be at least 1" dd dh dw)
        if od < 0 || (od >= sd && od >= dd) then
            Shape.fail op (sprintf "outputPadding %d along depth must be at least 0 and smaller than stride %d or dilation %d" od sd dd)
        if weight.Rank <> 5 then
            Shape.fail op (sprintf "weight %s must be [in_channels, out_channels / groups, kd, kh, kw]" (fmt weight.Dims))
        let body (x: Expr) =
            let n, c, depth, h, w = x.Dims.[0], x.Dims.[1], x.Dims.[2], x.Dims.[3], x.Dims.[4]
            let kd = weight.Dims.[2]
            let full = (depth - 1) * sd + dd * (kd - 1) + 1
            let outDepth = full - 2 * pd + od
            if outDepth < 1 then
                Shape.fail op (sprintf "input %s with weight %s, stride %d, padding %d and dilation %d along depth gives an empty output (%d)"
                                   (fmt x.Dims) (fmt weight.Dims) sd pd dd outDepth)
            let images = Expr.permute [| 0; 2; 1; 3; 4 |] x |> Expr.reshape [| n * depth; c; h; w |]
            let tap (k: int) =
                let kernel = Expr.sliceAxis 2 k (k + 1) weight |> Expr.reshape [| weight.Dims.[0]; weight.Dims.[1]; weight.Dims.[3]; weight.Dims.[4] |]
                let planes = convTranspose2dNamed op (sh, sw) (ph, pw) (oh, ow) (dh, dw) groups kernel None images
                let co, ho, wo = planes.Dims.[1], planes.Dims.[2], planes.Dims.[3]
                let stacked = Expr.reshape [| n; depth; 1; co; ho; wo |] planes
                // the input depths spread sd apart: each plane followed by sd − 1 planes of zeros, the trailing ones cut
                let spread =
                    if sd = 1 then Expr.reshape [| n; depth; co; ho; wo |] stacked
                    else
                        Expr.concat 2 [ stacked; Expr.zeros stacked.DType [| n; depth; sd - 1; co; ho; wo |] ]
                        |> Expr.reshape [| n; depth * sd; co; ho; wo |]
                        |> Expr.sliceAxis 1 0 ((depth - 1) * sd + 1)
                let before = k * dd
                Expr.pad [| 0; before; 0; 0; 0 |] [| 0; full - before - spread.Dims.[1]; 0; 0; 0 |] spread
            let summed = List.init kd tap |> List.reduce Expr.add
            // the full depth from the padding on, as far as it reaches into the output; the output padding past its end
            // is zeros (as padOrCrop does in 2-D)
            let cropped = Expr.sliceAxis 1 pd (min full (pd + outDepth)) summed
            let y =
                (if outDepth > cropped.Dims.[1] then Expr.pad [| 0; 0; 0; 0; 0 |] [| 0; outDepth - cropped.Dims.[1]; 0; 0; 0 |] cropped
                 else cropped)
                |> Expr.permute [| 0; 2; 1; 3; 4 |]
            withVolumeBias op weight bias y
        batched op 5 "[N, C, D, H, W]" body input

    /// torch.nn.functional.conv_transpose1d: input [N, C, L] (or [C, L]), weight [C, out_channels / groups, k],
    /// optional bias [out_channels]; the output is [N, out_channels, (L − 1)·stride − 2·padding + dilation·(k − 1)
    /// + outputPadding + 1]. It is conv_transpose2d over a height of 1, the arguments checked in 1-D terms first.
    let convTranspose1d (stride: int) (padding: int) (outputPadding: int) (dilation: int) (groups: int)
                        (weight: Expr) (bias: Expr option) (input: Expr) : Expr =
        let op = "ConvTranspose1d"
        if stride < 1 then Shape.fail op (sprintf "stride %d must be at least 1" stride)
        if padding < 0 then Shape.fail op (sprintf "padding %d must be at least 0" padding)
        if dilation < 1 then Shape.fail op (sprintf "dilation %d must be at least 1" dilation)
        if outputPadding < 0 || (outputPadding >= stride && outputPadding >= dilation) then
            Shape.fail op (sprintf "outputPadding %d must be at least 0 and smaller than stride %d or dilation %d" outputPadding stride dilation)
        if weight.Rank <> 3 then
            Shape.fail op (sprintf "weight %s must be [in_channels, out_channels / groups, kernel]" (fmt weight.Dims))
        let body (x: Expr) =
            let length = (x.Dims.[2] - 1) * stride - 2 * padding + dilation * (weight.Dims.[2] - 1) + outputPadding + 1
            if length < 1 then
                Shape.fail op (sprintf "input %s with weight %s, stride %d, padding %d and dilation %d gives an empty output (%d)"
                                   (fmt x.Dims) (fmt weight.Dims) stride padding dilation length)
            let planar = Expr.reshape [| x.Dims.[0]; x.Dims.[1]; 1; x.Dims.[2] |] x
            let w = Expr.reshape (Array.insertAt 2 1 weight.Dims) weight
            let y = convTranspose2dNamed op (1, stride) (0, padding) (0, outputPadding) (1, dilation) groups w bias planar
            Expr.reshape [| y.Dims.[0]; y.Dims.[1]; y.Dims.[3] |] y
        batched op 3 "[N, C, L]" body input

    /// The stride of a pooling layer: torch's default (none given, here 0) is the kernel size.
    let internal poolStride (kernel: int * int) ((sh, sw): int * int) =
        (if sh = 0 then fst kernel else sh), (if sw = 0 then snd kernel else sw)

    /// torch's limit on pooling padding: at most half the kernel size.
    let private checkPoolPadding (op: string) ((kh, kw): int * int) ((ph, pw): int * int) =
        if 2 * ph > kh || 2 * pw > kw then
            Shape.fail op (sprintf "padding (%d, %d) must be at most half of kernelSize (%d, %d)" ph pw kh kw)

    /// The tap of a pooling window along one axis that first reads the input, not the padding: torch's index for a
    /// window of −∞ only (0 when none does). Output o of an axis of `size`.
    let internal firstTapInside (size: int) (taps: int) (step: int) (pad: int) (gap: int) (o: int) =
        seq { 0 .. taps - 1 } |> Seq.tryFind (fun k -> let at = o * step - pad + k * gap in at >= 0 && at < size) |> Option.defaultValue 0

    /// torch's average-pooling divisor along one axis for output o: the window clipped to the padded input when the padding
    /// counts, else to the input itself (the divisor of a window is the product over its axes).
    let internal poolExtent (countIncludePad: bool) (size: int) (kernel: int) (step: int) (pad: int) (o: int) =
        let start = o * step - pad
        let stop = min (start + kernel) (size + pad)
        if countIncludePad then stop - start else min stop size - max start 0

    /// Each window's winner along `axis` of p as its tap (the axis kept as 1): torch's pooling index, see windowMax.
    let internal windowWinner (axis: int) (firstInBounds: Expr option) (p: Expr) =
        let count = p.Dims.[axis]
        let largest = Expr.argmax axis true p
        // A window whose entries are all -inf ties with its -inf padding, and the padding may come first;
        // the cotangent must reach the input (`fuzz adversarial 6/87`). Without padding the check would be
        // two more passes over the patches for the index argmax's first tie already is.
        let inBounds =
            match firstInBounds with
            | Some first -> Expr.where (Expr.eq (Expr.maxAxes [| axis |] true p) (Expr.scalar p.DType -infinity)) first largest
            | None -> largest
        let isNaN = Expr.ne p p
        let lastNaN = Expr.scalar p.DType (float (count - 1)) - Expr.argmax axis true (Expr.flip [| axis |] isNaN)
        let anyNaN = Expr.eq (Expr.maxAxes [| axis |] true isNaN) (Expr.scalar p.DType 1.0)
        Expr.where anyNaN lastNaN inBounds

    /// The largest entry of each window along `axis` of p (the window's taps; the axis is dropped), read at torch's
    /// pooling index, to which the cotangent goes: the first largest entry, or the last NaN, since every NaN torch's
    /// loop meets moves its index again. `firstInBounds` (p's shape with the axis kept as 1), where padding may come
    /// first in a window, is the index of each window's first entry inside the input, torch's index for a window of
    /// −∞ only (it starts there and moves only to a strictly larger entry).
    let internal windowMax (op: string) (axis: int) (firstInBounds: Expr option) (p: Expr) : Expr =
        let count = p.Dims.[axis]
        // Each window's winner as its index, a constant of the derivative, so the cotangent reaches that one
        // entry even at ties (the max reduction would share it). A function of the patches, so the rule below
        // builds the same nodes again from its own argument (under vmap, from each example's patches).
        let winnerOf (p: Expr) = windowWinner axis firstInBounds p
        let positionShape = Array.init p.Rank (fun a -> if a = axis then count else 1)
        let positions = Expr.constant (Tensor.FromArray(Array.init count float, positionShape)) |> Expr.cast p.DType
        // The cotangent goes to the winner by a mask over the window, an elementwise pass that fuses: gather's
        // own rule, a scatter-add into the patches, cost about half the pooling gradient's time.
        let rule =
            CustomRules.register op (fun p g ->
                Expr.where (Expr.eq positions (winnerOf p)) (Expr.broadcastTo p.Dims g) (Expr.zerosLike p))
        // The winner is read by gather, which keeps its bits: a masked sum over the window added +0 to it, so
        // a winning −0 came out +0 (`fuzz adversarial 21/201`: 0.288 over the max pool of −0 is −∞ in torch,
        // was +∞ in ours).
        Expr.custom rule p (Expr.gather axis (winnerOf p) p) |> Expr.reshape (Shape.reduced p.Dims [| axis |] false)

    /// The windows of a max pool over x [N, C, H, W] as patches [N, C, kh·kw, Ho, Wo], and (with padding) each
    /// window's first tap inside the input, torch's index for a window of −∞ only.
    let private maxPoolPatches (op: string) (ceilMode: bool) (kernelSize: int * int) (stride: int * int) (padding: int * int)
                               (dilation: int * int) (x: Expr) =
        let p = patches op kernelSize stride padding dilation true ceilMode x
        let (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernelSize, stride, padding, dilation
        let ho, wo = p.Dims.[3], p.Dims.[4]
        // Without padding every window's first entry is inside, where argmax's first tie already is
        if ph = 0 && pw = 0 then p, None
        else
            let firstInBounds =
                Array.init (ho * wo) (fun k ->
                    float (firstTapInside x.Dims.[2] kh sh ph dh (k / wo) * kw + firstTapInside x.Dims.[3] kw sw pw dw (k % wo)))
            p, Some(Expr.constant (Tensor.FromArray(firstInBounds, [| 1; 1; 1; ho; wo |])) |> Expr.cast x.DType)

    /// torch.nn.functional.max_pool2d over [N, C, H, W] (or [C, H, W]); a stride of (0, 0) means the
    /// kernel size, torch's default. The padding is -inf. The cotangent of a window goes to torch's index:
    /// its first largest entry inside the input (row-major in the window), or its last NaN. ceilMode is
    /// torch's ceil_mode; `op` names the public method in errors.
    let internal maxPool2dNamed (op: string) (ceilMode: bool) (kernelSize: int * int) (stride: int * int) (padding: int * int)
                                (dilation: int * int) (input: Expr) : Expr =
        atLeast op "kernelSize" 1 kernelSize
        atLeast op "stride" 0 stride
        atLeast op "padding" 0 padding
        atLeast op "dilation" 1 dilation
        checkPoolPadding op kernelSize padding
        let stride = poolStride kernelSize stride
        let body (x: Expr) =
            let p, firstInBounds = maxPoolPatches op ceilMode kernelSize stride padding dilation x
            windowMax op 2 firstInBounds p
        batched op 4 "[N, C, H, W]" body input

    /// maxPool2dNamed's values and torch's return_indices: each window's winner as its flat index h·W + w within its
    /// (batch, channel) plane, in the input's dtype. Both from the same patches and winners (hash-consing shares them).
    let internal maxPool2dIndicesNamed (op: string) (ceilMode: bool) (kernelSize: int * int) (stride: int * int) (padding: int * int)
                                       (dilation: int * int) (input: Expr) : Expr * Expr =
        let values = maxPool2dNamed op ceilMode kernelSize stride padding dilation input
        let stride = poolStride kernelSize stride
        let body (x: Expr) =
            let p, firstInBounds = maxPoolPatches op ceilMode kernelSize stride padding dilation x
            let (_, kw), (sh, sw), (ph, pw), (dh, dw) = kernelSize, stride, padding, dilation
            let ho, wo, width = p.Dims.[3], p.Dims.[4], x.Dims.[3]
            let tap = Expr.reshape [| p.Dims.[0]; p.Dims.[1]; ho; wo |] (windowWinner 2 firstInBounds p)
            // tap a·kw + b of window (i, j) reads row i·sh − ph + a·dh and column j·sw − pw + b·dw
            let row = Expr.floor (tap / float kw)
            let column = tap - row * float kw
            let corner = Array.init (ho * wo) (fun k -> float (((k / wo) * sh - ph) * width + (k % wo) * sw - pw))
            let corner = Expr.constant (Tensor.FromArray(corner, [| 1; 1; ho; wo |])) |> Expr.cast x.DType
            corner + row * float (dh * width) + column * float dw
        values, batched op 4 "[N, C, H, W]" body input

    /// torch.nn.functional.max_pool2d with torch's ceil_mode; see maxPool2dNamed.
    let maxPool2dWith (ceilMode: bool) (kernelSize: int * int) (stride: int * int) (padding: int * int) (dilation: int * int) (input: Expr) : Expr =
        maxPool2dNamed "MaxPool2d" ceilMode kernelSize stride padding dilation input

    /// torch.nn.functional.max_pool2d over [N, C, H, W] (or [C, H, W]), floor mode; see maxPool2dNamed.
    let maxPool2d (kernelSize: int * int) (stride: int * int) (padding: int * int) (dilation: int * int) (input: Expr) : Expr =
        maxPool2dNamed "MaxPool2d" false kernelSize stride padding dilation input

    /// torch.nn.functional.avg_pool2d over [N, C, H, W] (or [C, H, W]) with torch's defaults
    /// (count_include_pad: zero padding counts in the divisor; floor mode); a stride of (0, 0) means the
    /// kernel size.
    let avgPool2d (kernelSize: int * int) (stride: int * int) (padding: int * int) (input: Expr) : Expr =
        let op = "AvgPool2d"
        atLeast op "kernelSize" 1 kernelSize
        atLeast op "stride" 0 stride
        atLeast op "padding" 0 padding
        checkPoolPadding op kernelSize padding
        let stride = poolStride kernelSize stride
        batched op 4 "[N, C, H, W]" (fun x -> Expr.meanAxes [| 2 |] false (patches op kernelSize stride padding (1, 1) false false x)) input

    /// torch.nn.functional.avg_pool2d with every option: ceilMode (a partial last window), countIncludePad
    /// (the zero padding counts in the divisor) and divisorOverride (a fixed divisor, 0 for none). Each window's
    /// sum is divided by torch's divisor for that window: the window clipped to the padded input when the padding
    /// counts (so the part a partial window reads past it does not), else clipped to the input itself.
    let internal avgPool2dNamed (op: string) (ceilMode: bool) (countIncludePad: bool) (divisorOverride: int)
                                (kernelSize: int * int) (stride: int * int) (padding: int * int) (input: Expr) : Expr =
        atLeast op "kernelSize" 1 kernelSize
        atLeast op "stride" 0 stride
        atLeast op "padding" 0 padding
        checkPoolPadding op kernelSize padding
        if divisorOverride < 0 then Shape.fail op (sprintf "divisorOverride %d must be positive (0 for none)" divisorOverride)
        let stride = poolStride kernelSize stride
        let (kh, kw), (sh, sw), (ph, pw) = kernelSize, stride, padding
        let body (x: Expr) =
            let p = patches op kernelSize stride padding (1, 1) false ceilMode x
            let ho, wo = p.Dims.[3], p.Dims.[4]
            // torch's divide_factor for output (i, j)
            let extent = poolExtent countIncludePad
            let divisors =
                Array.init (ho * wo) (fun o ->
                    if divisorOverride > 0 then float divisorOverride
                    else float (extent x.Dims.[2] kh sh ph (o / wo) * extent x.Dims.[3] kw sw pw (o % wo)))
            if divisors |> Array.forall (fun d -> d = float (kh * kw)) then Expr.meanAxes [| 2 |] false p
            else
                let divisor = Expr.constant (Tensor.FromArray(divisors, [| 1; 1; ho; wo |])) |> Expr.cast x.DType
                Expr.sumAxes [| 2 |] false p / divisor
        batched op 4 "[N, C, H, W]" body input

    /// torch.nn.functional.avg_pool2d with ceil_mode, count_include_pad and divisor_override (0 for none); see avgPool2dNamed.
    let avgPool2dWith (ceilMode: bool) (countIncludePad: bool) (divisorOverride: int) (kernelSize: int * int) (stride: int * int)
                      (padding: int * int) (input: Expr) : Expr =
        avgPool2dNamed "AvgPool2d" ceilMode countIncludePad divisorOverride kernelSize stride padding input

    /// Adaptive average pooling along one axis: output i averages entries ⌊i·S/O⌋ to ⌈(i + 1)·S/O⌉ − 1. A box's mean is
    /// the mean over one axis of the means over the others, so adaptive pooling of any rank pools one axis at a time.
    let internal adaptiveMeanAlong (op: string) (axis: int) (outputs: int) (x: Expr) =
        let size = x.Dims.[axis]
        if size = 0 then Shape.fail op (sprintf "input %s has an empty spatial axis" (fmt x.Dims))
        [ for i in 0 .. outputs - 1 ->
            let start = i * size / outputs
            let stop = ((i + 1) * size + outputs - 1) / outputs
            Expr.meanAxes [| axis |] true (Expr.sliceAxis axis start stop x) ]
        |> Expr.concat axis

    /// torch.nn.functional.adaptive_avg_pool2d over [N, C, H, W] (or [C, H, W]): output row i averages
    /// input rows floor(i H / Ho) to ceil((i + 1) H / Ho) - 1, and likewise for columns. A rectangle's
    /// mean is the mean over rows of the means over columns, so the axes are pooled one at a time.
    let adaptiveAvgPool2d (outputSize: int * int) (input: Expr) : Expr =
        let op = "AdaptiveAvgPool2d"
        atLeast op "outputSize" 1 outputSize
        batched op 4 "[N, C, H, W]" (adaptiveMeanAlong op 2 (fst outputSize) >> adaptiveMeanAlong op 3 (snd outputSize)) input
