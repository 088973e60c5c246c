/// torch.special.zeta, the Hurwitz zeta function ζ(s, q): float64 values against mpmath, closed forms (Riemann's ζ(2),
/// ζ(4) and ζ(2, ½)), the recurrence ζ(s, q) − ζ(s, q + 1) = q^−s, a direct sum for large s, torch's edge values, the
/// derivative in q against central differences and the refusal to differentiate in s.
module FunctionalDiff.Core.Tests.HurwitzZetaTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private scalar (v: float) = Expr.scalar DType.Float64 v
let private zeta (s: float) (q: float) = value (Expr.zeta (scalar s) (scalar q))

/// Values from mpmath 1.3 at 50 digits, rounded to float64: zeta(s, q). Among them s near 1, q near 0 and negative q
/// (integer s), and q far beyond the terms the sum adds.
let private mpmathValues =
    [ 1.5, 0.3, 8.237761671459724
      1.0000001, 1.0, 10000000.571377
      3.0, -2.5, 0.0541020258208637
      4.0, -7.5, 32.46905098794077
      2.5, 1e-05, 3162277660169.72
      2.5, 10.0, 0.02272869919453454
      7.3, 0.9, 2.167602118829833
      100.0, 0.99, 2.7319990264290284
      1.1, 10000000.0, 1.9952623249451866
      1.1, 1000000000.0, 1.25892541185711
      2.0, 1e+20, 1e-20
      60.0, 25.0, 1.4704009020029622e-84
      1500.0, 1.5, 7.296446736108288e-265
      5.0, 3.7, 0.0022099421294980814
      17.5, 17.0, 4.733098163657348e-22
      // q far below 0 (from −1e7 on, by the reflection of ψ⁽ⁿ⁾ = (−1)ⁿ⁺¹·n!·ζ(n + 1, ·))
      2.0, -1e8 + 0.25, 19.73920879217872
      3.0, -12345678.9, 999.3298413458002
      5.0, -20000000.75, 1020.0656159509382 ]

let private relative (actual: float) (expected: float) =
    if actual = expected then 0.0 else abs (actual - expected) / abs expected

[<Tests>]
let tests =
    testList "Hurwitz zeta" [
        test "float64 values within 1e-14 of mpmath (1e-13 where negative q's terms cancel)" {
            for s, q, expected in mpmathValues do
                let actual = zeta s q
                let bound = if q < 0.0 then 1e-13 else 1e-14
                // not (… <= …): a NaN fails too
                if not (relative actual expected <= bound) then failtestf "ζ(%g, %g) = %.17g, mpmath %.17g" s q actual expected
        }

        test "closed forms, the recurrence in q, and a direct sum for large s" {
            let close (expected: float) (actual: float) (what: string) =
                if relative actual expected > 4e-16 then failtestf "%s = %.17g, expected %.17g" what actual expected
            close (Math.PI ** 2.0 / 6.0) (zeta 2.0 1.0) "ζ(2)"
            close (Math.PI ** 4.0 / 90.0) (zeta 4.0 1.0) "ζ(4)"
            // ζ(2, ½) = Σ 4/(2k + 1)² = (2² − 1)·ζ(2)
            close (Math.PI ** 2.0 / 2.0) (zeta 2.0 0.5) "ζ(2, 1/2)"
            for s, q in [ 2.5, 0.3; 1.3, 4.0; 9.0, 0.02 ] do
                let difference = zeta s q - zeta s (q + 1.0)
                if relative difference (q ** -s) > 1e-13 then failtestf "ζ(%g, %g) − ζ(%g, %g) = %.17g, q^−s = %.17g" s q s (q + 1.0) difference (q ** -s)
            // for s = 30 the terms fall by at least (2/3)^30 per step from q = 2: fifty of them are the whole sum
            let mutable sum = 0.0
            for k in 49 .. -1 .. 0 do
                sum <- sum + (2.0 + float k) ** -30.0
            close sum (zeta 30.0 2.0) "ζ(30, 2)"
        }

        test "edge values are torch's" {
            let cases =
                [ 1.0, 2.0, infinity; 0.5, 2.0, nan; -3.0, 1.0, nan
                  // poles at q = 0, −1, …; a negative q to a fractional power has no real value
                  2.0, 0.0, infinity; 2.0, -3.0, infinity; 2.5, -1.5, nan
                  infinity, 2.0, 0.0; infinity, 1.0, 1.0; 3.0, infinity, 0.0
                  nan, 2.0, nan; 2.0, nan, nan
                  // in torch's order: s = 1 before NaN q, a pole before NaN s
                  1.0, nan, infinity; nan, 0.0, infinity; nan, -1e300, infinity; nan, -1.5, nan ]
            for s, q, expected in cases do
                Expect.isTrue ((zeta s q).Equals expected) (sprintf "ζ(%g, %g) = %g, expected %g" s q (zeta s q) expected)
        }

        test "the derivative in q against central differences, to the second order; s raises" {
            let d f = Diff.grad f
            for s, q in [ 2.5, 0.7; 1.3, 4.0; 6.0, 1.5 ] do
                let f q = Expr.zeta (scalar s) q
                let slope = value (d f (scalar q))
                let h = 1e-6 * q
                let difference = (zeta s (q + h) - zeta s (q - h)) / (2.0 * h)
                if relative slope difference > 1e-7 then failtestf "∂ζ(%g, q)/∂q at %g = %.17g, differences %.17g" s q slope difference
                let curvature = value (d (d f) (scalar q))
                let slopeAt v = value (d f (scalar v))
                let second = (slopeAt (q + h) - slopeAt (q - h)) / (2.0 * h)
                if relative curvature second > 1e-6 then failtestf "∂²ζ(%g, q)/∂q² at %g = %.17g, differences %.17g" s q curvature second
            let raised =
                try
                    Diff.grad (fun s -> Expr.zeta s (scalar 2.0)) (scalar 3.0) |> ignore
                    ""
                with :? NotSupportedException as e -> e.Message
            Expect.stringContains raised "Zeta" "names the op"
        }
    ]
