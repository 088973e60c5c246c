using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>The linear-algebra methods of the C# facade: derivatives against finite differences, identities, errors.</summary>
public class LinalgTests
{
    static readonly Tensor Identity3 = Tensor.FromArray(new double[,] { { 1, 0, 0 }, { 0, 1, 0 }, { 0, 0, 1 } });

    static Expr Spd(Expr x) => x.MatMul(x.Transpose()) + 3.0 * (Expr)Identity3;

    public static IEnumerable<object[]> Functions() => new (string, Func<Expr, Expr>)[]
    {
        ("Cholesky", x => Spd(x).Cholesky().Sin().Sum()),
        ("SolveTriangular transposed", x => (x + 4.0 * (Expr)Identity3).SolveTriangular(x.Slice(1, 0, 2), upper: true, transpose: true).Square().Sum()),
        ("Solve", x => (x + 4.0 * (Expr)Identity3).Solve(x.Slice(1, 1, 2).Exp()).Sum()),
        ("Inverse", x => (x + 4.0 * (Expr)Identity3).Inverse().Square().Sum()),
        ("Det", x => x.Det()),
        ("LogDet", x => Spd(x).LogDet()),
        ("SlogDet", x => x.SlogDet().LogAbsDet),
        ("Qr", x => { var qr = x.Qr(); return qr.Q.Sin().Sum() + qr.R.Square().Sum(); }),
        ("Eigh", x => { var e = (x + x.Transpose()).Eigh(); return e.Eigenvalues.Sin().Sum() + e.Eigenvectors.Square().MatMul(e.Eigenvalues).Sum(); }),
        ("EigvalsH", x => (x + x.Transpose()).EigvalsH().Exp().Sum()),
    }.Select(c => new object[] { c.Item1, c.Item2 });

    [Theory]
    [MemberData(nameof(Functions))]
    public void DerivativesUpToThirdOrderAgreeWithFiniteDifferences(string name, Func<Expr, Expr> f)
    {
        var result = Diff.CheckGrad(f, Tensor.RandomNormal(new[] { 3, 3 }, seed: 17), order: 3);
        Assert.True(result.Passed, $"{name}: {result.Message}");
    }

    [Fact]
    public void SolveAgreesWithInverseTimesB()
    {
        var a = Tensor.FromArray(new double[,] { { 4, 1, 0 }, { 1, 3, 1 }, { 0, 2, 5 } });
        var b = Tensor.FromArray(new[] { 1.0, -2.0, 0.5 });
        var x = ((Expr)a).Solve(b).Eval().ToDoubleArray();
        var viaInverse = ((Expr)a).Inverse().MatMul(b).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++) Assert.Equal(viaInverse[i], x[i], 12);
        // and A x = b, by a loop
        double[,] m = { { 4, 1, 0 }, { 1, 3, 1 }, { 0, 2, 5 } };
        double[] expected = { 1.0, -2.0, 0.5 };
        for (int i = 0; i < 3; i++) Assert.Equal(expected[i], m[i, 0] * x[0] + m[i, 1] * x[1] + m[i, 2] * x[2], 12);
    }

    [Fact]
    public void ErrorsNameTheMethodTheParameterAndTheShapes()
    {
        Expr wide = Tensor.Ones(new[] { 2, 3 });
        var shape = Assert.ThrowsAny<ArgumentException>(() => wide.Cholesky());
        Assert.Contains("Cholesky", shape.Message);
        Assert.Contains("[2,3]", shape.Message);
        var missing = Assert.Throws<ArgumentNullException>(() => wide.Solve(null!));
        Assert.Equal("b", missing.ParamName);
        Expr notPositive = Tensor.FromArray(new double[,] { { 1, 2 }, { 2, 1 } });
        var numeric = Assert.Throws<ArgumentException>(() => notPositive.Cholesky().Eval());
        Assert.Contains("Cholesky", numeric.Message);
        Assert.Contains("not positive definite", numeric.Message);
    }
}

/// <summary>
/// A singular matrix where an LU solve is needed: the value of LogDet is −∞ as torch's, and evaluating its gradient
/// (A⁻ᵀ, which does not exist) throws with a message that names the public methods that solve there, not only
/// the internal Solve node.
/// </summary>
public class SingularSolveMessageTests
{
    [Fact]
    public void TheGradientOfLogDetAtASingularMatrixNamesLogDet()
    {
        Expr a = Tensor.FromArray(new[] { 1.0, 2.0, 2.0, 4.0 }, 2, 2);
        Assert.Equal(double.NegativeInfinity, a.LogDet().Eval().ToScalar());
        var e = Assert.ThrowsAny<ArgumentException>(() => Diff.Grad(x => x.LogDet())(a).Eval());
        Assert.Contains("[2,2]", e.Message);
        Assert.Contains("singular", e.Message);
        Assert.Contains("LogDet", e.Message);
    }
}
