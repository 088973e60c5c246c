using System.Diagnostics;
using FunctionalDiff.Compare.Suite;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// `bench --scan`'s checkpointing rows (issue 19 §2): the LSTM objective and its gradient at T = 4,096, compiled,
/// with <c>ScanCheckpoint.Sqrt</c> against the same Scan without checkpointing. Memory: the peak growth of the
/// managed heap during the first call of each compiled function (its plan's arena, which keeps the saved values,
/// is allocated then), sampled every millisecond by a side thread that runs only during the call. Time: the median of alternating single calls (wall, or the calling thread's CPU time with
/// `--thread-time`). Both sides are ours, so no torch column.
/// </summary>
public static class CheckpointBench
{
    static readonly RecurrentModels.LstmSize Lstm = new(Vocabulary: 64, Hidden: 128, Batch: 16, Steps: 4096);

    /// <summary>Prints the table for both dtypes.</summary>
    public static void Run(TextWriter output, bool quick, bool threadTime)
    {
        output.WriteLine();
        output.WriteLine($"### Checkpointing: LSTM, 2 layers, hidden {Lstm.Hidden}, batch {Lstm.Batch}, T = {Lstm.Steps:N0}, objective + gradient, compiled");
        output.WriteLine();
        output.WriteLine("- √T: `Expr.Scan(step, init, xs, new ScanOptions { Checkpoint = ScanCheckpoint.Sqrt })` (a carry saved every 64 steps, " +
                         "each segment recomputed in the backward pass); none: `Expr.Scan(step, init, xs)`");
        output.WriteLine("- peak memory: the largest growth of `GC.GetTotalMemory(false)` over the first call of the compiled function " +
                         "(which allocates its plan's arena, where the saved values live), sampled every ms; " +
                         $"time: median of {(quick ? 2 : 3)} alternating later calls " +
                         (threadTime ? "(CPU time of the calling thread)" : "(wall time)"));
        output.WriteLine();
        output.WriteLine("| dtype | peak memory, √T | peak memory, none | memory √T / none | target | time, √T | time, none | time √T / none | target | holds | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var checkpointed = Objective(dtype, (step, init, xs) => Expr.Scan(step, init, xs, new ScanOptions { Checkpoint = ScanCheckpoint.Sqrt }));
            long memoryCheckpointed = PeakGrowth(() => checkpointed());
            var plain = Objective(dtype, Loops.Scan);
            long memoryPlain = PeakGrowth(() => plain());
            double difference = Benchmarks.MaxRelativeDifference(checkpointed(), plain());
            var times = new[] { new List<double>(), new List<double>() };
            var calls = new Func<double[]>[] { checkpointed, plain };
            for (int round = 0; round < (quick ? 2 : 3); round++)
                for (int side = 0; side < 2; side++)
                {
                    Thread.Sleep(Benchmarks.PauseMilliseconds);
                    var wall = Stopwatch.StartNew();
                    double cpu = Benchmarks.ThreadSeconds();
                    calls[side]();
                    times[side].Add(threadTime ? Benchmarks.ThreadSeconds() - cpu : wall.Elapsed.TotalSeconds);
                }
            double timeCheckpointed = Benchmarks.Median(times[0]), timePlain = Benchmarks.Median(times[1]);
            double memoryRatio = (double)memoryCheckpointed / memoryPlain, timeRatio = timeCheckpointed / timePlain;
            bool holds = memoryRatio <= 0.25 && timeRatio <= 1.5;
            output.WriteLine($"| {dtype.ToString().ToLowerInvariant()} | {Megabytes(memoryCheckpointed)} | {Megabytes(memoryPlain)} | {memoryRatio:F3}× | ≤ 0.25× | " +
                             $"{timeCheckpointed:F2} s | {timePlain:F2} s | {timeRatio:F2}× | ≤ 1.5× | {(holds ? "yes" : "no")} | {difference:E1} |");
            output.Flush();
        }
    }

    /// <summary>A compiled call returning the objective and its 8 parameter gradients, flattened.</summary>
    static Func<double[]> Objective(DType dtype, OurScan loop)
    {
        var size = Lstm;
        var tokens = RecurrentModels.Tokens(size, 1911);
        double[] oneHot = RecurrentModels.OneHot(size, tokens);
        int[] targets = RecurrentModels.Targets(size, tokens);
        var random = new Random(1912);
        double scale = 1 / Math.Sqrt(size.Hidden);
        var parameters = size.Parameters
            .Select(s => Tensor.FromArray(Enumerable.Range(0, s.Aggregate(1, (a, b) => a * b)).Select(_ => scale * (2 * random.NextDouble() - 1)).ToArray(), s).Cast(dtype))
            .ToArray();
        var input = Tensor.FromArray(oneHot, size.Steps, size.Batch, size.Vocabulary).Cast(dtype);
        var step = Diff.Compile((Expr[] p) =>
        {
            var (l, g) = Diff.ValueAndGrad(q => RecurrentModels.LstmObjective(loop, size, p[8], targets, q), p[..8]);
            return [l, .. g];
        });
        var arguments = parameters.Append(input).ToArray();
        return () => step.Invoke(arguments).SelectMany(t => t.ToDoubleArray()).ToArray();
    }

    /// <summary>
    /// The peak growth of the managed heap over the first call of a compiled function, which allocates its
    /// plan's arena (where the saved residuals live, kept for later calls) and the loops' stacks: a side thread
    /// samples <c>GC.GetTotalMemory(false)</c> every millisecond until the call returns (no collection is forced).
    /// </summary>
    static long PeakGrowth(Action call)
    {
        long baseline = GC.GetTotalMemory(false);
        long peak = baseline;
        using var done = new ManualResetEventSlim(false);
        var sampler = new Thread(() =>
        {
            while (!done.Wait(1))
            {
                long now = GC.GetTotalMemory(false);
                if (now > Volatile.Read(ref peak)) Volatile.Write(ref peak, now);
            }
        }) { IsBackground = true, Name = "peak memory sampler" };
        sampler.Start();
        call();
        done.Set();
        sampler.Join();
        return Math.Max(Volatile.Read(ref peak), GC.GetTotalMemory(false)) - baseline;
    }

    static string Megabytes(long bytes) => $"{bytes / 1048576.0:F1} MB";
}
