/// Regression specifications for what branch edges14 examined among the fuzzer's open findings: pow's rule multiplies the
/// cotangent by the exponent before the power, so a zero cotangent keeps its second derivative in the base at 0 where
/// b(b − 1) overflows.
module FunctionalDiff.Core.Tests.EdgeFourteenTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges14)" [
        test "the Hessian of u·(a^b − a^b) is 0 where b(b − 1) overflows (fuzz all adversarial 44/87)" {
            // a^b − a^b is 0 for every a: every derivative is exactly 0, though ∂²(a^b)/∂a² = b(b − 1)a^(b−2) is ∞ here
            let b = constantVector [| -1e300; -1e300 |]
            let u = constantVector [| -0.591309; -0.275586 |]
            let g (a: Expr) = let p = a ** b in Expr.sum (u * (p - p))
            let a = constantVector [| 1.0; 1.0 |]
            Expect.equal (values (Diff.hessian g a)) (Array.zeroCreate 4) "Hessian"
            let along (y: Expr) = Expr.sum (Diff.grad g y * constantVector [| 0.3; -0.7 |])
            Expect.equal (values (Diff.grad along a)) [| 0.0; 0.0 |] "reverse over reverse"
        }
        test "pow's second derivative in the base is still w·b(b − 1)a^(b−2) (closed form)" {
            let points = [| 0.5; 1.0; 2.0; 3.5 |]
            let exponents = [| -2.5; 0.5; 3.0; 1.0 |]
            let w = [| 1.5; -0.5; 2.0; 0.25 |]
            let g (a: Expr) = Expr.sum (constantVector w * (a ** constantVector exponents))
            let hessian = values (Diff.hessian g (constantVector points))
            let diagonal = Array.init points.Length (fun i -> hessian.[i * points.Length + i])
            let expected = Array.init points.Length (fun i -> let b = exponents.[i] in w.[i] * b * (b - 1.0) * points.[i] ** (b - 2.0))
            expectClose 1e-13 diagonal expected "diagonal"
            let offDiagonal = hessian |> Array.indexed |> Array.filter (fun (k, _) -> k / points.Length <> k % points.Length) |> Array.map snd
            Expect.equal offDiagonal (Array.zeroCreate offDiagonal.Length) "off the diagonal"
        }
    ]
