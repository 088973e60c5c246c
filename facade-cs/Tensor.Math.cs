using Microsoft.FSharp.Core;
using FunctionalDiff.Core;
using CoreTensor = FunctionalDiff.Core.Tensor;
using Kernels = FunctionalDiff.Core.TensorMath;

namespace FunctionalDiff;

// Eager math: the kernels a compiled plan runs, called directly on values, with no graph. A
// training loop uses them between compiled steps (updates, metrics, data preparation). The rules
// are those of Expr: NumPy/torch broadcasting, float32 meeting float64 gives float64, and a bare
// double takes the tensor's dtype. Every result is a new tensor; views (Reshape, Transpose, Slice)
// share the immutable storage.
public sealed partial class Tensor
{
    static CoreTensor Of(Tensor t, string name)
    {
        ArgumentNullException.ThrowIfNull(t, name);
        return t.Value;
    }

    static Tensor Binary(BinaryOp op, Tensor a, Tensor b) => new(Kernels.binary(op, Of(a, nameof(a)), Of(b, nameof(b))));

    static Tensor Binary(BinaryOp op, Tensor a, double b) =>
        new(Kernels.binary(op, Of(a, nameof(a)), CoreTensor.Scalar(b, a.Value.DType)));

    static Tensor Binary(BinaryOp op, double a, Tensor b) =>
        new(Kernels.binary(op, CoreTensor.Scalar(a, Of(b, nameof(b)).DType), b.Value));

    /// <summary>Elementwise sum with broadcasting.</summary>
    public static Tensor operator +(Tensor a, Tensor b) => Binary(BinaryOp.Add, a, b);
    /// <summary>Adds a scalar (in the tensor's dtype) to every element.</summary>
    public static Tensor operator +(Tensor a, double b) => Binary(BinaryOp.Add, a, b);
    /// <summary>Adds a scalar (in the tensor's dtype) to every element.</summary>
    public static Tensor operator +(double a, Tensor b) => Binary(BinaryOp.Add, a, b);

    /// <summary>Elementwise difference with broadcasting.</summary>
    public static Tensor operator -(Tensor a, Tensor b) => Binary(BinaryOp.Sub, a, b);
    /// <summary>Subtracts a scalar (in the tensor's dtype) from every element.</summary>
    public static Tensor operator -(Tensor a, double b) => Binary(BinaryOp.Sub, a, b);
    /// <summary>A scalar (in the tensor's dtype) minus every element.</summary>
    public static Tensor operator -(double a, Tensor b) => Binary(BinaryOp.Sub, a, b);

    /// <summary>Elementwise product with broadcasting.</summary>
    public static Tensor operator *(Tensor a, Tensor b) => Binary(BinaryOp.Mul, a, b);
    /// <summary>Multiplies every element by a scalar (in the tensor's dtype).</summary>
    public static Tensor operator *(Tensor a, double b) => Binary(BinaryOp.Mul, a, b);
    /// <summary>Multiplies every element by a scalar (in the tensor's dtype).</summary>
    public static Tensor operator *(double a, Tensor b) => Binary(BinaryOp.Mul, a, b);

    /// <summary>Elementwise quotient with broadcasting.</summary>
    public static Tensor operator /(Tensor a, Tensor b) => Binary(BinaryOp.Div, a, b);
    /// <summary>Divides every element by a scalar (in the tensor's dtype).</summary>
    public static Tensor operator /(Tensor a, double b) => Binary(BinaryOp.Div, a, b);
    /// <summary>A scalar (in the tensor's dtype) divided by every element.</summary>
    public static Tensor operator /(double a, Tensor b) => Binary(BinaryOp.Div, a, b);

    /// <summary>Negation.</summary>
    public static Tensor operator -(Tensor a) => new(Kernels.neg(Of(a, nameof(a))));

