using Build = FunctionalDiff.Core.ExprModule;

namespace FunctionalDiff;

// Constant Exprs of a shape, as torch.zeros/ones/full and their _like forms give tensors: a broadcast
// scalar in the graph, never a materialised buffer, with no path to any input (so no derivative).
public sealed partial class Expr
{
    /// <summary>A constant of zeros (a broadcast scalar in the graph).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Expr Zeros(int[] shape, DType dtype = DType.Float64) => Full(shape, 0.0, dtype, "Zeros");

    /// <summary>A float64 constant of zeros with the dimensions listed, as torch.zeros(2, 3).</summary>
    public static Expr Zeros(params int[] shape) => Zeros(shape, DType.Float64);

    /// <summary>A constant of ones (a broadcast scalar in the graph).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Expr Ones(int[] shape, DType dtype = DType.Float64) => Full(shape, 1.0, dtype, "Ones");

    /// <summary>A float64 constant of ones with the dimensions listed, as torch.ones(2, 3).</summary>
    public static Expr Ones(params int[] shape) => Ones(shape, DType.Float64);

    /// <summary>A constant with every element equal to <paramref name="value"/> (torch.full).</summary>
    /// <exception cref="ArgumentException">A dimension is negative.</exception>
    public static Expr Full(int[] shape, double value, DType dtype = DType.Float64) => Full(shape, value, dtype, "Full");

    /// <summary>
    /// The n × n identity matrix as a constant, torch.eye(n) inside a traced function (a jitter or noise term
    /// <c>k + noise * Expr.Eye(n)</c>): the constant of <see cref="Tensor.Eye(int, DType)"/>, with no derivative. Like the
    /// other constants it is float64 unless <paramref name="dtype"/> says otherwise, and float32 meeting float64 gives
    /// float64, so a float32 model passes its dtype (<c>Expr.Eye(n, DType.Float32)</c>), where torch.eye takes torch's
    /// default float32.
    /// </summary>
    /// <exception cref="ArgumentException">n is negative.</exception>
    public static Expr Eye(int n, DType dtype = DType.Float64) => Eye(n, n, dtype);

    /// <summary>A rows × columns constant with ones on its main diagonal, torch.eye(n, m); see <see cref="Eye(int, DType)"/>.</summary>
    /// <exception cref="ArgumentException">rows or columns is negative.</exception>
    public static Expr Eye(int rows, int columns, DType dtype = DType.Float64) => Tensor.Eye(rows, columns, dtype);

    static Expr Full(int[] shape, double value, DType dtype, string method)
    {
        ArgumentNullException.ThrowIfNull(shape);
        var core = Interop.ToCore(dtype);
        return Interop.Named(method, () => Wrap(Build.full(core, shape, value)));
    }

    /// <summary>
    /// Zeros of <paramref name="like"/>'s shape and dtype (torch.zeros_like): a constant, so nothing differentiates
    /// through it even when <paramref name="like"/> depends on a transform's input.
    /// </summary>
    public static Expr ZerosLike(Expr like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Wrap(Build.zerosLike(like.Node));
    }

    /// <summary>Ones of <paramref name="like"/>'s shape and dtype (torch.ones_like), a constant as <see cref="ZerosLike"/>.</summary>
    public static Expr OnesLike(Expr like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Wrap(Build.onesLike(like.Node));
    }

    /// <summary>
    /// <paramref name="value"/> at every entry of <paramref name="like"/>'s shape and dtype (torch.full_like), a constant
    /// as <see cref="ZerosLike"/>; <c>Expr.FullLike(logits, double.NegativeInfinity)</c> starts a top-k mask. F#:
    /// <c>Build.full x.DType x.Dims value</c>.
    /// </summary>
    public static Expr FullLike(Expr like, double value)
    {
        ArgumentNullException.ThrowIfNull(like);
        return Wrap(Build.full(like.Node.DType, like.Node.Dims, value));
    }
}
