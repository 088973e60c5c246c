using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;
using F = TorchSharp.torch.nn.functional;

namespace FunctionalDiff.Compare.Suite;

public static partial class CaseTable
{
    // fixed data of the models (not differentiated): drawn once from the seeded generator
    static double[] Data(int n, int seed) => Tensor.RandomNormal(new[] { n }, seed).ToDoubleArray();
    static readonly double[] SeedX = { 0.7, -1.2 };
    static readonly double[] SeedY = { 1.0 };
    static readonly double[] LogisticX = Data(24, 501);
    static readonly double[] LogisticY = { 1, 0, 0, 1, 1, 0 };
    static readonly double[] MlpX = Data(20, 502);
    static readonly int[] MlpTargets = { 0, 2, 1, 1, 0 };
    static readonly double[] RnnX = Data(30, 503);

    static IEnumerable<Case> Models()
    {
        // the seed question's network: 2 inputs, 3 hidden units, 1 output; W2's gradient is the 1×3 row
        yield return C("model cs229 two-layer", new[] { I(3, 2), I(3), I(1, 3), I(1) },
            p =>
            {
                var x = Const(SeedX, new[] { 2 }, p[0]);
                var a1 = (p[0].MatMul(x) + p[1]).Sigmoid();
                var a2 = (p[2].MatMul(a1) + p[3]).Sigmoid();
                return (a2 - Const(SeedY, new[] { 1 }, p[0])).Square().Sum();
            },
            p =>
            {
                var x = Const(SeedX, new long[] { 2 }, p[0]);
                var a1 = (p[0].matmul(x) + p[1]).sigmoid();
                var a2 = (p[2].matmul(a1) + p[3]).sigmoid();
                return (a2 - Const(SeedY, new long[] { 1 }, p[0])).square().sum();
            });

        yield return C("model logistic regression", new[] { I(4), I() },
            p => Loss.BinaryCrossEntropyWithLogits(Const(LogisticX, new[] { 6, 4 }, p[0]).MatMul(p[0]) + p[1], Const(LogisticY, new[] { 6 }, p[0])),
            p => F.binary_cross_entropy_with_logits(Const(LogisticX, new long[] { 6, 4 }, p[0]).matmul(p[0]) + p[1], Const(LogisticY, new long[] { 6 }, p[0])));

        yield return C("model softmax-CE MLP", new[] { I(4, 6), I(6), I(6, 3), I(3) },
            p => Loss.CrossEntropy((Const(MlpX, new[] { 5, 4 }, p[0]).MatMul(p[0]) + p[1]).Tanh().MatMul(p[2]) + p[3], MlpTargets),
            p => F.cross_entropy((Const(MlpX, new long[] { 5, 4 }, p[0]).matmul(p[0]) + p[1]).tanh().matmul(p[2]) + p[3],
                                 torch.tensor(MlpTargets.Select(t => (long)t).ToArray())));

        yield return C("model tanh RNN 10 steps", new[] { I(4, 4), I(4, 3), I(4) },
            p =>
            {
                var xs = Const(RnnX, new[] { 10, 3 }, p[0]);
                Expr h = Const(new double[4], new[] { 4 }, p[0]);
                for (int t = 0; t < 10; t++)
                    h = (p[0].MatMul(h) * 0.5 + p[1].MatMul(xs.Slice(0, t, t + 1).Reshape(3)) + p[2]).Tanh();
                return h.Square().Sum();
            },
            p =>
            {
                var xs = Const(RnnX, new long[] { 10, 3 }, p[0]);
                var h = torch.zeros(new long[] { 4 }, dtype: p[0].dtype);
                for (int t = 0; t < 10; t++)
                    h = (p[0].matmul(h) * 0.5 + p[1].matmul(xs[t]) + p[2]).tanh();
                return h.square().sum();
            }) with { Float32 = new Tolerance(1e-3, 1e-4), Why = "ten chained tanh layers amplify float32 rounding in the second-order checks" };

        // a transformer-style block with a non-scalar output: x + tanh(LN(x) W1 + b1) W2
        yield return C("model layerNorm + MLP block", new[] { I(4, 6), I(6, 8), I(8), I(8, 6) },
            p => p[0] + (p[0].LayerNorm().MatMul(p[1]) + p[2]).Tanh().MatMul(p[3]),
            p => p[0] + (F.layer_norm(p[0], new long[] { 6 }).matmul(p[1]) + p[2]).tanh().matmul(p[3]))
            with { Float32 = new Tolerance(1e-3, 1e-4), Why = "layer norm's variance divides by a small spread; float32 second order loses digits" };

        // single-head attention: softmax(Q Kᵀ / √d) V with d = 8
        yield return C("model attention", new[] { I(4, 8), I(4, 8), I(4, 8) },
            p => (p[0].MatMul(p[1].Transpose()) / Math.Sqrt(8)).Softmax(-1).MatMul(p[2]),
            p => (p[0].matmul(p[1].t()) / Math.Sqrt(8)).softmax(-1).matmul(p[2]));
    }
}
