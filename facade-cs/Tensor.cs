using CoreTensor = FunctionalDiff.Core.Tensor;
using Creation = FunctionalDiff.Core.TensorModule;

namespace FunctionalDiff;

/// <summary>
/// An immutable dense array of float32 or float64 values: the concrete value an <see cref="Expr"/>
/// evaluates to. Every factory copies its input, and no member mutates the tensor.
/// </summary>
public sealed partial class Tensor
{
    internal CoreTensor Value { get; }

    internal Tensor(CoreTensor value) => Value = value;

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
    /// <see cref="Loss.CrossEntropy(Expr, int[], Reduction, double)"/> are taken as an <c>int[]</c> directly.
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
    public Tensor Cast(DType dtype) => new(Value.Cast(Interop.ToCore(dtype)));

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
