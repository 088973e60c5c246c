using System.Runtime.CompilerServices;
using Microsoft.FSharp.Collections;
using FunctionalDiff.Core;
using CoreDiff = FunctionalDiff.Core.Diff;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

// Forward mode over several inputs, and linearization: one tangent graph pushed many tangents.
public static partial class Diff
{
    /// <summary>
    /// The value of f at the primals and its tangent, the sum over inputs of J_i·tangents[i]
    /// (forward mode over several inputs), without building a Jacobian.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// tangents has another length than primals, or a tangent's shape differs from its primal's.
    /// </exception>
    public static (Expr Value, Expr Tangent) Jvp(Func<Expr[], Expr> f, Expr[] primals, Expr[] tangents)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(primals, nameof(primals));
        Interop.ThrowIfAnyNull(tangents, nameof(tangents));
        var aligned = AlignTangents("Jvp", primals, tangents);
        var (value, tangent) = CoreDiff.jvpN(Interop.LiftMany(f), Interop.List(primals), ListModule.OfSeq(aligned));
        return (Expr.Wrap(value), Expr.Wrap(tangent));
    }

    /// <summary>
    /// The value of f at x and the linear map <c>tangent =&gt; J·tangent</c>, like JAX's linearize.
    /// The tangent graph is built once; each call of <c>Jvp</c> rebuilds only the part that depends
    /// on its tangent, so the results of many calls share one primal graph and evaluating them
    /// together computes the primal once.
    /// </summary>
    /// <exception cref="ArgumentException">Jvp is called with a tangent whose shape differs from x's.</exception>
    [OverloadResolutionPriority(1)]
    public static (Expr Value, Func<Expr, Expr> Jvp) Linearize(Func<Expr, Expr> f, Expr x)
    {
        ArgumentNullException.ThrowIfNull(f);
        ArgumentNullException.ThrowIfNull(x);
        var (value, apply) = CoreDiff.linearize(Interop.Lift(f), x.Node);
        return (Expr.Wrap(value), tangent =>
        {
            ArgumentNullException.ThrowIfNull(tangent);
            Interop.SameShape("Linearize", x, tangent);
            return Expr.Wrap(apply.Invoke(Expr.Align(x, tangent).B));
        });
    }

    /// <summary>
    /// The value of f at the primals and the linear map <c>tangents =&gt; Σ J_i·tangents[i]</c>, like
    /// JAX's linearize: the tangent graph is built once, and each call of <c>Jvp</c> rebuilds only
    /// the part that depends on its tangents.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// Jvp is called with another number of tangents than primals, or a tangent whose shape differs from its primal's.
    /// </exception>
    public static (Expr Value, Func<Expr[], Expr> Jvp) Linearize(Func<Expr[], Expr> f, params Expr[] primals)
    {
        ArgumentNullException.ThrowIfNull(f);
        Interop.ThrowIfAnyNull(primals, nameof(primals));
        var kept = (Expr[])primals.Clone();
        var (value, apply) = CoreDiff.linearizeN(Interop.LiftMany(f), Interop.List(kept));
        return (Expr.Wrap(value), tangents =>
        {
            Interop.ThrowIfAnyNull(tangents, nameof(tangents));
            var aligned = AlignTangents("Linearize", kept, tangents);
            return Expr.Wrap(apply.Invoke(ListModule.OfSeq(aligned)));
        });
    }

    /// <summary>
    /// The tangents' nodes, each bare literal taking its primal's dtype, after checking that there is
    /// one tangent per primal with the primal's shape; errors name the public method and parameters.
    /// </summary>
    static CoreExpr[] AlignTangents(string method, Expr[] primals, Expr[] tangents)
    {
        if (tangents.Length != primals.Length)
            throw new ShapeException($"{method}: {tangents.Length} tangents for {primals.Length} primals");
        var aligned = new CoreExpr[tangents.Length];
        for (int i = 0; i < tangents.Length; i++)
        {
            var (primal, tangent) = Expr.Align(primals[i], tangents[i]);
            if (!primal.Shape.AsSpan().SequenceEqual(tangent.Shape))
                throw new ShapeException(
                    $"{method}: tangents[{i}] of shape {Shape.format(tangent.Shape)} does not match primals[{i}] of shape {Shape.format(primal.Shape)}");
            aligned[i] = tangent;
        }
        return aligned;
    }
}
