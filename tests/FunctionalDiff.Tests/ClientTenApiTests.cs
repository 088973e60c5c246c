using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The calls this round's ports reached for that were missing: torch's <c>F.poisson_nll_loss</c>, <c>torch.nan_to_num</c>,
/// <c>isnan</c>, <c>isinf</c> and <c>isfinite</c>, each against its documented formula written as a loop over doubles and
/// its derivatives against central differences.
/// </summary>
public class ClientTenApiTests
{
    static readonly double[] Counts = [0, 1, 2, 5, 3, 0, 1, 7];

    static double PoissonRef(double x, double n, bool logInput, bool full, double eps = 1e-8)
    {
        double loss = logInput ? Math.Exp(x) - n * x : x - n * Math.Log(x + eps);
        if (full && n > 1) loss += n * Math.Log(n) - n + 0.5 * Math.Log(2 * Math.PI * n);
        return loss;
    }

    [Theory]
    [InlineData(true, false, Reduction.Mean)]
    [InlineData(true, true, Reduction.Sum)]
    [InlineData(false, false, Reduction.None)]
    [InlineData(false, true, Reduction.Mean)]
    public void PoissonNllLossIsTorchsFormulaWithItsGradient(bool logInput, bool full, Reduction reduction)
    {
        // a rate must be positive when logInput is false
        var x = Tensor.FromArray(Values(8).Select(v => logInput ? v : Math.Exp(v)).ToArray(), 2, 4);
        var n = Tensor.FromArray(Counts, 2, 4);
        var elements = x.ToDoubleArray().Select((v, i) => PoissonRef(v, Counts[i], logInput, full)).ToArray();
        var loss = Loss.PoissonNllLoss(x, n, logInput, full, reduction: reduction).Eval();
        if (reduction == Reduction.None)
        {
            Assert.Equal(new[] { 2, 4 }, loss.Shape);
            Close(elements, loss.ToDoubleArray(), 1e-14, "elements");
        }
        else Close(reduction == Reduction.Sum ? elements.Sum() : elements.Average(), loss.Item(), 1e-14, "loss");

        double Scalar(double[] v) => v.Select((a, i) => PoissonRef(a, Counts[i], logInput, full)).Sum();
        var g = Diff.Grad(input => Loss.PoissonNllLoss(input, n, logInput, full, reduction: Reduction.Sum))(x).Eval();
        Close(Gradient(Scalar, x.ToDoubleArray()), g.ToDoubleArray(), 1e-7, "gradient");
    }

    [Fact]
    public void PoissonNllLossTargetGradientIsFiniteWhereStirlingIsMasked()
    {
        // torch's masked 0·log 0 gives the target NaN there; ours takes the term at max(target, 1), so the gradient is
        // the unmasked formula's above 1 and −x (from −target·x) at or below it
        var x = Tensor.FromArray([0.3, -0.2, 0.5, 0.1]);
        var n = Tensor.FromArray([0.0, 1.0, 2.0, 4.0]);
        var g = Diff.Grad(t => Loss.PoissonNllLoss(x, t, full: true, reduction: Reduction.Sum))(n).Eval().ToDoubleArray();
        var xs = x.ToDoubleArray();
        var ns = n.ToDoubleArray();
        // d/dn of n log n − n + ½ log(2πn) is log n + 1/(2n)
        var expected = ns.Select((v, i) => -xs[i] + (v > 1 ? Math.Log(v) + 0.5 / v : 0)).ToArray();
        Close(expected, g, 1e-14, "target gradient");
    }

    [Fact]
    public void PoissonNllLossRefusesShapesThatDoNotBroadcastByName()
    {
        // torch's poisson_nll_loss broadcasts (ClientElevenApiTests), so only shapes that do not broadcast are refused
        var e = Assert.ThrowsAny<ArgumentException>(() => Loss.PoissonNllLoss(Tensor.Zeros(3), Tensor.Zeros(2, 2)));
        Assert.StartsWith("PoissonNllLoss: ", e.Message);
        Assert.Equal("eps", Assert.ThrowsAny<ArgumentException>(() => Loss.PoissonNllLoss(Tensor.Zeros(3), Tensor.Zeros(3), logInput: false, eps: -1)).ParamName);
        Assert.Equal("target", Assert.Throws<ArgumentNullException>(() => Loss.PoissonNllLoss(Tensor.Zeros(3), null!)).ParamName);
    }

