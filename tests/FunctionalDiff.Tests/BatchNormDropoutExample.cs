using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The README's batch norm and dropout example (section "### Batch norm and dropout in a compiled step"), verbatim
/// between the markers. <see cref="BatchNormDropoutExampleTests"/> checks that README.md shows exactly this code, and
/// replays it with doubles: the forward pass written as loops, its gradient by central differences, the same noise
/// from the same seed.
/// </summary>
public static class BatchNormDropoutExample
{
    /// <summary>The data, the trained weights, the running statistics, the losses and the test predictions.</summary>
    public sealed record Outcome(Tensor X, Tensor Y, Tensor XTest, Tensor W0, Tensor V0, Tensor W, Tensor V,
        Tensor RunningMean, Tensor RunningVariance, List<double> Losses, Tensor Prediction);

    /// <summary>Runs the snippet: <paramref name="steps"/> compiled SGD steps, then a prediction.</summary>
    public static Outcome Run(int steps)
    {
        var x = Tensor.RandomNormal([8, 3], seed: 41);
        var y = Tensor.RandomNormal([8, 1], seed: 42);
        var xTest = Tensor.RandomNormal([5, 3], seed: 43);
        var w = Tensor.RandomNormal([3, 4], seed: 44);
        var v = Tensor.RandomNormal([4, 1], seed: 45);
        var (w0, v0) = (w, v);
        Tensor.ManualSeed(46);
        // BEGIN README
        // One hidden layer with batch norm and dropout, trained by SGD in a compiled step. The batch's statistics
        // normalise in training; their running averages, kept here, normalise in evaluation. The dropout noise is an
        // input, so each call draws a fresh mask.
        var step = Diff.Compile((Expr[] a) =>
        {
            Expr x = a[0], y = a[1], noise = a[2], w = a[3], v = a[4];
            var (loss, g) = Diff.ValueAndGrad(p =>
                (Nn.Dropout(Nn.BatchNorm(x.MatMul(p[0])).Relu(), 0.5, noise).MatMul(p[1]) - y).Square().Mean(), w, v);
            var (mean, variance) = Nn.BatchStatistics(x.MatMul(w));
            return [loss, w - 0.1 * g[0], v - 0.1 * g[1], mean, variance];
        });
        var runningMean = Tensor.Zeros(4);
        var runningVariance = Tensor.Ones(4);
        var losses = new List<double>();
        for (int i = 0; i < steps; i++)
        {
            var outs = step.Invoke(x, y, Tensor.Rand(8, 4), w, v);
            losses.Add(outs[0].ToScalar());
            (w, v) = (outs[1], outs[2]);
            runningMean = 0.9 * runningMean + 0.1 * outs[3];             // torch's momentum 0.1
            runningVariance = 0.9 * runningVariance + 0.1 * outs[4];
        }
        var prediction = Nn.BatchNormWithStatistics(xTest.MatMul(w), runningMean, runningVariance).Relu().MatMul(v).Eval();
        // END README
        return new(x, y, xTest, w0, v0, w, v, runningMean, runningVariance, losses, prediction);
    }
}

