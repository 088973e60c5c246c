namespace FunctionalDiff.Tests;

/// <summary>
/// The README's transformer example (section "A transformer block, ported from PyTorch"), verbatim between the
/// markers: a one-layer causal transformer trained with a compiled step, AdamW, a warmup-then-cosine schedule,
/// gradient clipping and accumulation over micro-batches. <see cref="ClientSixTransformerTests"/> checks that README.md
/// shows exactly this code and replays the same training step by step against a plain double implementation.
/// </summary>
public static class TransformerReadme
{
    /// <summary>What the example computes.</summary>
    public sealed record Outcome(Parameters Initial, Parameters Final, List<double> Losses);

    /// <summary>Runs the example.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // A one-layer causal transformer (pre-norm, 2 heads, a GELU MLP) learning next-token prediction on a toy
        // language where token t + 1 is (token t + 1) mod 6, written with torch's layouts and names.
        int vocab = 6, d = 8, heads = 2, hidden = 16, context = 5;
        var model = Parameters.Of(
            ("tok", Init.Normal([vocab, d], seed: 1)),                  // nn.Embedding's N(0, 1)
            ("pos", Init.Normal([context, d], seed: 2, std: 0.1)),      // learned positions
            ("ln1.w", Tensor.Ones(d)), ("ln1.b", Tensor.Zeros(d)),
            ("qkv", Init.XavierUniform([3 * d, d], seed: 3)),           // nn.Linear's [out, in]
            ("proj", Init.XavierUniform([d, d], seed: 4)),
            ("ln2.w", Tensor.Ones(d)), ("ln2.b", Tensor.Zeros(d)),
            ("fc1", Init.KaimingUniform([hidden, d], seed: 5, nonlinearity: "relu")), ("fc1.b", Tensor.Zeros(hidden)),
            ("fc2", Init.XavierUniform([d, hidden], seed: 6)), ("fc2.b", Tensor.Zeros(d)),
            ("head", Init.XavierUniform([vocab, d], seed: 7)));

        Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr tokens)   // tokens [N, T]: ids held in a float tensor
        {
            int n = tokens.Shape[0], t = tokens.Shape[1];
            var x = Expr.Embedding(tokens, p["tok"]) + p["pos"].Slice(0, 0, t);            // [N, T, d]
            var qkv = Nn.Linear(Nn.LayerNorm(x, [d], p["ln1.w"], p["ln1.b"]), p["qkv"]).Chunk(3, -1);
            Expr Heads(Expr h) => h.Reshape(n, t, heads, d / heads).Transpose(1, 2);        // [N, heads, T, d / heads]
            var attended = Nn.ScaledDotProductAttention(Heads(qkv[0]), Heads(qkv[1]), Heads(qkv[2]), isCausal: true);
            x = x + Nn.Linear(attended.Transpose(1, 2).Reshape(n, t, d), p["proj"]);       // heads merged, residual
            var h = Nn.Linear(Nn.LayerNorm(x, [d], p["ln2.w"], p["ln2.b"]), p["fc1"], p["fc1.b"]).GeluTanh();
            x = x + Nn.Linear(h, p["fc2"], p["fc2.b"]);
            return Nn.Linear(x, p["head"]);                                                 // [N, T, vocab]
        }

        // The loss and its gradients as one compiled plan; the batch is an input, so every call takes new data.
        var step = Diff.CompileValueAndGrad((p, batch) =>
            Loss.CrossEntropy(Logits(p, batch[0]).Reshape(-1, vocab), batch[1].Reshape(-1)));

        // AdamW under a linear warmup then a cosine decay (torch's LinearLR, then CosineAnnealingLR), set before each
        // step; gradients accumulated over two micro-batches, averaged, then clipped to norm 1 (clip_grad_norm_).
        int steps = 12, warmup = 3;
        double peak = 0.01;
        double Rate(int i) => i < warmup ? peak * (i + 1) / warmup
            : 0.5 * peak * (1 + Math.Cos(Math.PI * (i - warmup) / (steps - warmup)));
        var adamW = new AdamW(model, lr: peak, weightDecay: 0.01);
        var random = new Random(8);
        List<double> losses = [];
        for (int i = 0; i < steps; i++)
        {
            Parameters? sum = null;
            double loss = 0;
            for (int micro = 0; micro < 2; micro++)
            {
                var starts = new[] { random.Next(vocab), random.Next(vocab) };
                var tokens = Tensor.FromArray(starts.SelectMany(s => Enumerable.Range(s, context + 1).Select(j => j % vocab)).ToArray(), 2, context + 1);
                var (l, g) = step.Invoke(adamW.Parameters, tokens[.., ..context], tokens[.., 1..]);   // inputs, next tokens
                loss += l.Item() / 2;
                sum = sum is null ? g : sum.Map((name, s) => s + g[name]);
            }
            var (clipped, norm) = Optimizer.ClipGradNorm(sum!.Map((_, s) => s / 2), maxNorm: 1.0);
            adamW.LearningRate = Rate(i);
            adamW.Step(clipped);
            losses.Add(loss);
        }
        // END README
        return new Outcome(model, adamW.Parameters, losses);
    }
}
