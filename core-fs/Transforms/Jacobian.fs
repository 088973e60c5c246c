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

    /// The Jacobian of `output` with respect to the Var `var` (both built by the caller), of
    /// shape (output shape @ var shape): entry [i..., j...] is d output[i...] / d var[j...]. The
    /// result is a graph over `var`; the caller substitutes its argument.
    let build (mode: JacobianMode) (var: Expr) (output: Expr) : Expr =
        let m, n = output.Numel, var.Numel
        let shape = Array.append output.Dims var.Dims
        if m = 0 || n = 0 then Expr.zeros output.DType shape
        else
            match resolve mode n m with
            | JacobianMode.Forward ->
                let tangentVar = Ir.freshVar "tangent" var.Dims var.DType
                let tangent = Jvp.tangentOf output [| var |] [| tangentVar |]
                // Each column rebuilds only the nodes that depend on the tangent.
                let plan = Substitute.plan [| tangentVar |] [| tangent |]
                let columns = Array.init n (fun j -> (Substitute.run plan [| basis var.DType var.Dims j |]).[0] |> Expr.reshape [| m |])
                // [m, n] with column j = J e_j.
                Expr.stack 1 columns |> Expr.reshape shape
            | _ ->
                let u = Ir.freshVar "cotangent" output.Dims output.DType
                match (Vjp.backward output u [| var |]).[0] with
                | None -> Expr.zeros output.DType shape
                | Some pulled ->
                    let plan = Substitute.plan [| u |] [| pulled |]
                    let rows = Array.init m (fun i -> (Substitute.run plan [| basis output.DType output.Dims i |]).[0] |> Expr.reshape [| n |])
                    // [m, n] with row i = Jᵀ e_i; the cotangent arrives in var's dtype.
                    Expr.stack 0 rows |> Expr.cast output.DType |> Expr.reshape shape
