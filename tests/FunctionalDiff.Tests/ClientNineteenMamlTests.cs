using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's second-order MAML on sine-wave regression: a 1 → 8 → 1 tanh network, two inner SGD steps on each
/// task's support set taken inside the meta-loss with <c>torch.autograd.grad(loss, params, create_graph=True)</c> (here
/// <see cref="Diff.Grad(Func{IReadOnlyDictionary{string, Expr}, Expr}, IReadOnlyDictionary{string, Expr})"/> of the
/// parameters the outer transform is differentiating), the query loss at the fast weights averaged over tasks, and Adam
/// on the meta-parameters in a compiled step. Held to the same meta-objective written over doubles (the inner gradients
/// carried back through the network by hand), its gradient to central differences of that, and Adam to torch's.
/// </summary>
public class ClientNineteenMamlTests
{
    const int Tasks = 3, Shots = 4, Hidden = 8, InnerSteps = 2, OuterSteps = 3;
    const double Alpha = 0.1, Lr = 0.01;

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, 1]), ("fc1.bias", [Hidden]), ("fc2.weight", [1, Hidden]), ("fc2.bias", [1])];

    // task t is y = A_t sin(x + φ_t), sampled at fixed support and query points
    static readonly double[] Amplitude = [1.0, 0.6, 1.4], Phase = [0.0, 0.9, -0.7];
    static double[] Points(int salt) => Values(Tasks * Shots, salt).Select(v => 2 * v).ToArray();
    static readonly double[] SupportX = Points(1), QueryX = Points(2);
    static double Target(int t, double x) => Amplitude[t] * Math.Sin(x + Phase[t]);
    static double[] Targets(double[] xs) => Enumerable.Range(0, xs.Length).Select(i => Target(i / Shots, xs[i])).ToArray();

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 10 + k).Select(v => 0.3 * v).ToArray(), e.Shape))).ToArray());

    static Tensor[] Batch() =>
    [
        Tensor.FromArray(SupportX, Tasks, Shots, 1), Tensor.FromArray(Targets(SupportX), Tasks, Shots, 1),
        Tensor.FromArray(QueryX, Tasks, Shots, 1), Tensor.FromArray(Targets(QueryX), Tasks, Shots, 1),
    ];

    // ---- the client, as written against the README ----

    static Expr Net(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["fc1.weight"], p["fc1.bias"]).Tanh(), p["fc2.weight"], p["fc2.bias"]);

    /// <summary>The fast weights after the inner SGD steps on one task's support set, differentiable in p.</summary>
    static IReadOnlyDictionary<string, Expr> Adapt(IReadOnlyDictionary<string, Expr> p, Expr x, Expr y, bool firstOrder)
    {
        var fast = p;
        for (int s = 0; s < InnerSteps; s++)
        {
            var g = Diff.Grad(q => Loss.Mse(Net(q, x), y), fast);
            fast = fast.ToDictionary(e => e.Key, e => e.Value - Alpha * (firstOrder ? g[e.Key].Detach() : g[e.Key]));
        }
        return fast;
    }

    static Expr MetaLoss(IReadOnlyDictionary<string, Expr> p, Expr[] d, bool firstOrder = false)
    {
        Expr total = 0.0;
        for (int t = 0; t < Tasks; t++)
        {
            var fast = Adapt(p, d[0].Row(t), d[1].Row(t), firstOrder);
            total += Loss.Mse(Net(fast, d[2].Row(t)), d[3].Row(t));
        }
        return total / Tasks;
    }

    // ---- the reference over doubles ----

    static double[] Forward(Dictionary<string, double[]> w, double x, out double[] h)
    {
        h = Enumerable.Range(0, Hidden).Select(j => Math.Tanh(w["fc1.weight"][j] * x + w["fc1.bias"][j])).ToArray();
        var hh = h;
        return [w["fc2.bias"][0] + Enumerable.Range(0, Hidden).Sum(j => w["fc2.weight"][j] * hh[j])];
    }

    static double TaskLoss(Dictionary<string, double[]> w, int t, double[] xs) =>
        Enumerable.Range(t * Shots, Shots).Sum(i => Math.Pow(Forward(w, xs[i], out _)[0] - Target(t, xs[i]), 2)) / Shots;

    /// <summary>The support loss's gradient in every parameter, carried back through the network by hand.</summary>
    static Dictionary<string, double[]> TaskGradient(Dictionary<string, double[]> w, int t, double[] xs)
    {
        var g = Layout.ToDictionary(e => e.Name, e => new double[e.Shape.Aggregate(1, (a, b) => a * b)]);
        for (int i = t * Shots; i < (t + 1) * Shots; i++)
        {
            double dy = 2 * (Forward(w, xs[i], out var h)[0] - Target(t, xs[i])) / Shots;
            g["fc2.bias"][0] += dy;
            for (int j = 0; j < Hidden; j++)
            {
                g["fc2.weight"][j] += dy * h[j];
                double da = dy * w["fc2.weight"][j] * (1 - h[j] * h[j]);
                g["fc1.weight"][j] += da * xs[i];
                g["fc1.bias"][j] += da;
            }
        }
        return g;
    }

    static double ReferenceMetaLoss(double[] flat)
    {
        double total = 0;
        for (int t = 0; t < Tasks; t++)
        {
            var w = Unflatten(Layout, flat);
            for (int s = 0; s < InnerSteps; s++)
            {
                var g = TaskGradient(w, t, SupportX);
                w = w.ToDictionary(e => e.Key, e => e.Value.Select((v, k) => v - Alpha * g[e.Key][k]).ToArray());
            }
            total += TaskLoss(w, t, QueryX);
        }
        return total / Tasks;
    }

    [Fact]
    public void TheMetaGradientIsCentralDifferencesOfTheWholeMetaObjective()
    {
        var flat = Flatten(Layout, Model());
        var (loss, g) = Diff.ValueAndGrad(p => MetaLoss(p, [.. Batch().Select(b => (Expr)b)]), Model());
        var values = Expr.EvalMany([loss, .. Layout.Select(e => g[e.Name])]);
        Close(ReferenceMetaLoss(flat), values[0].ToScalar(), 1e-13, "meta-loss");
        var gradient = values[1..].SelectMany(v => v.ToDoubleArray()).ToArray();
        Close(Gradient(ReferenceMetaLoss, flat), gradient, 1e-8, "meta-gradient");

        // without create_graph's second-order terms the gradient differs: the check above sees them
        var (_, firstOrder) = Diff.ValueAndGrad(p => MetaLoss(p, [.. Batch().Select(b => (Expr)b)], firstOrder: true), Model());
        var fo = Expr.EvalMany([.. Layout.Select(e => firstOrder[e.Name])]).SelectMany(v => v.ToDoubleArray()).ToArray();
        Assert.True(fo.Zip(gradient).Max(z => Math.Abs(z.First - z.Second)) > 1e-3, "first-order MAML differs from second-order");
    }

    [Fact]
    public void CompiledMetaTrainingIsTorchsAdamOnTheMetaGradient()
    {
        var step = Diff.CompileValueAndGrad((p, d) => MetaLoss(p, d));
        var losses = CheckAdamSteps(step, new Adam(Model(), lr: Lr), Layout, ReferenceMetaLoss, Batch(), OuterSteps);
        Assert.True(losses[^1] < losses[0], "the meta-loss falls");
    }

    [Fact]
    public void AdaptationLowersEachTasksSupportLoss()
    {
        // the inner steps are gradient descent on the support loss: after them it is lower than before, for every task
        var p = Model().AsExprs();
        var d = Batch();
        for (int t = 0; t < Tasks; t++)
        {
            Expr x = d[0].Row(t), y = d[1].Row(t);
            var before = Loss.Mse(Net(p, x), y).Eval().ToScalar();
            var after = Loss.Mse(Net(Adapt(p, x, y, firstOrder: false), x), y).Eval().ToScalar();
            Close(TaskLoss(Unflatten(Layout, Flatten(Layout, Model())), t, SupportX), before, 1e-13, $"task {t} support loss");
            Assert.True(after < before, $"task {t}: {after} < {before}");
        }
    }
}
