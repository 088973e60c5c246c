using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The README's one-layer causal transformer (<see cref="TransformerReadme"/>) replayed step by step against a plain
/// double implementation written here: each step's loss against the reference forward pass, the accumulated gradient
/// against central differences of it, the clipping against torch's clip_grad_norm_ formula, and each AdamW update under
/// the schedule against torch's algorithm written as a loop. Then learning-rate schedules (StepLR, CosineAnnealingLR,
/// LinearLR) applied through <see cref="Optimizer.LearningRate"/>, against torch's closed forms.
/// </summary>
public class ClientSixTransformerTests
{
    const int Vocab = 6, D = 8, Heads = 2, Hidden = 16, Context = 5, Steps = 12, Warmup = 3;
    const double Peak = 0.01, Decay = 0.01;

    static double Rate(int i) => i < Warmup ? Peak * (i + 1) / Warmup : 0.5 * Peak * (1 + Math.Cos(Math.PI * (i - Warmup) / (Steps - Warmup)));

    /// <summary>One step of the training as the program took it.</summary>
    sealed record StepRecord(Parameters Before, List<(Tensor Input, Tensor Target)> Batches, double Loss, Parameters Average, Parameters Clipped, double Norm, Parameters After);

    /// <summary>The README's training with each step recorded (the model and loop are the README's, line for line).</summary>
    static List<StepRecord> Train()
    {
        var model = Parameters.Of(
            ("tok", Init.Normal([Vocab, D], seed: 1)), ("pos", Init.Normal([Context, D], seed: 2, std: 0.1)),
            ("ln1.w", Tensor.Ones(D)), ("ln1.b", Tensor.Zeros(D)),
            ("qkv", Init.XavierUniform([3 * D, D], seed: 3)), ("proj", Init.XavierUniform([D, D], seed: 4)),
            ("ln2.w", Tensor.Ones(D)), ("ln2.b", Tensor.Zeros(D)),
            ("fc1", Init.KaimingUniform([Hidden, D], seed: 5, nonlinearity: "relu")), ("fc1.b", Tensor.Zeros(Hidden)),
            ("fc2", Init.XavierUniform([D, Hidden], seed: 6)), ("fc2.b", Tensor.Zeros(D)),
            ("head", Init.XavierUniform([Vocab, D], seed: 7)));

        Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr tokens)
        {
            int n = tokens.Shape[0], t = tokens.Shape[1];
            var x = Expr.Embedding(tokens, p["tok"]) + p["pos"].Slice(0, 0, t);
            var qkv = Nn.Linear(Nn.LayerNorm(x, [D], p["ln1.w"], p["ln1.b"]), p["qkv"]).Chunk(3, -1);
            Expr Split(Expr h) => h.Reshape(n, t, Heads, D / Heads).Transpose(1, 2);
            var attended = Nn.ScaledDotProductAttention(Split(qkv[0]), Split(qkv[1]), Split(qkv[2]), isCausal: true);
            x = x + Nn.Linear(attended.Transpose(1, 2).Reshape(n, t, D), p["proj"]);
            var h = Nn.Linear(Nn.LayerNorm(x, [D], p["ln2.w"], p["ln2.b"]), p["fc1"], p["fc1.b"]).GeluTanh();
            x = x + Nn.Linear(h, p["fc2"], p["fc2.b"]);
            return Nn.Linear(x, p["head"]);
        }

