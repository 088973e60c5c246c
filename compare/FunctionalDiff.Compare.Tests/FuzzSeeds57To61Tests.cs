using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges18 settled among the open findings of the adversarial seeds 49 and 57 to 61: tanh where it saturates
/// before an infinite slope (torch's, named). Torch's numbers and ours against the closed form, and the programs.
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
}
