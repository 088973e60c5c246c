/// A tensor unpacked into slices (a flat parameter vector cut into weights, gates cut from one
/// product) receives one cotangent per slice, each zero outside its slice. The reverse walk joins
/// such contributions once it reaches the tensor: pieces on disjoint ranges of one axis into one
/// concatenation (overlapping ones in layers of disjoint pieces), instead of zero-padding each to
/// the full size and summing the pads. These tests hold the gradients to
/// closed forms (disjoint slices with gaps, out of order, overlapping ones, a second derivative)
/// and count the graph's pads and sums.
module FunctionalDiff.Core.Tests.SliceFanInTests

open System
open Expecto
open FunctionalDiff.Core

let private ops (root: Expr) (op: Op -> bool) =
    Graph.topologicalOrder [ root ] |> Array.filter (fun e -> op e.Op) |> Array.length

let private isPad (op: Op) = match op with Op.Pad _ -> true | _ -> false
let private isAdd (op: Op) = match op with Op.Binary BinaryOp.Add -> true | _ -> false
let private isConcat (op: Op) = match op with Op.Concat _ -> true | _ -> false

[<Tests>]
let tests =
    testList "slice fan-in" [
        test "disjoint slices with gaps, taken out of order: cos on each slice, its weight, 0 in the gaps" {
            // f(p) = Σ_i w_i Σ_{j in slice i} sin p_j over slices [6, 9), [0, 2), [3, 5) of 10 entries
            let slices = [ 6, 9, 3.0; 0, 2, -2.0; 3, 5, 0.5 ]
            let values = Array.init 10 (fun j -> 0.1 * float j - 0.4)
            let f (p: Expr) =
                slices |> List.map (fun (a, b, w) -> Expr.sum (Expr.sin (Expr.sliceAxis 0 a b p)) * w) |> List.reduce (+)
            let p = Expr.variable "p" [| 10 |] DType.Float64
            let g = Diff.grad f p
            let result = (Eval.evalWith [ p, Tensor.FromArray(values, [| 10 |]) ] g).ToDoubleArray()
            let expected = Array.init 10 (fun j ->
                match slices |> List.tryFind (fun (a, b, _) -> a <= j && j < b) with
                | Some(_, _, w) -> w * Math.Cos values.[j]
                | None -> 0.0)
            for j in 0 .. 9 do
                Expect.floatClose Accuracy.veryHigh result.[j] expected.[j] (sprintf "entry %d" j)
            // one concatenation of the three pieces and the zeros between them: no pad, no sum of pads
            Expect.equal (ops g isPad) 0 "pads in the gradient"
            Expect.equal (ops g (fun op -> match op with Op.Concat _ -> true | _ -> false)) 1 "concatenations in the gradient"
        }
        test "overlapping slices are summed where they overlap" {
            // f(p) = Σ_{j<6} p_j² + 3 Σ_{4<=j<8} p_j: the gradient is 2p_j, plus 3 on [4, 8)
            let values = Array.init 8 (fun j -> float j - 2.5)
            let f (p: Expr) = Expr.sum (Expr.square (Expr.sliceAxis 0 0 6 p)) + Expr.sum (Expr.sliceAxis 0 4 8 p) * 3.0
            let p = Expr.variable "p" [| 8 |] DType.Float64
            let result = (Eval.evalWith [ p, Tensor.FromArray(values, [| 8 |]) ] (Diff.grad f p)).ToDoubleArray()
            for j in 0 .. 7 do
                let expected = (if j < 6 then 2.0 * values.[j] else 0.0) + (if j >= 4 then 3.0 else 0.0)
                Expect.floatClose Accuracy.veryHigh result.[j] expected (sprintf "entry %d" j)
        }
        test "slices of a matrix's columns, and the Hessian through them" {
            // f(P) = Σ_rows (P[:, 0:2] · a)·(P[:, 2:3])³ for P of 3 × 3: the gradient and the
            // Hessian-vector product against closed forms
            let a = [| 1.5; -0.5 |]
            let values = Array.init 9 (fun k -> 0.3 * float k - 1.0)
            let f (p: Expr) =
                let left = Expr.sliceAxis 1 0 2 p
                let right = Expr.sliceAxis 1 2 3 p
                Expr.sum (Expr.sum (left * Expr.constant (Tensor.FromArray(a, [| 1; 2 |]))) * Expr.sum (right * right * right))
            let p = Expr.variable "p" [| 3; 3 |] DType.Float64
            let v = Array.init 9 (fun k -> float (k % 4) - 1.0)
            let bind = [ p, Tensor.FromArray(values, [| 3; 3 |]) ]
            let g = (Eval.evalWith bind (Diff.grad f p)).ToDoubleArray()
            let hv = (Eval.evalWith bind (Diff.hvp f p (Expr.constant (Tensor.FromArray(v, [| 3; 3 |]))))).ToDoubleArray()
            // L = Σ_i (a0 P_i0 + a1 P_i1), C = Σ_i P_i2³; f = L·C
            let at i j = values.[3 * i + j]
            let l = Seq.sum (seq { for i in 0 .. 2 -> a.[0] * at i 0 + a.[1] * at i 1 })
            let c = Seq.sum (seq { for i in 0 .. 2 -> Math.Pow(at i 2, 3.0) })
            for i in 0 .. 2 do
                Expect.floatClose Accuracy.veryHigh g.[3 * i] (a.[0] * c) "∂f/∂P_i0"
                Expect.floatClose Accuracy.veryHigh g.[3 * i + 1] (a.[1] * c) "∂f/∂P_i1"
                Expect.floatClose Accuracy.veryHigh g.[3 * i + 2] (3.0 * at i 2 * at i 2 * l) "∂f/∂P_i2"
            // H v: ∂L·v = Σ_i a·v_i[0:2], ∂C·v = Σ_i 3 P_i2² v_i2
            let vl = Seq.sum (seq { for i in 0 .. 2 -> a.[0] * v.[3 * i] + a.[1] * v.[3 * i + 1] })
            let vc = Seq.sum (seq { for i in 0 .. 2 -> 3.0 * at i 2 * at i 2 * v.[3 * i + 2] })
            for i in 0 .. 2 do
                Expect.floatClose Accuracy.veryHigh hv.[3 * i] (a.[0] * vc) "(Hv)_i0"
                Expect.floatClose Accuracy.veryHigh hv.[3 * i + 1] (a.[1] * vc) "(Hv)_i1"
                Expect.floatClose Accuracy.veryHigh hv.[3 * i + 2] (6.0 * at i 2 * v.[3 * i + 2] * l + 3.0 * at i 2 * at i 2 * vl) "(Hv)_i2"
        }
    ]

