using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What a PyTorch user met porting this round's programs, each against a reference written in the test: torch's
/// <c>conv2d(x, w, b, padding="same", dilation=(dh, dw))</c> with a kernel of any size (a convolution loop over doubles
/// with torch's split of the zeros, and central differences).
/// </summary>
public class ClientTwelveApiTests
{
    [Theory]
    [InlineData(4, 2, 2, 3)]   // totals 6 and 3: 3 zeros above and below, 1 left and 2 right
    [InlineData(3, 2, 1, 2)]   // totals 2 and 2: 1 each side on both axes
    [InlineData(2, 3, 3, 1)]   // totals 3 and 2: 1 above, 2 below, 1 each side
    public void Conv2dPaddingSameTakesADilationPairAsTorch(int kh, int kw, int dh, int dw)
    {
        const int C = 2, H = 5, W = 6, Co = 3;
        var x = T([1, C, H, W], 21);
        var w = T([Co, C, kh, kw], 22);
        var b = T([Co], 23);
        int top = dh * (kh - 1) / 2, left = dw * (kw - 1) / 2;   // torch: total / 2 before, the rest after
        double[] Ref(double[] xs) => Conv2d(xs, C, H, W, w.ToDoubleArray(), Co, kh, kw, b.ToDoubleArray(), top, left, dh, dw, H, W);

        var y = Nn.Conv2d(x, w, b, padding: "same", dilation: (dh, dw));
        Assert.Equal(new[] { 1, Co, H, W }, y.Shape);
        Close(Ref(x.ToDoubleArray()), y.Eval().ToDoubleArray(), 1e-13, "values");
        var probe = T([1, Co, H, W], 24).ToDoubleArray();
        var g = Diff.Grad(v => (Nn.Conv2d(v, w, b, padding: "same", dilation: (dh, dw)) * Tensor.FromArray(probe, 1, Co, H, W)).Sum())(x).Eval();
        Close(Gradient(xs => Ref(xs).Zip(probe, (a, p) => a * p).Sum(), x.ToDoubleArray()), g.ToDoubleArray(), 1e-6, "gradient");

        // stride pairs: (1, 1) is "same"'s, "valid" takes any
        Close(Ref(x.ToDoubleArray()), Nn.Conv2d(x, w, b, stride: (1, 1), padding: "same", dilation: (dh, dw)).Eval().ToDoubleArray(), 1e-13, "stride (1, 1)");
        if (H > dh * (kh - 1))
            Assert.Equal(new[] { 1, Co, H - dh * (kh - 1), (W - dw * (kw - 1) - 1) / 2 + 1 },
                Nn.Conv2d(x, w, b, stride: (1, 2), padding: "valid", dilation: (dh, dw)).Shape);
    }

    [Fact]
    public void PaddingSameWithAStridePairIsRefusedUnderThePaddingsName()
    {
        var e = Assert.Throws<ArgumentException>(() => Nn.Conv2d(T([1, 2, 5, 6]), T([3, 2, 3, 3]), null, stride: (1, 2), padding: "same", dilation: (1, 1)));
        Assert.Equal("padding", e.ParamName);
        Assert.Contains("Conv2d", e.Message);
        Assert.Contains("(1, 2)", e.Message);
        // one number for each still picks the overload with numbers, as before
        Assert.Equal(new[] { 1, 3, 5, 6 }, Nn.Conv2d(T([1, 2, 5, 6]), T([3, 2, 3, 3]), padding: "same").Shape);
    }
}
