using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch fuzzops settled: the open programs of `fuzz --ops fresh --inputs adversarial --seed 6` and the runs of
/// `--ops recent`, each convention with torch's numbers (asked five times, so a name rests on a repeatable answer) and ours
/// against a closed form or mpmath, and the program passing the fuzzer under its name.
/// </summary>
public class FuzzRecentTests
{
    static FuzzProgram FreshAdversarial6(int k) => FuzzCommand.Programs(1, 6, k, adversarial: true, ops: OpSurface.Fresh)[0];

    /// <summary>Every check the fuzzer compares passes, in both dtypes: a program whose every check a name skips (i1 at 710 is
    /// wrong in torch's value and every derivative) has none left to compare.</summary>
    static void PassesWhatIsCompared(FuzzProgram program)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            Assert.All(FuzzCheck.Checked(program, dtype), r => Assert.True(r.Passed, $"{dtype} {r.Check}"));
    }

    [Fact]
    public void FreshAdversarial6_20And6_150_I0AtInfinity_TheLimitPlusInfinity_TorchsNaN_Named()
    {
        // I₀ is even and grows as e^|x|/√(2π|x|): I₀(±∞) = +∞, and its slope I₁(x) is odd, I₁(±∞) = ±∞
        var x = Tensor.FromArray(new[] { double.PositiveInfinity, double.NegativeInfinity, 0.0 }, 3);
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity, 1.0 }, x.I0().ToDoubleArray());
        Assert.Equal(new[] { double.PositiveInfinity, double.NegativeInfinity, 0.0 }, Diff.Grad(v => v.I0().Sum())(x).Eval().ToDoubleArray());

        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { double.PositiveInfinity, double.NegativeInfinity, 0.0 }, 3);
            var value = torch.special.i0(input);
            var gradient = Values(torch.autograd.grad(new[] { value.sum() }, new[] { input })[0]);
            var values = Values(value);
            Assert.True(double.IsNaN(values[0]) && double.IsNaN(values[1]) && values[2] == 1.0, string.Join(", ", values));
            Assert.True(double.IsNaN(gradient[0]) && double.IsNaN(gradient[1]) && gradient[2] == 0.0, string.Join(", ", gradient));
        }

        foreach (var k in new[] { 20, 150 })
        {
            var program = FreshAdversarial6(k);
            Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("I0 at ±∞"));
            PassesWhatIsCompared(program);
        }
    }

    [Fact]
    public void FreshAdversarial6_141_I1At710_OursTheValue_TorchsExpOverflowsFirst_Named()
    {
        // mpmath 1.3 at 30 digits: besseli(1, 710), besseli(0, 710), and the slope of I₁, I₀ − I₁/x
        var x = Tensor.FromArray(new[] { 710.0 }, 1);
        Assert.Equal(3.34297785850976287e306, x.I1().ToDoubleArray()[0], 3.34297785850976287e306 * 1e-14);
        Assert.Equal(3.34533455861965597e306, x.I0().ToDoubleArray()[0], 3.34533455861965597e306 * 1e-14);
        Assert.Equal(3.34062613910062813e306, Diff.Grad(v => v.I1().Sum())(x).Eval().ToDoubleArray()[0], 3.34062613910062813e306 * 1e-13);

        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { 710.0 }, 1);
            Assert.Equal(double.PositiveInfinity, Values(torch.special.i1(input))[0]);
            Assert.Equal(double.PositiveInfinity, Values(torch.special.i0(input))[0]);
        }

        var program = FreshAdversarial6(141);
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("I0 or I1 where the value is finite"));
        PassesWhatIsCompared(program);
    }

    [Fact]
    public void FreshAdversarial6_161_AveragePoolsOverAnInfinity_SecondOrderZero_TorchsNaN_Named()
    {
        // Σ pool(c·x) with c holding +∞ is linear in x, so its second derivative is the zero map (ours); torch's pool backward
        // reads the pool's input, whose zero derivative meets c's infinity as 0·∞ = NaN
        var pools = new (string Name, long[] Shape, Func<Expr, Expr> Ours, Func<torch.Tensor, torch.Tensor> Torch)[]
        {
            ("avg_pool1d", new long[] { 1, 1, 4 }, v => Nn.AvgPool1d(v, 2), t => F.avg_pool1d(t, 2)),
            ("avg_pool2d", new long[] { 1, 1, 2, 2 }, v => Nn.AvgPool2d(v, 1), t => F.avg_pool2d(t, new long[] { 1, 1 })),
            ("avg_pool3d", new long[] { 1, 1, 1, 2, 2 }, v => Nn.AvgPool3d(v, 1), t => F.avg_pool3d(t, new long[] { 1, 1, 1 })),
            ("adaptive_avg_pool1d", new long[] { 1, 1, 4 }, v => Nn.AdaptiveAvgPool1d(v, 3), t => F.adaptive_avg_pool1d(t, 3)),
            ("adaptive_avg_pool3d", new long[] { 1, 1, 1, 2, 2 }, v => Nn.AdaptiveAvgPool3d(v, (1, 1, 2)), t => F.adaptive_avg_pool3d(t, (1L, 1L, 2L))),
        };
        var c = new[] { double.PositiveInfinity, 1.0, 2.0, -3.0 };
        foreach (var (name, shape, ours, torchPool) in pools)
        {
            var shapeInts = shape.Select(d => (int)d).ToArray();
            var hessian = Diff.Hessian(v => ours((v * Tensor.FromArray(c, 4)).Reshape(shapeInts)).Sum())(Tensor.FromArray(new[] { 0.5, -1.0, 2.0, 0.25 }, 4)).Eval().ToDoubleArray();
            Assert.True(hessian.All(h => h == 0), $"{name}: ours {string.Join(", ", hessian)}");
            for (int call = 0; call < 5; call++)
            {
                using var scope = torch.NewDisposeScope();
                var input = Tensor64(new[] { 0.5, -1.0, 2.0, 0.25 }, 4);
                var y = torchPool((input * torch.tensor(c, dtype: torch.ScalarType.Float64)).reshape(shape)).sum();
                var g = torch.autograd.grad(new[] { y }, new[] { input }, create_graph: true, retain_graph: true)[0];
                var second = Values(torch.autograd.grad(new[] { g.sum() }, new[] { input }, allow_unused: true)[0]);
                Assert.True(double.IsNaN(second[0]), $"{name}: torch {string.Join(", ", second)}");
            }
        }

        var program = FreshAdversarial6(161);
        Assert.Contains(program.Forward().TorchNaNFloat32, w => w.StartsWith("Average pooling over a value non-finite in float32"));
        Passes(program);
    }

    [Fact]
    public void FreshAdversarial6_209_MatrixPowerOverflowingBesideAZero_BothEnginesNaNWhereTheEntryIs0_Named()
    {
        // diag(a, 0)³ = diag(a³, 0): its off-diagonal entries are exactly 0; with a = −1e160, a² overflows, and a product
        // ∞·0 = NaN lands in an off-diagonal entry wherever an engine's order of products forms one
        var ours = Tensor.FromArray(new[] { -1e160, 0.0, 0.0, 0.0 }, 2, 2).MatrixPower(3).ToDoubleArray();
        Assert.Equal(double.NegativeInfinity, ours[0]);
        Assert.Equal(0.0, ours[3]);
        Assert.Contains(ours[1..3], double.IsNaN);
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var theirs = Values(Tensor64(new[] { -1e160, 0.0, 0.0, 0.0 }, 2, 2).matrix_power(3));
            Assert.Equal(double.NegativeInfinity, theirs[0]);
            Assert.Contains(theirs[1..3], double.IsNaN);
            Assert.NotEqual(ours[1..3].Select(double.IsNaN), theirs[1..3].Select(double.IsNaN));
        }

        var program = FreshAdversarial6(209);
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours and torch's: MatrixPower"));
        Passes(program);
    }

    [Fact]
    public void RecentAdversarial2_95And2_104_AddmmAtAlphaZeroOverAnInfinity_TorchLeavesTheProductOut_Named()
    {
        // β·input + 0·(m1 @ m2) with m1 @ m2 = +∞: IEEE's 0·∞ is NaN (ours); torch's BLAS call leaves the product out at α = 0
        var ours = Tensor.FromArray(new[] { 0.125 }, 1, 1).Addmm(Tensor.FromArray(new[] { double.PositiveInfinity, 1.0 }, 1, 2),
            Tensor.FromArray(new[] { 2.0, 3.0 }, 2, 1), 2.0, 0.0).ToDoubleArray();
        Assert.True(double.IsNaN(ours[0]), $"ours {ours[0]}");
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var theirs = Values(Tensor64(new[] { 0.125 }, 1, 1).addmm(Tensor64(new[] { double.PositiveInfinity, 1.0 }, 1, 2), Tensor64(new[] { 2.0, 3.0 }, 2, 1), 2f, 0f));
            Assert.Equal(0.25, theirs[0]);
        }

        var program = FuzzCommand.Programs(1, 2, 95, adversarial: true, ops: OpSurface.Recent)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("The addmm family at α = 0"));
        PassesWhatIsCompared(program);
        PassesWhatIsCompared(FuzzCommand.Programs(1, 2, 104, adversarial: true, ops: OpSurface.Recent)[0]);
    }

    [Fact]
    public void RecentAdversarial2_29_ThreeNormOfATinyGroup_HessianTermsCancelInBothEngines_Named()
    {
        // ‖x‖₃ at x = [0, a] is |a| along x₁ and flat to second order along x₀ (|x₀|³ is), so its Hessian is 0; each engine forms
        // it as two terms of about 2/|a| that cancel, and keeps their rounding, far from 0 at a = −1e-45
        var x = Tensor.FromArray(new[] { 0.0, -1e-45 }, 2);
        var ours = Diff.Hessian(v => v.VectorNorm(3.0))(x).Eval().ToDoubleArray();
        Assert.True(Math.Abs(ours[3]) > 1e20, $"ours {string.Join(", ", ours)}");
        // at a = −1 the same terms cancel to within rounding of 2
        var atOne = Diff.Hessian(v => v.VectorNorm(3.0))(Tensor.FromArray(new[] { 0.0, -1.0 }, 2)).Eval().ToDoubleArray();
        Assert.All(atOne, h => Assert.True(Math.Abs(h) < 1e-14, $"ours at −1 {string.Join(", ", atOne)}"));
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = Tensor64(new[] { 0.0, -1e-45 }, 2);
            var g = torch.autograd.grad(new[] { torch.linalg.vector_norm(input, 3.0) }, new[] { input }, create_graph: true, retain_graph: true)[0];
            var row = Values(torch.autograd.grad(new[] { g[1] }, new[] { input })[0]);
            Assert.True(Math.Abs(row[1]) > 1e20, $"torch {string.Join(", ", row)}");
        }

        var program = FuzzCommand.Programs(1, 2, 29, adversarial: true, ops: OpSurface.Recent)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours and torch's: the second order of a vector norm"));
        PassesWhatIsCompared(program);
    }

    [Fact]
    public void Recent3_209_BesselJAtInfinity_TheLimitZero_TorchsNaN_Named()
    {
        // |J₀(x)| and |J₁(x)| fall as √(2/(π|x|)): both tend to 0 at ±∞, and so do their slopes −J₁ and J₀ − J₁/x
        var x = Tensor.FromArray(new[] { double.PositiveInfinity, double.NegativeInfinity }, 2);
        Assert.All(x.BesselJ0().ToDoubleArray().Concat(x.BesselJ1().ToDoubleArray()), v => Assert.Equal(0.0, Math.Abs(v)));
        Assert.All(Diff.Grad(v => (v.BesselJ0() + v.BesselJ1()).Sum())(x).Eval().ToDoubleArray(), v => Assert.Equal(0.0, Math.Abs(v)));
        for (int call = 0; call < 5; call++)
        {
            using var scope = torch.NewDisposeScope();
            var input = torch.tensor(new[] { double.PositiveInfinity, double.NegativeInfinity }, dtype: torch.ScalarType.Float64);
            Assert.Contains(Values(torch.special.bessel_j0(input)).Concat(Values(torch.special.bessel_j1(input))), double.IsNaN);
        }

        var program = FuzzCommand.Programs(1, 3, 209, ops: OpSurface.Recent)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Bessel J at ±∞"));
        PassesWhatIsCompared(program);
    }
}
