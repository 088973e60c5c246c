using System.Numerics;
using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges22 settled: the kl_div Hessian-vector product left open by edges21, the region checks (elementwise ops with
/// a kink or a restricted domain against TorchSharp at the kink, ±0, ±∞ and NaN, at first and second order), and the findings
/// of its seeds (adversarial 56, `all` adversarial 69 and 70, `all` benign 7, `wide` adversarial 7, `wide` benign 8). Torch's
/// numbers and ours against closed forms, and the programs.
/// </summary>
public class FuzzSeeds77To81Tests
{
    static torch.Tensor Float64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    [Fact]
    public void KlDivWithTheLogTargetXPlusC_ItsTwoPartialsMeetAsInfinityMinusInfinity_NaNInBothEngines_NamedOpen()
    {
        // kl_div(x, t, log_target) per entry is e^t·(t − x); with t = x + c it is e^(x + c)·c, whose slope and curvature in x
        // are e^(x + c)·c again: at x = 0, c = 1e10, +∞ (0 at c = 0). The chain rule sums the partials through t,
        // e^t·(t − x + 1) = +∞, and through x, −e^t = −∞: ∞ − ∞ = NaN, at first order and at second, in torch's fused rule
        // and in ours alike; only an engine that simplified (x + c) − x to c would see the closed form
        double[] x = { 0, 0 }, c = { 0, 1e10 }, v = { 1.0098, 0.216943 };
        double[] closedGradient = { Math.Exp(0) * c[0] / 2, double.PositiveInfinity }; // the mean over two entries
        double[] closedHvp = { v[0] * Math.Exp(0) * c[0] / 2, double.PositiveInfinity };
        Assert.Equal(new[] { 0.0, double.PositiveInfinity }, closedGradient);
        Assert.Equal(new[] { 0.0, double.PositiveInfinity }, closedHvp);

        var at = Float64(x, 2).requires_grad_(true);
        var loss = torch.nn.functional.kl_div(at, at + Float64(c, 2), log_target: true, reduction: torch.nn.Reduction.Mean);
        var gradient = torch.autograd.grad(new[] { loss }, new[] { at }, retain_graph: true, create_graph: true)[0];
        var torchGradient = Values(gradient);
        var torchHvp = Values(torch.autograd.grad(new[] { (gradient * Float64(v, 2)).sum() }, new[] { at })[0]);

        Func<Expr, Expr> f = e => Loss.KlDiv(e, e + Tensor.FromArray(c, 2), Reduction.Mean, logTarget: true);
        var ourGradient = Diff.Grad(f)(Tensor.FromArray(x, 2)).Eval().ToDoubleArray();
        var ourHvp = Diff.Hvp(f, Tensor.FromArray(x, 2), Tensor.FromArray(v, 2)).Eval().ToDoubleArray();
        foreach (var (values, who) in new[] { (torchGradient, "torch's gradient"), (torchHvp, "torch's HVP"), (ourGradient, "our gradient"), (ourHvp, "our HVP") })
        {
            Assert.True(values[0] == 0, $"{who} at c = 0: {values[0]:R}");
            Assert.True(double.IsNaN(values[1]), $"{who} at c = 1e10: {values[1]:R}, NaN (∞ − ∞) expected");
        }

        // with a plain target p = x + c (log_target false) ours is the closed form: the entry is xlogy(p, p) − p·x, whose
        // slope log p + 1 − x − p is −∞ at p = 0 and curvature 1/p − 2 is +∞ (torch's xlogy rule NaN, the named "KlDiv at a
        // target 0"); at p = 1, x = 0 the curvature is 1 − 2 = −1
        double[] shift = { 1, 0 };
        Func<Expr, Expr> plain = e => Loss.KlDiv(e, e + Tensor.FromArray(shift, 2), Reduction.Mean, logTarget: false);
        Assert.Equal(new[] { (Math.Log(1) + 1 - 0 - 1) / 2, double.NegativeInfinity }, Diff.Grad(plain)(Tensor.FromArray(x, 2)).Eval().ToDoubleArray());
        Assert.Equal(new[] { v[0] * (1.0 / 1 - 2) / 2, double.PositiveInfinity },
            Diff.Hvp(plain, Tensor.FromArray(x, 2), Tensor.FromArray(v, 2)).Eval().ToDoubleArray());
    }

    [Fact]
    public void RemainderSlopeInB_IsMinusTheFloorOfTheExactQuotient_NaNAtAnInfiniteA_AsTorchs()
    {
        // Python's a % b = a − b·⌊a/b⌋: ∂/∂b = −⌊a/b⌋ of the exact quotient. 0.1 is 3602879701896397·2^-55, a little above a
        // tenth, so ⌊1/0.1⌋ = ⌊2^55/3602879701896397⌋ = 9, and ⌊−1/0.1⌋ = −10; at a = ±∞ the remainder is NaN, and so is torch's
        // floor quotient (torch.remainder's rule −g·div(a, b, rounding_mode="floor"))
        Assert.Equal(0.1, 3602879701896397 * Math.ScaleB(1.0, -55));
        Assert.Equal(new BigInteger(9), BigInteger.Divide(BigInteger.Pow(2, 55), 3602879701896397));
        double[] a = { 1, -1, double.PositiveInfinity, double.NegativeInfinity }, b = { 0.1, 0.1, 2, -2 };
        double[] expected = { -9, 10, double.NaN, double.NaN };
        var ta = Float64(a, 4).requires_grad_(true);
        var tb = Float64(b, 4).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { torch.remainder(ta, tb).sum() }, new[] { tb })[0]);
        var (_, ours) = Diff.Grad((Expr p, Expr q) => Expr.Remainder(p, q).Sum())(Tensor.FromArray(a, 4), Tensor.FromArray(b, 4));
        Assert.Equal(expected, torchs);
        Assert.Equal(expected, ours.Eval().ToDoubleArray());
    }

    [Fact]
    public void FmodAndRemainderByASubnormalDivisor_TorchsVectorisedLoopNaN_OursCsExactFmod_NotDrawnByTheGenerator()
    {
        // C's fmod is exact (the remainder of a by b differs from a by a multiple of b, and is representable): .NET's % is it.
        // Torch's CPU kernel is too in its scalar loop (fewer than 8 float64 entries), and NaN in its vectorised loop, where
        // a/b overflows; ours is the exact value at every length, and remainder moves it by b where the signs differ. The
        // generator keeps fmod's and remainder's divisors away from 0 (|b| > 0.05), so no program meets it
        double[] a = { 1, -2, 0.5 }, b = { 1e-310, 1e-310, -1e-310 };
        var exact = a.Zip(b, (p, q) => p % q).ToArray();
        Assert.Equal(exact, Values(torch.fmod(Float64(a, 3), Float64(b, 3))));
        double[] a8 = Enumerable.Repeat(a, 3).SelectMany(v => v).Take(8).ToArray(), b8 = Enumerable.Repeat(b, 3).SelectMany(v => v).Take(8).ToArray();
        Assert.All(Values(torch.fmod(Float64(a8, 8), Float64(b8, 8))), r => Assert.True(double.IsNaN(r), $"torch's vectorised fmod {r:R}"));
        Assert.All(Values(torch.remainder(Float64(a8, 8), Float64(b8, 8))), r => Assert.True(double.IsNaN(r), $"torch's vectorised remainder {r:R}"));
        Assert.Equal(a8.Zip(b8, (p, q) => p % q).ToArray(), Expr.Fmod(Tensor.FromArray(a8, 8), Tensor.FromArray(b8, 8)).Eval().ToDoubleArray());
        var python = exact.Zip(b, (r, q) => r != 0 && (r < 0) != (q < 0) ? r + q : r).ToArray();
        Assert.Equal(python, Expr.Remainder(Tensor.FromArray(a, 3), Tensor.FromArray(b, 3)).Eval().ToDoubleArray());
        Assert.All(python, r => Assert.True(Math.Abs(r) < 1e-310 && r != 0));
    }

    [Fact]
    public void WideAdversarial7_79_CumprodWhoseRunningProductUnderflows_TorchsGradientLosesItsTerms_NamedTorchWrong()
    {
        // Σ w·cumprod(x) at x = [−5e-324, 0.2315]: the gradient is [w₀ + w₁x₁, w₁x₀]; torch's rule Σ_{j≥i} w_j·y_j / x_i forms
        // w₀y₀ = w₀·(−5e-324) and w₁y₁ = w₁·(−0), both 0 after underflow, before it divides by x₀: −0 where the closed form
        // is −0.0596
        double[] x = { -5e-324, 0.231471864782887 }, w = { -0.117236, 0.249171 };
        double closed = w[0] + w[1] * x[1];
        var at = Float64(x, 2).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { (torch.cumprod(at, 0) * Float64(w, 2)).sum() }, new[] { at })[0]);
        Assert.Equal(0.0, torchs[0]);
        var ours = Diff.Grad(e => (e.Cumprod(0) * Tensor.FromArray(w, 2)).Sum())(Tensor.FromArray(x, 2)).Eval().ToDoubleArray();
        Assert.Equal(closed, ours[0], 1e-15);
        Assert.Equal(w[1] * x[0], ours[1]);
        Passes(FuzzCommand.Programs(1, 7, 79, adversarial: true, ops: OpSurface.Wide)[0]);
    }

    [Fact]
    public void AllAdversarial70_153_AFloat32RoundTripRoundsTheHessiansTerms_EachEnginesIsTheOthersTranspose_ByTheConditioningRule()
    {
        // Σ kl_div(r(t), t, log_target) = Σ e^t·(t − r(t)) with t = pad(x₀)/s and r the float32 round trip, at x₀ = e₈ (3×3),
        // s = 0.2: t ∈ {0, 5}, exact in float32, so t − r(t) = 0. Under the round trip's derivative 1 the Hessian is 0 there;
        // each engine's is the float32 rounding of the cotangents that pass through the round trip, terms e^t·t′·t′ up to
        // e^5·25·5 = 1.9e4, so entries up to about 2^-23 of that, and neither is symmetric: ours (a tangent per input) is
        // torch's (a reverse pass per entry of the gradient) transposed where they differ
        double[] z = { 0, 0, 0, 0, 0, 0, 0, 0, 1, 0.2 };
        Expr F(Expr e)
        {
            var v1 = e.Narrow(0, 0, 9).Reshape(3, 3).Pad(new[] { 2, 1 }, new[] { 0, 0 }) / e.Narrow(0, 9, 1);
            return Loss.KlDiv(v1.Cast(DType.Float32).Cast(DType.Float64), v1, Reduction.Sum, logTarget: true);
        }
        var ours = Diff.Hessian(F)(Tensor.FromArray(z, 10)).Eval().ToDoubleArray();
        var at = Float64(z, 10).requires_grad_(true);
        var t1 = torch.nn.functional.pad(at.narrow(0, 0, 9).reshape(3, 3), new long[] { 0, 0, 2, 1 }) / at.narrow(0, 9, 1);
        var loss = torch.nn.functional.kl_div(t1.to_type(torch.ScalarType.Float32).to_type(torch.ScalarType.Float64), t1,
            reduction: torch.nn.Reduction.Sum, log_target: true);
        var gradient = torch.autograd.grad(new[] { loss }, new[] { at }, retain_graph: true, create_graph: true)[0];
        var torchs = Enumerable.Range(0, 10).SelectMany(i => Values(torch.autograd.grad(new[] { gradient[i] }, new[] { at }, retain_graph: true)[0])).ToArray();
        double bound = Math.ScaleB(1.0, -22) * Math.Exp(5) * 25 * 5;
        Assert.All(ours.Concat(torchs), h => Assert.True(Math.Abs(h) < bound, $"{h:R} beyond the rounding bound {bound:R}"));
        Assert.True(Math.Abs(torchs[8 * 10 + 9] - torchs[9 * 10 + 8]) > 1e-4, "torch's Hessian is not symmetric");
        Assert.True(Math.Abs(ours[8 * 10 + 9] - torchs[8 * 10 + 9]) > 1e-4, "ours and torch's differ at (8, 9)");
        for (int i = 0; i < 10; i++)
            for (int j = 0; j < 10; j++)
                Assert.True(Math.Abs(ours[i * 10 + j] - torchs[i * 10 + j]) <= 1e-9 * bound || Math.Abs(ours[i * 10 + j] - torchs[j * 10 + i]) <= 1e-9 * bound,
                    $"ours ({i}, {j}) {ours[i * 10 + j]:R}, torch's there and transposed {torchs[i * 10 + j]:R}, {torchs[j * 10 + i]:R}");
        Assert.True(Math.Abs(ours[8 * 10 + 9] - torchs[9 * 10 + 8]) <= 1e-9 * bound, "ours at (8, 9) is torch's at (9, 8)");
        // the program as drawn fails the strict Hessian check, and passes by the conditioning rule: under its moves the torch
        // side scales the derivative through a round trip by 1 ± one float32 ulp, so its Hessian entries move by as much
        var drawn = FuzzCommand.Programs(1, 70, 153, adversarial: true, ops: OpSurface.All)[0];
        Assert.Contains(CaseRunner.Run(drawn.ToCase(), DType.Float64), r => r.Check == nameof(Check.Hessian) && !r.Passed);
        Passes(drawn);
        Assert.Contains(FuzzCheck.Checked(drawn, DType.Float64), r => r.Check == nameof(Check.Hessian) && r.Note == FuzzCheck.ConditioningNote);
    }
}
