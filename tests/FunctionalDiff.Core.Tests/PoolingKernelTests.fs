/// The kernels behind pooling and convolution, against plain loops written here: argmax over an axis
/// that is not the last (a pooling window's, read a vector of positions at a time) with ties, NaN,
/// signed zeros and infinities; unfold and fold (im2col, col2im) for the short runs of small layers,
/// and fold over windows that tile the output, which writes every element rather than adding.
module FunctionalDiff.Core.Tests.PoolingKernelTests

open System
open Expecto
open FunctionalDiff.Core

/// Values drawn from a few, so that ties are common, with NaN, ±0 and ±inf among them.
let private awkward (random: Random) (count: int) =
    let pool = [| 0.0; -0.0; 1.0; 1.0; 2.5; -3.0; Double.NaN; Double.PositiveInfinity; Double.NegativeInfinity; 2.5 |]
    Array.init count (fun _ -> pool.[random.Next pool.Length])

/// torch's argmax along the middle of [outer, reduced, inner]: the first largest, a NaN being
/// larger than everything (so the first NaN).
let private referenceArgmax (x: float[]) (outer: int) (reduced: int) (inner: int) =
    Array.init (outer * inner) (fun k ->
        let o, i = k / inner, k % inner
        let at r = x.[(o * reduced + r) * inner + i]
        let mutable best = 0
        for r in 1 .. reduced - 1 do
            let v, b = at r, at best
            if not (Double.IsNaN b) && (Double.IsNaN v || v > b) then best <- r
        float best)

let private argmaxCase (dtype: DType) (outer: int) (reduced: int) (inner: int) (seed: int) =
    test (sprintf "argmax over the middle of [%d, %d, %d], %O" outer reduced inner dtype) {
        let x = awkward (Random seed) (outer * reduced * inner)
        let t = Tensor.FromArray(x, [| outer; reduced; inner |]).Cast dtype
        let ours = (Reduction.argmax 1 false t).ToDoubleArray()
        // the float32 input holds the same values (all of them are exact in float32)
        Expect.sequenceEqual ours (referenceArgmax x outer reduced inner) "first largest index, NaN largest"
    }

/// Unfold by its definition: column p·Wo + q of row c·kh·kw + i·kw + j holds x[c, p·sh + i·dh − ph, q·sw + j·dw − pw], or 0.
let private referenceUnfold (x: float[]) (planes: int) (h: int) (w: int) (kh, kw) (sh, sw) (ph, pw) (dh, dw) =
    let ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1
    let out = Array.zeroCreate (planes * kh * kw * ho * wo)
    for c in 0 .. planes - 1 do
        for i in 0 .. kh - 1 do
            for j in 0 .. kw - 1 do
                for p in 0 .. ho - 1 do
                    for q in 0 .. wo - 1 do
                        let r, col = p * sh + i * dh - ph, q * sw + j * dw - pw
                        if r >= 0 && r < h && col >= 0 && col < w then
                            out.[(((c * kh + i) * kw + j) * ho + p) * wo + q] <- x.[(c * h + r) * w + col]
    out, ho, wo

/// Fold by its definition: the adjoint of unfold, each column entry added where unfold read it.
let private referenceFold (columns: float[]) (planes: int) (h: int) (w: int) (kh, kw) (sh, sw) (ph, pw) (dh, dw) =
    let ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1
    let out = Array.zeroCreate (planes * h * w)
    for c in 0 .. planes - 1 do
        for i in 0 .. kh - 1 do
            for j in 0 .. kw - 1 do
                for p in 0 .. ho - 1 do
                    for q in 0 .. wo - 1 do
                        let r, col = p * sh + i * dh - ph, q * sw + j * dw - pw
                        if r >= 0 && r < h && col >= 0 && col < w then
                            out.[(c * h + r) * w + col] <- out.[(c * h + r) * w + col] + columns.[(((c * kh + i) * kw + j) * ho + p) * wo + q]
    out

