using System.Diagnostics;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using static TorchSharp.torch;

namespace FunctionalDiff.Compare.Bench;

/// <summary>
/// Issue 18's workloads, a transform inside a loop, timed side by side with TorchSharp's nested
/// autograd in one process: `bench --nested`. Each figure is build + evaluation of the
/// meta-gradient, from the parameters to its numbers. Ours is built with the public C# API in the
/// row's modes (outer mode first); torch always computes it the way a PyTorch user does, reverse
/// over reverse with create_graph, so "ours / torch" compares each of our modes with torch's
/// fastest way. The models are the comparison table's (<see cref="NestedModels"/>), only longer.
/// </summary>
public static class NestedBench
{
    sealed record Row(string Workload, int Steps, Func<int, NestedModel> Model, int Size, ModePair Modes, string Target);

    static readonly ModePair ReverseOverReverse = new(Mode.Reverse, Mode.Reverse);
    static readonly ModePair ForwardOverReverse = new(Mode.Forward, Mode.Reverse);

    /// <summary>
    /// Runs the rows. `--quick` divides the step counts by 10; `--max-steps N` skips rows longer than
    /// N steps; `--filter TEXT` keeps the rows whose "workload modes" label contains TEXT;
    /// `--thread-time` times each side by the calling thread's CPU time instead of wall time (a
    /// loaded host inflates wall time by tens of percent, differently from one round to the next;
    /// needs one thread per library, DOTNET_PROCESSOR_COUNT=1, so torch's work is on the calling
    /// thread too). Returns the exit code.
    /// </summary>
    public static int Run(TextWriter output, IReadOnlyList<string> options)
    {
        if (BenchOptions.Parse(output, options) is not { } parsed) return 2;
        bool quick = parsed.Quick;
        bool threadTime = parsed.ThreadTime;
        var list = options.ToList();
        int maxSteps = int.MaxValue;
        int at = list.IndexOf("--max-steps");
        if (at >= 0 && (at + 1 >= list.Count || !int.TryParse(list[at + 1], out maxSteps)))
        {
            Console.Error.WriteLine("--max-steps needs a whole number\n" + Options.Usage);
            return 2;
        }
        int scale = quick ? 10 : 1;
        int small = 1_000 / scale, large = 10_000 / scale;
        var rows = new[]
        {
            new Row("bilevel descent", small, NestedModels.Bilevel, NestedModels.BilevelSize, ReverseOverReverse, "≤ 1.0×"),
            new Row("bilevel descent", large, NestedModels.Bilevel, NestedModels.BilevelSize, ReverseOverReverse, $"≤ 1.0×, and ≤ 11× ours at N = {small:N0}"),
            new Row("bilevel descent", small, NestedModels.Bilevel, NestedModels.BilevelSize, ForwardOverReverse, "≤ 2.0×"),
            new Row("particle rollout", 400 / scale, NestedModels.Particle, NestedModels.ParticleSize, ReverseOverReverse, "≤ 1.0×"),
            new Row("MAML step (k inner steps)", 5, NestedModels.Maml, NestedModels.MamlSize, ReverseOverReverse, "≤ 1.0×"),
        };
        parsed.WriteHeader(output, "Transforms inside loops: FunctionalDiff vs TorchSharp nested autograd");
        output.WriteLine("- float64; time = build + evaluation of the meta-gradient (the gradient of the objective in θ); " +
                         $"alternating rounds after a warm-up of each side at the row's size (at least two calls and half a second), medians; each row takes as many rounds (at least {MinRounds}, at most {MaxRounds}) as fill about {RowBudget(quick):F1} s of timed work, so a cheap row's median is over more rounds; " +
                         (threadTime ? "CPU time of the calling thread (a background garbage collection's thread is not counted)" : "wall time"));
        output.WriteLine("- ours: the row's modes (outer first; outer forward = `Diff.Linearize` of the objective once, then `Diff.Vmap` of its linear map over the basis vectors of θ, one batched JVP per basis vector, as jax.jacfwd: the primal and its inner gradients are built once); torch: reverse over reverse (`create_graph`) in every row");
        output.WriteLine();
        output.WriteLine("| workload | modes (ours) | steps | rounds | ours: build + eval | ours: build | torch rr | ours / torch | target | max rel. difference |");
        output.WriteLine("|---|---|---|---|---|---|---|---|---|---|");
        var clock = Stopwatch.StartNew();
        var oursTotals = new Dictionary<(string, int, string), (double Time, int Rounds)>();
        foreach (var row in rows.Where(r => parsed.Wanted($"{r.Workload} {r.Modes.Name}")))
        {
            if (row.Steps > maxSteps)
            {
                output.WriteLine($"| {row.Workload} | {row.Modes.Name} | {row.Steps:N0} | | skipped (--max-steps {maxSteps}) | | | | {row.Target} | |");
                continue;
            }
            var (ours, build, theirs, difference, rounds) = Measure(row, threadTime, RowBudget(quick));
            oursTotals[(row.Workload, row.Steps, row.Modes.Name)] = (ours, rounds);
            output.WriteLine($"| {row.Workload} | {row.Modes.Name} | {row.Steps:N0} | {rounds} | {Seconds(ours)} | {Seconds(build)} | {Seconds(theirs)} | {ours / theirs:F2}× | {row.Target} | {difference:E1} |");
            output.Flush();
        }
        output.WriteLine();
        if (oursTotals.TryGetValue(("bilevel descent", small, "rr"), out var smallRow) &&
            oursTotals.TryGetValue(("bilevel descent", large, "rr"), out var largeRow))
            output.WriteLine($"Our bilevel rr time at N = {large:N0} (median of {largeRow.Rounds} rounds) is {largeRow.Time / smallRow.Time:F1}× " +
                             $"our time at N = {small:N0} (median of {smallRow.Rounds} rounds) (linear: 10×).");
        output.WriteLine($"Total {clock.Elapsed.TotalSeconds:F0} s; load average at the end: {BenchOptions.LoadAverage()}.");
        return 0;
    }

