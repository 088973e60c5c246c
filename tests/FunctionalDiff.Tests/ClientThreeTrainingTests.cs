using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A small PyTorch regression script ported as a torch user would write it: a 2-layer MLP
/// (nn.Linear, tanh, nn.Linear), shuffled mini-batches with a shorter last batch, Adam with weight
/// decay, a step learning-rate schedule, clip_grad_norm_, evaluation, and the parameters saved and
/// loaded. Every number is checked against the same script written with plain double loops here:
/// the forward pass, the hand-derived backward pass, the clipping and torch's Adam update.
/// </summary>
public class ClientThreeTrainingTests
{
    const int Rows = 64, Inputs = 3, Hidden = 8, BatchSize = 20, Epochs = 3;
    const double MaxNorm = 0.5, WeightDecay = 1e-2, Beta1 = 0.9, Beta2 = 0.999, Eps = 1e-8;

    static double LearningRate(int epoch) => 0.05 * Math.Pow(0.5, epoch);   // torch's StepLR(step_size=1, gamma=0.5)

    static (Tensor X, Tensor Y) Data()
    {
        var x = Tensor.RandomNormal([Rows, Inputs], seed: 21);
        var d = x.ToArray();
        var y = new double[Rows];
        for (int n = 0; n < Rows; n++)
            y[n] = Math.Sin(d[n * 3]) + 0.5 * d[n * 3 + 1] * d[n * 3 + 1] - d[n * 3 + 2];
        return (x, Tensor.FromArray(y, Rows, 1));
    }

