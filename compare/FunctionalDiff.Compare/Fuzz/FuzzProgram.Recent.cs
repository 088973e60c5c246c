namespace FunctionalDiff.Compare.Fuzz;

// What the recent ops (`--ops recent`) need of the program's checks.
public sealed partial record FuzzProgram
{
    /// <summary>
    /// The table's float64 tolerance where a program takes bessel_j0, j1, y0 or y1: libtorch's float64 kernels are off by
    /// up to about 3e-7 relative between 2 and 25 (J₀(6.1) = 0.17729137744 where mpmath's is 0.17729142224; ours is within 8
    /// ulp, SpecialBesselTests), so those programs compare at the case table's bound for them (CaseTable.TorchJYWhy).
    /// </summary>
    static readonly Suite.Tolerance BesselJYTolerance = new(1e-5, 1e-5);

    /// <summary>
    /// A recent op that is an older one under another name, as that op's step, so the generator's kinks and the conventions
    /// named for the older op apply to it: vector_norm is norm (every axis, or the axes), std_mean and var_mean are std or var
    /// over the axes (every axis listed when none is given, so the correction is kept) and the mean. Any other step as it is.
    /// </summary>
    /// <param name="s">The step.</param>
    /// <param name="rank">The rank of its first operand.</param>
    public static Step Canonical(Step s, int rank)
    {
        int[] Every() => s.Ints.Length > 0 ? s.Ints : Enumerable.Range(0, rank).ToArray();
        return s.Kind switch
        {
            OpKind.VectorNorm => new Step(OpKind.Norm, s.Args, s.Ints, Mode: s.Ints.Length == 0 ? 0 : 2, Flag: s.Flag, Scalar: s.Scalar),
            OpKind.StdMean or OpKind.VarMean when s.Mode == 1 => new Step(OpKind.Mean, s.Args, s.Ints, Mode: s.Ints.Length == 0 ? 0 : 2, Flag: s.Flag),
            OpKind.StdMean => new Step(OpKind.Std, s.Args, Every(), Mode: 2, Flag: s.Flag, Scalar: s.Scalar),
            OpKind.VarMean => new Step(OpKind.Var, s.Args, Every(), Mode: 2, Flag: s.Flag, Scalar: s.Scalar),
            _ => s,
        };
    }

    /// <summary>Where e^|x| overflows float64 (709.78) and where I₀(x) and I₁(x) do (713.99, mpmath).</summary>
    const double ExpOverflows = 709.782712893384, BesselIOverflows = 713.9869;

    /// <summary>The same in float32: e^|x| from 88.72, I₀ and I₁ from 91.90.</summary>
    const double Float32ExpOverflows = 88.72283911167299, Float32BesselIOverflows = 91.9007;

    static readonly Suite.Check[] EveryCheck = { Suite.Check.Value, Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled };

    /// <summary>The average pools, linear maps whose backward in torch reads their input (see "AvgPool2d over a non-finite value").</summary>
    static bool AveragePool(OpKind kind) => kind is OpKind.AvgPool2d or OpKind.AvgPool2dWith or OpKind.AvgPool1d or OpKind.AvgPool3d
        or OpKind.AdaptiveAvgPool1d or OpKind.AdaptiveAvgPool2d or OpKind.AdaptiveAvgPool3d;

