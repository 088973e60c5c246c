/// Substitution: replaces nodes (usually a transform's fresh Vars) throughout a graph, rebuilding
/// every node above them through the smart constructors so the result is canonical again.
namespace FunctionalDiff.Core

open System.Collections.Generic

/// Iterative graph substitution.
[<RequireQualifiedAccess>]
module Substitute =

    /// The roots with each `(node, replacement)` applied. Nodes that depend on no replaced node
    /// are returned as the very same objects.
    let apply (replacements: (Expr * Expr) seq) (roots: Expr[]) : Expr[] =
        let rewritten = Dictionary<int64, Expr>()
        for node, replacement in replacements do
            if node.Dims <> replacement.Dims || node.DType <> replacement.DType then
                Shape.fail "Substitute" (sprintf "%O cannot be replaced by %O" node replacement)
            rewritten.[node.Id] <- replacement
        if rewritten.Count = 0 then roots
        else
            for node in Graph.topologicalOrder roots do
                if not (rewritten.ContainsKey node.Id) && node.Args.Length > 0 then
                    let args = node.Args
                    let mutable changed = false
                    let newArgs =
                        args |> Array.map (fun a ->
                            match rewritten.TryGetValue a.Id with
                            | true, r -> changed <- true; r
                            | _ -> a)
                    if changed then rewritten.[node.Id] <- Expr.apply node.Op newArgs
            roots |> Array.map (fun r -> match rewritten.TryGetValue r.Id with | true, x -> x | _ -> r)
