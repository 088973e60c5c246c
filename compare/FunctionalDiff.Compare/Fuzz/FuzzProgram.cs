namespace FunctionalDiff.Compare.Fuzz;

/// <summary>
/// Every op the fuzzer draws: one per method of the C# API (elementwise, literal-scalar forms, comparisons,
/// where, reductions, composites, losses and structural ops), plus Const for constant operands.
/// </summary>
public enum OpKind
{
    // unary elementwise
    Neg, Exp, Expm1, Log, Log1p, Sin, Cos, Tan, Tanh, Sigmoid, Relu, Softplus, Abs, Sign, Sqrt, Rsqrt,
    Square, Reciprocal, Erf, Floor, Ceil, Round, StopGradient, CastRoundTrip,
    // with a double literal c: x + c, x * c, c − x, x / c, c / x, x.Pow(c)
    AddScalar, MulScalar, RSubScalar, DivScalar, RDivScalar, PowScalar,
    // binary elementwise, broadcasting
    Add, Sub, Mul, Div, Pow, Maximum, Minimum, Atan2,
    // comparisons: a 0/1 mask in the operands' dtype
    Lt, Le, Gt, Ge, Eq, Ne,
    Where,
    // reductions (Mode: 0 all axes, 1 one axis, 2 an axis array; Flag: keepDims)
    Sum, Mean, Max, Min, Prod, ArgMax,
    // composites
    Softmax, LogSoftmax, LogSumExp, LayerNorm, Mse, BceWithLogits, CrossEntropy, Linear,
    // structural
    MatMul, Transpose, Permute, Reshape, BroadcastTo, Slice, Pad, Flip, Gather, ScatterAdd, Concat, Stack,
    // a constant tensor (Data, DataShape)
    Const,
}

/// <summary>
/// One step of a program: an op applied to earlier values. Values are numbered inputs first, then
/// steps, so step i is value <c>inputs + i</c>.
/// </summary>
/// <param name="Kind">The op.</param>
/// <param name="Args">The values it reads.</param>
/// <param name="Ints">Static integers: axes, a shape, a permutation, slice bounds, pad widths, class targets.</param>
/// <param name="Mode">For reductions: 0 all axes (no-argument overload), 1 one axis, 2 an axis array.</param>
/// <param name="Flag">keepDims for reductions.</param>
/// <param name="Scalar">The literal of a scalar op, or LayerNorm's epsilon.</param>
/// <param name="Data">Constant values (Const), or integer indices (Gather, ScatterAdd).</param>
/// <param name="DataShape">The shape of <paramref name="Data"/>.</param>
public sealed record Step(OpKind Kind, int[] Args, int[] Ints, int Mode = 0, bool Flag = false, double Scalar = 0,
    double[]? Data = null, int[]? DataShape = null);

/// <summary>A random program: its inputs (shapes and values), its steps, and the value it returns.</summary>
public sealed record FuzzProgram(string Name, int Seed, int[][] InputShapes, double[][] InputValues, Step[] Steps, int Output)
{
    /// <summary>The number of inputs.</summary>
    public int InputCount => InputShapes.Length;

    /// <summary>The number of steps the output depends on.</summary>
    public int LiveSteps => Live().Count(b => b);

    /// <summary>
    /// This program as a row of the comparison suite, so the suite's checks, tolerances and isolation apply.
    /// Three decisions, each made as the table makes it for its own rows:
    /// the tolerance's scale is at least 1 and the largest finite |value| the program computes (see
    /// <see cref="Suite.Tolerance.ScaleAtLeast"/>): rounding errors are relative to the terms an engine adds,
    /// and a result that cancels to about 0 still carries theirs;
    /// a program with a float32 round trip is compared in float64 at the table's cast tolerance;
    /// NaN must match NaN at the same position in every check, with one documented exception: in the full
    /// Hessian a NaN may sit at the transposed position (see <see cref="Suite.Tolerance.HessianNaNMayTranspose"/>).
    /// </summary>
    public Suite.Case ToCase()
    {
        var (singular, magnitude) = Forward();
        double scale = Math.Max(1, magnitude);
        return new(Name, InputShapes.Select(s => new Suite.InputSpec(s)).ToArray(), xs => OurInterpreter.Run(this, xs), ts => TorchInterpreter.Run(this, ts))
        {
            Seed = Seed,
            Fixed = InputValues,
            Float64 = (Steps.Any(s => s.Kind == OpKind.CastRoundTrip) ? CastTolerance : Suite.Tolerance.Float64) with
                { ScaleAtLeast = scale, HessianNaNMayTranspose = true },
            Float32 = Suite.Tolerance.Float32 with { ScaleAtLeast = scale, HessianNaNMayTranspose = true },
            Why = singular ? "fuzzed program across a domain edge" : "fuzzed program",
        };
    }

