using System.Diagnostics;
using System.Globalization;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Bench;

using TT = TorchSharp.torch.Tensor;

/// <summary>
/// Issue 12's table of steps, `bench --steps`: whole training steps (value and gradients) through
/// the public C# API, compiled (<see cref="Diff.Compile"/>) and uncompiled (<see cref="Diff.ValueAndGrad(Func{Expr[], Expr}, Expr[])"/>
/// then <see cref="Expr.EvalMany"/>, the graph built every step as a user would), timed against the
/// same computation with torch autograd in one process with <see cref="Benchmarks"/>' method
/// (alternating rounds, pauses, medians); then the memory rows, which count bytes and collections.
/// </summary>
public static class StepsBench
{
    const int Batch = 256, Inputs = 784, Hidden = 512, Classes = 10;

    /// <summary>Prints the table; `--quick` uses 3 rounds and 200 steps for the collection count.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        bool quick = parsed.Quick;
        bool threadTime = parsed.ThreadTime;
        // --filter TEXT: only the rows whose workload contains TEXT ("memory" for the memory rows)
        bool Wanted(string workload) => parsed.Wanted(workload);
        parsed.WriteHeader(output, "Steps: FunctionalDiff vs TorchSharp autograd");
        output.WriteLine("- MLP: batch 256, 784 → 512 tanh → 10, softmax cross-entropy; a step returns the loss and its 4 gradients (the HVP row: H·v wrt W1); " +
                         "the batch is an input of the compiled step, the targets a constant; torch: `torch.autograd.grad` (HVP: double backward with create_graph)");
        output.WriteLine(threadTime
            ? "- times: CPU time of the calling thread per step (both libraries on one thread), median over alternating rounds, so other processes' load does not count; ours/torch below 1: ours is faster"
            : "- times: median per step over alternating rounds after a warm-up (pauses of 50 ms), as `bench`; ours/torch below 1: ours is faster");
        output.WriteLine();
        output.WriteLine("| workload | dtype | ours | torch | ours/torch | target | holds | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        void Timed(string name, DType dtype, double target, Func<Workload> workload)
        {
            if (Wanted(name)) Row(output, name, dtype, target, parsed, workload());
        }
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Timed("MLP step, compiled", dtype, 0.7, () => Mlp(dtype, MlpMode.Compiled));
        // the README's loops write each step's results into the previous step's tensors: no fresh
        // multi-megabyte outputs, so neither their first-touch page faults nor the collections
        // their large-object allocations trigger
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Timed("MLP step, compiled, InvokeInto (the README's loop)", dtype, 0.7, () => Mlp(dtype, MlpMode.Compiled, into: true));
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Timed("MLP step, uncompiled (ValueAndGrad + EvalMany)", dtype, 1.0, () => Mlp(dtype, MlpMode.Uncompiled));
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Timed("HVP wrt W1 along a random direction, compiled", dtype, 0.6, () => Mlp(dtype, MlpMode.Hvp));
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Timed("HVP wrt W1, compiled, InvokeInto", dtype, 0.6, () => Mlp(dtype, MlpMode.Hvp, into: true));
        Timed("2,000-op elementwise chain, 16 values, value + gradient, compiled", DType.Float64, 0.05, () => Chain(compiled: true));
        Timed("the same, uncompiled", DType.Float64, 0.5, () => Chain(compiled: false));
        Timed("1M-element chain (add, mul, exp, tanh), value + gradient, compiled", DType.Float32, 0.7, () => LargeChain(into: false));
        Timed("1M-element chain, compiled, InvokeInto (the README's loop)", DType.Float32, 0.7, () => LargeChain(into: true));
        if (Wanted("memory")) MemoryRows(output, quick);
        output.WriteLine();
        output.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s; load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }

    /// <summary>One timed workload: our step and torch's, and both results flattened for the difference column.</summary>
    sealed record Workload(Action Ours, Action Torch, Func<double[]> OursResult, Func<double[]> TorchResult);

