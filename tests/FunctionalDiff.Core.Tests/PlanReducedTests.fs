/// Fused groups reduced as they are computed: a sum, mean, max, min or product over the trailing axes of an
/// elementwise chain that nothing else reads is one step, whose chain is never written whole. Held to the
/// node-by-node interpreter bit for bit (values with NaN, infinities and signed zeros among them), with the
/// reduction's step counted. Also the kernels made cheaper beside it: division by a power of two, against the
/// division written here; float32 erf and erfc by four chains, against the float64 form per entry; and float32
/// sigmoid's slope in one pass, against its three steps written here.
module FunctionalDiff.Core.Tests.PlanReducedTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

/// Random values with a NaN, ±∞ and ±0 placed in some rows.
let private inputWithEdges (seed: int) (dtype: DType) (shape: int[]) =
    let random = Random seed
    let data = Array.init (Shape.numel shape) (fun _ -> random.NextDouble() * 4.0 - 2.0)
    let edges = [| nan; infinity; -infinity; 0.0; -0.0 |]
    for k in 0 .. edges.Length - 1 do
        let at = (k * 7919 + 13) % data.Length
        if at > data.Length / 2 then data.[at] <- edges.[k]
    (Tensor.FromArray(data, shape)).Cast dtype

let private reduceSteps (plan: Plan) =
    plan.Steps |> Array.sumBy (fun step ->
        match step with
        | Step.Reduce _ -> 1
        | Step.Fused _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
        | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> 0)

let private reducedGroups (plan: Plan) = fusedGroups plan |> Array.filter (fun g -> g.Reduction.IsSome) |> Array.length

/// name, the input shapes, the function (each root one reduction of a private chain), and its reductions.
let private cases : (string * int[][] * (Expr[] -> Expr[]) * int) list =
    [ "sum of squares over the last axis", [| [| 40; 70 |] |], (fun x -> [| Expr.sumAxes [| 1 |] true (Expr.square x.[0]) |]), 1
      "mean of a chain with a broadcast row statistic", [| [| 33; 130 |]; [| 33; 1 |] |],
      (fun x -> [| Expr.meanAxes [| 1 |] false (Expr.tanh (x.[0] - x.[1]) * x.[0]) |]), 1
      "max and min of |x| over the last axis", [| [| 65; 90 |] |],
      (fun x -> [| Expr.maxAxes [| 1 |] true (Expr.abs x.[0]); Expr.reduce ReduceOp.Min [| 1 |] true (Expr.exp x.[0]) |]), 2
      "product over the last two axes", [| [| 6; 5; 7 |] |], (fun x -> [| Expr.reduce ReduceOp.Prod [| 1; 2 |] false (Expr.cos x.[0]) |]), 1
      "rows longer than a block, in several parts", [| [| 9; 9000 |] |], (fun x -> [| Expr.sumAxes [| 1 |] true (Expr.sin x.[0] * x.[0]) |]), 1
      "a chain with a stored member read after the reduction", [| [| 70; 300 |]; [| 70; 1 |] |],
      (fun x ->
          let centred = x.[0] - x.[1]
          [| Expr.sumAxes [| 1 |] true (Expr.square centred); centred * 2.0 |]), 1
      "a rank-1 input summed whole", [| [| 5000 |] |], (fun x -> [| Expr.sum (Expr.exp (Expr.neg (Expr.square x.[0]))) |]), 1
      // one row of many blocks (not a whole number of them): the team computes the blocks, the caller reduces the row
      "a large rank-1 input summed whole", [| [| 100_003 |] |], (fun x -> [| Expr.sum (Expr.tanh (Expr.exp x.[0]) * x.[0]) |]), 1 ]

