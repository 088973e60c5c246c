using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's decoder block with rotary position embeddings (the GPT-NeoX/LLaMA form: inv_freq =
/// 10000^(−2i/d), cos and sin of cat(freqs, freqs), q·cos + rotate_half(q)·sin), a causal mask written as
/// <c>key_pos[None, :] &gt; query_pos[:, None]</c> with <c>masked_fill(-inf)</c>, pre-norm attention and a GELU MLP,
/// and generation with a KV cache: each new token's keys and values appended to the cache, the query rotated at its
/// absolute position. Held to the rotation written pair by pair over doubles (and to RoPE's defining property, scores
/// that depend only on the distance), the cached decoding to the full forward pass, and the loss's gradient to
/// central differences.
/// </summary>
public class ClientEighteenRotaryTests
{
    const int Vocab = 5, Width = 8, HeadCount = 2, HeadDim = Width / HeadCount, Ffn = 16, Sequences = 2, Length = 5;

    static readonly (string Name, int[] Shape)[] Layout =
        [("emb", [Vocab, Width]), ("ln1.weight", [Width]), ("ln1.bias", [Width]), ("wq", [Width, Width]), ("wk", [Width, Width]),
         ("wv", [Width, Width]), ("wo", [Width, Width]), ("ln2.weight", [Width]), ("ln2.bias", [Width]),
         ("fc1.weight", [Ffn, Width]), ("fc1.bias", [Ffn]), ("fc2.weight", [Width, Ffn]), ("fc2.bias", [Width]), ("head", [Vocab, Width])];

    static readonly double[] TokenIds = [0, 3, 1, 4, 2, 2, 2, 0, 1, 3];   // [B, T]

