/// Shared helpers for the Tensor kernel tests: test data, views of every kind, reference reads
/// through the public indexer, and tolerant comparison. References never call the kernels.
module FunctionalDiff.Core.Tests.TensorTestSupport

open System
open Expecto
open FunctionalDiff.Core

/// Every full index of a shape in row-major order (one empty index for rank 0).
let allIndices (shape: int[]) : int[][] =
    let n = Array.fold (*) 1 shape
    Array.init n (fun flat ->
        let index = Array.zeroCreate shape.Length
        let mutable rest = flat
        for axis in shape.Length - 1 .. -1 .. 0 do
            index.[axis] <- rest % shape.[axis]
            rest <- rest / shape.[axis]
        index)

/// The elements of any tensor in row-major order, read one by one through the public indexer.
let read (t: Tensor) = allIndices t.Shape |> Array.map (fun i -> t.[i])

/// A dense tensor with the given values as float64, stored in `dtype`.
let tensorOf (dtype: DType) (shape: int[]) (values: float[]) =
    match dtype with
    | DType.Float64 -> Tensor.FromArray(values, shape)
    | DType.Float32 -> Tensor.FromArray(Array.map float32 values, shape)

/// Reproducible test values in [low, high) from System.Random (not our generator).
let randomValues (seed: int) (low: float) (high: float) (count: int) =
    let random = Random(seed)
    Array.init count (fun _ -> low + (high - low) * random.NextDouble())

/// Random values snapped to quarters in [-2, 2], so comparisons meet equal values and
/// arithmetic on them is exact.
let quarterValues (seed: int) (count: int) =
    let random = Random(seed)
    Array.init count (fun _ -> float (random.Next(-8, 9)) / 4.0)

/// Tensors of the same logical shape built five ways: dense, and as permute, flip, slice and
/// broadcastTo views of other storage. `values` fills the logical shape row-major where the
/// construction allows; the broadcast view repeats the first row along axis 0.
let variants (dtype: DType) (shape: int[]) (values: float[]) : (string * Tensor) list =
    let rank = shape.Length
    let dense = tensorOf dtype shape values
    let at (index: int[]) = values.[Array.fold2 (fun acc i s -> acc + i * s) 0 index (Shape.contiguousStrides shape)]
    // transposed storage: reversing the axes of a tensor whose shape is reversed gives back `shape`
    let reversed = Array.rev shape
    let transposedData = allIndices reversed |> Array.map (fun i -> at (Array.rev i))
    let permuted = Structural.transpose (tensorOf dtype reversed transposedData)
    // flipped storage: flipping every axis of the reversed-order data gives the values back
    let flippedData = allIndices shape |> Array.map (fun i -> at (Array.mapi (fun a x -> shape.[a] - 1 - x) i))
    let flipped = Structural.flip [| 0 .. rank - 1 |] (tensorOf dtype shape flippedData)
    // sliced storage: each axis doubled plus one, the values at odd positions
    let big = shape |> Array.map (fun d -> 2 * d + 1)
    let bigData = allIndices big |> Array.map (fun i -> if Array.forall (fun x -> x % 2 = 1) i then at (Array.map (fun x -> x / 2) i) else nan)
    let sliced = Structural.slice (Array.create rank 1) big (Array.create rank 2) (tensorOf dtype big bigData)
    let cases = [ "dense", dense; "permuted", permuted; "flipped", flipped; "sliced", sliced ]
    if rank >= 1 && shape.[0] > 1 && Array.forall (fun d -> d > 0) shape then
        let row = Array.sub values 0 (values.Length / shape.[0])
        let oneRow = Array.append [| 1 |] shape.[1..]
        cases @ [ "broadcast", Structural.broadcastTo shape (tensorOf dtype oneRow row) ]
    else cases

/// True when `actual` is within `relative`·|expected| + `absolute` of `expected`; NaN matches NaN
/// and infinities must match exactly.
let close (relative: float) (absolute: float) (expected: float) (actual: float) =
    if Double.IsNaN expected then Double.IsNaN actual
    elif Double.IsInfinity expected then expected = actual
    else abs (actual - expected) <= relative * abs expected + absolute

/// Asserts elementwise closeness, naming the first mismatch.
let expectClose (relative: float) (absolute: float) (expected: float[]) (actual: float[]) (message: string) =
    Expect.equal actual.Length expected.Length (message + ": element count")
    for i in 0 .. expected.Length - 1 do
        if not (close relative absolute expected.[i] actual.[i]) then
            failtestf "%s: element %d is %.17g, expected %.17g" message i actual.[i] expected.[i]

/// Asserts that `f` raises a ShapeException whose message contains every fragment.
let expectShapeError (fragments: string list) (f: unit -> 'a) =
    let message =
        try f () |> ignore; "no exception"
        with :? ShapeException as e -> e.Message
    for fragment in fragments do
        Expect.stringContains message fragment "error message"

/// Index of an output element's operand, per broadcasting: right-aligned, size 1 reads index 0.
let broadcastIndex (operandShape: int[]) (outIndex: int[]) =
    let lead = outIndex.Length - operandShape.Length
    Array.init operandShape.Length (fun i -> if operandShape.[i] = 1 then 0 else outIndex.[i + lead])

/// Both dtypes, for tables.
let dtypes = [ DType.Float64; DType.Float32 ]
