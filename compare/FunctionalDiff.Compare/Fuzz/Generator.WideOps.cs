using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Fuzz;

// The rest of the public surface: activations and special functions, statistics, scans, indexing, sorting,
// triangles and einsum, linear algebra and convolution. Each op is drawn with the argument conventions its
// documentation states: axes in range, k ≤ the axis for TopK, conv geometry that yields a window, and the
// linear-algebra ops on matrices built inside the program to be well conditioned (a diagonally dominant
// tanh(A) + (n+1)·I, or AᵀA + n·I for Cholesky), so their derivatives compare formulas, not conditioning.
public sealed partial class Generator
{
    /// <summary>One weight each: together about a fifth of the draws, so the older ops keep most of the mass.</summary>
    static (OpKind Kind, int Weight)[] WideWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.Stack && k <= OpKind.Fold).Select(k => (k, 1)).ToArray();

    /// <summary>Smallest gap between eigenvalues that EigvalsH is drawn at: its second derivative grows as 1/gap.</summary>
    const double EigenvalueGap = 0.05;

    /// <summary>How far above an eigensolver's rounding, ε·‖A‖, EigvalsH's eigenvalues and gaps must be to be drawn.</summary>
    const double EigenvalueMargin = 1e7;

    void Wide(OpKind kind)
    {
        switch (kind)
        {
            case OpKind.Gelu or OpKind.GeluTanh or OpKind.Silu or OpKind.Softsign or OpKind.LogSigmoid or OpKind.Erfc:
                Unary(kind, null); break;
            case OpKind.Lgamma or OpKind.Digamma: Unary(kind, Positive); break;
            case OpKind.Polygamma: WithDomain(kind, Positive, new[] { rng.Next(3) }); break;
            case OpKind.Elu: WithScalar(kind, new[] { 1.0, 0.5, 2.0 }); break;
            case OpKind.LeakyRelu: WithScalar(kind, new[] { 0.01, 0.2, -0.5 }); break;
            case OpKind.Clamp: Clamp(); break;
            case OpKind.Var or OpKind.Std or OpKind.Norm: Statistic(kind); break;
            case OpKind.FrobeniusNorm:
            {
                int a = Pick(j => Rank(j) >= 2);
                if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Flag: rng.NextDouble() < 0.4));
                break;
            }
            case OpKind.Cumsum or OpKind.Cumprod: AlongAxis(kind); break;
            case OpKind.Repeat:
            {
                int a = Pick();
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { rng.Next(4) }, Mode: rng.Next(2), Scalar: new[] { 0.5, -1.0, 1.5, 0.9 }[rng.Next(4)]));
                break;
            }
            case OpKind.IndexSelect: IndexSelect(); break;
            case OpKind.Embedding: Embedding(); break;
            case OpKind.OneHot: OneHot(); break;
            case OpKind.Sort or OpKind.TopK: SortOrTopK(kind); break;
            case OpKind.Tril or OpKind.Triu:
            {
                int a = Pick(j => Rank(j) >= 2);
                if (a >= 0) Try(new Step(kind, new[] { a }, new[] { rng.Next(-2, 3) }));
                break;
            }
            case OpKind.Diagonal:
            {
                int a = Pick(j => Rank(j) >= 2);
                if (a < 0) break;
                int rank = Rank(a), first = rng.Next(rank), second = (first + 1 + rng.Next(rank - 1)) % rank;
                int Signed(int axis) => rng.NextDouble() < 0.3 ? axis - rank : axis;
                Try(new Step(kind, new[] { a }, new[] { rng.Next(-1, 2), Signed(first), Signed(second) }));
                break;
            }
            case OpKind.DiagEmbed:
            {
                int a = Pick(j => Rank(j) >= 1);
                if (a >= 0 && !GeluOutput(a)) Try(new Step(kind, new[] { a }, new[] { rng.Next(-1, 2) }));
                break;
            }
            case OpKind.Einsum: Einsum(); break;
            case OpKind.Det or OpKind.Inverse or OpKind.LogDet:
            {
                int m = WellConditioned();
                // not over an infinity or NaN: torch's det backward then calls solve on the matrix, whose error, raised
                // in its autograd thread, aborts the process (`fuzz adversarial 5/97`: det of tanh(x) + 3I, x holding NaN);
                // in the float32 run too, where a step can overflow that does not in float64 (`fuzz adversarial 26/14`:
                // det of tanh(softmax(sin(log1p(a^b)))) + 3I, whose power overflows float32 only)
                if (m >= 0 && Finite(m) && FiniteInFloat32(m)) Try(S(kind, m));
                break;
            }
            case OpKind.Solve: Solve(); break;
            case OpKind.SolveTriangular: SolveTriangular(); break;
            case OpKind.Cholesky: Cholesky(); break;
            case OpKind.EigvalsH: EigvalsH(); break;
            case OpKind.Conv1d or OpKind.Conv2d or OpKind.ConvTranspose2d: Convolution(kind); break;
            case OpKind.MaxPool2d or OpKind.AvgPool2d or OpKind.AdaptiveAvgPool2d or OpKind.Unfold: Pool(kind); break;
            case OpKind.Fold: Fold(); break;
        }
    }

    /// <summary>A unary op with static integers, its operand made positive first when outside the domain (except on purpose, rarely).</summary>
    void WithDomain(OpKind kind, Func<double, bool> domain, int[] ints)
    {
        int a = Pick();
        if (a < 0) return;
        bool edge = false;
        if (!All(a, domain))
        {
            if (rng.NextDouble() < EdgeRate) edge = true;
            else a = MakePositive(a);
            if (a < 0) return;
        }
        Try(new Step(kind, new[] { a }, ints), edge: edge);
    }

    void WithScalar(OpKind kind, double[] choices)
    {
        int a = Pick();
        if (a >= 0) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Scalar: choices[rng.Next(choices.Length)]));
    }

    /// <summary>Bounds at the inputs' kinks (0, ±½, ±1) so ties with the bounds happen; sometimes one bound only.</summary>
    void Clamp()
    {
        int a = Pick();
        if (a < 0) return;
        double low = new[] { -1.0, -0.5, 0.0, 0.3 }[rng.Next(4)];
        double high = low + new[] { 0.5, 1.0, 2.0 }[rng.Next(3)];
        Try(new Step(OpKind.Clamp, new[] { a }, Array.Empty<int>(), Mode: rng.Next(3), Data: new[] { low, high }, DataShape: new[] { 2 }));
    }

    /// <summary>Var and Std as the reductions draw their axes, with correction 0 or 1; Norm with p = 1, 2 or ∞.</summary>
    void Statistic(OpKind kind)
    {
        int a = Pick();
        if (a < 0) return;
        int rank = Rank(a);
        bool keep = rng.NextDouble() < 0.4;
        double scalar = kind == OpKind.Norm ? new[] { 1.0, 2.0, double.PositiveInfinity }[rng.Next(3)] : rng.Next(2);
        double r = rng.NextDouble();
        if (rank == 0 || r < 0.3) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Mode: 0, Scalar: kind == OpKind.Norm ? scalar : 1));
        else if (r < 0.7) Try(new Step(kind, new[] { a }, new[] { Axis(rank) }, Mode: 1, Flag: keep, Scalar: scalar));
        else Try(new Step(kind, new[] { a }, RandomAxes(rank), Mode: 2, Flag: keep, Scalar: scalar));
    }

    void IndexSelect()
    {
        int a = Pick(j => Rank(j) > 0 && shapes[j].All(d => d > 0));
        if (a < 0) return;
        int axis = Axis(Rank(a)), d = shapes[a][axis < 0 ? axis + Rank(a) : axis];
        var index = Enumerable.Range(0, 1 + rng.Next(4)).Select(_ => (double)rng.Next(d)).ToArray();
        Try(new Step(OpKind.IndexSelect, new[] { a }, new[] { axis }, Data: index, DataShape: new[] { index.Length }));
    }

    /// <summary>A rank-2 value, or a reshape of one with entries into [rows, features].</summary>
    int Matrix(Func<int, bool>? fits = null)
    {
        int a = Pick(j => !isMask[j] && Rank(j) == 2 && shapes[j][0] > 0 && shapes[j][1] > 0 && (fits == null || fits(j)));
        if (a >= 0 && rng.NextDouble() < 0.7) return a;
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0);
        if (source < 0) return a;
        int n = FuzzProgram.Numel(shapes[source]);
        var divisors = Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();
        int rows = divisors[rng.Next(divisors.Length)];
        return Try(new Step(OpKind.Reshape, new[] { source }, new[] { rows, n / rows }));
    }

    void Embedding()
    {
        int w = Matrix();
        if (w < 0) return;
        int rows = shapes[w][0];
        var indexShape = rng.NextDouble() < 0.6 ? new[] { 1 + rng.Next(4) } : new[] { 1 + rng.Next(2), 1 + rng.Next(3) };
        var index = Enumerable.Range(0, FuzzProgram.Numel(indexShape)).Select(_ => (double)rng.Next(rows)).ToArray();
        Try(new Step(OpKind.Embedding, new[] { w }, Array.Empty<int>(), Data: index, DataShape: indexShape));
    }

    /// <summary>
    /// Whether value j is a gelu's output. diag_embed and diag are not drawn over one (the operand is still picked, so other
    /// programs stay as they were): their backward hands the gelu the diagonal of its cotangent, a view whose strides
    /// torch's float32 gelu backward (a oneDNN kernel) cannot describe, and the process aborts (`fuzz adversarial 41/238`:
    /// conv2d of diag_embed(gelu(flip x)); float64 runs).
    /// </summary>
    bool GeluOutput(int j) => j >= inputCount && steps[j - inputCount].Kind is OpKind.Gelu;

    /// <summary>
    /// One-hot codes of a mask or an argmax (integers from 0, in the float64 and the float32 run), with a class or two to
    /// spare. An argmax may pick
    /// another index in the float32 run (ties that rounding makes or breaks), so its classes cover its whole axis:
    /// torch's one_hot rejects a class past them (`fuzz adversarial 10/295`: the float32 argmax of an elu past a
    /// float64 one, over [∞, ∞, NaN, 89]).
    /// </summary>
    void OneHot()
    {
        int m = Pick(j => isMask[j] && numbers[j].All(v => v >= 0 && v == Math.Floor(v) && v < 8));
        if (m < 0 || rng.NextDouble() < 0.3)
        {
            int a = Pick(j => Rank(j) > 0 && shapes[j].All(d => d > 0));
            if (a < 0) return;
            m = Try(new Step(OpKind.ArgMax, new[] { a }, new[] { Axis(Rank(a)) }, Mode: 1, Flag: rng.NextDouble() < 0.4), mask: true);
            if (m < 0) return;
        }
        int largest = (int)numbers[m].DefaultIfEmpty(0).Max();
        if (m >= inputCount && steps[m - inputCount] is { Kind: OpKind.ArgMax } made && shapes[made.Args[0]].Length > 0)
        {
            var operand = shapes[made.Args[0]];
            int axis = made.Ints[0] < 0 ? made.Ints[0] + operand.Length : made.Ints[0];
            largest = Math.Max(largest, operand[axis] - 1);
        }
        // The float32 run computes the codes at rounded inputs, where a comparison can come out the other way: cover
        // its classes too (`fuzz adversarial 18/53`: (x − x) ≥ x is 0 in float64 at a subnormal x that is 0 in float32,
        // where it is 1, past the one class drawn)
        double[] single;
        try { single = Numbers(Float32Realisation(m)); }
        catch (Exception) { return; } // the float32 run fails before this step: no program to extend
        if (single.Any(v => !(v >= 0 && v == Math.Floor(v) && v < 8))) return;
        largest = Math.Max(largest, (int)single.DefaultIfEmpty(0).Max());
        int classes = largest + 1 + rng.Next(2);
        Try(new Step(OpKind.OneHot, new[] { m }, new[] { classes }), mask: true);
    }

    void SortOrTopK(OpKind kind)
    {
        int a = Pick(j => Rank(j) > 0);
        if (a < 0) return;
        int rank = Rank(a), axis = Axis(rank), d = shapes[a][axis < 0 ? axis + rank : axis];
        int mode = rng.NextDouble() < 0.75 ? 0 : 1;
        bool flag = rng.NextDouble() < 0.5;
        var ints = kind == OpKind.Sort ? new[] { axis } : new[] { rng.Next(d + 1), axis };
        Try(new Step(kind, new[] { a }, ints, Mode: mode, Flag: flag), mask: mode == 1);
    }

    /// <summary>Whether shape b fits as einsum equation k's second operand when a is its first.</summary>
    static bool EinsumFits(int k, int[] a, int[] b) => k switch
    {
        6 => a.Length == 2 && b.Length == 2 && b[0] == a[1],
        7 => a.Length == 2 && b.SequenceEqual(a),
        8 => a.Length == 1 && b.Length == 1,
        9 => a.Length == 3 && b.Length == 3 && b[0] == a[0] && b[1] == a[2],
        10 => a.Length == 2 && b.Length == 2 && b[1] == a[1],
        11 => a.Length == 1 && b.SequenceEqual(a),
        _ => false,
    };

    /// <summary>The shape drawn for equation k's second operand when no value fits.</summary>
    int[] EinsumPartner(int k, int[] a) => k switch
    {
        6 => new[] { a[1], 1 + rng.Next(3) },
        8 => new[] { 1 + rng.Next(4) },
        9 => new[] { a[0], a[2], 1 + rng.Next(3) },
        10 => new[] { 1 + rng.Next(3), a[1] },
        _ => a,
    };

    static bool EinsumTakes(int k, int[] a) => k switch
    {
        0 or 3 or 6 or 7 or 10 => a.Length == 2,
        1 or 2 => a.Length == 2 && a[0] == a[1],
        4 or 9 => a.Length == 3,
        _ => a.Length == 1,
    };

    void Einsum()
    {
        int k = rng.Next(FuzzProgram.EinsumEquations.Length);
        int a = Pick(j => !isMask[j] && EinsumTakes(k, shapes[j]));
        if (a < 0) return;
        if (k < 6)
        {
            Try(new Step(OpKind.Einsum, new[] { a }, new[] { k }));
            return;
        }
        int b = Pick(j => j != a && !isMask[j] && EinsumFits(k, shapes[a], shapes[j]));
        if (b < 0 || rng.NextDouble() < 0.3) b = rng.NextDouble() < 0.3 && EinsumFits(k, shapes[a], shapes[a]) ? a : Constant(EinsumPartner(k, shapes[a]));
        if (b >= 0) Try(new Step(OpKind.Einsum, rng.NextDouble() < 0.5 || k is 6 or 9 or 10 ? new[] { a, b } : new[] { b, a }, new[] { k }));
    }

    /// <summary>A value whose last two axes are square and at most 4, or a reshape of one into (batch,) n, n.</summary>
    int Square()
    {
        int a = Pick(j => !isMask[j] && Rank(j) >= 2 && shapes[j][^1] == shapes[j][^2] && shapes[j][^1] is >= 1 and <= 4 && FuzzProgram.Numel(shapes[j]) > 0);
        if (a >= 0 && rng.NextDouble() < 0.7) return a;
        int n = 1 + rng.Next(3);
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0 && FuzzProgram.Numel(shapes[j]) % (n * n) == 0 && FuzzProgram.Numel(shapes[j]) / (n * n) <= 3);
        if (source < 0) return a;
        int batch = FuzzProgram.Numel(shapes[source]) / (n * n);
        return Try(new Step(OpKind.Reshape, new[] { source }, batch == 1 ? new[] { n, n } : new[] { batch, n, n }));
    }

    /// <summary>c·I as a constant of the matrices' size.</summary>
    int ScaledIdentity(int n, double c)
    {
        var data = new double[n * n];
        for (int i = 0; i < n; i++) data[i * n + i] = c;
        return Try(new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: data, DataShape: new[] { n, n }));
    }

    /// <summary>
    /// Square matrices with condition number below 20 and positive determinant: a square value that already is,
    /// or tanh(A) + (n+1)·I, strictly diagonally dominant with a positive diagonal (each off-diagonal row sum is
    /// below n − 1), so its eigenvalues have positive real parts.
    /// </summary>
    int WellConditioned()
    {
        int a = Square();
        if (a < 0) return -1;
        if (rng.NextDouble() < 0.3)
        {
            using var scope = torch.NewDisposeScope();
            static bool Conditioned(torch.Tensor t) => t.numel() > 0 && t.isfinite().all().item<bool>()
                && torch.linalg.cond(t).max().item<double>() < 20 && torch.linalg.det(t).min().item<double>() > 0;
            // in the float32 run too, whose rounding can make the matrix singular: [[1e-40]] is [[0]] there, whose
            // LogDet's derivatives solve with it and throw (`fuzz adversarial 9/267`)
            if (Conditioned(tensors[a]) && Conditioned(Float32Realisation(a))) return a;
        }
        int n = shapes[a][^1];
        int squashed = Try(S(OpKind.Tanh, a));
        int shift = ScaledIdentity(n, n + 1);
        return squashed < 0 || shift < 0 ? -1 : Try(S(OpKind.Add, squashed, shift));
    }

    /// <summary>Whether value j holds no infinity or NaN in the float32 run (<see cref="Float32Realisation"/>).</summary>
    bool FiniteInFloat32(int j)
    {
        using var scope = torch.NewDisposeScope();
        return Float32Realisation(j).isfinite().all().item<bool>();
    }

    /// <summary>Whether value j holds no infinity or NaN.</summary>
    bool Finite(int j)
    {
        using var scope = torch.NewDisposeScope();
        return tensors[j].isfinite().all().item<bool>();
    }

    /// <summary>b of the form the system takes: (…, n, k), or a vector (n) or batch of vectors with the matrix's batch.</summary>
    int RightHandSide(int m, bool left)
    {
        var ms = shapes[m];
        int n = ms[^1];
        var batch = ms[..^2];
        bool Fits(int[] b) => left
            ? b.Length >= 2 && b[^2] == n || (b.Length == 1 || b.SequenceEqual(ms[..^1])) && b[^1] == n
            : b.Length >= 2 && b[^1] == n;
        int pick = Pick(j => j != m && !isMask[j] && Fits(shapes[j]) && (shapes[j].Length < 3 || shapes[j][..^2].SequenceEqual(batch)));
        if (pick >= 0 && rng.NextDouble() < 0.6) return pick;
        double r = rng.NextDouble();
        int k = 1 + rng.Next(2);
        var shape = left && r < 0.3 ? new[] { n } : left ? batch.Append(n).Append(k).ToArray() : batch.Append(k).Append(n).ToArray();
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) == FuzzProgram.Numel(shape));
        return source >= 0 ? Try(new Step(OpKind.Reshape, new[] { source }, shape)) : Constant(shape);
    }

    void Solve()
    {
        int m = WellConditioned();
        if (m < 0) return;
        int b = RightHandSide(m, left: true);
        if (b >= 0) Try(S(OpKind.Solve, m, b));
    }

    void SolveTriangular()
    {
        int m = WellConditioned();
        if (m < 0) return;
        int upper = rng.Next(2), left = rng.Next(2);
        // only one triangle is read; sometimes the program zeroes the other itself
        if (rng.NextDouble() < 0.4) m = Try(new Step(upper == 1 ? OpKind.Triu : OpKind.Tril, new[] { m }, new[] { 0 }));
        if (m < 0) return;
        int b = RightHandSide(m, left == 1);
        if (b >= 0) Try(new Step(OpKind.SolveTriangular, new[] { m, b }, new[] { upper, left, rng.Next(2), rng.NextDouble() < 0.2 ? 1 : 0 }));
    }

    /// <summary>AᵀA + n·I, symmetric positive definite with eigenvalues at least n, from a (…, m, n) value.</summary>
    int Gram()
    {
        int a = Pick(j => !isMask[j] && Rank(j) >= 2 && shapes[j][^1] is >= 1 and <= 4 && FuzzProgram.Numel(shapes[j]) > 0);
        if (a < 0) a = Square();
        if (a < 0) return -1;
        int n = shapes[a][^1];
        int t = Try(S(OpKind.Transpose, a));
        int product = t < 0 ? -1 : Try(S(OpKind.MatMul, t, a));
        int shift = ScaledIdentity(n, n);
        return product < 0 || shift < 0 ? -1 : Try(S(OpKind.Add, product, shift));
    }

    /// <summary>Largest condition number of a Gram matrix Cholesky is drawn at: with adversarial magnitudes AᵀA swamps the
    /// n·I, and in float32 the matrix is then positive definite only by chance of rounding (`fuzz adversarial 1/235`).</summary>
    const double GramCondition = 1e3;

    /// <summary>Largest entry of a Gram matrix Cholesky is drawn at: beyond, the float32 run overflows to ∞ (`fuzz adversarial 2/220`).</summary>
    const double Float32Largest = 1e38;

    void Cholesky()
    {
        int m = Gram();
        if (m < 0) return;
        using (var scope = torch.NewDisposeScope())
        {
            // in both runs: float32's matrix is not float64's rounded, since every step before rounds on its own, and a
            // float64 Gram matrix can come out of float32 steps no longer positive definite (`fuzz adversarial 2/220`:
            // a softmax and a log1p of subnormals ahead of it gave float32 a 1×1 matrix that is not positive)
            bool PositiveDefinite(torch.Tensor t) =>
                t.isfinite().all().item<bool>() && t.abs().max().item<double>() <= Float32Largest
                && torch.linalg.eigvalsh(t).min().item<double>() > 0 && torch.linalg.cond(t).max().item<double>() <= GramCondition;
            try
            {
                if (!PositiveDefinite(tensors[m]) || !PositiveDefinite(Float32Realisation(m))) return;
            }
            catch (Exception) { return; } // a float32 step torch refuses: no Cholesky here
        }
        Try(S(OpKind.Cholesky, m));
    }

    void EigvalsH()
    {
        int m;
        if (rng.NextDouble() < 0.5) m = Gram();
        else
        {
            int a = Square();
            int t = a < 0 ? -1 : Try(S(OpKind.Transpose, a));
            m = t < 0 ? -1 : Try(S(OpKind.Add, a, t));
        }
        if (m < 0) return;
        using (var scope = torch.NewDisposeScope())
        {
            var t = tensors[m];
            if (t.numel() == 0 || !t.isfinite().all().item<bool>()) return;
            // torch's float32 eigh must converge on float32's matrix too: it raises otherwise (`fuzz adversarial 5/230`:
            // a float32 matrix of a conv1d and erf, ill-conditioned)
            try
            {
                var single = Float32Realisation(m);
                if (!single.isfinite().all().item<bool>()) return;
                torch.linalg.eigvalsh(single.to_type(ScalarType.Float32));
            }
            catch (Exception) { return; }
            var w = torch.linalg.eigvalsh(t);
            int n = shapes[m][^1];
            // A symmetric eigensolver's contract (LAPACK's, so torch's, and ours) is an absolute error of about ε·‖A‖ in
            // each eigenvalue, so an eigenvalue or a gap below that is rounding, which each engine resolves its own way:
            // `fuzz all adversarial 60/260`, a graded matrix of norm 2e30 whose exact eigenvalues −2e30, −5.8e-10 and 5e9
            // torch returns with the last two near −1e14 and ours near the exact ones (exp of them: [0, 0, 1] and
            // [0, 1, ∞]), and whose gap of 1.9e-25 ours once returned as 0 (the second derivatives divide by it). The
            // gap must stand EigenvalueMargin times above that rounding, as every eigenvalue must once the rounding
            // is above 1e-10, the value checks' absolute floor (a matrix of modest norm keeps its eigenvalues near 0).
            var noise = w.abs().amax(new long[] { -1 }, keepdim: true).mul(EigenvalueMargin * Math.ScaleB(1.0, -52));
            if (n > 1 && (w.narrow(-1, 1, n - 1) - w.narrow(-1, 0, n - 1))
                    .lt(noise.clamp_min(EigenvalueGap)).any().item<bool>()) return;
            if (w.abs().lt(noise).logical_and(noise.gt(1e-10 * EigenvalueMargin)).any().item<bool>()) return;
        }
        Try(S(OpKind.EigvalsH, m));
    }

    /// <summary>An image batch [N, C, H, W] (or unbatched [C, H, W] when allowed): a value of that rank, or a reshape of one.</summary>
    int Image(bool unbatched, int maxChannels = 3)
    {
        int a = Pick(j => !isMask[j] && (Rank(j) == 4 || unbatched && Rank(j) == 3) && shapes[j].All(d => d > 0) && shapes[j][^3] <= maxChannels);
        if (a >= 0 && rng.NextDouble() < 0.7) return a;
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0);
        if (source < 0) return a;
        int n = FuzzProgram.Numel(shapes[source]);
        var channels = Enumerable.Range(1, Math.Min(maxChannels, n)).Where(c => n % c == 0).ToArray();
        int c = channels[rng.Next(channels.Length)];
        var heights = Enumerable.Range(1, n / c).Where(h => n / c % h == 0).ToArray();
        int h = heights[rng.Next(heights.Length)];
        var shape = unbatched && rng.NextDouble() < 0.3 ? new[] { c, h, n / c / h } : new[] { 1, c, h, n / c / h };
        return Try(new Step(OpKind.Reshape, new[] { source }, shape));
    }

    /// <summary>A sequence batch [N, C, L] (or [C, L]) for Conv1d.</summary>
    int Sequence()
    {
        int a = Pick(j => !isMask[j] && Rank(j) is 2 or 3 && shapes[j].All(d => d > 0) && shapes[j][^2] <= 4);
        if (a >= 0 && rng.NextDouble() < 0.7) return a;
        if (ChannelSource() is not (int source, int c)) return a;
        int n = FuzzProgram.Numel(shapes[source]);
        return Try(new Step(OpKind.Reshape, new[] { source }, rng.NextDouble() < 0.3 ? new[] { c, n / c } : new[] { 1, c, n / c }));
    }

    /// <summary>A value to reshape into channels, and a channel count from 1 to 3 that divides its entries; null when none.</summary>
    (int Source, int Channels)? ChannelSource()
    {
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0);
        if (source < 0) return null;
        int n = FuzzProgram.Numel(shapes[source]);
        var channels = Enumerable.Range(1, Math.Min(3, n)).Where(c => n % c == 0).ToArray();
        return (source, channels[rng.Next(channels.Length)]);
    }

    /// <summary>Groups dividing the channels (one, more often than not) and a multiple of them as the output channels.</summary>
    (int Groups, int Outputs) GroupsAndOutputs(int channels)
    {
        var groupChoices = Enumerable.Range(1, channels).Where(g => channels % g == 0).ToArray();
        int groups = rng.NextDouble() < 0.6 ? 1 : groupChoices[rng.Next(groupChoices.Length)];
        return (groups, groups * (1 + rng.Next(2)));
    }

    /// <summary>A convolution's arguments: the input, the weight and, half the time, a bias of the outputs (a value or a constant).</summary>
    int[] WithBias(int x, int w, int outputs)
    {
        var args = new List<int> { x, w };
        if (rng.NextDouble() < 0.5)
        {
            int b = Pick(j => shapes[j].SequenceEqual(new[] { outputs }) && !isMask[j]);
            if (b < 0) b = Constant(new[] { outputs });
            if (b >= 0) args.Add(b);
        }
        return args.ToArray();
    }

    /// <summary>A weight of the given shape: a reshape of a value with as many entries (so its gradient is checked), or a constant.</summary>
    int Weight(int[] shape)
    {
        int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) == FuzzProgram.Numel(shape));
        if (source >= 0 && rng.NextDouble() < 0.4) return Try(new Step(OpKind.Reshape, new[] { source }, shape));
        return Constant(shape);
    }

    void Convolution(OpKind kind)
    {
        int x = kind == OpKind.Conv1d ? Sequence() : Image(unbatched: true);
        if (x < 0) return;
        int channels = shapes[x][kind == OpKind.Conv1d ? ^2 : ^3];
        var (groups, outputs) = GroupsAndOutputs(channels);
        int k = 1 + rng.Next(3), stride = 1 + rng.Next(2), padding = rng.Next(2), dilation = rng.NextDouble() < 0.7 ? 1 : 2;
        var weightShape = kind switch
        {
            OpKind.Conv1d => new[] { outputs, channels / groups, k },
            OpKind.Conv2d => new[] { outputs, channels / groups, k, k },
            _ => new[] { channels, outputs / groups, k, k },
        };
        int w = Weight(weightShape);
        if (w < 0) return;
        var args = WithBias(x, w, outputs);
        var ints = kind == OpKind.ConvTranspose2d
            ? new[] { stride, padding, rng.Next(Math.Max(stride, dilation)), dilation, groups }
            : new[] { stride, padding, dilation, groups };
        Try(new Step(kind, args, ints));
    }

    void Pool(OpKind kind)
    {
        int x = Image(unbatched: kind != OpKind.Unfold);
        if (x < 0) return;
        int k = 1 + rng.Next(3), stride = rng.Next(3), padding = rng.Next(k / 2 + 1), dilation = rng.NextDouble() < 0.7 ? 1 : 2;
        var ints = kind switch
        {
            OpKind.MaxPool2d => new[] { k, stride, padding, dilation },
            OpKind.AvgPool2d => new[] { k, stride, padding },
            OpKind.AdaptiveAvgPool2d => new[] { 1 + rng.Next(3), 1 + rng.Next(3) },
            _ => new[] { k, dilation, padding, 1 + rng.Next(2) },
        };
        // every max-pool window must reach into the input: torch's backward then indexes one past it and aborts the process
        // (`fuzz adversarial 8/146`: kernel 2, dilation 2, padding 1 over a 1×1 image, taps at −1 and 1)
        if (kind == OpKind.MaxPool2d && !(EveryWindowInside(shapes[x][^2], k, stride, padding, dilation)
                                          && EveryWindowInside(shapes[x][^1], k, stride, padding, dilation))) return;
        Try(new Step(kind, new[] { x }, ints));
    }

    /// <summary>Whether every window of a pooling along an axis of `size` has a tap inside it (stride 0: the kernel size).</summary>
    static bool EveryWindowInside(int size, int k, int stride, int padding, int dilation)
    {
        int s = stride == 0 ? k : stride;
        int outputs = (size + 2 * padding - dilation * (k - 1) - 1) / s + 1;
        for (int o = 0; o < outputs; o++)
            if (!Enumerable.Range(0, k).Any(r => o * s - padding + r * dilation is var at && at >= 0 && at < size)) return false;
        return true;
    }

    /// <summary>
    /// Fold back what an Unfold made (its geometry and the image's height and width), or a random geometry over a
    /// reshape of a value with [1, C·k·k, L] entries.
    /// </summary>
    void Fold()
    {
        int unfolded = Enumerable.Range(0, steps.Count).Reverse().FirstOrDefault(i => steps[i].Kind == OpKind.Unfold, -1);
        if (unfolded >= 0 && rng.NextDouble() < 0.6)
        {
            var u = steps[unfolded];
            var image = shapes[u.Args[0]];
            Try(new Step(OpKind.Fold, new[] { inputCount + unfolded }, new[] { image[^2], image[^1], u.Ints[0], u.Ints[1], u.Ints[2], u.Ints[3] }));
            return;
        }
        for (int attempt = 0; attempt < 8; attempt++)
        {
            int height = 1 + rng.Next(4), width = 1 + rng.Next(4), k = 1 + rng.Next(2), padding = rng.Next(2), stride = 1 + rng.Next(2);
            int rows = (height + 2 * padding - k) / stride + 1, columns = (width + 2 * padding - k) / stride + 1;
            if (rows < 1 || columns < 1) continue;
            int windows = rows * columns;
            int source = Pick(j => !isMask[j] && FuzzProgram.Numel(shapes[j]) > 0 && FuzzProgram.Numel(shapes[j]) % (k * k * windows) == 0
                && FuzzProgram.Numel(shapes[j]) / (k * k * windows) <= 3);
            if (source < 0) continue;
            int channels = FuzzProgram.Numel(shapes[source]) / (k * k * windows);
            int columnsValue = Try(new Step(OpKind.Reshape, new[] { source }, new[] { 1, channels * k * k, windows }));
            if (columnsValue >= 0) Try(new Step(OpKind.Fold, new[] { columnsValue }, new[] { height, width, k, 1, padding, stride }));
            return;
        }
    }

    /// <summary>
    /// A norm or standard deviation that is tiny but not 0, even over bit-exact operands: the mean of equal
    /// entries (0.4, 0.4, 0.4) rounds to a neighbour of them in one engine and to them in another, so one is at
    /// the kink at 0 and the other a rounding error away from it, where the derivative is of order 1 (program
    /// `fuzz 1/17`). An exact 0, as for equal entries whose mean is exact, is the kink itself and is kept.
    /// </summary>
    bool RoundedToNearZero(Step s) => s.Kind is OpKind.Norm or OpKind.Std or OpKind.FrobeniusNorm && StatisticNearZero(s, exactZeroCounts: true);

    bool StatisticNearZero(Step s, bool exactZeroCounts)
    {
        using var scope = torch.NewDisposeScope();
        var t = TorchInterpreter.Apply(s, s.Args.Select(a => tensors[a]).ToArray(), ScalarType.Float64).abs();
        var near = t.lt(KinkDistance);
        if (exactZeroCounts) near = near.logical_and(t.gt(0.0));
        return t.numel() > 0 && near.any().item<bool>();
    }

    /// <summary>
    /// The kinks of the wider ops, as <see cref="NearKink"/> treats the older ones: 0 for the activations with
    /// a kink there (leaky relu, elu, softsign), the bounds of Clamp, ties for sorting, top-k and max pooling,
    /// and 0 for the norms and the standard deviation (a zero vector, or equal entries).
    /// </summary>
    bool NearWideKink(Step s)
    {
        bool Any(int v, Func<double, bool> p) => numbers[v].Any(p);
        bool Ties(IEnumerable<double> values)
        {
            var v = values.OrderBy(x => x).ToArray();
            for (int i = 1; i < v.Length; i++) if (v[i] - v[i - 1] < KinkDistance) return true;
            return false;
        }
        int x = s.Args.Length > 0 ? s.Args[0] : -1;
        switch (s.Kind)
        {
            case OpKind.LeakyRelu or OpKind.Elu or OpKind.Softsign:
                return Any(x, v => Math.Abs(v) < KinkDistance);
            case OpKind.Clamp:
                return Any(x, v => Math.Abs(v - s.Data![0]) < KinkDistance || Math.Abs(v - s.Data![1]) < KinkDistance);
            case OpKind.Sort or OpKind.TopK or OpKind.MaxPool2d:
                return Ties(numbers[x]);
            case OpKind.Norm when s.Scalar == 1:
                return Any(x, v => Math.Abs(v) < KinkDistance);
            case OpKind.Norm when double.IsPositiveInfinity(s.Scalar):
                return Any(x, v => Math.Abs(v) < KinkDistance) || Ties(numbers[x].Select(Math.Abs));
            case OpKind.Norm or OpKind.Std or OpKind.FrobeniusNorm:
                return StatisticNearZero(s, exactZeroCounts: false);
            default:
                return false;
        }
    }
}
