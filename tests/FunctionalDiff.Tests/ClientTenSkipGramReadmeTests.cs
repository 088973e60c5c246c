using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>
/// The README's skip-gram example: the README shows exactly <see cref="SkipGramReadme"/>, and its run is replayed over
/// doubles with the same noise words (drawn again after the same ManualSeed): every step's loss is the formula, every
/// SGD update the central differences of it.
/// </summary>
[Collection(nameof(TorchFactoryTests))] // draws from the process-wide seed sequence, which TorchFactoryTests replays
public class ClientTenSkipGramReadmeTests
{
    const int Vocab = 8, Dim = 4, K = 3;

    [Fact]
    public void TheReadmeShowsExactlyTheSkipGramExample() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/SkipGramReadme.cs", "### Skip-gram, a causal TCN");

    static double LogSigmoid(double z) => z >= 0 ? -Math.Log(1 + Math.Exp(-z)) : z - Math.Log(1 + Math.Exp(z));

    static double Loss(double[] flat, int[] centers, int[] contexts, double[] negatives)
    {
        double Dot(int i, int j)   // input row i with output row j
        {
            double s = 0;
            for (int e = 0; e < Dim; e++) s += flat[i * Dim + e] * flat[Vocab * Dim + j * Dim + e];
            return s;
        }
        double total = 0;
        for (int b = 0; b < centers.Length; b++)
        {
            total -= LogSigmoid(Dot(centers[b], contexts[b]));
            for (int n = 0; n < K; n++) total -= LogSigmoid(-Dot(centers[b], (int)negatives[b * K + n]));
        }
        return total / centers.Length;
    }

    [Fact]
    public void EveryStepIsTheFormulaAndSgdOnItsCentralDifferences()
    {
        var r = SkipGramReadme.Run();
        double[] Flat(Parameters p) => [.. p["in_embed.weight"].ToDoubleArray(), .. p["out_embed.weight"].ToDoubleArray()];
        var flat = Flat(r.Initial);
        Tensor.ManualSeed(0);
        for (int i = 0; i < r.Losses.Count; i++)
        {
            var negatives = r.Noise.Multinomial(r.Centers.Length * K, replacement: true).ToDoubleArray();
            Assert.All(negatives, n => Assert.True(n >= 0 && n < Vocab && n == Math.Floor(n)));
            // the reference moves by central differences (within 1e-10 of the gradient), so later steps drift that much
            Close(Loss(flat, r.Centers, r.Contexts, negatives), r.Losses[i], i == 0 ? 1e-12 : 1e-8, $"loss at step {i}");
            var g = Gradient(f => Loss(f, r.Centers, r.Contexts, negatives), flat);
            flat = flat.Select((w, j) => w - 0.5 * g[j]).ToArray();
        }
        Close(flat, Flat(r.Final), 1e-7, "parameters after 20 steps");
        Assert.True(r.Losses.Skip(15).Average() < r.Losses.Take(5).Average(), "SGD lowered the loss");
    }
}
