using System.CommandLine;
using System.Globalization;
using FunctionalDiff.Compare.Bench;
using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using FunctionalDiff.Compare.Train;

namespace FunctionalDiff.Compare;

/// <summary>
/// The command line, declared with System.CommandLine: the comparison (the root command) and the
/// subcommands bench, fuzz, train and loops, each with its options, descriptions and --help.
/// System.CommandLine parses and validates; each action hands the commands their options in
/// canonical form. (The hidden worker mode, `--worker START ...`, is the parent's protocol with its
/// worker processes and is read by <see cref="Options.Parse"/>, not typed by users.)
/// </summary>
public static class Cli
{
    static Option<string> DTypeOption() =>
        new Option<string>("--dtype") { Description = "which dtypes to check", DefaultValueFactory = _ => "both", HelpName = "float32|float64|both" }
            .Also(o => o.AcceptOnlyFromAmong("float32", "float64", "both"));

    static Option<T> Also<T>(this Option<T> option, Action<Option<T>> configure)
    {
        configure(option);
        return option;
    }

    static Option<int> Positive(string name, string description, int defaultValue)
    {
        var option = new Option<int>(name) { Description = description, DefaultValueFactory = _ => defaultValue, HelpName = "N" };
        option.Validators.Add(r =>
        {
            if (r.GetValueOrDefault<int>() <= 0) r.AddError($"{name} needs a positive integer");
        });
        return option;
    }

    /// <summary>The root command with every subcommand; actions write to <paramref name="output"/> and <paramref name="error"/>.</summary>
    public static RootCommand Build(TextWriter output, TextWriter error)
    {
        var filter = new Option<string[]>("--filter") { Description = "cases whose name contains TEXT (repeatable, or comma-separated)", HelpName = "TEXT", DefaultValueFactory = _ => [] };
        var dtype = DTypeOption();
        var results = new Option<string>("--results") { Description = "where the report goes", DefaultValueFactory = _ => "results", HelpName = "DIR" };
        var inProcess = new Option<bool>("--in-process") { Description = "run the cases in this process instead of isolated workers" };
        var quiet = new Option<bool>("--quiet") { Description = "no progress lines" };
        var abortAt = new Option<string?>("--abort-at") { Hidden = true, Description = "self-test of the isolation: a worker aborts natively at this case" };
        var root = new RootCommand("FunctionalDiff against TorchSharp: every case of the table checked (value, VJP, second order, JVP, compiled) in both dtypes, with a report.")
        {
            filter, dtype, results, inProcess, quiet, abortAt,
        };
        root.SetAction(r =>
        {
            var args = new List<string>();
            foreach (var f in r.GetValue(filter)!) args.AddRange(["--filter", f]);
            args.AddRange(["--dtype", r.GetValue(dtype)!, "--results", r.GetValue(results)!]);
            if (r.GetValue(inProcess)) args.Add("--in-process");
            if (r.GetValue(quiet)) args.Add("--quiet");
            if (r.GetValue(abortAt) is { } a) args.AddRange(["--abort-at", a]);
            return CompareCommand.Run([.. args], output, error);
        });

        root.Subcommands.Add(BenchCommand(output));
        root.Subcommands.Add(FuzzCommandLine(output, error));
        root.Subcommands.Add(TrainCommandLine(output));
        root.Subcommands.Add(LoopsCommand(output));
        root.Subcommands.Add(TieringCommand(output));
        return root;
    }

