using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using FunctionalDiff.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Bench;

// the benchmarks time the core's kernels directly, not the C# facade that shares these names
using Tensor = FunctionalDiff.Core.Tensor;
using DType = FunctionalDiff.Core.DType;

/// <summary>
/// Side-by-side timings of FunctionalDiff's tensor kernels and TorchSharp (libtorch) in one
/// process, on the same data, printed as a Markdown table. Matrix products are reported in
/// GFLOP/s, elementwise ops in microseconds per op; the last column is how many times faster
/// ours is (above 1: ours is faster).
/// </summary>
public static class Benchmarks
{
    /// <summary>
    /// Runs every benchmark; `--quick` keeps only the small sizes; `--nested` runs the transforms-in-loops
    /// table of <see cref="NestedBench"/> instead,
    /// `--steps` the steps table of <see cref="StepsBench"/>, `--linalg` the linear-algebra table of
    /// <see cref="LinalgBench"/>, `--conv` the convolution rows of <see cref="ConvBench"/>, `--vmap` the vmap
    /// table of <see cref="VmapBench"/>, `--scan` the loops table of <see cref="ScanBench"/>, `--ops` the table of <see cref="OpsBench"/>, `--adbench` the ADBench objectives of <see cref="PeerBench"/>. Returns the exit code.
    /// </summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (options.Contains("--nested")) return NestedBench.Run(output, options);
        if (options.Contains(StepsBench.TrainingOption)) return StepsBench.TrainingChild(output);
        if (options.Contains(StepsBench.ChainOption)) return StepsBench.ChainChild(output);
        if (options.Contains("--steps")) return StepsBench.Run(output, options);
        if (options.Contains("--linalg")) return LinalgBench.Run(output, options);
        if (options.Contains("--conv")) return ConvBench.Run(output, options);
        if (options.Contains("--vmap")) return VmapBench.Run(output, options);
        if (options.Contains("--scan")) return ScanBench.Run(output, options);
        if (options.Contains("--ops")) return OpsBench.Run(output, options);
        if (options.Contains("--adbench")) return PeerBench.Run(output, options);
        bool quick = options.Contains("--quick");
        int[] matrixSizes = quick ? new[] { 256, 512 } : new[] { 256, 512, 1024, 2048 };
        int[] elementCounts = { 16, 1024, 1 << 20 };
        // Both libraries get every core: ours splits large products across Environment.ProcessorCount.
        torch.set_num_threads(Environment.ProcessorCount);

        WriteHeader(output, options);
        output.WriteLine("| benchmark | dtype | size | FunctionalDiff | TorchSharp | ours vs torch | max rel. difference | our page faults per call |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        using (torch.no_grad())
        {
            foreach (var dtype in new[] { DType.Float32, DType.Float64 })
                foreach (int n in matrixSizes)
                    output.WriteLine(MatMulRow(dtype, n, quick));
            foreach (string op in new[] { "add", "mul", "exp", "tanh" })
                foreach (int count in elementCounts)
                    output.WriteLine(ElementwiseRow(op, count, quick));
        }
        output.WriteLine();
        output.WriteLine($"Total benchmark time {clock.Elapsed.TotalSeconds:F0} s. Each figure is the median of all calls timed in {(quick ? 3 : 7)} alternating rounds per library (20 ms of calls each, at least two) after a warm-up.");
        return 0;
    }

    static void WriteHeader(TextWriter output, IReadOnlyList<string> options)
    {
        output.WriteLine("## FunctionalDiff vs TorchSharp benchmarks");
        output.WriteLine();
        output.WriteLine($"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC");
        output.WriteLine($"- command: `dotnet run -c Release --project compare/FunctionalDiff.Compare -- bench{string.Concat(options.Select(o => " " + o))}`");
        output.WriteLine($"- machine: {CpuName()}, {Environment.ProcessorCount} logical processors, " +
                         $"Vector512 accelerated: {Vector512.IsHardwareAccelerated}, Vector256 accelerated: {Vector256.IsHardwareAccelerated}");
        output.WriteLine($"- runtime: .NET {Environment.Version} (tiered compilation: {AppContext.GetData("System.Runtime.TieredCompilation") ?? "default"}), " +
                         $"TorchSharp {typeof(torch).Assembly.GetName().Version}, torch threads: {torch.get_num_threads()} (set to the processor count; " +
                         "run with DOTNET_PROCESSOR_COUNT=1 to compare single cores)");
        output.WriteLine("- matmul: C = A·B with n×n A and B, GFLOP/s = 2n³ / time; torch.matmul allocates its result like ours");
        output.WriteLine("- elementwise: float32, inputs preallocated, each op allocates its result (torch's is disposed at once), outside autograd");
        output.WriteLine();
    }

    internal static string CpuName()
    {
        try
        {
            string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
            return line is null ? "unknown CPU" : line[(line.IndexOf(':') + 1)..].Trim();
        }
        catch (IOException)
        {
            return "unknown CPU";
        }
    }

