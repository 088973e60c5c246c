/// Specifications of the vector kernels of expm1, log1p and softplus (Transcendental): float32 within an ulp of a
/// float64 reference written here and rounded once, float64 within a few ulp of it, over the sweeps of
/// Float32TranscendentalTests and a float64 sweep of their own; exact and correctly signed at the edges; and the
/// same bits whatever an element's position in its array (the float64 kernels leave zeros, subnormals and the far
/// tails to System.Math, the float32 ones take every input in their lanes).
module FunctionalDiff.Core.Tests.ExpLogFamilyKernelTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.Float32TranscendentalTests

/// e^x − 1: below 1/2 in magnitude its Taylor series as x + x²·P(x), P by Horner's rule from the 25th term (the
/// first left out is below 1e-25 of x), so the one rounding that matters is the last sum's (within an ulp); above,
/// e^x − 1, where the subtraction loses at most a factor 1.6 (|e^x − 1| ≥ 0.39).
let private expm1Reference (x: float) =
    if Double.IsNaN x then x
    elif abs x < 0.5 then
        let mutable p, factorial = 0.0, 1.0
        for k in 2 .. 25 do factorial <- factorial * float k
        for k in 25 .. -1 .. 2 do
            p <- p * x + 1.0 / factorial
            factorial <- factorial / float k
        Math.FusedMultiplyAdd(x * x, p, x)
    else Math.Exp x - 1.0

/// log(1 + x): below 1/4 in magnitude its series as x + x²·Q(x), Q by Horner's rule from the 40th term (the first
/// left out is below 1e-25 of x); else log w with the rounding of w = 1 + x put back to first order,
/// (x − (w − 1))/w; −∞ at −1, NaN below, ∞ at ∞.
let private log1pReference (x: float) =
    if Double.IsNaN x || x < -1.0 then nan
    elif x = -1.0 then -infinity
    elif Double.IsPositiveInfinity x then infinity
    elif abs x < 0.25 then
        let mutable q = 0.0
        for k in 40 .. -1 .. 2 do
            q <- q * x + (if k % 2 = 0 then -1.0 else 1.0) / float k
        Math.FusedMultiplyAdd(x * x, q, x)
    else
        let w = 1.0 + x
        Math.Log w + (x - (w - 1.0)) / w

/// log(1 + e^x) from the side where e^±x does not overflow.
let private softplusReference (x: float) =
    if x > 0.0 then x + log1pReference (Math.Exp(-x)) else log1pReference (Math.Exp x)

let private cases = [ UnaryOp.Expm1, expm1Reference; UnaryOp.Log1p, log1pReference; UnaryOp.Softplus, softplusReference ]

/// Distance in float64 ulps (of the reference) between a result and the reference.
let private ulps64 (actual: float) (expected: float) =
    if Double.IsNaN expected || Double.IsNaN actual then (if Double.IsNaN expected && Double.IsNaN actual then 0.0 else infinity)
    elif Double.IsInfinity expected || Double.IsInfinity actual then (if expected = actual then 0.0 else infinity)
    elif expected = 0.0 then (if actual = 0.0 then 0.0 else infinity)
    else abs (actual - expected) / (Math.BitIncrement(abs expected) - abs expected)

/// float64 inputs: log-uniform magnitudes from 1e-300 to 1e3 of both signs (past the vector domain's ±700 into
/// System.Math's), a fine grid over [−40, 40] (the reductions' ±ln2/2 steps, log's √½ and √2), the neighbourhood
/// of −1 for log1p, and the specials.
let private sweep64 =
    let random = Random(2207)
    let logUniform = Array.init 40000 (fun i -> (if i % 2 = 0 then 1.0 else -1.0) * Math.Pow(10.0, 303.0 * random.NextDouble() - 300.0))
    let grid = Array.init 80001 (fun i -> -40.0 + float i * 0.001)
    let nearMinusOne = Array.init 200 (fun i -> -1.0 + Math.Pow(10.0, -15.0 + 0.075 * float i))
    let specials = [| 0.0; -0.0; 1e-310; -1e-310; Double.Epsilon; 700.0; -700.0; 709.7; -745.0; 1e300; -1e300; infinity; -infinity; nan; -1.0 |]
    Array.concat [ logUniform; grid; nearMinusOne; specials ]

let private unary64 (op: UnaryOp) (values: float[]) =
    (Elementwise.unary op (Tensor.FromArray(values, [| values.Length |]))).ToDoubleArray()

