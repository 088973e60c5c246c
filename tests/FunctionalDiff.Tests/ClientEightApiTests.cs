using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The torch spellings this round's ports reached for: F.kl_div(reduction='batchmean'), torch.pow(x, 2), index_add and
/// torch.distributions' log_prob and entropy. Each is checked against its formula written as a loop in this file, and
/// each gradient against central differences or its closed form.
/// </summary>
public class ClientEightApiTests
{
    // ---- F.kl_div(input, target, reduction='batchmean', log_target=...) ----

    static double KlTerm(double logq, double target, bool logTarget) =>
        logTarget ? Math.Exp(target) * (target - logq) : (target == 0 ? 0 : target * (Math.Log(target) - logq));

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void KlDivBatchMeanIsTheSumOverTheBatchSizeWithItsGradient(bool logTarget)
    {
        int[] shape = [4, 3, 2];
        var logq = ((Expr)T(shape, 1)).LogSoftmax(1).Eval();
        var p = ((Expr)T(shape, 2)).Softmax(1).Eval();
        if (!logTarget) p = Expr.Where(Tensor.Arange(24).Reshape(shape).Eq(5.0), 0.0, p).Eval();   // one p = 0 term
        var target = logTarget ? ((Expr)p).Log().Eval() : p;

        double Reference(double[] input) => input.Select((v, i) => KlTerm(v, target.ToDoubleArray()[i], logTarget)).Sum() / shape[0];

        var got = Loss.KlDiv(logq, target, Reduction.BatchMean, logTarget).Eval().ToScalar();
        Close(Reference(logq.ToDoubleArray()), got, 1e-14, "batchmean");
        // 'mean' divides by the element count instead, as torch's
        Close(Reference(logq.ToDoubleArray()) * shape[0] / 24, Loss.KlDiv(logq, target, Reduction.Mean, logTarget).Eval().ToScalar(), 1e-14, "mean");

        var gradient = Diff.Grad(x => Loss.KlDiv(x, target, Reduction.BatchMean, logTarget))(logq).Eval().ToDoubleArray();
        Close(Gradient(Reference, logq.ToDoubleArray()), gradient, 1e-8, "d/dinput");
        // the target's gradient too (torch differentiates it)
        var targetGradient = Diff.Grad(t => Loss.KlDiv(logq, t, Reduction.BatchMean, logTarget))(target).Eval().ToDoubleArray();
        var expected = target.ToDoubleArray().Select((t, i) => logTarget
            ? Math.Exp(t) * (t - logq.ToDoubleArray()[i] + 1) / shape[0]
            : (t == 0 ? double.NaN : (Math.Log(t) + 1 - logq.ToDoubleArray()[i]) / shape[0])).ToArray();
        for (int i = 0; i < expected.Length; i++)
            if (!double.IsNaN(expected[i])) Close(expected[i], targetGradient[i], 1e-13, $"d/dtarget[{i}]");
    }

    [Fact]
    public void KlDivBatchMeanOfARank0InputIsItsTermAndOtherLossesRefuseBatchMeanByName()
    {
        var one = Loss.KlDiv(Tensor.Scalar(Math.Log(0.25)), Tensor.Scalar(0.5), Reduction.BatchMean).Eval().ToScalar();
        Close(0.5 * (Math.Log(0.5) - Math.Log(0.25)), one, 1e-15);

        var x = Tensor.Ones(3, 2);
        var mse = Assert.Throws<ArgumentException>(() => Loss.Mse(x, x, Reduction.BatchMean));
        Assert.Equal("reduction", mse.ParamName);
        Assert.StartsWith("Mse:", mse.Message);
        var ce = Assert.Throws<ArgumentException>(() => Loss.CrossEntropy(x, [0, 1, 1], Reduction.BatchMean));
        Assert.StartsWith("CrossEntropy:", ce.Message);
        var ignoring = Assert.Throws<ArgumentException>(() => Loss.NllLoss(x, [0, 1, 1], Reduction.BatchMean, ignoreIndex: 1));
        Assert.StartsWith("NllLoss:", ignoring.Message);
    }

    // ---- torch.pow(x, y) ----

