/// torch's BLAS-style products over the primitives: addmm, addmv, addr, baddbmm and addbmm (β·input + α·product, the
/// input ignored when β = 0, so a NaN there does not reach the result, as in torch), linalg.multi_dot (a chain in the
/// cheapest order, chosen as torch chooses it), linalg.vecdot and cholesky_inverse. Composites: derivatives of every
/// order follow from matmul's.
namespace FunctionalDiff.Core

/// torch's product composites over Expr.
[<RequireQualifiedAccess>]
module Products =

    let private dims (e: Expr) = Shape.format e.Dims

    let private checkRank (name: string) (what: string) (rank: int) (x: Expr) =
        if x.Rank <> rank then Shape.fail name (sprintf "%s %s must have %d axes" what (dims x) rank)

    /// β·input + α·product, broadcast to the product's shape (which input must broadcast to); the input is left out
    /// when β = 0 and a factor of 1 is not applied, as torch's BLAS call does.
    let private accumulate (name: string) (beta: float) (alpha: float) (input: Expr) (product: Expr) =
        let shape = Shape.broadcast name input.Dims product.Dims
        if not (Ir.sameDims shape product.Dims) then
            Shape.fail name (sprintf "input %s does not broadcast to the product's shape %s" (dims input) (dims product))
        let scaled = if alpha = 1.0 then product else alpha * product
        if beta = 0.0 then scaled
        else (if beta = 1.0 then input else beta * input) + scaled

    /// torch.addmm: β·input + α·(m1 @ m2) for matrices m1 [n, m] and m2 [m, p].
    let addmm (beta: float) (alpha: float) (input: Expr) (m1: Expr) (m2: Expr) =
        checkRank "Addmm" "m1" 2 m1
        checkRank "Addmm" "m2" 2 m2
        accumulate "Addmm" beta alpha input (Expr.matmul m1 m2)

    /// torch.addmv: β·input + α·(mat @ vec) for a matrix [n, m] and a vector [m].
    let addmv (beta: float) (alpha: float) (input: Expr) (mat: Expr) (vec: Expr) =
        checkRank "Addmv" "mat" 2 mat
        checkRank "Addmv" "vec" 1 vec
        accumulate "Addmv" beta alpha input (Expr.matmul mat vec)

    /// torch.addr: β·input + α·(v1 ⊗ v2) for vectors [n] and [m].
    let addr (beta: float) (alpha: float) (input: Expr) (v1: Expr) (v2: Expr) =
        checkRank "Addr" "vec1" 1 v1
        checkRank "Addr" "vec2" 1 v2
        accumulate "Addr" beta alpha input (Expr.reshape [| v1.Numel; 1 |] v1 * Expr.reshape [| 1; v2.Numel |] v2)

    let private checkBatches (name: string) (b1: Expr) (b2: Expr) =
        checkRank name "batch1" 3 b1
        checkRank name "batch2" 3 b2
        if b1.Dims.[0] <> b2.Dims.[0] then
            Shape.fail name (sprintf "batch1 %s and batch2 %s need the same number of matrices" (dims b1) (dims b2))

    /// torch.baddbmm: β·input + α·(batch1 @ batch2) for batches [b, n, m] and [b, m, p].
    let baddbmm (beta: float) (alpha: float) (input: Expr) (b1: Expr) (b2: Expr) =
        checkBatches "Baddbmm" b1 b2
        accumulate "Baddbmm" beta alpha input (Expr.matmul b1 b2)

    /// torch.addbmm: β·input + α·Σᵢ batch1[i] @ batch2[i] for batches [b, n, m] and [b, m, p].
    let addbmm (beta: float) (alpha: float) (input: Expr) (b1: Expr) (b2: Expr) =
        checkBatches "Addbmm" b1 b2
        accumulate "Addbmm" beta alpha input (Expr.sumAxes [| 0 |] false (Expr.matmul b1 b2))

    /// The cheapest order of a chain of matrices with the given dimensions (matrix i is dims[i] × dims[i+1]): the
    /// standard dynamic programme over split points, the first of equal costs kept, which is torch's choice for
    /// chains of four or more. Returns the split table.
    let private chainOrder (sizes: int64[]) =
        let n = sizes.Length - 1
        let cost = Array2D.zeroCreate<int64> n n
        let split = Array2D.zeroCreate<int> n n
        for length in 1 .. n - 1 do
            for i in 0 .. n - 1 - length do
                let j = i + length
                cost.[i, j] <- System.Int64.MaxValue
                for k in i .. j - 1 do
                    let c = cost.[i, k] + cost.[k + 1, j] + sizes.[i] * sizes.[k + 1] * sizes.[j + 1]
                    if c < cost.[i, j] then
                        cost.[i, j] <- c
                        split.[i, j] <- k
        split

    /// torch.linalg.multi_dot: the product of a chain of matrices, in the order that needs the fewest multiplications
    /// (for three, torch's comparison of (AB)C with A(BC); for more, the dynamic programme). The first may be a vector
    /// (a row) and the last a vector (a column); those axes are dropped from the result, as torch drops them.
    let multiDot (parts: Expr[]) =
        if isNull parts then nullArg "tensors"
        if parts.Length < 2 then Shape.fail "MultiDot" (sprintf "needs at least two tensors, got %d" parts.Length)
        let last = parts.Length - 1
        parts |> Array.iteri (fun i p ->
            let vectorAllowed = i = 0 || i = last
            if p.Rank <> 2 && not (vectorAllowed && p.Rank = 1) then
                Shape.fail "MultiDot" (sprintf "tensor %d %s must be a matrix%s" i (dims p) (if vectorAllowed then " or a vector" else "")))
        let matrices =
            parts |> Array.mapi (fun i p ->
                if p.Rank = 2 then p
                elif i = 0 then Expr.reshape [| 1; p.Numel |] p
                else Expr.reshape [| p.Numel; 1 |] p)
        for i in 0 .. last - 1 do
            if matrices.[i].Dims.[1] <> matrices.[i + 1].Dims.[0] then
                Shape.fail "MultiDot" (sprintf "tensor %d %s and tensor %d %s do not chain" i (dims parts.[i]) (i + 1) (dims parts.[i + 1]))
        let product =
            if matrices.Length = 2 then Expr.matmul matrices.[0] matrices.[1]
            elif matrices.Length = 3 then
                let a, b, c, d = int64 matrices.[0].Dims.[0], int64 matrices.[1].Dims.[0], int64 matrices.[2].Dims.[0], int64 matrices.[2].Dims.[1]
                // (AB)C costs a·c·(b + d), A(BC) b·d·(a + c)
                if a * c * (b + d) > b * d * (a + c) then Expr.matmul matrices.[0] (Expr.matmul matrices.[1] matrices.[2])
                else Expr.matmul (Expr.matmul matrices.[0] matrices.[1]) matrices.[2]
            else
                let sizes = Array.append (matrices |> Array.map (fun m -> int64 m.Dims.[0])) [| int64 matrices.[last].Dims.[1] |]
                let split = chainOrder sizes
                let rec multiply i j = if i = j then matrices.[i] else Expr.matmul (multiply i split.[i, j]) (multiply (split.[i, j] + 1) j)
                multiply 0 last
        let rows = if parts.[0].Rank = 1 then [||] else [| product.Dims.[0] |]
        let columns = if parts.[last].Rank = 1 then [||] else [| product.Dims.[1] |]
        Expr.reshape (Array.append rows columns) product

    /// torch.linalg.vecdot: Σ x·y along the axis, x and y broadcast together.
    let vecdot (axis: int) (x: Expr) (y: Expr) =
        let product = x * y
        if product.Rank = 0 then Shape.fail "Vecdot" (sprintf "x %s and y %s need at least one axis" (dims x) (dims y))
        Expr.sumAxes [| Shape.normalizeAxis "Vecdot" product.Rank axis |] false product

    /// torch.cholesky_inverse: the inverse of A = L Lᵀ (or Uᵀ U with `upper`) from its Cholesky factor, (…, n, n), by
    /// the two triangular solves of cholesky_solve against the identity.
    let choleskyInverse (upper: bool) (factor: Expr) =
        let n = LinalgNodes.square "CholeskyInverse" "l" factor
        Linalg.choleskySolve upper factor (Expr.broadcastTo factor.Dims (Linalg.identity factor.DType n))
