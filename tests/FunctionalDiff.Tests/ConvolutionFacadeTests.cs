using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The C# convolution and pooling layers: torch's output shapes, the square and (height, width)
/// overloads meaning the same thing, and errors that name the method, the parameter and the shapes.
/// </summary>
public class ConvolutionFacadeTests
{
    static Expr Input(params int[] shape) => Tensor.RandomNormal(shape, seed: 3);

    [Fact]
    public void OutputShapesFollowTorchsFormulas()
    {
        // Ho = (H + 2p − d(k − 1) − 1) / s + 1 and, transposed, (H − 1)s − 2p + d(k − 1) + op + 1
        Assert.Equal(new[] { 2, 4, 16, 16 }, Nn.Conv2d(Input(2, 3, 32, 32), Input(4, 3, 3, 3), stride: 2, padding: 1).Shape);
        Assert.Equal(new[] { 2, 4, 28, 28 }, Nn.Conv2d(Input(2, 3, 32, 32), Input(4, 3, 3, 3), dilation: 2).Shape);
        Assert.Equal(new[] { 2, 6, 7 }, Nn.Conv1d(Input(2, 4, 15), Input(6, 2, 3), stride: 2, groups: 2).Shape);
        Assert.Equal(new[] { 1, 6, 10, 10 }, Nn.ConvTranspose2d(Input(1, 4, 5, 5), Input(4, 3, 3, 3), stride: 2, padding: 1, outputPadding: 1, groups: 2).Shape);
        Assert.Equal(new[] { 2, 3, 8, 8 }, Nn.MaxPool2d(Input(2, 3, 16, 17), 2).Shape);
        Assert.Equal(new[] { 2, 3, 9, 9 }, Nn.AvgPool2d(Input(2, 3, 17, 17), 3, stride: 2, padding: 1).Shape);
        Assert.Equal(new[] { 3, 2, 5 }, Nn.AdaptiveAvgPool2d(Input(3, 7, 9), (2, 5)).Shape);
        Assert.Equal(new[] { 2, 12, 20 }, Nn.Unfold(Input(2, 3, 5, 6), 2).Shape);
        Assert.Equal(new[] { 2, 3, 5, 6 }, Nn.Fold(Input(2, 12, 20), 5, 6, 2).Shape);
    }

    [Fact]
    public void TheSquareOverloadIsThePairOverloadWithEqualEntries()
    {
        var x = Input(1, 2, 9, 9);
        var w = Input(3, 2, 3, 3);
        Assert.Equal(Nn.Conv2d(x, w, null, (2, 2), (1, 1), (2, 2)).Eval().ToDoubleArray(),
                     Nn.Conv2d(x, w, stride: 2, padding: 1, dilation: 2).Eval().ToDoubleArray());
        Assert.Equal(Nn.MaxPool2d(x, (3, 3), (3, 3), (1, 1), (1, 1)).Eval().ToDoubleArray(),
                     Nn.MaxPool2d(x, 3, padding: 1).Eval().ToDoubleArray());
    }

    [Fact]
    public void ErrorsNameTheMethodTheParameterAndTheShapes()
    {
        var channels = Assert.ThrowsAny<ArgumentException>(() => Nn.Conv2d(Input(2, 3, 8, 8), Input(4, 2, 3, 3)));
        Assert.Contains("Conv2d", channels.Message);
        Assert.Contains("input [2,3,8,8]", channels.Message);
        Assert.Contains("weight [4,2,3,3]", channels.Message);

        var groups = Assert.ThrowsAny<ArgumentException>(() => Nn.Conv2d(Input(2, 3, 8, 8), Input(4, 1, 3, 3), groups: 2));
        Assert.Contains("groups 2", groups.Message);

        var empty = Assert.ThrowsAny<ArgumentException>(() => Nn.Conv1d(Input(1, 2, 4), Input(3, 2, 5)));
        Assert.Contains("Conv1d", empty.Message);
        Assert.Contains("empty output", empty.Message);
        Assert.Contains("input [1,2,4]", empty.Message);

        var stride = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxPool2d(Input(1, 1, 4, 4), 2, stride: 0));
        Assert.Equal("stride", stride.ParamName);
        Assert.Contains("MaxPool2d", stride.Message);

        var outputPadding = Assert.ThrowsAny<ArgumentException>(() => Nn.ConvTranspose2d(Input(1, 2, 3, 3), Input(2, 2, 3, 3), stride: 2, outputPadding: 2));
        Assert.Contains("ConvTranspose2d", outputPadding.Message);
        Assert.Contains("outputPadding", outputPadding.Message);
    }
}
