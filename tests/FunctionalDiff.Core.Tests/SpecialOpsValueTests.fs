/// Values of the special functions against closed forms, the indexing composites and einsum
/// against reference loops, torch's conventions at the kinks to order 3, and error messages.
module FunctionalDiff.Core.Tests.SpecialOpsValueTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private eulerGamma = 0.5772156649015329
let private zeta3 = 1.2020569031595942

/// f applied to a vector of points, as float64 values.
let private at (f: Expr -> Expr) (points: float[]) = values (f (constant (tensor [| points.Length |] points)))

/// The k-th derivative of an elementwise f at each point, by nesting grad k times.
let private derivative (k: int) (f: Expr -> Expr) (points: float[]) =
    let rec nest k (g: Expr -> Expr) = if k = 0 then g else nest (k - 1) (fun x -> Diff.grad (fun y -> Expr.sum (g y)) x)
    at (nest k f) points

/// Inputs for erf and erfc's run tests: in each period of 97, NaN, ±∞, the largest value below 3 (in
/// the dtype), −0 and a tiny value, then 34 values on (−6, 6) and 57 in a row inside (−3, 3), so runs
/// take every vector path and the scalar one.
let private erfProbes (count: int) (seed: int) (belowThree: float) (tiny: float) =
    let random = Random seed
    Array.init count (fun i ->
        match i % 97 with
        | 0 -> nan
        | 1 -> infinity
        | 2 -> -infinity
        | 3 -> belowThree
        | 4 -> -0.0
        | 5 -> tiny
        | k when k < 40 -> (random.NextDouble() - 0.5) * 12.0
        | _ -> (random.NextDouble() - 0.5) * 5.9)

/// erf or erfc (with `complement`) by the series and the quadrature of TensorElementwiseTests, IEEE
/// values at NaN and ±∞; erfc is 1 − the series below `seriesBelow` and the quadrature above.
let private erfReference (seriesBelow: float) (complement: bool) (x: float) =
    if Double.IsNaN x then nan
    elif complement then
        if Double.IsPositiveInfinity x then 0.0 elif Double.IsNegativeInfinity x then 2.0
        elif abs x < seriesBelow then 1.0 - TensorElementwiseTests.erfBySeries x
        elif x > 0.0 then TensorElementwiseTests.erfcByQuadrature x
        else 2.0 - TensorElementwiseTests.erfcByQuadrature (-x)
    elif Double.IsInfinity x then float (sign x)
    elif abs x < 3.0 then TensorElementwiseTests.erfBySeries x
    else float (sign x) * (1.0 - TensorElementwiseTests.erfcByQuadrature (abs x))

/// A float64 tensor of the shape with entries drawn from a standard normal.
let private normal = normalSample

let private messageOf (f: unit -> obj) =
    try
        f () |> ignore
        "no exception"
    with :? ShapeException as e -> e.Message

let private v (shape: int[]) = Expr.variable "v" shape DType.Float64

/// erfc x for large x by its asymptotic series e^{-x²}/(x√π) Σ (-1)ⁿ (2n-1)!! / (2x²)ⁿ, whose
/// terms fall while n < x²: at x ≥ 6 thirty terms leave less than 1e-15 relative.
let private erfcAsymptotic (x: float) =
    let mutable term = 1.0
    let mutable sum = 1.0
    for n in 1 .. 30 do
        term <- -term * float (2 * n - 1) / (2.0 * x * x)
        sum <- sum + term
    exp (-x * x) / (x * sqrt Math.PI) * sum

/// erfc from mpmath 1.3, rounded to float64: `mpmath.mp.dps = 50; float(mpmath.erfc(mpmath.mpf(x)))`. Every x is a
/// float32 too, and each value's float32 rounding is the correctly rounded float32 of mpmath's erfc (checked against both
/// neighbours at 50 digits), so the float32 check reads the same table. The last three are float32 inputs where
/// 1 − erf x in float64 was off by more than float32's half ulp.
let private erfcMpmath =
    [| -5.5, 1.9999999999999927; -2.5, 1.999593047982555; -1.0, 1.8427007929497148; 0.25, 0.7236736098317631
       0.4921875, 0.48639235887972904; 0.5, 0.4795001221869535; 0.75, 0.28884436634648486; 1.0, 0.15729920705028513
       1.25, 0.07709987174354177; 1.5, 0.033894853524689274; 1.75, 0.013328328780817557; 2.0, 0.004677734981047266
       2.25, 0.0014627165866811518; 2.5, 0.0004069520174449589; 2.75, 0.00010062192211963683
       2.96875, 2.6875231247358474e-05; 3.0, 2.209049699858544e-05; 4.5, 1.9661604415428876e-10
       8.0, 1.1224297172982926e-29; 15.0, 7.212994172451207e-100; 26.5, 2.2109076642637343e-307
       2.4088943004608154, 0.0006575552688982295; 2.6686630249023438, 0.00016061246428765365
       2.7133724689483643, 0.00012440047427818217 |]

