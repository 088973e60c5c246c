using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>The transforms against central finite differences and closed forms, including nesting.</summary>
public class DiffTests
{
    static readonly Tensor X = T(new[] { 2, 3 });
    static readonly Tensor Y = T(new[] { 2, 3 }, 4);

    static Expr F(Expr x) => (x.Sin() * x.Square() + x.Tanh()).Sum();
    static Expr G(Expr x, Expr y) => (x * y.Exp() + x.Sin() * y).Sum();
    static Expr Vector(Expr x) => x.Sin() * x.Sum(0, keepDims: true);   // [2,3] -> [2,3]

    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    [Fact]
    public void GradAndValueAndGradMatchFiniteDifferences()
    {
        var numeric = NumericGradient(F, X);
        Close(numeric, V(Diff.Grad(F)(X)));
        var (value, gradient) = Diff.ValueAndGrad(F, X);
        Close(Scalar(F, X.Shape, X.ToDoubleArray()), value.Eval().ToScalar(), 1e-14);
        Close(numeric, V(gradient));
        Assert.Equal(X.Shape, gradient.Shape);
    }

    [Fact]
    public void VjpOfANonScalarFunctionIsTheCotangentWeightedGradient()
    {
        var u = T(new[] { 2, 3 }, 7);
        var (value, pullback) = Diff.Vjp(Vector, X);
        Close(V(Vector(X)), V(value), 0);
        var expected = NumericGradient(x => (Vector(x) * u).Sum(), X);
        Close(expected, V(pullback(u)));
        // the pullback is linear in the cotangent
        Close(V(pullback(u)).Select(v => 2 * v).ToArray(), V(pullback((Expr)u * 2.0)), 1e-15);
    }

    [Fact]
    public void TwoArgumentTransformsMatchFiniteDifferences()
    {
        var dx = NumericGradient(x => G(x, Y), X);
        var dy = NumericGradient(y => G(X, y), Y);
        var grads = Diff.Grad((Func<Expr, Expr, Expr>)G)(X, Y);
        Close(dx, V(grads.DX));
        Close(dy, V(grads.DY));
        var (value, pullback) = Diff.Vjp((Func<Expr, Expr, Expr>)G, X, Y);
        Close(G(X, Y).Eval().ToScalar(), value.Eval().ToScalar(), 0);
        var back = pullback(Tensor.Scalar(3.0));
        Close(dx.Select(v => 3 * v).ToArray(), V(back.DX));
        Close(dy.Select(v => 3 * v).ToArray(), V(back.DY));
    }

    [Fact]
    public void ManyArgumentTransformsMatchFiniteDifferences()
    {
        var z = T(new[] { 3 }, 2);
        Expr H(Expr[] p) => (p[0].MatMul(p[2]) * p[1].Sum(1)).Sum() + p[2].Exp().Sum();
        var points = new Expr[] { X, Y, z };
        var expected = new[]
        {
            NumericGradient(a => H(new Expr[] { a, Y, z }), X),
            NumericGradient(b => H(new Expr[] { X, b, z }), Y),
            NumericGradient(c => H(new Expr[] { X, Y, c }), z),
        };
        var grads = Diff.Grad(H)(points);
        var (value, gradients) = Diff.ValueAndGrad(H, points);
        var (vjpValue, pullback) = Diff.Vjp(H, points);
        var cotangents = pullback(1.0);
        Close(H(points).Eval().ToScalar(), value.Eval().ToScalar(), 0);
        Close(H(points).Eval().ToScalar(), vjpValue.Eval().ToScalar(), 0);
        for (int i = 0; i < 3; i++)
        {
            Close(expected[i], V(grads[i]), 1e-6, $"Grad {i}");
            Close(expected[i], V(gradients[i]), 1e-6, $"ValueAndGrad {i}");
            Close(expected[i], V(cotangents[i]), 1e-6, $"Vjp {i}");
        }
        // an argument the function ignores gets a zero gradient of its own shape
        var unused = Diff.Grad(p => p[0].Sum())(new Expr[] { X, z });
        Assert.Equal(new double[3], V(unused[1]));
    }

