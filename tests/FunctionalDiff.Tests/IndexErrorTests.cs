using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// An index outside its axis, given as a Tensor, is reported by the public method that received it
/// (IndexSelect, Embedding), with the offending value, its position and the shapes, not by the gather
/// the method is built on.
/// </summary>
public class IndexErrorTests
{
    static readonly Expr Matrix = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 3, 4);

    [Theory]
    [InlineData(0, 3.0, "3")]
    [InlineData(-1, 4.0, "4")]
    [InlineData(0, -1.0, "-1")]
    [InlineData(1, 0.5, "0.5")]
    public void IndexSelectNamesItselfTheIndexAndTheShapes(int axis, double bad, string shown)
    {
        Expr index = Tensor.FromArray(new[] { 0.0, bad });
        var e = Assert.ThrowsAny<ArgumentException>(() => Matrix.IndexSelect(axis, index).Eval());
        Assert.StartsWith("IndexSelect: ", e.Message);
        Assert.Contains($"index {shown} ", e.Message);
        Assert.Contains("[3,4]", e.Message);
    }

    [Fact]
    public void EmbeddingNamesItselfTheRowAndTheTable()
    {
        Expr indices = Tensor.FromArray(new[] { 0.0, 1.0, 2.0, 5.0 }, 2, 2);
        var e = Assert.ThrowsAny<ArgumentException>(() => Expr.Embedding(indices, Matrix).Eval());
        Assert.StartsWith("Embedding: ", e.Message);
        Assert.Contains("index 5 ", e.Message);
        Assert.Contains("[3,4]", e.Message);
    }

    [Fact]
    public void IndicesInsideTheirAxisStillSelect()
    {
        Expr index = Tensor.FromArray(new[] { 2.0, 2.0, 0.0 });
        Assert.Equal(new[] { 8.0, 9.0, 10.0, 11.0, 8.0, 9.0, 10.0, 11.0, 0.0, 1.0, 2.0, 3.0 },
            Matrix.IndexSelect(0, index).Eval().ToDoubleArray());
        Assert.Equal(new[] { 4.0, 5.0, 6.0, 7.0 }, Expr.Embedding(Tensor.FromArray(new[] { 1.0 }), Matrix).Eval().ToDoubleArray());
    }
}

/// <summary>
/// One-hot codes of a class outside [0, classes) and running sums along an axis a rank-0 tensor does not
/// have raise as torch does, instead of giving a row of zeros or the input back.
/// </summary>
public class OneHotAndScanErrorTests
{
    [Theory]
    [InlineData(3.0, "3")]
    [InlineData(-1.0, "-1")]
    [InlineData(1.5, "1.5")]
    public void OneHotOfAClassOutsideTheRangeRaises(double bad, string shown)
    {
        Expr indices = Tensor.FromArray(new[] { 0.0, bad });
        var e = Assert.ThrowsAny<ArgumentException>(() => indices.OneHot(3).Eval());
        Assert.StartsWith("OneHot: ", e.Message);
        Assert.Contains($"index {shown} ", e.Message);
        Assert.Contains("3 classes", e.Message);
    }

    [Fact]
    public void OneHotInsideTheRangeIsUnchanged()
    {
        Expr indices = Tensor.FromArray(new[] { 2.0, 0.0 });
        Assert.Equal(new[] { 0.0, 0.0, 1.0, 1.0, 0.0, 0.0 }, indices.OneHot(3).Eval().ToDoubleArray());
    }

    [Fact]
    public void ScansOfARank0TensorTakeAxis0OrMinus1Only()
    {
        Expr x = Tensor.Scalar(3.0);
        Assert.Equal(3.0, x.Cumsum(0).Eval().ToScalar());
        Assert.Equal(3.0, x.Cumprod(-1).Eval().ToScalar());
        Assert.StartsWith("Cumsum: ", Assert.ThrowsAny<ArgumentException>(() => x.Cumsum(1)).Message);
        Assert.StartsWith("Cumprod: ", Assert.ThrowsAny<ArgumentException>(() => x.Cumprod(-2)).Message);
    }
}

/// <summary>
/// An index computed in the graph, or passed to a compiled function, is checked when the plan runs, by the
/// gather kernel: its message names the source and index shapes and the public ops that gather through it.
/// </summary>
public class RuntimeIndexErrorTests
{
    [Fact]
    public void ACompiledEmbeddingWithARowOutOfRangeNamesTheShapesAndTheCallers()
    {
        var weight = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 3, 4);
        var lookup = Diff.Compile((Expr[] p) => new[] { Expr.Embedding(p[1], p[0]) });
        Assert.Equal(new[] { 8.0, 9.0, 10.0, 11.0 }, lookup.Invoke(weight, Tensor.FromArray(new[] { 2.0 }))[0].ToDoubleArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => lookup.Invoke(weight, Tensor.FromArray(new[] { 0.0, 3.0 })));
        Assert.Contains("index 3 ", e.Message);
        Assert.Contains("[3,4]", e.Message);
        Assert.Contains("Embedding", e.Message);
        Assert.Contains("IndexSelect", e.Message);
    }

    [Fact]
    public void OneHotOfComputedIndicesRaisesWhenItRunsAsTorchDoes_CompiledAndVmapped()
    {
        // ⌊x⌋ is computed in the graph, so it is checked when the plan runs (a row of zeros before, which disagreed with the
        // eager evaluation of the same program at constant inputs, and with torch)
        var codes = Diff.Compile((Expr[] p) => new[] { p[0].Floor().OneHot(3) });
        Assert.Equal(new[] { 1.0, 0, 0, 0, 0, 1, 0, 1, 0 }, codes.Invoke(Tensor.FromArray(new[] { 0.4, 2.9, 1.0 }))[0].ToDoubleArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => codes.Invoke(Tensor.FromArray(new[] { 0.4, 3.5 })));
        Assert.Contains("index 3 ", e.Message);
        Assert.Contains("OneHot", e.Message);
        var batched = Diff.Vmap(x => x.Floor().OneHot(2));
        Assert.Equal(new[] { 1.0, 0, 0, 1 }, batched(Tensor.FromArray(new[] { 0.5, 1.5 }, 2, 1)).Eval().ToDoubleArray());
        Assert.ThrowsAny<ArgumentException>(() => batched(Tensor.FromArray(new[] { 0.5, 2.5 }, 2, 1)).Eval());
    }
}
