using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

// The ops added after the newest surface was drawn (branch edges, `--ops fresh`): torch.special's Bessel functions, erfcx,
// ndtr, log_ndtr, ndtri, entr, xlog1py, multigammaln and linalg.matrix_exp; torch's numerical conveniences (diff of any
// order, trapezoid and cumulative_trapezoid, cov, corrcoef, logaddexp2, copysign, deg2rad, rad2deg, vander, pdist,
// tensordot); the dropout variants with their noise given (dropout, dropout1d/2d/3d, alpha_dropout,
// feature_alpha_dropout, rrelu in training); conv_transpose3d; the RNN cell (tanh and relu). Drawn with the typed
// discipline of the others: operands inside each op's domain (ndtri inside (0, 1), entr's and xlog1py's second operand
// positive, multigammaln's a above (p − 1)/2, erfcx below where torch's composite side overflows), and the kinks (copysign
// at a zero magnitude, pdist at two equal rows, rrelu and the relu cell at 0) met only at bit-exact values.
public sealed partial class Generator
{
    /// <summary>Three weights each, as the newest ops.</summary>
    static (OpKind Kind, int Weight)[] FreshWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.GumbelSoftmax && k <= OpKind.RnnCell).Select(k => (k, 3)).ToArray();

    /// <summary>Everything <c>--ops newest</c> draws and then the fresh ops (<c>--ops fresh</c>), built on first use.</summary>
    static (OpKind Kind, int Weight)[] FreshSurfaceWeights => freshWeights ??= NewestSurfaceWeights.Concat(FreshWeights).ToArray();

    static (OpKind Kind, int Weight)[]? freshWeights;

    /// <summary>The dropout probabilities drawn (torch's default 0.5 among them).</summary>
    static readonly double[] DropoutRates = { 0.5, 0.25, 0.4 };

    /// <summary>Largest erfcx argument drawn: torch's side, e^{x²}·erfc(x), keeps its digits up to about there (TorchInterpreter).</summary>
    const double ErfcxLargest = 6;

    void Fresh(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.I0 or OpKind.I0e or OpKind.I1 or OpKind.I1e or OpKind.Ndtr or OpKind.LogNdtr or OpKind.Deg2Rad or OpKind.Rad2Deg:
                Unary(kind, null); break;
            case OpKind.Erfcx: InDomain(kind, x => x < ErfcxLargest, a => Squashed(a, 3, 0)); break;
            // ndtri of exact 0 and 1 is ∓∞ (its slope there too): inside (0.05, 0.95) by the squash
            case OpKind.Ndtri: InDomain(kind, x => x > 0.02 && x < 0.98, a => Squashed(a, 0.45, 0.5)); break;
            case OpKind.Entr: Unary(kind, Positive); break;
            case OpKind.Xlog1py: WithPositivePartner(kind); break;
            case OpKind.Multigammaln:
            {
                int p = 1 + rng.Next(3);
                double least = (p - 1) / 2.0;
                int a = Pick();
                if (a < 0) break;
                if (!All(a, x => x > least + 0.05))
                {
                    a = MakePositive(a);
                    if (a >= 0 && least > 0) a = Try(new Step(OpKind.AddScalar, new[] { a }, Array.Empty<int>(), Scalar: least));
                }
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { p }));
                break;
            }
            case OpKind.MatrixExp:
            {
                int a = Pick(j => !isMask[j] && Rank(j) >= 2 && shapes[j][^1] == shapes[j][^2] && shapes[j][^1] is > 0 and <= 3);
                if (a < 0) a = SquareMatrix();
                if (a >= 0) Try(S(kind, a));
                break;
            }
            case OpKind.Diff:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0));
                if (a < 0) break;
                int axis = Axis(Rank(a));
                int length = shapes[a][axis < 0 ? axis + Rank(a) : axis];
                Try(new Step(kind, new[] { a }, new[] { 1 + rng.Next(Math.Min(length, 3)), axis }));
                break;
            }
            case OpKind.Trapezoid or OpKind.CumulativeTrapezoid:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0));
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }, Scalar: new[] { 1.0, 0.5, 0.25, 2.0 }[rng.Next(4)]));
                break;
            }
            case OpKind.Cov or OpKind.Corrcoef:
            {
                // rows are variables, columns observations: at least two observations, so 1/(N − 1) is finite
                int a = Pick(j => !isMask[j] && Rank(j) is 1 or 2 && shapes[j].All(d => d > 0) && shapes[j][^1] >= 2);
                if (a < 0) break;
                if (kind == OpKind.Corrcoef && Rank(a) == 2 && shapes[a][0] > 1 && ConstantRow(a)) break;
                Try(new Step(kind, new[] { a }, kind == OpKind.Cov ? new[] { rng.Next(2) } : Array.Empty<int>()));
                break;
            }
            case OpKind.LogAddExp2 or OpKind.Copysign:
            {
                int a = Pick();
                if (a < 0) break;
                int b = Partner(a);
                if (b >= 0) Try(S(kind, a, b));
                break;
            }
            case OpKind.Vander:
            {
                int a = Pick(j => !isMask[j] && Rank(j) == 1 && shapes[j][0] is > 0 and <= 6);
                if (a < 0) break;
                int n = rng.NextDouble() < 0.5 ? 0 : 1 + rng.Next(5);
                Try(new Step(kind, new[] { a }, new[] { n }, Flag: rng.NextDouble() < 0.5));
                break;
            }
            case OpKind.Pdist:
            {
                int a = Pick(j => !isMask[j] && Rank(j) == 2 && shapes[j][0] is >= 2 and <= 6 && shapes[j][1] > 0);
                if (a < 0) a = Matrix();
                if (a < 0 || Rank(a) != 2 || shapes[a][0] < 2 || CloseRows(a)) break;
                Try(new Step(kind, new[] { a }, Array.Empty<int>(), Scalar: new[] { 2.0, 1.0, 3.0, double.PositiveInfinity }[rng.Next(4)]));
                break;
            }
            case OpKind.Tensordot: Tensordot(); break;
            case OpKind.Dropout:
            {
                int a = Pick(j => !isMask[j]);
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Scalar: DropoutRates[rng.Next(3)], Data: Noise(FuzzProgram.Numel(shapes[a])), DataShape: shapes[a]));
                break;
            }
            case OpKind.FeatureDropout:
            {
                int spatial = 1 + rng.Next(3);
                int a = spatial switch { 1 => Sequence(), 2 => Image(unbatched: true), _ => Volume() };
                if (a < 0) break;
                var channels = shapes[a][..^spatial];
                Try(new Step(kind, new[] { a }, new[] { spatial }, Scalar: DropoutRates[rng.Next(3)], Data: Noise(FuzzProgram.Numel(channels)), DataShape: channels));
                break;
            }
            case OpKind.AlphaDropout:
            {
                int a = Pick(j => !isMask[j]);
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Scalar: DropoutRates[rng.Next(3)], Data: Noise(FuzzProgram.Numel(shapes[a])), DataShape: shapes[a]));
                break;
            }
            case OpKind.FeatureAlphaDropout:
            {
                int a = Pick(j => !isMask[j] && Rank(j) >= 2);
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Scalar: DropoutRates[rng.Next(3)], Data: Noise(shapes[a][0] * shapes[a][1]), DataShape: shapes[a][..2]));
                break;
            }
            case OpKind.RReluTraining:
            {
                int a = Pick(j => !isMask[j]);
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Mode: rng.Next(FuzzProgram.RReluBounds.Length),
                    Data: Noise(FuzzProgram.Numel(shapes[a])), DataShape: shapes[a]));
                break;
            }
            case OpKind.ConvTranspose3d:
            {
                int x = Volume();
                if (x < 0) break;
                int channels = shapes[x][^4];
                var (groups, outputs) = GroupsAndOutputs(channels);
                int k = 1 + rng.Next(2), stride = 1 + rng.Next(2), padding = rng.Next(2), dilation = rng.NextDouble() < 0.8 ? 1 : 2;
                int w = Weight(new[] { channels, outputs / groups, k, k, k });
                if (w >= 0) Try(new Step(kind, WithBias(x, w, outputs), new[] { stride, padding, rng.Next(Math.Max(stride, dilation)), dilation, groups }));
                break;
            }
            case OpKind.RnnCell: RnnCell(); break;
        }
    }

    /// <summary>Uniform [0, 1) draws rounded to three digits, as a user's noise tensor holds them (ties with p among them).</summary>
    double[] Noise(int n) => Enumerable.Range(0, n).Select(_ => Math.Round(rng.NextDouble(), 3) % 1.0).ToArray();

    /// <summary>A square matrix or a batch of them: a reshape of a value with n² or 2n² entries (n ≤ 3).</summary>
    int SquareMatrix()
    {
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) is 1 or 2 or 4 or 8 or 9 or 18);
        if (source < 0) return -1;
        int numel = FuzzProgram.Numel(shapes[source]);
        var shape = numel switch { 1 => new[] { 1, 1 }, 2 => new[] { 2, 1, 1 }, 4 => new[] { 2, 2 }, 8 => new[] { 2, 2, 2 }, 9 => new[] { 3, 3 }, _ => new[] { 2, 3, 3 } };
        return Try(new Step(OpKind.Reshape, new[] { source }, shape));
    }

    /// <summary>Whether a row of matrix a is constant (a variance of 0, so corrcoef divides 0 by 0).</summary>
    bool ConstantRow(int a)
    {
        using var scope = torch.NewDisposeScope();
        var t = tensors[a];
        return (t.amax(new long[] { 1 }) - t.amin(new long[] { 1 })).lt(KinkDistance).any().item<bool>();
    }

    /// <summary>Whether two rows of matrix a are equal or within KinkDistance in every entry: pdist's norm has its kink at a
    /// zero difference, whose subgradient each engine picks its own way.</summary>
    bool CloseRows(int a)
    {
        using var scope = torch.NewDisposeScope();
        var t = tensors[a];
        return t.unsqueeze(0).sub(t.unsqueeze(1)).abs().amax(new long[] { 2 }).lt(KinkDistance).logical_and(torch.eye(t.shape[0]).logical_not()).any().item<bool>();
    }

    /// <summary>tensordot(a, b, dims): b's leading dims are a's last ones (a value of such a shape, or a constant).</summary>
    void Tensordot()
    {
        int a = Pick(j => !isMask[j] && Rank(j) > 0);
        if (a < 0) return;
        int dims = rng.Next(Math.Min(Rank(a), 2) + 1);
        var contracted = shapes[a][(Rank(a) - dims)..];
        int b = Pick(j => j != a && !isMask[j] && Rank(j) >= dims && Rank(j) - dims <= 2 && shapes[j][..dims].SequenceEqual(contracted));
        if (b < 0 || rng.NextDouble() < 0.3) b = Constant(contracted.Append(1 + rng.Next(3)).ToArray());
        if (b >= 0) Try(new Step(OpKind.Tensordot, new[] { a, b }, new[] { dims }));
    }

    /// <summary>One RNN cell step: input [B, in] or [in] (a value), hidden [B, H] or [H] (a value or a constant), the weights
    /// [H, in] and [H, H] (reshapes of values or constants), both biases half the time; Mode 1 the relu cell.</summary>
    void RnnCell()
    {
        int x = Pick(j => !isMask[j] && Rank(j) is 1 or 2 && shapes[j].All(d => d > 0) && shapes[j][^1] <= 4);
        if (x < 0) return;
        var leading = shapes[x][..^1];
        int size = 1 + rng.Next(3);
        int h = Pick(j => j != x && !isMask[j] && shapes[j].SequenceEqual(leading.Append(size)));
        if (h < 0 || rng.NextDouble() < 0.4) h = Constant(leading.Append(size).ToArray());
        if (h < 0) return;
        int wIh = Weight(new[] { size, shapes[x][^1] }), wHh = Weight(new[] { size, size });
        if (wIh < 0 || wHh < 0) return;
        var args = new List<int> { x, h, wIh, wHh };
        if (rng.NextDouble() < 0.5)
        {
            int bIh = Constant(new[] { size }), bHh = Constant(new[] { size });
            if (bIh >= 0 && bHh >= 0) args.AddRange(new[] { bIh, bHh });
        }
        Try(new Step(OpKind.RnnCell, args.ToArray(), Array.Empty<int>(), Mode: rng.NextDouble() < 0.4 ? 1 : 0));
    }

    /// <summary>The kinks of the fresh ops, as <see cref="NearKink"/> treats the older ones: copysign at a magnitude near 0
    /// or a sign source near 0 (which side, and so the sign, is the last bit's), rrelu near 0, and the relu cell's
    /// pre-activation near 0.</summary>
    bool NearFreshKink(Step s)
    {
        int x = s.Args.Length > 0 ? s.Args[0] : -1;
        bool NearZero(int v) => numbers[v].Any(t => Math.Abs(t) < KinkDistance);
        switch (s.Kind)
        {
            case OpKind.Copysign: return NearZero(s.Args[0]) || NearZero(s.Args[1]);
            case OpKind.RReluTraining: return NearZero(x);
            case OpKind.RnnCell when s.Mode == 1:
            {
                using var scope = torch.NewDisposeScope();
                var pre = TorchInterpreter.RnnPreActivation(s.Args.Select(a => tensors[a]).ToArray());
                return pre.abs().lt(KinkDistance).any().item<bool>();
            }
            default:
                return false;
        }
    }
}
