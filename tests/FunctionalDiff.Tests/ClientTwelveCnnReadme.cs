namespace FunctionalDiff.Tests;

/// <summary>
/// The README's CNN classifier with class weights (section "A CNN classifier with class weights, ported from PyTorch"),
/// verbatim between the markers with the names it uses defined before them: <see cref="ClientTwelveCnnTests"/> checks
/// that README.md shows exactly this code and that its losses and parameters follow loops written with doubles.
/// </summary>
public static class ClientTwelveCnnReadme
{
    /// <summary>Runs the fragment: four compiled Adam steps over <paramref name="images"/>, given the dropout noise of each step.</summary>
    public static (List<double> Losses, Parameters Final, int Traces) Train(Parameters model, Tensor[] images, Tensor labels, Func<int, Tensor> noise)
    {
        // BEGIN README
        // nn.CrossEntropyLoss(weight=w, ignore_index=-100) on conv → relu → max pool → dropout → linear,
        // trained by Adam(weight_decay=0.01) under StepLR(step_size=2, gamma=0.5). Labels are a float tensor
        // holding class indices and -100 for the examples to skip; the dropout noise is an input of the step.
        var classWeights = Tensor.FromArray([1.0, 2.0, 0.5]);
        var step = Diff.CompileValueAndGrad((p, batch) =>
        {
            var h = Nn.MaxPool2d(Nn.Conv2d(batch[0], p["conv.weight"], p["conv.bias"], padding: 1).Relu(), 2).Flatten(1);
            var logits = Nn.Linear(Nn.Dropout(h, 0.25, batch[2]), p["fc.weight"], p["fc.bias"]);
            return Loss.CrossEntropy(logits, batch[1], ignoreIndex: -100, weight: classWeights);
        });
        var adam = new Adam(model, lr: 0.05, weightDecay: 0.01);
        var losses = new List<double>();
        for (int epoch = 0; epoch < 4; epoch++)
        {
            adam.LearningRate = 0.05 * Math.Pow(0.5, epoch / 2);   // StepLR's closed form
            var (loss, gradients) = step.Invoke(adam.Parameters, images[epoch], labels, noise(epoch));
            adam.Step(gradients);
            losses.Add(loss.ToScalar());
        }
        // END README
        return (losses, adam.Parameters, step.TraceCount);
    }
}
