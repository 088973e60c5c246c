using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The fuzzer's convention for a convolution over an infinite input entry that no nonzero weight reads
/// (`fuzz adversarial 8/111`), and the float32 run held to the conventions of the values it computes with
/// (`fuzz adversarial 7/20`).
/// </summary>
public class FuzzConvolutionEdgeTests
{
    static Step S(OpKind kind, int[] args, params int[] ints) => new(kind, args, ints);

    static readonly double[] Weights = { 0.2, 1, 2, 1, 0.2, 2, -0.5, 0.5, -1, -1, -1.2, 0.5, -1.2, -0.5, 2, -2 };

    /// <summary>The shrunk `fuzz adversarial 8/111` with g in place of exp: x₀·Σconv2d(g(x)) added to g(x), the
    /// convolution over a 1×1 image with padding 1 and dilation 2, so every tap lies in the padding.</summary>
    static FuzzProgram UnreadConvolution(OpKind g, double[] x) => new("conv unread", 1, new[] { new[] { 2 } }, new[] { x }, new[]
    {
        S(g, new[] { 0 }), S(OpKind.Reshape, new[] { 1 }, 1, 2, 1, 1),
        new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: Weights, DataShape: new[] { 2, 2, 2, 2 }),
        S(OpKind.Conv2d, new[] { 2, 3 }, 1, 1, 2, 1), S(OpKind.Mul, new[] { 0, 4 }), S(OpKind.Sum, new[] { 5 }),
        S(OpKind.Add, new[] { 2, 6 }),
    }, 7);

    [Fact]
    public void AConvolutionWhoseTapsAllLieInThePadding_DoesNotReadItsInput_BothEnginesMeetZeroTimesInfinity()
    {
        var program = UnreadConvolution(OpKind.Exp, new[] { double.PositiveInfinity, 0.0 });
        // independent of the engines' derivatives: the convolution's output does not change when its input does
        var w = torch.tensor(Weights, dtype: torch.ScalarType.Float64).reshape(2, 2, 2, 2);
        foreach (var input in new[] { new[] { 1.0, 2.0 }, new[] { double.PositiveInfinity, -5.0 } })
        {
            var y = torch.nn.functional.conv2d(torch.tensor(input, dtype: torch.ScalarType.Float64).reshape(1, 2, 1, 1), w,
                padding: new long[] { 1, 1 }, dilation: new long[] { 2, 2 });
            Assert.All(y.data<double>().ToArray(), v => Assert.Equal(0.0, v));
        }
        // so the Hessian of ⟨u, e^x + 0⟩ is [[u₀e^x₀, 0], [0, u₁e^x₁]] = [[±∞, 0], [0, u₁]]; each engine has NaN where it is a number
        var c = program.ToCase() with { Skipped = Array.Empty<Check>() };
        var probe = Probe.For(c);
        probe.SetOutputSize(OurSide.OutputSize(c, probe, DType.Float64), c.Seed);
        double[] ours = OurSide.Run(c, probe, DType.Float64, true)[Check.Hessian], theirs = TorchSide.Run(c, probe, DType.Float64, true)[Check.Hessian];
        double u0 = probe.Cotangent.Where((_, i) => i % 2 == 0).Sum(), u1 = probe.Cotangent.Where((_, i) => i % 2 == 1).Sum();
        var exact = new[] { u0 * double.PositiveInfinity, 0.0, 0.0, u1 };
        Assert.Contains(Enumerable.Range(0, 4), i => double.IsNaN(ours[i]) && !double.IsNaN(exact[i]));
        Assert.Contains(Enumerable.Range(0, 4), i => double.IsNaN(theirs[i]) && !double.IsNaN(exact[i]));
        // the convention names it, the second-order checks are skipped, and the program passes
        Assert.Contains(program.Forward().TorchWrong, t => t.Why.StartsWith("A convolution over an infinite input entry that no nonzero weight reads"));
        Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
    }

    [Fact]
    public void TheConventionNeedsAnUnreadInfiniteEntry_NotJustZeroWeightsOrAnInfinity()
    {
        // read by nonzero taps (no padding): not named, whatever the weights hold
        var read = UnreadConvolution(OpKind.Exp, new[] { double.PositiveInfinity, 0.0 }) is var p
            ? p with { Steps = p.Steps.Select(st => st.Kind == OpKind.Conv2d ? st with { Ints = new[] { 1, 0, 1, 1 } } : st).ToArray() } : null!;
        Assert.DoesNotContain(read.Forward().TorchWrong, t => t.Why.StartsWith("A convolution"));
        // every tap in the padding but no infinity: not named
        Assert.DoesNotContain(UnreadConvolution(OpKind.Exp, new[] { 1.0, 0.0 }).Forward().TorchWrong, t => t.Why.StartsWith("A convolution"));
    }

    [Fact]
    public void TheUnshrunkAdversarial8_111_MeetsItsConvention()
    {
        var program = FuzzCommand.Programs(1, 8, 111, adversarial: true, ops: OpSurface.Wide)[0];
        Assert.Contains(program.Forward().TorchWrong, t => t.Why.StartsWith("A convolution over an infinite input entry that no nonzero weight reads"));
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            Assert.All(FuzzCheck.Checked(program, dtype), r => Assert.True(r.Passed, $"{dtype} {r.Check}"));
    }

    [Fact]
    public void AFloat32RunSkipsTheChecksItsRoundedInputsNameAConventionFor()
    {
        // 1e39 is finite in float64 and +∞ in float32: at the rounded inputs the convolution reads... nothing, over +∞
        var program = UnreadConvolution(OpKind.Square, new[] { 1e39, 0.5 });
        Assert.DoesNotContain(program.Forward().TorchWrong, t => t.Why.StartsWith("A convolution"));
        var rounded = program.RoundedToFloat32().ToCase();
        Assert.Contains(Check.SecondOrder, rounded.Skipped);
        Assert.DoesNotContain(CaseRunner.Run(rounded, DType.Float64), r => r.Check == nameof(Check.SecondOrder));
        // and the float32 run passes: a failure of a check so skipped would be excused with the convention's note
        Assert.All(FuzzCheck.Checked(program, DType.Float32), r => Assert.True(r.Passed, r.Check));
    }

    [Fact]
    public void AFloat32FailureOfACheckTheRoundedInputsNameAConventionFor_IsExcusedWithThatNote()
    {
        // the mechanism alone: a case that names a convention for the second-order checks at the float32-rounded inputs
        // only (as the convolution's does for 1e39 above), and our float32 side with a planted second derivative of sin
        // (+0.02; the value and the first derivative are right)
        var program = new FuzzProgram("planted", 1, new[] { new[] { 2 } }, new[] { new[] { 0.3, 0.7 } },
            new[] { S(OpKind.Sin, new[] { 0 }) }, 1);
        Case Planted(FuzzProgram p) => p.ToCase() with
        {
            Ours = xs => OurInterpreter.Run(p, xs, (s, a, d) => s.Kind == OpKind.Sin && d == DType.Float32
                ? a[0].Sin() + (a[0] - a[0].StopGradient()).Square() * 0.01 : OurInterpreter.Apply(s, a, d)),
            Skipped = p.InputValues[0][0] == (float)0.3 ? new[] { Check.SecondOrder, Check.Hessian } : Array.Empty<Check>(),
        };
        Assert.Contains(CaseRunner.Run(Planted(program), DType.Float32), r => r.Check == nameof(Check.SecondOrder) && !r.Passed);
        var results = FuzzCheck.Checked(program, DType.Float32, Planted);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        Assert.Contains(results, r => r.Check == nameof(Check.SecondOrder) && r.Note == FuzzCheck.AllowanceConventionNote);
    }

    [Fact]
    public void Adversarial7_20_Float32PassesByTheAllowance()
    {
        var program = FuzzCommand.Programs(1, 7, 20, adversarial: true, ops: OpSurface.Wide)[0];
        // the float32 run sees −1e160 as −∞ (and 1e30's expm1 as +∞ in both dtypes)
        Assert.Contains(program.InputValues.SelectMany(v => v), v => double.IsFinite(v) && float.IsInfinity((float)v));
        var results = FuzzCheck.Checked(program, DType.Float32);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        Assert.Contains(results, r => r.Note is FuzzCheck.AllowanceNote or FuzzCheck.AllowanceConventionNote);
    }
}

