using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

// The rest of the public surface (branch surface10, `--ops all`): inverse and hyperbolic trigonometry, trunc, the hard
// activations, mish, prelu, threshold, logit, xlogy, lerp, addcmul/addcdiv, heaviside, fmod, remainder, floor_divide, the
// distances, cross/dot/outer/trace, matrix_power, cholesky_solve, median, nanmean, count_nonzero, argmin, amax/amin, the
// views (movedim, narrow, squeeze, unsqueeze, flatten, unflatten, expand), masked_fill, repeat_interleave, the remaining
// losses, pixel (un)shuffle, scaled dot-product attention and index_add. Drawn with the typed discipline of the newer ops:
// shapes that fit, operands inside each op's domain (acosh above 1, asin, acos and atanh inside (−1, 1), logit inside
// (0, 1), a positive variance), and kinks (hardtanh's bounds, threshold, heaviside at 0, trunc, fmod, remainder and
// floor_divide where a/b is an integer, hardsigmoid and hardswish at ±3, the distances at a zero difference, median's and
// argmin's ties) met only at bit-exact values. The ops without a derivative (count_nonzero, argmin, heaviside,
// floor_divide) are drawn as argmax and the comparisons are: their result is a value the program may use, with no
// derivative in ours and a detached one in torch's.
// There is no matrix exponential in our public API, so none is drawn.
public sealed partial class Generator
{
    /// <summary>One weight each, as the newer ops (the latest ops after IndexAdd are <c>--ops latest</c>'s).</summary>
    static (OpKind Kind, int Weight)[] RestWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.Const && k <= OpKind.IndexAdd).Select(k => (k, 1)).ToArray();

    /// <summary>The full surface and then the rest (<c>--ops all</c>), built on first use: a static initializer here could
    /// run before Generator.cs's <see cref="Weights"/>, since C# orders static initializers only within one file.</summary>
    static (OpKind Kind, int Weight)[] AllWeights => allWeights ??= Weights.Concat(RestWeights).ToArray();

    static (OpKind Kind, int Weight)[]? allWeights;

    static bool InUnitInterval(double x) => Math.Abs(x) < 0.95;

    void Rest(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.Atan or OpKind.Asinh or OpKind.Sinh or OpKind.Cosh or OpKind.Trunc or OpKind.Hardsigmoid or OpKind.Hardswish
                or OpKind.Mish:
                Unary(kind, null); break;
            // tanh(x)·0.9 lies inside (−0.9, 0.9) in both dtypes, where tanh alone rounds to ±1 at |x| near 20 (float64)
            case OpKind.Asin or OpKind.Acos or OpKind.Atanh: InDomain(kind, InUnitInterval, a => Squashed(a, 0.9, 0)); break;
            case OpKind.Acosh: InDomain(kind, x => x > 1.05, a => MakePositive(a) is var p && p >= 0 ? Try(new Step(OpKind.AddScalar, new[] { p }, Array.Empty<int>(), Scalar: 1)) : -1); break;
            case OpKind.Logit:
            {
                int a = Pick();
                if (a < 0) break;
                if (!All(a, x => x > 0.02 && x < 0.98)) a = Squashed(a, 0.45, 0.5);
                if (a < 0) break;
                // eps clamps x to [eps, 1 − eps]: its bounds are kinks, met only at bit-exact values
                bool clamped = rng.NextDouble() < 0.3;
                Try(new Step(kind, new[] { a }, Array.Empty<int>(), Mode: clamped ? 1 : 0, Scalar: clamped ? 0.25 : 0));
                break;
            }
            case OpKind.Hardtanh:
            {
                // bounds whose width divides 6 exactly, so torch's side (relu6 scaled) meets the bounds where ours does
                var bounds = new[] { (-1.0, 1.0), (0.0, 1.0), (-0.5, 1.0), (-2.0, 2.0) }[rng.Next(4)];
                int a = Pick();
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Data: new[] { bounds.Item1, bounds.Item2 }, DataShape: new[] { 2 }));
                break;
            }
            case OpKind.Threshold:
            {
                int a = Pick();
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(),
                    Data: new[] { new[] { 0.0, 0.5, -1.0 }[rng.Next(3)], new[] { 0.0, -1.0, 2.0 }[rng.Next(3)] }, DataShape: new[] { 2 }));
                break;
            }
            case OpKind.Prelu:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int channels = Rank(a) >= 2 ? shapes[a][1] : 1;
                var weightShape = channels == 1 || rng.NextDouble() < 0.4 ? new[] { 1 } : new[] { channels };
                int w = rng.NextDouble() < 0.6 ? Pick(j => !isMask[j] && shapes[j].SequenceEqual(weightShape)) : -1;
                if (w < 0) w = Constant(weightShape);
                if (w >= 0) Try(S(kind, a, w));
                break;
            }
            case OpKind.Xlogy: WithPositivePartner(kind); break;
            case OpKind.Fmod or OpKind.Remainder or OpKind.FloorDivide:
            {
                int a = Pick();
                if (a < 0) break;
                int b = Partner(a);
                if (b >= 0 && !All(b, AwayFromZero)) b = MakePositive(b);
                if (b >= 0) Try(S(kind, a, b));
                break;
            }
            case OpKind.Heaviside:
            {
                int a = Pick();
                if (a < 0) break;
                int b = Partner(a);
                if (b >= 0) Try(S(kind, a, b));
                break;
            }
            case OpKind.Lerp or OpKind.AddCMul or OpKind.AddCDiv:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int b = Partner(a);
                if (b < 0) break;
                var shape = Broadcast(shapes[a], shapes[b]);
                if (shape is null) break;
                int c = Pick(j => j != a && !isMask[j] && Broadcast(shape, shapes[j]) is { } s && FuzzProgram.Numel(s) <= MaxNumel);
                if (c < 0 || rng.NextDouble() < 0.3) c = Constant(shape.Select(d => rng.NextDouble() < 0.3 ? 1 : d).ToArray());
                if (c >= 0 && kind == OpKind.AddCDiv && !All(c, AwayFromZero)) c = MakePositive(c);
                if (c < 0) break;
                double value = kind == OpKind.Lerp ? 0 : new[] { 1.0, 0.5, -2.0 }[rng.Next(3)];
                Try(new Step(kind, new[] { a, b, c }, Array.Empty<int>(), Scalar: value));
                break;
            }
            case OpKind.Cdist:
            {
                int a = Pick(j => !isMask[j] && Rank(j) is 2 or 3 && shapes[j][^1] > 0 && shapes[j][^2] > 0);
                if (a < 0) break;
                int m = shapes[a][^1];
                int b = Pick(j => j != a && !isMask[j] && Rank(j) == Rank(a) && shapes[j][^1] == m && shapes[j][^2] > 0
                    && Broadcast(shapes[a][..^2], shapes[j][..^2]) != null);
                if (b < 0) b = Constant(shapes[a][..^2].Append(1 + rng.Next(3)).Append(m).ToArray());
                if (b >= 0 && !ZeroDifference(kind, a, b)) Try(new Step(kind, new[] { a, b }, Array.Empty<int>(), Scalar: new[] { 2.0, 1.0, 3.0 }[rng.Next(3)]));
                break;
            }
            case OpKind.Dist or OpKind.PairwiseDistance:
            {
                int a = Pick(j => !isMask[j] && (kind == OpKind.Dist || Rank(j) > 0));
                if (a < 0) break;
                int b = Partner(a);
                if (b < 0 || Broadcast(shapes[a], shapes[b]) is not { } shape || kind == OpKind.PairwiseDistance && shape.Length == 0) break;
                if (kind == OpKind.Dist && ZeroDifference(kind, a, b)) break;
                Try(new Step(kind, new[] { a, b }, Array.Empty<int>(), Flag: rng.NextDouble() < 0.3, Scalar: new[] { 2.0, 1.0, 3.0 }[rng.Next(3)]));
                break;
            }
            case OpKind.Cross:
            {
                int a = Pick(j => !isMask[j] && shapes[j].Contains(3));
                if (a < 0) break;
                int b = SameShape(a);
                if (b < 0) break;
                var axes = Enumerable.Range(0, Rank(a)).Where(i => shapes[a][i] == 3).ToArray();
                int axis = axes[rng.Next(axes.Length)];
                Try(new Step(kind, new[] { a, b }, new[] { rng.NextDouble() < 0.5 ? axis - Rank(a) : axis }));
                break;
            }
            case OpKind.Dot or OpKind.Outer:
            {
                int a = Pick(j => !isMask[j] && Rank(j) == 1);
                if (a < 0) break;
                int b = kind == OpKind.Dot ? SameShape(a) : Pick(j => !isMask[j] && Rank(j) == 1 && shapes[j][0] * shapes[a][0] <= MaxNumel);
                if (b >= 0) Try(S(kind, a, b));
                break;
            }
            case OpKind.Trace:
            {
                int a = Matrix();
                if (a >= 0) Try(S(kind, a));
                break;
            }
            case OpKind.MatrixPower:
            {
                int n = new[] { 0, 1, 2, 3, -1, -2 }[rng.Next(6)];
                // a negative power inverts: on a well-conditioned matrix, finite in both runs, as Inverse is drawn
                int m = n < 0 ? WellConditioned() : Square();
                if (m >= 0 && (n >= 0 || Finite(m) && FiniteInFloat32(m))) Try(new Step(kind, new[] { m }, new[] { n }));
                break;
            }
            case OpKind.CholeskySolve:
            {
                int m = WellConditioned();
                if (m < 0 || !Finite(m) || !FiniteInFloat32(m)) break;
                bool upper = rng.NextDouble() < 0.5;
                // the factor triangular on both sides (our solve reads only its triangle, torch's rule the whole matrix)
                int factor = Try(new Step(upper ? OpKind.Triu : OpKind.Tril, new[] { m }, new[] { 0 }));
                if (factor < 0) break;
                int n = shapes[m][^1];
                int b = Pick(j => !isMask[j] && Rank(j) == 2 && shapes[j][0] == n && shapes[j][1] > 0);
                if (b < 0) b = Constant(new[] { n, 1 + rng.Next(3) });
                if (b >= 0) Try(new Step(kind, new[] { b, factor }, Array.Empty<int>(), Flag: upper));
                break;
            }
            case OpKind.Median:
            {
                int a = Pick(j => FuzzProgram.Numel(shapes[j]) > 0);
                if (a >= 0 && !MedianTied(a)) Try(S(kind, a));
                break;
            }
            case OpKind.Nanmean: Reduce(kind); break;
            case OpKind.CountNonzero or OpKind.ArgMin:
            {
                int a = Pick();
                if (a < 0) break;
                bool all = Rank(a) == 0 || rng.NextDouble() < 0.3;
                if (kind == OpKind.ArgMin && FuzzProgram.Numel(shapes[a]) == 0) break;
                Try(all ? new Step(kind, new[] { a }, Array.Empty<int>(), Mode: 0)
                    : new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }, Mode: 1, Flag: rng.NextDouble() < 0.4), mask: kind == OpKind.ArgMin);
                break;
            }
            case OpKind.Amax or OpKind.Amin:
            {
                int a = Pick(j => Rank(j) > 0);
                if (a < 0) break;
                bool keep = rng.NextDouble() < 0.4;
                Try(rng.NextDouble() < 0.6 ? new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }, Mode: 1, Flag: keep)
                    : new Step(kind, new[] { a }, RandomAxes(Rank(a)), Mode: 2, Flag: keep));
                break;
            }
            case OpKind.Movedim:
            {
                int a = Pick(j => Rank(j) > 0);
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { Axis(Rank(a)), Axis(Rank(a)) }), mask: isMask[a]);
                break;
            }
            case OpKind.Narrow:
            {
                int a = Pick(j => Rank(j) > 0);
                if (a < 0) break;
                int axis = Axis(Rank(a)), d = shapes[a][axis < 0 ? axis + Rank(a) : axis];
                int start = d == 0 ? 0 : rng.Next(d);
                int length = rng.Next(d - start + 1);
                Try(new Step(kind, new[] { a }, new[] { axis, rng.NextDouble() < 0.3 && d > 0 ? start - d : start, length }), mask: isMask[a]);
                break;
            }
            case OpKind.Squeeze:
            {
                int a = Pick();
                if (a < 0) break;
                int rank = Rank(a);
                double r = rng.NextDouble();
                // prefer axes of length 1, which are removed; another axis is left as it is
                var ones = Enumerable.Range(0, rank).Where(i => shapes[a][i] == 1).ToArray();
                if (rank == 0 || r < 0.3) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Mode: 0), mask: isMask[a]);
                else if (r < 0.7) Try(new Step(kind, new[] { a }, new[] { ones.Length > 0 && rng.NextDouble() < 0.7 ? ones[rng.Next(ones.Length)] : Axis(rank) }, Mode: 1), mask: isMask[a]);
                else Try(new Step(kind, new[] { a }, Enumerable.Range(0, rank).Where(_ => rng.NextDouble() < 0.5).DefaultIfEmpty(0)
                    .Select(i => rng.NextDouble() < 0.3 ? i - rank : i).ToArray(), Mode: 2), mask: isMask[a]);
                break;
            }
            case OpKind.Unsqueeze:
            {
                int a = Pick();
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { rng.Next(2 * Rank(a) + 2) - Rank(a) - 1 }), mask: isMask[a]);
                break;
            }
            case OpKind.Flatten:
            {
                int a = Pick();
                if (a < 0) break;
                int rank = Rank(a);
                if (rank == 0) { Try(new Step(kind, new[] { a }, new[] { 0, -1 }), mask: isMask[a]); break; }
                int start = rng.Next(rank), end = start + rng.Next(rank - start);
                Try(new Step(kind, new[] { a }, new[] { rng.NextDouble() < 0.3 ? start - rank : start, rng.NextDouble() < 0.5 ? end - rank : end }), mask: isMask[a]);
                break;
            }
            case OpKind.Unflatten:
            {
                int a = Pick(j => shapes[j].Any(d => d > 0));
                if (a < 0) break;
                var axes = Enumerable.Range(0, Rank(a)).Where(i => shapes[a][i] > 0).ToArray();
                int axis = axes[rng.Next(axes.Length)], d = shapes[a][axis];
                var divisors = Enumerable.Range(1, d).Where(k => d % k == 0).ToArray();
                int first = divisors[rng.Next(divisors.Length)];
                var sizes = rng.NextDouble() < 0.3 ? new[] { first, -1 } : new[] { first, d / first };
                Try(new Step(kind, new[] { a }, new[] { rng.NextDouble() < 0.3 ? axis - Rank(a) : axis }.Concat(sizes).ToArray()), mask: isMask[a]);
                break;
            }
            case OpKind.Expand:
            {
                int a = Pick();
                if (a < 0) break;
                var sizes = shapes[a].Select(d => d == 1 ? 1 + rng.Next(3) : rng.NextDouble() < 0.5 ? -1 : d).ToList();
                if (rng.NextDouble() < 0.3) sizes.Insert(0, 1 + rng.Next(3));
                Try(new Step(kind, new[] { a }, sizes.ToArray()), mask: isMask[a]);
                break;
            }
            case OpKind.MaskedFill:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int m = Pick(j => isMask[j] && Broadcast(shapes[a], shapes[j]) is { } s && s.SequenceEqual(shapes[a]));
                if (m < 0 || rng.NextDouble() < 0.5)
                {
                    int c = Constant(Array.Empty<int>());
                    m = c < 0 ? -1 : Try(S(new[] { OpKind.Gt, OpKind.Lt }[rng.Next(2)], a, c), mask: true);
                }
                if (m >= 0) Try(new Step(kind, new[] { a, m }, Array.Empty<int>(), Scalar: new[] { 0.0, -1.0, 0.5, 2.0 }[rng.Next(4)]));
                break;
            }
            case OpKind.RepeatInterleave:
            {
                int a = Pick();
                if (a < 0) break;
                int repeats = 1 + rng.Next(3);
                if (Rank(a) == 0 || rng.NextDouble() < 0.3) Try(new Step(kind, new[] { a }, new[] { repeats }, Mode: 0), mask: isMask[a]);
                else Try(new Step(kind, new[] { a }, new[] { repeats, Axis(Rank(a)) }, Mode: 1), mask: isMask[a]);
                break;
            }
            case OpKind.NllLoss:
            {
                int a = Matrix();
                if (a < 0) break;
                int classes = shapes[a][1];
                var targets = Enumerable.Range(0, shapes[a][0]).Select(_ => rng.Next(classes)).ToArray();
                bool ignore = rng.NextDouble() < 0.3;
                Try(new Step(kind, new[] { a }, targets, Mode: rng.Next(3), Flag: ignore, Scalar: ignore ? targets[rng.Next(targets.Length)] : 0));
                break;
            }
            case OpKind.Huber or OpKind.SmoothL1:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int b = SameShape(a);
                if (b >= 0) Try(new Step(kind, new[] { a, b }, Array.Empty<int>(), Mode: rng.Next(3), Scalar: new[] { 1.0, 0.5, 2.0 }[rng.Next(3)]));
                break;
            }
            case OpKind.KlDiv:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int b = SameShape(a);
                if (b < 0) break;
                bool logTarget = rng.NextDouble() < 0.4;
                if (!logTarget && !All(b, x => x >= 0)) b = Try(S(OpKind.Sigmoid, b));
                if (b >= 0) Try(new Step(kind, new[] { a, b }, Array.Empty<int>(), Mode: rng.Next(4), Flag: logTarget));
                break;
            }
            case OpKind.GaussianNllLoss:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0);
                if (a < 0) break;
                int b = SameShape(a);
                if (b < 0) break;
                // a variance per entry, or one per row (the last axis of length 1), above torch's clamp at eps
                int v = rng.NextDouble() < 0.6 ? SameShape(a) : Try(new Step(OpKind.Mean, new[] { a }, new[] { -1 }, Mode: 1, Flag: true));
                if (v >= 0 && !All(v, Positive)) v = MakePositive(v);
                if (v >= 0) Try(new Step(kind, new[] { a, b, v }, Array.Empty<int>(), Mode: rng.Next(3), Flag: rng.NextDouble() < 0.5));
                break;
            }
            case OpKind.BinaryCrossEntropy:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int b = SameShape(a);
                if (b < 0) break;
                if (!All(a, x => x > 0.02 && x < 0.98)) a = Squashed(a, 0.45, 0.5);
                if (a >= 0 && !All(b, x => x >= 0 && x <= 1)) b = Try(S(OpKind.Sigmoid, b));
                if (a >= 0 && b >= 0) Try(new Step(kind, new[] { a, b }, Array.Empty<int>(), Mode: rng.Next(3)));
                break;
            }
            case OpKind.PixelShuffle or OpKind.PixelUnshuffle:
            {
                // never over an empty tensor: torch returns an empty input as it is, so pixel_unshuffle of [0, 4, 2] keeps
                // that shape where it is [0, 2, 1] (ours), and the shapes the generator tracks from torch's run no longer
                // fit our side's (`fuzz all 3/525`: a later comparison of [0, 2] with [0, 4, 1] threw)
                int a = kind == OpKind.PixelShuffle
                    ? Pick(j => Rank(j) >= 3 && shapes[j][^3] % 4 == 0 && shapes[j][^3] > 0 && FuzzProgram.Numel(shapes[j]) > 0)
                    : Pick(j => Rank(j) >= 3 && shapes[j][^1] % 2 == 0 && shapes[j][^2] % 2 == 0 && shapes[j][^1] > 0 && shapes[j][^2] > 0
                                && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0 || rng.NextDouble() < 0.5)
                {
                    int source = Pick(j => FuzzProgram.Numel(shapes[j]) > 0 && FuzzProgram.Numel(shapes[j]) % 4 == 0);
                    if (source < 0) break;
                    int m = FuzzProgram.Numel(shapes[source]) / 4;
                    var divisors = Enumerable.Range(1, m).Where(k => m % k == 0).ToArray();
                    int h = divisors[rng.Next(divisors.Length)], w = m / h;
                    a = Try(new Step(OpKind.Reshape, new[] { source }, kind == OpKind.PixelShuffle ? new[] { 4, h, w } : new[] { h, 2, 2 * w }));
                    if (a < 0) break;
                }
                Try(new Step(kind, new[] { a }, new[] { 2 }));
                break;
            }
            case OpKind.ScaledDotProductAttention:
            {
                int q = Pick(j => !isMask[j] && Rank(j) is 2 or 3 && shapes[j][^1] > 0 && shapes[j][^2] > 0);
                if (q < 0) break;
                var batch = shapes[q][..^2];
                int e = shapes[q][^1];
                int k = Pick(j => !isMask[j] && Rank(j) == Rank(q) && shapes[j][..^2].SequenceEqual(batch) && shapes[j][^1] == e && shapes[j][^2] > 0);
                if (k < 0) k = Constant(batch.Append(1 + rng.Next(3)).Append(e).ToArray());
                if (k < 0) break;
                int s = shapes[k][^2];
                int v = Pick(j => !isMask[j] && Rank(j) == Rank(q) && shapes[j][..^2].SequenceEqual(batch) && shapes[j][^2] == s && shapes[j][^1] > 0);
                if (v < 0) v = Constant(batch.Append(s).Append(1 + rng.Next(3)).ToArray());
                bool scaled = rng.NextDouble() < 0.3;
                if (v >= 0) Try(new Step(kind, new[] { q, k, v }, Array.Empty<int>(), Mode: scaled ? 1 : 0, Flag: rng.NextDouble() < 0.4, Scalar: scaled ? 0.5 : 0));
                break;
            }
            case OpKind.IndexAdd:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0));
                if (a < 0) break;
                int axis = Axis(Rank(a)), positive = axis < 0 ? axis + Rank(a) : axis, d = shapes[a][positive];
                var index = Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => (double)rng.Next(d)).ToArray();
                var sourceShape = shapes[a].Select((n, i) => i == positive ? index.Length : n).ToArray();
                int source = rng.NextDouble() < 0.6 ? Pick(j => !isMask[j] && shapes[j].SequenceEqual(sourceShape)) : -1;
                if (source < 0) source = Constant(sourceShape);
                if (source >= 0) Try(new Step(kind, new[] { a, source }, new[] { axis }, Data: index, DataShape: new[] { index.Length }));
                break;
            }
        }
    }

    /// <summary>A binary op whose second operand is made positive when it is not (xlogy, xlog1py).</summary>
    void WithPositivePartner(OpKind kind)
    {
        int a = Pick();
        if (a < 0) return;
        int b = Partner(a);
        if (b >= 0 && !All(b, Positive)) b = MakePositive(b);
        if (b >= 0) Try(S(kind, a, b));
    }

    /// <summary>A unary op whose operand is first moved inside its domain by <paramref name="into"/> when it is not there.</summary>
    void InDomain(OpKind kind, Func<double, bool> domain, Func<int, int> into)
    {
        int a = Pick();
        if (a < 0) return;
        if (!All(a, domain)) a = into(a);
        if (a >= 0) Try(S(kind, a));
    }

    /// <summary>tanh(a)·scale + shift: inside (shift − scale, shift + scale).</summary>
    int Squashed(int a, double scale, double shift)
    {
        int t = Try(S(OpKind.Tanh, a));
        if (t < 0) return -1;
        int scaled = Try(new Step(OpKind.MulScalar, new[] { t }, Array.Empty<int>(), Scalar: scale));
        if (scaled < 0 || shift == 0) return scaled;
        return Try(new Step(OpKind.AddScalar, new[] { scaled }, Array.Empty<int>(), Scalar: shift));
    }

    /// <summary>
    /// Whether the median of value a is tied, or a NaN: which of tied entries the median picks, and so which gets the
    /// derivative, is the kernel's choice, so ties are left out even where they are exact.
    /// </summary>
    bool MedianTied(int a)
    {
        var v = numbers[a].OrderBy(t => t).ToArray();
        if (v.Any(double.IsNaN)) return true;
        double median = v[(v.Length - 1) / 2];
        return v.Count(t => Math.Abs(t - median) < KinkDistance) > 1;
    }

    /// <summary>
    /// Whether a difference of cdist's or dist's operands is at 0, or within KinkDistance of it: torch's 2-norm has the
    /// second derivative NaN at a zero difference (the case table's "edge cdist zero distance", named there), and a
    /// difference that is 0 only up to rounding falls on either side of |·| in the two engines.
    /// </summary>
    bool ZeroDifference(OpKind kind, int a, int b)
    {
        using var scope = torch.NewDisposeScope();
        var d = kind == OpKind.Cdist ? tensors[a].unsqueeze(-2).sub(tensors[b].unsqueeze(-3)) : tensors[a].sub(tensors[b]);
        return d.numel() > 0 && d.abs().lt(KinkDistance).any().item<bool>();
    }

    /// <summary>The kinks of the rest of the surface, as <see cref="NearKink"/> treats the older ones.</summary>
    bool NearRestKink(Step s)
    {
        bool Any(int v, Func<double, bool> p) => numbers[v].Any(p);
        bool Near(double v, double kink) => Math.Abs(v - kink) < KinkDistance;
        int x = s.Args.Length > 0 ? s.Args[0] : -1;
        switch (s.Kind)
        {
            case OpKind.Trunc:
                return Any(x, v => Math.Abs(v - Math.Round(v)) < KinkDistance);
            case OpKind.Hardsigmoid or OpKind.Hardswish:
                return Any(x, v => Near(v, 3) || Near(v, -3));
            case OpKind.Hardtanh or OpKind.Threshold:
                return Any(x, v => Near(v, s.Data![0]) || s.Kind == OpKind.Hardtanh && Near(v, s.Data![1]));
            case OpKind.Logit when s.Mode == 1:
                return Any(x, v => Near(v, s.Scalar) || Near(v, 1 - s.Scalar));
            case OpKind.Prelu or OpKind.Heaviside or OpKind.CountNonzero:
                return Any(x, v => Math.Abs(v) < KinkDistance);
            // a/b at an integer: fmod and remainder jump there, and so do their derivatives in b and floor_divide itself
            case OpKind.Fmod or OpKind.Remainder or OpKind.FloorDivide:
            {
                using var scope = torch.NewDisposeScope();
                var q = tensors[s.Args[0]].div(tensors[s.Args[1]]);
                return q.sub(q.round()).abs().lt(KinkDistance).logical_and(q.isfinite()).any().item<bool>();
            }
            case OpKind.PairwiseDistance:
            {
                using var scope = torch.NewDisposeScope();
                var d = tensors[s.Args[0]].sub(tensors[s.Args[1]]).add(1e-6);
                return d.numel() > 0 && d.abs().lt(KinkDistance).any().item<bool>();
            }
            case OpKind.Huber or OpKind.SmoothL1:
            {
                using var scope = torch.NewDisposeScope();
                var d = tensors[s.Args[0]].sub(tensors[s.Args[1]]).abs();
                return d.numel() > 0 && d.sub(s.Scalar).abs().lt(KinkDistance).any().item<bool>();
            }
            case OpKind.ArgMin or OpKind.Amax or OpKind.Amin:
            {
                var v = numbers[x].OrderBy(t => t).ToArray();
                for (int i = 1; i < v.Length; i++) if (v[i] - v[i - 1] < KinkDistance) return true;
                return false;
            }
            default:
                return false;
        }
    }
}

/// <summary>How the rest of the surface's steps encode their parameters, shared by the interpreters and the printer.</summary>
public static class RestOfSurface
{
    /// <summary>A loss step's Mode as the public reduction: 0 mean, 1 sum, 2 none, 3 batchmean.</summary>
    public static Reduction Reduction(int mode) => mode switch
    {
        0 => FunctionalDiff.Reduction.Mean,
        1 => FunctionalDiff.Reduction.Sum,
        2 => FunctionalDiff.Reduction.None,
        _ => FunctionalDiff.Reduction.BatchMean,
    };
}
