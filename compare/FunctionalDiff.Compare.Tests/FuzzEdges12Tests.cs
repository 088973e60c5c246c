using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using F = TorchSharp.torch.nn.functional;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges12's runs (seed 41) found: torch's own numbers against the closed form where torch is wrong, ours
/// against it, and the programs passing the fuzzer's checks.
/// </summary>
public class FuzzEdges12Tests
{
    [Fact]
    public void GroupNorm_JvpAlongAHugeTangentConstantOverTheGroup_IsSmall_TorchCentresItAboutARoundedMean()
    {
        // group norm of one group [a − 1.28, a], a = 6.4e9, along the tangent [T + 1, T + 0.5]: the centring removes T
        // exactly, so the JVP is that of the tangent [1, 0.5] alone, ±ε·0.25/(0.64² + ε)^(3/2) ≈ 1e-5
        double a = 6.4e9, epsilon = 1e-5, half = 0.64, delta = 0.5;
        double closed = epsilon * (delta / 2) / Math.Pow(half * half + epsilon, 1.5);
        foreach (var (big, torchIsNaN) in new[] { (1e150, false), (3.7e299, true) })
        {
            var x = torch.tensor(new[] { a - 1.28, a }, dtype: torch.ScalarType.Float64).reshape(1, 2).requires_grad_(true);
            var y = F.group_norm(x, 1);
            var u = torch.zeros_like(y).requires_grad_(true);
            var pulled = torch.autograd.grad(new[] { y }, new[] { x }, new[] { u }, retain_graph: true, create_graph: true)[0];
            var tangent = torch.tensor(new[] { big + 1.0, big + delta }, dtype: torch.ScalarType.Float64).reshape(1, 2);
            var torchJvp = Values(torch.autograd.grad(new[] { (pulled * tangent).sum() }, new[] { u }, retain_graph: true)[0]);
            if (torchIsNaN) Assert.True(torchJvp.All(double.IsNaN), $"torch's JVP at T = {big:R}: {string.Join(", ", torchJvp)}");
            else Assert.True(torchJvp.All(v => Math.Abs(v) > 1e140), $"torch's JVP at T = {big:R}: {string.Join(", ", torchJvp)}");
            var (_, ours) = Diff.Jvp(v => Nn.GroupNorm(v, 1), Tensor.FromArray(new[] { a - 1.28, a }, 1, 2),
                Tensor.FromArray(new[] { big + 1.0, big + delta }, 1, 2));
            // T + 1 and T + 0.5 round to T here, so ours sees a constant tangent, whose exact JVP is 0; within 1e-4 of the closed form
            foreach (var v in ours.Eval().ToDoubleArray()) Assert.True(Math.Abs(Math.Abs(v) - closed) <= 1e-4, $"ours {v:R}, closed form ±{closed:R}");
        }
        Passes(FuzzCommand.Programs(1, 41, 34, adversarial: true)[0]);
    }

