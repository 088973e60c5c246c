using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The programs settled on branch `fuzzspecial` (2026-12-07): the open ones of the run log, pdist at p = 3 past its cubes'
/// overflow (`fresh adversarial 57/56`, the reference's scaled norm) and a float32 isin tie decided by torch's rounding
/// (`recent 55/115`), and those of the first runs of `--ops special` (gammainc, gammaincc, zeta). Torch asked five times,
/// ours against a closed form or mpmath, and each program through every check.
/// </summary>
public class FuzzSpecialTests
{
    static TorchSharp.torch.Tensor Rows(double[] values) => torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(2, 3);

    /// <summary>As <see cref="PassesNamed"/>, for a program whose float32 run a name may skip whole: the program names the
    /// convention, its float64 run compares some check, and every check compared passes in both dtypes.</summary>
    static void PassesNamedWhereCompared(FuzzProgram program, string why)
    {
        var forward = program.Forward();
        bool Named(string name) => name.StartsWith(why, StringComparison.Ordinal);
        Assert.True(forward.TorchWrong.Concat(forward.TorchWrongFloat32).Any(w => Named(w.Why)) || forward.TorchNaN.Concat(forward.TorchNaNFloat32).Any(Named),
            $"{program.Name} does not name \"{why}\"");
        var float64 = FuzzCheck.Checked(program, DType.Float64);
        Assert.NotEmpty(float64);
        foreach (var r in float64.Concat(FuzzCheck.Checked(program, DType.Float32)))
            Assert.True(r.Passed, $"{program.Name}: {r.Check} failed");
    }

    [Fact]
    public void Pdist_AtOrderThree_WhoseCubesOverflow_TorchsIsInfinite_TheReferenceScalesItForItsPower()
    {
        // rows [0, 0, 0] and [1e160, 0, 0]: their distance in every p-norm is 1e160; torch's 3-norm of the difference (pdist by
        // its definition, TorchSharp 0.107 having no pdist) cubes 1e160 into +∞
        double[] rows = { 0, 0, 0, 1e160, 0, 0 };
        for (int run = 0; run < 5; run++)
        {
            var x = Rows(rows);
            Assert.Equal(double.PositiveInfinity, Values(torch.linalg.vector_norm(x[0] - x[1], 3))[0]);
        }
        var pdist = new Step(OpKind.Pdist, new[] { 0 }, Array.Empty<int>(), Scalar: 3);
        var reference = Values(TorchInterpreter.Apply(pdist, new[] { Rows(rows) }, torch.ScalarType.Float64));
        Assert.Equal(1e160, reference[0], 1e147);
        Assert.Equal(1e160, Nn.Pdist(Tensor.FromArray(rows, 2, 3), 3.0).Eval().ToDoubleArray()[0], 1e147);
        // the gradient in the second row is sgn(d)·|d|²/‖d‖₃² = [1, 0, 0] times −1 for the first
        var gradient = Diff.Grad(v => Nn.Pdist(v, 3.0).Sum())(Tensor.FromArray(rows, 2, 3)).Eval().ToDoubleArray();
        Assert.Equal(new[] { -1.0, 0, 0, 1, 0, 0 }, gradient.Select(g => Math.Round(g, 12)));
        // the program as drawn compares its values (rows about 1e160 apart), where the reference was +∞
        var drawn = FuzzCommand.Programs(1, 57, 56, adversarial: true, ops: OpSurface.Fresh)[0];
        Assert.DoesNotContain(drawn.Forward().TorchWrong, w => w.Checks.Contains(Suite.Check.Value));
        Passes(drawn);
    }

