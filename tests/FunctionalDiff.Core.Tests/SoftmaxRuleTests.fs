/// Softmax and log-softmax as primitives with fused rules (issue 13, fuzz 3/934 and 3/1171): finite
/// differences to third order at saturated logits, and closed forms of the gradient and the
/// Hessian-vector product whose error is measured against each entry's own terms, so an entry
/// that is small because its terms cancel must still be right to its own size. Softmax's pullback
/// is a primitive too (fuzz fresh adversarial 45/125): its values against a loop, and a Hessian by
/// forward over reverse whose small term sits beside terms 1e16 times larger; so is log-softmax's,
/// with a Hessian whose small term sits beside a cotangent's tangent 1e17 times larger.
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
        test "softmax's pullback along every axis, in both dtypes and over long rows, is y·(g − Σ g·y) of a reference loop; a plan gives the interpreter's bits" {
            let random = Random 31
            for dims in [ [| 3; 4; 5 |]; [| 70; 37 |]; [| 2; 1000 |] ] do
                let g = sample random Normal dims
                // softmax outputs: positive, each run summing to 1 along the axis
                let logits = sample random Normal dims
                for axis in 0 .. dims.Length - 1 do
                    let y = Eval.eval (Nn.softmax axis (Expr.constant logits))
                    let gs, ys = g.ToDoubleArray(), y.ToDoubleArray()
                    let length = dims.[axis]
                    let inner = Array.fold (*) 1 dims.[axis + 1 ..]
                    let expected = Array.zeroCreate gs.Length
                    let scale = Array.zeroCreate gs.Length
                    for start in 0 .. gs.Length - 1 do
                        if (start / inner) % length = 0 then
                            let run = [| for r in 0 .. length - 1 -> start + r * inner |]
                            let total = run |> Array.sumBy (fun k -> gs.[k] * ys.[k])
                            let totalScale = run |> Array.sumBy (fun k -> abs (gs.[k] * ys.[k]))
                            for k in run do
                                expected.[k] <- ys.[k] * (gs.[k] - total)
                                scale.[k] <- ys.[k] * (abs gs.[k] + totalScale)
                    for dtype in [ DType.Float64; DType.Float32 ] do
                        let gd, yd = g.Cast dtype, y.Cast dtype
                        let gh, yh = gd.ToDoubleArray(), yd.ToDoubleArray()
                        let actual = values (Expr.softmaxBackward axis (Expr.constant gd) (Expr.constant yd))
                        let allowed = if dtype = DType.Float32 then 4e-7 else 1e-14
                        for k in 0 .. actual.Length - 1 do
                            // float32: the reference from the float32 inputs, each result within a few of its ulps
                            let e = if dtype = DType.Float32 then
                                        let first = k - ((k / inner) % length) * inner
                                        let total = Array.init length (fun r -> gh.[first + r * inner] * yh.[first + r * inner]) |> Array.sum
                                        yh.[k] * (gh.[k] - total)
                                    else expected.[k]
                            if not (abs (actual.[k] - e) <= allowed * scale.[k]) then
                                failtestf "%A %A axis %d entry %d: %.17g, reference %.17g" dtype dims axis k actual.[k] e
            // a plan writes the pullback into its own buffers with the interpreter's kernel
            let gv = Expr.variable "g" [| 3; 4; 5 |] DType.Float64
            let yv = Expr.variable "y" [| 3; 4; 5 |] DType.Float64
            let roots = [| for axis in 0 .. 2 -> Expr.softmaxBackward axis gv yv |]
            let plan = Planner.compile [| gv; yv |] roots true
            Expect.equal (PlanMemoryTests.kernelSteps plan) [||] "node-by-node kernels in the plan"
            let inputs = [| sample random Normal [| 3; 4; 5 |]; sample random Positive [| 3; 4; 5 |] |]
            let planned = plan.Run(inputs, null)
            let expected = PlanTests.interpreted [| gv; yv |] inputs roots
            for i in 0 .. roots.Length - 1 do
                Expect.sequenceEqual (planned.[i].ToDoubleArray()) (expected.[i].ToDoubleArray()) (sprintf "root %d" i)
        }
        test "the Hessian through a softmax whose logits' slopes are 1e8 and 1e10 keeps its small term by forward over reverse (fuzz fresh adversarial 45/125)" {
            // f(x) = Σ softmax([x²/√3, c·x]) · [u·x, u·c·√3] at x = 0. With y₁ = σ(d), d = x²/√3 − c·x (σ the logistic),
            // f = u·c·√3 + σ(d)·(u·x − u·c·√3), so f″ = σ″(d)·d′²·(u·x − u·c√3) + σ′(d)·d″·(u·x − u·c√3) + 2σ′(d)·d′·u.
            // At x = 0: d = 0, σ′ = 1/4, σ″ = 0, d′ = −c, d″ = 2/√3, so f″ = −u·c/2 − u·c/2 = −u·c.
            // The tangent of softmax's pullback there holds ċ·y ≈ u/2 beside c·ẏ ≈ u·c²·√3/4; summed in one
            // reduction, the first was lost, and f″ came out −3u·c/4 (c = 1e10) or −1.1u·c (c = 1e8).
            let u = 0.7
            let scalar (v: float) = Expr.scalar DType.Float64 v
            let entry (e: Expr) = Expr.reshape [| 1 |] e
            for c in [ 1e8; 1e10 ] do
                let f (x: Expr) =
                    let logits = Expr.concat 0 [ entry (x * x / scalar (sqrt 3.0)); entry (x * scalar c) ]
                    let weights = Expr.concat 0 [ entry (x * scalar u); entry (scalar (u * c * sqrt 3.0)) ]
                    Expr.sum (Nn.softmax 0 logits * weights)
                let x0 = Expr.constant (Tensor.FromArray([| 0.0 |], [||]))
                let closedForm = -u * c
                let forwardOverReverse = (values (Diff.hvp f x0 (scalar 1.0))).[0]
                let reverseOverReverse = (values (Diff.grad (Diff.grad f) x0)).[0]
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } forwardOverReverse closedForm (sprintf "Hvp at c = %g" c)
                Expect.floatClose { absolute = 0.0; relative = 1e-12 } reverseOverReverse closedForm (sprintf "grad of grad at c = %g" c)
        }
        test "the Hessian of attention over a query holding −1e30 keeps its small term by forward over reverse (fuzz fresh adversarial 45/125, shrunk)" {
            // f(X) = Σ U ⊙ attention(X, X, X) (scale 1/√3) at X = [[0, x, 0], [0, −K, 0]], K = 1e30, along x = X₀₁ at x = 0.
            // The scores are S = X Xᵀ/√3: S₀₀ = x²/√3, S₀₁ = S₁₀ = −K·x/√3, S₁₁ = K²/√3, so row 1's weights are [0, 1] (e^−5.8e59 = 0)
            // and stay so near x = 0, and row 0's are [σ(d), 1 − σ(d)] with d = (x² + K·x)/√3. Columns 0 and 2 of X are 0, so
            // f = U₀₁·(σ(d)·x − (1 − σ(d))·K) + (terms constant in x) and f″ = U₀₁·(σ″·d′²·(x + K) + σ′·d″·(x + K) + 2σ′·d′);
            // at x = 0, σ′ = 1/4, σ″ = 0, d′ = K/√3 and d″ = 2/√3: f″ = U₀₁·K/√3. Before the fix, 3/4 of it.
            let K = 1e30
            let weights = [| 0.138762; 2.27203; -1.43538; 0.6868; 0.863961; -0.257145 |]
            let U = Expr.constant (Tensor.FromArray(weights, [| 1; 2; 3 |]))
            let f (x: Expr) =
                let q = Expr.reshape [| 1; 2; 3 |] x
                Expr.sum (U * Attention.scaledDotProductAttention None None false None None q q q)
            let at = Expr.constant (Tensor.FromArray([| 0.0; 0.0; 0.0; 0.0; -K; 0.0 |], [| 2; 3; 1 |]))
            let along = Expr.constant (Tensor.FromArray([| 0.0; 1.0; 0.0; 0.0; 0.0; 0.0 |], [| 2; 3; 1 |]))
            let closedForm = weights.[1] * K / sqrt 3.0
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (values (Diff.hvp f at along)).[1] closedForm "Hvp, entry 1"
            Expect.floatClose { absolute = 0.0; relative = 1e-12 } (values (Diff.hessian f at)).[6 + 1] closedForm "Hessian (1, 1)"
        }
        test "log-softmax's pullback along every axis, in both dtypes and over long rows, is g − exp(y)·Σ g of a reference loop; a plan gives the interpreter's bits" {
            let random = Random 41
            for dims in [ [| 3; 4; 5 |]; [| 70; 37 |]; [| 2; 1000 |] ] do
                let g = sample random Normal dims
                let logits = sample random Normal dims
                for axis in 0 .. dims.Length - 1 do
                    let length = dims.[axis]
                    let inner = Array.fold (*) 1 dims.[axis + 1 ..]
                    for dtype in [ DType.Float64; DType.Float32 ] do
                        // log-softmax outputs as the dtype holds them, and the reference from those held values
                        let gd = g.Cast dtype
                        let yd = Eval.eval (Nn.logSoftmax axis (Expr.constant (logits.Cast dtype)))
                        let gh, yh = gd.ToDoubleArray(), yd.ToDoubleArray()
                        let actual = values (Expr.logSoftmaxBackward axis (Expr.constant gd) (Expr.constant yd))
                        let allowed = if dtype = DType.Float32 then 4e-7 else 1e-14
                        for k in 0 .. actual.Length - 1 do
                            let first = k - ((k / inner) % length) * inner
                            let run = [| for r in 0 .. length - 1 -> first + r * inner |]
                            let total = run |> Array.sumBy (fun j -> gh.[j])
                            let scale = abs gh.[k] + Math.Exp yh.[k] * (run |> Array.sumBy (fun j -> abs gh.[j]))
                            let expected = gh.[k] - Math.Exp yh.[k] * total
                            if not (abs (actual.[k] - expected) <= allowed * scale) then
                                failtestf "%A %A axis %d entry %d: %.17g, reference %.17g" dtype dims axis k actual.[k] expected
            // a cotangent the same along the axis over a row of equal logits is exactly 0 (c·(1 − n·p), p = 1/n in the dtype)
            for dtype in [ DType.Float64; DType.Float32 ] do
                let y = Nn.logSoftmax 0 (Expr.constant ((Tensor.FromArray(Array.zeroCreate<float> 4, [| 4 |])).Cast dtype))
                let c = Expr.constant ((Tensor.FromArray(Array.create 4 1e8, [| 4 |])).Cast dtype)
                Expect.sequenceEqual (values (Expr.logSoftmaxBackward 0 c y)) (Array.zeroCreate<float> 4) (sprintf "%A: uniform cotangent" dtype)
            let gv = Expr.variable "g" [| 3; 4; 5 |] DType.Float64
            let yv = Expr.variable "y" [| 3; 4; 5 |] DType.Float64
            let roots = [| for axis in 0 .. 2 -> Expr.logSoftmaxBackward axis gv yv |]
            let plan = Planner.compile [| gv; yv |] roots true
            Expect.equal (PlanMemoryTests.kernelSteps plan) [||] "node-by-node kernels in the plan"
            let inputs = [| sample random Normal [| 3; 4; 5 |]; sample random Normal [| 3; 4; 5 |] |]
            let planned = plan.Run(inputs, null)
            let expected = PlanTests.interpreted [| gv; yv |] inputs roots
            for i in 0 .. roots.Length - 1 do
                Expect.sequenceEqual (planned.[i].ToDoubleArray()) (expected.[i].ToDoubleArray()) (sprintf "root %d" i)
        }
        test "the Hessian through log-softmax keeps a small term beside weights whose tangent is 1e17 along the row, by forward over reverse, in both dtypes" {
            // f(x, s) = Σ logSoftmax([a·x, 0]) ⊙ [w₀ + L·s, w₁ + L·s] at (0, 0), along v = (1, 1). With y₀ = log σ(a·x),
            // y₁ = log σ(−a·x): ∂f/∂x = a·(w₀ + L·s − σ(a·x)·(w₀ + w₁ + 2L·s)), so ∂²f/∂x² = −a²·σ′(0)·(w₀ + w₁) =
            // −a²·(w₀ + w₁)/4 and ∂²f/∂x∂s = a·L·(1 − 2σ(0)) = 0; ∂f/∂s = L·(y₀ + y₁), so ∂²f/∂s² = 0. (H v) = (−a²(w₀ + w₁)/4, 0).
            // The pullback's tangent holds ċ − p·Σ ċ = L − L beside −ṗ·Σ c = a²(w₀ + w₁)/4; summed as ṗ·Σ c + p·Σ ċ before
            // ċ was subtracted, the small one was lost (0 where L ≥ 1e17 in float64, 1e8 in float32).
            let a, w0, w1 = 1.5, 0.75, 0.5
            for dtype in [ DType.Float64; DType.Float32 ] do
                for L in [ 1e4; 1e8; 1e17 ] do
                    let scalar (v: float) = Expr.scalar dtype v
                    let entry (e: Expr) = Expr.reshape [| 1 |] e
                    let f (xs: Expr) =
                        let x = Expr.reshape [||] (Expr.slice [| 0 |] [| 1 |] [| 1 |] xs)
                        let s = Expr.reshape [||] (Expr.slice [| 1 |] [| 2 |] [| 1 |] xs)
                        let logits = Expr.concat 0 [ entry (x * scalar a); entry (scalar 0.0) ]
                        let weights = Expr.concat 0 [ entry (scalar w0 + s * scalar L); entry (scalar w1 + s * scalar L) ]
                        Expr.sum (Nn.logSoftmax 0 logits * weights)
                    let at = Expr.constant ((Tensor.FromArray([| 0.0; 0.0 |], [| 2 |])).Cast dtype)
                    let along = Expr.constant ((Tensor.FromArray([| 1.0; 1.0 |], [| 2 |])).Cast dtype)
                    let hv = values (Diff.hvp f at along)
                    // −a²(w₀ + w₁)/4 = −0.703125 is exact in either dtype
                    Expect.sequenceEqual hv [| -a * a * (w0 + w1) / 4.0; 0.0 |] (sprintf "%A, L = %g" dtype L)
        }
        test "the log-softmax Hessian f(x) = Σ logSoftmax([x²/√3, c·x]) ⊙ [K − K·c·x/4, 0] is K/√3 by forward over reverse; by reverse over reverse within ulps of its cancelling terms" {
            // y₀ = log σ(d), d = x²/√3 − c·x, so f = w₀·log σ(d) with w₀ = K − K·c·x/4, and
            // f″ = w₀″·log σ + 2w₀′·(1 − σ)·d′ + w₀·(−σ′·d′² + (1 − σ)·d″); at x = 0, σ = 1/2, σ′ = 1/4, d′ = −c, d″ = 2/√3:
            // f″ = K·c²/4 − K·c²/4 + K/√3 = K/√3. Reverse over reverse gets the large parts as ±K·c²/8 from two different
            // paths to x (through the weights and through the logits), which meet only in x's fan-in, beside K/√3; the sum
            // loses K/√3 there, with log-softmax's rule or any other form of it, and so does torch's double backward (at K = 1
            // both return 0.5 at c = 1e8). So that order is held to a few ulps of K·c²/8, not to K/√3.
            let K = 0.7
            let closedForm = K / sqrt 3.0
            for dtype in [ DType.Float64; DType.Float32 ] do
                let epsilon = if dtype = DType.Float32 then 1.2e-7 else 2.3e-16
                for c in [ 1e2; 1e4; 1e8 ] do
                    let scalar (v: float) = Expr.scalar dtype v
                    let entry (e: Expr) = Expr.reshape [| 1 |] e
                    let f (x: Expr) =
                        let logits = Expr.concat 0 [ entry (x * x / scalar (sqrt 3.0)); entry (x * scalar c) ]
                        let weights = Expr.concat 0 [ entry (scalar K - x * scalar (K * c / 4.0)); entry (scalar 0.0) ]
                        Expr.sum (Nn.logSoftmax 0 logits * weights)
                    let x0 = Expr.constant ((Tensor.FromArray([| 0.0 |], [||])).Cast dtype)
                    let forwardOverReverse = (values (Diff.hvp f x0 (scalar 1.0))).[0]
                    let reverseOverReverse = (values (Diff.grad (Diff.grad f) x0)).[0]
                    Expect.floatClose { absolute = 0.0; relative = 2.0 * epsilon } forwardOverReverse closedForm (sprintf "%A Hvp at c = %g" dtype c)
                    let terms = K * c * c / 8.0 + closedForm
                    Expect.isLessThanOrEqual (abs (reverseOverReverse - closedForm)) (8.0 * epsilon * terms) (sprintf "%A grad of grad at c = %g" dtype c)
        }
        test "diagonal minus rank one, w·a − v·Σ a·p, along every axis and in both dtypes, is a reference loop's; a plan gives the interpreter's bits" {
            let random = Random 37
            for dims in [ [| 3; 4; 5 |]; [| 6; 37 |] ] do
                let draws = Array.init 4 (fun _ -> sample random Normal dims)
                for axis in 0 .. dims.Length - 1 do
                    let length = dims.[axis]
                    let inner = Array.fold (*) 1 dims.[axis + 1 ..]
                    for dtype in [ DType.Float64; DType.Float32 ] do
                        let held = draws |> Array.map (fun t -> t.Cast dtype)
                        let a, p, w, v = held.[0].ToDoubleArray(), held.[1].ToDoubleArray(), held.[2].ToDoubleArray(), held.[3].ToDoubleArray()
                        let actual = values (Expr.diagonalMinusRankOne axis (Expr.constant held.[0]) (Expr.constant held.[1]) (Expr.constant held.[2]) (Expr.constant held.[3]))
                        for k in 0 .. a.Length - 1 do
                            let first = k - ((k / inner) % length) * inner
                            let run = [| for r in 0 .. length - 1 -> first + r * inner |]
                            let total = run |> Array.sumBy (fun j -> a.[j] * p.[j])
                            let scale = abs (w.[k] * a.[k]) + abs v.[k] * (run |> Array.sumBy (fun j -> abs (a.[j] * p.[j])))
                            let expected = w.[k] * a.[k] - v.[k] * total
                            let allowed = if dtype = DType.Float32 then 1.2e-7 * scale else 1e-14 * scale
                            if not (abs (actual.[k] - expected) <= allowed) then
                                failtestf "%A %A axis %d entry %d: %.17g, reference %.17g" dtype dims axis k actual.[k] expected
            let inputs = Array.init 4 (fun k -> Expr.variable (sprintf "x%d" k) [| 3; 4; 5 |] DType.Float64)
            let roots = [| for axis in 0 .. 2 -> Expr.diagonalMinusRankOne axis inputs.[0] inputs.[1] inputs.[2] inputs.[3] |]
            let plan = Planner.compile inputs roots true
            Expect.equal (PlanMemoryTests.kernelSteps plan) [||] "node-by-node kernels in the plan"
            let given = Array.init 4 (fun _ -> sample random Normal [| 3; 4; 5 |])
            let planned = plan.Run(given, null)
            let expected = PlanTests.interpreted inputs given roots
            for i in 0 .. roots.Length - 1 do
                Expect.sequenceEqual (planned.[i].ToDoubleArray()) (expected.[i].ToDoubleArray()) (sprintf "root %d" i)
        }
    

        // the rules of the two primitives themselves (softmax's pullback in g and y, the rank-one map in all four
        // inputs), against central differences at first and second order; y is a row of probabilities, as the pullback
        // meets it, though the rule holds at any y
        let probabilitiesOf (x: Expr) = Nn.softmax 1 x
        let s34 = [| 3; 4 |]
        let ruleCases : RuleCase list =
            [ { Name = "softmax_backward along 1"; Shapes = [ s34; s34 ]; Domain = Normal
                F = fun xs -> Expr.softmaxBackward 1 xs.[0] (probabilitiesOf xs.[1]) }
              { Name = "softmax_backward along 0"; Shapes = [ s34; s34 ]; Domain = Normal
                F = fun xs -> Expr.softmaxBackward 0 xs.[0] (Nn.softmax 0 xs.[1]) }
              { Name = "log_softmax_backward along 1"; Shapes = [ s34; s34 ]; Domain = Normal
                F = fun xs -> Expr.logSoftmaxBackward 1 xs.[0] (Nn.logSoftmax 1 xs.[1]) }
              { Name = "log_softmax_backward along 0"; Shapes = [ s34; s34 ]; Domain = Normal
                F = fun xs -> Expr.logSoftmaxBackward 0 xs.[0] (Nn.logSoftmax 0 xs.[1]) }
              { Name = "diagonal_minus_rank_one along 1"; Shapes = [ s34; s34; s34; s34 ]; Domain = Normal
                F = fun xs -> Expr.diagonalMinusRankOne 1 xs.[0] xs.[1] xs.[2] xs.[3] } ]
        testList "first order vs finite differences" (ruleCases |> List.mapi (fun i c -> firstOrderTest (8100 + i) c))
        testList "second order vs finite differences of the first" (ruleCases |> List.mapi (fun i c -> secondOrderTest (8100 + i) c))
    ]
