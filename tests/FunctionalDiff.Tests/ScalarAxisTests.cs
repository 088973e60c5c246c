using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>
/// torch reads dim 0 or −1 of a rank-0 tensor as its one entry: <c>x.sum(0)</c>, <c>x.max(0)</c>, <c>x.softmax(-1)</c>,
/// <c>x.argmax(0)</c> of a scalar are the op over a one-entry vector, and the result is a scalar. Each case against that
/// closed form (value and derivative at 3, and at −∞ where the op's one-entry value is NaN or 0 there).
/// </summary>
public class ScalarAxisTests
{
    public static TheoryData<string, double, double> Cases() => new()
    {
        // op, value at x = 3, derivative there
        { "Sum(0)", 3.0, 1.0 },
        { "Mean(-1)", 3.0, 1.0 },
        { "Max(0)", 3.0, 1.0 },
        { "Min(-1, keepDims)", 3.0, 1.0 },
        { "Prod(0)", 3.0, 1.0 },
        { "LogSumExp(0)", 3.0, 1.0 },
        { "Softmax(0)", 1.0, 0.0 },
        { "LogSoftmax(-1)", 0.0, 0.0 },
        { "MaxWithIndices(0).Values", 3.0, 1.0 },
        { "MinWithIndices(-1).Indices", 0.0, 0.0 },
        { "ArgMax(0)", 0.0, 0.0 },
        { "ArgMin(-1)", 0.0, 0.0 },
        { "Var(0, correction 0)", 0.0, 0.0 },
        { "Std(0, correction 0)", 0.0, 0.0 },
    };

    static Expr Apply(string op, Expr x) => op switch
    {
        "Sum(0)" => x.Sum(0),
        "Mean(-1)" => x.Mean(-1),
        "Max(0)" => x.Max(0),
        "Min(-1, keepDims)" => x.Min(-1, keepDims: true),
        "Prod(0)" => x.Prod(0),
        "LogSumExp(0)" => x.LogSumExp(0),
        "Softmax(0)" => x.Softmax(0),
        "LogSoftmax(-1)" => x.LogSoftmax(-1),
        "MaxWithIndices(0).Values" => x.MaxWithIndices(0).Values,
        "MinWithIndices(-1).Indices" => x.MinWithIndices(-1).Indices,
        "ArgMax(0)" => x.ArgMax(0),
        "ArgMin(-1)" => x.ArgMin(-1),
        "Var(0, correction 0)" => x.Var(0, correction: 0.0),
        "Std(0, correction 0)" => x.Std(0, correction: 0.0),
        _ => throw new ArgumentException(op),
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void AScalarsAxisZeroIsItsOneEntry(string op, double value, double derivative)
    {
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var x = Tensor.Scalar(3.0, dtype);
            var y = Apply(op, x).Eval();
            Assert.Empty(y.Shape);
            Assert.Equal(dtype, y.DType);
            Assert.Equal(value, y.ToScalar());
            Assert.Equal(derivative, Diff.Grad(v => Apply(op, v))(x).Eval().ToScalar());
            // the same as the op over the one-entry vector [3], read back as a scalar
            Assert.Equal(Apply(op, Tensor.FromArray(new[] { 3.0 }).Cast(dtype)).Eval().ToDoubleArray()[0], y.ToScalar());
        }
    }

    [Fact]
    public void TheOneEntryEdgesCarryOver()
    {
        // a one-entry softmax is exp(x − x): NaN at ±∞ as torch's; logsumexp of one entry is the entry
        Assert.True(double.IsNaN(Tensor.Scalar(double.NegativeInfinity).Softmax(0).ToScalar()));
        Assert.Equal(double.NegativeInfinity, Tensor.Scalar(double.NegativeInfinity).LogSumExp(0).ToScalar());
        // torch's unbiased variance of one entry divides by 0
        Assert.True(double.IsNaN(((Expr)Tensor.Scalar(3.0)).Var(0).Eval().ToScalar()));
    }

    [Fact]
    public void OtherAxesOfAScalarStillRaiseNamingTheOp()
    {
        var x = (Expr)Tensor.Scalar(3.0);
        Assert.Contains("Sum", Assert.ThrowsAny<ArgumentException>(() => x.Sum(1)).Message);
        Assert.Contains("MaxWithIndices", Assert.ThrowsAny<ArgumentException>(() => x.MaxWithIndices(2)).Message);
        Assert.Contains("Softmax", Assert.ThrowsAny<ArgumentException>(() => x.Softmax(-2)).Message);
    }
}
