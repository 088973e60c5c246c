using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

// The ops added after the rest of the surface was drawn (branch fuzzops, `--ops latest`): the SVD and what is built on it
// (svdvals, pinv, lstsq, the matrix norms 2, −2, nuc, 1, −1, ∞, −∞), kthvalue, conv3d, grid_sample and affine_grid, CTC loss
// and segment softmax. Drawn with the typed discipline of the others: the SVD family on matrices whose singular values and
// gaps stand clear of 0 and of an SVD's rounding, as eigvalsh's are drawn (its derivatives divide by gaps and, for a
// rectangular matrix, by the values); kthvalue never over ties along its axis (the entry picked among them is the kernel's
// choice, as for median); grid_sample's grid finite and moderate, off the pixel positions where bilinear weights and nearest
// rounding switch (kinks, met only at bit-exact grid values); CTC over the log-softmax of its operand, as users feed it
// (torch's gradient at log-probability leaves adds exp(lp), pytorch#52241).
public sealed partial class Generator
{
    /// <summary>Three weights each, so a program of the latest surface meets each of them about every fourth time.</summary>
    static (OpKind Kind, int Weight)[] LatestWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.IndexAdd && k <= OpKind.SegmentSoftmax).Select(k => (k, 3)).ToArray();

    /// <summary>Everything <c>--ops all</c> draws and then the latest ops (<c>--ops latest</c>), built on first use as
    /// <see cref="AllWeights"/> is.</summary>
    static (OpKind Kind, int Weight)[] LatestSurfaceWeights => latestWeights ??= AllWeights.Concat(LatestWeights).ToArray();

    static (OpKind Kind, int Weight)[]? latestWeights;

    /// <summary>The diagonal of tanh(A) + D, D's entries 10, 20, 30, 40: singular values within ‖tanh A‖ ≤ 4 of those (Weyl),
    /// so at least 6 and at least 2 apart.</summary>
    const double SingularShift = 10;

    /// <summary>Largest |grid| grid_sample reads: torch turns the unnormalised position into an integer index, undefined
    /// for a position past int64's range.</summary>
    const double GridLargest = 1e3;

    void Latest(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.Svd:
            {
                int m = SeparatedSingularValues();
                if (m < 0) break;
                int mode = rng.Next(4), k = Math.Min(shapes[m][^1], shapes[m][^2]);
                var weights = new[] { 0.5, -1.25, 2.0, 0.75 }[..k];
                Try(new Step(kind, new[] { m }, Array.Empty<int>(), Mode: mode, Data: mode == 1 ? weights : null, DataShape: mode == 1 ? new[] { k } : null));
                break;
            }
            case OpKind.SvdVals or OpKind.Pinv:
            {
                int m = SeparatedSingularValues();
                if (m >= 0) Try(S(kind, m));
                break;
            }
            case OpKind.Lstsq:
            {
                int m = SeparatedSingularValues();
                if (m < 0) break;
                var batch = shapes[m][..^2];
                int rows = shapes[m][^2];
                int b = Pick(j => j != m && !isMask[j] && Rank(j) == Rank(m) && shapes[j][..^2].SequenceEqual(batch) && shapes[j][^2] == rows && shapes[j][^1] > 0);
                if (b < 0 || rng.NextDouble() < 0.3) b = Constant(batch.Append(rows).Append(1 + rng.Next(2)).ToArray());
                // a finite right-hand side: LAPACK's least squares and ours (A⁺b) meet an infinity each its own way, as solve does
                if (b >= 0 && Finite(b) && FiniteInFloat32(b)) Try(S(kind, m, b));
                break;
            }
            case OpKind.MatrixNorm:
            {
                int order = rng.Next(7);
                if (order < 3)
                {
                    int m = SeparatedSingularValues();
                    if (m >= 0) Try(new Step(kind, new[] { m }, Array.Empty<int>(), Mode: order == 2 ? 1 : 0, Flag: rng.NextDouble() < 0.3, Scalar: order == 0 ? 2 : -2));
                    break;
                }
                int a = Pick(j => !isMask[j] && Rank(j) >= 2 && shapes[j][^1] > 0 && shapes[j][^2] > 0);
                if (a < 0) a = Matrix();
                var sums = new[] { 1.0, -1.0, double.PositiveInfinity, double.NegativeInfinity };
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Flag: rng.NextDouble() < 0.3, Scalar: sums[order - 3]));
                break;
            }
            case OpKind.KthValue:
            {
                int a = Pick(j => Rank(j) > 0 && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                int axis = Axis(Rank(a)), length = shapes[a][axis < 0 ? axis + Rank(a) : axis];
                bool indices = rng.NextDouble() < 0.3;
                if (!TiedAlong(a, axis))
                    Try(new Step(kind, new[] { a }, new[] { 1 + rng.Next(length), axis }, Mode: indices ? 1 : 0, Flag: rng.NextDouble() < 0.4), mask: indices);
                break;
            }
            case OpKind.Conv3d: Conv3d(); break;
            case OpKind.AffineGrid:
            {
                int n = 1 + rng.Next(2);
                int theta = Theta(n);
                if (theta >= 0) Try(new Step(kind, new[] { theta }, new[] { n, 1, 1 + rng.Next(4), 1 + rng.Next(4) }, Flag: rng.NextDouble() < 0.5));
                break;
            }
            case OpKind.GridSample: GridSample(); break;
            case OpKind.CtcLoss: CtcLoss(); break;
            case OpKind.SegmentSoftmax:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0));
                if (a < 0) break;
                int axis = Axis(Rank(a)), entries = shapes[a][axis < 0 ? axis + Rank(a) : axis];
                int segments = 1 + rng.Next(Math.Min(entries, 3));
                // every segment holds an entry (the first ones, shuffled in), the rest anywhere
                var ids = Enumerable.Range(0, entries).Select(i => (double)(i < segments ? i : rng.Next(segments))).OrderBy(_ => rng.Next()).ToArray();
                Try(new Step(kind, new[] { a }, new[] { segments, axis }, Data: ids, DataShape: new[] { entries }));
                break;
            }
        }
    }

    /// <summary>
    /// A matrix (m, n ≤ 4, sometimes a batch of up to 3) whose singular values stand clear of 0 and of each other: a value
    /// that already does, or tanh(A) + D with D's diagonal 10, 20, ... (<see cref="SingularShift"/>). As eigvalsh's: at least
    /// <see cref="EigenvalueGap"/> apart and from 0, and EigenvalueMargin times above the SVD's rounding ε·‖A‖, finite in
    /// the float32 run too (a non-finite matrix makes LAPACK's SVD NaN everywhere, or raise).
    /// </summary>
    int SeparatedSingularValues()
    {
        static bool Fits(int[] s) => s.Length is 2 or 3 && s[^1] is >= 1 and <= 4 && s[^2] is >= 1 and <= 4 && (s.Length == 2 || s[0] is >= 1 and <= 3);
        int a = Pick(j => !isMask[j] && Fits(shapes[j]));
        if (a < 0 || rng.NextDouble() < 0.3)
        {
            int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0 && FuzzProgram.Numel(shapes[j]) <= 16);
            if (source >= 0)
            {
                int n = FuzzProgram.Numel(shapes[source]);
                var rows = Enumerable.Range(1, 4).Where(r => n % r == 0 && n / r <= 4).ToArray();
                if (rows.Length > 0)
                {
                    int r = rows[rng.Next(rows.Length)];
                    int reshaped = Try(new Step(OpKind.Reshape, new[] { source }, new[] { r, n / r }));
                    if (reshaped >= 0) a = reshaped;
                }
            }
        }
        if (a < 0) return -1;
        if (rng.NextDouble() < 0.4 && Separated(a)) return a;
        int m = shapes[a][^2], columns = shapes[a][^1];
        var diagonal = new double[m * columns];
        for (int i = 0; i < Math.Min(m, columns); i++) diagonal[i * columns + i] = SingularShift * (i + 1);
        int t = Try(S(OpKind.Tanh, a));
        int shift = Try(new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: diagonal, DataShape: new[] { m, columns }));
        int shifted = t < 0 || shift < 0 ? -1 : Try(S(OpKind.Add, t, shift));
        return shifted >= 0 && Separated(shifted) ? shifted : -1;
    }

    /// <summary>Whether value j's singular values, and their gaps, stand clear as <see cref="SeparatedSingularValues"/> asks.</summary>
    bool Separated(int j)
    {
        if (!Finite(j) || !FiniteInFloat32(j)) return false;
        using var scope = torch.NewDisposeScope();
        var sigma = torch.linalg.svdvals(tensors[j]);
        var noise = sigma.amax(new long[] { -1 }, keepdim: true).mul(EigenvalueMargin * Math.ScaleB(1.0, -52)).clamp_min(EigenvalueGap);
        int k = (int)sigma.shape[^1];
        if (sigma.lt(noise).any().item<bool>()) return false;
        return k == 1 || !(sigma.narrow(-1, 0, k - 1) - sigma.narrow(-1, 1, k - 1)).lt(noise).any().item<bool>();
    }

    /// <summary>Whether some lane of value a along the axis holds two equal entries (two NaN included) or two within
    /// KinkDistance: which of them kthvalue picks, and so which gets the derivative, is the kernel's choice.</summary>
    bool TiedAlong(int a, int axis)
    {
        using var scope = torch.NewDisposeScope();
        var sorted = tensors[a].sort(axis).Values;
        long length = sorted.shape[axis < 0 ? axis + Rank(a) : axis];
        if (length < 2) return false;
        var low = sorted.narrow(axis, 0, length - 1);
        var high = sorted.narrow(axis, 1, length - 1);
        return low.eq(high).logical_or((high - low).abs().lt(KinkDistance)).logical_or(low.isnan().logical_and(high.isnan())).any().item<bool>();
    }

    /// <summary>A volume batch [N, C, D, H, W] (or unbatched [C, D, H, W]): a value of that rank, or a reshape of one.</summary>
    int Volume()
    {
        int a = Pick(j => !isMask[j] && Rank(j) is 4 or 5 && shapes[j].All(d => d > 0) && shapes[j][^4] <= 3);
        if (a >= 0 && rng.NextDouble() < 0.6) return a;
        if (ChannelSource() is not (int source, int c)) return a;
        int rest = FuzzProgram.Numel(shapes[source]) / c;
        var depths = Enumerable.Range(1, rest).Where(d => rest % d == 0).ToArray();
        int depth = depths[rng.Next(depths.Length)];
        var heights = Enumerable.Range(1, rest / depth).Where(h => rest / depth % h == 0).ToArray();
        int height = heights[rng.Next(heights.Length)], width = rest / depth / height;
        var shape = rng.NextDouble() < 0.3 ? new[] { c, depth, height, width } : new[] { 1, c, depth, height, width };
        return Try(new Step(OpKind.Reshape, new[] { source }, shape));
    }

    void Conv3d()
    {
        int x = Volume();
        if (x < 0) return;
        int channels = shapes[x][^4];
        var (groups, outputs) = GroupsAndOutputs(channels);
        int k = 1 + rng.Next(2), stride = 1 + rng.Next(2), padding = rng.Next(2), dilation = rng.NextDouble() < 0.8 ? 1 : 2;
        int w = Weight(new[] { outputs, channels / groups, k, k, k });
        if (w < 0) return;
        Try(new Step(OpKind.Conv3d, WithBias(x, w, outputs), new[] { stride, padding, dilation, groups }));
    }

    /// <summary>Affine maps [n, 2, 3]: a value of that shape, a reshape of one with 6n entries, or a constant near the
    /// identity (a zoom past the image and a shift, so samples fall outside, on the borders and between pixels).</summary>
    int Theta(int n)
    {
        var shape = new[] { n, 2, 3 };
        int a = Pick(j => !isMask[j] && shapes[j].SequenceEqual(shape));
        if (a >= 0 && rng.NextDouble() < 0.6) return a;
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) == 6 * n);
        if (source >= 0 && rng.NextDouble() < 0.6) return Try(new Step(OpKind.Reshape, new[] { source }, shape));
        var data = Enumerable.Range(0, n).SelectMany(_ => new[] { 1.2 + 0.3 * Normal(), 0.3 * Normal(), 0.2 * Normal(), 0.3 * Normal(), 1.2 + 0.3 * Normal(), 0.2 * Normal() })
            .Select(v => Math.Round(v, 3)).ToArray();
        return Try(new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: data, DataShape: shape));
    }

    void GridSample()
    {
        int x = Image(unbatched: false);
        if (x < 0) return;
        int n = shapes[x][0];
        int grid;
        if (rng.NextDouble() < 0.5)
        {
            int theta = Theta(n);
            grid = theta < 0 ? -1 : Try(new Step(OpKind.AffineGrid, new[] { theta }, new[] { n, 1, 1 + rng.Next(4), 1 + rng.Next(4) }, Flag: rng.NextDouble() < 0.5));
        }
        else
        {
            grid = Pick(j => !isMask[j] && Rank(j) == 4 && shapes[j][0] == n && shapes[j][3] == 2 && shapes[j][1] > 0 && shapes[j][2] > 0);
            if (grid < 0 || rng.NextDouble() < 0.4)
            {
                int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0 && FuzzProgram.Numel(shapes[j]) % (2 * n) == 0);
                if (source < 0) return;
                int positions = FuzzProgram.Numel(shapes[source]) / (2 * n);
                var heights = Enumerable.Range(1, positions).Where(h => positions % h == 0).ToArray();
                int h = heights[rng.Next(heights.Length)];
                grid = Try(new Step(OpKind.Reshape, new[] { source }, new[] { n, h, positions / h, 2 }));
            }
        }
        if (grid < 0) return;
        // finite and moderate in both runs (see GridLargest)
        if (!Finite(grid) || !FiniteInFloat32(grid) || !All(grid, v => Math.Abs(v) <= GridLargest)) return;
        Try(new Step(OpKind.GridSample, new[] { x, grid }, new[] { rng.Next(3) }, Mode: rng.NextDouble() < 0.7 ? 0 : 1, Flag: rng.NextDouble() < 0.5));
    }

    void CtcLoss()
    {
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) >= 2);
        if (source < 0) return;
        int total = FuzzProgram.Numel(shapes[source]);
        // [T, N, C] with at least two classes and at most three sequences
        var layouts = (from c in Enumerable.Range(2, 4) from n in Enumerable.Range(1, 3)
                       where total % (c * n) == 0 select (T: total / (c * n), N: n, C: c)).ToArray();
        if (layouts.Length == 0) return;
        var (steps, batch, classes) = layouts[rng.Next(layouts.Length)];
        int x = shapes[source].SequenceEqual(new[] { steps, batch, classes }) ? source
            : Try(new Step(OpKind.Reshape, new[] { source }, new[] { steps, batch, classes }));
        if (x < 0) return;
        int blank = rng.NextDouble() < 0.7 ? 0 : rng.Next(classes);
        var labels = Enumerable.Range(0, classes).Where(c => c != blank).ToArray();
        int longest = 1 + rng.Next(Math.Min(steps, 3));
        var inputLengths = Enumerable.Range(0, batch).Select(_ => rng.NextDouble() < 0.6 ? steps : 1 + rng.Next(steps)).ToArray();
        var targetLengths = Enumerable.Range(0, batch).Select(_ => rng.Next(longest + 1)).ToArray();
        // repeated labels sometimes (an alignment needs a blank between them), and padding past each length a label too
        var targets = new double[batch * longest];
        for (int i = 0; i < targets.Length; i++)
            targets[i] = i % longest > 0 && rng.NextDouble() < 0.3 ? targets[i - 1] : labels[rng.Next(labels.Length)];
        var ints = new[] { blank, batch }.Concat(inputLengths).Concat(targetLengths).ToArray();
        Try(new Step(OpKind.CtcLoss, new[] { x }, ints, Mode: rng.Next(3), Flag: rng.NextDouble() < 0.5, Data: targets, DataShape: new[] { batch, longest }));
    }

    /// <summary>The kinks of the latest ops, as <see cref="NearKink"/> treats the older ones: |entries| at 0 and ties of the
    /// column or row sums for the matrix norms 1 and ∞, and grid positions where bilinear sampling switches pixels (the
    /// integers, in pixels) or nearest sampling and reflection switch (the halves).</summary>
    bool NearLatestKink(Step s)
    {
        switch (s.Kind)
        {
            case OpKind.MatrixNorm when double.IsInfinity(s.Scalar) || Math.Abs(s.Scalar) == 1:
            {
                using var scope = torch.NewDisposeScope();
                var x = tensors[s.Args[0]];
                if (x.numel() == 0) return false;
                if (x.abs().lt(KinkDistance).any().item<bool>()) return true;
                var sums = x.abs().sum(double.IsInfinity(s.Scalar) ? -1 : -2);
                var sorted = sums.sort(-1).Values;
                long k = sorted.shape[^1];
                return k > 1 && (sorted.narrow(-1, 1, k - 1) - sorted.narrow(-1, 0, k - 1)).lt(KinkDistance).any().item<bool>();
            }
            case OpKind.GridSample:
            {
                using var scope = torch.NewDisposeScope();
                var grid = tensors[s.Args[1]];
                var size = new[] { shapes[s.Args[0]][3], shapes[s.Args[0]][2] };
                for (int axis = 0; axis < 2; axis++)
                {
                    var g = grid.select(-1, axis);
                    var position = s.Flag ? (g + 1) / 2 * (size[axis] - 1) : ((g + 1) * size[axis] - 1) / 2;
                    var twice = position * 2;
                    if ((twice - twice.round()).abs().lt(2 * KinkDistance).any().item<bool>()) return true;
                }
                return false;
            }
            default:
                return false;
        }
    }
}
