using Build = FunctionalDiff.Core.ExprModule;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreElementary = FunctionalDiff.Core.Elementary;
using CoreNn = FunctionalDiff.Core.Nn;

namespace FunctionalDiff;

// Elementwise functions. Derivative conventions at kinks follow torch: |x|, relu at 0 give 0.
public sealed partial class Expr
{
    Expr Apply(Func<CoreExpr, CoreExpr> f) => Wrap(f(Node));

    /// <summary>Sine.</summary>
    public Expr Sin() => Apply(Build.sin);
    /// <summary>Cosine.</summary>
    public Expr Cos() => Apply(Build.cos);
    /// <summary>Tangent.</summary>
    public Expr Tan() => Apply(Build.tan);
    /// <summary>e to the power of each element.</summary>
    public Expr Exp() => Apply(Build.exp);
    /// <summary>e^x − 1, accurate near 0.</summary>
    public Expr Expm1() => Apply(Build.expm1);
    /// <summary>Natural logarithm.</summary>
    public Expr Log() => Apply(Build.log);
    /// <summary>log(1 + x), accurate near 0.</summary>
    public Expr Log1p() => Apply(Build.log1p);
    /// <summary>Square root.</summary>
    public Expr Sqrt() => Apply(Build.sqrt);
    /// <summary>1 / sqrt(x).</summary>
    public Expr Rsqrt() => Apply(Build.rsqrt);
    /// <summary>Hyperbolic tangent.</summary>
    public Expr Tanh() => Apply(Build.tanh);
    /// <summary>1 / (1 + e^−x).</summary>
    public Expr Sigmoid() => Apply(Build.sigmoid);
    /// <summary>max(x, 0); its derivative at 0 is 0, as in torch.</summary>
    public Expr Relu() => Apply(Build.relu);
    /// <summary>
    /// log(1 + e^x), computed without overflow, with torch's rule g·σ(x) (an infinite cotangent gives ±∞). Unlike
    /// torch's default threshold (x itself above 20), it is log(1 + e^x) to rounding at every x; its σ is 1 above 40.
    /// </summary>
    public Expr Softplus() => Apply(CoreNn.softplus);

    /// <summary>
    /// torch's softplus with <paramref name="beta"/>: log(1 + e^(βx))/β, a sharper (β &gt; 1) or softer ReLU. As <see cref="Softplus()"/>,
    /// it keeps the function above torch's threshold (βx &gt; 20, where torch returns x, less than e^−20/β away). F#: <c>Activations.softplusWithBeta</c>.
    /// </summary>
    /// <exception cref="ArgumentException">beta is not positive and finite.</exception>
    public Expr Softplus(double beta) => Wrap(FunctionalDiff.Core.Activations.softplusWithBeta(beta, Node));
    /// <summary>|x|; its derivative at 0 is 0, as in torch.</summary>
    public Expr Abs() => Apply(Build.abs);
    /// <summary>−1, 0 or 1 (zero derivative).</summary>
    public Expr Sign() => Apply(Build.sign);
    /// <summary>x * x.</summary>
    public Expr Square() => Apply(Build.square);
    /// <summary>1 / x.</summary>
    public Expr Reciprocal() => Apply(Build.reciprocal);
    /// <summary>The error function.</summary>
    public Expr Erf() => Apply(Build.erf);
    /// <summary>Rounds down (zero derivative).</summary>
    public Expr Floor() => Apply(Build.floor);
    /// <summary>Rounds up (zero derivative).</summary>
    public Expr Ceil() => Apply(Build.ceil);
    /// <summary>Rounds half to even, as torch.round (zero derivative).</summary>
    public Expr Round() => Apply(Build.round);

    /// <summary>This to the power of <paramref name="exponent"/>, elementwise with broadcasting.</summary>
    public Expr Pow(Expr exponent) { var (x, y) = Align(this, exponent); return Wrap(Build.pow(x, y)); }

    /// <summary>torch.pow(input, exponent): <paramref name="input"/> to the power of <paramref name="exponent"/>, elementwise with broadcasting; either may be a number (<c>Expr.Pow(x, 2)</c>, <c>Expr.Pow(2, x)</c>).</summary>
    public static Expr Pow(Expr input, Expr exponent) { var (x, y) = Align(input, exponent); return Wrap(Build.pow(x, y)); }

