/// Transcendental: float64 exp, expm1, log, log1p, sin, cos, tanh, sigmoid and softplus, and float32 exp, log, tanh,
/// sigmoid, expm1, log1p and softplus, over spans, vectorised with Vector256 and explicit fused multiply-adds. Each lane
/// runs the same sequence of IEEE operations, and a fused multiply-add is one rounding whether
/// the JIT emits the instruction or its software fallback, so a result depends on the input value
/// only: never on the tier of the compiled code, the lane, the array's alignment or the machine.
/// (TensorPrimitives' kernels use "estimate" multiply-adds, fused in optimised code and unfused
/// before: the last bit changed when the JIT recompiled them.) Callers keep inputs inside each
/// function's domain (see Elementwise) and pass lengths that are multiples of 8 to the float64
/// kernels. The float32 kernels take any input and any length, and stay within an ulp of the
/// float64 result rounded to float32 with no scalar fallback: exp, tanh and log compute in float32
/// lanes (reductions and fitted polynomials sized to float32, overflow, subnormal and special
/// results formed in the lanes); sigmoid, expm1, log1p and softplus widen each float32 vector to two float64 vectors,
/// computed with a series accurate far beyond float32's precision, and rounds once (the float32
/// range fits in float64's normal numbers, so overflow and underflow happen in that rounding).
namespace FunctionalDiff.Core

#nowarn "9" // stackalloc: eight lanes of scratch for a softmax row's edge group

open System
open System.Runtime.Intrinsics
open Microsoft.FSharp.NativeInterop

