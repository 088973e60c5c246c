using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch.special's Bessel and normal-distribution functions, xlog1py, entr, multigammaln, gammainc, gammaincc and the
/// matrix exponential
/// through the facade: values against mpmath (mpmath 1.3 at 40 digits, rounded to float64: besseli, ncdf, log(ncdf),
/// exp(x²)·erfc(x)) and closed forms, derivatives nested through the C# API, and the errors.
/// </summary>
public class TorchSpecialFacadeTests
{
    static double At(Func<Expr, Expr> f, double x) => f(Tensor.FromArray(new[] { x })).Eval().ToDoubleArray()[0];

    static double Slope(Func<Expr, Expr> f, double x) => Diff.Grad(v => f(v).Sum())(Tensor.FromArray(new[] { x })).Eval().ToDoubleArray()[0];

    [Fact]
    public void ValuesMatchMpmathInTheTails()
    {
        Close(1.646723189772891, At(x => x.I0(), 1.5), 1e-15, "I₀(1.5)");
        Close(0.9816664285779075, At(x => x.I1(), 1.5), 1e-15, "I₁(1.5)");
        Close(0.9816664285779075 * Math.Exp(-1.5), At(x => x.I1e(), 1.5), 1e-15, "e^−1.5 I₁(1.5)");
        Close(0.0013498980316300946, At(x => x.Ndtr(), -3.0), 1e-15, "Φ(−3)");
        Close(-1254.8313611394199, At(x => x.LogNdtr(), -50.0), 1e-15, "log Φ(−50), where Φ is 1e-545");
        Close(0.17900115118138996, At(x => x.Erfcx(), 3.0), 1e-15, "erfcx(3)");
        Close(-3.0, At(x => x.Ndtr().Ndtri(), -3.0), 1e-14, "ndtri(ndtr(−3))");
        Assert.Equal(double.NegativeInfinity, At(x => x.Ndtri(), 0.0));
        Assert.Equal(double.PositiveInfinity, At(x => x.Ndtri(), 1.0));
        Assert.Equal(double.PositiveInfinity, At(x => x.I0(), 720.0));
    }

    [Fact]
    public void DerivativesNestThroughTheFacade()
    {
        // I₀′ = I₁; I₁′ = I₀ − I₁/x, 1/2 at 0, I₁‴(0) = 3/8 (I₁ = x/2 + x³/16 + …)
        Close(0.9816664285779075, Slope(x => x.I0(), 1.5), 1e-14, "I₀′(1.5) = I₁(1.5)");
        Close(1.646723189772891 - 0.9816664285779075 / 1.5, Slope(x => x.I1(), 1.5), 1e-14, "I₁′(1.5)");
        Close(0.5, Slope(x => x.I1(), 0.0), 1e-15, "I₁′(0)");
        Expr zero = Tensor.FromArray(new[] { 0.0 });
        var third = Diff.Grad(z => Diff.Grad(y => Diff.Grad(x => x.I1().Sum())(y).Sum())(z).Sum())(zero).Eval().ToDoubleArray()[0];
        Close(0.375, third, 1e-14, "I₁‴(0)");
        // ndtri′(p) = √(2π)·e^(ndtri(p)²/2): 1/φ(−3) at p = Φ(−3)
        Close(Math.Sqrt(2 * Math.PI) * Math.Exp(4.5), Slope(x => x.Ndtri(), 0.0013498980316300946), 1e-12, "ndtri′(Φ(−3))");
        // log Φ′(0) = φ(0)/Φ(0)
        Close(2 / Math.Sqrt(2 * Math.PI), Slope(x => x.LogNdtr(), 0.0), 1e-15, "log Φ′(0)");
        Close(-(1 + Math.Log(0.25)), Slope(x => x.Entr(), 0.25), 1e-15, "entr′(1/4)");
    }

