namespace FunctionalDiff.Tests;

/// <summary>
/// The README's training example (section "## Training"), verbatim between the markers:
/// <see cref="TrainingExampleTests"/> checks that README.md shows exactly this code and that it trains.
/// </summary>
public static class TrainingExample
{
    /// <summary>The data, the trained parameters, the accuracy and each epoch's mean loss.</summary>
    public sealed record Outcome(Tensor X, Tensor Y, Parameters Parameters, double Accuracy, List<double> Losses);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // Logistic regression on two Gaussian blobs, with Adam on shuffled mini-batches.
        var x = Tensor.Concat(0, Tensor.RandomNormal([200, 2], seed: 1) + 1.5, Tensor.RandomNormal([200, 2], seed: 2) - 1.5);
        var y = Tensor.Concat(0, Tensor.Ones([200, 1]), Tensor.Zeros([200, 1]));

        var model = Parameters.Of(("w", Init.XavierUniform([2, 1], seed: 3)), ("b", Tensor.Zeros([1])));
        var step = Diff.CompileValueAndGrad((p, batch) =>
            Loss.BinaryCrossEntropyWithLogits(batch[0].MatMul(p["w"]) + p["b"], batch[1]));
        var adam = new Adam(model, lr: 0.05);
        var losses = new List<double>();

        for (int epoch = 0; epoch < 20; epoch++)
        {
            double total = 0;
            var batches = Batches.Shuffled(batchSize: 40, seed: epoch, [x, y]);
            foreach (var batch in batches)
            {
                var (loss, gradients) = step.Invoke(adam.Parameters, batch);  // a compiled plan
                adam.Step(gradients);
                total += loss.ToScalar();
            }
            losses.Add(total / batches.Count);
            if (epoch % 5 == 0) Console.WriteLine($"epoch {epoch}: loss {total / batches.Count:F4}");
        }
        var logits = x.MatMul(adam.Parameters["w"]) + adam.Parameters["b"];   // eager tensor math
        double accuracy = (logits > 0.0).Eq(y).Mean().ToScalar();
        // END README
        return new Outcome(x, y, adam.Parameters, accuracy, losses);
    }
}
