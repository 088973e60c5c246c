/// Substitution: replaces nodes (usually a transform's fresh Vars) throughout a graph, rebuilding
/// every node above them through the smart constructors so the result is canonical again. Only
/// nodes no older than the oldest replaced node are visited: nothing older can depend on it (see
/// Graph.topologicalOrderFrom), so the history behind the replacements is never walked.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// The part of a graph that depends on some Vars, kept so that the graph can be substituted into
/// many times at the cost of that part alone: a linearization pushes many tangents through one
/// tangent graph, and a Jacobian substitutes one basis vector per row or column.
[<Sealed>]
type internal SubstitutionPlan(vars: Expr[], nodes: Expr[], roots: Expr[]) =
    /// The Vars a run replaces, in the order of its replacements.
    member _.Vars = vars
    /// The nodes that depend on the Vars, the Vars excluded, inputs first.
    member _.Nodes = nodes
    /// The graphs substituted into.
    member _.Roots = roots

/// Iterative graph substitution.
[<RequireQualifiedAccess>]
module Substitute =

    let private check (node: Expr) (replacement: Expr) =
        if node.Dims <> replacement.Dims || node.DType <> replacement.DType then
            Shape.fail "Substitute" (sprintf "%O cannot be replaced by %O" node replacement)

    /// The node with each input looked up in `rewritten`, rebuilt if any input changed.
    let private rebuild (rewritten: IdMap<Expr>) (node: Expr) : Expr voption =
        let args = node.Args
        let mutable newArgs = null
        for i in 0 .. args.Length - 1 do
            let r = rewritten.[args.[i].Id]
            if not (isNull (box r)) then
                if isNull newArgs then newArgs <- Ir.copyArgs args
                newArgs.[i] <- r
        if isNull newArgs then ValueNone else ValueSome(Expr.apply node.Op newArgs)

    let private lookup (rewritten: IdMap<Expr>) (r: Expr) = let x = rewritten.[r.Id] in if isNull (box x) then r else x

    /// The roots with each `(node, replacement)` applied. Nodes that depend on no replaced node
    /// are returned as the very same objects.
    let apply (replacements: (Expr * Expr) seq) (roots: Expr[]) : Expr[] =
        let replacements = Array.ofSeq replacements
        let mutable start = Int64.MaxValue
        for node, replacement in replacements do
            check node replacement
            start <- min start node.Id
        if replacements.Length = 0 then roots
        else
            let rewritten = IdMap<Expr>(start)
            for node, replacement in replacements do
                rewritten.[node.Id] <- replacement
            for node in Graph.topologicalOrderFrom start roots do
                if node.Id >= start && node.Args.Length > 0 && isNull (box rewritten.[node.Id]) then
                    match rebuild rewritten node with
                    | ValueSome r -> rewritten.[node.Id] <- r
                    | ValueNone -> ()
            let result = roots |> Array.map (lookup rewritten)
            rewritten.Release()
            result

    /// The nodes of the roots' graph that depend on the Vars, found once; `run` then substitutes
    /// by rebuilding only those.
    let internal plan (vars: Expr[]) (roots: Expr[]) : SubstitutionPlan =
        let start = vars |> Array.fold (fun m (v: Expr) -> min m v.Id) Int64.MaxValue
        let dependent = IdSet(start)
        for v in vars do
            dependent.Add v.Id |> ignore
        let nodes = List<Expr>()
        for node in Graph.topologicalOrderFrom start roots do
            if node.Id >= start && not (dependent.Contains node.Id)
               && node.Args |> Array.exists (fun a -> dependent.Contains a.Id) then
                dependent.Add node.Id |> ignore
                nodes.Add node
        dependent.Release()
        SubstitutionPlan(Array.copy vars, nodes.ToArray(), Array.copy roots)

    /// The plan's roots with replacements.[i] for plan.Vars.[i]. Visits the plan's nodes only.
    let internal run (plan: SubstitutionPlan) (replacements: Expr[]) : Expr[] =
        let vars = plan.Vars
        if replacements.Length <> vars.Length then
            invalidArg "replacements" (sprintf "%d replacements for %d variables" replacements.Length vars.Length)
        let start = vars |> Array.fold (fun m (v: Expr) -> min m v.Id) Int64.MaxValue
        let rewritten = IdMap<Expr>(start)
        for i in 0 .. vars.Length - 1 do
            check vars.[i] replacements.[i]
            rewritten.[vars.[i].Id] <- replacements.[i]
        for node in plan.Nodes do
            match rebuild rewritten node with
            | ValueSome r -> rewritten.[node.Id] <- r
            | ValueNone -> ()
        Visits.Add plan.Nodes.Length
        let result = plan.Roots |> Array.map (lookup rewritten)
        rewritten.Release()
        result
