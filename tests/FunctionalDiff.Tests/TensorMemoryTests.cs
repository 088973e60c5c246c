using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>TensorMemory: the C# face of the core's opt-in recycling of large result arrays.</summary>
[Collection(nameof(TensorMemoryTests))] // the limit is process-wide: these run one at a time
public class TensorMemoryTests
{
    [Fact]
    public void CacheLimitRoundTripsAndZeroKeepsNothing()
    {
        long before = TensorMemory.CacheLimit;
        try
        {
            TensorMemory.CacheLimit = 12345;
            Assert.Equal(12345, TensorMemory.CacheLimit);
            TensorMemory.CacheLimit = 0;
            Assert.Equal(0, TensorMemory.CachedBytes);
            TensorMemory.ClearCache();
            Assert.Equal(0, TensorMemory.CachedBytes);
        }
        finally
        {
            TensorMemory.CacheLimit = before;
        }
    }

    [Fact]
    public void NegativeCacheLimitIsRefusedWithItsName()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => TensorMemory.CacheLimit = -1);
        Assert.Contains("CacheLimit", e.Message);
    }

    [Fact]
    public void RecyclingIsOffByDefault()
    {
        // no other test in this process changes the limit outside this collection, whose tests
        // run one at a time and restore it
        Assert.Equal(0, TensorMemory.CacheLimit);
        var x = Tensor.FromArray(Enumerable.Range(0, 30_000).Select(i => i * 1e-3).ToArray());
        for (int k = 0; k < 10; k++)
            ((Expr)x * 3.0).Eval();
        GC.Collect();
        GC.WaitForPendingFinalizers();
        Assert.Equal(0, TensorMemory.CachedBytes);
    }

    [Fact]
    public void WhenTurnedOnLargeResultsKeepTheirValuesWhileDroppedOnesAreRecycled()
    {
        long before = TensorMemory.CacheLimit;
        try
        {
            TensorMemory.CacheLimit = 256L << 20;
            // 30,000 float64 values (240 KB) per result; every fourth result is kept, the rest dropped
            const int n = 30_000;
            double[] Values(int k) => Enumerable.Range(0, n).Select(i => k + i * 1e-3).ToArray();
            var kept = new List<(int K, Tensor Result)>();
            for (int k = 0; k < 40; k++)
            {
                var x = Tensor.FromArray(Values(k));
                var result = ((Expr)x * 3.0).Eval();
                if (k % 4 == 0) kept.Add((k, result));
                if (k % 10 == 9)
                {
                    GC.Collect();
                    GC.WaitForPendingFinalizers();
                }
            }
            // the dropped results' arrays were kept for reuse (two rounds: they come back at their
            // second finalization); with recycling off nothing would be
            for (int round = 0; round < 2; round++)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
            }
            Assert.True(TensorMemory.CachedBytes > 0, "dropped arrays are kept");
            foreach (var (k, result) in kept)
            {
                double[] values = Values(k);
                double[] expected = values.Select(v => v * 3.0).ToArray(); // reference: the same product in a loop
                Assert.Equal(expected, result.ToDoubleArray());
            }
        }
        finally
        {
            TensorMemory.CacheLimit = before;
        }
    }
}
