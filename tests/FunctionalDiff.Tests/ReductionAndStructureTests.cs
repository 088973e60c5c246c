using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Reductions, structural ops and composites against loops written here.</summary>
public class ReductionAndStructureTests
{
    // x[i,j,k] = values[12 i + 4 j + k], shape [2,3,4]
    static readonly double[] Data = Values(24);
    static readonly Expr Cube = Tensor.FromArray(Data, 2, 3, 4);
    static double At(int i, int j, int k) => Data[12 * i + 4 * j + k];

    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    /// <summary>Reduces axis 1 of the cube with a fold written out by hand.</summary>
    static double[] OverMiddle(Func<IEnumerable<double>, double> fold) =>
        (from i in Enumerable.Range(0, 2) from k in Enumerable.Range(0, 4)
         select fold(Enumerable.Range(0, 3).Select(j => At(i, j, k)))).ToArray();

    [Fact]
    public void ReductionsOverOneAxisMatchLoops()
    {
        Close(OverMiddle(s => s.Sum()), V(Cube.Sum(1)), 1e-14);
        Close(OverMiddle(s => s.Average()), V(Cube.Mean(1)), 1e-14);
        Close(OverMiddle(s => s.Max()), V(Cube.Max(1)), 0);
        Close(OverMiddle(s => s.Min()), V(Cube.Min(1)), 0);
        Close(OverMiddle(s => s.Aggregate(1.0, (p, v) => p * v)), V(Cube.Prod(1)), 1e-14);
        Close(OverMiddle(s => s.Select((v, j) => (v, j)).MaxBy(p => p.v).j), V(Cube.ArgMax(1)), 0);
        Assert.Equal(new[] { 2, 4 }, Cube.Sum(1).Shape);
        Assert.Equal(new[] { 2, 1, 4 }, Cube.Sum(-2, keepDims: true).Shape);
        Assert.Equal(new[] { 2, 1, 4 }, Cube.Mean(1, true).Shape);
        Assert.Equal(new[] { 2, 1, 4 }, Cube.Max(1, true).Shape);
        Assert.Equal(new[] { 2, 1, 4 }, Cube.Min(1, true).Shape);
        Assert.Equal(new[] { 2, 1, 4 }, Cube.Prod(1, true).Shape);
        Assert.Equal(new[] { 2, 1, 4 }, Cube.ArgMax(1, true).Shape);
    }

    [Fact]
    public void ReductionsOverAllAndSeveralAxesMatchLoops()
    {
        Close(Data.Sum(), Cube.Sum().Eval().ToScalar(), 1e-14);
        Close(Data.Average(), Cube.Mean().Eval().ToScalar(), 1e-14);
        Close(Data.Max(), Cube.Max().Eval().ToScalar(), 0);
        Close(Data.Min(), Cube.Min().Eval().ToScalar(), 0);
        Close(Data.Aggregate(1.0, (p, v) => p * v), Cube.Prod().Eval().ToScalar(), 1e-13);
        double[] OverOuter(Func<IEnumerable<double>, double> fold) =>
            Enumerable.Range(0, 3).Select(j => fold(from i in Enumerable.Range(0, 2) from k in Enumerable.Range(0, 4) select At(i, j, k))).ToArray();
        var axes = new[] { 0, 2 };
        Close(OverOuter(s => s.Sum()), V(Cube.Sum(axes)), 1e-14);
        Close(OverOuter(s => s.Average()), V(Cube.Mean(axes)), 1e-14);
        Close(OverOuter(s => s.Max()), V(Cube.Max(axes)), 0);
        Close(OverOuter(s => s.Min()), V(Cube.Min(axes)), 0);
        Close(OverOuter(s => s.Aggregate(1.0, (p, v) => p * v)), V(Cube.Prod(axes)), 1e-14);
        Assert.Equal(new[] { 1, 3, 1 }, Cube.Sum(axes, true).Shape);
        Assert.Equal(new[] { 1, 3, 1 }, Cube.Mean(axes, true).Shape);
        Assert.Equal(new[] { 1, 3, 1 }, Cube.Max(axes, true).Shape);
        Assert.Equal(new[] { 1, 3, 1 }, Cube.Min(axes, true).Shape);
        Assert.Equal(new[] { 1, 3, 1 }, Cube.Prod(axes, true).Shape);
    }

