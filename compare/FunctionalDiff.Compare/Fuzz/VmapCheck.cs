using FunctionalDiff.Compare.Suite;

namespace FunctionalDiff.Compare.Fuzz;

/// <summary>
/// `fuzz --vmap`: each random program f checked under <see cref="Diff.Vmap(Func{Expr[], Expr}, int?[], int)"/> against
/// itself, example by example. No torch: our own per-example evaluation is the specification, so a batching rule is held
/// to the op it batches. A batch holds <see cref="BatchSize"/> examples: the program's drawn inputs and inputs drawn as
/// they were from other seeds (<see cref="Generator.RedrawInputs"/>). With several inputs, one is shared by every example
/// (inAxes null) and another carries its examples along an axis other than 0. Three checks:
/// <see cref="ValueCheck"/> (vmap of f against f of each example, stacked), <see cref="GradCheck"/> (vmap of the
/// gradient, per-example gradients, against the gradient of each example) and <see cref="CompiledCheck"/> (both from one
/// compiled function of the batched inputs, Diff.Compile).
/// </summary>
public static class VmapCheck
{
    /// <summary>Examples per batch.</summary>
    public const int BatchSize = 3;

    /// <summary>vmap of f against f of each example.</summary>
    public const string ValueCheck = "Vmap";

    /// <summary>vmap of grad ⟨f, u⟩ (grad f for a one-element f) against the gradient of each example.</summary>
    public const string GradCheck = "VmapGrad";

    /// <summary>The two above from one compiled function of the batched inputs.</summary>
    public const string CompiledCheck = "VmapCompiled";

    /// <summary>The note of a check that passed within the tolerance but not bit for bit: a batched kernel (a matmul with
    /// the batch folded into its rows, a reduction over a longer axis) adds in another order than the per-example one.</summary>
    public const string InexactNote = "within the tolerance, not bit for bit";

    /// <summary>The note of a check where a further example's evaluation rejects its values (Cholesky of a matrix that is not
    /// positive definite: an op that checks its operand when it runs) and vmap rejects the batch the same way.</summary>
    public const string RejectedNote = "an example's values are rejected by an op, and the batch by the same op";

    /// <summary>The note of a float32 check excused because the float64 check at the same rounded inputs agrees.</summary>
    public const string AllowanceNote = "float32 allowance: float64 at the same rounded inputs agrees with the per-example evaluation";

    /// <summary>A program's batch: the examples' inputs (<c>Examples[b][i]</c>, input i of example b) and each input's batch
    /// axis (null: shared, every example reads example 0's value).</summary>
    public sealed record Batch(double[][][] Examples, int?[] InAxes)
    {
        /// <summary>The examples rounded to float32, as a float32 run sees them.</summary>
        public Batch RoundedToFloat32() => this with
        {
            Examples = Examples.Select(e => e.Select(v => v.Select(x => (double)(float)x).ToArray()).ToArray()).ToArray(),
        };

        /// <summary>Input i of example b as that example reads it.</summary>
        public double[] Input(int b, int i) => InAxes[i] is null ? Examples[0][i] : Examples[b][i];
    }

    /// <summary>
    /// The batch of a program: example 0 is the program's own inputs, the others are drawn from seeds that follow from the
    /// program's. With several inputs, input (seed mod n) is shared and the next one carries its examples along axis 1 to
    /// its rank (one of the axes after 0, by the seed); the rest along axis 0.
    /// </summary>
    public static Batch BatchOf(FuzzProgram p, bool adversarial)
    {
        var examples = new double[BatchSize][][];
        examples[0] = p.InputValues;
        for (int b = 1; b < BatchSize; b++) examples[b] = Generator.RedrawInputs(p, unchecked(p.Seed * 7 + b), adversarial);
        var axes = new int?[p.InputCount];
        for (int i = 0; i < axes.Length; i++) axes[i] = 0;
        int n = p.InputCount, seed = p.Seed & int.MaxValue;
        if (n >= 2)
        {
            int shared = seed % n, moved = (shared + 1) % n;
            axes[shared] = null;
            int rank = p.InputShapes[moved].Length;
            if (rank > 0) axes[moved] = 1 + seed / n % rank;
        }
        return new Batch(examples, axes);
    }

