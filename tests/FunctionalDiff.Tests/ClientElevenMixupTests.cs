using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Label smoothing, mixup and gradient accumulation ported from PyTorch as a user writes them: a 2-layer classifier,
/// <c>F.cross_entropy(logits, y, label_smoothing=0.1)</c> (torch's (1 − ε)·nll + ε·mean over classes of −log p), mixup of
/// two batches with λ drawn from a Beta and passed in as data (<c>λ·CE(f(x̃), y₁) + (1 − λ)·CE(f(x̃), y₂)</c>, and the same
/// as CE against the mixed one-hot probabilities), and the gradient accumulated over 4 micro-batches equal to the
/// full batch's. Each is held to the classifier written with doubles, and its gradient to central differences.
/// </summary>
public class ClientElevenMixupTests
{
    const int N = 8, In = 3, H = 4, K = 3;
    const double Smoothing = 0.1;

    static readonly (string Name, int[] Shape)[] Layout =
        [("fc1.weight", [H, In]), ("fc1.bias", [H]), ("fc2.weight", [K, H]), ("fc2.bias", [K])];

    static Parameters Model() => Parameters.Of(Layout.Select((e, i) => (e.Name, 0.8 * T(e.Shape, 40 + i))).ToArray());

    static readonly Tensor X1 = T([N, In], 1), X2 = T([N, In], 2);
    static readonly int[] Y1 = [0, 2, 1, 1, 0, 2, 2, 1], Y2 = [1, 1, 0, 2, 2, 0, 1, 0];

    // ---- what a torch user writes ----

