using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's adversarial training: a 4 → 6 → 3 tanh classifier, FGSM (<c>x + ε·sign(∇ₓ loss)</c>, clamped to
/// [0, 1]), and PGD from a perturbed start (a few signed steps, each projected onto the ε-ball around the clean batch
/// with <c>torch.clamp(x_adv, x - eps, x + eps)</c>, here <see cref="Tensor.Clamp(Tensor, Tensor)"/>), then SGD with
/// momentum on the adversarial batch in a compiled step. Held to the network over doubles: the input gradient carried
/// back by hand and by central differences, the attack written out with that gradient, the parameter gradient at the
/// adversarial batch to central differences, and torch's SGD with momentum written out.
/// </summary>
public class ClientNineteenAdversarialTests
{
    const int N = 5, D = 4, Hidden = 6, Classes = 3, PgdSteps = 3, TrainSteps = 2;
    const double Eps = 0.1, StepSize = 0.04, Lr = 0.2, Momentum = 0.9;

    static readonly int[] Labels = [0, 2, 1, 1, 0];
    static readonly double[] Clean = Values(N * D, 3).Select(v => 0.5 + 0.3 * v).ToArray();
    // PGD's random start, drawn once: uniform-looking offsets inside the ε-ball
    static readonly double[] Start = Values(N * D, 4).Select(v => Eps * v / 1.5).ToArray();

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, D]), ("fc1.bias", [Hidden]), ("fc2.weight", [Classes, Hidden]), ("fc2.bias", [Classes])];

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 20 + k).Select(v => 0.8 * v).ToArray(), e.Shape))).ToArray());

    // ---- the client, as written against the README ----

    static Expr Net(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["fc1.weight"], p["fc1.bias"]).Tanh(), p["fc2.weight"], p["fc2.bias"]);

    static Tensor InputGradient(Parameters model, Tensor x) =>
        Diff.Grad(v => Loss.CrossEntropy(Net(model.AsExprs(), v), Labels))(x).Eval();

    static Tensor Fgsm(Parameters model, Tensor x) => (x + Eps * InputGradient(model, x).Sign()).Clamp(0, 1);

    static Tensor Pgd(Parameters model, Tensor x)
    {
        var xAdv = (x + Tensor.FromArray(Start, N, D)).Clamp(0, 1);
        for (int s = 0; s < PgdSteps; s++)
            xAdv = (xAdv + StepSize * InputGradient(model, xAdv).Sign()).Clamp(x - Eps, x + Eps).Clamp(0, 1);
        return xAdv;
    }

    // ---- the reference over doubles ----

    static double[] Hidden1(Dictionary<string, double[]> w, double[] x) =>
        Linear(x, N, D, Hidden, w["fc1.weight"], w["fc1.bias"]).Select(Math.Tanh).ToArray();

    static double[] Probabilities(Dictionary<string, double[]> w, double[] x, out double[] h)
    {
        h = Hidden1(w, x);
        var z = Linear(h, N, Hidden, Classes, w["fc2.weight"], w["fc2.bias"]);
        var p = new double[N * Classes];
        for (int n = 0; n < N; n++)
        {
            double m = Enumerable.Range(0, Classes).Max(c => z[n * Classes + c]);
            double s = Enumerable.Range(0, Classes).Sum(c => Math.Exp(z[n * Classes + c] - m));
            for (int c = 0; c < Classes; c++) p[n * Classes + c] = Math.Exp(z[n * Classes + c] - m) / s;
        }
        return p;
    }

    static double ReferenceLoss(Dictionary<string, double[]> w, double[] x)
    {
        var p = Probabilities(w, x, out _);
        return -Enumerable.Range(0, N).Sum(n => Math.Log(p[n * Classes + Labels[n]])) / N;
    }

    /// <summary>∂loss/∂x carried back by hand: (softmax − one-hot)/N through fc2, tanh′ and fc1.</summary>
    static double[] ReferenceInputGradient(Dictionary<string, double[]> w, double[] x)
    {
        var p = Probabilities(w, x, out var h);
        var dx = new double[N * D];
        for (int n = 0; n < N; n++)
            for (int j = 0; j < Hidden; j++)
            {
                double dh = Enumerable.Range(0, Classes).Sum(c => (p[n * Classes + c] - (c == Labels[n] ? 1 : 0)) / N * w["fc2.weight"][c * Hidden + j]);
                double da = dh * (1 - h[n * Hidden + j] * h[n * Hidden + j]);
                for (int i = 0; i < D; i++) dx[n * D + i] += da * w["fc1.weight"][j * D + i];
            }
        return dx;
    }

    static double[] ReferencePgd(Dictionary<string, double[]> w, double[] x)
    {
        var xAdv = x.Select((v, i) => Math.Clamp(v + Start[i], 0, 1)).ToArray();
        for (int s = 0; s < PgdSteps; s++)
        {
            var g = ReferenceInputGradient(w, xAdv);
            // a sign is only defined by the data where the gradient is clearly away from 0
            Assert.True(g.Min(Math.Abs) > 1e-9, $"PGD step {s}: a gradient entry too near 0 for its sign to be data");
            xAdv = xAdv.Select((v, i) => Math.Clamp(Math.Clamp(v + StepSize * Math.Sign(g[i]), x[i] - Eps, x[i] + Eps), 0, 1)).ToArray();
        }
        return xAdv;
    }

    [Fact]
    public void TheInputGradientIsCarriedBackByHandAndCentralDifferences()
    {
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        var g = InputGradient(Model(), Tensor.FromArray(Clean, N, D)).ToDoubleArray();
        Close(ReferenceInputGradient(w, Clean), g, 1e-14, "by hand");
        Close(Gradient(x => ReferenceLoss(w, x), Clean), g, 1e-9, "central differences");
    }

    [Fact]
    public void FgsmStepsAlongTheGradientsSignAndRaisesTheLoss()
    {
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        var g = ReferenceInputGradient(w, Clean);
        var expected = Clean.Select((v, i) => Math.Clamp(v + Eps * Math.Sign(g[i]), 0, 1)).ToArray();
        var adversarial = Fgsm(Model(), Tensor.FromArray(Clean, N, D)).ToDoubleArray();
        Close(expected, adversarial, 1e-15, "FGSM batch");
        Assert.True(ReferenceLoss(w, adversarial) > ReferenceLoss(w, Clean), "FGSM raises the loss");
    }

    [Fact]
    public void PgdIsTheProjectedSignedAscentWrittenOut()
    {
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        var expected = ReferencePgd(w, Clean);
        var adversarial = Pgd(Model(), Tensor.FromArray(Clean, N, D)).ToDoubleArray();
        Close(expected, adversarial, 1e-15, "PGD batch");
        // the projection binds somewhere and leaves some entries inside the ball, so both sides of the clamp are seen
        var offsets = adversarial.Select((v, i) => Math.Abs(v - Clean[i])).ToArray();
        Assert.Contains(offsets, o => Math.Abs(o - Eps) < 1e-15);
        Assert.Contains(offsets, o => o < Eps - 1e-3);
        Assert.True(offsets.Max() <= Eps + 1e-15, "inside the ε-ball");
        Assert.True(ReferenceLoss(w, adversarial) > ReferenceLoss(w, Clean), "PGD raises the loss");
    }

    [Fact]
    public void AdversarialTrainingIsSgdWithMomentumOnTheAttackedBatch()
    {
        var step = Diff.CompileValueAndGrad((p, d) => Loss.CrossEntropy(Net(p, d[0]), Labels));
        var sgd = new Sgd(Model(), lr: Lr, momentum: Momentum);
        var flat = Flatten(Layout, Model());
        var buffer = new double[flat.Length];
        var clean = Tensor.FromArray(Clean, N, D);
        for (int k = 0; k < TrainSteps; k++)
        {
            var w = Unflatten(Layout, flat);
            var adversarial = Pgd(sgd.Parameters, clean);
            var xAdv = ReferencePgd(w, Clean);
            Close(xAdv, adversarial.ToDoubleArray(), 1e-15, $"PGD batch {k}");
            var (loss, gradients) = step.Invoke(sgd.Parameters, adversarial);
            Close(ReferenceLoss(w, xAdv), loss.ToScalar(), 1e-14, $"adversarial loss {k}");
            var g = Flatten(Layout, gradients);
            Close(Gradient(f => ReferenceLoss(Unflatten(Layout, f), xAdv), flat), g, 1e-8, $"parameter gradient {k}");
            sgd.Step(gradients);
            // torch's SGD: the buffer is the gradient at the first step, then momentum·buffer + gradient
            for (int i = 0; i < flat.Length; i++)
            {
                buffer[i] = k == 0 ? g[i] : Momentum * buffer[i] + g[i];
                flat[i] -= Lr * buffer[i];
            }
            Close(flat, Flatten(Layout, sgd.Parameters), 1e-14, $"parameters after step {k}");
        }
        Assert.Equal(1, step.TraceCount);
    }
}