/// The vectorised float64 kernels.
module internal Transcendental =

    let inline private splat (x: float) : Vector256<float> = Vector256.Create x
    let inline private load (x: ReadOnlySpan<float>) (i: int) : Vector256<float> = Vector256.Create<float>(x.Slice(i, 4))
    let inline private store (r0: Vector256<float>) (r1: Vector256<float>) (y: Span<float>) (i: int) =
        r0.CopyTo(y.Slice(i, 4))
        r1.CopyTo(y.Slice(i + 4, 4))
    let inline private fma (a: Vector256<float>) (b: Vector256<float>) (c: Vector256<float>) = Vector256.FusedMultiplyAdd(a, b, c)
    /// Applies `f` to a float64 span (lengths multiples of 8), two vectors per iteration: two independent chains
    /// of multiply-adds in flight. The kernels below are this loop around their vector function.
    let inline private map64 ([<InlineIfLambda>] f: Vector256<float> -> Vector256<float>) (x: ReadOnlySpan<float>) (y: Span<float>) =
        let mutable i = 0
        while i < x.Length do
            let r0 = f (load x i)
            let r1 = f (load x (i + 4))
            store r0 r1 y i
            i <- i + 8

    // Horner's rule with fused multiply-adds, highest coefficient first, written out so that
    // the vectors each loop iteration handles are independent chains the CPU overlaps (one
    // chain at a time waits on every multiply-add's latency).
    let inline private horner10 (c: Vector256<float>[]) (z: Vector256<float>) =
        fma (fma (fma (fma (fma (fma (fma (fma (fma c.[0] z c.[1]) z c.[2]) z c.[3]) z c.[4]) z c.[5]) z c.[6]) z c.[7]) z c.[8]) z c.[9]
    let inline private horner9 (c: Vector256<float>[]) (z: Vector256<float>) =
        fma (fma (fma (fma (fma (fma (fma (fma c.[0] z c.[1]) z c.[2]) z c.[3]) z c.[4]) z c.[5]) z c.[6]) z c.[7]) z c.[8]
    let inline private horner13 (c: Vector256<float>[]) (z: Vector256<float>) =
        fma (fma (fma (fma (fma (fma (fma (fma (fma (fma (fma (fma c.[0] z c.[1]) z c.[2]) z c.[3]) z c.[4]) z c.[5]) z c.[6]) z c.[7]) z c.[8]) z c.[9]) z c.[10]) z c.[11]) z c.[12]
    let inline private horner14 (c: Vector256<float>[]) (z: Vector256<float>) =
        fma (fma (fma (fma (fma (fma (fma (fma (fma (fma (fma (fma (fma c.[0] z c.[1]) z c.[2]) z c.[3]) z c.[4]) z c.[5]) z c.[6]) z c.[7]) z c.[8]) z c.[9]) z c.[10]) z c.[11]) z c.[12]) z c.[13]

    /// 1/n! for n = 0 … 22; these factorials are exact in float64, so each is correctly rounded.
    let private inverseFactorial = Array.scan (fun f n -> f * float n) 1.0 [| 1 .. 22 |] |> Array.map (fun f -> 1.0 / f)

    // π/2 and ln 2 as sums of doubles (each the rounding of what the previous ones leave).
    [<Literal>]
    let private HalfPi1 = 1.5707963267948966
    [<Literal>]
    let private HalfPi2 = 6.123233995736766e-17
    [<Literal>]
    let private HalfPi3 = -1.4973849048591698e-33
    [<Literal>]
    let private TwoOverPi = 0.6366197723675814
    [<Literal>]
    let private Ln2Hi = 0.6931471805599453
    [<Literal>]
    let private Ln2Lo = 2.3190468138462996e-17
    [<Literal>]
    let private Log2e = 1.4426950408889634
    [<Literal>]
    let private Sqrt2 = 1.4142135623730951

    /// map32 with one float32 vector (two float64 vectors) per iteration, for functions too large to have four
    /// copies in one loop: the JIT tracks a limited number of locals, and beyond it every intermediate of the
    /// unrolled body went through the stack.
    let inline private map32Pairs ([<InlineIfLambda>] f: Vector256<float> -> Vector256<float>) (standIn: float32)
                                  (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let n = x.Length
        let mutable i = 0
        while i + 8 <= n do
            let v = Vector256.Create<float32>(x.Slice(i, 8))
            (Vector256.Narrow(f (Vector256.WidenLower v), f (Vector256.WidenUpper v))).CopyTo(y.Slice(i, 8))
            i <- i + 8
        if i < n then
            let mutable v = Vector256.Create standIn
            for k in 0 .. n - i - 1 do
                v <- v.WithElement(k, x.[i + k])
            let r = Vector256.Narrow(f (Vector256.WidenLower v), f (Vector256.WidenUpper v))
            for k in 0 .. n - i - 1 do
                y.[i + k] <- r.GetElement k

    /// 1.5·2^52: adding it rounds a float64 of magnitude below 2^51 to an integer n and leaves
    /// n + 2^51 in the low bits of the sum.
    [<Literal>]
    let private RoundingShift = 6755399441055744.0

    /// The bits of an integer-valued n (|n| < 2^51) plus 2^51, as int64 lanes: n's low bits, without
    /// Vector256.ConvertToInt64, which AVX2 lacks (the JIT converted lane by lane, about a third of
    /// the float64 exp kernel's time).
    let inline private integerBits (n: Vector256<float>) : Vector256<int64> = (n + splat RoundingShift).AsInt64()

    /// sin r = r + r³ S(r²) on |r| ≤ π/4: Taylor terms to r^19, the next below 1e-19 relative.
    let private sinTerms = [| for k in 9 .. -1 .. 1 -> splat ((if k % 2 = 1 then -1.0 else 1.0) * inverseFactorial.[2 * k + 1]) |]
    /// cos r = 1 + r² C(r²) on |r| ≤ π/4: Taylor terms to r^20.
    let private cosTerms = [| for k in 10 .. -1 .. 1 -> splat ((if k % 2 = 1 then -1.0 else 1.0) * inverseFactorial.[2 * k]) |]
    /// e^r on |r| ≤ ln2/2: Taylor terms to r^13 (the next is 4e-18 relative), then 1.
    let private expTerms = [| for n in 13 .. -1 .. 0 -> splat inverseFactorial.[n] |]
    /// e^r - 1 = r + r²·B(r) on |r| ≤ ln2/2: B(r) = 1/2! + r/3! + … + r^12/14! (the first term
    /// left out, r^15/15!, is below 3e-19 of r).
    let private expm1Terms = [| for n in 14 .. -1 .. 2 -> splat inverseFactorial.[n] |]
    /// The same for the float32 kernels, to r^8/8!: the first term left out, r^9/9!, is below 6e-10
    /// of r (and 3e-10 of e^r), a fiftieth of float32's half ulp.
    let private expm1Terms32 = [| for n in 8 .. -1 .. 2 -> splat inverseFactorial.[n] |]
    /// log m = 2s + 2s·z·A(z), s = (m-1)/(m+1), z = s², |s| ≤ 0.172: A(z) = 1/3 + z/5 + … + z⁹/21.
    let private logTerms = [| for k in 10 .. -1 .. 1 -> splat (1.0 / float (2 * k + 1)) |]

    /// sin (quadrantShift 0) or cos (quadrantShift 1) of |x| ≤ 2^20 (x ≠ 0 for sin, whose sign
    /// of zero would be lost): x = n·π/2 + r with π/2 in three parts, then the quadrant n mod 4
    /// picks ±sin r or ±cos r; cos x = sin(x + π/2) is one quadrant further.
    let inline private sinCosVector (sinC: Vector256<float>[]) (cosC: Vector256<float>[]) (quadrantShift: Vector256<int64>) (v: Vector256<float>) =
        let one = Vector256.Create 1L
        let two = Vector256.Create 2L
        let n = Vector256.Round(v * splat TwoOverPi : Vector256<float>)
        let r = fma n (splat -HalfPi3) (fma n (splat -HalfPi2) (fma n (splat -HalfPi1) v))
        let z = r * r
        let s = fma (r * z) (horner9 sinC z) r
        let c = fma z (horner10 cosC z) (splat 1.0)
        // n + 2^51 has n's two low bits
        let quadrant = integerBits n + quadrantShift
        let odd = Vector256.Equals(quadrant &&& one, one).AsDouble()
        let negative = Vector256.Equals(quadrant &&& two, two).AsDouble()
        let value = Vector256.ConditionalSelect(odd, c, s)
        Vector256.ConditionalSelect(negative, -value, value)

    /// The range reduction every exponential here shares: x = n·ln2 + r with |r| ≤ ln2/2 and ln2
    /// in two parts, so r is exact to float64's precision for |x| ≤ 708; returns 2^n and r.
    let inline private reduceExp (v: Vector256<float>) : struct (Vector256<float> * Vector256<float>) =
        let n = Vector256.Round(v * splat Log2e : Vector256<float>)
        let r = fma n (splat -Ln2Lo) (fma n (splat -Ln2Hi) v)
        // the shift keeps the low 11 bits of n + 2^51 + 1023, that is n + 1023
        let scale = Vector256.ShiftLeft(integerBits n + Vector256.Create 1023L, 52).AsDouble()
        struct (scale, r)

    /// e^x for |x| ≤ 708 (normal results): e^x = 2^n·e^r.
    let inline private expVector (c: Vector256<float>[]) (v: Vector256<float>) =
        let struct (scale, r) = reduceExp v
        horner14 c r * scale

    /// e^x - 1 for normal |x| ≤ 708 from one reduction: 2^n·(e^r - 1) + (2^n - 1), with e^r - 1 =
    /// r + r²·B(r) summed without the 1, so nothing cancels near 0 (where n = 0 and the result is
    /// that sum). For n ≥ 2 the two terms have one sign; for n = 1 and n ≤ −1 they differ, but the
    /// sum is at least a third of the larger term (|e^r − 1| ≤ 0.42 against |2^n − 1| ≥ ½), so the
    /// error of e^r − 1 grows by at most 3× there: within 2 ulp. The sign of a zero is lost (−0 gives +0).
    let inline private expm1Vector (c: Vector256<float>[]) (v: Vector256<float>) =
        let struct (scale, r) = reduceExp v
        let q = fma (r * r) (horner13 c r) r
        fma scale q (scale - splat 1.0)

    /// The log kernels' reduction of a positive normal v: v = 2^e·m with m in [√½, √2), returned as e and
    /// s = (m − 1)/(m + 1), so that log v = e·ln2 + 2·atanh s.
    let inline private reduceLog (v: Vector256<float>) : struct (Vector256<float> * Vector256<float>) =
        let one = splat 1.0
        let bits : Vector256<int64> = v.AsInt64()
        // the biased exponent E as the low bits of 2^52 + E, minus 2^52 + 1023: exact, and no int64 → float64
        // conversion (AVX2 has none)
        let exponent = (Vector256.ShiftRightLogical(bits, 52) ||| Vector256.Create 0x4330000000000000L).AsDouble() - splat 4503599627371519.0
        let m = ((bits &&& Vector256.Create 0x000FFFFFFFFFFFFFL) ||| Vector256.Create 0x3FF0000000000000L).AsDouble()
        let large = Vector256.GreaterThanOrEqual(m, splat Sqrt2)
        let m = Vector256.ConditionalSelect(large, m * splat 0.5, m)
        let e = Vector256.ConditionalSelect(large, exponent + one, exponent)
        // m - 1 is exact (Sterbenz); s carries the one rounding of the division
        struct (e, (m - one) / (m + one))

    /// log x for positive normal x: x = 2^e·m with m in [√½, √2), log x = e·ln2 + log m.
    let inline private logVector (c: Vector256<float>[]) (v: Vector256<float>) =
        let struct (e, s) = reduceLog v
        let twoS = s + s
        let logM = fma (twoS * (s * s)) (horner10 c (s * s)) twoS
        fma e (splat Ln2Hi) (fma e (splat Ln2Lo) logM)

    // The kernels below take two vectors per iteration: two independent chains of multiply-adds
    // that the CPU overlaps (four inlined copies made the methods too large for the JIT to
    // optimise, and ran ten times slower). Coefficient tables are read into locals first, so the
    // loop does not reload the module's fields. (Lengths are multiples of 8.)

    /// sin of 0 < |x| ≤ 2^20.
    let sin (x: ReadOnlySpan<float>) (y: Span<float>) =
        let sinC, cosC, shift = sinTerms, cosTerms, Vector256<int64>.Zero
        map64 (fun v -> sinCosVector sinC cosC shift v) x y

    /// cos of |x| ≤ 2^20.
    let cos (x: ReadOnlySpan<float>) (y: Span<float>) =
        let sinC, cosC, shift = sinTerms, cosTerms, Vector256.Create 1L
        map64 (fun v -> sinCosVector sinC cosC shift v) x y

    /// e^x for |x| ≤ 708, on Vector256.
    let internal expBy256 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = expTerms
        map64 (fun v -> expVector c v) x y

    /// log(1 + x) for −1 < x with 1 + x normal: log w + (x − (w − 1))/w, w = 1 + x rounded, whose second
    /// term puts back the rounding of w to first order (it is exact: x − (w − 1) is the rounding error
    /// of the sum), so nothing cancels near 0 and the result is log w's accuracy plus one rounding; x
    /// itself where w rounds to 1 (|x| below 1.1e-16, ±0 with their sign).
    let inline private log1pVector (c: Vector256<float>[]) (v: Vector256<float>) =
        let one = splat 1.0
        let w = one + v
        let d = w - one
        Vector256.ConditionalSelect(Vector256.Equals(d, Vector256<float>.Zero), v, logVector c w + (v - d) / w)

    /// e^x − 1 for |x| ≤ 700, the zeros with their sign (an elu, selu or celu takes expm1 of min(x, 0), so
    /// half of its inputs are often zeros), subnormals as themselves.
    let expm1 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = expm1Terms
        let zero = Vector256<float>.Zero
        map64 (fun v -> Vector256.ConditionalSelect(Vector256.Equals(v, zero), v, expm1Vector c v)) x y

    /// log(1 + x) for −1 + 2^−53 ≤ x ≤ 1e300.
    let log1p (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = logTerms
        map64 (fun v -> log1pVector c v) x y

    /// log(1 + e^x) for |x| ≤ 700, as Special.softplus: max(x, 0) + log1p(e^−|x|), from the side where
    /// the exponential neither overflows nor cancels (e^−|x| is a normal number in (0, 1]).
    let softplus (x: ReadOnlySpan<float>) (y: Span<float>) =
        let expC, logC = expTerms, logTerms
        let zero = Vector256<float>.Zero
        map64 (fun v -> Vector256.Max(v, zero) + log1pVector logC (expVector expC (-(Vector256.Abs v)))) x y

    /// 1/(1 + e^{-x}) for |x| ≤ 708.
    let sigmoid (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = expTerms
        let one = splat 1.0
        map64 (fun v -> one / (one + expVector c (-v))) x y

    /// Where float64 tanh is ±1 exactly: tanh 20 = 1 − 8.5e-18 rounds to 1 (the doubles below 1 are
    /// 1.1e-16 apart), and so does every larger magnitude. The kernels hold |x| there, so a saturated
    /// input (up to ±∞) gives ±1 in the vector code instead of leaving its block to System.Math.
    let internal tanhSaturates = 20.0

    /// tanh of one vector: ±e/(e + 2) with e = e^{2|x|} - 1, accurate near 0 where
    /// 1 - 2/(e^{2x} + 1) would cancel; |x| held at tanhSaturates (e^{2|x|} overflows past 354).
    /// Where e > 2¹⁶ (|x| > 5.55) the magnitude is 1 − 2/(e + 2) instead: near saturation e + 2
    /// rounds (e's ulp passes 2 from e ≈ 9e15), and e/(e + 2) then came out 1 where tanh is 1 − 2⁻⁵³
    /// (tanh 18.9 = 1 − 7.7e-17, whose nearest double is 1 − 1.1e-16), an ulp that erfinv or atanh
    /// after it turns into ∞ against 5.86 (`fuzz adversarial 120/231`). There the quotient is below
    /// 3.1e-5, so its own rounding moves 1 − it by far less than half an ulp; nearer 0 the quotient
    /// e/(e + 2) keeps its relative accuracy where 1 − 2/(e + 2) would carry the quotient's error.
    let inline private tanhVector (c: Vector256<float>[]) (v: Vector256<float>) =
        let e = expm1Vector c (splat 2.0 * Vector256.Min(Vector256.Abs v, splat tanhSaturates))
        let d = e + splat 2.0
        let magnitude = Vector256.ConditionalSelect(Vector256.GreaterThan(e, splat 65536.0), splat 1.0 - splat 2.0 / d, e / d)
        Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float>.Zero), -magnitude, magnitude)

    /// tanh x for every x but NaN and the zeros, on Vector256.
    let internal tanhBy256 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = expm1Terms
        map64 (fun v -> tanhVector c v) x y

    /// log x for positive normal x.
    let log (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = logTerms
        map64 (fun v -> logVector c v) x y

    // ---------------------------------------------------------------- float32

    /// Applies `f` (on float64 vectors) to float32 spans of any length: 8 elements at a time,
    /// widened to two float64 vectors and rounded back once. The last partial vector is filled up
    /// with `standIn` and runs the same code, so a result never depends on its position.
    let inline private map32 ([<InlineIfLambda>] f: Vector256<float> -> Vector256<float>) (standIn: float32)
                             (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let n = x.Length
        let mutable i = 0
        // two vectors per iteration: four independent chains of dependent multiply-adds in flight
        while i + 16 <= n do
            let v = Vector256.Create<float32>(x.Slice(i, 8))
            let w = Vector256.Create<float32>(x.Slice(i + 8, 8))
            let v0, v1, w0, w1 = f (Vector256.WidenLower v), f (Vector256.WidenUpper v), f (Vector256.WidenLower w), f (Vector256.WidenUpper w)
            (Vector256.Narrow(v0, v1)).CopyTo(y.Slice(i, 8))
            (Vector256.Narrow(w0, w1)).CopyTo(y.Slice(i + 8, 8))
            i <- i + 16
        // the rest (under 16) one vector at a time, as map32Pairs runs every length
        map32Pairs f standIn (x.Slice i) (y.Slice i)

    /// The float32 kernels' range reduction, x = n·ln2 + r for |x| ≤ 200: n by RoundingShift,
    /// whose bits then give 2^n without a conversion, and ln2 in one part, since n·(ln2 - Ln2Hi)
    /// is below 7e-15 there, far below float32's precision (and 0 for n = 0, so small x keep
    /// r = x exactly). Returns 2^n and r.
    let inline private reduceExp32 (v: Vector256<float>) : struct (Vector256<float> * Vector256<float>) =
        let shifted = fma v (splat Log2e) (splat RoundingShift)
        let n = shifted - splat RoundingShift
        let r = fma n (splat -Ln2Hi) v
        // the shift drops n + 2^51's high bits and the sum's exponent, leaving n + 1023
        let scale = Vector256.ShiftLeft(shifted.AsInt64() + Vector256.Create 1023L, 52).AsDouble()
        struct (scale, r)

    /// expm1Terms32 as seven values, which the float32 kernels take into locals before their loop.
    /// Read from the array inside the loop, every coefficient cost a load of the static field, a
    /// bounds check and a class-initialisation check per vector, and the loop's values were
    /// spilled to the stack around that check (DOTNET_JitDisasm=exp32 shows the loop).
    let inline private expm1Coefficients32 () =
        let c = expm1Terms32
        struct (c.[0], c.[1], c.[2], c.[3], c.[4], c.[5], c.[6])

    /// e^r - 1 = r + r²·B(r) for the float32 kernels, B by Horner's rule with fused multiply-adds
    /// on expm1Terms32's coefficients, highest first.
    let inline private expm1Series32 c0 c1 c2 c3 c4 c5 c6 (r: Vector256<float>) =
        fma (r * r) (fma (fma (fma (fma (fma (fma c0 r c1) r c2) r c3) r c4) r c5) r c6) r

    /// e^x for float32 x widened: below -200 (or -∞) the float32 result is 0 and above 200 (or ∞)
    /// it is ∞, so x is clamped there first. The clamp's min and max take the bound first: on
    /// x86 they return the second operand when either is NaN (and NaN elsewhere), so NaN passes
    /// the clamp and gives NaN.
    let inline private exp32Vector c0 c1 c2 c3 c4 c5 c6 (v: Vector256<float>) =
        let limit = splat 200.0
        let v = Vector256.MinNative(limit, Vector256.MaxNative(-limit, v))
        let struct (scale, r) = reduceExp32 v
        // 2^n·(1 + q), with q = e^r - 1: exactly 1 at x = 0
        fma scale (expm1Series32 c0 c1 c2 c3 c4 c5 c6 r) scale

    /// 1/(1 + e^{-x}) over float32, widened: exactly 0.5 at 0, 0 and 1 far in the tails. (A float32-lane
    /// kernel within the same ulp needs e^−|x| and 1 + e as pairs of floats and a division corrected by its
    /// residual, and on AVX2 that ran slower than these float64 lanes.)
    let sigmoid32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32 ()
        let one = splat 1.0
        map32 (fun v -> one / (one + exp32Vector c0 c1 c2 c3 c4 c5 c6 (-v))) 0.0f x y

    /// e^x − 1 over float32, widened: 2^n·(e^r − 1) + (2^n − 1) from reduceExp32 and expm1Series32 (as exp32Vector,
    /// whose clamp at ±200 leaves −1 and ∞ to the rounding to float32, and passes NaN), the zeros with their sign.
    /// Near 0 (n = 0) the result is the series itself, with nothing cancelled; for n ≠ 0 it is at least a third of
    /// its larger term (see expm1Vector), far inside float32's precision.
    let expm132 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32 ()
        let limit, one, zero = splat 200.0, splat 1.0, Vector256<float>.Zero
        map32 (fun v ->
            let struct (scale, r) = reduceExp32 (Vector256.MinNative(limit, Vector256.MaxNative(-limit, v)))
            let e = fma scale (expm1Series32 c0 c1 c2 c3 c4 c5 c6 r) (scale - one)
            Vector256.ConditionalSelect(Vector256.Equals(v, zero), v, e)) 0.0f x y

    /// log(1 + x) for the float32 kernels: log w at w = 1 + x by logVector's steps with its series cut to five terms,
    /// A(z) = 1/3 + z/5 + … + z⁴/11 (the first term left out, z⁵/13, is below 2e-9 of A at z = s² ≤ 0.0295, so
    /// below 5e-11 of log m), and x − x²/2 below 2^−20 (the next term, x³/3, is below 4e-13 of the result there).
    /// From 2^−20 up, the rounding of w (at most 1.1e-16) is below 1.2e-10 of the result: no correction of it,
    /// and no second division, is needed at float32's precision. The coefficients come in as locals (see
    /// expm1Coefficients32). ±0 give themselves.
    let inline private log1pVector32 a0 a1 a2 a3 a4 (v: Vector256<float>) =
        let struct (e, s) = reduceLog (splat 1.0 + v)
        let twoS = s + s
        let z = s * s
        let logM = fma (twoS * z) (fma (fma (fma (fma a0 z a1) z a2) z a3) z a4) twoS
        let logW = fma e (splat Ln2Hi) (fma e (splat Ln2Lo) logM)
        Vector256.ConditionalSelect(Vector256.LessThan(Vector256.Abs v, splat 9.5367431640625e-07), fma (v * splat -0.5) v v, logW)

    /// The five coefficients of log1pVector32, highest first.
    let inline private logCoefficients32 () =
        struct (splat (1.0 / 11.0), splat (1.0 / 9.0), splat (1.0 / 7.0), splat (1.0 / 5.0), splat (1.0 / 3.0))

    /// log(1 + x) over float32, widened (log1pVector32), with the edges formed in the lanes: x itself where 1 + x
    /// rounds to 1 (±0), −∞ at −1, NaN below −1 and at NaN, ∞ at ∞.
    let log1p32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let struct (a0, a1, a2, a3, a4) = logCoefficients32 ()
        let minusOne, infinity = splat -1.0, splat Double.PositiveInfinity
        map32Pairs (fun v ->
            // w = 1 + x is a positive normal float64 for every float32 x above −1 and below ∞ (at least 2^−24)
            let inside = Vector256.GreaterThan(v, minusOne) &&& Vector256.LessThan(v, infinity)
            let value = log1pVector32 a0 a1 a2 a3 a4 (Vector256.ConditionalSelect(inside, v, Vector256<float>.Zero))
            let edge =
                Vector256.ConditionalSelect(Vector256.Equals(v, minusOne), splat Double.NegativeInfinity,
                    Vector256.ConditionalSelect(Vector256.Equals(v, infinity), infinity, splat Double.NaN))
            Vector256.ConditionalSelect(inside, value, edge)) 0.0f x y

    /// log(1 + e^x) over float32, widened, as Special.softplus: max(x, 0) + log1p(e^−|x|), with e^−|x| from
    /// exp32Vector (held at e^−200 far below 0, where the float32 result is 0 or x) and log1pVector32 (1 + e^−|x| is
    /// in (1, 2]). NaN gives NaN, −∞ gives 0 and ∞ gives ∞.
    let softplus32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32 ()
        let struct (a0, a1, a2, a3, a4) = logCoefficients32 ()
        let zero = Vector256<float>.Zero
        map32Pairs (fun v ->
            let e = exp32Vector c0 c1 c2 c3 c4 c5 c6 (-(Vector256.Abs v))
            Vector256.Max(v, zero) + log1pVector32 a0 a1 a2 a3 a4 e) 0.0f x y

    // ------------------------------------------------ float64 values bound for float32 on Vector512

    // The float64 intermediates of float32 kernels (expFor32, a softmax row's terms) with
    // Vector512 where the CPU has it: every lane runs the same IEEE operations in the same order
    // as on Vector256 (the fused multiply-adds are correctly rounded at any width), so the results
    // are the same bits.

    let inline private splat512 (x: float) : Vector512<float> = Vector512.Create x
    let inline private fma512 (a: Vector512<float>) (b: Vector512<float>) (c: Vector512<float>) = Vector512.FusedMultiplyAdd(a, b, c)

    /// reduceExp32 on Vector512.
    let inline private reduceExp32By512 (v: Vector512<float>) : struct (Vector512<float> * Vector512<float>) =
        let shifted = fma512 v (splat512 Log2e) (splat512 RoundingShift)
        let n = shifted - splat512 RoundingShift
        let r = fma512 n (splat512 -Ln2Hi) v
        let scale = Vector512.ShiftLeft(shifted.AsInt64() + Vector512.Create 1023L, 52).AsDouble()
        struct (scale, r)

    /// expm1Series32 on Vector512.
    let inline private expm1Series32By512 c0 c1 c2 c3 c4 c5 c6 (r: Vector512<float>) =
        fma512 (r * r) (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 c0 r c1) r c2) r c3) r c4) r c5) r c6) r

    /// expm1Terms32's coefficients on Vector512, taken into locals before a kernel's loop (see
    /// expm1Coefficients32).
    let inline private expm1Coefficients32By512 () =
        let s (n: int) = splat512 inverseFactorial.[n]
        struct (s 8, s 7, s 6, s 5, s 4, s 3, s 2)

    // ------------------------------------------------ float32 exp, tanh and log in float32 lanes

    // exp, tanh and log compute in float32 lanes: twice the elements per instruction of float64
    // lanes. Each is within an ulp of its float64 value rounded once to float32, over
    // every float32 input (the tests sweep the bit patterns). The coefficients are weighted
    // least-squares fits, made once in extended precision at Chebyshev-spaced points, of each
    // polynomial's relative error over its interval, then rounded to float32 (the fit's error is
    // below a tenth of an ulp).

    /// 1.5·2^23: adding it rounds a float32 of magnitude below 2^22 to an integer n and leaves
    /// n + 2^22 in the low bits of the sum (whose bits are then 0x4B400000 + n).
    [<Literal>]
    let private RoundingShift32 = 12582912.0f
    [<Literal>]
    let private RoundingShift32Bits = 0x4B400000
    [<Literal>]
    let private Log2e32 = 1.44269502f
    /// ln 2 to 16 bits (45426/65536): for the |n| ≤ 160 of the reduction, x − n·Ln2Hi32 is a
    /// multiple of x's ulp or 2^-16 below 1/2 in magnitude, so the first multiply-add is exact.
    [<Literal>]
    let private Ln2Hi32 = 0.693145751953125f
    /// ln 2 − Ln2Hi32 rounded to float32.
    let private ln2Lo32 = float32 (Ln2Hi - float Ln2Hi32)

    /// e^r − 1 ≈ r + r²·(c2 + c3·r + … + c6·r⁴) on |r| ≤ ln2/2, within 4e-9 relative of e^r.
    let private expSingleCoefficients = [| 0.00137513818f; 0.00836892333f; 0.0416695327f; 0.166665182f; 0.499999881f |]
    /// tanh a ≈ a + a³·(q0 + q1·u + … + q6·u⁶), u = a², on 0 ≤ a ≤ 0.8 (TanhSingleSeriesEnd),
    /// within 3e-10 relative.
    let private tanhSingleCoefficients = [| -0.000567052455f; 0.00284185214f; -0.00849969499f; 0.0217682887f; -0.0539528131f; 0.133332193f; -0.333333313f |]
    /// log(1 + f) − f ≈ f²·(l9·f⁹ + … + l1·f + l0), highest first, on √½ − 1 ≤ f < √2 − 1, within
    /// 9e-9 relative (l0 = −1/2 exactly); rounded to float32 from l0 up, the higher terms refitted
    /// after each rounding.
    let private logSingleCoefficients =
        [| 0.0673686489f; -0.115440063f; 0.118179627f; -0.124227285f; 0.142318532f
           -0.166674852f; 0.200014681f; -0.250000089f; 0.333333224f; -0.5f |]
    /// Where tanh leaves its series for 1 − 2/(e^{2a} + 1): below it the quotient's rounding
    /// errors, carried into 1 − t by a t near 1/2, would come near an ulp of the result.
    [<Literal>]
    let private TanhSingleSeriesEnd = 0.8f

    let inline private splatSingle (x: float32) : Vector256<float32> = Vector256.Create x
    let inline private fmaSingle (a: Vector256<float32>) (b: Vector256<float32>) (c: Vector256<float32>) = Vector256.FusedMultiplyAdd(a, b, c)

    /// Applies `f` to float32 spans of any length, 8 lanes at a time (two vectors per iteration:
    /// independent chains of multiply-adds in flight). The last partial vector is filled up with
    /// `standIn` and runs the same code, so a result never depends on its position. y may be x.
    let inline private mapSingle256 ([<InlineIfLambda>] f: Vector256<float32> -> Vector256<float32>) (standIn: float32)
                                    (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let n = x.Length
        let mutable i = 0
        while i + 16 <= n do
            let r0 = f (Vector256.Create<float32>(x.Slice(i, 8)))
            let r1 = f (Vector256.Create<float32>(x.Slice(i + 8, 8)))
            r0.CopyTo(y.Slice(i, 8))
            r1.CopyTo(y.Slice(i + 8, 8))
            i <- i + 16
        while i + 8 <= n do
            (f (Vector256.Create<float32>(x.Slice(i, 8)))).CopyTo(y.Slice(i, 8))
            i <- i + 8
        if i < n then
            let mutable v = Vector256.Create standIn
            for k in 0 .. n - i - 1 do
                v <- v.WithElement(k, x.[i + k])
            let r = f v
            for k in 0 .. n - i - 1 do
                y.[i + k] <- r.GetElement k

    /// The float32 reduction w = n·ln2 + r, |r| ≤ ln2/2 (|w| ≤ 110): returns n's bits in the
    /// rounding sum, and e^r − 1 by the fitted polynomial (exactly 0 at r = 0).
    let inline private expm1ReducedSingle (c: struct (Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32>))
                                          (w: Vector256<float32>) =
        let struct (c6, c5, c4, c3, c2) = c
        let shifted = fmaSingle w (splatSingle Log2e32) (splatSingle RoundingShift32)
        let n = shifted - splatSingle RoundingShift32
        let r = fmaSingle n (splatSingle -ln2Lo32) (fmaSingle n (splatSingle -Ln2Hi32) w)
        let q = fmaSingle (r * r) (fmaSingle (fmaSingle (fmaSingle (fmaSingle c6 r c5) r c4) r c3) r c2) r
        struct (shifted.AsInt32() - Vector256.Create RoundingShift32Bits, q)

    /// e^x: x is held in [−110, 100] first (e^x rounds to 0 below −103.98 and overflows above
    /// 88.73), the bound as the first operand so that NaN passes (see exp32Vector). 2^n·(1 + q)
    /// is formed as (2^n1·(1 + q))·2^n2 with n1 + n2 = n, each factor a normal float32: the first
    /// product rounds once in the normal range, the second is exact unless the result is subnormal
    /// or overflows, where it rounds once more, to the right subnormal or ∞.
    let inline private expSingle c (v: Vector256<float32>) =
        let v = Vector256.MinNative(splatSingle 100.0f, Vector256.MaxNative(splatSingle -110.0f, v))
        let struct (n, q) = expm1ReducedSingle c v
        let n1 = Vector256.ShiftRightArithmetic(n, 1)
        let bias = Vector256.Create 127
        let s1 = Vector256.ShiftLeft(n1 + bias, 23).AsSingle()
        let s2 = Vector256.ShiftLeft(n - n1 + bias, 23).AsSingle()
        fmaSingle s1 q s1 * s2

    /// tanh on the magnitude a = |x|, the sign of x put back by its bit (so tanh(−x) = −tanh x to
    /// the bit, and tanh(−0) = −0): the odd series below TanhSingleSeriesEnd (it returns a itself
    /// where a³ underflows, subnormals included), 1 − 2/(e^{2a} + 1) above, with a held at 10 so
    /// that e^{2a} stays finite (the quotient then rounds 1 − 4e-9 to 1, as tanh rounds from 9.01
    /// on). NaN passes the hold (see exp32Vector) and the comparison sends it to the quotient.
    let inline private tanhSingle c (t: struct (Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32>))
                                  (v: Vector256<float32>) =
        let struct (t0, t1, t2, t3, t4, t5, t6) = t
        let one = Vector256<float32>.One
        let two = splatSingle 2.0f
        let a = Vector256.Abs v
        let u = a * a
        let series = fmaSingle (a * u) (fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle t0 u t1) u t2) u t3) u t4) u t5) u t6) a
        let struct (n, q) = expm1ReducedSingle c (two * Vector256.MinNative(splatSingle 10.0f, a))
        let scale = Vector256.ShiftLeft(n + Vector256.Create 127, 23).AsSingle()
        let quotient = one - two / (fmaSingle scale q scale + one)
        let magnitude = Vector256.ConditionalSelect(Vector256.LessThan(a, splatSingle TanhSingleSeriesEnd), series, quotient)
        magnitude ||| (v &&& splatSingle -0.0f)

    /// expSingleCoefficients and tanhSingleCoefficients as vectors, taken into locals before a
    /// kernel's loop (see expm1Coefficients32).
    let inline private expSingleCoefficients256 () =
        let c = expSingleCoefficients
        struct (splatSingle c.[0], splatSingle c.[1], splatSingle c.[2], splatSingle c.[3], splatSingle c.[4])
    let inline private tanhSingleCoefficients256 () =
        let t = tanhSingleCoefficients
        struct (splatSingle t.[0], splatSingle t.[1], splatSingle t.[2], splatSingle t.[3], splatSingle t.[4], splatSingle t.[5], splatSingle t.[6])

    /// e^x over float32, eight float32 lanes at a time.
    let internal exp32By256 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let c = expSingleCoefficients256 ()
        mapSingle256 (expSingle c) 0.0f x y

    /// tanh over float32, eight float32 lanes at a time.
    let internal tanh32By256 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let c, t = expSingleCoefficients256 (), tanhSingleCoefficients256 ()
        mapSingle256 (tanhSingle c t) 0.0f x y

    /// σ'(x) = e/(1 + e)² with e = e^−|x| as exp32 rounds it, the quotient in float32: in one pass
    /// the operations of −|x|, exp32 and that quotient in three (the same per element, so the same bits).
    let internal sigmoidSlope32By256 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let c = expSingleCoefficients256 ()
        mapSingle256 (fun v ->
            let e = expSingle c (-(Vector256.Abs v))
            let d = e + Vector256<float32>.One
            e / (d * d)) 0.0f x y

    /// The smallest normal float32, 2^-126: log scales inputs below it by 2^23 first.
    [<Literal>]
    let private SmallestNormal32 = 1.17549435e-38f
    /// The bits of √½ rounded to float32: the exponent of x's bits minus these is the k of x = 2^k·m
    /// with m in [√½, √2).
    [<Literal>]
    let private SqrtHalfBits32 = 0x3F3504F3

    /// logSingleCoefficients as vectors, taken into locals before a kernel's loop (see expm1Coefficients32).
    let inline private logSingleCoefficients256 () =
        let l = logSingleCoefficients
        struct (splatSingle l.[0], splatSingle l.[1], splatSingle l.[2], splatSingle l.[3], splatSingle l.[4],
                splatSingle l.[5], splatSingle l.[6], splatSingle l.[7], splatSingle l.[8], splatSingle l.[9])

    /// log x = k·ln2 + f + f²·P(f) with x = 2^k·(1 + f), 1 + f in [√½, √2) (subnormal x scaled by
    /// 2^23 first, so k runs from −149 to 128); f = (1 + f) − 1 is exact (Sterbenz). k·Ln2Hi32 is
    /// exact (eight bits times sixteen), and the rounding error of k·Ln2Hi32 + f is recovered
    /// exactly (|k·Ln2Hi32| > 0.69 > |f| unless k = 0, where the sum is f itself), so it joins
    /// f²·P(f) and k·ln2Lo32 before the one rounding that matters: within 0.83 ulp of log x at
    /// every float32 input (exactly 0 at 1). 0 gives −∞, +∞ gives +∞, negatives and NaN give NaN.
    let inline private logSingle (l: struct (Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32> * Vector256<float32>))
                                 (v: Vector256<float32>) =
        let struct (l9, l8, l7, l6, l5, l4, l3, l2, l1, l0) = l
        let small = Vector256.LessThan(v, splatSingle SmallestNormal32)
        let bits = (Vector256.ConditionalSelect(small, v * splatSingle 8388608.0f, v)).AsInt32()
        let k = Vector256.ShiftRightArithmetic(bits - Vector256.Create SqrtHalfBits32, 23)
        let f = (bits - Vector256.ShiftLeft(k, 23)).AsSingle() - Vector256<float32>.One
        let e = Vector256.ConvertToSingle k - (small.AsSingle() &&& splatSingle 23.0f)
        let p = fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle (fmaSingle l9 f l8) f l7) f l6) f l5) f l4) f l3) f l2) f l1) f l0
        let a = e * splatSingle Ln2Hi32
        let high = a + f
        let low = fmaSingle f (f * p) (fmaSingle e (splatSingle ln2Lo32) ((a - high) + f))
        let value = high + low
        let finitePositive = Vector256.GreaterThan(v, Vector256<float32>.Zero) &&& Vector256.LessThan(v, splatSingle Single.PositiveInfinity)
        let edge =
            Vector256.ConditionalSelect(Vector256.Equals(v, Vector256<float32>.Zero), splatSingle Single.NegativeInfinity,
                Vector256.ConditionalSelect(Vector256.LessThan(v, Vector256<float32>.Zero), splatSingle Single.NaN, v))
        Vector256.ConditionalSelect(finitePositive, value, edge)

    /// log over float32, eight float32 lanes at a time.
    let internal log32By256 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let l = logSingleCoefficients256 ()
        mapSingle256 (logSingle l) 1.0f x y

    // The same kernels on Vector512 where the CPU has it: each lane runs the same IEEE operations
    // in the same order (the division and the fused multiply-adds are correctly rounded at any
    // width), so the results are the same bits (the tests hold both widths to them).

    let inline private splatSingle512 (x: float32) : Vector512<float32> = Vector512.Create x
    let inline private fmaSingle512 (a: Vector512<float32>) (b: Vector512<float32>) (c: Vector512<float32>) = Vector512.FusedMultiplyAdd(a, b, c)

    let inline private mapSingle512 ([<InlineIfLambda>] f: Vector512<float32> -> Vector512<float32>) (standIn: float32)
                                    (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let n = x.Length
        let mutable i = 0
        while i + 32 <= n do
            let r0 = f (Vector512.Create<float32>(x.Slice(i, 16)))
            let r1 = f (Vector512.Create<float32>(x.Slice(i + 16, 16)))
            r0.CopyTo(y.Slice(i, 16))
            r1.CopyTo(y.Slice(i + 16, 16))
            i <- i + 32
        while i + 16 <= n do
            (f (Vector512.Create<float32>(x.Slice(i, 16)))).CopyTo(y.Slice(i, 16))
            i <- i + 16
        if i < n then
            let mutable v = Vector512.Create standIn
            for k in 0 .. n - i - 1 do
                v <- v.WithElement(k, x.[i + k])
            let r = f v
            for k in 0 .. n - i - 1 do
                y.[i + k] <- r.GetElement k

    let inline private expm1ReducedSingle512 (c: struct (Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32>))
                                          (w: Vector512<float32>) =
        let struct (c6, c5, c4, c3, c2) = c
        let shifted = fmaSingle512 w (splatSingle512 Log2e32) (splatSingle512 RoundingShift32)
        let n = shifted - splatSingle512 RoundingShift32
        let r = fmaSingle512 n (splatSingle512 -ln2Lo32) (fmaSingle512 n (splatSingle512 -Ln2Hi32) w)
        let q = fmaSingle512 (r * r) (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 c6 r c5) r c4) r c3) r c2) r
        struct (shifted.AsInt32() - Vector512.Create RoundingShift32Bits, q)

    let inline private expSingle512 c (v: Vector512<float32>) =
        let v = Vector512.MinNative(splatSingle512 100.0f, Vector512.MaxNative(splatSingle512 -110.0f, v))
        let struct (n, q) = expm1ReducedSingle512 c v
        let n1 = Vector512.ShiftRightArithmetic(n, 1)
        let bias = Vector512.Create 127
        let s1 = Vector512.ShiftLeft(n1 + bias, 23).AsSingle()
        let s2 = Vector512.ShiftLeft(n - n1 + bias, 23).AsSingle()
        fmaSingle512 s1 q s1 * s2

    let inline private tanhSingle512 c (t: struct (Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32>))
                                  (v: Vector512<float32>) =
        let struct (t0, t1, t2, t3, t4, t5, t6) = t
        let one = Vector512<float32>.One
        let two = splatSingle512 2.0f
        let a = Vector512.Abs v
        let u = a * a
        let series = fmaSingle512 (a * u) (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 t0 u t1) u t2) u t3) u t4) u t5) u t6) a
        let struct (n, q) = expm1ReducedSingle512 c (two * Vector512.MinNative(splatSingle512 10.0f, a))
        let scale = Vector512.ShiftLeft(n + Vector512.Create 127, 23).AsSingle()
        let quotient = one - two / (fmaSingle512 scale q scale + one)
        let magnitude = Vector512.ConditionalSelect(Vector512.LessThan(a, splatSingle512 TanhSingleSeriesEnd), series, quotient)
        magnitude ||| (v &&& splatSingle512 -0.0f)

    let inline private expSingleCoefficients512 () =
        let c = expSingleCoefficients
        struct (splatSingle512 c.[0], splatSingle512 c.[1], splatSingle512 c.[2], splatSingle512 c.[3], splatSingle512 c.[4])
    let inline private tanhSingleCoefficients512 () =
        let t = tanhSingleCoefficients
        struct (splatSingle512 t.[0], splatSingle512 t.[1], splatSingle512 t.[2], splatSingle512 t.[3], splatSingle512 t.[4], splatSingle512 t.[5], splatSingle512 t.[6])

    let internal exp32By512 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let c = expSingleCoefficients512 ()
        mapSingle512 (expSingle512 c) 0.0f x y

    let internal tanh32By512 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let c, t = expSingleCoefficients512 (), tanhSingleCoefficients512 ()
        mapSingle512 (tanhSingle512 c t) 0.0f x y

    let internal sigmoidSlope32By512 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let c = expSingleCoefficients512 ()
        mapSingle512 (fun v ->
            let e = expSingle512 c (-(Vector512.Abs v))
            let d = e + Vector512<float32>.One
            e / (d * d)) 0.0f x y

    let inline private logSingleCoefficients512 () =
        let l = logSingleCoefficients
        struct (splatSingle512 l.[0], splatSingle512 l.[1], splatSingle512 l.[2], splatSingle512 l.[3], splatSingle512 l.[4],
                splatSingle512 l.[5], splatSingle512 l.[6], splatSingle512 l.[7], splatSingle512 l.[8], splatSingle512 l.[9])

    let inline private logSingle512 (l: struct (Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32> * Vector512<float32>))
                                    (v: Vector512<float32>) =
        let struct (l9, l8, l7, l6, l5, l4, l3, l2, l1, l0) = l
        let small = Vector512.LessThan(v, splatSingle512 SmallestNormal32)
        let bits = (Vector512.ConditionalSelect(small, v * splatSingle512 8388608.0f, v)).AsInt32()
        let k = Vector512.ShiftRightArithmetic(bits - Vector512.Create SqrtHalfBits32, 23)
        let f = (bits - Vector512.ShiftLeft(k, 23)).AsSingle() - Vector512<float32>.One
        let e = Vector512.ConvertToSingle k - (small.AsSingle() &&& splatSingle512 23.0f)
        let p = fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 (fmaSingle512 l9 f l8) f l7) f l6) f l5) f l4) f l3) f l2) f l1) f l0
        let a = e * splatSingle512 Ln2Hi32
        let high = a + f
        let low = fmaSingle512 f (f * p) (fmaSingle512 e (splatSingle512 ln2Lo32) ((a - high) + f))
        let value = high + low
        let finitePositive = Vector512.GreaterThan(v, Vector512<float32>.Zero) &&& Vector512.LessThan(v, splatSingle512 Single.PositiveInfinity)
        let edge =
            Vector512.ConditionalSelect(Vector512.Equals(v, Vector512<float32>.Zero), splatSingle512 Single.NegativeInfinity,
                Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float32>.Zero), splatSingle512 Single.NaN, v))
        Vector512.ConditionalSelect(finitePositive, value, edge)

    let internal log32By512 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        let l = logSingleCoefficients512 ()
        mapSingle512 (logSingle512 l) 1.0f x y


    // ------------------------------------------------ float64 tanh on Vector512

    // The float64 tanh is the costliest elementwise kernel of an MLP step, and it waits on the
    // latency of its chain of multiply-adds: eight lanes per chain instead of four halve its time.
    // The same IEEE operations in the same order as tanhVector, so the same bits.

    /// expm1Terms on Vector512.
    let private expm1Terms512 = [| for n in 14 .. -1 .. 2 -> splat512 inverseFactorial.[n] |]

    /// horner13 on Vector512.
    let inline private horner13By512 (c: Vector512<float>[]) (z: Vector512<float>) =
        fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 c.[0] z c.[1]) z c.[2]) z c.[3]) z c.[4]) z c.[5]) z c.[6]) z c.[7]) z c.[8]) z c.[9]) z c.[10]) z c.[11]) z c.[12]

    /// tanhVector on Vector512 (reduceExp, then expm1Vector's sum, then the quotient and sign).
    let inline private tanhVector512 (c: Vector512<float>[]) (v: Vector512<float>) =
        let w = splat512 2.0 * Vector512.Min(Vector512.Abs v, splat512 tanhSaturates)
        let n = Vector512.Round(w * splat512 Log2e : Vector512<float>)
        let r = fma512 n (splat512 -Ln2Lo) (fma512 n (splat512 -Ln2Hi) w)
        let scale = Vector512.ShiftLeft(Vector512.ConvertToInt64 n + Vector512.Create 1023L, 52).AsDouble()
        let q = fma512 (r * r) (horner13By512 c r) r
        let e = fma512 scale q (scale - splat512 1.0)
        let d = e + splat512 2.0
        let magnitude = Vector512.ConditionalSelect(Vector512.GreaterThan(e, splat512 65536.0), splat512 1.0 - splat512 2.0 / d, e / d)
        Vector512.ConditionalSelect(Vector512.LessThan(v, Vector512<float>.Zero), -magnitude, magnitude)

    /// tanh x for every x but NaN and the zeros, on Vector512: two vectors per iteration, then one for a last 8.
    let internal tanhBy512 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = expm1Terms512
        let mutable i = 0
        while i + 16 <= x.Length do
            let r0 = tanhVector512 c (Vector512.Create<float>(x.Slice(i, 8)))
            let r1 = tanhVector512 c (Vector512.Create<float>(x.Slice(i + 8, 8)))
            r0.CopyTo(y.Slice(i, 8))
            r1.CopyTo(y.Slice(i + 8, 8))
            i <- i + 16
        if i < x.Length then
            (tanhVector512 c (Vector512.Create<float>(x.Slice(i, 8)))).CopyTo(y.Slice(i, 8))

    // ------------------------------------------------ float64 exp on Vector512

    // The float64 exp is what softmax and log-softmax spend most of their time in (each row runs in
    // float64 for both dtypes), and its fourteen multiply-adds in a row wait on each other's latency:
    // eight lanes per chain instead of four. The same operations in the same order as expVector.

    /// expTerms on Vector512.
    let private expTerms512 = [| for n in 13 .. -1 .. 0 -> splat512 inverseFactorial.[n] |]

    /// expVector on Vector512 (reduceExp, then horner14, times 2^n).
    let inline private expVector512 (c: Vector512<float>[]) (v: Vector512<float>) =
        let n = Vector512.Round(v * splat512 Log2e : Vector512<float>)
        let r = fma512 n (splat512 -Ln2Lo) (fma512 n (splat512 -Ln2Hi) v)
        let scale = Vector512.ShiftLeft(Vector512.ConvertToInt64 n + Vector512.Create 1023L, 52).AsDouble()
        let p =
            fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 (fma512 c.[0] r c.[1]) r c.[2]) r c.[3]) r c.[4]) r c.[5]) r c.[6]) r c.[7]) r c.[8]) r c.[9]) r c.[10]) r c.[11]) r c.[12]) r c.[13]
        p * scale

    /// e^x for |x| ≤ 708, on Vector512: two vectors per iteration, then one for a last 8.
    let internal expBy512 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let c = expTerms512
        let mutable i = 0
        while i + 16 <= x.Length do
            let r0 = expVector512 c (Vector512.Create<float>(x.Slice(i, 8)))
            let r1 = expVector512 c (Vector512.Create<float>(x.Slice(i + 8, 8)))
            r0.CopyTo(y.Slice(i, 8))
            r1.CopyTo(y.Slice(i + 8, 8))
            i <- i + 16
        if i < x.Length then
            (expVector512 c (Vector512.Create<float>(x.Slice(i, 8)))).CopyTo(y.Slice(i, 8))

    /// Whether the float32 exp and tanh and the float64 exp and tanh run on Vector512 (tests hold
    /// both widths to the same bits).
    let private use512 = Vector512.IsHardwareAccelerated

    /// e^x for |x| ≤ 708 (lengths multiples of 8, as every float64 kernel here).
    let exp (x: ReadOnlySpan<float>) (y: Span<float>) =
        if use512 then expBy512 x y else expBy256 x y

    /// tanh x for every x but NaN and the zeros, whose sign it loses (lengths multiples of 8, as every
    /// float64 kernel here).
    let tanh (x: ReadOnlySpan<float>) (y: Span<float>) =
        if use512 then tanhBy512 x y else tanhBy256 x y

    /// e^x over float32.
    let exp32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        if use512 then exp32By512 x y else exp32By256 x y

    /// σ'(x) = e/(1 + e)² over float32 (see sigmoidSlope32By256).
    let sigmoidSlope32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        if use512 then sigmoidSlope32By512 x y else sigmoidSlope32By256 x y

    /// log over float32 (see logSingle for its edges).
    let log32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        if use512 then log32By512 x y else log32By256 x y

    /// tanh over float32 (see tanhSingle for its edges).
    let tanh32 (x: ReadOnlySpan<float32>) (y: Span<float32>) =
        if use512 then tanh32By512 x y else tanh32By256 x y

    // ------------------------------------------------ float64 values bound for a float32 result

    let internal expFor32By512 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32By512 ()
        let limit = splat512 200.0
        let inline f (v: Vector512<float>) =
            let struct (scale, r) = reduceExp32By512 (Vector512.MinNative(limit, Vector512.MaxNative(-limit, v)))
            fma512 scale (expm1Series32By512 c0 c1 c2 c3 c4 c5 c6 r) scale
        let n = x.Length
        let mutable i = 0
        while i + 8 <= n do
            (f (Vector512.Create<float>(x.Slice(i, 8)))).CopyTo(y.Slice(i, 8))
            i <- i + 8
        if i < n then
            let mutable v = Vector512<float>.Zero
            for k in 0 .. n - i - 1 do
                v <- v.WithElement(k, x.[i + k])
            let r = f v
            for k in 0 .. n - i - 1 do
                y.[i + k] <- r.GetElement k

    let internal expFor32By256 (x: ReadOnlySpan<float>) (y: Span<float>) =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32 ()
        let n = x.Length
        let mutable i = 0
        // four vectors at a time, all read before any is written (y may be x): four independent chains of
        // multiply-adds in flight, where one waits on each one's latency
        while i + 16 <= n do
            let r0 = exp32Vector c0 c1 c2 c3 c4 c5 c6 (load x i)
            let r1 = exp32Vector c0 c1 c2 c3 c4 c5 c6 (load x (i + 4))
            let r2 = exp32Vector c0 c1 c2 c3 c4 c5 c6 (load x (i + 8))
            let r3 = exp32Vector c0 c1 c2 c3 c4 c5 c6 (load x (i + 12))
            r0.CopyTo(y.Slice(i, 4))
            r1.CopyTo(y.Slice(i + 4, 4))
            r2.CopyTo(y.Slice(i + 8, 4))
            r3.CopyTo(y.Slice(i + 12, 4))
            i <- i + 16
        while i + 4 <= n do
            (exp32Vector c0 c1 c2 c3 c4 c5 c6 (load x i)).CopyTo(y.Slice(i, 4))
            i <- i + 4
        if i < n then
            let mutable v = Vector256<float>.Zero
            for k in 0 .. n - i - 1 do
                v <- v.WithElement(k, x.[i + k])
            let r = exp32Vector c0 c1 c2 c3 c4 c5 c6 v
            for k in 0 .. n - i - 1 do
                y.[i + k] <- r.GetElement k

    /// e^x over float64 values that a float32 result will round, with exp32's series (within
    /// 3e-10 relative, a two-hundredth of float32's half ulp) and its hold at ±200, beyond which a
    /// float32 result of e^x alone is 0 or ∞; NaN passes. Any length; y may be x. For the float64
    /// intermediates of float32 kernels (gelu's slope), where the float64 exp's fourteen terms and
    /// its domain checks bought digits the result cannot keep.
    let expFor32 (x: ReadOnlySpan<float>) (y: Span<float>) =
        if use512 then expFor32By512 x y else expFor32By256 x y

    // ------------------------------------------------ the terms of a float32 softmax row

    // A float32 softmax or log-softmax row rounds once to float32 at its end, so its terms
    // e^(x − max) need float32's precision, not float64's: exp32's seven-term series (within
    // 3e-10 of each term, a two-hundredth of float32's half ulp) in place of the fourteen-term
    // float64 exp, and one pass that widens, exponentiates and sums, in place of a widening
    // pass, a copy through the float64 exp's domain check and a sum. Lane j of eight sums the
    // terms whose index is j mod 8 and the lanes add in a fixed tree at the end, at either
    // vector width, so a row's sum is the same bits on every machine.

    /// The eight-lane sum's last step, in its fixed order.
    let inline private laneTree (l: int -> float) =
        ((l 0 + l 1) + (l 2 + l 3)) + ((l 4 + l 5) + (l 6 + l 7))

    /// Which of eight lanes hold one of the `count` entries left at a row's end.
    let private laneIndices = [| 0L .. 7L |]

    /// Masks of the lanes, four and four, that hold one of `count` entries.
    let inline private lanesHolding256 (count: int) =
        let lanes = Vector256.Create(int64 count)
        struct (Vector256.LessThan(Vector256.Create(0L, 1L, 2L, 3L), lanes).AsDouble(),
                Vector256.LessThan(Vector256.Create(4L, 5L, 6L, 7L), lanes).AsDouble())

    /// The first `count` terms of a group of eight at i, four and four, into `exps`.
    let inline private keepTerms256 (exps: Span<float>) (i: int) (count: int) (low: Vector256<float>) (high: Vector256<float>) =
        for k in 0 .. count - 1 do
            exps.[i + k] <- if k < 4 then low.GetElement k else high.GetElement(k - 4)

    /// Adds a group's terms to the lane sums, four and four, only the lanes that hold one of `count` entries.
    let inline private accumulate256 (accLow: byref<Vector256<float>>) (accHigh: byref<Vector256<float>>) (count: int) (low: Vector256<float>) (high: Vector256<float>) =
        let struct (insideLow, insideHigh) = lanesHolding256 count
        accLow <- accLow + Vector256.ConditionalSelect(insideLow, low, Vector256<float>.Zero)
        accHigh <- accHigh + Vector256.ConditionalSelect(insideHigh, high, Vector256<float>.Zero)

    /// The same on Vector512.
    let inline private accumulate512 (acc: byref<Vector512<float>>) (count: int) (e: Vector512<float>) =
        let inside = Vector512.LessThan(Vector512.Create<int64>(laneIndices), Vector512.Create(int64 count)).AsDouble()
        acc <- acc + Vector512.ConditionalSelect(inside, e, Vector512<float>.Zero)

    /// e^(v − shift) with v − shift held at -200 from below: the float32 result is 0 there
    /// whichever tiny term stands in. NaN passes MaxNative (its second operand), so a NaN or
    /// infinite maximum makes the row NaN, as torch's. (Inline functions, not local closures:
    /// a closure over vectors is a call per vector.)
    let inline private shiftedTerm512 c0 c1 c2 c3 c4 c5 c6 (shift: Vector512<float>) (low: Vector512<float>) (v: Vector512<float>) =
        let struct (scale, r) = reduceExp32By512 (Vector512.MaxNative(low, v - shift))
        fma512 scale (expm1Series32By512 c0 c1 c2 c3 c4 c5 c6 r) scale

    /// shiftedTerm512 on Vector256.
    let inline private shiftedTerm256 c0 c1 c2 c3 c4 c5 c6 (shift: Vector256<float>) (low: Vector256<float>) (v: Vector256<float>) =
        let struct (scale, r) = reduceExp32 (Vector256.MaxNative(low, v - shift))
        fma scale (expm1Series32 c0 c1 c2 c3 c4 c5 c6 r) scale

    let internal expShiftedSum32By512 (x: ReadOnlySpan<float32>) (m: float) (exps: Span<float>) : float =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32By512 ()
        let shift, low = splat512 m, splat512 -200.0
        let keep = not exps.IsEmpty
        let n = x.Length
        let mutable acc = Vector512<float>.Zero
        let mutable i = 0
        while i + 8 <= n do
            let e = shiftedTerm512 c0 c1 c2 c3 c4 c5 c6 shift low (Vector512.WidenLower(Vector256.Create<float32>(x.Slice(i, 8)).ToVector512Unsafe()))
            acc <- acc + e
            if keep then e.CopyTo(exps.Slice(i, 8))
            i <- i + 8
        if i < n then
            let count = n - i
            let mutable v = Vector256<float32>.Zero
            for k in 0 .. count - 1 do
                v <- v.WithElement(k, x.[i + k])
            let e = shiftedTerm512 c0 c1 c2 c3 c4 c5 c6 shift low (Vector512.WidenLower(v.ToVector512Unsafe()))
            accumulate512 &acc count e
            if keep then
                for k in 0 .. count - 1 do
                    exps.[i + k] <- e.GetElement k
        laneTree acc.GetElement

    let internal expShiftedSum32By256 (x: ReadOnlySpan<float32>) (m: float) (exps: Span<float>) : float =
        let struct (c0, c1, c2, c3, c4, c5, c6) = expm1Coefficients32 ()
        let shift, low = splat m, splat -200.0
        let keep = not exps.IsEmpty
        let n = x.Length
        // lanes 0-3 and 4-7 of the eight
        let mutable accLow = Vector256<float>.Zero
        let mutable accHigh = Vector256<float>.Zero
        let mutable i = 0
        while i + 8 <= n do
            let v = Vector256.Create<float32>(x.Slice(i, 8))
            let eLow, eHigh = shiftedTerm256 c0 c1 c2 c3 c4 c5 c6 shift low (Vector256.WidenLower v), shiftedTerm256 c0 c1 c2 c3 c4 c5 c6 shift low (Vector256.WidenUpper v)
            accLow <- accLow + eLow
            accHigh <- accHigh + eHigh
            if keep then store eLow eHigh exps i
            i <- i + 8
        if i < n then
            let count = n - i
            let mutable v = Vector256<float32>.Zero
            for k in 0 .. count - 1 do
                v <- v.WithElement(k, x.[i + k])
            let eLow, eHigh = shiftedTerm256 c0 c1 c2 c3 c4 c5 c6 shift low (Vector256.WidenLower v), shiftedTerm256 c0 c1 c2 c3 c4 c5 c6 shift low (Vector256.WidenUpper v)
            accumulate256 &accLow &accHigh count eLow eHigh
            if keep then keepTerms256 exps i count eLow eHigh
        laneTree (fun k -> if k < 4 then accLow.GetElement k else accHigh.GetElement(k - 4))

    // A float64 row's terms take the float64 exp (its fourteen terms), in one pass with their
    // sum; an entry whose x − m lies outside the kernel's |x| ≤ 700 (or is NaN) takes Math.Exp,
    // as Elementwise's isolated runs do, so every term has the bits it had through them (the
    // sum adds in the eight lanes' order, as the float32 rows').

    /// e^w lane by lane for a group of eight whose w is not all inside |w| ≤ 700.
    let private outsideTerms (w: Span<float>) =
        for k in 0 .. w.Length - 1 do
            w.[k] <- Math.Exp w.[k]

    /// Eight float64 lanes on the caller's stack (inlined, so the caller's frame): a row kernel
    /// in a compiled step allocates nothing.
    let inline private stackGroup () = Span<float>(NativePtr.toVoidPtr (NativePtr.stackalloc<float> 8), 8)

    let internal expShiftedSum64By512 (x: ReadOnlySpan<float>) (m: float) (exps: Span<float>) : float =
        let c = expTerms512
        let shift, bound = splat512 m, splat512 700.0
        let keep = not exps.IsEmpty
        let n = x.Length
        let group = stackGroup ()
        let mutable acc = Vector512<float>.Zero
        let mutable i = 0
        while i < n do
            let count = min 8 (n - i)
            let mutable w = Vector512<float>.Zero
            if count = 8 then w <- Vector512.Create<float>(x.Slice(i, 8)) - shift
            else
                for k in 0 .. count - 1 do
                    w <- w.WithElement(k, x.[i + k] - m)
            // NaN fails the comparison, so it goes to Math.Exp too
            let e =
                if Vector512.LessThanOrEqualAll(Vector512.Abs w, bound) then expVector512 c w
                else
                    w.CopyTo group
                    outsideTerms group
                    Vector512.Create<float>(Span<float>.op_Implicit group)
            accumulate512 &acc count e
            if keep then
                if count = 8 then e.CopyTo(exps.Slice(i, 8))
                else
                    for k in 0 .. count - 1 do
                        exps.[i + k] <- e.GetElement k
            i <- i + count
        laneTree acc.GetElement

    let internal expShiftedSum64By256 (x: ReadOnlySpan<float>) (m: float) (exps: Span<float>) : float =
        let c = expTerms
        let shift, bound = splat m, splat 700.0
        let keep = not exps.IsEmpty
        let n = x.Length
        let group = stackGroup ()
        let mutable accLow = Vector256<float>.Zero
        let mutable accHigh = Vector256<float>.Zero
        let mutable i = 0
        while i < n do
            let count = min 8 (n - i)
            for k in 0 .. 7 do
                group.[k] <- if k < count then x.[i + k] - m else 0.0
            let wLow, wHigh = Vector256.Create<float>(Span<float>.op_Implicit (group.Slice(0, 4))), Vector256.Create<float>(Span<float>.op_Implicit (group.Slice(4, 4)))
            let eLow, eHigh =
                if Vector256.LessThanOrEqualAll(Vector256.Abs wLow, bound) && Vector256.LessThanOrEqualAll(Vector256.Abs wHigh, bound) then
                    expVector c wLow, expVector c wHigh
                else
                    outsideTerms group
                    Vector256.Create<float>(Span<float>.op_Implicit (group.Slice(0, 4))), Vector256.Create<float>(Span<float>.op_Implicit (group.Slice(4, 4)))
            accumulate256 &accLow &accHigh count eLow eHigh
            if keep then keepTerms256 exps i count eLow eHigh
            i <- i + count
        laneTree (fun k -> if k < 4 then accLow.GetElement k else accHigh.GetElement(k - 4))

    /// Σ e^(x_k − m) over a float64 row, m its maximum, each term by the float64 exp (Math.Exp
    /// outside its domain); the terms are also written to `exps` unless it is empty.
    let expShiftedSum64 (x: ReadOnlySpan<float>) (m: float) (exps: Span<float>) : float =
        if use512 then expShiftedSum64By512 x m exps else expShiftedSum64By256 x m exps

    /// Σ e^(x_k − m) over a float32 row x widened to float64, m its maximum, each term by the
    /// float32 exp's series; the terms are also written to `exps` unless it is empty (it holds
    /// at least x's length then). The terms of float32 softmax and log-softmax rows.
    let expShiftedSum32 (x: ReadOnlySpan<float32>) (m: float) (exps: Span<float>) : float =
        if use512 then expShiftedSum32By512 x m exps else expShiftedSum32By256 x m exps
