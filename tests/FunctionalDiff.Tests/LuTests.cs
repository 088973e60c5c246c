using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The LU family (Expr.LuFactor, Lu, LuUnpack, LuSolve and their Tensor forms) against the unblocked elimination loop of
/// LAPACK's getf2 written here, the identities that define the results (P L U = A, A X = b), a closed form of the
/// derivative of a 2×2 factor, and finite differences.
/// </summary>
public class LuTests
{
    /// <summary>
    /// Gaussian elimination with partial pivoting, one column at a time: the first entry of largest magnitude on or
    /// below the diagonal is the pivot (pivots are 1-based), and a zero pivot skips its step, as getf2 does.
    /// </summary>
    static (double[] Factors, double[] Pivots) Eliminate(double[] a, int n, int offset = 0)
    {
        var lu = a[offset..(offset + n * n)];
        var pivots = new double[n];
        for (int j = 0; j < n; j++)
        {
            int p = j;
            for (int i = j + 1; i < n; i++)
                if (Math.Abs(lu[i * n + j]) > Math.Abs(lu[p * n + j])) p = i;
            pivots[j] = p + 1;
            for (int c = 0; c < n; c++) (lu[j * n + c], lu[p * n + c]) = (lu[p * n + c], lu[j * n + c]);
            if (lu[j * n + j] == 0) continue;
            for (int i = j + 1; i < n; i++)
            {
                lu[i * n + j] /= lu[j * n + j];
                for (int c = j + 1; c < n; c++) lu[i * n + c] -= lu[i * n + j] * lu[j * n + c];
            }
        }
        return (lu, pivots);
    }

    /// <summary>A well-conditioned n×n matrix (a draw plus 3·I), row-major.</summary>
    static double[] Shifted(int n, int salt)
    {
        var a = TestSupport.Values(n * n, salt);
        for (int i = 0; i < n; i++) a[i * n + i] += 3;
        return a;
    }

    static double[] Transposed(double[] a, int n)
    {
        var t = new double[n * n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) t[j * n + i] = a[i * n + j];
        return t;
    }

    [Theory]
    [InlineData(1)]
    [InlineData(5)]
    [InlineData(40)] // beyond one panel of the blocked kernel
    public void LuFactorMatchesTheEliminationLoop(int n)
    {
        var values = Tensor.RandomNormal(new[] { n, n }, seed: 11 + n).ToDoubleArray();
        var (lu, pivots) = Tensor.FromArray(values, n, n).LuFactor();
        var (expected, expectedPivots) = Eliminate(values, n);
        Assert.Equal(new[] { n, n }, lu.Shape);
        Assert.Equal(expectedPivots, pivots.ToDoubleArray());
        TestSupport.Close(expected, lu.ToDoubleArray(), 1e-10, "LU");
    }

    [Fact]
    public void BatchedAndFloat32FactorsMatchTheLoopPerMatrix()
    {
        var values = Tensor.RandomNormal(new[] { 2, 3, 4, 4 }, seed: 5).ToDoubleArray();
        var (lu, pivots) = Tensor.FromArray(values, 2, 3, 4, 4).LuFactor();
        var (single, singlePivots) = Tensor.FromArray(values.Select(v => (float)v).ToArray(), 2, 3, 4, 4).LuFactor();
        Assert.Equal(new[] { 2, 3, 4 }, pivots.Shape);
        Assert.Equal(DType.Float32, single.DType);
        double[] factors = lu.ToDoubleArray(), rows = pivots.ToDoubleArray(), factors32 = single.ToDoubleArray(), rows32 = singlePivots.ToDoubleArray();
        for (int b = 0; b < 6; b++)
        {
            var (expected, expectedPivots) = Eliminate(values, 4, b * 16);
            TestSupport.Close(expected, factors[(b * 16)..((b + 1) * 16)], 1e-12, $"LU {b}");
            Assert.Equal(expectedPivots, rows[(b * 4)..((b + 1) * 4)]);
            TestSupport.Close(expected, factors32[(b * 16)..((b + 1) * 16)], 1e-4, $"float32 LU {b}");
            Assert.Equal(expectedPivots, rows32[(b * 4)..((b + 1) * 4)]);
        }
    }

