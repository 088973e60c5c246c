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

    static double ReferenceLoss(Dictionary<string, double[]> p, double[] states)
    {
        double total = 0;
        for (int b = 0; b < B; b++)
        {
            var h = new double[H];
            for (int j = 0; j < H; j++)
            {
                double s = p["fc1.bias"][j];
                for (int i = 0; i < S; i++) s += p["fc1.weight"][j * S + i] * states[b * S + i];
                h[j] = Math.Tanh(s);
            }
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
}
