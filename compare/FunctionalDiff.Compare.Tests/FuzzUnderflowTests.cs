using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// Squares and powers that leave float64's range: atan2's derivatives where a² + b² underflows off the origin, and a
/// p-norm whose |x|^p overflows. Torch's numbers and ours against the closed form, and the programs that found them.
/// </summary>
public class FuzzUnderflowTests
{
    static double[] Values(TT t) => t.detach().contiguous().clone().data<double>().ToArray();

    [Fact]
    public void Atan2_WhereTheSquaresUnderflowOffTheOrigin_HasTheClosedFormsDerivatives_TorchsMaskGivesZero()
    {
        // atan2(a, b) at b = 0: ∂/∂a = b/(a² + b²) = 0 and ∂/∂b = −a/(a² + b²) = −1/a, finite (−1e170) at a = 1e-170 and
        // beyond float64 (+∞) at a = −5e-324; a² underflows to 0 at both
        foreach (var (a, partialB) in new[] { (1e-170, -1e170), (-5e-324, double.PositiveInfinity) })
        {
            var ta = torch.tensor(new[] { a }, dtype: torch.ScalarType.Float64).requires_grad_(true);
            var tb = torch.tensor(new[] { 0.0 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
            var grads = torch.autograd.grad(new[] { torch.atan2(ta, tb).sum() }, new[] { ta, tb });
            // torch's mask: 1/(a² + b²) is taken as 0 where a² + b² = 0, so both partials are 0
            Assert.Equal(0.0, Values(grads[0])[0]);
            Assert.Equal(0.0, Values(grads[1])[0]);

            var (dx, dy) = Diff.Grad((Expr x, Expr y) => Expr.Atan2(x, y).Sum())(Tensor.FromArray(new[] { a }, 1), Tensor.FromArray(new[] { 0.0 }, 1));
            Assert.Equal(0.0, dx.Eval().ToDoubleArray()[0]);
            double oursB = dy.Eval().ToDoubleArray()[0];
            Assert.True(double.IsInfinity(partialB) ? oursB == partialB : Math.Abs(oursB - partialB) <= 1e-12 * Math.Abs(partialB), $"ours {oursB:R}, closed form {partialB:R}");
        }
        Passes(FuzzCommand.Programs(1, 46, 216, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Dist_WithP3_OfAHugeDifference_IsTheDifference_NotTheOverflowOfItsCube()
    {
        // ‖x‖₃ of one entry is |x|: torch.dist(690.78, 1e300, 3) = 1e300 in torch and in ours, where (1e300)³ overflows
        var torchDist = torch.dist(torch.tensor(690.7755278982137, dtype: torch.ScalarType.Float64), torch.tensor(1e300, dtype: torch.ScalarType.Float64), 3);
        Assert.Equal(1e300, torchDist.item<double>());
        Assert.Equal(1e300, Expr.Dist(Tensor.Scalar(690.7755278982137), Tensor.Scalar(1e300), 3.0).Eval().ToDoubleArray()[0]);
        Passes(FuzzCommand.Programs(1, 46, 176, adversarial: true, ops: OpSurface.All)[0]);
    }
}
