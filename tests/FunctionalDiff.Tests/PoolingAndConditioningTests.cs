using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Nn.AdaptiveAvgPool3d, AdaptiveMaxPool3d, LpPool1d/2d and Softmax2d, and Expr.Cond, MatrixRank and VectorNorm, against
/// loops over the windows and closed forms written here; the comparison table checks them against TorchSharp too.
/// </summary>
public class PoolingAndConditioningTests
{
    static (int Start, int Stop) Window(int i, int size, int outputs) => (i * size / outputs, ((i + 1) * size + outputs - 1) / outputs);

    [Fact]
    public void AdaptivePools3dReduceEachBoxAsTheLoopDoes()
    {
        int c = 2, d = 5, h = 4, w = 3, od = 2, oh = 3, ow = 2;
        var values = Enumerable.Range(0, c * d * h * w).Select(i => Math.Sin(1.3 * i) + 0.01 * i).ToArray();
        var x = Tensor.FromArray(values, c, d, h, w);
        var mean = Nn.AdaptiveAvgPool3d(x, (od, oh, ow)).Eval().ToDoubleArray();
        var max = Nn.AdaptiveMaxPool3d(x, (od, oh, ow)).Eval().ToDoubleArray();
        int o = 0;
        for (int ch = 0; ch < c; ch++)
            for (int i = 0; i < od; i++)
                for (int j = 0; j < oh; j++)
                    for (int k = 0; k < ow; k++, o++)
                    {
                        var (d0, d1) = Window(i, d, od); var (h0, h1) = Window(j, h, oh); var (w0, w1) = Window(k, w, ow);
                        double sum = 0, best = double.NegativeInfinity; int count = 0;
                        for (int a = d0; a < d1; a++)
                            for (int b = h0; b < h1; b++)
                                for (int e = w0; e < w1; e++)
                                {
                                    double v = values[((ch * d + a) * h + b) * w + e];
                                    sum += v; count++; best = Math.Max(best, v);
                                }
                        Assert.Equal(sum / count, mean[o], 13);
                        Assert.Equal(best, max[o]);
                    }
        Assert.ThrowsAny<ArgumentException>(() => Nn.AdaptiveAvgPool3d(Tensor.Zeros([2, 3]), 2));
    }

    [Fact]
    public void AdaptiveMaxPool3dSendsATiesCotangentToTheFirstInRowMajorOrder()
    {
        // one box holding the value 1 at (0,1,0) and (1,0,1): the first in row-major order is (0,1,0), flat index 2
        var values = new double[8];
        values[2] = 1; values[5] = 1;
        var grad = Diff.Grad(e => Nn.AdaptiveMaxPool3d(e, 1).Sum())(Tensor.FromArray(values, 1, 2, 2, 2)).Eval().ToDoubleArray();
        var expected = new double[8];
        expected[2] = 1;
        Assert.Equal(expected, grad);
    }

    [Fact]
    public void LpPoolingIsThePowerMeanOfEachWindow()
    {
        var values = new[] { 0.5, 1.5, 2.0, 0.25, 3.0, 1.0, 0.75 };
        // p = 3, kernel 2, stride 2, ceil mode: windows {0,1}, {2,3}, {4,5}, {6}
        var pooled = Nn.LpPool1d(Tensor.FromArray(values, 1, 7), 3.0, 2, ceilMode: true).Eval().ToDoubleArray();
        var expected = new[] { (0, 2), (2, 4), (4, 6), (6, 7) }
            .Select(r => Math.Pow(values[r.Item1..r.Item2].Sum(v => v * v * v) * 2 / (r.Item2 - r.Item1) , 1.0 / 3))
            .ToArray();
        // torch's ceil-mode average divides the last window by the entries it covers, then lp_pool multiplies by the
        // kernel size: the last window counts its one entry twice, as torch's lp_pool1d does
        for (int i = 0; i < 4; i++) Assert.Equal(expected[i], pooled[i], 13);
        // 2-D, p = 2: the Euclidean norm of each 2×2 window
        var grid = Enumerable.Range(0, 16).Select(i => 0.1 * i - 0.7).ToArray();
        var norms = Nn.LpPool2d(Tensor.FromArray(grid, 1, 4, 4), 2.0, 2).Eval().ToDoubleArray();
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
            {
                double s = 0;
                for (int a = 0; a < 2; a++) for (int b = 0; b < 2; b++) { double v = grid[(2 * i + a) * 4 + 2 * j + b]; s += v * v; }
                Assert.Equal(Math.Sqrt(s), norms[i * 2 + j], 13);
            }
        Assert.Throws<ArgumentOutOfRangeException>(() => Nn.LpPool1d(Tensor.FromArray(values, 1, 7), 0.0, 2));
    }

