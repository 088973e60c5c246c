using FunctionalDiff.Compare.Fuzz;
using TorchSharp;
using Xunit;
using static FunctionalDiff.Compare.Tests.FuzzTestSupport;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// What branch edges17 settled among the open findings of `fuzz --ops all --inputs adversarial` seeds 54 to 56: solve against
/// a right-hand side holding ±∞ and xlogy's slope at x = 0, y = +∞ (ours, fixed); normalize of a zero slice under cancelling
/// cotangents, addcdiv by an infinite divisor, and clamp or where masking entries computed through an infinite slope (torch's,
/// named); and from seed 57, causal attention over a NaN in a masked key and value (neither engine's, named). Torch's
/// numbers and ours against the closed form, and the programs.
/// </summary>
public class FuzzSeeds52To56Tests
{
    static torch.Tensor T(double[] values, params long[] shape) => torch.tensor(values, dtype: torch.ScalarType.Float64).reshape(shape);

    /// <summary>A⁻¹ by Gauss-Jordan elimination with partial pivoting, a plain reference loop.</summary>
    static double[,] Inverse(double[,] a)
    {
        int n = a.GetLength(0);
        var m = new double[n, 2 * n];
        for (int i = 0; i < n; i++)
        {
            for (int j = 0; j < n; j++) m[i, j] = a[i, j];
            m[i, n + i] = 1.0;
        }
        for (int c = 0; c < n; c++)
        {
            int best = c;
            for (int r = c + 1; r < n; r++) if (Math.Abs(m[r, c]) > Math.Abs(m[best, c])) best = r;
            for (int j = 0; j < 2 * n; j++) (m[c, j], m[best, j]) = (m[best, j], m[c, j]);
            double pivot = m[c, c];
            for (int j = 0; j < 2 * n; j++) m[c, j] /= pivot;
            for (int r = 0; r < n; r++)
            {
                if (r == c) continue;
                double factor = m[r, c];
                for (int j = 0; j < 2 * n; j++) m[r, j] -= factor * m[c, j];
            }
        }
        var inverse = new double[n, n];
        for (int i = 0; i < n; i++) for (int j = 0; j < n; j++) inverse[i, j] = m[i, n + j];
        return inverse;
    }

