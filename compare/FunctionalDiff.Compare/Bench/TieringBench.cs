using System.Diagnostics;
using System.Globalization;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// `tiering`: issue 12's bound on tiered compilation, measured. A user's process runs with .NET's
/// default tiered compilation, where new code starts unoptimised; the bound is that a small training
/// loop runs within 1.2× of its time with `TieredCompilation=0`. Each measurement is a fresh child
/// process of this program (a process only JITs once), run alternately with tiering on and off, for
/// two ways of writing the loop: compiled (<see cref="Diff.Compile"/>, <see cref="CompiledFunction.InvokeInto"/>,
/// two sets of results taking turns, as the README teaches) and uncompiled
/// (<see cref="Diff.ValueAndGrad(Func{Expr[], Expr}, Expr[])"/> then <see cref="Expr.EvalMany"/> and an
/// eager SGD update, the graph built every step). The timed span is the loop, first call (trace and
/// plan) included, without process start-up; CPU time is the whole process's (the background compiler's
/// threads and the GC's included), so JIT work moved off the main thread still counts.
/// </summary>
public static class TieringBench
{
    const int Batch = 32, Inputs = 64, Hidden = 32, Classes = 10;
    internal const string ChildOption = "--tiering-child";

    /// <summary>The parent: rounds of child pairs, medians, ratios.</summary>
    public static int Run(TextWriter output, int[] stepCounts, int rounds, string[] modes)
    {
        output.WriteLine("## Tiered compilation: a training loop under .NET's default tiering vs TieredCompilation=0");
        output.WriteLine();
        output.WriteLine($"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average at start: {BenchOptions.LoadAverage()}");
        output.WriteLine($"- command: `DOTNET_PROCESSOR_COUNT={Environment.GetEnvironmentVariable("DOTNET_PROCESSOR_COUNT") ?? "(unset)"} dotnet FunctionalDiff.Compare.dll tiering " +
                         $"--steps {string.Join(",", stepCounts)} --rounds {rounds} --mode {string.Join(",", modes)}`");
        output.WriteLine($"- machine: {Benchmarks.CpuName()}, {Environment.ProcessorCount} logical processors; .NET {Environment.Version}");
        output.WriteLine($"- loop: MLP batch {Batch}, {Inputs} → {Hidden} tanh → {Classes}, softmax cross-entropy, SGD (lr 0.1), float32; " +
                         "each cell a fresh process, tiered and untiered alternating (order swapped every round); medians over the rounds");
        output.WriteLine("- tiered: DOTNET_TieredCompilation=1, .NET's default (this program's runtimeconfig turns tiering off for `bench`, so the child " +
                         "sets the default back explicitly); untiered: DOTNET_TieredCompilation=0");
        output.WriteLine("- time: the loop from the first call (trace and plan included); CPU is the process's (all threads, the background compiler's too)");
        output.WriteLine();
        output.WriteLine("| loop | steps | tiered wall | untiered wall | wall ratio | tiered CPU | untiered CPU | CPU ratio | bound | holds |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (string mode in modes)
            foreach (int steps in stepCounts)
            {
                var tiered = new List<Measurement>();
                var untiered = new List<Measurement>();
                for (int round = 0; round < rounds; round++)
                {
                    bool tieredFirst = round % 2 == 0;
                    for (int k = 0; k < 2; k++)
                    {
                        bool tiering = tieredFirst == (k == 0);
                        var m = Child(mode, steps, tiering);
                        if (m is null)
                        {
                            output.WriteLine($"the child process failed ({mode}, {steps} steps, tiering {(tiering ? "on" : "off")})");
                            return 1;
                        }
                        (tiering ? tiered : untiered).Add(m);
                    }
                }
                double tw = Benchmarks.Median(tiered.Select(m => m.Wall).ToList()), uw = Benchmarks.Median(untiered.Select(m => m.Wall).ToList());
                double tc = Benchmarks.Median(tiered.Select(m => m.Cpu).ToList()), uc = Benchmarks.Median(untiered.Select(m => m.Cpu).ToList());
                double ratio = tw / uw;
                output.WriteLine($"| {mode} | {steps:N0} | {Time(tw)} | {Time(uw)} | {ratio:F2}× | {Time(tc)} | {Time(uc)} | {tc / uc:F2}× | ≤ 1.2× | {(ratio <= 1.2 && tc / uc <= 1.2 ? "yes" : "no")} |");
                output.Flush();
            }
        output.WriteLine();
        output.WriteLine($"Load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }

    sealed record Measurement(double Wall, double Cpu, double FirstLoss, double LastLoss);

    static Measurement? Child(string mode, int steps, bool tiering)
    {
        string path = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet") start.ArgumentList.Add(typeof(TieringBench).Assembly.Location);
        start.ArgumentList.Add(ChildOption);
        start.ArgumentList.Add(mode);
        start.ArgumentList.Add(steps.ToString(CultureInfo.InvariantCulture));
        // the environment beats the runtimeconfig's System.Runtime.TieredCompilation=false
        start.Environment["DOTNET_TieredCompilation"] = tiering ? "1" : "0";
        Thread.Sleep(200);
        using var child = Process.Start(start)!;
        string text = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var fields = text.Trim().Split(' ');
        if (child.ExitCode != 0 || fields.Length != 4) return null;
        double F(int i) => double.Parse(fields[i], CultureInfo.InvariantCulture);
        return new Measurement(F(0), F(1), F(2), F(3));
    }

    /// <summary>
    /// The child: one loop, timed; prints wall seconds, process CPU seconds and the first and last
    /// loss. Never touches torch, so libtorch's threads are not in the process.
    /// </summary>
    internal static int ChildMain(TextWriter output, string mode, int steps)
    {
        var x = Tensor.RandomNormal([Batch, Inputs], seed: 1, DType.Float32);
        int[] targets = Enumerable.Range(0, Batch).Select(i => i * 7 % Classes).ToArray();
        Tensor[] parameters =
        [
            Tensor.RandomNormal([Inputs, Hidden], seed: 2, DType.Float32) * 0.125,
            Tensor.Zeros([Hidden], DType.Float32),
            Tensor.RandomNormal([Hidden, Classes], seed: 3, DType.Float32) * 0.18,
            Tensor.Zeros([Classes], DType.Float32),
        ];
        Expr LossOf(Expr[] p) => Loss.CrossEntropy((((Expr)x).MatMul(p[0]) + p[1]).Tanh().MatMul(p[2]) + p[3], targets);
        var process = Process.GetCurrentProcess();
        process.Refresh();
        var cpu = process.TotalProcessorTime;
        var wall = Stopwatch.StartNew();
        var laps = new Laps(steps, wall);
        double first, last;
        if (mode == "compiled")
        {
            var step = Diff.Compile((Expr[] p) =>
            {
                var (loss, g) = Diff.ValueAndGrad(LossOf, p);
                return [loss, .. p.Select((w, i) => w - 0.1 * g[i])];
            });
            Tensor[] outs = step.Invoke(parameters), spare = step.Invoke(parameters);
            first = outs[0].ToScalar();
            for (int i = 1; i < steps; i++)
            {
                step.InvokeInto(outs[1..], spare);
                (outs, spare) = (spare, outs);
                laps.Mark(i);
            }
            last = outs[0].ToScalar();
        }
        else
        {
            first = last = double.NaN;
            for (int i = 0; i < steps; i++)
            {
                var p = parameters.Select(t => (Expr)t).ToArray();
                var (loss, g) = Diff.ValueAndGrad(LossOf, p);
                var values = Expr.EvalMany([loss, .. g]);
                for (int k = 0; k < parameters.Length; k++) parameters[k] = parameters[k] - 0.1 * values[k + 1];
                last = values[0].ToScalar();
                if (i == 0) first = last;
                laps.Mark(i);
            }
        }
        double wallSeconds = wall.Elapsed.TotalSeconds;
        process.Refresh();
        double cpuSeconds = (process.TotalProcessorTime - cpu).TotalSeconds;
        output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{wallSeconds:R} {cpuSeconds:R} {first:R} {last:R}"));
        // For reading, not for the parent: where the tiered loop loses time (a tenth of the steps
        // per lap) and what the collector did, on stderr so the parent's parsing is untouched.
        Console.Error.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"laps (ms per tenth of the steps): {string.Join(" ", laps.Milliseconds.Select(t => t.ToString("F0", CultureInfo.InvariantCulture)))}; " +
            $"collections gen0/1/2: {GC.CollectionCount(0)}/{GC.CollectionCount(1)}/{GC.CollectionCount(2)}, pause {GC.GetTotalPauseDuration().TotalMilliseconds:F0} ms, " +
            $"allocated {GC.GetTotalAllocatedBytes() / 1e6:F0} MB; methods compiled by each lap's end: {string.Join(" ", laps.Jitted)}"));
        return 0;
    }

    /// Wall time per tenth of the loop's steps.
    sealed class Laps(int steps, Stopwatch wall)
    {
        readonly double[] ends = new double[10];
        readonly long[] jitted = new long[10];
        int next;
        public void Mark(int step)
        {
            if (next < 10 && step + 1 >= (long)steps * (next + 1) / 10)
            {
                jitted[next] = System.Runtime.JitInfo.GetCompiledMethodCount();
                ends[next++] = wall.Elapsed.TotalMilliseconds;
            }
        }
        public IEnumerable<long> Jitted => jitted.Take(next);
        public IEnumerable<double> Milliseconds => ends.Take(next).Select((e, i) => i == 0 ? e : e - ends[i - 1]);
    }

    static string Time(double s) => s >= 1 ? $"{s:F2} s" : $"{s * 1e3:F0} ms";

}
