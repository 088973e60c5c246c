/// The F# side of what the fifteenth porting client moved into the core: class indices held in a constant are checked
/// by every loss over class indices when the loss is built (not at evaluation, under Gather's name), and an error
/// raised inside a Scan's step says it came from there; torch's select and meshgrid (Structure.select, Structure.meshgrid)
/// for a physics-informed network's input gradients and grid. Each value against torch's definition written here over
/// doubles.
module FunctionalDiff.Core.Tests.ClientFifteenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

let private logitValues = Array.init 12 (fun k -> sin (1.3 * float (k / 4) + 0.7 * float (k % 4)))
let private logits () = Expr.constant (tensor [| 3; 4 |] logitValues)
let private weightValues = [| 0.5; 2.0; 1.0; 3.0 |]
let private weight () = constantVector weightValues
let private labels (ys: float[]) = constantVector ys

/// log softmax of row i of the logits, over doubles.
let private logP (i: int) (c: int) =
    let row = logitValues.[4 * i .. 4 * i + 3]
    let m = Array.max row
    row.[c] - m - log (row |> Array.sumBy (fun v -> exp (v - m)))

/// The exception a build raises, or a failed test when it raises none.
let private refused (build: unit -> Expr) : ArgumentOutOfRangeException =
    try
        build () |> ignore
        failtest "the loss was built over an index outside the classes"
    with :? ArgumentOutOfRangeException as e -> e

let private expectRefused (name: string) (input: string) (parameter: string) (position: int) (value: string) (build: unit -> Expr) =
    let e = refused build
    Expect.equal e.ParamName parameter (name + ": the parameter named")
    Expect.stringStarts e.Message (sprintf "%s: target %d is %s" name position value) (name + ": the method, position and value")
    Expect.stringContains e.Message (sprintf "%s [3,4]" input) (name + ": the input and its shape")

/// A loss over class indices: the function, the name and input its errors give, whether it takes an ignore index,
/// its build from labels (and the ignore index, for those that take one), and its value per example over doubles.
type private IndexLoss =
    { Function: string
      Name: string
      Input: string
      Ignorable: bool
      Build: float[] -> int option -> Expr
      Expected: float[] -> float[] }

let private nll (ys: float[]) =
    Array.init 3 (fun i -> if ys.[i] = -100.0 then 0.0 else -(logP i (int ys.[i])))
let private weighted (ys: float[]) =
    Array.init 3 (fun i -> if ys.[i] = -100.0 then 0.0 else -(weightValues.[int ys.[i]] * logP i (int ys.[i])))

let private losses =
    let loss fn name input ignorable build expected =
        { Function = fn; Name = name; Input = input; Ignorable = ignorable; Build = build; Expected = expected }
    let logProbabilities () = Nn.logSoftmax 1 (logits ())
    // an ignore index that no label here equals, for the functions that always take one
    let orSeven = Option.defaultValue 7
    [ loss "crossEntropy" "CrossEntropy" "logits" false
          (fun ys _ -> Expr.reshape [| 1 |] (Nn.crossEntropy (logits ()) (labels ys))) (fun ys -> [| Array.average (nll ys) |])
      loss "crossEntropyPerExample" "CrossEntropy" "logits" false (fun ys _ -> Nn.crossEntropyPerExample 0.0 (logits ()) (labels ys)) nll
      loss "crossEntropyPerExampleOf" "CrossEntropy" "logits" false (fun ys _ -> Nn.crossEntropyPerExampleOf 0.0 (logits ()) (labels ys)) nll
      loss "crossEntropyIgnoring" "CrossEntropy" "logits" true
          (fun ys ignore -> fst (Nn.crossEntropyIgnoring 0.0 (orSeven ignore) (logits ()) (labels ys))) nll
      loss "nllLossPerExample" "NllLoss" "input" false (fun ys _ -> Nn.nllLossPerExample (logProbabilities ()) (labels ys)) nll
      loss "nllLossIgnoring" "NllLoss" "input" true
          (fun ys ignore -> fst (Nn.nllLossIgnoring (orSeven ignore) (logProbabilities ()) (labels ys))) nll
      loss "crossEntropyWeighted" "CrossEntropy" "logits" true
          (fun ys ignore -> fst (Nn.crossEntropyWeighted 0.0 ignore (weight ()) (logits ()) (labels ys))) weighted
      loss "nllLossWeighted" "NllLoss" "input" true
          (fun ys ignore -> fst (Nn.nllLossWeighted ignore (weight ()) (logProbabilities ()) (labels ys))) weighted ]

