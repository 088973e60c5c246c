using System.Runtime.CompilerServices;
namespace FunctionalDiff;

// Ops a torch user calls on values between compiled steps (predictions, metrics, reshaping a batch)
// that the kernels do not have on their own. The shape ops are views computed with Expr's shape
// rules, so a tensor and an Expr never disagree about a result's shape; softmax, logsumexp and the
// statistics build a small graph and evaluate it, as Expr.Eval does (compile it inside a hot loop).
public sealed partial class Tensor
{
    /// <summary>
    /// The matrix product of this tensor with a symbolic <paramref name="other"/>, with torch.matmul's rules: an
    /// <see cref="Expr"/>, as <c>((Expr)this).MatMul(other)</c>, so a captured weight multiplies a traced input
    /// (<c>w.MatMul(x)</c>) without a cast.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public Expr MatMul(Expr other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return ((Expr)this).MatMul(other);
    }

    /// <summary>softmax along <paramref name="axis"/>, the last by default (torch.softmax(t, dim), jax.nn.softmax), computed as <see cref="Expr.Softmax"/> is.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Softmax(int axis = -1) => EagerPlans.Run($"Softmax {axis}", a => a[0].Softmax(axis), this);

    /// <summary>log-softmax along <paramref name="axis"/>, the last by default (torch.log_softmax(t, dim), jax.nn.log_softmax), computed as <see cref="Expr.LogSoftmax"/> is.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor LogSoftmax(int axis = -1) => EagerPlans.Run($"LogSoftmax {axis}", a => a[0].LogSoftmax(axis), this);

    /// <summary>log Σ exp over every element, a scalar, computed stably, as <see cref="Expr.LogSumExp()"/> is.</summary>
    public Tensor LogSumExp() => EagerPlans.Run("LogSumExp", a => a[0].LogSumExp(), this);

    /// <summary>log Σ exp along <paramref name="axis"/>, computed stably (torch.logsumexp), as <see cref="Expr.LogSumExp(int, bool)"/> is.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor LogSumExp(int axis, bool keepDims = false) => EagerPlans.Run($"LogSumExp {axis} {keepDims}", a => a[0].LogSumExp(axis, keepDims), this);

    /// <summary>
    /// The vector p-norm of all elements (torch.linalg.vector_norm; p positive, 0 or ±∞), as <see cref="Expr.Norm(double)"/>:
    /// the global norm of a gradient, say, before clipping it.
    /// </summary>
    /// <exception cref="ArgumentException">p is negative and finite, or NaN.</exception>
    public Tensor Norm(double p = 2.0) => EagerPlans.Run($"Norm {p:R}", a => a[0].Norm(p), this);

    /// <summary>The vector p-norm along an axis, as <see cref="Expr.Norm(double, int, bool)"/>.</summary>
    /// <exception cref="ArgumentException">p is negative and finite or NaN, or the axis is out of range.</exception>
    public Tensor Norm(double p, int axis, bool keepDims = false) => EagerPlans.Run($"Norm {p:R} {axis} {keepDims}", a => a[0].Norm(p, axis, keepDims), this);

    /// <summary>The vector p-norm (the 2-norm by default) along an axis named without the order, as
    /// <see cref="Expr.Norm(int, bool, double)"/> (torch's <c>t.norm(dim=-1, keepdim=True)</c>); <c>t.Norm(1)</c> stays the
    /// 1-norm of every element.</summary>
    /// <exception cref="ArgumentException">p is negative and finite or NaN, or the axis is out of range.</exception>
    [OverloadResolutionPriority(-1)]
    public Tensor Norm(int axis, bool keepDims = false, double p = 2.0) => Norm(p, axis, keepDims);

    /// <summary>The variance of all elements with Bessel's correction (torch.var), as <see cref="Expr.Var()"/>.</summary>
    public Tensor Var() => EagerPlans.Run("Var", a => a[0].Var(), this);

    /// <summary>The variance along an axis, Σ(x − mean)² / (N − correction) (torch.var), as <see cref="Expr.Var(int, double, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Var(int axis, double correction = 1.0, bool keepDims = false) => EagerPlans.Run($"Var {axis} {correction:R} {keepDims}", a => a[0].Var(axis, correction, keepDims), this);

    /// <summary>The standard deviation of all elements with Bessel's correction (torch.std), as <see cref="Expr.Std()"/>.</summary>
    public Tensor Std() => EagerPlans.Run("Std", a => a[0].Std(), this);

    /// <summary>The standard deviation along an axis (torch.std), as <see cref="Expr.Std(int, double, bool)"/>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Std(int axis, double correction = 1.0, bool keepDims = false) => EagerPlans.Run($"Std {axis} {correction:R} {keepDims}", a => a[0].Std(axis, correction, keepDims), this);

    /// <summary>Every axis of length 1 removed (torch.squeeze). A view.</summary>
    public Tensor Squeeze() => Reshape(((Expr)this).Squeeze().Shape);

    /// <summary>The axis removed when its length is 1, otherwise the same shape, as torch.squeeze(t, dim). A view.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Squeeze(int axis) => Reshape(((Expr)this).Squeeze(axis).Shape);

    /// <summary>A new axis of length 1 at <paramref name="axis"/> (−1 appends it), as torch.unsqueeze. A view.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor Unsqueeze(int axis) => Reshape(((Expr)this).Unsqueeze(axis).Shape);

    /// <summary>Axes <paramref name="startAxis"/> to <paramref name="endAxis"/> (inclusive) merged into one, as torch.flatten. A view.</summary>
    /// <exception cref="ArgumentException">An axis is out of range, or startAxis comes after endAxis.</exception>
    public Tensor Flatten(int startAxis = 0, int endAxis = -1) => Reshape(((Expr)this).Flatten(startAxis, endAxis).Shape);

    /// <summary>
    /// One-hot codes of integer labels held in this tensor (torch.nn.functional.one_hot, jax.nn.one_hot): a new last
    /// axis of <paramref name="classes"/> entries, 1 at each label's class, in this tensor's dtype, as
    /// <see cref="Expr.OneHot"/> computes it; <c>Tensor.FromArray([2, 0, 1]).OneHot(3)</c> is a 3×3 target batch.
    /// </summary>
    /// <exception cref="ArgumentException">A label is not a whole number in [0, classes), or classes is not positive.</exception>
    public Tensor OneHot(int classes) => ((Expr)this).OneHot(classes).Eval();

    /// <summary><paramref name="ifTrue"/> where <paramref name="condition"/> is nonzero, else the number <paramref name="ifFalse"/> (in ifTrue's dtype).</summary>
    public static Tensor Where(Tensor condition, Tensor ifTrue, double ifFalse)
    {
        ArgumentNullException.ThrowIfNull(ifTrue);
        return Where(condition, ifTrue, Scalar(ifFalse, ifTrue.DType));
    }

    /// <summary>The number <paramref name="ifTrue"/> (in ifFalse's dtype) where <paramref name="condition"/> is nonzero, else <paramref name="ifFalse"/>.</summary>
    public static Tensor Where(Tensor condition, double ifTrue, Tensor ifFalse)
    {
        ArgumentNullException.ThrowIfNull(ifFalse);
        return Where(condition, Scalar(ifTrue, ifFalse.DType), ifFalse);
    }
}
