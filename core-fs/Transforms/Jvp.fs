/// Forward mode by transposition ("double VJP"): the pullback u ↦ Jᵀu is linear in u, so
/// ⟨Jᵀu, t⟩ = ⟨u, J t⟩ and the gradient of u ↦ ⟨pullback u, t⟩ is J t. The VJP table stays the
/// one set of rules: no JVP rule is written anywhere, and every op (custom ones included) gets
/// forward mode from its VJP.
///
/// Size: ForwardSizeTests.fs measures the nodes the tangent adds beyond the primal for a few
/// functions (the figures are in that test); the tangent is at most 2.5x the primal and never larger
/// than the pullback it transposes. The cotangent variable u
/// never survives: every rule is linear in its cotangent, so the transposed graph holds only the
/// other factors (tested for every primitive). Per-primitive JVP rules would be a second table to
/// keep in step with the first for no smaller graph, so there are none.
namespace FunctionalDiff.Core

/// The forward-mode transform over functions of several arguments.
[<RequireQualifiedAccess>]
module Jvp =

    /// The tangent graph of `output` for tangent variables `tangentVars` of `vars`, and the
    /// cotangent variable used to build it. Exposed for the tests that check u was eliminated.
    let internal transpose (output: Expr) (vars: Expr[]) (tangentVars: Expr[]) : Expr * Expr =
        let u = Ir.freshVar "cotangent" output.Dims output.DType
        let pulled = Vjp.backward output u vars
        let pairings =
            Array.map2 (fun (c: Expr option) (t: Expr) -> c |> Option.map (fun c -> Expr.sum (c * t))) pulled tangentVars
            |> Array.choose id
        let tangent =
            if pairings.Length = 0 then None
            else
                let pairing = Array.reduce (+) pairings
                (Vjp.backward pairing (Expr.ones pairing.DType [||]) [| u |]).[0]
        (match tangent with
         | Some t -> Expr.cast output.DType t
         | None -> Expr.zerosLike output), u

    let private checkTangents (primals: Expr list) (tangents: Expr list) =
        if List.length primals <> List.length tangents then
            Shape.fail "Jvp" (sprintf "%d primals but %d tangents" primals.Length tangents.Length)
        List.iteri2 (fun i (x: Expr) (t: Expr) ->
            if t.Dims <> x.Dims then
                Shape.fail "Jvp" (sprintf "tangent %d of shape %s does not match its primal %s" i (Shape.format t.Dims) (Shape.format x.Dims)))
            primals tangents

    /// The value of f at the primals and its tangent (the Jacobian applied to the tangents).
    /// Tangents take their primal's dtype. A custom rule that is not linear in its cotangent (a
    /// clipping rule, say) has no Jacobian of its own; forward mode linearises it at cotangent 0.
    let forward (f: Expr list -> Expr) (primals: Expr list) (tangents: Expr list) : Expr * Expr =
        checkTangents primals tangents
        let vars = primals |> List.mapi (fun i x -> Ir.freshVar (sprintf "primal%d" i) x.Dims x.DType) |> Array.ofList
        let tangentVars = primals |> List.mapi (fun i x -> Ir.freshVar (sprintf "tangent%d" i) x.Dims x.DType) |> Array.ofList
        let output = f (List.ofArray vars)
        let tangent, u = transpose output vars tangentVars
        let replacements =
            [ yield! Seq.zip vars primals
              yield! Seq.zip tangentVars (List.map2 (fun (x: Expr) t -> Expr.cast x.DType t) primals tangents)
              yield u, Expr.zerosLike u ]
        match Substitute.apply replacements [| output; tangent |] with
        | [| value; tangent |] -> value, tangent
        | _ -> invalidOp "two roots expected"
