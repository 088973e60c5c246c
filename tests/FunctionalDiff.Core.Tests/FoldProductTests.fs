/// A compiled convolution's input gradient folds each image's part of the product while it is in
/// cache (one FoldProduct step instead of a product and a fold). These check that the planner joins
/// exactly the pairs it may, that the joined step gives the interpreter's bits, and that the values
/// are right against the input gradient written here as a plain loop over torch's definition.
module FunctionalDiff.Core.Tests.FoldProductTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

/// The steps of each kind that matter here: (products, folds, joined steps).
let private counts (plan: Plan) =
    plan.Steps |> Array.fold (fun (m, f, j) step ->
        match step with
        | Step.MatMul _ -> (m + 1, f, j)
        | Step.Fold _ -> (m, f + 1, j)
        | Step.FoldProduct _ -> (m, f, j + 1)
        | Step.Fused _ | Step.Reduce _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
        | Step.Unfold _ | Step.Loop _ -> (m, f, j)) (0, 0, 0)

/// The gradient of sum(conv2d(x, w) · g) in x, by the definition of conv2d (stride 1, padding `pad`,
/// one group): x[n, c, r, s] meets w[o, c, i, j] at output (p, q) when r = p + i - pad and
/// s = q + j - pad, so its gradient is the sum over those of g[n, o, p, q] · w[o, c, i, j].
let private referenceInputGradient (pad: int) (x: int[]) (w: Tensor) (g: Tensor) =
    let ws, gs = w.ToDoubleArray(), g.ToDoubleArray()
    let n, c, h, wd = x.[0], x.[1], x.[2], x.[3]
    let co, kh, kw = w.Shape.[0], w.Shape.[2], w.Shape.[3]
    let ho, wo = g.Shape.[2], g.Shape.[3]
    let out = Array.zeroCreate (n * c * h * wd)
    for b in 0 .. n - 1 do
        for o in 0 .. co - 1 do
            for p in 0 .. ho - 1 do
                for q in 0 .. wo - 1 do
                    let gv = gs.[((b * co + o) * ho + p) * wo + q]
                    for ch in 0 .. c - 1 do
                        for i in 0 .. kh - 1 do
                            for j in 0 .. kw - 1 do
                                let r, s = p + i - pad, q + j - pad
                                if r >= 0 && r < h && s >= 0 && s < wd then
                                    let at = ((b * c + ch) * h + r) * wd + s
                                    out.[at] <- out.[at] + gv * ws.[((o * c + ch) * kh + i) * kw + j]
    out

/// The value and the x and w gradients of sum(conv2d(x, w, padding) · g) as roots over Vars x, w, g.
let private convGradients (dtype: DType) (xShape: int[]) (wShape: int[]) (gShape: int[]) (pad: int) =
    let x = Expr.variable "x" xShape dtype
    let w = Expr.variable "w" wShape dtype
    let g = Expr.variable "g" gShape dtype
    let value, gradients =
        Diff.valueAndGradN (fun q -> Expr.sum (Convolution.conv2d (1, 1) (pad, pad) (1, 1) 1 q.[1] None q.[0] * g)) [ x; w ]
    [| x; w; g |], Array.ofList (value :: gradients)

[<Tests>]
let tests =
    testList "Fold of a product, image by image" [
        // 3 images of 2×5×6 (serial per image), and 32 of 4×32×32 (whose products the batched path
        // spreads over the cores, a few images per part)
        for dtype in [ DType.Float64; DType.Float32 ] do
            for xShape, wShape, pad in [ [| 3; 2; 5; 6 |], [| 4; 2; 3; 3 |], 1; [| 32; 4; 32; 32 |], [| 8; 4; 3; 3 |], 1 ] do
                yield test (sprintf "a conv2d input gradient, %O, x %A" dtype xShape) {
                    let random = Random 41
                    let gShape = [| xShape.[0]; wShape.[0]; xShape.[2] + 2 * pad - 2; xShape.[3] + 2 * pad - 2 |]
                    let vars, roots = convGradients dtype xShape wShape gShape pad
                    let inputs = [| randomTensor random dtype xShape; randomTensor random dtype wShape; randomTensor random dtype gShape |]
                    let plan = Planner.compile vars roots true
                    let products, folds, joined = counts plan
                    Expect.equal (joined, folds) (1, 0) "one joined step and no separate fold"
                    // the forward product and the weight gradient's product stay products
                    Expect.equal products 2 "products left"
                    let expected = interpreted vars inputs roots
                    for run in 1 .. 2 do
                        let actual = plan.Run(inputs, null)
                        for i in 0 .. roots.Length - 1 do
                            expectSameBits actual.[i] expected.[i] (sprintf "run %d, root %d" run i)
                    let reference = referenceInputGradient pad xShape inputs.[1] inputs.[2]
                    let tolerance = if dtype = DType.Float32 then 1e-4 else 1e-12
                    GraphTestSupport.expectClose tolerance ((plan.Run(inputs, null)).[1].ToDoubleArray()) reference "x gradient vs the loop"
                }

        yield test "a product that another step also reads is not joined" {
            let a = Expr.variable "a" [| 18; 4 |] DType.Float64
            let b = Expr.variable "b" [| 2; 4; 12 |] DType.Float64
            let product = Expr.matmul a b
            // fold to 2 images of 2×3×4 under a 3×3 kernel with padding 1 (12 windows each)
            let folded = Expr.fold [| 3; 4 |] [| 3; 3 |] [| 1; 1 |] [| 1; 1 |] [| 1; 1 |] product
            let random = Random 43
            let inputs = [| randomTensor random DType.Float64 [| 18; 4 |]; randomTensor random DType.Float64 [| 2; 4; 12 |] |]
            for roots, joinedExpected in [ [| folded |], 1; [| folded; Expr.exp product |], 0; [| folded; product |], 0 ] do
                let plan = Planner.compile [| a; b |] roots true
                let _, _, joined = counts plan
                Expect.equal joined joinedExpected (sprintf "joined steps with %d roots" roots.Length)
                let expected = interpreted [| a; b |] inputs roots
                let actual = plan.Run(inputs, null)
                for i in 0 .. roots.Length - 1 do
                    expectSameBits actual.[i] expected.[i] (sprintf "%d roots, root %d" roots.Length i)
        }
    ]