    static string MatMulRow(DType dtype, int n, bool quick)
    {
        var random = new Random(n);
        double[] aValues = Enumerable.Range(0, n * n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        double[] bValues = Enumerable.Range(0, n * n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var shape = new[] { n, n };
        var a = Tensor.FromArray(aValues, shape).Cast(dtype);
        var b = Tensor.FromArray(bValues, shape).Cast(dtype);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        using var ta = torch.tensor(aValues, ScalarType.Float64).reshape(n, n).to_type(scalar);
        using var tb = torch.tensor(bValues, ScalarType.Float64).reshape(n, n).to_type(scalar);

        double[] ours = LinearAlgebra.matmul(a, b).ToDoubleArray();
        double[] theirs;
        using (var product = torch.matmul(ta, tb).to_type(ScalarType.Float64))
            theirs = product.data<double>().ToArray();

        var (oursSeconds, torchSeconds, faults) = Medians(quick, () => LinearAlgebra.matmul(a, b), () => torch.matmul(ta, tb).Dispose());
        double flop = 2.0 * n * n * (double)n;
        double oursRate = flop / oursSeconds / 1e9, torchRate = flop / torchSeconds / 1e9;
        return $"| matmul | {dtype} | {n} | {oursRate:F1} GFLOP/s | {torchRate:F1} GFLOP/s | {oursRate / torchRate:F2}× | {MaxRelativeDifference(ours, theirs):E1} | {FaultsPerCall(faults, 1)} |";
    }

    static string ElementwiseRow(string op, int count, bool quick)
    {
        var shape = new[] { count };
        // inputs in [-2, 2]: exp and tanh stay in their interesting range
        var random = new Random(count);
        float[] xValues = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        float[] yValues = Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var x = Tensor.FromArray(xValues, shape);
        var y = Tensor.FromArray(yValues, shape);
        using var tx = torch.tensor(xValues);
        using var ty = torch.tensor(yValues);

        Func<Tensor> oursOp = op switch
        {
            "add" => () => Elementwise.binary(BinaryOp.Add, x, y),
            "mul" => () => Elementwise.binary(BinaryOp.Mul, x, y),
            "exp" => () => Elementwise.unary(UnaryOp.Exp, x),
            _ => () => Elementwise.unary(UnaryOp.Tanh, x),
        };
        Func<torch.Tensor> torchOp = op switch
        {
            "add" => () => tx.add(ty),
            "mul" => () => tx.mul(ty),
            "exp" => () => tx.exp(),
            _ => () => tx.tanh(),
        };

        double[] ours = oursOp().ToDoubleArray();
        double[] theirs;
        using (var result = torchOp())
            theirs = result.data<float>().ToArray().Select(v => (double)v).ToArray();

        // Small ops take microseconds: time a batch of calls per sample so the clock resolves it.
        int batch = Math.Max(1, (1 << 22) / Math.Max(count, 256) / (quick ? 4 : 1));
        var (oursBatch, torchBatch, faults) = Medians(quick, () => { for (int i = 0; i < batch; i++) oursOp(); }, () => { for (int i = 0; i < batch; i++) torchOp().Dispose(); });
        double oursSeconds = oursBatch / batch, torchSeconds = torchBatch / batch;
        return $"| {op} | float32 | {Size(count)} | {oursSeconds * 1e6:F2} µs | {torchSeconds * 1e6:F2} µs | {torchSeconds / oursSeconds:F2}× | {MaxRelativeDifference(ours, theirs):E1} | {FaultsPerCall(faults, batch)} |";
    }

    static string Size(int count) => count >= 1 << 20 ? $"{count >> 20}M" : count >= 1024 ? $"{count >> 10}K" : count.ToString();

    /// <summary>
    /// The median wall times of `ours` and `theirs`, measured in alternating rounds so that both
    /// see the same machine: this VM's speed drifts by tens of percent over seconds (its two
    /// vCPUs sometimes get one physical core's throughput), which timing one side after the
    /// other turns into a wrong ratio. Each side first warms up for half a second (caches, the
    /// worker threads, the allocator; the project turns tiered compilation off, so no JIT tier
    /// changes under the measurement). Each round then pauses, so that the threads the other side
    /// left spinning (libtorch's OpenMP workers, our worker team) have gone idle, and times each
    /// side's calls for 20 ms (at least two calls); the first call after the pause is not counted.
    /// The third result is the minor page faults taken during our timed samples, with the sample count.
    /// </summary>
    internal static (double Ours, double Theirs, (long? Faults, int Samples) OurFaults) Medians(bool quick, Action ours, Action theirs)
    {
        WarmUp(ours);
        WarmUp(theirs);
        int rounds = quick ? 3 : 7;
        var oursTimes = new List<double>();
        var theirTimes = new List<double>();
        long? faults = 0;
        for (int round = 0; round < rounds; round++)
        {
            faults += TimeRound(ours, oursTimes);
            TimeRound(theirs, theirTimes);
        }
        return (Median(oursTimes), Median(theirTimes), (faults, oursTimes.Count));
    }

    /// <summary>Page faults per op, from the faults over `samples` timed samples of `batch` ops each.</summary>
    static string FaultsPerCall((long? Faults, int Samples) measured, int batch) =>
        measured.Faults is long faults ? (faults / (double)(measured.Samples * batch)).ToString("F1", System.Globalization.CultureInfo.InvariantCulture) : "n/a";

    /// <summary>
    /// Calls `action` at least twice and for half a second (at most 10,000 calls), untimed: what a
    /// first call pays once (JIT, the allocators' pools, the GC heap growing to the workload's
    /// size) stays out of the timed rounds.
    /// </summary>
    internal static void WarmUp(Action action)
    {
        Thread.Sleep(PauseMilliseconds);
        var clock = Stopwatch.StartNew();
        int calls = 0;
        while (calls < 2 || (clock.Elapsed.TotalSeconds < 0.5 && calls < 10_000))
        {
            action();
            calls++;
        }
    }

    /// <summary>Long enough for libgomp's default spin after a parallel region (a few ms) and ours (2 ms).</summary>
    internal const int PauseMilliseconds = 50;

    /// <summary>
    /// After the pause and one untimed call, times calls for 20 ms, and at least two. Returns the
    /// minor page faults taken during the timed calls (null where they cannot be counted); the
    /// count is read outside the timed interval.
    /// </summary>
    static long? TimeRound(Action action, List<double> times)
    {
        Thread.Sleep(PauseMilliseconds);
        action();
        var round = Stopwatch.StartNew();
        long? faults = 0;
        for (int call = 0; call < 2 || round.Elapsed.TotalMilliseconds < 20; call++)
        {
            long? before = PageFaults.Minor();
            long start = Stopwatch.GetTimestamp();
            action();
            times.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
            faults += PageFaults.Minor() - before;
        }
        return faults;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    static extern int ClockGetTime(int clock, out TimeSpec time);

    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    /// <summary>CLOCK_THREAD_CPUTIME_ID: the CPU time the calling thread has used, in seconds.</summary>
    internal static double ThreadSeconds() => ClockGetTime(3, out var t) == 0 ? t.Seconds + t.Nanoseconds * 1e-9 : double.NaN;

    /// <summary>
    /// As <see cref="Medians"/> (warm-up, alternating rounds, a pause before each), but each call is timed by
    /// the calling thread's CPU time, which a loaded host does not inflate the way it inflates wall time
    /// (`bench --linalg --thread-time`, `bench --vmap --thread-time`; meaningful with one thread per library,
    /// DOTNET_PROCESSOR_COUNT=1).
    /// </summary>
    internal static (double Ours, double Theirs) ThreadTimeMedians(bool quick, Action ours, Action theirs)
    {
        var times = new[] { new List<double>(), new List<double>() };
        var actions = new[] { ours, theirs };
        for (int side = 0; side < 2; side++)
            for (int call = 0; call < 5; call++) actions[side]();
        for (int round = 0; round < (quick ? 3 : 7); round++)
            for (int side = 0; side < 2; side++)
            {
                Thread.Sleep(PauseMilliseconds);
                actions[side]();
                var wall = Stopwatch.StartNew();
                for (int call = 0; call < 3 || wall.Elapsed.TotalMilliseconds < 40; call++)
                {
                    double start = ThreadSeconds();
                    actions[side]();
                    times[side].Add(ThreadSeconds() - start);
                }
            }
        return (Median(times[0]), Median(times[1]));
    }

    internal static double Median(List<double> times)
    {
        times.Sort();
        return times.Count % 2 == 1 ? times[times.Count / 2] : (times[times.Count / 2 - 1] + times[times.Count / 2]) / 2;
    }

    /// <summary>A duration for the tables: seconds from 1 s, milliseconds from 1 ms, microseconds below.</summary>
    internal static string Time(double seconds) =>
        seconds >= 1 ? $"{seconds:F2} s" : seconds >= 1e-3 ? $"{seconds * 1e3:F2} ms" : $"{seconds * 1e6:F1} µs";

    /// <summary><paramref name="count"/> draws from the uniform distribution on [−scale, scale], seeded.</summary>
    internal static double[] Draw(int count, int seed, double scale = 1.0)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => scale * (random.NextDouble() * 2 - 1)).ToArray();
    }

    /// <summary>max |ours - torch| / max |torch|: agreement of the two results, for the reader's confidence.</summary>
    internal static double MaxRelativeDifference(double[] ours, double[] theirs)
    {
        double difference = 0, magnitude = 0;
        for (int i = 0; i < ours.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(ours[i] - theirs[i]));
            magnitude = Math.Max(magnitude, Math.Abs(theirs[i]));
        }
        return magnitude == 0 ? difference : difference / magnitude;
    }
}
