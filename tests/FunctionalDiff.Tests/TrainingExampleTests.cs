using System.Text.RegularExpressions;
using Xunit;

namespace FunctionalDiff.Tests;

/// <summary>The README's training example is this repository's code, and it trains.</summary>
public class TrainingExampleTests
{
    static string RepositoryFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FunctionalDiff.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir!.FullName, relative));
    }

    static string Normalise(string code) => Regex.Replace(code, @"\s+", " ").Trim();

    [Fact]
    public void TheReadmeShowsExactlyThisTrainingLoop()
    {
        var marked = Regex.Match(RepositoryFile("tests/FunctionalDiff.Tests/TrainingExample.cs"), @"// BEGIN README\r?\n(.*?)// END README", RegexOptions.Singleline);
        var readme = RepositoryFile("README.md");
        var section = readme.IndexOf("## Training", StringComparison.Ordinal);
        Assert.True(section >= 0, "README.md has no '## Training' section");
        var block = Regex.Match(readme[section..], @"```csharp\r?\n(.*?)```", RegexOptions.Singleline);
        Assert.True(marked.Success && block.Success);
        Assert.Equal(Normalise(marked.Groups[1].Value), Normalise(block.Groups[1].Value));
    }

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
