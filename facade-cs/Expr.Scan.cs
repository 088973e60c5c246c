using Microsoft.FSharp.Core;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreScan = FunctionalDiff.Core.Scan;

namespace FunctionalDiff;

// Loops without unrolling (JAX's lax.scan): the step is traced once into one graph node, whatever the
// number of steps, and every derivative of the loop is a loop again.
public sealed partial class Expr
{
    /// <summary>
    /// Runs <paramref name="step"/> over the rows of <paramref name="xs"/> (stacked along axis 0), threading a
    /// carry: <c>(carry, y) = step(carry, xs[t])</c> for t = 0, 1, …, T − 1. Returns the final carry and the ys
    /// stacked along a new axis 0 (T rows). T = 0 returns <paramref name="init"/> and an empty Ys of shape [0, …].
    /// </summary>
    /// <remarks>
    /// The step is called once, on symbolic arguments, and traced into the body of one Scan node: the graph
    /// does not grow with T. Exprs the step reads from outside (weights) become inputs of the node, so
    /// gradients reach them. Every transform applies: <see cref="Diff.Grad(Func{Expr, Expr})"/>, Hessians,
    /// forward mode and compiled functions, and a step may itself call <see cref="Diff"/>'s transforms.
    /// </remarks>
    /// <exception cref="ArgumentException">The step returns a carry whose shape or dtype differs from init's,
    /// or xs is a scalar.</exception>
    public static (Expr Carry, Expr Ys) Scan(Func<Expr, Expr, (Expr Carry, Expr Y)> step, Expr init, Expr xs) =>
        ScanOne(step, init, xs, reverse: false);

    /// <summary>
    /// As <see cref="Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr)"/>; with <paramref name="reverse"/>
    /// the steps run from the last row to the first (t = T − 1, …, 0), and each y is stored at its own row.
    /// </summary>
    /// <exception cref="ArgumentException">The step returns a carry whose shape or dtype differs from init's.</exception>
    public static (Expr Carry, Expr Ys) Scan(Func<Expr, Expr, (Expr Carry, Expr Y)> step, Expr init, Expr xs, bool reverse) =>
        ScanOne(step, init, xs, reverse);

    /// <summary>
    /// Runs <paramref name="step"/> over the rows of every xs at once (each stacked along axis 0, all of one
    /// length T), threading several carries: <c>(carries, ys) = step(carries, xs rows at t)</c>. Returns the final
    /// carries and each y stacked along a new axis 0.
    /// </summary>
    /// <remarks>See <see cref="Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr)"/>.</remarks>
    /// <exception cref="ArgumentException">The step returns carries whose number, shapes or dtypes differ from
    /// init's, or the xs differ in length.</exception>
    public static (Expr[] Carry, Expr[] Ys) Scan(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs) =>
        ScanMany(step, init, xs, reverse: false);

    /// <summary>
    /// As <see cref="Scan(Func{Expr[], Expr[], ValueTuple{Expr[], Expr[]}}, Expr[], Expr[])"/>, from the last row
    /// to the first when <paramref name="reverse"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The step returns carries that differ from init's.</exception>
    public static (Expr[] Carry, Expr[] Ys) Scan(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs, bool reverse) =>
        ScanMany(step, init, xs, reverse);

    /// <summary>
    /// Runs <paramref name="step"/> <paramref name="length"/> times without xs: <c>(carries, ys) = step(carries)</c>.
    /// Returns the final carries and each y stacked along a new axis 0 of length <paramref name="length"/>.
    /// </summary>
    /// <exception cref="ArgumentException">length is negative, or the step returns carries that differ from init's.</exception>
    public static (Expr[] Carry, Expr[] Ys) Scan(int length, Func<Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init)
    {
        ArgumentNullException.ThrowIfNull(step);
        return Run("Expr.Scan", reverse: false, FSharpValueOption<int>.NewValueSome(length), (carries, _) => step(carries), init, []);
    }

    /// <summary>
    /// A loop of <paramref name="count"/> steps with no xs (a fori loop): <c>x = step(x)</c>, starting from
    /// <paramref name="init"/>, as one graph node. <paramref name="count"/> = 0 returns init.
    /// </summary>
    /// <exception cref="ArgumentException">count is negative, or the step returns another shape or dtype.</exception>
    public static Expr Repeat(int count, Func<Expr, Expr> step, Expr init)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(init);
        var (carries, _) = Run("Expr.Repeat", reverse: false, FSharpValueOption<int>.NewValueSome(count),
            (carries, _) => ([step(carries[0])], []), [init], []);
        return carries[0];
    }

    static (Expr Carry, Expr Ys) ScanOne(Func<Expr, Expr, (Expr Carry, Expr Y)> step, Expr init, Expr xs, bool reverse)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(xs);
        var (carries, ys) = Run("Expr.Scan", reverse, FSharpValueOption<int>.ValueNone, (c, x) =>
        {
            var (carry, y) = step(c[0], x[0]);
            if (y is null) throw new InvalidOperationException("Expr.Scan: the step returned a null Y");
            return ([carry], [y]);
        }, [init], [xs]);
        return (carries[0], ys[0]);
    }

    static (Expr[] Carry, Expr[] Ys) ScanMany(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs, bool reverse)
    {
        ArgumentNullException.ThrowIfNull(step);
        return Run("Expr.Scan", reverse, FSharpValueOption<int>.ValueNone, step, init, xs);
    }

    /// <summary>The core's tracing under the public method's name, with the step lifted to core Exprs.</summary>
    static (Expr[] Carry, Expr[] Ys) Run(string method, bool reverse, FSharpValueOption<int> length,
        Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs)
    {
        Interop.ThrowIfAnyNull(init, nameof(init));
        Interop.ThrowIfAnyNull(xs, nameof(xs));
        var lifted = FuncConvert.FromFunc<CoreExpr[], CoreExpr[], Tuple<CoreExpr[], CoreExpr[]>>((c, x) =>
        {
            var (carry, ys) = step(Interop.Wrap(c), Interop.Wrap(x));
            if (carry is null) throw new InvalidOperationException($"{method}: the step returned null carries");
            if (ys is null) throw new InvalidOperationException($"{method}: the step returned null ys");
            return Tuple.Create(carry.Select(e => e?.Node!).ToArray(), ys.Select(e => e?.Node!).ToArray());
        });
        var result = CoreScan.trace(method, reverse, false, length, lifted,
            init.Select(e => e.Node).ToArray(), xs.Select(e => e.Node).ToArray());
        return (Interop.Wrap(result.Item1), Interop.Wrap(result.Item2));
    }
}
