using FunctionalDiff.Core;
using Build = FunctionalDiff.Core.ExprModule;

namespace FunctionalDiff;

// Reductions. Axes may be negative (counting from the end); keepDims leaves each reduced axis as
// size 1. Max and Min share the derivative evenly among tied entries, as torch's amax/amin.
public sealed partial class Expr
{
    int[] AllAxes => Enumerable.Range(0, Rank).ToArray();

    Expr Reduce(ReduceOp op, int[] axes, bool keepDims)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(Build.reduce(op, axes, keepDims, Node));
    }

    /// <summary>The sum of all elements, rank 0.</summary>
    public Expr Sum() => Reduce(ReduceOp.Sum, AllAxes, false);
    /// <summary>The sum along one axis.</summary>
    public Expr Sum(int axis, bool keepDims = false) => Reduce(ReduceOp.Sum, new[] { axis }, keepDims);
    /// <summary>The sum over several axes.</summary>
    public Expr Sum(int[] axes, bool keepDims = false) => Reduce(ReduceOp.Sum, axes, keepDims);

    /// <summary>The mean of all elements, rank 0.</summary>
    public Expr Mean() => Mean(AllAxes, false);
    /// <summary>The mean along one axis.</summary>
    public Expr Mean(int axis, bool keepDims = false) => Mean(new[] { axis }, keepDims);
    /// <summary>The mean over several axes.</summary>
    // The reduce_mean primitive (one node with its own rule), rather than the core's sum/count
    // spelling: the graph stays smaller and the primitive is exercised from C#.
    public Expr Mean(int[] axes, bool keepDims = false) => Reduce(ReduceOp.Mean, axes, keepDims);

    /// <summary>The largest element, rank 0.</summary>
    public Expr Max() => Reduce(ReduceOp.Max, AllAxes, false);
    /// <summary>The largest elements along one axis (torch's amax).</summary>
    public Expr Max(int axis, bool keepDims = false) => Reduce(ReduceOp.Max, new[] { axis }, keepDims);
    /// <summary>The largest elements over several axes (torch's amax).</summary>
    public Expr Max(int[] axes, bool keepDims = false) => Reduce(ReduceOp.Max, axes, keepDims);

    /// <summary>The smallest element, rank 0.</summary>
    public Expr Min() => Reduce(ReduceOp.Min, AllAxes, false);
    /// <summary>The smallest elements along one axis (torch's amin).</summary>
    public Expr Min(int axis, bool keepDims = false) => Reduce(ReduceOp.Min, new[] { axis }, keepDims);
    /// <summary>The smallest elements over several axes (torch's amin).</summary>
    public Expr Min(int[] axes, bool keepDims = false) => Reduce(ReduceOp.Min, axes, keepDims);

    /// <summary>The product of all elements, rank 0.</summary>
    public Expr Prod() => Reduce(ReduceOp.Prod, AllAxes, false);
    /// <summary>The product along one axis.</summary>
    public Expr Prod(int axis, bool keepDims = false) => Reduce(ReduceOp.Prod, new[] { axis }, keepDims);
    /// <summary>The product over several axes.</summary>
    public Expr Prod(int[] axes, bool keepDims = false) => Reduce(ReduceOp.Prod, axes, keepDims);

    /// <summary>The index of the largest entry along an axis (the first among ties), as a float
    /// tensor in this dtype; it has no derivative.</summary>
    public Expr ArgMax(int axis, bool keepDims = false) => Wrap(Build.argmax(axis, keepDims, Node));

    /// <summary>
    /// The index of the smallest entry along an axis (first on ties, a NaN before any number, as
    /// torch.argmin), as a float tensor in this dtype; like <see cref="ArgMax(int, bool)"/>, it has no gradient.
    /// </summary>
    public Expr ArgMin(int axis, bool keepDims = false) => Wrap(FunctionalDiff.Core.Structure.argmin(axis, keepDims, Node));

    /// <summary>The row-major flat index of the largest entry, rank 0, as torch's <c>argmax()</c> without a dim; no gradient.</summary>
    public Expr ArgMax() => Wrap(FunctionalDiff.Core.Structure.argmaxAll(Node));

    /// <summary>The row-major flat index of the smallest entry, rank 0, as torch's <c>argmin()</c> without a dim; no gradient.</summary>
    public Expr ArgMin() => Wrap(FunctionalDiff.Core.Structure.argminAll(Node));

    /// <summary>
    /// The largest entries along an axis and their positions, torch's <c>x.max(dim)</c> (<see cref="Max(int, bool)"/> is
    /// torch's amax, values only). The index is the first among ties, or that of the first NaN (as <see cref="ArgMax(int, bool)"/>).
    /// Values are the entries at the indices, so the derivative goes to that one entry, as torch's (amax shares it among
    /// ties); Indices are integers in this dtype and have no derivative.
    /// </summary>
    /// <param name="axis">The axis to reduce; negative counts from the end.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    /// <exception cref="ArgumentException">The axis is out of range or empty.</exception>
    public (Expr Values, Expr Indices) MaxWithIndices(int axis, bool keepDims = false)
    {
        var pair = FunctionalDiff.Core.Structure.maxWithIndices(axis, keepDims, Node);
        return (Wrap(pair.Item1), Wrap(pair.Item2));
    }

    /// <summary>
    /// The smallest entries along an axis and their positions, torch's <c>x.min(dim)</c>; ties, NaN and the derivative
    /// as <see cref="MaxWithIndices"/>.
    /// </summary>
    /// <param name="axis">The axis to reduce; negative counts from the end.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    /// <exception cref="ArgumentException">The axis is out of range or empty.</exception>
    public (Expr Values, Expr Indices) MinWithIndices(int axis, bool keepDims = false)
    {
        var pair = FunctionalDiff.Core.Structure.minWithIndices(axis, keepDims, Node);
        return (Wrap(pair.Item1), Wrap(pair.Item2));
    }

    /// <summary>
    /// The lower median of all elements, rank 0 (torch.median): for an even count the smaller of the two middle
    /// values. NaN if any element is NaN, as in torch. The derivative is shared evenly among the elements equal to the
    /// median (the NaN elements when it is NaN), as torch's; <see cref="Median(int, bool)"/> gives it to the element its
    /// index names instead.
    /// </summary>
    public Expr Median() => Wrap(FunctionalDiff.Core.Structure.medianAll(Node));

    /// <summary>
    /// The lower median along an axis and its position (torch.median with a dim). Values carry the derivative, to
    /// the entry picked; Indices are integer positions in this dtype and have none. A row holding NaN has the median
    /// NaN and the index of its first NaN, as in torch. Among equal values the entry picked is the one a stable sort
    /// puts in the middle (torch leaves it unspecified).
    /// </summary>
    /// <param name="axis">The axis to reduce.</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    public (Expr Values, Expr Indices) Median(int axis, bool keepDims = false)
    {
        var median = FunctionalDiff.Core.Structure.median(axis, keepDims, Node);
        return (Wrap(median.Item1), Wrap(median.Item2));
    }

    /// <summary>
    /// The k-th smallest entry along an axis and its position (torch.kthvalue(x, k, dim, keepdim)), k counted from 1.
    /// NaN counts as larger than every number, so a row's k-th entry is NaN only when it has fewer than k numbers. Values
    /// carry the derivative, to the entry picked; Indices are integer positions in this dtype and have none. Among equal
    /// values the entry picked is the one a stable sort puts k-th (torch leaves it unspecified). F#:
    /// <c>Structure.kthValue</c>.
    /// </summary>
    /// <param name="k">Which smallest, from 1 to the axis's length.</param>
    /// <param name="axis">The axis to reduce (torch's default: the last).</param>
    /// <param name="keepDims">Keep the reduced axis with length 1.</param>
    /// <exception cref="ArgumentException">k is outside 1 to the axis's length, or the axis does not exist.</exception>
    public (Expr Values, Expr Indices) KthValue(int k, int axis = -1, bool keepDims = false)
    {
        var picked = FunctionalDiff.Core.Structure.kthValue(k, axis, keepDims, Node);
        return (Wrap(picked.Item1), Wrap(picked.Item2));
    }
}
