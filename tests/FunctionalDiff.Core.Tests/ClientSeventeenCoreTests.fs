/// The F# side of what the seventeenth porting client added to the core: torch's Tensor.unfold(dimension, size, step)
/// as Structure.unfold, held to torch's definition written here over doubles and to finite differences of the first
/// and second order, for windows that tile the axis, overlap and leave gaps; and torch.searchsorted as
/// Indexing.searchsorted, held to a linear scan.
module FunctionalDiff.Core.Tests.ClientSeventeenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

/// torch's unfold over doubles for a [rows, n] input along axis 1: out[r, w, j] = x[r, w·step + j].
let private reference (x: float[]) rows n size step =
    let windows = (n - size) / step + 1
    Array.init (rows * windows * size) (fun k ->
        let r, w, j = k / (windows * size), k / size % windows, k % size
        x.[r * n + w * step + j])

[<Tests>]
let tests =
    testList "client seventeen (Structure.unfold, Indexing.searchsorted)" [
        for size, step in [ 2, 2; 3, 1; 2, 3; 4, 2 ] do
            test (sprintf "unfold 1 %d %d of [2, 7] is torch's windows, at first and second order" size step) {
                let data = Array.init 14 (fun k -> sin (0.8 * float k + 0.3))
                let x = Expr.constant (tensor [| 2; 7 |] data)
                let windows = (7 - size) / step + 1
                let y = Structure.unfold 1 size step x
                Expect.equal y.Dims [| 2; windows; size |] "shape"
                close 0.0 (reference data 2 7 size step) (values y) "values"
                let c = Array.init (2 * windows * size) (fun k -> cos (0.4 * float k))
                let f (v: Expr) = Expr.sum (Expr.sin (Structure.unfold -1 size step v) * Expr.constant (tensor [| 2; windows; size |] c))
                let loss (v: float[]) = Array.fold2 (fun acc a b -> acc + sin a * b) 0.0 (reference v 2 7 size step) c
                let h = 1e-6
                let numeric =
                    Array.init data.Length (fun i ->
                        let moved sign = data |> Array.mapi (fun j v -> if j = i then v + sign * h else v)
                        (loss (moved 1.0) - loss (moved -1.0)) / (2.0 * h))
                close 1e-8 numeric (values (Diff.grad f x)) "gradient"
                let result = GradCheck.check { GradCheckOptions.Default with Order = 2 } f (tensor [| 2; 7 |] data)
                Expect.isTrue result.Passed result.Message
            }

        test "searchsorted is the count of a row's entries below each value (or at or below it)" {
            let rows = [| 0.0; 0.5; 0.5; 1.0; -1.0; 0.0; 2.0; 2.0 |]
            let queries = [| 0.5; -2.0; 1.0; 2.0; 0.0; 3.0 |]
            for right in [ false; true ] do
                let expected =
                    Array.init 6 (fun k ->
                        let r = k / 3
                        rows.[r * 4 .. r * 4 + 3] |> Array.filter (fun e -> if right then e <= queries.[k] else e < queries.[k]) |> Array.length |> float)
                let got = Indexing.searchsorted right (Expr.constant (tensor [| 2; 4 |] rows)) (Expr.constant (tensor [| 2; 3 |] queries))
                close 0.0 expected (values got) (sprintf "right = %b" right)
        }

        test "searchsorted of 150,000 values in a row of 100,000 entries is a binary search's position (sizes whose M·K comparisons do not fit)" {
            let random = Random(17)
            // ties (entries on a grid of 1/64), both zeros, and values beyond both ends
            let entries = Array.init 100_000 (fun _ -> float (random.Next(-4000, 4000)) / 64.0) |> Array.sort
            // one of the zeros negative: equal to the others, so the row stays sorted
            entries.[Array.IndexOf(entries, 0.0)] <- -0.0
            let queries =
                Array.init 150_000 (fun i ->
                    match i % 5 with
                    | 0 -> float (random.Next(-4100, 4100)) / 64.0
                    | 1 -> 0.0
                    | _ -> random.NextDouble() * 140.0 - 70.0)
            // the first index whose entry is ≥ v (left) or > v (right), by bisection
            let position (right: bool) (v: float) =
                let mutable low, high = 0, entries.Length
                while low < high do
                    let middle = (low + high) / 2
                    if (if right then entries.[middle] <= v else entries.[middle] < v) then low <- middle + 1 else high <- middle
                float low
            for right in [ false; true ] do
                let got = values (Indexing.searchsorted right (Expr.constant (tensor [| entries.Length |] entries)) (Expr.constant (tensor [| 3; 50_000 |] queries)))
                for i in 0 .. queries.Length - 1 do
                    if got.[i] <> position right queries.[i] then
                        failtestf "right = %b, value %g: %g, bisection %g" right queries.[i] got.[i] (position right queries.[i])
        }

        test "searchsorted counts without a sorted row, both ways (short rows compared, long rows sorted): NaN values count nothing, NaN entries are below nothing" {
            let specials = [| nan; 3.0; -0.0; 0.0; infinity; -infinity; 1e30; -1e30 |]
            let random = Random(23)
            // two rows of 4 (every value compared with every entry) and two rows of 3,000 against 2,500 values (sorted
            // together: 7.5 million pairs a row), unsorted, with ties, both zeros, infinities and NaN in both
            for m, k in [ 4, 4; 3000, 2500 ] do
                let draw count = Array.init (2 * count) (fun i -> if i % 7 = 0 then specials.[random.Next specials.Length] else float (random.Next(-50, 50)) / 8.0)
                let rows, queries = draw m, draw k
                for right in [ false; true ] do
                    let expected =
                        Array.init queries.Length (fun q ->
                            let r = q / k
                            let mutable count = 0
                            for j in r * m .. r * m + m - 1 do
                                if (if right then rows.[j] <= queries.[q] else rows.[j] < queries.[q]) then count <- count + 1
                            float count)
                    for dtype in [ DType.Float64; DType.Float32 ] do
                        let cast (t: Tensor) = Expr.cast dtype (Expr.constant t)
                        let got = Indexing.searchsorted right (cast (tensor [| 2; m |] rows)) (cast (tensor [| 2; k |] queries))
                        Expect.equal got.DType dtype "the values' dtype"
                        close 0.0 expected (values (Expr.cast DType.Float64 got)) (sprintf "rows of %d, right = %b, %A" m right dtype)
        }

        test "unfold's errors name it and the shapes" {
            let x = Expr.constant (tensor [| 2; 6 |] (Array.zeroCreate 12))
            let message (build: unit -> Expr) =
                try
                    build () |> ignore
                    failtest "no ShapeException was raised"
                with :? ShapeException as e -> e.Message
            Expect.stringStarts (message (fun () -> Structure.unfold 1 7 1 x)) "Unfold: size 7 must be between 0 and the length 6 of axis 1 (input [2,6])" "size"
            Expect.stringStarts (message (fun () -> Structure.unfold 0 1 0 x)) "Unfold: step 0 must be positive" "step"
        }
    ]
