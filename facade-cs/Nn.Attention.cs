using Microsoft.FSharp.Core;
using Build = FunctionalDiff.Core.ExprModule;
using CoreAttention = FunctionalDiff.Core.Attention;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreNormalisation = FunctionalDiff.Core.Normalisation;

namespace FunctionalDiff;

/// <summary>The result of <see cref="Nn.MultiheadAttention"/>: torch's (attn_output, attn_output_weights).</summary>
/// <param name="Output">The attention output, laid out as the query.</param>
/// <param name="Weights">The attention weights, or null when they were not asked for (needWeights false).</param>
public sealed record MultiheadAttentionResult(Expr Output, Expr? Weights);

// The pieces of a transformer block that torch has as functions: scaled dot-product attention and layer norm with
// its affine parameters. Both are composites in the core (Attention.fs, Normalisation.fs), so derivatives follow.
public static partial class Nn
{
    /// <summary>
    /// torch's <c>F.scaled_dot_product_attention(query, key, value, attn_mask, dropout_p, is_causal, scale)</c>:
    /// softmax(query · keyᵀ · scale + mask) · value over query [..., L, E], key [..., S, E] and value [..., S, Ev]
    /// (batch axes, such as [N, heads], broadcast), giving [..., L, Ev]. F#: <c>Attention.scaledDotProductAttention</c>.
    /// The layout is torch's, heads before the sequence: JAX's <c>dot_product_attention</c> takes [B, T, heads, D], so
    /// swap its axes 1 and 2 first (<c>q.Transpose(1, 2)</c>).
    /// </summary>
    /// <remarks>
    /// <para>
    /// Tensors here hold numbers, so torch's two kinds of <c>attn_mask</c> are two parameters: <paramref name="attnMask"/>
    /// is torch's boolean mask as 0/1 (nonzero: the query may attend to that key, as torch's True; 0: its score becomes
    /// −∞), and <paramref name="attnBias"/> is torch's float mask, added to the scores. A padding mask from a comparison,
    /// <c>(tokens != pad)</c>, is an <paramref name="attnMask"/>; the float mask of 0 and −∞ that
    /// <c>nn.Transformer.generate_square_subsequent_mask</c> gives is an <paramref name="attnBias"/>, and a constant
    /// <paramref name="attnMask"/> holding −∞, a negative number or NaN is refused, since read as a boolean mask it would
    /// attend exactly where it should not. Unlike torch, a mask may be given with <paramref name="isCausal"/>; both then apply.
    /// </para>
    /// <para>
    /// A query whose every score is −∞ (a fully masked row) attends to nothing: its output row is 0 and it passes no
    /// derivative, as torch's math backend (its safe softmax) gives since 2.5, where a plain softmax gives NaN.
    /// Scores are shifted by their row's maximum before exp, so logits of any finite size are safe.
    /// </para>
    /// </remarks>
    /// <param name="query">Queries [..., L, E].</param>
    /// <param name="key">Keys [..., S, E].</param>
    /// <param name="value">Values [..., S, Ev].</param>
    /// <param name="attnMask">0/1, broadcasting to [..., L, S]: where a query may attend (torch's boolean attn_mask); null for none.</param>
    /// <param name="dropoutP">Dropout probability on the attention weights; when above 0, <paramref name="dropoutNoise"/> is needed.</param>
    /// <param name="isCausal">Mask key j &gt; query i (torch's tril of ones, top-left aligned when L ≠ S).</param>
    /// <param name="scale">The factor of the scores; null for 1/√E, as torch.</param>
    /// <param name="dropoutNoise">Uniform [0, 1) draws broadcasting to [..., L, S], as <see cref="Dropout"/> takes (in a compiled step, an input).</param>
    /// <param name="attnBias">Added to the scores, broadcasting to [..., L, S] (torch's float attn_mask, such as an ALiBi bias); null for none.</param>
    /// <param name="enableGqa">Grouped-query attention (torch's <c>enable_gqa</c>): query [..., Hq, L, E] against key and value
    /// [..., Hkv, S, ·] with Hq a multiple of Hkv, each key and value head serving Hq / Hkv query heads in a row, as
    /// <c>RepeatInterleave(Hq / Hkv, -3)</c> of both would; their derivatives sum over the heads they serve.</param>
    /// <exception cref="ArgumentException">The shapes do not fit (the message names the method and every shape), a constant
    /// attnMask holds −∞, a negative number or NaN, or dropout lacks its noise.</exception>
    public static Expr ScaledDotProductAttention(Expr query, Expr key, Expr value, Expr? attnMask = null, double dropoutP = 0.0,
        bool isCausal = false, double? scale = null, Expr? dropoutNoise = null, Expr? attnBias = null, bool enableGqa = false)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (enableGqa)
        {
            string Shapes() => $"query [{string.Join(",", query.Shape)}], key [{string.Join(",", key.Shape)}], value [{string.Join(",", value.Shape)}]";
            if (query.Rank < 3 || key.Rank < 3 || value.Rank < 3)
                throw new ArgumentException($"ScaledDotProductAttention: enableGqa needs the heads at axis -3 ([..., H, L, E]), got {Shapes()}", nameof(query));
            int heads = query.Shape[^3], kvHeads = key.Shape[^3];
            if (value.Shape[^3] != kvHeads || kvHeads == 0 || heads % kvHeads != 0)
                throw new ArgumentException($"ScaledDotProductAttention: enableGqa needs key and value with one number of heads that divides the query's, got {Shapes()}", nameof(key));
            key = key.RepeatInterleave(heads / kvHeads, key.Rank - 3);
            value = value.RepeatInterleave(heads / kvHeads, value.Rank - 3);
        }
        if (!(dropoutP >= 0.0 && dropoutP <= 1.0))
            throw new ArgumentOutOfRangeException(nameof(dropoutP), dropoutP, "ScaledDotProductAttention: dropoutP must be in [0, 1]");
        if (dropoutP > 0.0 && dropoutNoise is null)
            throw new ArgumentException("ScaledDotProductAttention: dropoutP > 0 needs dropoutNoise, uniform draws such as Tensor.Rand of the scores' shape [..., L, S]", nameof(dropoutNoise));
        var dropout = dropoutP > 0.0
            ? FSharpOption<Tuple<double, CoreExpr>>.Some(Tuple.Create(dropoutP, dropoutNoise!.Node))
            : FSharpOption<Tuple<double, CoreExpr>>.None;
        return Expr.Wrap(CoreAttention.scaledDotProductAttention(
            Optional(attnMask), Optional(attnBias), isCausal,
            scale is double s ? FSharpOption<double>.Some(s) : FSharpOption<double>.None,
            dropout, query.Node, key.Node, value.Node));
    }

    /// <summary>
    /// torch's <c>F.layer_norm(input, normalized_shape, weight, bias, eps)</c>: (x − mean) / √(variance + ε) · weight + bias
    /// over the trailing axes that <paramref name="normalizedShape"/> names, with the biased variance. For the last axis
    /// alone, <c>Nn.LayerNorm(x, [d], gamma, beta)</c>; <see cref="Expr.LayerNorm"/> is the same without weight and bias.
    /// F#: <c>Normalisation.layerNorm</c>.
    /// </summary>
    /// <param name="input">The input [..., *normalizedShape].</param>
    /// <param name="normalizedShape">The input's trailing dimensions to normalise over.</param>
    /// <param name="weight">Scale of shape normalizedShape, or null for none.</param>
    /// <param name="bias">Shift of shape normalizedShape, or null for none.</param>
    /// <param name="epsilon">Added to the variance (torch's eps).</param>
    /// <exception cref="ArgumentException">normalizedShape is not the input's trailing dimensions, or weight or bias has another shape.</exception>
    public static Expr LayerNorm(Expr input, int[] normalizedShape, Expr? weight = null, Expr? bias = null, double epsilon = 1e-5)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        var dtype = input.Node.DType;
        var w = weight is null ? Build.scalar(dtype, 1.0) : Expr.Align(input, weight).B;
        // an absent bias is −0, which folds away (x + −0 is x); + (+0) would stay in the graph
        var b = bias is null ? Build.scalar(dtype, -0.0) : Expr.Align(input, bias).B;
        return Expr.Wrap(CoreNormalisation.layerNorm(normalizedShape, epsilon, w, b, input.Node));
    }

    /// <summary>
    /// torch's <c>F.rms_norm(input, normalized_shape, weight, eps)</c> (torch.nn.RMSNorm): x / √(mean(x²) + ε) · weight over
    /// the trailing axes that <paramref name="normalizedShape"/> names, computed as torch's x · rsqrt(mean(x²) + ε).
    /// F#: <c>Normalisation.rmsNorm</c>.
    /// </summary>
    /// <param name="input">The input [..., *normalizedShape].</param>
    /// <param name="normalizedShape">The input's trailing dimensions to normalise over.</param>
    /// <param name="weight">Scale of shape normalizedShape, or null for none.</param>
    /// <param name="epsilon">Added to the mean square; null is torch's default, the machine epsilon of the input's dtype.</param>
    /// <exception cref="ArgumentException">normalizedShape is not the input's trailing dimensions, weight has another shape, or epsilon is negative.</exception>
    public static Expr RmsNorm(Expr input, int[] normalizedShape, Expr? weight = null, double? epsilon = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(normalizedShape);
        var w = weight is null ? Build.scalar(input.Node.DType, 1.0) : Expr.Align(input, weight).B;
        var eps = epsilon is double e ? FSharpOption<double>.Some(e) : FSharpOption<double>.None;
        return Expr.Wrap(CoreNormalisation.rmsNorm(normalizedShape, eps, w, input.Node));
    }

    /// <summary>
    /// torch's <c>nn.MultiheadAttention</c> forward, <c>F.multi_head_attention_forward(query, key, value, embed_dim,
    /// num_heads, in_proj_weight, in_proj_bias, ..., out_proj_weight, out_proj_bias, key_padding_mask=...,
    /// need_weights=..., attn_mask=..., average_attn_weights=..., is_causal=...)</c>: the packed in-projection
    /// (query · W_qᵀ + b_q and the same for key and value, W_q, W_k, W_v the row blocks of
    /// <paramref name="inProjWeight"/>), <paramref name="numHeads"/> heads of scaled dot-product attention, the heads
    /// merged and the out-projection. F#: <c>Attention.multiheadAttention</c>. A module's weights port directly:
    /// <c>in_proj_weight</c>, <c>in_proj_bias</c>, <c>out_proj.weight</c> and <c>out_proj.bias</c>.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The layout is torch's: query [L, N, E] and key and value [S, N, E], or [N, L, E] and [N, S, E] with
    /// <paramref name="batchFirst"/> (the module's <c>batch_first=True</c>), or unbatched [L, E] and [S, E]. Key and value
    /// have the query's E (torch's kdim and vdim with separate projections are not taken), and there is no bias_k,
    /// bias_v, add_zero_attn or dropout (compose <see cref="ScaledDotProductAttention"/> with its dropout for those).
    /// </para>
    /// <para>
    /// The masks keep this function's torch conventions, which are the reverse of <see cref="ScaledDotProductAttention"/>'s:
    /// <paramref name="keyPaddingMask"/> [N, S] ([S] unbatched) and <paramref name="attnMask"/> hold 0/1 where nonzero
    /// (torch's True) means that key is ignored. torch's float <c>attn_mask</c>, added to the scores, is
    /// <paramref name="attnBias"/>. Both are [L, S] or [N·numHeads, L, S], as torch's. A constant mask holding −∞, a
    /// negative number or NaN is refused: it is a float mask, which goes in <paramref name="attnBias"/>.
    /// <paramref name="isCausal"/> applies the causal mask itself (torch takes it only as a hint beside an attn_mask).
    /// </para>
    /// <para>
    /// A query that may attend to no key (a batch entry whose keys are all padding) gets zero attention weights, so its
    /// output row is <paramref name="outProjBias"/> and it passes no derivative to the inputs; torch's softmax gives NaN
    /// there, in the output and the weights.
    /// </para>
    /// </remarks>
    /// <param name="query">Queries [L, N, E] ([N, L, E] with batchFirst; [L, E] unbatched).</param>
    /// <param name="key">Keys [S, N, E] ([N, S, E] with batchFirst; [S, E] unbatched).</param>
    /// <param name="value">Values, shaped as the keys.</param>
    /// <param name="numHeads">The number of heads; it divides E.</param>
    /// <param name="inProjWeight">The packed in-projection [3E, E]: rows 0..E project the query, then the key, then the value.</param>
    /// <param name="inProjBias">Its bias [3E], or null for none (torch's bias=False).</param>
    /// <param name="outProjWeight">The out-projection [E, E] (torch's out_proj.weight).</param>
    /// <param name="outProjBias">Its bias [E], or null for none.</param>
    /// <param name="keyPaddingMask">0/1 [N, S] ([S] unbatched): nonzero where a key is padding and ignored (torch's True); null for none.</param>
    /// <param name="needWeights">Return the attention weights as well (torch's need_weights).</param>
    /// <param name="attnMask">0/1 [L, S] or [N·numHeads, L, S]: nonzero where a query may not attend to a key (torch's boolean attn_mask); null for none.</param>
    /// <param name="averageAttnWeights">Average the returned weights over the heads (torch's average_attn_weights).</param>
    /// <param name="isCausal">Mask key j &gt; query i (top-left aligned when L ≠ S).</param>
    /// <param name="batchFirst">Inputs and output are [N, L, E] (torch's batch_first=True) rather than [L, N, E].</param>
    /// <param name="attnBias">Added to the scores, [L, S] or [N·numHeads, L, S] (torch's float attn_mask); null for none.</param>
    /// <returns>The output, laid out as the query, and the weights: [N, L, S] averaged, [N, numHeads, L, S] otherwise
    /// ([L, S] or [numHeads, L, S] unbatched), or null when <paramref name="needWeights"/> is false.</returns>
    /// <exception cref="ArgumentOutOfRangeException">numHeads is not positive.</exception>
    /// <exception cref="ArgumentException">The shapes do not fit (the message names the method, the parameter and every
    /// shape), numHeads does not divide E, or a constant mask holds −∞, a negative number or NaN.</exception>
    public static MultiheadAttentionResult MultiheadAttention(Expr query, Expr key, Expr value, int numHeads,
        Expr inProjWeight, Expr? inProjBias, Expr outProjWeight, Expr? outProjBias, Expr? keyPaddingMask = null,
        bool needWeights = true, Expr? attnMask = null, bool averageAttnWeights = true, bool isCausal = false,
        bool batchFirst = false, Expr? attnBias = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        ArgumentNullException.ThrowIfNull(inProjWeight);
        ArgumentNullException.ThrowIfNull(outProjWeight);
        if (numHeads <= 0)
            throw new ArgumentOutOfRangeException(nameof(numHeads), numHeads, "MultiheadAttention: numHeads must be positive");
        var (output, weights) = CoreAttention.multiheadAttention(numHeads, batchFirst, Optional(keyPaddingMask), Optional(attnMask),
            Optional(attnBias), isCausal, needWeights, averageAttnWeights, inProjWeight.Node, Optional(inProjBias),
            outProjWeight.Node, Optional(outProjBias), query.Node, key.Node, value.Node);
        return new MultiheadAttentionResult(Expr.Wrap(output), weights is null ? null : Expr.Wrap(weights.Value));
    }

    static FSharpOption<CoreExpr> Optional(Expr? e) => e is null ? FSharpOption<CoreExpr>.None : FSharpOption<CoreExpr>.Some(e.Node);
}
