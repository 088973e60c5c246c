namespace FunctionalDiff;

// The tensor side of Expr.TorchViews.cs: the same shape rules, evaluated at once.
public sealed partial class Tensor
{
    /// <summary><paramref name="length"/> entries of the axis from <paramref name="start"/>, as <see cref="Expr.Narrow"/> (torch's <c>t.narrow</c>).</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the entries do not fit in it.</exception>
    public Tensor Narrow(int axis, int start, int length) => ((Expr)this).Narrow(axis, start, length).Eval();

    /// <summary>An axis moved to another position, as <see cref="Expr.Movedim"/> (torch's <c>t.movedim</c>).</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Tensor Movedim(int source, int destination) => ((Expr)this).Movedim(source, destination).Eval();

    /// <summary>An axis split into several, as <see cref="Expr.Unflatten"/> (torch's <c>t.unflatten</c>).</summary>
    /// <exception cref="ArgumentException">The sizes do not multiply to the axis's length.</exception>
    public Tensor Unflatten(int axis, params int[] sizes) => ((Expr)this).Unflatten(axis, sizes).Eval();

    /// <summary>Tiled along each axis, as <see cref="Expr.Tile"/> (torch's <c>t.tile</c>).</summary>
    /// <exception cref="ArgumentException">A repeat is negative.</exception>
    public Tensor Tile(params int[] repeats) => ((Expr)this).Tile(repeats).Eval();
}
