namespace FunctionalDiff.Tests;

/// <summary>
/// The README's per-example gradients example, verbatim between the markers: <see cref="VmapTests"/>
/// checks that README.md shows exactly this code and that its gradients are those of a loop over
/// the examples and of central differences.
/// </summary>
public static class PerExampleGradients
{
    /// <summary>Everything the snippet builds, for the tests to check.</summary>
    public sealed record Outcome(Tensor[] Parameters, Tensor Xs, Tensor Ys, Func<Expr[], Expr, Expr, Expr> Loss, Expr[] Gradients);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // A small classifier, 3 inputs -> 4 tanh units -> 2 classes, and the loss of ONE example
        // (x: its 3 features, y: its label, one-hot).
        Expr LossOf(Expr[] p, Expr x, Expr y)
        {
            var logits = p[2].MatMul((p[0].MatMul(x) + p[1]).Tanh()) + p[3];
            return -(y * logits.LogSoftmax(0)).Sum();
        }

        var w1 = Tensor.RandomNormal(new[] { 4, 3 }, seed: 10);
        var b1 = Tensor.Zeros(new[] { 4 });
        var w2 = Tensor.RandomNormal(new[] { 2, 4 }, seed: 11);
        var b2 = Tensor.Zeros(new[] { 2 });
        var xs = Tensor.RandomNormal(new[] { 8, 3 }, seed: 12);   // 8 examples, one per row
        var ys = Tensor.FromArray(new double[,] { { 1, 0 }, { 0, 1 }, { 0, 1 }, { 1, 0 }, { 0, 1 }, { 1, 0 }, { 1, 0 }, { 0, 1 } });

        // Per-example gradients: vmap of the gradient of one example's loss. The parameters are
        // shared by every example (null: not batched); x and y are batched along axis 0.
        var perExample = Diff.Vmap(
            args => Diff.Grad((Expr[] p) => LossOf(p, args[4], args[5]))(args[..4]),
            inAxes: new int?[] { null, null, null, null, 0, 0 });
        Expr[] gradients = perExample(new Expr[] { w1, b1, w2, b2, xs, ys });
        // gradients[0] has shape [8, 4, 3]: dLoss/dW1 of each example, from one batched graph.
        // END README
        return new Outcome(new[] { w1, b1, w2, b2 }, xs, ys, LossOf, gradients);
    }
}
