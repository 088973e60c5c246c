using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// The eager Tensor forms of the linear algebra, activations and reductions (Tensor.Mirrors.cs) against the identities
/// that define them (L Lᵀ = A, U S Vh = A, Q R = A, A v = λ v, A A⁻¹ = I, A x = b) and closed forms written here.
/// </summary>
public class TensorMirrorTests
{
    static readonly double[] Spd = { 4, 1, 0.5, 1, 3, 0.25, 0.5, 0.25, 2 };

    static double[] Transposed(double[] a, int rows, int columns)
    {
        var t = new double[a.Length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < columns; j++) t[j * rows + i] = a[i * columns + j];
        return t;
    }

    static void Close(double[] expected, double[] actual, int digits = 12)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], digits);
    }

    [Fact]
    public void DecompositionsReassembleTheirMatrix()
    {
        var a = Tensor.FromArray(Spd, 3, 3);
        var l = a.Cholesky().ToDoubleArray();
        Close(Spd, TestSupport.MatrixProduct(l, Transposed(l, 3, 3), 3, 3, 3));
        var (q, r) = a.Qr();
        Close(Spd, TestSupport.MatrixProduct(q.ToDoubleArray(), r.ToDoubleArray(), 3, 3, 3));
        var (u, s, vh) = a.Svd();
        var sv = s.ToDoubleArray();
        var us = u.ToDoubleArray();
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) us[i * 3 + j] *= sv[j];
        Close(Spd, TestSupport.MatrixProduct(us, vh.ToDoubleArray(), 3, 3, 3));
        Close(sv, a.SvdVals().ToDoubleArray());
        var (values, vectors) = a.Eigh();
        var lambda = values.ToDoubleArray();
        var v = vectors.ToDoubleArray();
        var av = TestSupport.MatrixProduct(Spd, v, 3, 3, 3);
        for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) Assert.Equal(lambda[j] * v[i * 3 + j], av[i * 3 + j], 12);
        Close(lambda, a.EigvalsH().ToDoubleArray());
    }

    [Fact]
    public void SolvesAndInversesSatisfyTheirEquations()
    {
        var a = Tensor.FromArray(Spd, 3, 3);
        var identity = TestSupport.MatrixProduct(Spd, a.Inverse().ToDoubleArray(), 3, 3, 3);
        Close(new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 1 }, identity);
        double[] b = { 1, -2, 0.5 };
        var x = a.Solve(Tensor.FromArray(b)).ToDoubleArray();
        Close(b, TestSupport.MatrixProduct(Spd, x, 3, 3, 1));
        var viaFactor = Tensor.FromArray(b, 3, 1).CholeskySolve(a.Cholesky()).ToDoubleArray();
        Close(x, viaFactor);
        // the determinant by the rule of Sarrus, and its log
        double det = 4 * (3 * 2 - 0.25 * 0.25) - 1 * (1 * 2 - 0.25 * 0.5) + 0.5 * (1 * 0.25 - 3 * 0.5);
        Assert.Equal(det, a.Det().ToScalar(), 12);
        Assert.Equal(Math.Log(det), a.LogDet().ToScalar(), 12);
        var (sign, logAbs) = a.SlogDet();
        Assert.Equal(1.0, sign.ToScalar());
        Assert.Equal(Math.Log(det), logAbs.ToScalar(), 12);
        Close(TestSupport.MatrixProduct(Spd, Spd, 3, 3, 3), a.MatrixPower(2).ToDoubleArray());
        Assert.Equal(4 + 3 + 2, a.Trace().ToScalar());
    }

    [Fact]
    public void ActivationsAndReductionsAreTheirFormulas()
    {
        double[] values = { -2.0, -0.25, 0.0, 0.5, 3.0 };
        var t = Tensor.FromArray(values);
        Assert.Equal(values.Select(v => v > 0 ? v : 0.1 * v).ToArray(), t.LeakyRelu(0.1).ToDoubleArray());
        Assert.Equal(values.Select(v => Math.Clamp(v, -1, 1)).ToArray(), t.Hardtanh().ToDoubleArray());
        Close(values.Select(v => v > 0 ? v : Math.Exp(v) - 1).ToArray(), t.Elu().ToDoubleArray(), 14);
        Assert.Equal(values.Select(v => v > 1 ? v : -7.0).ToArray(), t.Threshold(1, -7).ToDoubleArray());
        Assert.Equal(new[] { 0.0, 3.0 }, new[] { t.Median().ToScalar(), t.Max().ToScalar() });
        var (min, max) = t.Aminmax();
        Assert.Equal((-2.0, 3.0), (min.ToScalar(), max.ToScalar()));
        var (median, index) = Tensor.FromArray(new[] { 5.0, 1, 4, 2 }, 2, 2).Median(1);
        Assert.Equal(new[] { 1.0, 2.0 }, median.ToDoubleArray());
        Assert.Equal(new[] { 1.0, 1.0 }, index.ToDoubleArray());
        Assert.Equal(new[] { 0.0, 0, 1, 1, 1 }, t.Ge(Tensor.Zeros([5])).ToDoubleArray());
        Assert.Equal(Math.Sqrt(9 + 16), Tensor.Hypot(Tensor.Scalar(3.0), Tensor.Scalar(4.0)).ToScalar(), 14);
        Assert.Equal(0.5, Tensor.FromArray(values).Quantile(0.75).ToScalar(), 14);
    }
}
