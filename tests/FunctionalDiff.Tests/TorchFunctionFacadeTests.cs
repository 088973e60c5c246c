using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The torch functions that are composites in the core (elementary functions, hard activations, squeeze to median):
/// values against System.Math and closed forms at the edges torch defines (overflow, large arguments, zeros, bounds),
/// gradients against finite differences and closed forms, the defaults, and errors that name the method and shapes.
/// </summary>
public class TorchFunctionFacadeTests
{
    static double[] Values(Expr e) => e.Eval().ToDoubleArray();
    static double[] Grad(Func<Expr, Expr> f, double[] x) => Diff.Grad(v => f(v).Sum())(Tensor.FromArray(x)).Eval().ToDoubleArray();
    static double[] SecondGrad(Func<Expr, Expr> f, double[] x) =>
        Diff.Grad(w => Diff.Grad(v => f(v).Sum())(w).Sum())(Tensor.FromArray(x)).Eval().ToDoubleArray();

    static void Relative(double expected, double actual, double tolerance, string what)
    {
        if (double.IsInfinity(expected) || double.IsNaN(expected)) Assert.True(expected.Equals(actual), $"{what}: expected {expected}, got {actual}");
        else Assert.True(Math.Abs(actual - expected) <= tolerance * Math.Abs(expected) + 1e-300, $"{what}: expected {expected:R}, got {actual:R}");
    }

    public static IEnumerable<object[]> Elementary() => new[]
    {
        new object[] { "Sinh", (Func<Expr, Expr>)(x => x.Sinh()), (Func<double, double>)Math.Sinh, new[] { 0.0, 1e-12, -0.3, 19.99, 20.0, -35.0, 709.9, -710.4, 711.0, -800.0 } },
        new object[] { "Cosh", (Func<Expr, Expr>)(x => x.Cosh()), (Func<double, double>)Math.Cosh, new[] { 0.0, 1e-12, -0.3, 19.99, 20.0, -35.0, 709.9, -710.4, 711.0, -800.0 } },
        new object[] { "Asin", (Func<Expr, Expr>)(x => x.Asin()), (Func<double, double>)Math.Asin, new[] { 0.0, 1e-12, -0.3, 0.49, 0.5, -0.999999, 1.0, -1.0, 1.5 } },
        new object[] { "Acos", (Func<Expr, Expr>)(x => x.Acos()), (Func<double, double>)Math.Acos, new[] { 0.0, 1e-12, -0.3, 0.49, 0.5, -0.999999, 1.0, -1.0, -1.5 } },
        new object[] { "Atan", (Func<Expr, Expr>)(x => x.Atan()), (Func<double, double>)Math.Atan, new[] { 0.0, 1e-12, -0.3, 1e300, double.NegativeInfinity } },
        new object[] { "Asinh", (Func<Expr, Expr>)(x => x.Asinh()), (Func<double, double>)Math.Asinh, new[] { 0.0, 1e-12, -1e-12, -0.3, 3e8, -1e300, 1e300, double.PositiveInfinity } },
        new object[] { "Acosh", (Func<Expr, Expr>)(x => x.Acosh()), (Func<double, double>)Math.Acosh, new[] { 1.0, 1.0 + 1e-12, 1.3, 3e8, 1e300, 0.5 } },
        new object[] { "Atanh", (Func<Expr, Expr>)(x => x.Atanh()), (Func<double, double>)Math.Atanh, new[] { 0.0, 1e-12, -0.3, 0.999999999, -1.0, 1.0, 2.0 } },
        new object[] { "Log2", (Func<Expr, Expr>)(x => x.Log2()), (Func<double, double>)Math.Log2, new[] { 8.0, 0.3, 1e-300, 0.0, -1.0 } },
        new object[] { "Log10", (Func<Expr, Expr>)(x => x.Log10()), (Func<double, double>)Math.Log10, new[] { 1000.0, 0.3, 1e-300, 0.0, -1.0 } },
        new object[] { "Exp2", (Func<Expr, Expr>)(x => x.Exp2()), (Func<double, double>)(v => Math.Pow(2, v)), new[] { 10.0, -1074.0, 1023.5, 1024.0, -0.5 } },
        new object[] { "Trunc", (Func<Expr, Expr>)(x => x.Trunc()), (Func<double, double>)Math.Truncate, new[] { -2.5, 2.5, -0.5, 0.5, 3.0, double.NegativeInfinity, double.NaN } },
    };

