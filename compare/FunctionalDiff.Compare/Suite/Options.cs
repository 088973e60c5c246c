namespace FunctionalDiff.Compare.Suite;

/// <summary>Command-line options of the comparison: which cases, which dtypes, where the report goes.</summary>
public sealed record Options(string[] Filters, DType[] DTypes, string ResultsDir, bool Isolated, bool Quiet)
{
    /// <summary>
    /// Self-test of the isolation only: a worker aborts its process natively when it starts this case in float64.
    /// </summary>
    public string? AbortAt { get; init; }

    /// <summary>
    /// With <see cref="AbortAt"/>, self-test of the rerun: the worker aborts there only while this file does not exist,
    /// and creates it as it aborts, so the case's second worker runs it through.
    /// </summary>
    public string? AbortOnce { get; init; }

    /// <summary>The fuzzer's number of random programs (`fuzz --programs N`); null outside a fuzz run.</summary>
    public int? Programs { get; init; }

    /// <summary>The fuzzer's seed (`fuzz --seed S`): the same seed gives the same programs.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>The fuzzer's first program (`fuzz --start K`): a run checks programs K .. K+N-1 of its seed.</summary>
    public int Start { get; init; }

    /// <summary>The fuzzer's input distribution (`fuzz --inputs adversarial`): edge values instead of benign ones.</summary>
    public bool Adversarial { get; init; }

    /// <summary>The fuzzer's op surface (`fuzz --ops full|wide|classic|all|latest`): everything up to branch edges7 (the default), the
    /// surface drawn up to branch edges6, or only the ops drawn before the whole public surface was, so programs found then are
    /// drawn again as they were; or all, which adds the rest of the public surface, or latest, which adds to all the ops added since (branch fuzzops).</summary>
    public Fuzz.OpSurface Ops { get; init; } = Fuzz.OpSurface.Full;

    /// <summary>The fuzzer's vmap check (`fuzz --vmap`): each program under Diff.Vmap against its own per-example evaluation
    /// (<see cref="Fuzz.VmapCheck"/>) instead of the checks against torch.</summary>
    public bool Vmap { get; init; }

    /// <summary>The usage text.</summary>
    public const string Usage =
        "usage: FunctionalDiff.Compare [--filter TEXT]... [--dtype float32|float64|both] [--results DIR] [--in-process] [--quiet]\n" +
        "       FunctionalDiff.Compare bench [--quick]\n" +
        "       FunctionalDiff.Compare bench --nested [--quick] [--max-steps N] [--filter TEXT] [--thread-time]\n" +
        "       FunctionalDiff.Compare bench --steps [--quick]\n" +
        "       FunctionalDiff.Compare bench --linalg [--quick] [--thread-time]\n" +
        "       FunctionalDiff.Compare bench --conv [--quick]\n" +
        "       FunctionalDiff.Compare bench --vmap [--quick] [--thread-time]\n" +
        "       FunctionalDiff.Compare fuzz [--programs N] [--seed S] [--start K] [--dtype float32|float64|both] [--inputs benign|adversarial] [--ops full|wide|classic|all|latest] [--vmap] [--in-process] [--quiet]";

