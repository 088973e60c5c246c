using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>Realises a program with TorchSharp, the reference: each step is the torch function of the same name.</summary>
public static partial class TorchInterpreter
{
    /// <summary>Computes the program's output from the given inputs.</summary>
    /// <param name="program">The program.</param>
    /// <param name="inputs">Its inputs.</param>
    /// <param name="roundingDraw">0, or a draw of <see cref="FuzzProgram.OneUlp"/> applied to every step's output
    /// (the conditioning rule, <see cref="FuzzCheck"/>).</param>
    public static TT Run(FuzzProgram program, TT[] inputs, int roundingDraw = 0) => RunAll(program, inputs, roundingDraw)[program.Output];

    /// <summary>Every value of the program (inputs, then one per step).</summary>
    public static List<TT> RunAll(FuzzProgram program, TT[] inputs, int roundingDraw = 0)
    {
        var values = new List<TT>(inputs);
        // whether each value is a constant of the program: built from Const steps alone, never from an input; our side
        // folds such a subgraph to a constant as it builds it
        var constant = new List<bool>(inputs.Select(_ => false));
        for (int i = 0; i < program.Steps.Length; i++)
        {
            var step = program.Steps[i];
            constant.Add(step.Args.All(a => constant[a]));
            int same = EarlierCopy(program.Steps, i);
            var value = same >= 0 ? values[program.InputCount + same]
                : Apply(step, step.Args.Select(a => values[a]).ToArray(), inputs[0].dtype, constantExponent: step.Kind == OpKind.Pow && constant[step.Args[1]]);
            if (same < 0 && roundingDraw != 0 && step.Kind == OpKind.CastRoundTrip && inputs[0].dtype == ScalarType.Float64)
                value = CotangentRoundedOtherwise(value, roundingDraw);
            values.Add(same >= 0 || roundingDraw == 0 ? value : RoundedOtherwise(value, roundingDraw));
        }
        return values;
    }

    /// <summary>
    /// The value with each entry times 1 ± one ulp of 1 in its dtype (<see cref="FuzzProgram.StepFactor"/>), as an engine
    /// that rounds this step and its derivative differently would give them: every later rule sees a value moved by one
    /// or two ulps, and the derivative through the step is scaled by the same factor. A zero keeps its value and its
    /// sign, but its derivative is scaled too, each entry its own way: a sum of derivative terms that cancels to 0 in
    /// exact arithmetic then carries rounding noise as another engine's does (`fuzz 11/286`: the centred tangents of a
    /// layer norm over a row of zeros, (1/√ε)² times the direction, whose products sum to 0 through a matmul).
    /// Infinities, NaN and nonzero short dyadic numbers (ties, masks, halves) are left as they are.
    /// </summary>
    static TT RoundedOtherwise(TT value, int draw)
    {
        if (value.numel() == 0 || value.dtype is not (ScalarType.Float64 or ScalarType.Float32)) return value;
        double unit = Math.ScaleB(1.0, value.dtype == ScalarType.Float32 ? -23 : -52);
        var data = value.detach().to(ScalarType.Float64).contiguous().data<double>().ToArray();
        var factor = data.Select((v, k) => FuzzProgram.StepFactor(v, k, draw, unit)).ToArray();
        return value * torch.tensor(factor, dtype: ScalarType.Float64).to(value.dtype).reshape(value.shape);
    }

    /// <summary>
    /// A float32 round trip in a float64 run with its value unchanged and its derivative scaled by 1 ± one float32 ulp of 1,
    /// each entry its own way (<see cref="FuzzProgram.StepFactor"/> at 0): the step rounds its cotangent to float32, so the
    /// derivatives after it carry float32 rounding of the terms that pass through it, which another engine, rounding them
    /// at other points of its derivative graph, gets otherwise. RoundedOtherwise's float64 ulp, and its exemption of short
    /// dyadic values, would leave them alone (`fuzz all adversarial 70/153`: Σ e^t·(t − r(t)) with r the round trip at
    /// t = x/s ∈ {0, 5}, whose Hessian under the round trip's derivative 1 is 0 plus the rounding of terms e^t·t′·t″ near
    /// 2e4 to float32; ours and torch's differ by 6e-4 there, each the transpose of the other).
    /// </summary>
    static TT CotangentRoundedOtherwise(TT value, int draw)
    {
        if (value.numel() == 0) return value;
        double unit = Math.ScaleB(1.0, -23);
        var factor = Enumerable.Range(0, (int)value.numel()).Select(k => FuzzProgram.StepFactor(0.0, k, draw, unit)).ToArray();
        var f = torch.tensor(factor, dtype: ScalarType.Float64).to(value.dtype).reshape(value.shape);
        // value + (f − 1)·(value − value held): the same value, the derivative times f; an infinity or NaN is left as it is
        return torch.where(value.isfinite(), value + (f - 1) * (value - value.detach()), value);
    }

    /// <summary>
    /// The index of an earlier step that is the same op on the same values with the same parameters, or -1.
    /// Our Expr graph is hash-consed, so two such steps are one node (as if the program had named the value
    /// once and used it twice); the torch side reuses the earlier tensor so both engines differentiate the
    /// same graph. The difference is visible only where a partial derivative is infinite: reverse mode sums
    /// a shared node's cotangents before multiplying by its partial, so two copies of c·x with c = ∞, read
    /// as s + s/−3, give (1 − 1/3)·∞ = ∞ with one node and ∞ − ∞ = NaN with two (program `fuzz 3/1394`;
    /// torch itself gives ∞ for the shared form, FuzzConventionTests). A step with data (Const, and the index
    /// tensors of Gather and ScatterAdd) is never shared: our side makes a fresh constant tensor for each.
    /// </summary>
    public static int EarlierCopy(Step[] steps, int i)
    {
        var s = steps[i];
        if (s.Data is not null) return -1;
        for (int j = 0; j < i; j++)
        {
            var t = steps[j];
            if (t.Kind == s.Kind && t.Args.SequenceEqual(s.Args) && t.Ints.SequenceEqual(s.Ints) && t.Mode == s.Mode && t.Flag == s.Flag
                && BitConverter.DoubleToInt64Bits(t.Scalar) == BitConverter.DoubleToInt64Bits(s.Scalar) && t.Data is null)
                return j;
        }
        return -1;
    }

