using Microsoft.FSharp.Core;
using CoreExpr = FunctionalDiff.Core.Expr;
using CoreRecurrent = FunctionalDiff.Core.Recurrent;
using CoreRecurrentOptions = FunctionalDiff.Core.RecurrentOptions;

namespace FunctionalDiff;

// torch.nn.LSTM and torch.nn.GRU over a whole sequence, each layer and direction one Expr.Scan.
public static partial class Nn
{
    /// <summary>
    /// torch.nn.LSTM's forward, <c>output, (h_n, c_n) = lstm(input, (h_0, c_0))</c>, over weights named and laid out as
    /// its state dict: <c>weight_ih_l{k}</c> [4·hidden, in] (in is the input's features for layer 0 and
    /// directions·hidden above it), <c>weight_hh_l{k}</c> [4·hidden, hidden], <c>bias_ih_l{k}</c> and <c>bias_hh_l{k}</c>
    /// [4·hidden] (leave both out for torch's bias=False), the gates in torch's order [i, f, g, o], and the same names
    /// ending in <c>_reverse</c> for the second direction of a bidirectional layer. The number of layers, the directions
    /// and the hidden size are read from the names and shapes, so a state dict saved from torch runs as it is (with
    /// <paramref name="prefix"/> for one inside a larger model). Each layer and direction is one
    /// <see cref="Expr.Scan(Func{Expr[], Expr[], ValueTuple{Expr[], Expr[]}}, Expr[], Expr[])"/> of
    /// <see cref="LstmCell"/>'s step, so the graph does not grow with the sequence, and every derivative of it is a loop
    /// too; the input's projection for every step is one product before the loop. torch's <c>proj_size</c> P is read
    /// from <c>weight_hr_l{k}</c> [P, hidden] beside the others (<see cref="Init.Lstm"/>'s <c>projSize</c>): each step's
    /// h is projected to P entries, so <c>weight_hh_l{k}</c> is [4·hidden, P], the layers above the first read
    /// directions·P features, and h_0, h_n and the output have P entries per direction while c keeps the hidden size.
    /// F#: <c>Recurrent.lstm</c>.
    /// </summary>
    /// <param name="input">[time, batch, in], [batch, time, in] with <paramref name="batchFirst"/>, or [time, in]
    /// unbatched.</param>
    /// <param name="weights">The weights by torch's names (for example the dictionary a loss receives from
    /// <see cref="Diff.CompileValueAndGrad(Func{IReadOnlyDictionary{string, Expr}, Expr[], Expr})"/>); entries not named
    /// as a recurrent weight under <paramref name="prefix"/> are ignored.</param>
    /// <param name="state">(h_0, c_0), each [layers·directions, batch, hidden] ([layers·directions, hidden] unbatched),
    /// whatever <paramref name="batchFirst"/>, as torch's; zeros when null.</param>
    /// <param name="batchFirst">The input and the output are batch first (torch's batch_first=True).</param>
    /// <param name="prefix">Prepended to every name: <c>"encoder.rnn."</c> reads <c>"encoder.rnn.weight_ih_l0"</c>.</param>
    /// <param name="checkpoint">What the gradient of each layer's loop keeps (see <see cref="ScanCheckpoint"/>); the
    /// values and derivatives do not change.</param>
    /// <param name="lengths">Each batch entry's length, [batch] (whole numbers; a constant or data of a compiled step):
    /// torch's <c>pack_padded_sequence(input, lengths, batch_first, enforce_sorted=False)</c> before the layer and
    /// <c>pad_packed_sequence</c> after it, in one argument. Entry b's steps from lengths[b] on are padding: the layer
    /// neither reads them nor lets them change its state, so h_n and c_n are the states after the entry's last real step,
    /// the reverse direction starts at that step, and the output there is 0. The output keeps the input's time axis
    /// (pad_packed_sequence's total_length). Null: every entry has every step.</param>
    /// <param name="dropout">torch's <c>dropout</c>: the probability that an entry of each layer's output but the last is
    /// zeroed before the next layer reads it, the kept entries scaled by 1 / (1 − p), as <see cref="Dropout"/>. 0 (the
    /// default) is torch's eval mode, or a module built without dropout.</param>
    /// <param name="dropoutNoise">With <paramref name="dropout"/> above 0 and two layers or more (torch's training mode):
    /// uniform noise in [0, 1) of shape [layers − 1, ...the output's shape] ([layers − 1, batch, time, directions·hidden]
    /// with <paramref name="batchFirst"/>); layer l's output entry is kept where noise[l] there is at least
    /// <paramref name="dropout"/>. Draw it fresh each step (as <c>Tensor.Rand</c> or a compiled step's input); it is
    /// required then, so that training never runs without the dropout it asked for.</param>
    /// <returns>The top layer's hidden state at every step, [time, batch, directions·hidden] (batch first with
    /// <paramref name="batchFirst"/>; the forward direction's features first), and the final (h_n, c_n) of every layer
    /// and direction, [layers·directions, batch, hidden] in torch's order (layer 0 forward, layer 0 reverse, layer 1
    /// ...). The reverse direction's final state is its state after the first step.</returns>
    /// <example><code>
    /// var p = Init.Lstm(inputSize: 8, hiddenSize: 16, seed: 1, numLayers: 2, bidirectional: true);
    /// var (output, (hN, cN)) = Nn.Lstm(x, p);   // x [T, B, 8]: output [T, B, 32], hN and cN [4, B, 16]
    /// </code></example>
    /// <exception cref="ArgumentException">A weight is missing, has another shape than its layer needs (the message
    /// names it, the shape it has and the one it needs), or is named for a layout torch's module would not have (a gap
    /// between layers, one direction without biases, a proj_size not below the hidden size); the input is not of rank 2
    /// or 3; a state
    /// or lengths do not fit (a constant length must be a whole number from 0 to the time axis); the dtypes differ;
    /// dropout is outside [0, 1), or above 0 over two layers or more without noise of the shape it needs.</exception>
    public static (Expr Output, (Expr Hidden, Expr Cell) State) Lstm(Expr input, IReadOnlyDictionary<string, Expr> weights,
        (Expr Hidden, Expr Cell)? state = null, bool batchFirst = false, string prefix = "", ScanCheckpoint? checkpoint = null, Expr? lengths = null,
        double dropout = 0, Expr? dropoutNoise = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(prefix);
        FSharpOption<Tuple<CoreExpr, CoreExpr>> initial = FSharpOption<Tuple<CoreExpr, CoreExpr>>.None;
        if (state is var (h, c))
        {
            ArgumentNullException.ThrowIfNull(h, "state.Hidden");
            ArgumentNullException.ThrowIfNull(c, "state.Cell");
            initial = FSharpOption<Tuple<CoreExpr, CoreExpr>>.Some(Tuple.Create(h.Node, c.Node));
        }
        var (output, finals) = CoreRecurrent.lstm(RecurrentOptions(batchFirst, prefix, checkpoint, lengths, dropout, dropoutNoise), Nodes(weights), input.Node, initial);
        return (Expr.Wrap(output), (Expr.Wrap(finals.Item1), Expr.Wrap(finals.Item2)));
    }

