using FunctionalDiff.Core;
using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch's <c>nn.MultiheadAttention(embed_dim, num_heads)</c> ported as one call, <see cref="Nn.MultiheadAttention"/>,
/// held to torch's <c>F.multi_head_attention_forward</c> written here as loops over doubles (packed in-projection, heads,
/// scaled scores, boolean masks with True = ignore, a float mask, causal masking, softmax, heads merged, out-projection),
/// its gradients to central differences of those loops and its second order to finite differences; and a shape error
/// raised again with more context (a Scan's step) keeping the original as its InnerException.
/// </summary>
public class ClientSixteenAttentionTests
{
    const int N = 2, L = 3, S = 4, E = 4, H = 2;

    /// <summary>
    /// torch's multi-head attention over batch-first doubles q [N, L, E], k and v [N, S, E]. A key is left out where
    /// keyPadding[n, j], mask[i, j] or (causal and j &gt; i) is true; bias [L, S] is added to the scores. A row with no
    /// key left gets zero weights (where torch's softmax gives NaN). Returns the output [N, L, E] and the weights per
    /// head [N, H, L, S].
    /// </summary>
    static (double[] Output, double[] Weights) Reference(double[] q, double[] k, double[] v, double[] win, double[] bin,
        double[] wout, double[] bout, bool[]? keyPadding, bool[]? mask, double[]? bias, bool causal, int l = L, int s = S)
    {
        int d = E / H;
        double[] Project(double[] x, int rows, int part)
        {
            var y = new double[N * rows * E];
            for (int n = 0; n < N; n++)
                for (int t = 0; t < rows; t++)
                    for (int o = 0; o < E; o++)
                    {
                        double sum = bin[part * E + o];
                        for (int i = 0; i < E; i++) sum += x[(n * rows + t) * E + i] * win[(part * E + o) * E + i];
                        y[(n * rows + t) * E + o] = sum;
                    }
            return y;
        }
        var pq = Project(q, l, 0);
        var pk = Project(k, s, 1);
        var pv = Project(v, s, 2);
        var weights = new double[N * H * l * s];
        var merged = new double[N * l * E];
        for (int n = 0; n < N; n++)
            for (int h = 0; h < H; h++)
                for (int i = 0; i < l; i++)
                {
                    var scores = new double[s];
                    bool any = false;
                    for (int j = 0; j < s; j++)
                    {
                        bool ignored = (keyPadding?[n * s + j] ?? false) || (mask?[i * s + j] ?? false) || (causal && j > i);
                        if (ignored) { scores[j] = double.NegativeInfinity; continue; }
                        double dot = 0;
                        for (int c = 0; c < d; c++) dot += pq[(n * l + i) * E + h * d + c] * pk[(n * s + j) * E + h * d + c];
                        scores[j] = dot / Math.Sqrt(d) + (bias?[i * s + j] ?? 0.0);
                        any = true;
                    }
                    if (!any) continue;
                    double max = scores.Max();
                    double total = scores.Sum(z => Math.Exp(z - max));
                    for (int j = 0; j < s; j++)
                    {
                        double w = Math.Exp(scores[j] - max) / total;
                        weights[((n * H + h) * l + i) * s + j] = w;
                        for (int c = 0; c < d; c++) merged[(n * l + i) * E + h * d + c] += w * pv[(n * s + j) * E + h * d + c];
                    }
                }
        var output = new double[N * l * E];
        for (int n = 0; n < N; n++)
            for (int i = 0; i < l; i++)
                for (int o = 0; o < E; o++)
                {
                    double sum = bout[o];
                    for (int c = 0; c < E; c++) sum += merged[(n * l + i) * E + c] * wout[o * E + c];
                    output[(n * l + i) * E + o] = sum;
                }
        return (output, weights);
    }

    /// <summary>[N, T, E] laid out as [T, N, E] (torch's default, batch_first=False), and back.</summary>
    static double[] SwapFirstTwo(double[] x, int a, int b)
    {
        var y = new double[x.Length];
        int e = x.Length / (a * b);
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                for (int c = 0; c < e; c++) y[(j * a + i) * e + c] = x[(i * b + j) * e + c];
        return y;
    }

