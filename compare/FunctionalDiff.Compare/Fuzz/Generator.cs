using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>
/// Draws random, valid programs. It is typed: it tracks every value's shape and proposes only ops whose
/// shapes fit (broadcasting partners, matmul partners, axes in range). It also tracks every value's
/// numbers, computed by TorchSharp (the reference) in float64, so it can keep an op inside its domain
/// (log of a positive value, division by a value away from 0) except on the few steps where it crosses a
/// domain edge on purpose, and so it can reject steps that overflow. Inputs are drawn smooth, positive,
/// or on purpose full of kinks: exact zeros, ±1, halves, and ties (repeated entries).
/// </summary>
public sealed partial class Generator
{
    /// <summary>Largest element count of any value, so Hessians and repros stay small.</summary>
    public const int MaxNumel = 48;

    /// <summary>Largest magnitude an intermediate may reach (beyond, the step is drawn again).</summary>
    const double MaxMagnitude = 1e4;

    /// <summary>Share of domain-restricted steps applied outside their domain on purpose (log 0, 1/0, sqrt of a negative).</summary>
    const double EdgeRate = 0.04;

    /// <summary>Share of inputs that hold one infinity or NaN.</summary>
    const double NonFiniteInputRate = 0.03;

    /// <summary>Share of inputs that hold one infinity or NaN with adversarial inputs.</summary>
    const double AdversarialNonFiniteInputRate = 0.12;

    static readonly double[] NonFinite = { double.PositiveInfinity, double.NegativeInfinity, double.NaN };

    readonly Random rng;
    readonly bool adversarial;
    readonly List<int[]> shapes = new();
    readonly List<double[]> numbers = new();
    readonly List<TT> tensors = new();
    readonly List<bool> isMask = new();
    readonly List<bool> fromInput = new();
    readonly List<int> uses = new();
    readonly List<bool> exact = new();
    readonly List<Step> steps = new();
    int inputCount;

    readonly OpSurface ops;

    Generator(int seed, bool adversarial, OpSurface ops)
    {
        rng = new Random(seed);
        this.adversarial = adversarial;
        this.ops = ops;
    }

    /// <summary>The program of one seed: the same seed always gives the same program.</summary>
    /// <param name="name">The program's name.</param>
    /// <param name="seed">Its seed.</param>
    /// <param name="adversarial">Draw inputs and constants from <see cref="DrawAdversarial"/>, and let steps overflow.</param>
    /// <param name="ops">The ops drawn: with <see cref="OpSurface.Classic"/> (<see cref="ClassicWeights"/>) a seed gives the
    /// program it gave before the wider ops were drawn, with <see cref="OpSurface.Wide"/> the one it gave before the newer ops
    /// were (up to branch edges6), so programs found then stay reproducible.</param>
    public static FuzzProgram Generate(string name, int seed, bool adversarial = false, OpSurface ops = OpSurface.Full)
    {
        using var scope = torch.NewDisposeScope();
        var g = new Generator(seed, adversarial, ops);
        return g.Build(name, seed);
    }

    FuzzProgram Build(string name, int seed)
    {
        inputCount = 1 + rng.Next(3);
        var inputShapes = inputShapesDrawn = new int[inputCount][];
        var inputValues = inputValuesDrawn = new double[inputCount][];
        for (int i = 0; i < inputCount; i++)
        {
            inputShapes[i] = i == 0 ? RandomShape() : RelatedShape(inputShapes[0]);
            inputValues[i] = DrawInput(FuzzProgram.Numel(inputShapes[i]), rng.NextDouble() < 0.15);
            Add(inputShapes[i], torch.tensor(inputValues[i], dtype: ScalarType.Float64).reshape(Longs(inputShapes[i])), mask: false, input: true, bitExact: true);
        }
        int target = 5 + rng.Next(36);
        for (int attempt = 0; steps.Count < target && attempt < 40 * target; attempt++)
            Propose();
        int output = Finish();
        return new FuzzProgram(name, seed, inputShapes, inputValues, steps.ToArray(), output).Compact();
    }

    /// <summary>One input's values: smooth, positive or kinky (<see cref="DrawValues"/>), and rarely one IEEE special.</summary>
    double[] DrawInput(int n, bool positive)
    {
        var values = DrawValues(n, positive);
        // rarely, one IEEE special in an input: values must follow IEEE through every op (x * 0 with x = ∞ is NaN)
        if (values.Length > 0 && rng.NextDouble() < (adversarial ? AdversarialNonFiniteInputRate : NonFiniteInputRate))
            values[rng.Next(values.Length)] = NonFinite[rng.Next(NonFinite.Length)];
        return values;
    }

    /// <summary>
    /// Other values for a program's inputs, drawn as the program's own were (<see cref="DrawInput"/>) from another seed:
    /// the further examples of the vmap check (<see cref="VmapCheck"/>). An input whose drawn values are all positive (its
    /// finite ones) is drawn positive again, whether it was drawn positive or came out so: the generator kept each step in
    /// its domain by the numbers it saw, so a log of such an input stays in its domain for the other examples too.
    /// </summary>
    public static double[][] RedrawInputs(FuzzProgram program, int seed, bool adversarial)
    {
        var g = new Generator(seed, adversarial, OpSurface.Full);
        return program.InputShapes.Select((shape, i) =>
        {
            var finite = program.InputValues[i].Where(double.IsFinite).ToList();
            return g.DrawInput(FuzzProgram.Numel(shape), finite.Count > 0 && finite.All(v => v > 0));
        }).ToArray();
    }

