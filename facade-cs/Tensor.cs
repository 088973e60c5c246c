using CoreTensor = FunctionalDiff.Core.Tensor;
using Creation = FunctionalDiff.Core.TensorModule;

namespace FunctionalDiff;

/// <summary>
/// An immutable dense array of float32 or float64 values: the concrete value an <see cref="Expr"/>
/// evaluates to. Every factory copies its input, and no member mutates the tensor.
/// <para>
/// A tensor is <see cref="IDisposable"/>, as TorchSharp's is, so <c>using var t = ...</c> and
/// <see cref="NewDisposeScope"/> work as they do there. Disposing is optional (the garbage collector
/// reclaims tensors as usual): it promises that the tensor is not used again, so any later read of its
/// values throws <see cref="ObjectDisposedException"/> naming its shape, and a large tensor's array
/// (85,000 bytes or more) goes back to the library's pool for the next result of its dtype and length
/// when the tensor made it and nothing else was ever made over it: not a view (<c>Reshape</c>,
/// <c>t[1..3]</c>, ...), whose array is its source's, and not a tensor that a view, an <see cref="Expr"/>
/// constant or a compiled plan reads, whose array is left to the garbage collector. See
/// <see cref="TensorMemory.DisposedCacheLimit"/>.
/// </para>
/// </summary>
public sealed partial class Tensor : IDisposable
{
    internal CoreTensor Value { get; }

    // A fresh result joins the innermost TensorScope of this thread, if it was made inside it.
    internal Tensor(CoreTensor value)
    {
        Value = value;
        TensorScope.Adopt(this);
    }

    // A wrapper that joins no scope: a tensor the library keeps (an optimizer's parameters), which
    // must outlive a scope around the step that made it.
    internal Tensor(CoreTensor value, bool unscoped)
    {
        Value = value;
        if (!unscoped) TensorScope.Adopt(this);
    }

    /// <summary>
    /// Disposes the tensor (TorchSharp's <c>Dispose</c>): later reads of its values throw <see cref="ObjectDisposedException"/>,
    /// and its array goes back to the library's pool when it is large and this tensor alone ever held it (see the class
    /// summary). Its <see cref="Shape"/>, <see cref="DType"/>, <see cref="Rank"/> and <see cref="Numel"/> stay readable.
    /// A second call does nothing.
    /// </summary>
    public void Dispose()
    {
        Value.Dispose();
        TensorScope.Forget(this);
    }

    /// <summary>
    /// Hands this tensor from the open scope that holds it to the scope around that one (or to none), TorchSharp's
    /// <c>MoveToOuterDisposeScope()</c>: <see cref="TensorScope.MoveToOuter(Tensor)"/> without naming the scope. Returns this
    /// tensor; a tensor no open scope on this thread holds is returned as it is.
    /// </summary>
    public Tensor MoveToOuterDisposeScope()
    {
        TensorScope.Holding(this)?.MoveToOuter(this);
        return this;
    }

    /// <summary>
    /// Takes this tensor out of the open scope that holds it, so no scope disposes it, TorchSharp's
    /// <c>DetachFromDisposeScope()</c>. Returns this tensor.
    /// </summary>
    public Tensor DetachFromDisposeScope()
    {
        TensorScope.Holding(this)?.Detach(this);
        return this;
    }

    /// <summary>True once the tensor has been disposed (TorchSharp's <c>IsInvalid</c>).</summary>
    public bool IsDisposed => Value.IsDisposed;

    /// <summary>
    /// Opens a scope that disposes, when it is disposed, every tensor made on this thread while it is the innermost
    /// open scope: TorchSharp's <c>torch.NewDisposeScope()</c>. Keep a result beyond it with
    /// <see cref="TensorScope.MoveToOuter(Tensor)"/> or <see cref="TensorScope.Detach(Tensor)"/>. An optimizer's
    /// parameters are never taken (they are the library's state), nor tensors made before the scope opened.
    /// </summary>
    /// <example><code>
    /// using (var scope = Tensor.NewDisposeScope())
    /// {
    ///     var (loss, gradients) = step.Invoke(adam.Parameters, batch);
    ///     adam.Step(gradients);
    ///     total += loss.Item();
    /// }   // loss and gradients are disposed here; adam.Parameters live on
    /// </code></example>
    public static TensorScope NewDisposeScope() => new();

