namespace FunctionalDiff;

/// <summary>How a loss combines its per-element values, as torch's <c>reduction</c> argument.</summary>
public enum Reduction
{
    /// <summary>The mean over every element (torch's default, 'mean').</summary>
    Mean,
    /// <summary>The sum over every element ('sum').</summary>
    Sum,
    /// <summary>No reduction: one value per element, or per example for cross-entropy ('none').</summary>
    None,
    /// <summary>
    /// torch's 'batchmean', which only <see cref="Loss.KlDiv(Expr, Expr, Reduction, bool)"/> takes: the sum divided by the batch size (the input's first
    /// axis; the sum itself for a rank-0 input), the KL divergence proper, where 'mean' divides by the element count.
    /// </summary>
    BatchMean,
}
