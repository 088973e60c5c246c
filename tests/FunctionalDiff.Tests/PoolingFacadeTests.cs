using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The 1-D, 3-D and adaptive max pooling layers, the 2-D options (ceil mode, count_include_pad, divisor_override) and
/// ConvTranspose1d: torch's output shapes worked out by hand, values and gradients against reference loops written
/// here, and errors that name the method and the parameter. (TorchSharp checks them too, in the comparison table.)
/// </summary>
public class PoolingFacadeTests
{
    static Expr Input(params int[] shape) => Tensor.RandomNormal(shape, seed: 5);

    [Fact]
    public void OutputShapesFollowTorchsFormulas()
    {
        // floor((L + 2p − d(k − 1) − 1) / s) + 1; ceil mode rounds up unless the last window starts in the right padding
        Assert.Equal(new[] { 2, 3, 5 }, Nn.MaxPool1d(Input(2, 3, 9), 3, stride: 2, padding: 1).Shape);
        Assert.Equal(new[] { 2, 2, 2 }, Nn.MaxPool1d(Input(2, 2, 8), 2, stride: 3, dilation: 2).Shape);
        Assert.Equal(new[] { 2, 2, 3 }, Nn.MaxPool1d(Input(2, 2, 8), 2, stride: 3, dilation: 2, ceilMode: true).Shape);
        // L = 5, k = 2, s = 2, p = 1: (5 + 2 − 2) / 2 = 2.5 rounds up to 3, plus 1 is 4; the 4th window would start at
        // 3·2 − 1 = 5, in the right padding, so ceil mode keeps 3
        Assert.Equal(new[] { 1, 3 }, Nn.MaxPool1d(Input(1, 5), 2, stride: 2, padding: 1, ceilMode: true).Shape);
        Assert.Equal(new[] { 2, 2, 4 }, Nn.AvgPool1d(Input(2, 2, 9), 4, stride: 3, padding: 2, ceilMode: true).Shape);
        Assert.Equal(new[] { 2, 3, 4 }, Nn.AdaptiveAvgPool1d(Input(2, 3, 10), 4).Shape);
        Assert.Equal(new[] { 3, 7 }, Nn.AdaptiveMaxPool1d(Input(3, 5), 7).Shape);
        Assert.Equal(new[] { 2, 3, 3, 2 }, Nn.AdaptiveMaxPool2d(Input(2, 3, 7, 5), (3, 2)).Shape);
        // H = 8: (8 − 3) / 2 = 2.5 up to 3, plus 1; W = 7: (7 − 3) / 2 = 2 exactly, plus 1
        Assert.Equal(new[] { 2, 4, 4, 3 }, Nn.MaxPool2d(Input(2, 4, 8, 7), 3, stride: 2, ceilMode: true).Shape);
        Assert.Equal(new[] { 1, 2, 3, 6, 3 }, Nn.MaxPool3d(Input(1, 2, 5, 6, 5), (3, 2, 3), (2, 1, 2), (1, 1, 1), (1, 2, 1)).Shape);
        Assert.Equal(new[] { 2, 3, 2, 3 }, Nn.MaxPool3d(Input(2, 5, 3, 5), 2, stride: 2, ceilMode: true).Shape);
        Assert.Equal(new[] { 1, 2, 4, 3, 3 }, Nn.AvgPool3d(Input(1, 2, 6, 5, 4), 3, stride: 2, padding: 1, ceilMode: true).Shape);
        // (L − 1)s − 2p + d(k − 1) + op + 1
        Assert.Equal(new[] { 2, 2, 10 }, Nn.ConvTranspose1d(Input(2, 3, 5), Input(3, 2, 3), stride: 2, padding: 1, outputPadding: 1).Shape);
    }

    [Fact]
    public void AdaptiveMaxPool2dMatchesALoopOverTorchsWindowsAndSendsTheGradientToTheFirstLargest()
    {
        // ties on purpose: integers from a small range
        int h = 5, w = 7, oh = 3, ow = 4;
        var values = Enumerable.Range(0, h * w).Select(i => (double)((i * 7 + 3) % 5)).ToArray();
        var x = Tensor.FromArray(values, 1, 1, h, w);
        var (value, grad) = Diff.ValueAndGrad(p => Nn.AdaptiveMaxPool2d(p, (oh, ow)).Square().Sum(), (Expr)x);
        var expected = new double[h * w];
        double sum = 0;
        for (int i = 0; i < oh; i++)
            for (int j = 0; j < ow; j++)
            {
                int r0 = i * h / oh, r1 = ((i + 1) * h + oh - 1) / oh, c0 = j * w / ow, c1 = ((j + 1) * w + ow - 1) / ow;
                int best = r0 * w + c0;
                for (int r = r0; r < r1; r++)
                    for (int c = c0; c < c1; c++)
                        if (values[r * w + c] > values[best]) best = r * w + c;
                sum += values[best] * values[best];
                expected[best] += 2 * values[best];
            }
        var outs = Expr.EvalMany(value, grad);
        Assert.Equal(sum, outs[0].ToScalar());
        Assert.Equal(expected, outs[1].ToDoubleArray());
    }

