using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the eighteenth porting client added, each against torch's definition written here: <c>torch.take</c> (<c>Take</c>
/// on Expr and Tensor, a CRF's <c>transitions[prev, next]</c>) and <c>t.repeat_interleave(k)</c> without a dim on a
/// Tensor (a mixture of experts' token positions), <c>x.index_copy(dim, index, source)</c> (a static KV cache), and on a Tensor <c>torch.pow(10000, t)</c> and <c>torch.outer</c>
/// (rotary embeddings' frequency table).
/// </summary>
public class ClientEighteenApiTests
{
    [Fact]
    public void TakeReadsTheFlattenedTensorAtEachIndex()
    {
        var x = T([3, 4], 1);
        var flat = x.ToDoubleArray();
        var index = Tensor.FromArray(new double[] { 11, 0, 5, 5, 7, 2 }, 2, 3);
        var expected = index.ToDoubleArray().Select(i => flat[(int)i]).ToArray();
        var taken = ((Expr)x).Take(index);
        Assert.Equal(new[] { 2, 3 }, taken.Shape);
        Assert.Equal(expected, taken.Eval().ToDoubleArray());
        Assert.Equal(expected, x.Take(index).ToDoubleArray());
        Assert.Equal(new[] { 2, 3 }, x.Take(index).Shape);
        // a rank-0 index gives a rank-0 result; a float32 tensor keeps its dtype under a float64 index
        Assert.Equal(flat[6], x.Take(Tensor.Scalar(6)).ToScalar());
        Assert.Empty(x.Take(Tensor.Scalar(6)).Shape);
        Assert.Equal(DType.Float32, x.To(DType.Float32).Take(index).DType);
    }

    [Fact]
    public void TakesGradientAccumulatesAtRepeatedPositionsAndDifferentiatesAgain()
    {
        var x = T([3, 4], 2);
        var index = Tensor.FromArray(new double[] { 11, 0, 5, 5, 7, 2 }, 2, 3);
        var weights = T([2, 3], 3);
        Func<Expr, Expr> f = v => (v.Take(index).Square() * weights).Sum();
        // d/dx_j Σ_i w_i x_{index_i}² = Σ_{i: index_i = j} 2 w_i x_j
        var expected = new double[12];
        var (iv, wv, xv) = (index.ToDoubleArray(), weights.ToDoubleArray(), x.ToDoubleArray());
        for (int i = 0; i < 6; i++) expected[(int)iv[i]] += 2 * wv[i] * xv[(int)iv[i]];
        Close(expected, Diff.Grad(f)(x).Eval().ToDoubleArray(), 1e-15, "gradient");
        Close(NumericGradient(f, x), Diff.Grad(f)(x).Eval().ToDoubleArray(), 1e-8, "central differences");
        // second order: the Hessian is diagonal, 2 Σ w_i at each position taken
        var direction = Tensor.Ones(3, 4);
        var hv = Diff.Hvp((Expr[] a) => f(a[0]), [x], [direction])[0].Eval().ToDoubleArray();
        var diagonal = new double[12];
        for (int i = 0; i < 6; i++) diagonal[(int)iv[i]] += 2 * wv[i];
        Close(diagonal, hv, 1e-15, "Hessian-vector product");
    }