let private patchCase (name: string) (n: int) (c: int) (h: int) (w: int) kernel stride padding dilation =
    let (kh, kw), (sh, sw), (ph, pw), (dh, dw) = kernel, stride, padding, dilation
    let asArray (a, b) = [| a; b |]
    testList name [
        test "unfold" {
            let x = Array.init (n * c * h * w) (fun k -> float (k % 97) - 40.0)
            let expected, ho, wo = referenceUnfold x (n * c) h w kernel stride padding dilation
            // a target full of NaN: every element must be written
            let target = Array.create expected.Length Double.NaN
            Patches.unfoldInto (asArray kernel) (asArray stride) (asArray padding) (asArray dilation) (Tensor.FromArray(x, [| n; c; h; w |])) target
            Expect.sequenceEqual target expected "unfold"
            Expect.equal expected.Length (n * c * kh * kw * ho * wo) "size"
        }
        test "fold" {
            let _, ho, wo = referenceUnfold (Array.zeroCreate (n * c * h * w)) (n * c) h w kernel stride padding dilation
            // small integers: every sum is exact, whatever the order of the additions
            let columns = Array.init (n * c * kh * kw * ho * wo) (fun k -> float (k % 89) - 30.0)
            let expected = referenceFold columns (n * c) h w kernel stride padding dilation
            let target = Array.create expected.Length Double.NaN
            Patches.foldInto [| h; w |] (asArray kernel) (asArray stride) (asArray padding) (asArray dilation)
                             (Tensor.FromArray(columns, [| n; c * kh * kw; ho * wo |])) target
            Expect.sequenceEqual target expected "fold"
        }
    ]

[<Tests>]
let tests =
    testList "Pooling kernels" [
        testList "argmax lanes" [
            for dtype in [ DType.Float64; DType.Float32 ] do
                // inner lengths below, at and beyond a vector's width, with a tail
                for outer, reduced, inner in [ 3, 4, 1; 2, 4, 3; 5, 4, 8; 4, 9, 19; 2, 25, 144; 3, 1, 16 ] do
                    yield argmaxCase dtype outer reduced inner (outer * 1000 + reduced * 100 + inner)
        ]
        testList "unfold and fold against their definitions" [
            patchCase "LeNet's second convolution: kernel 5, runs of 8" 2 3 12 12 (5, 5) (1, 1) (0, 0) (1, 1)
            patchCase "pooling windows that tile the input: kernel 2, stride 2" 2 3 24 24 (2, 2) (2, 2) (0, 0) (1, 1)
            patchCase "tiling with an uneven kernel (2, 3)" 1 2 4 9 (2, 3) (2, 3) (0, 0) (1, 1)
            patchCase "windows that leave the last row and column out" 1 2 5 7 (2, 2) (2, 2) (0, 0) (1, 1)
            patchCase "padding, stride and dilation" 1 2 9 11 (3, 2) (2, 3) (1, 1) (2, 1)
            patchCase "long runs with padding 1" 1 2 6 34 (3, 3) (1, 1) (1, 1) (1, 1)
        ]
        test "max pool's gradient reaches each window's winner by a mask, with no scatter-add, and equals a loop over the windows" {
            // 2×2 windows that tile a [2, 3, 8, 8] input; ties and a −∞ window among the values
            let random = Random 41
            let data = Array.init (2 * 3 * 8 * 8) (fun i -> if i % 29 = 0 then Double.NegativeInfinity else float (random.Next 5))
            let x = Expr.variable "x" [| 2; 3; 8; 8 |] DType.Float64
            let weights = Array.init (2 * 3 * 4 * 4) (fun i -> 0.5 + float i)
            let gradient =
                Diff.grad (fun v ->
                    Expr.sum (Convolution.maxPool2d (2, 2) (0, 0) (0, 0) (1, 1) v * Expr.constant (Tensor.FromArray(weights, [| 2; 3; 4; 4 |])))) x
            let plan = Planner.compile [| x |] [| gradient |] true
            let scatters =
                plan.Steps |> Array.filter (fun step ->
                    match step with
                    | Step.Write(node, _, _) | Step.Kernel(node, _, _) -> OpName.name node.Op = "scatter_add"
                    | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _
                    | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> false)
            Expect.equal scatters.Length 0 "no scatter-add in the gradient"
            let ours = (plan.Run([| Tensor.FromArray(data, [| 2; 3; 8; 8 |]) |], null)).[0].ToDoubleArray()
            // torch's winner: the first largest entry of the window in row-major order (an all −∞ window: its first)
            let expected = Array.zeroCreate data.Length
            for n in 0 .. 1 do
                for c in 0 .. 2 do
                    for i in 0 .. 3 do
                        for j in 0 .. 3 do
                            let at (a: int) (b: int) = ((n * 3 + c) * 8 + 2 * i + a) * 8 + 2 * j + b
                            let mutable best = at 0 0
                            for a, b in [ 0, 1; 1, 0; 1, 1 ] do
                                if data.[at a b] > data.[best] then best <- at a b
                            expected.[best] <- weights.[((n * 3 + c) * 4 + i) * 4 + j]
            Expect.equal ours expected "the weight of each window at its winner, 0 elsewhere"
        }
    ]
