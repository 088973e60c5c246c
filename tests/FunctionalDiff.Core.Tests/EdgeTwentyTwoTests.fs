/// Regression specifications for what branch edges22 fixed from its region checks (each elementwise op with a kink or a
/// restricted domain against TorchSharp at the kink, ±0, ±∞ and NaN): remainder's slope in b is torch's −floor_divide(a, b),
/// the floor of the exact quotient, which is NaN at an infinite a, where the remainder is NaN too.
module FunctionalDiff.Core.Tests.EdgeTwentyTwoTests

open System
open System.Numerics
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// ⌊a/b⌋ of the exact quotient of two finite doubles, b ≠ 0, in rational arithmetic (each double is m·2^e exactly).
let private exactFloorQuotient (a: float) (b: float) =
    let rational (x: float) =
        let bits = BitConverter.DoubleToInt64Bits x
        let exponent = int ((bits >>> 52) &&& 0x7FFL)
        let fraction = bits &&& 0xFFFFFFFFFFFFFL
        let mantissa = if exponent = 0 then fraction else fraction ||| (1L <<< 52)
        let e = (if exponent = 0 then 1 else exponent) - 1075
        let m = BigInteger mantissa * (if x < 0.0 then BigInteger.MinusOne else BigInteger.One)
        if e >= 0 then m * BigInteger.Pow(BigInteger 2, e), BigInteger.One else m, BigInteger.Pow(BigInteger 2, -e)
    let na, da = rational a
    let nb, db = rational b
    // a/b = (na·db)/(da·nb); floor division of integers rounding toward −∞
    let numerator, denominator = na * db, da * nb
    let numerator, denominator = if denominator.Sign < 0 then -numerator, -denominator else numerator, denominator
    let q = BigInteger.Divide(numerator, denominator)
    float (if numerator.Sign < 0 && q * denominator <> numerator then q - BigInteger.One else q)

[<Tests>]
let tests =
    testList "Graph.Edge region checks (edges22)" [
        test "remainder's slope in b is −⌊a/b⌋ of the exact quotient, NaN at an infinite a, where the remainder is NaN" {
            // Python's a % b = a − b·⌊a/b⌋, so ∂/∂a = 1 and ∂/∂b = −⌊a/b⌋, with ⌊a/b⌋ of the exact quotient: 1/0.1 is
            // 9.99999999999999944... (0.1 is a little above a tenth), so ⌊1/0.1⌋ = 9 where the rounded quotient is 10.
            // At a = ±∞ the remainder is NaN, and so is its slope (torch's floor quotient, Python's ∞ // b); through
            // fmod's rule, −trunc of the rounded quotient, it was −∞ or +∞
            let a = [| 1.0; -1.0; 7.5; -7.5; 7.5; 5.0; infinity; -infinity; infinity |]
            let b = [| 0.1; 0.1; 2.0; 2.0; -2.0; -3.0; 2.0; -2.0; -0.5 |]
            let u = [| 0.3; -1.1; 0.7; 2.0; -0.4; 1.5; 0.9; -0.6; 1.2 |]
            let finite = Array.map2 (fun x y -> Double.IsFinite x && Double.IsFinite y) a b
            let slopeB = Array.init a.Length (fun i -> if finite.[i] then -u.[i] * exactFloorQuotient a.[i] b.[i] else nan)
            Expect.equal (exactFloorQuotient 1.0 0.1) 9.0 "the case this is about: the exact quotient's floor"
            let f (args: Expr list) = Expr.sum (constantVector u * Elementary.remainder args.[0] args.[1])
            let gradients = Diff.gradN f [ constantVector a; constantVector b ] |> List.map values
            Expect.equal gradients.[0] u "the slope in a is 1 everywhere"
            for i in 0 .. a.Length - 1 do
                let actual = gradients.[1].[i]
                if Double.IsNaN slopeB.[i] then Expect.isTrue (Double.IsNaN actual) (sprintf "slope in b at (%g, %g): %g, NaN expected" a.[i] b.[i] actual)
                else Expect.equal actual slopeB.[i] (sprintf "slope in b at (%g, %g)" a.[i] b.[i])
            // the values stay Python's: a − b·⌊a/b⌋ for the finite entries (exact here), NaN at an infinite a
            let remainders = values (Elementary.remainder (constantVector a) (constantVector b))
            for i in 0 .. a.Length - 1 do
                if finite.[i] then Expect.isTrue (abs (remainders.[i] - (a.[i] - b.[i] * exactFloorQuotient a.[i] b.[i])) < 1e-15) (sprintf "remainder at %g, %g" a.[i] b.[i])
                else Expect.isTrue (Double.IsNaN remainders.[i]) "an infinite a has a NaN remainder"
            // the second order is 0 (the floor quotient is piecewise constant), in forward mode too
            let along (args: Expr list) = Expr.sum (List.head (Diff.gradN f args |> List.tail) * constantVector u)
            let second = Diff.gradN along [ constantVector a; constantVector b ] |> List.map values
            Expect.equal second.[0] (Array.zeroCreate a.Length) "∂²/∂b∂a"
            Expect.equal second.[1] (Array.zeroCreate a.Length) "∂²/∂b²"
        }
    ]
