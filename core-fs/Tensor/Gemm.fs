/// GEMM: C = A·B for float32 and float64 over strided operands. This file owns the driver:
/// cache blocking, packing of A and B panels into aligned buffers, zero-padding of edges,
/// the tiny-size path and the split across cores. The register-blocked inner loops are in
/// GemmKernels.fs.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: operands are pinned and packed panels are raw aligned memory

open System
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Numerics.Tensors
open System.Threading.Tasks
open Microsoft.FSharp.NativeInterop

/// How a GEMM call runs. Production code uses `GemmSettings.Default`; tests shrink the blocks
/// and thresholds to reach every path on small matrices, and pick narrower kernels.
type internal GemmSettings =
    { /// Vector width in bits of the micro-kernel: 512, 256 or 128.
      Width: int
      /// Rows of A packed at once (kept in L2); rounded down to a multiple of the kernel's rows.
      RowBlock: int
      /// Depth of one packed slice (A panel and B panel both kept in L1 while a tile runs).
      DepthBlock: int
      /// Columns of B packed at once; rounded down to a multiple of the kernel's columns.
      ColumnBlock: int
      /// Below this many multiply-adds (m·n·k) the packing would cost more than it saves.
      TinyWork: int
      /// From this many multiply-adds on, the work is split across cores.
      ParallelWork: int
      /// How many parts to split large products into.
      Threads: int }

/// Defaults measured on the development machine: an AMD EPYC reporting family 25 model 17
/// (Zen 4: 32 KB L1d and 1 MB L2 per core, AVX-512 executed as two 256-bit halves, so one
/// 512-bit FMA per cycle, about 110 float32 GFLOP/s per core).
module internal GemmSettings =
    /// The settings every public entry point uses.
    let Default =
        { Width = GemmKernels.bestWidth
          // The A block, 192 × 512, is 384 KB in float32 and 768 KB in float64: it stays in L2.
          RowBlock = 192
          // Deep slices amortise each tile's read-modify-write of C over more FMAs. The B
          // micro-panel (64 KB) then streams from L2 rather than sitting in L1, which the
          // prefetchers hide; 512 beat 256 and 384 by 5-10% in single-core measurements.
          DepthBlock = 512
          ColumnBlock = 2048
          TinyWork = 4096
          // ~4 M flops: a few microseconds of work on one core, well above the cost of a task.
          ParallelWork = 1 <<< 21
          Threads = Environment.ProcessorCount }

