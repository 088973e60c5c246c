namespace FunctionalDiff.Tests;

/// <summary>
/// The README's "Transforms inside loops" example, verbatim between the markers:
/// <see cref="ReadmeTests"/> checks that README.md shows exactly this code and that its
/// derivatives agree with central differences of the same loop written with doubles.
/// </summary>
public static class Bilevel
{
    /// <summary>Everything the snippet builds, for the tests to check.</summary>
    public sealed record Outcome(Tensor X0, Tensor W0, Tensor Direction, Expr Gradient, Expr Value, Expr Tangent);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        var x0 = Tensor.FromArray(new[] { 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0 });
        var w0 = Tensor.FromArray(new[] { 0.5, 0.43, 0.36, 0.29, 0.22, 0.15, 0.08, 0.01 });

        // f(x, w) = Σ tanh(x·w)² + 0.1 Σ (x − w)²
        Expr F(Expr x, Expr w) => (x * w).Tanh().Square().Sum() + 0.1 * (x - w).Square().Sum();

        // 1,000 steps of x ← x − 0.05 ∇ₓ f(x, w), then Σ x²: a function of w.
        Expr Objective(Expr w)
        {
            Expr x = x0;
            for (int step = 0; step < 1000; step++)
                x = x - 0.05 * Diff.Grad(xx => F(xx, w))(x);   // costs the same at every step
            return x.Square().Sum();
        }

        // Reverse over reverse: the gradient in w, through all 1,000 inner gradients.
        var gradient = Diff.Grad(Objective)(w0);
        // Forward over reverse: the derivative along one direction of w.
        var direction = Tensor.Ones(new[] { 8 });
        var (value, tangent) = Diff.Jvp(Objective, w0, direction);
        Console.WriteLine(gradient.Eval());
        // END README
        return new Outcome(x0, w0, direction, gradient, value, tangent);
    }
}
