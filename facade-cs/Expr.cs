using System.Diagnostics;
using System.Runtime.CompilerServices;
using FunctionalDiff.Core;
using Build = FunctionalDiff.Core.ExprModule;
using CoreDType = FunctionalDiff.Core.DType;
using CoreEval = FunctionalDiff.Core.Eval;
using CoreExpr = FunctionalDiff.Core.Expr;

namespace FunctionalDiff;

/// <summary>
/// A symbolic tensor: an immutable node of an expression graph with a static shape and dtype.
/// Building one computes nothing; <see cref="Eval"/> computes its value, and the transforms in
/// <see cref="Diff"/> turn functions over Exprs into functions that compute derivatives.
/// </summary>
/// <remarks>
/// Structurally equal nodes are one object, so two Exprs built the same way from the same leaves
/// are the same reference. <c>==</c> and <c>!=</c> are reference equality; use
/// <see cref="Eq"/> and <see cref="Ne"/> for elementwise comparisons.
/// </remarks>
[DebuggerDisplay("{ToString(),nq}")]
public sealed partial class Expr
{
    internal CoreExpr Node { get; }

    /// <summary>
    /// True for a bare <c>double</c> literal: it has no dtype of its own yet and takes that of the
    /// Expr it meets, so <c>x * 2.0</c> stays float32 when x is (JAX calls this a weak type).
    /// </summary>
    internal bool IsLiteral { get; }

    Expr(CoreExpr node, bool isLiteral)
    {
        Node = node;
        IsLiteral = isLiteral;
    }

    // One wrapper per core node keeps reference equality structural, as it is in the core. The
    // node holds its wrapper (a table beside the nodes cost every collection a pass over one
    // handle per node); the first wrapper stored wins when two threads wrap a node at once.
    internal static Expr Wrap(CoreExpr node) =>
        Volatile.Read(ref node.FacadeWrapper) as Expr
        ?? (Expr)(Interlocked.CompareExchange(ref node.FacadeWrapper, new Expr(node, false), null) ?? node.FacadeWrapper);

    /// <summary>
    /// A constant node holding the tensor; a null tensor gives null, so an optional argument written torch's way,
    /// <c>Nn.Linear(x, w, useBias ? b : null)</c> with a <see cref="Tensor"/> <c>b</c>, means "none" (the conditional's
    /// type is Tensor, so its null comes through here). A required argument that is null is refused by the method, which
    /// names its own parameter.
    /// </summary>
    [return: System.Diagnostics.CodeAnalysis.NotNullIfNotNull(nameof(value))]
    public static implicit operator Expr?(Tensor? value) => value is null ? null : Wrap(Build.constant(value.Value));

    /// <summary>A rank-0 constant that takes the dtype of the Expr it is combined with (float64 alone).</summary>
    public static implicit operator Expr(double value) => new(Build.scalar(CoreDType.Float64, value), isLiteral: true);

    /// <summary>The dimensions (a copy).</summary>
    public int[] Shape => Node.Shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => Node.Rank;

    /// <summary>The number of elements, the product of <see cref="Shape"/> (torch's <c>numel()</c>; 1 for a scalar).</summary>
    public int Numel => Shape.Aggregate(1, (n, d) => n * d);

    /// <summary>The element type.</summary>
    public DType DType => Interop.FromCore(Node.DType);

    /// <summary>The name of the primitive this node applies, e.g. "sin", "add", "matmul", "var", "const".</summary>
    public string Op => OpName.name(Node.Op);

    /// <summary>The input nodes, in the primitive's order (empty for a leaf).</summary>
    public IReadOnlyList<Expr> Inputs => Interop.Wrap(Node.Inputs);

    /// <summary>The name of every primitive of the core, as <see cref="Op"/> reports them.</summary>
    public static IReadOnlyList<string> PrimitiveNames { get; } = Array.AsReadOnly(OpName.all);

