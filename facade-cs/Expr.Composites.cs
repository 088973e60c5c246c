using Build = FunctionalDiff.Core.ExprModule;
using CoreNn = FunctionalDiff.Core.Nn;

namespace FunctionalDiff;

// Composites built in the core from primitives, with torch's conventions. They have no rules of
// their own: their derivatives follow from the primitives. Softmax and LogSoftmax are the exception:
// each is one primitive of the core with a fused rule, which keeps second derivatives accurate.
public sealed partial class Expr
{
    /// <summary>Softmax along an axis, the last by default (jax.nn.softmax's axis=-1; torch needs the dim), computed stably (the maximum is subtracted first).</summary>
    public Expr Softmax(int axis = -1) => Wrap(CoreNn.softmax(axis, Node));

    /// <summary>log(softmax(x)) along an axis, the last by default (jax.nn.log_softmax's axis=-1), computed stably.</summary>
    public Expr LogSoftmax(int axis = -1) => Wrap(CoreNn.logSoftmax(axis, Node));

    /// <summary>log(sum(exp(x))) over every element, a scalar (jax.nn.logsumexp without an axis, as <see cref="Sum()"/>); no overflow for large inputs.</summary>
    public Expr LogSumExp() => Wrap(CoreNn.logSumExp(AllAxes, false, Node));

    /// <summary>log(sum(exp(x))) along an axis, which is removed (torch's logsumexp); no overflow for large inputs.</summary>
    public Expr LogSumExp(int axis) => Wrap(CoreNn.logSumExp(new[] { axis }, false, Node));

    /// <summary>torch's <c>logsumexp(dim, keepdim)</c>: log(sum(exp(x))) along an axis, kept as size 1 when <paramref name="keepDims"/> is set.</summary>
    public Expr LogSumExp(int axis, bool keepDims) => Wrap(CoreNn.logSumExp(new[] { axis }, keepDims, Node));

    /// <summary>log(sum(exp(x))) over several axes (negative axes count from the end), as torch's <c>logsumexp</c> with a tuple of dims.</summary>
    public Expr LogSumExp(int[] axes, bool keepDims = false)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Wrap(CoreNn.logSumExp(axes, keepDims, Node));
    }

    /// <summary>
    /// Layer normalisation over the last axis, without scale or shift: (x − mean) / sqrt(var + ε) with
    /// the biased variance, as torch's layer_norm with normalized_shape equal to the last dimension. A row whose
    /// largest |entry| is above 2^480 (float64) or 2^50 (float32) is divided by it first, with ε scaled to match, the
    /// same function: a row near 1e300 gets its values where torch's squares overflow to NaN.
    /// </summary>
    public Expr LayerNorm(double epsilon = 1e-5) =>
        // Scale 1 and shift −0 fold away in the op language, leaving the bare normalisation, as torch's
        // layer_norm without weight and bias: −0 is IEEE's additive identity (x + −0 is x, −0 included),
        // where + (+0) is kept, since it turns a −0 into +0.
        Wrap(CoreNn.layerNorm(epsilon, Build.scalar(Node.DType, 1.0), Build.scalar(Node.DType, -0.0), Node));
}
