/// Eval keeps one plan for every graph of one structure (GraphKey): an uncompiled loop's next step,
/// a new graph over other tensors, runs the plan the step before made, with those tensors as its
/// inputs. Held to the interpreter's bits (Interpret, node by node, which plans nothing); which
/// plan runs is counted by identity, and what the kept plans hold by weak references after the
/// graphs are dropped.
module FunctionalDiff.Core.Tests.EvalStructureTests

open System
open System.Collections.Generic
open System.Runtime.CompilerServices
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

let private interpreted (roots: Expr[]) = Interpret.evalMany (Dictionary()) roots

// unusual sizes, so no other test's graph has this structure
let private rows, inner, columns = 23, 7, 11

/// The loss sum(tanh(x·w + b) · s) and its gradients in w and b, at tensors: the loss reads the
/// batch x as a Const, the gradients read Vars bound to w and b (Diff's results at tensors).
let private step (x: Tensor) (w: Tensor) (b: Tensor) (s: float) =
    let loss, gradients =
        Diff.valueAndGradN (fun p -> Expr.sum (Expr.tanh (Expr.matmul (Expr.constant x) p.[0] + p.[1]) * s)) [ Expr.constant w; Expr.constant b ]
    Array.ofList (loss :: gradients)

/// One step whose graphs and tensors are dropped on return, with weak references to its tensors.
/// NoInlining keeps the JIT from stretching their lifetimes into the caller.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private droppedStep (k: int) : WeakReference[] =
    let random = Random(80 + k)
    let x = randomTensor random DType.Float64 [| rows; inner |]
    let w = randomTensor random DType.Float64 [| inner; columns |]
    let b = randomTensor random DType.Float64 [| columns |]
    Eval.evalMany (step x w b 0.75) |> ignore
    [| WeakReference x; WeakReference w; WeakReference b |]

