namespace FunctionalDiff.Compare.Fuzz;

// What the recent ops (`--ops recent`) need of the program's checks.
public sealed partial record FuzzProgram
{
    /// <summary>
    /// The table's float64 tolerance where a program takes bessel_j0, j1, y0 or y1: libtorch's float64 kernels are off by
    /// up to about 3e-7 relative between 2 and 25 (J₀(6.1) = 0.17729137744 where mpmath's is 0.17729142224; ours is within 8
    /// ulp, SpecialBesselTests), so those programs compare at the case table's bound for them (CaseTable.TorchJYWhy).
    /// </summary>
    static readonly Suite.Tolerance BesselJYTolerance = new(1e-5, 1e-5);

    /// <summary>
    /// A recent op that is an older one under another name, as that op's step, so the generator's kinks and the conventions
    /// named for the older op apply to it: vector_norm is norm (every axis, or the axes), std_mean and var_mean are std or var
    /// over the axes (every axis listed when none is given, so the correction is kept) and the mean. Any other step as it is.
    /// </summary>
    /// <param name="s">The step.</param>
    /// <param name="rank">The rank of its first operand.</param>
    public static Step Canonical(Step s, int rank)
    {
        int[] Every() => s.Ints.Length > 0 ? s.Ints : Enumerable.Range(0, rank).ToArray();
        return s.Kind switch
        {
            OpKind.VectorNorm => new Step(OpKind.Norm, s.Args, s.Ints, Mode: s.Ints.Length == 0 ? 0 : 2, Flag: s.Flag, Scalar: s.Scalar),
            OpKind.StdMean or OpKind.VarMean when s.Mode == 1 => new Step(OpKind.Mean, s.Args, s.Ints, Mode: s.Ints.Length == 0 ? 0 : 2, Flag: s.Flag),
            OpKind.StdMean => new Step(OpKind.Std, s.Args, Every(), Mode: 2, Flag: s.Flag, Scalar: s.Scalar),
            OpKind.VarMean => new Step(OpKind.Var, s.Args, Every(), Mode: 2, Flag: s.Flag, Scalar: s.Scalar),
            _ => s,
        };
    }
}
