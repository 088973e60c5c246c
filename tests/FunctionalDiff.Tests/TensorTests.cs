using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>Tensor: construction, conversion, indexing and the seeded generators.</summary>
public class TensorTests
{
    [Fact]
    public void FromArrayKeepsValuesShapeAndDType()
    {
        var v = Tensor.FromArray(new[] { 1.0, 2.0, 3.0 });
        Assert.Equal(new[] { 3 }, v.Shape);
        Assert.Equal(1, v.Rank);
        Assert.Equal(DType.Float64, v.DType);
        Assert.Equal(new[] { 1.0, 2.0, 3.0 }, v.ToDoubleArray());

        var f = Tensor.FromArray(new[] { 1.5f, -2f });
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(new[] { 1.5f, -2f }, f.ToSingleArray());

        var m = Tensor.FromArray(new double[,] { { 1, 2, 3 }, { 4, 5, 6 } });
        Assert.Equal(new[] { 2, 3 }, m.Shape);
        Assert.Equal(6.0, m[1, 2]);
        Assert.Equal(4.0, m[-1, 0]);

        var mf = Tensor.FromArray(new float[,] { { 1, 2 }, { 3, 4 } });
        Assert.Equal(DType.Float32, mf.DType);
        Assert.Equal(new[] { 1f, 2f, 3f, 4f }, mf.ToSingleArray());

        var shaped = Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, 3, 2);
        Assert.Equal(new[] { 3, 2 }, shaped.Shape);
        Assert.Equal(4.0, shaped[1, 1]);
        var shapedF = Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 2);
        Assert.Equal(3.0, shapedF[1, 0]);
    }

    [Fact]
    public void FromArrayCopiesItsInput()
    {
        var data = new[] { 1.0, 2.0 };
        var t = Tensor.FromArray(data);
        data[0] = 99;
        Assert.Equal(1.0, t[0]);
        t.ToDoubleArray()[1] = 99;
        Assert.Equal(2.0, t[1]);
        t.Shape[0] = 7;
        Assert.Equal(new[] { 2 }, t.Shape);
    }

    [Fact]
    public void FillsAndScalars()
    {
        Assert.Equal(2.5, Tensor.Scalar(2.5).ToScalar());
        Assert.Equal(0, Tensor.Scalar(2.5).Rank);
        Assert.Equal(DType.Float32, Tensor.Scalar(1, DType.Float32).DType);
        Assert.Equal(new double[6], Tensor.Zeros(new[] { 2, 3 }).ToDoubleArray());
        Assert.Equal(Enumerable.Repeat(1.0, 4), Tensor.Ones(new[] { 4 }, DType.Float32).ToDoubleArray());
        Assert.Equal(Enumerable.Repeat(-3.0, 6), Tensor.Full(new[] { 3, 2 }, -3).ToDoubleArray());
    }

    [Fact]
    public void RangesFollowTorch()
    {
        Assert.Equal(new[] { 0.0, 0.5, 1.0, 1.5 }, Tensor.Arange(0, 2, 0.5).ToDoubleArray());
        Assert.Equal(new[] { 0.0, 1, 2 }, Tensor.Arange(0, 3).ToDoubleArray());
        Assert.Equal(new[] { -1.0, -0.5, 0, 0.5, 1 }, Tensor.Linspace(-1, 1, 5).ToDoubleArray());
        Assert.Equal(DType.Float32, Tensor.Linspace(0, 1, 3, DType.Float32).DType);
    }

    [Fact]
    public void RandomTensorsAreDeterministicAndRoughlyDistributedAsClaimed()
    {
        var a = Tensor.RandomNormal(new[] { 4000 }, seed: 7).ToDoubleArray();
        Assert.Equal(a, Tensor.RandomNormal(new[] { 4000 }, 7).ToDoubleArray());
        Assert.NotEqual(a, Tensor.RandomNormal(new[] { 4000 }, 8).ToDoubleArray());
        // mean within 5 standard errors (5/sqrt(4000) ≈ 0.08) of 0, variance within 0.1 of 1
        Assert.InRange(a.Average(), -0.08, 0.08);
        Assert.InRange(a.Select(v => v * v).Average() - a.Average() * a.Average(), 0.9, 1.1);
        var u = Tensor.RandomUniform(new[] { 4000 }, 3, -2, 1).ToDoubleArray();
        Assert.All(u, v => Assert.InRange(v, -2, 1 - 1e-12));
        Assert.InRange(u.Average(), -0.5 - 0.07, -0.5 + 0.07);  // sd of the mean: 3/sqrt(12·4000) ≈ 0.014
        Assert.Equal(DType.Float32, Tensor.RandomNormal(new[] { 2 }, 1, DType.Float32).DType);
    }

    [Fact]
    public void CastRoundsToFloat32AndBack()
    {
        var t = Tensor.FromArray(new[] { 0.1, 1e10 });
        var f = t.Cast(DType.Float32);
        Assert.Equal(DType.Float32, f.DType);
        Assert.Equal(new[] { (double)0.1f, (double)1e10f }, f.ToDoubleArray());
        Assert.Equal(DType.Float64, f.Cast(DType.Float64).DType);
    }

    [Fact]
    public void ToStringPrintsLikeTorch()
    {
        // written by hand from torch's rules: 4 decimals, one width, float64 named as torch names it
        Assert.Equal("tensor([ 1.5000, -2.2500], dtype=torch.float64)", Tensor.FromArray(new[] { 1.5, -2.25 }).ToString());
        // float32 is torch's default dtype, so no suffix; whole numbers print as `1.`
        Assert.Equal("tensor([[1., 2.],\n        [3., 4.]])",
            Tensor.FromArray(new[] { 1f, 2f, 3f, 4f }, 2, 2).ToString());
    }

    [Fact]
    public void ShapeMistakesNameTheOperation()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(new[] { 1.0, 2, 3 }, 2, 2));
        Assert.Contains("FromArray", e.Message);
        Assert.Contains("[2,2]", e.Message);
        Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(new[] { 1.0, 2 }).ToScalar());
        Assert.ThrowsAny<ArgumentException>(() => Tensor.FromArray(new[] { 1.0, 2 })[2]);
    }
}
