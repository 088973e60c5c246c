using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's word-level LSTM language model: <c>nn.Embedding</c>, <c>nn.LSTMCell</c> (<see cref="Nn.LstmCell"/>)
/// run over time-first inputs by <see cref="Expr.Scan(Func{Expr[], Expr[], ValueTuple{Expr[], Expr[]}}, Expr[], Expr[])"/>
/// with the carry (h, c), a linear decoder, cross-entropy over every position, <c>clip_grad_norm_</c> and
/// <c>torch.optim.AdamW</c>, in a compiled step. Held to the same program over doubles: the LSTM as loops, its gradient
/// by central differences, and clip_grad_norm_ (the total norm over every parameter, scaled by
/// max_norm / (norm + 1e-6) when above) and AdamW's decoupled weight decay written out.
/// </summary>
public class ClientNineteenLstmLanguageModelTests
{
    const int V = 6, E = 3, H = 4, Steps = 3;
    const double MaxNorm = 0.1, Lr = 0.02, WeightDecay = 0.1, Beta1 = 0.9, Beta2 = 0.999, Epsilon = 1e-8;
    static readonly double[,] Inputs = { { 1, 2, 3, 3, 4 }, { 2, 5, 1, 0, 4 } };
    static readonly double[,] Targets = { { 2, 3, 3, 4, 5 }, { 5, 1, 0, 4, 2 } };
    static int B => Inputs.GetLength(0);
    static int Time => Inputs.GetLength(1);

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("emb.weight", [V, E]), ("lstm.weight_ih", [4 * H, E]), ("lstm.weight_hh", [4 * H, H]),
        ("lstm.bias_ih", [4 * H]), ("lstm.bias_hh", [4 * H]), ("fc.weight", [V, H]), ("fc.bias", [V]),
    ];

    static Parameters InitialModel()
    {
        double k = 1 / Math.Sqrt(H);   // nn.LSTMCell's U(−1/√H, 1/√H)
        return Parameters.Of(
            ("emb.weight", Tensor.RandomNormal([V, E], seed: 11)),
            ("lstm.weight_ih", Init.Uniform([4 * H, E], seed: 12, low: -k, high: k)),
            ("lstm.weight_hh", Init.Uniform([4 * H, H], seed: 13, low: -k, high: k)),
            ("lstm.bias_ih", Init.Uniform([4 * H], seed: 14, low: -k, high: k)),
            ("lstm.bias_hh", Init.Uniform([4 * H], seed: 15, low: -k, high: k)),
            ("fc.weight", Init.XavierUniform([V, H], seed: 16)), ("fc.bias", Tensor.Zeros(V)));
    }

    // ---- the client, as written against the README ----

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr inputs, Expr targets)
    {
        var x = Nn.Embedding(inputs, p["emb.weight"]).Transpose(0, 1);                       // [T, B, E]
        var (_, ys) = Expr.Scan((state, xt) =>
        {
            var (h, c) = Nn.LstmCell(xt[0], (state[0], state[1]),
                p["lstm.weight_ih"], p["lstm.weight_hh"], p["lstm.bias_ih"], p["lstm.bias_hh"]);
            return ([h, c], [h]);
        }, [Expr.Zeros(B, H), Expr.Zeros(B, H)], [x]);                                       // ys[0]: [T, B, H]
        var logits = Nn.Linear(ys[0].Transpose(0, 1), p["fc.weight"], p["fc.bias"]);          // [B, T, V]
        return Loss.CrossEntropy(logits.Reshape(-1, V), targets.Reshape(-1));
    }

    // ---- the reference over doubles ----

    static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    static double ReferenceLoss(double[] flat)
    {
        var w = Unflatten(Layout, flat);
        double total = 0;
        for (int b = 0; b < B; b++)
        {
            double[] h = new double[H], c = new double[H];
            for (int t = 0; t < Time; t++)
            {
                var e = w["emb.weight"][((int)Inputs[b, t] * E)..((int)Inputs[b, t] * E + E)];
                var gi = Linear(e, 1, E, 4 * H, w["lstm.weight_ih"], w["lstm.bias_ih"]);
                var gh = Linear(h, 1, H, 4 * H, w["lstm.weight_hh"], w["lstm.bias_hh"]);
                var gates = gi.Zip(gh, (u, v) => u + v).ToArray();
                for (int j = 0; j < H; j++)
                    c[j] = Sigmoid(gates[H + j]) * c[j] + Sigmoid(gates[j]) * Math.Tanh(gates[2 * H + j]);
                h = Enumerable.Range(0, H).Select(j => Sigmoid(gates[3 * H + j]) * Math.Tanh(c[j])).ToArray();
                var logits = Linear(h, 1, H, V, w["fc.weight"], w["fc.bias"]);
                double m = logits.Max();
                total += m + Math.Log(logits.Sum(z => Math.Exp(z - m))) - logits[(int)Targets[b, t]];
            }
        }
        return total / (B * Time);
    }

    [Fact]
    public void ClippedAdamWStepsAreTorchsWrittenOut()
    {
        var step = Diff.CompileValueAndGrad((p, data) => LossOf(p, data[0], data[1]));
        var optimizer = new AdamW(InitialModel(), lr: Lr, weightDecay: WeightDecay);
        var p = Flatten(Layout, InitialModel());
        double[] m = new double[p.Length], v = new double[p.Length];
        var losses = new List<double>();
        bool clippedOnce = false;
        for (int k = 1; k <= Steps; k++)
        {
            var (loss, gradients) = step.Invoke(optimizer.Parameters, Tensor.FromArray(Inputs), Tensor.FromArray(Targets));
            losses.Add(loss.ToScalar());
            Close(ReferenceLoss(p), loss.ToScalar(), 1e-13, $"loss {k}");
            var g = Flatten(Layout, gradients);
            Close(Gradient(ReferenceLoss, p), g, 1e-8, $"gradient {k}");

            var (clipped, norm) = Optimizer.ClipGradNorm(gradients, maxNorm: MaxNorm);
            // clip_grad_norm_: the 2-norm over every parameter's gradient at once, and the scale only when above max_norm
            double total = Math.Sqrt(g.Sum(e => e * e));
            Close(total, norm, 1e-14, $"total norm {k}");
            double scale = Math.Min(1, MaxNorm / (total + 1e-6));
            clippedOnce |= scale < 1;
            var gc = g.Select(e => e * scale).ToArray();
            Close(gc, Flatten(Layout, clipped), 1e-14, $"clipped gradient {k}");

            optimizer.Step(clipped);
            // AdamW: the weight decays by lr·λ first, apart from the gradient, then Adam's step
            double correction1 = 1 - Math.Pow(Beta1, k), correction2 = 1 - Math.Pow(Beta2, k);
            for (int i = 0; i < p.Length; i++)
            {
                p[i] *= 1 - Lr * WeightDecay;
                m[i] = Beta1 * m[i] + (1 - Beta1) * gc[i];
                v[i] = Beta2 * v[i] + (1 - Beta2) * gc[i] * gc[i];
                p[i] -= Lr / correction1 * m[i] / (Math.Sqrt(v[i]) / Math.Sqrt(correction2) + Epsilon);
            }
            Close(p, Flatten(Layout, optimizer.Parameters), 1e-12, $"parameters after step {k}");
        }
        Assert.True(clippedOnce, "the clipping is active in some step");
        Assert.Equal(1, step.TraceCount);
        Assert.True(losses[^1] < losses[0], "the loss falls");
    }

    [Fact]
    public void LstmCellIsTorchsGateOrderOverABatch()
    {
        // one step from a nonzero state: (h', c') against the cell written out, entry by entry
        var (x, h, c) = (T([B, E], 60), T([B, H], 61), T([B, H], 62));
        var (wIh, wHh, bIh, bHh) = (T([4 * H, E], 63), T([4 * H, H], 64), T([4 * H], 65), T([4 * H], 66));
        var (h1, c1) = Nn.LstmCell(x, (h, c), wIh, wHh, bIh, bHh);
        var values = Expr.EvalMany([h1, c1]);
        var gi = Linear(x.ToDoubleArray(), B, E, 4 * H, wIh.ToDoubleArray(), bIh.ToDoubleArray());
        var gh = Linear(h.ToDoubleArray(), B, H, 4 * H, wHh.ToDoubleArray(), bHh.ToDoubleArray());
        var (hv, cv) = (new double[B * H], new double[B * H]);
        for (int b = 0; b < B; b++)
            for (int j = 0; j < H; j++)
            {
                double Gate(int q) => gi[b * 4 * H + q * H + j] + gh[b * 4 * H + q * H + j];
                cv[b * H + j] = Sigmoid(Gate(1)) * c.ToDoubleArray()[b * H + j] + Sigmoid(Gate(0)) * Math.Tanh(Gate(2));
                hv[b * H + j] = Sigmoid(Gate(3)) * Math.Tanh(cv[b * H + j]);
            }
        Close(hv, values[0].ToDoubleArray(), 1e-15, "h'");
        Close(cv, values[1].ToDoubleArray(), 1e-15, "c'");

        // without biases, as nn.LSTMCell(bias=False); and the gradient of the cell in its weight by central differences
        var noBias = Nn.LstmCell(x, (h, c), wIh, wHh).Hidden.Eval().ToDoubleArray();
        var giNoBias = Linear(x.ToDoubleArray(), B, E, 4 * H, wIh.ToDoubleArray(), new double[4 * H]);
        var ghNoBias = Linear(h.ToDoubleArray(), B, H, 4 * H, wHh.ToDoubleArray(), new double[4 * H]);
        double first = Sigmoid(giNoBias[3 * H] + ghNoBias[3 * H])
            * Math.Tanh(Sigmoid(giNoBias[H] + ghNoBias[H]) * c.ToDoubleArray()[0] + Sigmoid(giNoBias[0] + ghNoBias[0]) * Math.Tanh(giNoBias[2 * H] + ghNoBias[2 * H]));
        Close(first, noBias[0], 1e-15, "h'[0, 0] without biases");
        Func<Expr, Expr> f = w => Nn.LstmCell(x, (h, c), w, wHh, bIh, bHh).Cell.Square().Sum();
        Close(NumericGradient(f, wIh), Diff.Grad(f)(wIh).Eval().ToDoubleArray(), 1e-8, "d cell / d weightIh");
    }

    [Fact]
    public void LstmCellNamesItselfAndTheShapes()
    {
        var (x, h, c) = (T([B, E]), T([B, H]), T([B, H]));
        // weightIh laid out [in, 4H], the transpose of torch's
        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.LstmCell(x, (h, c), T([E, 4 * H]), T([4 * H, H])));
        Assert.StartsWith("LstmCell", e.Message);
        Assert.Contains("[3,16]", e.Message);
        Assert.StartsWith("LstmCell", Assert.ThrowsAny<ArgumentException>(() => Nn.LstmCell(x, (h, T([B, H + 1])), T([4 * H, E]), T([4 * H, H]))).Message);
        Assert.Equal("state.Cell", Assert.Throws<ArgumentNullException>(() => Nn.LstmCell(x, (h, null!), T([4 * H, E]), T([4 * H, H]))).ParamName);
    }
}
