/// Regression specifications for what branch edges25 found: hypot's slope in its smaller operand where s/l underflows to
/// 0 is below the smallest subnormal but not 0, so a huge or infinite cotangent times it is the closed form c·s/|l|, not
/// c·0. Each against that closed form written here (a/√(a² + b²) = a/|b| to every digit when a²/b² is below ε).
module FunctionalDiff.Core.Tests.EdgeTwentyFiveTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

[<Tests>]
let tests =
    testList "Graph.Edge hypot's slope below the subnormals (edges25)" [
        test "c·hypot(a, b) with |a/b| below 2^-1074: the gradient in a is (c·a)/|b|, in either operand slot (fuzz all adversarial 103/41)" {
            // the cotangents c = +∞ and c = 1e300 meet a first: −∞ (a/h = −5.9e-325 is negative) and 1e300·5e-324/2
            let a = [| -5e-324; 5e-324; 1e-320 |]
            let b = [| -8.5165; 2.0; 1e300 |]
            let c = [| infinity; 1e300; -infinity |]
            let expected = Array.init 3 (fun i -> c.[i] * a.[i] / abs b.[i])
            Expect.equal expected.[0] -infinity "the closed form at a = −5e-324 under +∞"
            Expect.isGreaterThan expected.[1] 0.0 "the closed form at a = 5e-324 under 1e300 is a number above 0"
            let first = values (Diff.grad (fun e -> Expr.sum (constantVector c * Elementary.hypot e (constantVector b))) (constantVector a))
            expectIeee first expected "a in the first slot"
            let second = values (Diff.grad (fun e -> Expr.sum (constantVector c * Elementary.hypot (constantVector b) e)) (constantVector a))
            expectIeee second expected "a in the second slot"
            // the larger operand's slope is sign(b), untouched: c·sign(b)
            let inB = values (Diff.grad (fun e -> Expr.sum (constantVector c * Elementary.hypot (constantVector a) e)) (constantVector b))
            expectIeee inB (Array.init 3 (fun i -> c.[i] * float (sign b.[i]))) "the larger operand"
        }
        test "there the curvature in the smaller operand is c·b²/h³ = c/|b|, and a finite point keeps the closed-form Hessian" {
            let a, b = -5e-324, 2.0
            let f (z: Expr) = Expr.scalar DType.Float64 1e300 * Expr.sum (Elementary.hypot (Expr.sliceAxis 0 0 1 z) (Expr.sliceAxis 0 1 2 z))
            let hvp = values (Diff.hvp f (constantVector [| a; b |]) (constantVector [| 1.0; 0.0 |]))
            expectClose 1e-15 [| hvp.[0] |] [| 1e300 / abs b |] "∂²/∂a² at a ≈ 0"
            // ∂²h/∂a∂b = −ab/h³: a²·1e300/8 rounds to 0 beside it, so the mixed entry is −1e300·a·b/|b|³
            expectClose 1e-15 [| hvp.[1] |] [| -1e300 * a * b / (abs b * abs b * abs b) |] "∂²/∂a∂b"
            let xs = [| 3.0; 4.0 |]
            let hessian = values (Diff.hessian (fun z -> Expr.sum (Elementary.hypot (Expr.sliceAxis 0 0 1 z) (Expr.sliceAxis 0 1 2 z))) (constantVector xs))
            let h = 5.0
            expectClose 1e-14 hessian [| 16.0 / (h * h * h); -12.0 / (h * h * h); -12.0 / (h * h * h); 9.0 / (h * h * h) |] "at (3, 4)"
        }
    ]
