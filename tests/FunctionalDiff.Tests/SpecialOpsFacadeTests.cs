using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The facade of issue 15's special, statistics and indexing ops: named results, optional bounds,
/// nesting through the C# API, and errors that name the method, the parameter and the shapes.
/// </summary>
public class SpecialOpsFacadeTests
{
    [Fact]
    public void SortAndTopKReturnNamedValuesAndIndices()
    {
        Expr x = Tensor.FromArray(new[] { 3.0, -1.0, 2.0, 5.0 });
        var (values, indices) = x.Sort(descending: true);
        Assert.Equal(new[] { 5.0, 3.0, 2.0, -1.0 }, values.Eval().ToDoubleArray());
        Assert.Equal(new[] { 3.0, 0.0, 2.0, 1.0 }, indices.Eval().ToDoubleArray());
        var top = x.TopK(2, largest: false);
        Assert.Equal(new[] { -1.0, 2.0 }, top.Values.Eval().ToDoubleArray());
        Assert.Equal(new[] { 1.0, 2.0 }, top.Indices.Eval().ToDoubleArray());
        // the gradient of the top values reaches the entries they came from, and nothing else
        var g = Diff.Grad(v => v.TopK(2).Values.Sum())(x).Eval().ToDoubleArray();
        Assert.Equal(new[] { 1.0, 0.0, 0.0, 1.0 }, g);
    }

    [Fact]
    public void DerivativesOfDigammaArePolygammaThroughTheFacade()
    {
        Expr one = Tensor.FromArray(new[] { 1.0 });
        var trigamma = Diff.Grad(x => x.Digamma().Sum())(one).Eval().ToDoubleArray()[0];
        var second = Diff.Grad(y => Diff.Grad(x => x.Digamma().Sum())(y).Sum())(one).Eval().ToDoubleArray()[0];
        Close(Math.PI * Math.PI / 6, trigamma, 1e-13, "ψ'(1) = π²/6");
        Close(-2 * 1.2020569031595942, second, 1e-13, "ψ''(1) = -2ζ(3)");
    }

    [Fact]
    public void ClampWithOneBoundAndTheGradientAtTheBound()
    {
        Expr x = Tensor.FromArray(new[] { -2.0, 0.5, 1.0 });
        Assert.Equal(new[] { 0.5, 0.5, 1.0 }, x.Clamp(0.5, null).Eval().ToDoubleArray());
        Assert.Equal(new[] { -2.0, 0.5, 1.0 }, x.Clamp(null, 1.0).Eval().ToDoubleArray());
        Assert.Equal(new[] { 0.0, 1.0, 1.0 }, Diff.Grad(v => v.Clamp(0.5, null).Sum())(x).Eval().ToDoubleArray());
    }

    [Fact]
    public void EinsumWithTwoOperandsIsTheMatrixProduct()
    {
        var a = T(new[] { 2, 3 }, 1);
        var b = T(new[] { 3, 4 }, 2);
        // a reference loop, not our MatMul: einsum lowers to the same product, so that would compare it with itself
        double[] av = a.ToDoubleArray(), bv = b.ToDoubleArray();
        var expected = (from i in Enumerable.Range(0, 2) from k in Enumerable.Range(0, 4)
                        select Enumerable.Range(0, 3).Sum(j => av[i * 3 + j] * bv[j * 4 + k])).ToArray();
        Close(expected, Expr.Einsum("ij,jk->ik", a, b).Eval().ToDoubleArray(), 1e-14, "einsum");
    }

    [Fact]
    public void ErrorsNameTheMethodTheParameterAndTheShapes()
    {
        Expr m = Tensor.Ones(new[] { 3, 4 });
        var operands = Assert.Throws<ArgumentException>(() => Expr.Einsum("i->"));
        Assert.Equal("operands", operands.ParamName);
        Assert.StartsWith("Einsum: ", operands.Message);
        var shapes = Assert.ThrowsAny<ArgumentException>(() => Expr.Einsum("ij,jk->ik", m, Tensor.Ones(new[] { 5, 2 })));
        Assert.StartsWith("Einsum: ", shapes.Message);
        Assert.Contains("[3,4]", shapes.Message);
        Assert.StartsWith("TopK: ", Assert.ThrowsAny<ArgumentException>(() => m.TopK(5)).Message);
        Assert.StartsWith("IndexSelect: ", Assert.ThrowsAny<ArgumentException>(() => m.IndexSelect(0, m)).Message);
        Assert.StartsWith("Norm: ", Assert.ThrowsAny<ArgumentException>(() => m.Norm(double.NaN)).Message);
        Assert.Equal("index", Assert.Throws<ArgumentNullException>(() => m.IndexSelect(0, null!)).ParamName);
        Assert.Equal("weight", Assert.Throws<ArgumentNullException>(() => Expr.Embedding(m, null!)).ParamName);
        Assert.Equal("equation", Assert.Throws<ArgumentNullException>(() => Expr.Einsum(null!, m)).ParamName);
    }
}