/// <summary>
/// What was our known limitation (README, "Known limitations"): a monomial holding an overflowed square, NaN where the chain
/// torch multiplies is 0. The Rewrite pass now multiplies such a monomial in the chain's order, and the programs pass unnamed.
/// </summary>
public class FuzzOverflowedSquareTests
{
    [Fact]
    public void Adversarial16_127_GradientOfLogSigmoidOfXSquaredTimesX_IsZero_InTorchAndOurs()
    {
        // f = logsigmoid(x²)·x at x = 1e160: f′ = 2x²σ(−x²) + logsigmoid(x²), and σ(−1e320) = e^(−1e320) is far below any
        // float, so f′ = 0 to every digit (the closed form's limit); torch multiplies the chain left to right and gets it
        var x = torch.tensor(new[] { 1e160 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var g = torch.autograd.grad(new[] { (torch.nn.functional.logsigmoid(x.square()) * x).sum() }, new[] { x })[0];
        Assert.Equal(0.0, g.data<double>()[0]);
        // ours collected u·x·σ(−x²)·2x into 2u·σ(−x²)·x², x² the overflowed square: 0·∞ = NaN; now σ(−x²)·x·x, 0
        var ours = FunctionalDiff.Diff.Grad((Expr v) => (v.Square().LogSigmoid() * v).Sum())(Tensor.FromArray(new[] { 1e160 }, 1));
        Assert.Equal(0.0, ours.Eval().ToDoubleArray()[0]);
        var program = FuzzCommand.Programs(1, 16, 127, adversarial: true, ops: OpSurface.Wide)[0];
        Assert.DoesNotContain(program.Forward().TorchWrong, w => w.Why.StartsWith("ours"));
        Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
    }

    [Theory]
    [InlineData(5, 87)]
    [InlineData(9, 46)]
    [InlineData(10, 145)]
    [InlineData(14, 274)]
    public void TheSecondOrderPrograms_PassUnnamed(int seed, int index)
    {
        var program = FuzzCommand.Programs(1, seed, index, adversarial: true, ops: OpSurface.Wide)[0];
        Assert.DoesNotContain(program.Forward().TorchWrong, w => w.Why.StartsWith("ours"));
        Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
    }
}
