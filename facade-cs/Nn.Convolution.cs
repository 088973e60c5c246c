using System.Runtime.CompilerServices;
using Microsoft.FSharp.Core;
using CoreConv = FunctionalDiff.Core.Convolution;
using CoreExpr = FunctionalDiff.Core.Expr;
using Build = FunctionalDiff.Core.ExprModule;

namespace FunctionalDiff;

// Convolution and pooling over channel-first tensors, with torch.nn.functional's argument names,
// defaults and output shapes. They are built in the core from slices, padding and matmul (im2col),
// so their derivatives of every order follow from those primitives' rules.
public static partial class Nn
{
    /// <summary>
    /// A 1-D convolution as torch's conv1d: input [N, C, L] (or unbatched [C, L]), weight
    /// [outChannels, C / groups, k], bias [outChannels] (none when null). The output is
    /// [N, outChannels, (L + 2·padding − dilation·(k − 1) − 1) / stride + 1].
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    // Preferred over the padding-string overload when both apply (Conv1d(x, w) or Conv1d(x, w, b)).
    [OverloadResolutionPriority(1)]
    public static Expr Conv1d(Expr input, Expr weight, Expr? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1)
    {
        var (x, w, b) = Operands(input, weight, bias);
        return Expr.Wrap(CoreConv.conv1d(stride, padding, dilation, groups, w, b, x));
    }

    /// <summary>
    /// A 1-D convolution as torch's conv1d with a padding string: <c>"same"</c> pads dilation·(k − 1) zeros, half of them
    /// (rounded down) before and the rest after, so the output keeps the input's length (torch allows it only with stride
    /// 1); <c>"valid"</c> pads none. <c>Conv1d(x, w, b, padding: "same")</c> is torch's <c>conv1d(x, w, b, padding="same")</c>.
    /// F#: <c>Convolution.conv1dSame</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The padding is neither "same" nor "valid", "same" is asked with a stride other than 1, or
    /// the shapes or arguments do not fit together (the message names them).</exception>
    public static Expr Conv1d(Expr input, Expr weight, Expr? bias = null, int stride = 1, string padding = "valid", int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (!IsSame("Conv1d", padding, stride)) return Conv1d(input, weight, bias, stride, 0, dilation, groups);
        var (x, w, b) = Operands(input, weight, bias);
        return Expr.Wrap(CoreConv.conv1dSame(dilation, groups, w, b, x));
    }

