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
        var bad = Array.FindIndex(targets, t => t < 0 || t >= classes);
        if (logits.Rank == 2 && bad >= 0)
            throw new ArgumentOutOfRangeException(nameof(targets), targets[bad], $"CrossEntropy: target {bad} is {targets[bad]}, outside the {classes} classes of logits [{string.Join(",", logits.Shape)}]");
        var indices = CoreTensor.FromArray(targets.Select(t => (double)t).ToArray(), new[] { targets.Length }).Cast(logits.Node.DType);
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
