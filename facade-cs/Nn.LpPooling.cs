using CorePool = FunctionalDiff.Core.Pooling;

namespace FunctionalDiff;

// 3-D adaptive pooling, power-average (LP) pooling and Softmax2d, as torch.nn.functional's.
public static partial class Nn
{
    /// <summary>
    /// Adaptive average pooling as torch's adaptive_avg_pool3d over [N, C, D, H, W] (or [C, D, H, W]) to a
    /// (depth, height, width) output: each output averages the box of entries ⌊i·S/O⌋ to ⌈(i+1)·S/O⌉ − 1 along each axis.
    /// F#: <c>Pooling.adaptiveAvgPool3d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 4 or 5, or an output size is below 1.</exception>
    public static Expr AdaptiveAvgPool3d(Expr input, (int Depth, int Height, int Width) outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Interop.Named("AdaptiveAvgPool3d", () => Expr.Wrap(CorePool.adaptiveAvgPool3d(outputSize.Depth, outputSize.Height, outputSize.Width, input.Node)));
    }

    /// <summary>Adaptive average pooling to a cube of <paramref name="outputSize"/> on every axis; see the overload with a triple.</summary>
    public static Expr AdaptiveAvgPool3d(Expr input, int outputSize) => AdaptiveAvgPool3d(input, (outputSize, outputSize, outputSize));

    /// <summary>
    /// Adaptive max pooling as torch's adaptive_max_pool3d over [N, C, D, H, W] (or [C, D, H, W]): each output is the
    /// largest entry of its box, its gradient at torch's index (the first largest in row-major order). F#:
    /// <c>Pooling.adaptiveMaxPool3d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 4 or 5, or an output size is below 1.</exception>
    public static Expr AdaptiveMaxPool3d(Expr input, (int Depth, int Height, int Width) outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Interop.Named("AdaptiveMaxPool3d", () => Expr.Wrap(CorePool.adaptiveMaxPool3d(outputSize.Depth, outputSize.Height, outputSize.Width, input.Node)));
    }

    /// <summary>Adaptive max pooling to a cube of <paramref name="outputSize"/> on every axis; see the overload with a triple.</summary>
    public static Expr AdaptiveMaxPool3d(Expr input, int outputSize) => AdaptiveMaxPool3d(input, (outputSize, outputSize, outputSize));

    /// <summary>
    /// Power-average pooling as torch's lp_pool1d over [N, C, L] (or [C, L]): (Σ xᵖ over each window)^(1/p), windows of
    /// <paramref name="kernelSize"/> entries <paramref name="stride"/> apart (the kernel size by default), no padding.
    /// Computed as torch does, from avg_pool1d of xᵖ, so the derivatives are the same (a window whose sum is 0 has
    /// derivative 0, or NaN for p &gt; 1 as in torch). F#: <c>Pooling.lpPool1d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="normType"/> is 0 or NaN.</exception>
    public static Expr LpPool1d(Expr input, double normType, int kernelSize, int? stride = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.lpPool1d(normType, kernelSize, stride ?? 0, ceilMode, input.Node));
    }

    /// <summary>Power-average pooling as torch's lp_pool2d with a square kernel; see the overload with pairs.</summary>
    public static Expr LpPool2d(Expr input, double normType, int kernelSize, int? stride = null, bool ceilMode = false) =>
        LpPool2d(input, normType, (kernelSize, kernelSize), stride is int s ? (s, s) : null, ceilMode);

    /// <summary>
    /// Power-average pooling as torch's lp_pool2d over [N, C, H, W] (or [C, H, W]): (Σ xᵖ over each window)^(1/p), the
    /// stride the kernel size by default, no padding; computed from avg_pool2d of xᵖ as torch does. F#: <c>Pooling.lpPool2d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="normType"/> is 0 or NaN.</exception>
    public static Expr LpPool2d(Expr input, double normType, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        var s = stride ?? (0, 0);
        return Expr.Wrap(CorePool.lpPool2d(normType, kernelSize.Height, kernelSize.Width, s.Height, s.Width, ceilMode, input.Node));
    }

    /// <summary>torch.nn.Softmax2d: softmax over the channels (axis −3) of [N, C, H, W] or [C, H, W].</summary>
    /// <exception cref="ArgumentException">The input is not rank 3 or 4.</exception>
    public static Expr Softmax2d(Expr input)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.softmax2d(input.Node));
    }
}
