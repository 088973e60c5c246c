/// Nested differentiation: Hessian-vector products, high-order derivatives against closed forms,
/// perturbation confusion, the fresh-Var guarantee, and torch's conventions at kinks and ties.
module FunctionalDiff.Core.Tests.GraphNestedTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// d^k/dx^k tanh x as a polynomial in t = tanh x (coefficients, lowest power first), from
/// p_0 = t and p_{k+1} = p_k'(t) (1 - t^2), since dt/dx = 1 - t^2.
let tanhDerivativePolynomial (order: int) : float[] =
    let mutable p = [| 0.0; 1.0 |]
    for _ in 1 .. order do
        let derivative = Array.init (max 1 (p.Length - 1)) (fun i -> if i + 1 < p.Length then float (i + 1) * p.[i + 1] else 0.0)
        let next = Array.zeroCreate (derivative.Length + 2)
        derivative |> Array.iteri (fun i c ->
            next.[i] <- next.[i] + c
            next.[i + 2] <- next.[i + 2] - c)
        p <- next
    p

/// Evaluates a polynomial by Horner's rule.
let polynomial (coefficients: float[]) (t: float) =
    Array.foldBack (fun c acc -> acc * t + c) coefficients 0.0

/// The k-th derivative of a scalar function by nesting grad k times.
let nthDerivative (order: int) (f: Expr -> Expr) =
    let mutable g = f
    for _ in 1 .. order do
        let inner = g
        g <- Diff.grad inner
    g

/// A two-layer MLP's loss as a function of its parameter list [W1; b1; W2; b2].
let mlpLoss (x: Expr) (target: Expr) (parameters: Expr list) =
    match parameters with
    | [ w1; b1; w2; b2 ] ->
        let hidden = tanh (Expr.matmul w1 x + b1)
        Expr.sum (Expr.square (Expr.matmul w2 hidden + b2 - target))
    | _ -> invalidArg "parameters" "four parameters"

