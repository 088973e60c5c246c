namespace FunctionalDiff.Tests;

/// <summary>
/// The README's graph-network example (section "A GAN, a GCN and REINFORCE, ported from PyTorch"), verbatim between
/// the markers. <see cref="ClientEightGnnTests"/> checks that README.md shows exactly this code and replays it against
/// a loop over the edges written with doubles.
/// </summary>
public static class GcnReadme
{
    /// <summary>What the example computes.</summary>
    public sealed record Outcome(Tensor X, int[] Sources, int[] Targets, Tensor Labels, Parameters Initial, List<double> Losses, Parameters Final);

    /// <summary>Runs the example.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // A two-layer GCN on an edge list with self-loops, as torch without PyG: index_select, index_add, cross-entropy.
        int[] src = [0, 1, 1, 2, 2, 3, 0, 1, 2, 3], dst = [1, 0, 2, 1, 3, 2, 0, 1, 2, 3];
        var x = Tensor.RandomNormal([4, 3], seed: 1);
        var labels = Tensor.FromArray([0, 1, 1, 0]);

        Expr GcnConv(Expr h, Expr weight, Expr bias, Expr source, Expr target)
        {
            h = Nn.Linear(h, weight);                                                          // h Wᵀ
            var degree = Expr.Zeros(h.Shape[0]).IndexAdd(0, target, Expr.OnesLike(target));  // zeros(n).index_add_(0, dst, ones)
            var norm = (degree.IndexSelect(0, source) * degree.IndexSelect(0, target)).Rsqrt();
            var messages = h.IndexSelect(0, source) * norm.Unsqueeze(-1);                      // h[src] * norm[:, None]
            return Expr.ZerosLike(h).IndexAdd(0, target, messages) + bias;                     // zeros_like(h).index_add_(0, dst, msg)
        }

        var step = Diff.CompileValueAndGrad((p, data) =>
        {
            var h = GcnConv(data[0], p["conv1.weight"], p["conv1.bias"], data[1], data[2]).Relu();
            return Loss.CrossEntropy(GcnConv(h, p["conv2.weight"], p["conv2.bias"], data[1], data[2]), data[3]);
        });
        var adam = new Adam(Parameters.Of(
            ("conv1.weight", Init.XavierUniform([8, 3], seed: 2)), ("conv1.bias", Tensor.Zeros(8)),
            ("conv2.weight", Init.XavierUniform([2, 8], seed: 3)), ("conv2.bias", Tensor.Zeros(2))), lr: 0.05);
        var initial = adam.Parameters;
        var losses = new List<double>();
        for (int i = 0; i < 50; i++)
        {
            // the edge list is data, so another graph of the same sizes runs the same plan
            var (loss, gradients) = step.Invoke(adam.Parameters, x, Tensor.FromArray(src), Tensor.FromArray(dst), labels);
            losses.Add(loss.Item());
            adam.Step(gradients);
        }
        // END README
        return new(x, src, dst, labels, initial, losses, adam.Parameters);
    }
}
