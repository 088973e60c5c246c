using FunctionalDiff.Compare.Suite;
using Xunit;
using Xunit.Abstractions;

namespace FunctionalDiff.Compare.Tests;

public class ComparisonSuiteTests(ITestOutputHelper output)
{
    [Fact]
    public void EveryCaseAgreesWithTorchSharpInBothDTypes()
    {
        var options = Options.Parse(new[] { "--results", Path.Combine(Path.GetTempPath(), "functionaldiff-compare-test") });
        var results = Runner.Run(CaseTable.All, options, TextWriter.Null);
        var writer = new StringWriter();
        Report.Print(writer, results, failuresOnly: true);
        output.WriteLine(writer.ToString());
        Assert.NotEmpty(results);
        Assert.True(results.All(r => r.Passed), writer.ToString());
        // every case ran in both dtypes, with at least the value, VJP, second-order, JVP and compiled checks (the second
        // order only where torch can compute it: a case without it says why and takes torch's first order only),
        // and every nested case with its value and every mode check
        var plain = CaseTable.All.Where(c => c.Nested is null).ToList();
        var nested = CaseTable.All.Where(c => c.Nested is not null).ToList();
        Assert.All(plain.Where(c => c.Skipped.Count > 0 || c.SkippedFloat32.Count > 0),
            c => Assert.True(c.TorchFirstOrderOnly && c.Why is not null && c.Skipped.SequenceEqual([Check.SecondOrder]) && c.SkippedFloat32.Count == 0, c.Name));
        Check[] always = [Check.Value, Check.Vjp, Check.SecondOrder, Check.Jvp, Check.Compiled];
        int expected = plain.Sum(c => always.Count(k => !c.SkipsIn(DType.Float64, k)) + always.Count(k => !c.SkipsIn(DType.Float32, k)));
        Assert.Equal(expected, results.Count(r => plain.Any(c => c.Name == r.Case) && r.Check != nameof(Check.Hessian)));
        Assert.Equal(3, nested.Count);
        foreach (var c in nested)
            foreach (var dtype in new[] { "float64", "float32" })
                foreach (var check in c.Nested!.CheckNames())
                    Assert.Single(results, r => r.Case == c.Name && r.DType == dtype && r.Check == check);
    }

    [Fact]
    public void EveryCaseNameIsUnique()
    {
        // the report and the checks above find a case by its name: a case yielded twice would pass twice under one name
        // and hide which of its rows a failure came from (a repeated block of three cases once went unnoticed)
        var repeated = CaseTable.All.GroupBy(c => c.Name).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(repeated.Count == 0, "cases named more than once: " + string.Join("; ", repeated));
    }

    [Fact]
    public void AWrongNestedModelFailsEveryModeCheck()
    {
        // guards the nested comparison: an inner tanh paired with an inner sin must fail the value and every mode
        static Expr Ours(OurGradient gradient, Expr w)
        {
            Expr x = Tensor.FromArray(new[] { 0.4, -0.9 }).Cast(w.DType);
            for (int k = 0; k < 3; k++) x = x - 0.1 * gradient(z => (z * w).Tanh().Square().Sum(), x);
            return x.Square().Sum();
        }
        static TorchSharp.torch.Tensor Torch(TorchGradient gradient, TorchSharp.torch.Tensor w)
        {
            var x = TorchSharp.torch.tensor(new[] { 0.4, -0.9 }, dtype: w.dtype);
            for (int k = 0; k < 3; k++) x = x - 0.1 * gradient(z => (z * w).sin().square().sum(), x);
            return x.square().sum();
        }
        var model = new NestedModel(Ours, Torch) { WithHvp = true };
        var wrong = new Case("nested tanh vs sin", new[] { new InputSpec(new[] { 2 }) },
            p => model.Ours(OurNested.Inner(Mode.Reverse), p[0]), p => model.Torch(TorchNested.Inner(Mode.Reverse), p[0])) { Nested = model };
        var results = Runner.Run(new[] { wrong }, Options.Parse(new[] { "--in-process" }), TextWriter.Null);
        Assert.Equal(2 * model.CheckNames().Count(), results.Count);
        Assert.All(results, r => Assert.False(r.Passed, $"{r.DType} {r.Check} passed"));
    }

