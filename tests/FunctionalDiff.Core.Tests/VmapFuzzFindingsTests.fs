/// vmap at the points the fuzzer's vmap check (`fuzz --vmap`, compare/FUZZING.md) found it to differ from the
/// per-example evaluation, which is its specification: each batched result is held, bit for bit (signs of zero
/// included), to a loop that evaluates the function on one example at a time.
module FunctionalDiff.Core.Tests.VmapFuzzFindingsTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.VmapSupport

/// Every entry the same bits as the loop's, so −0 against +0 fails (the cases hold no NaN).
let private expectSameBits = PlanTests.expectSameBits

/// vmap of f over two arguments placed by `axes` (None: shared, example 0's value) against the loop.
let private checkAgainstLoop (name: string) (f: Expr list -> Expr) (axes: int option list) (examples: Tensor list list) =
    let count = examples.Length
    let argument i =
        match axes.[i] with
        | Some axis -> Expr.constant (stackAt axis examples.[0].[i].Shape (examples |> List.map (fun e -> e.[i].ToDoubleArray()) |> Array.ofList))
        | None -> Expr.constant examples.[0].[i]
    let batched = Diff.vmapN axes 0 f (List.init axes.Length argument)
    let perExample b = List.init axes.Length (fun i -> if axes.[i].IsSome then examples.[b].[i] else examples.[0].[i])
    expectSameBits (Eval.eval batched) (loopReference f count perExample 0) name

let private t (dims: int[]) (values: float[]) = Tensor.FromArray(values, dims)

[<Tests>]
let vmapFuzzFindingsTests =
    testList "Vmap, the fuzzer's findings" [
        // `fuzz adversarial 1/90` (float32 and float64): digamma of x[2,1] @ w[1,4] with x = 0 and w = −1e20. A matmul
        // over an inner axis of 1 is a sum of one product, which the GEMM adds to +0 (torch's too): 0·(−1e20) = −0 gives
        // +0, digamma(+0) = −∞. The batching rule computed those outer products as plain products, −0, digamma +∞.
        test "a matmul over an inner axis of 1 is the per-example sum, +0 where the product is −0" {
            let examples =
                [ [ t [| 2; 1 |] [| 0.0; 0.6 |]; t [| 1; 4 |] [| 0.0; 0.0; -0.0; -1e20 |] ]
                  [ t [| 2; 1 |] [| -1.5; -0.0 |]; t [| 1; 4 |] [| 2.0; -0.0; 0.0; 3.0 |] ]
                  [ t [| 2; 1 |] [| 1000.0; 0.0 |]; t [| 1; 4 |] [| -0.0; 1.0; -2.0; 0.0 |] ] ]
            let product (xs: Expr list) = Expr.matmul xs.[0] xs.[1]
            for axes in [ [ Some 0; Some 0 ]; [ Some 0; None ]; [ None; Some 0 ]; [ Some 1; Some 1 ] ] do
                checkAgainstLoop (sprintf "[2,1] @ [1,4], axes %A" axes) product axes examples
            // a vector over an inner axis of 1: [1] @ [1,3], and a batch of matrices [2,2,1] @ [1,3]
            let vectors = [ for e in examples -> [ t [| 1 |] [| e.[0].ToDoubleArray().[0] |]; t [| 1; 3 |] (e.[1].ToDoubleArray().[1..]) ] ]
            checkAgainstLoop "[1] @ [1,3]" product [ Some 0; Some 0 ] vectors
            let stacks = [ for e in examples -> [ t [| 2; 2; 1 |] (Array.append (e.[0].ToDoubleArray()) [| -0.0; 0.0 |]); e.[1] ] ]
            checkAgainstLoop "[2,2,1] @ [1,4]" product [ Some 0; None ] stacks
        }
    ]
