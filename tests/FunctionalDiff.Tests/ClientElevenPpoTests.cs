using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// PPO's clipped surrogate objective ported from PyTorch as a user writes it: a linear policy and critic over a rollout of
/// T steps, GAE advantages by a reverse loop over rewards, values and dones written with tensor ops (then normalised with
/// torch's unbiased std), ratio = exp(logp_new − logp_old), −mean(min(ratio·A, clamp(ratio, 1 − ε, 1 + ε)·A)) plus the
/// value loss minus an entropy bonus from a Categorical. Held to the same objective written as plain C# loops and to its
/// central differences in float64, at a point away from the clamp's corners; the compiled step to the uncompiled one.
/// </summary>
public class ClientElevenPpoTests
{
    const int Steps = 6, Obs = 3, Actions = 3;
    const double Gamma = 0.9, Lambda = 0.8, ClipEps = 0.2, ValueCoef = 0.5, EntropyCoef = 0.01;

    static readonly (string Name, int[] Shape)[] Layout =
        [("pi.weight", [Actions, Obs]), ("pi.bias", [Actions]), ("v.weight", [1, Obs]), ("v.bias", [1])];

    static Parameters Model() => Parameters.Of(Layout.Select((e, i) => (e.Name, 0.7 * T(e.Shape, 10 + i))).ToArray());

    static readonly Tensor Observations = T([Steps, Obs], 1);
    static readonly double[] ActionsTaken = [0, 2, 1, 1, 0, 2];
    static readonly double[] Rewards = [1.0, 0.0, -0.5, 1.0, 0.3, 0.0];
    static readonly double[] Dones = [0, 0, 1, 0, 0, 1];                  // two episodes end inside the rollout
    static readonly double[] OldValues = [0.2, 0.5, -0.1, 0.4, 0.0, 0.3, 0.6];   // V(s_0..s_T), the last to bootstrap
    // log π_old(a|s) = log π(a|s) at the model's parameters minus these, so the ratios are e^offset: some inside
    // [1 − ε, 1 + ε], some beyond it on either side, none within 0.05 of a corner
    static readonly double[] Offsets = [-0.5, 0.05, -0.4, 0.3, -0.02, 0.6];

    // ---- what a torch user writes ----

    // advantages[t] = δ_t + γλ(1 − done_t)·advantages[t + 1], the reverse loop over tensors (torch users write it
    // with a Python loop over rows and torch.stack)
    static (Expr Advantages, Expr Returns) Gae(Expr rewards, Expr values, Expr dones)
    {
        var notDone = 1 - dones;
        var deltas = rewards + Gamma * values.Slice(0, 1, Steps + 1) * notDone - values.Slice(0, 0, Steps);
        var advantages = new Expr[Steps];
        Expr next = Expr.Zeros(1);
        for (int t = Steps - 1; t >= 0; t--)
        {
            next = deltas.Slice(0, t, t + 1) + Gamma * Lambda * notDone.Slice(0, t, t + 1) * next;
            advantages[t] = next;
        }
        var a = Expr.Cat(advantages);
        return (a, a + values.Slice(0, 0, Steps));
    }

    static Expr PpoLoss(IReadOnlyDictionary<string, Expr> p, Expr obs, Expr actions, Expr oldLogProb, Expr rewards, Expr values, Expr dones)
    {
        var (advantages, returns) = Gae(rewards, values, dones);
        advantages = (advantages - advantages.Mean()) / (advantages.Std() + 1e-8);
        var logits = Nn.Linear(obs, p["pi.weight"], p["pi.bias"]);
        var logProb = Distributions.CategoricalLogProb(logits, actions);
        var ratio = (logProb - oldLogProb).Exp();
        var surrogate = Expr.Minimum(ratio * advantages, ratio.Clamp(1 - ClipEps, 1 + ClipEps) * advantages);
        var value = Nn.Linear(obs, p["v.weight"], p["v.bias"]).Squeeze(-1);
        var entropy = Distributions.CategoricalEntropy(logits);
        return -surrogate.Mean() + ValueCoef * Loss.Mse(value, returns) - EntropyCoef * entropy.Mean();
    }

    // ---- the same objective as plain loops ----

