using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The margin losses that take labels, RmsNorm, Bilinear and LocalResponseNorm: what TorchSharp cannot check (multi_margin_loss has no double
/// backward in libtorch, so its second order and its JVP are checked here against closed forms), the overflow where
/// ours is finite and torch's log1p(exp(·)) is not, and errors that name the method.
/// </summary>
public class MarginLossFacadeTests
{
    // 3 samples, 4 classes; hinges margin − x[t] + x[j] of both signs, none near 0
    static readonly double[] Scores = { 0.3, -0.8, 1.1, 0.5, 0.9, 0.1, -0.4, 0.6, -0.2, 0.5, 0.4, 1.2 };
    static readonly int[] Targets = { 2, 0, 3 };
    static readonly double[] Weights = { 0.5, 2.0, 1.25, 0.75 };
    const int N = 3, Classes = 4;
    const double Margin = 0.9;

    /// <summary>The hinges z[i, j] = margin − x[i, t] + x[i, j] that are positive, with the weight of their row.</summary>
    static IEnumerable<(int I, int J, double Z, double W)> Active() =>
        from i in Enumerable.Range(0, N)
        from j in Enumerable.Range(0, Classes)
        let z = Margin - Scores[i * Classes + Targets[i]] + Scores[i * Classes + j]
        where j != Targets[i] && z > 0
        select (i, j, z, Weights[Targets[i]]);

    static Expr LossOf(Expr x) => Loss.MultiMarginLoss(x, Targets, p: 2, margin: Margin, weight: Tensor.FromArray(Weights, Classes));

    [Fact]
    public void MultiMarginLossValueGradientJvpAndHessianAreTheirClosedForms()
    {
        // loss = Σ w·z² / (C·N) over the active hinges; ∂z/∂x[i, j] = 1, ∂z/∂x[i, t] = −1
        double scale = 1.0 / (Classes * N);
        var gradient = new double[N * Classes];
        var hessian = new double[N * Classes, N * Classes];
        double value = 0;
        foreach (var (i, j, z, w) in Active())
        {
            int a = i * Classes + j, t = i * Classes + Targets[i];
            value += scale * w * z * z;
            gradient[a] += 2 * scale * w * z;
            gradient[t] -= 2 * scale * w * z;
            foreach (var (p, sp) in new[] { (a, 1.0), (t, -1.0) })
                foreach (var (q, sq) in new[] { (a, 1.0), (t, -1.0) })
                    hessian[p, q] += 2 * scale * w * sp * sq;
        }
        Assert.True(Active().Count() >= 4, "the scores should leave several hinges active");
        var x = Tensor.FromArray(Scores, N, Classes);
        var (v, g) = Diff.ValueAndGrad(LossOf, (Expr)x);
        var tangent = Enumerable.Range(0, N * Classes).Select(k => Math.Sin(k + 1.0)).ToArray();
        var (_, jvp) = Diff.Jvp(LossOf, x, Tensor.FromArray(tangent, N, Classes));
        var h = Diff.Hessian(LossOf)(x);
        var outs = Expr.EvalMany(v, g, jvp, h);
        Assert.Equal(value, outs[0].ToScalar(), 14);
        var ours = outs[1].ToDoubleArray();
        for (int k = 0; k < gradient.Length; k++) Assert.Equal(gradient[k], ours[k], 14);
        Assert.Equal(gradient.Zip(tangent, (a, b) => a * b).Sum(), outs[2].ToScalar(), 14);
        var oursHessian = outs[3].ToDoubleArray();
        for (int p = 0; p < N * Classes; p++)
            for (int q = 0; q < N * Classes; q++)
                Assert.Equal(hessian[p, q], oursHessian[p * N * Classes + q], 14);
    }

    [Fact]
    public void MultiMarginLossAtAnInfiniteTargetScore_TheOtherHingesAreZero_SoItsGradientIsZero()
    {
        // x = [0, +∞, 0] with target 1: every hinge 0.5 − ∞ + 0 is −∞, clamped to 0, so the loss is 0 near x and its
        // gradient 0 (torch's kernel skips the target's own column, `fuzz newest adversarial 5/103`); the target's column,
        // 0.5 − ∞ + ∞ = NaN, is no term and must not reach the gradient
        foreach (var p in new[] { 1, 2 })
        {
            Expr Loss(Expr x) => FunctionalDiff.Loss.MultiMarginLoss(x, [1], p: p, margin: 0.5, reduction: Reduction.Sum);
            var at = Tensor.FromArray(new[] { 0.0, double.PositiveInfinity, 0.0 }, 3);
            Assert.Equal(0.0, Loss(at).Eval().ToDoubleArray()[0]);
            Assert.Equal(new[] { 0.0, 0.0, 0.0 }, Diff.Grad(Loss)(at).Eval().ToDoubleArray());
        }
    }

    [Fact]
    public void MultiMarginLossWithPOneIsPiecewiseLinearSoItsHessianIsZero()
    {
        var h = Diff.Hessian(x => Loss.MultiMarginLoss(x, Targets))(Tensor.FromArray(Scores, N, Classes)).Eval().ToDoubleArray();
        Assert.All(h, e => Assert.Equal(0.0, e));
    }

    [Fact]
    public void SoftMarginLossStaysFiniteWhereTheExponentialOverflows()
    {
        // log(1 + e^800) = 800 + log(1 + e^−800), which is 800 in float64; torch's log1p(exp(800)) is +∞
        var x = Tensor.FromArray(new[] { -800.0, 3.0 }, 2);
        var labels = Tensor.FromArray(new[] { 1.0, -1.0 }, 2);
        var (v, g) = Diff.ValueAndGrad(p => Loss.SoftMarginLoss(p, labels, Reduction.Sum), (Expr)x);
        var outs = Expr.EvalMany(v, g);
        Assert.Equal(800 + Math.Log(1 + Math.Exp(3.0)), outs[0].ToScalar(), 10);
        // d/dx log(1 + e^(−y·x)) = −y·σ(−y·x): −1 at the first entry, σ(3) at the second
        Assert.Equal(new[] { -1.0, 1 / (1 + Math.Exp(-3.0)) }, outs[1].ToDoubleArray());
    }

    [Fact]
    public void RmsNormIsXOverTheRootMeanSquareTimesTheWeight()
    {
        var values = new[] { 1.0, -2.0, 3.0, 0.5, 0.25, -4.0 };
        var weight = new[] { 2.0, 0.5, -1.0 };
        var y = Nn.RmsNorm(Tensor.FromArray(values, 2, 3), [3], Tensor.FromArray(weight, 3)).Eval().ToDoubleArray();
        for (int r = 0; r < 2; r++)
        {
            double meanSquare = Enumerable.Range(0, 3).Select(c => values[r * 3 + c] * values[r * 3 + c]).Average();
            for (int c = 0; c < 3; c++)
                Assert.Equal(values[r * 3 + c] / Math.Sqrt(meanSquare + Math.Pow(2, -52)) * weight[c], y[r * 3 + c], 14);
        }
    }

    [Fact]
    public void ErrorsNameTheMethodAndTheShapes()
    {
        var x = Tensor.FromArray(Scores, N, Classes);
        var p = Assert.ThrowsAny<ArgumentException>(() => Loss.MultiMarginLoss(x, Targets, p: 3));
        Assert.Contains("MultiMarginLoss", p.Message);
        Assert.Contains("p 3", p.Message);
        var target = Assert.ThrowsAny<ArgumentException>(() => Loss.MultiMarginLoss(x, new[] { 0, 4, 1 }));
        Assert.Contains("target 4", target.Message);
        var count = Assert.ThrowsAny<ArgumentException>(() => Loss.MultiMarginLoss(x, new[] { 0, 1 }));
        Assert.Contains("[3,4]", count.Message);
        var weight = Assert.ThrowsAny<ArgumentException>(() => Loss.MultiLabelSoftMarginLoss(x, x, Tensor.FromArray(new[] { 1.0, 2.0 }, 2)));
        Assert.Contains("MultiLabelSoftMarginLoss", weight.Message);
        Assert.Contains("weight [2]", weight.Message);
        var shape = Assert.ThrowsAny<ArgumentException>(() => Nn.RmsNorm(x, [3]));
        Assert.Contains("RmsNorm", shape.Message);
        Assert.Contains("normalizedShape [3]", shape.Message);
        var broadcast = Assert.ThrowsAny<ArgumentException>(() => Loss.HingeEmbeddingLoss(x, Tensor.FromArray(new[] { 1.0, -1.0, 1.0 }, 3)));
        Assert.Contains("HingeEmbeddingLoss", broadcast.Message);
        var bilinear = Assert.ThrowsAny<ArgumentException>(() => Nn.Bilinear(x, Tensor.Zeros(3, 2), Tensor.Zeros(5, 3, 2)));
        Assert.Contains("Bilinear", bilinear.Message);
        Assert.Contains("input1 [3,4] and input2 [3,2]", bilinear.Message);
        var transposed = Assert.ThrowsAny<ArgumentException>(() => Nn.Bilinear(x, Tensor.Zeros(3, 2), Tensor.Zeros(5, 2, 4)));
        Assert.Contains("weight [5,2,4]", transposed.Message);
        var gumbel = Assert.ThrowsAny<ArgumentException>(() => Nn.GumbelSoftmax(x, Tensor.Zeros(4, 3)));
        Assert.Contains("GumbelSoftmax", gumbel.Message);
        Assert.Contains("noise [4,3]", gumbel.Message);
        var lrn = Assert.ThrowsAny<ArgumentException>(() => Nn.LocalResponseNorm(x, 2));
        Assert.Contains("LocalResponseNorm", lrn.Message);
        Assert.Contains("[3,4]", lrn.Message);
    }

    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void MultiLabelSoftMarginLossAtAnInfiniteLogitUnderMaxAndAbsHasTheClosedFormSlopeAndCurvature(DType dtype)
    {
        // one sample, logits [+∞, 0.3], targets [0, 1]: the loss is (softplus(x₀) + softplus(−x₁))/2 = +∞, its gradient
        // [σ(x₀), −σ(−x₁)]/2 = [½, −σ(−0.3)/2] and its Hessian diag(σ(x₀)σ(−x₀), σ(x₁)σ(−x₁))/2 = diag(0, σ(0.3)σ(−0.3)/2).
        // max of the one sample's loss, and abs of it, are the loss. Both read the loss's value in the derivative graph,
        // where its normal form (1 − y)·log σ(−x) as log σ(−x) − y·log σ(−x) was NaN at x = +∞, y = 0: the gradient NaN
        // under max, 0 under abs (`fuzz newest adversarial 1/73`).
        static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
        var x = Tensor.FromArray(new[] { double.PositiveInfinity, 0.3 }, 1, 2).Cast(dtype);
        var target = Tensor.FromArray(new[] { 0.0, 1.0 }, 1, 2).Cast(dtype);
        var expectedGradient = new[] { 0.5, -Sigmoid(-0.3) / 2 };
        var expectedHessian = new[] { 0, 0, 0, Sigmoid(0.3) * Sigmoid(-0.3) / 2 };
        double tolerance = dtype == DType.Float64 ? 1e-15 : 1e-7;
        foreach (var after in new Func<Expr, Expr>[] { l => l.Max(), l => l.Abs().Sum() })
        {
            Expr F(Expr v) => after(Loss.MultiLabelSoftMarginLoss(v, target));
            Assert.Equal(double.PositiveInfinity, F(x).Eval().ToDoubleArray()[0]);
            var gradient = Diff.Grad(F)(x).Eval().ToDoubleArray();
            var hessian = Diff.Hessian(F)(x).Eval().ToDoubleArray();
            for (int i = 0; i < 2; i++) Assert.Equal(expectedGradient[i], gradient[i], tolerance);
            for (int i = 0; i < 4; i++) Assert.Equal(expectedHessian[i], hessian[i], tolerance);
        }
    }
}
