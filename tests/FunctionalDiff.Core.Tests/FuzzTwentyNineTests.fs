/// What branch fuzz29 fixed in ours from the differential fuzzer's findings, each against a closed form
/// evaluated here in plain floating point, in an order whose every step stays in range.
module FunctionalDiff.Core.Tests.FuzzTwentyNineTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

[<Tests>]
let tests =
    testList "Fuzz twenty-nine" [
        test "the JVP of b·(1/v) meets the tangent v̇ with 1/v before b, where b·v̇ overflows and the JVP is finite (fuzz wide adversarial 137/276)" {
            // v = a·wᵀ, a matmul, so its tangent v̇ is one atom of the Rewrite pass's monomial b·v̇·y² (y = 1/v)
            let w = [| -1e160; 3.0 |]
            let a = [| -2.0; 0.0; 0.3; 0.0; 1.0; 1e150; 0.5; -1.0 |]
            let da = [| 1.19347; -0.630586; 0.3; -0.7; -0.196746; 1.39126; 0.2; 0.1 |]
            let b, db = 3e160, 0.5
            let rows = a.Length / 2
            let dot (x: float[]) (i: int) = x.[2 * i] * w.[0] + x.[2 * i + 1] * w.[1]
            // d(b/v) = ḃ/v − (b/v)·(v̇/v), each quotient in range at these points
            let expected = Array.init rows (fun i -> let v = dot a i in db / v - (b / v) * (dot da i / v))
            let f (args: Expr list) = args.[1] * Expr.reciprocal (Expr.matmul args.[0] (Expr.constant (tensor [| 2; 1 |] w)))
            let _, tangent =
                Diff.jvpN f [ constant (tensor [| rows; 2 |] a); constant (Tensor.Scalar(b, DType.Float64)) ] [ constant (tensor [| rows; 2 |] da); constant (Tensor.Scalar(db, DType.Float64)) ]
            expectIeee (values tangent) expected "JVP"
        }
        test "the second order of lerp(rsqrt(w²), e, w) is the closed form of 1/|w| where w² overflows at a finite w (fuzz all adversarial 129/182)" {
            // f(w, e) = lerp(s, e, w) with s = 1/|w|: ∂²f/∂w² = s″·(1 − w) − 2s′ (either of lerp's forms), ∂²f/∂w∂e = 1,
            // ∂²f/∂e² = 0, with s′ = −sgn(w)/w² and s″ = 2/|w|³, written so that each step stays in range (both terms
            // underflow to 0 where w² overflows); reverse over reverse, d/dx ⟨∇f, v⟩, as the fuzzer's second-order check
            let v = [| 0.9; 0.8 |]
            for w in [ -1e300; -1e200; 1e250; 3.0; -0.25 ] do
                let curvature = 2.0 / abs w / w / w * (1.0 - w) + 2.0 * float (sign w) / w / w
                let expected = [| curvature * v.[0] + v.[1]; v.[0] |]
                let f (args: Expr list) = Expr.sum (Elementary.lerp (Expr.rsqrt (Expr.square args.[0])) args.[1] args.[0])
                let pairing (args: Expr list) =
                    match Diff.gradN f args with
                    | [ dw; de ] -> Expr.sum (dw * v.[0]) + Expr.sum (de * v.[1])
                    | other -> failwithf "two gradients expected, got %d" other.Length
                let second = Diff.gradN pairing [ constantVector [| w |]; constantVector [| -5.0 |] ] |> List.map values |> Array.concat
                expectIeee second expected (sprintf "reverse over reverse at w = %g" w)
                let forward = values (Diff.hvp (fun x -> f [ Expr.sliceAxis 0 0 1 x; Expr.sliceAxis 0 1 2 x ]) (constantVector [| w; -5.0 |]) (constantVector v))
                expectIeee forward expected (sprintf "forward over reverse at w = %g" w)
        }
    ]
