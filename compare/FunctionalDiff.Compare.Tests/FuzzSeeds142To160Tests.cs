using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What seeds 142 to 160 found in the six modes (compare/FUZZING.md, run log): each settled program with ours against a
/// closed form, and the program passing the fuzzer as named.
/// </summary>
public class FuzzSeeds142To160Tests
{
    [Fact]
    public void AllAdversarial151_226_TrigammaFarBelowZero_IsTheReflection_TorchsReferenceReflectsToo()
    {
        // softshrink(−1e10, ½) = −9999999999.5, a half-integer, so ψ′(x) = π²/sin²(πx) − ψ′(1 − x) = π² − ψ′(1e10 + ½), where
        // ψ′(a) = 1/a + 1/(2a²) + O(a⁻³); ours was NaN there, and torch's backward (ψ″ by summing −x terms) ran for minutes, so the reference
        // reflects there too (TorchInterpreter.PolygammaInReach)
        double a = 1e10 + 0.5;
        double closed = Math.PI * Math.PI - (1 / a + 1 / (2 * a * a));
        var ours = ((Expr)Tensor.FromArray(new[] { -9999999999.5 }, 1)).Polygamma(1).Eval().ToDoubleArray()[0];
        Assert.True(Math.Abs(ours - closed) <= 4e-16 * closed, $"ψ′(−9999999999.5) = {ours:R}, closed form {closed:R}");
        Passes(FuzzCommand.Programs(1, 151, 226, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Recent71_264_MinusInfinityToARank0ExponentOfOneHalf_OursIsTorchsNumberExponent_Named()
    {
        // torch's pow: with a number for exponent ½ it takes √x, NaN at −∞; with a tensor exponent it is IEEE pow, +∞ there.
        // Ours is the former for any exponent of one entry (Elementwise.powScalar)
        var bases = Tensor64(new[] { double.NegativeInfinity, 4.0 }, 2);
        Assert.True(double.IsNaN(Values(bases.pow(0.5))[0]), "torch's pow by the number ½ at −∞");
        Assert.Equal(double.PositiveInfinity, Values(bases.pow(Tensor64(new[] { 0.5 })))[0]);
        var ours = ((Expr)Tensor.FromArray(new[] { double.NegativeInfinity, 4.0 }, 2)).Pow(Tensor.Scalar(0.5)).Eval().ToDoubleArray();
        Assert.True(double.IsNaN(ours[0]) && ours[1] == 2.0, $"ours {ours[0]}, {ours[1]}");
        var program = FuzzCommand.Programs(1, 71, 264, ops: OpSurface.Recent)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours (a convention): a rank-0 exponent of ±½", StringComparison.Ordinal));
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            Assert.All(FuzzCheck.Checked(program, dtype), r => Assert.True(r.Passed, $"{dtype} {r.Check}"));
    }

    [Fact]
    public void Benign157_206_PowOfMeanOfNormalizeBesideAZeroSlice_SecondOrderIsExactlyZero_TorchsResidueNamed()
    {
        // f = Σ u·m^m with m = mean(normalize(x, 2, axis 1), axis 2) over an axis of length 1: normalize is x/ε at a zero entry
        // and the constant sgn(x) at a nonzero one, so m₂ = ½(x₄/ε + 1) does not depend on x₅ = 0.5 and the second order's
        // entry for x₅ is exactly 0 (every term carries ∂m₂/∂x₅ = 0); the fuzzer's torch run had 2⁻¹⁸ there, the rounding of
        // its slope 1/|x| − x²/|x|³ beside the zero slice's 1/ε = 1e12 (at the run's cotangent and direction)
        var x0 = new[] { 0.0, 0.0, 0.0, 0.0, 0.0, 0.5 };
        var u = new[] { -0.477531, 0.905873, -0.0522731 };
        var v = new[] { 0.345959, -0.338938, 1.09801, -0.581732, -0.446119, 0.281231 };

        var uT = Tensor.FromArray(u, 3);
        var vT = (Expr)Tensor.FromArray(v, 3, 1, 2);
        Func<Expr, Expr> f = x => { var m = Nn.Normalize(x, p: 2.0, axis: 1).Mean(new[] { 2 }); return (m.Pow(m) * uT).Sum(); };
        var ours = Diff.Grad(x => (Diff.Grad(f)(x) * vT).Sum())(Tensor.FromArray(x0, 3, 1, 2)).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[5]);

        PassesNamed(FuzzCommand.Programs(1, 157, 206)[0], "Normalize of a zero slice");
    }
}
