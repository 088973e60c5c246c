using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges18 settled among the open findings of the adversarial seeds 49 to 61: tanh where it saturates before an
/// infinite slope, and hardshrink's curvature 0 before an infinite weight (torch's, named). Torch's numbers and ours against
/// the closed form, and the programs.
/// </summary>
public class FuzzSeeds57To61Tests
{
    static torch.Tensor T(double[] values, params long[] shape) => torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    [Fact]
    public void Tanh_WhereItSaturates_BeforeAnOverflowedSlope_HasTheLimitZero_TorchsIsNaN()
    {
        // the shrunk `adversarial 49/58`: tanh(rsqrt(x)) at x = 1e-300, r = x^−½ = 1e150. The derivative is sech²(r)·(−½x^−3/2);
        // sech²(r) ≤ 4e^(−2r), so by logarithms |f′| ≤ e^(ln 4 − 2r + ln ½ + 1.5·ln(1/x)), below the smallest double: 0
        double x = 1e-300, r = 1.0 / Math.Sqrt(x);
        double bound = Math.Exp(Math.Log(4.0) - 2.0 * r + Math.Log(0.5) - 1.5 * Math.Log(x));
        Assert.Equal(0.0, bound);
        var xs = T(new[] { x, 0.25 }, 2).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { xs.rsqrt().tanh().sum() }, new[] { xs })[0]);
        Assert.True(double.IsNaN(torchs[0]), $"torch's gradient at 1e-300: {torchs[0]:R}");
        // at x = 0.25, r = 2: the closed form, in torch and in ours
        double ordinary = (1.0 - Math.Tanh(2.0) * Math.Tanh(2.0)) * (-0.5 * Math.Pow(0.25, -1.5));
        Assert.Equal(ordinary, torchs[1], 14);
        var ours = Diff.Grad(v => v.Rsqrt().Tanh().Sum())(Tensor.FromArray(new[] { x, 0.25 }, 2)).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        Assert.Equal(ordinary, ours[1], 14);
        var program = FuzzCommand.Programs(1, 49, 58, adversarial: true)[0];
        Assert.Contains("Tanh where it saturates (torch's slope 1 − y² is exactly 0)", program.Forward().TorchNaN);
        Passes(program);
    }

    [Fact]
    public void Hardshrink_IsLinearOnEveryBranch_ItsHessianIsZero_TorchsMeetsAnInfiniteWeightAsNaN()
    {
        // the shrunk `adversarial 50/13` (float32): hardshrink(W·x + x, λ = 1) with W = [[−∞, 710], [710, 1000]] at
        // x = [1.5677377, −1e-30]: both entries lie outside ±1 (−∞ and 1113), where hardshrink is the identity, so the
        // function is the linear map x ↦ W·x + x and every second derivative is 0
        float[] w = { float.NegativeInfinity, 710f, 710f, 1000f };
        float[] xs = { 1.5677377f, -1e-30f };
        float[] u = { -1.08279f, 0.274008f }, v = { 0.279157f, 1.56261f };
        var weight = torch.tensor(w, dtype: torch.ScalarType.Float32).reshape(2, 2);
        var x = torch.tensor(xs, dtype: torch.ScalarType.Float32).requires_grad_(true);
        var y = torch.nn.functional.hardshrink(torch.nn.functional.linear(x, weight, x), 1.0);
        var first = torch.autograd.grad(new[] { (y * torch.tensor(u)).sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var second = torch.autograd.grad(new[] { (first * torch.tensor(v)).sum() }, new[] { x })[0];
        var torchs = second.detach().data<float>().ToArray();
        Assert.True(float.IsNaN(torchs[0]), $"torch's second order {torchs[0]:R}");
        Expr weights = Tensor.FromArray(w, 2, 2);
        Expr us = Tensor.FromArray(u, 2), vs = Tensor.FromArray(v, 2);
        Func<Expr, Expr> f = z => (Nn.Linear(z, weights, z).Hardshrink(1.0) * us).Sum();
        var ours = Diff.Grad(z => (Diff.Grad(f)(z) * vs).Sum())(Tensor.FromArray(xs, 2)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0.0 }, ours);
        var program = FuzzCommand.Programs(1, 50, 13, adversarial: true)[0];
        Assert.Contains("Hardshrink or Softshrink (curvature 0 on every branch)", program.Forward().TorchNaN);
        Passes(program);
    }
}