    static void Row(TextWriter output, string name, DType dtype, double target, BenchOptions timing, Workload w)
    {
        double difference = Benchmarks.MaxRelativeDifference(w.OursResult(), w.TorchResult());
        var (ours, theirs) = timing.Medians(w.Ours, w.Torch);
        double ratio = ours / theirs;
        output.WriteLine($"| {name} | {dtype.ToString().ToLowerInvariant()} | {Benchmarks.Time(ours)} | {Benchmarks.Time(theirs)} | {ratio:F2}× | ≤ {target:0.##}× | {(ratio <= target ? "yes" : "no")} | {difference:E1} |");
        output.Flush();
    }


    enum MlpMode { Compiled, Uncompiled, Hvp }

    /// <summary>The MLP's data and parameters, in float64, seeded, shared by both sides.</summary>
    sealed class MlpData
    {
        public readonly double[] X, W1, B1, W2, B2, V;
        public readonly int[] Targets;
        public MlpData()
        {
            var random = new Random(12);
            double[] Normal(int n, double scale) => Enumerable.Range(0, n).Select(_ => scale * (random.NextDouble() * 2 - 1)).ToArray();
            X = Normal(Batch * Inputs, 1.0);
            W1 = Normal(Inputs * Hidden, 1.0 / Math.Sqrt(Inputs));
            B1 = Normal(Hidden, 0.1);
            W2 = Normal(Hidden * Classes, 1.0 / Math.Sqrt(Hidden));
            B2 = Normal(Classes, 0.1);
            V = Normal(Inputs * Hidden, 1.0);
            Targets = Enumerable.Range(0, Batch).Select(_ => random.Next(Classes)).ToArray();
        }
    }

    static Expr MlpLoss(Expr w1, Expr b1, Expr w2, Expr b2, Expr x, int[] targets) =>
        Loss.CrossEntropy((x.MatMul(w1) + b1).Tanh().MatMul(w2) + b2, targets);

    /// <summary>
    /// One MLP workload; with <paramref name="into"/> a compiled step writes into the tensors of
    /// its first call (<see cref="CompiledFunction.InvokeInto"/>) instead of returning fresh ones.
    /// </summary>
    static Workload Mlp(DType dtype, MlpMode mode, bool into = false)
    {
        var data = new MlpData();
        Tensor Ours(double[] values, params int[] shape) => Tensor.FromArray(values, shape).Cast(dtype);
        var x = Ours(data.X, Batch, Inputs);
        var parameters = new[] { Ours(data.W1, Inputs, Hidden), Ours(data.B1, Hidden), Ours(data.W2, Hidden, Classes), Ours(data.B2, Classes) };
        var v = Ours(data.V, Inputs, Hidden);
        int[] targets = data.Targets;

        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        TT Torch(double[] values, params long[] shape)
        {
            // the float64 tensor, its reshape and the cast are disposed here rather than left to
            // the finalizer thread: without the scope the bench crashed in some runs
            using var scope = torch.NewDisposeScope();
            return torch.tensor(values, ScalarType.Float64).reshape(shape).to_type(scalar).detach().MoveToOuterDisposeScope();
        }
        var tx = Torch(data.X, Batch, Inputs);
        var tparameters = new[] { Torch(data.W1, Inputs, Hidden), Torch(data.B1, Hidden), Torch(data.W2, Hidden, Classes), Torch(data.B2, Classes) };
        foreach (var p in tparameters) p.requires_grad_(true);
        var tv = Torch(data.V, Inputs, Hidden);
        var ttargets = torch.tensor(targets.Select(t => (long)t).ToArray());
        TT TorchLoss() => F.cross_entropy(tx.matmul(tparameters[0]).add(tparameters[1]).tanh().matmul(tparameters[2]).add(tparameters[3]), ttargets);

        Func<Tensor[]> ours;
        Func<TT[]> theirs;
        switch (mode)
        {
            case MlpMode.Compiled:
            {
                var step = Diff.Compile((Expr[] p) =>
                {
                    var (l, g) = Diff.ValueAndGrad(q => MlpLoss(q[0], q[1], q[2], q[3], p[4], targets), p[..4]);
                    return [l, .. g];
                });
                var inputs = parameters.Append(x).ToArray();
                ours = Invoker(step, inputs, into);
                theirs = () =>
                {
                    var loss = TorchLoss();
                    return [loss, .. torch.autograd.grad(new[] { loss }, tparameters)];
                };
                break;
            }
            case MlpMode.Uncompiled:
                ours = () =>
                {
                    var (l, g) = Diff.ValueAndGrad(q => MlpLoss(q[0], q[1], q[2], q[3], x, targets), parameters.Select(p => (Expr)p).ToArray());
                    return Expr.EvalMany([l, .. g]);
                };
                theirs = () =>
                {
                    var loss = TorchLoss();
                    return [loss, .. torch.autograd.grad(new[] { loss }, tparameters)];
                };
                break;
            default:
            {
                var step = Diff.Compile((Expr[] p) => [Diff.Hvp(w1 => MlpLoss(w1, p[1], p[2], p[3], p[4], targets), p[0], p[5])]);
                var inputs = parameters.Append(x).Append(v).ToArray();
                ours = Invoker(step, inputs, into);
                theirs = () =>
                {
                    var loss = TorchLoss();
                    var g = torch.autograd.grad(new[] { loss }, new[] { tparameters[0] }, retain_graph: true, create_graph: true)[0];
                    return [torch.autograd.grad(new[] { g }, new[] { tparameters[0] }, new[] { tv })[0]];
                };
                break;
            }
        }
        return new Workload(
            () => ours(),
            () => { using var scope = torch.NewDisposeScope(); theirs(); },
            () => ours().SelectMany(t => t.ToDoubleArray()).ToArray(),
            () => { using var scope = torch.NewDisposeScope(); return theirs().SelectMany(Flat).ToArray(); });
    }

