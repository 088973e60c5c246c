/// Losses compare like with like: a target of another shape is a ShapeException naming the loss
/// and both shapes, never a broadcast ([3] against [3,1] would be a silent 3x3 loss).
module FunctionalDiff.Core.Tests.LossShapeTests

open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64
let private v (shape: int[]) = Expr.variable "v" shape f64

let private messageOf (f: unit -> Expr) =
    try
        f () |> ignore
        "no exception"
    with :? ShapeException as e -> e.Message

[<Tests>]
let tests =
    testList "Graph" [
        testList "Loss shapes" [
            test "mse and binary cross-entropy reject targets of another shape, naming the loss and both shapes" {
                for name, loss in [ "Mse", Nn.mse; "BinaryCrossEntropyWithLogits", Nn.binaryCrossEntropyWithLogits ] do
                    for input, target in [ [| 3 |], [| 3; 1 |]; [| 2; 3 |], [| 3 |]; [| 3 |], [||] ] do
                        let message = messageOf (fun () -> loss (v input) (v target))
                        Expect.stringStarts message (name + ": ") "names the loss"
                        Expect.stringContains message (Shape.format input) "input shape"
                        Expect.stringContains message (Shape.format target) "target shape"
            }
            test "cross-entropy and linear name themselves too" {
                Expect.stringStarts (messageOf (fun () -> Nn.crossEntropy (v [| 2; 3 |]) (v [| 3 |]))) "CrossEntropy: " "cross-entropy"
                Expect.stringStarts (messageOf (fun () -> Nn.linear (v [| 2; 3 |]) (v [| 2 |]) (v [| 4 |]))) "Linear: " "linear"
            }
        ]
    ]
