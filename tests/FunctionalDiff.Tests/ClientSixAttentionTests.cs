using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A transformer's building blocks as a PyTorch user writes them first: transpose(dim0, dim1) and permute for the
/// multi-head split, torch.triu for a causal mask, the embedding lookup, F.scaled_dot_product_attention with a causal
/// mask, a boolean padding mask, a float mask and a fully masked row, F.layer_norm with weight and bias, and GELU in
/// both forms. Every number is checked against torch's documented formula written as a loop over doubles here, and
/// every gradient against central differences of that loop.
/// </summary>
public class ClientSixAttentionTests
{
    // ---- transpose(dim0, dim1), permute, tril/triu ----

    /// <summary>
    /// torch's <c>x.transpose(0, 1)</c> swaps two axes. Here <c>Transpose(params int[])</c> is a permutation, so before
    /// the two-axis overload <c>m.Transpose(0, 1)</c> on a matrix was the identity permutation (no swap, no error) and
    /// <c>k.Transpose(-2, -1)</c>, attention's kᵀ, was the identity on a matrix and an error above rank 2.
    /// </summary>
    [Fact]
    public void TransposeOfTwoAxesSwapsThemAsTorchDoes()
    {
        var m = T([2, 3]);
        var mv = m.ToDoubleArray();
        var expected = new double[6];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                expected[j * 2 + i] = mv[i * 3 + j];
        foreach (var swapped in new[] { m.Transpose(0, 1), m.Transpose(1, 0), m.Transpose(-2, -1), ((Expr)m).Transpose(0, 1).Eval(), ((Expr)m).Transpose(-1, -2).Eval() })
        {
            Assert.Equal(new[] { 3, 2 }, swapped.Shape);
            Assert.Equal(expected, swapped.ToDoubleArray());
        }

        // [N, L, H, D] -> [N, H, L, D], the multi-head split, against a loop
        var x = T([2, 3, 4, 5]);
        var xv = x.ToDoubleArray();
        var heads = new double[xv.Length];
        for (int n = 0; n < 2; n++)
            for (int l = 0; l < 3; l++)
                for (int h = 0; h < 4; h++)
                    for (int d = 0; d < 5; d++)
                        heads[((n * 4 + h) * 3 + l) * 5 + d] = xv[((n * 3 + l) * 4 + h) * 5 + d];
        foreach (var t in new[] { x.Transpose(1, 2), ((Expr)x).Transpose(1, 2).Eval(), x.Permute(0, 2, 1, 3), ((Expr)x).Permute(0, 2, 1, 3).Eval(), x.Transpose(-3, -2) })
        {
            Assert.Equal(new[] { 2, 4, 3, 5 }, t.Shape);
            Assert.Equal(heads, t.ToDoubleArray());
        }
        // three or more numbers remain a permutation
        Assert.Equal(new[] { 5, 2, 3, 4 }, x.Transpose(3, 0, 1, 2).Shape);

        // the derivative of a swap is the swap back: the gradient of Σ c ⊙ xᵀ is cᵀ
        var c = T([3, 2], 1);
        var g = Diff.Grad(a => (a.Transpose(0, 1) * c).Sum())(m).Eval();
        Assert.Equal(c.Transpose(0, 1).ToDoubleArray(), g.ToDoubleArray());

        var e = Assert.ThrowsAny<ArgumentException>(() => ((Expr)x).Transpose(1, 4));
        Assert.StartsWith("Transpose: ", e.Message);
        Assert.StartsWith("Transpose: ", Assert.ThrowsAny<ArgumentException>(() => x.Transpose(-5, 0)).Message);
        Assert.StartsWith("Permute: ", Assert.ThrowsAny<ArgumentException>(() => x.Permute(0, 1)).Message);
    }

