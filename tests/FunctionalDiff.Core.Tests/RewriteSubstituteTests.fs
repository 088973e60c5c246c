/// Simplifying and substituting in one pass (Rewrite.simplifySubstituting), as every transform
/// finishes: the result is the graph the two passes give one after the other, and every node the
/// pass builds is a node of that result, so nothing is built over the Var only to be rebuilt over
/// its replacement. Counted in nodes made on this thread, never timed.
module FunctionalDiff.Core.Tests.RewriteSubstituteTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// A graph over v whose bottom simplifies (v·2 + v·3 is 5v, one node fewer), under `steps` sines
/// and products that all depend on it, so the simplification rebuilds every node above it.
let private tower (steps: int) (v: Expr) (c: Expr) =
    let mutable e = v * 2.0 + v * 3.0
    for _ in 1 .. steps do
        e <- sin e * c + e
    e

/// The nodes made on this thread while `f` ran, and its result.
let private counted (f: unit -> 'T) =
    let before = Made.Count
    let result = f ()
    Made.Count - before, result

/// The nodes of the graph below the roots that are newer than `id`.
let private newerThan (id: int64) (roots: Expr[]) =
    Graph.topologicalOrder roots |> Array.filter (fun e -> e.Id > id) |> Array.length

[<Tests>]
let tests =
    testList "Rewrite" [
        testList "Simplify and substitute" [
            test "one pass gives the graph of simplifying first and substituting after" {
                let c = Expr.variable "c" [| 3 |] f64
                let x = Expr.variable "x" [| 3 |] f64
                let v = Expr.variable "v" [| 3 |] f64
                let g = tower 20 v c
                let twoPasses = Substitute.apply [ v, x ] (Rewrite.simplifyFrom v.Id [| g |])
                let onePass = Rewrite.simplifySubstituting v.Id [| v, x |] [| g |]
                Expect.isTrue (obj.ReferenceEquals(onePass.[0], twoPasses.[0])) "the same node (hash-consing)"
                // and that graph is the tower at x, with its bottom as 5x
                let random = Random(3)
                let bindings = [ c, sample random Normal [| 3 |]; x, sample random Normal [| 3 |] ]
                expectClose 1e-12 ((Eval.evalWith bindings onePass.[0]).ToDoubleArray()) ((Eval.evalWith bindings (tower 20 x c)).ToDoubleArray()) "values"
            }
            test "every node the pass builds is a node of its result" {
                let steps = 500
                let c = Expr.variable "c" [| 3 |] f64
                let x = Expr.variable "x" [| 3 |] f64
                let v = Expr.variable "v" [| 3 |] f64
                let g = tower steps v c
                let newest = Ir.newestId ()
                let made, result = counted (fun () -> Rewrite.simplifySubstituting v.Id [| v, x |] [| g |])
                let kept = newerThan newest result
                Expect.isGreaterThanOrEqual kept (3 * steps) "the whole tower is rebuilt over x"
                // Simplifying first and substituting after built the tower twice: once over v, once over
                // x. A few nodes of slack: a scalar constant of a normal form may be made and dropped.
                Expect.isLessThanOrEqual made (int64 kept + 4L) (sprintf "nodes made by the pass (%d), and new nodes in its result (%d)" made kept)
            }
            test "a transform's gradient is built once: grad makes its trace, its rules and its result" {
                let steps = 500
                let c = Expr.variable "c" [| 3 |] f64
                let x = Expr.variable "x" [| 3 |] f64
                let newest = Ir.newestId ()
                let made, gradient = counted (fun () -> Diff.grad (fun v -> Expr.sum (tower steps v c)) x)
                // The trace and the reverse walk, repeated at a Var of their own, make as many nodes as
                // they made inside grad; beyond them, grad may make only the new nodes of its result.
                // (Simplifying first and substituting after made the result's nodes twice.)
                let traced, _ =
                    counted (fun () ->
                        let v = Expr.variable "v" [| 3 |] f64
                        let y = Expr.sum (tower steps v c)
                        Vjp.backward y (Expr.ones f64 [||]) [| v |])
                let fresh = newerThan newest [| gradient |]
                Expect.isLessThanOrEqual made (traced + int64 fresh + 8L) (sprintf "made %d; trace and walk %d; new in the result %d" made traced fresh)
            }
        ]
    ]
