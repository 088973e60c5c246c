/// Specifications for what the fuzzer's adversarial inputs found (infinite cotangents, overflowing
/// magnitudes, coinciding eigenvalues, singular matrices), each against a closed form evaluated here
/// in IEEE arithmetic, torch's documented rule written out, or float64 finite differences.
module FunctionalDiff.Core.Tests.EdgeAdversarialTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// log(1 + e^x) in float64, each side of 0 from the form that does not overflow.
let private softplusReference (x: float) = if x > 0.0 then x + Math.Log(1.0 + Math.Exp(-x)) else Math.Log(1.0 + Math.Exp x)

let private logistic (x: float) = 1.0 / (1.0 + Math.Exp(-x))

[<Tests>]
let tests =
    testList "Graph.Edge adversarial" [
        test "softplus: log(1 + e^x) at every magnitude, and an infinite cotangent gives g·σ(x) (±∞), as torch's rule, not ∞ - ∞" {
            let xs = [| -infinity; -800.0; -30.0; -1.0; 0.0; 0.5; 20.0; 30.0; 39.5; 41.0; 800.0; infinity |]
            expectIeee (values (Nn.softplus (constantVector xs))) (xs |> Array.map softplusReference) "values"
            let gs = xs |> Array.mapi (fun i _ -> if i % 2 = 0 then infinity else -infinity)
            let _, pullback = Diff.vjp Nn.softplus (constantVector xs)
            // g·σ(x) in IEEE arithmetic: NaN only where σ(x) is 0 (x = -inf, and -800 where e^-x overflows)
            expectIeee (values (pullback (constantVector gs))) (Array.map2 (fun g x -> g * logistic x) gs xs) "infinite cotangent"
            let finite = [| -3.0; 0.0; 2.0; 30.0; 39.0; 41.0; 60.0 |]
            let secondOrder = values (Diff.grad (fun y -> Expr.sum (Diff.grad (fun z -> Expr.sum (Nn.softplus z)) y)) (constantVector finite))
            expectClose 1e-12 secondOrder (finite |> Array.map (fun x -> logistic x * (1.0 - logistic x))) "second derivative σ(x)(1 - σ(x))"
        }
        test "layer norm: a row near 1e300 is normalised (±√(3/2), 0), not 0 from an overflowed variance, with the closed-form gradient" {
            let one = Expr.scalar DType.Float64 1.0
            let zero = Expr.scalar DType.Float64 0.0
            let rows = tensor [| 2; 3 |] [| 2e300; 1e300; 0.0; 1e-300; -1e-300; 0.0 |]
            let y = values (Nn.layerNorm 1e-5 one zero (constant rows))
            // row 1: centred (1, 0, -1)·1e300 over σ = √(2/3)·1e300, ε negligible; row 2: centred ±1e-300, ε dominates
            let r = sqrt 1.5
            expectIeee y.[0 .. 2] [| r; 0.0; -r |] "huge row"
            expectIeee y.[3 .. 5] [| 1e-300 / sqrt 1e-5; -1e-300 / sqrt 1e-5; 0.0 |] "tiny row"
            // d/dx Σ w·LN(x) = (w - mean w - LN·mean(w·LN)) / σ with ε → 0
            let w = [| 0.5; -1.0; 2.0 |]
            let normalised = [| r; 0.0; -r |]
            let meanW = Array.average w
            let meanWy = Array.average (Array.map2 (*) w normalised)
            let sigma = sqrt (2.0 / 3.0) * 1e300
            let expected = Array.init 3 (fun i -> (w.[i] - meanW - normalised.[i] * meanWy) / sigma)
            let gradient = values (Diff.grad (fun v -> Expr.sum (constantVector w * Nn.layerNorm 1e-5 one zero v)) (constantVector [| 2e300; 1e300; 0.0 |]))
            expectIeee gradient expected "gradient"
        }
        test "eigh at a repeated eigenvalue: eigenvalue gradients stay V diag(c) Vᵀ, eigenvector gradients and eigenvalue second derivatives are not finite (torch: NaN/inf), never a finite wrong number" {
            // diag(1, 1, 2): the eigenvalue 1 is repeated; c equal on the pair makes V diag(c) Vᵀ = diag(c) for any basis of it
            let a = constant (tensor [| 3; 3 |] [| 1.0; 0.0; 0.0; 0.0; 1.0; 0.0; 0.0; 0.0; 2.0 |])
            let c = [| 0.5; 0.5; 3.0 |]
            let gradient = values (Diff.grad (fun m -> Expr.sum (constantVector c * Linalg.eigvalsh m)) a)
            expectIeee gradient [| 0.5; 0.0; 0.0; 0.0; 0.5; 0.0; 0.0; 0.0; 3.0 |] "eigenvalue gradient"
            let weights = constant (tensor [| 3; 3 |] [| 1.0; 2.0; -1.0; 0.5; 0.25; 3.0; -2.0; 1.5; 0.75 |])
            let vectors = values (Diff.grad (fun m -> Expr.sum (weights * snd (Linalg.eigh m))) a)
            Expect.isTrue (vectors |> Array.exists (fun v -> not (Double.IsFinite v))) (sprintf "eigenvector gradient at a repeated eigenvalue: %A" vectors)
            let direction = constant (tensor [| 3; 3 |] [| 0.3; -0.2; 0.1; 0.4; 0.7; -0.5; 0.6; 0.2; -0.1 |])
            let second = values (Diff.hvp (fun m -> Expr.sum (Expr.square (Linalg.eigvalsh m))) a direction)
            Expect.isTrue (second |> Array.exists (fun v -> not (Double.IsFinite v))) (sprintf "second derivative at a repeated eigenvalue: %A" second)
            // apart, the second derivative is the closed form: the rule is torch's, for symmetric perturbations, so it
            // differentiates Σ w² = ‖(A + Aᵀ)/2‖², whose HVP is d + dᵀ
            let apart = constant (tensor [| 3; 3 |] [| 1.0; 0.0; 0.0; 0.0; 1.5; 0.0; 0.0; 0.0; 2.0 |])
            let d = [| 0.3; -0.2; 0.1; 0.4; 0.7; -0.5; 0.6; 0.2; -0.1 |]
            let expected = Array.init 9 (fun k -> d.[k] + d.[(k % 3) * 3 + k / 3])
            expectClose 1e-10 (values (Diff.hvp (fun m -> Expr.sum (Expr.square (Linalg.eigvalsh m))) apart direction)) expected "HVP apart"
        }
        test "pad with negative widths crops, as torch's F.pad; cropping past the tensor names the op and shapes" {
            let x = constant (tensor [| 2; 4 |] [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0; 7.0; 8.0 |])
            let padded = Expr.pad [| 1; -1 |] [| -1; 2 |] x
            Expect.equal padded.Dims [| 2; 5 |] "shape"
            // rows: one zero row ahead, the last row cropped; columns: the first cropped, two zeros behind
            expectIeee (values padded) [| 0.0; 0.0; 0.0; 0.0; 0.0; 2.0; 3.0; 4.0; 0.0; 0.0 |] "values"
            let gradient = values (Diff.grad (fun y -> Expr.sum (constant (tensor [| 2; 5 |] [| 1.0 .. 10.0 |]) * Expr.pad [| 1; -1 |] [| -1; 2 |] y)) x)
            expectIeee gradient [| 0.0; 6.0; 7.0; 8.0; 0.0; 0.0; 0.0; 0.0 |] "gradient: the cotangent at each kept entry, 0 at the cropped"
            let message = Expect.throwsC (fun () -> Expr.pad [| 0; -3 |] [| 0; -2 |] x |> ignore) (fun e -> Expect.isTrue (e :? ShapeException) (e.GetType().Name); e.Message)
            Expect.stringContains message "Pad" "op"
            Expect.stringContains message "[2,4]" "shape"
        }
        test "gather and index select of a rank-0 index, as torch: one position, the index's shape" {
            let source = constantVector [| 10.0; 20.0; 30.0 |]
            let picked = Expr.gather 0 (Expr.scalar DType.Float64 2.0) source
            Expect.equal picked.Dims [||] "gather keeps the index's rank 0"
            expectIeee (values picked) [| 30.0 |] "gather"
            expectIeee (values (Diff.grad (fun y -> Expr.gather 0 (Expr.scalar DType.Float64 1.0) y) source)) [| 0.0; 1.0; 0.0 |] "gather gradient"
            let matrix = constant (tensor [| 2; 3 |] [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
            let selected = Indexing.indexSelect 1 (Expr.scalar DType.Float64 2.0) matrix
            Expect.equal selected.Dims [| 2; 1 |] "index select keeps the axis at length 1"
            expectIeee (values selected) [| 3.0; 6.0 |] "index select"
        }
        test "customVjp whose rule returns another dtype is an error naming the op and both dtypes, not a silent cast" {
            let f = Diff.customVjpNamed "halfway" (fun x -> x * 2.0) (fun _ g -> Expr.cast DType.Float32 (g * 2.0))
            let message = Expect.throwsC (fun () -> Diff.grad (fun y -> Expr.sum (f y)) (constantVector [| 1.0; 2.0 |]) |> values |> ignore) (fun e -> Expect.isTrue (e :? InvalidOperationException) (e.GetType().Name); e.Message)
            for part in [ "halfway"; "Float32"; "Float64" ] do
                Expect.stringContains message part part
        }
        test "Hessian of x1·expm1(x0) at (∞, 0): column c is H·e_c in IEEE arithmetic, so 0·H_00 = 0·NaN spreads into column 1 (the fuzzer's named convention)" {
            let f (z: Expr) = Expr.sliceAxis 0 1 2 z * Expr.expm1 (Expr.sliceAxis 0 0 1 z) |> Expr.sum
            // H = [[x1·e^x0, e^x0], [e^x0, 0]] = [[0·∞, ∞], [∞, 0]]
            let h = [| [| 0.0 * infinity; infinity |]; [| infinity; 0.0 |] |]
            let column c = Array.init 2 (fun r -> Array.init 2 (fun k -> h.[r].[k] * (if k = c then 1.0 else 0.0)) |> Array.sum)
            let expected = Array.init 4 (fun i -> (column (i % 2)).[i / 2])
            expectIeee (values (Diff.hessian f (constantVector [| infinity; 0.0 |]))) expected "Hessian by columns"
        }
        test "erf and erfc: the second derivative ∓(4/√π)·x·e^(−x²) is its limit 0 where e^(−x²) underflows (x² or x·tangent overflowing), not ∞·0" {
            let xs = [| -infinity; -1e190; -30.0; -3.0; -0.5; 0.0; 0.7; 2.0; 30.0; 1e190; infinity |]
            // the closed form with its limit written out: x·e^(−x²) is 0 wherever e^(−x²) is 0 in float64
            let xGaussian x = let e = Math.Exp(-(x * x)) in if e = 0.0 then 0.0 else x * e
            let c = 2.0 / Math.Sqrt Math.PI
            let second f = values (Diff.grad (fun y -> Expr.sum (Diff.grad (fun z -> Expr.sum (f z)) y)) (constantVector xs))
            expectIeee (second Expr.erf) (xs |> Array.map (fun x -> -2.0 * c * xGaussian x)) "erf''"
            expectIeee (second Expr.erfc) (xs |> Array.map (fun x -> 2.0 * c * xGaussian x)) "erfc''"
            // fuzz adversarial 1/297: erf(1e160·v) at v = 1e30, where the argument's tangent 1e160 meets x = 1e190
            let scaled (v: Expr) = Expr.sum (Expr.erf (v * 1e160))
            expectIeee (values (Diff.hvp scaled (constantVector [| 1e30; 0.0 |]) (constantVector [| 1.0; 1.0 |]))) [| 0.0; 0.0 |] "HVP through a huge scale"
            expectIeee (values (Diff.hessian scaled (constantVector [| 1e30; 0.0 |]))) [| 0.0; 0.0; 0.0; 0.0 |] "Hessian through a huge scale"
        }
        test "eigh of a matrix whose lower triangle holds ∞ or NaN: NaN eigenvalues, eigenvectors and derivatives, as LAPACK's (torch's); the upper triangle is not read" {
            for entry in [ infinity; -infinity; nan ] do
                let a = constant (tensor [| 2; 2 |] [| 0.0; 0.0; 0.0; entry |])
                Expect.isTrue (values (Linalg.eigvalsh a) |> Array.forall Double.IsNaN) (sprintf "eigenvalues at %g" entry)
                Expect.isTrue (values (snd (Linalg.eigh a)) |> Array.forall Double.IsNaN) (sprintf "eigenvectors at %g" entry)
                Expect.isTrue (values (Diff.grad (fun m -> Expr.sum (Linalg.eigvalsh m)) a) |> Array.forall Double.IsNaN) (sprintf "gradient at %g" entry)
            // entries whose squares overflow or underflow: [[c, c], [c, c]] has the eigenvalues 0 and 2c (fuzz adversarial 2/110)
            for c in [ 1.3e160; 1e300; 1e-170; 5e-324 ] do
                let a = constant (tensor [| 2; 2 |] [| c; c; c; c |])
                expectClose 1e-15 (values (Linalg.eigvalsh a) |> Array.map (fun v -> v / c)) [| 0.0; 2.0 |] (sprintf "[[c, c], [c, c]] at c = %g" c)
                expectClose 1e-15 (values (snd (Linalg.eigh a)) |> Array.map abs) (Array.create 4 (sqrt 0.5)) (sprintf "eigenvectors at c = %g" c)
            // only the lower triangle is read: ∞ above the diagonal leaves diag(1, 2)
            expectIeee (values (Linalg.eigvalsh (constant (tensor [| 2; 2 |] [| 1.0; infinity; 0.0; 2.0 |])))) [| 1.0; 2.0 |] "upper ∞ ignored"
        }
        test "max pool: each window's cotangent goes to torch's index, the first entry inside the input unless a later one is larger or NaN, so a window of −∞ beside its −∞ padding keeps its cotangent" {
            // torch's kernel in a reference loop: start at the window's first position inside the input, move only to a
            // strictly larger value or a NaN
            let reference (h: int) (w: int) (kh, kw) (sh, sw) (ph, pw) (dh, dw) (x: float[]) (g: float[]) =
                let ho, wo = (h + 2 * ph - dh * (kh - 1) - 1) / sh + 1, (w + 2 * pw - dw * (kw - 1) - 1) / sw + 1
                let gradient = Array.zeroCreate (h * w)
                for i in 0 .. ho - 1 do
                    for j in 0 .. wo - 1 do
                        let inside = [| for r in 0 .. kh - 1 do
                                          for c in 0 .. kw - 1 do
                                              let row, column = i * sh - ph + r * dh, j * sw - pw + c * dw
                                              if row >= 0 && row < h && column >= 0 && column < w then yield row * w + column |]
                        let mutable best = inside.[0]
                        for k in inside do
                            if x.[k] > x.[best] || Double.IsNaN x.[k] then best <- k
                        gradient.[best] <- gradient.[best] + g.[i * wo + j]
                gradient
            let cases =
                [ // fuzz adversarial 6/87: the second window covers two rows of −∞ and a row of padding
                  4, 2, (3, 3), (3, 3), (1, 1), (1, 1), [| 0.0; 0.0; 0.0; 0.0; -infinity; -infinity; -infinity; -infinity |]
                  3, 3, (2, 2), (1, 1), (1, 1), (2, 2), [| -infinity; 1.0; -infinity; -infinity; -infinity; -infinity; 2.0; -infinity; -infinity |]
                  3, 4, (3, 2), (2, 1), (1, 1), (1, 1), [| -infinity; -infinity; 3.0; 3.0; -infinity; nan; -infinity; 0.5; -infinity; -infinity; -infinity; -infinity |]
                  // two NaN in one window: the last
                  2, 2, (2, 2), (1, 1), (0, 0), (1, 1), [| nan; 1.0; nan; -infinity |]
                  // no padding: a window of −∞ only gives its first entry the cotangent (beside windows with a NaN
                  // and with a later maximum), also with dilation and overlapping windows
                  2, 6, (2, 2), (2, 2), (0, 0), (1, 1), [| -infinity; -infinity; 1.0; 2.0; -infinity; 0.5; -infinity; -infinity; 3.0; nan; -infinity; 0.5 |]
                  3, 3, (2, 2), (1, 1), (0, 0), (2, 2), [| -infinity; 1.0; -infinity; 5.0; 0.0; 2.0; -infinity; 0.0; -infinity |]
                  3, 3, (2, 2), (1, 1), (0, 0), (1, 1), [| -infinity; -infinity; 1.0; -infinity; -infinity; -infinity; 4.0; -infinity; -infinity |] ]
            for (h, w, kernel, stride, padding, dilation, x) in cases do
                let pooled = Convolution.maxPool2d kernel stride padding dilation (constant (tensor [| 1; 1; h; w |] x))
                let g = Array.init (Array.fold ( * ) 1 pooled.Shape) (fun k -> float (k + 1))
                let gradient = values (Diff.grad (fun v -> Expr.sum (constant (tensor pooled.Shape g) * Convolution.maxPool2d kernel stride padding dilation v)) (constant (tensor [| 1; 1; h; w |] x)))
                expectIeee gradient (reference h w kernel stride padding dilation x g) (sprintf "gradient, input %A" x)
        }
        test "prod and cumprod where a partial product overflows: the value, Hessian and JVP are the closed forms (products of the other entries), not ∞·0 from a factor 1 with a zero tangent" {
            // Π_{k ∉ skip} x_k, left to right in float64
            let productWithout (x: float[]) (skip: int list) = x |> Array.indexed |> Array.fold (fun p (k, v) -> if List.contains k skip then p else p * v) 1.0
            let x = [| 1e160; 1e160; 0.0 |]
            let prod (v: Expr) = Expr.prodAxes [| 0 |] false v
            // the exact product has a factor 0: 0 (torch's running product is ∞ · 0 = NaN; fuzz adversarial 3/99)
            expectIeee (values (prod (constantVector x))) [| 0.0 |] "value"
            let hessian = Array.init 9 (fun k -> let i, j = k / 3, k % 3 in if i = j then 0.0 else productWithout x [ i; j ])
            expectIeee (values (Diff.hessian prod (constantVector x))) hessian "Hessian: H_ij = Π_{k ≠ i, j} x_k"
            // cumprod [a, a, 0] (fuzz adversarial 5/115): the tangent of y_k is Σ_i t_i Π_{j ≤ k, j ≠ i} x_j
            let a = -1.4426950408889634e160
            let xs, ts = [| a; a; 0.0 |], [| -0.994899; 0.366345; 0.427202 |]
            let expected = Array.init 3 (fun k -> Array.init (k + 1) (fun i -> ts.[i] * productWithout xs.[.. k] [ i ]) |> Array.sum)
            let value, tangent = Diff.jvp (Indexing.cumprod 0) (constantVector xs) (constantVector ts)
            expectIeee (values value) [| a; a * a; 0.0 |] "cumprod value"
            expectIeee (values tangent) expected "cumprod JVP"
            // fuzz adversarial 2/12: ∞, subnormals and a 0; the gradient of entry i is the product of the others in the
            // extended reals: NaN with a NaN, or with both ∞ and 0, among them; ±∞ (their signs' product) with ∞; else a number
            let extended (others: float[]) =
                if Array.exists Double.IsNaN others || (Array.exists Double.IsInfinity others && Array.contains 0.0 others) then nan
                elif Array.exists Double.IsInfinity others then (others |> Array.fold (fun p v -> p * float (sign v)) 1.0) * infinity
                else Array.fold (fun p v -> p * v) 1.0 others
            let mixed = [| infinity; -1e-310; 1e-38; -1e-310; -1e-30; -1e-310; 0.0; -0.6259890728910767; -1e-310 |]
            let g = -0.290667
            let gradient = values (Diff.grad (fun v -> Expr.prodAxes [| 0 |] false v * g) (constantVector mixed))
            expectIeee gradient (Array.init mixed.Length (fun i -> g * extended (Array.removeAt i mixed))) "gradient of a product of ∞, subnormals and 0"
            // the value of a product of ∞ and nonzero entries whose partial products underflow: ±∞, along the last axis and
            // along an outer one (each column of a [9, 2] matrix)
            let nonzero = [| infinity; -1e-310; 1e-38; -1e-310; -1e-30; -1e-310; -5e-324; -0.6259890728910767; -1e-310 |]
            expectIeee (values (Expr.prodAxes [| 0 |] false (constantVector nonzero))) [| extended nonzero |] "product along the axis"
            let columns = constant (tensor [| 9; 2 |] (nonzero |> Array.collect (fun v -> [| v; -v |])))
            expectIeee (values (Expr.prodAxes [| 0 |] false columns)) [| extended nonzero; extended (Array.map (~-) nonzero) |] "products down the columns"
        }
        test "sums and means of −0 entries are +0, as a running sum from +0 (torch's), over one entry or many, in both dtypes; a one-class cross-entropy is +0" {
            // the sign of a zero shows in its reciprocal
            let reciprocal (e: Expr) = 1.0 / (values e).[0]
            for dtype in [ DType.Float64; DType.Float32 ] do
                for n in [ 1; 2; 5 ] do
                    let zeros = Array.create n -0.0
                    let x = Expr.cast dtype (constantVector zeros)
                    let expected = 1.0 / Array.fold (+) 0.0 zeros
                    Expect.equal (reciprocal (Expr.sum x)) expected (sprintf "sum of %d × −0 (%A)" n dtype)
                    Expect.equal (reciprocal (Expr.sumAxes [| 0 |] true x)) expected (sprintf "sum keeping the axis, %d × −0 (%A)" n dtype)
                    Expect.equal (reciprocal (Expr.meanAxes [| 0 |] false x)) expected (sprintf "mean of %d × −0 (%A)" n dtype)
                // cross-entropy over one class: each term is log-softmax x − x = +0, subtracted from a running +0 (fuzz adversarial 5/256)
                let logits = Expr.cast dtype (constant (tensor [| 2; 1 |] [| 0.0; 0.0 |]))
                Expect.equal (reciprocal (Nn.crossEntropy logits (constantVector [| 0.0; 0.0 |]))) infinity (sprintf "cross-entropy (%A)" dtype)
            // the gradient of a sum over a size-1 axis is still g
            expectIeee (values (Diff.grad (fun v -> Expr.sum (Expr.sumAxes [| 1 |] false v * constantVector [| 2.0; -3.0 |])) (constant (tensor [| 2; 1 |] [| -0.0; 4.0 |])))) [| 2.0; -3.0 |] "gradient"
        }
        test "atan2's derivatives b/(a² + b²) and −a/(a² + b²) where a² overflows or underflows, and its Hessian through a huge scale, are numbers, not ∞·0" {
            let grad a b = values (Diff.grad (fun v -> Expr.sum (Expr.atan2 (Expr.sliceAxis 0 0 1 v) (Expr.sliceAxis 0 1 2 v))) (constantVector [| a; b |]))
            // ordinary points: the closed form as written
            for a, b in [ 0.3, 0.7; -2.0, 1.5; 0.0, -1.0 ] do
                expectClose 1e-15 (grad a b) [| b / (a * a + b * b); -a / (a * a + b * b) |] (sprintf "atan2 at (%g, %g)" a b)
            // a = 1e160, b = 0.5: a² + b² is a² to double precision, so b/a² and −1/a
            expectIeee (grad 1e160 0.5) [| 0.5 / 1e160 / 1e160; -1.0 / 1e160 |] "a = 1e160"
            // a = 1e-200, b = 3e-200: a² + b² = 10·1e-400, below the subnormals
            expectIeee (grad 1e-200 3e-200) [| 0.3e200; -0.1e200 |] "a, b near 1e-200"
            // fuzz all adversarial 46/216: a² + b² underflows to 0 away from the origin; b/(a² + b²) = 0 at b = 0, and
            // −a/(a² + b²) = −1/a, finite at a = 1e-170 and beyond float64 (+∞) at a = −5e-324
            expectIeee (grad 1e-170 0.0) [| 0.0; -1e170 |] "a = 1e-170, b = 0"
            expectIeee (grad -5e-324 0.0) [| 0.0; infinity |] "a = −5e-324, b = 0"
            expectIeee (grad 0.0 -5e-324) [| -infinity; 0.0 |] "a = 0, b = −5e-324"
            // at the origin torch's 0, at an infinite a b/∞ = 0 and −∞/∞ = NaN, as torch
            expectIeee (grad 0.0 0.0) [| 0.0; 0.0 |] "origin"
            expectIeee (grad infinity 2.0) [| 0.0; nan |] "a = ∞"
            // fuzz adversarial 5/203: d²/ds² atan2(s·w, b) = −2s·w³·b/(s²w² + b²)², −1/w at s = 1, b = 1/2 (w² ≫ b²)
            let scaled (s: Expr) = Expr.sum (Expr.atan2 (s * 1e160) (Expr.scalar DType.Float64 0.5))
            expectClose 1e-12 (values (Diff.hessian scaled (constantVector [| 1.0 |]))) [| -1e-160 |] "Hessian through w = 1e160"
        }
        test "gelu beyond ±40 is x or 0 with slope 1 or 0, so an infinite cotangent or a huge tangent gives g·gelu′ (torch's fused rule), not ∞·0" {
            let xs = [| -1e300; -710.0; -40.5; 40.5; 710.0; 1e300 |]
            expectIeee (values (Activations.gelu (constantVector xs))) (xs |> Array.map (fun x -> if x > 0.0 then x else 0.0)) "values"
            expectIeee (values (Diff.grad (fun v -> Expr.sum (Activations.gelu v)) (constantVector xs))) (xs |> Array.map (fun x -> if x > 0.0 then 1.0 else 0.0)) "slopes"
            // fuzz adversarial 4/261: exp(gelu(x)) at 710, gradient e^710 · 1 = ∞
            expectIeee (values (Diff.grad (fun v -> Expr.sum (Expr.exp (Activations.gelu v))) (constantVector [| 710.0; 0.0 |]))) [| infinity; 0.5 |] "∞ cotangent"
            // fuzz adversarial 3/173: the tangent 1e160 at x = −1e160 gives 1e160 · gelu′(−1e160) = 0
            let _, tangent = Diff.jvp Activations.gelu (constantVector [| -1e160; 1.0 |]) (constantVector [| 1e160; 0.0 |])
            expectIeee (values tangent) [| 0.0; 0.0 |] "huge tangent"
        }
        test "a ** b with a tensor exponent: the Hessian at a = 0 is the closed form b(b-1)a^(b-2) where b is 1 or 2 (0 and 2), not 0·∞ from forward mode's transposed mask" {
            // fuzz 1/1103: x^c for a constant [1,1] tensor c = 1 at x = 0, whose Hessian torch's double backward gives as 0
            let power (b: float) (x: Expr) = Expr.sum (x ** constant (tensor [| 2 |] [| b; b |]))
            let at0 = constantVector [| 0.0; 0.5 |]
            expectIeee (values (Diff.hessian (power 1.0) at0)) [| 0.0; 0.0; 0.0; 0.0 |] "b = 1"
            expectIeee (values (Diff.hessian (power 2.0) at0)) [| 2.0; 0.0; 0.0; 2.0 |] "b = 2"
            let _, tangent = Diff.jvp (Diff.grad (power 1.0)) at0 (constantVector [| 1.0; 1.0 |])
            expectIeee (values tangent) [| 0.0; 0.0 |] "JVP of the gradient, b = 1"
        }
        test "the inverse of a singular matrix raises an ArgumentException naming Inverse and the shape" {
            let singular = constant (tensor [| 2; 2 |] [| 1.0; 2.0; 2.0; 4.0 |])
            let message = Expect.throwsC (fun () -> Eval.eval (Linalg.inverse singular) |> ignore) (fun e -> Expect.isTrue (e :? ArgumentException) (e.GetType().Name); e.Message)
            Expect.stringContains message "Inverse" "op"
            Expect.stringContains message "[2,2]" "shape"
        }
        test "sigmoid's derivative is one factor σ′(x) = σ(x)σ(−x), exact at every magnitude, and an infinite cotangent gives ±∞ at second order (c·σ″), not ∞ − ∞ (fuzz 2/99)" {
            // closed forms from 1/(2 + e^x + e^−x), a sum of positive terms, so nothing cancels at any magnitude
            let slope (x: float) = 1.0 / (2.0 + Math.Exp x + Math.Exp(-x))
            let curvature (x: float) = slope x * (1.0 - 2.0 * logistic x)
            let xs = [| -infinity; -800.0; -40.0; -3.0; 0.0; 0.5; 3.0; 30.0; 40.0; 89.0; 700.0; infinity |]
            let first = values (Diff.grad (fun v -> Expr.sum (Expr.sigmoid v)) (constantVector xs))
            let second = values (Diff.grad (fun v -> Expr.sum (Diff.grad (fun w -> Expr.sum (Expr.sigmoid w)) v)) (constantVector xs))
            for i in 0 .. xs.Length - 1 do
                // relative to the closed form itself: σ′(89) is 2.2e-39, where y(1 − y) was 0
                for name, actual, expected in [ "σ′", first.[i], slope xs.[i]; "σ″", second.[i], curvature xs.[i] ] do
                    if not (actual = expected || abs (actual - expected) <= 1e-13 * abs expected) then
                        failtestf "%s at %g: %.17g, closed form %.17g" name xs.[i] actual expected
            // central differences of the gradient in float64 at ordinary points
            let ordinary = [| -3.0; -0.4; 0.5; 2.0 |]
            let numeric = (numericGradient (fun vs -> Expr.sum (Diff.grad (fun w -> Expr.sum (Expr.sigmoid w)) vs.[0])) [ tensor [| 4 |] ordinary ]).[0]
            expectClose 1e-8 (values (Diff.grad (fun v -> Expr.sum (Diff.grad (fun w -> Expr.sum (Expr.sigmoid w)) v)) (constantVector ordinary))) numeric "σ″ by central differences"
            // c·σ(x) with an infinite c: its Hessian is c·σ″(x), ±∞ wherever σ″ is not 0, by both modes
            let cs = [| infinity; -infinity; infinity; -infinity; infinity |]
            let at = [| 1.07; 1.07; -2.0; 30.0; 89.0 |]
            let f (v: Expr) = Expr.sum (constantVector cs * Expr.sigmoid v)
            let expected = Array.map2 (fun c x -> c * curvature x) cs at
            let ones = constantVector (Array.create at.Length 1.0)
            expectIeee (values (Diff.hvp f (constantVector at) ones)) expected "forward over reverse"
            expectIeee (values (Diff.grad (fun v -> Expr.sum (Diff.grad f v * ones)) (constantVector at))) expected "reverse over reverse"
        }
        test "sigmoid's slope kernel over long runs in both dtypes is the closed form 1/(2 + e^x + e^−x) to a few ulps, at every magnitude" {
            // long enough for the vector kernels and their tails (and the parallel split of a large run)
            let xs = Array.init 70001 (fun i -> -100.0 + 200.0 * float i / 70000.0)
            let closed (x: float) = 1.0 / (2.0 + Math.Exp x + Math.Exp(-x))
            for dtype, tolerance in [ DType.Float64, 1e-13; DType.Float32, 1e-6 ] do
                let input = Tensor.FromArray(xs, [| xs.Length |]).Cast dtype
                let got = (Eval.eval (Expr.sigmoidSlope (Expr.constant input))).ToDoubleArray()
                let rounded = input.ToDoubleArray()
                for i in 0 .. xs.Length - 1 do
                    let expected = closed rounded.[i]
                    // float32 underflows below about 1.2e-38 (|x| above 87): compare there to its smallest normal
                    let scale = if dtype = DType.Float32 then max (abs expected) 1.2e-38 else abs expected
                    if abs (got.[i] - expected) > tolerance * scale then
                        failtestf "%A σ′ at %.9g: %.17g, closed form %.17g" dtype rounded.[i] got.[i] expected
                // in a compiled gradient too (a version of the kernel that wrote y before it had read all of x, wrong
                // where a plan runs it in place, was caught by FuzzTests' `fuzz 13/122`, maximum then sigmoid, not here)
                let shifted = (Eval.eval (Expr.add (Expr.constant input) (Expr.scalar dtype 1.0))).ToDoubleArray()
                let compiled = Compile.compile (fun p -> [| Diff.grad (fun z -> Expr.sum (Expr.sigmoid (Expr.add z (Expr.scalar dtype 1.0)))) p.[0] |])
                let inPlace = (compiled.Invoke(input)).[0].ToDoubleArray()
                for i in 0 .. xs.Length - 1 do
                    let expected = closed shifted.[i]
                    let scale = if dtype = DType.Float32 then max (abs expected) 1.2e-38 else abs expected
                    if abs (inPlace.[i] - expected) > tolerance * scale then
                        failtestf "%A σ′ in place at %.9g: %.17g, closed form %.17g" dtype shifted.[i] inPlace.[i] expected
        }
        test "binary cross-entropy from logits: torch's fused derivatives g·(σ(x) − t) and −g·x, ±∞ under an infinite cotangent, not ∞ − ∞ (fuzz 2/99)" {
            let logits = [| infinity; 3.0; -2.0; 0.0; 1e300 |]
            let targets = [| 0.3; 0.7; 0.2; 0.5; 0.25 |]
            let gs = [| infinity; -infinity; infinity; 1.0; 2.0 |]
            let _, pullback = Diff.vjp2 Nn.binaryCrossEntropyWithLogitsElements (constantVector logits, constantVector targets)
            let gLogits, gTargets = pullback (constantVector gs)
            // in IEEE arithmetic: the closed forms, evaluated here
            expectIeee (values gLogits) (Array.map2 (fun g (x, t) -> g * (logistic x - t)) gs (Array.zip logits targets)) "logits"
            expectIeee (values gTargets) (Array.map2 (fun g x -> -(g * x)) gs logits) "targets"
        }
        test "Hessian and HVP by forward over reverse keep pow's masks outside the tangent's products: (x^c)² at x = +∞, c = 1, has the closed-form Hessian 2, not ∞·0 (fuzz 1/1103)" {
            // c a constant tensor (not a broadcast scalar), so pow's masks are built, not folded away
            let c = constantVector [| 1.0; 1.0; 2.0; 0.5 |]
            let f (v: Expr) = Expr.sum (Expr.square (v ** c))
            let at = [| infinity; 0.0; 1.5; 4.0 |]
            // d²/dx² of x^(2c): 2c(2c − 1)·x^(2c − 2), which is 2 for c = 1 at every x, ∞ included
            let expected = Array.map2 (fun c x -> 2.0 * c * (2.0 * c - 1.0) * Math.Pow(x, 2.0 * c - 2.0)) [| 1.0; 1.0; 2.0; 0.5 |] at
            let hessian = values (Diff.hessian f (constantVector at))
            let diagonal = Array.init at.Length (fun i -> hessian.[i * at.Length + i])
            expectIeee diagonal expected "Hessian diagonal"
            let offDiagonal = hessian |> Array.indexed |> Array.filter (fun (k, _) -> k / at.Length <> k % at.Length) |> Array.map snd
            expectIeee offDiagonal (Array.zeroCreate offDiagonal.Length) "Hessian off the diagonal"
            let ones = constantVector (Array.create at.Length 1.0)
            expectIeee (values (Diff.hvp f (constantVector at) ones)) expected "HVP"
            expectIeee (values (Diff.grad (fun v -> Expr.sum (Diff.grad f v * ones)) (constantVector at))) expected "reverse over reverse"
        }
        test "elu keeps the sign of a zero, α·expm1(±0) = ±0 as IEEE's expm1, with slope α there and curvature 0 (fuzz 5/879)" {
            let xs = [| -0.0; 0.0; -1.5; 2.0 |]
            for alpha in [ 1.0; 0.5; -2.0 ] do
                let y = values (Activations.elu alpha (constantVector xs))
                // the closed form α·(e^x − 1) below and at 0, x above; signs of zeros compared through 1/y
                let expected = xs |> Array.map (fun x -> if x <= 0.0 then alpha * (if x = 0.0 then x else Math.Exp x - 1.0) else x)
                expectIeee (Array.map (fun v -> 1.0 / v) y.[0 .. 1]) (Array.map (fun v -> 1.0 / v) expected.[0 .. 1]) (sprintf "signs of zeros, α = %g" alpha)
                expectIeee y expected (sprintf "values, α = %g" alpha)
                let slope = values (Diff.grad (fun v -> Expr.sum (Activations.elu alpha v)) (constantVector xs))
                expectIeee slope [| alpha; alpha; alpha * Math.Exp -1.5; 1.0 |] (sprintf "slopes, α = %g" alpha)
        }
        test "elu, selu and celu far below 0 have the slope α·eˣ, not the 0 of expm1(x) + 1, so an infinite cotangent gives ∞ (fuzz adversarial 3/30)" {
            // selu's constants (torch's), and the closed forms: d/dx scale·α·(eˣ − 1) = scale·α·eˣ, celu's α·e^(x/α)/α·α
            let seluAlpha, seluScale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
            let xs = [| -40.0; -89.0; -700.0 |]
            for name, f, slope in [ "elu", Activations.elu 1.3, (fun x -> 1.3 * Math.Exp x)
                                    "selu", Activations.selu, (fun x -> seluScale * seluAlpha * Math.Exp x)
                                    "celu", Activations.celu 2.0, (fun x -> Math.Exp(x / 2.0)) ] do
                let g = values (Diff.grad (fun v -> Expr.sum (f v)) (constantVector xs))
                for i in 0 .. xs.Length - 1 do
                    let expected = slope xs.[i]
                    Expect.isGreaterThan expected 0.0 "the closed form is positive"
                    Expect.floatClose Accuracy.veryHigh g.[i] expected (sprintf "%s's slope at %g" name xs.[i])
            // float32: x₁·selu(x₀) at x₀ = −89, x₁ = +∞: the slope 3.9e-39 is a float32 subnormal, the gradient in x₀ is +∞
            let x1 = Expr.constant (Tensor.FromArray([| Single.PositiveInfinity; 2.0f |], [| 2 |]))
            let at = Expr.constant (Tensor.FromArray([| -89.0f |], [| 1 |]))
            let g32 = (Eval.eval (Diff.grad (fun v -> Expr.sum (x1 * Activations.selu v)) at)).ToSingleArray()
            Expect.equal g32.[0] Single.PositiveInfinity "the gradient through an infinite factor"
            let slope32 = (Eval.eval (Diff.grad (fun v -> Expr.sum (Activations.selu v)) at)).ToSingleArray()
            Expect.floatClose Accuracy.high (float slope32.[0]) (seluScale * seluAlpha * Math.Exp -89.0) "the float32 slope, a subnormal"
            // the second derivative is scale·α·eˣ again
            let curvature = values (Diff.grad (fun v -> Expr.sum (Diff.grad (fun w -> Expr.sum (Activations.selu w)) v)) (constantVector xs))
            for i in 0 .. xs.Length - 1 do
                Expect.floatClose Accuracy.veryHigh curvature.[i] (seluScale * seluAlpha * Math.Exp xs.[i]) (sprintf "selu's curvature at %g" xs.[i])
        }
        test "logsumexp beside +∞: the value is +∞ and a finite entry's derivative is e^(x − ∞) = 0 however large it is, not ∞/∞ (fuzz adversarial 9/109)" {
            let rows = tensor [| 2; 3 |] [| 0.0; 10000.0; infinity; 1.0; 2.0; 3.0 |]
            expectIeee (values (Nn.logSumExp [| 1 |] false (constant rows))) [| infinity; 3.0 + Math.Log(Math.Exp -2.0 + Math.Exp -1.0 + 1.0) |] "values"
            let gradient = values (Diff.grad (fun v -> Expr.sum (Nn.logSumExp [| 1 |] false v)) (constant rows))
            // softmax weights e^(x − lse): 0 for the finite entries of the first row, ∞ − ∞ = NaN at the +∞
            let total = Math.Exp 1.0 + Math.Exp 2.0 + Math.Exp 3.0
            expectIeee gradient [| 0.0; 0.0; nan; Math.Exp 1.0 / total; Math.Exp 2.0 / total; Math.Exp 3.0 / total |] "gradient"
        }
        // away from the edges the custom rule is the derivative of the same function, at both orders
        firstOrderTest 41 { Name = "binary cross-entropy from logits: gradient by central differences"; Shapes = [ [| 5 |]; [| 5 |] ]; Domain = Normal
                            F = fun xs -> Nn.binaryCrossEntropyWithLogits xs.[0] xs.[1] }
        secondOrderTest 43 { Name = "binary cross-entropy from logits: Hessian-vector products by central differences"; Shapes = [ [| 5 |]; [| 5 |] ]; Domain = Normal
                             F = fun xs -> Nn.binaryCrossEntropyWithLogits xs.[0] xs.[1] }
    ]
