using System.Runtime.CompilerServices;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using CoreDiff = FunctionalDiff.Core.Diff;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreJacobianMode = FunctionalDiff.Core.JacobianMode;

namespace FunctionalDiff;

// Batching (vmap) and the Jacobian and Hessian with a chunk size.
public static partial class Diff
{
    /// <summary>
    /// f batched along the first axis: row i of the result is f of row i of x, all rows computed by
    /// one graph (jax.vmap, torch.func.vmap). f is written for one example.
    /// </summary>
    /// <remarks>
    /// The result is an ordinary Expr, so vmap nests under every transform and they under it:
    /// <c>Diff.Vmap(Diff.Grad(loss))</c> gives per-example gradients, <c>Diff.Grad(x =&gt; Diff.Vmap(f)(x).Sum())</c>
    /// differentiates through a batch, and vmap of vmap batches twice.
    /// </remarks>
    /// <exception cref="ArgumentException">x has rank 0 (no axis to batch along).</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Vmap(Func<Expr, Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.Lift(f);
        return x =>
        {
            ArgumentNullException.ThrowIfNull(x);
            return Expr.Wrap(CoreDiff.vmap(lifted, x.Node));
        };
    }

    /// <summary>
    /// f batched along axis <paramref name="inAxis"/> of its input (negative counts from the end), the examples
    /// placed on axis <paramref name="outAxis"/> of the result: <c>jax.vmap(f, in_axes=1)</c> of a one-argument f.
    /// </summary>
    /// <exception cref="ArgumentException">x has no axis inAxis, or the result no axis outAxis.</exception>
    public static Func<Expr, Expr> Vmap(Func<Expr, Expr> f, int inAxis, int outAxis = 0)
    {
        ArgumentNullException.ThrowIfNull(f);
        var batched = Vmap((Expr[] xs) => f(xs[0]), new int?[] { inAxis }, outAxis);
        return x =>
        {
            ArgumentNullException.ThrowIfNull(x);
            return batched([x]);
        };
    }

    /// <summary>f batched along the first axis of every input and of the result.</summary>
    /// <exception cref="ArgumentException">The inputs disagree on the batch size, or one has rank 0.</exception>
    public static Func<Expr[], Expr> Vmap(Func<Expr[], Expr> f) => Vmap(f, null);

    /// <summary>f of several results batched along the first axis of every input and of every result.</summary>
    /// <exception cref="ArgumentException">The inputs disagree on the batch size, or one has rank 0.</exception>
    public static Func<Expr[], Expr[]> Vmap(Func<Expr[], Expr[]> f) => Vmap(f, null);

    /// <summary>
    /// f batched along the given axis of each input; a null entry of <paramref name="inAxes"/> marks an
    /// input every example shares (a weight matrix, say), which is not copied per example. Negative
    /// axes count from the end. The examples lie along <paramref name="outAxis"/> of the result.
    /// </summary>
    /// <param name="f">The function of one example's inputs.</param>
    /// <param name="inAxes">Per input, its batch axis or null; null (the array) batches every input on axis 0.</param>
    /// <param name="outAxis">The axis of the result the examples lie along.</param>
    /// <exception cref="ArgumentException">
    /// inAxes has another length than the inputs or batches none of them, an axis does not exist, or
    /// the batched inputs disagree on the batch size.
    /// </exception>
    public static Func<Expr[], Expr> Vmap(Func<Expr[], Expr> f, int?[]? inAxes, int outAxis = 0)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = Interop.LiftMany(f);
        return xs =>
        {
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            return Expr.Wrap(CoreDiff.vmapN(Axes(inAxes, xs.Length), outAxis, lifted, Interop.List(xs)));
        };
    }

    /// <summary>
    /// A function of several outputs batched: inputs along <paramref name="inAxes"/> (null entries shared),
    /// output i with its examples along <paramref name="outAxes"/>[i] (axis 0 for every output when null).
    /// This is the form for per-example gradients: f returns one gradient per parameter.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// inAxes or outAxes has the wrong length, an axis does not exist, no input is batched, or the
    /// batched inputs disagree on the batch size.
    /// </exception>
    public static Func<Expr[], Expr[]> Vmap(Func<Expr[], Expr[]> f, int?[]? inAxes, int[]? outAxes = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        var lifted = FuncConvert.FromFunc<FSharpList<CoreExpr>, FSharpList<CoreExpr>>(args =>
        {
            var results = f(Interop.Wrap(args)) ?? throw new InvalidOperationException("Vmap: the function returned null instead of an Expr array");
            Interop.ThrowIfAnyNull(results, "the function's result");
            return Interop.List(results);
        });
        // Null outAxes: every output on axis 0, however many f returns.
        var outputs = outAxes is null ? FSharpOption<FSharpList<int>>.None : FSharpOption<FSharpList<int>>.Some(ListModule.OfSeq(outAxes));
        return xs =>
        {
            Interop.ThrowIfAnyNull(xs, nameof(xs));
            return Interop.Wrap(FunctionalDiff.Core.Vmap.apply("Vmap", Axes(inAxes, xs.Length), outputs, lifted, Interop.List(xs)));
        };
    }

    static FSharpList<FSharpOption<int>> Axes(int?[]? inAxes, int count) =>
        ListModule.OfSeq((inAxes ?? Enumerable.Repeat<int?>(0, count)).Select(a => a is int axis ? FSharpOption<int>.Some(axis) : FSharpOption<int>.None));

    /// <summary>
    /// The Jacobian of f as a function of x, batching at most <paramref name="chunkSize"/> basis vectors per
    /// graph (torch.func.jacrev's chunk_size): less memory at once, one batched graph per chunk.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">chunkSize is below 1.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Jacobian(Func<Expr, Expr> f, int chunkSize)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        return Transformed(f, null, (g, x) => CoreDiff.jacobianChunked(CoreJacobianMode.Auto, FSharpOption<int>.Some(chunkSize), g, x));
    }

    /// <summary>
    /// The Jacobian of f as a function of x, assembled in the given mode (JAX's <c>jacfwd</c> or <c>jacrev</c>),
    /// batching at most <paramref name="chunkSize"/> basis vectors per graph when it is given.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">mode is not a <see cref="JacobianMode"/>, or chunkSize is below 1.</exception>
    [OverloadResolutionPriority(1)]
    public static Func<Expr, Expr> Jacobian(Func<Expr, Expr> f, JacobianMode mode, int? chunkSize = null)
    {
        ArgumentNullException.ThrowIfNull(f);
        var coreMode = mode switch
        {
            JacobianMode.Auto => CoreJacobianMode.Auto,
            JacobianMode.Forward => CoreJacobianMode.Forward,
            JacobianMode.Reverse => CoreJacobianMode.Reverse,
            _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, $"Diff.Jacobian: {mode} is not a JacobianMode"),
        };
        if (chunkSize is { } c && c < 1)
            throw new ArgumentOutOfRangeException(nameof(chunkSize), c, $"Diff.Jacobian: chunkSize must be at least 1, got {c}");
        var chunk = chunkSize is { } k ? FSharpOption<int>.Some(k) : FSharpOption<int>.None;
        return Transformed(f, null, (g, x) => CoreDiff.jacobianChunked(coreMode, chunk, g, x));
    }

    /// <summary>The Hessian of a one-element f as a function of x, at most <paramref name="chunkSize"/> Hessian-vector products per batched graph.</summary>
    /// <exception cref="ArgumentOutOfRangeException">chunkSize is below 1.</exception>
    /// <exception cref="ArgumentException">f returns more or fewer than one element.</exception>
    public static Func<Expr, Expr> Hessian(Func<Expr, Expr> f, int chunkSize)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentOutOfRangeException.ThrowIfLessThan(chunkSize, 1);
        return Transformed(f, "Hessian", (g, x) => CoreDiff.hessianChunked(FSharpOption<int>.Some(chunkSize), g, x));
    }
}
