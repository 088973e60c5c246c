using CoreExprNode = FunctionalDiff.Core.Expr;
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
    /// torch.nn.functional.bilinear (the layer of <c>nn.Bilinear</c>): y[..., o] = Σᵢⱼ input1[..., i]·weight[o, i, j]·input2[..., j]
    /// + bias[o], with input1 [..., in1], input2 [..., in2] (the same leading dimensions), weight [out, in1, in2] and bias
    /// [out] (none when null). F#: <c>Functional.bilinear</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together (the message names them).</exception>
    public static Expr Bilinear(Expr input1, Expr input2, Expr weight, Expr? bias = null)
    {
        ArgumentNullException.ThrowIfNull(input1);
        ArgumentNullException.ThrowIfNull(input2);
        var (x1, w) = Expr.Align(input1, weight);
        var x2 = Expr.Align(weight, input2).B;
        var b = bias is null ? Build.scalar(w.DType, -0.0) : Expr.Align(weight, bias).B;
        return Expr.Wrap(FunctionalDiff.Core.Functional.bilinear(w, b, x1, x2));
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

    /// <summary>
    /// torch.nn.functional.embedding_bag (the lookup of <c>nn.EmbeddingBag</c>): the rows of <paramref name="weight"/>
    /// [rows, features] named by the ids of <paramref name="input"/>, reduced per bag by <paramref name="mode"/>
    /// (<c>"mean"</c>, torch's default, <c>"sum"</c> or <c>"max"</c>), giving [bags, features]. A 1-D input holds the
    /// bags one after another and <paramref name="offsets"/> [bags] where each starts (the first 0, as torch requires);
    /// with <paramref name="includeLastOffset"/> offsets has one more entry, the end (torch's include_last_offset). A 2-D
    /// input [bags, length] is one bag per row, without offsets. <paramref name="perSampleWeights"/> (input's shape,
    /// mode <c>"sum"</c> only, as torch) scale each row before the sum; ids equal to <paramref name="paddingIdx"/> are
    /// left out of their bag (a mean counts only the others); an empty bag gives zeros, as torch's. Ids and offsets are
    /// whole numbers held in float tensors, and may be data of a compiled step. The gradient of a row is the sum over its
    /// occurrences (each divided by its bag's size for the mean); for <c>"max"</c> it is shared evenly among tied entries,
    /// where torch gives it to one. F#: <c>Indexing.embeddingBag</c>.
    /// </summary>
    /// <example><c>Nn.EmbeddingBag(Tensor.FromArray([0, 2, 3, 1, 4, 6]), table, Tensor.FromArray([0, 3, 4]))</c>: three bags,
    /// the means of rows {0, 2, 3}, {1} and {4, 6}.</example>
    /// <exception cref="ArgumentNullException">input, weight or mode is null.</exception>
    /// <exception cref="ArgumentException">The mode is not one of torch's; the weight is not a matrix; a 1-D input has no
    /// offsets or a 2-D input has some; constant offsets do not start at 0, decrease or pass the input's end; a constant id
    /// is not a row; perSampleWeights are given with a mode other than "sum" or are not of input's shape; paddingIdx is
    /// not a row.</exception>
    public static Expr EmbeddingBag(Expr input, Expr weight, Expr? offsets = null, string mode = "mean", Expr? perSampleWeights = null,
        bool includeLastOffset = false, int? paddingIdx = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(mode);
        return Expr.Wrap(FunctionalDiff.Core.Indexing.embeddingBag(mode, Optional(offsets), includeLastOffset,
            Optional(perSampleWeights), paddingIdx is int row ? Microsoft.FSharp.Core.FSharpOption<int>.Some(row) : Microsoft.FSharp.Core.FSharpOption<int>.None,
            input.Node, weight.Node));
    }

    /// <summary>
    /// One step of torch's <c>nn.GRUCell</c> (<c>torch.gru_cell(input, hx, w_ih, w_hh, b_ih, b_hh)</c>): with
    /// gi = input·weightIhᵀ + biasIh and gh = hidden·weightHhᵀ + biasHh split into thirds [r, z, n] as torch lays out its
    /// weights, r = σ(gi_r + gh_r), z = σ(gi_z + gh_z), n = tanh(gi_n + r ⊙ gh_n), and the new hidden state is
    /// (1 − z) ⊙ n + z ⊙ hidden. <paramref name="weightIh"/> is [3H, in], <paramref name="weightHh"/> [3H, H], the biases
    /// [3H] (none when null), <paramref name="input"/> [..., in] and <paramref name="hidden"/> [..., H]. Over a sequence,
    /// run it as the step of <see cref="Expr.Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr)"/>, time first:
    /// <c>Expr.Scan((h, x) =&gt; { var h2 = Nn.GruCell(x, h, wIh, wHh, bIh, bHh); return (h2, h2); }, h0, xs)</c>.
    /// F#: <c>Nn.gruCell</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static Expr GruCell(Expr input, Expr hidden, Expr weightIh, Expr weightHh, Expr? biasIh = null, Expr? biasHh = null)
    {
        var (x, h, wIh, wHh, bIh, bHh) = CellOperands(input, hidden, weightIh, weightHh, biasIh, biasHh);
        return Expr.Wrap(CoreNn.gruCell(wIh, wHh, bIh, bHh, x, h));
    }

    /// <summary>
    /// One step of torch's <c>nn.RNNCell</c> (<c>torch.rnn_tanh_cell</c> / <c>rnn_relu_cell</c>): the new hidden state is
    /// f(input·weightIhᵀ + biasIh + hidden·weightHhᵀ + biasHh) with <paramref name="nonlinearity"/> f, "tanh" (torch's
    /// default) or "relu". <paramref name="weightIh"/> is [H, in], <paramref name="weightHh"/> [H, H], the biases [H] (none
    /// when null), <paramref name="input"/> [..., in] and <paramref name="hidden"/> [..., H]. F#: <c>Nn.rnnCell</c>.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not fit together, or the nonlinearity is not "tanh" or "relu".</exception>
    public static Expr RnnCell(Expr input, Expr hidden, Expr weightIh, Expr weightHh, Expr? biasIh = null, Expr? biasHh = null, string nonlinearity = "tanh")
    {
        ArgumentNullException.ThrowIfNull(nonlinearity);
        var (x, h, wIh, wHh, bIh, bHh) = CellOperands(input, hidden, weightIh, weightHh, biasIh, biasHh);
        return Expr.Wrap(CoreNn.rnnCell(nonlinearity, wIh, wHh, bIh, bHh, x, h));
    }

    /// <summary>A recurrent cell's operands as nodes, bare literals taking the hidden state's dtype; an absent bias is −0, which folds away, as in Linear.</summary>
    static (CoreExprNode X, CoreExprNode H, CoreExprNode WIh, CoreExprNode WHh, CoreExprNode BIh, CoreExprNode BHh) CellOperands(
        Expr input, Expr hidden, Expr weightIh, Expr weightHh, Expr? biasIh, Expr? biasHh)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(hidden);
        ArgumentNullException.ThrowIfNull(weightIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        var (x, h) = Expr.Align(input, hidden);
        var wIh = Expr.Align(hidden, weightIh).B;
        var wHh = Expr.Align(hidden, weightHh).B;
        CoreExprNode Bias(Expr? b) => b is null ? Build.scalar(wIh.DType, -0.0) : Expr.Align(hidden, b).B;
        return (x, h, wIh, wHh, Bias(biasIh), Bias(biasHh));
    }

    /// <summary>
    /// One step of torch's <c>nn.LSTMCell</c> (<c>h1, c1 = torch.lstm_cell(input, (hx, cx), w_ih, w_hh, b_ih, b_hh)</c>):
    /// the gates input·weightIhᵀ + biasIh + hidden·weightHhᵀ + biasHh split into quarters [i, f, g, o] as torch lays
    /// out its weights, the new cell c' = σ(f) ⊙ c + σ(i) ⊙ tanh(g) and the new hidden state h' = σ(o) ⊙ tanh(c').
    /// <paramref name="weightIh"/> is [4H, in], <paramref name="weightHh"/> [4H, H], the biases [4H] (none when null),
    /// <paramref name="input"/> [..., in], and the state's hidden and cell [..., H]. Over a sequence, run it as the
    /// step of <see cref="Expr.Scan(Func{Expr[], Expr[], ValueTuple{Expr[], Expr[]}}, Expr[], Expr[])"/> with the carry
    /// [h, c], time first. F#: <c>Nn.lstmCell</c>.
    /// </summary>
    /// <returns>The new hidden state and the new cell, as torch's pair (h1, c1).</returns>
    /// <exception cref="ArgumentException">The shapes do not fit together.</exception>
    public static (Expr Hidden, Expr Cell) LstmCell(Expr input, (Expr Hidden, Expr Cell) state, Expr weightIh, Expr weightHh,
        Expr? biasIh = null, Expr? biasHh = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weightIh);
        ArgumentNullException.ThrowIfNull(weightHh);
        ArgumentNullException.ThrowIfNull(state.Hidden, "state.Hidden");
        ArgumentNullException.ThrowIfNull(state.Cell, "state.Cell");
        var (x, h) = Expr.Align(input, state.Hidden);
        var c = Expr.Align(input, state.Cell).B;
        var wIh = Expr.Align(state.Hidden, weightIh).B;
        var wHh = Expr.Align(state.Hidden, weightHh).B;
        // an absent bias is −0, which folds away, as in Linear
        FunctionalDiff.Core.Expr Bias(Expr? b) => b is null ? Build.scalar(wIh.DType, -0.0) : Expr.Align(state.Hidden, b).B;
        var (hNew, cNew) = CoreNn.lstmCell(wIh, wHh, Bias(biasIh), Bias(biasHh), x, h, c);
        return (Expr.Wrap(hNew), Expr.Wrap(cNew));
    }
}
