using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch.special's Bessel, erfcx and normal-distribution functions, xlog1py, entr, multigammaln, gammainc, gammaincc and zeta, and
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

        // gammainc and gammaincc in x, with a as data (torch has no derivative in a): shape parameters that reach the
        // power series (x < a + 1), the continued fraction and, below a = 1 with x ≤ 1.5, the small-a series of Q
        foreach (var c in IncompleteGamma()) yield return c;
        // zeta in q with s as data (torch has no derivative in s): s from just above 1 to 6, q positive
        yield return C("zeta s fixed [5]", new[] { P(5) }, x => Expr.Zeta(Const(new[] { 1.2, 2.0, 3.5, 6.0, 2.5 }, new[] { 5 }, x[0]), x[0]),
            x => torch.special.zeta(Const(new[] { 1.2, 2.0, 3.5, 6.0, 2.5 }, new long[] { 5 }, x[0]), x[0]));
        yield return C("zeta s fixed [2]·[3,2]", new[] { P(3, 2) }, x => Expr.Zeta(Const(new[] { 1.5, 4.0 }, new[] { 2 }, x[0]), 3.0 * x[0]),
            x => torch.special.zeta(Const(new[] { 1.5, 4.0 }, new long[] { 2 }, x[0]), 3.0 * x[0]));

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

    static IEnumerable<Case> IncompleteGamma()
    {
        var rows = new (string Name, Func<Expr, Expr, Expr> Ours, Func<TT, TT, TT> Torch)[]
        {
            ("gammainc", Expr.Gammainc, torch.special.gammainc), ("gammaincc", Expr.Gammaincc, torch.special.gammaincc),
        };
        double[] shapes = { 0.3, 1.0, 2.5, 7.0, 0.05, 15.0 };
        double[] broadcast = { 0.5, 3.0, 12.0 };
        foreach (var (name, ours, theirs) in rows)
        {
            // Positive draws are 0.5 + |z|: times 4 they spread over about 2 to 10
            yield return C($"{name} a fixed [6]", new[] { P(6) }, x => ours(Const(shapes, new[] { 6 }, x[0]), 4.0 * x[0]),
                x => theirs(Const(shapes, new long[] { 6 }, x[0]), 4.0 * x[0]));
            yield return C($"{name} a fixed [3]·[2,3]", new[] { P(2, 3) }, x => ours(Const(broadcast, new[] { 3 }, x[0]), 2.0 * x[0]),
                x => theirs(Const(broadcast, new long[] { 3 }, x[0]), 2.0 * x[0]));
            // small x against small and larger a, where the slope x^(a−1)·e^−x/Γ(a) is steep
            yield return C($"edge {name} small x", new[] { P(3) }, x => ours(Const(new[] { 0.2, 0.9, 3.0 }, new[] { 3 }, x[0]), x[0]),
                x => theirs(Const(new[] { 0.2, 0.9, 3.0 }, new long[] { 3 }, x[0]), x[0]))
                with { Fixed = new[] { new[] { 0.01, 0.3, 1.4 } } };
            // x near a from a = 20 on, where torch's uniform asymptotic series runs
            yield return C($"edge {name} x near a", new[] { P(3) }, x => ours(Const(new[] { 25.0, 40.0, 100.0 }, new[] { 3 }, x[0]), x[0]),
                x => theirs(Const(new[] { 25.0, 40.0, 100.0 }, new long[] { 3 }, x[0]), x[0]))
                with
                {
                    Fixed = new[] { new[] { 24.0, 35.0, 101.0 } },
                    Float64 = new Tolerance(5e-9, 1e-12),
                    Why = "torch's float64 gammainc and gammaincc are about 1e-9 off near x = a for a from 20 on (its asymptotic " +
                          "series: P(40, 35) = 0.21980955461 where the exact value, a finite sum for integer a, is 0.21980955483); " +
                          "ours is checked against that sum to 1e-15 in the core tests",
                };
        }
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