    /// <summary>1 where a &lt; b, else 0, in the operands' dtype.</summary>
    public static Tensor operator <(Tensor a, Tensor b) => Interop.Named("Lt", () => Binary(BinaryOp.Less, a, b));
    /// <summary>1 where a &gt; b, else 0, in the operands' dtype.</summary>
    public static Tensor operator >(Tensor a, Tensor b) => Interop.Named("Gt", () => Binary(BinaryOp.Greater, a, b));
    /// <summary>1 where a &lt;= b, else 0, in the operands' dtype.</summary>
    public static Tensor operator <=(Tensor a, Tensor b) => Interop.Named("Le", () => Binary(BinaryOp.LessEqual, a, b));
    /// <summary>1 where a &gt;= b, else 0, in the operands' dtype.</summary>
    public static Tensor operator >=(Tensor a, Tensor b) => Interop.Named("Ge", () => Binary(BinaryOp.GreaterEqual, a, b));
    /// <summary>1 where a &lt; b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator <(Tensor a, double b) => Interop.Named("Lt", () => Binary(BinaryOp.Less, a, b));
    /// <summary>1 where a &gt; b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator >(Tensor a, double b) => Interop.Named("Gt", () => Binary(BinaryOp.Greater, a, b));
    /// <summary>1 where a &lt;= b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator <=(Tensor a, double b) => Interop.Named("Le", () => Binary(BinaryOp.LessEqual, a, b));
    /// <summary>1 where a &gt;= b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator >=(Tensor a, double b) => Interop.Named("Ge", () => Binary(BinaryOp.GreaterEqual, a, b));
    // The number on the left, as torch's `0.5 < t`: the same masks as the operators above.
    /// <summary>1 where a &lt; b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator <(double a, Tensor b) => Interop.Named("Lt", () => Binary(BinaryOp.Less, a, b));
    /// <summary>1 where a &gt; b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator >(double a, Tensor b) => Interop.Named("Gt", () => Binary(BinaryOp.Greater, a, b));
    /// <summary>1 where a &lt;= b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator <=(double a, Tensor b) => Interop.Named("Le", () => Binary(BinaryOp.LessEqual, a, b));
    /// <summary>1 where a &gt;= b, else 0, in the tensor's dtype.</summary>
    public static Tensor operator >=(double a, Tensor b) => Interop.Named("Ge", () => Binary(BinaryOp.GreaterEqual, a, b));

    /// <summary>1 where the elements are equal, else 0 (NaN equals nothing), with broadcasting.</summary>
    public Tensor Eq(Tensor other) { ArgumentNullException.ThrowIfNull(other); return Interop.Named("Eq", () => Binary(BinaryOp.Equal, this, other)); }
    /// <summary>1 where the element equals the number, else 0 (NaN equals nothing), in the tensor's dtype.</summary>
    public Tensor Eq(double other) => Interop.Named("Eq", () => Binary(BinaryOp.Equal, this, other));
    /// <summary>1 where the elements differ, else 0 (NaN differs from everything, itself included), with broadcasting.</summary>
    public Tensor Ne(Tensor other) { ArgumentNullException.ThrowIfNull(other); return Interop.Named("Ne", () => Binary(BinaryOp.NotEqual, this, other)); }
    /// <summary>1 where the element differs from the number, else 0 (NaN differs from everything), in the tensor's dtype.</summary>
    public Tensor Ne(double other) => Interop.Named("Ne", () => Binary(BinaryOp.NotEqual, this, other));

