/// The SVD and what is built on it (svdvals, pinv, lstsq, the 2-, −2- and nuclear norms): their
/// derivatives against central finite differences in float64 at first and second order, through
/// functions that do not depend on the singular vectors' signs; their values against the defining
/// identities (U diag(S) Vh = A with orthonormal U and V, Penrose's four conditions, the normal
/// equations) and closed forms; their errors.
module FunctionalDiff.Core.Tests.LinalgSvdTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private case name shapes f : RuleCase = { Name = name; Shapes = shapes; Domain = Normal; F = f }

/// Stacks outputs into one flat vector, so one inner product weighs them all.
let private all (parts: Expr list) = Expr.concat 0 [ for p in parts -> Expr.reshape [| -1 |] p ]

/// U diag(c) Vh for fixed weights c: sign-invariant, and it weighs every singular pair differently,
/// so the rotation terms of the rule (the 1/(s_j² − s_i²) quotients) are reached.
let private weighted (u: Expr) (vh: Expr) =
    let k = u.Dims.[u.Rank - 1]
    let c = Expr.constant (tensor [| k |] (Array.init k (fun i -> 0.5 + float i * 0.75 - float (i % 2) * 2.0)))
    Expr.matmul (u * c) vh

let private cases : RuleCase list =
    [ case "svdvals tall [4,3]" [ [| 4; 3 |] ] (fun xs -> Linalg.svdvals xs.[0])
      case "svdvals wide [2,5]" [ [| 2; 5 |] ] (fun xs -> Linalg.svdvals xs.[0])
      case "svdvals batched [2,3,3]" [ [| 2; 3; 3 |] ] (fun xs -> Linalg.svdvals xs.[0])
      case "svd tall [4,3]: S, U diag(c) Vh, U Uᵀ, VhᵀVh" [ [| 4; 3 |] ] (fun xs ->
          let u, s, vh = Linalg.svd xs.[0]
          all [ s; weighted u vh; Expr.matmul u (Expr.transpose u); Expr.matmul (Expr.transpose vh) vh ])
      case "svd wide [3,5]: S, U diag(c) Vh, U Uᵀ, VhᵀVh" [ [| 3; 5 |] ] (fun xs ->
          let u, s, vh = Linalg.svd xs.[0]
          all [ s; weighted u vh; Expr.matmul u (Expr.transpose u); Expr.matmul (Expr.transpose vh) vh ])
      case "svd square batched [2,3,3]: U² and Vh² (sign-free)" [ [| 2; 3; 3 |] ] (fun xs ->
          let u, _, vh = Linalg.svd xs.[0]
          all [ u * u; vh * vh ])
      case "svd tall [5,2], U alone (U Uᵀ)" [ [| 5; 2 |] ] (fun xs ->
          let u, _, _ = Linalg.svd xs.[0]
          Expr.matmul u (Expr.transpose u))
      case "svd wide [2,4], Vh alone (VhᵀVh)" [ [| 2; 4 |] ] (fun xs ->
          let _, _, vh = Linalg.svd xs.[0]
          Expr.matmul (Expr.transpose vh) vh)
      case "pinv tall [4,3]" [ [| 4; 3 |] ] (fun xs -> Linalg.pinv xs.[0])
      case "pinv wide [2,4]" [ [| 2; 4 |] ] (fun xs -> Linalg.pinv xs.[0])
      case "pinv batched square [2,3,3]" [ [| 2; 3; 3 |] ] (fun xs -> Linalg.pinv xs.[0])
      case "lstsq tall [5,3] [5,2]" [ [| 5; 3 |]; [| 5; 2 |] ] (fun xs -> Linalg.lstsq xs.[0] xs.[1])
      case "lstsq wide [2,4] [2,3] (least norm)" [ [| 2; 4 |]; [| 2; 3 |] ] (fun xs -> Linalg.lstsq xs.[0] xs.[1])
      case "matrix norm 2 [4,3]" [ [| 4; 3 |] ] (fun xs -> Linalg.spectralNorm false xs.[0])
      case "matrix norm −2 [3,4]" [ [| 3; 4 |] ] (fun xs -> Linalg.smallestSingularValue false xs.[0])
      case "nuclear norm batched [2,3,4]" [ [| 2; 3; 4 |] ] (fun xs -> Linalg.nuclearNorm true xs.[0]) ]

/// A plain triple loop, the reference product.
let private multiply (a: float[]) (b: float[]) (m: int) (k: int) (n: int) =
    Array.init (m * n) (fun index ->
        let i, j = index / n, index % n
        Seq.sum (seq { for p in 0 .. k - 1 -> a.[i * k + p] * b.[p * n + j] }))

