using System.Diagnostics;
using System.Text.Json;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// Runs the selected cases. A native abort inside libtorch kills its whole process and cannot be
/// caught in .NET, so the cases run in a worker process that streams each result as it finishes;
/// when a worker dies, the case it was running is recorded as failed and a new worker resumes
/// with the next case. No abort can hide the results of other cases.
/// </summary>
public static class Runner
{
    const string BeginMark = "@@BEGIN ";
    const string ResultMark = "@@RESULT ";
    const string EndMark = "@@END";

    /// <summary>
    /// Runs the selection, isolated in workers or in this process, reporting progress to <paramref name="progress"/>.
    /// <paramref name="check"/> runs one case in one dtype (by default <see cref="CaseRunner.Run"/>); a worker
    /// rebuilds the same table and check from the options it is given.
    /// </summary>
    public static List<CheckResult> Run(IReadOnlyList<Case> table, Options options, TextWriter progress,
        Func<Case, DType, List<CheckResult>>? check = null)
    {
        var work = options.Select(table);
        return options.Isolated ? RunIsolated(work, options, progress) : RunInProcess(work, 0, progress, null, null, check ?? CaseRunner.Run);
    }

    /// <summary>The worker's entry: runs from <paramref name="start"/> on, one protocol line per event on stdout.</summary>
    public static int Worker(IReadOnlyList<Case> table, Options options, int start, Func<Case, DType, List<CheckResult>>? check = null)
    {
        var stdout = Console.Out;
        RunInProcess(options.Select(table), start, TextWriter.Null, stdout, options.AbortAt, check ?? CaseRunner.Run);
        stdout.WriteLine(EndMark);
        stdout.Flush();
        return 0;
    }

    static List<CheckResult> RunInProcess(List<(Case Case, DType DType)> work, int start, TextWriter progress, TextWriter? protocol, string? abortAt,
        Func<Case, DType, List<CheckResult>> check)
    {
        var results = new List<CheckResult>();
        for (int k = start; k < work.Count; k++)
        {
            protocol?.WriteLine(BeginMark + k);
            protocol?.Flush();
            Progress(progress, k, work);
            if (work[k].Case.Name == abortAt && work[k].DType == DType.Float64)
                Environment.FailFast("isolation self-test: deliberate native abort");
            foreach (var r in check(work[k].Case, work[k].DType))
            {
                results.Add(r);
                protocol?.WriteLine(ResultMark + JsonSerializer.Serialize(r, CheckResult.Json));
            }
            protocol?.Flush();
        }
        return results;
    }

    static List<CheckResult> RunIsolated(List<(Case Case, DType DType)> work, Options options, TextWriter progress)
    {
        var results = new List<CheckResult>();
        int next = 0;
        while (next < work.Count)
        {
            using var worker = StartWorker(options, next);
            int current = -1;
            bool ended = false;
            string? line;
            while ((line = worker.StandardOutput.ReadLine()) != null)
            {
                if (line.StartsWith(BeginMark))
                {
                    current = int.Parse(line[BeginMark.Length..]);
                    Progress(progress, current, work);
                }
                else if (line.StartsWith(ResultMark))
                    results.Add(JsonSerializer.Deserialize<CheckResult>(line[ResultMark.Length..], CheckResult.Json)!);
                else if (line == EndMark)
                    ended = true;
            }
            worker.WaitForExit();
            if (ended && worker.ExitCode == 0) break;
            // the worker died inside work[current]: record it, then resume after it
            int failedAt = Math.Max(current, next);
            var (c, d) = work[failedAt];
            results.RemoveAll(r => r.Case == c.Name && r.DType == CheckResult.Name(d));
            results.Add(CheckResult.Error(c.Name, CheckResult.Name(d), "all",
                $"the process aborted (exit code {worker.ExitCode}) while running this case"));
            next = failedAt + 1;
        }
        return results;
    }

    static Process StartWorker(Options options, int start)
    {
        string dll = typeof(Runner).Assembly.Location;
        string appHost = Path.ChangeExtension(dll, null);
        var info = File.Exists(appHost) && !OperatingSystem.IsWindows()
            ? new ProcessStartInfo(appHost)
            : new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { ArgumentList = { "exec", dll } };
        info.ArgumentList.Add("--worker");
        info.ArgumentList.Add(start.ToString());
        foreach (var a in options.SelectionArgs()) info.ArgumentList.Add(a);
        info.RedirectStandardOutput = true;
        info.RedirectStandardError = false;
        info.UseShellExecute = false;
        return Process.Start(info) ?? throw new InvalidOperationException($"could not start the worker {info.FileName}");
    }

    static void Progress(TextWriter progress, int k, List<(Case Case, DType DType)> work) =>
        progress.WriteLine($"[{k + 1}/{work.Count}] {work[k].Case.Name} {CheckResult.Name(work[k].DType)}");
}
