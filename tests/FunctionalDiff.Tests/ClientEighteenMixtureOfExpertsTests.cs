using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's mixture-of-experts layer with top-k routing and a capacity (Switch/GShard style, static shapes): a
/// linear gate, softmax, <c>probs.topk(k)</c> renormalised, each token's k assignments given a slot in their expert's
/// buffer by a cumulative count (<c>(one_hot.cumsum(0) * one_hot).sum(1) - 1</c>), assignments past the capacity
/// dropped into a spare row, tokens scattered into the experts' buffers with <c>index_add</c>, the experts (stacked
/// SiLU MLPs) run as batched matmuls, the results gathered back with <c>index_select</c> and combined with the routing
/// weights, a residual, and the load-balancing loss E·Σ f_e P_e. Held to the layer written over doubles token by token
/// (with the same first-come capacity rule), and its gradient to central differences of that.
/// </summary>
public class ClientEighteenMixtureOfExpertsTests
{
    const int Tokens = 6, Width = 3, Experts = 4, TopK = 2, Hidden = 4, Capacity = 3;
    const double AuxWeight = 0.1;

    static readonly (string Name, int[] Shape)[] Layout =
        [("gate.weight", [Experts, Width]), ("w1", [Experts, Width, Hidden]), ("b1", [Experts, Hidden]), ("w2", [Experts, Hidden, Width]), ("b2", [Experts, Width])];

