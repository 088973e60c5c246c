/// The LU ops (solve, inverse, slogdet, det) compute float32 inputs in float32, as torch does. Their
/// accuracy is checked in float64 against a Gaussian elimination with partial pivoting written here:
/// the residual by the normwise backward-error bound of LU with partial pivoting,
/// |b - A x| <= γ(3n) ρ |A| |x| (Higham, Accuracy and Stability of Numerical Algorithms, theorem
/// 9.5, normwise in the ∞-norm with growth factor ρ, taken as 4: these diagonally dominant matrices
/// keep it near 1), and the solution and log|det| against the float64 reference within
/// κ∞(A) times that backward error. Sizes 1 to 150.
module FunctionalDiff.Core.Tests.LinalgLuFloat32Tests

open System
open Expecto
open FunctionalDiff.Core

let private unitRoundoff = float (MathF.BitIncrement 1.0f - 1.0f) / 2.0
let private gamma (m: int) = float m * unitRoundoff / (1.0 - float m * unitRoundoff)
let private growth = 4.0

/// A float32 matrix with entries in [-1, 1] plus 2·sqrt(n) on the diagonal (well conditioned, and
/// with negative diagonal entries in some rows so the determinant's sign varies), as float64 values.
let private matrix (seed: int) (n: int) =
    let random = Random(seed)
    Array.init (n * n) (fun p ->
        let v = random.NextDouble() * 2.0 - 1.0
        let diagonal = if p / n = p % n then (if (p / n) % 3 = 2 then -2.0 else 2.0) * sqrt (float n) else 0.0
        float (float32 (v + diagonal)))

let private toTensor (shape: int[]) (values: float[]) = Tensor.FromArray(values, shape).Cast DType.Float32

/// Gaussian elimination with partial pivoting in float64: the solution of A X = B (n × k) and
/// log|det A| with det A's sign.
let private reference (a: float[]) (b: float[]) (n: int) (k: int) =
    let a, x = Array.copy a, Array.copy b
    let mutable sign, logAbs = 1.0, 0.0
    for j in 0 .. n - 1 do
        let mutable best = j
        for i in j + 1 .. n - 1 do
            if abs a.[i * n + j] > abs a.[best * n + j] then best <- i
        if best <> j then
            sign <- -sign
            for c in 0 .. n - 1 do
                let t = a.[j * n + c] in a.[j * n + c] <- a.[best * n + c]; a.[best * n + c] <- t
            for c in 0 .. k - 1 do
                let t = x.[j * k + c] in x.[j * k + c] <- x.[best * k + c]; x.[best * k + c] <- t
        let pivot = a.[j * n + j]
        if pivot < 0.0 then sign <- -sign
        logAbs <- logAbs + log (abs pivot)
        for i in j + 1 .. n - 1 do
            let f = a.[i * n + j] / pivot
            for c in j .. n - 1 do a.[i * n + c] <- a.[i * n + c] - f * a.[j * n + c]
            for c in 0 .. k - 1 do x.[i * k + c] <- x.[i * k + c] - f * x.[j * k + c]
    for i in n - 1 .. -1 .. 0 do
        for c in 0 .. k - 1 do
            let mutable s = x.[i * k + c]
            for q in i + 1 .. n - 1 do s <- s - a.[i * n + q] * x.[q * k + c]
            x.[i * k + c] <- s / a.[i * n + i]
    x, sign, logAbs

let private normInf (a: float[]) (rows: int) (columns: int) =
    Seq.max (seq { for i in 0 .. rows - 1 -> Seq.sum (seq { for c in 0 .. columns - 1 -> abs a.[i * columns + c] }) })

/// ‖A⁻¹‖∞ from the reference solve with B = I.
let private inverseNorm (a: float[]) (n: int) =
    let identity = Array.init (n * n) (fun p -> if p / n = p % n then 1.0 else 0.0)
    let inverse, _, _ = reference a identity n n
    normInf inverse n n

