using FunctionalDiff.Compare.Suite;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>Realises a program with FunctionalDiff's public C# API, one call per step.</summary>
public static class OurInterpreter
{
    /// <summary>Builds the program's output over the given inputs (symbolic or constant).</summary>
    public static Expr Run(FuzzProgram program, Expr[] inputs) => Run(program, inputs, Apply);

    /// <summary>Builds the output with another meaning for some steps: the fuzzer's self-tests use it to plant a wrong op.</summary>
    public static Expr Run(FuzzProgram program, Expr[] inputs, Func<Step, Expr[], DType, Expr> apply)
    {
        var dtype = inputs[0].DType;
        var values = new List<Expr>(inputs);
        foreach (var step in program.Steps)
            values.Add(apply(step, step.Args.Select(a => values[a]).ToArray(), dtype));
        return values[program.Output];
    }

    /// <summary>One step, with the public API.</summary>
    public static Expr Apply(Step s, Expr[] a, DType dtype)
    {
        Expr x = a.Length > 0 ? a[0] : null!;
        int[] p = s.Ints;
        return s.Kind switch
        {
            OpKind.Neg => -x,
            OpKind.Exp => x.Exp(),
            OpKind.Expm1 => x.Expm1(),
            OpKind.Log => x.Log(),
            OpKind.Log1p => x.Log1p(),
            OpKind.Sin => x.Sin(),
            OpKind.Cos => x.Cos(),
            OpKind.Tan => x.Tan(),
            OpKind.Tanh => x.Tanh(),
            OpKind.Sigmoid => x.Sigmoid(),
            OpKind.Relu => x.Relu(),
            OpKind.Softplus => x.Softplus(),
            OpKind.Abs => x.Abs(),
            OpKind.Sign => x.Sign(),
            OpKind.Sqrt => x.Sqrt(),
            OpKind.Rsqrt => x.Rsqrt(),
            OpKind.Square => x.Square(),
            OpKind.Reciprocal => x.Reciprocal(),
            OpKind.Erf => x.Erf(),
            OpKind.Floor => x.Floor(),
            OpKind.Ceil => x.Ceil(),
            OpKind.Round => x.Round(),
            OpKind.StopGradient => x.StopGradient(),
            OpKind.CastRoundTrip => x.Cast(Other(dtype)).Cast(dtype),
            OpKind.AddScalar => x + s.Scalar,
            OpKind.MulScalar => x * s.Scalar,
            OpKind.RSubScalar => s.Scalar - x,
            OpKind.DivScalar => x / s.Scalar,
            OpKind.RDivScalar => s.Scalar / x,
            OpKind.PowScalar => x.Pow(s.Scalar),
            OpKind.Add => a[0] + a[1],
            OpKind.Sub => a[0] - a[1],
            OpKind.Mul => a[0] * a[1],
            OpKind.Div => a[0] / a[1],
            OpKind.Pow => a[0].Pow(a[1]),
            OpKind.Maximum => Expr.Maximum(a[0], a[1]),
            OpKind.Minimum => Expr.Minimum(a[0], a[1]),
            OpKind.Atan2 => Expr.Atan2(a[0], a[1]),
            OpKind.Lt => a[0] < a[1],
            OpKind.Le => a[0] <= a[1],
            OpKind.Gt => a[0] > a[1],
            OpKind.Ge => a[0] >= a[1],
            OpKind.Eq => a[0].Eq(a[1]),
            OpKind.Ne => a[0].Ne(a[1]),
            OpKind.Where => Expr.Where(a[0], a[1], a[2]),
            OpKind.Sum => s.Mode switch { 0 => x.Sum(), 1 => x.Sum(p[0], s.Flag), _ => x.Sum(p, s.Flag) },
            OpKind.Mean => s.Mode switch { 0 => x.Mean(), 1 => x.Mean(p[0], s.Flag), _ => x.Mean(p, s.Flag) },
            OpKind.Max => s.Mode switch { 0 => x.Max(), 1 => x.Max(p[0], s.Flag), _ => x.Max(p, s.Flag) },
            OpKind.Min => s.Mode switch { 0 => x.Min(), 1 => x.Min(p[0], s.Flag), _ => x.Min(p, s.Flag) },
            OpKind.Prod => s.Mode switch { 0 => x.Prod(), 1 => x.Prod(p[0], s.Flag), _ => x.Prod(p, s.Flag) },
            OpKind.ArgMax => x.ArgMax(p[0], s.Flag),
            OpKind.Softmax => x.Softmax(p[0]),
            OpKind.LogSoftmax => x.LogSoftmax(p[0]),
            OpKind.LogSumExp => x.LogSumExp(p[0]),
            OpKind.LayerNorm => x.LayerNorm(s.Scalar),
            OpKind.Mse => Loss.Mse(a[0], a[1]),
            OpKind.BceWithLogits => Loss.BinaryCrossEntropyWithLogits(a[0], a[1].Sigmoid()),
            OpKind.CrossEntropy => Loss.CrossEntropy(x, p),
            OpKind.Linear => Nn.Linear(a[0], a[1], a.Length > 2 ? a[2] : null),
            OpKind.MatMul => a[0].MatMul(a[1]),
            OpKind.Transpose => x.Transpose(),
            OpKind.Permute => x.Transpose(p),
            OpKind.Reshape => x.Reshape(p),
            OpKind.BroadcastTo => x.BroadcastTo(p),
            OpKind.Slice => x.Slice(p[0], p[1], p[2], p[3]),
            OpKind.Pad => x.Pad(p[..(p.Length / 2)], p[(p.Length / 2)..]),
            OpKind.Flip => x.Flip(p),
            OpKind.Gather => x.Gather(p[0], OurSide.Make(s.Data!, s.DataShape!, dtype)),
            OpKind.ScatterAdd => Expr.ScatterAdd(p[0], OurSide.Make(s.Data!, s.DataShape!, dtype), x, p[1..]),
            OpKind.Concat => Expr.Concat(p[0], a),
            OpKind.Stack => Expr.Stack(p[0], a),
            OpKind.Gelu => x.Gelu(),
            OpKind.GeluTanh => x.GeluTanh(),
            OpKind.Silu => x.Silu(),
            OpKind.Softsign => x.Softsign(),
            OpKind.LogSigmoid => x.LogSigmoid(),
            OpKind.Erfc => x.Erfc(),
            OpKind.Lgamma => x.Lgamma(),
            OpKind.Digamma => x.Digamma(),
            OpKind.Polygamma => x.Polygamma(p[0]),
            OpKind.Elu => x.Elu(s.Scalar),
            OpKind.LeakyRelu => x.LeakyRelu(s.Scalar),
            OpKind.Clamp => x.Clamp(s.Mode == 2 ? null : s.Data![0], s.Mode == 1 ? null : s.Data![1]),
            OpKind.Var => s.Mode switch { 0 => x.Var(), 1 => x.Var(p[0], s.Scalar, s.Flag), _ => x.Var(p, s.Scalar, s.Flag) },
            OpKind.Std => s.Mode switch { 0 => x.Std(), 1 => x.Std(p[0], s.Scalar, s.Flag), _ => x.Std(p, s.Scalar, s.Flag) },
            OpKind.Norm => s.Mode switch { 0 => x.Norm(s.Scalar), 1 => x.Norm(s.Scalar, p[0], s.Flag), _ => x.Norm(s.Scalar, p, s.Flag) },
            OpKind.FrobeniusNorm => x.FrobeniusNorm(s.Flag),
            OpKind.Cumsum => x.Cumsum(p[0]),
            OpKind.Cumprod => x.Cumprod(p[0]),
            OpKind.Repeat => Expr.Repeat(p[0], RepeatBody(s.Mode, s.Scalar), x),
            OpKind.IndexSelect => x.IndexSelect(p[0], OurSide.Make(s.Data!, s.DataShape!, dtype)),
            OpKind.Embedding => Expr.Embedding(OurSide.Make(s.Data!, s.DataShape!, dtype), x),
            OpKind.OneHot => x.OneHot(p[0]),
            OpKind.Sort => x.Sort(p[0], s.Flag) is var (values, indices) && s.Mode == 0 ? values : indices,
            OpKind.TopK => x.TopK(p[0], p[1], s.Flag) is var (values, indices) && s.Mode == 0 ? values : indices,
            OpKind.Tril => x.Tril(p[0]),
            OpKind.Triu => x.Triu(p[0]),
            OpKind.Diagonal => x.Diagonal(p[0], p[1], p[2]),
            OpKind.DiagEmbed => x.DiagEmbed(p[0]),
            OpKind.Einsum => Expr.Einsum(FuzzProgram.EinsumEquations[p[0]], a),
            OpKind.Det => x.Det(),
            OpKind.LogDet => x.LogDet(),
            OpKind.Inverse => x.Inverse(),
            OpKind.Solve => a[0].Solve(a[1]),
            OpKind.SolveTriangular => a[0].SolveTriangular(a[1], upper: p[0] == 1, left: p[1] == 1, transpose: p[2] == 1, unitriangular: p[3] == 1),
            OpKind.Cholesky => x.Cholesky(),
            OpKind.EigvalsH => x.EigvalsH(),
            OpKind.Conv1d => Nn.Conv1d(a[0], a[1], a.Length > 2 ? a[2] : null, p[0], p[1], p[2], p[3]),
            OpKind.Conv2d => Nn.Conv2d(a[0], a[1], a.Length > 2 ? a[2] : null, p[0], p[1], p[2], p[3]),
            OpKind.ConvTranspose2d => Nn.ConvTranspose2d(a[0], a[1], a.Length > 2 ? a[2] : null, p[0], p[1], p[2], p[3], p[4]),
            OpKind.MaxPool2d => Nn.MaxPool2d(x, p[0], p[1] == 0 ? null : p[1], p[2], p[3]),
            OpKind.AvgPool2d => Nn.AvgPool2d(x, p[0], p[1] == 0 ? null : p[1], p[2]),
            OpKind.AdaptiveAvgPool2d => Nn.AdaptiveAvgPool2d(x, (p[0], p[1])),
            OpKind.Unfold => Nn.Unfold(x, p[0], p[1], p[2], p[3]),
            OpKind.Fold => Nn.Fold(x, p[0], p[1], p[2], p[3], p[4], p[5]),
            OpKind.LogAddExp => Expr.LogAddExp(a[0], a[1]),
            OpKind.Hypot => Expr.Hypot(a[0], a[1]),
            OpKind.Kron => a[0].Kron(a[1]),
            OpKind.Sinc => x.Sinc(),
            OpKind.Erfinv => x.Erfinv(),
            OpKind.Frac => x.Frac(),
            OpKind.Selu => x.Selu(),
            OpKind.Tanhshrink => x.Tanhshrink(),
            OpKind.Celu => x.Celu(s.Scalar),
            OpKind.Softshrink => x.Softshrink(s.Scalar),
            OpKind.Hardshrink => x.Hardshrink(s.Scalar),
            OpKind.Softmin => x.Softmin(p[0]),
            OpKind.Glu => x.Glu(p[0]),
            OpKind.LogCumSumExp => x.LogCumSumExp(p[0]),
            OpKind.Cummax => x.Cummax(p[0]) is var (values, indices) && s.Mode == 0 ? values : indices,
            OpKind.Nansum => s.Mode switch { 0 => x.Nansum(), 1 => x.Nansum(p[0], s.Flag), _ => x.Nansum(p, s.Flag) },
            OpKind.Diag => x.Diag(p[0]),
            OpKind.Tile => x.Tile(p),
            OpKind.GroupNorm => Nn.GroupNorm(x, p[0]),
            OpKind.InstanceNorm => Nn.InstanceNorm(x),
            OpKind.BatchNorm => Nn.BatchNorm(x),
            OpKind.Interpolate => Nn.Interpolate(x, p, s.Mode == 0 ? InterpolationMode.Nearest : InterpolationMode.Linear, s.Flag),
            OpKind.Normalize => Nn.Normalize(x, s.Scalar, p[0]),
            OpKind.CosineSimilarity => Nn.CosineSimilarity(a[0], a[1], p[0]),
            OpKind.Const => OurSide.Make(s.Data!, s.DataShape!, dtype),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "no interpretation"),
        };
    }

    /// <summary>Repeat's loop body <paramref name="mode"/> of <see cref="FuzzProgram.RepeatBodies"/>, with literal c.</summary>
    public static Func<Expr, Expr> RepeatBody(int mode, double c) => mode switch
    {
        0 => v => (v * c).Tanh(),
        _ => v => v.Sin() + c,
    };

    static DType Other(DType dtype) => dtype == DType.Float64 ? DType.Float32 : DType.Float64;
}
