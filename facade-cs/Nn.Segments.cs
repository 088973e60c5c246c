using CoreSegments = FunctionalDiff.Core.Segments;

namespace FunctionalDiff;

// Softmax over segments of a sparse graph's edges; a composite in the core (Segments.fs), so derivatives follow.
public static partial class Nn
{
    /// <summary>
    /// torch_geometric's <c>softmax(src, index, num_nodes=numSegments, dim=axis)</c> (the scatter softmax a graph attention
    /// network normalises each node's incoming edge scores with): along <paramref name="axis"/>, entry i becomes
    /// exp(x_i) / Σ exp(x_j) over the entries j with the same segment id, <c>index[j] == index[i]</c>. Other axes, such as
    /// attention heads in scores [edges, heads], are independent. In plain torch this is a <c>scatter_reduce(..., "amax")</c>
    /// for the shift, <c>exp</c>, an <c>index_add</c> of the exponentials and a division by the sums gathered back; here it
    /// is one call. Each segment is shifted by its largest entry, found by sorting (O(n log n) in the number of entries,
    /// where <see cref="Expr.ScatterReduce"/>'s "amax" compares every segment with every entry), with no derivative: the
    /// shift leaves the value unchanged, so every derivative is the softmax's own. A segment whose entries are all −∞
    /// gives NaN, as torch's softmax of such a row. The sums of the segments are
    /// <c>Expr.Zeros(...).IndexAdd(axis, index, ...)</c>; aggregate messages with <see cref="Expr.IndexAdd"/>.
    /// F#: <c>Segments.softmax</c>.
    /// </summary>
    /// <example>Edge scores of a GAT layer, normalised over each destination node's incoming edges:
    /// <c>var alpha = Nn.SegmentSoftmax((scoreSrc.IndexSelect(0, src) + scoreDst.IndexSelect(0, dst)).LeakyRelu(0.2), dst, numNodes);</c>
    /// </example>
    /// <param name="input">The scores, with one entry per segment member along <paramref name="axis"/>.</param>
    /// <param name="index">A rank-1 tensor of segment ids in [0, numSegments), whole numbers held in a float tensor, one per
    /// entry along the axis; it gets no derivative and may be data of a compiled step.</param>
    /// <param name="numSegments">How many segments (torch_geometric's num_nodes); a segment with no entries is allowed.</param>
    /// <param name="axis">The axis the index runs along (torch_geometric's dim; negative counts from the end).</param>
    /// <exception cref="ArgumentException">The input has rank 0, the index is not rank 1 as long as the axis, numSegments is
    /// negative, or a constant id is not a whole number below numSegments.</exception>
    public static Expr SegmentSoftmax(Expr input, Expr index, int numSegments, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(index);
        return Expr.Wrap(CoreSegments.softmax(axis, numSegments, index.Node, input.Node));
    }
}