    [Fact]
    public void StaticPowTakesAnExprOrANumberOnEitherSideWithTheClosedFormDerivatives()
    {
        var x = Tensor.FromArray([0.5, 1.5, 2.0, 3.0]);
        var y = Tensor.FromArray([2.0, -0.5, 1.5, 0.25]);
        var xv = x.ToDoubleArray();
        var yv = y.ToDoubleArray();

        Close(xv.Select(v => v * v).ToArray(), Expr.Pow(x, 2).Eval().ToDoubleArray(), 1e-15, "x^2");
        Close(xv.Select(v => Math.Pow(2, v)).ToArray(), Expr.Pow(2, x).Eval().ToDoubleArray(), 1e-15, "2^x");
        Close(xv.Select((v, i) => Math.Pow(v, yv[i])).ToArray(), Expr.Pow(x, y).Eval().ToDoubleArray(), 1e-15, "x^y");

        var (dx, dy) = Diff.Grad((Expr a, Expr b) => Expr.Pow(a, b).Sum())(x, y);
        Close(xv.Select((v, i) => yv[i] * Math.Pow(v, yv[i] - 1)).ToArray(), dx.Eval().ToDoubleArray(), 1e-14, "d/dx");
        Close(xv.Select((v, i) => Math.Pow(v, yv[i]) * Math.Log(v)).ToArray(), dy.Eval().ToDoubleArray(), 1e-14, "d/dy");
        Close(xv.Select(v => Math.Pow(2, v) * Math.Log(2)).ToArray(), Diff.Grad(a => Expr.Pow(2, a).Sum())(x).Eval().ToDoubleArray(), 1e-14, "d 2^x");

        // a number takes the tensor's dtype, as in the instance form
        Assert.Equal(DType.Float32, Expr.Pow(x.Cast(DType.Float32), 2).DType);
        Assert.Equal(DType.Float32, Expr.Pow(3, x.Cast(DType.Float32)).DType);
        Assert.Equal("input", Assert.Throws<ArgumentNullException>(() => Expr.Pow(null!, x)).ParamName);
        Assert.Equal("exponent", Assert.Throws<ArgumentNullException>(() => Expr.Pow(x, null!)).ParamName);
    }

    // ---- index_add ----

    static double[] IndexAddLoop(double[] x, int[] shape, int axis, int[] index, double[] source)
    {
        // out = x.clone(); out.index_add_(axis, index, source), for rank 2
        var result = (double[])x.Clone();
        int rows = shape[0], columns = shape[1];
        int sourceColumns = axis == 1 ? index.Length : columns;
        for (int r = 0; r < (axis == 0 ? index.Length : rows); r++)
            for (int c = 0; c < sourceColumns; c++)
            {
                int tr = axis == 0 ? index[r] : r, tc = axis == 1 ? index[c] : c;
                result[tr * columns + tc] += source[r * sourceColumns + c];
            }
        return result;
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(-1)]
    public void IndexAddAccumulatesRepeatedPositionsAndItsGradientsAreTheLoopsCentralDifferences(int axis)
    {
        int[] shape = [4, 3];
        int[] index = axis == 0 ? [2, 0, 2, 3, 2] : [1, 1, 0, 2, 1];
        int a = axis < 0 ? axis + 2 : axis;
        int[] sourceShape = a == 0 ? [5, 3] : [4, 5];
        var x = T(shape, 3);
        var source = T(sourceShape, 4);
        var idx = Tensor.FromArray(index);

        var value = ((Expr)x).IndexAdd(axis, idx, source).Eval();
        Assert.Equal(shape, value.Shape);
        Close(IndexAddLoop(x.ToDoubleArray(), shape, a, index, source.ToDoubleArray()), value.ToDoubleArray(), 1e-15, "value");

        // a weighted sum makes each entry's gradient distinct
        var weights = T(shape, 5);
        double Reference(double[] xs, double[] ss) =>
            IndexAddLoop(xs, shape, a, index, ss).Select((v, i) => Math.Sin(v) * weights.ToDoubleArray()[i]).Sum();
        var (dx, ds) = Diff.Grad((Expr u, Expr s) => (u.IndexAdd(axis, idx, s).Sin() * weights).Sum())(x, source);
        Close(Gradient(v => Reference(v, source.ToDoubleArray()), x.ToDoubleArray()), dx.Eval().ToDoubleArray(), 1e-8, "d/dx");
        Close(Gradient(v => Reference(x.ToDoubleArray(), v), source.ToDoubleArray()), ds.Eval().ToDoubleArray(), 1e-8, "d/dsource");
    }

