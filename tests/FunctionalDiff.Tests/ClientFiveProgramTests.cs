using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The two programs of the README's porting section, checked against the same programs written with doubles:
/// a regression network trained by a compiled step with an auxiliary metric, and per-example losses (and
/// gradients) by vmap with the parameters unbatched. Gradients are checked against central differences.
/// </summary>
public class ClientFiveProgramTests
{
    [Fact]
    public void TheReadmeShowsExactlyThePortingExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/PortingReadme.cs", "## Porting from JAX and torch.nn.functional");

    /// <summary>The 2 → 8 → 1 tanh network over a batch of rows, in doubles: the predictions and the hidden layer.</summary>
    static (double[] Prediction, double[,] Hidden) Forward(double[][] p, double[] x, int rows)
    {
        var hidden = new double[rows, 8];
        var prediction = new double[rows];
        for (int n = 0; n < rows; n++)
        {
            double output = p[3][0];
            for (int j = 0; j < 8; j++)
            {
                double z = p[1][j] + x[2 * n] * p[0][j] + x[2 * n + 1] * p[0][8 + j];
                hidden[n, j] = Math.Tanh(z);
                output += hidden[n, j] * p[2][j];
            }
            prediction[n] = output;
        }
        return (prediction, hidden);
    }

    static double Mse(double[][] p, double[] x, double[] y)
    {
        var (prediction, _) = Forward(p, x, y.Length);
        return prediction.Select((v, n) => (v - y[n]) * (v - y[n])).Average();
    }

    /// <summary>The gradient of the mean squared error by hand (backpropagation written out), parameter by parameter.</summary>
    static double[][] Backward(double[][] p, double[] x, double[] y)
    {
        int rows = y.Length;
        var (prediction, hidden) = Forward(p, x, rows);
        var g = p.Select(a => new double[a.Length]).ToArray();
        for (int n = 0; n < rows; n++)
        {
            double d = 2 * (prediction[n] - y[n]) / rows;
            g[3][0] += d;
            for (int j = 0; j < 8; j++)
            {
                g[2][j] += hidden[n, j] * d;
                double dz = d * p[2][j] * (1 - hidden[n, j] * hidden[n, j]);
                g[1][j] += dz;
                g[0][j] += x[2 * n] * dz;
                g[0][8 + j] += x[2 * n + 1] * dz;
            }
        }
        return g;
    }

    static double[] Flat(double[][] p) => p.SelectMany(a => a).ToArray();

    static double[][] Unflat(double[] flat) => [flat[..16], flat[16..24], flat[24..32], flat[32..33]];

    [Fact]
    public void TheCompiledStepWithAnAuxiliaryMetricMatchesTheProgramWrittenWithDoubles()
    {
        var r = PortingReadme.Run();
        double[] xs = r.X.ToDoubleArray(), ys = r.Y.ToDoubleArray();
        Close(Enumerable.Range(0, 64).Select(n => Math.Sin(xs[2 * n]) + 0.5 * xs[2 * n + 1]).ToArray(), ys, 1e-15, "targets");

        // the hand-written gradient agrees with central differences at the first parameters, on all the data
        var initial = r.Initial.Select(t => t.ToDoubleArray()).ToArray();
        Close(Gradient(f => Mse(Unflat(f), xs, ys), Flat(initial)), Flat(Backward(initial, xs, ys)), 1e-7, "hand-written gradient");

        // the same training: the same shuffled batches (data), then forward, backward and update in doubles
        var p = initial.Select(a => (double[])a.Clone()).ToArray();
        int stepIndex = 0;
        for (int epoch = 0; epoch < 10; epoch++)
            foreach (var batch in Batches.Shuffled(batchSize: 16, seed: epoch, [r.X, r.Y]))
            {
                double[] bx = batch[0].ToDoubleArray(), by = batch[1].ToDoubleArray();
                var (prediction, _) = Forward(p, bx, by.Length);
                Close(prediction.Select((v, n) => (v - by[n]) * (v - by[n])).Average(), r.Losses[stepIndex], 1e-10, $"loss {stepIndex}");
                Close(prediction.Select((v, n) => Math.Abs(v - by[n])).Average(), r.Errors[stepIndex], 1e-10, $"mae {stepIndex}");
                var g = Backward(p, bx, by);
                for (int k = 0; k < 4; k++)
                    for (int i = 0; i < p[k].Length; i++) p[k][i] -= 0.2 * g[k][i];
                stepIndex++;
            }
        Assert.Equal(40, stepIndex);
        Assert.Equal(40, r.Losses.Count);
        Close(Flat(p), r.Final.SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-10, "final parameters");
        Assert.Equal(1, r.Traces);                     // one signature: traced once, then the plan
        Assert.True(r.Losses.Skip(36).Average() < 0.5 * r.Losses.Take(4).Average(), "the loss falls");

        // the per-example losses of the vmapped function, one per row, with the final parameters
        var (finalPrediction, _) = Forward(p, xs, 64);
        Close(finalPrediction.Select((v, n) => (v - ys[n]) * (v - ys[n])).ToArray(), r.Each.ToDoubleArray(), 1e-10, "per-example losses");
        Assert.Equal(new[] { 64 }, r.Each.Shape);
    }