    static readonly double[] Special = [1.5, double.NaN, double.PositiveInfinity, -2.0, double.NegativeInfinity, 0.0];

    [Fact]
    public void NanToNumReplacesAsTorchDoesInBothDTypesAndOnTensors()
    {
        var t = Tensor.FromArray(Special);
        Assert.Equal([1.5, 0.0, double.MaxValue, -2.0, -double.MaxValue, 0.0], t.NanToNum().ToDoubleArray());
        Assert.Equal([1.5, 0.0, double.MaxValue, -2.0, -double.MaxValue, 0.0], ((Expr)t).NanToNum().Eval().ToDoubleArray());
        Assert.Equal([1.5, 9.0, 7.0, -2.0, -7.0, 0.0], t.NanToNum(9.0, 7.0, -7.0).ToDoubleArray());
        var single = t.To(DType.Float32).NanToNum();
        Assert.Equal(DType.Float32, single.DType);
        Assert.Equal([1.5f, 0f, float.MaxValue, -2f, -float.MaxValue, 0f], single.ToSingleArray());
        Assert.Equal([0.0, 1, 0, 0, 0, 0], t.IsNan().ToDoubleArray());
        Assert.Equal([0.0, 0, 1, 0, 1, 0], t.IsInf().ToDoubleArray());
        Assert.Equal([1.0, 0, 0, 1, 0, 1], ((Expr)t).IsFinite().Eval().ToDoubleArray());
        Assert.Equal([0f, 1f, 0f, 0f, 0f, 0f], t.To(DType.Float32).IsNan().ToSingleArray());
    }

    [Fact]
    public void NanToNumPassesTheGradientAtFiniteEntriesOnly()
    {
        // torch: grad · isfinite(x); here through where, so even a NaN cotangent at a replaced entry stays out
        var x = Tensor.FromArray(Special);
        var g = Diff.Grad(v => (v.NanToNum() * Tensor.FromArray([2.0, 3, 4, 5, 6, 7])).Sum())(x).Eval().ToDoubleArray();
        Assert.Equal([2.0, 0, 0, 5, 0, 7], g);
        var isNan = Diff.Grad(v => (v.IsNan() + v).Sum())(Tensor.FromArray([1.0, double.NaN])).Eval().ToDoubleArray();
        Assert.Equal(1.0, isNan[0]);   // isnan adds no derivative
    }

    // scores [2, 3, 4] with key padding [2, 1, 4]: sequence 1 has every key padded
    static readonly double[] KeyPadding = [0, 0, 0, 1, 1, 1, 1, 1];

    static Expr MaskedWeights(Expr scores) =>
        scores.MaskedFill(Tensor.FromArray(KeyPadding, 2, 1, 4), double.NegativeInfinity).Softmax(-1).NanToNum();

    static double[] MaskedWeightsRef(double[] s)
    {
        var w = new double[s.Length];
        for (int row = 0; row < 6; row++)
        {
            int b = row / 3;
            var kept = Enumerable.Range(0, 4).Where(j => KeyPadding[b * 4 + j] == 0).ToArray();
            if (kept.Length == 0) continue;   // NaN in torch's softmax, 0 after nan_to_num
            double max = kept.Max(j => s[row * 4 + j]);
            double total = kept.Sum(j => Math.Exp(s[row * 4 + j] - max));
            foreach (int j in kept) w[row * 4 + j] = Math.Exp(s[row * 4 + j] - max) / total;
        }
        return w;
    }

    [Fact]
    public void MaskedSoftmaxThenNanToNumHasFiniteDerivativesInBothModes()
    {
        var s = T([2, 3, 4]);
        Close(MaskedWeightsRef(s.ToDoubleArray()), MaskedWeights(s).Eval().ToDoubleArray(), 1e-15, "weights");
        var jacobianT = Directional(MaskedWeightsRef, s.ToDoubleArray());
        var u = T([2, 3, 4], salt: 3);
        var tangent = T([2, 3, 4], salt: 5);
        // reverse: uᵀJ; forward: J t
        var (_, pullback) = Diff.Vjp(MaskedWeights, s);
        var vjp = pullback(u).Eval().ToDoubleArray();
        var jvp = Diff.Jvp(MaskedWeights, s, tangent).Tangent.Eval().ToDoubleArray();
        var us = u.ToDoubleArray();
        var ts = tangent.ToDoubleArray();
        Close(jacobianT.Select(row => row.Select((v, k) => v * us[k]).Sum()).ToArray(), vjp, 1e-8, "vjp");
        Close(Enumerable.Range(0, 24).Select(k => jacobianT.Select((row, i) => row[k] * ts[i]).Sum()).ToArray(), jvp, 1e-8, "jvp");
    }

