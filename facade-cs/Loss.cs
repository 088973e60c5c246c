using Build = FunctionalDiff.Core.ExprModule;
using CoreNn = FunctionalDiff.Core.Nn;
using CoreTensor = FunctionalDiff.Core.Tensor;

namespace FunctionalDiff;

/// <summary>Loss functions with torch's conventions, averaged over the batch.</summary>
public static class Loss
{
    /// <summary>Mean squared error: mean((prediction − target)²), as torch's mse_loss.</summary>
    /// <exception cref="ArgumentException">
    /// The shapes differ. Losses do not broadcast: torch broadcasts a target of shape [3, 1] against a
    /// prediction of shape [3] into a 3×3 loss (with a warning), which is never what was meant.
    /// </exception>
    public static Expr Mse(Expr prediction, Expr target)
    {
        var (p, t) = Expr.Align(prediction, target);
        return Expr.Wrap(CoreNn.mse(p, t));
    }

    /// <summary>
    /// Cross-entropy of logits [N, C] against class indices [N], averaged over N, as torch's
    /// cross_entropy; computed through a stable log-softmax.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit, or a target is outside [0, C).</exception>
    public static Expr CrossEntropy(Expr logits, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        var classes = logits.Rank == 2 ? logits.Shape[1] : 0;
        // plain loops, not Array.FindIndex and LINQ over ints: generic framework code that tiered
        // compilation starts unoptimised, in a call a training loop makes every step
        var values = new double[targets.Length];
        for (int i = 0; i < targets.Length; i++)
        {
            if (logits.Rank == 2 && (targets[i] < 0 || targets[i] >= classes))
                throw new ArgumentOutOfRangeException(nameof(targets), targets[i], $"CrossEntropy: target {i} is {targets[i]}, outside the {classes} classes of logits [{string.Join(",", logits.Shape)}]");
            values[i] = targets[i];
        }
        var indices = CoreTensor.FromArray(values, new[] { targets.Length }).Cast(logits.Node.DType);
        return Expr.Wrap(CoreNn.crossEntropy(logits.Node, Build.constant(indices)));
    }

    /// <summary>
    /// Binary cross-entropy from logits against targets in [0, 1], averaged over all elements,
    /// as torch's binary_cross_entropy_with_logits; stable for large logits.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes of logits and targets differ (losses do not broadcast).</exception>
    public static Expr BinaryCrossEntropyWithLogits(Expr logits, Expr targets)
    {
        var (x, t) = Expr.Align(logits, targets);
        return Expr.Wrap(CoreNn.binaryCrossEntropyWithLogits(x, t));
    }
}
