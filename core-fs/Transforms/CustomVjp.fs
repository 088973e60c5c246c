/// User-defined ops with their own VJP (like jax.custom_vjp or torch.autograd.Function). Both the
/// forward function and the rule are written in the op language, so the op stays differentiable
/// at every order: the rule's graph is differentiated again like any other.
namespace FunctionalDiff.Core

/// Construction of custom ops.
[<RequireQualifiedAccess>]
module CustomVjp =

    /// An op computing `forward x` whose VJP is `vjp x g` (g the output cotangent; the result
    /// must have x's shape). Forward mode transposes the rule, which is exact when the rule is
    /// linear in g. The rule is registered once, here, not on every application; the returned
    /// function and the nodes it builds keep the rule alive, and nothing else does.
    let define (name: string) (forward: Expr -> Expr) (vjp: Expr -> Expr -> Expr) : Expr -> Expr =
        if isNull (box forward) then nullArg "forward"
        if isNull (box vjp) then nullArg "vjp"
        let rule = CustomRules.register name vjp
        fun x -> Expr.custom rule x (forward x)
