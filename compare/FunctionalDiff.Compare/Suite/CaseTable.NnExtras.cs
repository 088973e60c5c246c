using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// The torch.nn.functional layers added beside pooling: the margin losses that take labels (Loss.SoftMarginLoss,
// HingeEmbeddingLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, every reduction, class weights as constants since torch has
// no derivative of multi_margin_loss in its weight), quantile and nanquantile, gumbel_softmax with the noise given,
// bilinear and local_response_norm, against torch.nn.functional.
public static partial class CaseTable
{
    static readonly double[] SignLabels = { 1, -1, -1, 1, -1, 1, 1, -1, 1, -1, -1, 1 };
    static readonly double[] MultiLabels = { 1, 0, 0, 1, 1, 1, 0, 0, 0, 1, 0, 1 };
    static readonly double[] ClassWeights = { 0.5, 2.0, 1.25, 0.75 };
    static readonly int[] MarginTargets = { 2, 0, 3 };

    static TT Longs(int[] values) => torch.tensor(values.Select(v => (long)v).ToArray());

    // libtorch has no double backward of multi_margin_loss: asking for one aborts the process ("derivative for
    // aten::multi_margin_loss_backward is not implemented"). Torch's side takes first order only (the JVP by reverse passes,
    // Case.TorchFirstOrderOnly); our second order is checked against its closed form in MarginLossFacadeTests.
    const string NoTorchDoubleBackward = "libtorch has no double backward of multi_margin_loss (it aborts); our second order is checked against its closed form in an xunit test";

