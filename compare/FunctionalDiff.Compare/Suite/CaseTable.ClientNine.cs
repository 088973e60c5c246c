using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// What ported contrastive, distillation and diffusion programs compute (2026-12-05): CLIP's InfoNCE in both directions,
// the distillation loss kl_div(batchmean)·T² plus cross-entropy with the teacher detached, cumprod (a diffusion
// schedule's alphas_cumprod) and Python's % (remainder) as the C# operator.
public static partial class CaseTable
{
    static readonly double[] Diagonal4 = { 0, 1, 2, 3 };
    static readonly double[] HardLabels = { 1, 0, 3 };

    static IEnumerable<Case> ClientNine()
    {
        yield return C("infoNCE both ways [4,3] [4,3]", new[] { I(4, 3), I(4, 3) },
            x =>
            {
                var logits = Nn.Normalize(x[0], axis: -1).MatMul(Nn.Normalize(x[1], axis: -1).T) / 0.2;
                var labels = Const(Diagonal4, [4], x[0]);
                return (Loss.CrossEntropy(logits, labels) + Loss.CrossEntropy(logits.T, labels)) / 2;
            },
            x =>
            {
                var logits = F.normalize(x[0], dim: -1).matmul(F.normalize(x[1], dim: -1).T) / 0.2;
                var labels = Longs(Diagonal4, 4);
                return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2;
            });
        // TorchSharp's kl_div has no 'batchmean'; torch computes it as the sum over the batch size
        yield return C("distillation klDiv batchmean T^2 + CE [3,4]", new[] { I(3, 4), I(3, 4) },
            x => Loss.KlDiv((x[0] / 2.5).LogSoftmax(1), (x[1].Detach() / 2.5).Softmax(1), Reduction.BatchMean) * 6.25
                 + Loss.CrossEntropy(x[0], Const(HardLabels, [3], x[0])),
            x => F.kl_div(F.log_softmax(x[0] / 2.5, 1), F.softmax(x[1].detach() / 2.5, 1), log_target: false, reduction: nn.Reduction.Sum) / 3.0 * 6.25
                 + F.cross_entropy(x[0], Longs(HardLabels, 3)));
        yield return C("cumprod axis 0 [5,2]", new[] { P(5, 2) }, x => x[0].Cumprod(0), x => x[0].cumprod(0));
        yield return C("cumprod axis -1 of 1 - x [2,5]", new[] { U(2, 5) }, x => (1 - 0.5 * x[0]).Cumprod(-1), x => (1 - 0.5 * x[0]).cumprod(-1));
        yield return C("percent remainder x % 0.7 [6]", new[] { I(6) }, x => (3.0 * x[0]) % 0.7, x => torch.remainder(3.0 * x[0], 0.7));
    }
}
