using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's Hamiltonian neural network for a mass on a spring: a tanh MLP H(q, p), its gradient in the state
/// taken inside the loss (<c>torch.autograd.grad(H(x).sum(), x, create_graph=True)[0]</c>, here <c>Diff.Grad</c>), the
/// predicted time derivatives (∂H/∂p, −∂H/∂q) fitted to the spring's (p, −q) by MSE, and Adam. Held to the network over
/// doubles with its gradient in the state carried back by hand, the loss's gradient to central differences of that,
/// three compiled Adam steps to torch's Adam, and the field's divergence to 0 (a Hamiltonian field preserves volume).
/// </summary>
public class ClientEighteenHamiltonianTests
{
    const int States = 7, Hidden = 5, Steps = 3;
    const double Lr = 0.01;

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, 2]), ("fc1.bias", [Hidden]), ("fc2.weight", [Hidden, Hidden]), ("fc2.bias", [Hidden]),
         ("fc3.weight", [1, Hidden]), ("fc3.bias", [1])];

    static readonly double[] Points = Values(States * 2, 4);   // rows (q, p)
    // the spring's field, dq/dt = p and dp/dt = −q
    static readonly double[] Field = Enumerable.Range(0, States).SelectMany(n => new[] { Points[2 * n + 1], -Points[2 * n] }).ToArray();

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 30 + k).Select(v => 0.5 * v).ToArray(), e.Shape))).ToArray());

    static Expr Hamiltonian(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        var h = Nn.Linear(x, p["fc1.weight"], p["fc1.bias"]).Tanh();
        h = Nn.Linear(h, p["fc2.weight"], p["fc2.bias"]).Tanh();
        return Nn.Linear(h, p["fc3.weight"], p["fc3.bias"]);
    }

    /// <summary>The predicted (dq/dt, dp/dt) = (∂H/∂p, −∂H/∂q) at each state, as the user wrote it.</summary>
    static Expr TimeDerivative(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        var dH = Diff.Grad(s => Hamiltonian(p, s).Sum())(x);
        return Expr.Stack([dH.Select(1, 1), -dH.Select(1, 0)], 1);
    }

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr x, Expr target) => Loss.Mse(TimeDerivative(p, x), target);

    /// <summary>∂H/∂(q, p) over doubles: the forward pass, then the gradient carried back through each layer.</summary>
    static double[] StateGradient(Dictionary<string, double[]> w, double q, double p)
    {
        var h1 = Linear([q, p], 1, 2, Hidden, w["fc1.weight"], w["fc1.bias"]).Select(Math.Tanh).ToArray();
        var h2 = Linear(h1, 1, Hidden, Hidden, w["fc2.weight"], w["fc2.bias"]).Select(Math.Tanh).ToArray();
        var a2 = Enumerable.Range(0, Hidden).Select(j => w["fc3.weight"][j] * (1 - h2[j] * h2[j])).ToArray();
        var a1 = Enumerable.Range(0, Hidden).Select(i => Enumerable.Range(0, Hidden).Sum(j => w["fc2.weight"][j * Hidden + i] * a2[j]) * (1 - h1[i] * h1[i])).ToArray();
        return [.. Enumerable.Range(0, 2).Select(c => Enumerable.Range(0, Hidden).Sum(i => w["fc1.weight"][i * 2 + c] * a1[i]))];
    }

    static double ReferenceLoss(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        double total = 0;
        for (int n = 0; n < States; n++)
        {
            var g = StateGradient(w, Points[2 * n], Points[2 * n + 1]);
            total += Math.Pow(g[1] - Field[2 * n], 2) + Math.Pow(-g[0] - Field[2 * n + 1], 2);
        }
        return total / (2 * States);
    }

    static Tensor[] Batch() => [Tensor.FromArray(Points, States, 2), Tensor.FromArray(Field, States, 2)];

    [Fact]
    public void ThePredictedFieldIsTheHandCarriedGradient()
    {
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        var field = TimeDerivative(Model().AsExprs(), Batch()[0]).Eval().ToDoubleArray();
        for (int n = 0; n < States; n++)
        {
            var g = StateGradient(w, Points[2 * n], Points[2 * n + 1]);
            Close([g[1], -g[0]], field[(2 * n)..(2 * n + 2)], 1e-13, $"state {n}");
        }
    }

    [Fact]
    public void TheFieldIsDivergenceFree()
    {
        // ∂(∂H/∂p)/∂q − ∂(∂H/∂q)/∂p = 0 for any smooth H: the trace of the field's Jacobian at each state
        var p = Model().AsExprs();
        for (int n = 0; n < States; n++)
        {
            var jacobian = Diff.Jacobian(s => TimeDerivative(p, s.Reshape(1, 2)).Reshape(2))(Tensor.FromArray(Points[(2 * n)..(2 * n + 2)])).Eval();
            Assert.Equal(new[] { 2, 2 }, jacobian.Shape);
            var j = jacobian.ToDoubleArray();
            Close(0, j[0] + j[3], 1e-14, $"divergence at state {n}");
            Assert.True(Math.Abs(j[1]) > 1e-3, "the field varies with the state");
        }
    }

    [Fact]
    public void CompiledAdamStepsAreCentralDifferencesUnderTorchsAdam()
    {
        var step = Diff.CompileValueAndGrad((p, b) => LossOf(p, b[0], b[1]));
        var losses = CheckAdamSteps(step, new Adam(Model(), lr: Lr), Layout, ReferenceLoss, Batch(), Steps);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }
}
