namespace FunctionalDiff;

// The tensor side of Expr.TorchExtras.cs: the same functions, evaluated at once.
public sealed partial class Tensor
{
    /// <summary>
    /// The lower triangle of the last two axes, zeros above diagonal <paramref name="offset"/>, as <see cref="Expr.Tril"/>
    /// (torch.tril); <c>Tensor.Ones(n, n).Tril()</c> is a causal mask with 1 where a position may attend.
    /// </summary>
    /// <exception cref="ArgumentException">The rank is below 2.</exception>
    public Tensor Tril(int offset = 0) => EagerPlans.Run($"Tril {offset}", a => a[0].Tril(offset), this);

    /// <summary>The upper triangle of the last two axes, zeros below diagonal <paramref name="offset"/>, as <see cref="Expr.Triu"/> (torch.triu).</summary>
    /// <exception cref="ArgumentException">The rank is below 2.</exception>
    public Tensor Triu(int offset = 0) => EagerPlans.Run($"Triu {offset}", a => a[0].Triu(offset), this);

    /// <summary>
    /// This + weight·(end − this), computed now, as <see cref="Expr.Lerp(Expr, Expr)"/> (torch's <c>t.lerp(end, weight)</c>,
    /// out of place): an exponential moving average of a model's weights, torch's
    /// <c>ema_p.lerp_(p, 1 - decay)</c>, is <c>ema = ema.Map((name, e) =&gt; e.Lerp(model[name], 1 - decay))</c>. Weights
    /// of 0.5 or more use end − (end − this)·(1 − weight), as torch's, so a weight of 1 gives end exactly.
    /// </summary>
    /// <exception cref="ArgumentException">This and <paramref name="end"/> do not broadcast together.</exception>
    public Tensor Lerp(Tensor end, double weight)
    {
        ArgumentNullException.ThrowIfNull(end);
        return EagerPlans.Run($"Lerp {weight:R}", a => Expr.Lerp(a[0], a[1], weight), this, end);
    }

    /// <summary>This + weight·(end − this) with a weight per entry (all three broadcast), computed now, as
    /// <see cref="Expr.Lerp(Expr, Expr, Expr)"/> (torch.lerp with a tensor weight).</summary>
    /// <exception cref="ArgumentException">The three do not broadcast together.</exception>
    public Tensor Lerp(Tensor end, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(end);
        ArgumentNullException.ThrowIfNull(weight);
        return EagerPlans.Run("Lerp", a => Expr.Lerp(a[0], a[1], a[2]), this, end, weight);
    }

    /// <summary>torch.searchsorted(sorted_sequence, values, right=...) computed now, as
    /// <see cref="Expr.Searchsorted"/>: the insertion positions, as whole numbers in the values' dtype.</summary>
    /// <exception cref="ArgumentException">The sequence has rank 0, or its leading axes differ from the values'.</exception>
    public static Tensor Searchsorted(Tensor sortedSequence, Tensor values, bool right = false)
    {
        ArgumentNullException.ThrowIfNull(sortedSequence);
        ArgumentNullException.ThrowIfNull(values);
        return EagerPlans.Run($"Searchsorted {right}", a => Expr.Searchsorted(a[0], a[1], right), sortedSequence, values);
    }

    /// <summary>1 where this is NaN, else 0, as <see cref="Expr.IsNan"/> (torch.isnan).</summary>
    public Tensor IsNan() => EagerPlans.Run("IsNan", a => a[0].IsNan(), this);

    /// <summary>1 where this is +∞ or −∞, else 0, as <see cref="Expr.IsInf"/> (torch.isinf).</summary>
    public Tensor IsInf() => EagerPlans.Run("IsInf", a => a[0].IsInf(), this);

    /// <summary>1 where this is neither infinite nor NaN, else 0, as <see cref="Expr.IsFinite"/> (torch.isfinite).</summary>
    public Tensor IsFinite() => EagerPlans.Run("IsFinite", a => a[0].IsFinite(), this);

    /// <summary>
    /// NaN replaced by <paramref name="nan"/>, +∞ by <paramref name="posInf"/> and −∞ by <paramref name="negInf"/> (by default
    /// the dtype's largest and lowest finite values), as <see cref="Expr.NanToNum"/> (torch.nan_to_num).
    /// </summary>
    public Tensor NanToNum(double nan = 0.0, double? posInf = null, double? negInf = null) =>
        EagerPlans.Run($"NanToNum {nan:R} {posInf:R} {negInf:R}", a => a[0].NanToNum(nan, posInf, negInf), this);

    /// <summary>x − trunc(x), as <see cref="Expr.Frac"/> (torch.frac).</summary>
    public Tensor Frac() => EagerPlans.Run("Frac", a => a[0].Frac(), this);

