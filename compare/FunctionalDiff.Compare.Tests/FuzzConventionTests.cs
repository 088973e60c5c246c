using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The fuzzer's conventions where torch's derivative is the odd one: each shrunk program from the fuzz runs
/// passes the fuzzer's checks, and torch's own numbers at that point are shown against the closed form (and
/// against torch's result for an equivalent composite, where one exists), so the convention is never an
/// excuse for a number of ours that is wrong.
/// </summary>
public class FuzzConventionTests
{
    static readonly double Inf = double.PositiveInfinity;

    static TT T(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape).requires_grad_(true);

    static double[] Values(TT t) => t.detach().contiguous().clone().data<double>().ToArray();

    static TT Grad(TT y, TT x, TT? cotangent = null) =>
        torch.autograd.grad(new[] { y }, new[] { x }, cotangent is null ? null : new[] { cotangent }, retain_graph: true, create_graph: true)[0];

    static FuzzProgram Program(string name, int[][] shapes, double[][] values, params Step[] steps) =>
        new(name, 1, shapes, values, steps, shapes.Length + steps.Length - 1);

    static Step S(OpKind kind, params int[] args) => new(kind, args, Array.Empty<int>());

    static void PassesWithConvention(FuzzProgram program, bool convention = true)
    {
        var c = program.ToCase();
        Assert.Equal(convention, c.Float64!.TorchDerivativeNaNIsConvention);
        Assert.Equal(convention, c.Float32!.TorchDerivativeNaNIsConvention);
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void PowAtBaseZero_TorchSecondDerivativeInTheExponentIsNaN_TheFunctionIsZeroNearThere()
    {
        // f(e) = 0^e is 0 for every e > 0, so every derivative in e is 0 at e = 2.33
        var e = T(new[] { 2.33 }, 1);
        var a = torch.zeros(1, dtype: torch.ScalarType.Float64);
        var first = Grad(a.pow(e).sum(), e);
        Assert.Equal(0.0, Values(first)[0]);
        Assert.True(double.IsNaN(Values(Grad(first.sum(), e))[0]), "torch's second derivative");
        var ours = FunctionalDiff.Diff.Hessian((Expr x) => ((Expr)Tensor.FromArray(new[] { 0.0 }, 1)).Pow(x).Sum())(Tensor.FromArray(new[] { 2.33 }, 1));
        Assert.Equal(new[] { 0.0 }, ours.Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz 1/1280", new[] { new[] { 1 }, new[] { 3 } },
            new[] { new[] { 2.330970092403811 }, new[] { 0.0, 2.330970092403811, 0.0 } }, S(OpKind.Pow, 1, 0)));
    }

    [Fact]
    public void Atan2_TorchIsZeroAtTheOriginAtFirstOrderAndNaNAtSecond_OursIsZeroAtBoth()
    {
        var y = T(new[] { 0.0 }, 1);
        var first = Grad(torch.atan2(y, y).sum(), y);
        Assert.Equal(0.0, Values(first)[0]);
        Assert.True(double.IsNaN(Values(Grad(first.sum(), y))[0]), "torch's second derivative");
        PassesWithConvention(Program("fuzz 2/858", new[] { new[] { 4 } }, new[] { new[] { 0.0, 0.0, 0.0, 0.0 } }, S(OpKind.Atan2, 0, 0)));
    }

    [Fact]
    public void Atan2OverAnEmptyBroadcast_TorchSecondDerivativeIsNaNWithAnInfiniteOperand_AnEmptySumIsZero()
    {
        // atan2(y, x) with y of shape [3, 0] has no entries: ⟨u, f⟩ is an empty sum, 0 for every x
        foreach (var (x, nan) in new[] { (1.0, false), (Inf, true) })
        {
            var xs = T(new[] { x }, 1);
            var ys = torch.zeros(3, 0, dtype: torch.ScalarType.Float64);
            var first = Grad(torch.atan2(ys, xs).sum(), xs);
            Assert.Equal(0.0, Values(first)[0]);
            Assert.Equal(nan, double.IsNaN(Values(Grad(first.sum(), xs))[0]));
        }
        PassesWithConvention(Program("fuzz 3/1065", new[] { new[] { 1 }, new[] { 3, 0 } }, new[] { new[] { Inf }, Array.Empty<double>() },
            S(OpKind.Atan2, 1, 0)));
    }

