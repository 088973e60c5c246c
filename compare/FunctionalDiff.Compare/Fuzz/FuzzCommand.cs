using System.Diagnostics;
using FunctionalDiff.Compare.Suite;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>
/// `fuzz --programs N --seed S`: N random programs checked against TorchSharp in both dtypes, through the
/// comparison suite's runner (worker processes, tolerances, checks); prints a summary and every distinct
/// shrunk failure as C#. The exit code is 0 only when no program fails.
/// </summary>
public static class FuzzCommand
{
    /// <summary>The programs of a run: program k's seed follows from the run's seed and k alone.</summary>
    /// <param name="count">How many programs.</param>
    /// <param name="seed">The run's seed.</param>
    /// <param name="start">The index of the first program.</param>
    /// <param name="adversarial">Whether inputs and constants are drawn from <see cref="Generator"/>'s adversarial distribution.</param>
    /// <param name="ops">Which ops programs draw (<see cref="OpSurface"/>): the classic or wide surface gives the programs
    /// drawn before the later ops were.</param>
    public static List<FuzzProgram> Programs(int count, int seed, int start = 0, bool adversarial = false, OpSurface ops = OpSurface.Full) =>
        Enumerable.Range(start, count).Select(k => Generator.Generate(ProgramName(seed, k, adversarial, ops), ProgramSeed(seed, k), adversarial, ops)).ToList();

    /// <summary>The name of program <paramref name="k"/> of a run, <c>fuzz [classic |wide |all ][adversarial ]S/k</c>: it says
    /// everything that decides the program (the dtype does not: both dtypes check the same drawn program, a float32 run
    /// at its inputs rounded to float32).</summary>
    public static string ProgramName(int seed, int k, bool adversarial, OpSurface ops) =>
        $"fuzz {Prefix(ops)}{(adversarial ? "adversarial " : "")}{seed}/{k}";

    /// <summary>
    /// The command that reruns the program named <paramref name="name"/> (see <see cref="ProgramName"/>) alone, in
    /// <paramref name="dtype"/> and in process: the run's seed, input distribution and op surface, with <c>--start k
    /// --programs 1</c>. Null for a name no run draws (a program a test builds).
    /// </summary>
    public static string? ReplayCommand(string name, DType dtype)
    {
        var m = System.Text.RegularExpressions.Regex.Match(name, @"^fuzz (?:(classic|wide|all|latest|newest|fresh|recent|special) )?(adversarial )?(-?\d+)/(\d+)$");
        if (!m.Success) return null;
        return "dotnet compare/FunctionalDiff.Compare/bin/Release/net10.0/FunctionalDiff.Compare.dll fuzz " +
               $"--seed {m.Groups[3].Value} --start {m.Groups[4].Value} --programs 1 --dtype {CheckResult.Name(dtype)}" +
               (m.Groups[2].Success ? " --inputs adversarial" : "") + (m.Groups[1].Success ? $" --ops {m.Groups[1].Value}" : "") + " --in-process";
    }

    static string Prefix(OpSurface ops) => ops switch { OpSurface.Classic => "classic ", OpSurface.Wide => "wide ", OpSurface.All => "all ", OpSurface.Latest => "latest ", OpSurface.Newest => "newest ", OpSurface.Fresh => "fresh ", OpSurface.Recent => "recent ", OpSurface.Special => "special ", _ => "" };

    static int ProgramSeed(int seed, int k) => unchecked(seed * 1_000_003 + k * 7_919 + 17);

    /// <summary>The results of every program in every selected dtype (isolated in workers unless --in-process).</summary>
    public static List<CheckResult> Check(Options options, TextWriter progress)
    {
        var (cases, check) = Table(options);
        return Runner.Run(cases, options, progress, check);
    }

    /// <summary>The programs as comparison cases, and the check that runs one (allowance and shrinking included).</summary>
    public static (List<Case> Cases, Func<Case, DType, List<CheckResult>> Check) Table(Options options)
    {
        var programs = Programs(options.Programs ?? throw new ArgumentException("--programs is required"), options.Seed, options.Start, options.Adversarial, options.Ops);
        var byCase = new Dictionary<Case, FuzzProgram>(ReferenceEqualityComparer.Instance);
        var cases = new List<Case>();
        foreach (var p in programs)
        {
            // the vmap check needs no torch side, so not the torch forward run ToCase makes
            var c = options.Vmap ? new Case(p.Name, p.InputShapes.Select(s => new InputSpec(s)).ToArray(), xs => OurInterpreter.Run(p, xs),
                _ => throw new InvalidOperationException("the vmap check has no torch side")) : p.ToCase();
            byCase[c] = p;
            cases.Add(c);
        }
        return (cases, options.Vmap ? (c, dtype) => VmapCheck.Run(byCase[c], dtype, options.Adversarial) : (c, dtype) => FuzzCheck.Run(byCase[c], dtype));
    }