    static IEnumerable<Case> NnExtras()
    {
        // quantile and nanquantile (linear; TorchSharp takes no interpolation, the other modes are checked against a loop in
        // QuantileFacadeTests), on distinct values so no tie decides where a gradient goes
        TT Q(double q, TT like) => torch.tensor(q, dtype: like.dtype);
        TT Qs(double[] q, TT like) => torch.tensor(q, dtype: like.dtype);
        double[] qs = { 0.0, 0.3, 0.5, 0.95, 1.0 };
        yield return C("quantile 0.3 dim 1 [3,5]", new[] { D(3, 5) }, x => x[0].Quantile(0.3, 1), x => torch.quantile(x[0], Q(0.3, x[0]), 1, false));
        yield return C("quantile vector q dim 0 keepdim [4,3]", new[] { D(4, 3) },
            x => x[0].Quantile(qs, 0, keepDims: true), x => torch.quantile(x[0], Qs(qs, x[0]), 0, true));
        yield return C("quantile 0.7 over all entries [2,3,2]", new[] { D(2, 3, 2) },
            x => x[0].Quantile(0.7), x => torch.quantile(x[0].flatten(), Q(0.7, x[0]), 0, false));
        double nan = double.NaN;
        yield return C("quantile with a NaN row [3,4]", new[] { I(3, 4) }, x => x[0].Quantile(qs, -1), x => torch.quantile(x[0], Qs(qs, x[0]), 1, false))
            with { Fixed = new[] { new[] { 0.3, -1.2, 0.7, 2.0, 0.1, nan, -0.4, 0.9, 1.1, -0.6, 0.2, 0.05 } }, Why = "a NaN entry: its row's quantiles are NaN, the other rows' are numbers" };
        yield return C("nanquantile with NaN entries [3,4]", new[] { I(3, 4) }, x => x[0].NanQuantile(qs, 1), x => torch.nanquantile(x[0], Qs(qs, x[0]), 1, false))
            with { Fixed = new[] { new[] { 0.3, nan, 0.7, 2.0, 0.1, 0.5, -0.4, 0.9, nan, -0.6, nan, nan } }, Why = "NaN entries left out: rows of 3, 4 and 1 numbers" };
        yield return C("nanquantile of a row of NaN only, keepdim [2,3]", new[] { I(2, 3) }, x => x[0].NanQuantile(0.4, 1, keepDims: true),
            x => torch.nanquantile(x[0], Q(0.4, x[0]), 1, true))
            with { Fixed = new[] { new[] { nan, nan, nan, 0.25, -1.5, 0.75 } }, Why = "a row of NaN only gives NaN" };
        // gumbel_softmax with the noise given (torch's draws its own): torch's formula with the same uniform draws
        double[] uniform = Enumerable.Range(0, 12).Select(i => (i * 0.37 + 0.11) % 1.0).ToArray();
        TT Gumbel(TT logits, double tau, bool hard, long dim)
        {
            var g = -(-Const(uniform, new long[] { 3, 4 }, logits).log()).log();
            var soft = ((logits + g) / tau).softmax(dim);
            if (!hard) return soft;
            var index = soft.max(dim, keepdim: true).indexes;
            return torch.zeros_like(soft).scatter(dim, index, torch.ones_like(soft)) - soft.detach() + soft;
        }
        yield return C("gumbel_softmax tau 0.7 [3,4]", new[] { I(3, 4) },
            x => Nn.GumbelSoftmax(x[0], Const(uniform, [3, 4], x[0]), tau: 0.7), x => Gumbel(x[0], 0.7, false, -1));
        yield return C("gumbel_softmax hard dim 0 [3,4]", new[] { I(3, 4) },
            x => Nn.GumbelSoftmax(x[0], Const(uniform, [3, 4], x[0]), hard: true, axis: 0).Square(), x => Gumbel(x[0], 1.0, true, 0).square());

        // bilinear and local_response_norm
        yield return C("bilinear [4,3]·[4,2] weight [5,3,2] bias", new[] { I(4, 3), I(4, 2), I(5, 3, 2), I(5) },
            x => Nn.Bilinear(x[0], x[1], x[2], x[3]), x => F.bilinear(x[0], x[1], x[2], x[3]));
        yield return C("bilinear leading axes [2,3,2]·[2,3,4] weight [3,2,4]", new[] { I(2, 3, 2), I(2, 3, 4), I(3, 2, 4) },
            x => Nn.Bilinear(x[0], x[1], x[2]), x => F.bilinear(x[0], x[1], x[2]));
        yield return C("local_response_norm size 3 [2,5,3,2]", new[] { I(2, 5, 3, 2) },
            x => Nn.LocalResponseNorm(x[0], 3, alpha: 0.3, beta: 0.75, k: 1.5), x => F.local_response_norm(x[0], 3, 0.3, 0.75, 1.5));
        yield return C("local_response_norm size 4 defaults [2,6,5]", new[] { I(2, 6, 5) },
            x => Nn.LocalResponseNorm(x[0] * 40, 4), x => F.local_response_norm(x[0] * 40, 4, 1e-4, 0.75, 1.0));
        yield return C("local_response_norm size 2 3-D [1,4,2,3,2]", new[] { I(1, 4, 2, 3, 2) },
            x => Nn.LocalResponseNorm(x[0], 2, alpha: 0.5, beta: 1.2, k: 2.0), x => F.local_response_norm(x[0], 2, 0.5, 1.2, 2.0));
        yield return C("soft_margin_loss [3,4]", new[] { I(3, 4) },
            x => Loss.SoftMarginLoss(x[0], Const(SignLabels, [3, 4], x[0])), x => F.soft_margin_loss(x[0], Const(SignLabels, [3, 4], x[0])));
        yield return C("soft_margin_loss sum, labels broadcast [2,3,4]·[3,4]", new[] { I(2, 3, 4) },
            x => Loss.SoftMarginLoss(x[0] * 3, Const(SignLabels, [3, 4], x[0]), Reduction.Sum),
            x => F.soft_margin_loss(x[0] * 3, Const(SignLabels, [3, 4], x[0]).expand(2, 3, 4), nn.Reduction.Sum));
        yield return C("hinge_embedding_loss [12]", new[] { I(12) },
            // PyTorch's default margin is 1.0; TorchSharp 0.107's is 0, so torch's side passes it
            x => Loss.HingeEmbeddingLoss(x[0], Const(SignLabels, [12], x[0])), x => F.hinge_embedding_loss(x[0], Const(SignLabels, [12], x[0]), 1.0));
        yield return C("hinge_embedding_loss margin 0.3 none [3,4]", new[] { I(3, 4) },
            x => Loss.HingeEmbeddingLoss(x[0], Const(SignLabels, [3, 4], x[0]), margin: 0.3, reduction: Reduction.None).Sin(),
            x => F.hinge_embedding_loss(x[0], Const(SignLabels, [3, 4], x[0]), 0.3, nn.Reduction.None).sin());
        yield return C("multilabel_soft_margin_loss [3,4]", new[] { I(3, 4) },
            x => Loss.MultiLabelSoftMarginLoss(x[0], Const(MultiLabels, [3, 4], x[0])),
            x => F.multilabel_soft_margin_loss(x[0], Const(MultiLabels, [3, 4], x[0]), null));
        yield return C("multilabel_soft_margin_loss weight none [3,4]", new[] { I(3, 4), I(4) },
            x => Loss.MultiLabelSoftMarginLoss(x[0], Const(MultiLabels, [3, 4], x[0]), x[1], Reduction.None),
            x => F.multilabel_soft_margin_loss(x[0], Const(MultiLabels, [3, 4], x[0]), x[1], nn.Reduction.None));
        yield return C("multi_margin_loss [3,4]", new[] { I(3, 4) },
            x => Loss.MultiMarginLoss(x[0], MarginTargets), x => F.multi_margin_loss(x[0], Longs(MarginTargets)))
            with { TorchFirstOrderOnly = true, Skipped = new[] { Check.SecondOrder }, Why = NoTorchDoubleBackward };
        yield return C("multi_margin_loss p 2 margin 0.5 weight sum [3,4]", new[] { I(3, 4) },
            x => Loss.MultiMarginLoss(x[0], MarginTargets, p: 2, margin: 0.5, weight: Const(ClassWeights, [4], x[0]), reduction: Reduction.Sum),
            x => F.multi_margin_loss(x[0], Longs(MarginTargets), 2, 0.5, Const(ClassWeights, [4], x[0]), nn.Reduction.Sum))
            with { TorchFirstOrderOnly = true, Skipped = new[] { Check.SecondOrder }, Why = NoTorchDoubleBackward };
        yield return C("multi_margin_loss unbatched none [4]", new[] { I(4) },
            x => Loss.MultiMarginLoss(x[0] * 0.3, [1], margin: 2.0, reduction: Reduction.None).Square(),
            x => F.multi_margin_loss(x[0] * 0.3, Longs([1]), 1, 2.0, null, nn.Reduction.None).square())
            with { TorchFirstOrderOnly = true, Skipped = new[] { Check.SecondOrder }, Why = NoTorchDoubleBackward };
    }
}
