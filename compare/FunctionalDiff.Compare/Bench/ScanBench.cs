using System.Diagnostics;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// `bench --scan`: issue 19's loop rows against TorchSharp in one process with <see cref="Benchmarks"/>'
/// alternating-rounds method (or, with `--thread-time`, <see cref="Benchmarks.ThreadTimeMedians"/>'s per-thread CPU time).
/// Ours is the public C# API with <c>Expr.Scan</c> / <c>Expr.Repeat</c>; torch runs the same cell in a C#
/// loop under autograd, and for information TorchSharp's fused <c>nn.LSTM</c>. Then the size row: the
/// node count of a Scan's gradient graph does not depend on the trip count.
/// </summary>
public static class ScanBench
{
    static readonly RecurrentModels.LstmSize Lstm = new(Vocabulary: 64, Hidden: 128, Batch: 16, Steps: 256);
    static readonly RecurrentModels.OdeSize Ode = new(State: 64, Hidden: 128, Steps: 1000, Dt: 0.01);

    /// <summary>Prints the table; returns the exit code.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        bool quick = parsed.Quick;
        bool threadTime = parsed.ThreadTime;
        // --filter TEXT: only the rows whose workload contains TEXT ("checkpointing" for the memory rows)
        bool Wanted(string workload) => parsed.Wanted(workload);
        parsed.WriteHeader(output, "Loops: FunctionalDiff's Scan vs TorchSharp");
        output.WriteLine($"- LSTM: 2 layers, vocabulary {Lstm.Vocabulary} (one-hot inputs), hidden {Lstm.Hidden}, batch {Lstm.Batch}, T = {Lstm.Steps}; " +
                         "objective: mean cross-entropy of a linear read-out against the next token; a call returns it and its 8 parameter gradients. " +
                         "Ours: `Expr.Scan` over a step running both layers; torch: the same cell in a C# loop, `torch.autograd.grad`");
        output.WriteLine($"- ODE: {Ode.Steps} classical RK4 steps of dt = {Ode.Dt} of dy/dt = W2 tanh(W1 y + b1) + b2, y in R^{Ode.State}, hidden {Ode.Hidden}; " +
                         "objective ½‖y_N − target‖², gradient wrt y0 and the 4 parameters. Ours: `Expr.Repeat`");
        output.WriteLine(threadTime
            ? "- clock: CPU time of the calling thread per call (both libraries on one thread), so other processes' load does not count"
            : "- clock: wall time per call; median over alternating rounds after a warm-up (pauses of 50 ms), as `bench`");
        output.WriteLine();
        output.WriteLine("| workload | dtype | ours | torch | ours/torch | target | holds | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            if (Wanted("LSTM objective + gradient, Scan, compiled"))
                Row(output, "LSTM objective + gradient, Scan, compiled", dtype, 0.8, parsed, LstmWorkload(dtype, LstmMode.Compiled));
            if (Wanted("the same, uncompiled (ValueAndGrad + EvalMany)"))
                Row(output, "the same, uncompiled (ValueAndGrad + EvalMany)", dtype, 1.0, parsed, LstmWorkload(dtype, LstmMode.Uncompiled));
            if (Wanted("the same against torch's fused nn.LSTM (information)"))
                Row(output, "the same against torch's fused nn.LSTM (information)", dtype, null, parsed, LstmWorkload(dtype, LstmMode.Fused));
        }
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            if (Wanted("RK4 ODE gradient, Repeat, compiled"))
                Row(output, "RK4 ODE gradient, Repeat, compiled", dtype, 0.8, parsed, OdeWorkload(dtype));
        if (Wanted("nodes of the gradient graph of a Scan")) SizeRow(output);
        // Issue 19 §2: LSTM at T = 4,096, peak managed memory with √T checkpointing vs without (≤ 0.25×, time ≤ 1.5×)
        if (Wanted("LSTM checkpointing")) CheckpointBench.Run(output, quick, threadTime);
        output.WriteLine();
        output.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s; load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }

    /// <summary>One timed workload: our call and torch's, each returning its results flattened in one order.</summary>
    sealed record Workload(Func<double[]> Ours, Func<double[]> Torch);

    static void Row(TextWriter output, string name, DType dtype, double? target, BenchOptions timing, Workload w)
    {
        double difference = Benchmarks.MaxRelativeDifference(w.Ours(), w.Torch());
        var (ours, theirs) = timing.Medians(() => w.Ours(), () => w.Torch());
        double ratio = ours / theirs;
        string goal = target is double t ? $"≤ {t:0.##}×" : "";
        string holds = target is double limit ? (ratio <= limit ? "yes" : "no") : "";
        output.WriteLine($"| {name} | {dtype.ToString().ToLowerInvariant()} | {Benchmarks.Time(ours)} | {Benchmarks.Time(theirs)} | {ratio:F2}× | {goal} | {holds} | {difference:E1} |");
        output.Flush();
    }

    enum LstmMode { Compiled, Uncompiled, Fused }

    /// <summary>Uniform in ±scale, seeded: torch's default initialisation of recurrent layers uses ±1/√H.</summary>
    static double[] Uniform(int count, double scale, Random random) =>
        Enumerable.Range(0, count).Select(_ => scale * (2 * random.NextDouble() - 1)).ToArray();

    static Workload LstmWorkload(DType dtype, LstmMode mode)
    {
        var size = Lstm;
        var tokens = RecurrentModels.Tokens(size, 1901);
        double[] oneHot = RecurrentModels.OneHot(size, tokens);
        int[] targets = RecurrentModels.Targets(size, tokens);
        var random = new Random(1902);
        double scale = 1 / Math.Sqrt(size.Hidden);
        var values = size.Parameters.Select(s => Uniform(s.Aggregate(1, (a, b) => a * b), scale, random)).ToArray();

        var parameters = values.Select((v, i) => Tensor.FromArray(v, size.Parameters[i]).Cast(dtype)).ToArray();
        var input = Tensor.FromArray(oneHot, size.Steps, size.Batch, size.Vocabulary).Cast(dtype);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        TT Torch(double[] v, int[] shape) => torch.tensor(v, ScalarType.Float64).reshape(shape.Select(d => (long)d).ToArray()).to_type(scalar).detach();
        var tparameters = values.Select((v, i) => Torch(v, size.Parameters[i]).requires_grad_(true)).ToArray();
        var tinput = Torch(oneHot, new[] { size.Steps, size.Batch, size.Vocabulary });
        var ttargets = torch.tensor(targets.Select(t => (long)t).ToArray());

        Func<double[]> ours;
        switch (mode)
        {
            case LstmMode.Uncompiled:
            {
                var inputExpr = (Expr)input;
                var parameterExprs = parameters.Select(p => (Expr)p).ToArray();
                ours = () =>
                {
                    var (l, g) = Diff.ValueAndGrad(q => RecurrentModels.LstmObjective(Loops.Scan, size, inputExpr, targets, q), parameterExprs);
                    return Flat(Expr.EvalMany([l, .. g]));
                };
                break;
            }
            default:
            {
                var step = Diff.Compile((Expr[] p) =>
                {
                    var (l, g) = Diff.ValueAndGrad(q => RecurrentModels.LstmObjective(Loops.Scan, size, p[8], targets, q), p[..8]);
                    return [l, .. g];
                });
                var arguments = parameters.Append(input).ToArray();
                ours = () => Flat(step.Invoke(arguments));
                break;
            }
        }

        Func<double[]> theirs;
        if (mode == LstmMode.Fused)
        {
            var lstm = nn.LSTM(size.Vocabulary, size.Hidden, numLayers: 2, dtype: scalar);
            using (torch.no_grad())
            {
                // torch's layer has two biases per layer; ours is their sum, so one of them stays 0
                var named = lstm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
                named["weight_ih_l0"].copy_(tparameters[0]);
                named["weight_hh_l0"].copy_(tparameters[1]);
                named["bias_ih_l0"].copy_(tparameters[2]);
                named["bias_hh_l0"].zero_();
                named["weight_ih_l1"].copy_(tparameters[3]);
                named["weight_hh_l1"].copy_(tparameters[4]);
                named["bias_ih_l1"].copy_(tparameters[5]);
                named["bias_hh_l1"].zero_();
            }
            var weights = new[] { "weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1" }
                .Select(n => (TT)lstm.named_parameters().First(p => p.name == n).parameter).ToArray();
            TT[] all = [.. weights, tparameters[6], tparameters[7]];
            theirs = () =>
            {
                using var scope = torch.NewDisposeScope();
                var top = lstm.forward(tinput, null).Item1;
                var logits = top.matmul(tparameters[6].t()) + tparameters[7];
                var loss = nn.functional.cross_entropy(logits.reshape(size.Steps * size.Batch, size.Vocabulary), ttargets);
                return Flat([loss, .. torch.autograd.grad(new[] { loss }, all)]);
            };
        }
        else
        {
            theirs = () =>
            {
                using var scope = torch.NewDisposeScope();
                var loss = RecurrentModels.LstmObjective(size, tinput, ttargets, tparameters);
                return Flat([loss, .. torch.autograd.grad(new[] { loss }, tparameters)]);
            };
        }
        return new Workload(ours, theirs);
    }

    static Workload OdeWorkload(DType dtype)
    {
        var size = Ode;
        var random = new Random(1903);
        var values = size.Inputs.Select((s, i) => Uniform(s.Aggregate(1, (a, b) => a * b), i == 0 ? 1.0 : 1 / Math.Sqrt(s[^1]), random)).ToArray();
        double[] target = Uniform(size.State, 1.0, random);
        var inputs = values.Select((v, i) => Tensor.FromArray(v, size.Inputs[i]).Cast(dtype)).ToArray();
        var targetTensor = Tensor.FromArray(target, size.State).Cast(dtype);
        var scalar = dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64;
        TT Torch(double[] v, int[] shape) => torch.tensor(v, ScalarType.Float64).reshape(shape.Select(d => (long)d).ToArray()).to_type(scalar).detach();
        var tinputs = values.Select((v, i) => Torch(v, size.Inputs[i]).requires_grad_(true)).ToArray();
        var ttarget = Torch(target, new[] { size.State });

        var step = Diff.Compile((Expr[] p) =>
        {
            var (l, g) = Diff.ValueAndGrad(q => 0.5 * (RecurrentModels.OdeFinal(Loops.Repeat, size, q) - p[5]).Square().Sum(), p[..5]);
            return [l, .. g];
        });
        var arguments = inputs.Append(targetTensor).ToArray();
        return new Workload(
            () => Flat(step.Invoke(arguments)),
            () =>
            {
                using var scope = torch.NewDisposeScope();
                var loss = 0.5 * (RecurrentModels.OdeFinal(size, tinputs) - ttarget).square().sum();
                return Flat([loss, .. torch.autograd.grad(new[] { loss }, tinputs)]);
            });
    }

    /// <summary>
    /// The node count of the gradient graph of a tanh RNN written with Scan, at T = 10 and T = 100,000
    /// (nothing is evaluated), next to the same loop unrolled at T = 10 and T = 1,000 for contrast.
    /// </summary>
    static void SizeRow(TextWriter output)
    {
        int Nodes(OurScan loop, int steps)
        {
            var xs = (Expr)Tensor.RandomNormal(new[] { steps, 4 }, 1904);
            var w = (Expr)Tensor.RandomNormal(new[] { 4, 4 }, 1905);
            var gradient = Diff.Grad(v =>
            {
                var (carry, _) = loop((h, x) => (new[] { (h[0].MatMul(v) + x[0]).Tanh() }, Array.Empty<Expr>()),
                    new[] { (Expr)Tensor.Zeros(new[] { 4 }) }, new[] { xs });
                return carry[0].Square().Sum();
            })(w);
            return CountNodes(gradient);
        }
        int short_ = Nodes(Loops.Scan, 10), long_ = Nodes(Loops.Scan, 100_000);
        int unrolledShort = Nodes(Loops.UnrolledScan, 10), unrolledLong = Nodes(Loops.UnrolledScan, 1000);
        output.WriteLine($"| nodes of the gradient graph of a Scan (tanh RNN), T = 10 vs T = 100,000 | float64 | {short_} vs {long_} | | | equal | {(short_ == long_ ? "yes" : "no")} | " +
                         $"unrolled: {unrolledShort} at T = 10, {unrolledLong} at T = 1,000 |");
    }

    /// <summary>Distinct nodes reachable from <paramref name="root"/> (structurally equal nodes are one object), counted iteratively.</summary>
    internal static int CountNodes(Expr root)
    {
        var seen = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
        var stack = new Stack<Expr>();
        stack.Push(root);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (!seen.Add(e)) continue;
            foreach (var i in e.Inputs) stack.Push(i);
        }
        return seen.Count;
    }

    static double[] Flat(Tensor[] results) => results.SelectMany(t => t.ToDoubleArray()).ToArray();

    static double[] Flat(TT[] results) =>
        results.SelectMany(t => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray()).ToArray();


}
