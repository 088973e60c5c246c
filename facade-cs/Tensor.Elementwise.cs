namespace FunctionalDiff;

// The elementwise functions of Expr that a torch user also calls on a plain tensor (torch.sinh(t), F.selu(t)),
// evaluated at once through the same cached eager plans as the rest of the eager surface.
public sealed partial class Tensor
{
    /// <summary>torch's selu elementwise, as <see cref="Expr.Selu"/> (scale·elu(x, α), torch's constants), computed now.</summary>
    public Tensor Selu() => EagerPlans.Run("Selu", a => a[0].Selu(), this);

    /// <summary>x·tanh(softplus(x)) elementwise, as <see cref="Expr.Mish"/> (torch's <c>F.mish</c>), computed now.</summary>
    public Tensor Mish() => EagerPlans.Run("Mish", a => a[0].Mish(), this);

    /// <summary>x / (1 + |x|) elementwise, as <see cref="Expr.Softsign"/> (torch's <c>F.softsign</c>), computed now.</summary>
    public Tensor Softsign() => EagerPlans.Run("Softsign", a => a[0].Softsign(), this);

    /// <summary>x·relu6(x + 3)/6 elementwise, as <see cref="Expr.Hardswish"/> (torch's <c>F.hardswish</c>), computed now.</summary>
    public Tensor Hardswish() => EagerPlans.Run("Hardswish", a => a[0].Hardswish(), this);

    /// <summary>relu6(x + 3)/6 elementwise, as <see cref="Expr.Hardsigmoid"/> (torch's <c>F.hardsigmoid</c>), computed now.</summary>
    public Tensor Hardsigmoid() => EagerPlans.Run("Hardsigmoid", a => a[0].Hardsigmoid(), this);

    /// <summary>min(max(x, 0), 6) elementwise, as <see cref="Expr.Relu6"/> (torch's <c>F.relu6</c>), computed now.</summary>
    public Tensor Relu6() => EagerPlans.Run("Relu6", a => a[0].Relu6(), this);

    /// <summary>The hyperbolic sine elementwise, as <see cref="Expr.Sinh"/> (torch.sinh), computed now.</summary>
    public Tensor Sinh() => EagerPlans.Run("Sinh", a => a[0].Sinh(), this);

    /// <summary>The hyperbolic cosine elementwise, as <see cref="Expr.Cosh"/> (torch.cosh), computed now.</summary>
    public Tensor Cosh() => EagerPlans.Run("Cosh", a => a[0].Cosh(), this);

    /// <summary>The inverse hyperbolic sine elementwise, as <see cref="Expr.Asinh"/> (torch.asinh), computed now.</summary>
    public Tensor Asinh() => EagerPlans.Run("Asinh", a => a[0].Asinh(), this);

    /// <summary>The inverse hyperbolic cosine elementwise, as <see cref="Expr.Acosh"/> (torch.acosh; NaN below 1), computed now.</summary>
    public Tensor Acosh() => EagerPlans.Run("Acosh", a => a[0].Acosh(), this);

    /// <summary>The inverse hyperbolic tangent elementwise, as <see cref="Expr.Atanh"/> (torch.atanh; ±∞ at ±1, NaN beyond), computed now.</summary>
    public Tensor Atanh() => EagerPlans.Run("Atanh", a => a[0].Atanh(), this);

    /// <summary>The arcsine elementwise, as <see cref="Expr.Asin"/> (torch.asin; NaN outside [−1, 1]), computed now.</summary>
    public Tensor Asin() => EagerPlans.Run("Asin", a => a[0].Asin(), this);

    /// <summary>The arccosine elementwise, as <see cref="Expr.Acos"/> (torch.acos; NaN outside [−1, 1]), computed now.</summary>
    public Tensor Acos() => EagerPlans.Run("Acos", a => a[0].Acos(), this);

    /// <summary>The arctangent elementwise, as <see cref="Expr.Atan"/> (torch.atan), computed now.</summary>
    public Tensor Atan() => EagerPlans.Run("Atan", a => a[0].Atan(), this);

    /// <summary>log|Γ(x)| elementwise, as <see cref="Expr.Lgamma"/> (torch.lgamma), computed now.</summary>
    public Tensor Lgamma() => EagerPlans.Run("Lgamma", a => a[0].Lgamma(), this);

    /// <summary>The base-2 logarithm elementwise, as <see cref="Expr.Log2"/> (torch.log2), computed now.</summary>
    public Tensor Log2() => EagerPlans.Run("Log2", a => a[0].Log2(), this);

    /// <summary>The base-10 logarithm elementwise, as <see cref="Expr.Log10"/> (torch.log10), computed now.</summary>
    public Tensor Log10() => EagerPlans.Run("Log10", a => a[0].Log10(), this);

    /// <summary>2ˣ elementwise, as <see cref="Expr.Exp2"/> (torch.exp2), computed now.</summary>
    public Tensor Exp2() => EagerPlans.Run("Exp2", a => a[0].Exp2(), this);

    /// <summary>The integer part, rounded toward zero, elementwise, as <see cref="Expr.Trunc"/> (torch.trunc), computed now.</summary>
    public Tensor Trunc() => EagerPlans.Run("Trunc", a => a[0].Trunc(), this);
}
