using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch's everyday tensor utilities as a TorchSharp user first writes them (stack, cat, unbind, chunk, gather,
/// scatter_add, where, clamp, topk, sort, argmax, masked_fill, repeat, expand, permute, einsum, arange, linspace and
/// reductions with keepdim), on <see cref="Tensor"/> and inside a differentiated <see cref="Expr"/>, each against a
/// reference loop over doubles, and the gradients against central differences.
/// </summary>
public class ClientTwelveTensorUtilityTests
{
    [Fact]
    public void UnbindTakesAnAxisApartAndStackPutsItBack()
    {
        var x = T([2, 3, 4], 1);
        var xs = x.ToDoubleArray();
        var steps = x.Unbind(1);   // torch.unbind(x, 1): three [2, 4]
        Assert.Equal(3, steps.Length);
        for (int t = 0; t < 3; t++)
        {
            Assert.Equal(new[] { 2, 4 }, steps[t].Shape);
            var expected = Enumerable.Range(0, 8).Select(k => xs[(k / 4 * 3 + t) * 4 + k % 4]).ToArray();
            Close(expected, steps[t].ToDoubleArray(), 0, $"step {t}");
        }
        Close(xs, Tensor.Stack(steps, 1).ToDoubleArray(), 0, "stack");
        Assert.Equal(new[] { 3, 4 }, x.Unbind(-3)[1].Shape);

        // on an Expr: the sum of the squared steps' products has the gradient of the same loop
        double Ref(double[] v) => Enumerable.Range(0, 8).Sum(k => v[(k / 4 * 3 + 0) * 4 + k % 4] * v[(k / 4 * 3 + 2) * 4 + k % 4]);
        var g = Diff.Grad(e => { var s = e.Unbind(1); return (s[0] * s[2]).Sum(); })(x).Eval();
        Close(Gradient(Ref, xs), g.ToDoubleArray(), 1e-7, "gradient");
    }

    [Fact]
    public void GatherAndScatterAddOnTensorsAndExprsFollowTorchsLoops()
    {
        var x = T([3, 4], 2);
        var index = Tensor.FromArray(new double[,] { { 3, 0 }, { 1, 1 }, { 2, 0 } });
        var (xs, ix) = (x.ToDoubleArray(), index.ToDoubleArray());
        // out[i][j] = x[i][index[i][j]] (dim 1)
        var gathered = x.Gather(1, index);
        Close(Enumerable.Range(0, 6).Select(k => xs[k / 2 * 4 + (int)ix[k]]).ToArray(), gathered.ToDoubleArray(), 0, "gather");

        // x.scatter_add(1, index, src): x[i][index[i][j]] += src[i][j], repeated positions accumulating
        var src = T([3, 2], 3);
        var expected = (double[])xs.Clone();
        var ss = src.ToDoubleArray();
        for (int k = 0; k < 6; k++) expected[k / 2 * 4 + (int)ix[k]] += ss[k];
        Close(expected, x.ScatterAdd(1, index, src).ToDoubleArray(), 1e-15, "scatter_add");
        Close(expected, ((Expr)x).ScatterAdd(1, index, src).Eval().ToDoubleArray(), 1e-15, "Expr scatter_add");

        // gradients in the tensor (1 everywhere, as an add) and in the source (the gather of the cotangent)
        var weights = T([3, 4], 4);
        double Ref(double[] both)
        {
            var r = both[..12].ToArray();
            for (int k = 0; k < 6; k++) r[k / 2 * 4 + (int)ix[k]] += both[12 + k] * both[12 + k];
            return r.Select((v, k) => v * weights.ToDoubleArray()[k]).Sum();
        }
        var (dx, ds) = Diff.Grad((a, b) => (a.ScatterAdd(1, index, b.Square()) * weights).Sum())(x, src);
        Close(Gradient(Ref, [.. xs, .. ss]), [.. dx.Eval().ToDoubleArray(), .. ds.Eval().ToDoubleArray()], 1e-7, "gradient");
    }

