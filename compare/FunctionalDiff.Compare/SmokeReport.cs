

namespace FunctionalDiff.Compare;

/// <summary>Prints the smoke comparison table and returns the process exit code.</summary>
public static class SmokeReport
{
    const double Tolerance = 1e-12;

    /// <summary>Runs the smoke case; 0 when every check passes.</summary>
    public static int Run(TextWriter output)
    {
        double[] points = { 1.0, 2.0, 3.0 };
        var (first, second) = TorchSmoke.XSinXDerivatives(points);
        var x = Tensor.FromArray(points, new[] { 3 }).ToDoubleArray();
        double[] firstClosed = x.Select(v => Math.Sin(v) + v * Math.Cos(v)).ToArray();
        double[] secondClosed = x.Select(v => 2 * Math.Cos(v) - v * Math.Sin(v)).ToArray();

        output.WriteLine("FunctionalDiff smoke comparison: f(x) = x*sin(x) at x = [1, 2, 3], float64");
        output.WriteLine($"{"check",-28} {"max abs error",14}  result");
        int failures = 0;
        failures += Row(output, "d/dx torch vs closed form", first, firstClosed);
        failures += Row(output, "d2/dx2 torch vs closed form", second, secondClosed);
        output.WriteLine($"{2 - failures} passed, {failures} failed");
        return failures == 0 ? 0 : 1;
    }

    static int Row(TextWriter output, string name, double[] actual, double[] expected)
    {
        double error = actual.Zip(expected, (a, e) => Math.Abs(a - e)).Max();
        bool ok = error <= Tolerance;
        output.WriteLine($"{name,-28} {error,14:E2}  {(ok ? "pass" : "FAIL")}");
        return ok ? 0 : 1;
    }
}
