namespace FunctionalDiff.Compare.Fuzz;

// The ops added after the recent ones (`--ops special`): torch.special's gammainc and gammaincc (the regularized incomplete
// gamma functions P and Q) and zeta (Hurwitz's). Each is differentiable in its second operand only, as torch's (ours raises
// NotSupportedException for the first, torch raises too), so the first operand, a or s, is a data constant in the op's useful
// domain (a > 0, s > 1), and the second comes from the program, made positive where it is not (x ≥ 0 for P and Q, q > 0 for
// zeta, whose poles and NaN lie at q ≤ 0).
public sealed partial class Generator
{
    /// <summary>Eight weights each: three ops against the hundreds of the surfaces before, so each is drawn in many programs.</summary>
    static (OpKind Kind, int Weight)[] SpecialWeights => Enum.GetValues<OpKind>()
        .Where(k => k > OpKind.ScaledModifiedBesselK1).Select(k => (k, 8)).ToArray();

    /// <summary>Everything <c>--ops recent</c> draws and then the special ops (<c>--ops special</c>), built on first use.</summary>
    static (OpKind Kind, int Weight)[] SpecialSurfaceWeights => specialWeights ??= RecentSurfaceWeights.Concat(SpecialWeights).ToArray();

    static (OpKind Kind, int Weight)[]? specialWeights;

    /// <summary>The shape parameters a of P and Q: below 1 (the small-a series of Q), around x (the power series and the
    /// continued fraction meet near x = a + 1) and from 20 on (torch's uniform asymptotic series); the adversarial runs add
    /// smaller and larger ones.</summary>
    static readonly double[] GammaShapes = { 0.3, 0.5, 1, 2.5, 4, 7, 15, 25 }, AdversarialGammaShapes = { 1e-3, 0.05, 60, 150, 1e3 };

    /// <summary>The exponents s of zeta: from near its pole at 1 to where the first term decides; the adversarial runs add
    /// s closer to 1 and larger ones.</summary>
    static readonly double[] ZetaExponents = { 1.5, 2, 2.5, 3, 4.5, 6 }, AdversarialZetaExponents = { 1.01, 1.1, 12, 40 };

    void Special(OpKind kind)
    {
        int x = Pick();
        if (x < 0) return;
        if (!All(x, Positive)) x = MakePositive(x);
        if (x < 0) return;
        var (values, extra) = kind == OpKind.Zeta ? (ZetaExponents, AdversarialZetaExponents) : (GammaShapes, AdversarialGammaShapes);
        double Draw() => adversarial && rng.NextDouble() < 0.3 ? extra[rng.Next(extra.Length)] : values[rng.Next(values.Length)];
        // one parameter for every entry, one per entry of the last axis (broadcast over the rest), or one per entry
        var shape = rng.Next(3) switch
        {
            0 => Array.Empty<int>(),
            1 when Rank(x) > 0 => shapes[x][^1..],
            _ => shapes[x],
        };
        var data = Enumerable.Range(0, FuzzProgram.Numel(shape)).Select(_ => Draw()).ToArray();
        Try(new Step(kind, new[] { x }, Array.Empty<int>(), Data: data, DataShape: shape));
    }
}
