using FunctionalDiff.Compare.Train;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The optimizers and whole training runs against TorchSharp (torch.optim and autograd), with the
/// bounds the train command states; the training runs on CI's short schedule.
/// </summary>
public class TrainTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryOptimizerMatchesTorchOptimFor100StepsInBothDTypes()
    {
        var log = new StringWriter();
        var results = OptimizerCheck.RunAll(100, log);
        output.WriteLine(log.ToString());
        Assert.Equal(26, results.Count);
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Name} {r.DType}: {r.MaxRelative:E2} > {r.Tolerance:E0}"));
        // the check is not vacuous: float32 runs do differ from torch, by rounding
        Assert.Contains(results, r => r.DType == DType.Float32 && r.MaxRelative > 0);
    }

    [Fact]
    public void ShortTrainingRunsStayWithinTheirBoundsAndLearn()
    {
        var log = new StringWriter();
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            foreach (var run in TrainRuns.RunAll(dtype, steps: 60, log))
            {
                Assert.Equal(60, run.Steps.Count);
                Assert.True(run.MaxLossRelative <= TrainRuns.Tolerance(dtype), $"{run.Name} {dtype} loss {run.MaxLossRelative:E2}");
                Assert.True(run.MaxParameterRelative <= TrainRuns.Tolerance(dtype), $"{run.Name} {dtype} parameters {run.MaxParameterRelative:E2}");
                // both sides learn: the last losses are below the first
                Assert.True(run.Steps[^5..].Average(s => s.OurLoss) < run.Steps[..5].Average(s => s.OurLoss), run.Name);
                Assert.Equal(run.TorchAccuracy, run.OurAccuracy, 12);
            }
        output.WriteLine(log.ToString());
    }

    [Fact]
    public void TheCommandWritesItsFiguresAndCurves()
    {
        var directory = Directory.CreateTempSubdirectory("train-command").FullName;
        try
        {
            var log = new StringWriter();
            Assert.Equal(0, TrainCommand.Run(["--steps", "20", "--optimizer-steps", "5", "--out", directory], log));
            foreach (var file in new[] { "train-loss.png", "train-boundary.png", "train-differences.png" })
                Assert.Equal(PlotTests.PngSignature, File.ReadAllBytes(Path.Combine(directory, file))[..8]);
            // one CSV row per step of each of the four runs, plus the header
            Assert.Equal(1 + 4 * 20, File.ReadAllLines(Path.Combine(directory, "train-curves.csv")).Length);
            Assert.Equal(2, TrainCommand.Run(["--no-such-option"], new StringWriter()));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