    static Command BenchCommand(TextWriter output)
    {
        var quick = new Option<bool>("--quick") { Description = "small sizes only (or step counts divided by 10)" };
        var nested = new Option<bool>("--nested") { Description = "the transforms-inside-loops table instead" };
        var steps = new Option<bool>("--steps") { Description = "the training-steps table instead" };
        var linalg = new Option<bool>("--linalg") { Description = "the linear-algebra table instead" };
        var conv = new Option<bool>("--conv") { Description = "the convolution rows instead" };
        var vmap = new Option<bool>("--vmap") { Description = "the vmap table instead" };
        var scan = new Option<bool>("--scan") { Description = "the loops table (Scan, recurrent models) instead" };
        var ops = new Option<bool>("--ops") { Description = "the table of single ops' gradients (softmax, gelu, index_select, ...) instead" };
        var adbench = new Option<bool>("--adbench") { Description = "the ADBench objectives (GMM, LSTM) with their gradients instead" };
        var threadTime = new Option<bool>("--thread-time") { Description = "with --steps, --linalg, --conv, --vmap, --scan, --ops, --adbench or --nested: CPU time of the calling thread (for a loaded host; needs DOTNET_PROCESSOR_COUNT=1)" };
        var maxSteps = new Option<int?>("--max-steps") { Description = "with --nested: rows of at most N steps", HelpName = "N" };
        var filter = new Option<string?>("--filter") { Description = "with --steps, --nested, --scan or --adbench: rows whose name contains TEXT", HelpName = "TEXT" };
        var child = new Option<bool>(StepsBench.TrainingOption) { Hidden = true, Description = "the training loop's child process" };
        var chainChild = new Option<bool>(StepsBench.ChainOption) { Hidden = true, Description = "the 10^6-op chain's child process" };
        var bench = new Command("bench", "Benchmarks side by side with TorchSharp (matrix products and elementwise ops by default).")
        {
            quick, nested, steps, linalg, conv, vmap, threadTime, maxSteps, filter, child, chainChild, scan, ops, adbench,
        };
        bench.SetAction(r =>
        {
            var args = new List<string>();
            if (r.GetValue(nested)) args.Add("--nested");
            if (r.GetValue(steps)) args.Add("--steps");
            if (r.GetValue(linalg)) args.Add("--linalg");
            if (r.GetValue(conv)) args.Add("--conv");
            if (r.GetValue(vmap)) args.Add("--vmap");
            if (r.GetValue(scan)) args.Add("--scan");
            if (r.GetValue(ops)) args.Add("--ops");
            if (r.GetValue(adbench)) args.Add("--adbench");
            if (r.GetValue(threadTime)) args.Add("--thread-time");
            if (r.GetValue(child)) args.Add(StepsBench.TrainingOption);
            if (r.GetValue(chainChild)) args.Add(StepsBench.ChainOption);
            if (r.GetValue(quick)) args.Add("--quick");
            if (r.GetValue(maxSteps) is { } m) args.AddRange(["--max-steps", m.ToString(CultureInfo.InvariantCulture)]);
            if (r.GetValue(filter) is { } f) args.AddRange(["--filter", f]);
            return Benchmarks.Run(output, args);
        });
        return bench;
    }

