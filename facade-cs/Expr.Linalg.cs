using CoreLinalg = FunctionalDiff.Core.Linalg;
using CoreStructure = FunctionalDiff.Core.Structure;

namespace FunctionalDiff;

/// <summary>Sign and log-absolute-determinant, as torch.linalg.slogdet returns them.</summary>
/// <param name="Sign">The sign of the determinant: −1, 0 (singular) or 1; it has no gradient.</param>
/// <param name="LogAbsDet">log|det|, −∞ for a singular matrix.</param>
public sealed record SlogDetResult(Expr Sign, Expr LogAbsDet);

/// <summary>The reduced QR decomposition A = Q R.</summary>
/// <param name="Q">(…, m, n) with orthonormal columns.</param>
/// <param name="R">(…, n, n), upper triangular.</param>
public sealed record QrResult(Expr Q, Expr R);

/// <summary>The symmetric eigendecomposition A = V diag(w) Vᵀ.</summary>
/// <param name="Eigenvalues">(…, n), ascending.</param>
/// <param name="Eigenvectors">(…, n, n), the eigenvectors as columns.</param>
public sealed record EighResult(Expr Eigenvalues, Expr Eigenvectors);

/// <summary>The thin singular value decomposition A = U diag(S) Vh.</summary>
/// <param name="U">(…, m, k) with orthonormal columns, k = min(m, n).</param>
/// <param name="S">(…, k), the singular values, descending.</param>
/// <param name="Vh">(…, k, n) with orthonormal rows.</param>
public sealed record SvdResult(Expr U, Expr S, Expr Vh);

// Linear algebra with torch.linalg's conventions, batched over leading axes. Each method is
// differentiable to any order: the rules are written with these same operations.
public sealed partial class Expr
{
    /// <summary>
    /// The lower Cholesky factor L of this symmetric positive-definite matrix (…, n, n), with this = L Lᵀ
    /// (torch.linalg.cholesky). Only the lower triangle is read; the gradient is torch's symmetric one,
    /// right for perturbations that keep the matrix symmetric. Evaluating it throws an
    /// <see cref="ArgumentException"/> naming the shape and batch entry when a matrix is not positive definite.
    /// </summary>
    public Expr Cholesky() => Wrap(CoreLinalg.cholesky(Node));

    /// <summary>
    /// Solves a triangular system with this (…, n, n) as the triangular matrix A (torch.linalg.solve_triangular):
    /// X with op(A) X = b when <paramref name="left"/>, or X op(A) = b otherwise, where op(A) is A, or Aᵀ with
    /// <paramref name="transpose"/>. Only the upper or lower triangle of A is read, with ones assumed on its
    /// diagonal when <paramref name="unitriangular"/>. b is (…, n, k) for left and (…, k, n) otherwise; batch axes
    /// broadcast. A zero on the diagonal gives inf or NaN, as in torch.
    /// </summary>
    public Expr SolveTriangular(Expr b, bool upper, bool left = true, bool transpose = false, bool unitriangular = false)
    {
        var (a, bb) = Align(this, b);
        return Wrap(CoreLinalg.solveTriangularWith(upper, left, transpose, unitriangular, a, bb));
    }

    /// <summary>
    /// X with A X = this, where <paramref name="factor"/> is A's Cholesky factor (torch.cholesky_solve(b, L), TorchSharp's
    /// <c>b.cholesky_solve(L)</c>): lower with A = L Lᵀ (as <see cref="Cholesky"/> gives it), or upper with A = Uᵀ U
    /// when <paramref name="upper"/>. This is b (…, n, k), a matrix as in torch (a vector y is <c>y.Unsqueeze(-1)</c>);
    /// batch axes broadcast. Two triangular solves, each reading only its triangle of the factor, so it differentiates
    /// in b and in the factor to any order, as <see cref="SolveTriangular"/> does.
    /// </summary>
    /// <exception cref="ArgumentException">The factor is not square, or b is not a matrix with its rows.</exception>
    public Expr CholeskySolve(Expr factor, bool upper = false)
    {
        var (b, l) = Align(this, factor);
        return Wrap(CoreLinalg.choleskySolve(upper, l, b));
    }