    static double[] GaeRef()
    {
        var a = new double[Steps];
        double next = 0;
        for (int t = Steps - 1; t >= 0; t--)
        {
            double delta = Rewards[t] + Gamma * OldValues[t + 1] * (1 - Dones[t]) - OldValues[t];
            next = delta + Gamma * Lambda * (1 - Dones[t]) * next;
            a[t] = next;
        }
        return a;
    }

    static double[] LogSoftmaxRow(double[] z)
    {
        double m = z.Max(), s = Math.Log(z.Sum(v => Math.Exp(v - m))) + m;
        return z.Select(v => v - s).ToArray();
    }

    static double LossRef(double[] flat, double[] oldLogProb, double shift = 0)
    {
        var p = Unflatten(Layout, flat);
        var advantages = GaeRef();
        double mean = advantages.Average();
        double std = Math.Sqrt(advantages.Sum(v => (v - mean) * (v - mean)) / (Steps - 1));
        var normalised = advantages.Select(v => (v - mean) / (std + 1e-8)).ToArray();
        double surrogate = 0, valueLoss = 0, entropy = 0;
        var obs = Observations.ToDoubleArray().Select(v => v + shift).ToArray();
        for (int t = 0; t < Steps; t++)
        {
            var o = obs[(t * Obs)..((t + 1) * Obs)];
            var logp = LogSoftmaxRow(Linear(o, 1, Obs, Actions, p["pi.weight"], p["pi.bias"]));
            double ratio = Math.Exp(logp[(int)ActionsTaken[t]] - oldLogProb[t]);
            double clipped = Math.Clamp(ratio, 1 - ClipEps, 1 + ClipEps);
            surrogate += Math.Min(ratio * normalised[t], clipped * normalised[t]);
            double v = Linear(o, 1, Obs, 1, p["v.weight"], p["v.bias"])[0];
            double target = advantages[t] + OldValues[t];
            valueLoss += (v - target) * (v - target);
            entropy += -logp.Sum(l => Math.Exp(l) * l);
        }
        return -surrogate / Steps + ValueCoef * valueLoss / Steps - EntropyCoef * entropy / Steps;
    }

    static double[] OldLogProbRef(double[] flat)
    {
        var p = Unflatten(Layout, flat);
        var obs = Observations.ToDoubleArray();
        return Enumerable.Range(0, Steps).Select(t =>
            LogSoftmaxRow(Linear(obs[(t * Obs)..((t + 1) * Obs)], 1, Obs, Actions, p["pi.weight"], p["pi.bias"]))[(int)ActionsTaken[t]] - Offsets[t]).ToArray();
    }

    static Tensor V(double[] values) => Tensor.FromArray(values);

    // the same loop the way a torch user indexes it: rewards[t] (Row, rank 0), a list of 0-d advantages, torch.stack
    static Expr GaeByRows(Expr rewards, Expr values, Expr dones)
    {
        var advantages = new Expr[Steps];
        Expr next = 0.0;
        for (int t = Steps - 1; t >= 0; t--)
        {
            var notDone = 1 - dones.Row(t);
            var delta = rewards.Row(t) + Gamma * values.Row(t + 1) * notDone - values.Row(t);
            next = delta + Gamma * Lambda * notDone * next;
            advantages[t] = next;
        }
        return Expr.Stack(advantages);
    }

    [Fact]
    public void GaeWrittenWithTensorOpsIsTheReverseLoop()
    {
        var (advantages, returns) = Gae(V(Rewards), V(OldValues), V(Dones));
        var expected = GaeRef();
        Close(expected, advantages.Eval().ToDoubleArray(), 1e-15, "advantages");
        Close(expected.Select((a, t) => a + OldValues[t]).ToArray(), returns.Eval().ToDoubleArray(), 1e-15, "returns");
        var byRows = GaeByRows(V(Rewards), V(OldValues), V(Dones)).Eval();
        Assert.Equal(new[] { Steps }, byRows.Shape);
        Close(expected, byRows.ToDoubleArray(), 1e-15, "by rows");
    }

