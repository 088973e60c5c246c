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
