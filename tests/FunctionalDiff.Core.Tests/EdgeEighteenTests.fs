/// Regression specifications for what branch edges18 fixed among the fuzzer's open findings: pow's rule lets the exponent
/// meet a power below 1 in magnitude before the cotangent, so a cotangent that already holds a huge exponent does not
/// overflow before the underflowed power meets it.
module FunctionalDiff.Core.Tests.EdgeEighteenTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// s·e^l with the logarithm l of a product's magnitude summed in float64, so no factor overflows or underflows before the
/// product does: the closed form of a product of huge and tiny factors.
let private signedExp (sign: float) (logMagnitude: float) = sign * exp logMagnitude

/// f(a, b) = Σ u·a^b over one vector holding a, then b; its gradient by the closed form, in plain float64.
let private powGradient (u: float[]) (z: float[]) =
    let n = u.Length
    Array.init (2 * n) (fun k ->
        let i = k % n
        let a, b = z.[i], z.[n + i]
        if k < n then u.[i] * b * a ** (b - 1.0) else u.[i] * a ** b * log a)

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings (edges18)" [
        test "the second derivative of x^c at c = −3.3e159 is the closed form: 0 where x^(c−2) underflows, ±∞ where it does not (fuzz all adversarial 58/77)" {
            // the shrunk program x^c with u and v as the fuzzer drew them, and x = 0.5 beside it, where x^(c−2) overflows.
            // The closed form u·c·(c − 1)·x^(c−2)·v, by logarithms: c(c − 1) = 1.1e319 alone overflows, x^(c−2) alone
            // underflows at x > 1
            let c = -3.3333333333333334E+159
            let xs = [| 2.3237543936564062; 4.4896128191743455E+38; 1.0; 0.5 |]
            let u = [| 0.512649; -0.886013; 0.477894; 0.3 |]
            let v = [| 0.250923; -0.256004; -0.0674314; -0.8 |]
            let f (x: Expr) = Expr.sum (constantVector u * (x ** constantVector (Array.create xs.Length c)))
            let first = Array.init xs.Length (fun i -> signedExp (float (sign u.[i]) * -1.0) (log (abs u.[i]) + log -c + (c - 1.0) * log xs.[i]))
            let second =
                Array.init xs.Length (fun i -> signedExp (float (sign u.[i] * sign v.[i])) (log (abs u.[i] * abs v.[i]) + log -c + log (1.0 - c) + (c - 2.0) * log xs.[i]))
            Expect.equal second [| 0.0; 0.0; -infinity; -infinity |] "the closed form: 0 twice, then −∞ at x = 1 (c(c − 1) overflows) and at 0.5"
            let x = constantVector xs
            expectIeee (values (Diff.grad f x)) first "gradient"
            let along (y: Expr) = Expr.sum (Diff.grad f y * constantVector v)
            expectIeee (values (Diff.grad along x)) second "reverse over reverse (the fuzzer's second order)"
            let diagonal = Array.init xs.Length (fun i -> signedExp (float (sign u.[i])) (log (abs u.[i]) + log -c + log (1.0 - c) + (c - 2.0) * log xs.[i]))
            let hessian = values (Diff.hessian f x)
            expectIeee (Array.init xs.Length (fun i -> hessian.[i * xs.Length + i])) diagonal "Hessian (forward over reverse), diagonal"
            expectIeee (values (Diff.hvp f x (constantVector v))) second "HVP"
        }
        test "the Hessian of u·(a^b − a^b) is still 0 where b(b − 1) overflows, at a = 1 and where a^(b−1) underflows (fuzz all adversarial 44/87)" {
            let b = constantVector [| -1e300; -1e300; -1e300 |]
            let u = constantVector [| -0.591309; -0.275586; 0.8 |]
            let g (a: Expr) = let p = a ** b in Expr.sum (u * (p - p))
            let a = constantVector [| 1.0; 2.5; 1e10 |]
            Expect.equal (values (Diff.hessian g a)) (Array.zeroCreate 9) "Hessian"
            let along (y: Expr) = Expr.sum (Diff.grad g y * constantVector [| 0.3; -0.7; 1.1 |])
            Expect.equal (values (Diff.grad along a)) [| 0.0; 0.0; 0.0 |] "reverse over reverse"
        }
        test "pow's first and second derivatives in base and exponent are the closed form's, where |a^(b−1)| is below 1 and above it (central differences)" {
            // a^(b−1) is 11.3, 0.77, 9, 0.93, 0.0016, 1.9 at these points: both orders of the rule's products
            let a = [| 0.5; 1.7; 3.0; 0.9; 4.0; 0.6 |]
            let b = [| -2.5; 0.5; 3.0; 1.7; -3.6; -0.25 |]
            let u = [| 1.5; -0.5; 2.0; 0.25; -1.2; 0.7 |]
            let n = a.Length
            let f (z: Expr) = Expr.sum (constantVector u * (Expr.sliceAxis 0 0 n z ** Expr.sliceAxis 0 n (2 * n) z))
            let z = Array.append a b
            expectClose 1e-13 (values (Diff.grad f (constantVector z))) (powGradient u z) "gradient: the closed form"
            // the Hessian's columns: central differences of the closed-form gradient in float64
            let step = 1e-6
            let columns =
                Array.init (2 * n) (fun k ->
                    let shifted delta = z |> Array.mapi (fun i v -> if i = k then v + delta else v)
                    Array.map2 (fun p m -> (p - m) / (2.0 * step)) (powGradient u (shifted step)) (powGradient u (shifted -step)))
            let expected = Array.init (4 * n * n) (fun e -> columns.[e % (2 * n)].[e / (2 * n)])
            expectClose 1e-6 (values (Diff.hessian f (constantVector z))) expected "Hessian (forward over reverse)"
            let t = Array.init (2 * n) (fun i -> 0.3 * float (i % 5) - 0.55)
            let along (y: Expr) = Expr.sum (Diff.grad f y * constantVector t)
            let product = Array.init (2 * n) (fun i -> Array.fold2 (fun s (column: float[]) w -> s + column.[i] * w) 0.0 columns t)
            expectClose 1e-6 (values (Diff.grad along (constantVector z))) product "reverse over reverse"
        }
        test "lerp with a constant weight: the JVP is (1 − w)·ṡ + w·ė, with no 0·∞ from the weight's slope end − start = ∞ (fuzz all adversarial 60/272)" {
            // the shrunk program: lerp(x₀, x₁, 0) at x₀ = 0, x₁ = +∞ (the value is 0 + 0·∞ = NaN, torch's form); beside it
            // w = 0.3 and 0.8 at finite operands (both of lerp's forms)
            for w, start, finish in [ 0.0, [| 0.0; 0.0 |], [| infinity; infinity |]; 0.3, [| 1.5; -2.0 |], [| 4.0; 0.5 |]; 0.8, [| 1.5; -2.0 |], [| 4.0; 0.5 |] ] do
                let weight = Expr.constant (Tensor.FromArray([| w |], [| 1; 1 |]))
                let f (xs: Expr list) = Elementary.lerp xs.[0] xs.[1] weight
                let ds, de = [| 0.919327; -0.655215 |], [| 0.433699; 0.772551 |]
                let _, tangent = Diff.jvpN f [ constantVector start; constantVector finish ] [ constantVector ds; constantVector de ]
                expectIeee (values tangent) (Array.map2 (fun s e -> (1.0 - w) * s + w * e) ds de) (sprintf "JVP at w = %g" w)
        }
    ]
