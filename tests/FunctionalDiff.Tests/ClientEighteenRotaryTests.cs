using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's decoder block with rotary position embeddings (the GPT-NeoX/LLaMA form: inv_freq =
/// 10000^(−2i/d), cos and sin of cat(freqs, freqs), q·cos + rotate_half(q)·sin), a causal mask written as
/// <c>key_pos[None, :] &gt; query_pos[:, None]</c> with <c>masked_fill(-inf)</c>, pre-norm attention and a GELU MLP,
/// and generation with a KV cache: each new token's keys and values appended to the cache (torch.cat), or written into
/// a fixed-size cache with <c>index_copy</c> in a compiled step traced once, the query rotated at its absolute position.
/// Held to the rotation written pair by pair over doubles (and to RoPE's defining property, scores that depend only on
/// the distance), the cached decoding to the full forward pass, and the loss's gradient to central differences.
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

    /// <summary>cos and sin [L, d] at the positions [L] (a constant, or a position passed into a compiled step).</summary>
    static (Expr Cos, Expr Sin) RotaryTables(Expr positions)
    {
        var inverseFrequency = 1.0 / Tensor.Pow(10000, Tensor.Arange(0, HeadDim, 2) / HeadDim);    // 1 / 10000^(2i/d)
        var freqs = positions.Outer(inverseFrequency);                                              // torch.outer(t, inv_freq)
        var emb = Expr.Cat([freqs, freqs], -1);
        return (emb.Cos(), emb.Sin());
    }

    static (Expr Cos, Expr Sin) RotaryTables(int past, int length) => RotaryTables(Tensor.Arange(past, past + length));

    static Expr RotateHalf(Expr x) => Expr.Cat([-x.Narrow(-1, HeadDim / 2, HeadDim / 2), x.Narrow(-1, 0, HeadDim / 2)], -1);

    static Expr ApplyRotary(Expr x, Expr cos, Expr sin) => x * cos + RotateHalf(x) * sin;

    /// <summary>
    /// The block over tokens [B, L] at the given positions [L]: the logits [B, L, V] and the keys and values attended
    /// to. <paramref name="cache"/> turns this call's keys and values [B, heads, L, d] into those attended to and their
    /// positions: themselves (no cache), the cache with them appended, or a fixed-size cache with them written in.
    /// </summary>
    static (Expr Logits, Expr Keys, Expr Values) Forward(IReadOnlyDictionary<string, Expr> p, Expr tokens, Expr positions,
        Func<Expr, Expr, (Expr Keys, Expr Values, Expr Positions)> cache)
    {
        int b = tokens.Shape[0], l = tokens.Shape[1];
        Expr Heads(Expr e) => e.Reshape(b, l, HeadCount, HeadDim).Transpose(1, 2);                   // [B, heads, L, d]
        var x = Nn.Embedding(tokens, p["emb"]);
        var a = Nn.LayerNorm(x, [Width], p["ln1.weight"], p["ln1.bias"]);
        var (cos, sin) = RotaryTables(positions);
        var q = ApplyRotary(Heads(Nn.Linear(a, p["wq"])), cos, sin);
        var (k, v, keyPositions) = cache(ApplyRotary(Heads(Nn.Linear(a, p["wk"])), cos, sin), Heads(Nn.Linear(a, p["wv"])));
        var mask = keyPositions.Unsqueeze(0) > positions.Unsqueeze(1);                                   // [L, S]: a later key
        var scores = (q.MatMul(k.Transpose(-2, -1)) / Math.Sqrt(HeadDim)).MaskedFill(mask, double.NegativeInfinity);
        var attended = scores.Softmax(-1).MatMul(v).Transpose(1, 2).Reshape(b, l, Width);
        var h = x + Nn.Linear(attended, p["wo"]);
        var mlp = Nn.Linear(Nn.Linear(Nn.LayerNorm(h, [Width], p["ln2.weight"], p["ln2.bias"]), p["fc1.weight"], p["fc1.bias"]).Gelu(), p["fc2.weight"], p["fc2.bias"]);
        return (Nn.Linear(h + mlp, p["head"]), k, v);
    }

    /// <summary>The whole sequence at once, the causal mask from its positions.</summary>
    static Expr FullPass(IReadOnlyDictionary<string, Expr> p, Expr tokens)
    {
        Expr positions = Tensor.Arange(tokens.Shape[1]);
        return Forward(p, tokens, positions, (k, v) => (k, v, positions)).Logits;
    }

    /// <summary>Next-token cross-entropy over both sequences.</summary>
    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr tokens)
    {
        var logits = FullPass(p, tokens.Narrow(1, 0, Length - 1));
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
        var full = FullPass(p, tokens).Eval();                                                      // [B, T, V]
        Tensor? keys = null, values = null;
        for (int t = 0; t < Length; t++)
        {
            // torch.no_grad(): one new token per sequence, its keys and values appended to the cache (torch.cat)
            var (pastKeys, pastValues) = (keys, values);
            var (logits, k, v) = Forward(p, tokens.Narrow(1, t, 1), Tensor.FromArray(new double[] { t }),
                (nk, nv) => pastKeys is null || pastValues is null ? (nk, nv, (Expr)Tensor.Arange(1))
                    : (Expr.Cat([pastKeys, nk], 2), Expr.Cat([pastValues, nv], 2), (Expr)Tensor.Arange(t + 1)));
            var step = Expr.EvalMany([logits, k, v]);
            (keys, values) = (step[1], step[2]);
            Assert.Equal(new[] { Sequences, HeadCount, t + 1, HeadDim }, keys.Shape);
            Close(full.Narrow(1, t, 1).ToDoubleArray(), step[0].ToDoubleArray(), 1e-12, $"logits at {t}");
        }
    }

    [Fact]
    public void ACompiledStepOverAStaticCacheIsTracedOnceAndGivesTheFullPassLogits()
    {
        // the static cache of HF transformers: [B, heads, T, d] zeros, each step's keys written at its position with
        // index_copy, the unwritten slots masked as later keys; the position is data, so one trace serves every step
        var names = Layout.Select(e => e.Name).ToArray();
        var decode = Diff.Compile((Expr[] a) =>
        {
            var p = names.Select((n, i) => (n, a[i])).ToDictionary(e => e.n, e => e.Item2);
            var (token, position, cacheKeys, cacheValues) = (a[^4], a[^3], a[^2], a[^1]);
            var (logits, k, v) = Forward(p, token, position,
                (nk, nv) => (cacheKeys.IndexCopy(2, position, nk), cacheValues.IndexCopy(2, position, nv), Tensor.Arange(Length)));
            return [logits, k, v];
        });
        var full = FullPass(Model().AsExprs(), Tokens()).Eval();
        var parameters = Model().Values.ToArray();
        Tensor keys = Tensor.Zeros(Sequences, HeadCount, Length, HeadDim), values = Tensor.Zeros(Sequences, HeadCount, Length, HeadDim);
        for (int t = 0; t < Length; t++)
        {
            var outs = decode.Invoke([.. parameters, Tokens().Narrow(1, t, 1), Tensor.FromArray(new double[] { t }), keys, values]);
            (keys, values) = (outs[1], outs[2]);
            Close(full.Narrow(1, t, 1).ToDoubleArray(), outs[0].ToDoubleArray(), 1e-12, $"logits at {t}");
        }
        Assert.Equal(1, decode.TraceCount);
        // the cache holds the full pass's rotated keys at every position
        Expr positions = Tensor.Arange(Length);
        var fullKeys = Forward(Model().AsExprs(), Tokens(), positions, (k, v) => (k, v, positions)).Keys.Eval();
        Close(fullKeys.ToDoubleArray(), keys.ToDoubleArray(), 1e-13, "cached keys");
    }

    [Fact]
    public void TorchsIsCausalIsTopLeftAlignedSoACachedStepMustMaskByPosition()
    {
        // F.scaled_dot_product_attention(q, k, v, is_causal=True) with one query and S keys keeps key 0 only (torch's
        // tril of [L, S]), not the S keys a cached step may see: the mask by position is the one a cache needs
        var (q, k, v) = (T([1, 1, 1, HeadDim], 11), T([1, 1, 3, HeadDim], 12), T([1, 1, 3, HeadDim], 13));
        var causal = Nn.ScaledDotProductAttention(q, k, v, isCausal: true).Eval().ToDoubleArray();
        Close(v.ToDoubleArray()[..HeadDim], causal, 1e-15, "the first key's value only");
        var all = Nn.ScaledDotProductAttention(q, k, v).Eval().ToDoubleArray();
        Assert.True(Math.Abs(all[0] - causal[0]) > 1e-3, "the cached step attends to every earlier key");
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