    [Fact]
    public void Pdist_OfEqualRows_AtOrderThree_IsThePNormsKink_TorchsDerivativeIsNaN_Named()
    {
        // pdist of two equal rows at p = 3 is ‖0‖₃ (`fresh adversarial 57/56` shrunk), a kink whose slope both engines take
        // as 0 (the gradients below); torch's JVP, the derivative of its backward in the cotangent, meets its rule
        // x·|x|/‖x‖² there as 0/0
        double[] tangent = { 0.104305, 1.20954, -0.832515 };
        for (int run = 0; run < 5; run++)
        {
            var x = Tensor64(new double[3], 3);
            var u = Tensor64(new[] { 0.0 }, 1);
            var backward = torch.autograd.grad(new[] { torch.linalg.vector_norm(x, 3).reshape(1) }, new[] { x }, new[] { u }, create_graph: true)[0];
            Assert.All(Values(backward), g => Assert.Equal(0.0, g));
            var jvp = Values(torch.autograd.grad(new[] { backward }, new[] { u }, new[] { torch.tensor(tangent, dtype: torch.ScalarType.Float64) })[0]);
            Assert.True(double.IsNaN(jvp[0]), $"run {run}: torch's JVP {jvp[0]}");
        }
        var ours = Diff.Grad(v => Nn.Pdist(v, 3.0).Sum())(Tensor.FromArray(new double[6], 2, 3)).Eval().ToDoubleArray();
        Assert.All(ours, g => Assert.Equal(0.0, g));
        PassesNamed(Program("pdist of equal rows", new[] { new[] { 2, 3 } }, new[] { new double[6] },
            new Step(OpKind.Pdist, new[] { 0 }, Array.Empty<int>(), Scalar: 3)), "p-norm whose ‖x‖^(p−1) underflows");
    }

    [Fact]
    public void IsIn_AtATieThatTorchsFloat32RoundingBreaks_IsNamedForTheFloat32Run()
    {
        // isin(cos(i0(−0.5)), [0.4858304, …], invert) in float32 (`recent 55/115`): I₀(0.5) = 1.06348337074132 rounds to the
        // float32 1.0634833574295044 (1.3e-8 from it, an ulp being 1.2e-7), whose cosine is 0.485830396125236572 (mpmath, 50
        // digits), 0.4858303964138031 rounded to float32: the tie holds for the correctly rounded float32 i0 and cos, ours;
        // torch's float32 i0 is an ulp away, and its cosine off the tie
        const float i0 = 1.0634833574295044f, tie = 0.4858303964138031f;
        for (int run = 0; run < 5; run++)
        {
            var torchs = torch.special.i0(torch.tensor(new[] { -0.5f }));
            Assert.NotEqual(i0, torchs.data<float>()[0]);
            Assert.NotEqual(tie, torchs.cos().data<float>()[0]);
        }
        var ours = ((Expr)Tensor.FromArray(new[] { -0.5f })).I0();
        Assert.Equal(i0, ours.Eval().ToSingleArray()[0]);
        Assert.Equal(tie, ours.Cos().Eval().ToSingleArray()[0]);
        var program = FuzzCommand.Programs(1, 55, 115, ops: OpSurface.Recent)[0];
        PassesNamedWhereCompared(program, "IsIn at a tie of the float64 run");
    }

    [Fact]
    public void Zeta_AtQPlusInfinity_IsZero_TheLimit_TorchsIsNaN_Named()
    {
        // ζ(s, q) = Σₖ (q + k)^(−s) has every term 0 at q = +∞: the limit is 0, as mpmath's ζ(2.5, 1e300) = 6.7e-451 shows on the
        // way (below float64's range), and its slope −s·ζ(s + 1, q) is 0 there too (`fuzz special adversarial 60/19`)
        for (int run = 0; run < 5; run++)
        {
            var q = Tensor64(new[] { double.PositiveInfinity }, 1);
            var y = torch.special.zeta(torch.tensor(new[] { 2.5 }, dtype: torch.ScalarType.Float64), q);
            Assert.True(double.IsNaN(Values(y)[0]), $"run {run}: torch's ζ(2.5, +∞) {Values(y)[0]}");
            Assert.True(double.IsNaN(Values(torch.autograd.grad(new[] { y.sum() }, new[] { q })[0])[0]), $"run {run}: torch's slope");
        }
        var at = Tensor.FromArray(new[] { double.PositiveInfinity });
        Expr Zeta(Expr q) => Expr.Zeta(Tensor.FromArray(new[] { 2.5 }), q);
        Assert.Equal(0.0, Zeta(at).Eval().ToDoubleArray()[0]);
        Assert.Equal(0.0, Diff.Grad(q => Zeta(q).Sum())(at).Eval().ToDoubleArray()[0]);
        PassesNamed(FuzzCommand.Programs(1, 60, 19, adversarial: true, ops: OpSurface.Special)[0], "Zeta at q = +∞");
        PassesNamedWhereCompared(FuzzCommand.Programs(1, 60, 165, adversarial: true, ops: OpSurface.Special)[0], "Zeta at q = +∞");
    }

