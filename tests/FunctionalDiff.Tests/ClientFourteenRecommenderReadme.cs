namespace FunctionalDiff.Tests;

/// <summary>
/// The README's recommender (section "A GRU language model, a ResNet and a recommender, ported from PyTorch"), verbatim
/// between the markers with the names it uses defined before them: <see cref="ClientFourteenRecommenderTests"/> checks
/// that README.md shows exactly this code and that its losses and parameters follow the program written over doubles.
/// </summary>
public static class ClientFourteenRecommenderReadme
{
    /// <summary>Runs the fragment: one compiled Adam step per batch of (users, flat history ids, offsets, positives, negatives).</summary>
    public static (List<double> Losses, Parameters Final, int Traces) Train(Parameters model,
        IEnumerable<(Tensor Users, Tensor History, Tensor Offsets, Tensor Positive, Tensor Negative)> batches)
    {
        // BEGIN README
        // nn.EmbeddingBag(mode="mean") pools each user's history, flat item ids cut into bags by offsets, into the
        // user's vector; BPR's -F.logsigmoid(pos - neg).mean() plus L2 on both tables, Adam on a compiled step.
        var step = Diff.CompileValueAndGrad((p, b) =>
        {
            var history = Nn.EmbeddingBag(b[1], p["item.weight"], b[2], mode: "mean");   // [B, d]
            var u = Nn.Embedding(b[0], p["user.weight"]) + history;
            var positive = (u * Nn.Embedding(b[3], p["item.weight"])).Sum(1);
            var negative = (u * Nn.Embedding(b[4], p["item.weight"])).Sum(1);
            var bpr = -(positive - negative).LogSigmoid().Mean();
            return bpr + 1e-2 * (p["user.weight"].Square().Sum() + p["item.weight"].Square().Sum());
        });
        var adam = new Adam(model, lr: 0.05);
        var losses = new List<double>();
        foreach (var (users, history, offsets, positive, negative) in batches)   // other bag sizes, the same plan
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, users, history, offsets, positive, negative);
            adam.Step(gradients);
            losses.Add(loss.ToScalar());
        }
        // END README
        return (losses, adam.Parameters, step.TraceCount);
    }
}