    [Fact]
    public void FromArrayOfLongsTakesTorchSharpsInt64IdsExactly()
    {
        // TorchSharp's ids are int64: torch.tensor(new long[] { 2, 0 }) picks rows of an embedding table
        var table = Tensor.FromArray(new double[,] { { 1, 2 }, { 3, 4 }, { 5, 6 } });
        var rows = Expr.Embedding(Tensor.FromArray(new long[] { 2, 0 }), table).Eval();
        Assert.Equal([5.0, 6, 1, 2], rows.ToDoubleArray());
        var ids = Tensor.FromArray(new long[,] { { 1, 2, 0 }, { 0, 0, 1 } });
        Assert.Equal(new[] { 2, 3 }, ids.Shape);
        Assert.Equal([1.0, 2, 0, 0, 0, 1], ids.ToDoubleArray());
        Assert.Equal([9007199254740992.0, -9007199254740992.0], Tensor.FromArray(new long[] { 1L << 53, -(1L << 53) }).ToDoubleArray());
        var beyond = Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(new long[] { 0, (1L << 53) + 1 }));
        Assert.Equal("data", beyond.ParamName);
        Assert.StartsWith("FromArray: ", beyond.Message);
        Assert.Equal([1.0, 2, 3], Tensor.FromArray([1, 2, 3]).ToDoubleArray());   // an int collection still binds int[]
    }

    [Fact]
    public void ClipGradValueClampsEveryEntryAsTorchsClipGradValue()
    {
        var gradients = Parameters.Of(("w", Tensor.FromArray([0.3, -2.0, 0.7, double.NaN])), ("b", Tensor.FromArray([-0.1, 5.0]).To(DType.Float32)));
        var clipped = Optimizer.ClipGradValue(gradients, 0.5);
        Assert.Equal(new[] { "w", "b" }, clipped.Names);
        // torch: g.clamp_(-0.5, 0.5) on each gradient; NaN stays NaN
        var w = clipped["w"].ToDoubleArray();
        Assert.Equal([0.3, -0.5, 0.5], w[..3]);
        Assert.True(double.IsNaN(w[3]));
        Assert.Equal(DType.Float32, clipped["b"].DType);
        Assert.Equal([-0.1f, 0.5f], clipped["b"].ToSingleArray());
        // the symbolic form: gradients of a loss, evaluated then clamped
        var model = Parameters.Of(("x", Tensor.FromArray([1.0, -3.0])));
        var symbolic = Optimizer.ClipGradValue(Diff.Grad(p => (p["x"] * p["x"]).Sum(), model), 1.0);
        Assert.Equal([1.0, -1.0], symbolic["x"].ToDoubleArray());   // 2x = (2, −6) clamped
        Assert.Equal("clipValue", Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.ClipGradValue(gradients, -1)).ParamName);
    }

    [Fact]
    public void TensorTopKAndSortGiveTheNearestWordsEagerly()
    {
        // word2vec's evaluation: cosine similarities of one word's vector with every row, the 3 nearest by torch.topk
        var table = Tensor.RandomNormal([7, 4], seed: 3);
        var rows = table.ToDoubleArray();
        var query = rows[..4];
        double Cosine(int r)
        {
            double dot = 0, a = 0, b = 0;
            for (int e = 0; e < 4; e++) { dot += query[e] * rows[r * 4 + e]; a += query[e] * query[e]; b += rows[r * 4 + e] * rows[r * 4 + e]; }
            return dot / Math.Sqrt(a * b);
        }
        var expected = Enumerable.Range(0, 7).OrderByDescending(Cosine).ToArray();   // a stable sort, largest first
        var similarities = Nn.CosineSimilarity(table[0..1, ..], table).Eval();          // [7]
        var (scores, words) = similarities.TopK(3);
        Assert.Equal(expected[..3].Select(i => (double)i).ToArray(), words.ToDoubleArray());
        Close(expected[..3].Select(Cosine).ToArray(), scores.ToDoubleArray(), 1e-12, "top scores");
        var (sorted, order) = similarities.Sort(descending: true);
        Assert.Equal(expected.Select(i => (double)i).ToArray(), order.ToDoubleArray());
        Close(expected.Select(Cosine).ToArray(), sorted.ToDoubleArray(), 1e-12, "sorted");
        var (smallest, _) = Tensor.FromArray([3.0, 1, 2]).TopK(2, largest: false);
        Assert.Equal([1.0, 2], smallest.ToDoubleArray());
    }

    [Fact]
    public void FromArrayOfABoolMatrixIsAMask()
    {
        var mask = Tensor.FromArray(new[,] { { false, true, true }, { true, false, false } });
        Assert.Equal(new[] { 2, 3 }, mask.Shape);
        Assert.Equal([0.0, 1, 1, 1, 0, 0], mask.ToDoubleArray());
    }
}

