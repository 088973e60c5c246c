using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Expr.Quantile and NanQuantile in every interpolation mode against a loop written here from torch's definition (the
/// sorted slice read at rank q·(n − 1)), the gradient going to the two entries around the rank, the layouts of a vector
/// q and keepDims, and the errors. (The linear mode is checked against TorchSharp in the comparison table.)
/// </summary>
public class QuantileFacadeTests
{
    static Expr E(Tensor t) => t;

    static readonly double[] Row = { 0.7, -1.5, 2.25, 0.1, -0.3, 1.9, 0.45 };

    /// <summary>torch's quantile of one slice, by its definition; the gradient as the weight of each sorted position.</summary>
    static (double Value, double[] Gradient) Reference(double[] values, double q, QuantileInterpolation mode)
    {
        var order = Enumerable.Range(0, values.Length).OrderBy(i => values[i]).ToArray();
        double rank = q * (values.Length - 1);
        rank = mode switch
        {
            QuantileInterpolation.Lower => Math.Floor(rank),
            QuantileInterpolation.Higher => Math.Ceiling(rank),
            QuantileInterpolation.Nearest => Math.Round(rank, MidpointRounding.ToEven),
            _ => rank,
        };
        int below = (int)Math.Floor(rank), above = (int)Math.Ceiling(rank);
        double weight = mode switch
        {
            QuantileInterpolation.Linear => rank - below,
            QuantileInterpolation.Midpoint => 0.5,
            _ => 0,
        };
        var gradient = new double[values.Length];
        gradient[order[below]] += 1 - weight;
        gradient[order[above]] += weight;
        double low = values[order[below]], high = values[order[above]];
        return (low + weight * (high - low), gradient);
    }

    [Theory]
    [InlineData(QuantileInterpolation.Linear)]
    [InlineData(QuantileInterpolation.Lower)]
    [InlineData(QuantileInterpolation.Higher)]
    [InlineData(QuantileInterpolation.Midpoint)]
    [InlineData(QuantileInterpolation.Nearest)]
    public void EveryModeIsTorchsDefinitionWithItsGradient(QuantileInterpolation mode)
    {
        // ranks 0, 1.2, 2.5 (a tie of the nearest rounding, to even), 3.6 and 6 over 7 entries
        foreach (var q in new[] { 0.0, 0.2, 2.5 / 6, 0.6, 1.0 })
        {
            var (expected, gradient) = Reference(Row, q, mode);
            var (value, grad) = Diff.ValueAndGrad(x => x.Quantile(q, 0, interpolation: mode), (Expr)Tensor.FromArray(Row, Row.Length));
            var outs = Expr.EvalMany(value, grad);
            Assert.Equal(expected, outs[0].ToScalar(), 14);
            var ours = outs[1].ToDoubleArray();
            for (int i = 0; i < Row.Length; i++) Assert.Equal(gradient[i], ours[i], 14);
        }
    }

    [Fact]
    public void AVectorOfQGivesALeadingAxisAndKeepDimsKeepsTheReducedOne()
    {
        var x = Tensor.FromArray(Enumerable.Range(0, 24).Select(i => Math.Sin(3.0 * i)).ToArray(), 2, 3, 4);
        Assert.Equal(new[] { 3, 2, 4 }, E(x).Quantile([0.1, 0.5, 0.9], 1).Shape);
        Assert.Equal(new[] { 3, 2, 1, 4 }, E(x).Quantile([0.1, 0.5, 0.9], 1, keepDims: true).Shape);
        Assert.Equal(new[] { 2, 3 }, E(x).Quantile(0.5, -1).Shape);
        Assert.Equal(Array.Empty<int>(), E(x).Quantile(0.5).Shape);
        Assert.Equal(new[] { 1, 1, 1 }, E(x).Quantile(0.5, keepDims: true).Shape);
        Assert.Equal(new[] { 2 }, E(x).Quantile([0.25, 0.75]).Shape);
        // the entry [q, i, j] of a vector q is the scalar quantile of slice [i, :, j]
        var all = E(x).Quantile([0.1, 0.9], 1).Eval().ToDoubleArray();
        var values = x.ToDoubleArray();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 4; j++)
            {
                var slice = Enumerable.Range(0, 3).Select(k => values[i * 12 + k * 4 + j]).ToArray();
                Assert.Equal(Reference(slice, 0.9, QuantileInterpolation.Linear).Value, all[8 + i * 4 + j], 14);
            }
    }

    [Fact]
    public void NanQuantileLeavesTheNaNEntriesOutAndQuantileIsNaNWithThem()
    {
        var withNaN = new[] { 0.7, double.NaN, 2.25, 0.1, double.NaN, 1.9 };
        var numbers = withNaN.Where(v => !double.IsNaN(v)).ToArray();
        var x = E(Tensor.FromArray(withNaN, 6));
        Assert.Equal(Reference(numbers, 0.35, QuantileInterpolation.Linear).Value, x.NanQuantile(0.35).Eval().ToScalar(), 14);
        Assert.True(double.IsNaN(x.Quantile(0.35).Eval().ToScalar()));
        Assert.True(double.IsNaN(E(Tensor.FromArray(new[] { double.NaN, double.NaN }, 2)).NanQuantile(0.5).Eval().ToScalar()));
    }

    [Fact]
    public void ErrorsNameTheMethod()
    {
        var x = E(Tensor.FromArray(Row, Row.Length));
        var q = Assert.ThrowsAny<ArgumentException>(() => x.Quantile(1.5));
        Assert.Contains("Quantile", q.Message);
        Assert.Contains("q 1.5", q.Message);
        var axis = Assert.ThrowsAny<ArgumentException>(() => x.NanQuantile(0.5, 2));
        Assert.Contains("NanQuantile", axis.Message);
        var empty = Assert.ThrowsAny<ArgumentException>(() => E(Tensor.Zeros(0)).Quantile(0.5));
        Assert.Contains("empty", empty.Message);
    }
}
