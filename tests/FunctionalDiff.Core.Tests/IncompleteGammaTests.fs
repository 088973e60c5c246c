/// torch.special's gammainc and gammaincc, the regularized incomplete gamma functions P(a, x) and Q(a, x): float64 values
/// against mpmath and against finite sums written here for integer a (through every form of the kernel: power series,
/// continued fraction, the small-a series of Q and Temme's expansion), torch's edge values, the slope in x against
/// central differences and closed forms, and the refusal to differentiate in a.
module FunctionalDiff.Core.Tests.IncompleteGammaTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private scalar (v: float) = Expr.scalar DType.Float64 v
let private p (a: float) (x: float) = value (Expr.gammainc (scalar a) (scalar x))
let private q (a: float) (x: float) = value (Expr.gammaincc (scalar a) (scalar x))

/// (P, Q) for an integer a = n ≥ 1 from their finite and infinite sums: Q(n, x) = e^−x·Σₖ₍ₖ₌₀..ₙ₋₁₎ xᵏ/k! and
/// P(n, x) = e^−x·Σₖ₍ₖ≥ₙ₎ xᵏ/k!. The terms are scaled to 1 at their largest, k = ⌊x⌋, and walked outwards by the ratio
/// x/k, so no factorial or exponential is formed (and nothing overflows); P + Q = 1 gives the scale back.
let private bySums (n: int) (x: float) =
    let peak = int (floor x)
    let mutable below, above = 0.0, 0.0
    let add (k: int) (w: float) = if k < n then below <- below + w else above <- above + w
    // upwards from the peak: w_k = w_{k−1}·x/k
    let mutable w = 1.0
    let mutable k = peak
    add k w
    while w > 1e-30 do
        k <- k + 1
        w <- w * x / float k
        add k w
    // downwards: w_{k−1} = w_k·k/x
    w <- 1.0
    k <- peak
    while k > 0 && w > 1e-30 do
        w <- w * float k / x
        k <- k - 1
        add k w
    above / (below + above), below / (below + above)

/// Values from mpmath 1.3 at 50 digits, rounded to float64: gammainc(a, 0, x, regularized=True) and
/// gammainc(a, x, inf, regularized=True). Among them tiny a, where Q ≈ a·E₁(x) and P is nearly 1.
let private mpmathValues =
    [ 1e-10, 1e-07, 0.999999998445912, 1.5540880074063084e-09
      1e-10, 1e-09, 0.999999997985395, 2.014605015283396e-09
      1e-300, 1e-300, 1.0, 6.901983122333122e-298
      0.001, 1e-08, 0.9823139793538469, 0.017686020646153065
      0.001, 0.5, 0.9994399333435292, 0.0005600666564707498
      0.05, 1.2, 0.9916219413170525, 0.008378058682947482
      0.3, 0.01, 0.27924099635901484, 0.7207590036409851
      0.3, 1.4, 0.951838876607272, 0.04816112339272809
      0.3, 1.6, 0.9631162600162466, 0.036883739983753355
      0.3, 12.0, 0.9999996578843728, 3.4211562717711826e-07
      0.5, 0.25, 0.5204998778130465, 0.4795001221869535
      0.5, 2.0, 0.9544997361036416, 0.04550026389635842
      2.5, 0.1, 0.0008861387888124426, 0.9991138612111875
      2.5, 2.5, 0.5841198130044921, 0.41588018699550794
      2.5, 3.6, 0.7938140802904441, 0.20618591970955588
      2.5, 40.0, 0.9999999999999991, 8.391825114831611e-16
      7.3, 6.0, 0.3492129399448204, 0.6507870600551796
      9.99, 0.1, 2.6362448875226872e-17, 1.0
      10.5, 0.0001, 8.403001496767497e-50, 1.0
      25.5, 25.0, 0.48664176745088317, 0.5133582325491168
      123.4, 150.0, 0.9884219008752823, 0.011578099124717736
      1234.5, 1222.155, 0.3657851716578965, 0.6342148283421035
      1234.5, 370.35, 1.0270409926657284e-272, 1.0
      99999.5, 100300.0, 0.8290379743182993, 0.17096202568170074
      150000.5, 149000.0, 0.0048242223427767995, 0.9951757776572232
      150000.5, 151000.0, 0.9950002121507748, 0.004999787849225183 ]

let private relative (actual: float) (expected: float) =
    if actual = expected then 0.0 else abs (actual - expected) / abs expected