    /// <summary>The elementwise power with broadcasting.</summary>
    public Tensor Pow(Tensor exponent) { ArgumentNullException.ThrowIfNull(exponent); return Binary(BinaryOp.Pow, this, exponent); }
    /// <summary>Every element raised to a scalar power.</summary>
    public Tensor Pow(double exponent) => Binary(BinaryOp.Pow, this, exponent);
    /// <summary>
    /// torch.pow(self, exponent) with a number as the base: <paramref name="base"/> to the power of each element, in the
    /// exponent's dtype, as <see cref="Expr.Pow(Expr, Expr)"/> (rotary embeddings' inverse frequencies,
    /// <c>1 / Tensor.Pow(10000, Tensor.Arange(0, d, 2) / d)</c>).
    /// </summary>
    public static Tensor Pow(double @base, Tensor exponent)
    {
        ArgumentNullException.ThrowIfNull(exponent);
        return EagerPlans.Run($"Pow {@base:R}", a => Expr.Pow(@base, a[0]), exponent);
    }
    /// <summary>The outer product of this vector [n] and <paramref name="other"/> [m], an [n, m] matrix (torch.outer), as <see cref="Expr.Outer"/>.</summary>
    /// <exception cref="ArgumentException">Either operand is not a vector.</exception>
    public Tensor Outer(Tensor other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return EagerPlans.Run("Outer", a => a[0].Outer(a[1]), this, other);
    }
    /// <summary>The elementwise larger of a and b (NaN wins, as in torch.maximum).</summary>
    public static Tensor Maximum(Tensor a, Tensor b) => Binary(BinaryOp.Maximum, a, b);
    /// <summary>The elementwise smaller of a and b (NaN wins, as in torch.minimum).</summary>
    public static Tensor Minimum(Tensor a, Tensor b) => Binary(BinaryOp.Minimum, a, b);
    /// <summary>The larger of each element and the number (NaN propagates, as torch.maximum), in the tensor's dtype.</summary>
    public static Tensor Maximum(Tensor a, double b) => Binary(BinaryOp.Maximum, a, b);
    /// <summary>The larger of the number and each element (NaN propagates, as torch.maximum), in the tensor's dtype.</summary>
    public static Tensor Maximum(double a, Tensor b) => Binary(BinaryOp.Maximum, a, b);
    /// <summary>The smaller of each element and the number (NaN propagates, as torch.minimum), in the tensor's dtype.</summary>
    public static Tensor Minimum(Tensor a, double b) => Binary(BinaryOp.Minimum, a, b);
    /// <summary>The smaller of the number and each element (NaN propagates, as torch.minimum), in the tensor's dtype.</summary>
    public static Tensor Minimum(double a, Tensor b) => Binary(BinaryOp.Minimum, a, b);

    /// <summary>
    /// Every element limited to [min, max], as torch.clamp and <see cref="Expr.Clamp(double?, double?)"/>; a null or omitted
    /// bound is absent (<c>t.Clamp(min: 0)</c>). NaN stays NaN, and when min &gt; max every element is max.
    /// </summary>
    public Tensor Clamp(double? min = null, double? max = null) =>
        new(Kernels.clamp(min.HasValue ? FSharpOption<double>.Some(min.Value) : FSharpOption<double>.None,
                          max.HasValue ? FSharpOption<double>.Some(max.Value) : FSharpOption<double>.None, Value));

    /// <summary>
    /// Every element limited to [min, max] where the bounds are tensors, broadcast with this one, as torch.clamp with
    /// tensor bounds and <see cref="Expr.Clamp(Expr, Expr)"/>: min(max(t, min), max), NaN propagated, and max where
    /// min &gt; max.
    /// </summary>
    /// <exception cref="ArgumentNullException">min or max is null.</exception>
    /// <exception cref="ArgumentException">The three shapes do not broadcast together.</exception>
    public Tensor Clamp(Tensor min, Tensor max)
    {
        ArgumentNullException.ThrowIfNull(min);
        ArgumentNullException.ThrowIfNull(max);
        FunctionalDiff.Core.Shape.broadcastMany("Clamp", [Shape, min.Shape, max.Shape]);
        return Binary(BinaryOp.Minimum, Binary(BinaryOp.Maximum, this, min), max);
    }
    /// <summary>atan2(y, x) elementwise.</summary>
    public static Tensor Atan2(Tensor y, Tensor x)
    {
        ArgumentNullException.ThrowIfNull(y);
        ArgumentNullException.ThrowIfNull(x);
        return Binary(BinaryOp.Atan2, y, x);
    }
    /// <summary>C's fmod (torch.fmod), elementwise with broadcasting: a − trunc(a/b)·b exactly, with the sign of a.</summary>
    public static Tensor Fmod(Tensor a, Tensor b) => Binary(BinaryOp.Fmod, a, b);

