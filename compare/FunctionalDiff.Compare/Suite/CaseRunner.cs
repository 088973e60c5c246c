namespace FunctionalDiff.Compare.Suite;

/// <summary>Runs every check of one case in one dtype, on both engines, and compares them.</summary>
public static class CaseRunner
{
    /// <summary>Largest number of scalar inputs for which the full Hessian is compared.</summary>
    public const int HessianInputLimit = 10;

    /// <summary>Whether the full Hessian is compared in a dtype's run: small inputs, and neither it nor the second order skipped.</summary>
    public static bool WithHessian(Case c, DType dtype) =>
        c.InputSize <= HessianInputLimit && !c.SkipHessian && !c.SkipsIn(dtype, Check.Hessian) && !c.SkipsIn(dtype, Check.SecondOrder);

    /// <summary>The results of one case in one dtype; exceptions become failed checks, never silence.</summary>
    public static List<CheckResult> Run(Case c, DType dtype)
    {
        if (c.Nested is not null) return NestedRunner.Run(c, c.Nested, dtype);
        string dtypeName = CheckResult.Name(dtype);
        bool withHessian = WithHessian(c, dtype);
        var checks = Enum.GetValues<Check>().Where(k => k != Check.Hessian || withHessian).Where(k => !c.SkipsIn(dtype, k)).ToArray();
        try
        {
            var probe = Probe.For(c);
            probe.SetOutputSize(OurSide.OutputSize(c, probe, dtype), c.Seed);
            var ours = OurSide.Run(c, probe, dtype, withHessian);
            var torch = TorchSide.Run(c, probe, dtype, withHessian);
            var tolerance = c.ToleranceFor(dtype);
            return checks.Select(k => CheckResult.Compare(c.Name, dtype, k, ours[k], torch[k], tolerance)).ToList();
        }
        catch (Exception e)
        {
            string note = $"{e.GetType().Name}: {e.Message}".ReplaceLineEndings(" ");
            return checks.Select(k => CheckResult.Error(c.Name, dtypeName, k.ToString(), note)).ToList();
        }
    }
}
