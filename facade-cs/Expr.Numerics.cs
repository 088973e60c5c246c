using CoreElementary = FunctionalDiff.Core.Elementary;
using CoreNumerics = FunctionalDiff.Core.Numerics;

namespace FunctionalDiff;

// torch's numerical conveniences: diff, trapezoid and cumulative_trapezoid, cov and corrcoef, renorm, tensordot,
// block_diag, cartesian_prod, vander, swapaxes, logaddexp2, copysign, deg2rad and rad2deg. Each is a composite of
// primitives following torch's own formula, so derivatives of every order follow. Tensor has the same members
// (Tensor.Numerics.cs).
public sealed partial class Expr
{
    /// <summary>
    /// The n-th forward difference along <paramref name="axis"/>, x[i+1] − x[i] applied n times (torch.diff), after
    /// <paramref name="prepend"/> and <paramref name="append"/> are joined before and after (they match this shape off that
    /// axis). F#: <c>Numerics.diff</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A scalar, an axis out of range, or a prepend/append of another shape.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    public Expr Diff(int n = 1, int axis = -1, Expr? prepend = null, Expr? append = null) =>
        Interop.Named("Diff", () => Wrap(CoreNumerics.diff(n, axis, Interop.Option(prepend?.Node), Interop.Option(append?.Node), Node)));

    /// <summary>
    /// The trapezoid rule along <paramref name="axis"/> with samples <paramref name="dx"/> apart (torch.trapezoid):
    /// (Σy − (y₀ + y_last)/2)·dx, 0 over an empty axis. F#: <c>Numerics.trapezoid</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A scalar, or an axis out of range.</exception>
    public Expr Trapezoid(double dx = 1.0, int axis = -1) => Interop.Named("Trapezoid", () => Wrap(CoreNumerics.trapezoid(dx, axis, Node)));

    /// <summary>
    /// The trapezoid rule along <paramref name="axis"/> at the sample points <paramref name="x"/> (torch.trapezoid(y, x)):
    /// a vector with one point per sample, or a tensor that broadcasts with this one. F#: <c>Numerics.trapezoidAt</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The points do not fit the samples.</exception>
    public Expr Trapezoid(Expr x, int axis = -1)
    {
        var (points, y) = Align(x, this);
        return Interop.Named("Trapezoid", () => Wrap(CoreNumerics.trapezoidAt(points, axis, y)));
    }

    /// <summary>
    /// The running trapezoid rule along <paramref name="axis"/> (torch.cumulative_trapezoid): one entry shorter than this
    /// along that axis, the k-th the integral over the first k + 1 samples. F#: <c>Numerics.cumulativeTrapezoid</c>.
    /// </summary>
    /// <exception cref="ArgumentException">A scalar, or an axis out of range.</exception>
    public Expr CumulativeTrapezoid(double dx = 1.0, int axis = -1) =>
        Interop.Named("CumulativeTrapezoid", () => Wrap(CoreNumerics.cumulativeTrapezoid(dx, axis, Node)));

    /// <summary>The running trapezoid rule at the sample points <paramref name="x"/>, as <see cref="Trapezoid(Expr, int)"/> reads them. F#: <c>Numerics.cumulativeTrapezoidAt</c>.</summary>
    /// <exception cref="ArgumentException">The points do not fit the samples.</exception>
    public Expr CumulativeTrapezoid(Expr x, int axis = -1)
    {
        var (points, y) = Align(x, this);
        return Interop.Named("CumulativeTrapezoid", () => Wrap(CoreNumerics.cumulativeTrapezoidAt(points, axis, y)));
    }

    /// <summary>
    /// The covariance matrix of the rows of this [variables, observations] tensor (a vector is one variable), as torch.cov:
    /// <paramref name="correction"/> is subtracted from the observation count (1, Bessel's, by default);
    /// <paramref name="fweights"/> (observation counts) and <paramref name="aweights"/> (importance weights) are vectors with
    /// one entry per observation; the result is squeezed (a scalar for one variable). Where torch's normalising factor is not
    /// positive the result is ±∞ or NaN, as torch's. Gradients reach the weights too. F#: <c>Numerics.cov</c>.
    /// </summary>
    /// <exception cref="ArgumentException">More than 2 axes, or weights of another length.</exception>
    public Expr Cov(int correction = 1, Expr? fweights = null, Expr? aweights = null) =>
        Interop.Named("Cov", () => Wrap(CoreNumerics.cov(correction, Interop.Option(fweights?.Node), Interop.Option(aweights?.Node), Node)));

