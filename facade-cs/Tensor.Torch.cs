using FunctionalDiff.Core;
using CoreTensor = FunctionalDiff.Core.Tensor;
using Kernels = FunctionalDiff.Core.TensorMath;

namespace FunctionalDiff;

// torch's spellings on values (t.T, t.mT, expand, repeat, masked_fill, chunk, split, clone, t[.., j], t[i, a..b]). The shape
// ops are Expr's composites evaluated (Expr.Torch.cs), so a tensor and an Expr never disagree about a result.
public sealed partial class Tensor
{
    /// <summary>The axes in reverse order, torch's <c>t.T</c> (the same as <see cref="Transpose()"/>). A view.</summary>
    public Tensor T => Transpose();

    /// <summary>The last two axes swapped, torch's <c>t.mT</c> (as <see cref="Expr.Transpose()"/>). A view.</summary>
    /// <exception cref="ArgumentException">The rank is below 2.</exception>
    public Tensor MT
    {
        get
        {
            if (Rank < 2) throw new ShapeException($"MT: the tensor {Shape_} has rank {Rank}; mT swaps the last two of at least two axes");
            var permutation = Enumerable.Range(0, Rank).ToArray();
            (permutation[^1], permutation[^2]) = (permutation[^2], permutation[^1]);
            return Transpose(permutation);
        }
    }

    /// <summary>
    /// torch.cat's name and argument order, <c>Tensor.Cat([a, b], 1)</c>: the tensors joined along an existing axis, as
    /// <see cref="Concat(Tensor[], int)"/>: the other dimensions must agree.
    /// </summary>
    /// <param name="tensors">The tensors to join, in order.</param>
    /// <param name="axis">The axis to join along (torch's <c>dim</c>; negative counts from the end).</param>
    /// <exception cref="ArgumentException">The shapes do not agree off the axis, or the axis is out of range.</exception>
    public static Tensor Cat(Tensor[] tensors, int axis = 0)
    {
        Interop.ThrowIfAnyNull(tensors, nameof(tensors));
        return Interop.Named("Cat", () => Concat(axis, tensors));
    }

    /// <summary>
    /// The same values in <paramref name="dtype"/>, torch's <c>t.to(torch.float32)</c> and TorchSharp's <c>t.to(ScalarType)</c>:
    /// <see cref="Cast"/> (a copy; float64 to float32 rounds).
    /// </summary>
    /// <param name="dtype">The dtype of the result.</param>
    public Tensor To(DType dtype) => Cast(dtype);

    /// <summary>Broadcast to a larger shape, NumPy-style (axes of length 1 and missing leading axes repeat), as <see cref="Expr.BroadcastTo"/>.</summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast.</exception>
    public Tensor BroadcastTo(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return EagerPlans.Run($"BroadcastTo {string.Join(",", shape)}", a => a[0].BroadcastTo(shape), this);
    }

