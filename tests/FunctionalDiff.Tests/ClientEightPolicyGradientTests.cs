using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A REINFORCE step, ported from PyTorch as a user writes it first: logits from an MLP, log_softmax, the
/// log-probability of the actions taken by gather (and by one-hot), an entropy bonus, advantages as data. The loss is
/// compared with the same computation over doubles in this file, and its gradient with central differences of it.
/// </summary>
public class ClientEightPolicyGradientTests
{
    const int B = 7, S = 4, H = 6, A = 3;
    const double EntropyCoefficient = 0.01;

    static readonly int[] Actions = [0, 2, 1, 1, 0, 2, 2];
    static readonly double[] Advantages = [0.5, -1.2, 0.3, 2.0, -0.7, 0.1, -0.4];

    static Parameters Policy(int seed) => Parameters.Of(
        ("fc1.weight", 0.6 * Tensor.RandomNormal([H, S], seed: seed)), ("fc1.bias", 0.1 * Tensor.RandomNormal([H], seed: seed + 1)),
        ("fc2.weight", 0.6 * Tensor.RandomNormal([A, H], seed: seed + 2)), ("fc2.bias", 0.1 * Tensor.RandomNormal([A], seed: seed + 3)));

    static Tensor States() => Tensor.RandomNormal([B, S], seed: 77);

    static Expr Logits(IReadOnlyDictionary<string, Expr> p, Expr states) =>
        Nn.Linear(Nn.Linear(states, p["fc1.weight"], p["fc1.bias"]).Tanh(), p["fc2.weight"], p["fc2.bias"]);

    // loss = -(logp.gather(1, a[:, None]).squeeze(1) * adv).mean() - c * entropy.mean()
    static Expr ReinforceByGather(IReadOnlyDictionary<string, Expr> p, Expr states, Expr actions, Expr advantages)
    {
        var logp = Logits(p, states).LogSoftmax(-1);
        var chosen = logp.Gather(1, actions.Unsqueeze(1)).Squeeze(1);
        var entropy = -(logp.Exp() * logp).Sum(-1);
        return -(chosen * advantages).Mean() - EntropyCoefficient * entropy.Mean();
    }

    // the same with F.one_hot(a, A) * logp summed over the actions
    static Expr ReinforceByOneHot(IReadOnlyDictionary<string, Expr> p, Expr states, Expr actions, Expr advantages)
    {
        var logp = Logits(p, states).LogSoftmax();
        var chosen = (actions.OneHot(A) * logp).Sum(1);
        var entropy = -(logp.Softmax() * logp).Sum(1);
        return -(chosen * advantages).Mean() - EntropyCoefficient * entropy.Mean();
    }

    /// <summary>The policy's hidden layer over doubles, tanh(states W1ᵀ + b1), [B, H] row-major.</summary>
    static double[] Hidden(Dictionary<string, double[]> p, double[] states) =>
        TestSupport.Linear(states, B, S, H, p["fc1.weight"], p["fc1.bias"]).Select(Math.Tanh).ToArray();

    static double ReferenceLoss(Dictionary<string, double[]> p, double[] states)
    {
        var hidden = Hidden(p, states);
        double total = 0;
        for (int b = 0; b < B; b++)
        {
            var h = hidden[(b * H)..((b + 1) * H)];
            var logits = new double[A];
            for (int a = 0; a < A; a++)
            {
                double s = p["fc2.bias"][a];
                for (int j = 0; j < H; j++) s += p["fc2.weight"][a * H + j] * h[j];
                logits[a] = s;
            }
            double max = logits.Max(), logZ = max + Math.Log(logits.Sum(v => Math.Exp(v - max)));
            double entropy = 0;
            for (int a = 0; a < A; a++) entropy -= Math.Exp(logits[a] - logZ) * (logits[a] - logZ);
            total += -(logits[Actions[b]] - logZ) * Advantages[b] - EntropyCoefficient * entropy;
        }
        return total / B;
    }

    static Dictionary<string, double[]> Doubles(IReadOnlyDictionary<string, Tensor> p) => p.ToDictionary(kv => kv.Key, kv => kv.Value.ToDoubleArray());

    public static TheoryData<string> Forms => new() { "gather", "one-hot" };

    [Theory]
    [MemberData(nameof(Forms))]
    public void ReinforceLossAndGradientMatchTheDoubleLoopAndCentralDifferences(string form)
    {
        Func<IReadOnlyDictionary<string, Expr>, Expr, Expr, Expr, Expr> reinforce = form == "gather" ? ReinforceByGather : ReinforceByOneHot;
        var policy = Policy(3);
        var states = States();
        var actions = Tensor.FromArray(Actions);
        var advantages = Tensor.FromArray(Advantages);

        var (loss, gradients) = Diff.ValueAndGrad(p => reinforce(p, states, actions, advantages), policy);
        var values = Expr.EvalMany([loss, .. policy.Names.Select(n => gradients[n])]);
        var doubles = Doubles(policy);
        Close(ReferenceLoss(doubles, states.ToDoubleArray()), values[0].ToScalar(), 1e-13, "loss");
        for (int i = 0; i < policy.Count; i++)
        {
            var name = policy.Names[i];
            var expected = Gradient(v => ReferenceLoss(new Dictionary<string, double[]>(doubles) { [name] = v }, states.ToDoubleArray()), doubles[name]);
            Close(expected, values[i + 1].ToDoubleArray(), 1e-7, $"{form} {name}");
        }
    }

