/// The smart constructors of the linear-algebra primitives: shape checks and batch broadcasting
/// only. They come before Build.fs so that `Expr.apply` can rebuild these nodes; the public
/// functions and the composites built from them (inverse, det, logdet, ...) are in
/// LinalgComposites.fs.
namespace FunctionalDiff.Core

/// Nodes of the linear-algebra primitives. `method` is the public name errors report.
module internal LinalgNodes =

    let private dims (e: Expr) = Shape.format e.Dims

    /// Raises unless x is a square matrix or a batch of them; returns n.
    let square (method: string) (parameter: string) (x: Expr) =
        if x.Rank < 2 || x.Dims.[x.Rank - 1] <> x.Dims.[x.Rank - 2] then
            Shape.fail method (sprintf "%s must be a square matrix or a batch of them (…, n, n), got %s" parameter (dims x))
        x.Dims.[x.Rank - 1]

    let private batchOf (x: Expr) = x.Dims.[.. x.Rank - 3]

    /// Both operands broadcast to their common batch axes (the kernels take equal batches).
    let private withCommonBatch (method: string) (a: Expr) (b: Expr) =
        let batch =
            try Shape.broadcast method (batchOf a) (batchOf b)
            with :? ShapeException as e ->
                Shape.failFrom e method (sprintf "batch axes of a %s and b %s cannot be broadcast" (dims a) (dims b))
        let lift (x: Expr) = ExprCore.broadcastTo (Array.append batch x.Dims.[x.Rank - 2 ..]) x
        lift a, lift b

    /// The lower Cholesky factor of a (…, n, n).
    let cholesky (a: Expr) : Expr =
        square "Cholesky" "a" a |> ignore
        Ir.intern Op.Cholesky [| a |] (Array.copy a.Dims) a.DType

    /// Raises unless b is (…, n, k) (left) or (…, k, n) for the n×n matrices `t`, which `method` calls `parameter`.
    let rightHandSide (method: string) (parameter: string) (left: bool) (n: int) (t: Expr) (b: Expr) =
        if b.Rank < 2 then
            Shape.fail method (sprintf "b must be a matrix or a batch of them, got %s (%s is %s)" (dims b) parameter (dims t))
        let matched = if left then b.Dims.[b.Rank - 2] else b.Dims.[b.Rank - 1]
        if matched <> n then
            Shape.fail method
                (sprintf "%s %s and b %s do not fit: b needs %d %s" parameter (dims t) (dims b) n (if left then "rows" else "columns"))

    /// X with T X = B (left) or X T = B, T triangular (…, n, n), B (…, n, k) or (…, k, n).
    let triangularSolve (upper: bool) (left: bool) (unitDiagonal: bool) (t: Expr) (b: Expr) : Expr =
        let n = square "SolveTriangular" "a" t
        rightHandSide "SolveTriangular" "a" left n t b
        let struct (t, b) = ExprCore.promote t b
        let t, b = withCommonBatch "SolveTriangular" t b
        Ir.intern (Op.TriangularSolve(upper, left, unitDiagonal)) [| t; b |] (Array.copy b.Dims) b.DType

    /// X with A X = B for A (…, n, n) and B (…, n, k).
    let solve (a: Expr) (b: Expr) : Expr =
        let n = square "Solve" "a" a
        if b.Rank < 2 || b.Dims.[b.Rank - 2] <> n then
            Shape.fail "Solve" (sprintf "a %s and b %s do not fit: b needs %d rows" (dims a) (dims b) n)
        let struct (a, b) = ExprCore.promote a b
        let a, b = withCommonBatch "Solve" a b
        Ir.intern Op.Solve [| a; b |] (Array.copy b.Dims) b.DType

    /// The matrix exponential of a (…, n, n).
    let matrixExp (a: Expr) : Expr =
        square "MatrixExp" "a" a |> ignore
        Ir.intern Op.MatrixExp [| a |] (Array.copy a.Dims) a.DType

    /// (…, 2): sign and log|det| of a (…, n, n).
    let slogdet (a: Expr) : Expr =
        square "SlogDet" "a" a |> ignore
        Ir.intern Op.SlogDet [| a |] (Array.append (batchOf a) [| 2 |]) a.DType

    /// (…, m + n, n): reduced Q over R of a (…, m, n) with m >= n.
    let qr (a: Expr) : Expr =
        if a.Rank < 2 || a.Dims.[a.Rank - 2] < a.Dims.[a.Rank - 1] then
            Shape.fail "Qr" (sprintf "a must be a matrix (…, m, n) with m >= n (reduced QR), got %s" (dims a))
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        Ir.intern Op.Qr [| a |] (Array.append (batchOf a) [| m + n; n |]) a.DType

    /// (…, n + 1, n): the LU factors of a (…, n, n) over its 1-based pivots. `method` is the public
    /// name errors report (LuFactor, Lu).
    let lu (method: string) (a: Expr) : Expr =
        let n = square method "a" a
        Ir.intern Op.Lu [| a |] (Array.append (batchOf a) [| n + 1; n |]) a.DType

    /// (…, n, n): the permutation matrix P with A = P L U of LU pivots (…, n), 1-based.
    let luPermutation (method: string) (pivots: Expr) : Expr =
        if pivots.Rank < 1 then
            Shape.fail method (sprintf "pivots must be a vector or a batch of them (…, n), got %s" (dims pivots))
        let n = pivots.Dims.[pivots.Rank - 1]
        Ir.intern Op.LuPermutation [| pivots |] (Array.append pivots.Dims [| n |]) pivots.DType

    /// (…, n + 1, n): eigenvalues over eigenvectors of the symmetric a (…, n, n).
    let eigh (a: Expr) : Expr =
        let n = square "Eigh" "a" a
        Ir.intern Op.Eigh [| a |] (Array.append (batchOf a) [| n + 1; n |]) a.DType

    /// (…, m + 1 + n, k), k = min(m, n): U over the singular values over V, of a (…, m, n).
    let svd (a: Expr) : Expr =
        if a.Rank < 2 then
            Shape.fail "Svd" (sprintf "a must be a matrix or a batch of them (…, m, n), got %s" (dims a))
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        Ir.intern Op.Svd [| a |] (Array.append (batchOf a) [| m + 1 + n; min m n |]) a.DType
