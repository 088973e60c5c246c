using ScottPlot;

namespace FunctionalDiff.Compare.Train;

/// <summary>
/// The compare program's figures, drawn with ScottPlot and saved as PNG: line charts with a
/// linear or log y axis, a decision-boundary map, and a log-scale scatter with reference lines.
/// </summary>
public static class Plots
{
    /// <summary>One line of a chart: its label, colour (hex), dashed or not, and points.</summary>
    public sealed record Series(string Label, string Colour, bool Dashed, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>One group of markers: its label, colour (hex) and points.</summary>
    public sealed record Group(string Label, string Colour, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>
    /// A line chart saved as a PNG of <paramref name="width"/>×<paramref name="height"/>; with
    /// <paramref name="logY"/> the y axis is log10 (values ≤ 0 are left out).
    /// </summary>
    public static void LineChart(string path, string title, string xLabel, string yLabel, IReadOnlyList<Series> series,
        bool logY = false, int width = 640, int height = 400)
    {
        var plot = new Plot();
        foreach (var s in series)
        {
            var points = s.Points.Where(p => !logY || p.Y > 0).ToArray();
            if (points.Length == 0) continue;
            var line = plot.Add.ScatterLine(points.Select(p => p.X).ToArray(), points.Select(p => logY ? Math.Log10(p.Y) : p.Y).ToArray());
            line.Color = Color.FromHex(s.Colour);
            line.LineWidth = 1.6f;
            line.LegendText = s.Label;
            if (s.Dashed) line.LinePattern = LinePattern.Dashed;
        }
        Finish(plot, title, xLabel, yLabel, logY);
        plot.ShowLegend(Alignment.UpperRight);
        plot.SavePng(path, width, height);
    }

    /// <summary>
    /// A decision-boundary map over [−1, 1]²: each cell coloured by the model's probability of
    /// class 1 (<paramref name="probability"/> is row-major over a grid of <paramref name="cells"/>²,
    /// y from top to bottom), the data points on top (blue class 1, red class 0).
    /// </summary>
    public static void DecisionBoundary(string path, string title, int cells, double[] probability, double[] points, double[] labels, int size = 480)
    {
        var plot = new Plot();
        var grid = new double[cells, cells];
        for (int r = 0; r < cells; r++)
            for (int c = 0; c < cells; c++)
                grid[r, c] = probability[r * cells + c];
        var heatmap = plot.Add.Heatmap(grid);
        heatmap.Extent = new CoordinateRect(-1, 1, -1, 1);
        heatmap.Colormap = new ScottPlot.Colormaps.Balance().Reversed(); // high probability blue, as class 1's markers
        heatmap.ManualRange = new ScottPlot.Range(0, 1);
        heatmap.Opacity = 0.45; // light enough for the markers on top
        var bar = plot.Add.ColorBar(heatmap);
        bar.Label = "probability of class 1";
        foreach (var (cls, colour, name) in new[] { (1.0, "#1f4fbf", "class 1 (x·y > 0)"), (0.0, "#d03a2a", "class 0") })
        {
            var idx = Enumerable.Range(0, labels.Length).Where(i => (labels[i] > 0.5) == (cls > 0.5)).ToArray();
            var markers = plot.Add.Markers(idx.Select(i => points[2 * i]).ToArray(), idx.Select(i => points[2 * i + 1]).ToArray());
            markers.Color = Color.FromHex(colour);
            markers.MarkerSize = 7;
            markers.MarkerShape = MarkerShape.FilledCircle;
            markers.MarkerLineColor = Colors.Black;
            markers.MarkerLineWidth = 0.8f;
            markers.LegendText = name;
        }
        plot.Axes.SetLimits(-1, 1, -1, 1);
        Finish(plot, title, "x", "y", logY: false);
        plot.ShowLegend(Alignment.LowerLeft);
        plot.SavePng(path, size + 80, size);
    }

    /// <summary>
    /// Markers on a log10 y axis (values ≤ 0 drawn at <paramref name="floor"/>, as exact agreement),
    /// with dashed horizontal reference lines (label, value, colour).
    /// </summary>
    public static void LogScatter(string path, string title, string xLabel, string yLabel, IReadOnlyList<Group> groups,
        IReadOnlyList<(string Label, double Value, string Colour)> lines, double floor = 1e-18, int width = 900, int height = 440)
    {
        var plot = new Plot();
        foreach (var g in groups)
        {
            if (g.Points.Count == 0) continue;
            var markers = plot.Add.Markers(g.Points.Select(p => p.X).ToArray(), g.Points.Select(p => Math.Log10(p.Y > 0 ? p.Y : floor)).ToArray());
            markers.Color = Color.FromHex(g.Colour).WithAlpha(0.6);
            markers.MarkerSize = 4;
            markers.LegendText = g.Label;
        }
        foreach (var (label, value, colour) in lines)
        {
            var line = plot.Add.HorizontalLine(Math.Log10(value));
            line.Color = Color.FromHex(colour);
            line.LinePattern = LinePattern.Dashed;
            line.LineWidth = 1.2f;
            line.LegendText = label;
        }
        Finish(plot, title, xLabel, yLabel, logY: true);
        plot.ShowLegend(Alignment.UpperLeft);
        plot.SavePng(path, width, height);
    }

    static void Finish(Plot plot, string title, string xLabel, string yLabel, bool logY)
    {
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        if (logY)
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = y => $"1e{y:0}",
            };
    }
}
