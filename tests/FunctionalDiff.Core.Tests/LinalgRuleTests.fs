/// The linear-algebra ops against central finite differences in float64 at first and second
/// order (one table of cases), their values against the defining identities (L Lᵀ = A, A X = B,
/// Q R = A, A V = V diag(w), det by cofactor expansion), and their errors.
module FunctionalDiff.Core.Tests.LinalgRuleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private case name shapes f : RuleCase = { Name = name; Shapes = shapes; Domain = Normal; F = f }

/// x xᵀ + n·I: symmetric positive definite and well conditioned for any x (…, n, n).
let private spd (x: Expr) =
    let n = x.Dims.[x.Rank - 1]
    Expr.matmul x (Expr.transpose x) + float n * Linalg.identity x.DType n

/// x + 3·I: a triangle of it is a well-conditioned triangular matrix for standard normal x.
let private shifted (x: Expr) = x + 3.0 * Linalg.identity x.DType x.Dims.[x.Rank - 1]

/// Stacks two outputs into one flat vector, so one inner product weighs both.
let private both (a: Expr) (b: Expr) = Expr.concat 0 [ Expr.reshape [| -1 |] a; Expr.reshape [| -1 |] b ]

let private cases : RuleCase list =
    let m33, m233 = [| 3; 3 |], [| 2; 3; 3 |]
    [ case "cholesky" [ m33 ] (fun xs -> Linalg.cholesky (spd xs.[0]))
      case "cholesky batched [2,3,3]" [ m233 ] (fun xs -> Linalg.cholesky (spd xs.[0]))
      case "solveTriangular lower left" [ m33; [| 3; 2 |] ] (fun xs -> Linalg.solveTriangular false (shifted xs.[0]) xs.[1])
      case "solveTriangular upper left" [ m33; [| 3; 2 |] ] (fun xs -> Linalg.solveTriangular true (shifted xs.[0]) xs.[1])
      case "solveTriangular upper right" [ m33; [| 2; 3 |] ] (fun xs -> Linalg.solveTriangularWith (true, false, false, false) (shifted xs.[0]) xs.[1])
      case "solveTriangular lower right unitriangular" [ m33; [| 4; 3 |] ] (fun xs -> Linalg.solveTriangularWith (false, false, false, true) xs.[0] xs.[1])
      case "solveTriangular lower left transposed" [ m33; [| 3; 1 |] ] (fun xs -> Linalg.solveTriangularWith (false, true, true, false) (shifted xs.[0]) xs.[1])
      case "solveTriangular batched [2,3,3] with [3,2]" [ m233; [| 3; 2 |] ] (fun xs -> Linalg.solveTriangular false (shifted xs.[0]) xs.[1])
      case "solve [3,3] [3,2]" [ m33; [| 3; 2 |] ] (fun xs -> Linalg.solve (shifted xs.[0]) xs.[1])
      case "solve vector [3]" [ m33; [| 3 |] ] (fun xs -> Linalg.solve (shifted xs.[0]) xs.[1])
      case "solve batched [2,3,3] [2,3] as vectors" [ m233; [| 2; 3 |] ] (fun xs -> Linalg.solve (shifted xs.[0]) xs.[1])
      case "inverse" [ m33 ] (fun xs -> Linalg.inverse (shifted xs.[0]))
      case "det" [ m33 ] (fun xs -> Linalg.det xs.[0])
      case "det batched" [ m233 ] (fun xs -> Linalg.det xs.[0])
      case "slogdet" [ m33 ] (fun xs -> let sign, logAbs = Linalg.slogdet xs.[0] in sign * logAbs)
      case "logdet of a positive definite matrix" [ m233 ] (fun xs -> Linalg.logdet (spd xs.[0]))
      case "qr [4,3]" [ [| 4; 3 |] ] (fun xs -> let q, r = Linalg.qr xs.[0] in both q r)
      case "qr batched [2,3,3], R only" [ m233 ] (fun xs -> snd (Linalg.qr xs.[0]))
      case "qr [5,2], Q only" [ [| 5; 2 |] ] (fun xs -> fst (Linalg.qr xs.[0]))
      case "eigh values and vectors (sign-free)" [ m33 ] (fun xs ->
          let w, v = Linalg.eigh (xs.[0] + Expr.transpose xs.[0])
          both w (v * v))
      case "eigh batched, V diag(c) Vᵀ" [ m233 ] (fun xs ->
          let w, v = Linalg.eigh (xs.[0] + Expr.transpose xs.[0])
          let c = Expr.constant (tensor [| 3 |] [| 0.5; -1.0; 2.0 |])
          both w (Expr.matmul (v * c) (Expr.transpose v)))
      case "eigvalsh" [ [| 4; 4 |] ] (fun xs -> Linalg.eigvalsh (xs.[0] + Expr.transpose xs.[0]))
      case "qr wide [2,4]" [ [| 2; 4 |] ] (fun xs -> let q, r = Linalg.qr xs.[0] in both q r)
      case "qr wide batched [2,3,5], R only" [ [| 2; 3; 5 |] ] (fun xs -> snd (Linalg.qr xs.[0]))
      case "qr wide [3,4], Q only" [ [| 3; 4 |] ] (fun xs -> fst (Linalg.qr xs.[0])) ]

