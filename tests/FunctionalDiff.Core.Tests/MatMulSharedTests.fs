/// A batched matmul whose B is broadcast over the batch (a weight shared by the examples) packs
/// B once for the whole batch: each product against a plain triple loop, with the bits of the
/// product of that example alone, and B's packings counted.
module FunctionalDiff.Core.Tests.MatMulSharedTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GemmTests

/// Values exactly representable in float32, so both dtypes share one float64 reference.
let private representable (seed: int) (count: int) = randomValues seed count |> Array.map (fun v -> float (float32 v))

/// A rows × columns matrix (or a stack of them) holding `values` row-major, stored as given or
/// as its transpose read through swapped strides (a view, no copy).
let private matrices (dtype: DType) (batch: int[]) (rows: int) (columns: int) (transpose: bool) (values: float[]) =
    let count = Array.fold (*) 1 batch
    if not transpose then Tensor.FromArray(values, Array.append batch [| rows; columns |]).Cast dtype
    else
        // element (b, i, j) sits at b*rows*columns + j*rows + i
        let stored = Array.init values.Length (fun s ->
            let b, r = s / (rows * columns), s % (rows * columns)
            let j, i = r / rows, r % rows
            values.[b * rows * columns + i * columns + j])
        let t = Tensor.FromArray(stored, [| count * rows * columns |]).Cast dtype
        let strides = Array.append (batch |> Array.map (fun _ -> rows * columns)) [| 1; rows |]
        t.View(Array.append batch [| rows; columns |], strides, 0)

/// Matrix i of a stack [count, rows, columns], as a view.
let private slice (t: Tensor) (i: int) =
    t.View([| t.Dims.[1]; t.Dims.[2] |], [| t.Strides.[1]; t.Strides.[2] |], t.Offset + i * t.Strides.[0])

let private sameBits (actual: float[]) (expected: float[]) (label: string) =
    for i in 0 .. actual.Length - 1 do
        if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected.[i] then
            failtestf "%s: element %d is %.17g, the product of that example alone gives %.17g" label i actual.[i] expected.[i]

/// A [count, m, k] · B [k, n] (or [1, k, n]) through `matmulSharedWith`: each example against the
/// loop and with the bits of its own product; B packed at most once.
let private check (settings: GemmSettings) (name: string) (dtype: DType) (m: int) (n: int) (k: int)
                  (transposeA: bool) (transposeB: bool) (leadingOne: bool) =
    let count = 3
    let label = sprintf "%s %O m=%d n=%d k=%d%s%s%s" name dtype m n k (if transposeA then " Aᵀ" else "")
                        (if transposeB then " Bᵀ" else "") (if leadingOne then " B [1,k,n]" else "")
    let aValues = representable (m + 17 * k) (count * m * k)
    let bValues = representable (n + 31 * k) (k * n)
    let a = matrices dtype [| count |] m k transposeA aValues
    let b = matrices dtype (if leadingOne then [| 1 |] else [||]) k n transposeB bValues
    let packed = PackedOperand()
    let result = LinearAlgebra.matmulSharedWith settings packed a b
    Expect.equal result.Shape [| count; m; n |] (label + ": shape")
    let values = result.ToDoubleArray()
    let b2 = if leadingOne then slice b 0 else b
    for i in 0 .. count - 1 do
        let own = values.[i * m * n .. (i + 1) * m * n - 1]
        expectClose dtype k own (reference aValues.[i * m * k .. (i + 1) * m * k - 1] bValues m n k) (sprintf "%s example %d" label i)
        sameBits own ((LinearAlgebra.matmulWith settings (slice a i) b2).ToDoubleArray()) (sprintf "%s example %d" label i)
    // the batch runs on one thread here (Threads = 1, or each product is split across parts
    // itself), so a B that the driver packs is packed once, not once per example
    let aColumn = if transposeA then m else 1
    let bRow = if transposeB then 1 else n
    // the inner-product path reads a B contiguous along the depth where it lies; any other B it
    // transposes into the kept operand, which counts as its one packing
    let readsBInPlace = GemmDriver.takesInnerProduct settings (if dtype = DType.Float32 then 4 else 8) m n k aColumn bRow && bRow = 1
    let packs = m * n * k >= settings.TinyWork && m > 1 && n > 1 && not readsBInPlace
    Expect.equal packed.Packings (if packs then 1L else 0L) (label + ": packings of B")

[<Tests>]
let tests =
    testList "MatMul.sharedOperand" [
        test "a B broadcast over the batch: the loop, each example's bits, one packing" {
            let serial = { GemmSettings.Default with Threads = 1 }
            for settings, name in [ serial, "default blocks"; smallBlocks GemmKernels.bestWidth, "small blocks, two parts" ] do
                for dtype in dtypes do
                    // (m, n, k): a convolution's shape, a narrow C (10 columns) and odd edges
                    for m, n, k in [ 16, 100, 27; 33, 10, 40; 7, 45, 13 ] do
                        for transposeA in [ false; true ] do
                            for transposeB in [ false; true ] do
                                for leadingOne in [ false; true ] do
                                    check settings name dtype m n k transposeA transposeB leadingOne
        }
        test "the batch split across parts: each example's bits" {
            // each product below ParallelWork but the batch above it: the parts take examples
            let settings = { smallBlocks GemmKernels.bestWidth with ParallelWork = 16 * 100 * 27 + 1 }
            let a = matrices DType.Float64 [| 3 |] 16 27 false (representable 5 (3 * 16 * 27))
            let b = matrices DType.Float64 [||] 27 100 false (representable 6 (27 * 100))
            let values = (LinearAlgebra.matmulSharedWith settings null a b).ToDoubleArray()
            for i in 0 .. 2 do
                sameBits values.[i * 1600 .. (i + 1) * 1600 - 1] ((LinearAlgebra.matmulWith settings (slice a i) b).ToDoubleArray())
                         (sprintf "example %d" i)
        }
        test "B's values changed between two calls: packed again" {
            let settings = { GemmSettings.Default with Threads = 1 }
            let m, n, k = 16, 100, 27
            let aValues = representable 1 (2 * m * k)
            let a = matrices DType.Float64 [| 2 |] m k false aValues
            let storage = representable 2 (k * n)
            let b = new Tensor(DType.Float64, [| k; n |], [| n; 1 |], 0, storage)
            let packed = PackedOperand()
            LinearAlgebra.matmulSharedWith settings packed a b |> ignore
            let changed = representable 3 (k * n)
            Array.blit changed 0 storage 0 storage.Length
            let values = (LinearAlgebra.matmulSharedWith settings packed a b).ToDoubleArray()
            for i in 0 .. 1 do
                expectClose DType.Float64 k values.[i * m * n .. (i + 1) * m * n - 1]
                            (reference aValues.[i * m * k .. (i + 1) * m * k - 1] changed m n k) (sprintf "example %d" i)
            Expect.equal packed.Packings 2L "once per call"
        }
    ]
