using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch.nn.functional calls a PyTorch user ports: the regression losses with each reduction, the binary
/// cross-entropy with weight and pos_weight, cross-entropy with label smoothing and ignore_index, F.pad in its
/// four modes, F.normalize, cosine_similarity and pairwise_distance. Each is checked against torch's documented
/// formula written as a loop over doubles here, and its gradient against central differences.
/// </summary>
public class ClientFiveFunctionalTests
{
    static double Reduce(double[] elements, Reduction reduction) =>
        reduction == Reduction.Sum ? elements.Sum() : elements.Average();

    [Fact]
    public void RegressionLossesFollowTorchsFormulasUnderEveryReduction()
    {
        double[] p = Values(6, 1).Select(v => 2 * v).ToArray(), t = Values(6, 2);
        (string Name, Func<Expr, Expr, Reduction, Expr> Loss, Func<double, double> Element)[] table =
        [
            ("mse_loss", (a, b, r) => Loss.Mse(a, b, r), d => d * d),
            ("l1_loss", (a, b, r) => Loss.L1(a, b, r), Math.Abs),
            ("smooth_l1_loss beta 0.5", (a, b, r) => Loss.SmoothL1(a, b, 0.5, r), d => Math.Abs(d) < 0.5 ? 0.5 * d * d / 0.5 : Math.Abs(d) - 0.25),
            ("huber_loss delta 0.7", (a, b, r) => Loss.Huber(a, b, 0.7, r), d => Math.Abs(d) < 0.7 ? 0.5 * d * d : 0.7 * (Math.Abs(d) - 0.35)),
        ];
        var target = Tensor.FromArray(t, 2, 3);
        foreach (var (name, loss, element) in table)
        {
            var elements = p.Select((v, i) => element(v - t[i])).ToArray();
            Close(elements, loss(Tensor.FromArray(p, 2, 3), target, Reduction.None).Eval().ToDoubleArray(), 1e-15, name + " none");
            foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
            {
                Close(Reduce(elements, reduction), loss(Tensor.FromArray(p, 2, 3), target, reduction).Eval().ToScalar(), 1e-14, $"{name} {reduction}");
                var gradient = Diff.Grad(a => loss(a, target, reduction))(Tensor.FromArray(p, 2, 3)).Eval().ToDoubleArray();
                var numeric = Gradient(v => Reduce(v.Select((a, i) => element(a - t[i])).ToArray(), reduction), p);
                Close(numeric, gradient, 1e-7, $"{name} {reduction} gradient");
            }
        }
    }

    /// <summary>torch's documented ℓ = −w·[pw·t·log σ(x) + (1 − t)·log(1 − σ(x))], per element.</summary>
    static double Bce(double x, double t, double w, double pw)
    {
        double sigma = 1 / (1 + Math.Exp(-x));
        return -w * (pw * t * Math.Log(sigma) + (1 - t) * Math.Log(1 - sigma));
    }

