/// Graph size and scale: node counts of MLP losses, their gradients and HVPs as depth grows; the
/// growth of nested tanh derivatives; a chain of a million nodes; and a flat heap when graphs are
/// built and dropped in a loop.
module FunctionalDiff.Core.Tests.GraphScaleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// Node counts of an L-layer tanh MLP's loss, its gradient (all parameters) and its HVP graph.
let private mlpCounts (layers: int) =
    let x = Expr.variable "x" [| 4 |] f64
    let parameters = [ for _ in 1 .. layers do
                         yield Expr.variable "W" [| 4; 4 |] f64
                         yield Expr.variable "b" [| 4 |] f64 ]
    let loss (ps: Expr list) =
        let mutable h = x
        for pair in List.chunkBySize 2 ps do
            h <- tanh (Expr.matmul pair.[0] h + pair.[1])
        Expr.sum (h * h)
    let directions = parameters |> List.map (fun p -> Expr.variable "v" p.Shape f64)
    let gradient = Diff.gradN loss parameters
    let hvp = Diff.gradN (fun ps -> List.map2 (fun g v -> Expr.sum (g * v)) (Diff.gradN loss ps) directions |> List.reduce (+)) parameters
    Graph.nodeCount (loss parameters), (Graph.topologicalOrder gradient).Length, (Graph.topologicalOrder hvp).Length

