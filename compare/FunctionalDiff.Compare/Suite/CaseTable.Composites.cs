using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    static readonly int[] Targets = { 2, 0, 1, 2 };

    static IEnumerable<Case> Composites()
    {
        foreach (var axis in new[] { 0, -1 })
        {
            yield return C($"softmax axis {axis} [3,4]", new[] { I(3, 4) }, x => x[0].Softmax(axis), x => x[0].softmax(axis));
            yield return C($"logSoftmax axis {axis} [3,4]", new[] { I(3, 4) }, x => x[0].LogSoftmax(axis), x => F.log_softmax(x[0], axis));
            yield return C($"logSumExp axis {axis} [3,4]", new[] { I(3, 4) }, x => x[0].LogSumExp(axis), x => x[0].logsumexp(axis));
        }
        yield return C("softmax [5]", new[] { I(5) }, x => x[0].Softmax(0), x => x[0].softmax(0));
        // logits near 1000: exp overflows unless the max is subtracted first; the spread of about 1 keeps the
        // softmax away from one-hot, where second derivatives are all cancellation
        yield return C("logSumExp large [4]", new[] { I(4) }, x => x[0].LogSumExp(0), x => x[0].logsumexp(0))
            with { Fixed = new[] { new[] { 1000.0, 1000.5, 999.7, 1001.0 } } };
        // over an empty axis the value is the log of an empty sum, -inf, a function of no numbers: every derivative is 0
        // (`fuzz adversarial 1/226`: ours was d(sum)/sum = 0/0 = NaN in forward mode)
        yield return C("logSumExp over an empty axis [0,1]", new[] { I(0, 1) }, x => x[0].LogSumExp(0), x => x[0].logsumexp(0));
        yield return C("softmax large [4]", new[] { I(4) }, x => x[0].Softmax(0), x => x[0].softmax(0))
            with { Fixed = new[] { new[] { -1000.0, -1000.5, -999.7, -1001.0 } } };
        foreach (var shape in new[] { new int[0], new[] { 5 }, new[] { 3, 2 } })
        {
            yield return C($"mse {Shape(shape)}", new[] { I(shape), I(shape) }, x => Loss.Mse(x[0], x[1]), x => F.mse_loss(x[0], x[1]));
            yield return C($"bceWithLogits {Shape(shape)}", new[] { I(shape), U(shape) },
                x => Loss.BinaryCrossEntropyWithLogits(x[0], (x[1] + 1.0) * 0.5), x => F.binary_cross_entropy_with_logits(x[0], (x[1] + 1.0) * 0.5));
        }
        foreach (var targets in new[] { new[] { 1 }, Targets, new[] { 4, 0, 3, 3, 1, 2 } })
        {
            int classes = targets.Max() + 1;
            yield return C($"crossEntropy [{targets.Length},{classes}]", new[] { I(targets.Length, classes) }, x => Loss.CrossEntropy(x[0], targets),
                x => F.cross_entropy(x[0], torch.tensor(targets.Select(t => (long)t).ToArray())));
        }
        yield return C("linear [4,3]→[4,2]", new[] { I(4, 3), I(2, 3), I(2) }, x => Nn.Linear(x[0], x[1], x[2]), x => F.linear(x[0], x[1], x[2]));
        yield return C("linear no bias [3]→[2]", new[] { I(3), I(2, 3) }, x => Nn.Linear(x[0], x[1]), x => F.linear(x[0], x[1]));
        yield return C("layerNorm [2,5]", new[] { I(2, 5) }, x => x[0].LayerNorm(), x => F.layer_norm(x[0], new long[] { 5 }));
        yield return C("layerNorm [3]", new[] { I(3) }, x => x[0].LayerNorm(1e-3), x => F.layer_norm(x[0], new long[] { 3 }, eps: 1e-3));
        // a user-defined rule (customVjp) is compared like any primitive, including its second order
        yield return C("customVjp softplus", new[] { I(2, 3) },
            x => Diff.CustomVjp(z => (z.Exp() + 1.0).Log(), (z, g) => g * z.Sigmoid())(x[0]), x => F.softplus(x[0]));
        yield return C("stopGradient", new[] { I(2, 3) }, x => x[0].StopGradient() * x[0].Sin(), x => x[0].detach() * x[0].sin());
    }
}
