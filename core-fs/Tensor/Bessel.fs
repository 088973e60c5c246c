/// Bessel: the modified Bessel functions of the first kind of orders 0 and 1, plain (i0, i1) and scaled by e^−|x|
/// (i0e, i1e), as torch.special computes them, in float64. The scaled forms are the kernels; the plain ones multiply
/// them by e^|x| in two halves, so they overflow only where the function itself does (i0(713) is finite, e^713 is not).
namespace FunctionalDiff.Core

open System

/// Modified Bessel functions of the first kind, orders 0 and 1.
module internal Bessel =

    // Chebyshev coefficients computed for this library with mpmath at 50 digits, from the Chebyshev nodes of degree
    // 64, and cut where they fall below 1e-19 (each function is at least 0.016 on its interval, so the cut is below
    // a hundredth of an ulp). Near: over x in [0, 8] with t = x/4 − 1. Far: over x in [8, ∞) with t = 16/x − 1, of
    // √x·e^−x·I(x), which tends to 1/√(2π) and is smooth in 1/x.

    /// e^−x I₀(x) over [0, 8].
    let private i0Near =
        [| 0.6767952744094761; -0.3046826723431984; 0.17162090152220877; -0.09490109704804764
           0.04930528423967071; -0.02373741480589947; 0.010546460394594998; -0.004324309995050576
           0.0016394756169413357; -0.0005763755745385824; 0.00018850288509584165; -5.754195010082104e-05
           1.6448448070728896e-05; -4.4167383584587505e-06; 1.1173875391201037e-06; -2.670793853940612e-07
           6.046995022541919e-08; -1.300025009986248e-08; 2.6598237246823866e-09; -5.189795601635263e-10
           9.675809035373237e-11; -1.726826291441556e-11; 2.95505266312964e-12; -4.856446783111929e-13
           7.676185498604936e-14; -1.1685332877993451e-14; 1.715391285555133e-15; -2.431279846547955e-16
           3.3307945188222384e-17; -4.4153416464793395e-18; 5.669178006921496e-19 |]

    /// e^−x/2 I₁(x)/x over [0, 8]: even, 1/2 at 0, so x times it keeps full relative accuracy down to the
    /// subnormals. Half the exponential, not all: e^−x I₁(x)/x falls thirtyfold over the interval, and its series
    /// cancelled to a dozen ulp near 8, where this one stays between 1/2 and 1.
    let private i1OverXNear =
        [| 1.0033115921342282; 0.21434352751696323; 0.1873117281781378; -0.002866387364893764
           0.017208834137830864; -0.003324430089778451; 0.0014548980187094754; -0.00037900013304999214
           0.00010796419226905365; -2.6550877356173354e-05; 6.240759664697854e-06; -1.355735653672437e-06
           2.771423936451657e-07; -5.320746788837881e-08; 9.642268261779336e-09; -1.6529004075997958e-09
           2.687936204597282e-10; -4.15621955881712e-11; 6.124347398496822e-12; -8.617572968591565e-13
           1.1601023796285066e-13; -1.4967665782311686e-14; 1.853809985984863e-15; -2.2074328443875368e-16
           2.5306636581163284e-17; -2.7969144281635414e-18; 2.983721412552332e-19 |]

    /// √x e^−x I₀(x) over [8, ∞).
    let private i0Far =
        [| 0.8044904110141088; 0.0033691164782556943; 6.889758346916825e-05; 2.8913705208347567e-06
           2.0489185894690638e-07; 2.266668990498178e-08; 3.3962320257083865e-09; 4.94060238822497e-10
           1.1889147107846439e-11; -3.1499165279632416e-11; -1.3215811840447713e-11; -1.7941785315068062e-12
           7.180124451383666e-13; 3.8527783827421426e-13; 1.54008621752141e-14; -4.150569347287222e-14
           -9.554846698828307e-15; 3.8116806693526224e-15; 1.7725601330565263e-15; -3.425485619677219e-16
           -2.8276239805165836e-16; 3.461222867697461e-17; 4.46562142029676e-17; -4.830504485944182e-18
           -7.233180487874754e-18; 9.921475412173699e-19; 1.193650890845982e-18; -2.4887098371508075e-19
           -1.938426454160906e-19 |]

    /// √x e^−x I₁(x) over [8, ∞).
    let private i1Far =
        [| 0.7785762350182801; -0.009761097491361469; -0.00011058893876262371; -3.882564808877691e-06
           -2.512236237870209e-07; -2.6314688468895196e-08; -3.835380385964237e-09; -5.589743462196584e-10
           -1.8974958123505413e-11; 3.2526035830154884e-11; 1.4125807436613782e-11; 2.0356285441470896e-12
           -7.198551776245908e-13; -4.0835511110921974e-13; -2.1015418427726643e-14; 4.272440016711951e-14
           1.0420276984128802e-14; -3.8144030724370075e-15; -1.8803547755107825e-15; 3.3082023109209285e-16
           2.96262899764595e-16; -3.209525921993424e-17; -4.6503053684893586e-17; 4.414348323071708e-18
           7.517296310842105e-18; -9.314178867326884e-19; -1.242193275194891e-18; 2.4142767194548486e-19
           2.0269443840532852e-19 |]

    /// e^−|x| I₀(x) (torch.special.i0e): even, 1 at 0, 0 at ±∞ (like 1/√(2π|x|) far out).
    let i0e (x: float) =
        if Double.IsNaN x then x
        else
            let a = abs x
            if a <= 8.0 then Special.chebyshevSeries i0Near (a * 0.25 - 1.0)
            else Special.chebyshevSeries i0Far (16.0 / a - 1.0) / Math.Sqrt a

    /// x/2 for a subnormal x, rounded as a function x/2 ± O(x³) must be. Halving a subnormal whose last bit is set lands
    /// exactly between two neighbours, where rounding to even would choose by that bit rather than by the function: I₁(x) =
    /// x/2 + x³/16 + … lies beyond the midpoint (away from zero), e^−|x|·I₁(x) = x/2 − x|x|/2 + … and J₁(x) = x/2 − x³/16 + …
    /// short of it (toward zero). The kink of i0e at 0 turns that last bit into a slope of ±1 (`fuzz fresh adversarial
    /// 45/196`: i0e(i1(5e-324))).
    let halfOfSubnormal (x: float) (awayFromZero: bool) =
        let half = x * 0.5
        if half * 2.0 = x then half
        else
            let step = Math.CopySign(Double.Epsilon, x)
            Math.CopySign((if awayFromZero then x + step else x - step) * 0.5, x)

    /// True for a nonzero x below the smallest normal magnitude, where halving may round (see halfOfSubnormal).
    let isSubnormal (x: float) = x <> 0.0 && abs x < 2.2250738585072014E-308

    /// e^−|x| I₁(x) (torch.special.i1e): odd, ±0 at ±0 and at ±∞.
    let i1e (x: float) =
        if Double.IsNaN x then x
        elif isSubnormal x then halfOfSubnormal x false
        else
            let a = abs x
            if a <= 8.0 then x * Special.chebyshevSeries i1OverXNear (a * 0.25 - 1.0) * Math.Exp(-0.5 * a)
            else
                let magnitude = Special.chebyshevSeries i1Far (16.0 / a - 1.0) / Math.Sqrt a
                if x < 0.0 then -magnitude else magnitude

    /// scaled·e^|x| without overflow in e^|x| alone: in two halves once e^|x| would pass the largest float. At ±∞ the
    /// limit, ∞ with the sign of the scaled form's zero (where e^|x|·0 would be NaN).
    let private unscale (x: float) (scaled: float) =
        let a = abs x
        if a < 700.0 then Math.Exp a * scaled
        elif Double.IsPositiveInfinity a then Math.CopySign(Double.PositiveInfinity, scaled)
        else
            let half = Math.Exp(0.5 * a)
            half * scaled * half

    /// I₀(x) (torch.i0, torch.special.i0): even, 1 at 0, +∞ from |x| ≈ 714 on.
    let i0 (x: float) = unscale x (i0e x)

    /// I₁(x) (torch.special.i1): odd, ±∞ from |x| ≈ 714 on.
    let i1 (x: float) = if isSubnormal x then halfOfSubnormal x true else unscale x (i1e x)