[<Tests>]
let tests =
    testList "Graph" [
        testList "Nested" [
            test "HVP of a two-layer MLP loss matches finite differences of its gradient" {
                let random = Random(7)
                let x = constant (sample random Normal [| 3 |])
                let target = constant (sample random Normal [| 2 |])
                let shapes = [ [| 4; 3 |]; [| 4 |]; [| 2; 4 |]; [| 2 |] ]
                let point = shapes |> List.map (sample random Normal)
                let direction = shapes |> List.map (sample random Normal)
                // <grad L(p), v>: its gradient is H v.
                let gradientAlong (ps: Expr list) = List.map2 inner (Diff.gradN (mlpLoss x target) ps) direction |> List.reduce (+)
                let hvp = Diff.gradN gradientAlong (point |> List.map constant) |> List.map values
                let reference = numericGradient gradientAlong point
                // FD error ~1e-9 at this scale (see numericGradient).
                List.iteri2 (fun i o r -> expectClose 1e-6 o r (sprintf "parameter %d" i)) hvp reference
            }
            test "sixth derivative of tanh matches the closed form at three points" {
                let sixth = tanhDerivativePolynomial 6
                for x0 in [ -0.7; 0.3; 1.2 ] do
                    let ours = value (nthDerivative 6 tanh (Expr.scalar DType.Float64 x0))
                    let expected = polynomial sixth (Math.Tanh x0)
                    // Both sides are exact formulas evaluated in float64; 1e-10 covers rounding.
                    expectClose 1e-10 [| ours |] [| expected |] (sprintf "x = %g" x0)
            }
            test "closed-form tanh polynomials are right at low order" {
                // d/dx tanh = 1 - t^2 and d2/dx2 tanh = -2t + 2t^3, by hand.
                Expect.equal (tanhDerivativePolynomial 1) [| 1.0; 0.0; -1.0 |] "first"
                Expect.equal (tanhDerivativePolynomial 2) [| 0.0; -2.0; 0.0; 2.0 |] "second"
            }
            test "no perturbation confusion: d/dx (x * d/dy (x*y)) = 2x" {
                let f (x: Expr) = x * Diff.grad (fun y -> x * y) x
                for x0 in [ 3.0; -1.5 ] do
                    Expect.equal (value (Diff.grad f (Expr.scalar DType.Float64 x0))) (2.0 * x0) "2x"
            }
            test "grad (fun v -> v * c) c is c itself, not 2c" {
                let c = Expr.scalar DType.Float64 2.5
                let g = Diff.grad (fun v -> v * c) c
                Expect.isTrue (obj.ReferenceEquals(g, c)) (sprintf "got %O" g)
                let ct = constant (tensor [| 3 |] [| 1.0; -2.0; 4.0 |])
                let gt = Diff.grad (fun v -> Expr.sum (v * ct)) ct
                Expect.equal (values gt) [| 1.0; -2.0; 4.0 |] "tensor c"
            }
            test "everything composes: grad of <grad f, v> is the Hessian times v" {
                // f = sum(x^3) has Hessian diag(6x).
                let x0 = tensor [| 3 |] [| 1.0; -2.0; 0.5 |]
                let v = tensor [| 3 |] [| 1.0; 1.0; 2.0 |]
                let f (x: Expr) = Expr.sum (x ** 3.0)
                let hv = Diff.grad (fun x -> Expr.sum (Diff.grad f x * constant v)) (constant x0)
                Expect.equal (values hv) [| 6.0; -12.0; 6.0 |] "6 x v"
            }
            test "vjp returns the value and a pullback; vjp2 and grad2 take pairs" {
                let x0 = tensor [| 2 |] [| 0.5; 2.0 |]
                let y, pullback = Diff.vjp (fun x -> x * x) (constant x0)
                Expect.equal (values y) [| 0.25; 4.0 |] "value"
                Expect.equal (values (pullback (constant (tensor [| 2 |] [| 1.0; 10.0 |])))) [| 1.0; 40.0 |] "2 x g"
                let a, b = Expr.scalar DType.Float64 3.0, Expr.scalar DType.Float64 5.0
                let ga, gb = Diff.grad2 (fun p q -> p * q * q) (a, b)
                Expect.equal (value ga, value gb) (25.0, 30.0) "q^2, 2pq"
                let v2, pb2 = Diff.vjp2 (fun p q -> p - q) (a, b)
                let da, db = pb2 (Expr.scalar DType.Float64 1.0)
                Expect.equal (value v2, value da, value db) (-2.0, 1.0, -1.0) "sub"
                let v, g = Diff.valueAndGrad (fun p -> exp p) (Expr.scalar DType.Float64 0.0)
                Expect.equal (value v, value g) (1.0, 1.0) "exp at 0"
            }
            test "a function that ignores its argument has a zero gradient of the argument's shape" {
                let g = Diff.grad (fun _ -> Expr.scalar DType.Float64 4.0) (constant (tensor [| 2 |] [| 1.0; 2.0 |]))
                Expect.equal (values g) [| 0.0; 0.0 |] "zeros"
            }
        ]
        testList "Conventions" [
            test "abs and relu have derivative 0 at 0, as in torch" {
                let x0 = constant (tensor [| 3 |] [| -2.0; 0.0; 3.0 |])
                Expect.equal (values (Diff.grad (fun x -> Expr.sum (abs x)) x0)) [| -1.0; 0.0; 1.0 |] "abs"
                Expect.equal (values (Diff.grad (fun x -> Expr.sum (Expr.relu x)) x0)) [| 0.0; 0.0; 1.0 |] "relu"
            }
            test "max and min ties split the cotangent evenly" {
                let x0 = constant (tensor [| 2; 3 |] [| 1.0; 5.0; 5.0; 2.0; 2.0; 2.0 |])
                let gmax = Diff.grad (fun x -> Expr.sum (Expr.maxAxes [| 1 |] false x)) x0
                Expect.equal (values gmax) [| 0.0; 0.5; 0.5; 1.0 / 3.0; 1.0 / 3.0; 1.0 / 3.0 |] "max rows"
                let gmin = Diff.grad Expr.min (constant (tensor [| 2; 3 |] [| 2.0; 5.0; 5.0; 2.0; 2.0; 2.0 |]))
                Expect.equal (values gmin) [| 0.25; 0.0; 0.0; 0.25; 0.25; 0.25 |] "min of all"
                let a0, b0 = constant (tensor [| 2 |] [| 1.0; 4.0 |]), constant (tensor [| 2 |] [| 1.0; 3.0 |])
                let ga, gb = Diff.grad2 (fun a b -> Expr.sum (Expr.maximum a b)) (a0, b0)
                Expect.equal (values ga, values gb) ([| 0.5; 1.0 |], [| 0.5; 0.0 |]) "maximum"
                let ga, gb = Diff.grad2 (fun a b -> Expr.sum (Expr.minimum a b)) (a0, b0)
                Expect.equal (values ga, values gb) ([| 0.5; 0.0 |], [| 0.5; 1.0 |]) "minimum"
            }
            test "where sends zero, not NaN, through the branch not taken" {
                let x0 = constant (tensor [| 4 |] [| -1.0; 2.0; -3.0; 4.0 |])
                // log of the negative entries is NaN, but where never picks it.
                let f (x: Expr) = Expr.sum (Expr.where (Expr.lt x (Expr.scalar DType.Float64 0.0)) x (log x))
                Expect.equal (values (Diff.grad f x0)) [| 1.0; 0.5; 1.0; 0.25 |] "1 or 1/x"
            }
            test "stopGradient holds its argument constant" {
                let x0 = tensor [| 2 |] [| 3.0; -2.0 |]
                let g = Diff.grad (fun x -> Expr.sum (Expr.stopGradient (x * x) * x)) (constant x0)
                Expect.equal (values g) [| 9.0; 4.0 |] "x0^2"
                Expect.equal (values (Diff.grad (fun x -> Expr.sum (Diff.stopGradient x)) (constant x0))) [| 0.0; 0.0 |] "zero"
            }
            test "sqrt and pow follow torch at 0" {
                let zero = Expr.scalar DType.Float64 0.0
                Expect.equal (value (Diff.grad sqrt zero)) Double.PositiveInfinity "sqrt'(0) = inf"
                // d/dx x^0 = 0 even at x = 0, and d/dy 0^y = 0 for y >= 0.
                Expect.equal (value (Diff.grad (fun x -> x ** 0.0) zero)) 0.0 "x^0"
                let y0 = Expr.scalar DType.Float64 2.0
                Expect.equal (value (Diff.grad (fun y -> Expr.pow zero y) y0)) 0.0 "0^y"
                let x1 = constant (tensor [| 1 |] [| 0.0 |])
                Expect.equal (values (Diff.grad (fun x -> Expr.sum (x ** 2.0)) x1)) [| 0.0 |] "x^2 at 0"
            }
            test "casting keeps the cotangent in the argument's dtype" {
                let x0 = constant (tensor [| 2 |] [| 1.5; -0.25 |])
                let g = Diff.grad (fun x -> let y = Expr.cast DType.Float32 x in Expr.sum (y * y)) x0
                Expect.equal g.DType DType.Float64 "float64 cotangent"
                // 1.5 and -0.25 are exact in float32, so 2x is exact too.
                Expect.equal (values g) [| 3.0; -0.5 |] "2x"
                let mixed = Expr.scalar DType.Float32 2.0 * Expr.scalar DType.Float64 3.0
                Expect.equal mixed.DType DType.Float64 "float32 meeting float64 promotes"
                let v = Expr.variable "v" [| 2 |] DType.Float32
                Expect.equal (v * 2.0).DType DType.Float32 "a bare float takes the Expr's dtype"
            }
        ]
    ]
