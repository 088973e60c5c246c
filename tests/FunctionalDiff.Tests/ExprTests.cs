using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>Expr values against loops and closed forms: operators, dtypes, elementwise functions, inspection.</summary>
public class ExprTests
{
    static readonly Tensor A = T(new[] { 2, 3 }, 0);
    static readonly Tensor B = T(new[] { 3 }, 5);

    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    [Fact]
    public void ArithmeticBroadcastsLikeNumPy()
    {
        var a = A.ToDoubleArray();
        var b = B.ToDoubleArray();
        double[] Loop(Func<double, double, double> op) => Enumerable.Range(0, 6).Select(i => op(a[i], b[i % 3])).ToArray();
        Close(Loop((x, y) => x + y), V((Expr)A + B), 1e-15);
        Close(Loop((x, y) => x - y), V((Expr)A - B), 1e-15);
        Close(Loop((x, y) => x * y), V((Expr)A * B), 1e-15);
        Close(Loop((x, y) => x / y), V((Expr)A / B), 1e-15);
        Close(a.Select(x => -x).ToArray(), V(-(Expr)A), 0);
        Close(a.Select(x => 2 * x + 1).ToArray(), V(2.0 * (Expr)A + 1.0), 1e-15);
        Close(a.Select(x => 1 - x / 4).ToArray(), V(1.0 - (Expr)A / 4), 1e-15);
        Assert.Equal(new[] { 2, 3 }, ((Expr)A + B).Shape);
    }

    [Fact]
    public void ComparisonsAreMasksInTheOperandDType()
    {
        var a = A.ToDoubleArray();
        var b = B.ToDoubleArray();
        double[] Mask(Func<double, double, bool> p) => Enumerable.Range(0, 6).Select(i => p(a[i], b[i % 3]) ? 1.0 : 0.0).ToArray();
        Expr x = A, y = B;
        Assert.Equal(Mask((p, q) => p < q), V(x < y));
        Assert.Equal(Mask((p, q) => p > q), V(x > y));
        Assert.Equal(Mask((p, q) => p <= q), V(x <= y));
        Assert.Equal(Mask((p, q) => p >= q), V(x >= y));
        Assert.Equal(Mask((p, q) => p < q), V(x.Lt(y)));
        Assert.Equal(Mask((p, q) => p <= q), V(x.Le(y)));
        Assert.Equal(Mask((p, q) => p > q), V(x.Gt(y)));
        Assert.Equal(Mask((p, q) => p >= q), V(x.Ge(y)));
        Expr r = Tensor.FromArray(new[] { 1.0, 2, 3 });
        Assert.Equal(new[] { 0.0, 1, 0 }, V(r.Eq(2.0)));
        Assert.Equal(new[] { 1.0, 0, 1 }, V(r.Ne(2.0)));
        Expr f = Tensor.FromArray(new[] { 1f, 2f });
        Assert.Equal(DType.Float32, (f > 1.5).DType);
    }

    [Fact]
    public void DoubleLiteralsTakeTheTensorDTypeAndFloat32MeetingFloat64Promotes()
    {
        Expr f = Tensor.FromArray(new[] { 1f, 2f });
        Expr d = Tensor.FromArray(new[] { 1.0, 2.0 });
        Assert.Equal(DType.Float32, (f * 2.0).DType);
        Assert.Equal(DType.Float32, (2.0 - f).DType);
        Assert.Equal(DType.Float32, f.Pow(2.0).DType);
        Assert.Equal(DType.Float32, Expr.Maximum(f, 0.0).DType);
        Assert.Equal(DType.Float32, Expr.Where(f > 1.0, f, 0.0).DType);
        Assert.Equal(DType.Float64, (f + d).DType);
        Assert.Equal(DType.Float64, f.MatMul(d).DType);
        Assert.Equal(DType.Float64, ((Expr)2.0).DType);
        // 0.1 rounds to float32 when it meets a float32 tensor, as torch does
        Assert.Equal(new[] { 1f + 0.1f, 2f + 0.1f }, (f + 0.1).Eval().ToSingleArray());
    }

    public static IEnumerable<object[]> UnaryCases() => new (string, Func<Expr, Expr>, Func<double, double>, double[])[]
    {
        ("sin", x => x.Sin(), Math.Sin, Normal),
        ("cos", x => x.Cos(), Math.Cos, Normal),
        ("tan", x => x.Tan(), Math.Tan, Unit),
        ("exp", x => x.Exp(), Math.Exp, Normal),
        ("expm1", x => x.Expm1(), v => Math.Exp(v) - 1, Normal),
        ("log", x => x.Log(), Math.Log, Positive),
        ("log1p", x => x.Log1p(), v => Math.Log(1 + v), Positive),
        ("sqrt", x => x.Sqrt(), Math.Sqrt, Positive),
        ("rsqrt", x => x.Rsqrt(), v => 1 / Math.Sqrt(v), Positive),
        ("tanh", x => x.Tanh(), Math.Tanh, Normal),
        ("sigmoid", x => x.Sigmoid(), v => 1 / (1 + Math.Exp(-v)), Normal),
        ("relu", x => x.Relu(), v => Math.Max(v, 0), Normal),
        ("softplus", x => x.Softplus(), v => Math.Log(1 + Math.Exp(v)), Normal),
        ("abs", x => x.Abs(), Math.Abs, Normal),
        ("sign", x => x.Sign(), v => Math.Sign(v), Normal),
        ("square", x => x.Square(), v => v * v, Normal),
        ("reciprocal", x => x.Reciprocal(), v => 1 / v, Positive),
        ("erf", x => x.Erf(), ErfReference, Normal),
        ("floor", x => x.Floor(), Math.Floor, Normal),
        ("ceil", x => x.Ceil(), Math.Ceiling, Normal),
        ("round", x => x.Round(), v => Math.Round(v, MidpointRounding.ToEven), Halves),
        ("neg", x => -x, v => -v, Normal),
        ("stopGradient", x => x.StopGradient(), v => v, Normal),
    }.Select(c => new object[] { c.Item1, c.Item2, c.Item3, c.Item4 });

