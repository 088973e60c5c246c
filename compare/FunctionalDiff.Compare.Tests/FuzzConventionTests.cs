using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
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

    static TT Grad(TT y, TT x, TT? cotangent = null) =>
        torch.autograd.grad(new[] { y }, new[] { x }, cotangent is null ? null : new[] { cotangent }, retain_graph: true, create_graph: true)[0];

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
    public void Atan2OverAnEmptyBroadcast_TorchSecondDerivativeIsNaNWithAnInfiniteOrNaNOperand_AnEmptySumIsZero()
    {
        // atan2(y, x) with y of shape [3, 0] has no entries: ⟨u, f⟩ is an empty sum, 0 for every x
        foreach (var (x, nan) in new[] { (1.0, false), (Inf, true), (double.NaN, true) })
        {
            var xs = T(new[] { x }, 1);
            var ys = torch.zeros(3, 0, dtype: torch.ScalarType.Float64);
            var first = Grad(torch.atan2(ys, xs).sum(), xs);
            Assert.Equal(0.0, Values(first)[0]);
            Assert.Equal(nan, double.IsNaN(Values(Grad(first.sum(), xs))[0]));
        }
        PassesWithConvention(Program("fuzz 3/1065", new[] { new[] { 1 }, new[] { 3, 0 } }, new[] { new[] { Inf }, Array.Empty<double>() },
            S(OpKind.Atan2, 1, 0)));
        // and a NaN operand (`fuzz 12/683`: atan2 of a [2, 2, 0] constant over a scalar NaN)
        PassesWithConvention(Program("fuzz 12/683", new[] { new[] { 1 }, new[] { 2, 2, 0 } }, new[] { new[] { double.NaN }, Array.Empty<double>() },
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
    public void AProductWithZero_TorchMultipliesItsZeroCotangentIntoAnInfiniteSlope_OursIsASymbolicZero()
    {
        // p(x) = x·0 is 0 for every x, so rsqrt(p(x)) = +∞ does not change with x: no derivative reaches x through the
        // product. Torch's double backward multiplies the product's zero cotangent into rsqrt's slope −y³/2 = −∞: NaN.
        var x = T(new[] { 0.0 }, 1);
        var zero = torch.zeros(1, dtype: torch.ScalarType.Float64);
        var u = torch.tensor(new[] { -0.5 }, dtype: torch.ScalarType.Float64);
        var v = torch.tensor(new[] { -0.8 }, dtype: torch.ScalarType.Float64);
        var pullback = Grad((x * zero).rsqrt().sum() * u.sum(), x);
        Assert.True(double.IsNaN(Values(Grad((pullback * v).sum(), x))[0]), "torch's second order");
        // ours, over scalars as the program's: the derivative of u·v·0·(−y³/2) through the product with 0 is the
        // symbolic zero (the cotangent v·0 folds to the constant 0)
        static Expr Scalar(double value) => Tensor.FromArray(new[] { value }, Array.Empty<int>());
        var ours = FunctionalDiff.Diff.Grad((Expr z) =>
        {
            var (_, pb) = FunctionalDiff.Diff.Vjp((Expr w) => (w * Scalar(0.0)).Rsqrt(), z);
            return (pb(Scalar(-0.5)) * Scalar(-0.8)).Sum();
        })(Scalar(0.0));
        Assert.Equal(new[] { 0.0 }, ours.Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz 2/1673", new[] { Array.Empty<int>() }, new[] { new[] { 0.0 } },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: new[] { 0.0 }, DataShape: Array.Empty<int>()),
            S(OpKind.Mul, 0, 1), S(OpKind.Rsqrt, 2)));
    }

    [Fact]
    public void LogSigmoidOfMinusInfinity_TorchSecondDerivativeIsNaN_TheSaturatedCurvatureIsZero()
    {
        // logsigmoid(g) with g = −1/x at x = +0: g = −∞, logsigmoid'(g) = σ(−g) = 1, logsigmoid''(g) = −σ(g)σ(−g) = 0, so
        // f'' = 0·g'² + 1·g'' with g'' = −2/x³ = −∞, the limit of −1/x's (logsigmoid(g) − g → 0 as g → −∞); torch gives
        // g'' alone, and NaN through logsigmoid (0·∞ in its double backward)
        var x = T(new[] { 0.0 }, 1);
        TT SecondDerivative(Func<TT, TT> f) => Grad(Grad(f(x).sum(), x).sum(), x);
        TT G(TT v) => torch.tensor(-1.0, dtype: torch.ScalarType.Float64).div(v);
        Assert.Equal(-Inf, Values(SecondDerivative(G))[0]);
        Assert.True(double.IsNaN(Values(SecondDerivative(v => torch.nn.functional.logsigmoid(G(v))))[0]), "torch's logsigmoid");
        var ours = FunctionalDiff.Diff.Hessian((Expr v) => (-1.0 / v).LogSigmoid().Sum())(Tensor.FromArray(new[] { 0.0 }, 1));
        Assert.Equal(new[] { -Inf }, ours.Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz 20/621", new[] { new[] { 1 } }, new[] { new[] { 0.0 } },
            new Step(OpKind.RDivScalar, new[] { 0 }, Array.Empty<int>(), Scalar: -1.0), S(OpKind.LogSigmoid, 1)));
    }

    [Fact]
    public void TrilBeforeAnInfiniteSlope_TorchSecondDerivativeIsNaN_TheZeroedEntriesAreConstants()
    {
        // celu(mean(tril(x)^0.5)) over a row: tril keeps x₀ and sets x₁, x₂ to the constant 0, where the power's slope is
        // ∞; the function is celu(√x₀ / 3), whose Hessian is finite at (0, 0) and 0 elsewhere
        var x = T(new[] { 0.4, 0.0, 0.0 }, 1, 3);
        TT F(TT v) => torch.nn.functional.celu(v.tril().pow(0.5).mean(new long[] { 1 }), 1.0, false);
        var gradient = Grad(F(x).sum(), x);
        var torchRow = Values(Grad(gradient[0, 0], x));
        Assert.True(double.IsNaN(torchRow[0]), "torch's ∂²/∂x₀²");
        var ours = FunctionalDiff.Diff.Hessian((Expr v) => v.Reshape(1, 3).Tril(0).Pow(0.5).Mean(new[] { 1 }).Celu(1.0).Sum())(
            Tensor.FromArray(new[] { 0.4, 0.0, 0.0 }, 3)).Eval().ToDoubleArray();
        // the closed form: h(s) = celu(s/3) with s = √x₀, celu(t) = t for t > 0, so h = √x₀/3 and h'' = −x₀^(−3/2)/12
        Assert.Equal(-Math.Pow(0.4, -1.5) / 12.0, ours[0], 12);
        Assert.Equal(new[] { 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0 }, ours.Skip(1).ToArray());
        PassesWithConvention(Program("fuzz 20/549", new[] { new[] { 1, 3 } }, new[] { new[] { 0.4, 0.0, 0.0 } },
            new Step(OpKind.Tril, new[] { 0 }, new[] { 0 }), new Step(OpKind.PowScalar, new[] { 1 }, Array.Empty<int>(), Scalar: 0.5),
            new Step(OpKind.Mean, new[] { 2 }, new[] { 1 }, Mode: 1), new Step(OpKind.Celu, new[] { 3 }, Array.Empty<int>(), Scalar: 1.0)));
    }

    [Fact]
    public void SeluOfInfinity_TorchSecondDerivativeIsNaN_TheLinearBranchHasNoCurvature()
    {
        // expm1(selu(x)) at x = +∞: selu is scale·x there, so the second derivative is e^(scale·x)·scale² = +∞
        var x = T(new[] { Inf }, 1);
        TT SecondDerivative(Func<TT, TT> f) => Grad(Grad(f(x).sum(), x).sum(), x);
        const double scale = 1.0507009873554804934193349852946;
        Assert.Equal(Inf, Values(SecondDerivative(v => (v * scale).expm1()))[0]);
        Assert.True(double.IsNaN(Values(SecondDerivative(v => torch.nn.functional.selu(v).expm1()))[0]), "torch's selu");
        var ours = FunctionalDiff.Diff.Hessian((Expr v) => v.Selu().Expm1().Sum())(Tensor.FromArray(new[] { Inf }, 1));
        Assert.Equal(new[] { Inf }, ours.Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz adversarial 29/6", new[] { new[] { 1, 3 } }, new[] { new[] { 0.0, 0.0, Inf } },
            S(OpKind.Selu, 0), S(OpKind.Expm1, 1)));
    }

    [Fact]
    public void LogSumExpOfLargeEqualEntries_TorchSecondOrderCarriesTheRoundingOfLse_OursIsTheClosedForm()
    {
        // f(x) = logsumexp([e^x, e^x]) = e^x + log 2, so d/dx ⟨pullback(u), v⟩ = u·v·e^x exactly
        double x0 = 8.2, u = -1.69597, v = 0.50319;
        var closed = u * v * Math.Exp(x0);
        var x = T(new[] { x0 }, 1);
        var e = x.exp();
        var pullback = Grad(torch.stack(new[] { e, e }, 1).logsumexp(1).sum() * u, x);
        var torchSecond = Values(Grad((pullback * v).sum(), x))[0];
        Assert.True(Math.Abs(torchSecond / closed - 1) > 1e-10, $"torch {torchSecond:R}, closed form {closed:R}");
        var ours = FunctionalDiff.Diff.Grad((Expr z) =>
        {
            var (_, pb) = FunctionalDiff.Diff.Vjp((Expr w) => Expr.Stack(1, w.Exp(), w.Exp()).LogSumExp(1).Sum() * u, z);
            return (pb((Expr)Tensor.FromArray(new[] { 1.0 }, Array.Empty<int>())) * v).Sum();
        })(Tensor.FromArray(new[] { x0 }, 1)).Eval().ToDoubleArray()[0];
        Assert.True(Math.Abs(ours / closed - 1) <= 1e-15, $"ours {ours:R}, closed form {closed:R}");
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

    static double[] Hvp(Func<TT, TT> f, TT x, double[] u, double[] v)
    {
        var y = f(x);
        var g = Grad((y * torch.tensor(u, dtype: torch.ScalarType.Float64).reshape(y.shape)).sum(), x);
        if (!g.requires_grad) return new double[x.numel()]; // the gradient does not depend on x: the zero map
        return Values(Grad((g * torch.tensor(v, dtype: torch.ScalarType.Float64).reshape(x.shape)).sum(), x));
    }

    [Fact]
    public void AvgPool2dOverAnInfinity_TorchSecondDerivativeIsNaN_ALinearMapHasNone()
    {
        // avg_pool2d(c·xᵀ) over a kernel of 1 is linear in x, so every second derivative is 0; torch's is NaN with the pool,
        // and its gradient does not depend on x without it
        double[] c = { 1.2388495, -0.504171, Inf }, u = { 0.417299, 0.935048, 1.13854, -0.319324, 0.988638, -0.992654, 1.96754, -0.940379, 0.5383 },
            v = { 0.0670021, 0.916892, 0.46001 };
        var column = torch.tensor(c, dtype: torch.ScalarType.Float64).reshape(3, 1);
        TT Outer(TT x) => column.matmul(x).reshape(1, 1, 1, 9);
        Assert.All(Hvp(x => torch.nn.functional.avg_pool2d(Outer(x), 1), T(c, 1, 3), u, v), h => Assert.True(double.IsNaN(h)));
        Assert.Equal(new double[3], Hvp(Outer, T(c, 1, 3), u, v));
        PassesWithConvention(Program("fuzz 13/1613", new[] { new[] { 1, 3 } }, new[] { c },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: c, DataShape: new[] { 3, 1 }),
            S(OpKind.MatMul, 1, 0), new Step(OpKind.Reshape, new[] { 2 }, new[] { 1, 1, 1, 9 }),
            new Step(OpKind.AvgPool2d, new[] { 3 }, new[] { 1, 0, 0 })));
    }

    [Fact]
    public void AbsOfNaN_TorchSecondDerivativeIsNaN_SignsDerivativeIsASymbolicZero()
    {
        // |x₁x₀| at x₁ = NaN, x₀ = 0: both engines' sgn(NaN) is 0, so the gradients agree ([NaN, 0]); the Hessian's (0, 0)
        // entry is x₁²·sgn′(x₁x₀)·u, sgn′ = 0, where torch's zeros of sgn′ meet the NaN
        var (x0, x1) = (T(new[] { 0.0 }, 1, 1), T(new[] { double.NaN }, 1, 1));
        var g = Grad(x1.matmul(x0).abs().sum(), x0);
        Assert.True(double.IsNaN(Values(g)[0]));
        Assert.True(double.IsNaN(Values(Grad(g.sum(), x0))[0]), "torch's second derivative");
        var ours = FunctionalDiff.Diff.Hessian((Expr[] x) => x[1].MatMul(x[0]).Abs().Sum())(
            new Expr[] { Tensor.FromArray(new[] { 0.0 }, 1, 1), Tensor.FromArray(new[] { double.NaN }, 1, 1) });
        Assert.Equal(new[] { 0.0 }, ours[0][0].Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz adversarial 18/211", new[] { new[] { 1, 1 }, new[] { 1, 1 } },
            new[] { new[] { 0.0 }, new[] { double.NaN } }, S(OpKind.MatMul, 1, 0), S(OpKind.Abs, 2)));
    }

    [Fact]
    public void LogSumExpOverOneEntry_TorchSecondDerivativeIsNaNUnderAnInfiniteCotangent_TheClosedFormIsInfinite()
    {
        // f = ⟨u, x₁/logsumexp(x₀)⟩ over one entry, logsumexp(x₀) = x₀: ∂²f/∂x₀² = 2⟨u, x₁⟩/x₀³, −∞ with x₁ holding +∞
        double x0 = 2.3717344;
        double[] x1 = { -0.21656795, Inf, -1.7759051 }, u = { -0.17903, -0.534248, 0.898306 };
        double closed = 2 * Enumerable.Range(0, 3).Sum(i => u[i] * x1[i]) / (x0 * x0 * x0);
        Assert.Equal(double.NegativeInfinity, closed);
        var p = T(new[] { x0 }, 1, 1);
        var ux1 = torch.tensor(x1.Select((v, i) => v * u[i]).ToArray(), dtype: torch.ScalarType.Float64).reshape(1, 3);
        var first = Grad((ux1 / p.logsumexp(0)).sum(), p);
        Assert.True(double.IsNaN(Values(Grad(first.sum(), p))[0]), "torch's second derivative");
        var weighted = (Expr)Tensor.FromArray(x1.Select((v, i) => v * u[i]).ToArray(), 1, 3);
        var ours = FunctionalDiff.Diff.Hessian((Expr q) => (weighted / q.LogSumExp(0)).Sum())(Tensor.FromArray(new[] { x0 }, 1, 1));
        Assert.Equal(new[] { closed }, ours.Eval().ToDoubleArray());
        PassesWithConvention(Program("fuzz 15/858", new[] { new[] { 1, 1 }, new[] { 1, 3 } }, new[] { new[] { x0 }, x1 },
            new Step(OpKind.LogSumExp, new[] { 0 }, new[] { 0 }), S(OpKind.Div, 1, 2)));
    }

    [Fact]
    public void VarianceOfNoEntries_TorchJvpIsNaN_AFunctionOfNoNumbersHasTheZeroMap()
    {
        PassesWithConvention(Program("fuzz adversarial 21/225", new[] { new[] { 0 } }, new[] { Array.Empty<double>() },
            new Step(OpKind.Var, new[] { 0 }, new[] { 0 }, Mode: 1, Scalar: 0.0)));
    }

    [Fact]
    public void Atan2WhereTheSquaresUnderflow_TorchTakesTheOriginsMask_AndItsSecondDerivativeIsNaN()
    {
        // atan2(x, x) is the constant −3π/4 for x < 0, so every derivative is 0; at x = −5e-324 torch's a² + b² is 0
        var x = T(new[] { -5e-324 }, 1);
        var first = Grad(torch.atan2(x, x).sum(), x);
        Assert.Equal(0.0, Values(first)[0]);
        Assert.True(double.IsNaN(Values(Grad(first.sum(), x))[0]), "torch's second derivative");
        PassesWithConvention(Program("fuzz adversarial 21/232", new[] { new[] { 1 } }, new[] { new[] { -5e-324 } }, S(OpKind.Atan2, 0, 0)));
    }

    [Fact]
    public void LogDetUnderAnInfiniteCotangent_TorchsSolveIsNaN_TheClosedFormIsInfinite()
    {
        // d logdet A = tr(A⁻¹ dA), so the cotangent g reaches A as g·A⁻ᵀ: ±∞ in every entry for g = +∞ (A⁻¹ has no 0 here);
        // torch's rule solves Aᵀ X = g·I and meets ∞ − ∞
        double[] a = new[] { 4.042329f, 0.04232895f, 1E-45f, 0f, 4f, 1E-30f, 0.04232895f, 1E-30f, 4.954845f }.Select(v => (double)v).ToArray();
        var m = T(a, 3, 3);
        var y = torch.logdet(m);
        var torchs = Values(torch.autograd.grad(new[] { y }, new[] { m }, new[] { torch.full_like(y, Inf) })[0]);
        Assert.Contains(torchs, double.IsNaN);
        var closed = Values(torch.linalg.inv(m.detach()).mT * Inf);
        Assert.All(closed, v => Assert.True(double.IsInfinity(v)));
        var (_, pullback) = FunctionalDiff.Diff.Vjp((Expr x) => x.LogDet(), Tensor.FromArray(a, 3, 3));
        Assert.Equal(closed, pullback(Tensor.FromArray(new[] { Inf }, Array.Empty<int>())).Eval().ToDoubleArray());
        var program = Program("fuzz adversarial 19/238", new[] { new[] { 3, 3 }, Array.Empty<int>() }, new[] { a, new[] { double.NegativeInfinity } },
            S(OpKind.LogDet, 0), S(OpKind.BceWithLogits, 1, 2));
        Assert.Contains(program.Forward().TorchWrong, w => w.Why == "LogDet of a finite matrix under an infinite cotangent");
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
            Assert.All(FuzzCheck.Checked(program, dtype), r => Assert.True(r.Passed, r.Check));
    }

    [Fact]
    public void SolveWithAnInfiniteRightHandSide_TorchsBackSubstitutionIsNaN_TheReferenceIsTheInverseTimesB()
    {
        // A⁻¹b with b = [∞, 0.275]: ±∞ where A⁻¹'s first column is nonzero, which it is in both matrices
        double[] a = { -0.79577273, 0.5, -1, -2, 0, -1, 1.2494138, -2 }, b = { Inf, 0.27502778 };
        var (matrix, rhs) = (torch.tensor(a, dtype: torch.ScalarType.Float64).reshape(2, 2, 2), torch.tensor(b, dtype: torch.ScalarType.Float64).reshape(2, 1));
        var solved = Values(torch.linalg.solve(matrix, rhs));
        Assert.True(double.IsNaN(solved[0]) && double.IsNaN(solved[3]), "torch's solve");
        var inverse = Values(torch.linalg.inv(matrix));
        var signs = new[] { inverse[0], inverse[2], inverse[4], inverse[6] }.Select(Math.Sign).ToArray();
        Assert.Equal(signs.Select(s => s * Inf).ToArray(), Values(torch.linalg.inv(matrix).matmul(rhs)));
        var program = Program("fuzz adversarial 22/290", new[] { new[] { 2, 1 } }, new[] { b },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: a, DataShape: new[] { 2, 2, 2 }), S(OpKind.Solve, 1, 0));
        Assert.Equal(signs.Select(s => s * Inf).ToArray(), Values(TorchInterpreter.Run(program, new[] { rhs })));
        PassesWithConvention(program, convention: false);
    }

    [Fact]
    public void CosineSimilarityAndNormalizeOverAnOverflowingNorm_TorchsSquaresOverflow_OursAndTheScaledReferenceAreTheClosedForm()
    {
        // cos(a, b) is the cosine of the directions: at b = [1e300, 1e300] it is (a₀ + a₁)/(√2‖a‖), and its gradient in a
        // (e − cos·â)/‖a‖ with e = (1, 1)/√2; torch's norm of b is +∞ (unscaled squares), so its cosine and gradient are 0
        double[] av = { 0.2384, 0.2089 }, bv = { 1e300, 1e300 };
        var a = T(av, 2);
        var b = torch.tensor(bv, dtype: torch.ScalarType.Float64);
        double length = Math.Sqrt(av[0] * av[0] + av[1] * av[1]);
        double cosine = (av[0] + av[1]) / (Math.Sqrt(2) * length);
        var torchs = torch.nn.functional.cosine_similarity(a, b, 0);
        Assert.Equal(0.0, Values(torchs)[0]);
        Assert.Equal(new[] { 0.0, 0.0 }, Values(Grad(torchs, a)));
        Assert.True(double.IsPositiveInfinity(torch.linalg.vector_norm(b).item<double>()), "torch's norm");
        Assert.Equal(new[] { 0.0, 0.0 }, Values(torch.nn.functional.normalize(b, 2.0, 0)));
        var ours = Nn.CosineSimilarity(Tensor.FromArray(av, 2), Tensor.FromArray(bv, 2), 0).Eval().ToDoubleArray()[0];
        Assert.Equal(cosine, ours, 1e-15);
        var oursGradient = FunctionalDiff.Diff.Grad((Expr x) => Nn.CosineSimilarity(x, Tensor.FromArray(bv, 2), 0))(Tensor.FromArray(av, 2)).Eval().ToDoubleArray();
        for (int i = 0; i < 2; i++)
            Assert.Equal((1 / Math.Sqrt(2) - cosine * av[i] / length) / length, oursGradient[i], 1e-15);
        var unit = Nn.Normalize(Tensor.FromArray(bv, 2), 2.0, 0).Eval().ToDoubleArray();
        Assert.All(unit, v => Assert.Equal(1 / Math.Sqrt(2), v, 1e-15));
        // the shrunk program: (CosineSimilarity(b, a, axis 1) + b)², with b holding 1e300 in two entries
        var program = Program("fuzz adversarial 23/28", new[] { new[] { 1, 2, 2, 1 }, new[] { 1, 1, 8 } },
            new[] { new[] { 0.23839704229172531, 0.20896461531458133, 0.20896461531458133, 0.2384058440242819 },
                    new[] { -0.4052376626560936, -0.4169369922587026, -169.76190002712497, 147.86487687335273, 851.6351231266473, 3384.058440242819, 1E+300, 1E+300 } },
            new Step(OpKind.CosineSimilarity, new[] { 1, 0 }, new[] { 1 }), S(OpKind.Add, 2, 1), S(OpKind.Mul, 3, 3));
        // the fuzzer's torch side scales such slices by a power of two first (TorchInterpreter.ScaledSlices), the same function
        Assert.Equal(cosine, Values(TorchInterpreter.Apply(new Step(OpKind.CosineSimilarity, new[] { 0, 1 }, new[] { 0 }), new[] { a, b }, torch.ScalarType.Float64))[0], 1e-15);
        Assert.Empty(program.Forward().TorchWrong);
        Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
    }

    [Fact]
    public void CumprodWhoseRunningProductOverflows_TorchsGradientIsInfinite_TheClosedFormIsFinite()
    {
        // y = [x₀, x₀x₁]: the gradient of u·y is [u₀ + u₁x₁, u₁x₀], 5.3e159 at x = [1e160, 1e160]; torch divides y₁ = +∞ by x
        double[] xv = { 1e160, 1e160 }, uv = { 1.95725, 0.534344 };
        var x = T(xv, 2);
        var torchs = Values(Grad(x.cumprod(0), x, torch.tensor(uv, dtype: torch.ScalarType.Float64)));
        Assert.All(torchs, v => Assert.True(double.IsPositiveInfinity(v), $"torch's {v}"));
        double[] closed = { uv[0] + uv[1] * xv[1], uv[1] * xv[0] };
        var (_, pullback) = FunctionalDiff.Diff.Vjp((Expr y) => y.Cumprod(0), Tensor.FromArray(xv, 2));
        var ours = pullback(Tensor.FromArray(uv, 2)).Eval().ToDoubleArray();
        for (int i = 0; i < 2; i++)
            Assert.Equal(closed[i], ours[i], closed[i] * 1e-15);
        var program = Program("fuzz adversarial 34/97", new[] { new[] { 2 } }, new[] { xv }, new Step(OpKind.Cumprod, new[] { 0 }, new[] { 0 }));
        Assert.Contains(program.Forward().TorchWrong, w => w.Why == "Cumprod whose running product overflows");
        Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
    }

    [Fact]
    public void SolveWhoseSolutionSquareOverflows_TorchsJvpIsNaNBesideTheOverflow_OursIsTheClosedForm()
    {
        // X = 1e300·E₁₁: A = tanh(X·X) + diag(4, 0, 4) = diag(4, 1, 4) and Y = A⁻¹X = X. The JVP is A⁻¹(Ẋ − ȦY) with
        // Ȧ = tanh′(X·X)⊙(ẊX + XẊ): Ȧᵢ₁ = 1e300·Ẋᵢ₁ for i ≠ 1 (tanh′(0) = 1) and Ȧ₁₁ = 0 (tanh′ of 1e600 vanishes), so
        // Ẏᵢⱼ = Ẋᵢⱼ/Aᵢᵢ off column 1, Ẏ₁₁ = Ẋ₁₁, and Ẏᵢ₁ = (1 − 1e600)·Ẋᵢ₁/4 = ∓∞ for i = 0, 2. torch's substitutions
        // multiply those infinities by the LU factors' zeros, NaN at (1, 1)
        double[] xv = { 0, 0, 0, 0, 1e300, 0, 0, 0, 0 }, dv = { 4, 0, 0, 0, 0, 0, 0, 0, 4 };
        double[] tv = { 0.0541827, 1.5662, 0.142594, -0.376858, 0.748687, -0.579175, -0.947566, -1.91765, -1.47382 };
        double[] diagonal = { 4, 1, 4 };
        var closed = new double[9];
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 3; j++)
                closed[i * 3 + j] = j != 1 ? tv[i * 3 + j] / diagonal[i]
                    : i == 1 ? tv[4]
                    : (tv[i * 3 + 1] - 1e300 * 1e300 * tv[i * 3 + 1]) / diagonal[i];
        Assert.Equal(double.NegativeInfinity, closed[1]);
        Assert.Equal(double.PositiveInfinity, closed[7]);
        var x = T(xv, 3, 3);
        var d = torch.tensor(dv, dtype: torch.ScalarType.Float64).reshape(3, 3);
        var y = torch.linalg.solve(torch.tanh(x.matmul(x)) + d, x);
        var torchs = Values(TorchNested.Jvp(y, x, torch.tensor(tv, dtype: torch.ScalarType.Float64).reshape(3, 3)));
        Assert.True(double.IsNaN(torchs[4]), $"torch's JVP at (1, 1): {torchs[4]}");
        var dc = (Expr)Tensor.FromArray(dv, 3, 3);
        var (_, tangent) = FunctionalDiff.Diff.Jvp((Expr z) => (z.MatMul(z).Tanh() + dc).Solve(z), Tensor.FromArray(xv, 3, 3), Tensor.FromArray(tv, 3, 3));
        var ours = tangent.Eval().ToDoubleArray();
        for (int k = 0; k < 9; k++)
            if (double.IsInfinity(closed[k])) Assert.Equal(closed[k], ours[k]);
            else Assert.Equal(closed[k], ours[k], 1e-15 * Math.Abs(closed[k]));
        var program = Program("fuzz adversarial 35/99", new[] { new[] { 3, 3 } }, new[] { xv },
            S(OpKind.MatMul, 0, 0), S(OpKind.Tanh, 1),
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: dv, DataShape: new[] { 3, 3 }),
            S(OpKind.Add, 2, 3), S(OpKind.Solve, 4, 0));
        Assert.Contains("Solve with a finite solution whose square overflows", program.Forward().TorchNaN);
        PassesWithConvention(program);
    }

    [Fact]
    public void PowAtAnInfiniteBase_TorchsJvpThroughAnInstanceNormIsNaN_TheChainRuleIsInfinite()
    {
        // y = a^b with b = instance_norm(x₀) = 0 exactly (a constant row) and a = +∞: the tangent is ∂y/∂b·ḃ = a^b·log a·ḃ = ±∞
        // by the sign of ḃ = (ẋ − mean ẋ)/√ε (each channel of the [1, 3, 3] input is a row of 3), a finite number; torch's
        // double backward sends the cotangent y·log a = ∞ back through the instance norm, whose mean over the row is ∞ − ∞ =
        // NaN. The program is `fuzz adversarial 23/125`'s
        // float64 form with every base +∞ (its finite bases meet pow's open limitation at an exponent 0, Known limitations)
        double c = 0.5239439956407212;
        double[] x0 = Enumerable.Repeat(c, 9).ToArray();
        double[] x1 = Enumerable.Repeat(Inf, 9).ToArray();
        double[] t0 = { -1.51496, -1.1907, -0.0642541, 0.0843098, -1.45239, 1.71368, -0.913172, 0.191149, 0.238258 };
        var xt = T(x0, 1, 3, 3);
        var y = torch.tensor(x1, dtype: torch.ScalarType.Float64).reshape(3, 3).pow(torch.nn.functional.instance_norm(xt));
        var torchs = Values(TorchNested.Jvp(y, xt, torch.tensor(t0, dtype: torch.ScalarType.Float64).reshape(1, 3, 3)));
        Assert.All(torchs, v => Assert.True(double.IsNaN(v), $"torch's JVP: {v}"));
        var (_, tangent) = FunctionalDiff.Diff.Jvp((Expr z) => ((Expr)Tensor.FromArray(x1, 3, 3)).Pow(Nn.InstanceNorm(z)), Tensor.FromArray(x0, 1, 3, 3), Tensor.FromArray(t0, 1, 3, 3));
        var ours = tangent.Eval().ToDoubleArray();
        for (int i = 0; i < 9; i++)
            Assert.Equal(t0[i] - t0.Skip(i / 3 * 3).Take(3).Average() > 0 ? Inf : double.NegativeInfinity, ours[i]);
        var program = Program("fuzz adversarial 23/125", new[] { new[] { 1, 3, 3 }, new[] { 3, 3 } }, new[] { x0, x1 },
            S(OpKind.InstanceNorm, 0), S(OpKind.Pow, 1, 2));
        Assert.Contains("Pow at an infinite base", program.Forward().TorchNaN);
        PassesWithConvention(program);
    }

    [Fact]
    public void NormalizeBelowTheReciprocalOfMaxValue_TorchsSecondDerivativeIsNaN_XOverEpsIsLinear()
    {
        // ‖x‖ = 1e-310 < eps = 1e-12: normalize is x/eps, slope 1e12, curvature 0; torch's curvature is 0·(1/‖x‖) = 0·∞
        var x = T(new[] { 1e-310 }, 1, 1);
        var slope = Grad(torch.nn.functional.normalize(x, 2.0, 0).sum(), x);
        Assert.Equal(1e12, Values(slope)[0], 0);
        Assert.True(double.IsNaN(Values(Grad(slope.sum(), x))[0]), "torch's second derivative");
        // ours by reverse over reverse, the fuzzer's second-order check (forward over reverse, the Hessian, is NaN in both
        // engines: the 2-norm's second order below 1/MaxValue, Known limitations)
        var ours = FunctionalDiff.Diff.Grad((Expr z) => FunctionalDiff.Diff.Grad((Expr y) => Nn.Normalize(y, 2.0, 0).Sum())(z).Sum())(Tensor.FromArray(new[] { 1e-310 }, 1, 1)).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        PassesWithConvention(Program("fuzz adversarial 36/178", new[] { new[] { 1, 1 } }, new[] { new[] { 1e-310 } },
            new Step(OpKind.Normalize, new[] { 0 }, new[] { 0 }, Scalar: 2.0)));
    }

    [Fact]
    public void LogAddExpOfAnInfiniteAndAFiniteOperand_TorchsCurvatureIsNaN_TheClosedFormIsZero()
    {
        // logaddexp(c, x) at x = −∞ is c: slope in x σ(x − c) = 0, curvature σ(x − c)σ(c − x) = 0; torch's e^d/(1 + e^d)², ∞/∞
        var x = T(new[] { double.NegativeInfinity }, 1);
        var c = torch.zeros(1, dtype: torch.ScalarType.Float64);
        var slope = Grad(torch.logaddexp(c, x).sum(), x);
        Assert.Equal(0.0, Values(slope)[0]);
        Assert.True(double.IsNaN(Values(Grad(slope.sum(), x))[0]), "torch's second derivative");
        var ours = FunctionalDiff.Diff.Hessian((Expr y) => Expr.LogAddExp((Expr)Tensor.FromArray(new[] { 0.0 }, 1), y).Sum())(Tensor.FromArray(new[] { double.NegativeInfinity }, 1)).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        PassesWithConvention(Program("fuzz adversarial 37/67", new[] { new[] { 2 } }, new[] { new[] { double.NegativeInfinity, 1e-40 } },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: new[] { 0.0 }, DataShape: new[] { 1 }), S(OpKind.LogAddExp, 1, 0)));
        PassesWithConvention(Program("fuzz adversarial 38/248", new[] { Array.Empty<int>(), new[] { 4, 1 } },
            new[] { new[] { double.NegativeInfinity }, new[] { 1.0, 0.50714374, 3.2089698, 0.3785079 } }, S(OpKind.LogAddExp, 0, 1)));
    }

    [Fact]
    public void AdaptiveAvgPoolOverANaN_TorchsSecondOrderIsNaN_TheSecondOrderOfAQuadraticIsItsConstant()
    {
        // f(x) = ⟨u, pool(select(x·x))⟩ is a quadratic in x, so its second order d/dx ⟨∇f, v⟩ is the same at every x: the
        // value at x = 0 (finite in torch) is the closed form at x = [[0, 0], [NaN, −0]] too, where torch's is NaN
        double[] nanPoint = { 0, 0, double.NaN, -0.0 }, zero = { 0, 0, 0, 0 };
        double[] uv = { -0.570788, 1.47009 }, vv = { 0.885273, -0.695724, 0.0518838, 0.339598 };
        var index = torch.tensor(new long[] { 0, 1, 1, 0 });
        double[] TorchSecondOrder(double[] at)
        {
            var x = T(at, 2, 2);
            var y = torch.nn.functional.adaptive_avg_pool2d(x.matmul(x).index_select(1, index).reshape(1, 1, 8, 1), new long[] { 2, 1 });
            var g = Grad((y.reshape(2) * torch.tensor(uv, dtype: torch.ScalarType.Float64)).sum(), x);
            return Values(Grad((g * torch.tensor(vv, dtype: torch.ScalarType.Float64).reshape(2, 2)).sum(), x));
        }
        var closed = TorchSecondOrder(zero);
        Assert.All(closed, v => Assert.True(double.IsFinite(v)));
        Assert.Contains(TorchSecondOrder(nanPoint), double.IsNaN);
        var program = Program("fuzz 25/1626", new[] { new[] { 2, 2 } }, new[] { nanPoint },
            S(OpKind.MatMul, 0, 0),
            new Step(OpKind.IndexSelect, new[] { 1 }, new[] { 1 }, Data: new[] { 0.0, 1, 1, 0 }, DataShape: new[] { 4 }),
            new Step(OpKind.Reshape, new[] { 2 }, new[] { 1, 1, 8, 1 }),
            new Step(OpKind.AdaptiveAvgPool2d, new[] { 3 }, new[] { 2, 1 }));
        Assert.Contains("AdaptiveAvgPool2d over a non-finite value", program.Forward().TorchNaN);
        PassesWithConvention(program);
        // ours at the NaN point is the quadratic's constant
        Expr Ours(Expr z) => Nn.AdaptiveAvgPool2d(z.MatMul(z).IndexSelect(1, Tensor.FromArray(new[] { 0.0, 1, 1, 0 }, 4)).Reshape(1, 1, 8, 1), (2, 1)).Reshape(2);
        var uc = (Expr)Tensor.FromArray(uv, 2);
        var vc = (Expr)Tensor.FromArray(vv, 2, 2);
        var ours = FunctionalDiff.Diff.Grad((Expr z) => (FunctionalDiff.Diff.Grad((Expr w) => (Ours(w) * uc).Sum())(z) * vc).Sum())(Tensor.FromArray(nanPoint, 2, 2)).Eval().ToDoubleArray();
        for (int i = 0; i < 4; i++) Assert.Equal(closed[i], ours[i], 1e-12);
    }

    [Fact]
    public void KlDivAtATargetZero_TorchsSlopeInTheTargetIsNaN_TheClosedFormIsMinusInfinity()
    {
        // the entry p·log p − p·i has the slope log p + 1 − i in p: −∞ at p = 0 (the one-sided limit; the function is NaN
        // below 0), and the curvature 1/p; torch's xlogy(p, p) rule adds p/p = 0/0 = NaN there in every mode
        double[] target = { 0.9241272406437684, 0.0, 0.16029118716642124 };
        double[] input = { 1.6165850221055824, 0.0, 0.16168554783367553 };
        var p = T(target, 3, 1);
        var i = torch.tensor(input, dtype: torch.ScalarType.Float64).reshape(3, 1);
        var torchs = Values(Grad(torch.nn.functional.kl_div(i, p, false, torch.nn.Reduction.Sum), p));
        Assert.True(double.IsNaN(torchs[1]), $"torch's gradient at p = 0: {torchs[1]}");
        var closed = target.Select((t, k) => Math.Log(t) + 1 - input[k]).ToArray();
        Assert.Equal(double.NegativeInfinity, closed[1]);
        for (int k = 0; k < 3; k += 2) Assert.Equal(closed[k], torchs[k], 1e-15);
        var ic = (Expr)Tensor.FromArray(input, 3, 1);
        var ours = FunctionalDiff.Diff.Grad((Expr z) => Loss.KlDiv(ic, z, Reduction.Sum, logTarget: false))(Tensor.FromArray(target, 3, 1)).Eval().ToDoubleArray();
        Assert.Equal(closed[1], ours[1]);
        for (int k = 0; k < 3; k += 2) Assert.Equal(closed[k], ours[k], 1e-15);
        var program = Program("fuzz all 2/624", new[] { new[] { 3, 1 }, new[] { 3, 1 } }, new[] { target, input },
            new Step(OpKind.KlDiv, new[] { 1, 0 }, Array.Empty<int>(), Mode: 2));
        Assert.Contains("KlDiv at a target 0 or +∞", program.Forward().TorchNaN);
        PassesWithConvention(program);
        PassesWithConvention(Program("fuzz all 1/249", new[] { new[] { 4 } }, new[] { new[] { 0.0, 0.0, 0.0, 0.0 } },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: new[] { 0.0, 0.0, 0.0, 0.0 }, DataShape: new[] { 4 }),
            new Step(OpKind.KlDiv, new[] { 1, 0 }, Array.Empty<int>(), Mode: 1)));
    }

    [Fact]
    public void HardshrinkAtNaN_TorchsSlopeDependsOnTheEntrysPosition_OursIsTheTakenBranchs()
    {
        // hardshrink(NaN) = NaN, the branch x (NaN lies in no [−λ, λ]), whose slope is 1 (ours, and torch's scalar loop); torch's
        // vectorised loop writes 0: in 20 float64 entries, flat index 13 falls in a vector block and 17 in the scalar tail
        double[] xv = Enumerable.Range(0, 20).Select(k => k is 13 or 17 ? double.NaN : 0.0).ToArray();
        var x = T(xv, 2, 2, 5);
        var torchs = Values(Grad(torch.nn.functional.hardshrink(x, 1.0).sum(), x));
        Assert.NotEqual(torchs[13], torchs[17]);
        var ours = FunctionalDiff.Diff.Grad((Expr z) => z.Hardshrink(1.0).Sum())(Tensor.FromArray(xv, 2, 2, 5)).Eval().ToDoubleArray();
        for (int k = 0; k < 20; k++) Assert.Equal(k is 13 or 17 ? 1.0 : 0.0, ours[k]);
        var program = Program("fuzz all 1/422", new[] { new[] { 2, 2, 5 } }, new[] { xv }, new Step(OpKind.Hardshrink, new[] { 0 }, Array.Empty<int>(), Scalar: 1.0));
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Hardshrink or Softshrink at a NaN entry"));
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void CrossWhoseEntryCancels_TorchsEntryIsARoundingResidue_TheExactEntryIsZero()
    {
        // cross(a, b)₀ = a₁b₂ − a₂b₁ = (−1e20)(1e30) − (−1e30)(1e20), 0 exactly: both doubles are integers, and the two
        // products are one integer; torch's entry is a residue of rounding, large enough that tanh of it is ±1
        double[] av = { -1.8344178298909748, -1E+20, -1E+30 }, bv = { 0.8344178298909748, 1E+20, 1E+30 };
        var exact = new System.Numerics.BigInteger(av[1]) * new System.Numerics.BigInteger(bv[2]) - new System.Numerics.BigInteger(av[2]) * new System.Numerics.BigInteger(bv[1]);
        Assert.True(exact.IsZero);
        var torchs = Values(torch.linalg.cross(T(av, 3), T(bv, 3), 0));
        Assert.NotEqual(0.0, torchs[0]);
        var ours = ((Expr)Tensor.FromArray(av, 3)).Cross((Expr)Tensor.FromArray(bv, 3), 0).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        var program = Program("fuzz all adversarial 2/116", new[] { new[] { 3 }, new[] { 3 } }, new[] { av, bv },
            new Step(OpKind.Cross, new[] { 0, 1 }, new[] { -1 }), new Step(OpKind.Reshape, new[] { 2 }, new[] { 3, 1, 1 }), S(OpKind.Tanh, 3));
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Cross whose entry cancels"));
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void CumprodOverANaNAndZeros_TorchsSecondOrderIsNaN_TheNaNEntrysRowIsAProductOfZeros()
    {
        // ∂²yₖ/∂xᵢ∂xⱼ = Π over m ≤ k, m ∉ {i, j} of xₘ: in the row of the NaN entry (i = 2) every product leaves it out and holds a 0
        double[] xv = { 0.0, 0.0, double.NaN, 0.0 };
        double[] uv = { 0.585181, -1.40517, -1.07535, 0.226451 }, vv = { -0.487622, 0.730895, 1.48781, 1.71652 };
        double closed = 0;
        for (int j = 0; j < 4; j++)
            for (int k = Math.Max(2, j); k < 4; k++)
            {
                if (j == 2) continue;
                double product = 1;
                for (int m = 0; m <= k; m++) if (m != 2 && m != j) product *= xv[m];
                closed += uv[k] * product * vv[j];
            }
        Assert.Equal(0.0, closed);
        var x = T(xv, 4);
        var g = Grad(torch.cumprod(x, 0), x, torch.tensor(uv, dtype: torch.ScalarType.Float64));
        // the second differentiation without a graph, as the fuzzer's torch side takes it (TorchSide); with a graph torch's
        // entry is 0 too, its cumprod_backward taking another path in grad mode
        var torchSecond = Values(torch.autograd.grad(new[] { (g * torch.tensor(vv, dtype: torch.ScalarType.Float64)).sum() }, new[] { x }, null, retain_graph: false, create_graph: false)[0]);
        Assert.True(double.IsNaN(torchSecond[2]), "torch's second order at the NaN entry: " + string.Join(", ", torchSecond));
        var uc = (Expr)Tensor.FromArray(uv, 4);
        var vc = (Expr)Tensor.FromArray(vv, 4);
        var ours = FunctionalDiff.Diff.Grad((Expr z) => (FunctionalDiff.Diff.Grad((Expr w) => (w.Cumprod(0) * uc).Sum())(z) * vc).Sum())(Tensor.FromArray(xv, 4)).Eval().ToDoubleArray();
        Assert.Equal(closed, ours[2]);
        var program = Program("fuzz all adversarial 2/203", new[] { new[] { 4 } }, new[] { xv }, new Step(OpKind.Cumprod, new[] { 0 }, new[] { 0 }));
        Assert.Contains("Cumprod over a NaN entry and a zero", program.Forward().TorchNaN);
        PassesWithConvention(program);
    }

    [Fact]
    public void GluWithATinyGate_TorchsCurvatureIsZero_TheClosedFormOverflows()
    {
        // glu(prelu(x, w)) at x = [−5e-324, −5e-324], w = −1e300: a = b = 4.94e-24, and ∂²/∂x₁² u·a·σ(b) = u·a·σ″(b)·w² with
        // σ″(b) = σ(1 − σ)(1 − 2σ) ≈ −b/8: about −7e552, beyond float64, so −∞; torch's σ(b) rounds to ½ and its curvature to 0
        double[] xv = { -5e-324, -5e-324 };
        double u = 2.34004, w = -1e300, a = w * xv[0];
        double log10 = Math.Log10(u) + Math.Log10(a) + Math.Log10(a / 8) + 2 * Math.Log10(-w);
        Assert.True(log10 > 308.3, $"log10 of the closed form's magnitude: {log10}");
        var x = T(xv, 2);
        var y = torch.nn.functional.glu(torch.nn.functional.prelu(x, torch.tensor(new[] { w }, dtype: torch.ScalarType.Float64)), -1);
        var first = Grad(y.sum() * u, x);
        Assert.Equal(0.0, Values(Grad(first[1], x))[1]);
        var wc = (Expr)Tensor.FromArray(new[] { w }, 1);
        var ours = FunctionalDiff.Diff.Hessian((Expr z) => z.Prelu(wc).Glu(-1).Sum() * u)(Tensor.FromArray(xv, 2)).Eval().ToDoubleArray();
        Assert.Equal(double.NegativeInfinity, ours[3]);
        var program = Program("fuzz all adversarial 1/81", new[] { new[] { 2 }, new[] { 1 } }, new[] { xv, new[] { w } },
            S(OpKind.Prelu, 0, 1), new Step(OpKind.Glu, new[] { 2 }, new[] { -1 }));
        Assert.Contains(program.Forward().TorchWrong, t => t.Why.StartsWith("Glu whose gate is nonzero below 2^-53"));
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void NormInfinityAtNaN_TorchsMaskGivesANumber_OursIsNaNAsMaxs()
    {
        // ‖x‖_∞·x at x = NaN: no derivative has a closed form at NaN; torch's second derivative is a number from its mask
        // |x| = ‖x‖ (false at NaN), ours NaN as max's (a documented difference, its derivative checks skipped)
        var x = T(new[] { double.NaN }, 1);
        var first = Grad((torch.linalg.vector_norm(x, double.PositiveInfinity) * x).sum(), x);
        Assert.False(double.IsNaN(Values(Grad(first.sum(), x))[0]), "torch's second derivative");
        var ours = FunctionalDiff.Diff.Hessian((Expr z) => (z.Norm(double.PositiveInfinity) * z).Sum())(Tensor.FromArray(new[] { double.NaN }, 1)).Eval().ToDoubleArray();
        Assert.True(double.IsNaN(ours[0]));
        var program = Program("fuzz 24/1431", new[] { Array.Empty<int>() }, new[] { new[] { double.NaN } },
            new Step(OpKind.Norm, new[] { 0 }, Array.Empty<int>(), Scalar: double.PositiveInfinity), S(OpKind.Mul, 1, 0));
        Assert.Contains(program.Forward().TorchWrong, t => t.Why.StartsWith("Norm ∞ at a NaN entry"));
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void MinimumAtAnInfiniteOperand_TorchsZeroCotangentMeetsTheInfiniteFactor_TheLosingOperandHasNoDerivative()
    {
        // x₁/minimum(x₂·x₀, x₂) at x₀ = x₂ = −∞: the minimum is x₂ (x₂·x₀ = +∞ loses), so x₀ does not reach the value and every
        // derivative in x₀ is 0; torch's zero cotangent into x₂·x₀ meets x₂ = −∞ as 0·∞ = NaN in its Hessian
        double[] x0 = { double.NegativeInfinity }, x1 = { 0.14801172047997893, -0.14801172047997893 }, x2 = { double.NegativeInfinity };
        var t0 = T(x0, 1);
        var y = torch.tensor(x1, dtype: torch.ScalarType.Float64) / torch.minimum(torch.tensor(x2, dtype: torch.ScalarType.Float64) * t0, torch.tensor(x2, dtype: torch.ScalarType.Float64));
        var first = Grad(y.sum(), t0);
        Assert.True(double.IsNaN(Values(Grad(first.sum(), t0))[0]), "torch's second derivative in x₀");
        var x1c = (Expr)Tensor.FromArray(x1, 1, 2, 1);
        var x2c = (Expr)Tensor.FromArray(x2, Array.Empty<int>());
        var ours = FunctionalDiff.Diff.Hessian((Expr z) => (x1c / Expr.Minimum(x2c * z, x2c)).Sum())(Tensor.FromArray(x0, Array.Empty<int>())).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0 }, ours);
        var program = Program("fuzz 25/1519", new[] { Array.Empty<int>(), new[] { 1, 2, 1 }, Array.Empty<int>() }, new[] { x0, x1, x2 },
            S(OpKind.Mul, 2, 0), S(OpKind.Minimum, 3, 2), S(OpKind.Div, 1, 4));
        Assert.Contains("Maximum or Minimum at an infinite operand", program.Forward().TorchNaN);
        PassesWithConvention(program);
    }

    [Fact]
    public void DerivativesThroughAValueNearOverflow_AreOurKnownLimitation_NamedWithTheirPrograms()
    {
        // e^709 = 8.2e307: the JVP of rsqrt(gelu(cos(e^x))² + 0.1) overflows in ours, formed from the input side (Known limitations)
        var program = Program("fuzz all adversarial 1/240", new[] { new[] { 3, 1, 1 } }, new[] { new[] { 709.0, 0.0, 0.0 } },
            S(OpKind.Exp, 0), S(OpKind.Cos, 1), S(OpKind.Gelu, 2));
        Assert.Contains(program.Forward().TorchWrong, t => t.Why.StartsWith("ours (a known limitation): derivatives through a value within a factor 16 of overflow"));
        var below = Program("exp below the bound", new[] { new[] { 2 } }, new[] { new[] { 700.0, 0.0 } }, S(OpKind.Exp, 0), S(OpKind.Cos, 1));
        Assert.DoesNotContain(below.Forward().TorchWrong, t => t.Why.Contains("factor 16 of overflow"));
    }

    [Fact]
    public void SoftshrinkBetweenItsBounds_TorchsSignOfZeroDependsOnTheEntrysPosition_TheReferenceIsItsScalarLoop()
    {
        // softshrink(−1, λ = 1) is 0, signed by torch's kernels as its loops compute it: the scalar loop's x·0 = −0, the
        // vectorised loop's +0; atan2 of it against a negative number is then −π or π. Nine entries: eight in vector
        // blocks, the ninth in the scalar tail
        double[] xv = Enumerable.Repeat(-1.0, 9).ToArray(), bv = Enumerable.Repeat(-0.5538138547093931, 9).ToArray();
        var b = torch.tensor(bv, dtype: torch.ScalarType.Float64).reshape(3, 3);
        var torchs = Values(torch.atan2(torch.nn.functional.softshrink(T(xv, 3, 3), 1.0), b));
        Assert.Equal(Math.PI, torchs[0]);
        Assert.Equal(-Math.PI, torchs[8]);
        // the scalar loop's formula: −1 + 1 is not taken (−1 < −1 is false), the middle branch is −1·0 = −0
        Assert.Equal(-Math.PI, Math.Atan2(-1.0 * 0.0, bv[0]));
        var ours = Expr.Atan2(((Expr)Tensor.FromArray(xv, 3, 3)).Softshrink(1.0), (Expr)Tensor.FromArray(bv, 3, 3)).Eval().ToDoubleArray();
        Assert.All(ours, v => Assert.Equal(-Math.PI, v));
        var program = Program("fuzz 27/162", new[] { new[] { 3, 3 }, new[] { 3, 3 } }, new[] { xv, bv },
            new Step(OpKind.Softshrink, new[] { 0 }, Array.Empty<int>(), Scalar: 1.0), S(OpKind.Atan2, 2, 1));
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void SmoothL1AtANaNDifference_BothFirstDerivativesAreNaN_TorchsCurvatureIsAMasksZero()
    {
        // d = ∞ − ∞ = NaN: the value and the slope are NaN in both engines; torch's second derivative is its mask |d| < β,
        // false at NaN, so 0; ours the quadratic branch's 1/β (a documented difference, its second-order checks skipped)
        var x = T(new[] { double.PositiveInfinity }, 1);
        var target = torch.tensor(new[] { double.PositiveInfinity }, dtype: torch.ScalarType.Float64);
        var first = Grad(torch.nn.functional.smooth_l1_loss(x, target, torch.nn.Reduction.Sum, 2.0), x);
        Assert.True(double.IsNaN(Values(first)[0]), "torch's slope");
        Assert.Equal(0.0, Values(Grad(first.sum(), x))[0]);
        var tc = (Expr)Tensor.FromArray(new[] { double.PositiveInfinity }, 1);
        var ours = FunctionalDiff.Diff.Grad((Expr z) => Loss.SmoothL1(z, tc, 2.0, Reduction.Sum))(Tensor.FromArray(new[] { double.PositiveInfinity }, 1)).Eval().ToDoubleArray();
        Assert.True(double.IsNaN(ours[0]), "our slope");
        var program = Program("fuzz all 3/506", new[] { new[] { 2, 3 } }, new[] { new[] { 2.0, -2.0, -1.0, -2.0, -2.0, double.PositiveInfinity } },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: new[] { 2.0, -2.0, -0.833579333480906, -1.5081742310368083, -2.470600117622034, double.PositiveInfinity }, DataShape: new[] { 2, 3 }),
            new Step(OpKind.SmoothL1, new[] { 0, 1 }, Array.Empty<int>(), Mode: 0, Scalar: 2.0));
        Assert.Contains(program.Forward().TorchWrong, t => t.Why.StartsWith("SmoothL1 or Huber at a NaN difference"));
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    [Fact]
    public void SoftminOverAnAxisOfLengthOne_TorchsGradientUnderANaNCotangentIsNaN_TheConstantsIsZero()
    {
        // softmin over one entry is the constant 1: its derivative is the zero map, under any cotangent; torch's fused rule
        // y·(g − Σ g·y) is NaN where g is NaN (here g = NaNᵀ·u through the matmul with a NaN constant)
        var x = T(Enumerable.Repeat(-0.6931472, 4).ToArray(), 1, 1, 2, 2);
        var nans = torch.full(new long[] { 1, 1, 2, 2 }, double.NaN, dtype: torch.ScalarType.Float64);
        var y = nans.matmul(torch.nn.functional.softmin(x, -4));
        Assert.All(Values(Grad(y.sum(), x)), v => Assert.True(double.IsNaN(v), $"torch's gradient {v}"));
        var nanConstant = (Expr)Tensor.FromArray(Enumerable.Repeat(double.NaN, 4).ToArray(), 1, 1, 2, 2);
        var ours = FunctionalDiff.Diff.Grad((Expr z) => nanConstant.MatMul(z.Softmin(-4)).Sum())(Tensor.FromArray(Enumerable.Repeat(-0.6931472, 4).ToArray(), 1, 1, 2, 2)).Eval().ToDoubleArray();
        Assert.All(ours, v => Assert.Equal(0.0, v));
        PassesWithConvention(Program("fuzz adversarial 36/73", new[] { new[] { 1, 1, 2, 2 } }, new[] { Enumerable.Repeat(-0.6931472, 4).ToArray() },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: Enumerable.Repeat(double.NaN, 4).ToArray(), DataShape: new[] { 1, 1, 2, 2 }),
            new Step(OpKind.Softmin, new[] { 0 }, new[] { -4 }), S(OpKind.MatMul, 1, 2)));
    }

    [Fact]
    public void HypotAtTheOrigin_TorchsSlopeIsNaN_OursIsTheTwoNormsZero()
    {
        // hypot(a, b) = ‖(a, b)‖₂, a cone at the origin: torch's own 2-norm gives the slope 0 there, its hypot a/h = 0/0
        var a = T(new[] { 0.0 }, 1);
        var b = T(new[] { 0.0 }, 1);
        Assert.True(double.IsNaN(Values(Grad(torch.hypot(a, b).sum(), a))[0]), "torch's hypot slope");
        Assert.Equal(new[] { 0.0, 0.0 }, Values(Grad(torch.linalg.vector_norm(torch.cat(new[] { a, b })), a)).Concat(Values(Grad(torch.linalg.vector_norm(torch.cat(new[] { a, b })), b))).ToArray());
        var ours = FunctionalDiff.Diff.Grad((Expr x) => Expr.Hypot(x, x).Sum())(Tensor.FromArray(new[] { 0.0 }, 1)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0 }, ours);
        PassesWithConvention(Program("fuzz 22/1282", new[] { new[] { 2 }, new[] { 2 } },
            new[] { new[] { 0.0, 0.7796973 }, new[] { 0.0, 0.4018805 } }, S(OpKind.Hypot, 0, 1)));
    }

    [Fact]
    public void LogAddExpOfTwoMinusInfinities_TorchsSlopeIsNaN_LogAddExpOfXWithItselfIsXPlusLog2()
    {
        // logaddexp(x, x) = x + log 2 for every x, so its slope is 1 at −∞ too; torch's weights are e^(−∞ − (−∞))
        var x = T(new[] { double.NegativeInfinity }, 1);
        Assert.True(double.IsNaN(Values(Grad(torch.logaddexp(x, x).sum(), x))[0]), "torch's slope");
        Assert.Equal(new[] { 1.0 }, Values(Grad((x + Math.Log(2)).sum(), x)));
        var ours = FunctionalDiff.Diff.Grad((Expr y) => Expr.LogAddExp(y, y).Sum())(Tensor.FromArray(new[] { double.NegativeInfinity }, 1)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 1.0 }, ours);
        PassesWithConvention(Program("fuzz 22/0", new[] { new[] { 2 } }, new[] { new[] { 0.0, double.NegativeInfinity } }, S(OpKind.LogAddExp, 0, 0)));
    }

    [Fact]
    public void EluAtNaN_TorchsCurvatureZerosMeetTheNaN_OursIsTheLinearBranchsSymbolicZero()
    {
        // both engines read NaN as the linear branch (slope 1); there elu(x)² is x², Hessian 2, and torch's double backward
        // multiplies its curvature's zeros by the NaN value, 0·NaN
        var x = T(new[] { double.NaN }, 1);
        var slope = Grad(torch.nn.functional.elu(x, 2.0).square().sum(), x);
        Assert.True(double.IsNaN(Values(Grad(slope.sum(), x))[0]), "torch's second derivative");
        var ours = FunctionalDiff.Diff.Hessian((Expr y) => y.Elu(2.0).Square().Sum())(Tensor.FromArray(new[] { double.NaN }, 1)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 2.0 }, ours);
        PassesWithConvention(Program("fuzz adversarial 23/217", new[] { new[] { 4 } }, new[] { new[] { double.NaN, 0.0, 0.0, 0.0 } },
            new Step(OpKind.Elu, new[] { 0 }, Array.Empty<int>(), Scalar: 2.0), S(OpKind.Square, 1)));
    }

    [Fact]
    public void GluWhereTheFirstHalfsSquareOverflows_OursFirstOrderIsTheClosedForm_ItsSecondOrderIsOurLimitation()
    {
        // the gradient of glu(x)² in b is 2a²σ(b)σ′(b): at a = 1e160, b = 710 that is 2e320·e^−710 = 4.5e11 (torch's σ(1 − σ)
        // is 0 there); ours forms a·σ′(b) first, and only its second order is named, as ours
        var x = T(new[] { 1e160, 710.0 }, 2);
        Assert.Equal(0.0, Values(Grad(torch.nn.functional.glu(x, 0).square().sum(), x))[1]);
        var ours = FunctionalDiff.Diff.Grad((Expr y) => y.Glu(0).Square().Sum())(Tensor.FromArray(new[] { 1e160, 710.0 }, 2)).Eval().ToDoubleArray();
        double closed = 2 * 1e160 * (1e160 * Math.Exp(-710.0));
        Assert.Equal(closed, ours[1], closed * 1e-12);
        var program = Program("fuzz adversarial 23/180", new[] { new[] { 2 } }, new[] { new[] { 1e160, 710.0 } },
            new Step(OpKind.Glu, new[] { 0 }, new[] { 0 }), S(OpKind.Mul, 1, 1));
        Assert.Contains(program.Forward().TorchWrong, w => w.Why == "ours (a known limitation): glu's second order where its first half's square overflows");
        Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
    }
}

