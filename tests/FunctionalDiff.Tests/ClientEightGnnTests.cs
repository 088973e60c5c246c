using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A two-layer GCN on a small graph given as an edge list, ported from PyTorch as a user writes it without PyG:
/// self-loops added, degrees by index_add of ones, the symmetric normalisation deg^−½[src]·deg^−½[dst], messages
/// gathered by source index (index_select), summed into their destinations (index_add / scatter_add), and a
/// node-classification cross-entropy over the labelled nodes. The forward pass is compared with a loop over the edges
/// written in this file, and every gradient with central differences of that loop.
/// </summary>
public class ClientEightGnnTests
{
    const int Nodes = 6, Features = 3, Hidden = 4, Classes = 3;

    // an undirected graph, both directions listed, as PyG's edge_index; then a self-loop per node
    static readonly int[] Sources = [0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 0, 2, 0, 1, 2, 3, 4, 5];
    static readonly int[] Targets = [1, 0, 2, 1, 3, 2, 4, 3, 5, 4, 2, 0, 0, 1, 2, 3, 4, 5];
    static readonly int[] Labels = [0, 1, 2, 0, 1, 2];
    static readonly int[] TrainNodes = [0, 2, 3, 5];

    static Tensor Source => Tensor.FromArray(Sources);
    static Tensor Target => Tensor.FromArray(Targets);

    static Parameters Model() => Parameters.Of(
        ("conv1.weight", 0.8 * Tensor.RandomNormal([Hidden, Features], seed: 1)), ("conv1.bias", 0.1 * Tensor.RandomNormal([Hidden], seed: 2)),
        ("conv2.weight", 0.8 * Tensor.RandomNormal([Classes, Hidden], seed: 3)), ("conv2.bias", 0.1 * Tensor.RandomNormal([Classes], seed: 4)));

    static Tensor NodeFeatures() => Tensor.RandomNormal([Nodes, Features], seed: 9);

    // ---- what a torch user writes (index_add_ spelled with ScatterAdd and an expanded index, as torch's scatter_add) ----

    static Expr GcnConvScatter(Expr x, Expr weight, Expr bias, Expr src, Expr dst)
    {
        var h = Nn.Linear(x, weight);                                               // x W^T
        var ones = Expr.OnesLike(dst);
        var degree = Expr.ScatterAdd(0, dst, ones, [Nodes]);                        // deg = zeros(N).scatter_add_(0, dst, ones)
        var inverseRoot = degree.Pow(-0.5);
        var norm = inverseRoot.IndexSelect(0, src) * inverseRoot.IndexSelect(0, dst);
        var messages = h.IndexSelect(0, src) * norm.Unsqueeze(-1);                  // h[src] * norm[:, None]
        var index = dst.Unsqueeze(-1).Expand(-1, h.Shape[1]);                       // dst[:, None].expand(-1, F)
        return Expr.ScatterAdd(0, index, messages, h.Shape) + bias;                 // zeros_like(h).scatter_add_(0, index, msg)
    }

    // the same with torch's index_add: zeros(N).index_add_(0, dst, ones) and zeros_like(h).index_add_(0, dst, msg)
    static Expr GcnConvIndexAdd(Expr x, Expr weight, Expr bias, Expr src, Expr dst)
    {
        var h = Nn.Linear(x, weight);
        var degree = Expr.Zeros([Nodes], x.DType).IndexAdd(0, dst, Expr.OnesLike(dst));
        var norm = (degree.IndexSelect(0, src) * degree.IndexSelect(0, dst)).Rsqrt();
        var messages = h.IndexSelect(0, src) * norm.Unsqueeze(-1);
        return Expr.ZerosLike(h).IndexAdd(0, dst, messages) + bias;
    }

    static Func<Expr, Expr, Expr, Expr, Expr, Expr> Conv(string form) => form == "scatter_add" ? GcnConvScatter : GcnConvIndexAdd;

