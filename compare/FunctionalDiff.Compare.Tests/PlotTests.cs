using FunctionalDiff.Compare.Suite;
using FunctionalDiff.Compare.Train;
using SkiaSharp;
using Xunit;

namespace FunctionalDiff.Compare.Tests;

/// <summary>
/// ScottPlot renders here (SkiaSharp's native Linux library loads, text needs the image's fonts):
/// each figure is a PNG of the stated size, and different data gives different pixels.
/// </summary>
public class PlotTests
{
    /// <summary>The eight bytes every PNG file starts with.</summary>
    public static readonly byte[] PngSignature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];

    static Plots.Series Line(string label, string colour, bool dashed, Func<int, double> f) =>
        new(label, colour, dashed, Enumerable.Range(0, 50).Select(i => ((double)i, f(i))).ToList());

    static SKBitmap Decode(string path)
    {
        Assert.Equal(PngSignature, File.ReadAllBytes(path)[..8]);
        return SKBitmap.Decode(path) ?? throw new InvalidOperationException($"{path} does not decode");
    }

    static int DifferingPixels(SKBitmap a, SKBitmap b)
    {
        int n = 0;
        for (int y = 0; y < a.Height; y++)
            for (int x = 0; x < a.Width; x++)
                if (a.GetPixel(x, y) != b.GetPixel(x, y)) n++;
        return n;
    }

    [Fact]
    public void ALossPlotWithTwoSeriesIsAPngOfItsSizeAndItsPixelsFollowTheData()
    {
        var directory = Directory.CreateTempSubdirectory("plot").FullName;
        try
        {
            string first = Path.Combine(directory, "a.png"), second = Path.Combine(directory, "b.png");
            Plots.LineChart(first, "loss", "step", "loss", [Line("ours", "#1f77b4", false, i => Math.Exp(-0.1 * i)), Line("torch", "#d62728", true, i => Math.Exp(-0.1 * i))], logY: true);
            Plots.LineChart(second, "loss", "step", "loss", [Line("ours", "#1f77b4", false, i => Math.Exp(-0.05 * i)), Line("torch", "#d62728", true, i => 1.0 / (1 + i))], logY: true);
            using SKBitmap a = Decode(first), b = Decode(second);
            Assert.Equal((640, 400), (a.Width, a.Height));
            Assert.Equal((640, 400), (b.Width, b.Height));
            // not a blank canvas: more than one colour, and both series' colours appear
            var colours = new HashSet<SKColor>();
            for (int y = 0; y < a.Height; y++)
                for (int x = 0; x < a.Width; x++)
                    colours.Add(a.GetPixel(x, y));
            Assert.True(colours.Count > 10, $"{colours.Count} colours");
            Assert.Contains(new SKColor(0x1f, 0x77, 0xb4), colours);
            Assert.Contains(new SKColor(0xd6, 0x27, 0x28), colours);
            Assert.True(DifferingPixels(a, b) > 500, $"{DifferingPixels(a, b)} pixels differ");
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }

    [Fact]
    public void TheDecisionBoundaryAndTheReportPictureAreDrawn()
    {
        var directory = Directory.CreateTempSubdirectory("plot").FullName;
        try
        {
            const int cells = 20;
            double[] Probabilities(double sign) => Enumerable.Range(0, cells * cells).Select(k =>
            {
                double x = -1 + (k % cells + 0.5) * 2 / cells, y = 1 - (k / cells + 0.5) * 2 / cells;
                return 1 / (1 + Math.Exp(-sign * 8 * x * y));
            }).ToArray();
            double[] points = [0.5, 0.5, -0.5, 0.5, -0.5, -0.5, 0.5, -0.5];
            double[] labels = [1, 0, 1, 0];
            string first = Path.Combine(directory, "a.png"), second = Path.Combine(directory, "b.png");
            Plots.DecisionBoundary(first, "boundary", cells, Probabilities(1), points, labels);
            Plots.DecisionBoundary(second, "boundary", cells, Probabilities(-1), points, labels);
            using (SKBitmap a = Decode(first), b = Decode(second))
            {
                Assert.Equal((560, 480), (a.Width, a.Height));
                Assert.True(DifferingPixels(a, b) > 10_000, $"{DifferingPixels(a, b)} pixels differ");
            }

            var results = Enumerable.Range(0, 40).Select(i => new CheckResult($"case{i}", i % 2 == 0 ? "float64" : "float32", "grad",
                0, i == 3 ? 0 : Math.Pow(10, -16 + i % 10), true, "")).ToList();
            string report = ReportFigure.Write(directory, results);
            Assert.Equal("compare-report.png", Path.GetFileName(report));
            using var picture = Decode(report);
            Assert.Equal((900, 440), (picture.Width, picture.Height));
        }
        finally
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
