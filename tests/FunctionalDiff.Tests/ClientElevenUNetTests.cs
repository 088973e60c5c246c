using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A small U-Net ported from PyTorch as a user writes it, on a 1×1×8×8 image: a 3×3 conv with padding="same" and ReLU,
/// 2×2 max pooling, a second conv, a stride-2 <c>ConvTranspose2d</c> back up (or <c>F.interpolate</c>, nearest, then a
/// conv), a skip connection by <c>torch.cat</c> on the channel axis, a 1×1 conv to one logit per pixel and
/// <c>F.binary_cross_entropy_with_logits</c> against a mask. Held to the same network written as loops over doubles and to
/// its central differences; compiled, two calls with different images give the loops' numbers.
/// </summary>
public class ClientElevenUNetTests
{
    const int S = 8, C1 = 2, C2 = 3;

    internal static readonly (string Name, int[] Shape)[] Layout =
    [
        ("enc1.weight", [C1, 1, 3, 3]), ("enc1.bias", [C1]),
        ("enc2.weight", [C2, C1, 3, 3]), ("enc2.bias", [C2]),
        ("up.weight", [C2, C1, 2, 2]), ("up.bias", [C1]),       // ConvTranspose2d: [in, out, kH, kW]
        ("head.weight", [1, 2 * C1, 1, 1]), ("head.bias", [1]),
    ];

    internal static Parameters Model() => Parameters.Of(Layout.Select((e, i) => (e.Name, 0.5 * T(e.Shape, 20 + i))).ToArray());

    internal static Tensor Image(int salt) => T([1, 1, S, S], salt);
    internal static Tensor Mask(int salt) => Tensor.FromArray(Values(S * S, salt).Select(v => v > 0 ? 1.0 : 0.0).ToArray(), 1, 1, S, S);

    // ---- what a torch user writes ----

