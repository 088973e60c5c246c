using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Batch, group and instance norm, logaddexp and the view spellings narrow, movedim, unflatten, tile, amax and amin:
/// values against reference loops written here (torch's formulas), gradients against central finite differences in
/// float64, logaddexp's derivatives at ties against σ's closed form, and errors that name the method and the shapes.
/// </summary>
public class NormalisationAndViewTests
{
    /// <summary>
    /// The reference loop of every norm: x [N, C, S] (S the spatial entries flattened) normalised over the entries whose
    /// (n, c) map to the same group key, with the biased variance, then · w[c] + b[c].
    /// </summary>
    static double[] NormaliseByGroups(double[] x, int n, int c, int s, Func<int, int, int> group, double[] w, double[] b, double epsilon)
    {
        var sums = new Dictionary<int, (double Sum, double Squares, int Count)>();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                for (int k = 0; k < s; k++)
                {
                    var v = x[(i * c + j) * s + k];
                    var key = group(i, j);
                    var (sum, squares, count) = sums.GetValueOrDefault(key);
                    sums[key] = (sum + v, squares, count + 1);
                }
        var means = sums.ToDictionary(kv => kv.Key, kv => kv.Value.Sum / kv.Value.Count);
        var variances = new Dictionary<int, double>();
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                for (int k = 0; k < s; k++)
                {
                    var key = group(i, j);
                    var d = x[(i * c + j) * s + k] - means[key];
                    variances[key] = variances.GetValueOrDefault(key) + d * d / sums[key].Count;
                }
        var y = new double[x.Length];
        for (int i = 0; i < n; i++)
            for (int j = 0; j < c; j++)
                for (int k = 0; k < s; k++)
                {
                    var key = group(i, j);
                    y[(i * c + j) * s + k] = (x[(i * c + j) * s + k] - means[key]) / Math.Sqrt(variances[key] + epsilon) * w[j] + b[j];
                }
        return y;
    }

    static readonly double[] Weight = { 0.5, -1.25, 2.0, 0.75 };
    static readonly double[] Bias = { 0.1, 0.0, -0.3, 1.0 };

    [Fact]
    public void BatchNormMatchesTheLoopOverBatchAndSpatialAxes()
    {
        var x = T(new[] { 3, 4, 2, 3 });
        var y = Nn.BatchNorm(x, Tensor.FromArray(Weight), Tensor.FromArray(Bias)).Eval().ToDoubleArray();
        Close(NormaliseByGroups(x.ToDoubleArray(), 3, 4, 6, (_, j) => j, Weight, Bias, 1e-5), y, 1e-12, "batch norm");
        // rank 2: the statistics are over the batch alone
        var flat = T(new[] { 5, 4 }, salt: 2);
        var ones = new[] { 1.0, 1, 1, 1 };
        var zeros = new double[4];
        Close(NormaliseByGroups(flat.ToDoubleArray(), 5, 4, 1, (_, j) => j, ones, zeros, 1e-3), Nn.BatchNorm(flat, epsilon: 1e-3).Eval().ToDoubleArray(), 1e-12, "rank 2");
    }

    [Fact]
    public void BatchNormGradientMatchesFiniteDifferences()
    {
        var x = T(new[] { 2, 3, 4 }, salt: 1);
        var w = Tensor.FromArray(new[] { 0.7, -0.4, 1.3 });
        Func<Expr, Expr> loss = v => (Nn.BatchNorm(v, w) * Tensor.FromArray(Values(24, salt: 5), 2, 3, 4)).Sum();
        Close(NumericGradient(loss, x), Diff.Grad(loss)(x).Eval().ToDoubleArray(), 1e-6, "d/dx");
        // the batch statistics make every entry of a channel depend on every other: the gradient of Σ y (no weight) is 0
        Close(new double[24], Diff.Grad(v => Nn.BatchNorm(v).Sum())(x).Eval().ToDoubleArray(), 1e-12, "Σ y");
    }

    [Fact]
    public void BatchNormWithStatisticsIsTheClosedForm()
    {
        var x = T(new[] { 2, 3, 2 });
        double[] mean = { 0.3, -0.2, 0.1 }, variance = { 0.5, 1.5, 2.0 }, w = { 2.0, 1.0, -1.0 }, b = { 0.0, 0.5, 0.25 };
        var y = Nn.BatchNormWithStatistics(x, Tensor.FromArray(mean), Tensor.FromArray(variance), Tensor.FromArray(w), Tensor.FromArray(b), 1e-3).Eval().ToDoubleArray();
        var xs = x.ToDoubleArray();
        var expected = xs.Select((v, i) => { int j = i / 2 % 3; return (v - mean[j]) / Math.Sqrt(variance[j] + 1e-3) * w[j] + b[j]; }).ToArray();
        Close(expected, y, 1e-13, "evaluation mode");
    }

