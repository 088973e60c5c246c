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
        test "lerp's gradient is g·(1 − w), g·w and g·(end − start): ±∞ under an infinite cotangent, not ∞ − ∞ (fuzz all adversarial 44/263)" {
            // f(x) = lerp(s, x, x)^b: the far form x − (x − s)(1 − x), slope 2x − s in x; the power overflows, so the
            // cotangent into lerp is −∞·sign and the gradient ±∞ where 2x − s is finite and nonzero
            let s = Expr.scalar DType.Float64 4e40
            let b = constantVector [| 6.4e161; 6.3872064e127; 6.4e161 |]
            let u = constantVector [| -1.23192; -1.52336; -0.155523 |]
            let f (x: Expr) = Expr.sum (u * (Elementary.lerp s x x ** b))
            let gradient = values (Diff.grad f (constantVector [| 1000.0; -1e20; -1e20 |]))
            // entries 1 and 2: v = −1e20 + 4e40(1 + 1e20) > 0, cotangent u·b·v^(b−1) = −∞, slope 2x − s < 0, so +∞
            Expect.equal gradient.[1] infinity "entry 1"
            Expect.equal gradient.[2] infinity "entry 2"
        }
        test "lerp's first and second derivatives in each operand are the closed forms, on both forms" {
            let starts = [| 0.5; -2.0; 3.0; 1.5 |]
            let ends = [| 2.0; 1.0; -1.0; 4.0 |]
            let weights = [| 0.25; 0.75; -0.3; 2.5 |]
            let w = [| 1.5; -0.5; 2.0; 0.25 |]
            let sumOf (e: Expr) = Expr.sum (constantVector w * e)
            // the square makes the second derivatives nonzero: d²/dp² (lerp)² = 2(∂lerp/∂p)²
            let square (e: Expr) = e * e
            let lerpAt i = starts.[i] + weights.[i] * (ends.[i] - starts.[i])
            let check name (f: Expr -> Expr) (point: float[]) (slope: int -> float) =
                let g (x: Expr) = sumOf (square (f x))
                let gradient = values (Diff.grad g (constantVector point))
                expectClose 1e-13 gradient (Array.init 4 (fun i -> w.[i] * 2.0 * lerpAt i * slope i)) (name + ": gradient")
                let hessian = values (Diff.hessian g (constantVector point))
                expectClose 1e-13 (Array.init 4 (fun i -> hessian.[i * 4 + i])) (Array.init 4 (fun i -> w.[i] * 2.0 * slope i * slope i)) (name + ": Hessian")
            check "start" (fun x -> Elementary.lerp x (constantVector ends) (constantVector weights)) starts (fun i -> 1.0 - weights.[i])
            check "end" (fun x -> Elementary.lerp (constantVector starts) x (constantVector weights)) ends (fun i -> weights.[i])
            check "weight" (fun x -> Elementary.lerp (constantVector starts) (constantVector ends) x) weights (fun i -> ends.[i] - starts.[i])
        }
    ]
