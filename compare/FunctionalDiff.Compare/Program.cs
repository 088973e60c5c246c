using System.Globalization;
using FunctionalDiff.Compare.Bench;
using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;

// The main job: every case of the table checked against TorchSharp (libtorch autograd), first and
// second order, in float64 and float32, with a report. `bench` runs the benchmarks instead, `fuzz`
// the differential fuzzer, `loops` the loops behind the runtime's defaults (Bench/RuntimeLoops.cs), `train` whole training
// runs and the optimizers against TorchSharp (Train/);
// `--worker` is the isolated worker process the comparison and the fuzzer start for themselves.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "bench")
    return Benchmarks.Run(Console.Out, args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "loops")
    return RuntimeLoops.Run(Console.Out, args.Skip(1).ToArray());
if (args.Length > 0 && args[0] == "train")
    return FunctionalDiff.Compare.Train.TrainCommand.Run(args.Skip(1).ToArray(), Console.Out);
if (args.Length > 0 && args[0] == "fuzz")
    return FuzzCommand.Run(args.Skip(1).ToArray(), Console.Out, Console.Error);
if (args.Length > 1 && args[0] == "--worker")
    return CompareCommand.Worker(args);
return CompareCommand.Run(args, Console.Out, Console.Error);
