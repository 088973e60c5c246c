using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch.randn, torch.rand and torch.manual_seed as Tensor.Randn, Rand and ManualSeed, and TorchSharp's item&lt;T&gt;():
/// reproducible after a seed, and the samples' moments within bounds of their closed forms.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // the seed sequence is process-wide: every test class that draws from it joins this collection
public class TorchFactoryTests
{
    [Fact]
    public void ManualSeedRepeatsTheSequenceOfTensors()
    {
        Tensor.ManualSeed(7);
        using var a = Tensor.Randn(3, 4);
        using var b = Tensor.Randn(3, 4);
        using var u = Tensor.Rand([5], DType.Float32);
        Tensor.ManualSeed(7);
        Assert.Equal(a.ToArray(), Tensor.Randn(3, 4).ToArray());
        Assert.Equal(b.ToArray(), Tensor.Randn(3, 4).ToArray());
        Assert.Equal(u.ToArray(), Tensor.Rand([5], DType.Float32).ToArray());
        Assert.NotEqual(a.ToArray(), b.ToArray());
        Assert.Equal(DType.Float32, u.DType);
        Assert.Equal(new[] { 3, 4 }, a.Shape);
    }

    [Fact]
    public void SamplesHaveTheMomentsOfTheirDistributions()
    {
        const int n = 200_000;
        // a fixed seed: the bounds hold for almost every draw, and with the seed this test draws the same samples
        // whichever test of the collection ran before it
        Tensor.ManualSeed(2024);
        var normal = Tensor.Randn(n).ToArray();
        var uniform = Tensor.Rand(n).ToArray();
        double mean = normal.Average(), variance = normal.Select(v => (v - mean) * (v - mean)).Sum() / (n - 1);
        // six standard errors: σ/√n for the mean, about √(2/n) for the variance of a normal, √(1/12n) for a uniform's mean
        Assert.InRange(mean, -6 / Math.Sqrt(n), 6 / Math.Sqrt(n));
        Assert.InRange(variance, 1 - 6 * Math.Sqrt(2.0 / n), 1 + 6 * Math.Sqrt(2.0 / n));
        Assert.All(uniform, v => Assert.InRange(v, 0.0, Math.BitDecrement(1.0)));
        Assert.InRange(uniform.Average(), 0.5 - 6 * Math.Sqrt(1.0 / (12 * n)), 0.5 + 6 * Math.Sqrt(1.0 / (12 * n)));
    }

    [Fact]
    public void ItemOfTConvertsAsTorchSharpsItem()
    {
        var loss = Tensor.FromArray([0.1]).Sum();
        Assert.Equal(0.1f, loss.Item<float>());
        Assert.Equal(0.1, loss.Item<double>());
        Assert.Equal(3, Tensor.Scalar(3.0).Item<int>());
        Assert.Throws<OverflowException>(() => Tensor.Scalar(1e20).Item<int>());
        var e = Assert.ThrowsAny<ArgumentException>(() => Tensor.Ones(2).Item<float>());
        Assert.Contains("[2]", e.Message);
    }
}
