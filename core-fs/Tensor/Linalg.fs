/// The linear-algebra kernels over tensors: batches of matrices over leading axes, float32 and
/// float64. Each matrix is copied to a row-major work array, factored by LinalgKernels (or SvdKernel), and the
/// result converted back. Cholesky, the triangular solve and the LU ops (solve, slogdet) compute in
/// the tensor's own dtype, as torch does (float32 about twice as fast, at float32's accuracy, which
/// tests bound by the backward error); QR, eigh and the SVD compute in float64 for both dtypes, so float32
/// gets float64 accuracy there, and the O(n²) conversions are small next to the O(n³) work. Multi-output
/// decompositions return one packed tensor (see the Op cases), which the op language slices apart.
namespace FunctionalDiff.Core

open System.Buffers

/// Batched linear algebra on tensors. Batch axes of several operands are already equal (the op
/// language broadcasts them before building the node).
module internal LinalgTensors =

    /// A float64 copy of the tensor's elements in a pooled work array (its first Numel entries).
    /// Pooled, because a fresh array of this size usually costs a page fault per 4 KB on first
    /// write, more than the O(n²) copy itself.
    let private load (t: Tensor) : float[] =
        let work = LinalgKernels.rent t.Numel
        match t.DType with
        | DType.Float64 -> Strided.copy t.Data64 t.Offset t.Strides t.Dims work
        | DType.Float32 ->
            let single = ArrayPool<float32>.Shared.Rent(max 1 t.Numel)
            Strided.copy t.Data32 t.Offset t.Strides t.Dims single
            for i in 0 .. t.Numel - 1 do work.[i] <- float single.[i]
            ArrayPool<float32>.Shared.Return single
        work

    /// The tensor of the first numel(shape) entries of a work array, which goes back to the pool.
    let private result (dtype: DType) (shape: int[]) (work: float[]) =
        let count = Shape.numel shape
        let tensor =
            match dtype with
            | DType.Float64 ->
                let values = RecycledArrays.Take<float> count
                Array.blit work 0 values 0 count
                Tensor.OwnDense(shape, values)
            | DType.Float32 ->
                let values = RecycledArrays.Take<float32> count
                for i in 0 .. count - 1 do values.[i] <- float32 work.[i]
                Tensor.OwnDense(shape, values)
        ArrayPool<float>.Shared.Return work
        tensor

    let private release (work: float[]) = ArrayPool<float>.Shared.Return work

    let private batchOf (t: Tensor) = Shape.numel t.Dims.[.. t.Rank - 3]

    let private batchIndex (t: Tensor) (flat: int) =
        let batch = t.Dims.[.. t.Rank - 3]
        if batch.Length = 0 then ""
        else
            let index = Array.zeroCreate batch.Length
            let mutable rest = flat
            for axis in batch.Length - 1 .. -1 .. 0 do
                index.[axis] <- rest % batch.[axis]
                rest <- rest / batch.[axis]
            sprintf " (batch entry %s)" (Shape.format index)

    /// A copy of the tensor's elements in its own element type, in a pooled work array.
    let private loadOwn<'T> (t: Tensor) : 'T[] =
        let work = ArrayPool<'T>.Shared.Rent(max 1 t.Numel)
        Strided.copy (t.Storage :?> 'T[]) t.Offset t.Strides t.Dims work
        work

    /// The tensor of the first numel(shape) entries of an own-type work array, which goes back to the pool.
    let private resultOwn<'T> (shape: int[]) (work: 'T[]) : Tensor =
        let count = Shape.numel shape
        let values = RecycledArrays.Take<'T> count
        Array.blit work 0 values 0 count
        ArrayPool<'T>.Shared.Return work
        match box values with
        | :? (float[]) as d -> Tensor.OwnDense(shape, d)
        | _ -> Tensor.OwnDense(shape, box values :?> float32[])

    /// A dense copy of the tensor's elements in its own element type, in a fresh result array: a
    /// kernel that works in place then returns it as it is, without a second copy.
    let private loadResult<'T> (t: Tensor) : 'T[] =
        let values = RecycledArrays.Take<'T> t.Numel
        Strided.copy (t.Storage :?> 'T[]) t.Offset t.Strides t.Dims values
        values

    let private own<'T> (shape: int[]) (values: 'T[]) : Tensor =
        match box values with
        | :? (float[]) as d -> Tensor.OwnDense(shape, d)
        | _ -> Tensor.OwnDense(shape, box values :?> float32[])

    /// Factors a copy of `a` in `values` (a dense array of a's size and dtype).
    let private choleskyTyped<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T>> (a: Tensor) (values: 'T[]) =
        let n = a.Dims.[a.Rank - 1]
        Strided.copy (a.Storage :?> 'T[]) a.Offset a.Strides a.Dims values
        for b in 0 .. batchOf a - 1 do
            let failedAt = LinalgKernels.cholesky values (b * n * n) n
            if failedAt > 0 then
                raise (System.ArgumentException(
                        sprintf "Cholesky: the input %s%s is not positive definite (the leading minor of order %d is not)"
                            (Shape.format a.Dims) (batchIndex a b) failedAt))

    /// `cholesky` into a caller's dense array of a's size and dtype, for compiled plans, whose
    /// buffers are reused from run to run (a fresh result of n = 256 is a large-object array).
    let choleskyInto (a: Tensor) (target: System.Array) =
        match a.DType with
        | DType.Float64 -> choleskyTyped<float> a (target :?> float[])
        | DType.Float32 -> choleskyTyped<float32> a (target :?> float32[])

    /// The lower Cholesky factor; raises when a matrix is not positive definite, as torch.linalg.cholesky.
    let cholesky (a: Tensor) : Tensor =
        match a.DType with
        | DType.Float64 ->
            let values = RecycledArrays.Take<float> a.Numel
            choleskyTyped<float> a values
            own (Array.copy a.Dims) values
        | DType.Float32 ->
            let values = RecycledArrays.Take<float32> a.Numel
            choleskyTyped<float32> a values
            own (Array.copy a.Dims) values

    /// The row and column strides of the n×n matrices of `t` when they can be read where they lie:
    /// each row-major or transposed (a permuted view, as the transposed factor of a solve is), batch
    /// entry b at Offset + b·n². ValueNone for other layouts, which are copied first.
    let private matrixStrides (t: Tensor) : struct (int * int) voption =
        let rank = t.Rank
        let n = t.Dims.[rank - 1]
        let rows, columns = t.Strides.[rank - 2], t.Strides.[rank - 1]
        let mutable batchStride = n * n
        let mutable dense = t.Numel > 0
        for axis in rank - 3 .. -1 .. 0 do
            if t.Dims.[axis] > 1 && t.Strides.[axis] <> batchStride then dense <- false
            batchStride <- batchStride * t.Dims.[axis]
        if not dense then ValueNone
        elif n = 1 || (rows = n && columns = 1) then ValueSome(struct (n, 1))
        elif rows = 1 && columns = n then ValueSome(struct (1, n))
        else ValueNone

    /// Solves into `bValues` (a dense array of b's size and dtype), which first receives a copy of b.
    let private solveTriangularTyped<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T>>
        (upper: bool) (left: bool) (unitDiagonal: bool) (t: Tensor) (b: Tensor) (bValues: 'T[]) =
        let n = t.Dims.[t.Rank - 1]
        // T is only read: in place when its layout allows, else a dense copy
        let struct (tValues, tStart, struct (tRow, tColumn), copied) =
            match matrixStrides t with
            | ValueSome strides -> struct (t.Storage :?> 'T[], t.Offset, strides, false)
            | ValueNone -> struct (loadOwn<'T> t, 0, struct (n, 1), true)
        Strided.copy (b.Storage :?> 'T[]) b.Offset b.Strides b.Dims bValues
        let rows, columns = b.Dims.[b.Rank - 2], b.Dims.[b.Rank - 1]
        let k = if left then columns else rows
        let work = if left then Array.empty else ArrayPool<'T>.Shared.Rent(max 1 (n * k))
        for batch in 0 .. batchOf t - 1 do
            let tOffset, bOffset = tStart + batch * n * n, batch * rows * columns
            if left then LinalgKernels.solveTriangular tValues tOffset tRow tColumn n upper unitDiagonal bValues bOffset k
            else
                // X T = B is Tᵀ Xᵀ = Bᵀ: Tᵀ is T read with its strides swapped, triangular the other way.
                for i in 0 .. k - 1 do
                    for j in 0 .. n - 1 do work.[j * k + i] <- bValues.[bOffset + i * n + j]
                LinalgKernels.solveTriangular tValues tOffset tColumn tRow n (not upper) unitDiagonal work 0 k
                for i in 0 .. k - 1 do
                    for j in 0 .. n - 1 do bValues.[bOffset + i * n + j] <- work.[j * k + i]
        if copied then ArrayPool<'T>.Shared.Return tValues
        if not left then ArrayPool<'T>.Shared.Return work

    /// `solveTriangular` into a caller's dense array of b's size and dtype, for compiled plans.
    let solveTriangularInto (upper: bool) (left: bool) (unitDiagonal: bool) (t: Tensor) (b: Tensor) (target: System.Array) =
        match b.DType with
        | DType.Float64 -> solveTriangularTyped<float> upper left unitDiagonal (t.Cast DType.Float64) b (target :?> float[])
        | DType.Float32 -> solveTriangularTyped<float32> upper left unitDiagonal (t.Cast DType.Float32) b (target :?> float32[])

    /// Solves T X = B (left) or X T = B (right) for triangular T (…, n, n) and B (…, n, k) or (…, k, n),
    /// both of one dtype (the op language promotes them).
    let solveTriangular (upper: bool) (left: bool) (unitDiagonal: bool) (t: Tensor) (b: Tensor) : Tensor =
        match b.DType with
        | DType.Float64 ->
            let values = RecycledArrays.Take<float> b.Numel
            solveTriangularTyped<float> upper left unitDiagonal (t.Cast DType.Float64) b values
            own (Array.copy b.Dims) values
        | DType.Float32 ->
            let values = RecycledArrays.Take<float32> b.Numel
            solveTriangularTyped<float32> upper left unitDiagonal (t.Cast DType.Float32) b values
            own (Array.copy b.Dims) values

    let private solveTyped<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T>> (a: Tensor) (b: Tensor) : Tensor =
        let n = a.Dims.[a.Rank - 1]
        let k = b.Dims.[b.Rank - 1]
        let factors = loadOwn<'T> a
        let bValues = loadResult<'T> b
        let pivots = Array.zeroCreate<int> n
        for batch in 0 .. batchOf a - 1 do
            let struct (_, singular) = LinalgKernels.lu factors (batch * n * n) n pivots
            if singular then
                ArrayPool<'T>.Shared.Return factors
                raise (System.ArgumentException(
                        sprintf "Solve or Inverse: the matrix a %s%s is singular (Solve and Inverse need a regular matrix, and so do the gradients of LogDet, SlogDet and Det beyond 3×3, which solve with it)"
                            (Shape.format a.Dims) (batchIndex a batch)))
            LinalgKernels.luSolve factors (batch * n * n) n pivots bValues (batch * n * k) k
        ArrayPool<'T>.Shared.Return factors
        own (Array.copy b.Dims) bValues

    /// Solves A X = B by LU with partial pivoting, in the operands' dtype (the op language promotes
    /// them to one); raises for an exactly singular A, as torch.linalg.solve.
    let solve (a: Tensor) (b: Tensor) : Tensor =
        match b.DType with
        | DType.Float64 -> solveTyped<float> (a.Cast DType.Float64) b
        | DType.Float32 -> solveTyped<float32> (a.Cast DType.Float32) b

    let private slogdetTyped<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T>> (a: Tensor) : Tensor =
        let n = a.Dims.[a.Rank - 1]
        let factors = loadOwn<'T> a
        let pivots = Array.zeroCreate<int> n
        let count = batchOf a
        let output = ArrayPool<'T>.Shared.Rent(max 1 (count * 2))
        for batch in 0 .. count - 1 do
            let offset = batch * n * n
            let struct (swaps, singular) = LinalgKernels.lu factors offset n pivots
            // the factorisation in the dtype, the n logarithms summed in float64 (no cost, and
            // no rounding error that grows with n)
            let mutable sign = if swaps % 2 = 0 then 1.0 else -1.0
            let mutable logAbs = 0.0
            for j in 0 .. n - 1 do
                let u = System.Double.CreateTruncating factors.[offset + j * n + j]
                if u < 0.0 then sign <- -sign
                logAbs <- logAbs + log (abs u)
            if singular then sign <- 0.0
            output.[2 * batch] <- 'T.CreateTruncating(if System.Double.IsNaN logAbs then nan else sign)
            output.[2 * batch + 1] <- 'T.CreateTruncating logAbs
        ArrayPool<'T>.Shared.Return factors
        resultOwn (Array.append a.Dims.[.. a.Rank - 3] [| 2 |]) output

    /// (…, 2): the sign of det A (0 when singular) and log|det A| (-inf when singular), as
    /// torch.linalg.slogdet, from an LU in A's dtype.
    let slogdet (a: Tensor) : Tensor =
        match a.DType with
        | DType.Float64 -> slogdetTyped<float> a
        | DType.Float32 -> slogdetTyped<float32> a

    let private luTyped<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T>> (a: Tensor) : Tensor =
        let n = a.Dims.[a.Rank - 1]
        let count = batchOf a
        let factors = loadOwn<'T> a
        let pivots = Array.zeroCreate<int> n
        let output = RecycledArrays.Take<'T>(count * (n + 1) * n)
        for batch in 0 .. count - 1 do
            let source, target = batch * n * n, batch * (n + 1) * n
            // a zero pivot is kept, not raised: torch's lu_factor succeeds on a singular matrix
            LinalgKernels.lu factors source n pivots |> ignore
            Array.blit factors source output target (n * n)
            for j in 0 .. n - 1 do output.[target + n * n + j] <- 'T.CreateTruncating(pivots.[j] + 1)
        ArrayPool<'T>.Shared.Return factors
        own (Array.append a.Dims.[.. a.Rank - 3] [| n + 1; n |]) output

    /// (…, n + 1, n): the LU factors with partial pivoting (unit-lower L below the diagonal, U on and
    /// above it) over the 1-based pivots, as torch.linalg.lu_factor, in a's dtype. A singular matrix
    /// factors too, with a zero on U's diagonal (LAPACK's getrf skips that step's elimination).
    let lu (a: Tensor) : Tensor =
        match a.DType with
        | DType.Float64 -> luTyped<float> a
        | DType.Float32 -> luTyped<float32> a

    let private luPermutationTyped<'T when 'T :> System.Numerics.IFloatingPointIeee754<'T>> (pivots: Tensor) : Tensor =
        let n = pivots.Dims.[pivots.Rank - 1]
        let count = Shape.numel pivots.Dims.[.. pivots.Rank - 2]
        let values = loadOwn<'T> pivots
        let output = RecycledArrays.Take<'T>(count * n * n)
        System.Array.Clear(output, 0, count * n * n)
        // order.[i]: the row of A that the swaps bring to row i of Pᵀ A = L U, so P.[order.[i], i] = 1
        let order = Array.zeroCreate<int> n
        for batch in 0 .. count - 1 do
            for i in 0 .. n - 1 do order.[i] <- i
            for j in 0 .. n - 1 do
                let pivot = values.[batch * n + j]
                let row = System.Double.CreateTruncating pivot - 1.0
                if not (row >= 0.0 && row < float n && row = floor row) then
                    ArrayPool<'T>.Shared.Return values
                    raise (System.ArgumentException(
                            sprintf "LuSolve or LuUnpack: pivots %s must hold integers in [1, %d], got %g at index %d%s"
                                (Shape.format pivots.Dims) n (row + 1.0) j
                                (if count > 1 then sprintf " of batch entry %d" batch else "")))
                let swapped = int row
                let saved = order.[j]
                order.[j] <- order.[swapped]
                order.[swapped] <- saved
            for i in 0 .. n - 1 do output.[batch * n * n + order.[i] * n + i] <- 'T.One
        ArrayPool<'T>.Shared.Return values
        own (Array.append pivots.Dims [| n |]) output

    /// (…, n, n): the permutation matrix P of 1-based LU pivots (…, n), with A = P L U (torch.lu_unpack's
    /// P): the swaps of rows j and pivots[j] - 1, in the order j = 0, 1, …, applied to the identity, transposed.
    /// Raises for a pivot that is not an integer in [1, n].
    let luPermutation (pivots: Tensor) : Tensor =
        match pivots.DType with
        | DType.Float64 -> luPermutationTyped<float> pivots
        | DType.Float32 -> luPermutationTyped<float32> pivots

    /// (…, m + n, n): reduced Q (m×n) stacked above R (n×n), for m >= n.
    let qr (a: Tensor) : Tensor =
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        let values = load a
        let count = batchOf a
        let output = LinalgKernels.rent (count * (m + n) * n)
        for batch in 0 .. count - 1 do
            let o = batch * (m + n) * n
            LinalgKernels.qr values (batch * m * n) m n output o output (o + m * n)
        release values
        result a.DType (Array.append a.Dims.[.. a.Rank - 3] [| m + n; n |]) output

    /// (…, n + 1, n): the ascending eigenvalues in the first row, the eigenvectors (columns) below.
    let eigh (a: Tensor) : Tensor =
        let n = a.Dims.[a.Rank - 1]
        let values = load a
        let count = batchOf a
        let output = LinalgKernels.rent (count * (n + 1) * n)
        for batch in 0 .. count - 1 do
            let o = batch * (n + 1) * n
            LinalgKernels.eigh values (batch * n * n) n output o output (o + n)
        release values
        result a.DType (Array.append a.Dims.[.. a.Rank - 3] [| n + 1; n |]) output

    /// (…, m + 1 + n, k), k = min(m, n): U (m×k), the descending singular values, then V (n×k).
    let svd (a: Tensor) : Tensor =
        let m, n = a.Dims.[a.Rank - 2], a.Dims.[a.Rank - 1]
        let k = min m n
        let values = load a
        let count = batchOf a
        let output = LinalgKernels.rent (count * (m + 1 + n) * k)
        for batch in 0 .. count - 1 do
            SvdKernel.svd values (batch * m * n) m n output (batch * (m + 1 + n) * k)
        release values
        result a.DType (Array.append a.Dims.[.. a.Rank - 3] [| m + 1 + n; k |]) output

    /// c ← a·b for n×n row-major blocks (c distinct from both).
    let private multiplySquare (n: int) (a: float[]) (b: float[]) (c: float[]) =
        System.Array.Clear(c, 0, n * n)
        for i in 0 .. n - 1 do
            for k in 0 .. n - 1 do
                let aik = a.[i * n + k]
                if aik <> 0.0 then
                    for j in 0 .. n - 1 do
                        c.[i * n + j] <- c.[i * n + j] + aik * b.[k * n + j]

    /// The degree of the Taylor polynomial and the 1-norm the scaled matrix is brought under: the terms left out,
    /// Σₖ₍≥19₎ Xᵏ/k!, are at most e·‖X‖¹⁹/19! ≤ 2.2e-17 for ‖X‖₁ ≤ 1, while ‖exp X‖ ≥ e^−1, so the truncation is below
    /// float64's half ulp.
    let private taylorDegree = 18
    let private scaledNormBound = 1.0

    /// exp(a) of one n×n block (row-major, at `offset` in `values`), written to `output` at the same offset:
    /// X = a/2ˢ with ‖X‖₁ ≤ 1, the Taylor polynomial of degree 18 by Horner's rule, P ← I + X·P/k, then s squarings.
    /// A matrix holding ±∞ or NaN gives NaN everywhere (its norm is not finite, and no scaling is defined).
    let private matrixExpBlock (n: int) (values: float[]) (offset: int) (output: float[]) =
        let mutable norm = 0.0
        for j in 0 .. n - 1 do
            let mutable column = 0.0
            for i in 0 .. n - 1 do column <- column + abs values.[offset + i * n + j]
            // NaN must win: max would drop it
            norm <- if System.Double.IsNaN column || column > norm then column else norm
        if not (System.Double.IsFinite norm) then
            for i in 0 .. n * n - 1 do output.[offset + i] <- nan
        else
            let squarings = if norm <= scaledNormBound then 0 else int (ceil (System.Math.Log2(norm / scaledNormBound)))
            let scale = System.Math.ScaleB(1.0, -squarings)
            let x = Array.init (n * n) (fun i -> values.[offset + i] * scale)
            let mutable p = Array.zeroCreate<float> (n * n)
            let mutable work = Array.zeroCreate<float> (n * n)
            for i in 0 .. n - 1 do p.[i * n + i] <- 1.0
            for k in taylorDegree .. -1 .. 1 do
                multiplySquare n x p work
                let inverse = 1.0 / float k
                for i in 0 .. n * n - 1 do work.[i] <- work.[i] * inverse
                for i in 0 .. n - 1 do work.[i * n + i] <- work.[i * n + i] + 1.0
                let t = p
                p <- work
                work <- t
            for _ in 1 .. squarings do
                multiplySquare n p p work
                let t = p
                p <- work
                work <- t
            Array.blit p 0 output offset (n * n)

    /// The matrix exponential of each n×n matrix of a (…, n, n), as torch.linalg.matrix_exp, computed in float64 for
    /// both dtypes (float32 rounds once at the end).
    let matrixExp (a: Tensor) : Tensor =
        let n = a.Dims.[a.Rank - 1]
        let values = load a
        let count = batchOf a
        let output = LinalgKernels.rent (count * n * n)
        for batch in 0 .. count - 1 do
            matrixExpBlock n values (batch * n * n) output
        release values
        result a.DType (Array.copy a.Dims) output
