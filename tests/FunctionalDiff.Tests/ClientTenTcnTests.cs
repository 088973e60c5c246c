using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A causal dilated 1-D convolution net (WaveNet/TCN-like) ported from PyTorch as a user writes it first:
/// <c>F.conv1d(F.pad(x, ((k - 1) * d, 0)), w, b, dilation=d)</c> with dilations 1, 2 and 4, ReLU, residuals, a 1×1 head,
/// <c>F.smooth_l1_loss</c> (and <c>F.huber_loss</c>) against the series shifted by one step, <c>clip_grad_norm_</c> and
/// Adam. The loss is compared with the same net written as loops over doubles, the gradient with its central
/// differences, causality with a perturbation of the future, and each clipped Adam step with torch's formulas.
/// </summary>
public class ClientTenTcnTests
{
    const int N = 2, L = 12, H = 3, K = 2;
    static readonly int[] Dilations = [1, 2, 4];

    static readonly (string Name, int[] Shape)[] Layout =
    [
        ("conv0.weight", [H, 1, K]), ("conv0.bias", [H]),
        ("conv1.weight", [H, H, K]), ("conv1.bias", [H]),
        ("conv2.weight", [H, H, K]), ("conv2.bias", [H]),
        ("head.weight", [1, H, 1]), ("head.bias", [1]),
    ];

    // a noisy sine per series: inputs x[t], targets x[t + 1]
    static readonly double[] Series = Enumerable.Range(0, N * (L + 1))
        .Select(i => Math.Sin(0.6 * (i % (L + 1)) + 1.3 * (i / (L + 1))) + 0.1 * Math.Cos(7.1 * i)).ToArray();

    static Tensor Inputs => Tensor.FromArray(Enumerable.Range(0, N * L).Select(i => Series[(i / L) * (L + 1) + i % L]).ToArray(), N, 1, L);
    static Tensor Targets => Tensor.FromArray(Enumerable.Range(0, N * L).Select(i => Series[(i / L) * (L + 1) + i % L + 1]).ToArray(), N, 1, L);

    static Parameters Model() =>
        Parameters.Of(Layout.Select((e, i) => (e.Name, 0.6 * Tensor.RandomNormal(e.Shape, seed: 30 + i))).ToArray());

    // ---- what a torch user writes ----

    static Expr CausalConv(Expr x, Expr w, Expr b, int dilation) =>
        Nn.Conv1d(Nn.Pad(x, [(K - 1) * dilation, 0]), w, b, dilation: dilation);   // left padding only: no look-ahead

    static Expr Forward(IReadOnlyDictionary<string, Expr> p, Expr x)
    {
        var h = CausalConv(x, p["conv0.weight"], p["conv0.bias"], Dilations[0]).Relu();
        for (int i = 1; i < Dilations.Length; i++)
            h = h + CausalConv(h, p[$"conv{i}.weight"], p[$"conv{i}.bias"], Dilations[i]).Relu();   // residual
        return Nn.Conv1d(h, p["head.weight"], p["head.bias"]);                                      // 1×1 head, [N, 1, L]
    }

    static Expr SmoothL1(IReadOnlyDictionary<string, Expr> p, Expr x, Expr y) => Loss.SmoothL1(Forward(p, x), y, beta: 0.5);

    // ---- the same net over doubles ----

    static double[] ConvRef(double[] x, int cin, int cout, double[] w, double[] b, int dilation)
    {
        var y = new double[N * cout * L];
        for (int n = 0; n < N; n++)
            for (int o = 0; o < cout; o++)
                for (int t = 0; t < L; t++)
                {
                    double s = b[o];
                    for (int c = 0; c < cin; c++)
                        for (int j = 0; j < K; j++)
                        {
                            int source = t - (K - 1 - j) * dilation;   // tap j reads (K − 1 − j)·d steps back
                            if (source >= 0) s += w[(o * cin + c) * K + j] * x[(n * cin + c) * L + source];
                        }
                    y[(n * cout + o) * L + t] = s;
                }
        return y;
    }

    static double[] ForwardRef(Dictionary<string, double[]> p, double[] x)
    {
        var h = ConvRef(x, 1, H, p["conv0.weight"], p["conv0.bias"], 1).Select(v => Math.Max(v, 0)).ToArray();
        for (int i = 1; i < Dilations.Length; i++)
        {
            var c = ConvRef(h, H, H, p[$"conv{i}.weight"], p[$"conv{i}.bias"], Dilations[i]);
            h = h.Select((v, k) => v + Math.Max(c[k], 0)).ToArray();
        }
        var y = new double[N * L];
        for (int n = 0; n < N; n++)
            for (int t = 0; t < L; t++)
            {
                double s = p["head.bias"][0];
                for (int c = 0; c < H; c++) s += p["head.weight"][c] * h[(n * H + c) * L + t];
                y[n * L + t] = s;
            }
        return y;
    }

    // torch's smooth_l1 with beta: 0.5 d²/β below β, |d| − β/2 above; huber with delta is β·smooth_l1 at β = delta
    static double SmoothL1Ref(double[] prediction, double[] target, double beta) =>
        prediction.Select((v, i) =>
        {
            double d = Math.Abs(v - target[i]);
            return d < beta ? 0.5 * d * d / beta : d - 0.5 * beta;
        }).Average();

