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

    /// <summary>The note of a float32 check that the float64 run at the same rounded inputs does not compare, by a named
    /// convention (<see cref="Case.Skipped"/>); counted with the allowance.</summary>
    public const string AllowanceConventionNote = "float32 allowance: at the same rounded inputs this check is not compared, by a named convention";

    /// <summary>
    /// The program's check results. A failed float32 check is excused when the same check passes in float64
    /// at the float32-rounded inputs (by agreement, not by the conditioning rule): the difference then comes from
    /// float32 rounding, which both engines amplify differently through a random program, not from a wrong formula.
    /// Checks that still fail go to the conditioning rule (<see cref="Conditioned"/>). A failure that remains adds a
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
        results.Add(CheckResult.Error(program.Name, CheckResult.Name(dtype), ReproCheck, Describe(shown, dtype, shownResults, program.Compact())));
        return results;
    }

    /// <summary>The checks with the float32 allowance and the conditioning rule applied; exceptions become failed checks
    /// with the exception in the note.</summary>
    /// <param name="program">The program.</param>
    /// <param name="dtype">The dtype of the run.</param>
    /// <param name="toCase">How a program becomes a case (by default <see cref="FuzzProgram.ToCase"/>; the fuzzer's own tests substitute a wrong one).</param>
    public static List<CheckResult> Checked(FuzzProgram program, DType dtype, Func<FuzzProgram, Case>? toCase = null)
    {
        toCase ??= p => p.ToCase();
        var c = toCase(program);
        var results = CaseRunner.Run(c, dtype);
        if (results.All(r => r.Passed || r.Note.Length > 0)) return results;
        if (dtype == DType.Float32)
        {
            // The float32 run computes with the inputs rounded to float32, so the conventions named at those values hold for
            // it as they do for the float64 run there, which skips those checks; before this, such a check found no float64
            // result to be excused by (`fuzz adversarial 7/20`: −1e160 rounds to −∞ and the float64 run at the rounded inputs
            // met a convolution convention the float32 run, named at the float64 inputs, did not).
            var roundedCase = toCase(program.RoundedToFloat32());
            results = results.Select(r => !r.Passed && r.Note.Length == 0 && Enum.TryParse<Check>(r.Check, out var k) && roundedCase.Skipped.Contains(k)
                ? r with { Passed = true, Note = AllowanceConventionNote } : r).ToList();
            if (results.All(r => r.Passed || r.Note.Length > 0)) return results;
            var float64 = Checked(program.RoundedToFloat32(), DType.Float64, toCase);
            // only float64's agreement excuses float32: a float64 check passed as ill-conditioned says nothing of the
            // formula at its unstable entries, so such a check goes on to the conditioning rule in float32 (`fuzz 1/1544`)
            results = results.Select(r => !r.Passed && r.Note.Length == 0 && float64.Any(q => q.Check == r.Check && q.Passed && q.Note.Length == 0)
                ? r with { Passed = true, Note = AllowanceNote } : r).ToList();
            if (results.All(r => r.Passed || r.Note.Length > 0)) return results;
        }
        return Conditioned(program, c, dtype, toCase, results);
    }

    /// <summary>The note of a check passed by the conditioning rule (see <see cref="Conditioned"/>): the program is
    /// counted and listed as ill-conditioned, never as agreeing.</summary>
    public const string ConditioningNote = "ill-conditioned: the difference is within what the inputs' last bits change in torch's own result";

    /// <summary>How many times torch's own change under last-bit changes of the inputs a finite difference may be.</summary>
    public const double ConditioningFactor = 4;

    /// <summary>The input moves of the conditioning rule: every entry by +1, −1, +2 and −2 ulps of the check's dtype.</summary>
    public static readonly int[] ConditioningShifts = { 1, -1, 2, -2 };

    /// <summary>
    /// How many draws of <see cref="FuzzProgram.Perturbed"/> the conditioning rule runs. Each draw rounds every step another
    /// way, and an entry whose sign is decided by that rounding flips in only some of them: the second order of
    /// cos(exp(t)) at exp(t) = 1.6e15 in float32, where one ulp of exp is 1.3e8 (`fuzz adversarial 1/166`: ours, one ulp of
    /// exp below torch's, −∞, torch +∞), flips in 4 of 16 draws, so three draws missed it with odds of about 2 in 5, and
    /// twelve miss it with odds of about 1 in 30. The draws run only for checks that fail, so more of them cost nothing elsewhere.
    /// </summary>
    public const int ConditioningDraws = 12;

    /// <summary>
    /// The conditioning rule, applied to the checks that still fail: torch's own result is computed again at inputs and
    /// constants moved by last bits, and an entry where ours and torch's differ is explained only when torch's own entry is
    /// unstable there (<see cref="Explained"/>): it changes sign, or moves by more than the entry's tolerance, and ours lies
    /// within what it moves to. The check passes, with <see cref="ConditioningNote"/>, when it passes with the explained
    /// entries; every other entry is compared as before, so a wrong derivative beside an ill-conditioned entry still fails.
    /// <para>The moves: every entry by ±1 and ±2 ulps of the check's dtype (<see cref="FuzzProgram.Shifted"/>), and
    /// <see cref="ConditioningDraws"/> draws that move each entry one float64 ulp in a direction of its own (lost in a float32 run's rounding) and make
    /// the torch side scale every step's output, and so its derivative, by 1 ± one ulp of 1 in the check's dtype
    /// (<see cref="FuzzProgram.Perturbed"/>), as another engine might round them. All keep zeros, infinities, NaN,
    /// integers, halves and ties as values, so a program at a kink stays at it.</para>
    /// <para>Why: the tolerance is relative to the values a program computes, but a derivative can multiply the rounding
    /// of those values by far more. LayerNorm's second derivative over two entries 5 ulp apart is proportional to their
    /// difference, which the rounding of the mean alone changes by 20% (`fuzz 3/1245`: exact ±3.075e-8 from the closed
    /// form, ours ±3.214e-8, torch 3.425e-8 and −3.015e-8; no float64 engine that rounds the mean meets the strict check);
    /// an amplified rounding inside the program counts as well (`fuzz 3/162`: a layer norm over exact ties whose second
    /// derivative is rounding noise of terms 300 times the values). And the sign of a result can be noise: the Hessian
    /// of cos(exp(exp(c·tan(tanh x)))) at x = 1.0208 is dominated by −cos(E)·E′², E ≈ 4e192, which one ulp of x moves by
    /// about 1e180, so cos(E) and the overflowing entry's sign (+∞ at x, −∞ one ulp below, in exact arithmetic too)
    /// are decided by rounding in every engine (`fuzz adversarial 15/232`: ours −∞, torch +∞).</para>
    /// </summary>
    static List<CheckResult> Conditioned(FuzzProgram program, Case c, DType dtype, Func<FuzzProgram, Case> toCase, List<CheckResult> results)
    {
        try
        {
            var probe = Probe.For(c);
            probe.SetOutputSize(OurSide.OutputSize(c, probe, dtype), c.Seed);
            bool withHessian = CaseRunner.WithHessian(c, dtype);
            var ours = OurSide.Run(c, probe, dtype, withHessian);
            var torch = TorchSide.Run(c, probe, dtype, withHessian);
            var draws = ConditioningShifts.Select(k => program.Shifted(k, dtype)).ToList();
            draws.AddRange(Enumerable.Range(1, ConditioningDraws).Select(program.Perturbed));
            var moved = draws.Select(p =>
            {
                var pc = toCase(p);
                var pp = Probe.For(pc);
                pp.SetOutputSize(probe.Cotangent.Length, pc.Seed);
                return TorchSide.Run(pc, pp, dtype, withHessian);
            }).ToList();
            var tolerance = c.ToleranceFor(dtype);
            return results.Select(r =>
            {
                if (r.Passed || r.Note.Length > 0 || !Enum.TryParse<Check>(r.Check, out var check)) return r;
                var a = ours[check];
                var b = torch[check];
                double floor = Floor(b, tolerance);
                var explained = (double[])a.Clone();
                for (int i = 0; i < a.Length && i < b.Length; i++)
                    if (moved.All(m => m[check].Length == b.Length)
                        && Explained(a[i], b[i], moved.Select(m => m[check][i]), tolerance.Relative * (double.IsNaN(b[i]) ? 0 : Math.Abs(b[i])) + floor))
                        explained[i] = b[i];
                return CheckResult.Compare(c.Name, dtype, check, explained, b, tolerance).Passed
                    ? r with { Passed = true, Note = ConditioningNote } : r;
            }).ToList();
        }
        catch (Exception)
        {
            return results; // the checks ran once already; a second run that throws excuses nothing
        }
    }

    /// <summary>The absolute floor of a comparison with torch's result b, as <see cref="CheckResult.Compare(string, DType, Check, double[], double[], Tolerance)"/> computes it.</summary>
    static double Floor(double[] b, Tolerance tolerance)
    {
        double scale = b.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        if (scale == 0) scale = 1;
        return tolerance.AbsoluteFloor * Math.Max(scale, tolerance.ScaleAtLeast);
    }

    /// <summary>
    /// Whether the difference between our entry <paramref name="ours"/> and torch's <paramref name="torch"/> is explained
    /// by the entry's conditioning: torch's own entry, at the moved inputs (<paramref name="moved"/>), changes sign (±∞
    /// included) or moves by more than <paramref name="tolerance"/> (an infinity: to anything else), and ours lies
    /// within what it moves to: for finite numbers within <see cref="ConditioningFactor"/> times torch's largest move,
    /// otherwise (an infinity on either side) between the smallest and the largest of torch's results. A NaN of ours is
    /// explained only where torch's own entry takes both +∞ and −∞, or is NaN under a move; against a number of ours, a NaN
    /// of torch's under a move counts only where its entry takes both infinities under the others too, and a NaN of
    /// torch's at the program's point only where the moves make it a number (<see cref="RoundingDecidesTheNaN"/>).
    /// </summary>
    /// <param name="ours">Our entry.</param>
    /// <param name="torch">Torch's entry at the program's point.</param>
    /// <param name="moved">Torch's entry under each move.</param>
    /// <param name="tolerance">The entry's tolerance (for a NaN of torch's, the check's absolute floor).</param>
    public static bool Explained(double ours, double torch, IEnumerable<double> moved, double tolerance)
    {
        var m = moved.ToList();
        if (m.Count == 0) return false;
        if (double.IsNaN(torch)) return RoundingDecidesTheNaN(ours, m, tolerance);
        // torch's own entry is +∞ under some moves and −∞ under others: its sign is rounding, and so is whether an engine
        // meets both overflows in one sum, ∞ − ∞ = NaN (`fuzz adversarial 16/93`: a gradient through solve(A, A), whose
        // rounding residues of the identity reach 1e160 weights and overflow with either sign), or a residue that rounds to
        // exactly 0 meets the infinite slope as 0·∞ = NaN (`fuzz all adversarial 44/210`: a batch norm's cotangent to a shift
        // of its group, exactly 0, rounds to ±tiny or 0 and meets ψ(−5e-324) = +∞: torch's +∞, −∞ or NaN by the move)
        bool bothInfinities = m.Append(torch).Contains(double.PositiveInfinity) && m.Append(torch).Contains(double.NegativeInfinity);
        bool nanUnderAMove = m.Any(double.IsNaN);
        // torch's own entry is a number at the program's point and NaN under a move: whether a step meets a domain edge (√ or
        // log of a negative number) is decided by rounding, so a NaN of ours is one of torch's own outcomes (`fuzz
        // adversarial 16/84`: √cos(1e30·erfinv(tanh x)), ours NaN where torch's is a number and NaN under 6 moves of 16)
        if (double.IsNaN(ours)) return bothInfinities || nanUnderAMove;
        if (nanUnderAMove)
        {
            if (!bothInfinities) return false;
            m = m.Where(v => !double.IsNaN(v)).ToList();
        }
        double change = m.Max(v => v == torch ? 0 : Math.Abs(v - torch));
        bool signChange = m.Any(v => Math.Sign(v) * Math.Sign(torch) < 0);
        bool unstable = signChange || (double.IsFinite(torch) ? change > tolerance : m.Any(v => v != torch));
        if (!unstable) return false;
        if (double.IsFinite(ours) && double.IsFinite(torch) && double.IsFinite(change))
            return Math.Abs(ours - torch) <= ConditioningFactor * change;
        return Math.Min(torch, m.Min()) <= ours && ours <= Math.Max(torch, m.Max());
    }

    /// <summary>
    /// Whether torch's NaN at the program's point, against our number <paramref name="ours"/>, is explained: a step met a
    /// domain edge (√ or log of a negative number) that the rounding of its operand decides, so that torch's own entry is a
    /// number under some of the moves (<paramref name="moved"/>; a NaN that every move keeps is structural, 0·∞ or ∞ − ∞ of
    /// values the moves keep, and never explained), and ours lies among those numbers: between the smallest and the
    /// largest, each widened by <paramref name="tolerance"/>. So an entry the NaN only passes through (a tiny weight times
    /// the NaN cotangent) is held to torch's stable numbers under the moves, as to any other result of torch's.
    /// `fuzz adversarial 16/84` shrunk: √cos(1e30·tanh x) at x = 0.7071067811865476, where one ulp of tanh x moves the
    /// cosine's argument by 1.1e14: torch's tanh, the correctly rounded one, gives cos = −0.627 and √ of it NaN; ours, one
    /// ulp above (0.63 ulp from the exact tanh, a faithful rounding), cos = 0.676; the exact value is √0.792; torch's own
    /// value under the moves lies between 0.76 and 0.93, and is NaN under 1 of 16.
    /// </summary>
    static bool RoundingDecidesTheNaN(double ours, List<double> moved, double tolerance)
    {
        var numbers = moved.Where(v => !double.IsNaN(v)).ToList();
        if (numbers.Count == 0 || double.IsNaN(ours)) return false;
        return numbers.Min() - tolerance <= ours && ours <= numbers.Max() + tolerance;
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

    /// <summary>The repro: which checks fail and by how much, the command that replays the program, the probe vectors the
    /// checks use, and the program as C#; when the program shown is a shrunk form of the one drawn
    /// (<paramref name="drawn"/>), the drawn program's inputs too, as float64 literals: shrinking may turn intermediates
    /// into inputs and make numbers rounder, and a float32 repro prints its inputs rounded, so the shown inputs are not
    /// those a replay draws.</summary>
    public static string Describe(FuzzProgram program, DType dtype, IReadOnlyList<CheckResult> results, FuzzProgram? drawn = null)
    {
        var text = new System.Text.StringBuilder();
        text.AppendLine(SignaturePrefix + string.Join(" ", program.Steps.Where(st => st.Kind != OpKind.Const).Select(st => st.Kind)) +
                        " | " + string.Join(" ", results.Where(r => !r.Passed).Select(r => r.Check + (r.Note.Length > 0 ? " (threw)" : ""))));
        text.AppendLine($"// {program.Name}, {CheckResult.Name(dtype)}, shrunk to {program.Steps.Length} steps; failing checks:");
        if (FuzzCommand.ReplayCommand(program.Name, dtype) is string replay) text.AppendLine("// replay (the program as drawn): " + replay);
        foreach (var r in results.Where(r => !r.Passed))
            text.AppendLine($"//   {r.Check}: " + (r.Note.Length > 0 ? r.Note : $"max abs error {r.MaxAbsError:0.###e+0}, max rel error {r.MaxRelError:0.###e+0}"));
        var details = Details(program, dtype, results.Where(r => !r.Passed).Select(r => r.Check).ToHashSet());
        foreach (var line in details) text.AppendLine("//   " + line);
        bool shrunk = drawn != null && !(drawn.Steps.Length == program.Steps.Length && drawn.InputCount == program.InputCount
            && drawn.InputValues.Zip(program.InputValues).All(pair => pair.First.SequenceEqual(pair.Second)));
        if (shrunk)
        {
            text.AppendLine($"// the inputs as drawn, before shrinking (float64; {drawn!.Steps.Length} steps):");
            foreach (var line in CSharpPrinter.PrintInputs(drawn, DType.Float64).Split('\n', StringSplitOptions.RemoveEmptyEntries))
                text.AppendLine("//   " + line.TrimEnd('\r'));
            text.AppendLine("// the shrunk program:");
        }
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