    /// <summary>
    /// X with this · X = b (torch.linalg.solve), by LU with partial pivoting. b is (…, n, k), or a vector (n) or
    /// a batch of vectors (…, n) when its shape is this matrix's without the last axis; the result has b's form.
    /// Batch axes broadcast. Evaluating it throws an <see cref="ArgumentException"/> for an exactly singular matrix.
    /// </summary>
    public Expr Solve(Expr b)
    {
        var (a, bb) = Align(this, b);
        return Wrap(CoreLinalg.solve(a, bb));
    }

    /// <summary>The inverse of this square matrix (…, n, n), as the solution of this · X = I.</summary>
    public Expr Inverse() => Wrap(CoreLinalg.inverse(Node));

    /// <summary>
    /// The determinant of this square matrix (…, n, n) (torch.linalg.det). Up to 3×3 it is the cofactor expansion, so
    /// its gradient is the cofactor matrix even at a singular matrix, and its derivatives of every order are exact.
    /// Larger matrices take sign · exp(log|det|) from an LU factorisation: the value is 0 at an exactly singular matrix,
    /// but evaluating the gradient there throws an <see cref="ArgumentException"/>, as <see cref="Solve"/> does (torch
    /// returns a finite gradient).
    /// </summary>
    public Expr Det() => Wrap(CoreLinalg.det(Node));

    /// <summary>
    /// The sign and log|det| of this square matrix (…, n, n) (torch.linalg.slogdet): (0, −∞) for a singular matrix.
    /// The gradient flows through <see cref="SlogDetResult.LogAbsDet"/> only.
    /// </summary>
    public SlogDetResult SlogDet()
    {
        var parts = CoreLinalg.slogdet(Node);
        return new SlogDetResult(Wrap(parts.Item1), Wrap(parts.Item2));
    }

    /// <summary>
    /// log(det) of this square matrix (torch.logdet): NaN where det &lt; 0 and −∞ where it is 0. Its gradient is A⁻ᵀ, which
    /// an exactly singular matrix does not have: evaluating it there throws an <see cref="ArgumentException"/> (torch's
    /// is ±inf); so does the gradient of <see cref="SlogDet"/>'s LogAbsDet.
    /// </summary>
    public Expr LogDet() => Wrap(CoreLinalg.logdet(Node));

    /// <summary>
    /// The reduced QR decomposition of this (…, m, n) matrix (torch.linalg.qr, mode "reduced"): Q (…, m, k) with
    /// orthonormal columns and R (…, k, n) upper triangular, k = min(m, n), so a wide matrix (m &lt; n) gives a square
    /// Q and an m × n R. By Householder reflections with LAPACK's sign convention, so R's diagonal signs agree with
    /// torch's.
    /// </summary>
    public QrResult Qr()
    {
        var parts = CoreLinalg.qr(Node);
        return new QrResult(Wrap(parts.Item1), Wrap(parts.Item2));
    }

    /// <summary>
    /// The LU factorisation with partial pivoting of this square matrix (…, n, n) (torch.linalg.lu_factor), as
    /// LAPACK's getrf: <c>LU</c> (…, n, n) holds the unit-lower L below its diagonal and U on and above it, and
    /// <c>Pivots</c> (…, n) the 1-based row swapped with row i at step i, as integers in this dtype (torch's are
    /// int32). A singular matrix factors too, with a zero on U's diagonal, as in torch. LU is differentiable to any
    /// order (the pivots are piecewise constant and have no gradient). Pass both to <see cref="LuSolve"/> or
    /// <see cref="LuUnpack"/>.
    /// </summary>
    /// <exception cref="ArgumentException">This is not a square matrix or a batch of them.</exception>
    public (Expr LU, Expr Pivots) LuFactor()
    {
        var parts = CoreLinalg.luFactor(Node);
        return (Wrap(parts.Item1), Wrap(parts.Item2));
    }

    /// <summary>
    /// The LU factorisation with partial pivoting of this square matrix (…, n, n) as this = P L U (torch.linalg.lu): P
    /// a permutation matrix, L unit lower triangular and U upper triangular, each (…, n, n). L and U are differentiable
    /// to any order; P has no gradient. See <see cref="LuFactor"/> for the pivoting and singular matrices.
    /// </summary>
    /// <exception cref="ArgumentException">This is not a square matrix or a batch of them.</exception>
    public (Expr P, Expr L, Expr U) Lu()
    {
        var parts = CoreLinalg.lu(Node);
        return (Wrap(parts.Item1), Wrap(parts.Item2), Wrap(parts.Item3));
    }