    /// <summary>Broadcast to <paramref name="sizes"/>, −1 keeping an axis, as torch's <c>t.expand(*sizes)</c> and <see cref="Expr.Expand"/>.</summary>
    /// <exception cref="ArgumentException">An axis that is not of length 1 would change, or −1 stands for a new axis.</exception>
    public Tensor Expand(params int[] sizes)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        return EagerPlans.Run($"Expand {string.Join(",", sizes)}", a => a[0].Expand(sizes), this);
    }

    /// <summary>Tiled <paramref name="repeats"/>[i] times along each axis, as torch's <c>t.repeat(*repeats)</c> and <see cref="Expr.Repeat(int[])"/>.</summary>
    /// <exception cref="ArgumentException">Fewer repeats than axes, or a negative one.</exception>
    public Tensor Repeat(params int[] repeats)
    {
        ArgumentNullException.ThrowIfNull(repeats);
        return EagerPlans.Run($"Repeat {string.Join(",", repeats)}", a => a[0].Repeat(repeats), this);
    }

    /// <summary><paramref name="value"/> where <paramref name="mask"/> is nonzero and this elsewhere, torch's <c>t.masked_fill(mask, value)</c>.</summary>
    /// <exception cref="ArgumentException">The mask does not broadcast to this shape.</exception>
    public Tensor MaskedFill(Tensor mask, double value)
    {
        ArgumentNullException.ThrowIfNull(mask);
        return EagerPlans.Run($"MaskedFill {value:R}", a => a[0].MaskedFill(a[1], value), this, mask);
    }

    /// <summary>
    /// At most <paramref name="chunks"/> pieces along <paramref name="axis"/>, each ceil(length / chunks) long but the last,
    /// as torch.chunk and <see cref="Expr.Chunk"/> (so 5 rows in 4 chunks give 2, 2 and 1). Views.
    /// </summary>
    /// <exception cref="ArgumentException">chunks is not positive, or the axis is out of range.</exception>
    public Tensor[] Chunk(int chunks, int axis = 0) => Pieces(Symbolic().Chunk(chunks, axis), axis);

    /// <summary>Pieces of <paramref name="size"/> along <paramref name="axis"/>, the last one shorter, as torch.split. Views.</summary>
    /// <exception cref="ArgumentException">size is not positive, or the axis is out of range.</exception>
    public Tensor[] Split(int size, int axis = 0) => Pieces(Symbolic().Split(size, axis), axis);

    /// <summary>Consecutive pieces of the given lengths along <paramref name="axis"/>, as torch.split with a list. Views.</summary>
    /// <exception cref="ArgumentException">The sizes do not add up to the axis's length, or the axis is out of range.</exception>
    public Tensor[] Split(int[] sizes, int axis = 0)
    {
        ArgumentNullException.ThrowIfNull(sizes);
        return Pieces(Symbolic().Split(sizes, axis), axis);
    }

    /// <summary>The slices along an axis with the axis removed, torch.unbind, as <see cref="Expr.Unbind"/>. Views.</summary>
    /// <exception cref="ArgumentException">The axis is out of range.</exception>
    public Tensor[] Unbind(int axis = 0)
    {
        var pieces = Split(1, axis);
        int a = axis < 0 ? axis + Rank : axis;
        for (int i = 0; i < pieces.Length; i++) pieces[i] = pieces[i].Squeeze(a);
        return pieces;
    }

    /// <summary>torch.gather, computed now, as <see cref="Expr.Gather"/>: out[..i..] = this[..index[..i..]..] along the axis.</summary>
    /// <param name="axis">The axis the index points along.</param>
    /// <param name="index">Integer positions held in a float tensor; the result has its shape.</param>
    /// <exception cref="ArgumentException">The index does not fit this tensor along the other axes, or a position is out of range.</exception>
    public Tensor Gather(int axis, Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return EagerPlans.Run($"Gather {axis}", a => a[0].Gather(axis, a[1]), this, index);
    }

    /// <summary>torch.take, computed now, as <see cref="Expr.Take"/>: this tensor read flat at the positions the index holds.</summary>
    /// <param name="index">Integer positions into the flattened tensor (held in a float tensor); the result has its shape.</param>
    /// <exception cref="ArgumentException">A position is outside [0, Numel).</exception>
    public Tensor Take(Tensor index)
    {
        ArgumentNullException.ThrowIfNull(index);
        return EagerPlans.Run("Take", a => a[0].Take(a[1]), this, index);
    }

    /// <summary>torch's out-of-place <c>x.scatter_add(dim, index, src)</c>, computed now, as <see cref="Expr.ScatterAdd(int, Expr, Expr)"/>.</summary>
    /// <param name="axis">The axis the index points along.</param>
    /// <param name="index">Integer positions held in a float tensor.</param>
    /// <param name="source">The values added at them.</param>
    /// <exception cref="ArgumentException">The index does not fit the source or this tensor, or a position is out of range.</exception>
    public Tensor ScatterAdd(int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        return EagerPlans.Run($"ScatterAdd {axis}", a => a[0].ScatterAdd(axis, a[1], a[2]), this, index, source);
    }

    /// <summary>torch's out-of-place <c>x.scatter(dim, index, src)</c>, computed now, as <see cref="Expr.Scatter(int, Expr, Expr)"/>
    /// (a position the index repeats takes the mean of the entries written to it).</summary>
    /// <param name="axis">The axis the index points along.</param>
    /// <param name="index">Integer positions held in a float tensor.</param>
    /// <param name="source">The values written at them, of this tensor's dtype.</param>
    /// <exception cref="ArgumentException">The shapes do not fit, the dtypes differ, or a position is out of range.</exception>
    public Tensor Scatter(int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        return EagerPlans.Run($"Scatter {axis}", a => a[0].Scatter(axis, a[1], a[2]), this, index, source);
    }

    /// <summary>torch's out-of-place <c>x.index_copy(dim, index, source)</c>, computed now, as <see cref="Expr.IndexCopy"/>.</summary>
    /// <param name="axis">The axis to write along.</param>
    /// <param name="index">A rank-1 tensor of integer positions, one per slice of source along the axis.</param>
    /// <param name="source">This tensor's shape with the axis as long as the index.</param>
    /// <exception cref="ArgumentException">The shapes do not fit, or a position is out of range.</exception>
    public Tensor IndexCopy(int axis, Tensor index, Tensor source)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        return EagerPlans.Run($"IndexCopy {axis}", a => a[0].IndexCopy(axis, a[1], a[2]), this, index, source);
    }

    /// <summary>torch's out-of-place <c>x.scatter_reduce(dim, index, src, reduce, include_self)</c>, computed now, as
    /// <see cref="Expr.ScatterReduce(int, Expr, Expr, string, bool)"/>.</summary>
    /// <param name="axis">The axis the index points along.</param>
    /// <param name="index">Integer positions held in a float tensor.</param>
    /// <param name="source">The values reduced in, of this tensor's dtype.</param>
    /// <param name="reduce">"sum", "prod", "mean", "amax" or "amin".</param>
    /// <param name="includeSelf">Whether this tensor's value joins the reduction (torch's default: true).</param>
    /// <exception cref="ArgumentException">An unknown reduce, shapes that do not fit, different dtypes, or a position out of range.</exception>
    public Tensor ScatterReduce(int axis, Tensor index, Tensor source, string reduce, bool includeSelf = true)
    {
        ArgumentNullException.ThrowIfNull(index);
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(reduce);
        return EagerPlans.Run($"ScatterReduce {axis} {reduce} {includeSelf}", a => a[0].ScatterReduce(axis, a[1], a[2], reduce, includeSelf), this, index, source);
    }

    /// <summary>
    /// A copy with its own memory, torch's <c>t.clone()</c>: disposing either leaves the other alone (tensors are
    /// immutable, so a copy is needed only for that, or to pass as an output of <see cref="CompiledFunction.InvokeInto"/>).
    /// </summary>
    public Tensor Clone() => new(Value.DType == FunctionalDiff.Core.DType.Float64
        ? CoreTensor.OwnDense(Value.Shape, Value.ToDoubleArray())
        : CoreTensor.OwnDense(Value.Shape, Value.ToSingleArray()));

    /// <summary>Column <paramref name="column"/> of a range of rows, torch's <c>t[a..b, j]</c> (<c>t[.., j]</c> is a column): the second axis is dropped. A view.</summary>
    /// <exception cref="ArgumentException">The rank is below 2, or the range or the column is out of range.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public Tensor this[Range rows, int column]
    {
        get
        {
            if (Rank < 2) throw new ShapeException($"Tensor[]: t[rows, column] needs two axes; the tensor is {Shape_}");
            int n = Value.Shape[1];
            int j = column < 0 ? column + n : column;
            if (j < 0 || j >= n) throw new ShapeException($"Tensor[]: column {column} is out of range for axis 1 of shape {Shape_}");
            var sliced = SliceRange(this, 0, rows).Value;
            var shape = sliced.Shape;
            return new(Kernels.reshape(shape.Where((_, a) => a != 1).ToArray(), Kernels.slice(1, j, j + 1, 1, sliced)));
        }
    }

    /// <summary>A range of entries of row <paramref name="row"/>, torch's <c>t[i, a..b]</c>: the first axis is dropped. A view.</summary>
    /// <exception cref="ArgumentException">The rank is below 2, or the row or the range is out of range.</exception>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public Tensor this[int row, Range columns]
    {
        get
        {
            if (Rank < 2) throw new ShapeException($"Tensor[]: t[row, columns] needs two axes; the tensor is {Shape_}");
            return SliceRange(Row(row), 0, columns);
        }
    }

    string Shape_ => FunctionalDiff.Core.Shape.format(Value.Shape);

    // A variable of this tensor's shape and dtype: the Expr composite gives each piece's length, and the pieces are sliced
    // from this tensor as views (no graph over this tensor's values, so nothing is copied).
    Expr Symbolic() => Expr.Wrap(FunctionalDiff.Core.ExprModule.variable("t", Value.Shape, Value.DType));

    Tensor[] Pieces(Expr[] pieces, int axis)
    {
        int a = axis < 0 ? axis + Rank : axis;
        var result = new Tensor[pieces.Length];
        int start = 0;
        for (int i = 0; i < pieces.Length; i++)
        {
            int length = pieces[i].Shape[a];
            result[i] = new(Kernels.slice(a, start, start + length, 1, Value));
            start += length;
        }
        return result;
    }
}