    /// <summary>The program's vmap checks in one dtype, with the float32 allowance; a failure is shrunk and its repro
    /// added as a <see cref="FuzzCheck.ReproCheck"/> result, as <see cref="FuzzCheck.Run"/> does.</summary>
    public static List<CheckResult> Run(FuzzProgram program, DType dtype, bool adversarial, bool shrink = true)
    {
        var results = Checked(program, dtype, adversarial);
        var failed = results.Where(r => !r.Passed).ToList();
        if (failed.Count == 0 || !shrink) return results;
        var signature = FuzzCheck.Signature(failed);
        var small = Shrinker.Shrink(program, candidate => FailsLike(candidate, dtype, adversarial, signature));
        var smallResults = Checked(small, dtype, adversarial);
        var (shown, shownResults) = smallResults.Any(r => !r.Passed) ? (small, smallResults) : (program.Compact(), results);
        results.Add(CheckResult.Error(program.Name, CheckResult.Name(dtype), FuzzCheck.ReproCheck, Describe(shown, dtype, adversarial, shownResults)));
        return results;
    }

    /// <summary>
    /// The checks of the program's batch (<see cref="BatchOf"/>). A float32 check that fails passes with
    /// <see cref="AllowanceNote"/> when the same check passes in float64 at the float32-rounded program and batch: the
    /// batched kernels add in another order, and a random program amplifies float32's rounding of that, as the fuzzer's
    /// float32 allowance says for torch; float64's agreement shows that the batching rule computes the same function.
    /// </summary>
    public static List<CheckResult> Checked(FuzzProgram program, DType dtype, bool adversarial)
    {
        var batch = BatchOf(program, adversarial);
        var results = Compare(program, batch, dtype);
        if (dtype == DType.Float32 && results.Any(r => !r.Passed && r.Note.Length == 0))
        {
            var float64 = Compare(program.RoundedToFloat32(), batch.RoundedToFloat32(), DType.Float64);
            results = results.Select(r => !r.Passed && r.Note.Length == 0 && float64.Any(q => q.Check == r.Check && q.Passed)
                ? r with { Passed = true, Note = AllowanceNote } : r).ToList();
        }
        return results;
    }

    static bool FailsLike(FuzzProgram program, DType dtype, bool adversarial, FuzzCheck.FailureSignature signature)
    {
        var failed = Checked(program, dtype, adversarial).Where(r => !r.Passed).ToList();
        return failed.Count > 0 && failed.Any(r => r.Note.Length > 0) == signature.Threw && failed.Any(r => signature.Checks.Contains(r.Check));
    }

    /// <summary>
    /// The three checks. Each compares with the suite's comparison (<see cref="CheckResult.Compare(string, DType, string, double[], double[], Tolerance)"/>):
    /// NaN where the reference is NaN, infinities of the same sign, finite entries within the fuzzer's tolerance of the
    /// dtype (the cast tolerance in float64 when a value passes through float32, whose rounding a summation order can
    /// move by one float32 ulp) relative to the largest finite |value| the examples compute, at least 1; a check that
    /// passes other than bit for bit says so (<see cref="InexactNote"/>). An exception fails its check with the exception
    /// in the note.
    /// </summary>
    /// <param name="program">The program.</param>
    /// <param name="batch">Its batch.</param>
    /// <param name="dtype">The dtype of the run.</param>
    /// <param name="batchedApply">The meaning of each step in the function vmap batches (by default
    /// <see cref="OurInterpreter.Apply"/>, the reference's; the check's own tests plant a wrong one).</param>
    public static List<CheckResult> Compare(FuzzProgram program, Batch batch, DType dtype, Func<Step, Expr[], DType, Expr>? batchedApply = null)
    {
        var checks = new[] { ValueCheck, GradCheck, CompiledCheck };
        Dictionary<string, (double[]? Ours, double[] Reference, string? Error, bool Rejected)> outcome;
        double magnitude;
        try { (outcome, magnitude) = Evaluate(program, batch, dtype, batchedApply ?? OurInterpreter.Apply); }
        catch (Exception e)
        {
            string note = $"the per-example evaluation threw {e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
            return checks.Select(k => CheckResult.Error(program.Name, CheckResult.Name(dtype), k, note)).ToList();
        }
        var tolerance = (dtype == DType.Float32 ? Tolerance.Float32
            : program.Steps.Any(s => s.Kind == OpKind.CastRoundTrip) ? FuzzProgram.CastTolerance : Tolerance.Float64) with { ScaleAtLeast = Math.Max(1, magnitude) };
        return checks.Select(k =>
        {
            var (ours, reference, error, rejected) = outcome[k];
            if (ours is null) return CheckResult.Error(program.Name, CheckResult.Name(dtype), k, error!);
            if (rejected) return new CheckResult(program.Name, CheckResult.Name(dtype), k, 0, 0, true, RejectedNote);
            var result = CheckResult.Compare(program.Name, dtype, k, ours, reference, tolerance);
            return result.Passed && !SameBits(ours, reference) ? result with { Note = InexactNote } : result;
        }).ToList();
    }

