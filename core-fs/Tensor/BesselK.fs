/// BesselK: the modified Bessel functions of the second kind of orders 0 and 1, plain (torch.special's
/// modified_bessel_k0, modified_bessel_k1) and scaled by e^x (scaled_modified_bessel_k0, _k1), in float64. Up to 1 the
/// logarithmic part in closed form (with Bessel's I₀, I₁) plus a Chebyshev series in x²; from 1 on a Chebyshev series
/// of √x·eˣ·K(x), smooth in 1/x. Defined for x > 0: +∞ at ±0, NaN below 0, as torch.
namespace FunctionalDiff.Core

open System

/// Modified Bessel functions of the second kind, orders 0 and 1.
module internal BesselK =

    // Chebyshev coefficients computed for this library with mpmath at 50 digits from the Chebyshev nodes of degree 64
    // (128 for the far series), cut where they fall below 1e-19. Near: over x² in [0, 1] with t = 2x² − 1. Far: over x in
    // [1, ∞) with t = 2/x − 1. The bound 1 is where ln x vanishes: past 2, K's near form cancelled to 40 ulp.

    /// K₀(x) + ln x·I₀(x) over [0, 1]: an even entire function.
    let private k0Near =
        [| 0.5303196167314089; 0.15251907576831567; 0.003318048844835395; 2.738519788401574e-05
           1.1973841928000323e-07; 3.249474443679295e-10; 6.012730386689703e-13; 8.076060733536439e-16
           8.234977983698423e-19 |]

    /// (K₁(x) − ln x·I₁(x) − 1/x)/x over [0, 1]: an even entire function.
    let private k1Near =
        [| -0.7048550671876157; -0.045059890508404046; -0.0006017177632861077; -3.6154504483539617e-06
           -1.245884783549044e-08; -2.7927150084633376e-11; -4.4036594695160716e-14; -5.154391531560412e-17 |]

    /// √x·eˣ·K₀(x) over [1, ∞) (it tends to √(π/2)).
    let private k0Far =
        [| 2.388866152433477; -0.053855323307629495; 0.004362000068251702; -0.0005521270349863234
           8.959565555755952e-05; -1.7138726856421186e-05; 3.695146089045472e-06; -8.737284518980525e-07
           2.225046272255236e-07; -6.025216756376064e-08; 1.7186668629418083e-08; -5.1272057810909205e-09
           1.5907351467912106e-09; -5.10958325791419e-10; 1.6929517419961088e-10; -5.7683063818637606e-11
           2.0159542597761383e-11; -7.210940065346495e-12; 2.6349075982806445e-12; -9.819576891759296e-13
           3.72695818784577e-13; -1.4388149744180521e-13; 5.6436532735816866e-14; -2.2469288334596896e-14
           9.072046991627365e-15; -3.711589997838162e-15; 1.537582290719742e-15; -6.445464362724762e-16
           2.7324144482527955e-16; -1.1707837700385628e-16; 5.067869397943657e-17; -2.215087912714289e-17
           9.77208135793031e-18; -4.349519763540327e-18; 1.9525118377031567e-18; -8.836807077939326e-19
           4.0309527992572295e-19; -1.852683200248217e-19 |]

    /// √x·eˣ·K₁(x) over [1, ∞).
    let private k1Far =
        [| 2.906551335187683; 0.19051350202061165; -0.008406706460495654; 0.0008815363164514389
           -0.000129995769583983; 2.3441638979785087e-05; -4.853489413610226e-06; 1.1139969511197356e-06
           -2.772707643805077e-07; 7.37247184977708e-08; -2.0717892129028323e-08; 6.103966549420336e-09
           -1.873778917957349e-09; 5.963886884453419e-10; -1.96028004074301e-10; 6.632273899864202e-11
           -2.3034250700407756e-11; 8.193082518369976e-12; -2.9786645069974164e-12; 1.1049772078983365e-12
           -4.1763277431648047e-13; 1.6061141914625803e-13; -6.277632672531289e-14; 2.4911830875182032e-14
           -1.002779686252293e-14; 4.091059996919741e-15; -1.690331071434488e-15; 7.068360792264328e-16
           -2.9895680121763374e-16; 1.2781913900252084e-16; -5.521491188037584e-17; 2.4087033253210474e-17
           -1.0606842599776099e-17; 4.712904181351423e-18; -2.112162909518146e-18; 9.54444605267314e-19
           -4.347275669150929e-19; 1.9952385570941072e-19 |]

    let private nearBound = 1.0
    let private nearT (x: float) = 2.0 * x * x - 1.0
    let private farT (x: float) = 2.0 / x - 1.0

    /// The value at the ends of the domain and outside it, ValueNone inside: NaN stays NaN, ±0 gives +∞,
    /// below 0 NaN, and +∞ gives 0.
    let private outside (x: float) =
        if Double.IsNaN x then ValueSome x
        elif x = 0.0 then ValueSome Double.PositiveInfinity
        elif x < 0.0 then ValueSome Double.NaN
        elif Double.IsPositiveInfinity x then ValueSome 0.0
        else ValueNone

    let private k0Small (x: float) = Special.chebyshevSeries k0Near (nearT x) - Math.Log x * Bessel.i0 x
    let private k1Small (x: float) = Math.Log x * Bessel.i1 x + 1.0 / x + x * Special.chebyshevSeries k1Near (nearT x)
    let private k0LargeScaled (x: float) = Special.chebyshevSeries k0Far (farT x) / Math.Sqrt x
    let private k1LargeScaled (x: float) = Special.chebyshevSeries k1Far (farT x) / Math.Sqrt x

    /// e^−x in two halves times a scaled value, so K underflows only where it does itself.
    let private unscale (x: float) (scaled: float) =
        let half = Math.Exp(-0.5 * x)
        scaled * half * half

    /// K₀(x).
    let k0 (x: float) =
        match outside x with
        | ValueSome v -> v
        | ValueNone -> if x <= nearBound then k0Small x else unscale x (k0LargeScaled x)

    /// K₁(x).
    let k1 (x: float) =
        match outside x with
        | ValueSome v -> v
        | ValueNone -> if x <= nearBound then k1Small x else unscale x (k1LargeScaled x)

    /// eˣ·K₀(x); +∞ at 0 and 0 at +∞ (like √(π/(2x))).
    let k0e (x: float) =
        match outside x with
        | ValueSome v -> v
        | ValueNone -> if x <= nearBound then Math.Exp x * k0Small x else k0LargeScaled x

    /// eˣ·K₁(x).
    let k1e (x: float) =
        match outside x with
        | ValueSome v -> v
        | ValueNone -> if x <= nearBound then Math.Exp x * k1Small x else k1LargeScaled x
