using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The fuzzer's references and conventions found by the adversarial seeds 25 to 27 (branch edges7): torch's own numbers
/// at each point against the closed form, ours against it, and the shrunk program passing the fuzzer's checks.
/// </summary>
public class FuzzEdges7Tests
{
    static TT T(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape).requires_grad_(true);

    static TT Grad(TT y, TT x) => torch.autograd.grad(new[] { y }, new[] { x }, retain_graph: true, create_graph: true)[0];

    [Fact]
    public void Trigamma_AtAHugeNegativeFloat_IsAPole_TorchGivesAFiniteNumber()
    {
        // every double of magnitude 1e30 is an integer, and ψ′ has a double pole, +∞ from both sides, at each negative one
        double x = -1e30;
        Assert.Equal(Math.Floor(x), x);
        var torchValue = Values(T(new[] { x }, 1).polygamma(1))[0];
        Assert.True(double.IsFinite(torchValue), $"torch's trigamma at -1e30 is {torchValue}");
        var ours = ((Expr)Tensor.FromArray(new[] { x }, 1)).Polygamma(1).Eval().ToDoubleArray()[0];
        Assert.Equal(double.PositiveInfinity, ours);
        // the shrunk program: its value is compared with the pole's +∞ in both dtypes
        Passes(Program("fuzz adversarial 27/27", new[] { new[] { 1, 2 } }, new[] { new[] { 0.0, -1e30 } },
            new Step(OpKind.Polygamma, new[] { 0 }, new[] { 1 })));
    }

    [Fact]
    public void LogSumExp_OverTiesAtAHugeValue_SlopesAreHalf_TorchReadsTheRoundedResult()
    {
        // logsumexp(a, a) = a + log 2, whose slopes are ½ each to every digit; torch's e^(a − result) reads the result rounded
        // to an ulp of 3.8e8 (6e-8), so its slopes are off by about that much relative
        double a = 1.9155189646673503 * 200581164.57771727;
        var x = T(new[] { a, a }, 2);
        var torchSlopes = Values(Grad(x.logsumexp(0), x));
        Assert.True(Math.Abs(torchSlopes[0] - 0.5) > 1e-10, $"torch's slope {torchSlopes[0]:R}");
        var ours = FunctionalDiff.Diff.Grad((Expr y) => y.LogSumExp(0))(Tensor.FromArray(new[] { a, a }, 2)).Eval().ToDoubleArray();
        Assert.All(ours, s => Assert.Equal(0.5, s, 15));
        // the shrunk program: the reference shifts by the held maximum, as ours does
        var zeroOrTies = new[] { 1.9155189646673503, 0.0, 0.0, 0.0, 2.0, 0.0, 0.0, 2.0, 0.0, 1.9155189646673503, 0.0, 0.0, 0.0, 2.0, 0.0, 2.0, 0.0, 0.0 };
        Passes(Program("fuzz adversarial 27/267", new[] { new[] { 2, 3, 3 }, Array.Empty<int>() }, new[] { zeroOrTies, new[] { 200581164.57771727 } },
            new Step(OpKind.Mul, new[] { 1, 0 }, Array.Empty<int>()), new Step(OpKind.LogSumExp, new[] { 2 }, new[] { 0 })));
    }

