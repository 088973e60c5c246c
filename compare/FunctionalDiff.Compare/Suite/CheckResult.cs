using System.Text.Json;
using System.Text.Json.Serialization;

namespace FunctionalDiff.Compare.Suite;

/// <summary>The outcome of one check of one case in one dtype.</summary>
public sealed record CheckResult(string Case, string DType, string Check, double MaxAbsError, double MaxRelError, bool Passed, string Note)
{
    /// <summary>JSON settings for results: NaN and infinities are written as named literals.</summary>
    public static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = false,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    /// <summary>
    /// Compares our values with torch's under a tolerance. NaN matches NaN at the same position, and
    /// an infinity matches the same infinity; anything else non-finite fails.
    /// </summary>
    public static CheckResult Compare(string caseName, FunctionalDiff.DType dtype, Check check, double[] ours, double[] torch, Tolerance tolerance) =>
        Compare(caseName, dtype, check.ToString(), ours, torch, tolerance);

    /// <summary>The same comparison for a check named by the caller (the mode checks of nested cases).</summary>
    public static CheckResult Compare(string caseName, FunctionalDiff.DType dtype, string check, double[] ours, double[] torch, Tolerance tolerance)
    {
        if (ours.Length != torch.Length)
            return new(caseName, Name(dtype), check, double.NaN, double.NaN, false,
                $"ours has {ours.Length} values, torch {torch.Length}");
        double scale = torch.Where(double.IsFinite).Select(Math.Abs).DefaultIfEmpty(0).Max();
        if (scale == 0) scale = 1;
        scale = Math.Max(scale, tolerance.ScaleAtLeast);
        double floor = tolerance.AbsoluteFloor * scale;
        double maxAbs = 0, maxRel = 0;
        bool passed = true;
        for (int i = 0; i < ours.Length; i++)
        {
            double a = ours[i], b = torch[i];
            if (double.IsNaN(a) && double.IsNaN(b)) continue;
            if (double.IsNaN(b) && !double.IsNaN(a) && tolerance.TorchDerivativeNaNIsConvention && check != nameof(Suite.Check.Value)) continue;
            if ((double.IsNaN(a) || double.IsNaN(b)) && tolerance.HessianNaNMayTranspose && check == nameof(Suite.Check.Hessian)
                && TransposedNaN(ours, torch, i)) continue;
            if (double.IsNaN(a) && tolerance.HessianNaNFromZeroTangent && check == nameof(Suite.Check.Hessian)
                && NonFiniteBeside(torch, i)) continue;
            if (double.IsNaN(b) && tolerance.HessianTorchNaNFromZeroCotangent && check == nameof(Suite.Check.Hessian)
                && NonFiniteInColumn(ours, i)) continue;
            if (double.IsInfinity(a) || double.IsInfinity(b))
            {
                if (a != b && !(tolerance.HessianOverflowMayTranspose && check == nameof(Suite.Check.Hessian)
                                && TransposedPair(ours, torch, i, tolerance.Relative, floor)))
                {
                    passed = false; maxAbs = double.PositiveInfinity; maxRel = double.PositiveInfinity;
                }
                continue;
            }
            double abs = Math.Abs(a - b);
            if (double.IsNaN(abs)) { passed = false; maxAbs = double.NaN; maxRel = double.NaN; continue; }
            double rel = abs / Math.Max(Math.Abs(b), floor);
            maxAbs = Math.Max(maxAbs, abs);
            maxRel = Math.Max(maxRel, rel);
            if (abs > tolerance.Relative * Math.Abs(b) + floor) passed = false;
        }
        return new(caseName, Name(dtype), check, maxAbs, maxRel, passed, "");
    }

    /// <summary>For a square matrix stored by rows: whether the engine whose entry k is NaN has its NaN at
    /// the transposed position in the other engine's matrix.</summary>
    static bool TransposedNaN(double[] ours, double[] torch, int k)
    {
        int n = (int)Math.Round(Math.Sqrt(ours.Length));
        if (n * n != ours.Length) return false;
        int t = k % n * n + k / n;
        return double.IsNaN(ours[k]) ? double.IsNaN(torch[t]) : double.IsNaN(ours[t]);
    }

    /// <summary>For square matrices stored by rows: whether entry k = (r, c) and its transpose t = (c, r) hold the same pair
    /// in the two engines swapped (ours at k is torch's at t and ours at t torch's at k: equal infinities, or finite numbers
    /// within the tolerance). A diagonal entry is its own transpose and never passes this way.</summary>
    static bool TransposedPair(double[] ours, double[] torch, int k, double relative, double floor)
    {
        int n = (int)Math.Round(Math.Sqrt(ours.Length));
        if (n * n != ours.Length || torch.Length != ours.Length) return false;
        int t = k % n * n + k / n;
        if (t == k) return false;
        static bool Same(double x, double y, double relative, double floor) =>
            x == y || (double.IsFinite(x) && double.IsFinite(y) && Math.Abs(x - y) <= relative * Math.Abs(y) + floor);
        return Same(ours[k], torch[t], relative, floor) && Same(ours[t], torch[k], relative, floor);
    }

    /// <summary>For a square matrix stored by rows: whether column c of <paramref name="ours"/> holds a non-finite
    /// entry in a row other than that of entry k = (r, c).</summary>
    static bool NonFiniteInColumn(double[] ours, int k) => NonFiniteInLine(ours, k, alongRow: false);

    /// <summary>For a square matrix stored by rows: whether row r of <paramref name="torch"/> holds a non-finite
    /// entry in a column other than that of entry k = (r, c).</summary>
    static bool NonFiniteBeside(double[] torch, int k) => NonFiniteInLine(torch, k, alongRow: true);

    /// <summary>Whether the row (or the column) through entry k of a square matrix stored by rows holds a
    /// non-finite entry other than entry k itself.</summary>
    static bool NonFiniteInLine(double[] matrix, int k, bool alongRow)
    {
        int n = (int)Math.Round(Math.Sqrt(matrix.Length));
        if (n * n != matrix.Length) return false;
        int row = k / n, column = k % n;
        for (int j = 0; j < n; j++)
        {
            int at = alongRow ? row * n + j : j * n + column;
            if (at != k && !double.IsFinite(matrix[at])) return true;
        }
        return false;
    }

    /// <summary>A failed check that produced no numbers (an exception, or an aborted process).</summary>
    public static CheckResult Error(string caseName, string dtype, string check, string note) =>
        new(caseName, dtype, check, double.NaN, double.NaN, false, note);

    /// <summary>The dtype's torch-style name.</summary>
    public static string Name(FunctionalDiff.DType dtype) => dtype == FunctionalDiff.DType.Float64 ? "float64" : "float32";
}
