using Microsoft.FSharp.Core;
using CorePool = FunctionalDiff.Core.Pooling;

namespace FunctionalDiff;

// Max pooling with torch's return_indices=True and its inverse, max unpooling, with torch.nn.functional's argument
// names, defaults and index convention (flat positions within each (batch, channel) plane). Indices are integers held
// in the input's dtype, as every index this library returns (torch's are int64).
public static partial class Nn
{
    /// <summary>
    /// Max pooling as torch's max_pool1d with return_indices=True over [N, C, L] (or [C, L]): the values of
    /// <see cref="MaxPool1d"/> (with its derivatives) and each window's winner as its position along L, an integer in
    /// the input's dtype (torch's are int64). The winner is torch's: the first largest entry of the window inside the
    /// input, or its last NaN. Pass both to <see cref="MaxUnpool1d"/>. F#: <c>Pooling.maxPool1dWithIndices</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static (Expr Values, Expr Indices) MaxPool1dWithIndices(Expr input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1,
        bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        var parts = CorePool.maxPool1dWithIndices(kernelSize, PoolStride("MaxPool1dWithIndices", stride), padding, dilation, ceilMode, input.Node);
        return (Expr.Wrap(parts.Item1), Expr.Wrap(parts.Item2));
    }

    /// <summary>
    /// Max pooling as torch's max_pool2d with return_indices=True over [N, C, H, W] (or [C, H, W]), square windows: see
    /// the overload with (height, width) pairs.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static (Expr Values, Expr Indices) MaxPool2dWithIndices(Expr input, int kernelSize, int? stride = null, int padding = 0, int dilation = 1,
        bool ceilMode = false) =>
        MaxPool2dWithIndices(input, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), (dilation, dilation),
            ceilMode);

    /// <summary>
    /// Max pooling as torch's max_pool2d with return_indices=True over [N, C, H, W] (or [C, H, W]): the values of
    /// <see cref="MaxPool2d(Expr, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, ValueTuple{int, int}?, bool)"/>
    /// (with its derivatives) and each window's winner as its flat position h·W + w in its (batch, channel) plane, an
    /// integer in the input's dtype (torch's are int64). The winner is torch's: the first largest entry of the window
    /// in row-major order inside the input, or its last NaN. Pass both to <see cref="MaxUnpool2d(Expr, Expr, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, ValueTuple{int, int}?)"/>.
    /// F#: <c>Pooling.maxPool2dWithIndices</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them).</exception>
    public static (Expr Values, Expr Indices) MaxPool2dWithIndices(Expr input, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null,
        (int Height, int Width)? padding = null, (int Height, int Width)? dilation = null, bool ceilMode = false)
    {
        ArgumentNullException.ThrowIfNull(input);
        var (s, p, d) = (stride ?? kernelSize, padding ?? (0, 0), dilation ?? (1, 1));
        PositiveStride("MaxPool2dWithIndices", s);
        var parts = CorePool.maxPool2dWithIndices(ceilMode, kernelSize.Height, kernelSize.Width, s.Height, s.Width, p.Height, p.Width,
            d.Height, d.Width, input.Node);
        return (Expr.Wrap(parts.Item1), Expr.Wrap(parts.Item2));
    }

    /// <summary>
    /// Max unpooling as torch's max_unpool1d over [N, C, L] (or [C, L]): zeros of length (L − 1)·stride − 2·padding +
    /// kernelSize (or <paramref name="outputSize"/>, which torch accepts only within a stride of that), with each
    /// input entry put at its index from <see cref="MaxPool1dWithIndices"/>. Differentiable in the input (its cotangent
    /// is the output's cotangent gathered at the indices). See <see cref="MaxUnpool2d(Expr, Expr, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, ValueTuple{int, int}?)"/>
    /// for an index named twice. F#: <c>Pooling.maxUnpool1d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them); when
    /// evaluated, an index outside the output.</exception>
    public static Expr MaxUnpool1d(Expr input, Expr indices, int kernelSize, int? stride = null, int padding = 0, int? outputSize = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(indices);
        var size = outputSize is int l ? FSharpOption<int>.Some(l) : FSharpOption<int>.None;
        return Expr.Wrap(CorePool.maxUnpool1d(kernelSize, PoolStride("MaxUnpool1d", stride), padding, size, input.Node, indices.Node));
    }

    /// <summary>Max unpooling as torch's max_unpool2d with square windows: see the overload with (height, width) pairs.</summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them); when
    /// evaluated, an index outside the output.</exception>
    public static Expr MaxUnpool2d(Expr input, Expr indices, int kernelSize, int? stride = null, int padding = 0, (int Height, int Width)? outputSize = null) =>
        MaxUnpool2d(input, indices, (kernelSize, kernelSize), (stride ?? kernelSize, stride ?? kernelSize), (padding, padding), outputSize);

    /// <summary>
    /// Max unpooling as torch's max_unpool2d over [N, C, H, W] (or [C, H, W]): zeros [N, C, Ho, Wo] with Ho = (H − 1)·sh
    /// − 2·ph + kh (likewise Wo), or <paramref name="outputSize"/>, which torch accepts only within a stride of that, and
    /// each input entry put at its flat index h·Wo + w from <see cref="MaxPool2dWithIndices(Expr, ValueTuple{int, int}, ValueTuple{int, int}?, ValueTuple{int, int}?, ValueTuple{int, int}?, bool)"/>.
    /// The stride defaults to the kernel size. Differentiable in the input: its cotangent is the output's cotangent
    /// gathered at the indices. An index named twice (overlapping windows that chose the same entry) gets the mean of
    /// its values, torch's value whenever they are equal, as pooling's are; its cotangent is then shared among them,
    /// where torch's backward gives each the whole.
    /// F#: <c>Pooling.maxUnpool2d</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes or arguments do not fit together (the message names them); when
    /// evaluated, an index outside the output.</exception>
    public static Expr MaxUnpool2d(Expr input, Expr indices, (int Height, int Width) kernelSize, (int Height, int Width)? stride = null,
        (int Height, int Width)? padding = null, (int Height, int Width)? outputSize = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(indices);
        var (s, p) = (stride ?? kernelSize, padding ?? (0, 0));
        PositiveStride("MaxUnpool2d", s);
        var size = outputSize is { } o ? FSharpOption<Tuple<int, int>>.Some(Tuple.Create(o.Height, o.Width)) : FSharpOption<Tuple<int, int>>.None;
        return Expr.Wrap(CorePool.maxUnpool2d(kernelSize.Height, kernelSize.Width, s.Height, s.Width, p.Height, p.Width, size, input.Node,
            indices.Node));
    }
}
