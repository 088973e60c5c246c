using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

// frac, sinc, hypot, addcmul/addcdiv, nansum/nanmean, the logical reductions, cdist, bmm, kron, diag,
// repeat_interleave and pixel (un)shuffle against torch's functions: at several shapes, then at the points where
// values or derivative conventions matter (zeros, ties, NaN entries, huge and tiny operands).
public static partial class CaseTable
{
    /// <summary>torch.nansum along an axis, which TorchSharp 0.107 has only over every element: NaN entries as 0 by where.</summary>
    static TT NanAsZero(TT x) => torch.where(x.isnan(), torch.zeros_like(x), x);

    /// <summary>torch.nanmean along an axis by its definition: TorchSharp 0.107's nanmean fails natively (an uninitialised dtype).</summary>
    static TT NanMean(TT x, long axis) => NanAsZero(x).sum(axis) / x.isnan().logical_not().to_type(x.dtype).sum(axis);

    /// <summary>
    /// torch.cdist by its definition, the vector norm of every pair's difference: libtorch's cdist has no double backward
    /// (its second-order checks abort the process), and below 25 rows it computes the same differences directly.
    /// </summary>
    static TT Cdist(TT x1, TT x2, double p) => torch.linalg.vector_norm(x1.unsqueeze(-2) - x2.unsqueeze(-3), p, new long[] { -1 });