    // ---------------------------------------------------------------- values

    void Add(int[] shape, TT t, bool mask, bool input, bool bitExact)
    {
        exact.Add(bitExact);
        shapes.Add(shape);
        tensors.Add(t);
        numbers.Add(Numbers(t));
        isMask.Add(mask);
        fromInput.Add(input);
        uses.Add(0);
    }

    int Last => shapes.Count - 1;

    /// <summary>The program's inputs, once drawn (for <see cref="Float32Realisation"/>).</summary>
    int[][] inputShapesDrawn = Array.Empty<int[]>();
    double[][] inputValuesDrawn = Array.Empty<double[]>();

    /// <summary>
    /// Value j as the float32 run computes it (inputs and constants rounded to float32, every step in float32),
    /// widened to float64: the numbers the generator tracks are float64's, and a step that needs a property of its
    /// operand (Cholesky: positive definite) must have it in both runs.
    /// </summary>
    TT Float32Realisation(int j)
    {
        var prefix = new FuzzProgram("prefix", 0, inputShapesDrawn, inputValuesDrawn, steps.ToArray(), j).RoundedToFloat32();
        var inputs = prefix.InputValues.Select((v, i) => torch.tensor(v, dtype: ScalarType.Float32).reshape(Longs(prefix.InputShapes[i]))).ToArray();
        return TorchInterpreter.RunAll(prefix, inputs)[j].to_type(ScalarType.Float64);
    }

    static double[] Numbers(TT t) => t.numel() == 0 ? Array.Empty<double>() : t.to_type(ScalarType.Float64).contiguous().data<double>().ToArray();

    /// <summary>Appends a step if TorchSharp accepts it and its numbers stay finite and moderate; returns its value or −1.</summary>
    int Try(Step step, bool mask = false, bool edge = false)
    {
        TT t;
        try { t = TorchInterpreter.Apply(step, step.Args.Select(a => tensors[a]).ToArray(), ScalarType.Float64); }
        catch (Exception) { return -1; }
        var shape = t.shape.Select(d => (int)d).ToArray();
        if (FuzzProgram.Numel(shape) > MaxNumel) return -1;
        var values = Numbers(t);
        // a step may carry an infinity or NaN it was given, but not make one, except on purpose
        bool given = step.Args.Any(a => numbers[a].Any(v => !double.IsFinite(v)));
        // adversarial inputs are there to overflow: a step may then make infinities and huge values
        if (!edge && !adversarial && !given && values.Any(v => !double.IsFinite(v))) return -1;
        if (!edge && !adversarial && values.Any(v => double.IsFinite(v) && Math.Abs(v) > MaxMagnitude)) return -1;
        if (!edge && NearKink(step)) return -1;
        if (edge && EdgeByRounding(step)) return -1;
        steps.Add(step);
        foreach (var a in step.Args) uses[a]++;
        Add(shape, t, mask, step.Args.Any(a => fromInput[a]), ExactOps.Contains(step.Kind) && step.Args.All(a => exact[a]));
        return Last;
    }

    /// <summary>
    /// Ops whose result has the same bits in every IEEE engine given the same operands: correctly rounded
    /// arithmetic (+ − × ÷ √), selections and moves. Transcendentals differ by an ulp between libraries, and sums
    /// (reductions, matmul, scatter-add) by their order.
    /// </summary>
    static readonly HashSet<OpKind> ExactOps = new()
    {
        OpKind.Neg, OpKind.Abs, OpKind.Relu, OpKind.Sign, OpKind.Floor, OpKind.Ceil, OpKind.Round, OpKind.Square, OpKind.Sqrt,
        OpKind.Reciprocal, OpKind.StopGradient, OpKind.CastRoundTrip, OpKind.AddScalar, OpKind.MulScalar, OpKind.RSubScalar,
        OpKind.DivScalar, OpKind.RDivScalar, OpKind.Add, OpKind.Sub, OpKind.Mul, OpKind.Div, OpKind.Maximum, OpKind.Minimum,
        OpKind.Lt, OpKind.Le, OpKind.Gt, OpKind.Ge, OpKind.Eq, OpKind.Ne, OpKind.Where, OpKind.Max, OpKind.Min, OpKind.ArgMax,
        OpKind.Transpose, OpKind.Permute, OpKind.Reshape, OpKind.BroadcastTo, OpKind.Slice, OpKind.Pad, OpKind.Flip,
        OpKind.Gather, OpKind.Concat, OpKind.Stack, OpKind.Const,
        OpKind.LeakyRelu, OpKind.Clamp, OpKind.IndexSelect, OpKind.Embedding, OpKind.OneHot, OpKind.Sort, OpKind.TopK,
        OpKind.Tril, OpKind.Triu, OpKind.Diagonal, OpKind.DiagEmbed, OpKind.MaxPool2d,
        OpKind.Kron, OpKind.Frac, OpKind.Softshrink, OpKind.Hardshrink, OpKind.Cummax, OpKind.Diag, OpKind.Tile,
        OpKind.Trunc, OpKind.Threshold, OpKind.Fmod, OpKind.Heaviside, OpKind.ArgMin, OpKind.Amax, OpKind.Amin, OpKind.Movedim,
        OpKind.Narrow, OpKind.Squeeze, OpKind.Unsqueeze, OpKind.Flatten, OpKind.Unflatten, OpKind.Expand, OpKind.MaskedFill,
        OpKind.RepeatInterleave, OpKind.PixelShuffle, OpKind.PixelUnshuffle, OpKind.CountNonzero, OpKind.Median,
    };

