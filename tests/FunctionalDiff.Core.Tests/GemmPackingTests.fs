module FunctionalDiff.Core.Tests.GemmPackingTests

#nowarn "9" // the packing routines take native pointers into pinned test arrays

open Expecto
open Microsoft.FSharp.NativeInterop
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GemmTests

// Packing is a copy, so a packed B must equal, element for element, the layout written out by a
// loop here: panel q holds B(p, q·width + j) at q·width·depth + p·width + j, zero past the last
// column. A transposed B (rows 1 apart, columns `columnStride` apart) takes a register transpose
// in whole groups of columns and a plain loop for the rest, so the cases cover depths and column
// counts that are not multiples of the group (8 float32, 4 float64), padded column strides, and
// a B strided along both axes, which takes the plain loop throughout. A row-major B is copied a
// panel row at a time, so its cases cover panel widths, padded row strides, and last panels that
// are only partly filled (zeros past the last column).

/// Packs B(p, j) = source[start + p·rowStride + j·columnStride] and compares with the reference.
let private checkPacking (source: 'T[]) (start: int) (rowStride: int) (columnStride: int) (depth: int) (columns: int) (width: int) =
    let panels = (columns + width - 1) / width
    let expected = Array.zeroCreate<'T> (panels * width * depth)
    for q in 0 .. panels - 1 do
        for p in 0 .. depth - 1 do
            for j in 0 .. width - 1 do
                let column = q * width + j
                if column < columns then
                    expected.[q * width * depth + p * width + j] <- source.[start + p * rowStride + column * columnStride]
    // filled with a marker first, so that padding left unwritten shows up
    let actual = Array.create expected.Length source.[start]
    use b = fixed source
    use target = fixed actual
    GemmPacking.packB (NativePtr.add b start) rowStride columnStride depth columns width target
    Expect.sequenceEqual actual expected (sprintf "depth %d, columns %d, width %d, strides %d/%d" depth columns width rowStride columnStride)

let private depths = [ 1; 3; 4; 7; 8; 9; 17; 33 ]
let private columnCounts = [ 1; 3; 4; 5; 8; 13; 16; 31; 33; 70 ]

[<Tests>]
let tests =
    testList "Gemm packing of B" [
        for width in [ 4; 8; 16; 32 ] do
            test (sprintf "transposed B, float32 and float64, panels of %d columns" width) {
                for depth in depths do
                    for columns in columnCounts do
                        for padding in [ 0; 3 ] do
                            let columnStride = depth + padding
                            let values = randomValues (depth * 100 + columns) (2 + columns * columnStride)
                            // starting one element in, past a value that must not be read
                            checkPacking values 1 1 columnStride depth columns width
                            checkPacking (Array.map float32 values) 1 1 columnStride depth columns width
            }
        for width in [ 4; 6; 8; 16; 32 ] do
            test (sprintf "row-major B, float32 and float64, panels of %d columns" width) {
                for depth in depths do
                    for columns in columnCounts do
                        for padding in [ 0; 3 ] do
                            let rowStride = columns + padding
                            let values = randomValues (depth * 100 + columns) (2 + depth * rowStride)
                            checkPacking values 1 rowStride 1 depth columns width
                            checkPacking (Array.map float32 values) 1 rowStride 1 depth columns width
            }
        test "B strided along both axes, float32 and float64" {
            for depth in depths do
                for columns in columnCounts do
                    let rowStride, columnStride = 2, 2 * depth + 1
                    let values = randomValues (depth + columns) (columns * columnStride)
                    checkPacking values 0 rowStride columnStride depth columns 16
                    checkPacking (Array.map float32 values) 0 rowStride columnStride depth columns 16
        }
        test "A·Bᵀ with a padded leading dimension of B matches the reference, both dtypes" {
            for dtype in dtypes do
                for m, n, k in [ 7, 13, 9; 33, 70, 17; 100, 41, 100 ] do
                    // Bᵀ is the first k columns of an n × (k + 5) matrix: columns of B are k + 5 apart
                    let stored = randomTensor dtype 40 [| n; k + 5 |]
                    let b = stored.View([| k; n |], [| 1; k + 5 |], 0)
                    checkMatrices None (randomTensor dtype 41 [| m; k |]) b (sprintf "%dx%dx%d" m n k)
                    // the inner-product path reads such a B directly; turned off, the product packs it
                    let packed = { GemmSettings.Default with InnerProductOutputs = 0; NarrowRowBytes = 0 }
                    checkMatrices (Some packed) (randomTensor dtype 41 [| m; k |]) b (sprintf "packed %dx%dx%d" m n k)
                    checkMatrices (Some { smallBlocks 512 with InnerProductOutputs = 0 }) (randomTensor dtype 41 [| m; k |]) b (sprintf "small blocks %dx%dx%d" m n k)
        }
    ]

/// Packs rows [0, rows) of A(i, p) = source[start + i·rowStride + p·columnStride] into six-row
/// panels and compares with the layout written out by a loop: panel q holds A(6q + r, p) at
/// 6q·depth + 6p + r, zero past the last row.
let private checkPackingA (source: 'T[]) (start: int) (rowStride: int) (columnStride: int) (rows: int) (depth: int) =
    let height = 6
    let panels = (rows + height - 1) / height
    let expected = Array.zeroCreate<'T> (panels * height * depth)
    for q in 0 .. panels - 1 do
        for p in 0 .. depth - 1 do
            for r in 0 .. height - 1 do
                let row = q * height + r
                if row < rows then
                    expected.[q * height * depth + p * height + r] <- source.[start + row * rowStride + p * columnStride]
    let actual = Array.create expected.Length source.[start]
    use a = fixed source
    use target = fixed actual
    GemmPacking.packA (NativePtr.add a start) rowStride columnStride rows depth height target
    Expect.sequenceEqual actual expected (sprintf "rows %d, depth %d, strides %d/%d" rows depth rowStride columnStride)

[<Tests>]
let packingOfA =
    // A row-major A's whole six-row panels go through a register transpose, four (float64) or
    // eight (float32) depths at a time, and the depths left over one by one: the depths below
    // cover none, one and several whole groups with and without a remainder.
    test "Gemm packing of A: row-major and transposed A, float32 and float64, against the layout by a loop" {
        for rows in [ 1; 5; 6; 7; 12; 13; 20 ] do
            for depth in [ 1; 3; 4; 5; 7; 8; 9; 15; 16; 17; 33 ] do
                for padding in [ 0; 3 ] do
                    let rowStride = depth + padding
                    let values = randomValues (rows * 100 + depth) (2 + rows * rowStride)
                    checkPackingA values 1 rowStride 1 rows depth
                    checkPackingA (Array.map float32 values) 1 rowStride 1 rows depth
                    // the transpose of such a matrix: A's columns contiguous
                    let columnStride = rows + padding
                    let transposed = randomValues (rows * 100 + depth + 1) (2 + depth * columnStride)
                    checkPackingA transposed 1 1 columnStride rows depth
                    checkPackingA (Array.map float32 transposed) 1 1 columnStride rows depth
    }
