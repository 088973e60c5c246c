using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges15 examined: `fuzz adversarial 1/166` (float32, one ulp of exp decides a cosine's sign), `fuzz adversarial 45/50`
/// and `45/121`, and `fuzz all adversarial 44/296`: torch's numbers and ours against the closed forms, and the programs passing the
/// fuzzer's checks; and the failure report's replay command and drawn inputs.
/// </summary>
public class FuzzEdges15Tests
{
    [Fact]
    public void CosineOfAnExponentialAt1e15_InFloat32_HasTheSignOfOneUlp_AndPassesByTheConditioningRule()
    {
        // the float32 value of the sum that 1/166 exponentiates; e^t = 1.6178254e15, where one float32 ulp is 2^27 = 1.3e8
        float t = BitConverter.Int32BitsToSingle(1108087894);
        double exact = Math.Exp(t);
        float rounded = (float)exact;
        float below = MathF.BitDecrement(rounded), above = MathF.BitIncrement(rounded);
        float ours = (float)Tensor.FromArray(Enumerable.Repeat(t, 16).ToArray(), 16).Exp().ToDoubleArray()[0];
        float theirs = torch.exp(torch.tensor(new[] { t })).data<float>()[0];
        // both within one ulp of the exact value (the float32 contract of the kernels), and the cosines of the two neighbours
        // of the exact value, each a float32 exp within that contract, have opposite signs
        Assert.True(ours == rounded || ours == below || ours == above, $"ours {ours:R}, exact {exact:R}");
        Assert.True(theirs == rounded || theirs == below || theirs == above, $"torch {theirs:R}, exact {exact:R}");
        Assert.True(Math.Sign(Math.Cos(below)) * Math.Sign(Math.Cos(rounded)) < 0 || Math.Sign(Math.Cos(above)) * Math.Sign(Math.Cos(rounded)) < 0,
            $"cos at the neighbours: {Math.Cos(below)}, {Math.Cos(rounded)}, {Math.Cos(above)}");
        Passes(FuzzCommand.Programs(1, 1, 166, adversarial: true)[0]);
    }

    [Fact]
    public void GeluTanh_WhereTheSquareOverflows_HasTheLimitSlope_TorchsIsNaN()
    {
        // gelu_tanh(x) = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³): the slope is 1 for x → +∞ and 0 for x → −∞ (x·sech²u·u′
        // falls like x³e^(−2u)); at ±1e300 it is that limit to every digit
        var x = torch.tensor(new[] { 1e300, -1e300, 1.5 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var y = 0.5 * x * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh());
        var torchSlope = Values(torch.autograd.grad(new[] { y.sum() }, new[] { x })[0]);
        Assert.True(double.IsNaN(torchSlope[0]) && double.IsNaN(torchSlope[1]), $"torch's slopes {torchSlope[0]}, {torchSlope[1]}");
        var ours = Diff.Grad(v => v.GeluTanh().Sum())(Tensor.FromArray(new[] { 1e300, -1e300, 1.5 }, 3)).Eval().ToDoubleArray();
        Assert.Equal(1.0, ours[0]);
        Assert.Equal(0.0, ours[1]);
        // at 1.5, the closed form: ½(1 + tanh u) + ½x·sech²u·√(2/π)(1 + 3·0.044715x²)
        double u = Math.Sqrt(2 / Math.PI) * (1.5 + 0.044715 * 1.5 * 1.5 * 1.5), th = Math.Tanh(u);
        double closed = 0.5 * (1 + th) + 0.5 * 1.5 * (1 - th * th) * Math.Sqrt(2 / Math.PI) * (1 + 3 * 0.044715 * 1.5 * 1.5);
        Assert.Equal(closed, ours[2], 12);
        Assert.Equal(closed, torchSlope[2], 12);
        Passes(FuzzCommand.Programs(1, 45, 50, adversarial: true)[0]);
    }

    [Fact]
    public void LogSigmoid_BelowMinus40_UnderAnInfiniteCotangent_TorchsFloat32SecondOrderIsNaN_OursTheThresholdsCurvature0()
    {
        // Σ c·logsigmoid(a) with c = −∞ at a = −100, second order along v = 1: the closed form c·(−σ(a)σ(−a)) = −∞·(−3.7e-44) is +∞;
        // torch's float32 σ(−100) is 0 (e^100 overflows), so its curvature is 0 and meets c as 0·∞ = NaN; ours takes softplus's
        // threshold (curvature a symbolic zero above 40), so the second order is 0 from this term
        var a = torch.tensor(new[] { -100f }).requires_grad_(true);
        Assert.Equal(0f, torch.sigmoid(torch.tensor(new[] { -100f })).data<float>()[0]);
        var c = torch.tensor(new[] { float.NegativeInfinity });
        var gradient = torch.autograd.grad(new[] { (torch.nn.functional.logsigmoid(a) * c).sum() }, new[] { a }, create_graph: true)[0];
        var torchSecond = torch.autograd.grad(new[] { gradient.sum() }, new[] { a })[0].data<float>()[0];
        Assert.True(float.IsNaN(torchSecond), $"torch's second order {torchSecond}");
        var hvp = Diff.Hvp(v => (v.LogSigmoid() * Tensor.FromArray(new[] { float.NegativeInfinity }, 1)).Sum(),
            Tensor.FromArray(new[] { -100f }, 1), Tensor.FromArray(new[] { 1f }, 1)).Eval().ToDoubleArray()[0];
        Assert.Equal(0.0, hvp);
        // the slope itself is the closed form, σ(100) = 1 times c
        var slope = Diff.Grad(v => (v.LogSigmoid() * Tensor.FromArray(new[] { float.NegativeInfinity }, 1)).Sum())(Tensor.FromArray(new[] { -100f }, 1)).Eval().ToDoubleArray()[0];
        Assert.Equal(double.NegativeInfinity, slope);
        Passes(FuzzCommand.Programs(1, 44, 296, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void GroupNorm_OfValuesWhoseSquaresOverflowFloat32_HasTheZeroGradientOfItsConstantSum_TorchsIsNaN()
    {
        // a normalised group sums to the constant 0, so the gradient of that sum is 0 at every input; in float32 the squares of
        // 1e33 overflow, and torch's gradient is NaN
        var values = new[] { -1.6e30f, 1e33f, -8.8e31f, -8.9e31f };
        var x = torch.tensor(values).reshape(1, 2, 2).requires_grad_(true);
        var torchGradient = torch.autograd.grad(new[] { torch.nn.functional.group_norm(x, 1).sum() }, new[] { x })[0].data<float>().ToArray();
        Assert.All(torchGradient, g => Assert.True(float.IsNaN(g), $"torch's gradient entry {g}"));
        var ours = Diff.Grad(v => Nn.GroupNorm(v, 1).Sum())(Tensor.FromArray(values, 1, 2, 2)).Eval().ToDoubleArray();
        Assert.All(ours, g => Assert.Equal(0.0, g));
        Passes(FuzzCommand.Programs(1, 45, 121, adversarial: true)[0]);
    }

    [Fact]
    public void BatchNormOfAShiftedGroup_ThroughLgammaAtTheSmallestSubnormal_IsConstantInTheShift_BothEnginesGradientsAreARoundedResidueTimesInfinity()
    {
        // batch_norm(lgamma(x) − c) over one channel does not depend on x: the shift lgamma(x) is the same for every entry of
        // the group, so the cotangent into it, the sum of the batch norm's input cotangents, is exactly 0, and the gradient is
        // 0; both engines round that sum to a residue (or to 0) and multiply it by ψ(−5e-324) ≈ 2e323, beyond the range: ±∞
        var c = torch.tensor(new[] { -0.309, -0.269, 0.865, 0.865, -0.309, -5e-324, 10000.0, -0.269 }, dtype: torch.ScalarType.Float64).reshape(2, 1, 4);
        var u = torch.tensor(new[] { -0.183, -1.419, 1.413, 0.403, -0.204, -0.324, -1.073, -0.422 }, dtype: torch.ScalarType.Float64).reshape(2, 1, 4);
        var shift = torch.tensor(0.0, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var normalised = torch.nn.functional.batch_norm(shift - c, null, null, training: true);
        var residue = torch.autograd.grad(new[] { (normalised * u).sum() }, new[] { shift })[0].item<double>();
        Assert.True(Math.Abs(residue) <= 1e-12, $"the cotangent into the shift {residue:R}: exactly 0 in exact arithmetic");
        var x = torch.tensor(new[] { -5e-324 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var torchGradient = torch.autograd.grad(new[] { (torch.nn.functional.batch_norm(torch.lgamma(x) - c, null, null, training: true) * u).sum() }, new[] { x })[0].item<double>();
        Assert.False(double.IsFinite(torchGradient), $"torch's gradient {torchGradient:R}");
        // the conditioning rule: torch's own entry is +∞, −∞ or NaN as the moves round the residue, so ours is explained
        Assert.True(FuzzCheck.Explained(double.PositiveInfinity, double.NegativeInfinity, new[] { double.PositiveInfinity, double.NaN, double.NegativeInfinity }, 1e-8));
        Assert.False(FuzzCheck.Explained(double.PositiveInfinity, double.NegativeInfinity, new[] { double.NaN, double.NegativeInfinity }, 1e-8));
        Assert.False(FuzzCheck.Explained(1.0, 2.0, new[] { double.NaN, 5.0 }, 1e-8));
        // the moves keep a nonzero value nonzero with its sign: the smallest subnormal moves away from 0, not onto lgamma's pole
        Assert.Equal(-1e-323, FuzzProgram.Shift(-5e-324, 1, DType.Float64));
        Assert.Equal(-1.5e-323, FuzzProgram.Shift(-5e-324, 2, DType.Float64));
        Assert.Equal(-1e-323, FuzzProgram.Shift(-5e-324, -1, DType.Float64));
        Assert.Equal(MathF.BitIncrement(float.Epsilon), (float)FuzzProgram.Shift(float.Epsilon, -1, DType.Float32));
        Assert.All(Enumerable.Range(1, FuzzCheck.ConditioningDraws), draw => Assert.Equal(-1e-323, FuzzProgram.OneUlp(-5e-324, draw)));
        Passes(FuzzCommand.Programs(1, 44, 210, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void TheReplayCommand_DrawsTheSameProgram_AsTheRunThatFoundIt_InEveryDtype()
    {
        var found = FuzzCommand.Programs(4, 44, 0, adversarial: true, ops: OpSurface.All)[3];
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var command = FuzzCommand.ReplayCommand(found.Name, dtype);
            Assert.NotNull(command);
            Assert.Contains($"--dtype {CheckResult.Name(dtype)}", command);
            var args = command!.Split(' ').SkipWhile(a => a != "fuzz").Skip(1).ToArray();
            var options = Options.Parse(args);
            var replayed = FuzzCommand.Programs(options.Programs!.Value, options.Seed, options.Start, options.Adversarial, options.Ops);
            Assert.Single(replayed);
            Assert.Equal(found.Name, replayed[0].Name);
            Assert.Equal(found.Seed, replayed[0].Seed);
            Assert.Equal(found.InputValues.Length, replayed[0].InputValues.Length);
            for (int i = 0; i < found.InputValues.Length; i++) Assert.Equal(found.InputValues[i], replayed[0].InputValues[i]);
            Assert.Equal(found.Steps.Length, replayed[0].Steps.Length);
        }
        Assert.Null(FuzzCommand.ReplayCommand("a program a test builds", DType.Float64));
        Assert.Equal("dotnet compare/FunctionalDiff.Compare/bin/Release/net10.0/FunctionalDiff.Compare.dll fuzz --seed 1 --start 166 --programs 1 --dtype float32 --inputs adversarial --in-process",
            FuzzCommand.ReplayCommand(FuzzCommand.ProgramName(1, 166, true, OpSurface.Full), DType.Float32));
    }

    [Fact]
    public void TheFailureReport_ShowsTheReplayCommand_AndTheDrawnInputsBesideTheShrunkProgram()
    {
        var drawn = FuzzCommand.Programs(1, 45, 50, adversarial: true)[0].Compact();
        var shrunk = drawn with { InputValues = drawn.InputValues.Select(v => v.Select(_ => 0.5).ToArray()).ToArray() };
        var text = FuzzCheck.Describe(shrunk, DType.Float32, new List<CheckResult>(), drawn);
        Assert.Contains("// replay (the program as drawn): " + FuzzCommand.ReplayCommand(drawn.Name, DType.Float32), text);
        Assert.Contains("the inputs as drawn, before shrinking", text);
        // the drawn inputs as float64 literals (1e300 would print as float.PositiveInfinity in a float32 program)
        Assert.Contains(CSharpPrinter.Number(drawn.InputValues[0][0]), text);
        Assert.Contains("1E+300", text);
        Assert.DoesNotContain("Infinityf", text);
        // a program shown as drawn prints no second copy
        Assert.DoesNotContain("before shrinking", FuzzCheck.Describe(drawn, DType.Float32, new List<CheckResult>(), drawn));
    }
}
