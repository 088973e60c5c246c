/// A custom node's value is its forward graph: the interpreter reads that input only, as plans do,
/// and never evaluates the node's x (a multi-input rule's packed inputs) or anything only x reads.
module FunctionalDiff.Core.Tests.InterpretCustomTests

open System.Collections.Generic
open Expecto
open FunctionalDiff.Core

[<Tests>]
let tests =
    testList "Interpret and custom nodes" [
        test "the interpreter never evaluates a custom node's x" {
            // x is a solve against an exactly singular matrix, which raises whenever it is evaluated
            let singular = Expr.constant (Tensor.FromArray([| 1.0; 2.0; 2.0; 4.0 |], [| 2; 2 |]))
            let x = Linalg.solve singular (Expr.constant (Tensor.FromArray([| 1.0; 1.0 |], [| 2; 1 |])))
            Expect.throws (fun () -> Interpret.evalMany (Dictionary()) [| x |] |> ignore) "the solve raises when evaluated"
            let rule = CustomRules.register "forward_only" (fun _ g -> g)
            let forward = Expr.constant (Tensor.FromArray([| 3.0; -4.0 |], [| 2; 1 |]))
            let node = Expr.custom rule x forward
            Expect.equal ((Interpret.evalMany (Dictionary()) [| node |]).[0].ToDoubleArray()) [| 3.0; -4.0 |] "the forward's value"
            Expect.equal ((Eval.evalMany [ node ]).[0].ToDoubleArray()) [| 3.0; -4.0 |] "a plan's, the same"
        }
    ]
