/// Full Jacobians, as ONE graph: stacked VJPs (one pullback per output element) or stacked JVPs
/// (one tangent per input element). The pullback or tangent graph is built once with a symbolic
/// cotangent or tangent variable; each row or column substitutes a basis vector for it, so the
/// primal and every part that does not depend on the basis vector are shared by all of them.
namespace FunctionalDiff.Core

/// How a Jacobian is assembled.
[<RequireQualifiedAccess>]
type JacobianMode =
    /// Forward when the input has fewer elements than the output, otherwise Reverse.
    | Auto
    /// One JVP per input element: cheap for few inputs.
    | Forward
    /// One VJP per output element: cheap for few outputs.
    | Reverse

/// Jacobian assembly.
[<RequireQualifiedAccess>]
module Jacobian =

    /// The i-th basis vector of a shape, symbolic (a padded 1), so it stays canonical and small.
    let private basis (dtype: DType) (shape: int[]) (i: int) =
        let n = Shape.numel shape
        Expr.ones dtype [| 1 |] |> Expr.pad [| i |] [| n - 1 - i |] |> Expr.reshape shape

    /// The mode Auto picks for n input and m output elements.
    let resolve (mode: JacobianMode) (inputCount: int) (outputCount: int) =
        match mode with
        | JacobianMode.Auto -> if inputCount < outputCount then JacobianMode.Forward else JacobianMode.Reverse
        | chosen -> chosen

    /// The Jacobian of f at x, of shape (output shape @ input shape): entry [i..., j...] is
    /// d f(x)[i...] / d x[j...].
    let build (mode: JacobianMode) (f: Expr -> Expr) (x: Expr) : Expr =
        let var = Ir.freshVar "primal" x.Dims x.DType
        let output = f var
        let m, n = output.Numel, x.Numel
        let shape = Array.append output.Dims x.Dims
        let jacobian =
            if m = 0 || n = 0 then Expr.zeros output.DType shape
            else
                match resolve mode n m with
                | JacobianMode.Forward ->
                    let tangentVar = Ir.freshVar "tangent" x.Dims x.DType
                    let tangent, u = Jvp.transpose output [| var |] [| tangentVar |]
                    let tangent = (Substitute.apply [ u, Expr.zerosLike u ] [| tangent |]).[0]
                    let columns =
                        Array.init n (fun j -> (Substitute.apply [ tangentVar, basis x.DType x.Dims j ] [| tangent |]).[0] |> Expr.reshape [| m |])
                    // [m, n] with column j = J e_j.
                    Expr.stack 1 columns |> Expr.reshape shape
                | _ ->
                    let u = Ir.freshVar "cotangent" output.Dims output.DType
                    match (Vjp.backward output u [| var |]).[0] with
                    | None -> Expr.zeros output.DType shape
                    | Some pulled ->
                        let rows =
                            Array.init m (fun i -> (Substitute.apply [ u, basis output.DType output.Dims i ] [| pulled |]).[0] |> Expr.reshape [| n |])
                        // [m, n] with row i = Jᵀ e_i; the cotangent arrives in x's dtype.
                        Expr.stack 0 rows |> Expr.cast output.DType |> Expr.reshape shape
        (Substitute.apply [ var, x ] [| jacobian |]).[0]