    /// <summary>A float64 vector holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(double[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data, new[] { data.Length }));
    }

    /// <summary>A float32 vector holding a copy of <paramref name="data"/>.</summary>
    public static Tensor FromArray(float[] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data, new[] { data.Length }));
    }

    /// <summary>
    /// A float64 tensor holding <paramref name="data"/> converted exactly (torch.tensor of ints gives int64; tensors here are
    /// float32 or float64, and every int is a float64 exactly), as a vector or in <paramref name="shape"/>. Class indices for
    /// <see cref="Loss.CrossEntropy(Expr, int[], Reduction, double, int?, Expr?)"/> are taken as an <c>int[]</c> directly.
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not hold exactly the values given.</exception>
    public static Tensor FromArray(int[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        var values = new double[data.Length];
        for (int i = 0; i < data.Length; i++) values[i] = data[i];
        return FromArray(values, shape.Length == 0 ? new[] { data.Length } : shape);
    }

    /// <summary>
    /// A float64 tensor holding <paramref name="data"/> converted exactly, as TorchSharp's <c>torch.tensor(new long[] { ... })</c>
    /// of int64 indices (token ids for <see cref="Expr.Embedding"/>, positions for <see cref="Expr.IndexSelect"/>), as a vector or
    /// in <paramref name="shape"/>. Every value must lie within ±2^53, where float64 holds each integer exactly.
    /// </summary>
    /// <exception cref="ArgumentException">A value lies beyond ±2^53, or the shape does not hold exactly the values given.</exception>
    public static Tensor FromArray(long[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        return FromArray(ExactLongs(data, nameof(data)), shape.Length == 0 ? new[] { data.Length } : shape);
    }

    /// <summary>A float64 matrix holding <paramref name="data"/> converted exactly (row-major), as <see cref="FromArray(long[], int[])"/>.</summary>
    /// <exception cref="ArgumentException">A value lies beyond ±2^53.</exception>
    public static Tensor FromArray(long[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return FromArray(ExactLongs(data.Cast<long>().ToArray(), nameof(data)), data.GetLength(0), data.GetLength(1));
    }

    static double[] ExactLongs(long[] data, string parameter)
    {
        const long exact = 1L << 53;
        var values = new double[data.Length];
        for (int i = 0; i < data.Length; i++)
        {
            if (data[i] > exact || data[i] < -exact)
                throw new ArgumentException($"FromArray: {data[i]} at position {i} lies beyond ±2^53, where float64 no longer holds every integer", parameter);
            values[i] = data[i];
        }
        return values;
    }

    /// <summary>
    /// A float64 mask, 1 for true and 0 for false (the masks comparisons give; torch.tensor of bools gives torch.bool), as a
    /// vector or in <paramref name="shape"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The shape does not hold exactly the values given.</exception>
    public static Tensor FromArray(bool[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        var values = new double[data.Length];
        for (int i = 0; i < data.Length; i++) values[i] = data[i] ? 1.0 : 0.0;
        return FromArray(values, shape.Length == 0 ? new[] { data.Length } : shape);
    }

    /// <summary>A float64 mask matrix, 1 for true and 0 for false (row-major), as torch.tensor of nested lists of bools (a key padding mask).</summary>
    public static Tensor FromArray(bool[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        int rows = data.GetLength(0), columns = data.GetLength(1);
        var values = new double[rows * columns];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < columns; j++) values[i * columns + j] = data[i, j] ? 1.0 : 0.0;
        return FromArray(values, rows, columns);
    }

    /// <summary>
    /// A float64 matrix holding <paramref name="data"/> converted exactly (row-major), as torch.tensor of nested lists of ints
    /// (which gives int64): a batch of token ids for <see cref="Expr.Embedding"/>, or class indices.
    /// </summary>
    public static Tensor FromArray(int[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data.Cast<int>().Select(v => (double)v).ToArray(), new[] { data.GetLength(0), data.GetLength(1) }));
    }

    /// <summary>A float64 matrix holding a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor FromArray(double[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data.Cast<double>().ToArray(), new[] { data.GetLength(0), data.GetLength(1) }));
    }

    /// <summary>A float64 tensor of rank 3 holding a copy of <paramref name="data"/> (row-major), as torch.tensor of nested lists.</summary>
    public static Tensor FromArray(double[,,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data.Cast<double>().ToArray(), new[] { data.GetLength(0), data.GetLength(1), data.GetLength(2) }));
    }

    /// <summary>A float32 tensor of rank 3 holding a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor FromArray(float[,,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data.Cast<float>().ToArray(), new[] { data.GetLength(0), data.GetLength(1), data.GetLength(2) }));
    }

    /// <summary>A float32 matrix holding a copy of <paramref name="data"/> (row-major).</summary>
    public static Tensor FromArray(float[,] data)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new(CoreTensor.FromArray(data.Cast<float>().ToArray(), new[] { data.GetLength(0), data.GetLength(1) }));
    }

    /// <summary>A float64 tensor of the given shape holding a copy of the row-major <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The element count does not match the shape.</exception>
    public static Tensor FromArray(double[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        return new(CoreTensor.FromArray(data, shape));
    }

    /// <summary>A float32 tensor of the given shape holding a copy of the row-major <paramref name="data"/>.</summary>
    /// <exception cref="ArgumentException">The element count does not match the shape.</exception>
    public static Tensor FromArray(float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(shape);
        return new(CoreTensor.FromArray(data, shape));
    }

    /// <summary>A rank-0 tensor.</summary>
    public static Tensor Scalar(double value, DType dtype = DType.Float64) => new(CoreTensor.Scalar(value, Interop.ToCore(dtype)));

    /// <summary>A tensor of zeros.</summary>
    public static Tensor Zeros(int[] shape, DType dtype = DType.Float64) => Interop.Named("Zeros", () => Full(shape, 0.0, dtype));

    /// <summary>A float64 tensor of zeros with the dimensions listed, as torch.zeros(2, 3).</summary>
    public static Tensor Zeros(params int[] shape) => Zeros(shape, DType.Float64);

    /// <summary>A tensor of ones.</summary>
    public static Tensor Ones(int[] shape, DType dtype = DType.Float64) => Interop.Named("Ones", () => Full(shape, 1.0, dtype));

    /// <summary>A float64 tensor of ones with the dimensions listed, as torch.ones(2, 3).</summary>
    public static Tensor Ones(params int[] shape) => Ones(shape, DType.Float64);

    /// <summary>A tensor of the given shape with every element equal to <paramref name="value"/>.</summary>
    public static Tensor Full(int[] shape, double value, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new(CoreTensor.Full(shape, value, Interop.ToCore(dtype)));
    }

    /// <summary>Zeros of <paramref name="like"/>'s shape and dtype (torch.zeros_like).</summary>
    public static Tensor ZerosLike(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return new(CoreTensor.ZerosLike(like.Value));
    }

    /// <summary>Ones of <paramref name="like"/>'s shape and dtype (torch.ones_like).</summary>
    public static Tensor OnesLike(Tensor like)
    {
        ArgumentNullException.ThrowIfNull(like);
        return new(CoreTensor.OnesLike(like.Value));
    }

    /// <summary>
    /// <paramref name="value"/> at every entry of <paramref name="like"/>'s shape and dtype (torch.full_like):
    /// <c>Tensor.FullLike(logits, double.NegativeInfinity)</c> before a top-k sampler scatters the kept logits back. F#:
    /// <c>Tensor.Full(t.Shape, value, t.DType)</c>.
    /// </summary>
    public static Tensor FullLike(Tensor like, double value)
    {
        ArgumentNullException.ThrowIfNull(like);
        return new(CoreTensor.Full(like.Value.Shape, value, like.Value.DType));
    }

    /// <summary>The values start, start + step, ... strictly before stop, like torch.arange.</summary>
    public static Tensor Arange(double start, double stop, double step = 1.0, DType dtype = DType.Float64) =>
        new(Creation.arange(Interop.ToCore(dtype), start, stop, step));

    /// <summary>The values 0, 1, ... strictly before stop, in float64, like torch.arange(stop).</summary>
    public static Tensor Arange(double stop) => Arange(0, stop);

    /// <summary>The n × n identity matrix, like torch.eye(n).</summary>
    /// <exception cref="ArgumentException">n is negative.</exception>
    public static Tensor Eye(int n, DType dtype = DType.Float64) => Eye(n, n, dtype);

    /// <summary>A rows × columns matrix with ones on its main diagonal and zeros elsewhere, like torch.eye(n, m).</summary>
    /// <exception cref="ArgumentException">rows or columns is negative.</exception>
    public static Tensor Eye(int rows, int columns, DType dtype = DType.Float64)
    {
        if (rows < 0 || columns < 0) throw new FunctionalDiff.Core.ShapeException($"Eye: negative dimension in shape [{rows},{columns}]");
        var data = new double[rows * columns];
        for (int i = 0; i < Math.Min(rows, columns); i++) data[i * columns + i] = 1.0;
        var eye = FromArray(data, rows, columns);
        return dtype == DType.Float64 ? eye : eye.Cast(dtype);
    }

    /// <summary><paramref name="count"/> evenly spaced values from start to stop inclusive, like torch.linspace.</summary>
    public static Tensor Linspace(double start, double stop, int count, DType dtype = DType.Float64) =>
        new(Creation.linspace(Interop.ToCore(dtype), start, stop, count));

    /// <summary>Standard normal samples; the same seed gives the same values on every machine.</summary>
    public static Tensor RandomNormal(int[] shape, int seed, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new(Creation.randomNormal(Interop.ToCore(dtype), seed, shape));
    }

    /// <summary>Uniform samples in [low, high); the same seed gives the same values on every machine.</summary>
    public static Tensor RandomUniform(int[] shape, int seed, double low = 0.0, double high = 1.0, DType dtype = DType.Float64)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new(Creation.randomUniform(Interop.ToCore(dtype), seed, low, high, shape));
    }

    /// <summary>The dimensions (a copy).</summary>
    public int[] Shape => Value.Shape;

    /// <summary>The number of dimensions.</summary>
    public int Rank => Value.Rank;

    /// <summary>The number of elements, the product of <see cref="Shape"/> (torch's <c>numel()</c>; 1 for a scalar).</summary>
    public int Numel => Value.Numel;

    /// <summary>The element type.</summary>
    public DType DType => Interop.FromCore(Value.DType);

    /// <summary>The element at a full index; negative indices count from the end.</summary>
    /// <exception cref="ArgumentException">The index has the wrong length or is out of range.</exception>
    // The indexers' metadata name is not the default Item, so that Item() can be torch's t.item().
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public double this[params int[] index]
    {
        get
        {
            ArgumentNullException.ThrowIfNull(index);
            // the core's member is Item; the caller wrote t[i, j]
            return Interop.Named("Tensor[]", () => Value[index]);
        }
    }

    /// <summary>The same values in another dtype (a copy; float64 to float32 rounds).</summary>
    public Tensor Cast(DType dtype) =>
        // to the same dtype the result is a view, never this tensor itself: disposing it must not dispose this one
        Interop.ToCore(dtype) == Value.DType
            ? new(Value.View(Value.Dims, Value.Strides, Value.Offset))
            : new(Value.Cast(Interop.ToCore(dtype)));

    /// <summary>The elements in row-major order, as float64.</summary>
    public double[] ToDoubleArray() => Value.ToDoubleArray();

    /// <summary>
    /// The elements in row-major order, as float64 whatever the dtype (the same as <see cref="ToDoubleArray"/>,
    /// and the inverse of <see cref="FromArray(double[], int[])"/> with <see cref="Shape"/>); <see cref="ToSingleArray"/>
    /// gives float32.
    /// </summary>
    public double[] ToArray() => Value.ToDoubleArray();

    /// <summary>The elements in row-major order, as float32 (float64 values round).</summary>
    public float[] ToSingleArray() => Value.ToSingleArray();

    /// <summary>The value of a one-element tensor.</summary>
    /// <exception cref="ArgumentException">The tensor has more or fewer than one element.</exception>
    public double ToScalar() => Value.ToScalar();

    /// <summary>
    /// torch.allclose: whether |this − other| ≤ atol + rtol·|other| for every element, with broadcasting. Equal values are
    /// close (equal infinities too); NaN is close to nothing unless <paramref name="equalNan"/>. True for empty tensors.
    /// <c>==</c> is reference equality, as for <see cref="Expr"/>; <see cref="Eq(Tensor)"/> gives the elementwise mask.
    /// </summary>
    /// <exception cref="ArgumentException">The shapes do not broadcast, or a tolerance is negative.</exception>
    public bool AllClose(Tensor other, double rtol = 1e-5, double atol = 1e-8, bool equalNan = false)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Interop.Named("AllClose", () => FunctionalDiff.Core.TensorMath.allClose(rtol, atol, equalNan, Value, other.Value));
    }

    /// <summary>The value of a one-element tensor as a double, torch's <c>t.item()</c> (the same as <see cref="ToScalar"/>).</summary>
    /// <exception cref="ArgumentException">The tensor has more or fewer than one element; the message gives its shape.</exception>
    public double Item() => Interop.Named("Item", () => Value.ToScalar());

    /// <summary>The text PyTorch's <c>str(tensor)</c> prints for the same values:
    /// <c>tensor([1.0000, 0.0180])</c>, rows aligned, tensors over 1000 elements summarised with
    /// <c>...</c>. float32 (torch's default) shows no dtype; float64 ends in
    /// <c>dtype=torch.float64</c>, torch's spelling, so the text reads the same as torch's.</summary>
    public override string ToString() => Value.ToString();
}
