using System.Numerics;
using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges20 settled: `adversarial 16/84`, whose NaN the rounding of a faithful tanh decides (the conditioning
/// rule's NaN decided by rounding), and the findings of the seeds it ran: `wide adversarial 5/271` (the reference's scaled
/// norm under a huge cotangent), `all adversarial 65/55` (the reference's hardsigmoid slope at NaN, at second order) and
/// `all adversarial 66/1` (torch's nll_loss double backward, whose zeros meet an infinite slope).
/// Torch's numbers and ours against independent references, and the programs.
/// </summary>
public class FuzzSeeds67To71Tests
{
    /// <summary>tanh x for a finite double x in [0, 1] as an exact fixed-point number scaled by 2^Bits: e^(2x) by its
    /// series in integers (2x is dyadic, so every term is exact up to the last unit), then (e − 1)/(e + 1).</summary>
    static BigInteger TanhScaled(double x)
    {
        BigInteger one = BigInteger.One << Bits, y = ToScaled(2 * x), term = one, exp = one;
        for (int k = 1; term != 0; k++)
        {
            term = term * y / (one * k);
            exp += term;
        }
        return (exp - one) * one / (exp + one);
    }

    const int Bits = 300;

    /// <summary>A double in [0, 2] scaled by 2^Bits, exactly (its 53 bits lie above 2^−1074 and far below 2^Bits).</summary>
    static BigInteger ToScaled(double x)
    {
        long bits = BitConverter.DoubleToInt64Bits(x);
        int exponent = (int)((bits >> 52) & 0x7FF) - 1075;
        long mantissa = (bits & 0xFFFFFFFFFFFFFL) | (1L << 52);
        return new BigInteger(mantissa) << (Bits + exponent);
    }

    [Fact]
    public void Adversarial16_84_SqrtOfTheCosineOfAHugeProduct_IsNaNOrNotByOneUlpOfAFaithfulTanh_ClassifiedIllConditioned()
    {
        // the shrunk program: √cos(tanh(x₀)·x₁) whose second column of x₁ holds 1e30 against x₀ = √½ rounded, so the cosine's
        // argument is 1e30·tanh(0.7071067811865476) = 6.1e29, where one ulp of tanh (1.1e-16) moves it by 1.1e14
        double[] x0 = { 0.9385078997951388, 0.7071067811865476, 0.7071067811865476, 0.34525776171161965 };
        double[] x1 = { -0.4688375807294273, -0.4688375807294273, -0.4688375807294273, -0.5796347312157601, -0.1631093518793784, 1e30, -0.5796347312157601, 5e-324 };
        double oursTanh = ((Expr)Tensor.FromArray(x0, 4)).Tanh().Eval().ToDoubleArray()[1];
        double torchTanh = Values(torch.tanh(torch.tensor(x0, dtype: torch.ScalarType.Float64)))[1];
        // both are faithful roundings of the exact tanh, one on each side of it: neither engine is wrong
        BigInteger exact = TanhScaled(x0[1]), ulp = ToScaled(Math.BitIncrement(torchTanh)) - ToScaled(torchTanh);
        Assert.Equal(Math.BitIncrement(torchTanh), oursTanh);
        Assert.True(ToScaled(torchTanh) < exact && exact < ToScaled(oursTanh), "the exact tanh lies between the two");
        Assert.True((exact - ToScaled(torchTanh)) * 2 < ulp, "torch's is the correctly rounded one");
        // and one ulp decides the cosine's sign: torch's own cos at the two products (the products are exact roundings of
        // the same real numbers in both engines). From 2000-bit arithmetic: cos(1e30·tanh x) = 0.792 with the exact tanh,
        // −0.627 at torch's tanh, 0.676 at ours
        var cosines = Values(torch.cos(torch.tensor(new[] { torchTanh * 1e30, oursTanh * 1e30 }, dtype: torch.ScalarType.Float64)));
        Assert.True(cosines[0] < 0 && cosines[1] > 0, $"cos {cosines[0]:R} and {cosines[1]:R}");
        Assert.Equal(Math.Cos(torchTanh * 1e30), cosines[0], 1e-12);
        Assert.Equal(Math.Cos(oursTanh * 1e30), cosines[1], 1e-12);
        // so torch's √ is NaN and ours a number; the strict check fails, and the conditioning rule finds torch's own entry a
        // number under the moves of the inputs' last bits, scattered between 0.76 and 0.93, with ours among them
        var shrunk = new FuzzProgram("fuzz adversarial 16/84 shrunk", 1, new[] { new[] { 4 }, new[] { 4, 2 } }, new[] { x0, x1 }, new[]
        {
            new Step(OpKind.Tanh, new[] { 0 }, Array.Empty<int>()), new Step(OpKind.MatMul, new[] { 2, 1 }, Array.Empty<int>()),
            new Step(OpKind.Cos, new[] { 3 }, Array.Empty<int>()), new Step(OpKind.Sqrt, new[] { 4 }, Array.Empty<int>()),
        }, 5);
        var strict = CaseRunner.Run(shrunk.ToCase(), DType.Float64);
        Assert.Contains(strict, r => r.Check == nameof(Check.Value) && !r.Passed);
        var results = FuzzCheck.Checked(shrunk, DType.Float64);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        Assert.Contains(results, r => r.Check == nameof(Check.Value) && r.Note == FuzzCheck.ConditioningNote);
        // the program as drawn takes tanh of √σ(−0) = √½ too, through erfinv before the product: ours was NaN there (our
        // faithful tanh again one ulp above torch's), torch's a number, and NaN under 6 of its 16 moves. Since erfc on
        // [½, 3) is erfcx(x)·e^{−x²} (branch edges), the erfc that erfinv's Newton steps read there, the last bits of its
        // erfinv moved and the drawn program passes the strict check as well
        var drawn = FuzzCommand.Programs(1, 16, 84, adversarial: true)[0];
        Passes(drawn);
    }

    [Fact]
    public void WideAdversarial5_271_AScaledNormUnderAHugeCotangent_TheReferencesChainOverflows_OursIsTheClosedForm()
    {
        // x₁·‖x₀‖ with x₀ = [−1.61, −1e300, 0.94] and x₁ = [x₀, x₀] under the cotangent u: the cotangent into the norm is
        // g = Σ u·x₁ = −1.68e300, and the gradient in x₀ is g·x₀/‖x₀‖, of size |g| at most
        double[] x0 = { -1.6099786365729412, -1e300, 0.9358643494964478 };
        double[] u = { 0.400494, 1.18638, -0.62784, 0.156625, 0.496958, -1.36287 };
        double g = 0;
        for (int j = 0; j < 6; j++) g += u[j] * x0[j % 3];
        double norm = 1e300 * Math.Sqrt(1 + (x0[0] / 1e300) * (x0[0] / 1e300) + (x0[2] / 1e300) * (x0[2] / 1e300));
        var closed = x0.Select(v => g * (v / norm)).ToArray();
        Assert.InRange(closed[0], 2.70, 2.72);
        // torch's own Frobenius norm squares the entries: +∞ (why the reference scales it)
        var plain = torch.tensor(x0, dtype: torch.ScalarType.Float64).reshape(1, 3);
        Assert.True(double.IsPositiveInfinity(torch.linalg.matrix_norm(plain, "fro").item<double>()));
        // the reference s·‖x₀/s‖, s = 2^⌊log2 1e300⌋ held: its value is right, its chain hands the inner norm g·s = ∞
        var step = new Step(OpKind.FrobeniusNorm, new[] { 0 }, Array.Empty<int>());
        var leaf = torch.tensor(x0, dtype: torch.ScalarType.Float64).reshape(1, 3).requires_grad_(true);
        var reference = TorchInterpreter.Apply(step, new[] { leaf }, torch.ScalarType.Float64);
        Assert.Equal(norm, reference.item<double>(), norm * 1e-15);
        var referenceGradient = Values(torch.autograd.grad(new[] { reference * g }, new[] { leaf })[0]);
        Assert.All(referenceGradient, v => Assert.True(double.IsInfinity(v), $"{v:R}"));
        // ours is the closed form
        var ours = Diff.Grad(v => v.FrobeniusNorm() * g)(Tensor.FromArray(x0, 1, 3)).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++) Assert.Equal(closed[i], ours[i], Math.Abs(closed[i]) * 1e-14);
        var program = FuzzCommand.Programs(1, 5, 271, adversarial: true, ops: OpSurface.Wide)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("A scaled 2-norm under a cotangent"));
        Passes(program);
        // a scaled norm under a cotangent of size 1 is still compared
        var moderate = FuzzTestSupport.Program("scaled norm, moderate cotangent", new[] { new[] { 1, 3 } }, new[] { x0 }, step);
        Assert.DoesNotContain(moderate.Forward().TorchWrong, w => w.Why.StartsWith("A scaled 2-norm under a cotangent"));
        Passes(moderate);
    }

    [Fact]
    public void AllAdversarial65_55_HardsigmoidAtNaN_TheReferencesSlopeReachesTheSecondOrderThroughACurvedOperand()
    {
        // hardsigmoid(x₀² + x₁²) at x₀ = 0, x₁ = NaN: the reference relu6(s + 3)/6 passes g/6 at NaN in its scalar loop, so
        // its second order in x₀ is u·(1/6)·2v₀ (the slope times the square's curvature); torch's own hardsigmoid backward and
        // ours have the slope 0 at NaN, so 0
        double u = -0.290059, v0 = 0.496203, v1 = -0.369971;
        var x = torch.tensor(new[] { 0.0, double.NaN }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var s = (x * x).sum().reshape(1);
        var first = torch.autograd.grad(new[] { (torch.nn.functional.relu6(s + 3.0) / 6.0 * u).sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var second = Values(torch.autograd.grad(new[] { (first * torch.tensor(new[] { v0, v1 }, dtype: torch.ScalarType.Float64)).sum() }, new[] { x })[0]);
        Assert.Equal(u * 2 * v0 / 6, second[0], 1e-15);
        var own = torch.tensor(new[] { 0.0, double.NaN }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var ownSlope = Values(torch.autograd.grad(new[] { torch.nn.functional.hardsigmoid((own * own).sum().reshape(1)).sum() }, new[] { own })[0]);
        Assert.Equal(0.0, ownSlope[0]);
        var program = FuzzCommand.Programs(1, 65, 55, adversarial: true, ops: OpSurface.All)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Hardsigmoid at a NaN entry")
            && w.Checks.Contains(Check.SecondOrder) && w.Checks.Contains(Check.Hessian));
        Passes(program);
    }

    [Fact]
    public void AllAdversarial66_1_NllLossOfAMatrixProductWithAnInfinity_HasAFiniteSecondOrder_TorchsZerosMeetTheInfinity()
    {
        // f = u·nll(x₀x₁ flattened, target 4) = −u·Σₖ x₀[1, k]·x₁[k, 1]: bilinear, so its second order along v is the constant
        // cross term, −u·v at the paired entries and 0 elsewhere, whatever the +∞ entries of x₀ and x₁
        double[] a = { 0, 0, 0, double.PositiveInfinity, 0, 0, 0, -5e-324, 0 }, b = { 0, double.PositiveInfinity, 0, 0, 0, -5e-324, 0, 0, 0 };
        double u = 0.316501;
        var v = Enumerable.Range(0, 18).Select(i => Math.Round(Math.Sin(3.7 * i + 1), 3)).ToArray();
        var closed = new double[18];
        for (int k = 0; k < 3; k++)
        {
            closed[3 + k] = -u * v[10 + 3 * k];
            closed[10 + 3 * k] = -u * v[3 + k];
        }
        double[] SecondOrder(Func<torch.Tensor, torch.Tensor> loss)
        {
            var x0 = torch.tensor(a, dtype: torch.ScalarType.Float64).reshape(3, 3).requires_grad_(true);
            var x1 = torch.tensor(b, dtype: torch.ScalarType.Float64).reshape(3, 3).requires_grad_(true);
            var y = loss(x0.mm(x1).reshape(1, 9)) * u;
            var g = torch.autograd.grad(new[] { y.sum() }, new[] { x0, x1 }, retain_graph: true, create_graph: true);
            var along = (g[0].reshape(9) * torch.tensor(v[..9], dtype: torch.ScalarType.Float64)).sum()
                        + (g[1].reshape(9) * torch.tensor(v[9..], dtype: torch.ScalarType.Float64)).sum();
            var h = torch.autograd.grad(new[] { along }, new[] { x0, x1 });
            return Values(h[0]).Concat(Values(h[1])).ToArray();
        }
        var target = torch.tensor(new long[] { 4 });
        var viaNll = SecondOrder(x => torch.nn.functional.nll_loss(x, target));
        var viaIndex = SecondOrder(x => -x[0, 4]);
        Assert.Equal(closed, viaIndex);
        Assert.Contains(viaNll, double.IsNaN);
        Assert.All(Enumerable.Range(0, 18).Where(i => !double.IsNaN(viaNll[i])), i => Assert.Equal(closed[i], viaNll[i]));
        // ours: the second order of the same loss, reverse over reverse
        Expr[] Point() => new Expr[] { Tensor.FromArray(a, 3, 3), Tensor.FromArray(b, 3, 3) };
        var vs = new[] { Tensor.FromArray(v[..9], 3, 3), Tensor.FromArray(v[9..], 3, 3) };
        var gradient = Diff.Grad((Expr[] x) => Loss.NllLoss(x[0].MatMul(x[1]).Reshape(1, 9), new[] { 4 }, Reduction.Mean) * u);
        var ours = Diff.Grad((Expr[] x) => { var g = gradient(x); return (g[0] * vs[0]).Sum() + (g[1] * vs[1]).Sum(); })(Point())
            .SelectMany(t => t.Eval().ToDoubleArray()).ToArray();
        Assert.Equal(closed, ours);
        var program = FuzzCommand.Programs(1, 66, 1, adversarial: true, ops: OpSurface.All)[0];
        Assert.Contains("NllLoss over entries computed through an infinite slope", program.Forward().TorchNaN);
        Passes(program);
    }

    [Theory]
    // torch's NaN at the program's point, a number under some moves and scattered: ours among those numbers is explained
    [InlineData(0.82, new[] { double.NaN, 0.55, 0.97, double.NaN, 0.21 }, true)]
    // ours outside the numbers torch's moves reach is not
    [InlineData(1.5, new[] { double.NaN, 0.55, 0.97, double.NaN, 0.21 }, false)]
    // a NaN every move keeps is structural (0·∞ of values the moves keep): never explained
    [InlineData(0.82, new[] { double.NaN, double.NaN, double.NaN }, false)]
    // an entry the NaN only passes through (a tiny weight times the NaN cotangent) is a stable number under the moves: ours
    // is held to it within the tolerance
    [InlineData(-0.21097840835003331, new[] { double.NaN, -0.21097840835003328, -0.21097840835003328 }, true)]
    [InlineData(-0.2109785, new[] { double.NaN, -0.21097840835003328, -0.21097840835003328 }, false)]
    public void ANaNOfTorchsAtTheProgramsPoint_IsExplainedOnlyWhereItsMovesMakeItNumbersAroundOurs(double ours, double[] moved, bool explained) =>
        Assert.Equal(explained, FuzzCheck.Explained(ours, double.NaN, moved, tolerance: 1e-8));
}
