/// GEMM: C = A·B for float32 and float64 over strided operands. This file owns the driver:
/// cache blocking, packing of A and B panels into aligned buffers, zero-padding of edges,
/// the tiny-size path and the split across cores. The register-blocked inner loops are in
/// GemmKernels.fs.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: operands are pinned and packed panels are raw aligned memory

open System
open System.Runtime.InteropServices
open System.Numerics.Tensors
open Microsoft.FSharp.NativeInterop

/// How a GEMM call runs. Production code uses `GemmSettings.Default`; tests shrink the blocks
/// and thresholds to reach every path on small matrices, and pick narrower kernels.
type internal GemmSettings =
    { /// Vector width in bits of the micro-kernel: 512, 256 or 128.
      Width: int
      /// Rows of A packed at once (kept in L2); rounded down to a multiple of the kernel's rows.
      RowBlock: int
      /// Depth of one packed slice; deeper slices spread each tile's update of C over more FMAs.
      DepthBlock: int
      /// Columns of B packed at once; rounded down to a multiple of the kernel's columns.
      ColumnBlock: int
      /// Below this many multiply-adds (m·n·k) the packing would cost more than it saves.
      TinyWork: int
      /// From this many multiply-adds on, the work is split across cores.
      ParallelWork: int
      /// How many parts to split large products into.
      Threads: int
      /// At most this many elements of C (m·n) take the inner-product path when both operands run
      /// along the depth (GemmInnerProduct); 0 turns that path off.
      InnerProductOutputs: int
      /// A C whose rows span at most this many bytes, with A contiguous along the depth, takes the
      /// inner-product path whatever its rows (B transposed into scratch first when it is not
      /// contiguous along the depth); 0 turns that off.
      NarrowRowBytes: int
      /// Whether a C much narrower than the kernel's tile is computed as its transpose (see
      /// `transposedFitsBetter`); tests turn it off to compare the two.
      TransposeNarrow: bool
      /// A row-major B is read in place, not packed, when A has at most this many row tiles of
      /// the kernel (see `serialBlocked`); 0 always packs.
      InPlaceTiles: int }

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
          // 128³ multiply-adds: tens of microseconds on one core, well above the cost of the two
          // hand-overs to the worker team per block of B.
          ParallelWork = 1 <<< 21
          Threads = Environment.ProcessorCount
          // About where packing starts to pay: measured single-threaded over A·Bᵀ shapes from
          // 16 × 16 to 96 × 96 and depths 64 to 2,048, this path won clearly below about 48 × 64
          // outputs and the two were even (within the host's noise) from there to 96 × 96.
          InnerProductOutputs = 48 * 64
          // 24 float32 or 12 float64 columns. A classifier's 10 columns against the packed
          // kernel's 32 float32 lanes: packing A costs a pass over it that only n uses of each
          // element repay, and most lanes are padding. Measured single-threaded over 256 × 512 × n:
          // the inner-product path won clearly up to 24 float32 and 10 float64 columns, was even
          // at 16 float64 columns and lost at 32 float32 ones. Re-measure with a probe of those
          // shapes against NarrowRowBytes = 0.
          NarrowRowBytes = 96
          TransposeNarrow = true
          // Re-measure with `bench --conv --thread-time` (16 output channels: three row tiles).
          InPlaceTiles = 4 }

