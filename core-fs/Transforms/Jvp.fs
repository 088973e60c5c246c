/// Forward mode by transposition ("double VJP"): the pullback u ↦ Jᵀu is linear in u, so
/// ⟨Jᵀu, t⟩ = ⟨u, J t⟩ and the gradient of u ↦ ⟨pullback u, t⟩ is J t. The VJP table stays the
/// one set of rules: no JVP rule is written anywhere, and every op (custom ones included) gets
/// forward mode from its VJP.
///
/// Size: ForwardSizeTests.fs measures the nodes the tangent adds beyond the primal for a few
/// functions (the figures are in that test); the tangent is at most 2.5x the primal and never larger
/// than the pullback it transposes, except by a negation and a broadcast where a rule subtracts a
/// reduced cotangent. The cotangent variable u
/// never survives: every rule is linear in its cotangent, so the transposed graph holds only the
/// other factors (tested for every primitive). Per-primitive JVP rules would be a second table to
/// keep in step with the first for no smaller graph, so there are none.
namespace FunctionalDiff.Core

/// Tangent graphs by transposition, over the Vars of the transforms in Transforms.fs.
[<RequireQualifiedAccess>]
module Jvp =

    /// The tangent graph of `output` for tangent variables `tangentVars` of `vars`, and the
    /// cotangent variable used to build it. With `keepMasks` the walk keeps the pullback's masks
    /// outside the products the tangent meets (Rules.keepMaskOutside): a second derivative by forward
    /// over reverse (hvp, hessian) then agrees with reverse over reverse, torch's Hessian, where a
    /// rule's mask hides an infinite factor (`fuzz 1/1103`). Without it the tangent is torch's
    /// double-backward JVP, whose masks move onto the tangent as ours did: where(m, 0, t)·K.
    let internal transposeWith (keepMasks: bool) (output: Expr) (vars: Expr[]) (tangentVars: Expr[]) : Expr * Expr =
        let u = Ir.freshScopedVar "cotangent" output.Dims output.DType
        let pulled = Vjp.backward output u vars
        let pairings =
            Array.map2 (fun (c: Expr option) (t: Expr) -> c |> Option.map (fun c -> Expr.sum (c * t))) pulled tangentVars
            |> Array.choose id
        let tangent =
            if pairings.Length = 0 then None
            else
                let pairing = Array.reduce (+) pairings
                (Vjp.transposeBackward keepMasks pairing (Expr.ones pairing.DType [||]) [| u |]).[0]
        (match tangent with
         | Some t -> Expr.cast output.DType t
         | None -> Expr.zerosLike output), u

    /// transposeWith without keeping masks: the tangent of a first-order JVP.
    let internal transpose (output: Expr) (vars: Expr[]) (tangentVars: Expr[]) : Expr * Expr =
        transposeWith false output vars tangentVars

    /// The tangent graph of `output` over `vars` and `tangentVars`, with the cotangent variable
    /// set to zero (it is already gone when every rule is linear in its cotangent; a custom rule
    /// that is not, a clipping rule say, is linearised at cotangent 0). `keepMasks` as in
    /// transposeWith: true for the forward pass of a second derivative.
    let tangentOfWith (keepMasks: bool) (output: Expr) (vars: Expr[]) (tangentVars: Expr[]) : Expr =
        let tangent, u = transposeWith keepMasks output vars tangentVars
        (Substitute.apply [ u, Expr.zerosLike u ] [| tangent |]).[0]

    /// tangentOfWith for a first-order JVP (masks as torch's double-backward JVP).
    let tangentOf (output: Expr) (vars: Expr[]) (tangentVars: Expr[]) : Expr = tangentOfWith false output vars tangentVars

    /// Checks a jvp's tangents against its primals; `caller` is the public function's name. The
    /// texts are the C# facade's, which names the arrays `primals` and `tangents`.
    let checkTangents (caller: string) (primals: Expr list) (tangents: Expr list) =
        if List.length primals <> List.length tangents then
            Shape.fail caller (sprintf "%d tangents for %d primals" tangents.Length primals.Length)
        List.iteri2 (fun i (x: Expr) (t: Expr) ->
            if t.Dims <> x.Dims then
                Shape.fail caller (sprintf "tangents[%d] of shape %s does not match primals[%d] of shape %s" i (Shape.format t.Dims) i (Shape.format x.Dims)))
            primals tangents

    /// Checks the tangent of a one-argument jvp, naming both as the function's parameters are
    /// named (as the C# facade does with its own parameter names).
    let checkTangent (caller: string) (primalName: string) (x: Expr) (tangentName: string) (t: Expr) =
        if t.Dims <> x.Dims then
            Shape.fail caller (sprintf "%s of shape %s does not match %s of shape %s" tangentName (Shape.format t.Dims) primalName (Shape.format x.Dims))