    [Fact]
    public void IndexAddIsScatterAddIntoZerosVmapsAndKeepsFloat32()
    {
        // a segment sum: zeros(3, 2).index_add(0, seg, src) is scatter_add with the index expanded along the features
        var src = T([5, 2], 6);
        var seg = Tensor.FromArray([0, 2, 2, 1, 0]);
        var viaIndexAdd = Expr.ZerosLike(Tensor.Zeros(3, 2)).IndexAdd(0, seg, src).Eval();
        var viaScatter = Expr.ScatterAdd(0, ((Expr)seg).Unsqueeze(-1).Expand(-1, 2), src, [3, 2]).Eval();
        var sums = new double[6];
        for (int e = 0; e < 5; e++)
            for (int f = 0; f < 2; f++) sums[(int)seg.ToDoubleArray()[e] * 2 + f] += src.ToDoubleArray()[e * 2 + f];
        Close(sums, viaIndexAdd.ToDoubleArray(), 1e-15, "index_add");
        Close(sums, viaScatter.ToDoubleArray(), 1e-15, "scatter_add");

        // vmap over a batch of sources: each slice is its own index_add
        var batch = T([3, 5, 2], 7);
        var batched = Diff.Vmap(s => Expr.Zeros(3, 2).IndexAdd(0, seg, s))(batch).Eval();
        for (int b = 0; b < 3; b++)
        {
            var one = Expr.Zeros(3, 2).IndexAdd(0, seg, batch.Row(b)).Eval();
            Close(one.ToDoubleArray(), batched.Row(b).ToDoubleArray(), 1e-15, $"vmap row {b}");
        }

        var f32 = ((Expr)Tensor.Zeros([3, 2], DType.Float32)).IndexAdd(0, seg, src.Cast(DType.Float32)).Eval();
        Assert.Equal(DType.Float32, f32.DType);
        Close(sums, f32.ToDoubleArray(), 1e-6, "float32");
    }

    [Fact]
    public void IndexAddErrorsNameIndexAddAndTheShapes()
    {
        Expr x = Tensor.Zeros(3, 2);
        var wrongSource = Assert.ThrowsAny<ArgumentException>(() => x.IndexAdd(0, Tensor.FromArray([0, 1]), Tensor.Zeros(3, 2)));
        Assert.Contains("IndexAdd", wrongSource.Message);
        Assert.Contains("[3,2]", wrongSource.Message);
        var outside = Assert.ThrowsAny<ArgumentException>(() => x.IndexAdd(0, Tensor.FromArray([0, 3]), Tensor.Zeros(2, 2)));
        Assert.Contains("IndexAdd", outside.Message);
        Assert.Contains("index 3", outside.Message);
        Assert.Equal("index", Assert.Throws<ArgumentNullException>(() => x.IndexAdd(0, null!, Tensor.Zeros(2, 2))).ParamName);
        Assert.Equal("source", Assert.Throws<ArgumentNullException>(() => x.IndexAdd(0, Tensor.FromArray([0, 1]), null!)).ParamName);
    }

    // ---- torch.distributions ----

