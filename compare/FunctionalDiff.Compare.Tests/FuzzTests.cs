using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalDiff.Compare.Tests;

public class FuzzTests(ITestOutputHelper output)
{
    const int Programs = 300;
    const int Seed = 13;

    [Fact]
    public void RandomProgramsAgreeWithTorchSharpInBothDTypes()
    {
        var options = Options.Parse(new[] { "--programs", Programs.ToString(), "--seed", Seed.ToString() });
        var results = FuzzCommand.Check(options, TextWriter.Null);
        var summary = FuzzCommand.Summary.Of(results);
        var writer = new StringWriter();
        summary.Print(writer);
        output.WriteLine(writer.ToString());
        foreach (var dtype in new[] { "float64", "float32" })
            Assert.Equal(Programs, summary.PerDType.Single(d => d.DType == dtype).Programs);
        // Every program must agree; the summary carries each failure's shrunk C# repro.
        var failing = results.Where(r => !r.Passed).Select(r => $"{r.Case} {r.DType}").Distinct().ToList();
        Assert.True(failing.Count == 0, $"failures: {string.Join(", ", failing)}\n{writer}");
    }

    [Fact]
    public void TheProgramsDrawEveryOpAndTheEdgesOfTheInputs()
    {
        var programs = FuzzCommand.Programs(Programs, Seed);
        var drawn = programs.SelectMany(p => p.Steps).Select(s => s.Kind).ToHashSet();
        // the default surface: every op up to Const (the rest, after it, only `--ops all` draws)
        var missing = Enum.GetValues<OpKind>().Where(k => k <= OpKind.Const && !drawn.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "ops never drawn: " + string.Join(", ", missing));
        Assert.DoesNotContain(drawn, k => k > OpKind.Const);
        Assert.All(programs, p => Assert.InRange(p.InputCount, 1, 3));
        Assert.Contains(programs, p => p.InputShapes.Any(s => s.Length == 0));
        Assert.Contains(programs, p => p.InputShapes.Any(s => s.Length >= 2 && s[^1] != s[^2]));
        Assert.Contains(programs, p => p.InputCount >= 2 && !p.InputShapes[0].SequenceEqual(p.InputShapes[1]));
        // exact zeros and ties, on purpose
        Assert.True(programs.Count(p => p.InputValues.Any(v => v.Contains(0.0))) > Programs / 5);
        Assert.True(programs.Count(p => p.InputValues.Any(v => v.Distinct().Count() < v.Length)) > Programs / 5);
        // sizes after dropping dead steps: a few ops up to about 40, plus the ops that fold dangling values in
        Assert.True(programs.Average(p => p.Steps.Length) >= 10, $"average {programs.Average(p => p.Steps.Length)} steps");
        Assert.Contains(programs, p => p.Steps.Length >= 30);
    }

    [Fact]
    public void TheAllSurfaceDrawsEveryOpOfTheRestOfTheSurface()
    {
        var programs = FuzzCommand.Programs(Programs, Seed, ops: OpSurface.All);
        var drawn = programs.SelectMany(p => p.Steps).Select(s => s.Kind).ToHashSet();
        // every op up to IndexAdd (the latest, after it, only `--ops latest` draws)
        var missing = Enum.GetValues<OpKind>().Where(k => k <= OpKind.IndexAdd && !drawn.Contains(k)).ToList();
        Assert.True(missing.Count == 0, "ops never drawn: " + string.Join(", ", missing));
        Assert.DoesNotContain(drawn, k => k > OpKind.IndexAdd);
        Assert.All(programs, p => Assert.StartsWith("fuzz all 13/", p.Name));
    }

