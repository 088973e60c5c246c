using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch fuzznew settled with the first runs of `--ops newest`: each convention with torch's numbers and ours against
/// a closed form, and the program passing the fuzzer under its name.
/// </summary>
public class FuzzNewestTests
{
    [Fact]
    public void NewestAdversarial1_11_SoftMarginLossPastExpsRange_TorchInfiniteAndNaN_OursTheClosedForm_ReferenceBySoftplus()
    {
        // Σ log(1 + e^(−yᵢxᵢ)) at x = [0, −2.6e160, 0, 0], y = [1, 1, −1, −1]: 3·ln 2 + 2.6e160, and the gradient −yᵢσ(−yᵢxᵢ),
        // [−½, −1, ½, ½]
        double[] x = { 0, -2.6187419064775036E+160, 0, 0 }, y = { 1, 1, -1, -1 };
        Expr Loss(Expr v) => FunctionalDiff.Loss.SoftMarginLoss(v, Tensor.FromArray(y, 1, 4), Reduction.Sum);
        Assert.Equal(3 * Math.Log(2) + 2.6187419064775036E+160, Loss(Tensor.FromArray(x, 1, 4)).Eval().ToDoubleArray()[0]);
        Assert.Equal(new[] { -0.5, -1, 0.5, 0.5 }, Diff.Grad(v => Loss(v))(Tensor.FromArray(x, 1, 4)).Eval().ToDoubleArray());

        // torch's log1p(exp(·)) overflows: the loss +∞ and that entry's gradient ∞/∞
        using var scope = torch.NewDisposeScope();
        var input = Tensor64(x, 1, 4);
        var loss = F.soft_margin_loss(input, torch.tensor(y, dtype: torch.ScalarType.Float64).reshape(1, 4), torch.nn.Reduction.Sum);
        Assert.Equal(double.PositiveInfinity, loss.item<double>());
        Assert.True(double.IsNaN(Values(torch.autograd.grad(new[] { loss }, new[] { input })[0])[1]));

        Passes(FuzzCommand.Programs(1, 1, 11, adversarial: true, ops: OpSurface.Newest)[0]);
    }

