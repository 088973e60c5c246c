/// The reverse walk: cotangents flow from the output to the chosen inputs in reverse
/// topological order, one rule application per node, with fan-in summed and every cotangent
/// summed back to its input's shape. Zero cotangents stay symbolic (absent) and are never built.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// The reverse transform over a built graph.
[<RequireQualifiedAccess>]
module Vjp =

    /// The cotangents of `wrt` given the cotangent `seed` of `output`, as graphs; None where
    /// the cotangent is symbolically zero (no path, or only zero-derivative paths).
    let backward (output: Expr) (seed: Expr) (wrt: Expr[]) : Expr option[] =
        if seed.Dims <> output.Dims then
            Shape.fail "Vjp" (sprintf "cotangent of shape %s does not match output %s" (Shape.format seed.Dims) (Shape.format output.Dims))
        // No node older than the oldest target can depend on a target (see
        // Graph.topologicalOrderFrom), so the walk stops there: the work is the graph built on top
        // of the targets, whatever history lies below them or below the values f captured.
        let start = if wrt.Length = 0 then Int64.MaxValue else wrt |> Array.fold (fun m w -> min m w.Id) Int64.MaxValue
        let order = Graph.topologicalOrderFrom start [ output ]
        let targets = HashSet<int64>(wrt |> Seq.map (fun w -> w.Id))
        // Only nodes on a path from a target to the output carry a cotangent worth building.
        let active = Scratch.RentSet()
        for node in order do
            if node.Id >= start && (targets.Contains node.Id || node.Args |> Array.exists (fun a -> active.Contains a.Id)) then
                active.Add node.Id |> ignore
        let cotangent = Scratch.RentMap()
        let seed = Expr.cast output.DType seed
        if active.Contains output.Id && not (Fold.isZero seed) then cotangent.[output.Id] <- seed
        for i in order.Length - 1 .. -1 .. 0 do
            let node = order.[i]
            match cotangent.TryGetValue node.Id with
            | true, g when node.Args.Length > 0 ->
                let args = node.Args
                let contributions = Rules.cotangents node g
                // A rule that forgets an input would silently give it no cotangent at all.
                if contributions.Length <> args.Length then
                    invalidOp (sprintf "Vjp: the rule of %s gave %d cotangents for its %d inputs" (OpName.name node.Op) contributions.Length args.Length)
                contributions
                |> List.iteri (fun j contribution ->
                    let input = args.[j]
                    if active.Contains input.Id then
                        let c = contribution ()
                        if not (Fold.isZero c) then
                            let c = c |> Expr.sumTo input.Dims |> Expr.cast input.DType
                            match cotangent.TryGetValue input.Id with
                            | true, previous -> cotangent.[input.Id] <- previous + c
                            | _ -> cotangent.[input.Id] <- c)
                // A node's cotangent is complete once visited; drop it unless it was asked for.
                if not (targets.Contains node.Id) then cotangent.Remove node.Id |> ignore
            | _ -> ()
        let result = wrt |> Array.map (fun w -> match cotangent.TryGetValue w.Id with | true, g -> Some g | _ -> None)
        Scratch.ReturnSet active
        Scratch.ReturnMap cotangent
        result
