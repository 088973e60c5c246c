/// Random: a seeded generator that gives the same numbers for the same seed on every machine
/// and .NET version. It uses only integer arithmetic and correctly rounded IEEE operations
/// (+, -, *, /, sqrt), never System.Random or the platform's libm, whose results may differ.
namespace FunctionalDiff.Core

open System

/// SplitMix64 (Steele, Lea and Flood, 2014): a 64-bit counter passed through a fixed mixing
/// function. Small, fully specified, and good enough for initialising weights and test data.
type internal SplitMix64(seed: int) =
    // the seed is sign-extended so that every int, including negatives, is a distinct stream
    let mutable state = uint64 (int64 seed)

    /// The next 64 random bits.
    member _.NextBits() : uint64 =
        state <- state + 0x9E3779B97F4A7C15UL
        let mutable z = state
        z <- (z ^^^ (z >>> 30)) * 0xBF58476D1CE4E5B9UL
        z <- (z ^^^ (z >>> 27)) * 0x94D049BB133111EBUL
        z ^^^ (z >>> 31)

    /// A uniform double in [0, 1) with 53 random bits.
    member this.NextUniform() : float = float (this.NextBits() >>> 11) * (1.0 / 9007199254740992.0)

/// Deterministic sampling built on SplitMix64.
module internal RandomSampling =

    /// The natural logarithm of a positive finite x from basic IEEE operations only, so its result
    /// is the same everywhere. x = m·2^e with m in [√½, √2); ln m = 2·atanh(s), s = (m-1)/(m+1),
    /// |s| ≤ 0.172, so the odd series in s converges to double precision within 14 terms.
    let deterministicLog (x: float) =
        let bits = BitConverter.DoubleToInt64Bits x
        // normalise subnormals first so the exponent field is meaningful
        let x, extra = if (bits >>> 52) = 0L then x * 18014398509481984.0, -54 else x, 0
        let bits = BitConverter.DoubleToInt64Bits x
        let mutable exponent = int ((bits >>> 52) &&& 0x7FFL) - 1023 + extra
        let mutable m = BitConverter.Int64BitsToDouble((bits &&& 0x000FFFFFFFFFFFFFL) ||| 0x3FF0000000000000L)
        if m > 1.4142135623730951 then
            m <- m * 0.5
            exponent <- exponent + 1
        let s = (m - 1.0) / (m + 1.0)
        let s2 = s * s
        let mutable term = s
        let mutable sum = 0.0
        for k in 0 .. 13 do
            sum <- sum + term / float (2 * k + 1)
            term <- term * s2
        2.0 * sum + float exponent * 0.6931471805599453

    /// `count` standard normal samples by Marsaglia's polar method, which needs only log and sqrt
    /// (unlike Box–Muller, which would also need the platform's sin and cos).
    let normals (seed: int) (count: int) : float[] =
        let generator = SplitMix64(seed)
        let result = Array.zeroCreate count
        let mutable i = 0
        while i < count do
            let u = 2.0 * generator.NextUniform() - 1.0
            let v = 2.0 * generator.NextUniform() - 1.0
            let s = u * u + v * v
            if s > 0.0 && s < 1.0 then
                let factor = Math.Sqrt(-2.0 * deterministicLog s / s)
                result.[i] <- u * factor
                if i + 1 < count then result.[i + 1] <- v * factor
                i <- i + 2
        result

    /// `count` uniform samples in [low, high).
    let uniforms (seed: int) (low: float) (high: float) (count: int) : float[] =
        let generator = SplitMix64(seed)
        Array.init count (fun _ -> low + (high - low) * generator.NextUniform())
