using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>The README's Scan example is this repository's code, computes an LSTM's loss and gradient, and learns.</summary>
public class LstmScanExampleTests
{
    static readonly string[] Names = { "wx", "wh", "b", "wy", "by" };

    [Fact]
    public void TheReadmeShowsExactlyThisScanExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/LstmScanExample.cs", "### An LSTM trained with Expr.Scan and Diff.Compile");

    /// <summary>The same objective written with doubles and loops: an LSTM cell per character, then the mean cross-entropy.</summary>
    static double Reference(Dictionary<string, double[]> p, int[] ids, int v, int h)
    {
        static double Sigmoid(double z) => 1 / (1 + Math.Exp(-z));
        var state = new double[h];
        var cell = new double[h];
        double total = 0;
        int t = ids.Length - 1;
        for (int step = 0; step < t; step++)
        {
            var gates = new double[4 * h];
            for (int r = 0; r < 4 * h; r++)
            {
                double sum = p["b"][r] + p["wx"][r * v + ids[step]];
                for (int j = 0; j < h; j++) sum += p["wh"][r * h + j] * state[j];
                gates[r] = sum;
            }
            for (int j = 0; j < h; j++)
            {
                cell[j] = Sigmoid(gates[h + j]) * cell[j] + Sigmoid(gates[j]) * Math.Tanh(gates[2 * h + j]);
                state[j] = Sigmoid(gates[3 * h + j]) * Math.Tanh(cell[j]);
            }
            var logits = new double[v];
            for (int k = 0; k < v; k++)
            {
                logits[k] = p["by"][k];
                for (int j = 0; j < h; j++) logits[k] += p["wy"][k * h + j] * state[j];
            }
            double max = logits.Max();
            double logSum = max + Math.Log(logits.Sum(z => Math.Exp(z - max)));
            total += logSum - logits[ids[step + 1]];
        }
        return total / t;
    }

    [Fact]
    public void ItsLossAndGradientAgreeWithAnLstmWrittenWithDoublesAndItLearns()
    {
        var r = LstmScanExample.Run();
        int v = r.Alphabet.Length, h = r.Initial["b"].Shape[0] / 4;
        int[] ids = r.Text.Select(c => Array.IndexOf(r.Alphabet, c)).ToArray();
        var values = Names.ToDictionary(n => n, n => r.Initial[n].ToDoubleArray());

        var (loss, gradients) = r.Step.Invoke(r.Initial, r.Inputs);
        Close(Reference(values, ids, v, h), loss.ToScalar(), 1e-12, "loss at the initial parameters");
        Close(loss.ToScalar(), r.Losses[0], 1e-15, "the first loss of the training loop");

        // central differences of the double-precision reference, at a few entries of every parameter
        var random = new Random(5);
        foreach (var name in Names)
        {
            var g = gradients[name].ToDoubleArray();
            for (int sample = 0; sample < 4; sample++)
            {
                int i = random.Next(g.Length);
                const double step = 1e-5;
                double original = values[name][i];
                values[name][i] = original + step;
                double plus = Reference(values, ids, v, h);
                values[name][i] = original - step;
                double minus = Reference(values, ids, v, h);
                values[name][i] = original;
                Close((plus - minus) / (2 * step), g[i], 1e-6, $"d loss / d {name}[{i}]");
            }
        }

        // it learns: the sentence is memorised well below the loss of a uniform guess, ln v
        Assert.True(Math.Abs(r.Losses[0] - Math.Log(v)) < 0.5, $"first loss {r.Losses[0]} vs ln {v}");
        Assert.True(r.Losses[^1] < 0.1 * r.Losses[0], $"losses {r.Losses[0]} → {r.Losses[^1]}");
    }
}
