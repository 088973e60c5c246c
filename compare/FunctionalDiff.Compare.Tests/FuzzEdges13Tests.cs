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

    [Fact]
    public void LogAddExp_OfAValueWithItself_AtInfinity_HasSlopeOne_TorchsIsNaN()
    {
        // logaddexp(x, x) = x + log 2: slope 1 everywhere; torch's σ(x − x) at x = +∞ is σ(NaN)
        var x = torch.tensor(new[] { double.PositiveInfinity, 0.0 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var torchGradient = Values(torch.autograd.grad(new[] { torch.logaddexp(x, x).sum() }, new[] { x })[0]);
        Assert.True(double.IsNaN(torchGradient[0]), $"torch's slope at +∞: {torchGradient[0]:R}");
        Assert.Equal(1.0, torchGradient[1]);
        var ours = Diff.Grad(v => Expr.LogAddExp(v, v).Sum())(Tensor.FromArray(new[] { double.PositiveInfinity, 0.0 }, 2)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 1.0, 1.0 }, ours);
        Passes(FuzzCommand.Programs(1, 44, 144, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Dist_OverNoEntries_IsZeroWithTheZeroMapAsDerivative_TorchsJvpIsNaN()
    {
        // dist(a, b) over an empty broadcast is the norm of no entries, 0 whatever the scalar: every derivative is 0
        var empty = torch.zeros(new long[] { 0, 1 }, dtype: torch.ScalarType.Float64);
        var b = torch.tensor(-0.4165, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var y = torch.dist(empty, b, 3);
        Assert.Equal(0.0, y.item<double>());
        var u = torch.zeros_like(y).requires_grad_(true);
        var pulled = torch.autograd.grad(new[] { y }, new[] { b }, new[] { u }, create_graph: true)[0];
        var torchJvp = torch.autograd.grad(new[] { (pulled * -0.0575).sum() }, new[] { u })[0].item<double>();
        Assert.True(double.IsNaN(torchJvp), $"torch's JVP {torchJvp:R}");
        var (_, ours) = Diff.Jvp(v => Expr.Dist(Tensor.FromArray(Array.Empty<double>(), 0, 1), v, 3.0), Tensor.Scalar(-0.4165), Tensor.Scalar(-0.0575));
        Assert.Equal(0.0, ours.Eval().ToDoubleArray()[0]);
        Passes(FuzzCommand.Programs(1, 44, 183, adversarial: true, ops: OpSurface.All)[0]);
    }
}
