using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Two training programs written the way a TorchSharp user writes them on first contact (<c>using</c> on every batch,
/// a dispose scope around each step, mini-batches sliced with ranges, a compiled loss and gradient, Adam), each number
/// checked against the same training written out here with plain double loops: forward pass, backward pass by hand,
/// and torch.optim.Adam's update.
/// </summary>
[Collection(nameof(TensorMemoryTests))] // the steps dispose tensors, whose arrays the pool's tests count
public class TorchSharpStyleTrainingTests : IDisposable
{
    // what the steps' disposed tensors left in the pool is not the next test's to count
    public void Dispose() => TensorMemory.ClearCache();

    const double Lr = 0.05;

    [Fact]
    public void LogisticRegressionWithUsingMiniBatchesCompileAndAdam()
    {
        const int n = 64, d = 3, batchSize = 16, epochs = 4;
        // ---- the program, as a TorchSharp user would write it ----
        using var x = Tensor.RandomNormal([n, d], seed: 11);
        using var y = (x.MatMul(Tensor.FromArray([1.0, 0.5, -1.0], d, 1)) > 0.0);
        var model = Parameters.Of(("w", Tensor.Zeros(d, 1)), ("b", Tensor.Zeros(1)));
        var step = Diff.CompileValueAndGrad((p, batch) =>
            Loss.BinaryCrossEntropyWithLogits(batch[0].MatMul(p["w"]) + p["b"], batch[1]));
        var adam = new Adam(model, lr: Lr);
        var losses = new List<double>();
        for (int epoch = 0; epoch < epochs; epoch++)
            for (int start = 0; start < n; start += batchSize)
            {
                using var scope = Tensor.NewDisposeScope();
                using var xb = x[start..(start + batchSize)];
                using var yb = y[start..(start + batchSize)];
                var (loss, gradients) = step.Invoke(adam.Parameters, xb, yb);
                adam.Step(gradients);
                losses.Add(loss.Item());
            }
        var w = adam.Parameters["w"].ToArray();
        var b = adam.Parameters["b"].ToArray();
        using var logits = x.MatMul(adam.Parameters["w"]) + adam.Parameters["b"];
        double accuracy = (logits > 0.0).Eq(y).Mean().Item();

        // ---- the reference: the same training with loops ----
        double[] xs = x.ToArray(), ys = y.ToArray();
        double[] rw = new double[d], rb = new double[1];
        double[] mw = new double[d], vw = new double[d], mb = new double[1], vb = new double[1];
        var referenceLosses = new List<double>();
        int t = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
            for (int start = 0; start < n; start += batchSize)
            {
                double total = 0;
                double[] gw = new double[d], gb = new double[1];
                for (int i = start; i < start + batchSize; i++)
                {
                    double z = rb[0];
                    for (int k = 0; k < d; k++) z += xs[i * d + k] * rw[k];
                    // max(z, 0) − z·y + log(1 + e^−|z|), torch's stable form
                    total += Math.Max(z, 0) - z * ys[i] + Math.Log(1 + Math.Exp(-Math.Abs(z)));
                    double residual = (1 / (1 + Math.Exp(-z)) - ys[i]) / batchSize;
                    for (int k = 0; k < d; k++) gw[k] += residual * xs[i * d + k];
                    gb[0] += residual;
                }
                referenceLosses.Add(total / batchSize);
                t++;
                AdamStep(rw, mw, vw, gw, t, Lr);   // torch.optim.Adam's single-tensor step
                AdamStep(rb, mb, vb, gb, t, Lr);
            }
        int correct = 0;
        for (int i = 0; i < n; i++)
        {
            double z = rb[0];
            for (int k = 0; k < d; k++) z += xs[i * d + k] * rw[k];
            if ((z > 0 ? 1.0 : 0.0) == ys[i]) correct++;
        }

        Close(referenceLosses.ToArray(), losses.ToArray(), 1e-12, "loss");
        Close(rw, w, 1e-10, "w");
        Close(rb, b, 1e-10, "b");
        Assert.Equal((double)correct / n, accuracy);
        Assert.True(losses[^1] < 0.7 * losses[0], "the loss falls");
    }

    [Fact]
    public void TwoLayerClassifierWithLinearCrossEntropyScopesAndAdam()
    {
        const int n = 48, d = 4, h = 8, c = 3, batchSize = 12, epochs = 3;
        // ---- the program ----
        using var x = Tensor.RandomNormal([n, d], seed: 21);
        // three classes: the largest of three fixed linear scores
        var scores = x.MatMul(Tensor.FromArray(new double[,] { { 1, -1, 0.5 }, { 0.2, 1, -1 }, { -0.7, 0.3, 1 }, { 0.4, 0.4, -0.4 } }));
        using var labels = scores.ArgMax(1);                      // class indices, float64 [n]
        var model = Parameters.Of(
            ("w1", Init.XavierUniform([h, d], seed: 1)), ("b1", Tensor.Zeros(h)),
            ("w2", Init.XavierUniform([c, h], seed: 2)), ("b2", Tensor.Zeros(c)));
        var step = Diff.CompileValueAndGrad((p, batch) =>
        {
            var hidden = Nn.Linear(batch[0], p["w1"], p["b1"]).Tanh();
            return Loss.CrossEntropy(Nn.Linear(hidden, p["w2"], p["b2"]), batch[1]);
        });
        var initial = model.Names.ToDictionary(k => k, k => model[k].ToArray());
        var adam = new Adam(model, lr: Lr);
        var losses = new List<double>();
        for (int epoch = 0; epoch < epochs; epoch++)
            for (int start = 0; start < n; start += batchSize)
                using (Tensor.NewDisposeScope())
                {
                    var (loss, gradients) = step.Invoke(adam.Parameters, x[start..(start + batchSize)], labels[start..(start + batchSize)]);
                    adam.Step(gradients);
                    losses.Add(loss.Item());
                    Assert.False(adam.Parameters["w1"].IsDisposed);
                }

        // ---- the reference ----
        double[] xs = x.ToArray(), ys = labels.ToArray();
        var p = initial.ToDictionary(e => e.Key, e => (double[])e.Value.Clone());
        var m = p.ToDictionary(e => e.Key, e => new double[e.Value.Length]);
        var v = p.ToDictionary(e => e.Key, e => new double[e.Value.Length]);
        var referenceLosses = new List<double>();
        int t = 0;
        for (int epoch = 0; epoch < epochs; epoch++)
            for (int start = 0; start < n; start += batchSize)
            {
                var g = p.ToDictionary(e => e.Key, e => new double[e.Value.Length]);
                double total = 0;
                for (int i = start; i < start + batchSize; i++)
                {
                    var a1 = new double[h];
                    for (int j = 0; j < h; j++)
                    {
                        double z = p["b1"][j];
                        for (int k = 0; k < d; k++) z += xs[i * d + k] * p["w1"][j * d + k];
                        a1[j] = Math.Tanh(z);
                    }
                    var z2 = new double[c];
                    for (int k = 0; k < c; k++)
                    {
                        z2[k] = p["b2"][k];
                        for (int j = 0; j < h; j++) z2[k] += a1[j] * p["w2"][k * h + j];
                    }
                    double top = z2.Max(), sum = z2.Sum(z => Math.Exp(z - top));
                    int label = (int)ys[i];
                    total += top + Math.Log(sum) - z2[label];
                    var dz2 = new double[c];
                    for (int k = 0; k < c; k++) dz2[k] = (Math.Exp(z2[k] - top) / sum - (k == label ? 1 : 0)) / batchSize;
                    for (int k = 0; k < c; k++)
                    {
                        g["b2"][k] += dz2[k];
                        for (int j = 0; j < h; j++) g["w2"][k * h + j] += dz2[k] * a1[j];
                    }
                    for (int j = 0; j < h; j++)
                    {
                        double da = 0;
                        for (int k = 0; k < c; k++) da += dz2[k] * p["w2"][k * h + j];
                        double dz1 = da * (1 - a1[j] * a1[j]);
                        g["b1"][j] += dz1;
                        for (int k = 0; k < d; k++) g["w1"][j * d + k] += dz1 * xs[i * d + k];
                    }
                }
                referenceLosses.Add(total / batchSize);
                t++;
                foreach (var name in p.Keys) AdamStep(p[name], m[name], v[name], g[name], t, Lr);
            }

        Close(referenceLosses.ToArray(), losses.ToArray(), 1e-12, "loss");
        foreach (var name in p.Keys) Close(p[name], adam.Parameters[name].ToArray(), 1e-10, name);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }
}
