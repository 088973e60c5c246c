using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// Convolution and pooling (Nn.Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Unfold, Fold)
// against torch.nn.functional at several shapes, strides, paddings, dilations and groups, batched and
// unbatched, and the two convolutional models.
public static partial class CaseTable
{
    static readonly double[] LeNetX = Data(8 * 28 * 28, 511);
    static readonly int[] LeNetTargets = { 3, 1, 4, 1, 5, 9, 2, 6 };
    static readonly double[] SequenceX = Data(4 * 3 * 16, 512);
    static readonly double[] SequenceY = Data(4 * 4 * 16, 513);

    static long[] L(params long[] values) => values;

    static readonly double[] InfiniteKernel = { 0.5, -1, 0.25, 2, double.PositiveInfinity, -0.5, 1, 0.75, -2 };

    static IEnumerable<Case> Convolutions()
    {
        // conv2d: input, weight (and bias) are all differentiated
        yield return C("conv2d [2,3,6,6]*[4,3,3,3]", new[] { I(2, 3, 6, 6), I(4, 3, 3, 3) },
            p => Nn.Conv2d(p[0], p[1]), p => F.conv2d(p[0], p[1]));
        yield return C("conv2d padding 1 bias [2,3,5,5]*[4,3,3,3]", new[] { I(2, 3, 5, 5), I(4, 3, 3, 3), I(4) },
            p => Nn.Conv2d(p[0], p[1], p[2], padding: 1), p => F.conv2d(p[0], p[1], p[2], padding: L(1, 1)));
        yield return C("conv2d stride 2 padding 2 [1,2,7,8]*[3,2,3,3]", new[] { I(1, 2, 7, 8), I(3, 2, 3, 3) },
            p => Nn.Conv2d(p[0], p[1], stride: 2, padding: 2), p => F.conv2d(p[0], p[1], strides: L(2, 2), padding: L(2, 2)));
        yield return C("conv2d dilation 2 [2,2,7,7]*[2,2,3,3]", new[] { I(2, 2, 7, 7), I(2, 2, 3, 3) },
            p => Nn.Conv2d(p[0], p[1], dilation: 2), p => F.conv2d(p[0], p[1], dilation: L(2, 2)));
        yield return C("conv2d groups 2 padding 1 [2,4,5,5]*[6,2,3,3]", new[] { I(2, 4, 5, 5), I(6, 2, 3, 3), I(6) },
            p => Nn.Conv2d(p[0], p[1], p[2], padding: 1, groups: 2), p => F.conv2d(p[0], p[1], p[2], padding: L(1, 1), groups: 2));
        yield return C("conv2d depthwise groups 3 [1,3,5,4]*[3,1,2,2]", new[] { I(1, 3, 5, 4), I(3, 1, 2, 2) },
            p => Nn.Conv2d(p[0], p[1], groups: 3), p => F.conv2d(p[0], p[1], groups: 3));
        yield return C("conv2d stride (2,1) padding (1,0) dilation (1,2) [2,2,6,7]*[3,2,3,2]", new[] { I(2, 2, 6, 7), I(3, 2, 3, 2), I(3) },
            p => Nn.Conv2d(p[0], p[1], p[2], (2, 1), (1, 0), (1, 2)),
            p => F.conv2d(p[0], p[1], p[2], strides: L(2, 1), padding: L(1, 0), dilation: L(1, 2)));
        yield return C("conv2d unbatched [2,5,5]*[3,2,3,3]", new[] { I(2, 5, 5), I(3, 2, 3, 3) },
            p => Nn.Conv2d(p[0], p[1]), p => F.conv2d(p[0], p[1]));
        yield return C("conv2d padding 1 [1,1,2,2]*[1,1,2,2], small enough for the full Hessian", new[] { I(1, 1, 2, 2), I(1, 1, 2, 2) },
            p => Nn.Conv2d(p[0], p[1], padding: 1), p => F.conv2d(p[0], p[1], padding: L(1, 1)));

        // conv3d (a sum of conv2d over the kernel's depth taps)
        yield return C("conv3d padding 1 bias [2,2,4,5,4]*[3,2,3,2,3]", new[] { I(2, 2, 4, 5, 4), I(3, 2, 3, 2, 3), I(3) },
            p => Nn.Conv3d(p[0], p[1], p[2], padding: 1), p => F.conv3d(p[0], p[1], p[2], padding: new long[] { 1, 1, 1 }));
        yield return C("conv3d stride (2,1,2) dilation (1,2,1) groups 2 [1,4,5,6,5]*[2,2,2,2,2]", new[] { I(1, 4, 5, 6, 5), I(2, 2, 2, 2, 2) },
            p => Nn.Conv3d(p[0], p[1], stride: (2, 1, 2), dilation: (1, 2, 1), groups: 2),
            p => F.conv3d(p[0], p[1], strides: new long[] { 2, 1, 2 }, dilation: new long[] { 1, 2, 1 }, groups: 2));
        yield return C("conv3d unbatched depth padding 2 stride 3 [2,4,3,3]*[2,2,2,2,2]", new[] { I(2, 4, 3, 3), I(2, 2, 2, 2, 2) },
            p => Nn.Conv3d(p[0], p[1], stride: (3, 1, 1), padding: (2, 0, 1)),
            p => F.conv3d(p[0], p[1], strides: new long[] { 3, 1, 1 }, padding: new long[] { 2, 0, 1 }));

        // conv1d
        yield return C("conv1d padding 1 bias [2,3,8]*[4,3,3]", new[] { I(2, 3, 8), I(4, 3, 3), I(4) },
            p => Nn.Conv1d(p[0], p[1], p[2], padding: 1), p => F.conv1d(p[0], p[1], p[2], padding: 1));
        yield return C("conv1d stride 2 dilation 2 groups 2 [2,4,11]*[6,2,3]", new[] { I(2, 4, 11), I(6, 2, 3) },
            p => Nn.Conv1d(p[0], p[1], stride: 2, dilation: 2, groups: 2), p => F.conv1d(p[0], p[1], stride: 2, dilation: 2, groups: 2));
        yield return C("conv1d unbatched [3,6]*[2,3,2]", new[] { I(3, 6), I(2, 3, 2) },
            p => Nn.Conv1d(p[0], p[1]), p => F.conv1d(p[0], p[1]));

        // convTranspose2d: weight [in, out / groups, kh, kw]
        yield return C("convTranspose2d [2,3,4,4]*[3,2,3,3]", new[] { I(2, 3, 4, 4), I(3, 2, 3, 3) },
            p => Nn.ConvTranspose2d(p[0], p[1]), p => F.conv_transpose2d(p[0], p[1]));
        yield return C("convTranspose2d stride 2 padding 1 outputPadding 1 bias [1,2,3,3]*[2,3,3,3]", new[] { I(1, 2, 3, 3), I(2, 3, 3, 3), I(3) },
            p => Nn.ConvTranspose2d(p[0], p[1], p[2], stride: 2, padding: 1, outputPadding: 1),
            p => F.conv_transpose2d(p[0], p[1], p[2], strides: L(2, 2), padding: L(1, 1), output_padding: L(1, 1)));
        yield return C("convTranspose2d groups 2 dilation 2 [2,4,3,3]*[4,1,2,2]", new[] { I(2, 4, 3, 3), I(4, 1, 2, 2) },
            p => Nn.ConvTranspose2d(p[0], p[1], dilation: 2, groups: 2), p => F.conv_transpose2d(p[0], p[1], dilation: L(2, 2), groups: 2));
        yield return C("convTranspose2d stride (2,3) padding (1,0) outputPadding (0,2) [1,2,3,4]*[2,2,3,3]", new[] { I(1, 2, 3, 4), I(2, 2, 3, 3) },
            p => Nn.ConvTranspose2d(p[0], p[1], null, (2, 3), (1, 0), (0, 2), (1, 1)),
            p => F.conv_transpose2d(p[0], p[1], strides: L(2, 3), padding: L(1, 0), output_padding: L(0, 2)));

        // an infinite weight: only input entries meet it, never the zeros between them that a stride implies or the
        // border a padding crops (`fuzz adversarial 5/26`, where the spread input's zeros made 0·∞ = NaN)
        yield return C("convTranspose2d stride 2 padding 1 with an infinite weight [1,1,2,2]*[1,1,3,3]", new[] { I(1, 1, 2, 2) },
            p => Nn.ConvTranspose2d(p[0], Const(InfiniteKernel, new[] { 1, 1, 3, 3 }, p[0]), stride: 2, padding: 1),
            p => F.conv_transpose2d(p[0], Const(InfiniteKernel, new long[] { 1, 1, 3, 3 }, p[0]), strides: L(2, 2), padding: L(1, 1)));
        yield return C("convTranspose2d outputPadding 1 dilation 2 with an infinite weight [1,1,2,2]*[1,1,3,3]", new[] { I(1, 1, 2, 2) },
            p => Nn.ConvTranspose2d(p[0], Const(InfiniteKernel, new[] { 1, 1, 3, 3 }, p[0]), outputPadding: 1, dilation: 2),
            p => F.conv_transpose2d(p[0], Const(InfiniteKernel, new long[] { 1, 1, 3, 3 }, p[0]), output_padding: L(1, 1), dilation: L(2, 2)));

        // the patch primitives themselves: unfold (im2col) and its adjoint fold (col2im)
        yield return C("unfold kernel 2 [2,3,5,6]", new[] { I(2, 3, 5, 6) },
            p => Nn.Unfold(p[0], 2), p => F.unfold(p[0], 2));
        yield return C("unfold kernel (2,3) dilation (1,2) padding 1 stride (2,1) [1,2,5,7]", new[] { I(1, 2, 5, 7) },
            p => Nn.Unfold(p[0], (2, 3), (1, 2), (1, 1), (2, 1)), p => F.unfold(p[0], (2, 3), (1, 2), (1, 1), (2, 1)));
        yield return C("fold kernel 2 to (5,6) [2,12,20]", new[] { I(2, 12, 20) },
            p => Nn.Fold(p[0], 5, 6, 2), p => F.fold(p[0], (5, 6), (2, 2)));
        yield return C("fold kernel (3,2) stride 2 padding 1 dilation (1,2) to (6,7) [1,12,12]", new[] { I(1, 12, 12) },
            p => Nn.Fold(p[0], (6, 7), (3, 2), (1, 2), (1, 1), (2, 2)), p => F.fold(p[0], (6, 7), (3, 2), (1, 2), (1, 1), (2, 2)));

        // pooling; max pooling on distinct values so no tie decides a gradient by chance
        yield return C("maxPool2d kernel 2 [2,2,6,6]", new[] { D(2, 2, 6, 6) },
            p => Nn.MaxPool2d(p[0], 2), p => F.max_pool2d(p[0], 2));
        yield return C("maxPool2d kernel 3 stride 2 padding 1 [2,3,7,6]", new[] { D(2, 3, 7, 6) },
            p => Nn.MaxPool2d(p[0], 3, stride: 2, padding: 1), p => F.max_pool2d(p[0], L(3, 3), L(2, 2), L(1, 1)));
        yield return C("maxPool2d kernel (2,3) stride 1 dilation 2 [1,2,7,8]", new[] { D(1, 2, 7, 8) },
            p => Nn.MaxPool2d(p[0], (2, 3), (1, 1), (0, 1), (2, 2)), p => F.max_pool2d(p[0], L(2, 3), L(1, 1), L(0, 1), L(2, 2)));
        yield return C("maxPool2d unbatched kernel 2 [2,4,5]", new[] { D(2, 4, 5) },
            p => Nn.MaxPool2d(p[0], 2), p => F.max_pool2d(p[0], 2));
        yield return C("avgPool2d kernel 2 [2,2,6,6]", new[] { I(2, 2, 6, 6) },
            p => Nn.AvgPool2d(p[0], 2), p => F.avg_pool2d(p[0], 2));
        yield return C("avgPool2d kernel 3 stride 2 padding 1 (padding counts) [2,3,7,6]", new[] { I(2, 3, 7, 6) },
            p => Nn.AvgPool2d(p[0], 3, stride: 2, padding: 1), p => F.avg_pool2d(p[0], L(3, 3), L(2, 2), L(1, 1)));
        yield return C("avgPool2d kernel (3,2) stride (1,2) [1,2,5,6]", new[] { I(1, 2, 5, 6) },
            p => Nn.AvgPool2d(p[0], (3, 2), (1, 2), (0, 0)), p => F.avg_pool2d(p[0], L(3, 2), L(1, 2)));
        yield return C("adaptiveAvgPool2d [2,3,7,5] to (3,2)", new[] { I(2, 3, 7, 5) },
            p => Nn.AdaptiveAvgPool2d(p[0], (3, 2)), p => F.adaptive_avg_pool2d(p[0], L(3, 2)));
        yield return C("adaptiveAvgPool2d [2,2,4,6] to 1", new[] { I(2, 2, 4, 6) },
            p => Nn.AdaptiveAvgPool2d(p[0], 1), p => F.adaptive_avg_pool2d(p[0], 1));
        yield return C("adaptiveAvgPool2d [1,2,3,2] to (5,4), windows overlap", new[] { I(1, 2, 3, 2) },
            p => Nn.AdaptiveAvgPool2d(p[0], (5, 4)), p => F.adaptive_avg_pool2d(p[0], L(5, 4)));
        // pooling inside a smooth function, so that the second-order checks see a nonzero Hessian
        yield return C("sin(maxPool2d) and sin(avgPool2d) kernel 2, small enough for the full Hessian", new[] { D(1, 1, 2, 4) },
            p => (Nn.MaxPool2d(p[0], 2).Sin() * Nn.AvgPool2d(p[0], 2).Sin()).Sum(), p => (F.max_pool2d(p[0], 2).sin() * F.avg_pool2d(p[0], 2).sin()).sum());

        // LeNet-style: conv 1→6 (5×5), relu, max pool 2; conv 6→16 (5×5), relu, max pool 2; linear 256→120, relu;
        // linear 120→10; cross-entropy over a batch of 8 of 1×28×28. Parameters are drawn standard normal and
        // scaled by 1/sqrt(fan-in) inside the function, on both sides.
        yield return C("model LeNet (batch 8, 1x28x28, cross-entropy)",
            new[] { I(6, 1, 5, 5), I(6), I(16, 6, 5, 5), I(16), I(120, 256), I(120), I(10, 120), I(10) },
            p =>
            {
                var x = Const(LeNetX, new[] { 8, 1, 28, 28 }, p[0]);
                var h = Nn.MaxPool2d(Nn.Conv2d(x, p[0] * (1 / 5.0), p[1]).Relu(), 2);
                h = Nn.MaxPool2d(Nn.Conv2d(h, p[2] * (1 / Math.Sqrt(150)), p[3]).Relu(), 2);
                var flat = h.Reshape(8, 256);
                var hidden = Nn.Linear(flat, p[4] * (1 / 16.0), p[5]).Relu();
                return Loss.CrossEntropy(Nn.Linear(hidden, p[6] * (1 / Math.Sqrt(120)), p[7]), LeNetTargets);
            },
            p =>
            {
                var x = Const(LeNetX, L(8, 1, 28, 28), p[0]);
                var h = F.max_pool2d(F.relu(F.conv2d(x, p[0] * (1 / 5.0), p[1])), 2);
                h = F.max_pool2d(F.relu(F.conv2d(h, p[2] * (1 / Math.Sqrt(150)), p[3])), 2);
                var flat = h.reshape(8, 256);
                var hidden = F.relu(F.linear(flat, p[4] * (1 / 16.0), p[5]));
                return F.cross_entropy(F.linear(hidden, p[6] * (1 / Math.Sqrt(120)), p[7]), torch.tensor(LeNetTargets.Select(t => (long)t).ToArray()));
            }) with { Float32 = new Tolerance(1e-3, 1e-4), Why = "sums of 150 to 256 float32 products per layer, four layers deep, in the second-order checks" };

        // a two-layer 1-D convolutional sequence model: batch 4, 3 channels, 16 steps; conv 3→8 (k 3, padding 1), tanh;
        // conv 8→4 (k 3, dilation 2, padding 2), tanh; mean squared error against a target sequence.
        yield return C("model 1-D conv sequence (two layers, batch 4, 16 steps)", new[] { I(8, 3, 3), I(8), I(4, 8, 3), I(4) },
            p =>
            {
                var x = Const(SequenceX, new[] { 4, 3, 16 }, p[0]);
                var h = Nn.Conv1d(x, p[0] * (1 / 3.0), p[1], padding: 1).Tanh();
                var y = Nn.Conv1d(h, p[2] * (1 / Math.Sqrt(24)), p[3], padding: 2, dilation: 2).Tanh();
                return Loss.Mse(y, Const(SequenceY, new[] { 4, 4, 16 }, p[0]));
            },
            p =>
            {
                var x = Const(SequenceX, L(4, 3, 16), p[0]);
                var h = F.conv1d(x, p[0] * (1 / 3.0), p[1], padding: 1).tanh();
                var y = F.conv1d(h, p[2] * (1 / Math.Sqrt(24)), p[3], padding: 2, dilation: 2).tanh();
                return F.mse_loss(y, Const(SequenceY, L(4, 4, 16), p[0]));
            });
    }
}
