/// torch.special's Bessel, erfcx and normal-distribution functions, xlog1py, entr, multigammaln and the matrix
/// exponential: float64 values against mpmath, edge values, derivatives against closed forms and float64 central
/// differences at first and second order, forward mode, and a compiled plan.
module FunctionalDiff.Core.Tests.SpecialTorchTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// The value of one op at a float64 scalar.
let private at (f: Expr -> Expr) (x: float) = value (f (Expr.scalar DType.Float64 x))

/// Values from mpmath 1.3 at 50 digits (400 for ndtri, whose p near 0 needs them in erfinv(1 − 2p)), rounded to float64:
/// besseli(ν, x) for i0 and i1, exp(−|x|)·besseli for i0e and i1e, exp(x²)·erfc(x) for erfcx (1/(x√π)·(1 − 1/(2x²)) at
/// 1e150 and 1e300, where mpmath's erfc overflows its exponent and the next term is below 1e-300), ncdf for ndtr, log of
/// ncdf below 0 and log1p(−ncdf(−x)) from 0 for log_ndtr, and −√2·erfinv(1 − 2p) below 1/2, √2·erfinv(2p − 1) from 1/2
/// for ndtri.
let private mpmathValues =
    [
      "i0", 1e-300, 1.0
      "i0", 1e-08, 1.0
      "i0", 0.5, 1.0634833707413236
      "i0", 3.75, 9.118945860844567
      "i0", 7.999, 427.1644313152026
      "i0", 8.0, 427.5641157218048
      "i0", 8.001, 427.96417770840884
      "i0", 15.0, 339649.3732979139
      "i0", 100.0, 1.0737517071310738e+42
      "i0", 700.0, 1.5295933476718737e+302
      "i0", 713.9, 1.6481551866951379e+308
      "i1", -1e-300, -5e-301
      "i1", 1e-08, 5e-09
      "i1", -0.5, -0.2578943053908963
      "i1", 3.75, 7.780015229824416
      "i1", 7.999, 399.49573621362
      "i1", -8.001, -400.25089627518514
      "i1", 15.0, 328124.9219702064
      "i1", 100.0, 1.0683693903381625e+42
      "i1", -713.9, -1.6470004499232343e+308
      "i0e", 0.0, 1.0
      "i0e", 1e-08, 0.9999999900000001
      "i0e", 2.5, 0.27004644161220276
      "i0e", -8.0, 0.14343178185685032
      "i0e", 20.0, 0.08978031188482602
      "i0e", 1000.0, 0.012617240455891257
      "i0e", 10000000000.0, 3.9894228040641945e-06
      "i0e", 1e+300, 3.9894228040143264e-151
      "i1e", 1e-300, 5e-301
      "i1e", -1e-08, -4.99999995e-09
      "i1e", 2.5, 0.20658464953126657
      "i1e", 8.0, 0.13414249329269817
      "i1e", -20.0, -0.08750622218328867
      "i1e", 1000.0, 0.012610930256928629
      "i1e", 10000000000.0, 3.989422803864723e-06
      "i1e", 1e+300, 3.9894228040143264e-151
      "erfcx", -26.0, 7.657724931490568e+293
      "erfcx", -5.0, 144009798674.66104
      "erfcx", -0.5, 1.952360489182557
      "erfcx", 0.0, 1.0
      "erfcx", 1e-10, 0.999999999887162
      "erfcx", 0.5, 0.6156903441929259
      "erfcx", 2.9, 0.18460182595559083
      "erfcx", 3.0, 0.17900115118138996
      "erfcx", 3.1, 0.17371840860540824
      "erfcx", 10.0, 0.05614099274382259
      "erfcx", 50.0, 0.011281536265323773
      "erfcx", 1000.0, 0.0005641893014533876
      "erfcx", 1e+150, 5.641895835477563e-151
      "erfcx", 1e+300, 5.641895835477562e-301
      "ndtr", -37.5, 4.605353009581955e-308
      "ndtr", -20.0, 2.7536241186062337e-89
      "ndtr", -8.0, 6.220960574271784e-16
      "ndtr", -1.0, 0.15865525393145705
      "ndtr", -1e-10, 0.49999999996010575
      "ndtr", 0.0, 0.5
      "ndtr", 0.3, 0.6179114221889527
      "ndtr", 2.0, 0.9772498680518208
      "ndtr", 8.0, 0.9999999999999993
      "log_ndtr", -10000.0, -50000010.12927891
      "log_ndtr", -100.0, -5005.524208694205
      "log_ndtr", -38.5, -745.695270290411
      "log_ndtr", -10.0, -53.23128515051247
      "log_ndtr", -1.0, -1.8410216450092636
      "log_ndtr", 0.0, -0.6931471805599453
      "log_ndtr", 1.0, -0.17275377902344988
      "log_ndtr", 5.0, -2.866516129637636e-07
      "log_ndtr", 10.0, -7.619853024160525e-24
      "log_ndtr", 30.0, -4.906713927148187e-198
      "ndtri", 5e-324, -38.467405617144344
      "ndtri", 1e-300, -37.0470962993612
      "ndtri", 1e-20, -9.262340089798407
      "ndtri", 0.01, -2.326347874040841
      "ndtri", 0.19, -0.8778962950512286
      "ndtri", 0.2, -0.8416212335729142
      "ndtri", 0.3, -0.5244005127080408
      "ndtri", 0.49999999, -2.5066282733116222e-08
      "ndtri", 0.5, 0.0
      "ndtri", 0.5000001, 2.506628273311648e-07
      "ndtri", 0.75, 0.6744897501960817
      "ndtri", 0.975, 1.9599639845400538
      "ndtri", 0.99999, 4.264890793923841 ]