    [Fact]
    public void Xlog1pyEntrAndMultigammalnFollowTorchsConventions()
    {
        Expr x = Tensor.FromArray(new[] { 0.0, 2.0, 0.0 });
        Expr y = Tensor.FromArray(new[] { -1.0, 1e-20, double.NaN });
        var values = Expr.Xlog1py(x, y).Eval().ToDoubleArray();
        Assert.Equal(0.0, values[0]);
        // relative: x·log(1 + y) would give 0 here
        Close(1.0, values[1] / 2e-20, 1e-15, "2·log1p(1e-20), relative");
        Assert.True(double.IsNaN(values[2]));
        var entr = ((Expr)Tensor.FromArray(new[] { 0.0, -1.0, 0.5 })).Entr().Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, double.NegativeInfinity }, entr[..2]);
        Close(0.5 * Math.Log(2), entr[2], 1e-15, "−½ ln ½");
        // Γ₂(2) = √π·Γ(2)·Γ(3/2) = π/2
        Close(Math.Log(Math.PI / 2), At(a => a.Multigammaln(2), 2.0), 1e-15, "log Γ₂(2)");
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.FromArray(new[] { 2.0 })).Multigammaln(0));
        Assert.Contains("Multigammaln", error.Message);
    }

    [Fact]
    public void GammaincAndGammainccThroughTheFacade()
    {
        // P(1, x) = 1 − e^−x and Q(1, x) = e^−x, Q kept where 1 − P is 0; P(2, x) = 1 − (1 + x)e^−x
        Expr a = Tensor.FromArray(new[] { 1.0, 1.0, 2.0 });
        Expr x = Tensor.FromArray(new[] { 0.5, 700.0, 3.0 });
        var p = Expr.Gammainc(a, x).Eval().ToDoubleArray();
        var q = Tensor.Gammaincc(Tensor.FromArray(new[] { 1.0, 1.0, 2.0 }), Tensor.FromArray(new[] { 0.5, 700.0, 3.0 })).ToDoubleArray();
        Close(1 - Math.Exp(-0.5), p[0], 1e-15, "P(1, 0.5)");
        Assert.Equal(1.0, p[1]);
        Close(Math.Exp(-700.0), q[1], 1e-13, "Q(1, 700)");
        Close(1 - 4 * Math.Exp(-3.0), p[2], 1e-15, "P(2, 3)");
        // ∂P/∂x = x^(a−1)·e^−x/Γ(a): 3e^−3 at (2, 3); the facade broadcasts a number for a
        var slope = Diff.Grad(v => Expr.Gammainc(2.0, v).Sum())(Tensor.FromArray(new[] { 3.0 })).Eval().ToDoubleArray()[0];
        Close(3 * Math.Exp(-3.0), slope, 1e-14, "∂P(2, x)/∂x at 3");
        // torch has no derivative in a, and neither do we: the transform says so, naming the op
        var error = Assert.Throws<NotSupportedException>(() => Diff.Grad(s => Expr.Gammaincc(s, 1.5).Sum())(Tensor.FromArray(new[] { 2.0 })));
        Assert.Contains("Gammaincc", error.Message);
    }

    [Fact]
    public void ZetaThroughTheFacade()
    {
        // Riemann's ζ(2) = π²/6 at q = 1, ζ(2, 2) = π²/6 − 1, and ∂ζ(2, q)/∂q = −2ζ(3, q), ζ(3) = 1.2020569031595942 (Apéry)
        var values = Tensor.Zeta(Tensor.FromArray(new[] { 2.0, 2.0 }), Tensor.FromArray(new[] { 1.0, 2.0 })).ToDoubleArray();
        Close(Math.PI * Math.PI / 6, values[0], 1e-15, "ζ(2)");
        Close(Math.PI * Math.PI / 6 - 1, values[1], 1e-15, "ζ(2, 2)");
        var slope = Diff.Grad(q => Expr.Zeta(2.0, q).Sum())(Tensor.FromArray(new[] { 1.0 })).Eval().ToDoubleArray()[0];
        Close(-2 * 1.2020569031595942, slope, 1e-14, "∂ζ(2, q)/∂q at 1");
        var error = Assert.Throws<NotSupportedException>(() => Diff.Grad(s => Expr.Zeta(s, 1.0).Sum())(Tensor.FromArray(new[] { 2.0 })));
        Assert.Contains("Zeta", error.Message);
    }

    [Fact]
    public void MatrixExpOfARotationGeneratorAndItsGradient()
    {
        Expr generator = Tensor.FromArray(new[] { 0.0, -3.0, 3.0, 0.0 }, new[] { 2, 2 });
        var rotation = generator.MatrixExp().Eval().ToDoubleArray();
        var expected = new[] { Math.Cos(3), -Math.Sin(3), Math.Sin(3), Math.Cos(3) };
        for (var i = 0; i < 4; i++) Close(expected[i], rotation[i], 1e-14, $"entry {i}");
        // ∂ tr(e^A)/∂A = (e^A)ᵀ
        var gradient = Diff.Grad(a => a.MatrixExp().Diagonal().Sum())(generator).Eval().ToDoubleArray();
        var transposed = new[] { expected[0], expected[2], expected[1], expected[3] };
        for (var i = 0; i < 4; i++) Close(transposed[i], gradient[i], 1e-14, $"gradient entry {i}");
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.FromArray(new[] { 1.0, 2.0 })).MatrixExp());
        Assert.Contains("MatrixExp", error.Message);
    }
}
