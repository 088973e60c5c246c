using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// What ported PPO, U-Net, metric-learning, mixup and batch-norm programs compute (2026-12-05): conv with padding "same"
// (an even kernel's odd total of zeros, extra at the end), poisson_nll_loss broadcasting a rate per row against counts,
// triplet_margin_loss (with swap, and with the anchor as its own positive), cosine_embedding_loss, margin_ranking_loss, PPO's clipped surrogate with a categorical
// entropy bonus, and a U-Net step: conv, max pooling, a stride-2 transposed conv, a skip by cat and BCE with logits.
public static partial class CaseTable
{
    static readonly double[] PpoActions = { 0, 2, 1, 1, 0, 2 };
    static readonly double[] PpoAdvantages = { 1.2, -0.7, 0.4, -1.5, 0.9, 0.3 };
    static readonly double[] PpoOldLogProb = { -1.1, -0.6, -1.4, -0.9, -1.3, -0.8 };
    static readonly double[] SameWeight2d = Enumerable.Range(0, 48).Select(i => 0.5 * Math.Sin(1.3 * i + 0.2)).ToArray();
    static readonly double[] SameWeight1d = Enumerable.Range(0, 24).Select(i => 0.5 * Math.Cos(0.9 * i + 0.4)).ToArray();
    static readonly double[] SameBias = { 0.1, -0.3, 0.2 };
    static readonly double[] PairLabels = { 1, -1, -1, 1, -1 };
    static readonly double[] UNetMask = { 1, 0, 0, 1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 0, 0 };