    /// <summary>Distance to a kink below which a value that is not bit-exact counts as on it.</summary>
    const double KinkDistance = 1e-6;

    /// <summary>
    /// True when a kinked op (|x|, relu, sign, rounding, comparisons, max/min and their ties, atan2 at the origin)
    /// meets an operand that is not bit-exact near its kink. The two engines' last bits may then fall on
    /// different sides of it (a mean that should be 0 is +1e-17 in one and −1e-17 in the other), which
    /// compares rounding, not semantics. Kinks hit by bit-exact values (inputs at 0, ties, relu of a pad)
    /// are kept: they are the point.
    /// </summary>
    bool NearKink(Step s)
    {
        if (RoundedToNearZero(s)) return true;
        if (s.Args.All(a => exact[a])) return false;
        bool Any(int v, Func<double, bool> p) => numbers[v].Any(p);
        bool Close(int a, int b)
        {
            using var scope = torch.NewDisposeScope();
            return tensors[a].sub(tensors[b]).abs().lt(KinkDistance).any().item<bool>();
        }
        switch (s.Kind)
        {
            case OpKind.Relu or OpKind.Abs or OpKind.Sign:
                return Any(s.Args[0], v => Math.Abs(v) < KinkDistance);
            case OpKind.Floor or OpKind.Ceil:
                return Any(s.Args[0], v => Math.Abs(v - Math.Round(v)) < KinkDistance);
            case OpKind.Round:
                return Any(s.Args[0], v => Math.Abs(2 * v - Math.Round(2 * v)) < 2 * KinkDistance);
            case OpKind.Maximum or OpKind.Minimum or OpKind.Lt or OpKind.Le or OpKind.Gt or OpKind.Ge or OpKind.Eq or OpKind.Ne:
                return Close(s.Args[0], s.Args[1]);
            case OpKind.Max or OpKind.Min or OpKind.ArgMax:
            {
                var v = numbers[s.Args[0]].OrderBy(x => x).ToArray();
                for (int i = 1; i < v.Length; i++) if (v[i] - v[i - 1] < KinkDistance) return true;
                return false;
            }
            default:
                return NearWideKink(s) || NearNewerKink(s) || NearRestKink(s) || NearLatestKink(s) || NearNewestKink(s) || NearFreshKink(s) || NearRecentKink(s);
        }
    }

    /// <summary>
    /// True when a step that crosses a domain edge on purpose (√, log, 1/x, a power at 0) would cross it at an operand
    /// that is not bit-exact and lies within KinkDistance of 0: a value that is 0 only up to rounding (the mean of a
    /// layer norm, 7e-17 in torch's float64 run), whose last bits, and so which side of the edge it falls on and how
    /// steep the op is there, depend on an engine's summation order (`fuzz 9/19`: √ of the mean of a layer norm, whose
    /// gradient is ours 0 and torch's −1.9e-9 by the residue). Edges are crossed at exact values, as kinks are.
    /// </summary>
    bool EdgeByRounding(Step s) =>
        s.Args.Any(a => !exact[a] && numbers[a].Any(v => Math.Abs(v) < KinkDistance));

    /// <summary>An operand: often the newest value, else one not used yet, else any; only values that depend on an input.</summary>
    int Pick(Func<int, bool>? fits = null)
    {
        var candidates = Enumerable.Range(0, shapes.Count).Where(i => fromInput[i] && (fits == null || fits(i))).ToList();
        if (candidates.Count == 0) return -1;
        double r = rng.NextDouble();
        if (r < 0.45) return candidates[^1];
        var unused = candidates.Where(i => uses[i] == 0).ToList();
        if (r < 0.75 && unused.Count > 0) return unused[rng.Next(unused.Count)];
        return candidates[rng.Next(candidates.Count)];
    }

    int Rank(int v) => shapes[v].Length;
    bool All(int v, Func<double, bool> p) => numbers[v].All(p);
    static bool Positive(double x) => x > 0.05;
    static bool AwayFromZero(double x) => Math.Abs(x) > 0.05;

    // ---------------------------------------------------------------- drawing numbers and shapes

    static readonly double[] Specials = { 0, 0, 0, 1, -1, 0.5, -0.5, 2, -2 };

    double Normal()
    {
        double u1 = 1.0 - rng.NextDouble(), u2 = rng.NextDouble();
        return Math.Sqrt(-2 * Math.Log(u1)) * Math.Cos(2 * Math.PI * u2);
    }

