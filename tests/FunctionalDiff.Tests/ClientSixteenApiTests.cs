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