    /// <summary>Python's a % b (torch.remainder), elementwise with broadcasting: the exact remainder with the sign of b.</summary>
    public static Tensor Remainder(Tensor a, Tensor b)
    {
        var r = Kernels.binary(BinaryOp.Fmod, Of(a, nameof(a)), Of(b, nameof(b)));
        var zero = CoreTensor.Scalar(0.0, r.DType);
        var differ = Kernels.binary(BinaryOp.NotEqual, Kernels.binary(BinaryOp.Less, r, zero), Kernels.binary(BinaryOp.Less, b.Value, zero));
        var adjust = Kernels.binary(BinaryOp.Mul, Kernels.binary(BinaryOp.NotEqual, r, zero), differ);
        return new(Kernels.where(adjust, Kernels.binary(BinaryOp.Add, r, b.Value), r));
    }

    /// <summary>Python's and torch's <c>a % b</c>: <see cref="Remainder"/>, the remainder with the sign of b (C#'s <c>%</c> on numbers is <see cref="Fmod"/>'s).</summary>
    public static Tensor operator %(Tensor a, Tensor b) => Remainder(a, b);
    /// <summary>Python's and torch's <c>t % n</c> with n in the tensor's dtype: <see cref="Remainder"/> (<c>(Tensor.Arange(2 * n) + n) % (2 * n)</c>).</summary>
    public static Tensor operator %(Tensor a, double b) => Remainder(a, new Tensor(CoreTensor.Scalar(b, Of(a, nameof(a)).DType)));
    /// <summary>Python's and torch's <c>n % t</c> with n in the tensor's dtype: <see cref="Remainder"/>.</summary>
    public static Tensor operator %(double a, Tensor b) => Remainder(new Tensor(CoreTensor.Scalar(a, Of(b, nameof(b)).DType)), b);

    /// <summary><paramref name="ifTrue"/> where <paramref name="condition"/> is nonzero, else <paramref name="ifFalse"/>; all three broadcast.</summary>
    public static Tensor Where(Tensor condition, Tensor ifTrue, Tensor ifFalse) =>
        new(Kernels.where(Of(condition, nameof(condition)), Of(ifTrue, nameof(ifTrue)), Of(ifFalse, nameof(ifFalse))));

    /// <summary>The matrix product with torch.matmul's rules (ranks 1 and 2, and batches of matrices).</summary>
    public Tensor MatMul(Tensor other) => Interop.Named("MatMul", () => new Tensor(Kernels.matmul(Value, Of(other, nameof(other)))));

    Tensor Unary(UnaryOp op) => new(Kernels.unary(op, Value));

    /// <summary>sin, elementwise.</summary>
    public Tensor Sin() => Unary(UnaryOp.Sin);
    /// <summary>cos, elementwise.</summary>
    public Tensor Cos() => Unary(UnaryOp.Cos);
    /// <summary>tan, elementwise.</summary>
    public Tensor Tan() => Unary(UnaryOp.Tan);
    /// <summary>e^x, elementwise.</summary>
    public Tensor Exp() => Unary(UnaryOp.Exp);
    /// <summary>e^x − 1, elementwise, accurate near 0.</summary>
    public Tensor Expm1() => Unary(UnaryOp.Expm1);
    /// <summary>The natural logarithm, elementwise.</summary>
    public Tensor Log() => Unary(UnaryOp.Log);
    /// <summary>log(1 + x), elementwise, accurate near 0.</summary>
    public Tensor Log1p() => Unary(UnaryOp.Log1p);
    /// <summary>The square root, elementwise.</summary>
    public Tensor Sqrt() => Unary(UnaryOp.Sqrt);
    /// <summary>1/√x, elementwise.</summary>
    public Tensor Rsqrt() => Unary(UnaryOp.Rsqrt);
    /// <summary>tanh, elementwise.</summary>
    public Tensor Tanh() => Unary(UnaryOp.Tanh);
    /// <summary>The logistic sigmoid 1/(1 + e^−x), elementwise.</summary>
    public Tensor Sigmoid() => Unary(UnaryOp.Sigmoid);
    /// <summary>max(x, 0), elementwise.</summary>
    public Tensor Relu() => Unary(UnaryOp.Relu);
    /// <summary>|x|, elementwise.</summary>
    public Tensor Abs() => Unary(UnaryOp.Abs);
    /// <summary>−1, 0 or 1 by the sign of x (0 for NaN, as torch.sign), elementwise.</summary>
    public Tensor Sign() => Unary(UnaryOp.Sign);
    /// <summary>x², elementwise.</summary>
    public Tensor Square() => Unary(UnaryOp.Square);
    /// <summary>1/x, elementwise.</summary>
    public Tensor Reciprocal() => Unary(UnaryOp.Reciprocal);
    /// <summary>The error function, elementwise.</summary>
    public Tensor Erf() => Unary(UnaryOp.Erf);
    /// <summary>Rounds down, elementwise.</summary>
    public Tensor Floor() => Unary(UnaryOp.Floor);
    /// <summary>Rounds up, elementwise.</summary>
    public Tensor Ceil() => Unary(UnaryOp.Ceil);
    /// <summary>Rounds half to even, elementwise (as torch.round).</summary>
    public Tensor Round() => Unary(UnaryOp.Round);

