/// Linear algebra in the op language: the public functions over the primitives Cholesky,
/// TriangularSolve, Solve, SlogDet, Qr and Eigh, and the composites built from them (inverse, det,
/// logdet), with torch.linalg's conventions. All are batched over leading axes.
///
/// Multi-output decompositions (slogdet, qr, eigh) are one node with a packed output that this
/// module slices apart. One node means one factorisation per evaluation and one rule that sees every
/// output's cotangent at once, which is what the matrix-calculus formulas need; hash-consing makes
/// `fst (qr a)` and `snd (qr a)` share that node, and slices of a buffer are views in a plan.
namespace FunctionalDiff.Core

open System

/// Linear-algebra functions over Expr (torch.linalg's names and conventions).
[<RequireQualifiedAccess>]
module Linalg =

    let private dims (e: Expr) = Shape.format e.Dims

    /// The last two axes' n×n mask as a constant: entry (i, j) is 1 where `keep i j`.
    let private mask (dtype: DType) (n: int) (keep: int -> int -> bool) =
        let values = Array.init (n * n) (fun index -> if keep (index / n) (index % n) then 1.0 else 0.0)
        Expr.cast dtype (Expr.constant (Tensor.FromArray(values, [| n; n |])))

    /// The entries on and below diagonal k of the last two axes, zeros elsewhere (torch.tril).
    /// A `where`, not a product with a mask, so an infinity above the diagonal gives 0 as in torch.
    let internal lowerTriangle (k: int) (x: Expr) =
        let n = x.Dims.[x.Rank - 1]
        let rows = x.Dims.[x.Rank - 2]
        let keep = Array.init (rows * n) (fun index -> if index % n - index / n <= k then 1.0 else 0.0)
        let m = Expr.cast x.DType (Expr.constant (Tensor.FromArray(keep, [| rows; n |])))
        Expr.where m x (Expr.scalar x.DType 0.0)

    /// The entries on and above diagonal k of the last two axes (torch.triu).
    let internal upperTriangle (k: int) (x: Expr) =
        let n = x.Dims.[x.Rank - 1]
        let rows = x.Dims.[x.Rank - 2]
        let keep = Array.init (rows * n) (fun index -> if index % n - index / n >= k then 1.0 else 0.0)
        let m = Expr.cast x.DType (Expr.constant (Tensor.FromArray(keep, [| rows; n |])))
        Expr.where m x (Expr.scalar x.DType 0.0)

    /// The n×n identity in the dtype.
    let internal identity (dtype: DType) (n: int) = mask dtype n (fun i j -> i = j)

    /// The diagonal of the last two (square) axes, (…, n, n) -> (…, n): a strided slice of the
    /// flattened matrix, so it has the slice's rule.
    let internal diagonal (x: Expr) =
        let n = x.Dims.[x.Rank - 1]
        let batch = x.Dims.[.. x.Rank - 3]
        let flat = Expr.reshape (Array.append batch [| n * n |]) x
        let starts = Array.zeroCreate flat.Rank
        let steps = Array.create flat.Rank 1
        steps.[flat.Rank - 1] <- n + 1
        Expr.slice starts (Array.copy flat.Dims) steps flat

    /// (…, n) -> (…, n, n) with the vector on the diagonal: each entry followed by n zeros,
    /// flattened, cut to n·n entries. Pad, reshape and slice, so it has their rules.
    let internal diagonalMatrix (v: Expr) =
        let n = v.Dims.[v.Rank - 1]
        let batch = v.Dims.[.. v.Rank - 2]
        let column = Expr.reshape (Array.append v.Dims [| 1 |]) v
        let after = Array.zeroCreate column.Rank
        after.[column.Rank - 1] <- n
        let padded = Expr.pad (Array.zeroCreate column.Rank) after column
        let flat = Expr.reshape (Array.append batch [| n * (n + 1) |]) padded
        let cut = Expr.sliceAxis (flat.Rank - 1) 0 (n * n) flat
        Expr.reshape (Array.append batch [| n; n |]) cut

    /// The lower Cholesky factor L of symmetric positive-definite matrices a (…, n, n), with
    /// a = L Lᵀ. Only the lower triangle of a is read, as torch.linalg.cholesky, but the gradient is
    /// torch's symmetric one: it is right for perturbations that keep a symmetric (the only ones that
    /// keep a valid input), and spreads over both triangles. Evaluating it
    /// raises an ArgumentException naming the batch entry when a matrix is not positive definite
    /// (torch raises too).
    let cholesky (a: Expr) : Expr = LinalgNodes.cholesky a

    /// torch.linalg.solve_triangular with a transpose option: X with op(a) X = b (`left`) or
    /// X op(a) = b, where op(a) is a or, with `transpose`, aᵀ; a (…, n, n) is read as upper or lower
    /// triangular (its other triangle is ignored) with ones on the diagonal when `unitriangular`.
    /// b is (…, n, k) for left and (…, k, n) otherwise; batch axes broadcast. A zero on the
    /// diagonal gives inf or NaN, as in torch.
    let solveTriangularWith (upper: bool, left: bool, transpose: bool, unitriangular: bool) (a: Expr) (b: Expr) : Expr =
        if transpose then
            LinalgNodes.square "SolveTriangular" "a" a |> ignore
            LinalgNodes.triangularSolve (not upper) left unitriangular (Expr.transpose a) b
        else LinalgNodes.triangularSolve upper left unitriangular a b

    /// X with a X = b for triangular a (…, n, n), upper or lower, b (…, n, k).
    let solveTriangular (upper: bool) (a: Expr) (b: Expr) : Expr =
        solveTriangularWith (upper, true, false, false) a b

    /// torch.cholesky_solve: X with A X = b, given A's Cholesky factor `l` (…, n, n), lower
    /// (A = L Lᵀ) or, with `upper`, upper (A = Uᵀ U), and b (…, n, k); batch axes broadcast. Two
    /// triangular solves, L Z = b then Lᵀ X = Z, each reading only its triangle, so the derivatives
    /// (in b and in the factor) are the triangular solve's at every order.
    let choleskySolve (upper: bool) (l: Expr) (b: Expr) : Expr =
        let n = LinalgNodes.square "CholeskySolve" "l" l
        if b.Rank < 2 then
            Shape.fail "CholeskySolve"
                (sprintf "b must be a matrix or a batch of them (…, n, k), as torch.cholesky_solve's; got %s (a vector y is y.Unsqueeze(-1))" (dims b))
        if b.Dims.[b.Rank - 2] <> n then
            Shape.fail "CholeskySolve" (sprintf "l %s and b %s do not fit: b needs %d rows" (dims l) (dims b) n)
        // A = L Lᵀ: solve with L, then with Lᵀ; A = Uᵀ U: with Uᵀ, then with U
        let z = solveTriangularWith (upper, true, upper, false) l b
        solveTriangularWith (upper, true, not upper, false) l z

    /// torch.linalg.solve: X with a X = b, by LU with partial pivoting. b is (…, n, k), or a
    /// vector (n) or batch of vectors (…, n) when its shape is a's without the last axis (torch's
    /// rule); the result has b's form. Batch axes broadcast. Evaluating it raises an
    /// ArgumentException when a matrix is exactly singular, as torch does.
    let solve (a: Expr) (b: Expr) : Expr =
        let n = LinalgNodes.square "Solve" "a" a
        let isVector = b.Rank = 1 || (b.Rank = a.Rank - 1 && Ir.sameDims b.Dims a.Dims.[.. a.Rank - 2])
        if isVector then
            if b.Dims.[b.Rank - 1] <> n then
                Shape.fail "Solve" (sprintf "a %s and b %s do not fit: b needs %d entries" (dims a) (dims b) n)
            let x = LinalgNodes.solve a (Expr.reshape (Array.append b.Dims [| 1 |]) b)
            Expr.reshape x.Dims.[.. x.Rank - 2] x
        else LinalgNodes.solve a b

    /// The inverse of a (…, n, n): solve(a, I). Raises when evaluated at an exactly singular a.
    let inverse (a: Expr) : Expr =
        let n = LinalgNodes.square "Inverse" "a" a
        LinalgNodes.solve a (Expr.broadcastTo a.Dims (identity a.DType n))

    /// torch.linalg.matrix_power: a (…, n, n) to the integer power k by repeated squaring (the identity
    /// for k = 0, the inverse's power for k < 0), so its derivatives are those of the products.
    let matrixPower (k: int) (a: Expr) : Expr =
        let n = LinalgNodes.square "MatrixPower" "a" a
        if k = 0 then Expr.broadcastTo a.Dims (identity a.DType n)
        else
            let mutable factor = if k < 0 then inverse a else a
            let mutable remaining = abs k
            let mutable result: Expr option = None
            while remaining > 0 do
                if remaining &&& 1 = 1 then
                    result <- Some(match result with Some r -> Expr.matmul r factor | None -> factor)
                remaining <- remaining >>> 1
                if remaining > 0 then factor <- Expr.matmul factor factor
            result.Value

    /// torch.linalg.slogdet: (sign, logAbsDet) of a (…, n, n), each of shape (…). A singular
    /// matrix gives sign 0 and logAbsDet -inf; the gradient flows through logAbsDet only.
    let slogdet (a: Expr) : Expr * Expr =
        LinalgNodes.square "SlogDet" "a" a |> ignore
        let packed = LinalgNodes.slogdet a
        let part k = Expr.reshape a.Dims.[.. a.Rank - 3] (Expr.sliceAxis (packed.Rank - 1) k (k + 1) packed)
        part 0, part 1

    /// Entry (i, j) of the matrices a (…, n, n), of shape (…).
    let private entry (a: Expr) i j =
        Expr.reshape a.Dims.[.. a.Rank - 3] (Expr.sliceAxis (a.Rank - 1) j (j + 1) (Expr.sliceAxis (a.Rank - 2) i (i + 1) a))

    /// The cofactor matrix of a (…, n, n) for n of 2 or 3, entry (i, j) the signed minor (−1)^(i+j)·M_ij, a polynomial in
    /// the entries: for 3×3, a_(i+1)(j+1)·a_(i+2)(j+2) − a_(i+1)(j+2)·a_(i+2)(j+1) with the indices taken mod 3, which carries
    /// the sign itself.
    let private cofactors (a: Expr) =
        let n = a.Dims.[a.Rank - 1]
        let batch = a.Dims.[.. a.Rank - 3]
        let at i j = entry a (i % n) (j % n)
        let cofactor i j =
            match n with
            | 2 -> if (i + j) % 2 = 0 then at (i + 1) (j + 1) else -(at (i + 1) (j + 1))
            | _ -> at (i + 1) (j + 1) * at (i + 2) (j + 2) - at (i + 1) (j + 2) * at (i + 2) (j + 1)
        let cell i j = Expr.reshape (Array.append batch [| 1; 1 |]) (cofactor i j)
        Expr.concat (a.Rank - 2) [ for i in 0 .. n - 1 -> Expr.concat (a.Rank - 1) [ for j in 0 .. n - 1 -> cell i j ] ]

    /// The rule of det for 2×2 and 3×3 (a 1×1 det is the entry itself): g·cof(a), the cotangent times the cofactor
    /// matrix, one product per entry. The cofactor expansion differentiated as written multiplies g into each product of
    /// two entries before their difference, so an infinite g met ∞ − ∞ = NaN wherever the two products share a sign, where
    /// g·cof(a) is ±∞ (`fuzz wide adversarial 87/54`: exp(∞ + det A), g = −∞). Its own derivative is the cofactors'
    /// polynomial, so the higher orders are exact. Registered once; the module keeps it alive.
    let private detRule =
        CustomRules.register "det" (fun a g ->
            Expr.reshape (Array.append g.Dims [| 1; 1 |]) g * cofactors a)

    /// torch.linalg.det. Up to 3×3 it is the cofactor expansion, a polynomial in the entries, with the rule g·cof(a): its
    /// gradient is the cofactor matrix everywhere, a singular a included, and its derivatives of
    /// every order are exact (sign · exp(logAbsDet) differentiates through A⁻ᵀ, which a singular a
    /// does not have, so its gradient there raised). Larger matrices take sign · exp(logAbsDet) from
    /// the LU factorisation, accurate where the LU is: 0 at a singular a, where evaluating the
    /// gradient raises, as solve does.
    let det (a: Expr) : Expr =
        let n = LinalgNodes.square "Det" "a" a
        let at = entry a
        let minor r1 r2 c1 c2 = at r1 c1 * at r2 c2 - at r1 c2 * at r2 c1
        match n with
        | 1 -> at 0 0
        | 2 -> Expr.custom detRule a (minor 0 1 0 1)
        | 3 -> Expr.custom detRule a (at 0 0 * minor 1 2 1 2 - at 0 1 * minor 1 2 0 2 + at 0 2 * minor 1 2 0 1)
        | _ ->
            let sign, logAbs = slogdet a
            sign * Expr.exp logAbs

    /// torch.logdet: log(det a): NaN when det a < 0, -inf when a is singular. Written as torch
    /// writes it, where(sign = -1, NaN, log|det|), so a negative determinant passes no cotangent
    /// (log of the sign would pass log|det|'s, A⁻ᵀ, under a NaN value).
    let logdet (a: Expr) : Expr =
        LinalgNodes.square "LogDet" "a" a |> ignore
        let sign, logAbs = slogdet a
        Expr.where (Expr.lt sign (Expr.scalar a.DType 0.0)) (Expr.scalar a.DType nan) logAbs

    /// torch.linalg.qr in its reduced mode: (Q, R) with a = Q R for a (…, m, n), Q (…, m, k) with
    /// orthonormal columns and R (…, k, n) upper triangular, k = min(m, n). R's diagonal signs follow
    /// LAPACK's Householder convention, as torch's do.
    /// A wide a (m < n) splits as [X | Y] with X its first m columns: X = Q U is a square QR, and
    /// R = [U | Qᵀ Y]. Householder's reflectors only read the first m columns, so this is the
    /// factorisation itself, not an approximation of it; and its derivative is the chain rule through
    /// the square rule and the product, which is the standard rule for m < n (Ȳ = Q V̄, and X̄ the
    /// square rule at Q̄ + Y V̄ᵀ), in the op language, so it nests.
    let qr (a: Expr) : Expr * Expr =
        if a.Rank < 2 then
            Shape.fail "Qr" (sprintf "a must be a matrix or a batch of them (…, m, n), got %s" (dims a))
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        let factor (tall: Expr) =
            let packed = LinalgNodes.qr tall
            let axis = packed.Rank - 2
            Expr.sliceAxis axis 0 m packed, Expr.sliceAxis axis m packed.Dims.[axis] packed
        if m >= n then factor a
        else
            let last = a.Rank - 1
            let q, u = factor (Expr.sliceAxis last 0 m a)
            let v = Expr.matmul (Expr.transpose q) (Expr.sliceAxis last m n a)
            q, Expr.concat last [ u; v ]

    /// torch.linalg.eigh: (eigenvalues (…, n) ascending, eigenvectors (…, n, n) as columns) of the
    /// symmetric a (…, n, n), reading its lower triangle (the gradient is torch's symmetric one, as
    /// for cholesky). Each eigenvector's largest entry is made
    /// positive. As in torch, eigenvectors are defined only up to sign (and, for a repeated
    /// eigenvalue, up to a rotation of its eigenspace), so only functions invariant to that choice
    /// have a well-defined gradient. Where two eigenvalues coincide the eigenvectors' gradient is not
    /// defined: as torch's rule, ours divides by their difference there, ±∞ that spreads to ±∞ or
    /// NaN, never a finite wrong number. A function of the eigenvalues alone passes no eigenvector
    /// cotangent (a symbolic zero, as torch's undefined one) and does not reach that term, so its
    /// gradient stays right at repeated eigenvalues; its second derivatives pass through the term
    /// and are ±∞ or NaN there, as torch's (even where, as for Σ w², a limit exists).
    let eigh (a: Expr) : Expr * Expr =
        let packed = LinalgNodes.eigh a
        let axis = packed.Rank - 2
        let n = a.Dims.[a.Rank - 1]
        Expr.reshape a.Dims.[.. a.Rank - 2] (Expr.sliceAxis axis 0 1 packed), Expr.sliceAxis axis 1 (n + 1) packed

    /// torch.linalg.eigvalsh: the ascending eigenvalues of the symmetric a (its lower triangle).
    let eigvalsh (a: Expr) : Expr = fst (eigh a)
