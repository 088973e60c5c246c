/// Regression specifications for what branch edges17 fixed among the fuzzer's open `--ops all` adversarial findings of
/// seeds 52 to 56: solve's infinite right-hand side is the closed form A⁻¹b.
module FunctionalDiff.Core.Tests.EdgeSeventeenTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// A⁻¹ by Gauss-Jordan elimination with partial pivoting, a plain reference loop.
let private inverse (a: float[][]) =
    let n = a.Length
    let m = Array.init n (fun i -> Array.append (Array.copy a.[i]) (Array.init n (fun j -> if i = j then 1.0 else 0.0)))
    for c in 0 .. n - 1 do
        let best = [| c .. n - 1 |] |> Array.maxBy (fun r -> abs m.[r].[c])
        let saved = m.[c]
        m.[c] <- m.[best]
        m.[best] <- saved
        let pivot = m.[c].[c]
        m.[c] <- m.[c] |> Array.map (fun v -> v / pivot)
        for r in 0 .. n - 1 do
            if r <> c then
                let factor = m.[r].[c]
                m.[r] <- Array.map2 (fun v p -> v - factor * p) m.[r] m.[c]
    Array.init n (fun i -> Array.sub m.[i] n n)

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges17)" [
        test "solve against right-hand sides holding ±∞ is A⁻¹b, each infinity's term counted where A⁻¹ reaches it: ±∞ in every unknown of a dense A, no ∞ − ∞ from the back substitution (fuzz all adversarial 55/168)" {
            // the shrunk program: solve(A, B) with a dense, well-conditioned A (every entry of A⁻¹ nonzero); columns 0 to 2
            // of B hold one −∞ or +∞ each (in row 3), column 3 four infinities of both signs
            let a = [| [| 5.02337; 1.0; -1.0; -1.0 |]; [| 1.0; 6.0; -1.0; -1.0 |]; [| -1.0; -1.0; 6.0; 1.0 |]; [| -1.0; -1.0; 1.0; 6.0 |] |]
            let b =
                [| [| 0.023374282; 1528.865; -13.454012; -infinity |]; [| 1528.865; 1e8; -880000.0; -infinity |]
                   [| -13.454012; -880000.0; 7744.0; infinity |]; [| -infinity; -infinity; infinity; infinity |] |]
            let inv = inverse a
            Expect.isTrue (inv |> Array.forall (Array.forall (fun v -> v <> 0.0))) "A⁻¹ is dense"
            let expected =
                [| for i in 0 .. 3 do
                     for c in 0 .. 3 do
                         let mutable sum = 0.0
                         for k in 0 .. 3 do
                             if inv.[i].[k] <> 0.0 then sum <- sum + inv.[i].[k] * b.[k].[c]
                         yield sum |]
            // the closed form: columns 0 to 2 are sign(A⁻¹[i, 3])·(∓∞) in every unknown
            for i in 0 .. 3 do
                for c in 0 .. 2 do
                    Expect.equal expected.[i * 4 + c] (float (Math.Sign inv.[i].[3]) * b.[3].[c]) "the reference's infinite columns"
            let solved = values (Linalg.solve (constant (tensor [| 4; 4 |] (Array.concat a))) (constant (tensor [| 4; 4 |] (Array.concat b))))
            expectIeee solved expected "float64"
            let single = Linalg.solve (Expr.constant (Tensor.FromArray(Array.concat a |> Array.map float32, [| 4; 4 |])))
                                      (Expr.constant (Tensor.FromArray(Array.concat b |> Array.map float32, [| 4; 4 |])))
            let infiniteOrNaN = expected |> Array.map (fun v -> if Double.IsFinite v then 0.0 else v)
            let singleValues = (Eval.eval single).ToDoubleArray() |> Array.map (fun v -> if Double.IsFinite v then 0.0 else v)
            expectIeee singleValues infiniteOrNaN "float32: the same infinities and NaN"
            // a finite column beside them is the ordinary solve (A⁻¹b with no infinity)
            let finite = values (Linalg.solve (constant (tensor [| 4; 4 |] (Array.concat a))) (constantVector [| 1.0; -2.0; 0.5; 3.0 |]))
            let plain = Array.init 4 (fun i -> Array.fold2 (fun s v w -> s + v * w) 0.0 inv.[i] [| 1.0; -2.0; 0.5; 3.0 |])
            expectClose 1e-13 finite plain "finite"
        }
    ]
