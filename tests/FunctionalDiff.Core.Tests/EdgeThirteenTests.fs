/// Regression specifications for what branch edges13's fuzzer runs found at the edges: silu's and mish's derivatives are
/// one factor each (their closed forms, and ±∞ through an infinite slope where the two-term product rule met 0·∞), and a loop of no
/// steps is its init, whose second derivative is exactly 0 beside infinite slopes.
module FunctionalDiff.Core.Tests.EdgeThirteenTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private sigma (x: float) = 1.0 / (1.0 + Math.Exp(-x))

/// silu′ and silu″ in closed form: σ(1 + x(1 − σ)) and σ(1 − σ)(2 + x(1 − 2σ)).
let private siluSlope (x: float) = let s = sigma x in s * (1.0 + x * (1.0 - s))
let private siluCurvature (x: float) = let s = sigma x in s * (1.0 - s) * (2.0 + x * (1.0 - 2.0 * s))

/// mish′ and mish″ in closed form, T = tanh(softplus x), S = 1 − T²: T + xσS and σS(2 + x(1 − σ − 2σT)).
let private mishParts (x: float) = let t = Math.Tanh(Math.Log(1.0 + Math.Exp x)) in sigma x, t, 1.0 - t * t
let private mishSlope (x: float) = let s, t, sech2 = mishParts x in t + x * s * sech2
let private mishCurvature (x: float) = let s, t, sech2 = mishParts x in s * sech2 * (2.0 + x * (1.0 - s - 2.0 * s * t))

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges13)" [
        test "silu's first, second and third derivatives are the closed forms (the third against central differences of the second)" {
            let points = [| -40.0; -3.0; -0.5; 0.0; 1e-3; 0.7; 2.5; 40.0 |]
            let x = constantVector points
            let first (y: Expr) = Diff.grad (fun z -> Expr.sum (Activations.silu z)) y
            let second (y: Expr) = Diff.grad (fun z -> Expr.sum (first z)) y
            let third (y: Expr) = Diff.grad (fun z -> Expr.sum (second z)) y
            expectClose 1e-14 (values (first x)) (points |> Array.map siluSlope) "silu′"
            expectClose 1e-14 (values (second x)) (points |> Array.map siluCurvature) "silu″"
            let h = 1e-5
            expectClose 1e-8 (values (third x)) (points |> Array.map (fun p -> (siluCurvature (p + h) - siluCurvature (p - h)) / (2.0 * h))) "silu‴"
        }
        test "mish's first, second and third derivatives are the closed forms (the third against central differences of the second)" {
            let points = [| -8.0; -3.0; -1.2; -0.5; 0.0; 1e-3; 0.7; 2.5; 8.0 |]
            let x = constantVector points
            let first (y: Expr) = Diff.grad (fun z -> Expr.sum (Activations.mish z)) y
            let second (y: Expr) = Diff.grad (fun z -> Expr.sum (first z)) y
            let third (y: Expr) = Diff.grad (fun z -> Expr.sum (second z)) y
            expectClose 1e-13 (values (first x)) (points |> Array.map mishSlope) "mish′"
            expectClose 1e-13 (values (second x)) (points |> Array.map mishCurvature) "mish″"
            let h = 1e-5
            expectClose 1e-8 (values (third x)) (points |> Array.map (fun p -> (mishCurvature (p + h) - mishCurvature (p - h)) / (2.0 * h))) "mish‴"
        }
        test "silu and mish under an infinite cotangent: the gradient is ±∞ by the sign of the slope, not ∞ − ∞ = NaN" {
            // below 0 the product rule's two terms g·h(x) and (g·x)·h′(x) have opposite signs; the slope itself is one number
            let points = [| -3.0; -0.5; 0.7; 2.5 |]
            let signed (slope: float) = if slope > 0.0 then infinity else -infinity
            for name, f, slope in [ "silu", Activations.silu, siluSlope; "mish", Activations.mish, mishSlope ] do
                let _, pullback = Diff.vjp f (constantVector points)
                let gradient = values (pullback (constantVector (Array.create points.Length infinity)))
                Expect.equal gradient (points |> Array.map (slope >> signed)) name
        }
        test "x₀·silu(x₁^0.246) at 0: the mixed second derivative is silu′(0)·∞ = +∞, not 0·∞ = NaN (fuzz all 4/690)" {
            // ∂f/∂x₁ = x₀·silu′(y)·0.246·x₁^−0.754 with y = x₁^0.246, so ∂²f/∂x₀∂x₁ = silu′(0)·(+∞) = +∞ at (0, 0)
            let f (x: Expr) =
                let x0, x1 = Expr.sliceAxis 0 0 1 x, Expr.sliceAxis 0 1 2 x
                Expr.sum (x0 * Activations.silu (Expr.pow x1 (Expr.scalar DType.Float64 0.246)))
            let origin = constantVector [| 0.0; 0.0 |]
            Expect.equal (siluSlope 0.0) 0.5 "the premise: silu′(0) = 1/2"
            // reverse over reverse, as the fuzzer's second order: d/dx ⟨∇f(x), v⟩, whose first entry is H₀₁·v₁
            for v1 in [ 1.0; -2.0 ] do
                let along (x: Expr) = Expr.sum (Diff.grad f x * constantVector [| 0.0; v1 |])
                let entry = (values (Diff.grad along origin)).[0]
                Expect.equal entry (if v1 > 0.0 then infinity else -infinity) (sprintf "reverse over reverse, v₁ = %g" v1)
            // forward over reverse: H·e₁, whose first entry is H₀₁
            Expect.equal (values (Diff.hvp f origin (constantVector [| 0.0; 1.0 |]))).[0] infinity "HVP"
        }
        test "lgamma near 0 is −log|x| − γx, finite where π/sin(πx) overflows (fuzz all adversarial 44/210)" {
            // |x| below 1e-300: the γx term and the x² terms are below the last bit of −log|x|, about 700
            let points = [| -1e-310; 1e-310; -5e-324; 5e-324; -1e-300; 3e-305 |]
            let expected = points |> Array.map (fun p -> -Math.Log(abs p))
            expectClose 1e-15 (values (Expr.lgamma (constantVector points))) expected "lgamma"
        }
        test "a loop of no steps is its init: beside infinite slopes its second derivative is exactly 0 (fuzz adversarial 43/94)" {
            // g(x) = Σ w·repeat₀(c·x) = Σ w·c·x, linear: the gradient w·c, every second derivative 0 (the step is never run)
            let c = [| infinity; 2.0; -infinity |]
            let w = [| 0.5; -1.5; 2.0 |]
            let g (x: Expr) = Expr.sum (constantVector w * Scan.repeat 0 (fun v -> Expr.sin v - 1.0) (constantVector c * x))
            let x = constantVector [| 1.0; -0.5; 0.25 |]
            expectIeee (values (Diff.grad g x)) (Array.map2 (*) w c) "gradient"
            let along (y: Expr) = Expr.sum (Diff.grad g y * constantVector [| 0.3; -0.7; 1.1 |])
            Expect.equal (values (Diff.grad along x)) [| 0.0; 0.0; 0.0 |] "reverse over reverse"
            Expect.equal (values (Diff.hessian g x)) (Array.zeroCreate 9) "Hessian"
            // a scan over xs of no rows: the carries are init, the ys empty stacks of the step's y shape
            let carries, ys = Scan.scan1 (fun h r -> Expr.sin (h * r), Expr.sum h * 2.0) x (Expr.constant (Tensor.zeros DType.Float64 [| 0; 3 |]))
            Expect.equal (values carries) (values x) "carries"
            Expect.equal (Eval.eval ys).Shape [| 0 |] "ys"
        }
    ]
