namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// The numbers both engines see for one case: inputs, and the random cotangent u, direction v and
/// tangent t. Drawn once in float64 and rounded to float32 for float32 runs, so both engines get
/// bit-identical data.
/// </summary>
public sealed class Probe
{
    /// <summary>Input values, one flat row-major array per input.</summary>
    public required double[][] Inputs { get; init; }
    /// <summary>The direction v of the second-order check, one array per input.</summary>
    public required double[][] Direction { get; init; }
    /// <summary>The tangent t of the forward-mode check, one array per input.</summary>
    public required double[][] Tangent { get; init; }
    /// <summary>The cotangent u, with the output's shape (filled in once the output shape is known).</summary>
    public double[] Cotangent { get; private set; } = Array.Empty<double>();

    /// <summary>Draws inputs, direction and tangent for a case.</summary>
    public static Probe For(Case c)
    {
        var inputs = c.Fixed ?? c.Inputs.Select((spec, i) => Draw(spec, c.Seed * 1009 + i)).ToArray();
        return new Probe
        {
            Inputs = inputs,
            Direction = c.Inputs.Select((spec, i) => Normal(Numel(spec.Shape), c.Seed * 1009 + 100 + i)).ToArray(),
            Tangent = c.Inputs.Select((spec, i) => Normal(Numel(spec.Shape), c.Seed * 1009 + 200 + i)).ToArray(),
        };
    }

    /// <summary>Draws the cotangent once the output's element count is known.</summary>
    public void SetOutputSize(int size, int seed) => Cotangent = Normal(size, seed * 1009 + 300);

    static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);

    static double[] Normal(int n, int seed) => Tensor.RandomNormal(new[] { n }, seed).ToDoubleArray();

    static double[] Draw(InputSpec spec, int seed)
    {
        int n = Numel(spec.Shape);
        var z = Normal(n, seed);
        switch (spec.Kind)
        {
            case InputKind.Normal: return z;
            case InputKind.Positive: return z.Select(v => 0.5 + Math.Abs(v)).ToArray();
            case InputKind.Unit: return z.Select(v => 0.8 * Math.Tanh(v)).ToArray();
            case InputKind.AwayFromZero: return z.Select(v => v >= 0 ? v + 0.3 : v - 0.3).ToArray();
            case InputKind.Distinct:
                // a random permutation of evenly spaced values, so no two are within 0.2 of each other
                var order = z.Select((v, i) => (v, i)).OrderBy(p => p.v).Select(p => p.i).ToArray();
                var values = new double[n];
                for (int rank = 0; rank < n; rank++) values[order[rank]] = -1.0 + 0.25 * rank + 0.01 * z[order[rank]];
                return values;
            default: throw new ArgumentOutOfRangeException(nameof(spec));
        }
    }
}