    static Expr Forward(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["fc1.weight"], p["fc1.bias"]).Tanh(), p["fc2.weight"], p["fc2.bias"]);

    static Expr MixupLoss(IReadOnlyDictionary<string, Expr> p, Expr x1, Expr y1, Expr x2, Expr y2, Expr lambda)
    {
        var logits = Forward(p, lambda * x1 + (1 - lambda) * x2);
        return lambda * Loss.CrossEntropy(logits, y1, labelSmoothing: Smoothing) + (1 - lambda) * Loss.CrossEntropy(logits, y2, labelSmoothing: Smoothing);
    }

    // ---- the classifier over doubles ----

    static double[][] LogSoftmaxRef(Dictionary<string, double[]> p, double[] x, int rows)
    {
        var h = Linear(x, rows, In, H, p["fc1.weight"], p["fc1.bias"]).Select(Math.Tanh).ToArray();
        var z = Linear(h, rows, H, K, p["fc2.weight"], p["fc2.bias"]);
        return Enumerable.Range(0, rows).Select(r =>
        {
            var row = z[(r * K)..((r + 1) * K)];
            double m = row.Max(), s = Math.Log(row.Sum(v => Math.Exp(v - m))) + m;
            return row.Select(v => v - s).ToArray();
        }).ToArray();
    }

    // torch's label smoothing: (1 − ε)·(−log p_y) + ε/K·Σ_c (−log p_c), averaged over the rows
    static double SmoothedRef(double[][] logp, int[] y, double eps) =>
        logp.Select((row, r) => -(1 - eps) * row[y[r]] - eps / K * row.Sum()).Average();

    static double MixupRef(double[] flat, double lambda)
    {
        var p = Unflatten(Layout, flat);
        var x = X1.ToDoubleArray().Zip(X2.ToDoubleArray(), (a, b) => lambda * a + (1 - lambda) * b).ToArray();
        var logp = LogSoftmaxRef(p, x, N);
        return lambda * SmoothedRef(logp, Y1, Smoothing) + (1 - lambda) * SmoothedRef(logp, Y2, Smoothing);
    }

    static Tensor Labels(int[] y) => Tensor.FromArray(y);

    [Fact]
    public void LabelSmoothingIsTorchsFormulaForIndicesAndForProbabilities()
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        var logp = LogSoftmaxRef(Unflatten(Layout, flat), X1.ToDoubleArray(), N);
        var logits = Forward(model.ToDictionary(kv => kv.Key, kv => (Expr)kv.Value), X1);
        Close(SmoothedRef(logp, Y1, Smoothing), Loss.CrossEntropy(logits, Y1, labelSmoothing: Smoothing).Eval().Item(), 1e-14, "int[] targets");
        Close(SmoothedRef(logp, Y1, Smoothing), Loss.CrossEntropy(logits, Labels(Y1), labelSmoothing: Smoothing).Eval().Item(), 1e-14, "index tensor");
        // probability targets: torch smooths them to (1 − ε)·t + ε/K, so one-hot targets give the same loss
        Close(SmoothedRef(logp, Y1, Smoothing), Loss.CrossEntropy(logits, Labels(Y1).OneHot(K), labelSmoothing: Smoothing).Eval().Item(), 1e-14, "one-hot");
        var g = Diff.Grad(p => Loss.CrossEntropy(Forward(p, X1), Y1, labelSmoothing: Smoothing), model);
        Close(Gradient(f => SmoothedRef(LogSoftmaxRef(Unflatten(Layout, f), X1.ToDoubleArray(), N), Y1, Smoothing), flat),
            Layout.SelectMany(e => g[e.Name].Eval().ToDoubleArray()).ToArray(), 1e-7, "gradient");
    }

    [Fact]
    public void MixupWithLambdaAsDataIsTheReferenceInBothForms()
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        // λ ~ Beta(0.4, 0.4), drawn outside and passed in: one compiled step serves every draw
        var step = Diff.CompileValueAndGrad((p, d) => MixupLoss(p, d[0], d[1], d[2], d[3], d[4]));
        foreach (var lambda in new[] { 0.83, 0.12 })
        {
            var (loss, gradients) = step.Invoke(model, X1, Labels(Y1), X2, Labels(Y2), Tensor.Scalar(lambda));
            Close(MixupRef(flat, lambda), loss.Item(), 1e-13, $"loss at λ {lambda}");
            Close(Gradient(f => MixupRef(f, lambda), flat), Flatten(Layout, gradients), 1e-7, $"gradient at λ {lambda}");

            // the other form: cross entropy against the mixed one-hot probabilities (torch's probability targets),
            // equal because the smoothed loss is linear in the target
            var soft = lambda * Labels(Y1).OneHot(K) + (1 - lambda) * Labels(Y2).OneHot(K);
            var x = lambda * X1 + (1 - lambda) * X2;
            var softLoss = Diff.ValueAndGrad(p => Loss.CrossEntropy(Forward(p, x), soft, labelSmoothing: Smoothing), model);
            Close(MixupRef(flat, lambda), softLoss.Value.Eval().Item(), 1e-13, $"soft-target loss at λ {lambda}");
            Close(Gradient(f => MixupRef(f, lambda), flat), Layout.SelectMany(e => softLoss.Gradients[e.Name].Eval().ToDoubleArray()).ToArray(),
                1e-7, $"soft-target gradient at λ {lambda}");
        }
        Assert.Equal(1, step.TraceCount);
    }

    [Fact]
    public void GradientsAccumulatedOverFourMicroBatchesAreTheFullBatchGradient()
    {
        var model = Model();
        var flat = Flatten(Layout, model);
        var step = Diff.CompileValueAndGrad((p, d) => Loss.CrossEntropy(Forward(p, d[0]), d[1], labelSmoothing: Smoothing));

        // torch: for each micro-batch, (loss / 4).backward() adds into .grad; then one optimizer step
        var accumulated = new double[flat.Length];
        double lossSum = 0;
        for (int m = 0; m < 4; m++)
        {
            var (loss, gradients) = step.Invoke(model, X1[(2 * m)..(2 * m + 2)], Labels(Y1[(2 * m)..(2 * m + 2)]));
            lossSum += loss.Item() / 4;
            var g = Flatten(Layout, gradients);
            for (int i = 0; i < g.Length; i++) accumulated[i] += g[i] / 4;
        }
        double FullRef(double[] f) => SmoothedRef(LogSoftmaxRef(Unflatten(Layout, f), X1.ToDoubleArray(), N), Y1, Smoothing);
        var expected = Gradient(FullRef, flat);
        Close(FullRef(flat), lossSum, 1e-13, "accumulated loss");
        Close(expected, accumulated, 1e-7, "accumulated gradient");
        var (fullLoss, fullGradients) = step.Invoke(model, X1, Labels(Y1));
        Close(FullRef(flat), fullLoss.Item(), 1e-13, "full-batch loss");
        Close(expected, Flatten(Layout, fullGradients), 1e-7, "full-batch gradient");
        Assert.Equal(2, step.TraceCount);   // one micro-batch shape and the full batch's
    }
}