    /// <summary>
    /// The Pearson correlation matrix of the rows of this [variables, observations] tensor (torch.corrcoef): the covariance
    /// over the outer product of the standard deviations, clipped to [−1, 1] as torch's; 1 (or NaN for a constant row) for one
    /// variable. F#: <c>Numerics.corrcoef</c>.
    /// </summary>
    /// <exception cref="ArgumentException">More than 2 axes.</exception>
    public Expr Corrcoef() => Interop.Named("Corrcoef", () => Wrap(CoreNumerics.corrcoef(Node)));

    /// <summary>
    /// Each slice along <paramref name="axis"/> whose <paramref name="p"/>-norm exceeds <paramref name="maxNorm"/> scaled
    /// down to it (by maxNorm / (norm + 1e-7), torch.renorm's factor); the others kept. F#: <c>Numerics.renorm</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">p is not positive, or maxNorm negative.</exception>
    public Expr Renorm(double p, int axis, double maxNorm) => Interop.Named("Renorm", () => Wrap(CoreNumerics.renorm(p, axis, maxNorm, Node)));

    /// <summary>
    /// The tensor contraction of <paramref name="a"/>'s last <paramref name="dims"/> axes with <paramref name="b"/>'s first
    /// (torch.tensordot(a, b, dims)): a's other axes then b's. F#: <c>Numerics.tensordotCount</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The contracted axes differ in length.</exception>
    public static Expr Tensordot(Expr a, Expr b, int dims = 2)
    {
        var (x, y) = Align(a, b);
        return Interop.Named("Tensordot", () => Wrap(CoreNumerics.tensordotCount(dims, x, y)));
    }

    /// <summary>
    /// The tensor contraction of <paramref name="a"/> over <paramref name="axesA"/> with <paramref name="b"/> over
    /// <paramref name="axesB"/>, pairwise (torch.tensordot(a, b, dims=(axesA, axesB))): a's free axes then b's, in order.
    /// F#: <c>Numerics.tensordot</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The lists differ in length, or paired axes in length.</exception>
    public static Expr Tensordot(Expr a, Expr b, int[] axesA, int[] axesB)
    {
        var (x, y) = Align(a, b);
        return Interop.Named("Tensordot", () => Wrap(CoreNumerics.tensordot(axesA, axesB, x, y)));
    }

    /// <summary>
    /// The blocks along the diagonal of a matrix of zeros (torch.block_diag): scalars as 1×1 blocks, vectors as one row,
    /// matrices as they are, in the dtype they promote to. F#: <c>Numerics.blockDiag</c>.
    /// </summary>
    /// <exception cref="ArgumentException">No blocks, or a block with more than 2 axes.</exception>
    public static Expr BlockDiag(params Expr[] tensors) =>
        Interop.Named("BlockDiag", () => Wrap(CoreNumerics.blockDiag(Align(tensors, nameof(tensors)))));

    /// <summary>
    /// Every combination of one entry of each vector, as the rows of a [Π lengths, count] matrix in row-major order
    /// (torch.cartesian_prod; one vector is returned as it is). F#: <c>Numerics.cartesianProd</c>.
    /// </summary>
    /// <exception cref="ArgumentException">No tensors, or one that is not a vector.</exception>
    public static Expr CartesianProd(params Expr[] tensors) =>
        Interop.Named("CartesianProd", () => Wrap(CoreNumerics.cartesianProd(Align(tensors, nameof(tensors)))));

    /// <summary>
    /// The Vandermonde matrix of this vector (torch.vander): columns x^(N−1), …, x, 1, or 1, x, …, x^(N−1) when
    /// <paramref name="increasing"/>; N is the vector's length by default. The powers are running products, as torch's.
    /// F#: <c>Numerics.vander</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Not a vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="n"/> is negative.</exception>
    public Expr Vander(int? n = null, bool increasing = false) =>
        Interop.Named("Vander", () => Wrap(CoreNumerics.vander(Interop.Option(n), increasing, Node)));

    /// <summary>The two axes exchanged (torch.swapaxes, NumPy's name), as <see cref="Transpose(int, int)"/>.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Swapaxes(int axis0, int axis1) => Transpose(axis0, axis1);

    /// <summary>The two axes exchanged (torch.swapdims), as <see cref="Transpose(int, int)"/>.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Swapdims(int dim0, int dim1) => Transpose(dim0, dim1);

