using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's <c>nn.TransformerEncoderLayer(d, heads, ff, dropout=0.1, activation="gelu", batch_first=True)</c>
/// written out: a fused in-projection split into heads, <c>F.scaled_dot_product_attention</c> with a causal mask, a key
/// padding mask (torch's True = padded, here a 0/1 tensor turned into where each query may attend) and dropout on the
/// weights, the out-projection, post-norm residuals with LayerNorm, an exact-GELU feed-forward, dropout with its masks'
/// noise passed in each step, and a loss over the positions that are not padding; trained with AdamW under a linear
/// warmup. Held to the same block over doubles (attention, LayerNorm and GELU as loops, central differences, torch's
/// AdamW and the schedule written out).
/// </summary>
public class ClientFifteenTransformerTests
{
    const int N = 2, T = 4, Dm = 4, Heads = 2, Ff = 8, Steps = 3, Warmup = 2;
    const double P = 0.1, Peak = 0.01, Decay = 0.01;
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("in_proj_weight", [3 * Dm, Dm]), ("in_proj_bias", [3 * Dm]), ("out_proj.weight", [Dm, Dm]), ("out_proj.bias", [Dm]),
        ("norm1.weight", [Dm]), ("norm1.bias", [Dm]), ("linear1.weight", [Ff, Dm]), ("linear1.bias", [Ff]),
        ("linear2.weight", [Dm, Ff]), ("linear2.bias", [Dm]), ("norm2.weight", [Dm]), ("norm2.bias", [Dm]),
    ];

    static Parameters InitialModel() => Parameters.Of(Layout.Select((e, i) =>
        (e.Name, e.Name.StartsWith("norm") && e.Name.EndsWith("weight") ? 1 + 0.1 * Tensor.RandomNormal(e.Shape, seed: 40 + i)
            : e.Shape.Length == 2 ? Init.XavierUniform(e.Shape, seed: 40 + i) : 0.1 * Tensor.RandomNormal(e.Shape, seed: 40 + i))).ToArray());

    static readonly double[] Padding = [0, 0, 0, 0, 0, 0, 1, 1];      // torch's key_padding_mask: sequence 1 ends in two pads
    static Tensor Input => Tensor.RandomNormal([N, T, Dm], seed: 60);
    static Tensor Target => Tensor.RandomNormal([N, T, Dm], seed: 61);
    static (Tensor Attention, Tensor First, Tensor Second) Noise(int step) =>
        (Tensor.RandomUniform([N, Heads, T, T], seed: 70 + step), Tensor.RandomUniform([N, T, Dm], seed: 80 + step),
         Tensor.RandomUniform([N, T, Dm], seed: 90 + step));

    // ---- the client ----

    static Expr Block(IReadOnlyDictionary<string, Expr> p, Expr x, Expr padding, Expr attentionNoise, Expr noise1, Expr noise2)
    {
        var qkv = Nn.Linear(x, p["in_proj_weight"], p["in_proj_bias"]).Chunk(3, -1);
        Expr Split(Expr h) => h.Reshape(N, T, Heads, Dm / Heads).Transpose(1, 2);          // [N, heads, T, d / heads]
        var mayAttend = (1.0 - padding).Reshape(N, 1, 1, T);                                 // key_padding_mask, inverted
        var attended = Nn.ScaledDotProductAttention(Split(qkv[0]), Split(qkv[1]), Split(qkv[2]), attnMask: mayAttend,
            dropoutP: P, isCausal: true, dropoutNoise: attentionNoise);
        var selfAttention = Nn.Linear(attended.Transpose(1, 2).Reshape(N, T, Dm), p["out_proj.weight"], p["out_proj.bias"]);
        x = Nn.LayerNorm(x + Nn.Dropout(selfAttention, P, noise1), [Dm], p["norm1.weight"], p["norm1.bias"]);
        var feedForward = Nn.Linear(Nn.Linear(x, p["linear1.weight"], p["linear1.bias"]).Gelu(), p["linear2.weight"], p["linear2.bias"]);
        return Nn.LayerNorm(x + Nn.Dropout(feedForward, P, noise2), [Dm], p["norm2.weight"], p["norm2.bias"]);
    }

    /// <summary>The squared error over the positions that are not padding, averaged over them and the features.</summary>
    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr[] b)
    {
        var kept = (1.0 - b[1]).Unsqueeze(-1);                                                // [N, T, 1]
        return ((Block(p, b[0], b[1], b[2], b[3], b[4]) - b[5]).Square() * kept).Sum() / (kept.Sum() * Dm);
    }

    // ---- the same block over doubles ----

    static double[] LayerNorm(double[] x, double[] w, double[] b)
    {
        var y = new double[x.Length];
        for (int r = 0; r < x.Length / Dm; r++)
        {
            var row = x.Skip(r * Dm).Take(Dm).ToArray();
            double mean = row.Average(), variance = row.Select(v => (v - mean) * (v - mean)).Average();
            for (int k = 0; k < Dm; k++) y[r * Dm + k] = (row[k] - mean) / Math.Sqrt(variance + 1e-5) * w[k] + b[k];
        }
        return y;
    }

    static double[] Dropped(double[] x, double[] noise) => x.Select((v, i) => noise[i] >= P ? v / (1 - P) : 0).ToArray();

    static double ReferenceLoss(Dictionary<string, double[]> p, double[] x, double[] attentionNoise, double[] noise1, double[] noise2, double[] target)
    {
        int rows = N * T, dh = Dm / Heads;
        var qkv = Linear(x, rows, Dm, 3 * Dm, p["in_proj_weight"], p["in_proj_bias"]);
        var merged = new double[rows * Dm];
        for (int n = 0; n < N; n++)
            for (int h = 0; h < Heads; h++)
                for (int i = 0; i < T; i++)
                {
                    // query i may attend key j ≤ i that is not padding
                    var allowed = Enumerable.Range(0, i + 1).Where(j => Padding[n * T + j] == 0).ToArray();
                    double Q(int k) => qkv[(n * T + i) * 3 * Dm + h * dh + k];
                    var scores = allowed.Select(j => Enumerable.Range(0, dh).Sum(k => Q(k) * qkv[(n * T + j) * 3 * Dm + Dm + h * dh + k]) / Math.Sqrt(dh)).ToArray();
                    double top = scores.Max(), total = scores.Sum(s => Math.Exp(s - top));
                    for (int a = 0; a < allowed.Length; a++)
                    {
                        int j = allowed[a];
                        double weight = Math.Exp(scores[a] - top) / total;
                        weight = attentionNoise[((n * Heads + h) * T + i) * T + j] >= P ? weight / (1 - P) : 0;
                        for (int k = 0; k < dh; k++) merged[(n * T + i) * Dm + h * dh + k] += weight * qkv[(n * T + j) * 3 * Dm + 2 * Dm + h * dh + k];
                    }
                }
        var selfAttention = Dropped(Linear(merged, rows, Dm, Dm, p["out_proj.weight"], p["out_proj.bias"]), noise1);
        var x1 = LayerNorm(x.Zip(selfAttention, (a, b) => a + b).ToArray(), p["norm1.weight"], p["norm1.bias"]);
        var hidden = Linear(x1, rows, Dm, Ff, p["linear1.weight"], p["linear1.bias"]).Select(v => 0.5 * v * (1 + Erf(v / Math.Sqrt(2)))).ToArray();
        var feedForward = Dropped(Linear(hidden, rows, Ff, Dm, p["linear2.weight"], p["linear2.bias"]), noise2);
        var output = LayerNorm(x1.Zip(feedForward, (a, b) => a + b).ToArray(), p["norm2.weight"], p["norm2.bias"]);
        double sum = 0;
        for (int r = 0; r < rows; r++)
            if (Padding[r] == 0)
                for (int k = 0; k < Dm; k++) sum += Math.Pow(output[r * Dm + k] - target[r * Dm + k], 2);
        return sum / (Padding.Count(v => v == 0) * Dm);
    }

    static double ReferenceAt(double[] flat, int step)
    {
        var (a, n1, n2) = Noise(step);
        return ReferenceLoss(Unflatten(Layout, flat), Input.ToDoubleArray(), a.ToDoubleArray(), n1.ToDoubleArray(), n2.ToDoubleArray(), Target.ToDoubleArray());
    }

    [Fact]
    public void TheBlocksLossAndGradientAreTheBlockOverDoubles()
    {
        var model = InitialModel();
        var (a, n1, n2) = Noise(0);
        Expr[] batch = [Input, Tensor.FromArray(Padding, N, T), a, n1, n2, Target];
        var flat = Flatten(Layout, model);
        Close(ReferenceAt(flat, 0), LossOf(model.AsExprs(), batch).Eval().Item(), 1e-13, "loss");
        var gradient = Diff.Grad(p => LossOf(p, batch), model);
        var evaluated = Parameters.Of(gradient.Select(kv => (kv.Key, kv.Value.Eval())).ToArray());
        Close(Gradient(f => ReferenceAt(f, 0), flat), Flatten(Layout, evaluated), 1e-6, "gradient");
    }

    [Fact]
    public void TheBlockTrainsWithAdamWUnderALinearWarmupAsWrittenOverDoubles()
    {
        var step = Diff.CompileValueAndGrad(LossOf);
        var adamW = new AdamW(InitialModel(), lr: Peak, weightDecay: Decay);
        var theta = Flatten(Layout, InitialModel());
        var (m, v) = (new double[theta.Length], new double[theta.Length]);
        for (int t = 0; t < Steps; t++)
        {
            double rate = Peak * Math.Min(1.0, (t + 1.0) / Warmup);       // LinearLR warmup from Peak / Warmup
            var (a, n1, n2) = Noise(t);                                   // fresh dropout draws, passed in
            adamW.LearningRate = rate;
            var (loss, gradients) = step.Invoke(adamW.Parameters, Input, Tensor.FromArray(Padding, N, T), a, n1, n2, Target);
            adamW.Step(gradients);
            Close(ReferenceAt(theta, t), loss.Item(), 1e-10, $"loss {t}");
            var g = Gradient(f => ReferenceAt(f, t), theta);
            for (int i = 0; i < theta.Length; i++) theta[i] *= 1 - rate * Decay;   // torch's AdamW: decoupled decay at this step's rate, then Adam
            AdamStep(theta, m, v, g, t + 1, rate);
        }
        Close(theta, Flatten(Layout, adamW.Parameters), 1e-6, "trained parameters");
        Assert.Equal(1, step.TraceCount);
    }
}
