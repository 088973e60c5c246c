/// tanh's slope over a tanh the graph computes anyway is read from that tanh (SharedSlopes): a
/// tanh layer's training step takes one tanh pass, not two. The slope primitive is defined as
/// (1 − y)(1 + y) at the rounded y = tanh x, so the plan must give the primitive's very bits; the
/// passes are counted from the plan's instructions, and the values are held to the interpreter
/// (which runs the primitive's own kernel) and to a float64 loop.
module FunctionalDiff.Core.Tests.PlanSharedSlopeTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

/// The unary instructions of the plan's fused groups and its node-by-node kernels that apply `op`.
let private unaryCount (plan: Plan) (op: UnaryOp) =
    plan.Steps |> Array.sumBy (fun step ->
        match step with
        | Step.Fused(group, _) ->
            group.Instructions |> Array.sumBy (fun i ->
                match i with
                | FusedInstruction.Unary(u, _, _) when u = op -> 1
                | FusedInstruction.Unary _ | FusedInstruction.Binary _ | FusedInstruction.Where _ -> 0)
        | Step.Kernel(node, _, _) -> (match node.Op with Op.Unary u when u = op -> 1 | _ -> 0)
        | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Write _
        | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> 0)

/// Points across tanh's range: zeros of both signs, the tiny, the linear part, the bend, where
/// float32 and float64 saturate, the infinities and NaN; repeated with small shifts to fill `n`.
let private points (n: int) =
    let edges = [| 0.0; -0.0; 1e-30; -1e-30; 1e-5; 0.3; -0.7; 1.5; -2.2; 4.0; 8.4; -9.1; 19.0; 20.0; -40.0; 1e10; infinity; -infinity; nan |]
    Array.init n (fun i -> let e = edges.[i % edges.Length] in if Double.IsFinite e && e <> 0.0 then e * (1.0 + float (i / edges.Length) * 1e-3) else e)

[<Tests>]
let tests =
    testList "PlanSharedSlope" [
        for dtype in [ DType.Float32; DType.Float64 ] do
            for n in [ SharedSlopes.minimumNumel; 257; 1000; 4099; 20_003 ] do
                testCase (sprintf "tanh x and its slope times g take one tanh pass and the primitive's bits (%O, %d)" dtype n) <| fun () ->
                    let x = Expr.variable "x" [| n |] dtype
                    let g = Expr.variable "g" [| n |] dtype
                    let roots = [| Expr.tanh x; Expr.tanhSlope x * g |]
                    let xs = (Tensor.FromArray(points n, [| n |])).Cast dtype
                    let gs = (Tensor.FromArray(Array.init n (fun i -> 0.5 + float (i % 7)), [| n |])).Cast dtype
                    let plan = Planner.compile [| x; g |] roots true
                    Expect.equal (unaryCount plan UnaryOp.Tanh) 1 "one tanh pass"
                    Expect.equal (unaryCount plan UnaryOp.TanhSlope) 0 "no slope primitive"
                    let ours = plan.RunFresh [| xs; gs |]
                    let reference = interpreted [| x; g |] [| xs; gs |] roots
                    expectSameBits ours.[0] reference.[0] "tanh"
                    expectSameBits ours.[1] reference.[1] "slope × g, against the primitive's kernel"
                    // and against the definition in float64: (1 − y)(1 + y)·g at the rounded y
                    let ys, slopes = reference.[0].ToDoubleArray(), ours.[1].ToDoubleArray()
                    let gd = gs.ToDoubleArray()
                    let tolerance = if dtype = DType.Float32 then 1e-6 else 1e-15
                    for i in 0 .. n - 1 do
                        let expected = (1.0 - ys.[i]) * (1.0 + ys.[i]) * gd.[i]
                        if Double.IsNaN expected then Expect.isTrue (Double.IsNaN slopes.[i]) (sprintf "NaN at %d" i)
                        elif abs (slopes.[i] - expected) > tolerance * abs expected then
                            failtestf "entry %d (x = %g): %.9g, the definition gives %.9g" i (xs.ToDoubleArray().[i]) slopes.[i] expected

        testCase "a slope smaller than the threshold stays the primitive (a pass costs its call there)" <| fun () ->
            let n = SharedSlopes.minimumNumel - 1
            let x = Expr.variable "x" [| n |] DType.Float64
            let plan = Planner.compile [| x |] [| Expr.tanh x; Expr.tanhSlope x |] true
            Expect.equal (unaryCount plan UnaryOp.TanhSlope) 1 "the slope primitive"
            let xs = Tensor.FromArray(points n, [| n |])
            let ours = plan.RunFresh [| xs |]
            expectSameBits ours.[1] (interpreted [| x |] [| xs |] [| Expr.tanhSlope x |]).[0] "the slope"

        testCase "a tanh layer's gradient step computes tanh once, with the bits of the gradient alone" <| fun () ->
            // the cotangent of tanh comes from a product, so its rule uses the slope primitive
            let random = Random 5
            let x = randomTensor random DType.Float32 [| 64; 32 |]
            let v = randomTensor random DType.Float32 [| 16; 4 |]
            let w = Expr.variable "w" [| 32; 16 |] DType.Float32
            let loss, gradient =
                Diff.valueAndGrad (fun w -> Expr.sum (Expr.matmul (Expr.tanh (Expr.matmul (Expr.constant x) w)) (Expr.constant v))) w
            let both = Planner.compile [| w |] [| loss; gradient |] true
            Expect.equal (unaryCount both UnaryOp.Tanh) 1 "the forward's tanh only"
            Expect.equal (unaryCount both UnaryOp.TanhSlope) 0 "the slope reads it"
            // the gradient alone has no tanh to share: the primitive computes the slope there
            let alone = Planner.compile [| w |] [| gradient |] true
            Expect.equal (unaryCount alone UnaryOp.TanhSlope) 1 "the primitive, alone"
            let ws = randomTensor random DType.Float32 [| 32; 16 |]
            expectSameBits (both.RunFresh [| ws |]).[1] (alone.RunFresh [| ws |]).[0] "the gradient"

        testCase "inside a Scan's body too: a tanh recurrence's gradient through the plan has the interpreter's bits" <| fun () ->
            // h ← tanh(h·w + x_t) over 300 entries: the bodies' plans go through the same rewrite wherever a
            // body holds both a tanh and its slope; the interpreter runs each body node by node, with the
            // slope primitive's own kernel
            let random = Random 6
            let n = 300
            let xs = randomTensor random DType.Float64 [| 4; n |]
            let h0 = randomTensor random DType.Float64 [| n |]
            let w = Expr.variable "w" [| n |] DType.Float64
            let loss (w: Expr) =
                let carries, _ = Scan.scan (fun c x -> [| Expr.tanh (c.[0] * w + x.[0]) |], [| c.[0] |]) [| Expr.constant h0 |] [| Expr.constant xs |]
                Expr.sum (Expr.square carries.[0])
            let value, gradient = Diff.valueAndGrad loss w
            let ws = randomTensor random DType.Float64 [| n |]
            let plan = Planner.compile [| w |] [| value; gradient |] true
            let ours = plan.RunFresh [| ws |]
            let reference = interpreted [| w |] [| ws |] [| value; gradient |]
            expectSameBits ours.[0] reference.[0] "the loss"
            expectSameBits ours.[1] reference.[1] "the gradient"
    ]
