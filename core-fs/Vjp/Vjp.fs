/// The reverse walk: cotangents flow from the output to the chosen inputs in reverse
/// topological order, one rule application per node, with fan-in summed and every cotangent
/// summed back to its input's shape. Zero cotangents stay symbolic (absent) and are never built.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// The reverse transform over a built graph.
[<RequireQualifiedAccess>]
module Vjp =

    /// The cotangents of `wrt` for several outputs with one cotangent (seed) each, as graphs: those
    /// of the sum of the outputs' pairings with their seeds (a Scan's body has several outputs).
    /// None where the cotangent is symbolically zero (no path, or only zero-derivative paths).
    let internal backwardManyIn (transposing: bool) (outputs: Expr[]) (seeds: Expr[]) (wrt: Expr[]) : Expr option[] =
        // No node older than the oldest target can depend on a target (see
        // Graph.topologicalOrderFrom), so the walk stops there: the work is the graph built on top
        // of the targets, whatever history lies below them or below the values f captured.
        let start = Ir.oldestId wrt
        let struct (order, count) = Graph.topologicalOrderPooled start outputs
        // A transform's targets are usually a few arguments: then a scan of their ids, where a hash
        // set per walk was an allocation of its own for every small transform.
        let targetSet = if wrt.Length > 8 then HashSet<int64>(wrt |> Seq.map (fun w -> w.Id)) else null
        let isTarget (id: int64) =
            if not (isNull targetSet) then targetSet.Contains id
            else
                let mutable found = false
                let mutable k = 0
                while not found && k < wrt.Length do
                    found <- wrt.[k].Id = id
                    k <- k + 1
                found
        // Only nodes on a path from a target to the output carry a cotangent worth building.
        let active = IdSet(start)
        for i in 0 .. count - 1 do
            let node = order.[i]
            if node.Id >= start then
                let mutable on = isTarget node.Id
                let mutable k = 0
                while not on && k < node.ArgCount do
                    on <- active.Contains (node.Arg k).Id
                    k <- k + 1
                if on then active.Add node.Id |> ignore
        // Cotangents by node id; null where none has arrived.
        let cotangent = IdMap<Expr>(start)
        for k in 0 .. outputs.Length - 1 do
            let output = outputs.[k]
            let seed = Expr.cast output.DType seeds.[k]
            if active.Contains output.Id && not (Fold.isZero seed) then
                let previous = cotangent.[output.Id]
                cotangent.[output.Id] <- if isNull (box previous) then seed else previous + seed
        // One `wanted` for the whole walk, over the inputs of the node at hand (a closure per
        // node was a tenth of what the walk allocated).
        let current = ref Unchecked.defaultof<Expr>
        let wanted = fun j -> active.Contains (current.Value.Arg j).Id
        let scratch = RuleScratch(transposing, start)
        for i in count - 1 .. -1 .. 0 do
            let node = order.[i]
            let g = cotangent.[node.Id]
            let arity = node.ArgCount
            if not (isNull (box g)) && arity > 0 then
                current.Value <- node
                let contributions = Rules.cotangents node g wanted scratch
                // A rule that forgets an input would silently give it no cotangent at all.
                if contributions.Length <> arity then
                    invalidOp (sprintf "Vjp: the rule of %s gave %d cotangents for its %d inputs" (OpName.name node.Op) contributions.Length arity)
                for j in 0 .. arity - 1 do
                    let input = node.Arg j
                    if active.Contains input.Id then
                        let c = contributions.[j]
                        if not (Fold.isZero c) then
                            let c = c |> Expr.sumTo input.Dims |> Expr.cast input.DType
                            let previous = cotangent.[input.Id]
                            cotangent.[input.Id] <- if isNull (box previous) then c else previous + c
                // A node's cotangent is complete once visited; drop it unless it was asked for.
                if not (isTarget node.Id) then cotangent.[node.Id] <- Unchecked.defaultof<Expr>
        let result = wrt |> Array.map (fun w -> let g = cotangent.[w.Id] in if isNull (box g) then None else Some g)
        if not (isNull (box scratch.OldestLeaf)) then scratch.OldestLeaf.Release()
        active.Release()
        cotangent.Release()
        Pool.release order count
        result

    /// The cotangents of `wrt` for several outputs with one cotangent (seed) each (see backwardManyIn).
    let backwardMany (outputs: Expr[]) (seeds: Expr[]) (wrt: Expr[]) : Expr option[] = backwardManyIn false outputs seeds wrt

    /// The cotangents of `wrt` given the cotangent `seed` of `output`, as graphs; None where
    /// the cotangent is symbolically zero (no path, or only zero-derivative paths).
    let backward (output: Expr) (seed: Expr) (wrt: Expr[]) : Expr option[] =
        if not (Ir.sameDims seed.Dims output.Dims) then
            Shape.fail "Vjp" (sprintf "cotangent of shape %s does not match output %s" (Shape.format seed.Dims) (Shape.format output.Dims))
        backwardManyIn false [| output |] [| seed |] wrt

    /// The walk that transposes a pullback into its tangent map (Jvp.transposeWith): the same rules,
    /// with the masks of the pullback kept outside the products the tangent meets when `keepMasks`
    /// (Rules.keepMaskOutside).
    let internal transposeBackward (keepMasks: bool) (output: Expr) (seed: Expr) (wrt: Expr[]) : Expr option[] =
        backwardManyIn keepMasks [| output |] [| seed |] wrt