    /// <summary>
    /// <see cref="Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>
    /// over weights held as tensors (a <see cref="Parameters"/>, as <see cref="Init.Lstm"/> returns or an <c>.npz</c>
    /// file holds), each a constant of the graph.
    /// </summary>
    /// <exception cref="ArgumentException">As the overload over expressions.</exception>
    public static (Expr Output, (Expr Hidden, Expr Cell) State) Lstm(Expr input, IReadOnlyDictionary<string, Tensor> weights,
        (Expr Hidden, Expr Cell)? state = null, bool batchFirst = false, string prefix = "", ScanCheckpoint? checkpoint = null, Expr? lengths = null,
        double dropout = 0, Expr? dropoutNoise = null) =>
        Lstm(input, Constants(weights), state, batchFirst, prefix, checkpoint, lengths, dropout, dropoutNoise);

    /// <summary>
    /// torch.nn.GRU's forward, <c>output, h_n = gru(input, h_0)</c>, over weights named and laid out as its state dict:
    /// as <see cref="Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>
    /// with 3·hidden rows per weight, the gates in torch's order [r, z, n] (<see cref="GruCell"/>'s step), and no cell
    /// state. F#: <c>Recurrent.gru</c>.
    /// </summary>
    /// <param name="input">[time, batch, in], [batch, time, in] with <paramref name="batchFirst"/>, or [time, in]
    /// unbatched.</param>
    /// <param name="weights">The weights by torch's names; entries not named as a recurrent weight under
    /// <paramref name="prefix"/> are ignored.</param>
    /// <param name="hidden">h_0, [layers·directions, batch, hidden] ([layers·directions, hidden] unbatched); zeros when
    /// null.</param>
    /// <param name="batchFirst">The input and the output are batch first (torch's batch_first=True).</param>
    /// <param name="prefix">Prepended to every name.</param>
    /// <param name="checkpoint">What the gradient of each layer's loop keeps; the values do not change.</param>
    /// <param name="lengths">Each batch entry's length, [batch], as torch's packed sequences (see
    /// <see cref="Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>).</param>
    /// <param name="dropout">torch's <c>dropout</c> between layers (see <see cref="Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>).</param>
    /// <param name="dropoutNoise">Its noise, [layers − 1, ...the output's shape], uniform in [0, 1).</param>
    /// <returns>The top layer's hidden state at every step, [time, batch, directions·hidden], and h_n, [layers·directions,
    /// batch, hidden].</returns>
    /// <exception cref="ArgumentException">A weight is missing or has another shape than its layer needs, the input is
    /// not of rank 2 or 3, h_0, lengths or the dropout noise do not fit, or the dtypes differ.</exception>
    public static (Expr Output, Expr Hidden) Gru(Expr input, IReadOnlyDictionary<string, Expr> weights, Expr? hidden = null,
        bool batchFirst = false, string prefix = "", ScanCheckpoint? checkpoint = null, Expr? lengths = null,
        double dropout = 0, Expr? dropoutNoise = null)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(prefix);
        var initial = hidden is null ? FSharpOption<CoreExpr>.None : FSharpOption<CoreExpr>.Some(hidden.Node);
        var (output, final) = CoreRecurrent.gru(RecurrentOptions(batchFirst, prefix, checkpoint, lengths, dropout, dropoutNoise), Nodes(weights), input.Node, initial);
        return (Expr.Wrap(output), Expr.Wrap(final));
    }

    /// <summary>
    /// <see cref="Gru(Expr, IReadOnlyDictionary{string, Expr}, Expr?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/> over weights held
    /// as tensors (a <see cref="Parameters"/>), each a constant of the graph.
    /// </summary>
    /// <exception cref="ArgumentException">As the overload over expressions.</exception>
    public static (Expr Output, Expr Hidden) Gru(Expr input, IReadOnlyDictionary<string, Tensor> weights, Expr? hidden = null,
        bool batchFirst = false, string prefix = "", ScanCheckpoint? checkpoint = null, Expr? lengths = null,
        double dropout = 0, Expr? dropoutNoise = null) =>
        Gru(input, Constants(weights), hidden, batchFirst, prefix, checkpoint, lengths, dropout, dropoutNoise);

    /// <summary>
    /// torch.nn.RNN's forward (Elman's network), <c>output, h_n = rnn(input, h_0)</c>, over weights named and laid out as
    /// its state dict: as <see cref="Gru(Expr, IReadOnlyDictionary{string, Expr}, Expr?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>
    /// with hidden rows per weight (no gates), each step h' = f(x·W_ihᵀ + b_ih + h·W_hhᵀ + b_hh) with
    /// <paramref name="nonlinearity"/> f, "tanh" (torch's default) or "relu" (<see cref="RnnCell"/>'s step).
    /// F#: <c>Recurrent.rnn</c>.
    /// </summary>
    /// <returns>The top layer's hidden state at every step, [time, batch, directions·hidden], and h_n, [layers·directions,
    /// batch, hidden].</returns>
    /// <exception cref="ArgumentException">A weight is missing or has another shape than its layer needs, the input is
    /// not of rank 2 or 3, h_0, lengths or the dropout noise do not fit, the dtypes differ, or the nonlinearity is not
    /// "tanh" or "relu".</exception>
    public static (Expr Output, Expr Hidden) Rnn(Expr input, IReadOnlyDictionary<string, Expr> weights, Expr? hidden = null,
        bool batchFirst = false, string prefix = "", ScanCheckpoint? checkpoint = null, Expr? lengths = null,
        double dropout = 0, Expr? dropoutNoise = null, string nonlinearity = "tanh")
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(prefix);
        ArgumentNullException.ThrowIfNull(nonlinearity);
        var initial = hidden is null ? FSharpOption<CoreExpr>.None : FSharpOption<CoreExpr>.Some(hidden.Node);
        var (output, final) = CoreRecurrent.rnn(nonlinearity, RecurrentOptions(batchFirst, prefix, checkpoint, lengths, dropout, dropoutNoise), Nodes(weights), input.Node, initial);
        return (Expr.Wrap(output), Expr.Wrap(final));
    }

    /// <summary>
    /// <see cref="Rnn(Expr, IReadOnlyDictionary{string, Expr}, Expr?, bool, string, ScanCheckpoint?, Expr?, double, Expr?, string)"/> over weights held
    /// as tensors (a <see cref="Parameters"/>), each a constant of the graph.
    /// </summary>
    /// <exception cref="ArgumentException">As the overload over expressions.</exception>
    public static (Expr Output, Expr Hidden) Rnn(Expr input, IReadOnlyDictionary<string, Tensor> weights, Expr? hidden = null,
        bool batchFirst = false, string prefix = "", ScanCheckpoint? checkpoint = null, Expr? lengths = null,
        double dropout = 0, Expr? dropoutNoise = null, string nonlinearity = "tanh") =>
        Rnn(input, Constants(weights), hidden, batchFirst, prefix, checkpoint, lengths, dropout, dropoutNoise, nonlinearity);

    static CoreRecurrentOptions RecurrentOptions(bool batchFirst, string prefix, ScanCheckpoint? checkpoint, Expr? lengths,
        double dropout, Expr? dropoutNoise) =>
        new(batchFirst, prefix, (checkpoint ?? ScanCheckpoint.None).ToCore(), Optional(lengths), dropout, Optional(dropoutNoise));

    // a null entry stays null, for the core to name it when it is one of the weights read
    static IReadOnlyDictionary<string, CoreExpr> Nodes(IReadOnlyDictionary<string, Expr> weights) =>
        weights.ToDictionary(entry => entry.Key, entry => entry.Value?.Node!, StringComparer.Ordinal);

    static IReadOnlyDictionary<string, Expr> Constants(IReadOnlyDictionary<string, Tensor> weights)
    {
        ArgumentNullException.ThrowIfNull(weights);
        return weights.ToDictionary(entry => entry.Key, entry => (Expr)entry.Value!, StringComparer.Ordinal);
    }
}
