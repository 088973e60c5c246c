using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Findings of `fuzz --inputs adversarial` seeds 41 and 45 (`--ops fresh`), 42 (`--ops all`) and 43 (`--ops newest`),
/// 2026-12-07: torch's JVP at a zero slice of normalize (torch's, named with its gradient there), log_ndtr at +∞ under an
/// infinite tangent (ours, a known limitation), cumprod's reverse rule where the cotangent times the running product
/// overflows (torch's), i1 at a subnormal (ours, fixed), and the second order of copysign at a zero magnitude and of
/// logaddexp2 beside −∞ (torch's NaN), and our Hessian through softmax by forward over reverse where a small term sat
/// beside huge ones (ours, fixed). Torch's JVP (read five times) and ours against the closed forms, and the programs.
/// </summary>
public class FuzzSeeds41To45Tests
{
    /// <summary>
    /// Torch's JVP by its double-backward trick: d/du of (Jᵀu)·t, u a cotangent of ones over the output.
    /// </summary>
    static double[] TorchJvp(Func<torch.Tensor[], torch.Tensor> f, torch.Tensor[] inputs, torch.Tensor[] tangents)
    {
        using var scope = torch.NewDisposeScope();
        var output = f(inputs);
        var u = torch.ones_like(output).requires_grad_(true);
        var cotangents = torch.autograd.grad(new[] { output }, inputs, new[] { u }, retain_graph: true, create_graph: true);
        var dot = cotangents.Zip(tangents, (c, t) => (c * t).sum()).Aggregate((a, b) => a + b);
        return Values(torch.autograd.grad(new[] { dot }, new[] { u })[0].to_type(torch.ScalarType.Float64));
    }

    [Fact]
    public void Normalize_OfAZeroSlice_TorchsJvpKeepsTheRoundingOfItsScaledTangents()
    {
        // the shrunk `all adversarial 42/290`: Σ bce(x₀, σ(normalize(x₁))) at x₀ = ½ and x₁ = 0. normalize(0) = 0 and σ(0) = ½, and
        // bce(p, t) = −(t log p + (1 − t) log(1 − p)) is linear in t with the slope log(1 − p) − log p = 0 at p = ½, and
        // stationary in p at t = p: every first derivative is 0, so the JVP is 0 along any tangent
        double[] t0 = { 0.368363, -0.923085, 1.51571, 1.94631 }, t1 = { -2.56526, 1.24631, -0.634842, -0.429355 };
        foreach (var (dtype, below) in new[] { (torch.ScalarType.Float32, 1.0), (torch.ScalarType.Float64, 1e-6) })
            for (int run = 0; run < 5; run++)
            {
                var x0 = torch.full(new long[] { 2, 2 }, 0.5, dtype: dtype).requires_grad_(true);
                var x1 = torch.tensor(new[] { 0.0, -0.0, -0.0, -0.0 }, dtype: dtype).reshape(2, 2).requires_grad_(true);
                var jvp = TorchJvp(x =>
                {
                    var t = torch.nn.functional.normalize(x[1], 2.0, -1).sigmoid();
                    return (-(t * x[0].log().clamp_min(-100.0) + (1.0 - t) * (1.0 - x[0]).log().clamp_min(-100.0))).sum();
                }, [x0, x1], [torch.tensor(t0, dtype: dtype).reshape(2, 2), torch.tensor(t1, dtype: dtype).reshape(2, 2)]);
                Assert.True(Math.Abs(jvp[0]) > below, $"{dtype} run {run}: torch's JVP {jvp[0]:R}, the closed form 0");
            }
        var ours = Diff.Jvp(x => Loss.BinaryCrossEntropy(x[0], Nn.Normalize(x[1], p: 2.0, axis: -1).Sigmoid(), Reduction.Sum),
            [Tensor.FromArray(new[] { 0.5, 0.5, 0.5, 0.5 }, 2, 2), Tensor.FromArray(new[] { 0.0, -0.0, -0.0, -0.0 }, 2, 2)],
            [Tensor.FromArray(t0, 2, 2), Tensor.FromArray(t1, 2, 2)]).Tangent.Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        var program = FuzzCommand.Programs(1, 42, 290, adversarial: true, ops: OpSurface.All)[0];
        // as drawn, x₁'s float64 entries (1e-40, −1e-310, ...) make slices of norm about 1e-30, below ε; float32 flushes them to 0
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Normalize of a slice below eps", StringComparison.Ordinal));
        Passes(program);
    }

