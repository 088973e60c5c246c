using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// torch's numerical conveniences (Expr.Numerics.cs): diff, trapezoid and cumulative_trapezoid, cov and corrcoef, renorm,
// tensordot, block_diag, cartesian_prod, vander, logaddexp2, copysign, deg2rad and rad2deg; channel_shuffle and pdist;
// multilabel_margin_loss and triplet_margin_with_distance_loss. TorchSharp 0.107 has no pdist: its side is the definition
// in torch's ops (the rows of each pair i < j differenced and normed).
public static partial class CaseTable
{
    const string NoMultiLabelDoubleBackward = "libtorch has no double backward of multilabel_margin_loss (it aborts); our second order, 0 almost everywhere, is checked in an xunit test";

    static readonly int[,] MultiLabelTargets = { { 3, 0, -1, 1, 2 }, { 1, 2, 4, -1, 0 }, { -1, 0, 0, 0, 0 } };

    static IEnumerable<Case> Numerics()
    {
        yield return C("diff [3,5]", new[] { D(3, 5) }, x => x[0].Diff(), x => x[0].diff());
        yield return C("diff n 2 axis 0 with prepend and append [4,3]", new[] { D(4, 3), I(1, 3), I(2, 3) },
            x => x[0].Diff(2, 0, x[1], x[2]), x => x[0].diff(1, 0, x[1], x[2]).diff(1, 0));
        // TorchSharp 0.107's diff takes n = 1 only: its side differences n times
        yield return C("diff n past the length [3,2]", new[] { I(3, 2) }, x => x[0].Diff(3, 0).Sum() + x[0].Sum(), x => x[0].diff(1, 0).diff(1, 0).diff(1, 0).sum() + x[0].sum());
        yield return C("trapezoid dx 0.5 axis 1 [3,6]", new[] { I(3, 6) }, x => x[0].Trapezoid(0.5, 1), x => torch.trapezoid(x[0], 0.5, 1));
        yield return C("trapezoid at vector points [3,6]·[6]", new[] { I(3, 6), D(6) }, x => x[0].Trapezoid(x[1]), x => torch.trapezoid(x[0], x[1], -1));
        yield return C("trapezoid at broadcast points axis 0 [5,2]·[5,1]", new[] { I(5, 2), D(5, 1) }, x => x[0].Trapezoid(x[1], 0), x => torch.trapezoid(x[0], x[1], 0));
        yield return C("cumulative_trapezoid dx 0.25 axis 0 [5,3]", new[] { I(5, 3) }, x => x[0].CumulativeTrapezoid(0.25, 0),
            x => torch.cumulative_trapezoid(x[0], 0.25, 0));
        yield return C("cumulative_trapezoid at vector points [2,5]·[5]", new[] { I(2, 5), D(5) }, x => x[0].CumulativeTrapezoid(x[1]),
            x => torch.cumulative_trapezoid(x[0], x[1], -1));
        yield return C("cov [3,7]", new[] { I(3, 7) }, x => x[0].Cov(), x => torch.cov(x[0]));
        yield return C("cov correction 0 of a vector [8]", new[] { I(8) }, x => x[0].Cov(0), x => torch.cov(x[0], 0));
        double[] counts = { 1, 3, 2, 1, 4, 2 };
        yield return C("cov with fweights and aweights [2,6]·[6]", new[] { I(2, 6), P(6) },
            x => x[0].Cov(1, Const(counts, [6], x[0]), x[1]),
            x => torch.cov(x[0], 1, torch.tensor(counts.Select(c => (long)c).ToArray()), x[1]));
        yield return C("corrcoef [3,6]", new[] { I(3, 6) }, x => x[0].Corrcoef(), x => torch.corrcoef(x[0]));
        yield return C("renorm p 2 axis 0 maxnorm 1 [4,3]", new[] { I(4, 3) }, x => x[0].Renorm(2, 0, 1.0), x => torch.renorm(x[0], 2f, 0, 1f))
            with { Fixed = new[] { new[] { 0.3, -0.2, 0.1, 1.5, 0.4, -2.0, 0.05, 0.6, -0.3, -0.9, 0.8, 0.7 } }, Why = "rows of norm 0.37 and 0.68 kept, 2.53 and 1.4 scaled" };
        yield return C("renorm p 1 axis 1 maxnorm 0.75 [3,4]", new[] { I(3, 4) }, x => x[0].Renorm(1, 1, 0.75), x => torch.renorm(x[0], 1f, 1, 0.75f))
            with { Fixed = new[] { new[] { 0.3, -0.2, 0.1, 1.5, 0.4, -0.05, 0.05, 0.6, -0.3, 0.1, 0.8, 0.7 } }, Why = "columns of 1-norm 1.0, 0.35, 0.95 and 2.8: one kept" };
        // TorchSharp 0.107's tensordot(a, b, int dims) throws IndexOutOfRangeException: its side names the axes
        yield return C("tensordot dims 2 [2,3,4]·[3,4,5]", new[] { I(2, 3, 4), I(3, 4, 5) }, x => Expr.Tensordot(x[0], x[1]),
            x => torch.tensordot(x[0], x[1], new long[] { 1, 2 }, new long[] { 0, 1 }));
        yield return C("tensordot axes (0,2)·(2,0) [3,4,2]·[2,5,3]", new[] { I(3, 4, 2), I(2, 5, 3) },
            x => Expr.Tensordot(x[0], x[1], [0, 2], [2, 0]), x => torch.tensordot(x[0], x[1], new long[] { 0, 2 }, new long[] { 2, 0 }));
        yield return C("tensordot dims 0 (outer) [2]·[3]", new[] { I(2), I(3) }, x => Expr.Tensordot(x[0], x[1], 0),
            x => torch.tensordot(x[0], x[1], Array.Empty<long>(), Array.Empty<long>()));
        yield return C("block_diag [2,2]·[3]·[]·[1,2]", new[] { I(2, 2), I(3), I(), I(1, 2) }, x => Expr.BlockDiag(x),
            x => torch.block_diag(x));
        yield return C("cartesian_prod [3]·[2]·[2]", new[] { I(3), I(2), I(2) }, x => Expr.CartesianProd(x), x => torch.cartesian_prod(x));
        // TorchSharp 0.107's torch.vander aborts the process; torch.linalg.vander is the increasing form
        yield return C("vander N 5 [4]", new[] { I(4) }, x => x[0].Vander(5), x => torch.linalg.vander(x[0], 5).flip(1));
        yield return C("vander increasing [4]", new[] { I(4) }, x => x[0].Vander(increasing: true), x => torch.linalg.vander(x[0], 4));
        foreach (var c in Broadcasting("logaddexp2", I, I, Expr.LogAddExp2, torch.logaddexp2)) yield return c;
        yield return C("copysign [3,4]", new[] { Z(3, 4), I(3, 4) }, x => x[0].Copysign(x[1]), x => torch.copysign(x[0], x[1]))
            with
            {
                Fixed = new[] { new[] { 1.2, -0.7, 0.0, 2.0, -1.5, 0.3, -0.0, 0.9, -2.2, 1.1, 0.4, -0.6 }, new[] { 0.5, -0.0, 0.0, -2.0, 1.0, -1.0, -0.3, 0.0, 4.0, -0.0, -5.0, 2.5 } },
                Why = "signed zeros in the sign's source (−0 is negative) and in the magnitude's (slope 0 there; torch's second order is NaN there, 0/0 behind its mask)",
                // torch's second order, 0 wherever it is a number, carries the rounding of its ratio result/self (ε·|g|):
                // the floor scales with the cotangent's order 1, not with that residue
                Float64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true, ScaleAtLeast = 1 },
                Float32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true, ScaleAtLeast = 1 },
            };
        yield return C("deg2rad [2,3]", new[] { I(2, 3) }, x => x[0].Deg2Rad(), x => torch.deg2rad(x[0]));
        yield return C("rad2deg [2,3]", new[] { I(2, 3) }, x => x[0].Rad2Deg(), x => torch.rad2deg(x[0]));
        yield return C("channel_shuffle groups 3 [2,6,3]", new[] { I(2, 6, 3) }, x => Nn.ChannelShuffle(x[0], 3) * Const(Ramp(36), [2, 6, 3], x[0]),
            x => x[0].channel_shuffle(3) * Const(Ramp(36), new long[] { 2, 6, 3 }, x[0]));
        yield return C("channel_shuffle groups 2 [1,4,2,2]", new[] { I(1, 4, 2, 2) }, x => Nn.ChannelShuffle(x[0], 2).Square(), x => x[0].channel_shuffle(2).square());
        foreach (var p in new[] { 2.0, 1.0, 0.5, double.PositiveInfinity })
            yield return C($"pdist p {p} [5,3]", new[] { D(5, 3) }, x => Nn.Pdist(x[0], p), x => TorchPdist(x[0], p));
        yield return C("multilabel_margin_loss [3,5]", new[] { D(3, 5) }, x => Loss.MultiLabelMarginLoss(x[0], MultiLabelTargets),
            x => torch.nn.MultiLabelMarginLoss().forward(x[0], torch.tensor(MultiLabelTargets.Cast<int>().Select(t => (long)t).ToArray()).reshape(3, 5)))
            with { TorchFirstOrderOnly = true, Skipped = new[] { Check.SecondOrder }, Why = NoMultiLabelDoubleBackward };
        yield return C("multilabel_margin_loss sum, one sample [5]", new[] { D(5) }, x => Loss.MultiLabelMarginLoss(x[0], [4, 2, -1, 0, 0], Reduction.Sum),
            x => torch.nn.MultiLabelMarginLoss(torch.nn.Reduction.Sum).forward(x[0], torch.tensor(new long[] { 4, 2, -1, 0, 0 })))
            with { TorchFirstOrderOnly = true, Skipped = new[] { Check.SecondOrder }, Why = NoMultiLabelDoubleBackward };
        yield return C("triplet_margin_with_distance_loss [4,3]", new[] { I(4, 3), I(4, 3), I(4, 3) },
            x => Loss.TripletMarginWithDistanceLoss(x[0], x[1], x[2], margin: 2.0),
            x => F.triplet_margin_with_distance_loss(x[0], x[1], x[2], null, 2.0, false, torch.nn.Reduction.Mean));
        yield return C("triplet_margin_with_distance_loss cosine distance swap [4,3]", new[] { I(4, 3), I(4, 3), I(4, 3) },
            x => Loss.TripletMarginWithDistanceLoss(x[0], x[1], x[2], (a, b) => 1.0 - Nn.CosineSimilarity(a, b), margin: 0.5, swap: true, reduction: Reduction.Sum),
            x => F.triplet_margin_with_distance_loss(x[0], x[1], x[2], (a, b) => 1.0 - F.cosine_similarity(a, b), 0.5, true, torch.nn.Reduction.Sum));
        yield return C("combinations r 2 [4]", new[] { I(4) }, x => x[0].Combinations(), x => torch.combinations(x[0], 2, false));
        yield return C("combinations r 3 with replacement [3]", new[] { I(3) }, x => x[0].Combinations(3, true), x => torch.combinations(x[0], 3, true));
        double nan = double.NaN;
        yield return C("nanmedian of all entries with NaN [3,4]", new[] { I(3, 4) }, x => x[0].NanMedian(), x => torch.nanmedian(x[0]))
            with { Fixed = new[] { new[] { 0.3, nan, -1.2, 0.8, nan, 2.0, 0.1, -0.5, 1.1, nan, 0.6, -2.2 } }, Why = "three NaN among twelve: the lower median of the nine numbers" };
        yield return C("nanmedian without NaN, even count [2,3]", new[] { D(2, 3) }, x => x[0].NanMedian(), x => torch.nanmedian(x[0]));
        yield return C("aminmax axis 1 [3,4]", new[] { D(3, 4) }, x => { var (lo, hi) = x[0].Aminmax(1); return Expr.Stack(0, lo, hi); },
            // TorchSharp 0.107's aminmax aborts the process under autograd: its side is torch's amin and amax, which aminmax is
            x => torch.stack(new[] { x[0].amin(new long[] { 1 }), x[0].amax(new long[] { 1 }) }));
        yield return C("msort [4,3]", new[] { D(4, 3) }, x => x[0].Msort(), x => torch.msort(x[0]));
        yield return C("ldexp [2,3]·[2,3]", new[] { I(2, 3), U(2, 3) }, x => x[0].Ldexp(x[1]), x => torch.ldexp(x[0], x[1]));
        yield return C("float_power [2,3]·[3]", new[] { P(2, 3), U(3) }, x => x[0].FloatPower(x[1]), x => torch.float_power(x[0], x[1]));
        yield return C("x times signbit [2,3]", new[] { I(2, 3) }, x => x[0] * x[0].Signbit(), x => x[0] * torch.signbit(x[0]).to_type(x[0].dtype))
            with { Fixed = new[] { new[] { -0.0, 0.0, -1.5, 2.0, double.NegativeInfinity, 0.25 } }, Why = "−0 and −∞ have the sign bit" };
    }

    static double[] Ramp(int n) => Enumerable.Range(0, n).Select(i => 0.5 + 0.1 * i).ToArray();

    /// <summary>torch.pdist by its definition: the p-norm of the difference of rows i and j for each pair i &lt; j, row-major.</summary>
    internal static TT TorchPdist(TT x, double p) => torch.linalg.vector_norm(PairDifferences(x), p, new long[] { 1 });

    /// <summary>The differences of x's rows i &lt; j, in pdist's order (row i − row j).</summary>
    internal static TT PairDifferences(TT x)
    {
        var n = (int)x.shape[0];
        var pairs = (from i in Enumerable.Range(0, n) from j in Enumerable.Range(i + 1, n - i - 1) select (i, j)).ToArray();
        var first = torch.tensor(pairs.Select(q => (long)q.i).ToArray());
        var second = torch.tensor(pairs.Select(q => (long)q.j).ToArray());
        return x.index_select(0, first) - x.index_select(0, second);
    }
}