    [Theory]
    [MemberData(nameof(Elementary))]
    public void ElementaryValuesMatchSystemMathAtTheEdges(string name, Func<Expr, Expr> f, Func<double, double> reference, double[] x)
    {
        var actual = Values(f(Tensor.FromArray(x)));
        // e^(|x| - ln 2) far out carries the rounding of |x| - ln 2 (an ulp of 710 is 1.1e-13)
        for (int i = 0; i < x.Length; i++) Relative(reference(x[i]), actual[i], 2e-13, $"{name}({x[i]})");
    }

    [Theory]
    [MemberData(nameof(Elementary))]
    public void ElementaryGradientsMatchFiniteDifferences(string name, Func<Expr, Expr> f, Func<double, double> reference, double[] x)
    {
        _ = (reference, x);
        // interior points, away from the kinks, bounds and overflow the edge tests cover
        var inside = name switch
        {
            "Asin" or "Acos" or "Atanh" => new[] { -0.7, 0.2, 0.6 },
            "Acosh" => new[] { 1.2, 3.0, 25.0 },
            "Log2" or "Log10" => new[] { 0.2, 3.0, 40.0 },
            "Trunc" => new[] { -1.3, 0.4, 2.7 },
            _ => new[] { -1.7, 0.05, 0.8, 22.0 },
        };
        // one point at a time, so a large value's rounding does not swamp a small one's difference quotient
        foreach (var p in inside)
            Close(NumericGradient(v => f(v).Sum(), Tensor.FromArray(new[] { p })), Grad(f, new[] { p }), 1e-6, $"{name}'({p})");
    }

    [Fact]
    public void SinhAndCoshPassAnInfiniteCotangentAsOneFactor()
    {
        // g·cosh x and g·sinh x with g = +∞ are ±∞ by the sign of the slope, never ∞·0 or ∞ − ∞ (`fuzz all 2/233`: the
        // gradient of ∞·cosh x at x = −∞ was NaN, torch's −∞); at ±30 as at ±∞, far beyond the switch at 20
        double[] x = { double.NegativeInfinity, -30.0, 30.0, double.PositiveInfinity };
        Expr g = Tensor.FromArray(Enumerable.Repeat(double.PositiveInfinity, x.Length).ToArray());
        double[] Pulled(Func<Expr, Expr> f) => Diff.Vjp(f, Tensor.FromArray(x)).Pullback(g).Eval().ToDoubleArray();
        Assert.Equal(x.Select(_ => double.PositiveInfinity).ToArray(), Pulled(v => v.Sinh()));
        Assert.Equal(x.Select(v => v < 0 ? double.NegativeInfinity : double.PositiveInfinity).ToArray(), Pulled(v => v.Cosh()));
        // a finite cotangent far out: the slopes cosh and sinh, against System.Math
        double[] far = { -30.0, 30.0, -700.0 };
        var sinhSlope = Grad(v => v.Sinh(), far);
        var coshSlope = Grad(v => v.Cosh(), far);
        for (int i = 0; i < far.Length; i++)
        {
            Relative(Math.Cosh(far[i]), sinhSlope[i], 1e-14, $"sinh'({far[i]})");
            Relative(Math.Sinh(far[i]), coshSlope[i], 1e-14, $"cosh'({far[i]})");
        }
    }