let private ops =
    dict [ "i0", Expr.i0; "i1", Expr.i1; "i0e", Expr.i0e; "i1e", Expr.i1e; "erfcx", Expr.erfcx
           "ndtr", Expr.ndtr; "log_ndtr", Expr.logNdtr; "ndtri", Expr.ndtri ]

/// Distance in float64 ulps (of the reference) between two values; 0 when they are equal, infinities included.
let private ulps (actual: float) (expected: float) =
    if actual = expected then 0.0
    elif not (Double.IsFinite actual && Double.IsFinite expected) then infinity
    else abs (actual - expected) / (Math.BitIncrement(abs expected) - abs expected)

let private case name shapes domain f : RuleCase = { Name = name; Shapes = shapes; Domain = domain; F = f }
let private one f = fun (xs: Expr list) -> f xs.[0]
let private two f = fun (xs: Expr list) -> f xs.[0] xs.[1]

/// First and second order against central differences; the inputs are scaled where a function needs a range of its own.
let private ruleCases =
    let s23 = [| 2; 3 |]
    [ case "i0" [ s23 ] Normal (one (fun x -> Expr.i0 (3.0 * x)))
      case "i1" [ s23 ] Normal (one (fun x -> Expr.i1 (3.0 * x)))
      case "i1 near 0, through its series" [ s23 ] Normal (one (fun x -> Expr.i1 (0.1 * x)))
      case "i0e" [ s23 ] Normal (one (fun x -> Expr.i0e (5.0 * x)))
      case "i1e" [ s23 ] Normal (one (fun x -> Expr.i1e (5.0 * x)))
      case "i1e near 0, through its series" [ s23 ] Normal (one (fun x -> Expr.i1e (0.1 * x)))
      case "erfcx" [ s23 ] Normal (one (fun x -> Expr.erfcx (2.0 * x)))
      case "ndtr" [ s23 ] Normal (one (fun x -> Expr.ndtr (2.0 * x)))
      case "log_ndtr" [ s23 ] Normal (one (fun x -> Expr.logNdtr (4.0 * x)))
      case "ndtri of σ" [ s23 ] Normal (one (fun x -> Expr.ndtri (Expr.sigmoid (3.0 * x))))
      case "xlog1py" [ s23; s23 ] Positive (two (fun x y -> Elementary.xlog1py x (y - 1.2)))
      case "entr" [ s23 ] Positive (one Elementary.entr)
      case "multigammaln 3" [ s23 ] Positive (one (fun a -> Elementary.multigammaln 3 (a + 1.0)))
      case "matrix_exp [3,3]" [ [| 3; 3 |] ] Normal (one Linalg.matrixExp)
      case "matrix_exp [2,3,3], scaled to need squarings" [ [| 2; 3; 3 |] ] Normal (one (fun a -> Linalg.matrixExp (2.0 * a))) ]

let private matrix (rows: float[][]) = Expr.constant (Tensor.ofArray64 [| rows.Length; rows.[0].Length |] (Array.concat rows))

