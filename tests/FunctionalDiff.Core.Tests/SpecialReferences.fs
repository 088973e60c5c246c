/// Float64 references for the Bessel, erfcx and normal-distribution kernels, by other means than the kernels'
/// (which use Chebyshev series, a continued fraction and Newton steps): power series, asymptotic expansions, Simpson's
/// rule over an integral representation, and bisection. Accurate to about 1e-11 relative (erfcx's quadrature) or
/// better (the Bessel series): the float32 sweeps read them; float64 accuracy is checked against mpmath's values.
module FunctionalDiff.Core.Tests.SpecialReferences

open System

/// Σₖ (x²/4)ᵏ/(k!(k+ν)!), times (x/2)^ν, for ν = 0 or 1: I_ν(x), every term positive, so nothing cancels.
let private besselSeries (order: int) (x: float) =
    let q = x * x / 4.0
    let mutable term = if order = 0 then 1.0 else x / 2.0
    let mutable sum = term
    let mutable k = 0
    while abs term > 1e-18 * abs sum && k < 500 do
        k <- k + 1
        term <- term * q / (float k * float (k + order))
        sum <- sum + term
    sum

/// √(2πa)·e^−a·I_ν(a) by the asymptotic expansion Σ (−1)ᵏ aₖ(ν)/aᵏ, aₖ(ν) = Π_{j≤k} (4ν² − (2j−1)²)/(k!·8ᵏ), summed
/// while its terms shrink: from a = 25 on its smallest term is below e^−50.
let private besselAsymptotic (order: int) (a: float) =
    let mu = 4.0 * float (order * order)
    let mutable term = 1.0
    let mutable sum = 1.0
    let mutable k = 0
    let mutable shrinking = true
    while shrinking && k < 100 do
        k <- k + 1
        let next = -term * (mu - float ((2 * k - 1) * (2 * k - 1))) / (float k * 8.0 * a)
        if abs next >= abs term then shrinking <- false
        else
            term <- next
            sum <- sum + term
    sum

let private seriesBound = 25.0

/// e^−|x| I_ν(|x|).
let private scaledMagnitude (order: int) (a: float) =
    if a < seriesBound then Math.Exp(-a) * besselSeries order a else besselAsymptotic order a / Math.Sqrt(2.0 * Math.PI * a)

/// I_ν(|x|), e^a applied in two halves where it alone would overflow; +∞ at +∞, the limit.
let private plainMagnitude (order: int) (a: float) =
    if a < seriesBound then besselSeries order a
    elif Double.IsPositiveInfinity a then a
    else
        let half = Math.Exp(0.5 * a)
        half * (besselAsymptotic order a / Math.Sqrt(2.0 * Math.PI * a)) * half

let private odd (x: float) (magnitude: float) = if x < 0.0 then -magnitude else magnitude

let i0 (x: float) = if Double.IsNaN x then x else plainMagnitude 0 (abs x)
let i0e (x: float) = if Double.IsNaN x then x else scaledMagnitude 0 (abs x)
let i1 (x: float) = if Double.IsNaN x then x else odd x (plainMagnitude 1 (abs x))
let i1e (x: float) = if Double.IsNaN x then x else odd x (scaledMagnitude 1 (abs x))

