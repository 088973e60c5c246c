/// The lifetime of custom VJP rules: a rule lives while the function that defines it or a graph
/// that applies it lives, and no longer. Weak references to what a rule captured tell whether
/// anything else kept it; the tests collect garbage themselves to find out.
module FunctionalDiff.Core.Tests.CustomRuleLifetimeTests

open System
open System.Runtime.CompilerServices
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// 20,000 float64 values: 160 KB, the size of the tensors in the report of the leak.
let private payload (i: int) = Tensor.FromArray(Array.create 20_000 (float i), [| 20_000 |])

let private collect () =
    GC.Collect()
    GC.WaitForPendingFinalizers()
    GC.Collect()

/// One step of a training-like loop: define a rule that captures a fresh 160 KB tensor, take a
/// gradient through it, evaluate, check the number, and drop everything. `asConstant` puts the
/// captured tensor into the graphs (as users do); otherwise only the rule's closure holds it.
/// NoInlining keeps the JIT from stretching the locals' lifetimes into the caller.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private step (asConstant: bool) (i: int) : WeakReference =
    let captured = payload i
    let scaled =
        if asConstant then
            let c = Expr.constant captured
            Diff.customVjpNamed "scaled" (fun x -> x * Expr.sum c) (fun _ g -> g * Expr.sum c)
        else
            let total = float captured.Numel * float i
            Diff.customVjpNamed "scaled" (fun x -> x * total) (fun _ g -> g * (float captured.Numel * float i))
    let x0 = Expr.constant (Tensor.FromArray([| 0.5; -1.0 |], [| 2 |]))
    let gradient = values (Diff.grad (fun x -> Expr.sum (scaled x)) x0)
    // d/dx sum(x * s) = s, with s = 20,000 i.
    let s = 20_000.0 * float i
    if gradient <> [| s; s |] then failwithf "step %d: gradient %A, expected %g" i gradient s
    WeakReference captured

/// Builds y = rule(x) for a fresh variable and returns it with x; the rule's function is dropped.
[<MethodImpl(MethodImplOptions.NoInlining)>]
let private graphOnly () =
    let x = Expr.variable "x" [| 3 |] f64
    let doubled = Diff.customVjpNamed "doubled_sine" sin (fun x g -> 2.0 * g * cos x)
    x, doubled x

[<Tests>]
let tests =
    testList "Graph" [
        testList "Custom rule lifetime" [
            testSequenced <| test "a loop of rules capturing 160 KB tensors keeps none of them once dropped" {
                let kept = [ for i in 1 .. 200 -> step false i ]
                collect ()
                let alive = kept |> List.filter (fun w -> w.IsAlive) |> List.length
                Expect.equal alive 0 "captured tensors still reachable after the loop"
            }
            testSequenced <| test "the same with the captured tensors inside the graphs, once the interning table is purged" {
                // Dead constants stay in the interning table's keys until its next purge (it purges
                // by itself every 256 MB of constants); after one, nothing may keep them.
                let kept = [ for i in 1 .. 200 -> step true i ]
                collect ()
                Ir.purge ()
                collect ()
                let alive = kept |> List.filter (fun w -> w.IsAlive) |> List.length
                Expect.equal alive 0 "captured tensors still reachable after the loop"
            }
            testSequenced <| test "a graph keeps its rule alive after the defining function is dropped" {
                let x, y = graphOnly ()
                collect ()
                // The rule says 2 g cos x; sine's own derivative would be cos x.
                let points = [| 0.3; -1.2; 2.0 |]
                let point = Expr.constant (Tensor.FromArray(points, [| 3 |]))
                let cotangent = (Vjp.backward y (Expr.ones f64 [| 3 |]) [| x |]).[0]
                let pulled = values ((Substitute.apply [ x, point ] [| cotangent.Value |]).[0])
                expectClose 1e-15 pulled (points |> Array.map (fun p -> 2.0 * cos p)) "2 cos x through the rule"
                // Rebuilding the node over a new input (substitution) finds the rule again.
                let rebuilt = (Substitute.apply [ x, point ] [| y |]).[0]
                let viaRebuilt = values (Diff.grad (fun v -> Expr.sum ((Substitute.apply [ point, v ] [| rebuilt |]).[0])) point)
                expectClose 1e-15 viaRebuilt (points |> Array.map (fun p -> 2.0 * cos p)) "after substitution"
            }
        ]
    ]
