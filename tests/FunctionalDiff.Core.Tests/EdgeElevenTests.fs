/// Regression specifications for what branch edges11's fuzzer runs found at the edges: each derivative against
/// its closed form written out here with System.Math, and against float64 central differences where the
/// function is defined on both sides of the point.
module FunctionalDiff.Core.Tests.EdgeElevenTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// Central difference of a float function, step h.
let private central (f: float -> float) (x: float) (h: float) = (f (x + h) - f (x - h)) / (2.0 * h)

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges11)" [
        test "kl_div's slope in the target is log p + 1 - input in reverse, forward and second order, -inf at p = 0 (fuzz all 1/249, 2/219, 2/624)" {
            let p = [| 0.0; 1e-300; 0.25; 1.0; 2.5; infinity |]
            let input = [| 0.5; -1.0; 0.75; 0.0; -2.0; 0.5 |]
            let kl (t: Expr) = Expr.sum (Functional.klDivElements false (constantVector input) t)
            // d/dp [p·log p - p·input] = log p + 1 - input: -inf at p = 0, the one-sided limit
            let slope = Array.init p.Length (fun i -> Math.Log p.[i] + 1.0 - input.[i])
            expectIeee (values (Diff.grad kl (constantVector p))) slope "gradient"
            // the JVP of the entries (reduction 'none') along ones is the same slope entry by entry (it was 0 at p = 0
            // where the gradient was NaN); a sum would meet the infinite slopes with zero tangents
            let _, tangent = Diff.jvp (Functional.klDivElements false (constantVector input)) (constantVector p) (constantVector (Array.create p.Length 1.0))
            expectIeee (values tangent) slope "JVP"
            // second derivative 1/p: +inf at p = 0, 0 at +inf
            let v = [| 1.5; 0.5; -0.25; 2.0; 1.0; 0.75 |]
            expectIeee (values (Diff.hvp kl (constantVector p) (constantVector v))) (Array.init p.Length (fun i -> v.[i] / p.[i])) "HVP"
            // central differences of the value where p > 0 has room on both sides
            for i in [ 2; 3; 4 ] do
                let entry (t: float) = t * Math.Log t - t * input.[i]
                let numeric = central entry p.[i] 1e-6
                Expect.floatClose { absolute = 1e-8; relative = 1e-8 } slope.[i] numeric (sprintf "central difference at p = %g" p.[i])
            // the value keeps torch's xlogy: 0 at p = 0
            expectIeee (values (Functional.klDivElements false (constantVector input) (constantVector p)))
                (Array.init p.Length (fun i -> (if p.[i] = 0.0 then 0.0 else p.[i] * Math.Log p.[i]) - p.[i] * input.[i])) "value"
        }
        test "asin and acos under an infinite cotangent: the slope ±g/√(1 - x²) keeps g's sign at first and second order (fuzz all 1/422)" {
            let x = [| -0.9; -0.6; -0.3; 0.2; 0.55; 0.75; 0.999 |]
            let slope (t: float) = 1.0 / Math.Sqrt(1.0 - t * t)
            let curvature (t: float) = t * Math.Pow(1.0 - t * t, -1.5)
            for c in [ infinity; -infinity ] do
                let asinSum (y: Expr) = Expr.sum (Expr.scalar DType.Float64 c * Elementary.asin y)
                let acosSum (y: Expr) = Expr.sum (Expr.scalar DType.Float64 c * Elementary.acos y)
                expectIeee (values (Diff.grad asinSum (constantVector x))) (x |> Array.map (fun t -> c * slope t)) (sprintf "asin gradient, g = %g" c)
                expectIeee (values (Diff.grad acosSum (constantVector x))) (x |> Array.map (fun t -> -c * slope t)) (sprintf "acos gradient, g = %g" c)
                let v = x |> Array.map (fun _ -> 1.0)
                expectIeee (values (Diff.hvp asinSum (constantVector x) (constantVector v))) (x |> Array.map (fun t -> c * curvature t)) (sprintf "asin HVP, g = %g" c)
                expectIeee (values (Diff.hvp acosSum (constantVector x) (constantVector v))) (x |> Array.map (fun t -> -c * curvature t)) (sprintf "acos HVP, g = %g" c)
                let _, tangent = Diff.jvp (fun y -> Expr.scalar DType.Float64 c * Elementary.asin y) (constantVector x) (constantVector v)
                expectIeee (values tangent) (x |> Array.map (fun t -> c * slope t)) (sprintf "asin JVP, g = %g" c)
            // finite cotangents against central differences of System.Math's asin and of the closed-form slope
            let u = [| 0.5; -1.25; 2.0; 0.75; -0.5; 1.5; 0.25 |]
            let grad = values (Diff.grad (fun y -> Expr.sum (constantVector u * Elementary.asin y)) (constantVector x))
            let hvp = values (Diff.hvp (fun y -> Expr.sum (constantVector u * Elementary.acos y)) (constantVector x) (constantVector u))
            for i in 0 .. x.Length - 1 do
                let h = 1e-7 * (1.0 - abs x.[i])
                Expect.floatClose { absolute = 1e-7; relative = 1e-6 } grad.[i] (u.[i] * central Math.Asin x.[i] h) (sprintf "asin gradient at %g" x.[i])
                Expect.floatClose { absolute = 1e-7; relative = 1e-6 } hvp.[i] (-u.[i] * u.[i] * central slope x.[i] h) (sprintf "acos HVP at %g" x.[i])
            // at the ends of the domain: slope +inf (asin) and -inf (acos), NaN outside and at NaN
            let edges = [| -1.0; 1.0; 1.5; nan |]
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Elementary.asin y)) (constantVector edges))) [| infinity; infinity; nan; nan |] "asin at the edges"
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Elementary.acos y)) (constantVector edges))) [| -infinity; -infinity; nan; nan |] "acos at the edges"
        }
        test "sinh and cosh under an infinite cotangent: slopes g·cosh x and g·sinh x keep g's sign at first and second order (fuzz all 2/233)" {
            let x = [| -0.7076717878166642; 0.3; -5.5; 25.0; -30.0; -infinity |]
            for c in [ infinity; -infinity ] do
                let scaled (f: Expr -> Expr) (y: Expr) = Expr.sum (Expr.scalar DType.Float64 c * f y)
                let ones = constantVector (Array.create x.Length 1.0)
                expectIeee (values (Diff.grad (scaled Elementary.cosh) (constantVector x))) (x |> Array.map (fun t -> c * Math.Sinh t)) (sprintf "cosh gradient, g = %g" c)
                expectIeee (values (Diff.grad (scaled Elementary.sinh) (constantVector x))) (x |> Array.map (fun t -> c * Math.Cosh t)) (sprintf "sinh gradient, g = %g" c)
                expectIeee (values (Diff.hvp (scaled Elementary.cosh) (constantVector x) ones)) (x |> Array.map (fun t -> c * Math.Cosh t)) (sprintf "cosh HVP, g = %g" c)
                expectIeee (values (Diff.hvp (scaled Elementary.sinh) (constantVector x) ones)) (x |> Array.map (fun t -> c * Math.Sinh t)) (sprintf "sinh HVP, g = %g" c)
                let _, tangent = Diff.jvp (fun y -> Expr.scalar DType.Float64 c * Elementary.cosh y) (constantVector x) ones
                expectIeee (values tangent) (x |> Array.map (fun t -> c * Math.Sinh t)) (sprintf "cosh JVP, g = %g" c)
            // finite cotangents against central differences of System.Math's sinh and cosh
            let finite = x.[0 .. 4]
            let u = [| 0.5; -1.25; 2.0; 0.75; -0.5 |]
            let gradCosh = values (Diff.grad (fun y -> Expr.sum (constantVector u * Elementary.cosh y)) (constantVector finite))
            let hvpSinh = values (Diff.hvp (fun y -> Expr.sum (constantVector u * Elementary.sinh y)) (constantVector finite) (constantVector u))
            for i in 0 .. finite.Length - 1 do
                let h = 1e-6 * max 1.0 (abs finite.[i])
                let scale = 1e-7 * Math.Cosh finite.[i]
                Expect.floatClose { absolute = scale; relative = 1e-7 } gradCosh.[i] (u.[i] * central Math.Cosh finite.[i] h) (sprintf "cosh gradient at %g" finite.[i])
                Expect.floatClose { absolute = scale; relative = 1e-7 } hvpSinh.[i] (u.[i] * u.[i] * central Math.Cosh finite.[i] h) (sprintf "sinh HVP at %g" finite.[i])
        }
        test "smooth L1 and Huber at a NaN difference: the slope is NaN as the value, not the linear branch's sgn(NaN) = 0 (fuzz all 3/506)" {
            let prediction = [| infinity; 2.0; -1.0; 0.25; nan; 3.0 |]
            let target = [| infinity; -2.0; -0.8335; 0.5; 1.0; -infinity |]
            let d = Array.map2 (-) prediction target
            for width in [ 2.0; 0.5 ] do
                // the closed forms: d/β inside (−β, β), sgn d outside (smooth L1); d inside (−δ, δ), δ·sgn d outside (Huber)
                let smooth = d |> Array.map (fun e -> if Double.IsNaN e then nan elif abs e < width then e / width else float (sign e))
                let huber = d |> Array.map (fun e -> if Double.IsNaN e then nan elif abs e < width then e else width * float (sign e))
                let gradOf (errors: Expr -> Expr -> Expr) = values (Diff.grad (fun p -> Expr.sum (errors p (constantVector target))) (constantVector prediction))
                expectIeee (gradOf (Nn.smoothL1Errors width)) smooth (sprintf "smooth L1 gradient, beta = %g" width)
                expectIeee (gradOf (Nn.huberErrors width)) huber (sprintf "Huber gradient, delta = %g" width)
                let v = values (Nn.smoothL1Errors width (constantVector prediction) (constantVector target))
                Expect.isTrue (Double.IsNaN v.[0] && Double.IsNaN v.[4]) "the value at a NaN difference is NaN"
        }
    ]
