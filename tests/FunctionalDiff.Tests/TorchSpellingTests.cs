using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The torch spellings a porting user writes first: Reshape(-1, n), t.T and t.mT, expand, repeat, masked_fill,
/// chunk and split on values, clone, and t[.., j] / t[i, a..b]. Every value against a loop over the indices written
/// here, every derivative against central differences in float64.
/// </summary>
public class TorchSpellingTests
{
    static Tensor Numbered(params int[] shape) =>
        Tensor.FromArray(Enumerable.Range(0, shape.Aggregate(1, (a, b) => a * b)).Select(i => 0.5 + 0.37 * i - 0.01 * i * i).ToArray(), shape);

    [Fact]
    public void ReshapeInfersTheAxisGivenAsMinusOne()
    {
        var t = Tensor.Arange(12);
        Assert.Equal(new[] { 3, 4 }, t.Reshape(-1, 4).Shape);
        Assert.Equal(new[] { 2, 6 }, ((Expr)t).Reshape(2, -1).Shape);
        Assert.Equal(t.ToArray(), t.Reshape(-1, 4).ToArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => t.Reshape(-1, 5));
        Assert.Contains("Reshape", e.Message);
        Assert.Contains("[12]", e.Message);
    }

    [Fact]
    public void TReversesEveryAxisAndMTSwapsTheLastTwo()
    {
        var x = Numbered(2, 3, 4);
        var t = x.T.ToArray();
        var mt = x.MT.ToArray();
        var et = ((Expr)x).T.Eval();
        var emt = ((Expr)x).MT.Eval();
        Assert.Equal(new[] { 4, 3, 2 }, x.T.Shape);
        Assert.Equal(new[] { 2, 4, 3 }, emt.Shape);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int k = 0; k < 4; k++)
                {
                    double v = x[i, j, k];
                    Assert.Equal(v, t[(k * 3 + j) * 2 + i]);
                    Assert.Equal(v, mt[(i * 4 + k) * 3 + j]);
                    Assert.Equal(v, et[k, j, i]);
                    Assert.Equal(v, emt[i, k, j]);
                }
        var e = Assert.ThrowsAny<ArgumentException>(() => Tensor.Ones(3).MT);
        Assert.Contains("MT", e.Message);
        Assert.Contains("[3]", e.Message);
    }

    [Fact]
    public void ExpandKeepsMinusOneAxesAndAddsLeadingOnes()
    {
        var x = Numbered(3, 1);
        var y = x.Expand(2, -1, 4);
        Assert.Equal(new[] { 2, 3, 4 }, y.Shape);
        for (int a = 0; a < 2; a++)
            for (int i = 0; i < 3; i++)
                for (int k = 0; k < 4; k++)
                    Assert.Equal(x[i, 0], y[a, i, k]);
        var e = Assert.ThrowsAny<ArgumentException>(() => x.Expand(5, 4));
        Assert.Contains("Expand", e.Message);
        Assert.Contains("[3,1]", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => x.Expand(-1, 3, 1));
    }

    [Fact]
    public void RepeatTilesAsTorchAndItsGradientSumsTheCopies()
    {
        var x = Numbered(2, 3);
        var y = x.Repeat(2, 1, 2);
        Assert.Equal(new[] { 2, 2, 6 }, y.Shape);
        for (int a = 0; a < 2; a++)
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 6; j++)
                    Assert.Equal(x[i, j % 3], y[a, i, j]);

        // f(x) = Σ w ⊙ sin(repeat(x, 2, 2)), whose gradient is Σ over the four copies of w·cos
        var w = Numbered(4, 6) * 0.1;
        Expr F(Expr v) => (w * v.Repeat(2, 2).Sin()).Sum();
        var gradient = Diff.Grad(F)(x).Eval().ToArray();
        var numeric = TestSupport.Gradient(v => F(Tensor.FromArray(v, 2, 3)).Eval().Item(), x.ToArray());
        for (int k = 0; k < 6; k++) Assert.Equal(numeric[k], gradient[k], 1e-8);
        var e = Assert.ThrowsAny<ArgumentException>(() => x.Repeat(2));
        Assert.Contains("Repeat", e.Message);
        Assert.Contains("[2,3]", e.Message);
    }

    [Fact]
    public void MaskedFillFillsWhereTheMaskIsSetAndPassesTheGradientElsewhere()
    {
        var x = Numbered(3, 4) - 1.0;
        var filled = x.MaskedFill(x > 0.0, -7.0).ToArray();
        var values = x.ToArray();
        for (int k = 0; k < values.Length; k++) Assert.Equal(values[k] > 0 ? -7.0 : values[k], filled[k]);

        var mask = Tensor.FromArray(new[] { 1.0, 0.0, 0.0, 1.0 });   // broadcast along the rows
        Expr F(Expr v) => v.MaskedFill(mask, 2.0).Square().Sum();
        var gradient = Diff.Grad(F)(x).Eval().ToArray();
        var numeric = TestSupport.Gradient(v => F(Tensor.FromArray(v, 3, 4)).Eval().Item(), values);
        for (int k = 0; k < values.Length; k++) Assert.Equal(numeric[k], gradient[k], 1e-7);
        var e = Assert.ThrowsAny<ArgumentException>(() => x.MaskedFill(Tensor.Ones(3), 0.0));
        Assert.Contains("MaskedFill", e.Message);
    }

    [Fact]
    public void ChunkAndSplitOnValuesMatchTorchsPieces()
    {
        var x = Numbered(5, 2);
        var chunks = x.Chunk(4);
        Assert.Equal(new[] { 2, 2, 1 }, chunks.Select(c => c.Shape[0]));
        var split = x.Split(new[] { 1, 4 });
        Assert.Equal(new[] { 1, 4 }, split.Select(c => c.Shape[0]));
        var columns = x.Split(1, axis: 1);
        Assert.Equal(2, columns.Length);
        for (int i = 0; i < 5; i++)
        {
            var piece = chunks[i / 2];
            Assert.Equal(x[i, 1], piece[i % 2, 1]);
            Assert.Equal(x[i, 1], i == 0 ? split[0][0, 1] : split[1][i - 1, 1]);
            Assert.Equal(x[i, 1], columns[1][i, 0]);
        }
        var e = Assert.ThrowsAny<ArgumentException>(() => x.Split(new[] { 2, 2 }));
        Assert.Contains("Split", e.Message);
        Assert.Contains("[5,2]", e.Message);
    }

    [Fact]
    public void CloneHasItsOwnMemory()
    {
        // small, so its array is the GC's, never the pool's: the pool's tests count its bytes in parallel with this one
        var x = Numbered(40, 30);
        var expected = x.ToArray();
        var copy = x.Clone();
        var view = x.Reshape(-1).Clone();
        x.Dispose();
        Assert.Equal(expected, copy.ToArray());
        Assert.Equal(expected, view.ToArray());
        Assert.Equal(new[] { 40, 30 }, copy.Shape);
        var symbolic = (Expr)Numbered(2, 2);
        Assert.Same(symbolic, symbolic.Clone());        // immutable: the same node
    }

    [Fact]
    public void IndexersTakeAColumnOrARangeOfARow()
    {
        var x = Numbered(4, 5);
        var column = x[.., 2];
        Assert.Equal(new[] { 4 }, column.Shape);
        for (int i = 0; i < 4; i++) Assert.Equal(x[i, 2], column[i]);
        var lastColumnOfTail = x[2.., -1];
        Assert.Equal(new[] { x[2, 4], x[3, 4] }, lastColumnOfTail.ToArray());
        var part = x[1, 1..3];
        Assert.Equal(new[] { x[1, 1], x[1, 2] }, part.ToArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => x[.., 5]);
        Assert.Contains("column 5", e.Message);
        Assert.Contains("[4,5]", e.Message);
    }
}
