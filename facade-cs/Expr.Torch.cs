using CoreStructure = FunctionalDiff.Core.Structure;

namespace FunctionalDiff;

// torch's spellings a porting user reaches for first (x.T, x.mT, expand, repeat, masked_fill, clone), each a composite
// of views, broadcasts and where, so derivatives of every order follow. Tensor has the same members (Tensor.Torch.cs).
public sealed partial class Expr
{
    /// <summary>
    /// The axes in reverse order, torch's <c>x.T</c> and NumPy's <c>.T</c> (a matrix's transpose). Above rank 2 this differs
    /// from <see cref="Transpose()"/>, which swaps the last two axes (<see cref="MT"/>, torch's <c>x.mT</c>).
    /// F#: <c>Structure.reverseAxes</c>.
    /// </summary>
    public Expr T => Wrap(CoreStructure.reverseAxes(Node));

    /// <summary>The last two axes swapped, torch's <c>x.mT</c> (a batch of matrices transposed): the same as <see cref="Transpose()"/>.</summary>
    /// <exception cref="ArgumentException">The rank is below 2.</exception>
    public Expr MT => Rank < 2
        ? throw new FunctionalDiff.Core.ShapeException($"MT: the input {FunctionalDiff.Core.Shape.format(Node.Dims)} has rank {Rank}; mT swaps the last two of at least two axes")
        : Transpose();

    /// <summary>
    /// torch.cat's name and argument order, <c>Expr.Cat([a, b], 1)</c>: the parts joined along an existing axis, as
    /// <see cref="Concat(Expr[], int)"/>; the other dimensions must agree. F#: <c>Build.concat</c>.
    /// </summary>
    /// <param name="tensors">The parts to join, in order.</param>
    /// <param name="axis">The axis to join along (torch's <c>dim</c>; negative counts from the end).</param>
    /// <exception cref="ArgumentException">The shapes do not agree off the axis, or the axis is out of range.</exception>
    public static Expr Cat(Expr[] tensors, int axis = 0)
    {
        var parts = Align(tensors, nameof(tensors));
        return Interop.Named("Cat", () => Wrap(FunctionalDiff.Core.ExprModule.concat(axis, parts)));
    }

    /// <summary>
    /// The same values in <paramref name="dtype"/>, torch's <c>x.to(torch.float32)</c>: <see cref="Cast"/> (the derivative
    /// is cast back).
    /// </summary>
    /// <param name="dtype">The dtype of the result.</param>
    public Expr To(DType dtype) => Cast(dtype);

    /// <summary>
    /// Broadcast to <paramref name="sizes"/>, where −1 keeps this axis's length, as torch's <c>x.expand(*sizes)</c>: new axes
    /// go in front, and only axes of length 1 grow. F#: <c>Structure.expand</c>.
    /// </summary>
    /// <exception cref="ArgumentException">An axis that is not of length 1 would change, or −1 stands for a new axis.</exception>
    public Expr Expand(params int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        return Wrap(CoreStructure.expand(sizes, Node));
    }

    /// <summary>
    /// Tiled <paramref name="repeats"/>[i] times along each axis, as torch's <c>x.repeat(*repeats)</c> (not
    /// <c>repeat_interleave</c>): repeats may have more entries than the rank, which adds leading axes. The derivative sums
    /// over the copies. F#: <c>Structure.repeat</c>. (<see cref="Repeat(int, Func{Expr, Expr}, Expr)"/>, static, is a loop.)
    /// </summary>
    /// <exception cref="ArgumentException">Fewer repeats than axes, or a negative one.</exception>
    public Expr Repeat(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return Wrap(CoreStructure.repeat(repeats, Node));
    }

    /// <summary>
    /// <paramref name="value"/> where <paramref name="mask"/> is nonzero and this elsewhere, torch's
    /// <c>x.masked_fill(mask, value)</c>; the mask (0/1, as comparisons give) broadcasts to this shape. The derivative is
    /// zero where the value was filled in. F#: <c>Structure.maskedFill</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The mask does not broadcast to this shape.</exception>
    public Expr MaskedFill(Expr mask, double value)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return Wrap(CoreStructure.maskedFill(mask.Node, value, Node));
    }

    /// <summary>
    /// This expression itself, torch's <c>x.clone()</c>: an Expr is immutable, so nothing can change it and a copy would
    /// be the same node (the derivative passes through unchanged, as clone's).
    /// </summary>
    public Expr Clone() => this;
}
