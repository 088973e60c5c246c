using CoreMode = FunctionalDiff.Core.InterpolationMode;
using CoreResampling = FunctionalDiff.Core.Resampling;
using Microsoft.FSharp.Core;

namespace FunctionalDiff;

/// <summary>How <see cref="Nn.Interpolate(Expr, int[], InterpolationMode, bool)"/> reads between input entries.</summary>
public enum InterpolationMode
{
    /// <summary>The input entry at ⌊output index · in/out⌋, torch's <c>'nearest'</c>.</summary>
    Nearest,
    /// <summary>Linear in each spatial axis between the two nearest entries: torch's <c>'linear'</c>, <c>'bilinear'</c> or <c>'trilinear'</c> for one, two or three spatial axes.</summary>
    Linear,
}

public static partial class Nn
{
    static CoreMode Mode(InterpolationMode mode) => mode switch
    {
        InterpolationMode.Nearest => CoreMode.Nearest,
        InterpolationMode.Linear => CoreMode.Linear,
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, "Interpolate: unknown mode"),
    };

    /// <summary>
    /// torch's <c>F.interpolate(x, size, mode, align_corners)</c> for an input [N, C, d1, ...] with one to three spatial
    /// axes: each spatial axis resampled to its entry of <paramref name="size"/>. Each axis is a product with a constant
    /// resampling matrix, so the derivative is its transpose, at every order. F#: <c>Resampling.interpolate</c>.
    /// </summary>
    /// <param name="input">The input, [N, C, d1, ...].</param>
    /// <param name="size">The output length of each spatial axis.</param>
    /// <param name="mode">Nearest (torch's default) or linear.</param>
    /// <param name="alignCorners">torch's align_corners, for <see cref="InterpolationMode.Linear"/> only.</param>
    /// <exception cref="ArgumentException">The rank or the sizes do not fit, or align_corners is set with nearest.</exception>
    public static Expr Interpolate(Expr input, int[] size, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(size);
        return Expr.Wrap(CoreResampling.interpolate(Mode(mode), size, FSharpOption<double[]>.None, alignCorners, input.Node));
    }

    /// <summary>
    /// torch's <c>F.interpolate(x, scale_factor=scaleFactor, mode, align_corners)</c>: each spatial axis of length d
    /// becomes ⌊d · scale⌋ long, and positions are read by 1/scale, as torch does when given a scale factor.
    /// F#: <c>Resampling.interpolate</c> with <c>Resampling.scaledSizes</c>.
    /// </summary>
    /// <param name="input">The input, [N, C, d1, ...].</param>
    /// <param name="scaleFactor">One positive factor per spatial axis.</param>
    /// <param name="mode">Nearest (torch's default) or linear.</param>
    /// <param name="alignCorners">torch's align_corners, for <see cref="InterpolationMode.Linear"/> only.</param>
    /// <exception cref="ArgumentException">The rank or the factors do not fit, or align_corners is set with nearest.</exception>
    public static Expr Interpolate(Expr input, double[] scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(scaleFactor);
        var sizes = CoreResampling.scaledSizes(scaleFactor, input.Node);
        return Expr.Wrap(CoreResampling.interpolate(Mode(mode), sizes, FSharpOption<double[]>.Some(scaleFactor), alignCorners, input.Node));
    }

    /// <summary>
    /// torch's <c>F.interpolate(x, size)</c> with one number: every spatial axis resampled to <paramref name="size"/>, as
    /// torch takes an int for all of them (<c>Interpolate(x, 16)</c> is <c>F.interpolate(x, 16)</c>).
    /// </summary>
    /// <exception cref="ArgumentException">The rank or the size does not fit, or align_corners is set with nearest.</exception>
    public static Expr Interpolate(Expr input, int size, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Interpolate(input, Enumerable.Repeat(size, SpatialAxes(input)).ToArray(), mode, alignCorners);
    }

    /// <summary>
    /// torch's <c>F.interpolate(x, scale_factor=scaleFactor)</c> with one factor for every spatial axis, as torch takes a float
    /// (<c>Interpolate(x, scaleFactor: 2)</c> is <c>F.interpolate(x, scale_factor=2)</c>, nn.Upsample's default).
    /// </summary>
    /// <exception cref="ArgumentException">The rank or the factor does not fit, or align_corners is set with nearest.</exception>
    public static Expr Interpolate(Expr input, double scaleFactor, InterpolationMode mode = InterpolationMode.Nearest, bool alignCorners = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Interpolate(input, Enumerable.Repeat(scaleFactor, SpatialAxes(input)).ToArray(), mode, alignCorners);
    }

    // the axes after [N, C]; an input of rank below 3 gets one entry, so that the core names the rank it needs
    static int SpatialAxes(Expr input) => Math.Max(1, input.Rank - 2);

    /// <summary>
    /// Dropout as torch's <c>F.dropout(x, p, training=True)</c>, with the randomness given: x · (noise ≥ p) / (1 − p),
    /// where <paramref name="noise"/> holds uniform [0, 1) draws of x's shape (or one that broadcasts to it), such as
    /// <see cref="Tensor.Rand(int[])"/>. Each entry is kept with probability 1 − p and scaled so that the mean is kept;
    /// p = 1 gives zeros. F#: <c>Resampling.dropout</c>.
    /// </summary>
    /// <remarks>
    /// In a compiled step, make the noise an input and pass fresh draws every call: a tensor the step captures is a
    /// constant of its plan, so a captured noise would drop the same entries every time. For evaluation, leave dropout
    /// out (torch's eval mode is the identity).
    /// </remarks>
    /// <exception cref="ArgumentException">p is outside [0, 1], or the noise does not broadcast to the input.</exception>
    public static Expr Dropout(Expr input, double p, Expr noise)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(noise);
        return Expr.Wrap(CoreResampling.dropout(p, noise.Node, input.Node));
    }

    /// <summary>
    /// torch's <c>F.dropout1d(x, p, training=True)</c>: whole channels of [N, C, L] (or unbatched [C, L]) dropped, with
    /// one uniform [0, 1) draw per channel in <paramref name="noise"/> ([N, C], or [C]); kept channels are scaled by
    /// 1/(1 − p). Pass fresh draws every step, as for <see cref="Dropout"/>. F#: <c>Resampling.featureDropout</c>.
    /// </summary>
    /// <exception cref="ArgumentException">p is outside [0, 1], the input's rank is not 3 or 2, or the noise is not one draw per channel.</exception>
    public static Expr Dropout1d(Expr input, double p, Expr noise) => FeatureDropout("Dropout1d", 1, input, p, noise);

    /// <summary>torch's <c>F.dropout2d</c>: whole channels of [N, C, H, W] (or [C, H, W]) dropped, as <see cref="Dropout1d"/>.</summary>
    /// <exception cref="ArgumentException">p is outside [0, 1], the input's rank is not 4 or 3, or the noise is not one draw per channel.</exception>
    public static Expr Dropout2d(Expr input, double p, Expr noise) => FeatureDropout("Dropout2d", 2, input, p, noise);

    /// <summary>torch's <c>F.dropout3d</c>: whole channels of [N, C, D, H, W] (or [C, D, H, W]) dropped, as <see cref="Dropout1d"/>.</summary>
    /// <exception cref="ArgumentException">p is outside [0, 1], the input's rank is not 5 or 4, or the noise is not one draw per channel.</exception>
    public static Expr Dropout3d(Expr input, double p, Expr noise) => FeatureDropout("Dropout3d", 3, input, p, noise);

    static Expr FeatureDropout(string name, int spatial, Expr input, double p, Expr noise)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(noise);
        return Expr.Wrap(CoreResampling.featureDropout(name, spatial, p, noise.Node, input.Node));
    }

    /// <summary>
    /// torch's <c>F.alpha_dropout(x, p, training=True)</c> for self-normalising (SELU) networks, with the randomness given
    /// (<paramref name="noise"/>: uniform [0, 1) draws broadcastable to the input; an entry is kept where its draw is ≥ p):
    /// a kept entry becomes a·x + α'·a·p and a dropped one −α'·a·(1 − p), with α' = 1.7581 (SELU's saturation) and
    /// a = 1/√((α'²p + 1)(1 − p)), so a mean of 0 and a variance of 1 are kept. F#: <c>Resampling.alphaDropout</c>.
    /// </summary>
    /// <exception cref="ArgumentException">p is outside [0, 1], or the noise does not broadcast to the input.</exception>
    public static Expr AlphaDropout(Expr input, double p, Expr noise)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(noise);
        return Expr.Wrap(CoreResampling.alphaDropout(p, noise.Node, input.Node));
    }

    /// <summary>
    /// torch's <c>F.feature_alpha_dropout</c>: <see cref="AlphaDropout"/> of whole channels of [N, C, ...], one draw per
    /// channel in <paramref name="noise"/> ([N, C]). F#: <c>Resampling.featureAlphaDropout</c>.
    /// </summary>
    /// <exception cref="ArgumentException">p is outside [0, 1], the input has fewer than 2 axes, or the noise is not [N, C].</exception>
    public static Expr FeatureAlphaDropout(Expr input, double p, Expr noise)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(noise);
        return Expr.Wrap(CoreResampling.featureAlphaDropout(p, noise.Node, input.Node));
    }

    /// <summary>
    /// torch's <c>F.rrelu(x, lower, upper, training)</c>: x where positive, else r·x. In training r is drawn per entry from
    /// [lower, upper]: pass <paramref name="noise"/>, uniform [0, 1) draws broadcastable to x (r = lower + (upper − lower)·u);
    /// without noise r is (lower + upper)/2, torch's eval mode. The slope at 0 is r, as torch's. F#: <c>Resampling.rrelu</c>.
    /// </summary>
    /// <exception cref="ArgumentException">lower is above upper, or the noise does not broadcast to x.</exception>
    public static Expr RRelu(Expr input, double lower = 1.0 / 8, double upper = 1.0 / 3, Expr? noise = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreResampling.rrelu(lower, upper, Interop.Option(noise?.Node), input.Node));
    }

    /// <summary>
    /// torch's <c>F.gumbel_softmax(logits, tau, hard, dim)</c> with the randomness given: softmax((logits + g)/tau) along
    /// <paramref name="axis"/>, g = −log(−log u) for <paramref name="noise"/> u of uniform (0, 1) draws of the logits' shape
    /// (such as <see cref="Tensor.Rand(int[])"/>). With <paramref name="hard"/> the value is the one-hot of each argmax and
    /// the gradient the soft sample's (torch's straight-through estimator). F#: <c>Resampling.gumbelSoftmax</c>.
    /// </summary>
    /// <remarks>In a compiled step, make the noise an input and pass fresh draws every call (see <see cref="Dropout"/>).</remarks>
    /// <exception cref="ArgumentException">tau is not positive, the logits are a scalar, or the noise has another shape.</exception>
    public static Expr GumbelSoftmax(Expr logits, Expr noise, double tau = 1.0, bool hard = false, int axis = -1)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(noise);
        return Expr.Wrap(CoreResampling.gumbelSoftmax(tau, hard, axis, noise.Node, logits.Node));
    }
}
