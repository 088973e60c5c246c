namespace FunctionalDiff.Tests;

/// <summary>
/// The README's "Loops with Scan" example, verbatim between the markers: <see cref="ScanTests"/>
/// checks that README.md shows exactly this code and that its results equal the same loop unrolled.
/// </summary>
public static class ScanReadme
{
    /// <summary>Everything the snippet builds, for the tests to check.</summary>
    public sealed record Outcome(Tensor W, Tensor U, Tensor H0, Tensor Xs, Expr Loss, Expr[] Gradients, Tensor[] Compiled);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        var w = Tensor.FromArray(new[] { 0.5, -0.3, 0.2, 0.4 }, 2, 2);
        var u = Tensor.FromArray(new[] { 0.1, 0.7, -0.6, 0.2, 0.3, -0.1 }, 2, 3);
        var h0 = Tensor.Zeros(new[] { 2 });
        var xs = Tensor.FromArray(Enumerable.Range(0, 300).Select(i => Math.Sin(0.1 * i)).ToArray(), 100, 3);

        // A tanh RNN over 100 steps: one Scan node, whatever the number of steps.
        Expr Loss(Expr[] p)
        {
            var (h, hs) = Expr.Scan((h, x) =>
            {
                var next = (p[0].MatMul(h) + p[1].MatMul(x)).Tanh();
                return (next, next);
            }, h0, xs);
            return hs.Square().Mean() + h.Sum();
        }

        // Gradients in W and U: a forward Scan that saves what the backward pass needs, then a
        // reverse Scan over the step's VJP.
        var (loss, gradients) = Diff.ValueAndGrad(Loss, w, u);
        // Compiled: the step's body is planned once and run 100 times per call.
        var step = Diff.Compile((Expr[] p) => Diff.Grad(Loss)(p));
        var compiled = step.Invoke(w, u);
        // END README
        return new Outcome(w, u, h0, xs, loss, gradients, compiled);
    }
}
