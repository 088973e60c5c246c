using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The tensor methods that evaluate a small graph run a cached plan from their second call on a signature: the same
/// bits as evaluating the graph, values against reference loops, and a call that allocates little more than its
/// result (counted with GC.GetAllocatedBytesForCurrentThread), where planning a fresh graph allocated kilobytes.
/// </summary>
public class EagerPlanTests
{
    static double[] SoftmaxLoop(double[] x)
    {
        double m = x.Max();
        var e = x.Select(v => Math.Exp(v - m)).ToArray();
        double s = e.Sum();
        return e.Select(v => v / s).ToArray();
    }

    [Fact]
    public void RepeatedCallsGiveTheGraphsBitsAndTheReferenceValues()
    {
        for (int call = 0; call < 4; call++)
        {
            var t = T(new[] { 2, 5 }, salt: call);
            var viaPlan = t.Softmax(1).ToDoubleArray();
            Assert.Equal(((Expr)t).Softmax(1).Eval().ToDoubleArray(), viaPlan);
            var xs = t.ToDoubleArray();
            Close(SoftmaxLoop(xs[..5]).Concat(SoftmaxLoop(xs[5..])).ToArray(), viaPlan, 1e-15, $"call {call}");
            Assert.Equal(((Expr)t).Std(1, 1.0, false).Eval().ToDoubleArray(), t.Std(1).ToDoubleArray());
            Assert.Equal(((Expr)t).Tile(2, 1).Eval().ToDoubleArray(), t.Tile(2, 1).ToDoubleArray());
        }
        // a different parameter is a different plan: axis 0 is not axis 1
        var u = T(new[] { 2, 5 }, salt: 9);
        Assert.Equal(((Expr)u).Softmax(0).Eval().ToDoubleArray(), u.Softmax(0).ToDoubleArray());
    }

    [Fact]
    public void ACachedCallAllocatesLittleMoreThanItsResult()
    {
        var tensors = Enumerable.Range(0, 8).Select(i => T(new[] { 4, 4 }, salt: i)).ToArray();
        tensors[0].LogSumExp(1);
        tensors[1].LogSumExp(1);
        long first = long.MaxValue, cached = long.MaxValue;
        var fresh = T(new[] { 3, 7 }, salt: 20);
        long before = GC.GetAllocatedBytesForCurrentThread();
        fresh.LogSumExp(1);   // a new signature: the graph is built and planned
        first = GC.GetAllocatedBytesForCurrentThread() - before;
        for (int i = 2; i < 8; i++)
        {
            before = GC.GetAllocatedBytesForCurrentThread();
            tensors[i].LogSumExp(1);
            cached = Math.Min(cached, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        Assert.True(cached < 2048, $"a cached call allocated {cached} bytes");
        Assert.True(cached * 4 < first, $"a cached call allocated {cached} bytes, a first one {first}");
    }

    [Fact]
    public void LargeInputsAndManyShapesStillGiveTheRightValues()
    {
        // above the size the cache takes, and more signatures than it holds
        var large = T(new[] { 2, 3000 });
        var xs = large.ToDoubleArray();
        Close(SoftmaxLoop(xs[..3000]).Concat(SoftmaxLoop(xs[3000..])).ToArray(), large.Softmax(1).ToDoubleArray(), 1e-15, "large");
        for (int n = 1; n <= 80; n++)
        {
            var t = T(new[] { n }, salt: n);
            Close(SoftmaxLoop(t.ToDoubleArray()), t.Softmax(0).ToDoubleArray(), 1e-15, $"n = {n}");
        }
    }
}