    /// <summary>A compiled step's call: fresh outputs, or the first call's outputs written again.</summary>
    static Func<Tensor[]> Invoker(CompiledFunction step, Tensor[] inputs, bool into)
    {
        if (!into) return () => step.Invoke(inputs);
        var outputs = step.Invoke(inputs);
        return () => { step.InvokeInto(inputs, outputs); return outputs; };
    }

    /// <summary>The 2,000-op chain: 500 × (mul, add, tanh, sin) on 16 float64 values, summed.</summary>
    static Expr ChainOf(Expr x)
    {
        for (int i = 0; i < 500; i++) x = ((x * 0.9) + 0.1).Tanh().Sin();
        return x.Sum();
    }

    static Workload Chain(bool compiled)
    {
        var random = new Random(16);
        double[] values = Enumerable.Range(0, 16).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        var x = Tensor.FromArray(values);
        var tx = torch.tensor(values, ScalarType.Float64).requires_grad_(true);
        Func<Tensor[]> ours;
        if (compiled)
        {
            var step = Diff.Compile((Expr[] p) => { var (l, g) = Diff.ValueAndGrad(ChainOf, p[0]); return [l, g]; });
            ours = () => step.Invoke(x);
        }
        else
            ours = () => { var (l, g) = Diff.ValueAndGrad(ChainOf, x); return Expr.EvalMany(l, g); };
        TT[] Theirs()
        {
            var y = tx;
            for (int i = 0; i < 500; i++) y = y.mul(0.9).add(0.1).tanh().sin();
            var loss = y.sum();
            return [loss, torch.autograd.grad(new[] { loss }, new[] { tx })[0]];
        }
        return new Workload(() => ours(), () => { using var scope = torch.NewDisposeScope(); Theirs(); },
            () => ours().SelectMany(t => t.ToDoubleArray()).ToArray(),
            () => { using var scope = torch.NewDisposeScope(); return Theirs().SelectMany(Flat).ToArray(); });
    }