    [Fact]
    public void CompiledReinforceStepTakesActionsAndAdvantagesAsDataAndStepsAdam()
    {
        var step = Diff.CompileValueAndGrad((p, data) => ReinforceByGather(p, data[0], data[1], data[2]));
        var adam = new Adam(Policy(5), lr: 0.01);
        var states = States();
        for (int i = 0; i < 3; i++)
        {
            var before = adam.Parameters;
            var (loss, gradients) = step.Invoke(before, states, Tensor.FromArray(Actions), Tensor.FromArray(Advantages));
            var doubles = Doubles(before);
            Close(ReferenceLoss(doubles, states.ToDoubleArray()), loss.ToScalar(), 1e-13, $"loss at step {i}");
            foreach (var name in before.Names)
            {
                var expected = Gradient(v => ReferenceLoss(new Dictionary<string, double[]>(doubles) { [name] = v }, states.ToDoubleArray()), doubles[name]);
                Close(expected, gradients[name].ToDoubleArray(), 1e-7, $"{name} at step {i}");
            }
            adam.Step(gradients);
        }
        Assert.Equal(1, step.TraceCount);
    }
    // ---- a Gaussian policy for continuous actions: Normal(mu(s), exp(log_std)).log_prob(a).sum(-1) ----

    const int ActionDims = 2;

    static Expr GaussianReinforce(IReadOnlyDictionary<string, Expr> p, Expr states, Expr actions, Expr advantages)
    {
        var mu = Nn.Linear(Nn.Linear(states, p["fc1.weight"], p["fc1.bias"]).Tanh(), p["mu.weight"], p["mu.bias"]);
        var std = p["log_std"].Exp();
        var logProb = Distributions.NormalLogProb(mu, std, actions).Sum(-1);
        var entropy = Distributions.NormalEntropy(std).Sum();
        return -(logProb * advantages).Mean() - EntropyCoefficient * entropy;
    }

    static double ReferenceGaussianLoss(Dictionary<string, double[]> p, double[] states, double[] actions)
    {
        var hidden = Hidden(p, states);
        double total = 0;
        for (int b = 0; b < B; b++)
        {
            var h = hidden[(b * H)..((b + 1) * H)];
            double logProb = 0;
            for (int a = 0; a < ActionDims; a++)
            {
                double mu = p["mu.bias"][a];
                for (int j = 0; j < H; j++) mu += p["mu.weight"][a * H + j] * h[j];
                double sigma = Math.Exp(p["log_std"][a]);
                double density = Math.Exp(-(actions[b * ActionDims + a] - mu) * (actions[b * ActionDims + a] - mu) / (2 * sigma * sigma)) / (sigma * Math.Sqrt(2 * Math.PI));
                logProb += Math.Log(density);
            }
            total += -logProb * Advantages[b] / B;
        }
        // the entropy of N(μ, σ²) is ½ log(2πeσ²)
        total -= EntropyCoefficient * p["log_std"].Sum(l => 0.5 * Math.Log(2 * Math.PI * Math.E * Math.Exp(2 * l)));
        return total;
    }

    [Fact]
    public void GaussianPolicyReinforceLossAndGradientMatchTheDensityWrittenOutAndCentralDifferences()
    {
        var policy = Parameters.Of(
            ("fc1.weight", 0.6 * Tensor.RandomNormal([H, S], seed: 31)), ("fc1.bias", 0.1 * Tensor.RandomNormal([H], seed: 32)),
            ("mu.weight", 0.6 * Tensor.RandomNormal([ActionDims, H], seed: 33)), ("mu.bias", 0.1 * Tensor.RandomNormal([ActionDims], seed: 34)),
            ("log_std", Tensor.FromArray([-0.3, 0.2])));
        var states = States();
        var actions = Tensor.RandomNormal([B, ActionDims], seed: 35);
        var step = Diff.CompileValueAndGrad((p, data) => GaussianReinforce(p, data[0], data[1], data[2]));
        var (loss, gradients) = step.Invoke(policy, states, actions, Tensor.FromArray(Advantages));
        var doubles = Doubles(policy);
        Close(ReferenceGaussianLoss(doubles, states.ToDoubleArray(), actions.ToDoubleArray()), loss.ToScalar(), 1e-13, "loss");
        foreach (var name in policy.Names)
        {
            var expected = Gradient(v => ReferenceGaussianLoss(new Dictionary<string, double[]>(doubles) { [name] = v }, states.ToDoubleArray(), actions.ToDoubleArray()), doubles[name]);
            Close(expected, gradients[name].ToDoubleArray(), 1e-7, name);
        }
    }
}