    [Fact]
    public void TheCompiledStepsUpdateIsTheGradientByCentralDifferences()
    {
        // one step of the README's compiled function at the first parameters: (p − p') / 0.2 is the gradient of the batch's loss
        var r = PortingReadme.Run();
        var batch = Batches.Shuffled(batchSize: 16, seed: 0, [r.X, r.Y])[0];
        double[] bx = batch[0].ToDoubleArray(), by = batch[1].ToDoubleArray();
        var initial = r.Initial.Select(t => t.ToDoubleArray()).ToArray();
        Expr Predict(Expr[] q, Expr input) => (input.MatMul(q[0]) + q[1]).Tanh().MatMul(q[2]) + q[3];
        var step = Diff.Compile((Expr[] a) =>
        {
            var (loss, aux, g) = Diff.ValueAndGrad((Expr[] q) =>
            {
                var prediction = Predict(q, a[4]);
                return (Loss.Mse(prediction, a[5]), [Loss.L1(prediction, a[5])]);
            }, a[..4]);
            return [loss, aux[0], .. a[..4].Zip(g, (q, d) => q - 0.2 * d)];
        });
        var outs = step.Invoke([.. r.Initial, .. batch]);
        var implied = Flat(initial).Zip(outs[2..].SelectMany(t => t.ToDoubleArray()), (before, after) => (before - after) / 0.2).ToArray();
        Close(Gradient(f => Mse(Unflat(f), bx, by), Flat(initial)), implied, 1e-7, "update / learning rate");
    }

    [Fact]
    public void PerExampleGradientsByVmapWithTheParametersUnbatched()
    {
        // jax.vmap(jax.grad(loss_of_one), in_axes=(None, None, None, None, 0, 0)): one gradient per example
        var r = PortingReadme.Run();
        double[] xs = r.X.ToDoubleArray(), ys = r.Y.ToDoubleArray();
        var final = r.Final.Select(t => t.ToDoubleArray()).ToArray();
        Expr Predict(Expr[] q, Expr input) => (input.MatMul(q[0]) + q[1]).Tanh().MatMul(q[2]) + q[3];
        var perExample = Diff.Vmap(
            (Expr[] a) => Diff.Grad((Expr[] q) => Loss.Mse(Predict(q, a[4]), a[5]))(a[..4]),
            inAxes: [null, null, null, null, 0, 0]);
        var gradients = Expr.EvalMany(perExample([.. r.Final, r.X[..5], r.Y[..5]]));
        Assert.Equal(new[] { 5, 2, 8 }, gradients[0].Shape);
        Assert.Equal(new[] { 5, 1 }, gradients[3].Shape);
        for (int n = 0; n < 5; n++)
        {
            double[] x1 = xs[(2 * n)..(2 * n + 2)], y1 = [ys[n]];
            var numeric = Gradient(f => Mse(Unflat(f), x1, y1), Flat(final));
            var ours = gradients.SelectMany(g => g.ToDoubleArray().Skip(n * (g.Numel / 5)).Take(g.Numel / 5)).ToArray();
            Close(numeric, ours, 1e-7, $"example {n}");
        }

        // the gradient of the mean of the vmapped losses is the full-batch gradient, by central differences
        var meanLoss = Diff.Vmap((Expr[] a) => Loss.Mse(Predict(a[..4], a[4]), a[5]), inAxes: [null, null, null, null, 0, 0]);
        var full = Diff.Grad((Expr[] q) => meanLoss([.. q, r.X, r.Y]).Mean())(r.Final.Select(t => (Expr)t).ToArray());
        Close(Gradient(f => Mse(Unflat(f), xs, ys), Flat(final)), Expr.EvalMany(full).SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "mean of vmapped losses");
    }
}
