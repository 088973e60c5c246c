/// Softmax and log-softmax as primitives with fused rules (issue 13, fuzz 3/934 and 3/1171): finite
/// differences to third order at saturated logits, and closed forms of the gradient and the
/// Hessian-vector product whose error is measured against each entry's own terms, so an entry
/// that is small because its terms cancel must still be right to its own size.
module FunctionalDiff.Core.Tests.SoftmaxRuleTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// Rows of logits that saturate: the two largest close together, so derivatives are of order 1, the
/// others e^-80 or e^-1400 below them (0 in float64); and a row near -700, where exp without the
/// shift by the maximum would be subnormal.
let private rows =
    [ "±40", [| 40.0; -40.0; 39.5; 0.0 |]
      "±700", [| 700.0; -700.0; 699.25; 0.5 |]
      "near -700", [| -700.0; -699.5; -701.0; -740.0 |] ]

let private u = [| 0.75; -1.25; 2.0; 0.5 |]
let private v = [| -0.5; 1.5; 0.25; -2.0 |]

/// Softmax of one row in float64, shifted by its maximum (the textbook form, written here).
let private probabilities (x: float[]) =
    let m = Array.max x
    let e = x |> Array.map (fun t -> Math.Exp(t - m))
    let total = Array.sum e
    e |> Array.map (fun t -> t / total)

let private dot (a: float[]) (b: float[]) = Array.fold2 (fun s p q -> s + p * q) 0.0 a b

/// |actual - expected| <= 1e-12 · scale_i for every entry, where scale_i bounds the magnitudes of
/// the terms that entry is made of.
let private expectWithin (actual: float[]) (expected: float[]) (scale: float[]) (message: string) =
    for i in 0 .. expected.Length - 1 do
        let error = abs (actual.[i] - expected.[i])
        if not (error <= 1e-12 * scale.[i]) then
            failtestf "%s: entry %d is %.17g, expected %.17g (error %g, allowed %g)\nactual   %A\nexpected %A"
                message i actual.[i] expected.[i] error (1e-12 * scale.[i]) actual expected

/// Closed forms for f(x) = Σ u·softmax(x) over one row: with p = softmax x and a = u - ⟨u, p⟩,
/// ∇f = p ⊙ a and (H v)_i = p_i (a_i (v_i - ⟨p, v⟩) - Σ_j p_j a_j v_j). Each comes with the bound
/// of its terms' magnitudes.
let private softmaxForms (x: float[]) =
    let p = probabilities x
    let a = u |> Array.map (fun t -> t - dot u p)
    let absA = u |> Array.map (fun t -> abs t + dot (Array.map abs u) p)
    let pv = dot p v
    let pav = Array.init 4 (fun j -> p.[j] * a.[j] * v.[j]) |> Array.sum
    let gradient = Array.map2 (*) p a
    let gradientScale = Array.map2 (*) p absA
    let hvp = Array.init 4 (fun i -> p.[i] * (a.[i] * (v.[i] - pv) - pav))
    let absPav = Array.init 4 (fun j -> p.[j] * absA.[j] * abs v.[j]) |> Array.sum
    let hvpScale = Array.init 4 (fun i -> p.[i] * (absA.[i] * (abs v.[i] + dot p (Array.map abs v)) + absPav))
    gradient, gradientScale, hvp, hvpScale

/// Closed forms for f(x) = Σ u·logSoftmax(x): ∇f = u - p Σu and H v = -(Σu) p ⊙ (v - ⟨p, v⟩).
let private logSoftmaxForms (x: float[]) =
    let p = probabilities x
    let total = Array.sum u
    let gradient = Array.init 4 (fun i -> u.[i] - p.[i] * total)
    let gradientScale = Array.init 4 (fun i -> abs u.[i] + p.[i] * abs total)
    let pv = dot p v
    let hvp = Array.init 4 (fun i -> -total * p.[i] * (v.[i] - pv))
    let hvpScale = Array.init 4 (fun i -> abs total * p.[i] * (abs v.[i] + dot p (Array.map abs v)))
    gradient, gradientScale, hvp, hvpScale

let private vector (data: float[]) = Expr.constant (Tensor.FromArray(data, [| data.Length |]))

