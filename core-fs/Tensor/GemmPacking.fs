/// GEMM packing: copies blocks of A and B into the contiguous, zero-padded micro-panels the
/// micro-kernels read, and owns the aligned scratch memory they live in. Packing costs a pass
/// over each block, so it is written to run at about a cycle per element.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: operands are pinned and packed panels are raw aligned memory

open System
open System.Runtime.InteropServices
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop

/// Packing of GEMM operands into micro-panels, and scratch memory.
module internal GemmPacking =

    /// Bytes in front of each scratch block that record its capacity; a cache line keeps the
    /// block itself aligned.
    let private header = 64n

    /// Blocks returned by `release`, kept for the next call: a fresh multi-megabyte block costs a
    /// page fault per 4 KB page on first touch, which on this VM took a tenth of a 512 × 512
    /// product's time. At most `keptBytes` stay allocated between calls.
    let private freeBlocks = ResizeArray<nativeint>()
    let private keptBytes = 64L <<< 20
    let private capacityOf (block: nativeint) = NativePtr.read (NativePtr.ofNativeInt<int64> block)

    /// Scratch memory for `count` elements, aligned to a cache line and not cleared; give it back
    /// with `release`. (Monitor rather than `lock`: its closure would be an allocation per call,
    /// and a compiled step calls this for every product.)
    let allocate<'T when 'T: unmanaged> (count: int) : nativeptr<'T> =
        let bytes = int64 (max count 1) * int64 sizeof<'T>
        let mutable reused = 0n
        Threading.Monitor.Enter freeBlocks
        try
            // the blocks are kept largest first: the last that fits is the smallest that fits
            let mutable best = -1
            for i in 0 .. freeBlocks.Count - 1 do
                if capacityOf freeBlocks.[i] >= bytes then best <- i
            if best >= 0 then
                reused <- freeBlocks.[best]
                freeBlocks.RemoveAt best
        finally
            Threading.Monitor.Exit freeBlocks
        let block =
            if reused <> 0n then reused
            else
                // rounded up to 64 KB so that nearby sizes share blocks
                let capacity = (bytes + 65535L) / 65536L * 65536L
                let block = NativePtr.toNativeInt (NativePtr.ofVoidPtr<byte> (NativeMemory.AlignedAlloc(unativeint (capacity + int64 header), 64un)))
                NativePtr.write (NativePtr.ofNativeInt<int64> block) capacity
                block
        NativePtr.ofNativeInt<'T> (block + header)

    /// Gives memory from `allocate` back; the largest blocks are kept for reuse, up to a limit.
    let release (p: nativeptr<'T>) =
        let block = NativePtr.toNativeInt p - header
        Threading.Monitor.Enter freeBlocks
        try
            // insert in order, largest first, then free what lies beyond the kept bytes
            let capacity = capacityOf block
            let mutable at = 0
            while at < freeBlocks.Count && capacityOf freeBlocks.[at] >= capacity do at <- at + 1
            freeBlocks.Insert(at, block)
            let mutable total = 0L
            let mutable keep = 0
            while keep < freeBlocks.Count && total + capacityOf freeBlocks.[keep] <= keptBytes do
                total <- total + capacityOf freeBlocks.[keep]
                keep <- keep + 1
            while freeBlocks.Count > keep do
                let evicted = freeBlocks.[freeBlocks.Count - 1]
                freeBlocks.RemoveAt(freeBlocks.Count - 1)
                NativeMemory.AlignedFree(NativePtr.toVoidPtr (NativePtr.ofNativeInt<byte> evicted))
        finally
            Threading.Monitor.Exit freeBlocks

    /// Depths [from, depth) of six rows (`rowStride` apart from r0) into a six-row panel, one
    /// depth at a time: what the register transposes leave over, and every depth without AVX.
    let private packSixRowsFrom (r0: nativeptr<'T>) (rowStride: int) (from: int) (depth: int) (write: nativeptr<'T>) =
        for p in from .. depth - 1 do
            let out = NativePtr.add write (p * 6)
            for r in 0 .. 5 do
                NativePtr.set out r (NativePtr.get r0 (r * rowStride + p))

    /// Six row-major float64 rows, depth [0, depth), into a six-row panel: four depths at a time
    /// through a register transpose (rows 0-3 as a 4 × 4 block, rows 4-5 as pairs), the rest one
    /// by one. A plain copy, so the products' bits are the same as with the scalar loop.
    let private packSixRows64 (r0: nativeptr<float>) (rowStride: int) (depth: int) (write: nativeptr<float>) =
        let r1 = NativePtr.add r0 rowStride
        let r2 = NativePtr.add r1 rowStride
        let r3 = NativePtr.add r2 rowStride
        let r4 = NativePtr.add r3 rowStride
        let r5 = NativePtr.add r4 rowStride
        let mutable p = 0
        while p + 4 <= depth do
            let v0, v1 = Vector256.Load(NativePtr.add r0 p), Vector256.Load(NativePtr.add r1 p)
            let v2, v3 = Vector256.Load(NativePtr.add r2 p), Vector256.Load(NativePtr.add r3 p)
            let v4, v5 = Vector256.Load(NativePtr.add r4 p), Vector256.Load(NativePtr.add r5 p)
            // per 128-bit half: t0 = r0 r1 of one depth, t1 of the next; t2, t3 the same for r2 r3
            let t0, t1 = Avx.UnpackLow(v0, v1), Avx.UnpackHigh(v0, v1)
            let t2, t3 = Avx.UnpackLow(v2, v3), Avx.UnpackHigh(v2, v3)
            // rows 4 and 5 of depths p, p+2 (low) and p+1, p+3 (high)
            let low, high = Avx.UnpackLow(v4, v5), Avx.UnpackHigh(v4, v5)
            let out = NativePtr.add write (p * 6)
            Vector256.Store(Avx.Permute2x128(t0, t2, 0x20uy), out)
            Vector128.Store(low.GetLower(), NativePtr.add out 4)
            Vector256.Store(Avx.Permute2x128(t1, t3, 0x20uy), NativePtr.add out 6)
            Vector128.Store(high.GetLower(), NativePtr.add out 10)
            Vector256.Store(Avx.Permute2x128(t0, t2, 0x31uy), NativePtr.add out 12)
            Vector128.Store(low.GetUpper(), NativePtr.add out 16)
            Vector256.Store(Avx.Permute2x128(t1, t3, 0x31uy), NativePtr.add out 18)
            Vector128.Store(high.GetUpper(), NativePtr.add out 22)
            p <- p + 4
        packSixRowsFrom r0 rowStride p depth write

    /// The float32 counterpart of `packSixRows64`: eight depths at a time, rows 0-3 as two 4 × 4
    /// blocks (one per 128-bit half) and rows 4-5 as pairs of one 64-bit move each.
    let private packSixRows32 (r0: nativeptr<float32>) (rowStride: int) (depth: int) (write: nativeptr<float32>) =
        let r1 = NativePtr.add r0 rowStride
        let r2 = NativePtr.add r1 rowStride
        let r3 = NativePtr.add r2 rowStride
        let r4 = NativePtr.add r3 rowStride
        let r5 = NativePtr.add r4 rowStride
        let inline pair (v: Vector128<float32>) (lane: int) (target: nativeptr<float32>) =
            NativePtr.write (NativePtr.ofNativeInt<uint64> (NativePtr.toNativeInt target)) (v.AsUInt64().GetElement lane)
        let mutable p = 0
        while p + 8 <= depth do
            let v0, v1 = Vector256.Load(NativePtr.add r0 p), Vector256.Load(NativePtr.add r1 p)
            let v2, v3 = Vector256.Load(NativePtr.add r2 p), Vector256.Load(NativePtr.add r3 p)
            let v4, v5 = Vector256.Load(NativePtr.add r4 p), Vector256.Load(NativePtr.add r5 p)
            // per 128-bit half: t0 = r0 r1 of depths 0, 1; t1 = of depths 2, 3; t2, t3 the same for r2 r3
            let t0, t1 = Avx.UnpackLow(v0, v1), Avx.UnpackHigh(v0, v1)
            let t2, t3 = Avx.UnpackLow(v2, v3), Avx.UnpackHigh(v2, v3)
            let c0 = Avx.Shuffle(t0, t2, 0x44uy)
            let c1 = Avx.Shuffle(t0, t2, 0xEEuy)
            let c2 = Avx.Shuffle(t1, t3, 0x44uy)
            let c3 = Avx.Shuffle(t1, t3, 0xEEuy)
            // r4 r5 of depths 0, 1 (u) and 2, 3 (w), per half
            let u, w = Avx.UnpackLow(v4, v5), Avx.UnpackHigh(v4, v5)
            let out = NativePtr.add write (p * 6)
            Vector128.Store(c0.GetLower(), out)
            pair (u.GetLower()) 0 (NativePtr.add out 4)
            Vector128.Store(c1.GetLower(), NativePtr.add out 6)
            pair (u.GetLower()) 1 (NativePtr.add out 10)
            Vector128.Store(c2.GetLower(), NativePtr.add out 12)
            pair (w.GetLower()) 0 (NativePtr.add out 16)
            Vector128.Store(c3.GetLower(), NativePtr.add out 18)
            pair (w.GetLower()) 1 (NativePtr.add out 22)
            Vector128.Store(c0.GetUpper(), NativePtr.add out 24)
            pair (u.GetUpper()) 0 (NativePtr.add out 28)
            Vector128.Store(c1.GetUpper(), NativePtr.add out 30)
            pair (u.GetUpper()) 1 (NativePtr.add out 34)
            Vector128.Store(c2.GetUpper(), NativePtr.add out 36)
            pair (w.GetUpper()) 0 (NativePtr.add out 40)
            Vector128.Store(c3.GetUpper(), NativePtr.add out 42)
            pair (w.GetUpper()) 1 (NativePtr.add out 46)
            p <- p + 8
        packSixRowsFrom r0 rowStride p depth write

    /// Packs rows [0, rows) × columns [0, depth) of A (strides rowStride/columnStride from `a`)
    /// into micro-panels of `height` rows: panel q holds a[q*height + r, p] at q*height*depth + p*height + r,
    /// with rows beyond `rows` zero so the kernel never needs an edge case. Each element of A is
    /// used n times by the kernel but packed once per column block, so packing must cost about a
    /// cycle per element: pointers advance by addition and the common layouts get their own loops.
    let packA (a: nativeptr<'T>) (rowStride: int) (columnStride: int) (rows: int) (depth: int) (height: int) (target: nativeptr<'T>) =
        let mutable panelStart = 0
        while panelStart < rows do
            let mutable write = NativePtr.add target (panelStart * depth)
            let valid = min height (rows - panelStart)
            let first = NativePtr.add a (panelStart * rowStride)
            if valid = 6 && height = 6 && columnStride = 1 && Avx.IsSupported && (sizeof<'T> = 4 || sizeof<'T> = 8) then
                // Row-major A: six sequential row streams through a register transpose.
                let read, target = NativePtr.toNativeInt first, NativePtr.toNativeInt write
                if sizeof<'T> = 8 then packSixRows64 (NativePtr.ofNativeInt read) rowStride depth (NativePtr.ofNativeInt target)
                else packSixRows32 (NativePtr.ofNativeInt read) rowStride depth (NativePtr.ofNativeInt target)
            elif valid = 6 && height = 6 && columnStride = 1 then
                // Row-major A without AVX: six sequential row streams, one sequential write stream.
                packSixRowsFrom first rowStride 0 depth write
            elif valid = 6 && height = 6 && rowStride = 1 && (sizeof<'T> = 4 || sizeof<'T> = 8) then
                // Transposed A, six rows: each packed column is six contiguous elements, moved as
                // 16 + 8 or 3 × 16 bytes (a library copy per 24 bytes cost more than the move).
                let mutable read = NativePtr.toNativeInt first
                let mutable store = NativePtr.toNativeInt write
                let step = nativeint (columnStride * sizeof<'T>)
                let inline bytes (address: nativeint) = NativePtr.ofNativeInt<byte> address
                if sizeof<'T> = 4 then
                    for _ in 1 .. depth do
                        Vector128.Store(Vector128.Load(bytes read), bytes store)
                        // (Vector64 is not accelerated on x64; a plain 8-byte move is)
                        NativePtr.write (NativePtr.ofNativeInt<int64> (store + 16n)) (NativePtr.read (NativePtr.ofNativeInt<int64> (read + 16n)))
                        read <- read + step
                        store <- store + 24n
                else
                    for _ in 1 .. depth do
                        Vector128.Store(Vector128.Load(bytes read), bytes store)
                        Vector128.Store(Vector128.Load(bytes (read + 16n)), bytes (store + 16n))
                        Vector128.Store(Vector128.Load(bytes (read + 32n)), bytes (store + 32n))
                        read <- read + step
                        store <- store + 48n
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

    /// Copies columns [first, width) of one panel of B, column by column down the depth: columns
    /// from `valid` on are zero padding.
    let private packColumns (column0: nativeptr<'T>) (rowStride: int) (columnStride: int) (depth: int) (first: int) (valid: int) (width: int) (panel: nativeptr<'T>) =
        for j in first .. width - 1 do
            let mutable write = NativePtr.add panel j
            if j < valid then
                let mutable read = NativePtr.add column0 (j * columnStride)
                for _ in 1 .. depth do
                    NativePtr.write write (NativePtr.read read)
                    read <- NativePtr.add read rowStride
                    write <- NativePtr.add write width
            else
                for _ in 1 .. depth do
                    NativePtr.write write Unchecked.defaultof<'T>
                    write <- NativePtr.add write width

    /// Eight float32 columns of a transposed B (each contiguous along the depth) into eight
    /// adjacent panel columns, an 8 × 8 tile at a time transposed in registers: eight vector
    /// loads and eight vector stores per 64 elements, where copying element by element writes a
    /// different cache line of the panel for every element.
    let private transposeColumns32 (column0: nativeptr<float32>) (columnStride: int) (depth: int) (write: nativeptr<float32>) (width: int) =
        let c0 = column0
        let c1 = NativePtr.add c0 columnStride
        let c2 = NativePtr.add c1 columnStride
        let c3 = NativePtr.add c2 columnStride
        let c4 = NativePtr.add c3 columnStride
        let c5 = NativePtr.add c4 columnStride
        let c6 = NativePtr.add c5 columnStride
        let c7 = NativePtr.add c6 columnStride
        let mutable p = 0
        while p + 8 <= depth do
            // pairs of columns interleaved, then quadruples, then the 128-bit halves exchanged
            let t0 = Avx.UnpackLow(Vector256.Load(NativePtr.add c0 p), Vector256.Load(NativePtr.add c1 p))
            let t1 = Avx.UnpackHigh(Vector256.Load(NativePtr.add c0 p), Vector256.Load(NativePtr.add c1 p))
            let t2 = Avx.UnpackLow(Vector256.Load(NativePtr.add c2 p), Vector256.Load(NativePtr.add c3 p))
            let t3 = Avx.UnpackHigh(Vector256.Load(NativePtr.add c2 p), Vector256.Load(NativePtr.add c3 p))
            let t4 = Avx.UnpackLow(Vector256.Load(NativePtr.add c4 p), Vector256.Load(NativePtr.add c5 p))
            let t5 = Avx.UnpackHigh(Vector256.Load(NativePtr.add c4 p), Vector256.Load(NativePtr.add c5 p))
            let t6 = Avx.UnpackLow(Vector256.Load(NativePtr.add c6 p), Vector256.Load(NativePtr.add c7 p))
            let t7 = Avx.UnpackHigh(Vector256.Load(NativePtr.add c6 p), Vector256.Load(NativePtr.add c7 p))
            let u0 = Avx.Shuffle(t0, t2, 0x44uy)
            let u1 = Avx.Shuffle(t0, t2, 0xEEuy)
            let u2 = Avx.Shuffle(t1, t3, 0x44uy)
            let u3 = Avx.Shuffle(t1, t3, 0xEEuy)
            let u4 = Avx.Shuffle(t4, t6, 0x44uy)
            let u5 = Avx.Shuffle(t4, t6, 0xEEuy)
            let u6 = Avx.Shuffle(t5, t7, 0x44uy)
            let u7 = Avx.Shuffle(t5, t7, 0xEEuy)
            let out = NativePtr.add write (p * width)
            Vector256.Store(Avx.Permute2x128(u0, u4, 0x20uy), out)
            Vector256.Store(Avx.Permute2x128(u1, u5, 0x20uy), NativePtr.add out width)
            Vector256.Store(Avx.Permute2x128(u2, u6, 0x20uy), NativePtr.add out (2 * width))
            Vector256.Store(Avx.Permute2x128(u3, u7, 0x20uy), NativePtr.add out (3 * width))
            Vector256.Store(Avx.Permute2x128(u0, u4, 0x31uy), NativePtr.add out (4 * width))
            Vector256.Store(Avx.Permute2x128(u1, u5, 0x31uy), NativePtr.add out (5 * width))
            Vector256.Store(Avx.Permute2x128(u2, u6, 0x31uy), NativePtr.add out (6 * width))
            Vector256.Store(Avx.Permute2x128(u3, u7, 0x31uy), NativePtr.add out (7 * width))
            p <- p + 8
        while p < depth do
            let out = NativePtr.add write (p * width)
            for j in 0 .. 7 do NativePtr.set out j (NativePtr.get column0 (j * columnStride + p))
            p <- p + 1

    /// The float64 counterpart of `transposeColumns32`: four columns, 4 × 4 tiles.
    let private transposeColumns64 (column0: nativeptr<float>) (columnStride: int) (depth: int) (write: nativeptr<float>) (width: int) =
        let c0 = column0
        let c1 = NativePtr.add c0 columnStride
        let c2 = NativePtr.add c1 columnStride
        let c3 = NativePtr.add c2 columnStride
        let mutable p = 0
        while p + 4 <= depth do
            let t0 = Avx.UnpackLow(Vector256.Load(NativePtr.add c0 p), Vector256.Load(NativePtr.add c1 p))
            let t1 = Avx.UnpackHigh(Vector256.Load(NativePtr.add c0 p), Vector256.Load(NativePtr.add c1 p))
            let t2 = Avx.UnpackLow(Vector256.Load(NativePtr.add c2 p), Vector256.Load(NativePtr.add c3 p))
            let t3 = Avx.UnpackHigh(Vector256.Load(NativePtr.add c2 p), Vector256.Load(NativePtr.add c3 p))
            let out = NativePtr.add write (p * width)
            Vector256.Store(Avx.Permute2x128(t0, t2, 0x20uy), out)
            Vector256.Store(Avx.Permute2x128(t1, t3, 0x20uy), NativePtr.add out width)
            Vector256.Store(Avx.Permute2x128(t0, t2, 0x31uy), NativePtr.add out (2 * width))
            Vector256.Store(Avx.Permute2x128(t1, t3, 0x31uy), NativePtr.add out (3 * width))
            p <- p + 4
        while p < depth do
            let out = NativePtr.add write (p * width)
            for j in 0 .. 3 do NativePtr.set out j (NativePtr.get column0 (j * columnStride + p))
            p <- p + 1

    /// Copies one panel row (tens to a few hundred bytes) with vector moves in line: a library
    /// call per panel row cost more than the bytes it moved.
    let private copyPanelRow (source: nativeptr<byte>) (target: nativeptr<byte>) (bytes: int) =
        let mutable k = 0
        if Vector256.IsHardwareAccelerated then
            while k + 32 <= bytes do
                Vector256.Store(Vector256.Load(NativePtr.add source k), NativePtr.add target k)
                k <- k + 32
        while k < bytes do
            NativePtr.set target k (NativePtr.get source k)
            k <- k + 1

    /// Packs rows [0, depth) × columns [0, columns) of B into micro-panels of `width` columns:
    /// panel q holds b[p, q*width + j] at q*width*depth + p*width + j, zero beyond `columns`.
    let packB (b: nativeptr<'T>) (rowStride: int) (columnStride: int) (depth: int) (columns: int) (width: int) (target: nativeptr<'T>) =
        let panels = (columns + width - 1) / width
        let elementBytes = sizeof<'T>
        if columnStride = 1 then
            // Row-major B: read each row once, front to back, copying whole panel rows.
            for p in 0 .. depth - 1 do
                let row = NativePtr.add b (p * rowStride)
                for q in 0 .. panels - 1 do
                    let valid = min width (columns - q * width)
                    let write = NativePtr.add target (q * width * depth + p * width)
                    let source = NativePtr.toNativeInt (NativePtr.add row (q * width))
                    copyPanelRow (NativePtr.ofNativeInt source) (NativePtr.ofNativeInt (NativePtr.toNativeInt write)) (valid * elementBytes)
                    if valid < width then
                        NativeMemory.Clear(NativePtr.toVoidPtr (NativePtr.add write valid), unativeint ((width - valid) * elementBytes))
        elif rowStride = 1 && Avx.IsSupported && (elementBytes = 4 || elementBytes = 8) then
            // Transposed B (each column contiguous along the depth): whole groups of columns go
            // through a register transpose, the few left over and the padding column by column.
            let group = 32 / elementBytes
            for q in 0 .. panels - 1 do
                let panel = NativePtr.add target (q * width * depth)
                let column0 = NativePtr.add b (q * width * columnStride)
                let valid = min width (columns - q * width)
                let mutable j = 0
                while j + group <= valid do
                    let read = NativePtr.toNativeInt (NativePtr.add column0 (j * columnStride))
                    let write = NativePtr.toNativeInt (NativePtr.add panel j)
                    if elementBytes = 4 then
                        transposeColumns32 (NativePtr.ofNativeInt read) columnStride depth (NativePtr.ofNativeInt write) width
                    else
                        transposeColumns64 (NativePtr.ofNativeInt read) columnStride depth (NativePtr.ofNativeInt write) width
                    j <- j + group
                packColumns column0 rowStride columnStride depth j valid width panel
        else
            // Any other layout: walk each column down the depth.
            for q in 0 .. panels - 1 do
                let valid = min width (columns - q * width)
                packColumns (NativePtr.add b (q * width * columnStride)) rowStride columnStride depth 0 valid width (NativePtr.add target (q * width * depth))

    /// Writes source + a rows × columns corner of the dense `tile` (row length `tileWidth`) into
    /// C; the source is C itself, or an addend (rows `lds` apart).
    let inline addTile (tile: nativeptr< ^T>) (tileWidth: int) (rows: int) (columns: int) (source: nativeptr< ^T>) (lds: int) (c: nativeptr< ^T>) (ldc: int) =
        // vectorised by rows, in place: a thin C (a convolution's 16 channels against 6-row tiles)
        // sends a third of its tiles through here, and a library call per row of two vectors cost
        // more than the adds. The same sums, elementwise, so the same bits.
        let lanes = Numerics.Vector< ^T>.Count
        for r in 0 .. rows - 1 do
            let t, s, d = NativePtr.add tile (r * tileWidth), NativePtr.add source (r * lds), NativePtr.add c (r * ldc)
            let mutable j = 0
            while j + lanes <= columns do
                Numerics.Vector.Store(Numerics.Vector.Load(NativePtr.add s j) + Numerics.Vector.Load(NativePtr.add t j), NativePtr.add d j)
                j <- j + lanes
            while j < columns do
                NativePtr.set d j (NativePtr.get s j + NativePtr.get t j)
                j <- j + 1
