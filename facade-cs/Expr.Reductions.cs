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
    public Expr Mean(int[] axes, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(Build.meanAxes(axes, keepDims, Node));
    }

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
}