    [Fact]
    public void MseWithAnInfiniteDifference_TorchFusedJvpIsNaN_TheChainRuleAndTorchsCompositeGiveInfinity()
    {
        double[] a = { 0.0, -Inf, 0.0 }, b = { 0.0, 0.0, 0.0 }, ta = { 0.00323105, -1.57176, -0.72789 }, tb = { 0.716693, -1.2696, 0.233035 };
        // the chain rule: J·t = 2/n Σ (a − b)(tₐ − t_b)
        double closed = Enumerable.Range(0, 3).Sum(i => 2 * (a[i] - b[i]) * (ta[i] - tb[i])) / 3;
        Assert.Equal(Inf, closed);
        double Jvp(Func<TT, TT, TT> f)
        {
            var (pa, pb) = (T(a, 3), T(b, 3));
            var y = f(pa, pb);
            var dummy = torch.zeros_like(y).requires_grad_(true);
            var g = torch.autograd.grad(new[] { y }, new[] { pa, pb }, new[] { dummy }, retain_graph: true, create_graph: true);
            var s = (g[0] * torch.tensor(ta, dtype: torch.ScalarType.Float64)).sum() + (g[1] * torch.tensor(tb, dtype: torch.ScalarType.Float64)).sum();
            return Values(torch.autograd.grad(new[] { s }, new[] { dummy }, retain_graph: true)[0])[0];
        }
        Assert.True(double.IsNaN(Jvp((p, q) => torch.nn.functional.mse_loss(p, q))), "torch's fused mse_loss");
        Assert.Equal(closed, Jvp((p, q) => (p - q).square().mean()));
        PassesWithConvention(Program("fuzz 2/225", new[] { new[] { 1, 3 }, new[] { 1, 3 } }, new[] { b, a }, S(OpKind.Mse, 1, 0)));
    }

