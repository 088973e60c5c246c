using System.Diagnostics;
using System.Reflection;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// ToString (and so the debugger) describes one node in one short line, whatever the size of the
/// graph behind it; ToText prints the whole graph, one line per node.
/// </summary>
public class PrintingTests
{
    /// <summary>The distinct nodes behind e, counted by a walk of the public Inputs (reference identity).</summary>
    static List<Expr> Nodes(Expr root)
    {
        var seen = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
        var order = new List<Expr>();
        var stack = new Stack<Expr>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (!seen.Add(e)) continue;
            order.Add(e);
            foreach (var input in e.Inputs) stack.Push(input);
        }
        return order;
    }

    static Expr Chain(int steps)
    {
        Expr e = Tensor.Ones(new[] { 2, 3 });
        for (int i = 0; i < steps; i++) e = (e * 1.5).Sin();
        return e;
    }

    [Fact]
    public void ToStringIsOneShortLineHoweverLargeTheGraph()
    {
        var e = Chain(10_000);
        Assert.True(Nodes(e).Count > 20_000, "the graph is large");
        Assert.Equal("Expr(sin, Float64, [2,3])", e.ToString());
        Assert.Equal("Expr(reduce_sum, Float32, [])", ((Expr)Tensor.Ones(new[] { 4 }, DType.Float32)).Sum().ToString());
    }

    [Fact]
    public void ToTextHasOneLinePerComputedNode()
    {
        var e = Chain(50);
        // Leaves print inline (rank-0 constants) or in the header (variables); every other node,
        // tensor constants included, gets one line "name:type = op args".
        var computed = Nodes(e).Count(n => !(n.Op == "const" && n.Rank == 0) && n.Op != "var");
        var lines = e.ToText().Split('\n').Count(line => line.Contains(" = "));
        Assert.Equal(computed, lines);
        Assert.Equal(101, computed);   // 50 multiplications, 50 sines and the [2,3] constant
    }

    [Fact]
    public void TheDebuggerShowsToString()
    {
        var display = typeof(Expr).GetCustomAttribute<DebuggerDisplayAttribute>();
        Assert.NotNull(display);
        Assert.Equal("{ToString(),nq}", display!.Value);
    }
}
