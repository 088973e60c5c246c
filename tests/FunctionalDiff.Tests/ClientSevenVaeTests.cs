using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A variational autoencoder on small vectors, ported from PyTorch as a user writes it first: an encoder MLP to
/// (mu, logvar), the reparameterisation z = mu + exp(0.5 logvar) * eps with eps passed in as data, a decoder MLP, and
/// the loss F.binary_cross_entropy_with_logits(recon, x, reduction='sum') + KL(N(mu, sigma) || N(0, 1)) in closed
/// form. Every number is compared with the same model written over doubles in this file, and every gradient with
/// central differences of that double loss.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientSevenVaeTests
{
    const int N = 5, D = 4, H = 6, L = 2;

    // torch's nn.Linear layout: weight [out, in], bias [out]
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("enc.weight", [H, D]), ("enc.bias", [H]),
        ("mu.weight", [L, H]), ("mu.bias", [L]),
        ("logvar.weight", [L, H]), ("logvar.bias", [L]),
        ("dec1.weight", [H, L]), ("dec1.bias", [H]),
        ("dec2.weight", [D, H]), ("dec2.bias", [D]),
    ];

    static Parameters Model(int seed)
    {
        var entries = new List<(string, Tensor)>();
        int salt = seed;
        foreach (var (name, shape) in Layout)
            entries.Add((name, 0.5 * Tensor.RandomNormal(shape, seed: salt++)));
        return Parameters.Of(entries.ToArray());
    }

    static Tensor Data() => Tensor.Rand(N, D);     // targets in [0, 1], as a BCE reconstruction takes

    // What a torch user writes, line for line.
    static Expr VaeLoss(IReadOnlyDictionary<string, Expr> p, Expr x, Expr eps)
    {
        var h = Nn.Linear(x, p["enc.weight"], p["enc.bias"]).Relu();
        var mu = Nn.Linear(h, p["mu.weight"], p["mu.bias"]);
        var logvar = Nn.Linear(h, p["logvar.weight"], p["logvar.bias"]);
        var z = mu + (0.5 * logvar).Exp() * eps;
        var recon = Nn.Linear(Nn.Linear(z, p["dec1.weight"], p["dec1.bias"]).Tanh(), p["dec2.weight"], p["dec2.bias"]);
        var bce = Loss.BinaryCrossEntropyWithLogits(recon, x, Reduction.Sum);
        var kld = -0.5 * (1 + logvar - mu.Pow(2) - logvar.Exp()).Sum();
        return bce + kld;
    }

    // ---- the same model over doubles ----

    static double ReferenceLoss(Dictionary<string, double[]> p, double[] x, double[] eps)
    {
        double[] Linear(double[] input, int rows, int inputs, int outputs, string layer) =>
            TestSupport.Linear(input, rows, inputs, outputs, p[layer + ".weight"], p[layer + ".bias"]);
        var h = Linear(x, N, D, H, "enc").Select(v => Math.Max(v, 0)).ToArray();
        var mu = Linear(h, N, H, L, "mu");
        var logvar = Linear(h, N, H, L, "logvar");
        var z = new double[N * L];
        for (int k = 0; k < z.Length; k++) z[k] = mu[k] + Math.Exp(0.5 * logvar[k]) * eps[k];
        var a = Linear(z, N, L, H, "dec1").Select(Math.Tanh).ToArray();
        var recon = Linear(a, N, H, D, "dec2");
        double loss = 0;
        for (int k = 0; k < recon.Length; k++)
        {
            double t = recon[k], y = x[k];
            loss += Math.Max(t, 0) - t * y + Math.Log(1 + Math.Exp(-Math.Abs(t)));
        }
        for (int k = 0; k < mu.Length; k++)
            loss += -0.5 * (1 + logvar[k] - mu[k] * mu[k] - Math.Exp(logvar[k]));
        return loss;
    }

    static Dictionary<string, double[]> Doubles(Parameters p) => p.Names.ToDictionary(n => n, n => p[n].ToDoubleArray());

    static Dictionary<string, double[]> ReferenceGradients(Parameters p, double[] x, double[] eps)
    {
        var values = Doubles(p);
        var gradients = new Dictionary<string, double[]>();
        foreach (var name in p.Names)
            gradients[name] = Gradient(v =>
            {
                var copy = new Dictionary<string, double[]>(values) { [name] = v };
                return ReferenceLoss(copy, x, eps);
            }, values[name]);
        return gradients;
    }

    [Fact]
    public void LossAndEveryGradientMatchTheDoubleModelAndCentralDifferences()
    {
        Tensor.ManualSeed(7);
        var model = Model(1);
        var x = Data();
        var eps = Tensor.Randn(N, L);

        var (loss, gradients) = Diff.ValueAndGrad(p => VaeLoss(p, x, eps), model);
        var values = Expr.EvalMany([loss, .. model.Names.Select(n => gradients[n])]);

        var xv = x.ToDoubleArray();
        var ev = eps.ToDoubleArray();
        Close(ReferenceLoss(Doubles(model), xv, ev), values[0].ToScalar(), 1e-12, "loss");
        var reference = ReferenceGradients(model, xv, ev);
        for (int i = 0; i < model.Count; i++)
        {
            var name = model.Names[i];
            Assert.Equal(model[name].Shape, values[i + 1].Shape);
            Close(reference[name], values[i + 1].ToDoubleArray(), 1e-6, name);
        }
    }

    [Fact]
    public void CompiledAdamStepsTrainTheVaeAndEachStepIsTheDoubleModelsGradient()
    {
        Tensor.ManualSeed(11);
        var model = Model(20);
        var x = Data();
        var step = Diff.CompileValueAndGrad((p, data) => VaeLoss(p, data[0], data[1]));
        var adam = new Adam(model, lr: 0.01);
        var losses = new List<double>();
        for (int i = 0; i < 30; i++)
        {
            var eps = Tensor.Randn(N, L);                     // fresh noise each step, passed as data
            var before = adam.Parameters;
            var (loss, gradients) = step.Invoke(before, x, eps);
            var xv = x.ToDoubleArray();
            var ev = eps.ToDoubleArray();
            Close(ReferenceLoss(Doubles(before), xv, ev), loss.ToScalar(), 1e-11, $"loss at step {i}");
            if (i % 10 == 0)
            {
                var reference = ReferenceGradients(before, xv, ev);
                foreach (var name in before.Names)
                    Close(reference[name], gradients[name].ToDoubleArray(), 1e-6, $"{name} at step {i}");
            }
            losses.Add(loss.ToScalar());
            adam.Step(gradients);
        }
        Assert.Equal(1, step.TraceCount);
        // the noise differs per step, so compare the averages of the first and last ten losses
        Assert.True(losses.Skip(20).Average() < losses.Take(10).Average(), string.Join(", ", losses));
    }

    [Fact]
    public void AFloat32VaeTrainsInFloat32AndItsLossIsTheDoubleModelsAtFloat32Precision()
    {
        // torch's default dtype: parameters, data and noise in float32; Adam keeps them float32
        var model = Model(40).Map((_, t) => t.Cast(DType.Float32));
        var x = Tensor.RandomUniform([N, D], seed: 41, dtype: DType.Float32);
        var step = Diff.CompileValueAndGrad((p, data) => VaeLoss(p, data[0], data[1]));
        var adam = new Adam(model, lr: 0.01);
        for (int i = 0; i < 10; i++)
        {
            var eps = Tensor.RandomNormal([N, L], seed: 100 + i, dtype: DType.Float32);
            var before = adam.Parameters;
            var (loss, gradients) = step.Invoke(before, x, eps);
            Assert.Equal(DType.Float32, loss.DType);
            Assert.All(gradients.Values, g => Assert.Equal(DType.Float32, g.DType));
            double reference = ReferenceLoss(Doubles(before), x.ToDoubleArray(), eps.ToDoubleArray());
            // Close is relative already (tolerance·(1 + |expected|)): float32 rounding of a sum of 30 terms
            Close(reference, loss.ToScalar(), 1e-5, $"loss at step {i}");
            if (i == 0)
            {
                var expected = ReferenceGradients(before, x.ToDoubleArray(), eps.ToDoubleArray());
                foreach (var name in before.Names)
                    Close(expected[name], gradients[name].ToDoubleArray(), 1e-4 * Math.Max(1, expected[name].Max(Math.Abs)), name);
            }
            adam.Step(gradients);
        }
        Assert.All(adam.Parameters.Values, t => Assert.Equal(DType.Float32, t.DType));
    }

    // ---- F.binary_cross_entropy_with_logits at huge logits ----

    static double Softplus(double v) => Math.Max(v, 0) + Math.Log(1 + Math.Exp(-Math.Abs(v)));

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BceWithLogitsIsFiniteAndExactAtLogitsOfMagnitudeTenThousand(DType dtype)
    {
        double[] logits = [1e4, -1e4, 1e4, -1e4, 1e4, -1e4, 3e4, -2.5e4, 0.5];
        double[] targets = [1, 0, 0, 1, 0.3, 0.7, 0.25, 0.5, 1];
        var x = Tensor.FromArray(logits).Cast(dtype);
        var y = Tensor.FromArray(targets).Cast(dtype);

        var each = Loss.BinaryCrossEntropyWithLogits(x, y, Reduction.None).Eval();
        Assert.Equal(dtype, each.DType);
        var got = each.ToDoubleArray();
        double tolerance = dtype == DType.Float64 ? 1e-15 : 1e-6;
        for (int i = 0; i < logits.Length; i++)
        {
            double closed = Math.Max(logits[i], 0) - logits[i] * targets[i] + Math.Log(1 + Math.Exp(-Math.Abs(logits[i])));
            Assert.True(double.IsFinite(got[i]), $"entry {i}: {got[i]}");
            Close(closed, got[i], tolerance * Math.Max(1, Math.Abs(closed)), $"entry {i}");
        }
        // the mean and the sum of the same
        double sum = logits.Select((v, i) => Math.Max(v, 0) - v * targets[i] + Math.Log(1 + Math.Exp(-Math.Abs(v)))).Sum();
        Close(sum, Loss.BinaryCrossEntropyWithLogits(x, y, Reduction.Sum).Eval().ToScalar(), tolerance * sum);
        Close(sum / logits.Length, Loss.BinaryCrossEntropyWithLogits(x, y).Eval().ToScalar(), tolerance * sum);

        // the gradient is sigmoid(x) - y, also finite there
        var g = Diff.Grad(v => Loss.BinaryCrossEntropyWithLogits(v, y, Reduction.Sum))(x).Eval().ToDoubleArray();
        for (int i = 0; i < logits.Length; i++)
            Close(1 / (1 + Math.Exp(-logits[i])) - targets[i], g[i], dtype == DType.Float64 ? 1e-15 : 1e-7, $"gradient {i}");
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void BceWithLogitsPosWeightIsTorchsFormulaAtHugeLogits(DType dtype)
    {
        // [3, 2]: pos_weight has one entry per class (the last axis), as torch broadcasts it
        double[] logits = [1e4, -1e4, -1e4, 1e4, 0.7, -1.3];
        double[] targets = [1, 1, 0.4, 0, 0.6, 1];
        double[] pw = [3.0, 0.5];
        var x = Tensor.FromArray(logits, [3, 2]).Cast(dtype);
        var y = Tensor.FromArray(targets, [3, 2]).Cast(dtype);
        var posWeight = Tensor.FromArray(pw).Cast(dtype);

        var got = Loss.BinaryCrossEntropyWithLogits(x, y, Reduction.None, posWeight: posWeight).Eval().ToDoubleArray();
        var gradient = Diff.Grad(v => Loss.BinaryCrossEntropyWithLogits(v, y, Reduction.Sum, posWeight: posWeight))(x).Eval().ToDoubleArray();
        double tolerance = dtype == DType.Float64 ? 1e-15 : 1e-6;
        for (int i = 0; i < logits.Length; i++)
        {
            double v = logits[i], t = targets[i], l = 1 + (pw[i % 2] - 1) * t;
            // torch: (1 - y) x + (1 + (pw - 1) y) softplus(-x)
            double closed = (1 - t) * v + l * Softplus(-v);
            Assert.True(double.IsFinite(got[i]), $"entry {i}: {got[i]}");
            Close(closed, got[i], tolerance * Math.Max(1, Math.Abs(closed)), $"entry {i}");
            double slope = (1 - t) - l / (1 + Math.Exp(v));
            Close(slope, gradient[i], dtype == DType.Float64 ? 1e-15 : 1e-6, $"gradient {i}");
        }
    }

    [Fact]
    public void RandnLikeAndRandLikeDrawTheLikeTensorsShapeAndDtypeFromTheSeedSequence()
    {
        // torch.randn_like(std), the reparameterisation's noise, drawn as torch.randn(std.shape, dtype=std.dtype) is
        var std = Tensor.Ones([2, 3], DType.Float32);
        Tensor.ManualSeed(17);
        var eps = Tensor.RandnLike(std);
        var u = Tensor.RandLike(std);
        Tensor.ManualSeed(17);
        Assert.Equal(Tensor.Randn([2, 3], DType.Float32).ToArray(), eps.ToArray());
        Assert.Equal(Tensor.Rand([2, 3], DType.Float32).ToArray(), u.ToArray());
        Assert.Equal(DType.Float32, eps.DType);
        Assert.Equal(new[] { 2, 3 }, u.Shape);
        Assert.All(u.ToDoubleArray(), v => Assert.InRange(v, 0.0, 1.0));
        Assert.Equal("like", Assert.Throws<ArgumentNullException>(() => Tensor.RandnLike(null!)).ParamName);
    }
}