let private kernelTests =
    testList "Kernels vs closed forms" [
        test "lgamma at integers, half-integers and negative non-integers" {
            let points = [| 1.0; 2.0; 3.0; 7.0; 0.5; 1.5; -0.5; -1.5; 30.0 |]
            let logFactorial n = Array.sum (Array.init (n - 1) (fun k -> log (float (k + 1))))
            let expected =
                [| 0.0; 0.0; log 2.0; log 720.0; 0.5 * log Math.PI; log (0.5 * sqrt Math.PI)
                   log (2.0 * sqrt Math.PI); log (4.0 / 3.0 * sqrt Math.PI); logFactorial 30 |]
            expectClose 1e-13 (at Expr.lgamma points) expected "lgamma"
        }
        test "lgamma keeps its relative accuracy next to its zeros at 1 and 2 (Taylor series with ζ values)" {
            let zeta2, zeta4 = Math.PI ** 2.0 / 6.0, Math.PI ** 4.0 / 90.0
            // log Γ(1+t) = -γt + ζ(2)t²/2 - ζ(3)t³/3 + ζ(4)t⁴/4 - …, log Γ(2+t) = log Γ(1+t) + log1p t
            let nearOne t = -eulerGamma * t + zeta2 / 2.0 * t * t - zeta3 / 3.0 * t ** 3.0 + zeta4 / 4.0 * t ** 4.0
            let log1p t = t - t * t / 2.0 + t ** 3.0 / 3.0 - t ** 4.0 / 4.0
            for step in [ 1e-10; -1e-9; 3e-6; -2e-5 ] do
                // the offsets the points really have (1 + step rounds; the subtraction is exact)
                let t1, t2 = (1.0 + step) - 1.0, (2.0 + step) - 2.0
                let ours = at Expr.lgamma [| 1.0 + t1; 2.0 + t2 |]
                for actual, expected, where, t in [ ours.[0], nearOne t1, "1 + t", t1; ours.[1], nearOne t2 + log1p t2, "2 + t", t2 ] do
                    Expect.isLessThan (abs (actual - expected) / abs expected) 1e-12 (sprintf "lgamma(%s), t = %g: %.17g vs %.17g" where t actual expected)
        }
        test "lgamma is +inf at 0, the negative integers and ±inf, as torch" {
            let result = at Expr.lgamma [| 0.0; -1.0; -4.0; infinity; -infinity |]
            Expect.isTrue (result |> Array.forall Double.IsPositiveInfinity) (sprintf "%A" result)
        }
        test "digamma: -γ at 1, harmonic numbers at integers, reflection at negatives, poles as torch" {
            let points = [| 1.0; 0.5; 5.0; 0.25; -0.5; 100.0 |]
            let harmonic n = Array.sum (Array.init n (fun k -> 1.0 / float (k + 1)))
            let expected =
                [| -eulerGamma; -eulerGamma - 2.0 * log 2.0; harmonic 4 - eulerGamma
                   -eulerGamma - Math.PI / 2.0 - 3.0 * log 2.0; 2.0 - eulerGamma - 2.0 * log 2.0; harmonic 99 - eulerGamma |]
            expectClose 1e-13 (at Expr.digamma points) expected "digamma"
            let poles = at Expr.digamma [| 0.0; -0.0; -2.0 |]
            Expect.equal poles.[0] -infinity "digamma(+0)"
            Expect.equal poles.[1] infinity "digamma(-0)"
            Expect.isTrue (Double.IsNaN poles.[2]) "digamma at a negative integer"
        }
        test "trigamma at ordinary points: the series Σ 1/(x+k)² summed to k = 10⁵ plus its Euler-Maclaurin tail" {
            let points = [| 0.6; 1.3; 2.7; 7.1; -0.4 |]
            let reference (x: float) =
                let n = 100000
                let mutable sum = 0.0
                for k in n - 1 .. -1 .. 0 do
                    sum <- sum + 1.0 / ((x + float k) * (x + float k))
                let a = x + float n
                sum + 1.0 / a + 1.0 / (2.0 * a * a) + 1.0 / (6.0 * a * a * a)
            expectClose 1e-14 (at (Expr.polygamma 1) points) (points |> Array.map reference) "trigamma"
        }
        test "polygamma at 1 and 1/2: ζ values" {
            expectClose 1e-13 (at (Expr.polygamma 1) [| 1.0; 0.5; 2.0 |]) [| Math.PI ** 2.0 / 6.0; Math.PI ** 2.0 / 2.0; Math.PI ** 2.0 / 6.0 - 1.0 |] "trigamma"
            expectClose 1e-13 (at (Expr.polygamma 2) [| 1.0 |]) [| -2.0 * zeta3 |] "tetragamma"
            expectClose 1e-13 (at (Expr.polygamma 3) [| 1.0; -0.5 |]) [| Math.PI ** 4.0 / 15.0; Math.PI ** 4.0 + 96.0 |] "ψ3"
        }
        test "polygamma of order 1 to 4 far below 0 (from -1e7 on, by the reflection) within 2e-15 relative of mpmath" {
            // mpmath 1.3 at 60 digits: ψ⁽ⁿ⁾(x) = (−1)ⁿ⁺¹·((−1)ⁿ·π·dⁿ/dxⁿ cot(πx) − ψ⁽ⁿ⁾(1 − x)), its own polygamma at 1 − x
            // and its numerical derivative of cot; at the half-integer −1e15 − ½ the even orders are ψ⁽ⁿ⁾(1 − x) alone (cot is 0)
            let points = [| -1e8 + 0.25; -12345678.9; -20000000.75; -1e15 - 0.5 |]
            let expected =
                [| [| 19.73920879217872; 103.35583977382872; 19.73920875217872; 9.869604401089358 |]
                   [| -124.02510672119928; -1998.6596826916004; -124.02510672119928; -9.99999999999998e-31 |]
                   [| 1558.545456544039; 60014.25278494398; 1558.545456544039; 194.8181820680049 |]
                   [| -24481.574782822518; -2399973.8794606184; -24481.574782822518; -5.999999999999976e-60 |] |]
            for n in 1 .. 4 do
                let actual = at (Expr.polygamma n) points
                for i in 0 .. points.Length - 1 do
                    // relative: the even orders at the half-integer are tiny, and an absolute bound would pass anything there
                    if not (abs (actual.[i] - expected.[n - 1].[i]) <= 2e-15 * abs expected.[n - 1].[i]) then
                        failtestf "polygamma %d at %.17g = %.17g, mpmath %.17g" n points.[i] actual.[i] expected.[n - 1].[i]
        }
        test "polygamma of order 1 to 3 at the infinities: 0 at +inf (the limit), NaN at -inf (a pole at every negative integer, so no limit)" {
            for n in 1 .. 3 do
                let result = at (Expr.polygamma n) [| infinity; -infinity |]
                Expect.equal result.[0] 0.0 (sprintf "order %d at +inf" n)
                Expect.isTrue (Double.IsNaN result.[1]) (sprintf "order %d at -inf: %g" n result.[1])
        }
        test "erf and erfc over long runs (four-vector, one-vector and scalar paths) are the series and quadrature references, and each entry alone has the same bits" {
            // inside (−3, 3) the kernels evaluate a Chebyshev form four lanes at a time; a vector with a lane outside
            // (the tails, NaN, ±∞) goes to the scalar functions; runs of 16 inside take four chains at once, and
            // runs of 32 four chains of eight lanes where the hardware has them (each period of 97 below has 57
            // values inside in a row)
            let values = erfProbes 1003 31 2.9999999999999996 1e-300
            let reference = erfReference 3.0
            for complement, op in [ false, Expr.erf; true, Expr.erfc ] do
                let run = (Eval.eval (op (Expr.constant (Tensor.FromArray(values, [| values.Length |]))))).ToDoubleArray()
                for i in 0 .. values.Length - 1 do
                    let x = values.[i]
                    let expected = reference complement x
                    // 1 − erf near ±3 keeps the absolute error of erf (a few ulps of 1), not a relative one
                    let ok =
                        if Double.IsNaN expected then Double.IsNaN run.[i]
                        else abs (run.[i] - expected) <= 1e-14 * abs expected + 1e-15
                    if not ok then failtestf "%s(%.17g) = %.17g, reference %.17g" (if complement then "erfc" else "erf") x run.[i] expected
                    let alone = (Eval.eval (op (Expr.constant (Tensor.FromArray([| x |], [| 1 |]))))).ToDoubleArray().[0]
                    if BitConverter.DoubleToInt64Bits alone <> BitConverter.DoubleToInt64Bits run.[i] && not (Double.IsNaN alone && Double.IsNaN run.[i]) then
                        failtestf "%s(%.17g): %.17g alone, %.17g in a run" (if complement then "erfc" else "erf") x alone run.[i]
        }
        test "float32 erf and erfc over long runs are within an ulp of the series and quadrature references, and each entry alone has the same bits" {
            // float32 results take Horner's rule over a power form (four chains of lanes where a group is
            // inside (−3, 3), lane by lane otherwise), rounded once to float32
            let values = erfProbes 4003 32 (float 2.9999998f) 1e-38 |> Array.map float32
            // erfc by quadrature from 0.5 on: 1 − erf would keep the absolute error of erf near 3
            let reference = erfReference 0.5
            let ulpsApart (a: float32) (b: float32) = abs (int64 (BitConverter.SingleToInt32Bits a) - int64 (BitConverter.SingleToInt32Bits b))
            for complement, op in [ false, Expr.erf; true, Expr.erfc ] do
                let run = (Eval.eval (op (Expr.constant (Tensor.FromArray(values, [| values.Length |]))))).ToDoubleArray() |> Array.map float32
                for i in 0 .. values.Length - 1 do
                    let x = values.[i]
                    let expected = float32 (reference complement (float x))
                    let name = if complement then "erfc" else "erf"
                    if Single.IsNaN expected then
                        if not (Single.IsNaN run.[i]) then failtestf "%s(%.9g) = %.9g, expected NaN" name x run.[i]
                    elif ulpsApart run.[i] expected > 1L then failtestf "%s(%.9g) = %.9g, reference %.9g" name x run.[i] expected
                    let alone = (Eval.eval (op (Expr.constant (Tensor.FromArray([| x |], [| 1 |]))))).ToDoubleArray().[0] |> float32
                    if BitConverter.SingleToInt32Bits alone <> BitConverter.SingleToInt32Bits run.[i] && not (Single.IsNaN alone && Single.IsNaN run.[i]) then
                        failtestf "%s(%.9g): %.9g alone, %.9g in a run" name x alone run.[i]
        }
        test "erfc is within 6 ulp of mpmath in float64 and correctly rounded in float32, in a run and alone (1 − erf x lost 5 digits near 3)" {
            // one run with lanes on both sides of 1/2 in the same vectors, then each entry alone
            let xs = Array.map fst erfcMpmath
            for dtype in [ DType.Float64; DType.Float32 ] do
                let tensorOf (points: float[]) =
                    if dtype = DType.Float64 then Tensor.FromArray(points, [| points.Length |])
                    else Tensor.FromArray(Array.map float32 points, [| points.Length |])
                let run = (Eval.eval (Expr.erfc (Expr.constant (tensorOf xs)))).ToDoubleArray()
                for i in 0 .. xs.Length - 1 do
                    let x, expected = erfcMpmath.[i]
                    let alone = (Eval.eval (Expr.erfc (Expr.constant (tensorOf [| x |])))).ToDoubleArray().[0]
                    for actual, where in [ run.[i], "in a run"; alone, "alone" ] do
                        if dtype = DType.Float64 then
                            let distance = abs (actual - expected) / (Math.BitIncrement expected - expected)
                            if distance > 6.0 then failtestf "erfc(%.17g) %s = %.17g, mpmath %.17g (%.1f ulp)" x where actual expected distance
                        elif float32 actual <> float32 expected then
                            failtestf "float32 erfc(%.9g) %s = %.9g, mpmath rounded %.9g" x where (float32 actual) (float32 expected)
        }
        test "erfc: 2 - erfc(-x) symmetry, 1 - erf near 0, the asymptotic series in the tail, 0 and 2 at the infinities" {
            let points = [| -3.0; -0.7; 0.0; 0.3; 1.7; 2.9 |]
            expectClose 1e-15 (at Expr.erfc points) (at (fun x -> 2.0 - Expr.erfc (-x)) points) "symmetry"
            expectClose 1e-15 (at Expr.erfc [| 0.1; -0.2 |]) (at (fun x -> 1.0 - Expr.erf x) [| 0.1; -0.2 |]) "1 - erf"
            let tail = [| 6.0; 10.0; 26.0 |]
            let ours = at Expr.erfc tail
            for i in 0 .. tail.Length - 1 do
                let expected = erfcAsymptotic tail.[i]
                Expect.isLessThan (abs (ours.[i] - expected) / expected) 1e-13 (sprintf "erfc %g: %g vs %g" tail.[i] ours.[i] expected)
            Expect.equal (at Expr.erfc [| infinity; -infinity; 40.0 |]) [| 0.0; 2.0; 0.0 |] "infinities"
        }
        test "float32 kernels are the float64 values rounded once" {
            // exact in float32, so both dtypes evaluate at the same points
            let points = [| 0.25; 1.75; 4.5; -2.5 |]
            for name, f in [ "lgamma", Expr.lgamma; "digamma", Expr.digamma; "polygamma 2", Expr.polygamma 2; "erfc", Expr.erfc ] do
                let wide = at f points |> Array.map float32
                let narrow = (Eval.eval (f (Expr.constant (Tensor.FromArray(Array.map float32 points, [| 4 |]))))).ToDoubleArray() |> Array.map float32
                Expect.equal narrow wide name
        }
    ]

