/// The triangular solve reads its matrix where it lies when that is a transposed view (the factor
/// of a Cholesky solve, Lᵀ, is a permuted view of L) or a batch of them, instead of copying it.
/// Solutions through such views, in both dtypes, for one and several right-hand sides, left and
/// right, are bounded here by the backward error of the textbook algorithm, checked in float64 by
/// a reference loop over the view's own entries: |b - T x| <= γ(n) |T| |x| elementwise (Higham,
/// theorem 8.5), with γ(m) = m u / (1 - m u) for the dtype's unit roundoff u, plus the rounding of
/// the float64 check.
module FunctionalDiff.Core.Tests.LinalgLayoutTests

open System
open Expecto
open FunctionalDiff.Core

let private unitRoundoff (dtype: DType) =
    match dtype with
    | DType.Float32 -> float (MathF.BitIncrement 1.0f - 1.0f) / 2.0
    | DType.Float64 -> (Math.BitIncrement 1.0 - 1.0) / 2.0

let private gamma (dtype: DType) (m: int) = float m * unitRoundoff dtype / (1.0 - float m * unitRoundoff dtype)

/// `count` stored n×n triangles (lower or upper), entries in [-1, 1], diagonal in [1, 2].
let private triangles (seed: int) (count: int) (n: int) (lower: bool) (dtype: DType) =
    let random = Random(seed)
    let t = Array.init (count * n * n) (fun p ->
        let i, j = (p % (n * n)) / n, p % n
        if i = j then 1.0 + random.NextDouble()
        elif (j < i) = lower then random.NextDouble() * 2.0 - 1.0
        else 0.0)
    Tensor.FromArray(t, [| count; n; n |]).Cast dtype

/// Solves through the transpose view of stored lower triangles (so T is upper, read with swapped
/// strides), and checks every equation of every system against the bound.
let private transposedCase (dtype: DType) (count: int) (n: int) (k: int) (left: bool) =
    test (sprintf "%O: %d transposed %d×%d triangles, k = %d, %s" dtype count n n k (if left then "left" else "right")) {
        let stored = triangles (n * 31 + k) count n true dtype
        let t = Structural.permute [| 0; 2; 1 |] stored
        // (a 1×1 matrix's transpose is dense)
        Expect.equal t.IsContiguous (n = 1) "the matrix is a transposed view"
        let random = Random(n + 7 * k)
        let bShape = if left then [| count; n; k |] else [| count; k; n |]
        let b = Tensor.FromArray(Array.init (count * n * k) (fun _ -> random.NextDouble() * 2.0 - 1.0), bShape).Cast dtype
        let x = LinalgTensors.solveTriangular true left false t b
        // the view's entries, read from the stored triangles: T[i, q] = stored[q, i]
        let s, bs, xs = stored.ToDoubleArray(), b.ToDoubleArray(), x.ToDoubleArray()
        for m in 0 .. count - 1 do
            let tAt i q = s.[m * n * n + q * n + i]
            // X T = B is Tᵀ Xᵀ = Bᵀ: equation i of system c reads column i of T
            let coefficient i q = if left then tAt i q else tAt q i
            let xAt q c = if left then xs.[m * n * k + q * k + c] else xs.[m * n * k + c * n + q]
            let bAt i c = if left then bs.[m * n * k + i * k + c] else bs.[m * n * k + c * n + i]
            for c in 0 .. k - 1 do
                for i in 0 .. n - 1 do
                    let mutable product, magnitude = 0.0, 0.0
                    for q in 0 .. n - 1 do
                        product <- product + coefficient i q * xAt q c
                        magnitude <- magnitude + abs (coefficient i q) * abs (xAt q c)
                    let residual = abs (bAt i c - product)
                    // plus the rounding of this float64 check itself (which matters for float64 solutions)
                    let bound = gamma dtype n * magnitude + gamma DType.Float64 (n + 2) * (magnitude + abs (bAt i c))
                    if residual > bound then
                        failtestf "matrix %d, system %d, equation %d: |b - T x| = %g exceeds γ(n) |T||x| (and the check's rounding) = %g" m c i residual bound
    }

/// A compiled Cholesky solve, X = L⁻ᵀ(L⁻¹B) with L = cholesky(A), writes the factor and both
/// solutions into the plan's buffers: a run allocates far less than one n×n matrix (a fresh factor
/// per run would be a large-object array at this size), and its solution satisfies A X = B to
/// float64 accuracy (A is well conditioned: X Xᵀ + n I).
let private planCase (n: int) =
    test (sprintf "a compiled Cholesky solve at n = %d writes into the plan's buffers" n) {
        let random = Random(n)
        let x = Array.init (n * n) (fun _ -> random.NextDouble() * 2.0 - 1.0)
        let a = Array.init (n * n) (fun p ->
            let i, j = p / n, p % n
            let mutable s = if i = j then float n else 0.0
            for q in 0 .. n - 1 do s <- s + x.[i * n + q] * x.[j * n + q]
            s)
        let b = Array.init n (fun _ -> random.NextDouble() * 2.0 - 1.0)
        let av, bv = Expr.variable "a" [| n; n |] DType.Float64, Expr.variable "b" [| n; 1 |] DType.Float64
        let l = Linalg.cholesky av
        let solution = Linalg.solveTriangularWith (false, true, true, false) l (Linalg.solveTriangular false l bv)
        let plan = Planner.compile [| av; bv |] [| solution |] true
        let inputs = [| Tensor.FromArray(a, [| n; n |]); Tensor.FromArray(b, [| n; 1 |]) |]
        let result = (plan.Run(inputs, null)).[0].ToDoubleArray()
        for i in 0 .. n - 1 do
            let mutable product = 0.0
            for q in 0 .. n - 1 do product <- product + a.[i * n + q] * result.[q]
            Expect.floatClose Accuracy.high product b.[i] (sprintf "equation %d of A X = B" i)
        let perRun = PlanMemoryTests.bytesPerCall (float (n * n * 8) / 4.0) (fun () -> plan.Run(inputs, null) |> ignore)
        Expect.isLessThan perRun (float (n * n * 8) / 4.0) "bytes allocated per run, against a quarter of one n×n float64 matrix"
    }

[<Tests>]
let tests =
    testList "Linalg layouts" [
        yield planCase 128
        for dtype in [ DType.Float64; DType.Float32 ] do
            // one right-hand side (column updates), several (blocked, across the 64-row blocks)
            for count, n, k in [ 1, 1, 1; 1, 9, 1; 2, 70, 1; 1, 9, 3; 2, 70, 4; 1, 150, 20 ] do
                for left in [ true; false ] do
                    yield transposedCase dtype count n k left
    ]