/// A plain triple loop, the reference product.
let private multiply (a: float[]) (b: float[]) (m: int) (k: int) (n: int) =
    Array.init (m * n) (fun index ->
        let i, j = index / n, index % n
        Seq.sum (seq { for p in 0 .. k - 1 -> a.[i * k + p] * b.[p * n + j] }))

let private transposed (a: float[]) (m: int) (n: int) = Array.init (m * n) (fun index -> a.[(index % m) * n + index / m])

/// det by cofactor expansion along the first row.
let rec private cofactorDet (a: float[]) (n: int) =
    if n = 1 then a.[0]
    else
        Seq.sum (seq {
            for j in 0 .. n - 1 ->
                let minor = [| for i in 1 .. n - 1 do for c in 0 .. n - 1 do if c <> j then yield a.[i * n + c] |]
                (if j % 2 = 0 then 1.0 else -1.0) * a.[j] * cofactorDet minor (n - 1) })

let private random n seed = (sample (Random seed) Normal [| n; n |]).ToDoubleArray()

let private identities =
    testList "values satisfy the defining identities" [
        for n in [ 1; 4; 17; 70; 150 ] do
            test (sprintf "cholesky: L Lᵀ = A, L lower, n = %d" n) {
                let x = random n n
                let a = Array.map2 (+) (multiply x (transposed x n n) n n n) (Array.init (n * n) (fun i -> if i / n = i % n then float n else 0.0))
                let l = values (Linalg.cholesky (constant (tensor [| n; n |] a)))
                expectClose 1e-12 (multiply l (transposed l n n) n n n) a "L Lᵀ"
                for i in 0 .. n - 1 do
                    for j in i + 1 .. n - 1 do Expect.equal l.[i * n + j] 0.0 "upper triangle is zero"
            }
            test (sprintf "solve and solveTriangular: A X = B, n = %d" n) {
                let a = random n (n + 1) |> Array.mapi (fun i v -> if i / n = i % n then v + 4.0 else v)
                let b = (sample (Random(n + 2)) Normal [| n; 3 |]).ToDoubleArray()
                let x = values (Linalg.solve (constant (tensor [| n; n |] a)) (constant (tensor [| n; 3 |] b)))
                expectClose 1e-10 (multiply a x n n 3) b "A X"
                let lower = a |> Array.mapi (fun i v -> if i % n <= i / n then v else 0.0)
                let y = values (Linalg.solveTriangular false (constant (tensor [| n; n |] a)) (constant (tensor [| n; 3 |] b)))
                expectClose 1e-10 (multiply lower y n n 3) b "tril(A) Y"
                let upper = a |> Array.mapi (fun i v -> if i % n >= i / n then v else 0.0)
                let z = values (Linalg.solveTriangular true (constant (tensor [| n; n |] a)) (constant (tensor [| n; 3 |] b)))
                expectClose 1e-10 (multiply upper z n n 3) b "triu(A) Z"
                let bt = transposed b n 3
                let w = values (Linalg.solveTriangularWith (true, false, false, false) (constant (tensor [| n; n |] a)) (constant (tensor [| 3; n |] bt)))
                expectClose 1e-10 (multiply w upper 3 n n) bt "W triu(A)"
                let inverse = values (Linalg.inverse (constant (tensor [| n; n |] a)))
                expectClose 1e-10 (multiply a inverse n n n) (Array.init (n * n) (fun i -> if i / n = i % n then 1.0 else 0.0)) "A A⁻¹"
            }
            test (sprintf "qr: Q R = A, QᵀQ = I, R upper, n = %d" n) {
                let m = n + 2
                let a = (sample (Random n) Normal [| m; n |]).ToDoubleArray()
                let q, r = Linalg.qr (constant (tensor [| m; n |] a))
                let q, r = values q, values r
                expectClose 1e-12 (multiply q r m n n) a "Q R"
                expectClose 1e-12 (multiply (transposed q m n) q n m n) (Array.init (n * n) (fun i -> if i / n = i % n then 1.0 else 0.0)) "QᵀQ"
                for i in 0 .. n - 1 do
                    for j in 0 .. i - 1 do Expect.equal r.[i * n + j] 0.0 "below the diagonal of R"
            }
            test (sprintf "eigh: A V = V diag(w), VᵀV = I, w ascending, n = %d" n) {
                let x = random n (n + 5)
                let a = Array.map2 (+) x (transposed x n n)
                let w, v = Linalg.eigh (constant (tensor [| n; n |] a))
                let w, v = values w, values v
                let scaled = v |> Array.mapi (fun i value -> value * w.[i % n])
                expectClose 1e-10 (multiply a v n n n) scaled "A V"
                expectClose 1e-12 (multiply (transposed v n n) v n n n) (Array.init (n * n) (fun i -> if i / n = i % n then 1.0 else 0.0)) "VᵀV"
                for i in 1 .. n - 1 do Expect.isLessThanOrEqual w.[i - 1] w.[i] "ascending"
            }
        for n in [ 1; 2; 3; 5 ] do
            test (sprintf "det and slogdet agree with cofactor expansion, n = %d" n) {
                let a = random n (n + 9)
                let expected = cofactorDet a n
                let d = value (Linalg.det (constant (tensor [| n; n |] a)))
                expectClose 1e-12 [| d |] [| expected |] "det"
                let sign, logAbs = Linalg.slogdet (constant (tensor [| n; n |] a))
                Expect.equal (value sign) (float (Math.Sign expected)) "sign"
                expectClose 1e-12 [| value logAbs |] [| log (abs expected) |] "log|det|"
            }
        test "a batch is its matrices one by one, float32 within float32 rounding of float64" {
            let x = sample (Random 5) Normal [| 2; 3; 4; 4 |]
            let a = spd (constant x)
            let l = values (Linalg.cholesky a)
            let l32 = (Eval.eval (Linalg.cholesky (Expr.cast DType.Float32 a))).ToDoubleArray()
            for b in 0 .. 5 do
                let one = Expr.reshape [| 4; 4 |] (Expr.sliceAxis 0 b (b + 1) (Expr.reshape [| 6; 4; 4 |] a))
                expectClose 0.0 l.[b * 16 .. b * 16 + 15] (values (Linalg.cholesky one)) (sprintf "batch %d" b)
            expectClose 1e-6 l32 l "float32"
        }
        test "empty matrices: det of a 0×0 matrix is 1 (the empty product), empty batches stay empty" {
            Expect.equal (value (Linalg.det (constant (tensor [| 0; 0 |] [||])))) 1.0 "det"
            Expect.equal (values (Linalg.cholesky (constant (tensor [| 0; 3; 3 |] [||])))).Length 0 "cholesky"
            Expect.equal (values (Linalg.solve (constant (tensor [| 0; 0 |] [||])) (constant (tensor [| 0; 2 |] [||])))).Length 0 "solve"
        }
        test "singular matrices: det 0, slogdet (0, -inf), as torch" {
            let a = constant (tensor [| 2; 2 |] [| 1.0; 2.0; 2.0; 4.0 |])
            Expect.equal (value (Linalg.det a)) 0.0 "det"
            let sign, logAbs = Linalg.slogdet a
            Expect.equal (value sign) 0.0 "sign"
            Expect.equal (value logAbs) Double.NegativeInfinity "log|det|"
        }
    ]

