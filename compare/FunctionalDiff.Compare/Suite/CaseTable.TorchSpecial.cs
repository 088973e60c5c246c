using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch.special's Bessel, erfcx and normal-distribution functions, xlog1py, entr and multigammaln, and
// torch.linalg.matrix_exp: at several shapes, with the inputs scaled into each function's interesting range, and at
// fixed points in the tails where the unscaled forms overflow or underflow.
public static partial class CaseTable
{
    static IEnumerable<Case> TorchSpecial()
    {
        foreach (var c in AtShapes("i0", I, x => (3.0 * x).I0(), x => torch.special.i0(3.0 * x))) yield return c;
        foreach (var c in AtShapes("i1", I, x => (3.0 * x).I1(), x => torch.special.i1(3.0 * x))) yield return c;
        foreach (var c in AtShapes("i0e", I, x => (5.0 * x).I0e(), x => torch.special.i0e(5.0 * x))) yield return c;
        foreach (var c in AtShapes("i1e", I, x => (5.0 * x).I1e(), x => torch.special.i1e(5.0 * x))) yield return c;
        foreach (var c in AtShapes("erfcx", I, x => (2.0 * x).Erfcx(), x => TorchErfcx(2.0 * x))) yield return TorchErfcxWhy(c);
        foreach (var c in AtShapes("ndtr", I, x => (2.0 * x).Ndtr(), x => torch.special.ndtr(2.0 * x))) yield return c;
        // ndtri over (0, 1): σ of a normal draw
        foreach (var c in AtShapes("ndtri of σ", I, x => (2.0 * x).Sigmoid().Ndtri(), x => torch.special.ndtri((2.0 * x).sigmoid()))) yield return c;
        // TorchSharp 0.107 has no log_ndtr: torch's log of its ndtr is the same function where ndtr keeps its digits
        foreach (var c in AtShapes("log_ndtr", I, x => (2.0 * x).LogNdtr(), x => torch.special.ndtr(2.0 * x).log())) yield return c;
        foreach (var c in Broadcasting("xlog1py", I, P, Expr.Xlog1py, torch.special.xlog1py)) yield return c;
        foreach (var c in AtShapes("entr", P, x => x.Entr(), x => torch.special.entr(x))) yield return c;
        // torch requires a > (p − 1)/2 = 1: Positive draws are above 1/2
        foreach (var c in AtShapes("multigammaln 3", P, x => (x + 1.0).Multigammaln(3), x => torch.special.multigammaln(x + 1.0, 3))) yield return TorchTrigamma(c);
        yield return TorchTrigamma(C("multigammaln 1 [2,3]", new[] { P(2, 3) }, x => x[0].Multigammaln(1), x => torch.special.multigammaln(x[0], 1)));

        yield return C("matrix_exp [3,3]", new[] { I(3, 3) }, x => x[0].MatrixExp(), x => torch.linalg.matrix_exp(x[0]));
        yield return C("matrix_exp [2,3,3]", new[] { I(2, 3, 3) }, x => x[0].MatrixExp(), x => torch.linalg.matrix_exp(x[0]));
        // a norm of about 10, so the scaling takes squarings
        yield return C("matrix_exp scaled [4,4]", new[] { I(4, 4) }, x => (3.0 * x[0]).MatrixExp(), x => torch.linalg.matrix_exp(3.0 * x[0]));
        yield return C("matrix_exp [1,1]", new[] { I(1, 1) }, x => x[0].MatrixExp(), x => torch.linalg.matrix_exp(x[0]));

        // the tails: where i0 and i1 are large and their scaled forms small, ndtr's left tail and ndtri near 0 and 1.
        // Not 0 < |x| < 0.5 for i1e in float32: torch's rule reads i1e(x)/x there, whose second derivative cancels terms
        // of size 1/x³ (a few percent wrong at 1e-5), where ours is a Maclaurin polynomial (closed forms in the core tests)
        yield return C("edge i0e i1e far out and near 0", new[] { I(6) }, x => x[0].I0e() + x[0].I1e(), x => torch.special.i0e(x[0]) + torch.special.i1e(x[0]))
            with { Fixed = new[] { new[] { 0.0, 0.6, 50.0, -80.0, 1e4, -7.5 } } };
        yield return C("edge i0 i1 large", new[] { I(4) }, x => x[0].I0() - x[0].I1(), x => torch.special.i0(x[0]) - torch.special.i1(x[0]))
            with { Fixed = new[] { new[] { 0.0, 20.0, -30.0, 60.0 } } };
        yield return TorchErfcxWhy(C("edge erfcx both sides", new[] { I(5) }, x => x[0].Erfcx(), x => TorchErfcx(x[0]))
            with { Fixed = new[] { new[] { -3.0, 0.0, 2.5, 4.0, 5.0 } } });
        yield return C("edge ndtr tails", new[] { I(5) }, x => x[0].Ndtr(), x => torch.special.ndtr(x[0]))
            with { Fixed = new[] { new[] { -12.0, -5.0, 0.0, 5.0, 8.0 } } };
        yield return C("edge ndtri near 0, 1/2 and 1", new[] { I(5) }, x => x[0].Ndtri(), x => torch.special.ndtri(x[0]))
            with { Fixed = new[] { new[] { 1e-30, 1e-6, 0.5, 0.999, 0.3 } } };
    }

    /// <summary>
    /// erfcx on torch's side: TorchSharp 0.107's torch.special.erfcx calls libtorch's erfc (erfcx(0.5) came back 0.4795,
    /// erfc's value, where erfcx's is 0.6157), so the table composes e^{x²}·erfc(x) from torch's exp and erfc, which is
    /// erfcx where neither factor overflows or underflows (|x| up to about 6 here; the far tails are checked against
    /// mpmath in the core tests).
    /// </summary>
    static TT TorchErfcx(TT x) => (x * x).exp() * x.erfc();

    static Case TorchErfcxWhy(Case c) => c with { Why = "TorchSharp 0.107's special.erfcx is erfc: compared with torch's exp(x²)·erfc(x)" };
}
