/// GEMM micro-kernels: the register-blocked inner product of one packed A panel (6 rows × depth)
/// with one packed B panel (depth × 2 vectors), added into a 6 × (2 vectors) tile of C.
/// One kernel per element type and vector width; the driver in Gemm.fs picks one and owns
/// packing, cache blocking, edges and threading.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: the packed panels are raw aligned memory

open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop

/// A micro-kernel: `Run(depth, a, b, bRowStride, source, sourceStride, c, rowStride)` writes
/// source + A·B into C, where `a` holds `depth` columns of `Rows` values each (packed and
/// zero-padded), `b` holds `depth` rows of `Columns` values each, `bRowStride` elements apart (a
/// packed panel's rows are `Columns` apart; a row-major B can be read in place), and C and the source are
/// `Rows × Columns` with rows `rowStride` and `sourceStride` elements apart. With the source at
/// C it adds A·B into C; another source (an addend) saves a pass that would add it afterwards.
[<AbstractClass>]
type internal MicroKernel<'T when 'T: unmanaged>(rows: int, columns: int, name: string) =
    /// Rows of C per call (the register block's height).
    member _.Rows = rows
    /// Columns of C per call (the register block's width).
    member _.Columns = columns
    /// For test names and benchmark reports, e.g. `float32 6x32 Vector512`.
    member _.Name = name
    /// Adds the product of the packed panels into the C tile.
    abstract Run: depth: int * a: nativeptr<'T> * b: nativeptr<'T> * bRowStride: int * source: nativeptr<'T> * sourceStride: int * c: nativeptr<'T> * rowStride: int -> unit