[<Tests>]
let tests =
    testList "Eval by structure" [
        test "a loop's new graphs at new parameters and batches run one plan with the interpreter's bits" {
            let random = Random 61
            let mutable first = Unchecked.defaultof<Plan>
            for k in 1 .. 5 do
                let x = randomTensor random DType.Float64 [| rows; inner |]
                let w = randomTensor random DType.Float64 [| inner; columns |]
                let b = randomTensor random DType.Float64 [| columns |]
                let roots = step x w b 0.5
                let results = Eval.evalMany roots
                let expected = interpreted roots
                for i in 0 .. roots.Length - 1 do
                    expectSameBits results.[i] expected.[i] (sprintf "step %d root %d" k i)
                let plan = Eval.planFor [||] roots
                if k = 1 then first <- plan
                else Expect.isTrue (obj.ReferenceEquals(plan, first)) (sprintf "step %d planned again" k)
        }

        test "the gradient matches the closed form at the second step's tensors" {
            // d/dw sum(tanh(xw + b)) = xᵀ (1 − tanh²(xw + b)), by loops over the arrays
            let random = Random 62
            let draw () = randomTensor random DType.Float64 [| rows; inner |], randomTensor random DType.Float64 [| inner; columns |], randomTensor random DType.Float64 [| columns |]
            let x1, w1, b1 = draw ()
            Eval.evalMany (step x1 w1 b1 1.0) |> ignore
            let x, w, b = draw ()
            let results = Eval.evalMany (step x w b 1.0)
            let xs, ws, bs = x.ToDoubleArray(), w.ToDoubleArray(), b.ToDoubleArray()
            let slope = Array2D.init rows columns (fun i j ->
                let mutable z = bs.[j]
                for k in 0 .. inner - 1 do z <- z + xs.[i * inner + k] * ws.[k * columns + j]
                1.0 - tanh z * tanh z)
            let expectedW = Array.init (inner * columns) (fun at ->
                let k, j = at / columns, at % columns
                let mutable total = 0.0
                for i in 0 .. rows - 1 do total <- total + xs.[i * inner + k] * slope.[i, j]
                total)
            let expectedB = Array.init columns (fun j -> Seq.sum (seq { for i in 0 .. rows - 1 -> slope.[i, j] }))
            GraphTestSupport.expectClose 1e-12 (results.[1].ToDoubleArray()) expectedW "gradient in w"
            GraphTestSupport.expectClose 1e-12 (results.[2].ToDoubleArray()) expectedB "gradient in b"
        }

        test "a scalar constant is structure: another scale is another plan, with its own value" {
            let random = Random 63
            let x = randomTensor random DType.Float64 [| rows; inner |]
            let w = randomTensor random DType.Float64 [| inner; columns |]
            let b = randomTensor random DType.Float64 [| columns |]
            let half, third = step x w b 0.5, step x w b (1.0 / 3.0)
            let halfValues, thirdValues = Eval.evalMany half, Eval.evalMany third
            Expect.isFalse (obj.ReferenceEquals(Eval.planFor [||] half, Eval.planFor [||] third)) "one plan for two scales"
            for i in 0 .. half.Length - 1 do
                expectSameBits halfValues.[i] (interpreted half).[i] (sprintf "0.5, root %d" i)
                expectSameBits thirdValues.[i] (interpreted third).[i] (sprintf "1/3, root %d" i)
        }

        test "a root that is a leaf, or a view of one, is a copy of it" {
            // the gradient of ½ sum(w²) is w itself, a Var bound to the caller's tensor
            let random = Random 64
            for k in 1 .. 2 do
                let w = randomTensor random DType.Float64 [| inner; columns |]
                let x = randomTensor random DType.Float64 [| inner; columns |]
                let gradient = Diff.grad (fun v -> 0.5 * Expr.sum (Expr.square v)) (Expr.constant w)
                let roots = [| gradient; Expr.transpose gradient; Expr.constant x; Expr.sum (Expr.constant x) |]
                let results = Eval.evalMany roots
                for i in 0 .. 2 do
                    Expect.isFalse (obj.ReferenceEquals(results.[i].Storage, w.Storage) || obj.ReferenceEquals(results.[i].Storage, x.Storage))
                        (sprintf "step %d: root %d shares the caller's memory" k i)
                Expect.equal (results.[0].ToDoubleArray()) (w.ToDoubleArray()) "the gradient is w"
                expectSameBits results.[1] (interpreted [| roots.[1] |]).[0] "its transpose"
                Expect.equal (results.[2].ToDoubleArray()) (x.ToDoubleArray()) "the batch"
        }

        test "graphs of one structure evaluated on several threads at once give the interpreter's bits" {
            let graphs =
                Array.init 8 (fun k ->
                    let random = Random(70 + k)
                    step (randomTensor random DType.Float64 [| rows; inner |]) (randomTensor random DType.Float64 [| inner; columns |])
                         (randomTensor random DType.Float64 [| columns |]) 0.25)
            let expected = graphs |> Array.map interpreted
            let results = Array.zeroCreate (8 * 20)
            Parallel.For(0, results.Length, fun i -> results.[i] <- Eval.evalMany graphs.[i % 8]) |> ignore
            results |> Array.iteri (fun i r ->
                for j in 0 .. r.Length - 1 do expectSameBits r.[j] expected.[i % 8].[j] (sprintf "run %d root %d" i j))
        }

        testSequenced <| test "the kept plans hold no step's tensors once its graphs are dropped" {
            let kept = [| for k in 1 .. 10 -> droppedStep k |] |> Array.concat
            GC.Collect()
            GC.WaitForPendingFinalizers()
            GC.Collect()
            Ir.purge ()
            GC.Collect()
            let alive = kept |> Array.filter (fun r -> r.IsAlive) |> Array.length
            Expect.equal alive 0 "tensors of dropped graphs still reachable"
        }
    ]
