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
        if (dtype == DType.Float64) return Float64(program, toCase);
        var results = CaseRunner.Run(toCase(program), dtype);
        if (results.All(r => r.Passed)) return results;
        var float64 = Float64(program.RoundedToFloat32(), toCase);
        return results.Select(r => !r.Passed && r.Note.Length == 0 && float64.Any(q => q.Check == r.Check && q.Passed)
            ? r with { Passed = true, Note = AllowanceNote } : r).ToList();
    }

    /// <summary>The note of a float64 check excused by the conditioning rule (see <see cref="Float64"/>).</summary>
    public const string ConditioningNote = "ill-conditioned: the difference is within what the inputs' last bits change in torch's own result";

    /// <summary>How many times torch's own change under last-bit changes of the inputs a difference may be.</summary>
    public const double ConditioningFactor = 4;

    /// <summary>
    /// The float64 checks, where a failed check is excused when the check is ill-conditioned: every entry
    /// that differs is within <see cref="ConditioningFactor"/> times the largest change of torch's own result
    /// when the program's input and constant values, and torch's rounding of each step, move by one ulp
    /// (three draws, see <see cref="FuzzProgram.Perturbed"/>), plus the tolerance. The tolerance is relative to the values a
    /// program computes, but a derivative can multiply the rounding of those values by far more: LayerNorm's
    /// second derivative over two entries 5 ulp apart is proportional to their difference, which the
    /// rounding of the mean alone changes by 20% (`fuzz 3/1245`, second-order check: exact ±3.075e-8 from the
    /// closed form, ours ±3.214e-8, torch 3.425e-8 and −3.015e-8; no float64 engine that rounds the mean meets
    /// the strict check), and two float64 engines then differ by as much as a last bit of the input moves
    /// either. Each draw also rounds every step's output on the torch side to a neighbouring float, so an
    /// amplified rounding inside the program counts as well (`fuzz 3/162`: a layer norm over exact ties whose
    /// second derivative is rounding noise of terms 300 times the values). The draws keep
    /// zeros, integers, halves and ties exact (equal values move together), so a program at a kink stays at
    /// it and a wrong derivative there is not excused; NaN and infinities are compared as always.
    /// </summary>
    static List<CheckResult> Float64(FuzzProgram program, Func<FuzzProgram, Case> toCase)
    {
        var c = toCase(program);
        var results = CaseRunner.Run(c, DType.Float64);
        if (results.All(r => r.Passed || r.Note.Length > 0)) return results;
        try
        {
            var probe = Probe.For(c);
            probe.SetOutputSize(OurSide.OutputSize(c, probe, DType.Float64), c.Seed);
            bool withHessian = CaseRunner.WithHessian(c);
            var ours = OurSide.Run(c, probe, DType.Float64, withHessian);
            var torch = TorchSide.Run(c, probe, DType.Float64, withHessian);
            var moved = Enumerable.Range(1, 3).Select(draw =>
            {
                var pc = toCase(program.Perturbed(draw));
                var pp = Probe.For(pc);
                pp.SetOutputSize(probe.Cotangent.Length, pc.Seed);
                return TorchSide.Run(pc, pp, DType.Float64, withHessian);
            }).ToList();
            var tolerance = c.ToleranceFor(DType.Float64);
            return results.Select(r =>
            {
                if (r.Passed || r.Note.Length > 0 || !Enum.TryParse<Check>(r.Check, out var check)) return r;
                var a = ours[check];
                var b = torch[check];
                var explained = (double[])a.Clone();
                for (int i = 0; i < a.Length && i < b.Length; i++)
                {
                    if (!double.IsFinite(a[i]) || !double.IsFinite(b[i])) continue;
                    double change = 0;
                    foreach (var m in moved)
                        change = double.IsFinite(m[check][i]) ? Math.Max(change, Math.Abs(m[check][i] - b[i])) : double.NaN;
                    if (Math.Abs(a[i] - b[i]) <= ConditioningFactor * change) explained[i] = b[i];
                }
                return CheckResult.Compare(c.Name, DType.Float64, check, explained, b, tolerance).Passed
                    ? r with { Passed = true, Note = ConditioningNote } : r;
            }).ToList();
        }
        catch (Exception)
        {
            return results; // the checks ran once already; a second run that throws excuses nothing
        }
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
