using System.Globalization;
using FunctionalDiff.Compare;

// The main job. For now: a smoke comparison of libtorch's first and second derivatives of
// x·sin x against the closed forms, evaluated with FunctionalDiff's own tensors.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
CultureInfo.CurrentCulture = CultureInfo.InvariantCulture;
return SmokeReport.Run(Console.Out);
