/// The batching table: one arm per primitive, giving the node that computes a primitive for a
/// whole batch at once from batched inputs. It is vmap's counterpart of the VJP table in Rules.fs:
/// rules use only the op language, so a batched graph can be differentiated, batched again, or
/// evaluated like any other, and the compiler's exhaustiveness check proves every primitive (and
/// every elementwise and reduction kind) has a rule.
///
/// Convention: a batched value carries its batch axis FIRST, so a node of per-example shape d is
/// batched as [size] @ d. Keeping one position avoids tracking an axis per node; the walk in
/// Vmap.fs moves the arguments' axes to the front and the outputs' to where the caller asked.
namespace FunctionalDiff.Core

/// A node's value under vmap: the Expr, and whether it carries the batch axis first (an unbatched
/// value is the same for every example and keeps its per-example shape).
[<Struct>]
type internal Batched = { Value: Expr; IsBatched: bool }

/// The batching rules.
[<RequireQualifiedAccess>]
module internal BatchingRules =

    /// A batched value made to broadcast against per-example values of rank `rank`: unit axes go
    /// right after the batch axis, so right-aligned broadcasting lines the example axes up.
    /// Unbatched values already broadcast correctly and are returned as they are.
    let lift (rank: int) (x: Batched) =
        let e = x.Value
        if not x.IsBatched || e.Rank - 1 >= rank then e
        else
            let d = e.Dims
            Expr.reshape (Array.concat [ [| d.[0] |]; Array.create (rank - (d.Length - 1)) 1; d.[1..] ]) e

    /// The value with its batch axis present: an unbatched value is broadcast along a new first
    /// axis (ops that pair entries, such as gather and concat, need both operands batched).
    let expand (size: int) (x: Batched) =
        if x.IsBatched then x.Value else Expr.broadcastTo (Array.append [| size |] x.Value.Dims) x.Value

    /// Axes of a per-example value, shifted past the batch axis.
    let private shift (axes: int[]) = axes |> Array.map (fun a -> a + 1)

    /// An elementwise function of one argument batches as itself: each kind is listed so that a new
    /// kind must be placed here on purpose.
    let private unary (op: UnaryOp) (x: Expr) =
        match op with
        | UnaryOp.Neg | UnaryOp.Exp | UnaryOp.Log | UnaryOp.Log1p | UnaryOp.Expm1 | UnaryOp.Sin
        | UnaryOp.Cos | UnaryOp.Tan | UnaryOp.Tanh | UnaryOp.Sigmoid | UnaryOp.Relu | UnaryOp.Abs
        | UnaryOp.Sign | UnaryOp.Sqrt | UnaryOp.Rsqrt | UnaryOp.Square | UnaryOp.Reciprocal
        | UnaryOp.Erf | UnaryOp.Floor | UnaryOp.Ceil | UnaryOp.Round | UnaryOp.Erfc
        | UnaryOp.Lgamma | UnaryOp.Softplus | UnaryOp.SigmoidSlope | UnaryOp.Gelu | UnaryOp.GeluSlope
        | UnaryOp.TanhSlope | UnaryOp.I0 | UnaryOp.I0e | UnaryOp.I1 | UnaryOp.I1e | UnaryOp.Erfcx | UnaryOp.Ndtr
        | UnaryOp.LogNdtr | UnaryOp.Ndtri | UnaryOp.BesselJ0 | UnaryOp.BesselJ1 | UnaryOp.BesselY0 | UnaryOp.BesselY1
        | UnaryOp.ModifiedBesselK0 | UnaryOp.ModifiedBesselK1 | UnaryOp.ScaledModifiedBesselK0
        | UnaryOp.ScaledModifiedBesselK1 -> Expr.unary op x

    /// Elementwise functions of two arguments batch as themselves once the operands are aligned.
    let private binary (op: BinaryOp) (a: Expr) (b: Expr) =
        match op with
        | BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul | BinaryOp.Div | BinaryOp.Pow | BinaryOp.Maximum
        | BinaryOp.Minimum | BinaryOp.Atan2 | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater
        | BinaryOp.GreaterEqual | BinaryOp.Equal | BinaryOp.NotEqual | BinaryOp.Fmod | BinaryOp.Gammainc
        | BinaryOp.Gammaincc | BinaryOp.Zeta -> Expr.binary op a b

    /// Every reduction kind reduces the same axes, one further along.
    let private reduce (op: ReduceOp) (axes: int[]) (keepDims: bool) (x: Expr) =
        match op with
        | ReduceOp.Sum | ReduceOp.Mean | ReduceOp.Max | ReduceOp.Min | ReduceOp.Prod ->
            Expr.reduce op (shift axes) keepDims x

    /// torch.matmul per example, for a batch. The common shapes map onto one product with the
    /// batch folded into rows (W x for a batch of x is X Wᵀ, one GEMM); the rest lift vectors to
    /// matrices, put unit axes after the batch axis so the example's batch axes line up, and use
    /// matmul's own batch broadcasting.
    let private matmul (size: int) (node: Expr) (a: Batched) (b: Batched) =
        let ra, rb = node.First.Rank, node.Second.Rank
        match a.IsBatched, b.IsBatched with
        // [size, ..., k] @ [k, n] or @ [k]: the batch is one more leading axis of a.
        | true, false when rb <= 2 -> Expr.matmul a.Value b.Value
        // W [m, k] @ x [k] per example: X Wᵀ, one GEMM.
        | false, true when ra = 2 && rb = 1 -> Expr.matmul b.Value (Expr.transpose a.Value)
        // u [k] @ x [k] per example: X u; u [k] @ B [..., k, n]: u broadcasts against the batch.
        | false, true when ra = 1 -> (if rb = 1 then Expr.matmul b.Value a.Value else Expr.matmul a.Value b.Value)
        | _ ->
            let asMatrix (isLeft: bool) (rank: int) (x: Batched) =
                if rank <> 1 then x
                else
                    let e = x.Value
                    let k = e.Dims.[e.Rank - 1]
                    let lead = e.Dims.[.. e.Rank - 2]
                    let dims = if isLeft then [| 1; k |] else [| k; 1 |]
                    { x with Value = Expr.reshape (Array.append lead dims) e }
            let a2, b2 = asMatrix true ra a, asMatrix false rb b
            let rank = max (max ra rb) 2
            let inner = a2.Value.Dims.[a2.Value.Rank - 1]
            // An inner dimension of 1 is an outer product per example (the VJP of W x gives
            // g xᵀ, so per-example gradients of every dense layer are these): a broadcast product
            // computes each entry with the same single multiplication, streaming, where a batch
            // of rank-1 GEMMs pays the GEMM's blocking for no reuse. Plus +0: the per-example
            // matmul is a sum of that one product, which the GEMM adds to +0 (as torch's), so a
            // product −0 is +0 in it (`fuzz --vmap adversarial 1/90`: digamma of such an entry is
            // −∞ per example, was +∞ batched); the elementwise chain fuses the add.
            let product =
                if inner = 1 then Expr.add (Expr.mul (lift rank a2) (lift rank b2)) (Expr.scalar node.DType 0.0)
                else Expr.matmul (lift rank a2) (lift rank b2)
            Expr.reshape (Array.append [| size |] node.Dims) product

    /// The batched node of `node` from its batched inputs (at least one of them batched); the
    /// result is [size] @ node's shape. `batchRule` batches a custom op's VJP rule (it needs vmap
    /// itself, which is defined after this table).
    let batch (batchRule: CustomRule -> CustomRule) (size: int) (node: Expr) (args: Batched[]) : Expr =
        let withBatch (dims: int[]) = Array.append [| size |] dims
        match node.Op with
        | Op.Var _ | Op.Const _ -> invalidOp "BatchingRules: leaves have no inputs to batch"
        | Op.Unary op -> unary op args.[0].Value
        | Op.Binary op -> binary op (lift node.Rank args.[0]) (lift node.Rank args.[1])
        | Op.Where -> Expr.where (lift node.Rank args.[0]) (lift node.Rank args.[1]) (lift node.Rank args.[2])
        | Op.Reduce(op, axes, keepDims) -> reduce op axes keepDims args.[0].Value
        | Op.ArgMax(axis, keepDims) -> Expr.argmax (axis + 1) keepDims args.[0].Value
        | Op.MatMul -> matmul size node args.[0] args.[1]
        | Op.Permute permutation -> Expr.permute (Array.append [| 0 |] (shift permutation)) args.[0].Value
        | Op.Reshape shape -> Expr.reshape (withBatch shape) args.[0].Value
        | Op.BroadcastTo shape -> Expr.broadcastTo (withBatch shape) (lift shape.Length args.[0])
        | Op.Slice(starts, stops, steps) ->
            Expr.slice (Array.append [| 0 |] starts) (Array.append [| size |] stops) (Array.append [| 1 |] steps) args.[0].Value
        | Op.Pad(before, after) -> Expr.pad (Array.append [| 0 |] before) (Array.append [| 0 |] after) args.[0].Value
        | Op.Concat axis -> Expr.concat (axis + 1) (args |> Array.map (expand size))
        | Op.Flip axes -> Expr.flip (shift axes) args.[0].Value
        // Inputs (source, index): both need the batch axis, since gather pairs their entries.
        | Op.Gather axis -> Expr.gather (axis + 1) (expand size args.[1]) (expand size args.[0])
        // Inputs (index, source), summed into zeros of one example's shape per example.
        | Op.ScatterAdd(axis, shape) -> Expr.scatterAdd (axis + 1) (expand size args.[0]) (expand size args.[1]) (withBatch shape)
        | Op.Cast dtype -> Expr.cast dtype args.[0].Value
        | Op.StopGradient -> Expr.stopGradient args.[0].Value
        // The value is the batched forward graph; the rule is the user's rule under vmap, so the
        // batched op differentiates as the user said, example by example.
        | Op.Custom(id, _) ->
            Expr.custom (batchRule (CustomRules.find id)) (expand size args.[0]) (expand size args.[1])
        // The linear-algebra primitives already act on batches of matrices over leading axes, so the
        // examples become one more leading axis; a shared operand of a two-operand solve is
        // broadcast against the batch by the constructor, as torch.linalg broadcasts batches.
        | Op.Cholesky -> LinalgNodes.cholesky args.[0].Value
        | Op.TriangularSolve(upper, left, unitDiagonal) -> LinalgNodes.triangularSolve upper left unitDiagonal args.[0].Value args.[1].Value
        | Op.Solve -> LinalgNodes.solve args.[0].Value args.[1].Value
        | Op.SlogDet -> LinalgNodes.slogdet args.[0].Value
        | Op.Qr -> LinalgNodes.qr args.[0].Value
        | Op.Lu -> LinalgNodes.lu "LuFactor" args.[0].Value
        | Op.LuPermutation -> LinalgNodes.luPermutation "LuUnpack" args.[0].Value
        | Op.MatrixExp -> LinalgNodes.matrixExp args.[0].Value
        | Op.Eigh -> LinalgNodes.eigh args.[0].Value
        | Op.Svd -> LinalgNodes.svd args.[0].Value
        // Elementwise with a static order, and a sort along one axis, one further along.
        | Op.Polygamma order -> Expr.polygamma order args.[0].Value
        | Op.ArgSort(axis, descending) -> Expr.argsort (axis + 1) descending args.[0].Value
        // Unfold and Fold take one batch axis of their own ([N, ...]): the examples are folded into
        // it and split out again, so the whole batch is one im2col (or col2im).
        | Op.Unfold(kernel, stride, padding, dilation) ->
            let x = args.[0].Value
            let merged = Expr.reshape (Array.append [| size * x.Dims.[1] |] x.Dims.[2..]) x
            Expr.reshape (withBatch node.Dims) (Expr.unfold kernel stride padding dilation merged)
        | Op.Fold(outputSize, kernel, stride, padding, dilation) ->
            let x = args.[0].Value
            let merged = Expr.reshape (Array.append [| size * x.Dims.[1] |] x.Dims.[2..]) x
            Expr.reshape (withBatch node.Dims) (Expr.fold outputSize kernel stride padding dilation merged)
        // A Scan over the batched body (Transforms/Scan.fs), reached through the body.
        | Op.Scan(body, length, reverse, remat) ->
            (ScanNode.bodyOf body).Batch(length, reverse, remat, args |> Array.map (fun a -> a.Value), args |> Array.map (fun a -> a.IsBatched), size)
        // Along one axis, one further along.
        | Op.Softmax axis -> Expr.softmax (axis + 1) args.[0].Value
        | Op.LogSoftmax axis -> Expr.logSoftmax (axis + 1) args.[0].Value
        // The inputs pair entry by entry: each needs the batch axis.
        | Op.SoftmaxBackward axis -> Expr.softmaxBackward (axis + 1) (expand size args.[0]) (expand size args.[1])
        | Op.LogSoftmaxBackward axis -> Expr.logSoftmaxBackward (axis + 1) (expand size args.[0]) (expand size args.[1])
        | Op.DiagonalMinusRankOne axis ->
            Expr.diagonalMinusRankOne (axis + 1) (expand size args.[0]) (expand size args.[1]) (expand size args.[2]) (expand size args.[3])
        | Op.CumSum(axis, reverse) -> Expr.cumsumAlong (axis + 1) reverse args.[0].Value
