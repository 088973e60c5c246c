using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Expr.EvalMany: one pass over several roots, against loops.</summary>
public class EvalManyTests
{
    [Fact]
    public void EveryRootGetsItsOwnValueInOrder()
    {
        var a = T(new[] { 2, 3 }, 0);
        var x = a.ToDoubleArray();
        Expr shared = ((Expr)a).Sin();
        var values = Expr.EvalMany(shared * 2.0, shared + 1.0, shared.Sum(), a);
        Assert.Equal(4, values.Length);
        Close(x.Select(v => Math.Sin(v) * 2).ToArray(), values[0].ToDoubleArray(), 1e-15);
        Close(x.Select(v => Math.Sin(v) + 1).ToArray(), values[1].ToDoubleArray(), 1e-15);
        Close(new[] { x.Select(Math.Sin).Sum() }, values[2].ToDoubleArray(), 1e-14);
        Assert.Equal(x, values[3].ToDoubleArray());
        Assert.Equal(new[] { 2, 3 }, values[1].Shape);
        Assert.Empty(values[2].Shape);
    }

    [Fact]
    public void TheSameRootTwiceGivesEqualValues()
    {
        var a = T(new[] { 4 }, 1);
        Expr e = ((Expr)a).Exp();
        var values = Expr.EvalMany(e, e);
        Close(a.ToDoubleArray().Select(Math.Exp).ToArray(), values[0].ToDoubleArray(), 1e-15);
        Assert.Equal(values[0].ToDoubleArray(), values[1].ToDoubleArray());
    }

    [Fact]
    public void NullsAndSymbolicArgumentsAreRefused()
    {
        var e = Assert.Throws<ArgumentNullException>(() => Expr.EvalMany(null!));
        Assert.Equal("roots", e.ParamName);
        Assert.Throws<ArgumentNullException>(() => Expr.EvalMany((Expr)T(new[] { 2 }, 0), null!));
        var inside = Assert.Throws<InvalidOperationException>(() =>
            Diff.Grad(x => { Expr.EvalMany(x); return x.Sum(); })(T(new[] { 2 }, 0)));
        Assert.Contains("EvalMany", inside.Message);
    }
}
