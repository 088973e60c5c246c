/// torch's elementary functions that have no primitive of their own: hyperbolic and inverse
/// trigonometric functions, logarithms and powers of base 2 and 10, truncation, logit, xlogy and
/// lerp. Each is a composite, so its derivatives of every order follow from the primitives. Each is
/// written so that its value matches torch at the edges (overflow, large arguments, exact zeros,
/// domain bounds), and so that a branch not taken never reads an input at which it overflows: its
/// zero cotangent times an infinite derivative would be NaN.
namespace FunctionalDiff.Core

open System

/// Elementwise functions over Expr with torch's values and derivative conventions.
[<RequireQualifiedAccess>]
module Elementary =

    let private ln2 = Math.Log 2.0

    let private scalar (x: Expr) (v: float) = Expr.scalar x.DType v

    /// x where the mask holds and `safe` elsewhere: the input of a branch that must not see the
    /// other branch's inputs (its zero cotangent would meet an infinite derivative there).
    let private onlyWhere (mask: Expr) (x: Expr) (safe: float) = Expr.where mask x (scalar x safe)

    /// |x| below which sinh and cosh use their forms near 0. Above it e^-|x| is below the rounding
    /// of e^|x| (e^-40 < 2^-53) in both dtypes, so the large form drops nothing.
    let private hyperbolicSwitch = 20.0

    /// e^(|x| - ln 2) with x's sign, sinh and cosh far out, where e^-|x| is below their rounding: one
    /// term, so its derivative is one factor. A sum of both exponentials would differentiate into
    /// g·e^(x - ln 2) and g·e^(-x - ln 2) apart, and an infinite cotangent g meets the vanishing one
    /// as ∞·0 = NaN (or the two as ∞ - ∞) where the derivative is ±∞ (`fuzz all 2/233`: the
    /// gradient of ∞·cosh x at x = -∞ was NaN, torch's -∞). Each side reads x only where it is
    /// taken, so the other never overflows.
    /// It is ½·e^|x| while e^|x| is finite (|x| up to 709 in float64, 88 in float32), and e^(|x| - ln 2)
    /// only beyond, where sinh is still finite and e^|x| is not: |x| - ln 2 is rounded to the ulp of |x|,
    /// which e^ turns into that relative error (1e-13 at 709, 500 ulps; torch's sinh is within an ulp, and
    /// a cosine after it reads every bit: `fuzz all adversarial 1/93`). A product e^(|x|/2)·½·e^(|x|/2)
    /// would be as accurate, but its derivative multiplies the two factors first and overflows there.
    let private farExponential (odd: bool) (far: Expr) =
        let positive = Expr.gt far (scalar far 0.0)
        let finiteBound = if far.DType = DType.Float32 then 88.0 else 709.0
        let half (h: Expr) =
            let inside = Expr.le h (scalar h finiteBound)
            Expr.where inside (0.5 * Expr.exp (onlyWhere inside h 0.0)) (Expr.exp (Expr.where inside (scalar h finiteBound) h - ln2))
        let up = half (onlyWhere positive far 0.0)
        let down = half (-(Expr.where positive (scalar far 0.0) far))
        Expr.where positive up (if odd then -down else down)

    /// sinh x's value. Near 0, (expm1 x - expm1(-x))/2: the two terms have opposite signs, so the
    /// difference never cancels. Far out, ±e^(|x| - ln 2): it overflows only where sinh itself
    /// leaves the dtype (|x| > 710.5 in float64, 89.4 in float32), not where e^x does.
    let private sinhValue (x: Expr) =
        let small = Expr.lt (Expr.abs x) (scalar x hyperbolicSwitch)
        let near = onlyWhere small x 0.0
        let far = Expr.where small (scalar x hyperbolicSwitch) x
        Expr.where small ((Expr.expm1 near - Expr.expm1 (-near)) * 0.5) (farExponential true far)

    /// cosh x's value. Near 0, 1 + 2 sinh²(x/2): it keeps its digits at small x, where e^x - e^-x
    /// would cancel. Far out, e^(|x| - ln 2), which overflows where cosh does, as sinh.
    let private coshValue (x: Expr) =
        let small = Expr.lt (Expr.abs x) (scalar x hyperbolicSwitch)
        let near = onlyWhere small x 0.0
        let far = Expr.where small (scalar x hyperbolicSwitch) x
        Expr.where small (1.0 + 2.0 * Expr.square (sinhValue (near * 0.5))) (farExponential false far)

    /// The rules of sinh (key true) and cosh (false), kept for the process's life (a node built with a rule holds it anyway).
    let private hyperbolicRules = System.Collections.Concurrent.ConcurrentDictionary<bool, CustomRule>()

    /// sinh (odd) or cosh with its own rule, g·cosh x or g·sinh x: one factor at every order, each the other's node. The
    /// values' forms differentiated as written are sums: the square of the difference expm1 x - expm1(-x) in cosh's near form
    /// is a polynomial the Rewrite pass expands into terms of opposite sign, which an infinite cotangent made ∞ - ∞ = NaN
    /// where the derivative is ±∞ (`fuzz all 2/233`: the gradient of cosh(x)·∞ at x = -0.71, torch's -∞).
    let rec private hyperbolic (odd: bool) (x: Expr) : Expr =
        let rule =
            hyperbolicRules.GetOrAdd(odd, fun odd ->
                CustomRules.register (if odd then "sinh" else "cosh") (fun y g -> g * hyperbolic (not odd) y))
        Expr.custom rule x (if odd then sinhValue x else coshValue x)

    /// sinh x: (expm1 x - expm1(-x))/2 near 0, ±e^(|x| - ln 2) far out (see sinhValue), slope cosh x.
    let sinh (x: Expr) = hyperbolic true x

    /// cosh x: 1 + 2 sinh²(x/2) near 0, e^(|x| - ln 2) far out (see coshValue), slope sinh x.
    let cosh (x: Expr) = hyperbolic false x

    /// √(1 - x²) without cancellation near |x| = 1 and with a derivative that is infinite there, never
    /// NaN: √(1 - x·x) for |x| < 1/2, else √t·√(2 - t) with t = 1 - |x| (exact there). In that
    /// product the infinite slope of √t meets only the finite cotangent; a form with t² or
    /// (1 - x)(1 + x) under one root would meet it with a zero factor, 0·∞ = NaN at |x| = 1.
    let private rootOfOneMinusSquare (x: Expr) =
        let far = Expr.ge (Expr.abs x) (scalar x 0.5)
        let near = Expr.where far (scalar x 0.0) x
        let t = 1.0 - Expr.abs (onlyWhere far x 0.5)
        Expr.where far (Expr.sqrt t * Expr.sqrt (2.0 - t)) (Expr.sqrt (1.0 - Expr.square near))

    /// arctan x, as atan2(x, 1).
    let atan (x: Expr) = Expr.atan2 x (scalar x 1.0)

    /// The rule of asinSlope: g·x·s³, the derivative of s = (1 - x²)^(-1/2), one product of factors, so an
    /// infinite cotangent keeps its sign through it (0 at x = 0 times an infinite g is NaN, as in the closed form
    /// and torch). Registered once; the module keeps it alive.
    let private asinSlopeRule =
        CustomRules.register "asin slope" (fun x g ->
            let s = Expr.reciprocal (rootOfOneMinusSquare x)
            g * x * (s * s * s))

    /// 1/√(1 - x²), asin's slope: 1/rootOfOneMinusSquare (exact near |x| = 1, +∞ at ±1, NaN outside [-1, 1]) with its
    /// own rule (asinSlopeRule). Differentiated as written, √t·√(2 - t)'s two terms have opposite signs, and a second
    /// derivative under an infinite cotangent was ∞ - ∞ = NaN.
    let private asinSlope (x: Expr) = Expr.custom asinSlopeRule x (Expr.reciprocal (rootOfOneMinusSquare x))

    /// asin's rule g/√(1 - x²), one factor. Registered once; the module keeps it alive.
    let private asinRule = CustomRules.register "asin" (fun x g -> g * asinSlope x)

    /// acos's rule -g/√(1 - x²), one factor. Registered once; the module keeps it alive.
    let private acosRule = CustomRules.register "acos" (fun x g -> -(g * asinSlope x))

    /// arcsin x = atan2(x, √(1 - x²)): π/2 at 1, NaN outside [-1, 1], derivative +∞ at ±1 as torch.
    /// Its derivative is its own rule, g/√(1 - x²) (asinRule): atan2's two partials through the root,
    /// g·√(1 - x²)/1 and g·x·x/√(1 - x²), have the same sign, but the root's far form √t·√(2 - t)
    /// differentiates into two terms of opposite sign, which an infinite cotangent made ∞ - ∞ = NaN
    /// where the closed form, torch's, is ±∞ (`fuzz all 1/422`: a matmul of a -∞ row by asin x).
    /// The value is the atan2 above, unchanged.
    let asin (x: Expr) = Expr.custom asinRule x (Expr.atan2 x (rootOfOneMinusSquare x))

    /// arccos x = atan2(√(1 - x²), x): 0 at 1, π at -1, NaN outside [-1, 1], derivative -∞ at ±1.
    /// Its derivative is -g/√(1 - x²), one factor (acosRule), for the reason given at asin.
    let acos (x: Expr) = Expr.custom acosRule x (Expr.atan2 (rootOfOneMinusSquare x) x)

    /// |x| above which asinh and acosh are log 2|x|: there √(x² ± 1) rounds to |x|, and x² would
    /// overflow past 1e154.
    let private logarithmicSwitch = 268435456.0 // 2^28

    /// asinh t for t >= 0: log1p(t + t²/(1 + √(1 + t²))), which has no cancellation for t >= 0.
    let private asinhNonNegative (t: Expr) =
        let large = Expr.gt t (scalar t logarithmicSwitch)
        let near = onlyWhere (Expr.eq large (scalar t 0.0)) t 0.0
        let far = onlyWhere large t logarithmicSwitch
        let square = Expr.square near
        Expr.where large (Expr.log far + ln2) (Expr.log1p (near + square / (1.0 + Expr.sqrt (1.0 + square))))

    /// 1/√(1 + x²), asinh's slope: 1/|x| beyond 2^28, where √(1 + x²) rounds to |x| and x² would overflow past 1e154
    /// (0 at ±∞, NaN at NaN). Each form is one chain of factors, so its own derivative has no terms of opposite sign.
    let private asinhSlope (x: Expr) =
        let large = Expr.gt (Expr.abs x) (scalar x logarithmicSwitch)
        let near = onlyWhere (Expr.eq large (scalar x 0.0)) x 0.0
        let far = onlyWhere large x logarithmicSwitch
        Expr.where large (Expr.reciprocal (Expr.abs far)) (Expr.rsqrt (1.0 + Expr.square near))

    /// asinh's rule g/√(1 + x²), one factor. Registered once; the module keeps it alive.
    let private asinhRule = CustomRules.register "asinh" (fun x g -> g * asinhSlope x)

    /// asinh x = -asinh(-x): each sign uses the form without cancellation. The reflection is a
    /// where, not |x|, so the slope at 0 is 1 (|x| has slope 0 there). Its derivative is its own rule,
    /// g/√(1 + x²) (asinhRule): the log1p form differentiated as written gives terms of opposite sign, which an
    /// infinite cotangent made ∞ − ∞ = NaN where the closed form, torch's, is ±∞ (`fuzz all 5/299`: the gradient of
    /// x₁·asinh(x₀) in x₀ at x₁ = +∞). The value is the form above, unchanged.
    let asinh (x: Expr) =
        let negative = Expr.lt x (scalar x 0.0)
        let magnitude = asinhNonNegative (Expr.where negative (-x) x)
        Expr.custom asinhRule x (Expr.where negative (-magnitude) magnitude)

    /// 1/√(x² - 1), acosh's slope: 1/√t · 1/√(t + 2) with t = x - 1 (exact near 1, +∞ at 1, NaN below 1), 1/x beyond
    /// 2^28, where √(x² - 1) rounds to x and x² would overflow past 1e154 (0 at +∞). Each form is a product of factors
    /// that all fall as x grows, so its own derivative is a sum of terms of one sign.
    let private acoshSlope (x: Expr) =
        let large = Expr.gt x (scalar x logarithmicSwitch)
        let t = onlyWhere (Expr.eq large (scalar x 0.0)) x 2.0 - 1.0
        let far = onlyWhere large x logarithmicSwitch
        Expr.where large (Expr.reciprocal far) (Expr.rsqrt t * Expr.rsqrt (t + 2.0))

    /// acosh's rule g/√(x² - 1), one factor. Registered once; the module keeps it alive.
    let private acoshRule = CustomRules.register "acosh" (fun x g -> g * acoshSlope x)

    /// acosh x = log1p(t + √t·√(t + 2)) with t = x - 1 (exact near 1), log 2x far out; NaN below 1
    /// and +∞ slope at 1, as torch (two roots, for the reason given at rootOfOneMinusSquare).
    /// Its derivative is its own rule, g/√(x² - 1) (acoshRule), as asinh's: the log1p form differentiated as written has
    /// second derivatives with terms of opposite sign, which an infinite cotangent made ∞ - ∞ = NaN where the closed
    /// form, torch's, is ±∞ (`fuzz all adversarial 72/213`: the second order of c·acosh(x) at x = 1.12 with c holding
    /// +∞). The value is the form above, unchanged.
    let acosh (x: Expr) =
        let large = Expr.gt x (scalar x logarithmicSwitch)
        let t = onlyWhere (Expr.eq large (scalar x 0.0)) x 1.0 - 1.0
        let far = onlyWhere large x logarithmicSwitch
        Expr.custom acoshRule x (Expr.where large (Expr.log far + ln2) (Expr.log1p (t + Expr.sqrt t * Expr.sqrt (t + 2.0))))

    /// atanh x = (log1p x - log1p(-x))/2: the two logarithms have opposite signs, so the
    /// difference never cancels; ±∞ at ±1 and NaN beyond, as torch.
    let atanh (x: Expr) = (Expr.log1p x - Expr.log1p (-x)) * 0.5

    /// log₂ x = log x / log 2 (within an ulp or two of torch's log2; not exact at powers of 2).
    let log2 (x: Expr) = Expr.log x / ln2

    /// log₁₀ x = log x / log 10 (within an ulp or two of torch's log10).
    let log10 (x: Expr) = Expr.log x / Math.Log 10.0

    /// 2^x, as pow(2, x): exact at integers, +∞ past 1024, 0 below -1075.
    let exp2 (x: Expr) = Expr.pow (scalar x 2.0) x

    /// Rounds toward zero: ceil below 0, floor elsewhere (so -0.5 gives -0 and NaN stays NaN);
    /// its derivative is 0, as torch.
    let trunc (x: Expr) = Expr.where (Expr.lt x (scalar x 0.0)) (Expr.ceil x) (Expr.floor x)

    /// log(x / (1 - x)) as log x - log1p(-x), which keeps its digits near 0 and 1. Outside [0, 1]
    /// the value and the derivative are NaN, as torch's: there it is √(x(1 - x)), NaN with a NaN
    /// slope, read only outside (x·NaN would send NaN into the cotangent everywhere).
    let private logitOpen (x: Expr) =
        let outside = Expr.lt x (scalar x 0.0) + Expr.gt x (scalar x 1.0)
        let inside = onlyWhere (Expr.eq outside (scalar x 0.0)) x 0.5
        let beyond = onlyWhere outside x 0.5
        Expr.where outside (Expr.sqrt (beyond * (1.0 - beyond))) (Expr.log inside - Expr.log1p (-inside))

    /// torch.logit: log(x / (1 - x)). Without eps, -∞ at 0, +∞ at 1 (slope +∞ at both) and NaN
    /// outside [0, 1]. With eps in [0, 0.5], x is first clamped to [eps, 1 - eps]: the slope is 0
    /// outside that range and at NaN, and passes at its bounds, as torch's.
    let logit (eps: float option) (x: Expr) =
        match eps with
        | None -> logitOpen x
        | Some e when not (e >= 0.0 && e <= 0.5) ->
            invalidArg "eps" (sprintf "Logit: eps = %g must be in [0, 0.5] (input %s)" e (Shape.format x.Dims))
        | Some e -> logitOpen (Activations.clamp (Some e) (Some(1.0 - e)) x)

    /// A custom rule over several operands of one function, each broadcast to the value's shape and packed along a
    /// new leading axis (see withPackedRule): `cotangents operands g` gives each operand's cotangent in the value's
    /// shape. One rule per set of constant operands (bit k of the index: operand k is a constant), whose cotangent is a
    /// constant 0 instead: the operands share one packed node, so a constant's slot was still paired with its tangent of
    /// zeros when forward mode transposes the rule, 0·∞ = NaN where its slope is infinite (`fuzz all adversarial 60/272`:
    /// the JVP of lerp(x₀, x₁, 0) at x₁ = +∞, whose weight slope x₁ − x₀ is ∞, NaN where the closed form is ẋ₀).
    /// Registered once; the module keeps them alive.
    let private registerPacked (name: string) (arity: int) (cotangents: Expr[] -> Expr -> Expr list) =
        Array.init (1 <<< arity) (fun constants ->
            CustomRules.register name (fun packed g ->
                let operands = Array.init packed.Dims.[0] (fun k -> Expr.reshape g.Dims (Expr.sliceAxis 0 k (k + 1) packed))
                let held k (e: Expr) = if constants &&& (1 <<< k) <> 0 then Expr.zerosLike g else e
                Expr.concat 0 (cotangents operands g |> List.mapi held |> List.map (fun e -> Expr.reshape (Array.append [| 1 |] g.Dims) e))))

    /// `value` with the rule made by registerPacked over these operands for its constant ones. An operand under
    /// stopGradient counts as constant too: no derivative passes it, and its slot's cotangent, held at zero, keeps the
    /// forward mode (the rule transposed) from meeting its zero tangent with a NaN or infinite slope (torch's quantile
    /// lerps with weights that need no gradient, and its JVP of a slice holding NaN is a number).
    let private withPackedRule (rules: CustomRule[]) (operands: Expr list) (value: Expr) =
        let lifted (e: Expr) = Expr.reshape (Array.append [| 1 |] value.Dims) (Expr.broadcastTo value.Dims e)
        let constants = operands |> List.mapi (fun k (e: Expr) -> if e.Op.IsConst || e.Op.IsStopGradient then 1 <<< k else 0) |> List.sum
        Expr.custom rules.[constants] (Expr.concat 0 (operands |> List.map lifted)) value

    /// Two operands in one floating dtype, float64 if either is.
    let private inOneDType (a: Expr) (b: Expr) =
        let dtype = if a.DType = DType.Float64 || b.DType = DType.Float64 then DType.Float64 else DType.Float32
        Expr.cast dtype a, Expr.cast dtype b

    /// The rule of x·ℓ(y) over x and y packed along a new leading axis, for ℓ = log (xlogy, `pole` 0) or log1p (xlog1py,
    /// `pole` −1): torch's slopes, one factor each, ℓ(y) in x (0 where x = 0 and y <= pole, a mask whose untaken ℓ reads
    /// pole + 1, where ℓ is 0) and x/(y − pole) in y (0/(y − pole) there).
    let private registerXLog (name: string) (logOf: Expr -> Expr) (pole: float) =
        registerPacked name 2 (fun operands g ->
            let x, y = operands.[0], operands.[1]
            let zero = scalar x 0.0
            let flat = Expr.eq x zero * Expr.le y (scalar y pole)
            let slopeX = Expr.where flat zero (logOf (Expr.where flat (scalar y (pole + 1.0)) y))
            let distance = if pole = 0.0 then y else y - pole
            // at x = 0, y <= pole the slope in y, 0/(y − pole) (NaN at the pole), reads x only through the held 0, so
            // both mixed second derivatives are 0 there, as the slope in x's mask makes one of them
            let slopeY = Expr.where flat (zero / distance) (x / distance)
            [ g * slopeX; g * slopeY ])

    /// x·ℓ(y) with ℓ's rule (registerXLog), 0 where x = 0 unless y is NaN (then NaN): as its own expression, not the
    /// product, since x·ℓ(y) is NaN at x = 0 where ℓ(y) is infinite.
    let private xTimesLog (rule: CustomRule[]) (logOf: Expr -> Expr) (x: Expr) (y: Expr) =
        let x, y = inOneDType x y
        let zero = scalar x 0.0
        let atZero = Expr.eq x zero * Expr.eq y y
        let value = Expr.where atZero zero (Expr.where atZero zero x * logOf y)
        withPackedRule rule [ x; y ] value

    /// xlogy's rule (registerXLog with log). Registered once; the module keeps it alive.
    let private xlogyRule = registerXLog "xlogy" Expr.log 0.0

    /// torch.xlogy: x·log y, 0 where x = 0 unless y is NaN (then NaN). The derivatives are torch's, a custom rule over
    /// the two operands: log y in x (0 where x = 0 and y <= 0) and x/y in y (so NaN at x = y = 0); at x = 0, y <= 0 the
    /// mixed second derivatives are 0 here, where torch's two disagree (1/y one way, 0 the other). The value at x = 0 is
    /// 0 for every y but NaN, so it cannot be a product x·log y where y = +∞; as its own expression it left the slope in
    /// x there 0, where the closed form and torch's are log ∞ = +∞ (`fuzz all adversarial 55/154`, float32: xlogy(0, y)
    /// with y holding +∞, gradient in x +∞).
    let xlogy (x: Expr) (y: Expr) = xTimesLog xlogyRule Expr.log x y

    /// xlog1py's rule (registerXLog with log1p). Registered once; the module keeps it alive.
    let private xlog1pyRule = registerXLog "xlog1py" Expr.log1p -1.0

    /// torch.special.xlog1py: x·log1p(y), accurate for y near 0 where log(1 + y) is not, and 0 where x = 0 unless y is
    /// NaN (then NaN), as xlogy. The derivatives are torch's, a custom rule over the two operands: log1p y in x (0 where
    /// x = 0 and y <= −1) and x/(1 + y) in y (NaN at x = 0, y = −1).
    let xlog1py (x: Expr) (y: Expr) = xTimesLog xlog1pyRule Expr.log1p x y

    /// entr's rule, torch's g·(−(1 + log x)): +∞ at 0, where the one-sided slope is, and NaN below 0, where log is; its
    /// own derivative −g/x follows from log's rule. Registered once; the module keeps it alive.
    let private entrRule = CustomRules.register "entr" (fun x g -> g * -(1.0 + Expr.log x))

    /// torch.special.entr: −x·log x for x > 0, 0 at 0, −∞ below 0, NaN at NaN. The product reads x only above 0 (1
    /// elsewhere), so no 0·log 0 reaches the value; the derivative is torch's (entrRule).
    let entr (x: Expr) =
        let zero = scalar x 0.0
        let positive = Expr.gt x zero
        let inside = Expr.where positive x (scalar x 1.0)
        let outside = Expr.where (Expr.eq x zero) zero (Expr.where (Expr.lt x zero) (scalar x Double.NegativeInfinity) x)
        Expr.custom entrRule x (Expr.where positive (-(inside * Expr.log inside)) outside)

    /// torch.special.multigammaln (torch.mvlgamma): the log of the multivariate gamma function of dimension p,
    /// Σⱼ₌₀^{p−1} log Γ(a − j/2) + p(p − 1)/4·log π, elementwise. torch raises unless every a exceeds (p − 1)/2, a check
    /// on values a graph cannot make when it is built: below that some log Γ is taken at a pole or past one (+∞ at the
    /// poles, log|Γ| between them). Derivatives through lgamma's rule, to any order.
    let multigammaln (p: int) (a: Expr) =
        if p < 1 then Shape.fail "Multigammaln" (sprintf "p must be at least 1, got %d (input %s)" p (Shape.format a.Dims))
        let terms = List.init p (fun j -> Expr.lgamma (a - float j * 0.5))
        List.reduce (+) terms + float (p * (p - 1)) / 4.0 * Math.Log Math.PI

    /// The rule of lerp over start, end and weight packed along a new leading axis: torch's g·(1 − w), g·w and
    /// g·(end − start), one factor each. Registered once; the module keeps it alive.
    let private lerpRule =
        registerPacked "lerp" 3 (fun operands g ->
            let start, finish, weight = operands.[0], operands.[1], operands.[2]
            [ g * (1.0 - weight); g * weight; g * (finish - start) ])

    /// torch.lerp: start + weight·(end - start) for |weight| < 0.5, else end - (end - start)·(1 - weight),
    /// torch's two forms (each exact at its own end). Each form reads the weight only where it is
    /// taken, so an infinite end - start in the other gives no NaN in the value.
    ///
    /// The derivative is torch's, one factor per operand (a custom rule over the three packed together): the far
    /// form differentiates to g − g·(1 − w) in end, two terms, which an infinite cotangent turned into ∞ − ∞ = NaN
    /// where g·w is ±∞ (`fuzz all adversarial 44/263`: lerp(4e40, x, x) at x = −1e20 into a power that overflows).
    let lerp (start: Expr) (finish: Expr) (weight: Expr) =
        let low = Expr.lt (Expr.abs weight) (scalar weight 0.5)
        let nearStart = Expr.where low weight (scalar weight 0.0)
        let nearEnd = Expr.where low (scalar weight 1.0) weight
        let span = finish - start
        let value = Expr.where low (start + nearStart * span) (finish - span * (1.0 - nearEnd))
        withPackedRule lerpRule [ start; finish; weight ] value

    /// The rule of logaddexp over a and b packed along a new leading axis: g·σ(a − b) for a and g·σ(b − a) for b, with
    /// equal infinities read as a − b = +∞ (slopes 1 and 0, as the value's branches give). Registered once; the module
    /// keeps it alive.
    let private logAddExpRule =
        registerPacked "logaddexp" 2 (fun operands g ->
            let a, b = operands.[0], operands.[1]
            let infinity = scalar a Double.PositiveInfinity
            let equalInfinities = Expr.eq a b * Expr.eq (Expr.abs a) infinity
            let difference = Expr.where equalInfinities infinity (a - b)
            [ g * Expr.sigmoid difference; g * Expr.sigmoid (scalar a 0.0 - difference) ])

    /// torch.logaddexp: log(e^a + e^b) without overflow, max(a, b) + log(1 + e^−|a−b|), as
    /// a + softplus(b − a) where a >= b and b + softplus(a − b) elsewhere: each branch is the
    /// function itself, smooth at every order, so at a = b (where a form with |a − b| has a kink)
    /// the derivatives are σ(a − b) = 1/2 each and the second derivatives 1/4, not 0. Equal
    /// infinities give that infinity, as torch (the difference read there is 0, not ∞ − ∞); their
    /// derivatives are then 1 in a and 0 in b, where torch's are NaN.
    ///
    /// The derivative is one factor per operand, g·σ(a − b) and g·σ(b − a), as torch's g·e^(a − result) (a custom rule
    /// over a and b packed together): the branches above differentiate to g − g·σ(b − a), two terms, which an infinite
    /// cotangent turned into ∞ − ∞ = NaN where the derivative is ±∞ (`fuzz adversarial 2/245`: the mean squared error
    /// of logaddexp(x, x) against a target +∞).
    let logAddExp (a: Expr) (b: Expr) =
        let a, b =
            let dtype = if a.DType = DType.Float64 || b.DType = DType.Float64 then DType.Float64 else DType.Float32
            Expr.cast dtype a, Expr.cast dtype b
        let zero = scalar a 0.0
        let equalInfinities = Expr.eq a b * Expr.eq (Expr.abs a) (scalar a Double.PositiveInfinity)
        let difference = Expr.where equalInfinities zero (a - b)
        let aLarger = Expr.ge difference zero
        let value = Expr.where aLarger (a + Expr.softplus (zero - difference)) (b + Expr.softplus difference)
        withPackedRule logAddExpRule [ a; b ] value

    /// torch.logaddexp2: log₂(2^a + 2^b) without overflow, as logaddexp of a·ln 2 and b·ln 2 over ln 2, so it inherits
    /// logaddexp's derivatives (σ((a − b)·ln 2) and σ((b − a)·ln 2), smooth at a = b) and its equal infinities.
    let logAddExp2 (a: Expr) (b: Expr) =
        let scale (x: Expr) = x * Expr.scalar x.DType (Math.Log 2.0)
        let joined = logAddExp (scale a) (scale b)
        joined / Expr.scalar joined.DType (Math.Log 2.0)

    /// torch.deg2rad: x·π/180.
    let deg2rad (x: Expr) = x * scalar x (Math.PI / 180.0)

    /// torch.rad2deg: x·180/π.
    let rad2deg (x: Expr) = x * scalar x (180.0 / Math.PI)

    /// 1 where x's sign bit is set (negative numbers, −0, −∞), else 0: 1/x tells −0 from +0 (−∞ against +∞). A NaN reads
    /// as 0, since comparisons cannot see its sign bit. Shared by copysign and Numerics.signbit.
    let internal signBitSet (x: Expr) =
        let zero = scalar x 0.0
        Expr.where (Expr.eq x zero) (Expr.lt (scalar x 1.0 / x) zero) (Expr.lt x zero)

    /// torch.copysign: |a| with the sign of b, a −0 in b counting as negative, with broadcasting; the slope is 1 in a
    /// where the sign is kept, −1 where it flips and 0 at a = 0 (torch's masked ratio), and 0 in b. A NaN in b counts as
    /// positive (the comparisons here cannot read a NaN's sign bit, which torch copies).
    let copysign (a: Expr) (b: Expr) =
        Shape.broadcast "Copysign" a.Dims b.Dims |> ignore
        let a, b = inOneDType a b
        Expr.where (signBitSet (Expr.stopGradient b)) (Expr.neg (Expr.abs a)) (Expr.abs a)

    /// torch.frac: x − trunc(x), with x's sign; slope 1 everywhere (trunc's is 0), NaN at ±∞ as torch.
    let frac (x: Expr) = x - trunc x

    /// Below this |x| sin(cx)/(cx) and its slope are Maclaurin polynomials (see sinc): |cx| below 1e-2 in float64 and
    /// 0.1 in float32, for the scale c (π for sinc, 1 for spherical_bessel_j0).
    let private sincSeriesBound (scale: float) (x: Expr) = (if x.DType = DType.Float32 then 0.1 else 1e-2) / scale

    /// The slope of sin(u)/u with u = cx: c(cos u − sin u/u)/u, read away from 0; below the bound the derivative of the
    /// polynomial, c(−u/3 + u³/30 − u⁵/840), whose own derivative, the curvature, is −c²/3 at 0.
    let private sincSlope (scale: float) (x: Expr) =
        let small = Expr.lt (Expr.abs x) (scalar x (sincSeriesBound scale x))
        let scaled = Expr.where small (scalar x 1.0) x * scale
        // the series reads x only below the bound, as the quotient reads it only above: the untaken branch's
        // cotangent is 0, and at |x| = 1e300 the series' own derivatives (u² = ∞) met it as 0·∞ = NaN in the
        // curvature, which is about π²·sin(u)/u there (`fuzz all adversarial 58/218`)
        let u = Expr.where small x (scalar x 0.0) * scale
        let u2 = u * u
        let series = scale * (u * (-1.0 / 3.0 + u2 * (1.0 / 30.0) - u2 * u2 * (1.0 / 840.0)))
        Expr.where small series (scale * ((Expr.cos scaled - Expr.sin scaled / scaled) / scaled))

    /// sinc's rule g·sinc′(x), one factor. Registered once; the module keeps it alive.
    let private sincRule = CustomRules.register "sinc" (fun x g -> g * sincSlope Math.PI x)

    /// spherical_bessel_j0's rule, g·j₀′(x), one factor. Registered once; the module keeps it alive.
    let private sphericalBesselJ0Rule = CustomRules.register "spherical_bessel_j0" (fun x g -> g * sincSlope 1.0 x)

    /// sin(u)/u with u = cx, 1 at 0, as sinc below. A scale of 1 reads x itself (the constructors fold x·1), where
    /// sinc(x/π) would round x/π and lose digits of sin far out (1e-4 relative at x = 1e6).
    let private scaledSinc (scale: float) (rule: CustomRule) (x: Expr) =
        let bound = sincSeriesBound scale x
        let small = Expr.lt (Expr.abs x) (scalar x bound)
        let scaled = Expr.where small (scalar x 1.0) x * scale
        let u = Expr.where small x (scalar x 0.0) * scale
        let u2 = u * u
        let series = 1.0 - u2 * (1.0 / 6.0) + u2 * u2 * (1.0 / 120.0) - u2 * u2 * u2 * (1.0 / 5040.0)
        Expr.custom rule x (Expr.where small series (Expr.sin scaled / scaled))

    /// torch.sinc: sin(πx)/(πx), 1 at x = 0. The quotient reads x only away from 0, so no 0/0 reaches a
    /// derivative; near 0 (|πx| below 1e-2 in float64, 0.1 in float32) the value is its Maclaurin polynomial
    /// 1 − u²/6 + u⁴/120 − u⁶/5040 (u = πx), which is 1 at 0 and carries the true derivatives up to the fourth
    /// (slope 0 as torch's masked rule, curvature −π²/3 where torch's second derivative is NaN), as JAX's sinc.
    /// Not at 0 alone: the quotient rule's k-th derivative cancels terms of size 1/u^k, so its second derivative
    /// was −π², three times the curvature, at x = 1e-38 (2 sin u/u³ and 2 cos u/u² cancel to 0, leaving
    /// −sin u/u), and NaN at float32 subnormals, where u³ underflows (`fuzz adversarial 28/146`, `28/10`). Below
    /// the bound the polynomial is within an ulp of the quotient, and its second derivative within 2e-16
    /// relative of the true one; above it the quotient's rounding, ε/u², is below 3e-12 (float64).
    ///
    /// Its rule is one factor, g·sinc′(x) (sincRule): the quotient sin(πx)/(πx) differentiated as written gave two
    /// terms, g·cos(πx)/x and −g·sin(πx)/(πx²), whose difference under an infinite cotangent was ∞ − ∞ = NaN where the
    /// closed form is ±∞ by the sign of sinc′ (`fuzz adversarial 23/114`: a binary cross-entropy with the logit +∞
    /// against σ(sinc x), whose cotangent into the target is −∞; torch's fused rule gives +∞).
    let sinc (x: Expr) = scaledSinc Math.PI sincRule x

    /// torch.special.spherical_bessel_j0: j₀(x) = sin(x)/x, 1 at 0, built as sinc is (its Maclaurin polynomial below
    /// |x| = 1e-2, 0.1 in float32; one-factor rule j₀′ = (cos x − j₀(x))/x, −x/3 + … near 0), NaN at ±∞ (sin ∞).
    let sphericalBesselJ0 (x: Expr) = scaledSinc 1.0 sphericalBesselJ0Rule x

    /// What hypot's value and slopes share: |a| and |b|, the masks of an infinite operand, of (0, 0) and of
    /// |a| ≥ |b|, and the larger operand l and the other s, read only where the result is neither 0 nor ∞ (1 and 0
    /// there), so no 0/0 or ∞/∞ reaches a derivative.
    let private hypotParts (a: Expr) (b: Expr) =
        let zero = scalar a 0.0
        let infinity = scalar a Double.PositiveInfinity
        let x, y = Expr.abs a, Expr.abs b
        let infinite = Expr.ne (Expr.eq x infinity + Expr.eq y infinity) zero
        let bothZero = Expr.eq x zero * Expr.eq y zero
        let special = Expr.ne (infinite + bothZero) zero
        let aLarger = Expr.ge x y
        let larger = Expr.where special (scalar a 1.0) (Expr.where aLarger a b)
        let other = Expr.where special zero (Expr.where aLarger b a)
        struct (x, y, infinite, bothZero, aLarger, larger, other)

    /// hypot's value over operands of one dtype (see hypot).
    let private hypotValue (a: Expr) (b: Expr) =
        let zero = scalar a 0.0
        let infinity = scalar a Double.PositiveInfinity
        let struct (x, y, infinite, bothZero, _, larger, other) = hypotParts a b
        let q = other / larger
        let general = Expr.abs larger * Expr.sqrt (1.0 + q * q)
        // at an infinite operand the value is +∞ and the slopes are the limits of a/h and b/h: sign of the infinite
        // operand, 0 for a finite one (|a| read where a is infinite, |b| where b is); a constant +∞ gave slope 0 in the
        // infinite operand too (`fuzz 2/309`: hypot(x, −∞), whose gradient in −∞ is −Σu; torch's b/h is ∞/∞ = NaN)
        let atInfinity = Expr.where (Expr.eq x infinity) x zero + Expr.where (Expr.eq y infinity) y zero
        Expr.where infinite atInfinity (Expr.where bothZero zero general)

    /// hypot's slopes a/h and b/h as l/h = sign(l)/√(1 + q²) and s/h = q·sign(l)/√(1 + q²) over the larger operand
    /// l and the other s, q = s/l (nothing squares an operand); at an infinite operand the limits (its sign, 0 for a
    /// finite one), at (0, 0) zero, as the composite's derivatives there.
    let private hypotSlopes (a: Expr) (b: Expr) =
        let zero = scalar a 0.0
        let infinity = scalar a Double.PositiveInfinity
        let struct (x, y, infinite, bothZero, aLarger, larger, other) = hypotParts a b
        let q = other / larger
        let r = Expr.sqrt (1.0 + q * q)
        let ofLarger = Expr.sign larger / r
        let ofOther = q * Expr.sign larger / r
        let slope (operand: Expr) (magnitude: Expr) (whenLarger: Expr) (whenOther: Expr) =
            Expr.where infinite (Expr.where (Expr.eq magnitude infinity) (Expr.sign operand) zero)
                (Expr.where bothZero zero (Expr.where aLarger whenLarger whenOther))
        slope a x ofLarger ofOther, slope b y ofOther ofLarger

    /// hypot's rule: g·(a/h) and g·(b/h), each one factor (see hypot). Where the smaller operand s is nonzero and
    /// s/l underflows to 0 (|s| below |l|·2^-1074), its slope s/h is below the smallest subnormal but not 0, so a huge
    /// or infinite cotangent must meet s before 1/|l|: (g·s)/|l| there, which cannot overflow (|s| is below 1e-15, as
    /// |l| is at most the largest float), where g·0 lost it (`fuzz all adversarial 103/41`: a matmul with +∞ weights
    /// over hypot(−5e-324, −8.52), gradient −∞ in the closed form and torch's g·a/h, NaN in ours). Elsewhere the masked
    /// operands are 0 and 1, so nothing of that branch reaches a derivative.
    let private hypotRule =
        registerPacked "hypot" 2 (fun operands g ->
            let a, b = operands.[0], operands.[1]
            let slopeA, slopeB = hypotSlopes a b
            let struct (_, _, _, _, aLarger, larger, other) = hypotParts a b
            let zero = scalar a 0.0
            let lost = Expr.eq (other / larger) zero * Expr.ne other zero
            let beside = g * Expr.where lost other zero / Expr.abs (Expr.where lost larger (scalar a 1.0))
            let ofOther (isOther: Expr) (slope: Expr) = Expr.where (lost * isOther) beside (g * slope)
            [ ofOther (Expr.eq aLarger zero) slopeA; ofOther aLarger slopeB ])

    /// torch.hypot: √(a² + b²) without overflow or underflow in the squares, as |l|·√(1 + (s/l)²) with l
    /// the operand of larger magnitude and s the other. Each branch of the choice is the function itself,
    /// smooth wherever l ≠ 0, so at |a| = |b| the derivatives are exact at every order (a form through
    /// max and min splits them there and loses the curvature). An infinite operand gives +∞ even beside
    /// NaN, as C's hypot. The slopes are a/h and b/h; at (0, 0), where torch's a/h is NaN, they are 0.
    ///
    /// Its rule is one factor per operand, g·(a/h) and g·(b/h) (hypotRule): the composite's derivative in its larger
    /// operand l is two terms of opposite signs, sign(l)·√(1 + q²) and −|l|·q·(s/l²)/√(1 + q²), each ±∞ under an
    /// infinite cotangent, ∞ − ∞ = NaN where the gradient is ±∞ (`fuzz all adversarial 59/149`: expm1(hypot(a, b))
    /// where the value overflows; torch's ∞·(a/h)).
    let hypot (a: Expr) (b: Expr) =
        let a, b = inOneDType a b
        withPackedRule hypotRule [ a; b ] (hypotValue a b)

    /// a and b broadcast to the shape of t, a and b together where that shape holds no entries, else as they are. Over an
    /// empty broadcast the function has no outputs, so every derivative is an empty sum, 0 (torch's fused rules); the
    /// product or quotient at the operands' own shapes met that 0 as a cotangent with its slope, 0·NaN at a NaN operand
    /// (`fuzz all adversarial 68/10`: addcdiv of t of shape [0, 3], a = NaN, b of shape [4, 1, 1], whose gradient in b
    /// was NaN), where the empty product has no slope to meet.
    let private overAnEmptyBroadcast (op: string) (t: Expr) (a: Expr) (b: Expr) =
        let shape = Shape.broadcast op (Shape.broadcast op t.Dims a.Dims) b.Dims
        if Array.contains 0 shape then Expr.broadcastTo shape a, Expr.broadcastTo shape b else a, b

    /// torch.addcmul: t + value·a·b, broadcast together.
    let addcmul (value: float) (t: Expr) (a: Expr) (b: Expr) =
        let a, b = overAnEmptyBroadcast "Addcmul" t a b
        t + value * (a * b)

    /// torch.addcdiv: t + value·a/b, broadcast together.
    let addcdiv (value: float) (t: Expr) (a: Expr) (b: Expr) =
        let a, b = overAnEmptyBroadcast "Addcdiv" t a b
        t + value * (a / b)

    /// torch.floor_divide, broadcast, as torch's kernel (and Python's //) computes it; no derivative (a step
    /// function). Not ⌊a/b⌋ of the rounded quotient: that rounds 1/0.1 up to 10 where the floor quotient is 9,
    /// and is ±∞ at an infinite a, where torch (fmod(∞, b) = NaN) gives NaN (`fuzz all adversarial 1/4`). The
    /// quotient is (a − fmod(a, b))/b, less 1 where the remainder's sign is not b's, then its floor, plus 1
    /// where the floor lost more than ½ to rounding; a zero quotient takes the sign of a/b, and b = 0 gives a/b.
    let floorDivide (a: Expr) (b: Expr) =
        let a, b =
            let dtype = if a.DType = DType.Float64 || b.DType = DType.Float64 then DType.Float64 else DType.Float32
            Expr.cast dtype a, Expr.cast dtype b
        let zero = scalar a 0.0
        let one = scalar a 1.0
        let quotient = a / b
        let r = Expr.fmod a b
        let shifted = Expr.ne r zero * Expr.ne (Expr.lt b zero) (Expr.lt r zero)
        let exact = Expr.where shifted ((a - r) / b - one) ((a - r) / b)
        let floored = Expr.floor exact
        let rounded = Expr.where (Expr.gt (exact - floored) (scalar a 0.5)) (floored + one) floored
        // a zero quotient keeps the sign of a/b, −0 included: 1/(a/b) is below 0 exactly then
        let signedZero = Expr.where (Expr.lt (one / quotient) zero) (scalar a -0.0) zero
        let result = Expr.where (Expr.eq exact zero) signedZero rounded
        Expr.stopGradient (Expr.where (Expr.eq b zero) quotient result)

    /// The rule of remainder over a and b packed along a new leading axis: torch's g in a and −g·floor_divide(a, b) in
    /// b, the floor of the exact quotient (9 for 1 % 0.1, where the rounded 1/0.1 is 10), one factor each. Through
    /// fmod's rule the slope in b was −trunc of the rounded quotient, corrected by the where: ±∞ at an infinite a, where
    /// the remainder is NaN and so is torch's floor quotient (Python's ∞ // b). Registered once; the module keeps it alive.
    let private remainderRule =
        registerPacked "remainder" 2 (fun operands g -> [ g; -(g * floorDivide operands.[0] operands.[1]) ])

    /// torch.remainder, Python's a % b: the remainder with b's sign, fmod(a, b) + b where fmod's sign differs from b's
    /// (torch's kernel, so exact as it). The derivatives are torch's, 1 in a and −floor_divide(a, b) in b (remainderRule):
    /// NaN in b where a is infinite.
    let remainder (a: Expr) (b: Expr) =
        let a, b = inOneDType a b
        let r = Expr.fmod a b
        let zero = scalar r 0.0
        let adjust = Expr.ne r zero * Expr.ne (Expr.lt r zero) (Expr.lt b zero)
        withPackedRule remainderRule [ a; b ] (Expr.where adjust (r + b) r)

    /// torch.heaviside: 0 below 0, `values` at 0 and 1 above; no derivative, as torch has none. A NaN
    /// input is 0, as torch's kernel gives it (x == 0 ? values : x > 0, both comparisons false at NaN;
    /// `fuzz all 1/843`: heaviside(NaN) was NaN here, 0 in torch).
    let heaviside (values: Expr) (x: Expr) =
        let zero = scalar x 0.0
        Expr.stopGradient (Expr.where (Expr.gt x zero) (scalar x 1.0) (Expr.where (Expr.eq x zero) (Expr.cast x.DType values) zero))

    /// torch.isnan: 1 where x is NaN, else 0, in x's dtype; no derivative.
    let isNan (x: Expr) = Expr.stopGradient (Expr.where (Expr.ne x x) (scalar x 1.0) (scalar x 0.0))

    /// torch.isinf: 1 where x is +∞ or −∞, else 0, in x's dtype; no derivative.
    let isInf (x: Expr) =
        Expr.stopGradient (Expr.where (Expr.eq (Expr.abs x) (scalar x Double.PositiveInfinity)) (scalar x 1.0) (scalar x 0.0))

    /// torch.isfinite: 1 where x is neither infinite nor NaN, else 0, in x's dtype; no derivative
    /// (NaN compares false, so |x| < ∞ is the test).
    let isFinite (x: Expr) =
        Expr.stopGradient (Expr.where (Expr.lt (Expr.abs x) (scalar x Double.PositiveInfinity)) (scalar x 1.0) (scalar x 0.0))

    /// torch.nan_to_num: NaN becomes `nan`, +∞ `posInf` and −∞ `negInf` (torch's defaults are 0 and
    /// the dtype's largest and lowest finite values, which the caller passes); the derivative is 1 at
    /// finite entries and 0 at the replaced ones, as torch's grad·isfinite(x).
    let nanToNum (nan: float) (posInf: float) (negInf: float) (x: Expr) =
        let infinity = scalar x Double.PositiveInfinity
        let replaced =
            Expr.where (Expr.ne x x) (scalar x nan)
                (Expr.where (Expr.eq x infinity) (scalar x posInf) (scalar x negInf))
        Expr.where (Expr.lt (Expr.abs x) infinity) x replaced

    /// torch's F.threshold: `value` where x <= threshold, else x; slope 0 at and below the threshold
    /// and 1 above it. NaN compares false, so it stays NaN with slope 1, as torch's kernel
    /// (x <= threshold ? value : x, in its scalar and vector loops) and threshold_backward have it
    /// (`fuzz all adversarial 48/135`: threshold(NaN, 0.5, 0) is NaN in torch).
    let threshold (threshold: float) (value: float) (x: Expr) =
        Expr.where (Expr.le x (scalar x threshold)) (scalar x value) x

    /// erfinv's value at |y| < 1 in float64 (y is |y|, so the root is ≥ 0): a closed-form first guess
    /// within a few parts in a thousand (x² ≈ √(b² − ln(1 − y²)/a) − b, b = 2/(πa) + ln(1 − y²)/2,
    /// a = 0.147), then Newton steps on erf(x) = y for y ≤ 1/2 and on erfc(x) = 1 − y above (1 − y
    /// exact there, and erfc keeps its digits in the tail, where erf(x) − y would cancel). Four steps
    /// from that guess reach float64's rounding (the error squares at each).
    let private erfinvMagnitude (y: Expr) =
        let a = 0.147
        let logTerm = Expr.log1p (-(y * y))
        let b = 2.0 / (Math.PI * a) + 0.5 * logTerm
        let guess = Expr.sqrt (Expr.sqrt (b * b - logTerm * (1.0 / a)) - b)
        let small = Expr.le y (scalar y 0.5)
        let tail = 1.0 - y
        let slope = 2.0 / Math.Sqrt Math.PI
        let mutable x = guess
        for _ in 1 .. 4 do
            let residual = Expr.where small (Expr.erf x - y) (tail - Expr.erfc x)
            x <- x - residual / (slope * Expr.exp (-(x * x)))
        x

    /// erfinv itself, for its rule, which must build erfinv again (set below, once erfinv exists).
    let mutable private erfinvOf: Expr -> Expr = fun _ -> invalidOp "erfinv is not initialised"

    /// erfinv's rule: its derivative is √π/2·e^(erfinv(y)²), read from the node itself, so every
    /// order follows (each derivative holds erfinv again).
    let private erfinvRule =
        CustomRules.register "erfinv" (fun y g -> g * (Math.Sqrt Math.PI / 2.0) * Expr.exp (Expr.square (erfinvOf y)))

    /// torch.erfinv: the x with erf(x) = y, ±∞ at ±1 and NaN outside [−1, 1]; computed in float64 and
    /// rounded once for float32 (see erfinvMagnitude), its derivative √π/2·e^(x²).
    let erfinv (y: Expr) : Expr =
        let wide = Expr.cast DType.Float64 y
        let magnitude = Expr.abs wide
        let one = Expr.scalar DType.Float64 1.0
        let inside = Expr.lt magnitude one
        // read only inside (−1, 1), so the guess's logarithms and the steps see no ±1, NaN or beyond
        let safe = Expr.where inside magnitude (Expr.scalar DType.Float64 0.5)
        let root = erfinvMagnitude (Expr.stopGradient safe)
        let signed = Expr.where (Expr.lt wide (Expr.scalar DType.Float64 0.0)) (-root) root
        let edge = Expr.where (Expr.eq magnitude one) (wide * Double.PositiveInfinity) (wide * Double.NaN)
        let value = Expr.cast y.DType (Expr.where inside signed edge)
        Expr.custom erfinvRule y value

    do erfinvOf <- erfinv
