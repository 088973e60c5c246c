using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Nn.MaxPool1dWithIndices/MaxPool2dWithIndices and Nn.MaxUnpool1d/MaxUnpool2d against the loops of torch's CPU
/// kernels written here: the index starts at a window's first tap inside the input and moves to a strictly larger
/// entry or to any NaN; unpooling writes each value at its index of a zero plane.
/// </summary>
public class MaxUnpoolTests
{
    /// <summary>The max pool of one [H, W] plane: values and flat indices, [Ho, Wo] each.</summary>
    static (double[] Values, double[] Indices) PoolLoop(double[] x, int offset, int h, int w, int kh, int kw, int sh, int sw, int ph, int pw,
        int dh, int dw, int ho, int wo)
    {
        var values = new double[ho * wo];
        var indices = new double[ho * wo];
        for (int i = 0; i < ho; i++)
            for (int j = 0; j < wo; j++)
            {
                double best = double.NegativeInfinity;
                int at = -1;
                for (int a = 0; a < kh; a++)
                    for (int b = 0; b < kw; b++)
                    {
                        int r = i * sh - ph + a * dh, c = j * sw - pw + b * dw;
                        if (r < 0 || r >= h || c < 0 || c >= w) continue;
                        if (at < 0) at = r * w + c;
                        double v = x[offset + r * w + c];
                        if (v > best || double.IsNaN(v)) { best = v; at = r * w + c; }
                    }
                values[i * wo + j] = best;
                indices[i * wo + j] = at;
            }
        return (values, indices);
    }

    /// <summary>Small integers, so most windows hold ties.</summary>
    static double[] Ties(int n, int salt) => Enumerable.Range(0, n).Select(i => (double)((i * 7 + salt) % 5)).ToArray();

    [Theory]
    [InlineData(3, 2, 1, 1, false)]
    [InlineData(2, 2, 0, 1, false)]
    [InlineData(2, 1, 0, 2, false)]
    [InlineData(3, 2, 1, 1, true)]
    public void MaxPool2dWithIndicesMatchesTheKernelLoopAtTies(int kernel, int stride, int padding, int dilation, bool ceilMode)
    {
        const int n = 2, c = 3, h = 5, w = 6;
        var x = Ties(n * c * h * w, 1);
        x[4] = double.NaN; // a NaN among ties: the index goes to it
        x[40] = double.NegativeInfinity;
        var (values, indices) = Nn.MaxPool2dWithIndices(Tensor.FromArray(x, n, c, h, w), kernel, stride, padding, dilation, ceilMode);
        int ho = values.Shape[2], wo = values.Shape[3];
        double[] v = values.Eval().ToDoubleArray(), idx = indices.Eval().ToDoubleArray();
        for (int plane = 0; plane < n * c; plane++)
        {
            var (ev, ei) = PoolLoop(x, plane * h * w, h, w, kernel, kernel, stride, stride, padding, padding, dilation, dilation, ho, wo);
            Assert.Equal(ev, v[(plane * ho * wo)..((plane + 1) * ho * wo)]);
            Assert.Equal(ei, idx[(plane * ho * wo)..((plane + 1) * ho * wo)]);
        }
    }

    [Fact]
    public void MaxPool1dWithIndicesIsThePlaneOfHeightOne()
    {
        const int c = 2, l = 9;
        var x = Ties(c * l, 3);
        var (values, indices) = Nn.MaxPool1dWithIndices(Tensor.FromArray(x, c, l), 3, stride: 2, padding: 1);
        Assert.Equal(new[] { c, 5 }, indices.Shape);
        double[] v = values.Eval().ToDoubleArray(), idx = indices.Eval().ToDoubleArray();
        for (int plane = 0; plane < c; plane++)
        {
            var (ev, ei) = PoolLoop(x, plane * l, 1, l, 1, 3, 1, 2, 0, 1, 1, 1, 1, 5);
            Assert.Equal(ev, v[(plane * 5)..((plane + 1) * 5)]);
            Assert.Equal(ei, idx[(plane * 5)..((plane + 1) * 5)]);
        }
    }

