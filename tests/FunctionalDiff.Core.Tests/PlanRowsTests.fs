/// Fused groups whose inputs are broadcast along long rows (outer products: the per-example
/// gradient of a dense layer is x ⊗ g per example) and outputs large enough to be streamed to
/// memory: the plan against the node-by-node interpreter bit for bit, and the outer product against
/// a loop written here. Shapes are chosen to cross the cases of the row walk: several outer axes
/// (the odometer carries), rows longer than a block (pieces), rows split over parallel parts, a
/// unary op reading a repeated element, and outputs at the streaming threshold in both dtypes.
module FunctionalDiff.Core.Tests.PlanRowsTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

/// The plan's values and the interpreter's for f over fresh Vars of the inputs' shapes.
let private planAndInterpreter (inputs: Tensor[]) (f: Expr[] -> Expr[]) =
    let vars = inputs |> Array.mapi (fun i t -> Expr.variable (sprintf "x%d" i) t.Dims t.DType)
    let roots = f vars
    let plan = Planner.compile vars roots true
    plan.Run(inputs, null), interpreted vars inputs roots, plan

/// Every case: a name, input shapes, and the function.
let private cases : (string * int[][] * (Expr[] -> Expr[])) list =
    [ "outer product per example, rows over parallel parts", [| [| 5; 70; 1 |]; [| 5; 1; 96 |] |],
      (fun x -> [| x.[0] * x.[1] |])
      "outer product with three outer axes, then add and tanh", [| [| 2; 3; 5; 1 |]; [| 1; 3; 1; 100 |]; [| 100 |] |],
      (fun x -> [| Expr.tanh (x.[0] * x.[1] + x.[2]) |])
      "a unary op on a broadcast input (a repeated element per row)", [| [| 4; 50; 1 |]; [| 4; 50; 80 |] |],
      (fun x -> [| Expr.exp (Expr.broadcastTo [| 4; 50; 80 |] x.[0]) * x.[1] |])
      "rows longer than a block", [| [| 3; 1 |]; [| 1; 9000 |] |],
      (fun x -> [| Expr.sin (x.[0] - x.[1]) |])
      "pow, atan2 and where over broadcast inputs", [| [| 6; 1; 70 |]; [| 6; 30; 1 |] |],
      (fun x ->
          let a, b = Expr.abs x.[0] + Expr.scalar x.[0].DType 0.5, x.[1]
          [| Expr.where (Expr.lt a b) (Expr.pow a b) (Expr.binary BinaryOp.Atan2 b a) |])
      "streamed: an outer product of 16 MB in float32 (32 MB in float64)", [| [| 64; 256; 1 |]; [| 64; 1; 256 |] |],
      (fun x -> [| x.[0] * x.[1] |])
      "streamed: several instructions and two roots", [| [| 64; 256; 1 |]; [| 64; 1; 256 |]; [| 256 |] |],
      (fun x -> [| Expr.tanh (x.[0] * x.[1]) - x.[2]; Expr.sumAxes [| 0 |] false (x.[0] * x.[1]) |])
      "16 MB in float64 (streamed), 8 MB in float32 (not)", [| [| 32; 256; 1 |]; [| 1; 1; 256 |] |],
      (fun x -> [| Expr.square (x.[0] + x.[1]) |]) ]

[<Tests>]
let tests =
    testList "Plan rows" [
        for name, shapes, f in cases do
            for dtype in [ DType.Float32; DType.Float64 ] do
                testCase (sprintf "%s (%O): the plan gives the interpreter's bits" name dtype) <| fun () ->
                    let random = Random(shapes.Length * 31 + shapes.[0].Length)
                    let inputs = shapes |> Array.map (randomTensor random dtype)
                    let planned, reference, _ = planAndInterpreter inputs f
                    Array.iteri2 (fun i p r -> expectSameBits p r (sprintf "%s, root %d" name i)) planned reference

        for dtype in [ DType.Float32; DType.Float64 ] do
            testCase (sprintf "an outer product per example equals the loop over examples (%O)" dtype) <| fun () ->
                let n, m, k = 7, 300, 130
                let random = Random 3
                let x, g = randomTensor random dtype [| n; m |], randomTensor random dtype [| n; k |]
                let planned, _, _ =
                    planAndInterpreter [| x; g |] (fun v -> [| Expr.reshape [| n; m; 1 |] v.[0] * Expr.reshape [| n; 1; k |] v.[1] |])
                let result, xs, gs = planned.[0].ToDoubleArray(), x.ToDoubleArray(), g.ToDoubleArray()
                for b in 0 .. n - 1 do
                    for i in 0 .. m - 1 do
                        for j in 0 .. k - 1 do
                            // one rounding of the exact product in the dtype, as the kernel does
                            let expected =
                                match dtype with
                                | DType.Float32 -> float (float32 xs.[b * m + i] * float32 gs.[b * k + j])
                                | DType.Float64 -> xs.[b * m + i] * gs.[b * k + j]
                            if result.[(b * m + i) * k + j] <> expected then
                                failtestf "example %d, entry (%d, %d): %g, the loop gives %g" b i j result.[(b * m + i) * k + j] expected

        testCase "per-example gradients of a dense layer: the weight gradients are written once, into the output" <| fun () ->
            // vmap of grad of sum(tanh(W x)) for one example: W's per-example gradient is g xᵀ per
            // example, [n, m, k]; it must be one fused step into the result, with no arena slot
            // (no intermediate, no copy) anywhere near its size.
            let n, m, k = 16, 40, 90
            let random = Random 9
            let w, xs = randomTensor random DType.Float32 [| m; k |], randomTensor random DType.Float32 [| n; k |]
            let planned, reference, plan =
                planAndInterpreter [| w; xs |] (fun v ->
                    [| Diff.vmapN [ None; Some 0 ] 0
                        (fun args -> Diff.grad (fun w -> Expr.sum (Expr.tanh (Expr.matmul w args.[1]))) args.[0]) [ v.[0]; v.[1] ] |])
            expectSameBits planned.[0] reference.[0] "the per-example weight gradients"
            let outputBytes = int64 (n * m * k) * 4L
            let fusedIntoOutput =
                plan.Steps |> Array.filter (fun s ->
                    match s with
                    | Step.Fused(group, _) -> group.Numel = n * m * k
                    | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
                    | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> false)
            Expect.equal fusedIntoOutput.Length 1 "one fused step of the output's size"
            Expect.isLessThan plan.ArenaBytes (outputBytes / 4L) "the arena holds nothing of the output's size"
    ]
