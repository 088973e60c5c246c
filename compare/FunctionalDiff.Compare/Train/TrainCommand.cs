using System.Globalization;
using System.Text;

namespace FunctionalDiff.Compare.Train;

/// <summary>
/// <c>train</c>: each optimizer against torch.optim over 100 steps, then whole training runs (the
/// seed network on XOR, the softmax MLP on ten classes) against TorchSharp in float64 and float32,
/// with progress, the largest relative differences of the loss and of every parameter over all
/// steps, the final accuracies, and PNG figures (ScottPlot) and a CSV of the curves in the output folder.
/// </summary>
public static class TrainCommand
{
    /// <summary>The usage text.</summary>
    public const string Usage = """
        usage: train [--steps N] [--optimizer-steps N] [--out DIR]
          --steps N            training steps per run (default 500; CI uses a short schedule)
          --optimizer-steps N  steps of each optimizer check (default 100)
          --out DIR            where the figures and the CSV go (default results)
        """;

    /// <summary>Runs the command; 0 when every check is within its bound.</summary>
    public static int Run(string[] args, TextWriter log)
    {
        int steps = 500, optimizerSteps = 100;
        string output = "results";
        for (int i = 0; i < args.Length; i++)
        {
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"train: {args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--steps": steps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--optimizer-steps": optimizerSteps = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--out": output = Next(); break;
                case "--help" or "-h": log.WriteLine(Usage); return 0;
                default: log.WriteLine($"train: unknown option {args[i]}\n{Usage}"); return 2;
            }
        }
        Directory.CreateDirectory(output);

        log.WriteLine($"== optimizers against torch.optim, {optimizerSteps} steps each");
        var optimizerResults = OptimizerCheck.RunAll(optimizerSteps, log);

        log.WriteLine($"== training runs against TorchSharp, {steps} Adam steps each");
        var runs = new List<TrainRuns.Run>();
        if (steps > 0)
            foreach (var dtype in new[] { DType.Float64, DType.Float32 })
                runs.AddRange(TrainRuns.RunAll(dtype, steps, log));

        log.WriteLine();
        log.WriteLine($"{"run",-28} {"dtype",-8} {"steps",5} {"max rel diff loss",18} {"max rel diff params",20} {"bound",7} {"accuracy ours",14} {"torch",6}");
        bool ok = optimizerResults.All(r => r.Passed);
        foreach (var r in runs)
        {
            double bound = TrainRuns.Tolerance(r.DType);
            bool passed = r.MaxLossRelative <= bound && r.MaxParameterRelative <= bound;
            ok &= passed;
            log.WriteLine($"{r.Name,-28} {r.DType,-8} {r.Steps.Count,5} {r.MaxLossRelative,18:E2} {r.MaxParameterRelative,20:E2} {bound,7:E0} {r.OurAccuracy,14:P1} {r.TorchAccuracy,6:P1}  {(passed ? "ok" : "FAIL")}");
        }

        if (runs.Count > 0)
        {
            WriteFigures(runs, output);
            log.WriteLine($"figures: {Path.Combine(output, "train-loss.png")}, {Path.Combine(output, "train-boundary.png")}, {Path.Combine(output, "train-differences.png")}; curves: {Path.Combine(output, "train-curves.csv")}");
        }
        log.WriteLine(ok ? "train: every check within its bound" : "train: SOME CHECKS EXCEED THEIR BOUNDS");
        return ok ? 0 : 1;
    }

    static void WriteFigures(List<TrainRuns.Run> runs, string output)
    {
        var colours = new[] { "#1f77b4", "#d62728", "#2ca02c", "#9467bd" };
        var series = new List<Plots.Series>();
        int k = 0;
        foreach (var r in runs.Where(r => r.DType == DType.Float64))
        {
            series.Add(new($"{r.Name}: ours", colours[k], false, r.Steps.Select(s => ((double)s.Index, s.OurLoss)).ToList()));
            series.Add(new($"{r.Name}: torch", colours[k + 1], true, r.Steps.Select(s => ((double)s.Index, s.TorchLoss)).ToList()));
            k += 2;
        }
        Plots.LineChart(Path.Combine(output, "train-loss.png"), "Training loss, FunctionalDiff and TorchSharp (float64, Adam)", "step", "mini-batch loss (log scale)", series, logY: true);

        var differences = runs.Select((r, i) => new Plots.Series($"{r.Name} {r.DType}", colours[i % 4], r.DType == DType.Float32,
            r.Steps.Select(s => ((double)s.Index, Math.Max(s.ParameterRelative, 1e-17))).ToList())).ToList();
        Plots.LineChart(Path.Combine(output, "train-differences.png"), "Largest relative parameter difference from TorchSharp", "step", "relative difference (log scale)", differences, logY: true);

        var seed = runs.First(r => r.DType == DType.Float64 && r.Name.StartsWith("seed", StringComparison.Ordinal));
        const int cells = 60;
        var grid = new double[cells * cells * 2];
        for (int row = 0; row < cells; row++)
            for (int c = 0; c < cells; c++)
            {
                grid[2 * (row * cells + c)] = -1 + (c + 0.5) * 2 / cells;
                grid[2 * (row * cells + c) + 1] = 1 - (row + 0.5) * 2 / cells;
            }
        var probability = TrainRuns.SeedProbabilities(seed.Final, Tensor.FromArray(grid, cells * cells, 2));
        Plots.DecisionBoundary(Path.Combine(output, "train-boundary.png"), $"Seed network on XOR after {seed.Steps.Count} steps (accuracy {seed.OurAccuracy:P0})", cells, probability, seed.X.ToDoubleArray(), seed.Labels.ToDoubleArray());

        var csv = new StringBuilder("run,dtype,step,our_loss,torch_loss,loss_rel_diff,param_rel_diff\n");
        foreach (var r in runs)
            foreach (var s in r.Steps)
                csv.Append(CultureInfo.InvariantCulture, $"{r.Name},{r.DType},{s.Index},{s.OurLoss:R},{s.TorchLoss:R},{s.LossRelative:R},{s.ParameterRelative:R}\n");
        File.WriteAllText(Path.Combine(output, "train-curves.csv"), csv.ToString());
    }
}
