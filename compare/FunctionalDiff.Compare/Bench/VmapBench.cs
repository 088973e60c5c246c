using System.Diagnostics;
using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Bench;

using TT = TorchSharp.torch.Tensor;

/// <summary>
/// Issue 16's table, `bench --vmap`: per-example gradients by vmap against one batched gradient of
/// ours and against TorchSharp looping autograd.grad over the examples (libtorch has no vmap), and
/// the Jacobian and Hessian that vmap batches over the basis against rows of autograd.grad (what
/// torch.autograd.functional.jacobian does without vectorize; TorchSharp does not expose it). Both
/// sides run in one process with <see cref="Benchmarks"/>' method (alternating rounds, pauses, medians).
/// </summary>
public static class VmapBench
{
    const int Batch = 128, Inputs = 784, Hidden = 512, Classes = 10, JacobianSize = 200;

    /// <summary>
    /// Prints the table; `--quick` uses 3 rounds; `--thread-time` (with DOTNET_PROCESSOR_COUNT=1) times calls by
    /// the calling thread's CPU time, for a host loaded by other processes.
    /// </summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        parsed.WriteHeader(output, "vmap: FunctionalDiff vs TorchSharp autograd");
        output.WriteLine("- MLP: 784 → 512 tanh → 10, softmax cross-entropy, batch 128, float32; ours compiled with Diff.Compile (the batch an input), run with InvokeInto into outputs kept between calls." +
                         " Per-example gradients: Diff.Vmap of Diff.Grad of one example's loss; torch: 128 torch.autograd.grad calls, one per example." +
                         $" Jacobian and Hessian: x in R^{JacobianSize}, W {JacobianSize}×{JacobianSize}, float64; torch: one autograd.grad per row (the Hessian's rows by double backward)");
        output.WriteLine(parsed.ThreadTime
            ? "- times: median CPU time of the calling thread per call (both libraries on one thread, so other processes' load does not count) over alternating rounds after a warm-up (pauses of 50 ms); ours/reference below 1: ours is faster"
            : "- times: median wall time per call over alternating rounds after a warm-up (pauses of 50 ms); ours/reference below 1: ours is faster");
        output.WriteLine();
        output.WriteLine("| workload | dtype | ours | reference | ours/reference | target | holds | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        var mlp = new Mlp();
        Row(output, "per-example gradients (vmap) vs one batched gradient of ours", "float32", 1.5, parsed, mlp.PerExample, mlp.Batched,
            () => mlp.SumOverExamples(), () => mlp.BatchedGradient());
        Row(output, "per-example gradients (vmap) vs torch looping 128 autograd.grad", "float32", 0.1, parsed, mlp.PerExample, mlp.TorchLoop,
            () => mlp.PerExampleValues(), () => mlp.TorchLoopValues());
        var jacobian = new JacobianWorkloads();
        Row(output, $"Jacobian of tanh(W x), x in R^{JacobianSize} vs torch rows of autograd.grad", "float64", 0.3, parsed,
            jacobian.OursJacobian, jacobian.TorchJacobian, () => jacobian.OursJacobianValues(), () => jacobian.TorchJacobianValues());
        Row(output, $"Hessian of sum(tanh(W x)²), x in R^{JacobianSize} vs torch rows of double backward", "float64", 0.3, parsed,
            jacobian.OursHessian, jacobian.TorchHessian, () => jacobian.OursHessianValues(), () => jacobian.TorchHessianValues());
        output.WriteLine();
        output.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s; load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }

    static void Row(TextWriter output, string name, string dtype, double target, BenchOptions timing, Action ours, Action reference,
        Func<double[]> oursResult, Func<double[]> referenceResult)
    {
        double difference = Benchmarks.MaxRelativeDifference(oursResult(), referenceResult());
        var (o, r) = timing.Medians(ours, reference);
        double ratio = o / r;
        output.WriteLine($"| {name} | {dtype} | {Benchmarks.Time(o)} | {Benchmarks.Time(r)} | {ratio:G3}× | ≤ {target:0.##}× | {(ratio <= target ? "yes" : "no")} | {difference:E1} |");
        output.Flush();
    }



    /// <summary>The MLP's parameters and batch, seeded, in float32 on both sides.</summary>
    sealed class Mlp
    {
        readonly Tensor[] inputs;
        readonly CompiledFunction perExample, batched;
        // Outputs written by InvokeInto on every timed call: a loop reuses its result buffers, so
        // neither side pays the first touch of fresh pages (208 MB per call for the per-example side).
        readonly Tensor[] perExampleOutputs, batchedOutputs;
        readonly TT[] parameters;
        readonly TT xs, oneHot;

        public Mlp()
        {
            var random = new Random(16);
            float[] Uniform(int n, double scale) => Enumerable.Range(0, n).Select(_ => (float)(scale * (random.NextDouble() * 2 - 1))).ToArray();
            var data = new[] { Uniform(Inputs * Hidden, 1 / Math.Sqrt(Inputs)), Uniform(Hidden, 0.1), Uniform(Hidden * Classes, 1 / Math.Sqrt(Hidden)), Uniform(Classes, 0.1) };
            var shapes = new[] { new[] { Inputs, Hidden }, new[] { Hidden }, new[] { Hidden, Classes }, new[] { Classes } };
            var x = Uniform(Batch * Inputs, 1.0);
            var hot = new float[Batch * Classes];
            for (int b = 0; b < Batch; b++) hot[b * Classes + random.Next(Classes)] = 1;
            inputs = data.Select((d, i) => Tensor.FromArray(d, shapes[i]))
                .Append(Tensor.FromArray(x, Batch, Inputs)).Append(Tensor.FromArray(hot, Batch, Classes)).ToArray();
            perExample = Diff.Compile((Expr[] p) => Diff.Vmap(
                args => Diff.Grad((Expr[] q) => ExampleLoss(q, args[4], args[5]))(args[..4]),
                new int?[] { null, null, null, null, 0, 0 })(p));
            // the same losses summed over the batch, written batched: the gradient is the sum of the per-example ones
            batched = Diff.Compile((Expr[] p) => Diff.Grad((Expr[] q) =>
                -(p[5] * ((p[4].MatMul(q[0]) + q[1]).Tanh().MatMul(q[2]) + q[3]).LogSoftmax(1)).Sum())(p[..4]));
            perExampleOutputs = perExample.Invoke(inputs);
            batchedOutputs = batched.Invoke(inputs);
            parameters = data.Select((d, i) => torch.tensor(d).reshape(shapes[i].Select(s => (long)s).ToArray()).requires_grad_(true)).ToArray();
            xs = torch.tensor(x).reshape(Batch, Inputs);
            oneHot = torch.tensor(hot).reshape(Batch, Classes);
        }

