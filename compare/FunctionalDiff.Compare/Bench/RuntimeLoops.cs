using System.Diagnostics;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// The loops behind the runtime's defaults (README: "Memory of large tensors" and "Threading"),
/// run through the C# API as a user would, one loop per process so that the peak working set and
/// the collection counts are the loop's own. Each prints one line: wall time, collections per
/// generation, peak working set, minor page faults and CPU time (from /proc/self on Linux).
/// <list type="bullet">
/// <item><c>loops adds on|off</c>: 2,000 × (1M-element float32 add, then mul), with recycling of
/// large results on (<c>TensorMemory.CacheLimit</c> 256 MB) or off (the default).</item>
/// <item><c>loops train on|off</c>: 5,000 gradient steps over 100k float64 values
/// (<c>Diff.ValueAndGrad</c>, <c>Eval</c>, update).</item>
/// <item><c>loops gaps SPIN_US GAP_US</c> and <c>loops gemm SPIN_US GAP_US</c>: 400 calls of a 1M-element
/// float32 exp (or a 512 × 512 float32 product) with <c>Parallelism.SpinTime</c> = SPIN_US and
/// GAP_US of the caller's own work between calls; median and 90th percentile per call, CPU used, and
/// CPU used over one idle second afterwards.</item>
/// </list>
/// </summary>
public static class RuntimeLoops
{
    /// <summary>Runs the loop the options name; returns the exit code.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        string usage = "usage: loops adds|train on|off, or loops gaps|gemm SPIN_US GAP_US";
        if (options.Count < 2)
        {
            output.WriteLine(usage);
            return 2;
        }
        switch (options[0])
        {
            case "adds":
            case "train":
                TensorMemory.CacheLimit = options[1] == "on" ? 256L << 20 : 0;
                output.WriteLine(options[0] == "adds" ? Adds() : Train());
                return 0;
            case "gaps":
            case "gemm":
                if (options.Count < 3)
                    break;
                Parallelism.SpinTime = TimeSpan.FromMicroseconds(double.Parse(options[1]));
                output.WriteLine(Gapped(options[0] == "gemm", double.Parse(options[2])));
                return 0;
        }
        output.WriteLine(usage);
        return 2;
    }

    static (long MinorFaults, long CpuTicks) ProcessStat()
    {
        if (!OperatingSystem.IsLinux())
            return (0, 0);
        string stat = File.ReadAllText("/proc/self/stat");
        string[] fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        // fields[0] is field 3 (state): minflt is field 10, utime and stime fields 14 and 15
        return (long.Parse(fields[7]), long.Parse(fields[11]) + long.Parse(fields[12]));
    }

    static long PeakWorkingSetMegabytes()
    {
        using var process = Process.GetCurrentProcess();
        return process.PeakWorkingSet64 >> 20;
    }

    /// <summary>Times <paramref name="loop"/> and describes what it cost.</summary>
    static string Measure(string name, Action loop)
    {
        var start = ProcessStat();
        int[] collections = { GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2) };
        var clock = Stopwatch.StartNew();
        loop();
        clock.Stop();
        var end = ProcessStat();
        return $"{name}: {clock.Elapsed.TotalMilliseconds:F0} ms, collections gen0 {GC.CollectionCount(0) - collections[0]}, "
            + $"gen1 {GC.CollectionCount(1) - collections[1]}, gen2 {GC.CollectionCount(2) - collections[2]}, "
            + $"peak working set {PeakWorkingSetMegabytes()} MB, minor faults {end.MinorFaults - start.MinorFaults}, "
            + $"CPU {(end.CpuTicks - start.CpuTicks) * 10} ms";
    }

    static float[] RandomSingles(int count, int seed)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => (float)random.NextDouble()).ToArray();
    }

    static string Adds()
    {
        var a = Tensor.FromArray(RandomSingles(1 << 20, 1));
        var b = Tensor.FromArray(RandomSingles(1 << 20, 2));
        void Step() => ((Expr)((Expr)a + b).Eval() * b).Eval();
        for (int i = 0; i < 50; i++)
            Step();
        return Measure($"2,000 x 1M float32 add and mul, recycling {(TensorMemory.CacheLimit > 0 ? "on" : "off")}", () =>
        {
            for (int i = 0; i < 2000; i++)
                Step();
        });
    }

    static string Train()
    {
        const int n = 100_000;
        var target = Tensor.FromArray(Enumerable.Range(0, n).Select(i => Math.Sin(i * 0.01)).ToArray());
        var w = Tensor.FromArray(new double[n]);
        return Measure($"5,000 steps over 100k float64, recycling {(TensorMemory.CacheLimit > 0 ? "on" : "off")}", () =>
        {
            for (int i = 0; i < 5000; i++)
            {
                var (_, gradient) = Diff.ValueAndGrad(x => ((x - target) * (x - target)).Sum() * 0.5, (Expr)w);
                w = ((Expr)w - (Expr)gradient.Eval() * 0.001).Eval();
            }
        });
    }

    static string Gapped(bool gemm, double gapMicroseconds)
    {
        Func<Tensor> call;
        if (gemm)
        {
            Expr a = Tensor.FromArray(RandomSingles(512 * 512, 1), 512, 512), b = Tensor.FromArray(RandomSingles(512 * 512, 2), 512, 512);
            call = () => a.MatMul(b).Eval();
        }
        else
        {
            Expr x = Tensor.FromArray(RandomSingles(1 << 20, 1));
            call = () => x.Exp().Eval();
        }
        for (int i = 0; i < 200; i++)
            call();
        const int calls = 400;
        var times = new double[calls];
        long gapTicks = (long)(gapMicroseconds * 1e-6 * Stopwatch.Frequency);
        var start = ProcessStat();
        for (int i = 0; i < calls; i++)
        {
            long begin = Stopwatch.GetTimestamp();
            call();
            times[i] = Stopwatch.GetElapsedTime(begin).TotalMicroseconds;
            long until = Stopwatch.GetTimestamp() + gapTicks;
            while (Stopwatch.GetTimestamp() < until) { } // the caller's own work between calls
        }
        var end = ProcessStat();
        Thread.Sleep(200); // past any spin
        var idleStart = ProcessStat();
        Thread.Sleep(1000);
        var idleEnd = ProcessStat();
        Array.Sort(times);
        return $"{(gemm ? "512x512 float32 matmul" : "1M float32 exp")}, spin {Parallelism.SpinTime.TotalMicroseconds:F0} us, gap {gapMicroseconds} us: "
            + $"median {times[calls / 2]:F0} us, p90 {times[calls * 9 / 10]:F0} us, CPU {(end.CpuTicks - start.CpuTicks) * 10} ms, "
            + $"CPU over one idle second {(idleEnd.CpuTicks - idleStart.CpuTicks) * 10} ms";
    }
}
