using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A TorchSharp user's first program after the README, ported from the scratch client that found what to fix: a conv →
/// GELU → linear → layer norm → GELU → linear classifier, cross-entropy with class weights in TorchSharp's positional
/// order, AdamW under a cosine schedule with gradient clipping in a compiled step, a save and load round trip, evaluation
/// through <see cref="Parameters.AsExprs"/> and <see cref="Expr.EvalMany"/>, a Hessian-vector product, eager tensor math
/// and <c>scatter_reduce</c>. Every result is held to the same program written over doubles: the net as loops, its
/// gradients by central differences, torch's AdamW and clip_grad_norm_ written out, and a reference argmax and scatter.
/// </summary>
public class ClientThirteenProgramTests
{
    const int Batch = 8, Steps = 6;
    static readonly double[] LabelValues = [0, 1, 2, 1, 0, 2, 2, 1];
    static readonly double[] ClassWeights = [1.0, 2.0, 0.5];
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("conv.weight", [2, 1, 3, 3]), ("conv.bias", [2]), ("fc1.weight", [8, 32]), ("fc1.bias", [8]),
        ("ln.weight", [8]), ("ln.bias", [8]), ("fc2.weight", [3, 8]), ("fc2.bias", [3]),
    ];

    static Parameters InitialModel() => Parameters.Of(
        ("conv.weight", Init.KaimingUniform([2, 1, 3, 3], seed: 1)), ("conv.bias", Tensor.Zeros(2)),
        ("fc1.weight", Init.XavierUniform([8, 32], seed: 2)), ("fc1.bias", Tensor.Zeros(8)),
        ("ln.weight", Tensor.Ones(8)), ("ln.bias", Tensor.Zeros(8)),
        ("fc2.weight", Init.XavierUniform([3, 8], seed: 3)), ("fc2.bias", Tensor.Zeros(3)));

    static Tensor Images() => Tensor.RandomNormal([Batch, 1, 6, 6], seed: 11);

    // ---- the client, as written against the README ----

    static Expr Forward(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        var h = Nn.Conv2d(x, p["conv.weight"], p["conv.bias"]).Gelu().Flatten(1);      // [N, 2, 4, 4] -> [N, 32]
        h = Nn.LayerNorm(Nn.Linear(h, p["fc1.weight"], p["fc1.bias"]), [8], p["ln.weight"], p["ln.bias"]).Gelu();
        return Nn.Linear(h, p["fc2.weight"], p["fc2.bias"]);
    }

    sealed record ClientRun(List<double> Losses, List<double> Norms, Parameters Trained, Parameters Loaded, Tensor[] Evaluated);

    static ClientRun RunClient()
    {
        var images = Images();
        var labels = Tensor.FromArray(LabelValues);
        var classWeights = Tensor.FromArray(ClassWeights);
        var step = Diff.CompileValueAndGrad((p, batch) => Loss.CrossEntropy(Forward(p, batch[0]), batch[1], classWeights));
        var opt = new AdamW(InitialModel(), lr: 0.01);
        List<double> losses = [], norms = [];
        for (int t = 0; t < Steps; t++)
        {
            opt.LearningRate = 0.01 * (1 + Math.Cos(Math.PI * t / Steps)) / 2;   // CosineAnnealingLR, eta_min 0
            var (loss, gradients) = step.Invoke(opt.Parameters, images, labels);
            var (clipped, norm) = Optimizer.ClipGradNorm(gradients, maxNorm: 1.0);
            opt.Step(clipped);
            losses.Add(loss.ToScalar());
            norms.Add(norm);
        }
        var path = Path.Combine(Path.GetTempPath(), $"client13-{Guid.NewGuid():N}.npz");
        opt.Parameters.Save(path);
        var loaded = Parameters.Load(path);
        File.Delete(path);
        var logits = Forward(loaded.AsExprs(), images);
        var evaluated = Expr.EvalMany([logits, logits.Softmax(1), Loss.CrossEntropy(logits, labels, classWeights)]);
        return new(losses, norms, opt.Parameters, loaded, evaluated);
    }

    // ---- the same program over doubles ----

    static double Gelu(double v) => 0.5 * v * (1 + Erf(v / Math.Sqrt(2)));

    static double[] ReferenceLogits(Dictionary<string, double[]> p, double[] images)
    {
        var logits = new double[Batch * 3];
        for (int n = 0; n < Batch; n++)
        {
            var image = images.Skip(36 * n).Take(36).ToArray();
            var h = Conv2d(image, 1, 6, 6, p["conv.weight"], 2, 3, 3, p["conv.bias"], 0, 0, 1, 1, 4, 4).Select(Gelu).ToArray();
            var z = Linear(h, 1, 32, 8, p["fc1.weight"], p["fc1.bias"]);
            double mean = z.Average(), variance = z.Select(v => (v - mean) * (v - mean)).Average();
            var a = z.Select((v, i) => Gelu((v - mean) / Math.Sqrt(variance + 1e-5) * p["ln.weight"][i] + p["ln.bias"][i])).ToArray();
            Linear(a, 1, 8, 3, p["fc2.weight"], p["fc2.bias"]).CopyTo(logits, 3 * n);
        }
        return logits;
    }

    /// <summary>torch's cross_entropy with class weights: Σ w[yᵢ]·(−log softmax(zᵢ)[yᵢ]) / Σ w[yᵢ].</summary>
    static double ReferenceLoss(double[] logits)
    {
        double total = 0, weights = 0;
        for (int n = 0; n < Batch; n++)
        {
            var z = logits.Skip(3 * n).Take(3).ToArray();
            double m = z.Max(), logSum = m + Math.Log(z.Sum(v => Math.Exp(v - m)));
            int y = (int)LabelValues[n];
            total += ClassWeights[y] * (logSum - z[y]);
            weights += ClassWeights[y];
        }
        return total / weights;
    }

    static double LossAt(double[] flat, double[] images) => ReferenceLoss(ReferenceLogits(Unflatten(Layout, flat), images));

    [Fact]
    public void TheClientTrainsAsTheSameProgramWrittenOverDoubles()
    {
        var run = RunClient();
        var images = Images().ToDoubleArray();
        var theta = Flatten(Layout, InitialModel());
        // torch's AdamW (lr 0.01, betas 0.9/0.999, eps 1e-8, weight decay 0.01) after clip_grad_norm_(max_norm=1)
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 0; t < Steps; t++)
        {
            double lr = 0.01 * (1 + Math.Cos(Math.PI * t / Steps)) / 2;
            Close(LossAt(theta, images), run.Losses[t], 1e-9, $"loss {t}");
            var g = Gradient(f => LossAt(f, images), theta);
            double norm = Math.Sqrt(g.Sum(e => e * e));
            Close(norm, run.Norms[t], 1e-6, $"norm {t}");
            double factor = Math.Min(1.0, 1.0 / (norm + 1e-6));
            for (int i = 0; i < theta.Length; i++) theta[i] *= 1 - lr * 0.01;   // AdamW's decoupled decay, then Adam
            AdamStep(theta, m, v, [.. g.Select(gi => gi * factor)], t + 1, lr);
        }
        Close(theta, Flatten(Layout, run.Trained), 1e-6, "trained parameters");
        Assert.True(run.Losses[^1] < run.Losses[0], "the loss falls");

        // the saved archive gives back the same names, order and bits
        Assert.Equal(run.Trained.Names, run.Loaded.Names);
        foreach (var name in run.Trained.Names)
            Assert.Equal(run.Trained[name].ToDoubleArray(), run.Loaded[name].ToDoubleArray());

        // evaluation at the loaded parameters: logits, softmax and loss from one EvalMany
        var p = Unflatten(Layout, Flatten(Layout, run.Loaded));
        var logits = ReferenceLogits(p, images);
        Close(logits, run.Evaluated[0].ToDoubleArray(), 1e-12, "logits");
        var softmax = Enumerable.Range(0, Batch).SelectMany(n =>
        {
            var z = logits.Skip(3 * n).Take(3).ToArray();
            double s = z.Sum(Math.Exp);
            return z.Select(e => Math.Exp(e) / s);
        }).ToArray();
        Close(softmax, run.Evaluated[1].ToDoubleArray(), 1e-12, "softmax");
        Close(ReferenceLoss(logits), run.Evaluated[2].ToScalar(), 1e-12, "loss");
    }

    [Fact]
    public void TheHessianVectorProductInTheLastBiasMatchesCentralDifferencesOfTheGradient()
    {
        var model = InitialModel();
        var images = Images();
        var labels = Tensor.FromArray(LabelValues);
        var classWeights = Tensor.FromArray(ClassWeights);
        Expr LossInBias(Expr b) =>
            Loss.CrossEntropy(Forward(new Dictionary<string, Expr>(model.AsExprs()) { ["fc2.bias"] = b }, images), labels, classWeights);
        // softmax ignores a shift of every logit, so the direction is not the ones vector (its product is 0)
        double[] direction = [1.0, -2.0, 0.5];
        var hv = Diff.Hvp(LossInBias, model["fc2.bias"], Tensor.FromArray(direction)).Eval().ToDoubleArray();

        var flat = Flatten(Layout, model);
        var pixels = images.ToDoubleArray();
        int offset = flat.Length - 3;
        double[] GradientInBias(double[] bias) =>
            Gradient(f => { var all = (double[])flat.Clone(); f.CopyTo(all, offset); return LossAt(all, pixels); }, bias, 1e-5);
        var bias0 = flat.Skip(offset).ToArray();
        const double h = 1e-4;
        var plus = GradientInBias(bias0.Zip(direction, (b, d) => b + h * d).ToArray());
        var minus = GradientInBias(bias0.Zip(direction, (b, d) => b - h * d).ToArray());
        Close(plus.Zip(minus, (a, b) => (a - b) / (2 * h)).ToArray(), hv, 1e-5, "H v");
    }

    [Fact]
    public void EagerTensorMathIndexesBroadcastsAndReducesAsTorch()
    {
        var logits = Tensor.RandomNormal([8, 3], seed: 21);
        var z = logits.ToDoubleArray();
        var labels = Tensor.FromArray(LabelValues);
        var predicted = logits.ArgMax(1);
        var reference = Enumerable.Range(0, 8).Select(n => (double)Enumerable.Range(0, 3).MaxBy(c => z[3 * n + c])).ToArray();
        Assert.Equal(reference, predicted.ToDoubleArray());
        Assert.Equal(reference.Zip(LabelValues, (a, b) => a == b ? 1.0 : 0.0).Average(), predicted.Eq(labels).Mean().ToScalar());
        Assert.Equal(z[3 * 0 + 1], logits[0, 1]);
        Assert.Equal(Enumerable.Range(0, 8).SelectMany(n => new[] { z[3 * n + 1], z[3 * n + 2] }), logits[.., 1..3].ToDoubleArray());
        Assert.Equal(z.Skip(6).Take(6), logits[2..4].ToDoubleArray());
        Assert.Equal(z.Skip(3).Take(3), logits.Row(1).ToDoubleArray());
        Assert.Equal(new[] { 4, 6 }, logits.Reshape(-1, 6).Shape);
        var centred = (logits - logits.Mean(1, true)).ToDoubleArray();
        Close(Enumerable.Range(0, 24).Select(i => z[i] - (z[3 * (i / 3)] + z[3 * (i / 3) + 1] + z[3 * (i / 3) + 2]) / 3).ToArray(), centred, 1e-15, "centred");
        Assert.Equal(z.Count(e => e > 0), (logits > 0).Sum().ToScalar());
        var (values, indices) = logits.MaxWithIndices(1);
        Assert.Equal(reference, indices.ToDoubleArray());
        Assert.Equal(Enumerable.Range(0, 8).Select(n => z.Skip(3 * n).Take(3).Max()), values.ToDoubleArray());
        Assert.StartsWith("tensor([[", logits.ToString());

        // scatter_reduce: the largest winning logit of each predicted class, from −∞ so an unpredicted class stays −∞
        var best = Tensor.Full([3], double.NegativeInfinity).ScatterReduce(0, predicted, values, "amax", includeSelf: false);
        var expected = Enumerable.Range(0, 3).Select(c =>
            Enumerable.Range(0, 8).Where(n => reference[n] == c).Select(n => z.Skip(3 * n).Take(3).Max()).DefaultIfEmpty(double.NegativeInfinity).Max()).ToArray();
        Assert.Equal(expected, best.ToDoubleArray());
        var counts = Tensor.Zeros(3).ScatterAdd(0, predicted, Tensor.Ones(8));
        Assert.Equal(Enumerable.Range(0, 3).Select(c => (double)reference.Count(r => r == c)), counts.ToDoubleArray());
        var written = Tensor.Zeros(2, 3).Scatter(1, Tensor.FromArray(new[,] { { 2.0 }, { 0.0 } }), Tensor.FromArray(new[,] { { 5.0 }, { 7.0 } }));
        Assert.Equal(new[] { 0.0, 0, 5, 7, 0, 0 }, written.ToDoubleArray());
    }
}
