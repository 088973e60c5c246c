using Build = FunctionalDiff.Core.ExprModule;
using CoreNn = FunctionalDiff.Core.Nn;
using CoreTensor = FunctionalDiff.Core.Tensor;

namespace FunctionalDiff;

/// <summary>Loss functions with torch's conventions, averaged over the batch.</summary>
public static partial class Loss
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
        var indices = Indices(logits, targets);
        return Expr.Wrap(CoreNn.crossEntropy(logits.Node, indices));
    }

    /// <summary>
    /// Cross-entropy as torch's cross_entropy with its <c>reduction</c>, <c>label_smoothing</c> and <c>ignore_index</c>:
    /// per example (1 − ε)·(−log p[target]) + ε·mean over the classes of (−log p), then the
    /// <paramref name="reduction"/> over the batch (<see cref="Reduction.None"/> gives shape [N]).
    /// </summary>
    /// <param name="logits">[N, C] scores.</param>
    /// <param name="targets">N class indices.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <param name="ignoreIndex">
    /// torch's ignore_index, given explicitly (torch's default −100 is not assumed): an example whose target is this
    /// index has loss 0 and no gradient, and the mean is over the examples kept (NaN when every one is ignored, as torch).
    /// </param>
    /// <param name="weight">
    /// torch's <c>weight</c>: one weight per class, [C] (null: none). Each example's loss is multiplied by its target's
    /// weight (the smoothing term by each class's), and the mean divides by the sum of the kept targets' weights, not by
    /// their count, as torch; for probability targets the mean divides by the batch size, as torch.
    /// </param>
    /// <exception cref="ArgumentException">The shapes do not fit, a target other than ignoreIndex is outside [0, C), the weight is not [C], or the smoothing is outside [0, 1].</exception>
    public static Expr CrossEntropy(Expr logits, int[] targets, Reduction reduction = Reduction.Mean, double labelSmoothing = 0, int? ignoreIndex = null, Expr? weight = null)
    {
        var indices = Indices(logits, targets);
        if (weight is not null) return WeightedClasses(nameof(CrossEntropy), logits, Expr.Wrap(indices), weight, reduction, labelSmoothing, ignoreIndex);
        if (ignoreIndex is int ignored) return Ignoring(logits, Expr.Wrap(indices), ignored, reduction, labelSmoothing);
        return Reduce(Expr.Wrap(CoreNn.crossEntropyPerExample(labelSmoothing, logits.Node, indices)), reduction);
    }

    static Expr Ignoring(Expr logits, Expr targets, int ignoreIndex, Reduction reduction, double labelSmoothing)
    {
        var result = CoreNn.crossEntropyIgnoring(labelSmoothing, ignoreIndex, logits.Node, targets.Node);
        var (perExample, kept) = (Expr.Wrap(result.Item1), Expr.Wrap(result.Item2));
        return reduction == Reduction.Mean ? MeanOverKept(perExample, kept) : Reduce(perExample, reduction, nameof(CrossEntropy));
    }

    /// <summary>
    /// Cross-entropy of logits [N, C] against targets given as an <see cref="Expr"/>, averaged over N, as
    /// torch's cross_entropy. The targets' shape says which of torch's two forms they are: class indices
    /// [N] (whole numbers in a float tensor, such as a batch of labels passed to a compiled step), or class
    /// probabilities of the logits' shape [N, C] (one-hot or soft labels), giving −Σ_c t_c·log p_c per
    /// example. Unbatched logits [C] take a rank-0 index or probabilities [C] and give a rank-0 loss,
    /// as torch (the per-example loss inside <see cref="Diff.Vmap(Func{Expr[], Expr}, int?[], int)"/>).
    /// The targets are cast to the logits' dtype.
    /// </summary>
    /// <remarks>
    /// An index outside [0, C) (or not a whole number) held in a constant (a <see cref="Tensor"/> of labels) is refused
    /// when the loss is built, as an <c>int[]</c> is; one computed in the graph or passed into a compiled step is found
    /// when the loss is evaluated: the exception then names Gather, the op that picks each row's entry.
    /// </remarks>
    /// <exception cref="ArgumentException">The shapes fit neither form, or a constant's index is outside [0, C).</exception>
    public static Expr CrossEntropy(Expr logits, Expr targets) => CrossEntropy(logits, targets, Reduction.Mean, 0);

    /// <summary>
    /// Cross-entropy against class indices [N] or class probabilities [N, C] given as an
    /// <see cref="Expr"/>, with torch's <c>reduction</c> and <c>label_smoothing</c> (for probabilities,
    /// torch's mix (1 − ε)·t + ε/C). <see cref="Reduction.None"/> gives shape [N].
    /// </summary>
    /// <param name="logits">[N, C] scores, [C] for one example, or torch's [N, C, d1, ..., dk] (a sequence model's
    /// <c>logits.Transpose(1, 2)</c>), where every position is an example and None gives [N, d1, ..., dk].</param>
    /// <param name="targets">Class indices [N] (rank 0 for one example; [N, d1, ..., dk] for the K-dimensional form) or class
    /// probabilities of the logits' shape.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="labelSmoothing">ε in [0, 1].</param>
    /// <param name="ignoreIndex">
    /// torch's ignore_index for class-index targets, given explicitly (torch's default −100 is not assumed): a target
    /// equal to it gives loss 0 and no gradient, and the mean is over the examples kept (NaN when every one is ignored,
    /// as torch). Probability targets have no index to ignore, as in torch.
    /// </param>
    /// <param name="weight">
    /// torch's <c>weight</c>: one weight per class, [C] (null: none). Each example's loss is multiplied by its target's
    /// weight (the smoothing term by each class's), and the mean divides by the sum of the kept targets' weights, not by
    /// their count, as torch; for probability targets the mean divides by the batch size, as torch.
    /// </param>
    /// <exception cref="ArgumentException">The shapes fit neither form, the weight is not [C], the smoothing is outside [0, 1],
    /// or class indices held in a constant (a <see cref="Tensor"/> of labels) include one outside the classes other than
    /// ignoreIndex (an <see cref="ArgumentOutOfRangeException"/>, as for an <c>int[]</c>).</exception>
    public static Expr CrossEntropy(Expr logits, Expr targets, Reduction reduction = Reduction.Mean, double labelSmoothing = 0, int? ignoreIndex = null, Expr? weight = null)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (logits.Rank >= 3)
            return Spatial("CrossEntropy", "logits", logits, targets, ignoreIndex, reduction, true, (l, t) => CrossEntropy(l, t, Reduction.None, labelSmoothing, ignoreIndex, weight),
                (l, t) => CrossEntropy(l, t, reduction, labelSmoothing, ignoreIndex, weight));
        if (weight is not null) return WeightedClasses(nameof(CrossEntropy), logits, targets, weight, reduction, labelSmoothing, ignoreIndex);
        if (ignoreIndex is int ignored) return Ignoring(logits, targets, ignored, reduction, labelSmoothing);
        return Reduce(Expr.Wrap(CoreNn.crossEntropyPerExampleOf(labelSmoothing, logits.Node, targets.Node)), reduction);
    }

    /// <summary>
    /// torch's K-dimensional form of cross_entropy and nll_loss: input [N, C, d1, ..., dk] against class indices
    /// [N, d1, ..., dk] (or, for cross-entropy, probabilities of the input's shape). The class axis is moved last and every
    /// position becomes an example of the [N, C] form, so Mean averages over all N·d1·…·dk positions (those kept, with an
    /// ignore index), as torch; None gives the loss per position, [N, d1, ..., dk]. Constant class indices are checked
    /// here, by the core's check the losses make, before the reshape hides them from it.
    /// </summary>
    static Expr Spatial(string name, string inputName, Expr input, Expr targets, int? ignoreIndex, Reduction reduction, bool probabilities,
        Func<Expr, Expr, Expr> unreduced, Func<Expr, Expr, Expr> reduced)
    {
        CoreNn.checkClassIndices(name, inputName, Option(ignoreIndex), input.Node, targets.Node);
        int classes = input.Shape[1];
        var positions = input.Shape.Where((_, i) => i != 1).ToArray();
        Expr rows = input.Movedim(1, -1).Reshape(-1, classes), flat;
        if (targets.Shape.SequenceEqual(positions)) flat = targets.Reshape(-1);
        else if (probabilities && targets.Shape.SequenceEqual(input.Shape)) flat = targets.Movedim(1, -1).Reshape(-1, classes);
        else
            throw new FunctionalDiff.Core.ShapeException(
                $"{name}: input [{string.Join(",", input.Shape)}] is torch's [N, C, d1, ...] form, which takes class indices " +
                $"[{string.Join(",", positions)}]{(probabilities ? " or probabilities of the input's shape" : "")}; got targets [{string.Join(",", targets.Shape)}]");
        return reduction == Reduction.None ? unreduced(rows, flat).Reshape(positions) : reduced(rows, flat);
    }

    /// <summary>
    /// torch's nll_loss: −input[i, targetᵢ] per example, then the <paramref name="reduction"/>, where
    /// <paramref name="input"/> holds log-probabilities [N, C] (<see cref="Expr.LogSoftmax"/>(1)'s output), so
    /// <c>NllLoss(logits.LogSoftmax(1), targets)</c> is <see cref="CrossEntropy(Expr, int[])"/> of the logits.
    /// </summary>
    /// <param name="input">Log-probabilities [N, C].</param>
    /// <param name="targets">N class indices.</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="ignoreIndex">
    /// torch's ignore_index, given explicitly: an example whose target is this index gives 0 and no gradient, and the
    /// mean is over the examples kept, as <see cref="CrossEntropy(Expr, int[], Reduction, double, int?, Expr?)"/>.
    /// </param>
    /// <param name="weight">torch's <c>weight</c>, one per class, [C] (null: none): each example's loss is multiplied by
    /// its target's weight, and the mean divides by the sum of the kept targets' weights, as torch.</param>
    /// <exception cref="ArgumentException">input is not [N, C] with N targets, a target other than ignoreIndex is outside [0, C), or the weight is not [C].</exception>
    public static Expr NllLoss(Expr input, int[] targets, Reduction reduction = Reduction.Mean, int? ignoreIndex = null, Expr? weight = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var indices = Indices(input, targets);
        if (weight is not null) return WeightedClasses(nameof(NllLoss), input, Expr.Wrap(indices), weight, reduction, 0, ignoreIndex);
        if (ignoreIndex is int ignored) return NllIgnoring(input, Expr.Wrap(indices), ignored, reduction);
        return Reduce(Expr.Wrap(CoreNn.nllLossPerExample(input.Node, indices)), reduction);
    }

    /// <summary>
    /// torch's nll_loss against class indices given as an <see cref="Expr"/>: [N] for input [N, C], or rank 0 for
    /// unbatched input [C]. An index outside [0, C) held in a constant (a <see cref="Tensor"/> of labels) is refused when the
    /// loss is built, as in the <c>int[]</c> overload; one computed in the graph or passed into a compiled step is found at
    /// evaluation, by the Gather that picks it.
    /// </summary>
    /// <param name="input">Log-probabilities [N, C], [C] for one example, or torch's [N, C, d1, ..., dk] (every position an example).</param>
    /// <param name="targets">Class indices [N], rank 0 for one example, or [N, d1, ..., dk].</param>
    /// <param name="reduction">Mean (torch's default), Sum or None.</param>
    /// <param name="ignoreIndex">torch's ignore_index, given explicitly, as in the <c>int[]</c> overload.</param>
    /// <param name="weight">torch's <c>weight</c>, one per class, [C] (null: none): each example's loss is multiplied by
    /// its target's weight, and the mean divides by the sum of the kept targets' weights, as torch.</param>
    /// <exception cref="ArgumentException">The shapes fit neither form, the weight is not [C], or a constant's index other
    /// than ignoreIndex is outside [0, C).</exception>
    public static Expr NllLoss(Expr input, Expr targets, Reduction reduction = Reduction.Mean, int? ignoreIndex = null, Expr? weight = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(targets);
        if (input.Rank >= 3)
            return Spatial("NllLoss", "input", input, targets, ignoreIndex, reduction, false, (l, t) => NllLoss(l, t, Reduction.None, ignoreIndex, weight),
                (l, t) => NllLoss(l, t, reduction, ignoreIndex, weight));
        if (weight is not null) return WeightedClasses(nameof(NllLoss), input, targets, weight, reduction, 0, ignoreIndex);
        if (ignoreIndex is int ignored) return NllIgnoring(input, targets, ignored, reduction);
        return Reduce(Expr.Wrap(CoreNn.nllLossPerExample(input.Node, targets.Node)), reduction);
    }

    /// <summary>torch's class-weighted cross_entropy or nll_loss: the weighted losses, and for Mean their sum over the
    /// kept targets' weights (F#: <c>Nn.crossEntropyWeighted</c>, <c>Nn.nllLossWeighted</c>).</summary>
    static Expr WeightedClasses(string method, Expr input, Expr targets, Expr weight, Reduction reduction, double labelSmoothing, int? ignoreIndex)
    {
        var ignored = Option(ignoreIndex);
        var result = method == nameof(NllLoss)
            ? CoreNn.nllLossWeighted(ignored, weight.Node, input.Node, targets.Node)
            : CoreNn.crossEntropyWeighted(labelSmoothing, ignored, weight.Node, input.Node, targets.Node);
        var (perExample, divisor) = (Expr.Wrap(result.Item1), Expr.Wrap(result.Item2));
        return reduction == Reduction.Mean ? perExample.Sum() / divisor : Reduce(perExample, reduction, method);
    }

    static Expr NllIgnoring(Expr input, Expr targets, int ignoreIndex, Reduction reduction)
    {
        var result = CoreNn.nllLossIgnoring(ignoreIndex, input.Node, targets.Node);
        var (perExample, kept) = (Expr.Wrap(result.Item1), Expr.Wrap(result.Item2));
        return reduction == Reduction.Mean ? MeanOverKept(perExample, kept) : Reduce(perExample, reduction, nameof(NllLoss));
    }

    /// <summary>
    /// torch's mean over the examples kept by ignore_index: Σ losses / kept, NaN (0/0) when every target is ignored, where
    /// the loss no longer depends on any input and its derivative is the zero map, as the mean over no entries. (Class
    /// weights of 0 are another matter: Σ 0·loss / 0 still reads the input, and its derivatives are NaN, as torch's.)
    /// The quotient's tangent Σ 0 / 0 would be NaN there (the reverse pass masks its g/0 after the division, forward mode
    /// meets it before): a selection of the held value keeps every derivative 0 (`fuzz latest adversarial 4/176`: the nll
    /// loss of a row whose only target is ignored, JVP NaN where torch's, and this loss's own gradient, are 0).
    /// </summary>
    static Expr MeanOverKept(Expr perExample, Expr kept)
    {
        var mean = perExample.Sum() / kept;
        return Expr.Where(kept.Ne(Expr.ZerosLike(kept)), mean, mean.StopGradient());
    }

    /// <summary>
    /// torch's binary_cross_entropy, from probabilities in [0, 1] (a sigmoid's output) rather than logits:
    /// −(t·log p + (1 − t)·log(1 − p)) element by element, each log clamped below at −100 as torch does, then the
    /// <paramref name="reduction"/>. <see cref="BinaryCrossEntropyWithLogits(Expr, Expr)"/> is the stable form
    /// when the logits are at hand.
    /// </summary>
    /// <remarks>
    /// torch's <c>weight</c> multiplies each element's loss and broadcasts against the targets (null: none); the mean
    /// then divides by the element count, not by the weights' sum, as torch.
    /// </remarks>
    /// <exception cref="ArgumentException">The shapes differ (losses do not broadcast), or the weight does not broadcast to them.</exception>
    public static Expr BinaryCrossEntropy(Expr probabilities, Expr targets, Reduction reduction = Reduction.Mean, Expr? weight = null)
    {
        var (p, t) = Expr.Align(probabilities, targets);
        return Reduce(Weighted("BinaryCrossEntropy", probabilities, Expr.Wrap(CoreNn.binaryCrossEntropyElements(p, t)), weight), reduction);
    }

    /// <summary>Element losses times a weight that broadcasts to them, checked under the loss's name.</summary>
    static Expr Weighted(string method, Expr like, Expr elements, Expr? weight)
    {
        if (weight is null) return elements;
        var w = Expr.Align(like, weight).B;
        if (!FunctionalDiff.Core.Shape.broadcastsTo(w.Shape, elements.Shape))
            throw new FunctionalDiff.Core.ShapeException(
                $"{method}: weight {FunctionalDiff.Core.Shape.format(w.Shape)} does not broadcast to the targets' shape {FunctionalDiff.Core.Shape.format(elements.Shape)}");
        return Expr.Wrap(Build.mul(elements.Node, Build.cast(elements.Node.DType, w)));
    }

    static Microsoft.FSharp.Core.FSharpOption<int> Option(int? value) =>
        value is int i ? Microsoft.FSharp.Core.FSharpOption<int>.Some(i) : Microsoft.FSharp.Core.FSharpOption<int>.None;

    /// <summary>The targets as a constant of the logits' dtype; the core's losses check them against the classes (an
    /// <see cref="ArgumentOutOfRangeException"/> naming the loss, the target's position and value, and the input's shape).</summary>
    static FunctionalDiff.Core.Expr Indices(Expr logits, int[] targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        // a plain loop, not LINQ over ints: generic framework code that tiered compilation starts unoptimised, in a
        // call a training loop makes every step
        var values = new double[targets.Length];
        for (int i = 0; i < targets.Length; i++) values[i] = targets[i];
        return Build.constant(CoreTensor.FromArray(values, new[] { targets.Length }).Cast(logits.Node.DType));
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

    /// <summary>Binary cross-entropy from logits with torch's <c>reduction</c> (<see cref="Reduction.None"/> keeps the shape).</summary>
    /// <exception cref="ArgumentException">The shapes of logits and targets differ (losses do not broadcast).</exception>
    public static Expr BinaryCrossEntropyWithLogits(Expr logits, Expr targets, Reduction reduction)
    {
        var (x, t) = Expr.Align(logits, targets);
        return Reduce(Expr.Wrap(CoreNn.binaryCrossEntropyWithLogitsElements(x, t)), reduction);
    }

    /// <summary>
    /// torch's binary_cross_entropy_with_logits with its <c>weight</c> and <c>pos_weight</c>:
    /// w·((1 − t)·x + (1 + (pw − 1)·t)·softplus(−x)) element by element, which is −w·(pw·t·log σ(x) + (1 − t)·log(1 − σ(x)))
    /// computed stably, then the <paramref name="reduction"/>. <paramref name="weight"/> (a rescaling per element)
    /// and <paramref name="posWeight"/> (the weight of positive targets, one per class along the last axis) broadcast
    /// against the targets; null leaves either out.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes of logits and targets differ, or a weight does not broadcast to them.</exception>
    public static Expr BinaryCrossEntropyWithLogits(Expr logits, Expr targets, Reduction reduction = Reduction.Mean, Expr? weight = null, Expr? posWeight = null)
    {
        var (x, t) = Expr.Align(logits, targets);
        var elements = posWeight is null
            ? Expr.Wrap(CoreNn.binaryCrossEntropyWithLogitsElements(x, t))
            : Expr.Wrap(CoreNn.binaryCrossEntropyWithLogitsPositiveWeighted(Expr.Align(logits, posWeight).B, x, t));
        return Reduce(Weighted("BinaryCrossEntropyWithLogits", logits, elements, weight), reduction);
    }

    /// <summary>
    /// torch's gaussian_nll_loss: ½(log v + (input − target)²/v) element by element (+ ½ log 2π when <paramref name="full"/>),
    /// then the <paramref name="reduction"/>, with the variance v clamped below at <paramref name="eps"/> (torch's default 1e-6).
    /// <paramref name="variance"/> has the input's shape (one variance per element), or it with the last axis 1 or left out
    /// (one per row), or is a single number (rank 0, or a bare <c>double</c>) for every element, as torch's float var. As in torch, the clamp does not stop the variance's gradient: the loss is taken at max(v, eps) and
    /// its derivative in v passes the clamp unchanged. torch raises on a negative variance, which it finds at run time;
    /// here it is clamped as any variance below eps.
    /// </summary>
    /// <exception cref="ArgumentException">Input and target differ in shape, the variance has none of the shapes above, or eps is negative.</exception>
    public static Expr GaussianNllLoss(Expr input, Expr target, Expr variance, bool full = false, double eps = 1e-6, Reduction reduction = Reduction.Mean)
    {
        var (x, t) = Expr.Align(input, target);
        var v = Expr.Align(input, variance).B;
        return Reduce(Expr.Wrap(CoreNn.gaussianNllLossElements(full, eps, x, t, v)), reduction);
    }

    /// <summary>
    /// torch's poisson_nll_loss: with <paramref name="logInput"/> (torch's default) the input is the log of the rate and each
    /// element is e^input − target·input; otherwise the input is the rate and each element is input − target·log(input + eps).
    /// <paramref name="full"/> adds Stirling's approximation of log(target!), target·log target − target + ½ log(2π·target),
    /// where target &gt; 1. Then the <paramref name="reduction"/>. The target's gradient is 0 where the approximation is
    /// masked, where torch's is NaN at a target of 0. Input and target broadcast together as torch's do (a rate [N, 1] against
    /// counts [N, K] gives [N, K] entries, averaged over all of them), unlike the other losses here, which need equal shapes.
    /// F#: <c>Functional.poissonNllLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes of input and target do not broadcast, or eps is negative.</exception>
    public static Expr PoissonNllLoss(Expr input, Expr target, bool logInput = true, bool full = false, double eps = 1e-8, Reduction reduction = Reduction.Mean)
    {
        var (x, t) = Expr.Align(input, target);
        return Reduce(Expr.Wrap(FunctionalDiff.Core.Functional.poissonNllLossElements(logInput, full, eps, x, t)), reduction);
    }

    /// <summary>
    /// torch's kl_div: KL(p ‖ q) terms p·(log p − log q) element by element, with <paramref name="input"/> holding log q (a
    /// LogSoftmax's output) and <paramref name="target"/> the probabilities p, or log p when <paramref name="logTarget"/>
    /// (torch's default is false; TorchSharp's <c>kl_div</c> defaults to true), then the <paramref name="reduction"/>.
    /// A target of 0 gives 0 (xlogy's convention). torch's <c>reduction='batchmean'</c>, the KL divergence proper, is
    /// <see cref="Reduction.BatchMean"/>: the sum divided by the input's first axis (the batch size); <see cref="Reduction.Mean"/>
    /// divides by the element count, as torch's 'mean' does.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes of input and target differ (losses do not broadcast).</exception>
    public static Expr KlDiv(Expr input, Expr target, Reduction reduction = Reduction.Mean, bool logTarget = false)
    {
        var (x, t) = Expr.Align(input, target);
        var elements = Expr.Wrap(FunctionalDiff.Core.Functional.klDivElements(logTarget, x, t));
        if (reduction != Reduction.BatchMean) return Reduce(elements, reduction);
        return input.Rank == 0 ? elements.Sum() : elements.Sum() / input.Shape[0];
    }

    /// <summary>
    /// torch's triplet_margin_loss: max(margin + d(anchor, positive) − d(anchor, negative), 0) per example, then the
    /// <paramref name="reduction"/>; d is <see cref="Nn.PairwiseDistance"/> with its p and eps (‖x − y + eps‖_p along the last
    /// axis, so an anchor equal to its positive has a finite gradient, as torch's), and with <paramref name="swap"/> the
    /// negative's distance is the smaller of d(anchor, negative) and d(positive, negative). torch's defaults: margin 1, p 2,
    /// eps 1e-6. The gradient passes where the hinge is exactly 0, as torch's clamp_min. F#: <c>Functional.tripletMarginLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The inputs differ in rank or do not broadcast.</exception>
    public static Expr TripletMarginLoss(Expr anchor, Expr positive, Expr negative, double margin = 1.0, double p = 2.0, double eps = 1e-6,
        bool swap = false, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(anchor);
        ArgumentNullException.ThrowIfNull(positive);
        ArgumentNullException.ThrowIfNull(negative);
        return Reduce(Expr.Wrap(FunctionalDiff.Core.Functional.tripletMarginLossElements(margin, p, eps, swap, anchor.Node, positive.Node, negative.Node)),
            reduction);
    }

    /// <summary>
    /// torch's cosine_embedding_loss: per row of <paramref name="input1"/> and <paramref name="input2"/> ([N, D], or [D] with a
    /// rank-0 target), 1 − cos where <paramref name="target"/> is 1 and max(cos − margin, 0) where it is −1, then the
    /// <paramref name="reduction"/>; cos is torch's x1·x2 / √((‖x1‖² + 1e-12)(‖x2‖² + 1e-12)). F#: <c>Functional.cosineEmbeddingLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The inputs do not broadcast, or the target does not have one entry per row.</exception>
    public static Expr CosineEmbeddingLoss(Expr input1, Expr input2, Expr target, double margin = 0.0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input1);
        ArgumentNullException.ThrowIfNull(input2);
        ArgumentNullException.ThrowIfNull(target);
        return Reduce(Expr.Wrap(FunctionalDiff.Core.Functional.cosineEmbeddingLossElements(margin, input1.Node, input2.Node, target.Node)), reduction);
    }

    /// <summary>
    /// torch's margin_ranking_loss: max(−target·(input1 − input2) + margin, 0) element by element (target 1 asks input1 to rank
    /// higher, −1 lower), the three broadcast together, then the <paramref name="reduction"/>. F#: <c>Functional.marginRankingLossElements</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public static Expr MarginRankingLoss(Expr input1, Expr input2, Expr target, double margin = 0.0, Reduction reduction = Reduction.Mean)
    {
        ArgumentNullException.ThrowIfNull(input1);
        ArgumentNullException.ThrowIfNull(input2);
        ArgumentNullException.ThrowIfNull(target);
        return Reduce(Expr.Wrap(FunctionalDiff.Core.Functional.marginRankingLossElements(margin, input1.Node, input2.Node, target.Node)), reduction);
    }

    /// <summary>Squared error with torch's <c>reduction</c> (<see cref="Reduction.None"/> keeps the shape).</summary>
    /// <exception cref="ArgumentException">The shapes differ (losses do not broadcast).</exception>
    public static Expr Mse(Expr prediction, Expr target, Reduction reduction)
    {
        var (p, t) = Expr.Align(prediction, target);
        return Reduce(Expr.Wrap(CoreNn.squaredErrors(p, t)), reduction);
    }

    /// <summary>Mean absolute error, torch's l1_loss: |prediction − target| then the <paramref name="reduction"/>; the slope at a zero error is 0.</summary>
    /// <exception cref="ArgumentException">The shapes differ (losses do not broadcast).</exception>
    public static Expr L1(Expr prediction, Expr target, Reduction reduction = Reduction.Mean)
    {
        var (p, t) = Expr.Align(prediction, target);
        return Reduce(Expr.Wrap(CoreNn.absoluteErrors(p, t)), reduction);
    }

    /// <summary>
    /// torch's huber_loss: ½d² where |d| &lt; <paramref name="delta"/>, else delta·(|d| − ½delta), with
    /// d = prediction − target, then the <paramref name="reduction"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ, or delta is not positive.</exception>
    public static Expr Huber(Expr prediction, Expr target, double delta = 1.0, Reduction reduction = Reduction.Mean)
    {
        var (p, t) = Expr.Align(prediction, target);
        return Reduce(Expr.Wrap(CoreNn.huberErrors(delta, p, t)), reduction);
    }

    /// <summary>
    /// torch's smooth_l1_loss: ½d²/<paramref name="beta"/> where |d| &lt; beta, else |d| − ½beta, then the
    /// <paramref name="reduction"/>; beta = 0 is <see cref="L1"/>. Huber with delta δ is δ times SmoothL1 with beta δ.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes differ, or beta is negative.</exception>
    public static Expr SmoothL1(Expr prediction, Expr target, double beta = 1.0, Reduction reduction = Reduction.Mean)
    {
        var (p, t) = Expr.Align(prediction, target);
        return Reduce(Expr.Wrap(CoreNn.smoothL1Errors(beta, p, t)), reduction);
    }

    // The caller's name goes into the error, so that it names the public loss a reduction was given to.
    static Expr Reduce(Expr elements, Reduction reduction, [System.Runtime.CompilerServices.CallerMemberName] string method = "") => reduction switch
    {
        Reduction.Mean => elements.Mean(),
        Reduction.Sum => elements.Sum(),
        Reduction.None => elements,
        // torch refuses 'batchmean' in every loss but kl_div
        Reduction.BatchMean => throw new ArgumentException(
            $"{method}: Reduction.BatchMean is torch's 'batchmean', which only KlDiv takes; use Reduction.Mean or Sum", "reduction"),
        _ => throw new ArgumentOutOfRangeException("reduction", reduction, $"{method}: unknown reduction"),
    };
}
