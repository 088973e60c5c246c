/// Derivatives taken at numbers (scalar constants): when every result folds to a number, the
/// normal forms would be folded too, so the Rewrite pass does not run; the numbers are those of
/// the graph as built, checked against the chain rule written as a loop and against closed forms.
/// When a result stays a graph (a captured tensor), it is still simplified.
module FunctionalDiff.Core.Tests.GradAtNumbersTests

open System
open Expecto
open FunctionalDiff.Core

let private valueOf (e: Expr) =
    match e.Op with
    | Op.Const t when t.Rank = 0 -> t.ToScalar()
    | _ -> failwithf "expected a scalar constant, got %O" e

/// The chain x ← sin(tanh(0.9·x + 0.1)), steps times.
let private chain (steps: int) (x: Expr) =
    let mutable y = x
    for _ in 1 .. steps do
        y <- Expr.sin (Expr.tanh (y * 0.9 + 0.1))
    y

[<Tests>]
let gradAtNumbersTests =
    testList "derivatives at numbers" [
        test "a chain's derivative at a number is a number, made without the Rewrite pass" {
            let steps = 200
            let before = RewriteWork.Steps
            let g = Diff.grad (chain steps) (Expr.scalar DType.Float64 0.3)
            let work = RewriteWork.Steps - before
            Expect.equal work 0L "the Rewrite pass did not run"
            // the chain rule as a loop: d/dx sin(tanh(a)) = cos(tanh a) · (1 - tanh² a) · 0.9
            let mutable x, derivative = 0.3, 1.0
            for _ in 1 .. steps do
                let t = Math.Tanh(0.9 * x + 0.1)
                derivative <- derivative * Math.Cos t * (1.0 - t * t) * 0.9
                x <- Math.Sin t
            Expect.isGreaterThan (abs derivative) 1e-200 "the reference is far from underflow"
            let actual = valueOf g
            Expect.isLessThanOrEqual (abs (actual - derivative)) (1e-12 * abs derivative) (sprintf "%g against %g" actual derivative)
        }
        test "second derivatives at a number: the inner derivative is simplified, the outer folds" {
            // f(x) = x³ tanh x; f'' = 6x tanh x + 6x² sech² x - 2x³ sech² x tanh x
            let f (x: Expr) = x * x * x * Expr.tanh x
            let x = 0.7
            let g = Diff.grad (Diff.grad f) (Expr.scalar DType.Float64 x)
            let t, s2 = Math.Tanh x, 1.0 - Math.Tanh x ** 2.0
            let expected = 6.0 * x * t + 6.0 * x * x * s2 - 2.0 * x ** 3.0 * s2 * t
            Expect.floatClose Accuracy.veryHigh (valueOf g) expected "closed form"
        }
        test "forward mode and the HVP at numbers fold to the closed forms" {
            // f(x) = x sin x: f' = sin x + x cos x, f'' = 2 cos x - x sin x
            let f (x: Expr) = x * Expr.sin x
            let x, t = 0.8, 1.5
            let value, tangent = Diff.jvp f (Expr.scalar DType.Float64 x) (Expr.scalar DType.Float64 t)
            Expect.floatClose Accuracy.veryHigh (valueOf value) (x * Math.Sin x) "value"
            Expect.floatClose Accuracy.veryHigh (valueOf tangent) (t * (Math.Sin x + x * Math.Cos x)) "tangent"
            let h = Diff.hvp f (Expr.scalar DType.Float64 x) (Expr.scalar DType.Float64 t)
            Expect.floatClose Accuracy.veryHigh (valueOf h) (t * (2.0 * Math.Cos x - x * Math.Sin x)) "HVP"
        }
        test "a derivative at a number over a captured tensor is a graph, and is simplified" {
            // d/ds Σ tanh(s·w) = Σ w (1 - tanh²(s w))
            let w = [| 0.5; -1.5; 2.0 |]
            let captured = Expr.constant (Tensor.FromArray(w, [| 3 |]))
            let before = RewriteWork.Steps
            let g = Diff.grad (fun s -> Expr.sum (Expr.tanh (s * captured))) (Expr.scalar DType.Float64 0.4)
            Expect.isGreaterThan (RewriteWork.Steps - before) 0L "the Rewrite pass ran"
            let expected = w |> Array.sumBy (fun wi -> wi * (1.0 - Math.Tanh(0.4 * wi) ** 2.0))
            Expect.floatClose Accuracy.veryHigh ((Eval.eval g).ToScalar()) expected "closed form"
        }
    ]
