using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the sixteenth porting client added beside multi-head attention, each against torch's definition written here:
/// <c>fill_diagonal_</c> (<c>FillDiagonal</c> on Expr and Tensor) and <c>clip_grad_norm_</c>'s <c>norm_type</c>.
/// Bincount is in <see cref="ClientSixteenGcnTests"/>.
/// </summary>
public class ClientSixteenApiTests
{
    [Theory]
    [InlineData(new[] { 3, 3 })]
    [InlineData(new[] { 2, 4 })]
    [InlineData(new[] { 4, 2 })]
    [InlineData(new[] { 3, 3, 3 })]
    public void FillDiagonalIsTorchsAndPassesNoDerivativeThere(int[] shape)
    {
        var x = T(shape);
        var v = x.ToDoubleArray();
        var expected = (double[])v.Clone();
        var onDiagonal = new bool[v.Length];
        for (int i = 0; i < shape.Min(); i++)
        {
            // (i, ..., i) in row-major order
            int flat = 0;
            foreach (var d in shape) flat = flat * d + i;
            expected[flat] = -7.5;
            onDiagonal[flat] = true;
        }
        Assert.Equal(expected, x.FillDiagonal(-7.5).ToDoubleArray());
        Assert.Equal(expected, ((Expr)x).FillDiagonal(-7.5).Eval().ToDoubleArray());
        // Σ c ⊙ fill_diagonal(x): c off the diagonal, 0 on it
        var c = T(shape, 3);
        var g = Diff.Grad(a => (a.FillDiagonal(2.0) * c).Sum())(x).Eval().ToDoubleArray();
        Assert.Equal(c.ToDoubleArray().Select((cv, k) => onDiagonal[k] ? 0.0 : cv).ToArray(), g);
    }

    [Fact]
    public void FillDiagonalRefusesWhatTorchRefuses()
    {
        Assert.StartsWith("FillDiagonal: needs a matrix", Assert.ThrowsAny<ArgumentException>(() => ((Expr)T([4])).FillDiagonal(0)).Message);
        var e = Assert.ThrowsAny<ArgumentException>(() => T([2, 3, 3]).FillDiagonal(0));
        Assert.StartsWith("FillDiagonal: ", e.Message);
        Assert.Contains("[2,3,3]", e.Message);
    }

    [Fact]
    public void MaskedSelectIsTorchsBooleanIndexing()
    {
        var x = T([2, 3]);
        var v = x.ToDoubleArray();
        bool[] keep = [true, false, true, false, false, true];
        Assert.Equal(v.Where((_, i) => keep[i]).ToArray(), x.MaskedSelect(Tensor.FromArray(keep, 2, 3)).ToDoubleArray());
        // the mask broadcasts: a row mask [3] picks those columns of every row, row by row
        bool[] columns = [false, true, true];
        Assert.Equal(v.Where((_, i) => columns[i % 3]).ToArray(), x.MaskedSelect(Tensor.FromArray(columns, 3)).ToDoubleArray());
        // a comparison is a mask; an empty selection has shape [0]; float32 stays float32
        Assert.Equal(v.Where(e => e > 0).ToArray(), x.MaskedSelect(x > 0.0).ToDoubleArray());
        Assert.Equal(new[] { 0 }, x.MaskedSelect(Tensor.Zeros(2, 3)).Shape);
        Assert.Equal(DType.Float32, x.To(DType.Float32).MaskedSelect(Tensor.FromArray(keep, 2, 3)).DType);
        // masked accuracy over the nodes a mask picks, as torch's (pred[mask] == y[mask]).float().mean()
        var pred = Tensor.FromArray([0.0, 1, 1, 0, 1]);
        var y = Tensor.FromArray([0.0, 1, 0, 1, 1]);
        var mask = Tensor.FromArray([true, true, true, false, false], 5);
        Close(2.0 / 3.0, pred.MaskedSelect(mask).Eq(y.MaskedSelect(mask)).Mean().Item(), 1e-15, "accuracy");
        var e = Assert.ThrowsAny<ArgumentException>(() => x.MaskedSelect(Tensor.FromArray(keep, 6)));
        Assert.StartsWith("MaskedSelect: ", e.Message);
        Assert.Contains("[2,3]", e.Message);
    }

    [Fact]
    public void ClipGradNormTakesTorchsNormType()
    {
        var gradients = Parameters.Of(("w", T([2, 3], 1)), ("b", T([3], 2)));
        var w = gradients["w"].ToDoubleArray();
        var b = gradients["b"].ToDoubleArray();
        foreach (var p in new[] { 1.0, 2.0, 3.0, double.PositiveInfinity })
        {
            // torch: the p-norm of the per-tensor p-norms; the factor maxNorm / (total + 1e-6) capped at 1
            double Norm(IEnumerable<double> xs) => double.IsPositiveInfinity(p)
                ? xs.Max(Math.Abs)
                : Math.Pow(xs.Sum(x => Math.Pow(Math.Abs(x), p)), 1 / p);
            double total = Norm([Norm(w), Norm(b)]);
            double factor = Math.Min(0.5 / (total + 1e-6), 1.0);
            var (clipped, reported) = Optimizer.ClipGradNorm(gradients, 0.5, p);
            Close(total, reported, 1e-14, $"norm {p}");
            Close(w.Select(x => x * factor).ToArray(), clipped["w"].ToDoubleArray(), 1e-14, $"w {p}");
            Close(b.Select(x => x * factor).ToArray(), clipped["b"].ToDoubleArray(), 1e-14, $"b {p}");
        }
        // the default stays the 2-norm
        Assert.Equal(Optimizer.ClipGradNorm(gradients, 0.5, 2.0).TotalNorm, Optimizer.ClipGradNorm(gradients, 0.5).TotalNorm);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Optimizer.ClipGradNorm(gradients, 0.5, 0.0));
        Assert.Equal("normType", e.ParamName);
        Assert.StartsWith("ClipGradNorm: normType = 0", e.Message);
    }
}
