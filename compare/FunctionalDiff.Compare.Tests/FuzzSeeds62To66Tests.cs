using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges19 settled among the findings of the seeds it ran past those listed (adversarial 52, all adversarial
/// 63): torch's rsqrt rule where y³ overflows (named), and torch's maximum and minimum of zeros of opposite signs, whose
/// sign the fuzzer's torch side now takes from IEEE 754. Torch's numbers and ours against the closed form, and the programs.
/// </summary>
public class FuzzSeeds62To66Tests
{
    [Fact]
    public void Rsqrt_WhereItsCubeOverflows_HasAFiniteGradient_TorchsRuleIsInfinite()
    {
        // the shrunk `adversarial 52/133`: rsqrt(x₀)·x₁ at x₀ = 1e-310, x₁ = −1e-310 under the cotangent u. The gradient in x₀ is
        // u·x₁·(−½x₀^(−3/2)); x₀^(−3/2) = 1e465 overflows, but the product does not: by logarithms, |u·x₁|·½·1e465
        double x0 = 1e-310, x1 = -1e-310, u = -0.0646312;
        double magnitude = Math.Exp(Math.Log(Math.Abs(u * x1)) + Math.Log(0.5) - 1.5 * Math.Log(x0));
        double closed = -Math.Sign(u * x1) * magnitude;
        Assert.InRange(closed, -3.24e153, -3.22e153);
        var a = torch.tensor(new[] { x0 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var b = torch.tensor(new[] { x1 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { (a.rsqrt() * b * u).sum() }, new[] { a })[0]);
        Assert.True(double.IsNegativeInfinity(torchs[0]), $"torch's gradient {torchs[0]:R}");
        // ours as the fuzzer's VJP check takes it: the pullback of rsqrt(x₀)·x₁ at the cotangent u
        var (_, pullback) = Diff.Vjp((Expr[] v) => v[0].Rsqrt() * v[1], Tensor.FromArray(new[] { x0 }, 1), Tensor.FromArray(new[] { x1 }, 1));
        var ours = pullback(Tensor.FromArray(new[] { u }, 1));
        Assert.Equal(closed, ours[0].Eval().ToDoubleArray()[0], Math.Abs(closed) * 1e-12);
        // the gradient in x₁ is u·x₀^(−½) = u·1e155 in both
        Assert.Equal(u * 1e155, ours[1].Eval().ToDoubleArray()[0], Math.Abs(u) * 1e143);
        var program = FuzzCommand.Programs(1, 52, 133, adversarial: true)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Rsqrt where y³ overflows"));
        Passes(program);
    }

    [Fact]
    public void MaximumOfZerosOfOppositeSigns_IsPlusZero_TorchsSignDependsOnItsLoop()
    {
        // IEEE 754's maximum orders −0 below +0, so max(−0, +0) = +0 and min(−0, +0) = −0 in either order; the sign of a
        // zero is the sign of its reciprocal. Torch's float32 kernels return the first operand in a short tensor (the
        // scalar loop) and the second in a long one (the vectorised loop)
        static double SignOf(float z) => 1.0 / z;
        var shortMax = torch.maximum(torch.tensor(new[] { -0f }), torch.tensor(new[] { 0f })).data<float>().ToArray();
        var longMax = torch.maximum(torch.tensor(Enumerable.Repeat(-0f, 40).ToArray()), torch.tensor(new float[40])).data<float>().ToArray();
        Assert.Equal(double.NegativeInfinity, SignOf(shortMax[0]));
        Assert.Equal(double.PositiveInfinity, SignOf(longMax[0]));
        Expr minus = Tensor.FromArray(new[] { -0f }, 1), plus = Tensor.FromArray(new[] { 0f }, 1);
        Assert.Equal(double.PositiveInfinity, 1.0 / Expr.Maximum(minus, plus).Eval().ToDoubleArray()[0]);
        Assert.Equal(double.PositiveInfinity, 1.0 / Expr.Maximum(plus, minus).Eval().ToDoubleArray()[0]);
        Assert.Equal(double.NegativeInfinity, 1.0 / Expr.Minimum(minus, plus).Eval().ToDoubleArray()[0]);
        Assert.Equal(double.NegativeInfinity, 1.0 / Expr.Minimum(plus, minus).Eval().ToDoubleArray()[0]);
        // `all adversarial 63/66`: in float32 an input of −1e-300 rounds to −0 and meets a constant +0 in a maximum, whose
        // sign atan2 then reads (atan2(+0, −1.03) = π, torch's kernel −π); the torch side gives such entries IEEE's sign
        Assert.Equal(Math.PI, Math.Atan2(0.0, -1.03));
        Assert.Equal(-Math.PI, Math.Atan2(-0.0, -1.03));
        var program = FuzzCommand.Programs(1, 63, 66, adversarial: true, ops: OpSurface.All)[0];
        Passes(program);
        Passes(program.RoundedToFloat32());
    }
}