    [Fact]
    public void SelectionAndMaskingUtilitiesFollowTorch()
    {
        var x = Tensor.FromArray(new double[,] { { 0.5, -2, 3, 1 }, { 4, 4, -1, 0 } });
        // topk (largest, sorted), sort, argmax: values and positions as torch gives them
        var (top, at) = x.TopK(2, 1);
        Close([3, 1, 4, 4], top.ToDoubleArray(), 0, "topk values");
        Close([2, 3, 0, 1], at.ToDoubleArray(), 0, "topk indices");
        var (sorted, order) = x.Sort(1, descending: false);
        Close([-2, 0.5, 1, 3, -1, 0, 4, 4], sorted.ToDoubleArray(), 0, "sort");
        Close([1, 0, 3, 2, 2, 3, 0, 1], order.ToDoubleArray(), 0, "argsort");
        Close([2, 0], x.ArgMax(1).ToDoubleArray(), 0, "argmax: the first of ties");
        Assert.Equal(new[] { 2, 1 }, x.ArgMax(1, keepDims: true).Shape);

        // where, clamp and masked_fill against the loop
        var xs = x.ToDoubleArray();
        Close(xs.Select(v => v > 0 ? v : 0.1 * v).ToArray(), Tensor.Where(x > 0, x, 0.1 * x).ToDoubleArray(), 0, "where");
        Close(xs.Select(v => Math.Clamp(v, -1, 2)).ToArray(), x.Clamp(-1, 2).ToDoubleArray(), 0, "clamp");
        Assert.Equal(xs.Select(v => v < 0 ? double.NegativeInfinity : v).ToArray(), x.MaskedFill(x < 0, double.NegativeInfinity).ToDoubleArray());

        // the values of topk carry the gradient to the entries picked, nothing else
        var g = Diff.Grad(e => e.TopK(2, 1).Values.Square().Sum())(T([2, 4], 5)).Eval().ToDoubleArray();
        var t5 = T([2, 4], 5).ToDoubleArray();
        double TopRef(double[] v) => Enumerable.Range(0, 2).Sum(r => v[(r * 4)..(r * 4 + 4)].OrderByDescending(u => u).Take(2).Sum(u => u * u));
        Close(Gradient(TopRef, t5), g, 1e-7, "topk gradient");
    }

    [Fact]
    public void ShapeUtilitiesAndReductionsWithKeepDimsFollowTheLoops()
    {
        var x = T([2, 3], 6);
        var xs = x.ToDoubleArray();
        // repeat tiles, expand broadcasts a size-1 axis, permute reorders
        var tiled = x.Repeat(2, 2).ToDoubleArray();
        for (int i = 0; i < 4; i++)
            for (int j = 0; j < 6; j++)
                Assert.Equal(xs[i % 2 * 3 + j % 3], tiled[i * 6 + j]);
        var column = x.Sum(1, keepDims: true);
        Assert.Equal(new[] { 2, 1 }, column.Shape);
        var expanded = column.Expand(-1, 4).ToDoubleArray();
        for (int k = 0; k < 8; k++) Close(xs[(k / 4 * 3)..(k / 4 * 3 + 3)].Sum(), expanded[k], 1e-15, "expand");
        var cube = T([2, 3, 4], 7);
        var permuted = cube.Permute(2, 0, 1);
        Assert.Equal(new[] { 4, 2, 3 }, permuted.Shape);
        Close(cube.ToDoubleArray()[(1 * 3 + 2) * 4 + 3], permuted[3, 1, 2], 0, "permute");

        // keepDims reductions broadcast back: x − mean(x, 1, keepdim=True), divided by the row's max
        var centred = (x - x.Mean(1, keepDims: true)) / x.Amax(1, keepDims: true);
        var c = centred.ToDoubleArray();
        for (int k = 0; k < 6; k++)
        {
            var row = xs[(k / 3 * 3)..(k / 3 * 3 + 3)];
            Close((xs[k] - row.Average()) / row.Max(), c[k], 1e-15, "centred");
        }

        // chunk and cat are inverses; arange and linspace are torch's
        var halves = cube.Chunk(2, 2);
        Close(cube.ToDoubleArray(), Tensor.Cat(halves, 2).ToDoubleArray(), 0, "chunk, cat");
        Close([0, 0.5, 1, 1.5], Tensor.Arange(0, 2, 0.5).ToDoubleArray(), 0, "arange");
        Close([-1, -0.5, 0, 0.5, 1], Tensor.Linspace(-1, 1, 5).ToDoubleArray(), 1e-16, "linspace");
    }

    [Fact]
    public void EinsumOfABatchedBilinearFormMatchesTheLoopAndItsGradient()
    {
        // torch.einsum("bi,ij,bj->b", x, A, y): a bilinear form per example
        var (x, a, y) = (T([3, 2], 8), T([2, 4], 9), T([3, 4], 10));
        var (xs, ys) = (x.ToDoubleArray(), y.ToDoubleArray());
        double[] Ref(double[] av) => Enumerable.Range(0, 3).Select(b =>
            Enumerable.Range(0, 2).Sum(i => Enumerable.Range(0, 4).Sum(j => xs[b * 2 + i] * av[i * 4 + j] * ys[b * 4 + j]))).ToArray();
        Close(Ref(a.ToDoubleArray()), Expr.Einsum("bi,ij,bj->b", x, a, y).Eval().ToDoubleArray(), 1e-14, "einsum");
        var g = Diff.Grad(m => Expr.Einsum("bi,ij,bj->b", x, m, y).Square().Sum())(a).Eval();
        Close(Gradient(av => Ref(av).Sum(v => v * v), a.ToDoubleArray()), g.ToDoubleArray(), 1e-7, "gradient");
    }
}
