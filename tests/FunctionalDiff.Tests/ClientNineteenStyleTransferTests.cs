using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's neural style transfer (the tutorial's recipe at a small size): a frozen two-layer conv + tanh
/// feature extractor, a content loss (MSE of the second layer's features against the content image's) and a style loss
/// (MSE of Gram matrices, <c>F.view(b·c, h·w) @ Fᵀ / (b·c·h·w)</c>, at both layers against the style image's), and
/// Adam on the image itself in a compiled step. Held to the same loss over doubles (convolutions as loops), its
/// gradient with respect to every pixel to central differences of that, and Adam to torch's.
/// </summary>
public class ClientNineteenStyleTransferTests
{
    const int C = 2, H = 5, W = 5, C1 = 3, C2 = 4, K = 3, Steps = 3;
    const double ContentWeight = 1.0, StyleWeight = 1000.0, Lr = 0.05;

    static readonly (string Name, int[] Shape)[] Layout = [("image", [1, C, H, W])];

    // the frozen extractor, a stand-in for VGG's first layers
    static readonly Tensor Conv1 = Tensor.FromArray(Values(C1 * C * K * K, 40).Select(v => 0.4 * v).ToArray(), C1, C, K, K);
    static readonly Tensor Bias1 = Tensor.FromArray(Values(C1, 41).Select(v => 0.1 * v).ToArray());
    static readonly Tensor Conv2 = Tensor.FromArray(Values(C2 * C1 * K * K, 42).Select(v => 0.3 * v).ToArray(), C2, C1, K, K);
    static readonly Tensor Bias2 = Tensor.FromArray(Values(C2, 43).Select(v => 0.1 * v).ToArray());

    static readonly double[] ContentImage = Values(C * H * W, 44).Select(v => 0.5 + 0.3 * v).ToArray();
    static readonly double[] StyleImage = Values(C * H * W, 45).Select(v => 0.5 + 0.3 * Math.Sin(3 * v)).ToArray();
    static readonly double[] StartImage = Values(C * H * W, 46).Select(v => 0.5 + 0.2 * v).ToArray();

    // ---- the client, as written against the README ----

    static (Expr F1, Expr F2) Features(Expr image)
    {
        var f1 = Nn.Conv2d(image, Conv1, Bias1, padding: 1).Tanh();
        var f2 = Nn.Conv2d(f1, Conv2, Bias2, padding: 1).Tanh();
        return (f1, f2);
    }

    static Expr Gram(Expr features)
    {
        int b = features.Shape[0], c = features.Shape[1], h = features.Shape[2], w = features.Shape[3];
        var f = features.Reshape(b * c, h * w);
        return f.MatMul(f.Transpose()) / (b * c * h * w);
    }

    static Expr StyleTransferLoss(Expr image)
    {
        var (c1, c2) = Features(Tensor.FromArray(ContentImage, 1, C, H, W));
        var (s1, s2) = Features(Tensor.FromArray(StyleImage, 1, C, H, W));
        var (f1, f2) = Features(image);
        // the targets are detached, as the tutorial's ContentLoss and StyleLoss keep them
        var content = Loss.Mse(f2, c2.Detach());
        var style = Loss.Mse(Gram(f1), Gram(s1).Detach()) + Loss.Mse(Gram(f2), Gram(s2).Detach());
        return ContentWeight * content + StyleWeight * style;
    }

    // ---- the reference over doubles ----

    static (double[] F1, double[] F2) ReferenceFeatures(double[] image)
    {
        var f1 = Conv2d(image, C, H, W, Conv1.ToDoubleArray(), C1, K, K, Bias1.ToDoubleArray(), 1, 1, 1, 1, H, W).Select(Math.Tanh).ToArray();
        var f2 = Conv2d(f1, C1, H, W, Conv2.ToDoubleArray(), C2, K, K, Bias2.ToDoubleArray(), 1, 1, 1, 1, H, W).Select(Math.Tanh).ToArray();
        return (f1, f2);
    }

    static double[] ReferenceGram(double[] f, int channels)
    {
        var g = new double[channels * channels];
        for (int a = 0; a < channels; a++)
            for (int b = 0; b < channels; b++)
                g[a * channels + b] = Enumerable.Range(0, H * W).Sum(k => f[a * H * W + k] * f[b * H * W + k]) / (channels * H * W);
        return g;
    }

    static double MeanSquare(double[] a, double[] b) => a.Zip(b).Sum(z => (z.First - z.Second) * (z.First - z.Second)) / a.Length;

    static double ReferenceLoss(double[] image)
    {
        var (c1, c2) = ReferenceFeatures(ContentImage);
        var (s1, s2) = ReferenceFeatures(StyleImage);
        var (f1, f2) = ReferenceFeatures(image);
        double style = MeanSquare(ReferenceGram(f1, C1), ReferenceGram(s1, C1)) + MeanSquare(ReferenceGram(f2, C2), ReferenceGram(s2, C2));
        return ContentWeight * MeanSquare(f2, c2) + StyleWeight * style;
    }

    [Fact]
    public void TheImagesGradientIsCentralDifferencesOfTheStyleTransferLoss()
    {
        var (loss, gradient) = Diff.ValueAndGrad(StyleTransferLoss, Tensor.FromArray(StartImage, 1, C, H, W));
        var values = Expr.EvalMany([loss, gradient]);
        Close(ReferenceLoss(StartImage), values[0].ToScalar(), 1e-13, "loss");
        Assert.Equal(new[] { 1, C, H, W }, values[1].Shape);
        Close(Gradient(ReferenceLoss, StartImage), values[1].ToDoubleArray(), 1e-8, "image gradient");
    }

    [Fact]
    public void TheGramMatrixIsTheFeatureCorrelationOverPixels()
    {
        var (f1, _) = Features(Tensor.FromArray(StyleImage, 1, C, H, W));
        var gram = Gram(f1).Eval();
        Assert.Equal(new[] { C1, C1 }, gram.Shape);
        Close(ReferenceGram(ReferenceFeatures(StyleImage).F1, C1), gram.ToDoubleArray(), 1e-14, "Gram");
    }

    [Fact]
    public void AdamOnTheImageIsTorchsAdamOnItsGradient()
    {
        var step = Diff.CompileValueAndGrad((p, _) => StyleTransferLoss(p["image"]));
        var image = Parameters.Of(("image", Tensor.FromArray(StartImage, 1, C, H, W)));
        var losses = CheckAdamSteps(step, new Adam(image, lr: Lr), Layout, ReferenceLoss, [], Steps);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }
}
