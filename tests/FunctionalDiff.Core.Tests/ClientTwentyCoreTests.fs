/// The F# side of what the twentieth porting client added to the core: Recurrent.lstm and Recurrent.gru, torch.nn.LSTM
/// and torch.nn.GRU over a sequence, read from an F# Map of torch's state-dict names. Held to the same layers unrolled
/// step by step over Nn.lstmCell and Nn.gruCell (which the comparison holds to torch), to finite differences of the first
/// and second order, and to a count of nodes that does not depend on the sequence's length.
module FunctionalDiff.Core.Tests.ClientTwentyCoreTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

let private hidden = 3

/// Weights under torch's names, as the module's state dict, drawn from a seed.
let private weights (gates: int) (inputSize: int) (layers: int) (bidirectional: bool) =
    Initialisers.recurrent "test" gates DType.Float64 5 inputSize hidden layers bidirectional true 0
    |> Array.map (fun (name, t) -> name, Expr.constant t)
    |> Map.ofArray

/// The layers unrolled in F#: each direction a loop of the cell over the rows (from the last for _reverse), the
/// directions' outputs joined along the features, the final states stacked as torch's.
let private unrolled (cell: Map<string, Expr> -> string -> Expr[] -> Expr -> Expr[]) (w: Map<string, Expr>) (layers: int) (directions: int)
                     (x: Expr) (initial: Expr[]) =
    let time = x.Dims.[0]
    let mutable input = x
    let finals = ResizeArray<Expr[]>()
    for l in 0 .. layers - 1 do
        let outputs =
            [ for d in 0 .. directions - 1 do
                  let tail = sprintf "_l%d%s" l (if d = 1 then "_reverse" else "")
                  let mutable carries = initial |> Array.map (fun s -> Expr.reshape s.Dims.[1..] (Expr.sliceAxis 0 (l * directions + d) (l * directions + d + 1) s))
                  let rows = Array.zeroCreate time
                  for step in 0 .. time - 1 do
                      let t = if d = 0 then step else time - 1 - step
                      carries <- cell w tail carries (Expr.reshape input.Dims.[1..] (Expr.sliceAxis 0 t (t + 1) input))
                      rows.[t] <- carries.[0]
                  finals.Add carries
                  Expr.stack 0 rows ]
        input <- Expr.concat (input.Rank - 1) outputs
    input, Array.init initial.Length (fun k -> Expr.stack 0 [ for f in finals -> f.[k] ])

let private lstmStep (w: Map<string, Expr>) tail (carries: Expr[]) (x: Expr) =
    let h, c = Nn.lstmCell w.["weight_ih" + tail] w.["weight_hh" + tail] w.["bias_ih" + tail] w.["bias_hh" + tail] x carries.[0] carries.[1]
    [| h; c |]

let private gruStep (w: Map<string, Expr>) tail (carries: Expr[]) (x: Expr) =
    [| Nn.gruCell w.["weight_ih" + tail] w.["weight_hh" + tail] w.["bias_ih" + tail] w.["bias_hh" + tail] x carries.[0] |]

let private data (seed: int) (dims: int[]) = Expr.constant (normalSample seed dims)

