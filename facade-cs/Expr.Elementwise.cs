using Build = FunctionalDiff.Core.ExprModule;
using CoreExpr = FunctionalDiff.Core.Expr;
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

    /// <summary>The elementwise larger of a and b; ties share the derivative evenly, as in torch.</summary>
    public static Expr Maximum(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.maximum(x, y)); }

    /// <summary>The elementwise smaller of a and b; ties share the derivative evenly, as in torch.</summary>
    public static Expr Minimum(Expr a, Expr b) { var (x, y) = Align(a, b); return Wrap(Build.minimum(x, y)); }

    /// <summary>The angle of the point (x, y), elementwise: atan2(y, x) in (−π, π].</summary>
    public static Expr Atan2(Expr y, Expr x) { var (a, b) = Align(y, x); return Wrap(Build.atan2(a, b)); }

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
}
