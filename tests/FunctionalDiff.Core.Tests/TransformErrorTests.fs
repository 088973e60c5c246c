/// The errors of the F# transforms: each names the public function, the argument's position and
/// the shapes, with the texts the C# facade gives for the same mistakes.
module FunctionalDiff.Core.Tests.TransformErrorTests

open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

let private messageOf (f: unit -> 'a) =
    try f () |> ignore; "no exception" with :? ShapeException as e -> e.Message

[<Tests>]
let transformErrorTests =
    testList "Transforms.errors" [
        test "a batch axis that does not exist names the argument's position and shape" {
            let matrix = Expr.variable "m" [| 3; 4 |] f64
            let vector = Expr.variable "v" [| 3 |] f64
            let outOfRange = messageOf (fun () -> Diff.vmapN [ Some 0; Some 2 ] 0 (fun xs -> xs.[0] + xs.[1]) [ vector; matrix ])
            Expect.equal outOfRange "Vmap: argument 1 of shape [3,4] has no axis 2 to batch along" "axis past the end"
            let negative = messageOf (fun () -> Diff.vmapN [ Some -3; None ] 0 (fun xs -> xs.[0] + xs.[1]) [ matrix; vector ])
            Expect.equal negative "Vmap: argument 0 of shape [3,4] has no axis -3 to batch along" "negative axis"
            // the one-argument vmap has no inAxes: the message must not speak of one
            let scalar = messageOf (fun () -> Diff.vmap (fun x -> x * 2.0) (Expr.variable "s" [||] f64))
            Expect.equal scalar "Vmap: argument 0 of shape [] has no axis 0 to batch along" "a scalar has no batch axis"
        }
    ]
