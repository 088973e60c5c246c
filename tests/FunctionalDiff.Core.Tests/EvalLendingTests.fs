/// Evaluation plans lend their large buffers between runs (Plan.LendsSlots, LentSlots): an uncompiled
/// loop builds a new graph, so a new plan, every step, and each new plan runs in the memory the last
/// one gave back instead of fresh large arrays. Counted in bytes allocated by the calling thread, and
/// held to the interpreter's bits, also with several threads evaluating at once.
module FunctionalDiff.Core.Tests.EvalLendingTests

open System
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

// unusual sizes, so no other test's plan asks for a buffer of this length
let private rows, inner, columns = 257, 61, 509

/// sum(tanh(x·w)): the product is a step of its own, whose [rows, columns] float64 result (about 1 MB)
/// lies in an arena slot, then tanh and the sum in one reduced group.
let private lossOf (x: Tensor) (w: Tensor) = Expr.sum (Expr.tanh (Expr.matmul (Expr.constant x) (Expr.constant w)))

[<Tests>]
let tests =
    testList "Eval lends its large buffers" [
        test "each step's new graph runs in the buffer the last step's plan gave back" {
            let random = Random 41
            let x = randomTensor random DType.Float64 [| rows; inner |]
            let slotBytes = int64 rows * int64 columns * 8L
            let mutable least = Int64.MaxValue
            for step in 1 .. 6 do
                // a new parameter tensor each step, as an uncompiled training loop has: a new graph
                let w = randomTensor random DType.Float64 [| inner; columns |]
                let root = lossOf x w
                let before = GC.GetAllocatedBytesForCurrentThread()
                let value = (Eval.evalMany [ root ]).[0]
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                if step > 1 then least <- min least allocated
                expectSameBits value (Interpret.evalMany (Collections.Generic.Dictionary()) [| root |]).[0] (sprintf "step %d" step)
            // the least of five steps: another test's run may take a buffer of this length in between
            Expect.isLessThan least (slotBytes / 2L) "the product's buffer is not allocated again"
        }

        test "graphs evaluated on several threads at once give the interpreter's bits" {
            let x = randomTensor (Random 43) DType.Float64 [| rows; inner |]
            let weights = Array.init 8 (fun k -> randomTensor (Random(100 + k)) DType.Float64 [| inner; columns |])
            let expected = weights |> Array.map (fun w -> let root = lossOf x w in (Interpret.evalMany (Collections.Generic.Dictionary()) [| root |]).[0])
            let results = Array.zeroCreate (8 * 20)
            Parallel.For(0, results.Length, fun i ->
                let k = i % 8
                // the same weights make one graph (interned), so one plan: runs at once take separate arenas
                results.[i] <- (Eval.evalMany [ lossOf x weights.[k] ]).[0]) |> ignore
            results |> Array.iteri (fun i r -> expectSameBits r expected.[i % 8] (sprintf "run %d" i))
        }

        test "compiled plans keep their buffers" {
            let x = Expr.variable "x" [| rows; inner |] DType.Float64
            let w = Expr.variable "w" [| inner; columns |] DType.Float64
            let plan = Planner.compile [| x; w |] [| Expr.sum (Expr.tanh (Expr.matmul x w)) |] true
            Expect.isFalse plan.LendsSlots "a plan compiled for a function keeps its arena"
        }
    ]
