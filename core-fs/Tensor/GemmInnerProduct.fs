/// The inner-product path of GEMM: C = A·B when A's rows and B's columns both run contiguously
/// along the depth (A row-major, B a transposed row-major matrix) and C is small. Such products
/// are a convolution's weight gradient (the cotangent against the im2col columns, contracted over
/// the output pixels) and any Gram-like A·Aᵀ. The packed outer-product path copies both operands
/// into panels before it multiplies; with few rows and columns of C each packed element is used
/// only a handful of times, so the copy costs as much as the arithmetic. Here every element of C
/// is a dot product read straight from both operands, four rows by four columns at a time (16
/// vector accumulators, 8 loads per 16 FMAs), or by five columns where that wastes fewer columns
/// and AVX-512 provides the registers, over depth chunks that keep the rows in cache.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: the operands are pinned by the caller

open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop

/// Dot-product blocks of C = A·B for A(i,p) = a[i·aRow + p] and B(p,j) = b[j·bColumn + p].
module internal GemmInnerProduct =

    /// Rows and columns of C per block.
    [<Literal>]
    let Block = 4

    /// Columns of C per block of `wideBlock`.
    [<Literal>]
    let WideBlock = 5

    /// Depth per chunk in elements: each chunk ends in a reduction of the block's accumulators
    /// and a pass over its corner of C, so chunks are as long as the L1 allows. The float32 rows of
    /// a 4 × 4 block's chunk (16 KB) stay in L1 while it runs, and the chunk's rows of A and B in L2
    /// across blocks; float64 rows twice as long (a 4 × 5 block's 36 KB overflow the L1) still beat
    /// half the length with twice the reductions and passes over C. Re-measure with a probe of
    /// 256 × 512 × 10 and 256 × 2048 × 10 in both dtypes.
    [<Literal>]
    let private ChunkElements = 512

    /// Adds (or, for the first chunk, stores) the rows × columns corner of one 4 × 4 block of dot
    /// products over `length` depth elements. Rows and columns past the edge of C repeat the last
    /// valid one (reads stay inside the operands) and are not written.
    let inline private block
        ([<InlineIfLambda>] fma: Vector256< ^T> -> Vector256< ^T> -> Vector256< ^T> -> Vector256< ^T>)
        (a: nativeptr< ^T>) (aRow: int) (rows: int) (b: nativeptr< ^T>) (bColumn: int) (columns: int)
        (length: int) (c: nativeptr< ^T>) (ldc: int) (first: bool) =
        let lanes = Vector256< ^T>.Count
        let a0 = a
        let a1 = NativePtr.add a (min 1 (rows - 1) * aRow)
        let a2 = NativePtr.add a (min 2 (rows - 1) * aRow)
        let a3 = NativePtr.add a (min 3 (rows - 1) * aRow)
        let b0 = b
        let b1 = NativePtr.add b (min 1 (columns - 1) * bColumn)
        let b2 = NativePtr.add b (min 2 (columns - 1) * bColumn)
        let b3 = NativePtr.add b (min 3 (columns - 1) * bColumn)
        let mutable c00 = Vector256< ^T>.Zero
        let mutable c01 = Vector256< ^T>.Zero
        let mutable c02 = Vector256< ^T>.Zero
        let mutable c03 = Vector256< ^T>.Zero
        let mutable c10 = Vector256< ^T>.Zero
        let mutable c11 = Vector256< ^T>.Zero
        let mutable c12 = Vector256< ^T>.Zero
        let mutable c13 = Vector256< ^T>.Zero
        let mutable c20 = Vector256< ^T>.Zero
        let mutable c21 = Vector256< ^T>.Zero
        let mutable c22 = Vector256< ^T>.Zero
        let mutable c23 = Vector256< ^T>.Zero
        let mutable c30 = Vector256< ^T>.Zero
        let mutable c31 = Vector256< ^T>.Zero
        let mutable c32 = Vector256< ^T>.Zero
        let mutable c33 = Vector256< ^T>.Zero
        let vectorEnd = length - length % lanes
        let mutable p = 0
        while p < vectorEnd do
            let x0 = Vector256.Load(NativePtr.add a0 p)
            let x1 = Vector256.Load(NativePtr.add a1 p)
            let x2 = Vector256.Load(NativePtr.add a2 p)
            let x3 = Vector256.Load(NativePtr.add a3 p)
            let y0 = Vector256.Load(NativePtr.add b0 p)
            let y1 = Vector256.Load(NativePtr.add b1 p)
            let y2 = Vector256.Load(NativePtr.add b2 p)
            let y3 = Vector256.Load(NativePtr.add b3 p)
            c00 <- fma x0 y0 c00; c01 <- fma x0 y1 c01; c02 <- fma x0 y2 c02; c03 <- fma x0 y3 c03
            c10 <- fma x1 y0 c10; c11 <- fma x1 y1 c11; c12 <- fma x1 y2 c12; c13 <- fma x1 y3 c13
            c20 <- fma x2 y0 c20; c21 <- fma x2 y1 c21; c22 <- fma x2 y2 c22; c23 <- fma x2 y3 c23
            c30 <- fma x3 y0 c30; c31 <- fma x3 y1 c31; c32 <- fma x3 y2 c32; c33 <- fma x3 y3 c33
            p <- p + lanes
        // the depth's tail, fewer than a vector, scalar
        let inline tail (x: nativeptr< ^T>) (y: nativeptr< ^T>) =
            let mutable sum = Unchecked.defaultof< ^T>
            for q in vectorEnd .. length - 1 do
                sum <- sum + NativePtr.get x q * NativePtr.get y q
            sum
        let inline put (r: int) (s: int) (x: nativeptr< ^T>) (y: nativeptr< ^T>) (v: Vector256< ^T>) =
            if r < rows && s < columns then
                let target = NativePtr.add c (r * ldc + s)
                let value = Vector256.Sum v + tail x y
                NativePtr.write target (if first then value else NativePtr.read target + value)
        put 0 0 a0 b0 c00; put 0 1 a0 b1 c01; put 0 2 a0 b2 c02; put 0 3 a0 b3 c03
        put 1 0 a1 b0 c10; put 1 1 a1 b1 c11; put 1 2 a1 b2 c12; put 1 3 a1 b3 c13
        put 2 0 a2 b0 c20; put 2 1 a2 b1 c21; put 2 2 a2 b2 c22; put 2 3 a2 b3 c23
        put 3 0 a3 b0 c30; put 3 1 a3 b1 c31; put 3 2 a3 b2 c32; put 3 3 a3 b3 c33

    /// The same as `block` for four rows by five columns (20 accumulators, 9 loads per 20 FMAs):
    /// for a C of 5, 10 or 15 columns, where blocks of four would compute padding columns. It
    /// needs the 32 vector registers of AVX-512; with 16 the accumulators would spill.
    let inline private wideBlock
        ([<InlineIfLambda>] fma: Vector256< ^T> -> Vector256< ^T> -> Vector256< ^T> -> Vector256< ^T>)
        (a: nativeptr< ^T>) (aRow: int) (rows: int) (b: nativeptr< ^T>) (bColumn: int) (columns: int)
        (length: int) (c: nativeptr< ^T>) (ldc: int) (first: bool) =
        let lanes = Vector256< ^T>.Count
        let a0 = a
        let a1 = NativePtr.add a (min 1 (rows - 1) * aRow)
        let a2 = NativePtr.add a (min 2 (rows - 1) * aRow)
        let a3 = NativePtr.add a (min 3 (rows - 1) * aRow)
        let b0 = b
        let b1 = NativePtr.add b (min 1 (columns - 1) * bColumn)
        let b2 = NativePtr.add b (min 2 (columns - 1) * bColumn)
        let b3 = NativePtr.add b (min 3 (columns - 1) * bColumn)
        let b4 = NativePtr.add b (min 4 (columns - 1) * bColumn)
        let mutable c00 = Vector256< ^T>.Zero
        let mutable c01 = Vector256< ^T>.Zero
        let mutable c02 = Vector256< ^T>.Zero
        let mutable c03 = Vector256< ^T>.Zero
        let mutable c04 = Vector256< ^T>.Zero
        let mutable c10 = Vector256< ^T>.Zero
        let mutable c11 = Vector256< ^T>.Zero
        let mutable c12 = Vector256< ^T>.Zero
        let mutable c13 = Vector256< ^T>.Zero
        let mutable c14 = Vector256< ^T>.Zero
        let mutable c20 = Vector256< ^T>.Zero
        let mutable c21 = Vector256< ^T>.Zero
        let mutable c22 = Vector256< ^T>.Zero
        let mutable c23 = Vector256< ^T>.Zero
        let mutable c24 = Vector256< ^T>.Zero
        let mutable c30 = Vector256< ^T>.Zero
        let mutable c31 = Vector256< ^T>.Zero
        let mutable c32 = Vector256< ^T>.Zero
        let mutable c33 = Vector256< ^T>.Zero
        let mutable c34 = Vector256< ^T>.Zero
        let vectorEnd = length - length % lanes
        let mutable p = 0
        while p < vectorEnd do
            let x0 = Vector256.Load(NativePtr.add a0 p)
            let x1 = Vector256.Load(NativePtr.add a1 p)
            let x2 = Vector256.Load(NativePtr.add a2 p)
            let x3 = Vector256.Load(NativePtr.add a3 p)
            let y0 = Vector256.Load(NativePtr.add b0 p)
            let y1 = Vector256.Load(NativePtr.add b1 p)
            let y2 = Vector256.Load(NativePtr.add b2 p)
            let y3 = Vector256.Load(NativePtr.add b3 p)
            let y4 = Vector256.Load(NativePtr.add b4 p)
            c00 <- fma x0 y0 c00; c01 <- fma x0 y1 c01; c02 <- fma x0 y2 c02; c03 <- fma x0 y3 c03; c04 <- fma x0 y4 c04
            c10 <- fma x1 y0 c10; c11 <- fma x1 y1 c11; c12 <- fma x1 y2 c12; c13 <- fma x1 y3 c13; c14 <- fma x1 y4 c14
            c20 <- fma x2 y0 c20; c21 <- fma x2 y1 c21; c22 <- fma x2 y2 c22; c23 <- fma x2 y3 c23; c24 <- fma x2 y4 c24
            c30 <- fma x3 y0 c30; c31 <- fma x3 y1 c31; c32 <- fma x3 y2 c32; c33 <- fma x3 y3 c33; c34 <- fma x3 y4 c34
            p <- p + lanes
        let inline tail (x: nativeptr< ^T>) (y: nativeptr< ^T>) =
            let mutable sum = Unchecked.defaultof< ^T>
            for q in vectorEnd .. length - 1 do
                sum <- sum + NativePtr.get x q * NativePtr.get y q
            sum
        let inline put (r: int) (s: int) (x: nativeptr< ^T>) (y: nativeptr< ^T>) (v: Vector256< ^T>) =
            if r < rows && s < columns then
                let target = NativePtr.add c (r * ldc + s)
                let value = Vector256.Sum v + tail x y
                NativePtr.write target (if first then value else NativePtr.read target + value)
        put 0 0 a0 b0 c00; put 0 1 a0 b1 c01; put 0 2 a0 b2 c02; put 0 3 a0 b3 c03; put 0 4 a0 b4 c04
        put 1 0 a1 b0 c10; put 1 1 a1 b1 c11; put 1 2 a1 b2 c12; put 1 3 a1 b3 c13; put 1 4 a1 b4 c14
        put 2 0 a2 b0 c20; put 2 1 a2 b1 c21; put 2 2 a2 b2 c22; put 2 3 a2 b3 c23; put 2 4 a2 b4 c24
        put 3 0 a3 b0 c30; put 3 1 a3 b1 c31; put 3 2 a3 b2 c32; put 3 3 a3 b3 c33; put 3 4 a3 b4 c34

    /// Rows [firstRow, lastRow) of C, every column, over the whole depth in chunks. C is overwritten.
    let inline private rowRange
        ([<InlineIfLambda>] fma: Vector256< ^T> -> Vector256< ^T> -> Vector256< ^T> -> Vector256< ^T>)
        (firstRow: int) (lastRow: int) (n: int) (k: int)
        (a: nativeptr< ^T>) (aRow: int) (b: nativeptr< ^T>) (bColumn: int) (c: nativeptr< ^T>) (ldc: int) =
        let chunk = ChunkElements
        // five columns a block when that computes fewer padding columns than four (10 columns: 10, not 12)
        let wide = Avx512F.VL.IsSupported && (n + WideBlock - 1) / WideBlock * WideBlock < (n + Block - 1) / Block * Block
        let step = if wide then WideBlock else Block
        let mutable p0 = 0
        while p0 < k do
            let length = min chunk (k - p0)
            let mutable i = firstRow
            while i < lastRow do
                let mutable j = 0
                while j < n do
                    if wide then
                        wideBlock fma (NativePtr.add a (i * aRow + p0)) aRow (min Block (lastRow - i))
                                  (NativePtr.add b (j * bColumn + p0)) bColumn (min WideBlock (n - j))
                                  length (NativePtr.add c (i * ldc + j)) ldc (p0 = 0)
                    else
                        block fma (NativePtr.add a (i * aRow + p0)) aRow (min Block (lastRow - i))
                              (NativePtr.add b (j * bColumn + p0)) bColumn (min Block (n - j))
                              length (NativePtr.add c (i * ldc + j)) ldc (p0 = 0)
                    j <- j + step
                i <- i + Block
            p0 <- p0 + length

    let private rows32 first last n k (a: nativeint) aRow (b: nativeint) bColumn (c: nativeint) ldc =
        rowRange (fun (x: Vector256<float32>) y z -> Vector256.FusedMultiplyAdd(x, y, z)) first last n k
                 (NativePtr.ofNativeInt<float32> a) aRow (NativePtr.ofNativeInt<float32> b) bColumn (NativePtr.ofNativeInt<float32> c) ldc

    let private rows64 first last n k (a: nativeint) aRow (b: nativeint) bColumn (c: nativeint) ldc =
        rowRange (fun (x: Vector256<float>) y z -> Vector256.FusedMultiplyAdd(x, y, z)) first last n k
                 (NativePtr.ofNativeInt<float> a) aRow (NativePtr.ofNativeInt<float> b) bColumn (NativePtr.ofNativeInt<float> c) ldc

    /// The product in `parts` bands of whole row blocks, one per worker when parts > 1.
    /// (Inline, with the band function inlined: a function value passed here would be an
    /// allocation per product, and a compiled step's products must allocate nothing.)
    let inline private inParts ([<InlineIfLambda>] rows: int -> int -> int -> int -> nativeint -> int -> nativeint -> int -> nativeint -> int -> unit)
                        (parts: int) m n k (a: nativeint) aRow (b: nativeint) bColumn (c: nativeint) ldc =
        let blocks = (m + Block - 1) / Block
        let parts = max 1 (min parts blocks)
        if parts = 1 then rows 0 m n k a aRow b bColumn c ldc
        else
            Workers.run parts (fun part ->
                let first = part * blocks / parts * Block
                let last = min m ((part + 1) * blocks / parts * Block)
                rows first last n k a aRow b bColumn c ldc)

    /// True when this path suits the product: both operands contiguous along the depth, FMA in
    /// hardware, a depth worth vectorising, and at most `outputs` elements of C (above that, packing
    /// is repaid by the reuse of each packed element).
    let suits (outputs: int) (m: int) (n: int) (k: int) (aColumn: int) (bRow: int) =
        aColumn = 1 && bRow = 1 && k >= 32 && m >= 2 && n >= 2 && int64 m * int64 n <= int64 outputs
        && Vector256.IsHardwareAccelerated && System.Runtime.Intrinsics.X86.Fma.IsSupported

    /// C = A·B in float32 with C overwritten (rows ldc apart); see the module for the layout.
    let multiply32 parts m n k (a: nativeint) aRow (b: nativeint) bColumn (c: nativeint) ldc =
        inParts rows32 parts m n k a aRow b bColumn c ldc

    /// C = A·B in float64 with C overwritten (rows ldc apart); see the module for the layout.
    let multiply64 parts m n k (a: nativeint) aRow (b: nativeint) bColumn (c: nativeint) ldc =
        inParts rows64 parts m n k a aRow b bColumn c ldc