    static Command FuzzCommandLine(TextWriter output, TextWriter error)
    {
        var programs = Positive("--programs", "how many random programs", 300);
        var seed = new Option<int>("--seed") { Description = "the run's seed: the same seed gives the same programs", DefaultValueFactory = _ => 1, HelpName = "S" };
        var start = new Option<int>("--start") { Description = "the index of the first program (rerun one program K with --start K --programs 1)", DefaultValueFactory = _ => 0, HelpName = "K" };
        start.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<int>() < 0) result.AddError("--start needs an integer >= 0");
        });
        var dtype = DTypeOption();
        var inProcess = new Option<bool>("--in-process") { Description = "run the programs in this process instead of isolated workers" };
        var quiet = new Option<bool>("--quiet") { Description = "no progress lines" };
        var inputs = new Option<string>("--inputs") { Description = "how inputs are drawn: benign (the default, the README's figures) or adversarial (signed zeros, ties, kinks, overflowing and denormal magnitudes, more infinities and NaN)", DefaultValueFactory = _ => "benign", HelpName = "benign|adversarial" }
            .Also(o => o.AcceptOnlyFromAmong("benign", "adversarial"));
        var ops = new Option<string>("--ops") { Description = "which ops programs draw: full (the whole public surface, the default), wide (the surface drawn up to branch edges6, before the ops added since) or classic (the ops drawn before the wide surface), so older programs come out as they were; all adds the rest of the public surface (branch surface10) to full, and latest the ops added since (branch fuzzops: the SVD family, kthvalue, conv3d, grid_sample and affine_grid, CTC loss, segment softmax) to all, and newest the ops added after those (branch fuzznew: the 1-D, 3-D and adaptive pools, ceil mode and the average pools' options, conv_transpose1d, quantile and nanquantile, the margin losses, rms_norm, local_response_norm, bilinear, gumbel_softmax) to latest, and fresh the ops added after those (branch edges: torch.special's Bessel functions, erfcx, ndtr, log_ndtr, ndtri, entr, xlog1py, multigammaln, matrix_exp, the numerical conveniences from diff to tensordot, the dropout variants with their noise given, conv_transpose3d, the RNN cell) to newest, and recent the ops added after those (branch fuzzops: the manipulation conveniences from atleast_nd to var_mean, the BLAS-style products, multi_dot, vecdot, cholesky_inverse, the 3-D adaptive and LP pools, softmax2d, cond, matrix_rank, vector_norm, the Bessel functions J, Y and K) to fresh, and special the ops added after those (branch fuzzspecial: torch.special's gammainc, gammaincc and zeta, differentiated in their second operand) to recent", DefaultValueFactory = _ => "full", HelpName = "full|wide|classic|all|latest|newest|fresh|recent|special" }
            .Also(o => o.AcceptOnlyFromAmong("full", "wide", "classic", "all", "latest", "newest", "fresh", "recent", "special"));
        var vmap = new Option<bool>("--vmap") { Description = "instead of the checks against torch, check each program under Diff.Vmap (value, per-example gradients, compiled) against its own evaluation example by example" };
        var fuzz = new Command("fuzz", "The differential fuzzer: random programs checked against TorchSharp, failures shrunk and printed as C#.")
        {
            programs, seed, start, dtype, inProcess, quiet, inputs, ops, vmap,
        };
        fuzz.SetAction(r =>
        {
            var args = new List<string>
            {
                "--programs", r.GetValue(programs).ToString(CultureInfo.InvariantCulture),
                "--seed", r.GetValue(seed).ToString(CultureInfo.InvariantCulture),
                "--start", r.GetValue(start).ToString(CultureInfo.InvariantCulture),
                "--dtype", r.GetValue(dtype)!,
                "--inputs", r.GetValue(inputs)!,
                "--ops", r.GetValue(ops)!,
            };
            if (r.GetValue(inProcess)) args.Add("--in-process");
            if (r.GetValue(quiet)) args.Add("--quiet");
            if (r.GetValue(vmap)) args.Add("--vmap");
            return FuzzCommand.Run([.. args], output, error);
        });
        return fuzz;
    }

    static Command TrainCommandLine(TextWriter output)
    {
        var steps = new Option<int>("--steps") { Description = "training steps per run (0: the optimizer checks only)", DefaultValueFactory = _ => 500, HelpName = "N" };
        var optimizerSteps = Positive("--optimizer-steps", "steps of each optimizer check", 100);
        var outDir = new Option<string>("--out") { Description = "where the figures and the CSV go", DefaultValueFactory = _ => "results", HelpName = "DIR" };
        var train = new Command("train", "The optimizers against torch.optim, and whole training runs against TorchSharp step by step, with figures.")
        {
            steps, optimizerSteps, outDir,
        };
        train.SetAction(r => TrainCommand.Run(
            ["--steps", r.GetValue(steps).ToString(CultureInfo.InvariantCulture),
             "--optimizer-steps", r.GetValue(optimizerSteps).ToString(CultureInfo.InvariantCulture),
             "--out", r.GetValue(outDir)!], output));
        return train;
    }

    static Command LoopsCommand(TextWriter output)
    {
        var loop = new Argument<string>("loop") { Description = "adds | train (with on|off), or gaps | gemm (with SPIN_US GAP_US)" };
        loop.AcceptOnlyFromAmong("adds", "train", "gaps", "gemm");
        var values = new Argument<string[]>("values") { Description = "on|off, or SPIN_US GAP_US", Arity = ArgumentArity.OneOrMore };
        var loops = new Command("loops", "The loops behind the runtime's defaults (recycling, spinning), measured one at a time.") { loop, values };
        loops.SetAction(r => RuntimeLoops.Run(output, [r.GetValue(loop)!, .. r.GetValue(values)!]));
        return loops;
    }

    static Command TieringCommand(TextWriter output)
    {
        var steps = new Option<int[]>("--steps") { Description = "loop lengths, comma-separated", DefaultValueFactory = _ => [100, 10_000], HelpName = "N,M", CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',')).Select(v => int.Parse(v, CultureInfo.InvariantCulture)).ToArray() };
        var rounds = Positive("--rounds", "child processes per setting (tiered and untiered alternate)", 5);
        var mode = new Option<string[]>("--mode") { Description = "which loops: compiled (Diff.Compile, InvokeInto), uncompiled (ValueAndGrad + EvalMany), comma-separated", DefaultValueFactory = _ => ["compiled", "uncompiled"], HelpName = "compiled,uncompiled", CustomParser = r => r.Tokens.SelectMany(t => t.Value.Split(',')).ToArray() };
        mode.Validators.Add(r =>
        {
            foreach (var m in r.GetValueOrDefault<string[]>() ?? [])
                if (m != "compiled" && m != "uncompiled") r.AddError($"--mode takes compiled or uncompiled, not {m}");
        });
        var tiering = new Command("tiering", "A small training loop in fresh processes with .NET's default tiered compilation against TieredCompilation=0 (issue 12's 1.2x bound).") { steps, rounds, mode };
        tiering.SetAction(r => TieringBench.Run(output, r.GetValue(steps)!, r.GetValue(rounds), r.GetValue(mode)!));
        return tiering;
    }
}
