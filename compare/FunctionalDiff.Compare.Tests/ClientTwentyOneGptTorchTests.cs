using FunctionalDiff.Compare.Train;
using TorchSharp;
using TorchSharp.Modules;
using Xunit;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// A PyTorch user's small GPT (nanoGPT's layout): token and learned position embeddings, two pre-LN blocks of causal
/// multi-head self-attention and a GELU MLP, a final LayerNorm, and the output head tied to the token embedding
/// (<c>lm_head.weight = wte.weight</c>). Trained as nanoGPT trains it: AdamW with betas (0.9, 0.95) in two parameter
/// groups (weight decay on the matrices, none on biases and LayerNorm weights), a learning rate with linear warmup and
/// cosine decay, and <c>clip_grad_norm_</c>. Ours is a compiled value-and-gradient step with
/// <see cref="Optimizer.ClipGradNorm(Parameters, double, double)"/> and two <see cref="AdamW"/>s; torch's is the same
/// model written with TorchSharp's functional ops (attention spelled out with a −∞ mask), its autograd,
/// <c>torch.nn.utils.clip_grad_norm_</c> and <c>torch.optim.AdamW</c>, from the same starting weights. Every step
/// compares the loss, every gradient, the norm before clipping and every parameter after the update.
/// </summary>
public class ClientTwentyOneGptTorchTests
{
    const int V = 13, T = 6, E = 8, Heads = 2, Layers = 2, Batch = 3, Steps = 5, Warmup = 2;
    const double MaxLr = 3e-3, MinLr = 3e-4, WeightDecay = 0.1, MaxNorm = 0.5;
    static readonly int[] Text = [1, 4, 2, 9, 0, 12, 3, 3, 7, 5, 11, 8, 6, 2, 10, 4, 1, 0, 9, 12, 5, 7, 3, 6, 8, 11, 2, 4];

    static double[] Values(int n, int salt) => Enumerable.Range(0, n).Select(i => Math.Sin(0.37 * i + 1.3 * salt)).ToArray();

    /// <summary>nanoGPT's parameter names and shapes (torch's Linear layout [out, in]); no lm_head: it is wte.</summary>
    static (string Name, int[] Shape)[] Layout()
    {
        var layout = new List<(string, int[])> { ("wte", [V, E]), ("wpe", [T, E]) };
        for (int l = 0; l < Layers; l++)
            layout.AddRange([
                ($"h.{l}.ln_1.weight", [E]), ($"h.{l}.ln_1.bias", [E]),
                ($"h.{l}.attn.c_attn.weight", [3 * E, E]), ($"h.{l}.attn.c_attn.bias", [3 * E]),
                ($"h.{l}.attn.c_proj.weight", [E, E]), ($"h.{l}.attn.c_proj.bias", [E]),
                ($"h.{l}.ln_2.weight", [E]), ($"h.{l}.ln_2.bias", [E]),
                ($"h.{l}.mlp.c_fc.weight", [4 * E, E]), ($"h.{l}.mlp.c_fc.bias", [4 * E]),
                ($"h.{l}.mlp.c_proj.weight", [E, 4 * E]), ($"h.{l}.mlp.c_proj.bias", [E])]);
        layout.AddRange([("ln_f.weight", [E]), ("ln_f.bias", [E])]);
        return layout.ToArray();
    }

    static Parameters Start(DType dtype) => Parameters.Of(Layout().Select((e, k) =>
    {
        var v = Values(e.Shape.Aggregate(1, (a, b) => a * b), k + 1);
        // LayerNorm weights near 1, the rest small, as an initialised GPT
        var scaled = e.Name.Contains(".ln_") || e.Name.StartsWith("ln_") ? v.Select(x => e.Name.EndsWith("weight") ? 1 + 0.1 * x : 0.05 * x) : v.Select(x => 0.3 * x);
        return (e.Name, Tensor.FromArray(scaled.ToArray(), e.Shape).To(dtype));
    }).ToArray());

