namespace FunctionalDiff.Compare.Suite;

/// <summary>
/// FunctionalDiff's answers for every check of a case, built only from the public C# API, the way a
/// user would write them.
/// </summary>
public static class OurSide
{
    /// <summary>The output's element count, needed to draw the cotangent before the checks run.</summary>
    public static int OutputSize(Case c, Probe probe, DType dtype) =>
        c.Ours(Inputs(c, probe, dtype)).Eval().ToDoubleArray().Length;

    /// <summary>Evaluates the value and every derivative check with FunctionalDiff.</summary>
    public static Dictionary<Check, double[]> Run(Case c, Probe probe, DType dtype, bool withHessian)
    {
        var xs = Inputs(c, probe, dtype);
        var shapes = c.Inputs.Select(i => i.Shape).ToArray();
        var (value, pullback) = Diff.Vjp(c.Ours, xs);
        var u = Make(probe.Cotangent, value.Shape, dtype);
        var results = new Dictionary<Check, double[]>
        {
            [Check.Value] = value.Eval().ToDoubleArray(),
            [Check.Vjp] = Flatten(pullback(u)),
        };

        // d/dx ⟨pullback_x(u), v⟩: reverse over reverse, through the public Grad of a function that calls Vjp
        var directions = probe.Direction.Select((d, i) => Make(d, shapes[i], dtype)).ToArray();
        Expr Inner(Expr[] zs)
        {
            var (_, pb) = Diff.Vjp(c.Ours, zs);
            var cotangents = pb(u);
            Expr total = cotangents[0] * directions[0];
            total = total.Sum();
            for (int i = 1; i < zs.Length; i++) total = total + (cotangents[i] * directions[i]).Sum();
            return total;
        }
        results[Check.SecondOrder] = Flatten(Diff.Grad(Inner)(xs));

        // forward mode and the Hessian act on one flat vector holding every input
        var flat = Expr.Concat(0, xs.Select(x => x.Reshape(Numel(x.Shape))).ToArray());
        Expr OnFlat(Expr z) => c.Ours(Split(z, shapes));
        var tangent = Make(probe.Tangent.SelectMany(t => t).ToArray(), new[] { c.InputSize }, dtype);
        results[Check.Jvp] = Diff.Jvp(OnFlat, flat, tangent).Tangent.Eval().ToDoubleArray();

        if (withHessian)
            results[Check.Hessian] = Diff.Hessian(z => (OnFlat(z) * u).Sum())(flat).Eval().ToDoubleArray();
        return results;
    }

    static Expr[] Inputs(Case c, Probe probe, DType dtype) =>
        probe.Inputs.Select((v, i) => Make(v, c.Inputs[i].Shape, dtype)).ToArray();

    /// <summary>A constant of ours; float32 runs round each value to nearest, as torch.tensor does.</summary>
    internal static Expr Make(double[] values, int[] shape, DType dtype) =>
        dtype == DType.Float64
            ? Tensor.FromArray(values, shape)
            : Tensor.FromArray(values.Select(v => (float)v).ToArray(), shape);

    static Expr[] Split(Expr flat, int[][] shapes)
    {
        var parts = new Expr[shapes.Length];
        int offset = 0;
        for (int i = 0; i < shapes.Length; i++)
        {
            int n = Numel(shapes[i]);
            parts[i] = flat.Slice(0, offset, offset + n).Reshape(shapes[i]);
            offset += n;
        }
        return parts;
    }

    static double[] Flatten(Expr[] parts) => parts.SelectMany(p => p.Eval().ToDoubleArray()).ToArray();

    static int Numel(int[] shape) => shape.Aggregate(1, (a, b) => a * b);
}
