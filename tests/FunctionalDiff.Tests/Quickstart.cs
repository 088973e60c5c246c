namespace FunctionalDiff.Tests;

/// <summary>
/// The README's C# quickstart, verbatim between the markers: <see cref="ReadmeTests"/> checks that
/// README.md shows exactly this code and that its gradients agree with finite differences.
/// </summary>
public static class Quickstart
{
    /// <summary>Everything the snippet builds, for the tests to check.</summary>
    public sealed record Outcome(Tensor X, Tensor Y, Tensor[] Parameters, Expr Loss, Expr[] Gradients, Tensor Direction, Expr HessianVector);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // The seed network: 2 inputs, 3 hidden units, 1 output.
        var x = Tensor.FromArray(new[] { 0.7, -1.2 });
        var y = Tensor.FromArray(new[] { 1.0 });
        var w1 = Tensor.RandomNormal(new[] { 3, 2 }, seed: 1);
        var b1 = Tensor.Zeros(new[] { 3 });
        var w2 = Tensor.RandomNormal(new[] { 1, 3 }, seed: 2);
        var b2 = Tensor.Zeros(new[] { 1 });

        Expr LossOf(Expr[] p)
        {
            var z1 = p[0].MatMul(x) + p[1];   // z1 = W1 x + b1
            var a1 = z1.Sigmoid();            // a1 = sigmoid z1
            var z2 = p[2].MatMul(a1) + p[3];  // z2 = W2 a1 + b2
            var a2 = z2.Sigmoid();            // a2 = sigmoid z2
            return Loss.Mse(a2, y);
        }

        // Reverse mode: one pass gives the loss and the gradient of every parameter.
        var (loss, gradients) = Diff.ValueAndGrad(LossOf, w1, b1, w2, b2);
        Console.WriteLine(loss.Eval());          // a scalar
        Console.WriteLine(gradients[2].Eval());  // dLoss/dW2: a 1×3 row, no Jacobian built

        // The Hessian of the loss in W2, applied to a direction, without forming the Hessian.
        var v = Tensor.Ones(new[] { 1, 3 });
        var hv = Diff.Hvp(w => LossOf(new Expr[] { w1, b1, w, b2 }), w2, v);
        Console.WriteLine(hv.Eval());            // 1×3
        // END README
        return new Outcome(x, y, new[] { w1, b1, w2, b2 }, loss, gradients, v, hv);
    }
}