    [Fact]
    public void BatchStatisticsAreTheMeanAndUnbiasedVariancePerChannel()
    {
        var x = T(new[] { 3, 2, 4 });
        var (mean, variance) = Nn.BatchStatistics(x);
        var xs = x.ToDoubleArray();
        for (int j = 0; j < 2; j++)
        {
            var entries = Enumerable.Range(0, 3).SelectMany(i => Enumerable.Range(0, 4).Select(k => xs[(i * 2 + j) * 4 + k])).ToArray();
            var m = entries.Average();
            Close(m, mean.Eval().ToDoubleArray()[j], 1e-14, $"mean {j}");
            Close(entries.Sum(v => (v - m) * (v - m)) / (entries.Length - 1), variance.Eval().ToDoubleArray()[j], 1e-14, $"variance {j}");
        }
    }

    [Fact]
    public void GroupAndInstanceNormMatchTheLoop()
    {
        var x = T(new[] { 2, 4, 3 }, salt: 3);
        var y = Nn.GroupNorm(x, 2, Tensor.FromArray(Weight), Tensor.FromArray(Bias)).Eval().ToDoubleArray();
        Close(NormaliseByGroups(x.ToDoubleArray(), 2, 4, 3, (i, j) => i * 2 + j / 2, Weight, Bias, 1e-5), y, 1e-12, "group norm");
        var instance = Nn.InstanceNorm(x, Tensor.FromArray(Weight), Tensor.FromArray(Bias)).Eval().ToDoubleArray();
        Close(NormaliseByGroups(x.ToDoubleArray(), 2, 4, 3, (i, j) => i * 4 + j, Weight, Bias, 1e-5), instance, 1e-12, "instance norm");
        Func<Expr, Expr> loss = v => (Nn.GroupNorm(v, 4) * Tensor.FromArray(Values(24, salt: 7), 2, 4, 3)).Sum();
        Close(NumericGradient(loss, x), Diff.Grad(loss)(x).Eval().ToDoubleArray(), 1e-6, "group norm d/dx");
    }

    [Fact]
    public void NormsNameTheirShapesWhenTheyCannotApply()
    {
        var single = Assert.ThrowsAny<ArgumentException>(() => Nn.BatchNorm(Tensor.Ones(1, 3)));
        Assert.Contains("BatchNorm", single.Message);
        Assert.Contains("[1,3]", single.Message.Replace(" ", ""));
        var groups = Assert.ThrowsAny<ArgumentException>(() => Nn.GroupNorm(Tensor.Ones(2, 6, 2), 4));
        Assert.Contains("GroupNorm", groups.Message);
        Assert.Contains("6", groups.Message);
        var weight = Assert.ThrowsAny<ArgumentException>(() => Nn.BatchNorm(Tensor.Ones(2, 3, 2), Tensor.Ones(4)));
        Assert.Contains("weight", weight.Message);
        Assert.ThrowsAny<ArgumentException>(() => Nn.InstanceNorm(Tensor.Ones(2, 3)));
    }

    [Fact]
    public void LogAddExpIsLogOfTheSumWithoutOverflow()
    {
        double[] a = { 0.5, -2.0, 800.0, -800.0, 1e10, 3.0, double.PositiveInfinity, double.NegativeInfinity, double.PositiveInfinity, double.NaN };
        double[] b = { 0.25, -2.0, 799.0, -801.0, -1e10, double.NegativeInfinity, 1.0, double.NegativeInfinity, double.PositiveInfinity, 1.0 };
        var y = Expr.LogAddExp(Tensor.FromArray(a), Tensor.FromArray(b)).Eval().ToDoubleArray();
        for (int i = 0; i < a.Length; i++)
        {
            double m = Math.Max(a[i], b[i]);
            double expected = double.IsNaN(a[i]) || double.IsNaN(b[i]) ? double.NaN
                : double.IsInfinity(m) && a[i] == b[i] ? a[i]
                : m + Math.Log(1 + Math.Exp(-Math.Abs(a[i] - b[i])));
            if (double.IsNaN(expected) || double.IsInfinity(expected)) Assert.Equal(expected, y[i]);
            else Close(expected, y[i], 1e-15, $"logaddexp({a[i]}, {b[i]})");
        }
    }