    int[] AllAxes => Enumerable.Range(0, Rank).ToArray();

    // The kernels name the core op (ReduceSum); the caller wrote Sum.
    Tensor Reduce(string method, ReduceOp op, int[] axes, bool keepDims)
    {
        ArgumentNullException.ThrowIfNull(axes);
        return Interop.Named(method, () => new Tensor(Kernels.reduce(op, axes, keepDims, Value)));
    }

    /// <summary>The sum of all elements, rank 0.</summary>
    public Tensor Sum() => Reduce("Sum", ReduceOp.Sum, AllAxes, false);
    /// <summary>The sum along one axis.</summary>
    public Tensor Sum(int axis, bool keepDims = false) => Reduce("Sum", ReduceOp.Sum, new[] { axis }, keepDims);
    /// <summary>The sum over several axes.</summary>
    public Tensor Sum(int[] axes, bool keepDims = false) => Reduce("Sum", ReduceOp.Sum, axes, keepDims);
    /// <summary>The mean of all elements, rank 0.</summary>
    public Tensor Mean() => Reduce("Mean", ReduceOp.Mean, AllAxes, false);
    /// <summary>The mean along one axis.</summary>
    public Tensor Mean(int axis, bool keepDims = false) => Reduce("Mean", ReduceOp.Mean, new[] { axis }, keepDims);
    /// <summary>The mean over several axes.</summary>
    public Tensor Mean(int[] axes, bool keepDims = false) => Reduce("Mean", ReduceOp.Mean, axes, keepDims);
    /// <summary>The largest element, rank 0.</summary>
    public Tensor Max() => Reduce("Max", ReduceOp.Max, AllAxes, false);
    /// <summary>The largest element along one axis.</summary>
    public Tensor Max(int axis, bool keepDims = false) => Reduce("Max", ReduceOp.Max, new[] { axis }, keepDims);
    /// <summary>The smallest element, rank 0.</summary>
    public Tensor Min() => Reduce("Min", ReduceOp.Min, AllAxes, false);
    /// <summary>The smallest element along one axis.</summary>
    public Tensor Min(int axis, bool keepDims = false) => Reduce("Min", ReduceOp.Min, new[] { axis }, keepDims);
    /// <summary>The product of all elements, rank 0.</summary>
    public Tensor Prod() => Reduce("Prod", ReduceOp.Prod, AllAxes, false);
    /// <summary>The product along one axis.</summary>
    public Tensor Prod(int axis, bool keepDims = false) => Reduce("Prod", ReduceOp.Prod, new[] { axis }, keepDims);
    /// <summary>The index of the largest element along an axis (first on ties), in the tensor's dtype.</summary>
    public Tensor ArgMax(int axis, bool keepDims = false) => Interop.Named("ArgMax", () => new Tensor(Kernels.argmax(axis, keepDims, Value)));
    /// <summary>The index of the smallest element along an axis (first on ties, a NaN before any number, as torch.argmin), in the tensor's dtype.</summary>
    public Tensor ArgMin(int axis, bool keepDims = false) => new(Kernels.argmin(axis, keepDims, Value));
    /// <summary>The row-major flat index of the largest element, rank 0, as torch's <c>argmax()</c> without a dim.</summary>
    public Tensor ArgMax() => new(Kernels.argmaxAll(Value));
    /// <summary>The row-major flat index of the smallest element, rank 0, as torch's <c>argmin()</c> without a dim.</summary>
    public Tensor ArgMin() => new(Kernels.argminAll(Value));
    /// <summary>The largest element over several axes (negative axes count from the end), as torch's amax.</summary>
    public Tensor Max(int[] axes, bool keepDims = false) => Reduce("Max", ReduceOp.Max, axes, keepDims);
    /// <summary>The smallest element over several axes (negative axes count from the end), as torch's amin.</summary>
    public Tensor Min(int[] axes, bool keepDims = false) => Reduce("Min", ReduceOp.Min, axes, keepDims);
    /// <summary>The product over several axes (negative axes count from the end).</summary>
    public Tensor Prod(int[] axes, bool keepDims = false) => Reduce("Prod", ReduceOp.Prod, axes, keepDims);