    [Fact]
    public void Solve_AgainstAnInfiniteRightHandSide_IsAInverseB_InEveryUnknown()
    {
        // the shrunk `all adversarial 55/168`: a dense A, columns of B holding one −∞ or +∞ each (row 3) and one holding four
        // infinities of both signs; the closed form x = Σₖ A⁻¹[i, k]·b[k] is sign(A⁻¹[i, 3])·b[3] in the first three columns
        double[] a = { 5.02337, 1, -1, -1, 1, 6, -1, -1, -1, -1, 6, 1, -1, -1, 1, 6 };
        double inf = double.PositiveInfinity;
        double[] b = { 0.023374282, 1528.865, -13.454012, -inf, 1528.865, 1e8, -880000, -inf, -13.454012, -880000, 7744, inf, -inf, -inf, inf, inf };
        var matrix = new double[4, 4];
        for (int i = 0; i < 16; i++) matrix[i / 4, i % 4] = a[i];
        var inverse = Inverse(matrix);
        var closed = new double[16];
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 4; c++)
            {
                double sum = 0;
                for (int k = 0; k < 4; k++) if (inverse[i, k] != 0) sum += inverse[i, k] * b[k * 4 + c];
                closed[i * 4 + c] = sum;
            }
        for (int i = 0; i < 4; i++)
            for (int c = 0; c < 3; c++)
                Assert.Equal(Math.Sign(inverse[i, 3]) * b[12 + c], closed[i * 4 + c]);
        // torch's LU substitutions meet the infinite unknowns again: NaN in unknowns whose closed form is ±∞
        var torchs = Values(torch.linalg.solve(T(a, 4, 4), T(b, 4, 4)));
        Assert.Contains(Enumerable.Range(0, 16), k => double.IsNaN(torchs[k]) && double.IsInfinity(closed[k]));
        var ours = ((Expr)Tensor.FromArray(a, 4, 4)).Solve(Tensor.FromArray(b, 4, 4)).Eval().ToDoubleArray();
        for (int k = 0; k < 16; k++)
            Assert.True(double.IsFinite(closed[k]) ? Math.Abs(ours[k] - closed[k]) <= 1e-12 * Math.Abs(closed[k]) : ours[k].Equals(closed[k]),
                $"entry {k}: ours {ours[k]:R}, closed form {closed[k]:R}");
        Passes(FuzzCommand.Programs(1, 55, 168, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Xlogy_AtXZero_HasTheSlopeLogY_PlusInfinityAtYInfinite_AsTorch()
    {
        // xlogy(x, +∞) is +∞·sign x and 0 at x = 0, so the difference quotient in x at 0 is +∞ from both sides: log ∞
        var x = T(new[] { 0.0, 0.0 }, 2).requires_grad_(true);
        var y = T(new[] { double.PositiveInfinity, 3.0 }, 2);
        var torchs = Values(torch.autograd.grad(new[] { torch.xlogy(x, y).sum() }, new[] { x })[0]);
        Assert.Equal(new[] { double.PositiveInfinity, Math.Log(3.0) }, torchs);
        Expr ys = Tensor.FromArray(new[] { double.PositiveInfinity, 3.0 }, 2);
        var ours = Diff.Grad(v => Expr.Xlogy(v, ys).Sum())(Tensor.FromArray(new[] { 0.0, 0.0 }, 2)).Eval().ToDoubleArray();
        Assert.Equal(double.PositiveInfinity, ours[0]);
        Assert.Equal(Math.Log(3.0), ours[1], 15);
        Passes(FuzzCommand.Programs(1, 55, 154, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void Normalize_OfAZeroSlice_UnderCancellingCotangents_TorchKeepsTheirRounding()
    {
        // the shrunk `all adversarial 55/290`: x₁·x₀ + Σ normalize(gather(x₀ − x₀)) over a zero slice, at x₀ = [[−c, NaN]],
        // [[−c, −c]] (2×1×2), x₁ = x₀ read as 2×2×1. x₀ − x₀ is constant where x₀ is finite, so the gradient at x₀[1, 0, 0]
        // is the matmul's alone, −c·(u₄ + u₆); normalize's slope 1/ε = 1e12 makes the two cancelling cotangents 1e13 in size
        double c = 0.9654599266664986;
        double[] values = { -c, double.NaN, -c, -c };
        double[] u = { 0.176396, -0.472831, -1.76121, -0.17421, 0.300172, 0.0240977, -1.38353, 0.0907216 };
        double closed = -c * (u[4] + u[6]);
        var x0 = T(values, 4).requires_grad_(true);
        var x1 = T(values, 4).requires_grad_(true);
        var v0 = x0.reshape(2, 1, 2) - x0.reshape(2, 1, 2);
        var v2 = torch.nn.functional.normalize(v0.gather(1, torch.zeros(new long[] { 2, 4, 2 }, dtype: torch.ScalarType.Int64)), 2.0, 0);
        var output = x1.reshape(2, 2, 1).matmul(x0.reshape(2, 1, 2)) + v2.sum();
        var torchs = Values(torch.autograd.grad(new[] { (output * T(u, 2, 2, 2)).sum() }, new[] { x0 })[0]);
        Assert.True(Math.Abs(torchs[2] - closed) > 1e-4 * Math.Abs(closed), $"torch's {torchs[2]:R}, closed form {closed:R}");
        var ours = Diff.Grad(v =>
        {
            var w = v.Reshape(2, 1, 2);
            var zeros = Tensor.FromArray(new double[16], 2, 4, 2);
            var sum = Nn.Normalize((w - w).Gather(1, zeros), p: 2.0, axis: 0).Sum();
            return ((((Expr)Tensor.FromArray(values, 2, 2, 1)).MatMul(w) + sum) * Tensor.FromArray(u, 2, 2, 2)).Sum();
        })(Tensor.FromArray(values, 4)).Eval().ToDoubleArray();
        Assert.Equal(closed, ours[2], 12);
        var program = FuzzCommand.Programs(1, 55, 290, adversarial: true, ops: OpSurface.All)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.StartsWith("Normalize of a zero slice", StringComparison.Ordinal));
        Passes(program);
    }

    [Fact]
    public void AddCDiv_ByAnInfiniteDivisor_HasSecondDerivativesZero_TorchsAreNaN()
    {
        // f = s + c·a/b at b = +∞, a finite: ∂²f/∂b² = 2c·a/b³ = 0 and ∂²f/∂a∂b = −c/b² = 0
        var b = T(new[] { double.PositiveInfinity }, 1).requires_grad_(true);
        var a = T(new[] { -0.33551154 }, 1);
        var s = T(new[] { -0.28167143 }, 1);
        var first = torch.autograd.grad(new[] { s.addcdiv(a, b, -2.0).sum() }, new[] { b }, retain_graph: true, create_graph: true)[0];
        var torchs = Values(torch.autograd.grad(new[] { first.sum() }, new[] { b })[0]);
        Assert.True(double.IsNaN(torchs[0]), $"torch's second derivative {torchs[0]:R}");
        Expr ss = Tensor.FromArray(new[] { -0.28167143 }, 1), aa = Tensor.FromArray(new[] { -0.33551154 }, 1);
        var ours = Diff.Hessian(v => ss.AddCDiv(aa, v, -2.0).Sum())(Tensor.FromArray(new[] { double.PositiveInfinity }, 1)).Eval().ToDoubleArray();
        Assert.Equal(0.0, ours[0]);
        Passes(FuzzCommand.Programs(1, 54, 54, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void WhereAndClamp_MaskingEntriesBehindAnInfiniteSlope_HaveSecondDerivativesZero_TorchsAreNaN()
    {
        // where(1, c, x²) does not depend on x: every derivative in x is 0; at x = +∞ torch's where hands x² a tensor of zeros
        // whose second order meets 2x = ∞ as NaN
        var x = T(new[] { -1000.0, double.PositiveInfinity }, 2).requires_grad_(true);
        var chosen = torch.where(torch.tensor(new[] { true }), T(new[] { -0.7471924 }, 1), x.square());
        var first = torch.autograd.grad(new[] { chosen.tanh().sum() }, new[] { x }, retain_graph: true, create_graph: true)[0];
        var torchs = Values(torch.autograd.grad(new[] { first.sum() }, new[] { x })[0]);
        Assert.True(double.IsNaN(torchs[1]), $"torch's second derivative at +∞: {torchs[1]:R}");
        Expr constant = Tensor.FromArray(new[] { -0.7471924 }, 1), condition = Tensor.FromArray(new[] { 1.0 }, 1);
        var ours = Diff.Hessian(v => Expr.Where(condition, constant, v.Square()).Tanh().Sum())(Tensor.FromArray(new[] { -1000.0, double.PositiveInfinity }, 2))
            .Eval().ToDoubleArray();
        Assert.Equal(new double[4], ours);
        Passes(FuzzCommand.Programs(1, 54, 77, adversarial: true, ops: OpSurface.All)[0]);
        // clamp(k·x, max 0)/k at k = +∞ is the constant 0 for x > 0: torch's clamp mask meets the product's slope k = ∞, so
        // the derivative of its gradient in k along x is NaN (its gradient in x is already 0·∞ = NaN, as ours)
        var z = T(new[] { double.PositiveInfinity, 1.0397701, 100.0 }, 3).requires_grad_(true);
        var k = z.narrow(0, 0, 1);
        var clamped = (k * z.narrow(0, 1, 2)).clamp_max(0.0) / k;
        var slopeInK = torch.autograd.grad(new[] { clamped.sum() }, new[] { z }, retain_graph: true, create_graph: true)[0][0];
        var row = Values(torch.autograd.grad(new[] { slopeInK }, new[] { z })[0]);
        Assert.True(double.IsNaN(row[1]) && double.IsNaN(row[2]), $"torch's row of k: {row[1]:R}, {row[2]:R}");
        var oursClamped = Diff.Hessian(v =>
        {
            var scale = v.Slice(0, 0, 1);
            return ((scale * v.Slice(0, 1, 3)).Clamp(null, 0.0) / scale).Sum();
        })(Tensor.FromArray(new[] { double.PositiveInfinity, 1.0397701, 100.0 }, 3)).Eval().ToDoubleArray();
        Assert.Equal(new double[9], oursClamped);
        Passes(FuzzCommand.Programs(1, 56, 7, adversarial: true, ops: OpSurface.All)[0]);
    }

    [Fact]
    public void CausalAttention_OverANaNInAMaskedKeyAndValue_NeitherEngineLeavesItOut()
    {
        // `all adversarial 57/32`, shrunk: q = x₁, k = v = x₀ = [[0.99, 1.08], [NaN, 0]], causal: query 0 sees key 0 alone, so
        // row 0 of the output is v₀ in closed form; torch adds −∞ to the NaN score (NaN row), ours multiplies the masked
        // weight 0 into the NaN value entry (0·NaN)
        double[] kv = { 0.9928572, 1.0808507, double.NaN, 0.0 };
        double[] q = { -1e-38, 1.0808507, 1e-40, -1e-38 };
        var mask = torch.ones(2, 2, dtype: torch.ScalarType.Bool).tril();
        var torchs = Values(torch.nn.functional.scaled_dot_product_attention(T(q, 2, 2), T(kv, 2, 2), T(kv, 2, 2), attn_mask: mask));
        Assert.True(double.IsNaN(torchs[0]) && double.IsNaN(torchs[1]), $"torch's row 0: {torchs[0]:R}, {torchs[1]:R}");
        var ours = Nn.ScaledDotProductAttention(Tensor.FromArray(q, 2, 2), Tensor.FromArray(kv, 2, 2), Tensor.FromArray(kv, 2, 2), isCausal: true)
            .Eval().ToDoubleArray();
        Assert.True(double.IsNaN(ours[0]), $"our entry (0, 0): {ours[0]:R}, closed form {kv[0]:R}");
        Assert.Equal(kv[1], ours[1], 15);
        var program = FuzzCommand.Programs(1, 57, 32, adversarial: true, ops: OpSurface.All)[0];
        Assert.Contains(program.Forward().TorchWrong, w => w.Why.Contains("causal attention", StringComparison.Ordinal));
        Assert.DoesNotContain(FuzzCheck.Checked(program, DType.Float64), r => !r.Passed);
    }
}
