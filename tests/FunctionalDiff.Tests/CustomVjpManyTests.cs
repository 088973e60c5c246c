using FunctionalDiff;
using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Diff.CustomVjp of several inputs (as jax.custom_vjp and torch.autograd.Function of many
/// arguments): the rule's cotangents reach each input, in reverse and forward mode and at second
/// order, against closed forms written here; inputs of different shapes and ranks; null as a zero
/// cotangent; errors that name the rule, the input and the shapes.
/// </summary>
public class CustomVjpManyTests
{
    static readonly Tensor X = T(new[] { 2, 3 });
    static readonly Tensor W = T(new[] { 3 }, 5);

    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    /// <summary>x[i,j]·w[j] at every entry of x (w broadcast over rows).</summary>
    static double[] Each(Func<double, double, double> f)
    {
        var x = X.ToDoubleArray();
        var w = W.ToDoubleArray();
        return x.Select((v, k) => f(v, w[k % 3])).ToArray();
    }

    /// <summary>Σ_i f(x[i,j], w[j]) for each j: a per-column sum over x's rows.</summary>
    static double[] PerColumn(Func<double, double, double> f)
    {
        var each = Each(f);
        return Enumerable.Range(0, 3).Select(j => each[j] + each[3 + j]).ToArray();
    }

    /// <summary>Σ sin(x)·w with its true rule: ∂/∂x = g·cos(x)·w, ∂/∂w = Σ_rows g·sin(x).</summary>
    static readonly Func<Expr[], Expr> SineProduct = Diff.CustomVjp(
        "sine_product",
        xs => (xs[0].Sin() * xs[1]).Sum(),
        (xs, g) => [g * xs[0].Cos() * xs[1], (g * xs[0].Sin()).Sum(0)]);

    [Fact]
    public void TheRulesCotangentsReachEachInputOfItsOwnShape()
    {
        Close(Each((x, w) => Math.Sin(x) * w).Sum(), SineProduct([X, W]).Eval().ToScalar(), 1e-14);
        var (dx, dw) = Diff.Grad((x, w) => SineProduct([x, w]))(X, W);
        Assert.Equal(new[] { 2, 3 }, dx.Shape);
        Assert.Equal(new[] { 3 }, dw.Shape);
        Close(Each((x, w) => Math.Cos(x) * w), V(dx), 1e-14);
        Close(PerColumn((x, w) => Math.Sin(x)), V(dw), 1e-14);
    }

    [Fact]
    public void TheRuleIsDifferentiatedAgainAtSecondOrder()
    {
        // d/dx of the rule's g·cos(x)·w is -sin(x)·w; d/dw of Σ cos(x)·w is Σ_rows cos(x)
        var second = Diff.Grad(x => Diff.Grad(z => SineProduct([z, W]))(x).Sum())(X);
        Close(Each((x, w) => -Math.Sin(x) * w), V(second), 1e-13);
        var mixed = Diff.Grad(w => Diff.Grad(z => SineProduct([z, w]))(X).Sum())(W);
        Close(PerColumn((x, w) => Math.Cos(x)), V(mixed), 1e-13);
    }

    [Fact]
    public void ForwardModeTransposesTheRule()
    {
        // J·(t, u) = Σ cos(x)·w·t + Σ sin(x)·u
        var t = T(new[] { 2, 3 }, 9);
        var u = T(new[] { 3 }, 11);
        var (_, tangent) = Diff.Jvp(xs => SineProduct(xs), [X, W], [t, u]);
        var tv = t.ToDoubleArray();
        var uv = u.ToDoubleArray();
        double expected = Each((x, w) => Math.Cos(x) * w).Select((v, k) => v * tv[k]).Sum()
                          + Each((x, w) => Math.Sin(x)).Select((v, k) => v * uv[k % 3]).Sum();
        Close(expected, tangent.Eval().ToScalar(), 1e-13);
    }

    [Fact]
    public void ARuleDifferentFromTheForwardIsTheOneUsedAndNullIsAZeroCotangent()
    {
        // the forward's own derivative in x would be w; the rule says 2, and nothing for w
        var op = Diff.CustomVjp(xs => (xs[0] * xs[1]).Sum(), (xs, g) => [(g * 2.0).BroadcastTo(xs[0].Shape), null]);
        var (dx, dw) = Diff.Grad((x, w) => op([x, w]))(X, W);
        Close(Enumerable.Repeat(2.0, 6).ToArray(), V(dx), 0);
        Close(new double[3], V(dw), 0);
    }

    [Fact]
    public void ErrorsNameTheRuleTheInputAndTheShapes()
    {
        var tooFew = Diff.CustomVjp("too_few", xs => (xs[0] * xs[1]).Sum(), (xs, g) => [g * xs[1]]);
        var e = Assert.ThrowsAny<ArgumentException>(() => Diff.Grad((x, w) => tooFew([x, w]))(X, W));
        Assert.Contains("'too_few' returned 1 cotangents for 2 inputs", e.Message);

        var wrongShape = Diff.CustomVjp("wrong_shape", xs => (xs[0] * xs[1]).Sum(), (xs, g) => [g * xs[1], g * xs[0]]);
        e = Assert.ThrowsAny<ArgumentException>(() => Diff.Grad((x, w) => wrongShape([x, w]))(X, W));
        Assert.Contains("'wrong_shape' returned float64[3] for input 0 of float64[2,3]", e.Message);

        e = Assert.ThrowsAny<ArgumentException>(() => SineProduct([X, ((Expr)W).Cast(DType.Float32)]));
        Assert.Contains("must share a dtype: input 0 is float64, input 1 is float32", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => SineProduct([]));
        Assert.Throws<ArgumentNullException>("xs[1]", () => SineProduct([X, null!]));
    }
}