    [Fact]
    public void I1_AtPlusInfinity_InTheFloat32RunOnly_TorchsNaNIsRoutedAroundByFmin_Named()
    {
        // fmin(x, σ(i1(v))) with v = 4.4e299 in float64, +∞ in float32 (`fuzz special adversarial 59/264`): i1(+∞) = +∞, the limit,
        // so σ = 1 and fmin(2.098, 1) = 1 (ours); torch's float32 i1(+∞) is NaN, and fmin(2.098, NaN) = 2.098, another branch
        for (int run = 0; run < 5; run++)
        {
            var y = torch.special.i1(torch.tensor(new[] { float.PositiveInfinity }));
            Assert.True(float.IsNaN(y.data<float>()[0]), $"run {run}: torch's i1(+∞)");
            Assert.Equal(2.0982492f, torch.fmin(torch.tensor(new[] { 2.0982492f }), y.sigmoid()).data<float>()[0]);
        }
        var ours = Expr.Fmin(Tensor.FromArray(new[] { 2.0982492f }), ((Expr)Tensor.FromArray(new[] { float.PositiveInfinity })).I1().Sigmoid());
        Assert.Equal(1f, ours.Eval().ToSingleArray()[0]);
        var program = FuzzCommand.Programs(1, 59, 264, adversarial: true, ops: OpSurface.Special)[0];
        var forward = program.Forward();
        Assert.DoesNotContain(forward.TorchWrong, w => w.Why.StartsWith("I1 at ±∞", StringComparison.Ordinal));
        PassesNamedWhereCompared(program, "I1 at ±∞ in the float32 run only");
    }

    [Fact]
    public void Pdist_AtOrderInfinity_OverANaNRow_IsTheMaxNormsDocumentedDifference_Named()
    {
        // pdist([[0, 0], [0, NaN]], ∞) is max(|0|, |NaN|) = NaN in both; its derivative does not exist: ours NaN as max's,
        // torch's ∞-norm rule masks |d| = max, false at NaN, so its gradient is 0 (`fuzz special adversarial 60/285`)
        for (int run = 0; run < 5; run++)
        {
            var x = Tensor64(new[] { 0.0, 0.0, 0.0, double.NaN }, 2, 2);
            var y = torch.linalg.vector_norm(x[0] - x[1], double.PositiveInfinity);
            Assert.True(double.IsNaN(Values(y)[0]));
            Assert.All(Values(torch.autograd.grad(new[] { y }, new[] { x })[0]), g => Assert.Equal(0.0, g));
        }
        var ours = Diff.Grad(v => Nn.Pdist(v, double.PositiveInfinity).Sum())(Tensor.FromArray(new[] { 0.0, 0.0, 0.0, double.NaN }, 2, 2)).Eval().ToDoubleArray();
        Assert.Contains(ours, double.IsNaN);
        PassesNamedWhereCompared(FuzzCommand.Programs(1, 60, 285, adversarial: true, ops: OpSurface.Special)[0], "Norm ∞ at a NaN entry");
    }

