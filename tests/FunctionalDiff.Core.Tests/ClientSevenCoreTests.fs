/// The F# side of what the probabilistic ports (ClientSeven*Tests.cs) added to the facade: Linalg.choleskySolve and
/// Nn.gaussianNllLoss, each against a reference computed here with doubles, gradients against central differences.
module FunctionalDiff.Core.Tests.ClientSevenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

let private data = sineData

/// x with (L Lᵀ) x = b for a lower-triangular L (2×2) and one column b, written out.
let private solveWithFactor (l: float[]) (b: float[]) =
    // forward: L z = b; back: Lᵀ x = z
    let z0 = b.[0] / l.[0]
    let z1 = (b.[1] - l.[2] * z0) / l.[3]
    let x1 = z1 / l.[3]
    let x0 = (z0 - l.[2] * x1) / l.[0]
    [| x0; x1 |]

[<Tests>]
let tests =
    testList "client seven (F# side of cholesky_solve and gaussian_nll_loss)" [
        test "choleskySolve: forward and back substitution with the factor, and its gradient in b" {
            let l0 = [| 2.0; 0.0; 0.5; 1.5 |]
            let b0 = [| 1.0; -2.0 |]
            let l = Expr.constant (Tensor.ofArray64 [| 2; 2 |] l0)
            let b = Expr.constant (Tensor.ofArray64 [| 2; 1 |] b0)
            close 1e-15 (solveWithFactor l0 b0) (values (Linalg.choleskySolve false l b)) "lower"
            // the upper factor U = Lᵀ gives the same A = Uᵀ U
            let u = Expr.constant (Tensor.ofArray64 [| 2; 2 |] [| 2.0; 0.5; 0.0; 1.5 |])
            close 1e-15 (solveWithFactor l0 b0) (values (Linalg.choleskySolve true u b)) "upper"
            let c = [| 0.3; -0.7 |]
            let g = Diff.grad (fun v -> Expr.sum (Linalg.choleskySolve false l v * Expr.constant (Tensor.ofArray64 [| 2; 1 |] c))) b
            let numeric =
                Array.init 2 (fun i ->
                    let plus, minus = Array.copy b0, Array.copy b0
                    plus.[i] <- plus.[i] + 1e-6
                    minus.[i] <- minus.[i] - 1e-6
                    let f (v: float[]) = Array.map2 (*) (solveWithFactor l0 v) c |> Array.sum
                    (f plus - f minus) / 2e-6)
            close 1e-8 numeric (values g) "gradient in b"
        }

        test "gaussianNllLoss: torch's mean of ½(log v + d²/v) with one variance per row" {
            let x0, t0 = data 6 1, data 6 2
            let v0 = [| 0.4; 1e-9 |]
            let loss =
                Nn.gaussianNllLoss false 1e-6 (Expr.constant (Tensor.ofArray64 [| 2; 3 |] x0)) (Expr.constant (Tensor.ofArray64 [| 2; 3 |] t0))
                    (Expr.constant (Tensor.ofArray64 [| 2 |] v0))
            let expected =
                Array.init 6 (fun i ->
                    let v = max v0.[i / 3] 1e-6
                    0.5 * (log v + (x0.[i] - t0.[i]) ** 2.0 / v))
                |> Array.average
            close 1e-12 [| expected |] (values loss) "value"
        }
    ]
