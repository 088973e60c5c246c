using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's DQN update (as in the PyTorch DQN tutorial): a replay batch of states, actions, rewards, next states
/// and done flags; the Q-values of the actions taken, <c>policy_net(s).gather(1, a.unsqueeze(1)).squeeze(1)</c>; the
/// target r + γ·(1 − done)·max_a target_net(s′) detached; <c>F.smooth_l1_loss</c> (Huber, δ = 1); <c>clip_grad_value_</c> and Adam; and the soft
/// update of the target network, θ′ ← τθ + (1 − τ)θ′ (<c>target.lerp(policy, τ)</c>). The target network's weights are
/// data of the compiled step. Held to the update written over doubles transition by transition, its gradient to
/// central differences, and Adam to torch's written out.
/// </summary>
public class ClientEighteenDqnTests
{
    const int StateSize = 4, Actions = 3, Hidden = 8, BatchSize = 6, Steps = 3;
    const double Gamma = 0.9, Tau = 0.05, Lr = 0.01, ClipValue = 0.3;

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [Hidden, StateSize]), ("fc1.bias", [Hidden]), ("fc2.weight", [Actions, Hidden]), ("fc2.bias", [Actions])];

    static readonly double[] States = Values(BatchSize * StateSize, 11);
    static readonly double[] Taken = [0, 2, 1, 1, 0, 2];
    static readonly double[] Rewards = [1, -2, 0.5, 3, 0, -1];
    static readonly double[] NextStates = Values(BatchSize * StateSize, 12);
    static readonly double[] Done = [0, 0, 1, 0, 1, 0];

    static Parameters Net(int salt) => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), salt + k).Select(v => 0.6 * v).ToArray(), e.Shape))).ToArray());

    static Expr Q(IReadOnlyDictionary<string, Expr> p, Expr s) =>
        Nn.Linear(Nn.Linear(s, p["fc1.weight"], p["fc1.bias"]).Relu(), p["fc2.weight"], p["fc2.bias"]);

    /// <summary>The update's loss as the user wrote it: b = [states, actions, rewards, next states, dones, target weights...].</summary>
    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr[] b)
    {
        var target = Layout.Select((e, i) => (e.Name, b[5 + i])).ToDictionary(e => e.Name, e => e.Item2);
        var stateActionValues = Q(p, b[0]).Gather(1, b[1].Unsqueeze(1)).Squeeze(1);
        var nextStateValues = Q(target, b[3]).Max(1).Detach();
        var expected = b[2] + Gamma * (1 - b[4]) * nextStateValues;
        return Loss.SmoothL1(stateActionValues, expected);
    }

    static Tensor[] Batch(Parameters target) =>
        [Tensor.FromArray(States, BatchSize, StateSize), Tensor.FromArray(Taken), Tensor.FromArray(Rewards),
         Tensor.FromArray(NextStates, BatchSize, StateSize), Tensor.FromArray(Done), .. Layout.Select(e => target[e.Name])];

    static double[] QValues(Dictionary<string, double[]> w, double[] s) =>
        Linear(Linear(s, 1, StateSize, Hidden, w["fc1.weight"], w["fc1.bias"]).Select(h => Math.Max(0, h)).ToArray(), 1, Hidden, Actions, w["fc2.weight"], w["fc2.bias"]);

    /// <summary>The Huber loss over the batch, each transition's TD error; and how many errors exceed δ = 1.</summary>
    static (double Loss, int Large) Reference(double[] policy, double[] target)
    {
        var (w, wt) = (Unflatten(Layout, policy), Unflatten(Layout, target));
        double total = 0;
        int large = 0;
        for (int n = 0; n < BatchSize; n++)
        {
            double q = QValues(w, States[(n * StateSize)..((n + 1) * StateSize)])[(int)Taken[n]];
            double next = QValues(wt, NextStates[(n * StateSize)..((n + 1) * StateSize)]).Max();
            double error = Math.Abs(q - (Rewards[n] + (Done[n] == 1 ? 0 : Gamma * next)));
            if (error > 1) large++;
            total += error < 1 ? 0.5 * error * error : error - 0.5;
        }
        return (total / BatchSize, large);
    }

    [Fact]
    public void CompiledUpdatesAreTheTransitionLoopUnderTorchsAdamAndTheSoftUpdate()
    {
        var step = Diff.CompileValueAndGrad(LossOf);
        var adam = new Adam(Net(80), lr: Lr);
        var target = Net(90);
        double[] p = Flatten(Layout, adam.Parameters), pt = Flatten(Layout, target);
        double[] m = new double[p.Length], v = new double[p.Length];
        for (int k = 1; k <= Steps; k++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, Batch(target));
            var reference = Reference(p, pt);
            Assert.InRange(reference.Large, 1, BatchSize - 1);   // both arms of the Huber loss are in the batch
            Close(reference.Loss, loss.Item(), 1e-13, $"loss {k}");
            var g = Flatten(Layout, gradients);
            Close(Gradient(x => Reference(x, pt).Loss, p), g, 1e-7, $"gradient {k}");
            // torch.nn.utils.clip_grad_value_(policy_net.parameters(), ClipValue), then optimizer.step()
            adam.Step(Optimizer.ClipGradValue(gradients, ClipValue));
            Assert.Contains(g, x => Math.Abs(x) > ClipValue);
            AdamStep(p, m, v, [.. g.Select(x => Math.Clamp(x, -ClipValue, ClipValue))], k, Lr);
            Close(p, Flatten(Layout, adam.Parameters), 1e-12, $"policy after step {k}");
            // target_net_state_dict[key] = policy[key] * TAU + target[key] * (1 - TAU)
            target = target.Map((name, t) => t.Lerp(adam.Parameters[name], Tau));
            for (int i = 0; i < pt.Length; i++) pt[i] = Tau * p[i] + (1 - Tau) * pt[i];
            Close(pt, Flatten(Layout, target), 1e-14, $"target after step {k}");
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void TheTargetNetworkGetsNoGradientAndGreedyActionsAreTheArgmax()
    {
        var policy = Net(80);
        var target = Net(90);
        var b = Batch(target);
        // the target's weights as parameters too: the detached max passes them nothing
        var all = Parameters.Of([.. policy.Select(e => ("policy." + e.Key, e.Value)), .. target.Select(e => ("target." + e.Key, e.Value))]);
        var gradients = Diff.Grad(a => LossOf(Layout.ToDictionary(e => e.Name, e => a["policy." + e.Name]),
            [.. b[..5], .. Layout.Select(e => a["target." + e.Name])]), all);
        Assert.All(Layout, e => Assert.All(gradients["target." + e.Name].Eval().ToDoubleArray(), x => Assert.Equal(0.0, x)));
        // action selection: policy_net(state).max(1).indices
        var greedy = Q(policy.AsExprs(), b[0]).ArgMax(1).Eval().ToDoubleArray();
        var w = Unflatten(Layout, Flatten(Layout, policy));
        for (int n = 0; n < BatchSize; n++)
        {
            var q = QValues(w, States[(n * StateSize)..((n + 1) * StateSize)]);
            Assert.Equal(Array.IndexOf(q, q.Max()), (int)greedy[n]);
        }
    }
}
