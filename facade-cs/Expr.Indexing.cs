using Microsoft.FSharp.Core;
using CoreExpr = FunctionalDiff.Core.Expr;
using Build = FunctionalDiff.Core.ExprModule;
using CoreEinsum = FunctionalDiff.Core.Einsum;
using CoreIndexing = FunctionalDiff.Core.Indexing;

namespace FunctionalDiff;

// Indexing and structure: index selection and embeddings, cumulative sums and products, sorting,
// one-hot codes, triangles, diagonals and einsum. Indices are integer values held in a float
// tensor, and get no derivative.
public sealed partial class Expr
{
    /// <summary>The entries at <paramref name="index"/> along an axis (torch.index_select); the axis takes the index's length.</summary>
    /// <param name="axis">The axis to select along.</param>
    /// <param name="index">A rank-1 tensor of integer positions (repeats allowed), or a rank-0 one: one position, as torch.</param>
    public Expr IndexSelect(int axis, Expr index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return Wrap(CoreIndexing.indexSelect(axis, index.Node, Node));
    }

    /// <summary>
    /// torch's <c>index_add</c> (out-of-place): this with the slices of <paramref name="source"/> added at the positions
    /// <paramref name="index"/> names along an axis, repeated positions accumulating; a GNN's sum of messages into their
    /// destination nodes is <c>Expr.ZerosLike(h).IndexAdd(0, dst, messages)</c>. The gradient of source is the
    /// <see cref="IndexSelect"/> of the result's; the index has none. F#: <c>Indexing.indexAdd</c>.
    /// </summary>
    /// <param name="axis">The axis to add along.</param>
    /// <param name="index">A rank-1 tensor of integer positions (repeats accumulate), one per slice of source along the axis.</param>
    /// <param name="source">This tensor's shape with the axis as long as the index.</param>
    /// <exception cref="ArgumentException">The shapes do not fit, or a constant index is not a position along the axis.</exception>
    public Expr IndexAdd(int axis, Expr index, Expr source)
    {
        ArgumentNullException.ThrowIfNull(index);
        var (x, s) = Align(this, source);
        return Wrap(CoreIndexing.indexAdd(axis, index.Node, s, x));
    }

    /// <summary>
    /// torch's <c>index_copy</c> (out-of-place): this with the slices of <paramref name="source"/> written at the positions
    /// <paramref name="index"/> names along an axis. A static KV cache in a compiled decoding step writes the new token's
    /// keys at its position this way, <c>cache.IndexCopy(2, position, k)</c> (torch's <c>k_out.index_copy_(2,
    /// cache_position, k)</c>), so the step keeps one shape and is traced once. A position the index repeats takes the
    /// mean of the slices written to it (torch leaves it undefined). The gradient reaches this tensor where nothing is
    /// written and each source slice from its position; the index has none. F#: <c>Indexing.indexCopy</c>.
    /// </summary>
    /// <param name="axis">The axis to write along.</param>
    /// <param name="index">A rank-1 tensor of integer positions, one per slice of source along the axis.</param>
    /// <param name="source">This tensor's shape with the axis as long as the index.</param>
    /// <exception cref="ArgumentException">The shapes do not fit, or a constant index is not a position along the axis.</exception>
    public Expr IndexCopy(int axis, Expr index, Expr source)
    {
        ArgumentNullException.ThrowIfNull(index);
        var (x, s) = Align(this, source);
        return Wrap(CoreIndexing.indexCopy(axis, index.Node, s, x));
    }

    /// <summary>
    /// torch's <c>torch.bincount(input, weights, minlength)</c> inside a traced function, on a rank-1 tensor of whole
    /// numbers: entry v sums the <paramref name="weights"/> (or counts the entries) equal to v. torch's length,
    /// max(max(input) + 1, minlength), depends on the values, but a graph's shapes are fixed when it is built, so here the
    /// length is <paramref name="minlength"/> and an entry at or above it is an error: a GCN's degrees are
    /// <c>dst.Bincount(numNodes)</c>. <see cref="Tensor.Bincount"/> computes torch's length from the values. The derivative
    /// reaches the weights. F#: <c>Indexing.bincount</c>.
    /// </summary>
    /// <param name="minlength">The result's length.</param>
    /// <param name="weights">One weight per entry of this tensor, or null to count.</param>
    /// <exception cref="ArgumentException">This tensor is not rank 1, the weights have another shape, or a constant entry
    /// is not a whole number below minlength.</exception>
    public Expr Bincount(int minlength, Expr? weights = null)
    {
        if (weights is null) return Wrap(CoreIndexing.bincount(minlength, FSharpOption<CoreExpr>.None, Node));
        var (x, w) = Align(this, weights);
        return Wrap(CoreIndexing.bincount(minlength, FSharpOption<CoreExpr>.Some(w), x));
    }

