using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The fuzzer's vmap check (`fuzz --vmap`, <see cref="VmapCheck"/>): a run of random programs passes, the batch is laid
/// out as the check says (one input shared, one batched along another axis), and a wrong batched function is caught in
/// the value, in the per-example gradients only, and where a NaN stands.
/// </summary>
public class FuzzVmapTests(ITestOutputHelper output)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void RandomProgramsUnderVmapAgreeWithEachExample(bool adversarial)
    {
        const int programs = 60;
        var args = new List<string> { "--programs", programs.ToString(), "--seed", "13", "--vmap" };
        if (adversarial) args.AddRange(["--inputs", "adversarial"]);
        var results = FuzzCommand.Check(Options.Parse(args), TextWriter.Null);
        var summary = FuzzCommand.Summary.Of(results);
        var writer = new StringWriter();
        summary.Print(writer);
        writer.WriteLine(VmapCheck.Exactness(results));
        output.WriteLine(writer.ToString());
        foreach (var dtype in new[] { "float64", "float32" })
            Assert.Equal(programs, summary.PerDType.Single(d => d.DType == dtype).Programs);
        Assert.All(results.Where(r => r.Check != FuzzCheck.ReproCheck), r => Assert.Contains(r.Check, new[] { VmapCheck.ValueCheck, VmapCheck.GradCheck, VmapCheck.CompiledCheck }));
        var failing = results.Where(r => !r.Passed).Select(r => $"{r.Case} {r.DType}").Distinct().ToList();
        Assert.True(failing.Count == 0, $"failures: {string.Join(", ", failing)}\n{writer}");
    }

    [Fact]
    public void AOneHotOfAComputedClassOutOfRangeThrowsUnderVmapAsForItsExample()
    {
        // `wide 3/94`: one_hot(x₁ − x₀ > x₀, 1) is class 1 of 1 in one example, which that example's evaluation refuses (its
        // index is a constant there); the batched index is computed, and gave a row of zeros until OneHot checked computed
        // indices when the plan runs
        var options = Options.Parse(["--programs", "1", "--seed", "3", "--start", "94", "--ops", "wide", "--vmap"]);
        var results = FuzzCommand.Check(options, TextWriter.Null);
        Assert.NotEmpty(results);
        Assert.All(results, r => Assert.True(r.Passed, $"{r.Case} {r.DType} {r.Check}: {r.Note}"));
    }

    [Fact]
    public void TheBatchSharesOneInputAndMovesAnotherOffAxisZero()
    {
        var programs = FuzzCommand.Programs(100, 13);
        foreach (var p in programs)
        {
            var batch = VmapCheck.BatchOf(p, adversarial: false);
            Assert.Equal(VmapCheck.BatchSize, batch.Examples.Length);
            Assert.Same(p.InputValues, batch.Examples[0]);
            for (int b = 1; b < VmapCheck.BatchSize; b++)
                for (int i = 0; i < p.InputCount; i++)
                {
                    Assert.Equal(p.InputValues[i].Length, batch.Examples[b][i].Length);
                    // an input drawn positive (its finite values) is drawn positive again
                    var finite = p.InputValues[i].Where(double.IsFinite).ToList();
                    if (finite.Count > 0 && finite.All(v => v > 0))
                        Assert.All(batch.Examples[b][i].Where(double.IsFinite), v => Assert.True(v > 0));
                }
            if (p.InputCount == 1) Assert.Equal(new int?[] { 0 }, batch.InAxes);
            else
            {
                Assert.Equal(1, batch.InAxes.Count(a => a is null));
                int moved = (Array.IndexOf(batch.InAxes, null) + 1) % p.InputCount;
                Assert.Equal(p.InputShapes[moved].Length == 0, batch.InAxes[moved] == 0);
                Assert.InRange(batch.InAxes[moved]!.Value, 0, p.InputShapes[moved].Length);
            }
        }
        // the further examples are other numbers, not copies of the first
        Assert.Contains(programs, p => p.InputValues[0].Length > 0 && !VmapCheck.BatchOf(p, false).Examples[1][0].SequenceEqual(p.InputValues[0]));
        Assert.Contains(programs, p => VmapCheck.BatchOf(p, false).InAxes.Any(a => a >= 1));
    }

    /// <summary>exp(x₀)·x₁ + √x₀, summed: two inputs (one shared, one batched along its last axis), an entry of x₀
    /// below 0 where √ is NaN.</summary>
    static FuzzProgram Planted() => new("vmap planted", 5, [[3], [2, 3]], [[-1.0, 0.5, 2.0], [0.25, -1.5, 3.0, 1.0, 0.0, -2.0]],
    [
        new Step(OpKind.Exp, [0], []),
        new Step(OpKind.Mul, [2, 1], []),
        new Step(OpKind.Sqrt, [0], []),
        new Step(OpKind.Add, [3, 4], []),
    ], 5);

    static Func<Step, Expr[], DType, Expr> Planting(OpKind kind, Func<Expr, Expr> wrong) =>
        (s, a, d) => s.Kind == kind ? wrong(a[0]) : OurInterpreter.Apply(s, a, d);

    [Fact]
    public void TheRightBatchedFunctionPassesBitForBit()
    {
        var p = Planted();
        var results = VmapCheck.Compare(p, VmapCheck.BatchOf(p, false), DType.Float64);
        Assert.All(results, r => Assert.True(r.Passed && r.Note.Length == 0, $"{r.Check}: {r.Note}"));
    }

    [Fact]
    public void AWrongValueIsCaughtAtARelativeErrorOf1EMinus8()
    {
        var p = Planted();
        var results = VmapCheck.Compare(p, VmapCheck.BatchOf(p, false), DType.Float64, Planting(OpKind.Exp, x => x.Exp() * (1 + 1e-8)));
        Assert.All(results, r => Assert.False(r.Passed, r.Check));
    }

    [Fact]
    public void AWrongGradientIsCaughtWhereTheValueAgrees()
    {
        var p = Planted();
        // the value is exp(x) exactly (x − stop(x) is 0), its derivative is off by 1e-3
        var results = VmapCheck.Compare(p, VmapCheck.BatchOf(p, false), DType.Float64,
            Planting(OpKind.Exp, x => x.Exp() + (x - x.StopGradient()) * 1e-3));
        Assert.True(results.Single(r => r.Check == VmapCheck.ValueCheck).Passed);
        Assert.False(results.Single(r => r.Check == VmapCheck.GradCheck).Passed);
        Assert.False(results.Single(r => r.Check == VmapCheck.CompiledCheck).Passed);
    }

    [Fact]
    public void ANumberWhereTheReferenceIsNaNIsCaught()
    {
        var p = Planted();
        // √|x| agrees wherever x ≥ 0, and is a number where the reference's √x is NaN
        var results = VmapCheck.Compare(p, VmapCheck.BatchOf(p, false), DType.Float64, Planting(OpKind.Sqrt, x => x.Abs().Sqrt()));
        Assert.All(results, r => Assert.False(r.Passed, r.Check));
        Assert.True(double.IsNaN(Math.Sqrt(p.InputValues[0][0])));
    }
}
