using TorchSharp;
using static TorchSharp.torch;
using TT = TorchSharp.torch.Tensor;

namespace FunctionalDiff.Compare.Suite;

// torch.special's Bessel functions of the first and second kind and the modified ones of the second kind, orders 0 and
// 1: at several shapes with the inputs scaled across both sides of each kernel's switch (8 for J and Y, 1 for K), and at
// fixed points near 0, next to the switch and far out. libtorch has no derivative for any of them (their results carry no
// grad_fn, and asking for one aborts the process), so torch's side is its own values in the second-order Taylor
// polynomial at the input, with the derivatives in closed form from torch's values of the same functions: the values,
// the first and the second order then compare with libtorch's kernels throughout.
public static partial class CaseTable
{
    static IEnumerable<Case> TorchBessel()
    {
        foreach (var c in AtShapes("bessel_j0", I, x => (5.0 * x).BesselJ0(), x => TorchJ0(5.0 * x))) yield return TorchJYWhy(c);
        foreach (var c in AtShapes("bessel_j1", I, x => (5.0 * x).BesselJ1(), x => TorchJ1(5.0 * x))) yield return TorchJYWhy(c);
        foreach (var c in AtShapes("bessel_y0", P, x => (6.0 * x).BesselY0(), x => TorchY0(6.0 * x))) yield return TorchJYWhy(c);
        foreach (var c in AtShapes("bessel_y1", P, x => (6.0 * x).BesselY1(), x => TorchY1(6.0 * x))) yield return TorchJYWhy(c);
        foreach (var c in AtShapes("modified_bessel_k0", P, x => (x + 0.2).ModifiedBesselK0(), x => TorchK0(x + 0.2))) yield return BesselWhy(c);
        foreach (var c in AtShapes("modified_bessel_k1", P, x => (x + 0.2).ModifiedBesselK1(), x => TorchK1(x + 0.2))) yield return BesselWhy(c);
        foreach (var c in AtShapes("scaled_modified_bessel_k0", P, x => (2.0 * x).ScaledModifiedBesselK0(), x => TorchK0e(2.0 * x))) yield return BesselWhy(c);
        foreach (var c in AtShapes("scaled_modified_bessel_k1", P, x => (2.0 * x).ScaledModifiedBesselK1(), x => TorchK1e(2.0 * x))) yield return BesselWhy(c);
        // j₀′ = (cos x − j₀)/x, j₀″ = −j₀ − 2j₀′/x
        foreach (var c in AtShapes("spherical_bessel_j0", I, x => (4.0 * x).SphericalBesselJ0(), x => TorchTaylor(4.0 * x, v => special.spherical_bessel_j0(v),
            v => (v.cos() - special.spherical_bessel_j0(v)) / v, v => -special.spherical_bessel_j0(v) - 2.0 * (v.cos() - special.spherical_bessel_j0(v)) / (v * v)))) yield return BesselWhy(c);
        // the aliases against torch's own kernels of those names (torch's i0 and i1 give their derivatives)
        foreach (var c in AtShapes("modified_bessel_i0", I, x => (3.0 * x).ModifiedBesselI0(), x => TorchTaylor(3.0 * x, v => special.modified_bessel_i0(v), special.i1, v => special.i0(v) - special.i1(v) / v))) yield return BesselWhy(c);
        foreach (var c in AtShapes("modified_bessel_i1", I, x => (3.0 * x).ModifiedBesselI1(), x => TorchTaylor(3.0 * x, v => special.modified_bessel_i1(v), v => special.i0(v) - special.i1(v) / v, v => special.i1(v) - (special.i0(v) - 2.0 * special.i1(v) / v) / v))) yield return BesselWhy(c);

        yield return TorchJYWhy(C("edge bessel_j0 j1 near 0, at the switch, far out", new[] { I(7) }, x => x[0].BesselJ0() + x[0].BesselJ1(), x => TorchJ0(x[0]) + TorchJ1(x[0]))
            with { Fixed = new[] { new[] { 1e-6, -0.5, 7.99, 8.01, -30.0, 100.0, 1000.0 } } });
        yield return TorchJYWhy(C("edge bessel_y0 y1 near 0, at the switch, far out", new[] { I(6) }, x => x[0].BesselY0() + x[0].BesselY1(), x => TorchY0(x[0]) + TorchY1(x[0]))
            with { Fixed = new[] { new[] { 1e-3, 0.9, 7.99, 8.01, 100.0, 1000.0 } } });
        yield return BesselWhy(C("edge modified_bessel_k0 k1 near 0, at the switch, far out", new[] { I(6) }, x => x[0].ModifiedBesselK0() + x[0].ModifiedBesselK1(), x => TorchK0(x[0]) + TorchK1(x[0]))
            with { Fixed = new[] { new[] { 1e-3, 0.99, 1.01, 5.0, 50.0, 600.0 } } });
        yield return BesselWhy(C("edge scaled_modified_bessel_k0 k1 near 0, at the switch, far out", new[] { I(5) }, x => x[0].ScaledModifiedBesselK0() + x[0].ScaledModifiedBesselK1(), x => TorchK0e(x[0]) + TorchK1e(x[0]))
            with { Fixed = new[] { new[] { 1e-3, 0.99, 1.01, 50.0, 1e4 } } });
    }