    /// <summary>Smooth normals (45%), positive values (15%), or kinky values (40%): specials and ties.</summary>
    double[] DrawValues(int n, bool positive)
    {
        if (adversarial) return DrawAdversarial(n, positive);
        double kind = rng.NextDouble();
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            if (positive) { v[i] = 0.3 + Math.Abs(Normal()); continue; }
            double r = rng.NextDouble();
            if (kind < 0.45 || r > 0.6) v[i] = Normal();
            else if (r < 0.35 || i == 0) v[i] = Specials[rng.Next(Specials.Length)];
            else v[i] = v[rng.Next(i)];
        }
        return v;
    }

    /// <summary>Values at the kinks: signed zeros, ±1 and ±0.5 (clamp-like bounds, round's ties), 2.</summary>
    static readonly double[] Kinks = { 0.0, -0.0, 0.0, -0.0, 1, -1, 0.5, -0.5, 2, -2 };

    /// <summary>
    /// Magnitudes that overflow: exp overflows float32 beyond 88.72 and float64 beyond 709.78, cosh and
    /// softplus's naive forms with them, squares of 1e20 overflow float32 and of 1e160 float64.
    /// </summary>
    static readonly double[] Large = { 1e3, 88, 89, 100, 709, 710, 1e4, 1e10, 1e20, 1e30, 1e160, 1e300 };

    /// <summary>Tiny magnitudes: float32 denormals (below 1.18e-38) and float64 denormals (below 2.2e-308).</summary>
    static readonly double[] Tiny = { 1e-30, 1e-38, 1e-40, 1e-45, 1e-300, 1e-310, 5e-324 };

    /// <summary>
    /// Adversarial values: per vector one flavour, kinks (signed zeros, ±1, halves), large, tiny, or all
    /// mixed, each with normals among them and with ties (an earlier entry repeated, so reductions, sorts and
    /// max/min meet equal entries along their axes). Positive vectors draw the same magnitudes, positive.
    /// </summary>
    double[] DrawAdversarial(int n, bool positive)
    {
        int flavour = rng.Next(4);
        var v = new double[n];
        for (int i = 0; i < n; i++)
        {
            double r = rng.NextDouble();
            int f = flavour == 3 ? rng.Next(3) : flavour;
            double x;
            if (i > 0 && r < 0.3) x = v[rng.Next(i)];
            else if (r < 0.45) x = Normal();
            else
            {
                var pool = f == 0 ? Kinks : f == 1 ? Large : Tiny;
                x = pool[rng.Next(pool.Length)];
                if (f != 0 && rng.NextDouble() < 0.5) x = -x;
            }
            v[i] = positive ? (x == 0 || !double.IsFinite(x) ? 1 : Math.Abs(x)) : x;
        }
        return v;
    }

    int Dim() => rng.NextDouble() < 0.02 ? 0 : 1 + rng.Next(rng.NextDouble() < 0.7 ? 3 : 4);

    int[] RandomShape()
    {
        double r = rng.NextDouble();
        int rank = r < 0.15 ? 0 : r < 0.5 ? 1 : r < 0.85 ? 2 : 3;
        while (true)
        {
            var shape = Enumerable.Range(0, rank).Select(_ => Dim()).ToArray();
            if (FuzzProgram.Numel(shape) <= 24) return shape;
        }
    }

    /// <summary>A second input: often broadcast-compatible with the first, or its matmul partner.</summary>
    int[] RelatedShape(int[] first)
    {
        double r = rng.NextDouble();
        if (r < 0.45)
        {
            int keep = rng.Next(first.Length + 1);
            return first[(first.Length - keep)..].Select(d => rng.NextDouble() < 0.3 ? 1 : d).ToArray();
        }
        if (r < 0.65 && first.Length > 0) return new[] { first[^1], 1 + rng.Next(3) };
        return RandomShape();
    }

    static long[] Longs(int[] shape) => shape.Select(d => (long)d).ToArray();

    // ---------------------------------------------------------------- the ops

    static readonly (OpKind Kind, int Weight)[] ClassicWeights =
    {
        (OpKind.Neg, 2), (OpKind.Exp, 3), (OpKind.Expm1, 2), (OpKind.Log, 3), (OpKind.Log1p, 2), (OpKind.Sin, 3), (OpKind.Cos, 3),
        (OpKind.Tan, 2), (OpKind.Tanh, 3), (OpKind.Sigmoid, 3), (OpKind.Relu, 3), (OpKind.Softplus, 3), (OpKind.Abs, 3),
        (OpKind.Sign, 2), (OpKind.Sqrt, 3), (OpKind.Rsqrt, 2), (OpKind.Square, 3), (OpKind.Reciprocal, 2), (OpKind.Erf, 2),
        (OpKind.Floor, 1), (OpKind.Ceil, 1), (OpKind.Round, 1), (OpKind.StopGradient, 1), (OpKind.CastRoundTrip, 1),
        (OpKind.AddScalar, 3), (OpKind.MulScalar, 3), (OpKind.RSubScalar, 2), (OpKind.DivScalar, 2), (OpKind.RDivScalar, 2), (OpKind.PowScalar, 3),
        (OpKind.Add, 5), (OpKind.Sub, 4), (OpKind.Mul, 5), (OpKind.Div, 3), (OpKind.Pow, 2), (OpKind.Maximum, 3), (OpKind.Minimum, 3), (OpKind.Atan2, 2),
        (OpKind.Lt, 1), (OpKind.Le, 1), (OpKind.Gt, 1), (OpKind.Ge, 1), (OpKind.Eq, 1), (OpKind.Ne, 1), (OpKind.Where, 4),
        (OpKind.Sum, 4), (OpKind.Mean, 3), (OpKind.Max, 3), (OpKind.Min, 3), (OpKind.Prod, 3), (OpKind.ArgMax, 1),
        (OpKind.Softmax, 2), (OpKind.LogSoftmax, 2), (OpKind.LogSumExp, 2), (OpKind.LayerNorm, 2), (OpKind.Mse, 1),
        (OpKind.BceWithLogits, 1), (OpKind.CrossEntropy, 1), (OpKind.Linear, 2),
        (OpKind.MatMul, 5), (OpKind.Transpose, 2), (OpKind.Permute, 2), (OpKind.Reshape, 3), (OpKind.BroadcastTo, 2), (OpKind.Slice, 3),
        (OpKind.Pad, 2), (OpKind.Flip, 2), (OpKind.Gather, 2), (OpKind.ScatterAdd, 2), (OpKind.Concat, 3), (OpKind.Stack, 2),
    };

    /// <summary>The classic ops and then the wider ones (<see cref="WideWeights"/>): the surface drawn up to branch edges6.</summary>
    static readonly (OpKind Kind, int Weight)[] WideSurfaceWeights = ClassicWeights.Concat(WideWeights).ToArray();

    /// <summary>Those and then the newer ones (<see cref="NewerWeights"/>).</summary>
    static readonly (OpKind Kind, int Weight)[] Weights = WideSurfaceWeights.Concat(NewerWeights).ToArray();

    OpKind DrawKind()
    {
        var weights = ops switch { OpSurface.Classic => ClassicWeights, OpSurface.Wide => WideSurfaceWeights, OpSurface.All => AllWeights, OpSurface.Latest => LatestSurfaceWeights, OpSurface.Newest => NewestSurfaceWeights, OpSurface.Fresh => FreshSurfaceWeights, OpSurface.Recent => RecentSurfaceWeights, OpSurface.Special => SpecialSurfaceWeights, _ => Weights };
        int r = rng.Next(weights.Sum(w => w.Weight));
        foreach (var (kind, weight) in weights)
        {
            if (r < weight) return kind;
            r -= weight;
        }
        return OpKind.Add;
    }

    static Step S(OpKind kind, params int[] args) => new(kind, args, Array.Empty<int>());

    void Propose()
    {
        var kind = DrawKind();
        switch (kind)
        {
            case OpKind.Log or OpKind.Sqrt or OpKind.Rsqrt: Unary(kind, Positive); break;
            case OpKind.Reciprocal: Unary(kind, AwayFromZero); break;
            case OpKind.Log1p: Unary(kind, x => x > -0.9); break;
            case OpKind.Tan: Unary(kind, x => Math.Abs(x) < 1.4); break;
            case OpKind.Neg or OpKind.Exp or OpKind.Expm1 or OpKind.Sin or OpKind.Cos or OpKind.Tanh or OpKind.Sigmoid or OpKind.Relu
                or OpKind.Softplus or OpKind.Abs or OpKind.Sign or OpKind.Square or OpKind.Erf or OpKind.Floor or OpKind.Ceil
                or OpKind.Round or OpKind.StopGradient or OpKind.CastRoundTrip:
                Unary(kind, null); break;
            case OpKind.AddScalar or OpKind.MulScalar or OpKind.RSubScalar or OpKind.DivScalar or OpKind.RDivScalar or OpKind.PowScalar:
                ScalarOp(kind); break;
            case OpKind.Add or OpKind.Sub or OpKind.Mul or OpKind.Div or OpKind.Pow or OpKind.Maximum or OpKind.Minimum or OpKind.Atan2:
                Binary(kind); break;
            case OpKind.Lt or OpKind.Le or OpKind.Gt or OpKind.Ge or OpKind.Eq or OpKind.Ne: Compare(kind); break;
            case OpKind.Where: Where(); break;
            case OpKind.Sum or OpKind.Mean or OpKind.Max or OpKind.Min or OpKind.Prod or OpKind.ArgMax: Reduce(kind); break;
            case OpKind.Softmax or OpKind.LogSoftmax or OpKind.LogSumExp: AlongAxis(kind); break;
            case OpKind.LayerNorm: LayerNorm(); break;
            case OpKind.Mse or OpKind.BceWithLogits: Loss(kind); break;
            case OpKind.CrossEntropy: CrossEntropy(); break;
            case OpKind.Linear: Linear(); break;
            case OpKind.MatMul: MatMul(); break;
            case > OpKind.Fold and < OpKind.Const: Newer(kind); break;
            case > OpKind.Stack and < OpKind.Const: Wide(kind); break;
            case > OpKind.ScaledModifiedBesselK1: Special(kind); break;
            case > OpKind.RnnCell: Recent(kind); break;
            case > OpKind.GumbelSoftmax: Fresh(kind); break;
            case > OpKind.SegmentSoftmax: Newest(kind); break;
            case > OpKind.IndexAdd: Latest(kind); break;
            case > OpKind.Const: Rest(kind); break;
            default: Structural(kind); break;
        }
    }

    /// <summary>A unary op; with a domain, an operand outside it is first made positive (except on purpose, rarely).</summary>
    void Unary(OpKind kind, Func<double, bool>? domain)
    {
        int a = Pick();
        if (a < 0) return;
        bool edge = false;
        if (domain != null && !All(a, domain))
        {
            if (rng.NextDouble() < EdgeRate) edge = true;
            else a = kind is OpKind.Tan or OpKind.Erfinv ? Try(S(OpKind.Tanh, a)) : MakePositive(a);
            if (a < 0) return;
        }
        Try(S(kind, a), edge: edge);
    }

    /// <summary>|x| + c, x² + c, exp x, softplus x + c or sigmoid x + c: a value safely inside (0, ∞).</summary>
    int MakePositive(int a)
    {
        double c = new[] { 0.1, 0.25, 0.5, 1.0 }[rng.Next(4)];
        int first = rng.Next(5) switch
        {
            0 => Try(S(OpKind.Abs, a)),
            1 => Try(S(OpKind.Square, a)),
            2 => Try(S(OpKind.Exp, a)),
            3 => Try(S(OpKind.Softplus, a)),
            _ => Try(S(OpKind.Sigmoid, a)),
        };
        if (first < 0) return -1;
        if (All(first, Positive)) return first;
        return Try(new Step(OpKind.AddScalar, new[] { first }, Array.Empty<int>(), Scalar: c));
    }

    static readonly double[] Literals = { 0, 1, -1, 2, 0.5, -3, 1.5 };

    void ScalarOp(OpKind kind)
    {
        int a = Pick();
        if (a < 0) return;
        double c = rng.NextDouble() < 0.7 ? Literals[rng.Next(Literals.Length)] : Math.Round(Normal(), 3);
        bool edge = false;
        switch (kind)
        {
            case OpKind.DivScalar when c == 0:
                c = 2;
                break;
            case OpKind.RDivScalar when !All(a, AwayFromZero):
            case OpKind.PowScalar when (c != Math.Floor(c) || c < 0) && !All(a, Positive):
                if (rng.NextDouble() < EdgeRate) edge = true;
                else a = MakePositive(a);
                break;
        }
        if (a < 0) return;
        Try(new Step(kind, new[] { a }, Array.Empty<int>(), Scalar: c), edge: edge);
    }

    static int[]? Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var result = new int[rank];
        for (int i = 0; i < rank; i++)
        {
            int da = i < rank - a.Length ? 1 : a[i - (rank - a.Length)];
            int db = i < rank - b.Length ? 1 : b[i - (rank - b.Length)];
            if (da != db && da != 1 && db != 1) return null;
            result[i] = da == 1 ? db : da;
        }
        return result;
    }

    bool BroadcastsWith(int a, int b) => Broadcast(shapes[a], shapes[b]) is { } s && FuzzProgram.Numel(s) <= MaxNumel;

    /// <summary>A second operand that broadcasts with a: another value, a itself (ties), a reduction of a, or a constant.</summary>
    int Partner(int a)
    {
        double r = rng.NextDouble();
        if (r < 0.7)
        {
            int b = Pick(j => j != a && BroadcastsWith(a, j));
            if (b >= 0) return b;
        }
        if (r < 0.8) return a;
        if (r < 0.9 && Rank(a) > 0)
        {
            var axes = Enumerable.Range(0, Rank(a)).Where(_ => rng.NextDouble() < 0.5).ToArray();
            if (axes.Length == 0) axes = new[] { rng.Next(Rank(a)) };
            var kind = new[] { OpKind.Sum, OpKind.Max, OpKind.Mean }[rng.Next(3)];
            int reduced = Try(new Step(kind, new[] { a }, axes, Mode: 2, Flag: true));
            if (reduced >= 0) return reduced;
        }
        return Constant(shapes[a].Select(d => rng.NextDouble() < 0.3 ? 1 : d).Skip(rng.NextDouble() < 0.2 ? 1 : 0).ToArray());
    }

    int Constant(int[] shape) =>
        Try(new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: DrawValues(FuzzProgram.Numel(shape), false), DataShape: shape));

    void Binary(OpKind kind)
    {
        int a = Pick();
        if (a < 0) return;
        int b = Partner(a);
        if (b < 0) return;
        bool edge = false;
        if (kind == OpKind.Div && !All(b, AwayFromZero) || kind == OpKind.Pow && !All(a, Positive) || kind is OpKind.Atan2 or OpKind.Hypot && NearOrigin(a, b))
        {
            if (rng.NextDouble() < EdgeRate) edge = true;
            else if (kind == OpKind.Pow) a = MakePositive(a);
            else b = MakePositive(b);
            if (a < 0 || b < 0) return;
        }
        if (rng.NextDouble() < 0.3 && kind is not (OpKind.Div or OpKind.Pow)) (a, b) = (b, a);
        Try(S(kind, a, b), edge: edge);
    }

    /// <summary>atan2's singular point: both operands near 0 at some position.</summary>
    bool NearOrigin(int a, int b)
    {
        using var scope = torch.NewDisposeScope();
        return tensors[a].abs().lt(0.05).logical_and(tensors[b].abs().lt(0.05)).any().item<bool>();
    }

    int Compare(OpKind kind)
    {
        int a = Pick();
        if (a < 0) return -1;
        int b = Partner(a);
        return b < 0 ? -1 : Try(S(kind, a, b), mask: true);
    }

    void Where()
    {
        int m = Pick(j => isMask[j]);
        if (m < 0 || rng.NextDouble() < 0.5)
            m = Compare(new[] { OpKind.Gt, OpKind.Lt, OpKind.Ge, OpKind.Eq }[rng.Next(4)]);
        if (m < 0) return;
        int a = Pick(j => !isMask[j] && BroadcastsWith(m, j));
        if (a < 0) return;
        int b = Pick(j => j != a && !isMask[j] && BroadcastsWith(m, j) && BroadcastsWith(a, j) && Broadcast(Broadcast(shapes[a], shapes[j])!, shapes[m]) != null);
        if (b < 0) b = a;
        Try(S(OpKind.Where, m, a, b));
    }

    int[] RandomAxes(int rank)
    {
        var axes = Enumerable.Range(0, rank).Where(_ => rng.NextDouble() < 0.5).ToArray();
        if (axes.Length == 0) axes = new[] { rng.Next(rank) };
        return axes.Select(x => rng.NextDouble() < 0.3 ? x - rank : x).OrderBy(_ => rng.Next()).ToArray();
    }

    int Axis(int rank) => rng.Next(2 * rank) - rank;

    void Reduce(OpKind kind)
    {
        int a = Pick();
        if (a < 0) return;
        int rank = Rank(a);
        bool keep = rng.NextDouble() < 0.4;
        double r = rng.NextDouble();
        if (kind == OpKind.ArgMax)
        {
            if (rank > 0) Try(new Step(kind, new[] { a }, new[] { Axis(rank) }, Mode: 1, Flag: keep), mask: true);
            return;
        }
        if (rank == 0 || r < 0.3) Try(new Step(kind, new[] { a }, Array.Empty<int>(), Mode: 0));
        else if (r < 0.7 || kind == OpKind.Prod) Try(new Step(kind, new[] { a }, new[] { Axis(rank) }, Mode: 1, Flag: keep));
        else Try(new Step(kind, new[] { a }, RandomAxes(rank), Mode: 2, Flag: keep));
    }

    void AlongAxis(OpKind kind)
    {
        int a = Pick(j => Rank(j) > 0);
        if (a >= 0) Try(new Step(kind, new[] { a }, new[] { Axis(Rank(a)) }));
    }

    void LayerNorm()
    {
        int a = Pick(j => Rank(j) > 0);
        if (a >= 0) Try(new Step(OpKind.LayerNorm, new[] { a }, Array.Empty<int>(), Scalar: rng.NextDouble() < 0.5 ? 1e-5 : 1e-3));
    }

    /// <summary>Another value of exactly a's shape: an existing one, a smooth function of a, or a constant.</summary>
    int SameShape(int a)
    {
        int b = Pick(j => j != a && !isMask[j] && shapes[j].SequenceEqual(shapes[a]));
        if (b >= 0 && rng.NextDouble() < 0.7) return b;
        if (rng.NextDouble() < 0.5) return Try(S(new[] { OpKind.Sin, OpKind.Tanh, OpKind.Square }[rng.Next(3)], a));
        return Constant(shapes[a]);
    }

    void Loss(OpKind kind)
    {
        int a = Pick(j => !isMask[j]);
        if (a < 0) return;
        int b = SameShape(a);
        if (b >= 0) Try(S(kind, a, b));
    }

    void CrossEntropy()
    {
        int a = Pick(j => Rank(j) == 2 && shapes[j][0] > 0 && shapes[j][1] > 0);
        if (a < 0)
        {
            int source = Pick(j => FuzzProgram.Numel(shapes[j]) > 0);
            if (source < 0) return;
            int n = FuzzProgram.Numel(shapes[source]);
            var divisors = Enumerable.Range(1, n).Where(d => n % d == 0).ToArray();
            int rows = divisors[rng.Next(divisors.Length)];
            a = Try(new Step(OpKind.Reshape, new[] { source }, new[] { rows, n / rows }));
            if (a < 0) return;
        }
        var targets = Enumerable.Range(0, shapes[a][0]).Select(_ => rng.Next(shapes[a][1])).ToArray();
        Try(new Step(OpKind.CrossEntropy, new[] { a }, targets));
    }

    void Linear()
    {
        int a = Pick(j => Rank(j) > 0 && shapes[j][^1] > 0);
        if (a < 0) return;
        int features = shapes[a][^1];
        int w = Pick(j => Rank(j) == 2 && shapes[j][1] == features && shapes[j][0] > 0);
        if (w < 0 || rng.NextDouble() < 0.3) w = Constant(new[] { 1 + rng.Next(4), features });
        if (w < 0) return;
        int outputs = shapes[w][0];
        var args = new List<int> { a, w };
        if (rng.NextDouble() < 0.6)
        {
            int b = Pick(j => shapes[j].SequenceEqual(new[] { outputs }));
            if (b < 0) b = Constant(new[] { outputs });
            if (b >= 0) args.Add(b);
        }
        Try(new Step(OpKind.Linear, args.ToArray(), Array.Empty<int>()));
    }

    /// <summary>torch.matmul's shape rule, written out: null when the shapes do not multiply.</summary>
    static int[]? MatMulShape(int[] a, int[] b)
    {
        if (a.Length == 0 || b.Length == 0) return null;
        if (a.Length == 1 && b.Length == 1) return a[0] == b[0] ? Array.Empty<int>() : null;
        if (a.Length == 1) return a[0] == b[^2] ? b[..^2].Append(b[^1]).ToArray() : null;
        if (b.Length == 1) return a[^1] == b[0] ? a[..^1] : null;
        if (a[^1] != b[^2]) return null;
        var batch = Broadcast(a[..^2], b[..^2]);
        return batch?.Append(a[^2]).Append(b[^1]).ToArray();
    }

    void MatMul()
    {
        int a = Pick(j => Rank(j) > 0 && !isMask[j]);
        if (a < 0) return;
        int b = rng.NextDouble() < 0.7 ? Pick(j => MatMulShape(shapes[a], shapes[j]) is { } s && FuzzProgram.Numel(s) <= MaxNumel) : -1;
        if (b < 0)
        {
            b = Rank(a) == 1 ? a
              : rng.NextDouble() < 0.5 ? Try(S(OpKind.Transpose, a))
              : Constant(new[] { shapes[a][^1], 1 + rng.Next(3) });
        }
        if (b >= 0) Try(S(OpKind.MatMul, a, b));
    }

    void Structural(OpKind kind)
    {
        int a = Pick(j => Rank(j) > 0 || kind is OpKind.Reshape or OpKind.BroadcastTo or OpKind.Stack);
        if (a < 0) return;
        var shape = shapes[a];
        int rank = shape.Length;
        switch (kind)
        {
            case OpKind.Transpose:
                if (rank >= 2) Try(S(kind, a));
                break;
            case OpKind.Permute:
                Try(new Step(kind, new[] { a }, Enumerable.Range(0, rank).OrderBy(_ => rng.Next()).ToArray()));
                break;
            case OpKind.Reshape:
                Try(new Step(kind, new[] { a }, RandomReshape(FuzzProgram.Numel(shape))));
                break;
            case OpKind.BroadcastTo:
            {
                var target = shape.Select(d => d == 1 ? 1 + rng.Next(3) : d).ToList();
                if (rng.NextDouble() < 0.5) target.Insert(0, 1 + rng.Next(3));
                Try(new Step(kind, new[] { a }, target.ToArray()));
                break;
            }
            case OpKind.Slice:
            {
                int axis = Axis(rank), d = shape[axis < 0 ? axis + rank : axis];
                int start = rng.Next(-d - 1, d + 1), stop = rng.Next(-d - 1, d + 2);
                int step = rng.NextDouble() < 0.7 ? 1 : 2 + rng.Next(d + 1);
                if (rng.NextDouble() < 0.4) (start, stop) = (rng.Next(0, Math.Max(1, d)), d);
                Try(new Step(kind, new[] { a }, new[] { axis, start, stop, step }));
                break;
            }
            case OpKind.Pad:
            {
                var widths = Enumerable.Range(0, 2 * rank).Select(_ => rng.NextDouble() < 0.5 ? 0 : 1 + rng.Next(2)).ToArray();
                Try(new Step(kind, new[] { a }, widths));
                break;
            }
            case OpKind.Flip:
                Try(new Step(kind, new[] { a }, RandomAxes(rank)));
                break;
            case OpKind.Gather:
            {
                int axis = rng.Next(rank), d = shape[axis];
                if (d == 0) break;
                var indexShape = shape.ToArray();
                indexShape[axis] = 1 + rng.Next(4);
                var index = Enumerable.Range(0, FuzzProgram.Numel(indexShape)).Select(_ => (double)rng.Next(d)).ToArray();
                Try(new Step(kind, new[] { a }, new[] { axis }, Data: index, DataShape: indexShape));
                break;
            }
            case OpKind.ScatterAdd:
            {
                int axis = rng.Next(rank);
                var outShape = shape.ToArray();
                outShape[axis] = 1 + rng.Next(4);
                var index = Enumerable.Range(0, FuzzProgram.Numel(shape)).Select(_ => (double)rng.Next(outShape[axis])).ToArray();
                Try(new Step(kind, new[] { a }, outShape.Prepend(axis).ToArray(), Data: index, DataShape: shape));
                break;
            }
            case OpKind.Concat:
            {
                int axis = Axis(rank), positive = axis < 0 ? axis + rank : axis;
                var parts = new List<int> { a };
                int count = 1 + rng.Next(2);
                for (int k = 0; k < count; k++)
                {
                    int b = Pick(j => Rank(j) == rank && Enumerable.Range(0, rank).All(i => i == positive || shapes[j][i] == shape[i]));
                    if (b < 0 || rng.NextDouble() < 0.2)
                    {
                        var other = shape.ToArray();
                        other[positive] = 1 + rng.Next(2);
                        b = rng.NextDouble() < 0.5 ? a : Constant(other);
                    }
                    if (b >= 0) parts.Insert(rng.Next(parts.Count + 1), b);
                }
                Try(new Step(kind, parts.ToArray(), new[] { axis }));
                break;
            }
            case OpKind.Stack:
            {
                var parts = new List<int> { a };
                int b = Pick(j => j != a && shapes[j].SequenceEqual(shape));
                parts.Insert(rng.Next(2), b >= 0 ? b : a);
                Try(new Step(kind, parts.ToArray(), new[] { rng.Next(2 * rank + 2) - rank - 1 }));
                break;
            }
        }
    }

    /// <summary>A random shape with n elements (rank 0 to 3), sometimes with one −1 to infer.</summary>
    int[] RandomReshape(int n)
    {
        int rank = n == 1 && rng.NextDouble() < 0.3 ? 0 : 1 + rng.Next(3);
        if (rank == 0) return Array.Empty<int>();
        var dims = new List<int>();
        int remaining = n;
        for (int i = 0; i < rank - 1; i++)
        {
            var divisors = Enumerable.Range(1, Math.Max(1, remaining)).Where(d => remaining == 0 ? d <= 2 : remaining % d == 0).ToArray();
            int d = divisors[rng.Next(divisors.Length)];
            if (remaining == 0) d = 1 + rng.Next(2);
            dims.Add(d);
            if (remaining != 0) remaining /= d;
        }
        dims.Add(remaining);
        var result = dims.OrderBy(_ => rng.Next()).ToArray();
        if (n > 0 && rng.NextDouble() < 0.3) result[rng.Next(result.Length)] = -1;
        return result;
    }

    /// <summary>Adds every value nothing reads (and that depends on an input) into the output, so no op is dead.</summary>
    int Finish()
    {
        if (steps.Count == 0) Try(S(OpKind.Sin, 0));
        int output = Last;
        var dangling = Enumerable.Range(0, shapes.Count - 1).Where(i => uses[i] == 0 && fromInput[i] && !isMask[i]).TakeLast(4).ToList();
        foreach (var d in dangling)
        {
            int reduced = FuzzProgram.Numel(shapes[d]) == 1 && Rank(d) == 0 ? d : Try(new Step(OpKind.Sum, new[] { d }, Array.Empty<int>(), Mode: 0));
            if (reduced < 0) continue;
            int sum = Try(S(OpKind.Add, output, reduced));
            if (sum >= 0) output = sum;
        }
        return output;
    }
}
