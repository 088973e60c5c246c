/// Upsampling and downsampling as torch's F.interpolate, and dropout with the caller's noise. Each
/// spatial axis is resampled by a constant matrix (which input entries, with which weights, make each
/// output entry), so the derivative is that matrix transposed and derivatives of every order follow.
namespace FunctionalDiff.Core

open System

/// torch's interpolation modes that this library has.
[<RequireQualifiedAccess>]
type InterpolationMode =
    /// The input entry at ⌊output index · in/out⌋ (torch's 'nearest').
    | Nearest
    /// Linear in each spatial axis between the two nearest input entries (torch's 'linear' for one
    /// spatial axis, 'bilinear' for two, 'trilinear' for three).
    | Linear

/// F.interpolate and dropout over Expr.
[<RequireQualifiedAccess>]
module Resampling =

    /// The input position each output entry reads, as torch's area_pixel_compute_scale: (in − 1)/(out − 1)
    /// with aligned corners, else 1/scale when a scale factor was given, else in/out.
    let private ratio (input: int) (output: int) (alignCorners: bool) (scale: float option) =
        if alignCorners then (if output > 1 then float (input - 1) / float (output - 1) else 0.0)
        else
            match scale with
            | Some s when s > 0.0 -> 1.0 / s
            | _ -> float input / float output

    /// Per output entry of one axis, the input entries it reads and their weights: (i, i, 1) for Nearest, the two
    /// neighbours and their linear weights (1 − w, w) for Linear.
    let private axisTaps (mode: InterpolationMode) (input: int) (output: int) (alignCorners: bool) (scale: float option) =
        let r = ratio input output alignCorners scale
        Array.init output (fun o ->
            match mode with
            | InterpolationMode.Nearest ->
                let i = min (int (Math.Floor(float o * r))) (input - 1)
                struct (i, i, 0.0)
            | InterpolationMode.Linear ->
                let source =
                    if alignCorners then float o * r
                    else max 0.0 ((float o + 0.5) * r - 0.5)
                let i0 = min (int (Math.Floor source)) (input - 1)
                let i1 = min (i0 + 1) (input - 1)
                struct (i0, i1, source - float i0))

    /// torch's F.interpolate of x [N, C, spatial...] (one to three spatial axes) to the given sizes
    /// of the spatial axes; `scales` are the scale factors they came from, if any (torch then reads
    /// positions by 1/scale), and `alignCorners` applies to Linear only (torch's align_corners).
    let interpolate (mode: InterpolationMode) (sizes: int[]) (scales: float[] option) (alignCorners: bool) (x: Expr) =
        if isNull sizes then nullArg "sizes"
        let spatial = x.Rank - 2
        if spatial < 1 || spatial > 3 || sizes.Length <> spatial then
            Shape.fail "Interpolate" (sprintf "needs an input [N, C, d1, ...] with 1 to 3 spatial axes and one size for each, got input %s and sizes %s" (Shape.format x.Dims) (Shape.format sizes))
        if sizes |> Array.exists (fun s -> s <= 0) || x.Dims.[2..] |> Array.exists (fun s -> s <= 0) then
            Shape.fail "Interpolate" (sprintf "sizes %s and the spatial axes of %s must be positive" (Shape.format sizes) (Shape.format x.Dims))
        if alignCorners && mode = InterpolationMode.Nearest then
            invalidArg "alignCorners" "Interpolate: align_corners applies only to linear modes, as in torch"
        let mutable y = x
        for k in 0 .. spatial - 1 do
            let axis = 2 + k
            let input, output = y.Dims.[axis], sizes.[k]
            let scale = scales |> Option.map (fun s -> s.[k])
            if input <> output || scale.IsSome then
                // Each output entry reads its taps by index, as torch's kernels do: a product with a 0/1 (or weight)
                // matrix also multiplied the entries it does not read by 0, so an infinite input entry made every
                // output of its row NaN (`fuzz 21/317`: nearest interpolation of [0, …, 0, −∞], NaN where torch's 0)
                let taps = axisTaps mode input output alignCorners scale
                let indices (pick: struct (int * int * float) -> int) =
                    Expr.constant (Tensor.ofArray64 [| output |] (taps |> Array.map (fun t -> float (pick t))))
                let first = Indexing.indexSelect axis (indices (fun (struct (i, _, _)) -> i)) y
                match mode with
                | InterpolationMode.Nearest -> y <- first
                | InterpolationMode.Linear ->
                    let second = Indexing.indexSelect axis (indices (fun (struct (_, i, _)) -> i)) y
                    let along = Array.init y.Rank (fun i -> if i = axis then output else 1)
                    let weights (f: float -> float) =
                        Expr.cast y.DType (Expr.constant (Tensor.ofArray64 along (taps |> Array.map (fun (struct (_, _, w)) -> f w))))
                    y <- first * weights (fun w -> 1.0 - w) + second * weights id
        y

    /// The output sizes of F.interpolate with scale factors: ⌊input · scale⌋ per spatial axis.
    let scaledSizes (scales: float[]) (x: Expr) =
        if isNull scales then nullArg "scales"
        if x.Rank - 2 <> scales.Length || scales |> Array.exists (fun s -> not (s > 0.0) || Double.IsInfinity s) then
            Shape.fail "Interpolate" (sprintf "needs one positive finite scale factor per spatial axis of %s, got %A" (Shape.format x.Dims) scales)
        Array.init scales.Length (fun k -> int (Math.Floor(float x.Dims.[2 + k] * scales.[k])))

    /// torch's F.gumbel_softmax(logits, tau, hard, dim) with the randomness given: softmax((logits + g)/tau) along the
    /// axis, g = −log(−log u) the Gumbel noise of uniform (0, 1) draws u of logits' shape. With `hard` the value is the
    /// one-hot of each row's argmax and the derivative the soft sample's, as torch's y_hard − y_soft.detach() + y_soft.
    let gumbelSoftmax (tau: float) (hard: bool) (axis: int) (noise: Expr) (logits: Expr) =
        if not (tau > 0.0) then invalidArg "tau" (sprintf "GumbelSoftmax: tau = %g must be positive (logits %s)" tau (Shape.format logits.Dims))
        if not (Ir.sameDims noise.Dims logits.Dims) then
            Shape.fail "GumbelSoftmax" (sprintf "the noise %s must have the logits' shape %s" (Shape.format noise.Dims) (Shape.format logits.Dims))
        if logits.Rank = 0 then Shape.fail "GumbelSoftmax" "the logits are a scalar; they need an axis of classes"
        let a = Shape.normalizeAxis "GumbelSoftmax" logits.Rank axis
        let u = Expr.cast logits.DType noise
        let gumbels = -(Expr.log (-(Expr.log u)))
        let soft = Expr.softmax a ((logits + gumbels) / Expr.scalar logits.DType tau)
        if not hard then soft
        else
            let index = Expr.argmax a true soft
            let classes = Expr.constant (Tensor.FromArray(Array.init logits.Dims.[a] float, Array.init logits.Rank (fun k -> if k = a then logits.Dims.[a] else 1)))
            let oneHot = Expr.cast logits.DType (Expr.eq (Expr.cast logits.DType classes) index)
            oneHot - Expr.stopGradient soft + soft

    /// Noise that broadcasts to the input, or an error naming `name`, the public method.
    let private checkNoise (name: string) (noise: Expr) (x: Expr) =
        if not (Shape.broadcastsTo noise.Dims x.Dims) then
            Shape.fail name (sprintf "the noise %s does not broadcast to the input %s" (Shape.format noise.Dims) (Shape.format x.Dims))

    /// The checks every dropout makes: p in [0, 1], and noise that broadcasts to the input; `name` is the public method.
    let private checkDropout (name: string) (p: float) (noise: Expr) (x: Expr) =
        if not (p >= 0.0 && p <= 1.0) then invalidArg "p" (sprintf "%s: p = %g must be in [0, 1] (input %s)" name p (Shape.format x.Dims))
        checkNoise name noise x

    /// Dropout with the caller's noise, as torch's F.dropout in training: x · (noise ≥ p) / (1 − p),
    /// where noise holds uniform [0, 1) draws broadcastable to x (each entry kept with probability
    /// 1 − p). p = 1 drops everything, as torch. The noise is an argument, not drawn here, so a
    /// compiled step that takes it as an input draws a fresh mask every call.
    let dropout (p: float) (noise: Expr) (x: Expr) =
        checkDropout "Dropout" p noise x
        if p = 1.0 then x * Expr.scalar x.DType 0.0
        elif p = 0.0 then x
        else
            let keep = Expr.ge (Expr.cast x.DType noise) (Expr.scalar x.DType p)
            x * keep * (1.0 / (1.0 - p))

    /// The per-channel noise of a feature dropout placed to broadcast over x: noise [N, C] for x [N, C, ...], or [C]
    /// for an unbatched x [C, ...] (`spatial` axes after the channels: 1, 2 or 3 for dropout1d/2d/3d, or any when
    /// None, as feature_alpha_dropout's [N, C]).
    let private channelNoise (name: string) (spatial: int option) (noise: Expr) (x: Expr) =
        let batched =
            match spatial with
            | Some k when x.Rank = k + 2 -> true
            | Some k when x.Rank = k + 1 -> false
            | Some k -> Shape.fail name (sprintf "input %s must be [N, C] followed by %d spatial axes, or unbatched [C] followed by them" (Shape.format x.Dims) k)
            | None when x.Rank >= 2 -> true
            | None -> Shape.fail name (sprintf "input %s needs at least 2 axes [N, C, ...]" (Shape.format x.Dims))
        let channels = if batched then x.Dims.[.. 1] else x.Dims.[.. 0]
        if not (Ir.sameDims noise.Dims channels) then
            Shape.fail name (sprintf "the noise %s must hold one draw per channel, %s, of input %s" (Shape.format noise.Dims) (Shape.format channels) (Shape.format x.Dims))
        Expr.reshape (Array.init x.Rank (fun i -> if i < channels.Length then x.Dims.[i] else 1)) noise

    /// torch's dropout1d/2d/3d in training (`spatial` axes after the channels): whole channels dropped, with the
    /// caller's noise one uniform [0, 1) draw per channel ([N, C], or [C] unbatched).
    let featureDropout (name: string) (spatial: int) (p: float) (noise: Expr) (x: Expr) =
        let noise = channelNoise name (Some spatial) noise x
        // checked under the caller's name before dropout checks them again under its own
        checkDropout name p noise x
        dropout p noise x

    /// The SELU saturation value torch's alpha dropout drops to, −λα, as its magnitude α' (1.7580993408473766).
    let private seluSaturation = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717

    /// torch's alpha_dropout in training, with the caller's noise (uniform [0, 1) draws broadcastable to x; an entry is
    /// kept where its draw is ≥ p): a kept entry is a·x + α'·a·p, a dropped one −α'·a·(1 − p), for
    /// a = 1/√((α'²p + 1)(1 − p)), so inputs of mean 0 and variance 1 keep them (self-normalising networks). p = 1
    /// gives zeros, as torch.
    let alphaDropout (p: float) (noise: Expr) (x: Expr) =
        checkDropout "AlphaDropout" p noise x
        if p = 1.0 then x * Expr.scalar x.DType 0.0
        elif p = 0.0 then x
        else
            let keep = Expr.ge (Expr.cast x.DType noise) (Expr.scalar x.DType p)
            let a = 1.0 / Math.Sqrt((seluSaturation * seluSaturation * p + 1.0) * (1.0 - p))
            // torch's order: b = (mask − 1)·α'a + α'a·p, then x·(mask·a) + b
            let shift = (keep - 1.0) * Expr.scalar x.DType (seluSaturation * a) + Expr.scalar x.DType (seluSaturation * a * p)
            x * (keep * Expr.scalar x.DType a) + shift

    /// torch's feature_alpha_dropout in training: alpha dropout of whole channels, one draw per channel ([N, C]).
    let featureAlphaDropout (p: float) (noise: Expr) (x: Expr) =
        let noise = channelNoise "FeatureAlphaDropout" None noise x
        checkDropout "FeatureAlphaDropout" p noise x
        alphaDropout p noise x

    /// torch's rrelu: x where x > 0, else r·x with r drawn uniformly from [lower, upper] per entry in training (the
    /// caller's noise u gives r = lower + (upper − lower)·u) or (lower + upper)/2 without noise (torch's eval mode).
    /// The slope at 0 is r, as torch's x ≤ 0 branch.
    let rrelu (lower: float) (upper: float) (noise: Expr option) (x: Expr) =
        if not (lower <= upper) then invalidArg "lower" (sprintf "RRelu: lower = %g must be <= upper = %g" lower upper)
        let slope =
            match noise with
            | None -> Expr.scalar x.DType ((lower + upper) / 2.0)
            | Some u ->
                checkNoise "RRelu" u x
                Expr.scalar x.DType lower + Expr.scalar x.DType (upper - lower) * Expr.cast x.DType u
        Expr.where (Expr.gt x (Expr.scalar x.DType 0.0)) x (x * slope)