    /// <summary>
    /// (P, L, U) from <see cref="LuFactor"/>'s results (torch.lu_unpack), with A = P L U: P (…, n, n) the permutation of
    /// the pivots, L the unit-lower triangle of <paramref name="lu"/> and U its upper triangle. L and U carry lu's
    /// gradient; P has none. Evaluating it throws an <see cref="ArgumentException"/> when a pivot is not an integer in
    /// [1, n].
    /// </summary>
    /// <param name="lu">The packed factors (…, n, n).</param>
    /// <param name="pivots">The 1-based pivots (…, n).</param>
    /// <exception cref="ArgumentException">lu is not square, or pivots is not lu's shape without its last axis.</exception>
    public static (Expr P, Expr L, Expr U) LuUnpack(Expr lu, Expr pivots)
    {
        ArgumentNullException.ThrowIfNull(lu);
        ArgumentNullException.ThrowIfNull(pivots);
        var parts = CoreLinalg.luUnpack(lu.Node, pivots.Node);
        return (Wrap(parts.Item1), Wrap(parts.Item2), Wrap(parts.Item3));
    }

    /// <summary>
    /// Solves with the matrix A = P L U that <see cref="LuFactor"/> gave (torch.linalg.lu_solve): X with A X = b when
    /// <paramref name="left"/>, or X A = b otherwise, with Aᵀ in place of A when <paramref name="adjoint"/>. b is
    /// (…, n, k) for left and (…, k, n) otherwise; batch axes broadcast. Two triangular solves and a product with P, so
    /// it is differentiable in lu and b to any order (the pivots have no gradient). A zero on U's diagonal gives inf or
    /// NaN, as in torch. Evaluating it throws an <see cref="ArgumentException"/> when a pivot is not an integer in
    /// [1, n].
    /// </summary>
    /// <param name="lu">The packed factors (…, n, n).</param>
    /// <param name="pivots">The 1-based pivots (…, n).</param>
    /// <param name="b">The right-hand side.</param>
    /// <param name="left">Solve A X = b (true) or X A = b (false).</param>
    /// <param name="adjoint">Solve with Aᵀ instead of A.</param>
    /// <exception cref="ArgumentException">lu is not square, pivots is not lu's shape without its last axis, or b does
    /// not fit.</exception>
    public static Expr LuSolve(Expr lu, Expr pivots, Expr b, bool left = true, bool adjoint = false)
    {
        ArgumentNullException.ThrowIfNull(lu);
        ArgumentNullException.ThrowIfNull(pivots);
        ArgumentNullException.ThrowIfNull(b);
        return Wrap(CoreLinalg.luSolve(left, adjoint, lu.Node, pivots.Node, b.Node));
    }

    /// <summary>
    /// The eigenvalues (ascending) and eigenvectors (columns) of this symmetric matrix (…, n, n), reading its lower
    /// triangle (torch.linalg.eigh). Eigenvectors are defined only up to sign (each one's largest entry is made
    /// positive), and for a repeated eigenvalue only up to a rotation of its eigenspace: as in torch, only
    /// functions that do not depend on that choice have a gradient, and where eigenvalues coincide the
    /// eigenvectors' gradient is not defined: as torch's rule, ours divides by their difference there, ±∞ that spreads
    /// to ±∞ or NaN, never a finite wrong number. A function of the eigenvalues alone passes no eigenvector cotangent
    /// and does not reach that term, so its gradient stays right at repeated eigenvalues; its second derivatives pass
    /// through the term and are ±∞ or NaN there, as torch's (even where, as for Σ wᵢ², a limit exists).
    /// </summary>
    public EighResult Eigh()
    {
        var parts = CoreLinalg.eigh(Node);
        return new EighResult(Wrap(parts.Item1), Wrap(parts.Item2));
    }

    /// <summary>The ascending eigenvalues of this symmetric matrix (…, n, n), reading its lower triangle (torch.linalg.eigvalsh).</summary>
    public Expr EigvalsH() => Wrap(CoreLinalg.eigvalsh(Node));

