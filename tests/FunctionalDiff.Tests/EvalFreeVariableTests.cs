using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Eval and EvalMany of a graph over a transform's symbolic argument: the error names the
/// argument and says why, for one root and for several (the graph is walked for free variables
/// only once evaluation has failed), and closed graphs still evaluate, again and again.
/// </summary>
public class EvalFreeVariableTests
{
    static readonly Expr M = Tensor.Ones(new[] { 2, 3 });

    [Fact]
    public void EvalManyOfATransformsArgumentExplainsWhy()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Diff.Grad(x => { Expr.EvalMany(x.Sin(), M * 2); return x.Sum(); })(M));
        Assert.StartsWith("EvalMany: these expressions depend on", e.Message);
        Assert.Contains("symbolic argument of a transform", e.Message);
    }

    [Fact]
    public void ClosedGraphsEvaluateEveryTime()
    {
        var y = (M * 3).Sum();
        for (int i = 0; i < 3; i++)
        {
            Assert.Equal(18.0, y.Eval().ToDoubleArray()[0]);
            var both = Expr.EvalMany(y, M + 1);
            Assert.Equal(18.0, both[0].ToDoubleArray()[0]);
            Assert.All(both[1].ToDoubleArray(), v => Assert.Equal(2.0, v));
        }
    }
}
