using Microsoft.FSharp.Core;
using Build = FunctionalDiff.Core.ExprModule;
using CoreAttention = FunctionalDiff.Core.Attention;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreNormalisation = FunctionalDiff.Core.Normalisation;

namespace FunctionalDiff;

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
    /// <exception cref="ArgumentException">The shapes do not fit (the message names the method and every shape), a constant
    /// attnMask holds −∞, a negative number or NaN, or dropout lacks its noise.</exception>
    public static Expr ScaledDotProductAttention(Expr query, Expr key, Expr value, Expr? attnMask = null, double dropoutP = 0.0,
        bool isCausal = false, double? scale = null, Expr? dropoutNoise = null, Expr? attnBias = null)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
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

    static FSharpOption<CoreExpr> Optional(Expr? e) => e is null ? FSharpOption<CoreExpr>.None : FSharpOption<CoreExpr>.Some(e.Node);
}
