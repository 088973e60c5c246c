using Build = FunctionalDiff.Core.ExprModule;
using CoreElementary = FunctionalDiff.Core.Elementary;
using CoreLinalg = FunctionalDiff.Core.Linalg;

namespace FunctionalDiff;

// torch.special's Bessel, normal-distribution and entropy functions, and torch.linalg.matrix_exp. Each is accurate to a
// few ulp in float64 over its whole range (float32 is computed in float64 and rounded once), and its derivative is
// written with these same operations, so it differentiates to any order.
public sealed partial class Expr
{
    /// <summary>
    /// I₀(x), the modified Bessel function of the first kind of order 0 (torch.i0, torch.special.i0): even, 1 at 0,
    /// +∞ from |x| ≈ 713.99 on (float64; 88.4 in float32) and at ±∞. Its derivative is <see cref="I1"/>.
    /// </summary>
    public Expr I0() => Apply(Build.i0);

    /// <summary>
    /// e^−|x|·I₀(x) (torch.special.i0e), which never overflows: 1 at 0, about 1/√(2π|x|) far out, 0 at ±∞. Its
    /// derivative is i1e(x) − sign(x)·i0e(x) (0 at x = 0, torch's convention at the kink of e^−|x|).
    /// </summary>
    public Expr I0e() => Apply(Build.i0e);

    /// <summary>
    /// I₁(x), the modified Bessel function of the first kind of order 1 (torch.special.i1): odd, 0 at 0, ±∞ from
    /// |x| ≈ 713.99 on. Its derivative is I₀(x) − I₁(x)/x, 1/2 at 0.
    /// </summary>
    public Expr I1() => Apply(Build.i1);

    /// <summary>
    /// e^−|x|·I₁(x) (torch.special.i1e), which never overflows: odd, ±0 at ±0 and ±∞. Its derivative is
    /// i0e(x) − i1e(x)·(sign(x) + 1/x), 1/2 at 0.
    /// </summary>
    public Expr I1e() => Apply(Build.i1e);

    /// <summary>
    /// The scaled complementary error function e^{x²}·erfc(x) (torch.special.erfcx), accurate where erfc underflows
    /// (about 1/(x√π) for large x): 1 at 0, 0 at +∞, +∞ below x ≈ −26.64 (float64). Its derivative is
    /// 2x·erfcx(x) − 2/√π, torch's form (NaN at +∞).
    /// </summary>
    public Expr Erfcx() => Apply(Build.erfcx);

    /// <summary>
    /// Φ(x), the standard normal distribution function (torch.special.ndtr): 0 at −∞, 1/2 at 0, 1 at +∞, with full
    /// relative accuracy in the left tail down to the subnormals (Φ(−37) ≈ 5.7e-300). Its derivative is the density
    /// φ(x) = e^(−x²/2)/√(2π).
    /// </summary>
    public Expr Ndtr() => Apply(Build.ndtr);

    /// <summary>
    /// log Φ(x), the logarithm of the standard normal distribution function (torch.special.log_ndtr), accurate far in
    /// the left tail where Φ underflows (about −x²/2 − log(−x√(2π)): −5005.52 at x = −100): −∞ at −∞, 0 at +∞. Its
    /// derivative φ(x)/Φ(x) is computed without the underflowing ratio (about −x in the left tail).
    /// </summary>
    public Expr LogNdtr() => Apply(Build.logNdtr);

    /// <summary>
    /// Φ⁻¹(p), the standard normal quantile function (torch.special.ndtri): −∞ at 0, +∞ at 1, NaN outside [0, 1] and
    /// at NaN; accurate in both tails (ndtri(1e-300) ≈ −37.047) and near 1/2. Its derivative is
    /// √(2π)·e^(ndtri(p)²/2), +∞ at 0 and 1.
    /// </summary>
    public Expr Ndtri() => Apply(Build.ndtri);

    /// <summary>
    /// x·log(1 + y) (torch.special.xlog1py), broadcast together, accurate for y near 0, and 0 where x = 0 unless y is
    /// NaN (as <see cref="Xlogy"/>). Derivatives as torch's: log(1 + y) for x (0 where x = 0 and y ≤ −1) and
    /// x/(1 + y) for y (NaN at x = 0, y = −1).
    /// </summary>
    /// <param name="x">The factor.</param>
    /// <param name="y">The argument of log(1 + y).</param>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    public static Expr Xlog1py(Expr x, Expr y) { var (a, b) = Align(x, y); return Wrap(CoreElementary.xlog1py(a, b)); }