    static Expr Model(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["w1"], p["b1"]).Tanh(), p["w2"], p["b2"]);

    // ---- the reference: the same script in plain doubles ----

    sealed class Net
    {
        public double[] W1 = new double[Hidden * Inputs], B1 = new double[Hidden], W2 = new double[Hidden], B2 = new double[1];
        public double[][] All => [W1, B1, W2, B2];
    }

    static double[] Forward(Net net, double[] x, int n, double[]? hidden = null)
    {
        var output = new double[n];
        for (int r = 0; r < n; r++)
        {
            double o = net.B2[0];
            for (int j = 0; j < Hidden; j++)
            {
                double z = net.B1[j];
                for (int k = 0; k < Inputs; k++) z += net.W1[j * Inputs + k] * x[r * Inputs + k];
                double h = Math.Tanh(z);
                if (hidden is not null) hidden[r * Hidden + j] = h;
                o += net.W2[j] * h;
            }
            output[r] = o;
        }
        return output;
    }

    // the mean squared error and its gradient, by the chain rule written out
    static (double Loss, double[][] Gradients) LossAndGradients(Net net, double[] x, double[] y, int n)
    {
        var hidden = new double[n * Hidden];
        var output = Forward(net, x, n, hidden);
        var g = new Net();
        double loss = 0;
        for (int r = 0; r < n; r++)
        {
            double e = output[r] - y[r];
            loss += e * e / n;
            double dOut = 2 * e / n;
            g.B2[0] += dOut;
            for (int j = 0; j < Hidden; j++)
            {
                double h = hidden[r * Hidden + j];
                g.W2[j] += dOut * h;
                double dz = dOut * net.W2[j] * (1 - h * h);
                g.B1[j] += dz;
                for (int k = 0; k < Inputs; k++) g.W1[j * Inputs + k] += dz * x[r * Inputs + k];
            }
        }
        return (loss, g.All);
    }

    [Fact]
    public void APortedPyTorchRegressionScriptMatchesTheSameScriptInPlainLoops()
    {
        var (x, y) = Data();
        // ---- the script, as a torch user ports it ----
        var model = Parameters.Of(
            ("w1", Init.KaimingUniform([Hidden, Inputs], seed: 1)), ("b1", Tensor.Zeros(Hidden)),
            ("w2", Init.XavierUniform([1, Hidden], seed: 2)), ("b2", Tensor.Zeros(1)));
        var step = Diff.CompileValueAndGrad((p, batch) => Loss.Mse(Model(p, batch[0]), batch[1]));
        var adam = new Adam(model, lr: LearningRate(0), weightDecay: WeightDecay);
        var losses = new List<double>();
        var norms = new List<double>();
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            adam.LearningRate = LearningRate(epoch);
            foreach (var batch in Batches.Shuffled(BatchSize, seed: epoch, [x, y]))
            {
                var (loss, gradients) = step.Invoke(adam.Parameters, batch);
                var (clipped, norm) = Optimizer.ClipGradNorm(gradients, MaxNorm);
                adam.Step(clipped);
                losses.Add(loss.Item());
                norms.Add(norm);
            }
        }
        // evaluation: the whole data set through the trained model, eagerly and as a graph
        var trained = adam.Parameters;
        var hiddenEager = (x.MatMul(trained["w1"].Transpose()) + trained["b1"]).Tanh();
        var predictions = hiddenEager.MatMul(trained["w2"].Transpose()) + trained["b2"];
        var graphPredictions = Model(trained.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), x).Eval();
        double evalLoss = (predictions - y).Square().Mean().Item();
        // saving and loading the parameters
        var path = Path.Combine(Path.GetTempPath(), $"functionaldiff-client3-{Guid.NewGuid():N}.npz");
        Parameters loaded;
        try
        {
            trained.Save(path);
            loaded = Parameters.Load(path);
        }
        finally { File.Delete(path); }

        // ---- the reference ----
        var net = new Net();
        model["w1"].ToArray().CopyTo(net.W1, 0);
        model["w2"].ToArray().CopyTo(net.W2, 0);
        var m = net.All.Select(a => new double[a.Length]).ToArray();
        var v = net.All.Select(a => new double[a.Length]).ToArray();
        double[] xs = x.ToArray(), ys = y.ToArray();
        int t = 0, b = 0;
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            var order = Batches.Permutation(Rows, seed: epoch);
            for (int start = 0; start < Rows; start += BatchSize, b++)
            {
                var rows = order[start..Math.Min(Rows, start + BatchSize)];
                var bx = rows.SelectMany(r => xs[(r * Inputs)..((r + 1) * Inputs)]).ToArray();
                var by = rows.Select(r => ys[r]).ToArray();
                var (loss, g) = LossAndGradients(net, bx, by, rows.Length);
                Close(loss, losses[b], 1e-12, $"loss of batch {b}");
                // clip_grad_norm_: the norm of the per-tensor norms, the factor max/(norm + 1e-6) capped at 1
                double norm = Math.Sqrt(g.Sum(a => a.Sum(e => e * e)));
                Close(norm, norms[b], 1e-12, $"gradient norm of batch {b}");
                double factor = Math.Min(MaxNorm / (norm + 1e-6), 1.0);
                // torch.optim.Adam with L2 weight decay added to the gradient
                t++;
                double lr = LearningRate(epoch);
                var parameters = net.All;
                for (int i = 0; i < parameters.Length; i++)
                    for (int k = 0; k < parameters[i].Length; k++)
                    {
                        double grad = g[i][k] * factor + WeightDecay * parameters[i][k];
                        m[i][k] = Beta1 * m[i][k] + (1 - Beta1) * grad;
                        v[i][k] = Beta2 * v[i][k] + (1 - Beta2) * grad * grad;
                        double mHat = m[i][k] / (1 - Math.Pow(Beta1, t));
                        double denominator = Math.Sqrt(v[i][k]) / Math.Sqrt(1 - Math.Pow(Beta2, t)) + Eps;
                        parameters[i][k] -= lr * mHat / denominator;
                    }
            }
        }
        Assert.Equal(12, b);   // 4 batches an epoch, the last of 4 rows
        Assert.Equal(12, losses.Count);
        Assert.True(norms.Any(n => n > MaxNorm), "the clipping was exercised");
        Assert.Equal(12, adam.StepCount);
        Assert.Equal(LearningRate(2), adam.LearningRate);
        string[] names = ["w1", "b1", "w2", "b2"];
        for (int i = 0; i < names.Length; i++)
            Close(net.All[i], trained[names[i]].ToArray(), 1e-10, names[i]);
        var expectedPredictions = Forward(net, xs, Rows);
        Close(expectedPredictions, predictions.ToArray(), 1e-10, "eager predictions");
        Close(expectedPredictions, graphPredictions.ToArray(), 1e-10, "graph predictions");
        Close(expectedPredictions.Zip(ys, (p, q) => (p - q) * (p - q)).Average(), evalLoss, 1e-10, "evaluation loss");
        Assert.True(evalLoss < losses[0], $"the loss fell: {losses[0]} then {evalLoss}");
        // the loaded parameters are the saved ones, bit for bit, names and order included
        Assert.Equal(trained.Names, loaded.Names);
        foreach (var name in names)
        {
            Assert.Equal(trained[name].Shape, loaded[name].Shape);
            Assert.Equal(trained[name].DType, loaded[name].DType);
            Assert.Equal(trained[name].ToArray(), loaded[name].ToArray());
        }
    }
}
