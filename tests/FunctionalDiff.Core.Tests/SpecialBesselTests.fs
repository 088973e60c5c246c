/// torch.special's Bessel functions J₀, J₁, Y₀, Y₁, K₀, K₁ and the scaled eˣK₀, eˣK₁: float64 values against mpmath,
/// torch's edge values, derivatives against closed forms at 0 and float64 central differences at first and second
/// order, forward mode, batching and a compiled plan.
module FunctionalDiff.Core.Tests.SpecialBesselTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private at (f: Expr -> Expr) (x: float) = value (f (Expr.scalar DType.Float64 x))

let private ops =
    dict [ "j0", Expr.besselJ0; "j1", Expr.besselJ1; "y0", Expr.besselY0; "y1", Expr.besselY1
           "k0", Expr.modifiedBesselK0; "k1", Expr.modifiedBesselK1; "k0e", Expr.scaledModifiedBesselK0
           "k1e", Expr.scaledModifiedBesselK1 ]

/// Values from mpmath 1.3 at 50 digits, rounded to float64: besselj(ν, x), bessely(ν, x), besselk(ν, x) and
/// exp(x)·besselk(ν, x) (`python3 -c "import mpmath as mp; mp.mp.dps = 50; print(float(mp.besselj(0, mp.mpf(x))))"`).
/// Among them zeros of J (2.4048…, 5.52 and 3.8317 nearby), where the kernel keeps its relative accuracy.
let private mpmathValues =
    [
      "j0", 1e-300, 1.0
      "j0", 1e-05, 0.999999999975
      "j0", 0.5, 0.9384698072408129
      "j0", 2.404825557695773, -6.10876525973673e-17
      "j0", 5.52, -2.6578369480081305e-05
      "j0", 7.999, 0.17188537228232045
      "j0", 8.0, 0.1716508071375539
      "j0", 8.001, 0.17141609967153276
      "j0", -12.5, 0.1468840547004211
      "j0", 30.0, -0.08636798358104021
      "j0", 1000.0, 0.024786686152420176
      "j0", 100000.0, -0.0017192011162359723
      "j0", 10000000000.0, 2.175591750246892e-06
      "j1", -1e-300, -5e-301
      "j1", 1e-05, 4.9999999999375e-06
      "j1", 0.5, 0.2422684576748739
      "j1", 3.8317, 2.404559043103632e-06
      "j1", 7.999, 0.2344939012279374
      "j1", 8.001, 0.23477854371960058
      "j1", -12.5, 0.16548380461475973
      "j1", 30.0, -0.11875106261662294
      "j1", 1000.0, 0.004728311907089524
      "j1", 100000.0, 0.0018467575628825677
      "j1", 10000000000.0, -7.676508175684158e-06
      "y0", 1e-300, -439.8351636227653
      "y0", 1e-05, -7.40316028370197
      "y0", 0.5, -0.44451873350670656
      "y0", 3.0, 0.3768500100127904
      "y0", 7.999, 0.2233633073071853
      "y0", 8.001, 0.22367942818892078
      "y0", 30.0, -0.11729573168666403
      "y0", 1000.0, 0.0047159179776228135
      "y0", 10000000000.0, -7.676508175792937e-06
      "y1", 1e-300, -6.366197723675813e+299
      "y1", 1e-05, -63661.97727536548
      "y1", 0.5, -1.471472392670243
      "y1", 7.999, -0.1583036781461278
      "y1", 8.001, -0.15781712013548885
      "y1", 30.0, 0.08442557066174723
      "y1", 1000.0, -0.024784331292351778
      "y1", 10000000000.0, -2.175591750630717e-06
      "k0", 1e-300, 690.8914594138721
      "k0", 1e-05, 11.628856980944363
      "k0", 0.5, 0.9244190712276659
      "k0", 0.999, 0.42162685730813515
      "k0", 1.0, 0.42102443824070834
      "k0", 1.001, 0.42042304210549164
      "k0", 5.0, 0.0036910983340425942
      "k0", 50.0, 3.4101677497894956e-23
      "k0", 700.0, 4.669776431685377e-306
      "k1", 1e-300, 9.999999999999999e+299
      "k1", 1e-05, 99999.99993935571
      "k1", 0.5, 1.656441120003301
      "k1", 0.999, 0.602931276323012
      "k1", 1.001, 0.6008854108196824
      "k1", 5.0, 0.004044613445452165
      "k1", 50.0, 3.4441022267175555e-23
      "k1", 700.0, 4.6731107967079664e-306
      "k0e", 1e-300, 690.8914594138721
      "k0e", 1e-05, 11.628973270095617
      "k0e", 0.999, 1.144955096845731
      "k0e", 1.001, 1.1439717155411275
      "k0e", 50.0, 0.17680715585742934
      "k0e", 10000.0, 0.012532984717699286
      "k0e", 1e+300, 1.2533141373155002e-150
      "k1e", 1e-05, 100000.99994435512
      "k1e", 0.999, 1.6372990143017028
      "k1e", 1.001, 1.6350100860707517
      "k1e", 50.0, 0.17856655855881556
      "k1e", 10000.0, 0.012533611351270506
      "k1e", 1e+300, 1.2533141373155002e-150
    ]