    [Fact]
    public void NestedGradIsTheSecondDerivative()
    {
        // f(x) = sum x³ sin x; f'' per element = 6x sin x + 6x² cos x − x³ sin x
        Expr Cubic(Expr x) => (x * x * x * x.Sin()).Sum();
        var second = Diff.Grad(x => Diff.Grad(Cubic)(x).Sum());
        var expected = X.ToDoubleArray().Select(x => 6 * x * Math.Sin(x) + 6 * x * x * Math.Cos(x) - x * x * x * Math.Sin(x)).ToArray();
        Close(expected, V(second(X)), 1e-12);
        // third order: d/dx of the above summed
        var third = Diff.Grad(x => second(x).Sum());
        var expected3 = X.ToDoubleArray().Select(x =>
            6 * Math.Sin(x) + 18 * x * Math.Cos(x) - 9 * x * x * Math.Sin(x) - x * x * x * Math.Cos(x)).ToArray();
        Close(expected3, V(third(X)), 1e-12);
    }

    [Fact]
    public void VjpInsideVjpKeepsPerturbationsApart()
    {
        // d/dx (x · d/dy (x·y)) at y = 3 is 2x: the inner derivative must not see the outer x as constant-free
        Expr Outer(Expr x)
        {
            var (_, inner) = Diff.Vjp(y => x * y, Tensor.Scalar(3.0));
            return x * inner(1.0);
        }
        var (value, pullback) = Diff.Vjp(Outer, Tensor.Scalar(1.5));
        Close(1.5 * 1.5, value.Eval().ToScalar(), 1e-15);
        Close(2 * 1.5, pullback(1.0).Eval().ToScalar(), 1e-15);
        // a constant equal to the argument is not the argument: grad (v -> v * c) at c is c
        var c = Tensor.Scalar(2.0);
        Close(2.0, Diff.Grad(v => v * c)(c).Eval().ToScalar(), 0);
    }

    [Fact]
    public void JvpIsTheJacobianAppliedToTheTangent()
    {
        var t = T(new[] { 2, 3 }, 11);
        var (value, tangent) = Diff.Jvp(Vector, X, t);
        Close(V(Vector(X)), V(value), 0);
        var rows = Directional(v => V(Vector(Tensor.FromArray(v, 2, 3))), X.ToDoubleArray());
        var td = t.ToDoubleArray();
        var expected = Enumerable.Range(0, 6).Select(k => Enumerable.Range(0, 6).Sum(i => rows[i][k] * td[i])).ToArray();
        Close(expected, V(tangent));
    }

    [Fact]
    public void JacobianAndHessianMatchFiniteDifferences()
    {
        var rows = Directional(v => V(Vector(Tensor.FromArray(v, 2, 3))), X.ToDoubleArray());
        var jacobian = Diff.Jacobian(Vector)(X);
        Assert.Equal(new[] { 2, 3, 2, 3 }, jacobian.Shape);
        // Jacobian[out, in] = rows[in][out]
        var expected = (from o in Enumerable.Range(0, 6) from i in Enumerable.Range(0, 6) select rows[i][o]).ToArray();
        Close(expected, V(jacobian));

        var hessian = Diff.Hessian(F)(X);
        Assert.Equal(new[] { 2, 3, 2, 3 }, hessian.Shape);
        // differences of the gradient, which is checked against differences of F above
        var gradientRows = Directional(v => V(Diff.Grad(F)(Tensor.FromArray(v, 2, 3))), X.ToDoubleArray());
        Close((from a in Enumerable.Range(0, 6) from b in Enumerable.Range(0, 6) select gradientRows[b][a]).ToArray(), V(hessian));
    }

