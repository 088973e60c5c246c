using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The fuzzer's reference for sigmoid near 0 is ½ + ½·tanh(x/2) (see TorchInterpreter.NearZero): its derivatives keep their
/// digits where torch's sigmoid rules cancel, and an infinite cotangent meets one finite factor on each path. The Maclaurin
/// polynomial it replaced summed paths of both signs, ∞ − ∞ = NaN, where torch's own sigmoid, ours and the closed form
/// are −∞ (`fuzz all adversarial 2/1`).
/// </summary>
public class FuzzReferenceSigmoidTests
{
    [Fact]
    public void All2_1_SigmoidDotInfinities_TorchsOwnRuleAndOursAreTheClosedForm_ThePassingReference()
    {
        // d/dx u·σ(x)·∞ = u·σ′(x)·∞ = −∞ for u < 0, σ′(x) ≈ ¼
        var x = torch.tensor(new[] { 0.0004049119f, 1.3437879E-05f }).requires_grad_(true);
        var w = torch.tensor(new[] { float.PositiveInfinity, float.PositiveInfinity });
        var y = x.sigmoid().dot(w);
        var g = torch.autograd.grad(new[] { y }, new[] { x }, new[] { torch.tensor(-0.0837268f) })[0].data<float>().ToArray();
        Assert.All(g, v => Assert.Equal(float.NegativeInfinity, v));

        var ours = Diff.Grad(e => e.Sigmoid().Dot(Tensor.FromArray(new[] { float.PositiveInfinity, float.PositiveInfinity }, 2)) * -0.0837268)(
            Tensor.FromArray(new[] { 0.0004049119f, 1.3437879E-05f }, 2)).Eval().ToDoubleArray();
        Assert.All(ours, v => Assert.Equal(double.NegativeInfinity, v));

        Passes(FuzzCommand.Programs(1, 2, 1, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void All98_215_SigmoidNearZeroBehindHugeWeights_StillPassesWithTheTanhReference()
    {
        // σ at 3.5e-141 behind 1e300 weights: the Hessian entry u·σ″·W² is +∞ in the closed form (σ″(x) ≈ −x/8 · … ),
        // where torch's own curvature factor 1 − 2σ is exactly 0
        Passes(FuzzCommand.Programs(1, 98, 215, adversarial: true, ops: OpSurface.All)[0]);
    }
}
