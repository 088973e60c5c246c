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
        test "a chain's derivative at a number is folded as its nodes are made: nothing is walked after the reverse walk" {
            let steps = 200
            // the reverse walk alone, over the same chain on a transform's Var
            let before = Graph.visitedNodes ()
            let v = Ir.freshScopedVar "x" [||] DType.Float64
            let output = chain steps v
            Vjp.backward output (Expr.onesLike output) [| v |] |> ignore
            let reverse = Graph.visitedNodes () - before
            let before = Graph.visitedNodes ()
            let g = Diff.grad (chain steps) (Expr.scalar DType.Float64 0.3)
            let visits = Graph.visitedNodes () - before
            // a substitution after the walk visited every node of the derivative's graph again
            Expect.isLessThanOrEqual visits reverse (sprintf "nodes visited: %d by the gradient, %d by the reverse walk" visits reverse)
            let mutable x, derivative = 0.3, 1.0
            for _ in 1 .. steps do
                let t = Math.Tanh(0.9 * x + 0.1)
                derivative <- derivative * Math.Cos t * (1.0 - t * t) * 0.9
                x <- Math.Sin t
            let actual = valueOf g
            Expect.isLessThanOrEqual (abs (actual - derivative)) (1e-12 * abs derivative) (sprintf "%g against %g" actual derivative)
        }
        test "gradients at two numbers fold as made over both arguments" {
            // f(x, y) = sin(xy) + x³ tanh y: ∂x = y cos(xy) + 3x² tanh y, ∂y = x cos(xy) + x³ (1 − tanh² y)
            let f (args: Expr list) =
                match args with
                | [ x; y ] -> Expr.sin (x * y) + x * x * x * Expr.tanh y
                | _ -> failwith "two arguments"
            let a, b = 0.7, -1.3
            match Diff.gradN f [ Expr.scalar DType.Float64 a; Expr.scalar DType.Float64 b ] with
            | [ gx; gy ] ->
                let t = Math.Tanh b
                Expect.floatClose Accuracy.veryHigh (valueOf gx) (b * Math.Cos(a * b) + 3.0 * a * a * t) "∂x"
                Expect.floatClose Accuracy.veryHigh (valueOf gy) (a * Math.Cos(a * b) + a ** 3.0 * (1.0 - t * t)) "∂y"
            | other -> failwithf "two gradients expected, got %d" other.Length
        }
        test "a derivative at a number through an op that does not fold as it is made is still the number" {
            // a where is rebuilt by the substitution after the walk, which folds it: f = x² sin x for x > 0,
            // f' = 2x sin x + x² cos x
            let f (x: Expr) = Expr.where (Expr.gt x (Expr.scalar DType.Float64 0.0)) (x * x) (-x) * Expr.sin x
            let x = 0.6
            let g = Diff.grad f (Expr.scalar DType.Float64 x)
            Expect.floatClose Accuracy.veryHigh (valueOf g) (2.0 * x * Math.Sin x + x * x * Math.Cos x) "closed form"
            let h = Diff.grad f (Expr.scalar DType.Float32 (float32 x |> float))
            let x32 = float (float32 x)
            Expect.floatClose Accuracy.medium (valueOf h) (2.0 * x32 * Math.Sin x32 + x32 * x32 * Math.Cos x32) "float32, closed form"
            Expect.equal h.DType DType.Float32 "float32 argument, float32 gradient"
        }
        test "folding as nodes are made gives the very numbers of substituting after the reverse walk" {
            // Random programs of elementwise ops (and a where, which only the substitution folds), at
            // random numbers of both dtypes, some of them edges (0, ±∞, huge): the gradient and the value
            // against the reference path, the reverse walk over a Var and Substitute.apply of the number
            // afterwards (what every gradient at a number did before), bit for bit.
            let random = Random(20261206)
            let points = [| 0.0; -0.0; 1.0; -2.5; 1e300; -1e-310; infinity; -infinity; nan; 0.3; 7.0 |]
            let step (k: int) (x: Expr) (earlier: Expr) =
                match k with
                | 0 -> Expr.sin x
                | 1 -> Expr.tanh x * 0.5
                | 2 -> Expr.exp (x * -0.25)
                | 3 -> x * earlier
                | 4 -> x - earlier * 3.0
                | 5 -> Expr.square x + 1.0
                | 6 -> x / (Expr.square earlier + 2.0)
                | 7 -> Expr.sqrt (Expr.abs x)
                | 8 -> Expr.maximum x earlier
                | 9 -> Expr.log1p (Expr.abs x)
                | 10 -> Expr.where (Expr.gt x earlier) x (earlier * 2.0)
                | _ -> -x
            let sameBits (a: float) (b: float) = BitConverter.DoubleToInt64Bits a = BitConverter.DoubleToInt64Bits b || (Double.IsNaN a && Double.IsNaN b)
            let mutable folded = 0
            for program in 1 .. 200 do
                let ks = Array.init (1 + random.Next 12) (fun _ -> random.Next 12)
                let f (x: Expr) =
                    let mutable e, earlier = x, x
                    for k in ks do
                        let next = step k e earlier
                        earlier <- e
                        e <- next
                    e
                let dtype = if random.Next 2 = 0 then DType.Float64 else DType.Float32
                let point = Expr.scalar dtype points.[random.Next points.Length]
                let value, gradient = Diff.valueAndGrad f point
                // the reference: the same function over a Var, its reverse walk, then the substitution
                let v = Ir.freshScopedVar "x" [||] dtype
                let output = f v
                let reverse = match (Vjp.backward output (Expr.onesLike output) [| v |]).[0] with Some g -> g | None -> Expr.zerosLike v
                let expected = Substitute.apply [ v, point ] [| output; reverse |]
                let name = sprintf "program %d (%A) at %O, %O" program ks point dtype
                let isNumber (e: Expr) = match e.Op with Op.Const t -> t.Rank = 0 | _ -> false
                if isNumber expected.[0] && isNumber expected.[1] then
                    // the substitution gave numbers, which the transform returns as they are: the same bits
                    folded <- folded + 1
                    for actual, reference, what in [ value, expected.[0], "value"; gradient, expected.[1], "gradient" ] do
                        Expect.isTrue (isNumber actual) (sprintf "%s: %s is a number" name what)
                        Expect.equal actual.DType reference.DType (sprintf "%s: %s dtype" name what)
                        let a, b = (Eval.eval actual).ToScalar(), (Eval.eval reference).ToScalar()
                        Expect.isTrue (sameBits a b) (sprintf "%s: %s %g, reference %g" name what a b)
                else
                    // a graph (a where the substitution rebuilt but could not fold): the transform simplifies
                    // it before it substitutes, so its digits may differ in rounding, not more
                    for actual, reference, what in [ value, expected.[0], "value"; gradient, expected.[1], "gradient" ] do
                        let a, b = (Eval.eval actual).ToScalar(), (Eval.eval reference).ToScalar()
                        let close = sameBits a b || abs (a - b) <= (if dtype = DType.Float32 then 1e-5 else 1e-12) * max 1.0 (abs b)
                        Expect.isTrue close (sprintf "%s: %s %g, reference %g (graphs)" name what a b)
            Expect.isGreaterThan folded 80 "programs whose results are numbers (compared bit for bit)"
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
