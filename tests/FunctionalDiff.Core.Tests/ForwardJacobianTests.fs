/// Jacobians and Hessians against closed forms written out in the tests: Rosenbrock's Hessian in
/// 2 and 10 dimensions, and a few functions from R^n to R^m in forward, reverse and auto modes.
module FunctionalDiff.Core.Tests.ForwardJacobianTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// Rosenbrock: sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2.
let rosenbrock (x: Expr) =
    let n = x.Shape.[0]
    let a, b = Expr.sliceAxis 0 0 (n - 1) x, Expr.sliceAxis 0 1 n x
    Expr.sum (100.0 * Expr.square (b - Expr.square a) + Expr.square (1.0 - a))

/// Its Hessian by hand: d2/dx_i^2 = 1200 x_i^2 - 400 x_{i+1} + 2 (i < n-1) plus 200 (i > 0);
/// d2/dx_i dx_{i+1} = -400 x_i; zero elsewhere.
let rosenbrockHessian (x: float[]) =
    let n = x.Length
    Array.init (n * n) (fun k ->
        let i, j = k / n, k % n
        if i = j then
            (if i < n - 1 then 1200.0 * x.[i] * x.[i] - 400.0 * x.[i + 1] + 2.0 else 0.0) + (if i > 0 then 200.0 else 0.0)
        elif j = i + 1 then -400.0 * x.[i]
        elif i = j + 1 then -400.0 * x.[j]
        else 0.0)

let private modes = [ JacobianMode.Forward; JacobianMode.Reverse; JacobianMode.Auto ]

/// A Jacobian case: the function, the input and the closed-form Jacobian (row-major, out @ in).
type private JacobianCase = { Name: string; F: Expr -> Expr; X: Tensor; Expected: Tensor -> float[]; Shape: int[] }

let private a42 = tensor [| 4; 2 |] [| 1.0; -2.0; 0.5; 3.0; -1.0; 0.0; 2.0; 1.5 |]

let private jacobianCases =
    [ { Name = "R^3 -> R^3: (x0 x1, sin x2, x0 + x1^2)"
        F = (fun x ->
                let e i = Expr.sliceAxis 0 i (i + 1) x
                Expr.concat 0 [ e 0 * e 1; sin (e 2); e 0 + Expr.square (e 1) ])
        X = tensor [| 3 |] [| 0.7; -1.3; 2.1 |]
        Expected = (fun t ->
            let x = t.ToDoubleArray()
            [| x.[1]; x.[0]; 0.0
               0.0; 0.0; cos x.[2]
               1.0; 2.0 * x.[1]; 0.0 |])
        Shape = [| 3; 3 |] }
      { Name = "R^2 -> R^4: A tanh x"
        F = (fun x -> Expr.matmul (Expr.constant a42) (tanh x))
        X = tensor [| 2 |] [| 0.3; -0.8 |]
        Expected = (fun t ->
            let x, a = t.ToDoubleArray(), a42.ToDoubleArray()
            Array.init 8 (fun k -> a.[k] * (1.0 - Math.Tanh x.[k % 2] ** 2.0)))
        Shape = [| 4; 2 |] }
      { Name = "R^4 -> R^4: softmax, diag(s) - s s^T"
        F = Nn.softmax 0
        X = tensor [| 4 |] [| 0.1; -1.0; 2.0; 0.5 |]
        Expected = (fun t ->
            let x = t.ToDoubleArray()
            let e = x |> Array.map exp
            let s = e |> Array.map (fun v -> v / Array.sum e)
            Array.init 16 (fun k -> let i, j = k / 4, k % 4 in (if i = j then s.[i] else 0.0) - s.[i] * s.[j]))
        Shape = [| 4; 4 |] }
      { Name = "R^[2,3] -> R^3: column sums of x^2"
        F = (fun x -> Expr.sumAxes [| 0 |] false (Expr.square x))
        X = tensor [| 2; 3 |] [| 1.0; -2.0; 0.5; 3.0; 0.25; -1.5 |]
        Expected = (fun t ->
            let x = t.ToDoubleArray()
            // entry [k, i, j] = 2 x[i, j] when j = k
            Array.init 18 (fun idx -> let k, i, j = idx / 6, (idx % 6) / 3, idx % 3 in if j = k then 2.0 * x.[i * 3 + j] else 0.0))
        Shape = [| 3; 2; 3 |] }
      { Name = "R^3 -> R: a scalar's Jacobian is its gradient, 3 x^2"
        F = (fun x -> Expr.sum (x ** 3.0))
        X = tensor [| 3 |] [| 1.0; -2.0; 0.5 |]
        Expected = (fun t -> t.ToDoubleArray() |> Array.map (fun v -> 3.0 * v * v))
        Shape = [| 3 |] } ]

