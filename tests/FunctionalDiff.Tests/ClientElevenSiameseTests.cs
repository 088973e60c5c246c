using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A Siamese metric-learning head ported from PyTorch as a user writes it: a shared <c>nn.Linear</c> + tanh embedding of
/// anchors, positives and negatives, <c>F.triplet_margin_loss</c> with a margin, <c>F.cosine_similarity</c> of the anchor and
/// positive, and a hinge on <c>torch.cdist</c> between anchors and negatives. The loss and its gradient are held to the
/// same head written with doubles and to its central differences; the anchor-equals-positive case to torch's documented
/// pairwise_distance (eps added to the difference) and torch's zero subgradient of a norm at 0.
/// </summary>
public class ClientElevenSiameseTests
{
    const int B = 4, In = 3, D = 2;
    const double Margin = 0.5;

    static readonly (string Name, int[] Shape)[] Layout = [("embed.weight", [D, In]), ("embed.bias", [D])];

    static Parameters Model() => Parameters.Of(("embed.weight", 0.8 * T([D, In], 1)), ("embed.bias", 0.3 * T([D], 2)));
    static readonly Tensor Anchors = T([B, In], 3), Positives = T([B, In], 4), Negatives = T([B, In], 5);

    // ---- what a torch user writes ----

    static Expr Embed(IReadOnlyDictionary<string, Expr> p, Expr x) => Nn.Linear(x, p["embed.weight"], p["embed.bias"]).Tanh();

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr a, Expr pos, Expr neg)
    {
        var (ea, ep, en) = (Embed(p, a), Embed(p, pos), Embed(p, neg));
        var triplet = Loss.TripletMarginLoss(ea, ep, en, margin: Margin);
        var cosine = (1 - Nn.CosineSimilarity(ea, ep)).Mean();
        // every anchor against every negative, pushed at least 1 apart
        var spread = (1.0 - Expr.Cdist(ea, en)).Relu().Mean();
        return triplet + 0.3 * cosine + 0.1 * spread;
    }

    // ---- the same head over doubles ----

    static double[][] EmbedRef(Dictionary<string, double[]> p, Tensor x) =>
        Enumerable.Range(0, B).Select(r => Linear(x.ToDoubleArray()[(r * In)..((r + 1) * In)], 1, In, D, p["embed.weight"], p["embed.bias"])
            .Select(Math.Tanh).ToArray()).ToArray();

    // torch's pairwise_distance: ‖x − y + eps‖₂
    static double Distance(double[] x, double[] y, double eps) => Math.Sqrt(x.Select((v, k) => (v - y[k] + eps) * (v - y[k] + eps)).Sum());

    static double LossRef(double[] flat)
    {
        var p = Unflatten(Layout, flat);
        var (ea, ep, en) = (EmbedRef(p, Anchors), EmbedRef(p, Positives), EmbedRef(p, Negatives));
        double triplet = 0, cosine = 0, spread = 0;
        for (int i = 0; i < B; i++)
        {
            triplet += Math.Max(Margin + Distance(ea[i], ep[i], 1e-6) - Distance(ea[i], en[i], 1e-6), 0);
            double dot = ea[i].Zip(ep[i], (u, v) => u * v).Sum();
            double na = Math.Sqrt(ea[i].Sum(u => u * u)), np = Math.Sqrt(ep[i].Sum(v => v * v));
            cosine += 1 - dot / Math.Max(na * np, 1e-8);
            for (int j = 0; j < B; j++) spread += Math.Max(1 - Distance(ea[i], en[j], 0), 0);
        }
        return triplet / B + 0.3 * cosine / B + 0.1 * spread / (B * B);
    }

    [Fact]
    public void TheLossAndItsGradientAreTheHeadOverDoublesAndItsCentralDifferences()
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        var (loss, gradients) = Diff.ValueAndGrad(p => LossOf(p, Anchors, Positives, Negatives), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        Close(LossRef(flat), values[0].Item(), 1e-13, "loss");
        Close(Gradient(LossRef, flat), values.Skip(1).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "gradient");

        // the reference is away from its hinges' kinks, so central differences mean something: every margin term is
        // at least 1e-3 from its corner
        var p = Unflatten(Layout, flat);
        var (ea, ep, en) = (EmbedRef(p, Anchors), EmbedRef(p, Positives), EmbedRef(p, Negatives));
        for (int i = 0; i < B; i++)
            Assert.True(Math.Abs(Margin + Distance(ea[i], ep[i], 1e-6) - Distance(ea[i], en[i], 1e-6)) > 1e-3);
    }

    [Theory]
    [InlineData(false, Reduction.Mean)]
    [InlineData(true, Reduction.Sum)]
    [InlineData(false, Reduction.None)]
    public void TripletMarginLossIsTorchsFormulaWithSwapAndReductions(bool swap, Reduction reduction)
    {
        var (a, pos, neg) = (T([5, 3], 6), T([5, 3], 7), T([5, 3], 8));
        var (av, ps, ns) = (a.ToDoubleArray(), pos.ToDoubleArray(), neg.ToDoubleArray());
        double[] Row(double[] v, int i) => v[(i * 3)..(i * 3 + 3)];
        // a margin between the third and fourth of the examples' d(a, n) − d(a, p): some past it, some not, none at a corner
        var gaps = Enumerable.Range(0, 5).Select(i => Distance(Row(av, i), Row(ns, i), 1e-6) - Distance(Row(av, i), Row(ps, i), 1e-6)).Order().ToArray();
        double margin = (gaps[2] + gaps[3]) / 2;
        double[] Each(double[] x) => Enumerable.Range(0, 5).Select(i =>
        {
            double toNegative = Distance(Row(x, i), Row(ns, i), 1e-6);
            if (swap) toNegative = Math.Min(toNegative, Distance(Row(ps, i), Row(ns, i), 1e-6));
            return Math.Max(margin + Distance(Row(x, i), Row(ps, i), 1e-6) - toNegative, 0);
        }).ToArray();
        var each = Each(av);
        if (!swap) Assert.Equal(3, each.Count(v => v > 0));
        var loss = Loss.TripletMarginLoss(a, pos, neg, margin: margin, swap: swap, reduction: reduction).Eval();
        if (reduction == Reduction.None) Close(each, loss.ToDoubleArray(), 1e-14, "each");
        else Close(reduction == Reduction.Sum ? each.Sum() : each.Average(), loss.Item(), 1e-14, "reduced");

        var g = Diff.Grad(x => Loss.TripletMarginLoss(x, pos, neg, margin: margin, swap: swap, reduction: Reduction.Sum))(a).Eval();
        Close(Gradient(v => Each(v).Sum(), av), g.ToDoubleArray(), 1e-7, "anchor gradient");
    }

    [Fact]
    public void AnAnchorEqualToItsPositiveHasTorchsGradient()
    {
        // torch's pairwise_distance adds eps to the difference, so d(a, a) = eps·√D and its gradient in a is
        // (a − p + eps) / d = 1/√D in every entry: finite, not a NaN from 0/0
        var a = Tensor.FromArray(new[] { 0.3, -0.2, 0.5 }, 1, 3);
        var n = Tensor.FromArray(new[] { 1.3, 0.4, -0.1 }, 1, 3);
        var anchorGradient = Diff.Grad(x => Loss.TripletMarginLoss(x, a, n, margin: 2.0))(a).Eval().ToDoubleArray();
        double dn = Distance(a.ToDoubleArray(), n.ToDoubleArray(), 1e-6);
        var diff = a.ToDoubleArray().Select((v, k) => v - n.ToDoubleArray()[k] + 1e-6).ToArray();
        // the hinge is active (2 + d(a, a) − d(a, n) > 0): the positive's 1/√3 each, minus the negative's unit vector
        Close(diff.Select(v => 1 / Math.Sqrt(3) - v / dn).ToArray(), anchorGradient, 1e-9, "eps = 1e-6");
        // the same with the anchor as both arguments: the two 1/√3 cancel, as torch's autograd gives them
        var both = Diff.Grad(x => Nn.PairwiseDistance(x, x).Sum())(a).Eval().ToDoubleArray();
        Close(new double[3], both, 0, "d(a, a) in a");

        // with eps = 0 the distance is a norm at 0, whose subgradient torch takes as 0: only the negative's term is left
        var noEps = Diff.Grad(x => Loss.TripletMarginLoss(x, a, n, margin: 2.0, eps: 0))(a).Eval().ToDoubleArray();
        double dn0 = Distance(a.ToDoubleArray(), n.ToDoubleArray(), 0);
        Close(a.ToDoubleArray().Select((v, k) => -(v - n.ToDoubleArray()[k]) / dn0).ToArray(), noEps, 1e-12, "eps = 0");
        Assert.Equal(0, Nn.PairwiseDistance(a, a, eps: 0).Eval().Item());
    }

    [Theory]
    [InlineData(0.0, Reduction.Mean)]
    [InlineData(0.3, Reduction.Sum)]
    [InlineData(-0.2, Reduction.None)]
    public void CosineEmbeddingLossIsTorchsFormula(double margin, Reduction reduction)
    {
        var (x1, x2) = (T([5, 3], 9), T([5, 3], 10));
        double[] y = [1, -1, -1, 1, -1];
        var xs2 = x2.ToDoubleArray();
        // torch: cos = x1·x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12)); 1 − cos for y = 1, max(cos − margin, 0) for y = −1
        double[] Each(double[] xs1) => Enumerable.Range(0, 5).Select(i =>
        {
            double dot = 0, a = 1e-12, b = 1e-12;
            for (int k = 0; k < 3; k++) { dot += xs1[i * 3 + k] * xs2[i * 3 + k]; a += xs1[i * 3 + k] * xs1[i * 3 + k]; b += xs2[i * 3 + k] * xs2[i * 3 + k]; }
            double cos = dot / Math.Sqrt(a * b);
            return y[i] == 1 ? 1 - cos : Math.Max(cos - margin, 0);
        }).ToArray();
        var each = Each(x1.ToDoubleArray());
        var loss = Loss.CosineEmbeddingLoss(x1, x2, Tensor.FromArray(y), margin, reduction).Eval();
        if (reduction == Reduction.None) Close(each, loss.ToDoubleArray(), 1e-14, "each");
        else Close(reduction == Reduction.Sum ? each.Sum() : each.Average(), loss.Item(), 1e-14, "reduced");
        var g = Diff.Grad(x => Loss.CosineEmbeddingLoss(x, x2, Tensor.FromArray(y), margin, Reduction.Sum))(x1).Eval();
        Close(Gradient(v => Each(v).Sum(), x1.ToDoubleArray()), g.ToDoubleArray(), 1e-7, "gradient");
        // a zero row is finite, as torch's eps keeps it: cos = 0
        Close(1.0, Loss.CosineEmbeddingLoss(Tensor.Zeros(1, 3), x2[..1], Tensor.Ones(1)).Eval().Item(), 1e-15, "zero row");
    }

    [Fact]
    public void MarginRankingLossIsTorchsFormula()
    {
        var (x1, x2) = (T([6], 11), T([6], 12));
        double[] y = [1, -1, 1, 1, -1, -1];
        var xs2 = x2.ToDoubleArray();
        double Ref(double[] xs1) => Enumerable.Range(0, 6).Average(i => Math.Max(-y[i] * (xs1[i] - xs2[i]) + 0.1, 0));
        Close(Ref(x1.ToDoubleArray()), Loss.MarginRankingLoss(x1, x2, Tensor.FromArray(y), margin: 0.1).Eval().Item(), 1e-15, "loss");
        var g = Diff.Grad(x => Loss.MarginRankingLoss(x, x2, Tensor.FromArray(y), margin: 0.1))(x1).Eval();
        Close(Gradient(Ref, x1.ToDoubleArray()), g.ToDoubleArray(), 1e-8, "gradient");
    }

    [Fact]
    public void PerExampleTripletGradientsByVmapAreEachExamplesCentralDifferences()
    {
        // jax.vmap(grad(loss_of_one), in_axes=(None, 0, 0, 0)): one gradient of the embedding per triplet
        var model = Model();
        var perExample = Diff.Vmap((Expr[] a) =>
        {
            var p = new Dictionary<string, Expr> { ["embed.weight"] = a[0], ["embed.bias"] = a[1] };
            var g = Diff.Grad((Expr[] q) =>
            {
                var pq = new Dictionary<string, Expr> { ["embed.weight"] = q[0], ["embed.bias"] = q[1] };
                return Loss.TripletMarginLoss(Embed(pq, a[2]), Embed(pq, a[3]), Embed(pq, a[4]), margin: Margin);
            })([a[0], a[1]]);
            return g[0];
        }, inAxes: [null, null, 0, 0, 0]);
        var each = perExample([model["embed.weight"], model["embed.bias"], Anchors, Positives, Negatives]).Eval();
        Assert.Equal(new[] { B, D, In }, each.Shape);
        var flat = Flatten(Layout, model);
        for (int i = 0; i < B; i++)
        {
            // the triplet loss of example i alone, over doubles
            double One(double[] w)
            {
                var p = Unflatten(Layout, [.. w, .. flat[(D * In)..]]);
                double[] E(Tensor x) => Linear(x.ToDoubleArray()[(i * In)..((i + 1) * In)], 1, In, D, p["embed.weight"], p["embed.bias"]).Select(Math.Tanh).ToArray();
                return Math.Max(Margin + Distance(E(Anchors), E(Positives), 1e-6) - Distance(E(Anchors), E(Negatives), 1e-6), 0);
            }
            Close(Gradient(One, flat[..(D * In)]), each.ToDoubleArray()[(i * D * In)..((i + 1) * D * In)], 1e-7, $"example {i}");
        }
    }

    [Fact]
    public void TheMetricLossesPromoteTheirInputsAndGiveLabelsTheInputsDtype()
    {
        // float32 with float64 gives float64, as CosineSimilarity and every elementwise op here; labels follow the inputs
        var (single, pair) = (T([2, 3], 13).To(DType.Float32), T([2, 3], 14));
        Assert.Equal(DType.Float64, Loss.TripletMarginLoss(single, pair, pair).DType);
        Assert.Equal(DType.Float64, Loss.TripletMarginLoss(pair, pair, single).DType);
        Assert.Equal(DType.Float64, Loss.CosineEmbeddingLoss(single, pair, Tensor.Ones(2).To(DType.Float32)).DType);
        Assert.Equal(DType.Float32, Loss.CosineEmbeddingLoss(single, single, Tensor.Ones(2)).DType);
        Assert.Equal(DType.Float32, Loss.MarginRankingLoss(single, single, Tensor.Ones(2, 3)).DType);
        Assert.Equal(DType.Float64, Loss.MarginRankingLoss(single, pair, Tensor.Ones(2, 3).To(DType.Float32)).DType);
    }

    [Fact]
    public void TheMetricLossesRefuseMismatchedShapesByName()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Loss.TripletMarginLoss(T([2, 3]), T([2, 3]), T([3])));
        Assert.StartsWith("TripletMarginLoss: ", e.Message);
        Assert.Equal("negative", Assert.Throws<ArgumentNullException>(() => Loss.TripletMarginLoss(T([3]), T([3]), null!)).ParamName);
        Assert.StartsWith("CosineEmbeddingLoss: ", Assert.ThrowsAny<ArgumentException>(() => Loss.CosineEmbeddingLoss(T([4, 3]), T([4, 3]), T([3]))).Message);
        Assert.StartsWith("MarginRankingLoss: ", Assert.ThrowsAny<ArgumentException>(() => Loss.MarginRankingLoss(T([4]), T([3]), T([4]))).Message);
    }
}
