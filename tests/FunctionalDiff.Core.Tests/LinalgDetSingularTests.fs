/// det at singular matrices up to 3×3: the value 0, the gradient the adjugate's transpose (the
/// cofactor matrix, computed here by a loop over minors), and second derivatives against central
/// differences of the gradient. A rule through A⁻ᵀ cannot give these: A⁻¹ does not exist there.
module FunctionalDiff.Core.Tests.LinalgDetSingularTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// The determinant by expansion along the first row.
let rec private expansion (a: float[]) (n: int) =
    if n = 0 then 1.0
    else
        Seq.sum (seq {
            for j in 0 .. n - 1 ->
                let minor = [| for i in 1 .. n - 1 do for c in 0 .. n - 1 do if c <> j then yield a.[i * n + c] |]
                (if j % 2 = 0 then 1.0 else -1.0) * a.[j] * expansion minor (n - 1) })

/// The cofactor matrix: entry (i, j) is (-1)^(i+j) times the determinant of a without row i and column j.
let internal cofactors (a: float[]) (n: int) =
    Array.init (n * n) (fun index ->
        let i, j = index / n, index % n
        let minor = [| for r in 0 .. n - 1 do for c in 0 .. n - 1 do if r <> i && c <> j then yield a.[r * n + c] |]
        (if (i + j) % 2 = 0 then 1.0 else -1.0) * expansion minor (n - 1))

let private singular =
    [ "rank 1 of 2", 2, [| 1.0; 2.0; 2.0; 4.0 |]
      "zero 2×2", 2, [| 0.0; 0.0; 0.0; 0.0 |]
      "a zero pivot", 2, [| 0.0; 1.0; 0.0; 3.0 |]
      "rank 2 of 3", 3, [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0; 5.0; 7.0; 9.0 |]
      "rank 1 of 3", 3, [| 1.0; 2.0; 3.0; 2.0; 4.0; 6.0; -1.0; -2.0; -3.0 |]
      "a zero row", 3, [| 0.0; 0.0; 0.0; 1.0; 2.0; 0.5; -1.0; 3.0; 2.0 |] ]

[<Tests>]
let tests =
    testList "det at singular matrices" [
        for name, n, a in singular do
            test (sprintf "%s: det 0, gradient the cofactor matrix" name) {
                let x = constant (tensor [| n; n |] a)
                Expect.equal (value (Linalg.det x)) 0.0 "det"
                expectClose 1e-14 (values (Diff.grad Linalg.det x)) (cofactors a n) "gradient"
            }
            test (sprintf "%s: second derivative against differences of the gradient" name) {
                let direction = tensor [| n; n |] (Array.init (n * n) (fun k -> float (k % 3) - 0.5))
                let psi (xs: Expr list) = inner (Diff.grad Linalg.det xs.Head) direction
                let ours = values (Diff.grad (fun x -> psi [ x ]) (constant (tensor [| n; n |] a)))
                let expected = numericGradient psi [ tensor [| n; n |] a ]
                expectClose 1e-8 ours expected.Head "Hessian · direction"
            }
        test "a batch of singular and regular matrices, each its own cofactors" {
            let a = [| 1.0; 2.0; 2.0; 4.0; 2.0; -1.0; 0.5; 3.0 |]
            let g = values (Diff.grad (fun x -> Expr.sum (Linalg.det x)) (constant (tensor [| 2; 2; 2 |] a)))
            expectClose 1e-14 g (Array.append (cofactors a.[.. 3] 2) (cofactors a.[4 ..] 2)) "gradient"
        }
    ]