    [Fact]
    public void LogNdtr_AtPlusInfinity_UnderAnInfiniteTangent_IsNamed_AndOursIsTheLimitJustBelowIt()
    {
        // the shrunk `fresh adversarial 41/171`: log_ndtr(x₁ + x₀·x₀) at x₀ = +∞. log Φ(v) → 0 as v → +∞ with every
        // derivative, since φ(v)/Φ(v) decays like e^(−v²/2), faster than the tangent 2x₀·ẋ₀ grows: the limit of the JVP is 0.
        // At x₀ = 1e10 (v = 1e20, finite, φ(v) = 0 in float64) ours is that 0; at +∞ exactly forward mode meets the slope 0
        // with the tangent ∞ (NaN, as IEEE asks of the product), the named limitation
        double[] x1 = { 709.0, 709.0, 1.3251423, 1.5141436 };
        double[] t1 = { -1.39296, -1.3788, -0.973829, 0.293804 };
        var (_, tangent) = Diff.Jvp(x => x[1].AddCMul(x[0], x[0], 1.0).LogNdtr(),
            [Tensor.FromArray(new[] { 1e10 }), Tensor.FromArray(x1, 1, 1, 2, 2)],
            [Tensor.FromArray(new[] { -1.08141 }), Tensor.FromArray(t1, 1, 1, 2, 2)]);
        Assert.All(tangent.Eval().ToDoubleArray(), v => Assert.Equal(0.0, v));
        var program = FuzzCommand.Programs(1, 41, 171, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours (a known limitation): log_ndtr at +∞", StringComparison.Ordinal));
        Passes(program);
        Passes(FuzzCommand.Programs(1, 1, 79, adversarial: true, ops: OpSurface.Fresh)[0]);
    }

    [Fact]
    public void Cumprod_WhoseCotangentTimesTheRunningProductOverflows_TorchsGradientIsInfinite()
    {
        // Σ u·cumprod(x) at x = [1.039, 1e30] with u = [0.5, −8.9e299]: ∂/∂x₁ = u₁·x₀ = −9.25e299, finite; torch's rule forms
        // u₁·y₁ = −8.9e299 · 1.039e30 first, −∞, then divides by x₁ (`fuzz newest adversarial 43/58`)
        double x0 = 1.039097014112827, u1 = -8.9e299;
        double closed = u1 * x0;
        for (int run = 0; run < 5; run++)
        {
            var x = Tensor64(new[] { x0, 1e30 }, 2);
            var torchs = Values(torch.autograd.grad(new[] { (x.cumprod(0) * torch.tensor(new[] { 0.5, u1 })).sum() }, new[] { x })[0]);
            Assert.Equal(double.NegativeInfinity, torchs[1]);
        }
        var ours = Diff.Grad(v => (v.Cumprod(0) * Tensor.FromArray(new[] { 0.5, u1 })).Sum())(Tensor.FromArray(new[] { x0, 1e30 }))
            .Eval().ToDoubleArray();
        Assert.Equal(closed, ours[1], Math.Abs(closed) * 1e-15);
        var program = FuzzCommand.Programs(1, 43, 58, adversarial: true, ops: OpSurface.Newest)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Cumprod whose running product times", StringComparison.Ordinal));
        Passes(program);
    }

    [Fact]
    public void I0e_OfI1_AtTheSmallestSubnormal_TakesTheSlopeOfI1sRoundedUpValue()
    {
        // the shrunk `fresh adversarial 45/196`: i0e(i1(x)) at x = 5e-324 = 2^−1074. I₁(x) = x/2 + x³/16 + … lies above the
        // midpoint x/2 between 0 and 2^−1074, so it rounds to 2^−1074 (torch's), where i0e's slope is −1 (e^−|v|·I₀(v) has a
        // kink at 0): the gradient is u·½·(−1). Ours rounded the tie to even, 0, where i0e's slope is 0 (fixed in Bessel.i1)
        for (int run = 0; run < 5; run++)
            Assert.Equal(double.Epsilon, Values(torch.special.i1(torch.tensor(new[] { double.Epsilon })))[0]);
        var ours = Diff.Grad(v => v.I1().I0e().Sum())(Tensor.FromArray(new[] { 0.25, double.Epsilon })).Eval().ToDoubleArray();
        Assert.Equal(-0.5, ours[1], 15);
        Passes(FuzzCommand.Programs(1, 45, 196, adversarial: true, ops: OpSurface.Fresh)[0]);
    }

    [Fact]
    public void Copysign_AtAZeroMagnitude_AndLogAddExp2_BesideMinusInfinity_HaveCurvatureZero_TorchsIsNaN()
    {
        // copysign(x, −2) = −|x|: linear on each side of 0, abs's convention 0 at the kink, so the second derivative is 0;
        // logaddexp2(0.70, x) at x = −∞ is 0.70 near there, its curvature in both operands 0
        for (int run = 0; run < 5; run++)
        {
            var x = Tensor64(new[] { 0.0, 0.5 }, 2);
            var first = torch.autograd.grad(new[] { torch.copysign(x, torch.tensor(-2.0)).sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
            Assert.True(double.IsNaN(Values(torch.autograd.grad(new[] { first.sum() }, new[] { x })[0])[0]), "torch's copysign curvature at 0");
            var a = Tensor64(new[] { double.NegativeInfinity, 0.7027647105381902 }, 2);
            var slope = torch.autograd.grad(new[] { torch.logaddexp2(a[1], a[0]) }, new[] { a }, retain_graph: true, create_graph: true)[0];
            Assert.All(Values(torch.autograd.grad(new[] { slope.sum() }, new[] { a })[0]), v => Assert.True(double.IsNaN(v), "torch's logaddexp2 curvature"));
        }
        var ours = Diff.Hessian(v => v.Copysign(Tensor.FromArray(new[] { -2.0 })).Sum())(Tensor.FromArray(new[] { 0.0, 0.5 })).Eval().ToDoubleArray();
        Assert.All(ours, v => Assert.Equal(0.0, v));
        Expr constant = Tensor.FromArray(new[] { 0.7027647105381902 });
        var ours2 = Diff.Hessian(v => Expr.LogAddExp2(constant, v).Sum())(Tensor.FromArray(new[] { double.NegativeInfinity })).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours2[0]);
        Passes(FuzzCommand.Programs(1, 45, 43, adversarial: true, ops: OpSurface.Fresh)[0]);
        Passes(FuzzCommand.Programs(1, 45, 48, adversarial: true, ops: OpSurface.Fresh)[0]);
        // copysign(x, x) squared at a float64-subnormal x: torch's second order there is not finite (its rule's double
        // backward divides by x², 0 there), the closed form of Σ u·x² along v is 2·u·v
        var program = FuzzCommand.Programs(1, 2, 170, adversarial: true, ops: OpSurface.Recent)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Copysign of a float64-subnormal magnitude", StringComparison.Ordinal));
        Passes(program);
    }

    [Fact]
    public void Attention_OverAQueryOfMinus1e30_HessianByForwardOverReverse_IsTorchsAndTheClosedForm()
    {
        // the shrunk `fresh adversarial 45/125`: Σ U ⊙ attention(X, X, X) at X = [[0, x, 0], [0, −K, 0]], K = 1e30. Row 1's
        // weights are [0, 1] near x = 0, row 0's [σ(d), 1 − σ(d)] with d = (x² + K·x)/√3, so along x the function is
        // U₀₁·(σ(d)·(x + K) − K) plus constants, whose second derivative at 0 is U₀₁·K/√3 (σ′ = 1/4, d′ = K/√3, d″ = 2/√3).
        // Ours was 3/4 of it: the tangent of softmax's pullback lost a term of size U₀₁ beside terms of 1e59
        double[] weights = { 0.138762, 2.27203, -1.43538, 0.6868, 0.863961, -0.257145 };
        Expr u = Tensor.FromArray(weights, 1, 2, 3);
        var at = Tensor.FromArray(new[] { 0.0, 0.0, 0.0, 0.0, -1e30, 0.0 }, 2, 3, 1);
        var hessian = Diff.Hessian(x =>
        {
            var q = x.Reshape(1, 2, 3);
            return (u * Nn.ScaledDotProductAttention(q, q, q)).Sum();
        })(at).Eval().ToDoubleArray();
        var closedForm = weights[1] * 1e30 / Math.Sqrt(3.0);
        Assert.True(Math.Abs(hessian[6 + 1] - closedForm) <= 1e-12 * closedForm, $"Hessian (1, 1) {hessian[7]:R}, the closed form {closedForm:R}");
        // as drawn, the rows' entries of order 1 beside −1e30 round away in the scores X Xᵀ/√3, which tie at 5.8e59: the
        // second order of a softmax over such ties is a named limitation of ours
        var program = FuzzCommand.Programs(1, 45, 125, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours (a known limitation): the second order of a softmax or softmin over exact ties", StringComparison.Ordinal));
        Passes(program);
    }
}
