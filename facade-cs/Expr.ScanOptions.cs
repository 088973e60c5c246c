using Microsoft.FSharp.Core;
using CoreCheckpoint = FunctionalDiff.Core.Checkpoint;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreScanCheckpoint = FunctionalDiff.Core.ScanCheckpoint;
using CoreScanOptions = FunctionalDiff.Core.ScanOptions;

namespace FunctionalDiff;

/// <summary>
/// Which carries the gradient of a Scan keeps: every step's values (<see cref="None"/>, the default), or a
/// carry every k steps with the steps in between recomputed in the backward pass.
/// </summary>
public sealed class ScanCheckpoint
{
    readonly int every; // 0: none; -1: ⌈√T⌉; k > 0: every k steps

    ScanCheckpoint(int every) => this.every = every;

    /// <summary>No checkpointing: the gradient saves what every step's backward pass needs (memory ∝ T).</summary>
    public static ScanCheckpoint None { get; } = new(0);

    /// <summary>A carry every ⌈√T⌉ steps: memory ∝ √T, about T more evaluations of the step.</summary>
    public static ScanCheckpoint Sqrt { get; } = new(-1);

    /// <summary>
    /// A carry every <paramref name="k"/> steps: the backward pass recomputes each segment of k steps from its
    /// saved carry, so it keeps ⌈T/k⌉ carries plus one segment's values at a time, and evaluates the step about
    /// T more times.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">k is less than 1.</exception>
    public static ScanCheckpoint Every(int k)
    {
        if (k < 1)
            throw new ArgumentOutOfRangeException(nameof(k), k, $"ScanCheckpoint.Every: the checkpoint interval k must be at least 1, got {k}");
        return new(k);
    }

    internal CoreScanCheckpoint ToCore() => every switch
    {
        0 => CoreScanCheckpoint.NoCheckpoint,
        -1 => CoreScanCheckpoint.Sqrt,
        var k => CoreScanCheckpoint.NewEvery(k),
    };

    /// <summary>"None", "Sqrt" or "Every(k)".</summary>
    public override string ToString() => every switch { 0 => "None", -1 => "Sqrt", var k => $"Every({k})" };
}

/// <summary>The options of <see cref="Expr.Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr, ScanOptions)"/>.</summary>
public sealed class ScanOptions
{
    /// <summary>Run the steps from the last row to the first; each y stays at its own row.</summary>
    public bool Reverse { get; init; }

    /// <summary>Which carries the gradient keeps; <see cref="ScanCheckpoint.None"/> by default.</summary>
    public ScanCheckpoint Checkpoint { get; init; } = ScanCheckpoint.None;

    internal CoreScanOptions ToCore(int? length) => new(Reverse, (Checkpoint ?? ScanCheckpoint.None).ToCore(),
        length is int t ? FSharpOption<int>.Some(t) : FSharpOption<int>.None);
}

public sealed partial class Expr
{
    /// <summary>
    /// <see cref="Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr)"/> with options: the direction, and
    /// a checkpoint policy for the gradient (<c>new ScanOptions { Checkpoint = ScanCheckpoint.Sqrt }</c> keeps
    /// about √T carries instead of every step's values, and recomputes the steps between them in the backward
    /// pass). Values and derivatives are those of the plain Scan.
    /// </summary>
    /// <exception cref="ArgumentException">The step returns a carry whose shape or dtype differs from init's.</exception>
    public static (Expr Carry, Expr Ys) Scan(Func<Expr, Expr, (Expr Carry, Expr Y)> step, Expr init, Expr xs, ScanOptions options)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(xs);
        var (carries, ys) = Scan((c, x) =>
        {
            var (carry, y) = step(c[0], x[0]);
            if (y is null) throw new InvalidOperationException("Expr.Scan: the step returned a null Y");
            return ([carry], [y]);
        }, [init], [xs], options);
        return (carries[0], ys[0]);
    }

    /// <summary>
    /// <see cref="Scan(Func{Expr[], Expr[], ValueTuple{Expr[], Expr[]}}, Expr[], Expr[])"/> with options (see
    /// <see cref="Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr, ScanOptions)"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The step returns carries that differ from init's, or the xs differ in length.</exception>
    public static (Expr[] Carry, Expr[] Ys) Scan(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs, ScanOptions options) =>
        ScanWithOptions(step, init, xs, options, null);

    /// <summary>
    /// <see cref="Scan(int, Func{Expr[], ValueTuple{Expr[], Expr[]}}, Expr[])"/> (no xs, <paramref name="length"/>
    /// steps) with options (see <see cref="Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr, ScanOptions)"/>).
    /// </summary>
    /// <exception cref="ArgumentException">length is negative, or the step returns carries that differ from init's.</exception>
    public static (Expr[] Carry, Expr[] Ys) Scan(int length, Func<Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, ScanOptions options)
    {
        ArgumentNullException.ThrowIfNull(step);
        return ScanWithOptions((carries, _) => step(carries), init, [], options, length);
    }

    static (Expr[] Carry, Expr[] Ys) ScanWithOptions(Func<Expr[], Expr[], (Expr[] Carry, Expr[] Ys)> step, Expr[] init, Expr[] xs,
        ScanOptions options, int? length)
    {
        ArgumentNullException.ThrowIfNull(step);
        ArgumentNullException.ThrowIfNull(init);
        ArgumentNullException.ThrowIfNull(xs);
        ArgumentNullException.ThrowIfNull(options);
        Interop.ThrowIfAnyNull(init, nameof(init));
        Interop.ThrowIfAnyNull(xs, nameof(xs));
        var lifted = FuncConvert.FromFunc<CoreExpr[], CoreExpr[], Tuple<CoreExpr[], CoreExpr[]>>((c, x) =>
        {
            var (carry, ys) = step(Interop.Wrap(c), Interop.Wrap(x));
            if (carry is null) throw new InvalidOperationException("Expr.Scan: the step returned null carries");
            if (ys is null) throw new InvalidOperationException("Expr.Scan: the step returned null ys");
            return Tuple.Create(carry.Select(e => e?.Node!).ToArray(), ys.Select(e => e?.Node!).ToArray());
        });
        var result = CoreCheckpoint.scan("Expr.Scan", options.ToCore(length), lifted,
            init.Select(e => e.Node).ToArray(), xs.Select(e => e.Node).ToArray());
        return (Interop.Wrap(result.Item1), Interop.Wrap(result.Item2));
    }
}