[<Tests>]
let tests =
    testList "Special torch" [
        test "float64 values are within 4 ulp of mpmath, tails included" {
            for name, x, expected in mpmathValues do
                let actual = at ops.[name] x
                let distance = ulps actual expected
                if distance > 4.0 then failtestf "%s(%.17g) = %.17g, mpmath %.17g (%g ulp)" name x actual expected distance
        }

        test "edge values: infinities, NaN, zeros and the ends of ndtri's domain" {
            let cases =
                [ "i0", infinity, infinity; "i0", -infinity, infinity; "i0", 0.0, 1.0; "i0", 714.0, infinity
                  "i1", -infinity, -infinity; "i1", 0.0, 0.0
                  "i0e", infinity, 0.0; "i0e", -infinity, 0.0; "i1e", infinity, 0.0; "i1e", -infinity, 0.0
                  "erfcx", infinity, 0.0; "erfcx", -infinity, infinity; "erfcx", -27.0, infinity; "erfcx", 0.0, 1.0
                  "ndtr", -infinity, 0.0; "ndtr", infinity, 1.0; "ndtr", 0.0, 0.5; "ndtr", -40.0, 0.0
                  "log_ndtr", -infinity, -infinity; "log_ndtr", infinity, 0.0; "log_ndtr", 0.0, -Math.Log 2.0
                  "ndtri", 0.0, -infinity; "ndtri", 1.0, infinity; "ndtri", 0.5, 0.0; "ndtri", -0.1, nan; "ndtri", 1.5, nan ]
            for name, x, expected in cases do
                let actual = at ops.[name] x
                Expect.isTrue (actual.Equals expected) (sprintf "%s(%g) = %g, expected %g" name x actual expected)
            for name in ops.Keys do
                Expect.isTrue (Double.IsNaN (at ops.[name] nan)) (sprintf "%s(NaN) is NaN" name)
        }

        test "xlog1py, entr and multigammaln against their closed forms and torch's conventions" {
            let xlog1py x y = value (Elementary.xlog1py (Expr.scalar DType.Float64 x) (Expr.scalar DType.Float64 y))
            // log1p's accuracy near 0, where x·log(1 + y) would keep no digit: 3·(1e-20 − 5e-41)
            Expect.floatClose Accuracy.veryHigh (xlog1py 3.0 1e-20) 3e-20 "3·log1p(1e-20)"
            Expect.floatClose Accuracy.veryHigh (xlog1py 2.0 0.5) (2.0 * Math.Log 1.5) "2·log 1.5"
            Expect.equal (xlog1py 0.0 -1.0) 0.0 "0 where x = 0, even at y = −1"
            Expect.equal (xlog1py 0.0 infinity) 0.0 "0 where x = 0, even at y = ∞"
            Expect.isTrue (Double.IsNaN (xlog1py 0.0 nan)) "NaN where y is NaN"
            Expect.equal (xlog1py 1.0 -1.0) -infinity "log 0"
            let entr x = at Elementary.entr x
            Expect.floatClose Accuracy.veryHigh (entr 0.5) (0.5 * Math.Log 2.0) "−½ ln ½"
            Expect.equal (entr 0.0) 0.0 "0 at 0"
            Expect.equal (entr -1.0) -infinity "−∞ below 0"
            Expect.isTrue (Double.IsNaN (entr nan)) "NaN at NaN"
            Expect.equal (entr infinity) -infinity "−∞·ln ∞"
            // Γ₂(a) = √π·Γ(a)·Γ(a − ½); at a = 2: √π·1·(√π/2) = π/2
            Expect.floatClose Accuracy.veryHigh (at (Elementary.multigammaln 2) 2.0) (Math.Log(Math.PI / 2.0)) "log Γ₂(2) = log(π/2)"
            // Γ₃(a) = π^(3/2)·Γ(a)Γ(a − ½)Γ(a − 1); at a = 3: π^(3/2)·2·(3√π/4)·1 = 3π²/2
            Expect.floatClose Accuracy.veryHigh (at (Elementary.multigammaln 3) 3.0) (Math.Log(1.5 * Math.PI * Math.PI)) "log Γ₃(3)"
            Expect.floatClose Accuracy.veryHigh (at (Elementary.multigammaln 1) 4.5) (value (Expr.lgamma (Expr.scalar DType.Float64 4.5))) "p = 1 is lgamma"
            Expect.throwsT<ShapeException> (fun () -> Elementary.multigammaln 0 (Expr.scalar DType.Float64 1.0) |> ignore) "p = 0"
        }

        test "derivatives at 0 and in the tails against closed forms, to the third order" {
            let d f = Diff.grad f
            let close (expected: float) (actual: float) (what: string) = Expect.floatClose Accuracy.veryHigh actual expected what
            // i1 = x/2 + x³/16 + …: slopes 1/2, 0, 3/8 at 0, where the rule's I₁(x)/x is 0/0
            close 0.5 (at (d Expr.i1) 0.0) "i1′(0)"
            close 0.0 (at (d (d Expr.i1)) 0.0) "i1″(0)"
            close 0.375 (at (d (d (d Expr.i1))) 0.0) "i1‴(0)"
            // i0 = 1 + x²/4 + x⁴/64 + …
            close 0.0 (at (d Expr.i0) 0.0) "i0′(0)"
            close 0.5 (at (d (d Expr.i0)) 0.0) "i0″(0)"
            close 0.0 (at (d (d (d Expr.i0))) 0.0) "i0‴(0)"
            // i1e = e^−|x|(x/2 + …): slope 1/2 at 0
            close 0.5 (at (d Expr.i1e) 0.0) "i1e′(0)"
            // torch's sign(0) = 0 at the kink of i0e
            close 0.0 (at (d Expr.i0e) 0.0) "i0e′(0)"
            close (-2.0 / Math.Sqrt Math.PI) (at (d Expr.erfcx) 0.0) "erfcx′(0)"
            close (1.0 / Math.Sqrt(2.0 * Math.PI)) (at (d Expr.ndtr) 0.0) "ndtr′(0) = φ(0)"
            close (-0.0) (at (d (d Expr.ndtr)) 0.0) "ndtr″(0) = −0·φ(0)"
            close (Math.Sqrt(2.0 * Math.PI)) (at (d Expr.ndtri) 0.5) "ndtri′(½) = 1/φ(0)"
            close (2.0 / Math.Sqrt(2.0 * Math.PI)) (at (d Expr.logNdtr) 0.0) "log_ndtr′(0) = φ(0)/½"
            // φ/Φ from mpmath (npdf/ncdf at 40 digits): about −x far in the left tail, where both underflow
            close 10000.000099999997 (at (d Expr.logNdtr) -10000.0) "log_ndtr′(−1e4)"
            close 30.033259667433676 (at (d Expr.logNdtr) -30.0) "log_ndtr′(−30)"
            // mpmath's numerical derivative of npdf/ncdf at −30: the second derivative tends to −1
            Expect.floatClose { absolute = 0.0; relative = 1e-9 } (at (d (d Expr.logNdtr)) -30.0) -0.9988962284881099 "log_ndtr″(−30)"
            // where 2x·erfcx(x) − 2/√π cancels: mpmath at 40 digits (the difference of exp(x²)·erfc(x) and 2/√π, and the second
            // derivative of log(ncdf)), where torch's formula keeps ε/x² of erfcx′ and log Φ's curvature came out 0 at −1e10
            Expect.floatClose { absolute = 0.0; relative = 1e-10 } (at (d Expr.erfcx) 100.0) -5.6410497625993184868e-5 "erfcx′(100)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d Expr.erfcx) 1000.0) -5.6418873726549666885e-7 "erfcx′(1e3)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d Expr.erfcx) 1e6) -5.6418958354691000257e-13 "erfcx′(1e6)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d (d Expr.logNdtr)) -1000.0) -0.99999900000599995 "log_ndtr″(−1e3)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d (d Expr.logNdtr)) -1e5) -0.99999999990000000006 "log_ndtr″(−1e5)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d (d Expr.logNdtr)) -1e10) -1.0 "log_ndtr″(−1e10)"
            // the series' own derivative (mpmath's second derivative of exp(x²)·erfc(x))
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d (d Expr.erfcx)) 200.0) 1.4103681832387136696e-7 "erfcx″(200)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d (d Expr.erfcx)) 1000.0) 1.1283757819707054937e-9 "erfcx″(1e3)"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (at (d (d Expr.erfcx)) 1e6) 1.1283791670921274364e-18 "erfcx″(1e6)"
            Expect.isTrue (Double.IsNaN (at (d Expr.erfcx) infinity)) "erfcx′(+∞), torch's ∞·0"
            Expect.equal (at (d Expr.ndtri) 0.0) infinity "ndtri′(0)"
            Expect.equal (at (d Elementary.entr) 0.0) infinity "entr′(0), torch's −(1 + ln 0)"
        }

        testList "first order vs finite differences" (ruleCases |> List.mapi (fun i c -> firstOrderTest (7100 + i) c))
        testList "second order vs finite differences of the first" (ruleCases |> List.mapi (fun i c -> secondOrderTest (7100 + i) c))

        forwardModeTest 71 ruleCases

        test "the matrix exponential against closed forms: rotations, a nilpotent block, a diagonal, a batch" {
            let theta = 10.0
            // exp([[0, −θ], [θ, 0]]) is the rotation by θ; ‖A‖₁ = 10 takes four squarings
            let rotation = values (Linalg.matrixExp (matrix [| [| 0.0; -theta |]; [| theta; 0.0 |] |]))
            expectClose 1e-13 rotation [| cos theta; -(sin theta); sin theta; cos theta |] "rotation"
            let nilpotent = values (Linalg.matrixExp (matrix [| [| 0.0; 1.0; 0.0 |]; [| 0.0; 0.0; 1.0 |]; [| 0.0; 0.0; 0.0 |] |]))
            expectClose 1e-15 nilpotent [| 1.0; 1.0; 0.5; 0.0; 1.0; 1.0; 0.0; 0.0; 1.0 |] "I + N + N²/2"
            let diagonal = values (Linalg.matrixExp (matrix [| [| -3.0; 0.0 |]; [| 0.0; 20.0 |] |]))
            expectClose 1e-14 diagonal [| exp -3.0; 0.0; 0.0; exp 20.0 |] "diag(e^−3, e^20)"
            let batch = Expr.constant (Tensor.ofArray64 [| 2; 1; 1 |] [| 0.5; -2.0 |])
            expectClose 1e-15 (values (Linalg.matrixExp batch)) [| exp 0.5; exp -2.0 |] "a batch of 1×1"
            Expect.isTrue (values (Linalg.matrixExp (matrix [| [| nan; 0.0 |]; [| 0.0; 1.0 |] |])) |> Array.forall Double.IsNaN) "NaN everywhere"
            Expect.throwsT<ShapeException> (fun () -> Linalg.matrixExp (matrix [| [| 1.0; 2.0; 3.0 |]; [| 4.0; 5.0; 6.0 |] |]) |> ignore) "2×3"
        }

        test "the matrix exponential's gradient under a cotangent 1e160 times the matrix: central differences of ⟨G, e^A⟩" {
            // the rule's block exponential exp([[Aᵀ, G], [0, Aᵀ]]) would scale and square for G's size and lose the
            // digits that A's own small norm keeps
            let a = [| 0.3; -1.2; 0.5; 0.8; 0.1; -0.4; -0.6; 0.9; 0.2 |]
            let weights = Tensor.ofArray64 [| 3; 3 |] (Array.map (fun u -> 1e160 * u) [| 0.7; -0.2; 1.1; 0.4; -0.9; 0.3; -0.5; 0.6; 0.8 |])
            let f (m: Expr) = Expr.sum (Linalg.matrixExp m * Expr.constant weights)
            let gradient = values (Diff.grad f (Expr.constant (Tensor.ofArray64 [| 3; 3 |] a)))
            let at (k: int) (h: float) =
                let shifted = Array.copy a
                shifted.[k] <- shifted.[k] + h
                (values (f (Expr.constant (Tensor.ofArray64 [| 3; 3 |] shifted)))).[0]
            let h = 1e-5
            let differences = Array.init 9 (fun k -> (at k h - at k -h) / (2.0 * h))
            for k in 0 .. 8 do
                if not (abs (gradient.[k] - differences.[k]) <= 1e-8 * 1e160) then
                    failtestf "entry %d: %.17g, central differences %.17g" k gradient.[k] differences.[k]
        }

        test "the matrix exponential's gradient: ∂ tr(e^A)/∂A = (e^A)ᵀ, and a compiled plan alike" {
            let a = Tensor.ofArray64 [| 3; 3 |] [| 0.3; -1.2; 0.5; 0.8; 0.1; -0.4; -0.6; 0.9; 0.2 |]
            let trace (m: Expr) = Expr.sum (Linalg.diagonal m)
            let gradient = values (Diff.grad (fun m -> trace (Linalg.matrixExp m)) (Expr.constant a))
            let e = values (Linalg.matrixExp (Expr.constant a))
            let transposed = Array.init 9 (fun k -> e.[(k % 3) * 3 + k / 3])
            expectClose 1e-13 gradient transposed "(e^A)ᵀ"
            let compiled = Compile.compile (fun p -> [| Linalg.matrixExp p.[0]; Diff.grad (fun m -> trace (Linalg.matrixExp m)) p.[0] |])
            let outputs = compiled.Invoke a
            expectClose 1e-15 (outputs.[0].ToDoubleArray()) e "compiled value"
            expectClose 1e-15 (outputs.[1].ToDoubleArray()) gradient "compiled gradient"
        }
    ]
