using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Bench;

using TT = TorchSharp.torch.Tensor;

/// <summary>
/// `bench --ops`: the gradient of one op a model needs, float32, ours compiled (Diff.Compile of
/// Diff.Grad, InvokeInto into kept outputs) against TorchSharp's eager forward and autograd.grad of
/// the same scalar, in one process with <see cref="Benchmarks"/>' method. Each row's function is a
/// sum over the op's result (times x or squared where the op alone would give a constant gradient),
/// so both sides run the op forward and its rule backward. No targets: the table shows where each op
/// stands against libtorch's kernels.
/// </summary>
public static class OpsBench
{
    sealed record Row(string Name, int[] Shape, Func<Expr, Expr> Ours, Func<TT, TT> Torch);

    /// <summary>Prints the table; `--quick` uses 3 rounds; `--thread-time` times by the calling thread's CPU time; `--filter TEXT` keeps the rows whose op contains TEXT.</summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        parsed.WriteHeader(output, "Ops a model needs, gradient of one op: FunctionalDiff compiled vs TorchSharp eager autograd");
        output.WriteLine("- float32; ours: Diff.Compile(x => Diff.Grad(f)(x)), InvokeInto outputs kept between calls; torch: f(x) forward and torch.autograd.grad, in a dispose scope");
        output.WriteLine(parsed.ThreadTime
            ? "- times: median CPU time of the calling thread per call (both libraries on one thread) over alternating rounds after a warm-up (pauses of 50 ms); ours/torch below 1: ours is faster"
            : "- times: median wall time per call over alternating rounds after a warm-up (pauses of 50 ms); ours/torch below 1: ours is faster");
        output.WriteLine();
        output.WriteLine("| op (f summed) | shape | ours | torch | ours/torch | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        var random = new Random(4);
        float[] Uniform(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        var matrix = Uniform(512 * 512);
        var kernel = Uniform(16 * 3 * 3 * 3);
        var picks = Enumerable.Range(0, 256).Select(i => (i * 7) % 512).ToArray();
        Tensor Ours(float[] data, params int[] shape) => Tensor.FromArray(data, shape);
        TT Torch(float[] data, params long[] shape) => torch.tensor(data, shape, dtype: ScalarType.Float32);
        var w = Ours(matrix, 512, 512);
        var tw = Torch(matrix, 512, 512);
        var k = Ours(kernel, 16, 3, 3, 3);
        var tk = Torch(kernel, 16, 3, 3, 3);
        var index = Tensor.FromArray(picks.Select(i => (float)i).ToArray(), 256);
        var tindex = torch.tensor(picks.Select(i => (long)i).ToArray());
        var rows = new[]
        {
            new Row("softmax(x)·x, last axis", [256, 512], x => x.Softmax(1) * x, x => torch.softmax(x, 1) * x),
            new Row("log_softmax(x)·x, last axis", [256, 512], x => x.LogSoftmax(1) * x, x => torch.nn.functional.log_softmax(x, 1) * x),
            new Row("max over the last axis", [256, 512], x => x.Max(1), x => x.amax(new long[] { 1 })),
            new Row("gelu", [256, 512], x => x.Gelu(), x => torch.nn.functional.gelu(x)),
            new Row("elu", [256, 512], x => x.Elu(), x => torch.nn.functional.elu(x, 1.0, false)),
            new Row("softplus", [256, 512], x => x.Softplus(), x => torch.nn.functional.softplus(x)),
            new Row("layer_norm(x)·x, last axis", [256, 512], x => x.LayerNorm() * x, x => torch.nn.functional.layer_norm(x, new long[] { 512 }) * x),
            new Row("attention softmax(x xᵀ/8) x", [8, 128, 64],
                    x => (x.MatMul(x.Transpose(0, 2, 1)) * 0.125).Softmax(2).MatMul(x),
                    x => torch.softmax(x.matmul(x.transpose(1, 2)) * 0.125, 2).matmul(x)),
            new Row("sigmoid", [1024, 1024], x => x.Sigmoid(), x => torch.sigmoid(x)),
            new Row("relu(x W), W 512×512", [256, 512], x => x.MatMul(w).Relu(), x => torch.nn.functional.relu(x.matmul(tw))),
            new Row("index_select(x, 0, 256 rows)²", [512, 512], x => x.IndexSelect(0, index).Square(), x => x.index_select(0, tindex).square()),
            new Row("cumsum(x, last axis)²", [256, 512], x => x.Cumsum(1).Square(), x => x.cumsum(1).square()),
            new Row("|x|^1.5", [256, 512], x => x.Abs().Pow(1.5), x => x.abs().pow(1.5)),
            new Row("conv2d 3→16, 3×3, padding 1, squared", [8, 3, 32, 32], x => Nn.Conv2d(x, k, padding: 1).Square(), x => torch.nn.functional.conv2d(x, tk, padding: new long[] { 1, 1 }).square()),
            new Row("max_pool2d 2×2", [8, 16, 32, 32], x => Nn.MaxPool2d(x, 2), x => torch.nn.functional.max_pool2d(x, new long[] { 2, 2 })),
            new Row("W x, matrix times vector", [512], x => w.MatMul(x).Square(), x => tw.matmul(x).square()),
        };
        foreach (var row in rows.Where(r => parsed.Wanted(r.Name)))
        {
            var data = Uniform(row.Shape.Aggregate(1, (a, b) => a * b));
            var x = Ours(data, row.Shape);
            var tx = Torch(data, row.Shape.Select(d => (long)d).ToArray());
            var compiled = Diff.Compile((Expr[] p) => new[] { Diff.Grad((Expr z) => row.Ours(z).Sum())(p[0]) });
            var inputs = new[] { x };
            var outputs = compiled.Invoke(inputs);
            // the timed call computes the gradient only; reading it out as float64 is for the comparison
            TT TorchGradient(DisposeScope scope)
            {
                var z = tx.detach().requires_grad_(true);
                var y = row.Torch(z).sum();
                return torch.autograd.grad(new[] { y }, new[] { z })[0];
            }
            double[] torchValues;
            using (var scope = torch.NewDisposeScope())
                torchValues = TorchGradient(scope).to_type(ScalarType.Float64).data<double>().ToArray();
            double difference = Benchmarks.MaxRelativeDifference(outputs[0].ToDoubleArray(), torchValues);
            var (o, t) = parsed.Medians(() => compiled.InvokeInto(inputs, outputs), () =>
            {
                using var scope = torch.NewDisposeScope();
                TorchGradient(scope);
            });
            output.WriteLine($"| {row.Name} | {string.Join("×", row.Shape)} | {Benchmarks.Time(o)} | {Benchmarks.Time(t)} | {o / t:G3}× | {difference:E1} |");
            output.Flush();
        }
        output.WriteLine();
        output.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s; load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }

}
