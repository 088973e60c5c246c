using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Train;

/// <summary>
/// Whole training runs, FunctionalDiff (a compiled value-and-gradient step and <see cref="Adam"/>)
/// next to TorchSharp (autograd and torch.optim.Adam), from the same initial parameters on the
/// same mini-batches, compared after every step.
/// </summary>
public static class TrainRuns
{
    /// <summary>One step of both runs: the two losses, their relative difference, and the largest relative difference of a parameter tensor (max |ours − torch| / max |torch|).</summary>
    public sealed record Step(int Index, double OurLoss, double TorchLoss, double LossRelative, double ParameterRelative);

    /// <summary>A whole run: the steps, the final accuracies, and the final parameters (ours).</summary>
    public sealed record Run(string Name, DType DType, List<Step> Steps, double OurAccuracy, double TorchAccuracy, Parameters Final, Tensor X, Tensor Labels)
    {
        /// <summary>The largest relative loss difference over all steps.</summary>
        public double MaxLossRelative => Steps.Max(s => s.LossRelative);
        /// <summary>The largest relative parameter difference over all steps.</summary>
        public double MaxParameterRelative => Steps.Max(s => s.ParameterRelative);
    }

    /// <summary>
    /// The bounds. float64: 1e-9 relative after 500 steps (the issue's). float32: 1e-3. Both sides
    /// round each operation at 6e-8 but in different orders (GEMM blocking, reductions, autograd's
    /// formulas), so per step the difference grows by some 1e-7..1e-6 relative and Adam's
    /// normalised steps pass it on without damping it; over 500 steps a random walk of such
    /// increments stays near 1e-5 and a linear worst case near 5e-4; 1e-3 sits above both.
    /// </summary>
    public static double Tolerance(DType dtype) => dtype == DType.Float64 ? 1e-9 : 1e-3;

    /// <summary>A model as both libraries write it: the loss and the logits (our side); the same in TorchSharp.</summary>
    sealed record Model(
        string Name,
        Parameters Init,
        Func<IReadOnlyDictionary<string, Expr>, Expr, Expr> OurLogits,
        Func<Expr, Expr, Expr> OurLoss,
        Func<Dictionary<string, Parameter>, TT, TT> TorchLogits,
        Func<TT, TT, TT> TorchLoss,
        Func<Tensor, Tensor, double> Accuracy);

    /// <summary>
    /// The seed network (2 → 3 sigmoid → 1 sigmoid, mean squared error), as in the quickstart but on
    /// a batch: a1 = σ(x W1ᵀ + b1), a2 = σ(a1 W2ᵀ + b2). Trained on XOR-labelled points.
    /// </summary>
    static Model SeedNetwork(DType dtype) => new(
        "seed network (XOR)",
        Parameters.Of(
            ("w1", Init.Normal([3, 2], seed: 101, std: 1.0, dtype: dtype)), ("b1", Tensor.Zeros([3], dtype)),
            ("w2", Init.Normal([1, 3], seed: 102, std: 1.0, dtype: dtype)), ("b2", Tensor.Zeros([1], dtype))),
        (p, x) => (x.MatMul(p["w1"].Transpose()) + p["b1"]).Sigmoid().MatMul(p["w2"].Transpose()) + p["b2"],
        (logits, y) => Loss.Mse(logits.Sigmoid(), y),
        (p, x) => (x.matmul(p["w1"].t()) + p["b1"]).sigmoid().matmul(p["w2"].t()) + p["b2"],
        (logits, y) => torch.nn.functional.mse_loss(logits.sigmoid(), y),
        (logits, y) => (logits > 0.0).Eq(y).Mean().ToScalar());

    /// <summary>The softmax-cross-entropy MLP (8 → 32 tanh → 10) on ten Gaussian classes in 8-D.</summary>
    static Model Mlp(DType dtype) => new(
        "softmax MLP (10 classes)",
        Parameters.Of(
            ("w1", Init.KaimingUniform([32, 8], seed: 201, dtype: dtype)), ("b1", Tensor.Zeros([32], dtype)),
            ("w2", Init.XavierUniform([10, 32], seed: 202, dtype: dtype)), ("b2", Tensor.Zeros([10], dtype))),
        (p, x) => (x.MatMul(p["w1"].Transpose()) + p["b1"]).Tanh().MatMul(p["w2"].Transpose()) + p["b2"],
        // one-hot targets as a batch input: −Σ onehot · log softmax, averaged over the batch
        (logits, onehot) => -(onehot * logits.LogSoftmax(1)).Sum(1).Mean(),
        (p, x) => (x.matmul(p["w1"].t()) + p["b1"]).tanh().matmul(p["w2"].t()) + p["b2"],
        (logits, onehot) => torch.nn.functional.cross_entropy(logits, onehot.argmax(1)),
        (logits, onehot) => logits.ArgMax(1).Eq(onehot.ArgMax(1)).Mean().ToScalar());