    [Fact]
    public void MatMulAndTransposeMatchLoops()
    {
        var a = Values(6);
        var b = Values(12, 2);
        Expr m = Tensor.FromArray(a, 2, 3), n = Tensor.FromArray(b, 3, 4);
        var expected = (from i in Enumerable.Range(0, 2) from k in Enumerable.Range(0, 4)
                        select Enumerable.Range(0, 3).Sum(j => a[3 * i + j] * b[4 * j + k])).ToArray();
        Close(expected, V(m.MatMul(n)), 1e-14);
        Close((from j in Enumerable.Range(0, 3) from i in Enumerable.Range(0, 2) select a[3 * i + j]).ToArray(), V(m.Transpose()), 0);
        // permutation (2,0,1): out[k,i,j] = x[i,j,k]
        Close((from k in Enumerable.Range(0, 4) from i in Enumerable.Range(0, 2) from j in Enumerable.Range(0, 3) select At(i, j, k)).ToArray(),
              V(Cube.Transpose(2, 0, 1)), 0);
        Assert.Equal(new[] { 4, 2, 3 }, Cube.Transpose(2, 0, 1).Shape);
    }

    [Fact]
    public void ViewsAndCopiesMoveElementsAsDocumented()
    {
        Close(Data, V(Cube.Reshape(4, 6)), 0);
        Assert.Equal(new[] { 4, 6 }, Cube.Reshape(4, -1).Shape);
        Assert.Equal(0, ((Expr)Tensor.FromArray(new[] { 3.0 })).Reshape().Rank);
        Expr column = Tensor.FromArray(new[] { 1.0, 2, 3 }, 3, 1);
        Close((from i in Enumerable.Range(0, 2) from j in Enumerable.Range(1, 3) from k in Enumerable.Range(0, 4) select (double)j).ToArray(),
              V(column.BroadcastTo(2, 3, 4)), 0);
        Close((from i in Enumerable.Range(0, 2) from j in Enumerable.Range(1, 2) from k in Enumerable.Range(0, 4) select At(i, j, k)).ToArray(),
              V(Cube.Slice(1, 1, 3)), 0);
        Close((from i in Enumerable.Range(0, 2) from j in Enumerable.Range(0, 3) from k in new[] { 0, 2 } select At(i, j, k)).ToArray(),
              V(Cube.Slice(2, 0, 4, step: 2)), 0);
        Close((from i in Enumerable.Range(0, 2) from j in Enumerable.Range(0, 3) select At(i, j, 3)).ToArray(),
              V(Cube.Slice(-1, -1, 4).Reshape(2, 3)), 0);
        Close((from i in new[] { 1, 0 } from j in Enumerable.Range(0, 3) from k in new[] { 3, 2, 1, 0 } select At(i, j, k)).ToArray(),
              V(Cube.Flip(0, 2)), 0);
        Expr small = Tensor.FromArray(new[] { 1.0, 2, 3, 4 }, 2, 2);
        // one row of zeros above and below, one column of zeros on the right: [4,3]
        Assert.Equal(new[] { 0.0, 0, 0, 1, 2, 0, 3, 4, 0, 0, 0, 0 }, V(small.Pad(new[] { 1, 0 }, new[] { 1, 1 })));
        // a negative width crops, as torch's F.pad: the first column dropped, a zero row below: [3,1]
        Assert.Equal(new[] { 2.0, 4, 0 }, V(small.Pad(new[] { 0, -1 }, new[] { 1, 0 })));
        var cropTooMuch = Assert.ThrowsAny<ArgumentException>(() => small.Pad(new[] { -2, 0 }, new[] { -1, 0 }));
        Assert.Contains("Pad", cropTooMuch.Message);
        Assert.Contains("[2,2]", cropTooMuch.Message);
    }

    [Fact]
    public void ConcatStackGatherAndScatterAddMatchLoops()
    {
        Expr p = Tensor.FromArray(new[] { 1.0, 2, 3, 4 }, 2, 2), q = Tensor.FromArray(new[] { 5.0, 6 }, 1, 2);
        Assert.Equal(new[] { 1.0, 2, 3, 4, 5, 6 }, V(Expr.Concat(0, p, q)));
        Assert.Equal(new[] { 1.0, 2, 5, 3, 4, 6 }, V(Expr.Concat(-1, p, q.Reshape(2, 1))));
        Assert.Equal(new[] { 1.0, 5, 2, 6 }, V(Expr.Stack(1, Tensor.FromArray(new[] { 1.0, 2 }), Tensor.FromArray(new[] { 5.0, 6 }))));
        Assert.Equal(new[] { 2, 2 }, Expr.Stack(0, 1.0, 2.0).Reshape(2, 1).BroadcastTo(2, 2).Shape);

        // gather along axis 1: out[i,j] = x[i, index[i,j]]
        var x = Values(12);
        var index = new[] { 0.0, 3, 2, 2, 1, 0 };
        Expr source = Tensor.FromArray(x, 3, 4), idx = Tensor.FromArray(index, 3, 2);
        Close(Enumerable.Range(0, 6).Select(n => x[4 * (n / 2) + (int)index[n]]).ToArray(), V(source.Gather(1, idx)), 0);
        // scatterAdd is gather's adjoint: zeros [3,4] with s[i,j] added at [i, index[i,j]]
        var s = Values(6, 4);
        var expected = new double[12];
        for (int n = 0; n < 6; n++) expected[4 * (n / 2) + (int)index[n]] += s[n];
        Close(expected, V(Expr.ScatterAdd(1, idx, Tensor.FromArray(s, 3, 2), new[] { 3, 4 })), 1e-15);
    }

