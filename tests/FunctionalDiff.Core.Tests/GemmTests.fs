module FunctionalDiff.Core.Tests.GemmTests

open System
open Expecto
open FunctionalDiff.Core

// Every product is checked against a triple loop in float64 over the same (exactly representable)
// inputs. Tolerance: the classic bound for a k-term dot product, |computed - exact| <= γ_k Σ|a||b|
// with γ_k = k·u/(1 - k·u) and u = eps/2, so k·eps·(|A||B|)_ij bounds it for every k used here;
// it holds for any summation order, which is what blocking and FMA change.

/// Uniform values in [-1, 1) from a fixed seed.
let randomValues (seed: int) (count: int) =
    let random = Random(seed)
    Array.init count (fun _ -> random.NextDouble() * 2.0 - 1.0)

/// A dense tensor of the given shape and dtype with reproducible random values.
let randomTensor (dtype: DType) (seed: int) (shape: int[]) =
    Tensor.FromArray(randomValues seed (Array.fold (*) 1 shape), shape).Cast dtype

/// The transposed view of a matrix (no copy), built from the view primitive.
let transposed (t: Tensor) =
    t.View([| t.Dims.[1]; t.Dims.[0] |], [| t.Strides.[1]; t.Strides.[0] |], t.Offset)

/// Reference C = A·B for row-major m×k and k×n arrays, and Σ|a||b| per element for the bound.
let reference (a: float[]) (b: float[]) m n k =
    let c = Array.zeroCreate (m * n)
    let scale = Array.zeroCreate (m * n)
    for i in 0 .. m - 1 do
        for j in 0 .. n - 1 do
            for p in 0 .. k - 1 do
                c.[i * n + j] <- c.[i * n + j] + a.[i * k + p] * b.[p * n + j]
                scale.[i * n + j] <- scale.[i * n + j] + abs (a.[i * k + p] * b.[p * n + j])
    c, scale

/// Machine epsilon: the gap between 1 and the next representable number.
let epsilon dtype = match dtype with DType.Float32 -> Math.Pow(2.0, -23.0) | DType.Float64 -> Math.Pow(2.0, -52.0)

/// Checks computed against the reference within k·eps·(|A||B|)_ij (plus the smallest normal,
/// for outputs that are exactly zero).
let expectClose (dtype: DType) (k: int) (actual: float[]) (expected: float[], scale: float[]) (label: string) =
    Expect.equal actual.Length expected.Length (label + ": element count")
    for i in 0 .. actual.Length - 1 do
        let bound = float (max k 1) * epsilon dtype * scale.[i] + 1e-300
        if abs (actual.[i] - expected.[i]) > bound then
            failtestf "%s: element %d is %.17g, reference %.17g, bound %.3g" label i actual.[i] expected.[i] bound

/// matmul of two matrices (any views) against the reference on their dense values.
let internal checkMatrices (settings: GemmSettings option) (a: Tensor) (b: Tensor) (label: string) =
    let m, k, n = a.Dims.[0], a.Dims.[1], b.Dims.[1]
    let result =
        match settings with
        | Some s -> LinearAlgebra.matmulWith s a b
        | None -> LinearAlgebra.matmul a b
    Expect.equal result.Shape [| m; n |] (label + ": shape")
    let dtype = if a.DType = DType.Float64 || b.DType = DType.Float64 then DType.Float64 else DType.Float32
    Expect.equal result.DType dtype (label + ": dtype")
    expectClose dtype k (result.ToDoubleArray()) (reference (a.ToDoubleArray()) (b.ToDoubleArray()) m n k) label

/// Settings that reach the packed path, edges, several blocks in every dimension and the
/// split across two parts on small matrices, always waiting for the second worker to start.
let internal smallBlocks width =
    { GemmSettings.Default with Width = width; RowBlock = 12; DepthBlock = 5; ColumnBlock = 40; TinyWork = 0; ParallelWork = 0; Threads = 2; NarrowRowBytes = 0 }

let sizes = [ 1, 1, 1; 7, 7, 7; 33, 33, 33; 257, 257, 257; 1, 257, 7; 33, 1, 257; 257, 33, 7; 7, 257, 33; 2, 3, 300 ]
let dtypes = [ DType.Float32; DType.Float64 ]

