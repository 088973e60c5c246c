using FunctionalDiff.Compare.Fuzz;
using FunctionalDiff.Compare.Suite;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges21 settled: `all adversarial 60/260`, eigvalsh of a graded matrix, whose small eigenvalues lie far
/// below a symmetric eigensolver's rounding ε·‖A‖: ours lost one to that rounding (fixed in the kernel, EdgeTwentyOneTests),
/// and torch loses others (LAPACK's contract), so the generator draws eigvalsh only where its eigenvalues and gaps stand
/// above that rounding. Torch's numbers and ours against closed forms, and the programs.
/// </summary>
public class FuzzSeeds72To76Tests
{
    static FuzzProgram EigvalsH(string name, double[] matrix, bool exp) => exp
        ? Program(name, new[] { new[] { 3, 3 } }, new[] { matrix },
            new Step(OpKind.EigvalsH, new[] { 0 }, Array.Empty<int>()), new Step(OpKind.Exp, new[] { 1 }, Array.Empty<int>()))
        : Program(name, new[] { new[] { 3, 3 } }, new[] { matrix }, new Step(OpKind.EigvalsH, new[] { 0 }, Array.Empty<int>()));

    [Fact]
    public void AllAdversarial60_260_EigvalsHOfAGradedMatrix_OursKeepsTheSmallGap_TorchLosesEigenvaluesBelowItsRounding()
    {
        // the first shrunk form: [[0, 0, b], [0, 0, 0], [b, 0, d]] (lower triangle) with b = −621, d = −2e30, whose
        // eigenvalues are d's root (d − √(d² + 4b²))/2, 0 and −b²/that = 1.93e-25; the second order divides by the gap
        // 1.93e-25, about ±2.5e24 in the entries it couples. Torch (LAPACK) keeps it; ours returned 0 for it, and NaN
        // for every second derivative, until the kernel's rotations kept it. The program passes, with no convention
        double b = -621, d = -2e30;
        double large = (d - Math.Sqrt(d * d + 4 * b * b)) / 2, small = -(b * b) / large;
        var first = new[] { 0.0, 0, 0, 0, 0, 0, b, 0, d };
        var ours = ((Expr)Tensor.FromArray(first, 3, 3)).EigvalsH().Eval().ToDoubleArray();
        var torchs = Values(torch.linalg.eigvalsh(torch.tensor(first, dtype: torch.ScalarType.Float64).reshape(3, 3)));
        foreach (var (w, who) in new[] { (ours, "ours"), (torchs, "torch's") })
        {
            Assert.Equal(1.0, w[0] / large, 1e-14);
            Assert.Equal(0.0, w[1]);
            Assert.True(Math.Abs(w[2] / small - 1) < 1e-12, $"{who} small eigenvalue {w[2]:R}, exact {small:R}");
        }
        var strict = CaseRunner.Run(EigvalsH("fuzz all adversarial 60/260 shrunk", first, exp: false).ToCase(), DType.Float64);
        Assert.All(strict, r => Assert.True(r.Passed, r.Check));

        // with the kernel fixed, the shrinker found the second form: exp of the eigenvalues of [[0, p, r], [p, 0, q],
        // [r, q, d]] with p = −1.7, r = −621, q = −1e20. Besides d's root, the eigenvalues are those of the Schur complement
        // [[0, p], [p, 0]] − [r, q]ᵀ[r, q]/(d − λ), where d − λ = d to 1e-20 relative: [[−r²/d, p − rq/d], [·, −q²/d]],
        // whose eigenvalues are −q²/d = 5e9 (to 1e-19) and −(p − rq/d)²/(5e9) = −5.8e-10 (its diagonal 1.9e-25 is noise
        // beside these). exp of them: [0, 1, ∞]. Ours are these; torch's lie near the norm's rounding, ε·2e30 = 4.4e14
        double p = -1.7, r = -621, q = -1e20;
        var second = new[] { 0.0, 0, 0, p, 0, 0, r, q, d };
        double top = -(q * q) / d, coupling = p - r * q / d, middle = -(coupling * coupling) / top;
        ours = ((Expr)Tensor.FromArray(second, 3, 3)).EigvalsH().Eval().ToDoubleArray();
        var secondTensor = torch.tensor(second, dtype: torch.ScalarType.Float64).reshape(3, 3);
        Assert.Equal(1.0, ours[0] / d, 1e-14);
        Assert.True(Math.Abs(ours[1] / middle - 1) < 1e-9, $"our middle eigenvalue {ours[1]:R}, exact {middle:R}");
        Assert.True(Math.Abs(ours[2] / top - 1) < 1e-9, $"our top eigenvalue {ours[2]:R}, exact {top:R}");
        // torch's, from LAPACK's eigenvalues alone and from its eigenvectors' path (the one a program with derivatives takes:
        // eigh), lie within its contract, a few times ε·‖A‖ = 4.4e14, and have no digit of the exact ones
        double rounding = Math.ScaleB(1.0, -52) * Math.Abs(d);
        foreach (var (w, path) in new[]
            {
                (Values(torch.linalg.eigvalsh(secondTensor)), "eigvalsh"),
                (Values(torch.linalg.eigh(secondTensor).Item1), "eigh"),
            })
            for (int i = 1; i < 3; i++)
            {
                double exact = i == 1 ? middle : top;
                Assert.True(Math.Abs(w[i] - exact) < 8 * rounding, $"torch's {path} eigenvalue {i}: {w[i]:R} beside {exact:R}");
                Assert.True(Math.Abs(w[i] - exact) > 0.9 * Math.Abs(exact), $"torch's {path} eigenvalue {i}: {w[i]:R}, exact {exact:R}");
            }
        // so the strict checks of exp(eigvalsh(A)) fail, ours being exp of the exact eigenvalues
        var exp = EigvalsH("fuzz all adversarial 60/260 shrunk again", second, exp: true);
        var ourExp = ((Expr)Tensor.FromArray(second, 3, 3)).EigvalsH().Exp().Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, Math.Exp(middle), double.PositiveInfinity }, ourExp);
        Assert.Contains(CaseRunner.Run(exp.ToCase(), DType.Float64), r => r.Check == nameof(Check.Value) && !r.Passed);

        // both eigenvalues lie below 1e7·ε·‖A‖, where the generator no longer draws eigvalsh: the program as drawn now
        // takes no eigvalsh of that matrix, and passes
        Assert.True(Math.Abs(top) < 1e7 * rounding && Math.Abs(middle) < 1e7 * rounding);
        Passes(FuzzCommand.Programs(1, 60, 260, adversarial: true, ops: OpSurface.All)[0]);
    }

    static torch.Tensor Float64(double[] values, params long[] shape) =>
        torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    /// <summary>torch's Hessian-vector product of the one-element f at x along v, by double backward.</summary>
    static double[] TorchHvp(Func<torch.Tensor, torch.Tensor> f, double[] x, double[] v)
    {
        var at = Float64(x, x.Length).requires_grad_(true);
        var gradient = torch.autograd.grad(new[] { f(at) }, new[] { at }, retain_graph: true, create_graph: true)[0];
        return Values(torch.autograd.grad(new[] { (gradient * Float64(v, v.Length)).sum() }, new[] { at })[0]);
    }

    [Fact]
    public void Adversarial55_33_LayerNormOfAGroupFarFromZero_TorchsFusedDerivativesAreUncentred_TheReferenceCentres()
    {
        // Σ u·cos((layer_norm(x) − x)²) at x = [−1e20, −1e20], ε = 1e-3: the normalised group is 0, so the inner value is
        // −x = 1e20 and its square 1e40 (exactly rounded alike in every engine); the norm's Jacobian there is
        // J = (I − 11ᵀ/2)/√ε, its second derivative 0 (the variance's slope is 0 at a constant group). So the Hessian is
        // Σᵢ uᵢ(−cos(1e40)·(2·1e20)² − 2·sin(1e40))·(J − I)ᵢₖ(J − I)ᵢₗ
        double[] x = { -1e20, -1e20 }, u = { -1.03321, -0.727009 }, v = { 0.300264, -0.0906822 };
        const double epsilon = 1e-3;
        double cos = Math.Cos(1e40), sin = Math.Sin(1e40);
        Assert.Equal(-0.76267273202437916, cos, 1e-14); // 50-digit arithmetic (mpmath): the libm reduces 1e40 exactly
        double r = 1 / Math.Sqrt(epsilon);
        double J(int i, int k) => r * ((i == k ? 1 : 0) - 0.5) - (i == k ? 1 : 0);
        var exact = new double[2];
        for (int k = 0; k < 2; k++)
            for (int l = 0; l < 2; l++)
                for (int i = 0; i < 2; i++)
                    exact[k] += u[i] * (-cos * 4e40 - 2 * sin) * J(i, k) * J(i, l) * v[l];
        // ours, and the centred composite with torch's ops (the reference now), are the closed form; torch's fused layer
        // norm, which works with x·r − m·r, loses ε·|m|·r = 7e5 relative: [1.85e41, −1.35e41] against [−4.88e42, 4.93e42]
        var uTensor = Float64(u, 2);
        var ours = Diff.Hvp(e => ((Expr)Tensor.FromArray(u, 2) * (e.LayerNorm(epsilon) - e).Square().Cos()).Sum(),
            Tensor.FromArray(x, 2), Tensor.FromArray(v, 2)).Eval().ToDoubleArray();
        var fused = TorchHvp(t => (uTensor * (torch.nn.functional.layer_norm(t, new long[] { 2 }, eps: epsilon) - t).square().cos()).sum(), x, v);
        var centred = TorchHvp(t =>
        {
            var deviation = t - t.mean();
            var normalised = deviation / (deviation.square().mean() + epsilon).sqrt();
            return (uTensor * (normalised - t).square().cos()).sum();
        }, x, v);
        for (int k = 0; k < 2; k++)
        {
            Assert.True(Math.Abs(ours[k] / exact[k] - 1) < 1e-12, $"ours {ours[k]:R}, exact {exact[k]:R}");
            Assert.True(Math.Abs(centred[k] / exact[k] - 1) < 1e-12, $"the centred composite {centred[k]:R}, exact {exact[k]:R}");
            Assert.True(Math.Abs(fused[k] / exact[k] - 1) > 0.5, $"torch's fused {fused[k]:R}, exact {exact[k]:R}");
        }
        Passes(FuzzCommand.Programs(1, 55, 33, adversarial: true)[0]);
    }

    [Fact]
    public void Adversarial55_87_Atan2WhereTheSquaresOverflow_TorchsSlopesMeetOneOverInfinity_NamedTorchNaNEdge()
    {
        // Σ u·linear(atan2(x₂, x₀), W, b) with x₀ = 0.00465 broadcast against x₂, which holds 1e160 twice, and W holding
        // 1e160: the gradient in x₀ is Σ g·(−y/(x₀² + y²)) with g = Wᵀu per entry, where y² overflows at y = 1e160 but the
        // slope −1/(y + x₀²/y) is −1e-160. Torch's rule multiplies g by y first (1e320 = ∞) and then by 1/(x₀² + y²) = 0
        double x0 = 0.004654140379557191;
        double[] w = { 0.8653139703017547, 1e160, 0.8653139703017547, 1.5636242352630356, 0.8653139703017547, 0.7963574662111167,
            0.8653139703017547, 0.3375303196301526, 0.3375303196301526, 710.0, 1.5636242352630356, 1e160 };
        double[] x2 = { 0.8653139703017547, 1e160, 0.8653139703017547, 1.5636242352630356, 0.3375303196301526, 710.0, 1.5636242352630356, 1e160 };
        double[] bias = { 9, 9, 9 }, u = { -2.08163, 0.773364, -0.519442, -0.0116621, 0.489773, 0.136405 };
        double exact = 0;
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 4; k++)
            {
                double g = 0;
                for (int j = 0; j < 3; j++) g += u[b * 3 + j] * w[j * 4 + k];
                double y = x2[b * 4 + k];
                exact += g * (-1 / (y + x0 * (x0 / y)));
            }
        Assert.Equal(3.322173381e159, exact, 1e150); // and 60-digit arithmetic (mpmath) gives 3.322173381e159
        var ours = Diff.Grad(e => ((Expr)Tensor.FromArray(u, 2, 1, 3)
            * Nn.Linear(Expr.Atan2(Tensor.FromArray(x2, 2, 1, 4), e), Tensor.FromArray(w, 3, 4), Tensor.FromArray(bias, 3))).Sum())(
            Tensor.FromArray(new[] { x0 }, Array.Empty<int>())).Eval().ToDoubleArray();
        Assert.True(Math.Abs(ours[0] / exact - 1) < 1e-12, $"ours {ours[0]:R}, exact {exact:R}");
        var at = torch.tensor(x0, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var output = torch.nn.functional.linear(torch.atan2(Float64(x2, 2, 1, 4), at), Float64(w, 3, 4), Float64(bias, 3));
        var torchs = Values(torch.autograd.grad(new[] { (output * Float64(u, 2, 1, 3)).sum() }, new[] { at })[0]);
        Assert.True(double.IsNaN(torchs[0]), $"torch's {torchs[0]:R}");
        Passes(FuzzCommand.Programs(1, 55, 87, adversarial: true)[0]);
    }

    [Fact]
    public void AllAdversarial67_232_CeluAtMinus5em324_CurvatureIsOneOverAlpha_OursWasZero()
    {
        // celu(x, α) = α·(e^(x/α) − 1) below 0: curvature e^(x/α)/α, 0.5 at x = −5e-324 with α = 2, where x/α rounds to −0
        // and ours took the branch at 0 (curvature 0, torch's there); torch's kernel chooses the branch by x (fixed in
        // Activations.celu, EdgeTwentyOneTests)
        double[] x = { -5e-324, 0.0 }, u = { 0.96757, 1.10491 }, v = { -0.211383, -0.0568494 };
        double[] exact = { u[0] * 0.5 * v[0], 0.0 };
        var ours = Diff.Hvp(e => ((Expr)Tensor.FromArray(u, 2) * e.Celu(2.0)).Sum(), Tensor.FromArray(x, 2), Tensor.FromArray(v, 2))
            .Eval().ToDoubleArray();
        var torchs = TorchHvp(t => (Float64(u, 2) * torch.nn.functional.celu(t, 2.0)).sum(), x, v);
        for (int i = 0; i < 2; i++)
        {
            Assert.Equal(exact[i], ours[i], 1e-15);
            Assert.Equal(exact[i], torchs[i], 1e-15);
        }
        Passes(FuzzCommand.Programs(1, 67, 232, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial68_10_AddcdivOverAnEmptyBroadcast_GradientIsZero_OursWasNaN()
    {
        // addcdiv(t, a, b, 0.5) with t of shape [0, 3], a = NaN, b of shape [4, 1, 1]: no outputs, so the gradient is the
        // zero map; torch's fused rule gives 0, and ours now does (Elementary.addcdiv broadcasts a and b first there)
        var t = Float64(Array.Empty<double>(), 0, 3);
        var b = Float64(new[] { -0.36, -0.36, -0.36, -0.36 }, 4, 1, 1).requires_grad_(true);
        var torchs = Values(torch.autograd.grad(new[] { t.addcdiv(Float64(new[] { double.NaN }), b, 0.5).sum() }, new[] { b })[0]);
        Assert.Equal(new double[4], torchs);
        var ours = Diff.Grad(e => ((Expr)Tensor.FromArray(Array.Empty<double>(), 0, 3)).AddCDiv(Tensor.FromArray(new[] { double.NaN }), e, 0.5).Sum())(
            Tensor.FromArray(new[] { -0.36, -0.36, -0.36, -0.36 }, 4, 1, 1)).Eval().ToDoubleArray();
        Assert.Equal(new double[4], ours);
        Passes(FuzzCommand.Programs(1, 68, 10, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void AllAdversarial68_107_KlDivWithALogTargetWhoseExponentialOverflows_TorchNaN_NamedTorchNaNEdge()
    {
        // kl_div(x, x + c, log_target) = mean(e^(x + c)·c) at x = [0, 0], c = [0, 1e10]: its second order along v under u is
        // u·v·e^(x + c)·c/2 per entry, 0 and +∞; torch's double backward multiplies e^t = ∞ by the zero difference of the
        // slopes of t and x, NaN
        double[] x = { 0, 0 }, c = { 0, 1e10 }, v = { 1.0098, 0.216943 };
        const double u = 0.0835244;
        var torchs = TorchHvp(at => u * torch.nn.functional.kl_div(at, at + Float64(c, 2), log_target: true, reduction: torch.nn.Reduction.Mean), x, v);
        Assert.Equal(0.0, torchs[0]);
        Assert.True(double.IsNaN(torchs[1]), $"torch's {torchs[1]:R}");
        // ours, in the program as the fuzzer checks it (through index_add), is the closed form [0, +∞]
        Passes(FuzzCommand.Programs(1, 68, 107, adversarial: true, ops: OpSurface.All)[0]);
    }
}
