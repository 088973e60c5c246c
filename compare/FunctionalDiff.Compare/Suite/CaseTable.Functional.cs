using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// torch.nn.functional's calls a PyTorch user ports (2026-12-05): normalize, cosine_similarity,
// pairwise_distance, F.pad's four modes, binary_cross_entropy_with_logits with weight and pos_weight, and
// cross_entropy with ignore_index and label smoothing.
public static partial class CaseTable
{
    static readonly long[] IgnoredTargets = { 2, -100, 0, 1, -100 };

    static IEnumerable<Case> Functional()
    {
        yield return C("normalize p=2 axis 1 [3,4]", new[] { I(3, 4) }, x => Nn.Normalize(x[0]), x => F.normalize(x[0]));
        yield return C("normalize p=3 axis 0 [3,4]", new[] { I(3, 4) }, x => Nn.Normalize(x[0], p: 3, axis: 0), x => F.normalize(x[0], p: 3, dim: 0));
        yield return C("cosineSimilarity [3,4]·[3,4]", new[] { I(3, 4), I(3, 4) }, x => Nn.CosineSimilarity(x[0], x[1]), x => F.cosine_similarity(x[0], x[1]));
        yield return C("cosineSimilarity axis -1 [2,3,4]·[1,4]", new[] { I(2, 3, 4), I(1, 4) }, x => Nn.CosineSimilarity(x[0], x[1], axis: -1),
            x => F.cosine_similarity(x[0], x[1], dim: -1));
        yield return C("pairwiseDistance p=2 [3,4]·[3,4]", new[] { I(3, 4), I(3, 4) }, x => Nn.PairwiseDistance(x[0], x[1]), x => F.pairwise_distance(x[0], x[1]));
        yield return C("pairwiseDistance p=3 keepDims [3,4]·[4]", new[] { I(3, 4), I(4) }, x => Nn.PairwiseDistance(x[0], x[1], p: 3, keepDims: true),
            x => F.pairwise_distance(x[0], x[1], p: 3, keepdim: true));
        foreach (var (mode, torchMode) in new[] { (PadMode.Reflect, PaddingModes.Reflect), (PadMode.Replicate, PaddingModes.Replicate), (PadMode.Circular, PaddingModes.Circular) })
            yield return C($"pad {mode} (2,1,1,2) [2,3,4]", new[] { I(2, 3, 4) }, x => Nn.Pad(x[0], [2, 1, 1, 2], mode).Sin(),
                x => F.pad(x[0], new long[] { 2, 1, 1, 2 }, torchMode).sin());
        yield return C("pad constant 0.5 (1,2) [3,4]", new[] { I(3, 4) }, x => Nn.Pad(x[0], [1, 2], value: 0.5).Sin(),
            x => F.pad(x[0], new long[] { 1, 2 }, value: 0.5).sin());
        // F.gaussian_nll_loss written as torch's Python writes it (TorchSharp's own module flattens and checks shapes
        // differently): the variance cloned and clamped at eps in place under no_grad, so its gradient passes the clamp.
        // The per-row case puts some variances below eps (x² · 2e-6), where the clamp acts.
        yield return C("gaussianNllLoss variance per element full [3,4]", new[] { I(3, 4), I(3, 4), I(3, 4) },
            x => Loss.GaussianNllLoss(x[0], x[1], x[2].Abs() + 0.1, full: true),
            x => TorchGaussianNll(x[0], x[1], x[2].abs() + 0.1, full: true).mean());
        yield return C("gaussianNllLoss variance per row clamped sum [4,3]", new[] { I(4, 3), I(4, 3), I(4) },
            x => Loss.GaussianNllLoss(x[0], x[1], x[2].Square() * 2e-6, reduction: Reduction.Sum),
            x => TorchGaussianNll(x[0], x[1], (x[2].square() * 2e-6).unsqueeze(-1), full: false).sum());
        // F.kl_div with torch's default log_target=False, passed explicitly (TorchSharp's default is true)
        yield return C("klDiv batchmean-by-sum [3,4]", new[] { I(3, 4), I(3, 4) },
            x => Loss.KlDiv(x[0].LogSoftmax(1), x[1].Softmax(1), Reduction.Sum) / 3.0,
            x => F.kl_div(F.log_softmax(x[0], 1), F.softmax(x[1], 1), log_target: false, reduction: nn.Reduction.Sum) / 3.0);
        yield return C("klDiv logTarget mean [3,4]", new[] { I(3, 4), I(3, 4) },
            x => Loss.KlDiv(x[0].LogSoftmax(1), x[1].LogSoftmax(1), logTarget: true),
            x => F.kl_div(F.log_softmax(x[0], 1), F.log_softmax(x[1], 1), log_target: true, reduction: nn.Reduction.Mean));
        // torch differentiates neither weight nor pos_weight (autograd refuses them as inputs), so they are constants here
        double[] positive = { 0.5, 1.5, 2, 3 }, perExample = { 1, 0.5, 2 };
        yield return C("bceWithLogits weight posWeight sum [3,4]", new[] { I(3, 4), U(3, 4) },
            x => Loss.BinaryCrossEntropyWithLogits(x[0], (x[1] + 1.0) * 0.5, Reduction.Sum, weight: Const(perExample, [3, 1], x[0]), posWeight: Const(positive, [4], x[0])),
            x => F.binary_cross_entropy_with_logits(x[0], (x[1] + 1.0) * 0.5, weight: Const(perExample, new long[] { 3, 1 }, x[0]), reduction: nn.Reduction.Sum,
                pos_weights: Const(positive, new long[] { 4 }, x[0])));
        yield return C("bceWithLogits posWeight mean [5,4]", new[] { I(5, 4), U(5, 4) },
            x => Loss.BinaryCrossEntropyWithLogits(x[0], (x[1] + 1.0) * 0.5, posWeight: Const(positive, [4], x[0])),
            x => F.binary_cross_entropy_with_logits(x[0], (x[1] + 1.0) * 0.5, pos_weights: Const(positive, new long[] { 4 }, x[0])));
        yield return C("bce weight [3,4]", new[] { U(3, 4), U(3, 4) },
            x => Loss.BinaryCrossEntropy((x[0] * 2.0).Sigmoid(), (x[1] + 1.0) * 0.5, weight: Const(positive, [4], x[0])),
            x => F.binary_cross_entropy((x[0] * 2.0).sigmoid(), (x[1] + 1.0) * 0.5, weight: Const(positive, new long[] { 4 }, x[0])));
        foreach (var beta in new[] { 0.5, 3.0 })
            yield return C($"softplus beta {beta} [2,3]", new[] { I(2, 3) }, x => x[0].Softplus(beta), x => F.softplus(x[0], beta: beta));
        foreach (var smoothing in new[] { 0.0, 0.2 })
            yield return C($"crossEntropy ignoreIndex -100 smoothing {smoothing} [5,3]", new[] { I(5, 3) },
                x => Loss.CrossEntropy(x[0], IgnoredTargets.Select(t => (int)t).ToArray(), ignoreIndex: -100, labelSmoothing: smoothing),
                x => F.cross_entropy(x[0], torch.tensor(IgnoredTargets), ignore_index: -100, label_smoothing: smoothing));
        // TorchSharp's nll_loss takes no ignore_index; torch's cross_entropy of log-probabilities is nll_loss of them
        // (log_softmax leaves log-probabilities unchanged), with the ignore_index
        yield return C("nllLoss ignoreIndex -100 sum [5,3]", new[] { I(5, 3) },
            x => Loss.NllLoss(x[0].LogSoftmax(1), IgnoredTargets.Select(t => (int)t).ToArray(), Reduction.Sum, ignoreIndex: -100),
            x => F.cross_entropy(F.log_softmax(x[0], 1), torch.tensor(IgnoredTargets), ignore_index: -100, reduction: nn.Reduction.Sum));
        // class weights (2026-12-05): torch's mean divides by the kept targets' weights; with smoothing each class's term is
        // weighted too; probability targets divide by the batch; the weights are constants, as torch does not differentiate them
        double[] classWeights = { 0.5, 2, 1.25 }, fourWeights = { 1, 0.25, 3, 0.5 };
        foreach (var smoothing in new[] { 0.0, 0.2 })
            yield return C($"crossEntropy weight ignoreIndex -100 smoothing {smoothing} [5,3]", new[] { I(5, 3) },
                x => Loss.CrossEntropy(x[0], IgnoredTargets.Select(t => (int)t).ToArray(), ignoreIndex: -100, labelSmoothing: smoothing, weight: Const(classWeights, [3], x[0])),
                x => F.cross_entropy(x[0], torch.tensor(IgnoredTargets), weight: Const(classWeights, new long[] { 3 }, x[0]), ignore_index: -100, label_smoothing: smoothing));
        yield return C("crossEntropy weight probabilities smoothing 0.1 [3,4]", new[] { I(3, 4), I(3, 4) },
            x => Loss.CrossEntropy(x[0], x[1].Softmax(1), labelSmoothing: 0.1, weight: Const(fourWeights, [4], x[0])),
            x => F.cross_entropy(x[0], F.softmax(x[1], 1), weight: Const(fourWeights, new long[] { 4 }, x[0]), label_smoothing: 0.1));
        yield return C("crossEntropy [N,C,T] weight ignoreIndex [2,4,3]", new[] { I(2, 4, 3) },
            x => Loss.CrossEntropy(x[0], Const(SequenceTargets.Select(v => (double)v).ToArray(), [2, 3], x[0]), ignoreIndex: -100, weight: Const(fourWeights, [4], x[0])),
            x => F.cross_entropy(x[0], torch.tensor(SequenceTargets).reshape(2, 3), weight: Const(fourWeights, new long[] { 4 }, x[0]), ignore_index: -100));
        yield return C("nllLoss weight ignoreIndex -100 none [5,3]", new[] { I(5, 3) },
            x => Loss.NllLoss(x[0].LogSoftmax(1), IgnoredTargets.Select(t => (int)t).ToArray(), Reduction.None, ignoreIndex: -100, weight: Const(classWeights, [3], x[0])),
            x => F.cross_entropy(F.log_softmax(x[0], 1), torch.tensor(IgnoredTargets), weight: Const(classWeights, new long[] { 3 }, x[0]), ignore_index: -100, reduction: nn.Reduction.None));
        // torch's out-of-place x.scatter_add(dim, index, src) (a repeated position accumulates) and torch.unbind
        long[] scatterIndex = { 3, 0, 1, 1, 2, 0 };
        yield return C("scatterAdd out-of-place axis 1 [3,4]·[3,2]", new[] { I(3, 4), I(3, 2) },
            x => x[0].ScatterAdd(1, Const(scatterIndex.Select(v => (double)v).ToArray(), [3, 2], x[0]), x[1].Square()).Sin(),
            x => x[0].scatter_add(1, torch.tensor(scatterIndex).reshape(3, 2), x[1].square()).sin());
        yield return C("unbind axis 1 [2,3,4]", new[] { I(2, 3, 4) },
            x => { var s = x[0].Unbind(1); return s[0] * s[2].Sin() + s[1]; },
            x => { var s = x[0].unbind(1); return s[0] * s[2].sin() + s[1]; });
    }

    /// <summary>torch's gaussian_nll_loss with reduction 'none', as its Python source computes it.</summary>
    static TT TorchGaussianNll(TT input, TT target, TT variance, bool full)
    {
        var clamped = variance.clone();
        using (torch.no_grad()) clamped.clamp_(min: 1e-6);
        var loss = 0.5 * (clamped.log() + (input - target).square() / clamped);
        return full ? loss + 0.5 * Math.Log(2 * Math.PI) : loss;
    }
}