[<Tests>]
let tests =
    testList "Tensor.ExpLogFamilyKernels" [
        test "float32 expm1, log1p and softplus are within 1 ulp of the float64 reference rounded once, over the sweep and every 1021st bit pattern" {
            for op, f in cases do
                for values in [ sweep; bitSweep ] do
                    expectWithinOneUlp op f values
        }

        test "float64 expm1 and log1p are within 2 ulp of the reference over the float64 sweep, softplus (an exp, then a log1p) within 3" {
            for op, f in cases do
                let tolerance = if op = UnaryOp.Softplus then 3.0 else 2.0
                let actual = unary64 op sweep64
                for i in 0 .. sweep64.Length - 1 do
                    let distance = ulps64 actual.[i] (f sweep64.[i])
                    if distance > tolerance then
                        failtestf "%A at %.17g: %.17g, reference %.17g (%g ulp)" op sweep64.[i] actual.[i] (f sweep64.[i]) distance
        }

        test "exact values and signs at the edges, in both dtypes and runs of several lengths" {
            let checks =
                [ UnaryOp.Expm1, 0.0, 0.0; UnaryOp.Expm1, -0.0, -0.0; UnaryOp.Expm1, infinity, infinity; UnaryOp.Expm1, -infinity, -1.0
                  UnaryOp.Expm1, nan, nan; UnaryOp.Expm1, -800.0, -1.0; UnaryOp.Expm1, 1e-310, 1e-310; UnaryOp.Expm1, -1e-310, -1e-310
                  UnaryOp.Log1p, 0.0, 0.0; UnaryOp.Log1p, -0.0, -0.0; UnaryOp.Log1p, -1.0, -infinity; UnaryOp.Log1p, -2.0, nan
                  UnaryOp.Log1p, infinity, infinity; UnaryOp.Log1p, -infinity, nan; UnaryOp.Log1p, nan, nan
                  UnaryOp.Log1p, 1e-310, 1e-310; UnaryOp.Log1p, -1e-310, -1e-310
                  UnaryOp.Softplus, -infinity, 0.0; UnaryOp.Softplus, infinity, infinity; UnaryOp.Softplus, nan, nan
                  UnaryOp.Softplus, 0.0, Math.Log 2.0; UnaryOp.Softplus, -0.0, Math.Log 2.0; UnaryOp.Softplus, 1e30, 1e30 ]
            let same (a: float) (b: float) = BitConverter.DoubleToInt64Bits a = BitConverter.DoubleToInt64Bits b || (Double.IsNaN a && Double.IsNaN b)
            for op, x, expected in checks do
                for length in [ 1; 7; 8; 9; 33 ] do
                    for v in unary64 op (Array.create length x) do
                        if not (same v expected) then failtestf "float64 %A(%g) over %d: %.17g, expected %.17g" op x length v expected
                    for v in unary32 op (Array.create length (float32 x)) do
                        // the float32 expectation is the float64 one rounded (1e-310 is 0 in float32, with its sign)
                        if not (same (float v) (float (float32 expected))) then
                            failtestf "float32 %A(%g) over %d: %.9g, expected %.9g" op x length v (float32 expected)
        }

        test "a result depends on its value only: alone, shifted by 1 to 9 elements, and in the long run, in both dtypes" {
            for op, _ in cases do
                let whole32, whole64 = unary32 op sweep, unary64 op sweep64
                for shift in [ 1; 3; 8; 9 ] do
                    let shifted32 = unary32 op (Array.append (Array.create shift 0.5f) sweep)
                    for i in 0 .. sweep.Length - 1 do
                        if BitConverter.SingleToInt32Bits shifted32.[i + shift] <> BitConverter.SingleToInt32Bits whole32.[i] then
                            failtestf "float32 %A shifted by %d at %g: %.9g, unshifted %.9g" op shift sweep.[i] shifted32.[i + shift] whole32.[i]
                    let shifted64 = unary64 op (Array.append (Array.create shift 0.5) sweep64)
                    for i in 0 .. sweep64.Length - 1 do
                        if BitConverter.DoubleToInt64Bits shifted64.[i + shift] <> BitConverter.DoubleToInt64Bits whole64.[i] then
                            failtestf "float64 %A shifted by %d at %g: %.17g, unshifted %.17g" op shift sweep64.[i] shifted64.[i + shift] whole64.[i]
                for i in 0 .. 211 .. sweep64.Length - 1 do
                    let alone = (unary64 op [| sweep64.[i] |]).[0]
                    if BitConverter.DoubleToInt64Bits alone <> BitConverter.DoubleToInt64Bits whole64.[i] then
                        failtestf "float64 %A alone at %g: %.17g, in the run %.17g" op sweep64.[i] alone whole64.[i]
        }
    ]
