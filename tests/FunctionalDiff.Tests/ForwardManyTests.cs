using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Forward mode over several inputs and Linearize: against central differences, against the
/// one-input Jvp of the same function of the concatenated inputs, and the errors they raise.
/// </summary>
public class ForwardManyTests
{
    static readonly Tensor A = T(new[] { 3 });
    static readonly Tensor B = T(new[] { 2, 3 }, 5);

    /// <summary>A [3] and a [2,3] input to a [2] output.</summary>
    static Expr TwoInputs(Expr[] p) => (p[1].MatMul(p[0].Sin())).Tanh() * (p[0] * p[0]).Sum() + p[1].Sum(1).Exp();

    /// <summary>The same function of z = [a; b flattened].</summary>
    static Expr Concatenated(Expr z) => TwoInputs(new[] { z.Slice(0, 0, 3), z.Slice(0, 3, 9).Reshape(2, 3) });

    static double[] V(Expr e) => e.Eval().ToDoubleArray();

    static double[] Join(Tensor a, Tensor b) => a.ToDoubleArray().Concat(b.ToDoubleArray()).ToArray();

    /// <summary>J t of TwoInputs at (A, B) by central differences along the joined tangent.</summary>
    static double[] DirectionalDifference(double[] ta, double[] tb)
    {
        const double h = 1e-6;   // truncation ~1e-12, rounding ~1e-10
        double[] At(double sign)
        {
            var a = A.ToDoubleArray().Select((v, i) => v + sign * h * ta[i]).ToArray();
            var b = B.ToDoubleArray().Select((v, i) => v + sign * h * tb[i]).ToArray();
            return V(TwoInputs(new Expr[] { Tensor.FromArray(a, 3), Tensor.FromArray(b, 2, 3) }));
        }
        var plus = At(1);
        var minus = At(-1);
        return plus.Select((p, i) => (p - minus[i]) / (2 * h)).ToArray();
    }

    [Fact]
    public void JvpOverSeveralInputsMatchesCentralDifferences()
    {
        for (int salt = 0; salt < 3; salt++)
        {
            Tensor ta = T(new[] { 3 }, 10 + salt), tb = T(new[] { 2, 3 }, 20 + salt);
            var (value, tangent) = Diff.Jvp(TwoInputs, new Expr[] { A, B }, new Expr[] { ta, tb });
            Close(V(TwoInputs(new Expr[] { A, B })), V(value), 1e-14, "value");
            Close(DirectionalDifference(ta.ToDoubleArray(), tb.ToDoubleArray()), V(tangent), 1e-7, "tangent");
        }
    }

    [Fact]
    public void JvpOverSeveralInputsEqualsJvpOfTheConcatenatedInputs()
    {
        Tensor ta = T(new[] { 3 }, 7), tb = T(new[] { 2, 3 }, 8);
        var (value, tangent) = Diff.Jvp(TwoInputs, new Expr[] { A, B }, new Expr[] { ta, tb });
        var (value1, tangent1) = Diff.Jvp(Concatenated, Tensor.FromArray(Join(A, B)), Tensor.FromArray(Join(ta, tb)));
        // the same products, grouped differently: float64 rounding only
        Close(V(value1), V(value), 1e-12, "value");
        Close(V(tangent1), V(tangent), 1e-12, "tangent");
    }

    [Fact]
    public void LinearizeGivesTheValueAndAppliesTheJacobianToEveryTangent()
    {
        var z = Tensor.FromArray(Join(A, B));
        var (value, jvp) = Diff.Linearize(Concatenated, z);
        Close(V(Concatenated(z)), V(value), 1e-14, "value");
        for (int salt = 0; salt < 3; salt++)
        {
            var t = T(new[] { 9 }, 30 + salt);
            var td = t.ToDoubleArray();
            Close(V(Diff.Jvp(Concatenated, z, t).Tangent), V(jvp(t)), 1e-12, "as Jvp");
            Close(DirectionalDifference(td[..3], td[3..]), V(jvp(t)), 1e-7, "J t");
        }
    }

    [Fact]
    public void LinearizeOverSeveralInputsAgreesWithJvp()
    {
        var (value, jvp) = Diff.Linearize(TwoInputs, A, B);
        Close(V(TwoInputs(new Expr[] { A, B })), V(value), 1e-14, "value");
        for (int salt = 0; salt < 3; salt++)
        {
            Tensor ta = T(new[] { 3 }, 40 + salt), tb = T(new[] { 2, 3 }, 50 + salt);
            var expected = Diff.Jvp(TwoInputs, new Expr[] { A, B }, new Expr[] { ta, tb }).Tangent;
            var applied = V(jvp(new Expr[] { ta, tb }));
            Close(V(expected), applied, 1e-12, "tangent");
            // Jvp is ours too: the linearized map must also be J t by central differences
            Close(DirectionalDifference(ta.ToDoubleArray(), tb.ToDoubleArray()), applied, 1e-7, "J t");
        }
    }

    [Fact]
    public void BareLiteralTangentsTakeTheirPrimalsDType()
    {
        var x = Tensor.Scalar(0.5, DType.Float32);
        var (_, tangent) = Diff.Jvp(p => p[0].Sin() * p[1], new Expr[] { x, x }, new Expr[] { 1.0, 0.0 });
        Assert.Equal(DType.Float32, tangent.DType);
        // d/dt sin(a) b along (1, 0) at a = b = 0.5 is cos(0.5)·0.5, in float32
        Close(Math.Cos(0.5) * 0.5, tangent.Eval().ToScalar(), 1e-6, "cos(a) b");
        var (_, jvp) = Diff.Linearize(v => v.Sin(), x);
        Assert.Equal(DType.Float32, jvp(2.0).DType);
        Close(2 * Math.Cos(0.5), jvp(2.0).Eval().ToScalar(), 1e-6, "2 cos(x)");
    }

    [Fact]
    public void MismatchedTangentsNameTheMethodTheParametersAndTheShapes()
    {
        var count = Assert.ThrowsAny<ArgumentException>(() => Diff.Jvp(TwoInputs, new Expr[] { A, B }, new Expr[] { A }));
        Assert.Equal("Jvp: 1 tangents for 2 primals", count.Message);
        var shape = Assert.ThrowsAny<ArgumentException>(() => Diff.Jvp(TwoInputs, new Expr[] { A, B }, new Expr[] { A, A }));
        Assert.Equal("Jvp: tangents[1] of shape [3] does not match primals[1] of shape [2,3]", shape.Message);
        var (_, jvp) = Diff.Linearize(v => v.Sin(), A);
        var one = Assert.ThrowsAny<ArgumentException>(() => jvp(B));
        Assert.Equal("Linearize: tangent of shape [2,3] does not match x of shape [3]", one.Message);
        var (_, jvpMany) = Diff.Linearize(TwoInputs, A, B);
        var many = Assert.ThrowsAny<ArgumentException>(() => jvpMany(new Expr[] { A }));
        Assert.Equal("Linearize: 1 tangents for 2 primals", many.Message);
        Assert.Throws<ArgumentNullException>(() => Diff.Jvp(TwoInputs, new Expr[] { A, null! }, new Expr[] { A, B }));
    }
}
