/// The thin singular value decomposition of one row-major float64 matrix at an offset of an array,
/// by one-sided (Hestenes) Jacobi rotations. It knows nothing of batches or dtypes (Linalg.fs brings
/// tensors to this form and back).
///
/// One-sided Jacobi rotates pairs of columns of A until they are orthogonal; the column norms are then
/// the singular values. It never forms AᵀA, whose small eigenvalues are the small singular values
/// squared, below A's rounding (σ = 1e-9 of a unit matrix squares to 1e-18, under float64's ε), and
/// it is known to give every singular value to a relative accuracy set by the column scaling, not
/// by the largest value: that is why it is used here rather than eigh of AᵀA.
namespace FunctionalDiff.Core

open System

/// One matrix's thin SVD.
module internal SvdKernel =

    /// Orthogonalises the columns of the tall `rows`×`columns` matrix stored column after column in
    /// `w` (each column contiguous), accumulating the rotations in the columns×columns `v` (also by
    /// columns). A pair is rotated while |w_p·w_q| > ε·|w_p|·|w_q|: the test is relative to the pair's
    /// own norms, so a column far below the others is still made orthogonal to them.
    let private orthogonalise (w: float[]) (rows: int) (columns: int) (v: float[]) =
        let epsilon = Math.ScaleB(1.0, -52)
        let dot (i: int) (j: int) = SpanKernels.dot (ReadOnlySpan<float>(w, i * rows, rows)) (ReadOnlySpan<float>(w, j * rows, rows))
        let rotate (data: float[]) (length: int) (p: int) (q: int) (c: float) (s: float) =
            for i in 0 .. length - 1 do
                let xp, xq = data.[p * length + i], data.[q * length + i]
                data.[p * length + i] <- c * xp - s * xq
                data.[q * length + i] <- s * xp + c * xq
        let mutable sweep = 0
        let mutable rotated = true
        while rotated && sweep < 80 do
            rotated <- false
            for p in 0 .. columns - 2 do
                for q in p + 1 .. columns - 1 do
                    let alpha, beta, gamma = dot p p, dot q q, dot p q
                    if gamma <> 0.0 && abs gamma > epsilon * sqrt alpha * sqrt beta then
                        rotated <- true
                        // the rotation that makes the pair orthogonal: tan t, the root of t² + 2ζt − 1 = 0
                        // of smaller magnitude (the smaller angle), 1/(2ζ) where ζ² would overflow
                        let zeta = (beta - alpha) / (2.0 * gamma)
                        let t =
                            if abs zeta > 1e150 then 0.5 / zeta
                            else (if zeta >= 0.0 then 1.0 else -1.0) / (abs zeta + sqrt (zeta * zeta + 1.0))
                        let c = 1.0 / sqrt (t * t + 1.0)
                        let s = t * c
                        rotate w rows p q c s
                        rotate v columns p q c s
            sweep <- sweep + 1

    /// A unit vector orthogonal to the first `count` columns of `u` (rows×k, row-major): of the unit
    /// axes, the one with the largest part outside them, that part (Gram–Schmidt twice) normalised.
    /// Such an axis keeps at least 1/rows of its squared length, since the parts' squares sum to
    /// rows − count >= 1.
    let private completion (u: float[]) (uOffset: int) (rows: int) (k: int) (found: int[]) (count: int) =
        let residual (axis: int) =
            let r = Array.zeroCreate<float> rows
            r.[axis] <- 1.0
            for _ in 1 .. 2 do
                for c in 0 .. count - 1 do
                    let j = found.[c]
                    let mutable projection = 0.0
                    for i in 0 .. rows - 1 do projection <- projection + u.[uOffset + i * k + j] * r.[i]
                    for i in 0 .. rows - 1 do r.[i] <- r.[i] - projection * u.[uOffset + i * k + j]
            r
        let norm (r: float[]) = sqrt (SpanKernels.dot (ReadOnlySpan r) (ReadOnlySpan r))
        let best = Array.init rows residual |> Array.maxBy norm
        let length = norm best
        best |> Array.map (fun x -> x / length)

    /// The thin SVD of the m×n matrix at `offset`, k = min(m, n), written as the packed (m + 1 + n)×k
    /// block at `outOffset`: U (m×k), then the singular values in descending order, then V (n×k).
    /// A non-finite entry gives NaN everywhere, as LAPACK (and so torch) does.
    ///
    /// Signs: each column of U has its largest-magnitude entry (the first of equals) positive, and
    /// the column of V with it, so that U diag(S) Vᵀ is unchanged. torch's signs are LAPACK's and
    /// arbitrary too; only sign-invariant functions of U and V are comparable (and differentiable).
    /// A zero singular value's U column, which A does not determine, is completed to an orthonormal
    /// set from the unit axes.
    let svd (a: float[]) (offset: int) (m: int) (n: int) (out: float[]) (outOffset: int) =
        let k = min m n
        let vStart = outOffset + (m + 1) * k
        let mutable finite = true
        for i in 0 .. m * n - 1 do
            if not (Double.IsFinite a.[offset + i]) then finite <- false
        if not finite then Array.Fill(out, nan, outOffset, (m + 1 + n) * k)
        elif k > 0 then
            // Work on the tall orientation: A itself (m >= n) or Aᵀ = V S Uᵀ, whose U and V swap.
            let rows = max m n
            let mutable largest = 0.0
            for i in 0 .. m * n - 1 do largest <- max largest (abs a.[offset + i])
            // Columns of A / largest: the dot products square the entries, which overflow from about
            // 1e154 and underflow below about 1e-154; the singular values are scaled back.
            let scale = if largest > 0.0 then largest else 1.0
            let w = Array.zeroCreate<float> (rows * k)
            for i in 0 .. m - 1 do
                for j in 0 .. n - 1 do
                    let value = a.[offset + i * n + j] / scale
                    if m >= n then w.[j * rows + i] <- value else w.[i * rows + j] <- value
            let rotations = Array.init (k * k) (fun index -> if index / k = index % k then 1.0 else 0.0)
            orthogonalise w rows k rotations
            let norms = Array.init k (fun j -> sqrt (SpanKernels.dot (ReadOnlySpan(w, j * rows, rows)) (ReadOnlySpan(w, j * rows, rows))))
            let order = Array.init k id |> Array.sortWith (fun i j -> let c = compare norms.[j] norms.[i] in if c <> 0 then c else compare i j)
            // The tall side's left vectors (w's normalised columns) and right vectors (the rotations),
            // each written where it belongs: for m >= n they are U and V, for m < n they are V and U.
            let leftStart, leftRows, rightStart, rightRows =
                if m >= n then outOffset, m, vStart, n else vStart, n, outOffset, m
            let found = Array.zeroCreate<int> k
            let mutable count = 0
            for column in 0 .. k - 1 do
                let source = order.[column]
                let sigma = norms.[source]
                out.[outOffset + m * k + column] <- sigma * scale
                for i in 0 .. rightRows - 1 do out.[rightStart + i * k + column] <- rotations.[source * k + i]
                if sigma > 0.0 then
                    for i in 0 .. leftRows - 1 do out.[leftStart + i * k + column] <- w.[source * rows + i] / sigma
                    found.[count] <- column
                    count <- count + 1
            for column in 0 .. k - 1 do
                if out.[outOffset + m * k + column] = 0.0 then
                    let unit = completion out leftStart leftRows k found count
                    for i in 0 .. leftRows - 1 do out.[leftStart + i * k + column] <- unit.[i]
                    found.[count] <- column
                    count <- count + 1
            for column in 0 .. k - 1 do
                let mutable at = 0
                for i in 1 .. m - 1 do
                    if abs out.[outOffset + i * k + column] > abs out.[outOffset + at * k + column] then at <- i
                if out.[outOffset + at * k + column] < 0.0 then
                    for i in 0 .. m - 1 do out.[outOffset + i * k + column] <- -out.[outOffset + i * k + column]
                    for i in 0 .. n - 1 do out.[vStart + i * k + column] <- -out.[vStart + i * k + column]