    [Fact]
    public void FrobeniusNorm_OfASubnormalEntry_IsThatEntry_TorchSquaresItToZero()
    {
        // ‖[0, 0, 1e-310]‖ = 1e-310 and its gradient is x/‖x‖ = [0, 0, 1]; torch's x² underflows to 0, so its norm is 0
        // and its gradient the mask's 0
        var x = T(new[] { 0.0, 0.0, 1e-310 }, 3, 1);
        var torchNorm = torch.linalg.matrix_norm(x, "fro");
        Assert.Equal(0.0, Values(torchNorm)[0]);
        Assert.Equal(new[] { 0.0, 0.0, 0.0 }, Values(Grad(torchNorm, x)));
        var ours = FunctionalDiff.Diff.Grad((Expr y) => y.FrobeniusNorm())(Tensor.FromArray(new[] { 0.0, 0.0, 1e-310 }, 3, 1)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0.0, 1.0 }, ours);
        Passes(Program("fuzz adversarial 25/129", new[] { new[] { 3, 1 } }, new[] { new[] { 0.0, 0.0, 1e-310 } },
            new Step(OpKind.FrobeniusNorm, new[] { 0 }, Array.Empty<int>())));
    }

    [Fact]
    public void Det_OverAnEntryWithAnUndefinedSlope_SecondOrderNaNStaysWithTheEntriesThatShareAProduct()
    {
        // det(c^x) for c = [[2, 3], [+∞, 5]] at x = [1, 1, −0.5, 1]: A = [[2, 3], [0, 5]], and ∂A₁₀/∂x₁₀ = ∞^−0.5·log ∞ = 0·∞ is
        // undefined. det = A₀₀A₁₁ − A₀₁A₁₀, so the Hessian couples x₁₀ with x₀₁ only; the other rows are the closed form
        // H₀₀ = A₀₀ log²2·A₁₁, H₀₃ = A₀₀ log 2·A₁₁ log 5, H₃₃ = A₁₁ log²5·A₀₀
        var c = new[] { 2.0, 3.0, double.PositiveInfinity, 5.0 };
        var at = new[] { 1.0, 1.0, -0.5, 1.0 };
        var hessian = FunctionalDiff.Diff.Hessian((Expr y) => ((Expr)Tensor.FromArray(c, 2, 2)).Pow(y).Det())(Tensor.FromArray(at, 2, 2))
            .Eval().ToDoubleArray();
        double l2 = Math.Log(2), l5 = Math.Log(5);
        Assert.Equal(2 * l2 * l2 * 5, hessian[0], 12);
        Assert.Equal(2 * l2 * 5 * l5, hessian[3], 12);
        Assert.Equal(5 * l5 * l5 * 2, hessian[15], 12);
        Assert.Equal(2 * l2 * 5 * l5, hessian[12], 12);
        Assert.True(double.IsNaN(hessian[1 * 4 + 2]) && double.IsNaN(hessian[2 * 4 + 1]), "the coupled pair");
        // torch's double backward goes through A⁻¹ and spreads the NaN to every entry
        var x = T(at, 2, 2);
        var torchGrad = Grad(torch.tensor(c, dtype: torch.ScalarType.Float64).reshape(2, 2).pow(x).det(), x);
        var torchRow = Values(Grad(torchGrad.flatten()[0], x));
        Assert.True(double.IsNaN(torchRow[0]), "torch's Hessian row of x₀₀");
        // the program passes by the convention, one-directional
        var program = Program("fuzz adversarial 26/14, shrunk by hand", new[] { new[] { 2, 2 } }, new[] { at },
            new Step(OpKind.Const, Array.Empty<int>(), Array.Empty<int>(), Data: c, DataShape: new[] { 2, 2 }),
            new Step(OpKind.Pow, new[] { 1, 0 }, Array.Empty<int>()),
            new Step(OpKind.Det, new[] { 2 }, Array.Empty<int>()));
        Assert.True(program.ToCase().Float64!.TorchDerivativeNaNIsConvention);
        var failed = FuzzCheck.Checked(program, DType.Float64).Where(r => !r.Passed).Select(r => r.Check).ToList();
        Assert.True(failed.Count == 0, "failed: " + string.Join(", ", failed));
    }

    static Step One(OpKind kind, int[] args, int[]? ints = null, double scalar = 0) => new(kind, args, ints ?? Array.Empty<int>(), Scalar: scalar);

    [Fact]
    public void Sinc_AtZero_CurvatureIsMinusPiSquaredOverThree_TorchsIsNaN()
    {
        var x = T(new[] { 0.0 }, 1);
        var slope = Grad(x.sinc().sum(), x);
        Assert.True(double.IsNaN(Values(Grad(slope.sum(), x))[0]), "torch's second derivative at 0");
        var ours = FunctionalDiff.Diff.Hessian((Expr y) => y.Sinc().Sum())(Tensor.FromArray(new[] { 0.0 }, 1)).Eval().ToDoubleArray();
        Assert.Equal(-Math.PI * Math.PI / 3, ours[0], 14);
        Passes(Program("fuzz adversarial 28/279", new[] { new[] { 1, 1, 1 } }, new[] { new[] { 0.0 } }, One(OpKind.Sinc, new[] { 0 })));
        Passes(Program("fuzz adversarial 28/146", new[] { new[] { 2, 3 } }, new[] { new[] { 0.0, 0.0, 0.0, 0.0, 0.0, 1e-38 } }, One(OpKind.Sinc, new[] { 0 })));
    }

    [Fact]
    public void LogAddExp_FarApart_SecondDerivativeIsZero_TorchsIsNaN()
    {
        // logaddexp(a, b) with b − a = 740218: σ(a − b)σ(b − a) underflows to 0, the second derivative's closed form
        var a = T(new[] { -96977.23 }, 1);
        var b = torch.tensor(new[] { 643241.5 }, dtype: torch.ScalarType.Float64);
        var slope = Grad(torch.logaddexp(a, b).sum(), a);
        Assert.True(double.IsNaN(Values(Grad(slope.sum(), a))[0]), "torch's second derivative");
        Passes(Program("fuzz adversarial 28/87, float32, shrunk", new[] { new[] { 1, 3 }, new[] { 1, 1 } },
            new[] { new[] { -96977.23, 178225.47, 561993.25 }, new[] { 643241.5 } }, One(OpKind.LogAddExp, new[] { 0, 1 })));
    }

    [Fact]
    public void LogCumSumExp_IsComparedWithTheLogSumExpOfEachPrefix_TorchsOwnJvpIsNaN()
    {
        // over one entry logcumsumexp is x itself: the JVP is t, where torch's own (its double backward at a zero
        // cotangent, whose logarithm its rule takes) is NaN
        var y = T(new[] { 0.0 }, 1);
        var u = torch.zeros(1, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var back = torch.autograd.grad(new[] { y.logcumsumexp(0) }, new[] { y }, new[] { u }, create_graph: true)[0];
        var torchJvp = torch.autograd.grad(new[] { back }, new[] { u }, new[] { torch.tensor(new[] { 1.04642 }, dtype: torch.ScalarType.Float64) })[0];
        Assert.True(double.IsNaN(Values(torchJvp)[0]), "torch's JVP");
        var (_, tangent) = FunctionalDiff.Diff.Jvp((Expr y) => y.LogCumSumExp(0), Tensor.FromArray(new[] { 0.0 }, 1), Tensor.FromArray(new[] { 1.04642 }, 1));
        Assert.Equal(1.04642, tangent.Eval().ToDoubleArray()[0], 14);
        Passes(Program("fuzz adversarial 28/243", new[] { new[] { 1 } }, new[] { new[] { 0.0 } }, One(OpKind.LogCumSumExp, new[] { 0 }, new[] { 0 })));
    }

    [Fact]
    public void CosineSimilarity_BelowEps_IsTheDocumentedConvention()
    {
        Passes(Program("fuzz adversarial 28/8", new[] { new[] { 1 } }, new[] { new[] { -0.0 } }, One(OpKind.CosineSimilarity, new[] { 0, 0 }, new[] { -1 })));
    }

    [Fact]
    public void GroupNorm_OfAGroupWithAHugeEntry_IsTheScaledNorm_TorchOverflows()
    {
        // [−1e160, 0, 0] normalised: mean −1e160/3, deviations (−2, 1, 1)·1e160/3, biased σ = √(6/9)·1e160 → (−√2, 1/√2, 1/√2)
        var xs = new[] { 0.0, 0.0, 0.0, -1e160, 0.0, 0.0, 0.0, 0.0, 0.0 };
        var torchValue = Values(torch.nn.functional.group_norm(T(xs, 3, 3), 1));
        Assert.True(double.IsNaN(torchValue[3]), "torch's group norm of the huge group");
        var ours = Nn.GroupNorm((Expr)Tensor.FromArray(xs, 3, 3), 1).Eval().ToDoubleArray();
        Assert.Equal(-Math.Sqrt(2), ours[3], 14);
        Assert.Equal(1 / Math.Sqrt(2), ours[4], 14);
        Passes(Program("fuzz adversarial 28/201", new[] { new[] { 3, 3 } }, new[] { xs }, One(OpKind.GroupNorm, new[] { 0 }, new[] { 1 })));
    }

    [Fact]
    public void GroupNorm_SecondOrder_OfAGroupBelowTheSquaresOverflow_IsTheScaledNorms_TorchCubesOverflow()
    {
        // a group holding 1e120: its squares are finite (torch's value is right), but torch's double backward forms cubes
        // of the centred entries, 1e360 = ∞, and its HVP is NaN. The group norm is the same function at x/s with ε/s²,
        // whose HVP in x is the HVP at x/s divided by s²: torch's own numbers at the scaled point are the reference
        double s = Math.ScaleB(1.0, 398);
        var xs = new[] { 0.5, -2.0, 1e120 };
        var u = new[] { 0.3, -1.1, 0.7 };
        var v = new[] { 1e119, -2e119, 3e119 };
        double[] TorchHvp(double[] at, double[] direction, double epsilon)
        {
            var x = T(at, 1, 3);
            var g = Grad((torch.nn.functional.group_norm(x, 1, eps: epsilon) * torch.tensor(u, dtype: torch.ScalarType.Float64).reshape(1, 3)).sum(), x);
            return Values(Grad((g * torch.tensor(direction, dtype: torch.ScalarType.Float64).reshape(1, 3)).sum(), x));
        }
        Assert.Contains(TorchHvp(xs, v, 1e-5), double.IsNaN);
        var reference = TorchHvp(xs.Select(e => e / s).ToArray(), v.Select(e => e / s).ToArray(), 1e-5 / (s * s)).Select(h => h / s).ToArray();
        Assert.All(reference, h => Assert.True(double.IsFinite(h)));
        Expr Objective(Expr x) => (Nn.GroupNorm(x, 1) * Tensor.FromArray(u, 1, 3)).Sum();
        var ours = FunctionalDiff.Diff.Hvp(Objective, Tensor.FromArray(xs, 1, 3), Tensor.FromArray(v, 1, 3)).Eval().ToDoubleArray();
        for (int i = 0; i < 3; i++) Assert.Equal(reference[i], ours[i], Math.Abs(reference[i]) * 1e-9);
        // the shrunk program: a group norm of pow(x₁, x₀) whose third sample's group holds 23.05^100 = 1.5e136
        var exponents = new[] { -0.7250365162850244, 1E+30, -0.7250365162850244, 0.986279668053967, -0.7250365162850244, -100.0,
                                0.986279668053967, -1E+20, 100.0, -0.041807406681023146, -1E+160, 709.0 };
        var bases = new[] { 10.699323778539322, 1.041637175779564, 23.048499249175567 };
        Passes(Program("fuzz adversarial 40/265", new[] { new[] { 4, 3, 1 }, new[] { 1, 3, 1 } }, new[] { exponents, bases },
            One(OpKind.Pow, new[] { 1, 0 }), One(OpKind.GroupNorm, new[] { 2 }, new[] { 1 })));
    }

    [Fact]
    public void Normalize_OfAZeroSlice_IsXOverEps_WhoseSecondDerivativeIsZero_TorchsIsNaN()
    {
        var x = T(new[] { 0.0 }, 1);
        var slope = Grad(torch.nn.functional.normalize(x, 2.0, 0).sum(), x);
        Assert.Equal(1e12, Values(slope)[0], 0);
        Assert.True(double.IsNaN(Values(Grad(slope.sum(), x))[0]), "torch's second derivative");
        var ours = FunctionalDiff.Diff.Hessian((Expr y) => Nn.Normalize(y, 2.0, 0).Sum())(Tensor.FromArray(new[] { 0.0 }, 1)).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        Passes(Program("fuzz 19/417", new[] { new[] { 1 } }, new[] { new[] { 0.0 } }, One(OpKind.Normalize, new[] { 0 }, new[] { 0 }, 2.0)));
    }

    [Fact]
    public void LogCumSumExp_TheShrunkProgramWhoseSecondOrderTorchGetsWrong_Passes()
    {
        // tanh(einsum("ij,kj->ik", c, logcumsumexp(x, 1))): the second-order entries, by 60-digit central differences in
        // mpmath, are 2.36129e-4, 4.29021e-6, 4.99659e-6, −2.85393e-4, ... where torch's own rule gives 5.54e-5, ...
        var program = Program("fuzz 19/701", new[] { new[] { 2, 3 }, new[] { 2, 3 } },
            new[] { new[] { 5.477023549150376, 1.9198982057538683, 2.4790250446943007, 5.477023549150376, 3.4177545234154194, -0.28148353325178865 },
                    new[] { 0.0, -0.5, -0.5, 30.0, -0.5, -0.5 } },
            One(OpKind.LogCumSumExp, new[] { 0 }, new[] { 1 }),
            new Step(OpKind.Einsum, new[] { 1, 2 }, new[] { Array.IndexOf(FuzzProgram.EinsumEquations, "ij,kj->ik") }),
            One(OpKind.Tanh, new[] { 3 }));
        Assert.True(program.Steps[1].Ints[0] >= 0, "the einsum equation is one the fuzzer draws");
        var results = FuzzCheck.Checked(program, DType.Float64);
        Assert.Contains(results, r => r.Check == "SecondOrder");
        Assert.All(results, r => Assert.True(r.Passed, r.Check));
    }
}