let private errors =
    testList "errors name the method and the shapes" [
        test "non-square" {
            for f, name in [ Linalg.cholesky, "Cholesky"; Linalg.inverse, "Inverse"; Linalg.det, "Det"; Linalg.logdet, "LogDet"
                             (fun a -> snd (Linalg.slogdet a)), "SlogDet"; Linalg.eigvalsh, "Eigh" ] do
                let message = try f (Expr.variable "a" [| 2; 3 |] DType.Float64) |> ignore; "" with :? ShapeException as e -> e.Message
                Expect.stringContains message (name + ":") name
            let message = try Linalg.cholesky (Expr.variable "a" [| 2; 3 |] DType.Float64) |> ignore; "" with :? ShapeException as e -> e.Message
            Expect.stringContains message "Cholesky" "method"
            Expect.stringContains message "[2,3]" "shape"
        }
        test "solve with mismatched rows" {
            let message =
                try Linalg.solve (Expr.variable "a" [| 3; 3 |] DType.Float64) (Expr.variable "b" [| 2; 2 |] DType.Float64) |> ignore; ""
                with :? ShapeException as e -> e.Message
            Expect.stringContains message "Solve" "method"
            Expect.stringContains message "[3,3]" "a's shape"
            Expect.stringContains message "[2,2]" "b's shape"
        }
        test "qr needs a matrix" {
            Expect.throwsT<ShapeException> (fun () -> Linalg.qr (Expr.variable "a" [| 3 |] DType.Float64) |> ignore) "vector"
        }
        test "cholesky of a matrix that is not positive definite raises, naming the batch entry" {
            let a = constant (tensor [| 2; 2; 2 |] [| 2.0; 0.0; 0.0; 2.0; 1.0; 2.0; 2.0; 1.0 |])
            let message = try Eval.eval (Linalg.cholesky a) |> ignore; "" with :? ArgumentException as e -> e.Message
            Expect.stringContains message "Cholesky" "method"
            Expect.stringContains message "[2,2,2]" "shape"
            Expect.stringContains message "[1]" "batch entry"
            Expect.stringContains message "order 2" "minor"
        }
        test "solve with a singular matrix raises" {
            let a = constant (tensor [| 2; 2 |] [| 1.0; 2.0; 2.0; 4.0 |])
            Expect.throwsT<ArgumentException> (fun () -> Eval.eval (Linalg.solve a (constant (tensor [| 2 |] [| 1.0; 1.0 |]))) |> ignore) "singular"
        }
    ]

