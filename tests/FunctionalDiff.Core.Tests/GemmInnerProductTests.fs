module FunctionalDiff.Core.Tests.GemmInnerProductTests

// The inner-product path (GemmInnerProduct) against the float64 triple loop of GemmTests, with its
// k·eps bound. It runs for A·Bᵀ with both operands contiguous along the depth and a small C; the
// shapes below reach its edges: rows and columns past a 4 × 4 block, depth tails shorter than a
// vector, several depth chunks, and two parts.

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GemmTests

/// A·Bᵀ for row-major A (m × k) and B (n × k), through the given settings.
let private check (settings: GemmSettings) (dtype: DType) (m: int) (n: int) (k: int) =
    let a = randomTensor dtype (m + 31 * k) [| m; k |]
    let b = randomTensor dtype (n + 17 * k) [| n; k |]
    checkMatrices (Some settings) a (transposed b) (sprintf "%O %dx%dx%d" dtype m n k)

[<Tests>]
let tests =
    testList "GemmInnerProduct" [
        test "the default settings send a convolution's weight-gradient shape to this path" {
            // 16 output channels, 3·3·3 window entries, 1,024 output pixels: the bench's conv2d
            Expect.isTrue (GemmInnerProduct.suits GemmSettings.Default.InnerProductOutputs 16 27 1024 1 1 || not (System.Runtime.Intrinsics.X86.Fma.IsSupported))
                "A (16 × 1024, rows contiguous) · Bᵀ (27 × 1024, rows contiguous)"
            Expect.isFalse (GemmInnerProduct.suits GemmSettings.Default.InnerProductOutputs 16 27 1024 1024 1)
                "A read down its columns is not this path's layout"
        }
        testList "edges of blocks, vectors and chunks" [
            for dtype in dtypes do
                test (sprintf "%O" dtype) {
                    for m, n, k in [ 2, 2, 32; 4, 4, 64; 5, 7, 33; 16, 27, 1024; 13, 3, 1031; 9, 10, 5000; 64, 64, 40 ] do
                        check GemmSettings.Default dtype m n k
                }
                // 5, 10 and 15 columns take blocks of five columns where AVX-512 is present: rows
                // past a block's edge, chunk tails and a depth that is not a whole vector
                test (sprintf "%O, columns in fives" dtype) {
                    for m, n, k in [ 3, 5, 64; 7, 10, 515; 6, 15, 1100; 13, 10, 37; 2, 5, 2051 ] do
                        check GemmSettings.Default dtype m n k
                }
        ]
        testList "split across two parts" [
            for dtype in dtypes do
                test (sprintf "%O" dtype) {
                    let settings = { GemmSettings.Default with ParallelWork = 0; Threads = 2 }
                    for m, n, k in [ 2, 9, 100; 9, 5, 700; 17, 30, 2100 ] do
                        check settings dtype m n k
                }
        ]
        test "a batch of products reads each matrix at its own offset" {
            let a = randomTensor DType.Float64 3 [| 3; 6; 200 |]
            let b = randomTensor DType.Float64 4 [| 3; 5; 200 |]
            let c = LinearAlgebra.matmul a (Structural.permute [| 0; 2; 1 |] b)
            for i in 0 .. 2 do
                let ai = Structural.reshape [| 6; 200 |] (Structural.slice [| i; 0; 0 |] [| i + 1; 6; 200 |] [| 1; 1; 1 |] a)
                let bi = Structural.reshape [| 5; 200 |] (Structural.slice [| i; 0; 0 |] [| i + 1; 5; 200 |] [| 1; 1; 1 |] b)
                let expected = reference (ai.ToDoubleArray()) ((Structural.permute [| 1; 0 |] bi).Contiguous().ToDoubleArray()) 6 5 200
                let actual = (Structural.reshape [| 30 |] (Structural.slice [| i; 0; 0 |] [| i + 1; 6; 5 |] [| 1; 1; 1 |] c)).ToDoubleArray()
                expectClose DType.Float64 200 actual expected (sprintf "matrix %d" i)
        }
    ]
