using System.Runtime.CompilerServices;
using Microsoft.FSharp.Core;
using CoreCompile = FunctionalDiff.Core.Compile;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

public static partial class Diff
{
    /// <summary>
    /// Compiles a function of several Exprs with several results, as JAX's <c>jit</c> does: it is
    /// traced once per input signature and then runs as a plan (see <see cref="CompiledFunction"/>).
    /// Tensors the function captures are constants of the plan; pass data that changes per call as
    /// an input.
    /// </summary>
    /// <example><code>
    /// CompiledFunction step = Diff.Compile((Expr[] p) => { var (l, g) = Diff.ValueAndGrad(LossOf, p); return [l, .. g]; });
    /// Tensor[] outs = step.Invoke(w1, b1, w2, b2);
    /// </code></example>
    // The priority keeps Diff.Compile(null) and method groups that fit both on this overload,
    // rather than ambiguous with the named-parameters one.
    [OverloadResolutionPriority(1)]
    public static CompiledFunction Compile(Func<Expr[], Expr[]> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        var traced = FuncConvert.FromFunc<CoreExpr[], CoreExpr[]>(xs =>
        {
            var results = f(Interop.Wrap(xs)) ?? throw new InvalidOperationException("Compile: the compiled function returned null instead of its results");
            var nodes = new CoreExpr[results.Length];
            for (int i = 0; i < results.Length; i++)
                nodes[i] = results[i]?.Node ?? throw new InvalidOperationException($"result {i} of the compiled function is null");
            return nodes;
        });
        return new CompiledFunction(CoreCompile.compile(traced));
    }

    /// <summary>
    /// Compiles a function of several Exprs with one result (a loss, say), as <see cref="Compile(Func{Expr[], Expr[]})"/>
    /// does; <see cref="CompiledFunction.Invoke"/> returns that one result as a one-element array.
    /// </summary>
    /// <example><code>
    /// var loss = Diff.Compile((Expr[] p) => Loss.Mse(x.MatMul(p[0]) + p[1], y));
    /// Tensor value = loss.Invoke(w, b)[0];
    /// </code></example>
    public static CompiledFunction Compile(Func<Expr[], Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Compile((Expr[] xs) => [f(xs) ?? throw new InvalidOperationException("Compile: the compiled function returned null instead of its result")]);
    }

    /// <summary>
    /// Compiles a function of one Expr with one result, as <c>jax.jit(f)</c> of a one-argument f;
    /// <see cref="CompiledFunction.Invoke"/> takes that one input and returns a one-element array.
    /// </summary>
    /// <example><code>
    /// var f = Diff.Compile(x => x.Sin() * x);
    /// Tensor y = f.Invoke(x0)[0];
    /// </code></example>
    public static CompiledFunction Compile(Func<Expr, Expr> f)
    {
        ArgumentNullException.ThrowIfNull(f);
        return Compile((Expr[] xs) => xs.Length == 1
            ? f(xs[0])
            : throw new ArgumentException($"Compile(x => ...): a function of one Expr takes one input, but {xs.Length} were given", "inputs"));
    }
}
