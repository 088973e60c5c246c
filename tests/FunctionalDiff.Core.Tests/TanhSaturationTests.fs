/// Derivatives through tanh where it saturates (t = ±1 exactly, its slope 1 − t² exactly 0), over a
/// symbolic x, where the Rewrite pass distributes the slope into polynomial normal forms: against
/// closed forms written out here in float64, by the interpreter and by a compiled plan.
module FunctionalDiff.Core.Tests.TanhSaturationTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

/// sech² x = 1/cosh² x, 0 once cosh overflows (where the exact value underflows anyway).
let private sech2 (x: float) = let c = Math.Cosh x in 1.0 / (c * c)

/// A scalar function's value at each point by the interpreter over a Var, and by a compiled plan.
let private bothPaths (f: Expr -> Expr) (points: float[]) =
    let x = Expr.variable "x" [||] f64
    let graph = f x
    let interpreted = points |> Array.map (fun v -> (Eval.evalManyWith [ x, Tensor.Scalar(v, f64) ] [ graph ]).[0].ToScalar())
    let compiled = Compile.compile (fun p -> [| f p.[0] |])
    let planned = points |> Array.map (fun v -> (compiled.Invoke(Tensor.Scalar(v, f64))).[0].ToScalar())
    interpreted, planned

let private second (f: Expr -> Expr) = Diff.grad (Diff.grad f)
let private third (f: Expr -> Expr) = Diff.grad (Diff.grad (Diff.grad f))