    [Fact]
    public void TrilAndTriuOnTensorsAreTorchs()
    {
        var x = T([2, 3, 4]);
        var v = x.ToDoubleArray();
        foreach (var offset in new[] { -1, 0, 1, 2 })
        {
            double[] lower = new double[v.Length], upper = new double[v.Length];
            for (int b = 0; b < 2; b++)
                for (int i = 0; i < 3; i++)
                    for (int j = 0; j < 4; j++)
                    {
                        int at = (b * 3 + i) * 4 + j;
                        lower[at] = j - i <= offset ? v[at] : 0;
                        upper[at] = j - i >= offset ? v[at] : 0;
                    }
            Assert.Equal(lower, x.Tril(offset).ToDoubleArray());
            Assert.Equal(upper, x.Triu(offset).ToDoubleArray());
        }
        // torch's causal mask: True where a query may attend
        Assert.Equal(new double[] { 1, 0, 0, 1, 1, 0, 1, 1, 1 }, Tensor.Ones(3, 3).Tril().ToDoubleArray());
    }

    // ---- positional encodings ----

    /// <summary>
    /// The sinusoidal encoding of "Attention is all you need" as PyTorch's tutorial builds it: position = arange(L)[:, None],
    /// div = exp(arange(0, d, 2)·(−ln 10000 / d)), sin on the even columns and cos on the odd ones (here the interleave is a
    /// stack along a new last axis and a reshape, since tensors are not assigned into). Against PE(p, 2i) = sin(p/10000^(2i/d)),
    /// PE(p, 2i+1) = cos(p/10000^(2i/d)); then added to an embedding lookup, whose gradient passes through it unchanged.
    /// </summary>
    [Fact]
    public void SinusoidalPositionalEncodingBuiltTorchsWayIsTheClosedForm()
    {
        int length = 7, d = 6;
        var position = Tensor.Arange(length).Unsqueeze(1);
        var div = (Tensor.Arange(0, d, 2) * (-Math.Log(10000.0) / d)).Exp();
        var pe = Tensor.Stack([(position * div).Sin(), (position * div).Cos()], axis: -1).Reshape(length, d);
        var expected = new double[length * d];
        for (int p = 0; p < length; p++)
            for (int i = 0; i < d / 2; i++)
            {
                double angle = p / Math.Pow(10000, 2.0 * i / d);
                expected[p * d + 2 * i] = Math.Sin(angle);
                expected[p * d + 2 * i + 1] = Math.Cos(angle);
            }
        Close(expected, pe.ToDoubleArray(), 1e-13);

        var table = T([5, d]);
        var tokens = Tensor.FromArray(new[] { 4, 0, 2, 2, 1, 3, 0 });
        var x = Expr.Embedding(tokens, table) + pe;   // [L, d]
        var tv = table.ToDoubleArray();
        Close(Enumerable.Range(0, length * d).Select(k => tv[(int)tokens.ToDoubleArray()[k / d] * d + k % d] + expected[k]).ToArray(), x.Eval().ToDoubleArray(), 1e-14);
    }

    // ---- the embedding lookup ----