    [Fact]
    public void ReluOfAnInfiniteValue_TorchSecondDerivativeIsNaN_TheInputsOwnIsInfinite()
    {
        // relu(g) = g where g > 0; g = −1/x at x = −0 is +∞ with g'' = −2/x³ = +∞, which torch gives for g alone
        // (written as the fuzzer's torch side writes c / x: a tensor division)
        var x = T(new[] { -0.0 }, 1);
        TT SecondDerivative(Func<TT, TT> f) => Grad(Grad(f(x).sum(), x).sum(), x);
        TT G(TT v) => torch.tensor(-1.0, dtype: torch.ScalarType.Float64).div(v);
        Assert.Equal(Inf, Values(SecondDerivative(G))[0]);
        Assert.True(double.IsNaN(Values(SecondDerivative(v => G(v).relu()))[0]), "torch's relu");
        var ours = FunctionalDiff.Diff.Hessian((Expr v) => (-1.0 / v).Relu().Sum())(Tensor.FromArray(new[] { -0.0 }, 1));
        Assert.Equal(new[] { Inf }, ours.Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz 3/1411", new[] { new[] { 2, 1 } }, new[] { new[] { -0.0, 0.0 } },
            new Step(OpKind.RDivScalar, new[] { 0 }, Array.Empty<int>(), Scalar: -1.0), S(OpKind.Relu, 1)));
    }

    [Fact]
    public void TheConventionIsSetOnlyAtThoseEdges_AndNeverExcusesANaNOfOurs()
    {
        // the same ops away from their edges
        PassesWithConvention(Program("relu", new[] { new[] { 2 } }, new[] { new[] { -1.0, 2.0 } }, S(OpKind.Relu, 0)), convention: false);
        PassesWithConvention(Program("pow", new[] { new[] { 2 }, new[] { 2 } }, new[] { new[] { 0.5, 2.0 }, new[] { 1.5, 0.0 } }, S(OpKind.Pow, 0, 1)), convention: false);
        PassesWithConvention(Program("atan2", new[] { new[] { 2 }, new[] { 2 } }, new[] { new[] { 0.0, 2.0 }, new[] { 1.5, 0.0 } }, S(OpKind.Atan2, 0, 1)), convention: false);
        var rule = Tolerance.Float64 with { ScaleAtLeast = 1, TorchDerivativeNaNIsConvention = true };
        Assert.True(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { 0.0, 1.0 }, new[] { double.NaN, 1.0 }, rule).Passed);
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Hessian, new[] { double.NaN, 1.0 }, new[] { 0.0, 1.0 }, rule).Passed);
        Assert.False(CheckResult.Compare("c", DType.Float64, Check.Value, new[] { 0.0, 1.0 }, new[] { double.NaN, 1.0 }, rule).Passed);
    }

    [Fact]
    public void ARepeatedStepIsOneNode_TorchGivesOurNumberWhenTheValueIsShared()
    {
        // f = Σ c·x + Σ (c·x)/−3 with c = x = ∞: d f/dx is c·(1 − 1/3) = ∞ through one shared product (ours, and
        // torch given the product once), ∞ − ∞ = NaN through two copies (torch given it twice)
        var c = torch.tensor(new[] { Inf }, dtype: torch.ScalarType.Float64);
        double Derivative(bool shared)
        {
            var x = T(new[] { Inf }, 1);
            var p = c * x;
            var q = shared ? p : c * x;
            return Values(Grad(p.sum() + (q / -3.0).sum(), x))[0];
        }
        Assert.Equal(Inf, Derivative(shared: true));
        Assert.True(double.IsNaN(Derivative(shared: false)));
        var steps = new[]
        {
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: new[] { Inf }, DataShape: new[] { 1, 1 }),
            S(OpKind.Mul, 2, 0), S(OpKind.Mul, 2, 0),
            new Step(OpKind.DivScalar, new[] { 4 }, Array.Empty<int>(), Scalar: -3.0),
            new Step(OpKind.Sum, new[] { 3 }, Array.Empty<int>()), S(OpKind.Add, 1, 6),
            new Step(OpKind.Sum, new[] { 5 }, Array.Empty<int>()), S(OpKind.Add, 7, 8),
        };
        Assert.Equal(1, TorchInterpreter.EarlierCopy(steps, 2));
        Assert.Equal(-1, TorchInterpreter.EarlierCopy(steps, 1));
        PassesWithConvention(Program("fuzz 3/1394", new[] { new[] { 1, 1 }, new[] { 1, 1 } }, new[] { new[] { Inf }, new[] { Inf } }, steps),
            convention: false);
    }
}

/// <summary>
/// The fuzzer's conditioning rule (float64): a difference is excused only where the last bits of the inputs
/// and of each step's rounding move torch's own result by a comparable amount.
/// </summary>
public class FuzzConditioningTests
{
    static FuzzProgram LayerNormAtFiveUlp() => new("fuzz 3/1245", 1, new[] { new[] { 1, 3, 2 } },
        new[] { new[] { 0.0, 0.0, 0.0, 0.0, 1.0638571693251537, 1.0638571693251526 } },
        new[] { new Step(OpKind.LayerNorm, new[] { 0 }, Array.Empty<int>(), Scalar: 1e-5) }, 1);

