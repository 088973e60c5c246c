/// A function whose output has no entries has derivatives that are empty sums: exactly 0 in every
/// argument, whatever slopes lie below (its Jacobian has no rows). Checked where a slope below is
/// 0/0 = NaN (0/x at x = 1e-310, whose x² underflows), which a tensor of zeros passed down would
/// meet as 0·NaN (`fuzz all adversarial 133/118`: x₁ + Σ 0/x₀ with x₁ of shape [0, 1]).
module FunctionalDiff.Core.Tests.EmptyOutputTests

open Expecto
open FunctionalDiff.Core

let private f64 = DType.Float64

let private f (xs: Expr list) = xs.[1] + Expr.sum (Expr.scalar f64 0.0 / xs.[0])

let private point () =
    [ Expr.constant (Tensor.FromArray([| 1e-310 |], [| 1; 1; 1 |])); Expr.constant (Tensor.FromArray(([||]: float[]), [| 0; 1 |])) ]

/// An empty cotangent as a tensor (as a caller passes one), not a symbolic zero.
let private emptyCotangent () = Expr.constant (Tensor.FromArray(([||]: float[]), [| 0; 1 |]))

[<Tests>]
let tests =
    testList "Empty outputs" [
        test "the pullback of an output with no entries is 0 in every argument" {
            let value, pullback = Diff.vjpN f (point ())
            Expect.equal value.Shape [| 0; 1 |] "the output is empty"
            match pullback (emptyCotangent ()) with
            | [ g0; g1 ] ->
                Expect.equal ((Eval.eval g0).ToDoubleArray()) [| 0.0 |] "an empty sum"
                Expect.equal (Eval.eval g1).Shape [| 0; 1 |] "the empty argument's"
            | other -> failtestf "two cotangents expected, got %d" other.Length
        }

        test "so are its second derivatives, reverse over reverse" {
            // d/dx ⟨pullback(u), v⟩ with u empty, as the comparison's second-order check forms it
            let inner (zs: Expr list) =
                let _, pullback = Diff.vjpN f zs
                match pullback (emptyCotangent ()) with
                | [ g0; g1 ] -> Expr.sum (g0 * 1.76) + Expr.sum g1
                | other -> failwithf "two cotangents expected, got %d" other.Length
            match Diff.gradN inner (point ()) with
            | [ h0; _ ] -> Expect.equal ((Eval.eval h0).ToDoubleArray()) [| 0.0 |] "an empty sum"
            | other -> failtestf "two gradients expected, got %d" other.Length
        }
    ]
