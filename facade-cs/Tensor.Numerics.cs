using System.Globalization;

namespace FunctionalDiff;

// Expr.Numerics.cs's members on values, computed as the Expr versions are (a small graph, evaluated through a cached plan).
public sealed partial class Tensor
{
    static string Key(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    /// <summary>The n-th forward difference along <paramref name="axis"/>, as <see cref="Expr.Diff"/> (torch.diff).</summary>
    /// <exception cref="ArgumentException">A scalar, an axis out of range, or a prepend/append of another shape.</exception>
    public Tensor Diff(int n = 1, int axis = -1, Tensor? prepend = null, Tensor? append = null)
    {
        var inputs = new[] { this, prepend, append }.OfType<Tensor>().ToArray();
        return EagerPlans.Run(Key($"Diff {n} {axis} {prepend is not null} {append is not null}"), a =>
            a[0].Diff(n, axis, prepend is null ? null : a[1], append is null ? null : a[^1]), inputs);
    }

    /// <summary>The trapezoid rule along <paramref name="axis"/>, as <see cref="Expr.Trapezoid(double, int)"/> (torch.trapezoid).</summary>
    public Tensor Trapezoid(double dx = 1.0, int axis = -1) => EagerPlans.Run(Key($"Trapezoid {dx:R} {axis}"), a => a[0].Trapezoid(dx, axis), this);

    /// <summary>The trapezoid rule at the sample points <paramref name="x"/>, as <see cref="Expr.Trapezoid(Expr, int)"/>.</summary>
    public Tensor Trapezoid(Tensor x, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        return EagerPlans.Run(Key($"TrapezoidAt {axis}"), a => a[0].Trapezoid(a[1], axis), this, x);
    }

    /// <summary>The running trapezoid rule, as <see cref="Expr.CumulativeTrapezoid(double, int)"/> (torch.cumulative_trapezoid).</summary>
    public Tensor CumulativeTrapezoid(double dx = 1.0, int axis = -1) =>
        EagerPlans.Run(Key($"CumulativeTrapezoid {dx:R} {axis}"), a => a[0].CumulativeTrapezoid(dx, axis), this);

    /// <summary>The running trapezoid rule at the sample points <paramref name="x"/>, as <see cref="Expr.CumulativeTrapezoid(Expr, int)"/>.</summary>
    public Tensor CumulativeTrapezoid(Tensor x, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(x);
        return EagerPlans.Run(Key($"CumulativeTrapezoidAt {axis}"), a => a[0].CumulativeTrapezoid(a[1], axis), this, x);
    }

    /// <summary>The covariance of the rows, as <see cref="Expr.Cov"/> (torch.cov).</summary>
    public Tensor Cov(int correction = 1, Tensor? fweights = null, Tensor? aweights = null)
    {
        var inputs = new[] { this, fweights, aweights }.OfType<Tensor>().ToArray();
        return EagerPlans.Run(Key($"Cov {correction} {fweights is not null} {aweights is not null}"), a =>
            a[0].Cov(correction, fweights is null ? null : a[1], aweights is null ? null : a[^1]), inputs);
    }

    /// <summary>The Pearson correlation of the rows, as <see cref="Expr.Corrcoef"/> (torch.corrcoef).</summary>
    public Tensor Corrcoef() => EagerPlans.Run("Corrcoef", a => a[0].Corrcoef(), this);

    /// <summary>The slices along <paramref name="axis"/> scaled to a p-norm of at most <paramref name="maxNorm"/>, as <see cref="Expr.Renorm"/> (torch.renorm).</summary>
    public Tensor Renorm(double p, int axis, double maxNorm) => EagerPlans.Run(Key($"Renorm {p:R} {axis} {maxNorm:R}"), a => a[0].Renorm(p, axis, maxNorm), this);

    /// <summary>The contraction of a's last <paramref name="dims"/> axes with b's first, as <see cref="Expr.Tensordot(Expr, Expr, int)"/> (torch.tensordot).</summary>
    public static Tensor Tensordot(Tensor a, Tensor b, int dims = 2)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run(Key($"Tensordot {dims}"), x => Expr.Tensordot(x[0], x[1], dims), a, b);
    }

