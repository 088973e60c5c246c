using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The losses' reduction and label-smoothing forms against torch's documented definitions written
/// out here on doubles (log-softmax as x − max − log Σ exp(x − max)), and their gradients against
/// float64 finite differences.
/// </summary>
public class LossReductionTests
{
    static readonly double[] LogitValues = [0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.7, 3.0, -2.0, 0.4, 0.9, -0.1];
    static readonly int[] Targets = [2, 3, 0];

    /// <summary>torch: per example (1 − ε)·(−log p[y]) + (ε / C)·Σ_c (−log p[c]).</summary>
    static double[] CrossEntropyReference(double smoothing)
    {
        const int n = 3, c = 4;
        var losses = new double[n];
        for (int i = 0; i < n; i++)
        {
            var row = LogitValues.Skip(i * c).Take(c).ToArray();
            double max = row.Max(), logSum = Math.Log(row.Sum(v => Math.Exp(v - max))) + max;
            var logP = row.Select(v => v - logSum).ToArray();
            losses[i] = (1 - smoothing) * -logP[Targets[i]] + smoothing / c * logP.Sum(v => -v);
        }
        return losses;
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.1)]
    [InlineData(1.0)]
    public void CrossEntropyReductionsAndLabelSmoothingAreTorchs(double smoothing)
    {
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        var reference = CrossEntropyReference(smoothing);
        var none = Loss.CrossEntropy(logits, Targets, Reduction.None, smoothing).Eval();
        Assert.Equal([3], none.Shape);
        for (int i = 0; i < 3; i++) Assert.Equal(reference[i], none.ToDoubleArray()[i], 14);
        Assert.Equal(reference.Sum(), Loss.CrossEntropy(logits, Targets, Reduction.Sum, smoothing).Eval().ToScalar(), 14);
        Assert.Equal(reference.Average(), Loss.CrossEntropy(logits, Targets, labelSmoothing: smoothing).Eval().ToScalar(), 14);
        Assert.True(Diff.CheckGrad(x => Loss.CrossEntropy(x, Targets, Reduction.Sum, smoothing), logits).Passed);
    }

    [Fact]
    public void CrossEntropyWithoutSmoothingKeepsTheMeanForm()
    {
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        Assert.Equal(Loss.CrossEntropy(logits, Targets).Eval().ToScalar(), Loss.CrossEntropy(logits, Targets, Reduction.Mean).Eval().ToScalar(), 15);
        Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(logits, Targets, Reduction.Mean, 1.5));
        Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(logits, Targets, Reduction.Mean, -0.1));
    }

    [Fact]
    public void MseAndBinaryCrossEntropyReductionsAreTorchs()
    {
        double[] p = [0.5, -1.0, 2.0, 0.25, 3.0, -0.5], t = [1.0, 0.0, 0.2, 0.7, 1.0, 0.0];
        var prediction = Tensor.FromArray(p, 2, 3);
        var target = Tensor.FromArray(t, 2, 3);
        var squared = p.Select((v, i) => (v - t[i]) * (v - t[i])).ToArray();
        // torch: (1 − t)·x + log(1 + exp(−x)), stable for these small logits
        var bce = p.Select((x, i) => (1 - t[i]) * x + Math.Log(1 + Math.Exp(-x))).ToArray();
        var mseNone = Loss.Mse(prediction, target, Reduction.None).Eval();
        Assert.Equal([2, 3], mseNone.Shape);
        Assert.Equal(squared, mseNone.ToDoubleArray());
        Assert.Equal(squared.Sum(), Loss.Mse(prediction, target, Reduction.Sum).Eval().ToScalar(), 14);
        Assert.Equal(squared.Average(), Loss.Mse(prediction, target, Reduction.Mean).Eval().ToScalar(), 14);
        var bceNone = Loss.BinaryCrossEntropyWithLogits(prediction, target, Reduction.None).Eval();
        Assert.Equal([2, 3], bceNone.Shape);
        for (int i = 0; i < 6; i++) Assert.Equal(bce[i], bceNone.ToDoubleArray()[i], 14);
        Assert.Equal(bce.Sum(), Loss.BinaryCrossEntropyWithLogits(prediction, target, Reduction.Sum).Eval().ToScalar(), 14);
        Assert.True(Diff.CheckGrad(x => Loss.BinaryCrossEntropyWithLogits(x, target, Reduction.Sum), prediction).Passed);
        Assert.True(Diff.CheckGrad(x => Loss.Mse(x, target, Reduction.Sum), prediction).Passed);
    }
}
