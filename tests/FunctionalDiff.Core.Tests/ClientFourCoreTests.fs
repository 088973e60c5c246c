/// The F# side of what the C# facade gained for TorchSharp users (DisposeTests.cs): a core Tensor is
/// IDisposable, so F#'s `use` disposes it; later reads throw ObjectDisposedException naming the shape,
/// and a large array the tensor alone held is reused by the next result of its size (counted in bytes).
module FunctionalDiff.Core.Tests.ClientFourCoreTests

open System
open Expecto
open FunctionalDiff.Core

// an unusual length (about 1 MB of float64), so no other test asks the pool for arrays of it
let private length = 131_071

[<Tests>]
let tests =
    // the pool is process-wide, so these run one at a time (as the Recycling list does)
    testSequenced <| testList "client four (F# use)" [
        test "use disposes a tensor; a later read throws ObjectDisposedException with its shape" {
            let escaped =
                use t = Tensor.Ones([| 4; 5 |], DType.Float32)
                Expect.equal (t.ToDoubleArray() |> Array.sum) 20.0 "alive inside use's scope"
                t
            Expect.isTrue escaped.IsDisposed "disposed at the end of use's scope"
            Expect.throwsT<ObjectDisposedException> (fun () -> escaped.ToDoubleArray() |> ignore) "read after Dispose"
        }
        test "the message names the shape and dtype" {
            let t = Tensor.Zeros([| 3; 2 |], DType.Float64)
            (t :> IDisposable).Dispose()
            try
                TensorMath.addScalar 1.0 t |> ignore
                failtest "no exception"
            with :? ObjectDisposedException as e ->
                Expect.stringContains e.Message "[3,2]" "the shape"
                Expect.stringContains e.Message "float64" "the dtype"
        }
        test "a disposed large result is reused by the next result of its length" {
            TensorMemory.ClearCache()
            let x = Tensor.FromArray(Array.init length (fun i -> float i * 1e-4), [| length |])
            let first = TensorMath.mulScalar 2.0 x
            first.Dispose()
            Expect.equal TensorMemory.CachedBytes (int64 length * 8L) "kept"
            let before = GC.GetAllocatedBytesForCurrentThread()
            let second = TensorMath.mulScalar 3.0 x
            let allocated = GC.GetAllocatedBytesForCurrentThread() - before
            Expect.isLessThan allocated (int64 length) "the array came from the pool"
            let values = second.ToDoubleArray()
            for i in 0 .. length - 1 do
                Expect.floatClose Accuracy.veryHigh values.[i] (3.0 * (float i * 1e-4)) "3x"
        }
        test "a constant's array is never handed back, and its graph then throws" {
            TensorMemory.ClearCache()
            let w = TensorMath.mulScalar 2.0 (Tensor.Ones([| length |], DType.Float64))
            let graph = Expr.constant w * Expr.constant w
            w.Dispose()
            Expect.equal TensorMemory.CachedBytes 0L "not kept: the graph reads it"
            Expect.throwsT<ObjectDisposedException> (fun () -> Eval.eval graph |> ignore) "the graph reads a disposed tensor"
        }
    ]
