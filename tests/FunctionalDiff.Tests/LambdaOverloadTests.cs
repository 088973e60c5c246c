using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The lambdas a C# user writes first compile as written: this file compiling is the first half
/// of the test (with an Expr[] overload of Grad, ValueAndGrad or Vjp, <c>x =&gt; x.Max()</c> was
/// CS0121, ambiguous, because LINQ's Max applies to arrays too). The second half runs them against
/// finite differences.
/// </summary>
public class LambdaOverloadTests
{
    static readonly Tensor X = Tensor.FromArray(new[] { 0.3, -1.2, 2.0, 0.7, -0.4, 1.1 }, 2, 3);
    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    [Fact]
    public void ReductionLambdasCompileAndMatchFiniteDifferences()
    {
        Close(NumericGradient(x => x.Max(), X), V(Diff.Grad(x => x.Max())(X)));
        Close(NumericGradient(x => x.Min(), X), V(Diff.Grad(x => x.Min())(X)));
        Close(NumericGradient(x => (x * 2.0).Sum(), X), V(Diff.Grad(x => (x * 2.0).Sum())(X)));
        Close(NumericGradient(x => x.Mean(), X), V(Diff.Grad(x => x.Mean())(X)));

        var (value, gradient) = Diff.ValueAndGrad(x => x.Max(), X);
        Assert.Equal(X.ToDoubleArray().Max(), value.Eval().ToScalar());
        Close(NumericGradient(x => x.Max(), X), V(gradient));

        var (sum, pullback) = Diff.Vjp(x => x.Sum(), X);
        Close(X.ToDoubleArray().Sum(), sum.Eval().ToScalar(), 1e-15);
        Close(NumericGradient(x => x.Sum() * 3.0, X), V(pullback(3.0)));

        var hv = Diff.Hvp(x => (x * x).Max(), X, Tensor.Ones(new[] { 2, 3 }));
        // The largest square is x = 2.0's: its Hessian is 2 there and 0 elsewhere.
        Close(X.ToDoubleArray().Select(v => v == 2.0 ? 2.0 : 0.0).ToArray(), V(hv), 1e-12);
    }

    [Fact]
    public void ArrayLambdasUseTheArrayOverloads()
    {
        Expr F(Expr[] p) => (p[0] * p[1].Sin()).Sum();
        var y = Tensor.FromArray(new[] { 0.5, 0.25, -1.0, 2.0, 1.5, -0.75 }, 2, 3);
        var expectedX = NumericGradient(x => F(new Expr[] { x, y }), X);
        var expectedY = NumericGradient(v => F(new Expr[] { X, v }), y);
        var grads = Diff.Grad((Expr[] p) => (p[0] * p[1].Sin()).Sum())(new Expr[] { X, y });
        Close(expectedX, V(grads[0]));
        Close(expectedY, V(grads[1]));
        var (_, gradients) = Diff.ValueAndGrad(F, X, y);
        Close(expectedY, V(gradients[1]));
        var (_, pullback) = Diff.Vjp(F, X, y);
        Close(expectedX, V(pullback(1.0)[0]));
    }
}