    [Fact]
    public void BinaryCrossEntropyWithLogitsTakesWeightAndPosWeight()
    {
        // 3 examples, 4 classes: pos_weight one per class, weight one per example (a column)
        double[] x = Values(12, 3).Select(v => 2 * v).ToArray(), t = Values(12, 4).Select(v => (v + 1.5) / 3).ToArray();
        double[] pw = { 0.5, 1, 2, 3 }, w = { 1, 0.5, 2 };
        var targets = Tensor.FromArray(t, 3, 4);
        Expr Loss(Expr logits, Reduction reduction) =>
            FunctionalDiff.Loss.BinaryCrossEntropyWithLogits(logits, targets, reduction, weight: Tensor.FromArray(w, 3, 1), posWeight: Tensor.FromArray(pw));
        double[] Elements(double[] logits) => logits.Select((v, i) => Bce(v, t[i], w[i / 4], pw[i % 4])).ToArray();
        Close(Elements(x), Loss(Tensor.FromArray(x, 3, 4), Reduction.None).Eval().ToDoubleArray(), 1e-14, "none");
        foreach (var reduction in new[] { Reduction.Mean, Reduction.Sum })
        {
            Close(Reduce(Elements(x), reduction), Loss(Tensor.FromArray(x, 3, 4), reduction).Eval().ToScalar(), 1e-14, reduction.ToString());
            Close(Gradient(v => Reduce(Elements(v), reduction), x), Diff.Grad(l => Loss(l, reduction))(Tensor.FromArray(x, 3, 4)).Eval().ToDoubleArray(), 1e-7, $"{reduction} gradient");
        }
        // pos_weight alone, against the same formula with w = 1; and no weights is the plain loss
        var alone = FunctionalDiff.Loss.BinaryCrossEntropyWithLogits(Tensor.FromArray(x, 3, 4), targets, posWeight: Tensor.FromArray(pw)).Eval().ToScalar();
        Close(x.Select((v, i) => Bce(v, t[i], 1, pw[i % 4])).Average(), alone, 1e-14, "pos_weight alone");
        var plain = FunctionalDiff.Loss.BinaryCrossEntropyWithLogits(Tensor.FromArray(x, 3, 4), targets, Reduction.Mean, null, null).Eval().ToScalar();
        Close(x.Select((v, i) => Bce(v, t[i], 1, 1)).Average(), plain, 1e-14, "no weights");
        // a weight that does not broadcast is an error naming the loss and both shapes
        var error = Assert.ThrowsAny<ArgumentException>(() => FunctionalDiff.Loss.BinaryCrossEntropyWithLogits(Tensor.FromArray(x, 3, 4), targets, posWeight: Tensor.Ones(3)));
        Assert.Contains("BinaryCrossEntropyWithLogits", error.Message);
        Assert.Contains("[3]", error.Message);
        Assert.Contains("[3,4]", error.Message);
    }

    [Fact]
    public void BinaryCrossEntropyOfProbabilitiesTakesAWeight()
    {
        // torch: ℓ = −w·[t·log p + (1 − t)·log(1 − p)], w one per class here
        double[] p = Values(12, 11).Select(v => 0.5 + v / 3.2).ToArray(), t = Values(12, 12).Select(v => (v + 1.5) / 3).ToArray();
        double[] w = { 0.5, 1, 2, 3 };
        double[] Elements(double[] q) => q.Select((v, i) => -w[i % 4] * (t[i] * Math.Log(v) + (1 - t[i]) * Math.Log(1 - v))).ToArray();
        var targets = Tensor.FromArray(t, 3, 4);
        Expr Loss(Expr probabilities) => FunctionalDiff.Loss.BinaryCrossEntropy(probabilities, targets, weight: Tensor.FromArray(w));
        Close(Elements(p).Average(), Loss(Tensor.FromArray(p, 3, 4)).Eval().ToScalar(), 1e-14, "mean");
        Close(Elements(p).Sum(), FunctionalDiff.Loss.BinaryCrossEntropy(Tensor.FromArray(p, 3, 4), targets, Reduction.Sum, Tensor.FromArray(w)).Eval().ToScalar(), 1e-14, "sum");
        Close(Gradient(q => Elements(q).Average(), p), Diff.Grad(Loss)(Tensor.FromArray(p, 3, 4)).Eval().ToDoubleArray(), 1e-7, "gradient");
        var error = Assert.ThrowsAny<ArgumentException>(() => FunctionalDiff.Loss.BinaryCrossEntropy(Tensor.FromArray(p, 3, 4), targets, weight: Tensor.Ones(3)));
        Assert.Contains("BinaryCrossEntropy", error.Message);
        Assert.Contains("[3,4]", error.Message);
    }

    [Fact]
    public void SoftplusWithBetaIsTorchsFormula()
    {
        double[] x = Values(8, 13).Select(v => 4 * v).ToArray();
        foreach (var beta in new[] { 0.5, 1.0, 3.0 })
        {
            double Reference(double v) => Math.Log(1 + Math.Exp(beta * v)) / beta;
            Close(x.Select(Reference).ToArray(), ((Expr)Tensor.FromArray(x)).Softplus(beta).Eval().ToDoubleArray(), 1e-14, $"beta {beta}");
            Close(Gradient(v => v.Sum(Reference), x), Diff.Grad(e => e.Softplus(beta).Sum())(Tensor.FromArray(x)).Eval().ToDoubleArray(), 1e-8, $"beta {beta} gradient");
        }
        Assert.Throws<ArgumentException>(() => ((Expr)Tensor.Ones(2)).Softplus(0.0));
    }

