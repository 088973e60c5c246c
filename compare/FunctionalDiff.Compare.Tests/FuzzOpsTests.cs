using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch fuzzops settled with the first runs of `--ops latest`: each convention with torch's numbers and ours against
/// a closed form, and the program passing the fuzzer under its name; grid_sample and CTC programs compared at first order.
/// </summary>
public class FuzzOpsTests
{
    static torch.Tensor Tensor64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape).requires_grad_(true);

    [Fact]
    public void Latest1_91_Conv3dWithAnInfiniteWeightOnADepthTapOverThePadding_TorchsJvpNaN_OursTheClosedForm_Named()
    {
        // y = conv3d(x, w) over one voxel x = 2 with depth padding 1, depth stride 2 and depth taps w = [+∞, 3]: the one output
        // depth reads the padding with +∞ and x with 3, tap 0 nothing but the padding. The padding is constant, so the JVP
        // along t in x is 3t whatever the padding's weight (the value itself, ∞·0 + 6, is NaN)
        double[] weights = { double.PositiveInfinity, 3 };
        const double t = 0.5;
        var (_, ours) = Diff.Jvp(x => Nn.Conv3d(x, Tensor.FromArray(weights, 1, 1, 2, 1, 1), stride: (2, 1, 1), padding: (1, 0, 0)),
            Tensor.FromArray(new[] { 2.0 }, 1, 1, 1, 1, 1), Tensor.FromArray(new[] { t }, 1, 1, 1, 1, 1));
        Assert.Equal(new[] { 3 * t }, ours.Eval().ToDoubleArray());

        // torch's JVP by the double-backward trick multiplies the padding's zero tangent by +∞
        using var scope = torch.NewDisposeScope();
        var input = Tensor64(new[] { 2.0 }, 1, 1, 1, 1, 1);
        var weight = torch.tensor(weights, dtype: torch.ScalarType.Float64).reshape(1, 1, 2, 1, 1);
        var y = torch.nn.functional.conv3d(input, weight, strides: new long[] { 2, 1, 1 }, padding: new long[] { 1, 0, 0 });
        var dummy = torch.zeros_like(y).requires_grad_(true);
        var g = torch.autograd.grad(new[] { y }, new[] { input }, new[] { dummy }, create_graph: true)[0];
        var torchs = Values(torch.autograd.grad(new[] { (g * t).sum() }, new[] { dummy })[0]);
        Assert.True(double.IsNaN(torchs[0]), $"torch's JVP {torchs[0]}");

        var program = FuzzCommand.Programs(1, 1, 91, adversarial: true, ops: OpSurface.Latest)[0];
        Assert.Contains("Conv3d with a non-finite weight on a depth tap over the padding",
            program.RoundedToFloat32().Forward().TorchNaN);
        Passes(program);
    }

    [Fact]
    public void GridSampleAndCtcPrograms_CompareFirstOrderOnly_TheJvpByTorchsReversePasses()
    {
        // libtorch aborts the process on a double backward of grid_sample or ctc_loss: the second order is skipped and torch's
        // JVP is read row by row; a finite program keeps its JVP check
        var programs = FuzzCommand.Programs(40, 13, ops: OpSurface.Latest)
            .Where(p => p.Steps.Any(s => s.Kind is OpKind.GridSample or OpKind.CtcLoss)).ToList();
        Assert.NotEmpty(programs);
        foreach (var program in programs.Take(3))
        {
            var c = program.ToCase();
            Assert.True(c.TorchFirstOrderOnly);
            Assert.Contains(Suite.Check.SecondOrder, c.Skipped);
            Assert.Contains(Suite.Check.Hessian, c.Skipped);
            if (!program.Forward().Singular) Assert.DoesNotContain(Suite.Check.Jvp, c.Skipped);
            Passes(program);
        }
    }

    [Fact]
    public void LatestAdversarial4_176_NllLossWithEveryTargetIgnored_TheZeroMapInOursAsInTorchs_Passes()
    {
        // the nll loss of one row whose target is ignored: 0/0, a function of no input, whose JVP is 0: ours (after the fix in
        // Loss's mean over the kept targets; it was NaN) and torch's by reverse passes; torch's double-backward JVP is NaN (it
        // differentiates the division by 0 under a zero cotangent), named as the mean over no entries
        double[] input = { 2.99, 62.07, 1.0 };
        var (_, ours) = Diff.Jvp(x => Loss.NllLoss(x, [2], Reduction.Mean, ignoreIndex: 2), Tensor.FromArray(input, 1, 3), Tensor.FromArray(new[] { 0.3, -1.2, 0.7 }, 1, 3));
        Assert.Equal(new[] { 0.0 }, ours.Eval().ToDoubleArray());
        var program = Program("nll ignored", new[] { new[] { 1, 3 } }, new[] { input },
            new Step(OpKind.NllLoss, new[] { 0 }, new[] { 2 }, Mode: 0, Flag: true, Scalar: 2));
        Assert.Contains("Mean over no entries", program.Forward().TorchNaN);
        Passes(program);
        Passes(FuzzCommand.Programs(1, 4, 176, adversarial: true, ops: OpSurface.Latest)[0]);
    }
}
