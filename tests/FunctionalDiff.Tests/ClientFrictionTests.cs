using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// What a user coming from torch writes first and expects to work: class labels passed to a compiled
/// step as a batch, one-hot targets, comparisons with the number on the left, argmin, reductions over
/// several axes and optimizer steps from symbolic gradients. Each is checked against torch's definition
/// written out here on doubles, or against the spelling the library already had.
/// </summary>
public class ClientFrictionTests
{
    static readonly double[] LogitValues = [0.3, -1.2, 2.0, 0.5, 1.1, 0.0, -0.7, 3.0, -2.0, 0.4, 0.9, -0.1];
    static readonly int[] Labels = [2, 3, 0];

    /// <summary>torch: per example (1 − ε)·(−log p[y]) + (ε / C)·Σ_c (−log p[c]), log p a stable log-softmax.</summary>
    static double[] CrossEntropyReference(double[] logits, double[][] targetRows, double smoothing)
    {
        int c = targetRows[0].Length, n = targetRows.Length;
        var losses = new double[n];
        for (int i = 0; i < n; i++)
        {
            var row = logits.Skip(i * c).Take(c).ToArray();
            double max = row.Max(), logSum = Math.Log(row.Sum(v => Math.Exp(v - max))) + max;
            double loss = 0;
            // torch's soft-target form: −Σ_c ((1 − ε) t_c + ε / C) log p_c
            for (int k = 0; k < c; k++) loss -= ((1 - smoothing) * targetRows[i][k] + smoothing / c) * (row[k] - logSum);
            losses[i] = loss;
        }
        return losses;
    }

    static double[][] OneHotRows(int[] labels, int classes) =>
        labels.Select(y => Enumerable.Range(0, classes).Select(k => k == y ? 1.0 : 0.0).ToArray()).ToArray();

    [Theory]
    [InlineData(0.0)]
    [InlineData(0.2)]
    public void CrossEntropyTakesLabelsAsAnExprInEitherOfTorchsForms(double smoothing)
    {
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        var reference = CrossEntropyReference(LogitValues, OneHotRows(Labels, 4), smoothing);
        var indices = Tensor.FromArray(Labels.Select(y => (double)y).ToArray());
        var oneHot = Tensor.FromArray(OneHotRows(Labels, 4).SelectMany(r => r).ToArray(), 3, 4);
        foreach (var targets in new[] { indices, oneHot })
        {
            var none = Loss.CrossEntropy(logits, targets, Reduction.None, smoothing).Eval();
            Assert.Equal([3], none.Shape);
            TestSupport.Close(reference, none.ToDoubleArray(), 1e-14);
            Assert.Equal(reference.Sum(), Loss.CrossEntropy(logits, targets, Reduction.Sum, smoothing).Eval().ToScalar(), 13);
            Assert.Equal(reference.Average(), Loss.CrossEntropy(logits, targets, labelSmoothing: smoothing).Eval().ToScalar(), 13);
            Assert.True(Diff.CheckGrad(x => Loss.CrossEntropy(x, targets, Reduction.Sum, smoothing), logits).Passed);
        }
        if (smoothing == 0) Assert.Equal(reference.Average(), Loss.CrossEntropy(logits, indices).Eval().ToScalar(), 13);
    }

    [Fact]
    public void CrossEntropyWithSoftTargetsIsTorchsFormula()
    {
        double[][] soft = [[0.1, 0.2, 0.3, 0.4], [0.25, 0.25, 0.25, 0.25], [0.7, 0.0, 0.3, 0.0]];
        var logits = Tensor.FromArray(LogitValues, 3, 4);
        var targets = Tensor.FromArray(soft.SelectMany(r => r).ToArray(), 3, 4);
        var reference = CrossEntropyReference(LogitValues, soft, 0.1);
        TestSupport.Close(reference, Loss.CrossEntropy(logits, targets, Reduction.None, 0.1).Eval().ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void CompiledStepTakesEachBatchsLabelsAsAnInput()
    {
        // The labels change with the batch, so they must be an input of the plan, not a captured int[].
        var step = Diff.CompileValueAndGrad((p, batch) => Loss.CrossEntropy(batch[0].MatMul(p["w"]), batch[1]));
        var w = Tensor.FromArray([0.5, -0.2, 0.1, 0.3, -0.4, 0.2, 0.0, 0.6], 2, 4);
        var model = Parameters.Of(("w", w));
        double[] xValues = [1.0, 2.0, -0.5, 0.3, 0.7, -1.1];
        var x = Tensor.FromArray(xValues, 3, 2);
        foreach (var labels in new[] { Labels, new[] { 0, 0, 1 } })
        {
            var (loss, gradients) = step.Invoke(model, x, Tensor.FromArray(labels.Select(y => (double)y).ToArray()));
            double Reference(double[] wv)
            {
                var logits = new double[12];
                for (int i = 0; i < 3; i++)
                    for (int k = 0; k < 4; k++) logits[i * 4 + k] = xValues[i * 2] * wv[k] + xValues[i * 2 + 1] * wv[4 + k];
                return CrossEntropyReference(logits, OneHotRows(labels, 4), 0).Average();
            }
            Assert.Equal(Reference(w.ToDoubleArray()), loss.ToScalar(), 13);
            TestSupport.Close(TestSupport.Gradient(Reference, w.ToDoubleArray()), gradients["w"].ToDoubleArray());
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void CrossEntropyLabelsTakeTheLogitsDtypeAndBadShapesNameTheMethod()
    {
        var logits = Tensor.FromArray(LogitValues.Select(v => (float)v).ToArray(), 3, 4);
        Assert.Equal(DType.Float32, Loss.CrossEntropy(logits, Tensor.FromArray([2.0, 3.0, 0.0])).DType);
        var error = Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(logits, Tensor.Zeros([3, 5])));
        Assert.StartsWith("CrossEntropy", error.Message);
        Assert.Contains("[3,5]", error.Message);
        Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(logits, Tensor.Zeros([2])));
    }
}