    static double[] AverageHeads(double[] perHead, int l = L, int s = S)
    {
        var avg = new double[N * l * s];
        for (int n = 0; n < N; n++)
            for (int h = 0; h < H; h++)
                for (int r = 0; r < l * s; r++) avg[n * l * s + r] += perHead[(n * H + h) * l * s + r] / H;
        return avg;
    }

    // batch entry 1 has every key padded: each of its queries attends to nothing
    static readonly bool[] AllPaddedSecond = { false, false, true, false, true, true, true, true };
    static readonly bool[] Ignore = { false, true, false, false, false, false, false, true, false, false, false, false };

    static readonly Tensor Q = T([N, L, E], 1), K = T([N, S, E], 2), V = T([N, S, E], 3);
    static readonly Tensor Win = T([3 * E, E], 4) * 0.6, Bin = T([3 * E], 5) * 0.3, Wout = T([E, E], 6) * 0.7, Bout = T([E], 7) * 0.2;

    [Fact]
    public void SequenceFirstWithPaddingAndAMaskIsTorchsAndAFullyPaddedEntryGetsZeroWeights()
    {
        var (expected, perHead) = Reference(Q.ToDoubleArray(), K.ToDoubleArray(), V.ToDoubleArray(), Win.ToDoubleArray(),
            Bin.ToDoubleArray(), Wout.ToDoubleArray(), Bout.ToDoubleArray(), AllPaddedSecond, Ignore, null, false);
        // torch's default layout: [L, N, E]
        var (output, weights) = Nn.MultiheadAttention(Q.Transpose(0, 1), K.Transpose(0, 1), V.Transpose(0, 1), H,
            Win, Bin, Wout, Bout, keyPaddingMask: Tensor.FromArray(AllPaddedSecond, N, S), attnMask: Tensor.FromArray(Ignore, L, S));
        var o = output.Eval();
        Assert.Equal(new[] { L, N, E }, o.Shape);
        Close(SwapFirstTwo(expected, N, L), o.ToDoubleArray(), 1e-12, "output");
        Assert.Equal(new[] { N, L, S }, weights!.Shape);
        Close(AverageHeads(perHead), weights.Eval().ToDoubleArray(), 1e-12, "averaged weights");
        // the padded entry's rows: zero weights, so the output is the out-projection's bias, where torch gives NaN
        var rows = o.ToDoubleArray();
        for (int i = 0; i < L; i++)
            Close(Bout.ToDoubleArray(), rows[(((i * N) + 1) * E)..(((i * N) + 2) * E)], 1e-15, $"padded row {i}");

        var separate = Nn.MultiheadAttention(Q, K, V, H, Win, Bin, Wout, Bout, keyPaddingMask: Tensor.FromArray(AllPaddedSecond, N, S),
            attnMask: Tensor.FromArray(Ignore, L, S), averageAttnWeights: false, batchFirst: true);
        Assert.Equal(new[] { N, H, L, S }, separate.Weights!.Shape);
        Close(perHead, separate.Weights.Eval().ToDoubleArray(), 1e-12, "weights per head");
        Close(expected, separate.Output.Eval().ToDoubleArray(), 1e-12, "batch-first output");
        Assert.Null(Nn.MultiheadAttention(Q, K, V, H, Win, Bin, Wout, Bout, needWeights: false, batchFirst: true).Weights);
    }

    [Fact]
    public void CausalWithAFloatMaskPerHeadAndNoBiasIsTorchs()
    {
        var bias = Values(L * S, 8);
        var zeros = new double[3 * E];
        var (expected, perHead) = Reference(Q.ToDoubleArray(), K.ToDoubleArray(), V.ToDoubleArray(), Win.ToDoubleArray(),
            zeros, Wout.ToDoubleArray(), new double[E], null, null, bias, true);
        // torch's 3-D float mask: one [L, S] per (batch, head), here the same one repeated
        var stacked = Tensor.FromArray(Enumerable.Repeat(bias, N * H).SelectMany(b => b).ToArray(), N * H, L, S);
        var r = Nn.MultiheadAttention(Q, K, V, H, Win, null, Wout, null, attnBias: stacked, isCausal: true, batchFirst: true);
        Close(expected, r.Output.Eval().ToDoubleArray(), 1e-12, "output");
        Close(AverageHeads(perHead), r.Weights!.Eval().ToDoubleArray(), 1e-12, "weights");
    }

