using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges25 settled: the open programs of seeds 87 to 101 and 1804 and the new seeds 99 to 110, each with torch's
/// numbers and ours against a closed form, and the program passing under its name: the reference's Maclaurin sinc and
/// sigmoid, hypot's slope below the subnormals (fixed in ours), and the conventions named for prod, det, cholesky_solve,
/// solve, cumprod, cross, atan2, tril, hardtanh and the mean of a normalisation.
/// </summary>
public class FuzzEdges25Tests
{
    static torch.Tensor Leaf(double[] values, torch.ScalarType dtype = torch.ScalarType.Float64) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).to_type(dtype).requires_grad_(true);

    static double[] Grad(torch.Tensor y, torch.Tensor x) => Values(torch.autograd.grad(new[] { y.sum() }, new[] { x })[0].to_type(torch.ScalarType.Float64));

    /// <summary>∂/∂x Σ∂f/∂x, reverse over reverse.</summary>
    static double[] SecondDerivative(Func<torch.Tensor, torch.Tensor> f, torch.Tensor x)
    {
        var slope = torch.autograd.grad(new[] { f(x).sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
        return Values(torch.autograd.grad(new[] { slope.sum() }, new[] { x })[0].to_type(torch.ScalarType.Float64));
    }

    static torch.Tensor Reference(OpKind kind, torch.Tensor x) => TorchInterpreter.Apply(new Step(kind, new[] { 0 }, Array.Empty<int>()), new[] { x }, x.dtype);

    /// <summary>Asserts that the fuzzer names the program's step by <paramref name="why"/> and skips every check there.</summary>
    static void SkipsEverything(FuzzProgram program, string why)
    {
        Assert.Contains(program.Forward().TorchWrong, w => w.Why == why);
        Assert.Equal(6, program.ToCase().Skipped.Distinct().Count());
    }

    [Fact]
    public void Adversarial101_154_SincAtMinus1e10_TorchsSlopeIs0_TheReferenceIsTheMaclaurinPolynomial()
    {
        // sinc′(x) = −π²x/3 + O(x³) near 0: 3.29e-10 at x = −1e-10, where torch's (πx·cos πx − sin πx)/(πx²) cancels to 0;
        // the program's 1e30 weight times that slope is the gradient 2.5e20, torch's 0
        double x = -1e-10, closed = -Math.PI * Math.PI * x / 3;
        var leaf = Leaf(new[] { x });
        Assert.Equal(0.0, Grad(leaf.sinc(), leaf)[0]);
        var reference = Leaf(new[] { x });
        Assert.Equal(closed, Grad(Reference(OpKind.Sinc, reference), reference)[0], closed * 1e-15);
        var ours = Diff.Grad(e => e.Sinc().Sum())(Tensor.FromArray(new[] { x }, 1)).Eval().ToDoubleArray()[0];
        Assert.Equal(closed, ours, closed * 1e-15);
        // the second derivative: −π²/3 at every x this small, the reference's too (torch's quotient rule's was 0 at 1e-38)
        var curved = Leaf(new[] { 1e-38, -1e-5 });
        foreach (var h in SecondDerivative(t => Reference(OpKind.Sinc, t), curved)) Assert.Equal(-Math.PI * Math.PI / 3, h, 1e-8);
        Passes(FuzzCommand.Programs(1, 101, 154, adversarial: true)[0]);
    }

    [Fact]
    public void AllAdversarial98_215_SigmoidAt3p5e141_TorchsCurvatureIs0_TheReferenceIsMinusXOver8()
    {
        // σ″(x) = σ′(x)(1 − 2σ(x)) = −x/8 + O(x³); at x = 3.5e-141 torch's 1 − 2y is exactly 0, and the program's weight 1e300
        // squared makes the Hessian entry u·σ″·W² = 6.3e457, +∞, where torch's was 311
        double x = 3.5e-141;
        var leaf = Leaf(new[] { x });
        Assert.Equal(0.0, SecondDerivative(t => t.sigmoid(), leaf)[0]);
        var reference = Leaf(new[] { x, -2e-4 });
        var curvature = SecondDerivative(t => Reference(OpKind.Sigmoid, t), reference);
        Assert.Equal(-x / 8, curvature[0], x * 1e-14);
        double s = 1 / (1 + Math.Exp(2e-4));
        Assert.Equal(s * (1 - s) * (1 - 2 * s), curvature[1], 1e-12); // σ″ = σ′(1 − 2σ) at −2e-4, where s = σ(−2e-4)
        var ours = Diff.Hvp(e => e.Sigmoid().Sum(), Tensor.FromArray(new[] { x }, 1), Tensor.FromArray(new[] { 1.0 }, 1)).Eval().ToDoubleArray()[0];
        Assert.Equal(-x / 8, ours, x * 1e-14);
        Passes(FuzzCommand.Programs(1, 98, 215, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial103_41_HypotOfASubnormalBesideMinus8_UnderInfiniteCotangent_IsMinusInfinity_FixedInOurs()
    {
        // ∂hypot(a, b)/∂a = a/√(a² + b²) = a/|b| = −5.9e-325 at a = −5e-324, b = −8.5165: below every subnormal, but not 0,
        // so +∞ times it is −∞ (torch's g·a/h forms g·a first); ours formed a/h = −0 first, NaN
        double a = -5e-324, b = -8.5165;
        var leaf = Leaf(new[] { a });
        var torchs = Values(torch.autograd.grad(new[] { (torch.hypot(leaf, torch.tensor(b, dtype: torch.ScalarType.Float64)) * double.PositiveInfinity).sum() }, new[] { leaf })[0]);
        Assert.Equal(double.NegativeInfinity, torchs[0]);
        var ours = Diff.Grad(e => (Expr.Hypot(e, Tensor.FromArray(new[] { b }, 1)) * double.PositiveInfinity).Sum())(Tensor.FromArray(new[] { a }, 1)).Eval().ToDoubleArray();
        Assert.Equal(double.PositiveInfinity * a / Math.Abs(b), ours[0]);
        Passes(FuzzCommand.Programs(1, 103, 41, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Adversarial101_157_ProdOverAZeroUnderInfiniteCotangent_SecondOrder_BothEnginesMeet0TimesInfinity_Named()
    {
        // Σ c·prod(x) at x = [0.49, 0, 0.5, 0.5] with c = +∞: the Hessian is c·Π_{k≠i,j} x_k, whose row 0 is c·[0, x₂x₃, 0, 0]
        // (the products holding x₁ = 0 are 0), so its product with v = [0.1, −0.4, 0.8, 1] is c·x₂x₃·(−0.4) = −∞; each engine
        // meets a 0 with c in another entry
        // (the program as drawn meets infinities of both signs, so torch's chain under a cotangent of 1 hands prod a NaN; the
        // checks' random cotangents give ±∞, and the float32 run is named at its rounded inputs)
        var program = FuzzCommand.Programs(1, 101, 157, adversarial: true)[0];
        Assert.Contains(program.RoundedToFloat32().Forward().TorchWrong, w => w.Why.Contains("prod over a zero under an infinite cotangent"));
        Passes(program);
    }

    [Fact]
    public void AllAdversarial1804_193_TheMeanOfAnInstanceNorm_IsExactly0_TorchsResidueTimesInfinity_Named()
    {
        // an instance norm's entries sum to 0 over each instance; ours sums these to 0 exactly, torch's to −8.6e-15, so x·m
        // with x holding +∞ is NaN (∞·0) in ours and −∞ in torch's, and the pairwise distance after it NaN and +∞
        double[] v = { 0.479425538604203, 0.479425538604203, 0.47840070715217115, 0.479425538604203, 0.4785467663614242, 0.479425538604203 };
        double torchs = torch.nn.functional.instance_norm(torch.tensor(v, dtype: torch.ScalarType.Float64).reshape(2, 1, 3)).mean().item<double>();
        Assert.NotEqual(0.0, torchs);
        Assert.True(Math.Abs(torchs) < 1e-13);
        double ours = Nn.InstanceNorm(Tensor.FromArray(v, 2, 1, 3)).Mean().Eval().ToDoubleArray()[0];
        Assert.True(Math.Abs(ours) < 1e-13);
        SkipsEverything(FuzzCommand.Programs(1, 1804, 193, adversarial: true, ops: OpSurface.All)[0],
            "The sum or mean of a normalisation's output, exactly 0, beside an infinity (each engine's rounding residue decides)");
    }

    [Fact]
    public void AllAdversarial98_34_CrossOfParallelVectorsNear1e160_Is0_OursNaN_TorchsMinusInfinity_Named()
    {
        // cross(6.05e160·1, 1e160·1) = 0 (parallel), each entry a difference of two products of 6.05e320 = +∞
        double[] a = { 6.046099277622906E+160, 6.046099277622906E+160, 6.046099277622906E+160 }, b = { 1e160, 1e160, 1e160 };
        var torchs = Values(torch.linalg.cross(torch.tensor(a, dtype: torch.ScalarType.Float64), torch.tensor(b, dtype: torch.ScalarType.Float64)));
        Assert.All(torchs, t => Assert.True(double.IsInfinity(t), $"torch's {t}"));
        // scaled by the powers of ten the products fit, and the difference is 0
        Assert.Equal(0.0, (a[1] / 1e160) * (b[2] / 1e160) - (a[2] / 1e160) * (b[1] / 1e160));
        SkipsEverything(FuzzCommand.Programs(1, 98, 34, adversarial: true, ops: OpSurface.All)[0], "ours and torch's: Cross of finite vectors whose products overflow");
    }

    [Fact]
    public void AllAdversarial97_247_CholeskySolveUnderAnInfiniteWeight_SecondOrderInTheFactor_IsMinusInfinity_TorchsNaN_Named()
    {
        // x = b/l² for a 1×1 factor l, so ∂²(w·x)/∂l² = 6wb/l⁴: at l = 2, b = −1e30, w = −∞ it is −∞·(−1e30)·6/16 = +∞ (the sign
        // of w·b); ours +∞, torch's double backward NaN
        var l = Leaf(new[] { 2.0 });
        var torchs = SecondDerivative(t => torch.cholesky_solve(torch.tensor(new[] { -1e30 }, dtype: torch.ScalarType.Float64).reshape(1, 1), t.reshape(1, 1)) * double.NegativeInfinity, l);
        Assert.True(double.IsNaN(torchs[0]), $"torch's {torchs[0]}");
        var ours = Diff.Hvp(e => ((Expr)Tensor.FromArray(new[] { -1e30 }, 1, 1)).CholeskySolve(e.Reshape(1, 1), upper: false).Sum() * double.NegativeInfinity,
            Tensor.FromArray(new[] { 2.0 }, 1), Tensor.FromArray(new[] { 1.0 }, 1)).Eval().ToDoubleArray();
        Assert.Equal(double.NegativeInfinity * -1e30 * 6 / 16, ours[0]);
        Passes(FuzzCommand.Programs(1, 97, 247, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Adversarial105_135_SolveOfMinusInfinity_GradientInA_IsPlusInfinity_TheReferencesNaN_OurJvpNaN_Named()
    {
        // X = A⁻¹b with b = [β, 1e-30], β = −∞: the gradient in A is −(A⁻ᵀu)Xᵀ = −β·(A⁻ᵀu)(A⁻¹e₀)ᵀ, its signs those of the
        // finite factor times −β (all four +∞ here); the JVP −β·A⁻¹ȦA⁻¹e₀ is ±∞ (the reference's), ours adds X's infinities
        // through Ȧ, NaN where they differ (a known limitation, named)
        double[] a = { 2.7186692, 0.7615942, -0.2813308, 2.7186692 };
        double[] u = { 0.627288, 0.386792 };
        double det = a[0] * a[3] - a[1] * a[2];
        double[] inverse = { a[3] / det, -a[1] / det, -a[2] / det, a[0] / det };
        double[] inverseTu = { inverse[0] * u[0] + inverse[2] * u[1], inverse[1] * u[0] + inverse[3] * u[1] };
        double[] column = { inverse[0], inverse[2] };
        var closed = new double[4];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                closed[2 * i + j] = -double.NegativeInfinity * inverseTu[i] * column[j];
        var (_, pullback) = Diff.Vjp(m => m.Solve(Tensor.FromArray(new[] { double.NegativeInfinity, 1e-30 }, 2, 1)), Tensor.FromArray(a, 2, 2));
        Assert.Equal(closed, pullback(Tensor.FromArray(u, 2, 1)).Eval().ToDoubleArray());
        Passes(FuzzCommand.Programs(1, 105, 135, adversarial: true)[0]);
    }

    [Fact]
    public void CumprodProdAndHypotFamilies_ThePrograms_PassUnderTheirNames()
    {
        // wide adversarial 87/54: exp(∞ + det A) for a 3×3 A, gradient g·cof(A) with g = −∞ (NaN in other entries in each engine)
        Passes(FuzzCommand.Programs(1, 87, 54, adversarial: true, ops: OpSurface.Wide)[0]);
        // all adversarial 94/272 and wide 99/265: the JVP and second order of a cumprod over −∞ (a known limitation)
        Passes(FuzzCommand.Programs(1, 94, 272, adversarial: true, ops: OpSurface.All)[0]);
        Passes(FuzzCommand.Programs(1, 99, 265, ops: OpSurface.Wide)[0]);
        // all adversarial 95/297: a cumprod lane [1e300, 1e30, 1e30] beside a lane holding NaN, torch's running products
        Passes(FuzzCommand.Programs(1, 95, 297, adversarial: true, ops: OpSurface.All)[0]);
        // wide adversarial 105/54: prod over [1e300, 1e300, 2.1, 88] beside lanes of zeros, second order −8.1e301, torch's −∞
        Passes(FuzzCommand.Programs(1, 105, 54, adversarial: true, ops: OpSurface.Wide)[0]);
        // wide adversarial 108/136: cumprod of [−1e-310, 1e-300, −∞]: the last entry is (−1e-610)·(−∞) = +∞, torch's −0·(−∞)
        var lane = Values(torch.tensor(new[] { -1e-310, 1e-300, double.NegativeInfinity }, dtype: torch.ScalarType.Float64).cumprod(0));
        Assert.True(double.IsNaN(lane[2]), $"torch's {lane[2]}");
        Assert.Equal(double.PositiveInfinity, ((Expr)Tensor.FromArray(new[] { -1e-310, 1e-300, double.NegativeInfinity }, 3)).Cumprod(0).Eval().ToDoubleArray()[2]);
        Assert.Contains(FuzzCommand.Programs(1, 108, 136, adversarial: true, ops: OpSurface.Wide)[0].Forward().TorchWrong,
            w => w.Why == "Prod or Cumprod whose running product underflows before an infinity");
    }

    [Fact]
    public void Atan2TrilAndHardtanhFindings_ThePrograms_PassUnderTheirNames()
    {
        // atan2(x, x) is a constant at x ≠ 0: its second derivative is 0, ours; torch's ±1/(2x²) terms at x = −1e-45 are ±5e89 and absorb the rest
        var ours = Diff.Hvp(e => Expr.Atan2(e, e).Sum() - (e * e).Sum(), Tensor.FromArray(new[] { -1e-45 }, 1), Tensor.FromArray(new[] { 1.0 }, 1)).Eval().ToDoubleArray();
        Assert.Equal(-2.0, ours[0]);
        Passes(FuzzCommand.Programs(1, 99, 131, adversarial: true)[0]);
        // atan2(x, x) at NaN: the symbolic zero in ours, NaN in torch's
        Passes(FuzzCommand.Programs(1, 104, 152, ops: OpSurface.Wide)[0]);
        // cosh(tril(x², −1)) over a row holding +∞: every entry zeroed, Hessian 0, torch's NaN in the column of the infinity
        Passes(FuzzCommand.Programs(1, 104, 117, adversarial: true, ops: OpSurface.All)[0]);
        // hardtanh at NaN: the reference's relu6 form
        Passes(FuzzCommand.Programs(1, 107, 269, adversarial: true, ops: OpSurface.All)[0]);
        // pow(x, 1) at NaN: x itself, second derivative 0 in ours, NaN in torch's; addcdiv over an empty broadcast beside +∞
        Passes(FuzzCommand.Programs(1, 107, 32)[0]);
        Passes(FuzzCommand.Programs(1, 108, 245, adversarial: true, ops: OpSurface.All)[0]);
        // sinc at −0 under an infinite cotangent: the slope is exactly 0, so c·sinc′(0) = 0 for every finite c, torch's 0; ours
        // ∞·0 = NaN, as at a NaN cotangent
        var zero = Leaf(new[] { -0.0 });
        Assert.Equal(0.0, Grad(zero.sinc() * double.PositiveInfinity, zero)[0]);
        Passes(FuzzCommand.Programs(1, 110, 88, adversarial: true)[0]);
    }
}