        var step = Diff.CompileValueAndGrad((p, batch) => Loss.CrossEntropy(Logits(p, batch[0]).Reshape(-1, Vocab), batch[1].Reshape(-1)));
        var adamW = new AdamW(model, lr: Peak, weightDecay: Decay);
        var random = new Random(8);
        var records = new List<StepRecord>();
        for (int i = 0; i < Steps; i++)
        {
            var before = adamW.Parameters;
            var batches = new List<(Tensor, Tensor)>();
            Parameters? sum = null;
            double loss = 0;
            for (int micro = 0; micro < 2; micro++)
            {
                var starts = new[] { random.Next(Vocab), random.Next(Vocab) };
                var tokens = Tensor.FromArray(starts.SelectMany(s => Enumerable.Range(s, Context + 1).Select(j => j % Vocab)).ToArray(), 2, Context + 1);
                batches.Add((tokens[.., ..Context], tokens[.., 1..]));
                var (l, g) = step.Invoke(adamW.Parameters, tokens[.., ..Context], tokens[.., 1..]);
                loss += l.Item() / 2;
                sum = sum is null ? g : sum.Map((name, s) => s + g[name]);
            }
            var average = sum!.Map((_, s) => s / 2);
            var (clipped, norm) = Optimizer.ClipGradNorm(average, maxNorm: 1.0);
            adamW.LearningRate = Rate(i);
            adamW.Step(clipped);
            records.Add(new StepRecord(before, batches, loss, average, clipped, norm, adamW.Parameters));
        }
        return records;
    }

    // ---- the reference: the same transformer over doubles, torch's formulas written out ----

    static double[] LayerNorm(double[] x, double[] w, double[] b)
    {
        double mean = x.Average(), variance = x.Sum(a => (a - mean) * (a - mean)) / x.Length;
        return x.Select((a, i) => (a - mean) / Math.Sqrt(variance + 1e-5) * w[i] + b[i]).ToArray();
    }

    /// <summary>nn.Linear: weight [out, in] (row-major), y = W x + b.</summary>
    static double[] Linear(double[] x, double[] w, double[]? b = null)
    {
        int outputs = w.Length / x.Length;
        var y = new double[outputs];
        for (int o = 0; o < outputs; o++)
        {
            double s = b?[o] ?? 0;
            for (int i = 0; i < x.Length; i++) s += w[o * x.Length + i] * x[i];
            y[o] = s;
        }
        return y;
    }

    static double GeluTanh(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    /// <summary>The mean cross-entropy of one sequence batch: tokens [N, T] and next tokens [N, T].</summary>
    static double ReferenceLoss(IReadOnlyDictionary<string, double[]> p, double[] tokens, double[] targets, int n, int t)
    {
        int dh = D / Heads;
        double total = 0;
        for (int s = 0; s < n; s++)
        {
            var x = new double[t][];
            for (int i = 0; i < t; i++)
                x[i] = Enumerable.Range(0, D).Select(c => p["tok"][(int)tokens[s * t + i] * D + c] + p["pos"][i * D + c]).ToArray();
            var qkv = x.Select(row => Linear(LayerNorm(row, p["ln1.w"], p["ln1.b"]), p["qkv"])).ToArray();
            var merged = new double[t][];
            for (int i = 0; i < t; i++)
            {
                merged[i] = new double[D];
                for (int h = 0; h < Heads; h++)
                {
                    // causal: query i sees keys 0..i; q, k, v are the thirds of qkv, head h the slice [h·dh, (h+1)·dh)
                    var scores = Enumerable.Range(0, i + 1).Select(j =>
                        Enumerable.Range(0, dh).Sum(e => qkv[i][h * dh + e] * qkv[j][D + h * dh + e]) / Math.Sqrt(dh)).ToArray();
                    double max = scores.Max(), z = scores.Sum(a => Math.Exp(a - max));
                    for (int j = 0; j <= i; j++)
                        for (int e = 0; e < dh; e++)
                            merged[i][h * dh + e] += Math.Exp(scores[j] - max) / z * qkv[j][2 * D + h * dh + e];
                }
            }
            for (int i = 0; i < t; i++)
            {
                var projected = Linear(merged[i], p["proj"]);
                var y = x[i].Select((a, c) => a + projected[c]).ToArray();
                var hidden = Linear(LayerNorm(y, p["ln2.w"], p["ln2.b"]), p["fc1"], p["fc1.b"]).Select(GeluTanh).ToArray();
                var mlp = Linear(hidden, p["fc2"], p["fc2.b"]);
                var logits = Linear(y.Select((a, c) => a + mlp[c]).ToArray(), p["head"]);
                double max = logits.Max();
                total += max + Math.Log(logits.Sum(a => Math.Exp(a - max))) - logits[(int)targets[s * t + i]];
            }
        }
        return total / (n * t);
    }

    static Dictionary<string, double[]> Doubles(Parameters p) => p.Names.ToDictionary(name => name, name => p[name].ToDoubleArray());

    [Fact]
    public void TheReadmeShowsExactlyTheTransformerExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/TransformerReadme.cs", "### A transformer block, ported from PyTorch");

    [Fact]
    public void TheTransformerTrainsStepByStepAsThePlainDoubleImplementation()
    {
        var records = Train();
        var readme = TransformerReadme.Run();
        // the README's run is this one: same model, data and steps
        Assert.Equal(records.Select(r => r.Loss), readme.Losses);
        Assert.Equal(records[^1].After["head"].ToDoubleArray(), readme.Final["head"].ToDoubleArray());

        var names = records[0].Before.Names;
        var m = names.ToDictionary(n => n, n => new double[records[0].Before[n].Numel]);
        var v = names.ToDictionary(n => n, n => new double[records[0].Before[n].Numel]);
        for (int i = 0; i < Steps; i++)
        {
            var r = records[i];
            var before = Doubles(r.Before);
            var batches = r.Batches.Select(b => (Tokens: b.Input.ToDoubleArray(), Targets: b.Target.ToDoubleArray())).ToList();
            double Mean(IReadOnlyDictionary<string, double[]> p) => batches.Average(b => ReferenceLoss(p, b.Tokens, b.Targets, 2, Context));
            Close(Mean(before), r.Loss, 1e-12, $"step {i} loss");

            // the accumulated (averaged) gradient against central differences of the mean loss, at three steps
            if (i is 0 or 6 or Steps - 1)
                foreach (var name in names)
                {
                    var numeric = Gradient(x =>
                    {
                        var moved = new Dictionary<string, double[]>(before) { [name] = x };
                        return Mean(moved);
                    }, before[name]);
                    Close(numeric, r.Average[name].ToDoubleArray(), 1e-7, $"step {i} d{name}");
                }

            // clip_grad_norm_: the norm over every gradient, the factor min(1, maxNorm / (norm + 1e-6))
            var average = Doubles(r.Average);
            double norm = Math.Sqrt(average.Values.Sum(g => g.Sum(x => x * x)));
            Close(norm, r.Norm, 1e-13, $"step {i} norm");
            double factor = Math.Min(1, 1.0 / (norm + 1e-6));

            // torch's AdamW (single tensor): decoupled decay p ← p(1 − lr·λ), then the Adam step with bias corrections
            double lr = Rate(i);
            int t = i + 1;
            foreach (var name in names)
            {
                var p = before[name];
                var g = average[name].Select(x => x * factor).ToArray();
                Close(g, r.Clipped[name].ToDoubleArray(), 1e-13, $"step {i} clipped {name}");
                var expected = new double[p.Length];
                for (int k = 0; k < p.Length; k++)
                {
                    m[name][k] = 0.9 * m[name][k] + 0.1 * g[k];
                    v[name][k] = 0.999 * v[name][k] + 0.001 * g[k] * g[k];
                    double denominator = Math.Sqrt(v[name][k]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-8;
                    expected[k] = p[k] * (1 - lr * Decay) - lr / (1 - Math.Pow(0.9, t)) * m[name][k] / denominator;
                }
                Close(expected, r.After[name].ToDoubleArray(), 1e-12, $"step {i} {name}");
            }
        }
        // it learns: the toy language is deterministic given the first token, so the loss falls well below log 6
        Assert.True(records[^1].Loss < 0.75 * records[0].Loss, $"loss {records[0].Loss} -> {records[^1].Loss}");
    }

    // ---- the sequence form of cross-entropy ----

    /// <summary>
    /// torch's K-dimensional cross_entropy, <c>F.cross_entropy(logits.transpose(1, 2), targets)</c> for a sequence model:
    /// logits [N, C, T] against class indices [N, T] (or probabilities [N, C, T]), every position an example; Mean over
    /// the positions kept, None per position. It was refused ("logits need rank 2"). Checked against the loop of torch's
    /// formula, −(1 − ε)·log p[target] − ε·mean_c log p_c, and the gradient against central differences.
    /// </summary>
    [Fact]
    public void CrossEntropyTakesTorchsSequenceForm()
    {
        const int n = 2, c = 4, t = 3;
        var x = Values(n * c * t, 3);
        int[] targets = { 0, 3, 1, 2, -100, 3 };
        const double smoothing = 0.1;
        double[] PerPosition(double[] logits, double eps, bool probabilities)
        {
            var losses = new double[n * t];
            for (int b = 0; b < n; b++)
                for (int j = 0; j < t; j++)
                {
                    var column = Enumerable.Range(0, c).Select(k => logits[(b * c + k) * t + j]).ToArray();
                    double m = column.Max(), logZ = m + Math.Log(column.Sum(a => Math.Exp(a - m)));
                    var logP = column.Select(a => a - logZ).ToArray();
                    if (probabilities)   // soft targets: a fixed distribution per position
                        losses[b * t + j] = -Enumerable.Range(0, c).Sum(k => Soft(b, k, j) * logP[k]);
                    else
                    {
                        int target = targets[b * t + j];
                        losses[b * t + j] = target < 0 ? 0 : -(1 - eps) * logP[target] - eps * logP.Average();
                    }
                }
            return losses;
        }
        double Soft(int b, int k, int j) => (1.0 + k + b + j) / (c * (c + 1) / 2.0 + c * (b + j));
        var logitsTensor = Tensor.FromArray(x, n, c, t);
        var targetTensor = Tensor.FromArray(targets, n, t);
        double kept = targets.Count(v => v >= 0);

        var none = Loss.CrossEntropy(logitsTensor, targetTensor, Reduction.None, smoothing, ignoreIndex: -100).Eval();
        Assert.Equal(new[] { n, t }, none.Shape);
        Close(PerPosition(x, smoothing, false), none.ToDoubleArray(), 1e-14, "none");
        Close(PerPosition(x, smoothing, false).Sum() / kept,
            Loss.CrossEntropy(logitsTensor, targetTensor, labelSmoothing: smoothing, ignoreIndex: -100).Eval().ToScalar(), 1e-14, "mean");
        Close(PerPosition(x, smoothing, false).Sum(),
            Loss.CrossEntropy(logitsTensor, targetTensor, Reduction.Sum, smoothing, ignoreIndex: -100).Eval().ToScalar(), 1e-14, "sum");
        Close(PerPosition(x, 0, false).Sum() / kept,
            Loss.NllLoss(((Expr)logitsTensor).LogSoftmax(1), targetTensor, ignoreIndex: -100).Eval().ToScalar(), 1e-14, "nll");

        var soft = new double[n * c * t];
        for (int b = 0; b < n; b++)
            for (int k = 0; k < c; k++)
                for (int j = 0; j < t; j++)
                    soft[(b * c + k) * t + j] = Soft(b, k, j);
        Close(PerPosition(x, 0, true).Average(), Loss.CrossEntropy(logitsTensor, Tensor.FromArray(soft, n, c, t)).Eval().ToScalar(), 1e-14, "probabilities");

        var gradient = Diff.Grad(l => Loss.CrossEntropy(l, targetTensor, labelSmoothing: smoothing, ignoreIndex: -100))(logitsTensor).Eval();
        Close(Gradient(v => PerPosition(v, smoothing, false).Sum() / kept, x), gradient.ToDoubleArray(), 1e-8, "gradient");

        var e = Assert.ThrowsAny<ArgumentException>(() => Loss.CrossEntropy(logitsTensor, Tensor.Zeros(n, c)));
        Assert.StartsWith("CrossEntropy: ", e.Message);
        Assert.Contains("[2,3]", e.Message);
    }

    // ---- initialisation as torch.nn.init computes it ----

    /// <summary>
    /// torch.nn.init's formulas: fans from the layout [out, in, kernel...] (fan_in = in·k, fan_out = out·k), the gain
    /// table (relu √2, tanh 5/3, leaky_relu √(2/(1 + a²))), xavier bound gain·√(6/(fan_in + fan_out)) and std
    /// gain·√(2/(fan_in + fan_out)), kaiming bound gain·√(3/fan) and std gain/√fan, and nn.Linear's default
    /// kaiming_uniform(a = √5), whose bound is 1/√fan_in. Checked by the sample extremes and variance of 48,000 draws
    /// (a uniform's variance is bound²/3; the bands are 5%, several standard errors wide).
    /// </summary>
    [Fact]
    public void InitialisersAreTorchNnInitsFormulas()
    {
        int[] conv = [40, 30, 2, 20];   // fan_in 30·40 = 1200, fan_out 40·40 = 1600
        const double fanIn = 1200, fanOut = 1600;
        void Uniform(Tensor t, double bound, string what)
        {
            var x = t.ToDoubleArray();
            double variance = x.Sum(a => a * a) / x.Length;
            Assert.True(x.Max() <= bound && x.Min() >= -bound && x.Max() > 0.99 * bound && x.Min() < -0.99 * bound, $"{what}: range");
            Assert.InRange(variance, 0.95 * bound * bound / 3, 1.05 * bound * bound / 3);
        }
        void Normal(Tensor t, double std, string what)
        {
            var x = t.ToDoubleArray();
            Assert.InRange(x.Sum(a => a * a) / x.Length, 0.95 * std * std, 1.05 * std * std);
        }
        double relu = Math.Sqrt(2), tanh = 5.0 / 3;
        Assert.Equal(relu, Init.Gain("relu"), 15);
        Assert.Equal(tanh, Init.Gain("tanh"), 15);
        Uniform(Init.XavierUniform(conv, seed: 1, gain: Init.Gain("relu")), relu * Math.Sqrt(6 / (fanIn + fanOut)), "xavier_uniform relu");
        Normal(Init.XavierNormal(conv, seed: 2, gain: Init.Gain("tanh")), tanh * Math.Sqrt(2 / (fanIn + fanOut)), "xavier_normal tanh");
        Uniform(Init.KaimingUniform(conv, seed: 3, mode: FanMode.FanOut, nonlinearity: "tanh"), tanh * Math.Sqrt(3 / fanOut), "kaiming_uniform fan_out tanh");
        Normal(Init.KaimingNormal(conv, seed: 4, nonlinearity: "relu"), relu / Math.Sqrt(fanIn), "kaiming_normal fan_in relu");
        Normal(Init.KaimingNormal(conv, seed: 5, mode: FanMode.FanOut, nonlinearity: "relu"), relu / Math.Sqrt(fanOut), "kaiming_normal fan_out relu");
        Uniform(Init.KaimingUniform([48000 / 25, 25], seed: 6, a: Math.Sqrt(5)), 1 / Math.Sqrt(25), "nn.Linear's default");
    }

    /// <summary>
    /// torch's parameter groups, AdamW with decay on the weights and none on biases and norms (GPT training's usual
    /// split): two optimizers over disjoint <see cref="Parameters"/>, each stepped with its own gradients, merged for the
    /// compiled step. Against torch's AdamW as a loop, where the group without decay is plain Adam.
    /// </summary>
    [Fact]
    public void ParameterGroupsAreTwoOptimizersOverDisjointParameters()
    {
        var model = Parameters.Of(("w", T([3, 2])), ("b", T([3], 1)));
        var step = Diff.CompileValueAndGrad((p, d) => (Nn.Linear(d[0], p["w"], p["b"]) - d[1]).Square().Sum());
        var x = T([4, 2], 2);
        var y = T([4, 3], 3);
        var decayed = new AdamW(Parameters.Of(model.Where(kv => kv.Key == "w")), lr: 0.05, weightDecay: 0.1);
        var plain = new AdamW(Parameters.Of(model.Where(kv => kv.Key == "b")), lr: 0.05, weightDecay: 0.0);
        var reference = Doubles(model);
        var m = reference.ToDictionary(kv => kv.Key, kv => new double[kv.Value.Length]);
        var v = reference.ToDictionary(kv => kv.Key, kv => new double[kv.Value.Length]);
        for (int t = 1; t <= 4; t++)
        {
            var parameters = Parameters.Of(decayed.Parameters.Concat(plain.Parameters));
            var (_, g) = step.Invoke(parameters, x, y);
            var gradients = Doubles(g);
            decayed.Step(Parameters.Of(g.Where(kv => decayed.Parameters.ContainsKey(kv.Key))));
            plain.Step(Parameters.Of(g.Where(kv => plain.Parameters.ContainsKey(kv.Key))));
            foreach (var (name, decay) in new[] { ("w", 0.1), ("b", 0.0) })
            {
                var p = reference[name];
                for (int k = 0; k < p.Length; k++)
                {
                    double gk = gradients[name][k];
                    p[k] *= 1 - 0.05 * decay;
                    m[name][k] = 0.9 * m[name][k] + 0.1 * gk;
                    v[name][k] = 0.999 * v[name][k] + 0.001 * gk * gk;
                    p[k] -= 0.05 / (1 - Math.Pow(0.9, t)) * m[name][k] / (Math.Sqrt(v[name][k]) / Math.Sqrt(1 - Math.Pow(0.999, t)) + 1e-8);
                }
            }
            Close(reference["w"], decayed.Parameters["w"].ToDoubleArray(), 1e-12, $"w step {t}");
            Close(reference["b"], plain.Parameters["b"].ToDoubleArray(), 1e-12, $"b step {t}");
        }
        // stepping one group with every gradient names the stranger
        var e = Assert.ThrowsAny<ArgumentException>(() => decayed.Step(step.Invoke(model, x, y).Gradients));
        Assert.Contains("'b' names no parameter", e.Message);
    }

    // ---- learning-rate schedules through LearningRate ----

    public static TheoryData<string> Schedules() => new() { "StepLR", "CosineAnnealingLR", "LinearLR" };

    /// <summary>
    /// torch's schedulers set the param group's lr before each step; here <see cref="Optimizer.LearningRate"/> is that
    /// assignment, keeping the optimizer's state. Closed forms (torch's documentation): StepLR lr·γ^⌊t/s⌋,
    /// CosineAnnealingLR η_min + (lr − η_min)(1 + cos(πt/T))/2, LinearLR lr·(f₀ + (1 − f₀)·min(t, T)/T). Each drives SGD
    /// with momentum, AdamW (whose decay takes the current lr) and Adam with L2 decay (added to the gradient), each
    /// against torch's algorithm written as a loop over the same gradients.
    /// </summary>
    [Theory]
    [MemberData(nameof(Schedules))]
    public void SchedulesSetThroughLearningRateAreTorchsSchedulers(string schedule)
    {
        const double lr = 0.1;
        double At(int t) => schedule switch
        {
            "StepLR" => lr * Math.Pow(0.5, t / 3),                                   // step_size 3, gamma 0.5
            "CosineAnnealingLR" => 0.001 + (lr - 0.001) * (1 + Math.Cos(Math.PI * t / 8)) / 2,   // T_max 8, eta_min 1e-3
            _ => lr * (0.25 + 0.75 * Math.Min(t, 4) / 4.0),                           // start_factor 0.25, total_iters 4
        };
        var p0 = Values(5, 1);
        // a gradient that depends on the parameters: that of Σ (p − c)⁴ / 4, so the paths of the optimizers differ
        var c = Values(5, 2);
        double[] GradientAt(double[] p) => p.Select((x, k) => Math.Pow(x - c[k], 3)).ToArray();

        var sgd = new Sgd(Parameters.Of(("w", Tensor.FromArray(p0))), lr: lr, momentum: 0.9);
        var adamW = new AdamW(Parameters.Of(("w", Tensor.FromArray(p0))), lr: lr, weightDecay: 0.1);
        var adam = new Adam(Parameters.Of(("w", Tensor.FromArray(p0))), lr: lr, weightDecay: 0.1);
        double[] sgdP = (double[])p0.Clone(), adamWP = (double[])p0.Clone(), adamP = (double[])p0.Clone();
        double[] buffer = new double[5], mW = new double[5], vW = new double[5], mA = new double[5], vA = new double[5];
        for (int t = 0; t < 10; t++)
        {
            double rate = At(t);
            foreach (var o in new Optimizer[] { sgd, adamW, adam }) o.LearningRate = rate;
            sgd.Step(Parameters.Of(("w", Tensor.FromArray(GradientAt(sgd.Parameters["w"].ToDoubleArray())))));
            adamW.Step(Parameters.Of(("w", Tensor.FromArray(GradientAt(adamW.Parameters["w"].ToDoubleArray())))));
            adam.Step(Parameters.Of(("w", Tensor.FromArray(GradientAt(adam.Parameters["w"].ToDoubleArray())))));

            var g = GradientAt(sgdP);   // SGD: buf = μ·buf + g (buf = g at the first step), p −= lr·buf
            for (int k = 0; k < 5; k++)
            {
                buffer[k] = t == 0 ? g[k] : 0.9 * buffer[k] + g[k];
                sgdP[k] -= rate * buffer[k];
            }
            double c1 = 1 - Math.Pow(0.9, t + 1), c2 = Math.Sqrt(1 - Math.Pow(0.999, t + 1));
            g = GradientAt(adamWP);     // AdamW: p ← p(1 − lr·λ) first, the moments of the plain gradient
            for (int k = 0; k < 5; k++)
            {
                adamWP[k] *= 1 - rate * 0.1;
                mW[k] = 0.9 * mW[k] + 0.1 * g[k];
                vW[k] = 0.999 * vW[k] + 0.001 * g[k] * g[k];
                adamWP[k] -= rate / c1 * mW[k] / (Math.Sqrt(vW[k]) / c2 + 1e-8);
            }
            g = GradientAt(adamP);      // Adam with L2: g + λp enters the moments
            for (int k = 0; k < 5; k++)
            {
                double gk = g[k] + 0.1 * adamP[k];
                mA[k] = 0.9 * mA[k] + 0.1 * gk;
                vA[k] = 0.999 * vA[k] + 0.001 * gk * gk;
                adamP[k] -= rate / c1 * mA[k] / (Math.Sqrt(vA[k]) / c2 + 1e-8);
            }
            Close(sgdP, sgd.Parameters["w"].ToDoubleArray(), 1e-12, $"{schedule} SGD step {t}");
            Close(adamWP, adamW.Parameters["w"].ToDoubleArray(), 1e-12, $"{schedule} AdamW step {t}");
            Close(adamP, adam.Parameters["w"].ToDoubleArray(), 1e-12, $"{schedule} Adam L2 step {t}");
        }
        // decoupled decay and L2 decay are different algorithms
        Assert.True(adamWP.Zip(adamP, (a, b) => Math.Abs(a - b)).Max() > 1e-4);
    }
}
