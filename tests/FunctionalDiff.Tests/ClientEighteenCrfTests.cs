using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's linear-chain CRF tagger (as in the BiLSTM-CRF tutorial, batched): emissions from a linear layer,
/// start, end and transition scores, the log-partition by the forward algorithm (a logsumexp recursion over the
/// sequence), the gold path's score with <c>transitions.take(prev * K + next)</c>, the mean negative log-likelihood, and
/// Viterbi decoding on tensors with a backtrace by <c>gather</c>. Held to an enumeration of all K^T label sequences:
/// the log-partition, the gradient of the log-partition (the marginals of each position and each transition), the
/// loss's gradient by central differences of the enumerated loss, and the decoded path against the best-scoring one.
/// </summary>
public class ClientEighteenCrfTests
{
    const int Sequences = 2, Length = 4, Tags = 3, Features = 2;

    static readonly (string Name, int[] Shape)[] Layout =
        [("emit.weight", [Tags, Features]), ("emit.bias", [Tags]), ("transitions", [Tags, Tags]), ("start", [Tags]), ("end", [Tags])];

    static readonly double[] Inputs = Values(Sequences * Length * Features, 5);
    static readonly double[] Gold = [0, 2, 2, 1, 1, 1, 0, 2];   // [B, T]

    static Parameters Model() => Parameters.Of(Layout.Select((e, k) =>
        (e.Name, Tensor.FromArray(Values(e.Shape.Aggregate(1, (a, b) => a * b), 40 + k).Select(v => 0.8 * v).ToArray(), e.Shape))).ToArray());

    /// <summary>The forward algorithm: log Σ over paths of exp(score), one per sequence [B].</summary>
    static Expr LogPartition(Expr emissions, Expr transitions, Expr start, Expr end)
    {
        var alpha = start + emissions.Select(1, 0);                                                            // [B, K]
        for (int t = 1; t < emissions.Shape[1]; t++)
            alpha = (alpha.Unsqueeze(2) + transitions.Unsqueeze(0)).LogSumExp(1) + emissions.Select(1, t);    // [B, K]
        return (alpha + end).LogSumExp(1);
    }

    /// <summary>The gold path's score [B]: start, emissions, transitions and end along the tags.</summary>
    static Expr PathScore(Expr emissions, Expr transitions, Expr start, Expr end, Expr tags)
    {
        int t = tags.Shape[1];
        var emitted = emissions.Gather(2, tags.Unsqueeze(2)).Squeeze(2).Sum(1);
        var moved = transitions.Take(tags.Narrow(1, 0, t - 1) * Tags + tags.Narrow(1, 1, t - 1)).Sum(1);   // transitions[tags[:, :-1], tags[:, 1:]]
        return start.Take(tags.Select(1, 0)) + emitted + moved + end.Take(tags.Select(1, t - 1));
    }

    static Expr Nll(IReadOnlyDictionary<string, Expr> p, Expr x, Expr tags)
    {
        var emissions = Nn.Linear(x, p["emit.weight"], p["emit.bias"]);
        return (LogPartition(emissions, p["transitions"], p["start"], p["end"]) - PathScore(emissions, p["transitions"], p["start"], p["end"], tags)).Mean();
    }

    /// <summary>Viterbi on concrete tensors, as torch runs it under no_grad: the best path of each sequence [B, T].</summary>
    static Tensor Viterbi(Tensor emissions, Tensor transitions, Tensor start, Tensor end)
    {
        var score = start + emissions.Select(1, 0);
        var history = new List<Tensor>();
        for (int t = 1; t < emissions.Shape[1]; t++)
        {
            var next = score.Unsqueeze(2) + transitions.Unsqueeze(0) + emissions.Select(1, t).Unsqueeze(1);   // [B, prev, next]
            history.Add(next.ArgMax(1));
            score = next.Max(1);
        }
        var best = (score + end).ArgMax(1);                                                                  // [B]
        var path = new List<Tensor> { best };
        for (int t = history.Count - 1; t >= 0; t--)
        {
            best = history[t].Gather(1, best.Unsqueeze(1)).Squeeze(1);
            path.Insert(0, best);
        }
        return Tensor.Stack(path.ToArray(), 1);
    }

    // ---- the enumeration over doubles ----

    static IEnumerable<int[]> Paths() => Enumerable.Range(0, (int)Math.Pow(Tags, Length))
        .Select(code => Enumerable.Range(0, Length).Select(t => code / (int)Math.Pow(Tags, Length - 1 - t) % Tags).ToArray());

