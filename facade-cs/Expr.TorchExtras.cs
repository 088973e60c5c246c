using CoreElementary = FunctionalDiff.Core.Elementary;
using CoreLinalg = FunctionalDiff.Core.Linalg;
using CoreStatistics = FunctionalDiff.Core.Statistics;
using CoreStructure = FunctionalDiff.Core.Structure;

namespace FunctionalDiff;

// More torch functions a porting user calls: frac, sinc, hypot, addcmul/addcdiv, the NaN-ignoring and logical
// reductions, cdist, bmm, kron, diag and repeat_interleave. Each is a composite of primitives, so derivatives of every
// order follow; each documents where its derivative convention differs from torch's. Tensor has the same members
// (Tensor.TorchExtras.cs).
public sealed partial class Expr
{
    /// <summary>x − trunc(x), with x's sign (torch.frac); slope 1. F#: <c>Elementary.frac</c>.</summary>
    public Expr Frac() => Apply(CoreElementary.frac);

    /// <summary>
    /// The inverse error function (torch.erfinv): the x with erf(x) = this, ±∞ at ±1 and NaN outside [−1, 1], computed in
    /// float64 (rounded once for float32). Its derivative is √π/2·e^(x²), at every order. F#: <c>Elementary.erfinv</c>.
    /// </summary>
    public Expr Erfinv() => Apply(CoreElementary.erfinv);

    /// <summary>
    /// sin(πx)/(πx), 1 at 0 (torch.sinc). At 0 the derivatives are the true ones up to the fourth, as JAX's: slope 0 (as
    /// torch) and curvature −π²/3, where torch's second derivative is NaN. F#: <c>Elementary.sinc</c>.
    /// </summary>
    public Expr Sinc() => Apply(CoreElementary.sinc);

    /// <summary>
    /// √(a² + b²) elementwise with broadcasting, without overflow or underflow in the squares (torch.hypot). The slopes are
    /// a/h and b/h, exact at every order also where |a| = |b|; at (0, 0) they are 0, where torch's are NaN. An infinite
    /// operand gives +∞ even beside NaN. F#: <c>Elementary.hypot</c>.
    /// </summary>
    public static Expr Hypot(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(CoreElementary.hypot(x, y)); }

    /// <summary>
    /// The floor quotient elementwise with broadcasting, as torch.floor_divide and Python's <c>//</c> compute it
    /// ((a − fmod(a, b))/b corrected to the floor, so 1 // 0.1 is 9, and NaN for an infinite a), without derivative.
    /// F#: <c>Elementary.floorDivide</c>.
    /// </summary>
    public static Expr FloorDivide(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(CoreElementary.floorDivide(x, y)); }

    /// <summary>
    /// 0 below 0, <paramref name="values"/> at 0 and 1 above, and 0 at NaN (torch.heaviside's kernel), without derivative.
    /// F#: <c>Elementary.heaviside</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The values do not broadcast with this shape.</exception>
    public Expr Heaviside(Expr values) { var (x, v) = Align(this, values); return Wrap(CoreElementary.heaviside(v, x)); }

    /// <summary>1 where this is NaN, else 0, in this dtype and without derivative (torch.isnan). F#: <c>Elementary.isNan</c>.</summary>
    public Expr IsNan() => Apply(CoreElementary.isNan);

    /// <summary>1 where this is +∞ or −∞, else 0, in this dtype and without derivative (torch.isinf). F#: <c>Elementary.isInf</c>.</summary>
    public Expr IsInf() => Apply(CoreElementary.isInf);

    /// <summary>1 where this is neither infinite nor NaN, else 0, in this dtype and without derivative (torch.isfinite). F#: <c>Elementary.isFinite</c>.</summary>
    public Expr IsFinite() => Apply(CoreElementary.isFinite);

    /// <summary>
    /// torch.nan_to_num: NaN becomes <paramref name="nan"/>, +∞ <paramref name="posInf"/> and −∞ <paramref name="negInf"/>
    /// (by default the dtype's largest and lowest finite values, as torch). The derivative is 1 at finite entries and 0 at
    /// the replaced ones, as torch's; so <c>scores.MaskedFill(padding, double.NegativeInfinity).Softmax(-1).NanToNum()</c>
    /// zeros a row whose keys are all masked (NaN, as torch's softmax) and passes it no gradient. F#: <c>Elementary.nanToNum</c>.
    /// </summary>
    public Expr NanToNum(double nan = 0.0, double? posInf = null, double? negInf = null)
    {
        double largest = DType == DType.Float32 ? float.MaxValue : double.MaxValue;
        return Apply(x => CoreElementary.nanToNum(nan, posInf ?? largest, negInf ?? -largest, x));
    }

    /// <summary>
    /// <paramref name="value"/> where this is at or below <paramref name="threshold"/>, else this (torch's F.threshold);
    /// slope 0 at and below the threshold, 1 above it. A NaN entry stays NaN with slope 1, as in torch.
    /// F#: <c>Elementary.threshold</c>.
    /// </summary>
    public Expr Threshold(double threshold, double value) => Apply(x => CoreElementary.threshold(threshold, value, x));

