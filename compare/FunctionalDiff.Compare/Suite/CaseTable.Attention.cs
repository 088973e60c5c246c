using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// A transformer block's pieces as a PyTorch user ports them (2026-12-05): F.scaled_dot_product_attention (plain,
// causal, a boolean padding mask with a fully masked row, a float mask), layer_norm with weight and bias over one and
// two trailing axes, and multi-head split and merge through transpose(1, 2); nn.MultiheadAttention (2026-12-06) with its
// weights set, against Nn.MultiheadAttention.
public static partial class CaseTable
{
    // a padding mask [L=3, S=4]: row 1 may attend to nothing (torch's safe softmax gives it zeros), row 2 to two keys
    static readonly double[] PaddingKeep = { 1, 1, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0 };
    static readonly long[] SequenceTargets = { 0, 3, 1, 2, -100, 3 };
    static readonly double[] FloatBias = { 0.5, -1, 0, 2, -0.25, 0.75, 1.5, -2, 0, 0.3, -0.6, 1 };

    static IEnumerable<Case> Attention()
    {
        yield return C("sdpa [2,3,4] keys [2,5,4] values [2,5,2]", new[] { I(2, 3, 4), I(2, 5, 4), I(2, 5, 2) },
            x => Nn.ScaledDotProductAttention(x[0], x[1], x[2]), x => F.scaled_dot_product_attention(x[0], x[1], x[2]));
        // libtorch runs 4-D inputs and is_causal on the CPU through its flash kernel, whose backward has no derivative
        // (the second-order check aborts the process). So torch's side takes the heads folded into the batch (rank 3)
        // and is_causal as the boolean mask tril(ones(L, S)) it is documented to be, which its math backend runs.
        yield return C("sdpa causal [1,2,4,3]", new[] { I(1, 2, 4, 3), I(1, 2, 4, 3), I(1, 2, 4, 3) },
            x => Nn.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true), x => CausalFolded(x[0], x[1], x[2]));
        yield return C("sdpa causal L 3 < S 5 [2,3,4]", new[] { I(2, 3, 4), I(2, 5, 4), I(2, 5, 2) },
            x => Nn.ScaledDotProductAttention(x[0], x[1], x[2], isCausal: true), x => F.scaled_dot_product_attention(x[0], x[1], x[2], attn_mask: Causal(3, 5)));
        yield return C("sdpa bool mask, fully masked row [2,3,4]·[2,4,4]", new[] { I(2, 3, 4), I(2, 4, 4), I(2, 4, 3) },
            x => Nn.ScaledDotProductAttention(x[0], x[1], x[2], attnMask: Const(PaddingKeep, [3, 4], x[0])),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2], attn_mask: Const(PaddingKeep, new long[] { 3, 4 }, x[0]).to_type(ScalarType.Bool)));
        yield return C("sdpa float mask [2,3,4]·[2,4,4]", new[] { I(2, 3, 4), I(2, 4, 4), I(2, 4, 3) },
            x => Nn.ScaledDotProductAttention(x[0], x[1], x[2], attnBias: Const(FloatBias, [3, 4], x[0])),
            x => F.scaled_dot_product_attention(x[0], x[1], x[2], attn_mask: Const(FloatBias, new long[] { 3, 4 }, x[0])));
        // TorchSharp has no scale argument: torch's scale s is the default 1/√E applied to a query scaled by s·√E
        yield return C("sdpa scale 0.3 [3,4]", new[] { I(3, 4), I(5, 4), I(5, 4) },
            x => Nn.ScaledDotProductAttention(x[0], x[1], x[2], scale: 0.3), x => F.scaled_dot_product_attention(x[0] * (0.3 * 2.0), x[1], x[2]));
        yield return C("multi-head causal attention [2,4,6] 2 heads", new[] { I(2, 4, 6), I(6, 18) },
            x => MultiHead(x[0], x[1]), x => MultiHead(x[0], x[1]));
        // nn.MultiheadAttention(4, 2) with its weights set: output and head-averaged weights side by side. libtorch's C++
        // module adds attn_mask as a float mask, so a boolean attnMask (True = ignore) is -inf there, and is_causal is the
        // same float mask of the upper triangle; its key_padding_mask is boolean, True = ignore, as ours
        yield return C("multiheadAttention [L3,N2,E4] 2 heads, key padding, bool mask", new[] { I(3, 2, 4), I(4, 2, 4), I(4, 2, 4) },
            x => MultiheadOurs(x, keyPadding: true, ignore: true, causal: false, bias: false),
            x => MultiheadTorch(x, keyPadding: true, ignore: true, causal: false, bias: false));
        yield return C("multiheadAttention [L3,N2,E4] 2 heads, causal, float mask", new[] { I(3, 2, 4), I(4, 2, 4), I(4, 2, 4) },
            x => MultiheadOurs(x, keyPadding: false, ignore: false, causal: true, bias: true),
            x => MultiheadTorch(x, keyPadding: false, ignore: false, causal: true, bias: true));
        yield return C("layerNorm [4] weight bias [3,4]", new[] { I(3, 4), I(4), I(4) },
            x => Nn.LayerNorm(x[0], [4], x[1], x[2]), x => F.layer_norm(x[0], new long[] { 4 }, x[1], x[2]));
        yield return C("layerNorm [3,4] weight eps 1e-3 [2,3,4]", new[] { I(2, 3, 4), I(3, 4) },
            x => Nn.LayerNorm(x[0], [3, 4], x[1], epsilon: 1e-3), x => F.layer_norm(x[0], new long[] { 3, 4 }, x[1], eps: 1e-3));
        // rms_norm (TorchSharp has none): torch's decomposition x·rsqrt(mean(x²) + eps)·weight, eps torch.finfo(dtype).eps by default
        yield return C("rms_norm [2,3,4] over [4] weight", new[] { I(2, 3, 4), I(4) },
            x => Nn.RmsNorm(x[0], [4], x[1]),
            x => x[0] * (x[0].square().mean(new long[] { -1 }, keepdim: true) + (x[0].dtype == ScalarType.Float32 ? Math.Pow(2, -23) : Math.Pow(2, -52))).rsqrt() * x[1]);
        yield return C("rms_norm [2,3,4] over [3,4] eps 1e-3", new[] { I(2, 3, 4) },
            x => Nn.RmsNorm(x[0], [3, 4], epsilon: 1e-3),
            x => x[0] * (x[0].square().mean(new long[] { -2, -1 }, keepdim: true) + 1e-3).rsqrt());
        // a sequence model's loss: logits [N, C, T] against targets [N, T] (torch's K-dimensional cross_entropy)
        yield return C("crossEntropy [N,C,T] ignoreIndex smoothing 0.1 [2,4,3]", new[] { I(2, 4, 3) },
            x => Loss.CrossEntropy(x[0], Const(SequenceTargets.Select(v => (double)v).ToArray(), [2, 3], x[0]), labelSmoothing: 0.1, ignoreIndex: -100),
            x => F.cross_entropy(x[0], torch.tensor(SequenceTargets).reshape(2, 3), ignore_index: -100, label_smoothing: 0.1));
        yield return C("crossEntropy [N,C,T] sum [2,4,3]", new[] { I(2, 4, 3) },
            x => Loss.CrossEntropy(x[0], Const(new double[] { 0, 3, 1, 2, 2, 3 }, [2, 3], x[0]), Reduction.Sum),
            x => F.cross_entropy(x[0], torch.tensor(new long[] { 0, 3, 1, 2, 2, 3 }).reshape(2, 3), reduction: nn.Reduction.Sum));
        yield return C("transpose(1, 2) and permute [2,3,4]", new[] { I(2, 3, 4) },
            x => x[0].Transpose(1, 2).Permute(2, 0, 1).Transpose(-1, 0).Sin(), x => x[0].transpose(1, 2).permute(2, 0, 1).transpose(-1, 0).sin());
    }

    // x [N, L, 6] through one fused projection w [6, 18] into q, k, v of 2 heads of 3, split with reshape and
    // transpose(1, 2), causal attention, merged back with transpose and reshape, as a PyTorch block writes it
    static Expr MultiHead(Expr x, Expr w)
    {
        int n = x.Shape[0], l = x.Shape[1];
        var qkv = x.MatMul(w).Chunk(3, -1);
        Expr Heads(Expr t) => t.Reshape(n, l, 2, 3).Transpose(1, 2);
        var o = Nn.ScaledDotProductAttention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), isCausal: true);
        return o.Transpose(1, 2).Reshape(n, l, 6);
    }

    // nn.MultiheadAttention(embed_dim 4, num_heads 2)'s parameters, set to fixed values on both sides
    static readonly double[] InProjWeight = Enumerable.Range(0, 48).Select(i => 0.5 * Math.Sin(1.3 * i + 0.1)).ToArray();
    static readonly double[] InProjBias = Enumerable.Range(0, 12).Select(i => 0.2 * Math.Cos(2.1 * i)).ToArray();
    static readonly double[] OutProjWeight = Enumerable.Range(0, 16).Select(i => 0.6 * Math.Cos(0.8 * i + 0.3)).ToArray();
    static readonly double[] OutProjBias = { 0.1, -0.2, 0.3, 0.05 };
    // batch entry 1 pads its last key (each query keeps one key or more); query 0 ignores key 1
    static readonly bool[] MhaKeyPadding = { false, false, false, false, false, false, false, true };
    static readonly bool[] IgnoreKeys = { false, true, false, false, false, false, false, false, false, false, false, false };
    static readonly double[] MhaBias = Enumerable.Range(0, 12).Select(i => 0.4 * Math.Sin(0.9 * i)).ToArray();

    static double[] Doubles(bool[] mask) => mask.Select(b => b ? 1.0 : 0.0).ToArray();

    static Expr MultiheadOurs(Expr[] x, bool keyPadding, bool ignore, bool causal, bool bias)
    {
        var (output, weights) = Nn.MultiheadAttention(x[0], x[1], x[2], 2, Const(InProjWeight, [12, 4], x[0]), Const(InProjBias, [12], x[0]),
            Const(OutProjWeight, [4, 4], x[0]), Const(OutProjBias, [4], x[0]),
            keyPaddingMask: keyPadding ? Const(Doubles(MhaKeyPadding), [2, 4], x[0]) : null,
            attnMask: ignore ? Const(Doubles(IgnoreKeys), [3, 4], x[0]) : null,
            isCausal: causal, attnBias: bias ? Const(MhaBias, [3, 4], x[0]) : null);
        return Expr.Cat([output.Flatten(), weights!.Flatten()]);
    }

    static TT MultiheadTorch(TT[] x, bool keyPadding, bool ignore, bool causal, bool bias)
    {
        var module = nn.MultiheadAttention(4, 2);
        module.to(x[0].dtype);
        module.eval();
        var parameters = module.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        using (torch.no_grad())
        {
            parameters["in_proj_weight"].copy_(Const(InProjWeight, new long[] { 12, 4 }, x[0]));
            parameters["in_proj_bias"].copy_(Const(InProjBias, new long[] { 12 }, x[0]));
            parameters["out_proj.weight"].copy_(Const(OutProjWeight, new long[] { 4, 4 }, x[0]));
            parameters["out_proj.bias"].copy_(Const(OutProjBias, new long[] { 4 }, x[0]));
        }
        // the float mask libtorch's module adds: -inf where a key is ignored, plus the bias
        var additive = new double[12];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++)
                additive[i * 4 + j] = (ignore && IgnoreKeys[i * 4 + j]) || (causal && j > i) ? double.NegativeInfinity : bias ? MhaBias[i * 4 + j] : 0.0;
        var padding = keyPadding ? torch.tensor(MhaKeyPadding).reshape(2, 4) : null;
        var (output, weights) = module.call(x[0], x[1], x[2], padding, true, Const(additive, new long[] { 3, 4 }, x[0]));
        return torch.cat(new[] { output.flatten(), weights.flatten() });
    }

    static TT Causal(long queries, long keys) => torch.ones(queries, keys, dtype: ScalarType.Bool).tril();

    // torch's causal attention over [N, H, L, E] with the heads folded into the batch (see the causal case)
    static TT CausalFolded(TT q, TT k, TT v)
    {
        long n = q.shape[0], h = q.shape[1], l = q.shape[2], s = k.shape[2];
        TT Fold(TT t) => t.reshape(n * h, t.shape[2], t.shape[3]);
        return F.scaled_dot_product_attention(Fold(q), Fold(k), Fold(v), attn_mask: Causal(l, s)).reshape(n, h, l, v.shape[3]);
    }

    static TT MultiHead(TT x, TT w)
    {
        long n = x.shape[0], l = x.shape[1];
        var qkv = x.matmul(w).chunk(3, -1);
        TT Heads(TT t) => t.reshape(n, l, 2, 3).transpose(1, 2);
        var o = CausalFolded(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]));
        return o.transpose(1, 2).reshape(n, l, 6);
    }
}