    /// <summary>
    /// A 2-D convolution as torch's conv2d with the same stride, zero padding and dilation along height
    /// and width: input [N, C, H, W] (or unbatched [C, H, W]), weight [outChannels, C / groups, kH, kW],
    /// bias [outChannels] (none when null). The output is [N, outChannels, Ho, Wo] with
    /// Ho = (H + 2·padding − dilation·(kH − 1) − 1) / stride + 1.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    // Preferred when both overloads apply (Conv2d(x, w) or Conv2d(x, w, b)), which they do with every pair left out.
    [OverloadResolutionPriority(1)]
    public static Expr Conv2d(Expr input, Expr weight, Expr? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(input, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    /// <summary>
    /// A 2-D convolution as torch's conv2d, with (height, width) pairs for stride, zero padding and dilation; a
    /// pair left out takes torch's default (stride and dilation (1, 1), padding (0, 0)), so
    /// <c>Conv2d(x, w, b, padding: (1, 0))</c> is torch's <c>conv2d(x, w, b, padding=(1, 0))</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr Conv2d(Expr input, Expr weight, Expr? bias = null, (int Height, int Width)? stride = null, (int Height, int Width)? padding = null,
        (int Height, int Width)? dilation = null, int groups = 1)
    {
        var (x, w, b) = Operands(input, weight, bias);
        var (s, p, d) = (stride ?? (1, 1), padding ?? (0, 0), dilation ?? (1, 1));
        return Expr.Wrap(CoreConv.conv2d(s.Height, s.Width, p.Height, p.Width, d.Height, d.Width, groups, w, b, x));
    }

    /// <summary>
    /// A 3-D convolution as torch's conv3d with the same stride, zero padding and dilation along depth, height and width:
    /// input [N, C, D, H, W] (or unbatched [C, D, H, W]), weight [outChannels, C / groups, kD, kH, kW], bias [outChannels]
    /// (none when null); the output is [N, outChannels, Do, Ho, Wo], each size as conv2d's. Built as a sum over the
    /// kernel's depth taps of <see cref="Conv2d(Expr, Expr, Expr?, int, int, int, int)"/> with the output depths folded
    /// into the batch, so its derivatives are those of conv2d, slices and pads at every order. F#: <c>Convolution.conv3d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    [OverloadResolutionPriority(1)]
    public static Expr Conv3d(Expr input, Expr weight, Expr? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv3d(input, weight, bias, (stride, stride, stride), (padding, padding, padding), (dilation, dilation, dilation), groups);

    /// <summary>
    /// A 3-D convolution as torch's conv3d, with (depth, height, width) triples for stride, zero padding and dilation; a
    /// triple left out takes torch's default (stride and dilation 1, padding 0).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr Conv3d(Expr input, Expr weight, Expr? bias = null, (int Depth, int Height, int Width)? stride = null,
        (int Depth, int Height, int Width)? padding = null, (int Depth, int Height, int Width)? dilation = null, int groups = 1)
    {
        var (x, w, b) = Operands(input, weight, bias);
        var (s, p, d) = (stride ?? (1, 1, 1), padding ?? (0, 0, 0), dilation ?? (1, 1, 1));
        return Expr.Wrap(CoreConv.conv3d(s.Depth, s.Height, s.Width, p.Depth, p.Height, p.Width, d.Depth, d.Height, d.Width, groups, w, b, x));
    }

    /// <summary>
    /// A 2-D convolution as torch's conv2d with a padding string: <c>"same"</c> pads each spatial axis with dilation·(k − 1)
    /// zeros, half of them (rounded down) before and the rest after (an odd total's extra zero at the bottom or right, as
    /// torch's), so the output keeps the input's height and width (torch allows it only with stride 1); <c>"valid"</c> pads
    /// none. <c>Conv2d(x, w, b, padding: "same")</c> is torch's <c>conv2d(x, w, b, padding="same")</c>. F#: <c>Convolution.conv2dSame</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The padding is neither "same" nor "valid", "same" is asked with a stride other than 1, or
    /// the shapes or arguments do not fit together (the message names them).</exception>
    public static Expr Conv2d(Expr input, Expr weight, Expr? bias = null, int stride = 1, string padding = "valid", int dilation = 1, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        if (!IsSame("Conv2d", padding, stride)) return Conv2d(input, weight, bias, stride, 0, dilation, groups);
        var (x, w, b) = Operands(input, weight, bias);
        return Expr.Wrap(CoreConv.conv2dSame(dilation, dilation, groups, w, b, x));
    }

    /// <summary>
    /// A 2-D convolution as torch's conv2d with a padding string and (height, width) pairs for the stride and the dilation:
    /// <c>Conv2d(x, w, b, padding: "same", dilation: (2, 1))</c> is torch's <c>conv2d(x, w, b, padding="same", dilation=(2, 1))</c>.
    /// "same" pads each axis with its dilation·(k − 1) zeros, split as in the overload with one number, and needs the
    /// stride (1, 1), as torch's; a pair left out is (1, 1).
    /// </summary>
    /// <exception cref="ArgumentException">The padding is neither "same" nor "valid", "same" is asked with a stride other than
    /// (1, 1), or the shapes or arguments do not fit together (the message names them).</exception>
    // Below the overload with one number for each, so that a call with neither pair keeps meaning that one.
    [OverloadResolutionPriority(-1)]
    public static Expr Conv2d(Expr input, Expr weight, Expr? bias = null, (int Height, int Width)? stride = null, string padding = "valid",
        (int Height, int Width)? dilation = null, int groups = 1)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        var (s, d) = (stride ?? (1, 1), dilation ?? (1, 1));
        if (s != (1, 1) && padding == "same")
            throw new ArgumentException($"Conv2d: padding \"same\" needs stride (1, 1), as torch's (stride ({s.Height}, {s.Width}) given)", nameof(padding));
        if (!IsSame("Conv2d", padding, 1)) return Conv2d(input, weight, bias, s, (0, 0), d, groups);
        var (x, w, b) = Operands(input, weight, bias);
        return Expr.Wrap(CoreConv.conv2dSame(d.Height, d.Width, groups, w, b, x));
    }

