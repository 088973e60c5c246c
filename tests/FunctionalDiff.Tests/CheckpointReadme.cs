namespace FunctionalDiff.Tests;

/// <summary>
/// The README's checkpointing fragment (section "Checkpointing"), verbatim between the markers with
/// the names it uses defined before them: <see cref="ReadmeFragmentTests"/> checks that README.md
/// shows exactly this code and that its results agree with loops written with doubles.
/// </summary>
public static class CheckpointReadme
{
    /// <summary>What the checkpointing fragment builds, with the values it starts from.</summary>
    public sealed record CheckpointOutcome(double[] W, double[] X0, double[] H0, double[] Xs, Expr Gradient, Expr Carry, Expr Ys);

    /// <summary>Runs the fragment of the section "Checkpointing".</summary>
    public static CheckpointOutcome Checkpointing()
    {
        double[] wValues = { 0.5, -0.3, 0.2, 0.4 }, x0Values = { 0.3, -0.7 }, h0Values = { 0.1, -0.2 };
        double[] xsValues = Enumerable.Range(0, 18).Select(i => Math.Cos(0.4 * i)).ToArray();
        Expr w = Tensor.FromArray(wValues, 2, 2);
        Expr x0 = Tensor.FromArray(x0Values);
        Expr h0 = Tensor.FromArray(h0Values);
        Expr xs = Tensor.FromArray(xsValues, 9, 2);
        (Expr, Expr) cell(Expr h, Expr x)
        {
            var next = (w.MatMul(h) + x).Tanh();
            return (next, next);
        }
        // BEGIN README
        var block = Diff.Checkpoint(x => (w.MatMul(x)).Tanh() * x.Sigmoid());  // w captured: its gradient flows
        var g = Diff.Grad(x => block(block(block(x))).Sum())(x0);               // keeps x0 and two block outputs
        var (carry, ys) = Expr.Scan(cell, h0, xs, new ScanOptions { Checkpoint = ScanCheckpoint.Sqrt });
        // END README
        return new(wValues, x0Values, h0Values, xsValues, g, carry, ys);
    }
}
