using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's small ResNet, ported from the scratch client: a stem conv, two residual blocks of conv → BatchNorm2d
/// → ReLU → conv → BatchNorm2d plus the skip, global average pooling (<c>x.mean(dim=(2, 3))</c>) and a linear head,
/// trained by SGD with momentum, Nesterov and weight decay under MultiStepLR. BatchNorm's train mode is
/// <see cref="Nn.BatchNorm"/>; its running statistics come out of the compiled step as auxiliary outputs
/// (<see cref="Nn.BatchStatistics"/>) and are mixed in with torch's momentum 0.1; eval mode is
/// <see cref="Nn.BatchNormWithStatistics"/>. Every loss, update and evaluated logit is held to the same network over
/// doubles with its gradient by central differences and torch's SGD and schedule written out.
/// </summary>
public class ClientFourteenResNetTests
{
    const int N = 4, C = 2, K = 3, S = 5, Steps = 4;
    const double Lr = 0.1, Momentum = 0.9, WeightDecay = 5e-3, Gamma = 0.1;
    static readonly int[] Milestones = [2, 3];
    static readonly double[] LabelValues = [0, 1, 2, 1];
    static readonly string[] Norms = ["layer1.bn1", "layer1.bn2", "layer2.bn1", "layer2.bn2"];
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("stem.weight", [C, 1, 3, 3]), ("stem.bias", [C]),
        ("layer1.conv1.weight", [C, C, 3, 3]), ("layer1.bn1.weight", [C]), ("layer1.bn1.bias", [C]),
        ("layer1.conv2.weight", [C, C, 3, 3]), ("layer1.bn2.weight", [C]), ("layer1.bn2.bias", [C]),
        ("layer2.conv1.weight", [C, C, 3, 3]), ("layer2.bn1.weight", [C]), ("layer2.bn1.bias", [C]),
        ("layer2.conv2.weight", [C, C, 3, 3]), ("layer2.bn2.weight", [C]), ("layer2.bn2.bias", [C]),
        ("fc.weight", [K, C]), ("fc.bias", [K]),
    ];

    static Parameters InitialModel() => Parameters.Of(Layout.Select((entry, i) => (entry.Name,
        entry.Name.Contains(".bn") ? (entry.Name.EndsWith(".weight") ? Tensor.Ones(C) : Tensor.Zeros(C))
        : entry.Name.EndsWith(".bias") ? Tensor.Zeros(entry.Shape)
        : entry.Name == "fc.weight" ? Init.XavierUniform(entry.Shape, seed: 40) : Init.KaimingNormal(entry.Shape, seed: 30 + i))).ToArray());

    static Tensor Images() => Tensor.RandomNormal([N, 1, S, S], seed: 17);

    // ---- the client, as written against the README ----

    /// <summary>The logits, and each BatchNorm's input (for its running statistics) in <see cref="Norms"/>'s order.</summary>
    static (Expr Logits, List<Expr> NormInputs) Forward(IReadOnlyDictionary<string, Expr> p, Expr x, IReadOnlyDictionary<string, Tensor>? running)
    {
        var normInputs = new List<Expr>();
        Expr Bn(Expr h, string name)
        {
            normInputs.Add(h);
            return running is null
                ? Nn.BatchNorm(h, p[name + ".weight"], p[name + ".bias"])                                      // model.train()
                : Nn.BatchNormWithStatistics(h, running[name + ".running_mean"], running[name + ".running_var"],  // model.eval()
                    p[name + ".weight"], p[name + ".bias"]);
        }
        Expr Block(Expr input, string name)
        {
            var h = Bn(Nn.Conv2d(input, p[name + ".conv1.weight"], null, padding: 1), name + ".bn1").Relu();
            h = Bn(Nn.Conv2d(h, p[name + ".conv2.weight"], null, padding: 1), name + ".bn2");
            return (h + input).Relu();
        }
        var stem = Nn.Conv2d(x, p["stem.weight"], p["stem.bias"], padding: 1).Relu();
        var features = Block(Block(stem, "layer1"), "layer2").Mean([2, 3]);                   // global average pooling
        return (Nn.Linear(features, p["fc.weight"], p["fc.bias"]), normInputs);
    }

    sealed record ClientRun(List<double> Losses, List<double> Rates, Parameters Trained, Dictionary<string, Tensor> Running, double[] Evaluated);

    static ClientRun RunClient()
    {
        var step = Diff.CompileValueAndGrad((p, batch) =>
        {
            var (logits, normInputs) = Forward(p, batch[0], null);
            var statistics = normInputs.SelectMany(h => { var (mean, variance) = Nn.BatchStatistics(h); return new[] { mean, variance }; });
            return (Loss.CrossEntropy(logits, batch[1]), statistics.ToArray());
        });
        var running = Norms.SelectMany(n => new[] { (n + ".running_mean", Tensor.Zeros(C)), (n + ".running_var", Tensor.Ones(C)) })
            .ToDictionary(e => e.Item1, e => e.Item2);
        var sgd = new Sgd(InitialModel(), lr: Lr, momentum: Momentum, nesterov: true, weightDecay: WeightDecay);
        var images = Images();
        var labels = Tensor.FromArray(LabelValues);
        List<double> losses = [], rates = [];
        for (int epoch = 0; epoch < Steps; epoch++)
        {
            sgd.LearningRate = Lr * Math.Pow(Gamma, Milestones.Count(m => m <= epoch));   // MultiStepLR's closed form
            rates.Add(sgd.LearningRate);
            var (loss, aux, gradients) = step.InvokeWithAux(sgd.Parameters, images, labels);
            for (int i = 0; i < Norms.Length; i++)
            {
                running[Norms[i] + ".running_mean"] = 0.9 * running[Norms[i] + ".running_mean"] + 0.1 * aux[2 * i];
                running[Norms[i] + ".running_var"] = 0.9 * running[Norms[i] + ".running_var"] + 0.1 * aux[2 * i + 1];
            }
            sgd.Step(gradients);
            losses.Add(loss.ToScalar());
        }
        var evaluated = Forward(sgd.Parameters.AsExprs(), images, running).Logits.Eval().ToDoubleArray();
        return new(losses, rates, sgd.Parameters, running, evaluated);
    }

    // ---- the same program over doubles ----

    /// <summary>One channel-first batch [N, C, S, S] through conv (padding 1) for every image.</summary>
    static double[] Conv(double[] x, int cin, double[] w, double[]? b)
    {
        var y = new double[N * C * S * S];
        for (int n = 0; n < N; n++)
            Conv2d(x.Skip(n * cin * S * S).Take(cin * S * S).ToArray(), cin, S, S, w, C, 3, 3, b ?? new double[C], 1, 1, 1, 1, S, S)
                .CopyTo(y, n * C * S * S);
        return y;
    }

    static IEnumerable<int> Channel(int c) =>
        Enumerable.Range(0, N).SelectMany(n => Enumerable.Range((n * C + c) * S * S, S * S));

    /// <summary>Batch norm per channel: the batch's mean and biased variance (train), or given statistics (eval).</summary>
    static double[] BatchNorm(double[] x, double[] weight, double[] bias, double[]? mean, double[]? variance,
        List<(double[] Mean, double[] Unbiased)> seen)
    {
        var y = new double[x.Length];
        var means = new double[C];
        var unbiased = new double[C];
        for (int c = 0; c < C; c++)
        {
            var entries = Channel(c).ToArray();
            double mu = entries.Average(i => x[i]);
            double sq = entries.Sum(i => (x[i] - mu) * (x[i] - mu));
            (means[c], unbiased[c]) = (mu, sq / (entries.Length - 1));
            double m = mean?[c] ?? mu, v = variance?[c] ?? sq / entries.Length;
            foreach (var i in entries) y[i] = (x[i] - m) / Math.Sqrt(v + 1e-5) * weight[c] + bias[c];
        }
        seen.Add((means, unbiased));
        return y;
    }

    static double[] Relu(double[] x) => x.Select(v => Math.Max(v, 0)).ToArray();

    static (double[] Logits, List<(double[] Mean, double[] Unbiased)> Statistics) ReferenceForward(
        Dictionary<string, double[]> p, double[] images, Dictionary<string, double[]>? running)
    {
        var seen = new List<(double[], double[])>();
        double[] Bn(double[] h, string name) =>
            BatchNorm(h, p[name + ".weight"], p[name + ".bias"], running?[name + ".running_mean"], running?[name + ".running_var"], seen);
        double[] Block(double[] input, string name)
        {
            var h = Relu(Bn(Conv(input, C, p[name + ".conv1.weight"], null), name + ".bn1"));
            h = Bn(Conv(h, C, p[name + ".conv2.weight"], null), name + ".bn2");
            return Relu(h.Zip(input, (a, b) => a + b).ToArray());
        }
        var x = Block(Block(Relu(Conv(images, 1, p["stem.weight"], p["stem.bias"])), "layer1"), "layer2");
        var pooled = Enumerable.Range(0, N * C).Select(nc => x.Skip(nc * S * S).Take(S * S).Average()).ToArray();
        return (Linear(pooled, N, C, K, p["fc.weight"], p["fc.bias"]), seen);
    }

    static double CrossEntropy(double[] logits) => Enumerable.Range(0, N).Average(n =>
    {
        var z = logits.Skip(K * n).Take(K).ToArray();
        double m = z.Max();
        return m + Math.Log(z.Sum(v => Math.Exp(v - m))) - z[(int)LabelValues[n]];
    });

    [Fact]
    public void TheResNetTrainsAsTheSameProgramWrittenOverDoubles()
    {
        var run = RunClient();
        var images = Images().ToDoubleArray();
        var theta = Flatten(Layout, InitialModel());
        double LossAt(double[] flat) => CrossEntropy(ReferenceForward(Unflatten(Layout, flat), images, null).Logits);
        var running = Norms.SelectMany(n => new[] { (n + ".running_mean", new double[C]), (n + ".running_var", new[] { 1.0, 1.0 }) })
            .ToDictionary(e => e.Item1, e => e.Item2);
        var buffer = new double[theta.Length];
        for (int t = 0; t < Steps; t++)
        {
            // MultiStepLR(milestones=[2, 3], gamma=0.1): the rate falls tenfold at epochs 2 and 3
            double lr = t < 2 ? Lr : t < 3 ? Lr * Gamma : Lr * Gamma * Gamma;
            Close(lr, run.Rates[t], 1e-15, $"rate {t}");
            var (logits, statistics) = ReferenceForward(Unflatten(Layout, theta), images, null);
            Close(CrossEntropy(logits), run.Losses[t], 1e-10, $"loss {t}");
            for (int i = 0; i < Norms.Length; i++)
            {
                var (mean, unbiased) = statistics[i];
                var rm = running[Norms[i] + ".running_mean"];
                var rv = running[Norms[i] + ".running_var"];
                for (int c = 0; c < C; c++) { rm[c] = 0.9 * rm[c] + 0.1 * mean[c]; rv[c] = 0.9 * rv[c] + 0.1 * unbiased[c]; }
            }
            // torch's SGD: g += wd·p; buf = momentum·buf + g (buf = g at the first step); Nesterov g += momentum·buf; p −= lr·g
            var g = Gradient(LossAt, theta);
            for (int i = 0; i < theta.Length; i++)
            {
                double gi = g[i] + WeightDecay * theta[i];
                buffer[i] = t == 0 ? gi : Momentum * buffer[i] + gi;
                theta[i] -= lr * (gi + Momentum * buffer[i]);
            }
        }
        Close(theta, Flatten(Layout, run.Trained), 1e-6, "trained parameters");
        Assert.True(run.Losses[^1] < run.Losses[0], "the loss falls");
        foreach (var (name, values) in running)
            Close(values, run.Running[name].ToDoubleArray(), 1e-10, name);
        // model.eval(): the running statistics normalise, at the trained parameters
        var evaluated = ReferenceForward(Unflatten(Layout, Flatten(Layout, run.Trained)), images, running).Logits;
        Close(evaluated, run.Evaluated, 1e-10, "eval logits");
    }

    [Fact]
    public void GlobalAveragePoolingByMeanOverTwoAxesIsAdaptiveAvgPoolToOne()
    {
        var x = Tensor.RandomNormal([2, 3, 4, 5], seed: 5);
        var reference = Enumerable.Range(0, 6).Select(nc => x.ToDoubleArray().Skip(20 * nc).Take(20).Average()).ToArray();
        Close(reference, x.Mean([2, 3]).ToDoubleArray(), 1e-15, "Tensor.Mean");
        Close(reference, ((Expr)x).Mean([2, 3]).Eval().ToDoubleArray(), 1e-15, "Expr.Mean");
        Close(reference, Nn.AdaptiveAvgPool2d(x, 1).Flatten(1).Eval().ToDoubleArray(), 1e-15, "AdaptiveAvgPool2d");
    }
}
