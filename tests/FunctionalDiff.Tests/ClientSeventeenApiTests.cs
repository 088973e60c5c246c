using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// What the seventeenth porting client added, each against torch's definition written here: <c>Tensor.unfold(dimension,
/// size, step)</c> (<c>Unfold</c> on Expr and Tensor, sliding windows, a ViT's patches), <c>t.lerp(end, weight)</c> on a
/// Tensor (an EMA of weights), <c>torch.full_like</c>, and <c>torch.Generator</c> for the random factories and
/// <c>multinomial</c>.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientSeventeenApiTests
{
    /// <summary>torch's unfold by its definition: out[..., w, ..., j] = x[..., w·step + j, ...], the window axis last.</summary>
    static double[] UnfoldLoop(double[] x, int[] shape, int axis, int size, int step, out int[] outShape)
    {
        int a = axis < 0 ? axis + shape.Length : axis;
        int windows = (shape[a] - size) / step + 1;
        int outer = shape[..a].Aggregate(1, (p, d) => p * d), inner = shape[(a + 1)..].Aggregate(1, (p, d) => p * d);
        outShape = [.. shape[..a], windows, .. shape[(a + 1)..], size];
        var y = new double[outer * windows * inner * size];
        for (int o = 0; o < outer; o++)
            for (int w = 0; w < windows; w++)
                for (int i = 0; i < inner; i++)
                    for (int j = 0; j < size; j++)
                        y[((o * windows + w) * inner + i) * size + j] = x[(o * shape[a] + w * step + j) * inner + i];
        return y;
    }

    [Theory]
    [InlineData(new[] { 6 }, 0, 3, 1)]        // overlapping
    [InlineData(new[] { 7 }, 0, 2, 3)]        // gapped
    [InlineData(new[] { 2, 9 }, -1, 4, 2)]    // a tail no window reaches
    [InlineData(new[] { 2, 4, 3 }, 1, 2, 2)]  // tiling a middle axis
    [InlineData(new[] { 3, 5, 2 }, 1, 5, 1)]  // one window of the whole axis
    [InlineData(new[] { 2, 5, 2 }, 1, 0, 2)]  // empty windows, as torch's size 0
    public void UnfoldIsTorchsSlidingWindowsAndItsGradientsAreDifferences(int[] shape, int axis, int size, int step)
    {
        var x = T(shape);
        var expected = UnfoldLoop(x.ToDoubleArray(), shape, axis, size, step, out var outShape);
        var y = ((Expr)x).Unfold(axis, size, step);
        Assert.Equal(outShape, y.Shape);
        Assert.Equal(expected, y.Eval().ToDoubleArray());
        Assert.Equal(expected, x.Unfold(axis, size, step).ToDoubleArray());
        Assert.Equal(outShape, x.To(DType.Float32).Unfold(axis, size, step).Shape);

        // f(x) = Σ c ⊙ sin(unfold(x)): the gradient and a Hessian-vector product against central differences of f and of
        // the gradient, both written over doubles with the loop above
        var c = Values(expected.Length, 4);
        var u = Values(x.Numel, 5);
        double F(double[] v) => UnfoldLoop(v, shape, axis, size, step, out _).Select((e, k) => c[k] * Math.Sin(e)).Sum();
        double[] G(double[] v) => Gradient(F, v, 1e-5);
        Expr C = Tensor.FromArray(c, outShape);
        Expr Loss(Expr v) => (v.Unfold(axis, size, step).Sin() * C).Sum();
        Close(Gradient(F, x.ToDoubleArray()), Diff.Grad(Loss)(x).Eval().ToDoubleArray(), 1e-8, "gradient");
        var hvp = Diff.Hvp(Loss, x, Tensor.FromArray(u, shape)).Eval().ToDoubleArray();
        var byDifferences = Directional(G, x.ToDoubleArray(), 1e-4);   // row i: ∂g/∂x_i, and H is symmetric
        Close(Enumerable.Range(0, u.Length).Select(i => Enumerable.Range(0, u.Length).Sum(k => byDifferences[k][i] * u[k])).ToArray(), hvp, 1e-5, "hvp");
    }

    [Fact]
    public void UnfoldTwiceGivesAVitsPatchesAsTheReshapeAndTheIm2colDo()
    {
        // [B, C, H, W] = [2, 3, 4, 6], 2×2 patches: x.unfold(2, 2, 2).unfold(3, 2, 2) is [B, C, H/2, W/2, 2, 2]
        var x = T([2, 3, 4, 6]);
        var v = x.ToDoubleArray();
        var patches = ((Expr)x).Unfold(2, 2, 2).Unfold(3, 2, 2);
        Assert.Equal(new[] { 2, 3, 2, 3, 2, 2 }, patches.Shape);
        var got = patches.Eval().ToDoubleArray();
        for (int b = 0; b < 2; b++)
            for (int ch = 0; ch < 3; ch++)
                for (int ph = 0; ph < 2; ph++)
                    for (int pw = 0; pw < 3; pw++)
                        for (int i = 0; i < 2; i++)
                            for (int j = 0; j < 2; j++)
                                Assert.Equal(v[((b * 3 + ch) * 4 + ph * 2 + i) * 6 + pw * 2 + j],
                                    got[((((b * 3 + ch) * 2 + ph) * 3 + pw) * 2 + i) * 2 + j]);
        // flattened channel-major per patch, they are F.unfold's columns transposed and the reshape-permute spelling
        var flat = patches.Permute(0, 2, 3, 1, 4, 5).Reshape(2, 6, 12).Eval().ToDoubleArray();
        Assert.Equal(Nn.Unfold(x, 2, stride: 2).Transpose(1, 2).Eval().ToDoubleArray(), flat);
        Assert.Equal(((Expr)x).Reshape(2, 3, 2, 2, 3, 2).Permute(0, 2, 4, 1, 3, 5).Reshape(2, 6, 12).Eval().ToDoubleArray(), flat);
    }

    [Fact]
    public void UnfoldRefusesWhatTorchRefusesNamingItself()
    {
        var x = T([2, 6]);
        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Unfold(1, 7, 1));
        Assert.StartsWith("Unfold: size 7", e.Message);
        Assert.Contains("[2,6]", e.Message);
        Assert.StartsWith("Unfold: step 0 must be positive", Assert.ThrowsAny<ArgumentException>(() => x.Unfold(1, 2, 0)).Message);
        Assert.StartsWith("Unfold", Assert.ThrowsAny<ArgumentException>(() => x.Unfold(2, 1, 1)).Message);
    }

    [Fact]
    public void TensorLerpIsTorchsAndAnEmaOfParameters()
    {
        var a = T([2, 3], 1);
        var b = T([2, 3], 2);
        var av = a.ToDoubleArray();
        var bv = b.ToDoubleArray();
        foreach (var w in new[] { 0.0, 0.1, 0.5, 0.9, 1.0 })
        {
            // torch's lerp: start + w·(end − start) below 0.5, end − (end − start)·(1 − w) from 0.5
            var expected = av.Select((s, k) => w < 0.5 ? s + w * (bv[k] - s) : bv[k] - (bv[k] - s) * (1 - w)).ToArray();
            Assert.Equal(expected, a.Lerp(b, w).ToDoubleArray());
            Assert.Equal(expected, ((Expr)a).Lerp(b, w).Eval().ToDoubleArray());
        }
        var weight = T([3], 3).Abs() / 2;
        var wv = weight.ToDoubleArray();
        Close(av.Select((s, k) => s + wv[k % 3] * (bv[k] - s)).ToArray(), a.Lerp(b, weight).ToDoubleArray(), 1e-15, "tensor weight");
        Assert.Equal(DType.Float32, a.To(DType.Float32).Lerp(b.To(DType.Float32), 0.1).DType);

        // torch's EMA update, ema.lerp_(p, 1 - decay), over named parameters
        var model = Parameters.Of(("w", a), ("b", T([3], 4)));
        var ema = Parameters.Of(("w", b), ("b", T([3], 5)));
        var next = ema.Map((name, e) => e.Lerp(model[name], 1 - 0.99));
        foreach (var name in model.Names)
            Close(ema[name].ToDoubleArray().Select((e, k) => 0.99 * e + 0.01 * model[name].ToDoubleArray()[k]).ToArray(),
                next[name].ToDoubleArray(), 1e-15, name);
    }

    [Fact]
    public void FullLikeIsTorchs()
    {
        var x = T([2, 3]).To(DType.Float32);
        var t = Tensor.FullLike(x, double.NegativeInfinity);
        Assert.Equal(new[] { 2, 3 }, t.Shape);
        Assert.Equal(DType.Float32, t.DType);
        Assert.All(t.ToDoubleArray(), v => Assert.Equal(double.NegativeInfinity, v));
        var e = Expr.FullLike(x, 2.5);
        Assert.Equal(DType.Float32, e.DType);
        Assert.Equal(Enumerable.Repeat(2.5, 6).ToArray(), e.Eval().ToDoubleArray());
        // a constant: nothing differentiates through it
        Assert.Equal(new double[6], Diff.Grad(v => (Expr.FullLike(v, 3.0) * v.Sin()).Sum() - (3.0 * v.Sin()).Sum())(T([2, 3])).Eval().ToDoubleArray());
        Assert.Equal("like", Assert.Throws<ArgumentNullException>(() => Tensor.FullLike(null!, 1.0)).ParamName);
    }

    [Fact]
    public void AGeneratorHasItsOwnSequenceAsTorchsDoes()
    {
        var weights = Tensor.FromArray([0.1, 0.2, 0.3, 0.4]);
        // a generator seeded with s draws what the process-wide sequence draws after ManualSeed(s)
        Tensor.ManualSeed(11);
        var global = new[] { Tensor.Randn([3], DType.Float64), Tensor.Rand([3], DType.Float64), Tensor.Randint(0, 9, [3]), weights.Multinomial(5, true) };
        var g = new Generator().ManualSeed(11);
        Assert.Equal(11, g.InitialSeed);
        var own = new[] { Tensor.Randn([3], g), Tensor.Rand([3], g), Tensor.Randint(0, 9, [3], g), weights.Multinomial(5, true, generator: g) };
        for (int i = 0; i < own.Length; i++) Assert.Equal(global[i].ToDoubleArray(), own[i].ToDoubleArray());

        // draws from the process-wide sequence between them do not move the generator's
        var first = new Generator(3);
        var second = new Generator(3);
        var a = weights.Multinomial(4, true, generator: first);
        _ = Tensor.Randn(5);
        _ = weights.Multinomial(4, true);
        Assert.Equal(a.ToDoubleArray(), weights.Multinomial(4, true, generator: second).ToDoubleArray());
        // ManualSeed restarts it, and returns it
        Assert.Same(first, first.ManualSeed(3));
        Assert.Equal(a.ToDoubleArray(), weights.Multinomial(4, true, generator: first).ToDoubleArray());
        Assert.Equal(DType.Float32, Tensor.Rand([2], new Generator(1), DType.Float32).DType);
        Assert.Equal("generator", Assert.Throws<ArgumentNullException>(() => Tensor.Randn([2], (Generator)null!)).ParamName);
    }

    [Fact]
    public void MultinomialWithAGeneratorFollowsTheWeights()
    {
        // 20,000 draws with replacement: each category's frequency within 4.5 standard deviations of its probability,
        // and a zero weight never drawn
        var weights = Tensor.FromArray([1.0, 0.0, 3.0, 6.0]);
        var draws = weights.Multinomial(20000, replacement: true, generator: new Generator(7)).ToDoubleArray();
        double[] p = [0.1, 0.0, 0.3, 0.6];
        for (int k = 0; k < 4; k++)
        {
            double frequency = draws.Count(d => d == k) / 20000.0;
            Assert.True(Math.Abs(frequency - p[k]) <= 4.5 * Math.Sqrt(p[k] * (1 - p[k]) / 20000), $"category {k}: {frequency} against {p[k]}");
        }
    }

    [Fact]
    public void NormTakesTheAxisByNameAsTorchsDimAndANumberStaysTheOrder()
    {
        // torch's d.norm(dim=-1, keepdim=True): the 2-norm of each row; x.norm(1) the 1-norm of every element
        var d = T([3, 4], 6);
        var v = d.ToDoubleArray();
        var rows = Enumerable.Range(0, 3).Select(r => Math.Sqrt(Enumerable.Range(0, 4).Sum(c => v[r * 4 + c] * v[r * 4 + c]))).ToArray();
        var byName = ((Expr)d).Norm(axis: -1, keepDims: true);
        Assert.Equal(new[] { 3, 1 }, byName.Shape);
        Close(rows, byName.Eval().ToDoubleArray(), 1e-15, "Expr rows");
        Close(rows, d.Norm(axis: 1).ToDoubleArray(), 1e-15, "Tensor rows");
        Close(Enumerable.Range(0, 4).Select(c => Enumerable.Range(0, 3).Sum(r => Math.Abs(v[r * 4 + c]))).ToArray(),
            d.Norm(axis: 0, p: 1).ToDoubleArray(), 1e-15, "1-norm of columns");
        Close(v.Sum(Math.Abs), ((Expr)d).Norm(1).Eval().Item(), 1e-15, "x.Norm(1) is the 1-norm of every element");
        Close(v.Sum(Math.Abs), d.Norm(1).Item(), 1e-15, "t.Norm(1) too");
        Assert.StartsWith("Norm", Assert.ThrowsAny<ArgumentException>(() => ((Expr)d).Norm(axis: 2)).Message);
    }

    [Fact]
    public void SearchsortedIsTorchsInsertionPositions()
    {
        // torch.searchsorted: the first position whose entry is ≥ v (left) or > v (right), by a linear scan here
        static int Position(double[] row, double v, bool right) => row.TakeWhile(e => right ? e <= v : e < v).Count();
        double[] sequence = [0.0, 0.5, 0.5, 1.0, 2.0];
        double[] values = [-1.0, 0.0, 0.5, 0.7, 2.0, 3.0];
        foreach (var right in new[] { false, true })
        {
            var expected = values.Select(v => (double)Position(sequence, v, right)).ToArray();
            // a vector sequence serves values of any shape
            var got = Tensor.Searchsorted(Tensor.FromArray(sequence), Tensor.FromArray(values, 2, 3), right);
            Assert.Equal(new[] { 2, 3 }, got.Shape);
            Assert.Equal(expected, got.ToDoubleArray());
            Assert.Equal(expected, Expr.Searchsorted(Tensor.FromArray(sequence), Tensor.FromArray(values), right).Eval().ToDoubleArray());
            // rows [R, M] against values [R, K], row by row
            double[][] rows = [[0.0, 1.0, 2.0, 3.0], [-2.0, -1.0, 1.0, 1.0]];
            double[][] queries = [[0.5, 3.0, -1.0], [1.0, 0.0, 5.0]];
            var byRow = Tensor.Searchsorted(Tensor.FromArray(rows.SelectMany(r => r).ToArray(), 2, 4),
                Tensor.FromArray(queries.SelectMany(q => q).ToArray(), 2, 3), right);
            Assert.Equal(Enumerable.Range(0, 2).SelectMany(r => queries[r].Select(v => (double)Position(rows[r], v, right))).ToArray(), byRow.ToDoubleArray());
        }
        Assert.Equal(DType.Float32, Tensor.Searchsorted(Tensor.FromArray(sequence).To(DType.Float32), Tensor.FromArray(values).To(DType.Float32)).DType);
        // the positions pass no derivative
        Assert.Equal(new double[6], Diff.Grad(v => (Expr.Searchsorted(Tensor.FromArray(sequence), v) * v).Sum()
            - (Expr.Searchsorted(Tensor.FromArray(sequence), Tensor.FromArray(values)) * v).Sum())(Tensor.FromArray(values)).Eval().ToDoubleArray());
        var e = Assert.ThrowsAny<ArgumentException>(() => Tensor.Searchsorted(Tensor.Zeros(2, 4), Tensor.Zeros(3, 2)));
        Assert.StartsWith("Searchsorted: the leading axes", e.Message);
        Assert.Contains("[2,4]", e.Message);
        Assert.Contains("[3,2]", e.Message);
    }
}
