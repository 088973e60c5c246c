using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
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

    internal static FSharpList<CoreExpr> List(IEnumerable<Expr> xs) => ListModule.OfSeq(xs.Select(x => x.Node));

    internal static Expr[] Wrap(IEnumerable<CoreExpr> xs) => xs.Select(Expr.Wrap).ToArray();

    /// <summary>Null checks for an argument array and each of its entries.</summary>
    internal static void ThrowIfAnyNull<T>(T[] items, string name) where T : class
    {
        ArgumentNullException.ThrowIfNull(items, name);
        for (int i = 0; i < items.Length; i++)
            if (items[i] is null) throw new ArgumentNullException(name, $"{name}[{i}] is null");
    }
}