/// erfcx(x) = (2/√π)∫₀^∞ e^(−t² − 2xt) dt for x ≥ 0 (erfc's integral from x, shifted to 0 and scaled by e^{x²}); with
/// t = s/(1 + 2x) the integrand falls at least like e^(−s·2x/(1 + 2x)) or e^(−s²), so Simpson's rule over s in [0, 40]
/// with steps of 0.005 keeps its error near 1e-12. The asymptotic series 1/(x√π)·(1 − 1/(2x²) + 3/(4x⁴)) above 1000.
let rec erfcx (x: float) =
    if Double.IsNaN x then x
    elif x < 0.0 then
        let square = x * x
        if Double.IsPositiveInfinity square then infinity else 2.0 * Math.Exp square - erfcx (-x)
    elif x > 1000.0 then
        let inverseSquare = 1.0 / (x * x)
        1.0 / (x * Math.Sqrt Math.PI) * (1.0 - 0.5 * inverseSquare + 0.75 * inverseSquare * inverseSquare)
    else
        let c = 1.0 / (1.0 + 2.0 * x)
        let f (s: float) = let t = s * c in Math.Exp(-t * t - 2.0 * x * t)
        let steps = 8000
        let h = 40.0 / float steps
        let mutable sum = f 0.0 + f 40.0
        for i in 1 .. steps - 1 do
            sum <- sum + (if i % 2 = 1 then 4.0 else 2.0) * f (float i * h)
        sum * h / 3.0 * c * 2.0 / Math.Sqrt Math.PI

/// Φ(x) = erfcx(−x/√2)·e^{−x²/2}/2 below 0 and 1 − Φ(−x) above.
let rec ndtr (x: float) =
    if Double.IsNaN x then x
    elif x > 0.0 then 1.0 - ndtr (-x)
    else 0.5 * erfcx (-x / Math.Sqrt 2.0) * Math.Exp(-0.5 * x * x)

/// log Φ(x): log(erfcx(−x/√2)/2) − x²/2 below 0; log(1 − q) with q = Φ(−x) above, by its series where q is tiny.
let logNdtr (x: float) =
    if Double.IsNaN x then x
    elif x < 0.0 then Math.Log(0.5 * erfcx (-x / Math.Sqrt 2.0)) - 0.5 * x * x
    else
        let q = ndtr (-x)
        if q < 1e-8 then -q - 0.5 * q * q else Math.Log(1.0 - q)

/// Φ⁻¹(p) by bisection of Φ over [−40, 0] (80 halvings) for p < 1/2, mirrored above; 0 at 1/2.
let ndtri (p: float) =
    let lowerRoot (q: float) =
        let mutable low = -40.0
        let mutable high = 0.0
        for _ in 1 .. 80 do
            let middle = 0.5 * (low + high)
            if ndtr middle < q then low <- middle else high <- middle
        0.5 * (low + high)
    if Double.IsNaN p || p < 0.0 || p > 1.0 then nan
    elif p = 0.0 then -infinity
    elif p = 1.0 then infinity
    // the bisection's resolution is 40·2^−80, so the root 0 itself is set apart
    elif p = 0.5 then 0.0
    elif p < 0.5 then lowerRoot p
    else -(lowerRoot (1.0 - p))

// The Bessel functions J, Y and K of orders 0 and 1, by other means than the kernels' (Chebyshev series and the Hankel
// form's P ± Q): their power series summed in decimal (28 digits, so the alternating terms of J and Y, up to e^25 times
// the sum, and K's cancellation against I, up to 1e14 at 17, leave more than float64's digits), with the logarithm in
// decimal too (in float64 its rounding, times I/K, cost K₀(12.4) six digits); Hankel's asymptotic expansions from 25
// (J, Y) and 17 (K) on, whose smallest terms are below e^−2x.

let private eulerGammaDecimal = 0.5772156649015328606065120901m
let private piDecimal = 3.1415926535897932384626433833m

let private toDecimal (x: float) = Decimal.Parse(x.ToString "R", Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture)

/// ln y in decimal for y in [1e-7, 100]: halved or doubled into [1/2, 2] (counting ln 2's), then 2·atanh((y−1)/(y+1)) by
/// its series, whose ratio is at most 1/9.
let private decimalLog (y: decimal) =
    let ln2 = 0.6931471805599453094172321215m
    let mutable m = y
    let mutable twos = 0m
    while m > 2m do
        m <- m / 2m
        twos <- twos + 1m
    while m < 0.5m do
        m <- m * 2m
        twos <- twos - 1m
    let z = (m - 1m) / (m + 1m)
    let square = z * z
    let mutable power = z
    let mutable sum = 0m
    let mutable k = 0
    while power <> 0m && k < 100 do
        sum <- sum + power / decimal (2 * k + 1)
        power <- power * square
        k <- k + 1
    twos * ln2 + 2m * sum

