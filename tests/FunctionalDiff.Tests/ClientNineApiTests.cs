using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The eager tensor methods a diffusion schedule reaches for (torch.cumsum, torch.cumprod, table[t] as index_select),
/// against loops written here, in both dtypes, and against the graph's bits.
/// </summary>
public class ClientNineApiTests
{
    [Theory]
    [InlineData(DType.Float64)]
    [InlineData(DType.Float32)]
    public void CumsumCumprodAndIndexSelectOnTensorsFollowTheirLoops(DType dtype)
    {
        var x = Tensor.FromArray(new[,] { { 0.5, -1.0, 2.0 }, { 1.5, 0.25, -0.5 } }).Cast(dtype);
        var v = x.ToDoubleArray();
        var sums = new double[6];
        var products = new double[6];
        for (int r = 0; r < 2; r++)
        {
            double s = 0, p = 1;
            for (int c = 0; c < 3; c++)
            {
                s += v[r * 3 + c];
                p *= v[r * 3 + c];
                sums[r * 3 + c] = s;
                products[r * 3 + c] = p;
            }
        }
        double tolerance = dtype == DType.Float64 ? 1e-15 : 1e-6;
        Close(sums, x.Cumsum(1).ToDoubleArray(), tolerance, "cumsum");
        Close(sums, x.Cumsum(-1).ToDoubleArray(), tolerance, "cumsum -1");
        Close(products, x.Cumprod(1).ToDoubleArray(), tolerance, "cumprod");
        Assert.Equal(dtype, x.Cumprod(1).DType);
        Assert.Equal(new[] { v[0], v[1], v[2], v[0] + v[3], v[1] + v[4], v[2] + v[5] }, x.Cumsum(0).ToDoubleArray());
        // the same bits as the graph, from the first call and the cached plan's second
        for (int call = 0; call < 2; call++)
            Assert.Equal(((Expr)x).Cumprod(0).Eval().ToDoubleArray(), x.Cumprod(0).ToDoubleArray());

        // alphas_cumprod[t]: rows picked by a tensor of positions, repeats allowed
        var picked = x.IndexSelect(1, Tensor.FromArray(new[] { 2.0, 0.0, 2.0 }));
        Assert.Equal(new[] { 2, 3 }, picked.Shape);
        Assert.Equal(new[] { v[2], v[0], v[2], v[5], v[3], v[5] }, picked.ToDoubleArray());
        Assert.Equal(new[] { v[3], v[4], v[5] }, x.IndexSelect(0, Tensor.Scalar(1.0)).ToDoubleArray());
        Assert.Equal("index", Assert.Throws<ArgumentNullException>(() => x.IndexSelect(0, null!)).ParamName);
        Assert.StartsWith("Cumsum: ", Assert.ThrowsAny<ArgumentException>(() => x.Cumsum(2)).Message);
    }

    [Fact]
    public void CatAndToAreTorchsSpellingsOfConcatAndCast()
    {
        var a = Tensor.FromArray(new[,] { { 1.0, 2.0 }, { 3.0, 4.0 } });
        var b = Tensor.FromArray(new[,] { { 5.0 }, { 6.0 } });
        // torch.cat([a, b], dim=1), written out
        Assert.Equal(new[] { 1.0, 2.0, 5.0, 3.0, 4.0, 6.0 }, Tensor.Cat([a, b], 1).ToDoubleArray());
        Assert.Equal(new[] { 1.0, 2.0, 5.0, 3.0, 4.0, 6.0 }, Expr.Cat([a, b], -1).Eval().ToDoubleArray());
        Assert.Equal(new[] { 1.0, 2.0, 3.0, 4.0, 1.0, 2.0, 3.0, 4.0 }, Tensor.Cat([a, a]).ToDoubleArray());
        // the gradient of a part is its slice of the cotangent: d/da Σ w·cat(a, b) = w's first two columns
        var w = Tensor.FromArray(new[,] { { 0.5, -1.0, 2.0 }, { 3.0, 0.25, -2.0 } });
        var (ga, gb) = Diff.Grad((Expr x, Expr y) => (Expr.Cat([x, y], 1) * w).Sum())(a, b);
        Assert.Equal(new[] { 0.5, -1.0, 3.0, 0.25 }, ga.Eval().ToDoubleArray());
        Assert.Equal(new[] { 2.0, -2.0 }, gb.Eval().ToDoubleArray());
        // errors name Cat and the parameter
        var wrong = Tensor.Ones(3, 3);
        Assert.StartsWith("Cat: ", Assert.ThrowsAny<ArgumentException>(() => Tensor.Cat([a, wrong], 1)).Message);
        Assert.StartsWith("Cat: ", Assert.ThrowsAny<ArgumentException>(() => Expr.Cat([a, wrong], 1)).Message);
        Assert.Equal("tensors", Assert.Throws<ArgumentNullException>(() => Expr.Cat([a, null!])).ParamName);
        Assert.Equal("tensors", Assert.Throws<ArgumentNullException>(() => Tensor.Cat([a, null!])).ParamName);

        // x.to(torch.float32): the value rounded to float32, and the derivative cast back
        var x = Tensor.FromArray(new[] { 0.1, 1.0 / 3 });
        var x32 = x.To(DType.Float32);
        Assert.Equal(DType.Float32, x32.DType);
        Assert.Equal(new[] { (double)0.1f, (double)(1.0f / 3) }, x32.ToDoubleArray());
        var g = Diff.Grad(v => (v.To(DType.Float32).Square()).Sum())(x);
        Assert.Equal(DType.Float64, g.DType);
        Assert.Equal(new[] { 2 * (double)0.1f, 2 * (double)(1.0f / 3) }, g.Eval().ToDoubleArray());
    }

    [Fact]
    public void PercentIsPythonsRemainderAsInTorch()
    {
        // torch's a % b takes the sign of b: ((a fmod b) + b) fmod b, written with C#'s fmod-like %
        double[] a = [5.5, -5.5, 7, -7, 0.25, -3], b = [2, 2, -3, -3, 1, 3];
        var expected = a.Select((v, i) => (v % b[i] + b[i]) % b[i]).ToArray();
        var ta = Tensor.FromArray(a);
        var tb = Tensor.FromArray(b);
        Assert.Equal(expected, (ta % tb).ToDoubleArray());
        Assert.Equal(expected, (((Expr)ta) % tb).Eval().ToDoubleArray());
        Assert.Equal(a.Select(v => (v % 3 + 3) % 3), (ta % 3).ToDoubleArray());
        Assert.Equal(a.Select(v => (v % 3 + 3) % 3), (((Expr)ta) % 3).Eval().ToDoubleArray());
        Assert.Equal(b.Select(v => (7 % v + v) % v), (7 % tb).ToDoubleArray());
        Assert.Equal(DType.Float32, (ta.Cast(DType.Float32) % 3).DType);
        // NT-Xent's positives: example i pairs with i + n, modulo 2n
        const int n = 3;
        Assert.Equal(new double[] { 3, 4, 5, 0, 1, 2 }, ((Tensor.Arange(2 * n) + n) % (2 * n)).ToDoubleArray());
        // d(a % b)/da = 1
        Assert.Equal(Enumerable.Repeat(1.0, 6), Diff.Grad(x => (x % 3).Sum())(ta).Eval().ToDoubleArray());
    }
}
