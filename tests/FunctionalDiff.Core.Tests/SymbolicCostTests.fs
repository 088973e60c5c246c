/// What the symbolic layer spends on a gradient, counted on this thread (never timed): the nodes
/// it makes and the bytes it allocates. The workload is issue 12's chain, x ← sin(tanh(0.9·x + 0.1)),
/// whose gradient is the one the benchmark takes at 10^5 ops.
module FunctionalDiff.Core.Tests.SymbolicCostTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// `steps` steps of the chain: four ops each (a product, a sum, tanh, sin).
let private chain (steps: int) (x: Expr) =
    let mutable e = x
    for _ in 1 .. steps do
        e <- sin (tanh (e * 0.9 + 0.1))
    e

/// The nodes made on this thread and the bytes it allocated while `f` ran, and f's result.
let private counted (f: unit -> 'T) =
    let nodes = Made.Count
    let bytes = GC.GetAllocatedBytesForCurrentThread()
    let result = f ()
    Made.Count - nodes, GC.GetAllocatedBytesForCurrentThread() - bytes, result

[<Tests>]
let tests =
    testList "Graph" [
        testList "SymbolicCost" [
            test "a gradient of a chain makes only the nodes its trace, its rules and the substitution need" {
                // Per step, from the rules table: the trace makes 4 nodes (x·0.9, +0.1, tanh, sin);
                // the reverse walk makes 6 (sin: cos t and g·cos t; tanh: y², 1 − y² and the
                // product; x·0.9: g·0.9; the sum passes g on); the substitution of the argument for
                // the transform's Var rebuilds each of those 10 once. The simplification finds
                // nothing smaller (the gradient is already a product chain), so makes none. A few
                // nodes more in all: the Var, the seed, the final sum-to-shape.
                let steps = 2_000
                let x = Expr.variable "x" [||] f64
                let made, _, _ = counted (fun () -> Diff.grad (chain steps) x)
                Expect.isLessThanOrEqual made (int64 (20 * steps + 8)) "nodes made by the gradient"
                Expect.isGreaterThanOrEqual made (int64 (20 * steps)) "nodes made by the gradient (each counted)"
                // And the graph is the derivative: the product of the chain rule's factors (a short
                // chain, whose derivative is far from underflow).
                let steps = 50
                let x0 = 0.3
                let mutable v, d = x0, 1.0
                for _ in 1 .. steps do
                    let t = tanh (0.9 * v + 0.1)
                    d <- d * cos t * (1.0 - t * t) * 0.9
                    v <- sin t
                let value = (Eval.evalWith [ x, Tensor.Scalar(x0, f64) ] (Diff.grad (chain steps) x)).ToScalar()
                Expect.isLessThan (abs (value / d - 1.0)) 1e-12 (sprintf "gradient %g, reference %g" value d)
            }
            test "a gradient of a chain allocates under 500 bytes per node it makes" {
                // An Expr, its input array and its table slot take about 100 bytes; the rest is the
                // transient work per node: the rules' thunks, the polynomials of the simplification,
                // the traversals' tables. Before issue 18's allocation work this gradient took 540 to
                // 620 bytes per node made. (The bound leaves room for the traversals' pooled tables,
                // which a full collection elsewhere may have trimmed since the warm-up.)
                let steps = 5_000
                // warm-up at the same size: first calls JIT-compile and size the pools
                Diff.grad (chain steps) (Expr.variable "x" [||] f64) |> ignore
                let x = Expr.variable "x" [||] f64
                let made, bytes, _ = counted (fun () -> Diff.grad (chain steps) x)
                let perNode = float bytes / float made
                Expect.isLessThan perNode 500.0 (sprintf "%.0f bytes per node made (%d nodes, %d bytes)" perNode made bytes)
            }
            test "looking up an interned scalar constant allocates nothing" {
                // Folding scalars asks for constants by value, and most are interned already; the
                // lookup must not build a tensor (or anything else) to find them. 1,000 values, more
                // than the constructors' small cache of common scalars holds, kept alive here.
                let values = Array.init 1000 (fun i -> 0.001 * float i + 1e-7)
                let nodes = values |> Array.map (Expr.scalar f64)
                let lookUp () =
                    let mutable same = 0
                    for i in 0 .. values.Length - 1 do
                        if obj.ReferenceEquals(Expr.scalar f64 values.[i], nodes.[i]) then same <- same + 1
                    same
                lookUp () |> ignore
                let before = GC.GetAllocatedBytesForCurrentThread()
                let same = lookUp ()
                let allocated = GC.GetAllocatedBytesForCurrentThread() - before
                Expect.equal same values.Length "each lookup finds the interned node"
                // The smallest object is 24 bytes, so under one byte per lookup means none allocates
                // (the runtime itself may allocate a little once, e.g. when it recompiles the loop).
                Expect.isLessThan allocated (int64 values.Length) "bytes allocated by 1,000 lookups"
            }
        ]
    ]
