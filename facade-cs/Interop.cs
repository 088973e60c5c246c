using System.Runtime.CompilerServices;
using FunctionalDiff.Core;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using CoreShape = FunctionalDiff.Core.Shape;
using CoreDType = FunctionalDiff.Core.DType;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

/// <summary>
/// Conversions between the facade's types and the core's: dtypes, delegates, lists. Everything
/// F#-shaped stays behind this class, so no public signature mentions an F# type.
/// </summary>
internal static class Interop
{
    internal static CoreDType ToCore(DType dtype) => dtype switch
    {
        DType.Float32 => CoreDType.Float32,
        DType.Float64 => CoreDType.Float64,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "unknown dtype"),
    };

    internal static DType FromCore(CoreDType dtype) => dtype.IsFloat32 ? DType.Float32 : DType.Float64;

    /// <summary>The core node a user function returned; null is a bug in the user's function.</summary>
    static CoreExpr Result(Expr? result, string what) =>
        result?.Node ?? throw new InvalidOperationException($"{what} returned null instead of an Expr");

    internal static FSharpFunc<CoreExpr, CoreExpr> Lift(Func<Expr, Expr> f, string what = "the function") =>
        FuncConvert.FromFunc<CoreExpr, CoreExpr>(x => Result(f(Expr.Wrap(x)), what));

    internal static FSharpFunc<CoreExpr, FSharpFunc<CoreExpr, CoreExpr>> Lift(Func<Expr, Expr, Expr> f, string what = "the function") =>
        FuncConvert.FromFunc<CoreExpr, CoreExpr, CoreExpr>((x, y) => Result(f(Expr.Wrap(x), Expr.Wrap(y)), what));

    internal static FSharpFunc<FSharpList<CoreExpr>, CoreExpr> LiftMany(Func<Expr[], Expr> f) =>
        FuncConvert.FromFunc<FSharpList<CoreExpr>, CoreExpr>(xs => Result(f(Wrap(xs)), "the function"));

    /// <summary>
    /// f lifted for a transform that needs a one-element result (a gradient, a Hessian): a result of
    /// another shape is reported under the public method's name, not the core transform's.
    /// </summary>
    internal static FSharpFunc<CoreExpr, CoreExpr> LiftOneElement(Func<Expr, Expr> f, string method) =>
        FuncConvert.FromFunc<CoreExpr, CoreExpr>(x => OneElement(method, Result(f(Expr.Wrap(x)), "the function")));

    /// <summary><see cref="LiftOneElement"/> for a function of several inputs.</summary>
    internal static FSharpFunc<FSharpList<CoreExpr>, CoreExpr> LiftManyOneElement(Func<Expr[], Expr> f, string method) =>
        FuncConvert.FromFunc<FSharpList<CoreExpr>, CoreExpr>(xs => OneElement(method, Result(f(Wrap(xs)), "the function")));

    /// <summary>
    /// f lifted for a gradient with auxiliary outputs: a loss of another shape than one element, or a null
    /// auxiliary output, is reported under the public method's name.
    /// </summary>
    internal static FSharpFunc<FSharpList<CoreExpr>, Tuple<CoreExpr, FSharpList<CoreExpr>>> LiftWithAux(Func<Expr[], (Expr Loss, Expr[] Aux)> f, string method) =>
        FuncConvert.FromFunc<FSharpList<CoreExpr>, Tuple<CoreExpr, FSharpList<CoreExpr>>>(xs =>
        {
            var (loss, aux) = f(Wrap(xs));
            var value = OneElement(method, Result(loss, "the function"));
            if (aux is null) throw new InvalidOperationException($"{method}: the function returned null auxiliary outputs; return an empty array for none");
            for (int i = 0; i < aux.Length; i++)
                if (aux[i] is null) throw new InvalidOperationException($"{method}: the function's auxiliary output {i} is null");
            return Tuple.Create(value, List(aux));
        });

    static CoreExpr OneElement(string method, CoreExpr result) =>
        result.Numel == 1
            ? result
            : throw new ShapeException($"{method}: f must return one element, but it returned shape {CoreShape.format(result.Shape)}");

    /// <summary>Checks that an argument has the shape of the one it goes with (a tangent and its primal).</summary>
    internal static void SameShape(string method, Expr reference, Expr other,
        [CallerArgumentExpression(nameof(reference))] string referenceName = "", [CallerArgumentExpression(nameof(other))] string otherName = "")
    {
        var (a, b) = (reference.Node.Shape, other.Node.Shape);
        if (!a.AsSpan().SequenceEqual(b))
            throw new ShapeException($"{method}: {otherName} of shape {CoreShape.format(b)} does not match {referenceName} of shape {CoreShape.format(a)}");
    }

    /// <summary>
    /// Runs a core constructor for a public method whose core op has another name (Lt is the core's
    /// Less, Transpose its Permute), so a shape error names the method the caller wrote. Only for
    /// calls that run no user code: an error from inside a user's function keeps its own name.
    /// </summary>
    internal static T Named<T>(string method, Func<T> build)
    {
        try
        {
            return build();
        }
        catch (ShapeException e) when (!e.Message.StartsWith(method + ": ", StringComparison.Ordinal))
        {
            var colon = e.Message.IndexOf(": ", StringComparison.Ordinal);
            throw new ShapeException(method + ": " + (colon >= 0 ? e.Message[(colon + 2)..] : e.Message), e);
        }
    }

    // List and Wrap are plain loops over the list's cells: ListModule.OfSeq, the list's enumerator
    // and LINQ are generic code that tiered compilation starts unoptimised, and a training loop's
    // transform calls these every step.
    internal static FSharpList<CoreExpr> List(IEnumerable<Expr> xs)
    {
        var items = xs as Expr[] ?? xs.ToArray();
        var list = FSharpList<CoreExpr>.Empty;
        for (int i = items.Length - 1; i >= 0; i--) list = FSharpList<CoreExpr>.Cons(items[i].Node, list);
        return list;
    }

    internal static Expr[] Wrap(IEnumerable<CoreExpr> xs)
    {
        if (xs is not FSharpList<CoreExpr> list) return xs.Select(Expr.Wrap).ToArray();
        int count = 0;
        for (var rest = list; !rest.IsEmpty; rest = rest.Tail) count++;
        var result = new Expr[count];
        int i = 0;
        for (var rest = list; !rest.IsEmpty; rest = rest.Tail) result[i++] = Expr.Wrap(rest.Head);
        return result;
    }

    /// <summary>Null checks for an argument array and each of its entries.</summary>
    internal static void ThrowIfAnyNull<T>(T[] items, string name) where T : class
    {
        ArgumentNullException.ThrowIfNull(items, name);
        for (int i = 0; i < items.Length; i++)
            if (items[i] is null) throw new ArgumentNullException(name, $"{name}[{i}] is null");
    }

    /// <summary>An optional node as the core's option: null is None.</summary>
    internal static FSharpOption<CoreExpr>? Option(CoreExpr? node) => node is null ? null : FSharpOption<CoreExpr>.Some(node);

    /// <summary>An optional count as the core's option: null is None.</summary>
    internal static FSharpOption<int>? Option(int? value) => value is int v ? FSharpOption<int>.Some(v) : null;
}