    [Fact]
    public void AvgPool2dWithoutCountingThePaddingDividesByTheEntriesInside()
    {
        int h = 4, w = 5;
        var values = Enumerable.Range(0, h * w).Select(i => 0.5 * i - 3).ToArray();
        var pooled = Nn.AvgPool2d(Tensor.FromArray(values, 1, 1, h, w), 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false).Eval();
        // ceil mode: (4 + 2 − 3) / 2 = 1.5 rounds up to 2, plus 1 is 3 rows; the third starts at 3, inside; likewise 3 columns
        Assert.Equal(new[] { 1, 1, 3, 3 }, pooled.Shape);
        var actual = pooled.ToDoubleArray();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
            {
                double total = 0;
                int count = 0;
                for (int r = i * 2 - 1; r < i * 2 + 2; r++)
                    for (int c = j * 2 - 1; c < j * 2 + 2; c++)
                        if (r >= 0 && r < h && c >= 0 && c < w) { total += values[r * w + c]; count++; }
                Assert.Equal(total / count, actual[i * 3 + j], 12);
            }
    }

    [Fact]
    public void AvgPool3dWithADivisorOverrideDividesEveryWindowByIt()
    {
        var values = Enumerable.Range(0, 2 * 2 * 4).Select(i => (double)i).ToArray();
        var pooled = Nn.AvgPool3d(Tensor.FromArray(values, 1, 1, 2, 2, 4), 2, divisorOverride: 3).Eval().ToDoubleArray();
        // windows over depth 0-1, rows 0-1, columns 0-1 and 2-3
        double Window(int c0) => new[] { 0, 1 }.SelectMany(d => new[] { 0, 1 }.SelectMany(r => new[] { c0, c0 + 1 }.Select(c => values[d * 8 + r * 4 + c]))).Sum();
        Assert.Equal(new[] { Window(0) / 3, Window(2) / 3 }, pooled);
    }

    [Fact]
    public void ErrorsNameTheMethodAndTheParameter()
    {
        var stride = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxPool1d(Input(1, 2, 8), 2, stride: 0));
        Assert.Equal("stride", stride.ParamName);
        Assert.Contains("MaxPool1d", stride.Message);

        var padding = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxPool3d(Input(1, 1, 4, 4, 4), 2, padding: 2));
        Assert.Contains("MaxPool3d", padding.Message);
        Assert.Contains("padding 2", padding.Message);

        var divisor = Assert.ThrowsAny<ArgumentException>(() => Nn.AvgPool3d(Input(1, 1, 4, 4, 4), 2, divisorOverride: 0));
        Assert.Equal("divisorOverride", divisor.ParamName);
        Assert.Contains("AvgPool3d", divisor.Message);

        var rank = Assert.ThrowsAny<ArgumentException>(() => Nn.AvgPool1d(Input(1, 2, 3, 8), 2));
        Assert.Contains("AvgPool1d", rank.Message);
        Assert.Contains("[N, C, L]", rank.Message);

        var empty = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxPool1d(Input(1, 2, 3), 4));
        Assert.Contains("MaxPool1d", empty.Message);
        Assert.Contains("empty output", empty.Message);

        var output = Assert.ThrowsAny<ArgumentException>(() => Nn.AdaptiveMaxPool2d(Input(1, 2, 4, 4), (0, 2)));
        Assert.Contains("AdaptiveMaxPool2d", output.Message);

        var outputPadding = Assert.ThrowsAny<ArgumentException>(() => Nn.ConvTranspose1d(Input(1, 2, 3), Input(2, 2, 3), stride: 2, outputPadding: 2));
        Assert.Contains("ConvTranspose1d", outputPadding.Message);
        Assert.Contains("outputPadding 2", outputPadding.Message);
    }
}

/// <summary>
/// The pooling layers, quantiles, margin losses and RmsNorm under Diff.Vmap: each example's result and gradient equal the
/// layer applied to that example alone (a loop written here), bit for bit.
/// </summary>
public class NewLayersUnderVmapTests
{
    public static TheoryData<string> Layers => new()
    {
        "MaxPool1d", "AvgPool1d ceil", "AdaptiveMaxPool2d", "MaxPool3d", "AvgPool3d", "Quantile", "NanQuantile", "RmsNorm", "LocalResponseNorm", "MultiMarginLoss",
    };

    static Expr Apply(string layer, Expr x) => layer switch
    {
        "MaxPool1d" => Nn.MaxPool1d(x.Reshape(2, 12), 3, stride: 2, padding: 1),
        "AvgPool1d ceil" => Nn.AvgPool1d(x.Reshape(2, 12), 5, stride: 3, padding: 2, ceilMode: true, countIncludePad: false),
        "AdaptiveMaxPool2d" => Nn.AdaptiveMaxPool2d(x.Reshape(2, 3, 4), (2, 3)),
        "MaxPool3d" => Nn.MaxPool3d(x.Reshape(1, 2, 3, 4), 2, padding: 1),
        "AvgPool3d" => Nn.AvgPool3d(x.Reshape(1, 2, 3, 4), 2, stride: 1),
        "Quantile" => x.Reshape(4, 6).Quantile([0.2, 0.75], 1),
        "NanQuantile" => x.Reshape(4, 6).NanQuantile(0.4, 0),
        "RmsNorm" => Nn.RmsNorm(x.Reshape(4, 6), [6]),
        "LocalResponseNorm" => Nn.LocalResponseNorm(x.Reshape(1, 4, 6), 3, alpha: 0.5),
        "MultiMarginLoss" => Loss.MultiMarginLoss(x.Reshape(4, 6), [1, 5, 0, 2], p: 2, margin: 1.5),
        _ => throw new ArgumentException(layer),
    };

    [Theory]
    [MemberData(nameof(Layers))]
    public void EachExampleIsTheLayerAppliedAlone(string layer)
    {
        const int batch = 3;
        var values = Enumerable.Range(0, batch * 24).Select(i => Math.Sin(1.7 * i + 0.3) * 2).ToArray();
        // value and gradient of Σ sin(layer(x)) per example
        TestSupport.VmapMatchesTheLoop(e => Apply(layer, e).Sin().Sum(), values, batch);
    }
}
