using System.Runtime.CompilerServices;
using Microsoft.FSharp.Core;
using CoreDiff = FunctionalDiff.Core.Diff;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreShape = FunctionalDiff.Core.Shape;
using ShapeException = FunctionalDiff.Core.ShapeException;

namespace FunctionalDiff;

/// <summary>
/// Differentiation transforms. Each takes a function over Exprs and returns graphs or functions
/// that compute derivatives; the results are ordinary Exprs, so the transforms nest freely
/// (<c>Diff.Grad(x =&gt; Diff.Grad(f)(x).Sum())</c> is a second derivative).
/// </summary>
/// <remarks>
/// <para>
/// Inside a function being transformed the argument is symbolic: calling <see cref="Expr.Eval"/>
/// on it, or on anything built from it, raises <see cref="InvalidOperationException"/>.
/// </para>
/// <para>
/// Functions of one Expr, of two, and of an array of Exprs take overloads of one name (<c>Grad</c>,
/// <c>ValueAndGrad</c>, <c>Vjp</c>). A lambda such as <c>x =&gt; x.Max()</c> would also compile over
/// an array (LINQ's <c>Max</c>), so the one-Expr overloads carry a higher overload-resolution priority:
/// an untyped lambda means one Expr, and <c>(Expr[] p) =&gt; …</c> or a method group over
/// <c>Expr[]</c> selects the array form.
/// </para>
/// </remarks>
public static partial class Diff
{
    /// <summary>The value of f at x and its pullback, which maps a cotangent of f's output (same shape) to one of x.</summary>
    /// <remarks>
    /// As torch.autograd.grad does, the pullback accepts a cotangent of either dtype: it is converted to
    /// the output's dtype, and the result has x's dtype (a float32 cotangent for a float64 output gives
    /// a float64 result computed in float64).
    /// </remarks>
    /// <exception cref="ArgumentException">The pullback's cotangent does not have the output's shape.</exception>
    [OverloadResolutionPriority(1)]
    public static (Expr Value, Func<Expr, Expr> Pullback) Vjp(Func<Expr, Expr> f, Expr x)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var (value, pullback) = CoreDiff.vjp(Interop.Lift(f), x.Node);
        return (Expr.Wrap(value), cotangent => Expr.Wrap(pullback.Invoke(Cotangent("Vjp", value, cotangent))));
    }

    /// <summary>The value of f at (x, y) and its pullback, which maps a cotangent of the output to one of x and one of y.</summary>
    /// <remarks>Dtypes as in <see cref="Vjp(Func{Expr, Expr}, Expr)"/>: each result has its own input's dtype.</remarks>
    /// <exception cref="ArgumentException">The pullback's cotangent does not have the output's shape.</exception>
    public static (Expr Value, Func<Expr, (Expr DX, Expr DY)> Pullback) Vjp(Func<Expr, Expr, Expr> f, Expr x, Expr y)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var (value, pullback) = VjpOf("Vjp", xs => f(xs[0], xs[1]), new[] { x, y });
        return (value, cotangent => { var d = pullback(cotangent); return (d[0], d[1]); });
    }

    /// <summary>The value of f at the inputs and its pullback, which maps a cotangent of the output to one per input.</summary>
    /// <remarks>Dtypes as in <see cref="Vjp(Func{Expr, Expr}, Expr)"/>: each result has its own input's dtype.</remarks>
    /// <exception cref="ArgumentException">The pullback's cotangent does not have the output's shape.</exception>
    public static (Expr Value, Func<Expr, Expr[]> Pullback) Vjp(Func<Expr[], Expr> f, params Expr[] inputs)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(inputs, nameof(inputs));
        return VjpOf("Vjp", f, inputs);
    }

    static (Expr Value, Func<Expr, Expr[]> Pullback) VjpOf(string method, Func<Expr[], Expr> f, Expr[] inputs)
    {
        var (value, pullback) = CoreDiff.vjpN(Interop.LiftMany(f), Interop.List(inputs));
        return (Expr.Wrap(value), cotangent => Interop.Wrap(pullback.Invoke(Cotangent(method, value, cotangent))));
    }

    /// <summary>The gradient of a one-element f, as a function of x.</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Grad(Func<Expr, Expr> f) => Transformed(f, "Grad", CoreDiff.grad);

    /// <summary>The gradients of a one-element f with respect to both arguments.</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static Func<Expr, Expr, (Expr DX, Expr DY)> Grad(Func<Expr, Expr, Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.LiftManyOneElement(xs => f(xs[0], xs[1]), "Grad");
        return (x, y) =>
        {
            ArgumentNullException.ThrowIfNull(x);
            ArgumentNullException.ThrowIfNull(y);
            var d = Interop.Wrap(CoreDiff.gradN(lifted, Interop.List(new[] { x, y })));
            return (d[0], d[1]);
        };
    }

    /// <summary>The gradients of a one-element f with respect to each of its inputs, as a function of the inputs.</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static Func<Expr[], Expr[]> Grad(Func<Expr[], Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.LiftManyOneElement(f, "Grad");
        return xs =>
        {
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            return Interop.Wrap(CoreDiff.gradN(lifted, Interop.List(xs)));
        };
    }

    /// <summary>The value of a one-element f at x and its gradient, sharing one graph.</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    [OverloadResolutionPriority(1)]
    public static (Expr Value, Expr Gradient) ValueAndGrad(Func<Expr, Expr> f, Expr x)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var (value, gradient) = CoreDiff.valueAndGrad(Interop.LiftOneElement(f, "ValueAndGrad"), x.Node);
        return (Expr.Wrap(value), Expr.Wrap(gradient));
    }

    /// <summary>The value of a one-element f of two arguments at (x, y) and its gradients with respect to both, sharing one graph.</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static (Expr Value, Expr DX, Expr DY) ValueAndGrad(Func<Expr, Expr, Expr> f, Expr x, Expr y)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(y);
        var (value, gradients) = CoreDiff.valueAndGradN(Interop.LiftManyOneElement(xs => f(xs[0], xs[1]), "ValueAndGrad"), Interop.List(new[] { x, y }));
        var d = Interop.Wrap(gradients);
        return (Expr.Wrap(value), d[0], d[1]);
    }

    /// <summary>The value of a one-element f at the inputs and its gradient with respect to each.</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static (Expr Value, Expr[] Gradients) ValueAndGrad(Func<Expr[], Expr> f, params Expr[] xs)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(xs, nameof(xs));
        var (value, gradients) = CoreDiff.valueAndGradN(Interop.LiftManyOneElement(f, "ValueAndGrad"), Interop.List(xs));
        return (Expr.Wrap(value), Interop.Wrap(gradients));
    }

    /// <summary>
    /// JAX's <c>value_and_grad(f, has_aux=True)</c>: f returns its one-element loss and auxiliary outputs
    /// (metrics, predictions) built from the same inputs, <c>(Expr[] p) =&gt; (loss, [accuracy])</c>. The result
    /// is the loss, the auxiliary outputs at the inputs (not differentiated: they may have any shape) and the
    /// gradient of the loss with respect to each input. The auxiliary outputs share the loss's graph, so
    /// evaluating them together (<see cref="Expr.EvalMany"/>, or as outputs of a compiled step) runs the
    /// forward pass once.
    /// </summary>
    /// <exception cref="ArgumentException">The loss has more or fewer than one element.</exception>
    public static (Expr Value, Expr[] Aux, Expr[] Gradients) ValueAndGrad(Func<Expr[], (Expr Loss, Expr[] Aux)> f, params Expr[] xs)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(xs, nameof(xs));
        var (value, aux, gradients) = CoreDiff.valueAndGradWithAuxN(Interop.LiftWithAux(f, "ValueAndGrad"), Interop.List(xs)).ToValueTuple();
        return (Expr.Wrap(value), Interop.Wrap(aux), Interop.Wrap(gradients));
    }

    /// <summary>
    /// JAX's <c>value_and_grad(f, has_aux=True)</c> for a function of one Expr:
    /// <c>x =&gt; (loss, [metric])</c> gives the loss, the auxiliary outputs (not differentiated) and the gradient.
    /// </summary>
    /// <exception cref="ArgumentException">The loss has more or fewer than one element.</exception>
    [OverloadResolutionPriority(1)]
    public static (Expr Value, Expr[] Aux, Expr Gradient) ValueAndGrad(Func<Expr, (Expr Loss, Expr[] Aux)> f, Expr x)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var (value, aux, gradients) = ValueAndGrad(xs => f(xs[0]), new[] { x });
        return (value, aux, gradients[0]);
    }

    /// <summary>
    /// A core transform of f (grad, jacobian, hessian) as a C# function of x. When <paramref name="oneElement"/>
    /// names the public method, f must return one element and a result of another shape is reported under that name.
    /// </summary>
    static Func<Expr, Expr> Transformed(Func<Expr, Expr> f, string? oneElement, Func<FSharpFunc<CoreExpr, CoreExpr>, CoreExpr, CoreExpr> transform)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = oneElement is null ? Interop.Lift(f) : Interop.LiftOneElement(f, oneElement);
        return x =>
        {
            ArgumentNullException.ThrowIfNull(x);
            return Expr.Wrap(transform(lifted, x.Node));
        };
    }

    /// <summary>A pullback's cotangent, checked against the output under the public method's name.</summary>
    static CoreExpr Cotangent(string method, CoreExpr output, Expr cotangent)
    {
        ArgumentNullException.ThrowIfNull(cotangent);
        var (expected, given) = (output.Shape, cotangent.Node.Shape);
        if (!expected.AsSpan().SequenceEqual(given))
            throw new ShapeException($"{method}: the pullback's cotangent of shape {CoreShape.format(given)} does not match the output's shape {CoreShape.format(expected)}");
        return cotangent.Node;
    }
}
