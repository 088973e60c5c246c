using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What seeds 127 to 134 (every mode, 2026-12-07) found, each with torch's numbers and ours against closed forms, and the
/// program passing the fuzzer as named.
/// </summary>
public class FuzzSeeds127To134Tests
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
    [Fact]
    public void All131_90_MishOfAHugeNegativeProd_HessianIsZero_TorchsCompositeNaN_Named()
    {
        // mish(p) with p = prod([0.8, −1e160, 0.8]) = −6.4e159: softplus(p) underflows to 0, so mish's slope and curvature
        // are exact zeros in the limit, and the Hessian mish″(p)·∇p∇pᵀ + mish′(p)·∇²p is 0 (the factors ∇p hold 1e160)
        var x = torch.tensor(new[] { 0.8, -1e160, 0.8 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var p = x.prod();
        var y = p * torch.tanh(torch.nn.functional.softplus(p));
        var g = torch.autograd.grad(new[] { y }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var hv = torch.autograd.grad(new[] { (g * torch.ones_like(g)).sum() }, new[] { x })[0].data<double>().ToArray();
        Assert.Contains(hv, double.IsNaN);

        var h = Diff.Hessian(e => e.Prod().Mish())(Tensor.FromArray(new[] { 0.8, -1e160, 0.8 }, 3)).Eval().ToDoubleArray();
        Assert.All(h, v => Assert.Equal(0.0, Math.Abs(v)));

        Passes(FuzzCommand.Programs(1, 131, 90, adversarial: true, ops: OpSurface.All)[0]);
        Passes(FuzzCommand.Programs(1, 131, 123, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void All132_31_TanhOfCumprodWhosePairProductOverflows_TorchsEndsAreTheClosedForm_OursALimitation_Named()
    {
        // f = Σ tanh(cumprod(x)) at x = (a, 0, a), a = 1e300: cumprod is (a, 0, 0); tanh′(a) = tanh″(a) = 0, tanh′(0) = 1,
        // tanh″(0) = 0, and the mixed partials of x₀x₁ and x₀x₁x₂ give H = [[0, 1 + a, 0], [1 + a, 0, a], [0, a, 0]], so
        // the Hessian-vector product along (1, 1, 1) is (1 + a, 1 + 2a, a)
        double a = 1e300;
        var x = torch.tensor(new[] { a, 0.0, a }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var y = x.cumprod(0).tanh().sum();
        var g = torch.autograd.grad(new[] { y }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var hv = torch.autograd.grad(new[] { g.sum() }, new[] { x })[0].data<double>().ToArray();
        Assert.Equal(1 + a, hv[0], a * 1e-12);
        Assert.Equal(a, hv[2], a * 1e-12);

        Passes(FuzzCommand.Programs(1, 132, 31, adversarial: true, ops: OpSurface.All)[0]);
    }
    [Fact]
    public void All133_118_AnEmptyOutputAfterZeroOverASubnormal_SecondOrderIsZero_FixedInOurs()
    {
        // x₁ + Σ 0/x₀ with x₁ of shape [0, 1]: no entries, so every derivative is 0; 0/x₀'s slope −0/x₀² is 0/0 = NaN at
        // x₀ = 1e-310, which the empty cotangent's zeros met as 0·NaN in ours at second order (a node of no entries now
        // passes nothing on); torch's 0
        Passes(FuzzCommand.Programs(1, 133, 118, adversarial: true, ops: OpSurface.All)[0]);
    }
}
