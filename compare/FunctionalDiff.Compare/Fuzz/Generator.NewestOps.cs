using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

// The ops added after the latest surface was drawn (branch fuzznew, `--ops newest`): the 1-D, 3-D and adaptive max pools,
// max and average pooling with ceil_mode, count_include_pad and divisor_override, conv_transpose1d, quantile and
// nanquantile in all five interpolations, the margin losses that take labels, rms_norm, local_response_norm, bilinear and
// gumbel_softmax with its noise given. Drawn with the typed discipline of the others: every pooling window reaches into
// its input (torch's max-pool backward indexes past it otherwise, `fuzz adversarial 8/146`), the labels are valid (±1, 0/1,
// classes in range), and the kinks (ties of a max pool or a sort, a hinge at its margin, a hard sample's argmax) are met
// only at bit-exact values, as NearKink keeps the older ones.
public sealed partial class Generator
{
    /// <summary>Three weights each, as the latest ops, and six for the max pools and the 2-D and 3-D average pools, which
    /// give up more often (a window must reach into the input).</summary>
    static (OpKind Kind, int Weight)[] NewestWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.SegmentSoftmax && k <= OpKind.GumbelSoftmax)
        .Select(k => (k, k is OpKind.MaxPool1d or OpKind.MaxPool3d or OpKind.AvgPool3d or OpKind.MaxPool2dWith or OpKind.AvgPool2dWith ? 6 : 3)).ToArray();

    /// <summary>Everything <c>--ops latest</c> draws and then the newest ops (<c>--ops newest</c>), built on first use.</summary>
    static (OpKind Kind, int Weight)[] NewestSurfaceWeights => newestWeights ??= LatestSurfaceWeights.Concat(NewestWeights).ToArray();

    static (OpKind Kind, int Weight)[]? newestWeights;

    static readonly double[] QuantileLevels = { 0, 0.25, 0.3, 0.5, 0.7, 0.95, 1 };
    static readonly double[] Margins = { 1.0, 0.5, 2.0 };

    void Newest(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.MaxPool1d or OpKind.AvgPool1d: Pool(kind, Sequence(), axes: 1); break;
            case OpKind.MaxPool2dWith or OpKind.AvgPool2dWith: Pool(kind, Image(unbatched: true), axes: 2); break;
            case OpKind.MaxPool3d or OpKind.AvgPool3d: Pool(kind, Volume(), axes: 3); break;
            case OpKind.AdaptiveAvgPool1d or OpKind.AdaptiveMaxPool1d:
            {
                int x = Sequence();
                if (x >= 0) Try(new Step(kind, new[] { x }, new[] { 1 + rng.Next(4) }));
                break;
            }
            case OpKind.AdaptiveMaxPool2d:
            {
                int x = Image(unbatched: true);
                if (x >= 0) Try(new Step(kind, new[] { x }, new[] { 1 + rng.Next(3), 1 + rng.Next(3) }));
                break;
            }
            case OpKind.ConvTranspose1d:
            {
                int x = Sequence();
                if (x < 0) break;
                int channels = shapes[x][^2];
                var (groups, outputs) = GroupsAndOutputs(channels);
                int k = 1 + rng.Next(3), stride = 1 + rng.Next(2), padding = rng.Next(2), dilation = rng.NextDouble() < 0.7 ? 1 : 2;
                int w = Weight(new[] { channels, outputs / groups, k });
                if (w >= 0) Try(new Step(kind, WithBias(x, w, outputs), new[] { stride, padding, rng.Next(Math.Max(stride, dilation)), dilation, groups }));
                break;
            }
            case OpKind.Quantile or OpKind.NanQuantile:
            {
                int a = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                var axis = Rank(a) == 0 || rng.NextDouble() < 0.3 ? Array.Empty<int>() : new[] { Axis(Rank(a)) };
                bool scalar = rng.NextDouble() < 0.6;
                var q = Enumerable.Range(0, scalar ? 1 : 2 + rng.Next(2)).Select(_ => QuantileLevels[rng.Next(QuantileLevels.Length)]).ToArray();
                Try(new Step(kind, new[] { a }, axis, Mode: rng.Next(5), Flag: rng.NextDouble() < 0.3, Data: q, DataShape: scalar ? null : new[] { q.Length }));
                break;
            }
            case OpKind.SoftMarginLoss or OpKind.HingeEmbeddingLoss:
            {
                int a = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                var signs = Enumerable.Range(0, FuzzProgram.Numel(shapes[a])).Select(_ => rng.NextDouble() < 0.5 ? 1.0 : -1.0).ToArray();
                Try(new Step(kind, new[] { a }, Array.Empty<int>(), Mode: rng.Next(3), Scalar: kind == OpKind.HingeEmbeddingLoss ? Margins[rng.Next(3)] : 0,
                    Data: signs, DataShape: shapes[a]));
                break;
            }
            case OpKind.MultiLabelSoftMarginLoss:
            {
                int a = ClassScores();
                if (a < 0) break;
                int classes = shapes[a][^1];
                var labels = Enumerable.Range(0, FuzzProgram.Numel(shapes[a])).Select(_ => (double)rng.Next(2)).ToArray();
                var args = new List<int> { a };
                if (rng.NextDouble() < 0.4)
                {
                    int w = Pick(j => !isMask[j] && shapes[j].SequenceEqual(new[] { classes }));
                    if (w < 0) w = Constant(new[] { classes });
                    if (w >= 0) args.Add(w);
                }
                Try(new Step(kind, args.ToArray(), Array.Empty<int>(), Mode: rng.Next(3), Data: labels, DataShape: shapes[a]));
                break;
            }
            case OpKind.MultiMarginLoss:
            {
                int a = ClassScores();
                if (a < 0) break;
                int classes = shapes[a][^1];
                var targets = Enumerable.Range(0, Rank(a) == 2 ? shapes[a][0] : 1).Select(_ => rng.Next(classes)).ToArray();
                // class weights are constants: torch has no derivative of multi_margin_loss in its weight
                var weights = rng.NextDouble() < 0.4 ? Enumerable.Range(0, classes).Select(_ => Math.Round(0.25 + 2 * rng.NextDouble(), 2)).ToArray() : null;
                Try(new Step(kind, new[] { a }, targets, Mode: rng.Next(3), Flag: rng.NextDouble() < 0.4, Scalar: Margins[rng.Next(3)],
                    Data: weights, DataShape: weights is null ? null : new[] { classes }));
                break;
            }
            case OpKind.RmsNorm:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                var normalized = shapes[a][^(1 + rng.Next(Math.Min(Rank(a), 2)))..];
                var args = new List<int> { a };
                if (rng.NextDouble() < 0.5)
                {
                    int w = Pick(j => !isMask[j] && shapes[j].SequenceEqual(normalized));
                    if (w < 0) w = Constant(normalized);
                    if (w >= 0) args.Add(w);
                }
                bool given = rng.NextDouble() < 0.5;
                Try(new Step(kind, args.ToArray(), normalized, Mode: given ? 1 : 0, Scalar: given ? new[] { 1e-3, 1e-5 }[rng.Next(2)] : 0));
                break;
            }
            case OpKind.LocalResponseNorm:
            {
                int a = Pick(j => !isMask[j] && Rank(j) is >= 3 and <= 5 && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) a = Image(unbatched: false);
                if (a < 0) break;
                var settings = new[] { new[] { 1e-4, 0.75, 1.0 }, new[] { 0.3, 0.75, 1.5 }, new[] { 0.5, 1.2, 2.0 }, new[] { 1.0, 0.5, 0.5 } }[rng.Next(4)];
                Try(new Step(kind, new[] { a }, new[] { 1 + rng.Next(4) }, Data: settings));
                break;
            }
            case OpKind.Bilinear: Bilinear(); break;
            case OpKind.GumbelSoftmax:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                var noise = Enumerable.Range(0, FuzzProgram.Numel(shapes[a])).Select(_ => Math.Round(0.02 + 0.96 * rng.NextDouble(), 3)).ToArray();
                Try(new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }, Flag: rng.NextDouble() < 0.4, Scalar: new[] { 1.0, 0.5, 2.0 }[rng.Next(3)],
                    Data: noise, DataShape: shapes[a]));
                break;
            }
        }
    }

    /// <summary>A max or average pool over <paramref name="axes"/> spatial axes with one kernel size, stride, padding (at most
    /// half the kernel, as torch asks) and dilation for all of them, ceil mode sometimes, and for average pooling
    /// count_include_pad false and a divisor override sometimes; only where every window reaches into the input.</summary>
    void Pool(OpKind kind, int x, int axes)
    {
        if (x < 0) return;
        bool max = kind is OpKind.MaxPool1d or OpKind.MaxPool2dWith or OpKind.MaxPool3d;
        int k = 1 + rng.Next(3), stride = rng.Next(3), padding = rng.Next(k / 2 + 1), dilation = max && rng.NextDouble() < 0.3 ? 2 : 1;
        bool ceil = rng.NextDouble() < 0.6;
        if (!shapes[x][^axes..].All(size => EveryWindowInside(size, k, stride, padding, dilation, ceil))) return;
        var ints = max ? new[] { k, stride, padding, dilation }
            : kind == OpKind.AvgPool1d ? new[] { k, stride, padding }
            : new[] { k, stride, padding, rng.NextDouble() < 0.25 ? 1 + rng.Next(5) : 0 };
        Try(new Step(kind, new[] { x }, ints, Mode: !max && rng.NextDouble() < 0.4 ? 1 : 0, Flag: ceil));
    }

    /// <summary>Whether a pooling along an axis of <paramref name="size"/> has at least one window and every window a tap
    /// inside the input (stride 0: the kernel size), with torch's window count: in ceil mode a partial last window counts
    /// unless it would start past the input and its left padding.</summary>
    static bool EveryWindowInside(int size, int k, int stride, int padding, int dilation, bool ceil)
    {
        int s = stride == 0 ? k : stride, span = size + 2 * padding - dilation * (k - 1) - 1;
        if (span < 0) return false;
        int outputs = (ceil ? (span + s - 1) / s : span / s) + 1;
        if (ceil && (outputs - 1) * s >= size + padding) outputs--;
        for (int o = 0; o < outputs; o++)
            if (!Enumerable.Range(0, k).Any(r => o * s - padding + r * dilation is var at && at >= 0 && at < size)) return false;
        return outputs > 0;
    }

    /// <summary>Scores per class, [N, C] or an unbatched [C] with no empty axis: a value of that rank or a matrix (a reshape).</summary>
    int ClassScores()
    {
        int a = Pick(j => !isMask[j] && Rank(j) is 1 or 2 && shapes[j].All(d => d > 0));
        return a >= 0 ? a : Matrix();
    }

    /// <summary>bilinear(x₁, x₂, W, b): x₁ [..., in₁], x₂ [..., in₂] with the same leading axes (a value or a constant), W
    /// [out, in₁, in₂] (a reshape of a value or a constant) and a bias of the outputs half the time.</summary>
    void Bilinear()
    {
        int x1 = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0) && shapes[j][^1] <= 4);
        if (x1 < 0) return;
        var leading = shapes[x1][..^1];
        int x2 = Pick(j => !isMask[j] && Rank(j) == Rank(x1) && shapes[j][..^1].SequenceEqual(leading) && shapes[j][^1] is > 0 and <= 4);
        if (x2 < 0 || rng.NextDouble() < 0.3) x2 = Constant(leading.Append(1 + rng.Next(3)).ToArray());
        if (x2 < 0) return;
        int outputs = 1 + rng.Next(3);
        int w = Weight(new[] { outputs, shapes[x1][^1], shapes[x2][^1] });
        if (w < 0) return;
        var args = WithBias(x1, w, outputs).ToList();
        args.Insert(1, x2);
        Try(new Step(OpKind.Bilinear, args.ToArray(), Array.Empty<int>()));
    }

    /// <summary>The kinks of the newest ops, as <see cref="NearKink"/> treats the older ones: ties of the max pools' operand
    /// (which entry a window's gradient goes to), ties along a quantile's axis (which entry the sort puts where), a hinge
    /// embedding loss at its margin, a multi-margin loss where a margin term is 0, and ties of a hard Gumbel sample's soft
    /// sample along its axis (its argmax).</summary>
    bool NearNewestKink(Step s)
    {
        int x = s.Args.Length > 0 ? s.Args[0] : -1;
        bool Ties(IEnumerable<double> values)
        {
            var v = values.OrderBy(t => t).ToArray();
            for (int i = 1; i < v.Length; i++) if (v[i] - v[i - 1] < KinkDistance) return true;
            return false;
        }
        switch (s.Kind)
        {
            case OpKind.MaxPool1d or OpKind.MaxPool2dWith or OpKind.MaxPool3d or OpKind.AdaptiveMaxPool1d or OpKind.AdaptiveMaxPool2d:
                return Ties(numbers[x]);
            case OpKind.Quantile or OpKind.NanQuantile:
                return s.Ints.Length == 0 ? Ties(numbers[x]) : TiedAlong(x, s.Ints[0]);
            case OpKind.HingeEmbeddingLoss:
                return numbers[x].Where((v, i) => s.Data![i] < 0).Any(v => Math.Abs(s.Scalar - v) < KinkDistance);
            case OpKind.MultiMarginLoss:
            {
                int classes = shapes[x][^1];
                var v = numbers[x];
                for (int row = 0; row < s.Ints.Length; row++)
                    for (int j = 0; j < classes; j++)
                        if (j != s.Ints[row] && Math.Abs(s.Scalar - v[row * classes + s.Ints[row]] + v[row * classes + j]) < KinkDistance) return true;
                return false;
            }
            case OpKind.GumbelSoftmax when s.Flag:
            {
                using var scope = torch.NewDisposeScope();
                var soft = TorchInterpreter.Apply(s with { Flag = false }, new[] { tensors[x] }, ScalarType.Float64);
                var top = soft.topk(Math.Min(2, (int)soft.shape[s.Ints[0] < 0 ? s.Ints[0] + soft.dim() : s.Ints[0]]), s.Ints[0]).values;
                if (top.shape[s.Ints[0] < 0 ? s.Ints[0] + top.dim() : s.Ints[0]] < 2) return false;
                var gap = top.narrow(s.Ints[0], 0, 1) - top.narrow(s.Ints[0], 1, 1);
                return gap.abs().lt(KinkDistance).any().item<bool>();
            }
            default:
                return false;
        }
    }
}