let private solveCase (n: int) (k: int) =
    test (sprintf "solve float32 n=%d k=%d: residual and error against float64 elimination" n k) {
        let a = matrix (11 * n + k) n
        let random = Random(n + 5 * k)
        let b = Array.init (n * k) (fun _ -> float (float32 (random.NextDouble() * 2.0 - 1.0)))
        let x = LinalgTensors.solve (toTensor [| n; n |] a) (toTensor [| n; k |] b)
        Expect.equal x.DType DType.Float32 "the solution keeps float32"
        let x = x.ToDoubleArray()
        let normA = normInf a n n
        let exact, _, _ = reference a b n k
        let kappa = normA * inverseNorm a n
        for c in 0 .. k - 1 do
            let column (v: float[]) = Array.init n (fun i -> v.[i * k + c])
            let xc, ec = column x, column exact
            let residual = Array.init n (fun i -> b.[i * k + c] - Seq.sum (seq { for q in 0 .. n - 1 -> a.[i * n + q] * xc.[q] }))
            let backward = gamma (3 * n) * growth * normA * normInf xc 1 n
            Expect.isLessThanOrEqual (normInf residual 1 n) backward (sprintf "column %d: ‖b - A x‖∞ <= γ(3n) ρ ‖A‖∞ ‖x‖∞" c)
            let error = normInf (Array.map2 (-) xc ec) 1 n / normInf ec 1 n
            // the forward error of a backward-stable solve, plus the rounding of the result to float32
            Expect.isLessThanOrEqual error (kappa * gamma (3 * n) * growth + unitRoundoff) (sprintf "column %d: relative error ‖x - x64‖∞ / ‖x64‖∞" c)
    }

let private inverseCase (n: int) =
    test (sprintf "inverse float32 n=%d: ‖A X - I‖∞ <= γ(3n) ρ ‖A‖∞ ‖X‖∞ per column" n) {
        let a = matrix (13 * n) n
        let inverse = Linalg.inverse (Expr.constant (toTensor [| n; n |] a)) |> Eval.eval
        Expect.equal inverse.DType DType.Float32 "the inverse keeps float32"
        let x = inverse.ToDoubleArray()
        let normA = normInf a n n
        for c in 0 .. n - 1 do
            let xc = Array.init n (fun i -> x.[i * n + c])
            let residual = Array.init n (fun i -> (if i = c then 1.0 else 0.0) - Seq.sum (seq { for q in 0 .. n - 1 -> a.[i * n + q] * xc.[q] }))
            Expect.isLessThanOrEqual (normInf residual 1 n) (gamma (3 * n) * growth * normA * normInf xc 1 n) (sprintf "column %d" c)
    }

let private slogdetCase (n: int) =
    test (sprintf "slogdet and det float32 n=%d: sign exact, log|det| within n κ γ(3n) ρ of float64 elimination" n) {
        let a = matrix (17 * n) n
        let packed = LinalgTensors.slogdet (toTensor [| n; n |] a)
        Expect.equal packed.DType DType.Float32 "slogdet keeps float32"
        let sign, logAbs = packed.ToDoubleArray().[0], packed.ToDoubleArray().[1]
        let _, sign64, logAbs64 = reference a (Array.zeroCreate n) n 1
        Expect.equal sign sign64 "the sign"
        // log|det(A + ΔA)| - log|det A| = tr(A⁻¹ ΔA) to first order, at most n ‖A⁻¹‖∞ ‖ΔA‖∞
        let bound = float n * inverseNorm a n * gamma (3 * n) * growth * normInf a n n + unitRoundoff * abs logAbs64
        Expect.isLessThanOrEqual (abs (logAbs - logAbs64)) bound "log|det|"
        // det = sign · exp(log|det|), compared where it fits in float32 (beyond, it is +-inf, as torch's)
        let det = (Linalg.det (Expr.constant (toTensor [| n; n |] a)) |> Eval.eval).ToDoubleArray().[0]
        let det64 = sign64 * exp logAbs64
        if abs det64 < 0.5 * float Single.MaxValue then
            Expect.isLessThanOrEqual (abs (det - det64)) (abs det64 * (exp bound - 1.0 + 4.0 * unitRoundoff)) "det"
    }

[<Tests>]
let tests =
    testList "Linalg float32 LU accuracy" [
        testList "solve" [ for n, k in [ 1, 1; 7, 1; 7, 3; 64, 2; 65, 1; 150, 4 ] -> solveCase n k ]
        testList "inverse" [ for n in [ 1; 5; 33; 100 ] -> inverseCase n ]
        testList "slogdet" [ for n in [ 1; 6; 40; 150 ] -> slogdetCase n ]
    ]
