using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// <see cref="Nn.GridSample"/> and <see cref="Nn.AffineGrid"/> beside the TorchSharp comparison in compare/: the
/// identity grid reads every pixel back, a translation by whole pixels is a shift with zeros, border and reflection
/// padding written out by hand, and the errors name the op and the shapes.
/// </summary>
public class GridSampleTests
{
    [Fact]
    public void TheIdentityGridReadsEveryPixelBackAndAShiftByOnePixelIsTheShiftedImage()
    {
        const int h = 3, w = 4;
        var image = T([1, 2, h, w], 1);
        var x = image.ToDoubleArray();
        Expr identity = Tensor.FromArray([1.0, 0, 0, 0, 1, 0], [1, 2, 3]);
        foreach (var align in new[] { false, true })
            foreach (var mode in new[] { GridSampleMode.Bilinear, GridSampleMode.Nearest })
                Close(x, Nn.GridSample(image, Nn.AffineGrid(identity, [1, 2, h, w], align), mode, alignCorners: align).Eval().ToDoubleArray(),
                    1e-14, $"identity, {mode}, alignCorners {align}");
        // x moved by one pixel to the right (2/w in normalised units without aligned corners): pixel (i, j) reads (i, j + 1)
        Expr shift = Tensor.FromArray([1.0, 0, 2.0 / w, 0, 1, 0], [1, 2, 3]);
        foreach (var padding in new[] { GridSamplePadding.Zeros, GridSamplePadding.Border, GridSamplePadding.Reflection })
        {
            var expected = new double[x.Length];
            for (int c = 0; c < 2; c++)
                for (int i = 0; i < h; i++)
                    for (int j = 0; j < w; j++)
                    {
                        // past the last column: 0, the last column itself, or its reflection about the image's right edge
                        // (x = w − 0.5 in pixel units), which is the last column again
                        int source = j + 1;
                        expected[(c * h + i) * w + j] = source < w ? x[(c * h + i) * w + source]
                            : padding == GridSamplePadding.Zeros ? 0 : x[(c * h + i) * w + w - 1];
                    }
            Close(expected, Nn.GridSample(image, Nn.AffineGrid(shift, [1, 2, h, w]), paddingMode: padding).Eval().ToDoubleArray(), 1e-14,
                $"shift, {padding}");
        }
    }

    [Fact]
    public void ErrorsNameTheOpAndTheShapes()
    {
        Expr image = T([2, 3, 4, 5], 1);
        Assert.Contains("GridSample: grid [2,6,7]", Assert.ThrowsAny<ArgumentException>(() => Nn.GridSample(image, T([2, 6, 7], 2))).Message);
        Assert.Contains("N = 2", Assert.ThrowsAny<ArgumentException>(() => Nn.GridSample(image, T([1, 6, 7, 2], 2))).Message);
        Assert.Contains("input [3,4,5]", Assert.ThrowsAny<ArgumentException>(() => Nn.GridSample(T([3, 4, 5], 1), T([3, 6, 7, 2], 2))).Message);
        Assert.Contains("dtype", Assert.ThrowsAny<ArgumentException>(() => Nn.GridSample(image, T([2, 6, 7, 2], 2).To(DType.Float32))).Message);
        Assert.Contains("AffineGrid: theta [2,3,3]", Assert.ThrowsAny<ArgumentException>(() => Nn.AffineGrid(T([2, 3, 3], 1), [2, 3, 4, 5])).Message);
        Assert.Contains("size [2,3,4]", Assert.ThrowsAny<ArgumentException>(() => Nn.AffineGrid(T([2, 2, 3], 1), [2, 3, 4])).Message);
    }
}

/// <summary><see cref="Nn.Conv3d(Expr, Expr, Expr?, int, int, int, int)"/>'s errors name the op and the shapes (its values and
/// derivatives are in the comparison table against TorchSharp).</summary>
public class Conv3dErrorTests
{
    [Fact]
    public void ErrorsNameTheOpAndTheShapes()
    {
        Expr x = T([1, 2, 3, 4, 4], 1);
        Assert.Contains("Conv3d: weight [3,2,2,2]", Assert.ThrowsAny<ArgumentException>(() => Nn.Conv3d(x, T([3, 2, 2, 2], 2))).Message);
        Assert.Contains("input [1,2,3,4,4] has 2 channels", Assert.ThrowsAny<ArgumentException>(() => Nn.Conv3d(x, T([3, 4, 2, 2, 2], 2))).Message);
        Assert.Contains("along depth gives an empty output", Assert.ThrowsAny<ArgumentException>(() => Nn.Conv3d(x, T([3, 2, 4, 2, 2], 2))).Message);
        Assert.Contains("bias [2]", Assert.ThrowsAny<ArgumentException>(() => Nn.Conv3d(x, T([3, 2, 2, 2, 2], 2), T([2], 3))).Message);
        Assert.Contains("[N, C, D, H, W]", Assert.ThrowsAny<ArgumentException>(() => Nn.Conv3d(T([2, 3, 4], 1), T([3, 2, 2, 2, 2], 2))).Message);
    }
}