    [Fact]
    public void SelectScatter_ThatOverwritesItsInput_BeforeAnInfiniteWeight_TorchsJvpIsNaN_Named()
    {
        // conv_transpose1d(select_scatter(x, c, 1, −1), W, b) with x of shape [3, 1]: the scatter overwrites every entry of x, so
        // the value does not depend on it and x's tangent is 0; torch's forward mode carries zeros there, which W's +∞ meets as
        // 0·∞ (`fuzz special adversarial 60/198`, float32, where 1e300 rounds to +∞). The JVP along x alone is exactly 0.
        for (int run = 0; run < 5; run++)
        {
            var x = torch.zeros(1, 1, 3, dtype: torch.ScalarType.Float32);
            var w = torch.tensor(new[] { float.PositiveInfinity }, dtype: torch.ScalarType.Float32).reshape(1, 1, 1);
            var jvp = torch.nn.functional.conv_transpose1d(x, w);
            Assert.True(float.IsNaN(jvp.data<float>()[0]), $"run {run}: torch's zeros through +∞");
        }
        var ours = Diff.Jvp(v => Nn.ConvTranspose1d(v.SelectScatter(Tensor.FromArray(new[] { 0.5f, 1f, 1f }, 3), 1, -1).Reshape(1, 1, 3),
                Tensor.FromArray(new[] { float.PositiveInfinity }, 1, 1, 1)),
            Tensor.FromArray(new[] { -0f, -0f, 0.5f }, 3, 1), Tensor.FromArray(new[] { 1f, 2f, 3f }, 3, 1)).Tangent.Eval().ToSingleArray();
        Assert.All(ours, t => Assert.Equal(0f, t));
        PassesNamed(FuzzCommand.Programs(1, 60, 198, adversarial: true, ops: OpSurface.Special)[0], "A scatter that overwrites entries of a derived value");
    }

    [Fact]
    public void Vander_AtATinyNonzeroEntry_TorchsSecondOrderCancels_OursIsTheClosedForm_Named()
    {
        // Σ u·vander([x], 4, increasing) = u₀ + u₁x + u₂x² + u₃x³, whose second derivative is 2u₂ + 6u₃x (`fuzz special
        // adversarial 61/71`: x = 1e-30); torch's vander is a cumprod whose rule divides by x, and its double backward cancels
        // terms of size g/x: off by a factor at 1e-30
        double[] u = { -1.60835, 0.715286, -0.72477, -0.452594 };
        const double at = 1e-30;
        double exact = 2 * u[2] + 6 * u[3] * at;
        for (int run = 0; run < 5; run++)
        {
            var x = Tensor64(new[] { at }, 1);
            var y = (torch.linalg.vander(x, 4) * torch.tensor(u, dtype: torch.ScalarType.Float64)).sum();
            var g = torch.autograd.grad(new[] { y }, new[] { x }, retain_graph: true, create_graph: true)[0];
            var second = Values(torch.autograd.grad(new[] { g.sum() }, new[] { x })[0])[0];
            Assert.True(Math.Abs(second - exact) > 0.1 * Math.Abs(exact), $"run {run}: torch's {second:R}, the closed form {exact:R}");
        }
        var ours = Diff.Hessian(v => (v.Vander(4, increasing: true) * Tensor.FromArray(u, 1, 4)).Sum())(Tensor.FromArray(new[] { at })).Eval().ToDoubleArray();
        Assert.Equal(exact, ours[0], 1e-14);
        PassesNamed(FuzzCommand.Programs(1, 61, 71, adversarial: true, ops: OpSurface.Special)[0], "Vander of a vector holding a nonzero entry below 1e-3");
    }

