namespace FunctionalDiff.Tests;

/// <summary>
/// The README's example of the section "Porting from JAX and torch.nn.functional", verbatim between the markers:
/// a regression network trained by a compiled step that returns an auxiliary metric, fed a new mini-batch every
/// call, then the per-example losses by vmap with the parameters unbatched. <see cref="ClientFiveProgramTests"/>
/// checks that README.md shows exactly this code and that its numbers agree with the same program written with
/// doubles and loops.
/// </summary>
public static class PortingReadme
{
    /// <summary>What the example computes, with its data and first parameters.</summary>
    public sealed record Outcome(Tensor X, Tensor Y, Tensor[] Initial, Tensor[] Final, List<double> Losses, List<double> Errors, Tensor Each, int Traces);

    /// <summary>Runs the example.</summary>
    public static Outcome Run()
    {
        // BEGIN README
        // y = sin(x₀) + x₁/2 on 64 points, fitted by a 2 → 8 → 1 tanh network with plain gradient descent.
        var x = Tensor.RandomNormal([64, 2], seed: 5);
        var y = (x[.., 0].Sin() + 0.5 * x[.., 1]).Reshape(64, 1);
        Expr Predict(Expr[] p, Expr input) => (input.MatMul(p[0]) + p[1]).Tanh().MatMul(p[2]) + p[3];

        // jax.jit of value_and_grad(loss, has_aux=True) and the update: inputs w1, b1, w2, b2, a batch of x and of y;
        // outputs the loss, the mean absolute error (an auxiliary output, not differentiated) and the new parameters.
        var step = Diff.Compile((Expr[] a) =>
        {
            var (loss, aux, g) = Diff.ValueAndGrad((Expr[] p) =>
            {
                var prediction = Predict(p, a[4]);
                return (Loss.Mse(prediction, a[5]), [Loss.L1(prediction, a[5])]);
            }, a[..4]);
            return [loss, aux[0], .. a[..4].Zip(g, (p, d) => p - 0.2 * d)];
        });

        Tensor[] parameters = [Init.XavierUniform([2, 8], seed: 1), Tensor.Zeros(8), Init.XavierUniform([8, 1], seed: 2), Tensor.Zeros(1)];
        var initial = parameters;
        List<double> losses = [], errors = [];
        for (int epoch = 0; epoch < 10; epoch++)
            foreach (var batch in Batches.Shuffled(batchSize: 16, seed: epoch, [x, y]))   // new data every call
            {
                var outs = step.Invoke([.. parameters, .. batch]);                        // traced once, then a plan
                losses.Add(outs[0].ToScalar());
                errors.Add(outs[1].ToScalar());
                parameters = outs[2..];
            }

        // jax.vmap(loss_of_one, in_axes=(None, None, None, None, 0, 0)): the parameters are shared, one loss per example.
        var perExample = Diff.Vmap((Expr[] a) => Loss.Mse(Predict(a[..4], a[4]), a[5]), inAxes: [null, null, null, null, 0, 0]);
        var each = perExample([.. parameters, x, y]).Eval();   // [64]
        // END README
        return new(x, y, initial, parameters, losses, errors, each, step.TraceCount);
    }
}
