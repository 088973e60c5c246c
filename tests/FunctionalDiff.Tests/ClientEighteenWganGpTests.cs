using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's WGAN-GP on 2-D points: a tanh critic, a linear generator, the critic's loss
/// D(G(z).detach()).mean() − D(x).mean() + λ·((‖∇x̂ D(x̂)‖₂ − 1)²).mean() on the interpolates x̂ = ε x + (1 − ε) G(z),
/// where the gradient is <c>torch.autograd.grad(D(x̂).sum(), x̂, create_graph=True)[0]</c> (here <c>Diff.Grad</c> inside
/// the loss), so the critic's update is a second derivative through the facade. The loss is held to the critic
/// written over doubles with its input gradient carried by the chain rule, the critic's and the generator's gradients
/// to central differences of it, and two compiled Adam steps to torch's Adam written out.
/// </summary>
public class ClientEighteenWganGpTests
{
    const int Batch = 5, Hidden = 6, Noise = 3;
    const double Lambda = 10, Lr = 1e-3;

    static readonly (string Name, int[] Shape)[] CriticLayout =
        [("fc1.weight", [Hidden, 2]), ("fc1.bias", [Hidden]), ("fc2.weight", [1, Hidden]), ("fc2.bias", [1])];
    static readonly (string Name, int[] Shape)[] GeneratorLayout = [("g.weight", [2, Noise]), ("g.bias", [2])];

    static readonly double[] Real = Values(Batch * 2, 1).Select(v => v + 0.5).ToArray();
    static readonly double[] Z = Values(Batch * Noise, 2);
    static readonly double[] Epsilon = Values(Batch, 3).Select(v => 0.5 + v / 3.1).ToArray();   // torch.rand(N, 1), in (0, 1)