    /// <summary>
    /// A transposed 2-D convolution as torch's conv_transpose2d (the adjoint of <see cref="Conv2d(Expr, Expr, Expr?, int, int, int, int)"/>):
    /// input [N, C, H, W] (or [C, H, W]), weight [C, outChannels / groups, kH, kW], bias [outChannels]
    /// (none when null). The output is [N, outChannels, Ho, Wo] with
    /// Ho = (H − 1)·stride − 2·padding + dilation·(kH − 1) + outputPadding + 1; outputPadding must be
    /// smaller than the stride or the dilation.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    // Preferred when both overloads apply, as for Conv2d.
    [OverloadResolutionPriority(1)]
    public static Expr ConvTranspose2d(Expr input, Expr weight, Expr? bias = null, int stride = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1) =>
        ConvTranspose2d(input, weight, bias, (stride, stride), (padding, padding), (outputPadding, outputPadding), (dilation, dilation), groups);

    /// <summary>
    /// A transposed 2-D convolution as torch's conv_transpose2d, with (height, width) pairs; a pair left out takes
    /// torch's default (stride and dilation (1, 1), padding and outputPadding (0, 0)).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr ConvTranspose2d(Expr input, Expr weight, Expr? bias = null, (int Height, int Width)? stride = null, (int Height, int Width)? padding = null,
        (int Height, int Width)? outputPadding = null, (int Height, int Width)? dilation = null, int groups = 1)
    {
        var (x, w, b) = Operands(input, weight, bias);
        var (s, p, o, d) = (stride ?? (1, 1), padding ?? (0, 0), outputPadding ?? (0, 0), dilation ?? (1, 1));
        return Expr.Wrap(CoreConv.convTranspose2d(s.Height, s.Width, p.Height, p.Width, o.Height, o.Width, d.Height, d.Width, groups, w, b, x));
    }

    /// <summary>
    /// A transposed 3-D convolution as torch's conv_transpose3d: input [N, C, D, H, W] (or unbatched [C, D, H, W]), weight
    /// [C, outChannels / groups, kd, kh, kw], bias [outChannels] (none when null), with (depth, height, width) triples; a
    /// triple left out takes torch's default (stride and dilation 1, padding and outputPadding 0). Each output size is
    /// (size − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1. F#: <c>Convolution.convTranspose3d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr ConvTranspose3d(Expr input, Expr weight, Expr? bias = null, (int Depth, int Height, int Width)? stride = null,
        (int Depth, int Height, int Width)? padding = null, (int Depth, int Height, int Width)? outputPadding = null,
        (int Depth, int Height, int Width)? dilation = null, int groups = 1)
    {
        var (x, w, b) = Operands(input, weight, bias);
        var (s, p, o, d) = (stride ?? (1, 1, 1), padding ?? (0, 0, 0), outputPadding ?? (0, 0, 0), dilation ?? (1, 1, 1));
        return Expr.Wrap(CoreConv.convTranspose3d(s.Depth, s.Height, s.Width, p.Depth, p.Height, p.Width, o.Depth, o.Height, o.Width,
            d.Depth, d.Height, d.Width, groups, w, b, x));
    }

    /// <summary>A transposed 3-D convolution with one stride, padding, output padding and dilation for every axis.</summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr ConvTranspose3d(Expr input, Expr weight, Expr? bias = null, int stride = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1) =>
        ConvTranspose3d(input, weight, bias, (stride, stride, stride), (padding, padding, padding), (outputPadding, outputPadding, outputPadding),
            (dilation, dilation, dilation), groups);

    /// <summary>
    /// A transposed 1-D convolution as torch's conv_transpose1d: input [N, C, L] (or unbatched [C, L]), weight
    /// [C, outChannels / groups, k], bias [outChannels] (none when null). The output is
    /// [N, outChannels, (L − 1)·stride − 2·padding + dilation·(k − 1) + outputPadding + 1].
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr ConvTranspose1d(Expr input, Expr weight, Expr? bias = null, int stride = 1, int padding = 0, int outputPadding = 0,
        int dilation = 1, int groups = 1)
    {
        var (x, w, b) = Operands(input, weight, bias);
        return Expr.Wrap(CoreConv.convTranspose1d(stride, padding, outputPadding, dilation, groups, w, b, x));
    }

    /// <summary>
    /// Max pooling as torch's max_pool2d over [N, C, H, W] (or [C, H, W]): the stride defaults to the
    /// kernel size and the padding is −∞. Each window's gradient goes to its first largest entry
    /// (row-major within the window, NaN counting as largest), as torch's index-based backward does. By default a
    /// window that would start past the padded input is left out; <paramref name="ceilMode"/> is torch's ceil_mode.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr MaxPool2d(Expr input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1, bool ceilMode = false) =>
        MaxPool2d(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), (dilation, dilation), ceilMode);

    /// <summary>
    /// Max pooling as torch's max_pool2d, with (height, width) pairs; the stride defaults to the kernel size,
    /// padding to (0, 0) and dilation to (1, 1), so <c>MaxPool2d(x, (3, 2))</c> is torch's <c>max_pool2d(x, (3, 2))</c>.
    /// With <paramref name="ceilMode"/> (torch's ceil_mode) a partial last window counts too, unless it would start in
    /// the right padding. F#: <c>Convolution.maxPool2dWith</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr MaxPool2d(Expr input, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null, (int Height, int Width)? padding = null,
        (int Height, int Width)? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (s, p, d) = (stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1));
        PositiveStride("MaxPool2d", s);
        return Expr.Wrap(CoreConv.maxPool2dWith(ceilMode, kernelSize.Height, kernelSize.Width, s.Height, s.Width, p.Height, p.Width,
            d.Height, d.Width, input.Node));
    }

    /// <summary>
    /// Average pooling as torch's avg_pool2d over [N, C, H, W] (or [C, H, W]) with its defaults: the stride
    /// is the kernel size unless given, and zero padding counts in the divisor (count_include_pad); a window that
    /// would start past the padded input is left out (ceil_mode = false). The options are torch's, as in the overload
    /// with pairs.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr AvgPool2d(Expr input, int kernelSize, int? stride = null, int padding = 0, bool ceilMode = false, bool countIncludePad = true,
        int? divisorOverride = null) =>
        AvgPool2d(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), ceilMode, countIncludePad, divisorOverride);

    /// <summary>
    /// Average pooling as torch's avg_pool2d, with (height, width) pairs; the stride defaults to the kernel size and
    /// padding to (0, 0). <paramref name="ceilMode"/>, <paramref name="countIncludePad"/> and
    /// <paramref name="divisorOverride"/> are torch's ceil_mode, count_include_pad and divisor_override: each window's
    /// sum is divided by the override, or by the window's size clipped to the padded input (to the input alone without
    /// countIncludePad). F#: <c>Convolution.avgPool2dWith</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static Expr AvgPool2d(Expr input, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null, (int Height, int Width)? padding = null,
        bool ceilMode = false, bool countIncludePad = true, int? divisorOverride = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (s, p) = (stride ?? kernelSize, padding ?? (0, 0));
        PositiveStride("AvgPool2d", s);
        return Expr.Wrap(CoreConv.avgPool2dWith(ceilMode, countIncludePad, DivisorOverride("AvgPool2d", divisorOverride),
            kernelSize.Height, kernelSize.Width, s.Height, s.Width, p.Height, p.Width, input.Node));
    }

    /// <summary>
    /// Adaptive average pooling as torch's adaptive_avg_pool2d over [N, C, H, W] (or [C, H, W]) to an
    /// outputSize × outputSize result: output row i averages input rows ⌊i·H/Ho⌋ to ⌈(i+1)·H/Ho⌉ − 1.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 3 or 4, or outputSize is below 1.</exception>
    public static Expr AdaptiveAvgPool2d(Expr input, int outputSize) => AdaptiveAvgPool2d(input, (outputSize, outputSize));

    /// <summary>Adaptive average pooling as torch's adaptive_avg_pool2d to a (height, width) output.</summary>
    /// <exception cref="ArgumentException">The input is not rank 3 or 4, or outputSize is below 1.</exception>
    public static Expr AdaptiveAvgPool2d(Expr input, (int Height, int Width) outputSize)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(CoreConv.adaptiveAvgPool2d(outputSize.Height, outputSize.Width, input.Node));
    }

    /// <summary>
    /// torch's unfold (im2col): every sliding window of input [N, C, H, W] as a column of
    /// [N, C·k·k, L], L being the number of windows; zero padding. Its gradient is <see cref="Fold(Expr, int, int, int, int, int, int)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The input is not rank 4, an argument is out of range, or no window fits.</exception>
    public static Expr Unfold(Expr input, int kernelSize, int dilation = 1, int padding = 0, int stride = 1) =>
        Unfold(input, (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride));

    /// <summary>torch's unfold (im2col) with (height, width) pairs.</summary>
    /// <exception cref="ArgumentException">The input is not rank 4, an argument is out of range, or no window fits.</exception>
    public static Expr Unfold(Expr input, (int Height, int Width) kernelSize, (int Height, int Width) dilation,
        (int Height, int Width) padding, (int Height, int Width) stride)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(Build.unfold(new[] { kernelSize.Height, kernelSize.Width }, new[] { stride.Height, stride.Width },
            new[] { padding.Height, padding.Width }, new[] { dilation.Height, dilation.Width }, input.Node));
    }

    /// <summary>
    /// torch's fold (col2im), the adjoint of <see cref="Unfold(Expr, int, int, int, int)"/>: columns
    /// [N, C·k·k, L] added back into [N, C, outputHeight, outputWidth] at the windows they came from.
    /// </summary>
    /// <exception cref="ArgumentException">The input does not have the columns the geometry gives, or an argument is out of range.</exception>
    public static Expr Fold(Expr input, int outputHeight, int outputWidth, int kernelSize, int dilation = 1, int padding = 0, int stride = 1) =>
        Fold(input, (outputHeight, outputWidth), (kernelSize, kernelSize), (dilation, dilation), (padding, padding), (stride, stride));

    /// <summary>torch's fold (col2im) with (height, width) pairs.</summary>
    /// <exception cref="ArgumentException">The input does not have the columns the geometry gives, or an argument is out of range.</exception>
    public static Expr Fold(Expr input, (int Height, int Width) outputSize, (int Height, int Width) kernelSize, (int Height, int Width) dilation,
        (int Height, int Width) padding, (int Height, int Width) stride)
    {
        ArgumentNullException.ThrowIfNull(input);
        return Expr.Wrap(Build.fold(new[] { outputSize.Height, outputSize.Width }, new[] { kernelSize.Height, kernelSize.Width },
            new[] { stride.Height, stride.Width }, new[] { padding.Height, padding.Width }, new[] { dilation.Height, dilation.Width }, input.Node));
    }

    /// <summary>The core reads a divisor of 0 as "none", a default the C# overloads express with null instead.</summary>
    static int DivisorOverride(string method, int? divisorOverride) =>
        divisorOverride switch
        {
            null => 0,
            < 1 => throw new ArgumentException($"{method}: divisorOverride {divisorOverride} must be at least 1 (null for none)", nameof(divisorOverride)),
            int d => d,
        };

    /// <summary>The core reads a stride of 0 as "the kernel size", a default the C# overloads express with null instead.</summary>
    static void PositiveStride(string method, (int Height, int Width) stride)
    {
        if (stride.Height < 1 || stride.Width < 1)
            throw new ArgumentException($"{method}: stride ({stride.Height}, {stride.Width}) must be at least 1", nameof(stride));
    }

    /// <summary>Input, weight and optional bias in one dtype (bare literals take the other's), nulls named.</summary>
    // torch's two padding strings; "same" only with stride 1, as torch refuses it for strided convolutions
    static bool IsSame(string method, string padding, int stride)
    {
        ArgumentNullException.ThrowIfNull(padding);
        if (padding == "valid") return false;
        if (padding != "same")
            throw new ArgumentException($"{method}: padding \"{padding}\" must be \"same\" or \"valid\" (or a number of zeros)", nameof(padding));
        if (stride != 1)
            throw new ArgumentException($"{method}: padding \"same\" needs stride 1, as torch's (stride {stride} given)", nameof(padding));
        return true;
    }

    static (CoreExpr X, CoreExpr W, FSharpOption<CoreExpr>? B) Operands(Expr input, Expr weight, Expr? bias)
    {
        var (x, w) = Expr.Align(input, weight);
        return (x, w, bias is null ? FSharpOption<CoreExpr>.None : FSharpOption<CoreExpr>.Some(Expr.Align(weight, bias).B));
    }
}