    /// <summary>
    /// The thin singular value decomposition of this (…, m, n) matrix (torch.linalg.svd with full_matrices=False):
    /// U (…, m, k), S (…, k) descending and Vh (…, k, n), k = min(m, n), with this = U diag(S) Vh, by one-sided
    /// Jacobi rotations in float64 (float32 too), which never forms AᵀA. Singular vectors are defined only up to
    /// sign (ours: each column of U has its largest-magnitude entry positive, V's column follows; torch's are
    /// LAPACK's), so compare and differentiate only functions that do not depend on that choice. As in torch, where
    /// two singular values coincide (or, for m ≠ n, one is 0) the gradient through U or Vh is not defined and comes
    /// out ±∞ or NaN; a function of S alone passes no cotangent to U and Vh and its gradient, U diag(S̄) Vh, is
    /// right there too. A non-finite entry gives NaN everywhere, as LAPACK does.
    /// </summary>
    /// <exception cref="ArgumentException">This is not a matrix or a batch of them.</exception>
    public SvdResult Svd()
    {
        var parts = CoreLinalg.svd(Node);
        return new SvdResult(Wrap(parts.Item1), Wrap(parts.Item2), Wrap(parts.Item3));
    }

    /// <summary>
    /// The singular values of this (…, m, n) matrix, descending, (…, min(m, n)) (torch.linalg.svdvals). Its gradient
    /// is U diag(S̄) Vh, well defined at repeated and zero singular values.
    /// </summary>
    /// <exception cref="ArgumentException">This is not a matrix or a batch of them.</exception>
    public Expr SvdVals() => Wrap(CoreLinalg.svdvals(Node));

    /// <summary>
    /// The Moore–Penrose pseudo-inverse (…, n, m) of this (…, m, n) matrix (torch.linalg.pinv), from its SVD, with the
    /// singular values at or below max(<paramref name="atol"/>, <paramref name="rtol"/>·σ₁) taken as 0. torch's
    /// defaults: atol 0, and rtol max(m, n)·ε of the dtype when atol is not given or 0, else 0. The gradient is torch's
    /// (the derivative of A⁺ at constant rank), right at repeated singular values too.
    /// </summary>
    /// <exception cref="ArgumentException">This is not a matrix or a batch of them.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A tolerance is negative or NaN.</exception>
    public Expr Pinv(double? atol = null, double? rtol = null) =>
        Wrap(CoreLinalg.pinvWithTolerances(Option(atol), Option(rtol), Node));

    /// <summary>
    /// The solution X (…, n, k) of torch.linalg.lstsq(this, b): the X minimising ‖this · X − b‖ for this (…, m, n) and
    /// b (…, m, k), the one of least norm when several do (a wide or rank-deficient matrix), computed as
    /// <see cref="Pinv"/>(this) · b with singular values at or below <paramref name="rcond"/>·σ₁ (default max(m, n)·ε)
    /// taken as 0. torch's CPU driver (gelsy) gives the same X for a matrix of full rank. Batch axes broadcast.
    /// </summary>
    /// <exception cref="ArgumentException">b is not a matrix with this matrix's number of rows.</exception>
    public Expr Lstsq(Expr b, double? rcond = null)
    {
        var (a, bb) = Align(this, b);
        return Wrap(CoreLinalg.lstsqWith(Option(rcond), a, bb));
    }

    /// <summary>
    /// The matrix norm over the last two axes (torch.linalg.matrix_norm) for a numeric <paramref name="ord"/>: 2 and −2
    /// (the largest and smallest singular value, from <see cref="SvdVals"/>), 1 and −1 (the largest and smallest
    /// column sum of |entries|), +∞ and −∞ (row sums). With <paramref name="keepDims"/> the two axes stay as 1s.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ord"/> is not one of those.</exception>
    public Expr MatrixNorm(double ord, bool keepDims = false) => Wrap(CoreLinalg.matrixNorm(ord, keepDims, Node));

    /// <summary>
    /// The matrix norm over the last two axes (torch.linalg.matrix_norm) for <paramref name="ord"/> "fro" (the
    /// Frobenius norm, <see cref="FrobeniusNorm"/>) or "nuc" (the nuclear norm: the sum of the singular values,
    /// whose gradient is U Vh).
    /// </summary>
    /// <exception cref="ArgumentNullException"><paramref name="ord"/> is null.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="ord"/> is neither "fro" nor "nuc".</exception>
    public Expr MatrixNorm(string ord, bool keepDims = false) => ord switch
    {
        null => throw new ArgumentNullException(nameof(ord)),
        "fro" => FrobeniusNorm(keepDims),
        "nuc" => Wrap(CoreLinalg.nuclearNorm(keepDims, Node)),
        _ => throw new ArgumentOutOfRangeException(nameof(ord), $"MatrixNorm: ord \"{ord}\" is not \"fro\" or \"nuc\" (or a number: 2, -2, 1, -1, inf, -inf)"),
    };