    [Fact]
    public void SingularMatricesFactorWithAZeroPivotAsTorchDoes()
    {
        // rank 1: rows 2 and 1 swap, the second column eliminates to an exact 0 on U's diagonal
        var (lu, pivots) = Tensor.FromArray(new double[] { 1, 2, 2, 4 }, 2, 2).LuFactor();
        Assert.Equal(new double[] { 2, 4, 0.5, 0 }, lu.ToDoubleArray());
        Assert.Equal(new double[] { 2, 2 }, pivots.ToDoubleArray());
        // a zero first column: no swap and no elimination at step 1
        var (zeroColumn, zeroPivots) = Tensor.FromArray(new double[] { 0, 1, 0, 2 }, 2, 2).LuFactor();
        Assert.Equal(new double[] { 0, 1, 0, 2 }, zeroColumn.ToDoubleArray());
        Assert.Equal(new double[] { 1, 2 }, zeroPivots.ToDoubleArray());
        // the all-zero matrix
        var (zeros, zeroRows) = Tensor.Zeros(new[] { 3, 3 }).LuFactor();
        Assert.Equal(new double[9], zeros.ToDoubleArray());
        Assert.Equal(new double[] { 1, 2, 3 }, zeroRows.ToDoubleArray());
    }

    [Fact]
    public void LuReassemblesTheMatrixFromAPermutationAndTwoTriangles()
    {
        const int n = 4;
        var values = Tensor.RandomNormal(new[] { 2, n, n }, seed: 8).ToDoubleArray();
        var (p, l, u) = Tensor.FromArray(values, 2, n, n).Lu();
        var (factors, pivots) = Tensor.FromArray(values, 2, n, n).LuFactor();
        var (p2, l2, u2) = Tensor.LuUnpack(factors, pivots);
        Assert.Equal(p.ToDoubleArray(), p2.ToDoubleArray());
        Assert.Equal(l.ToDoubleArray(), l2.ToDoubleArray());
        Assert.Equal(u.ToDoubleArray(), u2.ToDoubleArray());
        double[] ps = p.ToDoubleArray(), ls = l.ToDoubleArray(), us = u.ToDoubleArray();
        for (int b = 0; b < 2; b++)
        {
            var (pm, lm, um) = (ps[(b * 16)..((b + 1) * 16)], ls[(b * 16)..((b + 1) * 16)], us[(b * 16)..((b + 1) * 16)]);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                {
                    Assert.Equal(i == j ? 1.0 : i < j ? 0.0 : lm[i * n + j], lm[i * n + j]);
                    if (i > j) Assert.Equal(0.0, um[i * n + j]);
                }
            // P is the swaps of the pivots applied to the identity's rows in order, transposed
            var order = Enumerable.Range(0, n).ToArray();
            var (_, rows) = Eliminate(values, n, b * 16);
            for (int j = 0; j < n; j++) (order[j], order[(int)rows[j] - 1]) = (order[(int)rows[j] - 1], order[j]);
            for (int i = 0; i < n; i++)
                for (int j = 0; j < n; j++)
                    Assert.Equal(order[j] == i ? 1.0 : 0.0, pm[i * n + j]);
            var product = TestSupport.MatrixProduct(pm, TestSupport.MatrixProduct(lm, um, n, n, n), n, n, n);
            TestSupport.Close(values[(b * 16)..((b + 1) * 16)], product, 1e-12, $"P L U {b}");
        }
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(true, true)]
    [InlineData(false, false)]
    [InlineData(false, true)]
    public void LuSolveSatisfiesItsEquation(bool left, bool adjoint)
    {
        const int n = 4, k = 2;
        var a = Shifted(n, 3);
        var b = TestSupport.Values(n * k, 9);
        var (factors, pivots) = Tensor.FromArray(a, n, n).LuFactor();
        var rhs = left ? Tensor.FromArray(b, n, k) : Tensor.FromArray(b, k, n);
        var x = Tensor.LuSolve(factors, pivots, rhs, left, adjoint).ToDoubleArray();
        var op = adjoint ? Transposed(a, n) : a;
        var product = left ? TestSupport.MatrixProduct(op, x, n, n, k) : TestSupport.MatrixProduct(x, op, k, n, n);
        TestSupport.Close(b, product, 1e-12, "residual");
    }

    [Fact]
    public void LuSolveBroadcastsTheBatchOfTheRightHandSide()
    {
        const int n = 3;
        var a = Shifted(n, 1).Concat(Shifted(n, 2)).ToArray();
        var b = TestSupport.Values(n * 2, 4);
        var (factors, pivots) = Tensor.FromArray(a, 2, n, n).LuFactor();
        var x = Tensor.LuSolve(factors, pivots, Tensor.FromArray(b, n, 2));
        Assert.Equal(new[] { 2, n, 2 }, x.Shape);
        var values = x.ToDoubleArray();
        for (int m = 0; m < 2; m++)
            TestSupport.Close(b, TestSupport.MatrixProduct(a[(m * 9)..((m + 1) * 9)], values[(m * 6)..((m + 1) * 6)], n, n, 2), 1e-12);
    }

