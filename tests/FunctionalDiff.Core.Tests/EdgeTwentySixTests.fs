/// Regression specifications for what branch edges26 found: det up to 3×3 has the rule g·cof(A), one product per entry,
/// so an infinite cotangent gives the closed form ±∞ in every entry whose cofactor is nonzero. The cofactors are
/// computed here by a loop over minors (LinalgDetSingularTests), the derivatives of every order against Jacobi's formula
/// and central differences.
module FunctionalDiff.Core.Tests.EdgeTwentySixTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.LinalgDetSingularTests

/// Symmetric and positive definite, every cofactor nonzero, and C₀₀ = 3·4 − 1·1 a difference of two positive products:
/// −∞·3·4 − (−∞·1·1) is ∞ − ∞ where −∞·11 is −∞.
let private a3 = [| 2.0; 1.0; 0.5; 1.0; 3.0; 1.0; 0.5; 1.0; 4.0 |]
/// Not symmetric, cofactors of both signs.
let private b3 = [| 1.5; -2.0; 0.25; 3.0; 1.0; -1.0; -0.5; 2.0; 2.5 |]

[<Tests>]
let tests =
    testList "Graph.Edge det's rule g·cof(A) (edges26)" [
        test "under an infinite cotangent the gradient is c·cof(A) in every entry, 3×3 and a batch, interpreted and compiled (fuzz wide adversarial 87/54)" {
            for c, a in [ -infinity, a3; infinity, a3; -infinity, b3 ] do
                let expected = cofactors a 3 |> Array.map (fun k -> c * k)
                Expect.isTrue (expected |> Array.forall System.Double.IsInfinity) "every cofactor is nonzero, so c·cof is ±∞"
                let f (x: Expr) = Expr.sum (Expr.scalar DType.Float64 c * Linalg.det x)
                expectIeee (values (Diff.grad f (constant (tensor [| 3; 3 |] a)))) expected (sprintf "interpreted, c = %g" c)
                let compiled = Compile.compile (fun p -> [| Diff.grad f p.[0] |])
                expectIeee ((compiled.Invoke(tensor [| 3; 3 |] a)).[0].ToDoubleArray()) expected (sprintf "compiled, c = %g" c)
            // a batch of two matrices under cotangents of opposite signs
            let c = tensor [| 2 |] [| -infinity; infinity |]
            let g = values (Diff.grad (fun x -> Expr.sum (constant c * Linalg.det x)) (constant (tensor [| 2; 3; 3 |] (Array.append a3 b3))))
            expectIeee g (Array.append (cofactors a3 3 |> Array.map (fun k -> -infinity * k)) (cofactors b3 3 |> Array.map (fun k -> infinity * k))) "batch"
        }
        test "under an infinite cotangent the 2×2 gradient is c·cof(A) too, and a zero cofactor gives c·0 = NaN as the closed form" {
            let a = [| 3.0; 0.0; 2.0; 5.0 |]
            let expected = cofactors a 2 |> Array.map (fun k -> -infinity * k)
            Expect.isTrue (System.Double.IsNaN expected.[2]) "the cofactor of a₁₀ is −a₀₁ = −0"
            expectIeee (values (Diff.grad (fun x -> Expr.sum (Expr.scalar DType.Float64 -infinity * Linalg.det x)) (constant (tensor [| 2; 2 |] a)))) expected "2×2"
        }
        test "at finite points the JVP is Jacobi's Σ cof(A)·V and the Hessian-vector product the central differences of the gradient" {
            for n, a in [ 3, b3; 2, [| 1.5; -2.0; 3.0; 1.0 |] ] do
                let v = Array.init (n * n) (fun k -> float (k % 4) - 1.25)
                let _, tangent = Diff.jvp Linalg.det (constant (tensor [| n; n |] a)) (constant (tensor [| n; n |] v))
                expectClose 1e-14 [| value tangent |] [| Array.fold2 (fun s c d -> s + c * d) 0.0 (cofactors a n) v |] (sprintf "JVP %d×%d" n n)
                let ours = values (Diff.hvp Linalg.det (constant (tensor [| n; n |] a)) (constant (tensor [| n; n |] v)))
                let step = 1e-5
                let gradientAt (x: float[]) = cofactors x n
                let expected =
                    Array.init (n * n) (fun k ->
                        (gradientAt (Array.map2 (fun x d -> x + step * d) a v)).[k] - (gradientAt (Array.map2 (fun x d -> x - step * d) a v)).[k])
                    |> Array.map (fun d -> d / (2.0 * step))
                expectClose 1e-8 ours expected (sprintf "HVP %d×%d" n n)
        }
    ]