    [Fact]
    public void TheLatestSurfaceDrawsEachOfTheLatestOpsInManyPrograms()
    {
        var programs = FuzzCommand.Programs(Programs, Seed, ops: OpSurface.Latest);
        var latest = Enum.GetValues<OpKind>().Where(k => k > OpKind.IndexAdd && k <= OpKind.SegmentSoftmax).ToList();
        // the programs that keep each latest op as a live step (Compact drops the dead ones), with every variant drawn
        var counts = latest.ToDictionary(k => k, k => programs.Count(p => p.Steps.Any(s => s.Kind == k)));
        Assert.True(counts.Values.All(n => n >= 10), "programs per op: " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        var steps = programs.SelectMany(p => p.Steps).ToList();
        Assert.Equal(4, steps.Where(s => s.Kind == OpKind.Svd).Select(s => s.Mode).Distinct().Count());
        Assert.Equal(7, steps.Where(s => s.Kind == OpKind.MatrixNorm).Select(s => s.Mode == 1 ? double.NaN : s.Scalar).Distinct().Count());
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.GridSample).Select(s => s.Ints[0]).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.GridSample).Select(s => s.Mode).Distinct().Count());
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.CtcLoss).Select(s => s.Mode).Distinct().Count());
        Assert.DoesNotContain(steps, s => s.Kind > OpKind.SegmentSoftmax);
        Assert.All(programs, p => Assert.StartsWith("fuzz latest 13/", p.Name));
    }

    [Fact]
    public void TheNewestSurfaceDrawsEachOfTheNewestOpsInManyPrograms()
    {
        var programs = FuzzCommand.Programs(Programs, Seed, ops: OpSurface.Newest);
        var newest = Enum.GetValues<OpKind>().Where(k => k > OpKind.SegmentSoftmax && k <= OpKind.GumbelSoftmax).ToList();
        // the programs that keep each newest op as a live step, with the variants that take other code paths drawn
        var counts = newest.ToDictionary(k => k, k => programs.Count(p => p.Steps.Any(s => s.Kind == k)));
        Assert.True(counts.Values.All(n => n >= 10), "programs per op: " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        var steps = programs.SelectMany(p => p.Steps).ToList();
        Assert.Equal(5, steps.Where(s => s.Kind is OpKind.Quantile or OpKind.NanQuantile).Select(s => s.Mode).Distinct().Count());
        Assert.Contains(steps, s => s.Kind is OpKind.Quantile or OpKind.NanQuantile && s.DataShape is not null);
        Assert.Contains(steps, s => s.Kind is OpKind.Quantile or OpKind.NanQuantile && s.Ints.Length == 0);
        foreach (var pool in new[] { OpKind.MaxPool1d, OpKind.MaxPool2dWith, OpKind.MaxPool3d, OpKind.AvgPool1d, OpKind.AvgPool2dWith, OpKind.AvgPool3d })
            Assert.Equal(2, steps.Where(s => s.Kind == pool).Select(s => s.Flag).Distinct().Count());
        foreach (var pool in new[] { OpKind.AvgPool1d, OpKind.AvgPool2dWith, OpKind.AvgPool3d })
            Assert.Equal(2, steps.Where(s => s.Kind == pool).Select(s => s.Mode).Distinct().Count());
        Assert.Contains(steps, s => s.Kind is OpKind.AvgPool2dWith or OpKind.AvgPool3d && s.Ints[3] > 0);
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.MultiMarginLoss).Select(s => s.Flag).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.GumbelSoftmax).Select(s => s.Flag).Distinct().Count());
        Assert.DoesNotContain(steps, s => s.Kind > OpKind.GumbelSoftmax);
        Assert.All(programs, p => Assert.StartsWith("fuzz newest 13/", p.Name));
    }

    [Fact]
    public void TheFreshSurfaceDrawsEachOfTheFreshOpsInManyPrograms()
    {
        var programs = FuzzCommand.Programs(Programs, Seed, ops: OpSurface.Fresh);
        var fresh = Enum.GetValues<OpKind>().Where(k => k > OpKind.GumbelSoftmax && k <= OpKind.RnnCell).ToList();
        // the programs that keep each fresh op as a live step, with the variants that take other code paths drawn
        var counts = fresh.ToDictionary(k => k, k => programs.Count(p => p.Steps.Any(s => s.Kind == k)));
        Assert.True(counts.Values.All(n => n >= 10), "programs per op: " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        var steps = programs.SelectMany(p => p.Steps).ToList();
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.FeatureDropout).Select(s => s.Ints[0]).Distinct().Count());
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.Multigammaln).Select(s => s.Ints[0]).Distinct().Count());
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.Diff).Select(s => s.Ints[0]).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.RnnCell).Select(s => s.Mode).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.Vander).Select(s => s.Flag).Distinct().Count());
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.Tensordot).Select(s => s.Ints[0]).Distinct().Count());
        Assert.Equal(4, steps.Where(s => s.Kind == OpKind.Pdist).Select(s => s.Scalar).Distinct().Count());
        Assert.DoesNotContain(steps, s => s.Kind > OpKind.RnnCell);
        Assert.All(programs, p => Assert.StartsWith("fuzz fresh 13/", p.Name));
    }

    [Fact]
    public void TheRecentSurfaceDrawsEachOfTheRecentOpsInManyPrograms()
    {
        var programs = FuzzCommand.Programs(Programs, Seed, ops: OpSurface.Recent);
        var recent = Enum.GetValues<OpKind>().Where(k => k > OpKind.RnnCell && k <= OpKind.ScaledModifiedBesselK1).ToList();
        // the programs that keep each recent op as a live step, with the variants that take other code paths drawn
        var counts = recent.ToDictionary(k => k, k => programs.Count(p => p.Steps.Any(s => s.Kind == k)));
        Assert.True(counts.Values.All(n => n >= 10), "programs per op: " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        var steps = programs.SelectMany(p => p.Steps).ToList();
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.AtLeast).Select(s => s.Ints[0]).Distinct().Count());
        foreach (var split in new[] { OpKind.TensorSplit, OpKind.Hsplit })
            Assert.Equal(2, steps.Where(s => s.Kind == split).Select(s => s.Mode).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.TakeAlongDim).Select(s => s.Ints.Length).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.IsIn).Select(s => s.Flag).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind is OpKind.StdMean or OpKind.VarMean).Select(s => s.Mode).Distinct().Count());
        // β = 0, where torch leaves the input out, NaN included
        Assert.Contains(steps, s => s.Kind is OpKind.Addmm or OpKind.Addmv or OpKind.Addr or OpKind.Baddbmm or OpKind.Addbmm && s.Data![0] == 0);
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.CholeskyInverse).Select(s => s.Flag).Distinct().Count());
        Assert.Equal(3, steps.Where(s => s.Kind == OpKind.Cond).Select(s => s.Mode).Distinct().Count());
        Assert.Equal(2, steps.Where(s => s.Kind == OpKind.MatrixRank).Select(s => s.Flag).Distinct().Count());
        Assert.Equal(4, steps.Where(s => s.Kind == OpKind.VectorNorm).Select(s => s.Scalar).Distinct().Count());
        Assert.Equal(4, steps.Where(s => s.Kind is OpKind.LpPool1d or OpKind.LpPool2d).Select(s => s.Scalar).Distinct().Count());
        Assert.DoesNotContain(steps, s => s.Kind > OpKind.ScaledModifiedBesselK1);
        Assert.All(programs, p => Assert.StartsWith("fuzz recent 13/", p.Name));
    }

    [Theory]
    [InlineData("full"), InlineData("wide"), InlineData("classic"), InlineData("all"), InlineData("latest"), InlineData("newest"), InlineData("fresh"), InlineData("recent"), InlineData("special")]
    public void EverySurfaceReachesTheIsolatedWorkers(string surface)
    {
        // the workers parse the options the parent hands them: a surface they do not carry draws another surface's programs
        var options = Options.Parse(new[] { "--programs", "1", "--ops", surface });
        Assert.Equal(options.Ops, Options.Parse(options.SelectionArgs().ToArray()).Ops);
    }

    [Fact]
    public void TheSpecialSurfaceDrawsEachOfTheSpecialOpsInManyPrograms()
    {
        var programs = FuzzCommand.Programs(Programs, Seed, ops: OpSurface.Special);
        var special = Enum.GetValues<OpKind>().Where(k => k > OpKind.ScaledModifiedBesselK1).ToList();
        Assert.Equal(new[] { OpKind.Gammainc, OpKind.Gammaincc, OpKind.Zeta }, special);
        var counts = special.ToDictionary(k => k, k => programs.Count(p => p.Steps.Any(s => s.Kind == k)));
        Assert.True(counts.Values.All(n => n >= 10), "programs per op: " + string.Join(", ", counts.Select(c => $"{c.Key} {c.Value}")));
        var steps = programs.SelectMany(p => p.Steps).Where(s => special.Contains(s.Kind)).ToList();
        // the first operand is data in the op's domain (a > 0, s > 1), one for every entry, per entry of the last axis or per entry
        Assert.All(steps, s => Assert.All(s.Data!, v => Assert.True(s.Kind == OpKind.Zeta ? v > 1 : v > 0, $"{s.Kind} at {v}")));
        Assert.Equal(3, steps.Select(s => s.DataShape!.Length == 0 ? 0 : s.DataShape.Length == 1 ? 1 : 2).Distinct().Count());
        // the second operand from the program, inside the domain the generator keeps (x, q > 0.05 where finite)
        foreach (var p in programs)
        {
            var values = TorchInterpreter.RunAll(p, p.InputValues.Select((v, i) => TorchSharp.torch.tensor(v).reshape(p.InputShapes[i].Select(d => (long)d).ToArray())).ToArray());
            foreach (var s in p.Steps.Where(s => special.Contains(s.Kind)))
                Assert.False(values[s.Args[0]].lt(0.05).any().item<bool>(), $"{p.Name}: {s.Kind} of a value below 0.05");
        }
        Assert.All(programs, p => Assert.StartsWith("fuzz special 13/", p.Name));
    }

    [Fact]
    public void TheSameSeedGivesTheSameProgram()
    {
        var first = FuzzCommand.Programs(20, 7).Select(p => CSharpPrinter.Print(p, DType.Float64)).ToList();
        var again = FuzzCommand.Programs(20, 7).Select(p => CSharpPrinter.Print(p, DType.Float64)).ToList();
        var other = FuzzCommand.Programs(20, 8).Select(p => CSharpPrinter.Print(p, DType.Float64)).ToList();
        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void APlantedWrongOpIsCaughtInBothDTypesAndShrunkToIt()
    {
        // our side computes cos where the program says sin; torch is right
        static Case Wrong(FuzzProgram p) => p.ToCase() with
        {
            Ours = xs => OurInterpreter.Run(p, xs, (s, a, d) => s.Kind == OpKind.Sin ? a[0].Cos() : OurInterpreter.Apply(s, a, d)),
        };
        var withSin = FuzzCommand.Programs(40, Seed).Where(p => p.Steps.Any(s => s.Kind == OpKind.Sin)).ToList();
        Assert.True(withSin.Count >= 5, $"only {withSin.Count} programs with sin");
        var caught = withSin.Where(p => FuzzCheck.Checked(p, DType.Float64, Wrong).Any(r => !r.Passed)).ToList();
        // a planted op can be invisible (its value only feeds sign, rounding, a comparison or stopGradient, or is
        // multiplied by a zero mask); with this seed 9 of 14 programs show it, a broken comparison would show none
        Assert.True(2 * caught.Count >= withSin.Count, $"caught in {caught.Count} of {withSin.Count} programs");
        var program = caught.Where(p => p.Steps.Length >= 8).OrderBy(p => p.Steps.Length).First();
        // float32 too, and the allowance does not excuse it (float64 at the rounded inputs fails as well)
        Assert.Contains(FuzzCheck.Checked(program, DType.Float32, Wrong), r => !r.Passed);
        var shrunk = Shrinker.Shrink(program, p => FuzzCheck.Checked(p, DType.Float64, Wrong).Any(r => !r.Passed));
        output.WriteLine(CSharpPrinter.Print(shrunk, DType.Float64));
        Assert.Contains(shrunk.Steps, s => s.Kind == OpKind.Sin);
        Assert.True(shrunk.Steps.Length <= 2, $"{shrunk.Steps.Length} steps left of {program.Steps.Length}");
    }

    [Fact]
    public void TheReproIsCSharpOverThePublicApi()
    {
        var program = new FuzzProgram("hand-written", 1, new[] { new[] { 2 }, Array.Empty<int>() }, new[] { new[] { 0.0, -1.5 }, new[] { 2.0 } },
            new[]
            {
                new Step(OpKind.Mul, new[] { 0, 1 }, Array.Empty<int>()),
                new Step(OpKind.Max, new[] { 2 }, new[] { 0 }, Mode: 1, Flag: true),
                new Step(OpKind.PowScalar, new[] { 3 }, Array.Empty<int>(), Scalar: 2),
            }, 4);
        Assert.Equal(
            "var x = new Expr[]\n{\n" +
            "    Tensor.FromArray(new double[] { 0.0, -1.5 }, 2),\n" +
            "    Tensor.FromArray(new double[] { 2.0 }, Array.Empty<int>()),\n" +
            "};\nExpr F(Expr[] x)\n{\n" +
            "    var v0 = x[0] * x[1];\n" +
            "    var v1 = v0.Max(0, keepDims: true);\n" +
            "    var v2 = v1.Pow(2.0);\n" +
            "    return v2;\n}\n",
            CSharpPrinter.Print(program, DType.Float64).ReplaceLineEndings("\n"));
    }
}