    /// <summary>F.embedding: rows of the table; the gradient scatters into the table and repeated indices accumulate.</summary>
    [Fact]
    public void EmbeddingGradientScattersIntoTheTableAndAccumulates()
    {
        int vocab = 5, dim = 3;
        var table = T([vocab, dim]);
        int[] tokens = { 1, 3, 1, 0, 1, 4 };   // row 1 three times, row 2 never
        var indices = Tensor.FromArray(tokens, 2, 3);
        // torch.tensor([[1, 3, 1], [0, 1, 4]]): the same ids from a C# int[,]
        Assert.Equal(indices.ToDoubleArray(), Tensor.FromArray(new[,] { { 1, 3, 1 }, { 0, 1, 4 } }).ToDoubleArray());
        Assert.Equal(new[] { 2, 3 }, Tensor.FromArray(new[,] { { 1, 3, 1 }, { 0, 1, 4 } }).Shape);
        var weights = T([2, 3, dim], 2);
        var lookedUp = Expr.Embedding(indices, table).Eval();
        Assert.Equal(new[] { 2, 3, dim }, lookedUp.Shape);
        var tv = table.ToDoubleArray();
        Assert.Equal(tokens.SelectMany(t => tv.Skip(t * dim).Take(dim)).ToArray(), lookedUp.ToDoubleArray());

        var grad = Diff.Grad(w => (Expr.Embedding(indices, w) * weights).Sum())(table).Eval().ToDoubleArray();
        var wv = weights.ToDoubleArray();
        var expected = new double[vocab * dim];
        for (int p = 0; p < tokens.Length; p++)
            for (int d = 0; d < dim; d++)
                expected[tokens[p] * dim + d] += wv[p * dim + d];
        Close(expected, grad, 1e-14);
        Assert.All(grad.Skip(2 * dim).Take(dim), g => Assert.Equal(0.0, g));

        // padding_idx = 1 as the README writes it: the same rows, and no gradient into row 1
        Expr Padded(Expr w)
        {
            var rows = Expr.Embedding(indices, w);
            return Expr.Where(((Expr)indices).Eq(1.0).Unsqueeze(-1), rows.Detach(), rows);
        }
        Assert.Equal(lookedUp.ToDoubleArray(), Padded(table).Eval().ToDoubleArray());
        var padded = Diff.Grad(w => (Padded(w) * weights).Sum())(table).Eval().ToDoubleArray();
        for (int d = 0; d < dim; d++) expected[1 * dim + d] = 0;
        Close(expected, padded, 1e-14);
    }

    // ---- scaled dot-product attention ----

    /// <summary>
    /// torch's documented reference of F.scaled_dot_product_attention over [B, L, E]·[B, S, E]·[B, S, Ev], written as
    /// loops: scores q·k·scale + bias, −∞ where the mask forbids, softmax by the row's maximum, and a row that is −∞
    /// throughout gives zeros (torch's math backend since 2.5; a plain softmax would give NaN).
    /// </summary>
    static double[] Attention(double[] q, double[] k, double[] v, int batch, int l, int s, int e, int ev,
        Func<int, int, int, bool> keep, Func<int, int, double> bias, double scale)
    {
        var output = new double[batch * l * ev];
        for (int b = 0; b < batch; b++)
            for (int i = 0; i < l; i++)
            {
                var scores = new double[s];
                for (int j = 0; j < s; j++)
                {
                    double dot = 0;
                    for (int d = 0; d < e; d++) dot += q[(b * l + i) * e + d] * k[(b * s + j) * e + d];
                    scores[j] = keep(b, i, j) ? dot * scale + bias(i, j) : double.NegativeInfinity;
                }
                double max = scores.Max();
                if (double.IsNegativeInfinity(max)) continue;   // fully masked: the row stays 0
                var w = scores.Select(x => Math.Exp(x - max)).ToArray();
                double total = w.Sum();
                for (int j = 0; j < s; j++)
                    for (int d = 0; d < ev; d++)
                        output[(b * l + i) * ev + d] += w[j] / total * v[(b * s + j) * ev + d];
            }
        return output;
    }

    const int B = 2, L = 3, S = 4, E = 5, EV = 2;
    static readonly double[] Keep = { 1, 1, 0, 1, 0, 0, 0, 0, 1, 0, 1, 1, /* batch 1 */ 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0 };
    static readonly double[] Bias = { 0.5, -1, 0, 2, -0.25, 0.75, 1.5, -2, 0, 0.3, -0.6, 1 };

    public static TheoryData<string> Masks() => new() { "none", "causal", "padding", "bias", "padding+causal" };