    /// <summary>The inverse error function, as <see cref="Expr.Erfinv"/> (torch.erfinv).</summary>
    public Tensor Erfinv() => EagerPlans.Run("Erfinv", a => a[0].Erfinv(), this);

    /// <summary>sin(πx)/(πx), 1 at 0, as <see cref="Expr.Sinc"/> (torch.sinc).</summary>
    public Tensor Sinc() => EagerPlans.Run("Sinc", a => a[0].Sinc(), this);

    /// <summary>this + value · t1 · t2, as <see cref="Expr.AddCMul"/> (torch's <c>t.addcmul</c>).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    public Tensor AddCMul(Tensor t1, Tensor t2, double value = 1.0)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        return EagerPlans.Run($"AddCMul {value:R}", a => a[0].AddCMul(a[1], a[2], value), this, t1, t2);
    }

    /// <summary>this + value · t1 / t2, as <see cref="Expr.AddCDiv"/> (torch's <c>t.addcdiv</c>).</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    public Tensor AddCDiv(Tensor t1, Tensor t2, double value = 1.0)
    {
        ArgumentNullException.ThrowIfNull(t1);
        ArgumentNullException.ThrowIfNull(t2);
        return EagerPlans.Run($"AddCDiv {value:R}", a => a[0].AddCDiv(a[1], a[2], value), this, t1, t2);
    }

    /// <summary>The sum with NaN counted as 0, as <see cref="Expr.Nansum()"/> (torch.nansum).</summary>
    public Tensor Nansum() => EagerPlans.Run("Nansum", a => a[0].Nansum(), this);

    /// <summary>The mean of the entries that are not NaN, as <see cref="Expr.Nanmean()"/> (torch.nanmean).</summary>
    public Tensor Nanmean() => EagerPlans.Run("Nanmean", a => a[0].Nanmean(), this);

    /// <summary>The number of nonzero elements, as <see cref="Expr.CountNonzero()"/> (torch.count_nonzero).</summary>
    public Tensor CountNonzero() => EagerPlans.Run("CountNonzero", a => a[0].CountNonzero(), this);

    /// <summary>1 where no element is 0, else 0, as <see cref="Expr.All()"/> (torch.all).</summary>
    public Tensor All() => EagerPlans.Run("All", a => a[0].All(), this);

    /// <summary>1 where some element is not 0, else 0, as <see cref="Expr.Any()"/> (torch.any).</summary>
    public Tensor Any() => EagerPlans.Run("Any", a => a[0].Any(), this);

    /// <summary>
    /// Sorted along an axis with the positions the values came from, as <see cref="Expr.Sort"/> (torch.sort): indices are
    /// integers held in this tensor's dtype; NaN sorts last when ascending, and equal values keep their order.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public (Tensor Values, Tensor Indices) Sort(int axis = -1, bool descending = false)
    {
        var (values, indices) = ((Expr)this).Sort(axis, descending);
        var both = Expr.EvalMany(values, indices);
        return (both[0], both[1]);
    }

    /// <summary>
    /// The k largest (or smallest) entries along an axis, sorted, and their positions, as <see cref="Expr.TopK"/>
    /// (torch.topk; a word2vec model's nearest words, <c>var (scores, words) = similarities.TopK(5)</c>).
    /// </summary>
    /// <exception cref="ArgumentException">k is not within the axis length, or the axis is out of range.</exception>
    public (Tensor Values, Tensor Indices) TopK(int k, int axis = -1, bool largest = true)
    {
        var (values, indices) = ((Expr)this).TopK(k, axis, largest);
        var both = Expr.EvalMany(values, indices);
        return (both[0], both[1]);
    }

    /// <summary>The positions that sort an axis, as <see cref="Expr.ArgSort"/> (torch.argsort).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor ArgSort(int axis = -1, bool descending = false) => EagerPlans.Run($"ArgSort {axis} {descending}", a => a[0].ArgSort(axis, descending), this);

    /// <summary>
    /// The running sum along an axis, as <see cref="Expr.Cumsum"/> (torch.cumsum), computed now: a schedule's
    /// cumulative sums without building a graph.
    /// </summary>
    /// <param name="axis">The axis to accumulate along (negative counts from the end).</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Cumsum(int axis) => EagerPlans.Run($"Cumsum {axis}", a => a[0].Cumsum(axis), this);

    /// <summary>
    /// The elements in reverse order along the axes, as <see cref="Expr.Flip"/> (torch.flip), computed now: a reward-to-go
    /// <c>r.Flip(0).Cumsum(0).Flip(0)</c> over a rollout.
    /// </summary>
    /// <exception cref="ArgumentException">An axis is out of range or repeated.</exception>
    public Tensor Flip(params int[] axes)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return EagerPlans.Run($"Flip {string.Join(",", axes)}", a => a[0].Flip(axes), this);
    }

    /// <summary>
    /// The running product along an axis, as <see cref="Expr.Cumprod"/> (torch.cumprod), computed now: a diffusion
    /// model's <c>alphas_cumprod = (1 - betas).Cumprod(0)</c>.
    /// </summary>
    /// <param name="axis">The axis to accumulate along (negative counts from the end).</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Cumprod(int axis) => EagerPlans.Run($"Cumprod {axis}", a => a[0].Cumprod(axis), this);

    /// <summary>
    /// log σ(x) elementwise, as <see cref="Expr.LogSigmoid"/> (torch's <c>F.logsigmoid</c>), computed now: a BPR loss
    /// evaluated on held-out pairs, <c>-(pos - neg).LogSigmoid().Mean()</c>, without building a graph by hand.
    /// </summary>
    public Tensor LogSigmoid() => EagerPlans.Run("LogSigmoid", a => a[0].LogSigmoid(), this);

    /// <summary>log(1 + eˣ) elementwise, as <see cref="Expr.Softplus()"/> (torch's <c>F.softplus</c>), computed now.</summary>
    public Tensor Softplus() => EagerPlans.Run("Softplus", a => a[0].Softplus(), this);

    /// <summary>x·σ(x) elementwise, as <see cref="Expr.Silu"/> (torch's <c>F.silu</c>), computed now.</summary>
    public Tensor Silu() => EagerPlans.Run("Silu", a => a[0].Silu(), this);

    /// <summary>The exact GELU, x·Φ(x), elementwise, as <see cref="Expr.Gelu"/> (torch's <c>F.gelu</c>), computed now.</summary>
    public Tensor Gelu() => EagerPlans.Run("Gelu", a => a[0].Gelu(), this);

    /// <summary>
    /// The entries at <paramref name="index"/> along an axis, as <see cref="Expr.IndexSelect"/> (torch.index_select,
    /// and torch's <c>table[t]</c> with a tensor of positions t along axis 0), computed now.
    /// </summary>
    /// <param name="axis">The axis to select along.</param>
    /// <param name="index">A rank-1 tensor of integer positions (repeats allowed), or a rank-0 one: one position.</param>
    /// <exception cref="ArgumentException">The axis is out of range, or a position is not one along it.</exception>
    public Tensor IndexSelect(int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return EagerPlans.Run($"IndexSelect {axis}", a => a[0].IndexSelect(axis, a[1]), this, index);
    }

    /// <summary>The largest entry so far along an axis and where it is, as <see cref="Expr.Cummax"/> (torch.cummax).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public (Tensor Values, Tensor Indices) Cummax(int axis)
    {
        var (values, indices) = ((Expr)this).Cummax(axis);
        var both = Expr.EvalMany(values, indices);
        return (both[0], both[1]);
    }

    /// <summary>The smallest entry so far along an axis and where it is, as <see cref="Expr.Cummin"/> (torch.cummin).</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public (Tensor Values, Tensor Indices) Cummin(int axis)
    {
        var (values, indices) = ((Expr)this).Cummin(axis);
        var both = Expr.EvalMany(values, indices);
        return (both[0], both[1]);
    }

    /// <summary>A batch of matrix products, as <see cref="Expr.Bmm"/> (torch.bmm).</summary>
    /// <exception cref="ArgumentException">The operands are not [B, n, m] and [B, m, p].</exception>
    public Tensor Bmm(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Bmm", a => a[0].Bmm(a[1]), this, other);
    }

    /// <summary>The inner product of two vectors of one length, a scalar, as <see cref="Expr.Dot"/> (torch.dot).</summary>
    /// <exception cref="ArgumentException">Either operand is not a vector, or their lengths differ.</exception>
    public Tensor Dot(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Dot", a => a[0].Dot(a[1]), this, other);
    }

    /// <summary>The Kronecker product, as <see cref="Expr.Kron"/> (torch.kron).</summary>
    public Tensor Kron(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Kron", a => a[0].Kron(a[1]), this, other);
    }

    /// <summary>A vector on a matrix's diagonal, or a matrix's diagonal, as <see cref="Expr.Diag"/> (torch.diag).</summary>
    /// <exception cref="ArgumentException">The rank is not 1 or 2.</exception>
    public Tensor Diag(int offset = 0) => EagerPlans.Run($"Diag {offset}", a => a[0].Diag(offset), this);

    /// <summary>
    /// torch.bincount(input, weights, minlength): entry v sums the <paramref name="weights"/> (or counts the entries)
    /// of this rank-1 tensor of non-negative whole numbers equal to v; the length is max(max + 1, minlength), as torch's.
    /// The counts are in this tensor's dtype, or the weights'. F#: <c>Indexing.bincount</c> with that length.
    /// </summary>
    /// <param name="weights">One weight per entry, or null to count.</param>
    /// <param name="minlength">The least length of the result.</param>
    /// <exception cref="ArgumentException">The tensor is not rank 1, an entry is negative or not whole, or the weights have another shape.</exception>
    public Tensor Bincount(Tensor? weights = null, int minlength = 0)
    {
        if (Rank != 1) throw new FunctionalDiff.Core.ShapeException($"Bincount: input {Shape_} must be rank 1, as torch's");
        if (minlength < 0) throw new ArgumentOutOfRangeException(nameof(minlength), minlength, "Bincount: minlength must be ≥ 0");
        var values = ToDoubleArray();
        int length = minlength;
        for (int i = 0; i < values.Length; i++)
        {
            double v = values[i];
            if (!(v >= 0 && v == Math.Floor(v) && v < int.MaxValue))
                throw new ArgumentException($"Bincount: entry {i} of input {Shape_} is {v}; torch.bincount counts non-negative whole numbers", "input");
            length = Math.Max(length, (int)v + 1);
        }
        return weights is null
            ? EagerPlans.Run($"Bincount {length}", a => a[0].Bincount(length), this)
            : EagerPlans.Run($"Bincount {length} weighted", a => a[0].Bincount(length, a[1]), this, weights);
    }

    /// <summary>
    /// torch.masked_select(t, mask), torch's <c>t[mask]</c> for a boolean mask: the entries where
    /// <paramref name="mask"/> is nonzero, in row-major order, as a rank-1 tensor; the mask broadcasts with this tensor.
    /// Masked accuracy is <c>pred.MaskedSelect(mask).Eq(y.MaskedSelect(mask)).Mean()</c>. The result's length depends
    /// on the mask's values, so <see cref="Expr"/> has no MaskedSelect: inside a traced function, multiply by the mask
    /// (<c>(loss * mask).Sum() / mask.Sum()</c>). F#: <c>TensorMath.maskedSelect</c>.
    /// </summary>
    /// <param name="mask">0/1 (nonzero: keep), broadcasting with this tensor, such as <c>Tensor.FromArray(bool[], shape)</c> or a comparison.</param>
    /// <exception cref="ArgumentException">The mask does not broadcast with this tensor.</exception>
    public Tensor MaskedSelect(Tensor mask)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return new Tensor(FunctionalDiff.Core.TensorMath.maskedSelect(mask.Value, Value));
    }

    /// <summary>torch's <c>t.fill_diagonal_(fillValue)</c> as a new tensor (nothing is updated in place), as <see cref="Expr.FillDiagonal"/>.</summary>
    /// <param name="fillValue">The value put on the diagonal.</param>
    /// <exception cref="ArgumentException">The rank is below 2, or above 2 with axes of different lengths.</exception>
    public Tensor FillDiagonal(double fillValue) => EagerPlans.Run($"FillDiagonal {fillValue:R}", a => a[0].FillDiagonal(fillValue), this);

    /// <summary>Entries repeated in a row along an axis, as <see cref="Expr.RepeatInterleave(int, int)"/> (torch's <c>t.repeat_interleave</c>).</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or repeats is negative.</exception>
    public Tensor RepeatInterleave(int repeats, int axis) => EagerPlans.Run($"RepeatInterleave {repeats} {axis}", a => a[0].RepeatInterleave(repeats, axis), this);

    /// <summary>Entry i along an axis repeated <c>repeats[i]</c> times, as <see cref="Expr.RepeatInterleave(Tensor, int)"/>
    /// (torch's <c>t.repeat_interleave(repeats_tensor, dim)</c>).</summary>
    /// <exception cref="ArgumentException">The axis is out of range, or the counts are not whole, non-negative and one per entry.</exception>
    public Tensor RepeatInterleave(Tensor repeats, int axis) => ((Expr)this).RepeatInterleave(repeats, axis).Eval();

    /// <summary>
    /// The elements flattened, each repeated <paramref name="repeats"/> times in a row, as <see cref="Expr.RepeatInterleave(int)"/>
    /// (torch's <c>t.repeat_interleave(repeats)</c> without a dim: <c>torch.arange(n).repeat_interleave(k)</c>, each token's
    /// position once per expert it is routed to).
    /// </summary>
    /// <exception cref="ArgumentException">repeats is negative.</exception>
    public Tensor RepeatInterleave(int repeats) => EagerPlans.Run($"RepeatInterleave {repeats}", a => a[0].RepeatInterleave(repeats), this);
}