    [Fact]
    public void EveryPrimitiveOfTheCoreHasACase()
    {
        var seen = new HashSet<string>();
        foreach (var c in CaseTable.All)
        {
            var probe = Probe.For(c);
            var inputs = probe.Inputs.Select((v, i) => (Expr)Tensor.FromArray(v, c.Inputs[i].Shape)).ToArray();
            // inside a transform the inputs are symbolic, so no constant folding hides an op
            Diff.Vjp(xs => { var y = c.Ours(xs); Collect(y, seen); return y; }, inputs);
        }
        var missing = Expr.PrimitiveNames.Where(p => !seen.Contains(p)).ToList();
        Assert.True(missing.Count == 0, "primitives with no comparison case: " + string.Join(", ", missing));
    }

    [Fact]
    public void TheCoverageListIsNotEmptyAndNamesKnownPrimitives()
    {
        // guards the coverage test against passing vacuously
        Assert.Contains("sin", Expr.PrimitiveNames);
        Assert.Contains("matmul", Expr.PrimitiveNames);
        Assert.True(Expr.PrimitiveNames.Count > 40, $"only {Expr.PrimitiveNames.Count} primitives listed");
    }

    [Fact]
    public void AnAbortedWorkerIsReportedAndTheRunGoesOn()
    {
        // the worker aborts natively when it starts "neg []" in float64; the runner must record that and go on
        var options = Options.Parse(new[] { "--filter", "neg [", "--abort-at", "neg []" });
        var results = Runner.Run(CaseTable.All, options, TextWriter.Null);
        Assert.Contains(results, r => r.Case == "neg []" && r.DType == "float64" && !r.Passed && r.Note.Contains("aborted twice"));
        Assert.Single(results, r => r.Case == "neg []" && r.DType == "float64");
        Assert.Contains(results, r => r.Case == "neg []" && r.DType == "float32" && r.Passed);
        Assert.Equal(2 * 5, results.Count(r => r.Case == "neg [5]" && r.Passed && r.Check != nameof(Check.Hessian)));
    }

    [Fact]
    public void AWorkerThatAbortsOnceRunsItsCaseAgain()
    {
        // the worker aborts when it starts "neg []" in float64 only while the file does not exist (it creates it), as a
        // worker killed by something outside its case: the case runs again in a new worker, and its checks count
        string once = Path.Combine(Path.GetTempPath(), $"abort-once-{Guid.NewGuid():N}");
        try
        {
            var options = Options.Parse(new[] { "--filter", "neg [", "--abort-at", "neg []", "--abort-once", once });
            var results = Runner.Run(CaseTable.All, options, TextWriter.Null);
            Assert.True(File.Exists(once), "the worker never aborted");
            var rerun = results.Where(r => r.Case == "neg []" && r.DType == "float64").ToList();
            Assert.NotEmpty(rerun);
            Assert.All(rerun, r => Assert.True(r.Passed, $"{r.Check}: {r.Note}"));
            Assert.Equal(results.Count(r => r.Case == "neg []" && r.DType == "float32"), rerun.Count);
        }
        finally
        {
            File.Delete(once);
        }
    }

    [Fact]
    public void AWrongFunctionFailsEveryDerivativeCheck()
    {
        // guards the comparison itself: pairing sin with cos must be caught by the value and every derivative
        var wrong = new Case("sin vs cos", new[] { new InputSpec(new[] { 3 }) }, x => x[0].Sin(), x => x[0].cos());
        var options = Options.Parse(new[] { "--in-process" });
        var results = Runner.Run(new[] { wrong }, options, TextWriter.Null);
        Assert.Equal(2 * 6, results.Count);
        Assert.All(results, r => Assert.False(r.Passed, $"{r.DType} {r.Check} passed"));
    }

    static void Collect(Expr root, HashSet<string> seen)
    {
        var stack = new Stack<Expr>();
        var visited = new HashSet<Expr>(ReferenceEqualityComparer.Instance);
        stack.Push(root);
        while (stack.Count > 0)
        {
            var e = stack.Pop();
            if (!visited.Add(e)) continue;
            seen.Add(e.Op);
            foreach (var i in e.Inputs) stack.Push(i);
        }
    }
}
