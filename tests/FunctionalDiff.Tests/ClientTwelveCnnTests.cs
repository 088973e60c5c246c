using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A small CNN classifier ported from PyTorch as a user writes it: conv 3×3 (padding 1), ReLU, 2×2 max pooling, flatten,
/// dropout (its noise an input of the compiled step), a linear head and <c>nn.CrossEntropyLoss(weight=w,
/// ignore_index=-100)</c>, trained by <c>Adam(weight_decay=0.01)</c> under a <c>StepLR(step_size=2, gamma=0.5)</c>
/// for four compiled steps. Every loss, the first gradient and the parameters after each step are held to the same net
/// written as loops over doubles (torch's formulas), its central differences, and torch's Adam written out.
/// </summary>
public class ClientTwelveCnnTests
{
    const int N = 4, S = 6, C = 2, Pooled = 3, Features = C * Pooled * Pooled, Classes = 3;
    const double P = 0.25, Lr = 0.05, Gamma = 0.5, WeightDecay = 0.01;
    static readonly double[] ClassWeights = [1.0, 2.0, 0.5];
    static readonly double[] Labels = [0, 2, -100, 1];

    static readonly (string Name, int[] Shape)[] Layout =
        [("conv.weight", [C, 1, 3, 3]), ("conv.bias", [C]), ("fc.weight", [Classes, Features]), ("fc.bias", [Classes])];

    static Parameters Model() => Parameters.Of(Layout.Select((e, i) => (e.Name, 0.6 * T(e.Shape, 30 + i))).ToArray());
    static Tensor Images(int step) => T([N, 1, S, S], 40 + step);
    // uniform draws in [0, 1) from the fixed spread of TestSupport.Values
    static Tensor Noise(int step) => (T([N, Features], 50 + step) + 1.5) / 3.0001;

    // ---- what a torch user writes ----

    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr x, Expr noise)
    {
        var h = Nn.MaxPool2d(Nn.Conv2d(x, p["conv.weight"], p["conv.bias"], padding: 1).Relu(), 2).Flatten(1);
        return Nn.Linear(Nn.Dropout(h, P, noise), p["fc.weight"], p["fc.bias"]);
    }

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr[] batch) =>
        Loss.CrossEntropy(Logits(p, batch[0], batch[2]), batch[1], ignoreIndex: -100, weight: Tensor.FromArray(ClassWeights));

    // ---- the same net over doubles ----

    static double LossRef(double[] flat, double[] images, double[] noise)
    {
        var p = Unflatten(Layout, flat);
        double weighted = 0, total = 0;
        for (int n = 0; n < N; n++)
        {
            var conv = Conv2d(images[(n * S * S)..((n + 1) * S * S)], 1, S, S, p["conv.weight"], C, 3, 3, p["conv.bias"], 1, 1, 1, 1, S, S);
            var h = new double[Features];
            for (int c = 0; c < C; c++)
                for (int i = 0; i < Pooled; i++)
                    for (int j = 0; j < Pooled; j++)
                    {
                        double m = double.NegativeInfinity;
                        for (int u = 0; u < 2; u++)
                            for (int v = 0; v < 2; v++)
                                m = Math.Max(m, Math.Max(conv[(c * S + 2 * i + u) * S + 2 * j + v], 0));
                        int k = (c * Pooled + i) * Pooled + j;
                        h[k] = noise[n * Features + k] >= P ? m / (1 - P) : 0;
                    }
            var z = Linear(h, 1, Features, Classes, p["fc.weight"], p["fc.bias"]);
            if (Labels[n] == -100) continue;
            int y = (int)Labels[n];
            double max = z.Max(), lse = max + Math.Log(z.Sum(v => Math.Exp(v - max)));
            weighted += ClassWeights[y] * (lse - z[y]);
            total += ClassWeights[y];
        }
        return weighted / total;
    }

    [Fact]
    public void TheReadmeShowsExactlyTheCnnFragment() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ClientTwelveCnnReadme.cs", "### A CNN classifier with class weights, ported from PyTorch");

    [Fact]
    public void CompiledCnnWithClassWeightsIgnoreIndexAdamAndStepLrFollowsTheReference()
    {
        // the fragment's gradient at the start is the reference's by central differences
        var step = Diff.CompileValueAndGrad(LossOf);
        var theta = Flatten(Layout, Model());
        var labels = Tensor.FromArray(Labels);
        var (images0, noise0) = (Images(0).ToDoubleArray(), Noise(0).ToDoubleArray());
        var (loss0, gradients0) = step.Invoke(Model(), Images(0), labels, Noise(0));
        Close(LossRef(theta, images0, noise0), loss0.ToScalar(), 1e-12, "loss at the start");
        Close(Gradient(f => LossRef(f, images0, noise0), theta), Flatten(Layout, gradients0), 1e-6, "gradient at the start");

        var (losses, final, traces) = ClientTwelveCnnReadme.Train(Model(), Enumerable.Range(0, 4).Select(Images).ToArray(), labels, Noise);
        Assert.Equal(1, traces);

        // torch's Adam, single-tensor, with L2 weight decay added to the gradient, over the reference's gradients
        var (m, v) = (new double[theta.Length], new double[theta.Length]);
        for (int t = 0; t < 4; t++)
        {
            double lr = Lr * Math.Pow(Gamma, t / 2);   // StepLR(step_size=2, gamma=0.5), stepped after each epoch
            var (images, noise) = (Images(t).ToDoubleArray(), Noise(t).ToDoubleArray());
            // the reference's parameters follow its central-difference gradients, so they drift from ours by ~1e-10
            Close(LossRef(theta, images, noise), losses[t], 1e-9, $"loss {t}");
            var g = Gradient(f => LossRef(f, images, noise), theta);
            AdamStep(theta, m, v, [.. g.Select((gi, i) => gi + WeightDecay * theta[i])], t + 1, lr);
        }
        Close(theta, Flatten(Layout, final), 1e-6, "parameters after four steps");
    }

    [Fact]
    public void EvaluationLeavesDropoutOutAndArgMaxGivesTheClasses()
    {
        // torch's model.eval(): no dropout; the predicted classes are the logits' argmax per row
        var p = Model();
        var images = Images(0);
        var logits = Nn.Linear(Nn.MaxPool2d(Nn.Conv2d(images, p["conv.weight"], p["conv.bias"], padding: 1).Relu(), 2).Flatten(1),
            p["fc.weight"], p["fc.bias"]).Eval();
        var predicted = logits.ArgMax(1).ToDoubleArray();
        var z = logits.ToDoubleArray();
        for (int n = 0; n < N; n++)
        {
            var row = z[(n * Classes)..((n + 1) * Classes)];
            Assert.Equal(Array.IndexOf(row, row.Max()), (int)predicted[n]);
        }
    }
}
