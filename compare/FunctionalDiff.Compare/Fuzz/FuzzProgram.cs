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
    // activations and special functions: Elu and LeakyRelu take Scalar (α, the slope), Polygamma Ints [n],
    // Clamp Data [min, max] with Mode 0 both bounds, 1 min only, 2 max only
    Gelu, GeluTanh, Silu, Softsign, LogSigmoid, Erfc, Lgamma, Digamma, Polygamma, Elu, LeakyRelu, Clamp,
    // statistics: Var and Std as the reductions (Mode, Flag) with Scalar the correction; Norm with Scalar p; FrobeniusNorm (Flag)
    Var, Std, Norm, FrobeniusNorm,
    // running sums and products (Ints [axis]); Repeat (Ints [count], Mode the loop body, Scalar its literal: see RepeatBody)
    Cumsum, Cumprod, Repeat,
    // indexing: IndexSelect (Ints [axis], Data the index), Embedding (Args [weight], Data the indices), OneHot (Ints [classes]),
    // Sort (Ints [axis], Flag descending, Mode 0 values, 1 indices), TopK (Ints [k, axis], Flag largest, Mode as Sort)
    IndexSelect, Embedding, OneHot, Sort, TopK,
    // triangles and diagonals (Ints [offset], Diagonal [offset, axis1, axis2]); Einsum (Ints [index into EinsumEquations])
    Tril, Triu, Diagonal, DiagEmbed, Einsum,
    // linear algebra; SolveTriangular's Ints are the flags [upper, left, transpose, unitriangular] as 0/1
    Det, LogDet, Inverse, Solve, SolveTriangular, Cholesky, EigvalsH,
    // convolution and pooling, square geometry: Conv1d, Conv2d (Args input, weight, bias?; Ints [stride, padding, dilation, groups]),
    // ConvTranspose2d (Ints [stride, padding, outputPadding, dilation, groups]), MaxPool2d (Ints [kernel, stride or 0 for the
    // default, padding, dilation]), AvgPool2d (Ints [kernel, stride or 0, padding]), AdaptiveAvgPool2d (Ints [height, width]),
    // Unfold (Ints [kernel, dilation, padding, stride]), Fold (Ints [height, width, kernel, dilation, padding, stride])
    Conv1d, Conv2d, ConvTranspose2d, MaxPool2d, AvgPool2d, AdaptiveAvgPool2d, Unfold, Fold,
    // drawn since branch edges7 (the full surface; `--ops wide` draws the surface before them): LogAddExp, Hypot and Kron
    // (binary); Sinc, Erfinv, Frac, Selu, Tanhshrink; Celu (Scalar α), Softshrink and Hardshrink (Scalar λ); Softmin, Glu,
    // LogCumSumExp (Ints [axis]); Cummax (Ints [axis], Mode 0 values, 1 indices); Nansum (as the reductions); Diag (Ints
    // [offset]); Tile (Ints the repeats); GroupNorm (Ints [groups]), InstanceNorm, BatchNorm (batch statistics, no affine
    // parameters); Interpolate (Ints the output sizes, Mode 0 nearest, 1 linear, Flag align corners); Normalize (Ints
    // [axis], Scalar p); CosineSimilarity (Ints [axis])
    LogAddExp, Hypot, Kron, Sinc, Erfinv, Frac, Selu, Tanhshrink, Celu, Softshrink, Hardshrink, Softmin, Glu, LogCumSumExp,
    Cummax, Nansum, Diag, Tile, GroupNorm, InstanceNorm, BatchNorm, Interpolate, Normalize, CosineSimilarity,
    // a constant tensor (Data, DataShape)
    Const,
    // drawn only by `--ops all` (branch surface10), after Const so the ranges above, and the programs of `--ops full`, stay
    // as they were: unary Acos to Mish; Hardtanh and Threshold (Data [min, max] / [threshold, value]); Logit (Mode 1: Scalar
    // eps); Prelu (Args [x, weight]); binary Xlogy, Fmod, Remainder, FloorDivide, Heaviside; Lerp (Args [start, end, weight]);
    // AddCMul, AddCDiv (Args [self, t1, t2], Scalar value); Cdist, Dist (Scalar p), PairwiseDistance (Scalar p, Flag keepDims);
    // Cross (Ints [axis]), Dot, Outer, Trace, MatrixPower (Ints [n]), CholeskySolve (Args [b, factor], Flag upper); Median;
    // Nanmean (as the reductions); CountNonzero and ArgMin (Mode 0 all, 1 Ints [axis] with Flag keepDims); Amax, Amin (Mode 1
    // axis, 2 axes, Flag keepDims); Movedim (Ints [source, destination]), Narrow (Ints [axis, start, length]), Squeeze (Mode 0
    // all, 1 Ints [axis], 2 Ints the axes), Unsqueeze (Ints [axis]), Flatten (Ints [start, end]), Unflatten (Ints [axis,
    // sizes...]), Expand (Ints the sizes), MaskedFill (Args [x, mask], Scalar value), RepeatInterleave (Ints [repeats, axis],
    // Mode 0 flattened); NllLoss (Ints the targets, Flag with Scalar the ignored index), Huber, SmoothL1 (Scalar delta, beta),
    // KlDiv (Flag logTarget), GaussianNllLoss (Args [input, target, variance], Flag full), BinaryCrossEntropy, each with Mode
    // the reduction (see RestOfSurface.Reduction); PixelShuffle, PixelUnshuffle (Ints [factor]); ScaledDotProductAttention
    // (Args [q, k, v], Flag causal, Mode 1: Scalar the scale); IndexAdd (Args [x, source], Ints [axis], Data the index)
    Acos, Asin, Atan, Acosh, Asinh, Atanh, Sinh, Cosh, Trunc, Hardsigmoid, Hardswish, Mish, Hardtanh, Threshold, Logit, Prelu,
    Xlogy, Fmod, Remainder, FloorDivide, Heaviside, Lerp, AddCMul, AddCDiv, Cdist, Dist, PairwiseDistance, Cross, Dot, Outer,
    Trace, MatrixPower, CholeskySolve, Median, Nanmean, CountNonzero, ArgMin, Amax, Amin, Movedim, Narrow, Squeeze, Unsqueeze,
    Flatten, Unflatten, Expand, MaskedFill, RepeatInterleave, NllLoss, Huber, SmoothL1, KlDiv, GaussianNllLoss,
    BinaryCrossEntropy, PixelShuffle, PixelUnshuffle, ScaledDotProductAttention, IndexAdd,
    // drawn only by `--ops latest` (branch fuzzops), after IndexAdd so the programs of `--ops all` stay as they were: Svd
    // (Mode 0 S, 1 U diag(Data) Vh, 2 U∘U, 3 Vh∘Vh: functions that do not depend on the singular vectors' signs), SvdVals,
    // Pinv, Lstsq (Args [A, b]), MatrixNorm (Scalar the order, Mode 1 the nuclear norm, Flag keepDims); KthValue (Ints
    // [k, axis], Flag keepDims, Mode 0 values, 1 indices); Conv3d (Args input, weight, bias?; Ints [stride, padding,
    // dilation, groups]); GridSample (Args [input, grid], Mode 0 bilinear, 1 nearest, Ints [padding: 0 zeros, 1 border,
    // 2 reflection], Flag align corners); AffineGrid (Ints the size [N, C, H, W], Flag align corners); CtcLoss of the
    // log-softmax of its operand over the last axis (Ints [blank, N, input lengths..., target lengths...], Data the padded
    // targets [N, S], Mode the reduction, Flag zero infinity); SegmentSoftmax (Ints [segments, axis], Data the ids)
    Svd, SvdVals, Pinv, Lstsq, MatrixNorm, KthValue, Conv3d, GridSample, AffineGrid, CtcLoss, SegmentSoftmax,
    // drawn only by `--ops newest` (branch fuzznew), after SegmentSoftmax so the programs of `--ops latest` stay as they were:
    // MaxPool1d, MaxPool3d and MaxPool2dWith (Ints [kernel, stride or 0 for the kernel, padding, dilation], Flag ceil mode);
    // AvgPool1d (Ints [kernel, stride or 0, padding]), AvgPool2dWith and AvgPool3d (Ints [kernel, stride or 0, padding,
    // divisor override or 0]), each with Flag ceil mode and Mode 1 count_include_pad false; AdaptiveAvgPool1d and
    // AdaptiveMaxPool1d (Ints [length]), AdaptiveMaxPool2d (Ints [height, width]); ConvTranspose1d (Args input, weight, bias?;
    // Ints [stride, padding, outputPadding, dilation, groups]); Quantile, NanQuantile (Data the q's, DataShape null for a
    // scalar q, Ints [] for every axis or [axis], Flag keepDims, Mode the interpolation: see QuantileInterpolation);
    // SoftMarginLoss and HingeEmbeddingLoss (Data the ±1 targets, Scalar the margin); MultiLabelSoftMarginLoss (Args
    // [input, weight?], Data the 0/1 targets); MultiMarginLoss (Ints the targets, Flag p = 2, Scalar the margin, Data the
    // class weights or null), each with Mode the reduction; RmsNorm (Args [x, weight?], Ints the normalised shape, Mode 1:
    // Scalar eps); LocalResponseNorm (Ints [size], Data [alpha, beta, k]); Bilinear (Args [x1, x2, weight, bias?]);
    // GumbelSoftmax (Ints [axis], Data the uniform noise, Scalar tau, Flag hard)
    MaxPool1d, AvgPool1d, AdaptiveAvgPool1d, AdaptiveMaxPool1d, AdaptiveMaxPool2d, MaxPool3d, AvgPool3d, MaxPool2dWith, AvgPool2dWith,
    ConvTranspose1d, Quantile, NanQuantile, SoftMarginLoss, HingeEmbeddingLoss, MultiLabelSoftMarginLoss, MultiMarginLoss, RmsNorm,
    LocalResponseNorm, Bilinear, GumbelSoftmax,
    // drawn only by `--ops fresh` (branch edges), after GumbelSoftmax so the programs of `--ops newest` stay as they were:
    // unary I0 to Ndtri, Entr, Deg2Rad and Rad2Deg; binary Xlog1py, LogAddExp2 and Copysign; Multigammaln (Ints [p]);
    // MatrixExp; Diff (Ints [n, axis]); Trapezoid and CumulativeTrapezoid (Ints [axis], Scalar dx); Cov (Ints [correction]),
    // Corrcoef; Vander (Ints [N or 0 for the length], Flag increasing); Pdist (Scalar p); Tensordot (Args [a, b], Ints
    // [dims]); Dropout and AlphaDropout (Scalar p, Data the uniform noise of the input's shape); FeatureDropout (Ints
    // [spatial axes: 1, 2 or 3], Scalar p, Data one draw per channel); FeatureAlphaDropout (Scalar p, Data [N, C] draws);
    // RReluTraining (Mode the bounds in FuzzProgram.RReluBounds, Data the noise); ConvTranspose3d (Args input, weight,
    // bias?; Ints [stride, padding, outputPadding, dilation, groups]); RnnCell (Args [x, h, wIh, wHh, bIh?, bHh?], Mode 1
    // relu)
    I0, I0e, I1, I1e, Erfcx, Ndtr, LogNdtr, Ndtri, Entr, Xlog1py, Multigammaln, MatrixExp, Diff, Trapezoid, CumulativeTrapezoid,
    Cov, Corrcoef, LogAddExp2, Copysign, Deg2Rad, Rad2Deg, Vander, Pdist, Tensordot, Dropout, FeatureDropout, AlphaDropout,
    FeatureAlphaDropout, RReluTraining, ConvTranspose3d, RnnCell,
    // drawn only by `--ops recent` (branch fuzzops), after RnnCell so the programs of `--ops fresh` stay as they were: AtLeast
    // (Ints [n]); Hstack, Vstack, Dstack, ColumnStack (Args the tensors); TensorSplit (Ints [axis, piece, sections] with Mode
    // 0, [axis, piece, indices...] with Mode 1: the piece taken); Hsplit, Vsplit, Dsplit (Ints [piece, sections] or [piece,
    // indices...], Mode as TensorSplit); Fliplr, Flipud; Rot90 (Ints [k, axis1, axis2]); TakeAlongDim (Data the indices, Ints
    // [axis] or [] flattened); Diagflat (Ints [offset]); SliceScatter (Args [x, src], Ints [axis, start, end, step]);
    // SelectScatter (Args [x, src], Ints [axis, index]); DiagonalScatter (Args [x, src], Ints [offset, axis1, axis2]);
    // IndexFill (Ints [axis, indices...], Scalar the value); Fmax, Fmin; IsClose (Args [a, b], Data [rtol, atol], Flag equal
    // NaN) and IsIn (Data the test elements, Flag invert), masks; StdMean, VarMean (Ints the axes or [] for all, Scalar the
    // correction, Flag keepDims, Mode 0 the std or var, 1 the mean); Addmm, Addmv, Addr, Baddbmm, Addbmm (Args [input, a, b],
    // Data [β, α]); MultiDot (Args the matrices); Vecdot (Args [a, b], Ints [axis]); CholeskyInverse (Flag upper);
    // AdaptiveAvgPool3d, AdaptiveMaxPool3d (Ints [depth, height, width]); LpPool1d (Scalar p, Ints [kernel, stride], Flag
    // ceil mode), LpPool2d (Scalar p, Ints [kh, kw, sh, sw], Flag ceil mode); Softmax2d; Cond (Scalar p with Mode 0, Mode 1
    // "fro", 2 "nuc"); MatrixRank (Scalar atol, Flag hermitian: a count without derivative); VectorNorm (Scalar ord, Ints the
    // axes or [] for all, Flag keepDims); the Bessel functions J0 to the scaled K1 (unary)
    AtLeast, Hstack, Vstack, Dstack, ColumnStack, TensorSplit, Hsplit, Vsplit, Dsplit, Fliplr, Flipud, Rot90, TakeAlongDim,
    Diagflat, SliceScatter, SelectScatter, DiagonalScatter, IndexFill, Fmax, Fmin, IsClose, IsIn, StdMean, VarMean, Addmm, Addmv,
    Addr, Baddbmm, Addbmm, MultiDot, Vecdot, CholeskyInverse, AdaptiveAvgPool3d, AdaptiveMaxPool3d, LpPool1d, LpPool2d, Softmax2d,
    Cond, MatrixRank, VectorNorm, BesselJ0, BesselJ1, BesselY0, BesselY1, ModifiedBesselK0, ModifiedBesselK1,
    ScaledModifiedBesselK0, ScaledModifiedBesselK1,
    // drawn only by `--ops special` (branch fuzzspecial), after ScaledModifiedBesselK1 so the programs of `--ops recent` stay as
    // they were: Gammainc, Gammaincc and Zeta (Args [x], the second operand; Data the first, a or s, a constant of DataShape,
    // which broadcasts with x: torch differentiates neither engine's first operand)
    Gammainc, Gammaincc, Zeta,
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
public sealed partial record FuzzProgram(string Name, int Seed, int[][] InputShapes, double[][] InputValues, Step[] Steps, int Output)
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
    /// Hessian a NaN may sit at the transposed position (see <see cref="Suite.Tolerance.HessianNaNMayTranspose"/>), and one
    /// of ours may sit beside a non-finite entry of its row (see <see cref="Suite.Tolerance.HessianNaNFromZeroTangent"/>);
    /// likewise an overflowed entry of the Hessian may sit at the transposed position, its finite partner swapped with it
    /// (see <see cref="Suite.Tolerance.HessianOverflowMayTranspose"/>).
    /// </summary>
    public Suite.Case ToCase()
    {
        var (singular, magnitude, torchNaN, torchWrong, torchNaNFloat32, torchWrongFloat32) = Forward();
        var torchNaNInFloat32 = torchNaN.Concat(torchNaNFloat32).ToList();
        // libtorch cannot differentiate grid_sample's or ctc_loss's backward (it aborts the process): first order only, the
        // JVP by reverse passes (GridSampleTorchTests and CtcLossTorchTests hold the second order to central differences).
        // Those passes' rows hold exact zeros where a step reads nothing (a convolution's taps over its padding), where
        // forward mode, ours and torch's double-backward trick alike, carries zero tangents that meet an infinite factor as
        // 0·∞ = NaN (`fuzz latest adversarial 3/280`, float32: conv2d(x, w) with +∞ weights and every tap in the padding,
        // JVP NaN in ours, finite by torch's rows), so in a program that holds an infinity or a NaN the JVP is not compared
        var live = Live();
        // multi_margin_loss likewise (CaseTable.NnExtras: asking for its double backward aborts the process)
        bool firstOrderOnly = Steps.Where((s, i) => live[i] && s.Kind is OpKind.GridSample or OpKind.CtcLoss or OpKind.MultiMarginLoss).Any();
        if (firstOrderOnly) torchWrong.Add(("first order only: libtorch has no double backward of grid_sample, ctc_loss or multi_margin_loss", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
        if (firstOrderOnly && singular) torchWrong.Add(("no JVP: torch's by reverse passes, whose exact zeros a non-finite program's forward mode does not have", new[] { Suite.Check.Jvp }));
        // the same where a finite program has an infinite slope at an exact value: kl_div's target term at a target 0 has the
        // slope −∞, and a relu of negative entries before it hands it the tangent 0, which forward mode (ours, as torch's
        // double-backward trick) meets as 0·(−∞) = NaN, where torch's rows, by reverse passes, hold relu's masked 0 (`fuzz
        // fresh 1/162`: kl_div(x₂, relu(x₃)) at x₃ < 0 beside a multi_margin_loss, JVP NaN in ours, the rows' finite numbers)
        else if (firstOrderOnly && FiniteProgramInfiniteSlope(live)) torchWrong.Add(("no JVP: torch's by reverse passes, whose exact zeros forward mode meets at an infinite slope as 0·∞", new[] { Suite.Check.Jvp }));
        double scale = Math.Max(1, magnitude);
        return new(Name, InputShapes.Select(s => new Suite.InputSpec(s)).ToArray(), xs => OurInterpreter.Run(this, xs), ts => TorchInterpreter.Run(this, ts, RoundingDraw))
        {
            Seed = Seed,
            Fixed = InputValues,
            Float64 = (Steps.Any(s => s.Kind == OpKind.CastRoundTrip) ? CastTolerance
                    : Steps.Any(s => s.Kind is OpKind.Lgamma or OpKind.Digamma or OpKind.Polygamma or OpKind.Multigammaln) ? TrigammaTolerance
                    : Steps.Any(s => s.Kind is OpKind.BesselJ0 or OpKind.BesselJ1 or OpKind.BesselY0 or OpKind.BesselY1) ? BesselJYTolerance : Suite.Tolerance.Float64) with
                { ScaleAtLeast = scale, HessianNaNMayTranspose = true, HessianOverflowMayTranspose = true, HessianNaNFromZeroTangent = true, HessianTorchNaNFromZeroCotangent = true, TorchDerivativeNaNIsConvention = torchNaN.Count > 0 },
            Float32 = Suite.Tolerance.Float32 with { ScaleAtLeast = scale, HessianNaNMayTranspose = true, HessianOverflowMayTranspose = true, HessianNaNFromZeroTangent = true, HessianTorchNaNFromZeroCotangent = true, TorchDerivativeNaNIsConvention = torchNaNInFloat32.Count > 0 },
            Why = (singular ? "fuzzed program across a domain edge" : "fuzzed program") +
                  (torchNaN.Count > 0 ? "; torch's derivative may be NaN where ours is a number: " + string.Join(", ", torchNaN) : "") +
                  (torchNaNFloat32.Count > 0 ? "; in float32, torch's derivative may be NaN where ours is a number: " + string.Join(", ", torchNaNFloat32) : "") +
                  (torchWrong.Count > 0 ? "; not compared where torch's own result is wrong, or ours has a known limitation: " + string.Join(", ", torchWrong.Select(w => w.Why)) : "") +
                  (torchWrongFloat32.Count > 0 ? "; in float32 only, not compared: " + string.Join(", ", torchWrongFloat32.Select(w => w.Why)) : ""),
            Skipped = torchWrong.SelectMany(w => w.Checks).Distinct().ToArray(),
            SkippedFloat32 = torchWrongFloat32.SelectMany(w => w.Checks).Distinct().ToArray(),
            TorchFirstOrderOnly = firstOrderOnly,
        };
    }

    /// <summary>
    /// The table's float64 tolerance for the polygamma family: torch's CPU trigamma and higher polygammas end in a
    /// short asymptotic series that differs from ours (which agrees with closed forms to 1e-14 in the core tests)
    /// by up to about 5e-10 relative (against mpmath), and every derivative of lgamma and digamma passes through them;
    /// the floor is as loose, since terms that pass through trigamma cancel (`fuzz 1/217`: an entry of 6e-4 made
    /// of terms of size 26, 3.6e-10 apart). A program amplifies that error as it amplifies any other: in `fuzz 2/912`
    /// (polygamma(1) through cos and a matrix product, at x = 0.31, 1.32, 0.77) our ψ⁽¹⁾ to ψ⁽⁴⁾ agree with mpmath to 1 ulp
    /// while the second-order check differs from torch's by 9.3e-8 relative, so the bound is 1e-6. Multigammaln is a sum
    /// of lgammas, so its second order is a sum of trigammas (`fuzz fresh 1/137`: 3.5e-10 relative apart).
    /// </summary>
    static readonly Suite.Tolerance TrigammaTolerance = new(1e-6, 1e-6);

    /// <summary>The table's tolerance for a float64 value that passes through float32 on the way.</summary>
    internal static readonly Suite.Tolerance CastTolerance = new(1e-6, 1e-7);

    /// <summary>
    /// From a float64 TorchSharp forward run: whether the program crosses a domain edge (some value is infinite
    /// or NaN, or an atan2 meets the origin), the largest finite |value| it computes, and the steps at which
    /// torch's derivative rule is NaN where the derivative's closed form is a number (see <see cref="TorchNaNEdge"/>),
    /// and the checks torch gets wrong at some step, with why (see <see cref="TorchWrong"/>).
    /// </summary>
    public (bool Singular, double Magnitude, List<string> TorchNaN, List<(string Why, Suite.Check[] Checks)> TorchWrong, List<string> TorchNaNFloat32,
        List<(string Why, Suite.Check[] Checks)> TorchWrongFloat32) Forward()
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
            var live = Live();
            // the recent ops that are an older op under another name (vector_norm, std_mean, var_mean) meet its conventions
            var merged = Merged().Select(s => s.Args.Length == 0 ? s : Canonical(s, (int)values[s.Args[0]].dim())).ToArray();
            var torchNaN = Steps.Select((s, i) => live[i] ? TorchNaNEdge(merged[i], s.Args.Select(a => values[a]).ToArray()) : null)
                .OfType<string>().Distinct().ToList();
            var torchWrong = Steps.Select((s, i) => live[i] ? TorchWrong(merged[i], s.Args.Select(a => values[a]).ToArray()) ?? OurLimitation(merged[i], s.Args.Select(a => values[a]).ToArray()) : null)
                .OfType<(string Why, Suite.Check[] Checks)>().GroupBy(w => w.Why).Select(g => g.First()).ToList();
            if (SliceDropsBesideInfiniteSlope(live, values)) torchNaN.Add("Slice that drops entries in a program with an infinite slope");
            // an output with no entries: every derivative is an empty sum, exactly 0 (ours: no cotangent reaches any step);
            // torch hands its rules tensors of zeros, which a step's infinite or NaN factor turns into 0·∞ = NaN (`fuzz all
            // adversarial 128/152`: x₁ / kl_div(+∞, x₀) concatenated and sliced to nothing; the divisor is −∞ and kl_div's
            // slope in its target exp(t)·(t − input + 1) is −∞, so torch's gradient in x₀ is NaN; FuzzSeeds127To134Tests)
            if (values[Output].numel() == 0 && values.Any(t => t.numel() > 0 && !t.isfinite().all().item<bool>()))
                torchNaN.Add("An output with no entries in a program holding an infinity or a NaN (torch's zero cotangent meets it as 0·∞)");
            if (NllLossBesideInfiniteSlope(live, values)) torchNaN.Add("NllLoss over entries computed through an infinite slope");
            // a slice that drops a NaN entry: the output does not depend on it, so its derivative there is 0 (ours: nothing flows
            // back through it); torch's slice rule pads the cotangent with zeros, which the NaN slope of the step that made
            // the entry turns into 0·NaN = NaN, at first order too (`fuzz all adversarial 135/68`: Σ gelu_tanh(x)[1:] at
            // x = [NaN, 0], gradient [0, 0] in ours, [NaN, 0] in torch's; FuzzSeeds135To140Tests)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Slice
                    && values[s.Args[0]].isnan().sum().item<long>() > values[InputCount + i].isnan().sum().item<long>()).Any())
                torchNaN.Add("Slice that drops a NaN entry (torch's zero padding meets the NaN slope before it)");
            // a matmul over an empty inner axis is the constant 0 of its shape: its tangent is 0, a symbolic zero in ours, where
            // torch's forward mode forms a tensor of zeros that an infinite factor after it meets as 0·∞ = NaN (`fuzz all
            // adversarial 135/70`, float32: conv2d(x₀ @ x₁, W, b) with x₀ of shape [3, 0] and W holding +∞, JVP along b's
            // tangent t: t in ours, NaN in torch's; FuzzSeeds135To140Tests)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.MatMul && values[s.Args[0]].numel() == 0
                    && values[InputCount + i].numel() > 0).Any()
                && values.Any(t => t.numel() > 0 && t.isinf().any().item<bool>()))
                torchNaN.Add("A matmul over an empty inner axis (the constant 0) in a program holding an infinity");

            if (DetBesideInfiniteSlope(live, values)) torchNaN.Add("Det of a matrix computed through an infinite slope");
            if (TriangleBeforeInfiniteSlope(live, values)) torchNaN.Add("Tril or Triu before an infinite slope");
            if (TriangleDropsBesideInfiniteSlope(live, values)) torchNaN.Add("Tril or Triu that zeroes entries computed through an infinite slope");
            if (MaskedEntriesBesideInfiniteSlope(live, values)) torchNaN.Add("Clamp or Where that masks entries computed through an infinite slope");
            // cumprod is multilinear: its curvature ∂²cₖ/∂xᵢ² is exactly 0, ours a symbolic zero that nothing multiplies;
            // torch's double backward multiplies those zeros by the cotangent, 0·∞ = NaN where an infinite weight after it
            // made the cotangent infinite, where ours keeps the mixed terms' ±∞ (`fuzz adversarial 116/129`: a linear layer
            // with a +∞ weight over cumprod([2, −2]) concatenated, second order −∞ in ours, NaN in torch's; `fuzz wide
            // adversarial 111/169`, a transposed convolution the same way; FuzzSeeds111To120Tests)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Cumprod).Any()
                && values.Any(t => t.numel() > 0 && t.isinf().any().item<bool>()))
                torchNaN.Add("Cumprod in a program holding an infinity (torch's double backward meets its zero curvature as 0·∞)");
            // torch's reverse rule for cumprod divides Σ g·y by the entry, so where the cotangent g times a running product y
            // overflows, its gradient is ±∞ though the product of the other entries times g is finite (`fuzz newest adversarial
            // 43/58`: cumprod of [1.039, 1e30] into a transposed convolution with 1e300 weights, ∂/∂x₁ = g₁·x₀ = −9.2e299 in
            // ours and the closed form, torch's (g₁·y₁)/x₁ = −∞; FuzzSeeds41To45Tests). The cotangent is not known from the
            // values, so the bound is the program's largest value: where it times a running product overflows, the derivative
            // checks are skipped.
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Cumprod && values[InputCount + i].numel() > 0
                    && values[InputCount + i].abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>() * magnitude >= double.MaxValue).Any())
                torchWrong.Add(("Cumprod whose running product times the program's largest value overflows (torch's rule forms g·y before it divides)",
                    new[] { Suite.Check.Vjp, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }));
            // torch's bilinear backward contracts the cotangent with the weight before the other operand, so where g·W overflows
            // its gradient is ±∞ though Σₖ gₖ·(Wₖ·x₂) is finite, ours (`fuzz newest adversarial 43/70`: weights −1e300 over inputs
            // 5e-324 under a cotangent of about 1e20, the gradient 1.3e-4 and −1.3e23 in ours and a reference loop, +∞ in torch's;
            // FuzzOpenTests). Named where torch's own cotangent into the layer times its largest weight overflows.
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Bilinear && values[s.Args[2]].numel() > 0
                    && CotangentInto(i, values) is { } g && g.numel() > 0
                    && g.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>() * values[s.Args[2]].abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>() >= double.MaxValue).Any())
                torchWrong.Add(("Bilinear whose cotangent times its largest weight overflows (torch's backward forms g·W first)",
                    new[] { Suite.Check.Vjp, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }));
            // the reference's erfcx below 8 is the composite e^{x²}·erfc(x) (TorchSharp 0.107's special.erfcx computes erfc),
            // whose product rule splits an infinite cotangent into two terms of opposite signs, ∞ − ∞ = NaN, where torch's own
            // rule, and ours, is one factor g·(2x·erfcx(x) − 2/√π), ±∞ (`fuzz fresh 52/14`: erfcx(1.416) divided by [2, −0.67, 0],
            // gradient −∞ in ours, NaN in the reference's; FuzzOpenTests). Named where torch's own cotangent into it is infinite.
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Erfcx && values[s.Args[0]].numel() > 0
                    && values[s.Args[0]].lt(8.0).any().item<bool>() && CotangentInto(i, values) is { } g && g.numel() > 0 && g.isinf().any().item<bool>()).Any())
                torchWrong.Add(("Erfcx under an infinite cotangent (the reference's composite meets it as ∞ − ∞)",
                    new[] { Suite.Check.Vjp, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }));
            // silu″(p)·ṗ is one product, ±∞ where the tangent ṗ is infinite (ours); torch's double backward of silu is NaN
            // there, while the same program without the silu gives torch's ±∞ (`fuzz adversarial 129/215`: silu(prod(erfc(√x)))
            // over a row [0, 0, 0.0398, 0], whose second order at the nonzero entry is −∞ in ours and in the closed form, the
            // mixed partials through √'s infinite slope at the zeros all of one sign there; torch's NaN; FuzzSeeds135To140Tests)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Silu && UpstreamInfiniteSlope(s.Args[0], values)).Any())
                torchNaN.Add("Silu of a value computed through an infinite slope (torch's double backward is NaN where silu″·ṗ is ±∞)");
            // rsqrt of a square that overflows at a finite w (or of a value computed from it, as w² + c) is 0 there, and the
            // second derivative of 1/|w|, 2/|w|³, and every term of the chain through it underflow to 0 there (ours, one factor
            // at a time); torch's double backward of its rule −½g·y³ multiplies the cotangent of y³ by the huge g (here 1 − w)
            // before pow's 3y² = 0 meets them, ∞·0 = NaN (`fuzz all adversarial 129/182`: lerp(rsqrt(w²), e, w) at w = −1e300,
            // reverse over reverse along (0.9, 0.8): 0.8 in ours and the closed form, NaN in torch's, and the closed form with
            // 1/|w| in place of rsqrt(w²); FuzzSeeds139To141Tests)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Rsqrt && values[s.Args[0]].numel() > 0
                    && values[s.Args[0]].eq(double.PositiveInfinity).any().item<bool>() && UpstreamSquareOverflowsAtFinite(s.Args[0], values)).Any())
                torchNaN.Add("Rsqrt of a square that overflows at a finite operand (torch's double backward meets y³ = 0 after its huge factors)");
            // a sum or mean over no entries is a constant (0, or NaN for the mean), so its tangent is 0, ours a symbolic zero; torch's
            // forward mode forms a tensor of zeros that an infinite or NaN slope after it meets as 0·∞ or 0·NaN = NaN (`fuzz wide
            // 140/52`: √(Σ∅ − 0.1), a constant NaN of no numbers, JVP 0 in ours, NaN in torch's; FuzzSeeds139To141Tests)
            if (Steps.Where((s, i) => live[i] && s.Kind is OpKind.Sum or OpKind.Mean && values[s.Args[0]].numel() == 0
                    && values[InputCount + i].numel() > 0
                    && Steps.Where((r, k) => live[k] && (InfiniteSlope(r, values) || (values[InputCount + k].numel() > 0 && values[InputCount + k].isnan().any().item<bool>()))
                        && r.Args.Any(arg => AnyUpstream(arg, j => j == i))).Any()).Any())
                torchNaN.Add("A sum or mean over no entries before an infinite or NaN slope (torch's zero tangent meets it)");
            // a step with no entries from an operand with entries (cumulative_trapezoid or diff over an axis too short, topk with
            // k = 0) reads nothing, so every derivative into its operand is 0, ours (no cotangent reaches it); torch's rule hands
            // the operand a tensor of zeros, which an infinite or NaN slope before it meets as 0·∞ = NaN (`fuzz fresh 2/181`:
            // cumulative_trapezoid over an axis of length 1 after tanh of NaN entries; `3/282`: topk(entr(x), 0) at negative x,
            // where entr is −∞ and its slope NaN; FuzzFreshTests)
            if (Steps.Where((s, i) => live[i] && values[InputCount + i].numel() == 0 && s.Args.Any(arg => values[arg].numel() > 0)).Any()
                && values.Any(t => t.numel() > 0 && !t.isfinite().all().item<bool>()))
                torchNaN.Add("A step with no entries from an operand with entries, in a program holding an infinity or a NaN (torch's zero cotangent meets it as 0·∞)");
            // copysign's slope in its sign source is 0 everywhere (the sign is piecewise constant), ours a symbolic zero; torch's
            // rule hands that source a tensor of zeros, which an infinite or NaN slope before it meets as 0·∞ = NaN (`fuzz fresh
            // adversarial 1/262`: copysign(½, attention(q, q, v)) with v holding +∞, gradient 0 in ours, NaN in torch's at q)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Copysign).Any()
                && values.Any(t => t.numel() > 0 && !t.isfinite().all().item<bool>()))
                torchNaN.Add("Copysign's sign source in a program holding an infinity or a NaN (torch's zero slope meets it as 0·∞)");
            if (LogitWithEpsFlatUnderInfiniteCotangent(live, values))
                torchNaN.Add("Logit with eps at an entry outside [eps, 1 − eps] under an infinite cotangent (torch's untaken branch meets it as 0·∞)");
            if (ProdOfZerosBesideInfiniteSlope(live, values))
                torchWrong.Add(("Prod over more than one zero computed through an infinite slope",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            // sinc's slope at 0 is 0: ours multiplies a NaN cotangent by it (0·NaN = NaN, as IEEE asks of every rule),
            // torch's masked rule writes 0 whatever the cotangent (`fuzz 19/1313`: Σ logaddexp(x₁, sinc x₀) at x₀ = 0 with
            // x₁ holding NaN, whose gradient in x₀ is NaN in ours, 0 in torch); the same under an infinite cotangent, ∞·0 = NaN
            // in ours, where torch's 0 is the limit of c·0 (`fuzz adversarial 110/88`: sinc(x)·[709, +∞] at x = −0), and where
            // the cotangent reaching sinc is ±∞ though the values show only magnitudes that overflow on the way back (`fuzz
            // adversarial 118/199`: sinc(0) gathered into a float32 round trip before a transposed convolution with 1e160
            // weights: the cotangent 1e160 rounds to ∞ in float32; FuzzSeeds111To120Tests)
            if (Steps.Select((s, i) => live[i] && s.Kind == OpKind.Sinc && values[s.Args[0]].numel() > 0
                    && values[s.Args[0]].eq(0.0).any().item<bool>()).Any(b => b)
                && values.Any(t => t.numel() > 0 && (!t.isfinite().all().item<bool>() || t.abs().gt(1e150).any().item<bool>())))
                torchWrong.Add(("Sinc at 0 in a program holding a NaN, an infinity or magnitudes past 1e150 (torch's masked slope discards a non-finite cotangent)",
                    new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            // torch's sinc slope is (πx·cos πx − sin πx)/(πx²), masked to 0 where πx² is 0 (sinc_backward): below |x| ≈ 1e-8
            // its numerator cancels to exactly 0 (cos πx rounds to 1 and sin πx to πx), and below 1.5e-162 πx² underflows and
            // the mask takes the entry, so torch's slope is 0 where the closed form −π²x/3 is not. A finite cotangent times that
            // slope stays below every tolerance; a non-finite one does not: c·sinc(x) at x = −1e-300 with c holding +∞ has the
            // gradient Σ cᵢuᵢ·3.29e-300 = −∞ (its terms through +∞ are negative), ours; torch's 0 (`fuzz adversarial 3/188`;
            // FuzzSeeds82To86Tests). The second order there is named by the step ("Sinc at a nonzero |x| below 1e-3").
            if (SincSlopeLostUnderNonFiniteCotangent(live, values))
                torchWrong.Add(("Sinc at a nonzero x where torch's slope is 0, under a non-finite cotangent (its rule's numerator cancels)",
                    new[] { Suite.Check.Vjp, Suite.Check.Compiled }));
            // TorchSharp's F.mish is the composite x·tanh(softplus x), not libtorch's fused mish: its product rule hands the factor
            // tanh(softplus x) the cotangent g·x, whose derivative (1 − tanh²)·σ is 0 where tanh has saturated (x above about 19
            // in float64), so an infinite g meets it as ∞·0 = NaN, and at x = 0, g·x is ∞·0 itself; the closed form, the
            // slope tanh(softplus x) + x·sech²(softplus x)·σ(x) (1 and 0.6 there) times g, is ±∞, ours (`fuzz all adversarial
            // 72/183`: expm1(mish x) at x = [1e30, 0], whose cotangent into mish is e^mish·u = +∞ at 1e30: gradient +∞ in
            // ours, NaN in torch's; FuzzSeeds82To86Tests)
            if (MishUnderInfiniteCotangent(live, values))
                torchNaN.Add("Mish under an infinite cotangent at 0 or where tanh(softplus x) saturates (TorchSharp's mish is a composite)");
            // the same composite at second order: where softplus x underflows to 0 or tanh(softplus x) rounds to ±1, its
            // slope and curvature are exact zeros in the closed form's limit (ours), while torch's double backward of
            // x·tanh(softplus x) multiplies the huge x by those zeros beside the program's overflowing products, 0·∞ = NaN
            // (`fuzz all adversarial 131/90`: mish(prod([0.8, −1e160, 0.8])), whose Hessian is 0 in ours, NaN in torch's rows
            // of the finite entries; `131/123`, a transposed convolution with 1e160 and 1e300 weights before it;
            // FuzzSeeds127To134Tests)
            if (magnitude > SquareOverflows && Steps.Where((s, i) => live[i] && s.Kind == OpKind.Mish
                    && values[s.Args[0]].numel() > 0 && MishFlat(values[s.Args[0]])).Any())
                torchNaN.Add("Mish where softplus underflows or tanh(softplus x) saturates, in a program past 1.3e154 (TorchSharp's composite at second order)");
            // torch centres a normalisation's tangent and cotangent about the group's rounded mean, so a derivative that is
            // constant over a group keeps its size times that rounding, where the exact centring (and ours, Nn.centre, about a
            // held entry) gives 0; a derivative through values near 1e300 then overflows to NaN (`fuzz adversarial 41/34`: a
            // group norm of [a − 1.28, a], a = 6.4e9, along a tangent 3.7e299 + δ over the group: torch's JVP NaN, where the
            // closed form depends on δ alone and is below 1e-4; at 1e150 torch's is 1.9e144)
            if (magnitude > SquareOverflows && Steps.Where((s, i) => live[i]
                    && s.Kind is OpKind.LayerNorm or OpKind.GroupNorm or OpKind.InstanceNorm or OpKind.BatchNorm).Any())
                torchNaN.Add("A normalisation in a program whose values pass 1.3e154 (torch centres derivatives about a rounded mean)");
            // in float32 the squares of a normalisation's deviations overflow from 1.8e19 on: torch's derivatives are NaN at
            // every entry of the group, where the closed form is finite (a normalised group's sum is the constant 0, so the
            // derivatives through it are 0); ours keeps most of them but not all, NaN where its own centred squares overflow
            // (`fuzz adversarial 45/121`: group norm of x₂/x₁ with x₁ = −1e-30, values 1e33, Hessian NaN everywhere in torch's,
            // 0, −4e-38 and one NaN in ours, whose closed form is that of 2/√(1 + x₁ᵀx₁) beside it; FuzzEdges15Tests). Named
            // for the float32 run only: in float64 these programs are compared as always.
            var torchNaNFloat32 = new List<string>();
            // a scatter (slice_scatter, select_scatter, diagonal_scatter, index_fill) overwrites entries of its input, on which
            // the value then does not depend: their tangent is 0, a symbolic zero in ours, where torch's forward mode writes
            // zeros that an infinite factor after it meets as 0·∞ = NaN, as "A matmul over an empty inner axis" (`fuzz special
            // adversarial 60/198`, float32: conv_transpose1d(select_scatter(x, c, 1, −1), W, b) with x of shape [3, 1], wholly
            // overwritten, and W holding +∞: JVP NaN in torch's, ours the tangents of W and b through c)
            if (Steps.Where((s, i) => live[i] && s.Kind is OpKind.SliceScatter or OpKind.SelectScatter or OpKind.DiagonalScatter or OpKind.IndexFill
                    && DependsOnInput(s.Args[0])).Any())
            {
                const string why = "A scatter that overwrites entries of a derived value in a program holding an infinity (torch's zero tangents meet it as 0·∞)";
                if (values.Any(t => t.numel() > 0 && t.isinf().any().item<bool>())) torchNaN.Add(why);
                else if (magnitude > float.MaxValue) torchNaNFloat32.Add(why);
            }
            if (magnitude > Float32SquareOverflows && Steps.Where((s, i) => live[i]
                    && s.Kind is OpKind.LayerNorm or OpKind.GroupNorm or OpKind.InstanceNorm or OpKind.BatchNorm).Any())
                torchNaNFloat32.Add("A normalisation in a program whose values pass 1.8e19 (in float32 its squares overflow)");
            // "Atan2 where a² + b² overflows at finite operands" (TorchNaNEdge) as the float32 run meets it, from 1.8e19 on: torch's
            // rule multiplies by an operand before 1/(a² + b²) = 0, and its second order forms g·b·2a times 1/(a² + b²)², ∞·0 = NaN
            // (`fuzz adversarial 89/181`, float32: atan2(x, x) at x = 1e20, the constant π/4, whose second order is 0 in ours and in
            // the closed form, NaN in torch's; FuzzSeeds87To110Tests). Named for the float32 run only: in float64 the squares fit.
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Atan2
                    && SquaresOverflow(values[s.Args[0]].to_type(TorchSharp.torch.ScalarType.Float32), values[s.Args[1]].to_type(TorchSharp.torch.ScalarType.Float32))).Any())
                torchNaNFloat32.Add("Atan2 where a² + b² overflows float32 at finite operands");
            // float32-only skips, by the values rounded to float32: atan2 where a² + b² underflows float32 off the origin (both
            // squares below 1.4e-45) while it does not in float64. The float32 run then evaluates another function: at
            // atan2(x, x²) with x = 1e-30, x² rounds to 0, so the rounded graph is atan2(x, 0) with b's tangent 2x, whose mixed
            // second partial 1/x² overflows float32 (ours −∞), while torch's origin mask gives NaN and the closed form
            // 2x/(1 + x²)² is 2e-30; no float32 engine represents it (`fuzz wide adversarial 123/19`; FuzzSeeds139To141Tests).
            // Float64 compares these programs as always.
            var torchWrongFloat32 = new List<(string Why, Suite.Check[] Checks)>();
            // "CtcLoss of a sample whose loss is finite beyond 1e7" (TorchWrong) as the float32 run meets it, from 1e3 on
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.CtcLoss && values[s.Args[0]].numel() > 0
                    && HugeCtcLoss(s, values[s.Args[0]].to_type(TorchSharp.torch.ScalarType.Float32), 1e3)).Any())
                torchWrongFloat32.Add(("ours and torch's: CtcLoss of a sample whose loss is finite beyond 1e3 in float32 (the paths' differences are lost to the loss's rounding)",
                    new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            // "Asinh at a finite |x| beyond 1.34e154" (TorchWrong) as the float32 run meets it, from 1.8e19 on
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Asinh && values[s.Args[0]].numel() > 0
                    && values[s.Args[0]].to_type(TorchSharp.torch.ScalarType.Float32) is var x32
                    && x32.isfinite().logical_and(x32.abs().gt(Float32SquareOverflows)).any().item<bool>()).Any())
                torchWrongFloat32.Add(("Asinh at a finite |x| beyond 1.8e19 (torch's rsqrt(x² + 1) squares into ∞ in float32)",
                    new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Atan2
                    && SquaresUnderflowOffTheOrigin(values[s.Args[0]].to_type(TorchSharp.torch.ScalarType.Float32), values[s.Args[1]].to_type(TorchSharp.torch.ScalarType.Float32))
                    && !SquaresUnderflowOffTheOrigin(values[s.Args[0]], values[s.Args[1]])).Any())
                torchWrongFloat32.Add(("ours and torch's: the second order of atan2 where a² + b² underflows float32 off the origin",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            if (ScaledNormUnderHugeCotangent(live, values))
                torchWrong.Add(("A scaled 2-norm under a cotangent that times the scale overflows (the reference's chain, not torch's norm)",
                    new[] { Suite.Check.Vjp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            if (LogDetUnderInfiniteCotangent(live, values))
                torchWrong.Add(("LogDet of a finite matrix under an infinite cotangent", new[] { Suite.Check.Vjp, Suite.Check.Compiled }));
            if (SoftmaxOfTiesBesideInfiniteSlope(live, values))
                torchWrong.Add(("Log-softmax or softmax over ties computed through an infinite slope",
                    new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            if (SolveOfInfiniteRightSideWithDerivativeInA(live, values))
                torchWrong.Add(("Solve of an infinite right-hand side where A⁻¹ holds a 0 and A has a derivative (the reference's mask is held)",
                    new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            // a sigmoid near 0 has the curvature −x/8, tiny, and its Hessian terms are that curvature times products of the
            // operand's slopes, which in a program of values beyond 1.3e154 overflow before the curvature brings them back;
            // each engine forms them in its own orientation (ours columns by forward over reverse, torch's rows by reverse
            // passes), so each overflows in one entry of a symmetric pair where the other engine's is the number (`fuzz all
            // adversarial 98/215`, shrunk: σ(W·diag₋₁(x xᵀ)) with W holding −1e160 and 1e300 at x = [−0.35, 1e-300, 0], whose
            // Hessian entries (1, 2) and (2, 1) are u·(σ″·3.5e159·1 + σ′·1e300) = −3.6e298: ours +∞ at (2, 1), torch's at (1, 2))
            if (magnitude > SquareOverflows && Steps.Where((s, i) => live[i] && s.Kind == OpKind.Sigmoid && values[s.Args[0]].numel() > 0
                    && values[s.Args[0]].ne(0.0).logical_and(values[s.Args[0]].abs().lt(1e-3)).any().item<bool>()).Any())
                torchWrong.Add(("ours and torch's: the Hessian of a sigmoid near 0 in a program whose values pass 1.3e154 (products of slopes overflow before the curvature)",
                    new[] { Suite.Check.Hessian }));
            // a softmax over exact ties has the curvature s(1 − s)(1 − 2s) = 0 along their difference (a log-softmax's is not
            // 0 there, so it is not named); ours centres the cotangent about Σ g·y and leaves a rounding residue ε·|g| there, which the second order multiplies by the square
            // of the logits' slopes, where torch's double backward cancels to 0 (`fuzz all adversarial 110/199`: softmax of
            // two tied logits 1.46e29 = x₀·(x₂ + x₄x₁) + x₃ at x₄ = 1e30, Hessian (x₀, x₁₀) −6.66e28 in torch's and the
            // closed form, 1.1e42 in ours, 2^40·1e30; the SecondOrder check agrees; FuzzEdges26Tests)
            // softmin is the softmax of −x, the same rule over the same ties (`fuzz adversarial 137/240`: Linear(softmin(v), v, b)
            // with v = [[−1e20, −1e20], [−0.59, −0.59]], the Hessian entry of the 1e20 row's operand −2.75e39 in the closed form
            // u·(−K²/2), K = 1e20, ours −4.13e39 in every mode and torch's −1.38e39: neither engine's is compared there;
            // FuzzSeeds139To141Tests)
            // attention's softmax over its scores is the same rule over the same ties (`fuzz fresh adversarial 45/125` as drawn:
            // rows of X holding −1e30 beside entries of order 1 give scores X Xᵀ/√3 that round to one 5.8e59, Hessian entries
            // 7.7e73 in ours where torch's are 4.5e29)
            if (Steps.Where((s, i) => live[i] && ((s.Kind is OpKind.Softmax or OpKind.Softmin
                    && values[s.Args[0]].numel() > 1 && TiesAlong(values[s.Args[0]], s.Ints[0], 1e15))
                    || (s.Kind == OpKind.ScaledDotProductAttention && AttentionScoresTie(s, values[s.Args[0]], values[s.Args[1]])))).Any())
                torchWrong.Add(("ours (a known limitation): the second order of a softmax or softmin over exact ties beyond 1e15",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            // past the range: e^x = +∞ at a finite x, whose second derivatives are ±∞ in their limit; where that value is read
            // twice, forward over reverse distributes the tangent over the terms of the simplified gradient, which meet as
            // ∞ − ∞ = NaN where reverse over reverse keeps them one factor (`fuzz adversarial 87/279`: (c − e^x)·e^x at
            // x = 10000, Hessian entry u·(c·e^x − 4e^2x) = −∞ in torch's, ours c·(v·e^x) − 4(v·e^x)·e^x = NaN; FuzzEdges26Tests).
            // Only where the overflowed value has more than one reader (`fuzz adversarial 10/145` passes unnamed).
            if (Steps.Where((s, i) => live[i] && s.Kind is OpKind.Exp or OpKind.Expm1 or OpKind.Sinh or OpKind.Cosh
                    && values[InputCount + i].numel() > 0
                    && values[InputCount + i].isinf().logical_and(values[s.Args[0]].isfinite()).any().item<bool>()
                    && Steps.Where((r, k) => live[k]).Sum(r => r.Args.Count(a => a == InputCount + i)) > 1).Any())
                torchWrong.Add(("ours (a known limitation): the second order through an exp, sinh or cosh that overflows at a finite operand, read twice",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            if (ProdOverAZeroUnderInfiniteCotangent(live, values))
                torchWrong.Add(("ours and torch's: the second order of a prod over a zero under an infinite cotangent",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            if (DetUnderInfiniteCotangent(live, values))
            {
                torchNaN.Add("Det (up to 3×3) under an infinite cotangent (torch's rule solves with A)");
                torchWrong.Add(("ours and torch's: the second order of a det (up to 3×3) under an infinite cotangent",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            }
            // the reference's solve of an infinite right-hand side is A⁻¹ times b (TorchInterpreter.Solve), whose gradient in A,
            // −A⁻ᵀ·g·Xᵀ through the inverse's rule, meets the infinities of X as 0·∞ or ∞ − ∞ in the matmul, where the closed
            // form −β·(A⁻ᵀg)(A⁻¹eₖ)ᵀ (b's infinity β at k) is ±∞ wherever its factors are nonzero, ours (`fuzz adversarial
            // 105/135`, float32: solve(A, [−∞, 1e-30]), gradient in A +∞ in all four entries in ours, NaN in two of the
            // reference's); only where A depends on an input (a constant A has no such derivative)
            if (Steps.Where((s, i) => live[i] && s.Kind == OpKind.Solve && DependsOnInput(s.Args[0])
                    && values[s.Args[1]].numel() > 0 && values[s.Args[1]].isinf().any().item<bool>() && !values[s.Args[1]].isnan().any().item<bool>()
                    && values[s.Args[0]].numel() > 0 && values[s.Args[0]].isfinite().all().item<bool>()).Any())
                torchNaN.Add("Solve of an infinite right-hand side (the reference's A⁻¹b)");
            if (CholeskySolveUnderInfiniteCotangent(live, values))
                torchNaN.Add("CholeskySolve under an infinite cotangent");
            if (LogSumExpUnderInfiniteCotangent(live, values))
                torchWrong.Add(("ours and torch's: the second order of a logsumexp under an infinite cotangent (each adds two infinite terms, ∞ − ∞)",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            if (MeanOfNormalisedGroupsBesideInfinity(live, values))
                torchWrong.Add(("The sum or mean of a normalisation's output, exactly 0, beside an infinity (each engine's rounding residue decides)",
                    new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            if (NormOfConstantGroupBeforeInfiniteSlope(live, values))
                torchWrong.Add(("A normalisation of a constant group, left a residue by torch, before an infinite slope at 0",
                    new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            RecentConventions(live, values, torchNaN, torchWrong, torchNaNFloat32, torchWrongFloat32);
            return (singular, magnitude, torchNaN, torchWrong, torchNaNFloat32, torchWrongFloat32);
        }
        catch (Exception) { return (false, 0, new List<string>(), new List<(string, Suite.Check[])>(), new List<string>(), new List<(string, Suite.Check[])>()); } // not a valid program: the checks report the exception
    }

    /// <summary>
    /// The steps with each operand replaced by the first value computed by the same op over the same operands, as our engine
    /// builds them (structurally equal nodes are one node), so the conventions for a value with itself (x − x, mse(x, x),
    /// x/x, ...) see two equal steps as one: our symbolic zero for tanh(x) − tanh(x) holds there too (`fuzz adversarial
    /// 100/18`: sinc(mse(tanh x, tanh x)) at x = NaN, the two tanh steps drawn apart: second order 0 in ours, NaN in
    /// torch's, "Mse with a zero difference"; FuzzEdges26Tests).
    /// </summary>
    Step[] Merged()
    {
        var first = Enumerable.Range(0, InputCount + Steps.Length).ToArray();
        var steps = new Step[Steps.Length];
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i] with { Args = Steps[i].Args.Select(a => first[a]).ToArray() };
            steps[i] = s;
            for (int j = 0; j < i; j++)
            {
                var t = steps[j];
                if (t.Kind == s.Kind && t.Args.SequenceEqual(s.Args) && t.Ints.SequenceEqual(s.Ints) && t.Mode == s.Mode && t.Flag == s.Flag
                    && t.Scalar.Equals(s.Scalar) && (t.Data ?? Array.Empty<double>()).SequenceEqual(s.Data ?? Array.Empty<double>())
                    && (t.DataShape ?? Array.Empty<int>()).SequenceEqual(s.DataShape ?? Array.Empty<int>()))
                {
                    first[InputCount + i] = first[InputCount + j];
                    break;
                }
            }
        }
        return steps;
    }

    /// <summary>
    /// Whether a step, at its operands' values, is one where torch's derivative rule gives NaN in a place
    /// where the closed-form derivative is a number, and if so why; null otherwise. Each is shown against
    /// the closed form, and against torch's own result for an equivalent composite, in FuzzConventionTests.
    /// A program with such a step compares its derivatives with <see cref="Suite.Tolerance.TorchDerivativeNaNIsConvention"/>:
    /// torch NaN against a number of ours passes, never the other way round, and values are compared as always.
    /// <list type="bullet">
    /// <item>Pow with a base exactly 0 and an exponent ≥ 0: torch masks the exponent's coefficient y·log a
    /// to 0 there by a where, whose untaken branch holds 0·log 0 and 1/a, so the second derivatives that
    /// pass through it are 0·∞ = NaN; the function is 0 for every exponent near a positive one, and ours
    /// differentiates the selected 0 (program `fuzz 1/1280`).</item>
    /// <item>Atan2 at the origin: torch's first derivative there is 0 (a mask), its second NaN (`fuzz 2/858`);
    /// ours differentiates the 0. torch's mask is on a² + b² = 0, so the same holds where both squares underflow
    /// (`fuzz adversarial 21/232`: atan2(x, x) at x = −5e-324, a constant there, second derivative 0). Atan2 whose broadcast result is empty while an
    /// operand is infinite: torch's second derivative is NaN where the function has no entries at all, so
    /// every derivative is an empty sum, 0 (`fuzz 3/1065`); the same with a NaN operand (`fuzz 12/683`).</item>
    /// <item>Mse with an infinite difference: torch's fused mse_loss rule, differentiated again for the JVP,
    /// gives NaN where the chain rule 2(a−b)·(tₐ − t_b)/n, and torch's own composite ((a−b)²).mean(), give
    /// ±∞ (`fuzz 2/225`).</item>
    /// <item>Relu of an infinite value: torch's relu rule multiplies by a mask of its output, and the mask's
    /// derivative comes back as a tensor of zeros that meets the infinite derivative of the input as
    /// 0·∞ = NaN; in our rules that derivative is a symbolic zero, as for Sign and the rounding ops
    /// (`fuzz 3/1411`: relu(−1/x) at x = −0 has the second derivative −2/x³ = +∞). The same at a NaN value, where
    /// both slopes are 1 (`fuzz adversarial 3/264`: relu of a product ∞ − ∞).</item>
    /// <item>Abs of an infinite or NaN value, as relu: torch's rule multiplies by sgn(x), whose derivative comes back as a
    /// tensor of zeros that meets a non-finite factor as 0·NaN or 0·∞ = NaN; in ours sign's derivative is a symbolic zero
    /// (the documented convention for Sign) (`fuzz adversarial 18/211`: |x₁x₀| at x₁ = NaN, x₀ = 0, whose Hessian entry
    /// (0, 0), x₁²·sgn′ = 0, is NaN in torch; both engines' sgn(NaN) is 0, so the gradient agrees).</item>
    /// <item>Mse with a zero difference (a value with itself included): torch's fused rule scales the cotangent by
    /// 2(a − b)/n, a tensor holding 0 that an infinite cotangent meets as 0·∞ = NaN, and its derivatives carry the NaN,
    /// where the closed form is 2g/n = ±∞ (`fuzz adversarial 3/37`: mse(x1, x0) at (0, 0) times a constant holding ∞,
    /// Hessian 2c·[[1, −1], [−1, 1]] with c = ±∞) or, for mse(x, x), 0 at every order.</item>
    /// <item>A difference of a value with itself, x − x: ours is the symbolic 0 (the function is 0 at every finite x), so
    /// nothing after it reaches x; torch differentiates both operands, and a later op that is infinite there meets them
    /// as 0·∞ = NaN (`fuzz 1/869`: rsqrt((x − x)²) at 0, whose second derivative is 0, torch NaN).</item>
    /// <item>Log-softmax over an axis of length 1 at an infinite or NaN entry: both engines' value is NaN there (torch's
    /// x − max), and ours is x − x, whose derivatives are differences of one cotangent, exactly 0 wherever the cotangent
    /// is finite (the derivative of the function x − x = 0 at every finite x); torch's fused rule multiplies by exp of its
    /// NaN output (`fuzz adversarial 2/148`:
    /// log-softmax of [0, 0, ∞] over an axis of length 1).</item>
    /// <item>Softplus above the threshold (40 in the reference, see TorchInterpreter.Softplus): both engines take x there,
    /// slope 1 and curvature 0, but torch's curvature is a tensor of zeros that meets an infinite cotangent as 0·∞ = NaN,
    /// where ours is a symbolic zero (σ is the constant 1 in our rule), so the other terms of the sum survive
    /// (`fuzz adversarial 1/120`: exp(mean(softplus x)) at x = 710, whose second derivatives are +∞).</item>
    /// <item>Mean over no entries (and the losses that are one): its value is 0/0 = NaN, and its derivative is
    /// the zero map, a function of no numbers. Torch's is a tensor of zeros, which the derivative of a later step
    /// at the NaN value (log, a product with the NaN) turns into NaN; ours is a symbolic zero
    /// (`fuzz adversarial 2/263`: log of the mean of a [0, 2, 2] tensor; FuzzAdversarialTests).</item>
    /// <item>Prod of entries without an exact 0 whose product underflows to 0: torch's rule y / x is 0 there, and its
    /// second derivative divides the cotangent by a tiny entry first, ∞ · 0 = NaN, where ours multiplies the
    /// quotients (`fuzz adversarial 1/78`: prod of [1e-310, 5e-324]; the closed-form Hessian is [[0, u], [u, 0]],
    /// neither engine's rounding reaches it).</item>
    /// <item>PowScalar x^c with c &lt; 0 where x^(c−1) is subnormal: torch's derivative c·x^(c−1) comes out 0 there
    /// (as 1/x^(1−c), whose denominator overflows), and an infinite cotangent then meets it as ∞ · 0 = NaN;
    /// ours keeps the subnormal and gives ±∞ (`fuzz adversarial 1/101`: x = 1e160, c = −1).</item>
    /// <item>The 2-norm (Norm with p = 2, FrobeniusNorm) at 0: its gradient is 0 there in both engines (a documented
    /// mask), and torch's second derivative is the masked branch's x/‖x‖ differentiated, 0/0 = NaN; ours is 0
    /// (`fuzz 1/252`: the Frobenius norm of a [2, 1, 1] zero tensor).</item>
    /// <item>Lgamma, digamma and polygamma at +∞: torch's ψ⁽ⁿ⁾(+∞) is NaN for n ≥ 2, where the limit, and ours, is 0
    /// (`fuzz 4/285`: the gradient of polygamma(1) at +∞ is ψ⁽²⁾(+∞)·u = 0).</item>
    /// <item>Lgamma, digamma and polygamma at ±0, a pole: every ψ⁽ⁿ⁾ there is ±∞, and torch's second derivative
    /// multiplies it by a first derivative of the operand that is exactly 0, ∞·0 = NaN, where ours multiplies
    /// symbolic zeros (`fuzz adversarial 2/198`: digamma(x₀^x₁·x₂) at x₁ = x₂ = −0, whose x₀ row of the Hessian is
    /// 0, since the operand does not depend on x₀ while x₁ = 0).</item>
    /// <item>MaxPool2d over a non-finite value: torch's rule for the input of its own backward (max_pool2d_with_indices_backward)
    /// is a tensor of zeros, which a second derivative multiplies into an infinite factor of an earlier step as 0·∞ = NaN;
    /// ours is a symbolic zero, the selection by index being constant (`fuzz adversarial 6/87`: a matmul with a −∞ weight
    /// into a max pool).</item>
    /// <item>AvgPool2d over a non-finite value: average pooling is linear, so its second derivative is the zero map, ours
    /// a symbolic zero; torch's avg_pool2d_backward reads the pool's input, and its derivative in that input is a tensor
    /// of zeros, which meets the infinite factor of the step before as 0·∞ = NaN (`fuzz 13/1613`: the pool, over a kernel
    /// of 1, of an outer product c·xᵀ with c and x holding +∞, whose Hessian is 0; torch's is NaN, and 0 without the
    /// pool).</item>
    /// <item>Cumprod with an infinite entry or a running product that overflows: torch's rule, without a zero, divides Σ g·y
    /// by the entries, ∞/∞ = NaN, where the closed form (the cotangent of x₀ in [x₀, x₀x₁] is g₀ + g₁x₁) is a number or ±∞
    /// (`fuzz adversarial 4/45`: cumprod of [∞, ∞] pairs, whose gradient at the first is g₀ + g₁·∞; `5/115`: cumprod of
    /// [a, a, −3459.4] at a = −1.4e160, gradient g₀ + g₁a + g₂a·(−3459.4) = 1.2e164).</item>
    /// <item>LogSumExp over no entries: as the mean over none, its derivative is the zero map; torch's is a tensor of zeros
    /// that meets the −∞ value in the next step's rule (`fuzz adversarial 4/62`: the square of a logsumexp over an empty
    /// axis, JVP 2·(−∞)·0).</item>
    /// <item>Erf, Erfc and Gelu where x² overflows (|x| above 1.34e154, ±∞ included): the second derivative of erf is
    /// −2x·erf′(x), of gelu (2 − x²)·φ(x), whose limit, and ours, is 0 there (e^(−x²) underflows first); torch's
    /// double-backward formulas meet ∞·0 = NaN (`fuzz adversarial 1/119`: erf at −∞; `3/173`: gelu at −2.5e159).
    /// At a finite x whose square overflows torch's erf gives 0, as ours (`fuzz adversarial 1/297`, a fixed failure).</item>
    /// <item>Prod over an infinity and a 0: the gradient at the 0 is the product of the others, ±∞ when none of them is 0 or
    /// NaN, with their signs' product (ours, by its rule, whatever order its partial products underflow in); torch's
    /// running products lose it as ∞·0 = NaN wherever one underflows to 0 first (`fuzz adversarial 2/12` shrunk: [∞, 0,
    /// 1e-38, subnormals, −0.63], gradient at the 0 +∞·u).</item>
    /// <item>CrossEntropy over one class at an infinite or NaN logit: as log-softmax over one entry (above), both values are
    /// NaN there and ours is x − x, whose derivative is exactly 0; torch's multiplies by its NaN softmax
    /// (`fuzz adversarial 4/27`: logits [0, ∞, 0] of shape [3, 1]).</item>
    /// <item>AdaptiveAvgPool2d over a non-finite value, as AvgPool2d: linear, and torch's backward reads its input, whose
    /// derivative comes back as zeros that meet the non-finite factor of the step before (`fuzz 25/1626`: x·x at
    /// x = [[0, 0], [NaN, −0]] through an index select into the pool; its second order is a constant, ours).</item>
    /// <item>Normalize of a slice whose 2-norm is below 1/MaxValue of float32 (2.9e-39): normalize is x/eps there, linear, so its
    /// second derivative is 0 (ours); torch's is the norm's curvature (I − x̂x̂ᵀ)/‖x‖, ∞ where 1/‖x‖ overflows, times the clamp's
    /// zero slope, NaN (`fuzz adversarial 36/178`: normalize of [1e-310]); "Normalize of a zero slice" is its limit.</item>
    /// <item>LogAddExp of an infinite operand beside a finite one: its slopes are 1 and 0 and its curvature σ(d)σ(−d) = 0 at
    /// d = ±∞ (ours); torch's e^d/(1 + e^d)² is ∞/∞ = NaN (`fuzz adversarial 37/67`: logaddexp(0, −∞); `38/248`: logaddexp(−∞, x)
    /// over finite x).</item>
    /// <item>Solve with a finite solution entry whose square overflows: the derivatives solve again against right sides built
    /// from the solution (the JVP's A⁻¹(Ḃ − ȦY)), which overflow to ±∞, and torch's LU substitutions meet them as 0·∞ (the
    /// factors' exact zeros) or ∞ − ∞, NaN in unknowns that do not depend on them; the
    /// closed form there is a number, and ours (its substitutions skip zero coefficients at an infinite right side) is it
    /// (`fuzz adversarial 35/99`: solve(tanh(X·X) + diag(4, 0, 4), X) at X = 1e300·E₁₁, JVP Ẋ₁₁ at (1, 1), torch's NaN).</item>
    /// <item>KlDiv (logTarget false) at a target entry 0 or +∞: the target term p·log p has the slope log p + 1, −∞ and +∞
    /// there, and the curvature 1/p (ours); torch's xlogy rule adds p/p = NaN (`fuzz all 1/249`, `all 2/219`, `all 2/624`).</item>
    /// </list>
    /// </summary>
    static string? TorchNaNEdge(Step s, TorchSharp.torch.Tensor[] a)
    {
        static bool Any(TorchSharp.torch.Tensor t) => t.numel() > 0 && t.any().item<bool>();
        static bool AnyInfinite(TorchSharp.torch.Tensor t) => Any(t.isinf());
        switch (s.Kind)
        {
            case OpKind.Pow when Any(a[0].eq(0.0).logical_and(a[1].ge(0.0))):
                return "Pow at base 0";
            // a^0 is 1 for every base, NaN included (IEEE's pow(NaN, 0) = 1, in both engines), so each of its derivatives in
            // a is 0 there; torch masks its first derivative to 0 where the exponent is 0, but its forward mode and double
            // backward form 0·a^(−1), NaN at a NaN base (`fuzz all adversarial 47/105`: x^argmax(c) at x = NaN, an exponent
            // 0, JVP and Hessian NaN in torch's, 0 in ours; FuzzSeeds46To48Tests)
            case OpKind.Pow when Any(a[0].isnan().logical_and(a[1].eq(0.0))):
                return "Pow with an exponent 0 at a NaN base";
            // x^1 is x, linear, so its second derivative is 0 (ours folds the power away); torch's c(c − 1)·x^(c − 2) is
            // 0·NaN at a NaN base (`fuzz 107/32`: the max over an axis of length 1 of a NaN, to the power 1.0)
            case OpKind.PowScalar when s.Scalar == 1 && Any(a[0].isnan()):
                return "PowScalar with the exponent 1 at a NaN base";
            // the same for a where: over an empty broadcast its derivatives are empty sums, 0 (ours); torch's zero cotangents meet
            // the non-finite slope of the step before (`fuzz all adversarial 141/35`: where(c, dist(x₁, x₂), e) with e of shape
            // [1, 0, 6] and x₁ holding +∞, summed: gradient 0 in ours, NaN in torch's at the entries of x₁ and x₂; FuzzSeeds139To141Tests)
            case OpKind.Where when TorchSharp.torch.broadcast_tensors(a[0], a[1], a[2])[0].numel() == 0
                    && a.Any(t => !t.isfinite().all().item<bool>()):
                return "Where over an empty broadcast with a non-finite operand";
            // as atan2 below: over an empty broadcast every derivative is an empty sum, 0 (ours); torch's double backward
            // meets the infinite operand (`fuzz all adversarial 108/245`: addcdiv(t, t, x) with t of shape [0, 3], x = +∞)
            case OpKind.AddCDiv or OpKind.AddCMul when TorchSharp.torch.broadcast_tensors(a[0], a[1], a[2])[0].numel() == 0
                    && a.Any(t => !t.isfinite().all().item<bool>()):
                return "AddCDiv or AddCMul over an empty broadcast with a non-finite operand";
            // the same for where (`fuzz latest adversarial 13/264`, float32: where(c, k, acosh(NaN) + x) with c of shape [1, 0],
            // padded after a min over its empty axis: gradient 0 in ours, NaN in torch's at the NaN)
            case OpKind.Where when TorchSharp.torch.broadcast_tensors(a[0], a[1], a[2])[0].numel() == 0
                    && a.Any(t => !t.isfinite().all().item<bool>()):
                return "Where over an empty broadcast with a non-finite operand";
            // torch's ctc backward forms exp(log α + log β + loss − lp) at every log-probability lp, ∞ − ∞ = NaN at lp = −∞
            // (a log-softmax of a −∞ logit), where the derivative's limit, and ours, is 0 there: the class cannot be emitted
            // (`fuzz latest adversarial 13/10`: one logit −∞ at t = 2, its row's gradient [0, 0] in ours, as at −1e30;
            // FuzzOpsTests)
            case OpKind.CtcLoss when Any(a[0].log_softmax(-1).isneginf()):
                return "CtcLoss at a log-probability of −∞";
            // a sample whose target no alignment of its input length can emit (more labels, and blanks between repeats, than
            // steps) has the probability 0 at every input: its loss is the constant +∞ (without zero_infinity), whose
            // derivative is the zero map, ours; torch's backward forms its α·β products over −∞ and gives NaN in that
            // sample's rows (`fuzz newest adversarial 1/154`: two labels [1, 1] over one step, gradient 0 in ours, NaN in
            // torch's; FuzzNewestTests)
            // a sample that reads an infinite image value with a positive weight is that infinity at every nearby grid position,
            // a constant, so its derivative in the grid is the zero map, ours; torch's grid gradient forms the corners'
            // differences (v₁ − v₀ = +∞ there, ∞ − ∞ across a reflected or clipped axis) times the weights' slopes and gives NaN
            // (`fuzz newest 4/253`, float32: bilinear sampling with reflection of the 1×2 image [−∞, 0.4], grid gradient 0 in
            // ours, NaN in torch's at the samples that read −∞)
            case OpKind.GridSample when Any(a[0].isinf()):
                return "GridSample of an image holding an infinity";
            case OpKind.CtcLoss when !s.Flag && Any(TorchInterpreter.Apply(s with { Mode = 2 }, a, a[0].dtype).isposinf()):
                return "CtcLoss of a target no alignment can emit (the constant +∞)";
            // torch's mask is on a² + b² = 0, so it also takes the origin's branch where the squares underflow
            // (`fuzz adversarial 21/232`: atan2(x, x) at x = −5e-324, whose second derivative, as every derivative of the
            // constant it is there, is 0)
            case OpKind.Atan2 when Any(a[0].mul(a[0]).add(a[1].mul(a[1])).eq(0.0)):
                return "Atan2 at the origin";
            // where a² + b² overflows at finite operands, torch's rule multiplies the cotangent by an operand and then by
            // 1/(a² + b²) = 0, NaN where that product overflows first, ∞·0, where the closed forms g·b/(a² + b²) and
            // −g·a/(a² + b²) are numbers (`fuzz adversarial 55/87`: a linear layer with 1e160 weights over atan2(x₂, x₀)
            // with x₂ holding 1e160, x₀ = 0.00465: the gradient in x₀, Σ −g·b/(x₀² + b²), is 3.3222e159 in ours and in
            // 60-digit arithmetic, NaN in torch's; where the product does not overflow, torch's 0 is the closed form's
            // 1/b-sized slope rounded away, within the tolerance)
            case OpKind.Atan2 when SquaresOverflow(a[0], a[1]):
                return "Atan2 where a² + b² overflows at finite operands";
            case OpKind.Atan2 when TorchSharp.torch.broadcast_tensors(a[0], a[1])[0].numel() == 0
                    && (!a[0].isfinite().all().item<bool>() || !a[1].isfinite().all().item<bool>()):
                return "Atan2 over an empty broadcast with a non-finite operand";
            // cholesky_solve with an infinite right-hand side entry and a finite factor: the solution X holds ±∞, and torch's
            // rule −(GXᵀ + XGᵀ)L (G = A⁻¹·cotangent) adds infinite terms of opposite signs, ∞ − ∞ = NaN, where the gradient's
            // limit (at a right side β·e, β → ±∞, it is β times a fixed matrix) is ±∞, and ours (a chain of solves and products)
            // is that limit (`fuzz all adversarial 75/187`, float32: −1e160 rounds to −∞; gradient in the factor's lower
            // entries ±∞ in ours with the signs of torch's own at −1e300, NaN in torch's; FuzzSeeds82To86Tests)
            case OpKind.CholeskySolve when AnyInfinite(a[0]) && a[1].numel() > 0 && a[1].isfinite().all().item<bool>():
                return "CholeskySolve of an infinite right-hand side";
            case OpKind.Mse when AnyInfinite(a[0] - a[1]):
                return "Mse with an infinite difference";
            // fmod(a, b) and remainder(a, b) of an infinite dividend are NaN, and their slope in the divisor, −trunc(a/b) or
            // −floor(a/b), is ±∞ there; a mask downstream (Nansum, Where) that drops the NaN entry gives it the cotangent 0,
            // and both engines' first derivatives are 0·∞ = NaN. Torch's higher orders stay NaN; ours at second order are the
            // masked function's closed form, the quotient's derivative being a symbolic zero (`fuzz all 113/84`:
            // tanh(nansum(fmod([−4, +∞], x))) at x = −0.673, whose second derivative is 25·tanh″(−4 − 5x)·u = −3.55 in ours,
            // NaN in torch's; FuzzSeeds111To120Tests)
            case OpKind.Fmod or OpKind.Remainder when AnyInfinite(a[0]):
                return "Fmod or Remainder of an infinite dividend (the divisor's slope is ±∞ there)";
            // Σ|d| has the slope sign(d), whose own derivative is 0: ours a symbolic zero, which the slopes before it never
            // multiply; torch's double backward multiplies that 0 by them, 0·∞ = NaN where one is infinite (`fuzz all
            // adversarial 51/143`: dist(c/x, 1, p = 1) at c = −∞, x = [−1, 1, 0.5], whose Hessian is diagonal with
            // sign(c/x − 1)·2c/x³ = ±∞, torch's NaN; FuzzSeeds50And51Tests). A NaN difference the same way: ours keeps the
            // symbolic zero (second order 0), torch's double backward meets the NaN (`fuzz all adversarial 117/68`:
            // dist(x, amax(x), 1) at x = [NaN, 0], second order 0 in ours, NaN in torch's; FuzzSeeds111To120Tests)
            case OpKind.Dist when s.Scalar == 1.0 && (AnyInfinite(a[0] - a[1]) || Any((a[0] - a[1]).isnan())):
                return "Dist with p = 1 over an infinite or NaN difference";
            // torch's cdist backward forms |d|^(p−1) and the distance's (p−1)-th power apart, ∞/∞ = NaN where they overflow
            // though the distance is finite (`fuzz all adversarial 53/197`: p = 3 at a difference of 1e160, whose gradient
            // is the cotangent times sign(d)·(|d|/dist)², finite in ours). Where (2·max|x|)^(p−1) leaves the range.
            case OpKind.Cdist when s.Scalar > 1.0 && !double.IsPositiveInfinity(s.Scalar) && a[0].numel() > 0 && a[1].numel() > 0
                    && Math.Pow(2.0 * Math.Max(a[0].abs().max().item<double>(), a[1].abs().max().item<double>()), s.Scalar - 1.0) > double.MaxValue:
                return "Cdist whose differences' (p − 1)-th powers overflow in torch's rule";
            case OpKind.Mse when s.Args[0] == s.Args[1] || Any((a[0] - a[1]).eq(0.0)):
                return "Mse with a zero difference";
            // mean((a − b)²) of finite operands whose squares overflow is +∞, and its derivatives through a later step are the
            // exact ones rounded to ±∞: f = m² has the HVP 2∇m(∇m·v) + 2m∇²m·v, whose second term alone overflows in every
            // entry where vₐ ≠ v_b; ours has the exact signs in every entry, torch's NaN in some (`fuzz all adversarial
            // 134/243`: mse(x₁, x₀)² with x₀ holding 1e160, 50-digit HVP ±1e318 to ±1.8e319 in all 16 entries, ours ±∞ with
            // those signs, torch's NaN in 6; FuzzSeeds135To140Tests)
            case OpKind.Mse when a[0].numel() > 0 && a[0].isfinite().all().item<bool>() && a[1].isfinite().all().item<bool>()
                    && TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var pair && pair[0].sub(pair[1]).square().mean().isinf().item<bool>():
                return "Mse of finite operands whose mean square overflows";

            case OpKind.Sub when s.Args[0] == s.Args[1]:
                return "Sub of a value with itself";
            // logaddexp(x, x) is x + log 2, whose slope is 1 at every x, ±∞ included: ours is the two slopes σ(x − x) = ½
            // (x − x is the symbolic 0), torch's σ(∞ − ∞) = NaN at an infinite x (`fuzz all adversarial 44/144`: the
            // gradient of logaddexp(x, x) at x = +∞, u in ours, NaN in torch's; FuzzEdges13Tests)
            case OpKind.LogAddExp when s.Args[0] == s.Args[1] && AnyInfinite(a[0]):
                return "LogAddExp of a value with itself at an infinity";
            // x·0 with a factor that is exactly 0 everywhere: the product does not change with x, so no derivative reaches
            // x through it. Ours: the cotangent g·0 into x folds to the constant 0, a symbolic zero that the rules after it
            // never multiply (as for the step functions); torch's zeros meet the slopes after it, 0·∞ = NaN where one is
            // infinite (`fuzz 2/1673`: rsqrt(x·0) at x = 0, whose second-order check is 0 in ours and NaN in torch's)
            case OpKind.Mul when (a[0].numel() > 0 && a[0].eq(0.0).all().item<bool>()) || (a[1].numel() > 0 && a[1].eq(0.0).all().item<bool>()):
                return "Mul by a factor that is 0 everywhere";
            case OpKind.MulScalar when s.Scalar == 0.0:
                return "Mul by a factor that is 0 everywhere";
            case OpKind.LogSoftmax when a[0].dim() > 0 && a[0].shape[s.Ints[0] < 0 ? s.Ints[0] + (int)a[0].dim() : s.Ints[0]] == 1
                                                          && Any(a[0].isfinite().logical_not()):
                return "LogSoftmax over an axis of length 1 at a non-finite entry";
            // at finite entries too: the function is the constant 0 (1 for softmax), ours x − x (exp(x − x)), whose second
            // derivative is a symbolic zero; torch's fused rules give g − e^0·g, which an infinite cotangent makes ∞ − ∞ = NaN
            // at second order (`fuzz adversarial 10/235`: log-softmax over the axis of length 1 of a transposed convolution
            // with weights of 1e20, cotangents beyond the range). Softmin is softmax(−x), the same constant; since branch edges10
            // ours holds x there where it is finite (Composites.softmax), so its derivative is a symbolic zero even under a NaN
            // cotangent, where torch's y·(g − Σ g·y) is NaN at first order too (`fuzz adversarial 36/73`: a matmul of a NaN
            // constant with softmin over the axis of length 1 of a [1, 1, 2, 2] input)
            case OpKind.LogSoftmax or OpKind.Softmax or OpKind.Softmin when a[0].dim() > 0 && a[0].shape[s.Ints[0] < 0 ? s.Ints[0] + (int)a[0].dim() : s.Ints[0]] == 1:
                return "LogSoftmax or Softmax over an axis of length 1";
            case OpKind.Softplus when Any(a[0].gt(SoftplusThreshold)):
                return "Softplus above the threshold";
            // logsigmoid(g) = −softplus(−g): at g = −∞ its slope σ(−g) is 1 and its curvature −σ'(g) is 0, the saturated
            // branch's symbolic zero in ours (as softplus's above its bound, see "torch's softplus threshold"), so an
            // infinite g' meets no 0·∞; torch's log_sigmoid double backward multiplies −σ(g)σ(−g) = −0 by g'² = ∞, NaN
            // (`fuzz 20/621`: logsigmoid(c/x) with c = −∞; shrunk in FuzzConventionTests to logsigmoid(−1/x) at x = +0,
            // whose second derivative is −2/x³ = −∞ in ours and as the limit of −1/x, NaN in torch)
            // on their linear branch (x > 0) elu, selu and celu have the curvature 0: a symbolic zero in ours (the branch is
            // selected by a where), a tensor of zeros in torch's double backward, which an infinite first derivative around
            // it turns into 0·∞ = NaN (`fuzz adversarial 29/6`: expm1(selu(x)) at x = +∞, whose second derivative
            // e^selu(x)·scale² is +∞; `29/120`: pow(2·(selu(x) + y), 171) where the power overflows, at x = 25)
            // so at a NaN input, where both engines take the linear branch's slope 1 (as relu at NaN): the curvature's
            // symbolic zero meets the NaN value after it nowhere in ours, torch's zeros make NaN (`fuzz adversarial 23/217`:
            // elu(x)² through a fold at x = NaN, whose Hessian entry is 2u in ours)
            case OpKind.Elu or OpKind.Selu or OpKind.Celu when Any(a[0].gt(0.0)) || Any(a[0].isnan()):
                return "Elu, Selu or Celu on its linear branch (curvature 0)";
            // hardshrink and softshrink are linear on every branch (slope 1 outside ±λ, the constant 0 or a shift inside), so
            // their curvature is 0 everywhere: ours a symbolic zero (a where's branches), torch's double backward a tensor of
            // zeros for the input, which the steps before it multiply, 0·∞ = NaN where one's slope is infinite (`fuzz
            // adversarial 50/13`, float32: hardshrink(W·x + x) with W holding −1e300, −∞ in float32: the Hessian of this
            // linear map is 0, ours; torch's NaN in x₀'s row and column; FuzzSeeds57To61Tests)
            case OpKind.Hardshrink or OpKind.Softshrink when a[0].numel() > 0:
                return "Hardshrink or Softshrink (curvature 0 on every branch)";
            // logit with eps is logit(clamp(x, eps, 1 − eps)), flat outside the bounds, so every derivative there is 0 (ours:
            // the clamp's masked slope, a symbolic zero at second order). Torch's rule where(eps ≤ x ≤ 1 − eps, g/(x(1 − x)), 0)
            // hands its untaken branch the cotangent 0, and the quotient's slope −0·g/(x(1 − x))² is 0/0 where that square
            // underflows (x at 0 or 1, or tiny), 0·NaN at a NaN x and 0·∞ at an infinite one: its JVP and second order are
            // NaN there (`fuzz all adversarial 121/38`: logit(x, 0.25) over a squashed NaN, shrunk to x = 0, JVP and Hessian 0
            // in ours, NaN in torch's; FuzzSeeds121To126Tests). Named where x(1 − x) is below 1e-19 in magnitude (its square
            // underflows float32) or not finite.
            case OpKind.Logit when s.Mode == 1 && a[0].numel() > 0
                    && Any(a[0].mul(a[0].neg().add(1.0)) is var p ? p.abs().lt(1e-19).logical_or(p.isfinite().logical_not()) : null!):
                return "Logit with eps where x(1 − x) is 0, tiny or not finite (torch's untaken branch differentiates to 0/0)";
            case OpKind.LogSigmoid when AnyInfinite(a[0]):
                return "LogSigmoid of an infinite value";
            // the same below −40, where ours is −softplus(−x) above the threshold (curvature a symbolic zero, as "Softplus
            // above the threshold"); torch's double backward multiplies the cotangent by σ(x)(σ(x) − 1), whose σ(x) = 1/(1 + e^−x)
            // is exactly 0 in float32 from x ≈ −88.7 (e^−x overflows), so an infinite cotangent meets it as 0·∞ = NaN. The
            // curvature's closed form, −σ(x)σ(−x) ≈ −e^x, is not 0 (3.7e-44 at x = −100, a float32 subnormal), so under an
            // infinite cotangent neither engine's second order is the closed form's ±∞ there: both take the curvature 0, and
            // differ only in 0·∞ (`fuzz all adversarial 44/296`, float32: logsigmoid(−100) in a matmul with −∞ weights,
            // second order 0.088 in ours, NaN in torch's; FuzzEdges15Tests)
            case OpKind.LogSigmoid when Any(a[0].lt(-SoftplusThreshold)):
                return "LogSigmoid below minus the softplus threshold";
            case OpKind.Relu when AnyInfinite(a[0]) || Any(a[0].isnan()):
                return "Relu of an infinite or NaN value";
            // prelu and leaky relu are piecewise linear, and torch's double backward of each hands its input zeros_like(input),
            // the derivative of its slope, whatever cotangent arrives; an infinite slope of the step before meets those zeros as
            // 0·∞ = NaN, where ours is a symbolic zero (as relu's above) and the closed form a number. Named, as relu's, where
            // the input is infinite or NaN (`fuzz all adversarial 29/89`, float32: prelu(lerp(a, b, w)) at w = −88 with
            // b = 1e300, +∞ in float32; both engines' lerp is b − (b − a)(1 − w) there, ∞ − ∞ = NaN, so both take prelu's
            // slope c, and lerp's slope in w is b − a = +∞: the second order in w, c·(Σu·v_b − Σuᵢ·v_aᵢ), is ours and what
            // torch's own lerp times c gives, torch's through prelu NaN; FuzzSeeds82To86Tests)
            case OpKind.Prelu or OpKind.LeakyRelu when AnyInfinite(a[0]) || Any(a[0].isnan()):
                return "Prelu or LeakyRelu of an infinite or NaN value";
            // clamp at NaN, as relu: both engines' slope there is the mask's 0 (NaN ≥ min is false), ours a where whose
            // derivative is a symbolic zero; torch's double backward meets the NaN of the steps around it with that mask's
            // zeros, NaN (`fuzz wide adversarial 123/165`: sin(clamp(x², min −1)) at x = NaN, Hessian 0 in ours, NaN in
            // torch's, the gradient NaN in both; FuzzSeeds121To126Tests)
            case OpKind.Clamp when Any(a[0].isnan()):
                return "Clamp of a NaN value";
            case OpKind.Abs when AnyInfinite(a[0]) || Any(a[0].isnan()):
                return "Abs of an infinite or NaN value";
            // Huber and smooth L1 are linear where |a − b| passes δ (β), so their curvature there is 0: ours a symbolic zero (a
            // where's branch), torch's double backward a tensor of zeros (its mask |d| < δ), which an infinite factor of the
            // steps around it meets as 0·∞ = NaN, as on elu's linear branch (`fuzz all adversarial 90/266`: kron(−∞, mean of
            // huber(x₁, x₀)) at differences −1.57 and −1.32 with δ = 1, whose second derivatives in x₀ and x₁ are the mixed
            // terms through −∞'s slope alone, finite in ours; torch's NaN; FuzzSeeds87To110Tests)
            case OpKind.Huber or OpKind.SmoothL1 when a[0].numel() > 0 && a[1].numel() > 0
                    && Any((a[0] - a[1]).abs().gt(s.Scalar).logical_and((a[0] - a[1]).isfinite())):
                return "Huber or SmoothL1 on its linear branch (curvature 0)";
            // nanmean too (`fuzz latest adversarial 3/1`: the nanmean of a [0, 2] tensor, JVP 0 in ours, NaN in torch's)
            case OpKind.Mean or OpKind.BceWithLogits or OpKind.Mse or OpKind.Nanmean when a[0].numel() == 0:
                return "Mean over no entries";
            // a conv3d depth tap that reads only the padding reads constant zeros, whose tangent is a symbolic zero in ours
            // (Conv3d pads the depth and slices it per tap), where torch's double-backward JVP and second order multiply the
            // zeros by the tap's weight, 0·∞ = NaN at a non-finite one (`fuzz latest adversarial 1/91`, float32: conv3d with padding 1
            // over zeros, a +∞ weight on depth tap 0: its JVP in the input is finite, the other taps' weights, in ours, NaN
            // in torch's); FuzzOpsTests
            case OpKind.Conv3d when NonFiniteWeightOverDepthPadding(s, a):
                return "Conv3d with a non-finite weight on a depth tap over the padding";
            // the losses of the rest of the surface under the reduction 'mean' or 'batchmean', as the mean over none (`fuzz all
            // adversarial 41/295`: matrix_power of the binary cross-entropy of two empty tensors, its JVP 0 in ours, NaN in torch)
            case OpKind.BinaryCrossEntropy or OpKind.Huber or OpKind.SmoothL1 or OpKind.KlDiv or OpKind.GaussianNllLoss or OpKind.NllLoss
                when a[0].numel() == 0 && (s.Mode == 0 || s.Mode == 3):
                return "Mean over no entries";
            // the nll loss whose every target is ignored, under 'mean': 0/0 over no kept entry, a function of no input (ours
            // the zero map since branch fuzzops, Loss.MeanOverKept), where the reference's double backward differentiates its
            // division by 0 under a zero cotangent, 0·∞ (`fuzz latest adversarial 4/176`; FuzzOpsTests)
            case OpKind.NllLoss when s.Flag && s.Mode == 0 && s.Ints.All(t => t == (int)s.Scalar):
                return "Mean over no entries";
            // the zero map, as for the mean (ours: Statistics.var); torch's std divides var's tangent −0 by 2·std = NaN
            // (`fuzz adversarial 3/18`: the std over the empty axis of a [0, 6] tensor); torch's var, with correction 0,
            // gives its JVP NaN (`fuzz adversarial 21/225`: the variance of an empty vector), and its zero cotangent meets
            // the NaN slope of an earlier step (`fuzz adversarial 21/62`, float32: a cross-entropy at a +∞ logit, its
            // minimum with an empty [0, 4] constant, then the variance over the empty axis: torch's gradient NaN)
            case OpKind.Std or OpKind.Var when a[0].numel() == 0:
                return "Var or Std over no entries";
            // a distance over an empty last axis is 0 whatever the operands: the zero map, as the mean's over none; torch's
            // p-norm backward divides by the norm, 0/0 (`fuzz all 4/434`: pairwise_distance([1, 0] tensor, a scalar, p = 3),
            // its JVP 0 in ours, NaN in torch)
            case OpKind.PairwiseDistance when TorchSharp.torch.broadcast_tensors(a[0], a[1])[0] is var d && d.dim() > 0 && d.shape[^1] == 0:
                return "PairwiseDistance over no entries";
            // the same for torch.dist over an empty broadcast: the norm of no entries is 0 for every operand, so its JVP is 0
            // in ours; torch's NaN (`fuzz all adversarial 44/183`: dist of a [0, 1] tensor and a scalar, p = 3; FuzzEdges13Tests)
            case OpKind.Dist when TorchSharp.torch.broadcast_tensors(a[0], a[1])[0].numel() == 0:
                return "Dist over no entries";
            case OpKind.Erf or OpKind.Erfc or OpKind.Gelu when Any(a[0].abs().gt(SquareOverflows)):
                return "Erf, Erfc or Gelu where x² overflows";
            // the tanh approximation's slope ½(1 + tanh u) + ½x·(1 − tanh² u)·u′, u = √(2/π)(x + 0.044715x³): where x²
            // overflows, u′ = √(2/π)(1 + 3·0.044715x²) is +∞ and tanh has saturated, so torch's reference (its composite, as
            // F.gelu's tanh form) meets 0·∞ = NaN; the closed form is the limit, 1 above and 0 below, since
            // x·sech²(u)·u′ falls like x³e^(−2u), and ours takes it (`fuzz adversarial 45/50`: gelu_tanh(1e300), gradient u in
            // ours, NaN in torch; FuzzEdges15Tests)
            case OpKind.GeluTanh when Any(a[0].abs().gt(SquareOverflows)):
                return "GeluTanh where x² overflows";
            case OpKind.Prod when AnyInfinite(a[0]) && Any(a[0].eq(0.0)):
                return "Prod over an infinity and a 0";
            case OpKind.LogSumExp when a[0].numel() == 0:
                return "LogSumExp over no entries";
            case OpKind.MaxPool2d when Any(a[0].isfinite().logical_not()):
                return "MaxPool2d over a non-finite value";
            case OpKind.AvgPool2d when Any(a[0].isfinite().logical_not()):
                return "AvgPool2d over a non-finite value";
            // adaptive average pooling is linear as well, and torch's adaptive_avg_pool2d_backward reads its input the same
            // way (`fuzz 25/1626`: the pool of an index select of x·x at x = [[0, 0], [NaN, −0]], whose second order is the
            // constant of a quadratic, finite, ours; torch's NaN)
            case OpKind.AdaptiveAvgPool2d when Any(a[0].isfinite().logical_not()):
                return "AdaptiveAvgPool2d over a non-finite value";
            case OpKind.Cumprod when AnyInfinite(a[0]) || AnyInfinite(TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64)):
                return "Cumprod with an infinite entry or an overflowing running product";
            case OpKind.CrossEntropy when a[0].dim() > 0 && a[0].shape[a[0].dim() > 1 ? 1 : 0] == 1 && Any(a[0].isfinite().logical_not()):
                return "CrossEntropy over one class at a non-finite logit";
            // a multi-margin loss over one class sums over no other class: the constant 0, whose derivative is the zero map; torch's
            // backward multiplies its zero slopes by the cotangent, 0·∞ = NaN under an infinite one (`fuzz fresh adversarial
            // 45/199`, float32: a bilinear layer with a −∞ weight after it, gradient 0 in ours, NaN in torch's; FuzzOpenTests)
            case OpKind.MultiMarginLoss when a[0].dim() > 0 && a[0].shape[a[0].dim() - 1] == 1:
                return "MultiMarginLoss over one class (the constant 0)";
            case OpKind.Prod when !Any(a[0].eq(0.0)) && Any(TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).eq(0.0)):
                return "Prod that underflows to 0";
            case OpKind.PowScalar when s.Scalar < 0 && Any(a[0].ne(0.0).logical_and(a[0].abs().pow(s.Scalar - 1).lt(SmallestNormal))):
                return "PowScalar with a negative exponent where x^(c-1) is subnormal";
            case OpKind.Norm or OpKind.FrobeniusNorm when (s.Kind == OpKind.FrobeniusNorm || s.Scalar == 2) && Any(TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).eq(0.0)):
                return "2-norm at 0";
            // the same for the orders between 1 and ∞ where ‖x‖^(p−1) underflows (at 0 too, and below float32's least normal
            // to the power 1/(p − 1), as the float32 run meets it): torch's rule x·|x|^(p−2)/‖x‖^(p−1) is 0/0 there, where the
            // slope of a nonzero group is a number, and both engines' convention for the kink at 0 is 0 (`fuzz recent
            // adversarial 49/127`: ‖1e-310‖₃ = |x|, gradient u·sgn x in ours, NaN in torch's; float32: ‖0‖₃, JVP 0 in ours); pdist's
            // distances are such norms of the rows' differences (`fuzz fresh adversarial 57/56` shrunk: pdist of two equal rows at
            // p = 3, JVP 0 in ours, NaN in torch's)
            case OpKind.Norm or OpKind.Pdist when s.Scalar > 1 && s.Scalar != 2 && !double.IsPositiveInfinity(s.Scalar)
                    && Any(TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).lt(Math.Pow(SmallestNormalFloat32, 1 / (s.Scalar - 1)))):
                return "p-norm whose ‖x‖^(p−1) underflows (1 < p < ∞)";
            // i1(±∞) is ±∞ (see TorchWrong, "I1 at ±∞"): torch's NaN value spreads through the steps after it, where ours has the
            // limits' slopes (`fuzz recent adversarial 49/182`: tanh(x + i1(+∞)), gradient 0 in x in ours, NaN in torch's)
            case OpKind.I1 when Any(a[0].isinf()):
                return "I1 at ±∞ (torch's NaN value)";
            // var over no more entries than its correction is 0/0 = NaN with the slope NaN; where a later step drops it (a
            // select_scatter over it) its cotangent is 0, which torch's rule meets as 0·NaN, where the program does not depend
            // on it (`fuzz recent adversarial 49/256`: var_mean of one entry, correction 1, overwritten; gradient 0 in ours)
            case OpKind.Var or OpKind.Std when TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64) is var v && v.numel() > 0
                    && a[0].numel() / v.numel() <= (s.Mode == 0 ? 1 : s.Scalar):
                return "Var or Std over no more entries than its correction (its NaN slope under a zero cotangent)";
            case OpKind.Lgamma or OpKind.Digamma or OpKind.Polygamma when Any(a[0].eq(double.PositiveInfinity)):
                return "the polygamma family at +inf";
            case OpKind.Lgamma or OpKind.Digamma or OpKind.Polygamma when Any(a[0].eq(0.0)):
                return "the polygamma family at its pole 0";
            // torch's rule is det·A⁻ᵀ, whose inverse of a matrix with an infinite entry is NaN; the derivative's
            // closed form is the cofactor matrix, a number wherever the cofactor is (ours up to 3×3, the cofactor expansion; from
            // 4×4 on ours goes through the LU factorisation and is NaN too; 1 for a 1×1 matrix
            // [+∞], `fuzz adversarial 11/158`, float32, where 1e30·1e10 overflowed to +∞)
            case OpKind.Det when AnyInfinite(a[0]):
                return "Det of a matrix with an infinite entry";
            // ours is x itself over one entry (Nn.logSumExp), slope 1; torch's rule e^(x − result) is e^(−∞ + ∞) = NaN
            // at an infinite entry (`fuzz 4/1064`: exp(logsumexp x) over an axis of length 1 at x = −∞)
            case OpKind.LogSumExp when a[0].dim() > 0 && a[0].shape[s.Ints[0] < 0 ? s.Ints[0] + (int)a[0].dim() : s.Ints[0]] == 1
                                       && Any(a[0].isfinite().logical_not()):
                return "LogSumExp over an axis of length 1 at a non-finite entry";
            // at finite entries too, as softmax's: ours is x, whose second derivative is a symbolic zero; torch's slope
            // e^(x − result) is differentiated as e^(x − result)·(ẋ − ẋ), ∞ − ∞ = NaN under an infinite cotangent
            // (`fuzz 15/858`: x₁/logsumexp(x₀) over one entry with x₁ holding +∞, whose Hessian entry in x₀, 2⟨u, x₁⟩/x₀³,
            // is −∞ in ours and the closed form, NaN in torch)
            case OpKind.LogSumExp when a[0].dim() > 0 && a[0].shape[s.Ints[0] < 0 ? s.Ints[0] + (int)a[0].dim() : s.Ints[0]] == 1:
                return "LogSumExp over an axis of length 1";
            // atan2(x, x) is constant where x ≠ 0 (π/4 or −3π/4), so every derivative that passes through it into another
            // input is 0; ours keeps the first derivative's NaN at ±∞ (∞/∞, as torch's), and its second derivative into the
            // other operands is the cancelled (a − b)/(a² + b²) with a = b, a symbolic zero; torch's is NaN there
            // (`fuzz 5/799`: atan2(y, atan2(x, x)) at x = +∞, whose second derivative in y is 0); the same at NaN, where ours is
            // the symbolic zero too (`fuzz wide 104/152`: atan2(x, x) at x = NaN, second order 0 in ours, NaN in torch's)
            case OpKind.Atan2 when s.Args[0] == s.Args[1] && (AnyInfinite(a[0]) || Any(a[0].isnan())):
                return "Atan2 of a value with itself at an infinity or NaN";
            // over one entry layer norm is (x − x)/√ε = 0, a constant, whose derivative is the zero map (ours); torch's
            // rule multiplies its zero partials by the cotangent, 0·∞ = NaN where that is infinite
            // (`fuzz adversarial 14/279`: a linear layer with a −∞ weight over the layer norm of one entry)
            case OpKind.LayerNorm when a[0].dim() > 0 && a[0].shape[^1] == 1:
                return "LayerNorm over one entry";
            // ours is 1 − (πx)²/6 + (πx)⁴/120 at 0 (Elementary.sinc), whose curvature −π²/3 is sinc's; torch's rule masks its
            // slope to 0 there and its second derivative, and the JVP it gives by differentiating its backward, are NaN
            // (`fuzz adversarial 28/279`: sinc(0), second derivative 0.275 = −π²/3·u·v in ours; `28/84`: over 18 zeros). So
            // where πx² underflows: torch's slope (πx·cos πx − sin πx)/(πx²) is 0/0 = NaN there, where the closed form
            // −π²x/3 is ours (`fuzz adversarial 28/10`: its JVP at x = 1e-300, −4.2e-300 in ours)
            // σ′ at ±∞ is exactly 0 in torch's y(1 − y), and its second derivative meets the infinite square of the step
            // before as 0·∞ = NaN, where the closed form, e^(−x²) times powers of x, is 0 and ours (σ′ one primitive, 0
            // at ±∞) is (`fuzz adversarial 2/70`: the binary cross-entropy of x against σ(x²) at x = 1e160)
            case OpKind.Sigmoid when AnyInfinite(a[0]):
                return "Sigmoid of an infinite value";
            // where σ(x) rounds to ½ at a nonzero x (|x| below 2^-23 covers float32's rounding, below about 1e-16 float64's),
            // torch's curvature g·(1 − 2y)·y(1 − y) has the factor 1 − 2y = 0 exactly and meets an infinite factor of the steps
            // around it as 0·∞ = NaN, where the closed form σ″(x) = −σ′(x)·tanh(x/2) ≈ −x/8 is not 0, so the product is ±∞, and
            // ours, σ′·(−tanh(x/2)), is (`fuzz wide adversarial 87/145`, float32: a conv1d with −∞ weights over the mean of
            // sigmoids at −1e-38, second order +∞ in ours, NaN in torch's; FuzzSeeds87To110Tests)
            case OpKind.Sigmoid when Any(a[0].ne(0.0).logical_and(a[0].abs().lt(Math.ScaleB(1.0, -23)))):
                return "Sigmoid at a nonzero x where σ(x) rounds to ½ (torch's curvature factor 1 − 2y is exactly 0)";
            // the same for tanh where it saturates (|tanh x| rounds to 1, from |x| ≈ 19 in float64): torch's slope 1 − y² is
            // exactly 0 there and meets an infinite slope of the step before as 0·∞ = NaN, where the closed form sech²(x)·x′
            // is its limit, 0 when sech² falls faster than x′ grows, and ours (sech² one factor, meeting the cotangent before
            // the slope before it, as rsqrt's factors one at a time) is (`fuzz adversarial 49/58`: tanh(rsqrt(x)) at
            // x = 1e-300, tanh at 1e150: gradient 0 in ours, NaN in torch's; FuzzSeeds57To61Tests)
            case OpKind.Tanh when Any(a[0].tanh().abs().eq(1.0)):
                return "Tanh where it saturates (torch's slope 1 − y² is exactly 0)";
            case OpKind.BceWithLogits when AnyInfinite(a[1]):
                return "Sigmoid of an infinite value";
            // the slopes a/h and b/h at an infinite operand are ∞/∞ = NaN in torch; their limits, and ours, are the sign of
            // the infinite operand and 0 for a finite one (`fuzz 2/309`: hypot(x, −∞), gradient −Σu in −∞)
            case OpKind.Hypot when AnyInfinite(a[0]) || AnyInfinite(a[1]):
                return "Hypot at an infinite operand";
            // at the origin hypot is the 2-norm of (a, b), a cone with no derivative; ours takes the 2-norm's documented
            // slope 0 there (Elementary.hypot, as torch's own vector_norm masks it), torch's a/h is 0/0 = NaN (`fuzz
            // 22/1282`: hypot(x₀, x₁) with x₀ = x₁ = 0 in three entries, gradient 0 in ours)
            case OpKind.Hypot when TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var origin
                    && Any(origin[0].eq(0.0).logical_and(origin[1].eq(0.0))):
                return "Hypot at the origin";
            // acosh′ = 1/√(x² − 1) and asinh′ = 1/√(x² + 1) are 0 at ±∞ and their second derivatives ∓x/(x² ∓ 1)^(3/2) have the
            // limit 0 there (ours); torch's rule g·rsqrt(x² ∓ 1) differentiates to −½g·rsqrt(x² ∓ 1)³·2x, 0·∞ = NaN (`fuzz all
            // adversarial 72/213`: acosh at +∞, second order 0 in ours, NaN in torch's; FuzzSeeds82To86Tests)
            case OpKind.Acosh or OpKind.Asinh when AnyInfinite(a[0]):
                return "Acosh or Asinh at an infinite value";
            case OpKind.Sinc when Any(a[0].abs().lt(1e-150)):
                return "Sinc at 0 or where πx² underflows";
            // over one entry logcumsumexp is x itself (ours, Indexing.logcumsumexp), slope 1; torch's rule is NaN at a NaN
            // entry (`fuzz 19/674`: over the axis of length 1 of [0, 0, NaN], gradient u in ours)
            // from a +∞ entry on, the running logaddexp meets equal infinities, where ours takes its slopes' limits (1 for the
            // infinite entry, 0 for the others, as LogAddExp's rule); torch's weights e^(xⱼ − outₖ) are e^(∞ − ∞) = NaN there
            // (`fuzz adversarial 30/208`: logcumsumexp down the columns of a 3×3 holding +∞ at [1, 1], whose gradient in that
            // entry is u₁₁ + u₂₁ in ours, NaN in torch)
            case OpKind.LogCumSumExp when Any(a[0].eq(double.PositiveInfinity)):
                return "LogCumSumExp over a +∞ entry";
            case OpKind.LogCumSumExp when a[0].dim() > 0 && a[0].shape[s.Ints[0] < 0 ? s.Ints[0] + (int)a[0].dim() : s.Ints[0]] == 1
                                          && Any(a[0].isfinite().logical_not()):
                return "LogCumSumExp over an axis of length 1 at a non-finite entry";
            // F.normalize divides by max(‖x‖, eps): at a zero slice it is x/eps, whose second derivative is 0 (ours); torch's
            // is the 2-norm's second derivative at 0 (NaN, the convention "2-norm at 0") times the clamp's zero slope
            // (`fuzz 19/417`: normalize of [0]; `19/1471`: of a [3, 2, 2] zero tensor along axis −2)
            case OpKind.Normalize when s.Scalar == 2 && a[0].numel() > 0
                    && Any(TorchSharp.torch.linalg.vector_norm(a[0], 2, new long[] { s.Ints[0] }).eq(0.0)):
                return "Normalize of a zero slice";
            // the same below eps where the norm's curvature (I − x̂x̂ᵀ)/‖x‖ overflows (‖x‖ below 1/MaxValue, of float32 so that
            // the float64 forward run names the float32 run's programs too): torch multiplies it by the clamp's zero slope,
            // 0·∞ = NaN, where normalize is x/eps, linear, with the second derivative 0, ours (`fuzz adversarial 36/178`:
            // normalize of [1e-310])
            case OpKind.Normalize when s.Scalar == 2 && a[0].numel() > 0
                    && Any(TorchSharp.torch.linalg.vector_norm(a[0], 2, new long[] { s.Ints[0] }).lt(1.0 / float.MaxValue)):
                return "Normalize of a slice whose norm's reciprocal overflows";
            // torch's rule g/(1 + e^(b − a)) differentiates to g·e^d/(1 + e^d)², ∞/∞ = NaN where e^|a − b| overflows (float32
            // beyond 88.7, float64 beyond 709.8), where the closed form σ(d)σ(−d)·g is 0 to every digit and ours is
            // (`fuzz adversarial 28/87`: logaddexp of a solve's [−96977, 178225, 561993] and their sum 643241)
            case OpKind.LogAddExp when TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var pair
                    && Any(pair[0].isfinite().logical_and(pair[1].isfinite()).logical_and((pair[0] - pair[1]).abs().gt(88.72))):
                return "LogAddExp with operands farther apart than exp's range";
            // and an infinite operand beside a finite one: logaddexp is the larger operand there (or −∞ and x: x), with slopes
            // 1 and 0 and curvature σ(d)σ(−d) = 0 at d = ±∞ (ours); torch's e^d/(1 + e^d)² is ∞/∞ = NaN (`fuzz adversarial
            // 37/67`: logaddexp(0, x) at x = −∞; `38/248`: logaddexp(−∞, x) over a column of finite x)
            case OpKind.LogAddExp when TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var mixed
                    && Any(mixed[0].isinf().logical_and(mixed[1].isfinite()).logical_or(mixed[1].isinf().logical_and(mixed[0].isfinite()))):
                return "LogAddExp of an infinite and a finite operand";
            // logaddexp2 is the same function in base 2, and torch's second order is NaN there too (`fuzz fresh adversarial
            // 45/48`: logaddexp2(0.70, −∞), whose curvature is 0 in ours; FuzzSeeds41To45Tests reads torch's NaN)
            case OpKind.LogAddExp2 when TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var mixed2
                    && Any(mixed2[0].isinf().logical_and(mixed2[1].isfinite()).logical_or(mixed2[1].isinf().logical_and(mixed2[0].isfinite()))):
                return "LogAddExp2 of an infinite and a finite operand";
            // and, as LogAddExp's, where finite operands lie farther apart than exp2's range (2^d overflows float32 beyond
            // d = 128): torch's curvature is NaN, ours the closed form's 0 (`fuzz recent adversarial 2/218`, float64:
            // logaddexp2 of 2.58 and −2.58e160)
            case OpKind.LogAddExp2 when TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var apart2
                    && Any(apart2[0].isfinite().logical_and(apart2[1].isfinite()).logical_and((apart2[0] - apart2[1]).abs().gt(128.0))):
                return "LogAddExp2 with operands farther apart than exp2's range";
            // copysign(x, y) = sign(y)·|x| is linear on each side of x = 0, with abs's convention at the kink: the second
            // derivative is 0 (ours); torch's is NaN at x = 0 and, in float32, at subnormal x (`fuzz fresh adversarial 45/43`:
            // copysign of [0, 0, 0.41, 1e-40, 0.098, 0] by −2, float32; FuzzSeeds41To45Tests). Detected below float32's least
            // normal from the float64 values, as the float32 run needs.
            case OpKind.Copysign when TorchSharp.torch.broadcast_tensors(a[0], a[1])[0] is var magnitudes
                    && Any(magnitudes.abs().lt(1.1754943508222875e-38)):
                return "Copysign of a zero or float32-subnormal magnitude";
            // logaddexp(x, x) is x + log 2, slope ½ in each operand; where both are −∞ ours keeps the tie's ½ (as at every
            // pair of equal operands), torch's weights e^(x − out) are e^(−∞ − (−∞)) = NaN (`fuzz 22/0`: logaddexp(x, x) at
            // an entry −∞, whose gradient is u there in ours, NaN in torch)
            case OpKind.LogAddExp when TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var ties
                    && Any(ties[0].eq(double.NegativeInfinity).logical_and(ties[1].eq(double.NegativeInfinity))):
                return "LogAddExp of two −∞ operands";
            // a^b at a = +∞: the exponent's partial y·log a is ±∞ (or 0·∞ where y is 0), and torch's double backward sends it
            // through the steps before as a cotangent, where a mean over it is ∞ − ∞ = NaN (instance norm's), and multiplies
            // its masked base slope 0 by log ∞ at second order; ours is the chain rule, the exponent's tangent times ±∞, and
            // the second derivative in a, y·(1/a) = 0 there (`fuzz adversarial 23/125`: pow(x₁, instance_norm(x₀)) with x₁
            // holding +∞ over an exponent 0, JVP +∞ in ours, NaN in torch; FuzzConventionTests)
            case OpKind.Pow when Any(a[0].eq(double.PositiveInfinity)):
                return "Pow at an infinite base";
            // the derivatives of Y = A⁻¹B solve again against right sides built from Y (the JVP's A⁻¹(Ḃ − ȦY)), which overflow
            // where Y holds a finite entry whose square overflows; torch's LU substitutions then meet the ±∞ as 0·∞ (a factor's
            // exact zero) or ∞ − ∞, NaN in unknowns that do not depend on it, where the closed form is a number and ours (whose
            // substitutions skip zero coefficients at an infinite right side, the convention "an infinite right-hand side")
            // keeps it (`fuzz adversarial 35/99`: solve(tanh(X·X) + diag(4, 0, 4), X) at X = 1e300·E₁₁, whose JVP is
            // Ẋᵢⱼ/Aᵢᵢ off column 1, Ẋ₁₁ at (1, 1) and ∓∞ elsewhere in column 1; torch's NaN at (1, 1), and in its Hessian's rows)
            case OpKind.Solve when TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64) is var solution
                    && Any(solution.abs().gt(SquareOverflows).logical_and(solution.isfinite())):
                return "Solve with a finite solution whose square overflows";
            // kl_div's target term p·log p (torch's xlogy(p, p)) has the slope log p + 1: −∞ at p = 0 (one-sided, as √'s +∞
            // at 0) and +∞ at p = +∞, and the curvature 1/p, ours in both modes (Functional.klDivElements); torch's xlogy rule
            // adds p/p, 0/0 or ∞/∞ = NaN there, in the gradient, the JVP and the second order (`fuzz all 1/249`: kl_div of a zero
            // target against a zero input; `all 2/219`, `all 2/624`: a target with one entry 0)
            // the second derivatives of cumprod are products of the entries other than the two differentiated, so the row of a
            // NaN entry holds no NaN factor, and a zero among the others makes it 0 (ours); torch's rule divides by the entries
            // or sums over them, NaN there (`fuzz all adversarial 2/203`: cumprod of [0, 0, NaN, 0], second order 0 in the NaN's
            // entry in ours)
            case OpKind.Cumprod when Any(a[0].isnan()) && Any(a[0].eq(0.0)):
                return "Cumprod over a NaN entry and a zero";
            // the losing operand of a maximum or minimum does not reach the value, so every derivative into it is 0 (ours: the
            // where's masked cotangent); torch's zero cotangent for it meets an infinite factor of the step before as 0·∞ = NaN
            // (`fuzz 25/1519`: x₁/minimum(x₂·x₀, x₂) at x₀ = x₂ = −∞, whose Hessian is 0 in x₀'s rows and columns in ours,
            // NaN in torch's)
            case OpKind.Maximum or OpKind.Minimum when AnyInfinite(a[0]) || AnyInfinite(a[1]):
                return "Maximum or Minimum at an infinite operand";
            case OpKind.KlDiv when !s.Flag && (Any(a[1].eq(0.0)) || Any(a[1].eq(double.PositiveInfinity))):
                return "KlDiv at a target 0 or +∞";
            // Φ″(x) = −x·φ(x) tends to 0 at ±∞ (ours); torch's double backward forms −x·φ(x) as ∞·0 = NaN there (`fuzz fresh
            // 3/209`: ndtr of [0, −∞], second order 0 in ours, NaN in torch's at −∞; FuzzFreshTests)
            case OpKind.Ndtr when AnyInfinite(a[0]):
                return "Ndtr at ±∞ (torch's curvature −x·φ(x) is ∞·0)";
            // with a log target the loss is e^t·(t − x); where e^t overflows at a finite t, torch's double backward multiplies
            // e^t = ∞ by the difference of t's and x's slopes, 0 where they move together, ∞·0 = NaN, where the closed form is
            // ±∞ (`fuzz all adversarial 68/107`: kl_div(x, index_add(x, [0, 1e10]), log_target) at x = 0, whose loss is
            // mean(e^(x + c)·c), second order u·v·e^(x + c)·c/2 = +∞ at c = 1e10, ours; torch's NaN)
            case OpKind.KlDiv when s.Flag && Any(a[1].isfinite().logical_and(a[1].exp().isinf())):
                return "KlDiv with a log target whose exponential overflows";
            // addcdiv(s, a, b, c) = s + c·a/b has the partials c/b in a and −c·a/b² in b, 0 at b = ±∞ beside a finite a, and so
            // every second derivative there (2c·a/b³, −c/b²): ours; torch's double backward forms b·b = ∞ and divides by it
            // again, ∞/∞ = NaN (`fuzz all adversarial 54/54`, float32: addcdiv(x₂, x₁, x₀, −2) at x₀ = 1e300, +∞ in float32;
            // FuzzSeeds52To56Tests)
            case OpKind.AddCDiv when TorchSharp.torch.broadcast_tensors(a[1], a[2]) is var quotient
                    && Any(quotient[1].isinf().logical_and(quotient[0].isfinite())):
                return "AddCDiv by an infinite divisor";
            default:
                return null;
        }
    }

    /// <summary>
    /// Whether a live Slice drops entries of an operand computed through a step with an infinite slope (see
    /// <see cref="UpstreamInfiniteSlope"/>): the dropped entries' derivative is the zero map, a
    /// symbolic zero in ours, so nothing flows back through them; torch's slice rule pads the cotangent with a tensor of
    /// zeros, which the infinite slope turns into 0·∞ = NaN (`fuzz adversarial 14/70`: the rows of stack(√(eˣ), eˣ) that
    /// hold eˣ, at x = [0, ∞, 0], whose Hessian is diag(u·eˣ), torch's NaN at the infinity). One-directional, as every
    /// TorchNaNEdge.
    /// </summary>
    bool SliceDropsBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (live[i] && s.Kind is OpKind.Slice or OpKind.Narrow && values[InputCount + i].numel() < values[s.Args[0]].numel()
                && UpstreamInfiniteSlope(s.Args[0], values))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live NllLoss reads an input, of more entries than its targets pick, computed through a step with an infinite
    /// slope (see <see cref="UpstreamInfiniteSlope"/>): the loss is linear in its input and reads only the targets' entries,
    /// so its second derivative is the zero map (ours: no cotangent through its rule), where torch's nll_loss double
    /// backward returns a tensor of zeros for its input, which the infinite slope before it turns into 0·∞ = NaN, as "Slice
    /// that drops entries" (`fuzz all adversarial 66/1`: the nll loss of a matmul of two 3×3 matrices holding +∞ at one
    /// target, bilinear, whose second order is the constant cross term, finite; torch's NaN in 6 of 18 entries). One-directional,
    /// as every TorchNaNEdge.
    /// </summary>
    bool NllLossBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (live[i] && s.Kind == OpKind.NllLoss && values[s.Args[0]].numel() > s.Ints.Length
                && UpstreamInfiniteSlope(s.Args[0], values))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Clamp holds entries beyond a bound, or a live Where leaves entries of an operand untaken, where that
    /// operand is computed through a step with an infinite slope (see <see cref="UpstreamInfiniteSlope"/>): those entries do
    /// not reach the value, so every derivative through them is 0 (ours: the mask's cotangent, which our rules after it
    /// never meet as 0·∞ at second order); torch's clamp and where rules write a tensor of zeros there, which its double
    /// backward meets with the infinite slope as 0·∞ = NaN, as "Slice that drops entries" (`fuzz all adversarial 54/77`,
    /// float32: where(1, c, x²) at x = 1e300, +∞ in float32, Hessian NaN in torch's column of x, 0 in ours; `56/7`, float32:
    /// clamp(x₁·x₀, max 0)/x₁ at x₁ = +∞, constant 0 for x₀ > 0, Hessian NaN in torch's). One-directional, as every
    /// TorchNaNEdge.
    /// </summary>
    bool MaskedEntriesBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i]) continue;
            if (s.Kind == OpKind.Clamp && values[s.Args[0]] is var x && x.numel() > 0
                    && (s.Mode != 2 && x.lt(s.Data![0]).any().item<bool>() || s.Mode != 1 && x.gt(s.Data![1]).any().item<bool>())
                    && UpstreamInfiniteSlope(s.Args[0], values))
                return true;
            if (s.Kind == OpKind.Where && TorchSharp.torch.broadcast_tensors(values[s.Args[0]], values[s.Args[1]], values[s.Args[2]]) is var w
                    && w[0].numel() > 0
                    && (w[0].eq(0.0).any().item<bool>() && UpstreamInfiniteSlope(s.Args[1], values)
                        || w[0].ne(0.0).any().item<bool>() && UpstreamInfiniteSlope(s.Args[2], values)))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Det of matrices up to 3×3 has an operand computed through a step with an infinite slope (see
    /// <see cref="UpstreamInfiniteSlope"/>), where an entry's first derivative can be NaN (∞^b·log ∞ at b &lt; 0 is 0·∞). The
    /// determinant's second derivatives ∂²det/∂aᵢⱼ∂aₖₗ are 0 wherever the two entries share a row or a column, so the
    /// closed form, and ours (the cofactor expansion up to 3×3), keep that NaN to the entries that share a product with
    /// the NaN entry; torch's double backward goes through A⁻¹, which mixes every entry, and spreads it to all of them
    /// (`fuzz adversarial 26/14`: det of tanh(softmax(…)) + 3I over a power with a base +∞; shrunk, det of c^x with
    /// c = [[10⁶, 10⁶], [+∞, 7921]] at x₁₀ = −0.18, whose Hessian-vector product is NaN at x₀₁ and x₁₀ only in ours and in
    /// the closed form, NaN in every entry in torch's). One-directional, as every TorchNaNEdge.
    /// </summary>
    bool DetBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (live[i] && s.Kind == OpKind.Det && values[s.Args[0]].dim() >= 2 && values[s.Args[0]].shape[^1] <= 3
                && UpstreamInfiniteSlope(s.Args[0], values))
                return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Prod over more than one zero has an operand computed through a step with an infinite slope (see
    /// <see cref="UpstreamInfiniteSlope"/>). Its second derivatives are products of all entries but two, 0 here, and the
    /// chain multiplies them by the infinite slope, 0·∞ = NaN: ours, the closed-form products, is NaN there. Torch's rule
    /// for more than one zero is a constant tensor of zeros, so its second derivatives do not reach the slope and are 0,
    /// which is the derivative of the function where the zeros are structural (`fuzz 4/1196`: the product of triu(√x), 12
    /// zeros of the triangle and √0 entries, torch's 0 at the entry x = 0.5). Neither engine's chain decides it, so the
    /// second-order checks are skipped; values and first derivatives are compared.
    /// </summary>
    bool ProdOfZerosBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind != OpKind.Prod) continue;
            var x = values[s.Args[0]];
            if (x.numel() > 0 && x.eq(0.0).sum().item<long>() >= 2 && UpstreamInfiniteSlope(s.Args[0], values)) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live log-softmax or softmax has a row of equal finite entries along its axis (ties), computed through a
    /// step with an infinite slope (see <see cref="SliceDropsBesideInfiniteSlope"/>). Under a cotangent that is the same
    /// along the row (a sum), the fused rule's g − softmax·Σg is exactly 0 there, so the chain meets the infinite slope as
    /// 0·∞ = NaN: the derivative does not exist (√ at 0 into log-softmax over three ties: the partial derivative in one
    /// entry is −1/3, along the diagonal 0). Ours is that NaN, the cotangent being exactly 0; torch's is ±∞, from the
    /// rounding residue of its softmax (1/3 times 3 is not 1) (`fuzz 4/247`: Σ log-softmax(√x) at x = [0, 0, 0]).
    /// </summary>
    bool SoftmaxOfTiesBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind is not (OpKind.LogSoftmax or OpKind.Softmax)) continue;
            var x = values[s.Args[0]];
            if (x.dim() == 0 || x.numel() == 0) continue;
            long axis = s.Ints[0] < 0 ? s.Ints[0] + x.dim() : s.Ints[0];
            if (x.shape[axis] < 2) continue;
            var ties = x.eq(x.amax(new[] { axis }, keepdim: true)).logical_and(x.eq(x.amin(new[] { axis }, keepdim: true)))
                .logical_and(x.isfinite()).all(axis);
            if (ties.any().item<bool>() && UpstreamInfiniteSlope(s.Args[0], values)) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Solve takes the reference's path for an infinite right-hand side (README, "An infinite right-hand side":
    /// A⁻¹b with each infinity's term A⁻¹[i, k]·b[k] dropped where A⁻¹[i, k] = 0) at a matrix whose inverse holds a 0 and
    /// that depends on an input. The mask is right for the value (b[k] does not reach x[i] there) but is held in the
    /// reference's derivatives, while a tangent of A moves that entry of A⁻¹: the JVP −A⁻¹ȦA⁻¹b keeps the term
    /// −(A⁻¹ȦA⁻¹)[i, k]·b[k], ±∞ or NaN, which the reference drops (its reverse mode sends the dropped term the where's zero
    /// cotangent, 0·∞ = NaN, FuzzSeed47Tests) (`fuzz adversarial 47/142`, float32 at its rounded inputs:
    /// solve of lower bidiagonal blocks against right sides holding +∞, JVP finite in the reference at unknowns whose exact
    /// tangent sums ±∞ and NaN terms, NaN in ours). Its derivative checks are skipped; values are compared.
    /// </summary>
    bool SolveOfInfiniteRightSideWithDerivativeInA(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind != OpKind.Solve) continue;
            var (matrix, rhs) = (values[s.Args[0]], values[s.Args[1]]);
            if (rhs.numel() == 0 || matrix.numel() == 0 || !rhs.isinf().any().item<bool>() || rhs.isnan().any().item<bool>()
                    || !matrix.isfinite().all().item<bool>())
                continue;
            if (TorchSharp.torch.linalg.inv(matrix).eq(0.0).any().item<bool>() && DependsOnInput(s.Args[0])) return true;
        }
        return false;
    }

    /// <summary>Whether a value is an input or is computed from one (not from constants alone).</summary>
    bool DependsOnInput(int value)
    {
        var stack = new Stack<int>();
        var seen = new HashSet<int>();
        stack.Push(value);
        while (stack.Count > 0)
        {
            int v = stack.Pop();
            if (v < InputCount) return true;
            if (!seen.Add(v)) continue;
            foreach (var a in Steps[v - InputCount].Args) stack.Push(a);
        }
        return false;
    }

    /// <summary>
    /// Whether a live layer, group, instance or batch norm has a finite constant group over which torch's output is not 0,
    /// read, directly or through elementwise steps that keep 0 at 0 (a square, a negation, ...), by a live step whose slope is
    /// infinite at 0 in that operand (log, √, rsqrt, 1/x, c/x, a power below 1, a divisor). The normalised group is exactly 0 (x − mean is 0 where every entry is the mean): ours, centred about a
    /// held entry; torch's fused kernel forms x·s − mean·s and leaves the rounding residue of those products, of the size of
    /// an ulp of x·s. The step after it then has its value at the residue: log of a negative residue is NaN, of a positive
    /// one a finite number, where the value is −∞, and torch's derivatives are finite residues, where the derivatives go
    /// through the slope at 0 (`fuzz adversarial 47/245`, shrunk: log(batch_norm(x)) at x = [1e30, 1e30], value [−∞, −∞] in
    /// ours, NaN in torch's; its gradient [−2e-14, 2e-14] in torch's; ours is NaN, the derivative does not exist there: log
    /// of the normalised group is NaN at every point near it off the constant line, one entry being negative; as drawn, the
    /// log of its square). Every check is skipped (FuzzSeed47Tests holds ours to the closed form).
    /// </summary>
    bool NormOfConstantGroupBeforeInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind is not (OpKind.LayerNorm or OpKind.GroupNorm or OpKind.InstanceNorm or OpKind.BatchNorm)) continue;
            var x = values[s.Args[0]];
            var y = values[InputCount + i];
            if (x.numel() == 0 || x.dim() == 0) continue;
            TorchSharp.torch.Tensor Groups(TorchSharp.torch.Tensor t) => s.Kind switch
            {
                OpKind.LayerNorm => t.reshape(-1, x.shape[^1]),
                OpKind.GroupNorm => t.reshape(x.shape[0], s.Ints[0], -1),
                OpKind.InstanceNorm => t.reshape(x.shape[0], x.shape[1], -1),
                _ => t.transpose(0, 1).reshape(x.shape[1], -1),
            };
            var grouped = Groups(x);
            var constant = grouped.amax(new long[] { -1 }).eq(grouped.amin(new long[] { -1 }))
                .logical_and(grouped.amax(new long[] { -1 }).isfinite());
            var residue = Groups(y).ne(0.0).any(-1);
            if (!constant.logical_and(residue).any().item<bool>()) continue;
            // the norm's value and the elementwise steps after it that keep 0 at 0 (its square, as in the program that found it)
            var zeros = new HashSet<int> { InputCount + i };
            for (int k = i + 1; k < Steps.Length; k++)
            {
                var r = Steps[k];
                if (!live[k] || r.Args.Length == 0) continue;
                bool slopeAtZero = r.Kind switch
                {
                    OpKind.Log or OpKind.Sqrt or OpKind.Rsqrt or OpKind.Reciprocal or OpKind.RDivScalar => zeros.Contains(r.Args[0]),
                    OpKind.PowScalar => zeros.Contains(r.Args[0]) && r.Scalar < 1 && r.Scalar != 0,
                    OpKind.Div => zeros.Contains(r.Args[1]),
                    _ => false,
                };
                if (slopeAtZero) return true;
                bool keepsZero = r.Kind switch
                {
                    OpKind.Neg or OpKind.Abs or OpKind.Square or OpKind.MulScalar or OpKind.DivScalar or OpKind.Sin or OpKind.Tan
                        or OpKind.Tanh or OpKind.Expm1 or OpKind.Log1p or OpKind.Relu => true,
                    OpKind.PowScalar => r.Scalar > 0,
                    _ => false,
                };
                if (keepsZero && zeros.Contains(r.Args[0])) zeros.Add(InputCount + k);
            }
        }
        return false;
    }

    /// <summary>
    /// Whether a value is computed through a step with an infinite slope at its operand's values: √, rsqrt, log or a
    /// reciprocal at 0, a power below 1 at 0; exp, expm1, a square or a power above 1 at ±∞; a product, a matrix product
    /// (`fuzz all adversarial 66/1`) or a quotient with an infinite operand, or by 0; a power with a base ±∞ or 0 (the
    /// exponent's slope).
    /// </summary>
    /// <summary>Whether a live step has an infinite slope at the program's float64 values (<see cref="InfiniteSlope"/>, or
    /// kl_div's target term at a target 0), for the first-order-only programs' JVP (ToCase).</summary>
    bool FiniteProgramInfiniteSlope(bool[] live)
    {
        using var scope = TorchSharp.torch.NewDisposeScope();
        var inputs = InputValues.Select((v, i) => TorchSharp.torch.tensor(v, dtype: TorchSharp.torch.ScalarType.Float64)
            .reshape(InputShapes[i].Select(d => (long)d).ToArray())).ToArray();
        var values = TorchInterpreter.RunAll(this, inputs);
        return Steps.Where((s, i) => live[i] && (InfiniteSlope(s, values)
            || s.Kind == OpKind.KlDiv && !s.Flag && values[s.Args[1]].numel() > 0 && values[s.Args[1]].eq(0.0).any().item<bool>())).Any();
    }

    /// <summary>float32's machine epsilon, 2^−23: the bound of torch's small-|x| branch in its i1 and i1e rules there.</summary>
    const double Float32Epsilon = 1.1920928955078125e-07;

    static bool InfiniteSlope(Step s, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        static bool Any(TorchSharp.torch.Tensor t, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> p) =>
            t.numel() > 0 && p(t).any().item<bool>();
        var a = s.Args.Select(i => values[i]).ToArray();
        return s.Kind switch
        {
            OpKind.Sqrt or OpKind.Rsqrt or OpKind.Log or OpKind.Reciprocal or OpKind.RDivScalar => Any(a[0], t => t.eq(0.0)),
            OpKind.PowScalar when s.Scalar < 1 && s.Scalar != 0 => Any(a[0], t => t.eq(0.0)),
            OpKind.PowScalar when s.Scalar > 1 => Any(a[0], t => t.isinf()),
            OpKind.Exp or OpKind.Expm1 or OpKind.Square => Any(a[0], t => t.isinf()),
            OpKind.Mul or OpKind.MatMul or OpKind.Vecdot => Any(a[0], t => t.isinf()) || Any(a[1], t => t.isinf()),
            // the addmm family and multi_dot are matrix products with every operand a factor (the input's slope β, and β·x
            // is ∞·0 = NaN at β = 0 only where torch then leaves it out)
            OpKind.Addmm or OpKind.Addmv or OpKind.Addr or OpKind.Baddbmm or OpKind.Addbmm or OpKind.MultiDot => a.Any(x => Any(x, t => t.isinf())),
            // an LP pool is (Σ|x|^p)^(1/p) per window: its slope is infinite at a window of zeros
            OpKind.LpPool1d or OpKind.LpPool2d => Any(TorchInterpreter.LpWindowSums(s, a[0]), t => t.eq(0.0)),
            // a solution A⁻¹b is a product with b: its slope in A, −A⁻¹·dA·X, is infinite where b is (`fuzz latest adversarial
            // 3/69`, float32: a triangular solve of a right-hand side holding +∞ narrowed to nothing, gradient NaN in torch's)
            OpKind.Solve or OpKind.SolveTriangular => Any(a[1], t => t.isinf()),
            OpKind.CholeskySolve => Any(a[0], t => t.isinf()),
            OpKind.Div => Any(a[0], t => t.isinf()) || Any(a[1], t => t.eq(0.0)),
            // the exponent's slope a^b·log a at a base ±∞ or 0
            OpKind.Pow => Any(a[0], t => t.isinf().logical_or(t.eq(0.0))),
            _ => false,
        };
    }

    /// <summary>
    /// Whether a live step with an infinite slope (see <see cref="UpstreamInfiniteSlope"/>) reads, at any depth, a live
    /// Tril or Triu: the entries that it zeroes are constants, whose derivative is the zero map, a symbolic zero in ours;
    /// torch's tril rule gives them a tangent of zeros, which the infinite slope after it turns into 0·∞ = NaN at second
    /// order (`fuzz 20/549`: celu(mean(tril(x)^0.5)) over a row [0.4, 0, 0], whose entries 1 and 2 tril sets to the
    /// constant 0 and the power's slope is ∞ there: the Hessian is finite at (0, 0) and 0 elsewhere, torch's NaN in
    /// column 0). One-directional, as every TorchNaNEdge.
    /// </summary>
    bool TriangleBeforeInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int j = 0; j < Steps.Length; j++)
        {
            if (!live[j] || !InfiniteSlope(Steps[j], values)) continue;
            var stack = new Stack<int>(Steps[j].Args);
            var seen = new HashSet<int>();
            while (stack.Count > 0)
            {
                int v = stack.Pop(), i = v - InputCount;
                if (i < 0 || !seen.Add(v)) continue;
                if (live[i] && Steps[i].Kind is OpKind.Tril or OpKind.Triu) return true;
                foreach (var a in Steps[i].Args) stack.Push(a);
            }
        }
        return false;
    }

    /// <summary>
    /// Whether a live Tril or Triu zeroes entries of an operand computed through a step with an infinite slope (see
    /// <see cref="UpstreamInfiniteSlope"/>), as "Slice that drops entries": the zeroed entries' derivative is the zero map,
    /// a symbolic zero in ours, where torch's rule hands them a cotangent of zeros, which the infinite slope before meets as
    /// 0·∞ = NaN at second order (`fuzz all adversarial 104/117`: cosh(tril(x², −1)) over a row [0, 0, +∞], every entry
    /// zeroed, a constant whose Hessian is 0, ours; torch's NaN in the column of the infinity). One-directional, as every
    /// TorchNaNEdge.
    /// </summary>
    bool TriangleDropsBesideInfiniteSlope(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind is not (OpKind.Tril or OpKind.Triu)) continue;
            var x = values[s.Args[0]];
            if (x.numel() == 0 || x.dim() < 2) continue;
            var kept = TorchInterpreter.Apply(s, new[] { TorchSharp.torch.ones_like(x) }, x.dtype);
            if (kept.eq(0.0).any().item<bool>() && UpstreamInfiniteSlope(s.Args[0], values)) return true;
        }
        return false;
    }

    bool UpstreamInfiniteSlope(int value, IReadOnlyList<TorchSharp.torch.Tensor> values) =>
        AnyUpstream(value, i => InfiniteSlope(Steps[i], values));

    /// <summary>Whether some step at or before a value (through every operand), given by its index, satisfies the test.</summary>
    bool AnyUpstream(int value, Func<int, bool> test)
    {
        var stack = new Stack<int>();
        var seen = new HashSet<int>();
        stack.Push(value);
        while (stack.Count > 0)
        {
            int v = stack.Pop(), i = v - InputCount;
            if (i < 0 || !seen.Add(v)) continue;
            if (test(i)) return true;
            foreach (var a in Steps[i].Args) stack.Push(a);
        }
        return false;
    }

    /// <summary>Whether a Square step at or before a value (through every operand) holds +∞ at an entry whose operand is finite
    /// (see TorchNaN's "Rsqrt of a square that overflows").</summary>
    bool UpstreamSquareOverflowsAtFinite(int value, IReadOnlyList<TorchSharp.torch.Tensor> values) =>
        AnyUpstream(value, i => Steps[i].Kind == OpKind.Square && values[InputCount + i].numel() > 0
            && values[InputCount + i].isinf().logical_and(values[Steps[i].Args[0]].isfinite()).any().item<bool>());

    const double SmallestNormal = 2.2250738585072014E-308;

    /// <summary>float32's least normal number, 2^-126.</summary>
    const double SmallestNormalFloat32 = 1.1754943508222875e-38;

    /// <summary>Above this |x|, x² overflows in float64 (the square root of the largest double).</summary>
    const double SquareOverflows = 1.3407807929942596E+154;

    /// <summary>Below this positive x, rsqrt's y³ = x^(−3/2) overflows in float64 (the largest double to the power −2/3).</summary>
    const double RsqrtCubeOverflows = 3.139469681823514E-206;

    /// <summary>Above this |x|, x² overflows in float32 (the square root of the largest float).</summary>
    const double Float32SquareOverflows = 1.844674352395373E+19;

    /// <summary>Above this softplus is x in both engines: torch's F.softplus at the reference's threshold, and ours (σ = 1).</summary>
    const double SoftplusThreshold = 40;

    /// <summary>
    /// Whether a step, at its operands' values, is one where torch's own result is wrong (against the closed
    /// form, and against torch's other rules for the same function), and if so why and which checks; null
    /// otherwise. The program skips those checks (<see cref="Suite.Case.Skipped"/>), named in its Why.
    /// <list type="bullet">
    /// <item>LogSumExp whose log of the sum rounds away beside a huge maximum (see <see cref="LogOfSumRoundsAway"/>).</item>
    /// <item>Prod with a nonzero entry below <see cref="TinyProdEntry"/> in magnitude: torch's rule is g·(y / x), whose
    /// derivative in x is g·(∂y/∂x)/x − g·y/x², two terms of size |g·y/x²| that cancel, so its rounding is
    /// |y/x|/|x| times the unit roundoff: second order only (`fuzz adversarial 1/30`: over one entry of 1e-38
    /// torch's second derivative is 2.95e20 where the closed form, and torch with a reshape in place of that
    /// prod, give −0.449; FuzzAdversarialTests).</item>
    /// <item>Std of equal entries (value exactly 0): the function is a cone there, |t|·std(v) along x + t·v, with no
    /// derivative. Both engines' gradient is the documented 0, and that is compared; torch's forward-mode rule there
    /// gives another number (|mean t| in float64, NaN in float32, where its own gradient says 0), and both second
    /// derivatives are rounding noise of order 1e15 (`fuzz 1/17`: std of [0.4, 0.4, 0.4] with correction 0), so
    /// the checks past the gradient are skipped. Equal entries are found from the entries themselves too, since torch's
    /// value there need not be 0: its mean of equal entries rounds (the reference's scaled std of six copies of −3.3e300,
    /// a broadcast conv1d output, a residue of the size ε·|x|), and its JVP is that residue's ratio, −1.3e300, where the
    /// std of a broadcast scalar is 0 for every input, and so is its derivative, ours (`fuzz wide adversarial 121/168`;
    /// FuzzSeeds121To126Tests).</item>
    /// <item>Cumprod with a nonzero entry below <see cref="TinyProdEntry"/>: torch's rules divide by the entries, as for Prod,
    /// so where a running product underflows its second derivative is 0 and its forward-mode derivative ∞ or NaN.
    /// The closed forms (the Hessian of x₁x₂ is [[0, 1], [1, 0]]; the tangent of y₁ = x₁ is t₁) are ours
    /// (`fuzz adversarial 1/180`: cumprod of [−1e-300, −1e-300]; `1/244`: of [5e-324, 1e-300]).</item>
    /// <item>Var (and Std) over no more entries than its correction (one entry, correction 1): the value is 0/0 = NaN for every
    /// input, in both, so no derivative exists; ours is NaN at every order and torch's second derivative 0
    /// (`fuzz adversarial 1/266`: the var of a scalar). Its second-order checks are skipped.</item>
    /// <item>The polygamma family at a negative integer, a pole of every ψ⁽ⁿ⁾: ψ′ = ζ(2, x) is +∞ there (a double pole,
    /// positive on both sides), and ours is; torch's reflection formula divides by sin²(πx) with sin(πx) rounded to
    /// about 1e-16, so its trigamma at −1 is 6.6e32 (`fuzz 13/27`: digamma's gradient at −1). Every derivative
    /// check is skipped; the values (NaN for lgamma's and digamma's derivatives there, in both) are compared. So at −∞
    /// (an integer to floor), where ours is NaN at every order n ≥ 1 and torch's ±∞ from n = 2. Trigamma's value at a
    /// finite negative integer is compared with the pole's +∞ (TorchInterpreter.Trigamma): torch's is a finite number there,
    /// and an arbitrary one where every float is an integer (`fuzz adversarial 27/27`: polygamma(1, −1e30) is 16.12 in
    /// torch, in both dtypes).</item>
    /// <item>Polygamma of order n ≥ 2 at ±∞: at +∞ the limit, and ours, is 0; torch's is NaN (`fuzz 13/268`: polygamma(2, +∞)).
    /// At −∞, where the poles at the negative integers leave no limit, ψ⁽ⁿ⁾ is NaN in ours for every n ≥ 1, as torch's
    /// trigamma is, while torch's higher orders give ±∞. The value checks are skipped; derivatives after it are NaN
    /// in torch and pass by the convention above.</item>
    /// <item>Prod or Cumprod of finite entries whose product torch gets as NaN: its running product, left to right, overflows
    /// to ±∞ before it meets a 0, ∞·0 = NaN, where the product is exactly 0 (a factor is 0); ours multiplies in another order
    /// and gives 0, and its derivatives are the closed forms, products of the other entries, where torch's pass through
    /// the NaN or ∞ (`fuzz adversarial 3/99`: prod of [1e160, 1e160, 0]; `5/115`: cumprod of [a, a, 0] at a = −1.4e160;
    /// EdgeAdversarialTests in the core).</item>
    /// <item>Prod over a NaN entry and a zero: the second derivatives are products of all entries but two, NaN unless the
    /// two are the NaN and the zero. Torch's rule for more than one zero returns a constant tensor of zeros, so its second
    /// derivatives are 0 (`fuzz adversarial 2/123`: prod of [0, 0, NaN, −0]), and with one zero its cumulative products
    /// carry the NaN everywhere (shrunk: [−1.3, 1.1, NaN, −0], whose Hessian entry for the NaN and the zero is −1.3·1.1).
    /// The values, NaN in both, and the gradients are compared.</item>
    /// <item>Prod of finite nonzero entries whose running product overflows or underflows before its end, though the product
    /// is in range (see <see cref="RunningProductLeavesRange"/>): ours is the product in every order, torch's ±∞ or 0, and
    /// its derivatives divide that by the entries. Every check of the program is skipped but the values before the step.</item>
    /// <item>Prod over an infinity and more than one zero, reverse over reverse: each second derivative is the product of all
    /// entries but two, so 0·∞ = NaN unless one of the two is the infinity (then a product of zeros, 0). Torch's
    /// double backward gives 0 for most of the NaN entries (`fuzz 6/807`: the product of 23 zeros and −∞, torch's
    /// H·v [NaN, 0, 0, …] where the closed form, and ours, is NaN everywhere but 0 at the infinity). Only that check is
    /// skipped: the values and gradients are compared, and the Hessian (forward over reverse) is compared as it is.</item>
    /// <item>Cumprod of finite entries whose running product overflows to ±∞: torch's forward-mode rule divides by the
    /// entries as its reverse rule does, and gives ±∞ where the tangent t₀x₁ + x₀t₁ is a number (`fuzz adversarial 5/115`:
    /// [a, a, −3459.4] at a = −1.4e160, tangent of y₁ 9.07e159, torch's +∞), and so does its gradient (`fuzz adversarial
    /// 34/97`), and its second order. Its derivative checks are skipped; values are compared.</item>
    /// <item>Cumprod of finite nonzero entries whose running product falls below the normal range (2.2e-308, 0 included): torch's
    /// reverse rule Σ g·y/x loses its terms to underflow before it divides by the entry, so its gradient is ±0 where the closed
    /// form w₀ + w₁x₁ is a number (`fuzz wide adversarial 7/79`: at x = [−5e-324, 0.2315], ours −0.0596). Its derivative
    /// checks are skipped; values are compared.</item>
    /// <item>Sigmoid (alone or as BceWithLogits' target) at a finite x where σ(x) rounds to 1 (x above about 36.7 in float64):
    /// torch's rule y(1 − y) is exactly 0 there, where σ′(x) = e^−x/(1 + e^−x)² is a positive number (2.2e-39 at 89), and
    /// ours is that number (Special.sigmoidSlope, EdgeAdversarialTests). A huge cotangent makes the difference visible:
    /// `fuzz adversarial 7/25` (the mean squared error, against −1e300, of a binary cross-entropy whose target is σ(89):
    /// torch's gradient at the 89 is −0, or ∞·0 = NaN where the cotangent times the logit overflows, ours −1.1e261 and
    /// −3.1e269). Its derivative checks are skipped; values are compared.</item>
    /// <item>A value divided by itself (the same step as both operands), x/x, at a nonzero x below 1e-8 in magnitude: the
    /// function is 1 there, so every derivative is exactly 0, and ours is (each entry's partials g/x and −g·(x/x)/x cancel
    /// before a broadcast's sum); torch sums each partial over the broadcast first and adds the two sums, leaving their
    /// rounding, about ε·|g/x|: 9.3e282 at x = 1e-300 in the gradient, 1.5e284 in the JVP (`fuzz adversarial 7/71`: x/x of
    /// x broadcast to [2, 3, 3]). Its derivative checks are skipped; values are compared.</item>
    /// <item>Hardshrink or softshrink at a NaN entry: torch's CPU backward passes g there in its scalar loop and writes 0 in its
    /// vectorised one, by the entry's position (`fuzz all 1/422`). Its derivative checks are skipped; values are compared.</item>
    /// <item>Atan2 where a² + b² underflows to 0 though a or b is not 0: torch's rule takes its mask of the origin there, slopes
    /// 0, where the closed form at a = 0 is 1/b in a (`fuzz adversarial 44/9`: −1e300 at b = −1e-300, +∞ at b = 1e-310;
    /// `fuzz all adversarial 46/216`: at a = −5e-324, b = 0 the slope in b is −1/a, +∞). Its
    /// derivative checks are skipped; values are compared.</item>
    /// </list>
    /// </summary>
    static (string Why, Suite.Check[] Checks)? TorchWrong(Step s, TorchSharp.torch.Tensor[] a) => s.Kind switch
    {
        // torch's CPU lstsq (gelsy) returns the solution 0 for a wide matrix whose first column is exactly 0 at some calls and
        // the right one at others (the same input, consecutive processes), though the matrix has full row rank:
        // [[0, 0.1, −0.36]]·x = [0.5] gives 0 (residual 0.5), where the least-norm solution, Aᵀ(AAᵀ)⁻¹b, is
        // [0, 0.358, −1.289], ours; a first entry of 1e-8 gives torch's the right one (`fuzz latest 8/132`: a batch of three
        // such 1×3 rows; FuzzOpsTests). Since torch's answer is not repeatable, every check is skipped.
        OpKind.Lstsq when a[0].numel() > 0 && a[0].shape[^2] < a[0].shape[^1] && a[0].select(-1, 0).eq(0.0).all(-1).any().item<bool>() =>
            ("Lstsq of a wide matrix whose first column is 0 (torch's gelsy returns 0 at some calls)",
             new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // the cross product of a lane with itself is exactly 0 (each entry a_j·a_k − a_k·a_j, the two products one rounded
        // number in ours); torch's kernel fuses the difference into a multiply-add, a_j·a_k − fl(a_k·a_j), which keeps the
        // rounding of one product (−5.5e-7 beside products of 1e10), and where a product overflows both leave the range,
        // ours ∞ − ∞ = NaN, torch's ±∞ (`fuzz all adversarial 108/212`: the cross product of two equal tensors holding 1e300
        // and 1e10; FuzzEdges26Tests). Every check is skipped.
        OpKind.Cross when EqualLanes(a[0], a[1], s.Ints[0]) =>
            ("Cross over a lane equal in both operands (exactly 0; torch's multiply-add keeps one product's rounding, and both overflow with a product)",
             new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // torch's CPU shrink_backward has two loops that read NaN apart: its scalar loop, (x >= −λ && x <= λ) ? 0 : g, passes g
        // at NaN (the slope 1 of the branch whose value NaN is, ours), its vectorised loop, ((x < −λ) | (x > λ)) & g, writes 0;
        // so an entry's slope at NaN depends on where it falls in the tensor (`fuzz all 1/422`: hardshrink of a [2, 2, 5]
        // tensor with NaN at flat index 13, torch's 0; FuzzConventionTests shows both in one tensor). Its derivative checks
        // are skipped; values are compared.
        // torch's cross does not round each entry as a₁b₂ − a₂b₁ with two rounded products: where those cancel, its entry is a
        // residue of their rounding (`fuzz all adversarial 2/116`: cross([−1.83, −1e20, −1e30], [0.83, 1e20, 1e30]), whose
        // first entry is −1e50 + 1e50 = 0 exactly, in exact arithmetic and in ours; torch's is a residue above 20, so tanh
        // after it is 1 with the slope 0 where it is 0 with the slope 1). Only where torch's entry differs from the two
        // rounded products' difference and that difference cancels them to 1e-8 of their size. Its derivative checks are
        // skipped; values are compared.
        OpKind.Cross when CrossCancelsApart(s, a) =>
            ("Cross whose entry cancels, rounded apart by torch",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // σ(b) rounds to ½ where 0 < |b| < 2⁻⁵³, so torch's glu double backward, which forms σ′ as y(1 − y) and σ″ from it, has
        // the curvature 0 there, where the closed form is σ″(b) ≈ −b/8 (`fuzz all adversarial 1/81`: glu(prelu(x, w)) at
        // x = −5e-324, w = −1e300, whose Hessian entry u·a·σ″(b)·w² is −7e552, −∞ in float64 and in ours, 0 in torch's).
        // Its second-order checks are skipped.
        // normalize's slope at a zero slice is 1/ε = 1e12 (x/ε, the clamp's branch), so the cotangent it hands back is 1e12
        // times its own; where two such cotangents cancel (x − x before it: the function is constant there), torch's engine
        // adds them to a gradient one at a time beside the other paths' terms, which keep only what an ulp of 1e12·g leaves
        // (`fuzz all adversarial 55/290`: x₀ − x₀ gathered into a zero slice of normalize beside x₁·x₀, whose gradient in x₀
        // is x₁'s finite 1.04594; torch's float64 1.046875, its float32 0); ours sums a node's cotangents before passing
        // them on, so the cancelling pair is exactly 0. The second order meets the same 1e12 beside slopes that are exactly 0:
        // at a slice of one nonzero entry normalize is the constant ±1, and torch's slope there, (1/|x| − x²/|x|³), keeps a
        // rounding residue that the zero slice's 1e12 lifts into the second order (`fuzz 157/206`: x^x of the mean of
        // normalize([[0], [0.5]]) over an axis of length 1, second order 3.8e-6 in torch's entry for 0.5, exactly 0 in ours
        // and the closed form; FuzzSeeds142To160Tests). Its gradient, JVP (below) and second-order checks are skipped.
        OpKind.Normalize when s.Scalar == 2 && a[0].numel() > 0
                && TorchSharp.torch.linalg.vector_norm(a[0], 2, new long[] { s.Ints[0] }).eq(0.0).any().item<bool>() =>
            ("Normalize of a zero slice (torch accumulates its 1e12-scaled cotangents and tangents one at a time)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // at a zero slice and anywhere below ε the same slope 1e12 scales the tangent, and torch's JVP, by its double-backward trick, sums those scaled
        // terms one at a time beside the other inputs' O(1) terms (`fuzz all adversarial 42/290`: Σ bce(x₀, σ(normalize(x₁)))
        // at x₀ = ½ and x₁'s slices of norm 0 (float32) or about 1e-30 (float64), constant in x₁ and stationary in x₀, so
        // every first derivative is 0, torch's gradient too; its JVP is 2.9 in float32 and 2.6e-5 in float64 at the shrunk
        // zero slice, the ulps of 1e11; FuzzSeeds41To45Tests). Its JVP check is skipped.
        OpKind.Normalize when s.Scalar == 2 && a[0].numel() > 0
                && TorchSharp.torch.linalg.vector_norm(a[0], 2, new long[] { s.Ints[0] }).lt(1e-12).any().item<bool>() =>
            ("Normalize of a slice below eps (torch's JVP sums its 1e12-scaled tangents one at a time)", new[] { Suite.Check.Jvp }),
        // copysign's second derivative is 0 off x = 0 (ours); torch's double backward divides by x², which underflows at a
        // float64-subnormal magnitude, so its curvature there is ±∞ or NaN (`fuzz recent adversarial 2/170`: copysign(x, x)
        // squared at x = [0, 0, 0, 0, 0, 1e-310], second order −∞ and NaN in torch's, the closed form 2·u·v in ours;
        // FuzzSeeds41To45Tests). Its second-order checks are skipped.
        OpKind.Copysign when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(2.2250738585072014E-308)).any().item<bool>() =>
            ("Copysign of a float64-subnormal magnitude (torch's curvature divides by its underflowed square)", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Glu when a[0].numel() > 0 && a[0].chunk(2, s.Ints[0])[1] is var gate
                && gate.ne(0.0).logical_and(gate.abs().lt(Math.Pow(2, -53))).any().item<bool>() =>
            ("Glu whose gate is nonzero below 2^-53 (torch's curvature there is 0)", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's double backward of logsigmoid is g·(σ(x) − 1)·σ(x): above x ≈ 6.9, where σ(−x) < 1e-3, σ(x) − 1 cancels,
        // to a relative error of about ε/σ(−x) (1.1e-16 and 6e-8 over σ(−x): beyond float32's tolerance from there, float64's
        // from x ≈ 14, and exactly 0 in float32 from x ≈ 17.3, where σ(x) rounds to 1); ours forms the curvature −σ(x)σ(−x)
        // from the primitive σ′, accurate there (`fuzz 117/20`: logsigmoid(rsqrt x) at x = 0.00215, r = 21.55, whose second
        // derivative −σ(r)σ(−r)r′² + σ(−r)r″ is −9.5e-3, ours; torch's 1.1e-7 away in float64 and 0 for its first term in
        // float32; FuzzSeeds111To120Tests). Its second-order checks are skipped; the gradient (torch's e^−x/(1 + e^−x)) is
        // compared.
        OpKind.LogSigmoid when a[0].numel() > 0 && a[0].gt(6.9).any().item<bool>() =>
            ("LogSigmoid above 6.9 (torch's double backward (σ(x) − 1)·σ(x) cancels)", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // sinh x and cosh x are finite up to |x| = ln(2·MaxValue) ≈ 710.476, but torch's vectorised kernel forms them from
        // e^|x|, which overflows from 709.78 (its scalar loop, for a tensor of a few entries, does not): between the two its
        // value is ±∞ where ours, ±e^(|x| − ln 2), is the number (`fuzz all adversarial 119/125`: sinh(710) = 1.117e308 in
        // a tensor of 9 entries, torch's +∞, and every derivative after it; FuzzSeeds111To120Tests)
        OpKind.Sinh or OpKind.Cosh when a[0].numel() > 0
                && a[0].abs().gt(Math.Log(double.MaxValue)).logical_and(a[0].abs().le(Math.Log(double.MaxValue) + Math.Log(2))).any().item<bool>() =>
            ("Sinh or Cosh where e^|x| overflows but the value is finite (torch's is ±∞)",
             new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // a documented difference at a NaN entry, where no derivative has a closed form: ours is max(|x|)'s, NaN wherever a
        // NaN is the maximum (as max's, EdgeFuzzFindingsTests); torch's vector_norm backward masks by |x| = ‖x‖, false at NaN,
        // so its slope there is 0 and its second order a number (`fuzz 24/1431`: ‖x‖_∞·x at x = NaN, second order −0 in
        // torch's, NaN in ours). Its derivative checks are skipped; values are compared.
        // both engines' CTC works with log α and log β, sums of terms of the loss's size: where a sample's loss is huge (a
        // logit of 1e30 makes the others' log-probabilities −1e30) the paths' O(1) differences are lost to the rounding, ε·loss,
        // so the posteriors, and the gradient, are wrong in both (`fuzz newest adversarial 9/63`: one step's logits
        // [0, 1e30, 0, 0] with the target [3] and loss 1e30, whose gradient there is [−10/11, 1, 0, −1/11] by counting the
        // alignments: ours [−½, 1, 0, −½], torch's ±5.6 at every entry; `10/227`, loss 1e160, NaN and ∞ in torch's). Its
        // derivative checks are skipped above 1e7 (ε·loss > 2e-9), 1e3 in float32 (FuzzNewestTests).
        OpKind.CtcLoss when HugeCtcLoss(s, a[0], 1e7) =>
            ("ours and torch's: CtcLoss of a sample whose loss is finite beyond 1e7 (the paths' differences are lost to the loss's rounding)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // asinh′ = 1/√(1 + x²) is 1/|x| to within ε where x² overflows (|x| beyond 1.34e154), ours (Elementary.asinh scales
        // x first); torch's rule g·rsqrt(x² + 1) squares x into +∞ and gives the slope 0 (`fuzz newest adversarial 1/88`:
        // v/asinh(v) at v = −1.4e156, whose gradient 1/asinh v − 1/asinh² v is 2.7e-3 from torch's 1/asinh v, mpmath's and
        // ours; FuzzNewestTests). Its derivative checks are skipped (acosh's rule rsqrt(x² − 1) is the same, not named until seen).
        OpKind.Asinh when a[0].numel() > 0 && a[0].isfinite().logical_and(a[0].abs().gt(SquareOverflows)).any().item<bool>() =>
            ("Asinh at a finite |x| beyond 1.34e154 (torch's rsqrt(x² + 1) squares into ∞: slope 0, where it is 1/|x|)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // torch's multi_margin_loss kernel adds a class's term only where z = margin − x[target] + x[j] > 0, false at NaN, so a
        // NaN hinge (a NaN entry, or x[target] and x[j] infinite of one sign, ∞ − ∞) drops out of its sample's loss (and its
        // derivative), where the hinge max(0, z) at z = NaN is NaN, ours, as torch's own relu, clamp_min and
        // hinge_embedding_loss give (`fuzz newest 1/37`: the summed loss of [[0, 0, 0], [0, NaN, 0]] with targets [1, 2],
        // torch's 1, ours NaN; `newest adversarial 5/228`, float32: a row [0, +∞, +∞] with target 1; FuzzNewestTests).
        // Every check is skipped.
        OpKind.MultiMarginLoss when a[0].numel() > 0 && MultiMarginHinges(s, a[0]).isnan().any().item<bool>() =>
            ("MultiMarginLoss over a NaN hinge (torch's kernel drops the NaN term; the hinge at NaN is NaN, ours)",
             new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // pdist at p = ∞ is that norm of the rows' differences (`fuzz special adversarial 60/285`: pdist of [[0, 0], [0, NaN]],
        // gradient NaN in ours, 0 in torch's)
        OpKind.Norm or OpKind.Pdist when double.IsPositiveInfinity(s.Scalar) && a[0].numel() > 0
                && (s.Kind == OpKind.Norm ? a[0] : Suite.CaseTable.PairDifferences(a[0])).isnan().any().item<bool>() =>
            ("Norm ∞ at a NaN entry (a documented difference: ours NaN as max's, torch's mask 0)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // a documented difference at a NaN difference d, where no derivative has a closed form: both engines' first derivatives
        // are NaN there (torch's g·d/β, ours the quadratic branch's, since `fuzz all 3/506`), but torch's double backward masks
        // its curvature by |d| < β, 0 at NaN, where ours is the quadratic branch's 1/β (`fuzz all 3/506`: smooth L1 of +∞
        // against +∞, second order −0 in torch's, u·v/(nβ) in ours). Its second-order checks are skipped.
        OpKind.SmoothL1 or OpKind.Huber when (a[0] - a[1]) is var difference && difference.numel() > 0 && difference.isnan().any().item<bool>() =>
            ("SmoothL1 or Huber at a NaN difference (a documented difference at second order: torch's mask 0, ours 1/β)",
             new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // a documented difference at a NaN probability, where no derivative has a closed form: both engines' slopes there are
        // NaN, but the reference's clamps of the logs (torch's forward, TorchInterpreter.BinaryCrossEntropy) mask NaN as
        // below −100, so its JVP, a double backward through the masks, drops the entry, where ours is NaN·t (`fuzz all
        // 4/407`: the mean loss of [0, …, 0, NaN] against zeros, JVP 0.573 in torch's, NaN in ours). Its derivative checks
        // are skipped; values are compared.
        OpKind.BinaryCrossEntropy when a[0].numel() > 0 && a[0].isnan().any().item<bool>() =>
            ("BinaryCrossEntropy at a NaN probability (a documented difference: torch's clamp masks it, ours NaN)",
             new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's linear interpolation forms x₀ + λ(x₁ − x₀), so a sample that falls exactly on an infinite entry (λ = 0) is
        // ∞ + 0·∞ = NaN, where the interpolant, and ours, is the entry itself (`fuzz adversarial 43/255`: align_corners from
        // 3 to 3 entries over [0, −∞, 0], torch's middle sample NaN). Only where torch's result holds a NaN its input does
        // not; its value checks are skipped (its derivatives, the weights, do not read the entries).
        OpKind.Interpolate when s.Mode == 1 && a[0].numel() > 0 && !a[0].isnan().any().item<bool>() && a[0].isinf().any().item<bool>()
                && TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).isnan().any().item<bool>() =>
            ("Interpolate (linear) of an infinite entry at a weight 0 (torch's x₀ + λ(x₁ − x₀) is ∞ + 0·∞)",
             new[] { Suite.Check.Value, Suite.Check.Compiled }),
        // torch's cdist sums |d|^p without a scale, so its p-th powers overflow to +∞ where the distance is finite (`fuzz all
        // adversarial 50/40`: differences of 3.8e160 with p = 3, torch's distance +∞ and its derivatives NaN; ours scales
        // each pair's differences by a held power of two, as every p-norm, and gives 3.8e160). Only where the inputs are
        // finite and torch's distance is not; every check is skipped (FuzzSeed50Tests holds ours to the closed form).
        // kl_div with a plain target is t·(log t − x) in torch's reference, whose log rule divides by t: the JVP through its
        // double backward forms t·(1/t), and at a subnormal t, 1/t is beyond float64, so it is ±∞ where the JVP,
        // (log t + 1 − x)·dt − t·dx, is finite (`fuzz all adversarial 52/66`: t = x = 5e-324, torch's JVP +∞, ours −27.08, the
        // closed form); its second order meets the curvature 1/t = ∞ as NaN where ours is ±∞ by the closed form. Where a
        // target entry is nonzero and below 1/MaxValue; its JVP and second-order checks are skipped.
        OpKind.KlDiv when !s.Flag && a[1].numel() > 0
                && a[1].ne(0.0).logical_and(a[1].abs().lt(1.0 / double.MaxValue)).any().item<bool>() =>
            ("KlDiv at a subnormal target (torch's log rule divides by it)",
             new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // pairwise_distance sums |d|^p unscaled too (`fuzz all adversarial 53/51`: p = 3 over differences of 1e160), and so
        // does dist for some p (`54/240`: a difference of 1e300, torch's +∞).
        OpKind.Cdist or OpKind.PairwiseDistance or OpKind.Dist when a[0].numel() > 0 && a[1].numel() > 0 && a[0].isfinite().all().item<bool>() && a[1].isfinite().all().item<bool>()
                && TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).isinf().any().item<bool>() =>
            ("Cdist, PairwiseDistance or Dist of finite inputs whose p-th powers overflow in torch (ours is scaled)",
             new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // the reference computes hardsigmoid as relu6(x + 3)/6 (libtorch has no double backward for hardsigmoid), whose
        // hardtanh passes g at NaN in its scalar loop (0 in its vector loop), so the reference's slope there is 1/6 in short
        // tensors, where torch's own hardsigmoid backward (−3 < x < 3 ? g/6 : 0, in its scalar and vector loops) and ours
        // give 0 (`fuzz all adversarial 50/160`: a [2, 1] tensor holding NaN). The second order meets that slope too wherever
        // the operand is curved, u·h′·(operand's second derivative) (`fuzz all adversarial 65/55`: hardsigmoid of x₀² + x₁²
        // at x₁ = NaN, the reference's second order in x₀ u·(1/6)·2v₀, ours 0). Its derivative checks are skipped where an
        // entry is NaN; values are compared.
        OpKind.Hardsigmoid when a[0].numel() > 0 && a[0].isnan().any().item<bool>() =>
            ("Hardsigmoid at a NaN entry (the reference's relu6 form passes g/6 there; torch's own kernel and ours 0)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // the reference's hardtanh takes the relu6 form outside its bounds (TorchInterpreter), NaN included, so its slope at
        // NaN is relu6's, which depends on the entry's position as above (`fuzz all adversarial 107/269`: hardtanh over a
        // [4, 4] tensor of zeros and one NaN, whose slope there differs from ours; torch's own F.hardtanh passes g at NaN)
        OpKind.Hardtanh when a[0].numel() > 0 && a[0].isnan().any().item<bool>() =>
            ("Hardtanh at a NaN entry (the reference's relu6 form's slope there depends on the entry's position)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        OpKind.Hardshrink or OpKind.Softshrink when a[0].numel() > 0 && a[0].isnan().any().item<bool>() =>
            ("Hardshrink or Softshrink at a NaN entry (torch's slope there depends on the entry's position)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // a running product that underflows to ±0 before an infinity: torch's 0·∞ = NaN, where the product of nonzero
        // entries is ±∞ and ours, the product in every order, is (`fuzz wide adversarial 108/136`: cumprod of [−1e-310,
        // 1e-300, −∞], whose last entry is (−1e-610)·(−∞) = +∞, ours; torch's NaN)
        OpKind.Prod or OpKind.Cumprod when a[0].numel() > 0 && LaneTurnsNaNWithoutAZero(s, a[0]) =>
            ("Prod or Cumprod whose running product underflows before an infinity",
             new[] { Suite.Check.Value, Suite.Check.Compiled, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Prod or OpKind.Cumprod when a[0].numel() > 0 && FiniteLaneTurnsNaN(s, a[0]) =>
            ("Prod or Cumprod whose running product overflows before a 0",
             new[] { Suite.Check.Value, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // where the entries hold a 0 (anywhere in the tensor) ours forms every gradient as the product of the others (Rules, Prod),
        // exact at every order, while torch's rule for zeros runs its exclusive cumprods, whose double backward divides the
        // overflowed running product by the entries: the second order of prod over axis 2 of [1e300, 1e300, 2.1, 88] beside
        // lanes of zeros is u·Σ_j Π_{k≠i,j} x_k·v_j = −8.1e301 at the first entry, ours, torch's −∞ (`fuzz wide adversarial
        // 105/54`)
        OpKind.Prod when a[0].numel() > 0 && a[0].isfinite().all().item<bool>() && a[0].eq(0.0).any().item<bool>()
                && TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).isinf().any().item<bool>() =>
            ("Prod over a zero beside a lane whose running product overflows (torch's double backward divides it by the entries)",
             new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Prod when RunningProductLeavesRange(s, a[0]) =>
            ("Prod of finite nonzero entries whose running product leaves the range before its end",
             new[] { Suite.Check.Value, Suite.Check.Compiled, Suite.Check.Vjp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Jvp }),
        OpKind.Prod when a[0].numel() > 0 && a[0].isnan().any().item<bool>() && a[0].eq(0.0).any().item<bool>() =>
            ("Prod over a NaN entry and a zero", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Prod when a[0].numel() > 0 && a[0].isinf().any().item<bool>() && a[0].eq(0.0).sum().item<long>() >= 2 =>
            ("Prod over an infinity and more than one zero", new[] { Suite.Check.SecondOrder }),
        // its reverse rule divides Σ g·y by the entry too: ∞/x where the product of the rest times g is finite (`fuzz
        // adversarial 34/97`: cumprod of [1e160, 1e160], whose gradient is [u₀ + u₁x₁, u₁x₀] = 5.3e159 twice, torch's +∞),
        // and its double backward (the Hessian of u·y there is [[0, u₁], [u₁, 0]], torch's HVP +∞)
        // lane by lane, as above (`fuzz all adversarial 95/297`: a lane [1e300, 1e30, 1e30] beside a lane holding NaN)
        OpKind.Cumprod when a[0].numel() > 0 && FiniteLaneTurns(s, a[0], y => y.isinf()) =>
            ("Cumprod whose running product overflows",
             new[] { Suite.Check.Jvp, Suite.Check.Vjp, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // and where a running product leaves the normal range at the other end, its reverse rule Σ g·y/x loses the terms to
        // underflow before it divides: the gradient of Σ w·cumprod(x) at x = [−5e-324, 0.2315] is w₀ + w₁x₁ = −0.0596 (ours),
        // torch's (w₀y₀ + w₁y₁)/x₀ = (0 + 0)/x₀ = −0 (`fuzz wide adversarial 7/79`; FuzzSeeds77To81Tests). Where the entries
        // are finite and nonzero and torch's running product holds an entry below the normal range (2.2e-308), 0 included;
        // every derivative check is skipped (the value is the product, exact to the rounding of the underflow, and compared).
        OpKind.Cumprod when a[0].numel() > 0 && a[0].isfinite().all().item<bool>() && a[0].ne(0.0).all().item<bool>()
                && TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).abs().lt(2.2250738585072014E-308).any().item<bool>() =>
            ("Cumprod whose running product underflows (torch's rule divides the underflowed terms by the entry)",
             new[] { Suite.Check.Jvp, Suite.Check.Vjp, Suite.Check.Compiled, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's rule g·e^(x − lse) carries the rounding of lse, about ulp(lse), into every weight, and its double backward
        // multiplies that by the square of the slope into the entries: at entries near 3641 (e^8.2) the second order is
        // 6e-10 relative off, where ours forms the weights from the maximum (equal entries give 0.5 exactly) and equals the
        // closed form (`fuzz 20/451`: Σu·v·e^x through an adaptive average pool and a logsumexp over two equal entries;
        // FuzzConventionTests)
        OpKind.LogSumExp when a[0].numel() > 1 && a[0].isfinite().all().item<bool>() && a[0].abs().max().item<double>() >= 1e3 =>
            ("LogSumExp over entries of 1e3 or more (torch's weights carry the rounding of lse)",
             new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.LogSumExp when LogOfSumRoundsAway(a[0], s.Ints[0]) =>
            ("LogSumExp whose log of the sum rounds away beside a huge maximum",
             new[] { Suite.Check.Vjp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Jvp, Suite.Check.Compiled }),
        OpKind.Std when a[0].numel() > 0 && (TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).eq(0.0).any().item<bool>()
                || EqualEntriesInSomeGroup(s, a[0])) =>
            ("Std of equal entries", new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Lgamma or OpKind.Digamma or OpKind.Polygamma when a[0].numel() > 0 && a[0].lt(0.0).logical_and(a[0].eq(a[0].floor())).any().item<bool>() =>
            ("the polygamma family at a negative integer or -inf", new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        OpKind.Polygamma when s.Ints[0] >= 2 && a[0].numel() > 0 && a[0].isinf().any().item<bool>() =>
            ("polygamma of order 2 or more at an infinity", new[] { Suite.Check.Value, Suite.Check.Compiled }),
        OpKind.Cumprod when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(TinyProdEntry)).any().item<bool>() =>
            ("Cumprod with a tiny nonzero entry", new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // at a NaN entry every derivative is NaN (ours: g·2(x − mean)/(N − correction) = g·NaN·∞); torch's first derivatives
        // are +∞ there (`fuzz 10/1281`: the variance of [NaN] with correction 1)
        OpKind.Var or OpKind.Std when TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64) is var y && y.numel() > 0
                && a[0].numel() / y.numel() <= (s.Mode == 0 ? 1 : s.Scalar) && a[0].isnan().any().item<bool>() =>
            ("Var or Std over no more entries than its correction at a NaN entry",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        OpKind.Var or OpKind.Std when TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64) is var y && y.numel() > 0
                && a[0].numel() / y.numel() <= (s.Mode == 0 ? 1 : s.Scalar) =>
            ("Var or Std over no more entries than its correction", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Prod when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(TinyProdEntry)).any().item<bool>() =>
            ("Prod with a tiny nonzero entry", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Div when s.Args[0] == s.Args[1] && a[0].numel() > 0
                && a[0].ne(0.0).logical_and(a[0].abs().lt(1e-8)).any().item<bool>() =>
            ("A tiny value divided by itself",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // An infinite input entry that no nonzero weight reads (every tap over it lies in the padding, between dilated
        // taps, or meets a zero weight): the convolution does not depend on it, so its derivative there is the zero map,
        // but both engines' backward passes write dense cotangents whose zeros meet the infinite slope of the step before
        // as 0·∞ = NaN at second order, each in other entries (`fuzz adversarial 8/111`: x₀·conv2d(eˣ) with padding 1 and
        // dilation 2 over a 1×1 image, every tap in the padding, at x = [+∞, 0]: the exact Hessian of the e^x term added
        // beside it is [[+∞, 0], [0, u₁]]; ours NaN at (0, 0) and (0, 1), torch NaN at (1, 0)). The program's values are
        // compared as always.
        OpKind.Conv2d or OpKind.ConvTranspose2d when InfiniteEntryNoWeightReads(s, a) =>
            ("A convolution over an infinite input entry that no nonzero weight reads", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        OpKind.Div or OpKind.RDivScalar when QuotientOverDenominatorUnderflows(s, a) =>
            ("A quotient whose (a/b)/b leaves the normal range", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // a documented convention (Nn.CosineSimilarity): where a norm is below eps torch clamps it outside autograd, so its
        // derivatives still divide by the norm, where ours differentiate the clamp, x/eps (`fuzz adversarial 28/8`:
        // cosine_similarity(x, x) at x = −0, whose second derivative is 5.6e16 in ours and NaN in torch)
        OpKind.CosineSimilarity when CosineNormBelowEps(s, a) =>
            ("CosineSimilarity where a norm is below eps (documented: torch clamps it outside autograd)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // torch's second derivative of sin(πx)/(πx) is the quotient rule's, whose terms of size 1/(πx)² cancel: its rounding
        // ε/(πx)² passes the float64 tolerance below |x| = 1e-3, and at x = 1e-38 it is 0 where the curvature is −π²/3
        // (`fuzz adversarial 28/146`; ours is the Maclaurin polynomial near 0, Elementary.sinc; at exactly 0 torch's is NaN,
        // the convention "Sinc at 0")
        OpKind.Sinc when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(1e-3)).any().item<bool>() =>
            ("Sinc at a nonzero |x| below 1e-3 (torch's quotient rule cancels)", new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // the cross product's entries are differences of products a_i·b_j − a_j·b_i; where those products overflow at finite
        // operands, ours is ∞ − ∞ = NaN (or ±∞ where one product alone overflows) and torch's kernel, which fuses the
        // multiply into the subtraction, rounds one product only and gives ±∞, while the exact difference may be anything,
        // 0 for parallel vectors (`fuzz all adversarial 98/34`: cross(6.05e160·[1, 1, 1], 1e160·[1, 1, 1]) = 0, ours NaN,
        // torch's −∞). Neither engine scales the operands; the derivatives, linear in the other operand, are compared
        // where no value reaches them, but a later step reads the value, so every check is skipped.
        OpKind.Cross when a[0].numel() > 0 && a[1].numel() > 0 && a[0].isfinite().all().item<bool>() && a[1].isfinite().all().item<bool>()
                && !TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).isfinite().all().item<bool>() =>
            ("ours and torch's: Cross of finite vectors whose products overflow",
             new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        OpKind.Sigmoid or OpKind.BceWithLogits when SigmoidRoundsToOne(a[s.Kind == OpKind.Sigmoid ? 0 : 1]) =>
            ("Sigmoid at a finite x where σ(x) rounds to 1",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // prelu at an input exactly 0: torch's first-order backward takes the x ≤ 0 side there (slope w, and x in w), ours
        // too, but torch's double backward of it, which the JVP (at a zero cotangent) and second-order checks take, is the
        // x > 0 side's (slope 1 in the cotangent, mixed derivative in w 0), so torch disagrees with itself; ours
        // differentiates its own first derivative, w·g, whose derivative in w is g (`fuzz all 1/458`: prelu of [0, 0] with
        // weight 0, JVP ours 0·t, torch t; Hessian ours u in the (w, x) entries, torch 0). Values and the first-order
        // reverse checks are compared as always.
        OpKind.Prelu when a[0].numel() > 0 && a[0].eq(0.0).any().item<bool>() =>
            ("Prelu at an input exactly 0 (torch's double backward takes the other side from its backward)",
             new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's atan2 rule masks both slopes to 0 where a² + b² is 0, and so also where both squares underflow off the
        // origin, where the closed forms b/(a² + b²) and −a/(a² + b²) are numbers or ±∞: at a = 0 the slope in a is 1/b
        // (`fuzz adversarial 44/9`: atan2(0, −1e-300), slope −1e300 in ours, 0 in torch's; at b = 1e-310, 1/b rounds to +∞).
        // Its derivative checks are skipped; values are compared. (At the origin itself, where the derivative does not
        // exist, torch's second order is NaN: the convention "Atan2 at the origin".)
        OpKind.Atan2 when SquaresUnderflowOffTheOrigin(a[0], a[1]) =>
            ("Atan2 where a² + b² underflows to 0 off the origin (torch's mask of the origin takes it)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // atan2(x, x) is a constant at x ≠ 0 (±π/4, ±3π/4), so its second derivative is 0, ours (x − x is our symbolic 0); torch's
        // is the sum of ∓u/(2x²) through a and ±u/(2x²) through b, which cancel only after the terms of the rest of the program
        // have been added to one of them: below |x| ≈ 1e-2 the rounding of that sum, ε/(2x²), swamps them (`fuzz adversarial
        // 99/131`: atan2(x, x) + Σ(1 − x·x) at x = [−1e-45, −1e-45], whose Hessian is −4Σu·I, 2.60 on the diagonal in ours,
        // 9.3e-91 in torch's, the 2.60 absorbed into ±5e89; in float32 x² underflows and torch's is NaN).
        OpKind.Atan2 when s.Args[0] == s.Args[1] && a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(1e-2)).any().item<bool>() =>
            ("Atan2 of a value with itself near 0 (torch's second-order terms ±1/(2x²) cancel after absorbing the rest)",
             new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's rsqrt rule is −½g·y³, so y³ overflows to ∞ (from y = 5.6e102, x below 3.1e-206) where the derivative of the
        // program is finite: rsqrt(x₀)·x₁ at x₀ = 1e-310, x₁ = −1e-310 has the gradient −½u·x₁·x₀^(−3/2) = 3.2e153·u in x₀
        // (`fuzz adversarial 52/133`), torch's −∞; ours multiplies the cotangent into −½y³ one factor at a time. Only at a
        // positive x below that bound (ours overflows too where the closed form does); its derivative checks are skipped.
        // Detected from the float64 values: the float32 check there is held to float64's at the rounded inputs.
        OpKind.Rsqrt when a[0].numel() > 0 && a[0].gt(0.0).logical_and(a[0].lt(RsqrtCubeOverflows)).any().item<bool>() =>
            ("Rsqrt where y³ overflows (torch's rule forms −½g·y³ with y³ = ∞)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // torch's i1 and i1e rules take the slope ½ (the limit at 0) wherever |x| > ε is false, and so at NaN: its gradient
        // there is g/2 where the slope of a NaN value is NaN (ours, as IEEE asks of every rule), and its second order 0
        // (`fuzz fresh 1/271`: i1e of [0, 0, 0, 0, NaN, 0], torch's VJP u/2 at the NaN; FuzzFreshTests). Its derivative
        // checks are skipped; values are compared.
        OpKind.I1 or OpKind.I1e when a[0].numel() > 0 && a[0].isnan().any().item<bool>() =>
            ("I1 or I1e at a NaN entry (torch's rule takes the slope ½ of its small-|x| branch there)",
             new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }),
        // the same branch holds the slope at ½ for 0 < |x| ≤ ε, so torch's second derivative of i1e is 0 there, where i1e″ is
        // ∓1 on either side of 0 (e^{−|x|}·I₁(x) ≈ x/2 − x·|x|/2; ours, by its Maclaurin polynomial: `fuzz fresh adversarial
        // 1/230`, float32: i1e at 1e-30, ours −u·v, torch's 0; `1/273` in float64). Detected at float32's ε from the float64
        // values, as the float32 run needs; its second-order checks are skipped.
        OpKind.I1e when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().le(Float32Epsilon)).any().item<bool>() =>
            ("I1e at 0 < |x| ≤ float32's ε (torch's rule holds the slope ½ there, its second derivative 0 where i1e″ is ∓1)",
             new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's linalg.vander (through cumprod) of a vector holding a subnormal entry: its JVP at that entry is NaN and ±∞
        // where t·[2x, 1, 0] is a number, and its second order NaN there and half the closed form 2·u·v at the other, normal
        // entries (`fuzz fresh adversarial 1/144`: vander([1e-45, 1e-30, 1e-310], 3), ours 2·u₀₀·v₀ = 0.687, torch's 0.344;
        // `1/39`, float32: [2.22, −1e-45]; alone, 1e-30 and 1e-45 give torch's 2). Detected below float32's least normal from
        // the float64 values, as the float32 run needs; its derivative checks but the gradient are skipped.
        OpKind.Vander when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(1.1754943508222875e-38)).any().item<bool>() =>
            ("Vander of a vector holding a subnormal entry (torch's JVP and second order through cumprod: NaN there, half elsewhere)",
             new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // torch's second order of vander at a nonzero normal |x| below 1e-3: its cumprod rule divides by x and its double
        // backward cancels terms g/x apart, off by about ε/|x| relative (vander([x], 4) against the closed form 2u₂ + 6u₃x:
        // 1e-10 relative at 1e-6, 2.7e-5 at 1e-12, and half of it or 1e14 from 1e-16 on; `fuzz special adversarial 61/71`:
        // vander([1e-30], 4), ours 2u₂·v = −1.39385, torch's −0.6969). Its second-order checks are skipped.
        OpKind.Vander when a[0].numel() > 0 && a[0].ne(0.0).logical_and(a[0].abs().lt(1e-3)).any().item<bool>() =>
            ("Vander of a vector holding a nonzero entry below 1e-3 (torch's second order through cumprod cancels terms g/x apart)",
             new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }),
        // i1(±∞) is ±∞, the limit (ours: e^|x| overflows where the scaled series is a number); torch's i1 is NaN there
        // (`fuzz fresh adversarial 1/245`: i1 of [0, +∞]). The value checks are skipped; the derivatives, NaN in both there
        // (i0 − i1/x is ∞ − ∞), are compared.
        OpKind.I1 when a[0].numel() > 0 && a[0].isinf().any().item<bool>() =>
            ("I1 at ±∞ (torch's NaN, the limit ±∞)", new[] { Suite.Check.Value, Suite.Check.Compiled }),
        _ => null,
    };

    /// <summary>
    /// Whether a live LogDet of a finite matrix has an infinite entry in its cotangent, by torch's chain from the output (a
    /// cotangent of 1 in every entry) back to it. torch's rule solves Aᵀ X = g·I, and its back substitution subtracts two
    /// infinities, ∞ − ∞ = NaN, where the closed form g·A⁻ᵀ is ±∞ in every entry whose A⁻¹ entry is not 0 (`fuzz adversarial
    /// 19/238`, float32: the binary cross-entropy of the logit −∞ against σ(logdet A), whose slope in the target is −x = +∞;
    /// torch's gradient is NaN in 6 of the 9 entries, in float64 too, where ∞·A⁻ᵀ, by torch's inverse, and ours are ±∞ in
    /// all 9). Its first-order checks are skipped; values, JVPs and second orders are compared as always.
    /// </summary>
    bool LogDetUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.LogDet) continue;
            var matrix = values[Steps[i].Args[0]];
            if (matrix.numel() == 0 || !matrix.isfinite().all().item<bool>()) continue;
            if (CotangentInto(i, values) is { } g && g.numel() > 0 && g.isinf().any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>Whether a live Sinc has a nonzero finite entry where torch's own slope is 0 (see Forward) and torch's chain from
    /// the output (a cotangent of 1 in every entry) hands that entry an infinite or NaN cotangent.</summary>
    bool SincSlopeLostUnderNonFiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.Sinc) continue;
            var x = values[Steps[i].Args[0]];
            if (x.numel() == 0) continue;
            var leaf = x.detach().clone().requires_grad_(true);
            var slope = TorchSharp.torch.autograd.grad(new[] { leaf.sinc().sum() }, new[] { leaf })[0];
            var lost = x.ne(0.0).logical_and(x.isfinite()).logical_and(slope.eq(0.0));
            if (!lost.any().item<bool>()) continue;
            if (CotangentInto(i, values) is { } g && g.numel() == x.numel()
                && lost.logical_and(g.isfinite().logical_not()).any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Prod over an exact 0 gets a non-finite cotangent from torch's chain from the output (a cotangent of 1
    /// in every entry, under which infinities of both signs meet as NaN where the checks' random cotangents give ±∞). Its second derivatives are the cotangent g times sums of products of all entries but two, and the
    /// products that hold the 0 are exactly 0, so each sum is finite and g times it ±∞; both engines multiply g into each
    /// product before they add them (ours through the prefix and suffix products, torch's through its exclusive cumprods),
    /// where a product holding the 0 meets g as 0·∞ = NaN, each engine in other entries (`fuzz adversarial 101/157`,
    /// float32: a transposed convolution with +∞ and −∞ weights over prod([0.49, 0, 0.5, 0.5]), whose second order in the
    /// entries 0, 2 and 3 is g·(x₂x₃·v₁), g·(x₀x₃·v₁), g·(x₀x₂·v₁) = −∞ each: ours NaN, NaN, NaN, torch's −∞, −∞, NaN).
    /// </summary>
    bool ProdOverAZeroUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.Prod) continue;
            var x = values[Steps[i].Args[0]];
            if (x.numel() == 0 || !x.eq(0.0).any().item<bool>()) continue;
            if (CotangentInto(i, values) is { } g && g.numel() > 0 && !g.isfinite().all().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Det of a matrix up to 3×3 gets an infinite cotangent g from torch's chain from the output. Its
    /// gradient is g·cof(A), ±∞ wherever a cofactor is nonzero, ours since branch edges26 (its rule is that one product per
    /// entry); torch's rule g·det·A⁻ᵀ solves with A and meets ∞ − ∞ = NaN in some entries (`fuzz wide adversarial 87/54`:
    /// exp(x + det A) with x holding +∞, g = −∞: torch's NaN in five entries; ours, which differentiated the cofactor
    /// expansion and multiplied g into each product before the difference, was NaN in the cofactors of rows 1 and 2). Named
    /// one-directionally at first order; the second order is g times the cofactors' derivatives, which both engines still
    /// sum after multiplying by g, and stays skipped.
    /// </summary>
    bool DetUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.Det) continue;
            var a = values[Steps[i].Args[0]];
            if (a.numel() == 0 || a.shape[^1] > 3) continue;
            if (CotangentInto(i, values) is { } g && g.numel() > 0 && g.isinf().any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Logit with eps has an entry outside [eps, 1 − eps] (flat there: every derivative 0, ours a masked slope
    /// and a symbolic zero) whose cotangent from torch's chain from the output is infinite. Torch's rule where(inside,
    /// g/(x(1 − x)), 0) hands its untaken branch the cotangent 0, and that branch's slope in g, 1/(x(1 − x)), meets the
    /// infinite g of its own input as 0·∞ = NaN at second order (`fuzz all adversarial 133/21`, float32: logit(x, 0.25) at
    /// x = [0.895, 0.708, 0.895] times W holding −∞: the Hessian's row and column of x₀ are 0 in ours and in the closed form,
    /// NaN in torch's at (0, 0) and (1, 0)). One-directional, as every TorchNaNEdge.
    /// </summary>
    bool LogitWithEpsFlatUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind != OpKind.Logit || s.Mode != 1) continue;
            var x = values[s.Args[0]];
            if (x.numel() == 0) continue;
            var flat = x.lt(s.Scalar).logical_or(x.gt(1.0 - s.Scalar));
            if (!flat.any().item<bool>()) continue;
            if (CotangentInto(i, values) is { } g && g.numel() == x.numel() && flat.logical_and(g.isinf()).any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live CholeskySolve gets an infinite cotangent from torch's chain from the output: its derivatives are the
    /// cotangent times finite expressions in the factor and the right-hand side (for a 1×1 factor l, X = B/l², whose
    /// second derivative in l is 6B/l⁴), ±∞ by their signs, ours; torch's double backward, −(GXᵀ + XGᵀ)L differentiated,
    /// adds infinite terms of opposite signs, NaN (`fuzz all adversarial 97/247`, float32: a linear layer with a −∞ weight
    /// over cholesky_solve(B, l) with l = 2 in three batches, second order in l −∞ in ours, NaN in torch's). One-directional,
    /// as every TorchNaNEdge.
    /// </summary>
    bool CholeskySolveUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.CholeskySolve) continue;
            if (CotangentInto(i, values) is { } g && g.numel() > 0 && g.isinf().any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live LogSumExp over more than one entry gets an infinite cotangent from torch's chain from the output. Its
    /// second derivative along v is g·pᵢ(vᵢ − Σⱼpⱼvⱼ) with p the softmax, ±∞ by the sign of the centred direction; both
    /// engines multiply g into the two terms before they add them: torch's double backward differentiates g·e^(x − result)
    /// along its two paths, g·pᵢvᵢ and −g·pᵢΣⱼpⱼvⱼ, and ours through the softmax's rule, each ∞ − ∞ = NaN in some entries
    /// (`fuzz wide adversarial 110/213`, float32: a linear layer with a +∞ weight over logsumexp of [0, 0.0396], whose second
    /// order along [1, −½] is [+∞, −∞]: ours [NaN, −∞], torch's NaN in both). Its second-order checks are skipped.
    /// </summary>
    bool LogSumExpUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.LogSumExp || values[Steps[i].Args[0]].numel() < 2) continue;
            if (CotangentInto(i, values) is { } g && g.numel() > 0 && g.isinf().any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>
    /// Whether a live Sum or Mean reduces whole groups of a live layer, group, instance or batch norm (every entry, or at
    /// least the group's axes), whose normalised entries sum to exactly 0 over each group, and a live step reads that sum
    /// in a product with a non-finite operand or with an infinite slope at 0 (log, √, rsqrt, a reciprocal, a divisor). Each engine
    /// leaves its own rounding residue in the sum, or none, and the step after it turns the residue's sign or its absence
    /// into ±∞ or NaN: ∞·0 = NaN where the sum is 0 exactly (`fuzz all adversarial 1804/193`: the pairwise distance of x·m
    /// with m the mean of an instance norm of a constant, x holding +∞: ours m = 0 and the value NaN, as the exact
    /// arithmetic's; torch's m = −8.6e-15 and the value +∞). A matrix made of such a sum (kept as a 1×1 matrix) is exactly
    /// singular, so inverting it, solving with it or taking its logdet is the same pole: ours raises "singular" at the exact
    /// 0, torch inverts its residue (`fuzz all adversarial 118/257`: the inverse of the mean of a layer norm over pairs,
    /// whose normalised pairs are ±d/√(d² + ε), exact negatives; ours 0, torch's 1.4e-17). Every check is skipped.
    /// </summary>
    bool MeanOfNormalisedGroupsBesideInfinity(bool[] live, IReadOnlyList<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            if (!live[i] || s.Kind is not (OpKind.Sum or OpKind.Mean)) continue;
            int j = s.Args[0] - InputCount;
            if (j < 0 || !live[j] || Steps[j].Kind is not (OpKind.LayerNorm or OpKind.GroupNorm or OpKind.InstanceNorm or OpKind.BatchNorm)) continue;
            int rank = (int)values[s.Args[0]].dim();
            if (rank == 0) continue;
            var reduced = s.Mode == 0 ? Enumerable.Range(0, rank).ToHashSet() : s.Ints.Select(a => a < 0 ? a + rank : a).ToHashSet();
            var group = Steps[j].Kind switch
            {
                OpKind.LayerNorm => new[] { rank - 1 },
                OpKind.InstanceNorm => Enumerable.Range(2, Math.Max(0, rank - 2)).ToArray(),
                OpKind.GroupNorm => Enumerable.Range(1, rank - 1).ToArray(),
                _ => Enumerable.Range(0, rank).Where(a => a != 1).ToArray(),
            };
            if (group.Length == 0 || !group.All(reduced.Contains)) continue;
            int sum = InputCount + i;
            for (int k = i + 1; k < Steps.Length; k++)
            {
                var r = Steps[k];
                if (!live[k] || !r.Args.Contains(sum)) continue;
                bool slopeAtZero = r.Kind is OpKind.Log or OpKind.Sqrt or OpKind.Rsqrt or OpKind.Reciprocal or OpKind.RDivScalar
                    or OpKind.Inverse or OpKind.LogDet
                    || r.Kind is OpKind.Div or OpKind.Solve && r.Args[r.Kind == OpKind.Div ? 1 : 0] == sum;
                // a product: a sum beside an infinity is ±∞ whatever the residue
                bool besideNonFinite = r.Kind is OpKind.Mul or OpKind.MatMul or OpKind.Outer or OpKind.Kron or OpKind.Einsum
                    && r.Args.Any(a => a != sum && values[a].numel() > 0 && !values[a].isfinite().all().item<bool>());
                if (slopeAtZero || besideNonFinite) return true;
            }
        }
        return false;
    }

    /// <summary>Whether some entry of mish's operand is where softplus underflows to 0 or tanh(softplus x) rounds to ±1.</summary>
    static bool MishFlat(TorchSharp.torch.Tensor x)
    {
        var softplus = TorchSharp.torch.nn.functional.softplus(x);
        return softplus.eq(0.0).logical_or(softplus.tanh().abs().eq(1.0)).any().item<bool>();
    }

    /// <summary>Whether a live Mish has an entry at 0 or where torch's tanh(softplus x) is ±1 and torch's chain from the output (a
    /// cotangent of 1 in every entry) hands that entry an infinite cotangent (see Forward).</summary>
    bool MishUnderInfiniteCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i] || Steps[i].Kind != OpKind.Mish) continue;
            var x = values[Steps[i].Args[0]];
            if (x.numel() == 0) continue;
            var saturated = TorchSharp.torch.nn.functional.softplus(x).tanh().abs().eq(1.0);
            var lost = x.eq(0.0).logical_or(saturated);
            if (!lost.any().item<bool>()) continue;
            if (CotangentInto(i, values) is { } g && g.numel() == x.numel() && lost.logical_and(g.isinf()).any().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>The cotangent torch's chain hands step <paramref name="i"/>'s output from the program's output under a cotangent
    /// of 1 in every entry; null where the output does not depend on the step or torch cannot differentiate the rest.</summary>
    TorchSharp.torch.Tensor? CotangentInto(int i, List<TorchSharp.torch.Tensor> values)
    {
        try
        {
            int v = InputCount + i;
            var leaf = values[v].detach().clone().requires_grad_(true);
            var redone = new List<TorchSharp.torch.Tensor>(values.Take(v)) { leaf };
            for (int k = i + 1; k < Steps.Length; k++)
                redone.Add(TorchInterpreter.Apply(Steps[k], Steps[k].Args.Select(a => redone[a]).ToArray(), leaf.dtype));
            var y = redone[Output];
            if (!y.requires_grad) return null;
            return TorchSharp.torch.autograd.grad(new[] { y.sum() }, new[] { leaf }, allow_unused: true)[0];
        }
        catch (Exception) { return null; } // torch cannot differentiate the rest of the program: nothing to name
    }

    /// <summary>
    /// Whether a live 2-norm that the reference scales (Norm with p = 2, FrobeniusNorm, and the 2-norm distances over a
    /// group whose largest |entry| is finite and above 2^480: TorchInterpreter.Scaled, the convention "a scaled norm") meets
    /// a cotangent that times the scale comes within a factor 2^8 of overflow, by torch's chain from the output (a
    /// cotangent of 1 in every entry; the checks' random cotangents and directions are of size 1 too). The reference is
    /// s·‖x/s‖ with s = 2^⌊log2 max|x|⌋ held, so its chain hands the inner norm g·s, which overflows where the exact
    /// gradient g·x/‖x‖ is at most |g| (`fuzz wide adversarial 5/271`: x₁·‖x₀‖ with x₀ = [−1.61, −1e300, 0.94] and x₁
    /// holding −1e300 twice, g = −1.68e300, s = 6.7e299: the reference's gradient [+∞, +∞, −∞], the closed form and ours
    /// [2.71, 1.68e300, −1.58]).
    /// </summary>
    bool ScaledNormUnderHugeCotangent(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        for (int i = 0; i < Steps.Length; i++)
        {
            var s = Steps[i];
            bool scaled = s.Kind == OpKind.FrobeniusNorm
                || s.Kind is OpKind.Norm or OpKind.Cdist or OpKind.Dist or OpKind.PairwiseDistance or OpKind.Pdist && s.Scalar == 2;
            if (!live[i] || !scaled) continue;
            var operands = s.Args.Select(a => values[a]).Where(t => t.numel() > 0).ToList();
            if (operands.Count == 0) continue;
            double largest = operands.Select(t => t.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>()).Max();
            if (largest <= Math.ScaleB(1.0, 480)) continue;
            if (CotangentInto(i, values) is not { } g || g.numel() == 0) continue;
            double cotangent = g.abs().nan_to_num(0.0, double.MaxValue, double.MaxValue).max().item<double>();
            if (cotangent * largest >= double.MaxValue / 256) return true;
        }
        return false;
    }

    /// <summary>Whether some lane along the axis holds the same entries in both operands (broadcast), not all of them 0.</summary>
    static bool EqualLanes(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b, int axis)
    {
        var pair = TorchSharp.torch.broadcast_tensors(a, b);
        if (pair[0].numel() == 0) return false;
        long along = axis < 0 ? axis + pair[0].dim() : axis;
        return pair[0].eq(pair[1]).all(along).logical_and(pair[0].ne(0.0).any(along)).any().item<bool>();
    }

    /// <summary>Whether two finite entries along the axis, above the bound in magnitude, are equal.</summary>
    /// <summary>Whether an attention step's scores q kᵀ·scale (−∞ where its causal mask hides a key) tie beyond 1e15
    /// along the keys (see TiesAlong).</summary>
    static bool AttentionScoresTie(Step s, TorchSharp.torch.Tensor q, TorchSharp.torch.Tensor k)
    {
        if (q.dim() < 2 || k.dim() < 2 || q.numel() == 0 || k.numel() == 0) return false;
        var scale = s.Mode == 1 ? s.Scalar : 1.0 / Math.Sqrt(q.shape[^1]);
        var scores = TorchSharp.torch.matmul(q, k.transpose(-2, -1)) * scale;
        if (s.Flag)
        {
            var hidden = TorchSharp.torch.ones(scores.shape[^2], scores.shape[^1], dtype: TorchSharp.torch.ScalarType.Bool).tril().logical_not();
            scores = scores.masked_fill(hidden, double.NegativeInfinity);
        }
        return TiesAlong(scores, -1, 1e15);
    }

    static bool TiesAlong(TorchSharp.torch.Tensor x, int axis, double bound)
    {
        if (x.dim() == 0) return false;
        long along = axis < 0 ? axis + x.dim() : axis, n = x.shape[along];
        if (n < 2) return false;
        var sorted = x.sort(along).Values;
        var upper = sorted.narrow(along, 1, n - 1);
        return TorchSharp.torch.diff(sorted, dim: along).eq(0.0).logical_and(upper.isfinite()).logical_and(upper.abs().gt(bound)).any().item<bool>();
    }

    /// <summary>Whether some group a Std or Var step reduces (every axis, or the step's axes) holds more than one entry, all
    /// equal and finite (see TorchWrong, "Std of equal entries").</summary>
    static bool EqualEntriesInSomeGroup(Step s, TorchSharp.torch.Tensor x)
    {
        if (x.numel() == 0 || x.dim() == 0) return false;
        long[] axes = s.Mode == 0 ? Enumerable.Range(0, (int)x.dim()).Select(d => (long)d).ToArray() : s.Ints.Select(v => (long)v).ToArray();
        if (axes.Aggregate(1L, (n, d) => n * x.shape[d < 0 ? d + x.dim() : d]) < 2) return false;
        var largest = x.amax(axes, keepdim: true);
        return largest.eq(x.amin(axes, keepdim: true)).logical_and(largest.isfinite()).any().item<bool>();
    }

    /// <summary>Whether some entry of a broadcast pair has both operands finite and a² + b² = +∞ (see TorchNaNEdge).</summary>
    static bool SquaresOverflow(TorchSharp.torch.Tensor a, TorchSharp.torch.Tensor b)
    {
        var pair = TorchSharp.torch.broadcast_tensors(a, b);
        if (pair[0].numel() == 0) return false;
        return pair[0].isfinite().logical_and(pair[1].isfinite())
            .logical_and(pair[0].square().add(pair[1].square()).isinf()).any().item<bool>();
    }

    /// <summary>Whether an atan2's operands, broadcast, have an entry where a² + b² is 0 and a or b is not.</summary>
    static bool SquaresUnderflowOffTheOrigin(TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor y)
    {
        var pair = TorchSharp.torch.broadcast_tensors(x, y);
        if (pair[0].numel() == 0) return false;
        var (a, b) = (pair[0], pair[1]);
        return a.mul(a).add(b.mul(b)).eq(0.0).logical_and(a.ne(0.0).logical_or(b.ne(0.0))).any().item<bool>();
    }

    /// <summary>Whether a convolution's input holds an infinite entry that no tap with a nonzero weight reads: the
    /// gradient of Σ conv(1, [w ≠ 0]) counts, per input entry, the nonzero taps over it.</summary>
    static bool InfiniteEntryNoWeightReads(Step s, TorchSharp.torch.Tensor[] a)
    {
        if (a[0].numel() == 0 || a[1].numel() == 0 || !a[0].isinf().any().item<bool>()) return false;
        var ones = TorchSharp.torch.ones_like(a[0]).detach().requires_grad_(true);
        var mask = a[1].detach().ne(0.0).to(a[0].dtype);
        var y = TorchInterpreter.Apply(s, new[] { ones, mask }, a[0].dtype);
        if (y.numel() == 0) return true; // no output at all: nothing reads any entry
        var reads = TorchSharp.torch.autograd.grad(new[] { y.sum() }, new[] { ones })[0];
        return a[0].isinf().logical_and(reads.eq(0.0)).any().item<bool>();
    }

    /// <summary>Whether a Cross has an entry where torch's value differs from a₁b₂ − a₂b₁ with both products rounded, and
    /// that difference cancels the products to within 1e-8 of their size (see TorchWrong).</summary>
    static bool CrossCancelsApart(Step s, TorchSharp.torch.Tensor[] a)
    {
        var pair = TorchSharp.torch.broadcast_tensors(a[0], a[1]);
        if (pair[0].numel() == 0) return false;
        long axis = s.Ints[0] < 0 ? s.Ints[0] + pair[0].dim() : s.Ints[0];
        var (x, y) = (pair[0], pair[1]);
        var first = x.roll(-1, axis) * y.roll(-2, axis);
        var second = x.roll(-2, axis) * y.roll(-1, axis);
        var plain = first - second;
        var torchs = TorchSharp.torch.linalg.cross(x, y, axis);
        var cancels = plain.abs().le((first.abs() + second.abs()) * 1e-8).logical_and(first.ne(0.0));
        return cancels.logical_and(torchs.ne(plain)).logical_and(plain.isfinite()).any().item<bool>();
    }

    /// <summary>
    /// The checks a step's known limitation of ours (README, "Known limitations": the polynomial normal forms) makes
    /// differ from torch, with why; null otherwise. Unlike <see cref="TorchWrong"/>, torch is right here: these are ours
    /// to fix, skipped by name so that the fuzzer keeps finding everything else. (A monomial holding an overflowed square
    /// was here, at second order, `fuzz adversarial 5/87`, `9/46`, `10/145`, `14/274`, and at first order, `16/127`: the
    /// Rewrite pass now multiplies such a monomial in the chain's order, newest factor first and the square one factor at a
    /// time, so a vanishing factor meets the finite x before x², and those programs pass unnamed.)
    /// <list type="bullet">
    /// <item>A quotient with a zero numerator over a nonzero denominator whose reciprocal overflows (|x| below 5.6e-309), at
    /// second order: the monomial (−1/x)·(0/x) is −∞·0 = NaN where torch's chain gives −0 (`fuzz adversarial 6/205`: 0/x
    /// at x = 5e-324 into a max pool).</item>
    /// <item>A prod over an infinity without a zero, at second order: our rule is torch's y/x there, ∞/∞ = NaN at the
    /// infinity's entry in both engines at first order, and ours carries it into every second derivative (`fuzz 10/213`).</item>
    /// <item>The JVP through a max or min of an infinity and a finite value: the simplified tangent of −max(b, a)² multiplies
    /// the infinite 2m into the losing operand's masked tangent, ∞·0 = NaN, where the closed form is −∞ (`fuzz 9/966`).</item>
    /// <item>The second order of a 2-norm whose value is nonzero and below 1/MaxValue (5.6e-309), so its Hessian
    /// (I − x̂x̂ᵀ)/‖x‖ has entries beyond the range: ours forms terms of that size that overflow before they cancel, NaN
    /// or ±∞ where the closed form is 0 (the shrunk `fuzz adversarial 25/129`).</item>
    /// <item>A cumprod over an infinity and a zero, at second order: the scan's lanes of products meet pads' zeros as 0·∞ = NaN
    /// where the closed form is a number or ±∞, and torch's double backward at other entries (`fuzz adversarial 47/195`).</item>
    /// <item>Glu's second order where an entry of its first half a is above 1.3e154, so a² overflows: ours multiplies the
    /// second-order cotangent by a twice before σ″(b) can bring it back, +∞ where the closed form 2u·a²(σ′² + σσ″) is a
    /// number (`fuzz adversarial 23/180`: glu(x)² at a = 1e160, b = 710, −4.3e11 in closed form, torch NaN).</item>
    /// </list>
    /// </summary>
    /// <summary>Whether a CTC step has a sample whose loss (torch's, unreduced) is finite and above <paramref name="bound"/>.</summary>
    internal static bool HugeCtcLoss(Step s, TorchSharp.torch.Tensor x, double bound)
    {
        var losses = TorchInterpreter.Apply(s with { Mode = 2, Flag = false }, new[] { x }, x.dtype);
        return losses.numel() > 0 && losses.isfinite().logical_and(losses.gt(bound)).any().item<bool>();
    }

    /// <summary>A multi_margin_loss step's hinges margin − x[target] + x[j] over the other classes j of every sample, the
    /// target's own column 0 (it is no term).</summary>
    static TorchSharp.torch.Tensor MultiMarginHinges(Step s, TorchSharp.torch.Tensor x)
    {
        var rows = x.dim() == 1 ? x.unsqueeze(0) : x;
        var index = TorchSharp.torch.tensor(s.Ints.Select(t => (long)t).ToArray()).reshape(-1, 1);
        var chosen = rows.gather(1, index);
        return (s.Scalar - chosen + rows).scatter(1, index, TorchSharp.torch.zeros_like(chosen));
    }

    static (string Why, Suite.Check[] Checks)? OurLimitation(Step s, TorchSharp.torch.Tensor[] a)
    {
        static bool Any(TorchSharp.torch.Tensor t) => t.numel() > 0 && t.any().item<bool>();
        var second = new[] { Suite.Check.SecondOrder, Suite.Check.Hessian };
        // a value within a factor 16 of overflow (above 2^1020) whose derivatives multiply it by more factors: our derivative
        // graphs form those products in another order than torch's (forward mode from the input, the Rewrite pass's
        // normal forms), so a product whose closed form is finite overflows in ours, or two overflowed terms of opposite
        // sign meet as ∞ − ∞ (`fuzz all adversarial 1/14`: sinh(dist(0, [1.18, 710])) = 1.1e308, second order −∞ in ours,
        // 4.9e307 in torch's; `1/240`: the JVP through cos(e^709), −∞ in ours, −3.3e307; `1/93`: the Hessian of
        // digamma(cos(smooth_l1(sinh x, x))) at x = −709, NaN in ours, torch −∞, whose terms are 1e615 apart from overflow)
        // xlogy's slope in x is log y, ±∞ at y = +∞ or 0, which a zero cotangent meets as 0·∞ = NaN in ours; torch's rule
        // is xlogy(g, y), 0 where g is 0, and the limit agrees with it where the zero comes from a saturated slope after it
        // (`fuzz all adversarial 3/113`: atan(xlogy(x₀, x₁)) at x₀ = 1e-45, x₁ = +∞, a constant π/2 in x₀ > 0, gradient 0 in
        // torch's, NaN in ours). A rule that reads its cotangent is not linear in it, which the transposed forward mode
        // needs (Known limitations), so it stays ours. At x = 0 the slope is log y as well (ours since `fuzz all adversarial
        // 55/154`: +∞ at y = +∞, torch's, where it was 0), so a zero cotangent meets it there too; not named, since a
        // program that reaches it is worth seeing.
        // √x at a positive x below 1.39e-309: its slope's square 1/(4x) and its curvature −1/(4x^1.5) both overflow, so the
        // second derivative of g(√x), g′·√″ + g″·√′², is a sum of two infinities of opposite signs in ours, NaN, where torch's
        // double backward forms −∞ (`fuzz newest adversarial 3/4`: e^√x at x = 1e-310, whose second derivative
        // e^√x·(1/(4x) − 1/(4x^1.5)) is −2.5e464, −∞ in float64). Its second-order checks are skipped.
        // the matrix exponential scales A by 2^−s with s from its norm, and an infinite entry makes the norm, and every entry
        // after the scaling and squaring, ∞·0 or ∞ − ∞ = NaN, where torch's gives e^∞ = ∞ for a 1×1 matrix (`fuzz fresh
        // adversarial 1/101`, float32: matrix_exp([[+∞]]) from 1e160). Every check of the program is skipped.
        // log Φ is exactly 0 at +∞ with the slope exactly 0, and an input that reached +∞ by overflow (x² at x = ∞, i1 past
        // 713) carries an infinite tangent, which forward mode meets as 0·∞ = NaN, as IEEE asks of the product; every
        // derivative's limit is 0 (φ decays faster than any tangent grows), torch's double backward's numbers there (`fuzz
        // fresh adversarial 41/171`: log_ndtr(x₁ + x₀·x₀) at x₀ = +∞, JVP and second order NaN in ours, 0 in torch's;
        // `fresh adversarial 1/79`: log_ndtr(i1(3.5e8)); FuzzSeeds41To45Tests). Its forward-mode checks are skipped.
        // copysign reads b's sign by comparisons, which cannot see a NaN's sign bit, so a NaN in b counts as positive in ours
        // (Elementary.copysign's documented limitation); torch copies the bit, and .NET's double.NaN has it set (`fuzz recent
        // 55/233`: copysign(0.814, NaN), ours 0.814, torch's and IEEE's −0.814). Every check skipped where b holds such a NaN.
        if (s.Kind == OpKind.Copysign && TorchSharp.torch.broadcast_tensors(a[0], a[1])[1] is var signs
                && Any(signs.isnan().logical_and(signs.signbit())))
            return ("ours (a known limitation): copysign by a NaN whose sign bit is set (ours reads it as positive)",
                new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        if (s.Kind == OpKind.LogNdtr && Any(a[0].eq(double.PositiveInfinity)))
            return ("ours (a known limitation): log_ndtr at +∞ under an infinite tangent (forward mode's 0·∞)",
                new[] { Suite.Check.Jvp, Suite.Check.SecondOrder });
        // log Φ's curvature −(φ/Φ)(x + φ/Φ) tends to −1 as x → −∞ (the reference's); ours differentiates its slope
        // √(2/π)/erfcx(−x/√2), whose derivative meets erfcx′ ≈ −1/(z²√π) and erfcx², which underflow from about x = −1e150, so
        // its second order is 0 there and NaN at −∞ (`fuzz special adversarial 63/171`: log_ndtr at −1e300, and at −∞ in
        // float32; the same program found erfcx's rule cancelling from z ≈ 1e4 on, fixed: Rules.erfcxSlope)
        if (s.Kind == OpKind.LogNdtr && Any(a[0].lt(-1e150).logical_or(a[0].to_type(TorchSharp.torch.ScalarType.Float32).eq(double.NegativeInfinity))))
            return ("ours (a known limitation): the second order of log_ndtr far left (its slope's derivative meets erfcx′ and erfcx², which underflow; the limit −1)",
                new[] { Suite.Check.SecondOrder, Suite.Check.Hessian });
        if (s.Kind == OpKind.MatrixExp && a[0].numel() > 0 && Any(a[0].isinf()))
            return ("ours (a known limitation): the matrix exponential of a matrix holding an infinity (NaN by its scaling)",
                new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        if (s.Kind == OpKind.Sqrt && Any(a[0].gt(0.0).logical_and(a[0].lt(1.39e-309))))
            return ("ours (a known limitation): the second order through √x at a positive x below 1.39e-309 (two overflowed terms of opposite signs)", second);
        if (s.Kind == OpKind.Xlogy && TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var xy
                && Any(xy[0].ne(0.0).logical_and(xy[1].eq(double.PositiveInfinity).logical_or(xy[1].eq(0.0)))))
            return ("ours (a known limitation): xlogy's infinite slope in x at y = +∞ or 0 under a zero cotangent",
                new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // xlog1py's slope in x is log1p y, the same at y = +∞ or −1 (`fuzz fresh adversarial 2/173`: tanh(xlog1py(x, +∞)) at
        // x = 1e300, gradient NaN in ours, torch's 0)
        if (s.Kind == OpKind.Xlog1py && TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var xz
                && Any(xz[0].ne(0.0).logical_and(xz[1].eq(double.PositiveInfinity).logical_or(xz[1].eq(-1.0)))))
            return ("ours (a known limitation): xlog1py's infinite slope in x at y = +∞ or −1 under a zero cotangent",
                new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // the gradient too: the Rewrite pass's normal form sorts a monomial's factors by atom, so the cotangent meets e^x
        // before the factors after it that bring it back into range (`fuzz wide adversarial 88/88`: −Σ1/e^x at x = 709 under
        // the cotangent 6, ((6·e^x)·y)·y with y = 1/e^x, +∞ where the gradient 6e^−709 is 7.3e-308, torch's 0 by underflow;
        // `88/143`: logsigmoid(e^x) at 709, (g·e^x)·σ(−e^x) = ∞·0 = NaN where the gradient is 0; FuzzSeeds87To110Tests)
        // expm1 is e^x − 1 there, the same value (`fuzz all adversarial 112/117`: Σ u·sinc(kron(v, v)), v summing
        // σ(cos(expm1 x)) + 1 over rows, at x holding 709 beside −0: the Hessian's column of that entry is NaN in ours, the
        // tangent e₄ meeting the overflowed second derivative of expm1 through the exact zero slope of the −0 entries, where
        // torch's rows keep 0; FuzzSeeds111To120Tests)
        if (s.Kind is OpKind.Exp or OpKind.Expm1 or OpKind.Sinh or OpKind.Cosh
                && TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64) is var large
                && Any(large.isfinite().logical_and(large.abs().gt(Math.Pow(2, 1020)))))
            return ("ours (a known limitation): derivatives through a value within a factor 16 of overflow",
                new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // a rank-0 exponent of ±½ is √x or 1/√x in ours, as torch's pow computes a number exponent (Elementwise.powScalar);
        // torch's kernel for a tensor exponent is IEEE pow, which differs at −∞ and −0 ((−∞)^½ is NaN by √, +∞ by IEEE;
        // `fuzz recent 71/264`: a row holding −∞ to the power x₀ = 0.5, an input of shape []; FuzzSeeds142To160Tests).
        // Every check skipped where the base holds −∞ or −0.
        if (s.Kind == OpKind.Pow && a[1].numel() == 1 && Math.Abs(a[1].flatten()[0].item<double>()) == 0.5
                && Any(a[0].eq(double.NegativeInfinity).logical_or(a[0].eq(0.0).logical_and(a[0].signbit()))))
            return ("ours (a convention): a rank-0 exponent of ±½ as torch's number exponent, √x, where its tensor exponent is IEEE pow (at −∞ and −0)",
                new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // a power a^b that overflows at finite operands: its JVP is ±∞ by the term a^b·log a·ḃ, but a tangent that reaches
        // the other term b·a^(b−1)·ȧ as a subnormal underflows to 0 on the way in ours, and meets a^(b−1) = ∞ as 0·∞ = NaN
        // (`fuzz adversarial 107/176`: softplus(σ(√(x² + 0.25)^0.204))^10000 at x = 5e-324, ȧ about 1e-324: the JVP is −∞
        // in torch's, NaN in ours; FuzzEdges26Tests)
        if (s.Kind == OpKind.Pow && TorchSharp.torch.broadcast_tensors(a[0], a[1]) is var ab
                && Any(TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).isinf()
                    .logical_and(ab[0].isfinite()).logical_and(ab[1].isfinite())))
            return ("ours (a known limitation): the JVP of a power that overflows at finite operands, under a subnormal tangent", new[] { Suite.Check.Jvp });
        if (s.Kind == OpKind.Div && Any(a[0].eq(0.0)) && Any(a[1].ne(0.0).logical_and(a[1].reciprocal().isinf())))
            return ("ours (a known limitation): a monomial of 0/x and the overflowed 1/x, at second order", second);
        // our prod rule is torch's y/x where the entries hold no 0, so an infinite entry's gradient is ∞/∞ = NaN in both
        // engines (a documented convention); its second derivatives carry that NaN into every row, where torch's double
        // backward keeps the closed form in some (`fuzz 10/213`: the product of [−0.9, ∞, −0.3], whose Hessian-vector row of
        // −0.9 is u·(v₁x₂ + v₂x₁) = −∞ in torch, NaN in ours)
        // the JVP of −max(b, a)² at a = ∞ beside a finite b is NaN in ours where it is −2·∞·ȧ = −∞ (max(b, a)² alone gives
        // +∞): the simplified tangent multiplies the infinite factor 2m into the masked tangent of the losing operand,
        // ∞·0 (`fuzz 9/966`)
        if (s.Kind is OpKind.Maximum or OpKind.Minimum
                && (Any(a[0].isinf()) && Any(a[1].isfinite()) || Any(a[1].isinf()) && Any(a[0].isfinite())))
            return ("ours (a known limitation): the JVP through a max or min of an infinity and a finite value", new[] { Suite.Check.Jvp });
        // cumprod's second derivatives are products of the entries other than the two differentiated: where two finite
        // entries' product overflows, ours forms it beside a zero slope or a zero entry, ∞·0 = NaN, where the closed form
        // is finite (`fuzz all adversarial 132/31`: tanh(cumprod([1e300, 0, 1e300])) padded, whose Hessian-vector product
        // along 1 is [1 + a, 1 + 2a, a] at a = 1e300, torch's in entries 0 and 2, ours NaN; FuzzSeeds127To134Tests)
        if (s.Kind == OpKind.Cumprod && a[0].numel() > 1 && a[0].isfinite().all().item<bool>()
                && a[0].abs().flatten().to_type(TorchSharp.torch.ScalarType.Float64).data<double>().OrderDescending().ToArray() is var top
                && top[0] * top[1] > double.MaxValue)
            return ("ours (a known limitation): the second order of a cumprod whose product of two entries overflows", second);
        if (s.Kind == OpKind.Prod && Any(a[0].isinf()) && !Any(a[0].eq(0.0)))
            return ("ours (a known limitation): the second order of a prod's y/x over an infinity", second);
        // cumprod is a Hillis-Steele scan of products over slices of the axis: its second derivatives multiply whole lanes,
        // so a lane whose cotangent is a pad's exact 0 meets an infinite entry as 0·∞ = NaN in entries whose closed form is a
        // number or ±∞; torch's double backward meets its own 0·∞ in other entries (`fuzz adversarial 47/195`: cumprod of
        // [0, −∞, 0], whose Hessian-vector product u₁v₁ + u₂x₁v₂, u₁v₀, u₂x₁v₀ is [−∞, 0.170, +∞]; ours [NaN, 0.170, +∞],
        // torch's [−∞, NaN, +∞])
        // the JVP of a solve of an infinite right-hand side β·eₖ: Ẋ = A⁻¹(ḃ − ȦX) with X = β·A⁻¹eₖ + finite, whose limit is
        // −β·A⁻¹ȦA⁻¹eₖ, ±∞ by that vector's signs (the reference's, which forms A⁻¹ȦA⁻¹ first); ours forms ȦX, adding X's
        // infinities with Ȧ's signs, ∞ − ∞ = NaN where they differ (`fuzz adversarial 105/135`, float32: solve(A, [−∞, 1e-30]),
        // JVP [−∞, +∞] in the closed form and the reference, [−∞, NaN] in ours; `fuzz 90/135`). The limit needs the infinities
        // kept as one β through the derivative, as the value's kernel keeps them (LinalgKernels.luSolve)
        if (s.Kind == OpKind.Solve && Any(a[1].isinf()) && !Any(a[1].isnan()) && a[0].numel() > 0 && a[0].isfinite().all().item<bool>())
            return ("ours (a known limitation): the JVP of a solve of an infinite right-hand side", new[] { Suite.Check.Jvp });
        if (s.Kind == OpKind.Cumprod && Any(a[0].isinf()) && Any(a[0].eq(0.0)))
            return ("ours (a known limitation, and torch's): the second order of a cumprod over an infinity and a zero", second);
        // the same scan past an infinite entry without a zero: a JVP entry of the cumprod is Σ_j ẋ_j·Π_{k≠j} x_k, and the
        // terms that hold the infinity are ±∞ each, while their sum is the one infinity times a finite sum, ±∞ by that sum's
        // sign; the scan's lanes add them pairwise, ∞ − ∞ = NaN where two have opposite signs, and so does the second order
        // (`fuzz all adversarial 94/272`: cumprod over [5929 − 2x², ...] at x = [−1e10, −1e300], whose JVP at the second entry
        // is ẏ₀·(−∞) + y₀·ẏ₁ with the exact terms −2.6e608 and +3.3e320: −∞, torch's, ours NaN; `fuzz wide 99/265`: Σ w·cumprod
        // of [1.2, −∞, 1] with w = 0, whose second order in w₂, u·(x₁x₂v₀ + x₀x₂v₁ + x₀x₁v₂), is −∞, torch's, ours NaN, while
        // torch's is NaN where ours is the closed form in w₁ and x₁)
        if (s.Kind == OpKind.Cumprod && Any(a[0].isinf()))
            return ("ours (a known limitation, and torch's): the JVP and second order of a cumprod over an infinity",
                new[] { Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian });
        // beside a zero, the products of the others that hold it are 0, but both engines form them from running products
        // (ours the prefix and suffix products, torch's its own order), which overflow or underflow beside the zero and
        // meet it as 0·∞ = NaN, at other entries in each (`fuzz all adversarial 48/290`: the product of [0, 1e300, −89,
        // 1e160, −1.5, 1e160], whose gradient is 0 but at the zero; NaN at three entries in ours, two in torch's). Ours is
        // exact at first order where the others hold two zeros or more (FuzzSeeds46To48Tests); the second order is not.
        // finite entries, none 0, whose product overflows: our rule's y/x is ±∞ in every entry, and its second order forms
        // y/x again from the overflowed y, NaN where the closed form's sums of overflowed products of all but two entries
        // are ±∞ (torch's double backward keeps some of them: the same program, 48/290 before shrinking, [−1e20, 1e300,
        // −89, 1e160, −1.5, 1e160])
        if (s.Kind == OpKind.Prod && a[0].numel() > 0 && a[0].isfinite().all().item<bool>() && !Any(a[0].eq(0.0))
                && Any(TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64).isinf()))
            return ("ours (a known limitation): the second order of a prod of finite entries whose product overflows", second);
        if (s.Kind == OpKind.Prod && ProdOfZerosBesideAnOutOfRangeRest(s, a[0]))
            return ("ours (a known limitation, and torch's): the derivatives of a prod over a zero beside a running product out of range",
                new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // a causal mask leaves a query's later keys out of the function, so a NaN or ±∞ in a masked key or value does not
        // reach that query's row; neither engine leaves it out: ours multiplies the masked weight, exactly 0, into the value
        // row, 0·NaN = NaN where it is not finite, and torch adds −∞ to the NaN score, NaN in the whole row (`fuzz all
        // adversarial 57/32`: causal attention whose key and value row 1 hold NaN, row 0 of the output [0.99, 1.08] in
        // closed form, ours [NaN, 1.08], torch's [NaN, NaN]). Leaving them out takes a masked product in place of the
        // matmul; every check of the step is skipped.
        if (s.Kind == OpKind.ScaledDotProductAttention && s.Flag && a[1].dim() >= 2 && a[1].shape[^2] >= 2
                && (Any(a[1].narrow(-2, 1, a[1].shape[^2] - 1).isfinite().logical_not())
                    || Any(a[2].narrow(-2, 1, a[2].shape[^2] - 1).isfinite().logical_not())))
            return ("ours (a known limitation, and torch's): causal attention over a NaN or ±∞ in a masked key or value",
                new[] { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // the gradient of x·silu(x) at x = −1.85e160 is NaN in ours where its limit, and torch's, is 0: the simplified
        // derivative multiplies x², which overflows, by σ′(x), which underflows (`fuzz adversarial 2/272`)
        if (s.Kind == OpKind.Silu && Any(a[0].isfinite().logical_and(a[0].abs().gt(SquareOverflows))))
            return ("ours (a known limitation): silu where x² overflows, beside a product with x",
                new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled });
        // glu's second derivative in b through a product with glu itself, 2u·a²(σ′² + σσ″), meets a² before σ″: ours forms
        // the cotangent of σ′ in a·σ′(b) as (v·2u·aσ)·a, +∞ where a² overflows, then times σ″ ≈ −e^−b, +∞ where the closed
        // form is −4.3e11·v (`fuzz adversarial 23/180`: glu(x)² at a = 1e160, b = 710; torch NaN; the first order is
        // fixed, the rule forms a·σ′(b) first)
        if (s.Kind == OpKind.Glu && a[0].numel() > 0 && Any(a[0].isfinite().logical_and(a[0].abs().gt(SquareOverflows))))
            return ("ours (a known limitation): glu's second order where its first half's square overflows", second);
        // the Hessian of a 2-norm is (I − x̂x̂ᵀ)/‖x‖, beyond the range where 1/‖x‖ is; ours forms (v/s)/√S and its
        // companion term, which overflow before they cancel, ∞ − ∞ = NaN where the closed form, and torch's double backward,
        // is 0 (the shrunk `fuzz adversarial 25/129`: the Frobenius norm of [0, 0, 1e-310], whose Hessian is
        // diag(∞, ∞, 0) in torch, with NaN at (0, 2), (1, 2) and −∞ at (2, 2) in ours)
        if (s.Kind is OpKind.Norm or OpKind.FrobeniusNorm && (s.Kind == OpKind.FrobeniusNorm || s.Scalar == 2)
                && TorchInterpreter.Apply(s, a, TorchSharp.torch.ScalarType.Float64) is var norm
                && Any(norm.ne(0.0).logical_and(norm.abs().lt(1 / double.MaxValue))))
            return ("ours (a known limitation): the second order of a 2-norm whose reciprocal overflows", second);
        return null;
    }

    /// <summary>
    /// Whether a quotient a/b (Div, or RDivScalar with a the literal) has an entry, a ≠ 0 and b finite and nonzero, where
    /// (a/b)/b is below the normal range: torch's rule for the denominator is −g·((a/b)/b), so its second derivative
    /// divides by b once more, and those intermediates underflow to subnormals or 0 before the chain multiplies them back
    /// up, losing the terms the closed form keeps. `fuzz adversarial 9/5` (1.169/(x₀x₁) through a logsumexp and a
    /// linear layer whose weights reach 1e300, at x₀x₁ = −7.3e159): the second-order entry of x₀ is 2.0841e-158 in
    /// ours and in the closed form (60-digit central differences of the exact gradient, mpmath), torch's 1.0450e-158
    /// (torch with 1.169·reciprocal(p) instead of its div gives 2.0841e-158 too), and −7.6113e-319 against torch's
    /// −4.2e-321. In the same program torch's entry for the 1e30 operands is +∞ where the closed form, and ours, is
    /// 1.0231e207: its reciprocal's double backward multiplies the first-order cotangent (5e299) by the second-order
    /// one (1e30) before the factor 1e-60.
    /// </summary>
    static bool QuotientOverDenominatorUnderflows(Step s, TorchSharp.torch.Tensor[] a)
    {
        var numerator = s.Kind == OpKind.RDivScalar ? TorchSharp.torch.full_like(a[0], s.Scalar) : a[0];
        var denominator = s.Kind == OpKind.RDivScalar ? a[0] : a[1];
        var twice = numerator.div(denominator).div(denominator);
        if (twice.numel() == 0) return false;
        var numerators = numerator.broadcast_to(twice.shape);
        var denominators = denominator.broadcast_to(twice.shape);
        return numerators.ne(0.0).logical_and(numerators.isfinite()).logical_and(denominators.ne(0.0))
            .logical_and(denominators.isfinite()).logical_and(twice.abs().lt(SmallestNormal)).any().item<bool>();
    }

    /// <summary>Whether an operand of a cosine similarity, broadcast, has a 2-norm below torch's eps 1e-8 along the axis.</summary>
    static bool CosineNormBelowEps(Step s, TorchSharp.torch.Tensor[] a)
    {
        var pair = TorchSharp.torch.broadcast_tensors(a[0], a[1]);
        if (pair[0].numel() == 0) return false;
        long axis = s.Ints[0];
        return pair.Any(t => TorchSharp.torch.linalg.vector_norm(t, 2, new[] { axis }).lt(1e-8).any().item<bool>());
    }

    /// <summary>Whether a Conv3d's weight holds a non-finite entry on a depth tap that reads the depth padding for every output
    /// depth (see TorchNaNEdge): that tap's slice of the padded input is all padding, whose tangent ours folds to a symbolic
    /// zero; a tap that also reads the input is a product with a numeric zero tangent in ours too, NaN as torch's.</summary>
    static bool NonFiniteWeightOverDepthPadding(Step s, TorchSharp.torch.Tensor[] a)
    {
        int stride = s.Ints[0], padding = s.Ints[1], dilation = s.Ints[2];
        var weight = a[1];
        if (padding == 0 || weight.numel() == 0) return false;
        long depth = a[0].shape[^3], taps = weight.shape[2];
        long outputs = (depth + 2 * padding - dilation * (taps - 1) - 1) / stride + 1;
        for (long k = 0; k < taps; k++)
        {
            bool overPadding = outputs > 0 && Enumerable.Range(0, (int)outputs).All(o => o * stride - padding + k * dilation is var at && (at < 0 || at >= depth));
            if (overPadding && !weight.narrow(2, k, 1).isfinite().all().item<bool>()) return true;
        }
        return false;
    }

    /// <summary>Whether some finite entry's sigmoid rounds to exactly 1 in float64, where torch's σ′ = y(1 − y) is 0.</summary>
    static bool SigmoidRoundsToOne(TorchSharp.torch.Tensor x) =>
        x.numel() > 0 && x.isfinite().logical_and(x.sigmoid().eq(1.0)).any().item<bool>();

    /// <summary>
    /// Whether a prod's group (all entries, or a row along its axis) holds a zero and finite entries whose running
    /// product can leave the range: the logs of the entries above 1 add past the largest exponent, or those below 1 past
    /// the smallest (see OurLimitation).
    /// </summary>
    static bool ProdOfZerosBesideAnOutOfRangeRest(Step s, TorchSharp.torch.Tensor x)
    {
        if (x.numel() == 0 || !x.isfinite().all().item<bool>()) return false;
        var isZero = x.eq(0.0);
        var log2 = TorchSharp.torch.where(isZero, TorchSharp.torch.ones_like(x), x.abs()).to_type(TorchSharp.torch.ScalarType.Float64).log2();
        var zeros = isZero.to_type(TorchSharp.torch.ScalarType.Float64);
        var up = log2.clamp_min(0.0);
        var down = log2.clamp_max(0.0);
        bool single = x.dtype == TorchSharp.torch.ScalarType.Float32;
        var (count, above, below) = s.Mode == 0
            ? (zeros.sum(), up.sum(), down.sum())
            : (zeros.sum(s.Ints[0]), up.sum(s.Ints[0]), down.sum(s.Ints[0]));
        var leaves = above.gt(single ? 127.0 : 1023.0).logical_or(below.lt(single ? -149.0 : -1074.0));
        return count.ge(1.0).logical_and(leaves).any().item<bool>();
    }

    /// <summary>
    /// Whether torch's prod of finite entries is NaN, or its cumprod is NaN where every entry of the lane up to that point is
    /// finite: a running product overflowed before a 0 (∞·0), where the exact product is 0 (see TorchWrong). A cumprod is
    /// taken lane by lane, since a NaN or an infinity in another lane says nothing of this one (`fuzz all adversarial
    /// 95/297`: the cumprod over axis 0 of a 3×3 tensor whose first column is [1e300, 1e30, 0], torch's NaN at the 0, and
    /// whose last holds a NaN).
    /// </summary>
    static bool FiniteLaneTurnsNaN(Step s, TorchSharp.torch.Tensor x) => FiniteLaneTurns(s, x, y => y.isnan());

    /// <summary>Whether torch's prod of finite entries, or its cumprod where every entry of the lane up to that point is
    /// finite, has an entry that <paramref name="turns"/> picks (see <see cref="FiniteLaneTurnsNaN"/>).</summary>
    static bool FiniteLaneTurns(Step s, TorchSharp.torch.Tensor x, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> turns) =>
        LaneTurns(s, x, x.isfinite(), turns);

    /// <summary>Whether torch's prod or cumprod of nonzero entries, none NaN, is NaN (lane by lane for a cumprod, as
    /// <see cref="FiniteLaneTurnsNaN"/>): a running product underflowed to ±0 and met an infinity.</summary>
    static bool LaneTurnsNaNWithoutAZero(Step s, TorchSharp.torch.Tensor x) =>
        LaneTurns(s, x, x.ne(0.0).logical_and(x.isnan().logical_not()), y => y.isnan());

    /// <summary>Whether the prod (every entry <paramref name="admitted"/>) or the cumprod (every entry of the lane up to that
    /// point admitted) has an entry that <paramref name="turns"/> picks, by torch's kernel.</summary>
    static bool LaneTurns(Step s, TorchSharp.torch.Tensor x, TorchSharp.torch.Tensor admitted, Func<TorchSharp.torch.Tensor, TorchSharp.torch.Tensor> turns)
    {
        var y = TorchInterpreter.Apply(s, new[] { x }, TorchSharp.torch.ScalarType.Float64);
        if (s.Kind == OpKind.Prod) return admitted.all().item<bool>() && turns(y).any().item<bool>();
        var soFar = admitted.to_type(TorchSharp.torch.ScalarType.Float64).cumprod(s.Ints[0]).eq(1.0);
        return turns(y).logical_and(soFar).any().item<bool>();
    }

    /// <summary>
    /// Whether a Prod of finite nonzero entries has a product in range (its log2, summed exactly enough in float64, well
    /// inside the dtype's exponents) where torch's running product came out ±∞ or 0: it overflowed or underflowed
    /// before the entries that bring it back (four 1e300 then four 1e-300). Ours is the product in every order
    /// (Reduction.exactProduct); torch's value, and its derivatives, which divide it by the entries, are not.
    /// </summary>
    static bool RunningProductLeavesRange(Step s, TorchSharp.torch.Tensor x)
    {
        if (x.numel() == 0 || !x.isfinite().all().item<bool>() || x.eq(0.0).any().item<bool>()) return false;
        var torchValue = TorchInterpreter.Apply(s, new[] { x }, x.dtype);
        var magnitude = x.to_type(TorchSharp.torch.ScalarType.Float64).abs().log2();
        var log2 = s.Mode == 0 ? magnitude.sum() : magnitude.sum(s.Ints[0], s.Flag);
        bool single = x.dtype == TorchSharp.torch.ScalarType.Float32;
        var inRange = log2.gt(single ? -120.0 : -1000.0).logical_and(log2.lt(single ? 120.0 : 1000.0));
        var lost = torchValue.isinf().logical_or(torchValue.eq(0.0));
        return s.Mode <= 1 && inRange.logical_and(lost).any().item<bool>();
    }

    /// <summary>
    /// Whether logsumexp along the axis meets a finite maximum m so large that m + log Σ exp(x − m) rounds to m while
    /// log Σ exp(x − m) is not negligible (ties at the maximum): torch's rule exp(x − result) then reads the result as m
    /// and gives each tied entry 1 instead of its softmax weight (`fuzz adversarial 4/170`: two entries 2.19e162 in one
    /// column, torch's gradient 2× the closed form 1/2 each; ours shifts by m before exp and divides by the sum).
    /// </summary>
    static bool LogOfSumRoundsAway(TorchSharp.torch.Tensor x, int axis)
    {
        if (x.numel() == 0 || x.dim() == 0) return false;
        long a = axis < 0 ? axis + x.dim() : axis;
        var maximum = x.amax(new[] { a }, keepdim: true);
        var finite = maximum.isfinite();
        var shifted = TorchSharp.torch.where(finite, x - maximum, TorchSharp.torch.zeros_like(x));
        var logOfSum = shifted.exp().sum(new[] { a }, keepdim: true).log();
        var result = x.logsumexp(a, keepdim: true);
        return result.eq(maximum).logical_and(finite).logical_and(logOfSum.gt(1e-10)).any().item<bool>();
    }

    /// <summary>Below this |x| torch's second derivative of a product, rounding relative to |y/x|/|x|, exceeds the tolerance.</summary>
    const double TinyProdEntry = 1e-6;

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

    /// <summary>
    /// For the fuzzer's conditioning rule (draw k ≥ 1 of a fixed sequence; 0 is the program itself): the inputs
    /// and constants moved by one ulp (see <see cref="OneUlp"/>), and the torch side made to scale the output of every
    /// step, and so its derivative, by 1 ± one ulp of 1 (see <see cref="StepFactor"/>), as another engine might round them.
    /// </summary>
    public FuzzProgram Perturbed(int draw)
    {
        double[] MoveAll(double[] values) => values.Select(v => OneUlp(v, draw)).ToArray();
        return this with
        {
            InputValues = InputValues.Select(MoveAll).ToArray(),
            Steps = Steps.Select(s => s.Kind == OpKind.Const && s.Data != null ? s with { Data = MoveAll(s.Data) } : s).ToArray(),
            RoundingDraw = draw,
        };
    }

    /// <summary>
    /// For the fuzzer's conditioning rule: the inputs and constants moved by <paramref name="ulps"/> ulps (±1 or ±2) of
    /// <paramref name="dtype"/>, every entry the same way, the torch side's rounding unchanged. As in <see cref="OneUlp"/>,
    /// zeros, infinities, NaN and short dyadic numbers stay, so a program at a kink or an exact step stays there, and
    /// equal values move together.
    /// </summary>
    public FuzzProgram Shifted(int ulps, FunctionalDiff.DType dtype)
    {
        double[] MoveAll(double[] values) => values.Select(v => Shift(v, ulps, dtype)).ToArray();
        return this with
        {
            InputValues = InputValues.Select(MoveAll).ToArray(),
            Steps = Steps.Select(s => s.Kind == OpKind.Const && s.Data != null ? s with { Data = MoveAll(s.Data) } : s).ToArray(),
            RoundingDraw = 0,
        };
    }

    /// <summary>v moved by <paramref name="ulps"/> ulps of <paramref name="dtype"/> (a float32 run sees v rounded to float32
    /// first), except where <see cref="OneUlp"/> keeps v. A move that would reach 0 or cross it goes as far the other way,
    /// away from 0: a nonzero value stays nonzero and keeps its sign, as a zero stays zero, since at 0 a program may be at
    /// another point of its domain (a pole of lgamma, log, 1/x) rather than at a rounding of the same one (`fuzz all
    /// adversarial 44/210`: lgamma at −5e-324, which one ulp up made lgamma(−0) = +∞).</summary>
    public static double Shift(double v, int ulps, FunctionalDiff.DType dtype)
    {
        if (ulps == 0 || !double.IsFinite(v) || (Math.Abs(v) <= 1 << 20 && Math.Round(v * 64) == v * 64)) return v;
        if (dtype == FunctionalDiff.DType.Float32)
        {
            float f = (float)v;
            if (!float.IsFinite(f) || f == 0) return v; // the float32 run sees an infinity or a zero: nothing to move
            float g = f;
            for (int k = 0; k < Math.Abs(ulps); k++) g = ulps > 0 ? MathF.BitIncrement(g) : MathF.BitDecrement(g);
            if (g == 0 || Math.Sign(g) != Math.Sign(f))
                for (int k = 0; k < Math.Abs(ulps); k++) f = f > 0 ? MathF.BitIncrement(f) : MathF.BitDecrement(f);
            else f = g;
            return f;
        }
        double w = v;
        for (int k = 0; k < Math.Abs(ulps); k++) w = ulps > 0 ? Math.BitIncrement(w) : Math.BitDecrement(w);
        if (w == 0 || Math.Sign(w) != Math.Sign(v))
            for (int k = 0; k < Math.Abs(ulps); k++) v = v > 0 ? Math.BitIncrement(v) : Math.BitDecrement(v);
        else v = w;
        return v;
    }

    /// <summary>Which draw of <see cref="StepFactor"/> the torch side applies to every step's output; 0 for none.</summary>
    public int RoundingDraw { get; init; }

    /// <summary>
    /// v moved one ulp up or down, the direction a hash of v's bits and the draw, so equal values move
    /// together and ties stay ties; zeros, infinities, NaN and short dyadic numbers (multiples of 1/64 up
    /// to 2^20: integers, halves, 0/1 masks) stay as they are, so kinks and exact steps (floor at an
    /// integer, relu at 0, a mask) are where they were.
    /// </summary>
    public static double OneUlp(double v, int draw)
    {
        if (draw == 0 || !double.IsFinite(v) || (Math.Abs(v) <= 1 << 20 && Math.Round(v * 64) == v * 64)) return v;
        double moved = Up(BitConverter.DoubleToInt64Bits(v), draw) ? Math.BitIncrement(v) : Math.BitDecrement(v);
        // never onto 0 (see Shift): the smallest subnormal moves away from it
        return moved == 0 ? (v > 0 ? Math.BitIncrement(v) : Math.BitDecrement(v)) : moved;
    }

    /// <summary>A direction from a key (a value's bits, or an entry's position) and a draw, by a bit mixer.</summary>
    static bool Up(long key, int draw)
    {
        ulong h = (ulong)key * 0x9E3779B97F4A7C15UL ^ (ulong)draw * 0xC2B2AE3D27D4EB4FUL;
        h ^= h >> 29;
        h *= 0xBF58476D1CE4E5B9UL;
        h ^= h >> 32;
        return (h & 1) == 0;
    }

    /// <summary>
    /// The factor the torch side multiplies entry k of a step's output by in draw <paramref name="draw"/> of the
    /// conditioning rule (1 for draw 0): 1 ± <paramref name="unit"/> (one ulp of 1 in the run's dtype). A nonzero value's
    /// direction follows its bits, so equal values move together and ties stay ties; a zero stays zero whatever the
    /// factor, so its direction follows its position k, and only its derivative is scaled. Infinities, NaN and nonzero
    /// short dyadic numbers (as in <see cref="OneUlp"/>) keep the factor 1.
    /// </summary>
    public static double StepFactor(double v, int k, int draw, double unit)
    {
        if (draw == 0 || !double.IsFinite(v) || (v != 0 && Math.Abs(v) <= 1 << 20 && Math.Round(v * 64) == v * 64)) return 1;
        bool up = v == 0 ? Up(k, draw) : Up(BitConverter.DoubleToInt64Bits(v), draw);
        return up ? 1 + unit : 1 - unit;
    }

    /// <summary>Einsum's equations, by index (Step.Ints[0]): the first six take one operand, the rest two.</summary>
    public static readonly string[] EinsumEquations =
        { "ij->ji", "ii->", "ii->i", "ij->j", "ijk->ik", "i->", "ij,jk->ik", "ij,ij->i", "i,j->ij", "bij,bjk->bik", "ij,kj->ik", "i,i->" };

    /// <summary>Repeat's loop bodies, by Step.Mode, with the step's literal c: they stay bounded however many times they run.</summary>
    public static readonly string[] RepeatBodies = { "v => (v * c).Tanh()", "v => v.Sin() + c" };

    /// <summary>The number of elements of a shape.</summary>
    public static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    /// <summary>RReluTraining's (lower, upper) by its Mode: torch's defaults 1/8 and 1/3, and two others.</summary>
    public static readonly (double Lower, double Upper)[] RReluBounds = { (0.125, 1.0 / 3), (0.1, 0.3), (0.0, 0.5) };
}
