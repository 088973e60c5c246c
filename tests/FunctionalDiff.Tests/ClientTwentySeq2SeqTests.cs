using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's seq2seq translator with Luong attention: source and target embeddings, an <c>nn.LSTM</c> encoder
/// (batch_first, <see cref="Nn.Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>
/// under the prefix "encoder.") whose (h_n, c_n) starts an <c>nn.LSTM</c> decoder run with teacher forcing over the
/// whole shifted target at once, Luong's "general" score h_tᵀ W h̄_s masked where the source is padding, the attentional
/// state tanh(W_c [h_t; c_t]), a vocabulary projection, and cross-entropy with <c>ignore_index</c> for the padded
/// targets; trained by Adam in a compiled step. Held to the same program over doubles (the LSTMs as loops, the attention
/// and the loss written out), its gradient to central differences, and Adam's update written out.
/// </summary>
public class ClientTwentySeq2SeqTests
{
    const int Pad = 0, Vs = 6, Vt = 5, E = 3, H = 4, Steps = 3;
    // two padded source sentences, and the targets with BOS (1) first for the decoder's input and EOS (2) last for its output
    static readonly double[,] Source = { { 3, 4, 5, 2 }, { 4, 3, 0, 0 } };
    static readonly double[,] TargetIn = { { 1, 3, 4, 4 }, { 1, 4, 0, 0 } };
    static readonly double[,] TargetOut = { { 3, 4, 4, 2 }, { 4, 2, 0, 0 } };
    static int B => Source.GetLength(0);
    static int S => Source.GetLength(1);
    static int T => TargetIn.GetLength(1);

    static Parameters InitialModel() =>
        Parameters.Of(
            Parameters.Of(("src_emb.weight", Tensor.RandomNormal([Vs, E], seed: 21)), ("tgt_emb.weight", Tensor.RandomNormal([Vt, E], seed: 22)))
                .Concat(Init.Lstm(E, H, seed: 23, prefix: "encoder."))
                .Concat(Init.Lstm(E, H, seed: 24, prefix: "decoder."))
                .Concat(Parameters.Of(
                    ("attn.weight", Init.XavierUniform([H, H], seed: 25)),
                    ("concat.weight", Init.XavierUniform([H, 2 * H], seed: 26)), ("concat.bias", Tensor.Zeros(H)),
                    ("out.weight", Init.XavierUniform([Vt, H], seed: 27)), ("out.bias", Tensor.Zeros(Vt)))));

    static (string Name, int[] Shape)[] Layout => InitialModel().Select(e => (e.Key, e.Value.Shape)).ToArray();

    // ---- the client, as written against the README ----

    static (Expr Loss, Expr Attention) Forward(IReadOnlyDictionary<string, Expr> p, Expr source, Expr targetIn, Expr targetOut)
    {
        var (memory, state) = Nn.Lstm(Nn.Embedding(source, p["src_emb.weight"]), p, batchFirst: true, prefix: "encoder.");   // [B, S, H]
        var (decoded, _) = Nn.Lstm(Nn.Embedding(targetIn, p["tgt_emb.weight"]), p, state, batchFirst: true, prefix: "decoder."); // [B, T, H]
        // Luong's general score: h_tᵀ W h̄_s, with the padded source positions masked out
        var scores = decoded.MatMul(Nn.Linear(memory, p["attn.weight"]).Transpose(1, 2));                                   // [B, T, S]
        var padding = source.Eq(Pad).Unsqueeze(1);                                                                                // [B, 1, S]
        var attention = scores.MaskedFill(padding, double.NegativeInfinity).Softmax(-1);
        var context = attention.MatMul(memory);                                                                              // [B, T, H]
        var attentional = Nn.Linear(Expr.Cat([decoded, context], -1), p["concat.weight"], p["concat.bias"]).Tanh();
        var logits = Nn.Linear(attentional, p["out.weight"], p["out.bias"]);                                                 // [B, T, Vt]
        return (Loss.CrossEntropy(logits.Reshape(-1, Vt), targetOut.Reshape(-1), ignoreIndex: Pad), attention);
    }

