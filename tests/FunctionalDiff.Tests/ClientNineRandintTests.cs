using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch.randint as a DDPM step draws its timesteps: whole numbers in [low, high), reproducible after ManualSeed, and
/// the floor of the uniform draw that <see cref="Tensor.Rand(int[])"/> makes from the same seed, scaled to the range.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientNineRandintTests
{
    [Theory]
    [InlineData(0, 1000)]
    [InlineData(-3, 2)]
    [InlineData(5, 6)]
    public void RandintIsTheScaledFloorOfTheUniformDrawFromTheSameSeed(int low, int high)
    {
        Tensor.ManualSeed(12);
        var drawn = Tensor.Randint(low, high, [400]);
        Tensor.ManualSeed(12);
        var u = Tensor.Rand(400).ToDoubleArray();
        Assert.Equal(u.Select(v => Math.Floor(v * (high - low)) + low).ToArray(), drawn.ToDoubleArray());
        Assert.All(drawn.ToDoubleArray(), v => Assert.InRange(v, low, high - 1));
        Assert.Equal(DType.Float64, drawn.DType);
        // every value of a small range turns up in 400 draws
        if (high - low <= 5)
            Assert.Equal(Enumerable.Range(low, high - low).Select(v => (double)v), drawn.ToDoubleArray().Distinct().Order());
    }

    [Fact]
    public void RandintOfHighStartsAtZeroAndTakesAShapeAndADType()
    {
        Tensor.ManualSeed(3);
        var a = Tensor.Randint(10, [2, 3]);
        Tensor.ManualSeed(3);
        var b = Tensor.Randint(0, 10, [2, 3], DType.Float32);
        Assert.Equal(new[] { 2, 3 }, a.Shape);
        Assert.Equal(DType.Float32, b.DType);
        Assert.Equal(a.ToDoubleArray(), b.ToDoubleArray());
        // timesteps index a schedule directly
        var schedule = Tensor.Arange(10) * 0.5;
        Assert.Equal(a.ToDoubleArray().Select(t => 0.5 * t), schedule.IndexSelect(0, a.Reshape(6)).ToDoubleArray());

        var empty = Assert.Throws<ArgumentException>(() => Tensor.Randint(4, 4, [2]));
        Assert.Equal("high", empty.ParamName);
        Assert.StartsWith("Randint: high (4) must be above low (4)", empty.Message);
        Assert.Equal("shape", Assert.Throws<ArgumentNullException>(() => Tensor.Randint(3, null!)).ParamName);
    }
}
