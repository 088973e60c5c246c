namespace FunctionalDiff.Tests;

/// <summary>
/// The README's SimCLR loss (section "A normalizing flow, a GCN with scatter_add and SimCLR, ported from PyTorch"),
/// verbatim between the markers: <see cref="ClientSixteenContrastiveTests"/> checks that README.md shows exactly this
/// code and that its losses and parameters follow the same program written over doubles.
/// </summary>
public static class ClientSixteenContrastiveReadme
{
    /// <summary>Runs the fragment: <paramref name="epochs"/> compiled SGD steps on NT-Xent with clipping and cosine annealing.</summary>
    public static (List<double> Losses, List<double> Norms, Parameters Final) Train(Parameters model, Tensor view1, Tensor view2,
        double temperature, double lr, double etaMin, int tMax, double maxNorm, int epochs)
    {
        // BEGIN README
        // SimCLR's NT-Xent over two views [N, D] of a batch: the 2N embeddings' cosine similarities over a temperature,
        // each sample's similarity to itself left out (fill_diagonal_(-inf)), and sample i's other view (i ± N) as its
        // cross-entropy target; clip_grad_norm_ and CosineAnnealingLR around SGD with momentum.
        var step = Diff.CompileValueAndGrad((p, v) =>
        {
            var z = Nn.Linear(Expr.Cat([v[0], v[1]], 0), p["proj.weight"], p["proj.bias"]);         // [2N, E]
            var sim = Nn.CosineSimilarity(z.Unsqueeze(1), z.Unsqueeze(0), axis: 2) / temperature;    // [2N, 2N]
            return Loss.CrossEntropy(sim.FillDiagonal(double.NegativeInfinity), v[2]);
        });
        int n = view1.Shape[0];
        var positives = Tensor.Cat([Tensor.Arange(n, 2 * n), Tensor.Arange(n)], 0);   // torch.cat([arange(n, 2n), arange(n)])
        var sgd = new Sgd(model, lr: lr, momentum: 0.9);
        var losses = new List<double>();
        var norms = new List<double>();
        for (int epoch = 0; epoch < epochs; epoch++)
        {
            sgd.LearningRate = etaMin + (lr - etaMin) * (1 + Math.Cos(Math.PI * epoch / tMax)) / 2;   // CosineAnnealingLR
            var (loss, gradients) = step.Invoke(sgd.Parameters, view1, view2, positives);
            var (clipped, totalNorm) = Optimizer.ClipGradNorm(gradients, maxNorm);                  // clip_grad_norm_
            sgd.Step(clipped);
            losses.Add(loss.Item());
            norms.Add(totalNorm);
        }
        // END README
        return (losses, norms, sgd.Parameters);
    }
}
