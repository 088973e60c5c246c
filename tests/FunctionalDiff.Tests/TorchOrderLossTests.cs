using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The losses called positionally in TorchSharp's order (<c>cross_entropy(input, target, weight, ignore_index, reduction,
/// label_smoothing)</c>, <c>nll_loss(input, target, weight, reduction)</c>, <c>binary_cross_entropy(input, target, weight,
/// reduction)</c>, <c>binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weights)</c>,
/// <c>smooth_l1_loss(input, target, reduction, beta)</c>, <c>kl_div(input, target, log_target, reduction)</c>): each
/// against torch's formula written out over doubles, and against the named-argument call, which still binds.
/// </summary>
public class TorchOrderLossTests
{
    static readonly double[] Logits = Values(12, 3);
    static readonly int[] Targets = [2, 0, 3];
    static readonly double[] ClassWeight = [0.5, 2.0, 1.0, 3.0];

    static double[] LogSoftmaxRow(int row)
    {
        var l = Logits.Skip(4 * row).Take(4).ToArray();
        double m = l.Max(), s = Math.Log(l.Sum(v => Math.Exp(v - m))) + m;
        return l.Select(v => v - s).ToArray();
    }

    [Fact]
    public void CrossEntropyTakesTheClassWeightThirdAsTorchSharp()
    {
        var logits = Tensor.FromArray(Logits, 3, 4);
        var weight = Tensor.FromArray(ClassWeight);
        var labels = Tensor.FromArray(Targets.Select(t => (double)t).ToArray());
        double[] perExample = Enumerable.Range(0, 3).Select(i => -ClassWeight[Targets[i]] * LogSoftmaxRow(i)[Targets[i]]).ToArray();
        double mean = perExample.Sum() / Targets.Sum(t => ClassWeight[t]);

        Close(mean, Loss.CrossEntropy(logits, labels, weight).Eval().ToScalar(), 1e-14, "Expr targets, weight third");
        Close(mean, Loss.CrossEntropy(logits, Targets, weight).Eval().ToScalar(), 1e-14, "int[] targets, weight third");
        Close(perExample.Sum(), Loss.CrossEntropy(logits, labels, weight, null, Reduction.Sum).Eval().ToScalar(), 1e-14, "sum");
        Close(perExample, Loss.CrossEntropy(logits, Targets, weight, null, Reduction.None).Eval().ToDoubleArray(), 1e-14, "none");
        // ignore_index fourth: the ignored example (target 0) leaves the sum and the divisor
        Close((perExample[0] + perExample[2]) / (ClassWeight[2] + ClassWeight[3]),
            Loss.CrossEntropy(logits, labels, weight, 0).Eval().ToScalar(), 1e-14, "ignore index");
        // label smoothing sixth, and the same loss under the named arguments
        var named = Loss.CrossEntropy(logits, labels, weight: weight, labelSmoothing: 0.1, reduction: Reduction.Sum).Eval().ToScalar();
        Close(named, Loss.CrossEntropy(logits, labels, weight, null, Reduction.Sum, 0.1).Eval().ToScalar(), 1e-15, "smoothing");
        Close(Loss.CrossEntropy(logits, labels).Eval().ToScalar(), Loss.CrossEntropy(logits, labels, null).Eval().ToScalar(), 0, "no weight");
    }

    [Fact]
    public void NllLossAndTheBinaryCrossEntropiesTakeTheWeightThird()
    {
        var logProbabilities = Tensor.FromArray(Enumerable.Range(0, 3).SelectMany(LogSoftmaxRow).ToArray(), 3, 4);
        var weight = Tensor.FromArray(ClassWeight);
        double[] perExample = Enumerable.Range(0, 3).Select(i => -ClassWeight[Targets[i]] * LogSoftmaxRow(i)[Targets[i]]).ToArray();
        Close(perExample.Sum(), Loss.NllLoss(logProbabilities, Targets, weight, Reduction.Sum).Eval().ToScalar(), 1e-14, "nll int[]");
        var labels = Tensor.FromArray(Targets.Select(t => (double)t).ToArray());
        Close(perExample.Sum() / Targets.Sum(t => ClassWeight[t]), Loss.NllLoss(logProbabilities, labels, weight).Eval().ToScalar(), 1e-14, "nll mean");

        double[] p = [0.2, 0.7, 0.9, 0.4], t = [0, 1, 1, 0], w = [1.5, 0.5, 2, 1], x = [-1.2, 0.3, 2.0, -0.4], pw = [3.0, 0.5, 1, 2];
        double Bce(int i) => -w[i] * (t[i] * Math.Log(p[i]) + (1 - t[i]) * Math.Log(1 - p[i]));
        Close(Enumerable.Range(0, 4).Sum(Bce), Loss.BinaryCrossEntropy(Tensor.FromArray(p), Tensor.FromArray(t), Tensor.FromArray(w), Reduction.Sum).Eval().ToScalar(), 1e-14, "bce");
        Close(Enumerable.Range(0, 4).Average(Bce), Loss.BinaryCrossEntropy(Tensor.FromArray(p), Tensor.FromArray(t), Tensor.FromArray(w)).Eval().ToScalar(), 1e-14, "bce mean");
        double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        double Logits(int i) => -w[i] * (pw[i] * t[i] * Math.Log(Sigmoid(x[i])) + (1 - t[i]) * Math.Log(1 - Sigmoid(x[i])));
        Close(Enumerable.Range(0, 4).Sum(Logits),
            Loss.BinaryCrossEntropyWithLogits(Tensor.FromArray(x), Tensor.FromArray(t), Tensor.FromArray(w), Reduction.Sum, Tensor.FromArray(pw)).Eval().ToScalar(), 1e-14, "bce logits");
    }

    [Fact]
    public void SmoothL1TakesTheReductionBeforeBetaAndKlDivTheLogTargetFlagFirst()
    {
        double[] a = [0.1, -0.9, 2.0, 0.3], b = [0.4, 0.2, -0.5, 0.35];
        double SmoothL1(double d, double beta) => Math.Abs(d) < beta ? 0.5 * d * d / beta : Math.Abs(d) - 0.5 * beta;
        Close(a.Zip(b, (u, v) => SmoothL1(u - v, 0.5)).Sum(), Loss.SmoothL1(Tensor.FromArray(a), Tensor.FromArray(b), Reduction.Sum, 0.5).Eval().ToScalar(), 1e-15, "beta 0.5");
        Close(a.Zip(b, (u, v) => SmoothL1(u - v, 1)).ToArray(), Loss.SmoothL1(Tensor.FromArray(a), Tensor.FromArray(b), Reduction.None).Eval().ToDoubleArray(), 1e-15, "beta 1");
        // the overloads that existed still bind as before: beta third, or named
        Close(a.Zip(b, (u, v) => SmoothL1(u - v, 0.5)).Average(), Loss.SmoothL1(Tensor.FromArray(a), Tensor.FromArray(b), 0.5).Eval().ToScalar(), 1e-15, "beta third");

        double[] logq = [-1.2, -0.4, -2.0], target = [0.2, 0.5, 0.3];
        Close(target.Zip(logq, (pv, lq) => pv * (Math.Log(pv) - lq)).Sum(),
            Loss.KlDiv(Tensor.FromArray(logq), Tensor.FromArray(target), false, Reduction.Sum).Eval().ToScalar(), 1e-15, "kl");
        Close(target.Zip(logq, (lp, lq) => Math.Exp(lp) * (lp - lq)).Average(),
            Loss.KlDiv(Tensor.FromArray(logq), Tensor.FromArray(target), true).Eval().ToScalar(), 1e-15, "kl log target");
    }
}