    [Fact]
    public void Newest1_37_MultiMarginLossOverANaN_TorchDropsIt_OursNaN_Named()
    {
        // rows [0, 0, 0] (target 1) and [0, NaN, 0] (target 2), margin 1, summed: the first row's hinges are 1 and 1, over
        // three classes; the second's are max(0, 1) and max(0, 1 − 0 + NaN) = NaN, so the loss is NaN
        double[] x = { 0, 0, 0, 0, double.NaN, 0 };
        var ours = FunctionalDiff.Loss.MultiMarginLoss(Tensor.FromArray(x, 2, 3), [1, 2], reduction: Reduction.Sum).Eval().ToDoubleArray()[0];
        Assert.True(double.IsNaN(ours), $"ours {ours}");

        // torch's kernel adds a term only where it is positive, which NaN is not: 2/3 + 1/3
        using var scope = torch.NewDisposeScope();
        var torchs = F.multi_margin_loss(torch.tensor(x, dtype: torch.ScalarType.Float64).reshape(2, 3), torch.tensor(new long[] { 1, 2 }),
            reduction: torch.nn.Reduction.Sum).item<double>();
        Assert.Equal(1.0, torchs, 15);

        var program = FuzzCommand.Programs(1, 1, 37, ops: OpSurface.Newest)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("MultiMarginLoss over a NaN hinge"));
        Assert.Equal(6, program.ToCase().Skipped.Distinct().Count());
        // a hinge ∞ − ∞ of a finite program's infinities, the same (`newest adversarial 5/228`, float32: a row [0, +∞, +∞]
        // with target 1, from 1e300 in float64)
        var infinite = FuzzCommand.Programs(1, 5, 228, adversarial: true, ops: OpSurface.Newest)[0].RoundedToFloat32();
        Assert.Contains(infinite.Forward().TorchWrong, w => w.Why.StartsWith("MultiMarginLoss over a NaN hinge"));
    }

    [Fact]
    public void NewestAdversarial1_88_AsinhBeyondTheSquaresRange_TorchsSlopeZero_OursTheClosedForm_Named()
    {
        // asinh′(x) = 1/√(1 + x²) = 1/|x| to within ε at |x| = 1.4e156, where x² overflows
        const double x = -1.4e156;
        var ours = Diff.Grad(v => v.Asinh().Sum())(Tensor.FromArray(new[] { x }, 1)).Eval().ToDoubleArray()[0];
        Assert.Equal(1 / Math.Abs(x), ours, 1e-15 / Math.Abs(x));

        using var scope = torch.NewDisposeScope();
        var input = Tensor64(new[] { x }, 1);
        Assert.Equal(0.0, Values(torch.autograd.grad(new[] { input.asinh().sum() }, new[] { input })[0])[0]);

        Passes(FuzzCommand.Programs(1, 1, 88, adversarial: true, ops: OpSurface.Newest)[0]);
    }

    [Fact]
    public void NewestAdversarial1_154_CtcOfATargetNoAlignmentCanEmit_ConstantInfinity_OursZero_TorchsNaN_Named()
    {
        // target [1, 1] over one step: a repeat needs a blank between, so no alignment of length 1 emits it, at any logits. The
        // loss is +∞ everywhere (the probability 0), a constant, whose derivative is the zero map
        var logits = new double[6];
        Expr Loss(Expr z) => FunctionalDiff.Loss.CtcLoss(z.LogSoftmax(-1), Tensor.FromArray(new[] { 1.0, 1.0 }, 1, 2), [1], [2]);
        Assert.Equal(double.PositiveInfinity, Loss(Tensor.FromArray(logits, 2, 1, 3)).Eval().ToDoubleArray()[0]);
        Assert.All(Diff.Grad(Loss)(Tensor.FromArray(logits, 2, 1, 3)).Eval().ToDoubleArray(), g => Assert.Equal(0.0, g));

        using var scope = torch.NewDisposeScope();
        var input = Tensor64(logits, 2, 1, 3);
        var loss = F.ctc_loss(input.log_softmax(-1), torch.tensor(new long[] { 1, 1 }).reshape(1, 2), torch.tensor(new long[] { 1 }),
            torch.tensor(new long[] { 2 }), 0, false, torch.nn.Reduction.Mean);
        Assert.Contains(Values(torch.autograd.grad(new[] { loss }, new[] { input })[0]), double.IsNaN);

        var program = FuzzCommand.Programs(1, 1, 154, adversarial: true, ops: OpSurface.Newest)[0];
        Assert.Contains("CtcLoss of a target no alignment can emit (the constant +∞)", program.Forward().TorchNaN);
        Passes(program);
    }

    [Fact]
    public void NewestAdversarial1_73_MultiLabelSoftMarginLossAtAnInfiniteLogitThenMax_OursTorchsAndTheClosedForm_Passes()
    {
        // max(loss) of one class at x = +∞ with y = 0: the loss is −log σ(−x) = +∞ and its slope σ(x)/C = 1, torch's too.
        // Ours was NaN while the Rewrite pass put the derivative graph's copy of the loss in normal form, (1 − y)·log σ(−x)
        // distributed into log σ(−x) − y·log σ(−x) = −∞ − 0·(−∞) = NaN, which max's mask then read (0/0); the pass now
        // keeps f's own nodes as f built them.
        // the target made inside f, as the fuzzer's interpreter makes it: a node of the transform's graph
        Expr Loss(Expr x) => FunctionalDiff.Loss.MultiLabelSoftMarginLoss(x, Tensor.FromArray(new[] { 0f }, 1, 1)).Max();
        var at = Tensor.FromArray(new[] { float.PositiveInfinity }, 1, 1);
        Assert.Equal(float.PositiveInfinity, Loss(at).Eval().ToSingleArray()[0]);
        var (_, pullback) = Diff.Vjp(xs => Loss(xs[0]), (Expr)at);
        Assert.Equal(1.86742f, pullback(Tensor.FromArray(new[] { 1.86742f }, Array.Empty<int>()))[0].Eval().ToSingleArray()[0]);

        using var scope = torch.NewDisposeScope();
        var input = torch.tensor(new[] { float.PositiveInfinity }).reshape(1, 1).requires_grad_(true);
        var loss = F.multilabel_soft_margin_loss(input, torch.zeros(1, 1)).max();
        Assert.Equal(2f, torch.autograd.grad(new[] { loss * 2f }, new[] { input })[0].item<float>());

        var program = FuzzCommand.Programs(1, 1, 73, adversarial: true, ops: OpSurface.Newest)[0];
        Assert.DoesNotContain(program.Forward().TorchWrongFloat32, w => w.Why.Contains("multilabel soft-margin"));
        Passes(program);
    }

    [Fact]
    public void NewestAdversarial3_4_SecondOrderThroughSqrtBelow1e309_OursNaN_TorchsMinusInfinity_AKnownLimitation_Named()
    {
        // d²/dx² e^√x = e^√x·(1/(4x) − 1/(4x^1.5)): at x = 1e-310 the terms are 2.5e309 and 2.5e464, both beyond float64, and
        // the second derivative −2.5e464 is −∞ there: ours by reverse over reverse; our Hessian (forward over reverse) adds
        // the two overflowed terms, +∞ − ∞
        const double x = 1e-310;
        Assert.True(double.IsPositiveInfinity(1 / (4 * x)) && double.IsPositiveInfinity(1 / (4 * x * Math.Sqrt(x))));
        Expr F(Expr v) => v.Sqrt().Exp().Sum();
        var at = Tensor.FromArray(new[] { x }, 1);
        Assert.Equal(double.NegativeInfinity, Diff.Grad(v => Diff.Grad(F)(v).Sum())(at).Eval().ToDoubleArray()[0]);
        var hessian = Diff.Hessian(F)(at).Eval().ToDoubleArray()[0];
        Assert.True(double.IsNaN(hessian), $"our Hessian {hessian}");

        using var scope = torch.NewDisposeScope();
        var input = Tensor64(new[] { x }, 1);
        var slope = torch.autograd.grad(new[] { input.sqrt().exp().sum() }, new[] { input }, retain_graph: true, create_graph: true)[0];
        Assert.Equal(double.NegativeInfinity, Values(torch.autograd.grad(new[] { slope.sum() }, new[] { input })[0])[0]);

        var program = FuzzCommand.Programs(1, 3, 4, adversarial: true, ops: OpSurface.Newest)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours (a known limitation): the second order through √x"));
        Passes(program);
    }

    [Fact]
    public void NewestAdversarial9_63_CtcWithAHugeLoss_BothEnginesLoseThePaths_Named()
    {
        // six steps of four classes, all logits 0 but step 4's [0, 0, 0, −1e4] and step 5's [0, 1e30, 0, 0], target [3] (blank
        // 0): an alignment is blanks, one run of 3s, blanks; step 4 must be a blank (class 3 has e^−1e4 there) and step 5 a
        // blank or a 3 at e^−1e30 each, so the run is step 5 alone (one alignment) or a run within steps 0 to 3 (ten), all of
        // one weight: the posteriors at step 5 are 10/11 (blank) and 1/11 (class 3), and the gradient there, softmax minus
        // posterior, is [−10/11, 1, 0, −1/11]. Both engines' log-space sums round the paths' O(1) differences away at 1e30
        var logits = new double[24];
        logits[19] = -1e4;
        logits[21] = 1e30;
        double[] closed = { -10.0 / 11, 1, 0, -1.0 / 11 };
        Expr Loss(Expr z) => FunctionalDiff.Loss.CtcLoss(z.LogSoftmax(-1), Tensor.FromArray(new[] { 3.0 }, 1, 1), [6], [1], reduction: Reduction.Sum);
        var ours = Diff.Grad(Loss)(Tensor.FromArray(logits, 6, 1, 4)).Eval().ToDoubleArray()[20..24];
        static double Off(double[] g, double[] c) => g.Zip(c).Max(p => Math.Abs(p.First - p.Second));
        Assert.True(Off(ours, closed) > 0.05, $"ours [{string.Join(", ", ours)}]");

        using var scope = torch.NewDisposeScope();
        var input = Tensor64(logits, 6, 1, 4);
        var loss = F.ctc_loss(input.log_softmax(-1), torch.tensor(new long[] { 3 }).reshape(1, 1), torch.tensor(new long[] { 6 }),
            torch.tensor(new long[] { 1 }), 0, false, torch.nn.Reduction.Sum);
        var torchs = Values(torch.autograd.grad(new[] { loss }, new[] { input })[0])[20..24];
        Assert.True(Off(torchs, closed) > 0.05, $"torch's [{string.Join(", ", torchs)}]");

        var program = FuzzCommand.Programs(1, 9, 63, adversarial: true, ops: OpSurface.Newest)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("ours and torch's: CtcLoss of a sample whose loss is finite beyond 1e7"));
        Passes(program);
    }

    [Fact]
    public void Newest1_2_UnbatchedMultiMarginLossUnreduced_IsTheScalarOfOneSample_AsTorchsWithAScalarTarget()
    {
        // torch's docs: input (C) with target (), loss () under 'none'; the fuzzer's torch side passes the 0-d target (torch
        // also takes [1] and then returns [1]); ours, whose targets are an int[], gives the scalar: max(0, 1 − 0.3 + 0.9)/2
        var ours = FunctionalDiff.Loss.MultiMarginLoss(Tensor.FromArray(new[] { 0.3, 0.9 }, 2), [0], reduction: Reduction.None);
        Assert.Empty(ours.Shape);
        Assert.Equal(0.8, ours.Eval().ToDoubleArray()[0], 15);
        using var scope = torch.NewDisposeScope();
        Assert.Empty(F.multi_margin_loss(torch.tensor(new[] { 0.3, 0.9 }), torch.tensor(0L), reduction: torch.nn.Reduction.None).shape);

        Passes(FuzzCommand.Programs(1, 1, 2, ops: OpSurface.Newest)[0]);
    }
}
