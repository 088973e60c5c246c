/// Helpers for the forward-mode tests: directional finite differences in float64 and dtype casts.
module FunctionalDiff.Core.Tests.ForwardSupport

open FunctionalDiff.Core

/// Central differences of any function along tangents of all its inputs at once:
/// (f(x + h t) - f(x - h t)) / 2h, in float64. h = 1e-6: truncation ~h²|f'''| ~ 1e-12, rounding
/// ~1e-16|f|/h ~ 1e-10|f|.
let directionalDifference (f: Expr list -> Expr) (points: Tensor list) (tangents: Tensor list) : float[] =
    let h = 1e-6
    let vars = points |> List.mapi (fun i p -> Expr.variable (sprintf "p%d" i) p.Shape DType.Float64)
    let output = f vars
    let at (sign: float) =
        let moved = List.map2 (fun (p: Tensor) (t: Tensor) -> Tensor.FromArray(Array.map2 (fun x d -> x + sign * h * d) (p.ToDoubleArray()) (t.ToDoubleArray()), p.Shape)) points tangents
        (Eval.evalWith (List.zip vars moved) output).ToDoubleArray()
    Array.map2 (fun a b -> (a - b) / (2.0 * h)) (at 1.0) (at -1.0)

/// The constant graph of a tensor in the given dtype.
let constantIn (dtype: DType) (t: Tensor) = Expr.constant (t.Cast dtype)

/// sum(a * b) of two arrays.
let dot (a: float[]) (b: float[]) = Array.fold2 (fun s x y -> s + x * y) 0.0 a b