    [Fact]
    public void JacobianInEachModeMatchesFiniteDifferences()
    {
        // the same matrix whichever way it is assembled (jacfwd, jacrev, chunked or not)
        var rows = Directional(v => V(Vector(Tensor.FromArray(v, 2, 3))), X.ToDoubleArray());
        var expected = (from o in Enumerable.Range(0, 6) from i in Enumerable.Range(0, 6) select rows[i][o]).ToArray();
        foreach (var mode in new[] { JacobianMode.Auto, JacobianMode.Forward, JacobianMode.Reverse })
            foreach (int? chunk in new int?[] { null, 1, 4 })
            {
                var jacobian = Diff.Jacobian(Vector, mode, chunk)(X);
                Assert.Equal(new[] { 2, 3, 2, 3 }, jacobian.Shape);
                Close(expected, V(jacobian));
            }
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Diff.Jacobian(Vector, JacobianMode.Reverse, 0));
        Assert.StartsWith("Diff.Jacobian: chunkSize must be at least 1, got 0", e.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => Diff.Jacobian(Vector, (JacobianMode)7));
    }

    [Fact]
    public void ValueAndGradOfTwoArgumentsIsTheValueAndBothGradients()
    {
        var y = T(new[] { 2, 3 }, 21);
        var (value, dx, dy) = Diff.ValueAndGrad((a, b) => (a * b.Sin()).Sum(), X, y);
        double[] xd = X.ToDoubleArray(), yd = y.ToDoubleArray();
        // closed forms: Σ x sin y, ∂/∂x = sin y, ∂/∂y = x cos y
        Close(new[] { xd.Zip(yd, (a, b) => a * Math.Sin(b)).Sum() }, V(value), 1e-12);
        Close(yd.Select(Math.Sin).ToArray(), V(dx), 1e-12);
        Close(xd.Zip(yd, (a, b) => a * Math.Cos(b)).ToArray(), V(dy), 1e-12);
        var e = Assert.ThrowsAny<ArgumentException>(() => Diff.ValueAndGrad((a, b) => a * b, X, y));
        Assert.StartsWith("ValueAndGrad: f must return one element", e.Message);
    }

    [Fact]
    public void HvpIsTheHessianAppliedToTheDirection()
    {
        var v = T(new[] { 2, 3 }, 13);
        var hv = Diff.Hvp(F, X, v);
        // F is a sum of elementwise terms, so its Hessian is diagonal with entries
        // d²/dx² (x² sin x + tanh x) = 2 sin x + 4x cos x − x² sin x − 2 tanh x (1 − tanh² x)
        var expected = X.ToDoubleArray().Select((x, i) =>
            (2 * Math.Sin(x) + 4 * x * Math.Cos(x) - x * x * Math.Sin(x) - 2 * Math.Tanh(x) * (1 - Math.Tanh(x) * Math.Tanh(x))) * v.ToDoubleArray()[i]).ToArray();
        Close(expected, V(hv), 1e-12);
    }

    [Fact]
    public void CustomVjpUsesTheGivenRuleAndNests()
    {
        // softplus with its true rule σ(x): first and second derivatives follow the rule
        var softplus = Diff.CustomVjp(z => (z.Exp() + 1.0).Log(), (z, g) => g * z.Sigmoid());
        var x = X.ToDoubleArray();
        Close(x.Select(v => Math.Log(1 + Math.Exp(v))).ToArray(), V(softplus(X)), 1e-14);
        Close(x.Select(v => 1 / (1 + Math.Exp(-v))).ToArray(), V(Diff.Grad(z => softplus(z).Sum())(X)), 1e-14);
        var second = Diff.Grad(z => Diff.Grad(w => softplus(w).Sum())(z).Sum());
        Close(x.Select(v => { var s = 1 / (1 + Math.Exp(-v)); return s * (1 - s); }).ToArray(), V(second(X)), 1e-13);
        // a deliberately different rule proves the rule, not the forward graph, is differentiated
        var doubled = Diff.CustomVjp(z => z.Sin(), (z, g) => g * 2.0);
        Close(Enumerable.Repeat(2.0, 6).ToArray(), V(Diff.Grad(z => doubled(z).Sum())(X)), 0);
    }

    [Fact]
    public void ANamedCustomVjpComputesAsTheUnnamedOneAndItsErrorsNameIt()
    {
        // as F#'s customVjpNamed: the name is the one an error gives for a rule of the wrong shape
        var softplus = Diff.CustomVjp("softplus", z => (z.Exp() + 1.0).Log(), (z, g) => g * z.Sigmoid());
        var x = X.ToDoubleArray();
        Close(x.Select(v => 1 / (1 + Math.Exp(-v))).ToArray(), V(Diff.Grad(z => softplus(z).Sum())(X)), 1e-14);
        var wrong = Diff.CustomVjp("rowSum", z => z.Sin(), (z, g) => g.Sum());
        var e = Assert.ThrowsAny<ArgumentException>(() => Diff.Grad(z => wrong(z).Sum())(X));
        Assert.Equal($"CustomVjp: the VJP rule of 'rowSum' returned shape [] for an input of shape [{string.Join(",", X.Shape)}]", e.Message);
        Assert.Throws<ArgumentNullException>("name", () => Diff.CustomVjp(null!, z => z, (z, g) => g));
    }

    [Fact]
    public void CheckGradPassesForCorrectDerivativesAndFailsForAWrongRule()
    {
        var good = Diff.CheckGrad(F, X);
        Assert.True(good.Passed, good.Message);
        Assert.Equal(2, good.Order);
        Assert.InRange(good.MaxError, 0, 1e-5);
        var firstOnly = Diff.CheckGrad(x => x.Exp().Sum(), X, order: 1);
        Assert.True(firstOnly.Passed, firstOnly.Message);
        Assert.Equal(1, firstOnly.Order);

        var wrong = Diff.CustomVjp(z => z.Sin(), (z, g) => g * z.Cos() * 1.01);   // a 1% mistake
        var bad = Diff.CheckGrad(x => wrong(x).Sum(), X);
        Assert.False(bad.Passed);
        Assert.True(bad.MaxError > 1e-3, bad.Message);
        Assert.False(string.IsNullOrEmpty(bad.Mode));
        Assert.Contains("FAILED", bad.Message);
    }

    public static IEnumerable<object[]> ReductionCases() => new (string, Func<Expr, Expr>)[]
    {
        ("sum axis", x => x.Sum(1).Sin().Sum()),
        ("mean", x => x.Mean().Exp()),
        ("mean axis keep", x => (x.Mean(0, true) * x).Sum()),
        ("mean axes", x => x.Mean(new[] { 0, 1 }).Square()),
        ("max axis", x => x.Max(1).Exp().Sum()),
        ("min", x => x.Min().Sin()),
        ("prod axis", x => x.Prod(0).Sum()),
        ("logsumexp", x => x.LogSumExp(1).Sum()),
        ("softmax", x => (x.Softmax(0) * x).Sum()),
        ("layernorm", x => (x.LayerNorm() * x.Cos()).Sum()),
        ("slice pad flip", x => (x.Slice(1, 0, 3, 2).Pad(new[] { 0, 1 }, new[] { 1, 0 }).Flip(0) * 3.0).Sin().Sum()),
        ("softplus erf", x => (x.Softplus() + x.Erf()).Sum()),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    [Theory]
    [MemberData(nameof(ReductionCases))]
    public void GradientsOfReductionsAndCompositesMatchFiniteDifferences(string name, Func<Expr, Expr> f)
    {
        // X has distinct entries, so max and min have no ties and are differentiable there
        Close(NumericGradient(f, X), V(Diff.Grad(f)(X)), 1e-6, name);
    }

    [Fact]
    public void StopGradientCutsTheDerivative()
    {
        var g = Diff.Grad(x => (x.StopGradient() * x.Sin()).Sum())(X);
        Close(X.ToDoubleArray().Select(v => v * Math.Cos(v)).ToArray(), V(g), 1e-15);
    }

    [Fact]
    public void Float32GradientsStayFloat32()
    {
        var x = X.Cast(DType.Float32);
        var g = Diff.Grad(z => (z * 3.0).Sin().Sum())(x);
        Assert.Equal(DType.Float32, g.DType);
        // float32 rounding of a few operations: relative 1e-5 is ~100 ulps
        Close(X.ToDoubleArray().Select(v => 3 * Math.Cos(3 * (float)v)).ToArray(), V(g), 1e-5);
    }
}
