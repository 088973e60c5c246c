using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // Examples for the vmap cases (issue 16): libtorch has no vmap, so the torch side loops over the
    // examples, calling autograd.grad once per example (with create_graph, so the table's VJP, JVP and
    // second-order checks differentiate through the per-example gradients as well).
    static readonly double[] VmapMlpX = Data(5 * 4, 711);
    static readonly double[] VmapMlpOneHot = { 1, 0, 0, 0, 0, 1, 0, 1, 0, 0, 1, 0, 1, 0, 0 };
    static readonly double[] VmapSeedX = Data(4 * 2, 712);
    static readonly double[] VmapSeedY = { 0.9, 0.1, 0.5, 0.3 };
    static readonly double[] VmapRnnX = Data(4 * 5 * 3, 713);
    static readonly double[] VmapAttentionX = Data(3 * 5 * 3, 714);

    static readonly int?[] SharedFourThenBatched = { null, null, null, null, 0, 0 };

    static Expr MlpExampleLoss(Expr[] p, Expr x, Expr oneHot) =>
        -(oneHot * ((x.MatMul(p[0]) + p[1]).Tanh().MatMul(p[2]) + p[3]).LogSoftmax(0)).Sum();

    static TT MlpExampleLoss(TT[] p, TT x, TT oneHot) =>
        -(oneHot * ((x.matmul(p[0]) + p[1]).tanh().matmul(p[2]) + p[3]).log_softmax(0)).sum();

    static Expr SeedExampleLoss(Expr[] p, Expr x, Expr y) =>
        ((p[2].MatMul((p[0].MatMul(x) + p[1]).Sigmoid()) + p[3]).Sigmoid() - y).Square().Sum();

    static TT SeedExampleLoss(TT[] p, TT x, TT y) =>
        ((p[2].matmul((p[0].matmul(x) + p[1]).sigmoid()) + p[3]).sigmoid() - y).square().sum();

    /// <summary>Per-example gradients of ours as one [examples, parameters] matrix.</summary>
    static Expr PerExample(Func<Expr[], Expr, Expr, Expr> loss, Expr[] p, Expr xs, Expr ys)
    {
        var gradients = Diff.Vmap(args => Diff.Grad((Expr[] q) => loss(q, args[4], args[5]))(args[..4]), SharedFourThenBatched)(
            new[] { p[0], p[1], p[2], p[3], xs, ys });
        return Expr.Concat(1, gradients.Select(g => g.Reshape(g.Shape[0], -1)).ToArray());
    }

    /// <summary>The same with torch: one autograd.grad per example, rows stacked.</summary>
    static TT PerExample(Func<TT[], TT, TT, TT> loss, TT[] p, TT xs, TT ys, long count) =>
        torch.stack(Enumerable.Range(0, (int)count).Select(b =>
            torch.cat(TorchSide.Grad(loss(p, xs[b], ys[b]), p, null, createGraph: true)
                .Select((g, i) => (g ?? torch.zeros_like(p[i])).reshape(-1)).ToArray(), 0)), 0);

    static IEnumerable<Case> Vmap()
    {
        yield return C("vmap per-example gradients, softmax-CE MLP", new[] { I(4, 6), I(6), I(6, 3), I(3) },
            p => PerExample(MlpExampleLoss, p, Const(VmapMlpX, new[] { 5, 4 }, p[0]), Const(VmapMlpOneHot, new[] { 5, 3 }, p[0])),
            p => PerExample(MlpExampleLoss, p, Const(VmapMlpX, new long[] { 5, 4 }, p[0]), Const(VmapMlpOneHot, new long[] { 5, 3 }, p[0]), 5));

        yield return C("vmap per-example gradients, cs229 two-layer", new[] { I(3, 2), I(3), I(1, 3), I(1) },
            p => PerExample(SeedExampleLoss, p, Const(VmapSeedX, new[] { 4, 2 }, p[0]), Const(VmapSeedY, new[] { 4, 1 }, p[0])),
            p => PerExample(SeedExampleLoss, p, Const(VmapSeedX, new long[] { 4, 2 }, p[0]), Const(VmapSeedY, new long[] { 4, 1 }, p[0]), 4));

        // The batch of losses: the table's VJP is grad(vmap f), its JVP jvp(vmap f).
        yield return C("vmap per-example losses, tanh RNN 5 steps", new[] { I(4, 4), I(4, 3), I(4) },
            p => Diff.Vmap((Expr[] a) =>
                {
                    Expr h = Const(new double[4], new[] { 4 }, p[0]);
                    for (int t = 0; t < 5; t++)
                        h = (a[0].MatMul(h) * 0.5 + a[1].MatMul(a[3].Slice(0, t, t + 1).Reshape(3)) + a[2]).Tanh();
                    return h.Square().Sum();
                }, new int?[] { null, null, null, 0 })(new[] { p[0], p[1], p[2], Const(VmapRnnX, new[] { 4, 5, 3 }, p[0]) }),
            p =>
            {
                var xs = Const(VmapRnnX, new long[] { 4, 5, 3 }, p[0]);
                return torch.stack(Enumerable.Range(0, 4).Select(b =>
                {
                    var h = torch.zeros(new long[] { 4 }, dtype: p[0].dtype);
                    for (int t = 0; t < 5; t++)
                        h = (p[0].matmul(h) * 0.5 + p[1].matmul(xs[b][t]) + p[2]).tanh();
                    return h.square().sum();
                }), 0);
            });

        // Attention with the examples on axis 1 of x and on axis 1 of the result.
        yield return C("vmap attention over examples on axis 1", new[] { I(3, 4), I(3, 4), I(3, 4) },
            p => Diff.Vmap((Expr[] a) =>
                {
                    var (q, k, v) = (a[3].MatMul(a[0]), a[3].MatMul(a[1]), a[3].MatMul(a[2]));
                    return (q.MatMul(k.Transpose()) / 2.0).Softmax(-1).MatMul(v);
                }, new int?[] { null, null, null, 1 }, outAxis: 1)(new[] { p[0], p[1], p[2], Const(VmapAttentionX, new[] { 5, 3, 3 }, p[0]) }),
            p =>
            {
                var xs = Const(VmapAttentionX, new long[] { 5, 3, 3 }, p[0]);
                return torch.stack(Enumerable.Range(0, 3).Select(b =>
                {
                    var x = xs[.., b];
                    var (q, k, v) = (x.matmul(p[0]), x.matmul(p[1]), x.matmul(p[2]));
                    return (q.matmul(k.t()) / 2.0).softmax(-1).matmul(v);
                }), 1);
            });

        // Jacobians and Hessians are batched over the basis; torch builds them row by row.
        yield return C("vmap-built Jacobian of tanh(W x)", new[] { I(4, 3), I(3) },
            p => Diff.Jacobian(x => p[0].MatMul(x).Tanh())(p[1]),
            p => TorchJacobianRows(p[0].matmul(p[1]).tanh(), p[1]));
        yield return C("vmap-built Jacobian of tanh(W x), chunks of 3", new[] { I(4, 3), I(3) },
            p => Diff.Jacobian(x => p[0].MatMul(x).Tanh(), chunkSize: 3)(p[1]),
            p => TorchJacobianRows(p[0].matmul(p[1]).tanh(), p[1]));
        yield return C("vmap-built Hessian of sum(tanh(W x)²)", new[] { I(4, 3), I(3) },
            p => Diff.Hessian(x => p[0].MatMul(x).Tanh().Square().Sum())(p[1]),
            p => TorchJacobianRows(TorchSide.Grad(p[0].matmul(p[1]).tanh().square().sum(), new[] { p[1] }, null, createGraph: true)[0]!, p[1]));
    }

    /// <summary>The Jacobian of y in x, one autograd.grad per entry of y (kept differentiable).</summary>
    static TT TorchJacobianRows(TT y, TT x) =>
        torch.stack(Enumerable.Range(0, (int)y.numel()).Select(i =>
            TorchSide.Grad(y.reshape(-1)[i], new[] { x }, null, createGraph: true)[0] ?? torch.zeros_like(x)), 0)
            .reshape(y.shape.Concat(x.shape).ToArray());
}
