using System.Runtime.CompilerServices;
using CoreCheckpoint = FunctionalDiff.Core.Checkpoint;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

// Checkpointing (rematerialisation): a function whose intermediate values the backward pass
// recomputes instead of keeping.
public static partial class Diff
{
    /// <summary>
    /// f with its intermediate values not saved for the backward pass (jax.checkpoint,
    /// torch.utils.checkpoint): a gradient through the result keeps only f's argument and recomputes
    /// f's forward where it needs it. Values and derivatives of every order are those of f.
    /// </summary>
    /// <remarks>
    /// Use it around a block whose intermediates are large compared to its input (a deep stack of
    /// layers, a long elementwise chain): memory for the backward pass shrinks to the block's input,
    /// at the cost of one more forward evaluation of the block. Exprs f reads from outside (weights)
    /// receive their gradients as usual.
    /// </remarks>
    /// <example><code>
    /// var block = Diff.Checkpoint(h => (w.MatMul(h)).Tanh());
    /// var g = Diff.Grad(x => block(block(x)).Sum());
    /// </code></example>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Checkpoint(Func<Expr, Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return x =>
        {
            ArgumentNullException.ThrowIfNull(x);
            return Expr.Wrap(CoreCheckpoint.apply("Diff.Checkpoint", CheckpointedOne(f), [x.Node])[0]);
        };
    }

    /// <summary>
    /// <see cref="Checkpoint(Func{Expr, Expr})"/> for a function of several arguments and results: the
    /// backward pass keeps only the arguments and recomputes f.
    /// </summary>
    public static Func<Expr[], Expr[]> Checkpoint(Func<Expr[], Expr[]> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return xs =>
        {
            ArgumentNullException.ThrowIfNull(xs);
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            return Interop.Wrap(CoreCheckpoint.apply("Diff.Checkpoint", CheckpointedMany(f), xs.Select(x => x.Node).ToArray()));
        };
    }

    /// <summary>
    /// <see cref="Checkpoint(Func{Expr, Expr})"/> for a function of several arguments and one result
    /// (a layer of its input and weights, say): the backward pass keeps only the arguments and
    /// recomputes f.
    /// </summary>
    public static Func<Expr[], Expr> Checkpoint(Func<Expr[], Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var checkpointed = Checkpoint((Expr[] xs) => [f(xs) ?? throw new InvalidOperationException("Diff.Checkpoint: f returned null")]);
        return xs => checkpointed(xs)[0];
    }

    static Microsoft.FSharp.Core.FSharpFunc<CoreExpr[], CoreExpr[]> CheckpointedOne(Func<Expr, Expr> f) =>
        Microsoft.FSharp.Core.FuncConvert.FromFunc<CoreExpr[], CoreExpr[]>(xs =>
            [(f(Expr.Wrap(xs[0])) ?? throw new InvalidOperationException("Diff.Checkpoint: f returned null")).Node]);

    static Microsoft.FSharp.Core.FSharpFunc<CoreExpr[], CoreExpr[]> CheckpointedMany(Func<Expr[], Expr[]> f) =>
        Microsoft.FSharp.Core.FuncConvert.FromFunc<CoreExpr[], CoreExpr[]>(xs =>
        {
            var results = f(Interop.Wrap(xs)) ?? throw new InvalidOperationException("Diff.Checkpoint: f returned null");
            return results.Select(r => (r ?? throw new InvalidOperationException("Diff.Checkpoint: f returned a null result")).Node).ToArray();
        });
}
