using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Nn.Interpolate against reference loops of torch's formulas (nearest: the entry at ⌊o · in/out⌋; linear: the two
/// nearest entries at (o + ½)·in/out − ½, or o·(in − 1)/(out − 1) with aligned corners), its gradient against finite
/// differences, and Nn.Dropout against its definition with the noise given, also through a compiled step that takes
/// the noise as an input.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ResamplingTests
{
    static double[] Linear1d(double[] x, int output, bool align)
    {
        int input = x.Length;
        var y = new double[output];
        for (int o = 0; o < output; o++)
        {
            double source = align ? (output > 1 ? o * (input - 1.0) / (output - 1.0) : 0.0) : Math.Max(0.0, (o + 0.5) * input / output - 0.5);
            int i0 = Math.Min((int)Math.Floor(source), input - 1);
            int i1 = Math.Min(i0 + 1, input - 1);
            double w = source - i0;
            y[o] = (1 - w) * x[i0] + w * x[i1];
        }
        return y;
    }

    [Fact]
    public void NearestReadsTheFlooredPosition()
    {
        var x = T(new[] { 1, 1, 5 });
        var xs = x.ToDoubleArray();
        foreach (var output in new[] { 8, 3, 5, 11 })
        {
            var y = Nn.Interpolate(x, new[] { output }).Eval().ToDoubleArray();
            var expected = Enumerable.Range(0, output).Select(o => xs[Math.Min((int)Math.Floor(o * 5.0 / output), 4)]).ToArray();
            Assert.Equal(expected, y);
        }
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void BilinearIsLinearInEachAxis(bool align)
    {
        const int h = 3, w = 4, ho = 5, wo = 7;
        var x = T(new[] { 1, 1, h, w });
        var xs = x.ToDoubleArray();
        var y = Nn.Interpolate(x, new[] { ho, wo }, InterpolationMode.Linear, align).Eval().ToDoubleArray();
        // rows first, then columns: the product of the two one-axis maps
        var rows = Enumerable.Range(0, h).Select(i => Linear1d(xs.Skip(i * w).Take(w).ToArray(), wo, align)).ToArray();
        for (int j = 0; j < wo; j++)
        {
            var column = Linear1d(rows.Select(r => r[j]).ToArray(), ho, align);
            for (int i = 0; i < ho; i++) Close(column[i], y[i * wo + j], 1e-14, $"({i}, {j})");
        }
        Func<Expr, Expr> loss = v => (Nn.Interpolate(v, new[] { ho, wo }, InterpolationMode.Linear, align).Sin()).Sum();
        Close(NumericGradient(loss, x), Diff.Grad(loss)(x).Eval().ToDoubleArray(), 1e-7, "gradient");
    }

    [Fact]
    public void InterpolateNamesItsShapes()
    {
        var rank = Assert.ThrowsAny<ArgumentException>(() => Nn.Interpolate(Tensor.Ones(2, 3), new[] { 4 }));
        Assert.Contains("Interpolate", rank.Message);
        Assert.Contains("[2,3]", rank.Message.Replace(" ", ""));
        Assert.ThrowsAny<ArgumentException>(() => Nn.Interpolate(Tensor.Ones(1, 1, 3), new[] { 4, 4 }));
        Assert.ThrowsAny<ArgumentException>(() => Nn.Interpolate(Tensor.Ones(1, 1, 3), new[] { 2.0 }, InterpolationMode.Nearest, alignCorners: true));
    }

    [Fact]
    public void DropoutKeepsEntriesWhereTheNoiseReachesP()
    {
        var x = T(new[] { 3, 4 });
        var noise = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (i * 7 % 12) / 12.0).ToArray(), 3, 4);
        const double p = 0.25;
        var xs = x.ToDoubleArray();
        var ns = noise.ToDoubleArray();
        var expected = xs.Select((v, i) => ns[i] >= p ? v / (1 - p) : 0.0).ToArray();
        Close(expected, Nn.Dropout(x, p, noise).Eval().ToDoubleArray(), 1e-15, "value");
        Close(ns.Select(n => n >= p ? 1 / (1 - p) : 0.0).ToArray(), Diff.Grad(v => Nn.Dropout(v, p, noise).Sum())(x).Eval().ToDoubleArray(), 1e-15, "gradient");
        Assert.Equal(new double[12], Nn.Dropout(x, 1.0, noise).Eval().ToDoubleArray());
        Assert.Equal(xs, Nn.Dropout(x, 0.0, noise).Eval().ToDoubleArray());
        Assert.ThrowsAny<ArgumentException>(() => Nn.Dropout(x, 1.5, noise));
        Assert.ThrowsAny<ArgumentException>(() => Nn.Dropout(x, 0.5, Tensor.Ones(4, 3)));
    }

    [Fact]
    public void ACompiledStepDropsWhatEachCallsNoiseSays()
    {
        var step = Diff.Compile((Expr[] a) => new[] { Nn.Dropout(a[0], 0.5, a[1]) });
        var x = Tensor.Ones(100);
        Tensor.ManualSeed(3);
        for (int call = 0; call < 3; call++)
        {
            var noise = Tensor.Rand(100);
            var kept = step.Invoke(x, noise)[0].ToDoubleArray();
            var ns = noise.ToDoubleArray();
            for (int i = 0; i < 100; i++) Assert.Equal(ns[i] >= 0.5 ? 2.0 : 0.0, kept[i]);
        }
    }
}
