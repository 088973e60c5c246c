/// Regression specifications for what branch edges21 fixed among the fuzzer's open findings: the symmetric eigensolver
/// keeps the small eigenvalues of a graded matrix (each Jacobi rotation in Rutishauser's form, a stopping test per pair
/// relative to its diagonal entries, the largest pairs first), so the eigenvalues' derivatives do not divide by a gap
/// that rounding closed.
module FunctionalDiff.Core.Tests.EdgeTwentyOneTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges21)" [
        test "eigvalsh of a graded matrix keeps its small eigenvalue, and the second order is the closed form through that gap (fuzz all adversarial 60/260)" {
            // [[0, 0, b], [0, 0, 0], [b, 0, d]] with b = −621, d = −2e30: e₁ has the eigenvalue 0, and the block in
            // coordinates 0 and 2 has λ² − dλ − b² = 0, whose roots are the large (d − √(d² + 4b²))/2 and the small
            // −b²/large, 621²/2e30 = 1.93e-25 (both formed without cancellation). The old kernel returned 0 for it, a
            // gap of 0, and every second derivative was NaN.
            let b, d = -621.0, -2e30
            let large = (d - sqrt (d * d + 4.0 * b * b)) / 2.0
            let small = -(b * b) / large
            let a = constant (tensor [| 3; 3 |] [| 0.0; 0.0; b; 0.0; 0.0; 0.0; b; 0.0; d |])
            expectClose 1e-14 (values (Linalg.eigvalsh a) |> Array.map (fun w -> w / small)) [| large / small; 0.0; 1.0 |]
                "eigenvalues, in units of the small one"
            // the HVP of Σ cᵢλᵢ along D = e₀e₁ᵀ + e₁e₀ᵀ: the gradient is Σ cᵢvᵢvᵢᵀ and vᵢ moves by
            // Σⱼ vⱼ(vⱼᵀDvᵢ)/(λᵢ − λⱼ); D couples e₁ (λ = 0) with the small eigenvector v_s ∝ [1, 0, small/b] (its row 0:
            // b·y = small·x), through vₛᵀDe₁ = v_s[0], so the HVP is k·(v_s e₁ᵀ + e₁ v_sᵀ)·v_s[0] with k = (c₂ − c₁)/small;
            // the large eigenvector's terms are below 1e-50
            let c = [| 0.557241; 0.216846; -0.70015 |]
            let vs =
                let norm = sqrt (1.0 + (small / b) ** 2.0)
                [| 1.0 / norm; 0.0; small / b / norm |]
            let k = (c.[2] - c.[1]) / small * vs.[0]
            let e1 = [| 0.0; 1.0; 0.0 |]
            let expected = Array.init 9 (fun index -> let i, j = index / 3, index % 3 in k * (vs.[i] * e1.[j] + e1.[i] * vs.[j]))
            let direction = constant (tensor [| 3; 3 |] [| 0.0; 1.0; 0.0; 1.0; 0.0; 0.0; 0.0; 0.0; 0.0 |])
            let hvp = values (Diff.hvp (fun m -> Expr.sum (constantVector c * Linalg.eigvalsh m)) a direction)
            expectClose 1e-12 (hvp |> Array.map (fun h -> h / abs k)) (expected |> Array.map (fun h -> h / abs k)) "HVP, in units of k"
        }
        test "eigvalsh of a zero-diagonal tridiagonal matrix with entries 1.7 and 1e20: its middle eigenvalue is 0 (the determinant is 0), not a rounding of the norm" {
            // det [[0, p, 0], [p, 0, q], [0, q, 0]] = 0 for every p and q, so 0 is an eigenvalue at every rounding of the
            // entries, and ±√(p² + q²) the others. Rotating the small pair first (two zero diagonal entries turn by 45°)
            // mixed 1.7 into the 1e20 entries and left −1388, a rounding of the norm; the largest pair first keeps it
            let p, q = -1.7, -1e20
            let outer = sqrt (p * p + q * q)
            let w = values (Linalg.eigvalsh (constant (tensor [| 3; 3 |] [| 0.0; p; 0.0; p; 0.0; q; 0.0; q; 0.0 |])))
            expectClose 1e-15 [| w.[0] / outer; w.[2] / outer |] [| -1.0; 1.0 |] "the outer eigenvalues, in units of the norm"
            Expect.isLessThan (abs w.[1]) 1e-30 (sprintf "the middle eigenvalue, 0 exactly: %g" w.[1])
        }
        test "celu's branch is chosen by x, not by x/α: at x = −5e-324, whose x/α rounds to −0, the curvature is (1/α)·e^(x/α) = 1/α (fuzz all adversarial 67/232)" {
            // celu(x) = α·(e^(x/α) − 1) for x ≤ 0 and x above: slope e^(x/α) below 0 and 1 from 0 on (torch's, at 0), curvature
            // e^(x/α)/α below 0 and 0 from 0 on (torch's double backward at 0)
            let alpha = 2.0
            let xs = [| -5e-324; 0.0; -1.0; 3.0; -1e-300 |]
            let u = [| 0.96757; 1.10491; -0.4; 0.7; 1.3 |]
            let v = [| -0.211383; -0.0568494; 0.25; -1.5; 0.6 |]
            let f (x: Expr) = Expr.sum (constantVector u * Activations.celu alpha x)
            let slope x = if x < 0.0 then exp (x / alpha) else 1.0
            let curvature x = if x < 0.0 then exp (x / alpha) / alpha else 0.0
            expectIeee (values (Diff.grad f (constantVector xs))) (Array.init xs.Length (fun i -> u.[i] * slope xs.[i])) "gradient"
            expectIeee (values (Diff.hvp f (constantVector xs) (constantVector v))) (Array.init xs.Length (fun i -> u.[i] * curvature xs.[i] * v.[i])) "HVP"
        }
        test "addcdiv and addcmul over an empty broadcast have no outputs, so their gradients are 0 at a NaN operand (fuzz all adversarial 68/10)" {
            // t of shape [0, 3], a = NaN, b of shape [4, 1, 1]: the result has shape [4, 0, 3], no entries, and the derivative
            // of the empty sum is the zero map; a/b at b's own shape met the empty sum's 0 with the slope −a/b², NaN
            let t = constant (Tensor.FromArray(Array.empty<float>, [| 0; 3 |]))
            let a = constant (Tensor.FromArray([| nan |], [||]))
            let b = constant (tensor [| 4; 1; 1 |] [| -0.36; -0.36; 1.5; 2.0 |])
            let zeros = Array.zeroCreate<float> 4
            expectIeee (values (Diff.grad (fun b -> Expr.sum (Elementary.addcdiv 0.5 t a b)) b)) zeros "addcdiv, gradient in b"
            expectIeee (values (Diff.grad (fun b -> Expr.sum (Elementary.addcmul 0.5 t a b)) b)) zeros "addcmul, gradient in b"
            expectIeee (values (Diff.grad (fun a -> Expr.sum (Elementary.addcdiv 0.5 t a b)) a)) [| 0.0 |] "addcdiv, gradient in a"
        }
    ]
