/// GEMM: C = A·B for float32 and float64 over strided operands. This file owns the driver:
/// cache blocking, packing of A and B panels into aligned buffers, zero-padding of edges,
/// the tiny-size path and the split across cores. The register-blocked inner loops are in
/// GemmKernels.fs.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: operands are pinned and packed panels are raw aligned memory

open System
open System.Diagnostics
open System.Runtime.InteropServices
open System.Numerics.Tensors
open System.Threading
open System.Threading.Tasks
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
      /// The least time, in seconds, to wait for helper threads to start before doing their
      /// share alone. Tests raise it so the shared path always runs.
      HelperWait: float }

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
          // 128³ multiply-adds: tens of microseconds on one core, well above the cost of waking a
          // second worker and meeting at a barrier.
          ParallelWork = 1 <<< 21
          Threads = Environment.ProcessorCount
          HelperWait = 20e-6 }

/// The strided driver behind `Gemm.Multiply` and `LinearAlgebra.matmul`.
module internal GemmDriver =
    open GemmPacking

    let private roundUp (value: int) (multiple: int) = (value + multiple - 1) / multiple * multiple

    /// Block sizes for a product: rows of A per packed block, depth per slice, columns of B per
    /// packed block, each a whole number of micro-tiles and no larger than the problem needs.
    let private blockSizes (height: int) (width: int) (settings: GemmSettings) (m: int) (n: int) (k: int) =
        let rowBlock = min (max height (settings.RowBlock / height * height)) (roundUp m height)
        let depthBlock = min (max 1 settings.DepthBlock) k
        let columnBlock = min (max width (settings.ColumnBlock / width * width)) (roundUp n width)
        rowBlock, depthBlock, columnBlock

    /// One worker's share of C (m × n, row stride ldc, unit column stride) = A·B; the worker
    /// zeroes its own rows of C first, so that the clearing is split across cores too.
    /// Loop order after Goto and van de Geijn: columns of B by ColumnBlock, depth by DepthBlock
    /// (pack B), rows of A by RowBlock (pack A), then micro-tiles. The `parts` workers share
    /// `packedB`: each packs its share of the B micro-panels, all meet at the barrier, then each
    /// multiplies its own contiguous range of rows of C. With several parts `packedB` holds two
    /// buffers used in turn, so one meeting per block suffices: a worker packs block i + 2 into
    /// the buffer of block i only after the meeting of block i + 1, which every worker reaches
    /// after finishing block i. With one part there is no barrier and no sharing.
    let inline private blocked
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (part: int) (parts: int) (barrier: Barrier) (cancel: CancellationToken) (packedB: nativeptr< ^T>)
        (m: int) (n: int) (k: int)
        (a: nativeptr< ^T>) (aRow: int) (aColumn: int)
        (b: nativeptr< ^T>) (bRow: int) (bColumn: int)
        (c: nativeptr< ^T>) (ldc: int) =
        let height, width = kernel.Rows, kernel.Columns
        let _, depthBlock, columnBlock = blockSizes height width settings m n k
        let rowChunk = roundUp ((m + parts - 1) / parts) height
        let firstRow = min m (part * rowChunk)
        let myRows = min rowChunk (m - firstRow)
        let rowBlock, _, _ = blockSizes height width settings (max 1 myRows) n k
        let packedA = allocate< ^T> (rowBlock * depthBlock)
        let tile = allocate< ^T> (height * width)
        let meet () = if parts > 1 then barrier.SignalAndWait cancel
        let bufferSize = depthBlock * columnBlock
        for row in firstRow .. firstRow + myRows - 1 do
            NativeMemory.Clear(NativePtr.toVoidPtr (NativePtr.add c (row * ldc)), unativeint (n * sizeof< ^T>))
        try
            let mutable block = 0
            let mutable jc = 0
            while jc < n do
                let nc = min columnBlock (n - jc)
                let panels = (nc + width - 1) / width
                let panelsPerPart = (panels + parts - 1) / parts
                let firstPanel = min panels (part * panelsPerPart)
                let myPanels = min panelsPerPart (panels - firstPanel)
                let mutable pc = 0
                while pc < k do
                    let kc = min depthBlock (k - pc)
                    let packedB = if parts > 1 then NativePtr.add packedB (block % 2 * bufferSize) else packedB
                    if myPanels > 0 then
                        let firstColumn = firstPanel * width
                        packB (NativePtr.add b (pc * bRow + (jc + firstColumn) * bColumn)) bRow bColumn kc
                              (min nc ((firstPanel + myPanels) * width) - firstColumn) width (NativePtr.add packedB (firstColumn * kc))
                    meet ()
                    let mutable ic = firstRow
                    while ic < firstRow + myRows do
                        let mc = min rowBlock (firstRow + myRows - ic)
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
                    block <- block + 1
                    pc <- pc + kc
                jc <- jc + nc
        finally
            release packedA
            release tile

    /// The blocked product on one core, or on `parts` cores sharing the packed B. Rows are split
    /// when there are enough of them for every part; otherwise columns are, and each part packs
    /// its own B (nothing shared, no barrier).
    let inline private parallelBlocked
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (parts: int) (m: int) (n: int) (k: int)
        (a: nativeint) (aRow: int) (aColumn: int) (b: nativeint) (bRow: int) (bColumn: int) (c: nativeint) (ldc: int) =
        let height, width = kernel.Rows, kernel.Columns
        let elementBytes = nativeint sizeof< ^T>
        let pointer (address: nativeint) = NativePtr.ofNativeInt< ^T> address
        let alone m n (a: nativeint) (b: nativeint) (c: nativeint) =
            let _, depthBlock, columnBlock = blockSizes height width settings m n k
            let packedB = allocate< ^T> (depthBlock * columnBlock)
            try blocked kernel settings 0 1 null CancellationToken.None packedB m n k (pointer a) aRow aColumn (pointer b) bRow bColumn (pointer c) ldc
            finally release packedB
        if parts <= 1 then alone m n a b c
        elif m >= 2 * parts * height then
            let _, depthBlock, columnBlock = blockSizes height width settings m n k
            // two buffers used in turn; see `blocked`
            let packedB = allocate< ^T> (2 * depthBlock * columnBlock)
            let shared = NativePtr.toNativeInt packedB
            // Helper h (1 .. parts-1) moves from waiting (0) to running (1) when its thread
            // starts, unless the caller has marked it abandoned (2) first. The caller waits a
            // short while, then it and the running helpers split the rows. On a busy machine a
            // helper may not get a core for milliseconds; a barrier would make the caller wait
            // for it, so the caller does its share instead.
            let states = Array.zeroCreate<int> parts
            let running = ref 1
            let barrier: Barrier ref = ref null
            use ready = new ManualResetEventSlim(false)
            // A worker that fails (out of memory) cancels the barrier so the others stop waiting.
            use failed = new CancellationTokenSource()
            let work part count =
                try
                    blocked kernel settings part count barrier.Value failed.Token (pointer shared) m n k
                            (pointer a) aRow aColumn (pointer b) bRow bColumn (pointer c) ldc
                with _ ->
                    failed.Cancel()
                    reraise ()
            let helper h () =
                if Interlocked.CompareExchange(&states.[h], 1, 0) = 0 then
                    ready.Wait()
                    // its index among the running workers; the caller is 0
                    let mutable index = 1
                    for other in 1 .. h - 1 do
                        if Volatile.Read(&states.[other]) = 1 then index <- index + 1
                    work index running.Value
            // When the pool already has a queue (callers on pool threads, like parallel tests),
            // a helper queued behind it would be abandoned: give it a thread of its own instead.
            let start (body: unit -> unit) =
                if ThreadPool.PendingWorkItemCount > 0L then
                    Task.Factory.StartNew(Action(body), TaskCreationOptions.LongRunning)
                else Task.Run(body)
            let mutable helpers: Task[] = [||]
            let mutable finished = false
            try
                helpers <- Array.init (parts - 1) (fun i -> start (helper (i + 1)))
                // Wait about a tenth of the product's single-core time (at ~100 GFLOP/s),
                // between HelperWait (20 µs) and 1 ms.
                let seconds = Math.Clamp(2.0 * float m * float n * float k / 100e9 / 10.0, settings.HelperWait, max 1e-3 settings.HelperWait)
                let deadline = Stopwatch.GetTimestamp() + int64 (seconds * float Stopwatch.Frequency)
                let mutable spinner = SpinWait()
                while Array.exists (fun h -> Volatile.Read(&states.[h]) = 0) [| 1 .. parts - 1 |]
                      && Stopwatch.GetTimestamp() < deadline do
                    spinner.SpinOnce(-1)
                for h in 1 .. parts - 1 do
                    Interlocked.CompareExchange(&states.[h], 2, 0) |> ignore
                let count = 1 + (states |> Array.filter (fun state -> state = 1) |> Array.length)
                running.Value <- count
                if count > 1 then barrier.Value <- new Barrier(count)
                ready.Set()
                work 0 count
                // Abandoned helpers only find their mark when they start; nobody waits for them.
                Task.WaitAll [| for h in 1 .. parts - 1 do if states.[h] = 1 then helpers.[h - 1] |]
                finished <- true
            finally
                if not finished then
                    // The caller's share failed while helpers may still read packedB and the
                    // barrier: stop them (cancel, abandon those not started, release those waiting),
                    // and wait for the running ones before anything is freed.
                    failed.Cancel()
                    for h in 1 .. parts - 1 do
                        Interlocked.CompareExchange(&states.[h], 2, 0) |> ignore
                    ready.Set()
                    for h in 1 .. min (parts - 1) helpers.Length do
                        if Volatile.Read(&states.[h]) = 1 then
                            try helpers.[h - 1].Wait() with _ -> ()
                if not (isNull barrier.Value) then barrier.Value.Dispose()
                release packedB
        else
            let chunk = roundUp ((n + parts - 1) / parts) width
            Parallel.For(0, parts, fun part ->
                let first = part * chunk
                let size = min chunk (n - first)
                if size > 0 then
                    alone m size (a) (b + nativeint (first * bColumn) * elementBytes) (c + nativeint first * elementBytes))
            |> ignore

    // Concrete entry points; pointers travel as nativeint so that these can be passed as
    // ordinary function values (F# function types cannot hold native pointers).
    let private blocked32 (kernel: MicroKernel<float32>) settings parts m n k (a: nativeint) aRow aColumn (b: nativeint) bRow bColumn (c: nativeint) ldc =
        parallelBlocked kernel settings parts m n k a aRow aColumn b bRow bColumn c ldc

    let private blocked64 (kernel: MicroKernel<float>) settings parts m n k (a: nativeint) aRow aColumn (b: nativeint) bRow bColumn (c: nativeint) ldc =
        parallelBlocked kernel settings parts m n k a aRow aColumn b bRow bColumn c ldc

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
        ([<InlineIfLambda>] serial: MicroKernel< ^T> -> GemmSettings -> int -> int -> int -> int -> nativeint -> int -> int -> nativeint -> int -> int -> nativeint -> int -> unit)
        (kernel: MicroKernel< ^T>) (settings: GemmSettings) (m: int) (n: int) (k: int)
        (a: ^T[]) (aOffset: int) (aRow: int) (aColumn: int)
        (b: ^T[]) (bOffset: int) (bRow: int) (bColumn: int)
        (c: ^T[]) (cOffset: int) (ldc: int) =
        let work = int64 m * int64 n * int64 k
        // A single row or column gets nothing from packing: each element of the other
        // operand is used once.
        let isDirect = work < int64 settings.TinyWork || m = 1 || n = 1
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
            if isDirect then
                direct m n k aStart aRow aColumn bStart bRow bColumn cStart ldc
            else
                let parts = if work < int64 settings.ParallelWork then 1 else max 1 settings.Threads
                serial kernel settings parts m n k (NativePtr.toNativeInt aStart) aRow aColumn
                       (NativePtr.toNativeInt bStart) bRow bColumn (NativePtr.toNativeInt cStart) ldc

    /// The float32 product; see `run` for the layout.
    let multiply32 (settings: GemmSettings) m n k (a: float32[]) aOffset aRow aColumn (b: float32[]) bOffset bRow bColumn (c: float32[]) cOffset ldc =
        run blocked32 (GemmKernels.float32Kernel settings.Width) settings m n k a aOffset aRow aColumn b bOffset bRow bColumn c cOffset ldc

    /// The float64 product; see `run` for the layout.
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
