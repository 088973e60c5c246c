/// Regression specifications for what branch edges17 fixed among the fuzzer's open `--ops all` adversarial findings of
/// seeds 52 to 56: solve's infinite right-hand side is the closed form A⁻¹b, and xlogy's slope in x at x = 0 is log y.
module FunctionalDiff.Core.Tests.EdgeSeventeenTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// A⁻¹ by Gauss-Jordan elimination with partial pivoting, a plain reference loop.
let private inverse (a: float[][]) =
    let n = a.Length
    let m = Array.init n (fun i -> Array.append (Array.copy a.[i]) (Array.init n (fun j -> if i = j then 1.0 else 0.0)))
    for c in 0 .. n - 1 do
        let best = [| c .. n - 1 |] |> Array.maxBy (fun r -> abs m.[r].[c])
        let saved = m.[c]
        m.[c] <- m.[best]
        m.[best] <- saved
        let pivot = m.[c].[c]
        m.[c] <- m.[c] |> Array.map (fun v -> v / pivot)
        for r in 0 .. n - 1 do
            if r <> c then
                let factor = m.[r].[c]
                m.[r] <- Array.map2 (fun v p -> v - factor * p) m.[r] m.[c]
    Array.init n (fun i -> Array.sub m.[i] n n)

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges17)" [
        test "solve against right-hand sides holding ±∞ is A⁻¹b, each infinity's term counted where A⁻¹ reaches it: ±∞ in every unknown of a dense A, no ∞ − ∞ from the back substitution (fuzz all adversarial 55/168)" {
            // the shrunk program: solve(A, B) with a dense, well-conditioned A (every entry of A⁻¹ nonzero); columns 0 to 2
            // of B hold one −∞ or +∞ each (in row 3), column 3 four infinities of both signs
            let a = [| [| 5.02337; 1.0; -1.0; -1.0 |]; [| 1.0; 6.0; -1.0; -1.0 |]; [| -1.0; -1.0; 6.0; 1.0 |]; [| -1.0; -1.0; 1.0; 6.0 |] |]
            let b =
                [| [| 0.023374282; 1528.865; -13.454012; -infinity |]; [| 1528.865; 1e8; -880000.0; -infinity |]
                   [| -13.454012; -880000.0; 7744.0; infinity |]; [| -infinity; -infinity; infinity; infinity |] |]
            let inv = inverse a
            Expect.isTrue (inv |> Array.forall (Array.forall (fun v -> v <> 0.0))) "A⁻¹ is dense"
            let expected =
                [| for i in 0 .. 3 do
                     for c in 0 .. 3 do
                         let mutable sum = 0.0
                         for k in 0 .. 3 do
                             if inv.[i].[k] <> 0.0 then sum <- sum + inv.[i].[k] * b.[k].[c]
                         yield sum |]
            // the closed form: columns 0 to 2 are sign(A⁻¹[i, 3])·(∓∞) in every unknown
            for i in 0 .. 3 do
                for c in 0 .. 2 do
                    Expect.equal expected.[i * 4 + c] (float (Math.Sign inv.[i].[3]) * b.[3].[c]) "the reference's infinite columns"
            let solved = values (Linalg.solve (constant (tensor [| 4; 4 |] (Array.concat a))) (constant (tensor [| 4; 4 |] (Array.concat b))))
            expectIeee solved expected "float64"
            let single = Linalg.solve (Expr.constant (Tensor.FromArray(Array.concat a |> Array.map float32, [| 4; 4 |])))
                                      (Expr.constant (Tensor.FromArray(Array.concat b |> Array.map float32, [| 4; 4 |])))
            let infiniteOrNaN = expected |> Array.map (fun v -> if Double.IsFinite v then 0.0 else v)
            let singleValues = (Eval.eval single).ToDoubleArray() |> Array.map (fun v -> if Double.IsFinite v then 0.0 else v)
            expectIeee singleValues infiniteOrNaN "float32: the same infinities and NaN"
            // a finite column beside them is the ordinary solve (A⁻¹b with no infinity)
            let finite = values (Linalg.solve (constant (tensor [| 4; 4 |] (Array.concat a))) (constantVector [| 1.0; -2.0; 0.5; 3.0 |]))
            let plain = Array.init 4 (fun i -> Array.fold2 (fun s v w -> s + v * w) 0.0 inv.[i] [| 1.0; -2.0; 0.5; 3.0 |])
            expectClose 1e-13 finite plain "finite"
        }
        test "xlogy's slope in x is log y at x = 0 too: +∞ at y = +∞, where the value is 0 (fuzz all adversarial 55/154); its derivatives elsewhere are the closed form's" {
            // f(x, y) = Σ u·xlogy(x, y): ∂f/∂x = u·log y (0 where x = 0 and y <= 0), ∂f/∂y = u·x/y; ∂²f/∂x∂y = u/y (0 where
            // x = 0 and y <= 0), ∂²f/∂y² = −u·x/y², ∂²f/∂x² = 0. xlogy(x, +∞) is +∞·sign x and 0 at x = 0: the difference
            // quotient in x at 0 is +∞ from both sides
            let xs = [| 0.0; 0.0; 2.0; 0.7; 0.0 |]
            let ys = [| infinity; 3.0; infinity; 1.9; -0.5 |]
            let u = [| 1.5; -0.5; 2.0; 0.25; -1.0 |]
            let n = xs.Length
            let f (z: Expr) = Expr.sum (constantVector u * Elementary.xlogy (Expr.sliceAxis 0 0 n z) (Expr.sliceAxis 0 n (2 * n) z))
            let z = constantVector (Array.append xs ys)
            expectIeee (values (Elementary.xlogy (constantVector xs) (constantVector ys))) [| 0.0; 0.0; infinity; 0.7 * log 1.9; 0.0 |] "value"
            let flat i = xs.[i] = 0.0 && ys.[i] <= 0.0
            let gradX = Array.init n (fun i -> if flat i then 0.0 else u.[i] * log ys.[i])
            let gradY = Array.init n (fun i -> u.[i] * xs.[i] / ys.[i])
            Expect.equal gradX.[0] infinity "the closed form's slope at x = 0, y = +∞"
            expectIeee (values (Diff.grad f z)) (Array.append gradX gradY) "gradient"
            let t = [| 0.5; -1.0; 0.25; 2.0; 1.0; 0.3; -0.7; 1.1; -0.4; 0.9 |]
            let tangent = Array.fold2 (fun s g v -> s + g * v) 0.0 (Array.append gradX gradY) t
            expectIeee [| values (snd (Diff.jvp f z (constantVector t))) |> Array.exactlyOne |] [| tangent |] "JVP: +∞ through t·log ∞"
            let hessian = values (Diff.hessian f z)
            let expected =
                Array.init (4 * n * n) (fun k ->
                    let r, c = k / (2 * n), k % (2 * n)
                    let i = r % n
                    if r % n <> c % n then 0.0
                    elif r < n && c < n then 0.0
                    elif r < n || c < n then (if flat i then 0.0 else u.[i] / ys.[i])
                    else -u.[i] * xs.[i] / (ys.[i] * ys.[i]))
            expectIeee hessian expected "Hessian"
        }
    ]