    /// <summary>The summary's line on exactness: how many passing (program, dtype) pairs matched bit for bit in every check,
    /// how many were rejected by an op in an example and in the batch alike, and which passed only within the tolerance.</summary>
    public static string Exactness(IReadOnlyList<CheckResult> results)
    {
        var passed = results.GroupBy(r => (r.Case, r.DType)).Where(g => g.All(r => r.Passed)).ToList();
        var inexact = passed.Where(g => g.Any(r => r.Note == InexactNote) && g.All(r => r.Note != RejectedNote))
            .Select(g => $"{g.Key.Case} {g.Key.DType} ({string.Join(", ", g.Where(r => r.Note == InexactNote).Select(r => r.Check))})").ToList();
        int rejected = passed.Count(g => g.Any(r => r.Note == RejectedNote));
        return $"vmap: {passed.Count - inexact.Count - rejected} of {passed.Count} passing (program, dtype) pairs bit for bit in every check" +
               (rejected > 0 ? $", {rejected} with an example an op rejects, and the batch rejected by the same op" : "") +
               (inexact.Count > 0 ? $"; within the tolerance only: {string.Join("; ", inexact.Take(20))}{(inexact.Count > 20 ? $"; … ({inexact.Count} in all)" : "")}" : "");
    }

    /// <summary>Equal numbers with equal signs of zero, NaN against NaN.</summary>
    static bool SameBits(double[] a, double[] b) =>
        a.Length == b.Length && a.Zip(b).All(p => double.IsNaN(p.First) ? double.IsNaN(p.Second) : BitConverter.DoubleToInt64Bits(p.First) == BitConverter.DoubleToInt64Bits(p.Second));