    /// <summary>The elementwise larger of a and b; ties share the derivative evenly, as in torch.</summary>
    public static Expr Maximum(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.maximum(x, y)); }

    /// <summary>The elementwise smaller of a and b; ties share the derivative evenly, as in torch.</summary>
    public static Expr Minimum(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.minimum(x, y)); }

    /// <summary>The angle of the point (x, y), elementwise: atan2(y, x) in (−π, π].</summary>
    public static Expr Atan2(Expr y, Expr x) { var (a, b) = Align(y, x); return Wrap(Build.atan2(a, b)); }

    /// <summary>
    /// log(e^a + e^b) elementwise with broadcasting, without overflow, torch.logaddexp. The derivatives are σ(a − b) and
    /// σ(b − a), smooth at every order (½ each at a = b). Equal infinities give that infinity, as torch; there the
    /// derivatives are 1 in a and 0 in b, where torch's are NaN. F#: <c>Elementary.logAddExp</c>.
    /// </summary>
    public static Expr LogAddExp(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(CoreElementary.logAddExp(x, y)); }

    /// <summary>
    /// <paramref name="ifTrue"/> where <paramref name="condition"/> is nonzero, else <paramref name="ifFalse"/>,
    /// all three broadcast together.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The value takes only the chosen branch: a NaN or infinity in the branch not taken never reaches it.
    /// </para>
    /// <para>
    /// The derivative can still see it, as in torch. The branch not taken receives a zero cotangent,
    /// and its own derivative multiplies that zero; where that derivative is NaN or infinite, the
    /// product is NaN. So the gradient of <c>Where(x &gt; 0, x.Sqrt(), 0.0)</c> at x = −1 is NaN,
    /// because sqrt's derivative at −1 is NaN.
    /// </para>
    /// <para>
    /// To keep the derivative finite, also give the unsafe function a safe input where its branch is not
    /// taken (the double-where idiom): <c>Where(x &gt; 0, Where(x &gt; 0, x, 1.0).Sqrt(), 0.0)</c> has
    /// the same value, gradient 1/(2√x) for x &gt; 0, and gradient 0 elsewhere.
    /// </para>
    /// </remarks>
    public static Expr Where(Expr condition, Expr ifTrue, Expr ifFalse)
    {
        ArgumentNullException.ThrowIfNull(condition);
        ArgumentNullException.ThrowIfNull(ifTrue);
        ArgumentNullException.ThrowIfNull(ifFalse);
        var branches = Align(new[] { ifTrue, ifFalse }, nameof(ifTrue));
        return Wrap(Build.where(condition.Node, branches[0], branches[1]));
    }

    /// <summary>The same values in another dtype; the derivative is cast back.</summary>
    public Expr Cast(DType dtype) => Wrap(Build.cast(Interop.ToCore(dtype), Node));

    /// <summary>The identity, except that no derivative flows through it.</summary>
    public Expr StopGradient() => Apply(Build.stopGradient);

    /// <summary>torch's name for <see cref="StopGradient"/>: the same value, with no derivative flowing through it.</summary>
    public Expr Detach() => StopGradient();

    // torch's elementary functions without a primitive of their own: composites in the core
    // (FunctionalDiff.Core.Elementary), each with torch's values at overflow, zeros and domain bounds.

    /// <summary>
    /// Hyperbolic sine (torch.sinh). Overflows to ±∞ only where sinh itself leaves the dtype (|x| &gt; 710.47 in
    /// float64, 89.41 in float32), never to NaN; its derivative is cosh.
    /// </summary>
    public Expr Sinh() => Apply(CoreElementary.sinh);
    /// <summary>
    /// Hyperbolic cosine (torch.cosh). +∞ only where cosh itself leaves the dtype (|x| &gt; 710.47 in float64,
    /// 89.41 in float32), never NaN; its derivative is sinh (0 at 0).
    /// </summary>
    public Expr Cosh() => Apply(CoreElementary.cosh);
    /// <summary>Arcsine (torch.asin): NaN outside [−1, 1]; the derivative 1/√(1 − x²) is +∞ at ±1, as in torch.</summary>
    public Expr Asin() => Apply(CoreElementary.asin);
    /// <summary>Arccosine (torch.acos): 0 at 1, π at −1, NaN outside [−1, 1]; the derivative is −∞ at ±1, as in torch.</summary>
    public Expr Acos() => Apply(CoreElementary.acos);
    /// <summary>Arctangent (torch.atan), ±π/2 at ±∞; it is <c>Atan2(x, 1)</c>.</summary>
    public Expr Atan() => Apply(CoreElementary.atan);
    /// <summary>
    /// Inverse hyperbolic sine (torch.asinh), odd and accurate for every x: no overflow for |x| up to the largest
    /// double (asinh(1e300) ≈ 691.47) and slope 1 at 0.
    /// </summary>
    public Expr Asinh() => Apply(CoreElementary.asinh);
    /// <summary>
    /// Inverse hyperbolic cosine (torch.acosh): 0 at 1 with derivative +∞ there, NaN below 1, no overflow for large x.
    /// </summary>
    public Expr Acosh() => Apply(CoreElementary.acosh);
    /// <summary>
    /// Inverse hyperbolic tangent (torch.atanh): ±∞ at ±1 (the derivative +∞ there), NaN beyond, accurate near 0 and ±1.
    /// </summary>
    public Expr Atanh() => Apply(CoreElementary.atanh);
    /// <summary>
    /// Base-2 logarithm (torch.log2), as log(x)/log 2: within an ulp or two of torch, not always exact at powers of 2.
    /// −∞ at 0, NaN below 0.
    /// </summary>
    public Expr Log2() => Apply(CoreElementary.log2);
    /// <summary>Base-10 logarithm (torch.log10), as log(x)/log 10: within an ulp or two of torch. −∞ at 0, NaN below 0.</summary>
    public Expr Log10() => Apply(CoreElementary.log10);
    /// <summary>2 to the power x (torch.exp2): exact at integers, +∞ from 1024 on, 0 below −1075.</summary>
    public Expr Exp2() => Apply(CoreElementary.exp2);
    /// <summary>Rounds toward zero (torch.trunc): −0.5 gives −0, ±∞ and NaN stay. Its derivative is 0, as in torch.</summary>
    public Expr Trunc() => Apply(CoreElementary.trunc);

    /// <summary>
    /// log(x / (1 − x)) (torch.logit). Without <paramref name="eps"/>: −∞ at 0 and +∞ at 1 (derivative +∞ at both),
    /// NaN value and derivative outside [0, 1]. With eps: x is first clamped to [eps, 1 − eps], so the derivative is
    /// 1/(x(1 − x)) inside that range, its bounds included, and 0 outside it and at NaN, as in torch.
    /// </summary>
    /// <param name="eps">The clamp in [0, 0.5], or null for none.</param>
    /// <exception cref="ArgumentException">eps is outside [0, 0.5].</exception>
    public Expr Logit(double? eps = null) => Wrap(CoreElementary.logit(Option(eps), Node));

    /// <summary>
    /// x·log(y) with 0 where x = 0, even at y = 0 or ∞, and NaN where y is NaN (torch.xlogy); broadcasts.
    /// Derivatives as torch's: log y for x (0 where x = 0 and y ≤ 0) and x/y for y (NaN at x = y = 0). Differences:
    /// at x = 0, y = +∞ the derivative for x is 0 here and +∞ in torch; at x = 0, y ≤ 0 the mixed second derivatives
    /// are 0 here, where torch's two disagree with each other (1/y one way, 0 the other).
    /// </summary>
    public static Expr Xlogy(Expr x, Expr y) { var (a, b) = Align(x, y); return Wrap(CoreElementary.xlogy(a, b)); }

    /// <summary>
    /// C's fmod (torch.fmod): a − trunc(a/b)·b computed exactly, with the sign of a; broadcasts. NaN where b = 0 or a
    /// is infinite; a where b is infinite. Derivatives as torch's: 1 for a, −trunc(a/b) for b (a/b rounded).
    /// </summary>
    public static Expr Fmod(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.fmod(x, y)); }

    /// <summary>
    /// Python's a % b (torch.remainder): the remainder with the sign of b, exactly as torch's kernel (fmod, plus b
    /// where their signs differ); broadcasts. NaN where b = 0. Derivatives torch's: 1 for a and −floor(a/b) for b,
    /// the floor of the exact quotient (9 for 1 % 0.1, where the rounded 1/0.1 is 10), NaN where a is infinite.
    /// </summary>
    public static Expr Remainder(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(CoreElementary.remainder(x, y)); }

    /// <summary>
    /// Python's and torch's <c>a % b</c>: <see cref="Remainder"/>, the remainder with the sign of b, so that a port's
    /// <c>(t + n) % m</c> means what it meant in torch (C#'s <c>%</c> on numbers is <see cref="Fmod"/>'s).
    /// </summary>
    public static Expr operator %(Expr a, Expr b) => Remainder(a, b);

    /// <summary>
    /// Linear interpolation start + weight·(end − start) (torch.lerp), all three broadcast. As torch, |weight| ≥ 0.5
    /// uses end − (end − start)·(1 − weight), so weight 1 gives end exactly. Derivatives 1 − weight, weight and
    /// end − start.
    /// </summary>
    public static Expr Lerp(Expr start, Expr end, Expr weight)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(end);
        ArgumentNullException.ThrowIfNull(weight);
        var parts = Align(new[] { start, end, weight }, nameof(start));
        return Wrap(CoreElementary.lerp(parts[0], parts[1], parts[2]));
    }

    /// <summary>
    /// This + weight·(end − this), torch's method form <c>start.lerp(end, weight)</c>: the same as
    /// <see cref="Lerp(Expr, Expr, Expr)"/> with this as the start. An exponential moving average of weights,
    /// torch's <c>ema.lerp_(p, 1 - decay)</c>, is <c>ema.Lerp(p, 1 - decay)</c> (on <see cref="Tensor"/> too). F#:
    /// <c>Elementary.lerp</c>.
    /// </summary>
    public Expr Lerp(Expr end, Expr weight) => Lerp(this, end, weight);
}