    [Fact]
    public void MatrixExp_UnderACotangentThatDwarfsTheMatrix_TorchsReversePassesLoseDigits_OursAreTheCentralDifference_Named()
    {
        // `fuzz special adversarial 61/34`: a matrix_exp whose cotangent, through a bilinear layer with ±1e160 weights, is about
        // 1e160, where its rule exponentiates [[Aᵀ, g], [0, Aᵀ]]. The program's JVP along the fuzzer's tangent by central
        // differences of ours (stable from h = 1e-3 to 1e-7) is the reference
        var program = FuzzCommand.Programs(1, 61, 34, adversarial: true, ops: OpSurface.Special)[0];
        var probe = Suite.Probe.For(program.ToCase());
        var shape = program.InputShapes[0];
        double[] At(double h) => OurInterpreter.Run(program, new Expr[] { Tensor.FromArray(probe.Inputs[0].Select((v, k) => v + h * probe.Tangent[0][k]).ToArray(), shape) })
            .Eval().ToDoubleArray();
        const double step = 1e-6;
        double central = (At(step)[0] - At(-step)[0]) / (2 * step);
        var ours = Diff.Jvp(z => OurInterpreter.Run(program, new Expr[] { z }), Tensor.FromArray(probe.Inputs[0], shape), Tensor.FromArray(probe.Tangent[0], shape))
            .Tangent.Eval().ToDoubleArray();
        Assert.Equal(central, ours[0], Math.Abs(central) * 1e-7);
        // torch's JVP of this first-order program is its gradient (a reverse pass) times the tangent
        var longShape = shape.Select(d => (long)d).ToArray();
        for (int run = 0; run < 5; run++)
        {
            var x = torch.tensor(probe.Inputs[0], dtype: torch.ScalarType.Float64).reshape(longShape).requires_grad_(true);
            var y = TorchInterpreter.Run(program, new[] { x });
            var gradient = torch.autograd.grad(new[] { y.flatten()[0] }, new[] { x })[0];
            double torchs = (gradient * torch.tensor(probe.Tangent[0], dtype: torch.ScalarType.Float64).reshape(longShape)).sum().item<double>();
            Assert.True(Math.Abs(torchs - central) > 1e-2 * Math.Abs(central), $"run {run}: torch's {torchs:R}, central differences {central:R}");
        }
        // ours by reverse mode too, since the rule divides the cotangent down to A's size (SpecialTorchTests)
        var reverse = Diff.Grad(z => OurInterpreter.Run(program, new Expr[] { z }).Flatten().Slice(0, 0, 1).Sum())(Tensor.FromArray(probe.Inputs[0], shape)).Eval().ToDoubleArray();
        double oursReverse = reverse.Select((v, k) => v * probe.Tangent[0][k]).Sum();
        Assert.Equal(central, oursReverse, Math.Abs(central) * 1e-7);
        PassesNamed(program, "torch's: matrix_exp's reverse rule under a cotangent");
    }

    [Fact]
    public void LogNdtr_FarLeft_ItsCurvatureTendsToMinusOne_OursBeyondMinus1e150IsZeroOrNaN_AKnownLimitation_Named()
    {
        // d²/dx² log Φ(x) = −r(x + r) with r = φ/Φ; as x → −∞, r = −x − 1/x + 2/x³ + …, so the curvature tends to −1 (mpmath:
        // −0.999999000006 at −1e3, −1 to 1e-20 at −1e10). The reference's (TorchSharp 0.107 has no log_ndtr: torch's
        // erfcx-based composite) is −1 at −1e300 and at −∞. Ours differentiates its slope √(2/π)/erfcx(−x/√2): erfcx's rule
        // 2z·erfcx(z) − 2/√π cancelled (ours was 0 at −1e10, `fuzz special adversarial 63/171`), now its series from z = 100
        // (SpecialTorchTests); what remains is erfcx′ and erfcx², which underflow from about x = −1e150: 0 there, NaN at −∞
        for (int run = 0; run < 5; run++)
            foreach (var at in new[] { -1e300, double.NegativeInfinity })
            {
                var x = Tensor64(new[] { at }, 1);
                var y = TorchInterpreter.Apply(new Step(OpKind.LogNdtr, new[] { 0 }, Array.Empty<int>()), new[] { x }, torch.ScalarType.Float64);
                var g = torch.autograd.grad(new[] { y.sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
                var second = Values(torch.autograd.grad(new[] { g.sum() }, new[] { x })[0])[0];
                Assert.True(Math.Abs(second + 1) < 1e-12, $"at {at}: {second:R}");
            }
        double Ours(double at) => Diff.Hessian(v => v.LogNdtr().Sum())(Tensor.FromArray(new[] { at })).Eval().ToDoubleArray()[0];
        Assert.Equal(-0.99999900000599995, Ours(-1e3), 1e-12);
        Assert.Equal(-1.0, Ours(-1e10), 1e-12);
        Assert.Equal(0.0, Ours(-1e300));
        Assert.True(double.IsNaN(Ours(double.NegativeInfinity)));
        PassesNamed(FuzzCommand.Programs(1, 63, 171, adversarial: true, ops: OpSurface.Special)[0], "ours (a known limitation): the second order of log_ndtr far left");
    }
}
