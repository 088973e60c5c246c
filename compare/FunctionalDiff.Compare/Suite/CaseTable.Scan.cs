using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // The Scan primitive (issue 19): a loop traced once into one node against the same cell run in a
    // torch loop over the rows of xs. Inputs (h0, xs, W, U); the output is the final carry and the
    // stacked ys, so every check sees both.
    static Expr ScanRnn(Expr[] p, bool reverse)
    {
        var (h, ys) = Expr.Scan((c, x) =>
        {
            var next = (p[2].MatMul(c) + p[3].MatMul(x)).Tanh();
            return (next, next.Sin() * x.Sum());
        }, p[0], p[1], reverse);
        return Expr.Concat(0, h, ys.Reshape(-1));
    }

    static TT ScanRnn(TT[] p, bool reverse)
    {
        var h = p[0];
        var length = (int)p[1].shape[0];
        var ys = new TT[length];
        for (int k = 0; k < length; k++)
        {
            int t = reverse ? length - 1 - k : k;
            var x = p[1][t];
            h = (p[2].matmul(h) + p[3].matmul(x)).tanh();
            ys[t] = h.sin() * x.sum();
        }
        return torch.cat(new[] { h, torch.stack(ys, 0).reshape(-1) }, 0);
    }

    static IEnumerable<Case> ScanPrimitive()
    {
        yield return C("scan tanh RNN, 5 steps", new[] { I(3), I(5, 2), I(3, 3), I(3, 2) }, p => ScanRnn(p, false), p => ScanRnn(p, false));
        yield return C("scan tanh RNN reversed, 4 steps", new[] { I(3), I(4, 2), I(3, 3), I(3, 2) }, p => ScanRnn(p, true), p => ScanRnn(p, true));
    }
}