    // At least five rounds, not three: the 10,000-step row is compared with the 1,000-step one, and a
    // median of three rounds moved that ratio by about 10% from run to run on a quiet host. A cheap
    // row gets more: a round of the 1,000-step row (~0.35 s for both sides) sees less of the host's
    // drift than a round of the 10,000-step row (~3.5 s), so with five rounds each its median moved
    // by up to 40% between runs (124 to 172 ms on one quiet morning), far more than the long row's.
    // Rounds are added until the row's timed work (both sides, pauses not counted) fills a budget,
    // so the cheap rows' medians average over a comparable stretch of time; the cap bounds the
    // millisecond rows, whose pauses would otherwise dominate the run.
    const int MinRounds = 5, MaxRounds = 60;

    /// <summary>
    /// The timed work each row aims for, in seconds: about half of what the 10,000-step row's five
    /// rounds take (a full budget would triple the run's length for little more precision).
    /// </summary>
    static double RowBudget(bool quick) => quick ? 0.8 : 8.0;

    /// <summary>
    /// Whether a row needs another round after <paramref name="done"/> rounds whose timed work (both
    /// sides) added up to <paramref name="seconds"/>.
    /// </summary>
    static bool MoreRounds(int done, double seconds, double budget) =>
        done < MinRounds || (done < MaxRounds && seconds < budget);

    static (double Ours, double OursBuild, double Torch, double Difference, int Rounds) Measure(Row row, bool threadTime, double budget)
    {
        var wall = Stopwatch.StartNew();
        Func<double> clock = threadTime ? Benchmarks.ThreadSeconds : () => wall.Elapsed.TotalSeconds;
        var model = row.Model(row.Steps);
        var theta = Tensor.RandomNormal(new[] { row.Size }, seed: 7);
        double[] thetaValues = theta.ToDoubleArray();

        double[] OursOnce(NestedModel m, out double build)
        {
            double start = clock();
            var gradient = row.Modes.Outer == Mode.Forward ? LinearizedMetaGradient(m, row.Modes, theta) : OurNested.MetaGradient(m, row.Modes, theta);
            build = clock() - start;
            return gradient.Eval().ToDoubleArray();
        }

        double[] TorchOnce(NestedModel m)
        {
            using var scope = torch.NewDisposeScope();
            var t = torch.tensor(thetaValues, dtype: ScalarType.Float64).requires_grad_(true);
            return TorchNested.MetaGradient(m, ReverseOverReverse, t, createGraph: false).data<double>().ToArray();
        }

        // Warm-up at the row's own size, as the other tables warm up: a first call at a new size
        // grows both sides' heaps and pools, so the first builds of a long row are slower than the
        // later ones, and a row with the fewest rounds would keep that in its median.
        Benchmarks.WarmUp(() => OursOnce(model, out _));
        Benchmarks.WarmUp(() => TorchOnce(model));

        var oursTimes = new List<double>();
        var buildTimes = new List<double>();
        var torchTimes = new List<double>();
        double[] ours = Array.Empty<double>(), theirs = Array.Empty<double>();
        // both sides run the same number of rounds: a round is one call of each
        int rounds = 0;
        double timed = 0;
        while (MoreRounds(rounds, timed, budget))
        {
            Thread.Sleep(Benchmarks.PauseMilliseconds);
            double start = clock();
            ours = OursOnce(model, out double build);
            oursTimes.Add(clock() - start);
            buildTimes.Add(build);

            Thread.Sleep(Benchmarks.PauseMilliseconds);
            start = clock();
            theirs = TorchOnce(model);
            torchTimes.Add(clock() - start);
            timed += oursTimes[^1] + torchTimes[^1];
            rounds++;
        }
        return (Benchmarks.Median(oursTimes), Benchmarks.Median(buildTimes), Benchmarks.Median(torchTimes), Benchmarks.MaxRelativeDifference(ours, theirs), rounds);
    }

    /// <summary>
    /// The forward-mode meta-gradient as a JAX user writes it for many tangents (jax.jacfwd):
    /// `Diff.Linearize` traces the objective (with its inner gradients in the inner mode) once,
    /// and `Diff.Vmap` pushes every basis tangent of θ through its linear map at once. Still one
    /// JVP per basis vector; the primal and the inner gradients are built and evaluated once, and
    /// the tangent graph is built once for all of them, batched, instead of once per basis vector.
    /// </summary>
    static Expr LinearizedMetaGradient(NestedModel model, ModePair modes, Expr theta)
    {
        var (_, jvp) = Diff.Linearize(t => model.Ours(OurNested.Inner(modes.Inner), t), theta);
        int n = theta.Shape.Aggregate(1, (a, b) => a * b);
        var identity = new double[n * n];
        for (int i = 0; i < n; i++) identity[i * n + i] = 1;
        // row i is J e_i, one entry of the gradient of a one-element objective
        var basis = OurSide.Make(identity, new[] { n }.Concat(theta.Shape).ToArray(), theta.DType);
        return Diff.Vmap(jvp)(basis).Reshape(theta.Shape);
    }

    static string Seconds(double s) => s >= 1 ? $"{s:F2} s" : $"{s * 1e3:F1} ms";

}