        static Expr ExampleLoss(Expr[] q, Expr x, Expr oneHot) =>
            -(oneHot * ((x.MatMul(q[0]) + q[1]).Tanh().MatMul(q[2]) + q[3]).LogSoftmax(0)).Sum();

        public void PerExample() => perExample.InvokeInto(inputs, perExampleOutputs);
        public void Batched() => batched.InvokeInto(inputs, batchedOutputs);

        TT[][] Loop()
        {
            var rows = new TT[Batch][];
            for (int b = 0; b < Batch; b++)
            {
                var logits = xs[b].matmul(parameters[0]).add(parameters[1]).tanh().matmul(parameters[2]).add(parameters[3]);
                var loss = -(oneHot[b] * logits.log_softmax(0)).sum();
                rows[b] = torch.autograd.grad(new[] { loss }, parameters).ToArray();
            }
            return rows;
        }

        public void TorchLoop() { using var scope = torch.NewDisposeScope(); Loop(); }

        public double[] PerExampleValues() => perExample.Invoke(inputs).SelectMany(t => t.ToDoubleArray()).ToArray();

        public double[] TorchLoopValues()
        {
            using var scope = torch.NewDisposeScope();
            var rows = Loop();
            return Enumerable.Range(0, 4).SelectMany(i => Flat(torch.stack(rows.Select(r => r[i]), 0))).ToArray();
        }

        public double[] SumOverExamples()
        {
            var all = perExample.Invoke(inputs);
            return all.SelectMany(t =>
            {
                var values = t.ToDoubleArray();
                int size = values.Length / Batch;
                var sum = new double[size];
                for (int b = 0; b < Batch; b++)
                    for (int k = 0; k < size; k++) sum[k] += values[b * size + k];
                return sum;
            }).ToArray();
        }

        public double[] BatchedGradient() => batched.Invoke(inputs).SelectMany(t => t.ToDoubleArray()).ToArray();
    }

    /// <summary>tanh(W x) and sum(tanh(W x)²) at x in R^200, float64, seeded.</summary>
    sealed class JacobianWorkloads
    {
        readonly Tensor w, x;
        readonly CompiledFunction jacobian, hessian;
        readonly TT tw, tx;

        public JacobianWorkloads()
        {
            var random = new Random(17);
            double[] Uniform(int n, double scale) => Enumerable.Range(0, n).Select(_ => scale * (random.NextDouble() * 2 - 1)).ToArray();
            var wData = Uniform(JacobianSize * JacobianSize, 1 / Math.Sqrt(JacobianSize));
            var xData = Uniform(JacobianSize, 1.0);
            w = Tensor.FromArray(wData, JacobianSize, JacobianSize);
            x = Tensor.FromArray(xData, JacobianSize);
            jacobian = Diff.Compile((Expr[] p) => new[] { Diff.Jacobian(v => p[0].MatMul(v).Tanh())(p[1]) });
            hessian = Diff.Compile((Expr[] p) => new[] { Diff.Hessian(v => p[0].MatMul(v).Tanh().Square().Sum())(p[1]) });
            tw = torch.tensor(wData).reshape(JacobianSize, JacobianSize);
            tx = torch.tensor(xData).requires_grad_(true);
        }

        public void OursJacobian() => jacobian.Invoke(w, x);
        public void OursHessian() => hessian.Invoke(w, x);
        public double[] OursJacobianValues() => jacobian.Invoke(w, x)[0].ToDoubleArray();
        public double[] OursHessianValues() => hessian.Invoke(w, x)[0].ToDoubleArray();

        TT Rows(TT y)
        {
            var rows = new TT[JacobianSize];
            for (int i = 0; i < JacobianSize; i++)
                rows[i] = torch.autograd.grad(new[] { y[i] }, new[] { tx }, retain_graph: true)[0];
            return torch.stack(rows, 0);
        }

        TT TorchJacobianOf() => Rows(tw.matmul(tx).tanh());

        TT TorchHessianOf()
        {
            var loss = tw.matmul(tx).tanh().square().sum();
            var g = torch.autograd.grad(new[] { loss }, new[] { tx }, retain_graph: true, create_graph: true)[0];
            return Rows(g);
        }

        public void TorchJacobian() { using var scope = torch.NewDisposeScope(); TorchJacobianOf(); }
        public void TorchHessian() { using var scope = torch.NewDisposeScope(); TorchHessianOf(); }
        public double[] TorchJacobianValues() { using var scope = torch.NewDisposeScope(); return Flat(TorchJacobianOf()); }
        public double[] TorchHessianValues() { using var scope = torch.NewDisposeScope(); return Flat(TorchHessianOf()); }
    }

    static double[] Flat(TT t) => t.detach().to_type(ScalarType.Float64).contiguous().data<double>().ToArray();


}
