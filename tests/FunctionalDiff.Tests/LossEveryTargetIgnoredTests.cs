using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// A mean-reduced nll loss or cross-entropy whose every target is ignored (ignore_index) is 0/0 = NaN,
/// as torch's, and depends on no input, so every derivative of it is the zero map: the gradient, the JVP and the
/// Hessian-vector product are exactly 0 (found by the differential fuzzer, `fuzz latest adversarial 4/176`: the JVP was
/// NaN, forward mode meeting the quotient's 1/0 before the mask). A batch with a kept target keeps its derivatives: the
/// closed form −t[n, yₙ]/kept of the nll loss's JVP along t.
/// </summary>
public class LossEveryTargetIgnoredTests
{
    static readonly Tensor Input = Tensor.FromArray([-1.2, -0.4, -2.0, -0.7, -1.9, -0.9], [2, 3]);
    static readonly Tensor Direction = Tensor.FromArray([0.3, -1.1, 0.8, 1.7, -0.2, 0.5], [2, 3]);

    public static TheoryData<string> Losses() => new() { "nll", "cross-entropy" };

    static Expr Loss(string which, Expr x) => which switch
    {
        "nll" => FunctionalDiff.Loss.NllLoss(x, [2, 2], Reduction.Mean, ignoreIndex: 2),
        _ => FunctionalDiff.Loss.CrossEntropy(x, [1, 1], Reduction.Mean, ignoreIndex: 1),
    };

    [Theory]
    [MemberData(nameof(Losses))]
    public void EveryDerivativeIsTheZeroMap(string which)
    {
        Assert.True(double.IsNaN(Loss(which, Input).Eval().ToDoubleArray()[0]), "the value is 0/0, as torch's");
        var gradient = Diff.Grad(x => Loss(which, x))(Input).Eval().ToDoubleArray();
        var (_, tangent) = Diff.Jvp(x => Loss(which, x), Input, Direction);
        var hvp = Diff.Hvp(x => Loss(which, x), Input, Direction).Eval().ToDoubleArray();
        Assert.All(gradient, g => Assert.Equal(0.0, g));
        Assert.Equal(0.0, tangent.Eval().ToDoubleArray()[0]);
        Assert.All(hvp, h => Assert.Equal(0.0, h));
    }

    [Fact]
    public void AKeptTargetKeepsItsJvp()
    {
        // targets [2, 0] with 2 ignored: the loss is −x[1, 0] / 1, its JVP −t[1, 0]
        var (_, tangent) = Diff.Jvp(x => FunctionalDiff.Loss.NllLoss(x, [2, 0], Reduction.Mean, ignoreIndex: 2), Input, Direction);
        Assert.Equal(-1.7, tangent.Eval().ToDoubleArray()[0], 15);
    }
}
