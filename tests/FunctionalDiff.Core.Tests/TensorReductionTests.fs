/// Specifications of the reductions and argmax against explicit loops over every input index.
module FunctionalDiff.Core.Tests.TensorReductionTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport

/// The reference reduction: every input element is folded into the output element whose index
/// is the input's with the reduced axes dropped (or zeroed, with keepDims).
let referenceReduce (op: ReduceOp) (axes: int[]) (keepDims: bool) (t: Tensor) =
    let shape = t.Shape
    let axes = axes |> Array.map (fun a -> if a < 0 then a + shape.Length else a)
    let outShape =
        if keepDims then shape |> Array.mapi (fun i d -> if Array.contains i axes then 1 else d)
        else shape |> Array.indexed |> Array.filter (fun (i, _) -> not (Array.contains i axes)) |> Array.map snd
    let outStrides = Shape.contiguousStrides outShape
    let n = Array.fold (*) 1 outShape
    let initial = match op with ReduceOp.Prod -> 1.0 | ReduceOp.Max -> -infinity | ReduceOp.Min -> infinity | _ -> 0.0
    let acc = Array.create n initial
    let count = Array.zeroCreate n
    for index in allIndices shape do
        let outIndex =
            if keepDims then index |> Array.mapi (fun i x -> if Array.contains i axes then 0 else x)
            else index |> Array.indexed |> Array.filter (fun (i, _) -> not (Array.contains i axes)) |> Array.map snd
        let k = Array.fold2 (fun s i st -> s + i * st) 0 outIndex outStrides
        let x = t.[index]
        acc.[k] <-
            match op with
            | ReduceOp.Sum | ReduceOp.Mean -> acc.[k] + x
            | ReduceOp.Prod -> acc.[k] * x
            | ReduceOp.Max -> if Double.IsNaN x || Double.IsNaN acc.[k] then nan else max acc.[k] x
            | ReduceOp.Min -> if Double.IsNaN x || Double.IsNaN acc.[k] then nan else min acc.[k] x
        count.[k] <- count.[k] + 1
    let values = if op = ReduceOp.Mean then Array.map2 (fun s c -> s / float c) acc count else acc
    outShape, values

let reduceOps = [ ReduceOp.Sum; ReduceOp.Mean; ReduceOp.Max; ReduceOp.Min; ReduceOp.Prod ]

/// Axis sets for a rank-3 input: none, each single axis, negative, adjacent and scattered pairs, all.
let axisSets = [ [||]; [| 0 |]; [| 1 |]; [| 2 |]; [| -1 |]; [| 0; 2 |]; [| 0; 1 |]; [| -2; -1 |]; [| 0; 1; 2 |] ]

