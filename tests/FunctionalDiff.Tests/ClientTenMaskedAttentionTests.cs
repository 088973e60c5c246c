using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Attention with a key padding mask, ported from PyTorch as a user writes it first:
/// <c>scores.masked_fill(pad[:, None, :], float('-inf')).softmax(-1)</c>, with one sequence whose keys are all padding
/// (torch's softmax gives NaN there, and so does ours), <c>torch.nan_to_num</c> to zero that row, a pooled output
/// trained with <c>F.binary_cross_entropy_with_logits(..., pos_weight=pw)</c> and <c>F.poisson_nll_loss</c>
/// (log_input true and false, full true and false). Values are compared with loops over doubles, gradients with
/// their central differences, and the nan_to_num form with <c>F.scaled_dot_product_attention</c>'s zeros.
/// </summary>
public class ClientTenMaskedAttentionTests
{
    const int B = 3, Lq = 3, Lk = 4, D = 2, C = 2;
    // batch 0 pads its last key, batch 1 none, batch 2 all of them
    static readonly bool[,] Padding = { { false, false, false, true }, { false, false, false, false }, { true, true, true, true } };

    static Tensor PaddingMask => Tensor.FromArray(Padding);   // torch.tensor([[False, ...], ...])

    static readonly Tensor Q = Tensor.RandomNormal([B, Lq, D], seed: 91);
    static readonly Tensor K = Tensor.RandomNormal([B, Lk, D], seed: 92);
    static readonly Tensor V = Tensor.RandomNormal([B, Lk, D], seed: 93);
    static readonly Tensor W = Tensor.RandomNormal([D, C], seed: 94);
    static readonly Tensor Labels = Tensor.FromArray(new double[,] { { 1, 0 }, { 0, 1 }, { 1, 1 } });
    static readonly Tensor Counts = Tensor.FromArray(new double[,] { { 0, 3 }, { 1, 2 }, { 5, 0 } });
    static readonly Tensor PosWeight = Tensor.FromArray([3.0, 0.5]);

    // ---- what a torch user writes ----

    static Expr Weights(Expr q, Expr k, Expr padding) =>
        (q.MatMul(k.Transpose(-2, -1)) / Math.Sqrt(D))
            .MaskedFill(padding.Unsqueeze(1), double.NegativeInfinity)   // scores.masked_fill(pad[:, None, :], -inf)
            .Softmax(-1);

    static Expr Pooled(Expr q, Expr k, Expr v, Expr padding) =>
        Weights(q, k, padding).NanToNum(0.0).MatMul(v).Mean(1);        // torch.nan_to_num(attn, 0.0) @ v, mean over queries

    static Expr Objective(Expr[] a, Expr padding, bool logInput, bool full)
    {
        var logits = Pooled(a[0], a[1], a[2], padding).MatMul(a[3]);    // [B, C]
        var bce = Loss.BinaryCrossEntropyWithLogits(logits, Labels, posWeight: PosWeight);
        var rate = logInput ? logits : logits.Exp();                    // a positive rate when log_input=False
        return bce + Loss.PoissonNllLoss(rate, Counts, logInput: logInput, full: full);
    }

    // ---- the same over doubles ----

