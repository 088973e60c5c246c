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

    /// torch.linalg.matrix_exp: the exponential Σ Aᵏ/k! of each square matrix of a (…, n, n), by scaling and squaring
    /// a Taylor polynomial in float64 (rounded once for float32); NaN everywhere for a matrix holding ±∞ or NaN. Its
    /// rule is the upper-right block of exp([[Aᵀ, Ḡ], [0, Aᵀ]]), itself a matrix exponential, so every order follows.
    let matrixExp (a: Expr) : Expr = LinalgNodes.matrixExp a

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

    /// The factors (…, n, n) and pivots (…, n) of a packed Lu node (…, n + 1, n), whose last row holds the pivots.
    let internal luSplit (packed: Expr) =
        let axis = packed.Rank - 2
        let n = packed.Dims.[axis + 1]
        let pivots = Expr.sliceAxis axis n (n + 1) packed
        Expr.sliceAxis axis 0 n packed, Expr.reshape (Array.append packed.Dims.[.. axis - 1] [| n |]) pivots

    /// L (unit lower triangular) and U (upper triangular) of LU factors (…, n, n) as lu_factor packs them.
    let internal luTriangles (factors: Expr) =
        lowerTriangle -1 factors + identity factors.DType factors.Dims.[factors.Rank - 1], upperTriangle 0 factors

    /// The factors (…, n, n) and pivots (…, n) of one Lu node over a; `method` names the caller in errors.
    let private luParts (method: string) (a: Expr) = luSplit (LinalgNodes.lu method a)

    /// torch.linalg.lu_factor: (LU, pivots) of square a (…, n, n), by partial pivoting as LAPACK's getrf: LU (…, n, n)
    /// holds the unit-lower L below its diagonal and U on and above it, and pivots (…, n) the 1-based rows swapped at
    /// each step, as integers in a's dtype (torch's are int32). A singular a factors too, with a zero on U's diagonal, as
    /// in torch. Differentiable in a at every order through both triangles (the pivots are piecewise constant).
    let luFactor (a: Expr) : Expr * Expr = luParts "LuFactor" a

    /// Raises unless `factors` is (…, n, n) and `pivots` (…, n) with the same batch axes; returns n.
    let private luOperands (method: string) (factors: Expr) (pivots: Expr) =
        let n = LinalgNodes.square method "lu" factors
        if not (Ir.sameDims pivots.Dims factors.Dims.[.. factors.Rank - 2]) then
            Shape.fail method
                (sprintf "pivots must have lu's shape without its last axis, %s for lu %s; got %s"
                    (Shape.format factors.Dims.[.. factors.Rank - 2]) (dims factors) (dims pivots))
        n

    /// torch.lu_unpack: (P, L, U) from lu_factor's (LU, pivots), with A = P L U: P (…, n, n) the permutation of the
    /// pivots, L unit lower triangular and U upper triangular. L and U are the triangles of LU, so they carry its
    /// cotangent; P passes none. Evaluating it raises for a pivot that is not an integer in [1, n].
    let luUnpack (factors: Expr) (pivots: Expr) : Expr * Expr * Expr =
        luOperands "LuUnpack" factors pivots |> ignore
        let l, u = luTriangles factors
        LinalgNodes.luPermutation "LuUnpack" pivots, l, u

    /// torch.linalg.lu: (P, L, U) with a = P L U for square a (…, n, n), by partial pivoting (see luFactor).
    let lu (a: Expr) : Expr * Expr * Expr =
        let factors, pivots = luParts "Lu" a
        let l, u = luTriangles factors
        LinalgNodes.luPermutation "Lu" pivots, l, u

    /// torch.linalg.lu_solve: X with A X = b (`left`) or X A = b, or with Aᵀ for `adjoint`, where A = P L U is given
    /// by lu_factor's (LU, pivots). b is (…, n, k) for left and (…, k, n) otherwise; batch axes of LU and b broadcast.
    /// Two triangular solves, each reading its triangle of LU, and a product with P, so it differentiates in LU and b
    /// to any order (the pivots pass nothing). A zero on U's diagonal gives inf or NaN, as torch's triangular solves.
    let luSolve (left: bool, adjoint: bool) (factors: Expr) (pivots: Expr) (b: Expr) : Expr =
        let n = luOperands "LuSolve" factors pivots
        LinalgNodes.rightHandSide "LuSolve" "lu" left n factors b
        let p = LinalgNodes.luPermutation "LuSolve" pivots
        let withL transpose x = solveTriangularWith (false, left, transpose, true) factors x
        let withU transpose x = solveTriangularWith (true, left, transpose, false) factors x
        match left, adjoint with
        // P L U X = b: X = U⁻¹ L⁻¹ Pᵀ b
        | true, false -> withU false (withL false (Expr.matmul (Expr.transpose p) b))
        // Uᵀ Lᵀ Pᵀ X = b: X = P L⁻ᵀ U⁻ᵀ b
        | true, true -> Expr.matmul p (withL true (withU true b))
        // X P L U = b: X = b U⁻¹ L⁻¹ Pᵀ
        | false, false -> Expr.matmul (withL false (withU false b)) (Expr.transpose p)
        // X Uᵀ Lᵀ Pᵀ = b: X = b P L⁻ᵀ U⁻ᵀ
        | false, true -> withU true (withL true (Expr.matmul b p))

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

    /// torch.linalg.svd with full_matrices=False: (U (…, m, k), S (…, k) descending, Vh (…, k, n)),
    /// k = min(m, n), with a = U diag(S) Vh, by one-sided Jacobi in float64 for both dtypes. Signs:
    /// each column of U has its largest-magnitude entry positive (torch's signs are LAPACK's, also
    /// arbitrary), and a zero singular value's U column is completed to an orthonormal set. As in
    /// torch, U and Vh are defined only up to these choices, so only functions invariant to them (S,
    /// U diag(S) Vh, |U|, U Uᵀ, ...) have a well-defined gradient; where two singular values coincide
    /// (or, for m ≠ n, one is 0) the gradient through U or Vh is not defined and is ±∞ or NaN, as
    /// torch's. A function of S alone passes no U or Vh cotangent and stays right there.
    let svd (a: Expr) : Expr * Expr * Expr =
        let packed = LinalgNodes.svd a
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        let axis = packed.Rank - 2
        let values = Expr.sliceAxis axis m (m + 1) packed
        Expr.sliceAxis axis 0 m packed,
        Expr.reshape (Array.append a.Dims.[.. a.Rank - 3] [| min m n |]) values,
        Expr.transpose (Expr.sliceAxis axis (m + 1) (m + 1 + n) packed)

    /// torch.linalg.svdvals: the singular values of a (…, m, n), descending, (…, min(m, n)). Its
    /// gradient is U diag(S̄) Vh, right at repeated and zero singular values too.
    let svdvals (a: Expr) : Expr =
        let _, s, _ = svd a
        s

    /// The dtype's machine epsilon, torch.finfo(dtype).eps.
    let private epsilonOf (dtype: DType) =
        match dtype with
        | DType.Float32 -> Math.ScaleB(1.0, -23)
        | DType.Float64 -> Math.ScaleB(1.0, -52)

    /// torch's singular-value cutoff max(atol, rtol·σ₁) as (atol, rtol), pinv's and matrix_rank's defaults filled in:
    /// rtol = max(m, n)·ε of the dtype when atol is not given (or 0), else 0 unless given.
    let private tolerances (name: string) (atol: float option) (rtol: float option) (a: Expr) =
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        let atolValue = defaultArg atol 0.0
        let rtolValue =
            match rtol, atol with
            | Some r, _ -> r
            | None, Some t when t > 0.0 -> 0.0
            | None, _ -> float (max m n) * epsilonOf a.DType
        if atolValue < 0.0 || rtolValue < 0.0 || Double.IsNaN atolValue || Double.IsNaN rtolValue then
            raise (ArgumentOutOfRangeException("atol/rtol", sprintf "%s: atol %g and rtol %g must be >= 0" name atolValue rtolValue))
        struct (atolValue, rtolValue)

    /// A⁺ from the SVD: V diag(1/σ) Uᵀ over the σ above `cutoff` (…, 1), the others left out.
    let private pseudoInverseValue (cutoff: Expr -> Expr) (a: Expr) =
        let u, s, vh = svd a
        let kept = Expr.gt s (cutoff s)
        let one = Expr.scalar a.DType 1.0
        let inverted = Expr.where kept (one / Expr.where kept s one) (Expr.scalar a.DType 0.0)
        let scaled = Expr.transpose vh * Expr.reshape (Array.append s.Dims.[.. s.Rank - 2] [| 1; s.Dims.[s.Rank - 1] |]) inverted
        Expr.matmul scaled (Expr.transpose u)

    /// The pinv rules registered so far, one per cutoff (atol, rtol), kept by the module: a pinv node
    /// is hash-consed only with another of the same rule, so equal cutoffs share one.
    let private pinvRules = Collections.Generic.Dictionary<struct (float * float), CustomRule>()

    /// The pseudo-inverse with the cutoff max(atol, rtol·σ₁), its gradient torch's (Golub and
    /// Pereyra's derivative of A⁺ at constant rank): with P = A⁺ and Ḡ its cotangent,
    /// Ā = −Pᵀ Ḡ Pᵀ + (I − A P) Ḡᵀ P Pᵀ + Pᵀ P Ḡᵀ (I − P A). It reads P, not U and V, so it is right at
    /// repeated singular values, where the SVD's rule is not; and it is built from pinv itself, so it nests.
    let rec private pinvWith (atol: float) (rtol: float) (a: Expr) : Expr =
        let rule =
            lock pinvRules (fun () ->
                match pinvRules.TryGetValue(struct (atol, rtol)) with
                | true, rule -> rule
                | _ ->
                    let rule =
                        CustomRules.register "pinv" (fun a g ->
                            let p = pinvWith atol rtol a
                            let pt = Expr.transpose p
                            let gt = Expr.transpose g
                            let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
                            let leftRest = identity a.DType m - Expr.matmul a p
                            let rightRest = identity a.DType n - Expr.matmul p a
                            -(Expr.matmul pt (Expr.matmul g pt))
                            + Expr.matmul leftRest (Expr.matmul gt (Expr.matmul p pt))
                            + Expr.matmul (Expr.matmul pt p) (Expr.matmul gt rightRest))
                    pinvRules.[struct (atol, rtol)] <- rule
                    rule)
        let cutoff (s: Expr) =
            let largest = Expr.sliceAxis (s.Rank - 1) 0 (min 1 s.Dims.[s.Rank - 1]) s
            let relative = if s.Dims.[s.Rank - 1] = 0 then Expr.zeros s.DType largest.Dims else largest * rtol
            Expr.maximum relative (Expr.scalar s.DType atol)
        Expr.custom rule a (pseudoInverseValue cutoff a)

    /// torch.linalg.pinv(a, atol, rtol): the Moore–Penrose pseudo-inverse (…, n, m) of a (…, m, n), from
    /// its SVD, with the singular values at or below max(atol, rtol·σ₁) treated as 0. torch's defaults:
    /// rtol = max(m, n)·ε of the dtype when atol is not given (None here) or 0, else rtol = 0 unless
    /// given. The gradient is torch's, right wherever the rank does not change (repeated singular
    /// values included); at a singular value crossing the cutoff A⁺ jumps and has none.
    let pinvWithTolerances (atol: float option) (rtol: float option) (a: Expr) : Expr =
        if a.Rank < 2 then
            Shape.fail "Pinv" (sprintf "a must be a matrix or a batch of them (…, m, n), got %s" (dims a))
        let struct (atolValue, rtolValue) = tolerances "Pinv" atol rtol a
        pinvWith atolValue rtolValue a

    /// torch.linalg.pinv with its default cutoff: singular values at or below max(m, n)·ε·σ₁ count as 0.
    let pinv (a: Expr) : Expr = pinvWithTolerances None None a

    /// The solution of torch.linalg.lstsq(a, b): X (…, n, k) minimising ‖a X − b‖ for a (…, m, n) and
    /// b (…, m, k), the one of least norm when several do (a wide or rank-deficient a), as A⁺ b with
    /// pinv's default cutoff (`rcond`, relative to σ₁, when given). torch's CPU default driver, gelsy,
    /// gives the same X for a matrix of full rank (its rank decision differs in detail near the cutoff).
    /// Batch axes broadcast. Its gradient is torch's: pinv's in a and A⁺ᵀ X̄ in b.
    let lstsqWith (rcond: float option) (a: Expr) (b: Expr) : Expr =
        if a.Rank < 2 || b.Rank < 2 || a.Dims.[a.Rank - 2] <> b.Dims.[b.Rank - 2] then
            Shape.fail "Lstsq"
                (sprintf "a (…, m, n) and b (…, m, k) must be matrices with the same number of rows, got a %s and b %s" (dims a) (dims b))
        let struct (a, b) = ExprCore.promote a b
        Expr.matmul (pinvWithTolerances None rcond a) b

    /// lstsqWith with the default cutoff.
    let lstsq (a: Expr) (b: Expr) : Expr = lstsqWith None a b

    /// torch.linalg.matrix_norm(a, ord) for ord 2 (the largest singular value), −2 (the smallest) and
    /// the nuclear norm (their sum), over the last two axes, keeping them as 1s with `keepDims`.
    /// Their gradients are svdvals': U e₁ V₁ᵀ for ord 2, U Vh for the nuclear norm.
    let private singularValueNorm (name: string) (pick: Expr -> Expr) (keepDims: bool) (a: Expr) =
        if a.Rank < 2 then Shape.fail name (sprintf "a must be a matrix or a batch of them (…, m, n), got %s" (dims a))
        let batch = a.Dims.[.. a.Rank - 3]
        let norm = Expr.reshape batch (pick (svdvals a))
        if keepDims then Expr.reshape (Array.append batch [| 1; 1 |]) norm else norm

    /// The spectral norm, torch.linalg.matrix_norm(a, ord=2): the largest singular value.
    let spectralNorm (keepDims: bool) (a: Expr) =
        singularValueNorm "MatrixNorm" (fun s -> Expr.sliceAxis (s.Rank - 1) 0 1 s) keepDims a

    /// torch.linalg.matrix_norm(a, ord=-2): the smallest singular value.
    let smallestSingularValue (keepDims: bool) (a: Expr) =
        singularValueNorm "MatrixNorm" (fun s -> let k = s.Dims.[s.Rank - 1] in Expr.sliceAxis (s.Rank - 1) (k - 1) k s) keepDims a

    /// The nuclear norm, torch.linalg.matrix_norm(a, ord='nuc'): the sum of the singular values.
    let nuclearNorm (keepDims: bool) (a: Expr) =
        singularValueNorm "MatrixNorm" (fun s -> Expr.sumAxes [| s.Rank - 1 |] true s) keepDims a

    /// torch.linalg.matrix_norm(a, ord) for a numeric ord over the last two axes: 2 and −2 (the largest and
    /// smallest singular value), 1 and −1 (the largest and smallest sum of |entries| of a column), ∞ and −∞
    /// (of a row). The 'fro' and 'nuc' norms are `Statistics.frobenius` and `nuclearNorm`.
    let matrixNorm (ord: float) (keepDims: bool) (a: Expr) : Expr =
        if a.Rank < 2 then Shape.fail "MatrixNorm" (sprintf "a must be a matrix or a batch of them (…, m, n), got %s" (dims a))
        let sums (axis: int) pick =
            let total = Expr.sumAxes [| axis |] true (Expr.abs a)
            let picked = pick [| a.Rank - 2; a.Rank - 1 |] true total
            if keepDims then picked else Expr.reshape a.Dims.[.. a.Rank - 3] picked
        match ord with
        | 2.0 -> spectralNorm keepDims a
        | -2.0 -> smallestSingularValue keepDims a
        | 1.0 -> sums (a.Rank - 2) Expr.maxAxes
        | -1.0 -> sums (a.Rank - 2) Expr.minAxes
        | o when Double.IsPositiveInfinity o -> sums (a.Rank - 1) Expr.maxAxes
        | o when Double.IsNegativeInfinity o -> sums (a.Rank - 1) Expr.minAxes
        | o -> raise (ArgumentOutOfRangeException("ord", sprintf "MatrixNorm: ord %g is not one of 2, -2, 1, -1, inf, -inf (or 'fro', 'nuc')" o))

    let private atLeastMatrix (name: string) (a: Expr) =
        if a.Rank < 2 then Shape.fail name (sprintf "a must be a matrix or a batch of them (…, m, n), got %s" (dims a))

    /// torch.linalg.cond(a, p) for a numeric p: 2 (torch's default) is σ₁/σₙ and −2 σₙ/σ₁, from the singular values
    /// of any (…, m, n); 1, −1, ∞ and −∞ are ‖a‖ₚ·‖a⁻¹‖ₚ of a square a (evaluating raises at an exactly singular a,
    /// where torch returns ∞). Derivatives are svdvals' or the inverse's.
    let cond (p: float) (a: Expr) : Expr =
        atLeastMatrix "Cond" a
        match p with
        | 2.0 | -2.0 ->
            let s = svdvals a
            let last = s.Rank - 1
            let k = s.Dims.[last]
            let batch = a.Dims.[.. a.Rank - 3]
            let largest = Expr.reshape batch (Expr.sliceAxis last 0 1 s)
            let smallest = Expr.reshape batch (Expr.sliceAxis last (k - 1) k s)
            if p = 2.0 then largest / smallest else smallest / largest
        | _ when p = 1.0 || p = -1.0 || Double.IsInfinity p ->
            LinalgNodes.square "Cond" "a" a |> ignore
            matrixNorm p false a * matrixNorm p false (inverse a)
        | _ -> raise (ArgumentOutOfRangeException("p", sprintf "Cond: p %g is not one of 2, -2, 1, -1, inf, -inf (or 'fro', 'nuc')" p))

    /// torch.linalg.cond(a, 'fro'): ‖a‖_F·‖a⁻¹‖_F of a square a.
    let condFrobenius (a: Expr) : Expr =
        LinalgNodes.square "Cond" "a" a |> ignore
        let frobenius (x: Expr) = Expr.sqrt (Expr.sumAxes [| x.Rank - 2; x.Rank - 1 |] false (Expr.square x))
        frobenius a * frobenius (inverse a)

    /// torch.linalg.cond(a, 'nuc'): the nuclear norms of a and a⁻¹ multiplied, for a square a.
    let condNuclear (a: Expr) : Expr =
        LinalgNodes.square "Cond" "a" a |> ignore
        nuclearNorm false a * nuclearNorm false (inverse a)

    /// torch.linalg.matrix_rank(a, atol, rtol, hermitian): how many singular values (absolute eigenvalues with
    /// `hermitian`) exceed max(atol, rtol·σ₁), with pinv's defaults for the tolerances; a count in a's dtype (torch
    /// gives int64), without derivative.
    let matrixRank (atol: float option) (rtol: float option) (hermitian: bool) (a: Expr) : Expr =
        atLeastMatrix "MatrixRank" a
        if hermitian && a.Dims.[a.Rank - 2] <> a.Dims.[a.Rank - 1] then
            Shape.fail "MatrixRank" (sprintf "a hermitian a must be square, got %s" (dims a))
        let struct (atolValue, rtolValue) = tolerances "MatrixRank" atol rtol a
        let values = if hermitian then Expr.abs (eigvalsh a) else svdvals a
        let last = values.Rank - 1
        if values.Dims.[last] = 0 then Expr.zeros a.DType a.Dims.[.. a.Rank - 3]
        else
            let largest = Expr.maxAxes [| last |] true values
            let cutoff = Expr.maximum (largest * rtolValue) (Expr.scalar a.DType atolValue)
            Expr.stopGradient (Expr.sumAxes [| last |] false (Expr.gt values cutoff))

