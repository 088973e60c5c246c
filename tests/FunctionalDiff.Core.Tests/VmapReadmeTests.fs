/// The README's F# per-example gradients example is this file's code, verbatim between the markers,
/// and its gradients are those of a loop over the examples and of central differences.
module FunctionalDiff.Core.Tests.VmapReadmeTests

open System
open System.IO
open System.Text.RegularExpressions
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

type private Outcome = { Parameters: Expr list; Xs: Expr; Labels: Expr; LossOf: Expr list -> Expr -> Expr -> Expr; PerExample: Expr list }

let private example () =
    // BEGIN README: Batching with vmap
    // a small classifier, 3 inputs -> 4 tanh units -> 2 classes: the loss of ONE example
    let lossOf (parameters: Expr list) (x: Expr) (label: Expr) =
        match parameters with
        | [ w1; b1; w2; b2 ] ->
            let logits = Expr.matmul w2 (tanh (Expr.matmul w1 x + b1)) + b2
            Nn.crossEntropy (Expr.reshape [| 1; 2 |] logits) label   // label: [1], the class index
        | _ -> invalidArg "parameters" "W1, b1, W2, b2"

    let parameters =
        [ [| 4; 3 |], 10; [| 4 |], 11; [| 2; 4 |], 12; [| 2 |], 13 ]
        |> List.map (fun (shape, seed) -> Expr.constant (Tensor.randomNormal DType.Float64 seed shape))
    let xs = Expr.constant (Tensor.randomNormal DType.Float64 20 [| 8; 3 |])   // 8 examples, one per row
    let labels = Expr.constant (Tensor.ofArray64 [| 8; 1 |] [| 0.0; 1.0; 1.0; 0.0; 1.0; 0.0; 0.0; 1.0 |])

    // per-example gradients: vmap of one example's gradient; the parameters are shared (None),
    // the data batched along axis 0, and each gradient gets the examples on its axis 0
    let perExample =
        Diff.vmapWith (List.replicate 4 None @ [ Some 0; Some 0 ]) [ 0; 0; 0; 0 ]
            (fun args -> Diff.gradN (fun p -> lossOf p args.[4] args.[5]) (List.take 4 args))
            (parameters @ [ xs; labels ])
    // perExample.[0] has shape [8; 4; 3]: dLoss/dW1 of each example, from one batched graph
    // END README: Batching with vmap
    { Parameters = parameters; Xs = xs; Labels = labels; LossOf = lossOf; PerExample = perExample }

[<Tests>]
let tests =
    testList "Vmap.Readme" [
        test "the README's F# vmap example is this file's code" {
            ReadmeSupport.expectReadmeBlock "tests/FunctionalDiff.Core.Tests/VmapReadmeTests.fs" ": Batching with vmap" "## Batching with vmap"
        }
        test "the example's per-example gradients are a loop's and agree with finite differences" {
            let o = example ()
            let xs, labels = (Eval.eval o.Xs).ToDoubleArray(), (Eval.eval o.Labels).ToDoubleArray()
            let batched = Eval.evalMany o.PerExample
            Expect.equal batched.[0].Shape [| 8; 4; 3 |] "W1's per-example gradients"
            let points = o.Parameters |> List.map Eval.eval
            for b in 0 .. 7 do
                let x = Expr.constant (Tensor.ofArray64 [| 3 |] xs.[3 * b .. 3 * b + 2])
                let label = Expr.constant (Tensor.ofArray64 [| 1 |] [| labels.[b] |])
                let loop = Diff.gradN (fun p -> o.LossOf p x label) o.Parameters
                let numeric = numericGradient (fun p -> o.LossOf p x label) points
                List.iteri2 (fun i (reference: Expr) (all: Tensor) ->
                    let size = reference.Numel
                    let row = all.ToDoubleArray().[b * size .. (b + 1) * size - 1]
                    expectClose 1e-12 row (values reference) (sprintf "example %d, parameter %d vs the loop" b i)
                    expectClose 1e-6 row numeric.[i] (sprintf "example %d, parameter %d vs finite differences" b i)) loop (List.ofArray batched)
        }
    ]