let private transposed (a: float[]) (m: int) (n: int) = Array.init (m * n) (fun index -> a.[(index % m) * n + index / m])

let private eye n = Array.init (n * n) (fun i -> if i / n = i % n then 1.0 else 0.0)

/// X with A X = B for a regular n×n A by Gaussian elimination with partial pivoting, the reference solve.
let private gaussSolve (a: float[]) (b: float[]) (n: int) (k: int) =
    let a, b = Array.copy a, Array.copy b
    for j in 0 .. n - 1 do
        let p = [ j .. n - 1 ] |> List.maxBy (fun i -> abs a.[i * n + j])
        for c in 0 .. n - 1 do
            let t = a.[j * n + c] in a.[j * n + c] <- a.[p * n + c]; a.[p * n + c] <- t
        for c in 0 .. k - 1 do
            let t = b.[j * k + c] in b.[j * k + c] <- b.[p * k + c]; b.[p * k + c] <- t
        for i in j + 1 .. n - 1 do
            let f = a.[i * n + j] / a.[j * n + j]
            for c in j .. n - 1 do a.[i * n + c] <- a.[i * n + c] - f * a.[j * n + c]
            for c in 0 .. k - 1 do b.[i * k + c] <- b.[i * k + c] - f * b.[j * k + c]
    for j in n - 1 .. -1 .. 0 do
        for c in 0 .. k - 1 do
            let mutable sum = b.[j * k + c]
            for p in j + 1 .. n - 1 do sum <- sum - a.[j * n + p] * b.[p * k + c]
            b.[j * k + c] <- sum / a.[j * n + j]
    b

/// The largest eigenvalue of the symmetric positive semi-definite n×n M by power iteration, the
/// reference for σ₁² = λ_max(AᵀA).
let private powerIteration (m: float[]) (n: int) =
    let mutable x = Array.init n (fun i -> 1.0 + float i * 0.1)
    let mutable lambda = 0.0
    for _ in 1 .. 2000 do
        let y = multiply m x n n 1
        lambda <- sqrt (Array.sumBy (fun v -> v * v) y)
        x <- y |> Array.map (fun v -> v / lambda)
    lambda

/// U, S, Vh of a constant matrix as float arrays.
let private decompose (shape: int[]) (a: float[]) =
    let u, s, vh = Linalg.svd (constant (tensor shape a))
    values u, values s, values vh

