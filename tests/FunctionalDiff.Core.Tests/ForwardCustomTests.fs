/// Custom VJP rules: the rule is used instead of the forward's own derivative, is differentiated
/// again at higher orders, survives substitution and nesting, and drives forward mode too. The
/// three typical uses are checked against closed forms.
module FunctionalDiff.Core.Tests.ForwardCustomTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64
let private scalar v = Expr.scalar f64 v

/// The identity forward with the VJP of sine: any derivative that comes out as a derivative of
/// sine can only have come from the rule, since the forward graph's own derivative is 1.
let private identityWithSineRule = Diff.customVjpNamed "sine_rule" id (fun x g -> g * cos x)

/// log(1 + e^x) with the rule g * sigmoid x, finite for any x.
let private softplus = Diff.customVjpNamed "softplus" Nn.softplus (fun x g -> g * Expr.sigmoid x)

/// Identity with the cotangent clipped to [-1, 1].
let private clipGradient =
    Diff.customVjpNamed "clip_gradient" id (fun _ g -> Expr.maximum (Expr.minimum g (Expr.scalar g.DType 1.0)) (Expr.scalar g.DType -1.0))

/// Rounding whose VJP pretends it was the identity (straight-through estimator).
let private straightThroughRound = Diff.customVjpNamed "straight_through_round" Expr.round (fun _ g -> g)

