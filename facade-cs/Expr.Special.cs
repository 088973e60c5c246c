using System.Runtime.CompilerServices;
using Microsoft.FSharp.Core;
using Build = FunctionalDiff.Core.ExprModule;
using CoreActivations = FunctionalDiff.Core.Activations;
using CoreStatistics = FunctionalDiff.Core.Statistics;

namespace FunctionalDiff;

// Special functions, activations, variance and norms, with torch's values and gradient
// conventions at poles and kinks.
public sealed partial class Expr
{
    /// <summary>log|Γ(x)| (torch.lgamma): +∞ at 0, the negative integers and ±∞. Its derivative is <see cref="Digamma"/>.</summary>
    public Expr Lgamma() => Apply(Build.lgamma);

    /// <summary>ψ(x) = d/dx log Γ(x) (torch.digamma): −∞ at +0, NaN at the negative integers. Its derivative is <c>Polygamma(1)</c>.</summary>
    public Expr Digamma() => Apply(Build.digamma);

    /// <summary>
    /// ψ⁽ⁿ⁾(x), the n-th derivative of digamma (torch.polygamma; n = 0 is digamma). Its derivative is
    /// <c>Polygamma(n + 1)</c>, so it differentiates to any order.
    /// </summary>
    /// <param name="n">The order, at least 0.</param>
    public Expr Polygamma(int n) => Wrap(Build.polygamma(n, Node));

    /// <summary>The complementary error function 1 − erf(x), accurate far in its tail (erfc(10) ≈ 2e-45).</summary>
    public Expr Erfc() => Apply(Build.erfc);

    /// <summary>log σ(x) = −softplus(−x), stable for large |x| (torch.nn.functional.logsigmoid).</summary>
    public Expr LogSigmoid() => Apply(CoreActivations.logSigmoid);

    /// <summary>The exact GELU x·Φ(x), Φ the standard normal CDF (torch's gelu with approximate="none").</summary>
    public Expr Gelu() => Apply(CoreActivations.gelu);

    /// <summary>GELU's tanh approximation x/2·(1 + tanh(√(2/π)(x + 0.044715x³))) (torch's gelu with approximate="tanh").</summary>
    public Expr GeluTanh() => Apply(CoreActivations.geluTanh);

    /// <summary>x·σ(x), also called swish (torch.nn.functional.silu).</summary>
    public Expr Silu() => Apply(CoreActivations.silu);

    /// <summary>x for x &gt; 0, α(eˣ − 1) otherwise (torch.nn.functional.elu). At 0 every derivative is α, as in torch.</summary>
    /// <param name="alpha">The scale of the negative branch.</param>
    public Expr Elu(double alpha = 1.0) => Wrap(CoreActivations.elu(alpha, Node));

    /// <summary>x for x &gt; 0, negativeSlope·x otherwise (torch.nn.functional.leaky_relu); at 0 the derivative is the slope.</summary>
    /// <param name="negativeSlope">The slope for x ≤ 0.</param>
    public Expr LeakyRelu(double negativeSlope = 0.01) => Wrap(CoreActivations.leakyRelu(negativeSlope, Node));

    /// <summary>x / (1 + |x|) (torch.nn.functional.softsign).</summary>
    public Expr Softsign() => Apply(CoreActivations.softsign);

    /// <summary>
    /// Limits every element to [min, max] (torch.clamp); a null or omitted bound is absent (<c>x.Clamp(min: 0)</c>). The gradient is 1 where
    /// min ≤ x ≤ max, bounds included, and 0 elsewhere and at NaN, as in torch. When min &gt; max every
    /// element is max.
    /// </summary>
    /// <param name="min">The lower bound, or null for none.</param>
    /// <param name="max">The upper bound, or null for none.</param>
    public Expr Clamp(double? min = null, double? max = null) =>
        Wrap(CoreActivations.clamp(Option(min), Option(max), Node));