    static Dictionary<string, double[]> Unflatten(double[] flat) => TestSupport.Unflatten(Layout, flat);

    static double[] Flat(IReadOnlyDictionary<string, Tensor> p) => Flatten(Layout, p);

    static double LossRef(double[] flat, double beta = 0.5) =>
        SmoothL1Ref(ForwardRef(Unflatten(flat), Inputs.ToDoubleArray()), Targets.ToDoubleArray(), beta);

    [Fact]
    public void LossIsTheReferenceLoopAndGradientIsCentralDifferences()
    {
        var model = Model();
        var (loss, gradients) = Diff.ValueAndGrad(p => SmoothL1(p, Inputs, Targets), model);
        var values = Expr.EvalMany([loss, .. Layout.Select(e => gradients[e.Name])]);
        Close(LossRef(Flat(model)), values[0].ToScalar(), 1e-12, "loss");
        Close(Gradient(f => LossRef(f), Flat(model)), values[1..].SelectMany(v => v.ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }

    [Fact]
    public void HuberWithDeltaIsDeltaTimesSmoothL1AndMatchesTheReference()
    {
        var model = Model();
        const double delta = 0.5;
        var huber = Loss.Huber(Forward(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), Inputs), Targets, delta).Eval().Item();
        Close(delta * LossRef(Flat(model), delta), huber, 1e-12, "huber");
    }

    [Fact]
    public void TheNetIsCausalTheFutureDoesNotMoveThePast()
    {
        var p = Model().ToDictionary(kv => kv.Key, kv => (Expr)kv.Value);
        var x = Inputs.ToDoubleArray();
        var before = Forward(p, Inputs).Eval().ToDoubleArray();
        const int changed = 7;
        x[changed] += 1.0;   // series 0, time 7
        var after = Forward(p, Tensor.FromArray(x, N, 1, L)).Eval().ToDoubleArray();
        for (int t = 0; t < changed; t++) Assert.Equal(before[t], after[t]);
        // from time 7 on, the output is the reference net's on the changed series
        Close(ForwardRef(Unflatten(Flat(Model())), x), after, 1e-12, "changed output");
        for (int t = L; t < 2 * L; t++) Assert.Equal(before[t], after[t]);   // the other series is untouched
    }

    [Fact]
    public void ClippedAdamStepsFollowTorchsFormulas()
    {
        const double lr = 0.01, maxNorm = 0.5;
        var step = Diff.CompileValueAndGrad((p, data) => SmoothL1(p, data[0], data[1]));
        var adam = new Adam(Model(), lr: lr);
        var flat = Flat(adam.Parameters);
        var m = new double[flat.Length];
        var v = new double[flat.Length];
        var losses = new List<double>();
        for (int i = 1; i <= 6; i++)
        {
            var (loss, gradients) = step.Invoke(adam.Parameters, Inputs, Targets);
            // after the first step the reference moved by central differences, within 1e-10 of the true gradient
            Close(LossRef(flat), loss.Item(), i == 1 ? 1e-12 : 1e-8, $"loss at step {i}");
            losses.Add(loss.Item());
            var (clipped, norm) = Optimizer.ClipGradNorm(gradients, maxNorm: maxNorm);
            adam.Step(clipped);

            // torch: clip_grad_norm_ scales by min(1, maxNorm / (‖g‖ + 1e-6)), then Adam's single-tensor step
            var g = Gradient(f => LossRef(f), flat);
            double total = Math.Sqrt(g.Sum(a => a * a));
            Close(total, norm, 1e-7, "gradient norm");
            double scale = Math.Min(1, maxNorm / (total + 1e-6));
            AdamStep(flat, m, v, [.. g.Select(gk => gk * scale)], i, lr);
            // Adam divides by √v̂, so a gradient entry's 1e-10 finite-difference error moves the step by at most lr·1e-10/|g|
            Close(flat, Flat(adam.Parameters), 1e-6, $"parameters after step {i}");
        }
        Assert.True(losses[^1] < losses[0], "Adam lowered the loss");
    }

    [Fact]
    public void TheChompFormOfTheOriginalTcnIsTheLeftPaddedForm()
    {
        // the TCN paper's code pads both sides by (k − 1)·d inside conv1d, then chops the last (k − 1)·d steps
        // (Chomp1d: x[:, :, :-p]); Slice with a negative stop is Python's
        var p = Model().ToDictionary(kv => kv.Key, kv => (Expr)kv.Value);
        Expr Chomped(Expr x, Expr w, Expr b, int d) => Nn.Conv1d(x, w, b, padding: (K - 1) * d, dilation: d).Slice(2, 0, -(K - 1) * d);
        var x = (Expr)Inputs;
        var h = Chomped(x, p["conv0.weight"], p["conv0.bias"], 1).Relu();
        for (int i = 1; i < Dilations.Length; i++) h = h + Chomped(h, p[$"conv{i}.weight"], p[$"conv{i}.bias"], Dilations[i]).Relu();
        var y = Nn.Conv1d(h, p["head.weight"], p["head.bias"]);
        Assert.Equal(new[] { N, 1, L }, y.Shape);
        Close(ForwardRef(Unflatten(Flat(Model())), Inputs.ToDoubleArray()), y.Eval().ToDoubleArray(), 1e-12, "chomped net");
    }
}