/// The series of order ν (0 or 1) for q = x²/4 with alternating (J, Y) or positive (I, K) signs, as three sums:
/// Σ sᵏ qᵏ/(k!(k+ν)!), Σ sᵏ Hₖ qᵏ/(k!(k+ν)!) and Σ sᵏ (Hₖ + Hₖ₊ν) qᵏ/(k!(k+ν)!), Hₖ the harmonic numbers.
let private decimalSeries (order: int) (alternating: bool) (x: float) =
    let q = toDecimal x * toDecimal x / 4m
    let mutable term = if order = 0 then 1m else 1m
    let mutable plain = term
    let mutable harmonic = 0m
    let mutable paired = if order = 0 then 0m else term * 1m
    let mutable h = 0m
    let mutable k = 0
    while k < 200 && (k < 5 || abs term > 1e-27m * (1m + abs plain)) do
        k <- k + 1
        term <- term * q / decimal (k * (k + order))
        if alternating then term <- -term
        h <- h + 1m / decimal k
        plain <- plain + term
        harmonic <- harmonic + term * h
        paired <- paired + term * (h + (if order = 0 then h else h + 1m / decimal (k + 1)))
    plain, harmonic, paired

/// Hankel's sums P, Q of order ν for J and Y (alternating) or the one sum of K (positive), while the terms shrink:
/// aₖ(ν) = Π_{j≤k} (4ν² − (2j−1)²)/(k!·8ᵏ xᵏ).
let private hankelTerms (order: int) (x: float) =
    let mu = 4.0 * float (order * order)
    let terms = Collections.Generic.List<float>([ 1.0 ])
    let mutable term = 1.0
    let mutable shrinking = true
    let mutable k = 0
    while shrinking && k < 200 do
        k <- k + 1
        let next = term * (mu - float ((2 * k - 1) * (2 * k - 1))) / (float k * 8.0 * x)
        if abs next >= abs term then shrinking <- false
        else
            term <- next
            terms.Add term
    terms

/// J_ν(x) and Y_ν(x) for x ≥ 25: √(2/(πx))·(P cos χ − Q sin χ) and (P sin χ + Q cos χ), χ = x − (ν/2 + 1/4)π, with
/// cos χ and sin χ from cos x and sin x (exact angle sums).
let private hankel (order: int) (x: float) =
    let terms = hankelTerms order x
    let mutable p = 0.0
    let mutable q = 0.0
    for k in 0 .. terms.Count - 1 do
        let signed = if (k / 2) % 2 = 0 then terms.[k] else -terms.[k]
        if k % 2 = 0 then p <- p + signed else q <- q + signed
    let c, s = Math.Cos x, Math.Sin x
    let root = 1.0 / Math.Sqrt 2.0
    let cosChi, sinChi = if order = 0 then (c + s) * root, (s - c) * root else (s - c) * root, -(s + c) * root
    let scale = Math.Sqrt(2.0 / Math.PI) / Math.Sqrt x
    scale * (p * cosChi - q * sinChi), scale * (p * sinChi + q * cosChi)

let private hankelBound = 25.0

let private jMagnitude (order: int) (a: float) =
    if a >= hankelBound then fst (hankel order a)
    else
        let plain, _, _ = decimalSeries order true a
        if order = 0 then float plain else float (plain * toDecimal a / 2m)

