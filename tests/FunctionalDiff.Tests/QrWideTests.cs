using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>Expr.Qr of a wide matrix (m &lt; n): torch's reduced shapes, the factorisation's identities, and
/// derivatives against finite differences.</summary>
public class QrWideTests
{
    [Fact]
    public void WideMatrixGivesSquareQAndWideR()
    {
        var a = Tensor.RandomNormal(new[] { 2, 5 }, seed: 3);
        var qr = ((Expr)a).Qr();
        Assert.Equal(new[] { 2, 2 }, qr.Q.Shape);
        Assert.Equal(new[] { 2, 5 }, qr.R.Shape);
        double[] q = qr.Q.Eval().ToDoubleArray(), r = qr.R.Eval().ToDoubleArray(), values = a.ToDoubleArray();
        // Q R = A and QᵀQ = I, by loops; R is zero below its diagonal
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 5; j++)
                Assert.Equal(values[i * 5 + j], q[i * 2] * r[j] + q[i * 2 + 1] * r[5 + j], 12);
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 2; j++)
                Assert.Equal(i == j ? 1.0 : 0.0, q[i] * q[j] + q[2 + i] * q[2 + j], 12);
        Assert.Equal(0.0, r[5]);
    }

    [Fact]
    public void DerivativesUpToSecondOrderAgreeWithFiniteDifferences()
    {
        var result = Diff.CheckGrad(x => { var qr = x.Qr(); return qr.Q.Sin().Sum() + qr.R.Square().Sum() + qr.R.Slice(1, 2, 4).Sin().Sum(); },
                                    Tensor.RandomNormal(new[] { 3, 4 }, seed: 23), order: 2);
        Assert.True(result.Passed, result.Message);
    }
}
