using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A GAN on 2-D points, ported from PyTorch as a user writes it first: generator and discriminator MLPs in torch's
/// nn.Linear layout, two Adam optimizers with betas (0.5, 0.999), the discriminator's loss on the generator's output
/// detached, and the non-saturating generator loss BCE-with-logits(D(G(z)), 1). Each compiled step's loss and
/// gradients are compared with the same model written over doubles in this file and its central differences, and each
/// Adam update with torch's Adam written out.
/// </summary>
public class ClientEightGanTests
{
    const int N = 6, Z = 2, H = 5;

    static readonly (string Name, int[] Shape)[] GeneratorLayout =
        [("g.fc1.weight", [H, Z]), ("g.fc1.bias", [H]), ("g.fc2.weight", [2, H]), ("g.fc2.bias", [2])];
    static readonly (string Name, int[] Shape)[] DiscriminatorLayout =
        [("d.fc1.weight", [H, 2]), ("d.fc1.bias", [H]), ("d.fc2.weight", [1, H]), ("d.fc2.bias", [1])];

    static Parameters Make((string Name, int[] Shape)[] layout, int seed) =>
        Parameters.Of(layout.Select((e, i) => (e.Name, 0.7 * Tensor.RandomNormal(e.Shape, seed: seed + i))).ToArray());

    static Parameters Merge(Parameters a, Parameters b) => Parameters.Of(a.Concat(b));

    static Parameters Only(IReadOnlyDictionary<string, Tensor> gradients, Optimizer optimizer) =>
        Parameters.Of(gradients.Where(kv => optimizer.Parameters.ContainsKey(kv.Key)));

    // ---- what a torch user writes ----

    static Expr Generator(IReadOnlyDictionary<string, Expr> p, Expr z) =>
        Nn.Linear(Nn.Linear(z, p["g.fc1.weight"], p["g.fc1.bias"]).Tanh(), p["g.fc2.weight"], p["g.fc2.bias"]);

