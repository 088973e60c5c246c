namespace FunctionalDiff;

// Eager forms of Expr members that had none on Tensor: the linear algebra (Cholesky, Solve, Inverse, Det, Qr, Eigh, Svd,
// Pinv, Lstsq, the norms and cond), the activations, the special functions, quantiles, comparisons and the rest, so code
// written against TorchSharp's eager tensors finds them. Each builds the Expr member's graph over this tensor and
// evaluates it through a cached plan (EagerPlans), so its value is the Expr member's, bit for bit; a member with several
// parts evaluates them in one pass.
public sealed partial class Tensor
{
    /// <summary>Computed now (one evaluation for every part), as <see cref="Expr.Eigh()"/>.</summary>
    public (Tensor Eigenvalues, Tensor Eigenvectors) Eigh()
    {
        var r = ((Expr)this).Eigh();
        var all = Expr.EvalMany(r.Eigenvalues, r.Eigenvectors);
        return (all[0], all[1]);
    }

    /// <summary>Computed now, as <see cref="Expr.Celu(double)"/>.</summary>
    public Tensor Celu(double alpha = 1.0)
    {
        return EagerPlans.Run(Key($"Celu {alpha:R}"), a => a[0].Celu(alpha), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Cholesky()"/>.</summary>
    public Tensor Cholesky()
    {
        return EagerPlans.Run("Cholesky", a => a[0].Cholesky(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.CholeskySolve(Expr, bool)"/>.</summary>
    public Tensor CholeskySolve(Tensor factor, bool upper = false)
    {
        ArgumentNullException.ThrowIfNull(factor);
        return EagerPlans.Run(Key($"CholeskySolve {upper}"), a => a[0].CholeskySolve(a[1], upper), this, factor);
    }

    /// <summary>Computed now, as <see cref="Expr.Cond(double)"/>.</summary>
    public Tensor Cond(double p = 2.0)
    {
        return EagerPlans.Run(Key($"Cond {p:R}"), a => a[0].Cond(p), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Cond(string)"/>.</summary>
    public Tensor Cond(string p)
    {
        return EagerPlans.Run(Key($"Cond {p}"), a => a[0].Cond(p), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Cross(Expr, int)"/>.</summary>
    public Tensor Cross(Tensor other, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run(Key($"Cross {axis}"), a => a[0].Cross(a[1], axis), this, other);
    }

    /// <summary>Computed now, as <see cref="Expr.Det()"/>.</summary>
    public Tensor Det()
    {
        return EagerPlans.Run("Det", a => a[0].Det(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.DiagEmbed(int)"/>.</summary>
    public Tensor DiagEmbed(int offset = 0)
    {
        return EagerPlans.Run(Key($"DiagEmbed {offset}"), a => a[0].DiagEmbed(offset), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Diagonal(int, int, int)"/>.</summary>
    public Tensor Diagonal(int offset = 0, int axis1 = 0, int axis2 = 1)
    {
        return EagerPlans.Run(Key($"Diagonal {offset} {axis1} {axis2}"), a => a[0].Diagonal(offset, axis1, axis2), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Digamma()"/>.</summary>
    public Tensor Digamma()
    {
        return EagerPlans.Run("Digamma", a => a[0].Digamma(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.EigvalsH()"/>.</summary>
    public Tensor EigvalsH()
    {
        return EagerPlans.Run("EigvalsH", a => a[0].EigvalsH(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Elu(double)"/>.</summary>
    public Tensor Elu(double alpha = 1.0)
    {
        return EagerPlans.Run(Key($"Elu {alpha:R}"), a => a[0].Elu(alpha), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Entr()"/>.</summary>
    public Tensor Entr()
    {
        return EagerPlans.Run("Entr", a => a[0].Entr(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Erfc()"/>.</summary>
    public Tensor Erfc()
    {
        return EagerPlans.Run("Erfc", a => a[0].Erfc(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Erfcx()"/>.</summary>
    public Tensor Erfcx()
    {
        return EagerPlans.Run("Erfcx", a => a[0].Erfcx(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.FloatPower(Expr)"/>.</summary>
    public Tensor FloatPower(Tensor exponent)
    {
        ArgumentNullException.ThrowIfNull(exponent);
        return EagerPlans.Run("FloatPower", a => a[0].FloatPower(a[1]), this, exponent);
    }

    /// <summary>Computed now, as <see cref="Expr.FrobeniusNorm(bool)"/>.</summary>
    public Tensor FrobeniusNorm(bool keepDims = false)
    {
        return EagerPlans.Run(Key($"FrobeniusNorm {keepDims}"), a => a[0].FrobeniusNorm(keepDims), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Ge(Expr)"/>.</summary>
    public Tensor Ge(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Ge", a => a[0].Ge(a[1]), this, other);
    }

    /// <summary>Computed now, as <see cref="Expr.GeluTanh()"/>.</summary>
    public Tensor GeluTanh()
    {
        return EagerPlans.Run("GeluTanh", a => a[0].GeluTanh(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Glu(int)"/>.</summary>
    public Tensor Glu(int axis = -1)
    {
        return EagerPlans.Run(Key($"Glu {axis}"), a => a[0].Glu(axis), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Gt(Expr)"/>.</summary>
    public Tensor Gt(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Gt", a => a[0].Gt(a[1]), this, other);
    }

    /// <summary>Computed now, as <see cref="Expr.Hardshrink(double)"/>.</summary>
    public Tensor Hardshrink(double lambda = 0.5)
    {
        return EagerPlans.Run(Key($"Hardshrink {lambda:R}"), a => a[0].Hardshrink(lambda), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Hardtanh(double, double)"/>.</summary>
    public Tensor Hardtanh(double min = -1.0, double max = 1.0)
    {
        return EagerPlans.Run(Key($"Hardtanh {min:R} {max:R}"), a => a[0].Hardtanh(min, max), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Heaviside(Expr)"/>.</summary>
    public Tensor Heaviside(Tensor values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return EagerPlans.Run("Heaviside", a => a[0].Heaviside(a[1]), this, values);
    }

    /// <summary>Computed now, as <see cref="Expr.I0()"/>.</summary>
    public Tensor I0()
    {
        return EagerPlans.Run("I0", a => a[0].I0(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.I0e()"/>.</summary>
    public Tensor I0e()
    {
        return EagerPlans.Run("I0e", a => a[0].I0e(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.I1()"/>.</summary>
    public Tensor I1()
    {
        return EagerPlans.Run("I1", a => a[0].I1(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.I1e()"/>.</summary>
    public Tensor I1e()
    {
        return EagerPlans.Run("I1e", a => a[0].I1e(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.IndexAdd(int, Expr, Expr)"/>.</summary>
    public Tensor IndexAdd(int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        return EagerPlans.Run(Key($"IndexAdd {axis}"), a => a[0].IndexAdd(axis, a[1], a[2]), this, index, source);
    }

    /// <summary>Computed now, as <see cref="Expr.Inverse()"/>.</summary>
    public Tensor Inverse()
    {
        return EagerPlans.Run("Inverse", a => a[0].Inverse(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.LayerNorm(double)"/>.</summary>
    public Tensor LayerNorm(double epsilon = 1e-5)
    {
        return EagerPlans.Run(Key($"LayerNorm {epsilon:R}"), a => a[0].LayerNorm(epsilon), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Le(Expr)"/>.</summary>
    public Tensor Le(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Le", a => a[0].Le(a[1]), this, other);
    }

    /// <summary>Computed now, as <see cref="Expr.LeakyRelu(double)"/>.</summary>
    public Tensor LeakyRelu(double negativeSlope = 0.01)
    {
        return EagerPlans.Run(Key($"LeakyRelu {negativeSlope:R}"), a => a[0].LeakyRelu(negativeSlope), this);
    }

    /// <summary>Computed now, as <see cref="Expr.LogCumSumExp(int)"/>.</summary>
    public Tensor LogCumSumExp(int axis)
    {
        return EagerPlans.Run(Key($"LogCumSumExp {axis}"), a => a[0].LogCumSumExp(axis), this);
    }

    /// <summary>Computed now, as <see cref="Expr.LogDet()"/>.</summary>
    public Tensor LogDet()
    {
        return EagerPlans.Run("LogDet", a => a[0].LogDet(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.LogNdtr()"/>.</summary>
    public Tensor LogNdtr()
    {
        return EagerPlans.Run("LogNdtr", a => a[0].LogNdtr(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Logit(double?)"/>.</summary>
    public Tensor Logit(double? eps = null)
    {
        return EagerPlans.Run(Key($"Logit {eps:R}"), a => a[0].Logit(eps), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Lstsq(Expr, double?)"/>.</summary>
    public Tensor Lstsq(Tensor b, double? rcond = null)
    {
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run(Key($"Lstsq {rcond:R}"), a => a[0].Lstsq(a[1], rcond), this, b);
    }

    /// <summary>Computed now, as <see cref="Expr.Lt(Expr)"/>.</summary>
    public Tensor Lt(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Lt", a => a[0].Lt(a[1]), this, other);
    }

    /// <summary>Computed now, as <see cref="Expr.MatrixExp()"/>.</summary>
    public Tensor MatrixExp()
    {
        return EagerPlans.Run("MatrixExp", a => a[0].MatrixExp(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.MatrixNorm(double, bool)"/>.</summary>
    public Tensor MatrixNorm(double ord, bool keepDims = false)
    {
        return EagerPlans.Run(Key($"MatrixNorm {ord:R} {keepDims}"), a => a[0].MatrixNorm(ord, keepDims), this);
    }

    /// <summary>Computed now, as <see cref="Expr.MatrixNorm(string, bool)"/>.</summary>
    public Tensor MatrixNorm(string ord, bool keepDims = false)
    {
        return EagerPlans.Run(Key($"MatrixNorm {ord} {keepDims}"), a => a[0].MatrixNorm(ord, keepDims), this);
    }

    /// <summary>Computed now, as <see cref="Expr.MatrixPower(int)"/>.</summary>
    public Tensor MatrixPower(int n)
    {
        return EagerPlans.Run(Key($"MatrixPower {n}"), a => a[0].MatrixPower(n), this);
    }

    /// <summary>Computed now, as <see cref="Expr.MatrixRank(double?, double?, bool)"/>.</summary>
    public Tensor MatrixRank(double? atol = null, double? rtol = null, bool hermitian = false)
    {
        return EagerPlans.Run(Key($"MatrixRank {atol:R} {rtol:R} {hermitian}"), a => a[0].MatrixRank(atol, rtol, hermitian), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Median()"/>.</summary>
    public Tensor Median()
    {
        return EagerPlans.Run("Median", a => a[0].Median(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Msort()"/>.</summary>
    public Tensor Msort()
    {
        return EagerPlans.Run("Msort", a => a[0].Msort(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Multigammaln(int)"/>.</summary>
    public Tensor Multigammaln(int p)
    {
        return EagerPlans.Run(Key($"Multigammaln {p}"), a => a[0].Multigammaln(p), this);
    }

    /// <summary>Computed now, as <see cref="Expr.NanQuantile(double, int?, bool, QuantileInterpolation)"/>.</summary>
    public Tensor NanQuantile(double q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        return EagerPlans.Run(Key($"NanQuantile {q:R} {axis} {keepDims} {interpolation}"), a => a[0].NanQuantile(q, axis, keepDims, interpolation), this);
    }

    /// <summary>Computed now, as <see cref="Expr.NanQuantile(double[], int?, bool, QuantileInterpolation)"/>.</summary>
    public Tensor NanQuantile(double[] q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        ArgumentNullException.ThrowIfNull(q);
        return EagerPlans.Run(Key($"NanQuantile {string.Join(",", q)} {axis} {keepDims} {interpolation}"), a => a[0].NanQuantile(q, axis, keepDims, interpolation), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Ndtr()"/>.</summary>
    public Tensor Ndtr()
    {
        return EagerPlans.Run("Ndtr", a => a[0].Ndtr(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Ndtri()"/>.</summary>
    public Tensor Ndtri()
    {
        return EagerPlans.Run("Ndtri", a => a[0].Ndtri(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Pad(int[], int[])"/>.</summary>
    public Tensor Pad(int[] before, int[] after)
    {
        ArgumentNullException.ThrowIfNull(before);
        ArgumentNullException.ThrowIfNull(after);
        return EagerPlans.Run(Key($"Pad {string.Join(",", before)} {string.Join(",", after)}"), a => a[0].Pad(before, after), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Pinv(double?, double?)"/>.</summary>
    public Tensor Pinv(double? atol = null, double? rtol = null)
    {
        return EagerPlans.Run(Key($"Pinv {atol:R} {rtol:R}"), a => a[0].Pinv(atol, rtol), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Polygamma(int)"/>.</summary>
    public Tensor Polygamma(int n)
    {
        return EagerPlans.Run(Key($"Polygamma {n}"), a => a[0].Polygamma(n), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Prelu(Expr)"/>.</summary>
    public Tensor Prelu(Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(weight);
        return EagerPlans.Run("Prelu", a => a[0].Prelu(a[1]), this, weight);
    }

    /// <summary>Computed now, as <see cref="Expr.Quantile(double, int?, bool, QuantileInterpolation)"/>.</summary>
    public Tensor Quantile(double q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        return EagerPlans.Run(Key($"Quantile {q:R} {axis} {keepDims} {interpolation}"), a => a[0].Quantile(q, axis, keepDims, interpolation), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Quantile(double[], int?, bool, QuantileInterpolation)"/>.</summary>
    public Tensor Quantile(double[] q, int? axis = null, bool keepDims = false, QuantileInterpolation interpolation = QuantileInterpolation.Linear)
    {
        ArgumentNullException.ThrowIfNull(q);
        return EagerPlans.Run(Key($"Quantile {string.Join(",", q)} {axis} {keepDims} {interpolation}"), a => a[0].Quantile(q, axis, keepDims, interpolation), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Roll(int)"/>.</summary>
    public Tensor Roll(int shift)
    {
        return EagerPlans.Run(Key($"Roll {shift}"), a => a[0].Roll(shift), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Roll(int, int)"/>.</summary>
    public Tensor Roll(int shift, int axis)
    {
        return EagerPlans.Run(Key($"Roll {shift} {axis}"), a => a[0].Roll(shift, axis), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Roll(int[], int[])"/>.</summary>
    public Tensor Roll(int[] shifts, int[] axes)
    {
        ArgumentNullException.ThrowIfNull(shifts);
        ArgumentNullException.ThrowIfNull(axes);
        return EagerPlans.Run(Key($"Roll {string.Join(",", shifts)} {string.Join(",", axes)}"), a => a[0].Roll(shifts, axes), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Sgn()"/>.</summary>
    public Tensor Sgn()
    {
        return EagerPlans.Run("Sgn", a => a[0].Sgn(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Softmin(int)"/>.</summary>
    public Tensor Softmin(int axis = -1)
    {
        return EagerPlans.Run(Key($"Softmin {axis}"), a => a[0].Softmin(axis), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Softshrink(double)"/>.</summary>
    public Tensor Softshrink(double lambda = 0.5)
    {
        return EagerPlans.Run(Key($"Softshrink {lambda:R}"), a => a[0].Softshrink(lambda), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Solve(Expr)"/>.</summary>
    public Tensor Solve(Tensor b)
    {
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run("Solve", a => a[0].Solve(a[1]), this, b);
    }

    /// <summary>Computed now, as <see cref="Expr.SolveTriangular(Expr, bool, bool, bool, bool)"/>.</summary>
    public Tensor SolveTriangular(Tensor b, bool upper, bool left = true, bool transpose = false, bool unitriangular = false)
    {
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run(Key($"SolveTriangular {upper} {left} {transpose} {unitriangular}"), a => a[0].SolveTriangular(a[1], upper, left, transpose, unitriangular), this, b);
    }

    /// <summary>Computed now, as <see cref="Expr.SvdVals()"/>.</summary>
    public Tensor SvdVals()
    {
        return EagerPlans.Run("SvdVals", a => a[0].SvdVals(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Tanhshrink()"/>.</summary>
    public Tensor Tanhshrink()
    {
        return EagerPlans.Run("Tanhshrink", a => a[0].Tanhshrink(), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Threshold(double, double)"/>.</summary>
    public Tensor Threshold(double threshold, double value)
    {
        return EagerPlans.Run(Key($"Threshold {threshold:R} {value:R}"), a => a[0].Threshold(threshold, value), this);
    }

    /// <summary>Computed now, as <see cref="Expr.Trace()"/>.</summary>
    public Tensor Trace()
    {
        return EagerPlans.Run("Trace", a => a[0].Trace(), this);
    }

    /// <summary>Computed now (one evaluation for every part), as <see cref="Expr.Qr()"/>.</summary>
    public (Tensor Q, Tensor R) Qr()
    {
        var r = ((Expr)this).Qr();
        var all = Expr.EvalMany(r.Q, r.R);
        return (all[0], all[1]);
    }

    /// <summary>Computed now (one evaluation for both parts), as <see cref="Expr.LuFactor()"/>.</summary>
    public (Tensor LU, Tensor Pivots) LuFactor()
    {
        var r = ((Expr)this).LuFactor();
        var all = Expr.EvalMany(r.LU, r.Pivots);
        return (all[0], all[1]);
    }

    /// <summary>Computed now (one evaluation for every part), as <see cref="Expr.Lu()"/>.</summary>
    public (Tensor P, Tensor L, Tensor U) Lu()
    {
        var r = ((Expr)this).Lu();
        var all = Expr.EvalMany(r.P, r.L, r.U);
        return (all[0], all[1], all[2]);
    }

    /// <summary>Computed now (one evaluation for every part), as <see cref="Expr.LuUnpack(Expr, Expr)"/>.</summary>
    public static (Tensor P, Tensor L, Tensor U) LuUnpack(Tensor lu, Tensor pivots)
    {
        ArgumentNullException.ThrowIfNull(lu);
        ArgumentNullException.ThrowIfNull(pivots);
        var r = Expr.LuUnpack(lu, pivots);
        var all = Expr.EvalMany(r.P, r.L, r.U);
        return (all[0], all[1], all[2]);
    }

    /// <summary>Computed now, as <see cref="Expr.LuSolve(Expr, Expr, Expr, bool, bool)"/>.</summary>
    public static Tensor LuSolve(Tensor lu, Tensor pivots, Tensor b, bool left = true, bool adjoint = false)
    {
        ArgumentNullException.ThrowIfNull(lu);
        ArgumentNullException.ThrowIfNull(pivots);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run(Key($"LuSolve {left} {adjoint}"), a => Expr.LuSolve(a[0], a[1], a[2], left, adjoint), lu, pivots, b);
    }

    /// <summary>Computed now (one evaluation for every part), as <see cref="Expr.SlogDet()"/>.</summary>
    public (Tensor Sign, Tensor LogAbsDet) SlogDet()
    {
        var r = ((Expr)this).SlogDet();
        var all = Expr.EvalMany(r.Sign, r.LogAbsDet);
        return (all[0], all[1]);
    }

    /// <summary>Computed now (one evaluation for every part), as <see cref="Expr.Svd()"/>.</summary>
    public (Tensor U, Tensor S, Tensor Vh) Svd()
    {
        var r = ((Expr)this).Svd();
        var all = Expr.EvalMany(r.U, r.S, r.Vh);
        return (all[0], all[1], all[2]);
    }

    /// <summary>Computed now (one evaluation for both parts), as <see cref="Expr.Aminmax(int?, bool)"/>.</summary>
    public (Tensor Min, Tensor Max) Aminmax(int? axis = null, bool keepDims = false)
    {
        var (first, second) = ((Expr)this).Aminmax(axis, keepDims);
        var both = Expr.EvalMany(first, second);
        return (both[0], both[1]);
    }

    /// <summary>Computed now (one evaluation for both parts), as <see cref="Expr.KthValue(int, int, bool)"/>.</summary>
    public (Tensor Values, Tensor Indices) KthValue(int k, int axis = -1, bool keepDims = false)
    {
        var (first, second) = ((Expr)this).KthValue(k, axis, keepDims);
        var both = Expr.EvalMany(first, second);
        return (both[0], both[1]);
    }

    /// <summary>Computed now (one evaluation for both parts), as <see cref="Expr.Median(int, bool)"/>.</summary>
    public (Tensor Values, Tensor Indices) Median(int axis, bool keepDims = false)
    {
        var (first, second) = ((Expr)this).Median(axis, keepDims);
        var both = Expr.EvalMany(first, second);
        return (both[0], both[1]);
    }

    /// <summary>Computed now, as <see cref="Expr.Cdist(Expr, Expr, double)"/>.</summary>
    public static Tensor Cdist(Tensor x1, Tensor x2, double p = 2.0)
    {
        ArgumentNullException.ThrowIfNull(x1);
        ArgumentNullException.ThrowIfNull(x2);
        return EagerPlans.Run(Key($"Cdist {p:R}"), a => Expr.Cdist(a[0], a[1], p), x1, x2);
    }

    /// <summary>Computed now, as <see cref="Expr.Dist(Expr, Expr, double)"/>.</summary>
    public static Tensor Dist(Tensor a, Tensor b, double p = 2.0)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run(Key($"Dist {p:R}"), a => Expr.Dist(a[0], a[1], p), a, b);
    }

    /// <summary>Computed now, as <see cref="Expr.FloorDivide(Expr, Expr)"/>.</summary>
    public static Tensor FloorDivide(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run("FloorDivide", a => Expr.FloorDivide(a[0], a[1]), a, b);
    }

    /// <summary>Computed now, as <see cref="Expr.Hypot(Expr, Expr)"/>.</summary>
    public static Tensor Hypot(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run("Hypot", a => Expr.Hypot(a[0], a[1]), a, b);
    }

    /// <summary>Computed now, as <see cref="Expr.LogAddExp(Expr, Expr)"/>.</summary>
    public static Tensor LogAddExp(Tensor a, Tensor b)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(b);
        return EagerPlans.Run("LogAddExp", a => Expr.LogAddExp(a[0], a[1]), a, b);
    }

    /// <summary>Computed now, as <see cref="Expr.Xlog1py(Expr, Expr)"/>.</summary>
    public static Tensor Xlog1py(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return EagerPlans.Run("Xlog1py", a => Expr.Xlog1py(a[0], a[1]), x, y);
    }

    /// <summary>Computed now, as <see cref="Expr.Gammainc(Expr, Expr)"/>.</summary>
    public static Tensor Gammainc(Tensor a, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(x);
        return EagerPlans.Run("Gammainc", t => Expr.Gammainc(t[0], t[1]), a, x);
    }

    /// <summary>Computed now, as <see cref="Expr.Gammaincc(Expr, Expr)"/>.</summary>
    public static Tensor Gammaincc(Tensor a, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(a);
        ArgumentNullException.ThrowIfNull(x);
        return EagerPlans.Run("Gammaincc", t => Expr.Gammaincc(t[0], t[1]), a, x);
    }

    /// <summary>Computed now, as <see cref="Expr.Zeta(Expr, Expr)"/>.</summary>
    public static Tensor Zeta(Tensor s, Tensor q)
    {
        ArgumentNullException.ThrowIfNull(s);
        ArgumentNullException.ThrowIfNull(q);
        return EagerPlans.Run("Zeta", t => Expr.Zeta(t[0], t[1]), s, q);
    }

    /// <summary>Computed now, as <see cref="Expr.Xlogy(Expr, Expr)"/>.</summary>
    public static Tensor Xlogy(Tensor x, Tensor y)
    {
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        return EagerPlans.Run("Xlogy", a => Expr.Xlogy(a[0], a[1]), x, y);
    }

    /// <summary>Einstein summation computed now, as <see cref="Expr.Einsum(string, Expr[])"/> (torch.einsum).</summary>
    public static Tensor Einsum(string equation, params Tensor[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        Interop.ThrowIfAnyNull(operands, nameof(operands));
        return EagerPlans.Run($"Einsum {equation} {operands.Length}", a => Expr.Einsum(equation, a), operands);
    }

    /// <summary>The rows of <paramref name="weight"/> at <paramref name="indices"/>, computed now, as <see cref="Expr.Embedding(Expr, Expr)"/>.</summary>
    public static Tensor Embedding(Tensor indices, Tensor weight)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(weight);
        return EagerPlans.Run("Embedding", a => Expr.Embedding(a[0], a[1]), indices, weight);
    }
}

