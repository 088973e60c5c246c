using FunctionalDiff.Compare.Train;
using TorchSharp;
using Xunit;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Loss.CtcLoss against TorchSharp's F.ctc_loss over log_softmax of logits (as torch's docs require): sequences of
/// different input and target lengths, repeated labels (which need a blank between them), a target that no alignment
/// reaches, the padded and the concatenated targets, every reduction and zero_infinity, in float64 and float32: the loss
/// and its gradient in the logits, and (float64) a Hessian-vector product against central differences of torch's
/// gradient (libtorch's ctc_loss backward has no derivative of its own).
/// </summary>
public class CtcLossTorchTests
{
    const int T = 6, N = 4, Classes = 5;
    // sequence 2 needs 5 steps for "2 2 2" (a blank between repeats) and has 4: no alignment, +∞
    static readonly int[] InputLengths = [6, 4, 4, 5];
    static readonly int[] TargetLengths = [3, 2, 3, 0];
    static readonly double[,] Padded = { { 1, 2, 2 }, { 3, 4, 0 }, { 2, 2, 2 }, { 0, 0, 0 } };

    public static TheoryData<Reduction, bool, bool, DType> Configs() => new()
    {
        // reduction, zeroInfinity, concatenated targets, dtype
        { Reduction.Mean, true, false, DType.Float64 },
        { Reduction.Sum, true, true, DType.Float64 },
        { Reduction.None, false, false, DType.Float64 },
        { Reduction.None, true, true, DType.Float64 },
        { Reduction.Mean, true, true, DType.Float32 },
        { Reduction.None, false, false, DType.Float32 },
    };

