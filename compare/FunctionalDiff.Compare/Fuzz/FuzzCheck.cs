using FunctionalDiff.Compare.Suite;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>
/// Checks one program in one dtype with the comparison suite's checks and tolerances
/// (<see cref="CaseRunner"/>), applies the float32 allowance, and shrinks a failure to a minimal program.
/// </summary>
public static class FuzzCheck
{
    /// <summary>The name of the extra result that carries a failure's shrunk repro in its note.</summary>
    public const string ReproCheck = "Repro";

    /// <summary>The note of a float32 check excused by the allowance.</summary>
    public const string AllowanceNote = "float32 allowance: float64 at the same rounded inputs agrees with torch";

    /// <summary>
    /// The program's check results. A failed float32 check is excused when the same check passes in float64
    /// at the float32-rounded inputs: the difference then comes from float32 rounding, which both engines
    /// amplify differently through a random program, not from a wrong formula. A failure that remains adds a
    /// <see cref="ReproCheck"/> result whose note is the shrunk program printed as C#.
    /// </summary>
    public static List<CheckResult> Run(FuzzProgram program, DType dtype, bool shrink = true)
    {
        var results = Checked(program, dtype);
        var failed = results.Where(r => !r.Passed).ToList();
        if (failed.Count == 0 || !shrink) return results;
        var small = Shrinker.Shrink(program, dtype, Signature(failed));
        var smallResults = Checked(small, dtype);
        // A failure that does not reproduce in a second run (the shrunk program passes) is shown as it was found.
        var (shown, shownResults) = smallResults.Any(r => !r.Passed) ? (small, smallResults) : (program.Compact(), results);
        results.Add(CheckResult.Error(program.Name, CheckResult.Name(dtype), ReproCheck, Describe(shown, dtype, shownResults)));
        return results;
    }

    /// <summary>The checks with the allowance applied; exceptions become failed checks with the exception in the note.</summary>
    /// <param name="program">The program.</param>
    /// <param name="dtype">The dtype of the run.</param>
    /// <param name="toCase">How a program becomes a case (by default <see cref="FuzzProgram.ToCase"/>; the fuzzer's own tests substitute a wrong one).</param>
    public static List<CheckResult> Checked(FuzzProgram program, DType dtype, Func<FuzzProgram, Case>? toCase = null)
    {
        toCase ??= p => p.ToCase();
        var results = CaseRunner.Run(toCase(program), dtype);
        if (dtype == DType.Float64 || results.All(r => r.Passed)) return results;
        var float64 = CaseRunner.Run(toCase(program.RoundedToFloat32()), DType.Float64);
        return results.Select(r => !r.Passed && r.Note.Length == 0 && float64.Any(q => q.Check == r.Check && q.Passed)
            ? r with { Passed = true, Note = AllowanceNote } : r).ToList();
    }

    /// <summary>What identifies a failure while shrinking: the failed checks, and whether the run threw.</summary>
    public sealed record FailureSignature(string[] Checks, bool Threw);

    /// <summary>The signature of a set of failed results.</summary>
    public static FailureSignature Signature(IReadOnlyList<CheckResult> failed) =>
        new(failed.Select(r => r.Check).Distinct().ToArray(), failed.Any(r => r.Note.Length > 0));

    /// <summary>True when the program still fails the same way: one of the same checks, thrown or not as before.</summary>
    public static bool FailsLike(FuzzProgram program, DType dtype, FailureSignature signature)
    {
        var failed = Checked(program, dtype).Where(r => !r.Passed).ToList();
        if (failed.Count == 0) return false;
        bool threw = failed.Any(r => r.Note.Length > 0);
        return threw == signature.Threw && failed.Any(r => signature.Checks.Contains(r.Check));
    }

    /// <summary>The first line of a repro: the shrunk program's ops and its failing checks, the same in both dtypes.</summary>
    public const string SignaturePrefix = "// failure: ";

    /// <summary>The repro: which checks fail and by how much, the probe vectors they use, and the program as C#.</summary>
    public static string Describe(FuzzProgram program, DType dtype, IReadOnlyList<CheckResult> results)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(SignaturePrefix + string.Join(" ", program.Steps.Where(st => st.Kind != OpKind.Const).Select(st => st.Kind)) +
                        " | " + string.Join(" ", results.Where(r => !r.Passed).Select(r => r.Check + (r.Note.Length > 0 ? " (threw)" : ""))));
        text.AppendLine($"// {program.Name}, {CheckResult.Name(dtype)}, shrunk to {program.Steps.Length} steps; failing checks:");
        foreach (var r in results.Where(r => !r.Passed))
            text.AppendLine($"//   {r.Check}: " + (r.Note.Length > 0 ? r.Note : $"max abs error {r.MaxAbsError:0.###e+0}, max rel error {r.MaxRelError:0.###e+0}"));
        var details = Details(program, dtype, results.Where(r => !r.Passed).Select(r => r.Check).ToHashSet());
        foreach (var line in details) text.AppendLine("//   " + line);
        text.Append(CSharpPrinter.Print(program, dtype));
        return text.ToString();
    }

    /// <summary>Ours and torch's numbers for each failing check, and the random vectors the checks used.</summary>
    static IEnumerable<string> Details(FuzzProgram program, DType dtype, HashSet<string> failing)
    {
        var lines = new List<string>();
        try
        {
            var c = program.ToCase();
            var probe = Probe.For(c);
            probe.SetOutputSize(OurSide.OutputSize(c, probe, dtype), c.Seed);
            bool withHessian = c.InputSize <= CaseRunner.HessianInputLimit;
            var ours = OurSide.Run(c, probe, dtype, withHessian);
            var torch = TorchSide.Run(c, probe, dtype, withHessian);
            foreach (var check in ours.Keys.Where(k => failing.Contains(k.ToString())))
            {
                lines.Add($"{check} ours:  [{Short(ours[check])}]");
                lines.Add($"{check} torch: [{Short(torch[check])}]");
            }
            if (failing.Overlaps(new[] { "Vjp", "SecondOrder", "Hessian" })) lines.Add($"cotangent u = [{Short(probe.Cotangent)}]");
            if (failing.Contains("SecondOrder")) lines.Add($"direction v = [{Short(probe.Direction.SelectMany(d => d))}]");
            if (failing.Contains("Jvp")) lines.Add($"tangent t = [{Short(probe.Tangent.SelectMany(d => d))}]");
        }
        catch (Exception e)
        {
            lines.Add($"(no numbers: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})");
        }
        return lines;
    }

    static string Short(IEnumerable<double> values)
    {
        var list = values.ToList();
        var shown = list.Take(12).Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture));
        return string.Join(", ", shown) + (list.Count > 12 ? $", … ({list.Count} values)" : "");
    }
}