/// Next to the zeros of Y, which the kernel does not divide out, the error is absolute: on the dense grid at most 1.3e-15
/// below 8 (where ln x·J₀ and the series cancel) and 4.5e-16 of the envelope √(2/(πx)) past 8 (mpmath values as above).
let private mpmathAbsolute =
    [ "y0", 0.8935769662791675, -2.3389279284062102e-17
      "y1", 2.197141326031017, 2.513306678922122e-17 ]

/// Distance in float64 ulps (of the reference) between two values; 0 when they are equal, infinities included.
let private ulps (actual: float) (expected: float) =
    if actual = expected then 0.0
    elif not (Double.IsFinite actual && Double.IsFinite expected) then infinity
    else abs (actual - expected) / (Math.BitIncrement(abs expected) - abs expected)

let private case name shapes domain f : RuleCase = { Name = name; Shapes = shapes; Domain = domain; F = f }
let private one f = fun (xs: Expr list) -> f xs.[0]

/// First and second order against central differences, the inputs scaled across each kernel's switch (8 for J and Y,
/// 1 for K); Positive draws lie in [0.5, 2].
let private ruleCases =
    let s23 = [| 2; 3 |]
    [ case "bessel_j0" [ s23 ] Normal (one (fun x -> Expr.besselJ0 (5.0 * x)))
      case "bessel_j1" [ s23 ] Normal (one (fun x -> Expr.besselJ1 (5.0 * x)))
      case "bessel_j1 near 0, through its series" [ s23 ] Normal (one (fun x -> Expr.besselJ1 (0.1 * x)))
      case "bessel_y0" [ s23 ] Positive (one (fun x -> Expr.besselY0 (6.0 * x)))
      case "bessel_y1" [ s23 ] Positive (one (fun x -> Expr.besselY1 (6.0 * x)))
      case "modified_bessel_k0" [ s23 ] Positive (one (fun x -> Expr.modifiedBesselK0 (x - 0.3)))
      case "modified_bessel_k1" [ s23 ] Positive (one (fun x -> Expr.modifiedBesselK1 (x - 0.3)))
      case "scaled_modified_bessel_k0" [ s23 ] Positive (one (fun x -> Expr.scaledModifiedBesselK0 (2.0 * x)))
      case "scaled_modified_bessel_k1" [ s23 ] Positive (one (fun x -> Expr.scaledModifiedBesselK1 (2.0 * x)))
      case "spherical_bessel_j0" [ s23 ] Normal (one (fun x -> Elementary.sphericalBesselJ0 (4.0 * x)))
      case "spherical_bessel_j0 near 0, through its series" [ s23 ] Normal (one (fun x -> Elementary.sphericalBesselJ0 (0.003 * x))) ]