/// (2/π)(ln(x/2) + γ)·J₀ − (2/π)Σ (−1)ᵏ Hₖ qᵏ/(k!)², and −2/(πx) + (2/π) ln(x/2)·J₁ − (x/2π)Σ (−1)ᵏ (ψ(k+1) + ψ(k+2)) qᵏ/(k!(k+1)!).
let private ySeries (order: int) (x: float) =
    let plain, harmonic, paired = decimalSeries order true x
    let logHalf = decimalLog (toDecimal x / 2m)
    let dx = toDecimal x
    if order = 0 then float (2m / piDecimal * ((logHalf + eulerGammaDecimal) * plain - harmonic))
    else
        // ψ(k+1) + ψ(k+2) = Hₖ + Hₖ₊₁ − 2γ
        let digammas = paired - 2m * eulerGammaDecimal * plain
        float (-2m / (piDecimal * dx) + 2m / piDecimal * logHalf * plain * dx / 2m - dx / (2m * piDecimal) * digammas)

let private kSeries (order: int) (x: float) =
    let plain, harmonic, paired = decimalSeries order false x
    let logHalf = decimalLog (toDecimal x / 2m)
    let dx = toDecimal x
    if order = 0 then float (-(logHalf + eulerGammaDecimal) * plain + harmonic)
    else float (1m / dx + logHalf * plain * dx / 2m - dx / 4m * (paired - 2m * eulerGammaDecimal * plain))

/// √(π/(2x))·Σ aₖ(ν): eˣK_ν(x) for x ≥ 17.
let private kHankel (order: int) (x: float) = Math.Sqrt(Math.PI / (2.0 * x)) * Seq.sum (hankelTerms order x)

let private kBound = 17.0
/// Below this the leading terms: the next ones are below 1e-12 of them.
let private tiny = 1e-6

let besselJ0 (x: float) = if Double.IsNaN x then x elif Double.IsInfinity x then 0.0 elif abs x < tiny then 1.0 - x * x / 4.0 else jMagnitude 0 (abs x)
let besselJ1 (x: float) = if Double.IsNaN x then x elif Double.IsInfinity x then 0.0 elif abs x < tiny then x / 2.0 else odd x (jMagnitude 1 (abs x))

/// The value outside x > 0 and at the ends, as torch (NaN below 0, `atZero` at ±0) and the limits at +∞ (0).
let private positiveDomain (atZero: float) (f: float -> float) (x: float) =
    if Double.IsNaN x then x
    elif x = 0.0 then atZero
    elif x < 0.0 then nan
    elif Double.IsPositiveInfinity x then 0.0
    else f x

let besselY0 = positiveDomain -infinity (fun x ->
    if x < tiny then 2.0 / Math.PI * (Math.Log(x / 2.0) + 0.5772156649015329)
    elif x >= hankelBound then snd (hankel 0 x) else ySeries 0 x)
let besselY1 = positiveDomain -infinity (fun x ->
    if x < tiny then -2.0 / (Math.PI * x) elif x >= hankelBound then snd (hankel 1 x) else ySeries 1 x)
let modifiedBesselK0 = positiveDomain infinity (fun x ->
    if x < tiny then -(Math.Log(x / 2.0) + 0.5772156649015329)
    elif x >= kBound then (let half = Math.Exp(-0.5 * x) in kHankel 0 x * half * half) else kSeries 0 x)
let modifiedBesselK1 = positiveDomain infinity (fun x ->
    if x < tiny then 1.0 / x elif x >= kBound then (let half = Math.Exp(-0.5 * x) in kHankel 1 x * half * half) else kSeries 1 x)
let scaledModifiedBesselK0 = positiveDomain infinity (fun x ->
    if x < tiny then Math.Exp x * -(Math.Log(x / 2.0) + 0.5772156649015329) elif x >= kBound then kHankel 0 x else Math.Exp x * kSeries 0 x)
let scaledModifiedBesselK1 = positiveDomain infinity (fun x ->
    if x < tiny then Math.Exp x / x elif x >= kBound then kHankel 1 x else Math.Exp x * kSeries 1 x)
