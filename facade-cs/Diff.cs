using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using CoreDiff = FunctionalDiff.Core.Diff;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

/// <summary>
/// Differentiation transforms. Each takes a function over Exprs and returns graphs or functions
/// that compute derivatives; the results are ordinary Exprs, so the transforms nest freely
/// (<c>Diff.Grad(x =&gt; Diff.Grad(f)(x).Sum())</c> is a second derivative).
/// </summary>
/// <remarks>
/// Inside a function being transformed the argument is symbolic: calling <see cref="Expr.Eval"/>
/// on it, or on anything built from it, raises <see cref="InvalidOperationException"/>.
/// </remarks>
public static partial class Diff
{
    /// <summary>The value of f at x and its pullback, which maps a cotangent of f's output (same shape) to one of x.</summary>
    public static (Expr Value, Func<Expr, Expr> Pullback) Vjp(Func<Expr, Expr> f, Expr x)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var (value, pullback) = CoreDiff.vjp(Interop.Lift(f), x.Node);
        return (Expr.Wrap(value), g => Expr.Wrap(pullback.Invoke(Cotangent(g))));
    }

    /// <summary>The value of f at (x, y) and its pullback, which maps a cotangent of the output to one of x and one of y.</summary>
    public static (Expr Value, Func<Expr, (Expr DX, Expr DY)> Pullback) Vjp(Func<Expr, Expr, Expr> f, Expr x, Expr y)
    {
        ArgumentNullException.ThrowIfNull(f);
        var (value, pullback) = Vjp(xs => f(xs[0], xs[1]), new[] { x, y });
        return (value, g => { var d = pullback(g); return (d[0], d[1]); });
    }

    /// <summary>The value of f at the inputs and its pullback, which maps a cotangent of the output to one per input.</summary>
    public static (Expr Value, Func<Expr, Expr[]> Pullback) Vjp(Func<Expr[], Expr> f, params Expr[] inputs)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(inputs, nameof(inputs));
        var (value, pullback) = CoreDiff.vjpN(Interop.LiftMany(f), Interop.List(inputs));
        return (Expr.Wrap(value), g => Interop.Wrap(pullback.Invoke(Cotangent(g))));
    }

    /// <summary>The gradient of a one-element f, as a function of x.</summary>
    public static Func<Expr, Expr> Grad(Func<Expr, Expr> f) => Transformed(f, CoreDiff.grad);

    /// <summary>The gradients of a one-element f with respect to both arguments.</summary>
    public static Func<Expr, Expr, (Expr DX, Expr DY)> Grad(Func<Expr, Expr, Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var many = Grad(xs => f(xs[0], xs[1]));
        return (x, y) => { var d = many(new[] { x, y }); return (d[0], d[1]); };
    }

    /// <summary>The gradients of a one-element f with respect to each of its inputs.</summary>
    public static Func<Expr[], Expr[]> Grad(Func<Expr[], Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.LiftMany(f);
        return xs =>
        {
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            return Interop.Wrap(CoreDiff.gradN(lifted, Interop.List(xs)));
        };
    }

    /// <summary>The value of a one-element f at x and its gradient, sharing one graph.</summary>
    public static (Expr Value, Expr Gradient) ValueAndGrad(Func<Expr, Expr> f, Expr x)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var (value, gradient) = CoreDiff.valueAndGrad(Interop.Lift(f), x.Node);
        return (Expr.Wrap(value), Expr.Wrap(gradient));
    }

    /// <summary>The value of a one-element f at the inputs and its gradient with respect to each.</summary>
    public static (Expr Value, Expr[] Gradients) ValueAndGrad(Func<Expr[], Expr> f, params Expr[] xs)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(xs, nameof(xs));
        var (value, gradients) = CoreDiff.valueAndGradN(Interop.LiftMany(f), Interop.List(xs));
        return (Expr.Wrap(value), Interop.Wrap(gradients));
    }

    /// <summary>A core transform of f (grad, jacobian, hessian) as a C# function of x.</summary>
    static Func<Expr, Expr> Transformed(Func<Expr, Expr> f, Func<FSharpFunc<CoreExpr, CoreExpr>, CoreExpr, CoreExpr> transform)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.Lift(f);
        return x =>
        {
            ArgumentNullException.ThrowIfNull(x);
            return Expr.Wrap(transform(lifted, x.Node));
        };
    }

    static CoreExpr Cotangent(Expr g)
    {
        ArgumentNullException.ThrowIfNull(g);
        return g.Node;
    }
}
