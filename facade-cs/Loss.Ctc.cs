using CoreCtc = FunctionalDiff.Core.Ctc;

namespace FunctionalDiff;

// F.ctc_loss: the alpha recursion over the targets with blanks, one Expr.Scan over time.
public static partial class Loss
{
    /// <summary>
    /// torch's <c>F.ctc_loss(log_probs, targets, input_lengths, target_lengths, blank, reduction, zero_infinity)</c>:
    /// for each sequence, −log of the probability summed over every alignment of its first <c>inputLengths[n]</c> steps
    /// that collapses (repeats merged, then blanks dropped) to its target. The recursion over the alignments (Graves et
    /// al.'s alpha, in log space) is one <see cref="Expr.Scan(Func{Expr[], Expr[], ValueTuple{Expr[], Expr[]}}, Expr[], Expr[])"/>
    /// over time, so the graph does not grow with T and every derivative of it is a loop too. F#:
    /// <c>Ctc.lossElements</c> (per sequence, before the reduction).
    /// </summary>
    /// <remarks>
    /// The gradient is the derivative of this function. Through <c>LogSoftmax</c> of logits, as torch's docs require, it
    /// is torch's. In <paramref name="logProbs"/> themselves torch's differs: its backward adds exp(log_probs) (the term
    /// that folds log_softmax's own derivative in, pytorch/pytorch#52241), so a loss differentiated at log-probabilities
    /// that are leaves agrees with torch's only after that term is subtracted.
    /// </remarks>
    /// <param name="logProbs">Log-probabilities [T, N, C] over C classes (a <c>LogSoftmax(-1)</c> of logits).</param>
    /// <param name="targets">[N, S] (sequence n's labels in its first <c>targetLengths[n]</c> entries) or every sequence's
    /// labels one after another, [Σ targetLengths]; whole numbers in the input's dtype, none of them the blank.</param>
    /// <param name="inputLengths">Each sequence's number of steps, at most T.</param>
    /// <param name="targetLengths">Each sequence's number of labels.</param>
    /// <param name="blank">The blank class (torch's default 0).</param>
    /// <param name="reduction">Mean (torch's default: each loss divided by its target length, at least 1, then the mean
    /// over the batch), Sum, or None ([N]).</param>
    /// <param name="zeroInfinity">Give 0 (and no gradient) for a sequence no alignment reaches, where the loss is +∞.</param>
    /// <exception cref="ArgumentException">The shapes or lengths do not fit, the blank is not a class, or a constant target
    /// is not a class other than the blank.</exception>
    public static Expr CtcLoss(Expr logProbs, Expr targets, int[] inputLengths, int[] targetLengths, int blank = 0,
        Reduction reduction = Reduction.Mean, bool zeroInfinity = false)
    {
        ArgumentNullException.ThrowIfNull(logProbs);
        ArgumentNullException.ThrowIfNull(targets);
        ArgumentNullException.ThrowIfNull(inputLengths);
        ArgumentNullException.ThrowIfNull(targetLengths);
        var elements = Expr.Wrap(CoreCtc.lossElements(blank, zeroInfinity, logProbs.Node, targets.Node, inputLengths, targetLengths));
        if (reduction != Reduction.Mean) return Reduce(elements, reduction);
        // torch's 'mean': each loss over its target length (at least 1), then the mean over the batch
        var divisors = Tensor.FromArray(targetLengths.Select(s => (double)Math.Max(s, 1)).ToArray()).Cast(logProbs.DType);
        return (elements / divisors).Mean();
    }
}
