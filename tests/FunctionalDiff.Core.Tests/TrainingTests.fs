/// The README's F# training loop (section "## Training") is this file's code, verbatim between
/// the markers; it trains; and the pure optimizers leave their inputs untouched.
module FunctionalDiff.Core.Tests.TrainingTests

open System
open System.IO
open System.Text.RegularExpressions
open Expecto
open FunctionalDiff.Core

type private Outcome = { X: Tensor; Y: Tensor; Parameters: Tensor[]; Losses: float list }

let private training () =
    // BEGIN README: Training
    // Logistic regression on two Gaussian blobs; Adam is pure: (state, parameters, gradients) in, new ones out.
    let blob seed shift = TensorMath.addScalar shift (Tensor.randomNormal DType.Float64 seed [| 200; 2 |])
    let x = TensorMath.concat 0 [| blob 1 1.5; blob 2 -1.5 |]
    let y = TensorMath.concat 0 [| Tensor.ones DType.Float64 [| 200; 1 |]; Tensor.zeros DType.Float64 [| 200; 1 |] |]

    // inputs: w, b, a batch of x, a batch of y; outputs: the loss and the gradients of w and b
    let step =
        Compile.compile (fun inputs ->
            let lossOf (p: Expr list) = Nn.binaryCrossEntropyWithLogits (Expr.matmul inputs.[2] p.[0] + p.[1]) inputs.[3]
            let loss, gradients = Diff.valueAndGradN lossOf [ inputs.[0]; inputs.[1] ]
            Array.ofList (loss :: gradients))

    let adam = Optimizers.adam 0.05 0.9 0.999 1e-8 0.0
    let mutable parameters = [| Initialisers.xavierUniform DType.Float64 3 1.0 [| 2; 1 |]; Tensor.zeros DType.Float64 [| 1 |] |]
    let mutable state = adam.Init parameters
    let mutable losses = []
    for epoch in 0 .. 19 do
        let batches = Batches.make (Some epoch) 40 false [| x; y |]
        let mutable total = 0.0
        for batch in batches do
            let outs = step.Invoke(Array.append parameters batch)
            let next, nextState = adam.Update state parameters outs.[1..]
            parameters <- next
            state <- nextState
            total <- total + outs.[0].ToScalar()
        losses <- losses @ [ total / float batches.Length ]
        if epoch % 5 = 0 then printfn "epoch %d: loss %.4f" epoch (total / float batches.Length)
    // END README: Training
    { X = x; Y = y; Parameters = parameters; Losses = losses }

[<Tests>]
let tests =
    testList "Training" [
        test "the README's F# training loop is this file's code" {
            ReadmeSupport.expectReadmeBlock "tests/FunctionalDiff.Core.Tests/TrainingTests.fs" ": Training" "## Training"
        }
        test "the F# training loop separates the blobs" {
            let o = training ()
            // accuracy recounted with a loop over the rows; the Bayes accuracy is Φ(1.5·√2) ≈ 0.983
            let x, y = o.X.ToDoubleArray(), o.Y.ToDoubleArray()
            let w, b = o.Parameters.[0].ToDoubleArray(), o.Parameters.[1].ToScalar()
            let correct =
                [ 0 .. y.Length - 1 ] |> List.filter (fun i -> (if x.[2 * i] * w.[0] + x.[2 * i + 1] * w.[1] + b > 0.0 then 1.0 else 0.0) = y.[i])
            Expect.isGreaterThanOrEqual (float correct.Length / float y.Length) 0.95 "accuracy"
            Expect.isLessThan (List.last o.Losses) (0.5 * List.head o.Losses) "the loss falls"
        }
        test "a pure update leaves the state and parameters it was given as they were" {
            let adam = Optimizers.adam 0.1 0.9 0.999 1e-8 0.0
            let p = [| Tensor.ofArray64 [| 2 |] [| 1.0; -2.0 |] |]
            let g = [| Tensor.ofArray64 [| 2 |] [| 0.5; 0.5 |] |]
            let s0 = adam.Init p
            let p1, s1 = adam.Update s0 p g
            let p1Again, _ = adam.Update s0 p g
            Expect.equal (p.[0].ToDoubleArray()) [| 1.0; -2.0 |] "parameters untouched"
            Expect.equal (s0.Step, s0.Slots.[0].[0].ToDoubleArray()) (0, [| 0.0; 0.0 |]) "state untouched"
            Expect.equal s1.Step 1 "one step counted"
            Expect.equal (p1Again.[0].ToDoubleArray()) (p1.[0].ToDoubleArray()) "the same inputs give the same step"
            // Adam's first step: m̂ = g and v̂ = g², so each coordinate moves by lr·g/(√(g²) + ε), which differs from lr by 2e-8 here
            let moved = Array.map2 (-) (p.[0].ToDoubleArray()) (p1.[0].ToDoubleArray())
            for d in moved do Expect.floatClose Accuracy.veryHigh d (0.1 * 0.5 / (sqrt (0.5 * 0.5) + 1e-8)) "first step = lr·g/(|g| + ε)"
        }
    ]
