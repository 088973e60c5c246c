using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What seeds 127 to 130 (every mode, 2026-12-07) found, each with torch's numbers and ours against closed forms, and the
/// program passing the fuzzer as named.
/// </summary>
public class FuzzSeeds127To130Tests
{
    [Fact]
    public void All128_152_AnOutputWithNoEntries_DerivativesAreExactlyZero_TorchsNaN_Named()
    {
        // y = slice(concat(x₁ / kl_div(+∞, t), three times), nothing): no entries, so every derivative is an empty sum, 0.
        // torch's zero cotangent meets kl_div's slope in its target, exp(t)·(t − input + 1) = −∞ at input +∞: 0·∞ = NaN.
        var t = torch.tensor(0.7538827312020214, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var x1 = torch.tensor(new[] { 0.8498934663681017, 88.0 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var input = torch.tensor(double.PositiveInfinity, dtype: torch.ScalarType.Float64);
        var kl = torch.nn.functional.kl_div(input, t, reduction: torch.nn.Reduction.Sum, log_target: true);
        var v1 = x1 / kl;
        var y = torch.cat(new[] { v1, v1, v1 }, -1).slice(-1, 0, 0, 2);
        Assert.Equal(0, y.numel());
        var g = torch.autograd.grad(new[] { y }, new[] { t, x1 }, new[] { torch.zeros_like(y) }, allow_unused: true);
        Assert.True(double.IsNaN(g[0].item<double>()), "torch's gradient in the target: 0·∞");

        Expr F(Expr[] x) => (Expr.Concat(-1, x[1] / Loss.KlDiv(double.PositiveInfinity, x[0], Reduction.Sum, logTarget: true),
            x[1] / Loss.KlDiv(double.PositiveInfinity, x[0], Reduction.Sum, logTarget: true)).Slice(-1, 0, 0, step: 2)).Sum();
        var grads = Diff.Grad(F)(new Expr[] { Tensor.Scalar(0.7538827312020214), Tensor.FromArray(new[] { 0.8498934663681017, 88.0 }, 2) });
        Assert.Equal(new[] { 0.0 }, grads[0].Eval().ToDoubleArray());
        Assert.Equal(new[] { 0.0, 0.0 }, grads[1].Eval().ToDoubleArray());

        Passes(FuzzCommand.Programs(1, 128, 152, adversarial: true, ops: OpSurface.All)[0]);
    }
}