    /// <summary>Parses the options; unknown words raise ArgumentException with the usage text.</summary>
    public static Options Parse(IReadOnlyList<string> args)
    {
        var filters = new List<string>();
        var dtypes = new[] { DType.Float64, DType.Float32 };
        string results = "results";
        bool isolated = true, quiet = false;
        string? abortAt = null, abortOnce = null;
        int? programs = null;
        int seed = 1, start = 0;
        bool adversarial = false, vmap = false;
        var ops = Fuzz.OpSurface.Full;
        for (int i = 0; i < args.Count; i++)
        {
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{args[i]} needs a value\n{Usage}");
            switch (args[i])
            {
                case "--filter": filters.AddRange(Next().Split(',', StringSplitOptions.RemoveEmptyEntries)); break;
                case "--dtype":
                    dtypes = Next() switch
                    {
                        "float32" => new[] { DType.Float32 },
                        "float64" => new[] { DType.Float64 },
                        "both" => new[] { DType.Float64, DType.Float32 },
                        var other => throw new ArgumentException($"unknown dtype '{other}'\n{Usage}"),
                    };
                    break;
                case "--results": results = Next(); break;
                case "--in-process": isolated = false; break;
                case "--quiet": quiet = true; break;
                case "--vmap": vmap = true; break;
                case "--abort-at": abortAt = Next(); break;
                case "--abort-once": abortOnce = Next(); break;
                case "--programs": programs = Count(Next(), args[i - 1]); break;
                case "--seed": seed = int.TryParse(Next(), out var s) ? s : throw new ArgumentException($"--seed needs an integer\n{Usage}"); break;
                case "--start": start = int.TryParse(Next(), out var k) && k >= 0 ? k : throw new ArgumentException($"--start needs an integer >= 0\n{Usage}"); break;
                case "--inputs":
                    adversarial = Next() switch
                    {
                        "benign" => false,
                        "adversarial" => true,
                        var other => throw new ArgumentException($"unknown input distribution '{other}'\n{Usage}"),
                    };
                    break;
                case "--ops":
                    ops = Next() switch
                    {
                        "full" => Fuzz.OpSurface.Full,
                        "wide" => Fuzz.OpSurface.Wide,
                        "classic" => Fuzz.OpSurface.Classic,
                        "all" => Fuzz.OpSurface.All,
                        "latest" => Fuzz.OpSurface.Latest,
                        "newest" => Fuzz.OpSurface.Newest,
                        "fresh" => Fuzz.OpSurface.Fresh,
                        "recent" => Fuzz.OpSurface.Recent,
                        "special" => Fuzz.OpSurface.Special,
                        var other => throw new ArgumentException($"unknown op surface '{other}'\n{Usage}"),
                    };
                    break;
                default: throw new ArgumentException($"unknown option '{args[i]}'\n{Usage}");
            }
        }
        return new Options(filters.ToArray(), dtypes, results, isolated, quiet) { AbortAt = abortAt, AbortOnce = abortOnce, Programs = programs, Seed = seed, Start = start, Adversarial = adversarial, Ops = ops, Vmap = vmap };
    }

    static int Count(string text, string option) =>
        int.TryParse(text, out var n) && n > 0 ? n : throw new ArgumentException($"{option} needs a positive integer\n{Usage}");

    /// <summary>The arguments that select the same work in a worker process.</summary>
    public IEnumerable<string> SelectionArgs()
    {
        foreach (var f in Filters) { yield return "--filter"; yield return f; }
        yield return "--dtype";
        yield return DTypes.Length == 2 ? "both" : CheckResult.Name(DTypes[0]);
        if (AbortAt != null) { yield return "--abort-at"; yield return AbortAt; }
        if (AbortOnce != null) { yield return "--abort-once"; yield return AbortOnce; }
        if (Programs != null) { yield return "--programs"; yield return Programs.Value.ToString(); yield return "--seed"; yield return Seed.ToString(); yield return "--start"; yield return Start.ToString(); }
        if (Adversarial) { yield return "--inputs"; yield return "adversarial"; }
        if (Ops != Fuzz.OpSurface.Full) { yield return "--ops"; yield return Ops switch { Fuzz.OpSurface.Wide => "wide", Fuzz.OpSurface.All => "all", Fuzz.OpSurface.Latest => "latest", Fuzz.OpSurface.Newest => "newest", Fuzz.OpSurface.Fresh => "fresh", Fuzz.OpSurface.Recent => "recent", Fuzz.OpSurface.Special => "special", _ => "classic" }; }
        if (Vmap) yield return "--vmap";
    }

    /// <summary>The (case, dtype) pairs selected, in a fixed order shared by parent and workers.</summary>
    public List<(Case Case, DType DType)> Select(IReadOnlyList<Case> table) =>
        table.Where(c => Filters.Length == 0 || Filters.Any(f => c.Name.Contains(f, StringComparison.OrdinalIgnoreCase)))
             .SelectMany(c => DTypes.Select(d => (c, d)))
             .ToList();
}
