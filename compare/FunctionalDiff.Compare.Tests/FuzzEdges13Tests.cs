using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges13's runs found: torch's own numbers against the closed form where torch is wrong, ours against it,
/// and the programs passing the fuzzer's checks (the library's fixes are specified against closed forms in the core's
/// EdgeThirteenTests).
/// </summary>
public class FuzzEdges13Tests
{
    [Fact]
    public void Atan2_WhereTheSquaresUnderflowOffTheOrigin_HasTheSlopeOneOverB_TorchsMaskGivesZero()
    {
        // ∂/∂a atan2(a, b) = b/(a² + b²), which is 1/b at a = 0: −1e300 at b = −1e-300, and 1e310, beyond the range, +∞ at
        // b = 1e-310; b² underflows to 0 in both, where torch takes its mask of the origin
        var b = new[] { -1e-300, 1e-310, -0.5 };
        var closed = new[] { 1 / b[0], double.PositiveInfinity, 1 / b[2] };
        var a = torch.zeros(3, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var torchSlope = Values(torch.autograd.grad(new[] { torch.atan2(a, torch.tensor(b, dtype: torch.ScalarType.Float64)).sum() }, new[] { a })[0]);
        Assert.Equal(0.0, torchSlope[0]);
        Assert.Equal(0.0, torchSlope[1]);
        Assert.Equal(closed[2], torchSlope[2], 15);
        var ours = Diff.Grad(x => Expr.Atan2(x, Tensor.FromArray(b, 3)).Sum())(Tensor.FromArray(new double[3], 3)).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++)
            Assert.True(double.IsFinite(closed[i]) ? Math.Abs(ours[i] - closed[i]) <= 1e-15 * Math.Abs(closed[i]) : ours[i] == closed[i],
                $"entry {i}: ours {ours[i]:R}, the closed form {closed[i]:R}");
        Passes(FuzzCommand.Programs(1, 44, 9, adversarial: true)[0]);
    }

    [Fact]
    public void TheProgramsFixedInTheLibrary_PassTheFuzzersChecks()
    {
        // x₀·silu(x₁^0.246) at 0 (silu's rule is one factor) and a transposed convolution with −∞ weights before Repeat(0, ...)
        // (a loop of no steps is its init)
        Passes(FuzzCommand.Programs(1, 4, 690, ops: OpSurface.All)[0]);
        Passes(FuzzCommand.Programs(1, 43, 94, adversarial: true)[0]);
    }
}
