using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// Pooling beyond the 2-D defaults (Nn.MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d/2d, MaxPool3d,
// AvgPool3d; MaxPool2d and AvgPool2d with ceil_mode, count_include_pad and divisor_override) and ConvTranspose1d,
// against torch.nn.functional. Max pooling runs on distinct values, so no tie decides a gradient by chance.
public static partial class CaseTable
{
    static IEnumerable<Case> Pooling()
    {
        // 1-D
        yield return C("maxPool1d kernel 3 stride 2 padding 1 [2,3,9]", new[] { D(2, 3, 9) },
            p => Nn.MaxPool1d(p[0], 3, stride: 2, padding: 1), p => F.max_pool1d(p[0], 3, 2, 1));
        yield return C("maxPool1d kernel 2 dilation 2 ceil mode [2,2,8]", new[] { D(2, 2, 8) },
            p => Nn.MaxPool1d(p[0], 2, stride: 3, dilation: 2, ceilMode: true), p => F.max_pool1d(p[0], 2, 3, 0, 2, ceil_mode: true));
        yield return C("maxPool1d unbatched kernel 4 [3,10]", new[] { D(3, 10) },
            p => Nn.MaxPool1d(p[0], 4), p => F.max_pool1d(p[0], 4));
        yield return C("avgPool1d kernel 3 stride 2 padding 1 [2,3,8]", new[] { I(2, 3, 8) },
            p => Nn.AvgPool1d(p[0], 3, stride: 2, padding: 1), p => F.avg_pool1d(p[0], 3, 2, 1));
        yield return C("avgPool1d ceil mode, padding not counted [2,2,9]", new[] { I(2, 2, 9) },
            p => Nn.AvgPool1d(p[0], 4, stride: 3, padding: 2, ceilMode: true, countIncludePad: false),
            p => F.avg_pool1d(p[0], 4, 3, 2, ceil_mode: true, count_include_pad: false));
        yield return C("adaptiveAvgPool1d [2,3,10] to 4", new[] { I(2, 3, 10) },
            p => Nn.AdaptiveAvgPool1d(p[0], 4), p => F.adaptive_avg_pool1d(p[0], 4));
        yield return C("adaptiveMaxPool1d [2,3,10] to 4", new[] { D(2, 3, 10) },
            p => Nn.AdaptiveMaxPool1d(p[0], 4), p => F.adaptive_max_pool1d(p[0], 4));
        yield return C("adaptiveMaxPool1d [1,2,3] to 5, windows overlap", new[] { D(1, 2, 3) },
            p => Nn.AdaptiveMaxPool1d(p[0], 5), p => F.adaptive_max_pool1d(p[0], 5));
        yield return C("convTranspose1d stride 2 padding 1 output padding 1 bias [2,3,5]*[3,2,3]", new[] { I(2, 3, 5), I(3, 2, 3), I(2) },
            p => Nn.ConvTranspose1d(p[0], p[1], p[2], stride: 2, padding: 1, outputPadding: 1),
            p => F.conv_transpose1d(p[0], p[1], p[2], stride: 2, padding: 1, output_padding: 1));
        yield return C("convTranspose1d dilation 2 groups 2 unbatched [4,6]*[4,1,2]", new[] { I(4, 6), I(4, 1, 2) },
            p => Nn.ConvTranspose1d(p[0], p[1], dilation: 2, groups: 2), p => F.conv_transpose1d(p[0], p[1], null, dilation: 2, groups: 2));
        yield return C("convTranspose3d stride (2,1,2) padding (1,0,1) output padding (1,0,1) bias [1,2,3,2,3]*[2,3,2,2,3]",
            new[] { I(1, 2, 3, 2, 3), I(2, 3, 2, 2, 3), I(3) },
            p => Nn.ConvTranspose3d(p[0], p[1], p[2], stride: (2, 1, 2), padding: (1, 0, 1), outputPadding: (1, 0, 1)),
            p => F.conv_transpose3d(p[0], p[1], p[2], strides: new long[] { 2, 1, 2 }, padding: new long[] { 1, 0, 1 }, output_padding: new long[] { 1, 0, 1 }));
        yield return C("convTranspose3d depth stride 3 output padding 2 dilation 2 groups 2 unbatched [4,2,2,2]*[4,1,2,1,2]",
            new[] { I(4, 2, 2, 2), I(4, 1, 2, 1, 2) },
            p => Nn.ConvTranspose3d(p[0], p[1], stride: (3, 1, 1), outputPadding: (2, 0, 0), dilation: (2, 1, 1), groups: 2),
            p => F.conv_transpose3d(p[0], p[1], null, strides: new long[] { 3, 1, 1 }, output_padding: new long[] { 2, 0, 0 }, dilation: new long[] { 2, 1, 1 }, groups: 2));
        yield return C("convTranspose3d padding 1 kernel 3 [2,1,3,3,2]*[1,2,3,3,2]", new[] { I(2, 1, 3, 3, 2), I(1, 2, 3, 3, 2) },
            p => Nn.ConvTranspose3d(p[0], p[1], padding: 1), p => F.conv_transpose3d(p[0], p[1], null, padding: new long[] { 1, 1, 1 }));

        // 2-D options
        yield return C("maxPool2d kernel 3 stride 2 ceil mode [2,2,8,7]", new[] { D(2, 2, 8, 7) },
            p => Nn.MaxPool2d(p[0], 3, stride: 2, ceilMode: true), p => F.max_pool2d(p[0], 3, 2, ceil_mode: true));
        yield return C("maxPool2d kernel (2,3) padding (1,1) stride (2,2) ceil mode [1,3,7,6]", new[] { D(1, 3, 7, 6) },
            p => Nn.MaxPool2d(p[0], (2, 3), (2, 2), (1, 1), ceilMode: true), p => F.max_pool2d(p[0], L(2, 3), L(2, 2), L(1, 1), ceil_mode: true));
        yield return C("maxPool2d kernel 3 stride 3 padding 1 dilation 2 ceil mode [1,2,9,10]", new[] { D(1, 2, 9, 10) },
            p => Nn.MaxPool2d(p[0], (3, 3), (3, 3), (1, 1), (2, 2), ceilMode: true), p => F.max_pool2d(p[0], L(3, 3), L(3, 3), L(1, 1), L(2, 2), ceil_mode: true));
        yield return C("maxPool1d kernel 3 stride 2 padding 1 ceil mode, last window past the padding [2,2,6]", new[] { D(2, 2, 6) },
            p => Nn.MaxPool1d(p[0], 3, stride: 2, padding: 1, ceilMode: true), p => F.max_pool1d(p[0], 3, 2, 1, ceil_mode: true));
        yield return C("avgPool1d kernel 3 stride 2 padding 1 ceil mode, padding counted [2,2,6]", new[] { I(2, 2, 6) },
            p => Nn.AvgPool1d(p[0], 3, stride: 2, padding: 1, ceilMode: true), p => F.avg_pool1d(p[0], 3, 2, 1, ceil_mode: true));
        yield return C("avgPool2d kernel 3 stride 2 padding 1 ceil mode [2,2,8,7]", new[] { I(2, 2, 8, 7) },
            p => Nn.AvgPool2d(p[0], 3, stride: 2, padding: 1, ceilMode: true),
            p => F.avg_pool2d(p[0], L(3, 3), L(2, 2), L(1, 1), ceil_mode: true));
        yield return C("avgPool2d padding not counted [2,3,6,5]", new[] { I(2, 3, 6, 5) },
            p => Nn.AvgPool2d(p[0], 3, stride: 2, padding: 1, countIncludePad: false),
            p => F.avg_pool2d(p[0], L(3, 3), L(2, 2), L(1, 1), count_include_pad: false));
        yield return C("avgPool2d ceil mode, padding not counted, kernel (3,2) [1,2,7,5]", new[] { I(1, 2, 7, 5) },
            p => Nn.AvgPool2d(p[0], (3, 2), (2, 2), (1, 1), ceilMode: true, countIncludePad: false),
            p => F.avg_pool2d(p[0], L(3, 2), L(2, 2), L(1, 1), ceil_mode: true, count_include_pad: false));
        yield return C("avgPool2d divisor override 5 [2,2,6,6]", new[] { I(2, 2, 6, 6) },
            p => Nn.AvgPool2d(p[0], 2, divisorOverride: 5), p => F.avg_pool2d(p[0], L(2, 2), divisor_override: 5));
        yield return C("adaptiveMaxPool2d [2,3,7,5] to (3,2)", new[] { D(2, 3, 7, 5) },
            p => Nn.AdaptiveMaxPool2d(p[0], (3, 2)), p => F.adaptive_max_pool2d(p[0], L(3, 2)));
        yield return C("adaptiveMaxPool2d unbatched [2,4,6] to 1", new[] { D(2, 4, 6) },
            p => Nn.AdaptiveMaxPool2d(p[0], 1), p => F.adaptive_max_pool2d(p[0], L(1, 1)));
        yield return C("adaptiveMaxPool2d [1,2,3,2] to (5,4), windows overlap", new[] { D(1, 2, 3, 2) },
            p => Nn.AdaptiveMaxPool2d(p[0], (5, 4)), p => F.adaptive_max_pool2d(p[0], L(5, 4)));

        // 3-D
        yield return C("maxPool3d kernel 2 [2,2,4,4,6]", new[] { D(2, 2, 4, 4, 6) },
            p => Nn.MaxPool3d(p[0], 2), p => F.max_pool3d(p[0], L(2, 2, 2)));
        yield return C("maxPool3d kernel (3,2,3) stride (2,1,2) padding (1,1,1) dilation (1,2,1) [1,2,5,6,5]", new[] { D(1, 2, 5, 6, 5) },
            p => Nn.MaxPool3d(p[0], (3, 2, 3), (2, 1, 2), (1, 1, 1), (1, 2, 1)),
            p => F.max_pool3d(p[0], L(3, 2, 3), L(2, 1, 2), L(1, 1, 1), L(1, 2, 1)));
        yield return C("maxPool3d kernel 2 stride 2 ceil mode unbatched [2,5,3,5]", new[] { D(2, 5, 3, 5) },
            p => Nn.MaxPool3d(p[0], 2, stride: 2, ceilMode: true), p => F.max_pool3d(p[0], L(2, 2, 2), L(2, 2, 2), ceil_mode: true));
        yield return C("avgPool3d kernel 2 [2,2,4,4,6]", new[] { I(2, 2, 4, 4, 6) },
            p => Nn.AvgPool3d(p[0], 2), p => F.avg_pool3d(p[0], L(2, 2, 2)));
        yield return C("avgPool3d kernel 3 stride 2 padding 1, padding not counted, ceil mode [1,2,6,5,4]", new[] { I(1, 2, 6, 5, 4) },
            p => Nn.AvgPool3d(p[0], 3, stride: 2, padding: 1, ceilMode: true, countIncludePad: false),
            p => F.avg_pool3d(p[0], L(3, 3, 3), L(2, 2, 2), L(1, 1, 1), ceil_mode: true, count_include_pad: false));
        yield return C("avgPool3d kernel (2,3,2) padding (1,1,0) divisor override 7 [2,1,4,5,4]", new[] { I(2, 1, 4, 5, 4) },
            p => Nn.AvgPool3d(p[0], (2, 3, 2), (2, 3, 2), (1, 1, 0), divisorOverride: 7),
            p => F.avg_pool3d(p[0], L(2, 3, 2), L(2, 3, 2), L(1, 1, 0), divisor_override: 7));

        // ties, NaN and −∞: the gradient goes where torch's index points (the first largest, the last NaN, a window of −∞
        // to its first entry inside the input)
        double nan = double.NaN, ninf = double.NegativeInfinity;
        yield return C("edge adaptiveMaxPool2d ties and NaN [1,1,4,4] to (2,3)", new[] { I(1, 1, 4, 4) }, x => Nn.AdaptiveMaxPool2d(x[0], (2, 3)),
            x => F.adaptive_max_pool2d(x[0], L(2, 3)))
            with { Fixed = new[] { new double[] { 1, 2, 2, 0, 2, 1, 2, 2, nan, 3, nan, 1, 0, nan, 1, 1 } }, SkipHessian = true };
        yield return C("edge adaptiveMaxPool1d ties and NaN [1,2,5] to 3", new[] { I(1, 2, 5) }, x => Nn.AdaptiveMaxPool1d(x[0], 3),
            x => F.adaptive_max_pool1d(x[0], 3))
            with { Fixed = new[] { new double[] { 4, 4, 4, 1, 4, nan, 2, nan, 2, 2 } }, SkipHessian = true };
        yield return C("edge maxPool3d ties and NaN kernel 2 stride 1 [1,1,2,3,3]", new[] { I(1, 1, 2, 3, 3) }, x => Nn.MaxPool3d(x[0], 2, stride: 1),
            x => F.max_pool3d(x[0], L(2, 2, 2), L(1, 1, 1)))
            with { Fixed = new[] { new double[] { 1, 1, 0, 1, 1, nan, 0, 2, 2, 2, 1, 1, nan, 1, 0, 0, 2, 2 } }, SkipHessian = true };
        yield return C("edge maxPool3d window of -inf beside its padding [1,1,2,2,4]", new[] { I(1, 1, 2, 2, 4) }, x => Nn.MaxPool3d(x[0], 3, padding: 1),
            x => F.max_pool3d(x[0], L(3, 3, 3), L(3, 3, 3), L(1, 1, 1)))
            with { Fixed = new[] { new double[] { ninf, ninf, 0, 0, ninf, ninf, 0, 0, ninf, ninf, 0, 0, ninf, ninf, 0, 0 } }, SkipHessian = true };
        yield return C("edge maxPool1d ceil mode ties at a partial window [1,1,5]", new[] { I(1, 1, 5) }, x => Nn.MaxPool1d(x[0], 2, ceilMode: true),
            x => F.max_pool1d(x[0], 2, ceil_mode: true))
            with { Fixed = new[] { new double[] { 3, 3, ninf, ninf, 2 } }, SkipHessian = true };

        // inside a smooth function, so the second-order checks see a nonzero Hessian
        yield return C("sin of maxPool1d, avgPool3d and adaptiveMaxPool2d, small enough for the full Hessian", new[] { D(1, 1, 2, 2, 3) },
            p => Nn.MaxPool1d(p[0].Reshape(1, 2, 6), 3, stride: 2, ceilMode: true).Sin().Sum()
                 + Nn.AvgPool3d(p[0], 2, ceilMode: true).Sin().Sum() + Nn.AdaptiveMaxPool2d(p[0].Reshape(1, 2, 6), (1, 4)).Sin().Sum(),
            p => F.max_pool1d(p[0].reshape(1, 2, 6), 3, 2, ceil_mode: true).sin().sum()
                 + F.avg_pool3d(p[0], L(2, 2, 2), ceil_mode: true).sin().sum() + F.adaptive_max_pool2d(p[0].reshape(1, 2, 6), L(1, 4)).sin().sum());

        // return_indices and max_unpool: the values stacked over the indices (torch's int64 cast to the dtype, no cotangent
        // in either engine). Unpooling runs on windows that do not overlap, so no index comes twice (where torch's backward
        // gives each copy the whole cotangent and ours shares it). The torch side unpools by torch's definition (see
        // UnpoolByScatter).
        yield return C("maxPool2dWithIndices kernel 3 stride 2 padding 1 [2,2,5,6] values over indices", new[] { D(2, 2, 5, 6) },
            p => { var (v, i) = Nn.MaxPool2dWithIndices(p[0], 3, stride: 2, padding: 1); return Expr.Concat(2, v, i); },
            p => { var (v, i) = F.max_pool2d_with_indices(p[0], L(3, 3), L(2, 2), L(1, 1)); return torch.cat(new[] { v, i.to(p[0].dtype) }, 2); });
        yield return C("edge maxPool2dWithIndices ties and NaN kernel 2 stride 1 [1,1,3,4]", new[] { I(1, 1, 3, 4) },
            x => { var (v, i) = Nn.MaxPool2dWithIndices(x[0], 2, stride: 1); return Expr.Concat(2, v, i); },
            x => { var (v, i) = F.max_pool2d_with_indices(x[0], L(2, 2), L(1, 1)); return torch.cat(new[] { v, i.to(x[0].dtype) }, 2); })
            with { Fixed = new[] { new double[] { 1, 2, 2, 0, 2, 1, 2, 2, nan, 3, nan, 1 } }, SkipHessian = true };
        yield return C("maxPool1dWithIndices kernel 3 stride 2 padding 1 dilation 2 [2,3,9] values over indices", new[] { D(2, 3, 9) },
            p => { var (v, i) = Nn.MaxPool1dWithIndices(p[0], 3, stride: 2, padding: 1, dilation: 2); return Expr.Concat(2, v, i); },
            p => { var (v, i) = F.max_pool1d_with_indices(p[0], 3, 2, 1, 2); return torch.cat(new[] { v, i.to(p[0].dtype) }, 2); });
        yield return C("maxUnpool2d of sin of maxPool2dWithIndices kernel 2 [2,2,4,6]", new[] { D(2, 2, 4, 6) },
            p => { var (v, i) = Nn.MaxPool2dWithIndices(p[0], 2); return Nn.MaxUnpool2d(v.Sin(), i, 2); },
            p => { var (v, i) = F.max_pool2d_with_indices(p[0], L(2, 2), L(2, 2)); return UnpoolByScatter(v.sin(), i, 2, 4, 6); });
        yield return C("maxUnpool2d kernel (2,3) output size (5,7) unbatched [3,4,6]", new[] { D(3, 4, 6) },
            p => { var (v, i) = Nn.MaxPool2dWithIndices(p[0], (2, 3)); return Nn.MaxUnpool2d(v, i, (2, 3), outputSize: (5, 7)); },
            p => { var (v, i) = F.max_pool2d_with_indices(p[0], L(2, 3), L(2, 3)); return UnpoolByScatter(v, i, 2, 5, 7); });
        yield return C("maxUnpool1d kernel 2 output size 9 [2,3,8]", new[] { D(2, 3, 8) },
            p => { var (v, i) = Nn.MaxPool1dWithIndices(p[0], 2); return Nn.MaxUnpool1d(v.Square(), i, 2, outputSize: 9); },
            p => { var (v, i) = F.max_pool1d_with_indices(p[0], 2, 2); return UnpoolByScatter(v.square(), i, 1, 9); });
    }

    /// <summary>
    /// torch's max_unpool by its definition: each value scattered to its flat index in zero planes of the output size,
    /// whose backward is the same gather at the indices. TorchSharp 0.107's F.max_unpool1d and F.max_unpool2d gave
    /// planes of another size than the output size passed (a shape error in every check of these rows).
    /// </summary>
    static TT UnpoolByScatter(TT values, TT indices, int spatialAxes, params long[] outputSize)
    {
        var planes = values.shape[..^spatialAxes];
        var size = outputSize.Aggregate(1L, (a, b) => a * b);
        var flat = planes.Append(-1L).ToArray();
        return torch.zeros(planes.Append(size).ToArray(), dtype: values.dtype)
            .scatter(planes.Length, indices.reshape(flat), values.reshape(flat)).reshape(planes.Concat(outputSize).ToArray());
    }
}