    /// <summary>
    /// Limits every element to [min, max] where the bounds are tensors, broadcast with this one (torch's
    /// <c>torch.clamp(x, min=lo, max=hi)</c> with tensor bounds), as a PGD attack projects onto the ε-ball around its
    /// input: <c>xAdv.Clamp(x - eps, x + eps)</c>. The value is min(max(x, min), max): NaN propagates, and where
    /// min &gt; max the element is max. The derivative is routed as torch's: to this tensor where min ≤ x ≤ max (bounds
    /// included), to min where x &lt; min &lt; max, to max where x &gt; max or max &lt; min, and nowhere at NaN or
    /// where x &lt; min = max. F#: <c>Activations.clampBetween</c>.
    /// </summary>
    /// <param name="min">The lower bounds.</param>
    /// <param name="max">The upper bounds.</param>
    /// <exception cref="ArgumentNullException">min or max is null.</exception>
    /// <exception cref="ArgumentException">The three shapes do not broadcast together.</exception>
    public Expr Clamp(Expr min, Expr max)
    {
        var (x, lower) = Align(this, min);
        var upper = Align(this, max).B;
        return Wrap(CoreActivations.clampBetween(lower, upper, x));
    }

    /// <summary>
    /// x limited to [min, max] (torch.nn.functional.hardtanh). Unlike <see cref="Clamp(double?, double?)"/>, the derivative is 0 at the
    /// bounds themselves, as torch's hardtanh: 1 strictly inside and at NaN (whose value stays NaN), 0 elsewhere.
    /// </summary>
    /// <param name="min">The lower bound.</param>
    /// <param name="max">The upper bound, at least min.</param>
    /// <exception cref="ArgumentException">min exceeds max.</exception>
    public Expr Hardtanh(double min = -1.0, double max = 1.0) => Wrap(CoreActivations.hardtanh(min, max, Node));

    /// <summary>min(max(x, 0), 6) (torch.nn.functional.relu6): <see cref="Hardtanh"/> over [0, 6], derivative 0 at 0 and 6.</summary>
    public Expr Relu6() => Apply(CoreActivations.relu6);

    /// <summary>
    /// (x + 3)/6 limited to [0, 1] (torch.nn.functional.hardsigmoid). The derivative is 1/6 strictly between −3 and 3
    /// and 0 elsewhere, at ±3 and at NaN, as in torch (whose float64 kernel uses 1/6 rounded to float32).
    /// </summary>
    public Expr Hardsigmoid() => Apply(CoreActivations.hardsigmoid);

    /// <summary>
    /// x·(x + 3)/6 between −3 and 3, 0 below and x above (torch.nn.functional.hardswish). As in torch, the derivative
    /// is 0 at −3 and 1 at 3 and at NaN, the second derivative 1/3 strictly inside, and −∞ gives NaN (−∞·0).
    /// </summary>
    public Expr Hardswish() => Apply(CoreActivations.hardswish);

    /// <summary>
    /// x·tanh(softplus(x)) (torch.nn.functional.mish): x for large x, −0 far below 0. As in torch, the value at −∞
    /// and the derivative at ±∞ are NaN.
    /// </summary>
    public Expr Mish() => Apply(CoreActivations.mish);

    static FSharpOption<double> Option(double? value) => value.HasValue ? FSharpOption<double>.Some(value.Value) : FSharpOption<double>.None;

    /// <summary>The variance of all elements with Bessel's correction (torch.var).</summary>
    public Expr Var() => Var(AllAxes, 1.0, false);

    /// <summary>The variance along an axis: Σ(x − mean)² / (N − correction) (torch.var).</summary>
    /// <param name="axis">The axis to reduce.</param>
    /// <param name="correction">Subtracted from the count: 1 for the unbiased estimate, 0 for the biased one.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    public Expr Var(int axis, double correction = 1.0, bool keepDims = false) => Var(new[] { axis }, correction, keepDims);

    /// <summary>The variance over axes: Σ(x − mean)² / (N − correction) (torch.var).</summary>
    /// <param name="axes">The axes to reduce.</param>
    /// <param name="correction">Subtracted from the count: 1 for the unbiased estimate, 0 for the biased one.</param>
    /// <param name="keepDims">Keep the reduced axes with length 1.</param>
    public Expr Var(int[] axes, double correction = 1.0, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(CoreStatistics.var(axes, correction, keepDims, Node));
    }

