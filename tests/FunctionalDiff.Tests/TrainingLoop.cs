namespace FunctionalDiff.Tests;

/// <summary>
/// The README's compiled training loop, verbatim between the markers: <see cref="CompileTests"/>
/// checks that README.md shows exactly this code and that its parameters match a plain loop.
/// </summary>
public static class TrainingLoop
{
    /// <summary>The data and the parameters after training.</summary>
    public sealed record Outcome(Tensor X, Tensor Y, Tensor[] Parameters);

    /// <summary>Runs the snippet.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // Linear regression, y ≈ x W + b, trained by gradient descent.
        var x = Tensor.RandomNormal(new[] { 64, 3 }, seed: 3);
        var y = Tensor.RandomNormal(new[] { 64, 1 }, seed: 4);
        Expr LossOf(Expr[] p) => Loss.Mse(((Expr)x).MatMul(p[0]) + p[1], y);

        // One step: the loss, and each parameter moved against its gradient. x and y are captured,
        // so they are constants of the compiled plan; data that changes per call must be an input.
        CompiledFunction step = Diff.Compile((Expr[] p) =>
        {
            var (loss, g) = Diff.ValueAndGrad(LossOf, p);
            return [loss, p[0] - 0.1 * g[0], p[1] - 0.1 * g[1]];
        });

        Tensor[] parameters = [Tensor.Zeros(new[] { 3, 1 }), Tensor.Zeros(new[] { 1 })];
        // The first call traces; a plan runs every call after it. Two sets of results take turns: each
        // step reads the parameters from one set and writes its results into the other, so the loop
        // allocates next to nothing however large the parameters are, and the GC has nothing to collect.
        Tensor[] outs = step.Invoke(parameters), spare = step.Invoke(parameters);
        Console.WriteLine(outs[0]);
        for (int i = 1; i < 100; i++)
        {
            step.InvokeInto(outs[1..], spare);
            (outs, spare) = (spare, outs);
            if (i % 25 == 0) Console.WriteLine(outs[0]);
        }
        parameters = outs[1..];
        // END README
        return new Outcome(x, y, parameters);
    }
}