    static readonly double[] Inputs = Values(Tokens * Width, 6);
    static readonly double[] Targets = Values(Tokens * Width, 7).Select(v => 0.5 * v).ToArray();

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 50 + k).Select(v => (e.Name == "gate.weight" ? 1.5 : 0.6) * v).ToArray(), e.Shape))).ToArray());

    /// <summary>The layer as the user wrote it: its output [N, D] and the load-balancing loss.</summary>
    static (Expr Output, Expr Aux) Layer(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        int n = x.Shape[0], d = x.Shape[1];
        var probs = Nn.Linear(x, p["gate.weight"]).Softmax(-1);                     // [N, E]
        var (top, chosen) = probs.TopK(TopK, -1);                                  // [N, k]
        var weights = top / top.Sum(-1, keepDims: true);
        var expert = chosen.Flatten();                                             // [N·k], token-major
        Expr token = Tensor.Arange(n).RepeatInterleave(TopK);                      // [N·k]
        var oneHot = expert.OneHot(Experts);                                       // [N·k, E]
        var position = (oneHot.Cumsum(0) * oneHot).Sum(1) - 1;                     // the assignment's place in its expert's queue
        var slot = Expr.Where(position < Capacity, expert * Capacity + position, Experts * Capacity);   // past capacity: the spare row
        var buffers = Expr.Zeros(Experts * Capacity + 1, d).IndexAdd(0, slot, x.IndexSelect(0, token))
            .Narrow(0, 0, Experts * Capacity).Reshape(Experts, Capacity, d);      // [E, C, D]
        var h = (buffers.Bmm(p["w1"]) + p["b1"].Unsqueeze(1)).Silu();
        var y = h.Bmm(p["w2"]) + p["b2"].Unsqueeze(1);                             // [E, C, D]
        var back = Expr.Cat([y.Reshape(Experts * Capacity, d), Expr.Zeros(1, d)], 0).IndexSelect(0, slot);   // [N·k, D]
        var output = x + Expr.Zeros(n, d).IndexAdd(0, token, weights.Flatten().Unsqueeze(1) * back);
        // Switch's auxiliary loss: f_e the share of assignments routed to e (no gradient), P_e the mean gate probability
        var share = oneHot.Sum(0) / (n * TopK);
        var aux = Experts * (share * probs.Mean(0)).Sum();
        return (output, aux);
    }

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr x, Expr target)
    {
        var (output, aux) = Layer(p, x);
        return Loss.Mse(output, target) + AuxWeight * aux;
    }

    // ---- the layer over doubles, token by token ----

    static double Silu(double v) => v / (1 + Math.Exp(-v));

    static (double[] Output, double Aux, int Dropped) Reference(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var output = (double[])Inputs.Clone();
        var counts = new int[Experts];
        var routed = new double[Experts];
        var meanProbability = new double[Experts];
        int dropped = 0;
        for (int n = 0; n < Tokens; n++)
        {
            var x = Inputs[(n * Width)..((n + 1) * Width)];
            var logits = Linear(x, 1, Width, Experts, w["gate.weight"], new double[Experts]);
            double m = logits.Max(), z = logits.Sum(l => Math.Exp(l - m));
            var probs = logits.Select(l => Math.Exp(l - m) / z).ToArray();
            for (int e = 0; e < Experts; e++) meanProbability[e] += probs[e] / Tokens;
            var chosen = Enumerable.Range(0, Experts).OrderByDescending(e => probs[e]).Take(TopK).ToArray();
            double kept = chosen.Sum(e => probs[e]);
            foreach (var e in chosen)
            {
                routed[e] += 1.0 / (Tokens * TopK);
                if (counts[e]++ >= Capacity) { dropped++; continue; }   // first come, first served
                var h = new double[Hidden];
                for (int j = 0; j < Hidden; j++)
                    h[j] = Silu(w["b1"][e * Hidden + j] + Enumerable.Range(0, Width).Sum(i => x[i] * w["w1"][(e * Width + i) * Hidden + j]));
                for (int i = 0; i < Width; i++)
                    output[n * Width + i] += probs[e] / kept * (w["b2"][e * Width + i] + Enumerable.Range(0, Hidden).Sum(j => h[j] * w["w2"][(e * Hidden + j) * Width + i]));
            }
        }
        return (output, Experts * Enumerable.Range(0, Experts).Sum(e => routed[e] * meanProbability[e]), dropped);
    }

    static double ReferenceLoss(double[] flat)
    {
        var (output, aux, _) = Reference(flat);
        return output.Zip(Targets, (o, t) => (o - t) * (o - t)).Average() + AuxWeight * aux;
    }

    [Fact]
    public void TheRoutedLayerIsTheTokenByTokenLoopWithItsDroppedAssignments()
    {
        var (output, aux) = Layer(Model().AsExprs(), Tensor.FromArray(Inputs, Tokens, Width));
        var values = Expr.EvalMany([output, aux]);
        var reference = Reference(Flatten(Layout, Model()));
        Assert.True(reference.Dropped > 0, "the capacity drops an assignment");
        Close(reference.Output, values[0].ToDoubleArray(), 1e-13, "output");
        Close(reference.Aux, values[1].Item(), 1e-13, "load-balancing loss");
    }

    [Fact]
    public void TheGradientIsTheCentralDifferenceOfTheLoop()
    {
        var step = Diff.CompileValueAndGrad((p, b) => LossOf(p, b[0], b[1]));
        var (loss, gradients) = step.Invoke(Model(), Tensor.FromArray(Inputs, Tokens, Width), Tensor.FromArray(Targets, Tokens, Width));
        var flat = Flatten(Layout, Model());
        Close(ReferenceLoss(flat), loss.Item(), 1e-13, "loss");
        Close(Gradient(ReferenceLoss, flat), Flatten(Layout, gradients), 1e-7, "gradient");
    }

    [Fact]
    public void TheLoadBalancingLossReachesTheGateThroughTheMeanProbabilityOnly()
    {
        var flat = Flatten(Layout, Model());
        var gradient = Diff.Grad(p => Layer(p, Tensor.FromArray(Inputs, Tokens, Width)).Aux, Model());
        var gate = Layout.TakeWhile(e => e.Name != "gate.weight").Sum(e => e.Shape.Aggregate(1, (a, b) => a * b));
        Close(Gradient(v => Reference(v).Aux, flat)[gate..(gate + Experts * Width)], gradient["gate.weight"].Eval().ToDoubleArray(), 1e-7, "gate");
        // the experts do not enter it
        Assert.All(gradient["w1"].Eval().ToDoubleArray(), v => Assert.Equal(0.0, v));
    }
}
