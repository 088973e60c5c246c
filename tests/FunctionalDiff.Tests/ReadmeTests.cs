using System.Text.RegularExpressions;
using Xunit;
using static FunctionalDiff.Tests.TestSupport;

namespace FunctionalDiff.Tests;

/// <summary>The README's quickstart is this repository's code, and its numbers are right.</summary>
public class ReadmeTests
{
    static string RepositoryFile(string relative)
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "FunctionalDiff.sln"))) dir = dir.Parent;
        Assert.NotNull(dir);
        return File.ReadAllText(Path.Combine(dir!.FullName, relative));
    }

    static string Normalise(string code) => Regex.Replace(code, @"\s+", " ").Trim();

    /// <summary>Asserts that the first csharp block of a README section is the marked code of a source file.</summary>
    internal static void AssertReadmeShows(string sourceFile, string heading)
    {
        var source = RepositoryFile(sourceFile);
        var marked = Regex.Match(source, @"// BEGIN README\r?\n(.*?)// END README", RegexOptions.Singleline);
        Assert.True(marked.Success, $"markers missing in {sourceFile}");
        var readme = RepositoryFile("README.md");
        var section = readme.IndexOf(heading, StringComparison.Ordinal);
        Assert.True(section >= 0, $"README.md has no '{heading}' section");
        var block = Regex.Match(readme[section..], @"```csharp\r?\n(.*?)```", RegexOptions.Singleline);
        Assert.True(block.Success, $"the section '{heading}' has no csharp code block");
        Assert.Equal(Normalise(marked.Groups[1].Value), Normalise(block.Groups[1].Value));
    }

    [Fact]
    public void TheReadmeShowsExactlyTheQuickstartThatIsCompiledHere() =>
        AssertReadmeShows("tests/FunctionalDiff.Tests/Quickstart.cs", "## C# quickstart");

    [Fact]
    public void TheReadmeShowsExactlyTheBilevelExampleThatIsCompiledHere() =>
        AssertReadmeShows("tests/FunctionalDiff.Tests/Bilevel.cs", "## Transforms inside loops");

    [Fact]
    public void TheBilevelExampleAgreesWithCentralDifferencesOfTheLoopWrittenWithDoubles()
    {
        var r = Bilevel.Run();
        var x0 = r.X0.ToDoubleArray();

        // The same loop with the inner gradient by hand: 2 tanh(xw)(1 − tanh²(xw)) w + 0.2 (x − w).
        double Objective(double[] w)
        {
            var x = (double[])x0.Clone();
            for (int step = 0; step < 1000; step++)
                for (int i = 0; i < x.Length; i++)
                {
                    double t = Math.Tanh(x[i] * w[i]);
                    x[i] -= 0.05 * (2 * t * (1 - t * t) * w[i] + 0.2 * (x[i] - w[i]));
                }
            return x.Sum(v => v * v);
        }

        var w0 = r.W0.ToDoubleArray();
        Close(Objective(w0), r.Value.Eval().ToScalar(), 1e-10, "value");
        var numeric = Gradient(Objective, w0);
        Close(numeric, r.Gradient.Eval().ToDoubleArray(), 1e-6, "gradient in w");
        var along = numeric.Zip(r.Direction.ToDoubleArray(), (g, d) => g * d).Sum();
        Close(along, r.Tangent.Eval().ToScalar(), 1e-6, "derivative along the direction");
    }

    [Fact]
    public void TheQuickstartGradientsAndHessianVectorProductAgreeWithFiniteDifferences()
    {
        var r = Quickstart.Run();
        var shapes = r.Parameters.Select(p => p.Shape).ToArray();
        var x = r.X.ToDoubleArray();
        double target = r.Y.ToScalar();

        // The loss written out with loops, independent of the library.
        double LossOf(double[][] p)
        {
            double z2 = p[3][0];
            for (int j = 0; j < 3; j++)
            {
                double z1 = p[0][2 * j] * x[0] + p[0][2 * j + 1] * x[1] + p[1][j];
                z2 += p[2][j] / (1 + Math.Exp(-z1));
            }
            double a2 = 1 / (1 + Math.Exp(-z2));
            return (a2 - target) * (a2 - target);
        }

        var values = r.Parameters.Select(p => p.ToDoubleArray()).ToArray();
        Close(LossOf(values), r.Loss.Eval().ToScalar(), 1e-12, "loss");
        Assert.Equal(new[] { 1, 3 }, r.Gradients[2].Shape);
        for (int k = 0; k < 4; k++)
        {
            Assert.Equal(shapes[k], r.Gradients[k].Shape);
            var numeric = Gradient(v => LossOf(values.Select((p, i) => i == k ? v : p).ToArray()), values[k]);
            Close(numeric, r.Gradients[k].Eval().ToDoubleArray(), 1e-6, $"gradient {k}");
        }

        // H v for W2: central differences of the closed-form W2-gradient 2(a2 − t) a2 (1 − a2) a1 along v.
        double[] GradientW2(double[] w2)
        {
            var a1 = new double[3];
            double z2 = values[3][0];
            for (int j = 0; j < 3; j++)
            {
                a1[j] = 1 / (1 + Math.Exp(-(values[0][2 * j] * x[0] + values[0][2 * j + 1] * x[1] + values[1][j])));
                z2 += w2[j] * a1[j];
            }
            double a2 = 1 / (1 + Math.Exp(-z2));
            return a1.Select(a => 2 * (a2 - target) * a2 * (1 - a2) * a).ToArray();
        }
        Close(GradientW2(values[2]), r.Gradients[2].Eval().ToDoubleArray(), 1e-12, "closed-form W2 gradient");
        var direction = r.Direction.ToDoubleArray();
        const double step = 1e-5;  // truncation ~1e-10, rounding ~1e-11
        var plus = GradientW2(values[2].Select((w, i) => w + step * direction[i]).ToArray());
        var minus = GradientW2(values[2].Select((w, i) => w - step * direction[i]).ToArray());
        var expected = plus.Select((p, i) => (p - minus[i]) / (2 * step)).ToArray();
        Close(expected, r.HessianVector.Eval().ToDoubleArray(), 1e-7, "Hessian-vector product");
    }
}