    static Parameters Make((string Name, int[] Shape)[] layout, int salt) => Parameters.Of(layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), salt + k).Select(v => 0.6 * v).ToArray(), e.Shape))).ToArray());

    static Tensor[] Data() => [Tensor.FromArray(Real, Batch, 2), Tensor.FromArray(Z, Batch, Noise), Tensor.FromArray(Epsilon, Batch, 1)];

    static Expr Critic(IReadOnlyDictionary<string, Expr> d, Expr x) =>
        Nn.Linear(Nn.Linear(x, d["fc1.weight"], d["fc1.bias"]).Tanh(), d["fc2.weight"], d["fc2.bias"]);

    static Expr Generator(IReadOnlyDictionary<string, Expr> g, Expr z) => Nn.Linear(z, g["g.weight"], g["g.bias"]);

    /// <summary>The critic's loss as the user wrote it, the generator's weights given as data (the fake is detached).</summary>
    static Expr CriticLoss(IReadOnlyDictionary<string, Expr> d, Expr real, Expr z, Expr epsilon, IReadOnlyDictionary<string, Expr> g)
    {
        var fake = Generator(g, z).Detach();
        var interpolates = epsilon * real + (1 - epsilon) * fake;
        // torch.autograd.grad(D(x_hat).sum(), x_hat, create_graph=True)[0]
        var gradients = Diff.Grad(x => Critic(d, x).Sum())(interpolates);
        var penalty = (gradients.Norm(axis: 1) - 1).Square().Mean();
        return Critic(d, fake).Mean() - Critic(d, real).Mean() + Lambda * penalty;
    }

    static Expr GeneratorLoss(IReadOnlyDictionary<string, Expr> g, Expr z, IReadOnlyDictionary<string, Expr> d) => -Critic(d, Generator(g, z)).Mean();

    /// <summary>The critic over doubles at one point: its value and its gradient in the point, by the chain rule.</summary>
    static (double Value, double[] Slope) CriticAt(Dictionary<string, double[]> d, double[] x)
    {
        double value = d["fc2.bias"][0];
        var slope = new double[2];
        for (int j = 0; j < Hidden; j++)
        {
            double h = Math.Tanh(d["fc1.weight"][2 * j] * x[0] + d["fc1.weight"][2 * j + 1] * x[1] + d["fc1.bias"][j]);
            value += d["fc2.weight"][j] * h;
            for (int c = 0; c < 2; c++) slope[c] += d["fc2.weight"][j] * (1 - h * h) * d["fc1.weight"][2 * j + c];
        }
        return (value, slope);
    }

    static double[] GeneratorAt(Dictionary<string, double[]> g, int n) =>
        Enumerable.Range(0, 2).Select(c => g["g.bias"][c] + Enumerable.Range(0, Noise).Sum(i => g["g.weight"][c * Noise + i] * Z[n * Noise + i])).ToArray();

    static double ReferenceCriticLoss(double[] critic, double[] generator)
    {
        var d = Unflatten(CriticLayout, critic);
        var g = Unflatten(GeneratorLayout, generator);
        double total = 0;
        for (int n = 0; n < Batch; n++)
        {
            var fake = GeneratorAt(g, n);
            var real = Real[(2 * n)..(2 * n + 2)];
            var interpolate = new[] { Epsilon[n] * real[0] + (1 - Epsilon[n]) * fake[0], Epsilon[n] * real[1] + (1 - Epsilon[n]) * fake[1] };
            var slope = CriticAt(d, interpolate).Slope;
            double norm = Math.Sqrt(slope[0] * slope[0] + slope[1] * slope[1]);
            total += CriticAt(d, fake).Value - CriticAt(d, real).Value + Lambda * (norm - 1) * (norm - 1);
        }
        return total / Batch;
    }

    static double ReferenceGeneratorLoss(double[] critic, double[] generator)
    {
        var d = Unflatten(CriticLayout, critic);
        var g = Unflatten(GeneratorLayout, generator);
        return -Enumerable.Range(0, Batch).Average(n => CriticAt(d, GeneratorAt(g, n)).Value);
    }

    static Tensor[] GeneratorData(Parameters g) => [.. GeneratorLayout.Select(e => g[e.Name])];

    static IReadOnlyDictionary<string, Expr> Named((string Name, int[] Shape)[] layout, Expr[] values) =>
        layout.Select((e, i) => (e.Name, values[i])).ToDictionary(e => e.Name, e => e.Item2);

    [Fact]
    public void TheCriticsGradientIsTheSecondOrderCentralDifference()
    {
        var critic = Make(CriticLayout, 10);
        var generator = Make(GeneratorLayout, 20);
        var data = Data();
        var (loss, gradients) = Diff.ValueAndGrad(d => CriticLoss(d, data[0], data[1], data[2], generator.AsExprs()), critic);
        var values = Expr.EvalMany([loss, .. CriticLayout.Select(e => gradients[e.Name])]);
        double[] c = Flatten(CriticLayout, critic), g = Flatten(GeneratorLayout, generator);
        Close(ReferenceCriticLoss(c, g), values[0].Item(), 1e-12, "critic loss");
        var flat = values[1..].SelectMany(t => t.ToDoubleArray()).ToArray();
        Close(Gradient(x => ReferenceCriticLoss(x, g), c), flat, 1e-7, "critic gradient");
        // the fake is detached: the critic's loss gives the generator nothing
        var toGenerator = Diff.Grad(gg => CriticLoss(critic.AsExprs(), data[0], data[1], data[2], gg), generator);
        Assert.All(GeneratorLayout, e => Assert.All(toGenerator[e.Name].Eval().ToDoubleArray(), v => Assert.Equal(0.0, v)));
    }

    [Fact]
    public void TheGeneratorsGradientIsTheCentralDifferenceThroughTheCritic()
    {
        var critic = Make(CriticLayout, 10);
        var generator = Make(GeneratorLayout, 20);
        var z = Data()[1];
        var gradients = Diff.Grad(g => GeneratorLoss(g, z, critic.AsExprs()), generator);
        double[] c = Flatten(CriticLayout, critic), g = Flatten(GeneratorLayout, generator);
        Close(Gradient(x => ReferenceGeneratorLoss(c, x), g), GeneratorLayout.SelectMany(e => gradients[e.Name].Eval().ToDoubleArray()).ToArray(), 1e-7, "generator gradient");
    }

    [Fact]
    public void CompiledCriticStepsAreTheReferenceUnderTorchsAdam()
    {
        var generator = Make(GeneratorLayout, 20);
        // the generator's weights are data of the critic's step: [real, z, epsilon, g.weight, g.bias]
        var step = Diff.CompileValueAndGrad((d, b) => CriticLoss(d, b[0], b[1], b[2], Named(GeneratorLayout, b[3..])));
        var adam = new Adam(Make(CriticLayout, 10), lr: Lr, betas: (0.0, 0.9));   // the paper's betas
        var p = Flatten(CriticLayout, adam.Parameters);
        var g = Flatten(GeneratorLayout, generator);
        var v = new double[p.Length];
        for (int k = 1; k <= 2; k++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, [.. Data(), .. GeneratorData(generator)]);
            Close(ReferenceCriticLoss(p, g), loss.Item(), 1e-12, $"loss {k}");
            var flat = Flatten(CriticLayout, gradients);
            Close(Gradient(x => ReferenceCriticLoss(x, g), p), flat, 1e-7, $"gradient {k}");
            adam.Step(gradients);
            // torch.optim.Adam(lr, betas=(0, 0.9)): with β1 = 0 the moment is the gradient itself
            double correction2 = 1 - Math.Pow(0.9, k);
            for (int i = 0; i < p.Length; i++)
            {
                v[i] = 0.9 * v[i] + 0.1 * flat[i] * flat[i];
                p[i] -= Lr * flat[i] / (Math.Sqrt(v[i]) / Math.Sqrt(correction2) + 1e-8);
            }
            Close(p, Flatten(CriticLayout, adam.Parameters), 1e-12, $"critic after step {k}");
        }
        Assert.Equal(1, step.TraceCount);
    }
}