    [Fact]
    public void CategoricalLogProbAndEntropyAreTheLogSoftmaxFormulasWithTheirGradients()
    {
        var logits = T([4, 3], 8);
        int[] actions = [2, 0, 1, 2];
        var lv = logits.ToDoubleArray();

        double[] LogProbs(double[] l) => Enumerable.Range(0, 4).Select(r =>
        {
            var row = l.Skip(3 * r).Take(3).ToArray();
            return row[actions[r]] - Math.Log(row.Sum(Math.Exp));
        }).ToArray();
        double[] Entropies(double[] l) => Enumerable.Range(0, 4).Select(r =>
        {
            var row = l.Skip(3 * r).Take(3).ToArray();
            double z = row.Sum(Math.Exp);
            return -row.Sum(v => Math.Exp(v) / z * (v - Math.Log(z)));
        }).ToArray();

        var a = Tensor.FromArray(actions);
        Close(LogProbs(lv), Distributions.CategoricalLogProb(logits, a).Eval().ToDoubleArray(), 1e-14, "log_prob");
        Close(Entropies(lv), Distributions.CategoricalEntropy(logits).Eval().ToDoubleArray(), 1e-14, "entropy");

        var weights = Tensor.FromArray([0.5, -1.0, 2.0, 0.3]);
        double Objective(double[] l) => LogProbs(l).Select((v, i) => v * weights.ToDoubleArray()[i]).Sum() + 0.1 * Entropies(l).Sum();
        var gradient = Diff.Grad(l => (Distributions.CategoricalLogProb(l, a) * weights).Sum() + 0.1 * Distributions.CategoricalEntropy(l).Sum())(logits);
        Close(Gradient(Objective, lv), gradient.Eval().ToDoubleArray(), 1e-8, "gradient");

        // unbatched logits [K] take a rank-0 action, as torch
        Close(LogProbs(lv)[0], Distributions.CategoricalLogProb(logits.Row(0), Tensor.Scalar(2)).Eval().ToScalar(), 1e-14, "unbatched");
        var wrong = Assert.ThrowsAny<ArgumentException>(() => Distributions.CategoricalLogProb(logits, Tensor.FromArray([0, 1])));
        Assert.Contains("CategoricalLogProb", wrong.Message);
    }

    [Fact]
    public void CategoricalEntropyOfAMaskedActionIsFiniteWithAFiniteGradientAsTorchs()
    {
        // an action masked with a logit of −∞: its probability is 0 and adds 0 to the entropy (torch clamps log p)
        var logits = Tensor.FromArray([0.3, double.NegativeInfinity, -0.2]);
        double p0 = Math.Exp(0.3) / (Math.Exp(0.3) + Math.Exp(-0.2)), p2 = 1 - p0;
        double entropy = -(p0 * Math.Log(p0) + p2 * Math.Log(p2));
        Close(entropy, Distributions.CategoricalEntropy(logits).Eval().ToScalar(), 1e-15, "entropy");
        var g = Diff.Grad(l => Distributions.CategoricalEntropy(l))(logits).Eval().ToDoubleArray();
        // dH/dl_i = −p_i (log p_i + H) for the live actions, 0 for the masked one
        Close(-p0 * (Math.Log(p0) + entropy), g[0], 1e-14, "d/dl0");
        Assert.Equal(0.0, g[1]);
        Close(-p2 * (Math.Log(p2) + entropy), g[2], 1e-14, "d/dl2");
        Assert.Equal(0.0, Math.Exp(Distributions.CategoricalLogProb(logits, Tensor.Scalar(1)).Eval().ToScalar()));
    }