    /// <summary>
    /// sum(tanh(exp((x + 0.25) · 0.5))) over 1M float32 values, and its gradient; with <paramref name="into"/> each
    /// step writes into the tensors of the first (its fresh 4 MB gradient otherwise faults its pages in, or not,
    /// depending on what the collector kept).
    /// </summary>
    static Workload LargeChain(bool into)
    {
        var random = new Random(20);
        float[] values = Enumerable.Range(0, 1 << 20).Select(_ => (float)(random.NextDouble() * 4 - 2)).ToArray();
        var x = Tensor.FromArray(values);
        var tx = torch.tensor(values).requires_grad_(true);
        var step = Diff.Compile((Expr[] p) => { var (l, g) = Diff.ValueAndGrad(y => ((y + 0.25) * 0.5).Exp().Tanh().Sum(), p[0]); return [l, g]; });
        TT[] Theirs()
        {
            var loss = tx.add(0.25).mul(0.5).exp().tanh().sum();
            return [loss, torch.autograd.grad(new[] { loss }, new[] { tx })[0]];
        }
        var ours = Invoker(step, [x], into);
        return new Workload(() => ours(), () => { using var scope = torch.NewDisposeScope(); Theirs(); },
            () => ours().SelectMany(t => t.ToDoubleArray()).ToArray(),
            () => { using var scope = torch.NewDisposeScope(); return Theirs().SelectMany(Flat).ToArray(); });
    }

