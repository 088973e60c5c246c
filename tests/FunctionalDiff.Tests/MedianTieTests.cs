using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// <c>Median()</c> over all entries shares its cotangent evenly among the entries equal to the median, as torch's
/// <c>median()</c> (evenly_distribute_backward), and its forward mode is their mean tangent; each case against that closed
/// form, worked out by hand in the comments.
/// </summary>
public class MedianTieTests
{
    [Fact]
    public void TiedEntriesShareTheGradientEvenly()
    {
        // [1, 3, 3, 2, 3] sorted is [1, 2, 3, 3, 3]: the lower median (entry 2) is 3, held by entries 1, 2 and 4
        var x = Tensor.FromArray(new[] { 1.0, 3, 3, 2, 3 }, 5);
        Assert.Equal(3.0, ((Expr)x).Median().Eval().ToScalar());
        Assert.Equal(new[] { 0, 1 / 3.0, 1 / 3.0, 0, 1 / 3.0 }, Diff.Grad(e => e.Median())(x).Eval().ToDoubleArray());
        // zeros of either sign are equal: [0, −0, 0] shares among all three
        Assert.Equal(new[] { 1 / 3.0, 1 / 3.0, 1 / 3.0 }, Diff.Grad(e => e.Median())(Tensor.FromArray(new[] { 0.0, -0.0, 0 }, 3)).Eval().ToDoubleArray());
        // no tie: the one entry, as before
        Assert.Equal(new[] { 0.0, 0, 1, 0 }, Diff.Grad(e => e.Median())(Tensor.FromArray(new[] { 4.0, 1, 2, 9 }, 2, 2)).Eval().ToDoubleArray());
    }

    [Fact]
    public void ForwardModeIsTheMeanTangentOverTheTies()
    {
        var x = Tensor.FromArray(new[] { 1.0, 3, 3, 2, 3 }, 5);
        var t = Tensor.FromArray(new[] { 10.0, 1, 2, 20, 6 }, 5);
        // (1 + 2 + 6)/3
        Assert.Equal(3.0, Diff.Jvp(e => e.Median(), x, t).Tangent.Eval().ToScalar(), 12);
    }

    [Fact]
    public void ANaNMedianSharesAmongTheNaNEntries()
    {
        var x = Tensor.FromArray(new[] { 1.0, double.NaN, 2, double.NaN }, 4);
        Assert.True(double.IsNaN(((Expr)x).Median().Eval().ToScalar()));
        Assert.Equal(new[] { 0, 0.5, 0, 0.5 }, Diff.Grad(e => e.Median())(x).Eval().ToDoubleArray());
    }

    [Fact]
    public void AnInfiniteTieAfterAnInfiniteSlopeIsInfinite_NotNaN()
    {
        // median(x^[−710, ∞, ∞]) at x = 681472: the powers are [0, ∞, ∞], the median ∞ is tied between the last two, each
        // taking half the cotangent into a slope ∞·x^∞ = ∞; the first entry's zero share never meets a slope
        var exponents = Tensor.FromArray(new[] { -710.0, double.PositiveInfinity, double.PositiveInfinity }, 3);
        double slope = Diff.Grad(e => e.Pow(exponents).Median())(Tensor.Scalar(681472.0)).Eval().ToScalar();
        Assert.Equal(double.PositiveInfinity, slope);
    }

    [Fact]
    public void TheSecondDerivativeIsZero()
    {
        // the median is piecewise linear: its Hessian is 0 away from where the order changes, ties or not
        var x = Tensor.FromArray(new[] { 1.0, 3, 3, 2, 3 }, 5);
        Assert.All(Diff.Hessian(e => e.Median())(x).Eval().ToDoubleArray(), h => Assert.Equal(0.0, h));
    }
}