    [Fact]
    public void UnbatchedIsTheBatchOfOne()
    {
        var q = T([L, E], 9);
        var k = T([S, E], 10);
        var v = T([S, E], 11);
        var r = Nn.MultiheadAttention(q, k, v, H, Win, Bin, Wout, Bout, averageAttnWeights: false);
        var batched = Nn.MultiheadAttention(q.Reshape(1, L, E), k.Reshape(1, S, E), v.Reshape(1, S, E), H, Win, Bin, Wout, Bout,
            averageAttnWeights: false, batchFirst: true);
        Assert.Equal(new[] { L, E }, r.Output.Shape);
        Assert.Equal(new[] { H, L, S }, r.Weights!.Shape);
        Close(batched.Output.Eval().ToDoubleArray(), r.Output.Eval().ToDoubleArray(), 0, "output");
        Close(batched.Weights!.Eval().ToDoubleArray(), r.Weights.Eval().ToDoubleArray(), 0, "weights");
    }

    // Σ c ⊙ output + Σ c' ⊙ weights, a scalar that reads both results
    static readonly double[] OutputCoefficients = Values(N * L * E, 12), WeightCoefficients = Values(N * L * S, 13);

    static double ReferenceLoss(double[] q, double[] win)
    {
        var (o, w) = Reference(q, K.ToDoubleArray(), V.ToDoubleArray(), win, Bin.ToDoubleArray(), Wout.ToDoubleArray(),
            Bout.ToDoubleArray(), AllPaddedSecond, Ignore, null, true);
        var avg = AverageHeads(w);
        return o.Select((x, i) => x * OutputCoefficients[i]).Sum() + avg.Select((x, i) => x * WeightCoefficients[i]).Sum();
    }

    static Expr Loss(Expr q, Expr win)
    {
        var (o, w) = Nn.MultiheadAttention(q, K, V, H, win, Bin, Wout, Bout, keyPaddingMask: Tensor.FromArray(AllPaddedSecond, N, S),
            attnMask: Tensor.FromArray(Ignore, L, S), isCausal: true, batchFirst: true);
        return (o * Tensor.FromArray(OutputCoefficients, N, L, E)).Sum() + (w! * Tensor.FromArray(WeightCoefficients, N, L, S)).Sum();
    }

    [Fact]
    public void GradientsAreCentralDifferencesOfTorchsLoops()
    {
        var grads = Diff.Grad((Expr q, Expr w) => Loss(q, w));
        var (gq, gw) = grads(Q, Win);
        var win = Win.ToDoubleArray();
        var q = Q.ToDoubleArray();
        Close(Gradient(x => ReferenceLoss(x, win), q), gq.Eval().ToDoubleArray(), 1e-7, "d/dquery");
        Close(Gradient(x => ReferenceLoss(q, x), win), gw.Eval().ToDoubleArray(), 1e-7, "d/dinProjWeight");
    }

    [Fact]
    public void SecondOrderMatchesFiniteDifferences()
    {
        var inQuery = Diff.CheckGrad(q => Loss(q, Win), Q, order: 2);
        Assert.True(inQuery.Passed, inQuery.Message);
        var inWeight = Diff.CheckGrad(w => Loss(Q, w), Win, order: 2);
        Assert.True(inWeight.Passed, inWeight.Message);
    }

