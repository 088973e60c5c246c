using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges settled with the first runs of `--ops fresh`: each convention with torch's numbers (asked five times,
/// so a name rests on a repeatable answer) and ours against a closed form or mpmath, and the program passing the fuzzer
/// under its name.
/// </summary>
public class FuzzFreshTests
{
    [Fact]
    public void Fresh1_271_I1eAtNaN_TorchsSlopeOneHalf_OursNaN_Named()
    {
        // i1e′ is NaN at NaN, as every slope of a NaN value; torch's rule takes its small-|x| branch, ½, wherever |x| > ε is
        // false, which NaN is
        var ours = Diff.Grad(v => v.I1e().Sum())(Tensor.FromArray(new[] { double.NaN, 0.0 }, 2)).Eval().ToDoubleArray();
        Assert.True(double.IsNaN(ours[0]), $"ours {ours[0]}");
        Assert.Equal(0.5, ours[1]);

        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { double.NaN, 0.0 }, 2);
            var gradient = Values(torch.autograd.grad(new[] { torch.special.i1e(input).sum() }, new[] { input })[0]);
            Assert.Equal(new[] { 0.5, 0.5 }, gradient);
        }

        var program = FuzzCommand.Programs(1, 1, 271, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("I1 or I1e at a NaN entry"));
        Passes(program);
    }

    [Fact]
    public void Fresh1_212_LogNdtrAtPlusInfinity_TheLimitsZero_TheReferenceHeldAt40()
    {
        // log Φ(x) = log1p(−Φ(−x)): its slope φ(x)/Φ(x) and curvature vanish as x → +∞, 0 in float64 from about x = 38
        foreach (var x in new[] { double.PositiveInfinity, 40.0, 1e300 })
        {
            var first = Diff.Grad(v => v.LogNdtr().Sum())(Tensor.FromArray(new[] { x }, 1));
            var second = Diff.Grad(v => Diff.Grad(w => w.LogNdtr().Sum())(v).Sum())(Tensor.FromArray(new[] { x }, 1));
            Assert.Equal(0.0, first.Eval().ToDoubleArray()[0]);
            Assert.Equal(0.0, second.Eval().ToDoubleArray()[0]);
        }
        // at 5 the slope φ(5)/Φ(5) is 1.4867199409049057e-06 (mpmath 1.3, npdf(5)/ncdf(5) at 30 digits)
        Assert.Equal(1.4867199409049057e-06, Diff.Grad(v => v.LogNdtr().Sum())(Tensor.FromArray(new[] { 5.0 }, 1)).Eval().ToDoubleArray()[0], 4e-20);

        Passes(FuzzCommand.Programs(1, 1, 212, ops: OpSurface.Fresh)[0]);
    }

    [Fact]
    public void Fresh1_137And1_291_MultigammalnsSecondOrderIsTrigamma_OursMpmaths_TorchsWithinTheTrigammaTolerance()
    {
        // d²/da² log Γ_p(a) = Σ_{j<p} ψ′(a − j/2); mpmath 1.3 at 30 digits: psi(1, 0.4), and psi(1, 1.7) + psi(1, 1.2) + psi(1, 0.7)
        foreach (var (a, p, expected) in new[] { (0.4, 1, 7.2753565905295967), (1.7, 3, 4.8946591922823885) })
        {
            var second = Diff.Grad(v => Diff.Grad(w => w.Multigammaln(p).Sum())(v).Sum())(Tensor.FromArray(new[] { a }, 1)).Eval().ToDoubleArray()[0];
            Assert.Equal(expected, second, 4e-15 * expected);
        }
        // torch's trigamma ends in a short asymptotic series: a few parts in 1e10 apart, within the polygamma family's tolerance
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { 0.4 }, 1);
            var g = torch.autograd.grad(new[] { torch.special.multigammaln(input, 1).sum() }, new[] { input }, create_graph: true, retain_graph: true)[0];
            var second = Values(torch.autograd.grad(new[] { g.sum() }, new[] { input })[0])[0];
            Assert.InRange(Math.Abs(second - 7.2753565905295967) / 7.2753565905295967, 1e-12, 1e-6);
        }

        Passes(FuzzCommand.Programs(1, 1, 137, ops: OpSurface.Fresh)[0]);
        Passes(FuzzCommand.Programs(1, 1, 291, ops: OpSurface.Fresh)[0]);
    }

    [Fact]
    public void Fresh1_162_KlDivAtAZeroTargetFromARelu_FirstOrderOnly_NoJvp_Named()
    {
        // kl_div(x, relu(t)) at t < 0 is constant in t (relu is 0 around it), so its JVP along t is 0; forward mode hands kl's
        // slope in the target, log 0 + 1 − x = −∞, relu's tangent 0, and 0·(−∞) = NaN, ours as torch's forward mode. The
        // gradient (relu's mask after the −∞) is the closed form 0
        var t = Tensor.FromArray(new[] { -0.44, -0.80, -0.56 }, 1, 3);
        var x = Tensor.FromArray(new[] { 1.0 / 3, 1.0 / 3, 1.0 / 3 }, 1, 3);
        Assert.All(Diff.Grad(v => FunctionalDiff.Loss.KlDiv(x, v.Relu(), Reduction.Mean))(t).Eval().ToDoubleArray(), g => Assert.Equal(0.0, g));

        // a program with multi_margin_loss is first order only, its JVP torch's reverse rows, which hold relu's masked 0
        var program = FuzzCommand.Programs(1, 1, 162, ops: OpSurface.Fresh)[0];
        Assert.Contains(Suite.Check.Jvp, program.ToCase().Skipped);
        using (torch.NewDisposeScope())
        {
            var input = Tensor64(new[] { -0.44, -0.80, -0.56 }, 1, 3);
            var loss = F.kl_div(torch.tensor(new[] { 1.0 / 3, 1.0 / 3, 1.0 / 3 }, dtype: torch.ScalarType.Float64).reshape(1, 3), input.relu(), reduction: torch.nn.Reduction.Mean);
            Assert.All(Values(torch.autograd.grad(new[] { loss }, new[] { input })[0]), g => Assert.Equal(0.0, g));
        }
        Passes(program);
    }

    [Fact]
    public void FreshAdversarial1_230_I1eAtATinyEntry_TorchsSecondOrderZero_OursTheCurvatureMinusOne_Named()
    {
        // e^{−|x|}·I₁(x) = x/2 − x·|x|/2 + O(x³): i1e″ is −1 just above 0 and +1 just below
        foreach (var x in new[] { 1e-30, -1e-30 })
        {
            var second = Diff.Grad(v => Diff.Grad(w => w.I1e().Sum())(v).Sum())(Tensor.FromArray(new[] { x }, 1)).Eval().ToDoubleArray()[0];
            Assert.Equal(-Math.Sign(x), second, 1e-12);
        }
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { 1e-30 }, 1);
            var g = torch.autograd.grad(new[] { torch.special.i1e(input).sum() }, new[] { input }, create_graph: true, retain_graph: true)[0];
            // the small-|x| branch is the constant ½: no second derivative, or 0
            if (!g.requires_grad) continue;
            var h = torch.autograd.grad(new[] { g.sum() }, new[] { input }, allow_unused: true)[0];
            Assert.True(h.IsInvalid || Values(h)[0] == 0.0);
        }
        var program = FuzzCommand.Programs(1, 1, 230, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("I1e at 0 < |x|"));
        Passes(program);
    }

    [Fact]
    public void FreshAdversarial1_245_I1AtInfinity_TorchNaN_OursTheLimit_Named()
    {
        Assert.Equal(new[] { double.PositiveInfinity, double.NegativeInfinity },
            ((Expr)Tensor.FromArray(new[] { double.PositiveInfinity, double.NegativeInfinity }, 2)).I1().Eval().ToDoubleArray());
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            Assert.True(double.IsNaN(Values(torch.special.i1(torch.tensor(new[] { double.PositiveInfinity }, dtype: torch.ScalarType.Float64)))[0]));
        }
        Passes(FuzzCommand.Programs(1, 1, 245, adversarial: true, ops: OpSurface.Fresh)[0]);
    }

    [Fact]
    public void FreshAdversarial1_101_MatrixExpOfAnInfiniteEntry_OursNaN_AKnownLimitation_Named()
    {
        // e^[[∞]] is [[∞]]; ours scales by 2^−s with s from the norm, ∞, and gives NaN
        Assert.True(double.IsNaN(((Expr)Tensor.FromArray(new[] { double.PositiveInfinity }, 1, 1)).MatrixExp().Eval().ToDoubleArray()[0]));
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            Assert.Equal(double.PositiveInfinity, Values(torch.linalg.matrix_exp(torch.tensor(new[] { double.PositiveInfinity }, dtype: torch.ScalarType.Float64).reshape(1, 1)))[0]);
        }
        var program = FuzzCommand.Programs(1, 1, 101, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.RoundedToFloat32().Forward().TorchWrong, w => w.Why.StartsWith("ours (a known limitation): the matrix exponential"));
        Passes(program);
    }

    [Fact]
    public void FreshAdversarial1_144_VanderOfASubnormalEntry_TorchsSecondOrderNaN_OursTheClosedForm_Named()
    {
        // Σ column x² of vander(x, 3): its second derivative along v is 2·v at every entry
        double[] x = { 1e-45, 1e-30, 1e-310 }, v = { -0.23, 0.14, 0.58 };
        var direction = Tensor.FromArray(v, 3);
        var ours = Diff.Grad(p => (Diff.Grad(w => w.Vander(3).Select(1, 0).Sum())(p) * direction).Sum())(Tensor.FromArray(x, 3)).Eval().ToDoubleArray();
        Assert.Equal(v.Select(d => 2 * d).ToArray(), ours);
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(x, 3);
            var g = torch.autograd.grad(new[] { torch.linalg.vander(input, 3).select(1, 2).sum() }, new[] { input }, create_graph: true, retain_graph: true)[0];
            var second = Values(torch.autograd.grad(new[] { (g * torch.tensor(v, dtype: torch.ScalarType.Float64)).sum() }, new[] { input })[0]);
            Assert.False(double.IsFinite(second[2]) && second[2] == 2 * v[2], $"torch's [{string.Join(", ", second)}]");
        }
        Passes(FuzzCommand.Programs(1, 1, 144, adversarial: true, ops: OpSurface.Fresh)[0]);
    }

    [Fact]
    public void FreshAdversarial1_262_CopysignsSignSourceBesideAnInfinity_OursZero_TorchNaN_Named()
    {
        // copysign(½, y) is ±½: its slope in y is 0 wherever y is, and the gradient through y's infinite slopes 0 too
        var y = Tensor.FromArray(new[] { 1.0, double.PositiveInfinity }, 2);
        Assert.Equal(new[] { 0.0, 0.0 }, Diff.Grad(t => ((Expr)Tensor.FromArray(new[] { 0.5, 0.5 }, 2)).Copysign(t.Exp()).Sum())(y).Eval().ToDoubleArray());
        var program = FuzzCommand.Programs(1, 1, 262, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchNaN, n => n.StartsWith("Copysign's sign source"));
        Passes(program);
    }

    [Fact]
    public void Fresh3_209_NdtrAtMinusInfinity_TorchsCurvatureNaN_OursTheLimitZero_Named()
    {
        // Φ″(x) = −x·φ(x) → 0 as x → ±∞
        var second = Diff.Grad(v => Diff.Grad(w => w.Ndtr().Sum())(v).Sum())(Tensor.FromArray(new[] { double.NegativeInfinity, double.PositiveInfinity }, 2)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0.0 }, second.Select(Math.Abs).ToArray());
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { double.NegativeInfinity }, 1);
            var g = torch.autograd.grad(new[] { torch.special.ndtr(input).sum() }, new[] { input }, create_graph: true, retain_graph: true)[0];
            Assert.True(double.IsNaN(Values(torch.autograd.grad(new[] { g.sum() }, new[] { input })[0])[0]));
        }
        var program = FuzzCommand.Programs(1, 3, 209, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchNaN, n => n.StartsWith("Ndtr at ±∞"));
        Passes(program);
    }

    [Fact]
    public void Fresh2_181And3_282_AStepWithNoEntriesBesideANaN_OursZero_TorchNaN_Named()
    {
        // Σ cumulative_trapezoid(tanh x) over an axis of length 1 is the empty sum 0, whatever x is: its gradient is 0, NaN
        // entries of x included
        var x = Tensor.FromArray(new[] { double.NaN, 2.0 }, 2, 1);
        Assert.Equal(new[] { 0.0, 0.0 }, Diff.Grad(v => v.Tanh().CumulativeTrapezoid(0.5, -1).Sum())(x).Eval().ToDoubleArray());
        foreach (var (seed, k) in new[] { (2, 181), (3, 282) })
        {
            var program = FuzzCommand.Programs(1, seed, k, ops: OpSurface.Fresh)[0];
            Assert.Contains(program.Forward().TorchNaN, n => n.StartsWith("A step with no entries from an operand with entries"));
            Passes(program);
        }
    }

    [Fact]
    public void FreshAdversarial2_173_Xlog1pyAtAnInfiniteY_UnderTanhsZeroSlope_OursNaN_AKnownLimitation_Named()
    {
        // tanh(x·log1p(+∞)) is ±1 for x ≠ 0, so its gradient in x is 0 (torch's); ours multiplies tanh's slope 0 by log1p(+∞)
        var x = Tensor.FromArray(new[] { 1e300 }, 1);
        var ours = Diff.Grad(v => Expr.Xlog1py(v, Tensor.FromArray(new[] { double.PositiveInfinity }, 1)).Tanh().Sum())(x).Eval().ToDoubleArray()[0];
        Assert.True(double.IsNaN(ours), $"ours {ours}");
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { 1e300 }, 1);
            var y = torch.special.xlog1py(input, torch.tensor(new[] { double.PositiveInfinity }, dtype: torch.ScalarType.Float64)).tanh().sum();
            Assert.Equal(0.0, Values(torch.autograd.grad(new[] { y }, new[] { input })[0])[0]);
        }
        var program = FuzzCommand.Programs(1, 2, 173, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours (a known limitation): xlog1py's infinite slope"));
        Passes(program);
    }
}