/// <summary>
/// torch.multinomial as word2vec's negative sampling draws: frequencies against the weights' proportions, draws without
/// replacement against the sequential closed form, reproducibility after ManualSeed, and torch's refusals.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientTenMultinomialTests
{
    [Fact]
    public void MultinomialWithReplacementDrawsInProportionToTheWeights()
    {
        // 20,000 draws: each frequency is within 4 standard deviations (√(p(1 − p)/n) ≤ 0.0036) of w / Σw
        double[] weights = [1, 0, 3, 6];
        Tensor.ManualSeed(5);
        var draws = Tensor.FromArray(weights).Multinomial(20000, replacement: true);
        Assert.Equal(new[] { 20000 }, draws.Shape);
        var counts = new int[4];
        foreach (var d in draws.ToDoubleArray()) counts[(int)d]++;
        Assert.Equal(0, counts[1]);
        for (int k = 0; k < 4; k++) Close(weights[k] / 10, counts[k] / 20000.0, 0.015, $"frequency {k}");
        // torch.manual_seed's contract: the same seed, the same draws
        Tensor.ManualSeed(5);
        Assert.Equal(draws.ToDoubleArray(), Tensor.FromArray(weights).Multinomial(20000, replacement: true).ToDoubleArray());
    }

    [Fact]
    public void MultinomialWithoutReplacementFollowsTheSequentialDrawPerRow()
    {
        // 8,000 rows of weights 1..4, two draws each: the pair (i, j) has probability w_i/W · w_j/(W − w_i)
        const int rows = 8000;
        double[] w = [1, 2, 3, 4];
        var table = Tensor.FromArray(Enumerable.Range(0, rows).SelectMany(_ => w).ToArray(), rows, 4);
        Tensor.ManualSeed(6);
        var draws = table.Multinomial(2).ToDoubleArray();
        var pairs = new int[4, 4];
        for (int r = 0; r < rows; r++)
        {
            Assert.NotEqual(draws[2 * r], draws[2 * r + 1]);   // never the same category twice in a row
            pairs[(int)draws[2 * r], (int)draws[2 * r + 1]]++;
        }
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 4; j++)
                if (i != j) Close(w[i] / 10 * w[j] / (10 - w[i]), pairs[i, j] / (double)rows, 0.02, $"pair ({i}, {j})");
        // as many draws as nonzero weights is a permutation of them
        var all = Tensor.FromArray([0.5, 0, 2, 1]).Multinomial(3).ToDoubleArray();
        Assert.Equal([0.0, 2, 3], all.Order().ToArray());
    }

    [Fact]
    public void MultinomialRefusesWhatTorchRefuses()
    {
        var few = Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray([1.0, 0, 2]).Multinomial(3));
        Assert.Equal("numSamples", few.ParamName);
        Assert.StartsWith("Multinomial: ", few.Message);
        Assert.StartsWith("Multinomial: ", Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray([1.0, -1]).Multinomial(1)).Message);
        Assert.StartsWith("Multinomial: ", Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros(3).Multinomial(1, true)).Message);
        Assert.StartsWith("Multinomial: ", Assert.ThrowsAny<ArgumentException>(() => Tensor.Ones(2, 2, 2).Multinomial(1)).Message);
    }
}