let private identities =
    testList "values satisfy the defining identities" [
        for m, n in [ 1, 1; 4, 3; 3, 4; 7, 7; 30, 12; 12, 30; 60, 60 ] do
            test (sprintf "svd: U diag(S) Vh = A, UᵀU = I, Vh Vhᵀ = I, S descending, [%d,%d]" m n) {
                let k = min m n
                let a = (sample (Random(m * 100 + n)) Normal [| m; n |]).ToDoubleArray()
                let u, s, vh = decompose [| m; n |] a
                let us = u |> Array.mapi (fun index v -> v * s.[index % k])
                expectClose 1e-12 (multiply us vh m k n) a "U diag(S) Vh"
                expectClose 1e-12 (multiply (transposed u m k) u k m k) (eye k) "UᵀU"
                expectClose 1e-12 (multiply vh (transposed vh k n) k n k) (eye k) "Vh Vhᵀ"
                for i in 1 .. k - 1 do Expect.isLessThanOrEqual s.[i] s.[i - 1] "descending"
                Expect.isGreaterThanOrEqual s.[k - 1] 0.0 "non-negative"
                // σ₁² is the largest eigenvalue of AᵀA
                let gram = multiply (transposed a m n) a n m n
                expectClose 1e-9 [| s.[0] * s.[0] |] [| powerIteration gram n |] "σ₁² = λ_max(AᵀA)"
            }
        test "signs: each column of U has its largest-magnitude entry positive" {
            for m, n in [ 4, 3; 3, 5; 6, 6 ] do
                let k = min m n
                let u, _, _ = decompose [| m; n |] ((sample (Random(m + 7 * n)) Normal [| m; n |]).ToDoubleArray())
                for j in 0 .. k - 1 do
                    let column = Array.init m (fun i -> u.[i * k + j])
                    Expect.isGreaterThan (column |> Array.maxBy abs) 0.0 (sprintf "[%d,%d] column %d" m n j)
        }
        test "closed forms: a scaled permutation's singular values are its entries' magnitudes, sorted" {
            // rows of [0 0 −3 0; 2 0 0 0; 0 0.5 0 0]: singular values 3, 2, 0.5
            let a = [| 0.0; 0.0; -3.0; 0.0; 2.0; 0.0; 0.0; 0.0; 0.0; 0.5; 0.0; 0.0 |]
            expectClose 1e-15 (values (Linalg.svdvals (constant (tensor [| 3; 4 |] a)))) [| 3.0; 2.0; 0.5 |] "S"
            // [[1, 1], [0, 1]]: σ = (1 ± √5) / 2 in magnitude, the golden ratio and its inverse
            let golden = (1.0 + sqrt 5.0) / 2.0
            expectClose 1e-15 (values (Linalg.svdvals (constant (tensor [| 2; 2 |] [| 1.0; 1.0; 0.0; 1.0 |])))) [| golden; 1.0 / golden |] "S"
        }
        test "small singular values keep their digits: Q₁ diag(1, 1e-5, 1e-10) Q₂ᵀ" {
            // Householder reflections I − 2vvᵀ/vᵀv as the orthogonal factors
            let reflection (v: float[]) =
                let norm2 = Array.sumBy (fun x -> x * x) v
                Array.init 9 (fun index -> (if index / 3 = index % 3 then 1.0 else 0.0) - 2.0 * v.[index / 3] * v.[index % 3] / norm2)
            let q1, q2 = reflection [| 1.0; 2.0; -1.0 |], reflection [| 0.5; -1.0; 3.0 |]
            let sigma = [| 1.0; 1e-5; 1e-10 |]
            let a = multiply (q1 |> Array.mapi (fun index v -> v * sigma.[index % 3])) (transposed q2 3 3) 3 3 3
            let s = values (Linalg.svdvals (constant (tensor [| 3; 3 |] a)))
            for i in 0 .. 2 do expectClose 1e-15 [| s.[i] |] [| sigma.[i] |] (sprintf "σ%d to ε·σ₁" i)
        }
        test "rank-deficient and zero matrices: U, V still orthonormal, the zero singular values exact" {
            // a rank-one 4×3 u vᵀ: σ₁ = |u||v|, the other two 0
            let uu, vv = [| 1.0; -2.0; 0.5; 2.0 |], [| 3.0; 0.0; -4.0 |]
            let a = Array.init 12 (fun index -> uu.[index / 3] * vv.[index % 3])
            let u, s, vh = decompose [| 4; 3 |] a
            expectClose 1e-14 [| s.[0] |] [| sqrt (Array.sumBy (fun x -> x * x) uu) * 5.0 |] "σ₁"
            Expect.isLessThanOrEqual (abs s.[1] + abs s.[2]) 1e-14 "σ₂ = σ₃ = 0"
            expectClose 1e-12 (multiply (transposed u 4 3) u 3 4 3) (eye 3) "UᵀU"
            expectClose 1e-12 (multiply vh (transposed vh 3 3) 3 3 3) (eye 3) "Vh Vhᵀ"
            for m, n in [ 3, 2; 2, 3 ] do
                let k = min m n
                let u, s, vh = decompose [| m; n |] (Array.zeroCreate (m * n))
                Expect.equal s (Array.zeroCreate k) "S = 0"
                expectClose 0.0 (multiply (transposed u m k) u k m k) (eye k) "UᵀU of the zero matrix"
                expectClose 0.0 (multiply vh (transposed vh k n) k n k) (eye k) "Vh Vhᵀ of the zero matrix"
        }
        test "a non-finite entry gives NaN everywhere, as LAPACK" {
            for bad in [ nan; infinity ] do
                let u, s, vh = decompose [| 2; 3 |] [| 1.0; 2.0; bad; 0.0; 1.0; 1.0 |]
                for x in Array.concat [ u; s; vh ] do Expect.isTrue (Double.IsNaN x) (sprintf "%g gives NaN" bad)
        }
        test "huge and tiny scales: the singular values of c·A are c times A's" {
            let a = (sample (Random 3) Normal [| 3; 2 |]).ToDoubleArray()
            let s = values (Linalg.svdvals (constant (tensor [| 3; 2 |] a)))
            for c in [ 1e200; 1e-200 ] do
                let scaled = values (Linalg.svdvals (constant (tensor [| 3; 2 |] (a |> Array.map ((*) c)))))
                expectClose 1e-14 (scaled |> Array.map (fun x -> x / c)) s (sprintf "c = %g" c)
        }
        test "a batch is its matrices one by one; float32 is float64's rounded" {
            // entries that float32 holds exactly, so both dtypes factor the same matrix
            let x = tensor [| 2; 3; 4; 3 |] ((sample (Random 5) Normal [| 2; 3; 4; 3 |]).ToDoubleArray() |> Array.map (float32 >> float))
            let packed = values (LinalgNodes.svd (constant x))
            let block = (4 + 1 + 3) * 3
            for b in 0 .. 5 do
                let one = Expr.reshape [| 4; 3 |] (Expr.sliceAxis 0 b (b + 1) (Expr.reshape [| 6; 4; 3 |] (constant x)))
                expectClose 0.0 packed.[b * block .. b * block + block - 1] (values (LinalgNodes.svd one)) (sprintf "batch %d" b)
            let single = (Eval.eval (LinalgNodes.svd (Expr.cast DType.Float32 (constant x)))).ToDoubleArray()
            expectClose 0.0 single (packed |> Array.map (fun v -> float (float32 v))) "float32"
        }
        test "svdvals' gradient at repeated singular values: ∇‖Q‖_nuc = Q for an orthogonal Q (U Vh, whichever U)" {
            let c, s = cos 0.3, sin 0.3
            let q = [| c; -s; 0.0; s; c; 0.0; 0.0; 0.0; -1.0 |]
            let gradient = values (Diff.grad (Linalg.nuclearNorm false) (constant (tensor [| 3; 3 |] q)))
            expectClose 1e-14 gradient q "gradient"
            let identity = values (Diff.grad (fun a -> Expr.sum (Linalg.svdvals a)) (constant (tensor [| 2; 2 |] (eye 2))))
            expectClose 1e-14 identity (eye 2) "at I"
        }
    ]