    /// <summary>The table's tolerance for a float64 value that passes through float32 on the way.</summary>
    static readonly Suite.Tolerance CastTolerance = new(1e-6, 1e-7);

    /// <summary>
    /// From a float64 TorchSharp forward run: whether the program crosses a domain edge (some value is infinite
    /// or NaN, or an atan2 meets the origin), and the largest finite |value| it computes.
    /// </summary>
    public (bool Singular, double Magnitude) Forward()
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var inputs = InputValues.Select((v, i) => TorchSharp.torch.tensor(v, dtype: TorchSharp.torch.ScalarType.Float64)
            .reshape(InputShapes[i].Select(d => (long)d).ToArray())).ToArray();
        try
        {
            var values = TorchInterpreter.RunAll(this, inputs);
            bool singular = values.Any(t => t.numel() > 0 && !t.isfinite().all().item<bool>())
                || Steps.Any(s => s.Kind == OpKind.Atan2 &&
                    values[s.Args[0]].abs().lt(0.05).logical_and(values[s.Args[1]].abs().lt(0.05)).any().item<bool>());
            double magnitude = values.Where(t => t.numel() > 0)
                .Select(t => t.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>()).DefaultIfEmpty(0).Max();
            return (singular, magnitude);
        }
        catch (Exception) { return (false, 0); } // not a valid program: the checks report the exception
    }

    /// <summary>Which steps the output depends on.</summary>
    public bool[] Live()
    {
        var live = new bool[Steps.Length];
        var stack = new Stack<int>();
        stack.Push(Output);
        while (stack.Count > 0)
        {
            int v = stack.Pop() - InputCount;
            if (v < 0 || live[v]) continue;
            live[v] = true;
            foreach (var a in Steps[v].Args) stack.Push(a);
        }
        return live;
    }

    /// <summary>
    /// The same program without the steps and inputs the output does not read (one input is always kept),
    /// values renumbered.
    /// </summary>
    public FuzzProgram Compact()
    {
        var live = Live();
        var usedInput = new bool[InputCount];
        for (int i = 0; i < Steps.Length; i++)
            if (live[i]) foreach (var a in Steps[i].Args) if (a < InputCount) usedInput[a] = true;
        if (Output < InputCount) usedInput[Output] = true;
        if (!usedInput.Any(b => b)) usedInput[0] = true;
        var map = new int[InputCount + Steps.Length];
        Array.Fill(map, -1);
        var shapes = new List<int[]>();
        var values = new List<double[]>();
        for (int i = 0; i < InputCount; i++)
        {
            if (!usedInput[i]) continue;
            map[i] = shapes.Count;
            shapes.Add(InputShapes[i]);
            values.Add(InputValues[i]);
        }
        var steps = new List<Step>();
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i]) continue;
            map[InputCount + i] = shapes.Count + steps.Count;
            steps.Add(Steps[i] with { Args = Steps[i].Args.Select(a => map[a]).ToArray() });
        }
        return this with { InputShapes = shapes.ToArray(), InputValues = values.ToArray(), Steps = steps.ToArray(), Output = map[Output] };
    }

    /// <summary>Inputs and constants rounded to float32, as a float32 run sees them.</summary>
    public FuzzProgram RoundedToFloat32() => this with
    {
        InputValues = InputValues.Select(Round).ToArray(),
        Steps = Steps.Select(s => s.Kind == OpKind.Const && s.Data != null ? s with { Data = Round(s.Data) } : s).ToArray(),
    };

    static double[] Round(double[] values) => values.Select(v => (double)(float)v).ToArray();

    /// <summary>The number of elements of a shape.</summary>
    public static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);
}
