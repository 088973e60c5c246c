/// What compiling a plan allocates, counted per node: graphs of many small tensors (a gradient
/// taken through an unrolled loop of 8-element steps) compile a plan as often as they evaluate,
/// so the compile is most of an evaluation, and its allocations are most of its cost.
module FunctionalDiff.Core.Tests.PlanCompileCostTests

open System
open Expecto
open FunctionalDiff.Core

/// An unrolled loop of `steps` steps on an 8-element x, each step a few elementwise nodes whose
/// inputs are shared (x feeds both tanh and the product), so most nodes head a fused group of
/// their own, as in a loop's gradient.
let private loop (steps: int) =
    let x0 = Expr.variable "x" [| 8 |] DType.Float64
    let mutable x = x0
    for _ in 1 .. steps do
        let t = Expr.tanh x
        x <- t * x + x * 0.5
    x0, x

/// Bytes this thread allocates compiling the plan, the least of three compiles (the first may
/// still run code the JIT has not optimised yet).
let internal compileBytes (input: Expr) (root: Expr) =
    let mutable least = Int64.MaxValue
    for _ in 1 .. 3 do
        let before = GC.GetAllocatedBytesForCurrentThread()
        Planner.compile [| input |] [| root |] false |> ignore
        least <- min least (GC.GetAllocatedBytesForCurrentThread() - before)
    least

[<Tests>]
let tests =
    testList "PlanCompileCost" [
        testCase "compiling a loop of small elementwise steps allocates a bounded number of bytes per node" <| fun () ->
            let input, root = loop 2_000
            let nodes = Graph.nodeCount root
            let perNode = float (compileBytes input root) / float nodes
            // Per node a plan keeps its value's home, its step or instruction and its operands,
            // and table entries. Fresh working tables per fused group and a closure per dtype
            // check made it 845 bytes; sharing the tables and a plain loop made it 486.
            Expect.isLessThan perNode 650.0 (sprintf "%.0f bytes per node over %d nodes" perNode nodes)

        testCase "the plan of the loop gives the interpreter's values" <| fun () ->
            let input, root = loop 200
            let x = Tensor.FromArray(Array.init 8 (fun i -> 0.1 * float (i - 4)), [| 8 |])
            let planned = (Planner.compile [| input |] [| root |] false).Run([| x |], null).[0]
            // a plain loop over the elements, independent of both
            let expected =
                Array.init 8 (fun i ->
                    let mutable v = 0.1 * float (i - 4)
                    for _ in 1 .. 200 do
                        v <- Math.Tanh v * v + v * 0.5
                    v)
            let actual = planned.ToDoubleArray()
            for i in 0 .. 7 do
                Expect.floatClose Accuracy.veryHigh actual.[i] expected.[i] (sprintf "element %d" i)
    ]