    public static TheoryData<string> Forms => new() { "scatter_add", "index_add" };

    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr x, Func<Expr, Expr, Expr, Expr, Expr, Expr> conv, Expr src, Expr dst)
    {
        var h = conv(x, p["conv1.weight"], p["conv1.bias"], src, dst).Relu();
        return conv(h, p["conv2.weight"], p["conv2.bias"], src, dst);
    }

    static Expr NodeLoss(Expr logits) =>
        Loss.CrossEntropy(logits.IndexSelect(0, Tensor.FromArray(TrainNodes)), Tensor.FromArray(TrainNodes.Select(i => (double)Labels[i]).ToArray()));

    // ---- the same network as a loop over edges ----

    static double[] ReferenceConv(double[] x, int inputs, int outputs, double[] w, double[] b)
    {
        var h = new double[Nodes * outputs];
        for (int n = 0; n < Nodes; n++)
            for (int o = 0; o < outputs; o++)
                for (int i = 0; i < inputs; i++) h[n * outputs + o] += x[n * inputs + i] * w[o * inputs + i];
        var degree = new double[Nodes];
        foreach (var t in Targets) degree[t] += 1;
        var y = new double[Nodes * outputs];
        for (int n = 0; n < Nodes; n++)
            for (int o = 0; o < outputs; o++) y[n * outputs + o] = b[o];
        for (int e = 0; e < Sources.Length; e++)
        {
            int s = Sources[e], t = Targets[e];
            double norm = 1 / Math.Sqrt(degree[s] * degree[t]);
            for (int o = 0; o < outputs; o++) y[t * outputs + o] += norm * h[s * outputs + o];
        }
        return y;
    }

    static double[] ReferenceLogits(Dictionary<string, double[]> p, double[] x)
    {
        var h = ReferenceConv(x, Features, Hidden, p["conv1.weight"], p["conv1.bias"]).Select(v => Math.Max(v, 0)).ToArray();
        return ReferenceConv(h, Hidden, Classes, p["conv2.weight"], p["conv2.bias"]);
    }

    static double ReferenceLoss(Dictionary<string, double[]> p, double[] x)
    {
        var logits = ReferenceLogits(p, x);
        double total = 0;
        foreach (var n in TrainNodes)
        {
            var row = logits.Skip(n * Classes).Take(Classes).ToArray();
            double max = row.Max();
            total += max + Math.Log(row.Sum(v => Math.Exp(v - max))) - row[Labels[n]];
        }
        return total / TrainNodes.Length;
    }

    static Dictionary<string, double[]> Doubles(IReadOnlyDictionary<string, Tensor> p) => p.ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubleArray());

    [Theory]
    [MemberData(nameof(Forms))]
    public void GcnForwardIsTheEdgeLoopAndItsGradientsAreCentralDifferences(string form)
    {
        var conv = Conv(form);
        var model = Model();
        var x = NodeFeatures();
        var doubles = Doubles(model);

        var logits = Logits(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), x, conv, Source, Target).Eval();
        Assert.Equal([Nodes, Classes], logits.Shape);
        Close(ReferenceLogits(doubles, x.ToDoubleArray()), logits.ToDoubleArray(), 1e-13, "logits");

        var (loss, gradients) = Diff.ValueAndGrad(p => NodeLoss(Logits(p, x, conv, Source, Target)), model);
        var values = Expr.EvalMany([loss, .. model.Names.Select(n => gradients[n])]);
        Close(ReferenceLoss(doubles, x.ToDoubleArray()), values[0].ToScalar(), 1e-13, "loss");
        for (int i = 0; i < model.Count; i++)
        {
            var name = model.Names[i];
            var expected = Gradient(v => ReferenceLoss(new Dictionary<string, double[]>(doubles) { [name] = v }, x.ToDoubleArray()), doubles[name]);
            Close(expected, values[i + 1].ToDoubleArray(), 1e-7, $"{form} {name}");
        }

        // the node features' gradient too: messages reach a node's neighbours, so its gradient has every node's share
        var gx = Diff.Grad(v => NodeLoss(Logits(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), v, conv, Source, Target)))(x).Eval();
        Close(Gradient(v => ReferenceLoss(doubles, v), x.ToDoubleArray()), gx.ToDoubleArray(), 1e-7, "x");
    }

    [Theory]
    [MemberData(nameof(Forms))]
    public void CompiledAdamTrainingOfTheGcnTakesTheEdgeListAsDataAndFitsTheLabels(string form)
    {
        var conv = Conv(form);
        var step = Diff.CompileValueAndGrad((p, data) => NodeLoss(Logits(p, data[0], conv, data[1], data[2])));
        var adam = new Adam(Model(), lr: 0.05);
        var x = NodeFeatures();
        var losses = new List<double>();
        for (int i = 0; i < 60; i++)
        {
            var before = adam.Parameters;
            var (loss, gradients) = step.Invoke(before, x, Source, Target);
            Close(ReferenceLoss(Doubles(before), x.ToDoubleArray()), loss.ToScalar(), 1e-12, $"loss at step {i}");
            if (i % 20 == 0)
                foreach (var name in before.Names)
                {
                    var doubles = Doubles(before);
                    var expected = Gradient(v => ReferenceLoss(new Dictionary<string, double[]>(doubles) { [name] = v }, x.ToDoubleArray()), doubles[name]);
                    Close(expected, gradients[name].ToDoubleArray(), 1e-7, $"{name} at step {i}");
                }
            losses.Add(loss.ToScalar());
            adam.Step(gradients);
        }
        Assert.Equal(1, step.TraceCount);
        Assert.True(losses[^1] < 0.5 * losses[0], string.Join(", ", losses));
    }
    // ---- the README's example ----

    [Fact]
    public void TheReadmeShowsExactlyTheGcnExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/GcnReadme.cs", "### A GAN, a GCN and REINFORCE");

    /// <summary>The README's two-layer GCN written as a loop over any edge list, with its mean cross-entropy.</summary>
    static double ReadmeReferenceLoss(Dictionary<string, double[]> p, double[] x, int[] src, int[] dst, int[] labels, int nodes)
    {
        double[] Conv(double[] input, int inputs, int outputs, double[] w, double[] b)
        {
            var h = new double[nodes * outputs];
            for (int n = 0; n < nodes; n++)
                for (int o = 0; o < outputs; o++)
                    for (int i = 0; i < inputs; i++) h[n * outputs + o] += input[n * inputs + i] * w[o * inputs + i];
            var degree = new double[nodes];
            foreach (var t in dst) degree[t] += 1;
            var y = new double[nodes * outputs];
            for (int n = 0; n < nodes; n++)
                for (int o = 0; o < outputs; o++) y[n * outputs + o] = b[o];
            for (int e = 0; e < src.Length; e++)
                for (int o = 0; o < outputs; o++)
                    y[dst[e] * outputs + o] += h[src[e] * outputs + o] / Math.Sqrt(degree[src[e]] * degree[dst[e]]);
            return y;
        }
        int features = x.Length / nodes, hidden = p["conv1.bias"].Length, classes = p["conv2.bias"].Length;
        var a = Conv(x, features, hidden, p["conv1.weight"], p["conv1.bias"]).Select(v => Math.Max(v, 0)).ToArray();
        var logits = Conv(a, hidden, classes, p["conv2.weight"], p["conv2.bias"]);
        double total = 0;
        for (int n = 0; n < nodes; n++)
        {
            var row = logits.Skip(n * classes).Take(classes).ToArray();
            double max = row.Max();
            total += max + Math.Log(row.Sum(v => Math.Exp(v - max))) - row[labels[n]];
        }
        return total / nodes;
    }

    [Fact]
    public void TheReadmeGcnsFirstLossIsTheEdgeLoopsAndAdamLowersIt()
    {
        var r = GcnReadme.Run();
        var labels = r.Labels.ToDoubleArray().Select(v => (int)v).ToArray();
        var x = r.X.ToDoubleArray();
        Close(ReadmeReferenceLoss(Doubles(r.Initial), x, r.Sources, r.Targets, labels, 4), r.Losses[0], 1e-13, "first loss");
        double final = ReadmeReferenceLoss(Doubles(r.Final), x, r.Sources, r.Targets, labels, 4);
        Assert.True(final < 0.8 * r.Losses[0], $"loss {r.Losses[0]} -> {final}");
        Assert.Equal(50, r.Losses.Count);
    }
}

