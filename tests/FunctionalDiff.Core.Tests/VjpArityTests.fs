/// The reverse walk checks that a rule gives one cotangent per input. Every rule in the table does;
/// a node built with more inputs than its op's rule knows stands in for a rule that forgot one.
module FunctionalDiff.Core.Tests.VjpArityTests

open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

[<Tests>]
let tests =
    testList "Graph" [
        testList "Vjp arity" [
            test "a rule giving fewer cotangents than its node has inputs is an error naming the op and the counts" {
                let a = Expr.variable "a" [| 2 |] f64
                let b = Expr.variable "b" [| 2 |] f64
                // sin has one input; this malformed node has two, so its rule answers for only one.
                let malformed = Ir.intern (Op.Unary UnaryOp.Sin) [| a; b |] [| 2 |] f64
                let message =
                    try
                        Vjp.backward malformed (Expr.ones f64 [| 2 |]) [| a; b |] |> ignore
                        "no exception"
                    with :? System.InvalidOperationException as e -> e.Message
                for part in [ "Vjp"; "sin"; "1 cotangents"; "2 inputs" ] do
                    Expect.stringContains message part "message"
            }
        ]
    ]
