using FunctionalDiff.Compare.Suite;
using TorchSharp;
using static TorchSharp.torch;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The machinery of the nested cases against closed forms, so a mistake in it cannot pass by
/// making both engines agree on a wrong quantity.
/// </summary>
public class NestedModesTests
{
    static readonly double[] Point = { 0.3, -1.1, 2.0 };

    [Theory]
    [InlineData(Mode.Reverse)]
    [InlineData(Mode.Forward)]
    public void EachModeGivesTheClosedFormGradient(Mode mode)
    {
        // f(x) = Σ x·sin x, ∇f = sin x + x·cos x
        var expected = Point.Select(x => Math.Sin(x) + x * Math.Cos(x)).ToArray();
        var ours = OurNested.Gradient(mode, x => (x * x.Sin()).Sum(), Tensor.FromArray(Point)).Eval().ToDoubleArray();
        double[] theirs;
        using (torch.NewDisposeScope())
            theirs = TorchNested.Gradient(mode, x => (x * x.sin()).sum(), torch.tensor(Point), createGraph: false).data<double>().ToArray();
        for (int i = 0; i < Point.Length; i++)
        {
            Assert.Equal(expected[i], ours[i], 12);
            Assert.Equal(expected[i], theirs[i], 12);
        }
    }

    /// <summary>
    /// L(θ) = Σ (∇ₓ h(x₀, θ))² with h(x, θ) = Σ θ·x³/3, so ∇ₓ h = θ·x₀², L = Σ θ²·x₀⁴,
    /// ∇L = 2θ·x₀⁴ and the Hessian applied to v is 2x₀⁴·v.
    /// </summary>
    static NestedModel Closed(double[] start) => new(
        (gradient, theta) =>
        {
            Expr x0 = Tensor.FromArray(start);
            return gradient(x => (theta * x * x * x / 3.0).Sum(), x0).Square().Sum();
        },
        (gradient, theta) =>
        {
            var x0 = torch.tensor(start);
            return gradient(x => (theta * x * x * x / 3.0).sum(), x0).square().sum();
        }) { WithHvp = true };

    public static IEnumerable<object[]> Pairs() => ModePair.All.Select(m => new object[] { m.Outer, m.Inner });

    [Theory]
    [MemberData(nameof(Pairs))]
    public void EveryModePairGivesTheClosedFormMetaGradientAndHvp(Mode outer, Mode inner)
    {
        var modes = new ModePair(outer, inner);
        double[] start = { 0.5, -1.5, 1.2 }, theta = { 0.7, 0.2, -0.4 }, v = { 1.0, -2.0, 0.5 };
        var model = Closed(start);
        var gradient = start.Select((x, i) => 2 * theta[i] * Math.Pow(x, 4)).ToArray();
        var hvp = start.Select((x, i) => 2 * Math.Pow(x, 4) * v[i]).ToArray();

        var ourGradient = OurNested.MetaGradient(model, modes, Tensor.FromArray(theta)).Eval().ToDoubleArray();
        var ourHvp = OurNested.Hvp(model, modes, Tensor.FromArray(theta), Tensor.FromArray(v)).Eval().ToDoubleArray();
        double[] torchGradient, torchHvp;
        using (torch.NewDisposeScope())
        {
            var t = torch.tensor(theta).requires_grad_(true);
            torchGradient = TorchNested.MetaGradient(model, modes, t, createGraph: false).data<double>().ToArray();
            torchHvp = TorchNested.Hvp(model, modes, t, torch.tensor(v)).data<double>().ToArray();
        }
        for (int i = 0; i < start.Length; i++)
        {
            Assert.Equal(gradient[i], ourGradient[i], 12);
            Assert.Equal(gradient[i], torchGradient[i], 12);
            Assert.Equal(hvp[i], ourHvp[i], 12);
            Assert.Equal(hvp[i], torchHvp[i], 12);
        }
    }

    [Fact]
    public void TheModePairsAreTheFourCombinationsNamedOuterFirst()
    {
        Assert.Equal(new[] { "rr", "rf", "fr", "ff" }, ModePair.All.Select(m => m.Name));
        Assert.Equal("fr", new ModePair(Mode.Forward, Mode.Reverse).Name);
    }
}