    /// <summary>
    /// The regularized lower incomplete gamma function P(a, x) = γ(a, x)/Γ(a) = (1/Γ(a))∫₀ˣ t^(a−1)e^(−t) dt
    /// (torch.special.gammainc, torch.igamma), broadcast together, accurate to a few ulp in float64 where it is small as
    /// well as near 1 (float32 is computed in float64 and rounded once). The edges are torch's: NaN for a &lt; 0 or
    /// x &lt; 0; at a = 0, 1 for x &gt; 0 and NaN at x = 0; 0 at x = 0; 1 at x = +∞; at a = +∞, 0 (NaN for x = +∞).
    /// Differentiable in <paramref name="x"/> only, as in torch: ∂P/∂x = x^(a−1)·e^(−x)/Γ(a) (1 at x = 0 for a = 1,
    /// where torch's formula gives NaN), to any order.
    /// </summary>
    /// <param name="a">The shape parameter, at least 0. It must be data: its derivative is not implemented.</param>
    /// <param name="x">The upper limit of integration, at least 0.</param>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    /// <exception cref="NotSupportedException">When differentiated with respect to <paramref name="a"/> (raised by the
    /// transform, as torch raises).</exception>
    public static Expr Gammainc(Expr a, Expr x) { var (p, q) = Align(a, x); return Wrap(Build.gammainc(p, q)); }

    /// <summary>
    /// The regularized upper incomplete gamma function Q(a, x) = 1 − P(a, x) = Γ(a, x)/Γ(a) (torch.special.gammaincc,
    /// torch.igammac), broadcast together, with full relative accuracy in its right tail (Q(1, 700) ≈ 9.86e-305),
    /// where 1 − <see cref="Gammainc"/> would be 0. Edges mirror P's: at a = 0, 0 for x &gt; 0; 1 at x = 0; 0 at x = +∞;
    /// at a = +∞, 1. Differentiable in <paramref name="x"/> only: ∂Q/∂x = −x^(a−1)·e^(−x)/Γ(a).
    /// </summary>
    /// <param name="a">The shape parameter, at least 0. It must be data: its derivative is not implemented.</param>
    /// <param name="x">The lower limit of integration, at least 0.</param>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    /// <exception cref="NotSupportedException">When differentiated with respect to <paramref name="a"/>.</exception>
    public static Expr Gammaincc(Expr a, Expr x) { var (p, q) = Align(a, x); return Wrap(Build.gammaincc(p, q)); }

    /// <summary>
    /// The Hurwitz zeta function ζ(s, q) = Σₖ₌₀^∞ (q + k)^(−s) (torch.special.zeta), broadcast together; ζ(s, 1) is Riemann's
    /// zeta. Accurate to a few ulp in float64 (float32 computed in float64 and rounded once). Edges are torch's: +∞ at s = 1
    /// and NaN below; for q ≤ 0, +∞ at the poles q = 0, −1, … and NaN unless s is an integer. Differentiable in
    /// <paramref name="q"/> only, as in torch: ∂ζ/∂q = −s·ζ(s + 1, q), to any order.
    /// </summary>
    /// <param name="s">The exponent, above 1. It must be data: its derivative is not implemented.</param>
    /// <param name="q">The offset.</param>
    /// <exception cref="ArgumentException">The shapes do not broadcast together.</exception>
    /// <exception cref="NotSupportedException">When differentiated with respect to <paramref name="s"/>.</exception>
    public static Expr Zeta(Expr s, Expr q) { var (a, b) = Align(s, q); return Wrap(Build.zeta(a, b)); }

    /// <summary>
    /// The elementwise entropy term −x·ln x (torch.special.entr): 0 at 0, −∞ for x &lt; 0, NaN at NaN. Its derivative
    /// is torch's −(1 + ln x): +∞ at 0 and NaN below 0.
    /// </summary>
    public Expr Entr() => Apply(CoreElementary.entr);

    /// <summary>
    /// The log of the multivariate gamma function of dimension p, Σⱼ₌₀^{p−1} lgamma(a − j/2) + p(p − 1)/4·ln π
    /// (torch.special.multigammaln, torch.mvlgamma), elementwise. torch raises unless every element exceeds (p − 1)/2;
    /// a graph cannot check values, so below that the terms are lgamma's (+∞ at its poles).
    /// </summary>
    /// <param name="p">The dimension, at least 1.</param>
    /// <exception cref="ArgumentException">p is below 1.</exception>
    public Expr Multigammaln(int p) => Wrap(CoreElementary.multigammaln(p, Node));

    /// <summary>
    /// The matrix exponential Σ Aᵏ/k! of this square matrix or batch of them (…, n, n) (torch.linalg.matrix_exp), by
    /// scaling and squaring a Taylor polynomial in float64; NaN everywhere for a matrix holding ±∞ or NaN. Its gradient
    /// is the upper-right block of exp([[Aᵀ, G], [0, Aᵀ]]), a matrix exponential again, so it differentiates to any order.
    /// </summary>
    /// <exception cref="ArgumentException">This is not a square matrix or a batch of them.</exception>
    public Expr MatrixExp() => Wrap(CoreLinalg.matrixExp(Node));
}
