using Build = FunctionalDiff.Core.ExprModule;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreNormalisation = FunctionalDiff.Core.Normalisation;

namespace FunctionalDiff;

// torch.nn.functional's batch_norm, group_norm and instance_norm as pure functions. A model is a function here, so
// there is no train/eval switch: the batch-statistics form is torch's training mode, the running-statistics form its
// evaluation mode, and the running statistics are values the caller keeps (BatchStatistics gives what to mix in).
public static partial class Nn
{
    /// <summary>The node of an optional per-channel parameter in the input's dtype, or the scalar <paramref name="absent"/>.</summary>
    static CoreExpr Affine(Expr input, Expr? p, double absent) =>
        p is null ? Build.scalar(input.Node.DType, absent) : Expr.Align(input, p).B;

    /// <summary>
    /// Batch normalisation with the batch's own statistics, torch's <c>F.batch_norm(x, None, None, weight, bias,
    /// training=True, eps=epsilon)</c>: each channel (axis 1 of an input [N, C, ...]) is normalised by its mean and
    /// biased variance over the batch and spatial axes, then scaled by <paramref name="weight"/> and shifted by
    /// <paramref name="bias"/> ([C] each; none when null). Channels of huge entries are scaled first, as
    /// <see cref="Expr.LayerNorm"/>. F#: <c>Normalisation.batchNorm</c>.
    /// </summary>
    /// <remarks>
    /// For running statistics as torch's BatchNorm layers keep them, take <see cref="BatchStatistics"/> of the same input
    /// and mix them in yourself (<c>running = (1 − momentum)·running + momentum·batch</c>, momentum 0.1 in torch), then
    /// evaluate with <see cref="BatchNormWithStatistics"/>.
    /// </remarks>
    /// <exception cref="ArgumentException">The input has rank below 2 or one value per channel, or a parameter is not [C].</exception>
    public static Expr BatchNorm(Expr input, Expr? weight = null, Expr? bias = null, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreNormalisation.batchNorm(epsilon, Affine(input, weight, 1.0), Affine(input, bias, 0.0), input.Node));
    }

    /// <summary>
    /// Batch normalisation with given statistics, torch's evaluation mode <c>F.batch_norm(x, running_mean, running_var,
    /// weight, bias, training=False, eps=epsilon)</c>: (x − mean) / √(variance + ε) · weight + bias per channel (axis 1),
    /// each statistic and parameter [C]. F#: <c>Normalisation.batchNormWith</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input has rank below 2, or a statistic or parameter is not [C].</exception>
    public static Expr BatchNormWithStatistics(Expr input, Expr runningMean, Expr runningVariance, Expr? weight = null, Expr? bias = null, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        var mean = Expr.Align(input, runningMean).B;
        var variance = Expr.Align(input, runningVariance).B;
        return Expr.Wrap(CoreNormalisation.batchNormWith(mean, variance, epsilon, Affine(input, weight, 1.0), Affine(input, bias, 0.0), input.Node));
    }

    /// <summary>
    /// The batch's per-channel mean and unbiased variance ([C] each) of an input [N, C, ...]: what torch's batch_norm in
    /// training mixes into its running statistics. F#: <c>Normalisation.batchStatistics</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input has rank below 2 or one value per channel.</exception>
    public static (Expr Mean, Expr Variance) BatchStatistics(Expr input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (mean, variance) = CoreNormalisation.batchStatistics(input.Node);
        return (Expr.Wrap(mean), Expr.Wrap(variance));
    }

    /// <summary>
    /// Group normalisation, torch's <c>F.group_norm(x, groups, weight, bias, eps)</c>: the channels of an input
    /// [N, C, ...] split into <paramref name="groups"/> groups of consecutive channels, each group of each example
    /// normalised over its channels and spatial axes (biased variance), then · weight + bias per channel ([C] each; none
    /// when null). F#: <c>Normalisation.groupNorm</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The groups do not divide the channels, or a parameter is not [C].</exception>
    public static Expr GroupNorm(Expr input, int groups, Expr? weight = null, Expr? bias = null, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreNormalisation.groupNorm(groups, epsilon, Affine(input, weight, 1.0), Affine(input, bias, 0.0), input.Node));
    }

    /// <summary>
    /// Instance normalisation with the input's own statistics, torch's <c>F.instance_norm(x, weight=weight, bias=bias,
    /// eps=epsilon)</c>: each channel of each example of an input [N, C, L, ...] normalised over its spatial axes
    /// (biased variance), then · weight + bias per channel ([C] each; none when null). F#: <c>Normalisation.instanceNorm</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input has rank below 3 or one spatial entry, or a parameter is not [C].</exception>
    public static Expr InstanceNorm(Expr input, Expr? weight = null, Expr? bias = null, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreNormalisation.instanceNorm(epsilon, Affine(input, weight, 1.0), Affine(input, bias, 0.0), input.Node));
    }

    /// <summary>
    /// torch.nn.functional.local_response_norm over [N, C, ...]: input / (k + alpha·mean)^beta, the mean of input² over
    /// <paramref name="size"/> neighbouring channels (zero-padded, the padding counted), torch's defaults.
    /// F#: <c>Normalisation.localResponseNorm</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input has no spatial axis, or size is below 1.</exception>
    public static Expr LocalResponseNorm(Expr input, int size, double alpha = 1e-4, double beta = 0.75, double k = 1.0)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreNormalisation.localResponseNorm(size, alpha, beta, k, input.Node));
    }
}
