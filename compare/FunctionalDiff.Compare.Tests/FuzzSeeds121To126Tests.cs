using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What seeds 121 to 126 (2026-12-07, branch fuzz27) found, each with torch's numbers and ours against a closed form, and
/// the program passing the fuzzer as named.
/// </summary>
public class FuzzSeeds121To126Tests
{
    static torch.Tensor Tensor64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    [Fact]
    public void AllAdversarial121_38_LogitWithEpsOutsideItsBounds_TheFunctionIsFlat_TorchsSecondOrderIsNaN_Named()
    {
        // logit(x, eps = 0.25) = logit(clamp(x, 0.25, 0.75)) is the constant logit(0.25) = −log 3 for every x < 0.25, so at
        // x = 0 its first and second derivatives are 0. Torch's rule where(0.25 ≤ x ≤ 0.75, g/(x(1 − x)), 0) gets the first
        // right; differentiated again, the untaken branch's quotient receives the cotangent 0 and forms 0·g/(x(1 − x))²,
        // 0/0 = NaN at x(1 − x) = 0
        double u = 0.915821;
        var at = Tensor64(new[] { 0.0, 0.5 }, 2).requires_grad_(true);
        var y = (at.logit(0.25) * u).sum();
        var g = torch.autograd.grad(new[] { y }, new[] { at }, retain_graph: true, create_graph: true)[0];
        Assert.Equal(0.0, Values(g)[0]);
        Assert.Equal(u / 0.25, Values(g)[1], 12);
        var torchs = Values(torch.autograd.grad(new[] { g.sum() }, new[] { at })[0]);
        Assert.True(double.IsNaN(torchs[0]), "torch's second derivative at x = 0");
        // at 0.5 the curvature of logit, (2x − 1)/(x(1 − x))², is 0 in both engines
        Assert.Equal(0.0, torchs[1], 12);

        Expr F(Expr e) => (e.Logit(0.25) * u).Sum();
        var point = Tensor.FromArray(new[] { 0.0, 0.5 }, 2);
        Assert.Equal(new[] { 0.0, u / 0.25 }, Diff.Grad(F)(point).Eval().ToDoubleArray());
        var ours = Diff.Hessian(F)(point).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0.0, 0.0, 0.0 }, ours.Select(v => Math.Round(v, 12)).ToArray());
        Assert.Equal(0.0, ours[0]);

        // as drawn: the logit's operand a squashed NaN (its JVP and Hessian 0 in ours, the clamp's mask; NaN in torch's)
        Passes(FuzzCommand.Programs(1, 121, 38, adversarial: true, ops: OpSurface.All)[0]);
    }
}
