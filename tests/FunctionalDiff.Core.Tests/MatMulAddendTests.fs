/// Specifications of a compiled product's addend that is not dense (the broadcast zeros a loop's
/// gradient accumulator starts from): the product adds it with the bits of a dense addend, and
/// makes it dense without allocating a new array per product.
module FunctionalDiff.Core.Tests.MatMulAddendTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanMemoryTests

let private random (seed: int) (n: int) =
    let r = Random(seed)
    Array.init n (fun _ -> float32 (r.NextDouble() * 2.0 - 1.0))

[<Tests>]
let tests =
    testList "MatMul.addend" [
        test "a broadcast addend gives the bits of the same addend made dense, and the loop's sums" {
            let m, k, n = 96, 16, 160
            let a = Tensor.FromArray(random 1 (m * k), [| m; k |])
            let b = Tensor.FromArray(random 2 (k * n), [| k; n |])
            for value in [ 0.0f; -0.0f; 0.75f ] do
                // a row of n values repeated over m rows, and one value repeated everywhere
                let row = new Tensor(DType.Float32, [| m; n |], [| 0; 1 |], 0, Array.init n (fun j -> value + float32 j))
                let scalar = new Tensor(DType.Float32, [| m; n |], [| 0; 0 |], 0, [| value |])
                for addend in [ row; scalar ] do
                    let strided = Array.zeroCreate<float32> (m * n)
                    LinearAlgebra.matmulPackedInto a b null addend strided
                    let dense = Array.zeroCreate<float32> (m * n)
                    LinearAlgebra.matmulPackedInto a b null (addend.Contiguous()) dense
                    Expect.equal (Array.map BitConverter.SingleToInt32Bits strided) (Array.map BitConverter.SingleToInt32Bits dense)
                        (sprintf "strides %A, value %g: the dense addend's bits" addend.Strides value)
                    let av, bv, sv = a.ToSingleArray(), b.ToSingleArray(), addend.Contiguous().ToSingleArray()
                    for i in 0 .. m - 1 do
                        for j in 0 .. n - 1 do
                            let mutable sum = 0.0
                            for p in 0 .. k - 1 do sum <- sum + float av.[i * k + p] * float bv.[p * n + j]
                            let expected = float sv.[i * n + j] + sum
                            if abs (float strided.[i * n + j] - expected) > 1e-5 * (1.0 + abs expected) then
                                failtestf "C[%d, %d] = %g, the loop gives %g" i j strided.[i * n + j] expected
        }

        test "a broadcast addend of 256 KB is made dense without a new array per product" {
            let m, k, n = 256, 16, 256
            let a = Tensor.FromArray(random 3 (m * k), [| m; k |])
            let b = Tensor.FromArray(random 4 (k * n), [| k; n |])
            let zeros = new Tensor(DType.Float32, [| m; n |], [| 0; 0 |], 0, [| 0.0f |])
            let result = Array.zeroCreate<float32> (m * n)
            // before the change, each product took a fresh dense copy: m·n·4 = 256 KB
            let bytes = bytesPerCall 1024.0 (fun () -> LinearAlgebra.matmulPackedInto a b null zeros result)
            Expect.isLessThan bytes 1024.0 (sprintf "bytes per product: %.0f" bytes)
        }
    ]
