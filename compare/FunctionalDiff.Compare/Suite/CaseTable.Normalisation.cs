using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// Batch, group and instance norm (Core.Normalisation), logaddexp (Core.Elementary) and the view spellings narrow,
// movedim, unflatten, tile, amax and amin (Core.Structure) against torch's functions: each at ranks and shapes where
// the reduced axes differ, with and without the per-channel weight and bias, and at the points where values matter
// (constant channels, ties, large differences, infinities).
public static partial class CaseTable
{
    static IEnumerable<Case> NormalisationAndViews()
    {
        // ---- batch norm with the batch's statistics (torch's training mode) ----
        yield return C("batchNorm [4,3]", new[] { I(4, 3) }, x => Nn.BatchNorm(x[0]),
            x => F.batch_norm(x[0], null, null, training: true));
        yield return C("batchNorm [2,3,4] weight bias", new[] { I(2, 3, 4), I(3), I(3) }, x => Nn.BatchNorm(x[0], x[1], x[2]),
            x => F.batch_norm(x[0], null, null, x[1], x[2], training: true));
        yield return C("batchNorm [2,2,3,3] eps 1e-3", new[] { I(2, 2, 3, 3), I(2), I(2) }, x => Nn.BatchNorm(x[0], x[1], x[2], 1e-3),
            x => F.batch_norm(x[0], null, null, x[1], x[2], training: true, eps: 1e-3));
        // a channel of equal entries: 0 in the value, and every derivative of the centred form exact
        yield return C("edge batchNorm a constant channel", new[] { I(3, 2) }, x => Nn.BatchNorm(x[0]) * x[0],
            x => F.batch_norm(x[0], null, null, training: true) * x[0])
            with { Fixed = new[] { new[] { 0.5, 0.3, 0.5, -1.2, 0.5, 0.7 } } };

        // ---- batch norm with given statistics (evaluation mode), and the statistics themselves ----
        // the running statistics are constants: torch's batch_norm refuses to differentiate with respect to them
        double[] runningMean = { 0.3, -0.2, 0.1 }, runningVariance = { 0.5, 1.5, 2.0 };
        yield return C("batchNormWithStatistics [2,3,4]", new[] { I(2, 3, 4), I(3), I(3) },
            x => Nn.BatchNormWithStatistics(x[0], Const(runningMean, new[] { 3 }, x[0]), Const(runningVariance, new[] { 3 }, x[0]), x[1], x[2]),
            x => F.batch_norm(x[0], Const(runningMean, new long[] { 3 }, x[0]), Const(runningVariance, new long[] { 3 }, x[0]), x[1], x[2], training: false));
        yield return C("batchStatistics [3,2,4] mean + var", new[] { I(3, 2, 4) },
            x => { var (m, v) = Nn.BatchStatistics(x[0]); return m * 2.0 + v; },
            x => x[0].mean(new long[] { 0, 2 }) * 2.0 + x[0].var(new long[] { 0, 2 }, unbiased: true));

        // ---- group and instance norm ----
        yield return C("groupNorm [2,4,3] 2 groups", new[] { I(2, 4, 3), I(4), I(4) }, x => Nn.GroupNorm(x[0], 2, x[1], x[2]),
            x => F.group_norm(x[0], 2, x[1], x[2]));
        yield return C("groupNorm [2,6,2,2] 3 groups", new[] { I(2, 6, 2, 2) }, x => Nn.GroupNorm(x[0], 3),
            x => F.group_norm(x[0], 3));
        yield return C("groupNorm [1,3,4] 1 group", new[] { I(1, 3, 4), I(3), I(3) }, x => Nn.GroupNorm(x[0], 1, x[1], x[2], 1e-3),
            x => F.group_norm(x[0], 1, x[1], x[2], eps: 1e-3));
        yield return C("instanceNorm [2,3,5] weight bias", new[] { I(2, 3, 5), I(3), I(3) }, x => Nn.InstanceNorm(x[0], x[1], x[2]),
            x => F.instance_norm(x[0], weight: x[1], bias: x[2]));
        yield return C("instanceNorm [1,2,3,3]", new[] { I(1, 2, 3, 3) }, x => Nn.InstanceNorm(x[0]),
            x => F.instance_norm(x[0]));

        // ---- logaddexp ----
        foreach (var c in Broadcasting("logaddexp", I, I, (a, b) => Expr.LogAddExp(3.0 * a, b), (a, b) => torch.logaddexp(3.0 * a, b))) yield return c;
        // ties, where a form with |a − b| has a kink and its second derivative would be 0, not 1/4
        yield return C("edge logaddexp ties", new[] { I(4), I(4) }, x => Expr.LogAddExp(x[0], x[1]), x => torch.logaddexp(x[0], x[1]))
            with { Fixed = new[] { new[] { 0.5, -2.0, 0.0, 40.0 }, new[] { 0.5, -2.0, 0.0, 40.0 } } };
        // far apart: torch's double backward of g/(1 + e^(b − a)) meets e^(b − a) = ∞ as ∞/∞ = NaN, where the second
        // derivative σ(a − b)σ(b − a) underflows to 0, as ours
        yield return C("edge logaddexp far apart", new[] { I(4), I(4) }, x => Expr.LogAddExp(x[0], x[1]), x => torch.logaddexp(x[0], x[1]))
            with
            {
                Fixed = new[] { new[] { 40.0, -800.0, 1e10, 0.25 }, new[] { -40.0, 3.0, -1e10, 0.5 } },
                Float64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true },
                Float32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true },
                Why = "torch's second derivative is ∞/∞ = NaN where e^(b − a) overflows; ours is σ(a − b)σ(b − a), 0 there",
            };

        // ---- views ----
        yield return C("narrow [4,5] axis 1 from 1, 3", new[] { I(4, 5) }, x => x[0].Narrow(1, 1, 3) * x[0].Narrow(1, 1, 3), x => x[0].narrow(1, 1, 3) * x[0].narrow(1, 1, 3));
        yield return C("narrow [4,5] axis 0 from -3, 2", new[] { I(4, 5) }, x => x[0].Narrow(0, -3, 2).Sin(), x => x[0].narrow(0, -3, 2).sin());
        yield return C("movedim [2,3,4] 0 to 2", new[] { I(2, 3, 4) }, x => x[0].Movedim(0, 2).Tanh().Cumsum(2), x => x[0].movedim(new long[] { 0 }, new long[] { 2 }).tanh().cumsum(2));
        yield return C("movedim [2,3,4] -1 to 0", new[] { I(2, 3, 4) }, x => x[0].Movedim(-1, 0).Softmax(1), x => x[0].movedim(new long[] { -1 }, new long[] { 0 }).softmax(1));
        yield return C("unflatten [2,6] axis 1 to 3,-1", new[] { I(2, 6) }, x => x[0].Unflatten(1, 3, -1).Softmax(2), x => x[0].unflatten(1, new long[] { 3, -1 }).softmax(2));
        yield return C("tile [2,3] by 2", new[] { I(2, 3) }, x => x[0].Tile(2).Softmax(1), x => x[0].tile(new long[] { 2 }).softmax(1));
        yield return C("tile [3] by 2,2", new[] { I(3) }, x => x[0].Tile(2, 2).Sin() * x[0].Tile(2, 2), x => x[0].tile(new long[] { 2, 2 }).sin() * x[0].tile(new long[] { 2, 2 }));
        yield return C("amax [2,3,4] axes 0,2 keep", new[] { D(2, 3, 4) }, x => x[0].Amax(new[] { 0, 2 }, true) * x[0], x => x[0].amax(new long[] { 0, 2 }, keepdim: true) * x[0]);
        yield return C("amin [3,4] axis 1", new[] { D(3, 4) }, x => x[0].Amin(1).Exp(), x => x[0].amin(new long[] { 1 }).exp());
        // ties share the derivative evenly, as torch's amax
        yield return C("edge amax ties", new[] { I(2, 3) }, x => x[0].Amax(1) * 3.0, x => x[0].amax(new long[] { 1 }) * 3.0)
            with { Fixed = new[] { new[] { 1.0, 2.0, 2.0, -1.0, -1.0, -1.0 } } };
    }
}
