using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// Edge cases of the indexing, structure, convolution, pooling, einsum and linear-algebra ops: negative
// axes, repeated and empty indices, rank 0 and rank 5, zero-size slices, kernels larger than their
// input, pooling ties and padding, implicit einsum outputs, 1×1 and singular matrices. Left out: points
// where torch's derivative is NaN or rounding noise around an exact 0 (the Hessian of a 1×1 det, the
// 2×2 zero matrix's det, eigh at repeated eigenvalues), which ours documents instead.
public static partial class CaseTable
{
    static TT LongIdx(double[] v, params long[] shape) => torch.tensor(v.Select(x => (long)x).ToArray()).reshape(shape);

    static IEnumerable<Case> EdgeCases()
    {
        // ---- indexing ----
        double[] rep = { 0, 0, 3, 3, 0, 1, 1, 1, 1, 1, 2, 0, 2, 0, 2 };
        yield return C("edge gather axis -1 repeated [3,4] by [3,5]", new[] { I(3, 4) }, x => x[0].Gather(-1, Const(rep, new[] { 3, 5 }, x[0])).Sin(),
            x => x[0].gather(-1, LongIdx(rep, 3, 5)).sin());
        double[] small = { 3, 0, 1, 1 };
        yield return C("edge gather index smaller [3,4] by [2,2]", new[] { I(3, 4) }, x => x[0].Gather(1, Const(small, new[] { 2, 2 }, x[0])).Sin(),
            x => x[0].gather(1, LongIdx(small, 2, 2)).sin());
        double[] rep4 = { 1, 1, 1, 0 };
        yield return C("edge indexSelect axis -1 repeated [3,4]", new[] { I(3, 4) }, x => x[0].IndexSelect(-1, Const(rep4, new[] { 4 }, x[0])).Sin(),
            x => x[0].index_select(-1, LongIdx(rep4, 4)).sin());
        yield return C("edge indexSelect empty [3,4]", new[] { I(3, 4) }, x => x[0].IndexSelect(1, Const(new double[0], new[] { 0 }, x[0])).Sum() + x[0].Sin(),
            x => x[0].index_select(1, torch.zeros(0, dtype: int64)).sum() + x[0].sin());
        yield return C("edge embedding repeated [4,3] by [2,2]", new[] { I(4, 3) }, x => Expr.Embedding(Const(new double[] { 1, 1, 1, 3 }, new[] { 2, 2 }, x[0]), x[0]).Sin(),
            x => x[0].index_select(0, LongIdx(new double[] { 1, 1, 1, 3 }, 4)).reshape(2, 2, 3).sin());
        yield return C("edge embedding rank-0 indices [4,3]", new[] { I(4, 3) }, x => Expr.Embedding(Const(new double[] { 2 }, new int[0], x[0]), x[0]).Sin(),
            x => x[0][2].sin());
        double[] g5 = Enumerable.Range(0, 2 * 1 * 2 * 2 * 3).Select(i => (double)(i * 7 % 3)).ToArray();
        yield return C("edge gather rank 5 axis -3 [2,1,3,2,3]", new[] { I(2, 1, 3, 2, 3) }, x => x[0].Gather(-3, Const(g5, new[] { 2, 1, 2, 2, 3 }, x[0])).Sin(),
            x => x[0].gather(-3, LongIdx(g5, 2, 1, 2, 2, 3)).sin());
        yield return C("edge gather rank-0 index [3]", new[] { I(3) }, x => x[0].Gather(0, Const(new double[] { 2 }, new int[0], x[0])).Sin(),
            x => x[0].gather(0, LongIdx(new double[] { 2 })).sin());
        yield return C("edge indexSelect rank-0 index [2,3]", new[] { I(2, 3) }, x => x[0].IndexSelect(1, Const(new double[] { 2 }, new int[0], x[0])).Sin(),
            x => x[0].index_select(1, LongIdx(new double[] { 2 })).sin());
        // ---- softplus far out: torch's own rule at the threshold 40, where ours is log(1 + e^x) to rounding ----
        yield return C("edge softplus far out", new[] { I(6) }, x => x[0].Softplus(), x => torch.nn.functional.softplus(x[0], 1, 40))
            with { Fixed = new[] { new double[] { -800, -30, 0.5, 25, 39, 60 } } };
        // ---- slicing and structure ----
        yield return C("edge pad negative widths crop [3,4]", new[] { I(3, 4) }, x => x[0].Pad(new[] { 1, -1 }, new[] { -1, 2 }).Sin() + 1.0,
            x => torch.nn.functional.pad(x[0], new long[] { -1, 2, 1, -1 }).sin() + 1.0);
        yield return C("edge slice negative step 2 [2,6]", new[] { I(2, 6) }, x => x[0].Slice(1, -4, -1, 2).Sin(), x => x[0].slice(1, -4, -1, 2).sin());
        yield return C("edge slice clamped step 3 [7,2]", new[] { I(7, 2) }, x => x[0].Slice(0, -100, 100, 3).Sin(), x => x[0].slice(0, -100, 100, 3).sin());
        yield return C("edge slice step larger than axis [3,2]", new[] { I(3, 2) }, x => x[0].Slice(0, 1, 3, 5).Sin(), x => x[0].slice(0, 1, 3, 5).sin());
        yield return C("edge slice empty then concat [2,6]", new[] { I(2, 6) }, x => Expr.Concat(1, x[0].Slice(1, 4, 2), x[0].Sin(), x[0].Slice(1, 6, 6)),
            x => torch.cat(new[] { x[0].slice(1, 4, 2, 1), x[0].sin(), x[0].slice(1, 6, 6, 1) }, 1));
        yield return C("edge stack rank 0", new[] { I(), I() }, x => Expr.Stack(0, x[0], x[1].Sin(), x[0] * x[1]), x => torch.stack(new[] { x[0], x[1].sin(), x[0] * x[1] }, 0));
        yield return C("edge stack axis -1 [2,3]", new[] { I(2, 3), I(2, 3) }, x => Expr.Stack(-1, x[0], x[1].Sin()), x => torch.stack(new[] { x[0], x[1].sin() }, -1));
        yield return C("edge flip rank 5 negative axes", new[] { I(2, 1, 2, 3, 2) }, x => x[0].Flip(-1, -3, 0).Sin() * Const(Enumerable.Range(0, 24).Select(i => (double)i).ToArray(), new[] { 2, 1, 2, 3, 2 }, x[0]),
            x => x[0].flip(-1, -3, 0).sin() * Const(Enumerable.Range(0, 24).Select(i => (double)i).ToArray(), new long[] { 2, 1, 2, 3, 2 }, x[0]));
        yield return C("edge transpose rank 5", new[] { I(2, 1, 2, 3, 2) }, x => x[0].Transpose(4, 0, 3, -4, 2).Sin(), x => x[0].permute(4, 0, 3, 1, 2).sin());
        yield return C("edge pad rank 5", new[] { I(1, 2, 1, 2, 1) }, x => x[0].Pad(new[] { 0, 1, 2, 0, 1 }, new[] { 1, 0, 1, 2, 0 }).Sin() + 1.0,
            x => torch.nn.functional.pad(x[0], new long[] { 1, 0, 0, 2, 2, 1, 1, 0, 0, 1 }).sin() + 1.0);
        yield return C("edge pad empty slice [2,3]", new[] { I(2, 3) }, x => x[0].Slice(0, 0, 0).Pad(new[] { 1, 0 }, new[] { 1, 0 }) + x[0].Sin(),
            x => torch.nn.functional.pad(x[0].slice(0, 0, 0, 1), new long[] { 0, 0, 1, 1 }) + x[0].sin());
        yield return C("edge broadcast rank 0 to [2,1,3]", new[] { I() }, x => x[0].BroadcastTo(2, 1, 3).Sin() * Const(new double[] { 1, 2, 3, 4, 5, 6 }, new[] { 2, 1, 3 }, x[0]),
            x => x[0].expand(2, 1, 3).sin() * Const(new double[] { 1, 2, 3, 4, 5, 6 }, new long[] { 2, 1, 3 }, x[0]));
        yield return C("edge reshape -1 rank 5 [2,3,4]", new[] { I(2, 3, 4) }, x => x[0].Reshape(1, 2, -1, 1, 3).Sin(), x => x[0].reshape(1, 2, -1, 1, 3).sin());
        yield return C("edge diagonal negative offset batched [2,4,3]", new[] { I(2, 4, 3) }, x => x[0].Diagonal(-1, -2, -1).Sin(), x => x[0].diagonal(-1, -2, -1).sin());
        // ---- convolution and pooling ----
        yield return C("edge conv2d kernel larger than input padding 1 [1,1,2,2]*[1,1,3,3]", new[] { I(1, 1, 2, 2), I(1, 1, 3, 3) }, x => Nn.Conv2d(x[0], x[1], padding: 1).Sin(),
            x => torch.nn.functional.conv2d(x[0], x[1], padding: new long[] { 1, 1 }).sin());
        yield return C("edge conv2d 1x1 stride 2 [2,3,5,5]*[4,3,1,1]", new[] { I(2, 3, 5, 5), I(4, 3, 1, 1) }, x => Nn.Conv2d(x[0], x[1], stride: 2).Sin(),
            x => torch.nn.functional.conv2d(x[0], x[1], strides: new long[] { 2, 2 }).sin());
        yield return C("edge conv2d depthwise dilation 2 padding 2 odd [1,4,5,7]*[4,1,3,3]", new[] { I(1, 4, 5, 7), I(4, 1, 3, 3), I(4) }, x => Nn.Conv2d(x[0], x[1], x[2], dilation: 2, padding: 2, groups: 4).Sin(),
            x => torch.nn.functional.conv2d(x[0], x[1], x[2], padding: new long[] { 2, 2 }, dilation: new long[] { 2, 2 }, groups: 4).sin());
        yield return C("edge conv2d stride 3 > kernel [1,2,7,7]*[2,2,2,2]", new[] { I(1, 2, 7, 7), I(2, 2, 2, 2) }, x => Nn.Conv2d(x[0], x[1], stride: 3).Sin(),
            x => torch.nn.functional.conv2d(x[0], x[1], strides: new long[] { 3, 3 }).sin());
        yield return C("edge conv2d stride 2 padding 2 [1,1,6,5]*[2,1,3,3]", new[] { I(1, 1, 6, 5), I(2, 1, 3, 3) }, x => Nn.Conv2d(x[0], x[1], stride: 2, padding: 2).Sin(),
            x => torch.nn.functional.conv2d(x[0], x[1], strides: new long[] { 2, 2 }, padding: new long[] { 2, 2 }).sin());
        yield return C("edge conv1d kernel larger than input [1,1,2]*[1,1,5] padding 2", new[] { I(1, 1, 2), I(1, 1, 5) }, x => Nn.Conv1d(x[0], x[1], padding: 2).Sin(),
            x => torch.nn.functional.conv1d(x[0], x[1], padding: 2).sin());
        yield return C("edge conv2d groups 3 out 6 stride 2 dilation 2 [2,3,9,8]*[6,1,2,3]", new[] { I(2, 3, 9, 8), I(6, 1, 2, 3) }, x => Nn.Conv2d(x[0], x[1], stride: 2, dilation: 2, groups: 3, padding: 1).Sin(),
            x => torch.nn.functional.conv2d(x[0], x[1], strides: new long[] { 2, 2 }, padding: new long[] { 1, 1 }, dilation: new long[] { 2, 2 }, groups: 3).sin());
        yield return C("edge convTranspose2d 1x1 stride 2 [1,2,3,3]*[2,3,1,1]", new[] { I(1, 2, 3, 3), I(2, 3, 1, 1) }, x => Nn.ConvTranspose2d(x[0], x[1], stride: 2).Sin(),
            x => torch.nn.functional.conv_transpose2d(x[0], x[1], strides: new long[] { 2, 2 }).sin());
        yield return C("edge maxPool2d ties stride 1 [1,1,3,3]", new[] { I(1, 1, 3, 3) }, x => Nn.MaxPool2d(x[0], 2, stride: 1),
            x => torch.nn.functional.max_pool2d(x[0], new long[] { 2, 2 }, new long[] { 1, 1 })) with { Fixed = new[] { new double[] { 1, 1, 1, 1, 1, 1, 1, 1, 1 } }, SkipHessian = true };
        yield return C("edge maxPool2d ties within window [1,1,4,4]", new[] { I(1, 1, 4, 4) }, x => Nn.MaxPool2d(x[0], 2),
            x => torch.nn.functional.max_pool2d(x[0], new long[] { 2, 2 }, new long[] { 2, 2 })) with { Fixed = new[] { new double[] { 0, 2, 2, 1, 2, 2, 1, 1, 3, 1, 5, 5, 3, 3, 5, 5 } }, SkipHessian = true };
        yield return C("edge maxPool2d negative padding 1 [1,1,3,3]", new[] { I(1, 1, 3, 3) }, x => Nn.MaxPool2d(x[0], 3, stride: 1, padding: 1),
            x => torch.nn.functional.max_pool2d(x[0], new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 })) with { Fixed = new[] { new double[] { -5, -4, -3, -2, -1.5, -7, -8, -9, -6 } }, SkipHessian = true };
        // a window of −∞ entries beside its −∞ padding: torch's index is the window's first entry inside the input (fuzz adversarial 6/87)
        yield return C("edge maxPool2d window of -inf beside its padding [1,1,4,2]", new[] { I(1, 1, 4, 2) }, x => Nn.MaxPool2d(x[0], 3, padding: 1),
            x => torch.nn.functional.max_pool2d(x[0], new long[] { 3, 3 }, new long[] { 3, 3 }, new long[] { 1, 1 }))
            with { Fixed = new[] { new double[] { 0, 0, 0, 0, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity, double.NegativeInfinity } }, SkipHessian = true };
        // a sum of −0 entries is +0 in torch, a running sum from +0, so its reciprocal is +∞ (fuzz adversarial 5/12)
        yield return C("edge reciprocal of a sum of -0 entries [2] and [1]", new[] { I(2), I(1) }, x => x[0].Sum().Reciprocal() + x[1].Sum(0, keepDims: true).Reciprocal(),
            x => x[0].sum().reciprocal() + x[1].sum(0, keepdim: true).reciprocal())
            with { Fixed = new[] { new double[] { -0.0, -0.0 }, new double[] { -0.0 } } };
        yield return C("edge maxPool2d kernel 1 stride 2 [1,2,5,5]", new[] { I(1, 2, 5, 5) }, x => Nn.MaxPool2d(x[0], 1, stride: 2).Sin(),
            x => torch.nn.functional.max_pool2d(x[0], new long[] { 1, 1 }, new long[] { 2, 2 }).sin());
        yield return C("edge avgPool2d padding 1 kernel 2 stride 2 odd [1,1,5,5]", new[] { I(1, 1, 5, 5) }, x => Nn.AvgPool2d(x[0], 2, stride: 2, padding: 1).Sin(),
            x => torch.nn.functional.avg_pool2d(x[0], new long[] { 2, 2 }, new long[] { 2, 2 }, new long[] { 1, 1 }).sin());
        yield return C("edge avgPool2d kernel 3 stride 1 padding 1 [2,1,3,4]", new[] { I(2, 1, 3, 4) }, x => Nn.AvgPool2d(x[0], 3, stride: 1, padding: 1).Sin(),
            x => torch.nn.functional.avg_pool2d(x[0], new long[] { 3, 3 }, new long[] { 1, 1 }, new long[] { 1, 1 }).sin());
        yield return C("edge adaptiveAvgPool2d to same size [1,1,3,3]", new[] { I(1, 1, 3, 3) }, x => Nn.AdaptiveAvgPool2d(x[0], 3).Sin(),
            x => torch.nn.functional.adaptive_avg_pool2d(x[0], new long[] { 3, 3 }).sin());
        // ---- einsum ----
        yield return C("edge einsum trace ii->", new[] { I(3, 3) }, x => Expr.Einsum("ii->", x[0]).Sin(), x => torch.einsum("ii->", x[0]).sin());
        yield return C("edge einsum implicit ii", new[] { I(3, 3) }, x => Expr.Einsum("ii", x[0]).Sin(), x => torch.einsum("ii", x[0]).sin());
        yield return C("edge einsum implicit ji", new[] { I(2, 3) }, x => Expr.Einsum("ji", x[0]).Sin() * Const(new double[] { 1, 2, 3, 4, 5, 6 }, new[] { 3, 2 }, x[0]),
            x => torch.einsum("ji", x[0]).sin() * Const(new double[] { 1, 2, 3, 4, 5, 6 }, new long[] { 3, 2 }, x[0]));
        yield return C("edge einsum implicit ba,ab", new[] { I(2, 3), I(3, 2) }, x => Expr.Einsum("ba,ab", x[0], x[1]).Sin(), x => torch.einsum("ba,ab", x[0], x[1]).sin());
        yield return C("edge einsum outer i,j->ij", new[] { I(3), I(2) }, x => Expr.Einsum("i,j->ij", x[0], x[1]).Sin(), x => torch.einsum("i,j->ij", x[0], x[1]).sin());
        yield return C("edge einsum iji->j", new[] { I(3, 2, 3) }, x => Expr.Einsum("iji->j", x[0]).Sin(), x => torch.einsum("iji->j", x[0]).sin());
        yield return C("edge einsum ii,i->i", new[] { I(3, 3), I(3) }, x => Expr.Einsum("ii,i->i", x[0], x[1]).Sin(), x => torch.einsum("ii,i->i", x[0], x[1]).sin());
        yield return C("edge einsum uppercase Ab,bC->AC", new[] { I(2, 3), I(3, 2) }, x => Expr.Einsum("Ab,bC->AC", x[0], x[1]).Sin(), x => torch.einsum("Ab,bC->AC", x[0], x[1]).sin());
        yield return C("edge einsum size 0 contraction", new[] { I(2, 3), I(3, 3) }, x => Expr.Einsum("ij,jk->ik", x[0].Slice(1, 0, 0), x[1].Slice(0, 0, 0)) + x[0].Sin(),
            x => torch.einsum("ij,jk->ik", x[0].slice(1, 0, 0, 1), x[1].slice(0, 0, 0, 1)) + x[0].sin());
        yield return C("edge einsum rank 0 operand ,ij->ij", new[] { I(), I(2, 3) }, x => Expr.Einsum(",ij->ij", x[0], x[1]).Sin(), x => torch.einsum(",ij->ij", x[0], x[1]).sin());
        yield return C("edge einsum i->", new[] { I(4) }, x => Expr.Einsum("i->", x[0]).Sin(), x => torch.einsum("i->", x[0]).sin());
        yield return C("edge einsum ...->...", new[] { I(2, 3) }, x => Expr.Einsum("...->...", x[0]).Sin(), x => torch.einsum("...->...", x[0]).sin());
        // ---- linear algebra ----
        yield return C("edge det singular [2,2]", new[] { I(2, 2) }, x => x[0].Det(), x => linalg.det(x[0])) with { Fixed = new[] { new double[] { 1, 2, 2, 4 } } };
        yield return C("edge det rank 2 of 3", new[] { I(3, 3) }, x => x[0].Det(), x => linalg.det(x[0])) with { Fixed = new[] { new double[] { 1, 2, 3, 4, 5, 6, 5, 7, 9 } } };
        yield return C("edge det with zero pivot [2,2]", new[] { I(2, 2) }, x => x[0].Det(), x => linalg.det(x[0])) with { Fixed = new[] { new double[] { 0, 1, 1, 0 } } };
        yield return C("edge inverse 1x1", new[] { Z(1, 1) }, x => x[0].Inverse(), x => linalg.inv(x[0]));
        yield return C("edge solve broadcast [3,3]·[2,3,2]", new[] { I(3, 3), I(2, 3, 2) }, x => Shifted(x[0]).Solve(x[1]), x => linalg.solve(Shifted(x[0]), x[1]));
        yield return C("edge solve batch broadcast [2,1,3,3]·[3,3,1]", new[] { I(2, 1, 3, 3), I(3, 3, 1) }, x => Shifted(x[0]).Solve(x[1]), x => linalg.solve(Shifted(x[0]), x[1]));
        yield return C("edge cholesky 1x1", new[] { P(1, 1) }, x => x[0].Cholesky(), x => linalg.cholesky(x[0]));
        yield return C("edge slogdet negative det", new[] { I(2, 2) }, x => { var s = x[0].SlogDet(); return Expr.Stack(0, s.Sign, s.LogAbsDet); },
            x => { var (sign, logAbs) = linalg.slogdet(x[0]); return torch.stack(new[] { sign, logAbs }, 0); }) with { Fixed = new[] { new double[] { 1, 2, 3, 1 } } };
        yield return C("edge logdet negative det", new[] { I(2, 2) }, x => x[0].LogDet(), x => torch.logdet(x[0])) with { Fixed = new[] { new double[] { 1, 2, 3, 1 } } };
        yield return C("edge logdet 1x1 batched", new[] { P(2, 1, 1) }, x => x[0].LogDet(), x => torch.logdet(x[0]));
        yield return C("edge qr 1x1", new[] { Z(1, 1) }, x => { var qr = x[0].Qr(); return Expr.Concat(0, qr.Q, qr.R); }, x => { var (q, r) = linalg.qr(x[0]); return torch.cat(new[] { q, r }, 0); });
        yield return C("edge qr column [3,1]", new[] { I(3, 1) }, x => { var qr = x[0].Qr(); return Expr.Concat(0, qr.Q, qr.R); }, x => { var (q, r) = linalg.qr(x[0]); return torch.cat(new[] { q, r }, 0); });
        yield return C("edge eigh 1x1", new[] { I(1, 1) }, x => { var e = x[0].Eigh(); return Expr.Concat(0, e.Eigenvalues.Reshape(1, 1), e.Eigenvectors.Square()); },
            x => { var (w, v) = linalg.eigh(x[0]); return torch.cat(new[] { w.reshape(1, 1), v.square() }, 0); });
        yield return C("edge eigvalsh repeated eigenvalue diag(1,1,2)", new[] { I(3, 3) }, x => x[0].EigvalsH(), x => linalg.eigvalsh(x[0]))
            with { Fixed = new[] { new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 2 } }, Why = "first order V diag(ḡ) Vᵀ; second order through the eigenvectors' 1/0, NaN in both" };
        yield return C("edge eigh vectors repeated eigenvalue diag(1,1,2)", new[] { I(3, 3) }, x => x[0].Eigh().Eigenvectors, x => linalg.eigh(x[0]).Item2)
            with { Fixed = new[] { new double[] { 1, 0, 0, 0, 1, 0, 0, 0, 2 } }, Why = "the eigenvectors' derivative does not exist at a repeated eigenvalue: both divide by the gap 0" };
        yield return C("edge eigvalsh lower triangle only", new[] { I(3, 3) }, x => x[0].EigvalsH(), x => linalg.eigvalsh(x[0]));
        yield return C("edge solveTriangular batch broadcast [2,1,3,3]·[3,3,2]", new[] { I(2, 1, 3, 3), I(3, 3, 2) }, x => Shifted(x[0]).SolveTriangular(x[1], upper: true),
            x => linalg.solve_triangular(Shifted(x[0]), x[1].expand(2, 3, 3, 2), upper: true));
    }
}
