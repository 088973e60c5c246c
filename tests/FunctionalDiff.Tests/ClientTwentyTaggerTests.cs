using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's part-of-speech tagger: <c>nn.Embedding(padding_idx=0)</c>, a bidirectional <c>nn.LSTM</c> over
/// padded sentences packed by their lengths (<c>pack_padded_sequence(..., enforce_sorted=False)</c> and
/// <c>pad_packed_sequence</c>, here the <c>lengths</c> argument of
/// <see cref="Nn.Lstm(Expr, IReadOnlyDictionary{string, Expr}, ValueTuple{Expr, Expr}?, bool, string, ScanCheckpoint?, Expr?, double, Expr?)"/>),
/// a linear layer to the tags, cross-entropy with torch's default <c>ignore_index=-100</c> on the padded tags; trained by
/// SGD with momentum, <c>clip_grad_norm_</c> and <c>CosineAnnealingLR</c> (the learning rate set from torch's closed
/// form before each step). Held to the program over doubles: the packed LSTM as loops, its gradient by central
/// differences, the clipping, the schedule and SGD's momentum written out.
/// </summary>
public class ClientTwentyTaggerTests
{
    const int V = 7, E = 3, H = 3, Tags = 4, Ignore = -100, Steps = 4, TMax = 4;
    const double Lr = 0.5, EtaMin = 0.05, Momentum = 0.9, MaxNorm = 0.2;
    static readonly double[,] Words = { { 3, 1, 4, 1, 5 }, { 2, 6, 0, 0, 0 }, { 5, 3, 2, 0, 0 } };
    static readonly double[,] Labels = { { 1, 0, 2, 0, 3 }, { 2, 1, Ignore, Ignore, Ignore }, { 3, 1, 2, Ignore, Ignore } };
    static readonly int[] Lengths = [5, 2, 3];
    static int B => Words.GetLength(0);
    static int T => Words.GetLength(1);

    static Parameters InitialModel() =>
        Parameters.Of(Parameters.Of(("emb.weight", Tensor.RandomNormal([V, E], seed: 31)))
            .Concat(Init.Lstm(E, H, seed: 32, bidirectional: true, prefix: "lstm."))
            .Concat(Parameters.Of(("fc.weight", Init.XavierUniform([Tags, 2 * H], seed: 33)), ("fc.bias", Tensor.Zeros(Tags)))));

    static (string Name, int[] Shape)[] Layout => InitialModel().Select(e => (e.Key, e.Value.Shape)).ToArray();

    // ---- the client, as written against the README ----

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr words, Expr labels, Expr lengths)
    {
        var x = Nn.Embedding(words, p["emb.weight"], paddingIdx: 0);                                       // [B, T, E]
        var (output, _) = Nn.Lstm(x, p, batchFirst: true, prefix: "lstm.", lengths: lengths);             // [B, T, 2H]
        var logits = Nn.Linear(output, p["fc.weight"], p["fc.bias"]);                                     // [B, T, Tags]
        return Loss.CrossEntropy(logits.Reshape(-1, Tags), labels.Reshape(-1), ignoreIndex: Ignore);
    }

    /// <summary>CosineAnnealingLR's closed form: η_min + (η₀ − η_min)(1 + cos(π t / T_max)) / 2 at epoch t.</summary>
    static double Cosine(int epoch) => EtaMin + (Lr - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;

    // ---- the reference over doubles ----

    static double ReferenceLoss(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var x = new double[T * B * E];
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
                Array.Copy(w["emb.weight"], (int)Words[b, t] * E, x, (t * B + b) * E, E);
        var zeros = new double[2 * B * H];
        var (output, _, _) = RecurrentReference.Run(true, 1, 2, H, n => w.GetValueOrDefault("lstm." + n), x, T, B, E, zeros, zeros, Lengths);
        double total = 0;
        int counted = 0;
        for (int b = 0; b < B; b++)
            for (int t = 0; t < T; t++)
            {
                if (Labels[b, t] == Ignore) continue;
                var logits = Linear(output[((t * B + b) * 2 * H)..((t * B + b) * 2 * H + 2 * H)], 1, 2 * H, Tags, w["fc.weight"], w["fc.bias"]);
                double m = logits.Max();
                total += m + Math.Log(logits.Sum(z => Math.Exp(z - m))) - logits[(int)Labels[b, t]];
                counted++;
            }
        return total / counted;
    }

    [Fact]
    public void ClippedSgdUnderCosineAnnealingIsTheProgramWrittenOut()
    {
        var step = Diff.CompileValueAndGrad((p, data) => LossOf(p, data[0], data[1], data[2]));
        var sgd = new Sgd(InitialModel(), lr: Lr, momentum: Momentum);
        var p = Flatten(Layout, InitialModel());
        var buffer = new double[p.Length];
        var data = new[] { Tensor.FromArray(Words), Tensor.FromArray(Labels), Tensor.FromArray(Lengths.Select(v => (double)v).ToArray()) };
        var losses = new List<double>();
        bool clippedOnce = false;
        for (int epoch = 0; epoch < Steps; epoch++)
        {
            var (loss, gradients) = step.Invoke(sgd.Parameters, data);
            losses.Add(loss.Item());
            Close(ReferenceLoss(p), loss.Item(), 1e-13, $"loss {epoch}");
            var g = Flatten(Layout, gradients);
            Close(Gradient(ReferenceLoss, p), g, 1e-8, $"gradient {epoch}");
            // padding_idx's row and the padded steps get no gradient
            Assert.All(g[..E], v => Assert.Equal(0.0, v));

            var (clipped, norm) = Optimizer.ClipGradNorm(gradients, maxNorm: MaxNorm);
            double total = Math.Sqrt(g.Sum(e => e * e));
            Close(total, norm, 1e-14, $"norm {epoch}");
            double scale = Math.Min(1, MaxNorm / (total + 1e-6));
            clippedOnce |= scale < 1;
            sgd.LearningRate = Cosine(epoch);
            sgd.Step(clipped);
            // torch's SGD with momentum: the buffer starts as the first gradient, then b = μ b + g; p −= lr b
            for (int i = 0; i < p.Length; i++)
            {
                double gi = g[i] * scale;
                buffer[i] = epoch == 0 ? gi : Momentum * buffer[i] + gi;
                p[i] -= Cosine(epoch) * buffer[i];
            }
            Close(p, Flatten(Layout, sgd.Parameters), 1e-12, $"parameters after epoch {epoch}");
        }
        Assert.True(clippedOnce, "the clipping is active in some step");
        Assert.Equal(1, step.TraceCount);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }

    [Fact]
    public void PaddedWordsDoNotChangeTheTagsOfTheRealOnes()
    {
        // pack_padded_sequence's promise: a sentence's outputs do not depend on what fills its padding
        var p = InitialModel().ToDictionary(e => e.Key, e => (Expr)e.Value);
        var refilled = (double[,])Words.Clone();
        refilled[1, 3] = 4;
        refilled[2, 4] = 6;
        Expr Output(double[,] words) =>
            Nn.Lstm(Nn.Embedding(Tensor.FromArray(words), p["emb.weight"]), p, batchFirst: true, prefix: "lstm.",
                lengths: Tensor.FromArray(Lengths.Select(v => (double)v).ToArray())).Output;
        var (a, b) = (Output(Words).Eval().ToDoubleArray(), Output(refilled).Eval().ToDoubleArray());
        Assert.Equal(a, b);
        Assert.Equal(0.0, a[(1 * T + 3) * 2 * H]);
    }
}