[<Tests>]
let tests =
    testList "Graph" [
        testList "Scale" [
            test "MLP loss, gradient and HVP graphs grow linearly in depth" {
                // Measured (loss, gradient, HVP) for L = 1,2,4,8,16:
                // (8,15,28) (13,30,69) (23,60,151) (43,120,315) (83,240,643).
                let depths = [| 1; 2; 4; 8; 16 |]
                let counts = depths |> Array.map mlpCounts
                // Linear: the cost of one more layer is the same at every depth from 2 on.
                let perLayer (pick: int * int * int -> int) =
                    Array.init (depths.Length - 1) (fun i -> float (pick counts.[i + 1] - pick counts.[i]) / float (depths.[i + 1] - depths.[i]))
                for name, pick in [ "loss", (fun (a, _, _) -> a); "gradient", (fun (_, b, _) -> b); "hvp", (fun (_, _, c) -> c) ] do
                    let increments = perLayer pick
                    for i in 1 .. increments.Length - 1 do
                        Expect.floatClose Accuracy.high increments.[i] increments.[1] (sprintf "%s: nodes per layer %A" name increments)
                // Ratios to the loss graph, measured at L = 16: gradient 2.9, HVP 7.7. Bounds leave 10%.
                for (loss, gradient, hvp), depth in Array.zip counts depths do
                    Expect.isLessThanOrEqual (float gradient / float loss) 3.2 (sprintf "gradient/loss at L=%d" depth)
                    Expect.isLessThanOrEqual (float hvp / float loss) 8.5 (sprintf "hvp/loss at L=%d" depth)
            }
            test "nested tanh derivatives grow linearly in the order, not geometrically" {
                // d^k tanh / dx^k for k = 1..8 measured 5, 8, 10, 12, 14, 17, 20, 22 nodes (k = 9..14:
                // 25, 27, 30, 32, 35, 37). Before the Rewrite pass: 5, 9, 12, 21, 40, 77, 148, 299, ~1.95x
                // per order, because each order differentiated the whole previous graph. Now every
                // order's result is a polynomial normal form in t = tanh x: the 8th is
                // (7936t - 48384t³ + 80640t⁵ - 40320t⁷)(1 - t²), with the powers of t shared, so an
                // order adds two or three nodes: a power of t, a coefficient product and a sum.
                let counts =
                    [| for k in 1 .. 8 do
                         let mutable f : Expr -> Expr = tanh
                         for _ in 1 .. k do
                             let inner = f
                             f <- Diff.grad inner
                         yield Graph.nodeCount (f (Expr.variable "x" [||] f64)) |]
                // Linear (3k + 3 bound; the old eighth order, 299, is ten times over it), with
                // consecutive ratios falling toward 1 (measured 1.10 from 7 to 8; geometric growth held
                // them near 1.95).
                expectLinearGrowth counts
                // And the values: the eighth derivative against the closed-form tanh polynomial.
                let eighth =
                    let mutable f : Expr -> Expr = tanh
                    for _ in 1 .. 8 do
                        let inner = f
                        f <- Diff.grad inner
                    f
                for x0 in [ -0.9; 0.2; 1.1 ] do
                    let expected = GraphNestedTests.polynomial (GraphNestedTests.tanhDerivativePolynomial 8) (Math.Tanh x0)
                    expectClose 1e-10 [| value (eighth (Expr.scalar f64 x0)) |] [| expected |] (sprintf "x = %g" x0)
            }
            testSequenced <| test "a chain of a million nodes builds, differentiates and evaluates without recursion" {
                let n = 1_000_000
                let x = Expr.variable "x" [||] f64
                let chain (v: Expr) =
                    let mutable e = v
                    for _ in 1 .. n do
                        e <- sin e
                    e
                let value, gradient = Diff.valueAndGrad chain x
                Expect.isGreaterThanOrEqual (Graph.nodeCount gradient) (2 * n) "gradient graph size"
                let results = Eval.evalManyWith [ x, Tensor.Scalar(0.5, f64) ] [ value; gradient ]
                // Reference: the same recurrence in a plain loop; the derivative is the product of cosines.
                let mutable v, d = 0.5, 1.0
                for _ in 1 .. n do
                    d <- d * cos v
                    v <- sin v
                // Same operations in the same order in float64, up to the kernel's own sin/cos rounding.
                expectClose 1e-12 [| results.[0].ToScalar(); results.[1].ToScalar() |] [| v; d |] "value and derivative"
            }
            // Sequenced: a heap measurement needs no other test allocating at the same time.
            testSequenced <| test "building, differentiating and dropping 1,000 graphs leaves the heap flat" {
                // Each graph: a fresh Var, a chain of 2,500 sin/mul steps, its gradient; primal plus
                // gradient is over 10^4 nodes (asserted; about 10,300 measured after the Rewrite pass
                // folds the gradient's factors of 1.5). Nothing is kept between iterations.
                let build () =
                    let x = Expr.variable "x" [| 2 |] f64
                    let gradient = Diff.grad (fun v -> let mutable e = v in (for _ in 1 .. 2500 do e <- sin e * 1.5); Expr.sum e) x
                    Graph.nodeCount gradient
                let measure () =
                    GC.Collect()
                    GC.WaitForPendingFinalizers()
                    Ir.purge ()
                    GC.GetTotalMemory(true)
                // Warm up so the interning table and caches reach their working size first.
                for _ in 1 .. 20 do build () |> ignore
                let before = measure ()
                let mutable smallest = Int32.MaxValue
                for _ in 1 .. 1000 do
                    smallest <- min smallest (build ())
                let after = measure ()
                Expect.isGreaterThanOrEqual smallest 10_000 "nodes per graph"
                // A leak would keep ~10^4 nodes x ~200 bytes = 2 MB per graph, 2 GB in all. The bound,
                // 8 MB, allows for the interning table's bucket arrays, which keep their capacity.
                Expect.isLessThan (after - before) (8L <<< 20) (sprintf "heap grew from %d to %d bytes" before after)
            }
            testSequenced <| test "a loop that wraps a fresh 4 MB constant in a graph each step keeps the heap bounded" {
                // No explicit purge: a constant's node and its tensor must die together, in the
                // collection that finds them unreachable. 300 steps of 4 MB would hold 1.2 GB if the
                // interning table kept dead constants' tensors; the bound is 16 constants' worth.
                // Both measurements are of the live heap after a full collection, so neither the
                // load nor other tests' garbage moves them.
                let values = Array.zeroCreate<float> 500_000
                let step (i: int) =
                    values.[0] <- float i
                    let x = Expr.constant (Tensor.ofArray64 [| values.Length |] values)
                    Eval.eval (Expr.sum (x * x)) |> ignore
                let measure () =
                    GC.Collect()
                    GC.WaitForPendingFinalizers()
                    GC.GetTotalMemory(true)
                step 0
                let before = measure ()
                for i in 1 .. 300 do step i
                let after = measure ()
                Expect.isLessThan (after - before) (64L <<< 20) (sprintf "heap grew from %d to %d bytes" before after)
            }
        ]
    ]
