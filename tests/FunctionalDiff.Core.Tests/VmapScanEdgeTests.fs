/// vmap of a function that runs a Scan at the edges of its sizes: no examples, no steps.
module FunctionalDiff.Core.Tests.VmapScanEdgeTests

open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

/// h ↦ (final carry, ys) of h_{t+1} = sin(h_t ⊙ x_t), y_t = Σ h_t, over the rows of xs.
let private loop (xs: Expr) (h0: Expr) =
    Scan.scan1 (fun h x -> sin (h * x), Expr.sum h) h0 xs

[<Tests>]
let vmapScanEdgeTests =
    testList "Vmap.scan edges" [
        test "a batch of no examples gives empty results of the per-example shapes" {
            let xs = Expr.constant (Tensor.randomNormal f64 1 [| 4; 3 |])
            let none = Expr.constant (Tensor.zeros f64 [| 0; 3 |])
            let carries, ys =
                match Diff.vmapWith [ Some 0 ] [ 0; 0 ] (fun h -> let c, y = loop xs h.[0] in [ c; y ]) [ none ] with
                | [ c; y ] -> c, y
                | _ -> failwith "two outputs expected"
            Expect.equal (Eval.eval carries).Shape [| 0; 3 |] "the carries: [0] @ [3]"
            Expect.equal (Eval.eval ys).Shape [| 0; 4 |] "the ys: [0] @ [4]"
            let gradients = Diff.vmap (Diff.grad (fun h -> Expr.sum (snd (loop xs h)))) none
            Expect.equal (Eval.eval gradients).Shape [| 0; 3 |] "per-example gradients of no examples"
        }
        test "a batch of no examples of a loop of no steps" {
            let xs = Expr.constant (Tensor.zeros f64 [| 0; 3 |])
            let none = Expr.constant (Tensor.zeros f64 [| 0; 3 |])
            let ys = Diff.vmap (fun h -> snd (loop xs h)) none
            Expect.equal (Eval.eval ys).Shape [| 0; 0 |] "[0] @ [0]"
        }
    ]