    /// <summary>The contraction of a over <paramref name="axesA"/> with b over <paramref name="axesB"/>, as <see cref="Expr.Tensordot(Expr, Expr, int[], int[])"/>.</summary>
    public static Tensor Tensordot(Tensor a, Tensor b, int[] axesA, int[] axesB)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        ArgumentNullException.ThrowIfNull(axesA);
        ArgumentNullException.ThrowIfNull(axesB);
        return EagerPlans.Run(Key($"Tensordot [{string.Join(",", axesA)}] [{string.Join(",", axesB)}]"), x => Expr.Tensordot(x[0], x[1], axesA, axesB), a, b);
    }

    /// <summary>The blocks along the diagonal of a matrix of zeros, as <see cref="Expr.BlockDiag"/> (torch.block_diag).</summary>
    public static Tensor BlockDiag(params Tensor[] tensors)
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        return EagerPlans.Run("BlockDiag", Expr.BlockDiag, tensors);
    }

    /// <summary>Every combination of one entry of each vector, as <see cref="Expr.CartesianProd"/> (torch.cartesian_prod).</summary>
    public static Tensor CartesianProd(params Tensor[] tensors)
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        return EagerPlans.Run("CartesianProd", Expr.CartesianProd, tensors);
    }

    /// <summary>The Vandermonde matrix of this vector, as <see cref="Expr.Vander"/> (torch.vander).</summary>
    public Tensor Vander(int? n = null, bool increasing = false) => EagerPlans.Run(Key($"Vander {n} {increasing}"), a => a[0].Vander(n, increasing), this);

    /// <summary>The two axes exchanged (torch.swapaxes), as <see cref="Transpose(int, int)"/>.</summary>
    public Tensor Swapaxes(int axis0, int axis1) => Transpose(axis0, axis1);

    /// <summary>The two axes exchanged (torch.swapdims), as <see cref="Transpose(int, int)"/>.</summary>
    public Tensor Swapdims(int dim0, int dim1) => Transpose(dim0, dim1);

    /// <summary>log₂(2^a + 2^b) elementwise, as <see cref="Expr.LogAddExp2"/> (torch.logaddexp2).</summary>
    public static Tensor LogAddExp2(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run("LogAddExp2", x => Expr.LogAddExp2(x[0], x[1]), a, b);
    }

    /// <summary>|this| with the sign of <paramref name="other"/>, as <see cref="Expr.Copysign"/> (torch.copysign).</summary>
    public Tensor Copysign(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Copysign", a => a[0].Copysign(a[1]), this, other);
    }

    /// <summary>Degrees to radians (torch.deg2rad).</summary>
    public Tensor Deg2Rad() => EagerPlans.Run("Deg2Rad", a => a[0].Deg2Rad(), this);

    /// <summary>Radians to degrees (torch.rad2deg).</summary>
    public Tensor Rad2Deg() => EagerPlans.Run("Rad2Deg", a => a[0].Rad2Deg(), this);

    /// <summary>
    /// <paramref name="count"/> values base^v for exponents v evenly spaced from <paramref name="start"/> to
    /// <paramref name="stop"/> (torch.logspace), both ends exact powers as torch's kernel computes them.
    /// </summary>
    /// <exception cref="ArgumentException">count is negative.</exception>
    public static Tensor Logspace(double start, double stop, int count, double logBase = 10.0, DType dtype = DType.Float64) =>
        new(FunctionalDiff.Core.TensorModule.logspace(Interop.ToCore(dtype), start, stop, count, logBase));

    /// <summary>
    /// The [2, M] row and column indices of the entries of a rows × columns matrix on or below the diagonal
    /// <paramref name="offset"/>, in row-major order (torch.tril_indices), as float64 values.
    /// </summary>
    /// <exception cref="ArgumentException">A negative dimension.</exception>
    public static Tensor TrilIndices(int rows, int columns, int offset = 0) => new(FunctionalDiff.Core.TensorModule.triangleIndices(true, rows, columns, offset));

    /// <summary>The indices of the entries on or above the diagonal <paramref name="offset"/> (torch.triu_indices), as <see cref="TrilIndices"/>.</summary>
    /// <exception cref="ArgumentException">A negative dimension.</exception>
    public static Tensor TriuIndices(int rows, int columns, int offset = 0) => new(FunctionalDiff.Core.TensorModule.triangleIndices(false, rows, columns, offset));

    /// <summary>The r-element combinations of this vector's entries, as <see cref="Expr.Combinations"/> (torch.combinations).</summary>
    public Tensor Combinations(int r = 2, bool withReplacement = false) =>
        EagerPlans.Run(Key($"Combinations {r} {withReplacement}"), a => a[0].Combinations(r, withReplacement), this);

    /// <summary>The lower median of the entries that are not NaN, as <see cref="Expr.NanMedian()"/> (torch.nanmedian).</summary>
    public Tensor NanMedian() => EagerPlans.Run("NanMedian", a => a[0].NanMedian(), this);

    /// <summary>x·2^e elementwise, as <see cref="Expr.Ldexp"/> (torch.ldexp).</summary>
    public Tensor Ldexp(Tensor exponent)
    {
        ArgumentNullException.ThrowIfNull(exponent);
        return EagerPlans.Run("Ldexp", a => a[0].Ldexp(a[1]), this, exponent);
    }

    /// <summary>1 where the sign bit is set, else 0, as <see cref="Expr.Signbit"/> (torch.signbit).</summary>
    public Tensor Signbit() => EagerPlans.Run("Signbit", a => a[0].Signbit(), this);
}
