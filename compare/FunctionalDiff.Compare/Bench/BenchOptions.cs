using TorchSharp;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// The options every side-by-side table of `bench` reads (`--quick`, `--thread-time`, `--filter TEXT`),
/// parsed in one place, and the header lines every table starts with, so the tables cannot drift
/// apart in how they read their options or describe the run.
/// </summary>
sealed class BenchOptions
{
    /// <summary>Fewer rounds (or smaller sizes), as each table documents.</summary>
    public bool Quick { get; }

    /// <summary>Time by the calling thread's CPU time (needs DOTNET_PROCESSOR_COUNT=1), not wall time.</summary>
    public bool ThreadTime { get; }

    /// <summary>Only the rows whose workload contains this text (case-insensitive); null for every row.</summary>
    public string? Filter { get; }

    readonly IReadOnlyList<string> raw;

    BenchOptions(IReadOnlyList<string> options, bool quick, bool threadTime, string? filter) =>
        (raw, Quick, ThreadTime, Filter) = (options, quick, threadTime, filter);

    /// <summary>
    /// Reads the options, or writes why they cannot be used and returns null: `--filter` without a
    /// value, or `--thread-time` with more than one processor (torch would then run on other threads,
    /// whose CPU time the calling thread's clock does not see).
    /// </summary>
    public static BenchOptions? Parse(TextWriter output, IReadOnlyList<string> options)
    {
        int at = options.ToList().IndexOf("--filter");
        if (at >= 0 && at + 1 >= options.Count)
        {
            output.WriteLine("--filter needs a value (`bench --help` lists the options)");
            return null;
        }
        bool threadTime = options.Contains("--thread-time");
        if (threadTime && Environment.ProcessorCount != 1)
        {
            output.WriteLine("--thread-time needs one thread per library: run with DOTNET_PROCESSOR_COUNT=1");
            return null;
        }
        return new BenchOptions(options, options.Contains("--quick"), threadTime, at >= 0 ? options[at + 1] : null);
    }

    /// <summary>Whether the row named <paramref name="workload"/> passes the filter.</summary>
    public bool Wanted(string workload) => Filter is null || workload.Contains(Filter, StringComparison.OrdinalIgnoreCase);

    /// <summary>Medians of both sides over alternating rounds, by the clock the options chose.</summary>
    public (double Ours, double Theirs) Medians(Action ours, Action theirs)
    {
        if (ThreadTime) return Benchmarks.ThreadTimeMedians(Quick, ours, theirs);
        var (o, t, _) = Benchmarks.Medians(Quick, ours, theirs);
        return (o, t);
    }

    /// <summary>
    /// The table's title and the lines every table starts with: date and load, the command that
    /// reproduces it, and the machine (processors, .NET and its tiering, TorchSharp and its threads).
    /// Sets torch's thread count to the processor count first, as every table runs it.
    /// </summary>
    public void WriteHeader(TextWriter output, string title)
    {
        torch.set_num_threads(Environment.ProcessorCount);
        output.WriteLine("## " + title);
        output.WriteLine();
        output.WriteLine($"- date: {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC; load average at start: {LoadAverage()}");
        output.WriteLine($"- command: `dotnet run -c Release --project compare/FunctionalDiff.Compare -- bench{string.Concat(raw.Select(o => " " + o))}`");
        output.WriteLine($"- machine: {Benchmarks.CpuName()}, {Environment.ProcessorCount} logical processors; .NET {Environment.Version} " +
                         $"(tiered compilation: {AppContext.GetData("System.Runtime.TieredCompilation") ?? "default"}), TorchSharp {typeof(torch).Assembly.GetName().Version}, torch threads: {torch.get_num_threads()}");
    }

    /// <summary>
    /// One call of each side compared (the largest relative difference of all their results), then both sides'
    /// medians by the clock the options chose. Each torch call runs in a dispose scope, so its intermediates and
    /// results are freed at once rather than left to the finalizer thread.
    /// </summary>
    public (double Ours, double Theirs, double Difference) SideBySide(Func<Tensor[]> ours, Func<torch.Tensor[]> theirs)
    {
        double[] oursValues = ours().SelectMany(t => t.ToDoubleArray()).ToArray();
        double[] theirValues;
        using (var scope = torch.NewDisposeScope())
            theirValues = theirs().SelectMany(t => t.to_type(torch.ScalarType.Float64).data<double>().ToArray()).ToArray();
        var (o, t) = Medians(() => ours(), () => { using var scope = torch.NewDisposeScope(); theirs(); });
        return (o, t, Benchmarks.MaxRelativeDifference(oursValues, theirValues));
    }

    /// <summary>The line that says which clock the table's times are read from.</summary>
    public void WriteClock(TextWriter output) =>
        output.WriteLine(ThreadTime
            ? "- clock: CPU time of the calling thread per call (both libraries on one thread), so other processes' load does not count"
            : "- clock: wall time per call");

    /// <summary>The host's load averages over 1, 5 and 15 minutes, as /proc/loadavg gives them.</summary>
    public static string LoadAverage()
    {
        try { return string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { return "unknown"; }
    }
}
