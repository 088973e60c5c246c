using CoreActivations = FunctionalDiff.Core.Activations;

namespace FunctionalDiff;

// torch.nn's remaining pointwise activations and gates (selu, celu, the shrinks, softmin, glu, prelu), composites
// of where, elu, softmax and sigmoid, so derivatives of every order follow. Conventions at the kinks are torch's.
public sealed partial class Expr
{
    /// <summary>torch's selu: scale·elu(x, α) with torch's constants (scale 1.0507…, α 1.6733…). F#: <c>Activations.selu</c>.</summary>
    public Expr Selu() => Apply(CoreActivations.selu);

    /// <summary>torch's celu: x above 0, α·(e^(x/α) − 1) at and below it; slope 1 at 0. F#: <c>Activations.celu</c>.</summary>
    /// <exception cref="ArgumentException">alpha is 0.</exception>
    public Expr Celu(double alpha = 1.0) => Apply(x => CoreActivations.celu(alpha, x));

    /// <summary>torch's softshrink: x − λ above λ, x + λ below −λ, 0 between; slope 0 at ±λ. F#: <c>Activations.softshrink</c>.</summary>
    /// <exception cref="ArgumentException">lambda is negative.</exception>
    public Expr Softshrink(double lambda = 0.5) => Apply(x => CoreActivations.softshrink(lambda, x));

    /// <summary>torch's hardshrink: 0 on [−λ, λ], x elsewhere; slope 0 at ±λ. F#: <c>Activations.hardshrink</c>.</summary>
    public Expr Hardshrink(double lambda = 0.5) => Apply(x => CoreActivations.hardshrink(lambda, x));

    /// <summary>torch's tanhshrink: x − tanh x. F#: <c>Activations.tanhshrink</c>.</summary>
    public Expr Tanhshrink() => Apply(CoreActivations.tanhshrink);

    /// <summary>torch's softmin along an axis (the last by default): the softmax of −x. F#: <c>Activations.softmin</c>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr Softmin(int axis = -1) => Apply(x => CoreActivations.softmin(axis, x));

    /// <summary>torch's glu along an axis (the last by default): the first half times σ of the second. F#: <c>Activations.glu</c>.</summary>
    /// <exception cref="ArgumentException">The axis is out of range or has odd length.</exception>
    public Expr Glu(int axis = -1) => Apply(x => CoreActivations.glu(axis, x));

    /// <summary>
    /// torch's prelu: x above 0, weight·x at and below it, with one weight or one per channel (axis 1); the slope at 0
    /// is the weight, as torch's rule. F#: <c>Activations.prelu</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The weight is neither one number nor one per channel.</exception>
    public Expr Prelu(Expr weight) { var (x, w) = Align(this, weight); return Wrap(CoreActivations.prelu(w, x)); }
}
