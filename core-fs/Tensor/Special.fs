/// Special: scalar float64 functions that .NET lacks or computes inaccurately (generic math's
/// LogP1 and ExpM1 are log(1+x) and exp(x)-1, which lose every digit near 0). Float32 kernels
/// evaluate them in float64 and round once, so they are accurate to the dtype.
namespace FunctionalDiff.Core

open System

/// Accurate scalar special functions.
module internal Special =

    /// log(1+x) accurate near 0: the rounding of 1+x is undone by rescaling with the exact ratio
    /// x/(u-1) (Goldberg, "What every computer scientist should know…", theorem 4).
    let log1p (x: float) =
        let u = 1.0 + x
        if u = 1.0 then x
        elif Double.IsPositiveInfinity u then u
        else Math.Log u * x / (u - 1.0)

    /// exp(x)-1 accurate near 0, by Kahan's correction of the rounded exp with x/log(u).
    let expm1 (x: float) =
        let u = Math.Exp x
        if u = 1.0 then x
        elif Double.IsPositiveInfinity u then u
        else
            let um1 = u - 1.0
            if um1 = -1.0 then -1.0 else um1 * x / Math.Log u

    /// exp(-x²) with the rounding error of x² corrected, which matters when x² is large.
    let private expNegSquare (x: float) =
        let square = x * x
        let error = Math.FusedMultiplyAdd(x, x, -square)
        Math.Exp(-square) * (1.0 - error)

    let private twoOverSqrtPi = 1.1283791670955126
    let private oneOverSqrtPi = 0.5641895835477563

    /// erfc(x) for x ≥ 3 from the Laplace continued fraction
    /// erfc x = e^{-x²}/√π · 1/(x + (1/2)/(x + (2/2)/(x + (3/2)/(x + …)))), evaluated bottom-up.
    /// At x = 3 the fraction has converged to double precision well before 80 levels.
    let private erfcTail (x: float) =
        let mutable t = x
        for n in 80 .. -1 .. 1 do
            t <- x + (float n * 0.5) / t
        expNegSquare x * oneOverSqrtPi / t

    /// The error function, to about 1e-15 relative error. Below 3 it sums the series
    /// erf x = 2/√π · e^{-x²} · Σ 2ⁿ x^{2n+1} / (1·3·…·(2n+1)), whose terms are all positive,
    /// so nothing cancels; from 3 on it uses 1 - erfc x with the continued fraction.
    let erf (x: float) =
        if Double.IsNaN x then x
        else
            let a = abs x
            let magnitude =
                if a >= 6.0 then 1.0
                elif a >= 3.0 then 1.0 - erfcTail a
                else
                    let square = a * a
                    let mutable term = a
                    let mutable sum = a
                    let mutable n = 0
                    // terms grow while 2a²/(2n+3) > 1, then fall geometrically; 120 bounds a = 3
                    while n < 120 && term > sum * 1e-17 do
                        n <- n + 1
                        term <- term * 2.0 * square / float (2 * n + 1)
                        sum <- sum + term
                    twoOverSqrtPi * expNegSquare a * sum
            if x < 0.0 then -magnitude else magnitude

    /// -1, 0 or 1 by the sign of x: 0 for both zeros and for NaN, as torch.sign computes it
    /// ((0 < x) - (x < 0)); NumPy would give NaN.
    let sign (x: float) =
        if x > 0.0 then 1.0 elif x < 0.0 then -1.0 else 0.0
