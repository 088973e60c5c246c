/// Specifications at huge and tiny magnitudes (branch edges9) for the ops that divide by a norm or a standard
/// deviation: normalize, cosine similarity and batch norm. Each is checked against the same function at a copy
/// scaled by hand into moderate magnitudes, mapped back by the chain rule (cos(a, b) = cos(a, b/s) for s > 0, so
/// ∇_b at b is ∇_b at b/s over s; batch norm with ε at x is batch norm with ε/s² at x/s), and at moderate magnitudes
/// against central differences in float64, so the scaled copy is itself an independent reference.
module FunctionalDiff.Core.Tests.EdgeScaleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// |actual − expected| ≤ 1e-12·|expected| + floor, elementwise, and no NaN or infinity on either side.
let private expectRelative (floor: float) (actual: float[]) (expected: float[]) (what: string) =
    Expect.equal actual.Length expected.Length (what + ": length")
    for i in 0 .. actual.Length - 1 do
        let a, e = actual.[i], expected.[i]
        if not (Double.IsFinite a && Double.IsFinite e && abs (a - e) <= 1e-12 * abs e + floor) then
            failtestf "%s: element %d is %.17g, expected %.17g\nactual   %A\nexpected %A" what i a e actual expected

/// Central differences of the gradient along v: the HVP's reference at moderate magnitudes.
let private differencedHvp (f: Expr -> Expr) (x: float[]) (v: float[]) =
    let h = 1e-5
    let gradientAt (s: float) = values (Diff.grad f (constantVector (Array.map2 (fun a b -> a + s * b) x v)))
    Array.map2 (fun p m -> (p - m) / (2.0 * h)) (gradientAt h) (gradientAt -h)

let private a0 = [| 0.3; -0.7; 1.1 |]
let private b0 = [| 2.0; 0.5; -1.3 |]
let private direction = [| 1.0; 2.0; -3.0 |]
let private weights = [| 1.0; -2.0; 0.5 |]

