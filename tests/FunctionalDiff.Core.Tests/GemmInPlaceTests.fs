/// Products whose row-major B is read in place by the micro-kernels instead of packed (A of at most
/// `InPlaceTiles` row tiles: a convolution's few output channels against its im2col columns).
/// Each is checked against the float64 reference loop of GemmTests, and for the same bits as the
/// same packedProduct with B packed (the same sums in the same order), with an addend too, at every
/// kernel width, with B a column window of a wider matrix (rows further apart than its width)
/// and with blocks small enough to give several depth slices, column blocks and a narrow last panel.
module FunctionalDiff.Core.Tests.GemmInPlaceTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GemmTests
open FunctionalDiff.Core.Tests.GemmNarrowTests


/// (m, n, k): a convolution's 16 channels by 3×3×3 columns, two rows, an edge row tile, a width
/// that leaves a narrow last panel, and a depth over two default slices.
let private sizes = [ 16, 1024, 27; 2, 100, 9; 7, 37, 33; 24, 70, 11; 13, 33, 600 ]

[<Tests>]
let tests =
    testList "Gemm B read in place" [
        for width in [ 512; 256; 128 ] do
            for dtype in dtypes do
                for m, n, k in sizes do
                    test (sprintf "Vector%d %O %dx%dx%d" width dtype m n k) {
                        let a = randomTensor dtype 31 [| m; k |]
                        // B: columns 3 .. 3 + n of a k × (n + 5) matrix, so its rows are n + 5 apart
                        let wide = randomTensor dtype 32 [| k; n + 5 |]
                        let b = wide.View([| k; n |], [| n + 5; 1 |], 3)
                        let addend = randomValues 33 (m * n) |> Array.map (fun x -> float (float32 x))
                        let small = { smallBlocks width with ParallelWork = System.Int32.MaxValue }
                        for settings, blocks in [ { GemmSettings.Default with Width = width; TinyWork = 0 }, "default blocks"; small, "small blocks" ] do
                            Expect.isGreaterThanOrEqual settings.InPlaceTiles ((m + GemmKernels.Rows - 1) / GemmKernels.Rows) "A is thin enough to read B in place"
                            let packed = { settings with InPlaceTiles = 0 }
                            for sum in [ null; addend ] do
                                let label = sprintf "%s%s" blocks (if isNull sum then "" else " + addend")
                                let result = packedProduct settings a b sum
                                expectClose dtype (k + 1) result (referenceWith a b sum) label
                                Expect.equal result (packedProduct packed a b sum) (label + ": the same bits as with B packed")
                    }
    ]