    [Theory]
    [MemberData(nameof(Masks))]
    public void ScaledDotProductAttentionIsTorchsReferenceWithItsGradients(string mask)
    {
        double[] q = Values(B * L * E, 1), k = Values(B * S * E, 2), v = Values(B * S * EV, 3);
        bool causal = mask.Contains("causal"), padding = mask.Contains("padding"), biased = mask == "bias";
        double scale = 1 / Math.Sqrt(E);
        bool KeepAt(int b, int i, int j) => (!causal || j <= i) && (!padding || Keep[(b * L + i) * S + j] != 0);
        double BiasAt(int i, int j) => biased ? Bias[i * S + j] : 0;
        double[] Reference(double[] qq, double[] kk, double[] vv) => Attention(qq, kk, vv, B, L, S, E, EV, KeepAt, BiasAt, scale);

        Expr Ours(Expr[] p) => Nn.ScaledDotProductAttention(p[0], p[1], p[2],
            attnMask: padding ? (Expr)Tensor.FromArray(Keep, B, L, S) : null, isCausal: causal, attnBias: biased ? (Expr)Tensor.FromArray(Bias, L, S) : null);
        Tensor[] inputs = [Tensor.FromArray(q, B, L, E), Tensor.FromArray(k, B, S, E), Tensor.FromArray(v, B, S, EV)];
        var output = Ours([.. inputs]).Eval();
        Assert.Equal(new[] { B, L, EV }, output.Shape);
        var expected = Reference(q, k, v);
        Close(expected, output.ToDoubleArray(), 1e-14, mask);
        if (padding)   // batch 0's row 1 may attend to nothing: torch gives zeros there
            Assert.Equal(new double[] { 0, 0 }, output.ToDoubleArray().Skip(1 * EV).Take(EV).ToArray());

        // the gradients of Σ c ⊙ output in q, k and v against central differences of the reference
        var c = Values(B * L * EV, 4);
        double Loss(double[] qq, double[] kk, double[] vv) => Reference(qq, kk, vv).Zip(c, (o, w) => o * w).Sum();
        var cotangent = Tensor.FromArray(c, B, L, EV);
        var grads = Expr.EvalMany(Diff.Grad((Expr[] p) => (Ours(p) * cotangent).Sum())([.. inputs]));
        Close(Gradient(x => Loss(x, k, v), q), grads[0].ToDoubleArray(), 1e-8, mask + " dq");
        Close(Gradient(x => Loss(q, x, v), k), grads[1].ToDoubleArray(), 1e-8, mask + " dk");
        Close(Gradient(x => Loss(q, k, x), v), grads[2].ToDoubleArray(), 1e-8, mask + " dv");
        Assert.All(grads.SelectMany(g => g.ToDoubleArray()), g => Assert.True(double.IsFinite(g)));

        // compiled, the same numbers
        var compiled = Diff.Compile((Expr[] p) => [Ours(p)]).Invoke(inputs)[0];
        Close(expected, compiled.ToDoubleArray(), 1e-14, mask + " compiled");
    }

