using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the last round left open, each against a reference written in the test: torch's <c>F.poisson_nll_loss</c>
/// broadcasting its input against its target, <c>conv1d</c>/<c>conv2d</c> with <c>padding="same"</c> (a convolution loop
/// over doubles with torch's split of the zeros) and <c>F.embedding</c> under the layers' name with <c>padding_idx</c>.
/// </summary>
public class ClientElevenApiTests
{
    // ---- poisson_nll_loss broadcasts as torch's elementwise arithmetic does ----

    static double PoissonRef(double x, double n, bool logInput, bool full)
    {
        double loss = logInput ? Math.Exp(x) - n * x : x - n * Math.Log(x + 1e-8);
        if (full && n > 1) loss += n * Math.Log(n) - n + 0.5 * Math.Log(2 * Math.PI * n);
        return loss;
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void PoissonNllLossBroadcastsARatePerRowAgainstCountsAsTorch(bool logInput, bool full)
    {
        // one (log) rate per row [3, 1] against four counts per row [3, 4]: torch's loss is over the 12 broadcast entries
        double[] rate = logInput ? [0.3, -0.7, 1.1] : [1.3, 0.4, 2.2];
        double[] counts = [0, 1, 2, 5, 3, 0, 1, 7, 2, 2, 4, 1];
        var x = Tensor.FromArray(rate, 3, 1);
        var n = Tensor.FromArray(counts, 3, 4);
        double Ref(double[] r) => Enumerable.Range(0, 12).Average(k => PoissonRef(r[k / 4], counts[k], logInput, full));

        Close(Ref(rate), Loss.PoissonNllLoss(x, n, logInput, full).Eval().Item(), 1e-14, "mean");
        Assert.Equal(new[] { 3, 4 }, Loss.PoissonNllLoss(x, n, logInput, full, reduction: Reduction.None).Eval().Shape);
        var g = Diff.Grad(r => Loss.PoissonNllLoss(r, n, logInput, full))(x).Eval();
        Close(Gradient(Ref, rate), g.ToDoubleArray(), 1e-8, "rate gradient");

        // and the other way round: the target [4] broadcast along the rows of an input [3, 4]
        var x2 = Tensor.FromArray(Values(12).Select(v => logInput ? v : Math.Exp(v)).ToArray(), 3, 4);
        var row = Tensor.FromArray(counts[..4], 4);
        var each = Loss.PoissonNllLoss(x2, row, logInput, full, reduction: Reduction.None).Eval().ToDoubleArray();
        Close(x2.ToDoubleArray().Select((v, k) => PoissonRef(v, counts[k % 4], logInput, full)).ToArray(), each, 1e-14, "elements");
    }

    // ---- padding="same" ----

    [Theory]
    [InlineData(3, 3, 1)]   // odd kernel: one zero each side
    [InlineData(4, 2, 1)]   // even kernels: 3 zeros as 1 before and 2 after, 1 as 0 and 1
    [InlineData(2, 3, 2)]   // dilation 2: 2·(2 − 1) = 2 zeros, 1 each side; 2·(3 − 1) = 4, 2 each side
    public void Conv2dPaddingSameKeepsTheSizeWithTorchsSplitOfTheZeros(int kh, int kw, int dilation)
    {
        const int C = 2, H = 5, W = 6, Co = 3;
        var x = T([1, C, H, W], 1);
        var w = T([Co, C, kh, kw], 2);
        var b = T([Co], 3);
        // torch: total dilation·(k − 1), total / 2 before (rounded down), the rest after
        int top = dilation * (kh - 1) / 2, left = dilation * (kw - 1) / 2;
        double[] Ref(double[] xs) => Conv2d(xs, C, H, W, w.ToDoubleArray(), Co, kh, kw, b.ToDoubleArray(), top, left, dilation, dilation, H, W);

        var y = Nn.Conv2d(x, w, b, padding: "same", dilation: dilation).Eval();
        Assert.Equal(new[] { 1, Co, H, W }, y.Shape);
        Close(Ref(x.ToDoubleArray()), y.ToDoubleArray(), 1e-13, "same");
        // unbatched [C, H, W] as torch accepts it
        Assert.Equal(new[] { Co, H, W }, Nn.Conv2d(x.Reshape(C, H, W), w, b, 1, "same", dilation).Eval().Shape);

        // the gradient of a weighted sum against central differences of the reference loop
        var weights = T([1, Co, H, W], 4);
        double Scalar(double[] xs) => Ref(xs).Zip(weights.ToDoubleArray(), (a, c) => a * c).Sum();
        var g = Diff.Grad(input => (Nn.Conv2d(input, w, b, padding: "same", dilation: dilation) * weights).Sum())(x).Eval();
        Close(Gradient(Scalar, x.ToDoubleArray()), g.ToDoubleArray(), 1e-7, "input gradient");   // linear: only rounding over h

        // "valid" is no padding at all
        Close(Nn.Conv2d(x, w, b).Eval().ToDoubleArray(), Nn.Conv2d(x, w, b, padding: "valid").Eval().ToDoubleArray(), 0, "valid");
    }

    [Fact]
    public void Conv2dPaddingSameUnderVmapIsEachImagesConvolution()
    {
        // jax.vmap over images [C, H, W] (unbatched, as torch accepts them) with an even kernel: 1 zero above, 2 below
        const int N = 3, C = 2, H = 4, W = 5, Co = 2;
        var images = T([N, C, H, W], 12);
        var w = T([Co, C, 4, 3], 13);
        var y = Diff.Vmap(x => Nn.Conv2d(x, w, null, padding: "same"))(images).Eval();
        Assert.Equal(new[] { N, Co, H, W }, y.Shape);
        var xs = images.ToDoubleArray();
        for (int n = 0; n < N; n++)
            Close(Conv2d(xs[(n * C * H * W)..((n + 1) * C * H * W)], C, H, W, w.ToDoubleArray(), Co, 4, 3, new double[Co], 1, 1, 1, 1, H, W),
                y.ToDoubleArray()[(n * Co * H * W)..((n + 1) * Co * H * W)], 1e-13, $"image {n}");
    }

    [Theory]
    [InlineData(4, 1)]   // 3 zeros: 1 before, 2 after
    [InlineData(3, 2)]   // 4 zeros: 2 each side
    public void Conv1dPaddingSameKeepsTheLength(int k, int dilation)
    {
        const int C = 2, L = 7, Co = 2;
        var x = T([1, C, L], 5);
        var w = T([Co, C, k], 6);
        var b = T([Co], 7);
        int before = dilation * (k - 1) / 2;
        // a 1-D convolution is the 2-D one over a height of 1
        double[] Ref(double[] xs) => Conv2d(xs, C, 1, L, w.ToDoubleArray(), Co, 1, k, b.ToDoubleArray(), 0, before, 1, dilation, 1, L);

        var y = Nn.Conv1d(x, w, b, padding: "same", dilation: dilation).Eval();
        Assert.Equal(new[] { 1, Co, L }, y.Shape);
        Close(Ref(x.ToDoubleArray()), y.ToDoubleArray(), 1e-13, "same");
        var g = Diff.Grad(input => Nn.Conv1d(input, w, b, padding: "same", dilation: dilation).Square().Sum())(x).Eval();
        Close(Gradient(xs => Ref(xs).Sum(v => v * v), x.ToDoubleArray()), g.ToDoubleArray(), 1e-7, "input gradient");
    }

    [Fact]
    public void PaddingSameIsRefusedWithAStrideAndAnUnknownStringIsNamed()
    {
        var x = T([1, 1, 5, 5]);
        var w = T([1, 1, 3, 3], 1);
        var strided = Assert.ThrowsAny<ArgumentException>(() => Nn.Conv2d(x, w, null, 2, "same"));
        Assert.StartsWith("Conv2d: ", strided.Message);
        Assert.Equal("padding", strided.ParamName);
        var unknown = Assert.ThrowsAny<ArgumentException>(() => Nn.Conv1d(T([1, 1, 5]), T([1, 1, 3]), padding: "full"));
        Assert.StartsWith("Conv1d: ", unknown.Message);
        Assert.Equal("padding", unknown.ParamName);
        Assert.Equal("padding", Assert.Throws<ArgumentNullException>(() => Nn.Conv2d(x, w, padding: (string)null!)).ParamName);
    }

    // ---- F.interpolate with one number for every spatial axis ----

    [Fact]
    public void InterpolateTakesOneSizeOrOneScaleFactorForEveryAxisAsTorch()
    {
        var x = T([1, 2, 3, 4], 10);
        var xs = x.ToDoubleArray();
        // nearest by 2: output (i, j) reads input (i / 2, j / 2)
        var expected = new double[2 * 6 * 8];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 8; j++) expected[(c * 6 + i) * 8 + j] = xs[(c * 3 + i / 2) * 4 + j / 2];
        Close(expected, Nn.Interpolate(x, scaleFactor: 2).Eval().ToDoubleArray(), 0, "scale factor 2");
        // size 6 on both axes: rows i·3/6, columns j·4/6 (torch's nearest, floor(i·in/out))
        var sized = Nn.Interpolate(x, 6).Eval();
        Assert.Equal(new[] { 1, 2, 6, 6 }, sized.Shape);
        var expectedSized = new double[2 * 6 * 6];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 6; i++)
                for (int j = 0; j < 6; j++) expectedSized[(c * 6 + i) * 6 + j] = xs[(c * 3 + i * 3 / 6) * 4 + j * 4 / 6];
        Close(expectedSized, sized.ToDoubleArray(), 0, "size 6");
        // 1-D linear by a factor of 2, against torch's half-pixel positions clamped at 0: src = max((i + ½)/2 − ½, 0)
        var line = T([1, 1, 4], 11);
        var ls = line.ToDoubleArray();
        var linear = Enumerable.Range(0, 8).Select(i =>
        {
            double src = Math.Max((i + 0.5) / 2 - 0.5, 0);
            int lo = (int)src, hi = Math.Min(lo + 1, 3);
            return ls[lo] * (1 - (src - lo)) + ls[hi] * (src - lo);
        }).ToArray();
        Close(linear, Nn.Interpolate(line, scaleFactor: 2, mode: InterpolationMode.Linear).Eval().ToDoubleArray(), 1e-15, "linear");
    }

    // ---- Tensor.Flip, for a rollout's reward-to-go computed eagerly ----

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void TensorFlipGivesTheRewardToGoOfARollout(DType dtype)
    {
        double[] rewards = [1.0, 0.0, -0.5, 2.0, 0.25];
        var r = Tensor.FromArray(rewards).To(dtype);
        // torch: r.flip(0).cumsum(0).flip(0), the sum of the rewards from each step on
        var expected = rewards.Select((_, t) => rewards[t..].Sum()).ToArray();
        var toGo = r.Flip(0).Cumsum(0).Flip(0);
        Assert.Equal(dtype, toGo.DType);
        Close(expected, toGo.ToDoubleArray(), 0, "reward to go");
        var m = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new double[] { 6, 5, 4, 3, 2, 1 }, m.Flip(0, 1).ToDoubleArray());
        Assert.Equal(new double[] { 3, 2, 1, 6, 5, 4 }, m.Flip(-1).ToDoubleArray());
        Assert.ThrowsAny<ArgumentException>(() => m.Flip(2));
    }

    // ---- F.embedding under Nn, with padding_idx ----

    [Fact]
    public void NnEmbeddingIsTheLookupAndPaddingIdxHoldsItsRowsGradientAtZero()
    {
        var table = T([5, 3], 8);
        var ids = Tensor.FromArray(new[] { 0, 2, 2, 4, 0, 1 }, 2, 3);
        var direction = T([2, 3, 3], 9);
        int[] flat = [0, 2, 2, 4, 0, 1];

        var looked = Nn.Embedding(ids, table).Eval();
        Assert.Equal(new[] { 2, 3, 3 }, looked.Shape);
        var rows = table.ToDoubleArray();
        Close(flat.SelectMany(i => rows[(i * 3)..(i * 3 + 3)]).ToArray(), looked.ToDoubleArray(), 0, "lookup");

        foreach (var (paddingIdx, row) in new[] { (0, 0), (-1, 4) })
        {
            // the padding row reads its value, and its gradient is zero while the other rows accumulate theirs
            Close(looked.ToDoubleArray(), Nn.Embedding(ids, table, paddingIdx).Eval().ToDoubleArray(), 0, "padded lookup");
            var g = Diff.Grad(t => (Nn.Embedding(ids, t, paddingIdx) * direction).Sum())(table).Eval().ToDoubleArray();
            var expected = new double[15];
            var d = direction.ToDoubleArray();
            for (int p = 0; p < flat.Length; p++)
                if (flat[p] != row)
                    for (int f = 0; f < 3; f++) expected[flat[p] * 3 + f] += d[p * 3 + f];
            Close(expected, g, 1e-15, $"gradient with paddingIdx {paddingIdx}");
        }
        Assert.Equal("paddingIdx", Assert.ThrowsAny<ArgumentException>(() => Nn.Embedding(ids, table, 5)).ParamName);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => Nn.Embedding(null!, table)).ParamName);
    }
}