[<Tests>]
let tests =
    testList "Forward" [
        testList "Custom VJP" [
            test "a rule of several inputs passes the gradient checker to order 2 and batches under vmap as a loop of its rows" {
                // Σ tanh(x)·w with its true rule; the checker compares reverse and forward mode with
                // central differences in float64, in x and w at once, so each cotangent is checked
                let tanhProduct =
                    Diff.customVjpNamedN "tanh_product"
                        (fun xs -> Expr.sum (tanh xs.[0] * xs.[1]))
                        (fun xs g -> [ g * (1.0 - Expr.square (tanh xs.[0])) * xs.[1]; Expr.sumAxes [| 0 |] false (g * tanh xs.[0]) ])
                let x0 = tensor [| 2; 3 |] [| 0.3; -0.8; 1.2; 0.05; -1.4; 0.6 |]
                let w0 = tensor [| 3 |] [| 0.7; -0.2; 1.5 |]
                let result = GradCheck.checkMany GradCheckOptions.Default (fun xs -> tanhProduct xs) [ x0; w0 ]
                Expect.isTrue result.Passed result.Message
                // vmap over x's rows (w shared) against one application per row
                let batched = Diff.vmapN [ Some 0; None ] 0 (fun xs -> tanhProduct xs) [ constant x0; constant w0 ]
                let rows = Array.init 2 (fun r -> value (tanhProduct [ constant (tensor [| 3 |] (x0.ToDoubleArray().[3 * r .. 3 * r + 2])); constant w0 ]))
                expectClose 1e-15 (values batched) rows "per row"
                // a wrong second cotangent (off by 1%) is caught
                let wrong =
                    Diff.customVjpNamedN "tanh_product_wrong"
                        (fun xs -> Expr.sum (tanh xs.[0] * xs.[1]))
                        (fun xs g -> [ g * (1.0 - Expr.square (tanh xs.[0])) * xs.[1]; Expr.sumAxes [| 0 |] false (g * tanh xs.[0]) * 1.01 ])
                Expect.isFalse (GradCheck.checkMany GradCheckOptions.Default (fun xs -> wrong xs) [ x0; w0 ]).Passed "1% off in w"
            }
            test "grad of grad goes through the rule: d/dx uses cos, d2/dx2 is -sin, d3 is -cos" {
                for x0 in [ -0.7; 0.4; 2.0 ] do
                    let x = scalar x0
                    Expect.floatClose Accuracy.veryHigh (value (Diff.grad identityWithSineRule x)) (cos x0) "first: cos"
                    Expect.floatClose Accuracy.veryHigh (value (Diff.grad (Diff.grad identityWithSineRule) x)) (-(sin x0)) "second: -sin"
                    Expect.floatClose Accuracy.veryHigh (value (Diff.grad (Diff.grad (Diff.grad identityWithSineRule)) x)) (-(cos x0)) "third: -cos"
            }
            test "the forward value is the forward function's" {
                let x0 = tensor [| 3 |] [| -1.0; 0.0; 2.0 |]
                Expect.equal (values (identityWithSineRule (constant x0))) (x0.ToDoubleArray()) "identity"
                Expect.equal (values (straightThroughRound (constant (tensor [| 3 |] [| 0.4; 1.6; -2.5 |])))) [| 0.0; 2.0; -2.0 |] "round half to even"
            }
            test "the rule is re-applied after substitution, inside a nested derivative" {
                // f(x) = x * d/dy [rule-sine](x y) at y = x = x * x cos(x^2), so
                // f'(x) = 2x cos(x^2) - 2x^3 sin(x^2).
                let f (x: Expr) = x * Diff.grad (fun y -> identityWithSineRule (x * y)) x
                for x0 in [ 0.3; -1.1 ] do
                    let expected = 2.0 * x0 * cos (x0 * x0) - 2.0 * x0 ** 3.0 * sin (x0 * x0)
                    Expect.floatClose Accuracy.veryHigh (value (Diff.grad f (scalar x0))) expected (sprintf "x = %g" x0)
            }
            test "forward mode, Jacobians and Hessians go through the rule" {
                let x0 = tensor [| 3 |] [| 0.5; -1.0; 2.0 |]
                let t = tensor [| 3 |] [| 1.0; 2.0; -1.0 |]
                let _, tangent = Diff.jvp identityWithSineRule (constant x0) (constant t)
                expectClose 1e-15 (values tangent) (Array.map2 (fun x d -> cos x * d) (x0.ToDoubleArray()) (t.ToDoubleArray())) "cos x t"
                let h = Diff.hessian (fun x -> Expr.sum (identityWithSineRule x)) (constant x0)
                let expected = Array.init 9 (fun k -> if k / 3 = k % 3 then -(sin (x0.ToDoubleArray().[k % 3])) else 0.0)
                expectClose 1e-15 (values h) expected "diag(-sin x)"
                let hr = Diff.jacobianWith JacobianMode.Reverse (Diff.grad (fun x -> Expr.sum (identityWithSineRule x))) (constant x0)
                expectClose 1e-15 (values hr) expected "reverse over reverse"
            }
            test "stable softplus: gradient sigmoid x and curvature s(1-s), finite at +-1000" {
                for x0 in [ -1000.0; -3.0; 0.0; 2.5; 1000.0 ] do
                    let s = 1.0 / (1.0 + exp -x0)
                    Expect.floatClose Accuracy.veryHigh (value (Diff.grad softplus (scalar x0))) s (sprintf "sigmoid at %g" x0)
                    Expect.floatClose Accuracy.veryHigh (value (Diff.grad (Diff.grad softplus) (scalar x0))) (s * (1.0 - s)) (sprintf "s(1-s) at %g" x0)
                Expect.equal (value (softplus (scalar 1000.0))) 1000.0 "no overflow in the value"
            }
            test "gradient clipping: identity forward, cotangent clipped to [-1, 1]" {
                let c = constant (tensor [| 4 |] [| 0.5; 3.0; -7.0; -0.25 |])
                let x0 = constant (tensor [| 4 |] [| 1.0; 2.0; 3.0; 4.0 |])
                Expect.equal (values (Diff.grad (fun x -> Expr.sum (clipGradient x * c)) x0)) [| 0.5; 1.0; -1.0; -0.25 |] "clipped"
            }
            test "straight-through rounding passes the cotangent unchanged" {
                // d/dx sum(round(x)^2) through the estimator: 2 round(x).
                let x0 = constant (tensor [| 3 |] [| 0.4; 1.6; -2.7 |])
                Expect.equal (values (Diff.grad (fun x -> Expr.sum (Expr.square (straightThroughRound x))) x0)) [| 0.0; 4.0; -6.0 |] "2 round x"
            }
            test "a rule returning the wrong shape is a ShapeException naming the op" {
                let bad = Diff.customVjpNamed "bad_rule" id (fun _ g -> Expr.sum g)
                let message =
                    try
                        Diff.grad (fun x -> Expr.sum (bad x)) (constant (tensor [| 2 |] [| 1.0; 2.0 |])) |> ignore
                        "no exception"
                    with :? ShapeException as e -> e.Message
                Expect.stringContains message "CustomVjp" "names the public call"
                Expect.stringContains message "'bad_rule'" "names the rule"
                Expect.stringContains message "[2]" "names the input shape"
            }
            test "forward mode linearises a rule that is not linear in its cotangent at cotangent 0" {
                // clip is the identity near 0, so the tangent of the clipped identity is t itself,
                // however large t is: forward mode sees no cotangent to clip.
                let t = tensor [| 3 |] [| 5.0; -0.5; -20.0 |]
                let _, tangent = Diff.jvp clipGradient (constant (tensor [| 3 |] [| 1.0; 2.0; 3.0 |])) (constant t)
                Expect.equal (values tangent) (t.ToDoubleArray()) "t"
            }
            test "a printed graph names the custom op" {
                let text = Print.text (softplus (Expr.variable "x" [| 2 |] f64))
                Expect.stringContains text "custom[softplus" "label"
            }
        ]
        testList "Errors" [
            test "a tangent of the wrong shape is a ShapeException naming Jvp and both shapes" {
                let message =
                    try
                        Diff.jvp sin (Expr.variable "x" [| 2; 3 |] f64) (Expr.variable "t" [| 3 |] f64) |> ignore
                        "no exception"
                    with :? ShapeException as e -> e.Message
                for part in [ "Jvp"; "[3]"; "[2,3]" ] do
                    Expect.stringContains message part "message"
            }
            test "hessian and hvp need a one-element function" {
                let x = Expr.variable "x" [| 2 |] f64
                Expect.throwsT<ShapeException> (fun () -> Diff.hessian sin x |> ignore) "hessian"
                Expect.throwsT<ShapeException> (fun () -> Diff.hvp sin x x |> ignore) "hvp"
            }
        ]
    ]
