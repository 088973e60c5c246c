using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using F = TorchSharp.torch.nn.functional;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The references and conventions found by the runs of `--ops all` (branch surface10, the rest of the public surface):
/// torch's own numbers at each point against the closed form, ours against it, and the shrunk program passing the
/// fuzzer's checks.
/// </summary>
public class FuzzSurface10Tests
{
    static TT T(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape).requires_grad_(true);

    static TT Grad(TT y, TT x, TT? cotangent = null) =>
        torch.autograd.grad(new[] { y }, new[] { x }, cotangent is null ? null : new[] { cotangent }, retain_graph: true, create_graph: true)[0];

    /// <summary>torch's JVP as the fuzzer's check takes it: the double backward at a zero cotangent, d/du ⟨Jᵀu, t⟩.</summary>
    static TT TorchJvp(TT y, TT x, TT tangent)
    {
        var u = torch.zeros_like(y).requires_grad_(true);
        var pulled = Grad(y, x, u);
        return torch.autograd.grad(new[] { (pulled * tangent).sum() }, new[] { u }, retain_graph: true)[0];
    }

    [Fact]
    public void Trace_OfATallMatrix_IsItsDiagonal_TorchsGradientReachesPastIt()
    {
        // trace of a [3, 1] matrix is its entry (0, 0): the gradient is [1, 0, 0]
        var x = T(new[] { 0.5, -1.0, 2.0 }, 3, 1);
        Assert.Equal(new[] { 1.0, 0.0, 1.0 }, Values(Grad(x.trace(), x)));
        var ours = Diff.Grad((Expr m) => m.Trace())(Tensor.FromArray(new[] { 0.5, -1.0, 2.0 }, 3, 1)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 1.0, 0.0, 0.0 }, ours);
        // the reference, the sum of torch's diagonal, gives the closed form
        Assert.Equal(new[] { 1.0, 0.0, 0.0 }, Values(Grad(x.diagonal().sum(), x)));
        Passes(Program("fuzz all 1/793", new[] { new[] { 3, 1 } }, new[] { new[] { 0.0, 0.0, 0.0 } },
            new Step(OpKind.Trace, new[] { 0 }, Array.Empty<int>())));
    }

    [Fact]
    public void BinaryCrossEntropy_SecondDerivative_IsTheClosedForm_TorchsDoubleBackwardAddsEps()
    {
        // L(p) = −(t log p + (1 − t) log(1 − p)): L″(p) = t/p² + (1 − t)/(1 − p)²
        double p = 1 - 1e-4, t = 0.5, exact = t / (p * p) + (1 - t) / ((1 - p) * (1 - p));
        var x = T(new[] { p }, 1);
        var target = torch.tensor(new[] { t }, dtype: torch.ScalarType.Float64);
        var torchSecond = Values(Grad(Grad(F.binary_cross_entropy(x, target, reduction: torch.nn.Reduction.Sum), x).sum(), x))[0];
        Assert.True(Math.Abs(torchSecond - exact) / exact > 1e-9, $"torch's L″ {torchSecond:R}, closed form {exact:R}");
        var ours = Diff.Hessian((Expr v) => Loss.BinaryCrossEntropy(v, Tensor.FromArray(new[] { t }, 1), Reduction.Sum))(Tensor.FromArray(new[] { p }, 1))
            .Eval().ToDoubleArray()[0];
        Assert.Equal(exact, ours, exact * 1e-12);
        // the shrunk program: BCE of tanh(x)/x (0.975) against 0.5
        Passes(Program("fuzz all 1/84", new[] { Array.Empty<int>(), new[] { 1, 1 } }, new[] { new[] { 0.2766538112526789 }, new[] { 0.5 } },
            new Step(OpKind.Tanh, new[] { 0 }, Array.Empty<int>()), new Step(OpKind.Div, new[] { 2, 0 }, Array.Empty<int>()),
            new Step(OpKind.Reshape, new[] { 3 }, new[] { 1, 1 }), new Step(OpKind.BinaryCrossEntropy, new[] { 4, 1 }, Array.Empty<int>())));
    }

    [Fact]
    public void Prelu_AtZero_TakesTheWeightsSide_TorchsDoubleBackwardTakesTheOther()
    {
        // torch's own backward at x = 0 is w·u (the x ≤ 0 side); its double backward at a zero cotangent, the JVP, is t
        var x = T(new[] { 0.0, 0.0 }, 2, 1);
        var w = T(new[] { 0.5 }, 1);
        var u = torch.tensor(new[] { 2.0, -3.0 }, dtype: torch.ScalarType.Float64).reshape(2, 1);
        var tangent = torch.tensor(new[] { 1.5, 4.0 }, dtype: torch.ScalarType.Float64).reshape(2, 1);
        Assert.Equal(new[] { 1.0, -1.5 }, Values(Grad(F.prelu(x, w), x, u)));
        Assert.Equal(new[] { 1.5, 4.0 }, Values(TorchJvp(F.prelu(x, w), x, tangent)));
        // ours is w in both directions
        var (_, ourJvp) = Diff.Jvp(v => v.Prelu(Tensor.FromArray(new[] { 0.5 }, 1)), Tensor.FromArray(new[] { 0.0, 0.0 }, 2, 1), Tensor.FromArray(new[] { 1.5, 4.0 }, 2, 1));
        Assert.Equal(new[] { 0.75, 2.0 }, ourJvp.Eval().ToDoubleArray());
        Passes(Program("fuzz all 1/458", new[] { new[] { 1 }, new[] { 2, 1 } }, new[] { new[] { 0.0 }, new[] { 0.0, 0.0 } },
            new Step(OpKind.Prelu, new[] { 1, 0 }, Array.Empty<int>())));
    }
}
