using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Conventions a careful user can trip on: losses never broadcast, a pullback's cotangent may have
/// the other dtype (torch's rule), and Where keeps NaN out of the value but not out of the derivative.
/// </summary>
public class ConventionTests
{
    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    [Fact]
    public void AnAbsentBiasAddsNothingAsInTorch()
    {
        // torch's linear and layer_norm without bias add nothing, and neither do ours: the graph has no
        // addition (an added +0 cost a pass over the output, and turned a −0 entry into +0)
        Expr x = Tensor.FromArray(new[,] { { 1.0, 2.0 } });
        Expr w = Tensor.FromArray(new[,] { { 3.0, -1.0 }, { 1.0, 0.5 } });
        Assert.Equal(new[] { 1.0 * 3.0 + 2.0 * -1.0, 1.0 * 1.0 + 2.0 * 0.5 }, Nn.Linear(x, w).Eval().ToDoubleArray());
        Assert.DoesNotContain(" add ", Nn.Linear(x, w).ToText());
        // layer norm's last operation is the normalisation's product, not an addition of the bias
        Expr rows = Tensor.FromArray(new[,] { { 1.0, 2.0, 4.0 } });
        Assert.Equal("mul", rows.LayerNorm().Op);
        Assert.Equal("mul", Nn.LayerNorm(rows, [3]).Op);
    }

    [Fact]
    public void LossesRejectTargetsOfAnotherShape()
    {
        Expr prediction = Tensor.FromArray(new[] { 1.0, 2.0, 4.0 });
        Expr column = Tensor.FromArray(new[] { 0.5, 2.0, 3.0 }, 3, 1);
        var mse = Assert.ThrowsAny<ArgumentException>(() => Loss.Mse(prediction, column));
        Assert.StartsWith("Mse: ", mse.Message);
        Assert.ThrowsAny<ArgumentException>(() => Loss.Mse(prediction, 0.0));
        var bce = Assert.ThrowsAny<ArgumentException>(() => Loss.BinaryCrossEntropyWithLogits(prediction, column));
        Assert.StartsWith("BinaryCrossEntropyWithLogits: ", bce.Message);
    }

    [Fact]
    public void LossesOfEqualShapesAgreeWithAReferenceLoop()
    {
        double[] p = { 1.0, 2.0, 4.0 }, t = { 0.5, 2.0, 3.0 }, logits = { -2.0, 0.0, 3.0 }, labels = { 0.0, 1.0, 0.25 };
        var mse = 0.0;
        for (int i = 0; i < 3; i++) mse += (p[i] - t[i]) * (p[i] - t[i]) / 3;
        Close(mse, Loss.Mse(Tensor.FromArray(p), Tensor.FromArray(t)).Eval().ToScalar(), 1e-15);
        var bce = 0.0;
        for (int i = 0; i < 3; i++)
        {
            var s = 1 / (1 + Math.Exp(-logits[i]));
            bce -= (labels[i] * Math.Log(s) + (1 - labels[i]) * Math.Log(1 - s)) / 3;
        }
        Close(bce, Loss.BinaryCrossEntropyWithLogits(Tensor.FromArray(logits), Tensor.FromArray(labels)).Eval().ToScalar(), 1e-14);
    }

    [Fact]
    public void APullbackConvertsTheCotangentToTheOutputsDtypeAndReturnsTheInputsDtype()
    {
        // f(x) = 3 sin x; its pullback of u is 3 u cos x. Cotangents exact in float32.
        double[] x = { 0.3, -1.2, 2.0 };
        float[] u = { 0.5f, -2f, 1.25f };
        var expected = x.Select((v, i) => 3 * u[i] * Math.Cos(v)).ToArray();

        var (value64, pullback64) = Diff.Vjp(z => z.Sin() * 3.0, Tensor.FromArray(x));
        var fromFloat32 = pullback64(Tensor.FromArray(u));
        Assert.Equal(DType.Float64, fromFloat32.DType);
        Close(expected, V(fromFloat32), 1e-15);   // computed in float64, not rounded to float32

        var x32 = Tensor.FromArray(x.Select(v => (float)v).ToArray());
        var (value32, pullback32) = Diff.Vjp(z => z.Sin() * 3.0, x32);
        var fromFloat64 = pullback32(Tensor.FromArray(u.Select(v => (double)v).ToArray()));
        Assert.Equal(DType.Float32, fromFloat64.DType);
        var expected32 = x32.ToDoubleArray().Select((v, i) => 3 * u[i] * Math.Cos(v)).ToArray();
        Close(expected32, V(fromFloat64), 1e-6);

        // Two inputs of different dtypes: each cotangent comes back in its own input's dtype.
        var y = Tensor.FromArray(new[] { 1.5, -0.5, 0.25 });
        var (product, pullback) = Diff.Vjp((a, b) => a * b, x32, y);
        Assert.Equal(DType.Float64, product.DType);
        var (da, db) = pullback(Tensor.FromArray(u));
        Assert.Equal(DType.Float32, da.DType);
        Assert.Equal(DType.Float64, db.DType);
        Close(y.ToDoubleArray().Select((v, i) => u[i] * v).ToArray(), V(da), 1e-6);
        Close(x32.ToDoubleArray().Select((v, i) => u[i] * v).ToArray(), V(db), 1e-15);
    }

    [Fact]
    public void WhereKeepsNaNOutOfTheValueButNotOutOfTheDerivativeUnlessTheInputIsMadeSafe()
    {
        double[] x = { -1.0, 0.0, 0.25, 4.0 };
        var point = Tensor.FromArray(x);
        Expr Naive(Expr z) => Expr.Where(z > 0.0, z.Sqrt(), 0.0);
        Expr Safe(Expr z) => Expr.Where(z > 0.0, Expr.Where(z > 0.0, z, 1.0).Sqrt(), 0.0);

        // Values: √x where x > 0, else 0, with no NaN from sqrt(−1) in either form.
        var values = x.Select(v => v > 0 ? Math.Sqrt(v) : 0.0).ToArray();
        Assert.Equal(values, V(Naive(point)));
        Assert.Equal(values, V(Safe(point)));

        // Derivatives: 1/(2√x) where x > 0. Elsewhere the naive form multiplies the branch's zero
        // cotangent by sqrt's derivative, NaN at −1 and +∞ at 0: 0·NaN and 0·∞ are NaN in IEEE, as
        // in torch. The safe form evaluates sqrt at 1 there, and 0·(1/2) is 0.
        var naive = V(Diff.Grad(z => Naive(z).Sum())(point));
        var safe = V(Diff.Grad(z => Safe(z).Sum())(point));
        for (int i = 0; i < x.Length; i++)
        {
            var expectedNaive = x[i] > 0 ? 1 / (2 * Math.Sqrt(x[i])) : 0.0 * (1 / (2 * Math.Sqrt(x[i])));
            var expectedSafe = x[i] > 0 ? 1 / (2 * Math.Sqrt(x[i])) : 0.0;
            Assert.Equal(expectedNaive, naive[i]);
            Assert.Equal(expectedSafe, safe[i]);
        }
        Assert.True(double.IsNaN(naive[0]) && double.IsNaN(naive[1]), "NaN at -1 and at 0");
    }
}