let private pinvAndLstsq =
    testList "pinv and lstsq" [
        for m, n in [ 4, 3; 3, 5; 4, 4 ] do
            test (sprintf "pinv [%d,%d] meets Penrose's conditions: A P A = A, P A P = P, A P and P A symmetric" m n) {
                let a = (sample (Random(m * 10 + n)) Normal [| m; n |]).ToDoubleArray()
                let p = values (Linalg.pinv (constant (tensor [| m; n |] a)))
                let ap, pa = multiply a p m n m, multiply p a n m n
                expectClose 1e-12 (multiply ap a m m n) a "A P A"
                expectClose 1e-12 (multiply pa p n n m) p "P A P"
                expectClose 1e-12 ap (transposed ap m m) "A P symmetric"
                expectClose 1e-12 pa (transposed pa n n) "P A symmetric"
            }
        test "pinv of a rank-one u vᵀ is v uᵀ / (|u|²|v|²)" {
            let uu, vv = [| 1.0; -2.0; 2.0 |], [| 3.0; 4.0 |]
            let a = Array.init 6 (fun index -> uu.[index / 2] * vv.[index % 2])
            let scale = 9.0 * 25.0
            let expected = Array.init 6 (fun index -> vv.[index / 3] * uu.[index % 3] / scale)
            expectClose 1e-14 (values (Linalg.pinv (constant (tensor [| 3; 2 |] a)))) expected "pinv"
        }
        test "pinv's cutoff: max(m, n)·ε·σ₁ by default, as torch; atol and rtol move it" {
            let a = constant (tensor [| 2; 2 |] [| 1.0; 0.0; 0.0; 1e-20 |])
            expectClose 0.0 (values (Linalg.pinv a)) [| 1.0; 0.0; 0.0; 0.0 |] "default drops 1e-20"
            expectClose 1e-15 (values (Linalg.pinvWithTolerances (Some 0.0) (Some 0.0) a)) [| 1.0; 0.0; 0.0; 1e20 |] "no cutoff"
            let b = constant (tensor [| 2; 2 |] [| 2.0; 0.0; 0.0; 0.5 |])
            expectClose 0.0 (values (Linalg.pinvWithTolerances (Some 1.0) None b)) [| 0.5; 0.0; 0.0; 0.0 |] "atol 1 drops 0.5"
            expectClose 0.0 (values (Linalg.pinvWithTolerances None (Some 0.3) b)) [| 0.5; 0.0; 0.0; 0.0 |] "rtol 0.3 (cutoff 0.6) drops 0.5"
            expectClose 1e-15 (values (Linalg.pinvWithTolerances None (Some 0.2) b)) [| 0.5; 0.0; 0.0; 2.0 |] "rtol 0.2 keeps it"
        }
        test "pinv's gradient at repeated singular values (an orthogonal matrix) against central differences" {
            // the SVD's rule divides by s_j² − s_i² = 0 there; pinv's own rule does not
            let c, s = cos 0.7, sin 0.7
            let q = [| c; -s; s; c |]
            let w = tensor [| 2; 2 |] [| 0.3; -1.2; 0.8; 2.0 |]
            let phi (x: Expr) = inner (Linalg.pinv x) w
            let ours = values (Diff.grad phi (constant (tensor [| 2; 2 |] q)))
            let reference = centralGradient (fun x -> value (phi (constant (tensor [| 2; 2 |] x)))) q 1e-6
            expectClose 1e-8 ours reference "gradient"
        }
        test "lstsq tall: the normal equations Aᵀ(A X − B) = 0 by a reference solve of AᵀA X = AᵀB" {
            let a = (sample (Random 11) Normal [| 6; 3 |]).ToDoubleArray()
            let b = (sample (Random 12) Normal [| 6; 2 |]).ToDoubleArray()
            let x = values (Linalg.lstsq (constant (tensor [| 6; 3 |] a)) (constant (tensor [| 6; 2 |] b)))
            let at = transposed a 6 3
            expectClose 1e-12 x (gaussSolve (multiply at a 3 6 3) (multiply at b 3 6 2) 3 2) "X"
        }
        test "lstsq wide: the least-norm solution Aᵀ (A Aᵀ)⁻¹ B by a reference solve" {
            let a = (sample (Random 13) Normal [| 2; 5 |]).ToDoubleArray()
            let b = (sample (Random 14) Normal [| 2; 3 |]).ToDoubleArray()
            let x = values (Linalg.lstsq (constant (tensor [| 2; 5 |] a)) (constant (tensor [| 2; 3 |] b)))
            let at = transposed a 2 5
            expectClose 1e-12 x (multiply at (gaussSolve (multiply a at 2 5 2) b 2 3) 5 2 3) "X"
        }
        test "matrix norms: 2, −2 and nuclear of a diagonal matrix are max, min and sum of |dᵢ|; keepDims keeps (1, 1)" {
            let a = constant (tensor [| 3; 3 |] [| -4.0; 0.0; 0.0; 0.0; 1.5; 0.0; 0.0; 0.0; 2.0 |])
            Expect.equal (value (Linalg.spectralNorm false a)) 4.0 "2"
            Expect.equal (value (Linalg.smallestSingularValue false a)) 1.5 "−2"
            expectClose 1e-15 [| value (Linalg.nuclearNorm false a) |] [| 7.5 |] "nuc"
            Expect.equal (Linalg.nuclearNorm true (Expr.variable "a" [| 2; 3; 4 |] DType.Float64)).Shape [| 2; 1; 1 |] "keepDims"
            Expect.equal (Linalg.spectralNorm false (Expr.variable "a" [| 2; 3; 4 |] DType.Float64)).Shape [| 2 |] "batch"
        }
    ]