    [Fact]
    public void ErrorsNameTheMethodTheParameterAndTheShapes()
    {
        ArgumentException Refused(Action call)
        {
            var e = Assert.ThrowsAny<ArgumentException>(call);
            Assert.StartsWith("MultiheadAttention: ", e.Message);
            return e;
        }
        var e1 = Refused(() => Nn.MultiheadAttention(Q, T([N, S, 3]), V, H, Win, Bin, Wout, Bout, batchFirst: true));
        Assert.Contains("key [2,4,3]", e1.Message);
        var e2 = Refused(() => Nn.MultiheadAttention(Q, K, V, 3, Win, Bin, Wout, Bout, batchFirst: true));
        Assert.Contains("numHeads 3 does not divide the embedding dimension E = 4", e2.Message);
        var e3 = Refused(() => Nn.MultiheadAttention(Q, K, V, H, T([E, 3 * E]), Bin, Wout, Bout, batchFirst: true));
        Assert.Contains("inProjWeight [4,12] must be [3E, E] = [12,4]", e3.Message);
        var e4 = Refused(() => Nn.MultiheadAttention(Q, K, V, H, Win, Bin, Wout, Bout, keyPaddingMask: Tensor.FromArray(AllPaddedSecond, S, N), batchFirst: true));
        Assert.Contains("keyPaddingMask [4,2] must be [N, S] = [2,4]", e4.Message);
        var e5 = Refused(() => Nn.MultiheadAttention(Q, K, V, H, Win, Bin, Wout, Bout, attnMask: Tensor.FromArray(Ignore, S, L), batchFirst: true));
        Assert.Contains("attnMask [4,3] must be [L, S] = [3,4] or [N·numHeads, L, S] = [4,3,4]", e5.Message);
        // torch's float mask of 0 and −inf where the boolean one goes
        var additive = Tensor.FromArray(Ignore.Select(b => b ? double.NegativeInfinity : 0.0).ToArray(), L, S);
        var e6 = Refused(() => Nn.MultiheadAttention(Q, K, V, H, Win, Bin, Wout, Bout, attnMask: additive, batchFirst: true));
        Assert.Contains("goes in attnBias", e6.Message);
        // in torch's default layout [L, N, E] the batch is axis 1: Q is read as [L 2, N 3, E]
        var e7 = Refused(() => Nn.MultiheadAttention(Q, T([S, 5, E]), T([S, 5, E]), H, Win, Bin, Wout, Bout));
        Assert.Contains("share the batch N (layout [L, N, E])", e7.Message);
        var e8 = Assert.Throws<ArgumentOutOfRangeException>(() => Nn.MultiheadAttention(Q, K, V, 0, Win, Bin, Wout, Bout));
        Assert.Equal("numHeads", e8.ParamName);
    }

    [Fact]
    public void AShapeErrorInsideScansStepKeepsTheOriginalAsItsInnerException()
    {
        // batch-first xs [batch 2, time 5, features 3] where Scan steps along axis 0
        var xs = T([2, 5, 3]);
        var w = T([3, 4], 1);
        var e = Assert.Throws<ShapeException>(() =>
            Expr.Scan((h, x) => { var next = (x.MatMul(w) + h).Tanh(); return (next, next); }, Tensor.Zeros(2, 4), xs));
        Assert.Contains("Expr.Scan's step", e.Message);
        Assert.Contains("carry [2,4]", e.Message);
        var inner = Assert.IsType<ShapeException>(e.InnerException);
        Assert.StartsWith("Add: ", inner.Message);
        Assert.Contains("[5,4] and [2,4]", inner.Message);
        Assert.StartsWith(inner.Message, e.Message);
        Assert.Contains("Scan", inner.StackTrace ?? "");
    }

    [Fact]
    public void ARenamedShapeErrorKeepsTheCoresAsItsInnerException()
    {
        // Tensor's < is the core's Less: the facade restates the core's error under the method the caller wrote
        var e = Assert.ThrowsAny<ArgumentException>(() => T([2, 3]) < T([4]));
        Assert.StartsWith("Lt: ", e.Message);
        var inner = Assert.IsAssignableFrom<ArgumentException>(e.InnerException);
        Assert.DoesNotContain("Lt: ", inner.Message);
    }
}