[<Tests>]
let tests =
    testList "Graph.Tanh at saturation" [
        test "(x² tanh x)'' = 2 tanh x + 4x sech² x − 2x² tanh x sech² x over a symbolic x, each way of writing the product, both paths" {
            // From x ≈ 1e16 the normal form −2x·t² + 2t + 2x summed the O(1) term 2t into the rounding of 2x
            // before 2x − 2x·t² cancelled (0 instead of 2). With sech² one factor, x²·sech² is 0 even where x²
            // overflows (the monomial meets sech² = 0 before x·x, see Rewrite).
            let points = [| 0.5; 3.0; -2.0; 20.0; 1e8; 1e16; 1e30; -1e16; -1e30; 1e300; -1e300 |]
            let closed (x: float) =
                let t, s = Math.Tanh x, sech2 x
                // the last term in the order that keeps x²·s from meeting an overflow (s = 0 first)
                2.0 * t + 4.0 * x * s - 2.0 * (s * x) * x * t
            let expected = points |> Array.map closed
            for name, f in [ "tanh x · x · x", (fun (x: Expr) -> Expr.tanh x * x * x)
                             "x · x · tanh x", (fun (x: Expr) -> x * x * Expr.tanh x)
                             "square x · tanh x", (fun (x: Expr) -> Expr.square x * Expr.tanh x)
                             "x · (x · tanh x)", (fun (x: Expr) -> x * (x * Expr.tanh x)) ] do
                let interpreted, planned = bothPaths (second f) points
                expectClose 1e-12 interpreted expected (name + ", interpreter")
                expectClose 1e-12 planned expected (name + ", compiled")
        }
        test "(x² tanh x)''' = 6 sech² − 12x tanh sech² + x² sech² (6 tanh² − 2), and tanh''' = (6 tanh² − 2) sech², also at saturation" {
            let points = [| 0.5; 3.0; -1.5; 20.0; 40.0; 1e8; 1e16; 1e30; -1e16 |]
            let cubic (x: float) =
                let t, s = Math.Tanh x, sech2 x
                6.0 * s - 12.0 * x * t * s + (s * x) * x * (6.0 * t * t - 2.0)
            let tanhThird (x: float) = let t = Math.Tanh x in (6.0 * t * t - 2.0) * sech2 x
            for name, f, closed in [ "x² tanh x", (fun (x: Expr) -> Expr.tanh x * x * x), cubic
                                     "tanh x", Expr.tanh, tanhThird
                                     // a saturated tanh beside a huge term of its own: 1e20·tanh x + x
                                     "1e20 tanh x + x", (fun (x: Expr) -> 1e20 * Expr.tanh x + x), (fun x -> 1e20 * tanhThird x) ] do
                let interpreted, planned = bothPaths (third f) points
                let expected = points |> Array.map closed
                // absolute error against the scale of the terms: at x = 20 the rounded t is 1, so 1 − t² is 0
                // where sech² 20 = 1.7e-17
                let scale = points |> Array.map (fun x -> if name.StartsWith "1e20" then 1e20 else 1.0 + x * x * sech2 x)
                for path, got in [ "interpreter", interpreted; "compiled", planned ] do
                    for i in 0 .. points.Length - 1 do
                        let tolerance = 1e-12 * scale.[i] + 1e-15
                        if not (abs (got.[i] - expected.[i]) <= tolerance) then
                            failtestf "%s, %s: x = %g gave %.17g, closed form %.17g" name path points.[i] got.[i] expected.[i]
        }
        test "tanh's slope is the primitive sech² where the cotangent can be huge, the polynomial 1 − y² where it is a bounded polynomial" {
            let x = Expr.variable "x" [||] f64
            let holds (kind: UnaryOp) (e: Expr) = Graph.topologicalOrder [ e ] |> Array.exists (fun n -> n.Op = Op.Unary kind)
            // x·tanh x: the cotangent of tanh is x
            Expect.isTrue (holds UnaryOp.TanhSlope (Diff.grad (fun v -> v * Expr.tanh v) x)) "gradient of x·tanh x"
            // nested derivatives of tanh alone: polynomials in tanh x (their sizes are GraphScaleTests')
            let mutable f : Expr -> Expr = Expr.tanh
            for order in 1 .. 4 do
                let inner = f
                f <- Diff.grad inner
                Expect.isFalse (holds UnaryOp.TanhSlope (f x)) (sprintf "order %d of tanh" order)
        }
        test "tanh's slope kernel is (1 − y)(1 + y) at the Tanh kernel's y, in both dtypes: 0 where y is ±1, NaN at NaN" {
            let points = [| 0.0; -0.0; 1e-300; 0.5; -0.5; 3.0; 8.4; 9.5; 12.3; 19.0; 20.0; -20.0; 300.0; 1e30; 1e300; infinity; -infinity; nan |]
            // float64: y from the Tanh kernel, the product formed here in float64
            let y64 = values (Expr.tanh (constantVector points))
            let slope64 = values (Expr.tanhSlope (constantVector points))
            expectIeee slope64 (y64 |> Array.map (fun y -> (1.0 - y) * (1.0 + y))) "float64"
            // float32: the product of the float32 y formed exactly in float64, then rounded once (1 − y is exact for y ≥ 1/2,
            // so the kernel's float32 arithmetic is within an ulp of it)
            let x32 = Tensor.FromArray(points |> Array.map float32, [| points.Length |])
            let y32 = (Eval.eval (Expr.tanh (Expr.constant x32))).ToSingleArray()
            let slope32 = (Eval.eval (Expr.tanhSlope (Expr.constant x32))).ToSingleArray()
            for i in 0 .. points.Length - 1 do
                let expected = float32 ((1.0 - float y32.[i]) * (1.0 + float y32.[i]))
                let close =
                    if Single.IsNaN expected then Single.IsNaN slope32.[i]
                    else abs (slope32.[i] - expected) <= MathF.BitIncrement(abs expected) - abs expected
                if not close then failtestf "float32 at %g: %g, expected %g" points.[i] slope32.[i] expected
            // exactly 0 once tanh has saturated, in both
            for i in 0 .. points.Length - 1 do
                if abs y64.[i] = 1.0 then Expect.equal slope64.[i] 0.0 (sprintf "float64 at %g" points.[i])
                if abs y32.[i] = 1.0f then Expect.equal slope32.[i] 0.0f (sprintf "float32 at %g" points.[i])
            // a scalar constant folds as it is built (Special.tanhSlope), from Math.Tanh
            for v in points do
                let t = Math.Tanh v
                expectIeee [| value (Expr.tanhSlope (Expr.scalar f64 v)) |] [| (1.0 - t) * (1.0 + t) |] (sprintf "folded at %g" v)
        }
        test "the slope at the rounded tanh keeps a step singular at ±1 consistent: erfinv(tanh x)'' at float32 8.4 against the exact value (fuzz 21/827)" {
            // f = erfinv ∘ tanh; in float32 tanh 8.4 rounds to 1 − 2⁻²³·2 and erfinv meets that y, so f′ = erfinv′(y)·tanh′
            // is consistent only with tanh′ = 1 − y² at the same y. The exact second derivative at x = 8.4f, from
            // mpmath at 50 digits (erfinv(tanh x) differentiated twice), is −0.0164899; torch's float32 is within 2% of it.
            let x = Tensor.FromArray([| 8.4f |], [| 1 |])
            let second = Diff.grad (fun v -> Expr.sum (Diff.grad (fun w -> Expr.sum (Elementary.erfinv (Expr.tanh w))) v)) (Expr.constant x)
            let got = float ((Eval.eval second).ToSingleArray().[0])
            Expect.isLessThan (abs (got / -0.016489909936492967 - 1.0)) 0.05 (sprintf "ours %g" got)
        }
        test "GeluTanh'' (plus x) equals its closed form s·u′ + x/2·(s·u″ − 2t·s·u′²) at 1e30 and elsewhere, both paths" {
            // `fuzz adversarial 4/42 --ops wide`: at x = 1e30 the second derivative was 1/√(2π) = 0.3989 where it is 0
            let c, a = Math.Sqrt(2.0 / Math.PI), 0.044715
            let closed (x: float) =
                let u = c * (x + a * x * x * x)
                let u1 = c * (1.0 + 3.0 * a * x * x)
                let u2 = c * 6.0 * a * x
                let t, s = Math.Tanh u, sech2 u
                s * u1 + 0.5 * x * (s * u2 - 2.0 * t * s * u1 * u1)
            let points = [| 0.5; -1.3; 3.0; 8.0; 1e8; 1e30; -1e30 |]
            let expected = points |> Array.map closed
            let interpreted, planned = bothPaths (second (fun x -> Activations.geluTanh x + x)) points
            expectClose 1e-12 interpreted expected "interpreter"
            expectClose 1e-12 planned expected "compiled"
        }
    ]