let private derivativeTests =
    testList "Derivatives nest" [
        test "gelu's derivatives are Φ + xφ, φ·(2 − x²) and φ·(x³ − 4x), and 0 beyond where φ underflows" {
            let points = [| -6.0; -2.5; -0.7; 0.0; 0.3; 1.9; 4.0 |]
            let phi (x: float) = Math.Exp(-0.5 * x * x) / Math.Sqrt(2.0 * Math.PI)
            let cdf (x: float) =
                let z = x / Math.Sqrt 2.0
                if abs z < 3.0 then 0.5 * (1.0 + TensorElementwiseTests.erfBySeries z)
                elif z > 0.0 then 1.0 - 0.5 * TensorElementwiseTests.erfcByQuadrature z
                else 0.5 * TensorElementwiseTests.erfcByQuadrature (-z)
            expectClose 1e-14 (derivative 1 Activations.gelu points) (points |> Array.map (fun x -> cdf x + x * phi x)) "order 1"
            expectClose 1e-14 (derivative 2 Activations.gelu points) (points |> Array.map (fun x -> phi x * (2.0 - x * x))) "order 2"
            expectClose 1e-13 (derivative 3 Activations.gelu points) (points |> Array.map (fun x -> phi x * (x * x * x - 4.0 * x))) "order 3"
            let far = [| -1e160; -100.0; 100.0; 1e160; infinity; -infinity |]
            for k in 2 .. 3 do
                expectClose 0.0 (derivative k Activations.gelu far) (Array.zeroCreate far.Length) (sprintf "order %d far out" k)
            expectClose 0.0 (derivative 1 Activations.gelu far) [| 0.0; 0.0; 1.0; 1.0; 1.0; 0.0 |] "order 1 far out"
        }
        test "the k-th derivative of lgamma is polygamma (k-1), to order 4" {
            let points = [| 0.7; 2.5; -1.5 |]
            for k in 1 .. 4 do
                expectClose 1e-12 (derivative k Expr.lgamma points) (at (Expr.polygamma (k - 1)) points) (sprintf "order %d" k)
        }
        test "elu at 0 has torch's derivatives α, 0, 0 (backward takes x ≤ 0, double backward x < 0); α e^x below 0" {
            for k, expected in [ 1, 0.7; 2, 0.0; 3, 0.0 ] do
                expectClose 1e-15 (derivative k (Activations.elu 0.7) [| 0.0 |]) [| expected |] (sprintf "order %d" k)
            for k in 1 .. 3 do
                expectClose 1e-15 (derivative k (Activations.elu 0.7) [| -0.5; -30.0 |]) [| 0.7 * exp -0.5; 0.7 * exp -30.0 |] (sprintf "order %d below 0" k)
            Expect.equal (at (Activations.elu 0.7) [| -1e20; 1e300; 0.0 |]) [| -0.7; 1e300; 0.0 |] "values far out"
            Expect.equal (derivative 1 (Activations.elu 0.7) [| 1e300 |]) [| 1.0 |] "no overflow in the untaken branch"
        }
        test "logSigmoid far out: values, and second derivatives -σ(x)σ(-x) to 1e-13 relative" {
            let s v = 1.0 / (1.0 + exp (-v))
            expectClose 1e-15 (at Activations.logSigmoid [| -800.0; 800.0; 0.0 |]) [| -800.0; 0.0; -log 2.0 |] "values"
            expectClose 1e-15 (derivative 1 Activations.logSigmoid [| -800.0; 800.0 |]) [| 1.0; 0.0 |] "first"
            let points = [| -40.0; -12.0; 12.0; 40.0 |]
            let ours = derivative 2 Activations.logSigmoid points
            for i in 0 .. points.Length - 1 do
                let expected = -(s points.[i]) * s (-points.[i])
                Expect.isLessThan (abs (ours.[i] - expected) / abs expected) 1e-13 (sprintf "at %g: %g vs %g" points.[i] ours.[i] expected)
        }
        test "leakyRelu at 0: the slope, then 0, 0" {
            for k, expected in [ 1, 0.1; 2, 0.0; 3, 0.0 ] do
                expectClose 1e-15 (derivative k (Activations.leakyRelu 0.1) [| 0.0 |]) [| expected |] (sprintf "order %d" k)
        }
        test "clamp passes the cotangent at its bounds (torch's convention), not outside, and not at NaN" {
            let f = Activations.clamp (Some -1.0) (Some 2.0)
            expectClose 0.0 (derivative 1 f [| -1.0; 2.0; 0.5; -1.5; 2.5 |]) [| 1.0; 1.0; 1.0; 0.0; 0.0 |] "first"
            for k in 2 .. 3 do
                expectClose 0.0 (derivative k f [| -1.0; 2.0; 0.5 |]) [| 0.0; 0.0; 0.0 |] (sprintf "order %d" k)
            Expect.equal (derivative 1 f [| nan |]) [| 0.0 |] "NaN"
            Expect.isTrue (Double.IsNaN (at f [| nan |]).[0]) "NaN value"
            Expect.equal (at (Activations.clamp (Some 3.0) (Some 1.0)) [| 0.0; 2.0; 5.0 |]) [| 1.0; 1.0; 1.0 |] "lower above upper gives upper"
        }
        test "softsign: 1/(1+|x|)² at any point including 0" {
            let points = [| 0.0; -1.5; 2.0 |]
            expectClose 1e-15 (derivative 1 Activations.softsign points) (points |> Array.map (fun x -> 1.0 / ((1.0 + abs x) ** 2.0))) "first"
        }
        test "the 2-norm, std and ∞-norm have gradient 0 at 0 (all orders for the 2-norm), as torch" {
            let zeros = Expr.zerosLike (v [| 3 |])
            for name, f in [ "norm 2", Statistics.norm 2.0 [| 0 |] false; "std", Statistics.std [| 0 |] 1.0 false
                             "norm inf", Statistics.norm infinity [| 0 |] false; "norm 1", Statistics.norm 1.0 [| 0 |] false ] do
                Expect.equal (values (Diff.grad f zeros)) [| 0.0; 0.0; 0.0 |] name
            Expect.equal (values (Diff.hessian (Statistics.norm 2.0 [| 0 |] false) zeros)) (Array.zeroCreate 9) "norm 2 Hessian"
            let constant3 = Expr.constant (tensor [| 3 |] [| 2.0; 2.0; 2.0 |])
            Expect.equal (values (Diff.grad (Statistics.std [| 0 |] 1.0 false) constant3)) [| 0.0; 0.0; 0.0 |] "std of a constant"
        }
        test "cumprod is right with zeros at every order: its last entry is prod, Hessian at [2,0,3] as issue 13" {
            let last x = Expr.sliceAxis 0 2 3 (Indexing.cumprod 0 x) |> Expr.sum
            let x = Expr.constant (tensor [| 3 |] [| 2.0; 0.0; 3.0 |])
            Expect.equal (values (Diff.grad last x)) [| 0.0; 6.0; 0.0 |] "gradient"
            Expect.equal (values (Diff.hessian last x)) [| 0.0; 3.0; 0.0; 3.0; 0.0; 2.0; 0.0; 2.0; 0.0 |] "Hessian"
            let both = Expr.constant (tensor [| 3 |] [| 0.0; 0.0; 3.0 |])
            Expect.equal (values (Diff.hessian last both)) [| 0.0; 3.0; 0.0; 3.0; 0.0; 0.0; 0.0; 0.0; 0.0 |] "Hessian with two zeros"
        }
    ]

