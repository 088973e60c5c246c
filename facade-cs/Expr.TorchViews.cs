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
    /// The axis <paramref name="source"/> moved to position <paramref name="destination"/>, the others keeping their
    /// order, torch's <c>x.movedim(source, destination)</c>. F#: <c>Structure.movedim</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Movedim(int source, int destination) => Wrap(CoreStructure.movedim(source, destination, Node));

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
