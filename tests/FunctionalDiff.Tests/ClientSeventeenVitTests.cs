using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's vision transformer (<see cref="ClientSeventeenVitReadme"/>): patches by <c>unfold</c>, a class token,
/// learned positions, one pre-norm block with <c>nn.MultiheadAttention</c> and an exact-GELU MLP, the class token's
/// logits under label-smoothed cross-entropy, trained by AdamW under a linear warmup and a cosine decay through
/// <c>Diff.Compile</c>. Held to the same ViT written over doubles with loops (patches cut by index arithmetic, attention
/// head by head), its gradient to central differences, and every step to torch's AdamW and schedule written out.
/// </summary>
public class ClientSeventeenVitTests
{
    const int N = 3, C = 2, Hi = 4, Wi = 4, P = 2, L = Hi / P * (Wi / P), K = C * P * P, D = 4, Heads = 2, Hidden = 8, Classes = 3;
    const int S = L + 1, Hd = D / Heads;
    const double Peak = 0.01, Decay = 0.05, Smoothing = 0.1;
    const int Warmup = 2, Steps = 6;

    static readonly double[] Images = Values(N * C * Hi * Wi, 1);
    static readonly double[] Labels = [0, 2, 1];

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("patch.weight", [D, K]), ("patch.bias", [D]), ("cls", [1, 1, D]), ("pos", [1, S, D]),
        ("ln1.weight", [D]), ("ln1.bias", [D]),
        ("attn.in_proj_weight", [3 * D, D]), ("attn.in_proj_bias", [3 * D]), ("attn.out_proj.weight", [D, D]), ("attn.out_proj.bias", [D]),
        ("ln2.weight", [D]), ("ln2.bias", [D]), ("fc1.weight", [Hidden, D]), ("fc1.bias", [Hidden]),
        ("fc2.weight", [D, Hidden]), ("fc2.bias", [D]), ("norm.weight", [D]), ("norm.bias", [D]),
        ("head.weight", [Classes, D]), ("head.bias", [Classes]),
    ];

    // LayerNorm weights near 1, everything else small and varied
    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
    {
        var v = Values(e.Shape.Aggregate(1, (a, b) => a * b), 20 + k);
        var scaled = e.Name.StartsWith("ln") || e.Name.StartsWith("norm")
            ? v.Select(x => e.Name.EndsWith("weight") ? 1 + 0.1 * x : 0.1 * x).ToArray()
            : v.Select(x => 0.4 * x).ToArray();
        return (e.Name, Tensor.FromArray(scaled, e.Shape));
    }).ToArray());

    static double[] LayerNormRow(double[] x, double[] w, double[] b)
    {
        double mean = x.Average(), variance = x.Sum(v => (v - mean) * (v - mean)) / x.Length;
        return x.Select((v, i) => (v - mean) / Math.Sqrt(variance + 1e-5) * w[i] + b[i]).ToArray();
    }

    static double[] Affine(double[] x, double[] w, double[] b, int outputs, int offset = 0) =>
        Enumerable.Range(0, outputs).Select(o => b[offset + o] + Enumerable.Range(0, x.Length).Sum(i => w[(offset + o) * x.Length + i] * x[i])).ToArray();

    static double Gelu(double x) => 0.5 * x * (1 + Erf(x / Math.Sqrt(2)));

    /// <summary>The ViT over doubles for one image: the class token's logits.</summary>
    static double[] ReferenceLogits(Dictionary<string, double[]> w, int image)
    {
        var x = new double[S][];
        x[0] = Enumerable.Range(0, D).Select(d => w["cls"][d] + w["pos"][d]).ToArray();
        for (int ph = 0; ph < Hi / P; ph++)
            for (int pw = 0; pw < Wi / P; pw++)
            {
                // the patch flattened channel by channel, each channel's p×p entries row by row
                var patch = new double[K];
                for (int c = 0; c < C; c++)
                    for (int i = 0; i < P; i++)
                        for (int j = 0; j < P; j++)
                            patch[(c * P + i) * P + j] = Images[((image * C + c) * Hi + ph * P + i) * Wi + pw * P + j];
                int token = 1 + ph * (Wi / P) + pw;
                x[token] = Affine(patch, w["patch.weight"], w["patch.bias"], D).Select((v, d) => v + w["pos"][token * D + d]).ToArray();
            }
        // attention: q, k, v from the fused in-projection, each head's softmax(q kᵀ/√hd) v, heads joined, out-projection
        var y = x.Select(r => LayerNormRow(r, w["ln1.weight"], w["ln1.bias"])).ToArray();
        var q = y.Select(r => Affine(r, w["attn.in_proj_weight"], w["attn.in_proj_bias"], D, 0)).ToArray();
        var k = y.Select(r => Affine(r, w["attn.in_proj_weight"], w["attn.in_proj_bias"], D, D)).ToArray();
        var v = y.Select(r => Affine(r, w["attn.in_proj_weight"], w["attn.in_proj_bias"], D, 2 * D)).ToArray();
        var joined = new double[S][];
        for (int s = 0; s < S; s++)
        {
            joined[s] = new double[D];
            for (int h = 0; h < Heads; h++)
            {
                var scores = Enumerable.Range(0, S).Select(t => Enumerable.Range(h * Hd, Hd).Sum(d => q[s][d] * k[t][d]) / Math.Sqrt(Hd)).ToArray();
                double max = scores.Max(), total = scores.Sum(z => Math.Exp(z - max));
                for (int t = 0; t < S; t++)
                    for (int d = h * Hd; d < (h + 1) * Hd; d++)
                        joined[s][d] += Math.Exp(scores[t] - max) / total * v[t][d];
            }
        }
        for (int s = 0; s < S; s++)
        {
            var attended = Affine(joined[s], w["attn.out_proj.weight"], w["attn.out_proj.bias"], D);
            x[s] = x[s].Select((e, d) => e + attended[d]).ToArray();
            var hidden = Affine(LayerNormRow(x[s], w["ln2.weight"], w["ln2.bias"]), w["fc1.weight"], w["fc1.bias"], Hidden).Select(Gelu).ToArray();
            var mlp = Affine(hidden, w["fc2.weight"], w["fc2.bias"], D);
            x[s] = x[s].Select((e, d) => e + mlp[d]).ToArray();
        }
        return Affine(LayerNormRow(x[0], w["norm.weight"], w["norm.bias"]), w["head.weight"], w["head.bias"], Classes);
    }

    /// <summary>torch's label smoothing: (1 − ε)·(−log p_y) + ε/C·Σ_c −log p_c, averaged over the batch.</summary>
    static double ReferenceLoss(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        double total = 0;
        for (int n = 0; n < N; n++)
        {
            var z = ReferenceLogits(w, n);
            double max = z.Max(), logSum = max + Math.Log(z.Sum(e => Math.Exp(e - max)));
            var logp = z.Select(e => e - logSum).ToArray();
            total += (1 - Smoothing) * -logp[(int)Labels[n]] + Smoothing / Classes * logp.Sum(e => -e);
        }
        return total / N;
    }

    static double Rate(int i) => i < Warmup ? Peak * (i + 1) / Warmup : 0.5 * Peak * (1 + Math.Cos(Math.PI * (i - Warmup) / (Steps - Warmup)));

    static (List<double> Losses, Parameters Final) Run() =>
        ClientSeventeenVitReadme.Train(Model(), Tensor.FromArray(Images, N, C, Hi, Wi), Tensor.FromArray(Labels), P, D, Heads, Peak, Warmup, Steps);

    [Fact]
    public void TheReadmeShowsExactlyTheVitThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ClientSeventeenVitReadme.cs",
            "### A vision transformer, NeRF and a weight-tied language model, ported from PyTorch");

    [Fact]
    public void EveryStepIsTheVitOverDoublesUnderTorchsAdamWAndSchedule()
    {
        var (losses, final) = Run();
        // the replay: the same loss compiled over the parameters in order, each loss held to the ViT over doubles and each gradient to its central
        // differences; torch's AdamW is then fed the gradient just checked (the key bias's is zero up to rounding, since
        // adding a constant to every score of a softmax changes nothing, and Adam's g/√v would turn differences' noise
        // there into steps of the full rate)
        var names = Layout.Select(e => e.Name).ToArray();
        var step = Diff.Compile((Expr[] a) =>
        {
            var (loss, g) = Diff.ValueAndGrad((Expr[] q) =>
                Loss.CrossEntropy(Logits(names.Zip(q).ToDictionary(e => e.First, e => e.Second), a[^2]), a[^1], labelSmoothing: 0.1), a[..^2]);
            return [loss, .. g];
        });
        var p = Flatten(Layout, Model());
        double[] m = new double[p.Length], v = new double[p.Length];
        for (int i = 0; i < Steps; i++)
        {
            var current = Unflatten(Layout, p);
            var outs = step.Invoke([.. Layout.Select(e => Tensor.FromArray(current[e.Name], e.Shape)),
                Tensor.FromArray(Images, N, C, Hi, Wi), Tensor.FromArray(Labels)]);
            Close(ReferenceLoss(p), outs[0].Item(), 1e-10, $"loss {i}");
            Close(outs[0].Item(), losses[i], 1e-12, $"the README's loss {i}");
            var g = outs[1..].SelectMany(t => t.ToDoubleArray()).ToArray();
            Close(Gradient(ReferenceLoss, p), g, 1e-7, $"gradient {i}");
            // torch.optim.AdamW: decoupled decay at the step's rate, then Adam's bias-corrected update
            for (int k = 0; k < p.Length; k++) p[k] *= 1 - Rate(i) * Decay;
            AdamStep(p, m, v, g, i + 1, Rate(i));
        }
        // the key bias moves by rounding noise, at most lr·|g|/eps ≈ 1e-10 a step with |g| ≈ 1e-16, which two traces of the
        // same program may round differently; every other parameter is the replay's to the last bits
        var trained = Flatten(Layout, final);
        int keyBias = Layout.TakeWhile(e => e.Name != "attn.in_proj_bias").Sum(e => e.Shape.Aggregate(1, (a, b) => a * b)) + D;
        for (int k = 0; k < p.Length; k++)
            Close(p[k], trained[k], k >= keyBias && k < keyBias + D ? 1e-9 : 1e-12, $"parameter {k} after training");
        Assert.Equal(1, step.TraceCount);
        Assert.True(losses[^1] < losses[0], $"the loss went from {losses[0]} to {losses[^1]}");
    }

    // the README's Logits, outside the fragment, for the gradient test
    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr images)
    {
        var x = images.Unfold(2, P, P).Unfold(3, P, P).Permute(0, 2, 3, 1, 4, 5).Reshape(images.Shape[0], L, K);
        x = Expr.Cat([p["cls"].Expand(images.Shape[0], -1, -1), Nn.Linear(x, p["patch.weight"], p["patch.bias"])], 1) + p["pos"];
        var y = Nn.LayerNorm(x, [D], p["ln1.weight"], p["ln1.bias"]);
        x = x + Nn.MultiheadAttention(y, y, y, Heads, p["attn.in_proj_weight"], p["attn.in_proj_bias"],
            p["attn.out_proj.weight"], p["attn.out_proj.bias"], batchFirst: true).Output;
        x = x + Nn.Linear(Nn.Linear(Nn.LayerNorm(x, [D], p["ln2.weight"], p["ln2.bias"]), p["fc1.weight"], p["fc1.bias"]).Gelu(), p["fc2.weight"], p["fc2.bias"]);
        return Nn.Linear(Nn.LayerNorm(x, [D], p["norm.weight"], p["norm.bias"]).Select(1, 0), p["head.weight"], p["head.bias"]);
    }

    [Fact]
    public void TheThreePatchSpellingsAgreeWithTheStridedConvolution()
    {
        // torch's three ways to embed patches: unfold + Linear, F.unfold + Linear, and a p-strided Conv2d whose kernel is the
        // Linear's weight reshaped to [D, C, p, p]; each is the loop over patches
        var w = Unflatten(Layout, Flatten(Layout, Model()));
        var weight = Tensor.FromArray(w["patch.weight"], D, K);
        var bias = Tensor.FromArray(w["patch.bias"]);
        Expr images = Tensor.FromArray(Images, N, C, Hi, Wi);
        var byUnfold = Nn.Linear(images.Unfold(2, P, P).Unfold(3, P, P).Permute(0, 2, 3, 1, 4, 5).Reshape(N, L, K), weight, bias);
        var byIm2col = Nn.Linear(Nn.Unfold(images, P, stride: P).Transpose(1, 2), weight, bias);
        var byConv = Nn.Conv2d(images, weight.Reshape(D, C, P, P), bias, stride: P).Flatten(2).Transpose(1, 2);
        var expected = new double[N * L * D];
        for (int n = 0; n < N; n++)
            for (int l = 0; l < L; l++)
                for (int d = 0; d < D; d++)
                {
                    double sum = w["patch.bias"][d];
                    for (int c = 0; c < C; c++)
                        for (int i = 0; i < P; i++)
                            for (int j = 0; j < P; j++)
                                sum += w["patch.weight"][d * K + (c * P + i) * P + j]
                                    * Images[((n * C + c) * Hi + l / (Wi / P) * P + i) * Wi + l % (Wi / P) * P + j];
                    expected[(n * L + l) * D + d] = sum;
                }
        foreach (var (name, e) in new[] { ("unfold", byUnfold), ("F.unfold", byIm2col), ("conv", byConv) })
            Close(expected, e.Eval().ToDoubleArray(), 1e-13, name);
    }
}
