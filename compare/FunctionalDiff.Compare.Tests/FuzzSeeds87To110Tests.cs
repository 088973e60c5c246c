using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges24's seeds (87 to 110, every mode) found, each with torch's numbers and ours against closed forms, and
/// the program: the std of entries whose squares overflow (fixed in ours; the reference's "scaled norm" for std), and the
/// conventions named for sigmoid near 0, atan2 in float32, Huber's linear branch and derivatives through e^x near overflow.
/// </summary>
public class FuzzSeeds87To110Tests
{
    static torch.Tensor Tensor64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    /// <summary>∂/∂x Σ∂f/∂x by reverse over reverse, as torch computes second derivatives.</summary>
    static double[] TorchsSecondDerivative(Func<torch.Tensor, torch.Tensor> f, double[] x, torch.ScalarType dtype)
    {
        var at = torch.tensor(x, dtype: torch.ScalarType.Float64).to_type(dtype).requires_grad_(true);
        var slope = torch.autograd.grad(new[] { f(at).sum() }, new[] { at }, retain_graph: true, create_graph: true)[0];
        return Values(torch.autograd.grad(new[] { slope.sum() }, new[] { at })[0].to_type(torch.ScalarType.Float64));
    }

    static double[] OurSecondDerivative(Func<Expr, Expr> f, double[] x, bool float32)
    {
        Tensor At(double[] v) => float32 ? Tensor.FromArray(v.Select(q => (float)q).ToArray(), v.Length) : Tensor.FromArray(v, v.Length);
        return Diff.Hvp(e => f(e).Sum(), At(x), At(x.Select(_ => 1.0).ToArray())).Eval().ToDoubleArray();
    }

