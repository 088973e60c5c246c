/// Batch, group and instance normalisation with torch's conventions, built on the normalisation
/// core of layer norm (Nn.normaliseOver): the same centring about a held entry and the same
/// scaling of huge groups, so every norm agrees with layer norm on one group.
namespace FunctionalDiff.Core

open System

/// torch.nn.functional's batch_norm, group_norm and instance_norm as pure functions: the
/// statistics of the batch are the function's own, and running statistics are values the caller
/// keeps and passes in (there is no hidden train/eval state).
[<RequireQualifiedAccess>]
module Normalisation =

    /// Fails unless x has a batch axis and a channel axis ([N, C, ...]).
    let private checkChannels (name: string) (x: Expr) =
        if x.Rank < 2 then
            Shape.fail name (sprintf "needs an input [N, C, ...] of rank 2 or more, got %s" (Shape.format x.Dims))

    /// A per-channel vector ([C], or a scalar) shaped [C, 1, ..., 1] so that it broadcasts along
    /// axis 1 of an input of the given rank.
    let private perChannel (name: string) (what: string) (channels: int) (rank: int) (p: Expr) =
        if p.Rank = 0 then p
        elif p.Rank = 1 && p.Dims.[0] = channels then Expr.reshape (Array.init (rank - 1) (fun i -> if i = 0 then channels else 1)) p
        else Shape.fail name (sprintf "%s %s must be [C] = [%d] or a scalar" what (Shape.format p.Dims) channels)

    /// The axes a batch norm reduces: the batch axis and every axis after the channels.
    let private batchAxes (x: Expr) = Array.append [| 0 |] [| 2 .. x.Rank - 1 |]

    /// Fails when a batch norm in training would see one value per channel, as torch does (its
    /// variance would be 0 and the output 0 whatever the input).
    let private checkValuesPerChannel (name: string) (x: Expr) =
        let mutable values = 1
        for a in batchAxes x do
            values <- values * x.Dims.[a]
        if values <= 1 then
            Shape.fail name (sprintf "expected more than 1 value per channel when using the batch's statistics, got input %s" (Shape.format x.Dims))

    /// torch's batch_norm in training mode: each channel (axis 1) normalised by the mean and the biased
    /// variance over the batch and the spatial axes, then · weight + bias (each [C] or a scalar).
    let batchNorm (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        checkChannels "BatchNorm" x
        checkValuesPerChannel "BatchNorm" x
        let c = x.Dims.[1]
        let w = perChannel "BatchNorm" "weight" c x.Rank weight
        let b = perChannel "BatchNorm" "bias" c x.Rank bias
        Nn.normaliseOver (batchAxes x) epsilon x * w + b

    /// torch's batch_norm in evaluation mode: (x − mean) / √(variance + ε) · weight + bias per channel,
    /// with the running statistics given ([C] each).
    let batchNormWith (mean: Expr) (variance: Expr) (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        // errors name the public method of this mode, BatchNormWithStatistics (F#: batchNormWith)
        checkChannels "BatchNormWithStatistics" x
        let c = x.Dims.[1]
        let per what p = perChannel "BatchNormWithStatistics" what c x.Rank p
        (x - per "running mean" mean) * Expr.rsqrt (per "running variance" variance + epsilon) * per "weight" weight + per "bias" bias

    /// The batch's per-channel mean and unbiased variance ([C] each): what torch's batch_norm in
    /// training mixes into its running statistics, running ← (1 − momentum)·running + momentum·batch.
    let batchStatistics (x: Expr) =
        checkChannels "BatchStatistics" x
        checkValuesPerChannel "BatchStatistics" x
        let axes = batchAxes x
        Expr.meanAxes axes false x, Statistics.var axes 1.0 false x

    /// torch's group_norm: the channels split into `groups` groups of consecutive channels, each
    /// group of each example normalised over its channels and spatial axes (biased variance), then
    /// · weight + bias per channel.
    let groupNorm (groups: int) (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        checkChannels "GroupNorm" x
        let n, c = x.Dims.[0], x.Dims.[1]
        if groups <= 0 || c % groups <> 0 then
            Shape.fail "GroupNorm" (sprintf "%d groups must divide the %d channels of the input %s" groups c (Shape.format x.Dims))
        let w = perChannel "GroupNorm" "weight" c x.Rank weight
        let b = perChannel "GroupNorm" "bias" c x.Rank bias
        let perGroup = (Array.fold (*) 1 x.Dims.[1..]) / groups
        let grouped = Expr.reshape [| n; groups; perGroup |] x
        Expr.reshape x.Dims (Nn.normaliseOver [| 2 |] epsilon grouped) * w + b

    /// torch's instance_norm with the input's own statistics: each channel of each example
    /// normalised over its spatial axes (biased variance), then · weight + bias per channel.
    let instanceNorm (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        if x.Rank < 3 then
            Shape.fail "InstanceNorm" (sprintf "needs an input [N, C, L, ...] of rank 3 or more, got %s" (Shape.format x.Dims))
        let mutable spatial = 1
        for a in 2 .. x.Rank - 1 do
            spatial <- spatial * x.Dims.[a]
        if spatial <= 1 then
            Shape.fail "InstanceNorm" (sprintf "expected more than 1 spatial element per channel, got input %s" (Shape.format x.Dims))
        let c = x.Dims.[1]
        let w = perChannel "InstanceNorm" "weight" c x.Rank weight
        let b = perChannel "InstanceNorm" "bias" c x.Rank bias
        Nn.normaliseOver [| 2 .. x.Rank - 1 |] epsilon x * w + b

    /// Checks that normalizedShape is x's trailing dimensions and each parameter normalizedShape-shaped or a scalar (the
    /// absent one), naming the public method; the number of trailing axes.
    let private checkTrailing (op: string) (normalizedShape: int[]) (parameters: (string * Expr) list) (x: Expr) =
        if isNull normalizedShape then nullArg "normalizedShape"
        let k = normalizedShape.Length
        if k = 0 || k > x.Rank || not (Ir.sameDims x.Dims.[x.Rank - k ..] normalizedShape) then
            Shape.fail op
                (sprintf "normalizedShape %s must be the trailing dimensions of the input %s, as torch's normalized_shape"
                     (Shape.format normalizedShape) (Shape.format x.Dims))
        for what, p in parameters do
            if p.Rank <> 0 && not (Ir.sameDims p.Dims normalizedShape) then
                Shape.fail op (sprintf "%s %s must have the normalized shape %s" what (Shape.format p.Dims) (Shape.format normalizedShape))
        k

    /// torch's F.local_response_norm(x, size, alpha, beta, k) over [N, C, ...]: x / (k + alpha·mean)^beta, the mean of x²
    /// over a window of `size` channels around each one (zero-padded, size / 2 before and (size − 1) / 2 after, the
    /// padding counted in the mean), as torch's average pooling over the channel axis.
    let localResponseNorm (size: int) (alpha: float) (beta: float) (k: float) (x: Expr) =
        if size < 1 then Shape.fail "LocalResponseNorm" (sprintf "size %d must be at least 1" size)
        if x.Rank < 3 then
            Shape.fail "LocalResponseNorm" (sprintf "input %s must be [N, C, ...] with at least one spatial axis, as torch's" (Shape.format x.Dims))
        let channels = x.Dims.[1]
        let before, after = size / 2, (size - 1) / 2
        let padBefore = Array.init x.Rank (fun a -> if a = 1 then before else 0)
        let padAfter = Array.init x.Rank (fun a -> if a = 1 then after else 0)
        let squares = Expr.pad padBefore padAfter (Expr.square x)
        let window = List.init size (fun t -> Expr.sliceAxis 1 t (t + channels) squares) |> List.reduce Expr.add
        let mean = window / Expr.scalar x.DType (float size)
        x / Expr.pow (mean * Expr.scalar x.DType alpha + Expr.scalar x.DType k) (Expr.scalar x.DType beta)

    /// torch's F.rms_norm(x, normalized_shape, weight, eps): x / √(mean(x²) + ε) · weight over the trailing axes that
    /// normalizedShape names (it must equal x's trailing dimensions), written as torch's own decomposition,
    /// x · rsqrt(mean(x²) + ε), so it rounds as torch does. epsilon None is torch's default, the dtype's machine epsilon.
    /// weight is normalizedShape-shaped, or a scalar (1 stands for none).
    let rmsNorm (normalizedShape: int[]) (epsilon: float option) (weight: Expr) (x: Expr) =
        let k = checkTrailing "RmsNorm" normalizedShape [ "weight", weight ] x
        let eps =
            match epsilon with
            | Some e when e < 0.0 || Double.IsNaN e -> Shape.fail "RmsNorm" (sprintf "epsilon %g must be at least 0" e)
            | Some e -> e
            | None -> match x.DType with DType.Float32 -> Math.Pow(2.0, -23.0) | DType.Float64 -> Math.Pow(2.0, -52.0) // torch.finfo(dtype).eps
        let meanSquare = Expr.meanAxes [| x.Rank - k .. x.Rank - 1 |] true (Expr.square x)
        x * Expr.rsqrt (meanSquare + Expr.scalar x.DType eps) * weight

    /// torch's F.layer_norm(x, normalized_shape, weight, bias, eps): (x − mean) / √(variance + ε) · weight + bias over
    /// the trailing axes that normalizedShape names (it must equal x's trailing dimensions), with the biased variance.
    /// weight and bias are normalizedShape-shaped, or scalars (1 and 0 stand for none).
    let layerNorm (normalizedShape: int[]) (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        let k = checkTrailing "LayerNorm" normalizedShape [ "weight", weight; "bias", bias ] x
        Nn.normaliseOver [| x.Rank - k .. x.Rank - 1 |] epsilon x * weight + bias
