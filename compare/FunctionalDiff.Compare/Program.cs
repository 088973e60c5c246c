using System.Globalization;
using FunctionalDiff.Compare;
using FunctionalDiff.Compare.Bench;

// The main job. For now: a smoke comparison of libtorch's first and second derivatives of
// x·sin x against the closed forms, evaluated with FunctionalDiff's own tensors.
// With `bench` as the first argument: the benchmarks against TorchSharp instead (`--quick` for a short run).
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
if (args.Length > 0 && args[0] == "bench")
    return Benchmarks.Run(Console.Out, args.Skip(1).ToArray());
return SmokeReport.Run(Console.Out);