    static Parameters Model() => Model(Flatten(Layout, Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 70 + k).Select(v => (e.Name.EndsWith(".weight") && e.Name.StartsWith("ln") ? 1 + 0.2 * v : 0.5 * v)).ToArray(), e.Shape))).ToArray())));

    static Parameters Model(double[] flat)
    {
        var named = Unflatten(Layout, flat);
        return Parameters.Of(Layout.Select(e => (e.Name, Tensor.FromArray(named[e.Name], e.Shape))).ToArray());
    }

    /// <summary>cos and sin [L, d] for positions past .. past + L − 1.</summary>
    static (Tensor Cos, Tensor Sin) RotaryTables(int past, int length)
    {
        var inverseFrequency = 1.0 / Tensor.Pow(10000, Tensor.Arange(0, HeadDim, 2) / HeadDim);    // 1 / 10000^(2i/d)
        var freqs = Tensor.Arange(past, past + length).Outer(inverseFrequency);                     // torch.outer(t, inv_freq)
        var emb = Tensor.Cat([freqs, freqs], -1);
        return (emb.Cos(), emb.Sin());
    }

    static Expr RotateHalf(Expr x) => Expr.Cat([-x.Narrow(-1, HeadDim / 2, HeadDim / 2), x.Narrow(-1, 0, HeadDim / 2)], -1);

    static Expr ApplyRotary(Expr x, Tensor cos, Tensor sin) => x * cos + RotateHalf(x) * sin;

    /// <summary>
    /// The block over tokens [B, L] at positions past .. past + L − 1, after the cached keys and values of the
    /// earlier positions (null for none): the logits [B, L, V] and the keys and values to cache [B, heads, past + L, d].
    /// </summary>
    static (Expr Logits, Expr Keys, Expr Values) Forward(IReadOnlyDictionary<string, Expr> p, Expr tokens, int past, Expr? pastKeys, Expr? pastValues)
    {
        int b = tokens.Shape[0], l = tokens.Shape[1];
        Expr Heads(Expr e) => e.Reshape(b, l, HeadCount, HeadDim).Transpose(1, 2);                   // [B, heads, L, d]
        var x = Nn.Embedding(tokens, p["emb"]);
        var a = Nn.LayerNorm(x, [Width], p["ln1.weight"], p["ln1.bias"]);
        var (cos, sin) = RotaryTables(past, l);
        var q = ApplyRotary(Heads(Nn.Linear(a, p["wq"])), cos, sin);
        var k = ApplyRotary(Heads(Nn.Linear(a, p["wk"])), cos, sin);
        var v = Heads(Nn.Linear(a, p["wv"]));
        if (pastKeys is not null && pastValues is not null)
        {
            k = Expr.Cat([pastKeys, k], 2);
            v = Expr.Cat([pastValues, v], 2);
        }
        var mask = Tensor.Arange(past + l).Unsqueeze(0) > Tensor.Arange(past, past + l).Unsqueeze(1);   // [L, past + L]
        var scores = (q.MatMul(k.Transpose(-2, -1)) / Math.Sqrt(HeadDim)).MaskedFill(mask, double.NegativeInfinity);
        var attended = scores.Softmax(-1).MatMul(v).Transpose(1, 2).Reshape(b, l, Width);
        var h = x + Nn.Linear(attended, p["wo"]);
        var mlp = Nn.Linear(Nn.Linear(Nn.LayerNorm(h, [Width], p["ln2.weight"], p["ln2.bias"]), p["fc1.weight"], p["fc1.bias"]).Gelu(), p["fc2.weight"], p["fc2.bias"]);
        return (Nn.Linear(h + mlp, p["head"]), k, v);
    }

    /// <summary>Next-token cross-entropy over both sequences.</summary>
    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr tokens)
    {
        var logits = Forward(p, tokens.Narrow(1, 0, Length - 1), 0, null, null).Logits;
        return Loss.CrossEntropy(logits.Reshape(-1, Vocab), tokens.Narrow(1, 1, Length - 1).Reshape(-1));
    }

    static Tensor Tokens() => Tensor.FromArray(TokenIds, Sequences, Length);

    [Fact]
    public void TheRotationTurnsEachPairByItsPositionsAngle()
    {
        var x = T([3, HeadDim], 8);
        var (cos, sin) = RotaryTables(4, 3);
        var rotated = ApplyRotary(x, cos, sin).Eval().ToDoubleArray();
        var values = x.ToDoubleArray();
        for (int m = 0; m < 3; m++)
            for (int i = 0; i < HeadDim / 2; i++)
            {
                // the pair (x_i, x_{i + d/2}) times e^{i·pos·θ_i}, pos = 4 + m, θ_i = 10000^(−2i/d)
                double angle = (4 + m) * Math.Pow(10000, -2.0 * i / HeadDim);
                double re = values[m * HeadDim + i], im = values[m * HeadDim + i + HeadDim / 2];
                Close(re * Math.Cos(angle) - im * Math.Sin(angle), rotated[m * HeadDim + i], 1e-14, $"row {m} pair {i} re");
                Close(re * Math.Sin(angle) + im * Math.Cos(angle), rotated[m * HeadDim + i + HeadDim / 2], 1e-14, $"row {m} pair {i} im");
            }
    }

    [Fact]
    public void RotatedScoresDependOnlyOnTheDistance()
    {
        Expr q = T([1, HeadDim], 9), k = T([1, HeadDim], 10);
        double Score(int m, int n)
        {
            var (cq, sq) = RotaryTables(m, 1);
            var (ck, sk) = RotaryTables(n, 1);
            return (ApplyRotary(q, cq, sq) * ApplyRotary(k, ck, sk)).Sum().Eval().Item();
        }
        Close(Score(3, 1), Score(10, 8), 1e-13, "distance 2");
        Close(Score(1, 3), Score(7, 9), 1e-13, "distance -2");
        Assert.True(Math.Abs(Score(3, 1) - Score(3, 0)) > 1e-3, "the distance matters");
    }

    [Fact]
    public void CachedDecodingGivesTheFullPassLogits()
    {
        var p = Model().AsExprs();
        var tokens = Tokens();
        var full = Forward(p, tokens, 0, null, null).Logits.Eval();                                 // [B, T, V]
        Tensor? keys = null, values = null;
        for (int t = 0; t < Length; t++)
        {
            // torch.no_grad(): one new token per sequence, its keys and values appended to the cache
            var (logits, k, v) = Forward(p, tokens.Narrow(1, t, 1), t, keys, values);
            var step = Expr.EvalMany([logits, k, v]);
            (keys, values) = (step[1], step[2]);
            Assert.Equal(new[] { Sequences, HeadCount, t + 1, HeadDim }, keys.Shape);
            Close(full.Narrow(1, t, 1).ToDoubleArray(), step[0].ToDoubleArray(), 1e-12, $"logits at {t}");
        }
        // the mask matters: without it the first position's logits would see the later tokens
        var unmasked = Forward(p, tokens.Narrow(1, 0, 2), 0, null, null).Logits.Eval().Narrow(1, 0, 1).ToDoubleArray();
        Close(full.Narrow(1, 0, 1).ToDoubleArray(), unmasked, 1e-12, "position 0 sees itself only");
    }

    [Fact]
    public void TheGradientIsTheCentralDifference()
    {
        var step = Diff.CompileValueAndGrad((p, b) => LossOf(p, b[0]));
        var (loss, gradients) = step.Invoke(Model(), Tokens());
        var lossOnly = Diff.Compile((Expr[] a) => LossOf(Layout.Select((e, i) => (e.Name, a[i])).ToDictionary(e => e.Name, e => e.Item2), a[^1]));
        double LossAt(double[] flat) => lossOnly.Invoke([.. Model(flat).Values, Tokens()])[0].Item();
        var theta = Flatten(Layout, Model());
        Close(LossAt(theta), loss.Item(), 1e-13, "loss");
        Close(Gradient(LossAt, theta), Flatten(Layout, gradients), 1e-7, "gradient");
        Assert.True(Flatten(Layout, gradients).Count(g => g != 0) > theta.Length / 2, "most parameters have a gradient");
    }
}