    static readonly double[] Normal = Values(7);
    static readonly double[] Unit = Values(7).Select(v => v / 2).ToArray();
    static readonly double[] Positive = Values(7).Select(v => 0.5 + Math.Abs(v)).ToArray();
    static readonly double[] Halves = { -2.5, -1.5, -0.5, 0.5, 1.5, 2.5, 0.7 };

    /// <summary>erf by its Maclaurin series, exact to rounding for |x| ≤ 1.5 with 40 terms.</summary>
    static double ErfReference(double x)
    {
        double sum = 0, term = x;
        for (int n = 0; n < 40; n++)
        {
            sum += term / (2 * n + 1);
            term *= -x * x / (n + 1);
        }
        return 2 / Math.Sqrt(Math.PI) * sum;
    }

    [Theory]
    [MemberData(nameof(UnaryCases))]
    public void UnaryFunctionsMatchTheirDefinitions(string name, Func<Expr, Expr> f, Func<double, double> reference, double[] points)
    {
        var expected = points.Select(reference).ToArray();
        Close(expected, V(f(Tensor.FromArray(points))), 1e-13, name);
        // and in float32, to float32 precision (relative 1e-6 allows a few ulps of 6e-8)
        var single = f(Tensor.FromArray(points.Select(p => (float)p).ToArray())).Eval();
        Assert.Equal(DType.Float32, single.DType);
        Close(points.Select(p => reference((float)p)).ToArray(), single.ToDoubleArray(), 1e-6, name + " float32");
    }

    [Fact]
    public void BinaryFunctionsMatchTheirDefinitions()
    {
        var a = Values(5).Select(v => 0.5 + Math.Abs(v)).ToArray();
        var b = Values(5, 3);
        Expr x = Tensor.FromArray(a), y = Tensor.FromArray(b);
        Close(a.Zip(b, Math.Pow).ToArray(), V(x.Pow(y)), 1e-14);
        Close(a.Zip(b, Math.Max).ToArray(), V(Expr.Maximum(x, y)), 0);
        Close(a.Zip(b, Math.Min).ToArray(), V(Expr.Minimum(x, y)), 0);
        Close(b.Zip(a, Math.Atan2).ToArray(), V(Expr.Atan2(y, x)), 1e-15);
        Close(a.Zip(b, (p, q) => p > 1 ? p : q).ToArray(), V(Expr.Where(x > 1.0, x, y)), 0);
    }

    [Fact]
    public void CastChangesTheDTypeAndRounds()
    {
        Expr x = Tensor.FromArray(new[] { 0.1, 0.2 });
        var f = x.Cast(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(new[] { 0.1f, 0.2f }, f.Eval().ToSingleArray());
    }

    [Fact]
    public void NodesAreSharedAndInspectable()
    {
        Expr a = A, b = B;
        var sum = a + b;
        Assert.Same(sum, a + b);   // hash-consing: the same graph built twice is one node
        Assert.True(sum == a + b);
        Assert.False(sum == a - b);
        Assert.Equal("add", sum.Op);
        Assert.Equal(2, sum.Inputs.Count);
        Assert.Same(a, sum.Inputs[0]);
        Assert.Equal("const", a.Op);
        Assert.Empty(a.Inputs);
        Assert.Equal("sin", a.Sin().Op);
        Assert.Equal("matmul", a.MatMul(b).Op);
        Assert.Equal("reduce_sum", a.Sum(1).Op);
    }

    [Fact]
    public void PrimitiveNamesListEveryPrimitiveOnce()
    {
        var names = Expr.PrimitiveNames;
        Assert.Equal(names.Count, names.Distinct().Count());
        foreach (var expected in new[] { "var", "const", "sin", "log1p", "add", "less_equal", "where", "reduce_sum",
                                         "reduce_prod", "argmax", "matmul", "permute", "gather", "scatter_add", "cast", "stop_gradient", "custom" })
            Assert.Contains(expected, names);
        // every op a built graph reports is in the list
        Expr a = A;
        var graph = Expr.Concat(0, (a.Sin() * 2.0 + a.Transpose().Transpose()).Flip(1), a.Pad(new[] { 0, 0 }, new[] { 0, 1 }).Slice(1, 0, 3));
        var stack = new Stack<Expr>(new[] { graph });
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            Assert.Contains(e.Op, names);
            foreach (var i in e.Inputs) stack.Push(i);
        }
    }

    [Fact]
    public void TextAndDotShowTheGraph()
    {
        var x = (Expr)A;
        var e = (x.Sin() * x).Sum();
        var text = e.ToText();
        Assert.Contains("sin", text);
        Assert.Contains("mul", text);
        Assert.Contains("reduce_sum", text);
        var dot = e.ToDot();
        Assert.StartsWith("digraph", dot);
        Assert.Contains("sin", dot);
        Assert.Contains("->", dot);
    }
}