    [Fact]
    public void NormalLogProbAndEntropyAreTheClosedFormsWithTheirDerivatives()
    {
        var mu = Tensor.FromArray([0.0, 1.5, -2.0]);
        var sigma = Tensor.FromArray([1.0, 0.5, 3.0]);
        var x = Tensor.FromArray([0.3, 1.0, 4.0]);
        double[] m = mu.ToDoubleArray(), s = sigma.ToDoubleArray(), v = x.ToDoubleArray();
        double Density(int i) => Math.Exp(-(v[i] - m[i]) * (v[i] - m[i]) / (2 * s[i] * s[i])) / (s[i] * Math.Sqrt(2 * Math.PI));

        var logProb = Distributions.NormalLogProb(mu, sigma, x).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++) Close(Math.Log(Density(i)), logProb[i], 1e-15, $"log_prob {i}");
        // Normal(0, 1).log_prob(z) with numbers for the parameters
        Close(-0.5 * 0.09 - 0.5 * Math.Log(2 * Math.PI), Distributions.NormalLogProb(0, 1, Tensor.Scalar(0.3)).Eval().ToScalar(), 1e-15, "standard");
        var entropy = Distributions.NormalEntropy(sigma).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++) Close(0.5 * Math.Log(2 * Math.PI * Math.E * s[i] * s[i]), entropy[i], 1e-15, $"entropy {i}");

        var g = Diff.Grad((Expr[] p) => Distributions.NormalLogProb(p[0], p[1], p[2]).Sum())([mu, sigma, x]).Select(e => e.Eval().ToDoubleArray()).ToArray();
        for (int i = 0; i < 3; i++)
        {
            double d = v[i] - m[i];
            Close(d / (s[i] * s[i]), g[0][i], 1e-14, $"d/dloc {i}");
            Close(-1 / s[i] + d * d / (s[i] * s[i] * s[i]), g[1][i], 1e-14, $"d/dscale {i}");
            Close(-d / (s[i] * s[i]), g[2][i], 1e-14, $"d/dvalue {i}");
        }
        // broadcasting: one scale for every point, float32 kept
        var f32 = Distributions.NormalLogProb(mu.Cast(DType.Float32), 2.0, x.Cast(DType.Float32)).Eval();
        Assert.Equal(DType.Float32, f32.DType);
        for (int i = 0; i < 3; i++)
            Close(-(v[i] - m[i]) * (v[i] - m[i]) / 8 - Math.Log(2) - 0.5 * Math.Log(2 * Math.PI), f32.ToDoubleArray()[i], 1e-6, $"float32 {i}");
    }
    // ---- optim.AdamW(params, lr, betas=(b1, b2), weight_decay) ----

    [Fact]
    public void AdamWTakesTorchsBetasTupleAndStepsAsTorchsAlgorithmWrittenOut()
    {
        // f(w) = Σ (w − c)², gradient 2(w − c); torch's AdamW: w ← w·(1 − lr·λ), then the Adam step
        double[] c = [0.5, -1.0, 2.0];
        double lr = 0.05, b1 = 0.8, b2 = 0.95, eps = 1e-8, decay = 0.1;
        var w = new[] { 1.0, 0.0, -1.0 };
        var m = new double[3];
        var v = new double[3];
        var adamW = new AdamW(Parameters.Of(("w", Tensor.FromArray(w))), lr: lr, betas: (b1, b2), weightDecay: decay);
        for (int t = 1; t <= 5; t++)
        {
            var g = adamW.Parameters["w"].ToDoubleArray().Select((x, i) => 2 * (x - c[i])).ToArray();
            adamW.Step(Parameters.Of(("w", Tensor.FromArray(g))));
            for (int i = 0; i < 3; i++)
            {
                w[i] *= 1 - lr * decay;
                m[i] = b1 * m[i] + (1 - b1) * g[i];
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                w[i] -= lr / (1 - Math.Pow(b1, t)) * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(1 - Math.Pow(b2, t)) + eps);
            }
            Close(w, adamW.Parameters["w"].ToDoubleArray(), 1e-14, $"step {t}");
        }
    }
    [Fact]
    public void VmapOverABatchOfGraphsBatchesTheIndexOfIndexAddToo()
    {
        // three graphs of 4 edges into 3 nodes, each with its own destinations: vmap over index and messages together
        var destinations = Tensor.FromArray([0, 2, 2, 1, 1, 1, 0, 2, 2, 0, 0, 0], 3, 4);
        var messages = T([3, 4, 2], 9);
        var batched = Diff.Vmap((Expr[] a) => Expr.Zeros(3, 2).IndexAdd(0, a[0], a[1]))([destinations, messages]).Eval().ToDoubleArray();
        var d = destinations.ToDoubleArray();
        var m = messages.ToDoubleArray();
        var expected = new double[18];
        for (int g = 0; g < 3; g++)
            for (int e = 0; e < 4; e++)
                for (int f = 0; f < 2; f++) expected[g * 6 + (int)d[g * 4 + e] * 2 + f] += m[(g * 4 + e) * 2 + f];
        Close(expected, batched, 1e-15, "vmap");
    }

    [Fact]
    public void CategoricalEntropyOfAMaskedActionIsFiniteInFloat32Too()
    {
        var logits = Tensor.FromArray([0.3, double.NegativeInfinity, -0.2]).Cast(DType.Float32);
        double p0 = Math.Exp(0.3) / (Math.Exp(0.3) + Math.Exp(-0.2)), p2 = 1 - p0;
        double entropy = -(p0 * Math.Log(p0) + p2 * Math.Log(p2));
        var h = Distributions.CategoricalEntropy(logits).Eval();
        Assert.Equal(DType.Float32, h.DType);
        Close(entropy, h.ToScalar(), 1e-6, "entropy");
        var g = Diff.Grad(l => Distributions.CategoricalEntropy(l))(logits).Eval().ToDoubleArray();
        Assert.All(g, v => Assert.True(double.IsFinite(v), string.Join(", ", g)));
        Assert.Equal(0.0, g[1]);
    }
}


