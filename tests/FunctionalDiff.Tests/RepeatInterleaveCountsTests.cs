using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch's <c>x.repeat_interleave(repeats_tensor, dim)</c>: entry i along the axis repeated repeats[i] times in a row,
/// held to a loop that writes the copies, and its derivative to the sum over each entry's copies.
/// </summary>
public class RepeatInterleaveCountsTests
{
    /// <summary>The result by its definition, for x of shape [rows, columns] along `axis`.</summary>
    static double[] Loop(double[] x, int rows, int columns, int[] repeats, int axis)
    {
        var result = new List<double>();
        if (axis == 0)
        {
            for (int i = 0; i < rows; i++)
                for (int c = 0; c < repeats[i]; c++)
                    for (int j = 0; j < columns; j++) result.Add(x[i * columns + j]);
        }
        else
        {
            for (int i = 0; i < rows; i++)
                for (int j = 0; j < columns; j++)
                    for (int c = 0; c < repeats[j]; c++) result.Add(x[i * columns + j]);
        }
        return [.. result];
    }

    [Theory]
    [InlineData(0, new[] { 2, 0, 3 })]
    [InlineData(1, new[] { 1, 3, 0, 2 })]
    [InlineData(-1, new[] { 0, 0, 0, 0 })]
    public void EntriesRepeatByTheirCountsAndTheDerivativeSumsTheCopies(int axis, int[] repeats)
    {
        var x = T([3, 4]);
        int a = axis < 0 ? axis + 2 : axis;
        double[] expected = Loop(x.ToDoubleArray(), 3, 4, repeats, a);
        foreach (var counts in new Func<Expr>[] { () => x.RepeatInterleave(Tensor.FromArray(repeats.Select(r => (double)r).ToArray()), axis), () => ((Expr)x).RepeatInterleave(repeats, axis) })
        {
            var y = counts().Eval();
            Assert.Equal(expected, y.ToDoubleArray());
            int total = repeats.Sum();
            Assert.Equal(a == 0 ? new[] { total, 4 } : new[] { 3, total }, y.Shape);
        }
        // d/dx Σ w·y: each entry's weight summed over its copies, and float32 the same values
        var w = Values(expected.Length, 3);
        Func<Expr, Expr> f = v => (v.RepeatInterleave(Tensor.FromArray(repeats.Select(r => (double)r).ToArray()), axis).Flatten() * Tensor.FromArray(w)).Sum();
        var g = new double[12];
        var copies = Loop(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 3, 4, repeats, a);
        for (int k = 0; k < copies.Length; k++) g[(int)copies[k]] += w[k];
        Close(g, Diff.Grad(f)(x).Eval().ToDoubleArray(), 1e-12, "gradient");
        Assert.Equal(expected.Select(v => (double)(float)v).ToArray(), x.Cast(DType.Float32).RepeatInterleave(Tensor.FromArray(repeats.Select(r => (double)r).ToArray()), axis).ToDoubleArray());
    }

    [Fact]
    public void OneCountServesEveryEntryAndTheFlatFormFlattensFirst()
    {
        var x = T([2, 3]);
        Assert.Equal(x.RepeatInterleave(2, 1).ToDoubleArray(), x.RepeatInterleave(Tensor.FromArray(new[] { 2.0 }), 1).ToDoubleArray());
        var flat = ((Expr)x).RepeatInterleave(Tensor.FromArray(new[] { 1.0, 0, 2, 1, 0, 1 })).Eval();
        var v = x.ToDoubleArray();
        Assert.Equal(new[] { v[0], v[2], v[2], v[3], v[5] }, flat.ToDoubleArray());
    }

    [Fact]
    public void CountsThatAreNotOnePerEntryOrNotWholeRaiseNamingTheOp()
    {
        var x = (Expr)T([3, 4]);
        foreach (var bad in new[] { new[] { 1.0, 2.0 }, new[] { 1.0, -1.0, 2.0 }, new[] { 1.0, 1.5, 2.0 }, new[] { 1.0, double.NaN, 2.0 } })
        {
            var e = Assert.ThrowsAny<ArgumentException>(() => x.RepeatInterleave(Tensor.FromArray(bad), 0));
            Assert.StartsWith("RepeatInterleave: ", e.Message);
            Assert.Contains("[3,4]", e.Message);
        }
    }
}
