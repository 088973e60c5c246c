/// The F# side of what the GAN, GCN and policy-gradient ports (ClientEight*Tests.cs) added to the facade:
/// Indexing.indexAdd, the Distributions module and Lbfgs.step, each against a reference written here with doubles or a
/// closed form.
module FunctionalDiff.Core.Tests.ClientEightCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

[<Tests>]
let tests =
    testList "client eight (F# side of index_add, distributions and L-BFGS)" [
        test "indexAdd: x plus source's rows added at repeated positions, and source's gradient is the gather" {
            let x0 = sineData 6 1
            let s0 = sineData 8 2
            let index = [| 2.0; 0.0; 2.0; 1.0 |]
            let x = Expr.constant (Tensor.ofArray64 [| 3; 2 |] x0)
            let s = Expr.constant (Tensor.ofArray64 [| 4; 2 |] s0)
            let idx = Expr.constant (Tensor.ofArray64 [| 4 |] index)
            let expected = Array.copy x0
            for r in 0 .. 3 do
                for c in 0 .. 1 do expected.[int index.[r] * 2 + c] <- expected.[int index.[r] * 2 + c] + s0.[r * 2 + c]
            close 1e-15 expected (values (Indexing.indexAdd 0 idx s x)) "value"
            // d/ds Σ w ⊙ indexAdd(x, s) = w[index[r]] row by row
            let w = sineData 6 3
            let g = Diff.grad (fun v -> Expr.sum (Indexing.indexAdd 0 idx v x * Expr.constant (Tensor.ofArray64 [| 3; 2 |] w))) s
            close 1e-15 (Array.init 8 (fun k -> w.[int index.[k / 2] * 2 + k % 2])) (values g) "gradient"
        }

        test "Distributions: log-probabilities and entropies are the closed forms" {
            let logits = [| 0.2; -1.0; 0.7 |]
            let z = logits |> Array.sumBy exp
            let l = Expr.constant (Tensor.ofArray64 [| 3 |] logits)
            close 1e-15 [| 0.7 - log z |] (values (Distributions.categoricalLogProb l (Expr.constant (Tensor.ofArray64 [||] [| 2.0 |])))) "log_prob"
            close 1e-15 [| -(logits |> Array.sumBy (fun v -> exp v / z * (v - log z))) |] (values (Distributions.categoricalEntropy l)) "entropy"
            let scalar v = Expr.constant (Tensor.ofArray64 [||] [| v |])
            let expected = -((1.3 - 0.5) ** 2.0) / (2.0 * 4.0) - log 2.0 - 0.5 * log (2.0 * Math.PI)
            close 1e-15 [| expected |] (values (Distributions.normalLogProb (scalar 0.5) (scalar 2.0) (scalar 1.3))) "normal log_prob"
            close 1e-15 [| 0.5 * log (2.0 * Math.PI * Math.E * 4.0) |] (values (Distributions.normalEntropy (scalar 2.0))) "normal entropy"
        }

        test "Lbfgs.step: on ½·a·x² the first iteration is min(1, 1/|g|)·lr along −g and the second lands on 0" {
            let a = 3.0
            let closure (x: float[]) = 0.5 * a * x.[0] * x.[0], [| a * x.[0] |]
            let settings = { Lbfgs.defaults with LearningRate = 0.5; MaxIterations = 1 }
            let loss, x1, state = Lbfgs.step settings closure [| 2.0 |] Lbfgs.init
            close 0.0 [| 6.0 |] [| loss |] "the loss where the step started"
            close 1e-15 [| 2.0 - min 1.0 (1.0 / 6.0) * 0.5 * 6.0 |] x1 "first iteration"
            let _, x2, state2 = Lbfgs.step { settings with LearningRate = 1.0 } closure x1 state
            Expect.equal x2.[0] 0.0 "the secant step on a quadratic is exact"
            Expect.equal state2.Iterations 2 "iterations over both steps"
        }
    ]
