using System.Globalization;
using System.Text;
using System.Text.Json;

namespace FunctionalDiff.Compare.Suite;

/// <summary>The comparison report: a console table, and the same content as Markdown and JSON.</summary>
public static class Report
{
    static readonly string[] Header = { "case", "dtype", "check", "max abs error", "max rel error", "result" };

    /// <summary>Counts of distinct cases, checks, passes and failures.</summary>
    public sealed record Totals(int Cases, int Checks, int Passed, int Failed);

    /// <summary>Computes the totals of a run.</summary>
    public static Totals Count(IReadOnlyList<CheckResult> results) =>
        new(results.Select(r => r.Case).Distinct().Count(), results.Count, results.Count(r => r.Passed), results.Count(r => !r.Passed));

    /// <summary>The totals line printed at the end of every report.</summary>
    public static string TotalsLine(Totals t) =>
        $"{t.Cases} cases, {t.Checks} checks: {t.Passed} passed, {t.Failed} failed";

    /// <summary>Prints the table; with <paramref name="failuresOnly"/> only failing rows are listed.</summary>
    public static void Print(TextWriter output, IReadOnlyList<CheckResult> results, bool failuresOnly)
    {
        var rows = results.Where(r => !failuresOnly || !r.Passed).Select(Cells).ToList();
        var widths = Header.Select((h, i) => Math.Max(h.Length, rows.Select(r => r[i].Length).DefaultIfEmpty(0).Max())).ToArray();
        string Line(string[] cells) => string.Join("  ", cells.Select((c, i) => i >= 3 && i <= 4 ? c.PadLeft(widths[i]) : c.PadRight(widths[i])));
        output.WriteLine(Line(Header));
        output.WriteLine(string.Join("  ", widths.Select(w => new string('-', w))));
        foreach (var row in rows) output.WriteLine(Line(row));
        foreach (var r in results.Where(r => !r.Passed && r.Note.Length > 0))
            output.WriteLine($"  {r.Case} {r.DType} {r.Check}: {r.Note}");
        output.WriteLine(TotalsLine(Count(results)));
    }

    /// <summary>Writes compare-report.md and compare-report.json into <paramref name="directory"/>.</summary>
    public static (string Markdown, string Json) Write(string directory, IReadOnlyList<CheckResult> results, string command)
    {
        Directory.CreateDirectory(directory);
        var totals = Count(results);
        string stamp = DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture);

        var md = new StringBuilder();
        md.AppendLine("# FunctionalDiff vs TorchSharp (libtorch autograd)").AppendLine();
        md.AppendLine($"Run {stamp} with `{command}`. {TotalsLine(totals)}.").AppendLine();
        md.AppendLine("| " + string.Join(" | ", Header) + " |");
        md.AppendLine("|" + string.Concat(Header.Select(_ => "---|")));
        foreach (var r in results)
            md.AppendLine("| " + string.Join(" | ", Cells(r)) + " |");
        string markdownPath = Path.Combine(directory, "compare-report.md");
        File.WriteAllText(markdownPath, md.ToString());

        string jsonPath = Path.Combine(directory, "compare-report.json");
        var document = new { date = stamp, command, totals.Cases, totals.Checks, totals.Passed, totals.Failed, results };
        File.WriteAllText(jsonPath, JsonSerializer.Serialize(document, new JsonSerializerOptions(CheckResult.Json) { WriteIndented = true }));
        if (results.Count > 0) ReportFigure.Write(directory, results);
        return (markdownPath, jsonPath);
    }

    static string[] Cells(CheckResult r) => new[]
    {
        r.Case, r.DType, r.Check, Number(r.MaxAbsError), Number(r.MaxRelError), r.Passed ? "pass" : "FAIL",
    };

    static string Number(double x) => double.IsNaN(x) ? "-" : x.ToString("0.00e+00", CultureInfo.InvariantCulture);
}