/// Row-major flat index of `position` in `shape`.
let private flatIndex = rowMajor

/// Every position of a shape, row-major.
let private positions (shape: int[]) =
    let n = Array.fold (*) 1 shape
    Array.init n (fun k ->
        let p = Array.zeroCreate shape.Length
        let mutable rest = k
        for a in shape.Length - 1 .. -1 .. 0 do
            p.[a] <- rest % shape.[a]
            rest <- rest / shape.[a]
        p)

let private structureTests =
    let x = normal 7 [| 3; 4; 5 |]
    let data = x.ToDoubleArray()
    let get (p: int[]) = data.[flatIndex [| 3; 4; 5 |] p]
    testList "Composites vs reference loops" [
        test "cumsum and cumprod along each axis" {
            for axis in 0 .. 2 do
                let expectedSum = positions [| 3; 4; 5 |] |> Array.map (fun p -> Array.sum (Array.init (p.[axis] + 1) (fun k -> get (Array.updateAt axis k p))))
                let expectedProd = positions [| 3; 4; 5 |] |> Array.map (fun p -> Array.fold (*) 1.0 (Array.init (p.[axis] + 1) (fun k -> get (Array.updateAt axis k p))))
                expectClose 1e-14 (values (Indexing.cumsum axis (constant x))) expectedSum (sprintf "cumsum %d" axis)
                expectClose 1e-14 (values (Indexing.cumprod axis (constant x))) expectedProd (sprintf "cumprod %d" axis)
        }
        test "sort and topk along axis 1 match Array.sort; indices point at the values" {
            let sorted, indices = Indexing.sort 1 false (constant x)
            let descending, _ = Indexing.sort 1 true (constant x)
            let top, topIndices = Indexing.topk 2 1 true (constant x)
            let sortedV, indicesV, descendingV, topV, topIndicesV = values sorted, values indices, values descending, values top, values topIndices
            for i in 0 .. 2 do
                for k in 0 .. 4 do
                    let column = Array.init 4 (fun j -> get [| i; j; k |]) |> Array.sort
                    for j in 0 .. 3 do
                        Expect.equal sortedV.[flatIndex [| 3; 4; 5 |] [| i; j; k |]] column.[j] "ascending"
                        Expect.equal descendingV.[flatIndex [| 3; 4; 5 |] [| i; j; k |]] column.[3 - j] "descending"
                        Expect.equal (get [| i; int indicesV.[flatIndex [| 3; 4; 5 |] [| i; j; k |]]; k |]) column.[j] "index"
                    for j in 0 .. 1 do
                        Expect.equal topV.[flatIndex [| 3; 2; 5 |] [| i; j; k |]] column.[3 - j] "topk value"
                        Expect.equal (get [| i; int topIndicesV.[flatIndex [| 3; 2; 5 |] [| i; j; k |]]; k |]) column.[3 - j] "topk index"
        }
        test "sort puts NaN last and keeps equal values in order" {
            let sorted, indices = Indexing.sort 0 false (constant (tensor [| 5 |] [| 2.0; nan; 1.0; 2.0; -1.0 |]))
            Expect.equal (values indices) [| 4.0; 2.0; 0.0; 3.0; 1.0 |] "indices"
            Expect.isTrue (Double.IsNaN (values sorted).[4]) "NaN last"
        }
        test "indexSelect, embedding and oneHot" {
            let index = tensor [| 3 |] [| 4.0; 0.0; 4.0 |]
            let picked = values (Indexing.indexSelect 2 (constant index) (constant x))
            let expected = positions [| 3; 4; 3 |] |> Array.map (fun p -> get [| p.[0]; p.[1]; int (index.ToDoubleArray().[p.[2]]) |])
            Expect.equal picked expected "indexSelect axis 2"
            let weight = normal 8 [| 4; 2 |]
            let ids = tensor [| 2; 2 |] [| 3.0; 0.0; 1.0; 3.0 |]
            let rows = values (Indexing.embedding (constant ids) (constant weight))
            let w = weight.ToDoubleArray()
            Expect.equal rows (ids.ToDoubleArray() |> Array.collect (fun r -> [| w.[2 * int r]; w.[2 * int r + 1] |])) "embedding"
            let codes = values (Indexing.oneHot 4 (constant ids))
            Expect.equal codes (ids.ToDoubleArray() |> Array.collect (fun r -> Array.init 4 (fun c -> if c = int r then 1.0 else 0.0))) "oneHot"
        }
        test "tril, triu, diagonal and diagEmbed at several offsets" {
            let m = normal 9 [| 2; 3; 4 |]
            let md = m.ToDoubleArray()
            let mget (p: int[]) = md.[flatIndex [| 2; 3; 4 |] p]
            for offset in -2 .. 2 do
                let tril = values (Indexing.tril offset (constant m))
                let triu = values (Indexing.triu offset (constant m))
                for p in positions [| 2; 3; 4 |] do
                    let k = flatIndex [| 2; 3; 4 |] p
                    Expect.equal tril.[k] (if p.[2] - p.[1] <= offset then mget p else 0.0) (sprintf "tril %d" offset)
                    Expect.equal triu.[k] (if p.[2] - p.[1] >= offset then mget p else 0.0) (sprintf "triu %d" offset)
                let diagonal = Indexing.diagonal offset 1 2 (constant m)
                let length = if offset >= 0 then max 0 (min 3 (4 - offset)) else max 0 (min (3 + offset) 4)
                Expect.equal diagonal.Shape [| 2; length |] (sprintf "diagonal %d shape" offset)
                let expected = [| for b in 0 .. 1 do for i in 0 .. length - 1 -> if offset >= 0 then mget [| b; i; i + offset |] else mget [| b; i - offset; i |] |]
                Expect.equal (values diagonal) expected (sprintf "diagonal %d" offset)
                let embedded = Indexing.diagEmbed offset (constant m)
                let size = 4 + abs offset
                Expect.equal embedded.Shape [| 2; 3; size; size |] (sprintf "diagEmbed %d shape" offset)
                let ev = values embedded
                for p in positions [| 2; 3; size; size |] do
                    let expected = if p.[3] - p.[2] = offset then mget [| p.[0]; p.[1]; min p.[2] p.[3] |] else 0.0
                    Expect.equal ev.[flatIndex [| 2; 3; size; size |] p] expected (sprintf "diagEmbed %d at %A" offset p)
            // diagonal over axes (0, 2): the diagonal is the new last axis
            let across = Indexing.diagonal 0 0 2 (constant m)
            Expect.equal (values across) [| for j in 0 .. 2 do for i in 0 .. 1 -> mget [| i; j; i |] |] "diagonal axes 0,2"
        }
        test "var, std and norms vs loops" {
            let rows = Array.init 12 (fun r -> Array.init 5 (fun k -> data.[r * 5 + k]))
            let mean (r: float[]) = Array.average r
            let var c (r: float[]) = (r |> Array.sumBy (fun v -> (v - mean r) ** 2.0)) / (float r.Length - c)
            let flat = Expr.reshape [| 12; 5 |] (constant x)
            expectClose 1e-14 (values (Statistics.var [| 1 |] 1.0 false flat)) (rows |> Array.map (var 1.0)) "var"
            expectClose 1e-14 (values (Statistics.var [| 1 |] 2.5 false flat)) (rows |> Array.map (var 2.5)) "var correction 2.5"
            let single = values (Statistics.var [| 0 |] 1.0 false (constant (tensor [| 1; 2 |] [| 3.0; 4.0 |])))
            Expect.isTrue (single |> Array.forall Double.IsNaN) "one entry, correction 1: 0/0"
            Expect.equal (values (Statistics.var [| 1 |] 3.0 false (constant (tensor [| 1; 2 |] [| 3.0; 4.0 |])))) [| infinity |] "N < correction divides by 0"
            expectClose 1e-14 (values (Statistics.std [| 1 |] 0.0 false flat)) (rows |> Array.map (var 0.0 >> sqrt)) "std"
            expectClose 1e-14 (values (Statistics.norm 1.0 [| 1 |] false flat)) (rows |> Array.map (Array.sumBy abs)) "norm 1"
            expectClose 1e-14 (values (Statistics.norm 2.0 [| 1 |] false flat)) (rows |> Array.map (Array.sumBy (fun v -> v * v) >> sqrt)) "norm 2"
            expectClose 1e-14 (values (Statistics.norm infinity [| 1 |] false flat)) (rows |> Array.map (Array.map abs >> Array.max)) "norm inf"
            expectClose 1e-14 (values (Statistics.frobenius false (constant x))) (Array.init 3 (fun b -> sqrt (Array.sumBy (fun v -> v * v) data.[b * 20 .. b * 20 + 19]))) "frobenius"
        }
        test "einsum forms vs loops" {
            let a = normal 10 [| 2; 3; 4 |]
            let b = normal 11 [| 2; 4; 5 |]
            let ad, bd = a.ToDoubleArray(), b.ToDoubleArray()
            let ag (p: int[]) = ad.[flatIndex [| 2; 3; 4 |] p]
            let bg (p: int[]) = bd.[flatIndex [| 2; 4; 5 |] p]
            let batched = [| for n in 0 .. 1 do for i in 0 .. 2 do for k in 0 .. 4 -> Array.sum (Array.init 4 (fun j -> ag [| n; i; j |] * bg [| n; j; k |])) |]
            expectClose 1e-14 (values (Einsum.einsum2 "nij,njk->nik" (constant a) (constant b))) batched "nij,njk->nik"
            // output order k,n,i: the same numbers permuted
            let permuted = [| for k in 0 .. 4 do for n in 0 .. 1 do for i in 0 .. 2 -> batched.[(n * 3 + i) * 5 + k] |]
            expectClose 1e-14 (values (Einsum.einsum2 "nij,njk->kni" (constant a) (constant b))) permuted "nij,njk->kni"
            // outer product with a letter summed away in the first operand, and the implicit output
            let outer = [| for i in 0 .. 2 do for k in 0 .. 4 -> Array.sum (Array.init 8 (fun t -> ag [| t / 4; i; t % 4 |])) * bg [| 1; 2; k |] |]
            let bRow = Expr.sliceAxis 0 1 2 (Expr.sliceAxis 1 2 3 (constant b)) |> Expr.reshape [| 5 |]
            expectClose 1e-14 (values (Einsum.einsum2 "nij,k->ik" (constant a) bRow)) outer "nij,k->ik"
            expectClose 1e-14 (values (Einsum.einsum2 "ij,jk" (Expr.reshape [| 6; 4 |] (constant a)) (Expr.reshape [| 4; 10 |] (constant b))))
                (values (Expr.matmul (Expr.reshape [| 6; 4 |] (constant a)) (Expr.reshape [| 4; 10 |] (constant b)))) "implicit ij,jk"
            let square = normal 12 [| 3; 3 |]
            let sd = square.ToDoubleArray()
            expectClose 1e-14 (values (Einsum.einsum1 "ii->" (constant square))) [| sd.[0] + sd.[4] + sd.[8] |] "trace"
            expectClose 1e-14 (values (Einsum.einsum1 "ii->i" (constant square))) [| sd.[0]; sd.[4]; sd.[8] |] "diagonal"
            expectClose 1e-14 (values (Einsum.einsum1 "ij->ji" (constant square))) [| for j in 0 .. 2 do for i in 0 .. 2 -> sd.[i * 3 + j] |] "transpose"
        }
    ]

