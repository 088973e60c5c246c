using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // The SVD and what is built on it. Singular vectors carry a sign that is LAPACK's in torch and ours by a rule of
    // our own, so the cases that read U or Vh use functions that do not depend on it: U diag(c) Vh for fixed c, and
    // squared entries. Normal draws have distinct, nonzero singular values, where every gradient is defined.
    static IEnumerable<Case> Svd()
    {
        yield return C("svdvals [4,3]", new[] { I(4, 3) }, x => x[0].SvdVals(), x => linalg.svdvals(x[0]));
        yield return C("svdvals wide batched [2,3,5]", new[] { I(2, 3, 5) }, x => x[0].SvdVals(), x => linalg.svdvals(x[0]));
        yield return C("svd [4,3] U diag(c) Vh", new[] { I(4, 3) },
            x => { var d = x[0].Svd(); return (d.U * Const(SvdWeights, new[] { 3 }, x[0])).MatMul(d.Vh); },
            x => { var (u, _, vh) = linalg.svd(x[0], fullMatrices: false); return (u * Const(SvdWeights, new long[] { 3 }, x[0])).matmul(vh); });
        yield return C("svd wide [3,5] S, U diag(c) Vh", new[] { I(3, 5) },
            x => { var d = x[0].Svd(); return Expr.Concat(1, d.S.Reshape(3, 1), (d.U * Const(SvdWeights, new[] { 3 }, x[0])).MatMul(d.Vh)); },
            x => { var (u, s, vh) = linalg.svd(x[0], fullMatrices: false); return torch.cat(new[] { s.reshape(3, 1), (u * Const(SvdWeights, new long[] { 3 }, x[0])).matmul(vh) }, 1); });
        yield return C("svd batched [2,3,3] U∘U and Vh∘Vh", new[] { I(2, 3, 3) },
            x => { var d = x[0].Svd(); return Expr.Concat(1, d.U.Square(), d.Vh.Square()); },
            x => { var (u, _, vh) = linalg.svd(x[0], fullMatrices: false); return torch.cat(new[] { u.square(), vh.square() }, 1); });
        yield return C("svd tall [5,2] U Uᵀ", new[] { I(5, 2) },
            x => { var u = x[0].Svd().U; return u.MatMul(u.Transpose()); },
            x => { var (u, _, _) = linalg.svd(x[0], fullMatrices: false); return u.matmul(u.transpose(-2, -1)); });
        yield return C("pinv [4,3]", new[] { I(4, 3) }, x => x[0].Pinv(), x => linalg.pinv(x[0]));
        yield return C("pinv wide [3,5]", new[] { I(3, 5) }, x => x[0].Pinv(), x => linalg.pinv(x[0]));
        yield return C("pinv batched [2,3,3]", new[] { I(2, 3, 3) }, x => x[0].Pinv(), x => linalg.pinv(x[0]));
        yield return C("lstsq [5,3]·[5,2]", new[] { I(5, 3), I(5, 2) }, x => x[0].Lstsq(x[1]), x => linalg.lstsq(x[0], x[1]).Solution);
        yield return C("lstsq wide [2,4]·[2,3] (least norm)", new[] { I(2, 4), I(2, 3) }, x => x[0].Lstsq(x[1]), x => linalg.lstsq(x[0], x[1]).Solution);
        yield return C("matrix_norm 2 [4,3]", new[] { I(4, 3) }, x => x[0].MatrixNorm(2.0), x => linalg.matrix_norm(x[0], 2.0));
        yield return C("matrix_norm -2 [3,4]", new[] { I(3, 4) }, x => x[0].MatrixNorm(-2.0), x => linalg.matrix_norm(x[0], -2.0));
        yield return C("matrix_norm nuc batched [2,3,4] keepdim", new[] { I(2, 3, 4) },
            x => x[0].MatrixNorm("nuc", keepDims: true), x => linalg.matrix_norm(x[0], "nuc", keepdim: true));
        yield return C("matrix_norm 1 [3,4]", new[] { I(3, 4) }, x => x[0].MatrixNorm(1.0), x => linalg.matrix_norm(x[0], 1.0));
        yield return C("matrix_norm -inf batched [2,3,4]", new[] { I(2, 3, 4) },
            x => x[0].MatrixNorm(double.NegativeInfinity), x => linalg.matrix_norm(x[0], double.NegativeInfinity));
    }

    static readonly double[] SvdWeights = { 0.5, -1.25, 2.0 };
}
