/// Activation functions built from primitives, with torch's conventions at their kinks. Each is
/// written so that a branch which is not taken never reads an input that would overflow there,
/// because its cotangent (0 times inf) would be NaN.
namespace FunctionalDiff.Core

open System

/// Elementwise activations over Expr, as torch.nn.functional has them.
[<RequireQualifiedAccess>]
module Activations =

    /// log σ(x) = -softplus(-x): stable for large |x| and smooth at every order.
    let logSigmoid (x: Expr) = -(Nn.softplus (-x))

    /// x·Φ(x), the exact GELU, as one op whose kernel computes x/2 · erfc(−x/√2) (equal to torch's
    /// x/2 · (1 + erf(x/√2)), with its digits kept far in the negative tail) in float64, with erfc's
    /// argument held at ±40, where erfc is exactly 0 or 2 in both dtypes. Its rule is torch's fused
    /// g·(Φ + x·φ), one factor from one kernel (see Rules: x·φ is 0 where φ underflows, whatever x).
    /// As a composite of erfc and the hold, its gradient took sixteen elementwise passes.
    let gelu (x: Expr) = Expr.geluOp x

    /// torch's tanh approximation of GELU: x/2 · (1 + tanh(√(2/π) (x + 0.044715 x³))).
    let geluTanh (x: Expr) =
        let inner = Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * (x * x * x))
        0.5 * x * (1.0 + Expr.tanh inner)

    /// silu‴(x) = σ′(x)·(x(3t² − 1)/2 − 3t), t = tanh(x/2): the rule of siluCurvature. Registered once; the
    /// module keeps it alive.
    let private siluCurvatureRule =
        CustomRules.register "silu curvature" (fun x g ->
            let t = Expr.tanh (0.5 * x)
            g * (Expr.sigmoidSlope x * (x * (1.5 * (t * t) - 0.5) - 3.0 * t)))

    /// silu″(x) = σ′(x)·(2 − x·tanh(x/2)) (1 − 2σ(x) = −tanh(x/2)), with its own rule, so that in the second
    /// order the slope's factor stays one atom that the Rewrite pass does not distribute a cotangent over.
    let private siluCurvature (x: Expr) =
        Expr.custom siluCurvatureRule x (Expr.sigmoidSlope x * (2.0 - x * Expr.tanh (0.5 * x)))

    /// silu's slope's rule g·silu″(x), one factor. Registered once; the module keeps it alive.
    let private siluSlopeRule = CustomRules.register "silu slope" (fun x g -> g * siluCurvature x)

    /// silu′(x) = σ(x)·(1 + x·σ(−x)), torch's σ(x)(1 + x(1 − σ(x))) with σ(−x) exact where σ(x) rounds to 1.
    let private siluSlope (x: Expr) =
        Expr.custom siluSlopeRule x (Expr.sigmoid x * (1.0 + x * Expr.sigmoid (-x)))

    /// silu's rule g·silu′(x), one factor. Registered once; the module keeps it alive.
    let private siluRule = CustomRules.register "silu" (fun x g -> g * siluSlope x)

    /// x·σ(x) (also called swish). Its rule is one factor, g·silu′(x), as torch's fused silu_backward: the product
    /// differentiated as written gave two terms, g·σ(x) and (g·x)·σ′(x), whose second derivative under an infinite
    /// cotangent met x = 0 as ∞·0 = NaN where the closed form is ±∞ (`fuzz all 4/690`: x₀·silu(x₁^0.246) at 0, where
    /// the mixed second derivative is silu′(0)·∞ = +∞ through the power's infinite slope).
    let silu (x: Expr) = Expr.custom siluRule x (x * Expr.sigmoid x)

    /// torch's softplus with beta: log(1 + e^(βx))/β, without torch's threshold (as Nn.softplus), so it is the
    /// function itself at every x; torch returns x where βx > 20, which differs from it by less than e^-20/β.
    let softplusWithBeta (beta: float) (x: Expr) =
        if not (beta > 0.0 && Double.IsFinite beta) then
            invalidArg "beta" (sprintf "Softplus: beta = %g must be positive and finite (input %s)" beta (Shape.format x.Dims))
        if beta = 1.0 then Nn.softplus x else Nn.softplus (beta * x) / beta

    /// elu with torch's input scale s: x for x > 0, α·(e^(s·x) − 1) otherwise, the branch chosen by x itself, as torch's
    /// kernel does; at 0 the slope is α·s (selected, as elu's), then 0. The scale multiplies the negative part only, so a
    /// tiny negative x whose s·x rounds to −0 still takes the exponential's branch, curvature α·s² there (celu at
    /// x = −5e-324 with α = 2, whose s·x is −0: ours took the linear branch at 0, curvature 0, where the closed form and
    /// torch are 1/α = 0.5, `fuzz all adversarial 67/232`).
    /// expm1 with the slope eˣ itself, torch's fused elu backward (α·e^(s·x), for elu, selu and celu), where expm1's
    /// own rule is torch's expm1 backward, g·(y + 1): below x ≈ −37 (−17 in float32) y + 1 = −1 + 1 is 0 while eˣ is
    /// not, so an infinite cotangent through selu at x = −89 met 0·∞ = NaN where the gradient is +∞ (`fuzz
    /// adversarial 3/30`, float32: x₁·selu(x₀) with x₁ holding +∞). The rule is in ops, so its own derivative is eˣ again.
    let private expm1ByExpRule = CustomRules.register "elu's expm1" (fun z g -> g * Expr.exp z)
    let private expm1WithExpSlope (z: Expr) = Expr.custom expm1ByExpRule z (Expr.expm1 z)

    let private scaledElu (alpha: float) (scale: float) (x: Expr) =
        let zero = Expr.scalar x.DType 0.0
        let negativePart = Expr.where (Expr.lt x zero) x zero
        let atZero = Expr.where (Expr.eq x zero) x zero
        let negative = expm1WithExpSlope (if scale = 1.0 then negativePart else negativePart * scale)
        Expr.where (Expr.le x zero) (Expr.where (Expr.eq x zero) ((alpha * scale) * atZero) (alpha * negative)) x

    /// x for x > 0, α(eˣ - 1) otherwise, with torch's derivatives at 0: α at first order (its
    /// backward takes the branch x ≤ 0), then 0 (its double backward masks x < 0). The branch is
    /// chosen by x ≤ 0 as torch's kernel does, so NaN takes the identity (slope 1). The negative
    /// branch is α·expm1(xₙ) below 0 and the linear α·x₀ at 0, with xₙ = x where x < 0 and x₀ = x
    /// where x = 0, both 0 elsewhere: no arithmetic mixes x with xₙ, so x = -inf gives -α rather
    /// than inf - inf. At 0 it is selected, not added: α·expm1(+0) + α·(−0) was +0 at x = −0, where
    /// torch's α·expm1(−0) is −0 (`fuzz 5/879`: rsqrt of elu(−0), −∞ in torch, +∞ in ours). The
    /// exponential reads x only where x < 0, so a large positive x never overflows into a cotangent.
    let elu (alpha: float) (x: Expr) = scaledElu alpha 1.0 x

    /// x for x > 0, slope·x otherwise: at 0 the derivative is the slope, as torch has it.
    let leakyRelu (negativeSlope: float) (x: Expr) =
        Expr.where (Expr.gt x (Expr.scalar x.DType 0.0)) x (negativeSlope * x)

    /// x / (1 + |x|).
    let softsign (x: Expr) = x / (1.0 + Expr.abs x)

    /// x limited to [lower, upper] (either bound may be absent), as torch.clamp. The cotangent
    /// passes where lower ≤ x ≤ upper, bounds included, and nowhere else (NaN included):
    /// torch's convention. When lower > upper every entry is upper, as in torch.
    let clamp (lower: float option) (upper: float option) (x: Expr) =
        let bound (v: float) = Expr.scalar x.DType v
        let atLeast = match lower with Some l -> Expr.ge x (bound l) | None -> Expr.eq x x
        let atMost = match upper with Some u -> Expr.le x (bound u) | None -> Expr.eq x x
        let inside = atLeast * atMost
        // outside: the bound that was crossed, or x itself (NaN) without a cotangent. A NaN bound
        // is crossed everywhere: torch's max and min propagate it, so every entry is NaN.
        let outside =
            let held = Expr.stopGradient x
            let raised =
                match lower with
                | Some l when Double.IsNaN l -> Expr.broadcastTo x.Dims (bound l)
                | Some l -> Expr.where (Expr.lt x (bound l)) (bound l) held
                | None -> held
            // upper applies after lower, as torch's min(max(x, lower), upper)
            match upper with
            | Some u when Double.IsNaN u -> Expr.broadcastTo x.Dims (bound u)
            | Some u -> Expr.where (Expr.gt raised (bound u)) (bound u) raised
            | None -> raised
        Expr.where inside x outside

    /// x limited to [lower, upper] where the bounds are tensors (torch.clamp with tensor min and max; an adversarial
    /// attack's projection onto the ε-ball around its input), the three broadcast together. The value is
    /// min(max(x, lower), upper) with NaN propagated, so a NaN anywhere gives NaN and lower > upper gives upper, as
    /// torch's. The cotangent goes where torch's clamp_backward_min_max sends it: to x where lower ≤ x ≤ upper (the
    /// bounds included), to lower where x < lower < upper, to upper where x > upper or upper < lower, and nowhere where
    /// x or lower is NaN or x < lower = upper (torch's conditions, which leave that last case to no one).
    let clampBetween (lower: Expr) (upper: Expr) (x: Expr) =
        Shape.broadcastMany "Clamp" [ x.Dims; lower.Dims; upper.Dims ] |> ignore
        let either (a: Expr) (b: Expr) = Expr.maximum a b   // of two 0/1 masks
        let inside = Expr.ge x lower * Expr.le x upper
        let toUpper = either (Expr.gt x upper) (Expr.lt upper lower) * Expr.eq lower lower * Expr.eq x x
        let toLower = Expr.lt x lower * Expr.lt lower upper
        let held = Expr.stopGradient (Expr.minimum (Expr.maximum x lower) upper)
        Expr.where inside x (Expr.where toUpper upper (Expr.where toLower lower held))

    /// x limited to [lower, upper], torch.nn.functional.hardtanh. Unlike clamp, the slope is 0 at the
    /// bounds themselves (torch's hardtanh_backward passes only lower < x < upper) and 1 at NaN, whose
    /// value stays NaN. lower must not exceed upper.
    let hardtanh (lower: float) (upper: float) (x: Expr) =
        if not (lower <= upper) then
            invalidArg "min" (sprintf "Hardtanh: min = %g must not exceed max = %g (input %s)" lower upper (Shape.format x.Dims))
        let bound (v: float) = Expr.scalar x.DType v
        Expr.where (Expr.le x (bound lower)) (bound lower) (Expr.where (Expr.ge x (bound upper)) (bound upper) x)

    /// min(max(x, 0), 6), torch.nn.functional.relu6: hardtanh over [0, 6].
    let relu6 (x: Expr) = hardtanh 0.0 6.0 x

    /// (x + 3)/6 limited to [0, 1], torch.nn.functional.hardsigmoid. The slope is 1/6 strictly
    /// between -3 and 3 and 0 elsewhere, at ±3 and at NaN (whose value stays NaN), as torch's.
    let hardsigmoid (x: Expr) =
        let bound (v: float) = Expr.scalar x.DType v
        let inside = Expr.gt x (bound -3.0) * Expr.lt x (bound 3.0)
        let outside = Expr.where (Expr.le x (bound -3.0)) (bound 0.0) (Expr.where (Expr.ge x (bound 3.0)) (bound 1.0) (Expr.stopGradient x))
        Expr.where inside ((x + 3.0) / 6.0) outside

    /// The rule of hardswish's slope, torch's double backward: the cotangent over 3 strictly between −3 and 3, 0 elsewhere
    /// whatever it is. A select, not a product: the cotangent reaching the slope is g times the outer one, 0·∞ = NaN
    /// where the outer mask (at or below −3) zeroed it under an infinite g, and torch's where drops that. Registered once.
    let private hardswishSlopeRule =
        CustomRules.register "hardswish slope" (fun x c ->
            let bound (v: float) = Expr.scalar x.DType v
            Expr.where (Expr.gt x (bound -3.0) * Expr.lt x (bound 3.0)) (c / 3.0) (Expr.zerosLike c))

    /// hardswish's slope: 0 at or below −3, x/3 + 1/2 below 3, 1 elsewhere (NaN included), as torch's hardswish_backward.
    let private hardswishSlope (x: Expr) =
        let bound (v: float) = Expr.scalar x.DType v
        Expr.custom hardswishSlopeRule x (Expr.where (Expr.le x (bound -3.0)) (bound 0.0) (Expr.where (Expr.lt x (bound 3.0)) (x / 3.0 + 0.5) (bound 1.0)))

    /// hardswish's rule (torch's hardswish_backward): g·slope, and 0 at or below −3 whatever g is. Registered once; the
    /// module keeps it alive.
    let private hardswishRule =
        CustomRules.register "hardswish" (fun x g ->
            Expr.where (Expr.le x (Expr.scalar x.DType -3.0)) (Expr.zerosLike g) (g * hardswishSlope x))

    /// x·(x + 3)/6 between -3 and 3, x·0 at or below -3 (so -∞ gives NaN, as torch) and x at or above
    /// 3 and at NaN: torch.nn.functional.hardswish, with torch's slopes 0 at -3 and 1 at 3. The
    /// quadratic reads x only strictly between the bounds, so an infinite x gives no NaN cotangent.
    /// The low branch is a constant (±0, or NaN at -∞) whose x is held: its slope is a symbolic 0, so a
    /// NaN cotangent is not passed back through it, as torch's masked rule does not, and as for relu
    /// (`fuzz all adversarial 47/271`: sin(hardswish x) at x = -∞, whose cotangent cos(NaN) is NaN).
    ///
    /// Its rule is torch's fused one, one product: g·(x/3 + 1/2) between the bounds, g at or above 3 (and at NaN), and 0
    /// at or below −3 whatever g is. The quadratic's own product rule gave two terms, g·(x + 3)/6 + g·x/6, of opposite
    /// signs below 0, ∞ − ∞ = NaN under an infinite cotangent where torch's is ±∞ (`fuzz all adversarial 114/5`: a
    /// grouped convolution with an infinite weight over hardswish(−1.528), gradient +∞ in torch's, NaN in ours).
    let hardswish (x: Expr) =
        let bound (v: float) = Expr.scalar x.DType v
        let low = Expr.le x (bound -3.0)
        let middle = Expr.lt x (bound 3.0)
        let inner = Expr.where low (bound 0.0) (Expr.where middle x (bound 0.0))
        Expr.custom hardswishRule x (Expr.where low (Expr.stopGradient x * 0.0) (Expr.where middle (inner * (inner + 3.0) / 6.0) x))

    /// mish‴, the rule of mishCurvature: the product rule over σ·S·R (see there), with σ′ the primitive slope,
    /// S′ = −2TSσ and R′ = (1 − σ − 2σT) − x(σ′(1 + 2T) + 2σ²S). Registered once; the module keeps it alive.
    let private mishCurvatureRule =
        CustomRules.register "mish curvature" (fun x g ->
            let s, slope = Expr.sigmoid x, Expr.sigmoidSlope x
            let t, sech2 = Expr.tanh (Nn.softplus x), Expr.tanhSlope (Nn.softplus x)
            let inner = 1.0 - s - 2.0 * (s * t)
            let r = 2.0 + x * inner
            let dr = inner - x * (slope * (1.0 + 2.0 * t) + 2.0 * (s * s * sech2))
            g * (slope * sech2 * r - 2.0 * (t * sech2 * (s * s)) * r + s * sech2 * dr))

    /// mish″(x) = σS·(2 + x(1 − σ − 2σT)), T = tanh(softplus x), S = 1 − T² (the primitive slope, torch's 1 − T² at
    /// the rounded T), σ = σ(x): one atom in the second order, with its own rule.
    let private mishCurvature (x: Expr) =
        let s = Expr.sigmoid x
        let t = Expr.tanh (Nn.softplus x)
        Expr.custom mishCurvatureRule x (s * Expr.tanhSlope (Nn.softplus x) * (2.0 + x * (1.0 - s - 2.0 * (s * t))))

    /// mish's slope's rule g·mish″(x), one factor. Registered once; the module keeps it alive.
    let private mishSlopeRule = CustomRules.register "mish slope" (fun x g -> g * mishCurvature x)

    /// mish′(x) = T + x·σ(x)·S, torch's mish_backward factor.
    let private mishSlope (x: Expr) =
        let softplus = Nn.softplus x
        Expr.custom mishSlopeRule x (Expr.tanh softplus + x * (Expr.sigmoid x * Expr.tanhSlope softplus))

    /// mish's rule g·mish′(x), one factor. Registered once; the module keeps it alive.
    let private mishRule = CustomRules.register "mish" (fun x g -> g * mishSlope x)

    /// x·tanh(softplus x), torch.nn.functional.mish: x for large x, -0 far below 0, NaN at ±∞ in the
    /// slope (and at -∞ in the value), as torch's. Its rule is one factor, g·mish′(x), as torch's mish_backward: the
    /// product differentiated as written gave g·T + (g·x)·σS, whose terms have opposite signs below 0, so an infinite
    /// cotangent made the gradient ∞ − ∞ = NaN where the closed form and torch are ±∞ (silu's family, `fuzz all 4/690`).
    let mish (x: Expr) = Expr.custom mishRule x (x * Expr.tanh (Nn.softplus x))

    /// torch's selu constants (Klambauer et al.): the scale and α that make activations self-normalising.
    let private seluAlpha = 1.6732632423543772848170429916717
    let private seluScale = 1.0507009873554804934193349852946

    /// torch's selu: scale·elu(x, α) with torch's constants; at 0 the slope is scale·α, as elu's.
    let selu (x: Expr) = seluScale * elu seluAlpha x

    /// torch's celu: x above 0, α·(e^(x/α) − 1) at and below it (torch's elu with the input scale 1/α, the branch
    /// chosen by x, not by x/α, which rounds to −0 beside 0); slope 1 at 0.
    let celu (alpha: float) (x: Expr) =
        if alpha = 0.0 then invalidArg "alpha" (sprintf "Celu: alpha must not be 0 (input %s)" (Shape.format x.Dims))
        scaledElu alpha (1.0 / alpha) x

    /// torch's softshrink: x − λ above λ, x + λ below −λ, and x·0 between, as torch's kernel (so −0
    /// for a small negative x, NaN for NaN); slope 0 at ±λ, as torch. Between, the function is the constant 0,
    /// so x is held there: its derivative is the zero map, no cotangent, where x·0 multiplied a NaN cotangent
    /// into NaN (0·NaN) and torch's masked rule writes 0 (`fuzz adversarial 1/27`: softshrink of 1e-45 before a
    /// convolution whose sine meets −∞, gradient 0 in torch, NaN in ours).
    let softshrink (lambda: float) (x: Expr) =
        if not (lambda >= 0.0) then invalidArg "lambda" (sprintf "Softshrink: lambda = %g must be ≥ 0 (input %s)" lambda (Shape.format x.Dims))
        let l = Expr.scalar x.DType lambda
        // NaN is outside [−λ, λ], as torch's rule reads it (slope 1 there, `fuzz 2/663`); its value is NaN either way
        let inside = Expr.ge x (-l) * Expr.le x l
        Expr.where inside (Expr.stopGradient x * 0.0) (Expr.where (Expr.gt x l) (x - lambda) (x + lambda))

    /// torch's hardshrink: 0 on [−λ, λ], x elsewhere (NaN stays NaN, as torch's kernel); slope 0 at ±λ.
    let hardshrink (lambda: float) (x: Expr) =
        let l = Expr.scalar x.DType lambda
        let inside = Expr.ge x (-l) * Expr.le x l
        Expr.where inside (Expr.scalar x.DType 0.0) x

    /// torch's tanhshrink: x − tanh x.
    let tanhshrink (x: Expr) = x - Expr.tanh x

    /// torch's softmin along the axis: softmax of −x.
    let softmin (axis: int) (x: Expr) = Nn.softmax axis (-x)

    /// glu's rules, one per axis, kept for the process's life (a node built with a rule holds it anyway).
    let private gluRules = System.Collections.Concurrent.ConcurrentDictionary<int, CustomRule>()

    /// torch's fused rule of glu over the halves a and b: g·σ(b) into a and g·(a·σ′(b)) into b, the slope a·σ′(b) formed
    /// before g meets it. As the product a·σ(b) differentiated, the cotangent into b was (g·a)·σ′(b), whose g·a overflows
    /// where g itself holds a (the gradient of glu(x)² is 2a²σ(b)σ′(b)): at a = 1e160, b = 710 it was +∞ where the closed
    /// form is 1e320·e^−710 = 4.5e11 and a·σ′(b) = 4.5e-149 is in range (`fuzz adversarial 23/180`; torch's σ(1 − σ) is 0).
    let private gluRule (axis: int) =
        gluRules.GetOrAdd(axis, fun _ ->
            CustomRules.register "glu" (fun x g ->
                let n = x.Dims.[axis]
                let first, second = Expr.sliceAxis axis 0 (n / 2) x, Expr.sliceAxis axis (n / 2) n x
                Expr.concat axis [ g * Expr.sigmoid second; g * (first * Expr.sigmoidSlope second) ]))

    /// torch's glu along the axis: the first half times σ of the second (the axis's length must be even), with
    /// torch's fused rule (gluRule).
    let glu (axis: int) (x: Expr) =
        let a = Shape.normalizeAxis "Glu" x.Rank axis
        let n = x.Dims.[a]
        if n % 2 <> 0 then Shape.fail "Glu" (sprintf "axis %d of the input %s has odd length %d; glu halves it" axis (Shape.format x.Dims) n)
        Expr.custom (gluRule a) x (Expr.sliceAxis a 0 (n / 2) x * Expr.sigmoid (Expr.sliceAxis a (n / 2) n x))

    /// torch's prelu: x where x > 0, weight·x elsewhere, the weight one number or one per channel
    /// (axis 1 of an input of rank 2 or more); slope `weight` at 0, as torch's rule.
    let prelu (weight: Expr) (x: Expr) =
        let w =
            if weight.Numel = 1 then Expr.reshape [||] weight
            elif weight.Rank = 1 && x.Rank >= 2 && weight.Dims.[0] = x.Dims.[1] then
                Expr.reshape (Array.init (x.Rank - 1) (fun i -> if i = 0 then x.Dims.[1] else 1)) weight
            else Shape.fail "Prelu" (sprintf "weight %s must hold one number or one per channel of the input %s" (Shape.format weight.Dims) (Shape.format x.Dims))
        let positive = Expr.gt x (Expr.scalar x.DType 0.0)
        // the weight's branch reads x only where it is taken: at x = +∞ its masked cotangent 0 met x in the weight's
        // derivative as 0·∞ = NaN (`fuzz all adversarial 1/160`: prelu of [+∞, −∞] per channel, the first channel's
        // weight gradient NaN here, 0 in torch)
        Expr.where positive x (w * Expr.where positive (Expr.scalar x.DType 0.0) x)
