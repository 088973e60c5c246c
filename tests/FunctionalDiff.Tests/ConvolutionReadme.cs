namespace FunctionalDiff.Tests;

/// <summary>
/// The README's convolution fragment (section "Convolution and pooling"), verbatim between the
/// markers with the names it uses defined before them: <see cref="ReadmeFragmentTests"/> checks
/// that README.md shows exactly this code and that its results agree with loops written with doubles.
/// </summary>
public static class ConvolutionReadme
{
    /// <summary>What the convolution fragment builds, with its inputs.</summary>
    public sealed record ConvolutionOutcome(Tensor Images, Tensor W1, Tensor B1, Tensor X, Tensor W, Expr H, Expr Y);

    /// <summary>Runs the fragment of the section "Convolution and pooling".</summary>
    public static ConvolutionOutcome Convolution()
    {
        var images = Tensor.RandomNormal(new[] { 2, 1, 28, 28 }, seed: 21);
        var w1 = Tensor.RandomNormal(new[] { 6, 1, 3, 3 }, seed: 22);
        var b1 = Tensor.RandomNormal(new[] { 6 }, seed: 23);
        var x = Tensor.RandomNormal(new[] { 2, 3, 7, 8 }, seed: 24);
        var w = Tensor.RandomNormal(new[] { 4, 3, 3, 3 }, seed: 25);
        // BEGIN README
        var h = Nn.MaxPool2d(Nn.Conv2d(images, w1, b1, padding: 1).Relu(), 2);   // [N,1,28,28] -> [N,6,14,14]
        var y = Nn.Conv2d(x, w, null, stride: (2, 1), padding: (1, 0), dilation: (1, 2));
        // END README
        return new(images, w1, b1, x, w, h, y);
    }
}
