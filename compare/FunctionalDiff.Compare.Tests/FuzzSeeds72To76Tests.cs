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
}
