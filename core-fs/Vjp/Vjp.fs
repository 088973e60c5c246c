/// The reverse walk: cotangents flow from the output to the chosen inputs in reverse
/// topological order, one rule application per node, with fan-in summed and every cotangent
/// summed back to its input's shape. Zero cotangents stay symbolic (absent) and are never built.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// The reverse transform over a built graph.
[<RequireQualifiedAccess>]
module Vjp =

    /// A cotangent that is zero outside some ranges of one axis, as that axis and its nonzero pieces
    /// (start, piece) in order: a Pad along one axis only (a slice's pullback), or a Concat along
    /// it whose zero parts are broadcast zeros (pieces merged by `accumulate`).
    let private zeroOutside (e: Expr) : struct (int * (int * Expr) list) voption =
        match e.Op with
        | Op.Pad(before, after) ->
            let mutable axis = -1
            let mutable single = true
            for a in 0 .. before.Length - 1 do
                if before.[a] <> 0 || after.[a] <> 0 then
                    if axis >= 0 then single <- false
                    axis <- a
            if single && axis >= 0 then ValueSome(struct (axis, [ (before.[axis], e.First) ])) else ValueNone
        | Op.Concat axis ->
            let mutable offset = 0
            let mutable pieces = []
            for k in 0 .. e.ArgCount - 1 do
                let part = e.Arg k
                if not (Fold.isZero part) then pieces <- (offset, part) :: pieces
                offset <- offset + part.Dims.[axis]
            ValueSome(struct (axis, List.rev pieces))
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
        | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Flip _ | Op.Gather _ | Op.ScatterAdd _
        | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet
        | Op.Qr | Op.Eigh | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _
        | Op.LogSoftmax _ | Op.CumSum _ -> ValueNone

    /// The most pieces one join holds (see accumulate).
    let private maxPieces = 32

    /// previous + c, two contributions to one input's cotangent. When both are zero outside disjoint
    /// ranges of the same axis (the pullbacks of slices of one tensor: a parameter vector unpacked,
    /// gates cut from one product), their sum is those pieces side by side: one concatenation,
    /// written once, where each pullback was a zero-filled tensor of the input's size, and every
    /// sum another pass over two of them. The values are the sum's, but for the sign of a zero: a
    /// piece's −0 stays −0, where adding the other pullback's +0 gave +0.
    let private accumulate (previous: Expr) (c: Expr) : Expr =
        match zeroOutside previous, zeroOutside c with
        // both already have the input's shape and dtype (the walk sums each contribution to it)
        | ValueSome(struct (axis, first)), ValueSome(struct (other, second)) when axis = other ->
            let pieces = List.append first second |> List.sortBy fst
            // Each join is a new node holding every piece so far: a tensor cut into thousands of
            // slices (a loop over its entries) would make a quadratic number of edges. Past
            // maxPieces the contributions are summed as before, one pad and one sum each.
            let mutable disjoint = pieces.Length <= maxPieces
            let mutable reached = 0
            for start, piece in pieces do
                if start < reached then disjoint <- false
                reached <- start + piece.Dims.[axis]
            if not disjoint then previous + c
            else
                let dims = previous.Dims
                let zeros (length: int) = Expr.zeros previous.DType (Array.updateAt axis length dims)
                let parts = ResizeArray<Expr>()
                let mutable position = 0
                for start, piece in pieces do
                    if start > position then parts.Add(zeros (start - position))
                    parts.Add piece
                    position <- start + piece.Dims.[axis]
                if position < dims.[axis] then parts.Add(zeros (dims.[axis] - position))
                Expr.concat axis parts
        | _ -> previous + c

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
                            cotangent.[input.Id] <- if isNull (box previous) then c else accumulate previous c
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
