using System.Diagnostics;
using System.Text.Json;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// Runs the selected cases. A native abort inside libtorch kills its whole process and cannot be
/// caught in .NET, so the cases run in a worker process that streams each result as it finishes;
/// when a worker dies, a new worker runs the case it was running once more (a worker can die of
/// something outside the case: the host's load, a transient native failure), and if that one dies
/// there too, the case is recorded as failed and the next worker resumes with the next case. No
/// abort can hide the results of other cases, and an abort that repeats is always reported.
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
        return options.Isolated ? RunIsolated(work, options, progress) : RunInProcess(work, 0, progress, null, null, null, check ?? CaseRunner.Run);
    }

    /// <summary>The worker's entry: runs from <paramref name="start"/> on, one protocol line per event on stdout.</summary>
    public static int Worker(IReadOnlyList<Case> table, Options options, int start, Func<Case, DType, List<CheckResult>>? check = null)
    {
        var stdout = Console.Out;
        RunInProcess(options.Select(table), start, TextWriter.Null, stdout, options.AbortAt, options.AbortOnce, check ?? CaseRunner.Run);
        stdout.WriteLine(EndMark);
        stdout.Flush();
        return 0;
    }

    static List<CheckResult> RunInProcess(List<(Case Case, DType DType)> work, int start, TextWriter progress, TextWriter? protocol, string? abortAt,
        string? abortOnce, Func<Case, DType, List<CheckResult>> check)
    {
        var results = new List<CheckResult>();
        for (int k = start; k < work.Count; k++)
        {
            protocol?.WriteLine(BeginMark + k);
            protocol?.Flush();
            Progress(progress, k, work);
            if (work[k].Case.Name == abortAt && work[k].DType == DType.Float64 && AbortsNow(abortOnce))
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
        // the case a worker died in, and its exit code, while it has not been run a second time
        int abortedOnce = -1, firstExitCode = 0;
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
            // the worker died inside work[current]: run that case once more in a new worker; if it dies
            // there again, record it and resume after it
            int failedAt = Math.Max(current, next);
            var (c, d) = work[failedAt];
            results.RemoveAll(r => r.Case == c.Name && r.DType == CheckResult.Name(d));
            if (abortedOnce != failedAt)
            {
                progress.WriteLine($"the worker aborted (exit code {worker.ExitCode}) in {c.Name} {CheckResult.Name(d)}; running it again in a new worker");
                abortedOnce = failedAt;
                firstExitCode = worker.ExitCode;
                next = failedAt;
                continue;
            }
            results.Add(CheckResult.Error(c.Name, CheckResult.Name(d), "all",
                $"the process aborted twice (exit codes {firstExitCode} and {worker.ExitCode}) while running this case"));
            next = failedAt + 1;
        }
        return results;
    }

    /// <summary>
    /// The isolation self-test's choice: abort every time (no file given), or only when the file does not exist yet,
    /// which the abort creates (a worker that dies once, as one killed by something outside its case).
    /// </summary>
    static bool AbortsNow(string? abortOnce)
    {
        if (abortOnce is null) return true;
        if (File.Exists(abortOnce)) return false;
        File.WriteAllText(abortOnce, "aborted once");
        return true;
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