    /// <summary>
    /// A query that may attend to nothing: torch's F.softmax gives NaN for a row of −∞ (so does ours, it is softmax's
    /// value), while F.scaled_dot_product_attention gives 0 for that row and passes no gradient through it, in both
    /// dtypes, at second order too, and next to rows of logits of magnitude 10⁴ in float32, which a softmax that did not
    /// shift by the row's maximum would overflow. Checked against the closed form: softmax of the shifted logits.
    /// </summary>
    [Theory]
    [InlineData(DType.Float32)]
    [InlineData(DType.Float64)]
    public void HugeLogitsAndAFullyMaskedRowFollowTheClosedForm(DType dtype)
    {
        // E = 1 and scale 1: the scores are q_i·k_j, exact in float32: 128 × (78.125, 78.1171875, 77.890625)
        // = (10000, 9999, 9970); row 1 the same negated, row 2 fully masked.
        double[] q = { 128, -128, 1 }, k = { 78.125, 78.1171875, 77.890625 }, v = { 1, 2, -3, 0.5, 4, -1 };   // v: [3, 2]
        var mask = Tensor.FromArray(new double[] { 1, 1, 1, 1, 1, 1, 0, 0, 0 }, 3, 3);
        Tensor Of(double[] x, params int[] shape) => Tensor.FromArray(x, shape).Cast(dtype);
        Tensor[] inputs = [Of(q, 3, 1), Of(k, 3, 1), Of(v, 3, 2)];
        Expr Ours(Expr[] p) => Nn.ScaledDotProductAttention(p[0], p[1], p[2], attnMask: mask, scale: 1.0);

        // closed form: weights of row 0 ∝ (1, e⁻¹, e⁻³⁰); of row 1 ∝ (e⁻³⁰, e⁻²⁹, 1) (scores −10000, −9999, −9970)
        double[][] shifted = { new[] { 0.0, -1, -30 }, new[] { -30.0, -29, 0 } };
        var weights = shifted.Select(r => r.Select(Math.Exp).Select(w => w / r.Sum(Math.Exp)).ToArray()).ToArray();
        var expected = new double[6];
        for (int i = 0; i < 2; i++)
            for (int d = 0; d < 2; d++)
                expected[i * 2 + d] = Enumerable.Range(0, 3).Sum(j => weights[i][j] * v[j * 2 + d]);
        double tolerance = dtype == DType.Float32 ? 2e-6 : 1e-14;
        var output = Ours([.. inputs]).Eval();
        Assert.Equal(dtype, output.DType);
        Close(expected, output.ToDoubleArray(), tolerance, "output");

        // gradient of Σ output in q (E = 1): Σ_d Σ_j w_j (v_jd − out_d) k_j, and in v: Σ_i w_ij; row 2 gets nothing
        var grads = Expr.EvalMany(Diff.Grad((Expr[] p) => Ours(p).Sum())([.. inputs]));
        var dq = new double[3];
        var dv = new double[6];
        for (int i = 0; i < 2; i++)
            for (int j = 0; j < 3; j++)
                for (int d = 0; d < 2; d++)
                {
                    dq[i] += weights[i][j] * (v[j * 2 + d] - expected[i * 2 + d]) * k[j];
                    dv[j * 2 + d] += weights[i][j];
                }
        // dq is a difference of products of size 10²·10², so float32 keeps it to about 10⁴·6e-8 absolute
        Close(dq, grads[0].ToDoubleArray(), dtype == DType.Float32 ? 2e-3 : 1e-10, "dq");
        Close(dv, grads[2].ToDoubleArray(), tolerance, "dv");
        Assert.Equal(0.0, grads[0].ToDoubleArray()[2]);
        Assert.All(grads.SelectMany(g => g.ToDoubleArray()), g => Assert.True(double.IsFinite(g)));

        // the fully masked row: zeros, and its second derivatives are finite (0)
        var hv = Diff.Hvp(x => Ours([x, inputs[1], inputs[2]]).Square().Sum(), inputs[0], Of(new double[] { 0, 0, 1 }, 3, 1)).Eval();
        Assert.Equal(new double[] { 0, 0, 0 }, hv.ToDoubleArray());

        // a plain softmax of that row is torch's NaN: only attention reads it as "attend to nothing"
        Assert.True(double.IsNaN(((Expr)Of(new[] { double.NegativeInfinity, double.NegativeInfinity }, 2)).Softmax().Eval().ToDoubleArray()[0]));
    }