let private errors =
    testList "errors name the method and the shapes" [
        test "svd, pinv and the norms need a matrix" {
            for f, name in [ (fun a -> let _, s, _ = Linalg.svd a in s), "Svd"; Linalg.svdvals, "Svd"; Linalg.pinv, "Pinv"
                             Linalg.spectralNorm false, "MatrixNorm"; Linalg.nuclearNorm false, "MatrixNorm" ] do
                let message = try f (Expr.variable "a" [| 3 |] DType.Float64) |> ignore; "" with :? ShapeException as e -> e.Message
                Expect.stringContains message (name + ":") name
                Expect.stringContains message "[3]" "shape"
        }
        test "lstsq with mismatched rows" {
            let message =
                try Linalg.lstsq (Expr.variable "a" [| 4; 3 |] DType.Float64) (Expr.variable "b" [| 3; 2 |] DType.Float64) |> ignore; ""
                with :? ShapeException as e -> e.Message
            Expect.stringContains message "Lstsq" "method"
            Expect.stringContains message "[4,3]" "a's shape"
            Expect.stringContains message "[3,2]" "b's shape"
        }
        test "pinv with a negative tolerance" {
            Expect.throwsT<ArgumentOutOfRangeException>
                (fun () -> Linalg.pinvWithTolerances (Some -1.0) None (Expr.variable "a" [| 2; 2 |] DType.Float64) |> ignore) "atol < 0"
        }
    ]

[<Tests>]
let tests =
    testList "Linalg SVD" [
        testList "rules first order vs finite differences" (cases |> List.mapi (fun i c -> firstOrderTest (3000 + i) c))
        testList "rules second order vs finite differences of the first" (cases |> List.mapi (fun i c -> secondOrderTest (3000 + i) c))
        identities
        pinvAndLstsq
        errors
    ]
