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
    [Fact]
    public void WideAdversarial121_168_StdOfABroadcastScalar_IdenticallyZero_TorchsJvpIsItsRoundingResidue_Named()
    {
        // std(where(1, conv1d(x₀, w, b), c)) over a [3, 2] broadcast of the conv1d's one output entry: six equal entries for
        // every input, so the function is 0 everywhere and its derivative the zero map. At the drawn point the entry is
        // about −3.3e300 (a −1e300 weight), where the reference takes "a scaled norm", torch's std of x/s times s
        double[] image = { 364.2577196463598, 364.2577196463598, 42.35645262207929, 42.35645262207934, 42.35645262207934, 3.263938788227634, 364.2577196463598, 364.2577196463598, 42.35645262207929 };
        double[] weight = { 0.8777059813970581, 0.8777059813970581, 88.0, 0.6636192089765168, 88.0, -1E+300, -709.0, -1000.0, -10000.0 };
        var conv = torch.nn.functional.conv1d(Tensor64(image, 1, 3, 3), Tensor64(weight, 1, 3, 3), Tensor64(new[] { 0.14162623987559733 }, 1));
        double entry = conv.item<double>();
        double scale = Math.ScaleB(1.0, (int)Math.Floor(Math.Log2(Math.Abs(entry))));
        var six = torch.full(new long[] { 3, 2 }, entry / scale, dtype: torch.ScalarType.Float64);
        double torchs = six.std().item<double>() * scale;
        Assert.True(torchs != 0.0, $"torch's std of six copies of {entry:R}: {torchs:R}");

        Expr F(Expr e)
        {
            var p = e.Split(new[] { 9, 1, 9 });
            var v0 = Nn.Conv1d(p[0].Reshape(3, 3), p[2].Reshape(1, 3, 3), p[1].Reshape(1), stride: 1, padding: 0, dilation: 1, groups: 1);
            return Expr.Where(Tensor.FromArray(new[] { 1.0, 1, 1, 1, 1, 1 }, 3, 2), v0, Tensor.FromArray(new[] { 1.0986122886681098 }, Array.Empty<int>())).Std();
        }
        var point = image.Append(0.14162623987559733).Concat(weight).ToArray();
        var tangent = Enumerable.Range(0, 19).Select(i => Math.Sin(i + 1.0)).ToArray();
        Assert.Equal(0.0, Diff.Jvp(F, Tensor.FromArray(point, 19), Tensor.FromArray(tangent, 19)).Tangent.Eval().ToScalar());
        // the closed form 0 holds along the tangent too: our value at x + h·t, for several h
        foreach (double h in new[] { 0.0, 1e-3, 1.0, 1e3 })
            Assert.Equal(0.0, F(Tensor.FromArray(point.Zip(tangent, (x, t) => x + h * t).ToArray(), 19)).Eval().ToScalar());

        Passes(FuzzCommand.Programs(1, 121, 168, adversarial: true, ops: OpSurface.Wide)[0]);
    }
    [Fact]
    public void WideAdversarial123_165_ClampOfNaN_TheMasksSlopeIs0InBoth_TorchsSecondOrderIsNaN_Named()
    {
        // sin(clamp(x², min −1)) at x = NaN: both engines' gradient is NaN (2x times the masked cotangent 0); the Hessian is
        // 2·(masked cotangent) + 2x·(its derivative), where torch's double backward meets x = NaN with the mask's zeros and
        // ours has the symbolic zero of the where that clamps: 0 in ours, NaN in torch's, as for relu at NaN
        var at = Tensor64(new[] { double.NaN }, 1).requires_grad_(true);
        var g = torch.autograd.grad(new[] { at.square().clamp_min(-1.0).sin().sum() }, new[] { at }, retain_graph: true, create_graph: true)[0];
        Assert.True(double.IsNaN(Values(g)[0]), "torch's gradient");
        Assert.True(double.IsNaN(torch.autograd.grad(new[] { g.sum() }, new[] { at })[0].item<double>()), "torch's second derivative");

        Expr F(Expr e) => e.Square().Clamp(-1.0, null).Sin().Sum();
        var point = Tensor.FromArray(new[] { double.NaN }, 1);
        Assert.True(double.IsNaN(Diff.Grad(F)(point).Eval().ToDoubleArray()[0]), "ours at first order");
        // the clamp's slope at NaN is its mask's 0 in both engines, so the term 2·(masked cotangent) of the Hessian is 0
        Assert.Equal(0.0, Diff.Hessian(F)(point).Eval().ToScalar());

        Passes(FuzzCommand.Programs(1, 123, 165, adversarial: true, ops: OpSurface.Wide)[0]);
    }
}