/// The strided driver behind `Gemm.Multiply` and `LinearAlgebra.matmul`.
module internal GemmDriver =
    open GemmPacking

    let private roundUp (value: int) (multiple: int) = (value + multiple - 1) / multiple * multiple

    /// The block for a dimension of `size`: as many blocks as blocks of `target` would need, made
    /// equal (each rounded up to `multiple`, so never above a target that is a multiple of it).
    /// Fixed blocks leave a ragged last one: a depth of 784 against 512 is 512 + 272, and the
    /// thin slice pays the read-modify-write of C for half the FMAs; 392 + 392 spreads it.
    let internal balanced (size: int) (target: int) (multiple: int) =
        let blocks = max 1 ((size + target - 1) / target)
        roundUp ((size + blocks - 1) / blocks) multiple

    /// Block sizes for a product: rows of A per packed block, depth per slice, columns of B per
    /// packed block, each a whole number of micro-tiles and no larger than the problem needs.
    /// (A struct tuple: a reference tuple would be an allocation per product.)
    let private blockSizes (height: int) (width: int) (settings: GemmSettings) (m: int) (n: int) (k: int) =
        let rowBlock = balanced m (max height (settings.RowBlock / height * height)) height
        let depthBlock = balanced k (max 1 settings.DepthBlock) 1
        let columnBlock = balanced n (max width (settings.ColumnBlock / width * width)) width
        struct (rowBlock, depthBlock, columnBlock)

    /// C[rows, jc .. jc+nc) += A[rows, pc .. pc+kc) · (the B block), for `rows` rows of
    /// A and C from `firstRow`, in blocks of `rowBlock` rows packed into `packedA`. The first
    /// `inPlacePanels` micro-panels of the block are read from B itself at `inPlace` (row-major,
    /// rows `bRow` apart); the others from their packed place in `packedB`. `tile` (two tiles:
    /// scratch, then zeros; see `edgeTile`) takes the edge tiles, which the micro-kernel computes
    /// whole and `addTile` cuts to size. With `addend` not null (rows `lds` apart, indexed as C),
    /// C = addend + the product instead.
    let inline private multiplyRows
        (kernel: MicroKernel< ^T>) (packedA: nativeptr< ^T>) (tile: nativeptr< ^T>) (packedB: nativeptr< ^T>)
        (inPlace: nativeptr< ^T>) (inPlacePanels: int) (bRow: int)
        (rowBlock: int) (firstRow: int) (rows: int) (jc: int) (nc: int) (pc: int) (kc: int)
        (a: nativeptr< ^T>) (aRow: int) (aColumn: int) (c: nativeptr< ^T>) (ldc: int) (addend: nativeptr< ^T>) (lds: int) =
        let hasAddend = not (NativePtr.isNullPtr addend)
        let height, width = kernel.Rows, kernel.Columns
        let mutable ic = firstRow
        while ic < firstRow + rows do
            let mc = min rowBlock (firstRow + rows - ic)
            packA (NativePtr.add a (ic * aRow + pc * aColumn)) aRow aColumn mc kc height packedA
            let mutable jr = 0
            while jr < nc do
                let columns = min width (nc - jr)
                let bPanel, ldb =
                    if jr < inPlacePanels * width then NativePtr.add inPlace jr, bRow
                    else NativePtr.add packedB (jr * kc), width
                let mutable ir = 0
                while ir < mc do
                    let tileRows = min height (mc - ir)
                    let aPanel = NativePtr.add packedA (ir * kc)
                    let target = NativePtr.add c ((ic + ir) * ldc + jc + jr)
                    let source, sourceStride =
                        if hasAddend then NativePtr.add addend ((ic + ir) * lds + jc + jr), lds else target, ldc
                    if tileRows = height && columns = width then
                        kernel.Run(kc, aPanel, bPanel, ldb, source, sourceStride, target, ldc)
                    else
                        // the kernel adds the product to zeros kept after the tile, so the tile
                        // needs no clearing per edge (0 + x is x, as in a cleared tile)
                        kernel.Run(kc, aPanel, bPanel, ldb, NativePtr.add tile (height * width), width, tile, width)
                        addTile tile width tileRows columns source sourceStride target ldc
                    ir <- ir + height
                jr <- jr + width
            ic <- ic + mc

    /// Room for an edge tile of height × width followed by a tile of zeros, the source the kernel
    /// adds each edge tile's product to. Give it back with `release`.
    let inline private edgeTile< ^T when ^T: unmanaged> (height: int) (width: int) : nativeptr< ^T> =
        let tile = allocate< ^T> (2 * height * width)
        NativeMemory.Clear(NativePtr.toVoidPtr (NativePtr.add tile (height * width)), unativeint (height * width * sizeof< ^T>))
        tile

    /// A row of zeros at least n elements long, read as the addend of the first depth slice (row
    /// stride 0) when there is none: the kernels then write C outright, which saves the pass that
    /// would zero C first (a whole write of C, a fifth of a product as thin as k = 10). 0 + x is
    /// x, so the bits are those of adding into zeroed C. Give it back with `release`.
    let inline private zeroRow< ^T when ^T: unmanaged> (n: int) (width: int) : nativeptr< ^T> =
        let row = allocate< ^T> (roundUp n width)
        NativeMemory.Clear(NativePtr.toVoidPtr row, unativeint (roundUp n width * sizeof< ^T>))
        row

    /// Where the panels of the block of B at columns jc (of nc) and depth pc sit in a B packed
    /// whole (`packWhole`): every column block before it is k deep and a whole number of panels.
    let private wholeOffset (k: int) (width: int) (jc: int) (nc: int) (pc: int) = jc * k + pc * roundUp nc width

    /// The elements of a B of k × n packed whole for micro-panels of `width` columns.
    let private wholeSize (k: int) (n: int) (width: int) = k * roundUp n width

    /// Packs all of B (k × n) into `target`, block by block in the order the driver visits them,
    /// each block laid out as `packB` lays it out for one product.
    let inline private packWhole (width: int) (depthBlock: int) (columnBlock: int) (k: int) (n: int)
                                 (b: nativeptr< ^T>) (bRow: int) (bColumn: int) (target: nativeptr< ^T>) =
        let mutable jc = 0
        while jc < n do
            let nc = min columnBlock (n - jc)
            let mutable pc = 0
            while pc < k do
                let kc = min depthBlock (k - pc)
                packB (NativePtr.add b (pc * bRow + jc * bColumn)) bRow bColumn kc nc width
                      (NativePtr.add target (wholeOffset k width jc nc pc))
                pc <- pc + kc
            jc <- jc + nc

    /// C (m × n, row stride ldc, unit column stride) = A·B on the calling thread. Loop order
    /// after Goto and van de Geijn: columns of B by ColumnBlock, depth by DepthBlock (pack B),
    /// rows of A by RowBlock (pack A), then micro-tiles. With `whole` not null, B is already
    /// packed whole there (`packWhole`, same blocks) and is not packed again; the products are
    /// the same, in the same order, so the result has the same bits. With `addend` not null
    /// (rows `lds` apart), C = addend + A·B: the first depth slice adds the addend in place of
    /// C's zeros (one depth slice: the bits of the product, then the sum).
    let inline private serialBlocked
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (m: int) (n: int) (k: int)
        (a: nativeptr< ^T>) (aRow: int) (aColumn: int) (b: nativeptr< ^T>) (bRow: int) (bColumn: int) (c: nativeptr< ^T>) (ldc: int)
        (whole: nativeptr< ^T>) (addend: nativeptr< ^T>) (lds: int) =
        let height, width = kernel.Rows, kernel.Columns
        let prepacked = not (NativePtr.isNullPtr whole)
        // A row-major B multiplied by few rows of A is read where it lies: each packed element
        // would serve at most InPlaceTiles row tiles, so the copy costs about as much as the
        // arithmetic it feeds (a convolution's 16 channels against its im2col columns).
        let readsInPlace = not prepacked && bColumn = 1 && m <= settings.InPlaceTiles * height
        let struct (rowBlock, depthBlock, columnBlock) = blockSizes height width settings m n k
        let packedA = allocate< ^T> (rowBlock * depthBlock)
        let packedB = if prepacked then whole else allocate< ^T> (depthBlock * columnBlock)
        let tile = edgeTile< ^T> height width
        let zeros = if NativePtr.isNullPtr addend then zeroRow< ^T> n width else NativePtr.nullPtr
        let addend, lds = if NativePtr.isNullPtr addend then zeros, 0 else addend, lds
        try
            let mutable jc = 0
            while jc < n do
                let nc = min columnBlock (n - jc)
                let mutable pc = 0
                while pc < k do
                    let kc = min depthBlock (k - pc)
                    let origin = NativePtr.add b (pc * bRow + jc * bColumn)
                    // whole panels read in place; a narrower last panel is packed (zero-padded)
                    let inPlacePanels = if readsInPlace then nc / width else 0
                    let block =
                        if prepacked then NativePtr.add whole (wholeOffset k width jc nc pc)
                        else
                            let first = inPlacePanels * width
                            if first < nc then
                                packB (NativePtr.add origin (first * bColumn)) bRow bColumn kc (nc - first) width (NativePtr.add packedB (first * kc))
                            packedB
                    multiplyRows kernel packedA tile block origin inPlacePanels bRow rowBlock 0 m jc nc pc kc a aRow aColumn c ldc
                                 (if pc = 0 then addend else NativePtr.nullPtr) lds
                    pc <- pc + kc
                jc <- jc + nc
        finally
            release packedA
            if not prepacked then release packedB
            release tile
            if not (NativePtr.isNullPtr zeros) then release zeros

    /// The most parts for which a product may split its columns (see parallelBlocked), and the
    /// fewest columns each part must get then.
    let private columnSplitParts = 4
    let private columnSplitWidth = 128

    /// What the parts of one parallel product read: the operands (as addresses, which a struct
    /// can hold where a closure cannot hold native pointers), the current block of B and how the
    /// work is split. It travels by value to functions that capture nothing
    /// (`Workers.runWith`), so handing a product to the worker team allocates nothing.
    [<Struct>]
    type private ProductParts =
        { M: int; N: int; K: int
          A: nativeint; ARow: int; AColumn: int
          B: nativeint; BRow: int; BColumn: int
          C: nativeint; Ldc: int
          /// The addend of C (0n: none) and its row stride.
          Addend: nativeint; Lds: int
          /// The packed block of B that all parts share.
          Shared: nativeint
          /// The block of B: columns [Jc, Jc + Nc), depth [Pc, Pc + Kc).
          Jc: int; Nc: int; Pc: int; Kc: int
          /// Micro-panels of the block, and how many each part packs.
          Panels: int; PanelsPerPart: int
          /// Micro-tiles of rows, the row chunks they are split into, and rows per chunk's buffer.
          Tiles: int; Chunks: int; ChunkRows: int
          /// Columns per part when the columns are split instead.
          ColumnChunk: int }

    /// The blocked product split into parts that `Workers.run` spreads over the cores. With
    /// enough rows, every block of B is packed once into a buffer all parts share (the panels
    /// split across parts), then the rows of A and C are split into chunks, a few per core so
    /// that a worker that starts late still finds work; a join separates the two phases, so no
    /// part ever waits for a particular thread. With few rows, or with a few parts that each get
    /// enough columns, the columns are split instead and each part runs the serial product on its
    /// own columns.
    let inline private parallelBlocked
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (parts: int) (m: int) (n: int) (k: int)
        (a: nativeint) (aRow: int) (aColumn: int) (b: nativeint) (bRow: int) (bColumn: int) (c: nativeint) (ldc: int)
        (whole: nativeint) (addend: nativeint) (lds: int) =
        let height, width = kernel.Rows, kernel.Columns
        let pointer (address: nativeint) = NativePtr.ofNativeInt< ^T> address
        let mutable work =
            { M = m; N = n; K = k; A = a; ARow = aRow; AColumn = aColumn; B = b; BRow = bRow; BColumn = bColumn
              C = c; Ldc = ldc; Addend = addend; Lds = lds; Shared = 0n; Jc = 0; Nc = 0; Pc = 0; Kc = 0; Panels = 0; PanelsPerPart = 0
              Tiles = 0; Chunks = 0; ChunkRows = 0; ColumnChunk = 0 }
        // With a few parts and enough columns for each, the columns are split even when the rows
        // would do: each part packs its own columns of B (and its own copy of A's blocks), so no
        // core reads what another wrote. Splitting the rows shares one packed block of B, which
        // every part reads in full and half of which the other core packed; on a two-vCPU host that
        // packing cost several times its one-core share and the split by columns ran an MLP step
        // about a fifth faster (square products as fast or faster). The copies of A do not shrink
        // as parts are added, so with many parts the rows are split. The k-blocking is the same
        // either way, so the result has the same bits.
        let splitColumns = whole = 0n && parts <= columnSplitParts && n >= parts * columnSplitWidth
        if parts <= 1 then
            serialBlocked kernel settings m n k (pointer a) aRow aColumn (pointer b) bRow bColumn (pointer c) ldc (pointer whole) (pointer addend) lds
        elif m >= 2 * parts * height && not splitColumns then
            let struct (rowBlock, depthBlock, columnBlock) = blockSizes height width settings m n k
            // Row chunks: at least two per part and about RowBlock rows each, made of whole
            // micro-tiles and differing by at most one tile, so the parts finish together.
            let tiles = (m + height - 1) / height
            let chunks = min tiles (max (2 * parts) ((m + rowBlock - 1) / rowBlock))
            work <- { work with Tiles = tiles; Chunks = chunks; ChunkRows = (tiles + chunks - 1) / chunks * height }
            let shared = if whole <> 0n then 0n else NativePtr.toNativeInt (allocate< ^T> (depthBlock * columnBlock))
            // without an addend the first slice adds a row of zeros (see zeroRow), not zeroed C
            let zeros = if addend = 0n then NativePtr.toNativeInt (zeroRow< ^T> n width) else 0n
            if addend = 0n then work <- { work with Addend = zeros; Lds = 0 }
            try
                let mutable jc = 0
                while jc < n do
                    let nc = min columnBlock (n - jc)
                    let panels = (nc + width - 1) / width
                    let mutable pc = 0
                    while pc < k do
                        let kc = min depthBlock (k - pc)
                        // a B packed whole already has this block: the parts share it as it is
                        let block = if whole <> 0n then whole + nativeint (wholeOffset k width jc nc pc * sizeof< ^T>) else shared
                        work <- { work with Shared = block; Jc = jc; Nc = nc; Pc = pc; Kc = kc; Panels = panels; PanelsPerPart = (panels + parts - 1) / parts }
                        if whole = 0n then
                            Workers.runWith parts (struct (kernel, work)) (fun (struct (kernel: MicroKernel< ^T>, w)) part ->
                                let width = kernel.Columns
                                let firstPanel = min w.Panels (part * w.PanelsPerPart)
                                let myPanels = min w.PanelsPerPart (w.Panels - firstPanel)
                                if myPanels > 0 then
                                    let firstColumn = firstPanel * width
                                    packB (NativePtr.add (NativePtr.ofNativeInt< ^T> w.B) (w.Pc * w.BRow + (w.Jc + firstColumn) * w.BColumn)) w.BRow w.BColumn w.Kc
                                          (min w.Nc ((firstPanel + myPanels) * width) - firstColumn) width
                                          (NativePtr.add (NativePtr.ofNativeInt< ^T> w.Shared) (firstColumn * w.Kc)))
                        Workers.runWith chunks (struct (kernel, work)) (fun (struct (kernel: MicroKernel< ^T>, w)) chunk ->
                            let height = kernel.Rows
                            let firstRow = chunk * w.Tiles / w.Chunks * height
                            let rows = min w.M ((chunk + 1) * w.Tiles / w.Chunks * height) - firstRow
                            let packedA = allocate< ^T> (w.ChunkRows * w.Kc)
                            let tile = edgeTile< ^T> height kernel.Columns
                            try
                                let c = NativePtr.ofNativeInt< ^T> w.C
                                // the first slice adds the addend (or the row of zeros) into each chunk's rows
                                let addend = if w.Pc = 0 then NativePtr.ofNativeInt< ^T> w.Addend else NativePtr.nullPtr
                                multiplyRows kernel packedA tile (NativePtr.ofNativeInt< ^T> w.Shared) NativePtr.nullPtr 0 0 w.ChunkRows firstRow rows w.Jc w.Nc w.Pc w.Kc
                                             (NativePtr.ofNativeInt< ^T> w.A) w.ARow w.AColumn c w.Ldc addend w.Lds
                            finally
                                release packedA
                                release tile)
                        pc <- pc + kc
                    jc <- jc + nc
            finally
                if shared <> 0n then release (pointer shared)
                if zeros <> 0n then release (pointer zeros)
        else
            // each part blocks its own columns, which a B packed whole does not match: it packs its own
            work <- { work with ColumnChunk = roundUp ((n + parts - 1) / parts) width }
            Workers.runWith parts (struct (kernel, settings, work)) (fun (struct (kernel: MicroKernel< ^T>, settings, w)) part ->
                let first = part * w.ColumnChunk
                let size = min w.ColumnChunk (w.N - first)
                if size > 0 then
                    let elementBytes = nativeint sizeof< ^T>
                    serialBlocked kernel settings w.M size w.K (NativePtr.ofNativeInt< ^T> w.A) w.ARow w.AColumn
                                  (NativePtr.ofNativeInt< ^T> (w.B + nativeint (first * w.BColumn) * elementBytes)) w.BRow w.BColumn
                                  (NativePtr.ofNativeInt< ^T> (w.C + nativeint first * elementBytes)) w.Ldc NativePtr.nullPtr
                                  (if w.Addend = 0n then NativePtr.nullPtr else NativePtr.ofNativeInt< ^T> (w.Addend + nativeint first * elementBytes)) w.Lds)

    // Concrete entry points; pointers travel as nativeint so that these can be passed as
    // ordinary function values (F# function types cannot hold native pointers).
    let private blocked32 (kernel: MicroKernel<float32>) settings parts m n k (a: nativeint) aRow aColumn (b: nativeint) bRow bColumn (c: nativeint) ldc
                          (whole: nativeint) (addend: nativeint) lds =
        parallelBlocked kernel settings parts m n k a aRow aColumn b bRow bColumn c ldc whole addend lds

    let private blocked64 (kernel: MicroKernel<float>) settings parts m n k (a: nativeint) aRow aColumn (b: nativeint) bRow bColumn (c: nativeint) ldc
                          (whole: nativeint) (addend: nativeint) lds =
        parallelBlocked kernel settings parts m n k a aRow aColumn b bRow bColumn c ldc whole addend lds

    let private packWhole32 (width: int) depthBlock columnBlock k n (b: nativeint) bRow bColumn (target: nativeint) =
        packWhole width depthBlock columnBlock k n (NativePtr.ofNativeInt<float32> b) bRow bColumn (NativePtr.ofNativeInt<float32> target)

    let private packWhole64 (width: int) depthBlock columnBlock k n (b: nativeint) bRow bColumn (target: nativeint) =
        packWhole width depthBlock columnBlock k n (NativePtr.ofNativeInt<float> b) bRow bColumn (NativePtr.ofNativeInt<float> target)

    let inline private span (p: nativeptr<'T>) (length: int) = Span<'T>(NativePtr.toVoidPtr p, length)
    let inline private readOnly (p: nativeptr<'T>) (length: int) = ReadOnlySpan<'T>(NativePtr.toVoidPtr p, length)

    /// The product without packing, for work too small to repay it and for matrix-vector
    /// products, where each element of the matrix is used once and packing cannot pay. The four
    /// matrix-vector layouts with contiguous runs go to the vectorised dot and multiply-add of
    /// SpanKernels (TensorPrimitives' generic Dot and MultiplyAdd ran as unoptimised tier-0 code
    /// for many calls under the default tiered compilation, many times slower than optimised);
    /// anything else is an i-p-j loop whose innermost loop walks a row of B and C.
    let inline private direct (m: int) (n: int) (k: int)
                              (a: nativeptr< ^T>) (aRow: int) (aColumn: int)
                              (b: nativeptr< ^T>) (bRow: int) (bColumn: int)
                              (c: nativeptr< ^T>) (ldc: int) =
        if n = 1 && aColumn = 1 && bRow = 1 then
            // matrix · vector: one dot product per row of A
            for i in 0 .. m - 1 do
                NativePtr.set c (i * ldc) (SpanKernels.dot (readOnly (NativePtr.add a (i * aRow)) k) (readOnly b k))
        elif n = 1 && aRow = 1 && ldc = 1 then
            // transposed matrix · vector: C accumulates columns of A scaled by B
            let target = span c m
            for p in 0 .. k - 1 do
                SpanKernels.multiplyAddInto (readOnly (NativePtr.add a (p * aColumn)) m) (NativePtr.get b (p * bRow)) target
        elif m = 1 && bColumn = 1 then
            // vector · matrix: C accumulates rows of B scaled by A
            let target = span c n
            for p in 0 .. k - 1 do
                SpanKernels.multiplyAddInto (readOnly (NativePtr.add b (p * bRow)) n) (NativePtr.get a (p * aColumn)) target
        elif m = 1 && bRow = 1 && aColumn = 1 then
            // vector · transposed matrix: one dot product per column of B
            for j in 0 .. n - 1 do
                NativePtr.set c j (SpanKernels.dot (readOnly a k) (readOnly (NativePtr.add b (j * bColumn)) k))
        else
            for i in 0 .. m - 1 do
                let cRow = NativePtr.add c (i * ldc)
                for p in 0 .. k - 1 do
                    let aValue = NativePtr.get a (i * aRow + p * aColumn)
                    let bRowStart = NativePtr.add b (p * bRow)
                    for j in 0 .. n - 1 do
                        NativePtr.set cRow j (NativePtr.get cRow j + aValue * NativePtr.get bRowStart (j * bColumn))

    /// True when C = A·B takes the inner-product path (GemmInnerProduct): a small C with both
    /// operands contiguous along the depth, or a C with rows of at most NarrowRowBytes (elements
    /// of `elementBytes`) and A so. With few columns each element of A is used only n times, which
    /// cannot repay packing it, and the packed kernel's tile would be mostly padding; a dot product
    /// per element reads A in place. (Bᵀ, which that path may copy whole, must fit one scratch block.)
    let takesInnerProduct (settings: GemmSettings) (elementBytes: int) (m: int) (n: int) (k: int) (aColumn: int) (bRow: int) =
        GemmInnerProduct.suits settings.InnerProductOutputs m n k aColumn bRow
        || (int64 n * int64 elementBytes <= int64 settings.NarrowRowBytes
            && int64 n * int64 k * int64 elementBytes <= int64 (Int32.MaxValue - 64)
            && GemmInnerProduct.suits Int32.MaxValue m n k aColumn 1)

    /// The share of a tile grid's elements that a size fills: size over size rounded up to the
    /// block.
    let private filled (size: int) (block: int) = float size / float (roundUp size block)

    /// True when Cᵀ (n × m) fills the kernel's tiles clearly better than C (m × n): the kernel
    /// computes whole Rows × Columns tiles, so a C of 10 columns against 32 wastes over two
    /// thirds of its multiply-adds, where its transpose wastes a sixth. Each element is the same
    /// sum in the same order either way (an FMA's product is commutative), so the bits agree.
    let private transposedFitsBetter (kernel: MicroKernel<'T>) (m: int) (n: int) =
        let direct = filled m kernel.Rows * filled n kernel.Columns
        let transposed = filled n kernel.Rows * filled m kernel.Columns
        transposed > 1.25 * direct

    /// C[cOffset + i*ldc + j] = Σp A(i,p)·B(p,j), where A(i,p) = a[aOffset + i*aRow + p*aColumn]
    /// and B(p,j) = b[bOffset + p*bRow + j*bColumn]. Any strides (negative, zero) are allowed;
    /// the caller has checked that every index lies inside its array. C is overwritten. With
    /// `packed` not null, a product that packs B takes B's panels from it, packing them there
    /// first unless it holds this very operand already (same bits either way). With `addend`
    /// not null (m × n, rows `lds` apart from `addendOffset`, not overlapping C), C = addend +
    /// A·B with the bits of the product followed by the sum: a blocked product of one depth
    /// slice adds the addend in its kernels, any other adds it after.
    let inline private run
        ([<InlineIfLambda>] serial: MicroKernel< ^T> -> GemmSettings -> int -> int -> int -> int -> nativeint -> int -> int -> nativeint -> int -> int -> nativeint -> int -> nativeint -> nativeint -> int -> unit)
        ([<InlineIfLambda>] pack: int -> int -> int -> int -> int -> nativeint -> int -> int -> nativeint -> unit)
        ([<InlineIfLambda>] inner: int -> int -> int -> int -> nativeint -> int -> nativeint -> int -> nativeint -> int -> unit)
        ([<InlineIfLambda>] kernelOf: int -> MicroKernel< ^T>) (settings: GemmSettings) (m: int) (n: int) (k: int)
        (a: ^T[]) (aOffset: int) (aRow: int) (aColumn: int)
        (b: ^T[]) (bOffset: int) (bRow: int) (bColumn: int)
        (packed: PackedOperand) (addend: ^T[]) (addendOffset: int) (lds: int)
        (c: ^T[]) (cOffset: int) (ldc: int) =
        let work = int64 m * int64 n * int64 k
        // A single row or column gets nothing from packing: each element of the other
        // operand is used once.
        let isDirect = work < int64 settings.TinyWork || m = 1 || n = 1
        // A·Bᵀ with both operands contiguous along the depth and a small C: one dot product per
        // element (GemmInnerProduct), which writes C and never packs, so an addend comes after.
        // So does a C of narrow rows with A contiguous along the depth, whatever its rows
        // (`takesInnerProduct`), after B is transposed into scratch if need be.
        let isInner = not isDirect && takesInnerProduct settings sizeof< ^T> m n k aColumn bRow
        // A C much narrower than the kernel's tile (a classifier's 10 columns against 32 float32
        // lanes) is computed as Cᵀ = Bᵀ·Aᵀ into scratch and transposed into place (a B packed for
        // a loop is kept as it is).
        // Only for an A stored transposed (its columns contiguous): Aᵀ is then packed by whole
        // rows as the B of Cᵀ, where a row-major A would be gathered across rows.
        let widest = kernelOf settings.Width
        let isTransposed =
            settings.TransposeNarrow && not isDirect && not isInner && isNull packed && aRow = 1 && transposedFitsBetter widest m n
        // Otherwise a C narrower than the widest kernel's tile takes the kernel of half its width
        // when that fills twice the share of its multiply-adds (10 float32 columns: 10 of 16
        // lanes, not 10 of 32); the two halves of a 512-bit FMA cost what two 256-bit ones do
        // on the machines this was measured on. Lanes are independent, so the bits are the same.
        let kernel =
            if isTransposed || settings.Width < 512 then widest
            else
                let half = kernelOf (settings.Width / 2)
                if filled n half.Columns >= 1.5 * filled n widest.Columns then half else widest
        let addendInKernels = not (isNull addend) && not isDirect && not isInner && not isTransposed && k > 0 && k <= max 1 settings.DepthBlock
        // The blocked path zeroes C itself, in parallel; the direct one accumulates into it.
        if m > 0 && n > 0 && (k = 0 || isDirect) then
            for i in 0 .. m - 1 do
                Array.Fill(c, Unchecked.defaultof< ^T>, cOffset + i * ldc, n)
        if m > 0 && n > 0 && k > 0 then
            use aBase = fixed a
            use bBase = fixed b
            use cBase = fixed c
            let aStart = NativePtr.add aBase aOffset
            let bStart = NativePtr.add bBase bOffset
            let cStart = NativePtr.add cBase cOffset
            let parts = if work < int64 settings.ParallelWork then 1 else max 1 settings.Threads
            if isDirect then
                direct m n k aStart aRow aColumn bStart bRow bColumn cStart ldc
            elif isInner && bRow = 1 then
                inner parts m n k (NativePtr.toNativeInt aStart) aRow (NativePtr.toNativeInt bStart) bColumn (NativePtr.toNativeInt cStart) ldc
            elif isInner then
                // Bᵀ (n × k, rows contiguous): a pass over B's n·k elements, against the pass over
                // A's m·k that packing A would take. Into the kept operand when there is one (a
                // loop's weights: once per run, marked by a panel width of 0, which no packing
                // has), else into scratch; the same values either way, so the same bits.
                let inline transposeInto (columns: nativeptr< ^T>) =
                    for p in 0 .. k - 1 do
                        let row = NativePtr.add bStart (p * bRow)
                        for j in 0 .. n - 1 do
                            NativePtr.set columns (j * k + p) (NativePtr.get row (j * bColumn))
                if isNull packed then
                    let columns = allocate< ^T> (n * k)
                    try
                        transposeInto columns
                        inner parts m n k (NativePtr.toNativeInt aStart) aRow (NativePtr.toNativeInt columns) k (NativePtr.toNativeInt cStart) ldc
                    finally
                        release columns
                else
                    if not (packed.Holds(b, bOffset, bRow, bColumn, k, n, 0, k, n)) then
                        transposeInto (NativePtr.ofNativeInt< ^T> (packed.Reserve(n * k * sizeof< ^T>)))
                        packed.Filled(b, bOffset, bRow, bColumn, k, n, 0, k, n)
                    inner parts m n k (NativePtr.toNativeInt aStart) aRow packed.Address k (NativePtr.toNativeInt cStart) ldc
            elif isTransposed then
                // Bᵀ is n × k with (row, column) strides (bColumn, bRow); Aᵀ is k × m with (aColumn, aRow)
                let scratch = allocate< ^T> (m * n)
                try
                    serial kernel settings parts n m k (NativePtr.toNativeInt bStart) bColumn bRow
                           (NativePtr.toNativeInt aStart) aColumn aRow (NativePtr.toNativeInt scratch) m 0n 0n 0
                    for j in 0 .. n - 1 do
                        let column = NativePtr.add scratch (j * m)
                        for i in 0 .. m - 1 do
                            NativePtr.set cStart (i * ldc + j) (NativePtr.get column i)
                finally
                    release scratch
            else
                let width = kernel.Columns
                let bytes = int64 (wholeSize k n width) * int64 sizeof< ^T>
                let whole =
                    if isNull packed || bytes > int64 (Int32.MaxValue - 64) then 0n
                    else
                        let struct (_, depthBlock, columnBlock) = blockSizes kernel.Rows width settings m n k
                        if not (packed.Holds(b, bOffset, bRow, bColumn, k, n, width, depthBlock, columnBlock)) then
                            pack width depthBlock columnBlock k n (NativePtr.toNativeInt bStart) bRow bColumn (packed.Reserve(int bytes))
                            packed.Filled(b, bOffset, bRow, bColumn, k, n, width, depthBlock, columnBlock)
                        packed.Address
                if addendInKernels then
                    use addendBase = fixed addend
                    serial kernel settings parts m n k (NativePtr.toNativeInt aStart) aRow aColumn
                           (NativePtr.toNativeInt bStart) bRow bColumn (NativePtr.toNativeInt cStart) ldc whole
                           (NativePtr.toNativeInt (NativePtr.add addendBase addendOffset)) lds
                else
                    serial kernel settings parts m n k (NativePtr.toNativeInt aStart) aRow aColumn
                           (NativePtr.toNativeInt bStart) bRow bColumn (NativePtr.toNativeInt cStart) ldc whole 0n 0
        if m > 0 && n > 0 && not (isNull addend) && not addendInKernels then
            for i in 0 .. m - 1 do
                let row = Span< ^T>(c, cOffset + i * ldc, n)
                SpanKernels.add (ReadOnlySpan< ^T>(addend, addendOffset + i * lds, n)) (Span< ^T>.op_Implicit row) row

    /// The float32 product; see `run` for the layout.
    let multiply32 (settings: GemmSettings) m n k (a: float32[]) aOffset aRow aColumn (b: float32[]) bOffset bRow bColumn (c: float32[]) cOffset ldc =
        run blocked32 packWhole32 GemmInnerProduct.multiply32 GemmKernels.float32Kernel settings m n k a aOffset aRow aColumn b bOffset bRow bColumn null null 0 0 c cOffset ldc

    /// The float64 product; see `run` for the layout.
    let multiply64 (settings: GemmSettings) m n k (a: float[]) aOffset aRow aColumn (b: float[]) bOffset bRow bColumn (c: float[]) cOffset ldc =
        run blocked64 packWhole64 GemmInnerProduct.multiply64 GemmKernels.float64Kernel settings m n k a aOffset aRow aColumn b bOffset bRow bColumn null null 0 0 c cOffset ldc

    /// The float32 product with B's panels kept in (or taken from) `packed`, plus `addend` when
    /// not null; see `run`.
    let multiplyPacked32 (settings: GemmSettings) m n k (a: float32[]) aOffset aRow aColumn (b: float32[]) bOffset bRow bColumn
                         (packed: PackedOperand) (addend: float32[]) addendOffset lds (c: float32[]) cOffset ldc =
        run blocked32 packWhole32 GemmInnerProduct.multiply32 GemmKernels.float32Kernel settings m n k a aOffset aRow aColumn b bOffset bRow bColumn
            packed addend addendOffset lds c cOffset ldc

    /// The float64 product with B's panels kept in (or taken from) `packed`, plus `addend` when
    /// not null; see `run`.
    let multiplyPacked64 (settings: GemmSettings) m n k (a: float[]) aOffset aRow aColumn (b: float[]) bOffset bRow bColumn
                         (packed: PackedOperand) (addend: float[]) addendOffset lds (c: float[]) cOffset ldc =
        run blocked64 packWhole64 GemmInnerProduct.multiply64 GemmKernels.float64Kernel settings m n k a aOffset aRow aColumn b bOffset bRow bColumn
            packed addend addendOffset lds c cOffset ldc

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