[<Tests>]
let tests =
    testList "Plan reduced groups" [
        for name, shapes, f, reductions in cases do
            for dtype in [ DType.Float32; DType.Float64 ] do
                testCase (sprintf "%s (%O): one reduced group per reduction, the interpreter's bits" name dtype) <| fun () ->
                    let inputs = shapes |> Array.mapi (fun i s -> inputWithEdges (31 * i + s.Length) dtype s)
                    let vars = inputs |> Array.mapi (fun i t -> Expr.variable (sprintf "x%d" i) t.Dims t.DType)
                    let roots = f vars
                    let plan = Planner.compile vars roots true
                    Expect.equal (reduceSteps plan) 0 (sprintf "%s: reduction steps of their own" name)
                    Expect.equal (reducedGroups plan) reductions (sprintf "%s: reduced groups" name)
                    let planned, reference = plan.Run(inputs, null), interpreted vars inputs roots
                    Array.iteri2 (fun i p r -> expectSameBits p r (sprintf "%s, root %d" name i)) planned reference

        for dtype in [ DType.Float32; DType.Float64 ] do
            testCase (sprintf "layer norm's gradient and its Hessian-vector product (%O): the interpreter's bits" dtype) <| fun () ->
                let x = inputWithEdges 7 dtype [| 24; 200 |]
                let v = Expr.variable "x" x.Dims dtype
                let f (z: Expr) = Expr.sum (Nn.layerNorm 1e-5 (Expr.scalar dtype 1.0) (Expr.scalar dtype -0.0) z * z)
                let g = Diff.grad f v
                let h = Diff.grad (fun z -> Expr.sum (Diff.grad f z * z)) v
                let plan = Planner.compile [| v |] [| g; h |] true
                Expect.isGreaterThan (reducedGroups plan) 0 "some row statistic is reduced as it is computed"
                let planned, reference = plan.Run([| x |], null), interpreted [| v |] [| x |] [| g; h |]
                Array.iteri2 (fun i p r -> expectSameBits p r (sprintf "layer norm, root %d" i)) planned reference

        testCase "a reduction read by another step too keeps its input whole" <| fun () ->
            let x = inputWithEdges 3 DType.Float32 [| 20; 50 |]
            let v = Expr.variable "x" x.Dims DType.Float32
            let s = Expr.square v
            let roots = [| Expr.sumAxes [| 1 |] true s; s + 1.0 |]
            let plan = Planner.compile [| v |] roots true
            Expect.equal (reducedGroups plan) 0 "a shared chain is not reduced in its group"
            Array.iteri2 (fun i p r -> expectSameBits p r (sprintf "root %d" i)) (plan.Run([| x |], null)) (interpreted [| v |] [| x |] roots)

        testCase "a division by a power of two is the division, bit for bit, in both dtypes" <| fun () ->
            let xs = [| 1.0; -3.0; 0.1; 1e-310; -5e-324; 1e308; 0.0; -0.0; infinity; -infinity; nan; 3.4e38; 1e-45; 1.17e-38; 7.0 |]
            let xs = Array.init 37 (fun i -> xs.[i % xs.Length] * (if i >= xs.Length then 1.5 else 1.0))
            let divisors64 = [| 1.0; 2.0; 0.5; -4.0; Math.ScaleB(1.0, 1023); Math.ScaleB(1.0, -1022); Math.ScaleB(1.0, -1023)
                                Math.ScaleB(1.0, -1074); 3.0; 0.0; -0.0; infinity; nan |]
            for s in divisors64 do
                let y = Array.zeroCreate<float> xs.Length
                SpanKernels.divideScalar (ReadOnlySpan xs) s (Span y)
                for i in 0 .. xs.Length - 1 do
                    Expect.equal (BitConverter.DoubleToInt64Bits y.[i]) (BitConverter.DoubleToInt64Bits(xs.[i] / s))
                        (sprintf "float64 %g / %g" xs.[i] s)
            let xs32 = xs |> Array.map float32
            let divisors32 = [| 1.0f; 2.0f; -0.25f; MathF.ScaleB(1.0f, 127); MathF.ScaleB(1.0f, -126); MathF.ScaleB(1.0f, -127)
                                MathF.ScaleB(1.0f, -149); 65536.0f; 6.0f; 0.0f; infinityf; nanf |]
            for s in divisors32 do
                let y = Array.zeroCreate<float32> xs32.Length
                SpanKernels.divideScalar (ReadOnlySpan xs32) s (Span y)
                for i in 0 .. xs32.Length - 1 do
                    Expect.equal (BitConverter.SingleToInt32Bits y.[i]) (BitConverter.SingleToInt32Bits(xs32.[i] / s))
                        (sprintf "float32 %g / %g" xs32.[i] s)

        for complement in [ false; true ] do
            testCase (sprintf "float32 %s by four chains is the float64 form per entry, rounded once, with lanes beyond ±3 among them" (if complement then "erfc" else "erf")) <| fun () ->
                let random = Random 43
                // runs of sixteen inside (−3, 3), and some with one entry outside, NaN or ±∞
                let data = Array.init 1031 (fun i -> if i % 97 = 5 then [| 3.5; -7.0; nan; infinity; -infinity; 3.0 |].[(i / 97) % 6] else random.NextDouble() * 5.8 - 2.9)
                let x = (Tensor.FromArray(data, [| data.Length |])).Cast DType.Float32
                let node = if complement then Expr.erfc (Expr.constant x) else Expr.erf (Expr.constant x)
                let got = (Eval.eval node).ToDoubleArray() |> Array.map float32
                for i in 0 .. data.Length - 1 do
                    let v = float (float32 data.[i])
                    // erfc from 1/2 on is erfcx(x)·e^{−x²} in both forms (Special.erfc)
                    let wide =
                        if complement && v >= Special.erfcSplit then Special.erfc v
                        elif abs v < 3.0 then (let r = Special.erfSmallByPowers v in if complement then 1.0 - r else r)
                        elif complement then Special.erfc v
                        else Special.erf v
                    Expect.equal (BitConverter.SingleToInt32Bits got.[i]) (BitConverter.SingleToInt32Bits(float32 wide)) (sprintf "x = %g" v)

        testCase "float32 sigmoid slope in one pass is e/(1 + e)² at e = exp(−|x|) as float32's exp gives it" <| fun () ->
            let random = Random 41
            let specials = [| nan; infinity; -infinity; 0.0; -0.0; 88.0; -88.0; 104.0; 1e-40; 17.5 |]
            let data = Array.init 1043 (fun i -> if i < specials.Length * 9 && i % 9 = 0 then specials.[i / 9] else random.NextDouble() * 40.0 - 20.0)
            let x = (Tensor.FromArray(data, [| data.Length |])).Cast DType.Float32
            let slope = (Eval.eval (Expr.sigmoidSlope (Expr.constant x))).ToDoubleArray() |> Array.map float32
            let e = (Eval.eval (Expr.exp (Expr.neg (Expr.abs (Expr.constant x))))).ToDoubleArray() |> Array.map float32
            for i in 0 .. data.Length - 1 do
                let d = e.[i] + 1.0f
                let expected = e.[i] / (d * d)
                Expect.equal (BitConverter.SingleToInt32Bits slope.[i]) (BitConverter.SingleToInt32Bits expected) (sprintf "x = %g" data.[i])
    ]
