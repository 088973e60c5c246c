using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// <see cref="Loss.CtcLoss"/> beside the TorchSharp comparison in compare/: the sum over alignments written out for two
/// steps, its gradient against central differences, and the errors.
/// </summary>
public class CtcLossTests
{
    [Fact]
    public void TwoStepsSumTheThreeAlignmentsOfOneLabel()
    {
        // one sequence, 2 steps, classes {blank, a, b}, target "a": the alignments a a, _ a, a _
        var logits = T([2, 1, 3], 1);
        double Reference(double[] z)
        {
            double[] P(int t) { var e = z[(3 * t)..(3 * t + 3)].Select(Math.Exp).ToArray(); return e.Select(v => v / e.Sum()).ToArray(); }
            var (p0, p1) = (P(0), P(1));
            return -Math.Log(p0[1] * p1[1] + p0[0] * p1[1] + p0[1] * p1[0]);
        }
        Expr Ours(Expr x) => Loss.CtcLoss(x.LogSoftmax(-1), Tensor.FromArray([1.0], [1, 1]), [2], [1], reduction: Reduction.Sum);
        Close(Reference(logits.ToDoubleArray()), Ours(logits).Eval().ToScalar(), 1e-14, "loss");
        Close(Gradient(Reference, logits.ToDoubleArray()), Diff.Grad(Ours)(logits).Eval().ToDoubleArray(), 1e-9, "gradient");
    }

    [Fact]
    public void ErrorsNameTheOpAndTheShapes()
    {
        Expr lp = T([4, 2, 3], 1);
        Expr targets = Tensor.FromArray([1.0, 2, 2, 1], [2, 2]);
        Assert.Contains("log_probs [4,2]", Assert.ThrowsAny<ArgumentException>(() => Loss.CtcLoss(T([4, 2], 1), targets, [4, 4], [2, 2])).Message);
        Assert.Contains("one entry per sequence", Assert.ThrowsAny<ArgumentException>(() => Loss.CtcLoss(lp, targets, [4], [2, 2])).Message);
        Assert.Contains("inputLengths[1] = 5", Assert.ThrowsAny<ArgumentException>(() => Loss.CtcLoss(lp, targets, [4, 5], [2, 2])).Message);
        Assert.Contains("blank = 3", Assert.ThrowsAny<ArgumentException>(() => Loss.CtcLoss(lp, targets, [4, 4], [2, 2], blank: 3)).Message);
        Assert.Contains("targets[0, 0] = 0", Assert.ThrowsAny<ArgumentException>(() =>
            Loss.CtcLoss(lp, Tensor.FromArray([0.0, 2, 2, 1], [2, 2]), [4, 4], [2, 2])).Message);
        Assert.Contains("targetLengths[1] = 3", Assert.ThrowsAny<ArgumentException>(() => Loss.CtcLoss(lp, targets, [4, 4], [2, 3])).Message);
        Assert.Contains("add up to", Assert.ThrowsAny<ArgumentException>(() => Loss.CtcLoss(lp, Tensor.FromArray([1.0, 2, 1]), [4, 4], [2, 2])).Message);
    }
}
