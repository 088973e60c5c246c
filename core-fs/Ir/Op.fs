/// The primitives of the graph: a payload-light union whose cases carry static parameters
/// (axes, shapes, slice bounds), never tensors other than a constant leaf's value.
namespace FunctionalDiff.Core

/// The body of a loop primitive (Op.Scan): a closed graph held by the node. Declared here, before
/// Expr exists, so that Op can name it; the one concrete body is ScanBody (Ir/ScanBody.fs). Bodies
/// are compared by reference and hashed by their Id.
[<AbstractClass; AllowNullLiteral>]
type LoopBody internal () =
    /// A process-wide number of this body, for hashing and printing.
    abstract Id: int

/// The primitives of the graph. Static parameters live in the case; the only tensor is the
/// Const leaf's value. Axes, shapes and slice bounds are stored normalised (non-negative).
[<RequireQualifiedAccess>]
type Op =
    /// A free variable: a leaf with its own identity (the serial), never merged with another.
    | Var of name: string * serial: int64
    /// A constant leaf wrapping a Tensor (compared by reference, scalars by value).
    | Const of Tensor
    /// An elementwise function of one argument.
    | Unary of UnaryOp
    /// An elementwise function of two arguments with NumPy/torch broadcasting.
    | Binary of BinaryOp
    /// Inputs (mask, ifTrue, ifFalse), broadcast together; nonzero mask entries pick ifTrue.
    | Where
    /// A reduction over sorted axes.
    | Reduce of ReduceOp * axes: int[] * keepDims: bool
    /// The index of the largest entry along an axis, as a float tensor (no gradient).
    | ArgMax of axis: int * keepDims: bool
    /// torch.matmul: vectors, matrices and broadcast batches of matrices.
    | MatMul
    /// Reorders axes: output axis i is input axis permutation[i].
    | Permute of permutation: int[]
    /// The same elements in another shape.
    | Reshape of shape: int[]
    /// NumPy broadcasting to a larger shape.
    | BroadcastTo of shape: int[]
    /// Strided slicing with 0 <= start <= stop <= dim and step >= 1 per axis.
    | Slice of starts: int[] * stops: int[] * steps: int[]
    /// Zero padding before and after each axis.
    | Pad of before: int[] * after: int[]
    /// Joins the inputs along an existing axis.
    | Concat of axis: int
    /// Reverses the order along the axes.
    | Flip of axes: int[]
    /// torch.gather: inputs (source, index); the output has the index's shape.
    | Gather of axis: int
    /// The adjoint of Gather: inputs (index, source), summed into zeros of `shape`.
    | ScatterAdd of axis: int * shape: int[]
    /// Converts to another dtype.
    | Cast of DType
    /// The identity whose cotangent is zero.
    | StopGradient
    /// A user-defined op (Diff.customVjp): inputs (x, forward x); its value is its second input
    /// and its cotangent comes from the user's rule, found in CustomRules under `id`.
    | Custom of id: int * name: string
    /// The lower Cholesky factor of symmetric positive-definite matrices (…, n, n); reads only
    /// the lower triangle, as torch.linalg.cholesky.
    | Cholesky
    /// Inputs (T, B) with equal batch axes: X with T X = B (`left`) or X T = B, reading only T's
    /// upper or lower triangle, and ones for its diagonal when `unitDiagonal`.
    | TriangularSolve of upper: bool * left: bool * unitDiagonal: bool
    /// Inputs (A, B) with equal batch axes, B (…, n, k): X with A X = B, by LU with partial pivoting.
    | Solve
    /// Packed (…, 2): the sign of det A and log|det A|. One node for both, since both come from one
    /// LU factorisation; the op language slices them apart.
    | SlogDet
    /// Packed (…, m + n, n): the reduced Q (m×n, m >= n) stacked above R (n×n), from one factorisation.
    | Qr
    /// Packed (…, n + 1, n): LU with partial pivoting of square matrices (…, n, n), as LAPACK's getrf
    /// and torch.linalg.lu_factor: the unit-lower L below the diagonal and U on and above it in rows
    /// 0..n-1, and in row n the pivots, 1-based (row j was swapped with row pivots[j] at step j), as
    /// integers in the dtype. One node for both, since both come from one factorisation.
    | Lu
    /// The permutation matrix P (…, n, n) of LU pivots (…, n) (1-based, as Lu gives them), with
    /// A = P L U. Piecewise constant in the pivots, so it passes no cotangent.
    | LuPermutation
    /// Packed (…, n + 1, n): the ascending eigenvalues in row 0 and the eigenvectors (columns) below,
    /// of the symmetric matrix whose lower triangle is read.
    | Eigh
    /// Packed (…, m + 1 + n, k), k = min(m, n): the thin SVD A = U diag(S) Vᵀ of A (…, m, n), with
    /// U (m×k) in rows 0..m-1, the descending singular values S in row m and V (n×k, not Vᵀ) below.
    | Svd
    /// ψ⁽ⁿ⁾, the n-th derivative of the digamma function (n = 0 is digamma), elementwise. The
    /// order is a static parameter, so the rule of order n is order n + 1 and nests to any order.
    | Polygamma of order: int
    /// The indices that sort the input along an axis, as a float tensor of the input's shape
    /// (no gradient, like ArgMax); sorted values are a Gather by them.
    | ArgSort of axis: int * descending: bool
    /// im2col over [N, C, H, W]: every sliding window (kernel, stride, zero padding, dilation, each
    /// [height; width]) as a column of [N, C·kh·kw, Ho·Wo]. Convolution and pooling are built on it.
    | Unfold of kernel: int[] * stride: int[] * padding: int[] * dilation: int[]
    /// The adjoint of Unfold: columns [N, C·kh·kw, Ho·Wo] added back into [N, C, H, W] of
    /// `outputSize` = [H; W].
    | Fold of outputSize: int[] * kernel: int[] * stride: int[] * padding: int[] * dilation: int[]
    /// A loop (lax.scan) of `length` steps over the body, without unrolling. Inputs are the initial
    /// carries, the xs stacked along axis 0 (length rows each) and the captured values; the output
    /// is one packed 1-D tensor: the final carries, then each ys stacked along a first axis of
    /// `length`, in the widest dtype of the parts. `reverse` runs the steps from the last row to
    /// the first (ys stay at their row); `remat` makes the VJP save only the carries and recompute
    /// each step in the backward loop.
    | Scan of body: LoopBody * length: int * reverse: bool * remat: bool
    /// exp(x - max) / Σ exp(x - max) along one axis. A primitive, not a composite, for its rule:
    /// see Rules.fs.
    | Softmax of axis: int
    /// (x - max) - log Σ exp(x - max) along one axis, a primitive for the same reason.
    | LogSoftmax of axis: int
    /// Softmax's pullback y·(g − Σ g·y) along one axis, of the cotangent g (input 0) and softmax's
    /// output y (input 1), torch's _softmax_backward_data. A primitive so that its own rule keeps the
    /// terms of g's tangent and of y's apart: see Rules.fs.
    | SoftmaxBackward of axis: int
    /// Log-softmax's pullback g − exp(y)·Σ g along one axis, of the cotangent g (input 0) and
    /// log-softmax's output y (input 1), torch's _log_softmax_backward_data. A primitive for the same
    /// reason as SoftmaxBackward: see Rules.fs.
    | LogSoftmaxBackward of axis: int
    /// w·a − v·Σ a·p along one axis, of inputs [a; p; w; v] of one shape: each run of a times the
    /// matrix diag(w) − v pᵀ. Linear in a, and its transpose in a is the same op with p and v
    /// swapped, so a rule that needs this map (softmax-backward's, for softmax's output;
    /// log-softmax-backward's, for its cotangent) and the transposition of that rule (forward mode)
    /// are each one node: see Rules.fs.
    | DiagonalMinusRankOne of axis: int
    /// The running sum along one axis (torch.cumsum), from the first entry, or from the last with
    /// `reverse` (what the forward sum's pullback is). A primitive: as a composite of shifted sums it
    /// took log2 n full passes each way and a graph that grew with the axis.
    | CumSum of axis: int * reverse: bool
    /// The matrix exponential of square matrices (…, n, n) (torch.linalg.matrix_exp), by scaling and squaring
    /// of a Taylor polynomial in float64.
    | MatrixExp
