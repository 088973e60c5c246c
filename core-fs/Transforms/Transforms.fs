/// The user-facing transforms. Each one builds the function at a FRESH Var, differentiates that
/// graph, then substitutes the real argument for the Var. The fresh Var is what keeps nested
/// derivatives apart (no perturbation confusion) and makes `grad (fun v -> v * c) c` equal c.
/// Every graph a transform returns goes through Rewrite.simplify, so each level of a nested
/// derivative starts from a polynomial normal form instead of the whole previous graph.
namespace FunctionalDiff.Core

/// Differentiation transforms: functions in, functions and graphs out, freely nested.
[<RequireQualifiedAccess>]
module Diff =

    let private freshLike (i: int) (x: Expr) = Ir.freshVar (sprintf "arg%d" i) x.Dims x.DType

    /// Value and pullback of f at the arguments: the pullback maps an output cotangent to one
    /// cotangent per argument (zeros where f does not depend on it). As torch.autograd.grad does,
    /// the cotangent may have either dtype: it is converted to the output's, and each result has
    /// its own argument's dtype.
    let vjpN (f: Expr list -> Expr) (arguments: Expr list) : Expr * (Expr -> Expr list) =
        let vars = arguments |> List.mapi freshLike
        let output = f vars
        let replacements = List.zip vars arguments
        let value = (Rewrite.simplify (Substitute.apply replacements [| output |])).[0]
        let pullback (cotangent: Expr) =
            if cotangent.Dims <> output.Dims then
                Shape.fail "Pullback" (sprintf "cotangent of shape %s does not match output %s" (Shape.format cotangent.Dims) (Shape.format output.Dims))
            let found = Vjp.backward output cotangent (Array.ofList vars)
            let filled = Array.map2 (fun (c: Expr option) (x: Expr) -> defaultArg c (Expr.zerosLike x)) found (Array.ofList arguments)
            Substitute.apply replacements filled |> Rewrite.simplify |> List.ofArray
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
        // The value and the gradients are simplified apart: a nested derivative keeps only the
        // gradients, and a normal form is only smaller when nothing else holds on to its parts.
        (Rewrite.simplify [| all.[0] |]).[0], List.ofArray (Rewrite.simplify all.[1..])

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

    // ---- forward mode, Jacobians and custom rules (Jvp.fs, Jacobian.fs, CustomVjp.fs) ----

    /// The value of f at the primals and the tangent sum_i J_i t_i.
    let jvpN (f: Expr list -> Expr) (primals: Expr list) (tangents: Expr list) : Expr * Expr =
        let value, tangent = Jvp.forward f primals tangents
        // Simplified apart, as in valueAndGradN: nested forward mode keeps only the tangent.
        (Rewrite.simplify [| value |]).[0], (Rewrite.simplify [| tangent |]).[0]

    /// The value of f at x and its tangent J t, by transposing the pullback (see Jvp.fs).
    let jvp (f: Expr -> Expr) (x: Expr) (t: Expr) : Expr * Expr = jvpN (fun args -> f (List.head args)) [ x ] [ t ]

    /// The Hessian of a one-element f at x applied to v, forward over reverse: the JVP of grad f.
    /// Chosen by measurement against reverse over reverse (grad of <grad f, v>) on two-layer MLP
    /// losses: 73 vs 74 nodes, equal work to 0.03%, times within noise (ForwardSizeTests.fs has the
    /// figures). The two are the same products grouped differently; this one shares hessian's code.
    let hvp (f: Expr -> Expr) (x: Expr) (v: Expr) : Expr = snd (jvp (grad f) x v)

    /// The Jacobian of f at x with the mode chosen; shape (output shape @ input shape).
    let jacobianWith (mode: JacobianMode) (f: Expr -> Expr) (x: Expr) : Expr = (Rewrite.simplify [| Jacobian.build mode f x |]).[0]

    /// The Jacobian of f at x, shape (output shape @ input shape), forward mode when x has fewer
    /// elements than f x, reverse mode otherwise.
    let jacobian (f: Expr -> Expr) (x: Expr) : Expr = jacobianWith JacobianMode.Auto f x

    /// The Hessian of a one-element f at x, shape (x.shape @ x.shape): the forward-mode Jacobian
    /// of the gradient, one Hessian-vector product per column, as hvp.
    let hessian (f: Expr -> Expr) (x: Expr) : Expr =
        jacobianWith JacobianMode.Forward (grad f) x

    /// A function with a user-defined VJP: `customVjp forward vjp` computes `forward x` and sends
    /// the cotangent g back to x as `vjp x g`. Both are in the op language, so the result nests
    /// under any transform; the rule is differentiated again for higher orders.
    let customVjp (forward: Expr -> Expr) (vjp: Expr -> Expr -> Expr) : Expr -> Expr = CustomVjp.define "custom" forward vjp

    /// customVjp with a name that appears in printed graphs and error messages.
    let customVjpNamed (name: string) (forward: Expr -> Expr) (vjp: Expr -> Expr -> Expr) : Expr -> Expr =
        CustomVjp.define name forward vjp
