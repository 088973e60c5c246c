using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// A compiled function folds the subgraphs that hold no input; a custom op's value is its forward graph, so where that
/// forward holds no input (glu of an empty tensor: its halves are empty constants) the plan folds it without reading the
/// input beside it, which the op's rule alone reads. The result is what <c>Eval</c> gives: the empty tensor of the shape
/// rule's shape.
/// </summary>
public class CompiledEmptyCustomTests
{
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void GluOfAnEmptyTensorCompiles(DType dtype)
    {
        var x = Tensor.FromArray(Array.Empty<double>(), 0, 1).Cast(dtype);
        Expr F(Expr e) => e.DiagEmbed(-1).Glu(2).Abs();
        // diag_embed of [0, 1] with offset −1 is [0, 2, 2]; glu halves the last axis: [0, 2, 1]
        var compiled = Diff.Compile((Expr[] p) => new[] { F(p[0]), Diff.Grad(e => F(e).Sum())(p[0]) });
        var outs = compiled.Invoke(x);
        Assert.Equal(new[] { 0, 2, 1 }, outs[0].Shape);
        Assert.Equal(new[] { 0, 1 }, outs[1].Shape);
        Assert.Equal(F(x).Eval().Shape, outs[0].Shape);
        // and again, through the cached plan
        Assert.Equal(new[] { 0, 2, 1 }, compiled.Invoke(x)[0].Shape);
    }

    [Fact]
    public void AnUnboundVariableStillRaisesWhereTheResultNeedsIt()
    {
        // a transform's Var leaked out of f reads nothing the results bind: evaluating it fails, naming the Eval
        Expr leaked = null!;
        Diff.Grad(e => { leaked = e.Sin(); return leaked.Sum(); })(Tensor.FromArray(new[] { 1.0, 2.0 }, 2));
        Assert.Contains("Eval", Assert.ThrowsAny<InvalidOperationException>(() => leaked.Eval()).Message);
    }
}