    /// <summary>
    /// The largest elements along an axis and their positions, torch's <c>t.max(dim)</c> (<see cref="Max(int, bool)"/>
    /// is torch's amax, values only). An index is the first among ties, or of the first NaN, as <see cref="ArgMax(int, bool)"/>;
    /// indices are integers held in the tensor's dtype.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range or empty.</exception>
    public (Tensor Values, Tensor Indices) MaxWithIndices(int axis, bool keepDims = false)
    {
        var (values, indices) = ((Expr)this).MaxWithIndices(axis, keepDims);
        var both = Expr.EvalMany(values, indices);
        return (both[0], both[1]);
    }

    /// <summary>
    /// The smallest elements along an axis and their positions, torch's <c>t.min(dim)</c>; ties and NaN as
    /// <see cref="ArgMin(int, bool)"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The axis is out of range or empty.</exception>
    public (Tensor Values, Tensor Indices) MinWithIndices(int axis, bool keepDims = false)
    {
        var (values, indices) = ((Expr)this).MinWithIndices(axis, keepDims);
        var both = Expr.EvalMany(values, indices);
        return (both[0], both[1]);
    }

    /// <summary>The same elements in a new shape; one entry may be −1 to infer it. A view when possible.</summary>
    public Tensor Reshape(params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        return new(Kernels.reshape(shape, Value));
    }

    /// <summary>
    /// The axes reversed (the matrix transpose for rank 2; NumPy's <c>.T</c>). A view. Above rank 2 this
    /// differs from <see cref="Expr.Transpose()"/>, which swaps only the last two axes (torch's <c>.mT</c>);
    /// <c>Transpose(0, 2, 1)</c> spells that here.
    /// </summary>
    public Tensor Transpose() => new(Kernels.transpose(Value));

    /// <summary>
    /// The axes reordered: result axis i is axis permutation[i] (torch's permute, as <see cref="Permute"/>). A view. Two
    /// numbers written out, <c>t.Transpose(0, 1)</c>, call <see cref="Transpose(int, int)"/> instead, torch's swap of two axes.
    /// </summary>
    public Tensor Transpose(params int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        return Interop.Named("Transpose", () => new Tensor(Kernels.permute(permutation, Value)));
    }

    /// <summary>Axes <paramref name="axis0"/> and <paramref name="axis1"/> swapped, torch's <c>t.transpose(dim0, dim1)</c>, as <see cref="Expr.Transpose(int, int)"/>. A view.</summary>
    /// <exception cref="ArgumentException">An axis is out of range.</exception>
    public Tensor Transpose(int axis0, int axis1)
    {
        _ = ((Expr)this).Transpose(axis0, axis1);   // checks the axes; its error names Transpose and the shape
        var permutation = Enumerable.Range(0, Rank).ToArray();
        int a = axis0 < 0 ? axis0 + Rank : axis0, b = axis1 < 0 ? axis1 + Rank : axis1;
        (permutation[a], permutation[b]) = (permutation[b], permutation[a]);
        return Transpose(permutation);
    }