    /// <summary>The user's model: logits [B, t, V] of token ids [B, t] held in a float tensor.</summary>
    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr idx)
    {
        int b = idx.Shape[0], t = idx.Shape[1], d = E / Heads;
        var x = Nn.Embedding(idx, p["wte"]) + p["wpe"].Narrow(0, 0, t);
        Expr SplitHeads(Expr z) => z.Reshape(b, t, Heads, d).Transpose(1, 2);                 // [B, H, t, d]
        for (int l = 0; l < Layers; l++)
        {
            string h = $"h.{l}.";
            var a = Nn.LayerNorm(x, [E], p[h + "ln_1.weight"], p[h + "ln_1.bias"]);
            var qkv = Nn.Linear(a, p[h + "attn.c_attn.weight"], p[h + "attn.c_attn.bias"]).Split(E, 2);
            var y = Nn.ScaledDotProductAttention(SplitHeads(qkv[0]), SplitHeads(qkv[1]), SplitHeads(qkv[2]), isCausal: true);
            y = y.Transpose(1, 2).Reshape(b, t, E);
            x = x + Nn.Linear(y, p[h + "attn.c_proj.weight"], p[h + "attn.c_proj.bias"]);
            var m = Nn.Linear(Nn.LayerNorm(x, [E], p[h + "ln_2.weight"], p[h + "ln_2.bias"]), p[h + "mlp.c_fc.weight"], p[h + "mlp.c_fc.bias"]);
            x = x + Nn.Linear(m.Gelu(), p[h + "mlp.c_proj.weight"], p[h + "mlp.c_proj.bias"]);
        }
        x = Nn.LayerNorm(x, [E], p["ln_f.weight"], p["ln_f.bias"]);
        return Nn.Linear(x, p["wte"]);                                                         // tied head: x @ wte.T
    }

    /// <summary>nanoGPT's get_lr: linear warmup to MaxLr, then cosine decay to MinLr at the last step.</summary>
    static double LearningRate(int step) =>
        step < Warmup ? MaxLr * (step + 1) / Warmup
        : MinLr + 0.5 * (MaxLr - MinLr) * (1 + Math.Cos(Math.PI * (step - Warmup) / (Steps - Warmup)));

    /// <summary>Step i's batch: windows of T + 1 tokens, inputs and next-token targets, as doubles [Batch, T].</summary>
    static (double[] Inputs, double[] Targets) BatchOf(int step)
    {
        var starts = Enumerable.Range(0, Batch).Select(r => (5 * step + 7 * r) % (Text.Length - T)).ToArray();
        return (starts.SelectMany(s => Text[s..(s + T)].Select(v => (double)v)).ToArray(),
                starts.SelectMany(s => Text[(s + 1)..(s + T + 1)].Select(v => (double)v)).ToArray());
    }

    /// <summary>The same model in TorchSharp's functional ops, over torch parameters by name.</summary>
    static TT TorchLoss(IReadOnlyDictionary<string, TT> p, TT idx, TT targets)
    {
        long b = idx.shape[0], t = idx.shape[1], d = E / Heads;
        var x = p["wte"].index_select(0, idx.reshape(-1)).reshape(b, t, E) + p["wpe"].narrow(0, 0, t);
        var causal = torch.ones(t, t, dtype: ScalarType.Bool).tril();
        TT Heads_(TT z) => z.reshape(b, t, Heads, d).transpose(1, 2);
        for (int l = 0; l < Layers; l++)
        {
            string h = $"h.{l}.";
            var a = nn.functional.layer_norm(x, [E], p[h + "ln_1.weight"], p[h + "ln_1.bias"], 1e-5);
            var qkv = nn.functional.linear(a, p[h + "attn.c_attn.weight"], p[h + "attn.c_attn.bias"]).split(E, 2);
            var (q, k, v) = (Heads_(qkv[0]), Heads_(qkv[1]), Heads_(qkv[2]));
            var scores = q.matmul(k.transpose(-2, -1)) / Math.Sqrt(d);
            var y = scores.masked_fill(causal.logical_not(), double.NegativeInfinity).softmax(-1).matmul(v);
            y = y.transpose(1, 2).reshape(b, t, E);
            x = x + nn.functional.linear(y, p[h + "attn.c_proj.weight"], p[h + "attn.c_proj.bias"]);
            var m = nn.functional.linear(nn.functional.layer_norm(x, [E], p[h + "ln_2.weight"], p[h + "ln_2.bias"], 1e-5),
                p[h + "mlp.c_fc.weight"], p[h + "mlp.c_fc.bias"]);
            x = x + nn.functional.linear(nn.functional.gelu(m), p[h + "mlp.c_proj.weight"], p[h + "mlp.c_proj.bias"]);
        }
        x = nn.functional.layer_norm(x, [E], p["ln_f.weight"], p["ln_f.bias"], 1e-5);
        var logits = x.matmul(p["wte"].t());
        return nn.functional.cross_entropy(logits.reshape(-1, V), targets.reshape(-1));
    }

    static Tensor Ids(double[] values, DType dtype) => Tensor.FromArray(values, Batch, T).To(dtype);

    [Fact]
    public void TrainingStepsWithWarmupCosineAdamWAndClippingAreTorchs()
    {
        using var scope = torch.NewDisposeScope();
        var start = Start(DType.Float64);

        // ours: the compiled step, clipping, two AdamW groups, the schedule set before each step
        var step = Diff.CompileValueAndGrad((p, batch) => Loss.CrossEntropy(Logits(p, batch[0]).Reshape(-1, V), batch[1].Reshape(-1)));
        var decayed = new AdamW(Parameters.Of(start.Where(kv => kv.Value.Rank >= 2)), MaxLr, (0.9, 0.95), weightDecay: WeightDecay);
        var plain = new AdamW(Parameters.Of(start.Where(kv => kv.Value.Rank < 2)), MaxLr, (0.9, 0.95), weightDecay: 0.0);
        var ours = start;

        // torch's: leaves from the same weights, optim.AdamW per group, clip_grad_norm_
        var leaves = start.ToDictionary(kv => kv.Key, kv => new Parameter(TorchBridge.ToTorch(kv.Value), requires_grad: true));
        var torchDecayed = torch.optim.AdamW(leaves.Where(kv => kv.Value.dim() >= 2).Select(kv => kv.Value), MaxLr, 0.9, 0.95, 1e-8, WeightDecay);
        var torchPlain = torch.optim.AdamW(leaves.Where(kv => kv.Value.dim() < 2).Select(kv => kv.Value), MaxLr, 0.9, 0.95, 1e-8, 0.0);

        const double tolerance = 1e-10;
        int clippedSteps = 0;
        for (int i = 0; i < Steps; i++)
        {
            var (inputs, targets) = BatchOf(i);
            var (loss, gradients) = step.Invoke(ours, Ids(inputs, DType.Float64), Ids(targets, DType.Float64));
            var (clipped, norm) = Optimizer.ClipGradNorm(gradients, MaxNorm);
            decayed.LearningRate = plain.LearningRate = LearningRate(i);
            decayed.Step(Parameters.Of(clipped.Where(kv => decayed.Parameters.ContainsKey(kv.Key))));
            plain.Step(Parameters.Of(clipped.Where(kv => plain.Parameters.ContainsKey(kv.Key))));
            var before = ours;
            ours = Parameters.Of(decayed.Parameters.Concat(plain.Parameters));

            torchDecayed.zero_grad();
            torchPlain.zero_grad();
            var torchLoss = TorchLoss(leaves.ToDictionary(kv => kv.Key, kv => (TT)kv.Value),
                torch.tensor(inputs.Select(v => (long)v).ToArray()).reshape(Batch, T),
                torch.tensor(targets.Select(v => (long)v).ToArray()).reshape(Batch, T));
            torchLoss.backward();
            var torchGradients = leaves.ToDictionary(kv => kv.Key, kv => TorchBridge.Values(kv.Value.grad!));
            double torchNorm = torch.nn.utils.clip_grad_norm_(leaves.Values, MaxNorm);
            foreach (var group in new[] { torchDecayed, torchPlain })
                foreach (var g in group.ParamGroups) g.LearningRate = LearningRate(i);
            torchDecayed.step();
            torchPlain.step();

            Assert.True(Math.Abs(loss.ToScalar() - torchLoss.item<double>()) <= tolerance * Math.Abs(torchLoss.item<double>()), $"step {i}: loss");
            Assert.True(Math.Abs(norm - torchNorm) <= tolerance * torchNorm, $"step {i}: gradient norm {norm} against {torchNorm}");
            if (norm > MaxNorm) clippedSteps++;
            foreach (var (name, _) in Layout())
            {
                Assert.True(TorchBridge.TensorRelative(gradients[name].ToDoubleArray(), torchGradients[name]) <= tolerance,
                    $"step {i}: gradient of {name}: {TorchBridge.TensorRelative(gradients[name].ToDoubleArray(), torchGradients[name])}");
                Assert.True(TorchBridge.TensorRelative(ours[name].ToDoubleArray(), TorchBridge.Values(leaves[name])) <= tolerance,
                    $"step {i}: {name} after the update: {TorchBridge.TensorRelative(ours[name].ToDoubleArray(), TorchBridge.Values(leaves[name]))}");
                Assert.False(ours[name].AllClose(before[name], 0, 0), $"step {i}: {name} moved");
            }
        }
        // the runs exercise the clipping: the global norm exceeds MaxNorm at least once, so the factor is below 1
        Assert.True(clippedSteps > 0, "no step clipped");
    }

    [Theory]
    [InlineData(DType.Float64, 1e-12)]
    [InlineData(DType.Float32, 2e-5)]
    public void LossAndGradientsAreTorchsForTheSameWeights(DType dtype, double tolerance)
    {
        using var scope = torch.NewDisposeScope();
        var weights = Start(dtype);
        var (inputs, targets) = BatchOf(3);
        var (loss, gradients) = Diff.ValueAndGrad(p => Loss.CrossEntropy(Logits(p, Ids(inputs, dtype)).Reshape(-1, V), Ids(targets, dtype).Reshape(-1)), weights);
        var values = Expr.EvalMany([loss, .. Layout().Select(e => gradients[e.Name])]);

        var leaves = weights.ToDictionary(kv => kv.Key, kv => TorchBridge.ToTorch(kv.Value).requires_grad_(true));
        var torchLoss = TorchLoss(leaves, torch.tensor(inputs.Select(v => (long)v).ToArray()).reshape(Batch, T),
            torch.tensor(targets.Select(v => (long)v).ToArray()).reshape(Batch, T));
        var names = Layout().Select(e => e.Name).ToArray();
        var torchGradients = torch.autograd.grad([torchLoss], names.Select(n => leaves[n]).ToArray());

        Assert.True(TorchBridge.TensorRelative(values[0].ToDoubleArray(), TorchBridge.Values(torchLoss)) <= tolerance, "loss");
        for (int k = 0; k < names.Length; k++)
            Assert.True(TorchBridge.TensorRelative(values[k + 1].ToDoubleArray(), TorchBridge.Values(torchGradients[k])) <= tolerance,
                $"{dtype}: gradient of {names[k]}: {TorchBridge.TensorRelative(values[k + 1].ToDoubleArray(), TorchBridge.Values(torchGradients[k]))}");
    }
}
