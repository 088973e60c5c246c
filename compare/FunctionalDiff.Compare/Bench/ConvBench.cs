using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Bench;

using TT = TorchSharp.torch.Tensor;

/// <summary>
/// Issue 15's convolution rows, `bench --conv`: a conv2d forward and backward and a LeNet training step,
/// both compiled (<see cref="Diff.Compile"/>) through the public C# API, against the same computation with
/// torch autograd in one process, timed with <see cref="Benchmarks"/>' method (alternating rounds, pauses, medians).
/// `--thread-time` (with DOTNET_PROCESSOR_COUNT=1) times each call by the calling thread's CPU time, as `bench --linalg`
/// does, for a host loaded by other processes.
/// </summary>
public static class ConvBench
{
    /// <summary>Prints the table; `--quick` uses 3 rounds instead of 7.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        parsed.WriteHeader(output, "Convolution: FunctionalDiff vs TorchSharp autograd");
        output.WriteLine("- conv2d: y = conv2d(x, w, b) with x [32,3,32,32], w [16,3,3,3], padding 1; a call returns ⟨y, g⟩ for a fixed cotangent g " +
                         "and its gradients with respect to x, w and b. LeNet: the comparison table's model (batch 8, 1×28×28; conv 5×5 → relu → max pool 2, twice; " +
                         "linear 256→120 → relu → linear 120→10; cross-entropy); a step returns the loss and its 8 gradients. Ours compiled, torch `torch.autograd.grad`");
        output.WriteLine(parsed.ThreadTime
            ? "- times: CPU time of the calling thread per call (both libraries on one thread, so other processes' load does not count), median over alternating rounds after a warm-up; ours/torch below 1: ours is faster"
            : "- times: median per call over alternating rounds after a warm-up (pauses of 50 ms), as `bench`; ours/torch below 1: ours is faster");
        output.WriteLine();
        output.WriteLine("| workload | dtype | ours | torch | ours/torch | target | holds | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Row(output, "conv2d forward + backward, compiled", dtype, 1.0, parsed, Conv2d(dtype));
        foreach (var dtype in new[] { DType.Float32, DType.Float64 })
            Row(output, "LeNet step, compiled", dtype, 1.0, parsed, LeNet(dtype));
        output.WriteLine();
        output.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s; load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }


    sealed record Workload(Action Ours, Action Torch, Func<double[]> OursResult, Func<double[]> TorchResult);

    static void Row(TextWriter output, string name, DType dtype, double target, BenchOptions timing, Workload w)
    {
        double difference = Benchmarks.MaxRelativeDifference(w.OursResult(), w.TorchResult());
        var (ours, theirs) = timing.Medians(w.Ours, w.Torch);
        double ratio = ours / theirs;
        output.WriteLine($"| {name} | {dtype.ToString().ToLowerInvariant()} | {Benchmarks.Time(ours)} | {Benchmarks.Time(theirs)} | {ratio:F2}× | ≤ {target:0.##}× | {(ratio <= target ? "yes" : "no")} | {difference:E1} |");
        output.Flush();
    }


    /// <summary>Seeded values in [-scale, scale], shared by both sides.</summary>
    static double[] Uniform(Random random, int n, double scale) => Enumerable.Range(0, n).Select(_ => scale * (random.NextDouble() * 2 - 1)).ToArray();

    static Workload Conv2d(DType dtype)
    {
        var random = new Random(15);
        double[] x = Uniform(random, 32 * 3 * 32 * 32, 1), w = Uniform(random, 16 * 27, 0.2), b = Uniform(random, 16, 0.1), g = Uniform(random, 32 * 16 * 32 * 32, 1);
        var inputs = new[] { Ours(x, dtype, 32, 3, 32, 32), Ours(w, dtype, 16, 3, 3, 3), Ours(b, dtype, 16), Ours(g, dtype, 32, 16, 32, 32) };
        var step = Diff.Compile((Expr[] p) =>
        {
            var (value, gradients) = Diff.ValueAndGrad(q => (Nn.Conv2d(q[0], q[1], q[2], padding: 1) * p[3]).Sum(), p[..3]);
            return [value, .. gradients];
        });
        var tx = Torch(x, dtype, 32, 3, 32, 32).requires_grad_(true);
        var tw = Torch(w, dtype, 16, 3, 3, 3).requires_grad_(true);
        var tb = Torch(b, dtype, 16).requires_grad_(true);
        var tg = Torch(g, dtype, 32, 16, 32, 32);
        TT[] Theirs()
        {
            var value = (F.conv2d(tx, tw, tb, padding: new long[] { 1, 1 }) * tg).sum();
            return [value, .. torch.autograd.grad(new[] { value }, new[] { tx, tw, tb })];
        }
        return Make(() => step.Invoke(inputs), Theirs);
    }