let private errorTests =
    testList "Errors name the method and the shapes" [
        test "each composite and primitive names itself" {
            let cases : (string * (unit -> obj)) list =
                [ "IndexSelect", (fun () -> box (Indexing.indexSelect 0 (v [| 2; 2 |]) (v [| 3; 4 |])))
                  "Embedding", (fun () -> box (Indexing.embedding (v [| 3 |]) (v [| 3; 4; 2 |])))
                  "TopK", (fun () -> box (Indexing.topk 5 1 true (v [| 3; 4 |])))
                  "Sort", (fun () -> box (Expr.argsort 0 false (v [||])))
                  "OneHot", (fun () -> box (Indexing.oneHot 0 (v [| 3; 4 |])))
                  "Tril", (fun () -> box (Indexing.tril 0 (v [| 3 |])))
                  "Diagonal", (fun () -> box (Indexing.diagonal 0 1 1 (v [| 3; 4 |])))
                  "DiagEmbed", (fun () -> box (Indexing.diagEmbed 0 (v [||])))
                  "Norm", (fun () -> box (Statistics.norm nan [| 0 |] false (v [| 3; 4 |])))
                  "Polygamma", (fun () -> box (Expr.polygamma -1 (v [| 3; 4 |])))
                  "Einsum", (fun () -> box (Einsum.einsum2 "ij,jk->ik" (v [| 3; 4 |]) (v [| 5; 2 |])))
                  "Einsum", (fun () -> box (Einsum.einsum2 "ij,jk->ik" (v [| 3; 4; 1 |]) (v [| 4; 2 |]))) ]
            for name, f in cases do
                let message = messageOf f
                Expect.stringStarts message (name + ": ") message
                Expect.isTrue (message.Contains "[3; 4" || message.Contains "[3,4" || message.Contains "[3, 4" || message.Contains "[]" || message.Contains "[3]")
                    (sprintf "%s names a shape: %s" name message)
        }
    ]

[<Tests>]
let tests = testList "Special" [ kernelTests; derivativeTests; structureTests; errorTests ]
