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
        test "a transform that needs a one-element output names itself, as in C#" {
            let x = Expr.variable "x" [| 3 |] f64
            let v = Expr.variable "v" [| 3 |] f64
            let expected name = sprintf "%s: f must return one element, but it returned shape [3]" name
            Expect.equal (messageOf (fun () -> Diff.grad sin x)) (expected "Grad") "grad"
            Expect.equal (messageOf (fun () -> Diff.gradN (fun xs -> sin xs.[0]) [ x ])) (expected "Grad") "gradN"
            Expect.equal (messageOf (fun () -> Diff.valueAndGrad sin x)) (expected "ValueAndGrad") "valueAndGrad"
            Expect.equal (messageOf (fun () -> Diff.valueAndGradN (fun xs -> sin xs.[0]) [ x ])) (expected "ValueAndGrad") "valueAndGradN"
            Expect.equal (messageOf (fun () -> Diff.hessian sin x)) (expected "Hessian") "hessian"
            Expect.equal (messageOf (fun () -> Diff.hessianChunked (Some 2) sin x)) (expected "Hessian") "hessianChunked"
            Expect.equal (messageOf (fun () -> Diff.hvp sin x v)) (expected "Hvp") "hvp"
        }
    ]
