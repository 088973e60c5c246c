using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// What ported skip-gram, causal-TCN, mixture-density, optimal-transport and padded-attention programs compute
// (2026-12-05): poisson_nll_loss from a log rate and from a rate with Stirling's term, softmax over scores masked with −∞
// for padded keys (a sequence with every key padded gives a NaN row) then nan_to_num, a log-domain Sinkhorn iteration,
// the skip-gram loss, a causal dilated conv block with huber, and a mixture density network's NLL.
public static partial class CaseTable
{
    static readonly double[] Counts34 = { 0, 1, 2, 5, 3, 0, 1, 7, 2, 2, 0, 4 };
    static readonly double[] SkipCenters = { 0, 3, 3, 1 }, SkipContexts = { 1, 2, 4, 0 };
    static readonly double[] SkipNegatives = { 2, 4, 4, 0, 1, 2, 3, 3 };   // [4, 2], repeats within and across rows
    // [2, 4] key padding: sequence 0 pads its last key, sequence 1 every key
    static readonly double[] KeyPadding = { 0, 0, 0, 1, 1, 1, 1, 1 };

    static IEnumerable<Case> ClientTen()
    {
        yield return C("poisson_nll_loss log_input [3,4]", new[] { I(3, 4) },
            x => Loss.PoissonNllLoss(x[0], Const(Counts34, [3, 4], x[0])),
            x => F.poisson_nll_loss(x[0], Const(Counts34, [3, 4], x[0]), log_input: true, full: false));
        // TorchSharp's poisson_nll_loss takes eps but computes log(input) without it (its results equal ours at eps = 0),
        // so the rate form is written as torch's source computes it: input − target·log(input + eps), plus Stirling's
        // term masked where target <= 1
        yield return C("poisson_nll_loss rate full sum [3,4]", new[] { P(3, 4) },
            x => Loss.PoissonNllLoss(x[0], Const(Counts34, [3, 4], x[0]), logInput: false, full: true, reduction: Reduction.Sum),
            x =>
            {
                var target = Const(Counts34, [3, 4], x[0]);
                var stirling = target * target.log() - target + 0.5 * (2 * Math.PI * target).log();
                return (x[0] - target * (x[0] + 1e-8).log() + stirling.masked_fill(target <= 1, 0)).sum();
            });
        yield return C("poisson_nll_loss rate eps 0 as TorchSharp's [3,4]", new[] { P(3, 4) },
            x => Loss.PoissonNllLoss(x[0], Const(Counts34, [3, 4], x[0]), logInput: false, eps: 0),
            x => F.poisson_nll_loss(x[0], Const(Counts34, [3, 4], x[0]), log_input: false));
        // skip-gram with negative sampling over one table of input and output rows (x[0] [5,3], x[1] [5,3]); TorchSharp has
        // no functional embedding, so its lookup is index_select of the flattened ids
        yield return C("skip-gram negative sampling loss [5,3] [5,3]", new[] { I(5, 3), I(5, 3) },
            x =>
            {
                var u = Expr.Embedding(Const(SkipCenters, [4], x[0]), x[0]);
                var v = Expr.Embedding(Const(SkipContexts, [4], x[0]), x[1]);
                var vNeg = Expr.Embedding(Const(SkipNegatives, [4, 2], x[0]), x[1]);
                return -((u * v).Sum(1).LogSigmoid() + (-vNeg.Bmm(u.Unsqueeze(2)).Squeeze(2)).LogSigmoid().Sum(1)).Mean();
            },
            x =>
            {
                var u = x[0].index_select(0, Longs(SkipCenters, 4));
                var v = x[1].index_select(0, Longs(SkipContexts, 4));
                var vNeg = x[1].index_select(0, Longs(SkipNegatives, 8)).reshape(4, 2, 3);
                return -(F.logsigmoid((u * v).sum(1)) + F.logsigmoid(-torch.bmm(vNeg, u.unsqueeze(2)).squeeze(2)).sum(1)).mean();
            });
        // a causal dilated conv (left padding (k − 1)·d), ReLU and a residual, then huber against a shifted input
        yield return C("causal dilated conv1d residual huber [2,2,9]*[2,2,2]", new[] { I(2, 2, 9), I(2, 2, 2), I(2) },
            x =>
            {
                var h = x[0] + Nn.Conv1d(Nn.Pad(x[0], [2, 0]), x[1], x[2], dilation: 2).Relu();
                return Loss.Huber(h, 0.5 * x[0].Detach(), delta: 0.7);
            },
            x =>
            {
                var h = x[0] + F.relu(F.conv1d(F.pad(x[0], new long[] { 2, 0 }), x[1], x[2], dilation: 2));
                return F.huber_loss(h, 0.5 * x[0].detach(), delta: 0.7);
            });
        // a mixture density network's NLL from the net's outputs [N, 3K] and targets [N, 1]
        yield return C("mdn nll logsumexp log_softmax normal log_prob [4,9]", new[] { I(4, 9), I(4, 1) },
            x =>
            {
                var parts = x[0].Chunk(3, 1);
                return -(parts[0].LogSoftmax(1) + Distributions.NormalLogProb(parts[1], parts[2].Exp(), x[1])).LogSumExp(1).Mean();
            },
            x =>
            {
                var parts = x[0].chunk(3, 1);
                var logProb = torch.distributions.Normal(parts[1], parts[2].exp()).log_prob(x[1]);
                return -torch.logsumexp(F.log_softmax(parts[0], 1) + logProb, 1).mean();
            });
        // The JVP check is torch's double backward at a zero cotangent, which passes the padded sequence's NaN weights
        // into the tangent; ours (forward mode by transposition) keeps it out and matches central differences (xunit)
        yield return C("masked_fill -inf key padding softmax nan_to_num [2,3,4]", new[] { I(2, 3, 4) },
            x => x[0].MaskedFill(Const(KeyPadding, [2, 1, 4], x[0]), double.NegativeInfinity).Softmax(-1).NanToNum(),
            x => x[0].masked_fill(Const(KeyPadding, [2, 1, 4], x[0]).to(ScalarType.Bool), double.NegativeInfinity).softmax(-1).nan_to_num(0.0))
            with
            {
                Float64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true },
                Float32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true },
                Why = "torch's JVP (double backward at a zero cotangent) is NaN in the sequence whose keys are all padded; ours is its central differences",
            };
        yield return C("sinkhorn log domain 10 iterations [4,2] [3,2]", new[] { I(4, 2), I(3, 2) },
            x =>
            {
                var c = (x[0].Unsqueeze(1) - x[1].Unsqueeze(0)).Square().Sum(-1);
                Expr f = Expr.Zeros([4], c.DType), g = Expr.Zeros([3], c.DType);
                for (int i = 0; i < 10; i++)
                {
                    f = 0.5 * Math.Log(0.25) - 0.5 * ((g.Unsqueeze(0) - c) / 0.5).LogSumExp(1);
                    g = 0.5 * Math.Log(1.0 / 3) - 0.5 * ((f.Unsqueeze(1) - c) / 0.5).LogSumExp(0);
                }
                return (((f.Unsqueeze(1) + g.Unsqueeze(0) - c) / 0.5).Exp() * c).Sum();
            },
            x =>
            {
                var c = (x[0].unsqueeze(1) - x[1].unsqueeze(0)).square().sum(-1);
                TT f = torch.zeros(4, dtype: c.dtype), g = torch.zeros(3, dtype: c.dtype);
                for (int i = 0; i < 10; i++)
                {
                    f = 0.5 * Math.Log(0.25) - 0.5 * torch.logsumexp((g.unsqueeze(0) - c) / 0.5, 1);
                    g = 0.5 * Math.Log(1.0 / 3) - 0.5 * torch.logsumexp((f.unsqueeze(1) - c) / 0.5, 0);
                }
                return (((f.unsqueeze(1) + g.unsqueeze(0) - c) / 0.5).exp() * c).sum();
            });
    }
}
