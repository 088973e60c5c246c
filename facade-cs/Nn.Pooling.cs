using CorePool = FunctionalDiff.Core.Pooling;

namespace FunctionalDiff;

// 1-D pooling, adaptive max pooling and 3-D pooling, with torch.nn.functional's argument names, defaults,
// output shapes and gradient indices. Built in the core from the 2-D pooling layers, slices and gathers.
public static partial class Nn
{
    /// <summary>
    /// Max pooling as torch's max_pool1d over [N, C, L] (or [C, L]): the stride defaults to the kernel size and the
    /// padding is −∞. Each window's gradient goes to its first largest entry (its last NaN where it holds one), as
    /// torch's index-based backward does; <paramref name="ceilMode"/> is torch's ceil_mode. F#: <c>Pooling.maxPool1d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr MaxPool1d(Expr input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.maxPool1d(kernelSize, PoolStride("MaxPool1d", stride), padding, dilation, ceilMode, input.Node));
    }

    /// <summary>
    /// Average pooling as torch's avg_pool1d over [N, C, L] (or [C, L]): the stride defaults to the kernel size;
    /// <paramref name="ceilMode"/> and <paramref name="countIncludePad"/> are torch's ceil_mode and count_include_pad.
    /// F#: <c>Pooling.avgPool1d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr AvgPool1d(Expr input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.avgPool1d(kernelSize, PoolStride("AvgPool1d", stride), padding, ceilMode, countIncludePad, input.Node));
    }

    /// <summary>
    /// Adaptive average pooling as torch's adaptive_avg_pool1d over [N, C, L] (or [C, L]): output i averages entries
    /// ⌊i·L/Lo⌋ to ⌈(i+1)·L/Lo⌉ − 1. F#: <c>Pooling.adaptiveAvgPool1d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 2 or 3, or outputSize is below 1.</exception>
    public static Expr AdaptiveAvgPool1d(Expr input, int outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.adaptiveAvgPool1d(outputSize, input.Node));
    }

    /// <summary>
    /// Adaptive max pooling as torch's adaptive_max_pool1d over [N, C, L] (or [C, L]): output i is the largest of
    /// entries ⌊i·L/Lo⌋ to ⌈(i+1)·L/Lo⌉ − 1, its gradient at torch's index (the first largest, or the last NaN).
    /// F#: <c>Pooling.adaptiveMaxPool1d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 2 or 3, or outputSize is below 1.</exception>
    public static Expr AdaptiveMaxPool1d(Expr input, int outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.adaptiveMaxPool1d(outputSize, input.Node));
    }

    /// <summary>
    /// Adaptive max pooling as torch's adaptive_max_pool2d over [N, C, H, W] (or [C, H, W]) to an
    /// outputSize × outputSize result; see the overload with a pair.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 3 or 4, or outputSize is below 1.</exception>
    public static Expr AdaptiveMaxPool2d(Expr input, int outputSize) => AdaptiveMaxPool2d(input, (outputSize, outputSize));

    /// <summary>
    /// Adaptive max pooling as torch's adaptive_max_pool2d to a (height, width) output: output (i, j) is the largest
    /// entry of rows ⌊i·H/Ho⌋ to ⌈(i+1)·H/Ho⌉ − 1 and the columns likewise, its gradient at torch's index (the first
    /// largest in row-major order, or the last NaN). F#: <c>Pooling.adaptiveMaxPool2d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 3 or 4, or outputSize is below 1.</exception>
    public static Expr AdaptiveMaxPool2d(Expr input, (int Height, int Width) outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CorePool.adaptiveMaxPool2d(outputSize.Height, outputSize.Width, input.Node));
    }

    /// <summary>
    /// Max pooling as torch's max_pool3d over [N, C, D, H, W] (or [C, D, H, W]) with the same kernel size, stride,
    /// padding and dilation along every axis; see the overload with triples.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr MaxPool3d(Expr input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool3d(input, (kernelSize, kernelSize, kernelSize), stride is int s ? (s, s, s) : null, (padding, padding, padding),
            (dilation, dilation, dilation), ceilMode);

    /// <summary>
    /// Max pooling as torch's max_pool3d with (depth, height, width) triples: the stride defaults to the kernel size,
    /// padding to 0 (as −∞) and dilation to 1. Each window's gradient goes to its first largest entry in depth, row,
    /// column order (its last NaN where it holds one), as torch's index-based backward does; <paramref name="ceilMode"/>
    /// is torch's ceil_mode. F#: <c>Pooling.maxPool3d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr MaxPool3d(Expr input, (int Depth, int Height, int Width) kernelSize, (int Depth, int Height, int Width)? stride = null,
        (int Depth, int Height, int Width)? padding = null, (int Depth, int Height, int Width)? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        var s = stride ?? kernelSize;
        PositiveStride3("MaxPool3d", s);
        var (p, d) = (padding ?? (0, 0, 0), dilation ?? (1, 1, 1));
        return Expr.Wrap(CorePool.maxPool3d(kernelSize.Depth, kernelSize.Height, kernelSize.Width, s.Depth, s.Height, s.Width,
            p.Depth, p.Height, p.Width, d.Depth, d.Height, d.Width, ceilMode, input.Node));
    }

    /// <summary>
    /// Average pooling as torch's avg_pool3d over [N, C, D, H, W] (or [C, D, H, W]) with the same kernel size, stride
    /// and padding along every axis; see the overload with triples.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr AvgPool3d(Expr input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true,
        int? divisorOverride = null) =>
        AvgPool3d(input, (kernelSize, kernelSize, kernelSize), stride is int s ? (s, s, s) : null, (padding, padding, padding), ceilMode,
            countIncludePad, divisorOverride);

    /// <summary>
    /// Average pooling as torch's avg_pool3d with (depth, height, width) triples: the stride defaults to the kernel size
    /// and padding to 0. <paramref name="ceilMode"/>, <paramref name="countIncludePad"/> and <paramref name="divisorOverride"/>
    /// are torch's ceil_mode, count_include_pad and divisor_override. F#: <c>Pooling.avgPool3d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr AvgPool3d(Expr input, (int Depth, int Height, int Width) kernelSize, (int Depth, int Height, int Width)? stride = null,
        (int Depth, int Height, int Width)? padding = null, bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var s = stride ?? kernelSize;
        PositiveStride3("AvgPool3d", s);
        var p = padding ?? (0, 0, 0);
        return Expr.Wrap(CorePool.avgPool3d(kernelSize.Depth, kernelSize.Height, kernelSize.Width, s.Depth, s.Height, s.Width,
            p.Depth, p.Height, p.Width, ceilMode, countIncludePad,
            DivisorOverride("AvgPool3d", divisorOverride), input.Node));
    }

    /// <summary>A given stride must be at least 1; null is the kernel size, which the core reads as 0.</summary>
    static int PoolStride(string method, int? stride) =>
        stride switch
        {
            null => 0,
            < 1 => throw new ArgumentException($"{method}: stride {stride} must be at least 1 (null for the kernel size)", nameof(stride)),
            int s => s,
        };

    static void PositiveStride3(string method, (int Depth, int Height, int Width) stride)
    {
        if (stride.Depth < 1 || stride.Height < 1 || stride.Width < 1)
            throw new ArgumentException($"{method}: stride ({stride.Depth}, {stride.Height}, {stride.Width}) must be at least 1", nameof(stride));
    }
}