    static double[] WeightsRef(double[] q, double[] k)
    {
        var w = new double[B * Lq * Lk];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Lq; i++)
            {
                var s = new double[Lk];
                for (int j = 0; j < Lk; j++)
                {
                    for (int e = 0; e < D; e++) s[j] += q[(b * Lq + i) * D + e] * k[(b * Lk + j) * D + e];
                    s[j] /= Math.Sqrt(D);
                }
                var kept = Enumerable.Range(0, Lk).Where(j => !Padding[b, j]).ToArray();
                if (kept.Length == 0)
                {
                    for (int j = 0; j < Lk; j++) w[(b * Lq + i) * Lk + j] = double.NaN;   // softmax of a row of −∞
                    continue;
                }
                double max = kept.Max(j => s[j]);
                double total = kept.Sum(j => Math.Exp(s[j] - max));
                foreach (int j in kept) w[(b * Lq + i) * Lk + j] = Math.Exp(s[j] - max) / total;
            }
        return w;
    }

    static double[] PooledRef(double[] q, double[] k, double[] v)
    {
        var w = WeightsRef(q, k).Select(a => double.IsNaN(a) ? 0 : a).ToArray();
        var pooled = new double[B * D];
        for (int b = 0; b < B; b++)
            for (int i = 0; i < Lq; i++)
                for (int j = 0; j < Lk; j++)
                    for (int e = 0; e < D; e++) pooled[b * D + e] += w[(b * Lq + i) * Lk + j] * v[(b * Lk + j) * D + e] / Lq;
        return pooled;
    }

    static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));

    static double ObjectiveRef(double[] flat, bool logInput, bool full)
    {
        int nq = B * Lq * D, nk = B * Lk * D;
        var pooled = PooledRef(flat[..nq], flat[nq..(nq + nk)], flat[(nq + nk)..(nq + 2 * nk)]);
        var w = flat[(nq + 2 * nk)..];
        var y = Labels.ToDoubleArray();
        var n = Counts.ToDoubleArray();
        var pw = PosWeight.ToDoubleArray();
        double bce = 0, poisson = 0;
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++)
            {
                double x = 0;
                for (int e = 0; e < D; e++) x += pooled[b * D + e] * w[e * C + c];
                double t = y[b * C + c];
                // torch: −[pw·t·log σ(x) + (1 − t)·log(1 − σ(x))]
                bce += pw[c] * t * Softplus(-x) + (1 - t) * Softplus(x);
                // torch's poisson_nll_loss: exp(x) − n·x from a log rate, rate − n·log(rate + eps) from a rate
                double count = n[b * C + c];
                poisson += logInput ? Math.Exp(x) - count * x : Math.Exp(x) - count * Math.Log(Math.Exp(x) + 1e-8);
                if (full && count > 1) poisson += count * Math.Log(count) - count + 0.5 * Math.Log(2 * Math.PI * count);
            }
        return bce / (B * C) + poisson / (B * C);
    }

    static double[] Flat => [.. Q.ToDoubleArray(), .. K.ToDoubleArray(), .. V.ToDoubleArray(), .. W.ToDoubleArray()];

    [Fact]
    public void FullyPaddedRowsAreNaNAsTorchsAndTheOthersAreTheMaskedSoftmax()
    {
        var w = Weights(Q, K, PaddingMask).Eval().ToDoubleArray();
        var expected = WeightsRef(Q.ToDoubleArray(), K.ToDoubleArray());
        for (int i = 0; i < w.Length; i++)
            if (double.IsNaN(expected[i])) Assert.True(double.IsNaN(w[i]), $"weight {i} should be NaN");
            else Close(expected[i], w[i], 1e-14, $"weight {i}");
        Assert.Contains(w, double.IsNaN);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void ObjectiveIsTheReferenceAndGradientsAreCentralDifferences(bool logInput, bool full)
    {
        var (value, gradients) = Diff.ValueAndGrad((Expr[] a) => Objective(a, PaddingMask, logInput, full), Q, K, V, W);
        var values = Expr.EvalMany([value, .. gradients]);
        Close(ObjectiveRef(Flat, logInput, full), values[0].ToScalar(), 1e-12, "objective");
        var analytic = values[1..].SelectMany(v => v.ToDoubleArray()).ToArray();
        Assert.All(analytic, v => Assert.True(double.IsFinite(v)));
        Close(Gradient(f => ObjectiveRef(f, logInput, full), Flat), analytic, 1e-7, "gradient");
    }

    [Fact]
    public void NanToNumOfTheWeightsIsScaledDotProductAttentionsZeros()
    {
        // sdpa's attn_mask is True where a query may attend; torch gives zeros for a query that may attend to nothing
        var keep = (1.0 - PaddingMask).Reshape(B, 1, Lk);
        var sdpa = Nn.ScaledDotProductAttention(Q, K, V, attnMask: keep).Mean(1).Eval().ToDoubleArray();
        Close(PooledRef(Q.ToDoubleArray(), K.ToDoubleArray(), V.ToDoubleArray()), sdpa, 1e-14, "sdpa");
        Close(sdpa, Pooled(Q, K, V, PaddingMask).Eval().ToDoubleArray(), 1e-14, "nan_to_num");
    }

    [Fact]
    public void MaskedFillOfIsNanIsNanToNumInValueAndGradient()
    {
        // attn.masked_fill(torch.isnan(attn), 0.0), the other spelling of the fix
        Expr Pooled2(Expr[] a)
        {
            var w = Weights(a[0], a[1], PaddingMask);
            return w.MaskedFill(w.IsNan(), 0.0).MatMul(a[2]).Mean(1).MatMul(a[3]).Sum();
        }
        var (value, gradients) = Diff.ValueAndGrad(Pooled2, Q, K, V, W);
        var values = Expr.EvalMany([value, .. gradients]);
        double Reference(double[] flat)
        {
            int nq = B * Lq * D, nk = B * Lk * D;
            var pooled = PooledRef(flat[..nq], flat[nq..(nq + nk)], flat[(nq + nk)..(nq + 2 * nk)]);
            var w = flat[(nq + 2 * nk)..];
            double total = 0;
            for (int b = 0; b < B; b++)
                for (int c = 0; c < C; c++)
                    for (int e = 0; e < D; e++) total += pooled[b * D + e] * w[e * C + c];
            return total;
        }
        Close(Reference(Flat), values[0].ToScalar(), 1e-12, "value");
        Close(Gradient(Reference, Flat), values[1..].SelectMany(v => v.ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }
}