    static IEnumerable<Case> ClientEleven()
    {
        // TorchSharp 0.107 has padding "same" only on its modules (functional.conv2d takes numbers), so the weights are the
        // module's, set to constants on both sides, and the input is differentiated
        yield return C("conv2d padding same even kernel module [1,2,5,6]*[3,2,4,2]", new[] { I(1, 2, 5, 6) },
            x => Nn.Conv2d(x[0], Const(SameWeight2d, [3, 2, 4, 2], x[0]), Const(SameBias, [3], x[0]), padding: "same"),
            x =>
            {
                using var conv = nn.Conv2d(2, 3, (4, 2), Padding.Same, dtype: x[0].dtype);
                using (torch.no_grad())
                {
                    conv.weight!.copy_(Const(SameWeight2d, [3, 2, 4, 2], x[0]));
                    conv.bias!.copy_(Const(SameBias, [3], x[0]));
                }
                return conv.forward(x[0]);
            });
        // padding "same" with a dilation pair (2026-12-05): torch's split of each axis's dilation·(k − 1) zeros, half before
        // (rounded down) and the rest after, written as F.pad, then the dilated convolution; input and weight differentiated
        yield return C("conv2d padding same dilation (2,3) [1,2,5,6]*[3,2,4,2]", new[] { I(1, 2, 5, 6), I(3, 2, 4, 2) },
            x => Nn.Conv2d(x[0], x[1], Const(SameBias, [3], x[0]), padding: "same", dilation: (2, 3)),
            x => F.conv2d(F.pad(x[0], new long[] { 1, 2, 3, 3 }), x[1], Const(SameBias, [3], x[0]), dilation: L(2, 3)));
        yield return C("conv1d padding same dilation 2 module [2,2,7]*[3,2,4]", new[] { I(2, 2, 7) },
            x => Nn.Conv1d(x[0], Const(SameWeight1d, [3, 2, 4], x[0]), Const(SameBias, [3], x[0]), padding: "same", dilation: 2),
            x =>
            {
                using var conv = nn.Conv1d(2, 3, 4, Padding.Same, dilation: 2, dtype: x[0].dtype);
                using (torch.no_grad())
                {
                    conv.weight!.copy_(Const(SameWeight1d, [3, 2, 4], x[0]));
                    conv.bias!.copy_(Const(SameBias, [3], x[0]));
                }
                return conv.forward(x[0]);
            });
        yield return C("poisson_nll_loss broadcast [3,1] against [3,4]", new[] { I(3, 1) },
            x => Loss.PoissonNllLoss(x[0], Const(Counts34, [3, 4], x[0])),
            x => F.poisson_nll_loss(x[0], Const(Counts34, [3, 4], x[0]), log_input: true, full: false));
        yield return C("triplet_margin_loss margin 0.5 [4,3]", new[] { I(4, 3), I(4, 3), I(4, 3) },
            x => Loss.TripletMarginLoss(x[0], x[1], x[2], margin: 0.5),
            x => F.triplet_margin_loss(x[0], x[1], x[2], margin: 0.5));
        yield return C("triplet_margin_loss swap p 1 sum [4,3]", new[] { I(4, 3), I(4, 3), I(4, 3) },
            x => Loss.TripletMarginLoss(x[0], x[1], x[2], margin: 2.0, p: 1, swap: true, reduction: Reduction.Sum),
            x => F.triplet_margin_loss(x[0], x[1], x[2], margin: 2.0, p: 1, swap: true, reduction: nn.Reduction.Sum));
        // the anchor is its own positive: d(a, a) = eps·√3 whatever a is, so torch's eps keeps every order finite
        yield return C("triplet_margin_loss anchor as positive [3,3]", new[] { I(3, 3), I(3, 3) },
            x => Loss.TripletMarginLoss(x[0], x[0], x[1], margin: 3.0),
            x => F.triplet_margin_loss(x[0], x[0], x[1], margin: 3.0));
        yield return C("cosine_embedding_loss margin 0.2 [5,3]", new[] { I(5, 3), I(5, 3) },
            x => Loss.CosineEmbeddingLoss(x[0], x[1], Const(PairLabels, [5], x[0]), margin: 0.2),
            x => F.cosine_embedding_loss(x[0], x[1], Const(PairLabels, [5], x[0]), margin: 0.2));
        yield return C("margin_ranking_loss margin 0.1 sum [5]", new[] { I(5), I(5) },
            x => Loss.MarginRankingLoss(x[0], x[1], Const(PairLabels, [5], x[0]), margin: 0.1, reduction: Reduction.Sum),
            x => F.margin_ranking_loss(x[0], x[1], Const(PairLabels, [5], x[0]), margin: 0.1, reduction: nn.Reduction.Sum));
        // PPO: logits [6, 3] of a linear policy, the surrogate over fixed advantages, and the entropy bonus
        yield return C("ppo clipped surrogate categorical entropy [6,3]", new[] { I(6, 3) },
            x =>
            {
                var ratio = (Distributions.CategoricalLogProb(x[0], Const(PpoActions, [6], x[0])) - Const(PpoOldLogProb, [6], x[0])).Exp();
                var a = Const(PpoAdvantages, [6], x[0]);
                return -Expr.Minimum(ratio * a, ratio.Clamp(0.8, 1.2) * a).Mean() - 0.01 * Distributions.CategoricalEntropy(x[0]).Mean();
            },
            x =>
            {
                var dist = torch.distributions.Categorical(logits: x[0]);
                var ratio = (dist.log_prob(Longs(PpoActions, 6)) - Const(PpoOldLogProb, [6], x[0])).exp();
                var a = Const(PpoAdvantages, [6], x[0]);
                return -torch.minimum(ratio * a, ratio.clamp(0.8, 1.2) * a).mean() - 0.01 * dist.entropy().mean();
            });
        // a U-Net step on a 1×1×4×4 image: image, encoder and decoder weights all differentiated
        yield return C("unet conv max_pool conv_transpose cat bce [1,1,4,4]", new[] { I(1, 1, 4, 4), I(2, 1, 3, 3), I(3, 2, 3, 3), I(3, 2, 2, 2), I(1, 4, 1, 1) },
            x =>
            {
                var e1 = Nn.Conv2d(x[0], x[1], padding: "same").Relu();
                var e2 = Nn.Conv2d(Nn.MaxPool2d(e1, 2), x[2], padding: 1).Relu();
                var up = Nn.ConvTranspose2d(e2, x[3], stride: 2);
                return Loss.BinaryCrossEntropyWithLogits(Nn.Conv2d(Expr.Cat([up, e1], 1), x[4]), Const(UNetMask, [1, 1, 4, 4], x[0]));
            },
            x =>
            {
                var e1 = F.relu(F.conv2d(x[0], x[1], padding: L(1, 1)));   // "same" for a 3×3 kernel
                var e2 = F.relu(F.conv2d(F.max_pool2d(e1, 2), x[2], padding: L(1, 1)));
                var up = F.conv_transpose2d(e2, x[3], strides: L(2, 2));
                return F.binary_cross_entropy_with_logits(F.conv2d(torch.cat(new[] { up, e1 }, 1), x[4]), Const(UNetMask, [1, 1, 4, 4], x[0]));
            });
    }
}
