using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>The README's training example is this repository's code, and it trains.</summary>
public class TrainingExampleTests
{
    [Fact]
    public void TheReadmeShowsExactlyThisTrainingLoop() =>
        ReadmeTests.AssertReadmeShows("tests/FunctionalDiff.Tests/TrainingExample.cs", "## Training");

    [Fact]
    public void ItSeparatesTheBlobsAndTheLossFalls()
    {
        var r = TrainingExample.Run();
        // Two unit Gaussians at ±(1.5, 1.5): the Bayes classifier's accuracy is Φ(1.5·√2) ≈ 0.983.
        Assert.True(r.Accuracy >= 0.95, $"accuracy {r.Accuracy}");
        Assert.True(r.Losses[^1] < 0.5 * r.Losses[0], $"losses {string.Join(", ", r.Losses)}");
        // the accuracy the snippet reports, recounted with a loop over the rows
        var x = r.X.ToDoubleArray();
        var y = r.Y.ToDoubleArray();
        var w = r.Parameters["w"].ToDoubleArray();
        var b = r.Parameters["b"].ToScalar();
        int correct = 0;
        for (int i = 0; i < y.Length; i++)
            if ((x[2 * i] * w[0] + x[2 * i + 1] * w[1] + b > 0 ? 1.0 : 0.0) == y[i]) correct++;
        Assert.Equal((double)correct / y.Length, r.Accuracy, 12);
    }
}
