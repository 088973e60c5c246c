using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Expr.Manipulation (atleast_nd, stacks and splits, fliplr, flipud, rot90, take_along_dim, diagflat, the scatters,
/// index_fill, fmax, fmin, isclose, isin, the BLAS-style products, multi_dot, vecdot, cholesky_inverse, std_mean and
/// var_mean) against index loops and closed forms written here; the comparison table checks each against TorchSharp as
/// well. The Tensor members give the Expr members' values.
/// </summary>
public class ManipulationFacadeTests
{
    static double[] Ramp(int n, double start = 1.0) => Enumerable.Range(0, n).Select(i => start + i).ToArray();

    [Fact]
    public void AtLeastGivesTorchsShapes()
    {
        Expr scalar = Tensor.Scalar(2.0), vector = Tensor.FromArray(Ramp(3)), matrix = Tensor.FromArray(Ramp(6), 2, 3);
        Assert.Equal(new[] { 1 }, scalar.AtLeast1d().Shape);
        Assert.Equal(new[] { 1, 1 }, scalar.AtLeast2d().Shape);
        Assert.Equal(new[] { 1, 3 }, vector.AtLeast2d().Shape);
        Assert.Equal(new[] { 1, 1, 1 }, scalar.AtLeast3d().Shape);
        Assert.Equal(new[] { 1, 3, 1 }, vector.AtLeast3d().Shape);
        Assert.Equal(new[] { 2, 3, 1 }, matrix.AtLeast3d().Shape);
        Assert.Equal(new[] { 2, 3 }, matrix.AtLeast2d().Shape);
        Assert.Equal(new[] { 1, 3, 1 }, Tensor.FromArray(Ramp(3)).AtLeast3d().Shape);
    }

    [Fact]
    public void StacksJoinAsTorchDocumentsThem()
    {
        var a = Tensor.FromArray(Ramp(3));
        var b = Tensor.FromArray(Ramp(2, 10));
        // vectors join end to end; a scalar counts as a vector
        Assert.Equal(new[] { 1.0, 2, 3, 10, 11, 7 }, Tensor.Hstack(a, b, Tensor.Scalar(7.0)).ToDoubleArray());
        // matrices join along axis 1: row r is m's row r then n's
        var m = Tensor.FromArray(Ramp(6), 2, 3);
        var n = Tensor.FromArray(new[] { 20.0, 30.0 }, 2, 1);
        var h = Tensor.Hstack(m, n);
        Assert.Equal(new[] { 2, 4 }, h.Shape);
        Assert.Equal(new[] { 1.0, 2, 3, 20, 4, 5, 6, 30 }, h.ToDoubleArray());
        // vstack: a vector is a row
        var v = Tensor.Vstack(a, m);
        Assert.Equal(new[] { 3, 3 }, v.Shape);
        Assert.Equal(new[] { 1.0, 2, 3, 1, 2, 3, 4, 5, 6 }, v.ToDoubleArray());
        Assert.Equal(v.ToDoubleArray(), Tensor.RowStack(a, m).ToDoubleArray());
        // dstack of two [2, 3] matrices: entry (i, j) holds m[i, j] then 10·m[i, j]
        var d = Tensor.Dstack(m, m * 10.0);
        Assert.Equal(new[] { 2, 3, 2 }, d.Shape);
        var dv = d.ToDoubleArray();
        for (int i = 0; i < 6; i++) { Assert.Equal(i + 1.0, dv[2 * i]); Assert.Equal(10.0 * (i + 1), dv[2 * i + 1]); }
        // column_stack: vectors become columns
        var c = Tensor.ColumnStack(Tensor.FromArray(new[] { 1.0, 2.0 }), Tensor.FromArray(new[] { 3.0, 4.0, 5.0, 6.0 }, 2, 2));
        Assert.Equal(new[] { 2, 3 }, c.Shape);
        Assert.Equal(new[] { 1.0, 3, 4, 2, 5, 6 }, c.ToDoubleArray());
        var error = Assert.ThrowsAny<ArgumentException>(() => Expr.Vstack());
        Assert.Contains("Vstack", error.Message);
    }

    [Fact]
    public void TensorSplitSizesFollowTorchsRule()
    {
        var x = Tensor.FromArray(Ramp(7));
        // 7 into 3: the first 7 % 3 = 1 piece is one longer
        Assert.Equal(new[] { 3, 2, 2 }, x.TensorSplit(3).Select(p => p.Shape[0]).ToArray());
        // more sections than entries: empty pieces at the end
        Assert.Equal(new[] { 1, 1, 0 }, Tensor.FromArray(Ramp(2)).TensorSplit(3).Select(p => p.Shape[0]).ToArray());
        // indices 1, 4, 2 over 6: x[:1], x[1:4], x[4:2] (empty), x[2:]
        var six = Tensor.FromArray(Ramp(6));
        var pieces = six.TensorSplit([1, 4, 2]);
        Assert.Equal(new[] { 1.0 }, pieces[0].ToDoubleArray());
        Assert.Equal(new[] { 2.0, 3, 4 }, pieces[1].ToDoubleArray());
        Assert.Empty(pieces[2].ToDoubleArray());
        Assert.Equal(new[] { 3.0, 4, 5, 6 }, pieces[3].ToDoubleArray());
        // a negative index counts from the end
        Assert.Equal(new[] { 5.0, 6 }, six.TensorSplit([-2])[1].ToDoubleArray());
        // hsplit cuts axis 1 of a matrix, vsplit axis 0, dsplit axis 2; a count must divide the axis
        var m = Tensor.FromArray(Ramp(12), 3, 4);
        Assert.Equal(new[] { 1.0, 2, 5, 6, 9, 10 }, m.Hsplit(2)[0].ToDoubleArray());
        Assert.Equal(new[] { 4.0, 8, 12 }, m.Hsplit([3])[1].ToDoubleArray());
        Assert.Equal(new[] { 5.0, 6, 7, 8, 9, 10, 11, 12 }, m.Vsplit([1])[1].ToDoubleArray());
        Assert.Equal(new[] { 2, 2, 1 }, Tensor.FromArray(Ramp(8), 2, 2, 2).Dsplit(2)[1].Shape);
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)m).Hsplit(3));
        Assert.Contains("Hsplit", error.Message);
        Assert.Contains("[3,4]", error.Message);
        Assert.ThrowsAny<ArgumentException>(() => ((Expr)six).Vsplit(2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Expr)six).TensorSplit(0));
    }

    [Fact]
    public void Rot90TurnsCounterclockwiseAsTheIndexLoopSays()
    {
        int rows = 3, columns = 4;
        var values = Ramp(rows * columns);
        var x = Tensor.FromArray(values, rows, columns);
        // k = 1: out[i, j] = x[j, columns − 1 − i], shape [columns, rows]
        var once = x.Rot90();
        Assert.Equal(new[] { columns, rows }, once.Shape);
        var o = once.ToDoubleArray();
        for (int i = 0; i < columns; i++)
            for (int j = 0; j < rows; j++)
                Assert.Equal(values[j * columns + (columns - 1 - i)], o[i * rows + j]);
        // two turns reverse both axes; four turns and k = −1 after k = 1 give x back
        var twice = x.Rot90(2).ToDoubleArray();
        for (int i = 0; i < rows * columns; i++) Assert.Equal(values[rows * columns - 1 - i], twice[i]);
        Assert.Equal(values, x.Rot90(4).ToDoubleArray());
        Assert.Equal(values, once.Rot90(-1).ToDoubleArray());
        Assert.Equal(x.Flip(1).ToDoubleArray(), x.Fliplr().ToDoubleArray());
        Assert.Equal(x.Flip(0).ToDoubleArray(), x.Flipud().ToDoubleArray());
        Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Rot90(1, 1, 1));
        Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.FromArray(Ramp(3))).Fliplr());
    }

    [Fact]
    public void TakeAlongDimPicksAndItsGradientCountsThePicks()
    {
        var values = Ramp(12);
        var x = Tensor.FromArray(values, 3, 4);
        double[] picks = { 3, 0, 1, 1, 2, 3 };
        var index = Tensor.FromArray(picks, 3, 2);
        var taken = x.TakeAlongDim(index, 1).ToDoubleArray();
        for (int r = 0; r < 3; r++)
            for (int k = 0; k < 2; k++)
                Assert.Equal(values[r * 4 + (int)picks[r * 2 + k]], taken[r * 2 + k]);
        // broadcast: one row of indices serves every row of x
        var row = x.TakeAlongDim(Tensor.FromArray(new[] { 2.0, 0.0 }, 1, 2), 1);
        Assert.Equal(new[] { 3, 2 }, row.Shape);
        Assert.Equal(new[] { 3.0, 1, 7, 5, 11, 9 }, row.ToDoubleArray());
        // flattened: the entries at 5, 0, 5; the gradient of their sum counts how often each entry is picked
        Assert.Equal(new[] { 6.0, 1, 6 }, x.TakeAlongDim(Tensor.FromArray(new[] { 5.0, 0.0, 5.0 })).ToDoubleArray());
        var grad = Diff.Grad(e => e.TakeAlongDim(Tensor.FromArray(new[] { 5.0, 0.0, 5.0 })).Sum())(x).Eval().ToDoubleArray();
        var counts = new double[12];
        counts[5] = 2; counts[0] = 1;
        Assert.Equal(counts, grad);
        Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).TakeAlongDim(Tensor.FromArray(picks), 1));
    }

    [Fact]
    public void ScattersWriteTheirPlacesAndSplitTheGradient()
    {
        var x = Tensor.FromArray(Ramp(15), 5, 3);
        var src = Tensor.FromArray(Ramp(6, 100), 2, 3);
        // rows 1 and 3 (1:5:2) take src's rows
        var written = x.SliceScatter(src, 0, 1, 5, 2).ToDoubleArray();
        var expected = Ramp(15);
        for (int k = 0; k < 2; k++)
            for (int c = 0; c < 3; c++)
                expected[(1 + 2 * k) * 3 + c] = 100 + k * 3 + c;
        Assert.Equal(expected, written);
        // the gradient of Σ w·out: w off the written places for x, w at them for src
        var weights = Tensor.FromArray(Ramp(15, 0.5), 5, 3);
        var grads = Diff.Grad((Expr[] p) => (p[0].SliceScatter(p[1], 0, 1, 5, 2) * weights).Sum())([x, src]).Select(g => g.Eval().ToDoubleArray()).ToArray();
        var w = Ramp(15, 0.5);
        for (int i = 0; i < 15; i++)
            Assert.Equal(i / 3 % 2 == 1 ? 0.0 : w[i], grads[0][i]);
        Assert.Equal(new[] { w[3], w[4], w[5], w[9], w[10], w[11] }, grads[1]);
        // select_scatter writes one row (index −1 is the last)
        var m = Tensor.FromArray(Ramp(12), 3, 4);
        var selected = m.SelectScatter(Tensor.FromArray(new[] { -1.0, -2, -3, -4 }), 0, -1).ToDoubleArray();
        Assert.Equal(Ramp(8).Concat(new[] { -1.0, -2, -3, -4 }).ToArray(), selected);
        // diagonal_scatter at offset 1 of [3, 4] writes (0,1), (1,2), (2,3)
        var diagonal = m.DiagonalScatter(Tensor.FromArray(new[] { -7.0, -8, -9 }), 1).ToDoubleArray();
        var withDiagonal = Ramp(12);
        withDiagonal[1] = -7; withDiagonal[6] = -8; withDiagonal[11] = -9;
        Assert.Equal(withDiagonal, diagonal);
        // offset −1 writes (1,0), (2,1)
        var below = m.DiagonalScatter(Tensor.FromArray(new[] { -5.0, -6 }), -1).ToDoubleArray();
        var withBelow = Ramp(12);
        withBelow[4] = -5; withBelow[9] = -6;
        Assert.Equal(withBelow, below);
        // index_fill along axis 1 at 0 and −2 (column 2)
        var filled = m.IndexFill(1, [0, -2], 0.5).ToDoubleArray();
        var withFill = Ramp(12);
        for (int r = 0; r < 3; r++) { withFill[r * 4] = 0.5; withFill[r * 4 + 2] = 0.5; }
        Assert.Equal(withFill, filled);
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).SliceScatter(Tensor.FromArray(Ramp(3), 1, 3), 0, 1, 5, 2));
        Assert.Contains("SliceScatter", error.Message);
        Assert.Contains("[2,3]", error.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Expr)m).SelectScatter(Tensor.FromArray(Ramp(4)), 0, 3));
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Expr)m).IndexFill(1, [4], 0.0));
    }

    [Fact]
    public void FmaxAndFminIgnoreNaNAndGiveATieToTheFirst()
    {
        double nan = double.NaN;
        double[] a = { 1.0, nan, 0.5, nan, -2.0 }, b = { nan, 2.0, 0.5, nan, -3.0 };
        var max = Tensor.Fmax(Tensor.FromArray(a), Tensor.FromArray(b)).ToDoubleArray();
        Assert.Equal(new[] { 1.0, 2.0, 0.5, nan, -2.0 }, max);
        var min = Tensor.Fmin(Tensor.FromArray(a), Tensor.FromArray(b)).ToDoubleArray();
        Assert.Equal(new[] { 1.0, 2.0, 0.5, nan, -3.0 }, min);
        // the derivative goes whole to the chosen side: a at the NaN in b, at the tie and where it is larger (nansum
        // passes nothing to the entry where both are NaN)
        var grads = Diff.Grad((Expr[] p) => Expr.Fmax(p[0], p[1]).Nansum())([Tensor.FromArray(a), Tensor.FromArray(b)]).Select(g => g.Eval().ToDoubleArray()).ToArray();
        Assert.Equal(new[] { 1.0, 0, 1, 0, 1 }, grads[0]);
        Assert.Equal(new[] { 0.0, 1, 0, 0, 0 }, grads[1]);
    }

    [Fact]
    public void IsCloseAndIsInAreTheirDefinitions()
    {
        double inf = double.PositiveInfinity, nan = double.NaN;
        double[] a = { 1.0, 2.0, inf, inf, nan, 1e-9, 100.0 }, b = { 1.0 + 1e-6, 2.1, inf, -inf, nan, 0.0, 100.0009 };
        var close = Tensor.FromArray(a).IsClose(Tensor.FromArray(b)).ToDoubleArray();
        for (int i = 0; i < a.Length; i++)
        {
            bool expected = a[i] == b[i] || (double.IsFinite(a[i] - b[i]) && Math.Abs(a[i] - b[i]) <= 1e-8 + 1e-5 * Math.Abs(b[i]));
            Assert.Equal(expected ? 1.0 : 0.0, close[i]);
        }
        Assert.Equal(1.0, Tensor.FromArray(a).IsClose(Tensor.FromArray(b), equalNaN: true).ToDoubleArray()[4]);
        Assert.Throws<ArgumentOutOfRangeException>(() => ((Expr)Tensor.FromArray(a)).IsClose(Tensor.FromArray(b), rtol: -1));
        double[] elements = { 2.0, 0.5, 3.0, nan, 7.5 }, test = { 2.0, -1.0, 0.5, nan };
        var found = Tensor.FromArray(elements).IsIn(Tensor.FromArray(test)).ToDoubleArray();
        Assert.Equal(elements.Select(e => test.Contains(e) && !double.IsNaN(e) ? 1.0 : 0.0).ToArray(), found);
        Assert.Equal(found.Select(f => 1 - f).ToArray(), Tensor.FromArray(elements).IsIn(Tensor.FromArray(test), invert: true).ToDoubleArray());
        Assert.Equal(new double[5], Tensor.FromArray(elements).IsIn(Tensor.Zeros([0])).ToDoubleArray());
    }

    [Fact]
    public void BlasStyleProductsAreBetaInputPlusAlphaProduct()
    {
        double[] input = { 0.5, -1.0, 2.0 }, m1 = { 1, 2, 3, 4, 5, 6, 7, 8 }, m2 = { 0.5, 1, -1, 2, 0, 1, -0.5, 3, 1, 1, 2, -2 };
        var product = TestSupport.MatrixProduct(m1, m2, 2, 4, 3);
        var addmm = Tensor.FromArray(input).Addmm(Tensor.FromArray(m1, 2, 4), Tensor.FromArray(m2, 4, 3), 0.5, -1.5).ToDoubleArray();
        for (int i = 0; i < 6; i++) Assert.Equal(0.5 * input[i % 3] - 1.5 * product[i], addmm[i], 12);
        // β = 0 leaves the input out, NaN and all
        var ignored = Tensor.FromArray(new[] { double.NaN, double.PositiveInfinity, 1, 1, 1, 1 }, 2, 3)
            .Addmm(Tensor.FromArray(m1, 2, 4), Tensor.FromArray(m2, 4, 3), 0.0, 2.0).ToDoubleArray();
        for (int i = 0; i < 6; i++) Assert.Equal(2 * product[i], ignored[i], 12);
        double[] vec = { 1, -1, 0.5, 2 };
        var addmv = Tensor.FromArray(new[] { 1.0, 1.0 }).Addmv(Tensor.FromArray(m1, 2, 4), Tensor.FromArray(vec), 2.0, 0.5).ToDoubleArray();
        for (int i = 0; i < 2; i++) Assert.Equal(2.0 + 0.5 * Enumerable.Range(0, 4).Sum(k => m1[i * 4 + k] * vec[k]), addmv[i], 12);
        var addr = Tensor.Zeros([2, 3]).Addr(Tensor.FromArray(new[] { 1.0, 2.0 }), Tensor.FromArray(new[] { 3.0, 4.0, 5.0 }), alpha: -1).ToDoubleArray();
        Assert.Equal(new[] { -3.0, -4, -5, -6, -8, -10 }, addr);
        // addbmm sums the batch's products; baddbmm keeps them
        var b1 = m1.Concat(m1.Select(v => -v)).ToArray();
        var b2 = m2.Concat(m2).ToArray();
        var batched = Tensor.Zeros([1, 3]).Baddbmm(Tensor.FromArray(b1, 2, 2, 4), Tensor.FromArray(b2, 2, 4, 3)).ToDoubleArray();
        Assert.Equal(product.Concat(product.Select(v => -v)).ToArray(), batched);
        var summed = Tensor.Ones([2, 3]).Addbmm(Tensor.FromArray(b1, 2, 2, 4), Tensor.FromArray(b2, 2, 4, 3)).ToDoubleArray();
        Assert.Equal(Enumerable.Repeat(1.0, 6).ToArray(), summed);
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.FromArray(input)).Addmm(Tensor.FromArray(m1), Tensor.FromArray(m2, 4, 3)));
        Assert.Contains("Addmm", error.Message);
    }

    [Fact]
    public void MultiDotIsTheChainProductAndDropsVectorAxes()
    {
        var random = new Random(5);
        double[] R(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray();
        double[] a = R(4 * 2), b = R(2 * 5), c = R(5 * 3), d = R(3 * 2);
        var expected = TestSupport.MatrixProduct(TestSupport.MatrixProduct(TestSupport.MatrixProduct(a, b, 4, 2, 5), c, 4, 5, 3), d, 4, 3, 2);
        var ours = Tensor.MultiDot(Tensor.FromArray(a, 4, 2), Tensor.FromArray(b, 2, 5), Tensor.FromArray(c, 5, 3), Tensor.FromArray(d, 3, 2));
        Assert.Equal(new[] { 4, 2 }, ours.Shape);
        var o = ours.ToDoubleArray();
        for (int i = 0; i < 8; i++) Assert.Equal(expected[i], o[i], 12);
        // a vector first is a row and last a column: the result of [2]·[2,5]·[5] is a scalar
        double[] u = R(2), v = R(5);
        var scalar = Tensor.MultiDot(Tensor.FromArray(u), Tensor.FromArray(b, 2, 5), Tensor.FromArray(v));
        Assert.Empty(scalar.Shape);
        double sum = 0;
        for (int i = 0; i < 2; i++) for (int j = 0; j < 5; j++) sum += u[i] * b[i * 5 + j] * v[j];
        Assert.Equal(sum, scalar.ToScalar(), 12);
        Assert.ThrowsAny<ArgumentException>(() => Expr.MultiDot(Tensor.FromArray(a, 4, 2)));
        var error = Assert.ThrowsAny<ArgumentException>(() => Expr.MultiDot(Tensor.FromArray(a, 4, 2), Tensor.FromArray(c, 5, 3)));
        Assert.Contains("MultiDot", error.Message);
        Assert.Contains("[5,3]", error.Message);
    }

    [Fact]
    public void VecdotCholeskyInverseAndTheMomentPairs()
    {
        double[] x = { 1, 2, 3, 4, 5, 6 }, y = { 0.5, -1, 2 };
        Assert.Equal(new[] { 0.5 - 2 + 6, 2 - 5 + 12 }, Tensor.Vecdot(Tensor.FromArray(x, 2, 3), Tensor.FromArray(y)).ToDoubleArray());
        // A = L Lᵀ for a lower L: (L Lᵀ)⁻¹ A is the identity
        double[] l = { 2, 0, 0, 0.5, 1.5, 0, -1, 0.25, 3 };
        var a = TestSupport.MatrixProduct(l, new[] { l[0], l[3], l[6], l[1], l[4], l[7], l[2], l[5], l[8] }, 3, 3, 3);
        var inverse = Tensor.FromArray(l, 3, 3).CholeskyInverse().ToDoubleArray();
        var identity = TestSupport.MatrixProduct(inverse, a, 3, 3, 3);
        for (int i = 0; i < 9; i++) Assert.Equal(i % 4 == 0 ? 1.0 : 0.0, identity[i], 12);
        // std_mean and var_mean along axis 1, Bessel's correction
        var (std, mean) = Tensor.FromArray(x, 2, 3).StdMean([1]);
        Assert.Equal(new[] { 2.0, 5.0 }, mean.ToDoubleArray());
        Assert.Equal(new[] { 1.0, 1.0 }, std.ToDoubleArray());
        var (variance, all) = Tensor.FromArray(x, 2, 3).VarMean(0.0);
        Assert.Equal(3.5, all.ToScalar(), 14);
        Assert.Equal(x.Select(v => (v - 3.5) * (v - 3.5)).Average(), variance.ToScalar(), 14);
    }

    [Fact]
    public void UnderVmapEachOpMatchesTheLoopOverExamples()
    {
        var values = Enumerable.Range(0, 3 * 24).Select(i => Math.Sin(0.7 * i) + 0.1 * i).ToArray();
        TestSupport.VmapMatchesTheLoop(x => x.Reshape(4, 6).Rot90().Sin().Sum(), values, 3);
        TestSupport.VmapMatchesTheLoop(x => x.Reshape(4, 6).SliceScatter(x.Reshape(4, 6).Narrow(1, 1, 2).Square(), 1, 3, 5).Sum(), values, 3);
        TestSupport.VmapMatchesTheLoop(x => x.Reshape(4, 6).DiagonalScatter(x.Narrow(0, 0, 4).Tanh(), 1).Square().Sum(), values, 3);
        TestSupport.VmapMatchesTheLoop(x => Expr.Fmax(x, x.Flip(0)).Sum(), values, 3);
        TestSupport.VmapMatchesTheLoop(x => Expr.Hstack(x.Reshape(4, 6), x.Reshape(4, 6).Exp()).Square().Sum(), values, 3);
        TestSupport.VmapMatchesTheLoop(x => Expr.MultiDot(x.Narrow(0, 0, 4), x.Reshape(4, 6), x.Narrow(0, 0, 6)), values, 3);
    }
}