/// <summary>The README's batch norm and dropout example is this code, and its numbers agree with doubles.</summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class BatchNormDropoutExampleTests
{
    [Fact]
    public void TheReadmeShowsExactlyTheBatchNormExampleThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/BatchNormDropoutExample.cs", "### Batch norm and dropout in a compiled step");

    /// <summary>(x W) normalised per column with the biased variance and ε = 1e-5.</summary>
    static double[,] Normalised(double[,] h, int n, int k)
    {
        var z = new double[n, k];
        for (int j = 0; j < k; j++)
        {
            double mean = 0, variance = 0;
            for (int i = 0; i < n; i++) mean += h[i, j] / n;
            for (int i = 0; i < n; i++) variance += (h[i, j] - mean) * (h[i, j] - mean) / n;
            for (int i = 0; i < n; i++) z[i, j] = (h[i, j] - mean) / Math.Sqrt(variance + 1e-5);
        }
        return z;
    }

    static double[,] Product(double[] a, int n, int m, double[] b, int k)
    {
        var c = new double[n, k];
        for (int i = 0; i < n; i++) for (int j = 0; j < k; j++) for (int l = 0; l < m; l++) c[i, j] += a[i * m + l] * b[l * k + j];
        return c;
    }

    /// <summary>The training loss written with doubles: the parameters are w (3×4) then v (4×1), flat.</summary>
    static double Loss(double[] parameters, double[] x, double[] y, double[] noise)
    {
        var w = parameters[..12];
        var v = parameters[12..];
        var z = Normalised(Product(x, 8, 3, w, 4), 8, 4);
        double total = 0;
        for (int i = 0; i < 8; i++)
        {
            double output = 0;
            for (int j = 0; j < 4; j++)
            {
                double h = Math.Max(z[i, j], 0.0);
                double kept = noise[i * 4 + j] >= 0.5 ? h / 0.5 : 0.0;
                output += kept * v[j];
            }
            total += (output - y[i]) * (output - y[i]) / 8;
        }
        return total;
    }

    [Fact]
    public void TheExampleAgreesWithTheLoopWrittenWithDoubles()
    {
        const int steps = 3;
        var r = BatchNormDropoutExample.Run(steps);
        double[] x = r.X.ToDoubleArray(), y = r.Y.ToDoubleArray();
        var parameters = r.W0.ToDoubleArray().Concat(r.V0.ToDoubleArray()).ToArray();
        var runningMean = new double[4];
        var runningVariance = Enumerable.Repeat(1.0, 4).ToArray();
        Tensor.ManualSeed(46);
        for (int s = 0; s < steps; s++)
        {
            var noise = Tensor.Rand(8, 4).ToDoubleArray();
            // the first loss is at the same weights; later ones at weights stepped by central differences (~1e-9 off)
            Close(Loss(parameters, x, y, noise), r.Losses[s], s == 0 ? 1e-12 : 1e-8, $"loss {s}");
            var h = Product(x, 8, 3, parameters[..12], 4);
            for (int j = 0; j < 4; j++)
            {
                double mean = Enumerable.Range(0, 8).Average(i => h[i, j]);
                double unbiased = Enumerable.Range(0, 8).Sum(i => (h[i, j] - mean) * (h[i, j] - mean)) / 7;
                runningMean[j] = 0.9 * runningMean[j] + 0.1 * mean;
                runningVariance[j] = 0.9 * runningVariance[j] + 0.1 * unbiased;
            }
            var gradient = Gradient(p => Loss(p, x, y, noise), parameters);
            parameters = parameters.Select((p, i) => p - 0.1 * gradient[i]).ToArray();
        }
        Close(parameters[..12], r.W.ToDoubleArray(), 1e-7, "w");
        Close(parameters[12..], r.V.ToDoubleArray(), 1e-7, "v");
        Close(runningMean, r.RunningMean.ToDoubleArray(), 1e-8, "running mean");
        Close(runningVariance, r.RunningVariance.ToDoubleArray(), 1e-8, "running variance");
        // evaluation: the running statistics, no dropout, with the weights and statistics the steps gave (checked above)
        var test = Product(r.XTest.ToDoubleArray(), 5, 3, r.W.ToDoubleArray(), 4);
        var vs = r.V.ToDoubleArray();
        runningMean = r.RunningMean.ToDoubleArray();
        runningVariance = r.RunningVariance.ToDoubleArray();
        var prediction = r.Prediction.ToDoubleArray();
        for (int i = 0; i < 5; i++)
        {
            double output = 0;
            for (int j = 0; j < 4; j++) output += Math.Max((test[i, j] - runningMean[j]) / Math.Sqrt(runningVariance[j] + 1e-5), 0.0) * vs[j];
            Close(output, prediction[i], 1e-12, $"prediction {i}");
        }
    }
}