    /// <summary>The worker process's entry for a fuzz run.</summary>
    public static int Worker(Options options, int start)
    {
        var (cases, check) = Table(options);
        return Runner.Worker(cases, options, start, check);
    }

    /// <summary>Runs the fuzzer from the command line.</summary>
    public static int Run(string[] args, TextWriter output, TextWriter progress)
    {
        Options options;
        try { options = Options.Parse(args); }
        catch (ArgumentException e) { progress.WriteLine(e.Message); return 2; }
        if (options.Programs is null) options = options with { Programs = 300 };
        output.WriteLine($"FunctionalDiff vs TorchSharp {typeof(TorchSharp.torch).Assembly.GetName().Version}: {options.Programs} random programs, " +
                         $"seed {options.Seed}{(options.Adversarial ? ", adversarial inputs" : "")}{(options.Ops == OpSurface.Full ? "" : $", {Prefix(options.Ops)}ops")}{(options.Start > 0 ? $" from program {options.Start}" : "")}{(options.Vmap ? $", Diff.Vmap over {VmapCheck.BatchSize} examples against each example" : "")}, {string.Join(" and ", options.DTypes.Select(CheckResult.Name))}");
        var clock = Stopwatch.StartNew();
        var results = Check(options, options.Quiet ? TextWriter.Null : progress);
        clock.Stop();
        var summary = Summary.Of(results);
        summary.Print(output);
        if (options.Vmap) output.WriteLine(VmapCheck.Exactness(results));
        output.WriteLine($"{clock.Elapsed.TotalSeconds:0} s");
        return summary.Failed == 0 ? 0 : 1;
    }

    /// <summary>What a fuzz run found: per dtype, programs passed, failed and excused; the distinct failures; and the
    /// programs passed as ill-conditioned (the conditioning rule), listed by name since they did not agree.</summary>
    public sealed record Summary(List<(string DType, int Programs, int Passed, int Failed, int Excused, int Conditioned)> PerDType, List<(string Repro, List<string> Programs)> Distinct,
        List<string> IllConditioned)
    {
        /// <summary>Failed (program, dtype) pairs.</summary>
        public int Failed => PerDType.Sum(d => d.Failed);

        /// <summary>Summarises a run's results.</summary>
        public static Summary Of(IReadOnlyList<CheckResult> results)
        {
            var perDType = results.GroupBy(r => r.DType).Select(g =>
            {
                var programs = g.GroupBy(r => r.Case).ToList();
                int failed = programs.Count(p => p.Any(r => !r.Passed));
                int excused = programs.Count(p => p.All(r => r.Passed) && p.Any(r => r.Note is FuzzCheck.AllowanceNote or FuzzCheck.AllowanceConventionNote or VmapCheck.AllowanceNote));
                int conditioned = programs.Count(p => p.All(r => r.Passed) && p.Any(r => r.Note == FuzzCheck.ConditioningNote));
                return (g.Key, programs.Count, programs.Count - failed, failed, excused, conditioned);
            }).ToList();
            var illConditioned = results.GroupBy(r => (r.Case, r.DType))
                .Where(p => p.All(r => r.Passed) && p.Any(r => r.Note == FuzzCheck.ConditioningNote))
                .Select(p => $"{p.Key.Case} {p.Key.DType} ({string.Join(", ", p.Where(r => r.Note == FuzzCheck.ConditioningNote).Select(r => r.Check))})")
                .ToList();
            // one entry per distinct failure: the shrunk program's ops and failing checks (its first line)
            var distinct = results.Where(r => !r.Passed && r.Check is FuzzCheck.ReproCheck or "all")
                .GroupBy(r => r.Check == "all" ? "the worker process aborted" : r.Note.Split('\n')[0])
                .Select(g => (g.OrderBy(r => r.Note.Length).First().Note, g.Select(r => $"{r.Case} {r.DType}").ToList()))
                .ToList();
            return new Summary(perDType, distinct, illConditioned);
        }

        /// <summary>Prints the totals, then every distinct failure with the programs that shrank to it.</summary>
        public void Print(TextWriter output)
        {
            foreach (var (dtype, programs, passed, failed, excused, conditioned) in PerDType)
                output.WriteLine($"{dtype}: {programs} programs, {passed} passed ({excused} by the float32 allowance, {conditioned} by the conditioning rule), {failed} failed");
            if (IllConditioned.Count > 0)
                output.WriteLine($"ill-conditioned (passed by the conditioning rule, not by agreement): {string.Join("; ", IllConditioned)}");
            output.WriteLine($"{Distinct.Count} distinct failures");
            int k = 0;
            foreach (var (repro, programs) in Distinct)
            {
                output.WriteLine();
                output.WriteLine($"---- failure {++k}: {programs.Count} program(s): {string.Join(", ", programs.Take(6))}{(programs.Count > 6 ? ", …" : "")}");
                output.WriteLine(repro.TrimEnd());
            }
        }
    }
}
