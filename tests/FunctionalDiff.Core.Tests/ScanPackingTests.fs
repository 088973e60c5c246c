/// A compiled loop packs the B operand of a product by a captured weight once per run of the
/// loop, not once per step: counted per loop runner at two lengths; and a gradient accumulator
/// is added by its product's kernels. Neither changes a bit (the interpreter's values), and
/// concurrent runs with different weights never read each other's panels.
module FunctionalDiff.Core.Tests.ScanPackingTests

open System
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

// An LSTM-like cell on a batch, large enough that its products take the packed GEMM path:
// gates = x·Wxᵀ + h·Whᵀ + b, batch 5, input 11, hidden 20 (gates 80).
let private batch, input, hidden = 5, 11, 20

let private cell (wx: Expr) (wh: Expr) (b: Expr) (carries: Expr[]) (xs: Expr[]) =
    let h, c = carries.[0], carries.[1]
    let gates = Expr.matmul xs.[0] (Expr.transpose wx) + Expr.matmul h (Expr.transpose wh) + b
    let gate k = Expr.sliceAxis 1 (k * hidden) ((k + 1) * hidden) gates
    let c2 = Expr.sigmoid (gate 1) * c + Expr.sigmoid (gate 0) * Expr.tanh (gate 2)
    let h2 = Expr.sigmoid (gate 3) * Expr.tanh c2
    [| h2; c2 |], [| h2 |]

/// The loop's objective and its gradients in every input, over Vars, as plan roots.
let private problem (dtype: DType) (length: int) =
    let shapes = [ [| batch; hidden |]; [| batch; hidden |]; [| length; batch; input |]; [| 4 * hidden; input |]; [| 4 * hidden; hidden |]; [| 4 * hidden |] ]
    let vars = shapes |> List.mapi (fun i s -> Expr.variable (sprintf "p%d" i) s dtype)
    let objective (args: Expr list) =
        match args with
        | [ h0; c0; xs; wx; wh; b ] ->
            let carries, ys = Scan.scan (cell wx wh b) [| h0; c0 |] [| xs |]
            Expr.sum (ys.[0] * ys.[0]) + Expr.sum carries.[1]
        | _ -> failwith "six arguments"
    let value, gradients = Diff.valueAndGradN objective vars
    Array.ofList vars, Array.append [| value |] (Array.ofList gradients)

let private inputsFor (dtype: DType) (seed: int) (vars: Expr[]) =
    let random = Random seed
    // weights scaled down so the gates stay in the functions' sensitive range
    vars |> Array.mapi (fun i v ->
        let t = randomTensor random dtype v.Dims
        if i >= 3 then Tensor.FromArray(t.ToDoubleArray() |> Array.map ((*) 0.3), v.Dims).Cast dtype else t)

/// The loop runners of a plan's steps.
let private runners (plan: Plan) =
    plan.Steps |> Array.choose (fun step ->
        match step with
        | Step.Loop(runner, _, _) -> Some(runner :?> ScanRunner)
        | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
        | Step.Unfold _ | Step.Fold _ | Step.FoldProduct _ -> None)

[<Tests>]
let tests =
    testList "Scan.packing" [
        for dtype in [ DType.Float64; DType.Float32 ] do
            test (sprintf "%O: a captured weight is packed once per run, whatever the length, with the interpreter's bits" dtype) {
                let counts =
                    [ for length in [ 3; 30 ] do
                        let vars, roots = problem dtype length
                        let inputs = inputsFor dtype 17 vars
                        let expected = interpreted vars inputs roots
                        let plan = Planner.compile vars roots false
                        let loops = runners plan
                        Expect.isGreaterThanOrEqual loops.Length 2 "a forward and a backward loop"
                        for run in 1 .. 2 do
                            let actual = plan.Run(inputs, null)
                            for i in 0 .. roots.Length - 1 do
                                expectSameBits actual.[i] expected.[i] (sprintf "length %d run %d root %d" length run i)
                        let packings = loops |> Array.map (fun r -> r.Packings)
                        // each kept product packs its B at most once per run of its loop
                        for r in loops do
                            Expect.isLessThanOrEqual r.Packings (2L * int64 r.Plan.PackedOperands) "at most once per product per run"
                        yield packings ]
                Expect.equal counts.[1] counts.[0] "packings per loop at length 30 and at length 3"
                // forward: x·Wxᵀ and h·Whᵀ; backward: the carry's cotangent through Wh, at least
                Expect.isGreaterThanOrEqual (Array.sum counts.[0]) 6L "two runs pack three weights' products at least"
            }
        test "a weight's gradient accumulator is the addend of its product: no pass of its own" {
            let vars, roots = problem DType.Float64 4
            let plan = Planner.compile vars roots false
            let summed =
                runners plan |> Array.sumBy (fun r ->
                    r.Plan.Steps |> Array.sumBy (fun step ->
                        match step with
                        | Step.MatMul(_, _, _, _, _, addend) when addend >= 0 -> 1
                        | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
                        | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> 0))
            // acc + xᵀ·g for Wx and acc + hᵀ·g for Wh, in the backward loop
            Expect.equal summed 2 "products that add their accumulator"
        }
        test "concurrent runs with different weights give the bits of sequential runs" {
            let dtype = DType.Float64
            let vars, roots = problem dtype 6
            let compiled = Compile.compile (fun xs -> Substitute.apply (Array.zip vars xs) roots)
            let inputSets = [| inputsFor dtype 21 vars; inputsFor dtype 22 vars |]
            let expected = inputSets |> Array.map (fun inputs -> interpreted vars inputs roots)
            let failures = Collections.Concurrent.ConcurrentBag<string>()
            Parallel.For(0, 16, fun call ->
                let which = call % 2
                let actual = compiled.Invoke inputSets.[which]
                for i in 0 .. roots.Length - 1 do
                    let a, e = actual.[i].ToDoubleArray(), expected.[which].[i].ToDoubleArray()
                    if Array.exists2 (fun (x: float) (y: float) -> BitConverter.DoubleToInt64Bits x <> BitConverter.DoubleToInt64Bits y) a e then
                        failures.Add(sprintf "call %d (weights %d) root %d" call which i)) |> ignore
            Expect.isEmpty failures "every concurrent call has its own weights' bits"
        }
    ]
