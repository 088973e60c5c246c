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
            let message = (Expect.throwsC (fun () -> Expr.pad [| 0; -3 |] [| 0; -2 |] x |> ignore) (fun e -> e.Message))
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
            let message = Expect.throwsC (fun () -> Diff.grad (fun y -> Expr.sum (f y)) (constantVector [| 1.0; 2.0 |]) |> values |> ignore) (fun e -> e.Message)
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
        test "the inverse of a singular matrix raises an ArgumentException naming Inverse and the shape" {
            let singular = constant (tensor [| 2; 2 |] [| 1.0; 2.0; 2.0; 4.0 |])
            let message = Expect.throwsC (fun () -> Eval.eval (Linalg.inverse singular) |> ignore) (fun e -> Expect.isTrue (e :? ArgumentException) (e.GetType().Name); e.Message)
            Expect.stringContains message "Inverse" "op"
            Expect.stringContains message "[2,2]" "shape"
        }
    ]