    static Expr Forward(IReadOnlyDictionary<string, Expr> p, Expr x, bool transposed)
    {
        var e1 = Nn.Conv2d(x, p["enc1.weight"], p["enc1.bias"], padding: "same").Relu();              // [1, C1, 8, 8]
        var e2 = Nn.Conv2d(Nn.MaxPool2d(e1, 2), p["enc2.weight"], p["enc2.bias"], padding: 1).Relu();  // [1, C2, 4, 4]
        var up = transposed
            ? Nn.ConvTranspose2d(e2, p["up.weight"], p["up.bias"], stride: 2)                             // [1, C1, 8, 8]
            // the other decoder: upsample by 2 (nearest), then a 2×2 conv over the padded result reusing the same numbers
            : Nn.Conv2d(Nn.Pad(Nn.Interpolate(e2, [2.0, 2.0]), [0, 1, 0, 1]), p["up.weight"].Transpose(0, 1), p["up.bias"]);
        var skip = Expr.Cat([up, e1], 1);                                                                  // [1, 2·C1, 8, 8]
        return Nn.Conv2d(skip, p["head.weight"], p["head.bias"]);
    }

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr x, Expr mask, bool transposed) =>
        Loss.BinaryCrossEntropyWithLogits(Forward(p, x, transposed), mask);

    // ---- the same network as loops over doubles, one image [C, H, W] ----

    // every conv here keeps the size (3×3 with padding 1, 1×1 with none)
    static double[] Conv(double[] x, int c, int h, int w, double[] k, double[] b, int co, int kh, int kw, int pad) =>
        Conv2d(x, c, h, w, k, co, kh, kw, b, pad, pad, 1, 1, h, w);

    static double[] Pool(double[] x, int c, int h, int w)
    {
        var y = new double[c * (h / 2) * (w / 2)];
        for (int ci = 0; ci < c; ci++)
            for (int i = 0; i < h / 2; i++)
                for (int j = 0; j < w / 2; j++)
                {
                    double m = double.NegativeInfinity;
                    for (int u = 0; u < 2; u++)
                        for (int v = 0; v < 2; v++) m = Math.Max(m, x[(ci * h + 2 * i + u) * w + 2 * j + v]);
                    y[(ci * (h / 2) + i) * (w / 2) + j] = m;
                }
        return y;
    }

    // conv_transpose2d with kernel 2 and stride 2: each input pixel writes a 2×2 block, weight [in, out, 2, 2]
    static double[] UpTransposed(double[] x, int c, int h, int w, double[] k, double[] b, int co)
    {
        var y = new double[co * 2 * h * 2 * w];
        for (int o = 0; o < co; o++)
            for (int r = 0; r < 2 * h; r++)
                for (int q = 0; q < 2 * w; q++)
                {
                    double s = b[o];
                    for (int ci = 0; ci < c; ci++) s += x[(ci * h + r / 2) * w + q / 2] * k[((ci * co + o) * 2 + r % 2) * 2 + q % 2];
                    y[(o * 2 * h + r) * 2 * w + q] = s;
                }
        return y;
    }

    // nearest upsampling by 2, then a 2×2 conv with the weight [in, out, 2, 2] read as [out, in, 2, 2], zeros past the edge
    static double[] UpInterpolated(double[] x, int c, int h, int w, double[] k, double[] b, int co)
    {
        var y = new double[co * 2 * h * 2 * w];
        for (int o = 0; o < co; o++)
            for (int r = 0; r < 2 * h; r++)
                for (int q = 0; q < 2 * w; q++)
                {
                    double s = b[o];
                    for (int ci = 0; ci < c; ci++)
                        for (int u = 0; u < 2; u++)
                            for (int v = 0; v < 2; v++)
                                if (r + u < 2 * h && q + v < 2 * w)
                                    s += x[(ci * h + (r + u) / 2) * w + (q + v) / 2] * k[((ci * co + o) * 2 + u) * 2 + v];
                    y[(o * 2 * h + r) * 2 * w + q] = s;
                }
        return y;
    }

    internal static double LossRef(double[] flat, Tensor image, Tensor mask, bool transposed)
    {
        var p = Unflatten(Layout, flat);
        var e1 = Conv(image.ToDoubleArray(), 1, S, S, p["enc1.weight"], p["enc1.bias"], C1, 3, 3, 1).Select(v => Math.Max(v, 0)).ToArray();
        var e2 = Conv(Pool(e1, C1, S, S), C1, S / 2, S / 2, p["enc2.weight"], p["enc2.bias"], C2, 3, 3, 1).Select(v => Math.Max(v, 0)).ToArray();
        var up = transposed
            ? UpTransposed(e2, C2, S / 2, S / 2, p["up.weight"], p["up.bias"], C1)
            : UpInterpolated(e2, C2, S / 2, S / 2, p["up.weight"], p["up.bias"], C1);
        var logits = Conv([.. up, .. e1], 2 * C1, S, S, p["head.weight"], p["head.bias"], 1, 1, 1, 0);
        var t = mask.ToDoubleArray();
        // log(1 + e^−z) + (1 − t)·z, written the stable way
        return logits.Select((z, i) => Math.Max(z, 0) - z * t[i] + Math.Log(1 + Math.Exp(-Math.Abs(z)))).Average();
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void TheLossAndItsGradientAreTheLoopsAndTheirCentralDifferences(bool transposed)
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        var (image, mask) = (Image(1), Mask(2));
        var (loss, gradients) = Diff.ValueAndGrad(p => LossOf(p, image, mask, transposed), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        Close(LossRef(flat, image, mask, transposed), values[0].Item(), 1e-13, "loss");
        Close(Gradient(f => LossRef(f, image, mask, transposed), flat), values.Skip(1).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "gradient");
        // one logit per pixel
        Assert.Equal(new[] { 1, 1, S, S }, Forward(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), image, transposed).Shape);
    }

    [Fact]
    public void InFloat32TheCompiledStepStaysFloat32WithinItsRounding()
    {
        // TorchSharp's default dtype: parameters, image and mask in float32, the interpolating decoder
        var step = Diff.CompileValueAndGrad((p, d) => LossOf(p, d[0], d[1], transposed: false));
        var model = Model();
        var single = Parameters.Of(model.Select(kv => (kv.Key, kv.Value.To(DType.Float32))).ToArray());
        var (image, mask) = (Image(9), Mask(10));
        var (loss, gradients) = step.Invoke(single, image.To(DType.Float32), mask.To(DType.Float32));
        Assert.Equal(DType.Float32, loss.DType);
        Assert.All(gradients.Values, g => Assert.Equal(DType.Float32, g.DType));
        // the double loops at the float32 parameters' values, to float32's rounding
        var flat = Flatten(Layout, single);
        Close(LossRef(flat, image.To(DType.Float32).To(DType.Float64), mask, false), loss.Item(), 1e-5, "loss");
        Close(Gradient(f => LossRef(f, image.To(DType.Float32).To(DType.Float64), mask, false), flat), Flatten(Layout, gradients), 1e-4, "gradient");
    }

    [Fact]
    public void CompiledTwiceWithDifferentImagesItGivesTheLoopsNumbers()
    {
        var step = Diff.CompileValueAndGrad((p, d) => LossOf(p, d[0], d[1], transposed: true));
        var model = Model();
        var flat = Flatten(Layout, model);
        foreach (var salt in new[] { 3, 5 })
        {
            var (image, mask) = (Image(salt), Mask(salt + 1));
            var (loss, gradients) = step.Invoke(model, image, mask);
            Close(LossRef(flat, image, mask, true), loss.Item(), 1e-13, $"loss {salt}");
            Close(Gradient(f => LossRef(f, image, mask, true), flat), Flatten(Layout, gradients), 1e-7, $"gradient {salt}");
            // and the uncompiled gradient, bit for bit close
            var eager = Diff.Grad(p => LossOf(p, image, mask, true), model);
            Close(Layout.SelectMany(e => eager[e.Name].Eval().ToDoubleArray()).ToArray(), Flatten(Layout, gradients), 1e-13, $"uncompiled {salt}");
        }
        Assert.Equal(1, step.TraceCount);
    }
}