[<Tests>]
let tests =
    testList "Incomplete gamma" [
        test "float64 values within 1e-13 of mpmath, tiny a and the tails included" {
            for a, x, expectedP, expectedQ in mpmathValues do
                let actualP, actualQ = p a x, q a x
                if relative actualP expectedP > 1e-13 then failtestf "P(%g, %g) = %.17g, mpmath %.17g" a x actualP expectedP
                if relative actualQ expectedQ > 1e-13 then failtestf "Q(%g, %g) = %.17g, mpmath %.17g" a x actualQ expectedQ
        }

        test "integer a against the finite sums, each form of the kernel, each function where it is small" {
            // the series (x < a + 1), the continued fraction, a ≤ 1 with x ≤ 1.5, and Temme's expansion from a = 1e5 on
            let points =
                [ 1, 1e-8; 1, 0.4; 1, 1.5; 1, 30.0; 3, 1.4; 3, 9.0; 25, 24.0; 40, 35.0; 100, 101.0; 100, 160.0
                  1000, 990.0; 1000, 900.0; 5000, 5300.0; 100000, 99000.0; 100000, 100000.0; 200000, 200900.0 ]
            for n, x in points do
                let expectedP, expectedQ = bySums n x
                let actualP, actualQ = p (float n) x, q (float n) x
                // the sums add a few thousand rounded ratios near the peak: about 1e-13 of their total
                if relative actualP expectedP > 2e-13 then failtestf "P(%d, %g) = %.17g, sums %.17g" n x actualP expectedP
                if relative actualQ expectedQ > 2e-13 then failtestf "Q(%d, %g) = %.17g, sums %.17g" n x actualQ expectedQ
        }

        test "closed forms at a = 1 where 1 − P would round Q away: Q(1, x) = e^−x" {
            for x in [ 1e-300; 1e-8; 0.5; 40.0; 700.0 ] do
                let actual = q 1.0 x
                if relative actual (Math.Exp -x) > 1e-14 then failtestf "Q(1, %g) = %.17g, e^−x = %.17g" x actual (Math.Exp -x)
                // P(1, x) = 1 − e^−x = −expm1(−x), x itself below 1e-16
                let expectedP = if x < 1e-16 then x else 1.0 - Math.Exp -x
                if x < 1e-16 && relative (p 1.0 x) expectedP > 1e-14 then failtestf "P(1, %g) = %.17g" x (p 1.0 x)
        }

        test "a subnormal a: P is 1 and Q about a·E₁(x), never past [0, 1]" {
            // P(a, x) = 1 − a·E₁(x) + O(a²) for a → 0, with E₁(x) below 18 here: P rounds to 1 (torch's is 0 here) and Q
            // is a few subnormal steps
            for x in [ 1e-8; 0.3; 1.0; 1.4 ] do
                Expect.equal (p 5e-324 x) 1.0 (sprintf "P(5e-324, %g)" x)
                Expect.isLessThanOrEqual (q 5e-324 x) (18.0 * 5e-324) (sprintf "Q(5e-324, %g)" x)
            // over a grid the values stay in [0, 1]
            for a in [ 5e-324; 1e-300; 1e-8; 0.5; 1.0; 3.0; 1e3; 2e5 ] do
                for x in [ 5e-324; 1e-8; 0.7; 1.5; 2.0; 10.0; 1e3; 2e5; 1e300 ] do
                    for v in [ p a x; q a x ] do
                        Expect.isTrue (v >= 0.0 && v <= 1.0) (sprintf "P or Q(%g, %g) = %.17g" a x v)
        }

        test "edge values are torch's (SciPy's), in its order of tests" {
            let cases =
                [ // a < 0 or x < 0
                  -1.0, 2.0, nan, nan; 2.0, -1e-300, nan, nan
                  // a = 0: P = 1 for x > 0, NaN at x = 0 (0/0 of the limits)
                  0.0, 3.0, 1.0, 0.0; 0.0, 0.0, nan, nan; 0.0, infinity, 1.0, 0.0
                  // x = 0, before a's infinity and NaN
                  2.0, 0.0, 0.0, 1.0; infinity, 0.0, 0.0, 1.0; nan, 0.0, 0.0, 1.0
                  // a = +∞
                  infinity, 5.0, 0.0, 1.0; infinity, infinity, nan, nan; infinity, nan, 0.0, 1.0
                  // x = +∞
                  3.0, infinity, 1.0, 0.0; nan, infinity, 1.0, 0.0
                  // NaN otherwise
                  nan, 1.0, nan, nan; 1.0, nan, nan, nan ]
            for a, x, expectedP, expectedQ in cases do
                Expect.isTrue ((p a x).Equals expectedP) (sprintf "P(%g, %g) = %g, expected %g" a x (p a x) expectedP)
                Expect.isTrue ((q a x).Equals expectedQ) (sprintf "Q(%g, %g) = %g, expected %g" a x (q a x) expectedQ)
        }

        test "float32 is the float64 value rounded once, and broadcasting pairs a with x" {
            let a = Expr.constant (Tensor.FromArray([| 0.3f; 3.0f; 40.0f |], [| 3; 1 |]))
            let x = Expr.constant (Tensor.FromArray([| 0.5f; 2.0f; 35.0f; 41.0f |], [| 1; 4 |]))
            let result = Eval.eval (Expr.gammainc a x)
            Expect.equal result.Shape [| 3; 4 |] "broadcast shape"
            let got = result.ToDoubleArray()
            for i, av in Array.indexed [| 0.3; 3.0; 40.0 |] do
                for j, xv in Array.indexed [| 0.5; 2.0; 35.0; 41.0 |] do
                    Expect.equal (float32 got.[4 * i + j]) (float32 (p av xv)) (sprintf "P(%g, %g) in float32" av xv)
        }

        test "the slope in x against central differences, closed forms at x = 0 and the second order" {
            // ∂P/∂x = x^(a−1)·e^−x/Γ(a) against central differences of P itself
            for a, x in [ 0.3, 0.7; 1.0, 2.0; 2.5, 3.6; 40.0, 35.0; 0.05, 1.2 ] do
                let slope = value (Diff.grad (fun x -> Expr.gammainc (scalar a) x) (scalar x))
                let h = 1e-6 * max 1.0 x
                let difference = (p a (x + h) - p a (x - h)) / (2.0 * h)
                if relative slope difference > 1e-7 then failtestf "P′(%g, %g) = %.17g, differences %.17g" a x slope difference
                let slopeQ = value (Diff.grad (fun x -> Expr.gammaincc (scalar a) x) (scalar x))
                Expect.equal slopeQ -slope (sprintf "Q′ = −P′ at (%g, %g)" a x)
            // at x = 0: P(1, x) = 1 − e^−x has slope 1 and curvature −1 (torch's exp((a − 1)·ln x − …) is NaN there);
            // P(2, x) = 1 − (1 + x)e^−x has slope 0 and curvature 1; P(1/2, x) = erf √x is vertical
            let d f = Diff.grad f
            let at a order =
                let f x = Expr.gammainc (scalar a) x
                value ((if order = 1 then d f else d (d f)) (scalar 0.0))
            Expect.equal (at 1.0 1) 1.0 "P′(1, 0)"
            Expect.floatClose Accuracy.veryHigh (at 1.0 2) -1.0 "P″(1, 0)"
            Expect.equal (at 2.0 1) 0.0 "P′(2, 0)"
            Expect.floatClose Accuracy.veryHigh (at 2.0 2) 1.0 "P″(2, 0)"
            Expect.equal (at 0.5 1) infinity "P′(1/2, 0)"
            // the curvature away from 0: ∂²P/∂x² = P′·((a − 1)/x − 1), against central differences of the slope
            for a, x in [ 2.5, 1.2; 7.0, 9.0 ] do
                let curvature = value (d (d (fun x -> Expr.gammainc (scalar a) x)) (scalar x))
                let slopeAt v = value (d (fun x -> Expr.gammainc (scalar a) x) (scalar v))
                let difference = (slopeAt (x + 1e-5) - slopeAt (x - 1e-5)) / 2e-5
                if relative curvature difference > 1e-6 then failtestf "P″(%g, %g) = %.17g, differences %.17g" a x curvature difference
        }

        test "differentiating in a raises NotSupportedException naming the op and a's shape, as torch raises" {
            let x = Expr.constant (Tensor.FromArray([| 1.0; 2.0 |], [| 2 |]))
            let message =
                try
                    Diff.grad (fun a -> Expr.sum (Expr.gammainc a x)) (Expr.constant (Tensor.FromArray([| 0.5; 3.0 |], [| 2 |]))) |> ignore
                    ""
                with :? NotSupportedException as e -> e.Message
            Expect.stringContains message "Gammainc" "names the op"
            Expect.stringContains message "[2]" "names a's shape"
            let raisedForQ =
                try
                    Diff.grad (fun a -> Expr.gammaincc a (scalar 1.0)) (scalar 2.0) |> ignore
                    false
                with :? NotSupportedException as e -> e.Message.Contains "Gammaincc"
            Expect.isTrue raisedForQ "gammaincc raises too"
            // a held as data: the gradient in x alone is fine
            let slope = value (Diff.grad (fun x -> Expr.gammainc (Expr.stopGradient (scalar 2.0)) x) (scalar 1.0))
            Expect.floatClose Accuracy.veryHigh slope (Math.Exp -1.0) "P′(2, 1) = x·e^−x"
        }
    ]
