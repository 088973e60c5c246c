/// Specifications for what a probe of every facade op at edge inputs (signed zeros, infinities,
/// NaN, singular matrices) against TorchSharp found: each is torch's semantics written out here as
/// a closed form evaluated element by element with IEEE arithmetic.
module FunctionalDiff.Core.Tests.EdgeTorchProbeTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

[<Tests>]
let tests =
    testList "Graph.Edge torch probe" [
        test "elu: torch's forward is α(eˣ - 1) where x ≤ 0 and x elsewhere, so -α at -inf and NaN at NaN; its backward's slope is αeˣ where x ≤ 0 and 1 elsewhere (NaN included)" {
            let alpha = 2.0
            let x = [| -infinity; nan; infinity; -1000.0; -1.5; 0.0; 0.75 |]
            // torch: elu(x) = x ≤ 0 ? α·(exp(x) - 1) : x, elu'(x) = x ≤ 0 ? α·exp(x) : 1
            let value = x |> Array.map (fun t -> if t <= 0.0 then alpha * (Math.Exp t - 1.0) else t)
            let slope = x |> Array.map (fun t -> if t <= 0.0 then alpha * Math.Exp t else 1.0)
            expectIeee (values (Activations.elu alpha (constantVector x))) value "value"
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Activations.elu alpha y)) (constantVector x))) slope "gradient"
            // second order: α·eˣ below 0; 0 at 0 (torch's double backward masks x < 0) and above; -inf has e^-inf = 0
            let curvature = x |> Array.map (fun t -> if t < 0.0 then alpha * Math.Exp t else 0.0)
            let ones = constantVector (Array.create x.Length 1.0)
            expectIeee (values (Diff.hvp (fun y -> Expr.sum (Activations.elu alpha y)) (constantVector x) ones)) curvature "HVP"
        }
        test "relu at a NaN rank-0 constant: value NaN and slope 1 as at a NaN constantVector entry (torch masks by the output; the scalar fold gave 0 and 0)" {
            let x = Expr.scalar DType.Float64 nan
            expectIeee (values (Expr.relu x)) [| nan |] "value"
            expectIeee (values (Diff.grad Expr.relu x)) [| 1.0 |] "slope"
        }
        test "a cotangent that cancels to an exact 0 still multiplies as IEEE: d/dz Σ(c - c), c = exp(z - z), is 0·NaN = NaN where z is infinite, as torch's" {
            // torch: c̄ = 1 + (-1) = 0, then z̄ = c̄·c·(1 - 1), so NaN where c = exp(inf - inf) is NaN and 0 elsewhere
            let z = [| infinity; 1.5; -infinity; nan; 0.0; -2.0; 7.0 |]
            let c (y: Expr) = Expr.exp (Expr.sub y y)
            let expected = z |> Array.map (fun t -> let ct = Math.Exp(t - t) in (1.0 - 1.0) * ct * (1.0 - 1.0) + (1.0 - 1.0) * ct)
            let x = Expr.constant (tensor [| 1; 7 |] z)
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Expr.sub (c y) (c y))) x)) expected "gradient"
        }
        test "clamp with a NaN bound is NaN everywhere with no cotangent, as torch's min(max(x, lower), upper) with NaN-propagating max and min" {
            let x = [| -1.0; 0.5; 2.0; infinity; nan |]
            for lower, upper in [ Some nan, Some 1.0; Some 0.0, Some nan; Some nan, None; None, Some nan ] do
                let clamped = Activations.clamp lower upper (constantVector x)
                expectIeee (values clamped) (Array.create x.Length nan) (sprintf "value, bounds %A %A" lower upper)
                // torch's backward passes g where lower <= x <= upper: never, a comparison with NaN being false
                expectIeee (values (Diff.grad (fun y -> Expr.sum (Activations.clamp lower upper y)) (constantVector x))) (Array.zeroCreate x.Length) (sprintf "gradient, bounds %A %A" lower upper)
        }
        test "max and min over an empty axis raise when built, naming the op, the axes and the shape, as torch raises at the call; sum, mean and prod of nothing are 0, NaN and 1" {
            for dims, axes in [ [| 0 |], [| 0 |]; [| 3; 0 |], [| 1 |]; [| 3; 0 |], [| 0; 1 |]; [| 0; 3 |], [| 0 |] ] do
                let x = Expr.constant (tensor dims [||])
                for name, build in [ "Max", Expr.maxAxes; "Min", Expr.minAxes ] do
                    match (try build axes false x |> ignore; None with :? ShapeException as e -> Some e.Message) with
                    | None -> failtestf "%s over %A of %A: no ShapeException when built" name axes dims
                    | Some message ->
                        for fragment in [ name + ":"; sprintf "[%s]" (String.Join(",", dims)) ] do
                            Expect.stringContains message fragment (sprintf "%s over %A of %A names %s" name axes dims fragment)
            // [3, 0] over its empty axis: three empty rows
            let rows = Expr.constant (tensor [| 3; 0 |] [||])
            expectIeee (values (Expr.sumAxes [| 1 |] false rows)) [| 0.0; 0.0; 0.0 |] "sum"
            expectIeee (values (Expr.meanAxes [| 1 |] false rows)) [| nan; nan; nan |] "mean"
            expectIeee (values (Expr.prodAxes [| 1 |] false rows)) [| 1.0; 1.0; 1.0 |] "prod"
            // over the axis of length 3 the result is empty, which torch allows
            Expect.equal (Expr.maxAxes [| 0 |] false rows).Dims [| 0 |] "max over the non-empty axis"
        }
        test "logdet: torch's is where(sign = -1, NaN, log|det|), so a negative determinant has value NaN and no cotangent; a positive one has A⁻ᵀ" {
            let logdetSum (a: Expr) = Expr.sum (Linalg.logdet a)
            // det [[0, 1], [1, 0]] = -1
            let swap = Expr.constant (tensor [| 2; 2 |] [| 0.0; 1.0; 1.0; 0.0 |])
            expectIeee (values (Linalg.logdet swap)) [| nan |] "value, det < 0"
            expectIeee (values (Diff.grad logdetSum swap)) [| 0.0; 0.0; 0.0; 0.0 |] "gradient, det < 0"
            // [[2, 1], [1, 3]]: det 5, A⁻ᵀ = [[3, -1], [-1, 2]] / 5
            let a = Expr.constant (tensor [| 2; 2 |] [| 2.0; 1.0; 1.0; 3.0 |])
            expectIeee (values (Linalg.logdet a)) [| Math.Log 5.0 |] "value, det > 0"
            expectIeee (values (Diff.grad logdetSum a)) [| 0.6; -0.2; -0.2; 0.4 |] "gradient, det > 0"
        }
    ]