    // JAX's way: lax.scan(step, 0.0, (deltas, not_done), reverse=True), each advantage stored at its own step
    static Expr GaeByScan(Expr rewards, Expr values, Expr dones)
    {
        var notDone = 1 - dones;
        var deltas = rewards + Gamma * values.Slice(0, 1, Steps + 1) * notDone - values.Slice(0, 0, Steps);
        var (_, advantages) = Expr.Scan((next, x) =>
        {
            var a = x[0] + Gamma * Lambda * x[1] * next[0];
            return ([a], [a]);
        }, [Expr.Zeros([], rewards.DType)], [deltas, notDone], reverse: true);
        return advantages[0];
    }

    [Fact]
    public void GaeByAReverseScanIsTheReverseLoopAndDifferentiatesInTheValues()
    {
        Close(GaeRef(), GaeByScan(V(Rewards), V(OldValues), V(Dones)).Eval().ToDoubleArray(), 1e-15, "advantages");
        // a critic trained on λ-returns through the scan: d/dV of Σ advantages, against central differences of the loop
        double SumRef(double[] v)
        {
            double total = 0, next = 0;
            for (int t = Steps - 1; t >= 0; t--)
            {
                next = Rewards[t] + Gamma * v[t + 1] * (1 - Dones[t]) - v[t] + Gamma * Lambda * (1 - Dones[t]) * next;
                total += next * next;
            }
            return total;
        }
        var g = Diff.Grad(v => GaeByScan(V(Rewards), v, V(Dones)).Square().Sum())(V(OldValues)).Eval();
        Close(Gradient(SumRef, OldValues), g.ToDoubleArray(), 1e-8, "gradient in the values");
        // and in float32, as a TorchSharp user's default dtype: the scan stays float32
        var single = GaeByScan(V(Rewards).To(DType.Float32), V(OldValues).To(DType.Float32), V(Dones).To(DType.Float32));
        Assert.Equal(DType.Float32, single.DType);
        Close(GaeRef(), single.Eval().ToDoubleArray(), 1e-6, "float32");
    }

    [Fact]
    public void TheClippedObjectiveAndItsGradientAreTheLoopsAndTheirCentralDifferences()
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        var oldLogProb = OldLogProbRef(flat);
        // away from the clamp's corners at the point and within the central differences' steps
        var ratios = Offsets.Select(o => Math.Exp(-o)).ToArray();
        Assert.All(ratios, r => Assert.True(Math.Abs(r - (1 - ClipEps)) > 0.05 && Math.Abs(r - (1 + ClipEps)) > 0.05));
        Assert.Contains(ratios, r => r < 1 - ClipEps);
        Assert.Contains(ratios, r => r > 1 + ClipEps);

        var (loss, gradients) = Diff.ValueAndGrad(
            p => PpoLoss(p, Observations, V(ActionsTaken), V(oldLogProb), V(Rewards), V(OldValues), V(Dones)), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        Close(LossRef(flat, oldLogProb), values[0].Item(), 1e-13, "loss");
        var expected = Gradient(f => LossRef(f, oldLogProb), flat);
        Close(expected, values.Skip(1).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "gradient");
        // the clipped examples pass the policy nothing through the surrogate: the gradient is not the unclipped one's
        Assert.Contains(expected, g => Math.Abs(g) > 1e-3);
    }

    [Fact]
    public void TheCompiledStepIsTheLoopsForTwoRollouts()
    {
        var step = Diff.CompileValueAndGrad((p, d) => PpoLoss(p, d[0], d[1], d[2], d[3], d[4], d[5]));
        var model = Model();
        var flat = Flatten(Layout, model);
        var oldLogProb = OldLogProbRef(flat);
        foreach (var shift in new[] { 0.0, 0.25 })
        {
            // a second rollout through the same plan: other observations and an old policy further away
            var old = oldLogProb.Select(v => v - shift).ToArray();
            var (loss, gradients) = step.Invoke(model, Observations + shift, V(ActionsTaken), V(old), V(Rewards), V(OldValues), V(Dones));
            Close(LossRef(flat, old, shift), loss.Item(), 1e-13, $"loss at shift {shift}");
            Close(Gradient(f => LossRef(f, old, shift), flat), Flatten(Layout, gradients), 1e-7, $"gradient at shift {shift}");
        }
        Assert.Equal(1, step.TraceCount);
    }
}