    static double Score(double[] emissions, int b, double[] transitions, double[] start, double[] end, int[] y)
    {
        double s = start[y[0]] + end[y[^1]];
        for (int t = 0; t < Length; t++) s += emissions[(b * Length + t) * Tags + y[t]];
        for (int t = 1; t < Length; t++) s += transitions[y[t - 1] * Tags + y[t]];
        return s;
    }

    static double LogSumExp(IEnumerable<double> xs)
    {
        var a = xs.ToArray();
        double m = a.Max();
        return m + Math.Log(a.Sum(x => Math.Exp(x - m)));
    }

    static double ReferenceNll(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        var emissions = Linear(Inputs, Sequences * Length, Features, Tags, w["emit.weight"], w["emit.bias"]);
        return Enumerable.Range(0, Sequences).Average(b =>
            LogSumExp(Paths().Select(y => Score(emissions, b, w["transitions"], w["start"], w["end"], y)))
            - Score(emissions, b, w["transitions"], w["start"], w["end"], [.. Gold.Skip(b * Length).Take(Length).Select(v => (int)v)]));
    }

    static double[] EmissionsOf(Parameters model) =>
        Linear(Inputs, Sequences * Length, Features, Tags, model["emit.weight"].ToDoubleArray(), model["emit.bias"].ToDoubleArray());

    [Fact]
    public void TheForwardAlgorithmIsTheEnumerationAndItsGradientTheMarginals()
    {
        var model = Model();
        double[] emissions = EmissionsOf(model), transitions = model["transitions"].ToDoubleArray(), start = model["start"].ToDoubleArray(), end = model["end"].ToDoubleArray();
        var (logZ, gradients) = Diff.ValueAndGrad((Expr[] a) => LogPartition(a[0], a[1], a[2], a[3]).Sum(),
            Tensor.FromArray(emissions, Sequences, Length, Tags), model["transitions"], model["start"], model["end"]);
        var values = Expr.EvalMany([logZ, .. gradients]);

        double total = 0;
        var marginals = new double[Sequences * Length * Tags];
        var pairs = new double[Tags * Tags];
        double[] first = new double[Tags], last = new double[Tags];
        for (int b = 0; b < Sequences; b++)
        {
            var scores = Paths().Select(y => (y, s: Score(emissions, b, transitions, start, end, y))).ToArray();
            double z = LogSumExp(scores.Select(e => e.s));
            total += z;
            foreach (var (y, s) in scores)
            {
                double probability = Math.Exp(s - z);
                for (int t = 0; t < Length; t++) marginals[(b * Length + t) * Tags + y[t]] += probability;
                for (int t = 1; t < Length; t++) pairs[y[t - 1] * Tags + y[t]] += probability;
                first[y[0]] += probability;
                last[y[^1]] += probability;
            }
        }
        Close(total, values[0].Item(), 1e-13, "log-partition");
        Close(marginals, values[1].ToDoubleArray(), 1e-13, "position marginals");
        Close(pairs, values[2].ToDoubleArray(), 1e-13, "transition marginals");
        Close(first, values[3].ToDoubleArray(), 1e-13, "first-tag marginals");
        Close(last, values[4].ToDoubleArray(), 1e-13, "last-tag marginals");
    }

    [Fact]
    public void TheCompiledLossAndGradientAreTheEnumeratedOnes()
    {
        var step = Diff.CompileValueAndGrad((p, b) => Nll(p, b[0], b[1]));
        var (loss, gradients) = step.Invoke(Model(), Tensor.FromArray(Inputs, Sequences, Length, Features), Tensor.FromArray(Gold, Sequences, Length));
        var flat = Flatten(Layout, Model());
        Close(ReferenceNll(flat), loss.Item(), 1e-13, "loss");
        Close(Gradient(ReferenceNll, flat), Flatten(Layout, gradients), 1e-7, "gradient");
    }

    [Fact]
    public void ViterbiFindsTheBestScoringPath()
    {
        var model = Model();
        double[] emissions = EmissionsOf(model), transitions = model["transitions"].ToDoubleArray(), start = model["start"].ToDoubleArray(), end = model["end"].ToDoubleArray();
        var decoded = Viterbi(Tensor.FromArray(emissions, Sequences, Length, Tags), model["transitions"], model["start"], model["end"]);
        Assert.Equal(new[] { Sequences, Length }, decoded.Shape);
        for (int b = 0; b < Sequences; b++)
        {
            var ranked = Paths().Select(y => (y, s: Score(emissions, b, transitions, start, end, y))).OrderByDescending(e => e.s).ToArray();
            Assert.True(ranked[0].s - ranked[1].s > 1e-6, "the best path is unique");
            Assert.Equal(ranked[0].y.Select(v => (double)v), decoded.ToDoubleArray().Skip(b * Length).Take(Length));
        }
    }
}