    [Fact]
    public void LayerNormOfTwoEntriesFiveUlpApart_NoFloat64EngineMeetsTheStrictCheck_TheRuleExcusesIt()
    {
        var program = LayerNormAtFiveUlp();
        // the closed form for a row (a, b): ⟨u, y⟩ = (u₀ − u₁)·φ(d), d = (a − b)/2 (exact in float64), φ(d) = d/√(d² + ε),
        // so ∂²/∂a² = (u₀ − u₁)/4 · φ''(d) with φ''(d) = −3εd (d² + ε)^(−5/2)
        double a = program.InputValues[0][4], b = program.InputValues[0][5], eps = 1e-5;
        var c = program.ToCase();
        var probe = Probe.For(c);
        probe.SetOutputSize(6, c.Seed);
        double d = (a - b) / 2, du = probe.Cotangent[4] - probe.Cotangent[5];
        double exact = du / 4 * (-3 * eps * d * Math.Pow(d * d + eps, -2.5));
        var torch = TorchSide.Run(c, probe, DType.Float64, withHessian: true)[Check.Hessian];
        var ours = OurSide.Run(c, probe, DType.Float64, withHessian: true)[Check.Hessian];
        // entry (4, 4) of the 6×6 Hessian: torch rounds the mean, which moves a − μ by half an ulp of 5
        double tolerance = Tolerance.Float64.Relative * Math.Abs(exact) + Tolerance.Float64.AbsoluteFloor;
        Assert.True(Math.Abs(torch[4 * 6 + 4] - exact) > 10 * tolerance, $"torch {torch[4 * 6 + 4]:R}, exact {exact:R}");
        Assert.True(Math.Abs(ours[4 * 6 + 4] - exact) < Math.Abs(torch[4 * 6 + 4] - exact), $"ours {ours[4 * 6 + 4]:R}, exact {exact:R}");
        var strict = CaseRunner.Run(c, DType.Float64);
        Assert.Contains(strict, r => !r.Passed);
        var results = FuzzCheck.Checked(program, DType.Float64);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        Assert.Contains(results, r => r.Note == FuzzCheck.ConditioningNote);
    }

    [Fact]
    public void AOneUlpMoveKeepsZerosIntegersHalvesAndTies()
    {
        foreach (var v in new[] { 0.0, -0.0, 1.0, -3.0, 0.5, 2.25, 1 << 20, double.PositiveInfinity, double.NaN })
            Assert.Equal(BitConverter.DoubleToInt64Bits(v), BitConverter.DoubleToInt64Bits(FuzzProgram.OneUlp(v, 2)));
        foreach (var v in new[] { 0.1, -1.0638571693251537, 2.718281828459045, 1e-300 })
        {
            double moved = FuzzProgram.OneUlp(v, 2);
            Assert.True(moved == Math.BitIncrement(v) || moved == Math.BitDecrement(v), $"{v}");
            Assert.Equal(moved, FuzzProgram.OneUlp(v, 2)); // equal values move together
        }
        // the three draws do not all move one value the same way for every value
        var values = Enumerable.Range(1, 20).Select(i => 0.1 * i + 0.013).ToArray();
        Assert.Contains(values, v => FuzzProgram.OneUlp(v, 1) != FuzzProgram.OneUlp(v, 2));
    }

    [Fact]
    public void ARelativeErrorOfOneInAHundredMillionIsStillCaught()
    {
        // our side computes sin(x)·(1 + 1e-8): far inside float32's tolerance, 100 times float64's
        static Case Wrong(FuzzProgram p) => p.ToCase() with
        {
            Ours = xs => OurInterpreter.Run(p, xs, (s, a, d) => s.Kind == OpKind.Sin ? a[0].Sin() * (1 + 1e-8) : OurInterpreter.Apply(s, a, d)),
        };
        var withSin = FuzzCommand.Programs(60, 13).Where(p => p.Steps.Any(s => s.Kind == OpKind.Sin)).Take(12).ToList();
        int strict = withSin.Count(p => CaseRunner.Run(Wrong(p), DType.Float64).Any(r => !r.Passed));
        int ruled = withSin.Count(p => FuzzCheck.Checked(p, DType.Float64, Wrong).Any(r => !r.Passed));
        Assert.True(strict >= 4, $"the planted error shows in only {strict} of {withSin.Count} programs");
        Assert.Equal(strict, ruled);
    }
}
