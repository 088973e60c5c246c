using CoreStructure = FunctionalDiff.Core.Structure;

namespace FunctionalDiff;

// More of torch's view spellings (narrow, movedim, unflatten, tile) and its names for the reductions that share the
// derivative among ties (amax, amin). Each is a slice, permutation, reshape or broadcast, so derivatives of every order
// follow. Tensor has the same members (Tensor.TorchViews.cs).
public sealed partial class Expr
{
    /// <summary>
    /// <paramref name="length"/> entries of <paramref name="axis"/> from <paramref name="start"/> (negative counts from
    /// the end), torch's <c>x.narrow(dim, start, length)</c>. F#: <c>Structure.narrow</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the entries do not fit in it.</exception>
    public Expr Narrow(int axis, int start, int length) => Wrap(CoreStructure.narrow(axis, start, length, Node));

    /// <summary>
    /// Entry <paramref name="index"/> of <paramref name="axis"/> with that axis dropped (negative counts from the end),
    /// torch's <c>x.select(dim, index)</c> and <c>x[:, i]</c>: a column of a gradient taken with respect to a network's
    /// inputs, <c>du.Select(1, 0)</c> for torch's <c>du[:, 0]</c> (Expr has no indexer). <see cref="Row"/> is axis 0.
    /// F#: <c>Structure.select</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the index is not one along it.</exception>
    public Expr Select(int axis, int index) => Wrap(CoreStructure.select(axis, index, Node));

    /// <summary>
    /// torch's <c>torch.meshgrid(*tensors, indexing=...)</c>: a grid with one axis per input, of the inputs' lengths, and
    /// one output per input, that input broadcast along its own axis. <c>"ij"</c> (torch's default) gives x [n] and t [m]
    /// grids [n, m]; <c>"xy"</c> (NumPy's default) swaps the first two axes, [m, n]. A PINN's collocation grid:
    /// <c>var g = Expr.Meshgrid([x, t]);</c> then <c>Expr.Stack([g[0].Reshape(-1), g[1].Reshape(-1)], axis: 1)</c>.
    /// F#: <c>Structure.meshgrid</c>.
    /// </summary>
    /// <param name="tensors">Vectors (or scalars, one entry each).</param>
    /// <param name="indexing"><c>"ij"</c> or <c>"xy"</c>.</param>
    /// <exception cref="ArgumentException">An input has rank 2 or more, there are none, or the indexing is neither.</exception>
    public static Expr[] Meshgrid(Expr[] tensors, string indexing = "ij")
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        ArgumentNullException.ThrowIfNull(indexing);
        return Interop.Wrap(CoreStructure.meshgrid(indexing, tensors.Select(t => t.Node).ToArray()));
    }

    /// <summary>
    /// The axis <paramref name="source"/> moved to position <paramref name="destination"/>, the others keeping their
    /// order, torch's <c>x.movedim(source, destination)</c>. F#: <c>Structure.movedim</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Movedim(int source, int destination) => Wrap(CoreStructure.movedim(source, destination, Node));

    /// <summary>
    /// Every window of <paramref name="size"/> entries along <paramref name="dimension"/>, <paramref name="step"/> apart,
    /// torch's <c>x.unfold(dimension, size, step)</c> (a tensor method; <see cref="Nn.Unfold(Expr, int, int, int, int)"/>
    /// is F.unfold's im2col): the axis becomes the number of windows, (n − size) / step + 1, and each window's entries a
    /// new last axis. A ViT's patches of [B, C, H, W] images: <c>x.Unfold(2, p, p).Unfold(3, p, p)</c> is
    /// [B, C, H/p, W/p, p, p], then <c>.Permute(0, 2, 3, 1, 4, 5).Reshape(B, -1, C * p * p)</c>. Where windows overlap,
    /// an entry's gradient collects from every window holding it. F#: <c>Structure.unfold</c>.
    /// </summary>
    /// <param name="dimension">The axis to cut into windows (negative counts from the end).</param>
    /// <param name="size">The entries per window, at most the axis's length.</param>
    /// <param name="step">The distance between the starts of consecutive windows, positive.</param>
    /// <exception cref="ArgumentException">The axis is out of range, the size is negative or longer than the axis, or the
    /// step is not positive.</exception>
    public Expr Unfold(int dimension, int size, int step) => Wrap(CoreStructure.unfold(dimension, size, step, Node));

    /// <summary>
    /// <paramref name="axis"/> split into axes of <paramref name="sizes"/> (one may be −1, inferred), torch's
    /// <c>x.unflatten(dim, sizes)</c>. F#: <c>Structure.unflatten</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The sizes do not multiply to the axis's length.</exception>
    public Expr Unflatten(int axis, params int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        return Wrap(CoreStructure.unflatten(axis, sizes, Node));
    }

    /// <summary>
    /// Tiled <paramref name="repeats"/>[i] times along each axis, torch's <c>x.tile(reps)</c>: unlike
    /// <see cref="Repeat(int[])"/>, fewer repeats than axes leave the leading axes once. The derivative sums over the
    /// copies. F#: <c>Structure.tile</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A repeat is negative.</exception>
    public Expr Tile(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return Wrap(CoreStructure.tile(repeats, Node));
    }

    /// <summary>torch's <c>x.amax(dims, keepdim)</c>: <see cref="Max(int[], bool)"/>, the derivative shared evenly among ties.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Amax(int[] axes, bool keepDims = false) => Max(axes, keepDims);

    /// <summary>torch's <c>x.amax(dim, keepdim)</c> over one axis: <see cref="Max(int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr Amax(int axis, bool keepDims = false) => Max(axis, keepDims);

    /// <summary>torch's <c>x.amin(dims, keepdim)</c>: <see cref="Min(int[], bool)"/>, the derivative shared evenly among ties.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Amin(int[] axes, bool keepDims = false) => Min(axes, keepDims);

    /// <summary>torch's <c>x.amin(dim, keepdim)</c> over one axis: <see cref="Min(int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr Amin(int axis, bool keepDims = false) => Min(axis, keepDims);
}
