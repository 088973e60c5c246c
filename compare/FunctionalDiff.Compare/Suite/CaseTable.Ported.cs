using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// What ported GAN, GNN and policy-gradient programs reach for (2026-12-05): index_add (a GNN's sum of messages into
// their destination nodes), kl_div's 'batchmean', and torch.distributions' Categorical and Normal log_prob/entropy.
public static partial class CaseTable
{
    // repeated destinations, so the adds accumulate and the source's cotangent gathers from one row twice
    static readonly double[] Destinations = { 2, 0, 2, 3, 2 };
    static readonly double[] Chosen = { 2, 0, 1 };

    static IEnumerable<Case> Ported()
    {
        yield return C("indexAdd axis 0 [4,3] += [5,3]", new[] { I(4, 3), I(5, 3) },
            x => x[0].IndexAdd(0, Const(Destinations, [5], x[0]), x[1]).Sin(),
            x => x[0].index_add(0, Longs(Destinations, 5), x[1], 1.0).sin());
        yield return C("indexAdd axis -1 [2,4] += [2,5]", new[] { I(2, 4), I(2, 5) },
            x => x[0].IndexAdd(-1, Const(Destinations, [5], x[0]), x[1]).Sin(),
            x => x[0].index_add(-1, Longs(Destinations, 5), x[1], 1.0).sin());
        yield return C("indexAdd into zeros [4,2] of x·x [5,2]", new[] { I(5, 2) },
            x => Expr.Zeros([4, 2], x[0].DType).IndexAdd(0, Const(Destinations, [5], x[0]), x[0] * x[0]).Sin(),
            x => torch.zeros(4, 2, dtype: x[0].dtype).index_add(0, Longs(Destinations, 5), x[0] * x[0], 1.0).sin());
        // TorchSharp's kl_div has no 'batchmean'; torch computes it as the sum over the batch size
        yield return C("klDiv batchmean [3,4]", new[] { I(3, 4), I(3, 4) },
            x => Loss.KlDiv(x[0].LogSoftmax(1), x[1].Softmax(1), Reduction.BatchMean),
            x => F.kl_div(F.log_softmax(x[0], 1), F.softmax(x[1], 1), log_target: false, reduction: nn.Reduction.Sum) / 3.0);
        yield return C("klDiv batchmean logTarget [2,3,4]", new[] { I(2, 3, 4), I(2, 3, 4) },
            x => Loss.KlDiv(x[0].LogSoftmax(1), x[1].LogSoftmax(1), Reduction.BatchMean, logTarget: true),
            x => F.kl_div(F.log_softmax(x[0], 1), F.log_softmax(x[1], 1), log_target: true, reduction: nn.Reduction.Sum) / 2.0);
        yield return C("categorical logProb [3,4]", new[] { I(3, 4) },
            x => Distributions.CategoricalLogProb(x[0], Const(Chosen, [3], x[0])),
            x => torch.distributions.Categorical(logits: x[0]).log_prob(Longs(Chosen, 3)));
        yield return C("categorical entropy [2,3,4]", new[] { I(2, 3, 4) },
            x => Distributions.CategoricalEntropy(x[0]),
            x => torch.distributions.Categorical(logits: x[0]).entropy());
        yield return C("normal logProb [2,3]", new[] { I(2, 3), P(2, 3), I(2, 3) },
            x => Distributions.NormalLogProb(x[0], x[1], x[2]),
            x => torch.distributions.Normal(x[0], x[1]).log_prob(x[2]));
        yield return C("normal entropy [3]", new[] { P(3) },
            x => Distributions.NormalEntropy(x[0]),
            x => torch.distributions.Normal(torch.zeros_like(x[0]), x[0]).entropy());
    }
}
