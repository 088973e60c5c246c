using CoreDistributions = FunctionalDiff.Core.Distributions;

namespace FunctionalDiff;

/// <summary>
/// torch.distributions' log-probabilities and entropies, as functions of <see cref="Expr"/>s with torch's formulas:
/// <c>Categorical(logits=l).log_prob(a)</c> is <c>Distributions.CategoricalLogProb(l, a)</c>, <c>Normal(mu, sigma).log_prob(x)</c>
/// is <c>Distributions.NormalLogProb(mu, sigma, x)</c>. There are no distribution objects and no sampling: draws are
/// data (<see cref="Tensor.Randn(int[])"/>, or actions chosen outside the graph) passed in. F#: module <c>Distributions</c>.
/// </summary>
public static class Distributions
{
    /// <summary>
    /// torch's <c>Categorical(logits=logits).log_prob(value)</c>: log softmax of <paramref name="logits"/> along the last axis,
    /// at the class each entry of <paramref name="value"/> names (whole numbers held in a float tensor, no gradient).
    /// The logits need not be normalised.
    /// </summary>
    /// <param name="logits">Unnormalised log-probabilities [..., K].</param>
    /// <param name="value">Classes in [0, K), of the batch shape [...] (the logits' shape without the last axis).</param>
    /// <returns>The log-probabilities, of the batch shape.</returns>
    /// <exception cref="ArgumentException">The logits have rank 0, value's shape is not their batch shape, or value is a
    /// constant holding an entry outside [0, K) (an <see cref="ArgumentOutOfRangeException"/>; a value computed in the graph
    /// is checked at evaluation, by the Gather that picks it).</exception>
    public static Expr CategoricalLogProb(Expr logits, Expr value)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(value);
        return Expr.Wrap(CoreDistributions.categoricalLogProb(logits.Node, value.Node));
    }

    /// <summary>
    /// torch's <c>Categorical(logits=logits).entropy()</c>: −Σ p·log p over the last axis, p the softmax of the logits; as
    /// torch, log p is clamped at the dtype's lowest finite number, so a class masked out by a logit of −∞ adds 0.
    /// </summary>
    /// <param name="logits">Unnormalised log-probabilities [..., K].</param>
    /// <returns>The entropies, of the batch shape [...].</returns>
    /// <exception cref="ArgumentException">The logits have rank 0.</exception>
    public static Expr CategoricalEntropy(Expr logits)
    {
        ArgumentNullException.ThrowIfNull(logits);
        return Expr.Wrap(CoreDistributions.categoricalEntropy(logits.Node));
    }

    /// <summary>
    /// torch's <c>Normal(loc, scale).log_prob(value)</c>: −(value − loc)²/(2·scale²) − log scale − log √(2π), elementwise with
    /// broadcasting; <paramref name="scale"/> is the standard deviation, as torch's. A number may stand for any argument.
    /// </summary>
    /// <param name="loc">The mean μ.</param>
    /// <param name="scale">The standard deviation σ (positive).</param>
    /// <param name="value">The points to score.</param>
    public static Expr NormalLogProb(Expr loc, Expr scale, Expr value)
    {
        ArgumentNullException.ThrowIfNull(loc);
        ArgumentNullException.ThrowIfNull(scale);
        ArgumentNullException.ThrowIfNull(value);
        var parts = Expr.Align(new[] { loc, scale, value }, nameof(loc));
        return Expr.Wrap(CoreDistributions.normalLogProb(parts[0], parts[1], parts[2]));
    }

    /// <summary>
    /// torch's <c>kl_divergence(Normal(pLoc, pScale), Normal(qLoc, qScale))</c>: ½·(r + ((μp − μq)/σq)² − 1 − log r) with
    /// r = (σp/σq)², elementwise with broadcasting, torch's formula; a number may stand for any argument. A VAE's KL term
    /// is <c>Distributions.NormalKlDivergence(mu, (0.5 * logvar).Exp(), 0.0, 1.0).Sum()</c>, the same as
    /// <c>-0.5 * (1 + logvar - mu.Square() - logvar.Exp()).Sum()</c>. F#: <c>Distributions.normalKlDivergence</c>.
    /// </summary>
    /// <param name="pLoc">The first distribution's mean.</param>
    /// <param name="pScale">The first distribution's standard deviation (positive).</param>
    /// <param name="qLoc">The second distribution's mean.</param>
    /// <param name="qScale">The second distribution's standard deviation (positive).</param>
    /// <exception cref="ArgumentException">The arguments do not broadcast together.</exception>
    public static Expr NormalKlDivergence(Expr pLoc, Expr pScale, Expr qLoc, Expr qScale)
    {
        ArgumentNullException.ThrowIfNull(pLoc);
        ArgumentNullException.ThrowIfNull(pScale);
        ArgumentNullException.ThrowIfNull(qLoc);
        ArgumentNullException.ThrowIfNull(qScale);
        var parts = Expr.Align(new[] { pLoc, pScale, qLoc, qScale }, nameof(pLoc));
        return Interop.Named("NormalKlDivergence", () => Expr.Wrap(CoreDistributions.normalKlDivergence(parts[0], parts[1], parts[2], parts[3])));
    }

    /// <summary>torch's <c>Normal(loc, scale).entropy()</c>: ½ + ½ log 2π + log scale, elementwise (it does not depend on the mean).</summary>
    /// <param name="scale">The standard deviation σ (positive).</param>
    public static Expr NormalEntropy(Expr scale)
    {
        ArgumentNullException.ThrowIfNull(scale);
        return Expr.Wrap(CoreDistributions.normalEntropy(scale.Node));
    }
}
