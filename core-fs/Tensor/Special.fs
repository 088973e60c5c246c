/// Special: scalar float64 functions that .NET lacks or computes inaccurately (generic math's
/// LogP1 and ExpM1 are log(1+x) and exp(x)-1, which lose every digit near 0). Float32 kernels
/// evaluate them in float64 and round once, so they are accurate to the dtype.
namespace FunctionalDiff.Core

open System

/// Accurate scalar special functions.
module internal Special =

    /// log(1+x) accurate near 0: the rounding of 1+x is undone by rescaling with the exact ratio
    /// x/(u-1) (Goldberg, "What every computer scientist should know…", theorem 4). The ratio, which is
    /// about 1, is formed first: log(u)·x overflowed for x above about 2.5e305 (log1p(8.2e307) was +∞
    /// where it is 709.0, `fuzz adversarial 26/100`).
    let log1p (x: float) =
        let u = 1.0 + x
        if u = 1.0 then x
        elif Double.IsPositiveInfinity u then u
        else Math.Log u * (x / (u - 1.0))

    /// log(1 + e^x) (softplus), each side of 0 from the form that neither overflows nor cancels:
    /// x + log1p(e^-x) above 0, log1p(e^x) elsewhere (NaN included).
    let softplus (x: float) = if x > 0.0 then x + log1p (Math.Exp -x) else log1p (Math.Exp x)

    /// σ'(x) = σ(x)·σ(−x) = e^−|x| / (1 + e^−|x|)², from the side where e^−|x| neither overflows nor
    /// cancels: accurate to a few ulp everywhere, down to where it underflows (σ(x)(1 − σ(x)) loses
    /// every digit for large x, where 1 − σ(x) rounds). Even, so ±0 give 1/4; NaN stays NaN.
    let sigmoidSlope (x: float) =
        let e = Math.Exp(-(abs x))
        e / ((1.0 + e) * (1.0 + e))

    /// tanh's slope (1 − y)(1 + y) at y = tanh x (see Elementwise's slopeSpan): exactly 0 where y is ±1, the slope
    /// of tanh as computed. Even; NaN stays NaN.
    let tanhSlope (x: float) =
        let y = Math.Tanh x
        (1.0 - y) * (1.0 + y)

    /// exp(x)-1 accurate near 0, by Kahan's correction of the rounded exp with x/log(u). Above 1 there is
    /// no cancellation to correct, and the product (u - 1)·x would overflow before u does.
    let expm1 (x: float) =
        let u = Math.Exp x
        if u = 1.0 then x
        elif Double.IsPositiveInfinity u then u
        else
            let um1 = u - 1.0
            if um1 = -1.0 then -1.0 elif x > 1.0 then um1 else um1 * x / Math.Log u

    /// exp(-x²) with the rounding error of x² corrected, which matters when x² is large.
    let private expNegSquare (x: float) =
        let square = x * x
        let error = Math.FusedMultiplyAdd(x, x, -square)
        Math.Exp(-square) * (1.0 - error)

    let private twoOverSqrtPi = 1.1283791670955126
    let private oneOverSqrtPi = 0.5641895835477563

    /// The denominator of the Laplace continued fraction for x ≥ 3,
    /// erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))), evaluated bottom-up.
    /// At x = 3 the fraction has converged to double precision well before 80 levels.
    let private laplaceFraction (x: float) =
        let mutable t = x
        for n in 80 .. -1 .. 1 do
            t <- x + (float n * 0.5) / t
        t

    /// erfc(x) for x ≥ 3 from the Laplace continued fraction.
    let private erfcTail (x: float) = expNegSquare x * oneOverSqrtPi / laplaceFraction x

    /// Chebyshev coefficients of erf(√u)/√u over u in [0, 9] (|x| up to 3), computed for this library
    /// at 50 digits from the Chebyshev nodes of degree 60 and cut where they fall below 1e-19; in
    /// float64, erf x = x·f(x²) from them is within 6e-16 relative of erf over the whole range.
    let internal erfChebyshev =
        [| 1.1707705335092482; -0.3466992049625061; 0.129166206117051; -0.046075073389869964
           0.015042247941481176; -0.0044483938798125944; 0.0011916693524238755; -0.00029026598557543447
           6.461049130121246e-05; -1.321217301761311e-05; 2.4948363733977416e-06; -4.371175248891867e-07
           7.137877842447986e-08; -1.0907226573244285e-08; 1.565436898785035e-09; -2.1173350965226992e-10
           2.7070883035230843e-11; -3.2808242093745047e-12; 3.7786419155882836e-13; -4.145456177743202e-14
           4.341317254725595e-15; -4.3484881789879085e-16; 4.173607952027684e-17; -3.844780531767213e-18
           3.4048262253123365e-19 |]

    /// Σ' cₖ Tₖ(t) over Chebyshev coefficients, the first halved, by Clenshaw's recurrence.
    let internal chebyshevSeries (c: float[]) (t: float) =
        let t2 = t + t
        let mutable b1 = 0.0
        let mutable b2 = 0.0
        for k in c.Length - 1 .. -1 .. 1 do
            // one fused multiply-add on the recurrence's dependency chain (c - b2 is ready a step
            // early): a product, a sum and a difference in a row made erf's vector kernel wait on
            // three latencies per term
            let b0 = Math.FusedMultiplyAdd(t2, b1, c.[k] - b2)
            b2 <- b1
            b1 <- b0
        0.5 * c.[0] + t * b1 - b2

    /// erf x for |x| < 3 as x·f(x²), f by Clenshaw's recurrence over erfChebyshev with t = 2x²/9 − 1:
    /// every operation in chebyshevSeries' order, as the vector kernel (Elementwise) does it lane by lane, so
    /// both give the same bits. A fixed cost per element, where the series it replaced took up to
    /// 120 terms with a division each near 3.
    let erfSmall (x: float) = x * chebyshevSeries erfChebyshev (x * x * (2.0 / 9.0) - 1.0)

    /// The f of erfChebyshev for float32 results, in powers of t = 2x²/9 − 1: f = Σ aⱼ tʲ. Horner's
    /// rule then takes one fused multiply-add per term, where Clenshaw's recurrence takes two
    /// operations on its dependency chain, and the series stops after 19 terms: the ones left out
    /// add up to 5e-14, about 1e-13 of f (f ≥ 1/3), a six-hundredth of float32's half ulp. The aⱼ are
    /// summed from the Chebyshev coefficients in decimal (28 digits) and rounded once. Changing
    /// basis costs digits only as far as Σ |cₖ|·|Tₖ|'s coefficients exceed f, and the cₖ fall faster
    /// than those grow (by less than 2.5 per degree), so that costs a few units in the 16th digit.
    let internal erfPowers =
        let c = Array.truncate 19 erfChebyshev
        // the power coefficients of T₀ … Tₙ₋₁ (integers, exact in decimal): T_{k+1} = 2t·T_k − T_{k−1}
        let n = c.Length
        let chebyshev = Array.init n (fun _ -> Array.zeroCreate<decimal> n)
        chebyshev.[0].[0] <- 1m
        if n > 1 then chebyshev.[1].[1] <- 1m
        for k in 1 .. n - 2 do
            for j in 0 .. n - 1 do
                let shifted = if j > 0 then 2m * chebyshev.[k].[j - 1] else 0m
                chebyshev.[k + 1].[j] <- shifted - chebyshev.[k - 1].[j]
        // through the round-trip string: decimal's conversion from a double keeps 15 digits only
        let exact (v: float) = Decimal.Parse(v.ToString "R", Globalization.NumberStyles.Float, Globalization.CultureInfo.InvariantCulture)
        Array.init n (fun j ->
            let mutable sum = 0.5m * exact c.[0] * chebyshev.[0].[j]
            for k in 1 .. n - 1 do sum <- sum + exact c.[k] * chebyshev.[k].[j]
            float sum)

    /// erf x for |x| < 3 as x·f(x²), f by Horner's rule over erfPowers: every operation in this
    /// order, as the float32 path's vector kernel does it lane by lane.
    let erfSmallByPowers (x: float) =
        let a = erfPowers
        let t = x * x * (2.0 / 9.0) - 1.0
        let mutable p = a.[a.Length - 1]
        for j in a.Length - 2 .. -1 .. 0 do
            p <- Math.FusedMultiplyAdd(p, t, a.[j])
        x * p

    /// The error function, to about 1e-15 relative error: the Chebyshev form (erfSmall) below 3,
    /// and from 3 on 1 - erfc x with the continued fraction.
    let erf (x: float) =
        if Double.IsNaN x then x
        else
            let a = abs x
            if a < 3.0 then erfSmall x
            else
                let magnitude = if a >= 6.0 then 1.0 else 1.0 - erfcTail a
                if x < 0.0 then -magnitude else magnitude

    /// a^b as the tensor kernels compute it: √a for b = 0.5, 1/√a for b = −0.5, (a·a)·a for b = 3
    /// and 1/(a·a) for b = −2, as torch's pow kernel does (so (−0)^0.5 is −0, (−∞)^0.5 NaN and
    /// (−0)^−0.5 −∞, where IEEE pow gives +0, +∞ and +∞), Math.Pow otherwise.
    let pow (a: float) (b: float) =
        if b = 0.5 then Math.Sqrt a
        elif b = -0.5 then 1.0 / Math.Sqrt a
        elif b = 3.0 then a * a * a
        elif b = -2.0 then 1.0 / (a * a)
        else Math.Pow(a, b)

    /// -1, 0 or 1 by the sign of x: 0 for both zeros and for NaN, as torch.sign computes it
    /// ((0 < x) - (x < 0)); NumPy would give NaN.
    let sign (x: float) =
        if x > 0.0 then 1.0 elif x < 0.0 then -1.0 else 0.0


    /// sin(πx) and tan(πx) from the offset of x to its nearest integer, so no digit of x is
    /// lost to rounding π·x (sin(π·1e6) is exactly 0, not 1e-10).
    let private nearestOffset (x: float) = x - Math.Round x
    let private sinPi (x: float) = let r = nearestOffset x in (if Math.Round x % 2.0 = 0.0 then 1.0 else -1.0) * Math.Sin(Math.PI * r)
    let private tanPi (x: float) = Math.Tan(Math.PI * nearestOffset x)
    /// cot(πx), exactly 0 at the half-integers: past a quarter, cot(πr) is tan(π(½ − |r|)) with ½ − |r| exact.
    let private cotPi (x: float) =
        let r = nearestOffset x
        if abs r > 0.25 then float (Math.Sign r) * Math.Tan(Math.PI * (0.5 - abs r)) else 1.0 / Math.Tan(Math.PI * r)

    /// log Γ(a) − ((a − ½)·ln a − a + ½·ln 2π) for a ≥ 10: the tail of Stirling's series to the a^-13 term, whose
    /// next term is below 1e-17. Kept apart from the leading terms for whoever must cancel those exactly (the
    /// incomplete gamma functions' x^a·e^−x/Γ(a) at large a).
    let internal stirlingCorrection (a: float) =
        let inverse = 1.0 / a
        let z = inverse * inverse
        inverse * (1.0 / 12.0 + z * (-1.0 / 360.0 + z * (1.0 / 1260.0 + z * (-1.0 / 1680.0 + z * (1.0 / 1188.0 + z * (-691.0 / 360360.0 + z * (1.0 / 156.0)))))))

    /// log Γ(x) for x ≥ 10: Stirling's series (see stirlingCorrection).
    let private stirling (a: float) =
        (a - 0.5) * Math.Log a - a + 0.9189385332046728 + stirlingCorrection a

    /// ψ(x), the derivative of log Γ, as torch.digamma: -inf at +0 (+inf at -0), NaN at the
    /// negative integers. The recurrence ψ(x) = ψ(x+1) - 1/x moves x to 10 or more, where the
    /// asymptotic series ln a - 1/(2a) - Σ B₂ₖ/(2k a²ᵏ) to k = 7 is exact to double precision;
    /// negative x reflects: ψ(x) = ψ(1-x) - π/tan(πx).
    let rec digamma (x: float) =
        if Double.IsNaN x then x
        elif x = 0.0 then (if 1.0 / x < 0.0 then Double.PositiveInfinity else Double.NegativeInfinity)
        elif Double.IsPositiveInfinity x then x
        elif x < 0.0 then
            if x = Math.Floor x then Double.NaN else digamma (1.0 - x) - Math.PI / tanPi x
        else
            let mutable a = x
            let mutable shift = 0.0
            while a < 10.0 do
                shift <- shift - 1.0 / a
                a <- a + 1.0
            let z = 1.0 / (a * a)
            let series = z * (1.0 / 12.0 - z * (1.0 / 120.0 - z * (1.0 / 252.0 - z * (1.0 / 240.0 - z * (1.0 / 132.0 - z * (691.0 / 32760.0 - z / 12.0))))))
            shift + Math.Log a - 0.5 / a - series

    /// B₂, B₄, …, B₂₀ divided by (2j)!: the coefficients of the Euler-Maclaurin tail below.
    let private bernoulliOverFactorial =
        let numbers = [| 1.0 / 6.0; -1.0 / 30.0; 1.0 / 42.0; -1.0 / 30.0; 5.0 / 66.0; -691.0 / 2730.0; 7.0 / 6.0
                         -3617.0 / 510.0; 43867.0 / 798.0; -174611.0 / 330.0 |]
        numbers |> Array.mapi (fun i b -> b / Array.fold (fun f k -> f * float k) 1.0 [| 1 .. 2 * (i + 1) |])

    /// Σₖ≥₀ (a + k)^-s for a ≥ 20 + s, by Euler-Maclaurin: a^(1−s)/(s − 1) + a^-s/2 + Σⱼ B₂ⱼ/(2j)!·s(s+1)⋯(s+2j−2)·
    /// a^(−s−2j+1), ten Bernoulli terms, each at most ((s + 2j)/(2πa))² ≤ 0.03 of the one before.
    let private eulerMaclaurinTail (power: float) (a: float) =
        let mutable tail = Math.Pow(a, 1.0 - power) / (power - 1.0) + 0.5 * Math.Pow(a, -power)
        // rising: s(s+1)⋯(s+2j-2) · a^(-s-2j+1)
        let mutable rising = power * Math.Pow(a, -power - 1.0)
        for j in 0 .. bernoulliOverFactorial.Length - 1 do
            tail <- tail + bernoulliOverFactorial.[j] * rising
            let m = power + 2.0 * float j
            rising <- rising * (m + 1.0) * (m + 2.0) / (a * a)
        tail

    /// The n-th derivative of cot at y as a polynomial in c = cot y: dⁿ/dyⁿ cot y = Pₙ(c) with P₀ = c and
    /// Pₖ₊₁ = −(1 + c²)·Pₖ′ (as cot′ = −(1 + cot²)). Every coefficient of Pₙ has the sign (−1)ⁿ and the powers one
    /// parity, so the sum cancels nothing. Only for the reflection below, a rare path: the coefficients are made per call.
    let private cotDerivative (n: int) (c: float) =
        let coefficients: float[] = Array.zeroCreate (n + 2)
        let derivative: float[] = Array.zeroCreate (n + 2)
        coefficients.[1] <- 1.0
        for _ in 1 .. n do
            for j in 0 .. n do
                derivative.[j] <- float (j + 1) * coefficients.[j + 1]
            derivative.[n + 1] <- 0.0
            for j in 0 .. n + 1 do
                coefficients.[j] <- -(derivative.[j] + (if j >= 2 then derivative.[j - 2] else 0.0))
        let mutable sum = 0.0
        for j in n + 1 .. -1 .. 0 do
            sum <- sum * c + coefficients.[j]
        sum

    /// Below this, summing ζ(s, q)'s terms up to the asymptotic range would take −q steps per element (torch's kernels
    /// take them, for minutes); ζ and ψ⁽ⁿ⁾ there come from the reflection instead.
    let private reflectionBelow = -1e7

    /// ζ(s, q) for an integer s ≥ 2 and q far below 0, not a pole, by the reflection of ψ⁽ⁿ⁾ = (−1)ⁿ⁺¹·n!·ζ(n + 1, ·):
    /// ψ⁽ⁿ⁾(q) = −πⁿ⁺¹·Pₙ(cot πq) + (−1)ⁿ·ψ⁽ⁿ⁾(1 − q) (cotDerivative), with cot πq from q's offset to its
    /// nearest integer (cotPi), so no digit is lost to π·q; 1 − q is far in the asymptotic range, where the
    /// Euler-Maclaurin tail is the whole sum. NaN past s = 101, where n! and Pₙ's coefficients overflow.
    let private hurwitzZetaReflected (s: int) (q: float) =
        if s > 101 then Double.NaN else
        let n = s - 1
        let factorial = Array.fold (fun f k -> f * float k) 1.0 [| 1 .. n |]
        let sign = if n % 2 = 1 then 1.0 else -1.0 // (−1)ⁿ⁺¹: ψ⁽ⁿ⁾ = sign·n!·ζ(n + 1, ·)
        let reflected = sign * factorial * eulerMaclaurinTail (float s) (1.0 - q)
        let psi = -(Math.PI ** float (n + 1)) * cotDerivative n (cotPi q) + (if n % 2 = 0 then reflected else -reflected)
        psi / (sign * factorial)

    /// The Hurwitz zeta function ζ(s, q) = Σₖ (q+k)^-s for an integer s ≥ 2: the first terms
    /// summed until q + k reaches 20 + s, the rest by Euler-Maclaurin with ten Bernoulli terms
    /// (each about (s+2j)²/(2π a)² ≤ 0.03 of the one before). +inf at the poles q = 0, -1, …, and NaN
    /// at -inf, which the poles approach without a limit (-inf is an integer to Math.Floor, not a pole).
    let private hurwitzZeta (s: int) (q: float) =
        if Double.IsNegativeInfinity q then Double.NaN
        elif q <= 0.0 && q = Math.Floor q then Double.PositiveInfinity
        elif q < reflectionBelow then hurwitzZetaReflected s q
        else
            let power = float s
            let start = 20.0 + power
            let mutable a = q
            let mutable sum = 0.0
            while a < start do
                sum <- sum + Math.Pow(a, -power)
                a <- a + 1.0
            sum + eulerMaclaurinTail power a

    /// The Hurwitz zeta function ζ(s, q) = Σₖ≥₀ (q + k)^-s for real s (torch.special.zeta), with torch's (Cephes's)
    /// edges, tested in its order (so a NaN s at a pole is +∞, as torch's): +∞ at s = 1, NaN below 1; for q ≤ 0, +∞ at
    /// the poles q = 0, −1, … (−∞ among them) and NaN for a non-integer s (a negative base to a fractional power). Then
    /// the limits torch does not take (it gives NaN): 0 at q = +∞, and q^-s's 0, 1 or +∞ at s = +∞. The terms are summed
    /// until q + k reaches 20 + s or they stop counting (below 1e-17 of the sum: for large s that is soon), the rest by
    /// eulerMaclaurinTail. Where q + k starts at 20 + s or more, the tail is the whole sum.
    let zeta (s: float) (q: float) =
        if s = 1.0 then Double.PositiveInfinity
        elif s < 1.0 then Double.NaN
        elif q <= 0.0 && q = Math.Floor q then Double.PositiveInfinity
        elif q <= 0.0 && s <> Math.Floor s then Double.NaN
        elif Double.IsNaN s || Double.IsNaN q then Double.NaN
        // s is an integer here (a fractional s at q ≤ 0 was NaN above)
        elif q < reflectionBelow then (if s <= 101.0 then hurwitzZetaReflected (int s) q else Double.NaN)
        elif Double.IsPositiveInfinity s then (if q < 1.0 then Double.PositiveInfinity elif q = 1.0 then 1.0 else 0.0)
        elif Double.IsPositiveInfinity q then 0.0
        else
            let start = 20.0 + s
            let mutable a = q
            let mutable sum = 0.0
            let mutable settled = false
            while a < start && not settled do
                let term = Math.Pow(a, -s)
                sum <- sum + term
                a <- a + 1.0
                // positive terms that fall: once one no longer changes the sum, the rest together change it by less
                // than the next few would (they fall at least geometrically here, a^-s with s·ln(1 + 1/a) large)
                settled <- a > 1.0 && term <= 1e-17 * sum && s >= 2.0 * a
            if settled then sum else sum + eulerMaclaurinTail s a

    /// (ζ(k) - 1)/k for k = 2 … 48, the coefficients of log Γ(2 + t) below: ζ(k) - 1 is ζ(k, 2).
    let private zetaMinusOneOverK = Array.init 47 (fun i -> let k = i + 2 in hurwitzZeta k 2.0 / float k)

    /// log Γ(2 + t) = (1 - γ)t + Σₖ₌₂ (-1)ᵏ (ζ(k) - 1)/k tᵏ for |t| ≤ 1/2, where the terms fall
    /// like 4⁻ᵏ. Being a series in t, it keeps full relative accuracy near the zeros of log Γ at
    /// 1 and 2, which differences of larger logarithms would lose (lgamma(1 + 1e-10) ≈ -5.8e-11).
    let private lgammaNearTwo (t: float) =
        let mutable sum = 0.0
        for i in zetaMinusOneOverK.Length - 1 .. -1 .. 0 do
            sum <- zetaMinusOneOverK.[i] - t * sum
        t * (0.42278433509846713 + t * sum)

    /// log|Γ(x)|, as torch.lgamma: +inf at 0, the negative integers and ±inf. On [1/2, 5/2) a
    /// series about 2 (with log Γ(x) = log Γ(x + 1) - log x below 3/2); up to 10 the recurrence
    /// Γ(x) = Γ(x + n) / (x(x+1)⋯(x+n-1)) moves x up to Stirling's range; below 1/2 the
    /// reflection Γ(x)Γ(1-x) = π / sin(πx).
    let rec lgamma (x: float) =
        if Double.IsNaN x then x
        elif Double.IsInfinity x then Double.PositiveInfinity
        elif x <= 0.0 && x = Math.Floor x then Double.PositiveInfinity
        // near 0, log|Γ(x)| = −log|x| − γx + O(x²), whose x² term (π²/12·x²) is below the last bit from here down; the
        // reflection's π/|sin πx| overflowed to +∞ where sin πx is subnormal (`fuzz all adversarial 44/210`: x = −1e-310,
        // log Γ about 713.8, torch's too)
        elif abs x < 1e-10 then -Math.Log(abs x) - 0.57721566490153286 * x
        elif x < 0.5 then Math.Log(Math.PI / abs (sinPi x)) - lgamma (1.0 - x)
        elif x < 1.5 then lgammaNearTwo (x - 1.0) - Math.Log x
        elif x < 2.5 then lgammaNearTwo (x - 2.0)
        elif x >= 10.0 then stirling x
        else
            let mutable a = x
            let mutable product = 1.0
            while a < 10.0 do
                product <- product * a
                a <- a + 1.0
            stirling a - Math.Log product

    /// log Γ(1 + a) without rounding 1 + a: for |a| < 1/2 as log Γ(2 + a) − log(1 + a), each a series in a, so a tiny a
    /// keeps its −γ·a (lgamma (1 + 1e-300) is 0).
    let lgamma1p (a: float) =
        if abs a < 0.5 then lgammaNearTwo a - log1p a else lgamma (1.0 + a)

    /// ψ⁽ⁿ⁾(x), the n-th derivative of ψ, as torch.polygamma: ψ for n = 0, and
    /// (-1)ⁿ⁺¹ n! ζ(n+1, x) for n ≥ 1 (by the reflection below -1e7, see hurwitzZetaReflected).
    let polygamma (n: int) (x: float) =
        if n = 0 then digamma x
        elif Double.IsNaN x then x
        else
            let factorial = Array.fold (fun f k -> f * float k) 1.0 [| 1 .. n |]
            (if n % 2 = 1 then 1.0 else -1.0) * factorial * hurwitzZeta (n + 1) x

    /// Chebyshev coefficients of erfcx(x) = e^{x²} erfc(x) over x in [0, 3] (t = 2x/3 − 1), computed for this
    /// library with mpmath at 50 digits from the Chebyshev nodes of degree 64 and cut where they fall below 1e-19
    /// (erfcx is at least 0.18 there, so the cut is below a thousandth of an ulp).
    let internal erfcxChebyshev =
        [| 0.882654419744951; -0.3611037988941115; 0.13277167362014608; -0.044862708199308335
           0.014133707475084892; -0.004193978072500207; 0.0011810312328946638; -0.00031745317048251454
           8.18244289446326e-05; -2.0300292708943793e-05; 4.862871519023685e-06; -1.127713959746334e-06
           2.537468326938191e-07; -5.5506840986573e-08; 1.1824399436760038e-08; -2.456708498483471e-09
           4.984858379595275e-10; -9.890047585903342e-11; 1.9207029420105047e-11; -3.654801757009907e-12
           6.820190337997702e-13; -1.2491430136666143e-13; 2.2471685711527893e-14; -3.973435322408724e-15
           6.910033524971459e-16; -1.1825894602158536e-16; 1.992810548116889e-17; -3.3082501193174873e-18
           5.413006833736407e-19 |]

    /// erfcx(x) for x ≥ 0 (NaN excluded): the Chebyshev series below 3, the Laplace continued fraction from 3
    /// on (1/(√π·t), which no exponential scales, so it keeps every digit up to +∞, where it is 0).
    let internal erfcxNonNegative (x: float) =
        if x < 3.0 then chebyshevSeries erfcxChebyshev (x * (2.0 / 3.0) - 1.0)
        else oneOverSqrtPi / laplaceFraction x

    /// e^{x²} with the rounding error of x² corrected (the counterpart of expNegSquare), +∞ once x² overflows.
    let private expSquare (x: float) =
        let square = x * x
        if Double.IsPositiveInfinity square then square
        else Math.Exp square * (1.0 + Math.FusedMultiplyAdd(x, x, -square))

    /// 1/n! for n = 13 … 0: Taylor's series of e^r on |r| ≤ ln2/2 stops at r^13/13!, the next term below 4e-18
    /// relative. Each is correctly rounded (the factorials are exact in float64).
    let internal expTaylor =
        let factorial n = Array.fold (fun f k -> f * float k) 1.0 [| 1 .. n |]
        [| for n in 13 .. -1 .. 0 -> 1.0 / factorial n |]

    /// ln 2 as the sum of two doubles (the second the rounding of what the first leaves), and log2(e).
    let internal ln2High = 0.6931471805599453
    let internal ln2Low = 2.3190468138462996e-17
    let internal log2e = 1.4426950408889634

    /// e^{−x²} for |x| < 26.5 (x² at most 708, so the result is a normal number): −x² = s + ε with s = x² rounded
    /// and ε its rounding error (a fused multiply-add gives it exactly), then s + ε = n·ln2 + r with ln2 in two
    /// parts and ε folded into r, so no digit of x² is lost however large it is; e^r by expTaylor in Horner's form,
    /// times 2^n (exact). These are the operations Elementwise's erfc kernels run lane by lane (where System.Math's
    /// exp would have no vector twin), so a tensor's entries have the bits each entry gets alone.
    let internal gaussian (x: float) =
        let square = x * x
        let error = Math.FusedMultiplyAdd(x, x, -square)
        let n = Math.Round(-square * log2e)
        let r = Math.FusedMultiplyAdd(n, -ln2Low, Math.FusedMultiplyAdd(n, -ln2High, -square)) - error
        let c = expTaylor
        let mutable p = c.[0]
        for k in 1 .. c.Length - 1 do
            p <- Math.FusedMultiplyAdd(p, r, c.[k])
        p * BitConverter.Int64BitsToDouble((int64 n + 1023L) <<< 52)

    /// Where erfc leaves 1 − erf x for erfcx(x)·e^{−x²}: above 1/2 erf x passes 0.52 while erfc x falls below 0.48,
    /// so the subtraction keeps erf's absolute error, which grows to thousands of ulp of erfc by 2.5; erfcx and
    /// e^{−x²} both keep their relative accuracy (about an ulp below 1/2 either way).
    let internal erfcSplit = 0.5

    /// erfc x on [1/2, 3) as erfcx(x)·e^{−x²}: both factors a few ulp at most (erfc 3 is 2e-5, which 1 − erf x
    /// got to five digits only).
    let internal erfcMiddle (x: float) = erfcxNonNegative x * gaussian x

    /// erfc x: 1 − erf x below 1/2 (erfc is at least 0.48 there, nothing cancels), erfcx(x)·e^{−x²} on [1/2, 3)
    /// (erfcMiddle), the continued fraction from 3 on, where 1 − erf x would keep no digit (erfc 6 is 2e-17). It
    /// underflows to 0 past 27.3 and is 2 at −∞.
    let erfc (x: float) =
        if Double.IsNaN x then x
        elif x >= 27.5 then 0.0
        elif x >= 3.0 then erfcTail x
        elif x >= erfcSplit then erfcMiddle x
        else 1.0 - erf x

    /// The scaled complementary error function erfcx(x) = e^{x²} erfc(x), as torch.special.erfcx: accurate far
    /// in the right tail, where erfc underflows (erfcx(x) ≈ 1/(x√π)), 0 at +∞; for x < 0 it is
    /// 2e^{x²} − erfcx(−x) (no cancellation: the first term is at least 2, the second at most 1), +∞ from
    /// x ≈ −26.7 on, where e^{x²} overflows.
    let erfcx (x: float) =
        if Double.IsNaN x then x
        elif x >= 0.0 then erfcxNonNegative x
        else 2.0 * expSquare x - erfcxNonNegative (-x)