    /// <summary>
    /// f(x₀) + f′(x₀)·h + f″(x₀)·h²/2 with h = x − x₀ and x₀ = x detached: at the input, the value, the first and the
    /// second derivative are f's, from torch's values in the closed forms. At x = ±∞, h = ∞ − ∞ is NaN: there h is 0 with
    /// the slope 0 (nan_to_num's), so the value is f(±∞) and the derivatives f′(±∞)·0, the limits 0 of K and Y at +∞
    /// (`fuzz recent adversarial 2/81`, float32: K₁(+∞) = 0, ours, where the polynomial was NaN; `2/189`: the scaled K₀).
    /// </summary>
    static TT TorchTaylor(TT x, Func<TT, TT> f, Func<TT, TT> first, Func<TT, TT> second)
    {
        var at = x.detach();
        var h = (x - at).nan_to_num(0.0, 0.0, 0.0);
        return f(at) + first(at) * h + 0.5 * second(at) * h * h;
    }

    // J₀′ = −J₁, J₀″ = −J₀ + J₁/x; J₁′ = J₀ − J₁/x, J₁″ = −J₁ − J₀/x + 2J₁/x²; the same for Y. Near 0 (0 and the subnormals
    // included, where J₁/x is 0/0 or rounds to 0 or 1) J₁/x is its Maclaurin polynomial ½ − x²/16 and J₁″ is −3x/8, so the
    // fuzzer's programs at x = 0 get the limits (J₀″(0) = −½, J₁′(0) = ½, J₁″(0) = 0; `fuzz recent adversarial 2/132`).
    static TT J1OverX(TT v) => torch.where(v.abs().lt(1e-5), 0.5 - v * v / 16.0, special.bessel_j1(v) / v);
    internal static TT TorchJ0(TT x) => TorchTaylor(x, v => special.bessel_j0(v), v => -special.bessel_j1(v), v => -special.bessel_j0(v) + J1OverX(v));
    internal static TT TorchJ1(TT x) => TorchTaylor(x, v => special.bessel_j1(v), v => special.bessel_j0(v) - J1OverX(v),
        v => torch.where(v.abs().lt(1e-5), -0.375 * v, -special.bessel_j1(v) + (2.0 * J1OverX(v) - special.bessel_j0(v)) / v));
    internal static TT TorchY0(TT x) => TorchTaylor(x, v => special.bessel_y0(v), v => -special.bessel_y1(v), v => -special.bessel_y0(v) + special.bessel_y1(v) / v);
    internal static TT TorchY1(TT x) => TorchTaylor(x, v => special.bessel_y1(v), v => special.bessel_y0(v) - special.bessel_y1(v) / v, v => -special.bessel_y1(v) - special.bessel_y0(v) / v + 2.0 * special.bessel_y1(v) / (v * v));

    // K₀′ = −K₁, K₀″ = K₀ + K₁/x; K₁′ = −K₀ − K₁/x, K₁″ = K₁ + K₀/x + 2K₁/x²; with k = eˣK: k₀′ = k₀ − k₁,
    // k₀″ = 2k₀ − 2k₁ + k₁/x; k₁′ = k₁ − k₀ − k₁/x, k₁″ = 2k₁ − 2k₀ − 2k₁/x + k₀/x + 2k₁/x².
    internal static TT TorchK0(TT x) => TorchTaylor(x, v => special.modified_bessel_k0(v), v => -special.modified_bessel_k1(v), v => special.modified_bessel_k0(v) + special.modified_bessel_k1(v) / v);
    internal static TT TorchK1(TT x) => TorchTaylor(x, v => special.modified_bessel_k1(v), v => -special.modified_bessel_k0(v) - special.modified_bessel_k1(v) / v, v => special.modified_bessel_k1(v) + special.modified_bessel_k0(v) / v + 2.0 * special.modified_bessel_k1(v) / (v * v));
    internal static TT TorchK0e(TT x) => TorchTaylor(x, v => special.scaled_modified_bessel_k0(v), v => special.scaled_modified_bessel_k0(v) - special.scaled_modified_bessel_k1(v),
        v => 2.0 * special.scaled_modified_bessel_k0(v) - 2.0 * special.scaled_modified_bessel_k1(v) + special.scaled_modified_bessel_k1(v) / v);
    internal static TT TorchK1e(TT x) => TorchTaylor(x, v => special.scaled_modified_bessel_k1(v), v => special.scaled_modified_bessel_k1(v) - special.scaled_modified_bessel_k0(v) - special.scaled_modified_bessel_k1(v) / v,
        v => 2.0 * special.scaled_modified_bessel_k1(v) - 2.0 * special.scaled_modified_bessel_k0(v) - 2.0 * special.scaled_modified_bessel_k1(v) / v + special.scaled_modified_bessel_k0(v) / v + 2.0 * special.scaled_modified_bessel_k1(v) / (v * v));

    /// <summary>
    /// libtorch 2.10's float64 bessel_j0, bessel_j1, bessel_y0 and bessel_y1 are off by up to about 3e-7 relative between
    /// 2 and 25 (J₀(6.1): 0.17729137744 where mpmath's is 0.17729142224; ours is within 8 ulp there, checked against
    /// mpmath in SpecialBesselTests), so their float64 run compares at float32's kind of bound.
    /// </summary>
    static Case TorchJYWhy(Case c) => c with
    {
        Float64 = new Tolerance(1e-5, 1e-5),
        Why = "libtorch's float64 bessel_j0/j1/y0/y1 are off by up to 3e-7 relative between 2 and 25 (J₀(6.1) = 0.17729137744, mpmath 0.17729142224); no derivative in libtorch, so torch's side is its values in the second-order Taylor polynomial at the input",
    };

    static Case BesselWhy(Case c) => c with { Why = "libtorch has no derivative of this function: torch's side is its values in the second-order Taylor polynomial at the input (closed-form derivatives)" };
}
