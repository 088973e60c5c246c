/// The public gradient checker: it passes every primitive to order 2 in both modes, and it
/// catches, reports and raises on deliberately wrong rules, naming the order, mode and input.
module FunctionalDiff.Core.Tests.GradCheckTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.VjpRuleTests

let private options = GradCheckOptions.Default

/// Sine with a rule off by 1%: the mistake the checker exists to catch.
let private sineOffByOnePercent = Diff.customVjpNamed "sine_1.01" sin (fun x g -> g * cos x * 1.01)
/// Sine whose rule is right at first order but hides x from differentiation, so its second
/// derivative comes out as 0 instead of -sin x.
let private sineWrongAtSecondOrder = Diff.customVjpNamed "sine_frozen" sin (fun x g -> g * Expr.stopGradient (cos x))
/// Sine with its true rule.
let private sineRight = Diff.customVjpNamed "sine" sin (fun x g -> g * cos x)

let private point = tensor [| 3 |] [| 0.3; -1.2; 2.0 |]

let private primitiveCase (index: int) (c: Case) =
    test c.Name {
        let random = Random(9000 + index)
        let points = c.Shapes |> List.map (sample random c.Domain)
        let result = GradCheck.checkMany options c.F points
        Expect.isTrue result.Passed result.Message
    }

[<Tests>]
let tests =
    testList "Forward" [
        testList "GradCheck passes every primitive to order 2" (cases |> List.mapi primitiveCase)
        testList "GradCheck" [
            test "passes a correct custom rule" {
                let result = GradCheck.check options (fun x -> Expr.sum (sineRight x)) point
                Expect.isTrue result.Passed result.Message
                Expect.isLessThan result.MaxError options.Tolerance "worst error within tolerance"
            }
            test "catches a VJP off by a factor 1.01 in reverse mode at order 1" {
                let result = GradCheck.check options (fun x -> Expr.sum (sineOffByOnePercent x)) point
                Expect.isFalse result.Passed "must fail"
                Expect.equal (result.Order, result.Mode, result.Argument) (1, "reverse", 0) "where"
                Expect.equal (result.Input.ToDoubleArray()) (point.ToDoubleArray()) "the input"
                // The rule scales <J^T u, v> by 1.01, so the error is ~1% of it.
                Expect.isGreaterThan result.MaxError options.Tolerance "error over tolerance"
                for word in [ "FAILED"; "order 1"; "reverse mode"; "input 0" ] do
                    Expect.stringContains result.Message word "message"
            }
            test "catches it in forward mode too, since forward mode transposes the same rule" {
                let result = GradCheck.check { options with Reverse = false } (fun x -> Expr.sum (sineOffByOnePercent x)) point
                Expect.isFalse result.Passed "must fail"
                Expect.equal (result.Order, result.Mode) (1, "forward") "where"
                Expect.stringContains result.Message "forward mode" "message"
            }
            test "a rule wrong only at second order passes order 1 and fails order 2" {
                let f (x: Expr) = Expr.sum (sineWrongAtSecondOrder x)
                Expect.isTrue (GradCheck.check { options with Order = 1 } f point).Passed "order 1 is right"
                let result = GradCheck.check options f point
                Expect.isFalse result.Passed "order 2 is wrong"
                Expect.equal result.Order 2 "order"
                Expect.stringContains result.Message "order 2" "message"
            }
            test "names the failing argument of a several-input function" {
                // The second argument goes through the wrong rule; the first is fine.
                let f (xs: Expr list) = Expr.sum (sin xs.[0]) + Expr.sum (sineOffByOnePercent xs.[1])
                let result = GradCheck.checkMany options f [ point; tensor [| 2 |] [| 0.5; 1.5 |] ]
                Expect.isFalse result.Passed "must fail"
                Expect.equal result.Argument 1 "second input"
                Expect.equal (result.Input.ToDoubleArray()) [| 0.5; 1.5 |] "its value"
                Expect.stringContains result.Message "input 1" "message"
            }
            test "assertGrad raises GradCheckException with the result, and is silent on success" {
                let f (x: Expr) = Expr.sum (sineOffByOnePercent x)
                let raised =
                    try
                        GradCheck.assertGrad options f point
                        None
                    with :? GradCheckException as e -> Some e
                Expect.isSome raised "raised"
                Expect.isFalse raised.Value.Result.Passed "carries the failed result"
                Expect.equal raised.Value.Message raised.Value.Result.Message "message"
                GradCheck.assertGrad options (fun x -> Expr.sum (sineRight x)) point
            }
            test "a float32 input is checked in float64" {
                let result = GradCheck.check options (fun x -> Expr.sum (tanh x * x)) (point.Cast DType.Float32)
                Expect.isTrue result.Passed result.Message
                Expect.equal result.Input.DType DType.Float64 "promoted"
            }
            test "order 3 in both modes on a smooth function" {
                let result = GradCheck.check { options with Order = 3 } (fun x -> Expr.sum (exp (sin x) * x)) point
                Expect.isTrue result.Passed result.Message
            }
            test "rejects options that check nothing" {
                Expect.throwsT<ArgumentException> (fun () -> GradCheck.check { options with Order = 0 } sin point |> ignore) "order 0"
                Expect.throwsT<ArgumentException> (fun () -> GradCheck.check { options with Reverse = false; Forward = false } sin point |> ignore) "no mode"
            }
        ]
    ]