    [Fact]
    public void LogAddExpDerivativesAreSigmoidsAlsoAtTies()
    {
        double[] a = { 0.5, -1.0, 3.0 }, b = { 0.5, 2.0, -4.0 };
        var (da, db) = Diff.Grad((Expr x, Expr y) => Expr.LogAddExp(x, y).Sum())(Tensor.FromArray(a), Tensor.FromArray(b));
        var gx = da.Eval().ToDoubleArray();
        var gy = db.Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++)
        {
            double s = 1 / (1 + Math.Exp(b[i] - a[i]));
            Close(s, gx[i], 1e-15, $"d/da at {i}");
            Close(1 - s, gy[i], 1e-15, $"d/db at {i}");
        }
        // the second derivative in a is σ(a − b)σ(b − a): 1/4 at the tie, where a form with |a − b| has a kink and gives 0
        var second = Diff.Grad(x => Diff.Grad(v => Expr.LogAddExp(v, Tensor.FromArray(b)).Sum())(x).Sum())(Tensor.FromArray(a)).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++)
        {
            double s = 1 / (1 + Math.Exp(b[i] - a[i]));
            Close(s * (1 - s), second[i], 1e-14, $"d²/da² at {i}");
        }
    }

    [Fact]
    public void ViewsMatchReferenceLoops()
    {
        var x = T(new[] { 2, 3, 4 });
        var xs = x.ToDoubleArray();
        double At(int i, int j, int k) => xs[(i * 3 + j) * 4 + k];

        var narrow = x.Narrow(2, -3, 2);
        Assert.Equal(new[] { 2, 3, 2 }, narrow.Shape);
        var expectedNarrow = new List<double>();
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 1; k < 3; k++) expectedNarrow.Add(At(i, j, k));
        Assert.Equal(expectedNarrow, narrow.ToDoubleArray());

        var moved = ((Expr)x).Movedim(0, 2).Eval();
        Assert.Equal(new[] { 3, 4, 2 }, moved.Shape);
        var expectedMoved = new List<double>();
        for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) for (int i = 0; i < 2; i++) expectedMoved.Add(At(i, j, k));
        Assert.Equal(expectedMoved, moved.ToDoubleArray());
        var movedView = x.Movedim(-3, -1);
        Assert.Equal(new[] { 3, 4, 2 }, movedView.Shape);
        Assert.Equal(expectedMoved, movedView.ToDoubleArray());

        var unflat = x.Unflatten(2, 2, -1);
        Assert.Equal(new[] { 2, 3, 2, 2 }, unflat.Shape);
        Assert.Equal(xs, unflat.ToDoubleArray());

        // torch.tile with fewer repeats than axes repeats the trailing axes: [2,3,4] by (2) is [2,3,8]
        var tiled = x.Tile(2);
        Assert.Equal(new[] { 2, 3, 8 }, tiled.Shape);
        var expectedTiled = new List<double>();
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int r = 0; r < 2; r++) for (int k = 0; k < 4; k++) expectedTiled.Add(At(i, j, k));
        Assert.Equal(expectedTiled, tiled.ToDoubleArray());
        Assert.Equal(new[] { 2, 2, 3, 4 }, x.Tile(2, 1, 1, 1).Shape);

        // the derivative of a tile sums over the copies
        var g = Diff.Grad(v => (v.Tile(3, 1, 2) * v.Tile(3, 1, 2)).Sum())(x).Eval().ToDoubleArray();
        Close(xs.Select(v => 2 * v * 6).ToArray(), g, 1e-14, "tile gradient");
    }

    [Fact]
    public void AmaxAndAminShareTheDerivativeAmongTies()
    {
        var x = Tensor.FromArray(new[] { 1.0, 2.0, 2.0, -1.0, -1.0, -1.0 }, 2, 3);
        Assert.Equal(new[] { 2.0, -1.0 }, ((Expr)x).Amax(1).Eval().ToDoubleArray());
        Assert.Equal(new[] { 1.0, -1.0 }, ((Expr)x).Amin(new[] { 1 }).Eval().ToDoubleArray());
        var g = Diff.Grad(v => v.Amax(1).Sum())(x).Eval().ToDoubleArray();
        Close(new[] { 0.0, 0.5, 0.5, 1.0 / 3, 1.0 / 3, 1.0 / 3 }, g, 1e-15, "amax ties");
    }

    [Fact]
    public void ViewsNameTheirShapesWhenTheyCannotApply()
    {
        var x = Tensor.Ones(2, 3);
        var narrow = Assert.ThrowsAny<ArgumentException>(() => x.Narrow(1, 2, 2));
        Assert.Contains("Narrow", narrow.Message);
        Assert.Contains("[2,3]", narrow.Message.Replace(" ", ""));
        var unflatten = Assert.ThrowsAny<ArgumentException>(() => x.Unflatten(1, 2, 2));
        Assert.Contains("Unflatten", unflatten.Message);
        Assert.ThrowsAny<ArgumentException>(() => x.Movedim(2, 0));
        Assert.ThrowsAny<ArgumentException>(() => x.Tile(-1));
    }
}
