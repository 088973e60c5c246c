/// The user-defined VJP rules (Diff.customVjp). The Op union stays payload-light: an Op.Custom
/// node carries only an id and a name, and the rule, a function over Exprs, lives here.
///
/// A rule lives exactly as long as something can still apply it: the function `customVjp`
/// returned, or a node built by that function. Both hold it strongly (the function by closure,
/// each node through a ConditionalWeakTable entry keyed by the node); the id only finds it, weakly.
/// So a loop that defines rules capturing large tensors lets each rule go with its graphs. The
/// interning table's keys hold just the id, so a dead node's entry keeps nothing of the rule alive.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Runtime.CompilerServices
open System.Threading

/// A user's VJP rule: the cotangent of x from x and the output's cotangent, in the op language.
/// A class, compared by reference: two rules are never the same rule.
[<Sealed; AllowNullLiteral>]
type internal CustomRule(id: int, name: string, vjp: Expr -> Expr -> Expr) =
    member _.Id = id
    member _.Name = name
    member _.Vjp = vjp

/// Registration and lookup of custom rules, one per `customVjp` call (not per use).
module internal CustomRules =

    let private byId = Dictionary<int, WeakReference<CustomRule>>()
    let private byNode = ConditionalWeakTable<Expr, CustomRule>()
    let private gate = obj ()
    let mutable private lastId = 0
    // Entries of collected rules are dropped whenever the table doubles, so it stays bounded by
    // twice the number of live rules (plus a floor) in a loop that defines rules.
    let mutable private purgeAt = 64

    /// A new rule with its own id. The caller keeps the returned object alive while it may apply it.
    let register (name: string) (vjp: Expr -> Expr -> Expr) : CustomRule =
        let rule = CustomRule(Interlocked.Increment(&lastId), name, vjp)
        lock gate (fun () ->
            if byId.Count >= purgeAt then
                let dead = [ for entry in byId do match entry.Value.TryGetTarget() with | true, _ -> () | _ -> yield entry.Key ]
                for id in dead do byId.Remove id |> ignore
                purgeAt <- max 64 (2 * byId.Count)
            byId.[rule.Id] <- WeakReference<CustomRule>(rule))
        rule

    /// The rule registered under `id`. Every caller reaches it from a live node or from the
    /// function that defined it, either of which keeps the rule alive.
    let find (id: int) : CustomRule =
        let found =
            lock gate (fun () ->
                match byId.TryGetValue id with
                | true, weak -> (match weak.TryGetTarget() with | true, rule -> rule | _ -> null)
                | _ -> null)
        if isNull found then invalidOp (sprintf "custom rule #%d is not registered" id)
        found

    /// Ties a rule's lifetime to a node that applies it.
    let attach (node: Expr) (rule: CustomRule) = byNode.AddOrUpdate(node, rule)

    /// The cotangent of x given the output cotangent g, checked to have x's shape.
    let cotangent (id: int) (x: Expr) (g: Expr) : Expr =
        let rule = find id
        let result = rule.Vjp x g
        // Named after the public call that defined the rule (customVjp in F#, Diff.CustomVjp in C#).
        if isNull (box result) then invalidOp (sprintf "CustomVjp: the VJP rule of '%s' returned null" rule.Name)
        if result.Dims <> x.Dims then
            Shape.fail "CustomVjp"
                (sprintf "the VJP rule of '%s' returned shape %s for an input of shape %s" rule.Name (Shape.format result.Dims) (Shape.format x.Dims))
        // A cotangent of another dtype would be cast where the reverse walk sums it in, hiding a rule
        // that computes in the wrong precision.
        if result.DType <> x.DType then
            invalidOp (sprintf "CustomVjp: the VJP rule of '%s' returned dtype %A for an input of dtype %A" rule.Name result.DType x.DType)
        result
