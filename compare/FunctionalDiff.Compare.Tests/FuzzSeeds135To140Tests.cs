using System.Numerics;
using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// The open findings of seeds 115 to 134 settled on branch fuzz28, and what seeds 135 to 140 found, each with torch's numbers
/// and ours against closed forms, and the program passing the fuzzer as named.
/// </summary>
public class FuzzSeeds135To140Tests
{
    [Fact]
    public void Adversarial129_215_SiluOfAProdThroughSqrtAtZeros_OursIsTheLimit_TorchsNaN_Named()
    {
        // f = u·silu(p), p = Π erfc(√xⱼ) over x = [0, 0, c, 0]: p = erfc(√c) = 0.778. With aⱼ = (log erfc(√x))′ at xⱼ (−∞ at
        // the zeros, negative at c), H₂ⱼ = u·p·a₂·aⱼ·(silu″(p)·p + silu′(p)) for j ≠ 2, where u < 0, a₂ < 0 and the bracket
        // is positive: −∞ at every zero. Along v, positive at every zero, the HVP's entry 2 is Σⱼ H₂ⱼvⱼ + H₂₂v₂ = −∞ (its
        // entries at the zeros are NaN in both engines: erfc's zero curvature at 0 meets √'s infinite slope)
        double c = 0.03979011333948487, u = -0.375763;
        var v = new[] { 0.462708, 0.424069, -0.55987, 2.11214 };
        var x = torch.tensor(new[] { 0, 0, c, 0 }, dtype: torch.ScalarType.Float64).requires_grad_(true);
        Func<torch.Tensor, torch.Tensor> body = p => torch.nn.functional.silu(p) * u;
        var torchHv = TorchHvp(x, v, body);
        Assert.True(double.IsNaN(torchHv[2]), "torch's HVP at the nonzero entry");
        var withoutSilu = TorchHvp(torch.tensor(new[] { 0, 0, c, 0 }, dtype: torch.ScalarType.Float64).requires_grad_(true), v, p => p * u);
        Assert.Equal(double.NegativeInfinity, withoutSilu[2]); // the same chain without silu: torch's −∞

        var ours = Diff.Hvp(z => z.Sqrt().Erfc().Prod(-1).Silu() * u, Tensor.FromArray(new[] { 0, 0, c, 0 }, 4), Tensor.FromArray(v, 4))
            .Eval().ToDoubleArray();
        Assert.Equal(double.NegativeInfinity, ours[2]);

        Passes(FuzzCommand.Programs(1, 129, 215, adversarial: true)[0]);
    }

    static double[] TorchHvp(torch.Tensor x, double[] v, Func<torch.Tensor, torch.Tensor> body)
    {
        var y = body(torch.special.erfc(x.sqrt()).prod());
        var g = torch.autograd.grad(new[] { y }, new[] { x }, retain_graph: true, create_graph: true)[0];
        return Values(torch.autograd.grad(new[] { (g * torch.tensor(v)).sum() }, new[] { x })[0]);
    }

