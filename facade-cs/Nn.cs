using Build = FunctionalDiff.Core.ExprModule;
using CoreNn = FunctionalDiff.Core.Nn;

namespace FunctionalDiff;

/// <summary>Neural-network layers with torch's conventions.</summary>
public static partial class Nn
{
    /// <summary>
    /// A dense layer as torch's linear: input @ weightᵀ + bias, with weight [out, in], input [..., in]
    /// and bias [out] (none when null).
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Expr Linear(Expr input, Expr weight, Expr? bias = null)
    {
        var (x, w) = Expr.Align(input, weight);
        // an absent bias is −0, which folds away (x + −0 is x), as torch adds none; + (+0) would stay in
        // the graph as a pass over the output, and turn a −0 entry into +0
        var b = bias is null ? Build.scalar(w.DType, -0.0) : Expr.Align(weight, bias).B;
        return Expr.Wrap(CoreNn.linear(w, b, x));
    }

    /// <summary>
    /// torch.nn.functional.embedding (TorchSharp's <c>functional.embedding</c>, the lookup of <c>nn.Embedding</c>): the rows of
    /// <paramref name="weight"/> [rows, features] named by <paramref name="input"/> (ids held in a float tensor, any shape), giving
    /// input.Shape + [features]; repeated ids accumulate their gradients. The same as <see cref="Expr.Embedding"/>, here beside
    /// the other layers. With <paramref name="paddingIdx"/> (torch's padding_idx; negative counts from the end) that row
    /// passes no gradient, so the padding token's vector stays as it is, while it is still read. F#: <c>Indexing.embedding</c>,
    /// <c>Indexing.embeddingWithPadding</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The weight is not a matrix, a constant id is not one of its rows, or paddingIdx is
    /// not a row.</exception>
    public static Expr Embedding(Expr input, Expr weight, int? paddingIdx = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        return paddingIdx is int row
            ? Expr.Wrap(FunctionalDiff.Core.Indexing.embeddingWithPadding(row, input.Node, weight.Node))
            : Expr.Wrap(FunctionalDiff.Core.Indexing.embedding(input.Node, weight.Node));
    }
}