    [Fact]
    public void MaxUnpool2dPutsEachValueAtItsIndex()
    {
        const int n = 1, c = 2, h = 4, w = 4;
        var x = TestSupport.Values(n * c * h * w, 2);
        var (values, indices) = Nn.MaxPool2dWithIndices(Tensor.FromArray(x, n, c, h, w), 2);
        var unpooled = Nn.MaxUnpool2d(values, indices, 2).Eval();
        Assert.Equal(new[] { n, c, h, w }, unpooled.Shape);
        double[] v = values.Eval().ToDoubleArray(), idx = indices.Eval().ToDoubleArray();
        var expected = new double[n * c * h * w];
        for (int plane = 0; plane < n * c; plane++)
            for (int k = 0; k < 4; k++) expected[plane * h * w + (int)idx[plane * 4 + k]] = v[plane * 4 + k];
        Assert.Equal(expected, unpooled.ToDoubleArray());
        // an outputSize one larger than the default (within a stride) pads the planes with zeros
        var wider = Nn.MaxUnpool2d(values, indices, (2, 2), outputSize: (5, 5)).Eval();
        Assert.Equal(new[] { n, c, 5, 5 }, wider.Shape);
        var widerExpected = new double[n * c * 25];
        for (int plane = 0; plane < n * c; plane++)
            for (int k = 0; k < 4; k++) widerExpected[plane * 25 + (int)idx[plane * 4 + k]] = v[plane * 4 + k];
        Assert.Equal(widerExpected, wider.ToDoubleArray());
    }

    [Fact]
    public void OverlappingWindowsThatPickOneEntryUnpoolItsValueOnce()
    {
        // stride 1, kernel 2: the 9 in the middle wins all four windows, so its index comes four times
        var x = new double[] { 1, 2, 3, 4, 9, 5, 6, 7, 8 };
        var (values, indices) = Nn.MaxPool2dWithIndices(Tensor.FromArray(x, 1, 1, 3, 3), 2, stride: 1);
        Assert.Equal(new double[] { 4, 4, 4, 4 }, indices.Eval().ToDoubleArray());
        var unpooled = Nn.MaxUnpool2d(values, indices, 2, stride: 1).Eval();
        Assert.Equal(new double[] { 0, 0, 0, 0, 9, 0, 0, 0, 0 }, unpooled.ToDoubleArray());
    }

    [Fact]
    public void TheUnpoolCotangentIsTheGatherAtTheIndices()
    {
        var x = Tensor.FromArray(TestSupport.Values(2 * 8, 4), 2, 8);
        var (values, indices) = Nn.MaxPool1dWithIndices(x, 2);
        var weights = TestSupport.Values(2 * 8, 7);
        var grad = Diff.Grad(v => (Nn.MaxUnpool1d(v, indices, 2) * Tensor.FromArray(weights, 2, 8)).Sum())(values).Eval().ToDoubleArray();
        var idx = indices.Eval().ToDoubleArray();
        var expected = Enumerable.Range(0, 8).Select(k => weights[(k / 4) * 8 + (int)idx[k]]).ToArray();
        Assert.Equal(expected, grad);
    }

    [Fact]
    public void PoolThenUnpoolHasFiniteDifferenceDerivatives()
    {
        var x = Tensor.RandomNormal(new[] { 1, 2, 4, 6 }, seed: 13);
        var weights = Tensor.FromArray(TestSupport.Values(2 * 4 * 6, 5), 1, 2, 4, 6);
        var check = Diff.CheckGrad(v =>
        {
            var (pooled, indices) = Nn.MaxPool2dWithIndices(v, (2, 3));
            return (Nn.MaxUnpool2d(pooled.Sin(), indices, (2, 3)) * weights).Sum();
        }, x, order: 2);
        Assert.True(check.Passed, check.Message);
    }

    [Fact]
    public void ErrorsNameTheMethodAndTheShapes()
    {
        var x = (Expr)Tensor.Ones(new[] { 1, 1, 2, 2 });
        var mismatch = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxUnpool2d(x, Tensor.Ones(new[] { 1, 1, 2, 3 }), 2));
        Assert.Contains("MaxUnpool2d", mismatch.Message);
        Assert.Contains("[1,1,2,3]", mismatch.Message.Replace(" ", ""));
        // the default is (2 − 1)·2 + 2 = 4; torch accepts 3 to 5 only
        var size = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxUnpool2d(x, x, 2, outputSize: (6, 4)));
        Assert.Contains("MaxUnpool2d", size.Message);
        Assert.Contains("outputSize 6", size.Message);
        var pool = Assert.ThrowsAny<ArgumentException>(() => Nn.MaxPool1dWithIndices(Tensor.Ones(new[] { 2 }), 2));
        Assert.Contains("MaxPool1dWithIndices", pool.Message);
    }
}
