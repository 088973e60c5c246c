/// The reverse walk: cotangents flow from the output to the chosen inputs in reverse
/// topological order, one rule application per node, with fan-in summed and every cotangent
/// summed back to its input's shape. Zero cotangents stay symbolic (absent) and are never built.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// The contributions to one input's cotangent that are zero outside ranges of one axis, as pieces
/// (start, piece) along it, until the reverse walk reaches the input (see Vjp.join).
[<Sealed; AllowNullLiteral>]
type internal PendingPieces(axis: int, first: Expr) =
    member _.Axis = axis
    member val Pieces = ResizeArray<struct (int * Expr)>()
    /// The first contribution while it is the only one: then it is the cotangent as it came (a
    /// single slice's pullback stays the rule's pad); null once another arrives.
    member val Alone = first with get, set

/// The reverse transform over a built graph.
[<RequireQualifiedAccess>]
module Vjp =

    /// A cotangent that is zero outside some ranges of one axis, as that axis and its nonzero pieces
    /// (start, piece) in order: a Pad along one axis only (a slice's pullback), or a Concat along
    /// it whose zero parts are broadcast zeros (pieces joined by `join`).
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
        | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _
        | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> ValueNone

    /// The pieces (start, piece) of contributions that are zero outside ranges of `axis`, summed, for
    /// an input of shape `dims`: the pieces in layers of disjoint ones (each piece in the first layer
    /// that ends at or before its start, the pieces in order of start), each layer one concatenation
    /// with zeros in its gaps, and the layers summed. Disjoint pieces (slices of a tensor unpacked,
    /// gates cut from one product, a loop over a vector's entries) are one layer, one node however many
    /// they are; overlapping windows of width w are w layers. Each pullback on its own was a
    /// zero-filled tensor of the input's size and each sum another pass over two of them: a loop over
    /// n entries made n tensors of n entries. The values are the sum's, but for the sign of a zero: a
    /// piece's −0 stays −0 where the other pullbacks' +0 gave +0.
    let private join (dtype: DType) (dims: int[]) (axis: int) (pieces: ResizeArray<struct (int * Expr)>) : Expr =
        // stable: pieces that start together keep the order they arrived in
        let sorted = pieces |> Seq.sortBy (fun (struct (start, _)) -> start) |> Array.ofSeq
        let layers = ResizeArray<ResizeArray<struct (int * Expr)>>()
        let ends = ResizeArray<int>()
        for struct (start, piece) in sorted do
            let mutable k = 0
            while k < layers.Count && ends.[k] > start do
                k <- k + 1
            if k = layers.Count then
                layers.Add(ResizeArray())
                ends.Add 0
            layers.[k].Add(struct (start, piece))
            ends.[k] <- start + piece.Dims.[axis]
        let zeros (length: int) = Expr.zeros dtype (Array.updateAt axis length dims)
        let concatenated (layer: ResizeArray<struct (int * Expr)>) =
            let parts = ResizeArray<Expr>()
            let mutable position = 0
            for struct (start, piece) in layer do
                if start > position then parts.Add(zeros (start - position))
                parts.Add piece
                position <- start + piece.Dims.[axis]
            if position < dims.[axis] then parts.Add(zeros (dims.[axis] - position))
            Expr.concat axis parts
        let mutable sum = concatenated layers.[0]
        for k in 1 .. layers.Count - 1 do
            sum <- sum + concatenated layers.[k]
        sum

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
        // Per input, the contributions that are zero outside ranges of one axis (see zeroOutside),
        // as pieces, joined once when the walk reaches the input (see join); every other
        // contribution is summed into `cotangent` as it arrives. Made at the first such contribution.
        let mutable pieces: Dictionary<int64, PendingPieces> = null
        let add (input: Expr) (c: Expr) =
            let found, pending = if isNull pieces then false, null else pieces.TryGetValue input.Id
            match zeroOutside c with
            | ValueSome(struct (axis, parts)) when not found || pending.Axis = axis ->
                let pending =
                    if found then
                        pending.Alone <- Unchecked.defaultof<Expr>
                        pending
                    else
                        if isNull pieces then pieces <- Dictionary<int64, PendingPieces>()
                        let made = PendingPieces(axis, c)
                        pieces.[input.Id] <- made
                        made
                for start, part in parts do
                    pending.Pieces.Add(struct (start, part))
            | _ ->
                let previous = cotangent.[input.Id]
                cotangent.[input.Id] <- if isNull (box previous) then c else previous + c
        // The whole cotangent of a node the walk has reached: the sum of its other contributions
        // and its pieces, joined (a single contribution as it came).
        let complete (node: Expr) =
            let g = cotangent.[node.Id]
            let found, pending = if isNull pieces then false, null else pieces.TryGetValue node.Id
            if not found then g
            else
                pieces.Remove node.Id |> ignore
                let joined = if isNull (box pending.Alone) then join node.DType node.Dims pending.Axis pending.Pieces else pending.Alone
                if isNull (box g) then joined else g + joined
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
            let g = complete node
            let arity = node.ArgCount
            if not (isNull (box g)) then
                // A node of no entries passes nothing on: its Jacobian has no rows, so every input's share of its (empty)
                // cotangent is exactly 0, where the rules' sums over nothing would make a tensor of zeros for an
                // infinite slope below to turn into 0·∞ = NaN.
                if arity > 0 && node.Numel > 0 then
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
                                add input (c |> Expr.sumTo input.Dims |> Expr.cast input.DType)
                // A node's cotangent is complete once visited; drop it unless it was asked for.
                cotangent.[node.Id] <- if isTarget node.Id then g else Unchecked.defaultof<Expr>
        let result = wrt |> Array.map (fun w -> let g = complete w in if isNull (box g) then None else Some g)
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