    /// <summary>The axes reordered: result axis i is axis permutation[i], torch's <c>t.permute(*dims)</c>. A view.</summary>
    /// <exception cref="ArgumentException">The axes are not a permutation of this tensor's axes.</exception>
    public Tensor Permute(params int[] permutation)
    {
        ArgumentNullException.ThrowIfNull(permutation);
        return Interop.Named("Permute", () => new Tensor(Kernels.permute(permutation, Value)));
    }

    /// <summary>Python-style slicing of one axis: start and stop may be negative and are clamped; step is positive. A view.</summary>
    public Tensor Slice(int axis, int start, int stop, int step = 1) => new(Kernels.slice(axis, start, stop, step, Value));

    /// <summary>The rows (first axis) in a range, as <c>t[2..5]</c> or <c>t[^10..]</c>. A view.</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public Tensor this[Range rows] => SliceRange(this, 0, rows);

    /// <summary>A range of rows and a range of columns, as <c>t[.., 1..3]</c>. A view.</summary>
    [System.Runtime.CompilerServices.IndexerName("Element")]
    public Tensor this[Range rows, Range columns] => SliceRange(SliceRange(this, 0, rows), 1, columns);

    /// <summary>Row <paramref name="row"/> (negative counts from the end), without the first axis, like torch's <c>t[i]</c>.</summary>
    /// <exception cref="ArgumentException">The row is out of range, or the tensor has rank 0.</exception>
    public Tensor Row(int row)
    {
        if (Rank == 0) throw new ShapeException("Row: a rank-0 tensor has no rows");
        int n = Value.Shape[0];
        int i = row < 0 ? row + n : row;
        if (i < 0 || i >= n) throw new ShapeException($"Row: row {row} is out of range for shape {FunctionalDiff.Core.Shape.format(Value.Shape)}");
        var rest = Value.Shape[1..];
        return new(Kernels.reshape(rest, Kernels.slice(0, i, i + 1, 1, Value)));
    }

    static Tensor SliceRange(Tensor t, int axis, Range range)
    {
        if (axis >= t.Rank)
            throw new ShapeException($"Slice: axis {axis} does not exist in shape {FunctionalDiff.Core.Shape.format(t.Value.Shape)}");
        int n = t.Value.Shape[axis];
        // Range's own exception names neither the method nor the shape
        int start = range.Start.GetOffset(n), stop = range.End.GetOffset(n);
        if (start < 0 || stop > n || start > stop)
            throw new ShapeException($"Slice: range {range} is outside axis {axis} of shape {FunctionalDiff.Core.Shape.format(t.Value.Shape)}");
        int length = stop - start;
        return new(Kernels.slice(axis, start, start + length, 1, t.Value));
    }

    /// <summary>Concatenates along an existing axis.</summary>
    public static Tensor Concat(int axis, params Tensor[] parts)
    {
        Interop.ThrowIfAnyNull(parts, nameof(parts));
        return new(Kernels.concat(axis, parts.Select(p => p.Value).ToArray()));
    }

    /// <summary>Stacks along a new axis.</summary>
    public static Tensor Stack(int axis, params Tensor[] parts)
    {
        Interop.ThrowIfAnyNull(parts, nameof(parts));
        return new(Kernels.stack(axis, parts.Select(p => p.Value).ToArray()));
    }

    /// <summary>Concatenates along an existing axis, in torch.cat's argument order: <c>Tensor.Concat([a, b], axis: 1)</c>.</summary>
    public static Tensor Concat(Tensor[] parts, int axis = 0) => Concat(axis, parts);

    /// <summary>Stacks along a new axis, in torch.stack's argument order: <c>Tensor.Stack([a, b], axis: 1)</c>.</summary>
    public static Tensor Stack(Tensor[] parts, int axis = 0) => Stack(axis, parts);
}

public sealed partial class Tensor
{
    /// <summary>The rows (entries of the first axis) at <paramref name="rows"/>, in that order, as a new tensor.</summary>
    /// <exception cref="ArgumentException">A row is out of range.</exception>
    public Tensor TakeRows(params int[] rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        return new(FunctionalDiff.Core.Batches.takeRows(rows, Value));
    }
}
