namespace FunctionalDiff.Tests;

/// <summary>
/// The README's LSTM example (section "An LSTM trained with Expr.Scan and Diff.Compile"), verbatim between the markers: <see cref="LstmScanExampleTests"/>
/// checks that README.md shows exactly this code, that its loss and gradient agree with an LSTM written
/// with doubles, and that it learns the sequence.
/// </summary>
public static class LstmScanExample
{
    /// <summary>Everything the snippet builds, for the tests to check.</summary>
    public sealed record Outcome(string Text, char[] Alphabet, Parameters Initial, CompiledValueAndGrad Step, Tensor Inputs, List<double> Losses);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // A one-layer LSTM learns to predict the next character of a sentence.
        var text = "a stitch in time saves nine. ";
        var alphabet = text.Distinct().Order().ToArray();
        int v = alphabet.Length, h = 24, t = text.Length - 1;
        int[] ids = text.Select(c => Array.IndexOf(alphabet, c)).ToArray();
        var oneHot = new double[t, v];                            // row i: character i, one-hot
        for (int i = 0; i < t; i++) oneHot[i, ids[i]] = 1;
        var inputs = Tensor.FromArray(oneHot);
        int[] next = ids[1..];

        var model = Parameters.Of(
            ("wx", Init.XavierUniform([4 * h, v], seed: 1)), ("wh", Init.XavierUniform([4 * h, h], seed: 2)),
            ("b", Tensor.Zeros([4 * h])), ("wy", Init.XavierUniform([v, h], seed: 3)), ("by", Tensor.Zeros([v])));

        var step = Diff.CompileValueAndGrad((p, data) =>
        {
            // the body runs once per character: carry (h, c), slice x, output the logits
            var (_, ys) = Expr.Scan((carry, x) =>
            {
                var gates = p["wx"].MatMul(x[0]) + p["wh"].MatMul(carry[0]) + p["b"];
                Expr Gate(int k) => gates.Slice(0, k * h, (k + 1) * h);
                var c = Gate(1).Sigmoid() * carry[1] + Gate(0).Sigmoid() * Gate(2).Tanh();
                var hNew = Gate(3).Sigmoid() * c.Tanh();
                return (new[] { hNew, c }, new[] { p["wy"].MatMul(hNew) + p["by"] });
            }, [Tensor.Zeros([h]), Tensor.Zeros([h])], [data[0]]);
            return Loss.CrossEntropy(ys[0], next);                // ys[0]: [t, v], one row per step
        });

        var adam = new Adam(model, lr: 0.02);
        var losses = new List<double>();
        for (int i = 0; i < 300; i++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, inputs);   // one compiled plan
            adam.Step(gradients);
            losses.Add(loss.ToScalar());
        }
        Console.WriteLine($"loss {losses[0]:F3} → {losses[^1]:F3}");
        // END README
        return new Outcome(text, alphabet, model, step, inputs, losses);
    }
}
