using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Eager tensor math runs the graph path's kernels: each eager result must equal, bit for bit,
/// the same operation compiled as a graph over inputs (the plan a training step runs), in both dtypes.
/// </summary>
public class TensorMathTests
{
    static Tensor Data(int seed, DType dtype, params int[] shape) => Tensor.RandomUniform(shape, seed, 0.25, 2.0, dtype);

    static void SameBits(Tensor expected, Tensor actual)
    {
        Assert.Equal(expected.Shape, actual.Shape);
        Assert.Equal(expected.DType, actual.DType);
        var e = expected.ToDoubleArray();
        var a = actual.ToDoubleArray();
        for (int i = 0; i < e.Length; i++)
            Assert.True(BitConverter.DoubleToInt64Bits(e[i]) == BitConverter.DoubleToInt64Bits(a[i]), $"element {i}: graph {e[i]:R}, eager {a[i]:R}");
    }

    static Tensor Graph(Func<Expr, Expr, Expr> f, Tensor a, Tensor b) => Diff.Compile((Expr[] x) => [f(x[0], x[1])]).Invoke(a, b)[0];
    static Tensor Graph(Func<Expr, Expr> f, Tensor a) => Diff.Compile((Expr[] x) => [f(x[0])]).Invoke(a)[0];

    public static TheoryData<DType> DTypes => new() { DType.Float32, DType.Float64 };

    [Theory, MemberData(nameof(DTypes))]
    public void BinaryOperatorsMatchTheGraphWithBroadcasting(DType dtype)
    {
        var a = Data(1, dtype, 4, 5);
        var b = Data(2, dtype, 5);
        SameBits(Graph((x, y) => x + y, a, b), a + b);
        SameBits(Graph((x, y) => x - y, a, b), a - b);
        SameBits(Graph((x, y) => x * y, a, b), a * b);
        SameBits(Graph((x, y) => x / y, a, b), a / b);
        SameBits(Graph((x, y) => x.Pow(y), a, b), a.Pow(b));
        SameBits(Graph((x, y) => Expr.Maximum(x, y), a, b), Tensor.Maximum(a, b));
        SameBits(Graph((x, y) => Expr.Minimum(x, y), a, b), Tensor.Minimum(a, b));
        SameBits(Graph((x, y) => x < y, a, b), a < b);
        SameBits(Graph((x, y) => x >= y, a, b), a >= b);
        SameBits(Graph(x => x * 0.1 + 3.0, a), a * 0.1 + 3.0);
        SameBits(Graph(x => 2.0 - x / 7.0, a), 2.0 - a / 7.0);
        SameBits(Graph(x => -x, a), -a);
    }

    [Theory, MemberData(nameof(DTypes))]
    public void UnaryFunctionsMatchTheGraph(DType dtype)
    {
        var a = Data(3, dtype, 3, 7);
        var cases = new (Func<Expr, Expr> Graph, Func<Tensor, Tensor> Eager)[]
        {
            (x => x.Sin(), x => x.Sin()), (x => x.Cos(), x => x.Cos()), (x => x.Tan(), x => x.Tan()),
            (x => x.Exp(), x => x.Exp()), (x => x.Expm1(), x => x.Expm1()), (x => x.Log(), x => x.Log()),
            (x => x.Log1p(), x => x.Log1p()), (x => x.Sqrt(), x => x.Sqrt()), (x => x.Rsqrt(), x => x.Rsqrt()),
            (x => x.Tanh(), x => x.Tanh()), (x => x.Sigmoid(), x => x.Sigmoid()), (x => x.Relu(), x => x.Relu()),
            (x => x.Abs(), x => x.Abs()), (x => x.Sign(), x => x.Sign()), (x => x.Square(), x => x.Square()),
            (x => x.Reciprocal(), x => x.Reciprocal()), (x => x.Erf(), x => x.Erf()), (x => x.Floor(), x => x.Floor()),
            (x => x.Ceil(), x => x.Ceil()), (x => x.Round(), x => x.Round()),
        };
        foreach (var (graph, eager) in cases) SameBits(Graph(graph, a), eager(a));
    }

    [Theory, MemberData(nameof(DTypes))]
    public void TorchConveniencesMatchTheGraph(DType dtype)
    {
        var a = Data(6, dtype, 4, 3, 5);
        SameBits(Graph(x => 1.0 < x, a), 1.0 < a);
        SameBits(Graph(x => 1.0 >= x, a), 1.0 >= a);
        SameBits(Graph(x => x.Eq(a.Row(0)), a), a.Eq(a.Row(0)));
        SameBits(Graph(x => x.Ne(1.0), a), a.Ne(1.0));
        SameBits(Graph(x => Expr.Maximum(x, 1.0), a), Tensor.Maximum(a, 1.0));
        SameBits(Graph(x => Expr.Minimum(1.0, x), a), Tensor.Minimum(1.0, a));
        SameBits(Graph(x => x.Clamp(0.5, 1.5), a), a.Clamp(0.5, 1.5));
        SameBits(Graph(x => x.ArgMin(-1, keepDims: true), a), a.ArgMin(-1, keepDims: true));
        SameBits(Graph(x => x.ArgMin(), a), a.ArgMin());
        SameBits(Graph(x => x.ArgMax(), a), a.ArgMax());
        SameBits(Graph(x => x.Max([0, 2]), a), a.Max([0, 2]));
        SameBits(Graph(x => x.Min([-1, 1], keepDims: true), a), a.Min([-1, 1], keepDims: true));
        SameBits(Graph(x => x.Prod([0, 1]), a), a.Prod([0, 1]));
    }

