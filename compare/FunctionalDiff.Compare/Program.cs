using System.Globalization;
using FunctionalDiff.Compare.Suite;

// The main job: every case of the table checked against TorchSharp (libtorch autograd), first and
// second order, in float64 and float32, with a report. `bench` runs the benchmarks instead, `fuzz`
// the differential fuzzer, `loops` the loops behind the runtime's defaults (Bench/RuntimeLoops.cs), `tiering` a training loop
// under tiered compilation against TieredCompilation=0 (Bench/TieringBench.cs), `train` whole training
// runs and the optimizers against TorchSharp (Train/);
// `--worker` is the isolated worker process the comparison and the fuzzer start for themselves.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
// the worker protocol between the parent and its worker processes, not a user command
if (args.Length > 1 && args[0] == "--worker")
    return CompareCommand.Worker(args);
// one timed loop of `tiering` in a fresh process, not a user command
if (args.Length == 3 && args[0] == FunctionalDiff.Compare.Bench.TieringBench.ChildOption)
    return FunctionalDiff.Compare.Bench.TieringBench.ChildMain(Console.Out, args[1], int.Parse(args[2], CultureInfo.InvariantCulture));
return FunctionalDiff.Compare.Cli.Build(Console.Out, Console.Error).Parse(args).Invoke();