    [Fact]
    public void CompositesMatchClosedForms()
    {
        var x = Values(6);
        Expr m = Tensor.FromArray(x, 2, 3);
        var rows = new[] { x[..3], x[3..] };
        double LogSumExp(double[] r) => Math.Log(r.Sum(Math.Exp));
        Close(rows.SelectMany(r => r.Select(v => Math.Exp(v - LogSumExp(r)))).ToArray(), V(m.Softmax(1)), 1e-14);
        Close(rows.SelectMany(r => r.Select(v => v - LogSumExp(r))).ToArray(), V(m.LogSoftmax(-1)), 1e-14);
        Close(rows.Select(LogSumExp).ToArray(), V(m.LogSumExp(1)), 1e-14);
        Close(Enumerable.Range(0, 3).Select(j => Math.Log(Math.Exp(x[j]) + Math.Exp(x[3 + j]))).ToArray(), V(m.LogSumExp(0)), 1e-14);
        // stable for large logits, where exp would overflow
        Close(1000 + Math.Log(2), ((Expr)Tensor.FromArray(new[] { 1000.0, 1000.0 })).LogSumExp(0).Eval().ToScalar(), 1e-15);

        double[] Normalised(double[] r, double eps)
        {
            double mean = r.Average(), variance = r.Select(v => (v - mean) * (v - mean)).Average();
            return r.Select(v => (v - mean) / Math.Sqrt(variance + eps)).ToArray();
        }
        Close(rows.SelectMany(r => Normalised(r, 1e-5)).ToArray(), V(m.LayerNorm()), 1e-13);
        Close(Normalised(x, 1e-3), V(((Expr)Tensor.FromArray(x)).LayerNorm(1e-3)), 1e-13);
    }

    [Fact]
    public void LossesAndLinearMatchTorchDefinitions()
    {
        var p = Values(6);
        var t = Values(6, 9);
        Close(p.Zip(t, (a, b) => (a - b) * (a - b)).Average(), Loss.Mse(Tensor.FromArray(p, 2, 3), Tensor.FromArray(t, 2, 3)).Eval().ToScalar(), 1e-14);

        // cross-entropy: mean over rows of logsumexp(row) - row[target]
        var targets = new[] { 2, 0 };
        double[][] rows = { p[..3], p[3..] };
        var ce = rows.Select((r, i) => Math.Log(r.Sum(Math.Exp)) - r[targets[i]]).Average();
        Close(ce, Loss.CrossEntropy(Tensor.FromArray(p, 2, 3), targets).Eval().ToScalar(), 1e-14);

        // BCE with logits: mean of -[y log σ(x) + (1-y) log(1-σ(x))]
        var y = t.Select(v => v > 0 ? 1.0 : 0.25).ToArray();
        double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        var bce = p.Zip(y, (x, z) => -(z * Math.Log(Sigmoid(x)) + (1 - z) * Math.Log(1 - Sigmoid(x)))).Average();
        Close(bce, Loss.BinaryCrossEntropyWithLogits(Tensor.FromArray(p), Tensor.FromArray(y)).Eval().ToScalar(), 1e-13);

        // linear: input [2,3] @ weight[4,3]ᵀ + bias[4]
        var w = Values(12, 1);
        var bias = Values(4, 2);
        var expected = (from i in Enumerable.Range(0, 2) from o in Enumerable.Range(0, 4)
                        select Enumerable.Range(0, 3).Sum(k => p[3 * i + k] * w[3 * o + k]) + bias[o]).ToArray();
        Close(expected, V(Nn.Linear(Tensor.FromArray(p, 2, 3), Tensor.FromArray(w, 4, 3), Tensor.FromArray(bias))), 1e-14);
        Close(expected.Select((v, n) => v - bias[n % 4]).ToArray(), V(Nn.Linear(Tensor.FromArray(p, 2, 3), Tensor.FromArray(w, 4, 3))), 1e-14);
    }
}
