using System.Runtime.CompilerServices;
using FunctionalDiff.Core;
using Microsoft.FSharp.Collections;
using CoreDiff = FunctionalDiff.Core.Diff;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

// Forward mode, Jacobians, Hessians, user-defined rules and the gradient checker.
public static partial class Diff
{
    /// <summary>The value of f at x and its tangent J·tangent (forward mode), without building the Jacobian.</summary>
    /// <exception cref="ArgumentException">The tangent does not have x's shape.</exception>
    public static (Expr Value, Expr Tangent) Jvp(Func<Expr, Expr> f, Expr x, Expr tangent)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(tangent);
        Interop.SameShape("Jvp", x, tangent);
        var (value, t) = CoreDiff.jvp(Interop.Lift(f), x.Node, Expr.Align(x, tangent).B);
        return (Expr.Wrap(value), Expr.Wrap(t));
    }

    /// <summary>The Hessian of a one-element f at x applied to v, without building the Hessian.</summary>
    /// <exception cref="ArgumentException">v does not have x's shape, or f returns more or fewer than one element.</exception>
    public static Expr Hvp(Func<Expr, Expr> f, Expr x, Expr v)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        ArgumentNullException.ThrowIfNull(v);
        Interop.SameShape("Hvp", x, v);
        return Expr.Wrap(CoreDiff.hvp(Interop.LiftOneElement(f, "Hvp"), x.Node, Expr.Align(x, v).B));
    }

    /// <summary>The Jacobian of f as a function of x, with shape (f(x).Shape followed by x.Shape).</summary>
    // Preferred over the several-input overload when a lambda fits both (x => x.Max() compiles over an array too).
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Jacobian(Func<Expr, Expr> f) => Transformed(f, null, CoreDiff.jacobian);

    /// <summary>The Hessian of a one-element f as a function of x, with shape (x.Shape followed by x.Shape).</summary>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    // Preferred over the several-input overload when a lambda fits both, as for Jacobian.
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Hessian(Func<Expr, Expr> f) => Transformed(f, "Hessian", CoreDiff.hessian);

    /// <summary>
    /// A function with a user-defined derivative: it computes <c>forward(x)</c> and sends an output
    /// cotangent g back to x as <c>vjp(x, g)</c>, which must have x's shape. The rule is written with
    /// Exprs, so the result nests under every transform, higher orders included.
    /// </summary>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> CustomVjp(Func<Expr, Expr> forward, Func<Expr, Expr, Expr> vjp)
    {
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(vjp);
        return Custom(CoreDiff.customVjp(Interop.Lift(forward, "CustomVjp: the forward function"), Interop.Lift(vjp, "CustomVjp: the VJP rule")));
    }

    /// <summary>
    /// <see cref="CustomVjp(Func{Expr, Expr}, Func{Expr, Expr, Expr})"/> with a name, which printed graphs
    /// and the errors about the rule give (a rule returning another shape than x's names it).
    /// </summary>
    /// <exception cref="ArgumentException">The rule returns a cotangent whose shape differs from x's.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> CustomVjp(string name, Func<Expr, Expr> forward, Func<Expr, Expr, Expr> vjp)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(vjp);
        return Custom(CoreDiff.customVjpNamed(name, Interop.Lift(forward, "CustomVjp: the forward function"), Interop.Lift(vjp, "CustomVjp: the VJP rule")));
    }

    /// <summary>
    /// A function of several inputs with a user-defined derivative, as <c>jax.custom_vjp</c> or
    /// <c>torch.autograd.Function</c> of many arguments: it computes <c>forward(xs)</c> and sends an
    /// output cotangent g back as <c>vjp(xs, g)</c>, one cotangent per input, each of that input's
    /// shape and dtype, or null for a zero cotangent (an input the derivative ignores). The rule is
    /// written with Exprs, so the result nests under every transform, higher orders included.
    /// </summary>
    /// <remarks>The inputs must share a dtype. The function is called with the inputs in one array:
    /// <c>op([x, w])</c>.</remarks>
    /// <exception cref="ArgumentException">At a call, no inputs or inputs of different dtypes; when
    /// differentiated, a rule that returns another number of cotangents than inputs, or a cotangent
    /// of another shape or dtype than its input's.</exception>
    public static Func<Expr[], Expr> CustomVjp(Func<Expr[], Expr> forward, Func<Expr[], Expr, Expr?[]> vjp) =>
        CustomVjp("custom", forward, vjp);

    /// <summary>
    /// <see cref="CustomVjp(Func{Expr[], Expr}, Func{Expr[], Expr, Expr?[]})"/> with a name, which
    /// printed graphs and the errors about the rule give.
    /// </summary>
    /// <exception cref="ArgumentException">As the unnamed overload; the messages name the rule.</exception>
    public static Func<Expr[], Expr> CustomVjp(string name, Func<Expr[], Expr> forward, Func<Expr[], Expr, Expr?[]> vjp)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(forward);
        ArgumentNullException.ThrowIfNull(vjp);
        var rule = Microsoft.FSharp.Core.FuncConvert.FromFunc<FSharpList<CoreExpr>, CoreExpr, FSharpList<CoreExpr>>((xs, g) =>
        {
            var cotangents = vjp(Interop.Wrap(xs), Expr.Wrap(g))
                ?? throw new InvalidOperationException($"CustomVjp: the VJP rule of '{name}' returned null");
            // a null cotangent stays null: the core reads it as zeros of its input's shape
            var list = FSharpList<CoreExpr>.Empty;
            for (int i = cotangents.Length - 1; i >= 0; i--) list = FSharpList<CoreExpr>.Cons(cotangents[i]?.Node!, list);
            return list;
        });
        var custom = CoreDiff.customVjpNamedN(name, Interop.LiftMany(forward), rule);
        return xs =>
        {
            ArgumentNullException.ThrowIfNull(xs);
            for (int i = 0; i < xs.Length; i++)
                if (xs[i] is null) throw new ArgumentNullException($"xs[{i}]");
            return Expr.Wrap(custom.Invoke(Interop.List(xs)));
        };
    }

    static Func<Expr, Expr> Custom(Microsoft.FSharp.Core.FSharpFunc<FunctionalDiff.Core.Expr, FunctionalDiff.Core.Expr> custom) => x =>
    {
        ArgumentNullException.ThrowIfNull(x);
        return Expr.Wrap(custom.Invoke(x.Node));
    };

    /// <summary>
    /// Checks f's derivatives up to <paramref name="order"/> at x against central finite differences
    /// in float64, in reverse and forward modes, along random directions (like torch's gradcheck
    /// and gradgradcheck). The result reports the first disagreement, or the worst agreement.
    /// </summary>
    public static GradCheckResult CheckGrad(Func<Expr, Expr> f, Tensor x, int order = 2)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        if (order < 1) throw new ArgumentOutOfRangeException(nameof(order), order, "CheckGrad: order must be at least 1");
        var d = GradCheckOptions.Default;
        var options = new GradCheckOptions(order, d.Reverse, d.Forward, d.Directions, d.Step, d.Tolerance, d.Seed);
        var r = GradCheck.check(options, Interop.Lift(f), x.Value);
        return new GradCheckResult(r.Passed, r.MaxError, r.Order, r.Mode, r.Message);
    }
}
