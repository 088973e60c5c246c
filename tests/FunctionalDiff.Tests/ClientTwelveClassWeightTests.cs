using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch's class weights of <c>F.cross_entropy(logits, t, weight=w)</c> and <c>F.nll_loss(logp, t, weight=w)</c>, with
/// ignore_index, label smoothing, the three reductions, probability targets and the K-dimensional form, each against
/// torch's formulas written as loops over doubles (the mean divides by the kept targets' weights) and its central
/// differences.
/// </summary>
public class ClientTwelveClassWeightTests
{
    const int N = 5, K = 3;
    static readonly double[] W = [0.5, 2.0, 1.25];
    static readonly int[] Targets = [2, 0, 1, 1, 0];

    static double[] LogSoftmaxRow(double[] z, int row)
    {
        var r = z[(row * K)..((row + 1) * K)];
        double max = r.Max(), lse = max + Math.Log(r.Sum(v => Math.Exp(v - max)));
        return r.Select(v => v - lse).ToArray();
    }

    // torch: per example (1 − ε)·w[y]·(−log p[y]) + ε/C·Σ_c w_c·(−log p_c); mean over Σ w[y] of the kept rows
    static (double[] PerExample, double Divisor) Ref(double[] z, int[] targets, double smoothing, int? ignore)
    {
        var each = new double[targets.Length];
        double divisor = 0;
        for (int n = 0; n < targets.Length; n++)
        {
            if (targets[n] == ignore) continue;
            var logp = LogSoftmaxRow(z, n);
            int y = targets[n];
            each[n] = (1 - smoothing) * W[y] * -logp[y] + smoothing / K * Enumerable.Range(0, K).Sum(c => W[c] * -logp[c]);
            divisor += W[y];
        }
        return (each, divisor);
    }

    [Theory]
    [InlineData(0.0, false)]
    [InlineData(0.2, false)]
    [InlineData(0.0, true)]
    [InlineData(0.1, true)]
    public void WeightedCrossEntropyIsTorchsWeightedMean(double smoothing, bool ignoring)
    {
        int[] targets = ignoring ? [2, -100, 1, -100, 0] : Targets;
        int? ignore = ignoring ? -100 : null;
        var logits = T([N, K], 1);
        var w = Tensor.FromArray(W);
        double MeanRef(double[] z) { var (e, d) = Ref(z, targets, smoothing, ignore); return e.Sum() / d; }

        var mean = Loss.CrossEntropy(logits, targets, labelSmoothing: smoothing, ignoreIndex: ignore, weight: w);
        Close(MeanRef(logits.ToDoubleArray()), mean.Eval().ToScalar(), 1e-14, "mean");
        var sum = Loss.CrossEntropy(logits, targets, Reduction.Sum, smoothing, ignore, w);
        Close(Ref(logits.ToDoubleArray(), targets, smoothing, ignore).PerExample.Sum(), sum.Eval().ToScalar(), 1e-14, "sum");
        var none = Loss.CrossEntropy(logits, targets, Reduction.None, smoothing, ignore, w);
        Close(Ref(logits.ToDoubleArray(), targets, smoothing, ignore).PerExample, none.Eval().ToDoubleArray(), 1e-14, "none");

        // the same targets as an Expr of floats, as a compiled step receives labels
        var asExpr = Loss.CrossEntropy(logits, Tensor.FromArray(targets.Select(t => (double)t).ToArray()), labelSmoothing: smoothing, ignoreIndex: ignore, weight: w);
        Close(MeanRef(logits.ToDoubleArray()), asExpr.Eval().ToScalar(), 1e-14, "Expr targets");

        var g = Diff.Grad(l => Loss.CrossEntropy(l, targets, labelSmoothing: smoothing, ignoreIndex: ignore, weight: w))(logits).Eval();
        Close(Gradient(MeanRef, logits.ToDoubleArray()), g.ToDoubleArray(), 1e-7, "gradient");
    }

    [Fact]
    public void WeightedNllLossOfLogSoftmaxIsWeightedCrossEntropy()
    {
        var logits = T([N, K], 2);
        var w = Tensor.FromArray(W);
        var (each, divisor) = Ref(logits.ToDoubleArray(), Targets, 0, null);
        var nll = Loss.NllLoss(logits.LogSoftmax(1), Targets, weight: w).Eval().ToScalar();
        Close(each.Sum() / divisor, nll, 1e-14, "int[] targets");
        var nllExpr = Loss.NllLoss(((Expr)logits).LogSoftmax(1), Tensor.FromArray(Targets.Select(t => (double)t).ToArray()), Reduction.Sum, weight: w);
        Close(each.Sum(), nllExpr.Eval().ToScalar(), 1e-14, "Expr targets, sum");
    }

    [Fact]
    public void WeightedProbabilityTargetsDivideByTheBatchAsTorch()
    {
        // torch: −Σ_c w_c·t_c·log p_c per example, and the mean divides by N, not by weights
        var logits = T([N, K], 3);
        var soft = (T([N, K], 4).Exp()).Softmax(1);
        var (z, t) = (logits.ToDoubleArray(), soft.ToDoubleArray());
        double expected = Enumerable.Range(0, N).Sum(n =>
        {
            var logp = LogSoftmaxRow(z, n);
            return Enumerable.Range(0, K).Sum(c => -W[c] * t[n * K + c] * logp[c]);
        }) / N;
        Close(expected, Loss.CrossEntropy(logits, soft, weight: Tensor.FromArray(W)).Eval().ToScalar(), 1e-14, "mean");
    }

    [Fact]
    public void WeightedSequenceLossAveragesOverEveryKeptPosition()
    {
        // torch's [N, C, L] form: logits.transpose(1, 2) of a sequence model against labels [N, L]
        const int B = 2, L = 3;
        var logits = T([B, K, L], 5);
        double[] labels = [1, 0, -100, 2, 2, 1];
        var z = logits.ToDoubleArray();
        double weighted = 0, divisor = 0;
        for (int b = 0; b < B; b++)
            for (int l = 0; l < L; l++)
            {
                if (labels[b * L + l] == -100) continue;
                var row = Enumerable.Range(0, K).Select(c => z[(b * K + c) * L + l]).ToArray();
                int y = (int)labels[b * L + l];
                double max = row.Max(), lse = max + Math.Log(row.Sum(v => Math.Exp(v - max)));
                weighted += W[y] * (lse - row[y]);
                divisor += W[y];
            }
        var loss = Loss.CrossEntropy(logits, Tensor.FromArray(labels, B, L), ignoreIndex: -100, weight: Tensor.FromArray(W));
        Close(weighted / divisor, loss.Eval().ToScalar(), 1e-14, "mean over positions");
        Assert.Equal(new[] { B, L }, Loss.CrossEntropy(logits, Tensor.FromArray(labels, B, L), Reduction.None, ignoreIndex: -100, weight: Tensor.FromArray(W)).Shape);
    }

    [Fact]
    public void AWeightOfTheWrongLengthNamesTheMethodTheParameterAndTheShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(T([N, K], 1), Targets, weight: Tensor.FromArray([1.0, 2.0])));
        Assert.Contains("CrossEntropy", e.Message);
        Assert.Contains("weight [2]", e.Message);
        Assert.Contains("[5,3]", e.Message);
        var nll = Assert.ThrowsAny<ArgumentException>(() => Loss.NllLoss(T([N, K], 1), Targets, weight: Tensor.FromArray([1.0, 2.0, 3.0, 4.0])));
        Assert.Contains("NllLoss", nll.Message);
        Assert.Contains("weight [4]", nll.Message);
    }
}
