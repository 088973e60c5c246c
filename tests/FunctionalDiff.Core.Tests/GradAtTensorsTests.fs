/// Derivatives taken at tensors (constants of rank one or more): the results are the graph the
/// transform built over its Vars, which are then bound to the arguments, rather than a copy of
/// that graph rebuilt over them. Checked against the chain rule as a loop and closed forms, with
/// counts of the nodes made, and the rules that keep what f leaked without a value, what a user
/// builds afterwards out of the transform's scope, and gradients nested in another transform
/// that capture its Var (those take the substitution, as at any other argument).
module FunctionalDiff.Core.Tests.GradAtTensorsTests

open System
open Expecto
open FunctionalDiff.Core

/// The chain x ← sin(tanh(0.9·x + 0.1)), steps times, summed.
let private chainSum (steps: int) (x: Expr) =
    let mutable y = x
    for _ in 1 .. steps do
        y <- Expr.sin (Expr.tanh (y * 0.9 + 0.1))
    Expr.sum y

let private vector (values: float[]) = Expr.constant (Tensor.FromArray(values, [| values.Length |]))

let private valuesOf (e: Expr) = (Eval.eval e).ToDoubleArray()

/// The first Var below the roots.
let private varBelow (e: Expr) =
    Graph.topologicalOrder [ e ] |> Array.find (fun n -> n.Op.IsVar)