let tests =
    testList "Reduction" [
        test "every reduction over every axis set matches the loop, on every kind of view" {
            // values in [0.5, 1.5] keep products of 24 elements well scaled
            for op in reduceOps do
                for dtype in dtypes do
                    for axes in axisSets do
                        for keepDims in [ false; true ] do
                            for name, input in variants dtype [| 2; 3; 4 |] (randomValues 31 0.5 1.5 24) do
                                let shape, expected = referenceReduce op axes keepDims input
                                let actual = Reduction.reduce op axes keepDims input
                                Expect.equal actual.Shape shape "shape"
                                // different summation orders: a few ulps of the sum of magnitudes
                                let relative = if dtype = DType.Float64 then 1e-14 else 1e-6
                                expectClose relative 0.0 expected (read actual) (sprintf "%A %A %A %A %s" op dtype axes keepDims name)
        }
        test "zero-size axes give 0 for sum, 1 for product, NaN for mean, and raise for max" {
            for shape, axes in [ [| 0; 3 |], [| 0 |]; [| 3; 0 |], [| 1 |]; [| 2; 0; 2 |], [| 1 |] ] do
                let input = Tensor.zeros DType.Float32 shape
                for op in [ ReduceOp.Sum; ReduceOp.Prod; ReduceOp.Mean ] do
                    let shapeOut, expected = referenceReduce op axes false input
                    let actual = Reduction.reduce op axes false input
                    Expect.equal actual.Shape shapeOut "shape"
                    expectClose 0.0 0.0 expected (read actual) (sprintf "%A %A" op shape)
                expectShapeError [ "ReduceMax"; Shape.format shape ] (fun () -> Reduction.reduce ReduceOp.Max axes false input)
            // reducing the non-empty axis of [0,3] leaves an empty result rather than raising
            Expect.equal (Reduction.reduce ReduceOp.Max [| 1 |] false (Tensor.zeros DType.Float64 [| 0; 3 |])).Shape [| 0 |] "empty kept axis"
        }
        test "reduceAll gives rank 0, and max propagates NaN" {
            let t = Tensor.ofArray64 [| 2; 2 |] [| 1.0; nan; 3.0; 2.0 |]
            Expect.equal (Reduction.reduceAll ReduceOp.Sum (Tensor.ofArray64 [| 2; 2 |] [| 1.0; 2.0; 3.0; 4.0 |])).Shape [||] "rank 0"
            Expect.isTrue (Double.IsNaN ((Reduction.reduceAll ReduceOp.Max t).ToScalar())) "max NaN"
            Expect.isTrue (Double.IsNaN ((Reduction.reduceAll ReduceOp.Min t).ToScalar())) "min NaN"
            Expect.equal ((Reduction.reduceAll ReduceOp.Prod (Tensor.scalar DType.Float32 3.0)).ToScalar()) 3.0 "rank-0 input"
        }
        test "large reductions take the parallel paths and match the loop" {
            let input = tensorOf DType.Float64 [| 500; 80 |] (randomValues 41 -1.0 1.0 40000)
            for axes in [ [| 0 |]; [| 1 |]; [| 0; 1 |] ] do
                for op in [ ReduceOp.Sum; ReduceOp.Max ] do
                    let _, expected = referenceReduce op axes false input
                    expectClose 1e-12 1e-12 expected (read (Reduction.reduce op axes false input)) (sprintf "%A %A" op axes)
            // a middle axis of a 3-D block (outer 7 and inner 20 both above 1), and an outer
            // count that does not split evenly between parts
            let block = tensorOf DType.Float64 [| 7; 300; 20 |] (randomValues 42 -1.0 1.0 42000)
            let rows = tensorOf DType.Float64 [| 37; 1100 |] (randomValues 43 -1.0 1.0 40700)
            for input, axes in [ block, [| 1 |]; rows, [| 1 |] ] do
                for op in [ ReduceOp.Sum; ReduceOp.Mean; ReduceOp.Min ] do
                    let _, expected = referenceReduce op axes false input
                    expectClose 1e-12 1e-12 expected (read (Reduction.reduce op axes false input)) (sprintf "%A %A of %A" op axes input.Shape)
        }
        test "float32 sums of many terms stay accurate (blocked, not sequential)" {
            // a sequential float32 sum of 10^6 copies of 0.1f is off by about 1%; blocked sums by far less than 1e-5
            let value = float (float32 0.1)
            let long = Tensor.full DType.Float32 [| 1000000 |] 0.1
            let total = (Reduction.reduceAll ReduceOp.Sum long).ToScalar()
            Expect.isLessThan (abs (total - 1e6 * value) / (1e6 * value)) 1e-5 "sum of a long run"
            let columns = Tensor.full DType.Float32 [| 200000; 3 |] 0.1
            for column in (Reduction.reduce ReduceOp.Sum [| 0 |] false columns).ToDoubleArray() do
                Expect.isLessThan (abs (column - 2e5 * value) / (2e5 * value)) 1e-5 "column sum"
        }
        test "float32 sums over an outer axis stay within a cascade's error bound" {
            // Rows are added 32 at a time, then the partial sums pairwise: the rounding error of
            // each column is at most (32 + log2 of the blocks + 1) half-ulps of the sum of its
            // absolute values. A sequential sum over the 1,000 rows may reach 1,000 of them (it
            // was off by 9.6e-6 relative on 0.1f, beyond this bound of about 2.3e-6).
            let rows, columns = 1000, 64
            let values = randomValues 44 0.05 0.15 (rows * columns)
            let input = tensorOf DType.Float32 [| rows; columns |] values
            let exact = input.ToDoubleArray()
            let sums = (Reduction.reduce ReduceOp.Sum [| 0 |] false input).ToDoubleArray()
            let means = (Reduction.reduce ReduceOp.Mean [| 0 |] false input).ToDoubleArray()
            let halfUlp = Math.Pow(2.0, -24.0)
            let bound = float (32 + 5 + 1) * halfUlp
            for c in 0 .. columns - 1 do
                // the float32 inputs summed in float64, a loop over the rows
                let mutable reference, magnitude = 0.0, 0.0
                for r in 0 .. rows - 1 do
                    reference <- reference + exact.[r * columns + c]
                    magnitude <- magnitude + abs exact.[r * columns + c]
                Expect.isLessThanOrEqual (abs (sums.[c] - reference)) (bound * magnitude) (sprintf "column %d sum" c)
                Expect.isLessThanOrEqual (abs (means.[c] - reference / float rows)) ((bound + halfUlp) * magnitude / float rows) (sprintf "column %d mean" c)
            // the same columns of 0.1f exactly, the helper's probe
            let tenths = Tensor.full DType.Float32 [| rows; columns |] 0.1
            let value = float (float32 0.1)
            for column in (Reduction.reduce ReduceOp.Sum [| 0 |] false tenths).ToDoubleArray() do
                Expect.isLessThanOrEqual (abs (column - float rows * value)) (bound * float rows * value) "column of 0.1f"
        }
        test "argmax takes the first of ties, treats NaN as largest, and works on views" {
            let t = Tensor.ofArray64 [| 2; 4 |] [| 1.0; 3.0; 3.0; 2.0; 5.0; nan; 7.0; nan |]
            Expect.equal ((Reduction.argmax 1 false t).ToDoubleArray()) [| 1.0; 1.0 |] "rows"
            Expect.equal ((Reduction.argmax -1 true t).Shape) [| 2; 1 |] "keepDims"
            Expect.equal ((Reduction.argmaxAll t).ToScalar()) 5.0 "flat NaN"
            Expect.equal ((Reduction.argmaxAll (Tensor.ofArray32 [| 3 |] [| 2.0f; 2.0f; 1.0f |])).ToScalar()) 0.0 "flat tie"
            for dtype in dtypes do
                for axis in [ 0; 1; 2; -1 ] do
                    for name, input in variants dtype [| 3; 2; 4 |] (quarterValues 51 24) do
                        let actual = Reduction.argmax axis false input
                        Expect.equal actual.DType dtype "dtype"
                        let a = (axis + 3) % 3
                        let outShape = input.Shape |> Array.indexed |> Array.filter (fun (i, _) -> i <> a) |> Array.map snd
                        let expected =
                            allIndices outShape |> Array.map (fun o ->
                                let at k = input.[Array.insertAt a k o]
                                // the first index whose value is strictly greater than all before it
                                let mutable best = 0
                                for k in 1 .. input.Shape.[a] - 1 do
                                    if at k > at best then best <- k
                                float best)
                        Expect.equal (read actual) expected (sprintf "%A axis %d %s" dtype axis name)
            expectShapeError [ "Argmax"; "[0,2]" ] (fun () -> Reduction.argmax 0 false (Tensor.zeros DType.Float64 [| 0; 2 |]))
            expectShapeError [ "Argmax"; "axis 2"; "rank 2" ] (fun () -> Reduction.argmax 2 false t)
        }
        testPropertyWithConfig (PropertySupport.fixedSeed 7UL 100) "random shapes, axis sets and views agree with the loop" <| fun (dims: byte list) (axisBits: byte) (opIndex: byte) (flipFirst: bool) ->
            let shape = dims |> List.truncate 4 |> List.map (fun d -> int d % 4) |> Array.ofList
            let axes = [| 0 .. shape.Length - 1 |] |> Array.filter (fun a -> (int axisBits >>> a) &&& 1 = 1)
            // negative spellings of the same axes must mean the same
            let spelled = axes |> Array.map (fun a -> if a % 2 = 1 then a - shape.Length else a)
            let op = reduceOps.[int opIndex % reduceOps.Length]
            let input = tensorOf DType.Float64 shape (randomValues (int axisBits) 0.5 1.5 (Array.fold (*) 1 shape))
            let input = if flipFirst && shape.Length > 0 then Structural.flip [| 0 |] input else input
            let emptyAxis = axes |> Array.exists (fun a -> shape.[a] = 0)
            if (op = ReduceOp.Max || op = ReduceOp.Min) && emptyAxis then
                (try Reduction.reduce op spelled false input |> ignore; false with :? ShapeException -> true)
            else
                let expectedShape, expected = referenceReduce op axes true input
                let actual = Reduction.reduce op spelled true input
                actual.Shape = expectedShape && Array.forall2 (close 1e-14 0.0) expected (read actual)
        test "axis errors name the op" {
            let t = Tensor.zeros DType.Float64 [| 2; 3 |]
            expectShapeError [ "ReduceSum"; "axis 2"; "rank 2" ] (fun () -> Reduction.reduce ReduceOp.Sum [| 2 |] false t)
            expectShapeError [ "ReduceMean"; "twice" ] (fun () -> Reduction.reduce ReduceOp.Mean [| 1; -1 |] false t)
        }
    ]