    [Fact]
    public void TheGradientOfU22IsItsClosedForm()
    {
        // A = [[a, b], [c, d]] with |a| > |c|: no swap, U₂₂ = d − b·c/a, so ∇U₂₂ = (b·c/a², −c/a, −b/a, 1)
        double a = 3, b = -1.5, c = 0.75, d = 2;
        var grad = Diff.Grad(x => x.LuFactor().LU.Slice(0, 1, 2).Slice(1, 1, 2).Sum())(Tensor.FromArray(new[] { a, b, c, d }, 2, 2));
        TestSupport.Close(new[] { b * c / (a * a), -c / a, -b / a, 1 }, grad.Eval().ToDoubleArray(), 1e-14);
        // the same rows given the other way round: the swap brings [a, b] back on top, so U₂₂ is the same function
        var swapped = Diff.Grad(x => x.LuFactor().LU.Slice(0, 1, 2).Slice(1, 1, 2).Sum())(Tensor.FromArray(new[] { c, d, a, b }, 2, 2));
        TestSupport.Close(new[] { -b / a, 1, b * c / (a * a), -c / a }, swapped.Eval().ToDoubleArray(), 1e-14);
    }

    [Fact]
    public void DerivativesUpToSecondOrderAgreeWithFiniteDifferences()
    {
        var a = Tensor.RandomNormal(new[] { 2, 4, 4 }, seed: 17);
        var factor = Diff.CheckGrad(x => x.LuFactor().LU.Sin().Sum(), a, order: 2);
        Assert.True(factor.Passed, factor.Message);
        var lu = Diff.CheckGrad(x => { var (p, l, u) = x.Lu(); return (p.MatMul(l).Square().Sum() + u.Sin().Sum()); }, a, order: 2);
        Assert.True(lu.Passed, lu.Message);
        var b = Tensor.FromArray(TestSupport.Values(8, 2), 4, 2);
        var solved = Diff.CheckGrad(x =>
        {
            var (factors, pivots) = (x + 3 * Expr.Eye(4)).LuFactor();
            return Expr.LuSolve(factors, pivots, b).Sin().Sum() + Expr.LuSolve(factors, pivots, b.Transpose(), left: false, adjoint: true).Square().Sum();
        }, a, order: 2);
        Assert.True(solved.Passed, solved.Message);
        var inB = Diff.CheckGrad(y =>
        {
            var (factors, pivots) = ((Expr)Tensor.FromArray(Shifted(4, 5), 4, 4)).LuFactor();
            return Expr.LuSolve(factors, pivots, y, adjoint: true).Sin().Sum();
        }, b, order: 2);
        Assert.True(inB.Passed, inB.Message);
    }

    [Fact]
    public void VmapOfTheFactorMatchesTheLoop() =>
        TestSupport.VmapMatchesTheLoop(x => x.Slice(0, 0, 16).Reshape(4, 4).LuFactor().LU.Sin().Sum(), TestSupport.Values(3 * 24, 6), 3);

    [Fact]
    public void ErrorsNameTheMethodTheParameterAndTheShapes()
    {
        var square = (Expr)Tensor.Ones(new[] { 3, 3 });
        var wide = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Ones(new[] { 2, 3 })).LuFactor());
        Assert.Contains("LuFactor", wide.Message);
        Assert.Contains("[2,3]", wide.Message.Replace(" ", ""));
        var (factors, pivots) = square.LuFactor();
        var rows = Assert.ThrowsAny<ArgumentException>(() => Expr.LuSolve(factors, pivots, Tensor.Ones(new[] { 2, 1 })));
        Assert.Contains("LuSolve", rows.Message);
        Assert.Contains("needs 3 rows", rows.Message);
        var mismatch = Assert.ThrowsAny<ArgumentException>(() => Expr.LuUnpack(factors, Tensor.Ones(new[] { 2 })));
        Assert.Contains("LuUnpack", mismatch.Message);
        Assert.Contains("pivots", mismatch.Message);
        // pivots are checked when evaluated: 4 is outside [1, 3]
        var outside = Assert.ThrowsAny<ArgumentException>(() =>
            Tensor.LuSolve(Tensor.Ones(new[] { 3, 3 }), Tensor.FromArray(new double[] { 1, 4, 3 }, 3), Tensor.Ones(new[] { 3, 1 })));
        Assert.Contains("LuSolve", outside.Message);
        Assert.Contains("[1, 3]", outside.Message);
    }
}
