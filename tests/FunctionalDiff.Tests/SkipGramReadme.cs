namespace FunctionalDiff.Tests;

/// <summary>
/// The README's skip-gram example (section "Skip-gram, a causal TCN, a mixture density network, Sinkhorn and padded
/// attention, ported from PyTorch"), verbatim between the markers. <see cref="ClientTenSkipGramReadmeTests"/> checks
/// that README.md shows exactly this code and replays it over doubles.
/// </summary>
public static class SkipGramReadme
{
    /// <summary>What the example computes.</summary>
    public sealed record Outcome(Tensor Noise, int[] Centers, int[] Contexts, Parameters Initial, List<double> Losses, Parameters Final);

    /// <summary>Runs the example.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // Word2vec skip-gram with negative sampling: an input and an output embedding, k noise words per pair drawn
        // from the unigram distribution to the power 0.75 (torch.multinomial), and SGD on a compiled step.
        int vocab = 8, dim = 4, k = 3;
        var counts = Tensor.FromArray([40, 25, 12, 9, 6, 4, 2, 2]);                   // word counts in the corpus
        var noise = counts.Pow(0.75) / counts.Pow(0.75).Sum();
        int[] centers = [0, 1, 2, 0, 3, 5], contexts = [1, 0, 0, 2, 4, 6];             // (center, context) pairs

        var step = Diff.CompileValueAndGrad((p, data) =>
        {
            var u = Expr.Embedding(data[0], p["in_embed.weight"]);                     // [B, d]
            var v = Expr.Embedding(data[1], p["out_embed.weight"]);                    // [B, d]
            var vNeg = Expr.Embedding(data[2], p["out_embed.weight"]);                 // [B, k, d]
            var positive = (u * v).Sum(1).LogSigmoid();                                 // F.logsigmoid((u * v).sum(1))
            var negative = (-vNeg.Bmm(u.Unsqueeze(2)).Squeeze(2)).LogSigmoid().Sum(1);  // torch.bmm(v_neg, u.unsqueeze(2))
            return -(positive + negative).Mean();
        });

        var sgd = new Sgd(Parameters.Of(
            ("in_embed.weight", Init.Uniform([vocab, dim], seed: 1, low: -0.5, high: 0.5)),
            ("out_embed.weight", Init.Uniform([vocab, dim], seed: 2, low: -0.5, high: 0.5))), lr: 0.5);
        var initial = sgd.Parameters;
        var losses = new List<double>();
        Tensor.ManualSeed(0);                                                           // torch.manual_seed(0)
        for (int i = 0; i < 20; i++)
        {
            // fresh noise words every step: torch.multinomial(noise, B * k, replacement=True).view(B, k)
            var negatives = noise.Multinomial(centers.Length * k, replacement: true).Reshape(centers.Length, k);
            var (loss, gradients) = step.Invoke(sgd.Parameters, Tensor.FromArray(centers), Tensor.FromArray(contexts), negatives);
            losses.Add(loss.Item());
            sgd.Step(gradients);
        }
        // END README
        return new(noise, centers, contexts, initial, losses, sgd.Parameters);
    }
}