[<Tests>]
let tests =
    testList "Linalg" [
        testList "rules first order vs finite differences" (cases |> List.mapi (fun i c -> firstOrderTest (2000 + i) c))
        testList "rules second order vs finite differences of the first" (cases |> List.mapi (fun i c -> secondOrderTest (2000 + i) c))
        identities
        testList "wide qr" [
            test "wide qr (m < n): Q (m×m) R (m×n) = A, QᵀQ = I, R upper trapezoidal" {
                for m, n in [ 1, 3; 2, 5; 4, 7 ] do
                    let a = (sample (Random (m * 10 + n)) Normal [| m; n |]).ToDoubleArray()
                    let q, r = Linalg.qr (constant (tensor [| m; n |] a))
                    Expect.equal q.Shape [| m; m |] "Q is m × m"
                    Expect.equal r.Shape [| m; n |] "R is m × n"
                    let q, r = values q, values r
                    expectClose 1e-12 (multiply q r m m n) a "Q R"
                    expectClose 1e-12 (multiply (transposed q m m) q m m m) (Array.init (m * m) (fun i -> if i / m = i % m then 1.0 else 0.0)) "QᵀQ"
                    for i in 0 .. m - 1 do
                        for j in 0 .. i - 1 do Expect.equal r.[i * n + j] 0.0 "below the diagonal of R"
            }
        ]
        errors
    ]