    static Workload LeNet(DType dtype)
    {
        var random = new Random(16);
        int[] targets = Enumerable.Range(0, 8).Select(_ => random.Next(10)).ToArray();
        double[] x = Uniform(random, 8 * 28 * 28, 1);
        (double[] Values, int[] Shape)[] parameters =
        {
            (Uniform(random, 150, 1 / 5.0), new[] { 6, 1, 5, 5 }), (Uniform(random, 6, 0.1), new[] { 6 }),
            (Uniform(random, 2400, 1 / Math.Sqrt(150)), new[] { 16, 6, 5, 5 }), (Uniform(random, 16, 0.1), new[] { 16 }),
            (Uniform(random, 120 * 256, 1 / 16.0), new[] { 120, 256 }), (Uniform(random, 120, 0.1), new[] { 120 }),
            (Uniform(random, 1200, 1 / Math.Sqrt(120)), new[] { 10, 120 }), (Uniform(random, 10, 0.1), new[] { 10 }),
        };
        var inputs = parameters.Select(p => Ours(p.Values, dtype, p.Shape)).Append(Ours(x, dtype, 8, 1, 28, 28)).ToArray();
        var step = Diff.Compile((Expr[] p) =>
        {
            var (value, gradients) = Diff.ValueAndGrad(q =>
            {
                var h = Nn.MaxPool2d(Nn.Conv2d(p[8], q[0], q[1]).Relu(), 2);
                h = Nn.MaxPool2d(Nn.Conv2d(h, q[2], q[3]).Relu(), 2);
                var hidden = Nn.Linear(h.Reshape(8, 256), q[4], q[5]).Relu();
                return Loss.CrossEntropy(Nn.Linear(hidden, q[6], q[7]), targets);
            }, p[..8]);
            return [value, .. gradients];
        });
        var tparameters = parameters.Select(p => Torch(p.Values, dtype, p.Shape.Select(d => (long)d).ToArray()).requires_grad_(true)).ToArray();
        var tx = Torch(x, dtype, 8, 1, 28, 28);
        var ttargets = torch.tensor(targets.Select(t => (long)t).ToArray());
        TT[] Theirs()
        {
            var h = F.max_pool2d(F.relu(F.conv2d(tx, tparameters[0], tparameters[1])), 2);
            h = F.max_pool2d(F.relu(F.conv2d(h, tparameters[2], tparameters[3])), 2);
            var hidden = F.relu(F.linear(h.reshape(8, 256), tparameters[4], tparameters[5]));
            var loss = F.cross_entropy(F.linear(hidden, tparameters[6], tparameters[7]), ttargets);
            return [loss, .. torch.autograd.grad(new[] { loss }, tparameters)];
        }
        return Make(() => step.Invoke(inputs), Theirs);
    }

    static Workload Make(Func<Tensor[]> ours, Func<TT[]> theirs) => new(
        () => ours(),
        () => { using var scope = torch.NewDisposeScope(); theirs(); },
        () => ours().SelectMany(t => t.ToDoubleArray()).ToArray(),
        () => { using var scope = torch.NewDisposeScope(); return theirs().SelectMany(Flat).ToArray(); });

    static Tensor Ours(double[] values, DType dtype, params int[] shape) => Tensor.FromArray(values, shape).Cast(dtype);

    static TT Torch(double[] values, DType dtype, params long[] shape) =>
        torch.tensor(values, ScalarType.Float64).reshape(shape).to_type(dtype == DType.Float32 ? ScalarType.Float32 : ScalarType.Float64).detach();

    static double[] Flat(TT t) => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();


}