[<Tests>]
let gradAtTensorsTests =
    testList "derivatives at tensors" [
        test "a chain's gradient at a tensor makes no node beyond the trace and the reverse walk" {
            let steps = 300
            let start = [| 0.3; -0.7; 1.1; 0.05 |]
            // the trace and the reverse walk alone, over a transform's Var
            let before = Made.Count
            let v = Ir.freshScopedVar "x" [| start.Length |] DType.Float64
            let output = chainSum steps v
            Vjp.backward output (Expr.onesLike output) [| v |] |> ignore
            let traced = Made.Count - before
            let before = Made.Count
            let g = Diff.grad (chainSum steps) (vector start)
            let made = Made.Count - before
            // rebuilt over the argument, the gradient made its whole graph a second time
            Expect.isLessThanOrEqual made (traced + 8L) (sprintf "nodes made: %d by the gradient, %d by the trace and the reverse walk" made traced)
            Expect.isEmpty (Graph.variables [ g ]) "the gradient is a closed graph"
            // the chain rule as a loop, entry by entry: d/dx sin(tanh(a)) = cos(tanh a) · (1 - tanh² a) · 0.9
            let actual = valuesOf g
            for i in 0 .. start.Length - 1 do
                let mutable x, derivative = start.[i], 1.0
                for _ in 1 .. steps do
                    let t = Math.Tanh(0.9 * x + 0.1)
                    derivative <- derivative * Math.Cos t * (1.0 - t * t) * 0.9
                    x <- Math.Sin t
                Expect.isLessThanOrEqual (abs (actual.[i] - derivative)) (1e-12 * abs derivative) (sprintf "entry %d: %g against %g" i actual.[i] derivative)
        }
        test "a gradient at a tensor visits the same nodes whatever history its function captures" {
            // f captures a value with a long or a short history (a closed graph built before): the reverse walk, the
            // Rewrite pass and the walk that binds the results stop at the transform's Vars, so the history is never walked
            let captured (length: int) =
                let mutable h = vector [| 0.5; 0.25; -0.75 |]
                for _ in 1 .. length do
                    h <- Expr.tanh (h * 0.5 + 0.1)
                h
            let visits (history: Expr) =
                let before = Graph.visitedNodes ()
                Diff.grad (fun x -> Expr.sum (Expr.sin x * history)) (vector [| 1.0; 2.0; 3.0 |]) |> ignore
                Graph.visitedNodes () - before
            let short, long = visits (captured 3), visits (captured 3000)
            Expect.equal long short (sprintf "nodes visited with a history of 9,000 nodes: %d; of 9: %d" long short)
        }
        test "an Expr leaked out of the transform has no value; one rebuilt from the results has" {
            let c = [| 1.5; -2.0; 0.25 |]
            let mutable leaked = Unchecked.defaultof<Expr>
            let g =
                Diff.grad (fun x ->
                    leaked <- Expr.sin x * 3.0
                    Expr.sum (x * x)) (vector c)
            Expect.throwsT<InvalidOperationException> (fun () -> Eval.eval leaked |> ignore) "the leaked Expr reads the transform's Var"
            Expect.isNonEmpty (Graph.variables [ leaked ]) "the leaked Expr names the Var it reads"
            Expect.equal (valuesOf g) (c |> Array.map (fun v -> 2.0 * v)) "the gradient of Σx² is 2x"
            // x·x was made by f and is not reached by the gradient 2x; built again from the gradient's
            // own x, it is the same node, and it has a value
            let x = varBelow g
            let square = x * x
            Expect.equal (valuesOf square) (c |> Array.map (fun v -> v * v)) "x·x built from the gradient's x"
        }
        test "graphs built over a gradient after the transform do not join the transform's scope" {
            let g = Diff.grad (fun x -> Expr.sum (Expr.sin x * x)) (vector [| 0.5; 1.0 |])
            let scope = g.Scope
            Expect.isNotNull (box scope) "the gradient lives in its transform's scope"
            let before = scope.Count
            let built = [| for i in 1 .. 100 -> g * float i + Expr.constant (Tensor.FromArray([| float i; 0.0 |], [| 2 |])) |]
            Expect.equal scope.Count before "no node joined the scope"
            for b in built do
                Expect.isNull (box b.Scope) "a node over the gradient and a tensor is in the process-wide table"
            // d/dx Σ x·sin x = sin x + x·cos x
            let expected = [| 0.5; 1.0 |] |> Array.map (fun v -> Math.Sin v + v * Math.Cos v)
            let actual = valuesOf built.[2]
            for i in 0 .. 1 do
                Expect.floatClose Accuracy.veryHigh actual.[i] (3.0 * expected.[i] + 3.0 * float (1 - i)) "3g + [3, 0]"
        }
        test "a gradient at a tensor that captures an enclosing transform's Var gives the closed form, at a number and at a tensor" {
            let c = [| 1.0; 2.0; -4.0 |]
            // f(x) = Σ ∂/∂y Σ x·y² at y = c = Σ 2·x·c, so f'(x) = 2·Σc
            let f (x: Expr) = Expr.sum (Diff.grad (fun y -> Expr.sum (x * y * y)) (vector c))
            let value, gradient = Diff.valueAndGrad f (Expr.scalar DType.Float64 0.5)
            Expect.equal (valuesOf value).[0] (2.0 * 0.5 * Array.sum c) "f(0.5)"
            Expect.equal (valuesOf gradient).[0] (2.0 * Array.sum c) "f'(0.5)"
            // and at a tensor: g(x) = Σ 2·x·c, ∇g = 2c
            let g (x: Expr) = Expr.sum (Diff.grad (fun y -> Expr.sum (x * y * y)) (vector c))
            let outer = Diff.grad g (vector [| 0.25; -1.0; 3.0 |])
            Expect.equal (valuesOf outer) (c |> Array.map (fun v -> 2.0 * v)) "∇ at a tensor"
        }
        test "a compiled function that captures a gradient at a tensor reads the argument's value" {
            let c = [| 0.5; -1.5 |]
            let g = Diff.grad (fun x -> Expr.sum (x * x * x)) (vector c)
            let compiled = Compile.compile (fun p -> [| p.[0] * g |])
            let out = (compiled.Invoke(Tensor.FromArray([| 2.0; 10.0 |], [| 2 |]))).[0].ToDoubleArray()
            Expect.equal out [| 2.0 * 3.0 * 0.25; 10.0 * 3.0 * 2.25 |] "p · 3c²"
        }
    ]
