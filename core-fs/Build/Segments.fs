/// Reductions over segments: entries along an axis grouped by a rank-1 index of segment ids, as a graph network groups
/// its edges by destination node (torch_geometric's scatter softmax, JAX's segment ops). Composites of sort, gather and
/// scatter-add, so their derivatives of every order follow from those primitives' rules.
namespace FunctionalDiff.Core

/// Softmax over segments of entries that share an id.
[<RequireQualifiedAccess>]
module Segments =

    let private dims (e: Expr) = Shape.format e.Dims

    /// The largest entry of each segment, [.. numSegments ..] along the axis (0 for a segment with no entries), computed
    /// without a derivative: two stable sorts along the axis, by value and then by segment id, leave each segment's
    /// largest entry last among its own, where the next id differs. It costs O(n log n) in the axis length n, where a
    /// scatter_reduce "amax" compares every segment with every entry. A NaN sorts last, so it is its segment's maximum.
    let private maxOfSegments (a: int) (numSegments: int) (spread: Expr) (x: Expr) =
        let x = Expr.stopGradient x
        let byValue = Expr.argsort a false x
        let idsByValue = Expr.gather a byValue spread
        let byId = Expr.argsort a false idsByValue
        let ids = Expr.gather a byId idsByValue
        let values = Expr.gather a byId (Expr.gather a byValue x)
        let n = x.Dims.[a]
        let rest = Array.updateAt a 1 x.Dims
        let next = Expr.concat a [ Expr.sliceAxis a 1 n ids; Expr.full x.DType rest -1.0 ]
        let last = Expr.ne ids next
        Expr.scatterAdd a ids (Expr.where last values (Expr.zerosLike values)) (Array.updateAt a numSegments x.Dims)

    /// torch_geometric's `softmax(src, index, num_nodes=numSegments, dim=axis)`: along the axis, entry i becomes
    /// exp(x_i) / Σ_{j: index_j = index_i} exp(x_j), a softmax within each segment of entries sharing an id, as a graph
    /// attention network normalises each node's incoming edge scores. The index is rank 1, one id in [0, numSegments)
    /// per entry along the axis; the other axes (attention heads, say) are independent. Each segment is shifted by its
    /// largest entry before exp, a shift with no derivative that leaves the function unchanged, so logits of any finite
    /// size are safe and every derivative is the softmax's own. A segment whose entries are all −∞ gives NaN, as torch's
    /// softmax of a row of −∞ does. The index has no derivative.
    let softmax (axis: int) (numSegments: int) (index: Expr) (x: Expr) =
        if x.Rank = 0 then Shape.fail "SegmentSoftmax" (sprintf "input %s has no axis" (dims x))
        let a = Shape.normalizeAxis "SegmentSoftmax" x.Rank axis
        if index.Rank <> 1 || index.Dims.[0] <> x.Dims.[a] then
            Shape.fail "SegmentSoftmax"
                (sprintf "index %s must be rank 1 with one segment id per entry along axis %d of input %s" (dims index) axis (dims x))
        if numSegments < 0 then Shape.fail "SegmentSoftmax" (sprintf "numSegments %d must be ≥ 0 (input %s)" numSegments (dims x))
        index |> Indexing.checkConstantIndex "SegmentSoftmax" (fun v position ->
            sprintf "index %g (entry %d of index %s) is not a segment id below numSegments %d (input %s)"
                v position (dims index) numSegments (dims x)) numSegments
        let along = Array.init x.Rank (fun i -> if i = a then x.Dims.[a] else 1)
        let spread = Expr.stopGradient (Expr.broadcastTo x.Dims (Expr.reshape along (Expr.cast x.DType index)))
        let segmentDims = Array.updateAt a numSegments x.Dims
        let e = Expr.exp (x - Expr.gather a spread (maxOfSegments a numSegments spread x))
        e / Expr.gather a spread (Expr.scatterAdd a spread e segmentDims)
