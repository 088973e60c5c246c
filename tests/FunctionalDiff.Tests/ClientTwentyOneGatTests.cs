using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's two-layer graph attention network (PyG's GATConv written out, self-loops added): per head, the
/// projected features' scores <c>(h * att_src).sum(-1)</c> and <c>(h * att_dst).sum(-1)</c>, the edge logit
/// LeakyReLU(0.2) of the source's plus the destination's, a softmax over each node's incoming edges
/// (<see cref="Nn.SegmentSoftmax"/>, torch_geometric's <c>softmax(alpha, dst, num_nodes=n)</c>), the messages
/// <c>h[src] * alpha</c> summed into their destinations with <c>index_add</c>, heads concatenated and ELU, then a one-head
/// layer to the classes and cross-entropy over the labelled nodes, trained with Adam in a compiled step that takes the
/// edge lists as data. Held to the network written as loops over the edges with doubles, its gradient to central
/// differences of those loops, and Adam written out; the plain-torch spelling of the softmax (scatter_reduce "amax",
/// exp, index_add, gather) to the same loops.
/// </summary>
public class ClientTwentyOneGatTests
{
    const int Nodes = 6, Features = 4, Heads = 2, Hidden = 3, Classes = 3;
    // a small directed graph, then a self-loop at every node (PyG's add_self_loops)
    static readonly int[] Src = [0, 1, 1, 2, 3, 4, 5, 5, 2, 0, 0, 1, 2, 3, 4, 5];
    static readonly int[] Dst = [1, 0, 2, 1, 2, 3, 4, 3, 5, 2, 0, 1, 2, 3, 4, 5];
    static readonly int[] Labels = [0, 2, 1, 1, 0, 2];
    static readonly bool[] Train = [true, true, false, true, true, false];
    static readonly double[] X = Values(Nodes * Features, 7);
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("conv1.lin.weight", [Heads * Hidden, Features]), ("conv1.att_src", [Heads, Hidden]), ("conv1.att_dst", [Heads, Hidden]),
        ("conv1.bias", [Heads * Hidden]),
        ("conv2.lin.weight", [Classes, Heads * Hidden]), ("conv2.att_src", [1, Classes]), ("conv2.att_dst", [1, Classes]),
        ("conv2.bias", [Classes]),
    ];

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 40 + k).Select(v => 0.7 * v).ToArray(), e.Shape))).ToArray());

    /// <summary>One GATConv layer as the user writes it: x [n, in] to [n, heads * out].</summary>
    static Expr GatConv(Expr x, Expr src, Expr dst, Expr weight, Expr attSrc, Expr attDst, Expr bias, int heads, int outputs)
    {
        var h = Nn.Linear(x, weight).Reshape(-1, heads, outputs);                          // [n, H, F]
        var scoreSrc = (h * attSrc).Sum(-1);                                                // [n, H]
        var scoreDst = (h * attDst).Sum(-1);
        var logits = (scoreSrc.IndexSelect(0, src) + scoreDst.IndexSelect(0, dst)).LeakyRelu(0.2);  // [E, H]
        var alpha = Nn.SegmentSoftmax(logits, dst, Nodes);                                  // softmax(alpha, dst, num_nodes=n)
        var messages = h.IndexSelect(0, src) * alpha.Unsqueeze(-1);                          // [E, H, F]
        var aggregated = Expr.ZerosLike(h).IndexAdd(0, dst, messages);                       // out.index_add_(0, dst, msg)
        return aggregated.Reshape(-1, heads * outputs) + bias;
    }

    static Expr Loss(IReadOnlyDictionary<string, Expr> p, Expr x, Expr src, Expr dst, Expr labels, Expr train)
    {
        var h = GatConv(x, src, dst, p["conv1.lin.weight"], p["conv1.att_src"], p["conv1.att_dst"], p["conv1.bias"], Heads, Hidden).Elu();
        var logits = GatConv(h, src, dst, p["conv2.lin.weight"], p["conv2.att_src"], p["conv2.att_dst"], p["conv2.bias"], 1, Classes);
        return (FunctionalDiff.Loss.CrossEntropy(logits, labels, Reduction.None) * train).Sum() / train.Sum();
    }

    /// <summary>GATConv over doubles, loop by loop: the softmax of each node's incoming edges shifted by their maximum.</summary>
    static double[] ReferenceConv(double[] x, int inputs, Dictionary<string, double[]> w, string layer, int heads, int outputs)
    {
        var h = Linear(x, Nodes, inputs, heads * outputs, w[layer + ".lin.weight"], new double[heads * outputs]);
        double[] attSrc = w[layer + ".att_src"], attDst = w[layer + ".att_dst"], bias = w[layer + ".bias"];
        var result = new double[Nodes * heads * outputs];
        for (int k = 0; k < heads; k++)
        {
            double Score(int node, double[] att) => Enumerable.Range(0, outputs).Sum(f => h[node * heads * outputs + k * outputs + f] * att[k * outputs + f]);
            var logit = new double[Src.Length];
            for (int e = 0; e < Src.Length; e++)
            {
                double s = Score(Src[e], attSrc) + Score(Dst[e], attDst);
                logit[e] = s > 0 ? s : 0.2 * s;
            }
            for (int i = 0; i < Nodes; i++)
            {
                var incoming = Enumerable.Range(0, Src.Length).Where(e => Dst[e] == i).ToArray();
                double max = incoming.Max(e => logit[e]);
                double sum = incoming.Sum(e => Math.Exp(logit[e] - max));
                foreach (var e in incoming)
                    for (int f = 0; f < outputs; f++)
                        result[i * heads * outputs + k * outputs + f] += Math.Exp(logit[e] - max) / sum * h[Src[e] * heads * outputs + k * outputs + f];
            }
        }
        for (int i = 0; i < Nodes; i++)
            for (int c = 0; c < heads * outputs; c++) result[i * heads * outputs + c] += bias[c];
        return result;
    }

    static double Reference(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var hidden = ReferenceConv(X, Features, w, "conv1", Heads, Hidden).Select(v => v > 0 ? v : Math.Exp(v) - 1).ToArray();
        var logits = ReferenceConv(hidden, Heads * Hidden, w, "conv2", 1, Classes);
        return MaskedCrossEntropy(logits, Classes, Labels, Train);
    }

    static Tensor[] Data() =>
        [Tensor.FromArray(X, Nodes, Features), Tensor.FromArray(Src), Tensor.FromArray(Dst), Tensor.FromArray(Labels), Tensor.FromArray(Train, Nodes)];

    [Fact]
    public void CompiledAdamStepsFollowTheLoopsOverTheEdges()
    {
        var step = Diff.CompileValueAndGrad((p, d) => Loss(p, d[0], d[1], d[2], d[3], d[4]));
        var losses = CheckAdamSteps(step, new Adam(Model(), lr: 0.05), Layout, Reference, Data(), steps: 4);
        Assert.True(losses[^1] < losses[0], $"the loss falls: {string.Join(", ", losses)}");
    }

    /// <summary>Scores [E, H] normalised over each destination's edges, over doubles.</summary>
    static double[] ReferenceSegmentSoftmax(double[] scores, int[] segments, int heads)
    {
        var result = new double[scores.Length];
        for (int k = 0; k < heads; k++)
            foreach (var s in segments.Distinct())
            {
                var members = Enumerable.Range(0, segments.Length).Where(e => segments[e] == s).ToArray();
                double max = members.Max(e => scores[e * heads + k]);
                double sum = members.Sum(e => Math.Exp(scores[e * heads + k] - max));
                foreach (var e in members) result[e * heads + k] = Math.Exp(scores[e * heads + k] - max) / sum;
            }
        return result;
    }

    [Fact]
    public void SegmentSoftmaxIsTheSoftmaxOfEachSegmentAlongEitherAxis()
    {
        var scores = Values(Dst.Length * Heads, 3).Select(v => 5 * v).ToArray();
        var expected = ReferenceSegmentSoftmax(scores, Dst, Heads);
        Close(expected, Nn.SegmentSoftmax(Tensor.FromArray(scores, Dst.Length, Heads), Tensor.FromArray(Dst), Nodes).Eval().ToDoubleArray(), 1e-15, "[E, H]");
        // heads first: the index runs along axis 1 (torch_geometric's dim=1)
        var transposed = Tensor.FromArray(scores, Dst.Length, Heads).T;
        var alongAxis1 = Nn.SegmentSoftmax(transposed, Tensor.FromArray(Dst), Nodes, axis: -1).Eval();
        Close(expected, alongAxis1.T.ToDoubleArray(), 1e-15, "[H, E] along axis 1");
        // logits far beyond exp's range in both directions, and two segments no entry names (numSegments 9)
        var huge = scores.Select((v, i) => v + (i % 3 == 0 ? 900 : -900)).ToArray();
        Close(ReferenceSegmentSoftmax(huge, Dst, Heads),
            Nn.SegmentSoftmax(Tensor.FromArray(huge, Dst.Length, Heads), Tensor.FromArray(Dst), 9).Eval().ToDoubleArray(), 1e-15, "huge logits");
        // float32 keeps its dtype
        var single = Nn.SegmentSoftmax(Tensor.FromArray(scores, Dst.Length, Heads).To(DType.Float32), Tensor.FromArray(Dst), Nodes).Eval();
        Assert.Equal(DType.Float32, single.DType);
        Close(expected, single.ToDoubleArray(), 1e-6, "float32");
    }

    [Fact]
    public void SegmentSoftmaxDerivativesOfFirstAndSecondOrderAreFiniteDifferences()
    {
        var weights = Tensor.FromArray(Values(Dst.Length * Heads, 9), Dst.Length, Heads);
        var dst = Tensor.FromArray(Dst);
        Expr F(Expr s) => (Nn.SegmentSoftmax(s, dst, Nodes) * weights).Sum();
        var scores = Tensor.FromArray(Values(Dst.Length * Heads, 4), Dst.Length, Heads);
        // the gradient against central differences of the reference loop
        var flat = scores.ToDoubleArray();
        double Reference(double[] s) => ReferenceSegmentSoftmax(s, Dst, Heads).Zip(weights.ToDoubleArray(), (a, b) => a * b).Sum();
        Close(Gradient(Reference, flat), Diff.Grad(F)(scores).Eval().ToDoubleArray(), 1e-8, "gradient");
        // second order: the Hessian times a direction against central differences of the gradient
        var direction = Tensor.FromArray(Values(Dst.Length * Heads, 11), Dst.Length, Heads);
        double h = 1e-5;
        var up = Diff.Grad(F)(scores + h * direction).Eval().ToDoubleArray();
        var down = Diff.Grad(F)(scores - h * direction).Eval().ToDoubleArray();
        Close(up.Zip(down, (a, b) => (a - b) / (2 * h)).ToArray(), Diff.Hvp(F, scores, direction).Eval().ToDoubleArray(), 1e-7, "Hessian-vector product");
    }

    [Fact]
    public void ThePlainTorchSpellingWithScatterReduceAmaxIsTheSameSoftmax()
    {
        // what a torch user writes without torch_geometric
        var scores = Values(Dst.Length * Heads, 3).Select(v => 5 * v).ToArray();
        Expr s = Tensor.FromArray(scores, Dst.Length, Heads), dst = Tensor.FromArray(Dst);
        var index = dst.Unsqueeze(1).Expand(-1, Heads);
        var max = Expr.Zeros([Nodes, Heads]).ScatterReduce(0, index, s, "amax", includeSelf: false);
        var e = (s - max.IndexSelect(0, dst)).Exp();
        var sums = Expr.Zeros([Nodes, Heads]).IndexAdd(0, dst, e);
        Close(ReferenceSegmentSoftmax(scores, Dst, Heads), (e / sums.IndexSelect(0, dst)).Eval().ToDoubleArray(), 1e-15, "plain spelling");
    }

    [Fact]
    public void SegmentSoftmaxErrorsNameTheMethodAndTheShapes()
    {
        Expr s = Tensor.Zeros(4, 2);
        Assert.StartsWith("SegmentSoftmax: index [3] must be rank 1 with one segment id per entry along axis 0 of input [4,2]",
            Assert.ThrowsAny<ArgumentException>(() => Nn.SegmentSoftmax(s, Tensor.FromArray([0, 1, 1]), 2)).Message);
        Assert.StartsWith("SegmentSoftmax: index 2 (entry 3 of index [4]) is not a segment id below numSegments 2 (input [4,2])",
            Assert.ThrowsAny<ArgumentException>(() => Nn.SegmentSoftmax(s, Tensor.FromArray([0, 1, 1, 2]), 2)).Message);
        Assert.StartsWith("SegmentSoftmax: input [] has no axis",
            Assert.ThrowsAny<ArgumentException>(() => Nn.SegmentSoftmax(Tensor.FromArray([1.0]).Sum(), Tensor.FromArray([0]), 1)).Message);
        Assert.Equal("index", Assert.Throws<ArgumentNullException>(() => Nn.SegmentSoftmax(s, null!, 2)).ParamName);
    }
}