    [Fact]
    public void TakeRefusesAConstantPositionOutsideTheTensorNamingItself()
    {
        var x = T([3, 4]);
        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Take(Tensor.FromArray(new double[] { 3, 12 })));
        Assert.StartsWith("Take: index 12 (entry 1", e.Message);
        Assert.Contains("[3,4]", e.Message);
        Assert.StartsWith("Take", Assert.ThrowsAny<ArgumentException>(() => x.Take(Tensor.FromArray(new double[] { -1 }))).Message);
        Assert.StartsWith("Take", Assert.ThrowsAny<ArgumentException>(() => x.Take(Tensor.FromArray(new double[] { 0.5 }))).Message);
        Assert.Equal("index", Assert.Throws<ArgumentNullException>(() => x.Take(null!)).ParamName);
    }

    [Fact]
    public void TensorRepeatInterleaveWithoutAnAxisRepeatsTheFlattenedElements()
    {
        // torch.arange(3).repeat_interleave(2) is [0, 0, 1, 1, 2, 2]; a matrix is flattened first
        Assert.Equal(new double[] { 0, 0, 1, 1, 2, 2 }, Tensor.Arange(3).RepeatInterleave(2).ToDoubleArray());
        var m = T([2, 2], 4);
        var v = m.ToDoubleArray();
        Assert.Equal(v.SelectMany(e => new[] { e, e, e }).ToArray(), m.RepeatInterleave(3).ToDoubleArray());
        Assert.Equal(new[] { 12 }, m.RepeatInterleave(3).Shape);
        Assert.StartsWith("RepeatInterleave", Assert.ThrowsAny<ArgumentException>(() => m.RepeatInterleave(-1)).Message);
    }

    [Fact]
    public void TensorPowOfANumberAndOuterAreTorchsRotaryTable()
    {
        var t = Tensor.Arange(0, 8, 2) / 8;
        Close(t.ToDoubleArray().Select(e => Math.Pow(10000, e)).ToArray(), Tensor.Pow(10000, t).ToDoubleArray(), 1e-15, "10000^t");
        Assert.Equal(DType.Float32, Tensor.Pow(2, t.To(DType.Float32)).DType);
        Assert.Equal(new[] { 0.5, 0.25 }, Tensor.Pow(0.5, Tensor.FromArray(new double[] { 1, 2 })).ToDoubleArray());   // a second base, not the first's cached plan
        var (a, b) = (T([3], 5), T([4], 6));
        var outer = a.Outer(b);
        Assert.Equal(new[] { 3, 4 }, outer.Shape);
        Assert.Equal(a.ToDoubleArray().SelectMany(x => b.ToDoubleArray().Select(y => x * y)).ToArray(), outer.ToDoubleArray());
        Assert.StartsWith("Outer", Assert.ThrowsAny<ArgumentException>(() => T([2, 2]).Outer(b)).Message);
    }

    [Fact]
    public void IndexCopyWritesTheSlicesAtTheirPositionsAndPassesEachItsGradient()
    {
        // x [2, 5, 3], source [2, 2, 3] written at positions 4 and 1 of axis 1
        var x = T([2, 5, 3], 7);
        var source = T([2, 2, 3], 8);
        var index = Tensor.FromArray(new double[] { 4, 1 });
        var (xv, sv) = (x.ToDoubleArray(), source.ToDoubleArray());
        var expected = (double[])xv.Clone();
        for (int b = 0; b < 2; b++)
            for (int j = 0; j < 2; j++)
                for (int c = 0; c < 3; c++)
                    expected[(b * 5 + (j == 0 ? 4 : 1)) * 3 + c] = sv[(b * 2 + j) * 3 + c];
        Assert.Equal(expected, ((Expr)x).IndexCopy(1, index, source).Eval().ToDoubleArray());
        Assert.Equal(expected, x.IndexCopy(1, index, source).ToDoubleArray());
        Assert.Equal(expected, x.IndexCopy(-2, index, source).ToDoubleArray());

        // Σ w ⊙ y²: x's gradient is 2 w x where nothing is written and 0 where it is; source's is 2 w s at its position
        var w = T([2, 5, 3], 9);
        Func<Expr, Expr, Expr> f = (a, s) => (a.IndexCopy(1, index, s).Square() * w).Sum();
        var (dx, ds) = Diff.Grad(f)(x, source);
        var wv = w.ToDoubleArray();
        var written = Enumerable.Range(0, 30).Select(k => k / 3 % 5 is 1 or 4).ToArray();
        Close(xv.Select((e, k) => written[k] ? 0 : 2 * wv[k] * e).ToArray(), dx.Eval().ToDoubleArray(), 1e-15, "dx");
        var dsExpected = new double[12];
        for (int b = 0; b < 2; b++)
            for (int j = 0; j < 2; j++)
                for (int c = 0; c < 3; c++)
                {
                    int at = (b * 5 + (j == 0 ? 4 : 1)) * 3 + c, k = (b * 2 + j) * 3 + c;
                    dsExpected[k] = 2 * wv[at] * sv[k];
                }
        Close(dsExpected, ds.Eval().ToDoubleArray(), 1e-15, "dsource");
        Close(NumericGradient(s => f(x, s), source), ds.Eval().ToDoubleArray(), 1e-8, "dsource by central differences");
    }

    [Fact]
    public void IndexCopyRefusesWhatTorchRefusesNamingItself()
    {
        var x = T([4, 3]);
        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).IndexCopy(0, Tensor.FromArray(new double[] { 4 }), T([1, 3])));
        Assert.StartsWith("IndexCopy: index 4", e.Message);
        Assert.StartsWith("IndexCopy: source [2,3]", Assert.ThrowsAny<ArgumentException>(() => x.IndexCopy(0, Tensor.FromArray(new double[] { 1 }), T([2, 3]))).Message);
        Assert.StartsWith("IndexCopy", Assert.ThrowsAny<ArgumentException>(() => x.IndexCopy(2, Tensor.FromArray(new double[] { 1 }), T([1, 3]))).Message);
        // a repeated position takes the mean of what is written to it (torch leaves it undefined)
        var twice = x.IndexCopy(0, Tensor.FromArray(new double[] { 2, 2 }), Tensor.FromArray(new double[] { 1, 2, 3, 3, 4, 5 }, 2, 3));
        Assert.Equal(new double[] { 2, 3, 4 }, twice.Row(2).ToDoubleArray());
    }
}