[<Tests>]
let tests =
    testList "client twenty (Recurrent.lstm, Recurrent.gru)" [
        test "a 2-layer bidirectional lstm over a Map is the cells unrolled, output and final states" {
            let w = weights 4 2 2 true
            let x = data 1 [| 5; 2; 2 |]
            let h0, c0 = data 2 [| 4; 2; hidden |], data 3 [| 4; 2; hidden |]
            let output, (h, c) = Recurrent.lstm RecurrentOptions.Default w x (Some(h0, c0))
            let expected, finals = unrolled lstmStep w 2 2 x [| h0; c0 |]
            Expect.equal output.Dims [| 5; 2; 2 * hidden |] "output [time, batch, 2·hidden]"
            Expect.equal h.Dims [| 4; 2; hidden |] "h_n [layers·directions, batch, hidden]"
            close 1e-14 (values expected) (values output) "output"
            close 1e-14 (values finals.[0]) (values h) "h_n"
            close 1e-14 (values finals.[1]) (values c) "c_n"
        }

        test "a batch-first gru under a prefix reads only its own names and is the cells unrolled" {
            let w = weights 3 2 2 false
            let model = w |> Map.toSeq |> Seq.map (fun (k, v) -> "encoder.rnn." + k, v) |> Map.ofSeq |> Map.add "decoder.weight" (data 9 [| 2; 2 |])
            let x = data 4 [| 2; 6; 2 |]
            let options = { RecurrentOptions.Default with BatchFirst = true; Prefix = "encoder.rnn." }
            let output, h = Recurrent.gru options model x None
            let expected, finals = unrolled gruStep w 2 1 (Expr.swapAxes 0 1 x) [| Expr.zeros DType.Float64 [| 2; 2; hidden |] |]
            Expect.equal output.Dims [| 2; 6; hidden |] "output [batch, time, hidden]"
            close 1e-14 (values (Expr.swapAxes 0 1 expected)) (values output) "output"
            close 1e-14 (values finals.[0]) (values h) "h_n"
        }

        test "lstm and gru pass a second-order gradient check in the input, the state and a weight" {
            let w = weights 4 2 1 true
            let loss (args: Expr list) =
                match args with
                | [ x; h0; wHh ] ->
                    let output, (h, c) = Recurrent.lstm RecurrentOptions.Default (w |> Map.add "weight_hh_l0" wHh) x (Some(h0, Expr.sin h0))
                    Expr.sum (Expr.sin output) + Expr.sum (h * c)
                | _ -> failwith "three arguments"
            GradCheck.assertGradMany GradCheckOptions.Default loss
                [ normalSample 5 [| 4; 2; 2 |]; normalSample 6 [| 2; 2; hidden |]; (Eval.eval w.["weight_hh_l0"]) ]
            let g = weights 3 2 1 true
            let gruLoss (args: Expr list) =
                match args with
                | [ x; wIh ] -> Expr.sum (Expr.sin (fst (Recurrent.gru RecurrentOptions.Default (g |> Map.add "weight_ih_l0_reverse" wIh) x None)))
                | _ -> failwith "two arguments"
            GradCheck.assertGradMany GradCheckOptions.Default gruLoss [ normalSample 7 [| 4; 2 |]; Eval.eval g.["weight_ih_l0_reverse"] ]
        }

        test "the graph of an lstm and of its gradient does not grow with the sequence's length" {
            // the weights are variables, as in training (constant weights' loop-invariant work may stay in the body)
            let w = weights 4 2 2 true |> Map.map (fun name e -> Expr.variable name e.Dims e.DType)
            let count (time: int) =
                let x = Expr.variable "x" [| time; 2; 2 |] DType.Float64
                let output, (h, _) = Recurrent.lstm RecurrentOptions.Default w x None
                let loss = Expr.sum output + Expr.sum h
                Graph.nodeCount loss, Graph.nodeCount (Expr.sum (Diff.grad (fun v -> Expr.sum (fst (Recurrent.lstm RecurrentOptions.Default w v None))) x))
            Expect.equal (count 3) (count 300) "nodes at 3 steps and at 300"
        }

        test "a checkpointed lstm has the plain one's values and gradient" {
            let w = weights 4 2 1 true
            let x = normalSample 8 [| 9; 2; 2 |]
            let f options (v: Expr) = let output, (h, c) = Recurrent.lstm options w v None in Expr.sum (Expr.sin output) + Expr.sum (h * c)
            let sqrt = { RecurrentOptions.Default with Checkpoint = ScanCheckpoint.Sqrt }
            close 1e-14 (values (f RecurrentOptions.Default (Expr.constant x))) (values (f sqrt (Expr.constant x))) "value"
            close 1e-14 (values (Diff.grad (f RecurrentOptions.Default) (Expr.constant x))) (values (Diff.grad (f sqrt) (Expr.constant x))) "gradient"
        }

        test "errors name the layer, the weight and the shapes" {
            let w = weights 4 2 2 true
            let x = data 1 [| 5; 2; 2 |]
            let fails (name: string) (expected: string list) (run: unit -> unit) =
                let message =
                    try
                        run ()
                        failtestf "%s: no ShapeException" name
                    with :? ShapeException as e -> e.Message
                for part in expected do
                    Expect.stringContains message part (sprintf "%s: the message names %s" name part)
            let run (w: Map<string, Expr>) (x: Expr) () = Recurrent.lstm RecurrentOptions.Default w x None |> ignore
            fails "missing" [ "Lstm: "; "weight_hh_l1_reverse is missing"; "2-layer bidirectional LSTM" ] (run (w |> Map.remove "weight_hh_l1_reverse") x)
            fails "none" [ "Lstm: no weight named weight_ih_l0" ] (run Map.empty x)
            fails "gap" [ "weight_ih_l3"; "not part of a 2-layer" ] (run (w |> Map.add "weight_ih_l3" w.["weight_ih_l1"]) x)
            // a projection is every direction's of every layer, and proj_size (weight_hh's columns) is below the hidden size
            fails "proj_size in one direction" [ "weight_hr_l0_reverse is missing"; "LSTM with proj_size" ] (run (w |> Map.add "weight_hr_l0" w.["weight_hh_l0"]) x)
            let square = [ "weight_hr_l0"; "weight_hr_l0_reverse"; "weight_hr_l1"; "weight_hr_l1_reverse" ] |> List.fold (fun m n -> Map.add n (Expr.sliceAxis 0 0 3 w.["weight_hh_l0"]) m) w
            fails "proj_size not below hidden" [ "weight_hh_l0 is [12,3]"; "proj_size"; "below the hidden size 3" ] (run square x)
            fails "transposed" [ "weight_ih_l0 is [2,12] where [12,2] is needed"; "transposed" ]
                (run (w |> Map.add "weight_ih_l0" (Expr.transpose w.["weight_ih_l0"])) x)
            fails "input features" [ "weight_ih_l0 is [12,2] where [12,5] is needed"; "the input's 5 features" ] (run w (data 1 [| 5; 2; 5 |]))
            fails "layer 1" [ "weight_ih_l1 is [12,3] where [12,6] is needed"; "layer 0's output" ]
                (run (w |> Map.add "weight_ih_l1" (Expr.sliceAxis 1 0 3 w.["weight_ih_l1"])) x)
            fails "rank" [ "the input is [5]" ] (run w (data 1 [| 5 |]))
            fails "h0" [ "h0 is [2,2,3] where the input [5,2,2] needs [4,2,3]" ]
                (fun () -> Recurrent.lstm RecurrentOptions.Default w x (Some(data 1 [| 2; 2; 3 |], data 1 [| 4; 2; 3 |])) |> ignore)
            fails "gru" [ "Gru: "; "[3·hidden, hidden]" ] (fun () -> Recurrent.gru RecurrentOptions.Default w x None |> ignore)
        }
    ]