    /// <summary>One step.</summary>
    /// <remarks>
    /// <paramref name="constantExponent"/>: for Pow, whether the exponent is a constant of the program (not computed
    /// from an input), the only case where ours folds an exponent 0 into no cotangent at all.
    /// </remarks>
    public static TT Apply(Step s, TT[] a, ScalarType dtype, bool constantExponent = false)
    {
        TT x = a.Length > 0 ? a[0] : null!;
        int[] p = s.Ints;
        long[] l = p.Select(v => (long)v).ToArray();
        return s.Kind switch
        {
            OpKind.Neg => x.neg(),
            OpKind.Exp => x.exp(),
            OpKind.Expm1 => x.expm1(),
            OpKind.Log => x.log(),
            OpKind.Log1p => x.log1p(),
            OpKind.Sin => x.sin(),
            OpKind.Cos => x.cos(),
            OpKind.Tan => x.tan(),
            OpKind.Tanh => x.tanh(),
            // near 0, σ(t) = ½ + ½·tanh(t/2), whose rules keep every digit there (see NearZero)
            OpKind.Sigmoid => NearZero(x, t => 0.5 + 0.5 * (0.5 * t).tanh(), t => t.sigmoid()),
            OpKind.Relu => x.relu(),
            OpKind.Softplus => Softplus(x),
            OpKind.Abs => x.abs(),
            // Piecewise-constant ops on a detached input: the convention of symbolic zeros (README, fuzzer).
            OpKind.Sign => x.detach().sign(),
            OpKind.Sqrt => x.sqrt(),
            OpKind.Rsqrt => x.rsqrt(),
            OpKind.Square => x.square(),
            OpKind.Reciprocal => x.reciprocal(),
            OpKind.Erf => x.erf(),
            OpKind.Floor => x.detach().floor(),
            OpKind.Ceil => x.detach().ceil(),
            OpKind.Round => x.detach().round(),
            OpKind.StopGradient => x.detach(),
            OpKind.CastRoundTrip => x.to_type(dtype == ScalarType.Float64 ? ScalarType.Float32 : ScalarType.Float64).to_type(dtype),
            OpKind.AddScalar => x.add(s.Scalar),
            OpKind.MulScalar => x.mul(s.Scalar),
            OpKind.RSubScalar => Literal(s.Scalar, dtype).sub(x),
            OpKind.DivScalar => x.div(s.Scalar),
            OpKind.RDivScalar => Literal(s.Scalar, dtype).div(x),
            // x^0 is the constant 1: no gradient, as for the step functions (torch's zeros meet a NaN x² as NaN)
            OpKind.PowScalar => s.Scalar == 0 ? x.detach().pow(0.0) : x.pow(s.Scalar),
            OpKind.Add => a[0].add(a[1]),
            OpKind.Sub => a[0].sub(a[1]),
            OpKind.Mul => a[0].mul(a[1]),
            OpKind.Div => a[0].div(a[1]),
            // x^0 for a rank-0 constant 0 on a detached base: ours folds that exponent's mask and gives no
            // cotangent at all, the convention of symbolic zeros as for x.Pow(0.0) (`fuzz adversarial 3/37`:
            // logsumexp over an infinite entry, to the power 0; torch's zeros meet its NaN derivative). Only for
            // an exponent that is a constant of the program: one computed from an input without a gradient (an
            // ArgMax) is a graph on our side too, whose masked zero meets a NaN derivative as torch's does
            // (`fuzz adversarial 13/13`: softplus(NaN) to the power of an ArgMax that is 0, NaN in both).
            OpKind.Pow when constantExponent && a[1].dim() == 0 && !a[1].requires_grad && a[1].eq(0.0).item<bool>() => a[0].detach().pow(a[1]),
            OpKind.Pow => a[0].pow(a[1]),
            OpKind.Maximum => IeeeSignedZeros(torch.maximum(a[0], a[1]), a[0], a[1], maximum: true),
            OpKind.Minimum => IeeeSignedZeros(torch.minimum(a[0], a[1]), a[0], a[1], maximum: false),
            OpKind.Atan2 => torch.atan2(a[0], a[1]),
            OpKind.Lt => a[0].lt(a[1]).to_type(dtype),
            OpKind.Le => a[0].le(a[1]).to_type(dtype),
            OpKind.Gt => a[0].gt(a[1]).to_type(dtype),
            OpKind.Ge => a[0].ge(a[1]).to_type(dtype),
            OpKind.Eq => a[0].eq(a[1]).to_type(dtype),
            OpKind.Ne => a[0].ne(a[1]).to_type(dtype),
            OpKind.Where => torch.where(a[0].ne(0.0), a[1], a[2]),
            OpKind.Sum => s.Mode == 0 ? x.sum() : x.sum(l, s.Flag),
            OpKind.Mean => s.Mode == 0 ? x.mean() : x.mean(l, s.Flag),
            OpKind.Max => x.amax(s.Mode == 0 ? AllAxes(x) : l, s.Flag),
            OpKind.Min => x.amin(s.Mode == 0 ? AllAxes(x) : l, s.Flag),
            OpKind.Prod => s.Mode == 0 ? x.prod() : x.prod(l[0], s.Flag),
            OpKind.ArgMax => x.argmax(l[0], s.Flag).to_type(dtype),
            OpKind.Softmax => x.softmax(l[0]),
            OpKind.LogSoftmax => F.log_softmax(x, l[0]),
            OpKind.LogSumExp => LogSumExp(x, l[0]),
            OpKind.LayerNorm => LayerNorm(x, s.Scalar),
            OpKind.Mse => F.mse_loss(a[0], a[1]),
            OpKind.BceWithLogits => F.binary_cross_entropy_with_logits(a[0], a[1].sigmoid()),
            OpKind.CrossEntropy => F.cross_entropy(x, torch.tensor(l)),
            OpKind.Linear => F.linear(a[0], a[1], a.Length > 2 ? a[2] : null),
            OpKind.MatMul => a[0].matmul(a[1]),
            OpKind.Transpose => x.transpose(-2, -1),
            OpKind.Permute => x.permute(l),
            OpKind.Reshape => x.reshape(l),
            OpKind.BroadcastTo => x.broadcast_to(l),
            OpKind.Slice => Slice(x, p[0], p[1], p[2], p[3]),
            OpKind.Pad => F.pad(x, PadWidths(p)),
            OpKind.Flip => x.flip(l),
            OpKind.Gather => x.gather(l[0], Index(s)),
            OpKind.ScatterAdd => torch.zeros(l[1..], dtype: dtype).scatter_add(l[0], Index(s), x),
            OpKind.Concat => torch.cat(a, l[0]),
            OpKind.Stack => torch.stack(a, l[0]),
            OpKind.Gelu => F.gelu(x),
            // torch's tanh approximation written out, as the comparison table does (F.gelu here has no approximate argument)
            OpKind.GeluTanh => 0.5 * x * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh()),
            OpKind.Silu => F.silu(x),
            OpKind.Softsign => F.softsign(x),
            OpKind.LogSigmoid => F.logsigmoid(x),
            OpKind.Erfc => x.erfc(),
            OpKind.Lgamma => x.lgamma(),
            OpKind.Digamma => x.digamma(),
            OpKind.Polygamma => PolygammaInReach(x, p[0]),
            OpKind.Elu => F.elu(x, s.Scalar),
            OpKind.LeakyRelu => F.leaky_relu(x, s.Scalar),
            OpKind.Clamp => s.Mode switch { 1 => x.clamp_min(s.Data![0]), 2 => x.clamp_max(s.Data![1]), _ => x.clamp(s.Data![0], s.Data![1]) },
            OpKind.Var => s.Mode == 0 ? x.var() : x.var(l, s.Scalar == 1, s.Flag),
            // the convention "a scaled norm" for std too (homogeneous of degree 1): ours, Statistics.std, is s·σ(x/s), since
            // √var squares entries that overflow; torch's float64 kernel does (the std of [1e160, −1e160] is +∞)
            OpKind.Std => s.Mode == 0 ? Scaled(x, AllAxes(x), false, v => v.std()) : Scaled(x, l, s.Flag, v => v.std(l, s.Scalar == 1, s.Flag)),
            OpKind.Norm when s.Scalar == 2 => Scaled(x, s.Mode == 0 ? Enumerable.Range(0, (int)x.dim()).Select(i => (long)i).ToArray() : l,
                s.Mode == 0 ? false : s.Flag, v => s.Mode == 0 ? torch.linalg.vector_norm(v, 2) : torch.linalg.vector_norm(v, 2, l, s.Flag)),
            OpKind.Norm => s.Mode == 0 ? torch.linalg.vector_norm(x, s.Scalar) : torch.linalg.vector_norm(x, s.Scalar, l, s.Flag),
            OpKind.FrobeniusNorm => Scaled(x, new[] { x.dim() - 2, x.dim() - 1 }, s.Flag, v => torch.linalg.matrix_norm(v, "fro", keepdim: s.Flag)),
            OpKind.Cumsum => x.cumsum(l[0]),
            OpKind.Cumprod => x.cumprod(l[0]),
            OpKind.Repeat => Repeat(x, p[0], s.Mode, s.Scalar),
            OpKind.IndexSelect => x.index_select(l[0], Index(s)),
            // embedding is a row selection of the flattened indices, reshaped (written out as the reference)
            OpKind.Embedding => x.index_select(0, Index(s).flatten()).reshape(s.DataShape!.Select(d => (long)d).Append(x.shape[1]).ToArray()),
            OpKind.OneHot => F.one_hot(x.to_type(ScalarType.Int64), l[0]).to_type(dtype),
            OpKind.Sort => x.sort(l[0], s.Flag, stable: true) is var sorted && s.Mode == 0 ? sorted.Values : sorted.Indices.to_type(dtype),
            OpKind.TopK => TopK(x, p[0], p[1], s.Flag, s.Mode, dtype),
            OpKind.Tril => x.tril(l[0]),
            OpKind.Triu => x.triu(l[0]),
            OpKind.Diagonal => x.diagonal(l[0], l[1], l[2]),
            OpKind.DiagEmbed => torch.diag_embed(x, l[0]),
            OpKind.Einsum => torch.einsum(FuzzProgram.EinsumEquations[p[0]], a),
            OpKind.Det => torch.linalg.det(x),
            OpKind.LogDet => torch.logdet(x),
            OpKind.Inverse => torch.linalg.inv(x),
            OpKind.Solve => Solve(a[0], a[1]),
            // op(A) = Aᵀ is the transposed matrix with the other triangle (torch has no transpose flag)
            OpKind.SolveTriangular => torch.linalg.solve_triangular(p[2] == 1 ? a[0].transpose(-2, -1) : a[0], a[1],
                upper: (p[0] == 1) != (p[2] == 1), left: p[1] == 1, unitriangular: p[3] == 1),
            OpKind.Cholesky => torch.linalg.cholesky(x),
            OpKind.EigvalsH => torch.linalg.eigvalsh(x),
            OpKind.Conv1d => F.conv1d(a[0], a[1], a.Length > 2 ? a[2] : null, stride: l[0], padding: l[1], dilation: l[2], groups: l[3]),
            OpKind.Conv2d => F.conv2d(a[0], a[1], a.Length > 2 ? a[2] : null, strides: Pair(l[0]), padding: Pair(l[1]), dilation: Pair(l[2]), groups: l[3]),
            OpKind.ConvTranspose2d => F.conv_transpose2d(a[0], a[1], a.Length > 2 ? a[2] : null, strides: Pair(l[0]), padding: Pair(l[1]),
                output_padding: Pair(l[2]), dilation: Pair(l[3]), groups: l[4]),
            OpKind.MaxPool2d => F.max_pool2d(x, Pair(l[0]), Pair(l[1] == 0 ? l[0] : l[1]), Pair(l[2]), Pair(l[3])),
            OpKind.AvgPool2d => F.avg_pool2d(x, Pair(l[0]), Pair(l[1] == 0 ? l[0] : l[1]), Pair(l[2])),
            OpKind.AdaptiveAvgPool2d => F.adaptive_avg_pool2d(x, new[] { l[0], l[1] }),
            OpKind.Unfold => F.unfold(x, (l[0], l[0]), (l[1], l[1]), (l[2], l[2]), (l[3], l[3])),
            OpKind.Fold => F.fold(x, (l[0], l[1]), (l[2], l[2]), (l[3], l[3]), (l[4], l[4]), (l[5], l[5])),
            OpKind.LogAddExp => torch.logaddexp(a[0], a[1]),
            OpKind.Hypot => torch.hypot(a[0], a[1]),
            OpKind.Kron => torch.kron(a[0], a[1]),
            OpKind.Sinc => NearZero(x, t => SincSeries(t * Math.PI), t => t.sinc()),
            OpKind.Erfinv => x.erfinv(),
            OpKind.Frac => x.frac(),
            OpKind.Selu => F.selu(x),
            OpKind.Tanhshrink => F.tanhshrink(x),
            OpKind.Celu => F.celu(x, s.Scalar),
            // torch's CPU softshrink gives the zero between −λ and λ its sign by the entry's position: its scalar loop computes
            // x·0 (−0 for a negative x, ours), its vectorised loop a masked +0 (`fuzz 27/162`: atan2 of softshrink(−1, 1) against
            // −0.55, π in eight entries and −π in the ninth, the tail; FuzzConventionTests). The reference is the scalar loop's
            // formula written with torch's ops, its middle branch held as torch's backward masks it (no gradient, also under a
            // NaN cotangent).
            OpKind.Softshrink => torch.where(x.gt(s.Scalar), x - s.Scalar, torch.where(x.lt(-s.Scalar), x + s.Scalar, x.detach() * 0.0)),
            OpKind.Hardshrink => F.hardshrink(x, s.Scalar),
            OpKind.Softmin => F.softmin(x, l[0]),
            OpKind.Glu => F.glu(x, l[0]),
            OpKind.LogCumSumExp => LogCumSumExp(x, l[0]),
            OpKind.Cummax => x.cummax(l[0]) is var (values, indices) && s.Mode == 0 ? values : indices.to_type(dtype),
            // TorchSharp 0.107 has nansum only over every element: NaN entries as 0 by a where, torch.nansum's function and rule
            OpKind.Nansum => torch.where(x.isnan(), torch.zeros_like(x), x) is var counted && s.Mode == 0 ? counted.sum() : counted.sum(l, s.Flag),
            OpKind.Diag => x.diag(l[0]),
            OpKind.Tile => x.tile(l),
            OpKind.GroupNorm => Grouped(x, x.reshape(x.shape[0], l[0], -1), g => g.reshape(x.shape), () => F.group_norm(x, l[0])),
            OpKind.InstanceNorm => Grouped(x, x.reshape(x.shape[0], x.shape[1], -1), g => g.reshape(x.shape), () => F.instance_norm(x)),
            OpKind.BatchNorm => Grouped(x, x.transpose(0, 1).reshape(x.shape[1], -1),
                g => g.reshape(x.transpose(0, 1).shape).transpose(0, 1), () => F.batch_norm(x, null, null, training: true)),
            OpKind.Interpolate => s.Mode == 0 ? F.interpolate(x, l)
                : F.interpolate(x, l, mode: l.Length switch { 1 => torch.InterpolationMode.Linear, 2 => torch.InterpolationMode.Bilinear, _ => torch.InterpolationMode.Trilinear },
                    align_corners: s.Flag),
            OpKind.Normalize => F.normalize(ScaledSlices(x, l[0]), s.Scalar, l[0]),
            OpKind.CosineSimilarity => CosineSimilarity(a[0], a[1], l[0]),
            OpKind.Const => torch.tensor(s.Data!, dtype: dtype).reshape(s.DataShape!.Select(d => (long)d).ToArray()),
            OpKind.Acos => x.acos(),
            OpKind.Asin => x.asin(),
            OpKind.Atan => x.atan(),
            OpKind.Acosh => x.acosh(),
            OpKind.Asinh => x.asinh(),
            OpKind.Atanh => x.atanh(),
            OpKind.Sinh => x.sinh(),
            OpKind.Cosh => x.cosh(),
            // a step function, as floor: a symbolic zero in ours, a detached input here
            OpKind.Trunc => x.detach().trunc(),
            // libtorch has no double backward for hardsigmoid, and TorchSharp's F.hardtanh returned its input unchanged
            // (the case table's notes): both through torch's relu6 kernel, hardtanh over [0, 6], rescaled; the bounds'
            // widths divide 6 exactly (see the generator), so the kinks fall where they do in ours
            OpKind.Hardsigmoid => F.relu6(x + 3.0) / 6.0,
            OpKind.Hardswish => F.hardswish(x),
            OpKind.Mish => F.mish(x),
            // between the bounds x itself: the rescaled form rounds x − min, so an |x| far below the bounds was lost (x = 1e-45
            // in float32 gave 0, and 1e-45·(−∞) NaN where hardtanh's value is x and the product −∞, `fuzz all adversarial 41/119`)
            OpKind.Hardtanh => torch.where(x.detach().gt(s.Data![0]).logical_and(x.detach().lt(s.Data![1])), x,
                F.relu6((x - s.Data![0]) * (6.0 / (s.Data![1] - s.Data![0]))) * ((s.Data![1] - s.Data![0]) / 6.0) + s.Data![0]),
            OpKind.Threshold => F.threshold(x, s.Data![0], s.Data![1]),
            OpKind.Logit => s.Mode == 1 ? x.logit(s.Scalar) : x.logit(),
            OpKind.Prelu => F.prelu(a[0], a[1]),
            OpKind.Xlogy => torch.xlogy(a[0], a[1]),
            OpKind.Fmod => torch.fmod(a[0], a[1]),
            OpKind.Remainder => torch.remainder(a[0], a[1]),
            // no derivative in libtorch (differentiating them aborts): detached, as ours has none
            OpKind.FloorDivide => torch.floor_divide(a[0].detach(), a[1].detach()),
            OpKind.Heaviside => a[0].detach().heaviside(a[1].detach()),
            OpKind.Lerp => torch.lerp(a[0], a[1], a[2]),
            OpKind.AddCMul => a[0].addcmul(a[1], a[2], s.Scalar),
            OpKind.AddCDiv => a[0].addcdiv(a[1], a[2], s.Scalar),
            // libtorch's cdist has no double backward: by its definition, as the case table computes it; the 2-norms of
            // the three distances as "a scaled norm" (see Scaled): torch's squares of a difference of 1e300 overflow where
            // the distance is finite (`fuzz all adversarial 1/183`: cdist of rows [1e300, 1e300] and [0.97, 0.97], torch
            // +∞, ours and the closed form 1.414e300)
            OpKind.Cdist when s.Scalar == 2 => Scaled(a[0].unsqueeze(-2) - a[1].unsqueeze(-3), new long[] { -1 }, false,
                v => torch.linalg.vector_norm(v, 2, new long[] { -1 })),
            OpKind.Cdist => torch.linalg.vector_norm(a[0].unsqueeze(-2) - a[1].unsqueeze(-3), s.Scalar, new long[] { -1 }),
            OpKind.Dist when s.Scalar == 2 => Scaled(a[0] - a[1], AllAxes(torch.broadcast_tensors(a[0], a[1])[0]), false, v => torch.linalg.vector_norm(v, 2)),
            OpKind.Dist => torch.dist(a[0], a[1], (float)s.Scalar),
            OpKind.PairwiseDistance when s.Scalar == 2 => Scaled(a[0] - a[1] + 1e-6, new long[] { -1 }, s.Flag,
                v => torch.linalg.vector_norm(v, 2, new long[] { -1 }, s.Flag)),
            OpKind.PairwiseDistance => F.pairwise_distance(a[0], a[1], s.Scalar, 1e-6, s.Flag),
            OpKind.Cross => torch.linalg.cross(a[0], a[1], l[0]),
            OpKind.Dot => a[0].dot(a[1]),
            OpKind.Outer => a[0].outer(a[1]),
            OpKind.Trace => Trace(x),
            OpKind.MatrixPower => x.matrix_power(p[0]),
            OpKind.CholeskySolve => CholeskySolve(a[0], a[1], s.Flag),
            OpKind.Median => x.median(),
            // by its definition: TorchSharp's nanmean fails natively (the case table's note)
            OpKind.Nanmean => torch.where(x.isnan(), torch.zeros_like(x), x) is var present && x.isnan().logical_not().to_type(dtype) is var counts && s.Mode == 0
                ? present.sum() / counts.sum() : present.sum(l, s.Flag) / counts.sum(l, s.Flag),
            OpKind.CountNonzero => s.Mode == 0 ? x.detach().count_nonzero().to_type(dtype)
                : x.detach().count_nonzero(l) is var counted && s.Flag ? counted.unsqueeze(l[0]).to_type(dtype) : x.detach().count_nonzero(l).to_type(dtype),
            OpKind.ArgMin => s.Mode == 0 ? x.argmin().to_type(dtype) : x.argmin(l[0], s.Flag).to_type(dtype),
            OpKind.Amax => x.amax(l, s.Flag),
            OpKind.Amin => x.amin(l, s.Flag),
            OpKind.Movedim => x.movedim(new[] { l[0] }, new[] { l[1] }),
            OpKind.Narrow => x.narrow(l[0], l[1], l[2]),
            OpKind.Squeeze => s.Mode switch { 0 => x.squeeze(), 1 => x.squeeze(l[0]), _ => Squeezed(x, p) },
            OpKind.Unsqueeze => x.unsqueeze(l[0]),
            OpKind.Flatten => x.flatten(l[0], l[1]),
            OpKind.Unflatten => x.unflatten(l[0], l[1..]),
            OpKind.Expand => x.expand(l),
            OpKind.MaskedFill => a[0].masked_fill(a[1].detach().ne(0.0), s.Scalar),
            OpKind.RepeatInterleave => s.Mode == 0 ? x.flatten().repeat_interleave(l[0], 0) : x.repeat_interleave(l[0], l[1]),
            OpKind.NllLoss => s.Flag ? NllLossIgnoring(x, l, (long)s.Scalar, s.Mode) : F.nll_loss(x, torch.tensor(l), reduction: TorchReduction(s.Mode)),
            OpKind.Huber => F.huber_loss(a[0], a[1], s.Scalar, TorchReduction(s.Mode)),
            OpKind.SmoothL1 => F.smooth_l1_loss(a[0], a[1], TorchReduction(s.Mode), s.Scalar),
            // TorchSharp has no 'batchmean': torch computes it as the sum over the batch size (the case table's note)
            OpKind.KlDiv => s.Mode == 3
                ? F.kl_div(a[0], a[1], s.Flag, nn.Reduction.Sum) / (a[0].dim() == 0 ? 1.0 : a[0].shape[0])
                : F.kl_div(a[0], a[1], s.Flag, TorchReduction(s.Mode)),
            OpKind.GaussianNllLoss => GaussianNll(a[0], a[1], a[2], s.Flag) is var loss && s.Mode == 0 ? loss.mean() : s.Mode == 1 ? loss.sum() : loss,
            OpKind.BinaryCrossEntropy => BinaryCrossEntropy(a[0], a[1], s.Mode),
            OpKind.PixelShuffle => F.pixel_shuffle(x, l[0]),
            OpKind.PixelUnshuffle => F.pixel_unshuffle(x, l[0]),
            OpKind.ScaledDotProductAttention => Attention(a[0], a[1], a[2], s.Flag, s.Mode == 1 ? s.Scalar : null),
            OpKind.IndexAdd => x.index_add(l[0], Index(s), a[1], 1.0),
            OpKind.Svd => SvdFunction(x, s, dtype),
            OpKind.SvdVals => torch.linalg.svdvals(x),
            OpKind.Pinv => torch.linalg.pinv(x),
            OpKind.Lstsq => torch.linalg.lstsq(a[0], a[1]).Solution,
            OpKind.MatrixNorm => s.Mode == 1 ? torch.linalg.matrix_norm(x, "nuc", keepdim: s.Flag) : torch.linalg.matrix_norm(x, s.Scalar, keepdim: s.Flag),
            OpKind.KthValue => x.kthvalue(l[0], l[1], s.Flag) is var (kth, at) && s.Mode == 0 ? kth : at.to_type(dtype),
            OpKind.Conv3d => F.conv3d(a[0], a[1], a.Length > 2 ? a[2] : null, strides: new[] { l[0], l[0], l[0] }, padding: new[] { l[1], l[1], l[1] },
                dilation: new[] { l[2], l[2], l[2] }, groups: l[3]),
            OpKind.GridSample => F.grid_sample(a[0], a[1], s.Mode == 0 ? torch.GridSampleMode.Bilinear : torch.GridSampleMode.Nearest,
                p[0] switch { 0 => torch.GridSamplePaddingMode.Zeros, 1 => torch.GridSamplePaddingMode.Border, _ => torch.GridSamplePaddingMode.Reflection }, s.Flag),
            OpKind.AffineGrid => F.affine_grid(x, l, s.Flag),
            // over the log-softmax of the operand, as torch's docs ask: torch's gradient at log-probability leaves adds exp(lp)
            // (pytorch#52241), which log_softmax's own rule cancels
            OpKind.CtcLoss => F.ctc_loss(x.log_softmax(-1), torch.tensor(s.Data!.Select(v => (long)v).ToArray()).reshape(s.DataShape![0], s.DataShape![1]),
                torch.tensor(l[2..(2 + p[1])]), torch.tensor(l[(2 + p[1])..]), l[0], s.Flag, TorchReduction(s.Mode)),
            OpKind.SegmentSoftmax => Suite.CaseTable.DenseSegmentSoftmax(x, s.Data!.Select(v => (int)v).ToArray(), p[0], p[1] < 0 ? p[1] + x.dim() : p[1]),
            OpKind.MaxPool1d => F.max_pool1d(x, l[0], l[1] == 0 ? l[0] : l[1], l[2], l[3], s.Flag),
            OpKind.AvgPool1d => F.avg_pool1d(x, l[0], l[1] == 0 ? l[0] : l[1], l[2], s.Flag, count_include_pad: s.Mode == 0),
            OpKind.AdaptiveAvgPool1d => F.adaptive_avg_pool1d(x, l[0]),
            OpKind.AdaptiveMaxPool1d => F.adaptive_max_pool1d(x, l[0]),
            OpKind.AdaptiveMaxPool2d => F.adaptive_max_pool2d(x, new[] { l[0], l[1] }),
            OpKind.MaxPool3d => F.max_pool3d(x, Triple(l[0]), Triple(l[1] == 0 ? l[0] : l[1]), Triple(l[2]), Triple(l[3]), s.Flag),
            OpKind.AvgPool3d => F.avg_pool3d(x, Triple(l[0]), Triple(l[1] == 0 ? l[0] : l[1]), Triple(l[2]), s.Flag, s.Mode == 0, l[3] == 0 ? null : l[3]),
            OpKind.MaxPool2dWith => F.max_pool2d(x, Pair(l[0]), Pair(l[1] == 0 ? l[0] : l[1]), Pair(l[2]), Pair(l[3]), s.Flag),
            OpKind.AvgPool2dWith => F.avg_pool2d(x, Pair(l[0]), Pair(l[1] == 0 ? l[0] : l[1]), Pair(l[2]), s.Flag, s.Mode == 0, l[3] == 0 ? null : l[3]),
            OpKind.ConvTranspose1d => F.conv_transpose1d(a[0], a[1], a.Length > 2 ? a[2] : null, stride: l[0], padding: l[1], output_padding: l[2], dilation: l[3], groups: l[4]),
            OpKind.Quantile or OpKind.NanQuantile => Quantile(x, s, dtype),
            OpKind.SoftMarginLoss => SoftMargin(x, Data(s, dtype), s.Mode, dtype),
            // PyTorch's default margin is 1.0, TorchSharp's 0: the step always passes its own
            OpKind.HingeEmbeddingLoss => F.hinge_embedding_loss(x, Data(s, dtype), s.Scalar, TorchReduction(s.Mode)),
            OpKind.MultiLabelSoftMarginLoss => F.multilabel_soft_margin_loss(x, Data(s, dtype), a.Length > 1 ? a[1] : null, TorchReduction(s.Mode)),
            // an unbatched input [C] takes a 0-d target, as torch's docs ask (torch also takes [1], but its unreduced loss is then
            // [1], not the scalar of one sample; ours, whose targets are an int[], gives the scalar)
            OpKind.MultiMarginLoss => F.multi_margin_loss(x, x.dim() == 1 ? torch.tensor(l[0]) : torch.tensor(l), s.Flag ? 2 : 1, s.Scalar,
                s.Data is null ? null : Data(s, dtype), TorchReduction(s.Mode)),
            // TorchSharp has no rms_norm: torch's decomposition x·rsqrt(mean(x²) + eps)·weight, eps the dtype's machine epsilon by default
            OpKind.RmsNorm => RmsNorm(x, p.Length, a.Length > 1 ? a[1] : null, s.Mode == 1 ? s.Scalar : dtype == ScalarType.Float32 ? Math.ScaleB(1.0, -23) : Math.ScaleB(1.0, -52)),
            OpKind.LocalResponseNorm => F.local_response_norm(x, l[0], s.Data![0], s.Data![1], s.Data![2]),
            OpKind.Bilinear => F.bilinear(a[0], a[1], a[2], a.Length > 3 ? a[3] : null),
            OpKind.GumbelSoftmax => Gumbel(x, Data(s, dtype), s.Scalar, s.Flag, l[0]),
            OpKind.I0 => torch.special.i0(x),
            OpKind.I0e => torch.special.i0e(x),
            OpKind.I1 => torch.special.i1(x),
            OpKind.I1e => torch.special.i1e(x),
            OpKind.Erfcx => Erfcx(x),
            OpKind.Ndtr => torch.special.ndtr(x),
            OpKind.LogNdtr => LogNdtr(x),
            OpKind.Ndtri => torch.special.ndtri(x),
            OpKind.Entr => torch.special.entr(x),
            OpKind.Xlog1py => torch.special.xlog1py(a[0], a[1]),
            OpKind.Multigammaln => torch.special.multigammaln(x, l[0]),
            OpKind.MatrixExp => torch.linalg.matrix_exp(x),
            // TorchSharp 0.107's diff takes n = 1 only: differenced n times
            OpKind.Diff => Enumerable.Range(0, p[0]).Aggregate(x, (t, _) => t.diff(1, l[1])),
            OpKind.Trapezoid => torch.trapezoid(x, s.Scalar, l[0]),
            OpKind.CumulativeTrapezoid => torch.cumulative_trapezoid(x, s.Scalar, l[0]),
            OpKind.Cov => torch.cov(x, l[0]),
            OpKind.Corrcoef => torch.corrcoef(x),
            OpKind.LogAddExp2 => torch.logaddexp2(a[0], a[1]),
            OpKind.Copysign => torch.copysign(a[0], a[1]),
            OpKind.Deg2Rad => torch.deg2rad(x),
            OpKind.Rad2Deg => torch.rad2deg(x),
            // TorchSharp 0.107's torch.vander aborts the process; torch.linalg.vander is the increasing form
            OpKind.Vander => s.Flag ? torch.linalg.vander(x, l[0] == 0 ? x.shape[0] : l[0]) : torch.linalg.vander(x, l[0] == 0 ? x.shape[0] : l[0]).flip(1),
            // TorchSharp 0.107 has no pdist: the definition, as the case table writes it
            // pdist's 2-norms as "a scaled norm", as cdist's (`fuzz recent adversarial 2/39`: the distance of rows [0, 0] and
            // [0, −1e222] is 1e222, ours; torch's squares overflow to +∞), and its p-norms of a finite order above 1 too, each
            // scaled for its power (`fuzz fresh adversarial 57/56`: rows 1e160 apart at p = 3, whose cubes overflow; ours 1e160)
            OpKind.Pdist when s.Scalar > 1 && double.IsFinite(s.Scalar) => Scaled(Suite.CaseTable.PairDifferences(x), new long[] { 1 }, false,
                v => torch.linalg.vector_norm(v, s.Scalar, new long[] { 1 }), s.Scalar),
            OpKind.Pdist => Suite.CaseTable.TorchPdist(x, s.Scalar),
            // TorchSharp 0.107's tensordot(a, b, int dims) throws: the axes named
            OpKind.Tensordot => torch.tensordot(a[0], a[1], Enumerable.Range((int)a[0].dim() - p[0], p[0]).Select(d => (long)d).ToArray(),
                Enumerable.Range(0, p[0]).Select(d => (long)d).ToArray()),
            // torch draws its own masks: its formula over the same draws (the case table's, its kernels' order)
            OpKind.Dropout => x * (Suite.CaseTable.Kept(Data(s, dtype), s.Scalar, x) / (1 - s.Scalar)),
            OpKind.FeatureDropout => x * (Suite.CaseTable.Kept(PerChannel(s, dtype, x.dim()), s.Scalar, x) / (1 - s.Scalar)),
            OpKind.AlphaDropout => Suite.CaseTable.TorchAlphaDropout(x, Suite.CaseTable.Kept(Data(s, dtype), s.Scalar, x), s.Scalar),
            OpKind.FeatureAlphaDropout => Suite.CaseTable.TorchAlphaDropout(x, Suite.CaseTable.Kept(PerChannel(s, dtype, x.dim()), s.Scalar, x), s.Scalar),
            OpKind.RReluTraining => torch.where(x > 0, x, x * (FuzzProgram.RReluBounds[s.Mode].Lower
                + (FuzzProgram.RReluBounds[s.Mode].Upper - FuzzProgram.RReluBounds[s.Mode].Lower) * Data(s, dtype))),
            OpKind.ConvTranspose3d => F.conv_transpose3d(a[0], a[1], a.Length > 2 ? a[2] : null, strides: Triple(l[0]), padding: Triple(l[1]),
                output_padding: Triple(l[2]), dilation: Triple(l[3]), groups: l[4]),
            // the cell's formula (TorchSharp's nn.RNNCell holds its own parameters)
            OpKind.RnnCell => s.Mode == 1 ? RnnPreActivation(a).relu() : RnnPreActivation(a).tanh(),
            > OpKind.RnnCell => Recent(s, a, dtype),
            _ => throw new ArgumentOutOfRangeException(nameof(s), s.Kind, "no interpretation"),
        };
    }

    // Sign, Floor, Ceil, Round and x^0 are applied to a detached input, so their derivative is no gradient at
    // all, as our rules give (a symbolic zero), where torch's own backward returns a tensor of zeros that
    // the next rule multiplies: 0 · ∞ = NaN wherever an earlier derivative is infinite or NaN (program
    // `fuzz 1/938`: round(sqrt 0) has gradient 0 · 1/(2·0) = NaN in torch). Everywhere else the two are the
    // same zeros, and the derivative of a step function away from its steps is 0.

    /// <summary>
    /// The convention "torch's softplus threshold": F.softplus returns x itself above its threshold (default 20),
    /// with slope exactly 1 and curvature 0, off by σ(-x) ≈ 2e-9 relative at first order and by all of σ'(x) at
    /// second, beyond the float64 tolerance (program `fuzz 1/244`: softplus(expm1 3.2)). Ours (Nn.softplus) is
    /// log(1 + e^x) to rounding everywhere, so the reference is torch's own softplus and rule with the threshold
    /// at 40, above which x + log1p(e^-x) rounds to x and σ(x) to 1 in both dtypes.
    /// </summary>
    /// <summary>
    /// torch's maximum or minimum <paramref name="y"/> of <paramref name="a"/> and <paramref name="b"/> with IEEE 754's sign
    /// where they are zeros of opposite signs: +0 for the maximum, −0 for the minimum (ours). torch's CPU kernels return the
    /// first operand there in their scalar loop and the second in their vectorised one, so the sign of such an entry depends
    /// on where it falls in the tensor (float32: a short tensor's first 8 entries take the scalar loop), and a later step
    /// that reads it differs by far more than rounding (`fuzz all adversarial 63/66`, float32: atan2(max(x₁, c), x₀) at
    /// x₁ = −0, c = +0, x₀ = −1.03, ours π, torch's −π). Only the value changes: the maximum gets a constant +0 added at those
    /// entries (−0 elsewhere, which keeps every value, −0 included), the minimum is negated around the same, so the
    /// derivatives are torch's own.
    /// </summary>
    static TT IeeeSignedZeros(TT y, TT a, TT b, bool maximum)
    {
        var pair = torch.broadcast_tensors(a.detach(), b.detach());
        if (pair[0].numel() == 0) return y;
        // the sign of a zero is the sign of its reciprocal, ±∞
        var apart = pair[0].eq(0.0).logical_and(pair[1].eq(0.0)).logical_and(pair[0].reciprocal().lt(0.0).logical_xor(pair[1].reciprocal().lt(0.0)));
        if (!apart.any().item<bool>()) return y;
        var shift = torch.where(apart, torch.zeros_like(pair[0]), torch.zeros_like(pair[0]).neg());
        return maximum ? y.add(shift) : y.neg().add(shift).neg();
    }

    static TT Softplus(TT x) => F.softplus(x, 1.0, 40.0);

    /// <summary>Svd's step (see <see cref="OpKind"/>): S, U diag(c) Vh, U∘U or Vh∘Vh, none of which depends on the singular
    /// vectors' signs (LAPACK's in torch, a rule of our own in ours).</summary>
    static TT SvdFunction(TT x, Step s, ScalarType dtype)
    {
        var (u, sigma, vh) = torch.linalg.svd(x, fullMatrices: false);
        return s.Mode switch
        {
            0 => sigma,
            1 => (u * torch.tensor(s.Data!, dtype: dtype)).matmul(vh),
            2 => u.square(),
            _ => vh.square(),
        };
    }

    /// <summary>
    /// A reference for torch.trace where torch's derivative is wrong: over a matrix with more rows than columns its
    /// backward writes the cotangent at every (cols + 1)-th flat index up to the end, past the diagonal (a [3, 1] matrix
    /// gets it at rows 0 and 2; `fuzz all 1/793`), and its forward mode sums the same entries. There the reference is the
    /// sum of torch's diagonal, the trace by its definition; elsewhere torch's own trace.
    /// </summary>
    static TT Trace(TT x) => x.shape[0] > x.shape[1] ? x.diagonal().sum() : x.trace();

    /// <summary>
    /// A reference for F.binary_cross_entropy written with torch's ops, −(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)),
    /// torch's forward to the letter: torch's double backward divides by (p + 1e-12)²(1 − p + 1e-12)², so its second
    /// derivatives are off by about 2e-12/min(p, 1 − p) relative, beyond the float64 tolerance where p nears 0 or 1
    /// (`fuzz all 1/84`: p = tanh(x)/x = 0.975, 1.3e-10 relative in the HVP). Its first derivative, (p − t)/max(p(1 − p),
    /// 1e-12), is the formula's wherever the logs are not clamped.
    /// </summary>
    static TT BinaryCrossEntropy(TT p, TT t, int mode)
    {
        var elements = -(t * p.log().clamp_min(-100.0) + (1.0 - t) * (1.0 - p).log().clamp_min(-100.0));
        return mode switch { 0 => elements.mean(), 1 => elements.sum(), _ => elements };
    }

    /// <summary>A loss step's Mode (<see cref="RestOfSurface.Reduction"/>) as torch's reduction; batchmean is computed by the caller.</summary>
    static nn.Reduction TorchReduction(int mode) => mode switch { 0 => nn.Reduction.Mean, 1 => nn.Reduction.Sum, _ => nn.Reduction.None };

    /// <summary>
    /// F.nll_loss with ignore_index, as torch defines it (TorchSharp's nll_loss takes no ignore_index): −x[n, t_n] over the
    /// rows whose target is not the ignored one, an ignored row 0 under 'none', the mean over the rows counted.
    /// </summary>
    static TT NllLossIgnoring(TT x, long[] targets, long ignored, int mode)
    {
        var kept = targets.Select(t => t != ignored).ToArray();
        var index = torch.tensor(targets.Select(t => t == ignored ? 0 : t).ToArray()).unsqueeze(1);
        var picked = -x.gather(1, index).squeeze(1);
        var rows = torch.where(torch.tensor(kept), picked, torch.zeros_like(picked));
        return mode switch { 2 => rows, 1 => rows.sum(), _ => rows.sum() / (double)kept.Count(k => k) };
    }

    /// <summary>torch.squeeze with a tuple of dims: the listed axes of length 1 removed (a repeated axis counts once).</summary>
    static TT Squeezed(TT x, int[] axes)
    {
        int rank = (int)x.dim();
        var drop = axes.Select(a => a < 0 ? a + rank : a).Where(a => x.shape[a] == 1).ToHashSet();
        return x.reshape(Enumerable.Range(0, rank).Where(i => !drop.Contains(i)).Select(i => x.shape[i]).ToArray());
    }

    /// <summary>torch.cholesky_solve with b's batch axes expanded to the factor's (as the case table does).</summary>
    static TT CholeskySolve(TT b, TT factor, bool upper)
    {
        if (factor.dim() > b.dim()) b = b.expand(factor.shape[..^2].Concat(b.shape[^2..]).ToArray());
        return torch.cholesky_solve(b, factor, upper);
    }

    /// <summary>torch's gaussian_nll_loss with reduction 'none', as its Python source computes it (the case table's helper).</summary>
    static TT GaussianNll(TT input, TT target, TT variance, bool full)
    {
        var clamped = variance.clone();
        using (torch.no_grad()) clamped.clamp_(min: 1e-6);
        var loss = 0.5 * (clamped.log() + (input - target).square() / clamped);
        return full ? loss + 0.5 * Math.Log(2 * Math.PI) : loss;
    }

    /// <summary>F.scaled_dot_product_attention: a causal mask as torch's tril of ones (top-left aligned), a scale folded into
    /// the queries as the case table does (TorchSharp's function has no scale argument).</summary>
    static TT Attention(TT q, TT k, TT v, bool causal, double? scale)
    {
        long l = q.shape[^2], s = k.shape[^2];
        if (scale is { } c) q = q * (c * Math.Sqrt(q.shape[^1]));
        return causal ? F.scaled_dot_product_attention(q, k, v, attn_mask: torch.ones(l, s, dtype: ScalarType.Bool).tril())
            : F.scaled_dot_product_attention(q, k, v);
    }

    /// <summary>
    /// The largest |entry| of a normalised group above which the reference scales it (the convention "a scaled
    /// variance"): 2^128 in float64 and 2^16 in float32, the bound of ours (Normalisation's shared core,
    /// layerNormScaleAbove). It was 2^480 (2^50), where torch's squares overflow; but torch's double backward forms
    /// cubes of the centred entries, which overflow from about 2^341: the second order of a group norm over a group
    /// holding 1.5e136 (23.05^100) beside 10.4 and 0 was NaN in torch's every entry of that group, where ours, the
    /// closed form of the scaled group, is a number (`fuzz adversarial 40/265`). Between the two bounds the scaled
    /// reference is the same function, and torch's values agree with it to rounding.
    /// </summary>
    static double ScaledVarianceAbove(ScalarType dtype) => Math.ScaleB(1.0, dtype == ScalarType.Float32 ? 16 : 128);

    /// <summary>
    /// torch's layer norm, except over a row whose largest |entry| s is above <see cref="ScaledVarianceAbove"/> and
    /// finite: there torch's kernel squares entries that overflow (a row near 1e300 gives NaN, where the function is
    /// about ±1), or its double backward cubes them (below), and the reference is torch's layer norm of that row
    /// divided by s, with ε/s², the same function (the convention "a scaled variance": ours, Nn.layerNorm, scales such
    /// rows the same way).
    /// </summary>
    static TT LayerNorm(TT x, double epsilon)
    {
        long n = x.shape[^1];
        double bound = ScaledVarianceAbove(x.dtype);
        if (n == 0 || x.numel() == 0) return F.layer_norm(x, new[] { n }, eps: epsilon);
        var largest = x.detach().abs().amax(new long[] { -1 }, keepdim: true);
        var huge = largest.gt(bound).logical_and(largest.isfinite());
        var offCentre = OffCentre(x.detach(), epsilon).logical_and(huge.logical_not());
        if (!huge.any().item<bool>() && !offCentre.any().item<bool>()) return F.layer_norm(x, new[] { n }, eps: epsilon);
        var rows = x.reshape(-1, n);
        var scales = torch.where(huge, largest, torch.ones_like(largest)).reshape(-1).to(ScalarType.Float64);
        var centred = offCentre.reshape(-1);
        var normalised = Enumerable.Range(0, (int)rows.shape[0]).Select(r =>
        {
            if (centred[r].item<bool>())
            {
                var deviation = rows[r] - rows[r].mean(new long[] { -1 }, keepdim: true);
                return deviation / (deviation.square().mean(new long[] { -1 }, keepdim: true) + epsilon).sqrt();
            }
            double scale = scales[r].item<double>();
            return F.layer_norm(rows[r] / scale, new[] { n }, eps: epsilon / (scale * scale));
        }).ToArray();
        return torch.stack(normalised).reshape(x.shape);
    }

    /// <summary>
    /// Which rows (the last axis, kept as an axis of 1) of finite entries have a mean above 2^20 times √(var + ε) in
    /// magnitude (2^8 in float32), where the reference is the centred composite (x − m)/√(mean((x − m)²) + ε) with torch's
    /// ops (the convention "a centred norm"; the same function, ours, centred about a held entry). torch's fused kernels
    /// work with the uncentred x·r − m·r, r = 1/√(var + ε), and their derivatives lose ε·|m|·r relative to rounding
    /// (`fuzz adversarial 55/33`: cos((layer_norm(x) − x)²) at x = [−1e20, −1e20] with ε = 1e-3, whose Hessian-vector
    /// product is [−4.8815e42, 4.9318e42] in closed form, ours and the composite's, [1.8537e41, −1.3508e41] in torch's).
    /// </summary>
    static TT OffCentre(TT x, double epsilon)
    {
        var mean = x.mean(new long[] { -1 }, keepdim: true);
        var spread = ((x - mean).square().mean(new long[] { -1 }, keepdim: true) + epsilon).sqrt();
        double bound = Math.ScaleB(1.0, x.dtype == ScalarType.Float32 ? 8 : 20);
        return mean.abs().gt(spread * bound).logical_and(x.isfinite().all(-1, keepdim: true));
    }

    /// <summary>
    /// torch's group, instance or batch norm (<paramref name="own"/>; without affine parameters, each is a layer norm over
    /// the groups' entries, <paramref name="grouped"/>'s last axis, with ε = 1e-5), except where a group's largest |entry|
    /// is above <see cref="ScaledVarianceAbove"/> and finite: there torch's kernels square entries that overflow, NaN where
    /// the function is a number (`fuzz adversarial 28/201`: the group norm of a group holding −1e160 and zeros, [−1.414,
    /// 0.707, 0.707] in ours, NaN in torch), and the reference is the scaled layer norm above over each group (the
    /// convention "a scaled variance"; ours, Normalisation's shared core, scales such groups the same way).
    /// The same holds for a group whose mean is far above its spread (the convention "a centred norm", see OffCentre).
    /// </summary>
    static TT Grouped(TT x, TT grouped, Func<TT, TT> back, Func<TT> own)
    {
        if (x.numel() == 0) return own();
        double bound = ScaledVarianceAbove(x.dtype);
        var largest = grouped.detach().abs().amax(new long[] { -1 });
        if (!largest.gt(bound).logical_and(largest.isfinite()).any().item<bool>()
            && !OffCentre(grouped.detach(), 1e-5).any().item<bool>()) return own();
        return back(LayerNorm(grouped, 1e-5));
    }

    /// <summary>
    /// torch's logsumexp, except where every maximum along the axis is finite and one is above 2^20 in magnitude (2^8 in
    /// float32): there the reference is m + log Σ e^(x − m) with m the maximum, held, by torch's ops (the convention "a
    /// shifted logsumexp"; the same function, and torch's own forward). torch's rule e^(x − result) reads the rounded
    /// result, whose error |result|·ε moves every slope by that much relative: over ties at 3.84e8 each weight is ½ to
    /// every digit, and torch's is off by 1.9e-9 relative, 20 times the float64 tolerance (`fuzz adversarial 27/267`: the
    /// logsumexp over axis 0 of 2e8·x with x holding pairs of 1.9155 and 0). Ours, the shifted composite
    /// (Composites.logSumExp), has the slopes e^(x − m)/Σ e^(x − m), exact at ties, and so does this reference.
    /// </summary>
    static TT LogSumExp(TT x, long axis)
    {
        var y = x.logsumexp(axis);
        if (x.numel() == 0 || x.dim() == 0 || x.shape[axis < 0 ? axis + x.dim() : axis] < 2) return y;
        var maximum = x.detach().amax(new[] { axis }, keepdim: true);
        double bound = Math.ScaleB(1.0, x.dtype == ScalarType.Float32 ? 8 : 20);
        if (!maximum.isfinite().all().item<bool>() || !maximum.abs().gt(bound).any().item<bool>()) return y;
        return (x - maximum).exp().sum(axis).log() + maximum.squeeze(axis);
    }

    /// <summary>
    /// torch.logcumsumexp as torch's forward computes it, written as the logsumexp of each prefix along the axis (the
    /// reference above, <see cref="LogSumExp"/>), so its derivatives are those of logsumexp (the convention "logcumsumexp
    /// by prefixes"): torch's own logcumsumexp rule works with the logarithm of the cotangent, so its JVP (its double
    /// backward at a zero cotangent) is NaN everywhere, its second derivatives are NaN where a cotangent entry is not
    /// positive and wrong elsewhere (`fuzz 19/701`: tanh of an einsum over a logcumsumexp, whose second-order entries are
    /// 2.36129e-4, 4.29021e-6, ... by 60-digit central differences, ours to six digits, torch's 5.54e-5, −9.0e-7, ... and
    /// NaN; `fuzz adversarial 28/243`, `19/840`), and a NaN cotangent comes out of its first derivative as 0 (`fuzz 19/263`:
    /// the min of ∞·logcumsumexp(x) over an axis holding +∞ and −∞, whose gradient in the losing entries is 0·∞).
    /// </summary>
    static TT LogCumSumExp(TT x, long axis)
    {
        long a = axis < 0 ? axis + x.dim() : axis;
        if (x.numel() == 0) return x.logcumsumexp(axis);
        // the first prefix is the entry itself, as ours (Indexing.logcumsumexp)
        var prefixes = Enumerable.Range(1, (int)x.shape[a]).Select(n => n == 1 ? x.narrow(a, 0, 1) : LogSumExp(x.narrow(a, 0, n), a).unsqueeze(a)).ToArray();
        return torch.cat(prefixes, a);
    }

    /// <summary>
    /// torch's own function, except where an entry is nonzero and below 1e-3 in magnitude: there the reference is the
    /// Maclaurin polynomial at the entries below 1e-3 (0 included) and torch's function at the rest, by a where whose
    /// untaken side reads a harmless operand (the convention "a Maclaurin sinc or sigmoid"). Torch's derivative rules there
    /// lose digits to cancellation, and below about 1e-8 the whole term: sinc's slope (πx·cos πx − sin πx)/(πx²) has a
    /// relative error 3ε/(πx)² and is exactly 0 below |x| ≈ 1e-8 where the closed form is −π²x/3, and sigmoid's curvature
    /// y(1 − y)(1 − 2y) has 1 − 2y = 0 exactly where σ(x) rounds to ½, where the closed form is −x/8. A weight upstream
    /// multiplies the lost term back into range: Σ sinc(Ax + 1) with A holding 1e-30 and x holding −1e30 puts sinc at −1e-10,
    /// whose gradient in A is 2.5e20 in the closed form and ours, 0 in torch's (`fuzz adversarial 101/154`); σ(Wx) with W
    /// holding 1e300 puts σ at 3.5e-141, whose Hessian entry u·σ″·W² is +∞ (6.3e457) in the closed form and ours, 311 in
    /// torch's (`fuzz all adversarial 98/215`). Below 1e-3 the polynomial's truncation is below 1e-13 relative at the second
    /// order (sinc's next term (πx)⁸/9!), and torch's rounding of the function is within an ulp of it. Sigmoid takes the
    /// identity σ(x) = ½ + ½·tanh(x/2) instead of its polynomial: tanh's slope 1 − tanh² and curvature −2·tanh·(1 − tanh²)
    /// are exact near 0 (tanh(x/2) holds x/2 to an ulp), and each is one factor on the cotangent's path, where the
    /// polynomial's backward summed its terms' paths: under an infinite cotangent, terms of both signs gave ∞ − ∞ = NaN
    /// where the slope is finite and the closed form ±∞ (`fuzz all adversarial 2/1`: σ(x)·[∞, ∞] at x = 4e-4, float32).
    /// </summary>
    static TT NearZero(TT x, Func<TT, TT> series, Func<TT, TT> own)
    {
        var y = own(x);
        if (x.numel() == 0) return y;
        var small = x.detach().abs().lt(1e-3);
        if (!small.logical_and(x.detach().ne(0.0)).any().item<bool>()) return y;
        return torch.where(small, series(torch.where(small, x, torch.zeros_like(x))), own(torch.where(small, torch.ones_like(x), x)));
    }

    /// <summary>sin(u)/u by its Maclaurin polynomial 1 − u²/6 + u⁴/120 − u⁶/5040 (see <see cref="NearZero"/>).</summary>
    static TT SincSeries(TT u)
    {
        var u2 = u * u;
        return 1.0 + u2 * (-1.0 / 6 + u2 * (1.0 / 120 + u2 * (-1.0 / 5040)));
    }

    /// <summary>
    /// Below −1e7, torch's polygamma kernels (and those its backward calls, one order up) sum about −x terms per entry
    /// before their asymptotic series: minutes for one program (`fuzz all adversarial 151/226`: the gradient of trigamma
    /// at −9999999999.5 hung the run inside torch's backward). There the reference is the reflection formula in torch's
    /// ops, ψ⁽ⁿ⁾(x) = −πⁿ⁺¹·Pₙ(cot πx) + (−1)ⁿ·ψ⁽ⁿ⁾(1 − x) with P₀ = c, P₁ = −(1 + c²), P₂ = 2c + 2c³ (the orders the
    /// generator draws), cot πx from x's offset to its nearest integer, which autograd differentiates with torch's
    /// kernels at 1 − x: the same function, as ours computes it there (Special.hurwitzZetaReflected).
    /// </summary>
    static TT PolygammaInReach(TT x, int order)
    {
        // finite, below −1e7 and not an integer (the integers are poles, which torch returns at once)
        static TT OutOfReach(TT x) => x.lt(-1e7).logical_and(x.ne(x.floor())).logical_and(x.isfinite());
        var far = x.numel() == 0 || order > 2 ? null : OutOfReach(x.detach());
        if (far is null || !far.any().item<bool>()) return order == 1 ? Trigamma(x) : x.polygamma(order);
        // each branch reads stand-ins where the other is taken, so neither runs long nor hands a NaN slope to the where
        var near = torch.where(far, torch.ones_like(x), x);
        var reflected = torch.where(far, x, torch.full_like(x, -1e7 - 0.5));
        var c = (Math.PI * (reflected - reflected.detach().round())).tan().reciprocal();
        var p = order switch { 0 => c, 1 => -(1.0 + c * c), _ => 2.0 * c + 2.0 * c * c * c };
        var mirror = (1.0 - reflected).polygamma(order);
        var farValue = -Math.Pow(Math.PI, order + 1) * p + (order % 2 == 0 ? mirror : -mirror);
        return torch.where(far, farValue, order == 1 ? Trigamma(near) : near.polygamma(order));
    }

    /// <summary>
    /// torch's trigamma, except at a finite negative integer, a double pole where ψ′ is +∞ from both sides (the
    /// convention "trigamma's pole"): torch's reflection formula divides π² by sin²(πx) with sin(πx) rounded to about
    /// 1e-16 there, a finite number (6.6e32 near −1), and where |x| is so large that every float is an integer, sin(πx) is
    /// the sine of a huge argument and the result arbitrary (`fuzz adversarial 27/27`: polygamma(1, −1e30) is 16.12 in
    /// torch, in both dtypes). The derivatives there are compared under the convention for the polygamma family at a
    /// negative integer (FuzzProgram.TorchWrong).
    /// </summary>
    static TT Trigamma(TT x)
    {
        var y = x.polygamma(1);
        if (x.numel() == 0) return y;
        var pole = x.detach().lt(0.0).logical_and(x.detach().eq(x.detach().floor())).logical_and(x.detach().isfinite());
        return pole.any().item<bool>() ? torch.where(pole, torch.full_like(y, double.PositiveInfinity), y) : y;
    }

    /// <summary>
    /// A 2-norm (homogeneous of degree 1) over the dims, as torch computes it, except where a group's largest |entry| is
    /// above 2^480 (float64) or 2^50 (float32) and finite: there torch's Frobenius norm squares entries that overflow (the
    /// norm of a column holding −4.98e299 is +∞ in torch, `fuzz adversarial 2/124`), and the reference is torch's norm of
    /// the group divided by s, times s, s = 2^⌊log2 max|x|⌋ held: the same function, exact in the scaling (the convention
    /// "a scaled norm"; ours, Statistics.norm, scales the same way, and as for layer norm above). The same where the
    /// largest |entry| is nonzero and below 2^-480 (float64) or 2^-50 (float32): torch squares entries that underflow, so
    /// its norm of [0, 0, 1e-310] is 0 and its gradient the mask's 0, where the norm is 1e-310 and the gradient [0, 0, 1]
    /// (`fuzz adversarial 25/129`, `26/263`); there s is at least 2^-734 (float64) or 2^-100 (float32), as ours, so 1/s
    /// leaves the tangent t/s finite and the smallest subnormal over s still has a normal square. A norm of another order
    /// p raises its entries to the p-th power: the bounds and the headroom below are then the 2-norm's times 2/p, so that
    /// the powers fit as the squares do (`fuzz fresh adversarial 57/56`: pdist at p = 3 of rows 1e160 apart, whose cubes
    /// overflowed where the squares' headroom 2^400 was kept).
    /// </summary>
    static TT Scaled(TT x, long[] dims, bool keepDim, Func<TT, TT> norm, double order = 2)
    {
        bool single = x.dtype == ScalarType.Float32;
        double ratio = 2 / order;
        double bound = Math.ScaleB(1.0, (int)((single ? 50 : 480) * ratio)), tinyBound = Math.ScaleB(1.0, -(int)((single ? 50 : 480) * ratio));
        double smallestScale = Math.ScaleB(1.0, single ? -100 : -734);
        if (x.numel() == 0 || dims.Length == 0) return norm(x);
        var largest = x.detach().abs().amax(dims, keepdim: true);
        var huge = largest.gt(bound).logical_and(largest.isfinite());
        var tiny = largest.gt(0.0).logical_and(largest.lt(tinyBound));
        var rescaled = huge.logical_or(tiny);
        if (!rescaled.any().item<bool>()) return norm(x);
        // a huge group keeps 2^400 (float64) or 2^40 (float32) of its size, whose squares still fit, so that s is as small as it
        // may be: the chain hands the inner norm the cotangent g·s, which overflowed at g = 8e160, s = 2^531 where the
        // gradient, ±½g for a std of pairs, is in range (`fuzz adversarial 100/266`: std over [0.74, 1e160] read by a matmul
        // with −8.1e160 entries, ±∞ in the reference, ±1.4e160 to ±1.9e161 in ours and the closed form)
        var headroom = torch.where(huge, torch.full_like(largest, Math.Floor((single ? 40.0 : 400.0) * ratio)), torch.zeros_like(largest));
        var exponent = largest.clamp_min(smallestScale).log2().floor() - headroom;
        var scale = torch.where(rescaled, torch.pow(torch.full_like(largest, 2.0), exponent), torch.ones_like(largest));
        var result = norm(x / scale);
        return result * (keepDim ? scale : scale.amax(dims, keepdim: false));
    }

    /// <summary>
    /// x with each slice along the axis whose largest |entry| m is finite and above 2^480 (float64) or 2^50 (float32)
    /// divided by 2^⌊log2 m⌋ (held; exact): the input of torch's normalize and cosine similarity, which are the same
    /// function of the scaled slices (each divides a slice by its norm, and the scaled norm is at least 1, far above ε).
    /// torch's norm squares the entries unscaled, so at 1e300 it is +∞ and x/∞ = 0: its normalize of [1e300, 1e300] is
    /// [0, 0] and its cosine similarity 0, with every derivative through the slice lost (`fuzz adversarial 23/28`: the
    /// gradient of (cos(b, a) + b)² at b = [1e300, 1e300], ±4e299 in ours and the closed form, 526 in torch; `33/94`:
    /// normalize over [−0.05, 1e160, −0.91]). The convention "a scaled norm", as for Norm above; ours, Statistics.norm,
    /// scales the same way. Tiny slices are left alone: below ε both engines divide by ε.
    /// </summary>
    static TT ScaledSlices(TT x, long axis)
    {
        if (x.numel() == 0 || x.dim() == 0) return x;
        double bound = Math.ScaleB(1.0, x.dtype == ScalarType.Float32 ? 50 : 480);
        var largest = x.detach().abs().amax(new[] { axis }, keepdim: true);
        var huge = largest.gt(bound).logical_and(largest.isfinite());
        if (!huge.any().item<bool>()) return x;
        var safe = torch.where(huge, largest, torch.ones_like(largest));
        return x / torch.where(huge, torch.pow(torch.full_like(largest, 2.0), safe.log2().floor()), torch.ones_like(largest));
    }

    /// <summary>torch's cosine similarity of the broadcast operands, each with its huge slices scaled (see
    /// <see cref="ScaledSlices"/>).</summary>
    static TT CosineSimilarity(TT a, TT b, long axis)
    {
        var pair = torch.broadcast_tensors(a, b);
        return F.cosine_similarity(ScaledSlices(pair[0], axis), ScaledSlices(pair[1], axis), axis);
    }

    /// <summary>
    /// torch.linalg.solve, except where the right-hand side holds an infinity (and no NaN, which torch and ours spread to
    /// every unknown of its column) and the matrix is finite: the solution A⁻¹b is
    /// then ±∞ wherever the infinite entry's column of A⁻¹ is nonzero, and torch's LU back substitution subtracts two of
    /// those infinities, ∞ − ∞ = NaN (`fuzz adversarial 22/290`: [∞, 0.275] against [[−0.796, 0.5], [−1, −2]], whose
    /// solution is [−∞, +∞], torch's [NaN, +∞]). There the reference is A⁻¹ times b, by torch's inverse and matmul, each
    /// infinity's terms counted only where its A⁻¹ entry is not 0 (the convention "an infinite right-hand side"; ours
    /// solves by LU).
    /// </summary>
    static TT Solve(TT matrix, TT rhs)
    {
        if (rhs.numel() == 0 || matrix.numel() == 0 || !rhs.isinf().any().item<bool>())
            return torch.linalg.solve(matrix, rhs);
        // torch.linalg.solve's reading of b: a batch of vectors when b has one axis, or A's shape without its last axis
        bool vectors = rhs.dim() == 1 || rhs.dim() == matrix.dim() - 1 && rhs.shape.SequenceEqual(matrix.shape[..^1]);
        var b = vectors ? rhs.unsqueeze(-1) : rhs;
        // per system of the batch: the closed form where its matrix is finite and its right side holds an infinity and no
        // NaN, torch's solve elsewhere (`fuzz wide adversarial 133/19`, float32: a NaN in another system's matrix left torch's
        // NaN as the reference of a system whose solution is [−∞, +∞, −∞]); each branch sees the other's systems replaced by
        // I x = 0, so neither meets the other's infinities or NaN, in its value or its derivatives
        var closed = matrix.isfinite().all(-1).all(-1).unsqueeze(-1).unsqueeze(-1)
            .logical_and(b.isinf().any(-1).any(-1).logical_and(b.isnan().any(-1).any(-1).logical_not()).unsqueeze(-1).unsqueeze(-1));
        if (!closed.any().item<bool>()) return torch.linalg.solve(matrix, rhs);
        var x = closed.all().item<bool>() ? InverseTimes(matrix, b) : Mixed();
        return vectors ? x.squeeze(-1) : x;

        TT Mixed()
        {
            var identity = torch.eye(matrix.shape[^1], dtype: matrix.dtype).expand_as(matrix);
            var solved = torch.linalg.solve(torch.where(closed, identity, matrix), torch.where(closed, torch.zeros_like(b), b));
            return torch.where(closed, InverseTimes(torch.where(closed, matrix, identity), torch.where(closed, b, torch.zeros_like(b))), solved);
        }
    }

    /// <summary>A⁻¹b for a finite A and a right side b (a batch of matrices) holding infinities: see <see cref="Solve"/>.</summary>
    static TT InverseTimes(TT matrix, TT b)
    {
        var inverse = torch.linalg.inv(matrix);
        var infinite = b.isinf();
        var finitePart = inverse.matmul(torch.where(infinite, torch.zeros_like(b), b));
        // each infinity's terms A⁻¹[i, k]·b[k, j], where an entry A⁻¹[i, k] = 0 contributes nothing (b[k] does not reach
        // x[i]; the product would be 0·∞ = NaN: `fuzz adversarial 14/191`, a triangular A); two infinities of opposite
        // signs in one sum are ∞ − ∞ = NaN, as they should be
        var terms = inverse.unsqueeze(-1) * torch.where(infinite, b, torch.zeros_like(b)).unsqueeze(-3);
        return finitePart + torch.where(inverse.unsqueeze(-1).eq(0.0), torch.zeros_like(terms), terms).sum(-2);
    }

    static long[] Pair(long v) => new[] { v, v };

    static long[] Triple(long v) => new[] { v, v, v };

    /// <summary>A feature dropout's draws, one per channel ([N, C] or [C]), with a 1 for each spatial axis of an input of
    /// rank <paramref name="rank"/>, so they broadcast over the channels' entries.</summary>
    static TT PerChannel(Step s, ScalarType dtype, long rank) =>
        Data(s, dtype).reshape(s.DataShape!.Select(d => (long)d).Concat(Enumerable.Repeat(1L, (int)rank - s.DataShape!.Length)).ToArray());

    /// <summary>An RNN cell's pre-activation (x·W_ihᵀ + b_ih) + (h·W_hhᵀ + b_hh) over [x, h, W_ih, W_hh, b_ih?, b_hh?].</summary>
    public static TT RnnPreActivation(TT[] a)
    {
        var input = a[0].matmul(a[2].t());
        var hidden = a[1].matmul(a[3].t());
        return a.Length > 4 ? (input + a[4]) + (hidden + a[5]) : input + hidden;
    }

    /// <summary>Where e^{x²}·erfc(x) keeps its digits: above, erfc underflows (and e^{x²} overflows) in float64 and float32.</summary>
    const double ErfcxAsymptotic = 8;

    /// <summary>Where the asymptotic series' operand is held: 2x² stays finite in float32, and beyond, erfcx is 1/(x√π) to far
    /// below any term it is added to (log Φ's −x²/2), while ∞ would make the series' derivative ∞·0.</summary>
    const double ErfcxHeld = 1e18;

    /// <summary>Where log Φ's right tail is held: Φ(−40) is e^{−800}, 0 in both dtypes, and so are its derivatives beyond;
    /// at +∞ the tail's −x·e^{−x²/2} would be ∞·0.</summary>
    const double LogNdtrHeld = 40;

    /// <summary>
    /// erfcx on torch's side: TorchSharp 0.107's special.erfcx computes erfc (CaseTable.TorchErfcx), so e^{x²}·erfc(x) below
    /// 8 and the asymptotic series 1/(x√π)·Σ (−1)ⁿ(2n − 1)!!/(2x²)ⁿ to n = 20 from 8 on (its next term is below 2e-19 there),
    /// each branch on an operand held inside its range so the other's derivative stays finite.
    /// </summary>
    static TT Erfcx(TT x)
    {
        var below = x.detach() < ErfcxAsymptotic;
        var near = torch.where(below, x, torch.zeros_like(x));
        var far = torch.where(below, torch.full_like(x, ErfcxAsymptotic), torch.where(x.detach() > ErfcxHeld, torch.full_like(x, ErfcxHeld), x));
        var inverse = 1.0 / (2.0 * far * far);
        var term = torch.ones_like(x);
        var sum = torch.ones_like(x);
        for (int n = 1; n <= 20; n++)
        {
            term = -term * (2 * n - 1) * inverse;
            sum = sum + term;
        }
        return torch.where(below, (near * near).exp() * near.erfc(), sum / (far * Math.Sqrt(Math.PI)));
    }

    /// <summary>
    /// log Φ on torch's side (TorchSharp 0.107 has no log_ndtr; log of its ndtr is −∞ where Φ underflows): below 0
    /// log(erfcx(−x/√2)/2) − x²/2, from 0 on log1p(−erfc(x/√2)/2), each on an operand held inside its range (the right one
    /// at most LogNdtrHeld). Beyond LogNdtrHeld the value is 0 and the slope the rounded φ(x)/Φ(x), an exact 0 that a NaN or
    /// infinite cotangent meets as NaN, as torch's own rule g·e^(−(log Φ + x²/2))/√(2π) does; the where's mask discarded
    /// that cotangent (`fuzz recent adversarial 2/218`: log_ndtr at 1e10 under erfinv's NaN cotangents, 0 in the
    /// reference, NaN in ours). x·0 is NaN at +∞, where nan_to_num keeps the value 0 and passes g·0 on.
    /// </summary>
    static TT LogNdtr(TT x)
    {
        var negative = x.detach() < 0;
        var far = x.detach() > LogNdtrHeld;
        var left = torch.where(negative, x, -torch.ones_like(x));
        var right = torch.where(negative, torch.ones_like(x), torch.where(far, torch.full_like(x, LogNdtrHeld), x));
        var leftTail = (0.5 * Erfcx(-left / Math.Sqrt(2))).log() - 0.5 * (left * left);
        var rightTail = (-0.5 * (right / Math.Sqrt(2)).erfc()).log1p();
        return torch.where(negative, leftTail, torch.where(far, (x * 0.0).nan_to_num(0.0, 0.0, 0.0), rightTail));
    }

    /// <summary>A step's constant operand (Data, DataShape) in the run's dtype: labels, class weights, noise.</summary>
    static TT Data(Step s, ScalarType dtype) => torch.tensor(s.Data!, dtype: dtype).reshape(s.DataShape!.Select(d => (long)d).ToArray());

    /// <summary>
    /// soft_margin_loss: torch's own, except where some −y·x passes half of exp's range (354.89, 44.36 in float32, below), and
    /// so where it passes exp's range (709.78, 88.72 in float32), where torch's
    /// log1p(exp(−y·x)) is +∞ and its gradient ∞/∞ = NaN though the loss is −y·x to within ε and its slope −y·σ(−y·x):
    /// there the reference is softplus(−y·x), torch's own, with the reduction (`fuzz newest adversarial 1/11`: the summed
    /// loss of x = −2.6e160 against y = 1, torch's +∞, ours 2.6e160; FuzzNewestTests).
    /// </summary>
    static TT SoftMargin(TT x, TT y, int mode, ScalarType dtype)
    {
        var z = -(y * x);
        // half of exp's range: torch's double backward squares 1 + e^z, ∞ from z = 354.9 on, and its curvature is ∞/∞ = NaN
        // there where the closed form σ(z)σ(−z) is about e^−z (`fuzz fresh adversarial 50/128`: z = 709, 1.2e-308, ours 0)
        double range = (dtype == ScalarType.Float32 ? Math.Log(float.MaxValue) : Math.Log(double.MaxValue)) / 2;
        if (z.numel() == 0 || !z.gt(range).any().item<bool>()) return F.soft_margin_loss(x, y, TorchReduction(mode));
        var loss = F.softplus(z);
        return mode switch { 0 => loss.mean(), 1 => loss.sum(), _ => loss };
    }

    static TT RmsNorm(TT x, int axes, TT? weight, double eps)
    {
        var dims = Enumerable.Range(0, axes).Select(i => (long)(i - axes)).ToArray();
        var y = x * (x.square().mean(dims, keepdim: true) + eps).rsqrt();
        return weight is null ? y : y * weight;
    }

    /// <summary>gumbel_softmax with the noise given (torch's draws its own), as CaseTable.NnExtras writes it: g = −log(−log u),
    /// softmax((logits + g)/τ), and with <paramref name="hard"/> the one-hot of each argmax minus the held soft sample plus
    /// the soft sample (torch's straight-through estimator).</summary>
    static TT Gumbel(TT logits, TT uniform, double tau, bool hard, long dim)
    {
        var soft = ((logits - (-uniform.log()).log()) / tau).softmax(dim);
        if (!hard) return soft;
        var index = soft.max(dim, keepdim: true).indexes;
        return torch.zeros_like(soft).scatter(dim, index, torch.ones_like(soft)) - soft.detach() + soft;
    }

    /// <summary>
    /// torch.quantile and nanquantile, laid out as ours (a leading axis of the q's unless q is a scalar; every axis, or the
    /// one named, reduced and kept as 1 with keepDims). The linear interpolation is torch's own function (over a flattened
    /// input for every axis, with the axis non-negative: TorchSharp 0.107's quantile at dim −1 makes a shape error);
    /// TorchSharp takes no other interpolation, so those are torch's algorithm written with its ops: the ranks q·(n − 1) in
    /// the dtype (n the numbers only for nanquantile, n − 1 where a slice holds a NaN for quantile), rounded as the mode
    /// asks, a stable sort and gathers, and lerp by ½ for 'midpoint'.
    /// </summary>
    static TT Quantile(TT x, Step s, ScalarType dtype)
    {
        bool ignoreNaN = s.Kind == OpKind.NanQuantile, scalar = s.DataShape is null, every = s.Ints.Length == 0;
        long rank = x.dim();
        var flat = every ? x.flatten() : rank == 0 ? x.reshape(1) : x;
        long axis = every || rank == 0 ? 0 : s.Ints[0] < 0 ? s.Ints[0] + rank : s.Ints[0];
        var q = scalar ? torch.tensor(s.Data![0], dtype: dtype) : torch.tensor(s.Data!, dtype: dtype);
        TT result;
        if (s.Mode == 0)
            result = ignoreNaN ? torch.nanquantile(flat, q, axis, false) : torch.quantile(flat, q, axis, false);
        else
        {
            var xt = flat.movedim(new[] { axis }, new[] { -1L });
            long n = xt.shape[^1];
            var sorted = xt.sort(-1, false, stable: true).Values;
            var qs = q.reshape(-1);
            TT ranks;
            if (ignoreNaN)
            {
                var count = xt.isnan().logical_not().sum(new long[] { -1 }, keepdim: true, type: dtype);
                ranks = qs * (count - 1.0);
                ranks = torch.where(ranks.lt(0.0), torch.zeros_like(ranks), ranks);
            }
            else
            {
                ranks = (qs * (double)(n - 1)).expand(xt.shape[..^1].Append(qs.shape[0]).ToArray());
                ranks = torch.where(xt.isnan().any(-1, keepdim: true), torch.full_like(ranks, (double)(n - 1)), ranks);
            }
            ranks = s.Mode switch { 1 => ranks.floor(), 2 => ranks.ceil(), 4 => ranks.round(), _ => ranks };
            var below = sorted.gather(-1, ranks.floor().to_type(ScalarType.Int64));
            var values = s.Mode == 3 ? below.lerp(sorted.gather(-1, ranks.ceil().to_type(ScalarType.Int64)), torch.full_like(ranks, 0.5)) : below;
            result = values.movedim(new[] { -1L }, new[] { 0L });
            if (scalar) result = result.squeeze(0);
        }
        if (!s.Flag) return result;
        if (every) return result.reshape((scalar ? Array.Empty<long>() : new[] { (long)s.Data!.Length }).Concat(Enumerable.Repeat(1L, (int)rank)).ToArray());
        return rank == 0 ? result : result.unsqueeze(scalar ? axis : axis + 1);
    }

    /// <summary>Repeat's loop, unrolled: the bodies of <see cref="FuzzProgram.RepeatBodies"/>.</summary>
    static TT Repeat(TT x, int count, int mode, double c)
    {
        for (int i = 0; i < count; i++) x = mode == 0 ? (x * c).tanh() : x.sin() + c;
        return x;
    }

    /// <summary>
    /// topk as the first k of a stable sort: among equal entries the earlier position comes first, as ours
    /// gives it. torch's own topk leaves the order of ties to its kernel (a documented freedom), so which tied
    /// entry receives the gradient, and which index is returned, is the convention named here, not a check.
    /// </summary>
    static TT TopK(TT x, int k, int axis, bool largest, int mode, ScalarType dtype)
    {
        var (values, indices) = x.sort(axis, largest, stable: true);
        return mode == 0 ? values.narrow(axis, 0, k) : indices.narrow(axis, 0, k).to_type(dtype);
    }

    static TT Literal(double value, ScalarType dtype) => torch.tensor(value, dtype: dtype);

    static long[] AllAxes(TT x) => Enumerable.Range(0, (int)x.dim()).Select(d => (long)d).ToArray();

    static TT Index(Step s) => torch.tensor(s.Data!.Select(v => (long)v).ToArray()).reshape(s.DataShape!.Select(d => (long)d).ToArray());

    /// <summary>F.pad lists (before, after) pairs from the last axis backwards.</summary>
    static long[] PadWidths(int[] p)
    {
        int rank = p.Length / 2;
        var widths = new long[2 * rank];
        for (int axis = 0; axis < rank; axis++)
        {
            widths[2 * (rank - 1 - axis)] = p[axis];
            widths[2 * (rank - 1 - axis) + 1] = p[rank + axis];
        }
        return widths;
    }

    /// <summary>
    /// Python's slice semantics, written out here as the reference: negative bounds count from the end,
    /// then both are clamped to the axis, and a stop before the start gives an empty slice.
    /// </summary>
    static TT Slice(TT x, int axis, int start, int stop, int step)
    {
        int rank = (int)x.dim();
        int a = axis < 0 ? axis + rank : axis;
        long n = x.shape[a];
        long Clamp(long v) => Math.Clamp(v < 0 ? v + n : v, 0, n);
        long begin = Clamp(start), end = Math.Max(Clamp(stop), begin);
        return x.slice(a, begin, end, step);
    }
}
