/// The blocked LU (LinalgKernels.lu, panels of columns with the trailing rows updated by products)
/// against the unblocked Gaussian elimination with partial pivoting written here: the same pivots,
/// the same count of swaps, the same zero-pivot convention (a zero pivot skips its step, so the
/// matrix is reported singular and the later steps still run), and factors within the rounding of
/// the other order of the same sums. Sizes around the panel width and well past it.
module FunctionalDiff.Core.Tests.LinalgLuBlockedTests

open System
open Expecto
open FunctionalDiff.Core

/// Unblocked elimination in float64: factors in place, pivots, swaps, and whether a pivot was 0.
let private reference (a: float[]) (n: int) =
    let a = Array.copy a
    let pivots = Array.zeroCreate<int> n
    let mutable swaps, singular = 0, false
    for j in 0 .. n - 1 do
        let mutable best = j
        for i in j + 1 .. n - 1 do
            if abs a.[i * n + j] > abs a.[best * n + j] then best <- i
        pivots.[j] <- best
        if best <> j then
            swaps <- swaps + 1
            for c in 0 .. n - 1 do
                let t = a.[j * n + c] in a.[j * n + c] <- a.[best * n + c]; a.[best * n + c] <- t
        let pivot = a.[j * n + j]
        if pivot = 0.0 then singular <- true
        else
            for i in j + 1 .. n - 1 do
                let f = a.[i * n + j] / pivot
                a.[i * n + j] <- f
                for c in j + 1 .. n - 1 do a.[i * n + c] <- a.[i * n + c] - f * a.[j * n + c]
    a, pivots, swaps, singular

/// A random matrix with entries in [-1, 1], some columns zeroed (an exactly zero pivot at that step:
/// a zero column stays zero under every update), and NaN at some entries, each row holding one
/// zero left of it, so it is never a pivot row before that column and keeps its NaN there.
let private matrix (seed: int) (n: int) (zeroColumns: int list) (nans: (int * int) list) =
    let random = Random(seed)
    Array.init (n * n) (fun p ->
        if List.contains (p / n, p % n) nans then nan
        elif nans |> List.exists (fun (r, c) -> p / n = r && p % n < c) then 0.0
        elif List.contains (p % n) zeroColumns then 0.0
        else random.NextDouble() * 2.0 - 1.0)

let private check (n: int) (zeroColumns: int list) (nans: (int * int) list) (dtype: DType) =
    let values = matrix (n + 7 * zeroColumns.Length) n zeroColumns nans
    // the float32 case starts from the float32 values, so both sides factor the same matrix
    let values = if dtype = DType.Float32 then values |> Array.map (fun v -> float (float32 v)) else values
    let expected, expectedPivots, expectedSwaps, expectedSingular = reference values n
    let pivots = Array.zeroCreate<int> n
    let actual, swaps, singular =
        match dtype with
        | DType.Float64 ->
            let a = Array.copy values
            let struct (swaps, singular) = LinalgKernels.lu a 0 n pivots
            a, swaps, singular
        | DType.Float32 ->
            let a = values |> Array.map float32
            let struct (swaps, singular) = LinalgKernels.lu a 0 n pivots
            a |> Array.map float, swaps, singular
    let name = sprintf "n = %d, zero columns %A, NaN at %A, %A" n zeroColumns nans dtype
    Expect.equal pivots expectedPivots (name + ": pivots")
    Expect.equal swaps expectedSwaps (name + ": swaps")
    Expect.equal singular expectedSingular (name + ": singular")
    // each factor is a sum of up to n products of entries below 1 in magnitude (growth stays small
    // for these matrices): the two orders of summation differ by a few units of that sum's rounding
    let unit = if dtype = DType.Float32 then 6e-8 else 1.1e-16
    let scale = expected |> Array.map abs |> Array.max
    let scale = if Double.IsNaN scale then expected |> Array.filter (fun v -> not (Double.IsNaN v)) |> Array.map abs |> Array.max else scale
    for p in 0 .. n * n - 1 do
        let ok =
            if Double.IsNaN expected.[p] then Double.IsNaN actual.[p]
            else abs (actual.[p] - expected.[p]) <= 4.0 * float n * unit * (scale + 1.0)
        if not ok then
            failtestf "%s: factor (%d, %d) is %.17g, the unblocked elimination's %.17g" name (p / n) (p % n) actual.[p] expected.[p]

[<Tests>]
let tests =
    testList "LinalgLuBlocked" [
        for dtype in [ DType.Float64; DType.Float32 ] do
            test (sprintf "the blocked LU has the unblocked elimination's pivots and factors, around and past the panel width (%A)" dtype) {
                for n in [ 1; 2; 31; 32; 33; 64; 65; 100; 200 ] do
                    check n [] [] dtype
            }
            test (sprintf "a zero pivot inside a later panel skips its step and reports the matrix singular, as the unblocked loop (%A)" dtype) {
                check 100 [ 40 ] [] dtype
                check 100 [ 3; 70 ] [] dtype
                check 33 [ 32 ] [] dtype
                // a NaN below a zero pivot: the skipped step leaves it in its column, and no later row may see it
                check 100 [ 40 ] [ (90, 40) ] dtype
            }
    ]