/// The kernels. Six rows by two vectors keeps 12 accumulators, two B vectors and one broadcast
/// A value live: 15 registers, within the 16 of AVX2 and well within the 32 of AVX-512, and 12
/// independent FMA chains cover the FMA latency times the two FMA pipes.
module internal GemmKernels =

    /// The height of every register block.
    [<Literal>]
    let Rows = 6

    /// Asks for the source tile's cache lines (C's own, unless an addend is read) before the
    /// depth loop so that their fetch from L3 or memory overlaps the arithmetic instead of
    /// stalling the final read-modify-write.
    let inline private prefetchTile (c: nativeptr<'T>) (ldc: int) (rowBytes: int) =
        if Sse.IsSupported then
            for r in 0 .. Rows - 1 do
                let start = NativePtr.toNativeInt (NativePtr.add c (r * ldc))
                Sse.Prefetch0(NativePtr.toVoidPtr (NativePtr.ofNativeInt<byte> start))
                Sse.Prefetch0(NativePtr.toVoidPtr (NativePtr.ofNativeInt<byte> (start + nativeint (rowBytes - 1))))

    let inline private add512 (source: nativeptr<'T>) (p: nativeptr<'T>) (v: Vector512<'T>) =
        Vector512.Store(Vector512.Add(Vector512.Load source, v), p)

    let inline private add256 (source: nativeptr<'T>) (p: nativeptr<'T>) (v: Vector256<'T>) =
        Vector256.Store(Vector256.Add(Vector256.Load source, v), p)

    let inline private add128 (source: nativeptr<'T>) (p: nativeptr<'T>) (v: Vector128<'T>) =
        Vector128.Store(Vector128.Add(Vector128.Load source, v), p)

    // Tiering: tier-0 code of these loops is about 15 times slower. Release builds compile them
    // optimised at their first call: the build marks every method of the core
    // AggressiveOptimization after the compile (core-fs/build/OptimizeMethods.targets), because the
    // F# compiler drops that flag from [<MethodImpl>].
    // The six kernels below are the same loop; only the vector type and element type differ.
    // F# cannot abstract over Vector128/256/512 without losing the FMA overloads, so they are
    // written out. Each reads a[p*6 + r] (broadcast) and b[p*2W .. p*2W + 2W - 1].

    let private float32x512 (depth: int) (a: nativeptr<float32>) (b: nativeptr<float32>) (ldb: int) (s: nativeptr<float32>) (lds: int) (c: nativeptr<float32>) (ldc: int) =
        prefetchTile s lds 128
        let mutable c00 = Vector512<float32>.Zero
        let mutable c01 = Vector512<float32>.Zero
        let mutable c10 = Vector512<float32>.Zero
        let mutable c11 = Vector512<float32>.Zero
        let mutable c20 = Vector512<float32>.Zero
        let mutable c21 = Vector512<float32>.Zero
        let mutable c30 = Vector512<float32>.Zero
        let mutable c31 = Vector512<float32>.Zero
        let mutable c40 = Vector512<float32>.Zero
        let mutable c41 = Vector512<float32>.Zero
        let mutable c50 = Vector512<float32>.Zero
        let mutable c51 = Vector512<float32>.Zero
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. depth do
            let b0 = Vector512.Load pb
            let b1 = Vector512.Load(NativePtr.add pb 16)
            let a0 = Vector512.Create(NativePtr.get pa 0)
            c00 <- Vector512.FusedMultiplyAdd(a0, b0, c00)
            c01 <- Vector512.FusedMultiplyAdd(a0, b1, c01)
            let a1 = Vector512.Create(NativePtr.get pa 1)
            c10 <- Vector512.FusedMultiplyAdd(a1, b0, c10)
            c11 <- Vector512.FusedMultiplyAdd(a1, b1, c11)
            let a2 = Vector512.Create(NativePtr.get pa 2)
            c20 <- Vector512.FusedMultiplyAdd(a2, b0, c20)
            c21 <- Vector512.FusedMultiplyAdd(a2, b1, c21)
            let a3 = Vector512.Create(NativePtr.get pa 3)
            c30 <- Vector512.FusedMultiplyAdd(a3, b0, c30)
            c31 <- Vector512.FusedMultiplyAdd(a3, b1, c31)
            let a4 = Vector512.Create(NativePtr.get pa 4)
            c40 <- Vector512.FusedMultiplyAdd(a4, b0, c40)
            c41 <- Vector512.FusedMultiplyAdd(a4, b1, c41)
            let a5 = Vector512.Create(NativePtr.get pa 5)
            c50 <- Vector512.FusedMultiplyAdd(a5, b0, c50)
            c51 <- Vector512.FusedMultiplyAdd(a5, b1, c51)
            pa <- NativePtr.add pa 6
            pb <- NativePtr.add pb ldb
        let row r = NativePtr.add c (r * ldc)
        let source r = NativePtr.add s (r * lds)
        add512 (source 0) (row 0) c00; add512 (NativePtr.add (source 0) 16) (NativePtr.add (row 0) 16) c01
        add512 (source 1) (row 1) c10; add512 (NativePtr.add (source 1) 16) (NativePtr.add (row 1) 16) c11
        add512 (source 2) (row 2) c20; add512 (NativePtr.add (source 2) 16) (NativePtr.add (row 2) 16) c21
        add512 (source 3) (row 3) c30; add512 (NativePtr.add (source 3) 16) (NativePtr.add (row 3) 16) c31
        add512 (source 4) (row 4) c40; add512 (NativePtr.add (source 4) 16) (NativePtr.add (row 4) 16) c41
        add512 (source 5) (row 5) c50; add512 (NativePtr.add (source 5) 16) (NativePtr.add (row 5) 16) c51

    let private float64x512 (depth: int) (a: nativeptr<float>) (b: nativeptr<float>) (ldb: int) (s: nativeptr<float>) (lds: int) (c: nativeptr<float>) (ldc: int) =
        prefetchTile s lds 128
        let mutable c00 = Vector512<float>.Zero
        let mutable c01 = Vector512<float>.Zero
        let mutable c10 = Vector512<float>.Zero
        let mutable c11 = Vector512<float>.Zero
        let mutable c20 = Vector512<float>.Zero
        let mutable c21 = Vector512<float>.Zero
        let mutable c30 = Vector512<float>.Zero
        let mutable c31 = Vector512<float>.Zero
        let mutable c40 = Vector512<float>.Zero
        let mutable c41 = Vector512<float>.Zero
        let mutable c50 = Vector512<float>.Zero
        let mutable c51 = Vector512<float>.Zero
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. depth do
            let b0 = Vector512.Load pb
            let b1 = Vector512.Load(NativePtr.add pb 8)
            let a0 = Vector512.Create(NativePtr.get pa 0)
            c00 <- Vector512.FusedMultiplyAdd(a0, b0, c00)
            c01 <- Vector512.FusedMultiplyAdd(a0, b1, c01)
            let a1 = Vector512.Create(NativePtr.get pa 1)
            c10 <- Vector512.FusedMultiplyAdd(a1, b0, c10)
            c11 <- Vector512.FusedMultiplyAdd(a1, b1, c11)
            let a2 = Vector512.Create(NativePtr.get pa 2)
            c20 <- Vector512.FusedMultiplyAdd(a2, b0, c20)
            c21 <- Vector512.FusedMultiplyAdd(a2, b1, c21)
            let a3 = Vector512.Create(NativePtr.get pa 3)
            c30 <- Vector512.FusedMultiplyAdd(a3, b0, c30)
            c31 <- Vector512.FusedMultiplyAdd(a3, b1, c31)
            let a4 = Vector512.Create(NativePtr.get pa 4)
            c40 <- Vector512.FusedMultiplyAdd(a4, b0, c40)
            c41 <- Vector512.FusedMultiplyAdd(a4, b1, c41)
            let a5 = Vector512.Create(NativePtr.get pa 5)
            c50 <- Vector512.FusedMultiplyAdd(a5, b0, c50)
            c51 <- Vector512.FusedMultiplyAdd(a5, b1, c51)
            pa <- NativePtr.add pa 6
            pb <- NativePtr.add pb ldb
        let row r = NativePtr.add c (r * ldc)
        let source r = NativePtr.add s (r * lds)
        add512 (source 0) (row 0) c00; add512 (NativePtr.add (source 0) 8) (NativePtr.add (row 0) 8) c01
        add512 (source 1) (row 1) c10; add512 (NativePtr.add (source 1) 8) (NativePtr.add (row 1) 8) c11
        add512 (source 2) (row 2) c20; add512 (NativePtr.add (source 2) 8) (NativePtr.add (row 2) 8) c21
        add512 (source 3) (row 3) c30; add512 (NativePtr.add (source 3) 8) (NativePtr.add (row 3) 8) c31
        add512 (source 4) (row 4) c40; add512 (NativePtr.add (source 4) 8) (NativePtr.add (row 4) 8) c41
        add512 (source 5) (row 5) c50; add512 (NativePtr.add (source 5) 8) (NativePtr.add (row 5) 8) c51

    let private float32x256 (depth: int) (a: nativeptr<float32>) (b: nativeptr<float32>) (ldb: int) (s: nativeptr<float32>) (lds: int) (c: nativeptr<float32>) (ldc: int) =
        prefetchTile s lds 64
        let mutable c00 = Vector256<float32>.Zero
        let mutable c01 = Vector256<float32>.Zero
        let mutable c10 = Vector256<float32>.Zero
        let mutable c11 = Vector256<float32>.Zero
        let mutable c20 = Vector256<float32>.Zero
        let mutable c21 = Vector256<float32>.Zero
        let mutable c30 = Vector256<float32>.Zero
        let mutable c31 = Vector256<float32>.Zero
        let mutable c40 = Vector256<float32>.Zero
        let mutable c41 = Vector256<float32>.Zero
        let mutable c50 = Vector256<float32>.Zero
        let mutable c51 = Vector256<float32>.Zero
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. depth do
            let b0 = Vector256.Load pb
            let b1 = Vector256.Load(NativePtr.add pb 8)
            let a0 = Vector256.Create(NativePtr.get pa 0)
            c00 <- Vector256.FusedMultiplyAdd(a0, b0, c00)
            c01 <- Vector256.FusedMultiplyAdd(a0, b1, c01)
            let a1 = Vector256.Create(NativePtr.get pa 1)
            c10 <- Vector256.FusedMultiplyAdd(a1, b0, c10)
            c11 <- Vector256.FusedMultiplyAdd(a1, b1, c11)
            let a2 = Vector256.Create(NativePtr.get pa 2)
            c20 <- Vector256.FusedMultiplyAdd(a2, b0, c20)
            c21 <- Vector256.FusedMultiplyAdd(a2, b1, c21)
            let a3 = Vector256.Create(NativePtr.get pa 3)
            c30 <- Vector256.FusedMultiplyAdd(a3, b0, c30)
            c31 <- Vector256.FusedMultiplyAdd(a3, b1, c31)
            let a4 = Vector256.Create(NativePtr.get pa 4)
            c40 <- Vector256.FusedMultiplyAdd(a4, b0, c40)
            c41 <- Vector256.FusedMultiplyAdd(a4, b1, c41)
            let a5 = Vector256.Create(NativePtr.get pa 5)
            c50 <- Vector256.FusedMultiplyAdd(a5, b0, c50)
            c51 <- Vector256.FusedMultiplyAdd(a5, b1, c51)
            pa <- NativePtr.add pa 6
            pb <- NativePtr.add pb ldb
        let row r = NativePtr.add c (r * ldc)
        let source r = NativePtr.add s (r * lds)
        add256 (source 0) (row 0) c00; add256 (NativePtr.add (source 0) 8) (NativePtr.add (row 0) 8) c01
        add256 (source 1) (row 1) c10; add256 (NativePtr.add (source 1) 8) (NativePtr.add (row 1) 8) c11
        add256 (source 2) (row 2) c20; add256 (NativePtr.add (source 2) 8) (NativePtr.add (row 2) 8) c21
        add256 (source 3) (row 3) c30; add256 (NativePtr.add (source 3) 8) (NativePtr.add (row 3) 8) c31
        add256 (source 4) (row 4) c40; add256 (NativePtr.add (source 4) 8) (NativePtr.add (row 4) 8) c41
        add256 (source 5) (row 5) c50; add256 (NativePtr.add (source 5) 8) (NativePtr.add (row 5) 8) c51

    let private float64x256 (depth: int) (a: nativeptr<float>) (b: nativeptr<float>) (ldb: int) (s: nativeptr<float>) (lds: int) (c: nativeptr<float>) (ldc: int) =
        prefetchTile s lds 64
        let mutable c00 = Vector256<float>.Zero
        let mutable c01 = Vector256<float>.Zero
        let mutable c10 = Vector256<float>.Zero
        let mutable c11 = Vector256<float>.Zero
        let mutable c20 = Vector256<float>.Zero
        let mutable c21 = Vector256<float>.Zero
        let mutable c30 = Vector256<float>.Zero
        let mutable c31 = Vector256<float>.Zero
        let mutable c40 = Vector256<float>.Zero
        let mutable c41 = Vector256<float>.Zero
        let mutable c50 = Vector256<float>.Zero
        let mutable c51 = Vector256<float>.Zero
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. depth do
            let b0 = Vector256.Load pb
            let b1 = Vector256.Load(NativePtr.add pb 4)
            let a0 = Vector256.Create(NativePtr.get pa 0)
            c00 <- Vector256.FusedMultiplyAdd(a0, b0, c00)
            c01 <- Vector256.FusedMultiplyAdd(a0, b1, c01)
            let a1 = Vector256.Create(NativePtr.get pa 1)
            c10 <- Vector256.FusedMultiplyAdd(a1, b0, c10)
            c11 <- Vector256.FusedMultiplyAdd(a1, b1, c11)
            let a2 = Vector256.Create(NativePtr.get pa 2)
            c20 <- Vector256.FusedMultiplyAdd(a2, b0, c20)
            c21 <- Vector256.FusedMultiplyAdd(a2, b1, c21)
            let a3 = Vector256.Create(NativePtr.get pa 3)
            c30 <- Vector256.FusedMultiplyAdd(a3, b0, c30)
            c31 <- Vector256.FusedMultiplyAdd(a3, b1, c31)
            let a4 = Vector256.Create(NativePtr.get pa 4)
            c40 <- Vector256.FusedMultiplyAdd(a4, b0, c40)
            c41 <- Vector256.FusedMultiplyAdd(a4, b1, c41)
            let a5 = Vector256.Create(NativePtr.get pa 5)
            c50 <- Vector256.FusedMultiplyAdd(a5, b0, c50)
            c51 <- Vector256.FusedMultiplyAdd(a5, b1, c51)
            pa <- NativePtr.add pa 6
            pb <- NativePtr.add pb ldb
        let row r = NativePtr.add c (r * ldc)
        let source r = NativePtr.add s (r * lds)
        add256 (source 0) (row 0) c00; add256 (NativePtr.add (source 0) 4) (NativePtr.add (row 0) 4) c01
        add256 (source 1) (row 1) c10; add256 (NativePtr.add (source 1) 4) (NativePtr.add (row 1) 4) c11
        add256 (source 2) (row 2) c20; add256 (NativePtr.add (source 2) 4) (NativePtr.add (row 2) 4) c21
        add256 (source 3) (row 3) c30; add256 (NativePtr.add (source 3) 4) (NativePtr.add (row 3) 4) c31
        add256 (source 4) (row 4) c40; add256 (NativePtr.add (source 4) 4) (NativePtr.add (row 4) 4) c41
        add256 (source 5) (row 5) c50; add256 (NativePtr.add (source 5) 4) (NativePtr.add (row 5) 4) c51

    let private float32x128 (depth: int) (a: nativeptr<float32>) (b: nativeptr<float32>) (ldb: int) (s: nativeptr<float32>) (lds: int) (c: nativeptr<float32>) (ldc: int) =
        prefetchTile s lds 32
        let mutable c00 = Vector128<float32>.Zero
        let mutable c01 = Vector128<float32>.Zero
        let mutable c10 = Vector128<float32>.Zero
        let mutable c11 = Vector128<float32>.Zero
        let mutable c20 = Vector128<float32>.Zero
        let mutable c21 = Vector128<float32>.Zero
        let mutable c30 = Vector128<float32>.Zero
        let mutable c31 = Vector128<float32>.Zero
        let mutable c40 = Vector128<float32>.Zero
        let mutable c41 = Vector128<float32>.Zero
        let mutable c50 = Vector128<float32>.Zero
        let mutable c51 = Vector128<float32>.Zero
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. depth do
            let b0 = Vector128.Load pb
            let b1 = Vector128.Load(NativePtr.add pb 4)
            let a0 = Vector128.Create(NativePtr.get pa 0)
            c00 <- Vector128.FusedMultiplyAdd(a0, b0, c00)
            c01 <- Vector128.FusedMultiplyAdd(a0, b1, c01)
            let a1 = Vector128.Create(NativePtr.get pa 1)
            c10 <- Vector128.FusedMultiplyAdd(a1, b0, c10)
            c11 <- Vector128.FusedMultiplyAdd(a1, b1, c11)
            let a2 = Vector128.Create(NativePtr.get pa 2)
            c20 <- Vector128.FusedMultiplyAdd(a2, b0, c20)
            c21 <- Vector128.FusedMultiplyAdd(a2, b1, c21)
            let a3 = Vector128.Create(NativePtr.get pa 3)
            c30 <- Vector128.FusedMultiplyAdd(a3, b0, c30)
            c31 <- Vector128.FusedMultiplyAdd(a3, b1, c31)
            let a4 = Vector128.Create(NativePtr.get pa 4)
            c40 <- Vector128.FusedMultiplyAdd(a4, b0, c40)
            c41 <- Vector128.FusedMultiplyAdd(a4, b1, c41)
            let a5 = Vector128.Create(NativePtr.get pa 5)
            c50 <- Vector128.FusedMultiplyAdd(a5, b0, c50)
            c51 <- Vector128.FusedMultiplyAdd(a5, b1, c51)
            pa <- NativePtr.add pa 6
            pb <- NativePtr.add pb ldb
        let row r = NativePtr.add c (r * ldc)
        let source r = NativePtr.add s (r * lds)
        add128 (source 0) (row 0) c00; add128 (NativePtr.add (source 0) 4) (NativePtr.add (row 0) 4) c01
        add128 (source 1) (row 1) c10; add128 (NativePtr.add (source 1) 4) (NativePtr.add (row 1) 4) c11
        add128 (source 2) (row 2) c20; add128 (NativePtr.add (source 2) 4) (NativePtr.add (row 2) 4) c21
        add128 (source 3) (row 3) c30; add128 (NativePtr.add (source 3) 4) (NativePtr.add (row 3) 4) c31
        add128 (source 4) (row 4) c40; add128 (NativePtr.add (source 4) 4) (NativePtr.add (row 4) 4) c41
        add128 (source 5) (row 5) c50; add128 (NativePtr.add (source 5) 4) (NativePtr.add (row 5) 4) c51

    let private float64x128 (depth: int) (a: nativeptr<float>) (b: nativeptr<float>) (ldb: int) (s: nativeptr<float>) (lds: int) (c: nativeptr<float>) (ldc: int) =
        prefetchTile s lds 32
        let mutable c00 = Vector128<float>.Zero
        let mutable c01 = Vector128<float>.Zero
        let mutable c10 = Vector128<float>.Zero
        let mutable c11 = Vector128<float>.Zero
        let mutable c20 = Vector128<float>.Zero
        let mutable c21 = Vector128<float>.Zero
        let mutable c30 = Vector128<float>.Zero
        let mutable c31 = Vector128<float>.Zero
        let mutable c40 = Vector128<float>.Zero
        let mutable c41 = Vector128<float>.Zero
        let mutable c50 = Vector128<float>.Zero
        let mutable c51 = Vector128<float>.Zero
        let mutable pa = a
        let mutable pb = b
        for _ in 1 .. depth do
            let b0 = Vector128.Load pb
            let b1 = Vector128.Load(NativePtr.add pb 2)
            let a0 = Vector128.Create(NativePtr.get pa 0)
            c00 <- Vector128.FusedMultiplyAdd(a0, b0, c00)
            c01 <- Vector128.FusedMultiplyAdd(a0, b1, c01)
            let a1 = Vector128.Create(NativePtr.get pa 1)
            c10 <- Vector128.FusedMultiplyAdd(a1, b0, c10)
            c11 <- Vector128.FusedMultiplyAdd(a1, b1, c11)
            let a2 = Vector128.Create(NativePtr.get pa 2)
            c20 <- Vector128.FusedMultiplyAdd(a2, b0, c20)
            c21 <- Vector128.FusedMultiplyAdd(a2, b1, c21)
            let a3 = Vector128.Create(NativePtr.get pa 3)
            c30 <- Vector128.FusedMultiplyAdd(a3, b0, c30)
            c31 <- Vector128.FusedMultiplyAdd(a3, b1, c31)
            let a4 = Vector128.Create(NativePtr.get pa 4)
            c40 <- Vector128.FusedMultiplyAdd(a4, b0, c40)
            c41 <- Vector128.FusedMultiplyAdd(a4, b1, c41)
            let a5 = Vector128.Create(NativePtr.get pa 5)
            c50 <- Vector128.FusedMultiplyAdd(a5, b0, c50)
            c51 <- Vector128.FusedMultiplyAdd(a5, b1, c51)
            pa <- NativePtr.add pa 6
            pb <- NativePtr.add pb ldb
        let row r = NativePtr.add c (r * ldc)
        let source r = NativePtr.add s (r * lds)
        add128 (source 0) (row 0) c00; add128 (NativePtr.add (source 0) 2) (NativePtr.add (row 0) 2) c01
        add128 (source 1) (row 1) c10; add128 (NativePtr.add (source 1) 2) (NativePtr.add (row 1) 2) c11
        add128 (source 2) (row 2) c20; add128 (NativePtr.add (source 2) 2) (NativePtr.add (row 2) 2) c21
        add128 (source 3) (row 3) c30; add128 (NativePtr.add (source 3) 2) (NativePtr.add (row 3) 2) c31
        add128 (source 4) (row 4) c40; add128 (NativePtr.add (source 4) 2) (NativePtr.add (row 4) 2) c41
        add128 (source 5) (row 5) c50; add128 (NativePtr.add (source 5) 2) (NativePtr.add (row 5) 2) c51

    let private makeFloat32Kernel (width: int) : MicroKernel<float32> =
        match width with
        | 512 -> { new MicroKernel<float32>(Rows, 32, "float32 6x32 Vector512") with
                     member _.Run(depth, a, b, ldb, s, lds, c, ldc) = float32x512 depth a b ldb s lds c ldc }
        | 256 -> { new MicroKernel<float32>(Rows, 16, "float32 6x16 Vector256") with
                     member _.Run(depth, a, b, ldb, s, lds, c, ldc) = float32x256 depth a b ldb s lds c ldc }
        | 128 -> { new MicroKernel<float32>(Rows, 8, "float32 6x8 Vector128") with
                     member _.Run(depth, a, b, ldb, s, lds, c, ldc) = float32x128 depth a b ldb s lds c ldc }
        | _ -> invalidArg "width" (sprintf "no %d-bit kernel" width)

    let private makeFloat64Kernel (width: int) : MicroKernel<float> =
        match width with
        | 512 -> { new MicroKernel<float>(Rows, 16, "float64 6x16 Vector512") with
                     member _.Run(depth, a, b, ldb, s, lds, c, ldc) = float64x512 depth a b ldb s lds c ldc }
        | 256 -> { new MicroKernel<float>(Rows, 8, "float64 6x8 Vector256") with
                     member _.Run(depth, a, b, ldb, s, lds, c, ldc) = float64x256 depth a b ldb s lds c ldc }
        | 128 -> { new MicroKernel<float>(Rows, 4, "float64 6x4 Vector128") with
                     member _.Run(depth, a, b, ldb, s, lds, c, ldc) = float64x128 depth a b ldb s lds c ldc }
        | _ -> invalidArg "width" (sprintf "no %d-bit kernel" width)

    // Made once: an object expression is a fresh object at every evaluation, and a product
    // looks its kernel up on every call.
    let private float32Kernels = [| makeFloat32Kernel 128; makeFloat32Kernel 256; makeFloat32Kernel 512 |]
    let private float64Kernels = [| makeFloat64Kernel 128; makeFloat64Kernel 256; makeFloat64Kernel 512 |]

    /// The float32 kernel for a vector width in bits (512, 256 or 128).
    let float32Kernel (width: int) : MicroKernel<float32> =
        match width with
        | 512 -> float32Kernels.[2]
        | 256 -> float32Kernels.[1]
        | 128 -> float32Kernels.[0]
        | _ -> invalidArg "width" (sprintf "no %d-bit kernel" width)

    /// The float64 kernel for a vector width in bits (512, 256 or 128).
    let float64Kernel (width: int) : MicroKernel<float> =
        match width with
        | 512 -> float64Kernels.[2]
        | 256 -> float64Kernels.[1]
        | 128 -> float64Kernels.[0]
        | _ -> invalidArg "width" (sprintf "no %d-bit kernel" width)

    /// The widest width this CPU accelerates: 512, 256 or 128.
    let bestWidth =
        if Vector512.IsHardwareAccelerated then 512
        elif Vector256.IsHardwareAccelerated then 256
        else 128