    /// <summary>
    /// torch's out-of-place <c>x.scatter(dim, index, src)</c> (no <c>reduce</c>): this tensor with source[..i..] written at
    /// index[..i..] along the axis; positions the index does not name keep this tensor's value. torch leaves the result
    /// undefined where an index repeats a position; here such a position takes the mean of the entries written to it, a
    /// rule that depends on no order, and each of those entries gets its share (1/count) of that position's gradient,
    /// where torch's backward gives every one the whole of it. With positions that do not repeat the two agree. F#:
    /// <c>Indexing.scatter</c>.
    /// </summary>
    /// <param name="axis">The axis the index points along (negative counts from the end).</param>
    /// <param name="index">Integer positions held in a float tensor, of this tensor's rank; it fits inside source, and inside
    /// this tensor along every other axis. It gets no derivative.</param>
    /// <param name="source">The values written, of this tensor's dtype; only its part the index covers is read, as torch.</param>
    /// <exception cref="ArgumentException">The shapes do not fit, the dtypes differ, or a constant index is not a position along the axis.</exception>
    public Expr Scatter(int axis, Expr index, Expr source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        return Wrap(CoreIndexing.scatter(axis, index.Node, source.Node, Node));
    }

    /// <summary>
    /// torch's out-of-place <c>x.scatter_reduce(dim, index, src, reduce, include_self)</c>: each position that entries of
    /// source land on (by index along the axis) becomes their reduction, with this tensor's own value among them when
    /// <paramref name="includeSelf"/> (torch's default); positions nothing lands on keep this tensor's value. The gradient
    /// is that of the reduction: for "amax" and "amin" it is shared evenly among every entry equal to the result, this
    /// tensor's included, as torch's. "sum" and "mean" cost a scatter-add; "prod", "amax" and "amin" compare every
    /// position of the axis with every index entry along it (memory of this tensor's axis length times the index's, per
    /// slice). F#: <c>Indexing.scatterReduce</c>.
    /// </summary>
    /// <param name="axis">The axis the index points along (negative counts from the end).</param>
    /// <param name="index">Integer positions held in a float tensor, as for <see cref="Scatter"/>; repeats combine.</param>
    /// <param name="source">The values reduced in, of this tensor's dtype.</param>
    /// <param name="reduce">torch's names: "sum", "prod", "mean", "amax" or "amin".</param>
    /// <param name="includeSelf">Whether this tensor's value at a position joins the reduction (torch's <c>include_self</c>).</param>
    /// <exception cref="ArgumentException">An unknown reduce, shapes that do not fit, different dtypes, or a constant index outside the axis.</exception>
    public Expr ScatterReduce(int axis, Expr index, Expr source, string reduce, bool includeSelf = true)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reduce);
        return Wrap(CoreIndexing.scatterReduce(axis, index.Node, source.Node, reduce, includeSelf, Node));
    }

    /// <summary>
    /// Embedding lookup (torch.nn.functional.embedding): the rows of <paramref name="weight"/> named by
    /// <paramref name="indices"/>, with shape indices.Shape + [features]. Repeated rows accumulate their gradients.
    /// </summary>
    /// <param name="indices">Integer row numbers, any shape.</param>
    /// <param name="weight">The table, [rows, features].</param>
    public static Expr Embedding(Expr indices, Expr weight)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ArgumentNullException.ThrowIfNull(weight);
        return Wrap(CoreIndexing.embedding(indices.Node, weight.Node));
    }

    /// <summary>The running sum along an axis (torch.cumsum).</summary>
    /// <param name="axis">The axis to accumulate along.</param>
    public Expr Cumsum(int axis) => Wrap(CoreIndexing.cumsum(axis, Node));

    /// <summary>The running product along an axis (torch.cumprod); its derivatives of every order are right where entries are 0.</summary>
    /// <param name="axis">The axis to accumulate along.</param>
    public Expr Cumprod(int axis) => Wrap(CoreIndexing.cumprod(axis, Node));

    /// <summary>
    /// log Σ exp of the entries up to each position along an axis (torch.logcumsumexp), without overflow or underflow
    /// where the result is finite; its derivatives are those of smooth logaddexp steps. F#: <c>Indexing.logcumsumexp</c>.
    /// </summary>
    /// <param name="axis">The axis to accumulate along.</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr LogCumSumExp(int axis) => Wrap(CoreIndexing.logcumsumexp(axis, Node));

    /// <summary>
    /// The largest entry so far along an axis and where it is (torch.cummax): named results <c>(Values, Indices)</c>. A
    /// NaN takes over and holds; among equal entries the later is picked, as torch's kernel. The values' derivative goes to
    /// the entry picked; the indices (integers in this dtype) have none. F#: <c>Indexing.cummax</c>.
    /// </summary>
    /// <param name="axis">The axis to accumulate along.</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public (Expr Values, Expr Indices) Cummax(int axis)
    {
        var (values, indices) = CoreIndexing.cummax(axis, Node);
        return (Wrap(values), Wrap(indices));
    }

    /// <summary>The smallest entry so far along an axis and where it is (torch.cummin), with <see cref="Cummax"/>'s rules. F#: <c>Indexing.cummin</c>.</summary>
    /// <param name="axis">The axis to accumulate along.</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public (Expr Values, Expr Indices) Cummin(int axis)
    {
        var (values, indices) = CoreIndexing.cummin(axis, Node);
        return (Wrap(values), Wrap(indices));
    }

    /// <summary>
    /// Sorts along an axis (torch.sort). Values carry the gradient; Indices are integer positions in
    /// this tensor's dtype and have none. NaN sorts last when ascending; equal values keep their order.
    /// </summary>
    /// <param name="axis">The axis to sort along.</param>
    /// <param name="descending">Largest first.</param>
    public (Expr Values, Expr Indices) Sort(int axis = -1, bool descending = false)
    {
        var sorted = CoreIndexing.sort(axis, descending, Node);
        return (Wrap(sorted.Item1), Wrap(sorted.Item2));
    }

    /// <summary>
    /// The positions that sort an axis (torch.argsort): <see cref="Sort"/>'s indices, integers in this dtype, without
    /// gradient. NaN sorts last when ascending; equal values keep their order.
    /// </summary>
    /// <param name="axis">The axis to sort along.</param>
    /// <param name="descending">Largest first.</param>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Expr ArgSort(int axis = -1, bool descending = false) => Sort(axis, descending).Indices;

    /// <summary>
    /// The k largest (or smallest) entries along an axis, sorted, and their positions (torch.topk).
    /// Values carry the gradient; Indices have none.
    /// </summary>
    /// <param name="k">How many entries, at most the axis length.</param>
    /// <param name="axis">The axis to search along.</param>
    /// <param name="largest">The largest entries (true) or the smallest.</param>
    public (Expr Values, Expr Indices) TopK(int k, int axis = -1, bool largest = true)
    {
        var top = CoreIndexing.topk(k, axis, largest, Node);
        return (Wrap(top.Item1), Wrap(top.Item2));
    }

    /// <summary>
    /// torch.take: this tensor read as one flat vector (row-major) at the positions <paramref name="index"/> holds; the
    /// result has the index's shape. torch's advanced indexing at pairs of indices, <c>transitions[prev, next]</c>, is
    /// <c>transitions.Take(prev * K + next)</c> (a CRF's score of a tag path). The gradient scatters back into this
    /// tensor, repeated positions accumulating; the index has none. F#: <c>Indexing.take</c>.
    /// </summary>
    /// <param name="index">Integer positions into the flattened tensor (held in a float tensor), any shape.</param>
    /// <exception cref="ArgumentException">A constant position is outside [0, Numel).</exception>
    public Expr Take(Expr index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return Wrap(CoreIndexing.take(index.Node, Node));
    }

    /// <summary>
    /// torch.searchsorted(sorted_sequence, values, right=...): where each value would be inserted in its sorted row to keep
    /// it sorted, the count of the row's entries below it (with <paramref name="right"/>, at or below it), as whole
    /// numbers in the values' dtype. A vector sequence serves values of any shape; a sequence [..., M] serves values
    /// [..., K] with the same leading axes, row by row, as NeRF's inverse-transform sampling of each ray's CDF:
    /// <c>var above = Expr.Searchsorted(cdf, u, right: true)</c>, then <c>Gather(-1, above)</c> of the CDF and the bins.
    /// The positions pass no derivative; a NaN value counts no entry below it. Short rows compare every value with every
    /// entry; where M·K is large, each row's entries and values are sorted together, so time grows as
    /// (M + K)·log(M + K) and memory as M + K per row. F#: <c>Indexing.searchsorted</c>.
    /// </summary>
    /// <param name="sortedSequence">The sorted rows, torch's <c>sorted_sequence</c>: a vector, or [..., M].</param>
    /// <param name="values">The values to place, torch's <c>input</c>: any shape, or [..., K] for a sequence of rank 2 or more.</param>
    /// <param name="right">Place a value equal to entries after them (torch's <c>right=True</c>) rather than before.</param>
    /// <exception cref="ArgumentException">The sequence has rank 0, or its leading axes differ from the values'.</exception>
    public static Expr Searchsorted(Expr sortedSequence, Expr values, bool right = false)
    {
        ArgumentNullException.ThrowIfNull(sortedSequence);
        ArgumentNullException.ThrowIfNull(values);
        var (s, v) = Align(sortedSequence, values);
        return Wrap(CoreIndexing.searchsorted(right, s, v));
    }

    /// <summary>
    /// One-hot codes (torch.nn.functional.one_hot): a new last axis of <paramref name="classes"/> entries, 1 at each
    /// integer's class. No gradient. A class outside [0, classes) throws an <see cref="ArgumentException"/>, as torch
    /// does: in a Tensor of indices when the graph is built, in indices computed in the graph (or passed to a compiled
    /// function, or batched by <see cref="Diff.Vmap(System.Func{Expr, Expr})"/>) when it is evaluated.
    /// </summary>
    /// <param name="classes">The number of classes, positive.</param>
    public Expr OneHot(int classes) => Wrap(CoreIndexing.oneHot(classes, Node));

    /// <summary>The lower triangle of the last two axes (torch.tril): entries with column − row ≤ offset, zeros elsewhere.</summary>
    /// <param name="offset">The diagonal: 0 the main one, positive above it, negative below.</param>
    public Expr Tril(int offset = 0) => Wrap(CoreIndexing.tril(offset, Node));

    /// <summary>The upper triangle of the last two axes (torch.triu): entries with column − row ≥ offset, zeros elsewhere.</summary>
    /// <param name="offset">The diagonal: 0 the main one, positive above it, negative below.</param>
    public Expr Triu(int offset = 0) => Wrap(CoreIndexing.triu(offset, Node));

    /// <summary>
    /// The entries (i, i + offset) of two axes, which are removed, as a new last axis (torch.diagonal).
    /// </summary>
    /// <param name="offset">The diagonal: 0 the main one, positive above it, negative below.</param>
    /// <param name="axis1">The row axis.</param>
    /// <param name="axis2">The column axis.</param>
    public Expr Diagonal(int offset = 0, int axis1 = 0, int axis2 = 1) => Wrap(CoreIndexing.diagonal(offset, axis1, axis2, Node));

    /// <summary>
    /// Square matrices with the last axis on diagonal <paramref name="offset"/> and zeros elsewhere
    /// (torch.diag_embed): n entries give (n + |offset|) × (n + |offset|) matrices in two new last axes.
    /// </summary>
    /// <param name="offset">The diagonal: 0 the main one, positive above it, negative below.</param>
    public Expr DiagEmbed(int offset = 0) => Wrap(CoreIndexing.diagEmbed(offset, Node));

    /// <summary>
    /// Einstein summation (torch.einsum), e.g. "bij,bjk->bik", "ii->", "ij,ij->i", "bi,ij,bj->b".
    /// Letters name axes; a letter repeated in one operand takes its diagonal; letters missing from the
    /// output are summed. Without "->" the output is the letters that occur once, in alphabetical order.
    /// A letter of length 1 in one operand broadcasts against a longer one in another, as in torch.
    /// Lowered to permutes, sums and one matmul per pair of operands: three or more are contracted from
    /// left to right, two at a time (torch's order without a path optimiser), so put the operands in an
    /// order whose intermediates stay small. <c>...</c> stands for the axes the letters do not name; the
    /// operands' ellipsis axes broadcast, and an implicit output puts them first, as in torch.
    /// </summary>
    /// <param name="equation">The subscripts, one comma-separated group per operand.</param>
    /// <param name="operands">The operands, at least one.</param>
    public static Expr Einsum(string equation, params Expr[] operands)
    {
        ArgumentNullException.ThrowIfNull(equation);
        ArgumentNullException.ThrowIfNull(operands);
        switch (operands.Length)
        {
            case 0: throw new ArgumentException($"Einsum: equation \"{equation}\" was given no operand", nameof(operands));
            case 1: return Wrap(CoreEinsum.einsum1(equation, operands[0].Node));
            case 2:
                var (a, b) = Align(operands[0], operands[1]);
                return Wrap(CoreEinsum.einsum2(equation, a, b));
            default: return Wrap(CoreEinsum.einsumN(equation, Align(operands, nameof(operands))));
        }
    }
}