    static Expr Discriminator(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["d.fc1.weight"], p["d.fc1.bias"]).LeakyRelu(0.2), p["d.fc2.weight"], p["d.fc2.bias"]);

    // d_loss = bce(D(real), 1) + bce(D(G(z).detach()), 0)
    static Expr DiscriminatorLoss(IReadOnlyDictionary<string, Expr> p, Expr real, Expr z)
    {
        var fake = Generator(p, z).Detach();
        var realLogits = Discriminator(p, real);
        var fakeLogits = Discriminator(p, fake);
        return Loss.BinaryCrossEntropyWithLogits(realLogits, Expr.OnesLike(realLogits))
             + Loss.BinaryCrossEntropyWithLogits(fakeLogits, Expr.ZerosLike(fakeLogits));
    }

    // g_loss = bce(D(G(z)), 1): the non-saturating loss
    static Expr GeneratorLoss(IReadOnlyDictionary<string, Expr> p, Expr z)
    {
        var logits = Discriminator(p, Generator(p, z));
        return Loss.BinaryCrossEntropyWithLogits(logits, Expr.OnesLike(logits));
    }

    // ---- the same model over doubles ----

    static double[] Linear(double[] input, int rows, int inputs, int outputs, double[] w, double[] b) =>
        TestSupport.Linear(input, rows, inputs, outputs, w, b);

    static double[] G(Dictionary<string, double[]> p, double[] z) =>
        Linear(Linear(z, N, Z, H, p["g.fc1.weight"], p["g.fc1.bias"]).Select(Math.Tanh).ToArray(), N, H, 2, p["g.fc2.weight"], p["g.fc2.bias"]);

    static double[] D(Dictionary<string, double[]> p, double[] x) =>
        Linear(Linear(x, N, 2, H, p["d.fc1.weight"], p["d.fc1.bias"]).Select(v => v > 0 ? v : 0.2 * v).ToArray(), N, H, 1, p["d.fc2.weight"], p["d.fc2.bias"]);

    // mean over the batch of max(t, 0) − t·y + log(1 + e^−|t|)
    static double Bce(double[] logits, double target) =>
        logits.Select(t => Math.Max(t, 0) - t * target + Math.Log(1 + Math.Exp(-Math.Abs(t)))).Average();

    // The reference has no detach: the discriminator's loss is differentiated in the discriminator's parameters only,
    // which is what torch's d_loss.backward() with fake.detach() leaves in their .grad.
    static double ReferenceDiscriminatorLoss(Dictionary<string, double[]> p, double[] real, double[] z) =>
        Bce(D(p, real), 1) + Bce(D(p, G(p, z)), 0);

    static double ReferenceGeneratorLoss(Dictionary<string, double[]> p, double[] z) => Bce(D(p, G(p, z)), 1);

    static Dictionary<string, double[]> Doubles(IReadOnlyDictionary<string, Tensor> p) => p.ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubleArray());

    static Dictionary<string, double[]> CentralDifferences(Func<Dictionary<string, double[]>, double> loss, Dictionary<string, double[]> values, IEnumerable<string> names) =>
        names.ToDictionary(name => name, name => Gradient(v => loss(new Dictionary<string, double[]>(values) { [name] = v }), values[name]));

    // torch.optim.Adam's single-tensor step with lr, betas (b1, b2), eps and no weight decay, in doubles
    sealed class ReferenceAdam(Dictionary<string, double[]> parameters, double lr, double b1, double b2, double eps = 1e-8)
    {
        readonly Dictionary<string, double[]> m = parameters.ToDictionary(kv => kv.Key, kv => new double[kv.Value.Length]);
        readonly Dictionary<string, double[]> v = parameters.ToDictionary(kv => kv.Key, kv => new double[kv.Value.Length]);
        int t;
        public Dictionary<string, double[]> Parameters { get; } = parameters.ToDictionary(kv => kv.Key, kv => (double[])kv.Value.Clone());

        public void Step(Dictionary<string, double[]> gradients)
        {
            t++;
            foreach (var (name, g) in gradients)
            {
                var (p, mm, vv) = (Parameters[name], m[name], v[name]);
                for (int i = 0; i < p.Length; i++)
                {
                    mm[i] = b1 * mm[i] + (1 - b1) * g[i];
                    vv[i] = b2 * vv[i] + (1 - b2) * g[i] * g[i];
                    double stepSize = lr / (1 - Math.Pow(b1, t));
                    double denominator = Math.Sqrt(vv[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps;
                    p[i] -= stepSize * mm[i] / denominator;
                }
            }
        }
    }

    [Fact]
    public void DetachStopsTheGeneratorsGradientOfTheDiscriminatorLoss()
    {
        var model = Merge(Make(GeneratorLayout, 1), Make(DiscriminatorLayout, 11));
        var real = Tensor.RandomNormal([N, 2], seed: 30) + 2.0;
        var z = Tensor.RandomNormal([N, Z], seed: 31);

        var (loss, gradients) = Diff.ValueAndGrad(p => DiscriminatorLoss(p, real, z), model);
        var values = Expr.EvalMany([loss, .. model.Names.Select(n => gradients[n])]);
        var doubles = Doubles(model);
        Close(ReferenceDiscriminatorLoss(doubles, real.ToDoubleArray(), z.ToDoubleArray()), values[0].ToScalar(), 1e-13, "d_loss");
        var reference = CentralDifferences(p => ReferenceDiscriminatorLoss(p, real.ToDoubleArray(), z.ToDoubleArray()), doubles, DiscriminatorLayout.Select(e => e.Name));
        for (int i = 0; i < model.Count; i++)
        {
            var name = model.Names[i];
            var got = values[i + 1].ToDoubleArray();
            if (name.StartsWith("g."))
                Assert.All(got, v => Assert.Equal(0.0, v));      // torch: None after fake.detach()
            else
                Close(reference[name], got, 1e-7, name);
        }

        // Without the detach, the generator's gradient of the same loss is not zero: the test above can fail.
        var (_, through) = Diff.ValueAndGrad(p =>
        {
            var fakeLogits = Discriminator(p, Generator(p, z));
            return Loss.BinaryCrossEntropyWithLogits(fakeLogits, Expr.ZerosLike(fakeLogits));
        }, model);
        Assert.Contains(through["g.fc2.bias"].Eval().ToDoubleArray(), v => Math.Abs(v) > 1e-6);

        // StopGradient is the same op under JAX's name
        var viaStop = Diff.Grad(p => Discriminator(p, Generator(p, z).StopGradient()).Sum(), model);
        Assert.All(viaStop["g.fc1.weight"].Eval().ToDoubleArray(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void CompiledAlternatingStepsWithTwoAdamsMatchTheDoubleGanAndTorchsAdam()
    {
        var generator = Make(GeneratorLayout, 41);
        var discriminator = Make(DiscriminatorLayout, 51);
        // torch.optim.Adam(G.parameters(), lr=2e-3, betas=(0.5, 0.999)); TorchSharp spells betas beta1, beta2
        var gOpt = new Adam(generator, lr: 2e-3, betas: (0.5, 0.999));            // torch's spelling
        var dOpt = new Adam(discriminator, lr: 2e-3, beta1: 0.5, beta2: 0.999);
        var gReference = new ReferenceAdam(Doubles(generator), 2e-3, 0.5, 0.999);
        var dReference = new ReferenceAdam(Doubles(discriminator), 2e-3, 0.5, 0.999);

        var dStep = Diff.CompileValueAndGrad((p, data) => DiscriminatorLoss(p, data[0], data[1]));
        var gStep = Diff.CompileValueAndGrad((p, data) => GeneratorLoss(p, data[0]));

        for (int step = 0; step < 4; step++)
        {
            var real = Tensor.RandomNormal([N, 2], seed: 100 + step) * 0.5 + 1.0;
            var z = Tensor.RandomNormal([N, Z], seed: 200 + step);

            // the discriminator's step, on G(z).detach()
            var both = Merge(gOpt.Parameters, dOpt.Parameters);
            var (dLoss, dGradients) = dStep.Invoke(both, real, z);
            var doubles = Doubles(both);
            Close(ReferenceDiscriminatorLoss(doubles, real.ToDoubleArray(), z.ToDoubleArray()), dLoss.ToScalar(), 1e-13, $"d_loss {step}");
            var dExpected = CentralDifferences(p => ReferenceDiscriminatorLoss(p, real.ToDoubleArray(), z.ToDoubleArray()), doubles, dOpt.Parameters.Names);
            foreach (var name in dOpt.Parameters.Names)
                Close(dExpected[name], dGradients[name].ToDoubleArray(), 1e-7, $"{name} at step {step}");
            foreach (var name in gOpt.Parameters.Names)
                Assert.All(dGradients[name].ToDoubleArray(), v => Assert.Equal(0.0, v));
            dOpt.Step(Only(dGradients, dOpt));
            dReference.Step(Doubles(Only(dGradients, dOpt)));

            // the generator's step against the updated discriminator, on fresh noise
            var z2 = Tensor.RandomNormal([N, Z], seed: 300 + step);
            both = Merge(gOpt.Parameters, dOpt.Parameters);
            var (gLoss, gGradients) = gStep.Invoke(both, z2);
            doubles = Doubles(both);
            Close(ReferenceGeneratorLoss(doubles, z2.ToDoubleArray()), gLoss.ToScalar(), 1e-13, $"g_loss {step}");
            var gExpected = CentralDifferences(p => ReferenceGeneratorLoss(p, z2.ToDoubleArray()), doubles, gOpt.Parameters.Names);
            foreach (var name in gOpt.Parameters.Names)
                Close(gExpected[name], gGradients[name].ToDoubleArray(), 1e-7, $"{name} at step {step}");
            gOpt.Step(Only(gGradients, gOpt));
            gReference.Step(Doubles(Only(gGradients, gOpt)));

            // each optimizer moved its own parameters as torch's Adam with betas (0.5, 0.999) does, from the gradients
            // checked above (Adam divides by the gradient's size, so a finite-difference gradient near 0 would not do)
            foreach (var (name, value) in gOpt.Parameters.Concat(dOpt.Parameters))
            {
                var expected = name.StartsWith("g.") ? gReference.Parameters[name] : dReference.Parameters[name];
                Close(expected, value.ToDoubleArray(), 1e-13, $"{name} after step {step}");
            }
        }
        Assert.Equal(1, dStep.TraceCount);
        Assert.Equal(1, gStep.TraceCount);
    }
    // ---- WGAN-GP: the gradient penalty differentiates the critic's input gradient again ----

    static Expr Critic(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["d.fc1.weight"], p["d.fc1.bias"]).Tanh(), p["d.fc2.weight"], p["d.fc2.bias"]);

    // x̂ = α·real + (1 − α)·fake; grad = torch.autograd.grad(D(x̂).sum(), x̂, create_graph=True)[0];
    // loss = D(fake).mean() − D(real).mean() + λ·((grad.norm(2, dim=1) − 1)²).mean()
    static Expr CriticLoss(IReadOnlyDictionary<string, Expr> p, Expr real, Expr fake, Expr alpha)
    {
        var mixed = alpha * real + (1 - alpha) * fake;
        var inputGradient = Diff.Grad(x => Critic(p, x).Sum())(mixed);
        var penalty = (inputGradient.Norm(2, 1) - 1).Square().Mean();
        return Critic(p, fake).Mean() - Critic(p, real).Mean() + 10 * penalty;
    }

    static double ReferenceCriticLoss(Dictionary<string, double[]> p, double[] real, double[] fake, double[] alpha)
    {
        var (w1, b1, w2, b2) = (p["d.fc1.weight"], p["d.fc1.bias"], p["d.fc2.weight"], p["d.fc2.bias"]);
        double Critic1(double[] x, int r, out double[] gradient)
        {
            // D(x) = w2·tanh(W1 x + b1) + b2, and ∇ₓD = W1ᵀ (w2 ⊙ (1 − tanh²))
            double value = b2[0];
            gradient = new double[2];
            for (int j = 0; j < H; j++)
            {
                double h = Math.Tanh(b1[j] + w1[j * 2] * x[r * 2] + w1[j * 2 + 1] * x[r * 2 + 1]);
                value += w2[j] * h;
                for (int i = 0; i < 2; i++) gradient[i] += w1[j * 2 + i] * w2[j] * (1 - h * h);
            }
            return value;
        }
        var mixed = real.Select((v, k) => alpha[k / 2] * v + (1 - alpha[k / 2]) * fake[k]).ToArray();
        double loss = 0;
        for (int r = 0; r < N; r++)
        {
            loss += (Critic1(fake, r, out _) - Critic1(real, r, out _)) / N;
            Critic1(mixed, r, out var g);
            double norm = Math.Sqrt(g[0] * g[0] + g[1] * g[1]);
            loss += 10 * (norm - 1) * (norm - 1) / N;
        }
        return loss;
    }

    [Fact]
    public void TheWganGradientPenaltyAndItsGradientInTheCriticMatchTheDoubleCriticAndCentralDifferences()
    {
        var step = Diff.CompileValueAndGrad((p, data) => CriticLoss(p, data[0], data[1], data[2]));
        var critic = new Adam(Make(DiscriminatorLayout, 61), lr: 1e-3, beta1: 0.5, beta2: 0.9);
        for (int i = 0; i < 3; i++)
        {
            var real = Tensor.RandomNormal([N, 2], seed: 400 + i) + 1.0;
            var fake = Tensor.RandomNormal([N, 2], seed: 500 + i);
            var alpha = Tensor.RandomUniform([N, 1], seed: 600 + i);
            var before = critic.Parameters;
            var (loss, gradients) = step.Invoke(before, real, fake, alpha);
            var doubles = Doubles(before);
            double Reference(Dictionary<string, double[]> q) => ReferenceCriticLoss(q, real.ToDoubleArray(), fake.ToDoubleArray(), alpha.ToDoubleArray());
            Close(Reference(doubles), loss.ToScalar(), 1e-12, $"critic loss {i}");
            var expected = CentralDifferences(Reference, doubles, before.Names);
            foreach (var name in before.Names)
                Close(expected[name], gradients[name].ToDoubleArray(), 1e-6, $"{name} at step {i}");
            critic.Step(gradients);
        }
        Assert.Equal(1, step.TraceCount);
    }
}

