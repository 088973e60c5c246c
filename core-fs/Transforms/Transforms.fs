/// The user-facing transforms. Each one builds the function at a FRESH Var, differentiates that
/// graph, then substitutes the real argument for the Var. The fresh Var is what keeps nested
/// derivatives apart (no perturbation confusion) and makes `grad (fun v -> v * c) c` equal c.
namespace FunctionalDiff.Core

/// Differentiation transforms: functions in, functions and graphs out, freely nested.
[<RequireQualifiedAccess>]
module Diff =

    let private freshLike (i: int) (x: Expr) = Ir.freshVar (sprintf "arg%d" i) x.Dims x.DType

    /// Value and pullback of f at the arguments: the pullback maps an output cotangent to one
    /// cotangent per argument (zeros where f does not depend on it).
    let vjpN (f: Expr list -> Expr) (arguments: Expr list) : Expr * (Expr -> Expr list) =
        let vars = arguments |> List.mapi freshLike
        let output = f vars
        let replacements = List.zip vars arguments
        let value = (Substitute.apply replacements [| output |]).[0]
        let pullback (cotangent: Expr) =
            if cotangent.Dims <> output.Dims then
                Shape.fail "Pullback" (sprintf "cotangent of shape %s does not match output %s" (Shape.format cotangent.Dims) (Shape.format output.Dims))
            let found = Vjp.backward output cotangent (Array.ofList vars)
            let filled = Array.map2 (fun (c: Expr option) (x: Expr) -> defaultArg c (Expr.zerosLike x)) found (Array.ofList arguments)
            Substitute.apply replacements filled |> List.ofArray
        value, pullback

    /// Value and pullback of a one-argument function.
    let vjp (f: Expr -> Expr) (x: Expr) : Expr * (Expr -> Expr) =
        let value, pullback = vjpN (fun args -> f (List.head args)) [ x ]
        value, (fun g -> List.head (pullback g))

    /// Value and pullback of a two-argument function.
    let vjp2 (f: Expr -> Expr -> Expr) (x: Expr, y: Expr) : Expr * (Expr -> Expr * Expr) =
        let value, pullback = vjpN (fun args -> f args.[0] args.[1]) [ x; y ]
        value, (fun g -> match pullback g with [ gx; gy ] -> gx, gy | _ -> invalidOp "two cotangents expected")

    let private seedFor (output: Expr) =
        if output.Numel <> 1 then
            Shape.fail "Grad" (sprintf "needs a one-element output, got shape %s" (Shape.format output.Dims))
        Expr.ones output.DType output.Dims

    /// The value of a one-element f and its gradient with respect to each argument.
    let valueAndGradN (f: Expr list -> Expr) (arguments: Expr list) : Expr * Expr list =
        let vars = arguments |> List.mapi freshLike
        let output = f vars
        let seed = seedFor output
        let replacements = List.zip vars arguments
        let found = Vjp.backward output seed (Array.ofList vars)
        let filled = Array.map2 (fun (c: Expr option) (x: Expr) -> defaultArg c (Expr.zerosLike x)) found (Array.ofList arguments)
        let all = Substitute.apply replacements (Array.append [| output |] filled)
        all.[0], List.ofArray all.[1..]

    /// The gradient of a one-element f with respect to each argument (JAX's argnums over a list).
    let gradN (f: Expr list -> Expr) (arguments: Expr list) : Expr list = snd (valueAndGradN f arguments)

    /// The value of a one-element f and its gradient.
    let valueAndGrad (f: Expr -> Expr) (x: Expr) : Expr * Expr =
        let value, grads = valueAndGradN (fun args -> f (List.head args)) [ x ]
        value, List.head grads

    /// The gradient of a one-element f; `grad f` is itself a function, so it nests.
    let grad (f: Expr -> Expr) (x: Expr) : Expr = snd (valueAndGrad f x)

    /// The gradients of a one-element two-argument function.
    let grad2 (f: Expr -> Expr -> Expr) (x: Expr, y: Expr) : Expr * Expr =
        match gradN (fun args -> f args.[0] args.[1]) [ x; y ] with
        | [ gx; gy ] -> gx, gy
        | _ -> invalidOp "two gradients expected"

    /// The identity whose derivative is zero.
    let stopGradient (x: Expr) : Expr = Expr.stopGradient x