    /// <summary>
    /// torch's enable_gqa (grouped-query attention: 4 query heads share 2 key/value heads, head h reading group h / 2)
    /// is the keys and values repeated along the head axis with repeat_interleave, which the README gives as the way here.
    /// Against the loop over heads, and the gradient in the shared keys against central differences.
    /// </summary>
    [Fact]
    public void GroupedQueryAttentionByRepeatInterleaveIsTorchsEnableGqa()
    {
        const int n = 1, qHeads = 4, kvHeads = 2, l = 3, s = 4, e = 2;
        double[] q = Values(n * qHeads * l * e, 1), k = Values(n * kvHeads * s * e, 2), v = Values(n * kvHeads * s * e, 3);
        double[] Reference(double[] keys)
        {
            var output = new double[qHeads * l * e];
            for (int h = 0; h < qHeads; h++)
            {
                var head = Attention(q[(h * l * e)..((h + 1) * l * e)], keys[(h / 2 * s * e)..((h / 2 + 1) * s * e)], v[(h / 2 * s * e)..((h / 2 + 1) * s * e)],
                    1, l, s, e, e, (_, _, _) => true, (_, _) => 0, 1 / Math.Sqrt(e));
                head.CopyTo(output, h * l * e);
            }
            return output;
        }
        var values = Tensor.FromArray(v, n, kvHeads, s, e);
        Expr Ours(Expr keys) => Nn.ScaledDotProductAttention(Tensor.FromArray(q, n, qHeads, l, e), keys.RepeatInterleave(qHeads / kvHeads, 1),
            ((Expr)values).RepeatInterleave(qHeads / kvHeads, 1));
        var keysTensor = Tensor.FromArray(k, n, kvHeads, s, e);
        Close(Reference(k), Ours(keysTensor).Eval().ToDoubleArray(), 1e-14);
        var c = Values(qHeads * l * e, 4);
        var cotangent = Tensor.FromArray(c, n, qHeads, l, e);
        Close(Gradient(x => Reference(x).Zip(c, (a, b) => a * b).Sum(), k),
            Diff.Grad(x => (Ours(x) * cotangent).Sum())(keysTensor).Eval().ToDoubleArray(), 1e-8);
    }

    /// <summary>
    /// torch's <c>bias=None</c> written as C# over tensors: <c>useBias ? b : null</c> has type Tensor, so its null went
    /// through the Tensor-to-Expr conversion, which threw ArgumentNullException("value") where "no bias" was meant. A null
    /// tensor now converts to null: optional arguments take it as "none", and a required one is refused by the method
    /// under its own parameter's name.
    /// </summary>
    [Fact]
    public void ANullTensorForAnOptionalArgumentMeansNone()
    {
        var x = T([4, 3]);
        var w = T([2, 3], 1);
        var b = T([2], 2);
        foreach (var useBias in new[] { true, false })
        {
            var expected = Nn.Linear(x, w, useBias ? (Expr)b : null).Eval().ToDoubleArray();
            Assert.Equal(expected, Nn.Linear(x, w, useBias ? b : null).Eval().ToDoubleArray());
        }
        var q = T([L, E]);
        foreach (var padded in new[] { true, false })
        {
            var mask = Tensor.FromArray(Keep[..(L * L)], L, L);
            Assert.Equal(Nn.ScaledDotProductAttention(q, q, q, attnMask: padded ? (Expr)mask : null).Eval().ToDoubleArray(),
                Nn.ScaledDotProductAttention(q, q, q, attnMask: padded ? mask : null).Eval().ToDoubleArray());
        }
        Tensor? missing = null;
        Assert.Equal("weight", Assert.Throws<ArgumentNullException>(() => Nn.Linear(x, missing!)).ParamName);
        Assert.Equal("key", Assert.Throws<ArgumentNullException>(() => Nn.ScaledDotProductAttention(q, missing!, q)).ParamName);
        Assert.Null((Expr?)missing);
    }