    // ---- the reference over doubles ----

    static double[] Embed(double[] table, double[,] ids)
    {
        // time first [T, B, E], as the reference LSTM reads
        var x = new double[ids.GetLength(1) * ids.GetLength(0) * E];
        for (int b = 0; b < ids.GetLength(0); b++)
            for (int t = 0; t < ids.GetLength(1); t++)
                Array.Copy(table, (int)ids[b, t] * E, x, (t * ids.GetLength(0) + b) * E, E);
        return x;
    }

    static double ReferenceLoss(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var zeros = new double[B * H];
        var (memory, h, c) = RecurrentReference.Run(true, 1, 1, H, n => w.GetValueOrDefault("encoder." + n), Embed(w["src_emb.weight"], Source), S, B, E, zeros, zeros);
        var (decoded, _, _) = RecurrentReference.Run(true, 1, 1, H, n => w.GetValueOrDefault("decoder." + n), Embed(w["tgt_emb.weight"], TargetIn), T, B, E, h, c);
        double total = 0;
        int counted = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
            {
                var ht = decoded[((t * B + b) * H)..((t * B + b) * H + H)];
                var weights = new double[S];
                for (int s = 0; s < S; s++)
                {
                    var hs = memory[((s * B + b) * H)..((s * B + b) * H + H)];
                    var energy = Linear(hs, 1, H, H, w["attn.weight"], new double[H]);
                    weights[s] = Source[b, s] == Pad ? double.NegativeInfinity : ht.Zip(energy, (u, v) => u * v).Sum();
                }
                double top = weights.Max();
                var e = weights.Select(v => Math.Exp(v - top)).ToArray();
                var context = new double[H];
                for (int s = 0; s < S; s++)
                    for (int j = 0; j < H; j++) context[j] += e[s] / e.Sum() * memory[(s * B + b) * H + j];
                var attentional = Linear(ht.Concat(context).ToArray(), 1, 2 * H, H, w["concat.weight"], w["concat.bias"]).Select(Math.Tanh).ToArray();
                var logits = Linear(attentional, 1, H, Vt, w["out.weight"], w["out.bias"]);
                if (TargetOut[b, t] == Pad) continue;
                double m = logits.Max();
                total += m + Math.Log(logits.Sum(z => Math.Exp(z - m))) - logits[(int)TargetOut[b, t]];
                counted++;
            }
        return total / counted;
    }

    [Fact]
    public void TeacherForcedAdamStepsAreTheProgramWrittenOut()
    {
        var step = Diff.CompileValueAndGrad((p, data) => Forward(p, data[0], data[1], data[2]).Loss);
        var adam = new Adam(InitialModel(), lr: 0.05);
        var losses = CheckAdamSteps(step, adam, Layout, ReferenceLoss,
            [Tensor.FromArray(Source), Tensor.FromArray(TargetIn), Tensor.FromArray(TargetOut)], Steps, lossTolerance: 1e-13);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }

    [Fact]
    public void AttentionSkipsTheSourcePaddingAndSumsToOne()
    {
        var p = InitialModel().ToDictionary(e => e.Key, e => (Expr)e.Value);
        var attention = Forward(p, Tensor.FromArray(Source), Tensor.FromArray(TargetIn), Tensor.FromArray(TargetOut)).Attention.Eval().ToDoubleArray();
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
            {
                var row = attention[((b * T + t) * S)..((b * T + t) * S + S)];
                Close(1.0, row.Sum(), 1e-15, $"attention [{b}, {t}] sums to 1");
                for (int s = 0; s < S; s++)
                    if (Source[b, s] == Pad) Assert.Equal(0.0, row[s]);
                    else Assert.True(row[s] > 0, $"attention [{b}, {t}, {s}] on a real token");
            }
    }
}