/// The strided driver behind `Gemm.Multiply` and `LinearAlgebra.matmul`.
module internal GemmDriver =

    let private roundUp (value: int) (multiple: int) = (value + multiple - 1) / multiple * multiple

    let private allocate<'T when 'T: unmanaged> (count: int) : nativeptr<'T> =
        let bytes = unativeint (max count 1 * sizeof<'T>)
        NativePtr.ofVoidPtr (NativeMemory.AlignedAlloc(bytes, 64un))

    let private release (p: nativeptr<'T>) = NativeMemory.AlignedFree(NativePtr.toVoidPtr p)

    /// Packs rows [0, rows) × columns [0, depth) of A (strides rowStride/columnStride from `a`)
    /// into micro-panels of `height` rows: panel q holds a[q*height + r, p] at q*height*depth + p*height + r,
    /// with rows beyond `rows` zero so the kernel never needs an edge case. Each element of A is
    /// used n times by the kernel but packed once per column block, so packing must cost about a
    /// cycle per element: pointers advance by addition and the common layouts get their own loops.
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    let private packA (a: nativeptr<'T>) (rowStride: int) (columnStride: int) (rows: int) (depth: int) (height: int) (target: nativeptr<'T>) =
        let mutable panelStart = 0
        while panelStart < rows do
            let mutable write = NativePtr.add target (panelStart * depth)
            let valid = min height (rows - panelStart)
            let first = NativePtr.add a (panelStart * rowStride)
            if valid = 6 && height = 6 && columnStride = 1 then
                // Row-major A: six sequential row streams, one sequential write stream.
                let r0 = first
                let r1 = NativePtr.add first rowStride
                let r2 = NativePtr.add first (2 * rowStride)
                let r3 = NativePtr.add first (3 * rowStride)
                let r4 = NativePtr.add first (4 * rowStride)
                let r5 = NativePtr.add first (5 * rowStride)
                for p in 0 .. depth - 1 do
                    NativePtr.set write 0 (NativePtr.get r0 p)
                    NativePtr.set write 1 (NativePtr.get r1 p)
                    NativePtr.set write 2 (NativePtr.get r2 p)
                    NativePtr.set write 3 (NativePtr.get r3 p)
                    NativePtr.set write 4 (NativePtr.get r4 p)
                    NativePtr.set write 5 (NativePtr.get r5 p)
                    write <- NativePtr.add write 6
            elif valid = height && rowStride = 1 then
                // Transposed A: each packed column is `height` contiguous elements.
                let mutable read = first
                let bytes = int64 (height * sizeof<'T>)
                for _ in 1 .. depth do
                    Buffer.MemoryCopy(NativePtr.toVoidPtr read, NativePtr.toVoidPtr write, bytes, bytes)
                    read <- NativePtr.add read columnStride
                    write <- NativePtr.add write height
            else
                for r in 0 .. height - 1 do
                    let mutable column = NativePtr.add write r
                    if r < valid then
                        let mutable read = NativePtr.add first (r * rowStride)
                        for _ in 1 .. depth do
                            NativePtr.write column (NativePtr.read read)
                            read <- NativePtr.add read columnStride
                            column <- NativePtr.add column height
                    else
                        for _ in 1 .. depth do
                            NativePtr.write column Unchecked.defaultof<'T>
                            column <- NativePtr.add column height
            panelStart <- panelStart + height

    /// Packs rows [0, depth) × columns [0, columns) of B into micro-panels of `width` columns:
    /// panel q holds b[p, q*width + j] at q*width*depth + p*width + j, zero beyond `columns`.
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    let private packB (b: nativeptr<'T>) (rowStride: int) (columnStride: int) (depth: int) (columns: int) (width: int) (target: nativeptr<'T>) =
        let panels = (columns + width - 1) / width
        let elementBytes = sizeof<'T>
        if columnStride = 1 then
            // Row-major B: read each row once, front to back, copying whole panel rows.
            for p in 0 .. depth - 1 do
                let row = NativePtr.add b (p * rowStride)
                for q in 0 .. panels - 1 do
                    let valid = min width (columns - q * width)
                    let write = NativePtr.add target (q * width * depth + p * width)
                    let bytes = int64 (valid * elementBytes)
                    Buffer.MemoryCopy(NativePtr.toVoidPtr (NativePtr.add row (q * width)), NativePtr.toVoidPtr write, bytes, bytes)
                    if valid < width then
                        NativeMemory.Clear(NativePtr.toVoidPtr (NativePtr.add write valid), unativeint ((width - valid) * elementBytes))
        else
            // Any other layout (a transposed B has rowStride 1): walk each column down the depth.
            for q in 0 .. panels - 1 do
                let panel = NativePtr.add target (q * width * depth)
                let valid = min width (columns - q * width)
                for j in 0 .. width - 1 do
                    let mutable write = NativePtr.add panel j
                    if j < valid then
                        let mutable read = NativePtr.add b ((q * width + j) * columnStride)
                        for _ in 1 .. depth do
                            NativePtr.write write (NativePtr.read read)
                            read <- NativePtr.add read rowStride
                            write <- NativePtr.add write width
                    else
                        for _ in 1 .. depth do
                            NativePtr.write write Unchecked.defaultof<'T>
                            write <- NativePtr.add write width

    /// Adds a rows × columns corner of the dense `tile` (row length `tileWidth`) into C.
    let inline private addTile (tile: nativeptr< ^T>) (tileWidth: int) (rows: int) (columns: int) (c: nativeptr< ^T>) (ldc: int) =
        for r in 0 .. rows - 1 do
            for j in 0 .. columns - 1 do
                let target = NativePtr.add c (r * ldc + j)
                NativePtr.write target (NativePtr.read target + NativePtr.get tile (r * tileWidth + j))

    /// One core's blocked product: C (m × n, row stride ldc, unit column stride) += A·B.
    /// Loop order after Goto and van de Geijn: columns of B by ColumnBlock, depth by DepthBlock
    /// (pack B once), rows of A by RowBlock (pack A once), then micro-tiles.
    let inline private blocked
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (m: int) (n: int) (k: int)
        (a: nativeptr< ^T>) (aRow: int) (aColumn: int)
        (b: nativeptr< ^T>) (bRow: int) (bColumn: int)
        (c: nativeptr< ^T>) (ldc: int) =
        let height, width = kernel.Rows, kernel.Columns
        let rowBlock = min (max height (settings.RowBlock / height * height)) (roundUp m height)
        let depthBlock = min (max 1 settings.DepthBlock) k
        let columnBlock = min (max width (settings.ColumnBlock / width * width)) (roundUp n width)
        let packedA = allocate< ^T> (rowBlock * depthBlock)
        let packedB = allocate< ^T> (depthBlock * columnBlock)
        let tile = allocate< ^T> (height * width)
        try
            let mutable jc = 0
            while jc < n do
                let nc = min columnBlock (n - jc)
                let mutable pc = 0
                while pc < k do
                    let kc = min depthBlock (k - pc)
                    packB (NativePtr.add b (pc * bRow + jc * bColumn)) bRow bColumn kc nc width packedB
                    let mutable ic = 0
                    while ic < m do
                        let mc = min rowBlock (m - ic)
                        packA (NativePtr.add a (ic * aRow + pc * aColumn)) aRow aColumn mc kc height packedA
                        let mutable jr = 0
                        while jr < nc do
                            let columns = min width (nc - jr)
                            let bPanel = NativePtr.add packedB (jr * kc)
                            let mutable ir = 0
                            while ir < mc do
                                let rows = min height (mc - ir)
                                let aPanel = NativePtr.add packedA (ir * kc)
                                let target = NativePtr.add c ((ic + ir) * ldc + jc + jr)
                                if rows = height && columns = width then
                                    kernel.Run(kc, aPanel, bPanel, target, ldc)
                                else
                                    NativeMemory.Clear(NativePtr.toVoidPtr tile, unativeint (height * width * sizeof< ^T>))
                                    kernel.Run(kc, aPanel, bPanel, tile, width)
                                    addTile tile width rows columns target ldc
                                ir <- ir + height
                            jr <- jr + width
                        ic <- ic + mc
                    pc <- pc + kc
                jc <- jc + nc
        finally
            release packedA
            release packedB
            release tile

    // Concrete entry points for one core's work, optimised at once (no tier-0 phase); pointers
    // travel as nativeint so that these can be passed as ordinary function values.
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    let private blocked32 (kernel: MicroKernel<float32>) settings m n k (a: nativeint) aRow aColumn (b: nativeint) bRow bColumn (c: nativeint) ldc =
        blocked kernel settings m n k (NativePtr.ofNativeInt<float32> a) aRow aColumn (NativePtr.ofNativeInt b) bRow bColumn (NativePtr.ofNativeInt c) ldc

    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    let private blocked64 (kernel: MicroKernel<float>) settings m n k (a: nativeint) aRow aColumn (b: nativeint) bRow bColumn (c: nativeint) ldc =
        blocked kernel settings m n k (NativePtr.ofNativeInt<float> a) aRow aColumn (NativePtr.ofNativeInt b) bRow bColumn (NativePtr.ofNativeInt c) ldc

    let inline private span (p: nativeptr<'T>) (length: int) = Span<'T>(NativePtr.toVoidPtr p, length)
    let inline private readOnly (p: nativeptr<'T>) (length: int) = ReadOnlySpan<'T>(NativePtr.toVoidPtr p, length)

    /// The product without packing, for work too small to repay it and for matrix-vector
    /// products, where each element of the matrix is used once and packing cannot pay. The four
    /// matrix-vector layouts with contiguous runs go to TensorPrimitives' vectorised Dot and
    /// MultiplyAdd; anything else is an i-p-j loop whose innermost loop walks a row of B and C.
    let inline private direct (m: int) (n: int) (k: int)
                              (a: nativeptr< ^T>) (aRow: int) (aColumn: int)
                              (b: nativeptr< ^T>) (bRow: int) (bColumn: int)
                              (c: nativeptr< ^T>) (ldc: int) =
        if n = 1 && aColumn = 1 && bRow = 1 then
            // matrix · vector: one dot product per row of A
            for i in 0 .. m - 1 do
                NativePtr.set c (i * ldc) (TensorPrimitives.Dot< ^T>(readOnly (NativePtr.add a (i * aRow)) k, readOnly b k))
        elif n = 1 && aRow = 1 && ldc = 1 then
            // transposed matrix · vector: C accumulates columns of A scaled by B
            let target = span c m
            for p in 0 .. k - 1 do
                TensorPrimitives.MultiplyAdd< ^T>(readOnly (NativePtr.add a (p * aColumn)) m, NativePtr.get b (p * bRow), target, target)
        elif m = 1 && bColumn = 1 then
            // vector · matrix: C accumulates rows of B scaled by A
            let target = span c n
            for p in 0 .. k - 1 do
                TensorPrimitives.MultiplyAdd< ^T>(readOnly (NativePtr.add b (p * bRow)) n, NativePtr.get a (p * aColumn), target, target)
        elif m = 1 && bRow = 1 && aColumn = 1 then
            // vector · transposed matrix: one dot product per column of B
            for j in 0 .. n - 1 do
                NativePtr.set c j (TensorPrimitives.Dot< ^T>(readOnly a k, readOnly (NativePtr.add b (j * bColumn)) k))
        else
            for i in 0 .. m - 1 do
                let cRow = NativePtr.add c (i * ldc)
                for p in 0 .. k - 1 do
                    let aValue = NativePtr.get a (i * aRow + p * aColumn)
                    let bRowStart = NativePtr.add b (p * bRow)
                    for j in 0 .. n - 1 do
                        NativePtr.set cRow j (NativePtr.get cRow j + aValue * NativePtr.get bRowStart (j * bColumn))

    /// C[cOffset + i*ldc + j] = Σp A(i,p)·B(p,j), where A(i,p) = a[aOffset + i*aRow + p*aColumn]
    /// and B(p,j) = b[bOffset + p*bRow + j*bColumn]. Any strides (negative, zero) are allowed;
    /// the caller has checked that every index lies inside its array. C is overwritten.
    let inline private run
        ([<InlineIfLambda>] serial: MicroKernel< ^T> -> GemmSettings -> int -> int -> int -> nativeint -> int -> int -> nativeint -> int -> int -> nativeint -> int -> unit)
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (m: int) (n: int) (k: int)
        (a: ^T[]) (aOffset: int) (aRow: int) (aColumn: int)
        (b: ^T[]) (bOffset: int) (bRow: int) (bColumn: int)
        (c: ^T[]) (cOffset: int) (ldc: int) =
        if m > 0 && n > 0 then
            for i in 0 .. m - 1 do
                Array.Fill(c, Unchecked.defaultof< ^T>, cOffset + i * ldc, n)
        if m > 0 && n > 0 && k > 0 then
            use aBase = fixed a
            use bBase = fixed b
            use cBase = fixed c
            let aStart = NativePtr.add aBase aOffset
            let bStart = NativePtr.add bBase bOffset
            let cStart = NativePtr.add cBase cOffset
            let work = int64 m * int64 n * int64 k
            // A single row or column gets nothing from packing: each element of the other
            // operand is used once.
            if work < int64 settings.TinyWork || m = 1 || n = 1 then
                direct m n k aStart aRow aColumn bStart bRow bColumn cStart ldc
            elif work < int64 settings.ParallelWork || settings.Threads <= 1 then
                serial kernel settings m n k (NativePtr.toNativeInt aStart) aRow aColumn (NativePtr.toNativeInt bStart) bRow bColumn (NativePtr.toNativeInt cStart) ldc
            else
                // Split the longer side of C into contiguous parts, whole micro-tiles each; every
                // part packs its own panels, so the parts share nothing but read-only inputs.
                let splitColumns = n >= m
                let length, unit = if splitColumns then n, kernel.Columns else m, kernel.Rows
                let parts = max 1 (min settings.Threads ((length + unit - 1) / unit))
                let chunk = roundUp ((length + parts - 1) / parts) unit
                let aAddress, bAddress, cAddress =
                    NativePtr.toNativeInt aStart, NativePtr.toNativeInt bStart, NativePtr.toNativeInt cStart
                Parallel.For(0, parts, fun part ->
                    let first = part * chunk
                    let size = min chunk (length - first)
                    if size > 0 then
                        let elementBytes = nativeint sizeof< ^T>
                        if splitColumns then
                            serial kernel settings m size k aAddress aRow aColumn
                                   (bAddress + nativeint (first * bColumn) * elementBytes) bRow bColumn (cAddress + nativeint first * elementBytes) ldc
                        else
                            serial kernel settings size n k (aAddress + nativeint (first * aRow) * elementBytes) aRow aColumn
                                   bAddress bRow bColumn (cAddress + nativeint (first * ldc) * elementBytes) ldc)
                |> ignore

    /// The float32 product; see `run` for the layout.
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    let multiply32 (settings: GemmSettings) m n k (a: float32[]) aOffset aRow aColumn (b: float32[]) bOffset bRow bColumn (c: float32[]) cOffset ldc =
        run blocked32 (GemmKernels.float32Kernel settings.Width) settings m n k a aOffset aRow aColumn b bOffset bRow bColumn c cOffset ldc

    /// The float64 product; see `run` for the layout.
    [<MethodImpl(MethodImplOptions.AggressiveOptimization)>]
    let multiply64 (settings: GemmSettings) m n k (a: float[]) aOffset aRow aColumn (b: float[]) bOffset bRow bColumn (c: float[]) cOffset ldc =
        run blocked64 (GemmKernels.float64Kernel settings.Width) settings m n k a aOffset aRow aColumn b bOffset bRow bColumn c cOffset ldc

    /// Checks that every index `offset + i*rowStride + j*columnStride` of a rows × columns
    /// operand lies inside an array of `length`, naming the operand in the error.
    let checkBounds (op: string) (name: string) (length: int) (offset: int) (rows: int) (columns: int) (rowStride: int) (columnStride: int) =
        if rows > 0 && columns > 0 then
            let extreme (stride: int) (count: int) = int64 stride * int64 (count - 1)
            let lowest = int64 offset + min 0L (extreme rowStride rows) + min 0L (extreme columnStride columns)
            let highest = int64 offset + max 0L (extreme rowStride rows) + max 0L (extreme columnStride columns)
            if lowest < 0L || highest >= int64 length then
                Shape.fail op (sprintf "%s (%d x %d from offset %d, strides %d and %d) reaches outside its array of %d elements"
                                   name rows columns offset rowStride columnStride length)

/// General matrix multiplication on row-major arrays, BLAS-style: C = op(A)·op(B), where
/// op(A) is m × k and op(B) is k × n. Without transposition A is stored row-major with
/// leading dimension lda (element (i,p) at aOffset + i*lda + p); with it, A is stored as its
/// k × m transpose (element (i,p) at aOffset + p*lda + i), so a transposed view needs no copy.
/// Likewise for B. C is m × n row-major with leading dimension ldc and is overwritten.
[<AbstractClass; Sealed>]
type Gemm =

    static member private Check(m, n, k, aLength, aOffset, lda, transposeA, bLength, bOffset, ldb, transposeB, cLength, cOffset, ldc) =
        if m < 0 || n < 0 || k < 0 then
            Shape.fail "Gemm" (sprintf "negative size m=%d n=%d k=%d" m n k)
        let aStoredColumns = if transposeA then m else k
        let bStoredColumns = if transposeB then k else n
        if lda < max 1 aStoredColumns then Shape.fail "Gemm" (sprintf "lda %d is less than the %d stored columns of A" lda aStoredColumns)
        if ldb < max 1 bStoredColumns then Shape.fail "Gemm" (sprintf "ldb %d is less than the %d stored columns of B" ldb bStoredColumns)
        if ldc < max 1 n then Shape.fail "Gemm" (sprintf "ldc %d is less than the %d columns of C" ldc n)
        let aRow, aColumn = if transposeA then 1, lda else lda, 1
        let bRow, bColumn = if transposeB then 1, ldb else ldb, 1
        GemmDriver.checkBounds "Gemm" "A" aLength aOffset m k aRow aColumn
        GemmDriver.checkBounds "Gemm" "B" bLength bOffset k n bRow bColumn
        GemmDriver.checkBounds "Gemm" "C" cLength cOffset m n ldc 1
        aRow, aColumn, bRow, bColumn

    /// C = op(A)·op(B) in float32 (see the type's summary for the layout).
    static member Multiply(transposeA: bool, transposeB: bool, m: int, n: int, k: int,
                           a: float32[], aOffset: int, lda: int,
                           b: float32[], bOffset: int, ldb: int,
                           c: float32[], cOffset: int, ldc: int) : unit =
        if isNull a then nullArg "a"
        if isNull b then nullArg "b"
        if isNull c then nullArg "c"
        let aRow, aColumn, bRow, bColumn =
            Gemm.Check(m, n, k, a.Length, aOffset, lda, transposeA, b.Length, bOffset, ldb, transposeB, c.Length, cOffset, ldc)
        GemmDriver.multiply32 GemmSettings.Default m n k a aOffset aRow aColumn b bOffset bRow bColumn c cOffset ldc

    /// C = op(A)·op(B) in float64 (see the type's summary for the layout).
    static member Multiply(transposeA: bool, transposeB: bool, m: int, n: int, k: int,
                           a: float[], aOffset: int, lda: int,
                           b: float[], bOffset: int, ldb: int,
                           c: float[], cOffset: int, ldc: int) : unit =
        if isNull a then nullArg "a"
        if isNull b then nullArg "b"
        if isNull c then nullArg "c"
        let aRow, aColumn, bRow, bColumn =
            Gemm.Check(m, n, k, a.Length, aOffset, lda, transposeA, b.Length, bOffset, ldb, transposeB, c.Length, cOffset, ldc)
        GemmDriver.multiply64 GemmSettings.Default m n k a aOffset aRow aColumn b bOffset bRow bColumn c cOffset ldc
