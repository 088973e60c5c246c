using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>Which ops a program draws from: each surface holds the one before it.</summary>
public enum OpSurface
{
    /// <summary>The ops drawn before the whole public surface was (<c>--ops classic</c>).</summary>
    Classic,
    /// <summary>The surface drawn up to branch edges6 (<c>--ops wide</c>): programs pinned then are drawn again as they were.</summary>
    Wide,
    /// <summary>Everything, with the ops added since (LogAddExp to CosineSimilarity in <see cref="OpKind"/>): the default.</summary>
    Full,
    /// <summary>Full and then the rest of the public surface (Acos to IndexAdd in <see cref="OpKind"/>, <c>--ops all</c>): not
    /// the default, so the programs of <c>--ops full</c> stay as they were.</summary>
    All,
    /// <summary>All and then the ops added since (Svd to SegmentSoftmax in <see cref="OpKind"/>, <c>--ops latest</c>, branch
    /// fuzzops): not the default, so the programs of <c>--ops all</c> stay as they were.</summary>
    Latest,
    /// <summary>Latest and then the ops added since (MaxPool1d to GumbelSoftmax in <see cref="OpKind"/>, <c>--ops newest</c>,
    /// branch fuzznew): not the default, so the programs of <c>--ops latest</c> stay as they were.</summary>
    Newest,
    /// <summary>Newest and then the ops added since (I0 to RnnCell in <see cref="OpKind"/>, <c>--ops fresh</c>, branch edges):
    /// not the default, so the programs of <c>--ops newest</c> stay as they were.</summary>
    Fresh,
    /// <summary>Fresh and then the ops added since (AtLeast to ScaledModifiedBesselK1 in <see cref="OpKind"/>, <c>--ops
    /// recent</c>, branch fuzzops): not the default, so the programs of <c>--ops fresh</c> stay as they were.</summary>
    Recent,
    /// <summary>Recent and then the ops added since (Gammainc to Zeta in <see cref="OpKind"/>, <c>--ops special</c>, branch
    /// fuzzspecial): not the default, so the programs of <c>--ops recent</c> stay as they were.</summary>
    Special,
}

