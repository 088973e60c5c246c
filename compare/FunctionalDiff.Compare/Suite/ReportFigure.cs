using FunctionalDiff.Compare.Train;

namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// The comparison report's picture: every check's largest relative error (one marker per check,
/// in table order, float64 and float32 apart) on a log scale, with the default relative bounds of
/// <see cref="Tolerance"/> as lines. (A few rows carry a looser bound of their own, and an element
/// also passes under the absolute floor; the markdown report lists each check's verdict.)
/// </summary>
public static class ReportFigure
{
    /// <summary>Writes compare-report.png (ScottPlot) into <paramref name="directory"/> and returns its path.</summary>
    public static string Write(string directory, IReadOnlyList<CheckResult> results)
    {
        static List<(double, double)> Points(IEnumerable<CheckResult> rs) =>
            rs.Select((r, i) => ((double)i, double.IsFinite(r.MaxRelError) ? r.MaxRelError : 1.0)).ToList();
        var groups = new List<Plots.Group>
        {
            new("float64 checks", "#1f77b4", Points(results.Where(r => r.DType == "float64"))),
            new("float32 checks", "#d62728", Points(results.Where(r => r.DType == "float32"))),
        };
        var lines = new List<(string, double, string)>
        {
            ("float64 bound (relative)", Tolerance.Float64.Relative, "#1f77b4"),
            ("float32 bound (relative)", Tolerance.Float32.Relative, "#d62728"),
        };
        string path = Path.Combine(directory, "compare-report.png");
        Plots.LogScatter(path, $"Largest relative error of each check against TorchSharp ({results.Count} checks)",
            "check (table order, per dtype)", "largest relative error (log scale; 0 drawn at 1e-18)", groups, lines);
        return path;
    }
}
