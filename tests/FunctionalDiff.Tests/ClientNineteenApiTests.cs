using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the nineteenth porting client added, each against torch's definition written here: <c>torch.clamp</c> with
/// tensor bounds on Expr and Tensor (PGD's projection onto the ε-ball), its derivative routed to the input and each
/// bound as torch's <c>clamp_backward_min_max</c>; and <c>Diff.Grad</c>/<c>Diff.ValueAndGrad</c> of a function of named
/// parameters that are expressions (MAML's <c>autograd.grad(..., create_graph=True)</c> inside the meta-loss).
/// </summary>
public class ClientNineteenApiTests
{
    //                                 inside, below, above, at lower, at upper, NaN, lower > upper, x < lower = upper, x > upper = lower
    static readonly double[] X = [0.5, -2.0, 3.0, -1.0, 1.0, double.NaN, 0.2, -3.0, 3.0];
    static readonly double[] Lower = [-1.0, -1.0, -1.0, -1.0, -1.0, -1.0, 2.0, 0.5, 0.5];
    static readonly double[] Upper = [1.0, 1.0, 1.0, 1.0, 1.0, 1.0, -2.0, 0.5, 0.5];

    [Fact]
    public void ClampWithTensorBoundsIsMinOfMaxAsTorch()
    {
        // torch: min(max(x, lower), upper), NaN propagated, upper where lower > upper
        var expected = X.Select((x, i) => double.IsNaN(x) ? double.NaN : Math.Min(Math.Max(x, Lower[i]), Upper[i])).ToArray();
        var (x, lower, upper) = (Tensor.FromArray(X), Tensor.FromArray(Lower), Tensor.FromArray(Upper));
        Close(expected, ((Expr)x).Clamp(lower, upper).Eval().ToDoubleArray(), 0, "Expr");
        Close(expected, x.Clamp(lower, upper).ToDoubleArray(), 0, "Tensor");
        // a NaN bound makes the entry NaN, as torch's
        Assert.True(double.IsNaN(Tensor.FromArray(new[] { 0.0 }).Clamp(Tensor.FromArray(new[] { double.NaN }), Tensor.FromArray(new[] { 1.0 })).ToScalar()));
        Assert.True(double.IsNaN(((Expr)Tensor.FromArray(new[] { 5.0 })).Clamp(Tensor.FromArray(new[] { double.NaN }), Tensor.FromArray(new[] { 1.0 })).Eval().ToScalar()));
        // bounds broadcast: the ε-ball around a batch, and a [3] row of bounds against a [2, 3] batch
        var batch = T([2, 3], 1);
        var row = T([3], 2).Abs();
        var clamped = batch.Clamp(-row, row);
        Assert.Equal(new[] { 2, 3 }, clamped.Shape);
        var (bv, rv) = (batch.ToDoubleArray(), row.ToDoubleArray());
        Close(bv.Select((v, i) => Math.Clamp(v, -rv[i % 3], rv[i % 3])).ToArray(), clamped.ToDoubleArray(), 0, "broadcast");
        Close(clamped.ToDoubleArray(), ((Expr)batch).Clamp(-row, row).Eval().ToDoubleArray(), 0, "broadcast Expr");
        // number bounds still mean the scalar overload
        Close(bv.Select(v => Math.Clamp(v, 0, 1)).ToArray(), ((Expr)batch).Clamp(0, 1).Eval().ToDoubleArray(), 0, "numbers");
    }

