using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch.special's Bessel functions through the facade: values against mpmath (mpmath 1.3 at 50 digits, rounded to
/// float64: besselj, bessely, besselk, exp(x)·besselk), torch's edge values, derivatives nested through the C# API, the
/// Tensor mirrors and the modified_bessel_i0/i1 aliases.
/// </summary>
public class TorchBesselFacadeTests
{
    static double At(Func<Expr, Expr> f, double x) => f(Tensor.FromArray(new[] { x })).Eval().ToDoubleArray()[0];

    static double Slope(Func<Expr, Expr> f, double x) => Diff.Grad(v => f(v).Sum())(Tensor.FromArray(new[] { x })).Eval().ToDoubleArray()[0];

    [Fact]
    public void ValuesMatchMpmath()
    {
        Close(0.1468840547004211, At(x => x.BesselJ0(), -12.5), 1e-14, "J₀(−12.5)");
        Close(0.004728311907089524, At(x => x.BesselJ1(), 1000.0), 1e-14, "J₁(1000)");
        Close(-0.44451873350670656, At(x => x.BesselY0(), 0.5), 1e-14, "Y₀(0.5)");
        Close(0.08442557066174723, At(x => x.BesselY1(), 30.0), 1e-14, "Y₁(30)");
        Close(1.0, At(x => x.ModifiedBesselK0(), 50.0) / 3.4101677497894956e-23, 1e-14, "K₀(50) = 3.41e-23, relative");
        Close(0.6008854108196824, At(x => x.ModifiedBesselK1(), 1.001), 1e-14, "K₁(1.001)");
        Close(0.012532984717699286, At(x => x.ScaledModifiedBesselK0(), 1e4), 1e-14, "e^1e4·K₀(1e4), where K₀ underflows");
        Close(1.6372990143017028, At(x => x.ScaledModifiedBesselK1(), 0.999), 1e-14, "e^0.999·K₁(0.999)");
    }

    [Fact]
    public void EdgeValuesAreTorchsAtZeroAndBelowAndTheLimitsAtInfinity()
    {
        Assert.Equal(double.NegativeInfinity, At(x => x.BesselY0(), 0.0));
        Assert.True(double.IsNaN(At(x => x.BesselY1(), -1.0)));
        Assert.Equal(double.PositiveInfinity, At(x => x.ModifiedBesselK1(), 0.0));
        Assert.True(double.IsNaN(At(x => x.ScaledModifiedBesselK0(), -1.0)));
        Assert.Equal(0.0, At(x => x.BesselJ0(), double.PositiveInfinity));
        Assert.Equal(0.0, At(x => x.ModifiedBesselK0(), double.PositiveInfinity));
    }

    [Fact]
    public void DerivativesNestThroughTheFacade()
    {
        // J₁ = x/2 − x³/16 + …: J₁′(0) = 1/2, J₁‴(0) = −3/8; J₀′ = −J₁; K₀′ = −K₁ (mpmath's J₁(2), K₁(2))
        Close(0.5, Slope(x => x.BesselJ1(), 0.0), 1e-15, "J₁′(0)");
        Expr zero = Tensor.FromArray(new[] { 0.0 });
        var third = Diff.Grad(z => Diff.Grad(y => Diff.Grad(x => x.BesselJ1().Sum())(y).Sum())(z).Sum())(zero).Eval().ToDoubleArray()[0];
        Close(-0.375, third, 1e-14, "J₁‴(0)");
        Close(-0.5767248077568734, Slope(x => x.BesselJ0(), 2.0), 1e-14, "J₀′(2) = −J₁(2)");
        Close(-0.13986588181652243, Slope(x => x.ModifiedBesselK0(), 2.0), 1e-14, "K₀′(2) = −K₁(2)");
    }

    [Fact]
    public void SphericalBesselJ0IsSinOverXWithItsLimitsAtZero()
    {
        // sin(x)/x in float64 away from 0; at 1e6 the argument is read as is (sinc(x/π) would round x/π: 1e-4 off)
        foreach (var x in new[] { 0.3, -2.0, 7.5, 1e6 })
            Close(1.0, At(v => v.SphericalBesselJ0(), x) / (Math.Sin(x) / x), 1e-15, $"j₀({x}) relative");
        Assert.Equal(1.0, At(v => v.SphericalBesselJ0(), 0.0));
        // j₀ = 1 − x²/6 + x⁴/120: slope 0 and curvature −1/3 at 0; j₀′(2) = (cos 2 − sin 2/2)/2
        Close(0.0, Slope(v => v.SphericalBesselJ0(), 0.0), 1e-15, "j₀′(0)");
        Expr zero = Tensor.FromArray(new[] { 0.0 });
        var curvature = Diff.Grad(y => Diff.Grad(x => x.SphericalBesselJ0().Sum())(y).Sum())(zero).Eval().ToDoubleArray()[0];
        Close(-1.0 / 3.0, curvature, 1e-14, "j₀″(0)");
        Close((Math.Cos(2.0) - Math.Sin(2.0) / 2.0) / 2.0, Slope(v => v.SphericalBesselJ0(), 2.0), 1e-15, "j₀′(2)");
    }

    [Fact]
    public void TensorMirrorsAndAliasesAgreeWithTheExprForms()
    {
        var points = new[] { 0.3, 1.0, 9.0, 40.0 };
        var t = Tensor.FromArray(points);
        Expr e = t;
        (Func<Tensor, Tensor> eager, Func<Expr, Expr> symbolic)[] pairs =
        [
            (v => v.BesselJ0(), v => v.BesselJ0()), (v => v.BesselJ1(), v => v.BesselJ1()),
            (v => v.BesselY0(), v => v.BesselY0()), (v => v.BesselY1(), v => v.BesselY1()),
            (v => v.ModifiedBesselK0(), v => v.ModifiedBesselK0()), (v => v.ModifiedBesselK1(), v => v.ModifiedBesselK1()),
            (v => v.ScaledModifiedBesselK0(), v => v.ScaledModifiedBesselK0()), (v => v.ScaledModifiedBesselK1(), v => v.ScaledModifiedBesselK1()),
            (v => v.SphericalBesselJ0(), v => v.SphericalBesselJ0()),
        ];
        foreach (var (eager, symbolic) in pairs)
            Assert.Equal(symbolic(e).Eval().ToDoubleArray(), eager(t).ToDoubleArray());
        Assert.Equal(e.I0().Eval().ToDoubleArray(), e.ModifiedBesselI0().Eval().ToDoubleArray());
        Assert.Equal(e.I1().Eval().ToDoubleArray(), e.ModifiedBesselI1().Eval().ToDoubleArray());
    }
}