    [Fact]
    public void AttentionErrorsNameTheMethodAndEveryShape()
    {
        var q = T([2, 3, 4]);
        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(q, T([2, 5, 3]), T([2, 5, 2])));
        Assert.StartsWith("ScaledDotProductAttention: ", e.Message);
        Assert.Contains("[2,5,3]", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(q, T([2, 5, 4]), T([2, 4, 2])));
        Assert.Contains("sequence length", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(q, q, q, attnMask: Tensor.Ones(3, 4)));
        Assert.Contains("attnMask [3,4]", e.Message);
        e = Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(q, q, q, dropoutP: 0.1));
        Assert.Equal("dropoutNoise", ((ArgumentException)e).ParamName);
    }

    /// <summary>
    /// torch's two masks: a boolean mask and the float mask with −∞ where it is False give the same attention, a
    /// row of −∞ in the float mask included (zeros). nn.Transformer.generate_square_subsequent_mask's float mask
    /// (−∞ above the diagonal, 0 elsewhere) passed where the boolean mask goes would attend exactly where it should not,
    /// so a constant attnMask holding −∞, a negative number or NaN is refused with a message that names attnBias.
    /// </summary>
    [Fact]
    public void TheFloatMaskGoesInAttnBiasAndIsRefusedAsTheBooleanMask()
    {
        var q = T([2, L, E]);
        var k = T([2, S, E], 1);
        var v = T([2, S, EV], 2);
        var keep = Tensor.FromArray(Keep[..(L * S)], L, S);
        var additive = Tensor.FromArray(Keep[..(L * S)].Select(x => x != 0 ? 0.0 : double.NegativeInfinity).ToArray(), L, S);
        var byMask = Nn.ScaledDotProductAttention(q, k, v, attnMask: keep).Eval().ToDoubleArray();
        var byBias = Nn.ScaledDotProductAttention(q, k, v, attnBias: additive).Eval().ToDoubleArray();
        Assert.Equal(byMask, byBias);
        Assert.Equal(new double[] { 0, 0 }, byBias.Skip(EV).Take(EV).ToArray());   // row 1 of the mask forbids every key

        var subsequent = Tensor.Full([L, S], double.NegativeInfinity).Triu(1);   // 0 on and below the diagonal
        Assert.True(double.IsNegativeInfinity(subsequent.ToDoubleArray()[1]));
        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.ScaledDotProductAttention(q, k, v, attnMask: subsequent));
        Assert.StartsWith("ScaledDotProductAttention: attnMask holds -Infinity", e.Message);
        Assert.Contains("attnBias", e.Message);
        Assert.Throws<FunctionalDiff.Core.ShapeException>(() => Nn.ScaledDotProductAttention(q, k, v, attnMask: Tensor.Full([L, S], -1.0)));
        // the same float mask as the bias is torch's causal attention
        Close(Nn.ScaledDotProductAttention(q, k, v, isCausal: true).Eval().ToDoubleArray(),
            Nn.ScaledDotProductAttention(q, k, v, attnBias: Tensor.Full([L, S], double.NegativeInfinity).Triu(1)).Eval().ToDoubleArray(), 0);
    }

    /// <summary>Dropout on the attention weights with the caller's noise: torch's weights · (noise ≥ p) / (1 − p).</summary>
    [Fact]
    public void DropoutOnTheAttentionWeightsUsesTheNoiseGiven()
    {
        double[] q = Values(L * E, 5), k = Values(S * E, 6), v = Values(S * EV, 7);
        var noise = Tensor.FromArray(Values(L * S, 8).Select(x => (x + 1.5) / 3).ToArray(), L, S);
        var output = Nn.ScaledDotProductAttention(Tensor.FromArray(q, L, E), Tensor.FromArray(k, S, E), Tensor.FromArray(v, S, EV),
            dropoutP: 0.4, dropoutNoise: noise).Eval().ToDoubleArray();
        var nv = noise.ToDoubleArray();
        var expected = new double[L * EV];
        for (int i = 0; i < L; i++)
        {
            var scores = Enumerable.Range(0, S).Select(j => Enumerable.Range(0, E).Sum(d => q[i * E + d] * k[j * E + d]) / Math.Sqrt(E)).ToArray();
            double max = scores.Max(), total = scores.Sum(x => Math.Exp(x - max));
            for (int j = 0; j < S; j++)
                for (int d = 0; d < EV; d++)
                    expected[i * EV + d] += (nv[i * S + j] >= 0.4 ? Math.Exp(scores[j] - max) / total / 0.6 : 0) * v[j * EV + d];
        }
        Close(expected, output, 1e-14);
    }

    // ---- layer norm and GELU ----

    [Fact]
    public void LayerNormWithWeightAndBiasIsTorchsOverTheTrailingAxes()
    {
        var x = T([2, 3, 4]);
        double[] w = Values(12, 1), b = Values(12, 2);
        var xv = x.ToDoubleArray();
        // F.layer_norm(x, [4], w[:4], b[:4]) and F.layer_norm(x, [3, 4], w, b): biased variance, eps inside the root
        double[] Reference(double[] input, int group, double[] weight, double[] bias, double eps)
        {
            var output = new double[input.Length];
            for (int start = 0; start < input.Length; start += group)
            {
                var part = input.Skip(start).Take(group).ToArray();
                double mean = part.Average(), variance = part.Sum(a => (a - mean) * (a - mean)) / group;
                for (int i = 0; i < group; i++)
                    output[start + i] = (part[i] - mean) / Math.Sqrt(variance + eps) * weight[i] + bias[i];
            }
            return output;
        }
        Close(Reference(xv, 4, w, b, 1e-5), Nn.LayerNorm(x, [4], Tensor.FromArray(w[..4]), Tensor.FromArray(b[..4])).Eval().ToDoubleArray(), 1e-13);
        Close(Reference(xv, 12, w, b, 1e-3), Nn.LayerNorm(x, [3, 4], Tensor.FromArray(w, 3, 4), Tensor.FromArray(b, 3, 4), epsilon: 1e-3).Eval().ToDoubleArray(), 1e-13);
        Close(Reference(xv, 4, [1, 1, 1, 1], [0, 0, 0, 0], 1e-5), Nn.LayerNorm(x, [4]).Eval().ToDoubleArray(), 1e-13);
        Close(Reference(xv, 4, [1, 1, 1, 1], [0, 0, 0, 0], 1e-5), ((Expr)x).LayerNorm().Eval().ToDoubleArray(), 1e-13);

        // gradients in the input, the weight and the bias against central differences of the reference
        var c = Values(24, 3);
        double Loss(double[] input, double[] weight, double[] bias) => Reference(input, 4, weight, bias, 1e-5).Zip(c, (o, k) => o * k).Sum();
        var cotangent = Tensor.FromArray(c, 2, 3, 4);
        Tensor[] inputs = [x, Tensor.FromArray(w[..4]), Tensor.FromArray(b[..4])];
        var grads = Expr.EvalMany(Diff.Grad((Expr[] p) => (Nn.LayerNorm(p[0], [4], p[1], p[2]) * cotangent).Sum())([.. inputs]));
        Close(Gradient(a => Loss(a, w[..4], b[..4]), xv), grads[0].ToDoubleArray(), 1e-7, "dx");
        Close(Gradient(a => Loss(xv, a, b[..4]), w[..4]), grads[1].ToDoubleArray(), 1e-7, "dweight");
        Close(Gradient(a => Loss(xv, w[..4], a), b[..4]), grads[2].ToDoubleArray(), 1e-7, "dbias");

        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.LayerNorm(x, [3]));
        Assert.StartsWith("LayerNorm: ", e.Message);
        Assert.Contains("[2,3,4]", e.Message);
        Assert.StartsWith("LayerNorm: ", Assert.ThrowsAny<ArgumentException>(() => Nn.LayerNorm(x, [4], Tensor.Ones(3))).Message);
    }

    [Fact]
    public void GeluInBothFormsIsTorchs()
    {
        var xs = Values(11).Select(x => 1.8 * x).ToArray();
        var t = Tensor.FromArray(xs);
        Close(xs.Select(x => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)))).ToArray(), ((Expr)t).Gelu().Eval().ToDoubleArray(), 1e-13, "gelu");
        Close(xs.Select(x => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)))).ToArray(),
            ((Expr)t).GeluTanh().Eval().ToDoubleArray(), 1e-13, "gelu tanh");
        Close(xs.Select(x => 0.5 * (1 + Erf(x / Math.Sqrt(2))) + x * Math.Exp(-x * x / 2) / Math.Sqrt(2 * Math.PI)).ToArray(),
            Diff.Grad(a => a.Gelu().Sum())(t).Eval().ToDoubleArray(), 1e-12, "gelu'");
    }
}
