using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Composites with a branch per region (huber, smooth L1, prelu, sinh and cosh far out) read their input only in the
/// branch taken, so an infinite input or cotangent gives the closed form's derivative, never the untaken branch's 0·∞.
/// Each expectation is the closed form at that point; found by `fuzz --ops all --inputs adversarial` (branch surface10).
/// </summary>
public class UntakenBranchTests
{
    static double[] Grad(Func<Expr, Expr> f, double[] x) => Diff.Grad(v => f(v).Sum())(Tensor.FromArray(x)).Eval().ToDoubleArray();

    [Fact]
    public void HuberAndSmoothL1AtAnInfiniteErrorHaveTheLinearPiecesSlope()
    {
        // d = p − t: the linear piece's slope is δ·sign(d) (huber) and sign(d) (smooth L1) at |d| ≥ δ, infinite d included
        double[] p = { -0.0, 3.0, double.PositiveInfinity, 0.25 };
        var t = Tensor.FromArray(new[] { double.PositiveInfinity, double.NegativeInfinity, 1.0, 0.0 });
        Assert.Equal(new[] { -0.5, 0.5, 0.5, 0.25 }, Grad(v => Loss.Huber(v, t, 0.5, Reduction.None), p));
        Assert.Equal(new[] { -1.0, 1.0, 1.0, 0.25 / 0.5 }, Grad(v => Loss.SmoothL1(v, t, 0.5, Reduction.None), p));
    }

    [Fact]
    public void PreluOfAnInfinitePositiveEntryPassesItsWeightNoDerivative()
    {
        // ∂/∂w_c Σ prelu = Σ of the entries ≤ 0 of channel c: none in channel 0 (+∞), −∞ in channel 1
        var x = Tensor.FromArray(new[] { double.PositiveInfinity, double.NegativeInfinity }, 1, 2, 1);
        Assert.Equal(new[] { 0.0, double.NegativeInfinity }, Grad(w => ((Expr)x).Prelu(w), new[] { 0.385, -1.0 }));
    }

    [Fact]
    public void SinhAndCoshFarOutAreWithinAFewUlpsOfSystemMath()
    {
        // e^(|x| − ln 2) carried the rounding of |x| − ln 2 (500 ulps at 709); ½·e^|x| does not, up to 709 where e^|x|
        // is finite; beyond, up to sinh's own overflow at 710.5, only e^(|x| − ln 2) is finite, within 1e-13
        foreach (var x in new[] { -709.0, -400.5, 25.0, 300.25, 709.0, 709.5, 710.0 })
        {
            double tolerance = Math.Abs(x) > 709 ? 1e-13 : 4e-16;
            var sinh = ((Expr)Tensor.FromArray(new[] { x })).Sinh().Eval().ToDoubleArray()[0];
            var cosh = ((Expr)Tensor.FromArray(new[] { x })).Cosh().Eval().ToDoubleArray()[0];
            Assert.True(Math.Abs(sinh - Math.Sinh(x)) <= tolerance * Math.Abs(Math.Sinh(x)), $"sinh({x}) = {sinh:R}, System.Math {Math.Sinh(x):R}");
            Assert.True(Math.Abs(cosh - Math.Cosh(x)) <= tolerance * Math.Cosh(x), $"cosh({x}) = {cosh:R}, System.Math {Math.Cosh(x):R}");
        }
    }
}