    [Theory, MemberData(nameof(DTypes))]
    public void ReductionsMatrixProductAndStructureMatchTheGraph(DType dtype)
    {
        var a = Data(4, dtype, 6, 5);
        var b = Data(5, dtype, 5, 3);
        SameBits(Graph((x, y) => x.MatMul(y), a, b), a.MatMul(b));
        SameBits(Graph(x => x.Sum(), a), a.Sum());
        SameBits(Graph(x => x.Sum(0), a), a.Sum(0));
        SameBits(Graph(x => x.Mean(1, keepDims: true), a), a.Mean(1, keepDims: true));
        SameBits(Graph(x => x.Max(0), a), a.Max(0));
        SameBits(Graph(x => x.Min(), a), a.Min());
        SameBits(Graph(x => x.Prod(1), a), a.Prod(1));
        SameBits(Graph(x => x.ArgMax(1), a), a.ArgMax(1));
        SameBits(Graph(x => x.Transpose(), a), a.Transpose());
        SameBits(Graph(x => x.Reshape(3, -1), a), a.Reshape(3, -1));
        SameBits(Graph(x => x.Slice(0, 1, 5, 2), a), a.Slice(0, 1, 5, 2));
        // views (a transpose, a slice) as operands of the product
        var c = Data(6, dtype, 6, 5);
        SameBits(Graph((x, y) => x.Transpose().MatMul(y.Slice(1, 0, 3)).Sum(1), a, c), a.Transpose().MatMul(c.Slice(1, 0, 3)).Sum(1));
    }

    [Fact]
    public void MixedDtypesPromoteAndScalarsTakeTheTensorsDtype()
    {
        var f = Data(7, DType.Float32, 3);
        var d = Data(8, DType.Float64, 3);
        Assert.Equal(DType.Float64, (f + d).DType);
        Assert.Equal(DType.Float32, (f * 0.1).DType);
        // the scalar is rounded to float32 first, as a Python float meeting a float32 tensor in torch
        var expected = f.ToSingleArray().Select(v => v * 0.1f).ToArray();
        Assert.Equal(expected, (f * 0.1).ToSingleArray());
    }

    [Fact]
    public void IndexersSliceRowsAndColumnsAsPythonDoes()
    {
        var m = Tensor.Arange(0, 20).Reshape(4, 5);
        // reference: m[i, j] = 5 i + j
        Assert.Equal(new[] { 10.0, 11, 12, 13, 14, 15, 16, 17, 18, 19 }, m[2..].ToDoubleArray());
        Assert.Equal(new[] { 15.0, 16, 17, 18, 19 }, m[^1..].ToDoubleArray());
        Assert.Equal(new[] { 1.0, 2, 6, 7 }, m[..2, 1..3].ToDoubleArray());
        Assert.Equal(new[] { 2, 2 }, m[..2, 1..3].Shape);
        Assert.Equal(new[] { 5.0, 6, 7, 8, 9 }, m.Row(1).ToDoubleArray());
        Assert.Equal(new[] { 5 }, m.Row(-3).Shape);
        Assert.Equal(7.0, m[1, 2]);
        Assert.ThrowsAny<ArgumentException>(() => m.Row(4));
        Assert.Equal(new[] { 15.0, 16, 17, 18, 19, 0, 1, 2, 3, 4 }, m.TakeRows(3, 0).ToDoubleArray());
    }

    [Fact]
    public void ShapeErrorsNameTheOperationAndShapes()
    {
        var a = Tensor.Zeros([2, 3]);
        var b = Tensor.Zeros([4]);
        var add = Assert.ThrowsAny<ArgumentException>(() => a + b);
        Assert.Contains("[2,3]", add.Message);
        Assert.Contains("[4]", add.Message);
        var mm = Assert.ThrowsAny<ArgumentException>(() => a.MatMul(b));
        Assert.StartsWith("MatMul", mm.Message);
    }

    [Fact]
    public void EagerResultsAreNewTensorsAndInputsStayUnchanged()
    {
        var a = Tensor.FromArray(new[] { 1.0, 2.0 });
        var before = a.ToDoubleArray();
        var b = a * 3.0 - 1.0;
        Assert.Equal(before, a.ToDoubleArray());
        Assert.Equal(new[] { 2.0, 5.0 }, b.ToDoubleArray());
    }
}