    static IEnumerable<Case> TorchExtras()
    {
        // ---- elementwise ----
        // frac's slope is 1 and trunc's 0: multiplying by the input keeps the second derivative meaningful
        foreach (var c in AtShapes("frac", I, x => (3.0 * x).Frac() * x, x => (3.0 * x).frac() * x)) yield return c;
        foreach (var c in AtShapes("erfinv", U, x => x.Erfinv(), x => x.erfinv())) yield return c;
        yield return C("edge erfinv near ±1, at 0 and tiny", new[] { I(6) }, x => x[0].Erfinv(), x => x[0].erfinv())
            with { Fixed = new[] { new[] { 0.999999, -0.99999, 0.0, 1e-300, 0.5, -0.75 } } };
        foreach (var c in AtShapes("sinc", I, x => (2.0 * x).Sinc(), x => (2.0 * x).sinc())) yield return c;
        foreach (var c in Broadcasting("hypot", I, I, Expr.Hypot, torch.hypot)) yield return c;
        foreach (var c in Broadcasting("addcmul", I, I, (a, b) => a.AddCMul(b, a, 0.5), (a, b) => a.addcmul(b, a, 0.5))) yield return c;
        foreach (var c in Broadcasting("addcdiv", I, Z, (a, b) => a.AddCDiv(a, b, -2.0), (a, b) => a.addcdiv(a, b, -2.0))) yield return c;
        yield return C("edge frac at integers and halves", new[] { I(5) }, x => x[0].Frac() * x[0], x => x[0].frac() * x[0])
            with { Fixed = new[] { new[] { -2.5, 2.5, 3.0, -0.25, 0.0 } } };
        // sinc at 0: torch masks its first derivative there (0, as ours); its second derivative and its JVP are NaN
        // there, 0/0 of its unmasked rule, where ours are the true ones (curvature −π²/3; xunit checks it)
        yield return C("edge sinc at 0 and integers", new[] { I(4) }, x => x[0].Sinc(), x => x[0].sinc())
            with
            {
                Fixed = new[] { new[] { 0.0, 1.0, -2.0, 0.5 } },
                Float64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true },
                Float32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true },
                Why = "torch's second derivative and JVP of sinc at 0 are NaN (0/0 in its rule); ours are the true derivatives",
            };
        // |a| = |b| (where a max/min form would split the derivatives and lose the curvature), a zero operand, and
        // operands whose squares overflow or underflow
        yield return C("edge hypot ties, zeros, huge and tiny", new[] { I(6), I(6) }, x => Expr.Hypot(x[0], x[1]), x => torch.hypot(x[0], x[1]))
            with
            {
                Fixed = new[] { new[] { 1.5, -2.0, 0.0, 3.0, 1e200, 3e-200 }, new[] { 1.5, 2.0, 0.7, 0.0, -1e200, 4e-200 } },
                SkipHessian = true,
                Float64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true },
                Float32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true },
                Why = "in float32 1e200 is ∞ and 3e-200 is 0: torch's slopes a/h are ∞/∞ and 0/0 = NaN there, ours ∞'s 0 and 0 at (0, 0); " +
                      "the Hessian mixes ∞ with finite entries as 0·∞, so it is skipped (value, VJP, second order and JVP are compared)",
            };

        // floor_divide and heaviside have no derivative (libtorch aborts differentiating them, so its side detaches them):
        // multiplied by a smooth function the checks still see their values
        yield return C("floorDivide times x", new[] { I(2, 3), Z(3) }, x => Expr.FloorDivide(3.0 * x[0], x[1]) * x[0], x => torch.floor_divide(3.0 * x[0], x[1]).detach() * x[0]);
        yield return C("edge heaviside", new[] { I(5) }, x => x[0].Heaviside(0.5) * x[0].Exp(), x => x[0].detach().heaviside(torch.tensor(0.5, dtype: x[0].dtype)) * x[0].exp())
            with { Fixed = new[] { new[] { -2.0, 0.0, 3.0, -0.0, 1e-300 } } };
        yield return C("threshold 0.1, -2", new[] { I(2, 4) }, x => x[0].Threshold(0.1, -2.0).Sin(), x => F.threshold(x[0], 0.1, -2.0).sin());
        yield return C("edge threshold at the threshold", new[] { I(4) }, x => x[0].Threshold(0.5, 3.0) * x[0], x => F.threshold(x[0], 0.5, 3.0) * x[0])
            with { Fixed = new[] { new[] { 0.5, 0.25, 0.75, -1.0 } } };
        yield return C("dist p 2", new[] { I(2, 3), I(3) }, x => Expr.Dist(x[0], x[1]), x => torch.dist(x[0], x[1]));
        yield return C("dist p 3", new[] { I(4), I(4) }, x => Expr.Dist(x[0], x[1], 3.0), x => torch.dist(x[0], x[1], 3.0f));
        yield return C("matrixPower 3", new[] { I(3, 3) }, x => (0.5 * x[0]).MatrixPower(3), x => torch.matrix_power(0.5 * x[0], 3));
        yield return C("matrixPower 0 and -2 batched", new[] { I(2, 2, 2) },
            x => (x[0] + Const(new[] { 3.0, 0, 0, 3.0 }, new[] { 2, 2 }, x[0])).MatrixPower(-2) + x[0].MatrixPower(0) * x[0],
            x => torch.matrix_power(x[0] + Const(new[] { 3.0, 0, 0, 3.0 }, new long[] { 2, 2 }, x[0]), -2) + torch.matrix_power(x[0], 0) * x[0]);

        // ---- activations and gates ----
        foreach (var c in AtShapes("selu", I, x => (2.0 * x).Selu(), x => F.selu(2.0 * x))) yield return c;
        // α = 0.5, a float32 number: torch's celu derivative uses α rounded to float32 (at α = 0.7 its float64 slope is
        // e^(x/0.69999999) where ours is e^(x/0.7), 1.3e-8 apart; the xunit test checks ours against the closed form)
        foreach (var c in AtShapes("celu 0.5", I, x => (2.0 * x).Celu(0.5), x => F.celu(2.0 * x, 0.5))) yield return c;
        foreach (var c in AtShapes("softshrink 0.5", I, x => (2.0 * x).Softshrink(0.5) * x, x => F.softshrink(2.0 * x, 0.5) * x)) yield return c;
        foreach (var c in AtShapes("hardshrink 0.5", I, x => (2.0 * x).Hardshrink(0.5) * x, x => F.hardshrink(2.0 * x, 0.5) * x)) yield return c;
        foreach (var c in AtShapes("tanhshrink", I, x => (2.0 * x).Tanhshrink(), x => F.tanhshrink(2.0 * x))) yield return c;
        yield return C("softmin [3,4] axis 1", new[] { I(3, 4) }, x => x[0].Softmin(1) * x[0], x => F.softmin(x[0], 1) * x[0]);
        yield return C("glu [2,6] axis 1", new[] { I(2, 6) }, x => x[0].Glu(1), x => F.glu(x[0], 1));
        yield return C("prelu [2,3,4] per channel", new[] { I(2, 3, 4), P(3) }, x => x[0].Prelu(x[1]), x => F.prelu(x[0], x[1]));
        yield return C("edge selu celu at 0 and far out", new[] { I(5) }, x => x[0].Selu() + x[0].Celu(0.5), x => F.selu(x[0]) + F.celu(x[0], 0.5))
            with { Fixed = new[] { new[] { 0.0, -0.0, -30.0, 40.0, -1e-8 } } };
        yield return C("edge shrinks at ±λ", new[] { I(6) }, x => x[0].Softshrink(0.5) * x[0] + x[0].Hardshrink(0.5) * x[0],
            x => F.softshrink(x[0], 0.5) * x[0] + F.hardshrink(x[0], 0.5) * x[0])
            with { Fixed = new[] { new[] { 0.5, -0.5, 0.25, -0.25, 0.75, -3.0 } } };

        // ---- reductions ----
        foreach (var axis in new[] { 0, 1 })
        {
            yield return C($"nansum [3,4] axis {axis}", new[] { I(3, 4) }, x => (x[0] * x[0]).Nansum(axis), x => NanAsZero(x[0] * x[0]).sum(axis));
            yield return C($"nanmean [3,4] axis {axis}", new[] { I(3, 4) }, x => x[0].Sin().Nanmean(axis), x => NanMean(x[0].sin(), axis));
        }
        // NaN entries: the gradient there is 0 (the mean counts only the others)
        yield return C("edge nansum nanmean over NaN", new[] { I(2, 3) },
            x => x[0].Nansum(1) * 2.0 + x[0].Nanmean(), x => NanAsZero(x[0]).sum(1) * 2.0 + NanMean(x[0].flatten(), 0))
            with { Fixed = new[] { new[] { double.NaN, 0.5, -1.0, 2.0, double.NaN, 3.0 } } };
        // the logical reductions have no gradient: multiplied by a differentiable sum, the value and its derivatives
        // still see them
        yield return C("all any countNonzero", new[] { I(2, 3) },
            x => x[0].Sum() * (x[0].All() + 2.0 * x[0].Any(1).Sum() + x[0].CountNonzero(0).Sum()),
            x => x[0].sum() * (Mask(x[0].all(), x[0]) + 2.0 * Mask(x[0].any(1), x[0]).sum() + x[0].count_nonzero(new long[] { 0 }).to_type(x[0].dtype).sum()))
            with { Fixed = new[] { new[] { 0.0, 0.5, -1.0, 0.0, 0.0, 0.0 } } };

        // ---- logcumsumexp ----
        // The JVP check takes torch's double backward at a zero cotangent (J·t = d/du ⟨Jᵀu, t⟩ at u = 0), and torch's
        // logcumsumexp backward works with the logarithm of the cotangent, so it gives NaN there; ours is checked
        // against central differences in xunit.
        const string LogCumSumExpJvp = "torch's JVP (double backward at a zero cotangent) of logcumsumexp is NaN: its backward takes the cotangent's logarithm";
        var torchNaN64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true };
        var torchNaN32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true };
        yield return C("logcumsumexp [3,5] axis 1", new[] { I(3, 5) }, x => (2.0 * x[0]).LogCumSumExp(1), x => (2.0 * x[0]).logcumsumexp(1))
            with { Float64 = torchNaN64, Float32 = torchNaN32, Why = LogCumSumExpJvp };
        yield return C("logcumsumexp [4,2] axis 0", new[] { I(4, 2) }, x => x[0].LogCumSumExp(0).Sin(), x => x[0].logcumsumexp(0).sin())
            with { Float64 = torchNaN64, Float32 = torchNaN32, Why = LogCumSumExpJvp };
        // entries far below the row's maximum (a single shift by it underflows them to −∞) and ties; in float32 torch's
        // running logaddexp loses about 3e-3 of one small gradient entry, where ours is within 1e-7 of float64 (xunit)
        yield return C("edge logcumsumexp far apart and ties", new[] { I(6) }, x => x[0].LogCumSumExp(0), x => x[0].logcumsumexp(0))
            with
            {
                Fixed = new[] { new[] { -1000.0, -999.0, 0.0, 0.0, 800.0, -5.0 } },
                Float64 = torchNaN64,
                Float32 = new Tolerance(1e-2, 1e-5) { TorchDerivativeNaNIsConvention = true },
                Why = LogCumSumExpJvp + "; torch's float32 gradient is 3e-3 off in one entry, so float32 compares at 1e-2",
            };

        // ---- cummax and cummin: the values carry the gradient to the entry picked, the indices none ----
        yield return C("cummax [3,5] axis 1", new[] { D(3, 5) }, x => { var (v, i) = x[0].Cummax(1); return v.Sin() + i; },
            x => { var (v, i) = x[0].cummax(1); return v.sin() + i.to_type(x[0].dtype); });
        yield return C("cummin [4,2] axis 0", new[] { D(4, 2) }, x => { var (v, i) = x[0].Cummin(0); return v * v + i; },
            x => { var (v, i) = x[0].cummin(0); return v * v + i.to_type(x[0].dtype); });
        // ties go to the later entry, a NaN takes over and holds
        yield return C("edge cummax ties and NaN", new[] { I(7) }, x => { var (v, i) = x[0].Cummax(0); return v * 2.0 + i; },
            x => { var (v, i) = x[0].cummax(0); return v * 2.0 + i.to_type(x[0].dtype); })
            with { Fixed = new[] { new[] { 1.0, 3.0, 3.0, 2.0, double.NaN, 5.0, double.NaN } } };
        yield return C("edge cummin ties", new[] { I(6) }, x => { var (v, i) = x[0].Cummin(0); return v * 2.0 + i; },
            x => { var (v, i) = x[0].cummin(0); return v * 2.0 + i.to_type(x[0].dtype); })
            with { Fixed = new[] { new[] { 4.0, 2.0, 2.0, 3.0, -1.0, -1.0 } } };

        // ---- cdist ----
        yield return C("cdist [4,3]·[5,3]", new[] { I(4, 3), I(5, 3) }, x => Expr.Cdist(x[0], x[1]), x => Cdist(x[0], x[1], 2.0));
        yield return C("cdist [2,3,2]·[2,4,2] p 1", new[] { I(2, 3, 2), I(2, 4, 2) }, x => Expr.Cdist(x[0], x[1], 1.0), x => Cdist(x[0], x[1], 1.0));
        // a zero distance: the gradient there is 0 in both
        yield return C("edge cdist zero distance", new[] { I(2, 2), I(2, 2) }, x => Expr.Cdist(x[0], x[1]), x => Cdist(x[0], x[1], 2.0))
            with
            {
                Fixed = new[] { new[] { 0.5, -1.0, 2.0, 0.25 }, new[] { 0.5, -1.0, 1.0, 1.0 } },
                SkipHessian = true,
                Float64 = Tolerance.Float64 with { TorchDerivativeNaNIsConvention = true },
                Float32 = Tolerance.Float32 with { TorchDerivativeNaNIsConvention = true },
                Why = "torch's second derivative of the 2-norm at a zero difference is NaN, ours 0 (as for Norm); the Hessian is skipped for the same reason",
            };

        // ---- structure ----
        yield return C("bmm [2,3,4]·[2,4,2]", new[] { I(2, 3, 4), I(2, 4, 2) }, x => x[0].Bmm(x[1]), x => x[0].bmm(x[1]));
        yield return C("dot [5]·[5]", new[] { I(5), I(5) }, x => x[0].Dot(x[1].Sin()), x => torch.dot(x[0], x[1].sin()));
        yield return C("kron [2,2]·[3,2]", new[] { I(2, 2), I(3, 2) }, x => x[0].Kron(x[1]), x => torch.kron(x[0], x[1]));
        yield return C("kron [3]·[2,2]", new[] { I(3), I(2, 2) }, x => x[0].Kron(x[1]).Sin(), x => torch.kron(x[0], x[1]).sin());
        yield return C("diag of a vector offset 1", new[] { I(3) }, x => x[0].Diag(1).Softmax(1), x => x[0].diag(1).softmax(1));
        yield return C("diag of a matrix offset -1", new[] { I(3, 4) }, x => x[0].Diag(-1).Exp(), x => x[0].diag(-1).exp());
        yield return C("repeatInterleave [2,3] 2 axis 1", new[] { I(2, 3) }, x => x[0].RepeatInterleave(2, 1).Softmax(1), x => x[0].repeat_interleave(2, 1).softmax(1));
        yield return C("repeatInterleave [2,2] 3 flat", new[] { I(2, 2) }, x => x[0].RepeatInterleave(3).Cumsum(0).Sin(), x => x[0].repeat_interleave(3).cumsum(0).sin());
        yield return C("pixelShuffle [1,8,2,3] r 2", new[] { I(1, 8, 2, 3) }, x => Nn.PixelShuffle(x[0], 2).Cumsum(3).Tanh(), x => F.pixel_shuffle(x[0], 2).cumsum(3).tanh());
        yield return C("pixelUnshuffle [2,1,4,2] r 2", new[] { I(2, 1, 4, 2) }, x => Nn.PixelUnshuffle(x[0], 2).Cumsum(1).Tanh(), x => F.pixel_unshuffle(x[0], 2).cumsum(1).tanh());
    }
}
