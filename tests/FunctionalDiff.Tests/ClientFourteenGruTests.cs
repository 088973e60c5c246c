using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's character-level GRU language model, ported from the scratch client that found what to fix: an
/// <c>nn.Embedding</c> with <c>padding_idx</c>, <c>nn.GRUCell</c> (<see cref="Nn.GruCell"/>) run by <see cref="Expr.Scan(Func{Expr, Expr, ValueTuple{Expr, Expr}}, Expr, Expr)"/>
/// over time-first inputs with teacher forcing, cross-entropy over every position with <c>ignore_index</c> for the padding,
/// <c>clip_grad_norm_</c> and Adam, in a compiled step. Every loss, norm and parameter is held to the same program written
/// over doubles: the GRU as loops, its gradient by central differences, clip_grad_norm_ and torch's Adam written out.
/// </summary>
public class ClientFourteenGruTests
{
    const int Pad = 0, V = 6, E = 3, H = 4, Steps = 3;
    const double MaxNorm = 0.1;
    // three padded sequences of ids 1..5 (0 pads); targets are the inputs shifted by one, padded with 0 as well
    static readonly double[,] Inputs = { { 1, 2, 3, 3, 4 }, { 2, 5, 1, 0, 0 }, { 4, 3, 0, 0, 0 } };
    static readonly double[,] Targets = { { 2, 3, 3, 4, 5 }, { 5, 1, 4, 0, 0 }, { 3, 1, 0, 0, 0 } };
    static int B => Inputs.GetLength(0);
    static int T => Inputs.GetLength(1);
    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("emb.weight", [V, E]), ("gru.weight_ih", [3 * H, E]), ("gru.weight_hh", [3 * H, H]),
        ("gru.bias_ih", [3 * H]), ("gru.bias_hh", [3 * H]), ("fc.weight", [V, H]), ("fc.bias", [V]),
    ];

    static Parameters InitialModel()
    {
        double k = 1 / Math.Sqrt(H);   // nn.GRUCell's U(−1/√H, 1/√H)
        return Parameters.Of(
            ("emb.weight", Tensor.RandomNormal([V, E], seed: 1)),
            ("gru.weight_ih", Init.Uniform([3 * H, E], seed: 2, low: -k, high: k)),
            ("gru.weight_hh", Init.Uniform([3 * H, H], seed: 3, low: -k, high: k)),
            ("gru.bias_ih", Init.Uniform([3 * H], seed: 4, low: -k, high: k)),
            ("gru.bias_hh", Init.Uniform([3 * H], seed: 5, low: -k, high: k)),
            ("fc.weight", Init.XavierUniform([V, H], seed: 6)), ("fc.bias", Tensor.Zeros(V)));
    }

    // ---- the client, as written against the README ----

    static Expr LossOf(IReadOnlyDictionary<string, Expr> p, Expr inputs, Expr targets)
    {
        var x = Nn.Embedding(inputs, p["emb.weight"], paddingIdx: Pad);                       // [B, T, E]
        var (_, hs) = Expr.Scan((h, xt) =>
        {
            var next = Nn.GruCell(xt, h, p["gru.weight_ih"], p["gru.weight_hh"], p["gru.bias_ih"], p["gru.bias_hh"]);
            return (next, next);
        }, Expr.Zeros(B, H), x.Transpose(0, 1));                                                // hs: [T, B, H]
        var logits = Nn.Linear(hs.Transpose(0, 1), p["fc.weight"], p["fc.bias"]);              // [B, T, V]
        return Loss.CrossEntropy(logits.Reshape(-1, V), targets.Reshape(-1), ignoreIndex: Pad);
    }

    sealed record ClientRun(List<double> Losses, List<double> Norms, List<Parameters> Gradients, Parameters Trained, double KDimLoss);

    static ClientRun RunClient()
    {
        var step = Diff.CompileValueAndGrad((p, data) => LossOf(p, data[0], data[1]));
        var adam = new Adam(InitialModel(), lr: 0.01);
        List<double> losses = [], norms = [];
        List<Parameters> gradients = [];
        for (int t = 0; t < Steps; t++)
        {
            var (loss, g) = step.Invoke(adam.Parameters, Tensor.FromArray(Inputs), Tensor.FromArray(Targets));
            var (clipped, norm) = Optimizer.ClipGradNorm(g, maxNorm: MaxNorm);
            adam.Step(clipped);
            losses.Add(loss.ToScalar());
            norms.Add(norm);
            gradients.Add(g);
        }
        Assert.Equal(1, step.TraceCount);
        // torch's K-dimensional form, logits [B, V, T] against targets [B, T], is the same loss
        var p = adam.Parameters.AsExprs();
        var kDim = Loss.CrossEntropy(KDimLogits(p, Tensor.FromArray(Inputs)), Tensor.FromArray(Targets), ignoreIndex: Pad).Eval().ToScalar();
        return new(losses, norms, gradients, adam.Parameters, kDim);
    }

    static Expr KDimLogits(IReadOnlyDictionary<string, Expr> p, Expr inputs)
    {
        var x = Nn.Embedding(inputs, p["emb.weight"], paddingIdx: Pad);
        var (_, hs) = Expr.Scan((h, xt) =>
        {
            var next = Nn.GruCell(xt, h, p["gru.weight_ih"], p["gru.weight_hh"], p["gru.bias_ih"], p["gru.bias_hh"]);
            return (next, next);
        }, Expr.Zeros(B, H), x.Transpose(0, 1));
        return Nn.Linear(hs.Transpose(0, 1), p["fc.weight"], p["fc.bias"]).Transpose(1, 2);   // [B, V, T]
    }

    // ---- the same program over doubles ----

    static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));

    /// <summary>The mean over the non-padding targets of −log softmax(W h_t + b)[y_t], h_t by torch's GRU cell.</summary>
    static double ReferenceLoss(Dictionary<string, double[]> p)
    {
        double total = 0;
        int counted = 0;
        for (int b = 0; b < B; b++)
        {
            var h = new double[H];
            for (int t = 0; t < T; t++)
            {
                int id = (int)Inputs[b, t];
                var x = p["emb.weight"].Skip(id * E).Take(E).ToArray();
                var gi = Linear(x, 1, E, 3 * H, p["gru.weight_ih"], p["gru.bias_ih"]);
                var gh = Linear(h, 1, H, 3 * H, p["gru.weight_hh"], p["gru.bias_hh"]);
                var next = new double[H];
                for (int j = 0; j < H; j++)
                {
                    double r = Sigmoid(gi[j] + gh[j]), z = Sigmoid(gi[H + j] + gh[H + j]);
                    double n = Math.Tanh(gi[2 * H + j] + r * gh[2 * H + j]);
                    next[j] = (1 - z) * n + z * h[j];
                }
                h = next;
                int y = (int)Targets[b, t];
                if (y == Pad) continue;
                var logits = Linear(h, 1, H, V, p["fc.weight"], p["fc.bias"]);
                double m = logits.Max();
                total += m + Math.Log(logits.Sum(v => Math.Exp(v - m))) - logits[y];
                counted++;
            }
        }
        return total / counted;
    }

    static double LossAt(double[] flat) => ReferenceLoss(Unflatten(Layout, flat));

    [Fact]
    public void TheGruLanguageModelTrainsAsTheSameProgramWrittenOverDoubles()
    {
        var run = RunClient();
        var theta = Flatten(Layout, InitialModel());
        var m = new double[theta.Length];
        var v = new double[theta.Length];
        for (int t = 0; t < Steps; t++)
        {
            Close(LossAt(theta), run.Losses[t], 1e-10, $"loss {t}");
            var g = Gradient(LossAt, theta);
            Close(g, Flatten(Layout, run.Gradients[t]), 1e-6, $"gradient {t}");
            double norm = Math.Sqrt(g.Sum(e => e * e));
            Close(norm, run.Norms[t], 1e-6, $"norm {t}");
            Assert.True(norm > MaxNorm, "the clipping is active");
            // clip_grad_norm_(max_norm) then torch's Adam (lr 0.01, betas 0.9/0.999, eps 1e-8)
            double factor = Math.Min(1.0, MaxNorm / (norm + 1e-6));
            AdamStep(theta, m, v, [.. g.Select(gi => gi * factor)], t + 1, 0.01);
        }
        Close(theta, Flatten(Layout, run.Trained), 1e-6, "trained parameters");
        Assert.True(run.Losses[^1] < run.Losses[0], "the loss falls");
        // padding_idx: the padding row passes no gradient (and no target reads it here, so its central differences are 0 too)
        Assert.All(run.Gradients[0]["emb.weight"].ToDoubleArray().Take(E), g => Assert.Equal(0.0, g));
        Close(LossAt(theta), run.KDimLoss, 1e-10, "[N, C, d] form");
    }

    [Fact]
    public void GruCellIsTorchsCellOnAnUnbatchedStepAndABatchWithoutBiases()
    {
        var x = Tensor.RandomNormal([2, 3], seed: 7);
        var h = Tensor.RandomNormal([2, 4], seed: 8);
        var wIh = Tensor.RandomNormal([12, 3], seed: 9);
        var wHh = Tensor.RandomNormal([12, 4], seed: 10);
        var bIh = Tensor.RandomNormal([12], seed: 11);
        var bHh = Tensor.RandomNormal([12], seed: 12);
        double[] Cell(double[] xv, double[] hv, double[] bi, double[] bh)
        {
            var gi = Linear(xv, 1, 3, 12, wIh.ToDoubleArray(), bi);
            var gh = Linear(hv, 1, 4, 12, wHh.ToDoubleArray(), bh);
            return Enumerable.Range(0, 4).Select(j =>
            {
                double r = Sigmoid(gi[j] + gh[j]), z = Sigmoid(gi[4 + j] + gh[4 + j]);
                return (1 - z) * Math.Tanh(gi[8 + j] + r * gh[8 + j]) + z * hv[j];
            }).ToArray();
        }
        Close(Cell(x.Row(0).ToDoubleArray(), h.Row(0).ToDoubleArray(), bIh.ToDoubleArray(), bHh.ToDoubleArray()),
            Nn.GruCell(x.Row(0), h.Row(0), wIh, wHh, bIh, bHh).Eval().ToDoubleArray(), 1e-14, "unbatched");
        var zeros = new double[12];
        var batch = Nn.GruCell(x, h, wIh, wHh).Eval().ToDoubleArray();
        for (int b = 0; b < 2; b++)
            Close(Cell(x.Row(b).ToDoubleArray(), h.Row(b).ToDoubleArray(), zeros, zeros), batch.Skip(4 * b).Take(4).ToArray(), 1e-14, $"row {b}");
        // float32 stays float32
        Assert.Equal(DType.Float32, Nn.GruCell(x.To(DType.Float32), h.To(DType.Float32), wIh.To(DType.Float32), wHh.To(DType.Float32)).DType);
    }

    [Fact]
    public void GruCellShapeErrorsNameTheMethodAndEveryShape()
    {
        var e = Assert.ThrowsAny<ArgumentException>(() => Nn.GruCell(Tensor.Ones(2, 3), Tensor.Ones(2, 4), Tensor.Ones(12, 4), Tensor.Ones(12, 4)));
        Assert.StartsWith("GruCell", e.Message);
        Assert.Contains("[2,3]", e.Message);
        Assert.Contains("[12,4]", e.Message);
        var missing = Assert.Throws<ArgumentNullException>(() => Nn.GruCell(Tensor.Ones(2, 3), null!, Tensor.Ones(12, 3), Tensor.Ones(12, 4)));
        Assert.Equal("hidden", missing.ParamName);
    }

    [Fact]
    public void AConstantTargetTensorHoldingTorchsDefaultIgnoreIndexIsRefusedWhenTheLossIsBuilt()
    {
        var logits = Tensor.RandomNormal([3, 4], seed: 13);
        // torch ignores −100 by default; here it must be asked for, and a constant target tensor says so at once, as an int[]
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.CrossEntropy(logits, (Expr)Tensor.FromArray([1, -100, 2])));
        Assert.Equal("targets", e.ParamName);
        Assert.StartsWith("CrossEntropy: target 1 is -100", e.Message);
        Assert.Contains("[3,4]", e.Message);
        Assert.Contains("ignoreIndex: -100", e.Message);
        // the K-dimensional form and NllLoss check the same way
        var k = Assert.Throws<ArgumentOutOfRangeException>(() =>
            Loss.CrossEntropy(Tensor.RandomNormal([2, 4, 3], seed: 14), (Expr)Tensor.FromArray(new[,] { { 1, 4, 0 }, { 2, 2, 2 } })));
        Assert.StartsWith("CrossEntropy: target 1 is 4", k.Message);
        var nll = Assert.Throws<ArgumentOutOfRangeException>(() => Loss.NllLoss(logits.LogSoftmax(1), (Expr)Tensor.FromArray([0.5, 1, 2])));
        Assert.StartsWith("NllLoss: target 0 is 0.5", nll.Message);
        // with ignoreIndex the same tensor is torch's ignore: the mean over the kept examples of −log softmax at the target
        var z = logits.ToDoubleArray();
        double Nll(int n, int y)
        {
            var row = z.Skip(4 * n).Take(4).ToArray();
            double m = row.Max();
            return m + Math.Log(row.Sum(v => Math.Exp(v - m))) - row[y];
        }
        Close((Nll(0, 1) + Nll(2, 2)) / 2,
            Loss.CrossEntropy(logits, (Expr)Tensor.FromArray([1, -100, 2]), ignoreIndex: -100).Eval().ToScalar(), 1e-14, "ignored");
        // probabilities of the logits' shape are not indices, so a constant of them is not checked as such
        var uniform = Loss.CrossEntropy(logits, (Expr)Tensor.Full([3, 4], 0.25)).Eval().ToScalar();
        Close(Enumerable.Range(0, 3).Average(n => Enumerable.Range(0, 4).Average(c => Nll(n, c))), uniform, 1e-14, "probabilities");
    }
}
