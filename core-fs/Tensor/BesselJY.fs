/// BesselJY: the Bessel functions of the first and second kind of orders 0 and 1 (torch.special's bessel_j0,
/// bessel_j1, bessel_y0, bessel_y1), in float64. Up to 8 each is a Chebyshev series in x², with J's first zeros divided
/// out (so J keeps its relative accuracy next to them) and Y's logarithmic part added in closed form; from 8 on the
/// Hankel form cos/sin(x)·(P ± Q)/√(πx), with P ± Q smooth in 8/x.
namespace FunctionalDiff.Core

open System

/// Bessel functions of the first and second kind, orders 0 and 1.
module internal BesselJY =

    // Chebyshev coefficients computed for this library with mpmath at 50 digits from the Chebyshev nodes of degree 64
    // (80 for the far series), cut where they fall below 1e-19 (1e-25 for J's quotients, which are about 1e-5). Near: over x² in [0, 64] with t = x²/32 − 1. Far: over
    // x in [8, ∞) with t = 16/x − 1.

    /// J₀(x)/((x² − j₀₁²)(x² − j₀₂²)(x² − j₀₃²)) over [0, 8], j₀ₖ the zeros of J₀ (the third, past 8, flattens the
    /// quotient, whose series then cancels less near 8).
    let private j0Near =
        [| -6.837824934687584e-05; 3.275539238265576e-05; -7.631650837510544e-06; 1.086700486952261e-06
           -1.0588155950196776e-07; 7.558465121356463e-09; -4.140375614344942e-10; 1.799863023385093e-11
           -6.370558956177209e-13; 1.8735723318054736e-14; -4.654628053852989e-16; 9.903132380228728e-18
           -1.8254143152188351e-19; 2.944153449430916e-21; -4.190889631931292e-23; 5.3048399247564295e-25 |]

    /// J₁(x)/(x(x² − j₁₁²)(x² − j₁₂²)(x² − j₁₃²)) over [0, 8].
    let private j1Near =
        [| -6.56677731440147e-06; 2.762287685049543e-06; -5.623691032268321e-07; 7.067369727478163e-08
           -6.145000881067649e-09; 3.9542097799456666e-10; -1.9697009660487488e-11; 7.845621917440618e-13
           -2.561199020659572e-14; 6.987055292740725e-16; -1.618220820699693e-17; 3.2237947605492447e-19
           -5.585912398144852e-21; 8.49851937094241e-23; -1.1447092398960976e-24 |]

    /// Y₀(x) − (2/π)·ln x·J₀(x) over [0, 8]: an even entire function.
    let private y0Near =
        [| -0.06629222640656988; -0.2744743055297453; 0.17903431407718265; 0.26156734625504663
           -0.17730201278114358; 0.04719668959576339; -0.007287962479552079; 0.0007531135932577742
           -5.632079141056987e-05; 3.206532537654801e-06; -1.44072332740187e-07; 5.248794787330516e-09
           -1.5837552541812015e-10; 4.02633081830612e-12; -8.747341203310769e-14; 1.6434898714919468e-15
           -2.6977881152566837e-17; 3.9032584173475982e-19 |]

    /// (Y₁(x) − (2/π)(ln x·J₁(x) − 1/x))/x over [0, 8]: an even entire function.
    let private y1Near =
        [| 0.005076026471483563; -0.01608717304766875; -0.09591204536083074; 0.08445197259652346
           -0.028328123944594365; 0.005289897544167113; -0.0006414551451326356; 5.505982873338744e-05
           -3.53808001868935e-06; 1.7707804556154404e-07; -7.11055004989928e-09; 2.344337905911516e-10
           -6.4651518414115946e-12; 1.51429151205002e-13; -3.0511859694473254e-15; 5.34668038572867e-17
           -8.224911372021585e-19 |]

    /// A₀ = √(πx)(J₀ cos x + Y₀ sin x) over [8, ∞) (P₀ + Q₀ of the Hankel form; it tends to 2).
    let private a0Far =
        [| 1.983651418148935; -0.008286111871050546; -0.00010643135957930775; 5.4569609544835584e-06
           5.1233634929344264e-08; -1.5774593532734652e-08; 4.419225953845483e-10; 6.724244064594421e-11
           -7.983392401485658e-12; 1.1754338395248751e-14; 9.225149818020809e-14; -1.0392299678828814e-14
           -1.7925638419999756e-16; 2.140495118924589e-16; -2.885642804206575e-17; -8.651773104612041e-20
           7.329900585042461e-19; -1.3703444225683679e-19 |]

    /// B₀ = √(πx)(J₀ sin x − Y₀ cos x) over [8, ∞) (P₀ − Q₀).
    let private b0Far =
        [| 2.0147288409257564; 0.007209952748258408; -0.00015716218288792366; -2.4285110135106695e-06
           2.6570360091192063e-07; -1.3467975461795797e-09; -1.0333694624825423e-09; 6.422868442810869e-11
           3.508398344870144e-12; -9.081771456485405e-13; 4.684503456839171e-14; 7.365503444388438e-15
           -1.6691867243560148e-15; 9.710481671259036e-17; 1.9341216007083584e-17; -5.390428282203727e-18
           4.771232722980521e-19 |]

    /// A₁ = √(πx)(J₁ sin x − Y₁ cos x) over [8, ∞).
    let private a1Far =
        [| 2.0481087317043984; 0.024247808475504656; 0.00018596424327698072; -7.574390958117316e-06
           -7.615637058930437e-08; 1.9451201959604004e-08; -4.92418255814224e-10; -8.016964362932921e-11
           9.018802559670667e-12; 1.2410983025102317e-14; -1.0414750506478187e-13; 1.1293888160951775e-14
           2.389655227870159e-16; -2.357790820893666e-16; 3.0836682354260344e-17; 2.1790335016822453e-19
           -7.987830092751638e-19; 1.4559251289615922e-19 |]

    /// B₁ = −√(πx)(J₁ cos x + Y₁ sin x) over [8, ∞).
    let private b1Far =
        [| 1.9546014117592554; -0.022445793971586494; 0.0002574844550950084; 3.6428720317352286e-06
           -3.4163425227609996e-07; 1.1116850582754618e-09; 1.2443593516003218e-09; -7.26081835263936e-11
           -4.244109161856805e-12; 1.0240987916360434e-12; -4.97318736804719e-14; -8.413726014757259e-15
           1.8269184699662695e-15; -1.0063248585698468e-16; -2.1663128862295842e-17; 5.817149524531353e-18
           -4.965115425555553e-19 |]

    /// x² − z² for a zero z = high + low given in two parts, as (x − high − low)(x + high + low): x − high is exact
    /// next to the zero, so the product keeps its relative accuracy there.
    let private besideZero (x: float) (high: float) (low: float) = ((x - high) - low) * (x + high + low)

    let private nearT (x: float) = x * x * (1.0 / 32.0) - 1.0
    let private farT (a: float) = 16.0 / a - 1.0

    /// 1/√(πa) for a ≥ 8, without forming π·a (which overflows above 5.7e307).
    let private hankelScale (a: float) = 1.0 / (Math.Sqrt Math.PI * Math.Sqrt a)

    let private twoOverPi = 2.0 / Math.PI

    /// J₀(x): even, 1 at 0, 0 at ±∞.
    let j0 (x: float) =
        let a = abs x
        if Double.IsNaN x then x
        elif Double.IsPositiveInfinity a then 0.0
        elif a <= 8.0 then
            Special.chebyshevSeries j0Near (nearT a)
            * besideZero a 2.404825557695773 -1.176691651530894e-16 * besideZero a 5.520078110286311 8.088597146146722e-17
            * besideZero a 8.653727912911013 -2.92812607320779e-16
        else
            let t = farT a
            hankelScale a * (Special.chebyshevSeries a0Far t * Math.Cos a + Special.chebyshevSeries b0Far t * Math.Sin a)

    /// J₁(x): odd, ±0 at ±0 and 0 at ±∞.
    let j1 (x: float) =
        let a = abs x
        if Double.IsNaN x then x
        elif Bessel.isSubnormal x then Bessel.halfOfSubnormal x false
        elif Double.IsPositiveInfinity a then 0.0
        elif a <= 8.0 then
            x * Special.chebyshevSeries j1Near (nearT a)
            * besideZero a 3.8317059702075125 -1.5269184090088067e-16 * besideZero a 7.015586669815619 -9.414165653410389e-17
            * besideZero a 10.173468135062722 4.482162274768888e-16
        else
            let t = farT a
            let magnitude = hankelScale a * (Special.chebyshevSeries a1Far t * Math.Sin a - Special.chebyshevSeries b1Far t * Math.Cos a)
            if x < 0.0 then -magnitude else magnitude

    /// Y₀(x) for x > 0; −∞ at ±0 and NaN below 0, as torch.special.bessel_y0; 0 at +∞.
    let y0 (x: float) =
        if Double.IsNaN x then x
        elif x = 0.0 then Double.NegativeInfinity
        elif x < 0.0 then Double.NaN
        elif Double.IsPositiveInfinity x then 0.0
        elif x <= 8.0 then twoOverPi * Math.Log x * j0 x + Special.chebyshevSeries y0Near (nearT x)
        else
            let t = farT x
            hankelScale x * (Special.chebyshevSeries a0Far t * Math.Sin x - Special.chebyshevSeries b0Far t * Math.Cos x)

    /// Y₁(x) for x > 0; −∞ at ±0 and NaN below 0, as torch.special.bessel_y1; 0 at +∞.
    let y1 (x: float) =
        if Double.IsNaN x then x
        elif x = 0.0 then Double.NegativeInfinity
        elif x < 0.0 then Double.NaN
        elif Double.IsPositiveInfinity x then 0.0
        elif x <= 8.0 then twoOverPi * (Math.Log x * j1 x - 1.0 / x) + x * Special.chebyshevSeries y1Near (nearT x)
        else
            let t = farT x
            -hankelScale x * (Special.chebyshevSeries a1Far t * Math.Cos x + Special.chebyshevSeries b1Far t * Math.Sin x)
