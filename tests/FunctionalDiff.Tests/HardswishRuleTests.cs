using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Hardswish's derivative is torch's one product g·(x/3 + 1/2) between −3 and 3 (0 at or below −3, g at or above 3), so an
/// infinite cotangent gives an infinity of the product's sign, never ∞ − ∞; each entry against that closed form.
/// </summary>
public class HardswishRuleTests
{
    [Fact]
    public void AnInfiniteCotangentGivesTheSignedInfinityOfTheSlope()
    {
        double[] x = { -1.528, -2.5, -0.5, 2.0, -4.0, 5.0, -1.5 };
        // slopes x/3 + 1/2: −0.00933, −0.333, 0.333, 1.1667; 0 below −3; 1 above 3; exactly 0 at −1.5
        double[] expected =
        {
            double.PositiveInfinity, double.PositiveInfinity, double.NegativeInfinity, double.NegativeInfinity, 0, double.NegativeInfinity,
            double.NaN, // −∞·0 at the slope's root, IEEE's product, as torch's
        };
        var gradient = Diff.Grad(e => (e.Hardswish() * double.NegativeInfinity).Sum())(Tensor.FromArray(x, x.Length)).Eval().ToDoubleArray();
        Assert.Equal(expected, gradient);
    }

    [Fact]
    public void FiniteCotangentsAndTheSecondDerivativeMatchTheClosedForm()
    {
        double[] x = { -1.528, -2.5, -0.5, 2.0, -4.0, 5.0 };
        var at = Tensor.FromArray(x, x.Length);
        double Slope(double v) => v <= -3 ? 0 : v < 3 ? v / 3 + 0.5 : 1;
        Assert.Equal(x.Select(Slope).ToArray(), Diff.Grad(e => e.Hardswish().Sum())(at).Eval().ToDoubleArray());
        // the second derivative is 1/3 strictly between the bounds, 0 outside
        double[] curvature = x.Select(v => v > -3 && v < 3 ? 1 / 3.0 : 0).ToArray();
        var hvp = Diff.Hvp(e => e.Hardswish().Sum(), at, Tensor.FromArray(x.Select(_ => 1.0).ToArray(), x.Length)).Eval().ToDoubleArray();
        for (int i = 0; i < x.Length; i++) Assert.Equal(curvature[i], hvp[i], 15);
    }
}
