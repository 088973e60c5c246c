using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>The README's fragments (checkpointing, convolution) are this repository's code, and their numbers are right.</summary>
public class ReadmeFragmentTests
{
    [Fact]
    public void TheReadmeShowsExactlyTheCheckpointingFragment() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/CheckpointReadme.cs", "### Checkpointing");

    [Fact]
    public void TheReadmeShowsExactlyTheConvolutionFragment() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ConvolutionReadme.cs", "## Convolution and pooling");

    static double[] MatVec(double[] w, double[] x) => new[] { w[0] * x[0] + w[1] * x[1], w[2] * x[0] + w[3] * x[1] };

    [Fact]
    public void TheCheckpointingFragmentAgreesWithLoopsWrittenWithDoubles()
    {
        var r = CheckpointReadme.Checkpointing();

        // block(x) = tanh(W x) ⊙ sigmoid(x), applied three times, summed: its gradient by central differences
        double[] Block(double[] x)
        {
            var z = MatVec(r.W, x);
            return z.Select((v, i) => Math.Tanh(v) / (1 + Math.Exp(-x[i]))).ToArray();
        }
        double Objective(double[] x) => Block(Block(Block(x))).Sum();
        Close(Gradient(Objective, r.X0), r.Gradient.Eval().ToDoubleArray(), 1e-6, "gradient through three checkpointed blocks");

        // the Scan with √T checkpointing: h ← tanh(W h + x_t) over the 9 rows of xs
        var h = r.H0;
        var ys = new List<double>();
        for (int t = 0; t < 9; t++)
        {
            var z = MatVec(r.W, h);
            h = new[] { Math.Tanh(z[0] + r.Xs[2 * t]), Math.Tanh(z[1] + r.Xs[2 * t + 1]) };
            ys.AddRange(h);
        }
        Close(h, r.Carry.Eval().ToDoubleArray(), 1e-14, "final carry");
        Close(ys.ToArray(), r.Ys.Eval().ToDoubleArray(), 1e-14, "stacked ys");
        Assert.Equal(new[] { 9, 2 }, r.Ys.Shape);
    }

    [Fact]
    public void TheConvolutionFragmentGivesTorchsShapesAndTheValuesOfAReferenceLoop()
    {
        var r = ConvolutionReadme.Convolution();
        double[] images = r.Images.ToDoubleArray(), w1 = r.W1.ToDoubleArray(), b1 = r.B1.ToDoubleArray();

        // conv 3×3 with padding 1, relu, then 2×2 max pooling with stride 2, written out
        double Conv(int n, int c, int i, int j)
        {
            double acc = b1[c];
            for (int ki = 0; ki < 3; ki++)
                for (int kj = 0; kj < 3; kj++)
                {
                    int row = i - 1 + ki, col = j - 1 + kj;
                    if (row >= 0 && row < 28 && col >= 0 && col < 28) acc += images[n * 784 + row * 28 + col] * w1[c * 9 + ki * 3 + kj];
                }
            return Math.Max(acc, 0);
        }
        var pooled = new List<double>();
        for (int n = 0; n < 2; n++)
            for (int c = 0; c < 6; c++)
                for (int i = 0; i < 14; i++)
                    for (int j = 0; j < 14; j++)
                        pooled.Add(Math.Max(Math.Max(Conv(n, c, 2 * i, 2 * j), Conv(n, c, 2 * i, 2 * j + 1)),
                                            Math.Max(Conv(n, c, 2 * i + 1, 2 * j), Conv(n, c, 2 * i + 1, 2 * j + 1))));
        Assert.Equal(new[] { 2, 6, 14, 14 }, r.H.Shape);
        Close(pooled.ToArray(), r.H.Eval().ToDoubleArray(), 1e-12, "conv, relu, max pool");

        // torch's output size: (L + 2·padding − dilation·(k − 1) − 1) / stride + 1 per axis
        int height = (7 + 2 * 1 - 1 * 2 - 1) / 2 + 1, width = (8 + 0 - 2 * 2 - 1) / 1 + 1;
        Assert.Equal(new[] { 2, 4, height, width }, r.Y.Shape);
        double[] x = r.X.ToDoubleArray(), w = r.W.ToDoubleArray();
        var expected = new List<double>();
        for (int n = 0; n < 2; n++)
            for (int o = 0; o < 4; o++)
                for (int i = 0; i < height; i++)
                    for (int j = 0; j < width; j++)
                    {
                        double acc = 0;
                        for (int c = 0; c < 3; c++)
                            for (int ki = 0; ki < 3; ki++)
                                for (int kj = 0; kj < 3; kj++)
                                {
                                    int row = 2 * i - 1 + ki, col = j + 2 * kj;
                                    if (row >= 0 && row < 7 && col < 8) acc += x[((n * 3 + c) * 7 + row) * 8 + col] * w[((o * 3 + c) * 3 + ki) * 3 + kj];
                                }
                        expected.Add(acc);
                    }
        Close(expected.ToArray(), r.Y.Eval().ToDoubleArray(), 1e-12, "strided, padded, dilated conv2d");
    }
}