    /// <summary>Ours and the reference of each check (ours null with the error when building or running it threw), and the
    /// largest finite |value| any step computes for any example.</summary>
    static (Dictionary<string, (double[]? Ours, double[] Reference, string? Error, bool Rejected)>, double Magnitude) Evaluate(FuzzProgram p, Batch batch, DType dtype,
        Func<Step, Expr[], DType, Expr> batchedApply)
    {
        int n = p.InputCount;
        Expr F(Expr[] xs) => OurInterpreter.Run(p, xs);
        Expr Batched(Expr[] xs) => OurInterpreter.Run(p, xs, batchedApply);
        Expr[] ExampleInputs(int b) => Enumerable.Range(0, n).Select(i => OurSide.Make(batch.Input(b, i), p.InputShapes[i], dtype)).ToArray();

        // the reference: each example alone, every step's value kept for the tolerance's scale
        var values = new List<double[]>();
        var gradients = new List<double[][]>();
        double magnitude = 0;
        int[]? outputShape = null;
        Expr? cotangent = null;
        Func<Expr[], Expr[]>? gradOrNull = null, batchedGradOrNull = null;
        // An op that rejects its operand's values when it runs (Cholesky of a matrix that is not positive definite) may
        // reject those of a further example: vmap must then reject the batch the same way. The value and the gradient are
        // apart, since a gradient need not run every step of the value (not one the cotangent of an argmax cuts off,
        // `fuzz --vmap adversarial 1/218`). Example 0 must run.
        Exception? valueRejected = null, gradRejected = null;
        for (int b = 0; b < BatchSize; b++)
        {
            try
            {
                var steps = new List<Expr>();
                var y = OurInterpreter.Run(p, ExampleInputs(b), (s, a, d) => { var v = OurInterpreter.Apply(s, a, d); steps.Add(v); return v; });
                foreach (var t in Expr.EvalMany(steps.ToArray()))
                    magnitude = Math.Max(magnitude, t.ToDoubleArray().Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max());
                if (cotangent is null)
                {
                    outputShape = y.Shape;
                    var u = cotangent = OurSide.Make(Tensor.RandomNormal(new[] { y.Numel }, p.Seed * 1009 + 300).ToDoubleArray(), y.Shape, dtype);
                    // one-element f: its own gradient; otherwise the gradient of ⟨f, u⟩ for one fixed cotangent u
                    gradOrNull = Diff.Grad((Expr[] xs) => { var z = F(xs); return z.Numel == 1 ? z : (z * u).Sum(); });
                    batchedGradOrNull = Diff.Grad((Expr[] xs) => { var z = Batched(xs); return z.Numel == 1 ? z : (z * u).Sum(); });
                }
                values.Add(y.Eval().ToDoubleArray());
            }
            catch (Exception e) when (b > 0)
            {
                valueRejected ??= e;
            }
            try
            {
                gradients.Add(gradOrNull!(ExampleInputs(b)).Select(g => g.Eval().ToDoubleArray()).ToArray());
            }
            catch (Exception e) when (b > 0)
            {
                gradRejected ??= e;
            }
        }
        var referenceValue = values.SelectMany(v => v).ToArray();
        var referenceGrad = Enumerable.Range(0, n).SelectMany(i => gradients.SelectMany(g => g[i])).ToArray();

        // the batch: input i holds its examples along its axis, or is example 0's value when shared
        var batchedShapes = new int[n][];
        var batched = new Tensor[n];
        for (int i = 0; i < n; i++)
        {
            var shape = p.InputShapes[i];
            if (batch.InAxes[i] is int axis)
            {
                batchedShapes[i] = shape.Take(axis).Append(BatchSize).Concat(shape.Skip(axis)).ToArray();
                batched[i] = OurSide.MakeTensor(StackAlong(axis, shape, batch.Examples.Select(e => e[i]).ToArray()), batchedShapes[i], dtype);
            }
            else
            {
                batchedShapes[i] = shape;
                batched[i] = OurSide.MakeTensor(batch.Examples[0][i], shape, dtype);
            }
        }
        Func<Expr[], Expr> vmapped = Diff.Vmap((Func<Expr[], Expr>)Batched, batch.InAxes);
        Func<Expr[], Expr[]> perExample = Diff.Vmap(batchedGradOrNull!, batch.InAxes);
        var expected = new[] { outputShape!.Prepend(BatchSize).ToArray() }.Concat(p.InputShapes.Select(s => s.Prepend(BatchSize).ToArray())).ToArray();

        var outcome = new Dictionary<string, (double[]?, double[], string?, bool)>
        {
            [ValueCheck] = Attempt(referenceValue, expected[..1], valueRejected, () => new[] { vmapped(batched.Select(t => (Expr)t).ToArray()).Eval() }),
            [GradCheck] = Attempt(referenceGrad, expected[1..], gradRejected, () => perExample(batched.Select(t => (Expr)t).ToArray()).Select(g => g.Eval()).ToArray()),
            [CompiledCheck] = Attempt(referenceValue.Concat(referenceGrad).ToArray(), expected, valueRejected ?? gradRejected, () =>
                Diff.Compile((Expr[] zs) => [vmapped(zs), .. perExample(zs)]).Invoke(batched)),
        };
        return (outcome, magnitude);
    }

