/// torch.distributions' densities as Expr composites: the log-probability and entropy of a
/// categorical distribution given by logits and of a normal distribution, written with torch's
/// formulas, so a policy-gradient or likelihood loss reads as its torch source. There are no
/// distribution objects and no sampling: draws come into a graph as data.
namespace FunctionalDiff.Core

open System

/// Log-probabilities and entropies of torch.distributions.Categorical and Normal.
[<RequireQualifiedAccess>]
module Distributions =

    let private dims (e: Expr) = Shape.format e.Dims

    /// The most negative finite number of the dtype: torch clamps a categorical's log-probabilities
    /// there before its entropy multiplies them by the probabilities, so a logit of −∞ (an action
    /// masked out) adds 0·(finite) = 0, not 0·(−∞) = NaN, and passes no NaN gradient.
    let private lowestFinite (dtype: DType) =
        match dtype with
        | DType.Float64 -> Double.MinValue
        | DType.Float32 -> float Single.MinValue

    /// Categorical(logits=logits).log_prob(value): log softmax of the logits along the last axis,
    /// picked at the integer classes in `value` (held in a float tensor, no gradient). Logits are
    /// [..., K] and value has the batch shape [...], the logits' shape without the last axis.
    let categoricalLogProb (logits: Expr) (value: Expr) =
        if logits.Rank = 0 then Shape.fail "CategoricalLogProb" (sprintf "logits %s need a last axis of classes" (dims logits))
        let batch = logits.Dims.[.. logits.Rank - 2]
        if not (Ir.sameDims value.Dims batch) then
            Shape.fail "CategoricalLogProb"
                (sprintf "value %s must have the batch shape %s of logits %s (their shape without the class axis)" (dims value) (Shape.format batch) (dims logits))
        Nn.checkClassIndicesOf "CategoricalLogProb" "logits" "value" (logits.Rank - 1) false None logits value
        let logp = Nn.logSoftmax -1 logits
        let index = Expr.reshape (Array.append batch [| 1 |]) (Expr.cast logits.DType value)
        Expr.reshape batch (Expr.gather (logits.Rank - 1) index logp)

    /// Categorical(logits=logits).entropy(): −Σ p·log p along the last axis, with log p clamped at the
    /// dtype's lowest finite number as torch does; the batch shape [...] of logits [..., K].
    let categoricalEntropy (logits: Expr) =
        if logits.Rank = 0 then Shape.fail "CategoricalEntropy" (sprintf "logits %s need a last axis of classes" (dims logits))
        let logp = Expr.maximum (Nn.logSoftmax -1 logits) (Expr.scalar logits.DType (lowestFinite logits.DType))
        let p = Nn.softmax -1 logits
        -(Expr.sumAxes [| logits.Rank - 1 |] false (p * logp))

    /// Normal(loc, scale).log_prob(value): −(value − loc)²/(2σ²) − log σ − log √(2π), elementwise
    /// with broadcasting, as torch's formula (σ = scale, not the variance).
    let normalLogProb (loc: Expr) (scale: Expr) (value: Expr) =
        let difference = value - loc
        -(difference * difference) / (Expr.scalar scale.DType 2.0 * scale * scale) - Expr.log scale
        - Expr.scalar scale.DType (Math.Log(Math.Sqrt(2.0 * Math.PI)))

    /// torch.distributions.kl_divergence(Normal(pLoc, pScale), Normal(qLoc, qScale)): ½·(r + ((μp − μq)/σq)² − 1 − log r)
    /// with r = (σp/σq)², elementwise with broadcasting, torch's formula. A VAE's KL(N(μ, σ²) ‖ N(0, 1)) is it with
    /// qLoc 0 and qScale 1.
    let normalKlDivergence (pLoc: Expr) (pScale: Expr) (qLoc: Expr) (qScale: Expr) =
        let ratio = Expr.square (pScale / qScale)
        let shift = Expr.square ((pLoc - qLoc) / qScale)
        0.5 * (ratio + shift - 1.0 - Expr.log ratio)

    /// Normal(loc, scale).entropy(): ½ + ½ log 2π + log σ, elementwise.
    let normalEntropy (scale: Expr) =
        Expr.scalar scale.DType (0.5 + 0.5 * Math.Log(2.0 * Math.PI)) + Expr.log scale