    [Fact]
    public void All133_21_LogitWithEpsOutsideItsBoundsUnderAnInfiniteWeight_HessianRowIsZero_TorchsNaN_Named()
    {
        // logit(x, 0.25) is logit(clamp(x, 0.25, 0.75)): flat at x₀ = 0.895, so its row and column of the Hessian of
        // Σ u·(logit(x) @ W) are 0 whatever W holds (−∞ included)
        var x = new[] { 0.8951581f, 0.70795274f, 0.8951581f };
        var w = new[] { float.NegativeInfinity, float.NegativeInfinity, -1.503338f, -10000f, -0.6798187f, -1e20f };
        var u = new[] { 0.250319f, -1.09379f };
        var tx = torch.tensor(x).reshape(1, 3).requires_grad_(true);
        var y = (tx.logit(0.25).matmul(torch.tensor(w).reshape(3, 2)) * torch.tensor(u)).sum();
        var g = torch.autograd.grad(new[] { y }, new[] { tx }, retain_graph: true, create_graph: true)[0];
        var row0 = torch.autograd.grad(new[] { g[0, 0] }, new[] { tx }, retain_graph: true)[0].data<float>().ToArray();
        Assert.Contains(row0, float.IsNaN);

        var h = Diff.Hessian(z => (z.Logit(0.25).MatMul(Tensor.FromArray(w, 3, 2)) * Tensor.FromArray(u, 2)).Sum())(Tensor.FromArray(x, 1, 3))
            .Eval().ToSingleArray();
        for (int k = 0; k < 3; k++)
        {
            Assert.Equal(0f, Math.Abs(h[k])); // row of x₀
            Assert.Equal(0f, Math.Abs(h[3 * k])); // column of x₀
        }

        Passes(FuzzCommand.Programs(1, 133, 21, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void All134_243_SquareOfAnMseThatOverflows_HvpIsTheExactOverflowedSigns_TorchsNaN_Named()
    {
        // f = m², m = mean((x₁ − x₀)²) over 8 entries: HVP = 2∇m(∇m·v) + 2m∇²m·v. With D = 10(x₁ − x₀) and V = 100v (integers),
        // the x₀ entries are Nᵢ/160000 with Nᵢ = ΣD²·(Vᵢ − Vᵢ₊₈) − 2Dᵢ·Σⱼ Dⱼ(Vⱼ₊₈ − Vⱼ), and the x₁ entries their negatives:
        // exact integer arithmetic below, every one beyond double's range, so the rounded HVP is ±∞ with these signs
        var x0 = new[] { 0, 0, 0, 0, 0, 0, 0, 1e160 };
        var x1 = new[] { 0.7, -709, -88, -1e30, -1e30, -709, -10000, 0 };
        var d = new[] { new BigInteger(7), -7090, -880, -BigInteger.Pow(10, 31), -BigInteger.Pow(10, 31), -7090, -100000, -BigInteger.Pow(10, 161) };
        var vv = new[] { -9, 87, -56, 73, -48, -170, -60, -6, 172, 1, -33, -146, 50, -25, 30, 90 };
        BigInteger sumSquares = d.Aggregate(BigInteger.Zero, (acc, t) => acc + t * t), crossed = BigInteger.Zero;
        for (int j = 0; j < 8; j++) crossed += d[j] * (vv[j + 8] - vv[j]);
        var limit = new BigInteger(double.MaxValue) * 160000;
        var expected = new double[16];
        for (int i = 0; i < 8; i++)
        {
            var n = sumSquares * (vv[i] - vv[i + 8]) - 2 * d[i] * crossed;
            Assert.True(BigInteger.Abs(n) > limit);
            expected[i] = n.Sign > 0 ? double.PositiveInfinity : double.NegativeInfinity;
            expected[i + 8] = -expected[i];
        }
        var v = vv.Select(t => t / 100.0).ToArray();

        var t0 = torch.tensor(x0, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var t1 = torch.tensor(x1, dtype: torch.ScalarType.Float64).requires_grad_(true);
        var y = torch.nn.functional.mse_loss(t1, t0).square();
        var g = torch.autograd.grad(new[] { y }, new[] { t0, t1 }, retain_graph: true, create_graph: true);
        var dot = (g[0] * torch.tensor(v[..8])).sum() + (g[1] * torch.tensor(v[8..])).sum();
        var h = torch.autograd.grad(new[] { dot }, new[] { t0, t1 });
        Assert.Contains(Values(h[0]).Concat(Values(h[1])), double.IsNaN);

        var ours = Diff.Hvp(xs => Loss.Mse(xs[1], xs[0]).Square(), new Expr[] { Tensor.FromArray(x0, 8), Tensor.FromArray(x1, 8) },
            new Expr[] { Tensor.FromArray(v[..8], 8), Tensor.FromArray(v[8..], 8) });
        Assert.Equal(expected, ours[0].Eval().ToDoubleArray().Concat(ours[1].Eval().ToDoubleArray()).ToArray());

        Passes(FuzzCommand.Programs(1, 134, 243, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Wide133_19_SolveOfAnInfiniteRightSideBesideANaNSystem_ReferencePerSystem_FixedInTheReference()
    {
        // A = 4·I + 0.6865874·(J), J all ones (diagonal 4.6865873): A⁻¹ = (I − c/(4 + 3c)·J)/4 with c = 0.6865874, whose
        // off-diagonal entries are negative and diagonal positive, so A⁻¹·[−0.158, +∞, 100] = [−∞, +∞, −∞]; torch's LU
        // back substitution gives NaN in the first; a NaN in another system's matrix of the batch had turned the reference
        // back to torch's solve for every system
        float big = 4.6865873f, c = 0.6865874f;
        var a = new[] { big, c, c, c, big, c, c, c, big };
        var b = new[] { -0.15830982f, float.PositiveInfinity, 100f };
        double cd = c, inverseOffDiagonal = -cd / (4 + 3 * cd) / 4, inverseDiagonal = (1 - cd / (4 + 3 * cd)) / 4;
        Assert.True(inverseOffDiagonal < 0 && inverseDiagonal > 0);
        var expected = new[] { float.NegativeInfinity, float.PositiveInfinity, float.NegativeInfinity };
        var torchX = torch.linalg.solve(torch.tensor(a).reshape(3, 3), torch.tensor(b).reshape(3, 1)).data<float>().ToArray();
        Assert.Contains(torchX, float.IsNaN);
        Assert.Equal(expected, ((Expr)Tensor.FromArray(a, 3, 3)).Solve(Tensor.FromArray(b, 3, 1)).Eval().ToSingleArray());

        Passes(FuzzCommand.Programs(1, 133, 19, adversarial: true, ops: OpSurface.Wide)[0]);
    }

    [Fact]
    public void All135_68_ASliceThatDropsANaNEntry_GradientIsZero_TorchsNaN_Named()
    {
        // Σ gelu_tanh(x)[−2:−1] over axis 0 of a [1, 2] tensor is an empty sum, the constant 0: its gradient is [0, 0]; torch's
        // slice rule pads the cotangent with zeros, and gelu_tanh's slope at NaN makes the padded 0 NaN
        var x = torch.tensor(new[] { double.NaN, 0.0 }, dtype: torch.ScalarType.Float64).reshape(1, 2).requires_grad_(true);
        var y = (0.5 * x * (1.0 + (Math.Sqrt(2.0 / Math.PI) * (x + 0.044715 * x.pow(3))).tanh())).slice(0, 0, 0, 1).sum();
        var g = Values(torch.autograd.grad(new[] { y }, new[] { x })[0]);
        Assert.True(double.IsNaN(g[0]), "torch's gradient at the dropped NaN");

        var ours = Diff.Grad(e => e.GeluTanh().Slice(0, -2, -1).Sum())(Tensor.FromArray(new[] { double.NaN, 0.0 }, 1, 2)).Eval().ToDoubleArray();
        Assert.Equal(new[] { 0.0, 0.0 }, ours);

        Passes(FuzzCommand.Programs(1, 135, 68, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void All135_70_AMatmulOverAnEmptyAxisBeforeAnInfiniteWeight_JvpIsTheBiasTangent_TorchsNaN_Named()
    {
        // conv2d(x₀ @ x₁, W, b) with x₀ of shape [3, 0]: x₀ @ x₁ is the constant 0 of shape [3, 3], so the output is W·0 + b
        // and its JVP along b's tangent t is t, whatever W holds (+∞ included); torch's forward mode meets ∞ with a tangent
        // of zeros for the product, NaN in the fuzzer's run
        var w = new[] { 0.37414676f, 0.37414676f, 1000f, -0.70598423f, -0.07865107f, float.PositiveInfinity, -1000f, -0.07865107f, -1.2426172f };
        float bias = 0.6550128f, t = 0.179445f;
        Expr F(Expr[] x) => Nn.Conv2d(x[0].MatMul(x[1]).Unsqueeze(0), Tensor.FromArray(w, 1, 1, 3, 3), x[2]);
        var primals = new Expr[] { Tensor.FromArray(Array.Empty<float>(), 3, 0), Tensor.FromArray(Array.Empty<float>(), 0, 3), Tensor.FromArray(new[] { bias }, 1) };
        var tangents = new Expr[] { Tensor.FromArray(Array.Empty<float>(), 3, 0), Tensor.FromArray(Array.Empty<float>(), 0, 3), Tensor.FromArray(new[] { t }, 1) };
        var (_, jvp) = Diff.Jvp(F, primals, tangents);
        Assert.Equal(new[] { t }, jvp.Eval().ToSingleArray());

        Passes(FuzzCommand.Programs(1, 135, 70, adversarial: true, ops: OpSurface.All)[0]);
    }
}