    /// <summary>XOR data: points uniform in [−1, 1]², label 1 where x·y &gt; 0.</summary>
    public static (Tensor X, Tensor Y) XorData(int count, DType dtype)
    {
        var x = Tensor.RandomUniform([count, 2], seed: 7, low: -1, high: 1, dtype: dtype);
        var y = ((x.Slice(1, 0, 1) * x.Slice(1, 1, 2)) > 0.0);
        return (x, y);
    }

    /// <summary>Ten classes in 8-D: class k's points are its centre (normal, scaled by 2) plus unit noise; targets one-hot.</summary>
    public static (Tensor X, Tensor OneHot) ClassData(int count, DType dtype)
    {
        var centres = Tensor.RandomNormal([10, 8], seed: 8, dtype: dtype) * 2.0;
        var labels = Enumerable.Range(0, count).Select(i => i % 10).ToArray();
        var x = centres.TakeRows(labels) + Tensor.RandomNormal([count, 8], seed: 9, dtype: dtype);
        var onehot = new double[count * 10];
        for (int i = 0; i < count; i++) onehot[i * 10 + labels[i]] = 1;
        var targets = Tensor.FromArray(onehot, count, 10).Cast(dtype);
        return (x, targets);
    }

    /// <summary>Both runs in one dtype: <paramref name="steps"/> Adam steps over seeded mini-batches.</summary>
    public static List<Run> RunAll(DType dtype, int steps, TextWriter log)
    {
        var (xorX, xorY) = XorData(256, dtype);
        var (classX, classY) = ClassData(500, dtype);
        return
        [
            RunOne(SeedNetwork(dtype), xorX, xorY, lr: 0.05, batchSize: 32, steps, log),
            RunOne(Mlp(dtype), classX, classY, lr: 0.01, batchSize: 50, steps, log),
        ];
    }

    static Run RunOne(Model model, Tensor x, Tensor y, double lr, int batchSize, int steps, TextWriter log)
    {
        using var scope = torch.NewDisposeScope();
        var step = Diff.CompileValueAndGrad((p, batch) => model.OurLoss(model.OurLogits(p, batch[0]), batch[1]));
        var ours = new Adam(model.Init, lr: lr);
        var torchParameters = model.Init.ToDictionary(kv => kv.Key, kv => new Parameter(TorchBridge.ToTorch(kv.Value), requires_grad: true));
        var theirs = torch.optim.Adam(torchParameters.Values.ToArray(), lr, 0.9, 0.999, 1e-8, 0.0);

        var history = new List<Step>();
        int epoch = 0;
        while (history.Count < steps)
        {
            foreach (var batch in Batches.Shuffled(batchSize, seed: epoch, [x, y], dropLast: true))
            {
                if (history.Count == steps) break;
                var (loss, gradients) = step.Invoke(ours.Parameters, batch);
                ours.Step(gradients);

                double torchLoss;
                theirs.zero_grad();
                using (var inner = torch.NewDisposeScope())
                {
                    var l = model.TorchLoss(model.TorchLogits(torchParameters, TorchBridge.ToTorch(batch[0])), TorchBridge.ToTorch(batch[1]));
                    l.backward();
                    torchLoss = l.ToDouble();
                }
                theirs.step();

                double parameterDifference = ours.Parameters.Names.Max(n =>
                    TorchBridge.TensorRelative(ours.Parameters[n].ToDoubleArray(), TorchBridge.Values(torchParameters[n])));
                var s = new Step(history.Count, loss.ToScalar(), torchLoss, TorchBridge.MaxRelative([loss.ToScalar()], [torchLoss]), parameterDifference);
                history.Add(s);
                if (s.Index % Math.Max(1, steps / 5) == 0 || s.Index == steps - 1)
                    log.WriteLine($"  {model.Name,-26} {x.DType,-8} step {s.Index,4}/{steps}: loss {s.OurLoss:F6} (torch {s.TorchLoss:F6})  rel diff loss {s.LossRelative:E1} params {s.ParameterRelative:E1}");
            }
            epoch++;
        }

        var ourAccuracy = model.Accuracy(OurLogitsOf(model, ours.Parameters, x), y);
        Tensor torchLogits;
        using (var inner = torch.NewDisposeScope())
        {
            var logits = model.TorchLogits(torchParameters, TorchBridge.ToTorch(x)).detach();
            torchLogits = x.DType == DType.Float64
                ? Tensor.FromArray(TorchBridge.Values(logits), logits.shape.Select(d => (int)d).ToArray())
                : Tensor.FromArray(TorchBridge.Values(logits), logits.shape.Select(d => (int)d).ToArray()).Cast(DType.Float32);
        }
        return new Run(model.Name, x.DType, history, ourAccuracy, model.Accuracy(torchLogits, y), ours.Parameters, x, y);
    }

    static Tensor OurLogitsOf(Model model, Parameters p, Tensor x) =>
        model.OurLogits(p.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), x).Eval();

    /// <summary>Our seed network's probability of class 1 at each point (for the decision boundary).</summary>
    public static double[] SeedProbabilities(Parameters p, Tensor points) =>
        ((points.MatMul(p["w1"].Transpose()) + p["b1"]).Sigmoid().MatMul(p["w2"].Transpose()) + p["b2"]).Sigmoid().ToDoubleArray();
}