/// Runs `body` and returns the ShapeException message it raises.
let shapeError (body: unit -> 'a) =
    try body () |> ignore; "no exception" with :? ShapeException as e -> e.Message

[<Tests>]
let tests =
    testList "Gemm" [
        testList "2-D products at odd sizes (m,n,k)" [
            for dtype in dtypes do
                for m, n, k in sizes do
                    test (sprintf "%O %dx%dx%d" dtype m n k) {
                        checkMatrices None (randomTensor dtype 1 [| m; k |]) (randomTensor dtype 2 [| k; n |]) "matmul"
                    }
        ]
        testList "transposed and strided views are read in place" [
            for dtype in dtypes do
                for m, n, k in [ 7, 7, 7; 33, 65, 17; 257, 33, 129 ] do
                    test (sprintf "%O %dx%dx%d" dtype m n k) {
                        let aT = transposed (randomTensor dtype 3 [| k; m |])
                        let bT = transposed (randomTensor dtype 4 [| n; k |])
                        let a = randomTensor dtype 5 [| m; k |]
                        let b = randomTensor dtype 6 [| k; n |]
                        checkMatrices None aT b "Aᵀ·B"
                        checkMatrices None a bT "A·Bᵀ"
                        checkMatrices None aT bT "Aᵀ·Bᵀ"
                        // every other column of a wider matrix, starting at an offset
                        let wide = randomTensor dtype 7 [| m; 2 * k + 1 |]
                        let everyOther = wide.View([| m; k |], [| 2 * k + 1; 2 |], 1)
                        checkMatrices None everyOther b "strided A"
                        // a row-reversed view (negative stride)
                        let flipped = b.View([| k; n |], [| -n; 1 |], (k - 1) * n)
                        checkMatrices None a flipped "flipped B"
                    }
        ]
        testList "every kernel width with small blocks, edges and two parts" [
            for width in [ 512; 256; 128 ] do
                for dtype in dtypes do
                    test (sprintf "Vector%d %O" width dtype) {
                        for m, n, k in [ 1, 1, 1; 7, 7, 7; 13, 70, 11; 33, 1, 257; 50, 9, 33; 65, 97, 23 ] do
                            let settings = Some(smallBlocks width)
                            checkMatrices settings (randomTensor dtype 8 [| m; k |]) (randomTensor dtype 9 [| k; n |]) (sprintf "%dx%dx%d" m n k)
                            checkMatrices settings (transposed (randomTensor dtype 10 [| k; m |])) (transposed (randomTensor dtype 11 [| n; k |]))
                                          (sprintf "transposed %dx%dx%d" m n k)
                    }
        ]
        testList "multi-threaded sizes with the default settings" [
            for dtype in dtypes do
                test (sprintf "%O split columns and rows" dtype) {
                    // both are above the 2^21 multiply-adds at which the default splits the work
                    checkMatrices None (randomTensor dtype 12 [| 150; 130 |]) (randomTensor dtype 13 [| 130; 301 |]) "n > m"
                    checkMatrices None (randomTensor dtype 14 [| 301; 130 |]) (randomTensor dtype 15 [| 130; 150 |]) "m > n"
                }
        ]
        testList "a split over parts gives the serial product's bits" [
            // Two parts split the columns where each gets 128 or more, else the rows (sharing B's packed
            // blocks); either way every entry sums its k terms in the serial order. Small blocks give
            // several depth blocks, so the order is not trivially one block's.
            for dtype in dtypes do
                for m, n, k in [ 300, 300, 200; 64, 512, 100; 301, 150, 130; 40, 700, 37 ] do
                    test (sprintf "%O %dx%dx%d" dtype m n k) {
                        let a, b = randomTensor dtype 30 [| m; k |], randomTensor dtype 31 [| k; n |]
                        let settings threads = { GemmSettings.Default with DepthBlock = 48; TinyWork = 0; ParallelWork = 0; Threads = threads }
                        let serial = (LinearAlgebra.matmulWith (settings 1) a b).ToDoubleArray()
                        let split = (LinearAlgebra.matmulWith (settings 2) a b).ToDoubleArray()
                        for i in 0 .. serial.Length - 1 do
                            if BitConverter.DoubleToInt64Bits split.[i] <> BitConverter.DoubleToInt64Bits serial.[i] then
                                failtestf "element %d: %.17g over two parts, %.17g serial" i split.[i] serial.[i]
                        checkMatrices (Some(settings 2)) a b "against the reference"
                    }
        ]
        testPropertyWithConfig (PropertySupport.fixedSeed 1UL 100) "random shapes and blockings agree with the reference" <| fun (dims: byte * byte * byte) (blocks: byte * byte * byte) (useFloat64: bool) ->
            let m, n, k = (let a, b, c = dims in 1 + int a % 40, 1 + int b % 40, int c % 40)
            let rowBlock, depthBlock, columnBlock = (let a, b, c = blocks in 1 + int a % 20, 1 + int b % 20, 1 + int c % 80)
            let settings = { GemmSettings.Default with RowBlock = rowBlock; DepthBlock = depthBlock; ColumnBlock = columnBlock; TinyWork = 0; ParallelWork = 0; Threads = 2 }
            let dtype = if useFloat64 then DType.Float64 else DType.Float32
            checkMatrices (Some settings) (randomTensor dtype 16 [| m; k |]) (randomTensor dtype 17 [| k; n |]) (sprintf "%dx%dx%d" m n k)
        testList "vectors, batches and dtypes follow torch.matmul" [
            test "vector · vector is a rank-0 dot product" {
                let a, b = randomTensor DType.Float64 18 [| 7 |], randomTensor DType.Float64 19 [| 7 |]
                let result = LinearAlgebra.matmul a b
                Expect.equal result.Shape [||] "rank 0"
                expectClose DType.Float64 7 [| result.ToScalar() |] (reference (a.ToDoubleArray()) (b.ToDoubleArray()) 1 1 7) "dot"
            }
            test "vector · matrix and matrix · vector drop the unit dimension" {
                let v, matrix = randomTensor DType.Float32 20 [| 33 |], randomTensor DType.Float32 21 [| 33; 257 |]
                let left = LinearAlgebra.matmul v matrix
                Expect.equal left.Shape [| 257 |] "[33] @ [33,257]"
                expectClose DType.Float32 33 (left.ToDoubleArray()) (reference (v.ToDoubleArray()) (matrix.ToDoubleArray()) 1 257 33) "v·M"
                let w = randomTensor DType.Float32 22 [| 257 |]
                let right = LinearAlgebra.matmul matrix w
                Expect.equal right.Shape [| 33 |] "[33,257] @ [257]"
                expectClose DType.Float32 257 (right.ToDoubleArray()) (reference (matrix.ToDoubleArray()) (w.ToDoubleArray()) 33 1 257) "M·w"
            }
            test "matrix-vector products of transposed and strided views, both dtypes" {
                for dtype in dtypes do
                    let stored = randomTensor dtype 32 [| 65; 37 |]
                    let matrix = transposed stored // 37 × 65, column-major
                    let v, w = randomTensor dtype 33 [| 37 |], randomTensor dtype 34 [| 65 |]
                    let check (result: Tensor) (expected: float[] * float[]) k label =
                        expectClose dtype k (result.ToDoubleArray()) expected label
                    check (LinearAlgebra.matmul v matrix) (reference (v.ToDoubleArray()) (matrix.ToDoubleArray()) 1 65 37) 37 "v·Mᵀ"
                    check (LinearAlgebra.matmul matrix w) (reference (matrix.ToDoubleArray()) (w.ToDoubleArray()) 37 1 65) 65 "Mᵀ·w"
                    check (LinearAlgebra.matmul w stored) (reference (w.ToDoubleArray()) (stored.ToDoubleArray()) 1 37 65) 65 "w·M"
                    check (LinearAlgebra.matmul stored v) (reference (stored.ToDoubleArray()) (v.ToDoubleArray()) 65 1 37) 37 "M·v"
                    // a strided vector (every other element) takes the general loop
                    let long = randomTensor dtype 35 [| 74 |]
                    let everyOther = long.View([| 37 |], [| 2 |], 0)
                    check (LinearAlgebra.matmul stored everyOther) (reference (stored.ToDoubleArray()) (everyOther.ToDoubleArray()) 65 1 37) 37 "M·strided v"
                    check (LinearAlgebra.matmul everyOther matrix) (reference (everyOther.ToDoubleArray()) (matrix.ToDoubleArray()) 1 65 37) 37 "strided v·Mᵀ"
            }
            test "batched operands broadcast their batch dimensions" {
                for dtype in dtypes do
                    for aShape, bShape, expectedShape in
                        [ [| 2; 1; 3; 4 |], [| 5; 4; 6 |], [| 2; 5; 3; 6 |]
                          [| 3; 4 |], [| 2; 4; 5 |], [| 2; 3; 5 |]
                          [| 4 |], [| 2; 4; 5 |], [| 2; 5 |]
                          [| 2; 3; 4 |], [| 4 |], [| 2; 3 |]
                          [| 3; 1; 2; 4 |], [| 1; 2; 4; 3 |], [| 3; 2; 2; 3 |] ] do
                        let a, b = randomTensor dtype 23 aShape, randomTensor dtype 24 bShape
                        let result = LinearAlgebra.matmul a b
                        Expect.equal result.Shape expectedShape (sprintf "%A @ %A" aShape bShape)
                        // reference: index every output element through the broadcast rule by hand
                        let m = if aShape.Length = 1 then 1 else aShape.[aShape.Length - 2]
                        let k = aShape.[aShape.Length - 1]
                        let n = if bShape.Length = 1 then 1 else bShape.[bShape.Length - 1]
                        let batch = expectedShape.[.. expectedShape.Length - 1 - (if aShape.Length = 1 then 0 else 1) - (if bShape.Length = 1 then 0 else 1)]
                        let aValues, bValues = a.ToDoubleArray(), b.ToDoubleArray()
                        let expected = ResizeArray()
                        let scale = ResizeArray()
                        for flat in 0 .. Array.fold (*) 1 batch - 1 do
                            let index = Array.zeroCreate batch.Length
                            let mutable rest = flat
                            for axis in batch.Length - 1 .. -1 .. 0 do
                                index.[axis] <- rest % batch.[axis]
                                rest <- rest / batch.[axis]
                            let matrixStart (shape: int[]) (matrixRank: int) =
                                let own = shape.[.. shape.Length - 1 - matrixRank]
                                let shift = batch.Length - own.Length
                                let mutable start = 0
                                for axis in 0 .. own.Length - 1 do
                                    start <- start * own.[axis] + (if own.[axis] = 1 then 0 else index.[axis + shift])
                                start
                            let aStart = matrixStart aShape (min 2 aShape.Length) * m * k
                            let bStart = matrixStart bShape (min 2 bShape.Length) * k * n
                            let c, s = reference aValues.[aStart .. aStart + m * k - 1] bValues.[bStart .. bStart + k * n - 1] m n k
                            expected.AddRange c
                            scale.AddRange s
                        expectClose dtype k (result.ToDoubleArray()) (expected.ToArray(), scale.ToArray()) (sprintf "%A @ %A" aShape bShape)
            }
            test "many small matrices are spread over the cores, each matching the reference" {
                // each 3×4·4×5 product is 60 multiply-adds, below ParallelWork = 100; the batch of
                // 8 is 480, above it: the batch, not each product, is split across two workers
                let settings = { GemmSettings.Default with ParallelWork = 100; Threads = 2 }
                for dtype in dtypes do
                    let a, b = randomTensor dtype 36 [| 8; 3; 4 |], randomTensor dtype 37 [| 8; 4; 5 |]
                    let result = LinearAlgebra.matmulWith settings a b
                    Expect.equal result.Shape [| 8; 3; 5 |] "shape"
                    let aValues, bValues, values = a.ToDoubleArray(), b.ToDoubleArray(), result.ToDoubleArray()
                    for i in 0 .. 7 do
                        expectClose dtype 4 values.[i * 15 .. i * 15 + 14]
                            (reference aValues.[i * 12 .. i * 12 + 11] bValues.[i * 20 .. i * 20 + 19] 3 5 4) (sprintf "%O matrix %d" dtype i)
            }
            test "float32 with float64 gives float64" {
                let a, b = randomTensor DType.Float32 25 [| 5; 6 |], randomTensor DType.Float64 26 [| 6; 7 |]
                Expect.equal (LinearAlgebra.matmul a b).DType DType.Float64 "promoted"
                checkMatrices None a b "mixed"
            }
            test "sizes of zero give empty or zero results" {
                for dtype in dtypes do
                    let tensorOf (shape: int[]) = randomTensor dtype 27 shape
                    Expect.equal (LinearAlgebra.matmul (tensorOf [| 0; 3 |]) (tensorOf [| 3; 4 |])).Shape [| 0; 4 |] "m = 0"
                    Expect.equal (LinearAlgebra.matmul (tensorOf [| 2; 3 |]) (tensorOf [| 3; 0 |])).Shape [| 2; 0 |] "n = 0"
                    let inner = LinearAlgebra.matmul (tensorOf [| 2; 0 |]) (tensorOf [| 0; 3 |])
                    Expect.equal inner.Shape [| 2; 3 |] "k = 0 shape"
                    Expect.equal (inner.ToDoubleArray()) (Array.zeroCreate 6) "k = 0 gives zeros"
                    Expect.equal ((LinearAlgebra.matmul (tensorOf [| 0 |]) (tensorOf [| 0 |])).ToScalar()) 0.0 "empty dot"
                    Expect.equal (LinearAlgebra.matmul (tensorOf [| 0; 2; 3 |]) (tensorOf [| 3; 4 |])).Shape [| 0; 2; 4 |] "empty batch"
            }
            test "errors name the op and both shapes, before any work" {
                let t (shape: int[]) = Tensor.Zeros(shape, DType.Float32)
                Expect.equal (shapeError (fun () -> LinearAlgebra.matmul (t [| 2; 3 |]) (t [| 2; 3 |])))
                    "MatMul: [2,3] @ [2,3]: inner dimensions 3 and 2 differ" "inner"
                Expect.equal (shapeError (fun () -> LinearAlgebra.matmul (t [| 4 |]) (t [| 5 |])))
                    "MatMul: [4] @ [5]: inner dimensions 4 and 5 differ" "dot"
                Expect.equal (shapeError (fun () -> LinearAlgebra.matmul (t [| 2; 3; 4 |]) (t [| 5; 4; 6 |])))
                    "MatMul: [2,3,4] @ [5,4,6]: batch dimensions [2] and [5] cannot be broadcast" "batch"
                Expect.equal (shapeError (fun () -> LinearAlgebra.matmul (t [||]) (t [| 3 |])))
                    "MatMul: [] @ [3]: both operands need at least one dimension" "rank 0"
            }
        ]
        testList "Gemm.Multiply, the BLAS-style entry point" [
            test "transposition flags, leading dimensions and offsets; C outside its region is untouched" {
                for transposeA in [ false; true ] do
                    for transposeB in [ false; true ] do
                        let m, n, k = 37, 41, 29
                        // A stored as m×k (or k×m when transposed) with 3 spare columns and an offset of 2
                        let aRows, aColumns = (if transposeA then k, m else m, k)
                        let bRows, bColumns = (if transposeB then n, k else k, n)
                        let lda, ldb, ldc = aColumns + 3, bColumns + 1, n + 5
                        let aStore, bStore = randomValues 28 (2 + aRows * lda), randomValues 29 (4 + bRows * ldb)
                        let c = Array.create (1 + m * ldc) nan
                        Gemm.Multiply(transposeA, transposeB, m, n, k, aStore, 2, lda, bStore, 4, ldb, c, 1, ldc)
                        let aDense = Array.init (m * k) (fun e -> let i, p = e / k, e % k in if transposeA then aStore.[2 + p * lda + i] else aStore.[2 + i * lda + p])
                        let bDense = Array.init (k * n) (fun e -> let p, j = e / n, e % n in if transposeB then bStore.[4 + j * ldb + p] else bStore.[4 + p * ldb + j])
                        let computed = Array.init (m * n) (fun e -> c.[1 + (e / n) * ldc + e % n])
                        expectClose DType.Float64 k computed (reference aDense bDense m n k) (sprintf "transposeA=%b transposeB=%b" transposeA transposeB)
                        Expect.isTrue (Double.IsNaN c.[0]) "before the offset"
                        for i in 0 .. m - 1 do
                            for j in n .. ldc - 1 do
                                if 1 + i * ldc + j < c.Length then
                                    Expect.isTrue (Double.IsNaN c.[1 + i * ldc + j]) "padding columns of C"
            }
            test "the two-part shared path overwrites C and nothing beside it" {
                // The workers zero their own rows of C; NaN left anywhere in the product, or
                // written into the padding, shows a row range missed or overrun.
                let m, n, k = 65, 97, 23
                let ldc = n + 3
                let a, b = randomValues 32 (m * k), randomValues 33 (k * n)
                let c = Array.create (m * ldc) nan
                GemmDriver.multiply64 (smallBlocks 512) m n k a 0 k 1 b 0 n 1 c 0 ldc
                let computed = Array.init (m * n) (fun e -> c.[(e / n) * ldc + e % n])
                expectClose DType.Float64 k computed (reference a b m n k) "product"
                for i in 0 .. m - 1 do
                    for j in n .. ldc - 1 do
                        Expect.isTrue (Double.IsNaN c.[i * ldc + j]) "padding columns of C"
            }
            test "k = 0 overwrites C with zeros" {
                let c = Array.create 12 nan
                Gemm.Multiply(false, false, 3, 4, 0, Array.zeroCreate<float> 0, 0, 1, Array.zeroCreate<float> 0, 0, 4, c, 0, 4)
                Expect.equal c (Array.zeroCreate 12) "zeros"
            }
            test "float32 overload overwrites C" {
                let m, n, k = 300, 200, 100
                let a, b = Array.map float32 (randomValues 30 (m * k)), Array.map float32 (randomValues 31 (k * n))
                let c = Array.create (m * n) 1e30f
                Gemm.Multiply(false, false, m, n, k, a, 0, k, b, 0, n, c, 0, n)
                expectClose DType.Float32 k (Array.map float c) (reference (Array.map float a) (Array.map float b) m n k) "float32"
            }
            test "balanced blocks: as many as fixed blocks need, equal to within a multiple, never above the target" {
                for size, target, multiple in [ 784, 512, 1; 784, 192, 6; 256, 192, 6; 512, 2048, 32; 1000, 7, 1; 5, 192, 6; 1, 1, 1 ] do
                    let block = GemmDriver.balanced size target multiple
                    let fixedBlocks = (size + target - 1) / target
                    let label = sprintf "size %d, target %d, multiple %d" size target multiple
                    Expect.equal (block % multiple) 0 (label + ": a whole number of multiples")
                    Expect.isLessThanOrEqual block target (label + ": at most the target")
                    Expect.equal ((size + block - 1) / block) fixedBlocks (label + ": as many blocks as fixed ones")
                    // the last block is short of the others by less than a block's share of rounding
                    Expect.isGreaterThan (size - (fixedBlocks - 1) * block) (block - fixedBlocks * multiple) (label + ": no ragged last block")
                Expect.equal (GemmDriver.balanced 784 512 1) 392 "a depth of 784 in two halves"
            }
            test "bad arguments are rejected before any work" {
                let data = Array.zeroCreate<float> 11
                Expect.stringStarts (shapeError (fun () -> Gemm.Multiply(false, false, 3, 4, 3, data, 0, 3, data, 0, 4, data, 0, 4)))
                    "Gemm: B (3 x 4 from offset 0, strides 4 and 1) reaches outside" "B too short"
                Expect.equal (shapeError (fun () -> Gemm.Multiply(false, false, 2, 2, 3, data, 0, 2, data, 0, 2, data, 0, 2)))
                    "Gemm: lda 2 is less than the 3 stored columns of A" "lda"
                Expect.equal (shapeError (fun () -> Gemm.Multiply(false, false, -1, 2, 3, data, 0, 3, data, 0, 2, data, 0, 2)))
                    "Gemm: negative size m=-1 n=2 k=3" "negative"
            }
        ]
    ]
