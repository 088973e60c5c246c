/// Composite operations built from primitives: activations, normalisations and losses. They have
/// no rules of their own; their derivatives follow from the primitives they are made of.
namespace FunctionalDiff.Core

open System

/// Neural-network building blocks over Expr, with torch's conventions.
[<RequireQualifiedAccess>]
module Nn =

    /// True when some of the axes has length 0 (a reduction over nothing).
    let private overEmpty (name: string) (axes: int[]) (x: Expr) =
        Shape.normalizeAxes name x.Rank axes |> Array.exists (fun a -> x.Dims.[a] = 0)

    /// The maximum over the axes, subtracted before exp so it cannot overflow, and cut from
    /// differentiation because it cancels exactly. Over an empty axis there is no maximum and
    /// nothing to overflow, so the shift is 0 there.
    let private maximumShift (name: string) (axes: int[]) (x: Expr) =
        if overEmpty name axes x then Expr.scalar x.DType 0.0
        else Expr.stopGradient (Expr.maxAxes axes true x)

    /// log(sum(exp x)) over axes, stable, with torch's semantics at the edges: a maximum that
    /// is ±inf is not subtracted (inf - inf would be NaN), so all -inf gives -inf and a +inf
    /// entry gives +inf; an empty axis gives -inf (the log of an empty sum).
    let logSumExp (axes: int[]) (keepDims: bool) (x: Expr) =
        let shift =
            if overEmpty "LogSumExp" axes x then Expr.scalar x.DType 0.0
            else
                let maximum = Expr.maxAxes axes true x
                let finite = Expr.lt (Expr.abs maximum) (Expr.scalar x.DType Double.PositiveInfinity)
                Expr.stopGradient (Expr.where finite maximum (Expr.scalar x.DType 0.0))
        let summed = Expr.sumAxes axes true (Expr.exp (x - shift))
        let result = Expr.log summed + shift
        if keepDims then result else Expr.reshape (Shape.reduced x.Dims (Shape.normalizeAxes "LogSumExp" x.Rank axes) false) result

    /// Softmax along one axis, stable, as torch: x - max(x) before exp (so a row holding +inf,
    /// or only -inf, is NaN as in torch), and an empty axis gives the empty result.
    let softmax (axis: int) (x: Expr) =
        let e = Expr.exp (x - maximumShift "Softmax" [| axis |] x)
        e / Expr.sumAxes [| axis |] true e

    /// log(softmax x) along one axis, stable, as torch: (x - max) - log(sum(exp(x - max))).
    let logSoftmax (axis: int) (x: Expr) =
        let shifted = x - maximumShift "LogSoftmax" [| axis |] x
        shifted - Expr.log (Expr.sumAxes [| axis |] true (Expr.exp shifted))

    /// log(1 + e^x), smooth at every order. Each branch is an exact identity for softplus and
    /// stable on its own side: x + log1p(e^-x) for x > 0, log1p(e^x) elsewhere. Each branch
    /// reads x only on its own side (0 on the other), so the other side's overflow reaches
    /// neither values nor derivatives. (max(x,0) + log1p(e^-|x|) has the right value and first
    /// derivative, but its second derivative at 0 came out 0 instead of σ'(0) = 1/4.)
    let softplus (x: Expr) =
        let zero = Expr.scalar x.DType 0.0
        let positive = Expr.gt x zero
        let above = Expr.where positive x zero
        let below = Expr.where positive zero x
        Expr.where positive (above + Expr.log1p (Expr.exp (-above))) (Expr.log1p (Expr.exp below))

    /// Mean squared error.
    let mse (prediction: Expr) (target: Expr) = Expr.mean (Expr.square (prediction - target))

    /// Cross-entropy from logits [N, C] and class-index targets [N] (integers held in a float
    /// tensor), averaged over the batch, as torch.nn.functional.cross_entropy.
    let crossEntropy (logits: Expr) (targets: Expr) =
        if logits.Rank <> 2 || targets.Rank <> 1 || targets.Dims.[0] <> logits.Dims.[0] then
            Shape.fail "CrossEntropy" (sprintf "logits %s need rank 2 and targets %s rank 1 with the same batch" (Shape.format logits.Dims) (Shape.format targets.Dims))
        let picked = Expr.gather 1 (Expr.reshape [| targets.Dims.[0]; 1 |] targets) (logSoftmax 1 logits)
        -(Expr.mean picked)

    /// Binary cross-entropy from logits, averaged: softplus(x) - x*t, smooth at every order.
    let binaryCrossEntropyWithLogits (logits: Expr) (targets: Expr) =
        Expr.mean (softplus logits - logits * targets)

    /// A dense layer as torch.nn.Linear: x @ weightᵀ + bias, weight [out, in].
    let linear (weight: Expr) (bias: Expr) (x: Expr) = Expr.matmul x (Expr.transpose weight) + bias

    /// Layer normalisation over the last axis with torch's biased variance, then scale and shift.
    let layerNorm (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        let centred = x - Expr.meanAxes [| -1 |] true x
        let variance = Expr.meanAxes [| -1 |] true (Expr.square centred)
        centred * Expr.rsqrt (variance + epsilon) * weight + bias