/// <summary>
/// The fuzzer's conditioning rule: a difference is excused only where the last bits of the inputs (and in float64
/// of each step's rounding) move torch's own result by more than the tolerance or across zero, and by a comparable
/// amount; such a program is counted and listed as ill-conditioned.
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

    /// <summary>`fuzz adversarial 15/232`: cos(exp(exp(c·tan(tanh x)))) at x = 1.0207863728900801, whose Hessian entry is
    /// dominated by −cos(E)·E′² with E ≈ 4e192 and overflows; its sign is the sign of −cos(E), and one ulp of x moves E by
    /// about 1e180.</summary>
    static FuzzProgram Adversarial15_232() => FuzzCommand.Programs(1, 15, 232, adversarial: true, ops: OpSurface.Wide)[0];

    [Fact]
    public void AnOverflowingEntryWhoseSignIsRoundingNoise_IsClassifiedIllConditioned_AndListedAsSuch()
    {
        // independent of both engines: cos(E) at the float64 E of x and of x's neighbours, from .NET's Math alone,
        // with c = 2·3.14149 from the program's constant; the dominant term's sign is the sign of −cos(E)
        const double x = 1.0207863728900801, c = 6.2829811499057175;
        static double CosE(double v) => Math.Cos(Math.Exp(Math.Exp(c * Math.Tan(Math.Tanh(v)))));
        var signs = new[] { Math.BitDecrement(Math.BitDecrement(x)), Math.BitDecrement(x), x, Math.BitIncrement(x), Math.BitIncrement(Math.BitIncrement(x)) }
            .Select(v => Math.Sign(CosE(v))).ToHashSet();
        Assert.Equal(2, signs.Count);
        var program = Adversarial15_232();
        Assert.Contains(CaseRunner.Run(program.ToCase(), DType.Float64), r => !r.Passed);
        var results = FuzzCheck.Checked(program, DType.Float64);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        Assert.Contains(results, r => r.Check == nameof(Check.Hessian) && r.Note == FuzzCheck.ConditioningNote);
        // the summary names the program: ill-conditioned is counted apart from agreement
        var summary = FuzzCommand.Summary.Of(results);
        Assert.Single(summary.IllConditioned);
        Assert.StartsWith(program.Name, summary.IllConditioned[0]);
    }

    /// <summary>sin(a·x) with a = 1e17: at x₀ = 1.02 one ulp of x₀ moves a·x₀ by about 22, so every derivative of that
    /// entry is rounding noise in any engine; at x₁ = 3e-18 and x₂ = 1e-18 (a·x = 0.3 and 0.1) last bits move nothing
    /// visible. All entries of each derivative have the same scale (a, a²), so the stable ones are compared as strictly
    /// as in any program.</summary>
    static FuzzProgram IllConditionedBesideStable(int seed) => new($"conditioning {seed}", seed, new[] { new[] { 3 } },
        new[] { new[] { 1.0207863728900801, 3e-18, 1e-18 } },
        new[]
        {
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: new[] { 1e17, 1e17, 1e17 }, DataShape: new[] { 3 }),
            new Step(OpKind.Mul, new[] { 1, 0 }, Array.Empty<int>()), new Step(OpKind.Sin, new[] { 2 }, Array.Empty<int>()),
        }, 3);

    [Fact]
    public void AWrongDerivativeBesideAnIllConditionedEntry_IsNotClassifiedIllConditioned()
    {
        // a deliberately broken rule: sin's value as it is (2y − y is exactly y, by Sterbenz's lemma), its derivative
        // with the wrong sign; the stable entries must still catch it, in every check that reads them
        static Case Broken(FuzzProgram p) => p.ToCase() with
        {
            Ours = xs => OurInterpreter.Run(p, xs, (s, a, d) => s.Kind == OpKind.Sin
                ? a[0].Sin().StopGradient() * 2.0 - a[0].Sin() : OurInterpreter.Apply(s, a, d)),
        };
        foreach (var seed in new[] { 1, 2, 3 })
        {
            var program = IllConditionedBesideStable(seed);
            // with the right rule the program passes (the entry of x₀, where the engines may differ, as ill-conditioned)
            Assert.All(FuzzCheck.Checked(program, DType.Float64), r => Assert.True(r.Passed, r.Check));
            var broken = FuzzCheck.Checked(program, DType.Float64, Broken);
            foreach (var check in new[] { Check.Vjp, Check.Jvp, Check.SecondOrder, Check.Hessian })
                Assert.Contains(broken, r => r.Check == check.ToString() && !r.Passed);
        }
    }

    [Fact]
    public void Fuzz1_1544_Float32HessianIsRoundingNoiseOfTorchsOwn_ClassifiedIllConditionedNotExcusedByTheAllowance()
    {
        // the output adds a sum of softmax rows (a constant) to mean(tan(min(x₁x₀)²)): the Hessian's off-diagonal entries
        // of x₀'s first row are about 1e-11 in float64 (both engines, to 1e-11 of a scale of 3.8; entry (0, 0) to 1e-8), but rounding noise of
        // order 1e-2 in float32, and torch's own float32 Hessian moves that much, and by 0.97 at entry (0, 0), when
        // the inputs move by 2 float32 ulps
        var program = FuzzCommand.Programs(1, 1, 1544, ops: OpSurface.Wide)[0];
        double[] Hessian(FuzzProgram p, DType dtype, bool ours)
        {
            var c = p.ToCase();
            var probe = Probe.For(c);
            probe.SetOutputSize(OurSide.OutputSize(c, probe, dtype), c.Seed);
            return (ours ? OurSide.Run(c, probe, dtype, true) : TorchSide.Run(c, probe, dtype, true))[Check.Hessian];
        }
        var rounded = program.RoundedToFloat32();
        double[] ours64 = Hessian(rounded, DType.Float64, true), torch64 = Hessian(rounded, DType.Float64, false);
        double[] torch32 = Hessian(program, DType.Float32, false), torch32Moved = Hessian(program.Shifted(-2, DType.Float32), DType.Float32, false);
        Assert.True(Math.Abs(ours64[3] - torch64[3]) < 1e-10 && Math.Abs(torch64[3]) < 1e-10, $"float64: ours {ours64[3]:R}, torch {torch64[3]:R}");
        Assert.True(Math.Abs(ours64[0] - torch64[0]) < 1e-7 * Math.Abs(torch64[0]), $"float64: ours {ours64[0]:R}, torch {torch64[0]:R}");
        Assert.True(Math.Abs(torch32Moved[0] - torch32[0]) > 0.5, $"torch float32 (0, 0): {torch32[0]:R}, moved {torch32Moved[0]:R}");
        var results = FuzzCheck.Checked(program, DType.Float32);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        // whether a second-order check meets the noise (the Hessian's entries, or the second-order product over them)
        // depends on the last bits of the float32 kernels: since softmax's pullback is one kernel that rounds its sum
        // to float32 as torch's does, ours agrees with torch's within the tolerance. A check that does meet it is
        // classified ill-conditioned, never excused by the float32 allowance
        Assert.All(results, r => Assert.True(r.Note == "" || r.Note == FuzzCheck.ConditioningNote, $"{r.Check}: {r.Note}"));
        Assert.DoesNotContain(results, r => r.Note == FuzzCheck.AllowanceNote);
    }

    [Fact]
    public void Fuzz11_286_ProductsOfLayerNormTangentsAtARowOfZeros_CancelToZero_BothEnginesRoundingNoise()
    {
        // A = atan2(layerNorm(x), 0.5) at x = 0: A = 0 and dA = 2·(dx − mean(dx))/√ε, the same for every row i of the
        // broadcast, so (dA·dA′)ᵢⱼ = Σₖ dAₖ·dA′ⱼ = dA′ⱼ·Σₖ dAₖ = 0: every second derivative of A·A is exactly 0, and each
        // engine's is the rounding of a sum of terms of size (2/√ε)² = 4e5 times the direction's
        var program = new FuzzProgram("fuzz 11/286", 1, new[] { new[] { 3, 1, 3 } }, new[] { new double[9] }, new[]
        {
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: Enumerable.Repeat(0.5, 9).ToArray(), DataShape: new[] { 1, 3, 3 }),
            new Step(OpKind.LayerNorm, new[] { 0 }, Array.Empty<int>(), Scalar: 1e-5),
            new Step(OpKind.Atan2, new[] { 2, 1 }, Array.Empty<int>()), new Step(OpKind.MatMul, new[] { 3, 3 }, Array.Empty<int>()),
        }, 4);
        var c = program.ToCase();
        var probe = Probe.For(c);
        probe.SetOutputSize(OurSide.OutputSize(c, probe, DType.Float64), c.Seed);
        double terms = 4 / 1e-5 * probe.Cotangent.Sum(Math.Abs) * probe.Direction[0].Sum(Math.Abs);
        foreach (var side in new[] { OurSide.Run(c, probe, DType.Float64, true), TorchSide.Run(c, probe, DType.Float64, true) })
            foreach (var v in side[Check.SecondOrder])
                Assert.True(Math.Abs(v) <= 16 * Math.ScaleB(1.0, -52) * terms, $"{v:R} against terms of {terms:R}");
        Assert.Contains(CaseRunner.Run(c, DType.Float64), r => !r.Passed);
        foreach (var dtype in new[] { DType.Float64, DType.Float32 })
        {
            var results = FuzzCheck.Checked(program, dtype);
            Assert.All(results, r => Assert.True(r.Passed, $"{dtype} {r.Check}"));
            Assert.Contains(results, r => r.Note == FuzzCheck.ConditioningNote);
        }
    }

    [Fact]
    public void Adversarial16_93_GradientThroughSolveOfAMatrixByItself_OverflowsWithEitherSign_ClassifiedIllConditioned()
    {
        // solve(A, A) is exactly the identity, but an engine's is the identity plus rounding residues, which the program's
        // huge weights multiply (1e160 in the shrunk form): the exact gradient (with X = I) is finite, both engines' overflow, torch's to +∞ or −∞ as
        // the inputs' last bits move, ours to ∞ − ∞ = NaN in two entries
        var program = FuzzCommand.Programs(1, 16, 93, adversarial: true, ops: OpSurface.Wide)[0];
        Assert.Contains(CaseRunner.Run(program.ToCase(), DType.Float64), r => r.Check == nameof(Check.Vjp) && !r.Passed);
        var results = FuzzCheck.Checked(program, DType.Float64);
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
        Assert.Contains(results, r => r.Check == nameof(Check.Vjp) && r.Note == FuzzCheck.ConditioningNote);
    }

    [Theory]
    // torch's own entry flips between +∞ and −∞ under last-bit moves: ours may be either
    [InlineData(double.NegativeInfinity, double.PositiveInfinity, new[] { double.PositiveInfinity, double.NegativeInfinity }, true)]
    // torch's +∞ is stable: ours −∞ is a wrong sign, not conditioning
    [InlineData(double.NegativeInfinity, double.PositiveInfinity, new[] { double.PositiveInfinity, double.PositiveInfinity }, false)]
    // torch moves by 10 (tolerance 1): a difference of 30 is explained, one of 50 is not
    [InlineData(130.0, 100.0, new[] { 110.0, 95.0 }, true)]
    [InlineData(150.0, 100.0, new[] { 110.0, 95.0 }, false)]
    // torch moves within its tolerance: nothing is explained, however small the difference that failed
    [InlineData(101.5, 100.0, new[] { 100.5, 99.6 }, false)]
    // a sign change of a small entry explains a difference within 4 times the move
    [InlineData(-0.5, 0.2, new[] { -0.1, 0.2 }, true)]
    // a NaN of ours is explained only where torch's own entry is NaN under a move (a domain edge that rounding decides,
    // `adversarial 16/84`) or takes both infinities (∞ − ∞); a NaN of torch's at the point only where its moves scatter
    // into numbers around ours (FuzzSeeds67To71Tests)
    [InlineData(double.NaN, 1.0, new[] { double.NaN, 1.0 }, true)]
    [InlineData(double.NaN, 1.0, new[] { 1.0, 3.0 }, false)]
    [InlineData(1.0, double.NaN, new[] { 1.0, 2.0 }, true)]
    [InlineData(4.5, double.NaN, new[] { 1.0, 2.0 }, false)]
    [InlineData(1.0, double.NaN, new[] { double.NaN, double.NaN }, false)]
    [InlineData(double.NaN, double.NegativeInfinity, new[] { double.NegativeInfinity, double.NegativeInfinity }, false)]
    [InlineData(double.NaN, double.NegativeInfinity, new[] { double.NegativeInfinity, double.PositiveInfinity }, true)]
    public void AnEntryIsExplainedOnlyWhereTorchItselfIsUnstableAndOursIsWithinItsMoves(double ours, double torch, double[] moved, bool explained) =>
        Assert.Equal(explained, FuzzCheck.Explained(ours, torch, moved, tolerance: 1.0));

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