    /// <summary>The standard deviation of all elements with Bessel's correction (torch.std); its gradient is 0 where it is 0, as in torch.</summary>
    public Expr Std() => Std(AllAxes, 1.0, false);

    /// <summary>The standard deviation along an axis (torch.std); its gradient is 0 where it is 0, as in torch.</summary>
    /// <param name="axis">The axis to reduce.</param>
    /// <param name="correction">Subtracted from the count: 1 for the unbiased estimate, 0 for the biased one.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    public Expr Std(int axis, double correction = 1.0, bool keepDims = false) => Std(new[] { axis }, correction, keepDims);

    /// <summary>The standard deviation over axes (torch.std); its gradient is 0 where it is 0, as in torch.</summary>
    /// <param name="axes">The axes to reduce.</param>
    /// <param name="correction">Subtracted from the count: 1 for the unbiased estimate, 0 for the biased one.</param>
    /// <param name="keepDims">Keep the reduced axes with length 1.</param>
    public Expr Std(int[] axes, double correction = 1.0, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(CoreStatistics.std(axes, correction, keepDims, Node));
    }

    /// <summary>
    /// The vector p-norm of all elements (torch.linalg.vector_norm): (Σ|x|^p)^(1/p) for p &gt; 0 and p &lt; 0 (0 where an
    /// entry is 0, for negative p), max |x| for
    /// <see cref="double.PositiveInfinity"/>, min |x| for <see cref="double.NegativeInfinity"/>, the count of nonzero
    /// entries for 0. The gradient at 0 is 0 for every p, as in torch.
    /// </summary>
    /// <param name="p">Any number but NaN: positive, negative, 0, or ±infinity.</param>
    public Expr Norm(double p = 2.0) => Norm(p, AllAxes, false);

    /// <summary>The vector p-norm along an axis (torch.linalg.vector_norm; p as in <see cref="Norm(double)"/>); gradient 0 at 0.</summary>
    /// <param name="p">Any number but NaN: positive, negative, 0, or ±infinity.</param>
    /// <param name="axis">The axis to reduce.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    public Expr Norm(double p, int axis, bool keepDims = false) => Norm(p, new[] { axis }, keepDims);

    /// <summary>
    /// The vector p-norm (the 2-norm by default) along an axis named without the order, torch's
    /// <c>d.norm(dim=-1, keepdim=True)</c> written <c>d.Norm(axis: -1, keepDims: true)</c> (a ray's length in a
    /// renderer), the same as <see cref="Norm(double, int, bool)"/>. It ranks below the overloads whose first argument is
    /// the order, so <c>x.Norm(1)</c> stays the 1-norm of every element, as torch's <c>x.norm(1)</c>.
    /// </summary>
    /// <param name="axis">The axis to reduce.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    /// <param name="p">Any number but NaN: positive, negative, 0, or ±infinity.</param>
    [OverloadResolutionPriority(-1)]
    public Expr Norm(int axis, bool keepDims = false, double p = 2.0) => Norm(p, axis, keepDims);

    /// <summary>The vector p-norm over axes (torch.linalg.vector_norm; p as in <see cref="Norm(double)"/>); gradient 0 at 0.</summary>
    /// <param name="p">Any number but NaN: positive, negative, 0, or ±infinity.</param>
    /// <param name="axes">The axes to reduce.</param>
    /// <param name="keepDims">Keep the reduced axes with length 1.</param>
    public Expr Norm(double p, int[] axes, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(CoreStatistics.norm(p, axes, keepDims, Node));
    }

    /// <summary>The Frobenius norm of the matrices in the last two axes (torch.linalg.matrix_norm with ord="fro"); gradient 0 at 0.</summary>
    /// <param name="keepDims">Keep the two reduced axes with length 1.</param>
    public Expr FrobeniusNorm(bool keepDims = false) => Wrap(CoreStatistics.frobenius(keepDims, Node));
}
