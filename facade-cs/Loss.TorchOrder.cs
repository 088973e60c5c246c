using System.Runtime.CompilerServices;

namespace FunctionalDiff;

// TorchSharp's positional order for the losses whose parameters come in another order here: the class weight
// third in cross_entropy, nll_loss and the binary cross-entropies, the reduction before beta in smooth_l1_loss and
// log_target before the reduction in kl_div. Each overload forwards to the one in Loss.cs, so the two mean the same.
// Their priority is below the others', so a call that names its arguments (weight: w, reduction: ...) or passes
// only what both accept keeps binding to the overloads in Loss.cs; a positional call in TorchSharp's order fits only
// these.
public static partial class Loss
{
    /// <summary>
    /// TorchSharp's <c>functional.cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing)</c> in its
    /// positional order: the same loss as <see cref="CrossEntropy(Expr, Expr, Reduction, double, int?, Expr?)"/>.
    /// TorchSharp ignores target −100 by default; here an index is ignored only when <paramref name="ignoreIndex"/> is given.
    /// </summary>
    /// <param name="logits">[N, C] scores, [C], or [N, C, d1, ..., dk].</param>
    /// <param name="targets">Class indices or class probabilities, as in the other overloads.</param>
    /// <param name="weight">One weight per class, [C], or null for none.</param>
    /// <param name="ignoreIndex">torch's ignore_index (null: none).</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <exception cref="ArgumentException">As the other overloads.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr CrossEntropy(Expr logits, Expr targets, Expr? weight, int? ignoreIndex = null, Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
        => CrossEntropy(logits, targets, reduction, labelSmoothing, ignoreIndex, weight);

    /// <summary>TorchSharp's positional order for class indices as an <c>int[]</c>: the same loss as
    /// <see cref="CrossEntropy(Expr, int[], Reduction, double, int?, Expr?)"/>.</summary>
    /// <param name="logits">[N, C] scores.</param>
    /// <param name="targets">N class indices.</param>
    /// <param name="weight">One weight per class, [C], or null for none.</param>
    /// <param name="ignoreIndex">torch's ignore_index (null: none).</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <exception cref="ArgumentException">As the other overloads.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr CrossEntropy(Expr logits, int[] targets, Expr? weight, int? ignoreIndex = null, Reduction reduction = Reduction.Mean, double labelSmoothing = 0)
        => CrossEntropy(logits, targets, reduction, labelSmoothing, ignoreIndex, weight);

    /// <summary>TorchSharp's <c>functional.nll_loss(input, target, weight, reduction)</c> in its positional order: the same
    /// loss as <see cref="NllLoss(Expr, Expr, Reduction, int?, Expr?)"/>.</summary>
    /// <param name="input">Log-probabilities [N, C], [C], or [N, C, d1, ..., dk].</param>
    /// <param name="targets">Class indices.</param>
    /// <param name="weight">One weight per class, [C], or null for none.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <exception cref="ArgumentException">As the other overloads.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr NllLoss(Expr input, Expr targets, Expr? weight, Reduction reduction = Reduction.Mean)
        => NllLoss(input, targets, reduction, null, weight);

    /// <summary>TorchSharp's positional order for class indices as an <c>int[]</c>: the same loss as
    /// <see cref="NllLoss(Expr, int[], Reduction, int?, Expr?)"/>.</summary>
    /// <param name="input">Log-probabilities [N, C].</param>
    /// <param name="targets">N class indices.</param>
    /// <param name="weight">One weight per class, [C], or null for none.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <exception cref="ArgumentException">As the other overloads.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr NllLoss(Expr input, int[] targets, Expr? weight, Reduction reduction = Reduction.Mean)
        => NllLoss(input, targets, reduction, null, weight);

    /// <summary>TorchSharp's <c>functional.binary_cross_entropy(input, target, weight, reduction)</c> in its positional
    /// order: the same loss as <see cref="BinaryCrossEntropy(Expr, Expr, Reduction, Expr?)"/>.</summary>
    /// <param name="probabilities">Probabilities in [0, 1].</param>
    /// <param name="targets">Targets of the same shape.</param>
    /// <param name="weight">A weight per element that broadcasts to the targets, or null for none.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr BinaryCrossEntropy(Expr probabilities, Expr targets, Expr? weight, Reduction reduction = Reduction.Mean)
        => BinaryCrossEntropy(probabilities, targets, reduction, weight);

    /// <summary>TorchSharp's <c>functional.binary_cross_entropy_with_logits(input, target, weight, reduction, pos_weights)</c>
    /// in its positional order: the same loss as <see cref="BinaryCrossEntropyWithLogits(Expr, Expr, Reduction, Expr?, Expr?)"/>.</summary>
    /// <param name="logits">Scores.</param>
    /// <param name="targets">Targets in [0, 1] of the same shape.</param>
    /// <param name="weight">A weight per element that broadcasts to the targets, or null for none.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="posWeights">The weight of positive targets along the last axis, or null for none.</param>
    /// <exception cref="ArgumentException">As the other overloads.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr BinaryCrossEntropyWithLogits(Expr logits, Expr targets, Expr? weight, Reduction reduction = Reduction.Mean, Expr? posWeights = null)
        => BinaryCrossEntropyWithLogits(logits, targets, reduction, weight, posWeights);

    /// <summary>TorchSharp's <c>functional.smooth_l1_loss(input, target, reduction, beta)</c> in its positional order: the
    /// same loss as <see cref="SmoothL1(Expr, Expr, double, Reduction)"/>.</summary>
    /// <param name="prediction">Predictions.</param>
    /// <param name="target">Targets of the same shape.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="beta">Where the loss turns from quadratic to linear (torch's default 1).</param>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr SmoothL1(Expr prediction, Expr target, Reduction reduction, double beta = 1.0)
        => SmoothL1(prediction, target, beta, reduction);

    /// <summary>TorchSharp's <c>functional.kl_div(input, target, log_target, reduction)</c> in its positional order: the
    /// same loss as <see cref="KlDiv(Expr, Expr, Reduction, bool)"/>. TorchSharp's <c>log_target</c> defaults to true,
    /// torch's and ours to false, so this overload takes it explicitly.</summary>
    /// <param name="input">Log-probabilities log q.</param>
    /// <param name="target">Probabilities p, or log p when <paramref name="logTarget"/>.</param>
    /// <param name="logTarget">Whether the target holds log p.</param>
    /// <param name="reduction">Mean (torch's default), Sum, None or BatchMean.</param>
    /// <exception cref="ArgumentException">As the other overload.</exception>
    [OverloadResolutionPriority(-1)]
    public static Expr KlDiv(Expr input, Expr target, bool logTarget, Reduction reduction = Reduction.Mean)
        => KlDiv(input, target, reduction, logTarget);
}
