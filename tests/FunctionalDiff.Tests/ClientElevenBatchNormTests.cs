using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A small CNN with batch norm in train and eval mode, ported from PyTorch as a user writes it: conv 3×3 (padding 1),
/// <c>nn.BatchNorm2d</c> with affine weight and bias, ReLU, global average pooling and a linear head, trained by SGD for 3
/// steps. In training the layer normalises with the batch's biased variance and mixes the batch's mean and unbiased
/// variance into its running statistics with momentum 0.1; in evaluation it normalises with the running statistics.
/// The running statistics after 3 steps, each step's parameters, the gradients and the evaluation output are held to the
/// same net written as loops over doubles (torch's formulas) and to its central differences.
/// </summary>
public class ClientElevenBatchNormTests
{
    const int N = 4, S = 5, C = 3, Out = 2;
    const double Momentum = 0.1, Lr = 0.1, Eps = 1e-5;

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("conv.weight", [C, 1, 3, 3]), ("conv.bias", [C]), ("bn.weight", [C]), ("bn.bias", [C]),
        ("fc.weight", [Out, C]), ("fc.bias", [Out]),
    ];

    static Parameters Model() => Parameters.Of(Layout.Select((e, i) => (e.Name, (e.Name == "bn.weight" ? 1.0 : 0.0) + 0.5 * T(e.Shape, 60 + i))).ToArray());

    static Tensor Batch(int step) => T([N, 1, S, S], 70 + step);
    static Tensor Targets(int step) => T([N, Out], 80 + step);

    // ---- what a torch user writes ----

    static Expr Features(IReadOnlyDictionary<string, Expr> p, Expr x) => Nn.Conv2d(x, p["conv.weight"], p["conv.bias"], padding: 1);

    static Expr Head(IReadOnlyDictionary<string, Expr> p, Expr normalised) =>
        Nn.Linear(Nn.AdaptiveAvgPool2d(normalised.Relu(), 1).Flatten(1), p["fc.weight"], p["fc.bias"]);

    static Expr TrainLoss(IReadOnlyDictionary<string, Expr> p, Expr x, Expr y) =>
        Loss.Mse(Head(p, Nn.BatchNorm(Features(p, x), p["bn.weight"], p["bn.bias"], Eps)), y);

    static Expr EvalOutput(IReadOnlyDictionary<string, Expr> p, Expr x, Expr runningMean, Expr runningVariance) =>
        Head(p, Nn.BatchNormWithStatistics(Features(p, x), runningMean, runningVariance, p["bn.weight"], p["bn.bias"], Eps));

    // ---- the same net over doubles ----

    static double[] ConvRef(Dictionary<string, double[]> p, double[] x)
    {
        var (w, b) = (p["conv.weight"], p["conv.bias"]);
        var y = new double[N * C * S * S];
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                for (int i = 0; i < S; i++)
                    for (int j = 0; j < S; j++)
                    {
                        double s = b[c];
                        for (int u = 0; u < 3; u++)
                            for (int v = 0; v < 3; v++)
                            {
                                int r = i + u - 1, q = j + v - 1;
                                if (r >= 0 && r < S && q >= 0 && q < S) s += w[(c * 3 + u) * 3 + v] * x[(n * S + r) * S + q];
                            }
                        y[((n * C + c) * S + i) * S + j] = s;
                    }
        return y;
    }

    // per channel over N, H, W: the mean, the biased variance (normalisation) and the unbiased one (running estimate)
    static (double[] Mean, double[] Biased, double[] Unbiased) StatisticsRef(double[] h)
    {
        int count = N * S * S;
        var (mean, biased, unbiased) = (new double[C], new double[C], new double[C]);
        for (int c = 0; c < C; c++)
        {
            var values = Enumerable.Range(0, N).SelectMany(n => h[((n * C + c) * S * S)..((n * C + c + 1) * S * S)]).ToArray();
            mean[c] = values.Average();
            double squares = values.Sum(v => (v - mean[c]) * (v - mean[c]));
            biased[c] = squares / count;
            unbiased[c] = squares / (count - 1);
        }
        return (mean, biased, unbiased);
    }

    static double[] HeadRef(Dictionary<string, double[]> p, double[] h, double[] mean, double[] variance)
    {
        var pooled = new double[N * C];
        for (int n = 0; n < N; n++)
            for (int c = 0; c < C; c++)
                pooled[n * C + c] = Enumerable.Range(0, S * S).Average(k =>
                    Math.Max((h[(n * C + c) * S * S + k] - mean[c]) / Math.Sqrt(variance[c] + Eps) * p["bn.weight"][c] + p["bn.bias"][c], 0));
        return Linear(pooled, N, C, Out, p["fc.weight"], p["fc.bias"]);
    }

    static double TrainLossRef(double[] flat, Tensor x, Tensor y)
    {
        var p = Unflatten(Layout, flat);
        var h = ConvRef(p, x.ToDoubleArray());
        var (mean, biased, _) = StatisticsRef(h);
        var target = y.ToDoubleArray();
        return HeadRef(p, h, mean, biased).Select((v, k) => (v - target[k]) * (v - target[k])).Average();
    }

    [Fact]
    public void BatchNorm1dOverFeaturesKeepsTheSameStatistics()
    {
        // nn.BatchNorm1d on [N, C]: each feature over the batch; the running estimate takes the unbiased variance
        var x = T([6, 3], 90);
        var xs = x.ToDoubleArray();
        var (mean, variance) = Nn.BatchStatistics(x);
        var (m, v) = (mean.Eval().ToDoubleArray(), variance.Eval().ToDoubleArray());
        var normalised = Nn.BatchNorm(x).Eval().ToDoubleArray();
        for (int c = 0; c < 3; c++)
        {
            var column = Enumerable.Range(0, 6).Select(n => xs[n * 3 + c]).ToArray();
            double mu = column.Average(), squares = column.Sum(u => (u - mu) * (u - mu));
            Close(mu, m[c], 1e-15, $"mean {c}");
            Close(squares / 5, v[c], 1e-14, $"unbiased variance {c}");
            for (int n = 0; n < 6; n++)
                Close((column[n] - mu) / Math.Sqrt(squares / 6 + Eps), normalised[n * 3 + c], 1e-14, $"normalised [{n}, {c}]");
        }
    }

    [Fact]
    public void TheBatchStatisticsAsAuxiliaryOutputsOfACompiledStepKeepTheRunningEstimates()
    {
        // the shape a torch user ends up with: the loss, and the batch's statistics beside it (JAX's has_aux), stepped by SGD
        var step = Diff.CompileValueAndGrad((p, d) =>
        {
            var (mean, variance) = Nn.BatchStatistics(Features(p, d[0]).Detach());
            return (TrainLoss(p, d[0], d[1]), [mean, variance]);
        });
        var sgd = new Sgd(Model(), lr: Lr);
        var (runningMean, runningVariance) = (Tensor.Zeros(C), Tensor.Ones(C));
        var flat = Flatten(Layout, Model());
        var (refMean, refVariance) = (new double[C], Enumerable.Repeat(1.0, C).ToArray());
        for (int t = 0; t < 3; t++)
        {
            var (loss, aux, gradients) = step.InvokeWithAux(sgd.Parameters, Batch(t), Targets(t));
            runningMean = (1 - Momentum) * runningMean + Momentum * aux[0];
            runningVariance = (1 - Momentum) * runningVariance + Momentum * aux[1];
            sgd.Step(gradients);

            var (mean, _, unbiased) = StatisticsRef(ConvRef(Unflatten(Layout, flat), Batch(t).ToDoubleArray()));
            for (int c = 0; c < C; c++)
            {
                refMean[c] = (1 - Momentum) * refMean[c] + Momentum * mean[c];
                refVariance[c] = (1 - Momentum) * refVariance[c] + Momentum * unbiased[c];
            }
            var g = Gradient(f => TrainLossRef(f, Batch(t), Targets(t)), flat);
            flat = flat.Select((v, i) => v - Lr * g[i]).ToArray();
        }
        Close(refMean, runningMean.ToDoubleArray(), 1e-9, "running mean");
        Close(refVariance, runningVariance.ToDoubleArray(), 1e-9, "running variance");
        Close(flat, Flatten(Layout, sgd.Parameters), 1e-7, "parameters");
    }

    [Fact]
    public void EachModesErrorsNameItsOwnMethod()
    {
        Assert.StartsWith("BatchStatistics: ", Assert.ThrowsAny<ArgumentException>(() => Nn.BatchStatistics(T([5]))).Message);
        Assert.StartsWith("BatchNormWithStatistics: ",
            Assert.ThrowsAny<ArgumentException>(() => Nn.BatchNormWithStatistics(T([4, 3]), T([2]), T([3]))).Message);
        Assert.StartsWith("BatchNorm: ", Assert.ThrowsAny<ArgumentException>(() => Nn.BatchNorm(T([5]))).Message);
    }

    [Fact]
    public void TheTrainModeGradientIsTheLoopsCentralDifferences()
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        var (loss, gradients) = Diff.ValueAndGrad(p => TrainLoss(p, Batch(0), Targets(0)), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        Close(TrainLossRef(flat, Batch(0), Targets(0)), values[0].Item(), 1e-13, "loss");
        Close(Gradient(f => TrainLossRef(f, Batch(0), Targets(0)), flat), values.Skip(1).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }

    [Fact]
    public void ThreeStepsKeepTorchsRunningStatisticsAndEvalModeUsesThem()
    {
        // one compiled step: the loss, the gradients, and the batch's mean and unbiased variance of the conv's output
        var step = Diff.Compile((Expr[] a) =>
        {
            var p = Layout.Select((e, i) => (e.Name, a[i])).ToDictionary(e => e.Name, e => e.Item2);
            var (loss, g) = Diff.ValueAndGrad((Expr[] q) => TrainLoss(Layout.Select((e, i) => (e.Name, q[i])).ToDictionary(e => e.Name, e => e.Item2), a[^2], a[^1]),
                a[..Layout.Length]);
            var (mean, variance) = Nn.BatchStatistics(Features(p, a[^2]));
            return [loss, mean, variance, .. a[..Layout.Length].Zip(g, (w, d) => w - Lr * d)];
        });

        Tensor[] parameters = [.. Model().Values];
        var runningMean = Tensor.Zeros(C);        // torch's initial running statistics
        var runningVariance = Tensor.Ones(C);
        var flat = Flatten(Layout, Model());
        var (refMean, refVariance) = (new double[C], Enumerable.Repeat(1.0, C).ToArray());
        for (int t = 0; t < 3; t++)
        {
            var outs = step.Invoke([.. parameters, Batch(t), Targets(t)]);
            runningMean = (1 - Momentum) * runningMean + Momentum * outs[1];
            runningVariance = (1 - Momentum) * runningVariance + Momentum * outs[2];
            parameters = outs[3..];

            // the reference: the batch's statistics at the parameters before the step, then SGD on central differences
            var (mean, _, unbiased) = StatisticsRef(ConvRef(Unflatten(Layout, flat), Batch(t).ToDoubleArray()));
            for (int c = 0; c < C; c++)
            {
                refMean[c] = (1 - Momentum) * refMean[c] + Momentum * mean[c];
                refVariance[c] = (1 - Momentum) * refVariance[c] + Momentum * unbiased[c];
            }
            var g = Gradient(f => TrainLossRef(f, Batch(t), Targets(t)), flat);
            // after the first step the parameters carry the central differences' error, about 1e-10
            Close(TrainLossRef(flat, Batch(t), Targets(t)), outs[0].Item(), 1e-9, $"loss {t}");
            flat = flat.Select((v, i) => v - Lr * g[i]).ToArray();
            Close(flat, parameters.SelectMany(p => p.ToDoubleArray()).ToArray(), 1e-7, $"parameters after step {t}");
        }
        Close(refMean, runningMean.ToDoubleArray(), 1e-9, "running mean");
        Close(refVariance, runningVariance.ToDoubleArray(), 1e-9, "running variance");
        // the unbiased estimate is not the biased one the normalisation used (n = 100 per channel)
        Assert.True(Math.Abs(refVariance[0] - 1) > 1e-3);

        // eval mode: the running statistics normalise a new batch, whose own statistics play no part
        var xTest = T([N, 1, S, S], 99);
        var trained = Parameters.Of(Layout.Select((e, i) => (e.Name, parameters[i])).ToArray());
        var output = EvalOutput(trained.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), xTest, runningMean, runningVariance).Eval();
        var pr = Unflatten(Layout, flat);
        Close(HeadRef(pr, ConvRef(pr, xTest.ToDoubleArray()), refMean, refVariance), output.ToDoubleArray(), 1e-7, "eval output");
        var (batchMean, batchBiased, _) = StatisticsRef(ConvRef(pr, xTest.ToDoubleArray()));
        Assert.True(HeadRef(pr, ConvRef(pr, xTest.ToDoubleArray()), batchMean, batchBiased).Zip(output.ToDoubleArray(), (a, b) => Math.Abs(a - b)).Max() > 1e-3,
            "eval mode must not normalise with the batch's own statistics");
    }
}
