using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// Knowledge distillation ported from PyTorch as a user writes it first:
/// <c>F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction='batchmean') * T * T</c> plus the
/// hard-label cross-entropy, with the teacher's logits detached. The loss is compared with torch's formula for kl_div
/// with batchmean written over doubles (Σ p·(log p − log q) / N), the student's gradient with its central differences,
/// and the teacher's gradient with zero.
/// </summary>
public class ClientNineDistillationTests
{
    const int N = 6, F = 4, H = 5, C = 3;
    const double T = 2.5, Alpha = 0.7;
    static readonly int[] Labels = [0, 2, 1, 1, 0, 2];

    static readonly (string Name, int[] Shape)[] StudentLayout = [("student.weight", [C, F]), ("student.bias", [C])];
    static readonly (string Name, int[] Shape)[] TeacherLayout =
        [("teacher.fc1.weight", [H, F]), ("teacher.fc1.bias", [H]), ("teacher.fc2.weight", [C, H]), ("teacher.fc2.bias", [C])];

    static readonly Tensor X = Tensor.RandomNormal([N, F], seed: 21);

    static Parameters Model() =>
        Parameters.Of(StudentLayout.Concat(TeacherLayout).Select((e, i) => (e.Name, Tensor.RandomNormal(e.Shape, seed: 60 + i))).ToArray());

    // ---- what a torch user writes ----

    static Expr Student(IReadOnlyDictionary<string, Expr> p, Expr x) => Nn.Linear(x, p["student.weight"], p["student.bias"]);

    static Expr Teacher(IReadOnlyDictionary<string, Expr> p, Expr x) =>
        Nn.Linear(Nn.Linear(x, p["teacher.fc1.weight"], p["teacher.fc1.bias"]).Relu(), p["teacher.fc2.weight"], p["teacher.fc2.bias"]);

    static Expr DistillationLoss(IReadOnlyDictionary<string, Expr> p, Expr x, int[] labels)
    {
        var studentLogits = Student(p, x);
        var teacherLogits = Teacher(p, x).Detach();   // with torch.no_grad(): teacher(x)
        var soft = Loss.KlDiv((studentLogits / T).LogSoftmax(1), (teacherLogits / T).Softmax(1), Reduction.BatchMean) * (T * T);
        var hard = Loss.CrossEntropy(studentLogits, labels);
        return Alpha * soft + (1 - Alpha) * hard;
    }

    // ---- the same loss over doubles ----

    static double[] Linear(double[] x, int inputs, int outputs, double[] w, double[] b) =>
        TestSupport.Linear(x, N, inputs, outputs, w, b);

    static double[] LogSoftmaxRow(double[] z, int row, double scale)
    {
        var v = Enumerable.Range(0, C).Select(k => z[row * C + k] / scale).ToArray();
        double max = v.Max();
        double lse = max + Math.Log(v.Sum(a => Math.Exp(a - max)));
        return v.Select(a => a - lse).ToArray();
    }

    static double Reference(Dictionary<string, double[]> p)
    {
        var x = X.ToDoubleArray();
        var s = Linear(x, F, C, p["student.weight"], p["student.bias"]);
        var h = Linear(x, F, H, p["teacher.fc1.weight"], p["teacher.fc1.bias"]).Select(v => Math.Max(v, 0)).ToArray();
        var t = Linear(h, H, C, p["teacher.fc2.weight"], p["teacher.fc2.bias"]);
        // torch: kl_div(input, target) elementwise is target·(log target − input); batchmean divides the sum by N
        double kl = 0, ce = 0;
        for (int r = 0; r < N; r++)
        {
            var logq = LogSoftmaxRow(s, r, T);
            var logp = LogSoftmaxRow(t, r, T);
            for (int k = 0; k < C; k++) kl += Math.Exp(logp[k]) * (logp[k] - logq[k]);
            ce -= LogSoftmaxRow(s, r, 1)[Labels[r]];
        }
        return Alpha * kl / N * T * T + (1 - Alpha) * ce / N;
    }

    [Fact]
    public void DistillationLossMatchesTorchsFormulaAndTheStudentGradientCentralDifferences()
    {
        var model = Model();
        var (loss, gradients) = Diff.ValueAndGrad(p => DistillationLoss(p, X, Labels), model);
        var all = StudentLayout.Concat(TeacherLayout).ToArray();
        var values = Expr.EvalMany([loss, .. all.Select(e => gradients[e.Name])]);

        var flat = Flatten(all, model);
        Close(Reference(Unflatten(all, flat)), values[0].ToScalar(), 1e-12, "loss");

        // The student's gradient: central differences in the student's parameters only, the teacher held fixed.
        int studentCount = StudentLayout.Sum(e => e.Shape.Aggregate(1, (a, b) => a * b));
        var numeric = Gradient(v => Reference(Unflatten(all, [.. v, .. flat[studentCount..]])), flat[..studentCount]);
        Close(numeric, values[1..(1 + StudentLayout.Length)].SelectMany(t => t.ToDoubleArray()).ToArray(), 1e-7, "student gradient");

        // The teacher is detached: its parameters get zeros (torch leaves their .grad None).
        foreach (var g in values[(1 + StudentLayout.Length)..])
            Assert.All(g.ToDoubleArray(), v => Assert.Equal(0.0, v));
    }

    [Fact]
    public void KlDivBatchMeanIsTheSumOverTheBatchSize()
    {
        // F.kl_div(log q, p, reduction='batchmean') = Σ p (log p − log q) / N, with p = 0 giving 0 (torch's xlogy).
        var logq = Tensor.FromArray(new[,] { { -0.5, -1.2, -2.0 }, { -0.1, -3.0, -2.5 } });
        var p = Tensor.FromArray(new[,] { { 0.2, 0.0, 0.8 }, { 0.5, 0.25, 0.25 } });
        double expected = 0;
        var lq = logq.ToDoubleArray();
        var pv = p.ToDoubleArray();
        for (int i = 0; i < 6; i++) expected += pv[i] == 0 ? 0 : pv[i] * (Math.Log(pv[i]) - lq[i]);
        Close(expected / 2, Loss.KlDiv(logq, p, Reduction.BatchMean).Eval().ToScalar(), 1e-14);
        Close(expected / 6, Loss.KlDiv(logq, p).Eval().ToScalar(), 1e-14);
        // log_target=True takes log p
        Close(expected / 2, Loss.KlDiv(logq, p.Clamp(min: 1e-300).Log(), Reduction.BatchMean, logTarget: true).Eval().ToScalar(), 1e-12);
    }
}
