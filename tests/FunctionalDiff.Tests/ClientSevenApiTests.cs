using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the probabilistic ports reached for and did not find: torch.cholesky_solve (a Gaussian process's K⁻¹y from
/// its Cholesky factor), torch.eye inside a traced function (the noise term k + σ²·I), torch.dot,
/// F.gaussian_nll_loss (a regression net that predicts a mean and a variance) and F.kl_div. Checked against Gaussian elimination and torch's formulas
/// written here, and central differences of them.
/// </summary>
public class ClientSevenApiTests
{
    /// <summary>x with a x = b by Gaussian elimination with partial pivoting, one column of b at a time.</summary>
    static double[] EliminationSolve(double[] a, double[] b, int n, int k)
    {
        var x = new double[n * k];
        for (int column = 0; column < k; column++)
        {
            var m = (double[])a.Clone();
            var r = Enumerable.Range(0, n).Select(i => b[i * k + column]).ToArray();
            for (int c = 0; c < n; c++)
            {
                int pivot = c;
                for (int i = c + 1; i < n; i++) if (Math.Abs(m[i * n + c]) > Math.Abs(m[pivot * n + c])) pivot = i;
                for (int j = 0; j < n; j++) (m[c * n + j], m[pivot * n + j]) = (m[pivot * n + j], m[c * n + j]);
                (r[c], r[pivot]) = (r[pivot], r[c]);
                for (int i = c + 1; i < n; i++)
                {
                    double f = m[i * n + c] / m[c * n + c];
                    for (int j = c; j < n; j++) m[i * n + j] -= f * m[c * n + j];
                    r[i] -= f * r[c];
                }
            }
            for (int i = n - 1; i >= 0; i--)
            {
                double s = r[i];
                for (int j = i + 1; j < n; j++) s -= m[i * n + j] * x[j * k + column];
                x[i * k + column] = s / m[i * n + i];
            }
        }
        return x;
    }

    /// <summary>A = L Lᵀ from the lower triangle of l (upper: A = Uᵀ U from its upper triangle); the other triangle is ignored.</summary>
    static double[] Product(double[] l, int n, bool upper)
    {
        var a = new double[n * n];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                for (int p = 0; p < n; p++)
                {
                    // lower: Σ L[i,p] L[j,p] over p ≤ min(i, j); upper: Σ U[p,i] U[p,j] over p ≤ min(i, j)
                    if (p > i || p > j) continue;
                    a[i * n + j] += upper ? l[p * n + i] * l[p * n + j] : l[i * n + p] * l[j * n + p];
                }
        return a;
    }

    static double[] Reference(double[] l, double[] b, int n, int k, bool upper) => EliminationSolve(Product(l, n, upper), b, n, k);

    [Theory]
    [InlineData(false, DType.Float64)]
    [InlineData(true, DType.Float64)]
    [InlineData(false, DType.Float32)]
    [InlineData(true, DType.Float32)]
    public void CholeskySolveSolvesWithTheFactorAndDifferentiatesInBothArguments(bool upper, DType dtype)
    {
        const int n = 4, k = 2;
        // a well-conditioned factor: a draw with a large positive diagonal; its other triangle is junk that must be ignored
        var lv = Values(n * n, 3).Select((v, i) => i / n == i % n ? 2 + Math.Abs(v) : v).ToArray();
        var bv = Values(n * k, 4);
        var l = Tensor.FromArray(lv, [n, n]).Cast(dtype);
        var b = Tensor.FromArray(bv, [n, k]).Cast(dtype);
        double tolerance = dtype == DType.Float64 ? 1e-12 : 1e-5;

        var x = ((Expr)b).CholeskySolve(l, upper).Eval();
        Assert.Equal(dtype, x.DType);
        Assert.Equal(new[] { n, k }, x.Shape);
        Close(Reference(lv, bv, n, k, upper), x.ToDoubleArray(), tolerance, "x");
        // the same as two triangular solves, and as Solve of the product
        var viaProduct = (upper ? ((Expr)l).Triu().Transpose().MatMul(((Expr)l).Triu()) : ((Expr)l).Tril().MatMul(((Expr)l).Tril().Transpose())).Solve(b);
        Close(viaProduct.Eval().ToDoubleArray(), x.ToDoubleArray(), tolerance, "Solve(A, b)");

        if (dtype == DType.Float32) return;
        // gradients of Σ c ⊙ x in b and in the factor, against central differences; the unread triangle gets 0
        var c = Values(n * k, 5);
        double Loss(double[] lFlat, double[] bFlat) => Reference(lFlat, bFlat, n, k, upper).Select((v, i) => v * c[i]).Sum();
        var g = Diff.Grad((Expr[] p) => (p[1].CholeskySolve(p[0], upper) * Tensor.FromArray(c, [n, k])).Sum())([l, b]);
        var values = Expr.EvalMany(g);
        Close(Gradient(v => Loss(v, bv), lv), values[0].ToDoubleArray(), 1e-7, "dl");
        Close(Gradient(v => Loss(lv, v), bv), values[1].ToDoubleArray(), 1e-7, "db");
        for (int i = 0; i < n; i++)
            for (int j = 0; j < n; j++)
                if (upper ? j < i : j > i) Assert.Equal(0.0, values[0].ToDoubleArray()[i * n + j]);

        // second order: |x|² with x = A⁻¹b has the Hessian 2 A⁻ᵀA⁻¹ = 2 A⁻² in b (A symmetric), so its product with d
        // is two more solves with the reference
        var direction = Tensor.FromArray(Values(n * k, 6), [n, k]);
        var hv = Diff.Hvp(v => v.CholeskySolve(l, upper).Square().Sum(), b, direction).Eval().ToDoubleArray();
        var twice = Reference(lv, Reference(lv, direction.ToDoubleArray(), n, k, upper), n, k, upper);
        Close(twice.Select(v => 2 * v).ToArray(), hv, 1e-10, "HVP in b");
    }

    [Fact]
    public void CholeskySolveBroadcastsBatchAxesAndNamesItselfInErrors()
    {
        // a batch of two factors against one right-hand side, as torch broadcasts them
        var l = Tensor.FromArray(Values(2 * 3 * 3, 7).Select((v, i) => (i % 9) / 3 == (i % 9) % 3 ? 3 + v : v).ToArray(), [2, 3, 3]);
        var b = Tensor.FromArray(Values(3 * 2, 8), [3, 2]);
        var x = ((Expr)b).CholeskySolve(l).Eval();
        Assert.Equal(new[] { 2, 3, 2 }, x.Shape);
        var lv = l.ToDoubleArray();
        var xv = x.ToDoubleArray();
        for (int batch = 0; batch < 2; batch++)
            Close(Reference(lv[(batch * 9)..(batch * 9 + 9)], b.ToDoubleArray(), 3, 2, upper: false), xv[(batch * 6)..(batch * 6 + 6)], 1e-12, $"batch {batch}");

        var vector = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Ones(3)).CholeskySolve(l));
        Assert.StartsWith("CholeskySolve: ", vector.Message);
        Assert.Contains("Unsqueeze(-1)", vector.Message);
        var rows = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Ones(4, 2)).CholeskySolve(l));
        Assert.StartsWith("CholeskySolve: ", rows.Message);
        Assert.Contains("[2,3,3]", rows.Message);
        var square = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Ones(3, 2)).CholeskySolve(Tensor.Ones(3, 2)));
        Assert.StartsWith("CholeskySolve: ", square.Message);
        Assert.Equal("factor", Assert.Throws<ArgumentNullException>(() => ((Expr)b).CholeskySolve(null!)).ParamName);
    }

    [Fact]
    public void DotIsTorchDotOfTwoVectorsWithItsGradientsAndRefusesWhatTorchRefuses()
    {
        // a GP's yᵀα written as torch.dot(y, alpha)
        var a = T([5], 31);
        var b = T([5], 32);
        double expected = a.ToDoubleArray().Zip(b.ToDoubleArray(), (u, v) => u * v).Sum();
        Close(expected, ((Expr)a).Dot(b).Eval().ToScalar(), 1e-15, "Expr.Dot");
        Close(expected, a.Dot(b).ToScalar(), 1e-15, "Tensor.Dot");
        Assert.Empty(a.Dot(b).Shape);
        var f32 = a.Cast(DType.Float32).Dot(b.Cast(DType.Float32));
        Assert.Equal(DType.Float32, f32.DType);
        Close(expected, f32.ToScalar(), 1e-6, "float32");
        var g = Diff.Grad((Expr[] p) => p[0].Dot(p[1]))([a, b]);
        Assert.Equal(b.ToDoubleArray(), g[0].Eval().ToDoubleArray());
        Assert.Equal(a.ToDoubleArray(), g[1].Eval().ToDoubleArray());
        foreach (var (x, y) in new[] { (T([5], 1), T([4], 2)), (T([2, 5], 1), T([5], 2)), (T([5], 1), T([5, 1], 2)) })
        {
            Assert.StartsWith("Dot: ", Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Dot(y)).Message);
            Assert.StartsWith("Dot: ", Assert.ThrowsAny<ArgumentException>(() => x.Dot(y)).Message);
        }
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void KlDivIsTorchsKlDivWithZeroTargetsLogTargetAndGradients(DType dtype)
    {
        // input log q (log_softmax of logits), target p with a zero entry: p·(log p − log q), 0 where p = 0
        var logits = T([2, 3], 41);
        double[] p = [0.2, 0.8, 0.0, 0.5, 0.25, 0.25];
        var input = ((Expr)logits.Cast(dtype)).LogSoftmax(1);
        var target = Tensor.FromArray(p, [2, 3]).Cast(dtype);
        var lq = input.Eval().ToDoubleArray();
        var expected = p.Select((pi, i) => pi == 0 ? 0 : pi * (Math.Log(pi) - lq[i])).ToArray();
        double tolerance = dtype == DType.Float64 ? 1e-14 : 1e-6;
        var each = Loss.KlDiv(input, target, Reduction.None).Eval();
        Assert.Equal(dtype, each.DType);
        Close(expected, each.ToDoubleArray(), tolerance, "elements");
        Close(expected.Sum() / 2, (Loss.KlDiv(input, target, Reduction.Sum) / 2).Eval().ToScalar(), tolerance, "batchmean");
        Close(expected.Average(), Loss.KlDiv(input, target).Eval().ToScalar(), tolerance, "mean");
        // the same with the target in log space: a zero p is log p = −∞, e^(−∞)·(−∞ − log q) = 0·(−∞) is NaN in torch too,
        // so that form is checked where p > 0
        var positive = Tensor.FromArray([0.2, 0.8, 0.1, 0.5, 0.25, 0.25], [2, 3]).Cast(dtype);
        var pv = positive.ToDoubleArray();
        Close(pv.Select((pi, i) => pi * (Math.Log(pi) - lq[i])).ToArray(),
            Loss.KlDiv(input, ((Expr)positive).Log(), Reduction.None, logTarget: true).Eval().ToDoubleArray(), tolerance * 10, "logTarget");
        if (dtype == DType.Float32) return;

        // gradients of the sum: −p in log q; log p + 1 − log q in p (p > 0)
        var g = Diff.Grad((Expr[] a) => Loss.KlDiv(a[0], a[1], Reduction.Sum))([input.Eval(), positive]);
        var values = Expr.EvalMany(g);
        Close(pv.Select(v => -v).ToArray(), values[0].ToDoubleArray(), 1e-15, "d log q");
        Close(pv.Select((v, i) => Math.Log(v) + 1 - lq[i]).ToArray(), values[1].ToDoubleArray(), 1e-14, "d p");
        // and through the log-softmax, against central differences of the formula
        var lv = logits.ToDoubleArray();
        double Loss2(double[] z)
        {
            double total = 0;
            for (int r = 0; r < 2; r++)
            {
                double m = z.Skip(3 * r).Take(3).Max(), s = z.Skip(3 * r).Take(3).Sum(v => Math.Exp(v - m));
                for (int c = 0; c < 3; c++)
                {
                    double pi = p[3 * r + c];
                    if (pi > 0) total += pi * (Math.Log(pi) - (z[3 * r + c] - m - Math.Log(s)));
                }
            }
            return total;
        }
        var dz = Diff.Grad(z => Loss.KlDiv(z.LogSoftmax(1), target, Reduction.Sum))(logits).Eval().ToDoubleArray();
        Close(Gradient(Loss2, lv), dz, 1e-8, "d logits");
        Assert.StartsWith("KlDiv: ", Assert.ThrowsAny<ArgumentException>(() => Loss.KlDiv(input, Tensor.Ones(3, 2))).Message);
    }

    [Fact]
    public void ExprEyeIsTorchEyeAsAConstantWithoutDerivative()
    {
        var eye = Expr.Eye(3).Eval();
        Assert.Equal(DType.Float64, eye.DType);
        Assert.Equal(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, eye.ToDoubleArray());
        var wide = Expr.Eye(2, 3, DType.Float32).Eval();
        Assert.Equal(DType.Float32, wide.DType);
        Assert.Equal(new[] { 2, 3 }, wide.Shape);
        Assert.Equal(new double[] { 1, 0, 0, 0, 1, 0 }, wide.ToDoubleArray());
        // k + noise · I: the gradient in noise is the trace of the cotangent, n for a sum
        var g = Diff.Grad(noise => (Tensor.Ones(4, 4) + noise * Expr.Eye(4)).Sum())(Tensor.Scalar(0.3)).Eval().ToScalar();
        Assert.Equal(4.0, g);
        Assert.StartsWith("Eye: ", Assert.ThrowsAny<ArgumentException>(() => Expr.Eye(-1)).Message);
        // the documented dtype rule: a float32 kernel stays float32 with Eye's dtype given, and is promoted without it
        var k = (Expr)Tensor.Ones([2, 2], DType.Float32);
        Assert.Equal(DType.Float32, (k + Expr.Eye(2, DType.Float32)).DType);
        Assert.Equal(DType.Float64, (k + Expr.Eye(2)).DType);
    }

    // ---- F.gaussian_nll_loss ----

    /// <summary>torch's formula element by element, the variance broadcast per row when it has one entry per row.</summary>
    static double[] GaussianNll(double[] x, double[] t, double[] v, int columns, bool full, double eps)
    {
        var loss = new double[x.Length];
        for (int i = 0; i < x.Length; i++)
        {
            double variance = Math.Max(v.Length == x.Length ? v[i] : v[i / columns], eps);
            loss[i] = 0.5 * (Math.Log(variance) + (x[i] - t[i]) * (x[i] - t[i]) / variance) + (full ? 0.5 * Math.Log(2 * Math.PI) : 0);
        }
        return loss;
    }

    [Theory]
    [InlineData(new[] { 3, 4 }, false, DType.Float64)]     // one variance per element
    [InlineData(new[] { 3 }, true, DType.Float64)]         // one per row, the last axis left out
    [InlineData(new[] { 3, 1 }, false, DType.Float64)]     // one per row, the last axis 1
    [InlineData(new[] { 3, 4 }, true, DType.Float32)]
    [InlineData(new[] { 3, 1 }, false, DType.Float32)]
    public void GaussianNllLossIsTorchsFormulaWithItsVarianceShapesClampAndGradients(int[] varianceShape, bool full, DType dtype)
    {
        const int rows = 3, columns = 4;
        const double eps = 1e-6;
        var xv = Values(rows * columns, 11);
        var tv = Values(rows * columns, 12);
        int count = varianceShape.Aggregate(1, (a, b) => a * b);
        // positive variances, one of them below eps and one exactly 0: both are clamped to eps
        var vv = Values(count, 13).Select(v => 0.2 + v * v).ToArray();
        vv[1] = 1e-9;
        vv[count - 1] = 0;
        var x = Tensor.FromArray(xv, [rows, columns]).Cast(dtype);
        var t = Tensor.FromArray(tv, [rows, columns]).Cast(dtype);
        var v = Tensor.FromArray(vv, varianceShape).Cast(dtype);
        var expected = GaussianNll(xv, tv, vv, columns, full, eps);
        double tolerance = dtype == DType.Float64 ? 1e-12 : 2e-5;

        var each = Loss.GaussianNllLoss(x, t, v, full, reduction: Reduction.None).Eval();
        Assert.Equal(dtype, each.DType);
        Assert.Equal(new[] { rows, columns }, each.Shape);
        for (int i = 0; i < expected.Length; i++)
            Close(expected[i], each.ToDoubleArray()[i], tolerance * Math.Max(1, Math.Abs(expected[i])), $"entry {i}");
        Close(expected.Sum(), Loss.GaussianNllLoss(x, t, v, full, reduction: Reduction.Sum).Eval().ToScalar(), tolerance * Math.Abs(expected.Sum()), "sum");
        Close(expected.Average(), Loss.GaussianNllLoss(x, t, v, full).Eval().ToScalar(), tolerance * Math.Abs(expected.Sum()), "mean");
        if (dtype == DType.Float32) return;

        // gradients of the mean: the input's and the target's by central differences of the formula; the variance's as
        // torch's clamp under no_grad gives it, ½(1/v − d²/v²) at the clamped v, passed through the clamp (differences
        // where the variance is above eps, and the same closed form below it)
        var g = Diff.Grad((Expr[] p) => Loss.GaussianNllLoss(p[0], p[1], p[2], full))([x, t, v]);
        var values = Expr.EvalMany(g);
        // (x − t)/v: the entries whose variance is clamped to eps are ~1e6 times larger than the rest, and differences of
        // their loss lose that many digits to rounding, so the closed form is the reference, and differences check it
        // where the variance is not clamped
        var slope = xv.Select((a, i) => (a - tv[i]) / Math.Max(count == xv.Length ? vv[i] : vv[i / columns], eps) / xv.Length).ToArray();
        Close(slope, values[0].ToDoubleArray(), 1e-12, "d input");
        Close(slope.Select(a => -a).ToArray(), values[1].ToDoubleArray(), 1e-12, "d target");
        for (int i = 0; i < xv.Length; i++)
        {
            int at = i;
            if ((count == xv.Length ? vv[i] : vv[i / columns]) > 1e-3)
                Close(Gradient(a => GaussianNll(a, tv, vv, columns, full, eps)[at] / xv.Length, xv)[i], slope[i], 1e-9, $"d input {i} by differences");
        }
        var closed = new double[count];
        for (int i = 0; i < xv.Length; i++)
        {
            int at = count == xv.Length ? i : i / columns;
            double variance = Math.Max(vv[at], eps), d = xv[i] - tv[i];
            closed[at] += 0.5 * (1 / variance - d * d / (variance * variance)) / xv.Length;
        }
        Close(closed, values[2].ToDoubleArray(), 1e-9 * closed.Select(Math.Abs).Max(), "d variance");
        // the clamped entries' large losses are left out of the differences (they do not depend on the other variances)
        bool Unclamped(int i) => (count == xv.Length ? vv[i] : vv[i / columns]) > 1e-3;
        var differences = Gradient(a => GaussianNll(xv, tv, a, columns, full, eps).Where((_, i) => Unclamped(i)).Sum() / xv.Length, vv, 1e-7);
        for (int i = 0; i < count; i++)
            if (vv[i] > 1e-3) Close(differences[i], values[2].ToDoubleArray()[i], 1e-6, $"d variance {i} by differences");
    }

    [Fact]
    public void GaussianNllLossTakesOneNumberAsTheVarianceOfEveryElement()
    {
        // torch's float var: a bare double, or a rank-0 tensor, is the variance of every element, clamped as any
        var x = T([3, 2], 21);
        var t = T([3, 2], 22);
        var xv = x.ToDoubleArray();
        var tv = t.ToDoubleArray();
        foreach (var (variance, value) in new[] { ((Expr)0.7, 0.7), (Tensor.Scalar(0.7), 0.7), ((Expr)1e-9, 1e-6) })
        {
            double expected = xv.Select((a, i) => 0.5 * (Math.Log(value) + (a - tv[i]) * (a - tv[i]) / value)).Average();
            Close(expected, Loss.GaussianNllLoss(x, t, variance).Eval().ToScalar(), 1e-12, $"variance {value}");
        }
        // the shared variance's gradient sums every element's ½(1/v − d²/v²)
        var g = Diff.Grad(v => Loss.GaussianNllLoss(x, t, v, reduction: Reduction.Sum))(Tensor.Scalar(0.7)).Eval().ToScalar();
        Close(xv.Select((a, i) => 0.5 * (1 / 0.7 - (a - tv[i]) * (a - tv[i]) / 0.49)).Sum(), g, 1e-12, "d variance");
    }

    [Fact]
    public void GaussianNllLossRefusesShapesTorchRefusesAndNamesItself()
    {
        var x = Tensor.Ones(3, 4);
        foreach (var variance in new[] { Tensor.Ones(4), Tensor.Ones(3, 2), Tensor.Ones(1, 4), Tensor.Ones(3, 4, 1) })
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => Loss.GaussianNllLoss(x, x, variance));
            Assert.StartsWith("GaussianNllLoss: ", e.Message);
            Assert.Contains($"[{string.Join(",", variance.Shape)}]", e.Message);
        }
        Assert.StartsWith("GaussianNllLoss: ", Assert.ThrowsAny<ArgumentException>(() => Loss.GaussianNllLoss(x, Tensor.Ones(3, 1), x)).Message);
        Assert.Equal("eps", Assert.ThrowsAny<ArgumentException>(() => Loss.GaussianNllLoss(x, x, x, eps: -1)).ParamName);
        Assert.Equal("variance", Assert.Throws<ArgumentNullException>(() => Loss.GaussianNllLoss(x, x, null!)).ParamName);
    }
}