[<Tests>]
let tests =
    testList "Graph.Edge scale" [
        test "cosine similarity and its derivatives at moderate magnitudes match central differences (the scaled copies' reference)" {
            let ofA (a: Expr) = Expr.sum (Functional.cosineSimilarity 0 1e-8 a (constantVector b0))
            let ofB (b: Expr) = Expr.sum (Functional.cosineSimilarity 0 1e-8 (constantVector a0) b)
            // the value in closed form: a·b/(‖a‖‖b‖)
            let dot = Array.fold2 (fun s x y -> s + x * y) 0.0 a0 b0
            let length (x: float[]) = sqrt (Array.sumBy (fun t -> t * t) x)
            expectRelative 1e-15 [| value (ofA (constantVector a0)) |] [| dot / (length a0 * length b0) |] "value"
            let numeric = numericGradient (fun xs -> ofA xs.Head) [ Tensor.FromArray(a0, [| 3 |]) ]
            expectClose 1e-8 (values (Diff.grad ofA (constantVector a0))) numeric.Head "gradient in a"
            expectClose 1e-7 (values (Diff.hvp ofA (constantVector a0) (constantVector direction))) (differencedHvp ofA a0 direction) "HVP in a"
            expectClose 1e-7 (values (Diff.hvp ofB (constantVector b0) (constantVector direction))) (differencedHvp ofB b0 direction) "HVP in b"
        }
        test "cosine similarity against b scaled to 1e300, 1e160 and 2^1000 is the cosine of the directions, with ∇_b = ∇ at b/s over s (fuzz adversarial 23/28)" {
            // torch's unscaled squares overflow there (its norm is +∞ and its cosine 0); ours is the function's
            for s in [ 1e300; 1e160; Math.ScaleB(1.0, 1000); 1e20 ] do
                let b = b0 |> Array.map (fun t -> t * s)
                let cosine (a: float[]) (b: float[]) = Functional.cosineSimilarity 0 1e-8 (constantVector a) (constantVector b)
                expectRelative 1e-15 (values (cosine a0 b)) (values (cosine a0 b0)) (sprintf "value at %g" s)
                let ofA (bs: float[]) (a: Expr) = Expr.sum (Functional.cosineSimilarity 0 1e-8 a (constantVector bs))
                expectRelative 1e-300 (values (Diff.grad (ofA b) (constantVector a0))) (values (Diff.grad (ofA b0) (constantVector a0))) (sprintf "∇_a at %g" s)
                expectRelative 1e-300 (values (Diff.hvp (ofA b) (constantVector a0) (constantVector direction)))
                    (values (Diff.hvp (ofA b0) (constantVector a0) (constantVector direction))) (sprintf "HVP in a at %g" s)
                let ofB (b: Expr) = Expr.sum (Functional.cosineSimilarity 0 1e-8 (constantVector a0) b)
                let scaledBack = values (Diff.grad ofB (constantVector b)) |> Array.map (fun g -> g * s)
                expectRelative 1e-300 scaledBack (values (Diff.grad ofB (constantVector b0))) (sprintf "∇_b·s at %g" s)
            // the fuzz program's shape: (cos(b, a) + b)² has ∇_a = Σ 2(cos + b)·∇_a cos, ±1e300 times a moderate slope
            let b = [| 1e300; 1e300 |]
            let a = [| 0.2384; 0.2089 |]
            let f (x: Expr) = Expr.sum (Expr.square (Functional.cosineSimilarity 0 1e-8 (constantVector b) x + constantVector b))
            let cosine = (a.[0] + a.[1]) / (sqrt 2.0 * sqrt (a.[0] * a.[0] + a.[1] * a.[1]))
            let length = sqrt (a.[0] * a.[0] + a.[1] * a.[1])
            // ∇_a cos(e, a) = (e − cos·â)/‖a‖ with e = (1, 1)/√2, times Σ_j 2(cos + b_j)
            let expected = Array.init 2 (fun i -> (2.0 * (cosine + 1e300) * 2.0) * (1.0 / sqrt 2.0 - cosine * a.[i] / length) / length)
            expectRelative 0.0 (values (Diff.grad f (constantVector a))) expected "∇_a of (cos + b)²"
        }
        test "cosine similarity at tiny magnitudes (eps 0) is the cosine of the directions, with ∇_b = ∇ at b/s over s" {
            for s in [ 1e-300; 1e-160; 1e-20 ] do
                let b = b0 |> Array.map (fun t -> t * s)
                let cosine (a: float[]) (b: float[]) = Functional.cosineSimilarity 0 0.0 (constantVector a) (constantVector b)
                expectRelative 1e-15 (values (cosine a0 b)) (values (cosine a0 b0)) (sprintf "value at %g" s)
                let ofA (bs: float[]) (a: Expr) = Expr.sum (Functional.cosineSimilarity 0 0.0 a (constantVector bs))
                expectRelative 1e-300 (values (Diff.hvp (ofA b) (constantVector a0) (constantVector direction)))
                    (values (Diff.hvp (ofA b0) (constantVector a0) (constantVector direction))) (sprintf "HVP in a at %g" s)
                let ofB (b: Expr) = Expr.sum (Functional.cosineSimilarity 0 0.0 (constantVector a0) b)
                let scaledBack = values (Diff.grad ofB (constantVector b)) |> Array.map (fun g -> g * s)
                expectRelative 1e-300 scaledBack (values (Diff.grad ofB (constantVector b0))) (sprintf "∇_b·s at %g" s)
                // the second order scales by 1/s², in range for these s
                if s >= 1e-150 then
                    let hvpBack = values (Diff.hvp ofB (constantVector b) (constantVector direction)) |> Array.map (fun g -> g * s * s)
                    expectRelative 1e-300 hvpBack (values (Diff.hvp ofB (constantVector b0) (constantVector direction))) (sprintf "HVP in b·s² at %g" s)
        }
        test "normalize at 1e300, 1e160, 1e-300 and 1e-160 (eps 0 below 1) is x/‖x‖ of the scaled copy, with the gradient over s (fuzz adversarial 33/94)" {
            let f (eps: float) (x: Expr) = Expr.sum (Functional.normalize 2.0 0 eps x * constantVector weights)
            // moderate magnitudes against central differences first
            let numeric = numericGradient (fun xs -> f 1e-12 xs.Head) [ Tensor.FromArray(b0, [| 3 |]) ]
            expectClose 1e-8 (values (Diff.grad (f 1e-12) (constantVector b0))) numeric.Head "gradient at moderate magnitude"
            expectClose 1e-7 (values (Diff.hvp (f 1e-12) (constantVector b0) (constantVector direction))) (differencedHvp (f 1e-12) b0 direction) "HVP"
            for s in [ 1e300; 1e160; 1e-300; 1e-160 ] do
                let eps = if s > 1.0 then 1e-12 else 0.0
                let x = b0 |> Array.map (fun t -> t * s)
                expectRelative 1e-15 (values (Functional.normalize 2.0 0 eps (constantVector x))) (values (Functional.normalize 2.0 0 eps (constantVector b0))) (sprintf "value at %g" s)
                let scaledBack = values (Diff.grad (f eps) (constantVector x)) |> Array.map (fun g -> g * s)
                expectRelative 1e-300 scaledBack (values (Diff.grad (f eps) (constantVector b0))) (sprintf "gradient·s at %g" s)
        }
        test "batch norm over a column holding 1.1e-140 and 1.1e120: value, gradient and HVP are those at the column over s = 2^400 with ε/s² (fuzz adversarial 31/157)" {
            let column = [| 1.1e-140; 1.1e120; -3.3e119; 2.2e119; 0.5 |]
            let u = [| 0.41; -0.63; 0.46; -0.72; 0.57 |]
            let v = [| -0.62; 0.73; -0.9; 0.22; 1.01 |]
            let s = Math.ScaleB(1.0, 400)
            let norm (eps: float) (x: Expr) =
                Normalisation.batchNorm eps (Expr.scalar DType.Float64 1.0) (Expr.scalar DType.Float64 0.0) (Expr.reshape [| 5; 1 |] x)
            let f (eps: float) (x: Expr) = Expr.sum (Expr.reshape [| 5 |] (norm eps x) * constantVector u)
            let scaled = column |> Array.map (fun t -> t / s)
            let epsScaled = 1e-5 / (s * s)
            // the scaled copy at moderate magnitudes, against central differences
            expectClose 1e-6 (values (Diff.hvp (f epsScaled) (constantVector scaled) (constantVector v)))
                (differencedHvp (f epsScaled) scaled v) "HVP of the scaled copy"
            expectRelative 1e-15 (values (norm 1e-5 (constantVector column))) (values (norm epsScaled (constantVector scaled))) "value"
            let gradient = values (Diff.grad (f 1e-5) (constantVector column)) |> Array.map (fun g -> g * s)
            expectRelative 1e-300 gradient (values (Diff.grad (f epsScaled) (constantVector scaled))) "gradient·s"
            let hvp = values (Diff.hvp (f 1e-5) (constantVector column) (constantVector v)) |> Array.map (fun g -> g * s * s)
            expectRelative 1e-300 hvp (values (Diff.hvp (f epsScaled) (constantVector scaled) (constantVector v))) "HVP·s²"
            // reverse over reverse, as the fuzzer's second order
            let vjpOfVjp (eps: float) (x: float[]) =
                values (Diff.grad (fun y -> Expr.sum (Diff.grad (f eps) y * constantVector v)) (constantVector x))
            expectRelative 1e-300 (vjpOfVjp 1e-5 column |> Array.map (fun g -> g * s * s)) (vjpOfVjp epsScaled scaled) "vjp of vjp·s²"
        }
    ]