    [Theory]
    [MemberData(nameof(Configs))]
    public void LossesAndGradientsAreTorchs(Reduction reduction, bool zeroInfinity, bool concatenated, DType dtype)
    {
        using var scope = torch.NewDisposeScope();
        var logits = Tensor.FromArray(Enumerable.Range(0, T * N * Classes).Select(i => 1.5 * Math.Sin(0.37 * i + 0.2)).ToArray(), [T, N, Classes]).To(dtype);
        var flat = Enumerable.Range(0, N).SelectMany(b => Enumerable.Range(0, TargetLengths[b]).Select(j => Padded[b, j])).ToArray();
        var padded = Enumerable.Range(0, N * 3).Select(k => Padded[k / 3, k % 3]).ToArray();
        var targets = concatenated ? Tensor.FromArray(flat, [flat.Length]).To(dtype) : Tensor.FromArray(padded, [N, 3]).To(dtype);
        Expr Ctc(Expr x) => FunctionalDiff.Loss.CtcLoss(x.LogSoftmax(-1), targets, InputLengths, TargetLengths, blank: 0, reduction, zeroInfinity);
        // a weighted sum of the unreduced losses, so every sequence's gradient is weighed differently
        var weights = Tensor.FromArray([1.0, -0.7, 0.4, 1.3]).To(dtype);
        Expr Scalar(Expr x) => reduction == Reduction.None ? (Ctc(x) * weights).Sum() : Ctc(x);
        var ours = Ctc(logits).Eval();
        var ourGradient = Diff.Grad(Scalar)(logits).Eval();

        var torchReduction = reduction switch
        {
            Reduction.Mean => nn.Reduction.Mean,
            Reduction.Sum => nn.Reduction.Sum,
            _ => nn.Reduction.None,
        };
        var torchTargets = concatenated ? torch.tensor(flat.Select(v => (long)v).ToArray()) : torch.tensor(padded.Select(v => (long)v).ToArray()).reshape(N, 3);
        TT TorchLoss(TT x) => nn.functional.ctc_loss(x.log_softmax(-1), torchTargets, torch.tensor(InputLengths.Select(v => (long)v).ToArray()),
            torch.tensor(TargetLengths.Select(v => (long)v).ToArray()), 0, zeroInfinity, torchReduction);
        TT TorchScalar(TT x) => reduction == Reduction.None ? (TorchLoss(x) * TorchBridge.ToTorch(weights)).sum() : TorchLoss(x);
        var leaf = TorchBridge.ToTorch(logits).requires_grad_(true);
        var theirs = TorchLoss(leaf);
        var gradient = torch.autograd.grad([TorchScalar(leaf)], [leaf])[0];

        double tolerance = dtype == DType.Float64 ? 1e-12 : 3e-5;
        string what = $"{reduction} zeroInfinity {zeroInfinity} concatenated {concatenated} {dtype}";
        var (o, t) = (ours.ToDoubleArray(), TorchBridge.Values(theirs));
        // +∞ where no alignment reaches the target (without zeroInfinity) must be +∞ on both sides
        for (int i = 0; i < o.Length; i++)
            if (double.IsInfinity(t[i])) { Assert.Equal(t[i], o[i]); o[i] = t[i] = 0; }
        Assert.True(TorchBridge.TensorRelative(o, t) <= tolerance, $"{what}: loss [{string.Join(", ", o)}] vs [{string.Join(", ", t)}]");
        if (!zeroInfinity) return;   // an infinite loss has no meaningful gradient (see the next test)
        double relative = TorchBridge.TensorRelative(ourGradient.ToDoubleArray(), TorchBridge.Values(gradient));
        Assert.True(relative <= tolerance, $"{what}: gradient in the logits: {relative}");
        if (dtype != DType.Float64) return;
        var direction = Tensor.FromArray(Enumerable.Range(0, T * N * Classes).Select(i => Math.Cos(0.61 * i)).ToArray(), [T, N, Classes]);
        var ourHvp = Diff.Hvp(Scalar, logits, direction).Eval().ToDoubleArray();
        const double step = 1e-6;
        double[] TorchGradientAt(double sign)
        {
            var moved = TorchBridge.ToTorch(((Expr)logits + sign * step * direction).Eval()).requires_grad_(true);
            return TorchBridge.Values(torch.autograd.grad([TorchScalar(moved)], [moved])[0]);
        }
        var (plus, minus) = (TorchGradientAt(1), TorchGradientAt(-1));
        var expected = plus.Select((v, i) => (v - minus[i]) / (2 * step)).ToArray();
        double hvp = TorchBridge.TensorRelative(ourHvp, expected);
        Assert.True(hvp <= 1e-7, $"{what}: Hessian-vector product: {hvp}");
    }

    [Fact]
    public void AnUnreachableTargetHasAnInfiniteLossAndTheOthersKeepFiniteGradients()
    {
        using var scope = torch.NewDisposeScope();
        var logits = Tensor.FromArray(Enumerable.Range(0, T * N * Classes).Select(i => Math.Sin(0.37 * i)).ToArray(), [T, N, Classes]);
        var targets = Tensor.FromArray(Enumerable.Range(0, N * 3).Select(k => Padded[k / 3, k % 3]).ToArray(), [N, 3]);
        var losses = Loss.CtcLoss(((Expr)logits).LogSoftmax(-1), targets, InputLengths, TargetLengths, reduction: Reduction.None).Eval().ToDoubleArray();
        Assert.Equal(double.PositiveInfinity, losses[2]);
        Assert.All(new[] { 0, 1, 3 }, b => Assert.True(double.IsFinite(losses[b])));
        // the reachable sequences' gradients stay finite when the loss reads only them
        var mask = Tensor.FromArray([1.0, 1, 0, 1]);
        var g = Diff.Grad(x => Expr.Where(mask, Loss.CtcLoss(x.LogSoftmax(-1), targets, InputLengths, TargetLengths, reduction: Reduction.None), 0.0).Sum())(logits).Eval().ToDoubleArray();
        Assert.All(g, v => Assert.True(double.IsFinite(v)));
    }
}
