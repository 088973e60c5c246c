/// Products with a narrow C (a classifier's few columns): with A stored transposed, C is computed
/// as its transpose and copied into place; with a row-major A, the kernel of half the widest width
/// takes it when it fills twice the share of its lanes. Each is checked against the float64
/// reference of GemmTests, and for the same bits as the path it replaces (the same sums in the
/// same order), with an addend too.
module FunctionalDiff.Core.Tests.GemmNarrowTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GemmTests

/// (m, n, k) with n well below a kernel's columns and m many tiles; one above the threshold that
/// splits the work across parts, and a depth over two slices.
let private narrowSizes = [ 256, 10, 512; 512, 10, 256; 97, 3, 40; 130, 7, 700; 600, 10, 400 ]

/// C = A·B (+ addend) as `settings` computes it, through the driver's packed entry point.
let internal packedProduct (settings: GemmSettings) (a: Tensor) (b: Tensor) (addend: float[]) =
    let m, k, n = a.Dims.[0], a.Dims.[1], b.Dims.[1]
    match a.DType with
    | DType.Float32 ->
        let c = Array.zeroCreate<float32> (m * n)
        let sum = if isNull addend then null else Array.map float32 addend
        GemmDriver.multiplyPacked32 settings m n k a.Data32 a.Offset a.Strides.[0] a.Strides.[1] b.Data32 b.Offset b.Strides.[0] b.Strides.[1]
                                    null sum 0 n c 0 n
        Array.map float c
    | DType.Float64 ->
        let c = Array.zeroCreate<float> (m * n)
        GemmDriver.multiplyPacked64 settings m n k a.Data64 a.Offset a.Strides.[0] a.Strides.[1] b.Data64 b.Offset b.Strides.[0] b.Strides.[1]
                                    null addend 0 n c 0 n
        c

/// The reference of A·B + addend (the addend's magnitude joins the bound).
let internal referenceWith (a: Tensor) (b: Tensor) (addend: float[]) =
    let m, k, n = a.Dims.[0], a.Dims.[1], b.Dims.[1]
    let c, scale = reference (a.ToDoubleArray()) (b.ToDoubleArray()) m n k
    if isNull addend then c, scale
    else Array.map2 (+) c addend, Array.map2 (fun s (x: float) -> s + abs x) scale addend

[<Tests>]
let tests =
    testList "Gemm narrow results" [
        for dtype in dtypes do
            for m, n, k in narrowSizes do
                test (sprintf "%O %dx%dx%d" dtype m n k) {
                    let aT = transposed (randomTensor dtype 21 [| k; m |])
                    let a = randomTensor dtype 22 [| m; k |]
                    let b = randomTensor dtype 23 [| k; n |]
                    let addend = randomValues 24 (m * n) |> Array.map (fun x -> float (float32 x))
                    let wide = { GemmSettings.Default with TransposeNarrow = false }
                    for left, name in [ aT, "Aᵀ·B"; a, "A·B" ] do
                        for sum in [ null; addend ] do
                            let label = sprintf "%s%s" name (if isNull sum then "" else " + addend")
                            let result = packedProduct GemmSettings.Default left b sum
                            expectClose dtype (k + 1) result (referenceWith left b sum) label
                            Expect.equal result (packedProduct wide left b sum) (label + ": the same bits as C computed directly")
                    // the half-width kernel against the widest, chosen by hand (the packed path:
                    // a row-major A of few columns otherwise takes the inner-product path)
                    if GemmSettings.Default.Width = 512 then
                        let packed = { GemmSettings.Default with NarrowRowBytes = 0 }
                        let half = { packed with Width = 256 }
                        let result = packedProduct packed a b null
                        expectClose dtype k result (referenceWith a b null) "A·B packed"
                        Expect.equal result (packedProduct half a b null) "A·B: the same bits as the 256-bit kernel"
                }
        // A row-major A against a C of rows at most NarrowRowBytes long: one dot product per
        // element, B transposed into scratch unless it runs along the depth already; odd sizes, the
        // widest such C, a depth with a tail below one vector, B row-major, transposed and strided,
        // an addend, one and two parts.
        for dtype in dtypes do
            let widest = GemmSettings.Default.NarrowRowBytes / (if dtype = DType.Float32 then 4 else 8)
            for m, n, k in [ 256, 10, 512; 97, 3, 40; 130, widest, 700; 33, widest - 1, 35; 5, 2, 33; 600, 10, 400 ] do
                test (sprintf "inner-product path %O %dx%dx%d" dtype m n k) {
                    let a = randomTensor dtype 31 [| m; k |]
                    let layouts =
                        [ randomTensor dtype 32 [| k; n |], "B"
                          transposed (randomTensor dtype 33 [| n; k |]), "Bᵀ stored"
                          (let wide = randomTensor dtype 34 [| k; 2 * n + 1 |] in wide.View([| k; n |], [| 2 * n + 1; 2 |], 1)), "B strided" ]
                    let addend = randomValues 35 (m * n) |> Array.map (fun x -> float (float32 x))
                    for b, name in layouts do
                        Expect.isTrue (GemmDriver.takesInnerProduct GemmSettings.Default (if dtype = DType.Float32 then 4 else 8) m n k 1 b.Strides.[0] || not System.Runtime.Intrinsics.X86.Fma.IsSupported)
                                      (name + ": takes the inner-product path")
                        for threads in [ 1; 2 ] do
                            let settings = { GemmSettings.Default with Threads = threads; ParallelWork = 0 }
                            for sum in [ null; addend ] do
                                let label = sprintf "%s, %d parts%s" name threads (if isNull sum then "" else " + addend")
                                expectClose dtype (k + 1) (packedProduct settings a b sum) (referenceWith a b sum) label
                }
        test "rows longer than NarrowRowBytes, or A not contiguous along the depth, stay off the inner-product path" {
            let settings = GemmSettings.Default
            for bytes in [ 4; 8 ] do
                let wider = settings.NarrowRowBytes / bytes + 1
                Expect.isTrue (GemmDriver.takesInnerProduct settings bytes 256 (wider - 1) 512 1 (wider - 1) || not System.Runtime.Intrinsics.X86.Fma.IsSupported) (sprintf "%d-byte elements: %d columns" bytes (wider - 1))
                Expect.isFalse (GemmDriver.takesInnerProduct settings bytes 256 wider 512 1 wider) (sprintf "%d-byte elements: %d columns" bytes wider)
                Expect.isFalse (GemmDriver.takesInnerProduct settings bytes 512 10 256 512 10) "A stored transposed"
                Expect.isFalse (GemmDriver.takesInnerProduct { settings with NarrowRowBytes = 0 } bytes 256 10 512 1 10) "turned off"
                Expect.isFalse (GemmDriver.takesInnerProduct settings bytes 256 10 (System.Int32.MaxValue / 40) 1 10) "a Bᵀ beyond one scratch block"
        }
        test "small blocks and two parts reach the transposed product's edges" {
            for dtype in dtypes do
                for m, n, k in [ 50, 3, 33; 97, 5, 11 ] do
                    let settings = { smallBlocks GemmSettings.Default.Width with TransposeNarrow = true }
                    let aT = transposed (randomTensor dtype 25 [| k; m |])
                    let b = randomTensor dtype 26 [| k; n |]
                    let result = packedProduct settings aT b null
                    expectClose dtype k result (referenceWith aT b null) (sprintf "%O %dx%dx%d" dtype m n k)
                    Expect.equal result (packedProduct { settings with TransposeNarrow = false } aT b null) "the same bits as C computed directly"
        }
    ]
