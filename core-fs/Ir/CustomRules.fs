/// The registry of user-defined VJP rules (Diff.customVjp). The Op union stays payload-light: an
/// Op.Custom node carries only an id and a name, and the rule, a function over Exprs, lives here.
namespace FunctionalDiff.Core

open System.Collections.Concurrent
open System.Threading

/// A user's VJP rule: the cotangent of x from x and the output's cotangent, in the op language.
type internal CustomRule = { Name: string; Vjp: Expr -> Expr -> Expr }

/// Registration and lookup of custom rules. One entry per `customVjp` call (not per use), so the
/// registry grows with the program's text, never with its data.
module internal CustomRules =

    let private rules = ConcurrentDictionary<int, CustomRule>()
    let mutable private lastId = 0

    /// Stores a rule and returns its id.
    let register (name: string) (vjp: Expr -> Expr -> Expr) : int =
        let id = Interlocked.Increment(&lastId)
        rules.[id] <- { Name = name; Vjp = vjp }
        id

    let private find (id: int) =
        match rules.TryGetValue id with
        | true, rule -> rule
        | _ -> invalidOp (sprintf "custom rule #%d is not registered" id)

    /// The name a rule was registered under, for printing and messages.
    let name (id: int) = (find id).Name

    /// The cotangent of x given the output cotangent g, checked to have x's shape.
    let cotangent (id: int) (x: Expr) (g: Expr) : Expr =
        let rule = find id
        let result = rule.Vjp x g
        if isNull (box result) then invalidOp (sprintf "Custom %s: the VJP rule returned null" rule.Name)
        if result.Dims <> x.Dims then
            Shape.fail ("Custom " + rule.Name)
                (sprintf "the VJP rule returned shape %s for an input of shape %s" (Shape.format result.Dims) (Shape.format x.Dims))
        result