[<Tests>]
let tests =
    testList "Forward" [
        testList "Hessian" [
            for n in [ 2; 10 ] do
                test (sprintf "Rosenbrock in %d dimensions matches the closed form" n) {
                    let random = Random(n)
                    for _ in 1 .. 3 do
                        let x0 = sample random Normal [| n |]
                        let h = Diff.hessian rosenbrock (constant x0)
                        Expect.equal h.Shape [| n; n |] "x.shape @ x.shape"
                        // Both sides are exact formulas in float64; 1e-12 relative covers rounding.
                        expectClose 1e-12 (values h) (rosenbrockHessian (x0.ToDoubleArray())) (sprintf "H at %A" (x0.ToDoubleArray()))
                }
            test "Rosenbrock's Hessian has its minimum's closed form at (1, 1)" {
                // At x = 1: [[802, -400], [-400, 200]].
                let h = Diff.hessian rosenbrock (constant (tensor [| 2 |] [| 1.0; 1.0 |]))
                Expect.equal (values h) [| 802.0; -400.0; -400.0; 200.0 |] "exact integers"
            }
            test "hvp equals the Hessian times v" {
                let x0 = tensor [| 10 |] (Array.init 10 (fun i -> 0.1 * float i - 0.4))
                let v = Array.init 10 (fun i -> float (i % 3) - 1.0)
                let hv = Diff.hvp rosenbrock (constant x0) (constant (tensor [| 10 |] v))
                let h = rosenbrockHessian (x0.ToDoubleArray())
                let expected = Array.init 10 (fun i -> Array.init 10 (fun j -> h.[i * 10 + j] * v.[j]) |> Array.sum)
                expectClose 1e-12 (values hv) expected "H v"
            }
            test "Hessian of a matrix-shaped input has shape x.shape @ x.shape" {
                // f = sum(x^3) has Hessian diag(6x) in the flattened index.
                let x0 = tensor [| 2; 2 |] [| 1.0; -2.0; 0.5; 3.0 |]
                let h = Diff.hessian (fun x -> Expr.sum (x ** 3.0)) (constant x0)
                Expect.equal h.Shape [| 2; 2; 2; 2 |] "shape"
                let expected = Array.init 16 (fun k -> if k / 4 = k % 4 then 6.0 * x0.ToDoubleArray().[k % 4] else 0.0)
                expectClose 1e-14 (values h) expected "diag(6x)"
            }
        ]
        testList "Jacobian" [
            for c in jacobianCases do
                for mode in modes do
                    test (sprintf "%s, %A mode" c.Name mode) {
                        let j = Diff.jacobianWith mode c.F (constant c.X)
                        Expect.equal j.Shape c.Shape "output shape @ input shape"
                        // Closed forms and our graph both evaluate exact formulas in float64.
                        expectClose 1e-12 (values j) (c.Expected c.X) c.Name
                    }
            test "Auto picks forward for fewer inputs than outputs, reverse otherwise" {
                Expect.equal (Jacobian.resolve JacobianMode.Auto 2 4) JacobianMode.Forward "2 -> 4"
                Expect.equal (Jacobian.resolve JacobianMode.Auto 4 2) JacobianMode.Reverse "4 -> 2"
                Expect.equal (Jacobian.resolve JacobianMode.Reverse 2 4) JacobianMode.Reverse "forced"
            }
            test "a Jacobian is one graph whose nodes are shared across rows" {
                // Every row of a reverse Jacobian of tanh(W x) reuses the primal's tanh: its graph
                // holds one tanh node, not one per row.
                let w = constant (tensor [| 3; 3 |] (Array.init 9 (fun i -> 0.1 * float i)))
                let j = Diff.jacobianWith JacobianMode.Reverse (fun x -> tanh (Expr.matmul w x)) (Expr.variable "x" [| 3 |] f64)
                let tanhs = Graph.topologicalOrder [ j ] |> Array.filter (fun e -> e.Op = Op.Unary UnaryOp.Tanh)
                Expect.equal tanhs.Length 1 "one shared tanh"
            }
            test "reverse over forward: grad of <J t, 1> for f = x^3 is 6 x t" {
                let t = tensor [| 3 |] [| 1.0; -2.0; 0.5 |]
                let x0 = tensor [| 3 |] [| 0.5; 1.5; -1.0 |]
                let g = Diff.grad (fun x -> Expr.sum (snd (Diff.jvp (fun y -> y ** 3.0) x (constant t)))) (constant x0)
                expectClose 1e-14 (values g) (Array.map2 (fun x d -> 6.0 * x * d) (x0.ToDoubleArray()) (t.ToDoubleArray())) "6 x t"
            }
            test "no perturbation confusion in forward mode: d/dx (x * d/dy (x y)) = 2x" {
                let one = Expr.scalar f64 1.0
                let f (x: Expr) = x * snd (Diff.jvp (fun y -> x * y) x one)
                for x0 in [ 3.0; -1.5 ] do
                    Expect.equal (value (snd (Diff.jvp f (Expr.scalar f64 x0) one))) (2.0 * x0) "2x"
            }
            test "a Jacobian of a Jacobian nests: the third derivative of x^4 is 24 x" {
                let d3 = Diff.jacobian (Diff.jacobian (Diff.grad (fun x -> Expr.sum (x ** 4.0))))
                let x0 = tensor [| 2 |] [| 0.5; -1.0 |]
                let t = values (d3 (constant x0))
                let expected = Array.init 8 (fun k -> let i, j, l = k / 4, (k / 2) % 2, k % 2 in if i = j && j = l then 24.0 * x0.ToDoubleArray().[i] else 0.0)
                expectClose 1e-14 t expected "24 x on the diagonal"
            }
        ]
    ]