    [Fact]
    public void Std_OfEntriesWhoseSquaresOverflow_IsANumber_TorchsFloat64IsInfinity_ItsFloat32IsTheNumber()
    {
        // the std is homogeneous of degree 1: std(x) = 1e160·std(x/1e160), and its gradient (x − mean)/((N − 1)σ) is that of
        // x/1e160; both written out here for y = [1, −1, 0.3]: mean 0.1, Σ(y − mean)² = 0.81 + 1.21 + 0.04 = 2.06
        double[] y = { 1, -1, 0.3 };
        double sigma = Math.Sqrt(2.06 / 2);
        double[] slope = y.Select(v => (v - 0.1) / (2 * sigma)).ToArray();
        double[] x = y.Select(v => v * 1e160).ToArray();
        var at = Tensor64(x, 3).requires_grad_(true);
        var torchs = at.std();
        Assert.Equal(double.PositiveInfinity, torchs.item<double>());
        var ours = Diff.ValueAndGrad(e => e.Std(), Tensor.FromArray(x, 3));
        Assert.Equal(sigma, ours.Value.Eval().ToDoubleArray()[0] / 1e160, 1e-14);
        var ourSlope = ours.Gradient.Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++) Assert.Equal(slope[i], ourSlope[i], 1e-14);
        // the reference (TorchInterpreter: "a scaled norm") takes torch's std of x/s times s, with torch's gradient there
        var scaled = Tensor64(x, 3).requires_grad_(true);
        var reference = (scaled / 1e160).std() * 1e160;
        var referenceSlope = Values(torch.autograd.grad(new[] { reference }, new[] { scaled })[0]);
        Assert.Equal(sigma, reference.item<double>() / 1e160, 1e-14);
        for (int i = 0; i < 3; i++) Assert.Equal(slope[i], referenceSlope[i], 1e-14);
        // float32: torch's CPU kernel accumulates in float64, so its std of [1e20, 3e19, −2e20] is the number; ours was +∞
        double[] big = { 1e20, 3e19, -2e20 };
        double[] rounded = big.Select(v => (double)(float)v).ToArray();
        double mean = rounded.Average();
        double closed = Math.Sqrt(rounded.Sum(v => (v - mean) * (v - mean)) / 2);
        float torch32 = torch.tensor(big.Select(v => (float)v).ToArray()).std().item<float>();
        Assert.Equal(1.0, torch32 / closed, 6);
        float ours32 = ((Expr)Tensor.FromArray(big.Select(v => (float)v).ToArray(), 3)).Std().Eval().Item<float>();
        Assert.Equal(1.0, ours32 / closed, 6);
    }

    [Fact]
    public void WideAdversarial87_145_SigmoidNearZero_TorchsCurvatureFactorIsExactly0_NaNBesideInfinity_NamedTorchNaNEdge()
    {
        // σ″(x) = −σ′(x)·tanh(x/2) ≈ −x/8 near 0: at x = −1e-38 it is 1.25e-39, a float32 subnormal, so −∞·σ(x) has the
        // second derivative −∞; torch's g·(1 − 2y)·y(1 − y) has 1 − 2y = 0 exactly (σ(−1e-38) rounds to ½), 0·∞ = NaN.
        // At x = 0 σ″ is 0 and both are NaN (−∞·0).
        double[] x = { -1e-38, 1e-30, 0 };
        foreach (var (dtype, float32) in new[] { (torch.ScalarType.Float32, true), (torch.ScalarType.Float64, false) })
        {
            var torchs = TorchsSecondDerivative(t => t.sigmoid() * double.NegativeInfinity, x, dtype);
            Assert.All(torchs, h => Assert.True(double.IsNaN(h), $"torch's {h:R}"));
            var ours = OurSecondDerivative(e => e.Sigmoid() * double.NegativeInfinity, x, float32);
            Assert.Equal(double.NegativeInfinity, ours[0]); // −∞ times +1.25e-39
            Assert.Equal(double.PositiveInfinity, ours[1]); // −∞ times −1.25e-31
            Assert.True(double.IsNaN(ours[2]), $"ours at 0: {ours[2]:R}");
        }
        Passes(FuzzCommand.Programs(1, 87, 145, adversarial: true, ops: OpSurface.Wide)[0]);
    }

    [Fact]
    public void Adversarial89_181_Atan2OfXAndXAt1e20_InFloat32_TorchsSecondOrderIsNaN_TheConstantsIs0_NamedForFloat32()
    {
        // the shrunk program: a transposed convolution, weights holding +∞, of atan2(x, x)² with atan2(x, x) as its bias, at
        // x = [1e20, 1e20]. atan2(x, x) = π/4 for every x > 0, so the program is a constant and every derivative is 0, ours in
        // both dtypes. In float32 x² + x² = 2e40 overflows: torch's second order multiplies the infinite cotangent the weights
        // bring by an operand before 1/(a² + b²)² = 0, NaN. The float64 run of the program draws 1e300 where float32 has +∞
        // and its squares fit: it passes as drawn (FuzzProgram names this for the float32 run only)
        float[] weights = { float.PositiveInfinity, 1e-45f, 1e-45f, 0, 0, 0, 0, 0, 0, -1e-38f, 0, -710, -1e20f, -1, -0.5f, 0.5f };
        double[] x = { 1e20, 1e20 };
        double[] TorchsSecondOrder(torch.ScalarType dtype)
        {
            var at = torch.tensor(x, dtype: torch.ScalarType.Float64).to_type(dtype).requires_grad_(true);
            var w = torch.tensor(weights).reshape(2, 2, 2, 2).to_type(dtype);
            var angle = torch.atan2(at, at);
            var y = torch.nn.functional.conv_transpose2d(angle.square().reshape(1, 2, 1, 1), w, angle, strides: new long[] { 2, 2 }, padding: new long[] { 1, 1 }, output_padding: new long[] { 1, 1 });
            var g = torch.autograd.grad(new[] { y.sum() }, new[] { at }, retain_graph: true, create_graph: true)[0];
            return Values(torch.autograd.grad(new[] { g.sum() }, new[] { at })[0].to_type(torch.ScalarType.Float64));
        }
        Assert.Contains(TorchsSecondOrder(torch.ScalarType.Float32), h => double.IsNaN(h));
        foreach (var float32 in new[] { true, false })
            Assert.Equal(new[] { 0.0, 0.0 }, OurSecondDerivative(e => Expr.Atan2(e, e), x, float32).Select(h => h + 0.0).ToArray());
        Passes(FuzzCommand.Programs(1, 89, 181, adversarial: true)[0]);
    }

    [Fact]
    public void AllAdversarial90_266_HuberOnItsLinearBranch_BesideAnInfiniteWeight_TorchsCurvatureZerosMeetIt_NamedTorchNaNEdge()
    {
        // huber(a, b) with |a − b| > δ is δ|a − b| − δ²/2, linear in a: for every finite c the second derivative of
        // c·huber(a, b) in a is 0, so at c = −∞ its limit is 0, ours (the branch is a where); torch's double backward is its
        // mask |d| < δ as a tensor of zeros, times c: NaN
        double[] a = { -1.4644018, -0.40104055 }, b = { 0.10619393, 0.9206553 };
        var torchs = TorchsSecondDerivative(t => torch.nn.functional.huber_loss(t, Tensor64(b, 2), 1.0, torch.nn.Reduction.None) * double.NegativeInfinity, a, torch.ScalarType.Float64);
        Assert.All(torchs, h => Assert.True(double.IsNaN(h), $"torch's {h:R}"));
        var ours = OurSecondDerivative(e => Loss.Huber(e, Tensor.FromArray(b, 2), 1.0, Reduction.None) * double.NegativeInfinity, a, false);
        Assert.Equal(new[] { 0.0, 0.0 }, ours.Select(h => h + 0.0).ToArray());
        Passes(FuzzCommand.Programs(1, 90, 266, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void WideAdversarial88_88_GradientThroughExpNearOverflow_IsTheClosedForm()
    {
        // d/dx(−1/e^x) = e^−x: under the cotangent 6 at x = 709 the gradient is 6e^−709 = 7.3e-308 (torch's 0, an underflow
        // within every tolerance). Our reciprocal rule meets g first, −((g·y)·y); the Rewrite pass's normal form of the monomial
        // g·e^x·y² had formed 6·e^x = +∞ first, and since branch fuzz29 its unbounded atoms take turns, newest first, so y meets
        // e^x before g does (FuzzTwentyNineTests has the Rewrite's order against a closed form)
        double[] x = { 709, 1 };
        var (_, pullback) = Diff.Vjp(e => Tensor.FromArray(new[] { 0.5, 0.25 }, 2) + (-e.Exp().Reciprocal()).Sum(), Tensor.FromArray(x, 2));
        var ours = pullback(Tensor.FromArray(new[] { 3.0, 3.0 }, 2)).Eval().ToDoubleArray();
        Assert.Equal(1.0, ours[0] / (6 * Math.Exp(-709)), 14);
        Assert.Equal(6 * Math.Exp(-1), ours[1], 1e-15);
        var at = Tensor64(x, 2).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { (torch.tensor(new[] { 0.5, 0.25 }, dtype: torch.ScalarType.Float64) - at.exp().reciprocal().sum()) },
            new[] { at }, new[] { torch.tensor(new[] { 3.0, 3.0 }, dtype: torch.ScalarType.Float64) })[0]);
        Assert.Equal(0.0, torchs[0]);
        Passes(FuzzCommand.Programs(1, 88, 88, adversarial: true, ops: OpSurface.Wide)[0]);
        Passes(FuzzCommand.Programs(1, 88, 143, adversarial: true, ops: OpSurface.Wide)[0]);
    }
}