/// <summary>The fuzzer's NaN rule: NaN must match NaN; only a full Hessian's NaN may sit at the transposed position.</summary>
public class FuzzNaNRuleTests
{
    static readonly Tolerance Rule = Tolerance.Float64 with { ScaleAtLeast = 1, HessianNaNMayTranspose = true };

    [Fact]
    public void ANaNOnOneSideOfADerivativeFails()
    {
        foreach (var check in new[] { Check.Vjp, Check.SecondOrder, Check.Jvp, Check.Value })
        {
            Assert.False(CheckResult.Compare("c", DType.Float64, check, new[] { 0.0, 1.0 }, new[] { double.NaN, 1.0 }, Rule).Passed);
            Assert.False(CheckResult.Compare("c", DType.Float64, check, new[] { double.NaN, 1.0 }, new[] { 0.0, 1.0 }, Rule).Passed);
            Assert.True(CheckResult.Compare("c", DType.Float64, check, new[] { double.NaN, 1.0 }, new[] { double.NaN, 1.0 }, Rule).Passed);
        }
    }

    [Fact]
    public void AHessianNaNPassesOnlyAtTheTransposedPosition()
    {
        // 2x2 by rows: ours NaN at (1,0), torch NaN at (0,1)
        double nan = double.NaN;
        Assert.True(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { 1.0, 0.0, nan, 2.0 }, new[] { 1.0, nan, 0.0, 2.0 }, Rule).Passed);
        // torch's NaN has no NaN of ours at its transposed position
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { 1.0, 0.0, 0.0, 2.0 }, new[] { 1.0, nan, 0.0, 2.0 }, Rule).Passed);
        // the finite entries are still compared
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { 1.5, 0.0, nan, 2.0 }, new[] { 1.0, nan, 0.0, 2.0 }, Rule).Passed);
        // not in other checks
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.SecondOrder, new[] { 1.0, 0.0, nan, 2.0 }, new[] { 1.0, nan, 0.0, 2.0 }, Rule).Passed);
    }

    [Fact]
    public void AHessianNaNOfOursPassesOnlyBesideANonFiniteEntryOfTorchsRow()
    {
        double nan = double.NaN, inf = double.PositiveInfinity;
        var rule = Rule with { HessianNaNFromZeroTangent = true };
        // x1·expm1(x0) at (∞, 0), cotangent -1: torch [[NaN, -∞], [-∞, NaN]]; ours pushes e_1 through (0,0) = 0·∞
        Assert.True(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { nan, nan, -inf, nan }, new[] { nan, -inf, -inf, nan }, rule).Passed);
        // no non-finite entry beside it in torch's row: fails
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { 1.0, nan, 0.0, 2.0 }, new[] { 1.0, 3.0, 0.0, 2.0 }, rule).Passed);
        // the non-finite entry in its own column does not count, nor torch's NaN against a number of ours
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { 1.0, nan, 0.0, 2.0 }, new[] { 1.0, 3.0, 0.0, inf }, rule).Passed);
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { inf, 1.0, 0.0, 2.0 }, new[] { inf, nan, 0.0, 2.0 }, rule).Passed);
        // without the flag it fails
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { nan, nan, -inf, nan }, new[] { nan, -inf, -inf, nan }, Rule).Passed);
    }
}
