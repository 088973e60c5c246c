using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges23 settled: the two programs the lead's runs after the edges22 merge left open (`adversarial 3/188`,
/// torch's sinc slope near 0; `all adversarial 29/89`, prelu's double backward after a lerp towards +∞), and the findings of
/// its seeds. Torch's numbers and ours against closed forms, and the programs.
/// </summary>
public class FuzzSeeds82To86Tests
{
    static torch.Tensor Float64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    /// <summary>sinc′(x) from its Maclaurin series −π²x/3 + π⁴x³/30 − …: below |x| = 1e-8 the second term is below 1e-16 of
    /// the first, so the first is the slope to every float64 digit (700-digit mpmath, offline: 3.2898681336964528729e-300 at
    /// x = −1e-300).</summary>
    static double SincSlopeNearZero(double x) => -Math.PI * Math.PI * x / 3;

    [Fact]
    public void Adversarial3_188_TorchsSincSlopeIsZeroBelowAbout1e8_TheClosedFormIsMinusPiSquaredXOverThree_NamedTorchWrong()
    {
        // torch's sinc_backward is g·(πx·cos πx − sin πx)/(πx²), masked to 0 where πx² is 0: at x = 1e-9 cos πx rounds to 1
        // and sin πx to πx, so the numerator is exactly 0; at x = −1e-300 πx² underflows and the mask takes the entry
        double[] x = { -1e-300, 1e-9, -3e-9 };
        Assert.Equal(3.2898681336964528e-300, SincSlopeNearZero(-1e-300), 1e-315);
        var leaf = Float64(x, 3).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { leaf.sinc().sum() }, new[] { leaf })[0]);
        Assert.Equal(new[] { 0.0, 0.0, 0.0 }, torchs);
        Assert.Equal(0.0, x[1] * Math.PI * Math.Cos(x[1] * Math.PI) - Math.Sin(x[1] * Math.PI));
        Assert.Equal(0.0, x[0] * x[0] * Math.PI);
        var ours = Diff.Grad(e => e.Sinc().Sum())(Tensor.FromArray(x, 3)).Eval().ToDoubleArray();
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(ours[i] - SincSlopeNearZero(x[i])) <= 1e-15 * Math.Abs(SincSlopeNearZero(x[i])),
                $"ours at {x[i]:R}: {ours[i]:R}, the series {SincSlopeNearZero(x[i]):R}");

        // the program, shrunk: Σ u·(c·sinc x) at x = −1e-300 with c holding +∞ in four entries whose cotangents are negative,
        // so the gradient Σ cᵢuᵢ·sinc′(x) is −∞ (a positive slope times −∞); torch's masked slope gives 0
        double[] c = { double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity,
                       1.6487212707001282, Math.E, 1.6487212707001282, 1 };
        double[] u = { -0.313113, -0.174349, -0.740746, -0.0903759, 1.75487, 1.41923, 2.13114, 0.614416 };
        Assert.Equal(double.NegativeInfinity, c.Zip(u, (p, q) => p * q).Sum() * SincSlopeNearZero(-1e-300));
        var at = Float64(new[] { -1e-300 }, 1).requires_grad_(true);
        var torchGradient = Values(torch.autograd.grad(new[] { (Float64(c, 2, 2, 2) * at.sinc() * Float64(u, 2, 2, 2)).sum() }, new[] { at })[0]);
        Assert.Equal(new[] { 0.0 }, torchGradient);
        var ourGradient = Diff.Grad(e => (Tensor.FromArray(c, 2, 2, 2) * e.Sinc() * Tensor.FromArray(u, 2, 2, 2)).Sum())(Tensor.FromArray(new[] { -1e-300 }, 1));
        Assert.Equal(new[] { double.NegativeInfinity }, ourGradient.Eval().ToDoubleArray());
        Passes(FuzzCommand.Programs(1, 3, 188, adversarial: true)[0]);
    }

    [Fact]
    public void AllAdversarial29_89_PreluAndLeakyReluAfterAnInfiniteSlope_TorchsDoubleBackwardHandsZerosToIt_NaN_NamedTorchNaNEdge()
    {
        // Σ u·prelu(lerp(a, b, w), c) at b = +∞, w = −88: both engines form lerp as b − (b − a)(1 − w) where |w| ≥ ½, ∞ − ∞ =
        // NaN, and both take prelu's slope c there (NaN > 0 is false). On that branch the function is c·Σuᵢ(aᵢ + w(b − aᵢ)), a
        // polynomial whose Hessian is constant: ∂²/∂w∂b = cΣu, ∂²/∂w∂aᵢ = −cuᵢ, 0 elsewhere. So the second-order check H·v is
        // [−cuᵢv_w, cΣu·v_w, c(Σu·v_b − Σuᵢv_aᵢ)] over (a, b, w), finite though the gradient in w is c·Σuᵢ(b − aᵢ) = ∞ − ∞
        double[] a = { -88, -0.6959956 }, u = { 0.46368, -2.6366 }, va = { 0.3, -0.5 };
        double b = double.PositiveInfinity, w = -88, c = 2.1745868, vb = 0.7, vw = 1.1;
        double[] closed =
        {
            -c * u[0] * vw, -c * u[1] * vw, c * u.Sum() * vw,
            c * (u.Sum() * vb - u.Zip(va, (p, q) => p * q).Sum()),
        };
        double[] z = { a[0], a[1], b, w }, v = { va[0], va[1], vb, vw };

        double[] TorchsSecondOrder(Func<torch.Tensor, torch.Tensor> after)
        {
            var at = Float64(z, 4).requires_grad_(true);
            var y = after(torch.lerp(at.narrow(0, 0, 2), at.narrow(0, 2, 1), at.narrow(0, 3, 1)));
            var g = torch.autograd.grad(new[] { (y * Float64(u, 2)).sum() }, new[] { at }, retain_graph: true, create_graph: true)[0];
            return Values(torch.autograd.grad(new[] { (g * Float64(v, 4)).sum() }, new[] { at })[0]);
        }
        var cTensor = Float64(new[] { c }, 1);
        Assert.All(Values(torch.lerp(Float64(a, 2), Float64(new[] { b }, 1), Float64(new[] { w }, 1))), y => Assert.True(double.IsNaN(y), $"torch's lerp {y:R}"));
        Assert.All(Expr.Lerp(Tensor.FromArray(a, 2), Tensor.FromArray(new[] { b }, 1), Tensor.FromArray(new[] { w }, 1)).Eval().ToDoubleArray(),
            y => Assert.True(double.IsNaN(y), $"our lerp {y:R}"));
        // torch's own composites of the same function give the closed form: lerp times c, and the branch taken by a where
        foreach (var composite in new Func<torch.Tensor, torch.Tensor>[] { t => t * cTensor, t => torch.where(t.gt(0.0), t, t * cTensor) })
        {
            var h = TorchsSecondOrder(composite);
            for (int i = 0; i < 4; i++) Assert.Equal(closed[i], h[i], 1e-12);
        }
        // prelu's and leaky relu's double backward hands the lerp zeros_like(input), which meet its slope in w, b − a = +∞,
        // as 0·∞ = NaN at w alone; the other entries are the closed form
        foreach (var activation in new Func<torch.Tensor, torch.Tensor>[] { t => torch.nn.functional.prelu(t, cTensor), t => torch.nn.functional.leaky_relu(t, c) })
        {
            var h = TorchsSecondOrder(activation);
            Assert.True(double.IsNaN(h[3]), $"torch's entry at w: {h[3]:R}");
            for (int i = 0; i < 3; i++) Assert.Equal(closed[i], h[i], 1e-12);
        }
        Expr Lerp(Expr e) => Expr.Lerp(e.Narrow(0, 0, 2), e.Narrow(0, 2, 1), e.Narrow(0, 3, 1));
        foreach (var activation in new Func<Expr, Expr>[] { e => e.Prelu(Tensor.FromArray(new[] { c }, 1)), e => e.LeakyRelu(c) })
        {
            var ours = Diff.Hvp(e => (activation(Lerp(e)) * Tensor.FromArray(u, 2)).Sum(), Tensor.FromArray(z, 4), Tensor.FromArray(v, 4)).Eval().ToDoubleArray();
            for (int i = 0; i < 4; i++) Assert.Equal(closed[i], ours[i], 1e-12);
        }
        Passes(FuzzCommand.Programs(1, 29, 89, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial72_183_MishUnderAnInfiniteCotangent_TorchSharpsCompositeMeetsInfinityTimesZero_NamedTorchNaNEdge()
    {
        // mish′(x) = tanh(softplus x) + x·sech²(softplus x)·σ(x): at 0 it is tanh(log 2) = (2 − ½)/(2 + ½) = 0.6, and from
        // x ≈ 19 on it is 1 to every float64 digit (the second term is below x·4e^(−2x)); under the cotangent +∞ the gradient
        // is +∞ at every such x. TorchSharp's F.mish is x·tanh(softplus x) with torch's ops, whose product rule hands the tanh
        // factor g·x: ∞·0 at x = 0, and ∞ times tanh's slope 1 − tanh² = 0 where it has saturated, NaN both
        double[] x = { 1e30, 40, 0 };
        Assert.Equal(0.6, Math.Tanh(Math.Log(2)), 1e-15);
        var at = Float64(x, 3).requires_grad_(true);
        var infinite = Float64(new[] { double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity }, 3);
        var torchs = Values(torch.autograd.grad(new[] { torch.nn.functional.mish(at) }, new[] { at }, new[] { infinite })[0]);
        Assert.All(torchs, g => Assert.True(double.IsNaN(g), $"torch's {g:R}"));
        var (_, pullback) = Diff.Vjp(e => e.Mish(), Tensor.FromArray(x, 3));
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity }, pullback(Tensor.FromArray(new[] { double.PositiveInfinity, double.PositiveInfinity, double.PositiveInfinity }, 3)).Eval().ToDoubleArray());
        // under a finite cotangent both are the closed form's slope
        var slopes = Diff.Grad(e => e.Mish().Sum())(Tensor.FromArray(x, 3)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 1.0, 1.0, 0.6 }, slopes.Select(v => Math.Round(v, 15)).ToArray());
        var leaf = Float64(x, 3).requires_grad_(true);
        var torchSlopes = Values(torch.autograd.grad(new[] { torch.nn.functional.mish(leaf).sum() }, new[] { leaf })[0]);
        Assert.Equal(new[] { 1.0, 1.0, 0.6 }, torchSlopes.Select(v => Math.Round(v, 15)).ToArray());
        Passes(FuzzCommand.Programs(1, 72, 183, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial72_213_AcoshAndAsinhAtInfinity_SecondDerivativeIsTheLimit0_TorchsRsqrtRuleMeetsZeroTimesInfinity_NamedTorchNaNEdge()
    {
        // acosh″(x) = −x/(x² − 1)^(3/2) and asinh″(x) = −x/(x² + 1)^(3/2), both about −1/x² for large |x| (−1e-60 at 1e30),
        // limit 0 at ±∞; torch differentiates its slope rsqrt(x² ∓ 1) as −½·rsqrt(x² ∓ 1)³·2x, 0·∞ = NaN at ±∞
        double[] x = { double.PositiveInfinity, 1e30 }, y = { double.PositiveInfinity, double.NegativeInfinity, 1e30 };
        foreach (var (points, op, ours) in new (double[], Func<torch.Tensor, torch.Tensor>, Func<Expr, Expr>)[]
                 { (x, t => t.acosh(), e => e.Acosh()), (y, t => t.asinh(), e => e.Asinh()) })
        {
            int n = points.Length;
            var at = Float64(points, n).requires_grad_(true);
            var slope = torch.autograd.grad(new[] { op(at).sum() }, new[] { at }, create_graph: true)[0];
            var torchs = Values(torch.autograd.grad(new[] { slope.sum() }, new[] { at })[0]);
            var closed = points.Select(p => double.IsInfinity(p) ? 0 : -1 / (p * p)).ToArray();
            var our = Diff.Hvp(e => ours(e).Sum(), Tensor.FromArray(points, n), Tensor.FromArray(Enumerable.Repeat(1.0, n).ToArray(), n)).Eval().ToDoubleArray();
            for (int i = 0; i < n; i++)
            {
                Assert.Equal(closed[i], our[i], 1e-72);
                if (double.IsInfinity(points[i])) Assert.True(double.IsNaN(torchs[i]), $"torch's at {points[i]}: {torchs[i]:R}");
                else Assert.Equal(closed[i], torchs[i], 1e-72);
            }
        }
        Passes(FuzzCommand.Programs(1, 72, 213, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial75_187_CholeskySolveOfAnInfiniteRightSide_TorchsRuleMeetsInfinityMinusInfinity_OursIsTheLimit_NamedTorchNaNEdge()
    {
        // X = (LLᵀ)⁻¹B with B's entry (2, 0) = β: X's first column and the gradient in L are β times fixed matrices plus
        // finite terms, so as β → −∞ each gradient entry tends to ±∞ by the sign of torch's own at β = −1e300 (0 where that
        // is 0). At β = −∞ torch's rule −(GXᵀ + XGᵀ)L adds infinite terms of opposite signs, NaN; ours is the limit at every
        // lower entry but (0, 0), where both engines' solution X₀₀ is ∞ − ∞ = NaN already (its limit +∞: left open, see
        // compare/FUZZING.md, branch edges23)
        double[] x0 = { 1.0331150293000952, 2.0, 2.0, 0.32016554592767, 0.5, 0.32016554592767, 2.0, 1.0, 1.0331150293000952 };
        x0 = x0.Select(v => (double)(float)v).ToArray();
        double[] u = { -0.913377, 0.120339, 0.306248, -0.343409, -0.564069, -0.162756 };
        double[] Rhs(double beta) => new[] { (double)1e30f, (double)0.19469491f, (double)0.19469491f, (double)0.19469491f, beta, 710 };
        double[] four = { 4, 0, 0, 0, 4, 0, 0, 0, 4 };
        double[] TorchsGradient(double beta)
        {
            var at = Float64(x0, 3, 3).requires_grad_(true);
            var x = torch.cholesky_solve(Float64(Rhs(beta), 3, 2), (at.tanh() + Float64(four, 3, 3)).tril(), false);
            return Values(torch.autograd.grad(new[] { x }, new[] { at }, new[] { Float64(u, 3, 2) })[0]);
        }
        var huge = TorchsGradient(-1e300);
        var torchs = TorchsGradient(double.NegativeInfinity);
        var (value, pullback) = Diff.Vjp(e => ((Expr)Tensor.FromArray(Rhs(double.NegativeInfinity), 3, 2)).CholeskySolve((e.Tanh() + Tensor.FromArray(four, 3, 3)).Tril(0), upper: false),
            Tensor.FromArray(x0, 3, 3));
        var ours = pullback(Tensor.FromArray(u, 3, 2)).Eval().ToDoubleArray();
        Assert.True(double.IsNaN(value.Eval().ToDoubleArray()[0]), "our X₀₀");
        Assert.True(huge[0] > 0, "the limit at (0, 0) is +∞");
        Assert.True(double.IsNaN(ours[0]) && double.IsNaN(torchs[0]), "both engines' (0, 0)");
        foreach (int k in new[] { 3, 4, 6, 7, 8 })
        {
            Assert.True(Math.Abs(huge[k]) > 1e296, $"torch's entry {k} at −1e300: {huge[k]:R}");
            Assert.True(double.IsNaN(torchs[k]), $"torch's entry {k} at −∞: {torchs[k]:R}");
            Assert.Equal(huge[k] > 0 ? double.PositiveInfinity : double.NegativeInfinity, ours[k]);
        }
        foreach (int k in new[] { 1, 2, 5 }) // above the diagonal: tril drops them, the derivative is 0 in both
        {
            Assert.Equal(0.0, huge[k]);
            Assert.Equal(0.0, torchs[k]);
            Assert.Equal(0.0, ours[k]);
        }
        Passes(FuzzCommand.Programs(1, 75, 187, adversarial: true, ops: OpSurface.All)[0]);
    }
}