    /// <summary>The p-norm of a − b over every element, broadcast (torch.dist). F#: <c>Statistics.dist</c>.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or p is negative.</exception>
    public static Expr Dist(Expr a, Expr b, double p = 2.0) { var (x, y) = Align(a, b); return Wrap(CoreStatistics.dist(p, x, y)); }

    /// <summary>
    /// A square matrix (or a batch of them) to the integer power <paramref name="n"/> by repeated squaring
    /// (torch.linalg.matrix_power): the identity for 0, the inverse's power for a negative n. F#: <c>Linalg.matrixPower</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The matrix is not square.</exception>
    public Expr MatrixPower(int n) => Wrap(CoreLinalg.matrixPower(n, Node));

    /// <summary>this + value · t1 · t2, all broadcast together (torch's <c>x.addcmul(t1, t2, value)</c>). F#: <c>Elementary.addcmul</c>.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    public Expr AddCMul(Expr t1, Expr t2, double value = 1.0)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        var parts = Align(new[] { this, t1, t2 }, nameof(t1));
        return Wrap(CoreElementary.addcmul(value, parts[0], parts[1], parts[2]));
    }

    /// <summary>this + value · t1 / t2, all broadcast together (torch's <c>x.addcdiv(t1, t2, value)</c>). F#: <c>Elementary.addcdiv</c>.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    public Expr AddCDiv(Expr t1, Expr t2, double value = 1.0)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        var parts = Align(new[] { this, t1, t2 }, nameof(t1));
        return Wrap(CoreElementary.addcdiv(value, parts[0], parts[1], parts[2]));
    }

    Expr Reduced(Func<int[], bool, FunctionalDiff.Core.Expr, FunctionalDiff.Core.Expr> reduce, int[] axes, bool keepDims)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(reduce(axes, keepDims, Node));
    }

    int[] EveryAxis => Enumerable.Range(0, Rank).ToArray();

    /// <summary>The sum of every element with NaN counted as 0 (torch.nansum); the gradient is 0 at NaN entries. F#: <c>Statistics.nansum</c>.</summary>
    public Expr Nansum() => Reduced(CoreStatistics.nansum, EveryAxis, false);
    /// <summary>The sum along an axis with NaN counted as 0 (torch.nansum).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr Nansum(int axis, bool keepDims = false) => Reduced(CoreStatistics.nansum, new[] { axis }, keepDims);
    /// <summary>The sum over several axes with NaN counted as 0 (torch.nansum).</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Nansum(int[] axes, bool keepDims = false) => Reduced(CoreStatistics.nansum, axes, keepDims);

    /// <summary>The mean of the elements that are not NaN (torch.nanmean; NaN when all are). F#: <c>Statistics.nanmean</c>.</summary>
    public Expr Nanmean() => Reduced(CoreStatistics.nanmean, EveryAxis, false);
    /// <summary>The mean along an axis of the entries that are not NaN (torch.nanmean).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr Nanmean(int axis, bool keepDims = false) => Reduced(CoreStatistics.nanmean, new[] { axis }, keepDims);
    /// <summary>The mean over several axes of the entries that are not NaN (torch.nanmean).</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Expr Nanmean(int[] axes, bool keepDims = false) => Reduced(CoreStatistics.nanmean, axes, keepDims);

    /// <summary>The number of nonzero elements (NaN counts), in this dtype, without gradient (torch.count_nonzero). F#: <c>Statistics.countNonzero</c>.</summary>
    public Expr CountNonzero() => Reduced(CoreStatistics.countNonzero, EveryAxis, false);
    /// <summary>The number of nonzero entries along an axis (torch.count_nonzero(dim)).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr CountNonzero(int axis, bool keepDims = false) => Reduced(CoreStatistics.countNonzero, new[] { axis }, keepDims);

    /// <summary>
    /// 1 where no element is 0 and 0 otherwise, in this dtype, without gradient (torch.all; NaN counts as true, an empty
    /// tensor gives 1). F#: <c>Statistics.all</c>.
    /// </summary>
    public Expr All() => Reduced(CoreStatistics.all, EveryAxis, false);
    /// <summary>torch.all along an axis, as 1 or 0 in this dtype.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr All(int axis, bool keepDims = false) => Reduced(CoreStatistics.all, new[] { axis }, keepDims);

    /// <summary>
    /// 1 where some element is not 0 and 0 otherwise, in this dtype, without gradient (torch.any; NaN counts as true, an
    /// empty tensor gives 0). F#: <c>Statistics.any</c>.
    /// </summary>
    public Expr Any() => Reduced(CoreStatistics.any, EveryAxis, false);
    /// <summary>torch.any along an axis, as 1 or 0 in this dtype.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr Any(int axis, bool keepDims = false) => Reduced(CoreStatistics.any, new[] { axis }, keepDims);

    /// <summary>
    /// The p-norm distance between every row of <paramref name="x1"/> [..., P, M] and every row of <paramref name="x2"/>
    /// [..., R, M], giving [..., P, R] (torch.cdist, computed directly; batch axes broadcast). The gradient at a zero
    /// distance is 0, as torch's. F#: <c>Statistics.cdist</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit, or p is negative.</exception>
    public static Expr Cdist(Expr x1, Expr x2, double p = 2.0) { var (a, b) = Align(x1, x2); return Wrap(CoreStatistics.cdist(p, a, b)); }

    /// <summary>A batch of matrix products, [B, n, m] by [B, m, p], without broadcasting (torch.bmm). F#: <c>Structure.bmm</c>.</summary>
    /// <exception cref="ArgumentException">The operands are not such a pair.</exception>
    public Expr Bmm(Expr other) { var (a, b) = Align(this, other); return Wrap(CoreStructure.bmm(a, b)); }

    /// <summary>The Kronecker product over every axis (torch.kron). F#: <c>Structure.kron</c>.</summary>
    public Expr Kron(Expr other) { var (a, b) = Align(this, other); return Wrap(CoreStructure.kron(a, b)); }

    /// <summary>
    /// torch.diag: a vector placed on diagonal <paramref name="offset"/> of a square matrix, or a matrix's diagonal
    /// <paramref name="offset"/> as a vector. F#: <c>Structure.diag</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The rank is not 1 or 2.</exception>
    public Expr Diag(int offset = 0) => Wrap(CoreStructure.diag(offset, Node));

    /// <summary>
    /// torch's <c>x.fill_diagonal_(fillValue)</c> without the mutation: <paramref name="fillValue"/> on the main diagonal
    /// (entries (i, i), i below min(rows, columns); above rank 2, where every axis has one length, (i, ..., i)) and x
    /// elsewhere. SimCLR's NT-Xent leaves each sample out of its own softmax with
    /// <c>sim.FillDiagonal(double.NegativeInfinity)</c>. The filled entries pass no derivative. F#: <c>Structure.fillDiagonal</c>.
    /// </summary>
    /// <param name="fillValue">The value put on the diagonal.</param>
    /// <exception cref="ArgumentException">The rank is below 2, or above 2 with axes of different lengths.</exception>
    public Expr FillDiagonal(double fillValue) => Wrap(CoreStructure.fillDiagonal(fillValue, Node));

    /// <summary>
    /// Each entry along <paramref name="axis"/> repeated <paramref name="repeats"/> times in a row (torch's
    /// <c>x.repeat_interleave(repeats, dim)</c>); the derivative sums over the copies. F#: <c>Structure.repeatInterleave</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range, or repeats is negative.</exception>
    public Expr RepeatInterleave(int repeats, int axis) => Wrap(CoreStructure.repeatInterleave(repeats, axis, Node));

    /// <summary>The elements flattened, each repeated <paramref name="repeats"/> times in a row (torch's <c>x.repeat_interleave(repeats)</c>).</summary>
    /// <exception cref="ArgumentException">repeats is negative.</exception>
    public Expr RepeatInterleave(int repeats) => Flatten().RepeatInterleave(repeats, 0);

    /// <summary>
    /// Entry i along <paramref name="axis"/> repeated <c>repeats[i]</c> times in a row (torch's
    /// <c>x.repeat_interleave(repeats_tensor, dim)</c>, ragged batches and graph pooling): one count per entry, or one for
    /// all. The counts fix the result's shape, so they are a <see cref="Tensor"/> of whole numbers, not an Expr; the
    /// derivative sums over each entry's copies. F#: <c>Structure.repeatInterleaveCounts</c>.
    /// </summary>
    /// <param name="repeats">Whole numbers ≥ 0, a vector with one per entry along the axis (or a single one).</param>
    /// <param name="axis">The axis whose entries are repeated.</param>
    /// <exception cref="ArgumentException">The axis is out of range, or the counts are not whole, non-negative and one per entry.</exception>
    public Expr RepeatInterleave(Tensor repeats, int axis)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return Wrap(CoreStructure.repeatInterleaveCounts(repeats.ToDoubleArray(), axis, Node));
    }

    /// <summary>The elements flattened, entry i repeated <c>repeats[i]</c> times (torch's <c>x.repeat_interleave(repeats_tensor)</c>).</summary>
    /// <exception cref="ArgumentException">The counts are not whole, non-negative and one per element (or a single one).</exception>
    public Expr RepeatInterleave(Tensor repeats) => Flatten().RepeatInterleave(repeats, 0);

    /// <summary>As <see cref="RepeatInterleave(Tensor, int)"/>, the counts as ints.</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the counts are negative or not one per entry.</exception>
    public Expr RepeatInterleave(int[] repeats, int axis)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return Wrap(CoreStructure.repeatInterleaveCounts(Array.ConvertAll(repeats, r => (double)r), axis, Node));
    }
}
