using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The dropout variants with the noise given, against their definitions written here: whole channels for dropout1d/2d/3d,
/// torch's alpha-dropout affine map (whose constants keep a mean of 0 and a variance of 1 for unit-normal inputs: checked
/// as an identity), and rrelu's slopes.
/// </summary>
public class DropoutVariantsFacadeTests
{
    [Fact]
    public void Dropout2dDropsWholeChannels()
    {
        var x = Tensor.FromArray(Enumerable.Range(1, 12).Select(i => (double)i).ToArray(), 1, 3, 2, 2);
        var noise = Tensor.FromArray(new[] { 0.9, 0.1, 0.5 }, 1, 3);
        var y = Nn.Dropout2d(x, 0.4, noise).Eval().ToDoubleArray();
        for (int c = 0; c < 3; c++)
            for (int k = 0; k < 4; k++)
            {
                double expected = noise.ToDoubleArray()[c] >= 0.4 ? (c * 4 + k + 1) / 0.6 : 0.0;
                Assert.Equal(expected, y[c * 4 + k], 14);
            }
        var error = Assert.ThrowsAny<ArgumentException>(() => Nn.Dropout2d(x, 0.4, Tensor.Zeros([3])));
        Assert.Contains("Dropout2d", error.Message);
        Assert.Contains("[1,3]", error.Message);
        var p = Assert.Throws<ArgumentException>(() => Nn.Dropout2d(x, 1.5, noise));
        Assert.Contains("Dropout2d", p.Message);
        Assert.Equal("p", p.ParamName);
    }

    [Fact]
    public void AlphaDropoutIsTorchsAffineMapAndKeepsUnitVariance()
    {
        const double p = 0.3, saturation = 1.7580993408473766;
        double a = 1 / Math.Sqrt((saturation * saturation * p + 1) * (1 - p));
        // the constants keep E[y] = 0 and E[y²] = 1 for x of mean 0 and variance 1 (expectation over the mask)
        double secondMoment = (1 - p) * a * a * (1 + saturation * saturation * p * p) + p * Math.Pow(saturation * a * (1 - p), 2);
        Assert.Equal(1.0, secondMoment, 14);
        Assert.Equal(0.0, (1 - p) * (saturation * a * p) + p * (-saturation * a * (1 - p)), 14);
        double[] x = { 0.5, -1.2, 2.0, 0.0 }, u = { 0.9, 0.1, 0.3, 0.2 };
        var y = Nn.AlphaDropout(Tensor.FromArray(x), p, Tensor.FromArray(u)).Eval().ToDoubleArray();
        for (int i = 0; i < 4; i++)
            Assert.Equal(u[i] >= p ? a * x[i] + saturation * a * p : -saturation * a * (1 - p), y[i], 14);
        // the slope is a where kept and 0 where dropped
        var g = Diff.Grad(v => Nn.AlphaDropout(v, p, Tensor.FromArray(u)).Sum())(Tensor.FromArray(x)).Eval().ToDoubleArray();
        Assert.Equal(u.Select(d => d >= p ? a : 0.0).ToArray(), g.Select(v => Math.Round(v, 14)).ToArray(), (e, o) => Math.Abs(e - o) < 1e-14);
    }

    [Fact]
    public void RReluUsesTheDrawnSlopeBelowZeroAndTheMeanWithoutNoise()
    {
        double[] x = { -2.0, 0.0, 1.5, -0.5 }, u = { 0.25, 0.5, 0.75, 1.0 };
        var trained = Diff.Grad(v => Nn.RRelu(v, 0.1, 0.3, Tensor.FromArray(u)).Sum())(Tensor.FromArray(x)).Eval().ToDoubleArray();
        // slope r = lower + (upper − lower)·u below or at 0, 1 above
        Assert.Equal(new[] { 0.15, 0.2, 1.0, 0.3 }, trained.Select(v => Math.Round(v, 14)).ToArray());
        var eval = Nn.RRelu(Tensor.FromArray(x), 0.1, 0.3).Eval().ToDoubleArray();
        Assert.Equal(new[] { -0.4, 0.0, 1.5, -0.1 }, eval.Select(v => Math.Round(v, 14)).ToArray());
        Assert.Throws<ArgumentException>(() => Nn.RRelu(Tensor.FromArray(x), 0.5, 0.1));
    }
}