    /// <summary>Ours from <paramref name="run"/> flattened, checked for the expected shapes, or the error it threw. Where an
    /// example's evaluation threw (<paramref name="rejected"/>), ours is an empty array when it throws the same way (the same
    /// exception type from the same op, named before the first colon, or named among the public ops a kernel's runtime error
    /// lists: an index computed in the batched graph reaches the gather kernel, whose message names OneHot, IndexSelect and
    /// Embedding, where the example's constant index was refused by the op itself), and the error otherwise.</summary>
    static (double[]?, double[], string?, bool) Attempt(double[] reference, int[][] shapes, Exception? rejected, Func<Tensor[]> run)
    {
        if (rejected is not null)
        {
            static string Op(Exception e) => e.Message.Split(':')[0];
            try
            {
                run();
                return (null, reference, $"an example's evaluation threw {rejected.GetType().Name}: {rejected.Message.ReplaceLineEndings(" ")}; vmap returned numbers", false);
            }
            catch (Exception e) when (e.GetType() == rejected.GetType() && (Op(e) == Op(rejected) || e.Message.Contains($" {Op(rejected)} ")))
            {
                return (Array.Empty<double>(), Array.Empty<double>(), null, true);
            }
            catch (Exception e)
            {
                return (null, reference, $"an example's evaluation threw {rejected.GetType().Name}: {rejected.Message.ReplaceLineEndings(" ")}; vmap threw {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}", false);
            }
        }
        try
        {
            var results = run();
            for (int k = 0; k < shapes.Length; k++)
                if (!results[k].Shape.SequenceEqual(shapes[k]))
                    return (null, reference, $"result {k} has shape [{string.Join(",", results[k].Shape)}], the stacked examples [{string.Join(",", shapes[k])}]", false);
            return (results.SelectMany(t => t.ToDoubleArray()).ToArray(), reference, null, false);
        }
        catch (Exception e)
        {
            return (null, reference, $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" "), false);
        }
    }

    /// <summary>The examples of one input (each flat, of <paramref name="shape"/>) as one array with the examples along
    /// <paramref name="axis"/>, written out index by index so the reference does not lean on our own stack.</summary>
    static double[] StackAlong(int axis, int[] shape, double[][] examples)
    {
        int outer = FuzzProgram.Numel(shape[..axis]), inner = FuzzProgram.Numel(shape[axis..]);
        var result = new double[examples.Length * outer * inner];
        for (int o = 0; o < outer; o++)
            for (int b = 0; b < examples.Length; b++)
                Array.Copy(examples[b], o * inner, result, (o * examples.Length + b) * inner, inner);
        return result;
    }

    /// <summary>The repro of a vmap failure: the failing checks with ours and the reference, the replay command, the batch's
    /// axes and further examples, and the program as C# (its inputs are example 0).</summary>
    static string Describe(FuzzProgram program, DType dtype, bool adversarial, IReadOnlyList<CheckResult> results)
    {
        var text = new System.Text.StringBuilder();
        var failing = results.Where(r => !r.Passed).ToList();
        text.AppendLine(FuzzCheck.SignaturePrefix + string.Join(" ", program.Steps.Where(st => st.Kind != OpKind.Const).Select(st => st.Kind)) +
                        " | " + string.Join(" ", failing.Select(r => r.Check + (r.Note.Length > 0 ? " (threw)" : ""))));
        text.AppendLine($"// {program.Name}, {CheckResult.Name(dtype)}, vmap against each example, shrunk to {program.Steps.Length} steps; failing checks:");
        if (FuzzCommand.ReplayCommand(program.Name, dtype) is string replay) text.AppendLine("// replay (the program as drawn): " + replay + " --vmap");
        foreach (var r in failing)
            text.AppendLine($"//   {r.Check}: " + (r.Note.Length > 0 ? r.Note : $"max abs error {r.MaxAbsError:0.###e+0}, max rel error {r.MaxRelError:0.###e+0}"));
        var batch = BatchOf(program, adversarial);
        if (dtype == DType.Float32) batch = batch.RoundedToFloat32();
        try
        {
            var (outcome, _) = Evaluate(program, batch, dtype, OurInterpreter.Apply);
            foreach (var r in failing.Where(r => outcome.ContainsKey(r.Check) && outcome[r.Check].Ours != null))
            {
                text.AppendLine($"//   {r.Check} vmap:      [{Short(outcome[r.Check].Ours!)}]");
                text.AppendLine($"//   {r.Check} reference: [{Short(outcome[r.Check].Reference)}]");
            }
        }
        catch (Exception e) { text.AppendLine($"//   (no numbers: {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")})"); }
        text.AppendLine($"// inAxes: {{ {string.Join(", ", batch.InAxes.Select(a => a?.ToString() ?? "null"))} }}; example 0 is x below, examples 1 to {BatchSize - 1}:");
        for (int b = 1; b < BatchSize; b++)
            text.AppendLine($"//   x{b} = {{ {string.Join("; ", batch.Examples[b].Select((v, i) => batch.InAxes[i] is null ? "(shared)" : string.Join(", ", v.Select(CSharpPrinter.Number))))} }}");
        text.Append(CSharpPrinter.Print(program, dtype));
        return text.ToString();
    }

    static string Short(double[] values) =>
        string.Join(", ", values.Take(12).Select(v => v.ToString("G6", System.Globalization.CultureInfo.InvariantCulture))) + (values.Length > 12 ? $", … ({values.Length} values)" : "");
}
