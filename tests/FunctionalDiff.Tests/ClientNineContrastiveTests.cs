using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Two losses ported from PyTorch as a user writes them first: a CLIP/SimCLR-style InfoNCE loss over two small
/// encoders (F.normalize, z1 @ z2.T / τ, cross-entropy against arange(N) in both directions), and knowledge
/// distillation (F.kl_div(log_softmax(s/T), softmax(t/T), 'batchmean')·T² plus hard-label cross-entropy, with the
/// teacher detached). Each value is compared with the same loss written over doubles in this file, and each gradient
/// with central differences of that reference.
/// </summary>
public class ClientNineContrastiveTests
{
    const int N = 5, A = 3, B = 4, H = 4, D = 3;
    const double Temperature = 0.2;

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("image.fc1.weight", [H, A]), ("image.fc1.bias", [H]), ("image.fc2.weight", [D, H]), ("image.fc2.bias", [D]),
        ("text.fc1.weight", [H, B]), ("text.fc1.bias", [H]), ("text.fc2.weight", [D, H]), ("text.fc2.bias", [D]),
    ];

    static Parameters Model() =>
        Parameters.Of(Layout.Select((e, i) => (e.Name, 0.8 * Tensor.RandomNormal(e.Shape, seed: 40 + i))).ToArray());

    static readonly Tensor X1 = Tensor.RandomNormal([N, A], seed: 7), X2 = Tensor.RandomNormal([N, B], seed: 8);

    // ---- what a torch user writes ----

    static Expr Encode(IReadOnlyDictionary<string, Expr> p, string name, Expr x) =>
        Nn.Linear(Nn.Linear(x, p[name + ".fc1.weight"], p[name + ".fc1.bias"]).Tanh(), p[name + ".fc2.weight"], p[name + ".fc2.bias"]);

    // z1 = F.normalize(enc1(x1), dim=-1); logits = z1 @ z2.T / t; (CE(logits, arange) + CE(logits.T, arange)) / 2
    static Expr InfoNce(IReadOnlyDictionary<string, Expr> p, Expr x1, Expr x2)
    {
        var z1 = Nn.Normalize(Encode(p, "image", x1), axis: -1);
        var z2 = Nn.Normalize(Encode(p, "text", x2), axis: -1);
        var logits = z1.MatMul(z2.T) / Temperature;
        var labels = Tensor.Arange(N);
        return (Loss.CrossEntropy(logits, labels) + Loss.CrossEntropy(logits.T, labels)) / 2;
    }

    // ---- the same loss over doubles ----

    static double[] Linear(double[] x, int rows, int inputs, int outputs, double[] w, double[] b) =>
        TestSupport.Linear(x, rows, inputs, outputs, w, b);

    static double[] EncodeReference(Dictionary<string, double[]> p, string name, double[] x, int inputs)
    {
        var h = Linear(x, N, inputs, H, p[name + ".fc1.weight"], p[name + ".fc1.bias"]).Select(Math.Tanh).ToArray();
        var z = Linear(h, N, H, D, p[name + ".fc2.weight"], p[name + ".fc2.bias"]);
        for (int r = 0; r < N; r++)
        {
            double norm = 0;
            for (int k = 0; k < D; k++) norm += z[r * D + k] * z[r * D + k];
            norm = Math.Max(Math.Sqrt(norm), 1e-12);
            for (int k = 0; k < D; k++) z[r * D + k] /= norm;
        }
        return z;
    }

    // mean over rows i of logsumexp_j s[i, j] − s[i, i]
    static double CrossEntropyDiagonal(Func<int, int, double> s)
    {
        double total = 0;
        for (int i = 0; i < N; i++)
        {
            double max = Enumerable.Range(0, N).Max(j => s(i, j));
            double lse = max + Math.Log(Enumerable.Range(0, N).Sum(j => Math.Exp(s(i, j) - max)));
            total += lse - s(i, i);
        }
        return total / N;
    }

    static double InfoNceReference(Dictionary<string, double[]> p)
    {
        var z1 = EncodeReference(p, "image", X1.ToDoubleArray(), A);
        var z2 = EncodeReference(p, "text", X2.ToDoubleArray(), B);
        double S(int i, int j)
        {
            double s = 0;
            for (int k = 0; k < D; k++) s += z1[i * D + k] * z2[j * D + k];
            return s / Temperature;
        }
        return (CrossEntropyDiagonal(S) + CrossEntropyDiagonal((i, j) => S(j, i))) / 2;
    }

    [Fact]
    public void InfoNceLossAndGradientsMatchAReferenceAndCentralDifferences()
    {
        var model = Model();
        var (loss, gradients) = Diff.ValueAndGrad(p => InfoNce(p, X1, X2), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);

        var flat = Flatten(Layout, model);
        Close(InfoNceReference(Unflatten(Layout, flat)), values[0].ToScalar(), 1e-12, "loss");
        var numeric = Gradient(v => InfoNceReference(Unflatten(Layout, v)), flat);
        Close(numeric, values[1..].SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }

    [Fact]
    public void InfoNceWithIntLabelsAndCosineSimilarityAgrees()
    {
        // The same loss with torch's other spellings: int labels, and the similarity matrix as cosine similarities of
        // broadcast rows (F.cosine_similarity(z1[:, None], z2[None], dim=-1)).
        var model = Model();
        int[] labels = Enumerable.Range(0, N).ToArray();
        var loss = Diff.ValueAndGrad(p =>
        {
            var e1 = Encode(p, "image", X1);
            var e2 = Encode(p, "text", X2);
            var logits = Nn.CosineSimilarity(e1.Unsqueeze(1), e2.Unsqueeze(0), axis: -1) / Temperature;
            return 0.5 * (Loss.CrossEntropy(logits, labels) + Loss.CrossEntropy(logits.T, labels));
        }, model);
        var values = Expr.EvalMany([loss.Value, .. Layout.Select(e => loss.Gradients[e.Name])]);
        var flat = Flatten(Layout, model);
        Close(InfoNceReference(Unflatten(Layout, flat)), values[0].ToScalar(), 1e-12, "loss");
        Close(Gradient(v => InfoNceReference(Unflatten(Layout, v)), flat),
            values[1..].SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }

    [Fact]
    public void CompiledInfoNceStepInFloat32MatchesTheFloat64Reference()
    {
        // A float32 model, as torch's default: the compiled step takes the two batches as inputs.
        var model = Model();
        var model32 = model.Map((_, t) => t.Cast(DType.Float32));
        var step = Diff.CompileValueAndGrad((p, batch) => InfoNce(p, batch[0], batch[1]));
        var (loss, gradients) = step.Invoke(model32, X1.Cast(DType.Float32), X2.Cast(DType.Float32));
        Assert.Equal(DType.Float32, loss.DType);
        var flat = Flatten(Layout, model32.Map((_, t) => t.Cast(DType.Float64)));
        Close(InfoNceReference(Unflatten(Layout, flat)), loss.ToScalar(), 1e-5, "loss");
        Close(Gradient(v => InfoNceReference(Unflatten(Layout, v)), flat), Flatten(Layout, gradients), 1e-4, "gradient");
    }

    // ---- SimCLR's NT-Xent: one encoder, two views, 2N × 2N similarities with the diagonal masked ----

    static readonly Tensor View2 = 0.9 * X1 + 0.1;

    static Expr NtXent(IReadOnlyDictionary<string, Expr> p)
    {
        var z = Nn.Normalize(Expr.Cat([Encode(p, "image", X1), Encode(p, "image", View2)], 0), axis: 1);   // [2N, D]
        var sim = z.MatMul(z.T) / Temperature;
        sim = sim.MaskedFill(Tensor.Eye(2 * N), double.NegativeInfinity);                             // no self-pairs
        var labels = (Tensor.Arange(2 * N) + N) % (2 * N);                                             // i pairs with i ± N
        return Loss.CrossEntropy(sim, labels);
    }

    static double NtXentReference(Dictionary<string, double[]> p)
    {
        var z = EncodeReference(p, "image", X1.ToDoubleArray(), A).Concat(EncodeReference(p, "image", View2.ToDoubleArray(), A)).ToArray();
        double total = 0;
        for (int i = 0; i < 2 * N; i++)
        {
            var s = new List<double>();
            double positive = 0;
            for (int j = 0; j < 2 * N; j++)
            {
                if (j == i) continue;
                double dot = 0;
                for (int k = 0; k < D; k++) dot += z[i * D + k] * z[j * D + k];
                s.Add(dot / Temperature);
                if (j == (i + N) % (2 * N)) positive = dot / Temperature;
            }
            double max = s.Max();
            total += max + Math.Log(s.Sum(v => Math.Exp(v - max))) - positive;
        }
        return total / (2 * N);
    }

    [Fact]
    public void NtXentWithTheDiagonalMaskedToMinusInfinityMatchesItsReference()
    {
        var model = Model();
        var (loss, gradients) = Diff.ValueAndGrad(NtXent, model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        var flat = Flatten(Layout, model);
        Close(NtXentReference(Unflatten(Layout, flat)), values[0].ToScalar(), 1e-12, "loss");
        var g = values[1..].SelectMany(t => t.ToDoubleArray()).ToArray();
        Assert.All(g, v => Assert.True(double.IsFinite(v)));
        Close(Gradient(v => NtXentReference(Unflatten(Layout, v)), flat), g, 1e-7, "gradient");
        // the text encoder takes no part: zeros
        Assert.All(values[5..].SelectMany(t => t.ToDoubleArray()), v => Assert.Equal(0.0, v));
    }
}
