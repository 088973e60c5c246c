using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// A PyTorch user's SimCLR step (<see cref="ClientSixteenContrastiveReadme"/>): NT-Xent over the 2N×2N cosine
/// similarities with the diagonal left out by <c>FillDiagonal(-inf)</c>, <c>clip_grad_norm_</c> and a cosine-annealed
/// SGD with momentum. The loss is held to the same program over doubles (cosine similarity, log-sum-exp over j ≠ i),
/// its gradient to central differences of that program, and the training run to torch's clip, schedule and SGD update
/// rules written out over those differences.
/// </summary>
public class ClientSixteenContrastiveTests
{
    const int N = 4, D = 3, E = 2;
    const double Temperature = 0.5, Lr = 0.5, EtaMin = 0.01, MaxNorm = 0.05;
    const int TMax = 4, Epochs = 4;

    static readonly double[] View1 = Values(N * D, 1);
    static readonly double[] View2 = View1.Select((v, i) => v + 0.2 * Math.Cos(3.1 * i)).ToArray();
    static readonly double[] Weight0 = Values(E * D, 2).Select(v => 0.5 * v).ToArray();
    static readonly double[] Bias0 = { 0.1, -0.2 };

    static Parameters Model() => Parameters.Of(("proj.weight", Tensor.FromArray(Weight0, E, D)), ("proj.bias", Tensor.FromArray(Bias0, E)));

    /// <summary>NT-Xent over doubles: flat parameters = weight [E, D] then bias [E].</summary>
    static double Reference(double[] flat)
    {
        int m = 2 * N;
        var z = new double[m, E];
        for (int r = 0; r < m; r++)
            for (int o = 0; o < E; o++)
            {
                double sum = flat[E * D + o];
                for (int c = 0; c < D; c++) sum += (r < N ? View1[r * D + c] : View2[(r - N) * D + c]) * flat[o * D + c];
                z[r, o] = sum;
            }
        double Norm(int r) { double s = 0; for (int o = 0; o < E; o++) s += z[r, o] * z[r, o]; return Math.Sqrt(s); }
        double total = 0;
        for (int i = 0; i < m; i++)
        {
            var sims = new double[m];
            for (int j = 0; j < m; j++)
            {
                double dot = 0;
                for (int o = 0; o < E; o++) dot += z[i, o] * z[j, o];
                sims[j] = dot / (Norm(i) * Norm(j)) / Temperature;
            }
            double max = Enumerable.Range(0, m).Where(j => j != i).Max(j => sims[j]);
            double lse = max + Math.Log(Enumerable.Range(0, m).Where(j => j != i).Sum(j => Math.Exp(sims[j] - max)));
            total += lse - sims[(i + N) % m];
        }
        return total / m;
    }

    static double[] Flat(Parameters p) => p["proj.weight"].ToDoubleArray().Concat(p["proj.bias"].ToDoubleArray()).ToArray();

    [Fact]
    public void TheReadmeShowsExactlyTheSimClrStepThatIsCompiledHere() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/ClientSixteenContrastiveReadme.cs",
            "### A normalizing flow, a GCN with scatter_add and SimCLR, ported from PyTorch");

    [Fact]
    public void TheLossAndItsGradientAreTheProgramOverDoubles()
    {
        var model = Model();
        var (_, gradients) = Diff.ValueAndGrad(p =>
        {
            var z = Nn.Linear(Expr.Cat([Tensor.FromArray(View1, N, D), Tensor.FromArray(View2, N, D)], 0), p["proj.weight"], p["proj.bias"]);
            var sim = Nn.CosineSimilarity(z.Unsqueeze(1), z.Unsqueeze(0), axis: 2) / Temperature;
            return Loss.CrossEntropy(sim.FillDiagonal(double.NegativeInfinity), Tensor.Cat([Tensor.Arange(N, 2 * N), Tensor.Arange(N)], 0));
        }, model);
        var expected = Gradient(Reference, Flat(model));
        var actual = gradients["proj.weight"].Eval().ToDoubleArray().Concat(gradients["proj.bias"].Eval().ToDoubleArray()).ToArray();
        Close(expected, actual, 1e-7, "gradient");
        // one epoch with lr 0: the first loss is the reference's
        var (losses, _, _) = ClientSixteenContrastiveReadme.Train(model, Tensor.FromArray(View1, N, D), Tensor.FromArray(View2, N, D),
            Temperature, 0.0, 0.0, TMax, MaxNorm, 1);
        Close(Reference(Flat(model)), losses[0], 1e-12, "loss");
    }

    [Fact]
    public void TrainingFollowsTorchsClipScheduleAndSgdWrittenOut()
    {
        var (losses, norms, trained) = ClientSixteenContrastiveReadme.Train(Model(), Tensor.FromArray(View1, N, D),
            Tensor.FromArray(View2, N, D), Temperature, Lr, EtaMin, TMax, MaxNorm, Epochs);
        var p = Flat(Model());
        var buffer = new double[p.Length];
        for (int epoch = 0; epoch < Epochs; epoch++)
        {
            double lr = EtaMin + (Lr - EtaMin) * (1 + Math.Cos(Math.PI * epoch / TMax)) / 2;
            Close(Reference(p), losses[epoch], 1e-7, $"loss {epoch}");
            var g = Gradient(Reference, p);
            // clip_grad_norm_: the joint norm of the per-tensor norms, the factor maxNorm / (norm + 1e-6) capped at 1
            double weightNorm = Math.Sqrt(g.Take(E * D).Sum(v => v * v)), biasNorm = Math.Sqrt(g.Skip(E * D).Sum(v => v * v));
            double total = Math.Sqrt(weightNorm * weightNorm + biasNorm * biasNorm);
            Close(total, norms[epoch], 1e-7, $"norm {epoch}");
            Assert.True(total > MaxNorm, "the clip is active");
            double factor = Math.Min(MaxNorm / (total + 1e-6), 1.0);
            // torch's SGD with momentum: the buffer starts as the first gradient
            for (int i = 0; i < p.Length; i++)
            {
                double gi = g[i] * factor;
                buffer[i] = epoch == 0 ? gi : 0.9 * buffer[i] + gi;
                p[i] -= lr * buffer[i];
            }
        }
        Close(p, Flat(trained), 1e-7, "parameters");
    }
}
