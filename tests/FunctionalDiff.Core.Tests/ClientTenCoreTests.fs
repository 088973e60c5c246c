/// The F# side of what the skip-gram, TCN and padded-attention ports (ClientTen*Tests.cs) added to the facade:
/// Functional.poissonNllLossElements, Elementary.nanToNum, isNan, isInf, isFinite and Optimizers.clipGradValue, each
/// against torch's formula written here with doubles.
module FunctionalDiff.Core.Tests.ClientTenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

[<Tests>]
let tests =
    testList "client ten (F# side of poisson_nll_loss, nan_to_num and clip_grad_value_)" [
        test "poissonNllLossElements: torch's formula from a log rate and from a rate with Stirling's term, and its gradient" {
            let x0 = [| 0.3; -0.5; 1.2; 0.1 |]
            let n = [| 0.0; 1.0; 3.0; 6.0 |]
            let x = Expr.constant (Tensor.ofArray64 [| 4 |] x0)
            let target = Expr.constant (Tensor.ofArray64 [| 4 |] n)
            let stirling k = if n.[k] > 1.0 then n.[k] * log n.[k] - n.[k] + 0.5 * log (2.0 * Math.PI * n.[k]) else 0.0
            close 1e-15 (Array.init 4 (fun k -> exp x0.[k] - n.[k] * x0.[k])) (values (Functional.poissonNllLossElements true false 1e-8 x target)) "log input"
            let rate = Expr.exp x
            close 1e-14 (Array.init 4 (fun k -> exp x0.[k] - n.[k] * log (exp x0.[k] + 1e-8) + stirling k))
                (values (Functional.poissonNllLossElements false true 1e-8 rate target)) "rate, full"
            // d/dx of e^x − n·x is e^x − n
            let g = Diff.grad (fun v -> Expr.sum (Functional.poissonNllLossElements true true 1e-8 v target)) x
            close 1e-15 (Array.init 4 (fun k -> exp x0.[k] - n.[k])) (values g) "gradient"
        }

        test "nanToNum replaces NaN and the infinities and passes the gradient at finite entries only" {
            let x0 = [| 1.5; nan; infinity; -infinity; -2.0 |]
            let x = Expr.constant (Tensor.ofArray64 [| 5 |] x0)
            close 0.0 [| 1.5; 0.0; 7.0; -7.0; -2.0 |] (values (Elementary.nanToNum 0.0 7.0 -7.0 x)) "value"
            close 0.0 [| 0.0; 1.0; 0.0; 0.0; 0.0 |] (values (Elementary.isNan x)) "isnan"
            close 0.0 [| 0.0; 0.0; 1.0; 1.0; 0.0 |] (values (Elementary.isInf x)) "isinf"
            close 0.0 [| 1.0; 0.0; 0.0; 0.0; 1.0 |] (values (Elementary.isFinite x)) "isfinite"
            let g = Diff.grad (fun v -> Expr.sum (Elementary.nanToNum 0.0 7.0 -7.0 v)) x
            close 0.0 [| 1.0; 0.0; 0.0; 0.0; 1.0 |] (values g) "gradient"
        }

        test "clipGradValue clamps every entry to ±clipValue and keeps NaN" {
            let clipped = Optimizers.clipGradValue 0.5 [| Tensor.ofArray64 [| 4 |] [| 0.2; -3.0; 0.9; nan |] |]
            let v = clipped.[0].ToDoubleArray()
            close 0.0 [| 0.2; -0.5; 0.5 |] v.[.. 2] "clamped"
            Expect.isTrue (Double.IsNaN v.[3]) "NaN stays"
            Expect.throwsT<ArgumentOutOfRangeException> (fun () -> Optimizers.clipGradValue -1.0 [||] |> ignore) "a negative clipValue"
        }
    ]
