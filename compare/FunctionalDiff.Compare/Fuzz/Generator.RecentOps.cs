using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

// The ops added on 2026-12-07 that the fresh surface does not draw (`--ops recent`): torch's manipulation conveniences
// (atleast_nd, the stacks, tensor_split and the h/v/d splits with one piece taken, fliplr, flipud, rot90, take_along_dim,
// diagflat, the slice, select and diagonal scatters, index_fill, fmax and fmin, isclose and isin as masks, std_mean and
// var_mean), the BLAS-style products (addmm, addmv, addr, baddbmm, addbmm, with β = 0 among the scales), multi_dot, vecdot,
// cholesky_inverse of a valid factor, the 3-D adaptive pools, the LP pools, softmax2d, cond, matrix_rank (a count, away
// from its tolerance), vector_norm and the Bessel functions J, Y and K. Drawn with the typed discipline of the others:
// Y and K inside x > 0, cond and cholesky_inverse at matrices whose rounding does not decide the answer, and the kinks
// (fmax's ties, isclose's boundary, isin's test elements, an LP pool's empty window, a tied adaptive max) met only at
// bit-exact values.
public sealed partial class Generator
{
    /// <summary>Three weights each, as the fresh ops, five for the ops whose operands are rarely at hand (a rank of 2 or 3, a
    /// matrix the generator keeps away from rounding) or that the generator often rejects (near a kink).</summary>
    static (OpKind Kind, int Weight)[] RecentWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.RnnCell && k <= OpKind.ScaledModifiedBesselK1).Select(k => (k, k is OpKind.IsClose or OpKind.IsIn or OpKind.Vstack or OpKind.Dstack or OpKind.Flipud
            or OpKind.Dsplit or OpKind.Fmax or OpKind.Fmin or OpKind.Addr or OpKind.DiagonalScatter or OpKind.VarMean or OpKind.Fliplr or OpKind.Cond
            or OpKind.MatrixRank or OpKind.CholeskyInverse ? 5 : 3)).ToArray();

    /// <summary>Everything <c>--ops fresh</c> draws and then the recent ops (<c>--ops recent</c>), built on first use.</summary>
    static (OpKind Kind, int Weight)[] RecentSurfaceWeights => recentWeights ??= FreshSurfaceWeights.Concat(RecentWeights).ToArray();

    static (OpKind Kind, int Weight)[]? recentWeights;

    /// <summary>β and α of the BLAS-style products: exact in float32 (TorchSharp takes them as float), 0 among them (torch then
    /// leaves the input out, NaN included).</summary>
    static readonly double[] BlasScales = { 1, 0.5, -1.5, 2, 0 };

    /// <summary>isclose's (rtol, atol) pairs: torch's defaults, a relative one alone, a loose one.</summary>
    static readonly (double Rtol, double Atol)[] CloseTolerances = { (1e-5, 1e-8), (1e-3, 0), (0.1, 0.1) };

    void Recent(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.AtLeast:
            {
                int a = Pick(j => !isMask[j] && Rank(j) <= 3);
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { 1 + rng.Next(3) }));
                break;
            }
            case OpKind.Hstack or OpKind.Vstack or OpKind.Dstack or OpKind.ColumnStack: Stacked(kind); break;
            case OpKind.TensorSplit or OpKind.Hsplit or OpKind.Vsplit or OpKind.Dsplit: Split(kind); break;
            case OpKind.Fliplr or OpKind.Flipud:
            {
                int a = Pick(j => !isMask[j] && Rank(j) >= (kind == OpKind.Fliplr ? 2 : 1));
                if (a >= 0) Try(S(kind, a));
                break;
            }
            case OpKind.Rot90:
            {
                int a = Pick(j => !isMask[j] && Rank(j) >= 2);
                if (a < 0) break;
                int rank = Rank(a), first = rng.Next(rank), second = (first + 1 + rng.Next(rank - 1)) % rank;
                int Signed(int axis) => rng.NextDouble() < 0.3 ? axis - rank : axis;
                Try(new Step(kind, new[] { a }, new[] { new[] { 1, 2, 3, -1, 0, 5 }[rng.Next(6)], Signed(first), Signed(second) }));
                break;
            }
            case OpKind.TakeAlongDim: TakeAlongDim(); break;
            case OpKind.Diagflat:
            {
                int a = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) is > 0 and <= 5);
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { rng.Next(-1, 2) }));
                break;
            }
            case OpKind.SliceScatter or OpKind.SelectScatter or OpKind.DiagonalScatter: Scatter(kind); break;
            case OpKind.IndexFill:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0));
                if (a < 0) break;
                int axis = Axis(Rank(a)), d = shapes[a][axis < 0 ? axis + Rank(a) : axis];
                var indices = Enumerable.Range(0, 1 + rng.Next(2)).Select(_ => rng.Next(-d, d));
                Try(new Step(kind, new[] { a }, indices.Prepend(axis).ToArray(), Scalar: new[] { 0.0, -1.5, 2.5 }[rng.Next(3)]));
                break;
            }
            case OpKind.Fmax or OpKind.Fmin: Binary(kind); break;
            case OpKind.IsClose:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                int b = Partner(a);
                if (b < 0) break;
                var (rtol, atol) = CloseTolerances[rng.Next(CloseTolerances.Length)];
                Try(new Step(kind, new[] { a, b }, Array.Empty<int>(), Flag: rng.NextDouble() < 0.3, Data: new[] { rtol, atol }), mask: true);
                break;
            }
            case OpKind.IsIn:
            {
                int a = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0);
                if (a < 0) break;
                // mostly the value's own entries (so some are found), and a kink or two
                var test = Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => rng.NextDouble() < 0.7 ? numbers[a][rng.Next(numbers[a].Length)] : Specials[rng.Next(Specials.Length)]).ToArray();
                Try(new Step(kind, new[] { a }, Array.Empty<int>(), Flag: rng.NextDouble() < 0.3, Data: test, DataShape: new[] { test.Length }), mask: true);
                break;
            }
            case OpKind.StdMean or OpKind.VarMean:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                var axes = Rank(a) == 0 || rng.NextDouble() < 0.3 ? Array.Empty<int>() : RandomAxes(Rank(a));
                Try(new Step(kind, new[] { a }, axes, Mode: rng.Next(2), Flag: axes.Length > 0 && rng.NextDouble() < 0.4, Scalar: rng.Next(2)));
                break;
            }
            case OpKind.Addmm or OpKind.Addmv or OpKind.Addr or OpKind.Baddbmm or OpKind.Addbmm: Accumulated(kind); break;
            case OpKind.MultiDot: MultiDot(); break;
            case OpKind.Vecdot:
            {
                int a = Pick(j => !isMask[j] && Rank(j) > 0);
                if (a < 0) break;
                int b = Partner(a);
                var shape = b < 0 ? null : Broadcast(shapes[a], shapes[b]);
                if (shape is null || shape.Length == 0) break;
                Try(new Step(kind, new[] { a, b }, new[] { Axis(shape.Length) }));
                break;
            }
            case OpKind.CholeskyInverse: CholeskyInverse(); break;
            case OpKind.AdaptiveAvgPool3d or OpKind.AdaptiveMaxPool3d:
            {
                int x = Volume();
                if (x < 0) break;
                var size = shapes[x][^3..].Select(d => 1 + rng.Next(Math.Min(d + 1, 3))).ToArray();
                Try(new Step(kind, new[] { x }, size));
                break;
            }
            case OpKind.LpPool1d or OpKind.LpPool2d: LpPool(kind); break;
            case OpKind.Softmax2d:
            {
                int x = Image(unbatched: true);
                if (x >= 0) Try(S(kind, x));
                break;
            }
            case OpKind.Cond: Cond(); break;
            case OpKind.MatrixRank: MatrixRank(); break;
            case OpKind.VectorNorm:
            {
                int a = Pick(j => !isMask[j]);
                if (a < 0) break;
                var axes = Rank(a) == 0 || rng.NextDouble() < 0.3 ? Array.Empty<int>() : RandomAxes(Rank(a));
                Try(new Step(kind, new[] { a }, axes, Flag: axes.Length > 0 && rng.NextDouble() < 0.4, Scalar: new[] { 2.0, 1.0, 3.0, double.PositiveInfinity }[rng.Next(4)]));
                break;
            }
            case OpKind.BesselJ0 or OpKind.BesselJ1: Unary(kind, null); break;
            // Y and K inside x > 0, never across the edge: at 0 they are ∓∞ and +∞ with infinite slopes, which torch's side (its
            // values in a Taylor polynomial, libtorch having no derivative for them) cannot carry (∞·0 = NaN in its value)
            case OpKind.BesselY0 or OpKind.BesselY1 or OpKind.ModifiedBesselK0 or OpKind.ModifiedBesselK1
                or OpKind.ScaledModifiedBesselK0 or OpKind.ScaledModifiedBesselK1:
                InDomain(kind, Positive, MakePositive); break;
        }
    }

    /// <summary>A value of exactly this shape: an existing one most of the time, else a reshape of one with as many entries, or a constant.</summary>
    int OfShape(int[] shape)
    {
        int a = Pick(j => !isMask[j] && shapes[j].SequenceEqual(shape));
        return a >= 0 && rng.NextDouble() < 0.6 ? a : Weight(shape);
    }

    /// <summary>hstack, vstack, dstack or column_stack of a value and one or two others of its rank (itself among them, for
    /// ties), which torch accepts or the step is drawn again.</summary>
    void Stacked(OpKind kind)
    {
        int a = Pick(j => !isMask[j] && Rank(j) <= 3);
        if (a < 0) return;
        var parts = new List<int> { a };
        for (int k = 1 + rng.Next(2); k > 0; k--)
        {
            int b = rng.NextDouble() < 0.3 ? a : Pick(j => !isMask[j] && Rank(j) == Rank(a));
            if (b < 0) b = OfShape(shapes[a]);
            if (b >= 0) parts.Insert(rng.Next(parts.Count + 1), b);
        }
        Try(new Step(kind, parts.ToArray(), Array.Empty<int>()));
    }

    /// <summary>One piece of tensor_split (sections, or split indices that may run past the axis or backwards) or of hsplit,
    /// vsplit or dsplit (sections that divide the axis, or indices).</summary>
    void Split(OpKind kind)
    {
        int least = kind switch { OpKind.Vsplit => 2, OpKind.Dsplit => 3, _ => 1 };
        int a = Pick(j => !isMask[j] && Rank(j) >= least);
        if (a < 0) return;
        int rank = Rank(a);
        int axis = kind switch { OpKind.TensorSplit => Axis(rank), OpKind.Hsplit => rank == 1 ? 0 : 1, OpKind.Vsplit => 0, _ => 2 };
        int d = shapes[a][axis < 0 ? axis + rank : axis];
        bool byIndices = rng.NextDouble() < 0.4;
        int[] cut;
        int pieces;
        if (byIndices)
        {
            cut = Enumerable.Range(0, 1 + rng.Next(2)).Select(_ => rng.Next(-d - 1, d + 2)).ToArray();
            pieces = cut.Length + 1;
        }
        else
        {
            var sections = kind == OpKind.TensorSplit ? Enumerable.Range(1, 4).ToArray() : Enumerable.Range(1, Math.Max(d, 1)).Where(s => d % s == 0).ToArray();
            pieces = sections[rng.Next(sections.Length)];
            cut = new[] { pieces };
        }
        var head = kind == OpKind.TensorSplit ? new[] { axis, rng.Next(pieces) } : new[] { rng.Next(pieces) };
        Try(new Step(kind, new[] { a }, head.Concat(cut).ToArray(), Mode: byIndices ? 1 : 0));
    }

    /// <summary>take_along_dim along an axis (indices of the value's rank that broadcast with it off the axis) or flattened.</summary>
    void TakeAlongDim()
    {
        int a = Pick(j => !isMask[j] && Rank(j) > 0 && shapes[j].All(d => d > 0));
        if (a < 0) return;
        int rank = Rank(a);
        if (rng.NextDouble() < 0.25)
        {
            int n = FuzzProgram.Numel(shapes[a]);
            var flat = Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => (double)rng.Next(n)).ToArray();
            Try(new Step(OpKind.TakeAlongDim, new[] { a }, Array.Empty<int>(), Data: flat, DataShape: new[] { flat.Length }));
            return;
        }
        int axis = Axis(rank), positive = axis < 0 ? axis + rank : axis;
        var shape = shapes[a].Select((d, i) => i == positive ? 1 + rng.Next(3) : rng.NextDouble() < 0.3 ? 1 : d).ToArray();
        var index = Enumerable.Range(0, FuzzProgram.Numel(shape)).Select(_ => (double)rng.Next(shapes[a][positive])).ToArray();
        Try(new Step(OpKind.TakeAlongDim, new[] { a }, new[] { axis }, Data: index, DataShape: shape));
    }

    /// <summary>slice_scatter, select_scatter or diagonal_scatter of a source of the embedded part's shape into a value.</summary>
    void Scatter(OpKind kind)
    {
        int x = Pick(j => !isMask[j] && Rank(j) >= (kind == OpKind.DiagonalScatter ? 2 : 1) && shapes[j].All(d => d > 0));
        if (x < 0) return;
        var shape = shapes[x];
        int rank = shape.Length;
        int[] ints, part;
        switch (kind)
        {
            case OpKind.SliceScatter:
            {
                int axis = Axis(rank), positive = axis < 0 ? axis + rank : axis, d = shape[positive];
                int start = rng.Next(d), end = start + 1 + rng.Next(d - start), step = 1 + rng.Next(2);
                if (rng.NextDouble() < 0.3) start -= d;
                ints = new[] { axis, start, end, step };
                part = shape.Select((n, i) => i == positive ? (end - (start < 0 ? start + d : start) + step - 1) / step : n).ToArray();
                break;
            }
            case OpKind.SelectScatter:
            {
                int axis = Axis(rank), positive = axis < 0 ? axis + rank : axis, d = shape[positive];
                ints = new[] { axis, rng.Next(-d, d) };
                part = shape.Where((_, i) => i != positive).ToArray();
                break;
            }
            default:
            {
                int first = rng.NextDouble() < 0.7 ? rank - 2 : rng.Next(rank), second = first == rank - 2 ? rank - 1 : (first + 1 + rng.Next(rank - 1)) % rank;
                int offset = rng.Next(-1, 2);
                int length = Math.Min(shape[first] - Math.Max(0, -offset), shape[second] - Math.Max(0, offset));
                if (length <= 0) return;
                ints = new[] { offset, first, second };
                part = shape.Where((_, i) => i != first && i != second).Append(length).ToArray();
                break;
            }
        }
        int src = OfShape(part);
        if (src >= 0) Try(new Step(kind, new[] { x, src }, ints));
    }

    /// <summary>A rank-3 batch of matrices with at most 4 rows and columns: a value, or a matrix reshaped to one batch.</summary>
    int Batch()
    {
        int a = Pick(j => !isMask[j] && Rank(j) == 3 && shapes[j].All(d => d is > 0 and <= 4));
        if (a >= 0 && rng.NextDouble() < 0.7) return a;
        int m = Matrix(j => shapes[j][0] <= 4 && shapes[j][1] <= 4);
        return m < 0 ? a : Try(new Step(OpKind.Reshape, new[] { m }, new[] { 1, shapes[m][0], shapes[m][1] }));
    }

    /// <summary>addmm, addmv, addr, baddbmm or addbmm: the product's operands, an input that broadcasts to its result (a value
    /// of that shape or of its trailing part), and β, α from <see cref="BlasScales"/>.</summary>
    void Accumulated(OpKind kind)
    {
        int a, b;
        int[] result;
        switch (kind)
        {
            case OpKind.Addmm:
                a = Matrix(j => shapes[j][1] <= 4);
                if (a < 0) return;
                b = OfShape(new[] { shapes[a][1], 1 + rng.Next(3) });
                if (b < 0) return;
                result = new[] { shapes[a][0], shapes[b][1] };
                break;
            case OpKind.Addmv:
                a = Matrix();
                if (a < 0) return;
                b = OfShape(new[] { shapes[a][1] });
                result = new[] { shapes[a][0] };
                break;
            case OpKind.Addr:
                a = Pick(j => !isMask[j] && Rank(j) == 1 && shapes[j][0] is > 0 and <= 6);
                if (a < 0) return;
                b = OfShape(new[] { 1 + rng.Next(4) });
                if (b < 0) return;
                result = new[] { shapes[a][0], shapes[b][0] };
                break;
            default:
                a = Batch();
                if (a < 0) return;
                b = OfShape(new[] { shapes[a][0], shapes[a][2], 1 + rng.Next(3) });
                if (b < 0) return;
                result = kind == OpKind.Baddbmm ? new[] { shapes[a][0], shapes[a][1], shapes[b][2] } : new[] { shapes[a][1], shapes[b][2] };
                break;
        }
        if (b < 0) return;
        // torch's addmm-family inputs broadcast to the result: the whole shape, its last axis, or a 1 in place of an axis
        var inputShape = rng.Next(3) switch
        {
            0 => result,
            1 => result[^1..],
            _ => result.Select(d => rng.NextDouble() < 0.5 ? 1 : d).ToArray(),
        };
        int input = OfShape(inputShape);
        if (input < 0) return;
        Try(new Step(kind, new[] { input, a, b }, Array.Empty<int>(), Data: new[] { BlasScales[rng.Next(BlasScales.Length)], BlasScales[rng.Next(BlasScales.Length)] }));
    }

    /// <summary>multi_dot of two to four operands, the first and last possibly vectors, the inner ones matrices that chain.</summary>
    void MultiDot()
    {
        int first = Pick(j => !isMask[j] && Rank(j) is 1 or 2 && shapes[j].All(d => d is > 0 and <= 4));
        if (first < 0) return;
        var parts = new List<int> { first };
        int columns = shapes[first][^1];
        for (int k = 1 + rng.Next(3); k > 0; k--)
        {
            bool vectorEnd = k == 1 && rng.NextDouble() < 0.3;
            int next = OfShape(vectorEnd ? new[] { columns } : new[] { columns, 1 + rng.Next(4) });
            if (next < 0) return;
            parts.Add(next);
            columns = shapes[next][^1];
        }
        Try(new Step(OpKind.MultiDot, parts.ToArray(), Array.Empty<int>()));
    }

    /// <summary>
    /// cholesky_inverse of a valid factor: a square value's strictly lower part plus a positive diagonal (its diagonal made
    /// positive), or its transpose with upper. Only where the factor is finite and conditioned below 1e4 in both runs, so
    /// that (L Lᵀ)⁻¹ is not decided by rounding.
    /// </summary>
    void CholeskyInverse()
    {
        int a = Square();
        if (a < 0) return;
        int lower = Try(new Step(OpKind.Tril, new[] { a }, new[] { -1 }));
        int diagonal = Try(new Step(OpKind.Diagonal, new[] { a }, new[] { 0, -2, -1 }));
        if (lower < 0 || diagonal < 0) return;
        if (!All(diagonal, Positive)) diagonal = MakePositive(diagonal);
        int embedded = diagonal < 0 ? -1 : Try(new Step(OpKind.DiagEmbed, new[] { diagonal }, new[] { 0 }));
        int factor = embedded < 0 ? -1 : Try(S(OpKind.Add, lower, embedded));
        if (factor < 0) return;
        bool upper = rng.NextDouble() < 0.3;
        if (upper) factor = Try(S(OpKind.Transpose, factor));
        if (factor < 0 || !Conditioned(factor, 1e4)) return;
        Try(new Step(OpKind.CholeskyInverse, new[] { factor }, Array.Empty<int>(), Flag: upper));
    }

    /// <summary>Whether value j is finite in both runs and its 2-norm condition number is below the bound in both.</summary>
    bool Conditioned(int j, double bound)
    {
        if (!Finite(j) || !FiniteInFloat32(j)) return false;
        using var scope = torch.NewDisposeScope();
        try
        {
            return torch.linalg.cond(tensors[j]).max().item<double>() < bound && torch.linalg.cond(Float32Realisation(j)).max().item<double>() < bound;
        }
        catch (Exception) { return false; }
    }

    /// <summary>lp_pool1d over a sequence or lp_pool2d over an image: p 2, 3 or 1, or 1.5 over a positive value (torch's
    /// x^p of a negative entry is NaN there); windows inside the input (ceil mode may add a partial one).</summary>
    void LpPool(OpKind kind)
    {
        double p = new[] { 2.0, 3.0, 1.0, 1.5 }[rng.Next(4)];
        int x = kind == OpKind.LpPool1d ? Sequence() : Image(unbatched: true);
        if (x < 0) return;
        if (p == 1.5 && !All(x, Positive)) x = MakePositive(x);
        if (x < 0) return;
        int axes = kind == OpKind.LpPool1d ? 1 : 2;
        var sizes = shapes[x][^axes..];
        var kernel = sizes.Select(d => 1 + rng.Next(Math.Min(d, 3))).ToArray();
        var stride = rng.NextDouble() < 0.5 ? kernel : kernel.Select(_ => 1 + rng.Next(2)).ToArray();
        Try(new Step(kind, new[] { x }, kernel.Concat(stride).ToArray(), Flag: rng.NextDouble() < 0.3, Scalar: p));
    }

    /// <summary>
    /// cond: p 2 or −2 of a matrix with separated singular values (any shape), or p ±1, ±∞, "fro" or "nuc" of a square one
    /// conditioned below 1e3 in both runs (torch's side for those is ‖A‖·‖A⁻¹‖ in its own norms and inverse).
    /// </summary>
    void Cond()
    {
        int mode = rng.Next(3);
        double p = new[] { 2.0, -2.0, 1.0, -1.0, double.PositiveInfinity, double.NegativeInfinity }[rng.Next(6)];
        bool svd = mode == 0 && Math.Abs(p) == 2;
        int a = svd ? SeparatedSingularValues() : WellConditioned();
        if (a < 0 || !svd && !Conditioned(a, 1e3)) return;
        Try(new Step(OpKind.Cond, new[] { a }, Array.Empty<int>(), Mode: mode, Scalar: mode == 0 ? p : 0));
    }

    /// <summary>matrix_rank with an absolute tolerance, of a finite matrix (symmetrised with hermitian) none of whose singular
    /// values (absolute eigenvalues) lies within a factor 2 of it in either run: the count is then the engines' to agree on.</summary>
    void MatrixRank()
    {
        int a = Pick(j => !isMask[j] && Rank(j) is 2 or 3 && shapes[j].All(d => d is > 0 and <= 4));
        if (a < 0) a = Square();
        if (a < 0) return;
        bool hermitian = shapes[a][^1] == shapes[a][^2] && rng.NextDouble() < 0.4;
        if (hermitian)
        {
            int t = Try(S(OpKind.Transpose, a));
            a = t < 0 ? -1 : Try(S(OpKind.Add, a, t));
            if (a < 0) return;
        }
        double atol = new[] { 0.1, 0.5, 1.0 }[rng.Next(3)];
        if (!Finite(a) || !FiniteInFloat32(a)) return;
        using (var scope = torch.NewDisposeScope())
        {
            bool Clear(TorchSharp.torch.Tensor m)
            {
                var sigma = hermitian ? torch.linalg.eigvalsh(m).abs() : torch.linalg.svdvals(m);
                return !sigma.gt(atol / 2).logical_and(sigma.lt(atol * 2)).any().item<bool>();
            }
            try
            {
                if (!Clear(tensors[a]) || !Clear(Float32Realisation(a))) return;
            }
            catch (Exception) { return; }
        }
        Try(new Step(OpKind.MatrixRank, new[] { a }, Array.Empty<int>(), Flag: hermitian, Scalar: atol));
    }

    /// <summary>The kinks of the recent ops, as <see cref="NearKink"/> treats the older ones: fmax and fmin at near ties,
    /// isclose near its boundary, isin near a test element it does not equal, std_mean, var_mean and vector_norm as std and
    /// norm, an LP pool's window whose Σ|x|^p is near 0, and an adaptive max pool's window with a near tie.</summary>
    bool NearRecentKink(Step s)
    {
        if (s.Kind is OpKind.StdMean or OpKind.VectorNorm) return NearWideKink(FuzzProgram.Canonical(s, Rank(s.Args[0])));
        using var scope = torch.NewDisposeScope();
        switch (s.Kind)
        {
            case OpKind.Fmax or OpKind.Fmin:
                return tensors[s.Args[0]].sub(tensors[s.Args[1]]).abs().lt(KinkDistance).any().item<bool>();
            case OpKind.IsClose:
            {
                var (x, y) = (tensors[s.Args[0]], tensors[s.Args[1]]);
                var margin = (x - y).abs() - (s.Data![1] + s.Data![0] * y.abs());
                return margin.abs().lt(KinkDistance).any().item<bool>();
            }
            case OpKind.IsIn:
                return numbers[s.Args[0]].Any(v => s.Data!.Any(t => v != t && Math.Abs(v - t) < KinkDistance));
            case OpKind.LpPool1d or OpKind.LpPool2d:
                return TorchInterpreter.LpWindowSums(s, tensors[s.Args[0]]).lt(KinkDistance).any().item<bool>();
            case OpKind.AdaptiveMaxPool3d:
                return TorchInterpreter.AdaptiveMax3dWindows(tensors[s.Args[0]], s.Ints).Any(w =>
                {
                    var sorted = w.sort(-1, descending: true).Values;
                    if (sorted.shape[^1] < 2) return false;
                    var gap = sorted.narrow(-1, 0, 1) - sorted.narrow(-1, 1, 1);
                    return gap.lt(KinkDistance).logical_and(gap.ne(0.0)).any().item<bool>() || w.isnan().sum(-1).gt(1).any().item<bool>();
                });
            default:
                return false;
        }
    }
}