// The ops added to the public surface after the wider ops were drawn (torch's logaddexp, hypot, kron, sinc, erfinv, frac,
// selu, celu, the shrinks, softmin, glu, logcumsumexp, cummax, nansum, diag, tile, the batch, group and instance norms,
// interpolate, normalize and cosine_similarity), drawn with the same typed discipline: shapes that fit, operands inside
// each op's domain (erfinv's (−1, 1)), and kinks (selu and celu at 0, the shrinks at ±λ, frac at the integers, cummax's
// ties) met only at bit-exact values.
public sealed partial class Generator
{
    /// <summary>One weight each, as the wider ops.</summary>
    static (OpKind Kind, int Weight)[] NewerWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.Fold && k < OpKind.Const).Select(k => (k, 1)).ToArray();

    void Newer(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.LogAddExp or OpKind.Hypot: Binary(kind); break;
            case OpKind.Kron:
            {
                int a = Pick();
                if (a < 0) break;
                int b = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[a]) * FuzzProgram.Numel(shapes[j]) <= MaxNumel);
                if (b >= 0) Try(S(kind, rng.NextDouble() < 0.5 ? a : b, rng.NextDouble() < 0.5 ? b : a));
                break;
            }
            case OpKind.Sinc or OpKind.Frac or OpKind.Selu or OpKind.Tanhshrink: Unary(kind, null); break;
            case OpKind.Erfinv: Unary(kind, x => Math.Abs(x) < 0.9); break;
            // α a float32 number: torch's celu rule rounds α to float32 (the comparison table's note)
            case OpKind.Celu: WithScalar(kind, new[] { 1.0, 0.5, 2.0 }); break;
            case OpKind.Softshrink or OpKind.Hardshrink: WithScalar(kind, new[] { 0.5, 1.0 }); break;
            case OpKind.Softmin or OpKind.LogCumSumExp: AlongAxis(kind); break;
            case OpKind.Glu:
            {
                int a = Pick(j => shapes[j].Any(d => d > 0 && d % 2 == 0));
                if (a < 0) break;
                var even = Enumerable.Range(0, Rank(a)).Where(i => shapes[a][i] > 0 && shapes[a][i] % 2 == 0).ToArray();
                int axis = even[rng.Next(even.Length)];
                Try(new Step(kind, new[] { a }, new[] { rng.NextDouble() < 0.3 ? axis - Rank(a) : axis }));
                break;
            }
            case OpKind.Cummax:
            {
                int a = Pick(j => Rank(j) > 0);
                if (a < 0) break;
                bool indices = rng.NextDouble() < 0.3;
                Try(new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }, Mode: indices ? 1 : 0), mask: indices);
                break;
            }
            case OpKind.Nansum: Reduce(kind); break;
            case OpKind.Diag:
            {
                int a = Pick(j => Rank(j) is 1 or 2);
                if (a >= 0 && !GeluOutput(a)) Try(new Step(kind, new[] { a }, new[] { rng.Next(-1, 2) }));
                break;
            }
            case OpKind.Tile:
            {
                int a = Pick();
                if (a < 0) break;
                var repeats = Enumerable.Range(0, 1 + rng.Next(Rank(a) + 1)).Select(_ => 1 + rng.Next(2)).ToArray();
                Try(new Step(kind, new[] { a }, repeats));
                break;
            }
            case OpKind.GroupNorm:
            {
                // [N, C, ...] with at least two values in every group
                int a = Pick(j => Rank(j) >= 2 && FuzzProgram.Numel(shapes[j]) > 0 && shapes[j][1] > 0);
                if (a < 0) break;
                int channels = shapes[a][1], spatial = FuzzProgram.Numel(shapes[a][2..]);
                var groups = Enumerable.Range(1, channels).Where(g => channels % g == 0 && channels / g * spatial >= 2).ToArray();
                if (groups.Length > 0) Try(new Step(kind, new[] { a }, new[] { groups[rng.Next(groups.Length)] }));
                break;
            }
            case OpKind.InstanceNorm:
            {
                int a = Pick(j => Rank(j) >= 3 && FuzzProgram.Numel(shapes[j]) > 0 && FuzzProgram.Numel(shapes[j][2..]) >= 2);
                if (a >= 0) Try(S(kind, a));
                break;
            }
            case OpKind.BatchNorm:
            {
                int a = Pick(j => Rank(j) >= 2 && shapes[j][1] > 0 && FuzzProgram.Numel(shapes[j]) / shapes[j][1] >= 2);
                if (a >= 0) Try(S(kind, a));
                break;
            }
            case OpKind.Interpolate:
            {
                int a = Pick(j => Rank(j) is >= 3 and <= 5 && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                var size = shapes[a][2..].Select(_ => 1 + rng.Next(4)).ToArray();
                bool linear = rng.NextDouble() < 0.5;
                Try(new Step(kind, new[] { a }, size, Mode: linear ? 1 : 0, Flag: linear && rng.NextDouble() < 0.4));
                break;
            }
            case OpKind.Normalize:
            {
                int a = Pick(j => Rank(j) > 0);
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }, Scalar: rng.NextDouble() < 0.7 ? 2.0 : 1.0));
                break;
            }
            case OpKind.CosineSimilarity:
            {
                int a = Pick(j => Rank(j) > 0 && !isMask[j]);
                if (a < 0) break;
                int b = Partner(a);
                if (b < 0) break;
                var shape = Broadcast(shapes[a], shapes[b]);
                if (shape is null || shape.Length == 0) break;
                Try(new Step(kind, new[] { a, b }, new[] { Axis(shape.Length) }));
                break;
            }
        }
    }

    /// <summary>The kinks of the newer ops, as <see cref="NearKink"/> treats the older ones.</summary>
    bool NearNewerKink(Step s)
    {
        bool Any(int v, Func<double, bool> p) => numbers[v].Any(p);
        int x = s.Args.Length > 0 ? s.Args[0] : -1;
        switch (s.Kind)
        {
            case OpKind.Selu or OpKind.Celu:
                return Any(x, v => Math.Abs(v) < KinkDistance);
            case OpKind.Softshrink or OpKind.Hardshrink:
                return Any(x, v => Math.Abs(Math.Abs(v) - s.Scalar) < KinkDistance);
            case OpKind.Frac:
                return Any(x, v => Math.Abs(v - Math.Round(v)) < KinkDistance);
            case OpKind.Normalize when s.Scalar == 1:
                return Any(x, v => Math.Abs(v) < KinkDistance);
            // x/max(‖x‖, eps) jumps from x/eps to the unit vector near a zero slice: a slice that is 0 only up to rounding
            // (a batch norm's centred entry, 1e-12 in torch's run) is a unit vector in one engine and 0 in the other
            // (`fuzz adversarial 1/256`, float32: normalize of a batch norm over a constant row)
            case OpKind.Normalize or OpKind.CosineSimilarity:
            {
                using var scope = torch.NewDisposeScope();
                long axis = s.Ints[0];
                return s.Args.Any(v => tensors[v].numel() > 0 && Rank(v) > 0
                    && torch.linalg.vector_norm(tensors[v], 2, new[] { axis < 0 ? Math.Max(axis + Rank(v), 0) : Math.Min(axis, Rank(v) - 1) })
                        .lt(KinkDistance).any().item<bool>());
            }
            case OpKind.Cummax:
            {
                var v = numbers[x].OrderBy(t => t).ToArray();
                for (int i = 1; i < v.Length; i++) if (v[i] - v[i - 1] < KinkDistance) return true;
                return false;
            }
            // hypot's origin, as atan2's (Binary moves the second operand away from it, except on purpose)
            case OpKind.Hypot:
            {
                using var scope = torch.NewDisposeScope();
                return tensors[s.Args[0]].abs().lt(KinkDistance).logical_and(tensors[s.Args[1]].abs().lt(KinkDistance)).any().item<bool>();
            }
            default:
                return false;
        }
    }
}
