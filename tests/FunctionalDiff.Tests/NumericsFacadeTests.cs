using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// Expr.Numerics (diff, trapezoid, cov, corrcoef, renorm, tensordot, block_diag, cartesian_prod, vander, logaddexp2,
/// copysign, deg2rad, rad2deg), Nn.ChannelShuffle and Nn.Pdist, and the two new margin losses, against loops and closed
/// forms written here; the comparison table checks each against TorchSharp as well. The Tensor members give the Expr
/// members' values.
/// </summary>
public class NumericsFacadeTests
{

    [Fact]
    public void DiffIsTheRepeatedForwardDifferenceAfterPrependAndAppend()
    {
        double[] x = { 1.0, 4.0, 9.0, 16.0, 25.0 }, before = { -2.0 }, after = { 40.0, 50.0 };
        var joined = before.Concat(x).Concat(after).ToArray();
        double[] first = joined.Zip(joined.Skip(1), (a, b) => b - a).ToArray();
        double[] second = first.Zip(first.Skip(1), (a, b) => b - a).ToArray();
        var ours = ((Expr)Tensor.FromArray(x)).Diff(2, prepend: Tensor.FromArray(before), append: Tensor.FromArray(after)).Eval();
        Assert.Equal(second, ours.ToDoubleArray());
        Assert.Equal(second, Tensor.FromArray(x).Diff(2, prepend: Tensor.FromArray(before), append: Tensor.FromArray(after)).ToDoubleArray());
        // n past the length leaves an empty axis; n = 0 the input
        Assert.Equal(new[] { 2, 0 }, ((Expr)Tensor.Zeros([2, 3])).Diff(4).Shape);
        Assert.Equal(x, ((Expr)Tensor.FromArray(x)).Diff(0).Eval().ToDoubleArray());
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.Zeros([2, 3])).Diff(prepend: Tensor.Zeros([3, 1])));
        Assert.Contains("Diff", error.Message);
        Assert.Contains("[3,1]", error.Message);
    }

    [Fact]
    public void TrapezoidIsExactForLinesAndMatchesTheRuleWrittenOut()
    {
        // the rule is exact for a line: ∫₀² (3t + 1) dt = 8 at dx 0.5
        var line = Enumerable.Range(0, 5).Select(i => 3 * 0.5 * i + 1).ToArray();
        Assert.Equal(8.0, ((Expr)Tensor.FromArray(line)).Trapezoid(0.5).Eval().ToScalar(), 14);
        // uneven points along axis 0 of [4, 2]
        double[] t = { 0.0, 0.3, 1.1, 2.0 };
        double[] y = { 1, 2, 0.5, -1, 2, 3, -0.5, 0.25 };
        var expected = new double[2];
        var running = new double[3 * 2];
        for (int c = 0; c < 2; c++)
            for (int i = 0; i < 3; i++)
            {
                expected[c] += (t[i + 1] - t[i]) * (y[(i + 1) * 2 + c] + y[i * 2 + c]) / 2;
                running[i * 2 + c] = expected[c];
            }
        var yT = Tensor.FromArray(y, 4, 2);
        var ours = ((Expr)yT).Trapezoid(Tensor.FromArray(t), 0).Eval().ToDoubleArray();
        for (int c = 0; c < 2; c++) Assert.Equal(expected[c], ours[c], 14);
        var cumulative = yT.CumulativeTrapezoid(Tensor.FromArray(t), 0).ToDoubleArray();
        for (int i = 0; i < running.Length; i++) Assert.Equal(running[i], cumulative[i], 14);
        // an empty axis integrates to 0
        Assert.Equal(new double[3], ((Expr)Tensor.Zeros([3, 0])).Trapezoid().Eval().ToDoubleArray());
    }

    [Fact]
    public void CovAndCorrcoefAreTheTextbookFormulasWithWeights()
    {
        double[] x = { 1.0, 2.5, -0.5, 3.0, 0.25, 2.0, -1.0, 0.5, 1.5, 4.0 };
        double[] f = { 1, 2, 1, 3, 1 }, a = { 0.5, 1.0, 2.0, 0.25, 1.5 };
        // torch.cov's definition with weights w = f·a: mean Σw x / Σw, factor Σw − Σw·a/Σw
        double[] w = f.Zip(a, (p, q) => p * q).ToArray();
        double sw = w.Sum(), factor = sw - w.Zip(a, (p, q) => p * q).Sum() / sw;
        double Mean(int row) => Enumerable.Range(0, 5).Sum(j => w[j] * x[row * 5 + j]) / sw;
        double Cov(int r, int s) => Enumerable.Range(0, 5).Sum(j => w[j] * (x[r * 5 + j] - Mean(r)) * (x[s * 5 + j] - Mean(s))) / factor;
        var ours = ((Expr)Tensor.FromArray(x, 2, 5)).Cov(1, Tensor.FromArray(f), Tensor.FromArray(a)).Eval().ToDoubleArray();
        Assert.Equal(4, ours.Length);
        for (int r = 0; r < 2; r++)
            for (int s = 0; s < 2; s++) Assert.Equal(Cov(r, s), ours[r * 2 + s], 13);
        // unweighted Bessel covariance and the correlation it gives
        double Plain(int r, int s)
        {
            double mr = x.Skip(r * 5).Take(5).Average(), ms = x.Skip(s * 5).Take(5).Average();
            return Enumerable.Range(0, 5).Sum(j => (x[r * 5 + j] - mr) * (x[s * 5 + j] - ms)) / 4;
        }
        var corr = Tensor.FromArray(x, 2, 5).Corrcoef().ToDoubleArray();
        Assert.Equal(Plain(0, 1) / Math.Sqrt(Plain(0, 0) * Plain(1, 1)), corr[1], 13);
        Assert.Equal(1.0, corr[0], 14);
        // one variable: a scalar
        Assert.Equal(Plain(0, 0), ((Expr)Tensor.FromArray(x[..5])).Cov().Eval().ToScalar(), 13);
    }

    [Fact]
    public void RenormScalesOnlyTheSlicesAboveTheLimit()
    {
        double[] x = { 3, 4, 0.3, 0.4 };
        var ours = Tensor.FromArray(x, 2, 2).Renorm(2, 0, 1.0).ToDoubleArray();
        double factor = 1.0 / (5 + 1e-7);
        Assert.Equal(new[] { 3 * factor, 4 * factor, 0.3, 0.4 }, ours);
    }

    [Fact]
    public void TensordotIsTheContractionWrittenAsALoop()
    {
        var a = Tensor.RandomNormal([3, 4, 2], seed: 3);
        var b = Tensor.RandomNormal([2, 5, 3], seed: 4);
        double[] av = a.ToDoubleArray(), bv = b.ToDoubleArray();
        var ours = Tensor.Tensordot(a, b, [0, 2], [2, 0]);
        Assert.Equal(new[] { 4, 5 }, ours.Shape);
        var values = ours.ToDoubleArray();
        for (int j = 0; j < 4; j++)
            for (int l = 0; l < 5; l++)
            {
                double sum = 0;
                for (int i = 0; i < 3; i++)
                    for (int k = 0; k < 2; k++) sum += av[(i * 4 + j) * 2 + k] * bv[(k * 5 + l) * 3 + i];
                Assert.Equal(sum, values[j * 5 + l], 12);
            }
        var error = Assert.ThrowsAny<ArgumentException>(() => Expr.Tensordot(a, b, [0], [0]));
        Assert.Contains("Tensordot", error.Message);
        Assert.Contains("[2,5,3]", error.Message);
    }

    [Fact]
    public void BlockDiagCartesianProdAndVanderAreTheirDefinitions()
    {
        var block = Tensor.BlockDiag(Tensor.FromArray(new[] { 1.0, 2, 3, 4 }, 2, 2), Tensor.FromArray(new[] { 5.0, 6 }), Tensor.Scalar(7.0));
        Assert.Equal(new[] { 4, 5 }, block.Shape);
        Assert.Equal(new double[] { 1, 2, 0, 0, 0, 3, 4, 0, 0, 0, 0, 0, 5, 6, 0, 0, 0, 0, 0, 7 }, block.ToDoubleArray());
        var product = Tensor.CartesianProd(Tensor.FromArray(new[] { 1.0, 2 }), Tensor.FromArray(new[] { 10.0, 20, 30 }));
        Assert.Equal(new double[] { 1, 10, 1, 20, 1, 30, 2, 10, 2, 20, 2, 30 }, product.ToDoubleArray());
        double[] x = { 2, -1.5, 0.5 };
        var vander = Tensor.FromArray(x).Vander(4).ToDoubleArray();
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) Assert.Equal(Math.Pow(x[i], 3 - j), vander[i * 4 + j], 14);
        Assert.Equal(new[] { 1.0, 2, 4, 1, -1.5, 2.25, 1, 0.5, 0.25 }, Tensor.FromArray(x).Vander(increasing: true).ToDoubleArray());
    }

    [Fact]
    public void LogAddExp2CopysignAndAngleConversionsMatchMath()
    {
        double[] a = { 0.5, 1000, -3, double.NegativeInfinity }, b = { 1.5, 999, -3, double.NegativeInfinity };
        var ours = Tensor.LogAddExp2(Tensor.FromArray(a), Tensor.FromArray(b)).ToDoubleArray();
        Assert.Equal(Math.Log2(Math.Pow(2, 0.5) + Math.Pow(2, 1.5)), ours[0], 14);
        Assert.Equal(1000 + Math.Log2(1.5), ours[1], 12);
        Assert.Equal(-2.0, ours[2], 14);
        Assert.Equal(double.NegativeInfinity, ours[3]);
        // d/da log₂(2^a + 2^b) = 2^a / (2^a + 2^b)
        var slope = Diff.Grad(v => Expr.LogAddExp2(v, Tensor.Scalar(1.5)))(Tensor.Scalar(0.5)).Eval().ToScalar();
        Assert.Equal(1.0 / 3.0, slope, 14);

        double[] magnitude = { 1.5, -2.0, 0.0, 3.0 }, sign = { -0.0, 0.0, -4.0, -1.0 };
        var copied = Tensor.FromArray(magnitude).Copysign(Tensor.FromArray(sign)).ToDoubleArray();
        for (int i = 0; i < 4; i++)
            Assert.Equal(BitConverter.DoubleToInt64Bits(Math.CopySign(magnitude[i], sign[i])), BitConverter.DoubleToInt64Bits(copied[i]));
        // the slope in the magnitude is the sign kept or flipped, 0 at 0 (torch's mask); in the sign's source 0
        var g = Diff.Grad(m => m.Copysign(Tensor.FromArray(sign)).Sum())(Tensor.FromArray(magnitude)).Eval().ToDoubleArray();
        Assert.Equal(new[] { -1.0, -1.0, 0.0, -1.0 }, g);
        var gSign = Diff.Grad(s => ((Expr)Tensor.FromArray(magnitude)).Copysign(s).Sum())(Tensor.FromArray(sign)).Eval().ToDoubleArray();
        Assert.Equal(new double[4], gSign);

        Assert.Equal(Math.PI, Tensor.Scalar(180.0).Deg2Rad().ToScalar(), 15);
        Assert.Equal(90.0, Tensor.Scalar(Math.PI / 2).Rad2Deg().ToScalar(), 13);
    }

    [Fact]
    public void ChannelShuffleAndPdistAreTheirDefinitions()
    {
        // channel c = g·(C/groups) + k moves to k·groups + g
        var x = Tensor.FromArray(Enumerable.Range(0, 12).Select(i => (double)i).ToArray(), 1, 6, 2);
        var shuffled = Nn.ChannelShuffle(x, 3).Eval().ToDoubleArray();
        for (int c = 0; c < 6; c++)
        {
            int group = c / 2, k = c % 2, to = k * 3 + group;
            Assert.Equal(new[] { 2.0 * c, 2.0 * c + 1 }, shuffled[(to * 2)..(to * 2 + 2)]);
        }
        double[] rows = { 0, 0, 3, 4, 1, 1, 0, 0 };
        var distances = Nn.Pdist(Tensor.FromArray(rows, 4, 2)).Eval().ToDoubleArray();
        double D(int i, int j) => Math.Sqrt(Math.Pow(rows[2 * i] - rows[2 * j], 2) + Math.Pow(rows[2 * i + 1] - rows[2 * j + 1], 2));
        Assert.Equal(new[] { D(0, 1), D(0, 2), D(0, 3), D(1, 2), D(1, 3), D(2, 3) }, distances);
        // rows 0 and 3 coincide: that distance's gradient is 0, not NaN
        var g = Diff.Grad(r => Nn.Pdist(r).Sum())(Tensor.FromArray(rows, 4, 2)).Eval().ToDoubleArray();
        Assert.All(g, v => Assert.False(double.IsNaN(v)));
        Assert.Throws<ArgumentOutOfRangeException>(() => Nn.ChannelShuffle(x, 4));
    }

    [Fact]
    public void MultiLabelMarginLossIsTorchsLoopAndItsSecondOrderIsZero()
    {
        double[] x = { 0.1, 0.2, 0.4, 0.8, -0.3, 0.9, 0.5, -0.2, 0.0, 0.6 };
        int[,] targets = { { 3, 0, -1, 1, 1 }, { 1, -1, 0, 0, 0 } };
        // torch's definition: for each listed t and unlisted j, max(0, 1 − x[t] + x[j]), over C
        double Sample(int n)
        {
            var listed = new List<int>();
            for (int k = 0; k < 5 && targets[n, k] != -1; k++) listed.Add(targets[n, k]);
            double sum = 0;
            foreach (var t in listed)
                for (int j = 0; j < 5; j++)
                    if (!listed.Contains(j)) sum += Math.Max(0, 1 - x[n * 5 + t] + x[n * 5 + j]);
            return sum / 5;
        }
        var loss = Loss.MultiLabelMarginLoss(Tensor.FromArray(x, 2, 5), targets).Eval().ToScalar();
        Assert.Equal((Sample(0) + Sample(1)) / 2, loss, 14);
        // piecewise linear: the Hessian is 0 away from the kinks
        var hvp = Diff.Grad(v => Diff.Grad(u => Loss.MultiLabelMarginLoss(u, targets))(v).Square().Sum())(Tensor.FromArray(x, 2, 5)).Eval().ToDoubleArray();
        Assert.Equal(new double[10], hvp);
        var error = Assert.ThrowsAny<ArgumentException>(() => Loss.MultiLabelMarginLoss(Tensor.FromArray(x, 2, 5), new[,] { { 7, -1, 0, 0, 0 }, { 0, 0, 0, 0, 0 } }));
        Assert.Contains("MultiLabelMarginLoss", error.Message);
    }

    [Fact]
    public void TripletMarginWithDistanceLossUsesTheGivenDistance()
    {
        double[] a = { 0, 0, 1, 1 }, p = { 3, 4, 1, 2 }, n = { 1, 0, 4, 5 };
        // with |x − y|₁ as the distance: max(margin + d(a, p) − d(a, n), 0) per row
        Expr L1(Expr u, Expr v) => (u - v).Abs().Sum(1);
        var loss = Loss.TripletMarginWithDistanceLoss(Tensor.FromArray(a, 2, 2), Tensor.FromArray(p, 2, 2), Tensor.FromArray(n, 2, 2), L1, margin: 0.5,
            reduction: Reduction.None).Eval().ToDoubleArray();
        Assert.Equal(new[] { Math.Max(0, 0.5 + 7 - 1), Math.Max(0, 0.5 + 1 - 7) }, loss);
        Assert.Throws<ArgumentOutOfRangeException>(() => Loss.TripletMarginWithDistanceLoss(Tensor.FromArray(a, 2, 2), Tensor.FromArray(p, 2, 2), Tensor.FromArray(n, 2, 2), margin: 0));
    }

    [Fact]
    public void CombinationsNanMedianAndTheSmallElementwiseOnesAreTheirDefinitions()
    {
        double[] v = { 1, 2, 3, 4 };
        var pairs = Tensor.FromArray(v).Combinations().ToDoubleArray();
        var expected = new List<double>();
        for (int i = 0; i < 4; i++)
            for (int j = i + 1; j < 4; j++) expected.AddRange([v[i], v[j]]);
        Assert.Equal(expected, pairs);
        // with repetition, C(3 + 3 − 1, 3) = 10 rows, the first [1, 1, 1] and the last [3, 3, 3]
        var repeated = Tensor.FromArray(new[] { 1.0, 2, 3 }).Combinations(3, withReplacement: true);
        Assert.Equal(new[] { 10, 3 }, repeated.Shape);
        Assert.Equal(new[] { 1.0, 1, 1 }, repeated.ToDoubleArray()[..3]);
        Assert.Equal(new[] { 3.0, 3, 3 }, repeated.ToDoubleArray()[^3..]);

        // the lower median of the numbers, NaN left out; its derivative goes to that entry
        double nan = double.NaN;
        double[] row = { 4, nan, 1, 3, nan, 2 };
        Assert.Equal(2.0, Tensor.FromArray(row).NanMedian().ToScalar());
        var (values, indices) = ((Expr)Tensor.FromArray(new[] { nan, nan, 5, nan, 7, 6 }, 2, 3)).NanMedian(1);
        Assert.Equal(new[] { 5.0, 6.0 }, values.Eval().ToDoubleArray());
        Assert.Equal(new[] { 2.0, 2.0 }, indices.Eval().ToDoubleArray());
        Assert.True(double.IsNaN(Tensor.FromArray(new[] { nan, nan }).NanMedian().ToScalar()));
        var g = Diff.Grad(x => x.NanMedian())(Tensor.FromArray(row)).Eval().ToDoubleArray();
        Assert.Equal(new double[] { 0, 0, 0, 0, 0, 1 }, g);

        Assert.Equal(new[] { 12.0, -0.375 }, Tensor.FromArray(new[] { 3.0, -3.0 }).Ldexp(Tensor.FromArray(new[] { 2.0, -3.0 })).ToDoubleArray());
        Assert.Equal(new double[] { 1, 0, 1, 0, 1, 0 }, Tensor.FromArray(new[] { -0.0, 0.0, -2.0, 3.0, double.NegativeInfinity, nan }).Signbit().ToDoubleArray());
        var power = ((Expr)Tensor.FromArray(new[] { 2.0f, 3.0f })).FloatPower(Tensor.FromArray(new[] { 0.5f, 2.0f }));
        Assert.Equal(DType.Float64, power.DType);
        Assert.Equal(new[] { Math.Sqrt(2), 9.0 }, power.Eval().ToDoubleArray());
        var (lo, hi) = ((Expr)Tensor.FromArray(new[] { 3.0, -1.0, 2.0 })).Aminmax();
        Assert.Equal((-1.0, 3.0), (lo.Eval().ToScalar(), hi.Eval().ToScalar()));
    }
}