    /// <summary>Computes the value of the graph.</summary>
    /// <exception cref="InvalidOperationException">
    /// The graph depends on the symbolic argument of a transform: inside a function passed to
    /// <see cref="Diff"/>, the argument is a placeholder with no value yet.
    /// </exception>
    public Tensor Eval()
    {
        // The graph is walked for free variables only when evaluation fails: a cached plan runs
        // without a walk of the graph, and a graph with a free variable fails to compile.
        try
        {
            return new Tensor(CoreEval.eval(Node));
        }
        catch (InvalidOperationException e) when (FirstFreeVariable([Node]) is { } free)
        {
            throw new InvalidOperationException(
                $"Eval: this expression depends on {free}, the symbolic argument of a transform (Diff.Grad, Diff.Vjp, ...). " +
                "It has no value inside the function being transformed; evaluate the transform's result instead.", e);
        }
    }

    /// <summary>The first variable the graphs depend on, or null for closed graphs.</summary>
    static CoreExpr? FirstFreeVariable(CoreExpr[] nodes)
    {
        var free = Graph.variables(nodes);
        return free.Length > 0 ? free[0] : null;
    }

    /// <summary>
    /// Computes the values of several graphs in one pass: a node they share (the forward pass
    /// behind a loss and its gradients) is computed once, where one <see cref="Eval"/> per root
    /// would compute it once per root.
    /// </summary>
    /// <returns>One tensor per root, in order.</returns>
    /// <exception cref="InvalidOperationException">A root depends on the symbolic argument of a transform.</exception>
    public static Tensor[] EvalMany(params Expr[] roots)
    {
        Interop.ThrowIfAnyNull(roots, nameof(roots));
        var nodes = roots.Select(r => r.Node).ToArray();
        try
        {
            return CoreEval.evalMany(nodes).Select(t => new Tensor(t)).ToArray();
        }
        catch (InvalidOperationException e) when (FirstFreeVariable(nodes) is { } free)
        {
            throw new InvalidOperationException(
                $"EvalMany: these expressions depend on {free}, the symbolic argument of a transform (Diff.Grad, Diff.Vjp, ...). " +
                "It has no value inside the function being transformed; evaluate the transform's result instead.", e);
        }
    }

    /// <summary>The graph in Graphviz DOT, one box per node.</summary>
    public string ToDot() => Print.dot(Node);

    /// <summary>
    /// The whole graph behind this Expr as text, one line per node like a jaxpr, ending with the
    /// line that computes this node. Its length grows with the graph (every node once, shared ones
    /// included), so it is meant for graphs you want to read; <see cref="ToString"/> stays short.
    /// </summary>
    public string ToText() => Print.text(Node);

    /// <summary>
    /// A one-line summary of this node alone, e.g. <c>Expr(sin, Float64, [2,3])</c>: its primitive,
    /// dtype and shape, never the graph behind it (so a debugger shows any Expr at once). The whole
    /// graph is <see cref="ToText"/>.
    /// </summary>
    public override string ToString() => $"Expr({Op}, {DType}, [{string.Join(",", Node.Shape)}])";

    /// <summary>
    /// The two operands' nodes, with a bare literal given the dtype of the other operand. A null
    /// operand is reported under the caller's parameter name.
    /// </summary>
    internal static (CoreExpr A, CoreExpr B) Align(Expr a, Expr b,
        [CallerArgumentExpression(nameof(a))] string aName = "", [CallerArgumentExpression(nameof(b))] string bName = "")
    {
        ArgumentNullException.ThrowIfNull(a, aName);
        ArgumentNullException.ThrowIfNull(b, bName);
        if (a.IsLiteral && !b.IsLiteral) return (Build.cast(b.Node.DType, a.Node), b.Node);
        if (b.IsLiteral && !a.IsLiteral) return (a.Node, Build.cast(a.Node.DType, b.Node));
        return (a.Node, b.Node);
    }

    /// <summary>The nodes of several operands, bare literals taking the dtype of the first that is not one.</summary>
    internal static CoreExpr[] Align(Expr[] parts, string name)
    {
        Interop.ThrowIfAnyNull(parts, name);
        var typed = parts.FirstOrDefault(p => !p.IsLiteral);
        return parts.Select(p => p.IsLiteral && typed is not null ? Build.cast(typed.Node.DType, p.Node) : p.Node).ToArray();
    }
}
