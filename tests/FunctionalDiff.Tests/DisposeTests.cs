using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Tensor as IDisposable, the way a TorchSharp user writes it (<c>using var t = ...</c>, <c>Tensor.NewDisposeScope()</c>):
/// later use throws naming the shape, a large array that the tensor alone held is reused by the next result of its size,
/// and an array anything else may read (a view, a constant, a plan) is never handed back. Counted in bytes, never timed.
/// </summary>
[Collection(nameof(TensorMemoryTests))] // the pool is process-wide: these run one at a time with the recycling tests
public class DisposeTests : IDisposable
{
    // Arrays a test's disposed tensors left in the pool would be counted by the next test of the collection
    // (RecyclingIsOffByDefault expects none kept): xunit calls this after each test.
    public void Dispose() => TensorMemory.ClearCache();

    // An unusual length (about 1 MB of float64), so no other test asks the pool for arrays of it.
    const int N = 123_457;

    static double[] ExpOf(double[] values) => values.Select(Math.Exp).ToArray();

    static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-14 * Math.Abs(expected[i]), $"entry {i}: {actual[i]} against {expected[i]}");
    }

    [Fact]
    public void UsingVarDisposesAndALaterUseThrowsNamingTheShape()
    {
        Tensor kept;
        using (var t = Tensor.Ones(2, 3))
        {
            Assert.Equal(6.0, t.Sum().Item());
            kept = t;
        }
        Assert.True(kept.IsDisposed);
        var e = Assert.Throws<ObjectDisposedException>(() => kept.ToArray());
        Assert.Contains("[2,3]", e.Message);
        Assert.Throws<ObjectDisposedException>(() => kept + 1.0);
        Assert.Throws<ObjectDisposedException>(() => kept.Item());
        Assert.Throws<ObjectDisposedException>(() => (Expr)kept);
        Assert.Equal(new[] { 2, 3 }, kept.Shape);      // the shape stays readable, as the message needs it
        kept.Dispose();                                  // a second Dispose does nothing
        Assert.Contains("disposed", kept.ToString());    // a debugger's view does not throw
    }

    [Fact]
    public void ADisposedLargeResultIsReusedByTheNextResultOfItsSize()
    {
        TensorMemory.ClearCache();
        var a = Tensor.RandomNormal([N], seed: 1);
        var expected = ExpOf(a.ToArray());
        var first = a.Exp();
        first.Dispose();
        Assert.Equal((long)N * sizeof(double), TensorMemory.CachedBytes);

        long before = GC.GetAllocatedBytesForCurrentThread();
        var second = a.Exp();
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // the 988 KB array came from the pool: what is left is the tensor objects and their shape arrays
        Assert.True(allocated < N, $"allocated {allocated} bytes");
        Assert.Equal(0, TensorMemory.CachedBytes);
        AssertClose(expected, second.ToArray());
    }

    [Fact]
    public void AViewKeepsItsSourcesArrayAfterTheSourceIsDisposed()
    {
        TensorMemory.ClearCache();
        var a = Tensor.RandomNormal([N], seed: 2);
        var expected = ExpOf(a.ToArray());
        var source = a.Exp();
        var view = source.Reshape(1, N);
        source.Dispose();
        Assert.Equal(0, TensorMemory.CachedBytes);            // not handed back: the view reads it
        var other = a.Exp() * 0.0;                           // results of the same size take fresh arrays
        AssertClose(expected, view.ToArray());
        view.Dispose();                                      // a view never owns its array
        Assert.Equal(0, TensorMemory.CachedBytes);
        Assert.All(other.ToArray(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void ACapturedTensorIsNeverHandedBackAndItsGraphThenThrows()
    {
        TensorMemory.ClearCache();
        var w = Tensor.RandomNormal([N], seed: 3).Exp();
        var expected = w.ToArray().Select(v => 2 * v).ToArray();
        var graph = (Expr)w * 2.0;
        var step = Diff.Compile(x => x * w);
        AssertClose(expected, step.Invoke(Tensor.Full([N], 2.0))[0].ToArray());
        w.Dispose();
        Assert.Equal(0, TensorMemory.CachedBytes);
        Assert.Throws<ObjectDisposedException>(() => graph.Eval());
        Assert.Throws<ObjectDisposedException>(() => step.Invoke(Tensor.Full([N], 2.0)));
    }

    [Fact]
    public void ACompiledResultDisposedEachStepIsReusedByTheNextStep()
    {
        TensorMemory.ClearCache();
        var x = Tensor.RandomNormal([N], seed: 4);
        var expected = x.ToArray().Select(v => Math.Sin(v) * v).ToArray();
        var step = Diff.Compile(v => v.Sin() * v);
        step.Invoke(x)[0].Dispose();                         // the first call traces and plans
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 5; i++)
        {
            using var y = step.Invoke(x)[0];
            if (i == 4)
            {
                var values = y.ToArray();
                for (int k = 0; k < N; k++) Assert.True(Math.Abs(values[k] - expected[k]) <= 1e-14 * Math.Abs(expected[k]) + 1e-300);
            }
        }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        // five results of 988 KB each, one array between them; ToArray's own copy is the rest
        Assert.True(allocated < 2L * N * sizeof(double), $"allocated {allocated} bytes");
    }

    [Fact]
    public void AScopeDisposesWhatWasMadeInsideItAndNothingElse()
    {
        var outside = Tensor.FromArray([1.0, 2.0, 3.0]);
        Tensor inside, detached, sameDType, moved;
        using (var outer = Tensor.NewDisposeScope())
        {
            using (var scope = Tensor.NewDisposeScope())
            {
                inside = outside + 1.0;
                detached = scope.Detach(outside * 2.0);
                sameDType = outside.Cast(DType.Float64);     // a view: disposing it leaves outside alone
                moved = scope.MoveToOuter(outside - 1.0);
                Assert.Equal(2, scope.Count);
            }
            Assert.True(inside.IsDisposed);
            Assert.True(sameDType.IsDisposed);
            Assert.False(moved.IsDisposed);
            Assert.Equal(1, outer.Count);
        }
        Assert.True(moved.IsDisposed);
        Assert.False(detached.IsDisposed);
        Assert.False(outside.IsDisposed);
        Assert.Equal(new[] { 1.0, 2.0, 3.0 }, outside.ToArray());
        Assert.Equal(new[] { 2.0, 4.0, 6.0 }, detached.ToArray());
    }

    [Fact]
    public void TorchSharpsTensorSideSpellingsMoveAndDetach()
    {
        var outside = Tensor.FromArray([1.0, -1.0]);
        Tensor moved, detached;
        using (var outer = Tensor.NewDisposeScope())
        {
            using (var inner = Tensor.NewDisposeScope())
            {
                moved = (outside * 3.0).MoveToOuterDisposeScope();
                detached = (outside * 4.0).DetachFromDisposeScope();
                Assert.Same(outside, outside.MoveToOuterDisposeScope());   // held by no scope: unchanged
                Assert.Equal(0, inner.Count);
                Assert.Equal(1, outer.Count);
            }
            Assert.False(moved.IsDisposed);
        }
        Assert.True(moved.IsDisposed);
        Assert.Equal(new[] { 4.0, -4.0 }, detached.ToArray());
    }

    [Fact]
    public void ScopesCloseInOrder()
    {
        var outer = Tensor.NewDisposeScope();
        var inner = Tensor.NewDisposeScope();
        var e = Assert.Throws<InvalidOperationException>(() => outer.Dispose());
        Assert.Contains("TensorScope.Dispose", e.Message);
        inner.Dispose();
        outer.Dispose();
    }

    [Fact]
    public void AnOptimizersParametersOutliveAScopeAroundTheStep()
    {
        var adam = new Adam(Parameters.Of(("w", Tensor.FromArray([1.0, -1.0]))), lr: 0.1);
        using (var scope = Tensor.NewDisposeScope())
        {
            var gradients = Parameters.Of(("w", Tensor.FromArray([0.5, -2.0])));
            adam.Step(gradients);
        }
        // Adam's first step moves each entry by lr · g / (|g| + eps): by 0.1 against the gradient's sign
        var w = adam.Parameters["w"].ToArray();
        Assert.Equal(1.0 - 0.1 * 0.5 / (0.5 + 1e-8), w[0], 12);
        Assert.Equal(-1.0 + 0.1 * 2.0 / (2.0 + 1e-8), w[1], 12);
    }
}
