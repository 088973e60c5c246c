using Build = FunctionalDiff.Core.ExprModule;

namespace FunctionalDiff;

// Linear algebra and structural ops: they move or combine elements without computing new ones
// (matmul aside). Shape mistakes raise an ArgumentException naming the op and the shapes.
public sealed partial class Expr
{
    /// <summary>torch.matmul: dot product of vectors, matrix products, and broadcast batches of matrices.</summary>
    public Expr MatMul(Expr other) { var (a, b) = Align(this, other); return Wrap(Build.matmul(a, b)); }

    /// <summary>Swaps the last two axes (a matrix transpose; batched for rank above 2).</summary>
    public Expr Transpose() => Wrap(Build.transpose(Node));

    /// <summary>Reorders the axes: output axis i is input axis permutation[i] (torch's permute).</summary>
    public Expr Transpose(params int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        return Wrap(Interop.Named("Transpose", () => Build.permute(permutation, Node)));
    }

    /// <summary>The same elements in another shape; one dimension may be −1 to be inferred.</summary>
    public Expr Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Wrap(Build.reshape(shape, Node));
    }

    /// <summary>Broadcasts to a larger shape, NumPy-style (size-1 and missing leading axes repeat).</summary>
    public Expr BroadcastTo(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return Wrap(Build.broadcastTo(shape, Node));
    }

    /// <summary>Python-style slicing of one axis: start and stop may be negative and are clamped; step is positive.</summary>
    public Expr Slice(int axis, int start, int stop, int step = 1)
    {
        int a = FunctionalDiff.Core.Shape.normalizeAxis("Slice", Rank, axis);
        var starts = new int[Rank];
        var stops = Node.Shape;
        var steps = Enumerable.Repeat(1, Rank).ToArray();
        starts[a] = start;
        stops[a] = stop;
        steps[a] = step;
        return Wrap(Build.slice(starts, stops, steps, Node));
    }

    /// <summary>
    /// Zero padding: before[i] zeros ahead of axis i and after[i] behind it, one pair per axis (torch's F.pad lists
    /// pairs from the last axis backwards). A negative amount crops that many entries, as torch's F.pad; cropping
    /// more than an axis holds throws, naming Pad and the shapes.
    /// </summary>
    public Expr Pad(int[] before, int[] after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return Wrap(Build.pad(before, after, Node));
    }

    /// <summary>Reverses the order of elements along the axes (torch's flip).</summary>
    public Expr Flip(params int[] axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(Build.flip(axes, Node));
    }

    /// <summary>
    /// torch.gather: out[..i..] = this[..index[..i..]..] along the axis. The result has the index's
    /// shape; the index holds integer values (in a float tensor) and gets no derivative. As torch, a rank-0 index
    /// or tensor beside the other of rank 1 counts as rank 1.
    /// </summary>
    public Expr Gather(int axis, Expr index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return Wrap(Build.gather(axis, index.Node, Node));
    }

    /// <summary>
    /// torch's scatter_add into zeros: a tensor of the given shape with source[..i..] added at
    /// index[..i..] along the axis (repeated indices accumulate). The adjoint of <see cref="Gather"/>.
    /// </summary>
    public static Expr ScatterAdd(int axis, Expr index, Expr source, int[] shape)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(shape);
        return Wrap(Build.scatterAdd(axis, index.Node, source.Node, shape));
    }

    /// <summary>Joins the parts along an existing axis; the other dimensions must agree.</summary>
    public static Expr Concat(int axis, params Expr[] parts) => Wrap(Build.concat(axis, Align(parts, nameof(parts))));

    /// <summary>Stacks equal-shaped parts along a new axis.</summary>
    public static Expr Stack(int axis, params Expr[] parts) => Wrap(Build.stack(axis, Align(parts, nameof(parts))));
}