    /// <summary>
    /// log₂(2^a + 2^b) elementwise with broadcasting, without overflow (torch.logaddexp2), as <see cref="LogAddExp"/> in
    /// base 2, with its derivatives. F#: <c>Elementary.logAddExp2</c>.
    /// </summary>
    public static Expr LogAddExp2(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(CoreElementary.logAddExp2(x, y)); }

    /// <summary>
    /// |this| with the sign of <paramref name="other"/> elementwise with broadcasting (torch.copysign), −0 counting as
    /// negative; the slope is ±1 in this (0 at 0, as torch) and 0 in other. A NaN in other counts as positive.
    /// F#: <c>Elementary.copysign</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Expr Copysign(Expr other) { var (x, y) = Align(this, other); return Interop.Named("Copysign", () => Wrap(CoreElementary.copysign(x, y))); }

    /// <summary>Degrees to radians, x·π/180 (torch.deg2rad). F#: <c>Elementary.deg2rad</c>.</summary>
    public Expr Deg2Rad() => Apply(CoreElementary.deg2rad);

    /// <summary>Radians to degrees, x·180/π (torch.rad2deg). F#: <c>Elementary.rad2deg</c>.</summary>
    public Expr Rad2Deg() => Apply(CoreElementary.rad2deg);

    /// <summary>
    /// The r-element combinations of this vector's entries, as the rows of [M, r] in lexicographic order of their positions
    /// (torch.combinations; with repetition when <paramref name="withReplacement"/>). F#: <c>Numerics.combinations</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Not a vector.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="r"/> is negative.</exception>
    public Expr Combinations(int r = 2, bool withReplacement = false) =>
        Interop.Named("Combinations", () => Wrap(CoreNumerics.combinations(r, withReplacement, Node)));

    /// <summary>The lower median of all entries that are not NaN, NaN where all are (torch.nanmedian). F#: <c>Numerics.nanmedianAll</c>.</summary>
    /// <exception cref="ArgumentException">The input is empty.</exception>
    public Expr NanMedian() => Interop.Named("NanMedian", () => Wrap(CoreNumerics.nanmedianAll(Node)));

    /// <summary>
    /// The lower median along <paramref name="axis"/> of the entries that are not NaN (NaN where all are), and its index
    /// (torch.nanmedian(dim)); the value's derivative goes to that entry. F#: <c>Numerics.nanmedian</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range or empty.</exception>
    public (Expr Values, Expr Indices) NanMedian(int axis, bool keepDims = false)
    {
        var (values, indices) = Interop.Named("NanMedian", () => CoreNumerics.nanmedian(axis, keepDims, Node).ToValueTuple());
        return (Wrap(values), Wrap(indices));
    }

    /// <summary>The smallest and largest entries, over all entries or along <paramref name="axis"/> (torch.aminmax), as <see cref="Amin(int, bool)"/> and <see cref="Amax(int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public (Expr Min, Expr Max) Aminmax(int? axis = null, bool keepDims = false) =>
        axis is int a ? (Amin(a, keepDims), Amax(a, keepDims)) : (Amin(AllAxes, keepDims), Amax(AllAxes, keepDims));

    /// <summary>The entries sorted along axis 0 (torch.msort), as <see cref="Sort"/>'s values.</summary>
    /// <exception cref="ArgumentException">A scalar.</exception>
    public Expr Msort() => Sort(0).Values;

    /// <summary>x·2^e elementwise with broadcasting (torch.ldexp), differentiable in both. F#: <c>Numerics.ldexp</c>.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Expr Ldexp(Expr exponent) { var (x, e) = Align(this, exponent); return Interop.Named("Ldexp", () => Wrap(CoreNumerics.ldexp(x, e))); }

    /// <summary>1 where the sign bit is set (negative numbers, −0, −∞), else 0, without derivative (torch.signbit); a NaN reads as 0. F#: <c>Numerics.signbit</c>.</summary>
    public Expr Signbit() => Apply(CoreNumerics.signbit);

    /// <summary>The sign, −1, 0 or 1 (torch.sgn, which for real numbers is <see cref="Sign"/>).</summary>
    public Expr Sgn() => Sign();

    /// <summary>this^exponent in float64 whatever the dtypes (torch.float_power). F#: <c>Numerics.floatPower</c>.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Expr FloatPower(Expr exponent) { var (x, e) = Align(this, exponent); return Interop.Named("FloatPower", () => Wrap(CoreNumerics.floatPower(x, e))); }
}
