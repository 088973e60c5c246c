/// The README's F# quickstart is this file's code, verbatim between the markers, and its numbers
/// are checked here against closed forms and finite differences.
module FunctionalDiff.Core.Tests.QuickstartTests

open System
open System.IO
open System.Text.RegularExpressions
open Expecto
open FunctionalDiff.Core

type private Outcome =
    { Loss: Expr; Gradients: Expr list; Parameters: Expr list; X: Tensor; Y: Tensor; Third: Expr }

let private quickstart () =
    // BEGIN README
    let x = Tensor.ofArray64 [| 2 |] [| 0.7; -1.2 |]
    let y = Tensor.ofArray64 [| 1 |] [| 1.0 |]

    // z1 = W1 x + b1, a1 = sigmoid z1, z2 = W2 a1 + b2, a2 = sigmoid z2, loss = mse a2 y
    let lossOf (parameters: Expr list) =
        match parameters with
        | [ w1; b1; w2; b2 ] ->
            let a1 = Expr.sigmoid (Expr.matmul w1 (Expr.constant x) + b1)
            let a2 = Expr.sigmoid (Expr.matmul w2 a1 + b2)
            Nn.mse a2 (Expr.constant y)
        | _ -> invalidArg "parameters" "W1, b1, W2, b2"

    let parameters =
        [ [| 3; 2 |], 1; [| 3 |], 2; [| 1; 3 |], 3; [| 1 |], 4 ]
        |> List.map (fun (shape, seed) -> Expr.constant (Tensor.randomNormal DType.Float64 seed shape))

    // one reverse pass: the loss and the gradient of every parameter
    let loss, gradients = Diff.valueAndGradN lossOf parameters
    printfn "%O" (Eval.eval gradients.[2])   // dLoss/dW2: the 1×3 row, no Jacobian
    printfn "%s" (Print.text gradients.[2])  // its graph, one line per node

    // derivatives nest: the third derivative of tanh at 0.5
    let third = Diff.grad (Diff.grad (Diff.grad tanh)) (Expr.scalar DType.Float64 0.5)
    // END README
    { Loss = loss; Gradients = gradients; Parameters = parameters; X = x; Y = y; Third = third }

type private BilevelOutcome = { X0: float[]; W0: float[]; Gradient: Expr; Value: Expr; Tangent: Expr; Along: Expr -> Expr }

let private bilevel () =
    // BEGIN README: Transforms inside loops
    let x0 = Expr.constant (Tensor.ofArray64 [| 8 |] [| 0.3; 0.4; 0.5; 0.6; 0.7; 0.8; 0.9; 1.0 |])
    let w0 = Expr.constant (Tensor.ofArray64 [| 8 |] [| 0.5; 0.43; 0.36; 0.29; 0.22; 0.15; 0.08; 0.01 |])

    // f(x, w) = Σ tanh(x·w)² + 0.1 Σ (x − w)²
    let f (x: Expr) (w: Expr) = Expr.sum (Expr.square (tanh (x * w))) + 0.1 * Expr.sum (Expr.square (x - w))

    // 1,000 steps of x ← x − 0.05 ∇ₓ f(x, w), then Σ x²: a function of w
    let objective (w: Expr) =
        let mutable x = x0
        for _ in 1 .. 1000 do
            x <- x - 0.05 * Diff.grad (fun xx -> f xx w) x   // costs the same at every step
        Expr.sum (Expr.square x)

    // reverse over reverse: the gradient in w, through all 1,000 inner gradients
    let gradient = Diff.grad objective w0
    // forward over reverse: the derivative along one direction of w
    let value, tangent = Diff.jvp objective w0 (Expr.ones DType.Float64 [| 8 |])
    // linearize builds the tangent graph once; each direction rebuilds only its own part
    let _, along = Diff.linearize objective w0
    // END README: Transforms inside loops
    { X0 = (Eval.eval x0).ToDoubleArray(); W0 = (Eval.eval w0).ToDoubleArray()
      Gradient = gradient; Value = value; Tangent = tangent; Along = along }

