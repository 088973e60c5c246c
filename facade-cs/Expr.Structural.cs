using Build = FunctionalDiff.Core.ExprModule;
using CoreStructure = FunctionalDiff.Core.Structure;

namespace FunctionalDiff;

// Linear algebra and structural ops: they move or combine elements without computing new ones
// (matmul aside). Shape mistakes raise an ArgumentException naming the op and the shapes.
public sealed partial class Expr
{
    /// <summary>torch.matmul: dot product of vectors, matrix products, and broadcast batches of matrices.</summary>
    public Expr MatMul(Expr other) { var (a, b) = Align(this, other); return Wrap(Build.matmul(a, b)); }

    /// <summary>Swaps the last two axes (a matrix transpose; batched for rank above 2, torch's <c>.mT</c>). <see cref="Tensor.Transpose()"/> reverses every axis instead; they agree on matrices.</summary>
    public Expr Transpose() => Wrap(Build.transpose(Node));

    /// <summary>
    /// Reorders the axes: output axis i is input axis permutation[i] (torch's permute, as <see cref="Permute"/>). Two
    /// numbers written out, <c>x.Transpose(1, 2)</c>, call <see cref="Transpose(int, int)"/> instead, torch's swap of two axes.
    /// </summary>
    public Expr Transpose(params int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        return Wrap(Interop.Named("Transpose", () => Build.permute(permutation, Node)));
    }

    /// <summary>
    /// Axes <paramref name="axis0"/> and <paramref name="axis1"/> swapped, torch's <c>x.transpose(dim0, dim1)</c> (negative
    /// axes count from the end, so <c>k.Transpose(-2, -1)</c> is attention's kᵀ). F#: <c>Expr.swapAxes</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Transpose(int axis0, int axis1) =>
        Wrap(Interop.Named("Transpose", () => Build.swapAxes(axis0, axis1, Node)));

