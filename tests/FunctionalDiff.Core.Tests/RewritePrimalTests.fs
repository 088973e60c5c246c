/// The Rewrite pass keeps f's own nodes as f built them in the derivative graphs a transform returns: the rules read
/// f's values there (abs's slope is sgn x, max's mask compares x with the result), and a normal form, which treats
/// its atoms as real numbers, is not IEEE's value where an atom is infinite: (1 − y)·b distributed into b − y·b is
/// NaN at y = 0, b = +∞, where the product is b. Against closed forms at an infinite input, in both dtypes, and
/// against float64 central differences where everything is finite.
module FunctionalDiff.Core.Tests.RewritePrimalTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private sigmoid (x: float) = 1.0 / (1.0 + Math.Exp(-x))

let private softplus (x: float) = Math.Max(x, 0.0) + Math.Log(1.0 + Math.Exp(-Math.Abs x))

/// A zero target made inside f, as a loss's target is: a node of the transform's own graph.
let private zeroTarget (dtype: DType) (dims: int[]) = Expr.cast dtype (Expr.constant (Tensor.FromArray(Array.zeroCreate<float> (Array.fold (*) 1 dims), dims)))

/// x₀·k(−((1 − y)·(−softplus x₁))) for x = [x₀, x₁], y = 0: −((1 − y)·(−b)) as a loss writes its terms, whose normal
/// form b − y·b is NaN at b = softplus(+∞) = +∞. k is abs or max (over its one element): both read the product's
/// value. The function is x₀·softplus x₁.
let private scaledKink (kink: Expr -> Expr) (x: Expr) =
    let y = zeroTarget x.DType [| 1 |]
    let product = -((1.0 - y) * -(Nn.softplus (Expr.sliceAxis 0 1 2 x)))
    Expr.sum (Expr.sliceAxis 0 0 1 x * kink product)

let private kinks : (string * (Expr -> Expr)) list = [ "abs", Expr.abs; "max", Expr.max ]

/// The gradient [softplus x₁, x₀σ(x₁)] and the Hessian [[0, σ(x₁)], [σ(x₁), x₀σ(x₁)σ(−x₁)]] of x₀·softplus x₁.
let private closedGradient (x: float[]) = [| softplus x.[1]; x.[0] * sigmoid x.[1] |]

let private closedHessian (x: float[]) =
    let s = sigmoid x.[1]
    [| 0.0; s; s; x.[0] * s * sigmoid (-x.[1]) |]

let private at (dtype: DType) (x: float[]) = Expr.cast dtype (Expr.constant (Tensor.FromArray(x, [| x.Length |])))

[<Tests>]
let tests =
    testList "Rewrite.Primal" [
        test "x₀·k((1 − y)·softplus x₁) at x₁ = +∞, k abs or max: the gradient [+∞, x₀] and the Hessian [[0, 1], [1, 0]], both dtypes" {
            // The derivative graph's copy of the product was its normal form, NaN there: the gradient was [NaN, 0]
            // with abs ([NaN, NaN] with max), and the Hessian's off-diagonal 0 (NaN).
            let x = [| 2.0; infinity |]
            for name, kink in kinks do
                for dtype in [ DType.Float64; DType.Float32 ] do
                    let f = scaledKink kink
                    let what = sprintf "%s, %A" name dtype
                    expectIeee (values (Diff.grad f (at dtype x))) [| infinity; 2.0 |] (what + ": gradient")
                    expectIeee (values (Diff.hessian f (at dtype x))) [| 0.0; 1.0; 1.0; 0.0 |] (what + ": Hessian")
                    // the closed forms agree: softplus(+∞) = +∞, σ(+∞) = 1, σ(−∞) = 0
                    expectIeee (closedGradient x) [| infinity; 2.0 |] (what + ": closed gradient")
                    expectIeee (closedHessian x) [| 0.0; 1.0; 1.0; 0.0 |] (what + ": closed Hessian")
        }
        test "x₀·k((1 − y)·softplus x₁) at finite points: the closed forms and float64 central differences" {
            let h = 1e-4
            let plain (x: float[]) = x.[0] * softplus x.[1]
            for x in [ [| 2.0; 3.0 |]; [| -1.5; -0.7 |]; [| 0.5; 12.0 |] ] do
                for name, kink in kinks do
                    let f = scaledKink kink
                    let what = sprintf "%s at %A" name x
                    let gradient = values (Diff.grad f (at DType.Float64 x))
                    expectClose 1e-12 gradient (closedGradient x) (what + ": gradient, closed form")
                    expectClose 1e-8 gradient (centralGradient plain x h) (what + ": gradient, central differences")
                    let hessian = values (Diff.hessian f (at DType.Float64 x))
                    expectClose 1e-12 hessian (closedHessian x) (what + ": Hessian, closed form")
                    let secondDifference i j =
                        let shifted (di: float) (dj: float) =
                            let p = Array.copy x
                            p.[i] <- p.[i] + di
                            p.[j] <- p.[j] + dj
                            plain p
                        (shifted h h - shifted h -h - shifted -h h + shifted -h -h) / (4.0 * h * h)
                    expectClose 1e-6 hessian [| for i in 0 .. 1 do for j in 0 .. 1 do secondDifference i j |] (what + ": Hessian, central differences")
        }
        test "the multilabel soft-margin loss at the logit +∞ with target 0, under max and abs: slope σ(x)/C = 1, curvature σ(x)σ(−x)/C = 0, both dtypes" {
            // `fuzz newest adversarial 1/73` (float32): max's mask read the NaN of the loss's normal form, so the
            // gradient was NaN (abs: slope 0), and the Hessian NaN.
            for dtype in [ DType.Float64; DType.Float32 ] do
                let loss (x: Expr) = Functional.multilabelSoftMarginLossElements (Expr.scalar dtype 1.0) x (zeroTarget dtype [| 1; 1 |])
                let x = Expr.cast dtype (Expr.constant (Tensor.FromArray([| infinity |], [| 1; 1 |])))
                for name, after in [ "max", Expr.max; "abs", (fun (e: Expr) -> Expr.sum (Expr.abs e)) ] do
                    let f = loss >> after
                    let what = sprintf "%s, %A" name dtype
                    expectIeee (values (f x)) [| infinity |] (what + ": value")
                    expectIeee (values (Diff.grad f x)) [| sigmoid infinity |] (what + ": gradient")
                    expectIeee (values (Diff.hessian f x)) [| sigmoid infinity * sigmoid -infinity |] (what + ": Hessian")
        }
    ]
