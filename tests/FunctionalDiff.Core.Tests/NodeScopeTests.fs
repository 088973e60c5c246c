/// Where a transform's nodes are interned (see NodeScope in Ir.fs), and what a gradient at a number
/// allocates per node it makes: the path of issue 12's benchmark row, `Diff.Grad` of a long chain
/// at a scalar tensor. Counted on this thread, never timed.
module FunctionalDiff.Core.Tests.NodeScopeTests

open System
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

/// `steps` steps of x ← sin(tanh(0.9·x + 0.1)): four ops each.
let private chain (steps: int) (x: Expr) =
    let mutable e = x
    for _ in 1 .. steps do
        e <- sin (tanh (e * 0.9 + 0.1))
    e

[<Tests>]
let tests =
    testList "Graph" [
        testList "NodeScope" [
            test "nodes over a transform's Var are hash-consed in its scope; the result is not in it" {
                let x = Expr.variable "x" [| 3 |] f64
                let inside = ResizeArray<Expr>()
                let gradient =
                    Diff.grad (fun v ->
                        // the same structure twice, and once over another leaf
                        inside.Add(sin (v * 2.0))
                        inside.Add(sin (v * 2.0))
                        inside.Add(sin (x * 2.0))
                        Expr.sum (inside.[0] * inside.[1])) x
                Expect.isTrue (obj.ReferenceEquals(inside.[0], inside.[1])) "equal nodes over the Var are one object"
                Expect.isFalse (obj.ReferenceEquals(inside.[0], inside.[2])) "a node over the Var is not the node over x"
                Expect.isNotNull inside.[0].Scope "a node over the transform's Var lives in its scope"
                Expect.isNull inside.[2].Scope "a node over a user's Var lives in the process-wide table"
                // The gradient is over x, substituted for the Var: none of its nodes is in a scope.
                Expect.isTrue (Graph.topologicalOrder [| gradient |] |> Seq.forall (fun e -> isNull e.Scope)) "the result's nodes"
                // d/dx Σ sin²(2x) = 4 sin(2x) cos(2x), against a reference at a point
                let at = [| 0.3; -1.1; 2.0 |]
                let value = (Eval.evalWith [ x, Tensor.ofArray64 [| 3 |] at ] gradient).ToDoubleArray()
                for i in 0 .. 2 do
                    let reference = 4.0 * sin (2.0 * at.[i]) * cos (2.0 * at.[i])
                    Expect.floatClose Accuracy.high value.[i] reference (sprintf "entry %d" i)
            }
            test "threads that build the same node in one scope get one object" {
                let x = Expr.variable "x" [||] f64
                let built = Array.zeroCreate<Expr> 8
                Diff.grad (fun v ->
                    Parallel.For(0, built.Length, fun i -> built.[i] <- tanh (chain 200 v)) |> ignore
                    built.[0]) x
                |> ignore
                for i in 1 .. built.Length - 1 do
                    Expect.isTrue (obj.ReferenceEquals(built.[0], built.[i])) (sprintf "thread %d" i)
            }
            test "a pullback called many times does not grow its Var's scope after the first call" {
                // A scope holds what is built over its Var for as long as the Var lives, and a
                // pullback keeps its Var: each call's nodes over the call's cotangent belong to that
                // cotangent's own scope, and those over the Var alone are the same nodes every call.
                let x = Expr.variable "x" [| 4 |] f64
                let mutable var = Unchecked.defaultof<Expr>
                let _, pullback = Diff.vjp (fun v -> var <- v; tanh (v * v) * 3.0) x
                let cotangent (i: int) = Expr.variable (sprintf "g%d" i) [| 4 |] f64
                pullback (cotangent 0) |> ignore
                let after = var.Scope.Count
                for i in 1 .. 200 do
                    pullback (cotangent i) |> ignore
                Expect.equal var.Scope.Count after "nodes in the Var's scope after 200 more calls"
            }
            test "a constructor that finds its node already interned allocates nothing" {
                // Hash-consing hits are common (a transform's rules ask for nodes that exist), so a
                // lookup must not make the inputs array or the broadcast shape it would give a new
                // node. Both tables: the process-wide one, and a transform's scope.
                let x = Expr.variable "x" [| 16 |] f64
                let y = Expr.variable "y" [| 16 |] f64
                let wide = [| 3; 16 |]
                let requests (v: Expr) =
                    [| sin v; v * y; v * 2.0; y - v; Expr.cast DType.Float32 v; Expr.broadcastTo wide v |]
                let check (v: Expr) =
                    let first = requests v
                    let bytes = GC.GetAllocatedBytesForCurrentThread()
                    let again = requests v
                    let allocated = GC.GetAllocatedBytesForCurrentThread() - bytes
                    for i in 0 .. first.Length - 1 do
                        Expect.isTrue (obj.ReferenceEquals(first.[i], again.[i])) (sprintf "request %d is the same node" i)
                    allocated
                check x |> ignore // JIT-compiles the constructors
                // all the second call may allocate: the array `requests` returns (a header, a length
                // and six references)
                let arrayBytes = int64 (IntPtr.Size * 6 + 3 * IntPtr.Size)
                Expect.isLessThanOrEqual (check x) arrayBytes "bytes beyond the result array, process-wide table"
                Diff.grad (fun v ->
                    check v |> ignore
                    Expect.isLessThanOrEqual (check v) arrayBytes "bytes beyond the result array, the transform's scope"
                    Expr.sum (sin v)) x
                |> ignore
            }
            test "an open-ended id map holds the ids made after it, against a dictionary" {
                // The tables of a walk that records the nodes it builds (tanh's look at its cotangent,
                // the folding at numbers): ids from its low end, made before and after the map, across
                // the doubling pages (64 ids up to 4,096) and well past them, and ids outside its range.
                let before = Ir.freshScopedVar "before" [||] f64
                let low = Ir.newestId ()
                let map = IdMap<int64>(low, true)
                let reference = Collections.Generic.Dictionary<int64, int64>()
                let random = Random(61206)
                let mutable newest = low
                for i in 1 .. 30_000 do
                    let v = Ir.freshScopedVar "x" [||] f64
                    newest <- v.Id
                    if random.Next 3 = 0 then
                        map.[v.Id] <- int64 i
                        reference.[v.Id] <- int64 i
                // an id below the range and one long after it go to the map's dictionary
                map.[before.Id] <- -1L
                reference.[before.Id] <- -1L
                map.[newest + (1L <<< 26)] <- -2L
                reference.[newest + (1L <<< 26)] <- -2L
                for id in low - 5L .. newest do
                    let expected = match reference.TryGetValue id with | true, v -> v | _ -> 0L
                    Expect.equal map.[id] expected (sprintf "id %d" (id - low))
                Expect.equal map.[before.Id] -1L "below the range"
                Expect.equal map.[newest + (1L <<< 26)] -2L "beyond the range"
                map.Release()
                Expect.equal map.[low + 10L] 0L "empty after Release"
            }
            test "a node made in a transform's scope costs its object: a header and eight fields" {
                // op, the two inputs, the inputs of a wider op, the shape, the id with the dtype (one
                // field), the scope and the facade's wrapper: 16 + 8 · 8 = 80 bytes on a 64-bit runtime,
                // with nothing else per node once the scope's tables have their size (the fewest bytes
                // of three runs: the tables' arrays come from the shared pool). Over a vector, where
                // no value is folded as the nodes are made.
                let length = 10_000
                let mutable fewest = Int64.MaxValue
                for _ in 1 .. 3 do
                    Diff.grad (fun v ->
                        let bytes = GC.GetAllocatedBytesForCurrentThread()
                        let mutable e = v
                        for _ in 1 .. length do
                            e <- sin e
                        fewest <- min fewest (GC.GetAllocatedBytesForCurrentThread() - bytes)
                        Expr.sum e) (Expr.constant (Tensor.ofArray64 [| 2 |] [| 0.5; -0.5 |]))
                    |> ignore
                let perNode = float fewest / float length
                Expect.isLessThan perNode (float (16 + 9 * IntPtr.Size)) (sprintf "%.1f bytes per node: fewer than a header and nine fields" perNode)
                Expect.isGreaterThanOrEqual perNode (float (16 + 8 * IntPtr.Size)) (sprintf "%.1f bytes per node: at least the object" perNode)
            }
            test "a gradient of a chain over a vector allocates under two and a half nodes' worth per node it makes" {
                // As the scalar case below, but no scalar folds: every node of the derivative stays
                // symbolic, and every binary node has a scalar operand to broadcast.
                let steps = 5_000
                let point = Expr.constant (Tensor.ofArray64 [| 16 |] (Array.init 16 (fun i -> 0.1 + 0.05 * float i)))
                let f (v: Expr) = Expr.sum (chain steps v)
                Diff.grad f point |> ignore
                // The fewest bytes of three calls: the work tables come from the shared pool, and a
                // test running at the same time on another thread may hold the arrays one call
                // would have reused.
                let mutable gradient = Unchecked.defaultof<Expr>
                let mutable made, allocated = 0L, Int64.MaxValue
                for _ in 1 .. 3 do
                    let nodes = Made.Count
                    let bytes = GC.GetAllocatedBytesForCurrentThread()
                    gradient <- Diff.grad f point
                    let bytes = GC.GetAllocatedBytesForCurrentThread() - bytes
                    if bytes < allocated then
                        allocated <- bytes
                        made <- Made.Count - nodes
                Expect.isGreaterThanOrEqual made (int64 (10 * steps)) "nodes made"
                let perNode = float allocated / float made
                // a bound set when a node was 112 bytes (its object and an inputs array); it is 80 now (see above)
                Expect.isLessThan perNode (2.5 * 112.0) (sprintf "%.0f bytes per node made (%d nodes, %d bytes)" perNode made allocated)
                // The derivative, entry by entry, against the chain rule in a loop. Over 5,000 steps
                // it underflows to 0 (each step multiplies it by less than 1), which would check
                // nothing, so the same code is checked over 20 steps, where it is far from 0.
                let short = 20
                let value = (Eval.eval (Diff.grad (fun v -> Expr.sum (chain short v)) point)).ToDoubleArray()
                for i in 0 .. 15 do
                    let mutable v, d = 0.1 + 0.05 * float i, 1.0
                    for _ in 1 .. short do
                        let t = tanh (0.9 * v + 0.1)
                        d <- d * cos t * (1.0 - t * t) * 0.9
                        v <- sin t
                    Expect.isGreaterThan (abs d) 1e-30 "the reference is far from underflow"
                    Expect.floatClose Accuracy.veryHigh value.[i] d (sprintf "entry %d: gradient %g, reference %g" i value.[i] d)
                Expect.isNotNull (box gradient) "the 5,000-step gradient was built"
            }
            test "a gradient of a chain at a number allocates under 1.6 nodes' worth per node it makes" {
                // What one node holds: the Expr object, 80 bytes (see above). 0.6 of a node more per node
                // covers what is transient: the scope's table slots as they double, and the bookkeeping
                // of tanh's look at its cotangent (Rules.cotangentIsBoundedPolynomial), whose per-node
                // table came to 40 bytes a node more while it was a Dictionary, and now lives in pooled
                // pages, and of the folding at a number as nodes are made (NumbersAsMade).
                let steps = 5_000
                let point = Expr.constant (Tensor.Scalar(0.3, f64))
                // warm-up at the same size: first calls JIT-compile and size the pools
                Diff.grad (chain steps) point |> ignore
                // The fewest bytes of three calls, as over a vector above.
                let mutable gradient = Unchecked.defaultof<Expr>
                let mutable made, allocated = 0L, Int64.MaxValue
                for _ in 1 .. 3 do
                    let nodes = Made.Count
                    let bytes = GC.GetAllocatedBytesForCurrentThread()
                    gradient <- Diff.grad (chain steps) point
                    let bytes = GC.GetAllocatedBytesForCurrentThread() - bytes
                    if bytes < allocated then
                        allocated <- bytes
                        made <- Made.Count - nodes
                // trace 4 and reverse walk 6 nodes per step, at least (see SymbolicCostTests)
                Expect.isGreaterThanOrEqual made (int64 (10 * steps)) "nodes made"
                let perNode = float allocated / float made
                Expect.isLessThan perNode (1.6 * 80.0) (sprintf "%.0f bytes per node made (%d nodes, %d bytes)" perNode made allocated)
                Expect.equal gradient.Rank 0 "a scalar"
                // and it is the derivative, folded to a number: the product of the chain rule's
                // factors. Over 5,000 steps that product underflows to 0, which would check nothing,
                // so the same code is checked over 20 steps, where it is far from 0.
                let short = 20
                let mutable v, d = 0.3, 1.0
                for _ in 1 .. short do
                    let t = tanh (0.9 * v + 0.1)
                    d <- d * cos t * (1.0 - t * t) * 0.9
                    v <- sin t
                Expect.isGreaterThan (abs d) 1e-30 "the reference is far from underflow"
                let value = (Eval.eval (Diff.grad (chain short) point)).ToScalar()
                Expect.floatClose Accuracy.veryHigh value d (sprintf "gradient %g, reference %g" value d)
            }
        ]
    ]
