/// The F# names of what the C# facade gained for torch and JAX users (ClientThreeApiTests.cs):
/// Structure.maxWithIndices/minWithIndices, Expr.onesLike, Tensor.ZerosLike/OnesLike, Diff.hessianN
/// and Optimizers.clipGradNorm, each against a loop, a closed form or central differences here.
module FunctionalDiff.Core.Tests.ClientThreeCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private plainLoss (w: float[]) (b: float[]) (x: float[]) =
    // Σ_n Σ_j (j + 1) sin(x_n · w_j + b_j)·x_n0, with w [2; 2] and x [3; 2]
    let mutable total = 0.0
    for n in 0 .. 2 do
        for j in 0 .. 1 do
            let z = b.[j] + x.[n * 2] * w.[j] + x.[n * 2 + 1] * w.[2 + j]
            total <- total + float (j + 1) * sin z * x.[n * 2]
    total

[<Tests>]
let tests =
    testList "client three (F# names)" [
        test "maxWithIndices and minWithIndices: torch.max(dim) with the first index among ties, the cotangent to it" {
            let data = [| 2.0; 1.0; 2.0; -1.0; 0.5; 4.0 |]
            let x = Expr.constant (Tensor.FromArray(data, [| 2; 3 |]))
            let values, indices = Structure.maxWithIndices 1 false x
            Expect.equal (GraphTestSupport.values values) [| 2.0; 4.0 |] "max values"
            Expect.equal (GraphTestSupport.values indices) [| 0.0; 2.0 |] "first index among ties"
            let lows, lowIndices = Structure.minWithIndices -1 true x
            Expect.equal lows.Dims [| 2; 1 |] "keepDims"
            Expect.equal (GraphTestSupport.values lows) [| 1.0; -1.0 |] "min values"
            Expect.equal (GraphTestSupport.values lowIndices) [| 1.0; 0.0 |] "min indices"
            let g = Diff.grad (fun v -> Expr.sum (fst (Structure.maxWithIndices 1 false v))) x
            Expect.equal (GraphTestSupport.values g) [| 1.0; 0.0; 0.0; 0.0; 0.0; 1.0 |] "one-hot at the picked entry"
        }

        test "onesLike, ZerosLike and OnesLike keep shape and dtype and are constants" {
            let t = Tensor.FromArray([| 1.0f; 2.0f; 3.0f |], [| 3; 1 |])
            for like, value in [ Tensor.ZerosLike t, 0.0; Tensor.OnesLike t, 1.0 ] do
                Expect.equal like.Shape [| 3; 1 |] "shape"
                Expect.equal like.DType DType.Float32 "dtype"
                Expect.all (like.ToDoubleArray()) (fun v -> v = value) "values"
            let x = Expr.constant (Tensor.FromArray([| 0.5; -1.0 |], [| 2 |]))
            let g = Diff.grad (fun v -> Expr.sum (v * Expr.onesLike (v * v) * 3.0)) x
            Expect.equal (GraphTestSupport.values g) [| 3.0; 3.0 |] "no derivative through onesLike"
        }

        test "hessianN gives JAX's blocks, each against second central differences" {
            let xs = [| 0.3; -0.7; 1.1; 0.4; -0.2; 0.9 |]
            let w = Tensor.FromArray([| 0.2; -0.5; 0.8; 0.1 |], [| 2; 2 |])
            let b = Tensor.FromArray([| 0.05; -0.3 |], [| 2 |])
            let x = Expr.constant (Tensor.FromArray(xs, [| 3; 2 |]))
            let first = Expr.constant (Tensor.FromArray([| 0.3; 1.1; -0.2 |], [| 3; 1 |]))
            let scale = Expr.constant (Tensor.FromArray([| 1.0; 2.0 |], [| 2 |]))
            let loss (p: Expr list) = Expr.sum (Expr.sin (Expr.matmul x p.[0] + p.[1]) * scale * first)
            let blocks = Diff.hessianN loss [ Expr.constant w; Expr.constant b ]
            let flat = Array.append (w.ToDoubleArray()) (b.ToDoubleArray())
            let f (p: float[]) = plainLoss p.[0..3] p.[4..] xs
            let h = 1e-4
            let second i j =
                let at si sj =
                    let p = Array.copy flat
                    p.[i] <- p.[i] + si * h
                    p.[j] <- p.[j] + sj * h
                    f p
                (at 1.0 1.0 - at 1.0 -1.0 - at -1.0 1.0 + at -1.0 -1.0) / (4.0 * h * h)
            let start, size = [| 0; 4 |], [| 4; 2 |]
            blocks |> List.iteri (fun bi row ->
                row |> List.iteri (fun bj (block: Expr) ->
                    let expected = Array.init (size.[bi] * size.[bj]) (fun k -> second (start.[bi] + k / size.[bj]) (start.[bj] + k % size.[bj]))
                    expectClose 1e-6 (GraphTestSupport.values block) expected (sprintf "block %d,%d" bi bj)))
            Expect.equal blocks.[0].[1].Dims [| 2; 2; 2 |] "block shape (w @ b)"
        }

        test "clipGradNorm: torch's factor max/(norm + 1e-6) capped at 1, over the norm of the norms" {
            let a = Tensor.FromArray([| 3.0; 0.0 |], [| 2 |])
            let b = Tensor.FromArray([| 0.0; 4.0; 12.0 |], [| 3 |])
            let clipped, norm = Optimizers.clipGradNorm 2.0 [| a; b |]
            // the norm of the per-tensor norms 3 and √160, as torch groups it (√169 up to its rounding)
            let reference = sqrt (3.0 * 3.0 + sqrt 160.0 * sqrt 160.0)
            Expect.equal norm reference "the norm of the norms"
            expectClose 1e-15 [| norm |] [| 13.0 |] "sqrt(9 + 16 + 144)"
            let factor = 2.0 / (reference + 1e-6)
            Expect.equal (clipped.[0].ToDoubleArray()) [| 3.0 * factor; 0.0 |] "a scaled"
            Expect.equal (clipped.[1].ToDoubleArray()) [| 0.0; 4.0 * factor; 12.0 * factor |] "b scaled"
            let kept, _ = Optimizers.clipGradNorm 100.0 [| a; b |]
            Expect.equal (kept.[1].ToDoubleArray()) (b.ToDoubleArray()) "a factor of 1 leaves them"
        }
    
        test "TensorMath.allClose: torch.allclose with broadcasting, equal infinities close, NaN only with equalNan" {
            let v (xs: float[]) = Tensor.FromArray(xs, [| xs.Length |])
            Expect.isTrue (TensorMath.allClose 1e-5 1e-8 false (v [| 1.0; 2.0 |]) (v [| 1.0 + 1e-6; 2.0 |])) "within rtol"
            Expect.isFalse (TensorMath.allClose 1e-5 1e-8 false (v [| 1.0; 2.0 |]) (v [| 1.0 + 1e-4; 2.0 |])) "outside rtol"
            Expect.isTrue (TensorMath.allClose 0.0 0.0 false (v [| infinity |]) (v [| infinity |])) "equal infinities"
            Expect.isFalse (TensorMath.allClose 1e-5 1e-8 false (v [| nan |]) (v [| nan |])) "NaN"
            Expect.isTrue (TensorMath.allClose 1e-5 1e-8 true (v [| nan |]) (v [| nan |])) "NaN with equalNan"
            Expect.isTrue (TensorMath.allClose 0.0 0.0 false (Tensor.FromArray([| 1.0; 1.0 |], [| 2; 1 |])) (v [| 1.0; 1.0; 1.0 |])) "broadcast"
        }
    ]
