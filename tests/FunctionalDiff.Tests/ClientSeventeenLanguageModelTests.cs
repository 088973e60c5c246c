using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's character-level language model with weight tying (the embedding matrix is also the output
/// projection, <c>lm_head.weight = tok_emb.weight</c>), a causal prefix average, a LayerNorm-tanh residual MLP, gradient
/// accumulation over two micro-batches (<c>(loss / 2).backward()</c> twice), AdamW, an exponential moving average of the
/// weights (<c>ema_p.lerp_(p, 1 - decay)</c>), and sampling from the EMA weights on concrete tensors: the last position's
/// logits over a temperature, <c>torch.topk</c>, the others set to −∞, softmax and <c>torch.multinomial</c> with a seeded
/// <c>torch.Generator</c>. Held to the model written over doubles, the accumulated gradient to central differences of the
/// averaged loss, AdamW and the EMA written out, and each drawn character to the inverse CDF of the top-k probabilities
/// computed over doubles at the generator's uniform draw.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientSeventeenLanguageModelTests
{
    const string Text = "hello world, hello there. ";
    const int T = 5, E = 6, Micro = 2, Steps = 3;
    const double Lr = 0.02, WeightDecay = 0.01, EmaDecay = 0.8, Temperature = 0.8;
    const int TopK = 3;

    static readonly char[] Vocabulary = Text.Distinct().OrderBy(c => c).ToArray();
    static readonly int V = Vocabulary.Length;
    static readonly int[] Ids = Text.Select(c => Array.IndexOf(Vocabulary, c)).ToArray();
    // each step's micro-batches: two windows of T + 1 characters each, by start
    static readonly int[][][] Starts = [[[0, 7], [13, 3]], [[5, 18], [1, 11]], [[9, 20], [2, 15]]];

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("tok.weight", [V, E]), ("pos", [T, E]), ("ln.weight", [E]), ("ln.bias", [E]), ("fc.weight", [E, E]), ("fc.bias", [E]),
    ];

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 30 + k)
            .Select(v => e.Name == "ln.weight" ? 1 + 0.1 * v : 0.4 * v).ToArray(), e.Shape))).ToArray());

    /// <summary>The program as the user wrote it: logits [N, t, V] of tokens [N, t] (ids held in a float tensor).</summary>
    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr tokens, string head = "tok.weight")
    {
        int t = tokens.Shape[1];
        var h = Nn.Embedding(tokens, p["tok.weight"]) + p["pos"].Narrow(0, 0, t);               // [N, t, E]
        var causal = Tensor.Ones(t, t).Tril();
        h = h + ((Expr)(causal / causal.Sum(1, keepDims: true))).MatMul(h);                      // the mean of each prefix
        h = h + Nn.Linear(Nn.LayerNorm(h, [E], p["ln.weight"], p["ln.bias"]), p["fc.weight"], p["fc.bias"]).Tanh();
        return Nn.Linear(h, p[head]);                                                             // tied: h @ tok.weight.T
    }

    static (Tensor Inputs, Tensor Targets) MicroBatch(int[] starts) =>
        (Tensor.FromArray(starts.SelectMany(s => Ids[s..(s + T)].Select(i => (double)i)).ToArray(), starts.Length, T),
         Tensor.FromArray(starts.SelectMany(s => Ids[(s + 1)..(s + T + 1)].Select(i => (double)i)).ToArray(), starts.Length, T));

    /// <summary>The user's loop: accumulated gradients, AdamW, the EMA; returns the EMA weights after each step.</summary>
    static (List<Parameters> Models, List<Parameters> Gradients, List<Parameters> Emas) Train()
    {
        var step = Diff.CompileValueAndGrad((p, b) => Loss.CrossEntropy(Logits(p, b[0]).Reshape(-1, V), b[1].Reshape(-1)));
        var adamW = new AdamW(Model(), lr: Lr, weightDecay: WeightDecay);
        var ema = adamW.Parameters;                                                      // copy.deepcopy(model)
        List<Parameters> models = [], gradients = [], emas = [];
        for (int i = 0; i < Steps; i++)
        {
            Parameters? sum = null;
            foreach (var starts in Starts[i])
            {
                var (x, y) = MicroBatch(starts);
                var (_, g) = step.Invoke(adamW.Parameters, x, y);
                var scaled = g.Map((_, t) => t / Micro);                                 // (loss / accumulation).backward()
                sum = sum is null ? scaled : sum.Map((name, s) => s + scaled[name]);
            }
            models.Add(adamW.Parameters);
            gradients.Add(sum!);
            adamW.Step(sum!);
            ema = ema.Map((name, e) => e.Lerp(adamW.Parameters[name], 1 - EmaDecay));   // ema_p.lerp_(p, 1 - decay)
            emas.Add(ema);
        }
        return (models, gradients, emas);
    }

    /// <summary>The user's sampler: temperature, top-k, multinomial with a generator, on concrete tensors.</summary>
    static (List<int> Tokens, List<double[]> Probabilities) Sample(Parameters model, int[] prompt, int count, Generator generator)
    {
        var tokens = prompt.ToList();
        var probabilities = new List<double[]>();
        for (int i = 0; i < count; i++)
        {
            var context = tokens.TakeLast(T).Select(t => (double)t).ToArray();
            var logits = Logits(model.AsExprs(), Tensor.FromArray(context, 1, context.Length)).Eval().Select(1, -1) / Temperature;
            var (top, _) = logits.TopK(TopK);
            logits = logits.MaskedFill(logits < top.Narrow(-1, TopK - 1, 1), double.NegativeInfinity);   // v[:, [-1]]
            var probs = logits.Softmax(-1);
            probabilities.Add(probs.ToDoubleArray());
            tokens.Add((int)probs.Multinomial(1, generator: generator).Item());
        }
        return (tokens, probabilities);
    }

    static double[][] ReferenceLogits(Dictionary<string, double[]> w, int[] context)
    {
        int t = context.Length;
        var h = new double[t][];
        for (int s = 0; s < t; s++)
            h[s] = Enumerable.Range(0, E).Select(e => w["tok.weight"][context[s] * E + e] + w["pos"][s * E + e]).ToArray();
        h = h.Select((row, s) => row.Select((v, e) => v + Enumerable.Range(0, s + 1).Average(r => h[r][e])).ToArray()).ToArray();
        var logits = new double[t][];
        for (int s = 0; s < t; s++)
        {
            double mean = h[s].Average(), variance = h[s].Sum(v => (v - mean) * (v - mean)) / E;
            var normed = h[s].Select((v, e) => (v - mean) / Math.Sqrt(variance + 1e-5) * w["ln.weight"][e] + w["ln.bias"][e]).ToArray();
            var mlp = Linear(normed, 1, E, E, w["fc.weight"], w["fc.bias"]);
            var y = h[s].Select((v, e) => v + Math.Tanh(mlp[e])).ToArray();
            logits[s] = Enumerable.Range(0, V).Select(c => Enumerable.Range(0, E).Sum(e => y[e] * w["tok.weight"][c * E + e])).ToArray();
        }
        return logits;
    }

    static double ReferenceLoss(double[] flat, int[] starts)
    {
        var w = Unflatten(Layout, flat);
        double total = 0;
        foreach (var s in starts)
        {
            var logits = ReferenceLogits(w, Ids[s..(s + T)]);
            for (int j = 0; j < T; j++)
            {
                double max = logits[j].Max(), logSum = max + Math.Log(logits[j].Sum(z => Math.Exp(z - max)));
                total += logSum - logits[j][Ids[s + 1 + j]];
            }
        }
        return total / (starts.Length * T);
    }

    [Fact]
    public void AccumulatedGradientsAdamWAndTheEmaAreTorchsWrittenOut()
    {
        var (models, gradients, emas) = Train();
        var p = Flatten(Layout, Model());
        var ema = (double[])p.Clone();
        double[] m = new double[p.Length], v = new double[p.Length];
        for (int i = 0; i < Steps; i++)
        {
            Close(p, Flatten(Layout, models[i]), 1e-10, $"parameters before step {i}");
            // the accumulated gradient: of the micro-batches' mean loss, the tied table collecting from both of its uses
            var steps = Starts[i];
            var g = Flatten(Layout, gradients[i]);
            Close(Gradient(x => steps.Average(s => ReferenceLoss(x, s)), p), g, 1e-7, $"accumulated gradient {i}");
            // torch.optim.AdamW: decoupled decay, then Adam; then the EMA of the updated weights
            for (int k = 0; k < p.Length; k++) p[k] *= 1 - Lr * WeightDecay;
            AdamStep(p, m, v, g, i + 1, Lr);
            for (int k = 0; k < p.Length; k++) ema[k] = EmaDecay * ema[k] + (1 - EmaDecay) * p[k];
            Close(ema, Flatten(Layout, emas[i]), 1e-13, $"EMA after step {i}");
        }
    }

    [Fact]
    public void TheTiedTableGetsTheGradientOfBothUses()
    {
        // the same loss with an untied head initialised to the table: the tied gradient is the sum of the two
        var model = Model();
        var (x, y) = MicroBatch([0, 7]);
        var tied = Diff.Grad(p => Loss.CrossEntropy(Logits(p, x).Reshape(-1, V), y.Reshape(-1)), model);
        var untied = Diff.Grad(p => Loss.CrossEntropy(Logits(p, x, head: "head").Reshape(-1, V), y.Reshape(-1)),
            model.With("head", model["tok.weight"]));
        var both = Expr.EvalMany([tied["tok.weight"], untied["tok.weight"], untied["head"]]);
        Close(both[0].ToDoubleArray(), (both[1] + both[2]).ToDoubleArray(), 1e-13, "tied = embedding + head");
        Close(Gradient(f => ReferenceLoss(f, [0, 7]), Flatten(Layout, model)).Take(V * E).ToArray(), both[0].ToDoubleArray(), 1e-7, "differences");
    }

    [Fact]
    public void EachDrawnCharacterIsTheInverseCdfOfTheTopKProbabilitiesAtTheGeneratorsDraw()
    {
        var ema = Train().Emas[^1];
        int[] prompt = [Ids[0], Ids[1]];
        var (tokens, probabilities) = Sample(ema, prompt, 6, new Generator().ManualSeed(123));
        var w = Unflatten(Layout, Flatten(Layout, ema));
        var twin = new Generator(123);   // Multinomial draws one uniform per sample from the generator's sequence, as Rand does
        for (int i = 0; i < 6; i++)
        {
            var context = tokens.Take(prompt.Length + i).TakeLast(T).ToArray();
            var z = ReferenceLogits(w, context)[^1].Select(e => e / Temperature).ToArray();
            double threshold = z.OrderByDescending(e => e).ElementAt(TopK - 1), max = z.Max();
            var kept = z.Select(e => e >= threshold ? Math.Exp(e - max) : 0).ToArray();
            var p = kept.Select(e => e / kept.Sum()).ToArray();
            Close(p, probabilities[i], 1e-12, $"probabilities {i}");
            Assert.Equal(TopK, p.Count(e => e > 0));
            double u = Tensor.Rand([1], twin).Item(), running = 0;
            int expected = -1;
            for (int c = 0; c < V && expected < 0; c++) if ((running += p[c]) > u) expected = c;
            Assert.Equal(expected, tokens[prompt.Length + i]);
        }
        // the same generator seed gives the same text, whatever else draws in between
        _ = Tensor.Randn(7);
        Assert.Equal(tokens, Sample(ema, prompt, 6, new Generator(123)).Tokens);
    }
}
