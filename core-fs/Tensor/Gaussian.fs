/// Gaussian: the standard normal distribution's CDF Φ (ndtr), its logarithm and its inverse, in float64, each
/// accurate to a few ulp over the whole range, tails included, as torch.special's ndtr, log_ndtr and ndtri.
/// They all rest on erfcx: Φ(x) = erfcx(−x/√2)·e^{−x²/2}/2, whose factors neither underflow nor cancel early.
namespace FunctionalDiff.Core

open System

/// The standard normal distribution's CDF, log CDF and quantile function.
module internal Gaussian =

    let private inverseSqrtTwo = 0.7071067811865476
    let private sqrtTwoOverPi = 0.7978845608028654
    let private inverseSqrtTwoPi = 0.3989422804014327

    /// e^{−x²/2} with the rounding error of x² corrected (the error of x² matters once x² is large).
    let private halfGaussian (x: float) =
        let square = x * x
        if Double.IsPositiveInfinity square then 0.0
        else Math.Exp(-0.5 * square) * (1.0 - 0.5 * Math.FusedMultiplyAdd(x, x, -square))

    /// Φ(x) for x ≤ 0 (NaN excluded): erfcx(|x|/√2)·e^{−x²/2}/2. erfcx changes by at most its argument's relative
    /// error, so rounding x/√2 costs an ulp, where erfc(x/√2) costs x²/2 of them.
    let private lowerTail (x: float) = 0.5 * Special.erfcxNonNegative (-x * inverseSqrtTwo) * halfGaussian x

    /// Φ(x), the standard normal CDF (torch.special.ndtr): 0 at −∞, 1/2 at 0, 1 at +∞. Above 0 it is 1 − Φ(−x),
    /// which loses nothing there (the result is at least 1/2).
    let ndtr (x: float) =
        if Double.IsNaN x then x
        elif x <= 0.0 then lowerTail x
        else 1.0 - lowerTail (-x)

    /// log Φ(x) (torch.special.log_ndtr), accurate far in the left tail: below 0 it is log(erfcx(−x/√2)/2) − x²/2,
    /// a sum of two negative terms, so it is about −x²/2 where Φ underflows (−5000.9… at −100, where log of Φ is
    /// −∞); from 0 on log1p(−Φ(−x)), which keeps the tiny −Φ(−x) of the right tail. −∞ at −∞, 0 at +∞.
    let logNdtr (x: float) =
        if Double.IsNaN x then x
        elif x < 0.0 then Math.Log(0.5 * Special.erfcxNonNegative (-x * inverseSqrtTwo)) - 0.5 * (x * x)
        else Special.log1p (-(lowerTail (-x)))

    /// φ(x)/Φ(x), the slope of log Φ, for x ≤ 0 (NaN excluded): √(2/π)/erfcx(−x/√2), no ratio of underflowing
    /// numbers; about −x far in the left tail.
    let private logSlopeLower (x: float) = sqrtTwoOverPi / Special.erfcxNonNegative (-x * inverseSqrtTwo)

    /// Below this the root is found on log Φ, above it on Φ − 1/2: each residual's rounding moves the root by a few
    /// ulp on its side (on Φ − 1/2 towards 0.03 it was a dozen, as Φ − 1/2 nears −1/2 there and cancels).
    let private tailProbability = 0.2

    /// Newton steps from the first guess: its error squares at each, and four take a relative error of a few parts
    /// in a thousand (the first guess's worst) below float64's rounding.
    let private newtonSteps = 4

    /// Φ⁻¹(p), the standard normal quantile (torch.special.ndtri): −∞ at 0, +∞ at 1, NaN outside [0, 1].
    /// A first guess from Winitzki's closed form for erf⁻¹ (a = 0.147, within a few parts in a thousand), then
    /// Newton steps: for min(p, 1 − p) below 0.2 on log Φ(x) = log q (q = min(p, 1 − p), exact, the root
    /// negative, then mirrored), whose residual keeps its digits however small q is; above, on Φ(x) − 1/2 =
    /// p − 1/2 written as erf(x/√2)/2 = p − 1/2 (exact from p = 1/4 on), so the root keeps its relative accuracy
    /// near 1/2, where it is about (p − 1/2)·√(2π).
    let ndtri (p: float) =
        if Double.IsNaN p || p < 0.0 || p > 1.0 then Double.NaN
        elif p = 0.0 then Double.NegativeInfinity
        elif p = 1.0 then Double.PositiveInfinity
        else
            let upper = p > 0.5
            // 1 − p is exact above 1/2
            let q = if upper then 1.0 - p else p
            let tail = q < tailProbability
            let offset = q - 0.5
            // log(1 − y²) for y = erf(x/√2) = 2q − 1: 1 − y² is 4q(1 − q), whose logarithm keeps its digits in the
            // tail as a sum, and near the middle as log1p(−y²)
            let logOneMinusSquare = if tail then Math.Log(4.0 * q) + Special.log1p (-q) else Special.log1p (-4.0 * offset * offset)
            let a = 0.147
            let b = 2.0 / (Math.PI * a) + 0.5 * logOneMinusSquare
            let guess = -(Math.Sqrt 2.0 * Math.Sqrt(Math.Max(0.0, Math.Sqrt(b * b - logOneMinusSquare / a) - b)))
            let mutable x = guess
            if tail then
                let target = Math.Log q
                for _ in 1 .. newtonSteps do
                    x <- x - (logNdtr x - target) / logSlopeLower x
            else
                for _ in 1 .. newtonSteps do
                    x <- x - (0.5 * Special.erf (x * inverseSqrtTwo) - offset) / (inverseSqrtTwoPi * halfGaussian x)
            if upper then -x else x
