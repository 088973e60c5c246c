using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's PointNet-style set classifier: a shared per-point MLP (2 → 5 → 6, tanh), the global feature
/// <c>torch.max(x, dim=1)[0]</c> over the points (here <see cref="Expr.MaxWithIndices"/>), a linear classifier,
/// cross-entropy, and Adam in a compiled step. Held to the network over doubles and its central differences, to its
/// own output under a permutation of the points, and, at a cloud with a repeated point, to torch's two subgradients of
/// a tie: <c>max(dim)</c> gives the derivative to the first of the tied points, <c>amax</c> (<see cref="Expr.Max(int, bool)"/>)
/// shares it evenly, each checked against central differences of the cloud without the copy.
/// </summary>
public class ClientNineteenPointNetTests
{
    const int Clouds = 3, Points = 5, Hidden = 5, Features = 6, Classes = 3, Steps = 3;
    const double Lr = 0.02;
    static readonly int[] Labels = [2, 0, 1];

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("mlp1.weight", [Hidden, 2]), ("mlp1.bias", [Hidden]), ("mlp2.weight", [Features, Hidden]), ("mlp2.bias", [Features]),
        ("fc.weight", [Classes, Features]), ("fc.bias", [Classes]),
    ];

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 70 + k).Select(v => 0.7 * v).ToArray(), e.Shape))).ToArray());

    static readonly double[] Cloud = Values(Clouds * Points * 2, 77);

    // ---- the client, as written against the README ----

    static Expr GlobalFeature(IReadOnlyDictionary<string, Expr> p, Expr points, bool amax)
    {
        var h = Nn.Linear(points, p["mlp1.weight"], p["mlp1.bias"]).Tanh();        // [B, N, 5], the same MLP at every point
        h = Nn.Linear(h, p["mlp2.weight"], p["mlp2.bias"]).Tanh();                  // [B, N, 6]
        return amax ? h.Max(1) : h.MaxWithIndices(1).Values;                         // [B, 6]
    }

    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr points, bool amax = false) =>
        Nn.Linear(GlobalFeature(p, points, amax), p["fc.weight"], p["fc.bias"]);

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr points, int[] labels, bool amax = false) =>
        Loss.CrossEntropy(Logits(p, points, amax), labels);

    // ---- the reference over doubles ----

    static double ReferenceLoss(Dictionary<string, double[]> w, double[] points, int clouds, int count, int[] labels)
    {
        double total = 0;
        for (int b = 0; b < clouds; b++)
        {
            var x = points[(b * count * 2)..((b + 1) * count * 2)];
            var h = Linear(x, count, 2, Hidden, w["mlp1.weight"], w["mlp1.bias"]).Select(Math.Tanh).ToArray();
            h = Linear(h, count, Hidden, Features, w["mlp2.weight"], w["mlp2.bias"]).Select(Math.Tanh).ToArray();
            var global = Enumerable.Range(0, Features).Select(f => Enumerable.Range(0, count).Max(n => h[n * Features + f])).ToArray();
            var z = Linear(global, 1, Features, Classes, w["fc.weight"], w["fc.bias"]);
            double m = z.Max();
            total += m + Math.Log(z.Sum(v => Math.Exp(v - m))) - z[labels[b]];
        }
        return total / clouds;
    }

    static Tensor Batch() => Tensor.FromArray(Cloud, Clouds, Points, 2);

    [Fact]
    public void CompiledTrainingIsTorchsAdamOnCentralDifferences()
    {
        var step = Diff.CompileValueAndGrad((p, d) => LossOf(p, d[0], Labels));
        var losses = CheckAdamSteps(step, new Adam(Model(), lr: Lr), Layout,
            flat => ReferenceLoss(Unflatten(Layout, flat), Cloud, Clouds, Points, Labels), [Batch()], Steps);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }

    [Fact]
    public void PermutingThePointsLeavesTheLogitsAndPermutesTheGradient()
    {
        int[] order = [3, 0, 4, 1, 2];
        var permuted = new double[Cloud.Length];
        for (int b = 0; b < Clouds; b++)
            for (int n = 0; n < Points; n++)
                for (int c = 0; c < 2; c++)
                    permuted[(b * Points + n) * 2 + c] = Cloud[(b * Points + order[n]) * 2 + c];
        var p = Model().AsExprs();
        Close(Logits(p, Batch()).Eval().ToDoubleArray(), Logits(p, Tensor.FromArray(permuted, Clouds, Points, 2)).Eval().ToDoubleArray(), 1e-15, "logits");

        var g = Diff.Grad(x => LossOf(p, x, Labels))(Batch()).Eval().ToDoubleArray();
        var gp = Diff.Grad(x => LossOf(p, x, Labels))(Tensor.FromArray(permuted, Clouds, Points, 2)).Eval().ToDoubleArray();
        for (int b = 0; b < Clouds; b++)
            for (int n = 0; n < Points; n++)
                for (int c = 0; c < 2; c++)
                    Close(g[(b * Points + order[n]) * 2 + c], gp[(b * Points + n) * 2 + c], 1e-15, $"cloud {b} point {n}");
        // and the gradient in the points is central differences of the reference
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        Close(Gradient(x => ReferenceLoss(w, x, Clouds, Points, Labels), Cloud), g, 1e-8, "point gradient");
    }

    [Fact]
    public void ARepeatedPointTakesTheWholeDerivativeOnceUnderMaxAndHalfOfItTwiceUnderAmax()
    {
        // one cloud of four distinct points, then the same cloud with point 1 repeated at position 3
        var distinct = Cloud[..8];
        double[] repeated = [.. distinct[..6], .. distinct[2..4], .. distinct[6..8]];
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        int[] label = [1];
        // without the copy there are no ties, so central differences give the derivative each copy shares
        var single = Gradient(x => ReferenceLoss(w, x, 1, 4, label), distinct);
        Assert.True(Math.Abs(single[2]) + Math.Abs(single[3]) > 1e-3, "point 1 is the largest in some feature");

        var p = Model().AsExprs();
        var input = Tensor.FromArray(repeated, 1, 5, 2);
        var viaMax = Diff.Grad(x => LossOf(p, x, label))(input).Eval().ToDoubleArray();
        var viaAmax = Diff.Grad(x => LossOf(p, x, label, amax: true))(input).Eval().ToDoubleArray();
        Close(LossOf(p, input, label).Eval().ToScalar(), LossOf(p, input, label, amax: true).Eval().ToScalar(), 0, "the same loss");
        // max(dim): the first of the tied points (index 1) takes it all, the copy none
        Close([.. single[..6], 0, 0, .. single[6..8]], viaMax, 1e-8, "max(dim)");
        // amax: shared evenly between the two copies
        Close([.. single[..2], single[2] / 2, single[3] / 2, .. single[4..6], single[2] / 2, single[3] / 2, .. single[6..8]], viaAmax, 1e-8, "amax");
    }
}
