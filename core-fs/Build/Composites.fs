/// Composite operations built from primitives: activations, normalisations and losses. They have
/// no rules of their own; their derivatives follow from the primitives they are made of.
namespace FunctionalDiff.Core

/// Neural-network building blocks over Expr, with torch's conventions.
[<RequireQualifiedAccess>]
module Nn =

    /// log(sum(exp x)) over axes, stable: the maximum is subtracted first. The shift is cut
    /// from differentiation because it cancels exactly, which keeps the derivative graph small.
    let logSumExp (axes: int[]) (keepDims: bool) (x: Expr) =
        let shift = Expr.stopGradient (Expr.maxAxes axes true x)
        let summed = Expr.sumAxes axes true (Expr.exp (x - shift))
        let result = Expr.log summed + shift
        if keepDims then result else Expr.reshape (Shape.reduced x.Dims (Shape.normalizeAxes "LogSumExp" x.Rank axes) false) result

    /// Softmax along one axis, stable.
    let softmax (axis: int) (x: Expr) =
        let shifted = x - Expr.stopGradient (Expr.maxAxes [| axis |] true x)
        let e = Expr.exp shifted
        e / Expr.sumAxes [| axis |] true e

    /// log(softmax x) along one axis, stable.
    let logSoftmax (axis: int) (x: Expr) = x - logSumExp [| axis |] true x

    /// log(1 + e^x) without overflow: max(x, 0) + log1p(e^-|x|). `maximum` (not relu) makes the
    /// derivative at 0 come out as the true 1/2 through torch's tie convention.
    let softplus (x: Expr) = Expr.maximum x (Expr.scalar x.DType 0.0) + Expr.log1p (Expr.exp (-(Expr.abs x)))

    /// Mean squared error.
    let mse (prediction: Expr) (target: Expr) = Expr.mean (Expr.square (prediction - target))

    /// Cross-entropy from logits [N, C] and class-index targets [N] (integers held in a float
    /// tensor), averaged over the batch, as torch.nn.functional.cross_entropy.
    let crossEntropy (logits: Expr) (targets: Expr) =
        if logits.Rank <> 2 || targets.Rank <> 1 || targets.Dims.[0] <> logits.Dims.[0] then
            Shape.fail "CrossEntropy" (sprintf "logits %s need rank 2 and targets %s rank 1 with the same batch" (Shape.format logits.Dims) (Shape.format targets.Dims))
        let picked = Expr.gather 1 (Expr.reshape [| targets.Dims.[0]; 1 |] targets) (logSoftmax 1 logits)
        -(Expr.mean picked)

    /// Binary cross-entropy from logits, averaged: max(x,0) - x*t + log1p(e^-|x|).
    let binaryCrossEntropyWithLogits (logits: Expr) (targets: Expr) =
        let zero = Expr.scalar logits.DType 0.0
        Expr.mean (Expr.maximum logits zero - logits * targets + Expr.log1p (Expr.exp (-(Expr.abs logits))))

    /// A dense layer as torch.nn.Linear: x @ weightᵀ + bias, weight [out, in].
    let linear (weight: Expr) (bias: Expr) (x: Expr) = Expr.matmul x (Expr.transpose weight) + bias

    /// Layer normalisation over the last axis with torch's biased variance, then scale and shift.
    let layerNorm (epsilon: float) (weight: Expr) (bias: Expr) (x: Expr) =
        let centred = x - Expr.meanAxes [| -1 |] true x
        let variance = Expr.meanAxes [| -1 |] true (Expr.square centred)
        centred * Expr.rsqrt (variance + epsilon) * weight + bias
