using System.Globalization;
using System.Text;

namespace FunctionalDiff.Compare.Train;

/// <summary>
/// Small SVG charts written by hand (no plotting dependency): line charts with a linear or log
/// y axis, and a decision-boundary map. Enough for the train command's figures.
/// </summary>
public static class Svg
{
    const int Width = 640, Height = 400, Left = 70, Right = 20, Top = 40, Bottom = 50;
    static string F(double v) => v.ToString("0.##", CultureInfo.InvariantCulture);

    /// <summary>One line of a chart: its label, colour, dash pattern (or null) and points.</summary>
    public sealed record Series(string Label, string Colour, string? Dash, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>A line chart; with <paramref name="logY"/> the y axis is log10 (values ≤ 0 are left out).</summary>
    public static string LineChart(string title, string xLabel, string yLabel, IReadOnlyList<Series> series, bool logY = false)
    {
        double Y(double v) => logY ? Math.Log10(v) : v;
        var points = series.SelectMany(s => s.Points).Where(p => !logY || p.Y > 0).ToList();
        double x0 = points.Min(p => p.X), x1 = points.Max(p => p.X);
        double y0 = points.Min(p => Y(p.Y)), y1 = points.Max(p => Y(p.Y));
        if (logY) { y0 = Math.Floor(y0); y1 = Math.Ceiling(y1); }
        if (x1 == x0) x1 = x0 + 1;
        if (y1 == y0) y1 = y0 + 1;
        double PX(double x) => Left + (x - x0) / (x1 - x0) * (Width - Left - Right);
        double PY(double y) => Height - Bottom - (Y(y) - y0) / (y1 - y0) * (Height - Top - Bottom);

        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{Width}\" height=\"{Height}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"{Width}\" height=\"{Height}\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{Width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        svg.Append($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#444\"/>\n");
        for (int i = 0; i <= 5; i++)
        {
            double xv = x0 + (x1 - x0) * i / 5, px = PX(xv);
            svg.Append($"<line x1=\"{F(px)}\" y1=\"{Height - Bottom}\" x2=\"{F(px)}\" y2=\"{Height - Bottom + 5}\" stroke=\"#444\"/><text x=\"{F(px)}\" y=\"{Height - Bottom + 18}\" text-anchor=\"middle\">{F(xv)}</text>\n");
        }
        int yTicks = logY ? (int)(y1 - y0) : 5;
        for (int i = 0; i <= yTicks; i++)
        {
            double yv = y0 + (y1 - y0) * i / yTicks;
            double py = Height - Bottom - (yv - y0) / (y1 - y0) * (Height - Top - Bottom);
            string text = logY ? $"1e{yv:0}" : yv.ToString("0.###", CultureInfo.InvariantCulture);
            svg.Append($"<line x1=\"{Left - 5}\" y1=\"{F(py)}\" x2=\"{Width - Right}\" y2=\"{F(py)}\" stroke=\"#ddd\"/><text x=\"{Left - 8}\" y=\"{F(py + 4)}\" text-anchor=\"end\">{text}</text>\n");
        }
        svg.Append($"<text x=\"{(Width + Left) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">{Escape(xLabel)}</text>\n");
        svg.Append($"<text transform=\"translate(16,{Height / 2}) rotate(-90)\" text-anchor=\"middle\">{Escape(yLabel)}</text>\n");
        int legend = 0;
        foreach (var s in series)
        {
            var path = string.Join(" ", s.Points.Where(p => !logY || p.Y > 0).Select(p => $"{F(PX(p.X))},{F(PY(p.Y))}"));
            var dash = s.Dash is null ? "" : $" stroke-dasharray=\"{s.Dash}\"";
            svg.Append($"<polyline fill=\"none\" stroke=\"{s.Colour}\" stroke-width=\"1.6\"{dash} points=\"{path}\"/>\n");
            int ly = Top + 16 + 18 * legend++;
            svg.Append($"<line x1=\"{Width - Right - 190}\" y1=\"{ly - 4}\" x2=\"{Width - Right - 165}\" y2=\"{ly - 4}\" stroke=\"{s.Colour}\" stroke-width=\"2\"{dash}/><text x=\"{Width - Right - 160}\" y=\"{ly}\">{Escape(s.Label)}</text>\n");
        }
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    /// <summary>
    /// A decision-boundary map over [−1, 1]²: each cell shaded by the model's probability of class
    /// 1 (<paramref name="probability"/> is row-major over a grid of <paramref name="cells"/>²,
    /// y from top to bottom), the 0.5 cells outlined, and the data points on top.
    /// </summary>
    public static string DecisionBoundary(string title, int cells, double[] probability, double[] points, double[] labels)
    {
        const int size = 400, margin = 40;
        double cell = (double)size / cells;
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{size + 2 * margin}\" height=\"{size + 2 * margin}\" font-family=\"sans-serif\" font-size=\"12\">\n");
        svg.Append($"<rect width=\"{size + 2 * margin}\" height=\"{size + 2 * margin}\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{size / 2 + margin}\" y=\"24\" text-anchor=\"middle\" font-size=\"15\">{Escape(title)}</text>\n");
        for (int r = 0; r < cells; r++)
            for (int c = 0; c < cells; c++)
            {
                double p = probability[r * cells + c];
                int red = (int)(255 - 90 * p), blue = (int)(165 + 90 * p), green = (int)(200 + 40 * (1 - Math.Abs(2 * p - 1)));
                svg.Append($"<rect x=\"{F(margin + c * cell)}\" y=\"{F(margin + r * cell)}\" width=\"{F(cell + 0.5)}\" height=\"{F(cell + 0.5)}\" fill=\"rgb({red},{green},{blue})\"/>\n");
            }
        for (int i = 0; i < labels.Length; i++)
        {
            double px = margin + (points[2 * i] + 1) / 2 * size, py = margin + (1 - points[2 * i + 1]) / 2 * size;
            svg.Append($"<circle cx=\"{F(px)}\" cy=\"{F(py)}\" r=\"3\" fill=\"{(labels[i] > 0.5 ? "#1f4fbf" : "#d03a2a")}\" stroke=\"white\" stroke-width=\"0.6\"/>\n");
        }
        svg.Append($"<rect x=\"{margin}\" y=\"{margin}\" width=\"{size}\" height=\"{size}\" fill=\"none\" stroke=\"#444\"/>\n");
        svg.Append($"<text x=\"{margin}\" y=\"{size + margin + 18}\">x: −1 … 1, y: −1 … 1; blue: class 1 (x·y &gt; 0), red: class 0</text>\n");
        svg.Append("</svg>\n");
        return svg.ToString();
    }

    static string Escape(string s) => s.Replace("&", "&amp;").Replace("<", "&lt;").Replace(">", "&gt;");
}

/// <summary>Scatter charts for the comparison report.</summary>
public static class SvgScatter
{
    /// <summary>One group of markers: its label, colour and points.</summary>
    public sealed record Group(string Label, string Colour, IReadOnlyList<(double X, double Y)> Points);

    /// <summary>
    /// Markers on a log10 y axis (values ≤ 0 drawn at the bottom edge as exact agreement), with
    /// horizontal reference lines (label, value, colour).
    /// </summary>
    public static string LogScatter(string title, string xLabel, string yLabel, IReadOnlyList<Group> groups, IReadOnlyList<(string Label, double Value, string Colour)> lines)
    {
        const int width = 900, height = 440, left = 70, right = 20, top = 40, bottom = 50;
        var ys = groups.SelectMany(g => g.Points).Select(p => p.Y).Where(y => y > 0).Concat(lines.Select(l => l.Value)).ToList();
        double y0 = Math.Floor(Math.Log10(ys.Min())), y1 = Math.Ceiling(Math.Log10(ys.Max()));
        if (y1 <= y0) y1 = y0 + 1;
        double x1 = Math.Max(1, groups.SelectMany(g => g.Points).Select(p => p.X).DefaultIfEmpty(1).Max());
        string F(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
        double PX(double x) => left + x / x1 * (width - left - right);
        double PY(double y) => height - bottom - ((y > 0 ? Math.Log10(y) : y0) - y0) / (y1 - y0) * (height - top - bottom);
        var svg = new StringBuilder();
        svg.Append($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{width}\" height=\"{height}\" font-family=\"sans-serif\" font-size=\"12\">\n<rect width=\"{width}\" height=\"{height}\" fill=\"white\"/>\n");
        svg.Append($"<text x=\"{width / 2}\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">{title}</text>\n");
        for (double e = y0; e <= y1; e++)
        {
            double py = PY(Math.Pow(10, e));
            svg.Append($"<line x1=\"{left}\" y1=\"{F(py)}\" x2=\"{width - right}\" y2=\"{F(py)}\" stroke=\"#eee\"/><text x=\"{left - 6}\" y=\"{F(py + 4)}\" text-anchor=\"end\">1e{e:0}</text>\n");
        }
        foreach (var g in groups)
            foreach (var (x, y) in g.Points)
                svg.Append($"<circle cx=\"{F(PX(x))}\" cy=\"{F(PY(y))}\" r=\"2\" fill=\"{g.Colour}\" fill-opacity=\"0.6\"/>\n");
        int k = 0;
        foreach (var (label, value, colour) in lines)
        {
            double py = PY(value);
            svg.Append($"<line x1=\"{left}\" y1=\"{F(py)}\" x2=\"{width - right}\" y2=\"{F(py)}\" stroke=\"{colour}\" stroke-dasharray=\"6,4\"/><text x=\"{width - right - 4}\" y=\"{F(py - 4)}\" text-anchor=\"end\" fill=\"{colour}\">{label}</text>\n");
            k++;
        }
        int legend = 0;
        foreach (var g in groups)
        {
            int ly = top + 16 + 16 * legend++;
            svg.Append($"<circle cx=\"{left + 12}\" cy=\"{ly - 4}\" r=\"4\" fill=\"{g.Colour}\"/><text x=\"{left + 22}\" y=\"{ly}\">{g.Label}</text>\n");
        }
        svg.Append($"<rect x=\"{left}\" y=\"{top}\" width=\"{width - left - right}\" height=\"{height - top - bottom}\" fill=\"none\" stroke=\"#444\"/>\n");
        svg.Append($"<text x=\"{(width + left) / 2}\" y=\"{height - 14}\" text-anchor=\"middle\">{xLabel}</text>\n");
        svg.Append($"<text transform=\"translate(16,{height / 2}) rotate(-90)\" text-anchor=\"middle\">{yLabel}</text>\n</svg>\n");
        return svg.ToString();
    }
}
