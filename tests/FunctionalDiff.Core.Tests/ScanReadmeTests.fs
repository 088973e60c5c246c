/// The README's F# Scan example (section "### An LSTM trained with Expr.Scan and Diff.Compile") is this file's code, verbatim
/// between the markers; its first loss is the loss of an LSTM written with doubles; it learns.
module FunctionalDiff.Core.Tests.ScanReadmeTests

open System
open Expecto
open FunctionalDiff.Core

type private Outcome = { Text: string; Alphabet: char[]; Initial: Tensor[]; Losses: float list }

let private lstmTraining () =
    // BEGIN README: Loops
    // A one-layer LSTM learns to predict the next character of a sentence.
    let text = "a stitch in time saves nine. "
    let alphabet = text |> Seq.distinct |> Seq.sort |> Array.ofSeq
    let v, h, t = alphabet.Length, 24, text.Length - 1
    let ids = text |> Seq.map (fun c -> System.Array.IndexOf(alphabet, c)) |> Array.ofSeq
    let inputs = Tensor.ofArray64 [| t; v |] (Array.init (t * v) (fun k -> if ids.[k / v] = k % v then 1.0 else 0.0))
    let targets = Expr.constant (Tensor.ofArray64 [| t |] (Array.init t (fun i -> float ids.[i + 1])))

    // inputs: wx, wh, b, wy, by, the one-hot rows; outputs: the loss and the 5 gradients
    let step =
        Compile.compile (fun args ->
            let lossOf (p: Expr list) =
                // the body runs once per character: carries [| h; c |], x.[0] one one-hot row
                let cell (carry: Expr[]) (x: Expr[]) =
                    let gates = Expr.matmul p.[0] x.[0] + Expr.matmul p.[1] carry.[0] + p.[2]
                    let gate k = Expr.sliceAxis 0 (k * h) ((k + 1) * h) gates
                    let c = Expr.sigmoid (gate 1) * carry.[1] + Expr.sigmoid (gate 0) * tanh (gate 2)
                    let hNew = Expr.sigmoid (gate 3) * tanh c
                    [| hNew; c |], [| Expr.matmul p.[3] hNew + p.[4] |]
                let zero = Expr.zeros DType.Float64 [| h |]
                let _, ys = Scan.scan cell [| zero; zero |] [| args.[5] |]
                Nn.crossEntropy ys.[0] targets                  // ys.[0]: [t, v], one row per step
            let loss, gradients = Diff.valueAndGradN lossOf (List.ofArray args.[0..4])
            Array.ofList (loss :: gradients))

    let xavier seed shape = Initialisers.xavierUniform DType.Float64 seed 1.0 shape
    let initial =
        [| xavier 1 [| 4 * h; v |]; xavier 2 [| 4 * h; h |]; Tensor.zeros DType.Float64 [| 4 * h |]
           xavier 3 [| v; h |]; Tensor.zeros DType.Float64 [| v |] |]
    let adam = Optimizers.adam 0.02 0.9 0.999 1e-8 0.0
    let mutable parameters, state = initial, adam.Init initial
    let mutable losses = []
    for _ in 1 .. 300 do
        let outs = step.Invoke(Array.append parameters [| inputs |])   // one compiled plan
        let next, nextState = adam.Update state parameters outs.[1..]
        parameters <- next
        state <- nextState
        losses <- losses @ [ outs.[0].ToScalar() ]
    printfn "loss %.3f -> %.3f" (List.head losses) (List.last losses)
    // END README: Loops
    { Text = text; Alphabet = alphabet; Initial = initial; Losses = losses }

/// The same loss written with doubles and loops: an LSTM cell per character, then the mean cross-entropy.
let private reference (p: float[][]) (ids: int[]) (v: int) (h: int) =
    let sigmoid z = 1.0 / (1.0 + exp -z)
    let state, cell = Array.zeroCreate<float> h, Array.zeroCreate<float> h
    let t = ids.Length - 1
    let mutable total = 0.0
    for step in 0 .. t - 1 do
        let gates = Array.init (4 * h) (fun r -> p.[2].[r] + p.[0].[r * v + ids.[step]] + Seq.sum (seq { for j in 0 .. h - 1 -> p.[1].[r * h + j] * state.[j] }))
        for j in 0 .. h - 1 do
            cell.[j] <- sigmoid gates.[h + j] * cell.[j] + sigmoid gates.[j] * Math.Tanh gates.[2 * h + j]
            state.[j] <- sigmoid gates.[3 * h + j] * Math.Tanh cell.[j]
        let logits = Array.init v (fun k -> p.[4].[k] + Seq.sum (seq { for j in 0 .. h - 1 -> p.[3].[k * h + j] * state.[j] }))
        let top = Array.max logits
        total <- total + top + log (logits |> Array.sumBy (fun z -> exp (z - top))) - logits.[ids.[step + 1]]
    total / float t

[<Tests>]
let tests =
    testList "ScanReadme" [
        test "the README's F# Scan example is this file's code" {
            ReadmeSupport.expectReadmeBlock "tests/FunctionalDiff.Core.Tests/ScanReadmeTests.fs" ": Loops" "### An LSTM trained with Expr.Scan and Diff.Compile"
        }
        test "the F# LSTM's first loss is the loss of an LSTM written with doubles, and it learns" {
            let o = lstmTraining ()
            let ids = o.Text |> Seq.map (fun c -> Array.IndexOf(o.Alphabet, c)) |> Array.ofSeq
            let v, h = o.Alphabet.Length, o.Initial.[2].Shape.[0] / 4
            let expected = reference (o.Initial |> Array.map (fun p -> p.ToDoubleArray())) ids v h
            Expect.floatClose { absolute = 1e-12; relative = 1e-12 } (List.head o.Losses) expected "first loss"
            Expect.isLessThan (List.last o.Losses) (0.1 * List.head o.Losses) "the sentence is learnt"
        }
    ]
