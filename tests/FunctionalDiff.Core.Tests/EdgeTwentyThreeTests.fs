/// Regression specifications for what branch edges23's fuzzer runs found: acosh's derivative is its own rule
/// g/√(x² − 1), one factor, so an infinite cotangent keeps its sign at first and second order, as asinh's. Each
/// derivative against its closed form written out here with System.Math, and against float64 central differences.
module FunctionalDiff.Core.Tests.EdgeTwentyThreeTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// Central difference of a float function, step h.
let private central (f: float -> float) (x: float) (h: float) = (f (x + h) - f (x - h)) / (2.0 * h)

/// acosh′(x) = 1/√(x² − 1), written (x − 1)(x + 1) so that it keeps its digits near 1.
let private acoshSlope (x: float) = 1.0 / Math.Sqrt((x - 1.0) * (x + 1.0))

/// acosh″(x) = −x/(x² − 1)^(3/2).
let private acoshCurvature (x: float) = -x * Math.Pow((x - 1.0) * (x + 1.0), -1.5)

[<Tests>]
let tests =
    testList "Graph.Edge acosh's rule (edges23)" [
        test "acosh under an infinite cotangent: the slope g/√(x² − 1) keeps g's sign at first and second order (fuzz all adversarial 72/213)" {
            // the second order of c·acosh(x) at x = 1.1244384 with c = +∞ is c·acosh″(x) = −∞; the log1p form differentiated
            // as written had terms of opposite sign there, ∞ − ∞ = NaN. 3e8 is beyond the far form's switch (2^28)
            let x = [| 1.1244384; 10001.0; 1.5; 3e8 |]
            let ones = constantVector (Array.create x.Length 1.0)
            for c in [ infinity; -infinity ] do
                let scaled (y: Expr) = Expr.sum (Expr.scalar DType.Float64 c * Elementary.acosh y)
                expectIeee (values (Diff.grad scaled (constantVector x))) (x |> Array.map (fun t -> c * acoshSlope t)) (sprintf "acosh gradient, g = %g" c)
                expectIeee (values (Diff.hvp scaled (constantVector x) ones)) (x |> Array.map (fun t -> c * acoshCurvature t)) (sprintf "acosh HVP, g = %g" c)
                let _, tangent = Diff.jvp (fun y -> Expr.scalar DType.Float64 c * Elementary.acosh y) (constantVector x) ones
                expectIeee (values tangent) (x |> Array.map (fun t -> c * acoshSlope t)) (sprintf "acosh JVP, g = %g" c)
            // the same through an outer product with a constant column holding +∞, as the program drew it
            let column = Expr.constant (Tensor.FromArray([| 0.49384192; infinity |], [| 2; 1 |]))
            let u = [| 0.169349; 0.247047; -0.318238; 0.692457 |]
            let outer (y: Expr) = Expr.sum (Expr.constant (Tensor.FromArray(u, [| 2; 2 |])) * Expr.matmul column (Expr.reshape [| 1; 2 |] (Elementary.acosh y)))
            let point = [| 1.1244384; 10001.0 |]
            let hvp = values (Diff.hvp outer (constantVector point) (constantVector [| 1.0; 1.0 |]))
            expectIeee hvp [| (if u.[2] * acoshCurvature point.[0] > 0.0 then infinity else -infinity); (if u.[3] * acoshCurvature point.[1] > 0.0 then infinity else -infinity) |] "acosh HVP through the outer product"
        }
        test "acosh's slope and curvature at finite cotangents match central differences, +∞ at 1, 0 at +∞, NaN below 1" {
            let x = [| 1.0000001; 1.1244384; 1.5; 2.0; 37.25; 1e4; 1e8; 3e8; 1e12 |]
            let u = [| 0.5; -1.25; 2.0; 0.75; -0.5; 1.5; -2.0; 0.3; 1.1 |]
            let grad = values (Diff.grad (fun y -> Expr.sum (constantVector u * Elementary.acosh y)) (constantVector x))
            let hvp = values (Diff.hvp (fun y -> Expr.sum (constantVector u * Elementary.acosh y)) (constantVector x) (constantVector u))
            for i in 0 .. x.Length - 1 do
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } grad.[i] (u.[i] * acoshSlope x.[i]) (sprintf "acosh gradient at %g, closed form" x.[i])
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } hvp.[i] (u.[i] * u.[i] * acoshCurvature x.[i]) (sprintf "acosh HVP at %g, closed form" x.[i])
                // and the closed forms themselves against central differences, away from the pole at 1
                if x.[i] > 1.1 then
                    let h = 1e-6 * x.[i]
                    Expect.floatClose { absolute = 0.0; relative = 1e-5 } grad.[i] (u.[i] * central Math.Acosh x.[i] h) (sprintf "acosh gradient at %g" x.[i])
                    Expect.floatClose { absolute = 0.0; relative = 1e-5 } hvp.[i] (u.[i] * u.[i] * central acoshSlope x.[i] h) (sprintf "acosh HVP at %g" x.[i])
            let edges = [| 1.0; infinity; 0.5; -2.0; nan |]
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Elementary.acosh y)) (constantVector edges))) [| infinity; 0.0; nan; nan; nan |] "acosh slope at the edges"
        }
    ]