    [Fact]
    public void DerivativesAtTheEdgesAreTorchs()
    {
        // slopes at 0 are the functions' own, not the 0 an |x| inside a composite would give
        Assert.Equal(new[] { 1.0 }, Grad(x => x.Sinh(), new[] { 0.0 }));
        Assert.Equal(new[] { 1.0 }, Grad(x => x.Asinh(), new[] { 0.0 }));
        Assert.Equal(new[] { 0.0 }, Grad(x => x.Cosh(), new[] { 0.0 }));
        Close(1.0, SecondGrad(x => x.Cosh(), new[] { 0.0 })[0], 1e-15, "cosh''(0)");
        Close(0.0, SecondGrad(x => x.Asinh(), new[] { 0.0 })[0], 1e-15, "asinh''(0)");
        // cosh' = sinh keeps its digits near 0, where e^x − e^−x would cancel
        Relative(Math.Sinh(1e-9), Grad(x => x.Cosh(), new[] { 1e-9 })[0], 1e-12, "cosh'(1e-9)");
        // infinite slopes at the ends of the domains, as torch: never NaN
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity }, Grad(x => x.Asin(), new[] { 1.0, -1.0 }));
        Assert.Equal(new[] { double.NegativeInfinity, double.NegativeInfinity }, Grad(x => x.Acos(), new[] { 1.0, -1.0 }));
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity }, Grad(x => x.Atanh(), new[] { 1.0, -1.0 }));
        Assert.Equal(new[] { double.PositiveInfinity }, Grad(x => x.Acosh(), new[] { 1.0 }));
        // past the overflow threshold the slope is +∞ (cosh, sinh) rather than NaN
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity }, Grad(x => x.Sinh(), new[] { 711.0, -711.0 }));
        Assert.Equal(new[] { double.PositiveInfinity, double.NegativeInfinity }, Grad(x => x.Cosh(), new[] { 711.0, -711.0 }));
        Assert.Equal(new[] { 0.0, 0.0, 0.0 }, Grad(x => x.Trunc(), new[] { -2.5, 0.5, double.PositiveInfinity }));
        Relative(1024 * Math.Log(2), Grad(x => x.Exp2(), new[] { 10.0 })[0], 1e-15, "exp2'(10)");
    }

    [Fact]
    public void Float32OverflowsWhereSinhAndCoshLeaveTheDtype()
    {
        Expr x = Tensor.FromArray(new[] { 88.5f, 89.6f, -89.6f });
        var sinh = x.Sinh().Eval().ToDoubleArray();
        Relative(Math.Sinh(88.5), sinh[0], 1e-5, "sinh(88.5f)");
        Assert.Equal(new[] { double.PositiveInfinity, double.NegativeInfinity }, sinh[1..]);
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity }, x.Cosh().Eval().ToDoubleArray()[1..]);
        Assert.True(double.IsNegative(Values(((Expr)Tensor.FromArray(new[] { -0.5 })).Trunc())[0]), "trunc(-0.5) is -0");
    }

    [Fact]
    public void LogitWithAndWithoutEps()
    {
        double[] x = { 0.0, 1.0, 0.25, -0.5, 1.5, 0.1 };
        var open = Values(((Expr)Tensor.FromArray(x)).Logit());
        Assert.Equal(new[] { double.NegativeInfinity, double.PositiveInfinity }, open[..2]);
        Close(Math.Log(0.25 / 0.75), open[2], 1e-15, "logit(0.25)");
        Assert.True(double.IsNaN(open[3]) && double.IsNaN(open[4]), "NaN outside [0, 1]");
        var slope = Grad(v => v.Logit(), x);
        Assert.Equal(new[] { double.PositiveInfinity, double.PositiveInfinity }, slope[..2]);
        Close(1 / (0.25 * 0.75), slope[2], 1e-14, "logit'(0.25)");
        Assert.True(double.IsNaN(slope[3]) && double.IsNaN(slope[4]), "torch's slope is NaN outside [0, 1]");
        // eps clamps to [eps, 1 − eps]: the slope passes at the bounds, 0 beyond them
        var clamped = Grad(v => v.Logit(0.1), new[] { 0.1, 0.05, 0.95, 0.5, double.NaN });
        Close(new[] { 1 / (0.1 * 0.9), 0, 0, 4 }, clamped[..4], 1e-13, "logit eps slope");
        Assert.Equal(0.0, clamped[4]);
        Close(Math.Log(0.1 / 0.9), Values(((Expr)Tensor.FromArray(new[] { 0.0 })).Logit(0.1))[0], 1e-15, "logit eps at 0");
        var error = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.FromArray(x)).Logit(0.7));
        Assert.Equal("eps", error.ParamName);
        Assert.StartsWith("Logit: ", error.Message);
    }

    [Fact]
    public void XlogyIsZeroAtXZeroUnlessYIsNaN()
    {
        Expr x = Tensor.FromArray(new[] { 0.0, 0.0, 0.0, 0.0, 2.0 });
        Expr y = Tensor.FromArray(new[] { 0.0, double.PositiveInfinity, double.NaN, 3.0, 3.0 });
        var value = Values(Expr.Xlogy(x, y));
        Assert.Equal(new[] { 0.0, 0.0 }, value[..2]);
        Assert.True(double.IsNaN(value[2]));
        Assert.Equal(new[] { 0.0, 2 * Math.Log(3.0) }, value[3..]);
        // torch's derivatives: log y in x (0 where x = 0 and y <= 0) and x/y in y (0/0 = NaN at x = y = 0)
        var (dx, dy) = Diff.Grad((Expr a, Expr b) => Expr.Xlogy(a, b).Sum())(x, y);
        var gx = dx.Eval().ToDoubleArray();
        var gy = dy.Eval().ToDoubleArray();
        Assert.Equal(0.0, gx[0]);
        Assert.True(double.IsNaN(gy[0]), "d/dy at x = y = 0 is 0/0");
        Close(new[] { Math.Log(3.0), Math.Log(3.0) }, gx[3..], 1e-15, "d/dx");
        Close(new[] { 0.0, 2 / 3.0 }, gy[3..], 1e-15, "d/dy");
        // a bare literal takes the other operand's dtype
        Assert.Equal(DType.Float32, Expr.Xlogy(((Expr)Tensor.FromArray(new[] { 1f })), 2.0).DType);
    }

    [Fact]
    public void FmodHasTheDividendsSignAndRemainderTheDivisors()
    {
        double[] a = { 5, -5, 5, -5, 7.5, 2, -2, 1, 3 };
        double[] b = { 3, 3, -3, -3, 2.5, double.PositiveInfinity, double.PositiveInfinity, 0.1, 0 };
        // C's fmod is .NET's %; Python's remainder moves it by b where the signs differ
        var fmod = a.Select((v, i) => v % b[i]).ToArray();
        var python = fmod.Select((r, i) => r != 0 && (r < 0) != (b[i] < 0) ? r + b[i] : r).ToArray();
        Assert.Equal(new[] { 2.0, -2, 2, -2, 0, 2, -2 }, fmod[..7]);
        Assert.Equal(new[] { 2.0, 1, -1, -2, 0, 2, double.PositiveInfinity }, python[..7]);
        Expr x = Tensor.FromArray(a), y = Tensor.FromArray(b);
        Assert.Equal(fmod, Values(Expr.Fmod(x, y)));
        Assert.Equal(python, Values(Expr.Remainder(x, y)));
        Assert.Equal(fmod, Tensor.Fmod(Tensor.FromArray(a), Tensor.FromArray(b)).ToDoubleArray());
        Assert.Equal(python, Tensor.Remainder(Tensor.FromArray(a), Tensor.FromArray(b)).ToDoubleArray());
        // exact where a - floor(a/b)·b is not: 1/0.1 rounds to 10, but 0.1 goes into 1 only 9 times
        // (C's fmod, .NET's %, is exact, and with both signs positive it is Python's remainder too)
        Assert.Equal(1.0 % 0.1, Values(Expr.Remainder(Tensor.FromArray(new[] { 1.0 }), 0.1))[0]);
        Assert.True(1.0 % 0.1 < 0.1 && 1.0 - Math.Floor(1.0 / 0.1) * 0.1 == 0, "the rounding this case is about");
        // derivatives: 1 in a, -trunc(a/b) (fmod) and -floor(a/b) (remainder) in b
        var (da, db) = Diff.Grad((Expr p, Expr q) => Expr.Fmod(p, q).Sum())(Tensor.FromArray(new[] { 5.0, -5.0 }), Tensor.FromArray(new[] { 3.0, 3.0 }));
        Assert.Equal(new[] { 1.0, 1.0 }, da.Eval().ToDoubleArray());
        Assert.Equal(new[] { -1.0, 1.0 }, db.Eval().ToDoubleArray());
        var (ra, rb) = Diff.Grad((Expr p, Expr q) => Expr.Remainder(p, q).Sum())(Tensor.FromArray(new[] { 5.0, -5.0 }), Tensor.FromArray(new[] { 3.0, 3.0 }));
        Assert.Equal(new[] { 1.0, 1.0 }, ra.Eval().ToDoubleArray());
        Assert.Equal(new[] { -1.0, 2.0 }, rb.Eval().ToDoubleArray());
    }

    [Fact]
    public void LerpTakesEitherEndExactlyAndAScalarWeight()
    {
        Expr a = Tensor.FromArray(new[] { 0.1, -3.0 });
        Expr b = Tensor.FromArray(new[] { 0.7, 1e16 });
        Assert.Equal(new[] { 0.7, 1e16 }, Values(Expr.Lerp(a, b, 1.0)));
        Assert.Equal(new[] { 0.1, -3.0 }, Values(Expr.Lerp(a, b, 0.0)));
        Close(new[] { 0.1 + 0.25 * 0.6, -3.0 + 0.25 * (1e16 + 3.0) }, Values(Expr.Lerp(a, b, 0.25)), 1e-15, "lerp 0.25");
        var (da, db) = Diff.Grad((Expr s, Expr e) => Expr.Lerp(s, e, 0.75).Sum())(a, b);
        Assert.Equal(new[] { 0.25, 0.25 }, da.Eval().ToDoubleArray());
        Assert.Equal(new[] { 0.75, 0.75 }, db.Eval().ToDoubleArray());
        Assert.Equal("weight", Assert.Throws<ArgumentNullException>(() => Expr.Lerp(a, b, null!)).ParamName);
    }

    [Fact]
    public void HardActivationsHaveTorchsSlopesAtTheirBounds()
    {
        double[] bounds = { -1.0, 1.0, double.NaN, 0.5, -2.0 };
        Assert.Equal(new[] { 0.0, 0.0, 1.0, 1.0, 0.0 }, Grad(x => x.Hardtanh(), bounds));
        Assert.Equal(new[] { -1.0, 1.0 }, Values(((Expr)Tensor.FromArray(new[] { -2.0, 2.0 })).Hardtanh()));
        Assert.Equal(new[] { 0.0, 0.5, 2.0 }, Values(((Expr)Tensor.FromArray(new[] { -2.0, 0.5, 3.0 })).Hardtanh(0.0, 2.0)));
        Assert.Equal(new[] { 0.0, 0.0, 1.0 }, Grad(x => x.Relu6(), new[] { 0.0, 6.0, 3.0 }));
        var hardtanh = Assert.ThrowsAny<ArgumentException>(() => ((Expr)Tensor.FromArray(bounds)).Hardtanh(2.0, 1.0));
        Assert.Equal("min", hardtanh.ParamName);
        Assert.StartsWith("Hardtanh: ", hardtanh.Message);

        double[] threes = { -3.0, 3.0, double.NaN, 0.5, -4.0, 4.0 };
        Assert.Equal(new[] { 0.0, 0.0, 0.0, 1 / 6.0, 0.0, 0.0 }, Grad(x => x.Hardsigmoid(), threes));
        Assert.Equal(new[] { 0.0, 1.0 }, Values(((Expr)Tensor.FromArray(threes)).Hardsigmoid())[..2]);
        // hardswish: slope 0 at -3 and 1 at 3 and NaN (torch's branches), (2x + 3)/6 inside
        Assert.Equal(new[] { 0.0, 1.0, 1.0, 4 / 6.0, 0.0, 1.0 }, Grad(x => x.Hardswish(), threes));
        Close(0.5 * 3.5 / 6, Values(((Expr)Tensor.FromArray(threes)).Hardswish())[3], 1e-15, "hardswish(0.5)");
        Close(1 / 3.0, SecondGrad(x => x.Hardswish(), new[] { 0.5 })[0], 1e-15, "hardswish''");
        Assert.Equal(1.0, Grad(x => x.Hardswish(), new[] { double.PositiveInfinity })[0]);
    }

    [Fact]
    public void MishIsXTanhSoftplus()
    {
        double[] x = { -2.0, 0.0, 0.7, 30.0, -800.0, 800.0 };
        var expected = x.Select(v => v * Math.Tanh(v > 20 ? v : Math.Log(1 + Math.Exp(v)))).ToArray();
        Close(expected, Values(((Expr)Tensor.FromArray(x)).Mish()), 1e-14, "mish");
        Close(NumericGradient(v => v.Mish().Sum(), Tensor.FromArray(new[] { -2.0, 0.0, 0.7 })), Grad(v => v.Mish(), new[] { -2.0, 0.0, 0.7 }), 1e-6, "mish'");
        Close(0.6, Grad(v => v.Mish(), new[] { 0.0 })[0], 1e-15, "mish'(0) = tanh(log 2)");
    }

    [Fact]
    public void SqueezeUnsqueezeAndFlattenFollowTorch()
    {
        Expr x = Tensor.Ones(new[] { 2, 1, 3 });
        Assert.Equal(new[] { 2, 3 }, x.Squeeze(1).Shape);
        Assert.Equal(new[] { 2, 1, 3 }, x.Squeeze(0).Shape); // not of length 1: left as it is, as torch
        Assert.Equal(new[] { 2, 3 }, x.Squeeze().Shape);
        Expr ones = Tensor.Ones(new[] { 1, 2, 1, 1 });
        Assert.Equal(new[] { 2, 1 }, ones.Squeeze(0, -2, 0, 1).Shape); // axis 1 is 2 long: kept, as torch
        Assert.StartsWith("Squeeze: ", Assert.ThrowsAny<ArgumentException>(() => ones.Squeeze(0, 4)).Message);
        Assert.Equal(new[] { 2, 1, 3, 1 }, x.Unsqueeze(-1).Shape);
        Assert.Equal(new[] { 1, 2, 1, 3 }, x.Unsqueeze(-4).Shape);
        Assert.Equal(new[] { 6 }, x.Flatten().Shape);
        Assert.Equal(new[] { 2, 3 }, x.Flatten(1).Shape);
        Assert.Equal(new[] { 1 }, ((Expr)Tensor.Scalar(2.0)).Flatten().Shape);
        Assert.Equal(new int[0], ((Expr)Tensor.Scalar(2.0)).Squeeze(-1).Shape);
        var unsqueeze = Assert.ThrowsAny<ArgumentException>(() => x.Unsqueeze(4));
        Assert.StartsWith("Unsqueeze: ", unsqueeze.Message);
        Assert.Contains("[2,1,3]", unsqueeze.Message);
        Assert.Contains("axis 4", unsqueeze.Message);
        Assert.StartsWith("Squeeze: ", Assert.ThrowsAny<ArgumentException>(() => x.Squeeze(3)).Message);
        Assert.StartsWith("Flatten: ", Assert.ThrowsAny<ArgumentException>(() => x.Flatten(2, 1)).Message);
    }

    [Fact]
    public void SplitAndChunkGiveTorchsPieces()
    {
        Expr x = Tensor.FromArray(Enumerable.Range(0, 10).Select(i => (double)i).ToArray(), 5, 2);
        Assert.Equal(new[] { 2, 2, 1 }, x.Split(2).Select(p => p.Shape[0]));
        Assert.Equal(new[] { 2, 2, 1 }, x.Chunk(4).Select(p => p.Shape[0])); // fewer pieces than asked, as torch
        Assert.Equal(new[] { 1, 1 }, x.Chunk(2, axis: 1).Select(p => p.Shape[1]));
        var pieces = x.Split(new[] { 1, 0, 4 });
        Assert.Equal(new[] { 1, 0, 4 }, pieces.Select(p => p.Shape[0]));
        Assert.Equal(new[] { 2.0, 3, 4, 5, 6, 7, 8, 9 }, Values(pieces[2]));
        // each piece's gradient lands in its own rows
        var g = Diff.Grad(v => v.Split(2)[1].Sum() * 3.0)(Tensor.FromArray(new double[10], 5, 2)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0, 0, 0, 3, 3, 3, 3, 0, 0 }, g);
        var split = Assert.ThrowsAny<ArgumentException>(() => x.Split(new[] { 2, 2 }));
        Assert.StartsWith("Split: ", split.Message);
        Assert.Contains("[5,2]", split.Message);
        Assert.StartsWith("Split: ", Assert.ThrowsAny<ArgumentException>(() => x.Split(0)).Message);
        Assert.StartsWith("Chunk: ", Assert.ThrowsAny<ArgumentException>(() => x.Chunk(0)).Message);
        Assert.StartsWith("Chunk: ", Assert.ThrowsAny<ArgumentException>(() => x.Chunk(2, axis: 2)).Message);
    }

    [Fact]
    public void RollWrapsAroundAsTorch()
    {
        Expr x = Tensor.FromArray(new[] { 0.0, 1, 2, 3, 4, 5 }, 2, 3);
        Assert.Equal(new[] { 2.0, 0, 1, 5, 3, 4 }, Values(x.Roll(1, 1)));
        Assert.Equal(new[] { 1.0, 2, 0, 4, 5, 3 }, Values(x.Roll(-7, -1)));
        Assert.Equal(new[] { 5.0, 3, 4, 2, 0, 1 }, Values(x.Roll(new[] { 1, 1 }, new[] { 0, 1 })));
        Assert.Equal(new[] { 4.0, 5, 0, 1, 2, 3 }, Values(x.Roll(2)));
        var roll = Assert.ThrowsAny<ArgumentException>(() => x.Roll(1, 2));
        Assert.StartsWith("Roll: ", roll.Message);
        Assert.Contains("[2,3]", roll.Message);
        Assert.StartsWith("Roll: ", Assert.ThrowsAny<ArgumentException>(() => x.Roll(new[] { 1 }, new[] { 0, 1 })).Message);
    }

    [Fact]
    public void TraceOuterAndCrossAreTheTextbookOnes()
    {
        Expr m = Tensor.FromArray(new[] { 1.0, 2, 3, 4, 5, 6 }, 2, 3);
        Assert.Equal(6.0, m.Trace().Eval().ToScalar());
        Assert.Equal(new[] { 1.0, 0, 0, 0, 1, 0 }, Diff.Grad(v => v.Trace())(Tensor.FromArray(new double[6], 2, 3)).Eval().ToDoubleArray());
        Expr a = Tensor.FromArray(new[] { 1.0, 2 });
        Expr b = Tensor.FromArray(new[] { 3.0, 4, 5 });
        Assert.Equal(new[] { 3.0, 4, 5, 6, 8, 10 }, Values(a.Outer(b)));
        Expr i = Tensor.FromArray(new[] { 1.0, 0, 0 });
        Expr j = Tensor.FromArray(new[] { 0.0, 1, 0 });
        Assert.Equal(new[] { 0.0, 0, 1 }, Values(i.Cross(j)));
        Expr u = Tensor.FromArray(new[] { 1.0, 2, 3 });
        Expr w = Tensor.FromArray(new[] { -2.0, 0.5, 4 });
        Assert.Equal(new[] { 2 * 4 - 3 * 0.5, 3 * -2 - 1 * 4.0, 1 * 0.5 - 2 * -2.0 }, Values(u.Cross(w)));
        var cross = Assert.ThrowsAny<ArgumentException>(() => m.Cross(u));
        Assert.StartsWith("Cross: ", cross.Message);
        Assert.Contains("[2,3]", cross.Message);
        Assert.Contains("length 3", Assert.ThrowsAny<ArgumentException>(() => m.Cross(m, 0)).Message);
        Assert.StartsWith("Trace: ", Assert.ThrowsAny<ArgumentException>(() => u.Trace()).Message);
        Assert.StartsWith("Outer: ", Assert.ThrowsAny<ArgumentException>(() => m.Outer(u)).Message);
    }

    [Fact]
    public void MedianIsTheLowerMiddleAndNaNWins()
    {
        Expr x = Tensor.FromArray(new[] { 3.0, 1, 4, 2, 9, 7, 8, 6 }, 2, 4);
        var (values, indices) = x.Median(1);
        Assert.Equal(new[] { 2.0, 7 }, Values(values));
        Assert.Equal(new[] { 3.0, 1 }, Values(indices));
        Assert.Equal(new[] { 2, 1 }, x.Median(-1, keepDims: true).Values.Shape);
        Assert.Equal(4.0, x.Median().Eval().ToScalar());
        Assert.Equal(new[] { 0.0, 0, 0, 1, 0, 1, 0, 0 }, Diff.Grad(v => v.Median(1).Values.Sum())(Tensor.FromArray(new[] { 3.0, 1, 4, 2, 9, 7, 8, 6 }, 2, 4)).Eval().ToDoubleArray());
        Expr withNaN = Tensor.FromArray(new[] { 1.0, double.NaN, -2.0 });
        var nan = withNaN.Median(0);
        Assert.True(double.IsNaN(nan.Values.Eval().ToScalar()));
        Assert.Equal(1.0, nan.Indices.Eval().ToScalar());
        Assert.StartsWith("Median: ", Assert.ThrowsAny<ArgumentException>(() => x.Median(2)).Message);
    }
}
