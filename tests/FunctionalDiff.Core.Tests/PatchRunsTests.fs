/// Unfold and fold move each window row as one run of neighbouring pixels, in whole vectors of
/// the widest accelerated width, then narrower ones, then single elements. These cases give runs
/// of every length from 0 to 41 in both dtypes (16 float32 lanes, 8 float64 lanes in a 512-bit
/// vector) and check each kernel against its definition, written here as plain loops.
module FunctionalDiff.Core.Tests.PatchRunsTests

open System
open Expecto
open FunctionalDiff.Core

/// (kernel 3 wide, padding 1, stride and dilation 1): window column j of output column q reads
/// input column q + j - 1, so the runs of a row are width - 1 and width long.
let private kernel, stride, padding, dilation = [| 2; 3 |], [| 1; 1 |], [| 0; 1 |], [| 1; 1 |]

/// The pairs (column entry, input entry) of a 2×3 window with padding 1 along the width over x
/// [planes, 3, width], by the definition: column entry (plane, i·3 + j, p·width + q) reads
/// x[plane, p + i, q + j - 1]; entries that fall in the padding are left out.
let private windowPairs (planes: int) (width: int) =
    let h, ho = 3, 2
    [| for plane in 0 .. planes - 1 do
         for i in 0 .. 1 do
             for j in 0 .. 2 do
                 for p in 0 .. ho - 1 do
                     for q in 0 .. width - 1 do
                         let column = q + j - 1
                         if column >= 0 && column < width then
                             yield ((plane * 6 + i * 3 + j) * ho + p) * width + q, (plane * h + p + i) * width + column |]

/// Unfold by the definition: each column entry is the input entry it reads, 0 in the padding.
let private referenceUnfold (x: float[]) (planes: int) (width: int) =
    let out = Array.zeroCreate (planes * 6 * 2 * width)
    for entry, source in windowPairs planes width do
        out.[entry] <- x.[source]
    out

/// Fold by the definition: each column entry added back where unfold read it.
let private referenceFold (columns: float[]) (planes: int) (width: int) =
    let out = Array.zeroCreate (planes * 3 * width)
    for entry, target in windowPairs planes width do
        out.[target] <- out.[target] + columns.[entry]
    out

[<Tests>]
let tests =
    testList "Patch runs of every length" [
        for dtype in [ DType.Float32; DType.Float64 ] do
            test (sprintf "%O widths 1 to 41" dtype) {
                for width in 1 .. 41 do
                    let planes = 2
                    // small integers: exact in both dtypes and in any order of addition
                    let x = Array.init (planes * 3 * width) (fun k -> float (k % 23) - 11.0)
                    let columns = Array.init (planes * 6 * 2 * width) (fun k -> float (k % 19) - 9.0)
                    let unfolded = Patches.unfold kernel stride padding dilation (Tensor.FromArray(x, [| 1; planes; 3; width |]).Cast dtype)
                    Expect.sequenceEqual (unfolded.ToDoubleArray()) (referenceUnfold x planes width) (sprintf "unfold, width %d" width)
                    let folded = Patches.fold [| 3; width |] kernel stride padding dilation (Tensor.FromArray(columns, [| 1; planes * 6; 2 * width |]).Cast dtype)
                    Expect.sequenceEqual (folded.ToDoubleArray()) (referenceFold columns planes width) (sprintf "fold, width %d" width)
            }
    ]
