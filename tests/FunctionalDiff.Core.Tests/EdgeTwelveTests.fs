/// Regression specifications for what branch edges12's fuzzer runs found at the edges: derivatives that are exactly 0
/// in exact arithmetic (a variance or a normalisation over copies of one value, along a tangent or under a cotangent
/// that is constant over the group) must be exactly 0, and the others must be their closed forms.
module FunctionalDiff.Core.Tests.EdgeTwelveTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// Values whose three copies' mean, (a + a + a)/3, is not a: centring them as t − mean t leaves a residue.
let private awkward = [| 0.1; 0.7; 1.0 / 3.0; -2.9; 0.3e5 |]

/// The residue the plain centring leaves at a value (the premise that makes these tests able to fail).
let private residue (a: float) = a - (a + a + a) / 3.0

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges12)" [
        test "the variance of three copies of one value has every derivative exactly 0 (fuzz adversarial 40/68)" {
            Expect.isTrue (awkward |> Array.exists (fun a -> residue a <> 0.0)) "the plain centring rounds at some of these values"
            let n = awkward.Length
            // var over the copies' axis of [x; x; x]: 0 for every x, so its gradient, Hessian, HVP and JVPs are all 0
            let f (x: Expr) =
                let copies = Expr.stack 0 [ x; x; x ]
                Expr.sum (Statistics.var [| 0 |] 1.0 false copies * constantVector [| 1e5; -3e4; 2.5e5; 7e4; -1e5 |])
            let x = constantVector awkward
            let zeros = Array.zeroCreate n
            Expect.equal (values (Diff.grad f x)) zeros "gradient"
            Expect.equal (values (Diff.hessian f x)) (Array.zeroCreate (n * n)) "Hessian"
            Expect.equal (values (Diff.hvp f x (constantVector awkward))) zeros "HVP (forward over reverse)"
            // reverse over reverse: the gradient's own VJP along a direction
            let _, pullback = Diff.vjp (Diff.grad f) x
            Expect.equal (values (pullback (constantVector awkward))) zeros "vjp of the gradient"
            // the JVP of the gradient of the unweighted variance along copies of the tangent
            let g (x: Expr) = Statistics.var [| 0 |] 1.0 false (Expr.stack 0 [ x; x; x ])
            let _, tangent = Diff.jvp (Diff.grad (fun y -> Expr.sum (g y * Expr.scalar DType.Float64 1e5))) x (constantVector awkward)
            Expect.equal (values tangent) zeros "JVP of the gradient"
        }
        test "layer and batch norms over equal entries: derivatives along constant directions are exactly 0, the others the closed form (fuzz adversarial 39/246, all 3/347)" {
            let one, zero = Expr.scalar DType.Float64 1.0, Expr.scalar DType.Float64 0.0
            let epsilon = 1e-5
            // rows of three equal entries, one awkward value per row
            let rows = awkward |> Array.collect (fun a -> [| a; a; a |])
            let x = constant (tensor [| awkward.Length; 3 |] rows)
            let layer (y: Expr) = Nn.layerNorm epsilon one zero y
            // a cotangent constant along each row: the gradient is C(g)/√ε = 0 exactly
            let constantRows = constant (tensor [| awkward.Length; 3 |] (awkward |> Array.collect (fun a -> [| 1e5 * a; 1e5 * a; 1e5 * a |])))
            let zeros = Array.zeroCreate rows.Length
            Expect.equal (values (Diff.grad (fun y -> Expr.sum (layer y * constantRows)) x)) zeros "layer norm: gradient under row-constant cotangents"
            let _, tangent = Diff.jvp layer x constantRows
            Expect.equal (values tangent) zeros "layer norm: JVP along row-constant tangents"
            Expect.equal (values (Diff.hvp (fun y -> Expr.sum (layer y * constantRows)) x constantRows)) zeros "layer norm: HVP along row-constant directions"
            // a general cotangent: at a constant row the gradient is (g − mean g)/√ε, the closed form
            let g = [| for r in 0 .. awkward.Length - 1 do yield! [| 1.5 + float r; -0.25; 2.0 * float r |] |]
            let closed =
                [| for r in 0 .. awkward.Length - 1 do
                     let row = g.[3 * r .. 3 * r + 2]
                     let mean = Array.average row
                     for v in row -> (v - mean) / sqrt epsilon |]
            expectIeee (values (Diff.grad (fun y -> Expr.sum (layer y * constant (tensor [| awkward.Length; 3 |] g))) x)) closed "layer norm: gradient"
            // batch norm over a batch of equal rows ([N, C] = [3, 5]): each channel's batch is one value three times
            let batch = constant (tensor [| 3; awkward.Length |] (Array.concat [ awkward; awkward; awkward ]))
            let norm (y: Expr) = Normalisation.batchNorm epsilon one zero y
            let constantColumns = constant (tensor [| 3; awkward.Length |] (Array.concat [ for _ in 0 .. 2 -> awkward |> Array.map (fun a -> 3e4 * a) ]))
            Expect.equal (values (Diff.grad (fun y -> Expr.sum (norm y * constantColumns)) batch)) zeros "batch norm: gradient under column-constant cotangents"
            let _, batchTangent = Diff.jvp norm batch constantColumns
            Expect.equal (values batchTangent) zeros "batch norm: JVP along column-constant tangents"
            Expect.equal (values (Diff.hvp (fun y -> Expr.sum (norm y * constantColumns)) batch constantColumns)) zeros "batch norm: HVP"
        }
        test "fold over windows that tile the image adds each entry into zeros: a -0 entry gives +0, as the overlapping case and torch's col2im (fuzz adversarial 43/247)" {
            // [1, 4, 4] columns of a 2×2 kernel, stride 2, over a 4×4 image: every output entry is one column entry
            let entries = [| for k in 0 .. 15 -> if k % 3 = 0 then 1.5 + float k else -0.0 |]
            for dtype in [ DType.Float64; DType.Float32 ] do
                let columns = Expr.cast dtype (constant (tensor [| 1; 4; 4 |] entries))
                let folded = (Eval.eval (Expr.fold [| 4; 4 |] [| 2; 2 |] [| 2; 2 |] [| 0; 0 |] [| 1; 1 |] columns)).ToDoubleArray()
                Expect.equal (Array.sort (Array.filter (fun v -> v <> 0.0) folded)) (Array.sort (Array.filter (fun v -> v <> 0.0) entries)) (sprintf "%A: the nonzero entries" dtype)
                // +0 + (−0) = +0: the sign shows in 1/x
                for v in folded do
                    if v = 0.0 then Expect.equal (1.0 / v) infinity (sprintf "%A: a zero entry is +0" dtype)
        }
    ]
