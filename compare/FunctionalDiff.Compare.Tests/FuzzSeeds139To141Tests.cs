using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The open findings of fuzz28 settled on branch fuzz29, and what seeds 139 to 141 found, each with torch's numbers and ours
/// against closed forms, and the program passing the fuzzer as named.
/// </summary>
public class FuzzSeeds139To141Tests
{
    [Fact]
    public void All129_182_LerpOfRsqrtOfASquareThatOverflows_SecondOrderIsTheClosedForm_TorchsNaN_Named()
    {
        // f(w, e) = lerp(s, e, w) with s = rsqrt(w²) = 1/|w|: ∂²f/∂w² = s″·(1 − w) − 2s′ with s′ = −sgn(w)/w², s″ = 2/|w|³, both
        // below the range at w = −1e300, ∂²f/∂w∂e = 1 and ∂²f/∂e² = 0, so along v = (0.9, 0.8) the second order is (0.8, 0.9)
        // to every digit; torch's is NaN in w's entry, and the closed form with 1/|w| written in place of rsqrt(w²)
        double w = -1e300;
        var v = new[] { 0.9, 0.8 };
        var expected = new[] { 0.8, 0.9 };
        Assert.True(double.IsNaN(TorchSecondOrder(w, v, t => t.square().rsqrt())[0]), "torch's second order through rsqrt(w²)");
        Assert.Equal(expected, TorchSecondOrder(w, v, t => t.abs().reciprocal()));

        Func<Expr, Expr> f = x => Expr.Lerp(x.Slice(0, 0, 1).Square().Rsqrt(), x.Slice(0, 1, 2), x.Slice(0, 0, 1)).Sum();
        var at = Tensor.FromArray(new[] { w, -5.0 }, 2);
        var direction = (Expr)Tensor.FromArray(v, 2);
        Assert.Equal(expected, Diff.Grad(x => (Diff.Grad(f)(x) * direction).Sum())(at).Eval().ToDoubleArray());
        Assert.Equal(expected, Diff.Hvp(f, at, Tensor.FromArray(v, 2)).Eval().ToDoubleArray());

        Passes(FuzzCommand.Programs(1, 129, 182, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Wide137_276_QuotientOfHugeValues_JvpIsFinite_FixedInOurs()
    {
        // x₁·(1/v) with v = x₀Wᵀ = 2e160 and x₁ = 3e160: the JVP entry −x₁·v̇/v² is 0.895 (torch's); ours formed x₁·v̇ = −3.6e320
        // before y² = 2.5e-321 (the Rewrite pass's monomial order, FuzzTwentyNineTests against the closed form)
        Passes(FuzzCommand.Programs(1, 137, 276, adversarial: true, ops: OpSurface.Wide)[0]);
    }

    /// <summary>Torch's reverse over reverse, d/dx ⟨∇f, v⟩, of lerp(start(w), e, w) at x = (w, −5).</summary>
    static double[] TorchSecondOrder(double w, double[] v, Func<torch.Tensor, torch.Tensor> start)
    {
        var x = torch.tensor(new[] { w, -5.0 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var weight = x.slice(0, 0, 1, 1);
        var y = torch.lerp(start(weight), x.slice(0, 1, 2, 1), weight).sum();
        var g = torch.autograd.grad(new[] { y }, new[] { x }, retain_graph: true, create_graph: true)[0];
        return Values(torch.autograd.grad(new[] { (g * torch.tensor(v, dtype: torch.ScalarType.Float64)).sum() }, new[] { x })[0]);
    }
}
