/// Dense factorisations and triangular solves on one row-major float64 matrix at an offset of an
/// array: Cholesky, LU with partial pivoting, Householder QR and the Jacobi eigensolver. They know
/// nothing of batches or dtypes (Linalg.fs brings tensors to this form and back). Inner loops are
/// dot products and row updates over contiguous rows, which SpanKernels vectorises (our own lanes,
/// optimised from the first call, where TensorPrimitives' generic code started at tier 0).
namespace FunctionalDiff.Core

open System
open System.Buffers
open System.Numerics.Tensors

/// Factorisations of one matrix, in place.
module internal LinalgKernels =

    /// A pooled work array of at least `count` (and 1) entries: work arrays stay paged in between calls.
    let internal rent (count: int) = ArrayPool<float>.Shared.Rent(max 1 count)

    let inline private row (a: 'T[]) (offset: int) (columns: int) (i: int) (start: int) (length: int) =
        Span<'T>(a, offset + i * columns + start, length)

    /// Columns per block of the blocked factorisations: the trailing update of each block is one
    /// GEMM, which carries most of the flops at large n. (Re-measure with `bench --linalg`.)
    let private block = 64

    /// C (rows × columns at cOffset, row stride ldc) = A B for strided A (rows × depth) and B
    /// (depth × columns), by the GEMM driver of the element type.
    let private multiply<'T> (rows: int) (columns: int) (depth: int) (a: 'T[]) (aOffset: int) (aRow: int) (aColumn: int)
                             (b: 'T[]) (bOffset: int) (bRow: int) (bColumn: int) (c: 'T[]) (cOffset: int) (ldc: int) =
        match box a with
        | :? (float[]) as a64 ->
            GemmDriver.multiply64 GemmSettings.Default rows columns depth a64 aOffset aRow aColumn
                                  (box b :?> float[]) bOffset bRow bColumn (box c :?> float[]) cOffset ldc
        | _ ->
            GemmDriver.multiply32 GemmSettings.Default rows columns depth (box a :?> float32[]) aOffset aRow aColumn
                                  (box b :?> float32[]) bOffset bRow bColumn (box c :?> float32[]) cOffset ldc

    /// Column j of a Cholesky panel (columns of `height` entries, one after another), from its
    /// diagonal down, loses the block's finished columns weighted by their entries in row j: a vector
    /// of rows at a time gathers all j terms in a register and is stored once, where one pass per
    /// column (a vectorised multiply-add each) loaded and stored the column j times. The terms are
    /// subtracted in the same order, one rounding each, so the bits are those of the passes.
    let private updateColumn<'T when 'T: struct and 'T: (new: unit -> 'T) and 'T :> ValueType and 'T :> Numerics.IFloatingPointIeee754<'T>>
        (panel: 'T[]) (height: int) (j: int) =
        let width = Numerics.Vector<'T>.Count
        let start = j * height + j
        let length = height - j
        let mutable p = 0
        if Numerics.Vector.IsHardwareAccelerated then
            // four vectors of rows at once: four independent chains of subtractions, each weight loaded once
            while p + 4 * width <= length do
                let mutable s0 = Numerics.Vector<'T>(panel, start + p)
                let mutable s1 = Numerics.Vector<'T>(panel, start + p + width)
                let mutable s2 = Numerics.Vector<'T>(panel, start + p + 2 * width)
                let mutable s3 = Numerics.Vector<'T>(panel, start + p + 3 * width)
                for c in 0 .. j - 1 do
                    let weight = Numerics.Vector<'T>(panel.[c * height + j])
                    let at = c * height + j + p
                    s0 <- s0 - weight * Numerics.Vector<'T>(panel, at)
                    s1 <- s1 - weight * Numerics.Vector<'T>(panel, at + width)
                    s2 <- s2 - weight * Numerics.Vector<'T>(panel, at + 2 * width)
                    s3 <- s3 - weight * Numerics.Vector<'T>(panel, at + 3 * width)
                s0.CopyTo(panel, start + p)
                s1.CopyTo(panel, start + p + width)
                s2.CopyTo(panel, start + p + 2 * width)
                s3.CopyTo(panel, start + p + 3 * width)
                p <- p + 4 * width
            while p + width <= length do
                let mutable sum = Numerics.Vector<'T>(panel, start + p)
                for c in 0 .. j - 1 do
                    sum <- sum - Numerics.Vector<'T>(panel.[c * height + j]) * Numerics.Vector<'T>(panel, c * height + j + p)
                sum.CopyTo(panel, start + p)
                p <- p + width
        for r in p .. length - 1 do
            let mutable sum = panel.[start + r]
            for c in 0 .. j - 1 do
                sum <- sum - panel.[c * height + j] * panel.[c * height + j + r]
            panel.[start + r] <- sum

    /// The lower Cholesky factor of the n×n matrix at `offset`, in place, reading only its lower
    /// triangle and zeroing the upper one. Right-looking by blocks of columns: within a block each
    /// column loses the block's columns already final (left-looking), and the rest of
    /// the lower triangle then loses the block's outer product, as one GEMM. Returns 0, or k when
    /// the leading minor of order k is not positive definite (a pivot <= 0 or NaN); the matrix is
    /// then left partly factored. In float32 or float64 (the element type is the arithmetic's).
    let cholesky<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (a: 'T[]) (offset: int) (n: int) : int =
        let mutable failedAt = 0
        let product = if n > block then ArrayPool<'T>.Shared.Rent(block * (n - block)) else Array.empty<'T>
        // The block's columns from its diagonal down, copied column by column: each column's update
        // is then a few long vector operations, where row-major order would make it one short dot
        // product per row (their call overhead was most of the time at n = 256).
        let panel = ArrayPool<'T>.Shared.Rent(max 1 (min block n * n))
        let mutable first = 0
        while failedAt = 0 && first < n do
            let size = min block (n - first)
            let height = n - first
            for c in 0 .. size - 1 do
                // a span the loop runs to its length: one bounds check per element, not two
                let column = Span<'T>(panel, c * height + c, height - c)
                let mutable at = offset + (first + c) * n + first + c
                for r in 0 .. column.Length - 1 do
                    column.[r] <- a.[at]
                    at <- at + n
            let mutable j = 0
            while failedAt = 0 && j < size do
                // column j below the diagonal loses the block's finished columns, weighted by row j
                match box panel with
                | :? (float32[]) as single -> updateColumn<float32> single height j
                | _ -> updateColumn<float> (box panel :?> float[]) height j
                let column = Span<'T>(panel, j * height + j, height - j)
                let pivot = column.[0]
                if not ('T.op_GreaterThan(pivot, 'T.Zero)) then failedAt <- first + j + 1
                else
                    let diagonal = 'T.Sqrt pivot
                    column.[0] <- diagonal
                    let below = column.Slice 1
                    SpanKernels.divideScalar (Span<'T>.op_Implicit below) diagonal below
                    j <- j + 1
            for c in 0 .. size - 1 do
                let column = ReadOnlySpan<'T>(panel, c * height + c, height - c)
                let mutable at = offset + (first + c) * n + first + c
                for r in 0 .. column.Length - 1 do
                    a.[at] <- column.[r]
                    at <- at + n
            let rest = n - first - size
            if failedAt = 0 && rest > 0 then
                // P Pᵀ for the panel P below the block, by strips of rows, each only up to the diagonal:
                // the lower triangle is all the later blocks read.
                let panel = offset + (first + size) * n + first
                for strip in 0 .. block .. rest - 1 do
                    let rows = min block (rest - strip)
                    let columns = strip + rows
                    multiply rows columns size a (panel + strip * n) n 1 a panel 1 n product 0 columns
                    for i in 0 .. rows - 1 do
                        let target = row a offset n (first + size + strip + i) (first + size) (strip + i + 1)
                        SpanKernels.subtract (Span<'T>.op_Implicit target) (ReadOnlySpan<'T>(product, i * columns, strip + i + 1)) target
            first <- first + size
        if n > block then ArrayPool<'T>.Shared.Return product
        ArrayPool<'T>.Shared.Return panel
        for i in 0 .. n - 2 do (row a offset n i (i + 1) (n - i - 1)).Clear()
        failedAt

    /// Rows [first, first + size) of T X = B in place, with T's coefficients inside that diagonal
    /// block only (the rest already subtracted): each solved row, scaled, leaves the rows after it.
    /// T's entry (i, j) is at tOffset + i·tRow + j·tColumn.
    let private solveBlock<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
                           (t: 'T[]) (tOffset: int) (tRow: int) (tColumn: int) (upper: bool) (unitDiagonal: bool)
                           (b: 'T[]) (bOffset: int) (k: int) (first: int) (size: int) =
        let order = if upper then [| first + size - 1 .. -1 .. first |] else [| first .. first + size - 1 |]
        for i in order do
            let target = row b bOffset k i 0 k
            let others = if upper then seq { i + 1 .. first + size - 1 } else seq { first .. i - 1 }
            for p in others do
                let solved = Span<'T>.op_Implicit (row b bOffset k p 0 k) : ReadOnlySpan<'T>
                SpanKernels.multiplyAddInto solved ('T.op_UnaryNegation t.[tOffset + i * tRow + p * tColumn]) target
            if not unitDiagonal then
                SpanKernels.divideScalar (Span<'T>.op_Implicit target) t.[tOffset + i * (tRow + tColumn)] target

    /// Solves T X = B in place of B (n×k at `bOffset`) for the n×n triangular T whose entry (i, j)
    /// is at tOffset + i·tRow + j·tColumn, so a transposed T is read where it lies (strides swapped)
    /// rather than copied. Uses only T's lower (or upper) triangle and, with `unitDiagonal`, ones on
    /// its diagonal. A zero on the diagonal gives inf or NaN, as IEEE division does (torch does not
    /// check either). In float32 or float64 (the element type is the arithmetic's).
    let solveTriangular<'T when 'T :> Numerics.IFloatingPointIeee754<'T>>
                        (t: 'T[]) (tOffset: int) (tRow: int) (tColumn: int) (n: int) (upper: bool) (unitDiagonal: bool)
                        (b: 'T[]) (bOffset: int) (k: int) =
        let order = if upper then [| n - 1 .. -1 .. 0 |] else [| 0 .. n - 1 |]
        let diagonal (i: int) = t.[tOffset + i * (tRow + tColumn)]
        if k = 1 && tColumn = 1 then
            // One right-hand side, T's rows contiguous: each unknown is a dot product with the ones already solved.
            let x = Span<'T>(b, bOffset, n)
            for i in order do
                let start, length = if upper then i + 1, n - i - 1 else 0, i
                let known = Span<'T>.op_Implicit (x.Slice(start, length)) : ReadOnlySpan<'T>
                let coefficients = ReadOnlySpan<'T>(t, tOffset + i * tRow + start, length)
                let value = 'T.op_Subtraction(b.[bOffset + i], SpanKernels.dot coefficients known)
                b.[bOffset + i] <- if unitDiagonal then value else 'T.op_Division(value, diagonal i)
        elif k = 1 && tRow = 1 then
            // One right-hand side, T's columns contiguous (a transposed factor): each unknown, once
            // solved, leaves the right-hand sides still to solve, by its column of T.
            for i in order do
                let value = if unitDiagonal then b.[bOffset + i] else 'T.op_Division(b.[bOffset + i], diagonal i)
                b.[bOffset + i] <- value
                let start, length = if upper then 0, i else i + 1, n - i - 1
                let rest = Span<'T>(b, bOffset + start, length)
                SpanKernels.multiplyAddInto (ReadOnlySpan<'T>(t, tOffset + start + i * tColumn, length)) ('T.op_UnaryNegation value) rest
        else
            // Blocks of rows in solving order: each first loses the product of its coefficients with
            // the rows already solved (one GEMM, which reads T in either layout), then is solved
            // within its diagonal block.
            let blocks = [| 0 .. block .. n - 1 |]
            let product = ArrayPool<'T>.Shared.Rent(max 1 (min block n * k))
            for first in (if upper then Array.rev blocks else blocks) do
                let size = min block (n - first)
                let solvedFirst, solvedCount = if upper then first + size, n - first - size else 0, first
                if solvedCount > 0 then
                    multiply size k solvedCount t (tOffset + first * tRow + solvedFirst * tColumn) tRow tColumn
                             b (bOffset + solvedFirst * k) k 1 product 0 k
                    let target = Span<'T>(b, bOffset + first * k, size * k)
                    SpanKernels.subtract (Span<'T>.op_Implicit target) (ReadOnlySpan<'T>(product, 0, size * k)) target
                solveBlock t tOffset tRow tColumn upper unitDiagonal b bOffset k first size
            ArrayPool<'T>.Shared.Return product

    /// Columns per panel of the blocked LU (below 64 changed little at n = 256 and 512).
    let private luBlock = 32

    /// LU with partial pivoting of the n×n matrix at `offset`, in place: unit-lower L below the
    /// diagonal, U on and above it; `pivots.[j]` is the row swapped with row j at step j. A zero
    /// pivot skips its elimination step (so slogdet still sees the zero); returns the number of
    /// row swaps and whether some pivot was 0. In float32 or float64 (the element type is the
    /// arithmetic's, as in torch).
    ///
    /// Blocked by `luBlock` columns, as LAPACK's getrf: a panel's steps run as the unblocked
    /// elimination but update only the panel's columns; then the panel's rows are solved for the
    /// columns to its right (the same updates, in the same order, as the unblocked steps give
    /// them), and the rows below lose L21·U12 in products of the GEMM driver. One rank-1 pass over
    /// the trailing matrix per column moved that matrix through the cache n times. Row swaps move
    /// whole rows, so every row carries its pending updates with it. A panel that met a zero pivot
    /// updates the rows below step by step without that step, as the unblocked loop.
    let lu<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (a: 'T[]) (offset: int) (n: int) (pivots: int[]) : struct (int * bool) =
        let mutable swaps = 0
        let mutable singular = false
        let tmp = ArrayPool<'T>.Shared.Rent(max 1 n)
        let product = if n > luBlock then ArrayPool<'T>.Shared.Rent(luBlock * (n - luBlock)) else null
        let mutable first = 0
        while first < n do
            let last = min n (first + luBlock)
            let mutable panelSkipped = false
            for j in first .. last - 1 do
                let mutable best = j
                for i in j + 1 .. n - 1 do
                    if 'T.op_GreaterThan('T.Abs a.[offset + i * n + j], 'T.Abs a.[offset + best * n + j]) then best <- i
                pivots.[j] <- best
                if best <> j then
                    swaps <- swaps + 1
                    let saved = Span<'T>(tmp, 0, n)
                    (row a offset n j 0 n).CopyTo saved
                    (row a offset n best 0 n).CopyTo(row a offset n j 0 n)
                    saved.CopyTo(row a offset n best 0 n)
                let pivot = a.[offset + j * n + j]
                if 'T.IsZero pivot then
                    singular <- true
                    panelSkipped <- true
                else
                    let pivotRow = Span<'T>.op_Implicit (row a offset n j (j + 1) (last - j - 1)) : ReadOnlySpan<'T>
                    for i in j + 1 .. n - 1 do
                        let factor = 'T.op_Division(a.[offset + i * n + j], pivot)
                        a.[offset + i * n + j] <- factor
                        if last - j - 1 > 0 then
                            SpanKernels.multiplyAddInto pivotRow ('T.op_UnaryNegation factor) (row a offset n i (j + 1) (last - j - 1))
            if last < n then
                let right = n - last
                let isPivot (j: int) = not ('T.IsZero a.[offset + j * n + j])
                // U12: the panel's rows, right of it, in the unblocked steps' order
                for j in first .. last - 1 do
                    if isPivot j then
                        let pivotRow = Span<'T>.op_Implicit (row a offset n j last right) : ReadOnlySpan<'T>
                        for i in j + 1 .. last - 1 do
                            SpanKernels.multiplyAddInto pivotRow ('T.op_UnaryNegation a.[offset + i * n + j]) (row a offset n i last right)
                if panelSkipped then
                    // a skipped step's column holds no factors: the rows below, step by step without it
                    for j in first .. last - 1 do
                        if isPivot j then
                            let pivotRow = Span<'T>.op_Implicit (row a offset n j last right) : ReadOnlySpan<'T>
                            for i in last .. n - 1 do
                                SpanKernels.multiplyAddInto pivotRow ('T.op_UnaryNegation a.[offset + i * n + j]) (row a offset n i last right)
                else
                    // A22 −= L21·U12, `block` rows of the product at a time
                    let depth = last - first
                    let mutable strip = last
                    while strip < n do
                        let rows = min luBlock (n - strip)
                        multiply rows right depth a (offset + strip * n + first) n 1 a (offset + first * n + last) n 1 product 0 right
                        for i in 0 .. rows - 1 do
                            let target = row a offset n (strip + i) last right
                            SpanKernels.subtract (Span<'T>.op_Implicit target) (ReadOnlySpan<'T>(product, i * right, right)) target
                        strip <- strip + rows
            first <- last
        if not (isNull product) then ArrayPool<'T>.Shared.Return product
        ArrayPool<'T>.Shared.Return tmp
        struct (swaps, singular)

    /// Solves A X = B in place of B (n×k) from A's LU factors and pivots.
    let luSolve<'T when 'T :> Numerics.IFloatingPointIeee754<'T>> (factors: 'T[]) (offset: int) (n: int) (pivots: int[]) (b: 'T[]) (bOffset: int) (k: int) =
        for j in 0 .. n - 1 do
            let p = pivots.[j]
            if p <> j then
                for c in 0 .. k - 1 do
                    let tmp = b.[bOffset + j * k + c]
                    b.[bOffset + j * k + c] <- b.[bOffset + p * k + c]
                    b.[bOffset + p * k + c] <- tmp
        let mutable infinite, nan = false, false
        for i in bOffset .. bOffset + n * k - 1 do
            if 'T.IsInfinity b.[i] then infinite <- true
            elif 'T.IsNaN b.[i] then nan <- true
        if not infinite || nan then
            solveTriangular factors offset n 1 n false true b bOffset k
            solveTriangular factors offset n 1 n true false b bOffset k
        else
            // A right-hand side with an infinity (and no NaN): the solution is the closed form A⁻¹b, the finite entries'
            // solve plus, for each infinite entry b[p], the column z = A⁻¹eₚ times b[p], counted only where z[i] ≠ 0 (an
            // unknown that does not depend on b[p] is not reached by it at all). Substituting the infinity itself made the
            // infinite unknowns meet again: back substitution subtracts u·x[j] for every solved x[j], ∞ − ∞ = NaN where
            // two of them have opposite signs (`fuzz all adversarial 55/168`: a dense 4×4 A against a column with one −∞,
            // whose solution is ±∞ in every entry; ours was NaN in two), and a dense product met a zero coefficient as
            // 0·∞ = NaN (`fuzz adversarial 14/191`: a bidiagonal A). Infinities of opposite signs that reach one unknown
            // still give NaN, as the sum says. A NaN spreads through the dense products to every unknown of its column,
            // as in torch (`fuzz 15/535`: diag(1.39, 1.39) against [0, NaN], NaN in both unknowns). Only this rare case
            // pays one more solve per infinite entry.
            let saved = Array.sub b bOffset (n * k)
            for i in bOffset .. bOffset + n * k - 1 do
                if 'T.IsInfinity b.[i] then b.[i] <- 'T.Zero
            solveTriangular factors offset n 1 n false true b bOffset k
            solveTriangular factors offset n 1 n true false b bOffset k
            let column = Array.zeroCreate<'T> n
            for p in 0 .. n - 1 do
                for c in 0 .. k - 1 do
                    let infinity = saved.[p * k + c]
                    if 'T.IsInfinity infinity then
                        Array.Clear column
                        column.[p] <- 'T.One
                        solveTriangular factors offset n 1 n false true column 0 1
                        solveTriangular factors offset n 1 n true false column 0 1
                        for i in 0 .. n - 1 do
                            if not ('T.IsZero column.[i]) then
                                b.[bOffset + i * k + c] <- b.[bOffset + i * k + c] + column.[i] * infinity

    /// Reduced Householder QR of the m×n matrix (m >= n) at `offset`: Q (m×n) and R (n×n) written
    /// to `q` and `r` at their offsets. Each reflector maps its column onto -sign(x0)·|x|·e1 and is
    /// skipped when the column is already zero below the diagonal: LAPACK's convention, so R's
    /// diagonal signs agree with torch's.
    let qr (a: float[]) (offset: int) (m: int) (n: int) (q: float[]) (qOffset: int) (r: float[]) (rOffset: int) =
        let work = Array.sub a offset (m * n)
        let reflectors = Array.init n (fun _ -> Array.empty<float>)
        let vector = Array.zeroCreate<float> m
        let products = Array.zeroCreate<float> n
        // H = I - 2 v vᵀ applied to rows `from`.. of an m×width matrix.
        let reflect (v: float[]) (from: int) (target: float[]) (targetOffset: int) (width: int) =
            Array.Clear products
            for i in from .. m - 1 do
                let vi = v.[i - from]
                if vi <> 0.0 then
                    for c in 0 .. width - 1 do products.[c] <- products.[c] + vi * target.[targetOffset + i * width + c]
            for i in from .. m - 1 do
                let vi = 2.0 * v.[i - from]
                if vi <> 0.0 then
                    for c in 0 .. width - 1 do target.[targetOffset + i * width + c] <- target.[targetOffset + i * width + c] - vi * products.[c]
        for j in 0 .. n - 1 do
            let length = m - j
            for i in 0 .. length - 1 do vector.[i] <- work.[(j + i) * n + j]
            // As LAPACK's reflector: nothing below the diagonal means no reflection (R keeps the entry's
            // sign), so square matrices get torch's R in the last column too.
            let tail = SpanKernels.dot (ReadOnlySpan(vector, 1, length - 1)) (ReadOnlySpan(vector, 1, length - 1))
            if tail > 0.0 then
                let norm = sqrt (vector.[0] * vector.[0] + tail)
                let beta = if vector.[0] >= 0.0 then -norm else norm
                let v = Array.sub vector 0 length
                v.[0] <- v.[0] - beta
                let vNorm = sqrt (SpanKernels.dot (ReadOnlySpan v) (ReadOnlySpan v))
                for i in 0 .. length - 1 do v.[i] <- v.[i] / vNorm
                reflectors.[j] <- v
                reflect v j work 0 n
                // exact zeros below the diagonal, the reflector's purpose
                work.[j * n + j] <- beta
                for i in j + 1 .. m - 1 do work.[i * n + j] <- 0.0
        for i in 0 .. n - 1 do
            for c in 0 .. n - 1 do r.[rOffset + i * n + c] <- if c >= i then work.[i * n + c] else 0.0
        // Q = H0 H1 ⋯ H(n-1) times the first n columns of the identity, applied from the right end.
        let qWork = Array.zeroCreate<float> (m * n)
        for i in 0 .. n - 1 do qWork.[i * n + i] <- 1.0
        for j in n - 1 .. -1 .. 0 do
            if reflectors.[j].Length > 0 then reflect reflectors.[j] j qWork 0 n
        Array.blit qWork 0 q qOffset (m * n)

    /// Eigenvalues (ascending) and orthonormal eigenvectors (columns) of the symmetric n×n matrix
    /// whose lower triangle is at `offset`, by cyclic Jacobi rotations until the off-diagonal part
    /// is negligible. Each eigenvector's largest-magnitude entry is made positive so the result is
    /// deterministic (torch's signs are LAPACK's and arbitrary).
    let eigh (a: float[]) (offset: int) (n: int) (values: float[]) (vOffset: int) (vectors: float[]) (vecOffset: int) =
        // A non-finite entry has no eigen-decomposition: the rotations would turn ∞ into ∞ − ∞ somewhere
        // and still return numbers (diag(0, ∞) gave the eigenvalues [0, ∞]). LAPACK, and so torch, returns
        // NaN for all of it; so does ours, and every derivative that reads it is NaN as well.
        let mutable finite = true
        for i in 0 .. n - 1 do
            for j in 0 .. i do
                if not (Double.IsFinite a.[offset + i * n + j]) then finite <- false
        if not finite then
            Array.Fill(values, nan, vOffset, n)
            Array.Fill(vectors, nan, vecOffset, n * n)
        else
            // Rotations of A / m with m = max |a_ij|, eigenvalues scaled back by m: the convergence test squares the
            // entries, which overflowed from about 1e154 (every rotation was skipped and the diagonal came back:
            // [[c, c], [c, c]] at c = 1.3e160 gave [c, c], not [0, 2c]; `fuzz adversarial 2/110`) and underflowed
            // below about 1e-162. The eigenvectors are those of A / m.
            let mutable largestEntry = 0.0
            for i in 0 .. n - 1 do
                for j in 0 .. i do
                    largestEntry <- max largestEntry (abs a.[offset + i * n + j])
            let scaleBack = if largestEntry > 0.0 then largestEntry else 1.0
            let s = Array.init (n * n) (fun index ->
                let i, j = index / n, index % n
                (if i >= j then a.[offset + i * n + j] else a.[offset + j * n + i]) / scaleBack)
            let v = Array.init (n * n) (fun index -> if index / n = index % n then 1.0 else 0.0)
            // Rutishauser's form of each rotation and a stopping test per pair, relative to the pair's own diagonal
            // entries, so that a small eigenvalue of a graded matrix keeps its digits: the diagonal moves by t·s_pq and
            // s_pq is set to exactly 0, where the two-sided product Jᵀ S J left rounding residues of the largest
            // entries in it, and a test relative to the whole norm stopped before a pair far below it was rotated at
            // all. `fuzz all adversarial 60/260`: [[0, 0, −621], [0, 0, 0], [−621, 0, −2e30]] has the eigenvalues
            // −2e30, 0 and 621²/2e30 = 1.93e-25 (torch's, from LAPACK); the norm's test returned 0 twice, and the
            // derivatives divided by that gap of 0. A pair is left once |s_pq| ≤ ε·√|s_pp·s_qq|, where rotating it
            // moves neither diagonal entry by more than a rounding of its own.
            let epsilon = Math.ScaleB(1.0, -52)
            let pairs = [| for p in 0 .. n - 2 do for q in p + 1 .. n - 1 -> struct (p, q) |]
            let mutable sweep = 0
            let mutable rotated = true
            while sweep < 100 && rotated do
                rotated <- false
                // Largest pairs first in each sweep: a pair whose rotation mixes a small entry into large ones
                // (two zero diagonal entries turn by 45°) loses that entry's digits, and the large pair rotated
                // first leaves it coupled to the large diagonal entries instead (`[[0, −1.7, 0], [−1.7, 0, −1e20],
                // [0, −1e20, 0]]`, whose middle eigenvalue is 0, gave −1388 and 9395 in cyclic order). A stable
                // sort keeps the cyclic order among equal entries, so the result stays deterministic.
                let sweepOrder = pairs |> Array.sortWith (fun (struct (p1, q1)) (struct (p2, q2)) ->
                    let byMagnitude = compare (abs s.[p2 * n + q2]) (abs s.[p1 * n + q1])
                    if byMagnitude <> 0 then byMagnitude else compare (p1 * n + q1) (p2 * n + q2))
                for struct (p, q) in sweepOrder do
                    let apq = s.[p * n + q]
                    if apq <> 0.0 && abs apq > epsilon * sqrt (abs s.[p * n + p]) * sqrt (abs s.[q * n + q]) then
                        rotated <- true
                        let theta = (s.[q * n + q] - s.[p * n + p]) / (2.0 * apq)
                        // tan of the angle, the root of t² + 2θt − 1 = 0 of smaller magnitude; 1/(2θ) where θ² would overflow
                        let t =
                            if abs theta > 1e150 then 0.5 / theta
                            else (if theta >= 0.0 then 1.0 else -1.0) / (abs theta + sqrt (theta * theta + 1.0))
                        let c = 1.0 / sqrt (t * t + 1.0)
                        let sn = t * c
                        s.[p * n + p] <- s.[p * n + p] - t * apq
                        s.[q * n + q] <- s.[q * n + q] + t * apq
                        s.[p * n + q] <- 0.0
                        s.[q * n + p] <- 0.0
                        for k in 0 .. n - 1 do
                            if k <> p && k <> q then
                                let skp, skq = s.[k * n + p], s.[k * n + q]
                                let kp = c * skp - sn * skq
                                let kq = sn * skp + c * skq
                                s.[k * n + p] <- kp
                                s.[p * n + k] <- kp
                                s.[k * n + q] <- kq
                                s.[q * n + k] <- kq
                        for k in 0 .. n - 1 do
                            let vkp, vkq = v.[k * n + p], v.[k * n + q]
                            v.[k * n + p] <- c * vkp - sn * vkq
                            v.[k * n + q] <- sn * vkp + c * vkq
                sweep <- sweep + 1
            let order = Array.init n id |> Array.sortBy (fun i -> s.[i * n + i])
            for column in 0 .. n - 1 do
                let source = order.[column]
                values.[vOffset + column] <- s.[source * n + source] * scaleBack
                let mutable largest = 0
                for k in 1 .. n - 1 do
                    if abs v.[k * n + source] > abs v.[largest * n + source] then largest <- k
                let sign = if v.[largest * n + source] < 0.0 then -1.0 else 1.0
                for k in 0 .. n - 1 do vectors.[vecOffset + k * n + column] <- sign * v.[k * n + source]
