/// IncompleteGamma: the regularized incomplete gamma functions P(a, x) = γ(a, x)/Γ(a) and Q(a, x) = Γ(a, x)/Γ(a) =
/// 1 − P(a, x) (torch.special's gammainc and gammaincc), in float64. Each is computed from a form that gives it with
/// full relative accuracy where it is small, never as 1 minus a number near 1 that would have rounded it away: P by
/// its power series; Q by its continued fraction, or for small a and x by the series of 1 − P with the 1 cancelled
/// symbolically (−expm1); and for a ≥ 1e5, where both would take about √a terms, by Temme's uniform expansion.
namespace FunctionalDiff.Core

open System

/// The regularized lower and upper incomplete gamma functions.
module internal IncompleteGamma =

    /// ln λ − (λ − 1) for λ = x/a (x, a > 0), from t = (x − a)/a, without the cancellation near λ = 1: with
    /// u = t/(2 + t), ln(1 + t) = 2·atanh u, so ln(1 + t) − t = −t·u + 2(u³/3 + u⁵/5 + …), whose terms fall by u² < 1/9
    /// for |t| < 1/2. Elsewhere ln(x/a) − t, from the quotient itself: 1 + t would round away x/a's digits when x ≪ a.
    let private logRatioMinus (x: float) (a: float) (t: float) =
        if abs t < 0.5 then
            let u = t / (2.0 + t)
            let u2 = u * u
            let mutable sum = 0.0
            // 2u^(2k+1)/(2k+1) for k = 1 … 20, added from the smallest
            for k in 20 .. -1 .. 1 do
                sum <- sum * u2 + 2.0 / float (2 * k + 1)
            -t * u + sum * u * u2
        else Math.Log(x / a) - t

    /// x^a·e^−x/Γ(a + 1), the factor in front of P's series. For a < 10 as the product of its factors, each rounded once,
    /// e^−x as (e^−x/2)² applied one half at a time so that no factor underflows before the product must: the exponential
    /// of a·ln x − x − log Γ(a + 1) would carry the absolute rounding of a·ln x and x, 690 ulp of the result at
    /// x = 1e-300 or x = 700. From x = 1e30 on (where x^a could overflow, and the result is 0) in that form.
    /// For a ≥ 10 as exp(a·(log λ − (λ − 1)) − μ(a))·√(a/2π)/a with λ = x/a and μ Stirling's correction: a·ln x − x
    /// and log Γ(a) are each of size a·ln a, and their difference, formed directly, would keep only their absolute
    /// rounding.
    let private front (a: float) (x: float) =
        if a < 10.0 then
            if x < 1e30 then
                let half = Math.Exp(-0.5 * x)
                Math.Pow(x, a) * half * half / Math.Exp(Special.lgamma1p a)
            else Math.Exp(a * Math.Log x - x - Special.lgamma1p a)
        else
            let t = (x - a) / a
            Math.Exp(a * logRatioMinus x a t - Special.stirlingCorrection a) * Math.Sqrt(a / (2.0 * Math.PI)) / a

    /// P(a, x) by its power series x^a·e^−x/Γ(a + 1) · Σₙ xⁿ/((a + 1)⋯(a + n)), all of whose terms are positive. Used
    /// where x < a + 1 or x ≤ 1.5, so the terms soon fall (in about 9√a of them for x near a).
    let private lowerSeries (a: float) (x: float) =
        let mutable term = 1.0
        let mutable sum = 1.0
        let mutable n = 1.0
        while term > 1e-17 * sum do
            term <- term * x / (a + n)
            sum <- sum + term
            n <- n + 1.0
        front a x * sum

    /// Q(a, x) for a ≤ 1 and x ≤ 1.5 from 1 − P with P's series in powers of x, γ(a, x) = x^a·Σₖ (−x)ᵏ/(k!(a + k)):
    /// Q = −expm1(a·ln x − log Γ(1 + a)) − a·x^a/Γ(1 + a)·Σₖ≥₁ (−x)ᵏ/(k!(a + k)). The first term is 1 − x^a/Γ(1 + a)
    /// without its cancellation, so Q keeps its digits as a → 0, where Q ≈ a·E₁(x) and P is nearly 1.
    let private upperSmallSeries (a: float) (x: float) =
        let v = a * Math.Log x - Special.lgamma1p a
        let mutable power = 1.0
        let mutable sum = 0.0
        let mutable k = 1.0
        // (−x)ᵏ/k! falls below 1e-18 of the first term by k = 30 for x ≤ 1.5
        while k <= 30.0 do
            power <- power * -x / k
            sum <- sum + power / (a + k)
            k <- k + 1.0
        -(Special.expm1 v) - a * Math.Exp v * sum

    /// Q(a, x) for x ≥ a + 1 by the continued fraction of Γ(a, x)·eˣ·x^−a, 1/(x + 1 − a − 1·(1 − a)/(x + 3 − a −
    /// 2·(2 − a)/(x + 5 − a − …))), evaluated forwards (modified Lentz) until a step changes it by less than an ulp.
    let private upperFraction (a: float) (x: float) =
        let tiny = 1e-300
        let nonZero (v: float) = if v = 0.0 then tiny else v
        let mutable f = nonZero (x + 1.0 - a)
        let mutable c = f
        let mutable d = 0.0
        let mutable i = 1.0
        let mutable converged = false
        while not converged do
            let an = -i * (i - a)
            let b = x + 2.0 * i + 1.0 - a
            d <- 1.0 / nonZero (b + an * d)
            c <- nonZero (b + an / c)
            let delta = c * d
            f <- f * delta
            converged <- abs (delta - 1.0) < 1e-16 || i > 1e6
            i <- i + 1.0
        front a x * a / f

    /// Taylor coefficients about η = 0 of Temme's c₀(η) = 1/(λ − 1) − 1/η and c₁(η) = 1/η³ − 1/(λ − 1)³ − 1/(λ − 1)² −
    /// 1/(12(λ − 1)), computed for this library in exact rational arithmetic by reverting η²/2 = λ − 1 − ln λ (−1/3,
    /// 1/12, −2/135, …; −1/540, −1/288, 1/378, …). Their closed forms cancel near λ = 1, where these are used.
    let private c0Series =
        [| -0.3333333333333333; 0.08333333333333333; -0.014814814814814815; 0.0011574074074074073
           0.0003527336860670194; -0.0001787551440329218; 3.919263178522438e-05; -2.185448510679992e-06
           -1.85406221071516e-06; 8.296711340953087e-07; -1.7665952736826078e-07; 6.707853543401498e-09
           1.0261809784240309e-08; -4.382036018453353e-09; 9.14769958223679e-10; -2.5514193994946248e-11
           -5.830772132550426e-11 |]

    let private c1Series =
        [| -0.001851851851851852; -0.003472222222222222; 0.0026455026455026454; -0.0009902263374485596
           0.00020576131687242798; -4.018775720164609e-07; -1.8098550334489977e-05; 7.64916091608111e-06
           -1.6120900894563446e-06; 4.647127802807434e-09; 1.378633446915721e-07; -5.752545603517705e-08
           1.1951628599778148e-08; -1.7543241719747647e-11; -1.0091543710600413e-09 |]

    let private horner (c: float[]) (t: float) =
        let mutable sum = 0.0
        for k in c.Length - 1 .. -1 .. 0 do
            sum <- sum * t + c.[k]
        sum

    /// Temme's uniform expansion for large a (DLMF 8.12): with λ = x/a and η = sign(λ − 1)·√(2(λ − 1 − ln λ)),
    /// Q = Φ(−η√a) + R and P = Φ(η√a) − R, R = e^(−aη²/2)/√(2πa)·(c₀(η) + c₁(η)/a), whose next term is c₂/a² (below
    /// 1e-10 of R for the a ≥ 1e5 it is used at). Returns (P, Q).
    let private temme (a: float) (x: float) =
        let t = (x - a) / a
        let half = -(logRatioMinus x a t) // λ − 1 − ln λ = η²/2, at least 0
        let eta = (if t < 0.0 then -1.0 else 1.0) * Math.Sqrt(2.0 * half)
        let c0, c1 =
            if abs eta < 1.0 then horner c0Series eta, horner c1Series eta
            else
                let m = t
                1.0 / m - 1.0 / eta, 1.0 / (eta * eta * eta) - 1.0 / (m * m * m) - 1.0 / (m * m) - 1.0 / (12.0 * m)
        let r = Math.Exp(-a * half) / Math.Sqrt(2.0 * Math.PI * a) * (c0 + c1 / a)
        let root = eta * Math.Sqrt a
        struct (Gaussian.ndtr root - r, Gaussian.ndtr (-root) + r)

    /// Where a ≥ 1e5 Temme's expansion is used (see temme).
    let private large = 1e5

    /// (P, Q) away from the edges (a > 0 finite, x > 0 finite), each from its accurate form: the smaller of the two
    /// directly, the other as 1 minus it. Both lie in [0, 1]; the series' rounding could take one a bit beyond (P of a
    /// subnormal a at x = 1, about 1 − a·E₁(1), came out 1 + 2^-52 from the series).
    let private both (a: float) (x: float) =
        let struct (p, q) =
            if a >= large then temme a x
            elif x <= 1.5 && a <= 1.0 then
                let q = upperSmallSeries a x
                if q < 0.5 then struct (1.0 - q, q) else struct (lowerSeries a x, q)
            elif x < a + 1.0 then
                let p = lowerSeries a x
                struct (p, 1.0 - p)
            else
                let q = upperFraction a x
                struct (1.0 - q, q)
        struct (Math.Clamp(p, 0.0, 1.0), Math.Clamp(q, 0.0, 1.0))

    /// (P, Q) at the edges, torch's (SciPy's), tested in its order: NaN where x < 0 or a < 0; at a = 0, P = 1 for x > 0
    /// and NaN otherwise; P = 0 at x = 0; at a = +∞, NaN for x = +∞ and P = 0 otherwise; P = 1 at x = +∞. What passes
    /// those with a NaN is NaN. Q mirrors P (1 − P, NaN where P is). ValueNone away from the edges.
    let private edges (a: float) (x: float) : struct (float * float) voption =
        let pair (p: float) = ValueSome(struct (p, (if Double.IsNaN p then p else 1.0 - p)))
        if x < 0.0 || a < 0.0 then pair Double.NaN
        elif a = 0.0 then pair (if x > 0.0 then 1.0 else Double.NaN)
        elif x = 0.0 then pair 0.0
        elif Double.IsPositiveInfinity a then pair (if Double.IsPositiveInfinity x then Double.NaN else 0.0)
        elif Double.IsPositiveInfinity x then pair 1.0
        elif Double.IsNaN a || Double.IsNaN x then pair Double.NaN
        else ValueNone

    /// P(a, x) (torch.special.gammainc), with torch's edge values (see edges).
    let lower (a: float) (x: float) =
        let struct (p, _) = match edges a x with ValueSome pq -> pq | ValueNone -> both a x
        p

    /// Q(a, x) = 1 − P(a, x) (torch.special.gammaincc), with the edges mirrored (see edges).
    let upper (a: float) (x: float) =
        let struct (_, q) = match edges a x with ValueSome pq -> pq | ValueNone -> both a x
        q