    /// <summary>
    /// The conventions the runs of `--ops fresh` and `--ops recent` named on branch fuzzops (FuzzRecentTests, torch asked five
    /// times in each), from the float64 values and, for the float32 run, from those values rounded to float32:
    /// <list type="bullet">
    /// <item>I0 at ±∞: the limit is +∞ (ours), torch's i0 is NaN there, as its i1 ("I1 at ±∞"); its slope I₁(±∞) = ±∞ is ours
    /// and NaN in torch's (`fuzz fresh adversarial 6/20`, `6/150`: i0 of [0, +∞]). Values skipped, torch's NaN derivative
    /// named.</item>
    /// <item>I0 or I1 where the value is finite though e^|x| overflows (709.78 &lt; |x| &lt; 713.99 in float64, 88.72 to 91.90
    /// in float32): torch's kernels form e^|x| first and return ±∞ (and NaN slopes), where the value is e^|x|/√(2π|x|) to
    /// leading order, ours (`fuzz fresh adversarial 6/141`: i1(710) = 3.34298e306, ours and mpmath's). Every check skipped.</item>
    /// <item>I1 at ±∞ in the float32 run only (an operand finite in float64, beyond float32's range): torch's NaN value, which
    /// a NaN-ignoring step after it (fmin, fmax) routes around (`fuzz special adversarial 59/264`). Every float32 check skipped.</item>
    /// <item>Zeta at q = +∞: the limit is 0 with the slope 0 (ours), torch's zeta is NaN there (`fuzz special adversarial 60/19`).
    /// Values skipped, torch's NaN derivative named; where only the float32 run meets it, every float32 check skipped.</item>
    /// <item>torch's: matrix_exp's reverse rule under a cotangent above 1e10 times the matrix, whose block exponential
    /// scales and squares for the cotangent's size (`fuzz special adversarial 61/34`; ours divides the cotangent down first
    /// since). Derivative checks skipped.</item>
    /// <item>IsIn at a tie of the float64 run that one engine's float32 run keeps and the other's does not: float32 rounding
    /// of a transcendental operand decides the mask (`fuzz recent 55/115`; see IsInTieLostInFloat32). Every float32 check
    /// skipped.</item>
    /// <item>Average pooling over a value that is non-finite in the float32 run only (its float64 twin is finite, so "AvgPool2d
    /// over a non-finite value" does not see it), and the 1-D, 3-D, option-taking and adaptive average pools over a
    /// non-finite value as the 2-D one (`fuzz fresh adversarial 6/161`: conv3d with −∞ weights into avg_pool2d, float32).</item>
    /// <item>ours and torch's: MatrixPower of a finite matrix holding a 0 whose products overflow (∞·0 = NaN lands where each
    /// engine's order of products puts it, ours A·A² and torch's A²·A for n = 3, where the exact entry is 0; `fuzz fresh
    /// adversarial 6/209`: [[−1e160, −1.9], [0, 1e-30]]³, NaN at (1, 0) in ours, where torch's is the exact 0; shrunk to
    /// diag(−1e160, 0)³, NaN at (1, 0) in ours and at (0, 1) in torch's). Values skipped.</item>
    /// <item>The addmm family at α = 0 over a factor holding an infinity or NaN: torch's BLAS call leaves the product out
    /// there (β·input, as at β = 0 it leaves the input out), where IEEE's 0·∞ = NaN is ours (`fuzz recent adversarial 2/95`:
    /// addmm(0.119, [+∞]³, [+∞]³, β 2, α 0), ours NaN, torch's 0.238, and every derivative after it NaN in ours; `2/104`, float32,
    /// addbmm). Every check skipped.</item>
    /// <item>ours and torch's: the second order of a vector norm of an order other than 1, 2 and ∞ over a group whose largest
    /// |entry| is nonzero and below 2^-20 (2^-10 in float32): its Hessian's two terms, each about (p − 1)/‖x‖, cancel, and
    /// their rounding, ε/‖x‖, passes the tolerance (`fuzz recent adversarial 2/29`: ‖[0, −1e-45]‖₃, whose Hessian is 0, ours
    /// 1.6e29 and torch's −2.0e31 at (1, 1); in float32 the cubes underflow, ours ∞ and NaN, torch's 0).</item>
    /// <item>Bessel J₀ or J₁ at ±∞: the limit is 0 (ours, and its slopes 0), torch's bessel_j0 and bessel_j1 are NaN there
    /// (`fuzz recent 3/209`: J₁ of [0, −∞]; `recent adversarial 2/13`, `2/250`, float32). Every check skipped.</item>
    /// <item>The addmm family at β = 0 (the input left out, its derivative the zero map, ours) under a non-finite cotangent:
    /// torch's input gradient is β·g = 0·NaN (`fuzz recent 3/212`: softplus(addr(x, v, w, β 0, α 2)) with NaN in v, gradient
    /// 0 in x in ours, NaN in torch's).</item>
    /// <item>An LP pool over a window of zeros, at second order: its slope there is the convention 0 in both engines, and
    /// torch's double backward of (Σ|x|^p)^(1/p) meets the infinite curvature of the root at 0 as 0·∞ = NaN, which a vector
    /// norm after it spreads over the Hessian's rows (`fuzz recent 3/253`: ‖lp_pool2d([0, 0.8, 0], p 2, kernel 1)‖, NaN in
    /// torch's column of the nonzero entry, whose closed form (the Hessian of ‖x‖ there) is 0, ours).</item>
    /// <item>Y or K at 0, where the limits are −∞ and +∞ with infinite slopes (ours), and the reference's Taylor polynomial
    /// about its held point is ∞·0 = NaN; and Y at +∞, whose limit is 0 (ours), where torch's bessel_y0 and bessel_y1 are
    /// NaN, as its J's (`fuzz recent adversarial 49/148`, `49/272`: Y₀ at 0 and +∞). Every check skipped.</item>
    /// <item>Erfcx where e^{x²} overflows (x below −26.64, −9.42 in float32): the reference's composite e^{x²}·erfc(x) meets
    /// ∞·0 in its slope, where torch's own rule and ours, 2x·erfcx(x) − 2/√π, is −∞ (`fuzz recent adversarial 49/234`:
    /// erfcx(−89)). Its derivative checks skipped.</item>
    /// <item>Vander whose powers overflow or hold an infinity: torch's vander is a cumprod, whose rule forms g·y before it
    /// divides by the entry (see "Cumprod whose running product times the program's largest value overflows"; `fuzz recent
    /// adversarial 49/253`: vander([1e160, −∞], 3), gradient 2x·u₀ + u₁ = −1.1e159 in ours, −∞ in torch's). Its derivative
    /// checks skipped.</item>
    /// <item>An LP pool whose cotangent times its largest |entry| overflows: torch's double backward forms those products
    /// before the root's small slopes meet them, ±∞ or ∞ − ∞ where the Hessian is finite (`fuzz recent adversarial 2/123`: a
    /// linear layer with 1e300 weights over lp_pool1d of a transposed convolution with 1e30 entries; ours 8.91693e268,
    /// −2.46157e268, −8.49232e297 and 2.12308e297 in row 0, as mpmath's at 400 digits; torch's NaN, NaN, −∞ and NaN). Its
    /// second-order checks skipped.</item>
    /// </list>
    /// </summary>
    void RecentConventions(bool[] live, List<TorchSharp.torch.Tensor> values, List<string> torchNaN, List<(string Why, Suite.Check[] Checks)> torchWrong,
        List<string> torchNaNFloat32, List<(string Why, Suite.Check[] Checks)> torchWrongFloat32)
    {
        static bool Any(TorchSharp.torch.Tensor t) => t.numel() > 0 && t.any().item<bool>();
        static bool Between(TorchSharp.torch.Tensor x, double low, double high) => Any(x.abs().gt(low).logical_and(x.abs().lt(high)));
        static TorchSharp.torch.Tensor Float32(TorchSharp.torch.Tensor t) => t.to_type(TorchSharp.torch.ScalarType.Float32);
        static bool TinyGroup(Step norm, TorchSharp.torch.Tensor x, double bound)
        {
            if (x.numel() == 0) return false;
            var largest = norm.Ints.Length == 0 ? x.abs().max() : x.abs().amax(norm.Ints.Select(d => (long)d).ToArray());
            return Any(largest.gt(0.0).logical_and(largest.lt(bound)));
        }
        for (int i = 0; i < Steps.Length; i++)
        {
            if (!live[i]) continue;
            var s = Steps[i];
            var x = s.Args.Length > 0 ? values[s.Args[0]] : null;
            if (x is null) continue;
            if (s.Kind == OpKind.I0 && (Any(x.isinf()) || Any(Float32(x).isinf())))
            {
                torchWrong.Add(("I0 at ±∞ (torch's NaN, the limit +∞)", new[] { Suite.Check.Value, Suite.Check.Compiled }));
                torchNaN.Add("I0 at ±∞ (its slope I1(±∞) = ±∞, torch's NaN)");
            }
            // "I1 at ±∞" (TorchWrong, TorchNaNEdge) where only the float32 run meets it: an operand finite in float64 and beyond
            // float32's range, whose float32 run is i1(±∞), torch's NaN, which a NaN-ignoring step after it routes around, so
            // torch's float32 run computes another function (`fuzz special adversarial 59/264`: fmin(x, σ(i1(4.4e299))), whose
            // float32 operand is +∞: ours σ(+∞) = 1 with its tangent 0·∞ = NaN, torch's fmin(x, NaN) = x with x's tangent)
            if (s.Kind == OpKind.I1 && !Any(x.isinf()) && Any(Float32(x).isinf()))
                torchWrongFloat32.Add(("I1 at ±∞ in the float32 run only (torch's NaN value, which later steps may route around)", EveryCheck));
            // ζ(s, +∞) is 0, the limit of a sum of terms (q + k)^(−s) that all vanish, with the slope −s·ζ(s + 1, +∞) = 0 (ours);
            // torch's zeta is NaN there (`fuzz special adversarial 60/19`: ζ(2.5, [0, +∞]), ours [+∞, 0], torch's [+∞, NaN])
            if (s.Kind == OpKind.Zeta && Any(x.eq(double.PositiveInfinity)))
            {
                torchWrong.Add(("Zeta at q = +∞ (torch's NaN, the limit 0)", new[] { Suite.Check.Value, Suite.Check.Compiled }));
                torchNaN.Add("Zeta at q = +∞ (its slope 0, torch's NaN)");
            }
            else if (s.Kind == OpKind.Zeta && Any(Float32(x).eq(double.PositiveInfinity)))
                torchWrongFloat32.Add(("Zeta at q = +∞ in the float32 run only (torch's NaN, the limit 0)", EveryCheck));
            if (s.Kind is OpKind.I0 or OpKind.I1 && Between(x, ExpOverflows, BesselIOverflows))
                torchWrong.Add(("I0 or I1 where the value is finite though e^|x| overflows (torch's ±∞)", EveryCheck));
            if (s.Kind is OpKind.I0 or OpKind.I1 && Between(Float32(x), Float32ExpOverflows, Float32BesselIOverflows))
                torchWrongFloat32.Add(("I0 or I1 where the value is finite though e^|x| overflows float32 (torch's ±∞)", EveryCheck));
            if (AveragePool(s.Kind) && Any(x.isfinite().logical_not()))
                torchNaN.Add("Average pooling over a non-finite value");
            if (AveragePool(s.Kind) && Any(Float32(x).isfinite().logical_not()))
                torchNaNFloat32.Add("Average pooling over a value non-finite in float32");
            if (s.Kind is OpKind.Addmm or OpKind.Addmv or OpKind.Addr or OpKind.Baddbmm or OpKind.Addbmm && s.Data![1] == 0)
            {
                const string why = "The addmm family at α = 0 over a non-finite factor (torch's BLAS leaves the product out)";
                if (Any(values[s.Args[1]].isfinite().logical_not()) || Any(values[s.Args[2]].isfinite().logical_not()))
                    torchWrong.Add((why, EveryCheck));
                else if (Any(Float32(values[s.Args[1]]).isfinite().logical_not()) || Any(Float32(values[s.Args[2]]).isfinite().logical_not()))
                    torchWrongFloat32.Add((why, EveryCheck));
            }
            if (s.Kind == OpKind.VectorNorm && s.Scalar is not (1 or 2 or double.PositiveInfinity))
            {
                const string why = "ours and torch's: the second order of a vector norm of an order other than 1, 2 and ∞ over a tiny group (its terms cancel)";
                if (TinyGroup(s, x, Math.ScaleB(1.0, -20)))
                    torchWrong.Add((why, new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
                else if (TinyGroup(s, Float32(x), Math.ScaleB(1.0, -10)))
                    torchWrongFloat32.Add((why, new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            }
            if (s.Kind is OpKind.BesselJ0 or OpKind.BesselJ1)
            {
                const string why = "Bessel J at ±∞ (torch's NaN, the limit 0)";
                if (Any(x.isinf())) torchWrong.Add((why, EveryCheck));
                else if (Any(Float32(x).isinf())) torchWrongFloat32.Add((why, EveryCheck));
            }
            if (s.Kind is OpKind.Addmm or OpKind.Addmv or OpKind.Addr or OpKind.Baddbmm or OpKind.Addbmm && s.Data![0] == 0)
                torchNaN.Add("The addmm family at β = 0 (torch's input gradient β·g meets a non-finite cotangent)");
            if (s.Kind is OpKind.LpPool1d or OpKind.LpPool2d && Any(TorchInterpreter.LpWindowSums(s, x).eq(0.0)))
                torchNaN.Add("An LP pool over a window of zeros at second order (torch's root meets 0·∞)");
            if (s.Kind is OpKind.BesselY0 or OpKind.BesselY1 or OpKind.ModifiedBesselK0 or OpKind.ModifiedBesselK1
                or OpKind.ScaledModifiedBesselK0 or OpKind.ScaledModifiedBesselK1)
            {
                const string why = "Y or K at 0, or Y at +∞ (the reference's NaN; the limits ∓∞ and 0)";
                bool y = s.Kind is OpKind.BesselY0 or OpKind.BesselY1;
                if (Any(x.eq(0.0)) || y && Any(x.isinf())) torchWrong.Add((why, EveryCheck));
                else if (Any(Float32(x).eq(0.0)) || y && Any(Float32(x).isinf())) torchWrongFloat32.Add((why, EveryCheck));
            }
            var derivatives = new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled };
            if (s.Kind == OpKind.Erfcx)
            {
                const string why = "Erfcx where e^{x²} overflows (the reference's composite meets ∞·0)";
                if (Any(x.lt(-Math.Sqrt(ExpOverflows)))) torchWrong.Add((why, derivatives));
                else if (Any(Float32(x).lt(-Math.Sqrt(Float32ExpOverflows)))) torchWrongFloat32.Add((why, derivatives));
            }
            if (s.Kind == OpKind.Vander)
            {
                const string why = "Vander whose powers overflow or hold an infinity (torch's cumprod forms g·y first)";
                if (Any(TorchInterpreter.Apply(s, new[] { x }, TorchSharp.torch.ScalarType.Float64).isinf())) torchWrong.Add((why, derivatives));
                else if (Any(TorchInterpreter.Apply(s, new[] { Float32(x) }, TorchSharp.torch.ScalarType.Float32).isinf())) torchWrongFloat32.Add((why, derivatives));
            }
            if (s.Kind is OpKind.LpPool1d or OpKind.LpPool2d && x.numel() > 0 && CotangentInto(i, values) is { } g && g.numel() > 0
                    && g.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>() * x.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>() >= double.MaxValue)
                torchWrong.Add(("An LP pool whose cotangent times its largest entry overflows (torch's double backward forms it first)",
                    new[] { Suite.Check.SecondOrder, Suite.Check.Hessian }));
            // matrix_exp's rule in torch is the upper-right block of exp([[Aᵀ, g], [0, Aᵀ]]): where the cotangent dwarfs A, the
            // block's scaling and squaring runs for the cotangent's size and loses the derivative's digits, so each reverse pass
            // through it is off (ours was too; it now divides g down to A's size first, Rules.fs) (`fuzz special adversarial 61/34`: a bilinear layer with ±1e160 weights after it, torch's JVP
            // by reverse passes, −3.4164e160, 1.5% off the program's central differences, −3.4671130e160, which ours by forward
            // mode, where the tangent is small, matches to 1e-9)
            if (s.Kind == OpKind.MatrixExp && x.numel() > 0 && CotangentInto(i, values) is { } cotangent && cotangent.numel() > 0
                    && cotangent.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>() > 1e10 * Math.Max(1.0, x.abs().nan_to_num(0.0, 0.0, 0.0).max().item<double>()))
                torchWrong.Add(("torch's: matrix_exp's reverse rule under a cotangent above 1e10 times the matrix (the block exponential's squarings lose digits)",
                    new[] { Suite.Check.Vjp, Suite.Check.Jvp, Suite.Check.SecondOrder, Suite.Check.Hessian, Suite.Check.Compiled }));
            if (s.Kind == OpKind.MatrixPower && Any(x.eq(0.0)) && !Any(x.isfinite().logical_not()) && Any(values[InputCount + i].isfinite().logical_not()))
                torchWrong.Add(("ours and torch's: MatrixPower of a finite matrix holding a 0 whose products overflow (∞·0 lands where each engine's order puts it)",
                    new[] { Suite.Check.Value, Suite.Check.Compiled }));
        }
        if (IsInTieLostInFloat32(live, values))
            torchWrongFloat32.Add(("IsIn at a tie of the float64 run that one engine's float32 run keeps and the other's does not (float32 rounding of the operand decides the mask)", EveryCheck));
    }

    /// <summary>
    /// Whether a live isin meets a test element exactly in the float64 run (the generator draws test elements from the
    /// operand's own values) at an entry where the two engines' float32 runs, from the inputs rounded to float32, fall on
    /// different sides of the tie: one computes that element rounded to float32 and the other a neighbour. The mask there
    /// is decided by the last bit of a float32 transcendental, not by the program: `fuzz recent 55/115`, isin(cos(i0(−0.5)),
    /// [0.4858304, …], invert), where ours is the correctly rounded float32 i0 and cos (mpmath), 0.4858304, the tie, and
    /// torch's float32 i0 is an ulp away, its cosine off the tie. Where both engines keep the tie, or both lose it, the
    /// program is compared as always (`recent adversarial 49/127` loses a tie in both float32 runs and passes).
    /// </summary>
    bool IsInTieLostInFloat32(bool[] live, List<TorchSharp.torch.Tensor> values)
    {
        var tied = Enumerable.Range(0, Steps.Length).Where(i => live[i] && Steps[i].Kind == OpKind.IsIn && values[Steps[i].Args[0]].numel() > 0
            && Steps[i].Data!.Any(t => values[Steps[i].Args[0]].eq(t).any().item<bool>())).ToList();
        if (tied.Count == 0) return false;
        var inputs = InputValues.Select((v, k) => TorchSharp.torch.tensor(v.Select(d => (float)d).ToArray())
            .reshape(InputShapes[k].Select(d => (long)d).ToArray())).ToArray();
        var ours = InputValues.Select((v, k) => Suite.OurSide.Make(v, InputShapes[k], DType.Float32)).ToList();
        List<TorchSharp.torch.Tensor> single;
        try
        {
            single = TorchInterpreter.RunAll(this, inputs);
            OurInterpreter.Run(this, ours.ToArray(), (s, a, dtype) =>
            {
                var value = OurInterpreter.Apply(s, a, dtype);
                ours.Add(value);
                return value;
            });
        }
        catch (Exception) { return false; }
        return tied.Any(i =>
        {
            int operand = Steps[i].Args[0];
            var x64 = values[operand];
            var theirs = single[operand].to_type(TorchSharp.torch.ScalarType.Float64);
            var mine = TorchSharp.torch.tensor(ours[operand].Eval().ToDoubleArray()).reshape(x64.shape);
            return Steps[i].Data!.Any(t =>
            {
                double rounded = (float)t;
                return x64.eq(t).logical_and(theirs.eq(rounded).logical_xor(mine.eq(rounded))).any().item<bool>();
            });
        });
    }
}