[<Tests>]
let tests =
    testList "client fifteen (constant class indices checked in the core; Scan step errors; select and meshgrid)" [
        for l in losses do
            test (sprintf "%s over constant labels in range is torch's loss" l.Function) {
                let ys = [| 1.0; 3.0; 0.0 |]
                close 1e-14 (l.Expected ys) (values (l.Build ys None)) l.Function
            }

            test (sprintf "%s refuses a constant label outside the classes when it is built, naming itself" l.Function) {
                expectRefused l.Name l.Input "targets" 1 "-100" (fun () -> l.Build [| 1.0; -100.0; 0.0 |] None)
                expectRefused l.Name l.Input "targets" 2 "4" (fun () -> l.Build [| 1.0; 3.0; 4.0 |] None)
                expectRefused l.Name l.Input "targets" 0 "0.5" (fun () -> l.Build [| 0.5; 3.0; 0.0 |] None)
                // torch's default ignore_index: the message says how to ask for it, unless an ignore index was given
                // (the *Ignoring functions always take one; here 7)
                let e = refused (fun () -> l.Build [| 1.0; -100.0; 0.0 |] None)
                Expect.equal (e.Message.Contains "pass ignoreIndex: -100") (not (l.Function.EndsWith "Ignoring")) "the hint"
            }

            if l.Ignorable then
                test (sprintf "%s keeps a constant label equal to the ignore index, and still refuses others" l.Function) {
                    let ys = [| 1.0; -100.0; 2.0 |]
                    close 1e-14 (l.Expected ys) (values (l.Build ys (Some -100))) l.Function
                    expectRefused l.Name l.Input "targets" 2 "4" (fun () -> l.Build [| 1.0; -100.0; 4.0 |] (Some -100))
                }

        test "labels computed in the graph are left to the Gather that picks them" {
            // only a constant's values are known when the loss is built; this one is known only when it is evaluated
            let computed = Expr.abs (labels [| 1.0; -5.0; 0.0 |])
            let loss = Nn.crossEntropyPerExample 0.0 (logits ()) computed
            Expect.throwsT<ShapeException> (fun () -> values loss |> ignore) "evaluated, index 5 of 4 classes"
        }

        test "unbatched logits [C] check a rank-0 constant label" {
            let one = Expr.constant (tensor [| 4 |] logitValues.[0..3])
            close 1e-14 [| -(logP 0 2) |] (values (Expr.reshape [| 1 |] (Nn.crossEntropyPerExampleOf 0.0 one (Expr.scalar DType.Float64 2.0)))) "in range"
            let e = refused (fun () -> Nn.nllLossPerExample one (Expr.scalar DType.Float64 4.0))
            Expect.stringStarts e.Message "NllLoss: target 0 is 4, not a class of the 4 classes of input [4]" "rank 0"
        }

        test "Distributions.categoricalLogProb refuses a constant value outside the classes, naming value" {
            close 1e-14 [| logP 0 1; logP 1 3; logP 2 0 |] (values (Distributions.categoricalLogProb (logits ()) (labels [| 1.0; 3.0; 0.0 |]))) "in range"
            let e = refused (fun () -> Distributions.categoricalLogProb (logits ()) (labels [| 1.0; 3.0; -1.0 |]))
            Expect.equal e.ParamName "value" "parameter"
            Expect.stringStarts e.Message "CategoricalLogProb: target 2 is -1, not a class of the 4 classes of logits [3,4]" "message"
            Expect.isFalse (e.Message.Contains "ignoreIndex") "no ignore index to suggest"
        }

        test "an error inside Scan's step names the op, the step's shapes and Scan's time axis" {
            // batch-first xs [batch 2, time 5, features 3] where Scan expects time-first: each step sees a row [5, 3]
            let xs = Expr.constant (normalSample 15 [| 2; 5; 3 |])
            let w = Expr.constant (normalSample 16 [| 3; 4 |])
            let step (h: Expr) (x: Expr) =
                let h' = Expr.tanh (Expr.matmul x w + h)
                h', h'
            let e =
                try
                    Scan.scan1 step (Expr.zeros DType.Float64 [| 2; 4 |]) xs |> ignore
                    failtest "the step's shape error was not raised"
                with :? ShapeException as e -> e
            Expect.stringContains e.Message "Scan.scan1's step" "names the Scan"
            Expect.stringContains e.Message "carry [2,4]" "the carry's shape"
            Expect.stringContains e.Message "x [5,3] (rows of xs [2,5,3])" "the step's slice and the xs"
            Expect.stringContains e.Message "axis 0, the time axis" "the hint"
        }

        test "Structure.select is torch's select along every axis, and its gradient puts the cotangent back" {
            let shape = [| 3; 4; 2 |]
            let data = Array.init 24 (fun i -> sin (float i + 0.5))
            let x = Expr.constant (tensor shape data)
            for axis in -3 .. 2 do
                let a = (axis + 3) % 3
                for index in -shape.[a] .. shape.[a] - 1 do
                    let k = (index + shape.[a]) % shape.[a]
                    let expected = [| for f in 0 .. 23 do if [| f / 8; f / 2 % 4; f % 2 |].[a] = k then yield data.[f] |]
                    let picked = Structure.select axis index x
                    Expect.equal picked.Dims (Array.removeAt a shape) "shape"
                    close 0.0 expected (values picked) (sprintf "axis %d index %d" axis index)
            let weights = Expr.constant (tensor [| 3; 2 |] [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
            let g = Diff.grad (fun e -> Expr.sum (Structure.select 1 2 e * weights)) x
            close 0.0 (Array.init 24 (fun f -> if f / 2 % 4 = 2 then float ((f / 8) * 2 + f % 2 + 1) else 0.0)) (values g) "gradient"
            Expect.throwsT<ShapeException> (fun () -> Structure.select 1 4 x |> ignore) "index out of range"
        }

        test "Structure.meshgrid is torch's grid in both indexings" {
            let x, t = [| 0.0; 0.5; 1.0 |], [| 0.1; 0.2 |]
            let ij = Structure.meshgrid "ij" [| constantVector x; constantVector t |]
            close 0.0 [| for i in 0 .. 2 do for _ in 0 .. 1 do yield x.[i] |] (values ij.[0]) "ij x"
            close 0.0 [| for _ in 0 .. 2 do for j in 0 .. 1 do yield t.[j] |] (values ij.[1]) "ij t"
            let xy = Structure.meshgrid "xy" [| constantVector x; constantVector t |]
            Expect.equal xy.[0].Dims [| 2; 3 |] "xy shape"
            close 0.0 [| for _ in 0 .. 1 do for i in 0 .. 2 do yield x.[i] |] (values xy.[0]) "xy x"
            close 0.0 [| for j in 0 .. 1 do for _ in 0 .. 2 do yield t.[j] |] (values xy.[1]) "xy t"
        }

        test "Distributions.normalKlDivergence is torch's formula for two normals" {
            let pLoc, pScale, qLoc, qScale = [| 0.3; -1.2; 0.5 |], [| 0.5; 1.5; 2.0 |], [| 0.2; -0.4; 1.0 |], [| 1.3; 0.7; 2.0 |]
            let expected =
                Array.init 3 (fun i ->
                    let r = (pScale.[i] / qScale.[i]) ** 2.0
                    0.5 * (r + ((pLoc.[i] - qLoc.[i]) / qScale.[i]) ** 2.0 - 1.0 - log r))
            let kl = Distributions.normalKlDivergence (constantVector pLoc) (constantVector pScale) (constantVector qLoc) (constantVector qScale)
            close 1e-14 expected (values kl) "kl"
            close 0.0 [| 0.0 |] (values (Expr.reshape [| 1 |] (Expr.sum (Distributions.normalKlDivergence (constantVector pLoc) (constantVector pScale) (constantVector pLoc) (constantVector pScale))))) "KL(p ‖ p)"
        }

        test "a Scan over time-first xs traces and agrees with the loop unrolled" {
            let xs = Expr.constant (normalSample 17 [| 5; 2; 3 |])
            let w = Expr.constant (normalSample 18 [| 3; 4 |])
            let cell (h: Expr) (x: Expr) = Expr.tanh (Expr.matmul x w + h)
            let final, _ = Scan.scan1 (fun h x -> let h' = cell h x in h', h') (Expr.zeros DType.Float64 [| 2; 4 |]) xs
            let mutable h = Expr.zeros DType.Float64 [| 2; 4 |]
            for t in 0 .. 4 do h <- cell h (Expr.reshape [| 2; 3 |] (Expr.sliceAxis 0 t (t + 1) xs))
            close 1e-14 (values h) (values final) "final carry"
        }
    ]
