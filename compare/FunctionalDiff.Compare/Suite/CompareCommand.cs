using System.Diagnostics;

namespace FunctionalDiff.Compare.Suite;

/// <summary>The main job: runs the table against TorchSharp and prints and writes the report.</summary>
public static class CompareCommand
{
    /// <summary>Runs the comparison; the exit code is 0 only when every check passes.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter progress)
    {
        Options options;
        try { options = Options.Parse(args); }
        catch (ArgumentException e) { progress.WriteLine(e.Message); return 2; }

        var selected = options.Select(CaseTable.All);
        if (selected.Count == 0)
        {
            progress.WriteLine("no case matches the filter");
            return 2;
        }
        output.WriteLine($"FunctionalDiff vs TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version} (libtorch autograd): " +
                         $"{selected.Select(s => s.Case.Name).Distinct().Count()} cases in {string.Join(" and ", options.DTypes.Select(CheckResult.Name))}");
        var clock = Stopwatch.StartNew();
        var results = Runner.Run(CaseTable.All, options, options.Quiet ? TextWriter.Null : progress);
        clock.Stop();

        Report.Print(output, results, failuresOnly: false);
        string command = "dotnet run -c Release --project compare/FunctionalDiff.Compare" + (args.Length > 0 ? " -- " + string.Join(" ", args) : "");
        var (md, json) = Report.Write(options.ResultsDir, results, command);
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0.0} s; report written to {md} and {json}");
        return results.All(r => r.Passed) ? 0 : 1;
    }

    /// <summary>The worker process's entry (see <see cref="Runner"/>): `--worker START [selection options]`.</summary>
    public static int Worker(string[] args)
    {
        int start = int.Parse(args[1]);
        var options = Options.Parse(args.Skip(2).ToList());
        return options.Programs is null ? Runner.Worker(CaseTable.All, options, start) : Fuzz.FuzzCommand.Worker(options, start);
    }
}
