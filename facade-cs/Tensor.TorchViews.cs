namespace FunctionalDiff;

// The tensor side of Expr.TorchViews.cs: the same shape rules (checked by the Expr methods, whose errors name the
// method and the shapes), as views where the data need not move.
public sealed partial class Tensor
{
    /// <summary><paramref name="length"/> entries of the axis from <paramref name="start"/>, as <see cref="Expr.Narrow"/> (torch's <c>t.narrow</c>). A view.</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the entries do not fit in it.</exception>
    public Tensor Narrow(int axis, int start, int length)
    {
        _ = ((Expr)this).Narrow(axis, start, length);
        int a = axis < 0 ? axis + Rank : axis;
        int s = start < 0 ? start + Shape[a] : start;
        return Slice(a, s, s + length);
    }

    /// <summary>Entry <paramref name="index"/> of the axis with the axis dropped, as <see cref="Expr.Select"/> (torch's
    /// <c>t.select(dim, index)</c>, <c>t[:, i]</c>; the indexer <c>t[.., i]</c> is the same for axis 1).</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the index is not one along it.</exception>
    public Tensor Select(int axis, int index)
    {
        var shape = ((Expr)this).Select(axis, index).Shape;
        int a = axis < 0 ? axis + Rank : axis;
        int k = index < 0 ? index + Shape[a] : index;
        return Slice(a, k, k + 1).Reshape(shape);
    }

    /// <summary>torch's <c>torch.meshgrid(*tensors, indexing=...)</c>, computed now, as <see cref="Expr.Meshgrid"/>: a
    /// collocation grid of points from its axes.</summary>
    /// <exception cref="ArgumentException">An input has rank 2 or more, there are none, or the indexing is neither "ij" nor "xy".</exception>
    public static Tensor[] Meshgrid(Tensor[] tensors, string indexing = "ij")
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        return Expr.EvalMany(Expr.Meshgrid(tensors.Select(t => (Expr)t).ToArray(), indexing));
    }

    /// <summary>An axis moved to another position, as <see cref="Expr.Movedim"/> (torch's <c>t.movedim</c>). A view.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Tensor Movedim(int source, int destination)
    {
        _ = ((Expr)this).Movedim(source, destination);
        int s = source < 0 ? source + Rank : source;
        int d = destination < 0 ? destination + Rank : destination;
        var order = Enumerable.Range(0, Rank).Where(i => i != s).ToList();
        order.Insert(d, s);
        return Transpose(order.ToArray());
    }

    /// <summary>Every window of <paramref name="size"/> entries along an axis, <paramref name="step"/> apart, as
    /// <see cref="Expr.Unfold(int, int, int)"/> (torch's <c>t.unfold(dimension, size, step)</c>), computed now.</summary>
    /// <exception cref="ArgumentException">The axis is out of range, the size is negative or longer than the axis, or the
    /// step is not positive.</exception>
    public Tensor Unfold(int dimension, int size, int step) =>
        EagerPlans.Run($"Unfold {dimension} {size} {step}", a => a[0].Unfold(dimension, size, step), this);

    /// <summary>An axis split into several, as <see cref="Expr.Unflatten"/> (torch's <c>t.unflatten</c>). A view when possible.</summary>
    /// <exception cref="ArgumentException">The sizes do not multiply to the axis's length.</exception>
    public Tensor Unflatten(int axis, params int[] sizes) => Reshape(((Expr)this).Unflatten(axis, sizes).Shape);

    /// <summary>torch.amax: the largest entries over the axes, as <see cref="Max(int[], bool)"/>.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Tensor Amax(int[] axes, bool keepDims = false) => Max(axes, keepDims);

    /// <summary>torch.amax over one axis, as <see cref="Max(int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Amax(int axis, bool keepDims = false) => Max(axis, keepDims);

    /// <summary>torch.amin: the smallest entries over the axes, as <see cref="Min(int[], bool)"/>.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Tensor Amin(int[] axes, bool keepDims = false) => Min(axes, keepDims);

    /// <summary>torch.amin over one axis, as <see cref="Min(int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Amin(int axis, bool keepDims = false) => Min(axis, keepDims);

    /// <summary>Tiled along each axis, as <see cref="Expr.Tile"/> (torch's <c>t.tile</c>).</summary>
    /// <exception cref="ArgumentException">A repeat is negative.</exception>
    public Tensor Tile(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return EagerPlans.Run($"Tile {string.Join(",", repeats)}", a => a[0].Tile(repeats), this);
    }
}
