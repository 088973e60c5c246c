/// Cholesky and the triangular solve compute float32 inputs in float32 (as torch does). Their
/// accuracy is bounded here by the textbook backward-error results for these algorithms, checked
/// in float64 by reference loops: for the Cholesky factor L of A, |A - L Lᵀ| <= γ(n+1) |L| |Lᵀ|
/// elementwise, and for the solution x of T x = b, |b - T x| <= γ(n) |T| |x| elementwise, with
/// γ(m) = m u / (1 - m u) and u the unit roundoff of float32 (Higham, Accuracy and Stability of
/// Numerical Algorithms, theorems 10.3 and 8.5). Sizes cross the 64-column blocks of the kernels.
module FunctionalDiff.Core.Tests.LinalgFloat32Tests

open System
open Expecto
open FunctionalDiff.Core

let private unitRoundoff = float (MathF.BitIncrement 1.0f - 1.0f) / 2.0
let private gamma (m: int) = float m * unitRoundoff / (1.0 - float m * unitRoundoff)

/// The float32 values of a tensor, as float64.
let private values (t: Tensor) = (t.Cast DType.Float32).ToDoubleArray()

/// x xᵀ + n I for a seeded normal x, rounded to float32.
let private spd (seed: int) (n: int) =
    let random = Random(seed)
    let x = Array.init (n * n) (fun _ -> random.NextDouble() * 2.0 - 1.0)
    let a = Array.init (n * n) (fun p ->
        let i, j = p / n, p % n
        let mutable s = if i = j then float n else 0.0
        for q in 0 .. n - 1 do s <- s + x.[i * n + q] * x.[j * n + q]
        s)
    Tensor.FromArray(a, [| n; n |]).Cast DType.Float32

/// A float32 triangle (lower or upper) with entries in [-1, 1] and diagonal entries in [1, 2].
let private triangle (seed: int) (n: int) (upper: bool) =
    let random = Random(seed)
    let t = Array.init (n * n) (fun p ->
        let i, j = p / n, p % n
        if i = j then 1.0 + random.NextDouble()
        elif (j > i) = upper then random.NextDouble() * 2.0 - 1.0
        else 0.0)
    Tensor.FromArray(t, [| n; n |]).Cast DType.Float32

let private choleskyBound (n: int) =
    test (sprintf "cholesky float32 n=%d: |A - L Lᵀ| <= γ(n+1) |L| |Lᵀ| and L lower" n) {
        let a = spd (40 + n) n
        let l = LinalgTensors.cholesky a
        Expect.equal l.DType DType.Float32 "the factor keeps float32"
        let a, l = values a, values l
        for i in 0 .. n - 1 do
            for j in i + 1 .. n - 1 do
                Expect.equal l.[i * n + j] 0.0 (sprintf "upper entry (%d, %d) is zero" i j)
            for j in 0 .. i do
                let mutable product, magnitude = 0.0, 0.0
                for q in 0 .. n - 1 do
                    product <- product + l.[i * n + q] * l.[j * n + q]
                    magnitude <- magnitude + abs l.[i * n + q] * abs l.[j * n + q]
                let residual = abs (a.[i * n + j] - product)
                if residual > gamma (n + 1) * magnitude then
                    failtestf "entry (%d, %d): |A - L Lᵀ| = %g exceeds γ(n+1) |L||Lᵀ| = %g" i j residual (gamma (n + 1) * magnitude)
    }

/// T X = B (left) or X T = B (right) for k right-hand sides; each solution row or column is
/// checked against its own equations.
let private solveBound (n: int) (k: int) (upper: bool) (left: bool) =
    test (sprintf "solveTriangular float32 n=%d k=%d %s %s: |b - T x| <= γ(n) |T| |x|" n k (if upper then "upper" else "lower") (if left then "left" else "right")) {
        let t = triangle (7 * n + k) n upper
        let random = Random(n + 3 * k)
        let bShape = if left then [| n; k |] else [| k; n |]
        let b = Tensor.FromArray(Array.init (n * k) (fun _ -> random.NextDouble() * 2.0 - 1.0), bShape).Cast DType.Float32
        let x = LinalgTensors.solveTriangular upper left false t b
        Expect.equal x.DType DType.Float32 "the solution keeps float32"
        let t, b, x = values t, values b, values x
        // element (i, c) of the c-th system: row i of T against column c of X (left), or
        // column i of T against row c of X (right: X T = B is Tᵀ Xᵀ = Bᵀ)
        let tAt i q = if left then t.[i * n + q] else t.[q * n + i]
        let xAt q c = if left then x.[q * k + c] else x.[c * n + q]
        let bAt i c = if left then b.[i * k + c] else b.[c * n + i]
        for c in 0 .. k - 1 do
            for i in 0 .. n - 1 do
                let mutable product, magnitude = 0.0, 0.0
                for q in 0 .. n - 1 do
                    product <- product + tAt i q * xAt q c
                    magnitude <- magnitude + abs (tAt i q) * abs (xAt q c)
                let residual = abs (bAt i c - product)
                if residual > gamma n * magnitude then
                    failtestf "system %d, equation %d: |b - T x| = %g exceeds γ(n) |T||x| = %g" c i residual (gamma n * magnitude)
    }

[<Tests>]
let tests =
    testList "Linalg float32 accuracy" [
        testList "cholesky" [ for n in [ 1; 5; 64; 65; 150 ] -> choleskyBound n ]
        testList "solveTriangular" [
            for n, k in [ 1, 1; 7, 1; 70, 1; 7, 3; 70, 5; 150, 20 ] do
                for upper in [ false; true ] do
                    for left in [ true; false ] do
                        yield solveBound n k upper left ]
    ]
