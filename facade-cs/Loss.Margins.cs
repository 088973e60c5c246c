using CoreFunctional = FunctionalDiff.Core.Functional;
using Build = FunctionalDiff.Core.ExprModule;

namespace FunctionalDiff;

// The margin and soft-margin losses of torch.nn.functional that take labels: soft_margin_loss, hinge_embedding_loss,
// multilabel_soft_margin_loss and multi_margin_loss, with torch's defaults and reductions.
public static partial class Loss
{
    /// <summary>
    /// torch's soft_margin_loss: log(1 + exp(−target·input)) element by element (targets ±1), then the
    /// <paramref name="reduction"/>. Computed as softplus(−target·input), finite where torch's log1p(exp(·)) overflows.
    /// F#: <c>Functional.softMarginLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Expr SoftMarginLoss(Expr input, Expr target, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return Reduce(Expr.Wrap(CoreFunctional.softMarginLossElements(input.Node, target.Node)), reduction);
    }

    /// <summary>
    /// torch's hinge_embedding_loss: input where the target is 1 and max(0, margin − input) where it is −1, element by
    /// element, then the <paramref name="reduction"/>. F#: <c>Functional.hingeEmbeddingLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Expr HingeEmbeddingLoss(Expr input, Expr target, double margin = 1.0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        return Reduce(Expr.Wrap(CoreFunctional.hingeEmbeddingLossElements(margin, input.Node, target.Node)), reduction);
    }

    /// <summary>
    /// torch's multilabel_soft_margin_loss: per sample of input [N, C] (or [C]) with 0/1 targets of the same shape, the
    /// mean over classes of −(y·log σ(x) + (1 − y)·log σ(−x)), each class times <paramref name="weight"/> ([C]; none when
    /// null), then the <paramref name="reduction"/> over the samples. F#: <c>Functional.multilabelSoftMarginLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not [N, C] or [C], the target's shape differs, or the weight is not [C].</exception>
    public static Expr MultiLabelSoftMarginLoss(Expr input, Expr target, Expr? weight = null, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(target);
        var w = weight is null ? Build.scalar(input.Node.DType, 1.0) : Expr.Align(input, weight).B;
        return Reduce(Expr.Wrap(CoreFunctional.multilabelSoftMarginLossElements(w, input.Node, target.Node)), reduction);
    }

    /// <summary>
    /// torch's multi_margin_loss: per sample of input [N, C] (or [C]) with target class t, the sum over the other classes j
    /// of weight[t]·max(0, margin − x[t] + x[j])^p, over C, then the <paramref name="reduction"/> over the samples.
    /// <paramref name="p"/> is 1 or 2; <paramref name="weight"/> is [C] (none when null). F#: <c>Functional.multiMarginLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not [N, C] or [C], a target is not a class, p is not 1 or 2, or the weight is not [C].</exception>
    public static Expr MultiMarginLoss(Expr input, int[] targets, int p = 1, double margin = 1.0, Expr? weight = null, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(targets);
        var w = weight is null ? Build.scalar(input.Node.DType, 1.0) : Expr.Align(input, weight).B;
        return Reduce(Expr.Wrap(CoreFunctional.multiMarginLossElements(p, margin, w, input.Node, targets)), reduction);
    }

    /// <summary>
    /// torch's multilabel_margin_loss: each row of <paramref name="targets"/> ([N, C], as the input) lists the sample's
    /// classes up to the first −1; the sample's loss is Σ over listed t and unlisted j of max(0, 1 − x[t] + x[j]), over C,
    /// then the <paramref name="reduction"/>. F#: <c>Functional.multilabelMarginLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The targets' shape differs from the input's [N, C], or a listed class is out of range.</exception>
    public static Expr MultiLabelMarginLoss(Expr input, int[,] targets, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(targets);
        if (input.Rank != 2 || targets.GetLength(0) != input.Shape[0] || targets.GetLength(1) != input.Shape[1])
            throw new ArgumentException(
                $"MultiLabelMarginLoss: targets [{targets.GetLength(0)},{targets.GetLength(1)}] must have the shape of input [{string.Join(",", input.Shape)}]", nameof(targets));
        return Reduce(Expr.Wrap(CoreFunctional.multilabelMarginLossElements(input.Node, targets.Cast<int>().ToArray())), reduction);
    }

    /// <summary>
    /// torch's multilabel_margin_loss of one sample: <paramref name="input"/> [C] and its listed classes up to the first −1.
    /// </summary>
    /// <exception cref="ArgumentException">The targets' length differs from C, or a listed class is out of range.</exception>
    public static Expr MultiLabelMarginLoss(Expr input, int[] targets, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(targets);
        return Reduce(Expr.Wrap(CoreFunctional.multilabelMarginLossElements(input.Node, targets)), reduction);
    }

    /// <summary>
    /// torch's triplet_margin_with_distance_loss: max(margin + d(anchor, positive) − d(anchor, negative), 0) per example with
    /// the caller's <paramref name="distance"/> (<see cref="Nn.PairwiseDistance"/> by default, as torch's), and with
    /// <paramref name="swap"/> the negative's distance the smaller of d(anchor, negative) and d(positive, negative); then the
    /// <paramref name="reduction"/>. F#: <c>Functional.tripletMarginWithDistanceLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="margin"/> is not positive.</exception>
    public static Expr TripletMarginWithDistanceLoss(Expr anchor, Expr positive, Expr negative, Func<Expr, Expr, Expr>? distance = null,
        double margin = 1.0, bool swap = false, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(negative);
        var d = distance ?? ((a, b) => Nn.PairwiseDistance(a, b));
        return Reduce(Expr.Wrap(CoreFunctional.tripletMarginWithDistanceLossElements(
            (a, b) => (d(Expr.Wrap(a), Expr.Wrap(b)) ?? throw new InvalidOperationException("TripletMarginWithDistanceLoss: the distance function returned null")).Node, margin, swap, anchor.Node, positive.Node, negative.Node)), reduction);
    }
}