    [Fact]
    public void Hardtanh_OfASubnormal_IsTheSubnormal_TheRescaledReferenceLostIt()
    {
        // hardtanh over [−0.5, 1] is x between the bounds: 1e-45 in float32 stays 1e-45, so 1e-45·(−∞) is −∞
        var x = Tensor.FromArray(new[] { 1e-45f, -1e-38f, 0.25f }, 3);
        Assert.Equal(new[] { 1e-45f, -1e-38f, 0.25f }, ((Expr)x).Hardtanh(-0.5, 1.0).Eval().ToSingleArray());
        // the relu6 form the reference used rounds x − min: (1e-45 + 0.5)·4 is 2, back to 0
        var rescaled = F.relu6((torch.tensor(new[] { 1e-45f }) + 0.5) * 4.0) * 0.25 - 0.5;
        Assert.Equal(0f, rescaled.data<float>()[0]);
        Passes(FuzzCommand.Programs(1, 41, 119, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void BinaryCrossEntropy_MeanOverNoEntries_HasTheZeroMapAsDerivative_TorchsJvpIsNaN()
    {
        // a function of no numbers: its JVP along the empty tangent is 0 in ours, however the NaN value is used after it
        var empty = Tensor.FromArray(Array.Empty<double>(), 3, 1, 0);
        var (value, tangent) = Diff.Jvp(p => Loss.BinaryCrossEntropy(p, empty, Reduction.Mean).Reshape(1, 1).MatrixPower(2), empty, empty);
        Assert.True(double.IsNaN(value.Eval().ToDoubleArray()[0]));
        Assert.Equal(new[] { 0.0 }, tangent.Eval().ToDoubleArray());
        Passes(FuzzCommand.Programs(1, 41, 295, adversarial: true, ops: OpSurface.All)[0]);
    }

    /// <summary>torch's JVP as the fuzzer's check takes it: the double backward at a zero cotangent, d/du ⟨Jᵀu, t⟩.</summary>
    static TT TorchJvp(TT y, TT x, TT tangent)
    {
        var u = torch.zeros_like(y).requires_grad_(true);
        var pulled = torch.autograd.grad(new[] { y }, new[] { x }, new[] { u }, retain_graph: true, create_graph: true)[0];
        return torch.autograd.grad(new[] { (pulled * tangent).sum() }, new[] { u }, retain_graph: true)[0];
    }

    [Fact]
    public void PairwiseDistance_OverNoEntries_HasTheZeroMapAsDerivative_TorchsJvpIsNaN()
    {
        // the distance over an empty last axis is 0 for every operand: its JVP is 0
        var x = torch.zeros(1, 0, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var y = torch.tensor(-1.70, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var d = F.pairwise_distance(x, y, 3.0, 1e-6);
        Assert.Equal(new[] { 0.0 }, Values(d));
        Assert.True(double.IsNaN(Values(TorchJvp(d, y, torch.tensor(-0.86, dtype: torch.ScalarType.Float64)))[0]));
        var (_, ours) = Diff.Jvp(b => Nn.PairwiseDistance(Tensor.FromArray(Array.Empty<double>(), 1, 0), b, 3.0),
            Tensor.FromArray(new[] { -1.70 }, Array.Empty<int>()), Tensor.FromArray(new[] { -0.86 }, Array.Empty<int>()));
        Assert.Equal(new[] { 0.0 }, ours.Eval().ToDoubleArray());
        Passes(FuzzCommand.Programs(1, 4, 434, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void BinaryCrossEntropy_AtANaNProbability_TorchsClampDropsItFromTheJvp_OursIsNaN()
    {
        // the reference is torch's forward, −(t·max(log p, −100) + (1 − t)·max(log(1 − p), −100)): at p = NaN the clamps'
        // masks are false, so torch's JVP (a double backward through them) drops the entry; at p = 0, t = 0 the slope is 1
        var p = torch.tensor(new[] { 0.0, double.NaN }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var t = torch.zeros(2, dtype: torch.ScalarType.Float64);
        var loss = (-(t * p.log().clamp_min(-100.0) + (1.0 - t) * (1.0 - p).log().clamp_min(-100.0))).mean();
        var torchJvp = Values(TorchJvp(loss, p, torch.tensor(new[] { 2.0, 3.0 }, dtype: torch.ScalarType.Float64)))[0];
        Assert.Equal(1.0, torchJvp, 12); // (1·2 + dropped)/2
        var (_, ours) = Diff.Jvp(q => Loss.BinaryCrossEntropy(q, Tensor.FromArray(new[] { 0.0, 0.0 }, 2), Reduction.Mean),
            Tensor.FromArray(new[] { 0.0, double.NaN }, 2), Tensor.FromArray(new[] { 2.0, 3.0 }, 2));
        Assert.True(double.IsNaN(ours.Eval().ToDoubleArray()[0]));
        Passes(FuzzCommand.Programs(1, 4, 407, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Interpolate_LinearSampleOnAnInfiniteEntry_IsTheEntry_TorchsLerpGivesNaN()
    {
        // align_corners from 3 to 3 samples samples every entry at its own position: the output is the input
        var x = torch.tensor(new[] { 0.0, double.NegativeInfinity, 0.0 }, dtype: torch.ScalarType.Float64).reshape(1, 1, 3);
        var torchValue = Values(F.interpolate(x, new long[] { 3 }, mode: torch.InterpolationMode.Linear, align_corners: true));
        Assert.True(double.IsNaN(torchValue[1]), $"torch's middle sample {torchValue[1]:R}");
        var ours = Nn.Interpolate(Tensor.FromArray(new[] { 0.0, double.NegativeInfinity, 0.0 }, 1, 1, 3), new[] { 3 }, InterpolationMode.Linear, alignCorners: true);
        Assert.Equal(new[] { 0.0, double.NegativeInfinity, 0.0 }, ours.Eval().ToDoubleArray());
        // the shrunk program (the whole one's other steps skip every other check): its derivatives are still compared
        var input = new double[18];
        input[10] = double.NegativeInfinity;
        Passes(Program("fuzz adversarial 43/255", new[] { new[] { 2, 3, 3 } }, new[] { input },
            new Step(OpKind.Interpolate, new[] { 0 }, new[] { 3 }, Mode: 1, Flag: true)));
    }
}
