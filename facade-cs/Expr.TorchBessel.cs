using Build = FunctionalDiff.Core.ExprModule;
using CoreElementary = FunctionalDiff.Core.Elementary;

namespace FunctionalDiff;

// torch.special's Bessel functions of the first and second kind and the modified ones of the second kind, orders 0 and
// 1. Each is a float64 kernel (float32 is computed in float64 and rounded once); its derivative is written with these
// same functions, so it differentiates to any order, where torch's have no derivative at all.
public sealed partial class Expr
{
    /// <summary>
    /// J₀(x), the Bessel function of the first kind of order 0 (torch.special.bessel_j0): even, 1 at 0, 0 at ±∞ (the
    /// limit; torch gives NaN there). Its derivative is −J₁(x).
    /// </summary>
    public Expr BesselJ0() => Apply(Build.besselJ0);

    /// <summary>
    /// J₁(x), the Bessel function of the first kind of order 1 (torch.special.bessel_j1): odd, 0 at 0 and at ±∞ (torch:
    /// NaN). Its derivative is J₀(x) − J₁(x)/x, 1/2 at 0.
    /// </summary>
    public Expr BesselJ1() => Apply(Build.besselJ1);

    /// <summary>
    /// Y₀(x), the Bessel function of the second kind of order 0 (torch.special.bessel_y0), for x &gt; 0: −∞ at ±0, NaN
    /// below 0, 0 at +∞ (torch: NaN). Its derivative is −Y₁(x).
    /// </summary>
    public Expr BesselY0() => Apply(Build.besselY0);

    /// <summary>
    /// Y₁(x), the Bessel function of the second kind of order 1 (torch.special.bessel_y1), for x &gt; 0: −∞ at ±0 (and
    /// below about 6e-309, where −2/(πx) overflows), NaN below 0, 0 at +∞ (torch: NaN). Its derivative is Y₀(x) − Y₁(x)/x.
    /// </summary>
    public Expr BesselY1() => Apply(Build.besselY1);

    /// <summary>
    /// j₀(x) = sin(x)/x, the spherical Bessel function of the first kind of order 0 (torch.special.spherical_bessel_j0):
    /// even, 1 at 0 (its Maclaurin polynomial below |x| = 0.01, so every derivative there is the true one: slope 0,
    /// curvature −1/3), NaN at ±∞. Its derivative is (cos x − j₀(x))/x.
    /// </summary>
    public Expr SphericalBesselJ0() => Apply(CoreElementary.sphericalBesselJ0);

    /// <summary>
    /// I₀(x) under torch.special's other name, modified_bessel_i0: the same function as <see cref="I0"/>.
    /// </summary>
    public Expr ModifiedBesselI0() => I0();

    /// <summary>
    /// I₁(x) under torch.special's other name, modified_bessel_i1: the same function as <see cref="I1"/>.
    /// </summary>
    public Expr ModifiedBesselI1() => I1();

    /// <summary>
    /// K₀(x), the modified Bessel function of the second kind of order 0 (torch.special.modified_bessel_k0), for
    /// x &gt; 0: +∞ at ±0, NaN below 0, 0 at +∞ (it underflows from x ≈ 745). Its derivative is −K₁(x).
    /// </summary>
    public Expr ModifiedBesselK0() => Apply(Build.modifiedBesselK0);

    /// <summary>
    /// K₁(x), the modified Bessel function of the second kind of order 1 (torch.special.modified_bessel_k1), for
    /// x &gt; 0: +∞ at ±0, NaN below 0, 0 at +∞. Its derivative is −K₀(x) − K₁(x)/x.
    /// </summary>
    public Expr ModifiedBesselK1() => Apply(Build.modifiedBesselK1);

    /// <summary>
    /// eˣ·K₀(x) (torch.special.scaled_modified_bessel_k0), which never underflows (about √(π/(2x)) far out), for x &gt; 0:
    /// +∞ at ±0, NaN below 0, 0 at +∞. Its derivative is eˣK₀(x) − eˣK₁(x).
    /// </summary>
    public Expr ScaledModifiedBesselK0() => Apply(Build.scaledModifiedBesselK0);

    /// <summary>
    /// eˣ·K₁(x) (torch.special.scaled_modified_bessel_k1), for x &gt; 0: +∞ at ±0, NaN below 0, 0 at +∞. Its derivative
    /// is eˣK₁(x)·(1 − 1/x) − eˣK₀(x).
    /// </summary>
    public Expr ScaledModifiedBesselK1() => Apply(Build.scaledModifiedBesselK1);
}
