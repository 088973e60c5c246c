using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The spellings a PyTorch or JAX user reaches for first (t.item(), x.detach(), torch.zeros_like,
/// x.max(dim) with its indices, jax.hessian over several arguments, clip_grad_norm_), each checked
/// against a reference loop, a closed form or central differences written in the test.
/// </summary>
public class ClientThreeApiTests
{
    [Fact]
    public void ItemIsTorchsItemAndNamesTheShapeWhenThereIsNotOneElement()
    {
        Assert.Equal(2.5, Tensor.Scalar(2.5).Item());
        Assert.Equal(-3.0, Tensor.FromArray(new[] { -3.0 }).Item());
        Assert.Equal((double)0.1f, Tensor.FromArray(new[] { 0.1f }, 1, 1).Item());
        var t = Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(21.0, t.Sum().Item());
        // the indexer still reads elements, though its metadata name is no longer Item
        Assert.Equal(6.0, t[1, 2]);
        var e = Assert.ThrowsAny<ArgumentException>(() => t.Item());
        Assert.StartsWith("Item: ", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("6 elements", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros(0).Item());
    }

    [Fact]
    public void DetachIsStopGradient()
    {
        var x = T([5], 1);
        // d/dx Σ x·c with c = x held constant is c = x; without detach it would be 2x
        Close(x.ToArray(), Diff.Grad(v => (v * v.Detach()).Sum())(x).Eval().ToArray(), 0);
        Close(x.ToArray().Select(v => 2 * v).ToArray(), Diff.Grad(v => (v * v).Sum())(x).Eval().ToArray(), 0);
        Assert.Same(((Expr)x).StopGradient(), ((Expr)x).Detach());
    }

    [Fact]
    public void ConstantsOfAShapeAndTheLikeFormsOnExprAndTensor()
    {
        var z = Expr.Zeros(2, 3);
        Assert.Equal(new[] { 2, 3 }, z.Shape);
        Assert.Equal(DType.Float64, z.DType);
        Assert.All(z.Eval().ToArray(), v => Assert.Equal(0.0, v));
        var o = Expr.Ones([4], DType.Float32);
        Assert.Equal(DType.Float32, o.DType);
        Assert.All(o.Eval().ToArray(), v => Assert.Equal(1.0, v));
        var f = Expr.Full([2, 2], 7.5, DType.Float32);
        Assert.Equal(new[] { 7.5, 7.5, 7.5, 7.5 }, f.Eval().ToArray());
        Assert.Equal(new[] { 3.0, 3.0 }, Tensor.Full([2], 3.0).ToArray());

        var x32 = Tensor.FromArray(new[] { 1f, -2f, 3f }, 3, 1);
        foreach (var (like, value) in new[] { (Tensor.ZerosLike(x32), 0.0), (Tensor.OnesLike(x32), 1.0),
                                              (Expr.ZerosLike(x32).Eval(), 0.0), (Expr.OnesLike(x32).Eval(), 1.0) })
        {
            Assert.Equal(new[] { 3, 1 }, like.Shape);
            Assert.Equal(DType.Float32, like.DType);
            Assert.All(like.ToArray(), v => Assert.Equal(value, v));
        }
        // a like-constant has no path to its model: d/dx Σ 3x·ones_like(x) is 3, and Σ zeros_like(x) has gradient 0
        var x = T([4], 2);
        Assert.All(Diff.Grad(v => (3.0 * v * Expr.OnesLike(v)).Sum())(x).Eval().ToArray(), g => Assert.Equal(3.0, g));
        Assert.All(Diff.Grad(v => (v + Expr.ZerosLike(v * v)).Sum())(x).Eval().ToArray(), g => Assert.Equal(1.0, g));
        var bad = Assert.ThrowsAny<ArgumentException>(() => Expr.Zeros(2, -1));
        Assert.StartsWith("Zeros: ", bad.Message);
    }

    // The reference for torch.max(dim)/min(dim): a loop over rows, the first extreme (or first NaN) wins.
    static (double[] Values, double[] Indices) RowExtremes(double[] data, int rows, int columns, bool max)
    {
        var values = new double[rows];
        var indices = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            int best = 0;
            for (int c = 1; c < columns; c++)
            {
                double v = data[r * columns + c], b = data[r * columns + best];
                if (double.IsNaN(b)) break;
                if (double.IsNaN(v) || (max ? v > b : v < b)) best = c;
            }
            values[r] = data[r * columns + best];
            indices[r] = best;
        }
        return (values, indices);
    }

    [Theory]
    [InlineData(true, DType.Float64)]
    [InlineData(false, DType.Float64)]
    [InlineData(true, DType.Float32)]
    [InlineData(false, DType.Float32)]
    public void MaxAndMinWithIndicesAreTorchsMaxAndMinOverADim(bool max, DType dtype)
    {
        // ties (row 1), a NaN after a number (row 2), negative values (row 3)
        var data = new[] { 0.5, 2, -1, 2, 3, 3, 1, 3, 1, double.NaN, 7, 2, -4, -9, -0.5, -9 };
        var t = Tensor.FromArray(data, 4, 4).Cast(dtype);
        var (values, indices) = max ? t.MaxWithIndices(1) : t.MinWithIndices(1);
        var expected = RowExtremes(t.ToArray(), 4, 4, max);
        Assert.Equal(expected.Values, values.ToArray());
        Assert.Equal(expected.Indices, indices.ToArray());
        Assert.Equal(dtype, values.DType);
        Assert.Equal(dtype, indices.DType);
        // keepDims and a negative axis; axis 0 is the reference on the transpose
        var (kept, keptIndices) = max ? t.MaxWithIndices(-1, keepDims: true) : t.MinWithIndices(-1, keepDims: true);
        Assert.Equal(new[] { 4, 1 }, kept.Shape);
        Assert.Equal(expected.Indices, keptIndices.ToArray());
        var (columns, columnIndices) = max ? t.MaxWithIndices(0) : t.MinWithIndices(0);
        var byColumn = RowExtremes(t.Transpose().ToArray(), 4, 4, max);
        Assert.Equal(byColumn.Values, columns.ToArray());
        Assert.Equal(byColumn.Indices, columnIndices.ToArray());
        // the values agree with amax/amin wherever no NaN is involved
        var amax = max ? t.Max(1) : t.Min(1);
        Assert.Equal(amax.ToArray()[0], values.ToArray()[0]);
    }

    [Fact]
    public void MaxWithIndicesSendsTheDerivativeToThePickedEntryAsTorch()
    {
        // row 0 has a tie: torch's max(dim) gives the whole cotangent to the first, amax splits it
        var data = new[] { 2.0, 1, 2, -1, 0.5, 4 };
        var x = Tensor.FromArray(data, 2, 3);
        var weights = Tensor.FromArray(new[] { 3.0, -2.0 });
        var g = Diff.Grad(v => (v.MaxWithIndices(1).Values * weights).Sum())(x).Eval().ToArray();
        Assert.Equal(new[] { 3.0, 0, 0, 0, 0, -2 }, g);
        var gMin = Diff.Grad(v => (v.MinWithIndices(1).Values * weights).Sum())(x).Eval().ToArray();
        Assert.Equal(new[] { 0.0, 3, 0, -2, 0, 0 }, gMin);
        var gAmax = Diff.Grad(v => (v.Max(1) * weights).Sum())(x).Eval().ToArray();
        Assert.Equal(new[] { 1.5, 0, 1.5, 0, 0, -2 }, gAmax);
        // away from ties the values are smooth: central differences of the row maximum
        var y = T([3, 4], 5);
        Func<Expr, Expr> f = v => (v.MaxWithIndices(0).Values.Square() * Tensor.FromArray(new[] { 1.0, 2, 3, 4 })).Sum();
        Close(NumericGradient(f, y), Diff.Grad(f)(y).Eval().ToArray());
        // the indices carry no derivative
        Assert.All(Diff.Grad(v => v.MaxWithIndices(1).Indices.Sum())(x).Eval().ToArray(), d => Assert.Equal(0.0, d));
        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).MaxWithIndices(2));
        Assert.StartsWith("MaxWithIndices: ", e.Message);
        Assert.StartsWith("MinWithIndices: ", Assert.ThrowsAny<ArgumentException>(() => Tensor.Zeros(2, 0).MinWithIndices(1)).Message);
        // a scalar has axis 0 (or −1) only, as torch wraps its dim (ScalarAxisTests holds that case)
        Assert.Contains("scalar", Assert.ThrowsAny<ArgumentException>(() => Tensor.Scalar(3).MaxWithIndices(1)).Message);
    }

    [Fact]
    public void ReductionsTakeTorchsPositionalDimAndKeepdim()
    {
        // x.sum(1, True) in torch is x.Sum(1, true) here: the names are axis/keepDims, the positions torch's
        var t = T([2, 3], 3);
        var d = t.ToArray();
        double[] rowSums = [d[0] + d[1] + d[2], d[3] + d[4] + d[5]];
        Assert.Equal(rowSums, t.Sum(1, true).ToArray());
        Assert.Equal(new[] { 2, 1 }, t.Sum(1, true).Shape);
        Assert.Equal(rowSums, ((Expr)t).Sum(1, true).Eval().ToArray());
        Assert.Equal(new[] { 2, 1 }, t.Mean(1, true).Shape);
        Assert.Equal(new[] { 2, 1 }, t.Max(1, true).Shape);
        Assert.Equal(new[] { 1, 3 }, t.Min(0, true).Shape);
        Assert.Equal(new[] { 2, 1 }, t.Prod(-1, true).Shape);
        Assert.Equal(new[] { 2, 1 }, t.ArgMax(1, true).Shape);
        Assert.Equal(new[] { 2, 1 }, t.LogSumExp(1, true).Shape);
        Assert.Equal(new[] { 2, 1 }, t.Norm(2, 1, true).Shape);
    }

    // f(w, b) = Σ tanh(x w + b)² written with doubles: the reference the Hessian blocks are differenced from
    static double PlainLoss(double[] w, double[] b, double[] x)
    {
        double total = 0;
        for (int n = 0; n < 4; n++)
            for (int j = 0; j < 2; j++)
            {
                double z = b[j];
                for (int k = 0; k < 3; k++) z += x[n * 3 + k] * w[k * 2 + j];
                total += Math.Pow(Math.Tanh(z), 2) * (j + 1);
            }
        return total;
    }

    [Fact]
    public void HessianOfSeveralInputsGivesJaxsBlocks()
    {
        var x = T([4, 3], 7);
        var w = T([3, 2], 8);
        var b = T([2], 9);
        var scale = Tensor.FromArray(new[] { 1.0, 2.0 });
        Expr Loss(Expr[] p) => ((((Expr)x).MatMul(p[0]) + p[1]).Tanh().Square() * scale).Sum();
        var blocks = Diff.Hessian(Loss)([w, b]);
        Assert.Equal(2, blocks.Length);
        Assert.Equal(new[] { 3, 2, 3, 2 }, blocks[0][0].Shape);
        Assert.Equal(new[] { 3, 2, 2 }, blocks[0][1].Shape);
        Assert.Equal(new[] { 2, 3, 2 }, blocks[1][0].Shape);
        Assert.Equal(new[] { 2, 2 }, blocks[1][1].Shape);
        var values = Expr.EvalMany([.. blocks[0], .. blocks[1]]);

        // second central differences of the double-precision loss over the flat (w, b) vector
        var flat = w.ToArray().Concat(b.ToArray()).ToArray();
        double F(double[] p) => PlainLoss(p[..6], p[6..], x.ToArray());
        const double h = 1e-4;
        double Second(int i, int j)
        {
            double At(double si, double sj)
            {
                var p = (double[])flat.Clone();
                p[i] += si * h;
                p[j] += sj * h;
                return F(p);
            }
            return (At(1, 1) - At(1, -1) - At(-1, 1) + At(-1, -1)) / (4 * h * h);
        }
        int[] start = [0, 6], size = [6, 2];
        for (int bi = 0; bi < 2; bi++)
            for (int bj = 0; bj < 2; bj++)
            {
                var expected = new double[size[bi] * size[bj]];
                for (int i = 0; i < size[bi]; i++)
                    for (int j = 0; j < size[bj]; j++)
                        expected[i * size[bj] + j] = Second(start[bi] + i, start[bj] + j);
                Close(expected, values[bi * 2 + bj].ToArray(), 1e-5, $"block {bi},{bj}");
            }
        // one input: the blocks form is the one-input Hessian
        var single = Diff.Hessian((Expr[] p) => Loss([p[0], b]))([w]);
        Assert.Equal(Diff.Hessian(v => Loss([v, b]))(w).Eval().ToArray(), single[0][0].Eval().ToArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => Diff.Hessian((Expr[] p) => p[0] * p[1])([w, w]));
        Assert.StartsWith("Hessian: ", e.Message);
    }

    // clip_grad_norm_ written out: the norm of the per-tensor norms, the factor max/(norm + 1e-6) capped at 1
    static (double[][] Clipped, double Norm) ReferenceClip(double[][] gradients, double maxNorm)
    {
        double squares = 0;
        foreach (var g in gradients)
        {
            double own = g.Sum(v => v * v);
            squares += own;
        }
        double norm = Math.Sqrt(squares);
        double factor = Math.Min(maxNorm / (norm + 1e-6), 1.0);
        return (gradients.Select(g => g.Select(v => v * factor).ToArray()).ToArray(), norm);
    }

    [Theory]
    [InlineData(0.5)]
    [InlineData(1e3)]
    [InlineData(0.0)]
    public void ClipGradNormIsTorchsClipGradNorm(double maxNorm)
    {
        var gradients = Parameters.Of(("w", T([3, 2], 11)), ("b", T([2], 12)));
        var (clipped, norm) = Optimizer.ClipGradNorm(gradients, maxNorm);
        var (expected, expectedNorm) = ReferenceClip([gradients["w"].ToArray(), gradients["b"].ToArray()], maxNorm);
        Close(expectedNorm, norm, 1e-14);
        Close(expected[0], clipped["w"].ToArray(), 1e-14, "w");
        Close(expected[1], clipped["b"].ToArray(), 1e-14, "b");
        Assert.Equal(gradients.Names, clipped.Names);
        Assert.Equal(new[] { 3, 2 }, clipped["w"].Shape);
        double after = Math.Sqrt(clipped.Values.Sum(t => t.ToArray().Sum(v => v * v)));
        Assert.True(after <= maxNorm + 1e-12 || maxNorm >= expectedNorm, $"norm after clipping {after}");
    }

    [Fact]
    public void ClipGradNormKeepsTheDtypeAndPropagatesNaNAsTorch()
    {
        var g32 = Parameters.Of(("w", Tensor.FromArray(new[] { 3f, 4f })));
        var (clipped, norm) = Optimizer.ClipGradNorm(g32, 1.0);
        Assert.Equal(5.0, norm);
        Assert.Equal(DType.Float32, clipped["w"].DType);
        Assert.Equal(new[] { (double)(float)(3 * (float)(1 / (5 + 1e-6))), (double)(float)(4 * (float)(1 / (5 + 1e-6))) }, clipped["w"].ToArray());
        var (poisoned, nanNorm) = Optimizer.ClipGradNorm(Parameters.Of(("a", Tensor.FromArray(new[] { double.NaN, 1 })), ("b", Tensor.Ones(2))), 1.0);
        Assert.True(double.IsNaN(nanNorm));
        Assert.All(poisoned.Values.SelectMany(t => t.ToArray()), v => Assert.True(double.IsNaN(v)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.ClipGradNorm(g32, -1));
        Assert.Throws<ArgumentNullException>(() => Optimizer.ClipGradNorm((Parameters)null!, 1));
    }

    [Fact]
    public void IntAndBoolArraysBecomeFloat64TensorsExactly()
    {
        int[] labels = [3, -1, 0, int.MaxValue, int.MinValue, 7];
        var t = Tensor.FromArray(labels);
        Assert.Equal(DType.Float64, t.DType);
        Assert.Equal(new[] { 6 }, t.Shape);
        Assert.Equal(labels.Select(v => (double)v).ToArray(), t.ToArray());
        var m = Tensor.FromArray(labels, 2, 3);
        Assert.Equal(new[] { 2, 3 }, m.Shape);
        Assert.Equal((double)int.MaxValue, m[1, 0]);
        // a collection expression of int literals is an int[] now, so float64, as FromArray(new[] { 1.0, ... })
        Tensor fromLiterals = Tensor.FromArray([1, 2, 3]);
        Assert.Equal(DType.Float64, fromLiterals.DType);
        Assert.Equal(new[] { 1.0, 2, 3 }, fromLiterals.ToArray());
        var mask = Tensor.FromArray(new[] { true, false, true, true }, 2, 2);
        Assert.Equal(new[] { 1.0, 0, 1, 1 }, mask.ToArray());
        Assert.Equal(DType.Float64, mask.DType);
        // a mask from bools selects as the comparisons' masks do
        var x = Tensor.FromArray(new[] { 5.0, 6, 7, 8 }, 2, 2);
        Assert.Equal(new[] { 5.0, 0, 7, 8 }, Tensor.Where(mask, x, 0.0).ToArray());
        Assert.StartsWith("FromArray: ", Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(labels, 4, 2)).Message);
        Assert.Throws<ArgumentNullException>(() => Tensor.FromArray((int[])null!));
    }

    // torch.allclose written out: every pair close, or equal, or (with equalNan) both NaN
    static bool ReferenceAllClose(double[] a, double[] b, double rtol, double atol, bool equalNan)
    {
        for (int i = 0; i < a.Length; i++)
        {
            double x = a[i], y = b[i];
            bool close = x == y || Math.Abs(x - y) <= atol + rtol * Math.Abs(y) || (equalNan && double.IsNaN(x) && double.IsNaN(y));
            if (!close) return false;
        }
        return true;
    }

    [Theory]
    [InlineData(1.0, 1.0 + 1e-6, 1e-5, 1e-8, false)]
    [InlineData(1.0, 1.0 + 1e-4, 1e-5, 1e-8, false)]
    [InlineData(0.0, 1e-9, 0.0, 1e-8, false)]
    [InlineData(0.0, 1e-7, 0.0, 1e-8, false)]
    [InlineData(double.PositiveInfinity, double.PositiveInfinity, 1e-5, 1e-8, false)]
    [InlineData(double.PositiveInfinity, double.NegativeInfinity, 1e-5, 1e-8, false)]
    [InlineData(double.NaN, double.NaN, 1e-5, 1e-8, false)]
    [InlineData(double.NaN, double.NaN, 1e-5, 1e-8, true)]
    [InlineData(double.NaN, 1.0, 1e-5, 1e-8, true)]
    [InlineData(-2.0, -2.1, 0.1, 0.0, false)]
    public void AllCloseIsTorchsAllclose(double a, double b, double rtol, double atol, bool equalNan)
    {
        double[] left = [a, 0.5, -3], right = [b, 0.5, -3];
        bool expected = ReferenceAllClose(left, right, rtol, atol, equalNan);
        Assert.Equal(expected, Tensor.FromArray(left).AllClose(Tensor.FromArray(right), rtol, atol, equalNan));
    }

    [Fact]
    public void AllCloseBroadcastsAndNamesItselfInErrors()
    {
        var rows = Tensor.FromArray(new[] { 1.0, 2, 3, 1, 2, 3 }, 2, 3);
        Assert.True(rows.AllClose(Tensor.FromArray(new[] { 1.0, 2, 3 })));
        Assert.False(rows.AllClose(Tensor.FromArray(new[] { 1.0, 2, 3.001 })));
        Assert.True(Tensor.Zeros(0, 3).AllClose(Tensor.Ones(3)));
        // float32 against float64 compares in float64, as torch promotes
        Assert.True(Tensor.FromArray(new[] { 0.1f }).AllClose(Tensor.FromArray(new[] { 0.1 }), rtol: 1e-7));
        Assert.False(Tensor.FromArray(new[] { 0.1f }).AllClose(Tensor.FromArray(new[] { 0.1 }), rtol: 1e-9, atol: 0));
        Assert.StartsWith("AllClose: ", Assert.ThrowsAny<ArgumentException>(() => rows.AllClose(Tensor.Ones(2))).Message);
        Assert.ThrowsAny<ArgumentException>(() => rows.AllClose(rows, rtol: -1));
        // == is reference equality, as for Expr: two equal tensors are still two objects
        var copy = Tensor.FromArray(rows.ToArray(), rows.Shape);
        Assert.False(rows == copy);
        Assert.True(rows.AllClose(copy, 0, 0));
    }

    [Fact]
    public void CompoundAssignmentMakesANewTensorAndIndexErrorsNameTheIndexer()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2 });
        var alias = a;
        a += 1.0;   // C#'s a = a + 1: a new tensor, nothing written in place
        Assert.Equal(new[] { 2.0, 3 }, a.ToArray());
        Assert.Equal(new[] { 1.0, 2 }, alias.ToArray());
        a *= Tensor.FromArray(new[] { 10.0, 100 });
        Assert.Equal(new[] { 20.0, 300 }, a.ToArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => a[5]);
        Assert.StartsWith("Tensor[]: ", e.Message);
        Assert.Contains("[2]", e.Message);
    }

    // torch.linalg.vector_norm written out over the rows of a [rows, columns] array
    static double[] ReferenceRowNorms(double[] data, int rows, int columns, double p)
    {
        var norms = new double[rows];
        for (int r = 0; r < rows; r++)
        {
            var row = data.Skip(r * columns).Take(columns).Select(Math.Abs).ToArray();
            norms[r] = p == 0 ? row.Count(v => v != 0)
                     : double.IsPositiveInfinity(p) ? row.Max()
                     : double.IsNegativeInfinity(p) ? row.Min()
                     : Math.Pow(row.Sum(v => Math.Pow(v, p)), 1 / p);
        }
        return norms;
    }

    [Theory]
    [InlineData(3.0)]
    [InlineData(0.5)]
    [InlineData(1.5)]
    [InlineData(0.0)]
    [InlineData(double.NegativeInfinity)]
    public void NormTakesEveryPTorchTakes(double p)
    {
        var x = T([3, 4], 13);
        Close(ReferenceRowNorms(x.ToArray(), 3, 4, p), x.Norm(p, 1).ToArray(), 1e-14, $"p = {p} rows");
        Close(ReferenceRowNorms(x.ToArray(), 1, 12, p), [((Expr)x).Norm(p).Eval().Item()], 1e-14, $"p = {p} all");
        Assert.Equal(new[] { 3, 1 }, x.Norm(p, 1, keepDims: true).Shape);
        Assert.Equal(DType.Float32, x.Cast(DType.Float32).Norm(p).DType);
        // away from zero the norm is smooth in x (p = 0 is piecewise constant: derivative 0)
        Func<Expr, Expr> f = v => (v.Norm(p, 1) * Tensor.FromArray(new[] { 1.0, -2, 0.5 })).Sum();
        var gradient = Diff.Grad(f)(x).Eval().ToArray();
        if (p == 0) Assert.All(gradient, g => Assert.Equal(0.0, g));
        else Close(NumericGradient(f, x), gradient, 1e-6, $"p = {p} gradient");
    }

    [Fact]
    public void NormGradientIsZeroAtZeroAsTorchMasksIt()
    {
        // a zero row: every derivative 0; a zero entry in a nonzero row: 0 for p < 1 (torch's mask), the
        // closed form |x|^(p-1) sign(x) / norm^(p-1) elsewhere
        var x = Tensor.FromArray(new[] { 0.0, 0, 0, 0.0, 2, -1 }, 2, 3);
        foreach (var p in new[] { 0.5, 3.0 })
        {
            var g = Diff.Grad(v => v.Norm(p, 1).Sum())(x).Eval().ToArray();
            double norm = Math.Pow(Math.Pow(2, p) + 1, 1 / p);
            double[] expected = [0, 0, 0, 0, Math.Pow(2, p - 1) / Math.Pow(norm, p - 1), -1 / Math.Pow(norm, p - 1)];
            Close(expected, g, 1e-14, $"p = {p}");
        }
        // negative p, torch's too: (Σ|x|^p)^(1/p), 0 for the row holding 0 (|0|^p = +∞) with the derivative 0 there,
        // and for [0.5, 2, −1] at p = −2 the norm (4 + 1/4 + 1)^(−1/2) with the closed form above
        var rows = Tensor.FromArray(new[] { 0.0, 1, 3, 0.5, 2, -1 }, 2, 3);
        var negative = Diff.Grad(v => v.Norm(-2.0, 1).Sum())(rows).Eval().ToArray();
        double n2 = Math.Pow(4 + 0.25 + 1, -0.5);
        Close([0, 0, 0, Math.Pow(0.5, -3) / Math.Pow(n2, -3), Math.Pow(2, -3) / Math.Pow(n2, -3), -1 / Math.Pow(n2, -3)], negative, 1e-14, "p = -2");
        Close([0, n2], rows.Norm(-2.0, 1).ToArray(), 1e-15, "p = -2 values");
        Assert.StartsWith("Norm: ", Assert.ThrowsAny<ArgumentException>(() => x.Norm(double.NaN)).Message);
    }

    [Fact]
    public void TheUncompiledTorchStyleStepClipsSymbolicGradients()
    {
        // loss.backward(); clip_grad_norm_(model.parameters(), 1.0); opt.step(), uncompiled:
        // L = Σ (x w + b − y)², so ∂L/∂w = 2 xᵀ r and ∂L/∂b = 2 Σ r with r the residuals
        double[] xs = [0.5, -1, 2, 1.5, 0, -0.5], ys = [1, 2, -1];
        var x = Tensor.FromArray(xs, 3, 2);
        var y = Tensor.FromArray(ys, 3, 1);
        var model = Parameters.Of(("w", Tensor.FromArray(new[] { 0.3, -0.7 }, 2, 1)), ("b", Tensor.FromArray(new[] { 0.2 })));
        var sgd = new Sgd(model, lr: 0.1);
        var (loss, gradients) = Diff.ValueAndGrad(p => (((Expr)x).MatMul(p["w"]) + p["b"] - y).Square().Sum(), sgd.Parameters);
        var (clipped, norm) = Optimizer.ClipGradNorm(gradients, 1.0);
        sgd.Step(clipped);

        var r = Enumerable.Range(0, 3).Select(n => xs[2 * n] * 0.3 + xs[2 * n + 1] * -0.7 + 0.2 - ys[n]).ToArray();
        double[] gw = [2 * Enumerable.Range(0, 3).Sum(n => xs[2 * n] * r[n]), 2 * Enumerable.Range(0, 3).Sum(n => xs[2 * n + 1] * r[n])];
        double gb = 2 * r.Sum();
        double expectedNorm = Math.Sqrt(gw[0] * gw[0] + gw[1] * gw[1] + gb * gb);
        Close(r.Sum(v => v * v), loss.Eval().Item(), 1e-14, "loss");
        Close(expectedNorm, norm, 1e-14, "norm");
        Assert.True(expectedNorm > 1, "the gradient is clipped");
        double factor = 1.0 / (expectedNorm + 1e-6);
        Close(gw.Select(g => g * factor).ToArray(), clipped["w"].ToArray(), 1e-14, "w");
        Close([gb * factor], clipped["b"].ToArray(), 1e-14, "b");
        Close([0.3 - 0.1 * gw[0] * factor, -0.7 - 0.1 * gw[1] * factor], sgd.Parameters["w"].ToArray(), 1e-14, "w after the step");
        Assert.Throws<ArgumentNullException>(() => Optimizer.ClipGradNorm((IReadOnlyDictionary<string, Expr>)null!, 1));
    }

    [Fact]
    public void IntLabelsFromArrayServeCrossEntropyAndAccuracy()
    {
        // labels loaded as int[] and made a tensor, as torch.tensor(labels) would be: the Expr form of CrossEntropy
        // takes them as class indices, and accuracy compares them with the argmax
        int[] labels = [2, 0, 1, 1];
        var logits = T([4, 3], 17);
        var targets = Tensor.FromArray(labels);
        var l = logits.ToArray();
        double expected = 0;
        int correct = 0;
        for (int n = 0; n < 4; n++)
        {
            var row = l[(n * 3)..(n * 3 + 3)];
            expected += (Math.Log(row.Sum(Math.Exp)) - row[labels[n]]) / 4;
            if (Array.IndexOf(row, row.Max()) == labels[n]) correct++;
        }
        Close(expected, Loss.CrossEntropy(logits, targets).Eval().Item(), 1e-14, "cross-entropy of tensor labels");
        Close(expected, Loss.CrossEntropy(logits, labels).Eval().Item(), 1e-14, "cross-entropy of int[] labels");
        Assert.Equal(correct / 4.0, logits.ArgMax(1).Eq(targets).Mean().Item());
        Assert.Equal(correct / 4.0, logits.MaxWithIndices(1).Indices.Eq(targets).Mean().Item());
    }
}