    /// <summary>Bytes and collections of the compiled float32 MLP step, the symbolic gradient of a long chain, and the training loop's peak.</summary>
    static void MemoryRows(TextWriter output, bool quick)
    {
        var data = new MlpData();
        Tensor Ours(double[] values, params int[] shape) => Tensor.FromArray(values, shape).Cast(DType.Float32);
        var inputs = new[] { Ours(data.W1, Inputs, Hidden), Ours(data.B1, Hidden), Ours(data.W2, Hidden, Classes), Ours(data.B2, Classes), Ours(data.X, Batch, Inputs) };
        var step = Diff.Compile((Expr[] p) =>
        {
            var (l, g) = Diff.ValueAndGrad(q => MlpLoss(q[0], q[1], q[2], q[3], p[4], data.Targets), p[..4]);
            return [l, .. g];
        });
        var outputs = step.Invoke(inputs);
        // the outputs' own storage: 4 bytes per element; whatever else a step allocates is overhead
        long outputBytes = outputs.Sum(t => 4L * t.Shape.Aggregate(1L, (a, d) => a * d));
        int steps = quick ? 200 : 1_000;
        for (int i = 0; i < 20; i++) { step.Invoke(inputs); step.InvokeInto(inputs, outputs); }

        long invokeBytes = long.MaxValue, intoBytes = long.MaxValue;
        for (int i = 0; i < 5; i++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            step.Invoke(inputs);
            invokeBytes = Math.Min(invokeBytes, GC.GetAllocatedBytesForCurrentThread() - before - outputBytes);
            before = GC.GetAllocatedBytesForCurrentThread();
            step.InvokeInto(inputs, outputs);
            intoBytes = Math.Min(intoBytes, GC.GetAllocatedBytesForCurrentThread() - before);
        }
        // The outputs' arrays may come from the core's cache of recycled arrays (see TensorMemory);
        // then the calling thread allocated less than the outputs hold, and all of it is beyond them.
        long invokeRaw = invokeBytes + outputBytes;
        long beyond = invokeRaw >= outputBytes ? invokeRaw - outputBytes : invokeRaw;
        output.WriteLine($"| managed bytes per compiled MLP step beyond its outputs, Invoke ({invokeRaw:N0} B allocated on the calling thread; the outputs hold {outputBytes:N0} B of elements) | float32 | {beyond:N0} B | | | ≤ 1 KB | {(beyond <= 1024 ? "yes" : "no")} | |");
        output.WriteLine($"| the same, InvokeInto | float32 | {intoBytes:N0} B | | | ≤ 1 KB | {(intoBytes <= 1024 ? "yes" : "no")} | |");
        output.Flush();

        int gen2 = GC.CollectionCount(2);
        for (int i = 0; i < steps; i++) step.InvokeInto(inputs, outputs);
        gen2 = GC.CollectionCount(2) - gen2;
        output.WriteLine($"| gen-2 collections over {steps:N0} compiled steps (InvokeInto, as the README's loops) | float32 | {gen2} | | | 0 | {(gen2 == 0 ? "yes" : "no")} | |");
        gen2 = GC.CollectionCount(2);
        for (int i = 0; i < steps; i++) step.Invoke(inputs);
        gen2 = GC.CollectionCount(2) - gen2;
        // for information: fresh large results each step are large objects, which the README says
        output.WriteLine($"| gen-2 collections over {steps:N0} compiled steps (Invoke: 1.6 MB of fresh outputs each; not the README's loop) | float32 | {gen2} | | | — | — | |");
        output.Flush();

        var symbolic = new List<double>();
        var variable = Tensor.Scalar(0.3);
        for (int i = 0; i < 3; i++)
        {
            long start = Stopwatch.GetTimestamp();
            Diff.Grad(x => { for (int k = 0; k < 25_000; k++) x = ((x * 0.9) + 0.1).Tanh().Sin(); return x; })(variable);
            symbolic.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        double grad = Benchmarks.Median(symbolic);
        output.WriteLine($"| Diff.Grad of a 10^5-op chain at a scalar (tracing included, symbolic only; ours only) | float64 | {Benchmarks.Time(grad)} | | | < 200 ms | {(grad < 0.2 ? "yes" : "no")} | |");
        output.Flush();

        // The same chain over a vector: at a scalar, much of the derivative folds to constants as it
        // is built; over 16 elements nothing folds, and every node of it is made and simplified.
        // A new vector for each call: at the same vector, a call's result would be the nodes the
        // call before it rebuilt over that constant, still in the hash-consing table (only weakly
        // held, but promoted past the young collections), and half the work would be lookups.
        var overVector = new List<double>();
        for (int i = 0; i < 3; i++)
        {
            var vector = Tensor.FromArray(Enumerable.Range(0, 16).Select(j => 0.1 + 0.05 * j + 0.01 * i).ToArray());
            long start = Stopwatch.GetTimestamp();
            Diff.Grad(x => { for (int k = 0; k < 25_000; k++) x = ((x * 0.9) + 0.1).Tanh().Sin(); return x.Sum(); })(vector);
            overVector.Add(Stopwatch.GetElapsedTime(start).TotalSeconds);
        }
        double gradVector = Benchmarks.Median(overVector);
        output.WriteLine($"| Diff.Grad of a 10^5-op chain over a 16-element vector (tracing included, symbolic only; ours only) | float64 | {Benchmarks.Time(gradVector)} | | | < 200 ms | {(gradVector < 0.2 ? "yes" : "no")} | |");
        output.Flush();

        var (chainPeak, chainTime) = ChainPeak();
        string chainText = chainPeak is long c ? $"{Benchmarks.Time(chainTime)}, peak working set {c / (1024.0 * 1024.0):F0} MB" : "n/a";
        bool chainPass = chainPeak is long d && d < 1L << 30 && chainTime < 2.5;
        output.WriteLine($"| Diff.Grad of a 10^6-op chain at a scalar (own process; tracing included, symbolic only; ours only) | float64 | {chainText} | | | < 2.5 s, < 1 GB | {(chainPass ? "yes" : "no")} | |");
        output.Flush();

        var (peak, firstLoss, lastLoss) = TrainingPeak();
        string peakText = peak is long p ? $"{p / (1024.0 * 1024.0):F0} MB" : "n/a";
        output.WriteLine($"| peak working set, 5,000 compiled SGD steps on 100k parameters (own process; loss {firstLoss:G3} → {lastLoss:G3}) | float64 | {peakText} | | | ≤ 150 MB | {(peak is long q && q <= 150L << 20 ? "yes" : "no")} | |");
    }

    /// <summary>
    /// Runs this program as `bench OPTION` in a fresh process, so that its peak working set counts
    /// neither libtorch nor the rows before it; returns the space-separated fields of its output,
    /// or null when it failed or printed another number of fields.
    /// </summary>
    static string[]? ChildFields(string option, int count)
    {
        string path = Environment.ProcessPath ?? "dotnet";
        var start = new ProcessStartInfo(path) { RedirectStandardOutput = true, UseShellExecute = false };
        if (Path.GetFileNameWithoutExtension(path) == "dotnet") start.ArgumentList.Add(typeof(StepsBench).Assembly.Location);
        start.ArgumentList.Add("bench");
        start.ArgumentList.Add(option);
        using var child = Process.Start(start)!;
        string text = child.StandardOutput.ReadToEnd();
        child.WaitForExit();
        var fields = text.Trim().Split(' ');
        return child.ExitCode == 0 && fields.Length == count ? fields : null;
    }

    /// <summary><see cref="TrainingChild"/>'s peak working set and first and last loss.</summary>
    static (long? Peak, double First, double Last) TrainingPeak() =>
        ChildFields(TrainingOption, 3) is { } f
            ? (long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture), double.Parse(f[2], CultureInfo.InvariantCulture))
            : (null, double.NaN, double.NaN);