    [Fact]
    public void Softmax2dNormalisesOverChannels()
    {
        var values = Enumerable.Range(0, 2 * 3 * 4).Select(i => Math.Cos(0.9 * i)).ToArray();
        var y = Nn.Softmax2d(Tensor.FromArray(values, 2, 3, 1, 4)).Eval().ToDoubleArray();
        for (int n = 0; n < 2; n++)
            for (int p = 0; p < 4; p++)
            {
                double total = Enumerable.Range(0, 3).Sum(ch => Math.Exp(values[(n * 3 + ch) * 4 + p]));
                for (int ch = 0; ch < 3; ch++) Assert.Equal(Math.Exp(values[(n * 3 + ch) * 4 + p]) / total, y[(n * 3 + ch) * 4 + p], 14);
            }
        Assert.ThrowsAny<ArgumentException>(() => Nn.Softmax2d(Tensor.Zeros([3, 4])));
    }

    [Fact]
    public void CondAndRankAreTheirClosedForms()
    {
        // a diagonal matrix: σ are |entries|, and every p-norm of it and its inverse is a largest entry
        Expr diagonal = Tensor.FromArray(new[] { 4.0, 0, 0, 0, -0.5, 0, 0, 0, 2.0 }, 3, 3);
        Assert.Equal(8.0, diagonal.Cond().Eval().ToScalar(), 12);
        Assert.Equal(0.125, diagonal.Cond(-2.0).Eval().ToScalar(), 12);
        foreach (var p in new[] { 1.0, double.PositiveInfinity })
            Assert.Equal(8.0, diagonal.Cond(p).Eval().ToScalar(), 12);
        Assert.Equal(Math.Sqrt(16 + 0.25 + 4) * Math.Sqrt(1.0 / 16 + 4 + 0.25), diagonal.Cond("fro").Eval().ToScalar(), 12);
        Assert.Equal(6.5 * (0.25 + 2 + 0.5), diagonal.Cond("nuc").Eval().ToScalar(), 12);
        // rank: a sum of two outer products has rank 2; a tolerance above the smaller singular value leaves 1
        var u = new[] { 1.0, 2, 0, -1 }; var v = new[] { 0.5, 0, 1 };
        var a = new double[12];
        for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) a[i * 3 + j] = 10 * u[i] * v[j] + (i == 2 ? 0.01 * (j + 1) : 0);
        Expr rankTwo = Tensor.FromArray(a, 4, 3);
        Assert.Equal(2.0, rankTwo.MatrixRank().Eval().ToScalar());
        Assert.Equal(1.0, rankTwo.MatrixRank(atol: 0.1).Eval().ToScalar());
        Assert.Equal(3.0, diagonal.MatrixRank(hermitian: true).Eval().ToScalar());
        Assert.Equal(2.0, diagonal.MatrixRank(atol: 1.0, hermitian: true).Eval().ToScalar());
        Assert.Throws<ArgumentOutOfRangeException>(() => diagonal.Cond(3.0));
        Assert.Equal(new[] { 5.0, 7.0 }, Tensor.FromArray(new[] { 3.0, -4, 0, 7 }, 2, 2).VectorNorm(axes: [1]).ToDoubleArray());
    }
}
