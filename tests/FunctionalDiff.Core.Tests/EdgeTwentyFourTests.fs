/// Regression specifications for what branch edges24 found: the standard deviation of finite entries whose squares
/// overflow is a number, computed as s·σ(x/s) with s a held power of two, and its gradient is the closed form
/// (x − mean)/((N − correction)·σ), which does not meet the scale. Each against a reference written here over the
/// entries divided by a power of ten (the std is homogeneous of degree 1, its gradient of degree 0, its Hessian of
/// degree −1) and float64 central differences there.
module FunctionalDiff.Core.Tests.EdgeTwentyFourTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// The std with Bessel's correction, by the textbook loop.
let private referenceStd (y: float[]) =
    let mean = Array.average y
    sqrt ((y |> Array.sumBy (fun v -> (v - mean) * (v - mean))) / float (y.Length - 1))

/// Its gradient's closed form (y − mean)/((N − 1)·σ).
let private referenceSlope (y: float[]) =
    let mean, deviation = Array.average y, referenceStd y
    y |> Array.map (fun v -> (v - mean) / (float (y.Length - 1) * deviation))

[<Tests>]
let tests =
    testList "Graph.Edge std of entries whose squares overflow (edges24)" [
        test "float64: the std of [1e160, −1e160, 3e159] is 1.0e160, not +∞, and its derivatives are the scaled closed forms" {
            // √var squared 1e160 into +∞; the std is 1e160 times the std of y = x/1e160, the gradient that of y, the HVP
            // that of y over 1e160
            let scale = 1e160
            let y = [| 1.0; -1.0; 0.3 |]
            let x = y |> Array.map (fun v -> v * scale)
            let f (e: Expr) = Statistics.std [| 0 |] 1.0 false e
            expectClose 1e-14 (values (f (constantVector x)) |> Array.map (fun v -> v / scale)) [| referenceStd y |] "value over 1e160"
            expectClose 1e-14 (values (Diff.grad f (constantVector x))) (referenceSlope y) "gradient"
            expectClose 1e-8 (values (Diff.grad f (constantVector x))) (centralGradient referenceStd y 1e-6) "gradient against central differences"
            let v = [| 0.7; -0.2; 1.3 |]
            let directional (z: float[]) = Array.fold2 (fun s a b -> s + a * b) 0.0 (referenceSlope z) v
            let hvp = values (Diff.hvp f (constantVector x) (constantVector v)) |> Array.map (fun h -> h * scale)
            expectClose 1e-7 hvp (centralGradient directional y 1e-6) "HVP times 1e160 against central differences of the gradient at y"
        }
        test "float32: the std of [1e20, 3e19, −2e20] is 1.5695e20 (its squares overflow float32), as the float64 reference" {
            let x = [| 1e20; 3e19; -2e20 |] |> Array.map (fun v -> float (float32 v))
            let point = Expr.constant ((Tensor.FromArray(x, [| 3 |])).Cast DType.Float32)
            let f (e: Expr) = Statistics.std [| 0 |] 1.0 false e
            let y = x |> Array.map (fun v -> v / 1e20)
            expectClose 1e-6 (values (f point) |> Array.map (fun v -> v / 1e20)) [| referenceStd y |] "value over 1e20"
            expectClose 1e-6 (values (Diff.grad f point)) (referenceSlope y) "gradient"
        }
        test "under a cotangent of 1e10 the gradient of the std of [1e300, −1e300] is ±1e10/√2, not ±∞ (g never meets the scale)" {
            let x = [| 1e300; -1e300 |]
            let f (e: Expr) = Expr.scalar DType.Float64 1e10 * Statistics.std [| 0 |] 1.0 false e
            // a std over three entries first: the rule serves both shapes, and must read N from its node (it once kept
            // the first shape's N, and this gradient was half the closed form)
            expectClose 1e-14 (values (Diff.grad f (constantVector [| 1.0; -1.0; 0.3 |]))) (referenceSlope [| 1.0; -1.0; 0.3 |] |> Array.map (fun s -> 1e10 * s)) "over three entries"
            expectClose 1e-14 (values (Diff.grad f (constantVector x))) [| 1e10 / sqrt 2.0; -1e10 / sqrt 2.0 |] "gradient"
            expectClose 1e-14 (values (Statistics.std [| 0 |] 1.0 false (constantVector x)) |> Array.map (fun v -> v / 1e300)) [| sqrt 2.0 |] "the std over 1e300"
        }
        test "a constant group keeps the std 0 and torch's gradient 0, at every scale, and N ≤ correction keeps the plain form" {
            for c in [ 1e200; 3.0; 1e-300 ] do
                let f (e: Expr) = Statistics.std [| 0 |] 1.0 false e
                expectIeee (values (f (constantVector [| c; c; c |]))) [| 0.0 |] (sprintf "value at %g" c)
                expectIeee (values (Diff.grad f (constantVector [| c; c; c |]))) [| 0.0; 0.0; 0.0 |] (sprintf "gradient at %g" c)
            // one entry with correction 1: var divides by 0, as torch (NaN for the constant 0/0)
            expectIeee (values (Statistics.std [| 0 |] 1.0 false (constantVector [| 2.0 |]))) [| nan |] "one entry"
        }

        test "relu keeps −0 and NaN, as torch's clamp_min: x unless x < 0, on the vector and scalar paths, folded too (`wide 97/196`)" {
            // atan2(relu(−0), −2) is −π in torch; IEEE maximum(−0, +0) = +0 made it +π here
            let inputs = [| -0.0; 0.0; -1.0; 2.5; nan; -infinity; infinity; -1e-310; 1e-310 |]
            let definition (v: float) = if v < 0.0 then 0.0 else v
            let bits (v: float) = BitConverter.DoubleToInt64Bits v
            for dtype in [ DType.Float64; DType.Float32 ] do
                let round (v: float) = if dtype = DType.Float32 then float (float32 v) else v
                for length in [ inputs.Length; 40 * inputs.Length ] do
                    let x = Array.init length (fun i -> inputs.[i % inputs.Length])
                    let got = (Eval.eval (Expr.relu (Expr.cast dtype (Expr.constant (Tensor.FromArray(x, [| length |])))))).ToDoubleArray()
                    for i in 0 .. length - 1 do
                        let expected = definition (round x.[i])
                        if not ((Double.IsNaN expected && Double.IsNaN got.[i]) || bits expected = bits got.[i]) then
                            failtestf "%A relu(%g) over %d entries: %g, expected %g" dtype x.[i] length got.[i] expected
            // a scalar constant folds when built
            Expect.equal (bits (values (Expr.relu (Expr.scalar DType.Float64 -0.0))).[0]) (bits -0.0) "folded relu(−0)"
            let angle = values (Expr.atan2 (Expr.relu (constantVector [| -0.0 |])) (constantVector [| -2.0 |]))
            Expect.equal angle.[0] -Math.PI "atan2(relu(−0), −2)"
        }
    ]