    /// <summary>Reorders the axes: output axis i is input axis permutation[i], torch's <c>x.permute(*dims)</c>. F#: <c>Expr.permute</c>.</summary>
    /// <exception cref="ArgumentException">The axes are not a permutation of this rank's axes.</exception>
    public Expr Permute(params int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        return Wrap(Interop.Named("Permute", () => Build.permute(permutation, Node)));
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

    /// <summary>
    /// Row <paramref name="row"/> along axis 0 with that axis dropped, torch's <c>x[i]</c> (negative rows
    /// count from the end), as <see cref="Tensor.Row"/>. Expr has no indexer: <c>p =&gt; p[0]</c> in an
    /// untyped lambda must keep meaning an <c>Expr[]</c> for the overloads of <see cref="Diff"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The expression has rank 0, or the row is out of range.</exception>
    public Expr Row(int row) => Wrap(FunctionalDiff.Core.Structure.row(row, Node));

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

    /// <summary>
    /// torch's out-of-place <c>x.scatter_add(dim, index, src)</c>: this tensor with source[..i..] added at index[..i..]
    /// along the axis (repeated indices accumulate), <c>this + Expr.ScatterAdd(axis, index, source, Shape)</c>. The
    /// gradient reaches this tensor unchanged and the source as the gather of it; the index gets none.
    /// </summary>
    /// <param name="axis">The axis the index points along.</param>
    /// <param name="index">Integer positions (held in a float tensor) of source's shape, or one that fits inside it.</param>
    /// <param name="source">The values added.</param>
    /// <exception cref="ArgumentException">The index does not fit the source or this tensor along the other axes.</exception>
    public Expr ScatterAdd(int axis, Expr index, Expr source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        return this + ScatterAdd(axis, index, source, Shape);
    }

    /// <summary>
    /// The slices along an axis with the axis removed, torch.unbind: <c>x.Unbind(1)</c> of a [B, T, F] sequence gives T
    /// steps of [B, F].
    /// </summary>
    /// <param name="axis">The axis to take apart (negative counts from the end).</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr[] Unbind(int axis = 0)
    {
        var pieces = Split(1, axis);
        int a = axis < 0 ? axis + Rank : axis;
        var result = new Expr[pieces.Length];
        for (int i = 0; i < pieces.Length; i++) result[i] = pieces[i].Squeeze(a);
        return result;
    }

    /// <summary>Joins the parts along an existing axis; the other dimensions must agree.</summary>
    public static Expr Concat(int axis, params Expr[] parts) => Wrap(Build.concat(axis, Align(parts, nameof(parts))));

    /// <summary>Stacks equal-shaped parts along a new axis.</summary>
    public static Expr Stack(int axis, params Expr[] parts) => Wrap(Build.stack(axis, Align(parts, nameof(parts))));

    /// <summary>Joins the parts along an existing axis, in torch.cat's argument order: <c>Expr.Concat([a, b], axis: 1)</c>.</summary>
    public static Expr Concat(Expr[] parts, int axis = 0) => Concat(axis, parts);

    /// <summary>Stacks equal-shaped parts along a new axis, in torch.stack's argument order: <c>Expr.Stack([a, b], axis: 1)</c>.</summary>
    public static Expr Stack(Expr[] parts, int axis = 0) => Stack(axis, parts);

    // torch's structural conveniences (FunctionalDiff.Core.Structure): views, slices and concatenations, so they
    // differentiate to any order. Invalid axes or sizes throw an ArgumentException naming the method, axis and shape.

    /// <summary>Every axis of length 1 removed (torch.squeeze without a dim); a scalar stays a scalar.</summary>
    public Expr Squeeze() => Apply(CoreStructure.squeezeAll);

    /// <summary>
    /// The axis removed if its length is 1. As torch.squeeze(x, dim), an axis of another length is left as it is
    /// (no error); only an axis out of range throws.
    /// </summary>
    /// <param name="axis">The axis, negative counting from the end.</param>
    public Expr Squeeze(int axis) => Wrap(CoreStructure.squeeze(axis, Node));

    /// <summary>
    /// Each listed axis removed if its length is 1, the others left as they are (torch.squeeze with a tuple of dims,
    /// no error for a longer axis); a repeated axis counts once. Only an axis out of range throws.
    /// </summary>
    /// <param name="axes">The axes, negative counting from the end.</param>
    public Expr Squeeze(params int[] axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(CoreStructure.squeezeAxes(axes, Node));
    }

    /// <summary>A new axis of length 1 at <paramref name="axis"/> of the result (torch.unsqueeze); −1 appends one.</summary>
    /// <param name="axis">In [−(rank + 1), rank].</param>
    public Expr Unsqueeze(int axis) => Wrap(CoreStructure.unsqueeze(axis, Node));

    /// <summary>
    /// Axes <paramref name="startAxis"/> to <paramref name="endAxis"/>, both included, merged into one (torch.flatten);
    /// the defaults give a vector, and a scalar becomes a vector of one element.
    /// </summary>
    /// <param name="startAxis">The first axis merged, negative counting from the end.</param>
    /// <param name="endAxis">The last axis merged, not before startAxis.</param>
    public Expr Flatten(int startAxis = 0, int endAxis = -1) => Wrap(CoreStructure.flatten(startAxis, endAxis, Node));

    /// <summary>
    /// Pieces of <paramref name="size"/> along the axis, the last one shorter if the length is not a multiple
    /// (torch.split with an int).
    /// </summary>
    /// <param name="size">The length of each piece, positive.</param>
    /// <param name="axis">The axis to split.</param>
    public Expr[] Split(int size, int axis = 0) => Interop.Wrap(CoreStructure.split(size, axis, Node));

    /// <summary>Consecutive pieces of the given lengths along the axis (torch.split with a list); they must add up to its length.</summary>
    /// <param name="sizes">The lengths, non-negative.</param>
    /// <param name="axis">The axis to split.</param>
    public Expr[] Split(int[] sizes, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        return Interop.Wrap(CoreStructure.splitSizes(sizes, axis, Node));
    }

    /// <summary>
    /// At most <paramref name="chunks"/> pieces along the axis, each ceil(length / chunks) long but the last
    /// (torch.chunk): fewer may come back, e.g. a length of 5 in 4 chunks gives 2, 2 and 1.
    /// </summary>
    /// <param name="chunks">The number of pieces asked for, positive.</param>
    /// <param name="axis">The axis to split.</param>
    public Expr[] Chunk(int chunks, int axis = 0) => Interop.Wrap(CoreStructure.chunk(chunks, axis, Node));

    /// <summary>
    /// Entries shifted <paramref name="shift"/> places along the axis, those that fall off the end coming back at
    /// the front (torch.roll); a negative shift goes the other way.
    /// </summary>
    /// <param name="shift">The number of places, any integer.</param>
    /// <param name="axis">The axis to roll.</param>
    public Expr Roll(int shift, int axis) => Wrap(CoreStructure.roll(shift, axis, Node));

    /// <summary>torch.roll over several axes: shifts[i] places along axes[i].</summary>
    /// <param name="shifts">One shift per axis.</param>
    /// <param name="axes">The axes, as many as shifts.</param>
    public Expr Roll(int[] shifts, int[] axes)
    {
        ArgumentNullException.ThrowIfNull(shifts);
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(CoreStructure.rollAxes(shifts, axes, Node));
    }

    /// <summary>torch.roll without dims: the flattened entries rolled, then put back in this shape.</summary>
    /// <param name="shift">The number of places, any integer.</param>
    public Expr Roll(int shift) => Flatten().Roll(shift, 0).Reshape(Shape);
}
