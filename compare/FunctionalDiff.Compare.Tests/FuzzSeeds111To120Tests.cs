using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What seeds 111 to 120 (every mode, 2026-12-07) found, each with torch's numbers and ours against closed forms, and the
/// program passing the fuzzer as named: fmod of an infinite dividend under a mask (torch's higher orders NaN), a Hessian
/// pair that overflows in transposed positions in the two engines, expm1 near overflow (a known limitation of ours), and
/// two fixed in ours: the median of ties (torch's median() shares the cotangent evenly) and hardswish's fused rule.
/// </summary>
public class FuzzSeeds111To120Tests
{
    static torch.Tensor Tensor64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    [Fact]
    public void All113_84_FmodOfInfinityUnderNansum_BothFirstDerivativesNaN_TorchsSecondNaN_OursTheClosedForm_Named()
    {
        // tanh(nansum(fmod([−4, +∞], x))): fmod(+∞, x) is NaN, which nansum drops, so near x = −0.673 the function is
        // tanh(−4 − 5x) (trunc(−4/x) = 5) and its second derivative 25·tanh″(z)·u, tanh″ = −2 tanh z (1 − tanh² z)
        double x = -0.6734699791217218, u = -0.184792;
        double z = -4 - 5 * x, t = Math.Tanh(z);
        double closed = 25 * (-2 * t * (1 - t * t)) * u;

        var at = Tensor64(new[] { x }, 1, 1, 1).requires_grad_(true);
        var dividend = Tensor64(new[] { -4.0, double.PositiveInfinity }, 1, 1, 2);
        var r = torch.fmod(dividend, at);
        var y = torch.where(r.isnan(), torch.zeros_like(r), r).sum(new long[] { 2 }, true).tanh();
        var g = torch.autograd.grad(new[] { y }, new[] { at }, new[] { Tensor64(new[] { u }, 1, 1, 1) }, retain_graph: true, create_graph: true)[0];
        Assert.True(double.IsNaN(g.item<double>()), "torch's gradient: the masked 0 times the divisor's slope ∞");
        Assert.True(double.IsNaN(torch.autograd.grad(new[] { g.sum() }, new[] { at })[0].item<double>()), "torch's second derivative");

        Expr F(Expr e) => (Expr.Fmod(Tensor.FromArray(new[] { -4.0, double.PositiveInfinity }, 1, 1, 2), e.Reshape(1, 1, 1)).Nansum(2, keepDims: true).Tanh() * u).Sum();
        var point = Tensor.FromArray(new[] { x }, 1);
        Assert.True(double.IsNaN(Diff.Grad(F)(point).Eval().ToScalar()), "ours at first order is IEEE's 0·∞ as well");
        Assert.Equal(closed, Diff.Hessian(F)(point).Eval().ToScalar(), 1e-12);

        Passes(FuzzCommand.Programs(1, 113, 84, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void WideAdversarial112_49_SolveTimesHugeWeight_TheHessiansMixedPairOverflowsInTransposedPositions_Named()
    {
        // f = u·solve(x₁, r(x₀))·x₂ for 1×1 matrices = u·x₂·r(x₀)/x₁, r the round trip through float32 (slope 1): the mixed
        // partial ∂²f/∂x₀∂x₁ = −u·x₂/x₁² is −7.7e160 at x₂ = −1e160, a number; each engine overflows forming it in one of its
        // two orders: −∞ at (0, 1) in ours (a tangent per column), at (1, 0) in torch's (a reverse pass per row)
        double x0 = 0.4412658278882445, x1 = 0.4412658278882445, x2 = -1e160, u = -1.50093;
        double mixed = -u * x2 / (x1 * x1);
        Assert.True(double.IsFinite(mixed));

        var xs = new[] { x0, x1, x2 }.Select(v => Tensor64(new[] { v }, 1, 1).requires_grad_(true)).ToArray();
        var y = torch.linalg.solve(xs[1], xs[0].to_type(torch.ScalarType.Float32).to_type(torch.ScalarType.Float64)) * xs[2] * u;
        var g = torch.autograd.grad(new[] { y.sum() }, xs, retain_graph: true, create_graph: true);
        double torchs01 = torch.autograd.grad(new[] { g[0].sum() }, new[] { xs[1] }, retain_graph: true)[0].item<double>();
        double torchs10 = torch.autograd.grad(new[] { g[1].sum() }, new[] { xs[0] }, retain_graph: true)[0].item<double>();

        // the shrunk program as the fuzzer runs it: inputs of shape [1, 1, 1, 1] cut from one flat vector, x₀'s round trip
        Expr Program(Expr q)
        {
            var p = q.Split(1).Select(e => e.Reshape(1, 1, 1, 1)).ToArray();
            return (p[1].Solve(p[0].Cast(DType.Float32).Cast(DType.Float64)) * p[2] * u).Sum();
        }
        var ours = Diff.Hessian(Program)(Tensor.FromArray(new[] { x0, x1, x2 }, 3)).Eval().ToDoubleArray();
        double ours01 = ours[1], ours10 = ours[3];
        // one infinite entry in each, at transposed positions, the other the closed form
        Assert.Equal(double.NegativeInfinity, ours01);
        Assert.Equal(1.0, ours10 / mixed, 12);
        Assert.Equal(double.NegativeInfinity, torchs10);
        Assert.Equal(1.0, torchs01 / mixed, 12);

        Passes(FuzzCommand.Programs(1, 112, 49, adversarial: true, ops: OpSurface.Wide)[0]);
    }

    [Fact]
    public void AllAdversarial112_117_Expm1At709_OurHessianColumnIsNaN_TorchsRowsKeep0_AKnownLimitation()
    {
        // Σ u·sinc(kron(v, v)), v = Σ_rows σ(cos(expm1 x)) + 1, at x = [[−0, −0, −0], [0, 709, −0]]: the slope of v₀ in x₀₀ is
        // σ′·(−sin(expm1(−0)))·e^−0 = 0 exactly, so the mixed partial of x₀₀ and x₁₁ is 0; the second derivative of
        // expm1(x₁₁) is e^709 = 8.2e307 and its square in the Hessian's (x₁₁, x₁₁) entry overflows, so ours, pushing the
        // tangent of x₁₁ through the gradient, meets ∞·0 in every row of that column. Torch's rows keep the 0.
        double[] x = { -0.0, -0.0, -0.0, 0.0, 709.0, -0.0 };
        double[] u = { 1.24132, -1.57472, -0.174108, -0.537031, 1.17834, -0.346469, 0.299126, -1.12512, -0.693962 };
        torch.Tensor V(torch.Tensor e) => (e.reshape(2, 3).expm1().cos().sigmoid() + 1.0).sum(new long[] { 0 }, true);
        var at = Tensor64(x, 6).requires_grad_(true);
        var v = V(at);
        var y = (torch.kron(v, v).sinc() * Tensor64(u, 1, 9)).sum();
        var g = torch.autograd.grad(new[] { y }, new[] { at }, retain_graph: true, create_graph: true)[0];
        var torchsRow0 = Values(torch.autograd.grad(new[] { g[0] }, new[] { at }, retain_graph: true)[0]);
        Assert.Equal(0.0, torchsRow0[4]);

        Expr W(Expr e) => (e.Reshape(2, 3).Expm1().Cos().Sigmoid() + 1.0).Sum(0, keepDims: true);
        var ours = Diff.Hessian(e => (W(e).Kron(W(e)).Sinc() * Tensor.FromArray(u, 1, 9)).Sum())(Tensor.FromArray(x, 6)).Eval().ToDoubleArray();
        Assert.True(double.IsNaN(ours[4]), "ours at (0, 4): the known limitation this names");
        // the entries away from that column are the same numbers in both
        for (int c = 0; c < 6; c++)
            if (c != 4) Assert.Equal(torchsRow0[c], ours[c], 1e-12);

        Passes(FuzzCommand.Programs(1, 112, 117, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial114_32_MedianOfTies_TorchSharesTheCotangentEvenly_NowOursToo()
    {
        // median() of [0, 0, 0]: torch gives each entry g/3 and the JVP the mean tangent; ours gave the middle entry g
        var at = Tensor64(new[] { 0.0, 0, 0 }, 3).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { at.median() }, new[] { at })[0]);
        Assert.Equal(new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }, torchs);
        Assert.Equal(torchs, Diff.Grad(e => e.Median())(Tensor.FromArray(new[] { 0.0, 0, 0 }, 3)).Eval().ToDoubleArray());
        // as drawn: x^[−710, ∞, ∞] at 681472 in float32 (the median ∞ tied), and the median of zeros in float64
        Passes(FuzzCommand.Programs(1, 114, 32, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial114_5_HardswishUnderAnInfiniteCotangent_TorchsFusedRuleGivesInfinity_NowOursToo()
    {
        // hardswish(−1.528) under the cotangent −∞: torch's g·(x/3 + 1/2) is −∞·(−0.00933) = +∞; the quadratic's product
        // rule gave −∞·0.245 + ∞·0.255 = NaN
        var at = Tensor64(new[] { -1.528 }, 1).requires_grad_(true);
        double torchs = torch.autograd.grad(new[] { (torch.nn.functional.hardswish(at) * double.NegativeInfinity).sum() }, new[] { at })[0].item<double>();
        Assert.Equal(double.PositiveInfinity, torchs);
        Assert.Equal(double.PositiveInfinity, Diff.Grad(e => (e.Hardswish() * double.NegativeInfinity).Sum())(Tensor.FromArray(new[] { -1.528 }, 1)).Eval().ToDoubleArray()[0]);
        // as drawn: a grouped convolution with a +∞ weight over hardswish of the input, float32
        Passes(FuzzCommand.Programs(1, 114, 5, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Benign116_80_GluOfAnEmptyTensorCompiles_ThePlanFoldsItsForwardWithoutTheInput()
    {
        // abs(glu(diag_embed(x, −1), 2)) at x of shape [0, 1]: every check threw "variable input0 is not bound" (the compiled
        // plan folds glu's constant forward and evaluated the custom node's other input, the x its rule reads)
        Passes(FuzzCommand.Programs(1, 116, 80)[0]);
    }

    [Fact]
    public void Benign117_20_LogSigmoidFarRight_TorchsDoubleBackwardCancels_OursIsTheClosedForm_Named()
    {
        // h(x) = logsigmoid(r), r = x^(−1/2): h″ = −σ(r)σ(−r)r′² + σ(−r)r″ with r′ = −x^(−3/2)/2, r″ = 3x^(−5/2)/4, σ(−r)
        // formed as 1/(1 + e^r) (no cancellation)
        double x = 0.0021531409364923893, r = 1 / Math.Sqrt(x);
        double low = 1 / (1 + Math.Exp(r)), high = 1 / (1 + Math.Exp(-r));
        double r1 = -0.5 * Math.Pow(x, -1.5), r2 = 0.75 * Math.Pow(x, -2.5);
        double closed = -high * low * r1 * r1 + low * r2;
        double ours = Diff.Hvp(e => e.Rsqrt().LogSigmoid().Sum(), Tensor.FromArray(new[] { x }, 1), Tensor.FromArray(new[] { 1.0 }, 1)).Eval().ToDoubleArray()[0];
        Assert.Equal(1.0, ours / closed, 12);
        // torch's (σ(r) − 1)·σ(r) loses about seven digits at r = 21.55
        var at = Tensor64(new[] { x }, 1).requires_grad_(true);
        var slope = torch.autograd.grad(new[] { torch.nn.functional.logsigmoid(at.rsqrt()).sum() }, new[] { at }, retain_graph: true, create_graph: true)[0];
        double torchs = torch.autograd.grad(new[] { slope.sum() }, new[] { at })[0].item<double>();
        Assert.True(Math.Abs(torchs / closed - 1) > 1e-9, $"torch's {torchs:R} against {closed:R}");
        Passes(FuzzCommand.Programs(1, 117, 20)[0]);
    }

    [Fact]
    public void AllAdversarial117_68_L1DistOverANaNDifference_OursKeepsTheSymbolicZeroCurvature_TorchsIsNaN_Named()
    {
        // dist(x, amax(x), p = 1) = Σ|x − m| with m = NaN (x = [NaN, 0]): |d|″ is 0 wherever it exists, our rule's symbolic
        // zero; torch's double backward multiplies its zero by the NaN slopes before it
        var at = Tensor64(new[] { double.NaN, 0 }, 2, 1).requires_grad_(true);
        var d = torch.dist(at, at.amax(new long[] { 0, 1 }, true), 1);
        var g = torch.autograd.grad(new[] { d }, new[] { at }, retain_graph: true, create_graph: true)[0];
        Assert.All(Values(torch.autograd.grad(new[] { g.sum() }, new[] { at })[0]), h => Assert.True(double.IsNaN(h), $"torch's {h:R}"));
        var ours = Diff.Hvp(e => Expr.Dist(e, e.Max(new[] { 0, 1 }, keepDims: true), 1.0), Tensor.FromArray(new[] { double.NaN, 0 }, 2, 1),
            Tensor.FromArray(new[] { 1.0, 1.0 }, 2, 1)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0.0 }, ours);
        Passes(FuzzCommand.Programs(1, 117, 68, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial119_125_SinhOf710IsFinite_TorchsOverflows_Named()
    {
        // sinh(710) = (e^710 − e^−710)/2 = e^(710 − ln 2)(1 − e^−1420) = 1.1169973830808557e308, below MaxValue
        double closed = Math.Exp(710 - Math.Log(2));
        Assert.True(double.IsFinite(closed));
        Assert.Equal(1.0, ((Expr)Tensor.FromArray(new[] { 710.0 }, 1)).Sinh().Eval().ToDoubleArray()[0] / closed, 13);
        // torch's AVX2 vectorised kernel (a tensor of 9 entries, as drawn) overflows there; its scalar loop (one entry) does
        // not, nor does its AVX-512 kernel, which libtorch picks where the CPU has it: either way the program passes
        var drawn = new[] { 0.0, 0, 0, 0, 0, 0, 0, 710, 0 };
        double torchSinh = Values(torch.sinh(Tensor64(drawn, 3, 3)))[7];
        Assert.True(double.IsPositiveInfinity(torchSinh) || Math.Abs(torchSinh / closed - 1) < 1e-13, $"torch's sinh(710) = {torchSinh:R}");
        Assert.Equal(1.0, ((Expr)Tensor.FromArray(drawn, 3, 3)).Sinh().Eval().ToDoubleArray()[7] / closed, 13);
        // every check of the program as drawn goes through that sinh, so all are named and none fails
        var program = FuzzCommand.Programs(1, 119, 125, adversarial: true, ops: OpSurface.All)[0];
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            Assert.All(FuzzCheck.Checked(program, dtype), r => Assert.True(r.Passed, $"{dtype} {r.Check}"));
    }

    [Fact]
    public void Adversarial118_199_SincAt0UnderACotangentThatOverflowsInFloat32_TorchsMaskDiscardsIt_Named()
    {
        // sinc's slope at 0 is 0; a cotangent of ±∞ (1e160 rounded to float32 on its way back) makes ours ∞·0 = NaN there,
        // torch's masked rule 0
        var at = Tensor64(new[] { 0.0 }, 1).requires_grad_(true);
        var y = at.sinc().to_type(torch.ScalarType.Float32).to_type(torch.ScalarType.Float64) * 1e160;
        Assert.Equal(0.0, torch.autograd.grad(new[] { y.sum() }, new[] { at })[0].item<double>());
        double ours = Diff.Grad(e => (e.Sinc().Cast(DType.Float32).Cast(DType.Float64) * 1e160).Sum())(Tensor.FromArray(new[] { 0.0 }, 1)).Eval().ToDoubleArray()[0];
        Assert.True(double.IsNaN(ours), $"ours {ours:R}");
        Passes(FuzzCommand.Programs(1, 118, 199, adversarial: true)[0]);
    }

    [Fact]
    public void Adversarial116_129_CumprodBeforeAnInfiniteWeight_TorchsSecondOrderIsNaN_OursTheLimit_Named()
    {
        // y = W·[c, c, c] + b with c = cumprod(x) = [x₀, x₀x₁]: the HVP of ⟨y, u⟩ in x₁ along v is Σ G₁·(v₀ + 0·v₁), G₁ the
        // cotangent of c₁, −∞ here (the weight +∞ times u₁ < 0): −∞ from the mixed term, the limit; torch multiplies the
        // exact zero curvature ∂²c₁/∂x₁² by G₁ as well, NaN
        float[] w = { -0.73935217f, -0.73935217f, 1000f, 710f, -1000f, 88f, 88f, 1E+10f, -0.73935217f, 1E+10f, 100f, float.PositiveInfinity };
        double[] u = { -1.13272, -0.31457 }, v = { 0.679778, 1.33009 };
        var x = torch.tensor(new[] { 2f, -2f }).requires_grad_(true);
        var weight = torch.tensor(w).reshape(2, 6);
        var c = x.cumprod(0);
        var y = torch.nn.functional.linear(torch.cat(new[] { c, c, c }, 0), weight) * torch.tensor(u.Select(q => (float)q).ToArray());
        var g = torch.autograd.grad(new[] { y.sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var torchs = torch.autograd.grad(new[] { (g * torch.tensor(v.Select(q => (float)q).ToArray())).sum() }, new[] { x })[0];
        Assert.True(double.IsNaN(torchs[1].item<float>()), "torch's x₁ entry");
        var ours = Diff.Hvp(e => (Nn.Linear(Expr.Concat(0, e.Cumprod(-1), e.Cumprod(-1), e.Cumprod(-1)), Tensor.FromArray(w, 2, 6)) * Tensor.FromArray(u.Select(q => (float)q).ToArray(), 2)).Sum(),
            Tensor.FromArray(new[] { 2f, -2f }, 2), Tensor.FromArray(v.Select(q => (float)q).ToArray(), 2)).Eval().ToDoubleArray();
        Assert.Equal(double.NegativeInfinity, ours[1]);
        Passes(FuzzCommand.Programs(1, 116, 129, adversarial: true)[0]);
        Passes(FuzzCommand.Programs(1, 111, 169, adversarial: true, ops: OpSurface.Wide)[0]);
    }
}