[<Tests>]
let tests =
    testList "Quickstart" [
        test "the README's F# quickstart is this file's code" {
            ReadmeSupport.expectReadmeBlock "tests/FunctionalDiff.Core.Tests/QuickstartTests.fs" "" "## F# quickstart"
        }
        test "the README's F# example of transforms inside loops is this file's code" {
            ReadmeSupport.expectReadmeBlock "tests/FunctionalDiff.Core.Tests/QuickstartTests.fs" ": Transforms inside loops" "## Transforms inside loops"
        }
        test "the bilevel example's derivatives agree with central differences of the loop written with floats" {
            let outcome = bilevel ()
            // the same loop, with the inner gradient 2 tanh(xw)(1 − tanh²(xw)) w + 0.2 (x − w) by hand
            let reference (w: float[]) =
                let x = Array.copy outcome.X0
                for _ in 1 .. 1000 do
                    for i in 0 .. x.Length - 1 do
                        let t = Math.Tanh(x.[i] * w.[i])
                        x.[i] <- x.[i] - 0.05 * (2.0 * t * (1.0 - t * t) * w.[i] + 0.2 * (x.[i] - w.[i]))
                x |> Array.sumBy (fun v -> v * v)
            let h = 1e-6
            let numeric =
                Array.init 8 (fun j ->
                    let moved (d: float) = outcome.W0 |> Array.mapi (fun i v -> if i = j then v + d else v)
                    (reference (moved h) - reference (moved -h)) / (2.0 * h))
            Expect.floatClose Accuracy.high ((Eval.eval outcome.Value).ToScalar()) (reference outcome.W0) "value"
            // central differences in float64 with h = 1e-6: error ~1e-10 here
            let gradient = (Eval.eval outcome.Gradient).ToDoubleArray()
            for j in 0 .. 7 do
                Expect.isLessThan (abs (gradient.[j] - numeric.[j])) 1e-7 (sprintf "d/dw_%d" j)
            Expect.isLessThan (abs ((Eval.eval outcome.Tangent).ToScalar() - Array.sum numeric)) 1e-7 "along the ones"
            let e3 = Expr.constant (Tensor.ofArray64 [| 8 |] (Array.init 8 (fun i -> if i = 3 then 1.0 else 0.0)))
            Expect.isLessThan (abs ((Eval.eval (outcome.Along e3)).ToScalar() - numeric.[3])) 1e-7 "linearize along e_3"
        }
        test "the quickstart's gradients agree with finite differences, and tanh''' with its closed form" {
            let outcome = quickstart ()
            let values = outcome.Parameters |> List.map (fun p -> (Eval.eval p).ToDoubleArray())
            let shapes = outcome.Parameters |> List.map (fun p -> p.Shape)
            // the loss written out with loops, independent of the library
            let x, y = outcome.X.ToDoubleArray(), outcome.Y.ToDoubleArray()
            let reference (v: float[] list) =
                let sigmoid z = 1.0 / (1.0 + exp -z)
                let w1, b1, w2, b2 = v.[0], v.[1], v.[2], v.[3]
                let a1 = Array.init 3 (fun i -> sigmoid (w1.[2 * i] * x.[0] + w1.[2 * i + 1] * x.[1] + b1.[i]))
                let a2 = sigmoid (w2.[0] * a1.[0] + w2.[1] * a1.[1] + w2.[2] * a1.[2] + b2.[0])
                (a2 - y.[0]) ** 2.0
            Expect.floatClose Accuracy.veryHigh ((Eval.eval outcome.Loss).ToScalar()) (reference values) "loss"
            for p in 0 .. 3 do
                let gradient = (Eval.eval outcome.Gradients.[p]).ToDoubleArray()
                Expect.equal outcome.Gradients.[p].Shape shapes.[p] "gradient has the parameter's shape"
                for i in 0 .. gradient.Length - 1 do
                    let shifted (h: float) = values |> List.mapi (fun q v -> if q = p then Array.mapi (fun j e -> if j = i then e + h else e) v else v)
                    let h = 1e-6
                    let numeric = (reference (shifted h) - reference (shifted -h)) / (2.0 * h)
                    // central differences in float64 with h = 1e-6: truncation ~h², rounding ~1e-16/h
                    Expect.isLessThan (abs (gradient.[i] - numeric)) 1e-8 (sprintf "parameter %d entry %d" p i)
            // with t = tanh x and t' = 1 − t²: tanh''' = (−2 + 6t²)(1 − t²) = −2 + 8t² − 6t⁴
            let t = tanh 0.5
            Expect.floatClose Accuracy.veryHigh ((Eval.eval outcome.Third).ToScalar()) (-2.0 + 8.0 * t * t - 6.0 * t ** 4.0) "tanh'''"
        }
    ]