    [Fact]
    public void ClampWithTensorBoundsRoutesTheDerivativeAsTorch()
    {
        // torch's clamp_backward_min_max: x where lower ≤ x ≤ upper; lower where x < lower < upper; upper where x > upper
        // or upper < lower; no one else
        var weights = Values(X.Length, 3);
        var (dx, dLower, dUpper) = (new double[X.Length], new double[X.Length], new double[X.Length]);
        for (int i = 0; i < X.Length; i++)
        {
            if (X[i] >= Lower[i] && X[i] <= Upper[i]) dx[i] = weights[i];
            if (X[i] < Lower[i] && Lower[i] < Upper[i]) dLower[i] = weights[i];
            if (X[i] > Upper[i] || Upper[i] < Lower[i]) dUpper[i] = weights[i];
        }
        var w = Tensor.FromArray(weights);
        var gradients = Diff.Grad((Expr[] a) => (a[0].Clamp(a[1], a[2]) * w).Sum())(
            [Tensor.FromArray(X), Tensor.FromArray(Lower), Tensor.FromArray(Upper)]);
        var values = Expr.EvalMany(gradients);
        Close(dx, values[0].ToDoubleArray(), 0, "d/dx");
        Close(dLower, values[1].ToDoubleArray(), 0, "d/dlower");
        Close(dUpper, values[2].ToDoubleArray(), 0, "d/dupper");

        // away from the ties and the NaN, central differences in every argument; broadcast bounds sum their cotangents
        var x = T([2, 3], 4);
        var lower = Tensor.FromArray(new[] { -0.9, 0.1, -2.0 });
        var upper = Tensor.FromArray(new[] { 0.4, 1.3, -1.0 });
        var ww = T([2, 3], 5);
        Func<Expr, Expr, Expr, Expr> f = (a, l, u) => (a.Clamp(l, u).Square() * ww).Sum();
        var g = Diff.Grad((Expr[] a) => f(a[0], a[1], a[2]))([x, lower, upper]);
        Close(NumericGradient(a => f(a, lower, upper), x), g[0].Eval().ToDoubleArray(), 1e-8, "x");
        Close(NumericGradient(l => f(x, l, upper), lower), g[1].Eval().ToDoubleArray(), 1e-8, "lower");
        Close(NumericGradient(u => f(x, lower, u), upper), g[2].Eval().ToDoubleArray(), 1e-8, "upper");
        // second order: the Hessian in x is 2w where x is inside, 0 elsewhere
        var xv = x.ToDoubleArray();
        var inside = xv.Select((v, i) => v >= lower.ToDoubleArray()[i % 3] && v <= upper.ToDoubleArray()[i % 3]).ToArray();
        Assert.Contains(true, inside);
        Assert.Contains(false, inside);
        var hv = Diff.Hvp(a => f(a, lower, upper), x, Tensor.Ones(2, 3)).Eval().ToDoubleArray();
        Close(ww.ToDoubleArray().Select((v, i) => inside[i] ? 2 * v : 0).ToArray(), hv, 1e-15, "Hessian-vector product");
    }

    [Fact]
    public void ClampWithTensorBoundsNamesItselfAndTheShapes()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)T([2, 3])).Clamp(T([4]), T([3])));
        Assert.StartsWith("Clamp", e.Message);
        Assert.Contains("[4]", e.Message);
        Assert.StartsWith("Clamp", Assert.ThrowsAny<ArgumentException>(() => T([2, 3]).Clamp(T([3]), T([2]))).Message);
        Assert.Equal("min", Assert.Throws<ArgumentNullException>(() => ((Expr)T([2])).Clamp((Expr)null!, T([2]))).ParamName);
        Assert.Equal("max", Assert.Throws<ArgumentNullException>(() => T([2]).Clamp(T([2]), null!)).ParamName);
    }

    [Fact]
    public void GradOfNamedExpressionsIsDifferentiatedThroughAgain()
    {
        // f(p) = Σ sin(w)·a + a²; one SGD step w' = w − η ∂f/∂w inside an outer loss L = Σ w'²: create_graph semantics
        var w = T([3], 6);
        var a = T([3], 7);
        const double eta = 0.3;
        Expr Inner(IReadOnlyDictionary<string, Expr> q) => (q["w"].Sin() * q["a"] + q["a"].Square()).Sum();
        var (value, gradients) = Diff.ValueAndGrad(p =>
        {
            var g = Diff.Grad(Inner, p);
            Assert.Equal(new[] { "w", "a" }, g.Keys);
            return (p["w"] - eta * g["w"]).Square().Sum();
        }, Parameters.Of(("w", w), ("a", a)));
        // by hand: ∂f/∂w = cos(w)·a, w' = w − η cos(w) a; ∂L/∂w = 2w'(1 + η sin(w) a), ∂L/∂a = 2w'(−η cos w)
        var (wv, av) = (w.ToDoubleArray(), a.ToDoubleArray());
        var updated = wv.Select((v, i) => v - eta * Math.Cos(v) * av[i]).ToArray();
        Close(updated.Sum(v => v * v), value.Eval().ToScalar(), 1e-14, "value");
        Close(updated.Select((u, i) => 2 * u * (1 + eta * Math.Sin(wv[i]) * av[i])).ToArray(), gradients["w"].Eval().ToDoubleArray(), 1e-14, "d/dw");
        Close(updated.Select((u, i) => 2 * u * (-eta * Math.Cos(wv[i]))).ToArray(), gradients["a"].Eval().ToDoubleArray(), 1e-14, "d/da");

        // the value form returns the inner value too, and a null is refused under the parameter's name
        var inner = Diff.ValueAndGrad(Inner, (IReadOnlyDictionary<string, Expr>)new Dictionary<string, Expr> { ["w"] = w, ["a"] = a });
        Close(wv.Select((v, i) => Math.Sin(v) * av[i] + av[i] * av[i]).Sum(), inner.Value.Eval().ToScalar(), 1e-14, "inner value");
        Assert.Equal("parameters", Assert.Throws<ArgumentNullException>(() =>
            Diff.Grad(Inner, new Dictionary<string, Expr> { ["w"] = w, ["a"] = null! })).ParamName);
    }
}