    /// <summary>
    /// The condition number (torch.linalg.cond) for a numeric <paramref name="p"/>: 2 (the default) σ₁/σₙ and −2 σₙ/σ₁,
    /// from <see cref="SvdVals"/>, for any (…, m, n); 1, −1, +∞ and −∞ ‖A‖ₚ·‖A⁻¹‖ₚ of a square A (evaluating raises at
    /// an exactly singular A, where torch returns ∞). F#: <c>Linalg.cond</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is not one of those.</exception>
    public Expr Cond(double p = 2.0) => Wrap(CoreLinalg.cond(p, Node));

    /// <summary>The condition number (torch.linalg.cond) for <paramref name="p"/> "fro" or "nuc": the norms of A and A⁻¹ multiplied.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="p"/> is neither "fro" nor "nuc".</exception>
    public Expr Cond(string p) => p switch
    {
        null => throw new ArgumentNullException(nameof(p)),
        "fro" => Wrap(CoreLinalg.condFrobenius(Node)),
        "nuc" => Wrap(CoreLinalg.condNuclear(Node)),
        _ => throw new ArgumentOutOfRangeException(nameof(p), $"Cond: p \"{p}\" is not \"fro\" or \"nuc\" (or a number: 2, -2, 1, -1, inf, -inf)"),
    };

    /// <summary>
    /// The numerical rank (torch.linalg.matrix_rank): how many singular values (absolute eigenvalues with
    /// <paramref name="hermitian"/>) exceed max(atol, rtol·σ₁), with <see cref="Pinv"/>'s defaults for the tolerances.
    /// A count in this dtype (torch gives int64), without derivative. F#: <c>Linalg.matrixRank</c>.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">A negative tolerance.</exception>
    public Expr MatrixRank(double? atol = null, double? rtol = null, bool hermitian = false) =>
        Wrap(CoreLinalg.matrixRank(Option(atol), Option(rtol), hermitian, Node));

    /// <summary>
    /// The vector norm over <paramref name="axes"/> (every axis when null) as torch.linalg.vector_norm: the same as
    /// <see cref="Norm(double, int[], bool)"/> (ord 0 counts the nonzero entries, ±∞ the largest and smallest |entry|).
    /// </summary>
    public Expr VectorNorm(double ord = 2.0, int[]? axes = null, bool keepDims = false) => Norm(ord, axes ?? AllAxes, keepDims);

    /// <summary>The sum of the main diagonal of this matrix (torch.trace); rectangular matrices allowed, rank 2 only.</summary>
    public Expr Trace() => Wrap(CoreStructure.trace(Node));

    /// <summary>
    /// The inner product of this vector [n] and <paramref name="other"/> [n], a scalar (torch.dot, TorchSharp's
    /// <c>a.dot(b)</c>); both must be vectors of one length, as torch's (<see cref="MatMul"/> of two vectors is the same
    /// number). F#: <c>Structure.dot</c>.
    /// </summary>
    /// <exception cref="ArgumentException">Either operand is not a vector, or their lengths differ.</exception>
    public Expr Dot(Expr other) { var (a, b) = Align(this, other); return Wrap(CoreStructure.dot(a, b)); }

    /// <summary>The outer product of this vector [n] and <paramref name="other"/> [m], an [n, m] matrix (torch.outer).</summary>
    public Expr Outer(Expr other) { var (a, b) = Align(this, other); return Wrap(CoreStructure.outer(a, b)); }

    /// <summary>
    /// The cross product along an axis of length 3 (torch.linalg.cross). Both operands have the same rank; the other
    /// axes broadcast.
    /// </summary>
    /// <param name="other">The right operand.</param>
    /// <param name="axis">The axis of length 3 in both operands.</param>
    public Expr Cross(Expr other, int axis = -1) { var (a, b) = Align(this, other); return Wrap(CoreStructure.cross(axis, a, b)); }
}