[<Tests>]
let scale =
    testList "slice fan-in at scale" [
        test "a vector cut into 3,000 one-entry slices: cos of each entry, one concatenation of every piece" {
            // f(x) = Σ_i sin(x_i), each x_i a slice of its own: the pieces wait until the walk reaches
            // x and are joined there once, into one concatenation of 3,000 pieces. Joined as they
            // arrived, they made concatenations of 1, 2, ..., 3,000 pieces (1.3 GB here); joined 32 at
            // a time and the joins padded and summed, 94 tensors of x's size
            let n = 3000
            let values = Array.init n (fun i -> 0.001 * float i - 1.0)
            let f (x: Expr) = List.init n (fun i -> Expr.sin (Expr.sliceAxis 0 i (i + 1) x)) |> List.reduce (+) |> Expr.sum
            let x = Expr.variable "x" [| n |] DType.Float64
            let before = GC.GetAllocatedBytesForCurrentThread()
            let g = Diff.grad f x
            let allocated = GC.GetAllocatedBytesForCurrentThread() - before
            Expect.isLessThan allocated (5_000L * int64 n) (sprintf "%d bytes allocated for %d slices" allocated n)
            let edges = Graph.topologicalOrder [ g ] |> Array.sumBy (fun e -> e.Inputs.Length)
            Expect.isLessThan edges (6 * n) (sprintf "%d edges for %d slices" edges n)
            Expect.equal (ops g isPad) 0 "no pullback padded to x's size"
            Expect.equal (ops g isConcat) 1 "one concatenation"
            let result = (Eval.evalWith [ x, Tensor.FromArray(values, [| n |]) ] g).ToDoubleArray()
            for i in 0 .. n - 1 do
                Expect.floatClose Accuracy.veryHigh result.[i] (Math.Cos values.[i]) (sprintf "entry %d" i)
        }

        test "1,000 overlapping windows of width 3: three layers of disjoint pieces, summed" {
            // f(x) = Σ_i w_i Σ_{j in [i, i+3)} sin x_j: entry j's derivative is cos x_j times the sum
            // of the weights of the windows over it. Windows that overlap cannot share a concatenation;
            // each goes to the first layer it does not overlap, so three layers hold them all
            let n = 1002
            let windows = n - 2
            let weight (i: int) = 1.0 + 0.01 * float (i % 7)
            let values = Array.init n (fun i -> 0.002 * float i - 1.0)
            let f (x: Expr) =
                List.init windows (fun i -> Expr.sum (Expr.sin (Expr.sliceAxis 0 i (i + 3) x)) * weight i) |> List.reduce (+)
            let x = Expr.variable "x" [| n |] DType.Float64
            let g = Diff.grad f x
            Expect.equal (ops g isPad) 0 "no pullback padded to x's size"
            Expect.equal (ops g isConcat) 3 "one concatenation per layer"
            let result = (Eval.evalWith [ x, Tensor.FromArray(values, [| n |]) ] g).ToDoubleArray()
            for j in 0 .. n - 1 do
                let mutable weights = 0.0
                for i in max 0 (j - 2) .. min (windows - 1) j do
                    weights <- weights + weight i
                Expect.floatClose Accuracy.veryHigh result.[j] (Math.Cos values.[j] * weights) (sprintf "entry %d" j)
        }

        test "slices of a matrix along rows and along columns: one axis joins, the other is summed in" {
            // f(p) = Σ sin p[0, :] + Σ p[2, :]² + 3 Σ p[:, 1] over a 3×4 matrix: row slices are pieces
            // along axis 0, the column slice is zero outside a range of axis 1, so it joins the sum
            let p = Expr.variable "p" [| 3; 4 |] DType.Float64
            let values = Array.init 12 (fun i -> 0.3 * float i - 1.5)
            let f (m: Expr) =
                Expr.sum (Expr.sin (Expr.sliceAxis 0 0 1 m)) + Expr.sum (Expr.square (Expr.sliceAxis 0 2 3 m))
                + Expr.sum (Expr.sliceAxis 1 1 2 m) * 3.0
            let g = Diff.grad f p
            let result = (Eval.evalWith [ p, Tensor.FromArray(values, [| 3; 4 |]) ] g).ToDoubleArray()
            for r in 0 .. 2 do
                for c in 0 .. 3 do
                    let v = values.[4 * r + c]
                    let expected = (if r = 0 then Math.Cos v else 0.0) + (if r = 2 then 2.0 * v else 0.0) + (if c = 1 then 3.0 else 0.0)
                    Expect.floatClose Accuracy.veryHigh result.[4 * r + c] expected (sprintf "entry (%d, %d)" r c)
        }
    ]