    [Fact]
    public void CrossEntropyIgnoresTheIgnoreIndexAndSmoothsTheRest()
    {
        // 5 examples, 3 classes; examples 1 and 3 carry torch's padding label −100
        double[] x = Values(15, 5).Select(v => 2 * v).ToArray();
        int[] targets = { 2, -100, 0, -100, 1 };
        const double eps = 0.2;
        // torch: per kept example (1 − ε)·(−log p[target]) + ε·mean_c(−log p_c); mean divides by the kept count
        double[] PerExample(double[] logits) => Enumerable.Range(0, 5).Select(n =>
        {
            if (targets[n] == -100) return 0.0;
            var row = logits.Skip(3 * n).Take(3).ToArray();
            double logSum = Math.Log(row.Sum(Math.Exp));
            var logP = row.Select(v => v - logSum).ToArray();
            return (1 - eps) * -logP[targets[n]] + eps * logP.Average(v => -v);
        }).ToArray();
        double Mean(double[] logits) => PerExample(logits).Sum() / 3;
        // torch's positional order: F.cross_entropy(logits, t, reduction=..., ignore_index=-100, label_smoothing=eps)
        Expr Ce(Expr logits, Reduction reduction) => Loss.CrossEntropy(logits, targets, reduction, ignoreIndex: -100, labelSmoothing: eps);
        var logitsTensor = Tensor.FromArray(x, 5, 3);
        Close(PerExample(x), Ce(logitsTensor, Reduction.None).Eval().ToDoubleArray(), 1e-14, "none");
        Close(PerExample(x).Sum(), Ce(logitsTensor, Reduction.Sum).Eval().ToScalar(), 1e-14, "sum");
        Close(Mean(x), Ce(logitsTensor, Reduction.Mean).Eval().ToScalar(), 1e-14, "mean");
        var gradient = Diff.Grad(l => Ce(l, Reduction.Mean))(logitsTensor).Eval().ToDoubleArray();
        Close(Gradient(Mean, x), gradient, 1e-7, "gradient");
        Assert.All(new[] { 3, 4, 5, 9, 10, 11 }, k => Assert.Equal(0.0, gradient[k]));   // ignored rows get nothing

        // the same with the labels as an Expr (a batch passed to a compiled step), in float32 logits too
        var labels = Tensor.FromArray(targets.Select(v => (double)v).ToArray());
        Close(Mean(x), Loss.CrossEntropy(logitsTensor, labels, ignoreIndex: -100, labelSmoothing: eps).Eval().ToScalar(), 1e-14, "Expr targets");
        var step = Diff.Compile((Expr[] a) => Loss.CrossEntropy(a[0], a[1], ignoreIndex: -100, labelSmoothing: eps));
        Close(Mean(x), step.Invoke(logitsTensor, labels)[0].ToScalar(), 1e-14, "compiled");
        Close(Mean(x), step.Invoke(logitsTensor.Cast(DType.Float32), labels)[0].ToScalar(), 1e-6, "float32");

        // nll_loss of the log-softmax with the same ignore_index is the unsmoothed cross-entropy
        double[] Nll(double[] logits) => Enumerable.Range(0, 5).Select(n =>
        {
            if (targets[n] == -100) return 0.0;
            var row = logits.Skip(3 * n).Take(3).ToArray();
            return Math.Log(row.Sum(Math.Exp)) - row[targets[n]];
        }).ToArray();
        Close(Nll(x).Sum() / 3, Loss.NllLoss(((Expr)logitsTensor).LogSoftmax(1), targets, ignoreIndex: -100).Eval().ToScalar(), 1e-14, "nll_loss");
        Close(Nll(x), Loss.NllLoss(((Expr)logitsTensor).LogSoftmax(1), labels, Reduction.None, ignoreIndex: -100).Eval().ToDoubleArray(), 1e-14, "nll_loss none");
        Close(Gradient(v => Nll(v).Sum() / 3, x), Diff.Grad(l => Loss.NllLoss(l.LogSoftmax(1), labels, ignoreIndex: -100))(logitsTensor).Eval().ToDoubleArray(), 1e-7, "nll_loss gradient");

        // every example ignored: torch's mean is 0/0 = NaN
        Assert.True(double.IsNaN(Loss.CrossEntropy(Tensor.Ones(2, 3), new[] { -100, -100 }, ignoreIndex: -100).Eval().ToScalar()));
        // without ignoreIndex a −100 is out of range, and the message says how torch's default is spelled here
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(logitsTensor, targets));
        Assert.Contains("ignoreIndex: -100", error.Message);
        // an index other than ignoreIndex is still checked
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(logitsTensor, new[] { 0, 1, 2, 3, -100 }, ignoreIndex: -100));
    }

    /// <summary>torch's F.pad along one axis of a row: where each padded position reads from, by mode.</summary>
    static double PadReference(double[] row, int before, int j, PadMode mode, double value)
    {
        int n = row.Length, i = j - before;
        if (i >= 0 && i < n) return row[i];
        return mode switch
        {
            PadMode.Constant => value,
            PadMode.Reflect => row[i < 0 ? -i : 2 * (n - 1) - i],
            PadMode.Replicate => row[Math.Clamp(i, 0, n - 1)],
            PadMode.Circular => row[((i % n) + n) % n],
            _ => throw new ArgumentOutOfRangeException(nameof(mode)),
        };
    }

    [Fact]
    public void PadInEveryModeMatchesTorchsDefinition()
    {
        // [2, 3, 4] padded on the last axis by (2, 1) and on the middle one by (1, 2): torch's order, last axis first
        double[] x = Values(24, 6);
        foreach (var mode in new[] { PadMode.Constant, PadMode.Reflect, PadMode.Replicate, PadMode.Circular })
        {
            Func<Expr, Expr> f = e => Nn.Pad(e, [2, 1, 1, 2], mode, value: 0.5);
            var padded = f(Tensor.FromArray(x, 2, 3, 4)).Eval();
            Assert.Equal(new[] { 2, 6, 7 }, padded.Shape);
            double[] Reference(double[] v)
            {
                var result = new double[2 * 6 * 7];
                for (int b = 0; b < 2; b++)
                    for (int r = 0; r < 6; r++)
                    {
                        // pad the rows of this batch entry along the last axis first, then pick the row along the middle one
                        var rows = Enumerable.Range(0, 3).Select(i => v.Skip((b * 3 + i) * 4).Take(4).ToArray()).ToArray();
                        for (int c = 0; c < 7; c++)
                        {
                            var column = rows.Select(row => PadReference(row, 2, c, mode, 0.5)).ToArray();
                            result[(b * 6 + r) * 7 + c] = PadReference(column, 1, r, mode, 0.5);
                        }
                    }
                return result;
            }
            Assert.Equal(Reference(x), padded.ToDoubleArray());
            // the gradient of Σ padded·weights: each copied entry sends its weight back to its source
            var weights = Values(84, 7);
            var gradient = Diff.Grad(e => (f(e) * Tensor.FromArray(weights, 2, 6, 7)).Sum())(Tensor.FromArray(x, 2, 3, 4)).Eval().ToDoubleArray();
            Close(Gradient(v => Reference(v).Select((a, k) => a * weights[k]).Sum(), x), gradient, 1e-8, $"{mode} gradient");
        }
        // constant with a negative amount crops, as torch's
        Assert.Equal(new double[] { 2, 3 }, Nn.Pad(Tensor.FromArray(new double[] { 1, 2, 3 }), [-1, 0]).Eval().ToDoubleArray());
        // reflect needs amounts below the axis's size; the error names Pad, the mode and the shape
        var error = Assert.ThrowsAny<ArgumentException>(() => Nn.Pad(Tensor.Ones(2, 3), [3, 0], PadMode.Reflect));
        Assert.Contains("Pad", error.Message);
        Assert.Contains("reflect", error.Message);
        Assert.Contains("[2,3]", error.Message);
        Assert.ThrowsAny<ArgumentException>(() => Nn.Pad(Tensor.Ones(2, 3), [1, 1, 1]));
    }

    [Fact]
    public void NormalizeCosineSimilarityAndPairwiseDistance()
    {
        double[] a = Values(12, 8), b = Values(12, 9);
        var (ta, tb) = (Tensor.FromArray(a, 3, 4), Tensor.FromArray(b, 3, 4));
        double Norm(IEnumerable<double> v, double p) => Math.Pow(v.Sum(e => Math.Pow(Math.Abs(e), p)), 1 / p);
        double[] Row(double[] m, int r) => m.Skip(4 * r).Take(4).ToArray();

        // F.normalize(x, p=2, dim=1): each row divided by max(its norm, eps)
        double[] Normalized(double[] m, double p) => Enumerable.Range(0, 3).SelectMany(r => Row(m, r).Select(e => e / Math.Max(Norm(Row(m, r), p), 1e-12))).ToArray();
        Close(Normalized(a, 2), Nn.Normalize(ta).Eval().ToDoubleArray(), 1e-14, "normalize p=2");
        Close(Normalized(a, 3), Nn.Normalize(ta, p: 3).Eval().ToDoubleArray(), 1e-14, "normalize p=3");
        var weights = Values(12, 10);
        Close(Gradient(v => Normalized(v, 2).Select((e, k) => e * weights[k]).Sum(), a),
            Diff.Grad(x => (Nn.Normalize(x) * Tensor.FromArray(weights, 3, 4)).Sum())(ta).Eval().ToDoubleArray(), 1e-8, "normalize gradient");
        // a zero row is divided by eps: it stays 0
        Assert.Equal(new double[4], Nn.Normalize(Tensor.Zeros(1, 4)).Eval().ToDoubleArray());

        // F.cosine_similarity(x1, x2, dim=1): [3]
        double[] Cosine(double[] u, double[] v) => Enumerable.Range(0, 3).Select(r =>
        {
            double nu = Math.Max(Norm(Row(u, r), 2), 1e-8), nv = Math.Max(Norm(Row(v, r), 2), 1e-8);
            return Row(u, r).Zip(Row(v, r), (p, q) => p / nu * (q / nv)).Sum();
        }).ToArray();
        Close(Cosine(a, b), Nn.CosineSimilarity(ta, tb).Eval().ToDoubleArray(), 1e-14, "cosine");
        var (ga, gb) = Diff.Grad((x, y) => Nn.CosineSimilarity(x, y).Sum())(ta, tb);
        Close(Gradient(v => Cosine(v, b).Sum(), a), ga.Eval().ToDoubleArray(), 1e-8, "cosine d/dx1");
        Close(Gradient(v => Cosine(a, v).Sum(), b), gb.Eval().ToDoubleArray(), 1e-8, "cosine d/dx2");
        // x2 of one row broadcasts against x1's three
        var broadcast = Nn.CosineSimilarity(ta, Tensor.FromArray(Row(b, 0), 1, 4)).Eval().ToDoubleArray();
        Close(Cosine(a, [.. Row(b, 0), .. Row(b, 0), .. Row(b, 0)]), broadcast, 1e-14, "cosine broadcast");

        // F.pairwise_distance(x1, x2, p, eps=1e-6): ‖x1 − x2 + eps‖_p along the last axis
        double[] Distance(double[] u, double[] v, double p) =>
            Enumerable.Range(0, 3).Select(r => Norm(Row(u, r).Zip(Row(v, r), (s, t) => s - t + 1e-6), p)).ToArray();
        Close(Distance(a, b, 2), Nn.PairwiseDistance(ta, tb).Eval().ToDoubleArray(), 1e-14, "pairwise p=2");
        Close(Distance(a, b, 1), Nn.PairwiseDistance(ta, tb, p: 1).Eval().ToDoubleArray(), 1e-14, "pairwise p=1");
        Assert.Equal(new[] { 3, 1 }, Nn.PairwiseDistance(ta, tb, keepDims: true).Shape);
        Close(Gradient(v => Distance(v, b, 2).Sum(), a), Diff.Grad(x => Nn.PairwiseDistance(x, tb).Sum())(ta).Eval().ToDoubleArray(), 1e-8, "pairwise gradient");
        // equal rows are eps·√n apart, with a finite gradient
        Close(1e-6 * 2, Nn.PairwiseDistance(Tensor.Ones(1, 4), Tensor.Ones(1, 4)).Eval().ToScalar(), 1e-12, "equal rows");
        Assert.All(Diff.Grad(x => Nn.PairwiseDistance(x, Tensor.Ones(1, 4)).Sum())(Tensor.Ones(1, 4)).Eval().ToDoubleArray(), g => Assert.True(double.IsFinite(g)));

        var error = Assert.ThrowsAny<ArgumentException>(() => Nn.CosineSimilarity(ta, Tensor.Ones(2, 4)));
        Assert.Contains("CosineSimilarity", error.Message);
        Assert.Contains("[3,4]", error.Message);
        Assert.Contains("[2,4]", error.Message);
    }
}