/// The row as a column of a [4, 2] matrix (the other column a copy shifted by 1, which softmax
/// ignores), so the axis is not the last one; the weights pick the first column.
let private asColumn (x: float[]) = Tensor.FromArray(Array.init 8 (fun k -> x.[k / 2] + float (k % 2)), [| 4; 2 |])
let private firstColumn (w: float[]) = Expr.constant (Tensor.FromArray(Array.init 8 (fun k -> if k % 2 = 0 then w.[k / 2] else 0.0), [| 4; 2 |]))
let private column0 (t: Tensor) = t.ToDoubleArray() |> Array.indexed |> Array.filter (fun (k, _) -> k % 2 = 0) |> Array.map snd

[<Tests>]
let tests =
    testList "Graph.Softmax rules" [
        for name, row in rows do
            test (sprintf "softmax and log-softmax at saturated logits (%s) pass finite differences to order 3, reverse and forward" name) {
                let options = { GradCheckOptions.Default with Order = 3 }
                let x = Tensor.FromArray(Array.append row (Array.rev row), [| 2; 4 |])
                let w = Expr.constant (Tensor.FromArray(Array.append u v, [| 2; 4 |]))
                for label, f in [ "softmax", Nn.softmax 1; "log_softmax", Nn.logSoftmax 1
                                  "softmax axis 0", (fun e -> Expr.transpose (Nn.softmax 0 (Expr.transpose e)))
                                  "log_softmax axis 0", (fun e -> Expr.transpose (Nn.logSoftmax 0 (Expr.transpose e))) ] do
                    let result = GradCheck.check options (fun e -> Expr.sum (w * f e)) x
                    Expect.isTrue result.Passed (sprintf "%s: %s" label result.Message)
            }
            test (sprintf "softmax at saturated logits (%s): gradient and HVP match the closed forms to 1e-12 of each entry's terms" name) {
                let gradient, gradientScale, hvp, hvpScale = softmaxForms row
                let f (e: Expr) = Expr.sum (vector u * Nn.softmax 0 e)
                expectWithin (values (Diff.grad f (vector row))) gradient gradientScale "gradient"
                expectWithin (values (Diff.hvp f (vector row) (vector v))) hvp hvpScale "HVP"
                // along axis 0 of a matrix: the same numbers in the first column
                let g (e: Expr) = Expr.sum (firstColumn u * Nn.softmax 0 e)
                expectWithin (column0 (Eval.eval (Diff.grad g (Expr.constant (asColumn row))))) gradient gradientScale "gradient, axis 0"
                expectWithin (column0 (Eval.eval (Diff.hvp g (Expr.constant (asColumn row)) (firstColumn v)))) hvp hvpScale "HVP, axis 0"
            }
            test (sprintf "log-softmax at saturated logits (%s): gradient and HVP match the closed forms to 1e-12 of each entry's terms" name) {
                let gradient, gradientScale, hvp, hvpScale = logSoftmaxForms row
                let f (e: Expr) = Expr.sum (vector u * Nn.logSoftmax 0 e)
                expectWithin (values (Diff.grad f (vector row))) gradient gradientScale "gradient"
                expectWithin (values (Diff.hvp f (vector row) (vector v))) hvp hvpScale "HVP"
                let g (e: Expr) = Expr.sum (firstColumn u * Nn.logSoftmax 0 e)
                expectWithin (column0 (Eval.eval (Diff.grad g (Expr.constant (asColumn row))))) gradient gradientScale "gradient, axis 0"
                expectWithin (column0 (Eval.eval (Diff.hvp g (Expr.constant (asColumn row)) (firstColumn v)))) hvp hvpScale "HVP, axis 0"
            }
            test (sprintf "softmax and log-softmax values at saturated logits (%s) are the float64 forms, rounded once in float32" name) {
                let p = probabilities row
                let m = Array.max row
                let logTotal = Math.Log(row |> Array.sumBy (fun t -> Math.Exp(t - m)))
                let logP = row |> Array.map (fun t -> (t - m) - logTotal)
                for dtype in [ DType.Float64; DType.Float32 ] do
                    let x = Expr.constant ((Tensor.FromArray(row, [| 4 |])).Cast dtype)
                    let within (actual: float[]) (expected: float[]) (what: string) =
                        for i in 0 .. 3 do
                            let e = if dtype = DType.Float32 then float (float32 expected.[i]) else expected.[i]
                            let ulp = if dtype = DType.Float32 then float (MathF.BitIncrement(abs (float32 e)) - abs (float32 e)) else Math.BitIncrement(abs e) - abs e
                            Expect.isLessThanOrEqual (abs (actual.[i] - e)) ulp (sprintf "%s %O entry %d: %g vs %g" what dtype i actual.[i] e)
                    within (values (Nn.softmax 0 x)) p "softmax"
                    within (values (Nn.logSoftmax 0 x)) logP "log_softmax"
            }
        test "softmax and log-softmax over long rows (the vector path) are a float64 reference loop's, rounded once, with NaN and infinite rows" {
            // rows long enough for the vector kernels and their tails, and enough of them to split over the workers
            let random = Random 23
            for length in [ 1; 5; 16; 37; 1000 ] do
                let rows = 70
                let data =
                    Array.init (rows * length) (fun k ->
                        match k / length with
                        | 1 when k % length = length / 2 -> nan
                        | 2 when k % length = 0 -> infinity
                        | 3 -> -infinity
                        | 4 -> 800.0 + float (k % 3) // exp of the raw values would overflow
                        | _ -> (random.NextDouble() - 0.5) * 40.0)
                let reference (logarithm: bool) =
                    Array.init rows (fun r ->
                        let row = Array.sub data (r * length) length
                        let mutable m = Double.NegativeInfinity
                        for v in row do
                            if Double.IsNaN v || Double.IsNaN m then m <- nan elif v > m then m <- v
                        let total = row |> Array.sumBy (fun v -> Math.Exp(v - m))
                        // with the scale of each entry's error: log-softmax's (v - m) - log Σ cancels near the maximum, and
                        // log Σ (Σ ≥ 1) carries the sum's rounding, an absolute error of a few ulps of 1
                        row |> Array.map (fun v ->
                            if logarithm then (v - m) - Math.Log total, abs (v - m) + abs (Math.Log total) + 1.0
                            else Math.Exp(v - m) / total, Math.Exp(v - m) / total))
                    |> Array.concat
                for dtype in [ DType.Float64; DType.Float32 ] do
                    let input = (Tensor.FromArray(data, [| rows; length |])).Cast dtype
                    let x = Expr.constant input
                    for logarithm in [ false; true ] do
                        // the reference from the values as the dtype holds them
                        let held = input.ToDoubleArray()
                        let expected =
                            let saved = Array.copy data
                            Array.blit held 0 data 0 held.Length
                            let e = reference logarithm
                            Array.blit saved 0 data 0 saved.Length
                            e
                        let actual = (Eval.eval (if logarithm then Nn.logSoftmax 1 x else Nn.softmax 1 x)).ToDoubleArray()
                        for k in 0 .. actual.Length - 1 do
                            let exact, scale = expected.[k]
                            let e = if dtype = DType.Float32 then float (float32 exact) else exact
                            let ok =
                                if Double.IsNaN e then Double.IsNaN actual.[k]
                                elif Double.IsInfinity e then actual.[k] = e
                                else
                                    // the lane-ordered sum moves the float64 result by a few ulps of its terms' scale;
                                    // float32 then rounds once, one ulp of its own
                                    let rounding = if dtype = DType.Float32 then float (MathF.BitIncrement(abs (float32 e)) - abs (float32 e)) else 0.0
                                    abs (actual.[k] - e) <= rounding + 1e-13 * scale
                            if not ok then
                                failtestf "%A %s length %d, row %d entry %d: %.17g, reference %.17g" dtype (if logarithm then "log_softmax" else "softmax") length (k / length) (k % length) actual.[k] e
        }
        test "a plan computes softmax and log-softmax in its own buffers with the node-by-node kernels' bits, along every axis" {
            let random = Random 11
            let x = Expr.variable "x" [| 3; 4; 5 |] DType.Float64
            let input = sample random Normal [| 3; 4; 5 |]
            let roots = [| for axis in 0 .. 2 do
                             yield Nn.softmax axis x
                             yield Nn.logSoftmax axis x |]
            let plan = Planner.compile [| x |] roots true
            Expect.equal (PlanMemoryTests.kernelSteps plan) [||] "node-by-node kernels in the plan"
            let planned = plan.Run([| input |], null)
            let expected = PlanTests.interpreted [| x |] [| input |] roots
            for i in 0 .. roots.Length - 1 do
                Expect.sequenceEqual (planned.[i].ToDoubleArray()) (expected.[i].ToDoubleArray()) (sprintf "root %d" i)
        }
    ]