    internal const string TrainingOption = "--steps-training-child";

    /// <summary><see cref="ChainChild"/>'s peak working set in bytes (the 10^6-op chain's alone) and its time in seconds.</summary>
    static (long? Peak, double Seconds) ChainPeak() =>
        ChildFields(ChainOption, 2) is { } f
            ? (long.Parse(f[0], CultureInfo.InvariantCulture), double.Parse(f[1], CultureInfo.InvariantCulture))
            : (null, double.NaN);

    internal const string ChainOption = "--steps-chain-child";

    /// <summary>
    /// The child of <see cref="ChainPeak"/>: Diff.Grad of a 10^6-op chain at a scalar, once (a first
    /// call in a fresh process, as a user's), then its time and the process's peak working set.
    /// </summary>
    internal static int ChainChild(TextWriter output)
    {
        long start = Stopwatch.GetTimestamp();
        var gradient = Diff.Grad(x => { for (int k = 0; k < 250_000; k++) x = ((x * 0.9) + 0.1).Tanh().Sin(); return x; })(Tensor.Scalar(0.3));
        double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        GC.KeepAlive(gradient);
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        if (line is null) return 1;
        long kilobytes = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0], CultureInfo.InvariantCulture);
        output.WriteLine(FormattableString.Invariant($"{kilobytes * 1024} {seconds:R}"));
        return 0;
    }

    /// <summary>
    /// The child process: 5,000 compiled SGD steps on mean((tanh(w·x) − y)²) over 100k float64
    /// parameters, the loop the README teaches (InvokeInto, two sets of results taking turns); prints the
    /// peak resident set (VmHWM) in bytes and the first and last loss. Never touches torch.
    /// </summary>
    internal static int TrainingChild(TextWriter output)
    {
        const int n = 100_000;
        var random = new Random(5);
        var x = Tensor.FromArray(Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray());
        var y = Tensor.FromArray(Enumerable.Range(0, n).Select(_ => random.NextDouble() - 0.5).ToArray());
        var w = Tensor.FromArray(new double[n]);
        var step = Diff.Compile((Expr[] p) =>
        {
            var (l, g) = Diff.ValueAndGrad(q => ((q * x).Tanh() - y).Square().Mean(), p[0]);
            return [l, p[0] - 0.5 * g];
        });
        // the README's loop: two sets of results take turns through InvokeInto
        Tensor[] outs = step.Invoke(w), spare = step.Invoke(w);
        double first = outs[0].ToScalar(), last = first;
        for (int i = 1; i < 5_000; i++)
        {
            step.InvokeInto([outs[1]], spare);
            (outs, spare) = (spare, outs);
            last = outs[0].ToScalar();
        }
        string? line = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
        if (line is null) return 1;
        long kilobytes = long.Parse(line["VmHWM:".Length..].Trim().Split(' ')[0]);
        output.WriteLine(FormattableString.Invariant($"{kilobytes * 1024} {first:R} {last:R}"));
        return 0;
    }

    static double[] Flat(TT t) => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();


}