[<Tests>]
let tests =
    testList "Special Bessel" [
        // over a dense grid (4,300 points from 0.01 to 1e300 per function, mpmath at 40 digits) the kernels stayed within
        // 6 ulp for K, 8 ulp for J below 8 (its first zeros included) and 16 past 8, and 44 ulp for Y where |Y| is at
        // least a tenth of its envelope min(1, √(2/(πx))); next to the other zeros the error is absolute (mpmathAbsolute)
        test "float64 values are within K's 8, J's 16 and Y's 48 ulp of mpmath, next to J's zeros and far out included" {
            let bound (name: string) = match name.[0] with 'k' -> 8.0 | 'j' -> 16.0 | _ -> 48.0
            for name, x, expected in mpmathValues do
                let actual = at ops.[name] x
                let distance = ulps actual expected
                if distance > bound name then failtestf "%s(%.17g) = %.17g, mpmath %.17g (%g ulp)" name x actual expected distance
            for name, x, expected in mpmathAbsolute do
                let actual = at ops.[name] x
                if abs (actual - expected) > 1.5e-15 then failtestf "%s(%.17g) = %.17g, mpmath %.17g" name x actual expected
        }

        test "edge values: torch's at 0 and below, the limits at the infinities, NaN" {
            let cases =
                [ "j0", 0.0, 1.0; "j0", infinity, 0.0; "j0", -infinity, 0.0; "j1", -0.0, -0.0; "j1", infinity, 0.0
                  "y0", 0.0, -infinity; "y0", -0.0, -infinity; "y0", -1.0, nan; "y0", infinity, 0.0; "y0", -infinity, nan
                  "y1", 0.0, -infinity; "y1", 1e-310, -infinity; "y1", -2.0, nan; "y1", infinity, 0.0
                  "k0", 0.0, infinity; "k0", -0.0, infinity; "k0", -1.0, nan; "k0", infinity, 0.0; "k0", 800.0, 0.0
                  "k1", 0.0, infinity; "k1", -infinity, nan; "k1", infinity, 0.0
                  "k0e", 0.0, infinity; "k0e", -0.5, nan; "k0e", infinity, 0.0; "k1e", 0.0, infinity; "k1e", infinity, 0.0 ]
            for name, x, expected in cases do
                let actual = at ops.[name] x
                Expect.isTrue (actual.Equals expected) (sprintf "%s(%g) = %g, expected %g" name x actual expected)
            for name in ops.Keys do
                Expect.isTrue (Double.IsNaN (at ops.[name] nan)) (sprintf "%s(NaN) is NaN" name)
        }

        test "derivatives at 0 and at a point against closed forms, to the third order" {
            let d f = Diff.grad f
            let close (expected: float) (actual: float) (what: string) = Expect.floatClose Accuracy.veryHigh actual expected what
            // J₁ = x/2 − x³/16 + …: slopes 1/2, 0, −3/8 at 0, where the rule's J₁(x)/x is 0/0
            close 0.5 (at (d Expr.besselJ1) 0.0) "j1′(0)"
            close 0.0 (at (d (d Expr.besselJ1)) 0.0) "j1″(0)"
            close -0.375 (at (d (d (d Expr.besselJ1))) 0.0) "j1‴(0)"
            // J₀ = 1 − x²/4 + x⁴/64 − …
            close 0.0 (at (d Expr.besselJ0) 0.0) "j0′(0)"
            close -0.5 (at (d (d Expr.besselJ0)) 0.0) "j0″(0)"
            // at 2 (mpmath's besselj, bessely, besselk of orders 0 and 1 at 2): y0′ = −Y₁, y1′ = Y₀ − Y₁/2, k0′ = −K₁,
            // k1′ = −K₀ − K₁/2, (eˣK₀)′ = e²(K₀ − K₁)
            let j0, j1 = 0.22389077914123567, 0.5767248077568734
            let y0, y1 = 0.5103756726497451, -0.10703243154093754
            let k0, k1 = 0.11389387274953344, 0.13986588181652243
            close (-j1) (at (d Expr.besselJ0) 2.0) "j0′(2)"
            close (j0 - j1 / 2.0) (at (d Expr.besselJ1) 2.0) "j1′(2)"
            close (-y1) (at (d Expr.besselY0) 2.0) "y0′(2)"
            close (y0 - y1 / 2.0) (at (d Expr.besselY1) 2.0) "y1′(2)"
            close (-k1) (at (d Expr.modifiedBesselK0) 2.0) "k0′(2)"
            close (-k0 - k1 / 2.0) (at (d Expr.modifiedBesselK1) 2.0) "k1′(2)"
            close (Math.Exp 2.0 * (k0 - k1)) (at (d Expr.scaledModifiedBesselK0) 2.0) "(eˣK₀)′(2)"
            close (Math.Exp 2.0 * (k1 - k0 - k1 / 2.0)) (at (d Expr.scaledModifiedBesselK1) 2.0) "(eˣK₁)′(2)"
            // sin(x)/x = 1 − x²/6 + x⁴/120 − …: 1, 0, −1/3, 0, 1/5 at 0
            let j0 = Elementary.sphericalBesselJ0
            close 1.0 (at j0 0.0) "spherical j₀(0)"
            close 0.0 (at (d j0) 0.0) "spherical j₀′(0)"
            close (-1.0 / 3.0) (at (d (d j0)) 0.0) "spherical j₀″(0)"
            close 0.2 (at (d (d (d (d j0)))) 0.0) "spherical j₀⁗(0)"
            close (Math.Sin 1e6 / 1e6) (at j0 1e6) "spherical j₀(1e6), x read as is"
        }

        testList "first order vs finite differences" (ruleCases |> List.mapi (fun i c -> firstOrderTest (7300 + i) c))
        testList "second order vs finite differences of the first" (ruleCases |> List.mapi (fun i c -> secondOrderTest (7300 + i) c))

        forwardModeTest 73 ruleCases

        test "at subnormals, I₁, e^−|x|I₁ and J₁ round x/2 as the function lies from it" {
            // x = m·2^−1074: x/2 is a tie between two subnormals for odd m. I₁(x) = x/2 + x³/16 + … lies beyond it, so the
            // correctly rounded value is ⌈m/2⌉·2^−1074; e^−|x|I₁(x) = x/2 − x|x|/2 + … and J₁(x) = x/2 − x³/16 + … lie short
            // of it, ⌊m/2⌋·2^−1074 (x³ and x|x| are far below any float, so only the direction counts). Even m halve exactly.
            for m in [ 1L; 2L; 3L; 5L; 8L; 4503599627370495L ] do
                for sign in [ 1.0; -1.0 ] do
                    let x = sign * float m * Double.Epsilon
                    let away = sign * float ((m + 1L) / 2L) * Double.Epsilon
                    let toward = sign * float (m / 2L) * Double.Epsilon
                    for name, f, expected in [ "i1", Expr.i1, away; "i1e", Expr.i1e, toward; "j1", Expr.besselJ1, toward ] do
                        let single = at f x
                        let whole = values (f (Expr.constant (Tensor.ofArray64 [| 3 |] [| 0.5; x; 2.0 |])))
                        Expect.equal (BitConverter.DoubleToInt64Bits single) (BitConverter.DoubleToInt64Bits expected) (sprintf "%s(%g) single" name x)
                        Expect.equal (BitConverter.DoubleToInt64Bits whole.[1]) (BitConverter.DoubleToInt64Bits expected) (sprintf "%s(%g) whole" name x)
        }

        test "whole tensors, single entries, vmap and a compiled plan give the same bits" {
            let points = [| 1e-3; 0.7; 1.0; 2.5; 7.99; 8.01; 30.0; 1e4 |]
            for KeyValue(name, f) in ops do
                let whole = values (f (Expr.constant (Tensor.ofArray64 [| points.Length |] points)))
                let single = points |> Array.map (at f)
                let batched = values (Diff.vmapN [ Some 0 ] 0 (fun (xs: Expr list) -> f xs.[0]) [ Expr.constant (Tensor.ofArray64 [| 2; 4 |] points) ])
                let compiled = (Compile.compile (fun p -> [| f p.[0] |])).Invoke(Tensor.ofArray64 [| points.Length |] points).[0].ToDoubleArray()
                for i in 0 .. points.Length - 1 do
                    for path, v in [ "single", single.[i]; "vmap", batched.[i]; "compiled", compiled.[i] ] do
                        Expect.equal (BitConverter.DoubleToInt64Bits v) (BitConverter.DoubleToInt64Bits whole.[i]) (sprintf "%s(%g) %s" name points.[i] path)
        }
    ]
