/// Regression specifications for what the differential fuzzer found at the edges (infinite, NaN
/// and exact-zero inputs), each against torch's documented semantics written out as closed forms
/// here, or IEEE arithmetic evaluated element by element.
module FunctionalDiff.Core.Tests.EdgeFuzzFindingsTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

[<Tests>]
let tests =
    testList "Graph.Edge fuzz findings" [
        test "relu: torch masks by the output, so its slope at NaN is 1 at first and second order (relu(x)² has HVP 2uv there)" {
            let x = [| nan; 0.0; -1.0; 2.0 |]
            let u = [| -1.25; 0.5; 0.75; 1.5 |]
            let v = [| -0.5; 0.25; 2.0; 3.0 |]
            let f (y: Expr) = Expr.sum (constantVector u * Expr.square (Expr.relu y))
            // slope s = 1 where relu x is NaN or positive, 0 where it is <= 0
            let slope = x |> Array.map (fun t -> if t <= 0.0 then 0.0 else 1.0)
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Expr.relu y)) (constantVector x))) slope "gradient of relu"
            // d²/dx² u (relu x)² = 2 u s²
            let expected = Array.init 4 (fun i -> 2.0 * u.[i] * slope.[i] * slope.[i] * v.[i])
            expectIeee (values (Diff.hvp f (constantVector x) (constantVector v))) expected "HVP"
        }
        test "BinaryCrossEntropyWithLogits is (1 - t)·x + softplus(-x) as torch: +inf at x = +inf, NaN at -inf and at t = 1, x = inf" {
            let loss (x: float) (t: float) = (values (Nn.binaryCrossEntropyWithLogits (constantVector [| x |]) (constantVector [| t |]))).[0]
            // IEEE over torch's formula: (1 - t)·x + log1p(exp(-x))
            let reference (x: float) (t: float) = (1.0 - t) * x + Math.Log(1.0 + Math.Exp(-x))
            for x, t in [ infinity, 0.25; -infinity, 0.25; infinity, 1.0; 0.0, 0.25; 3.0, 0.5 ] do
                expectIeee [| loss x t |] [| reference x t |] (sprintf "x = %g, t = %g" x t)
            Expect.equal (loss infinity 0.25) infinity "+inf logit, t < 1"
        }
        test "max: g goes to the entries equal to the result, by a product with the mask, so a NaN maximum gives NaN everywhere, also over a size-1 axis" {
            expectIeee (values (Diff.grad Expr.max (constantVector [| nan; 1.0; 2.0 |]))) [| nan; nan; nan |] "max with a NaN"
            expectIeee (values (Diff.grad Expr.max (constantVector [| 1.0; 3.0; 3.0 |]))) [| 0.0; 0.5; 0.5 |] "ties share"
            let column = Expr.constant (tensor [| 2; 1 |] [| nan; 3.0 |])
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Expr.maxAxes [| 1 |] false y)) column)) [| nan; 1.0 |] "size-1 axis"
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Expr.minAxes [| 1 |] false y)) column)) [| nan; 1.0 |] "min, size-1 axis"
        }
        test "atan2: the derivative at the origin is 0 in both operands as torch's, b/(a²+b²) and -a/(a²+b²) elsewhere" {
            let a = [| 0.0; 1.5; -0.5 |]
            let b = [| 0.0; -2.0; 0.0 |]
            let ga, gb = Diff.grad2 (fun p q -> Expr.sum (Expr.atan2 p q)) (constantVector a, constantVector b)
            expectIeee (values ga) (Array.init 3 (fun i -> if a.[i] = 0.0 && b.[i] = 0.0 then 0.0 else b.[i] / (a.[i] * a.[i] + b.[i] * b.[i]))) "d/da"
            expectIeee (values gb) (Array.init 3 (fun i -> if a.[i] = 0.0 && b.[i] = 0.0 then 0.0 else -a.[i] / (a.[i] * a.[i] + b.[i] * b.[i]))) "d/db"
        }
        test "prod: y / x where the tensor holds no 0 (an infinite entry gets inf/inf = NaN, as torch), the product of the others where it holds one" {
            expectIeee (values (Diff.grad (Expr.prodAxes [| 0 |] false) (constantVector [| infinity; 2.0 |]))) [| infinity / infinity; infinity / 2.0 |] "no zero"
            expectIeee (values (Diff.grad (Expr.prodAxes [| 0 |] false) (constantVector [| 0.0; infinity; 2.0 |]))) [| infinity * 2.0; 0.0 * 2.0; 0.0 * infinity |] "a zero"
            expectIeee (values (Diff.grad (Expr.prodAxes [| 0 |] false) (constantVector [| 2.0; 0.0; 3.0 |]))) [| 0.0; 6.0; 0.0 |] "issue 13 item 1"
            expectIeee (values (Diff.hessian (Expr.prodAxes [| 0 |] false) (constantVector [| 2.0; 0.0; 3.0 |]))) [| 0.0; 3.0; 0.0; 3.0; 0.0; 2.0; 0.0; 2.0; 0.0 |] "Hessian at a zero"
        }
        test "pow: where the base is 0 the exponent gets no cotangent and no tangent (torch masks its coefficient y·log a), while the base's tangent is e·a^(e-1)" {
            let e = 2.5
            let f (z: Expr) = Expr.pow (Expr.sliceAxis 0 0 2 z) (Expr.sliceAxis 0 2 3 z)
            // z = (a0, a1, e): y_i = a_i^e; tangent t: e·a^(e-1)·t_a + [a ≠ 0]·y·log a·t_e
            let at = [| 0.0; 1.5; e |]
            let t = [| 0.75; -0.5; 1.25 |]
            let expected = Array.init 2 (fun i ->
                let a = at.[i]
                e * Math.Pow(a, e - 1.0) * t.[i] + (if a = 0.0 then 0.0 else Math.Pow(a, e) * Math.Log a * t.[2]))
            expectIeee (values (snd (Diff.jvp f (constantVector at) (constantVector t)))) expected "JVP"
            let g = values (Diff.grad (fun z -> Expr.sum (f z)) (constantVector at))
            expectIeee g [| 0.0; e * Math.Pow(1.5, e - 1.0); Math.Pow(1.5, e) * Math.Log 1.5 |] "gradient"
        }
        test "derivative graphs keep IEEE values where the forward cancels: LayerNorm over one entry and softmax of [-inf] have NaN gradients at NaN/-inf, as the unsimplified graph" {
            let one = Expr.scalar f64 1.0
            let zero = Expr.scalar f64 0.0
            let x = Expr.constant (tensor [| 2; 1 |] [| nan; 2.0 |])
            let w = Expr.constant (tensor [| 2; 1 |] [| 0.5; -1.5 |])
            // centred = x - mean x = x - x: NaN at NaN and 0 elsewhere, so the first row's gradient is NaN
            let grad = values (Diff.grad (fun y -> Expr.sum (w * Nn.layerNorm 1e-5 one zero y)) x)
            Expect.isTrue (Double.IsNaN grad.[0]) (sprintf "NaN row: %A" grad)
            // the finite row: d/dx of (x - x)·rsqrt(0 + eps) is 0 exactly
            expectIeee [| grad.[1] |] [| 0.0 |] "finite row"
            let soft = values (Diff.grad (fun y -> Expr.sum (constantVector [| 0.5 |] * Nn.softmax 0 y)) (constantVector [| -infinity |]))
            Expect.isTrue (Double.IsNaN soft.[0]) (sprintf "softmax of [-inf]: %A" soft)
        }
        test "softmax and log-softmax over a length-1 axis: values as torch's formula, every derivative exactly that of the constant 1 and 0 (fuzz 3/197)" {
            // torch: exp(x - max) / sum and (x - max) - log(sum(exp(x - max))), element by element, IEEE
            let row = [| infinity; -infinity; nan; -0.0; 2.0; -1e300 |]
            let x = Expr.constant (tensor [| 1; row.Length |] row)
            expectIeee (values (Nn.softmax 0 x)) (row |> Array.map (fun v -> Math.Exp(v - v) / Math.Exp(v - v))) "softmax"
            expectIeee (values (Nn.logSoftmax 0 x)) (row |> Array.map (fun v -> (v - v) - Math.Log(Math.Exp(v - v)))) "log_softmax"
            // f(x) = Σ v·logSoftmax(v) + log(16 + Σ v), v = (x/0.065)²: the first term is 0 for every x, so
            // f''(x) = S''/(16 + S) - S'²/(16 + S)² with S = (x/c)², S' = 2x/c², S'' = 2/c² (closed form)
            let c = 0.065
            let v (z: Expr) = Expr.square (Expr.div z (Expr.scalar f64 c))
            let logTerm (z: Expr) = Expr.log (Expr.add (Expr.sum (v z)) (Expr.scalar f64 16.0))
            let closed (t: float) (extra: float) =
                let s, s1, s2 = (t / c) * (t / c), 2.0 * t / (c * c), 2.0 / (c * c)
                extra + s2 / (16.0 + s) - s1 * s1 / ((16.0 + s) * (16.0 + s))
            for t in [ -2.0; 0.5 ] do
                let at = Expr.constant (tensor [| 1; 1 |] [| t |])
                let one = Expr.constant (tensor [| 1; 1 |] [| 1.0 |])
                let h (f: Expr -> Expr) = values (Diff.hvp f at one)
                // log-softmax: the first term is 0; softmax: Σ v·1 adds S'' to the second derivative
                expectIeee (h (fun z -> Expr.add (Expr.sum (v z * Nn.logSoftmax 0 (v z))) (logTerm z))) [| closed t 0.0 |] (sprintf "log_softmax at %g" t)
                expectIeee (h (fun z -> Expr.add (Expr.sum (v z * Nn.softmax 0 (v z))) (logTerm z))) [| closed t (2.0 / (c * c)) |] (sprintf "softmax at %g" t)
        }
        test "mean over an empty tensor: the value is NaN (0/0, as torch), its derivative the zero map (fuzz adversarial 1/237)" {
            // a function of no numbers has every directional derivative 0; 0/0 belongs to the value only
            let empty = Expr.constant (tensor [| 3; 0 |] [||])
            let y, tangent = Diff.jvp Expr.mean empty empty
            expectIeee (values y) [| nan |] "value"
            expectIeee (values tangent) [| 0.0 |] "JVP"
            let _, alongAxis = Diff.jvp (Expr.meanAxes [| 1 |] false) empty empty
            expectIeee (values alongAxis) [| 0.0; 0.0; 0.0 |] "JVP along the empty axis"
        }
        test "var and std over no entries: the value is NaN (0/0, as torch), the derivative the zero map at every order (fuzz adversarial 12/183)" {
            let empty = Expr.constant (tensor [| 0 |] [||])
            for correction in [ 0.0; 1.0 ] do
                for name, f in [ "var", Statistics.var [| 0 |] correction true; "std", Statistics.std [| 0 |] correction true ] do
                    let y, tangent = Diff.jvp f empty empty
                    expectIeee (values y) [| nan |] (sprintf "%s value, correction %g" name correction)
                    expectIeee (values tangent) [| 0.0 |] (sprintf "%s JVP, correction %g" name correction)
                    // the second derivative along the empty direction: also the zero map
                    let second = snd (Diff.jvp (fun z -> snd (Diff.jvp f z empty)) empty empty)
                    expectIeee (values second) [| 0.0 |] (sprintf "%s second JVP, correction %g" name correction)
        }
        test "det's gradient at a matrix with an infinite entry is the cofactor matrix up to 3×3, where torch's det·A⁻ᵀ is NaN (fuzz adversarial 11/158)" {
            // d det / d a_ij is the cofactor C_ij: [[d, -c], [-b, a]] for [[a, b], [c, d]], 1 for a 1×1 matrix
            let at (dims: int[]) (xs: float[]) = Expr.constant (tensor dims xs)
            expectIeee (values (Diff.grad Linalg.det (at [| 1; 1 |] [| infinity |]))) [| 1.0 |] "1×1"
            expectIeee (values (Diff.grad Linalg.det (at [| 2; 2 |] [| infinity; 1.0; 2.0; 3.0 |]))) [| 3.0; -2.0; -1.0; infinity |] "2×2"
            // 3×3 with the infinity at (0, 0): the cofactors in row 0 and column 0 leave it out of their minor
            // and are finite; every other minor holds it once, times a nonzero entry, so they are ±∞
            let m = [| infinity; 1.0; 2.0; 0.5; 3.0; 1.0; 2.0; 1.0; 4.0 |]
            let e r c = m.[3 * r + c]
            let cofactor r c =
                let rows = [| 0 .. 2 |] |> Array.filter ((<>) r)
                let cols = [| 0 .. 2 |] |> Array.filter ((<>) c)
                let sign = if (r + c) % 2 = 0 then 1.0 else -1.0
                sign * (e rows.[0] cols.[0] * e rows.[1] cols.[1] - e rows.[0] cols.[1] * e rows.[1] cols.[0])
            let expected = [| for r in 0 .. 2 do for c in 0 .. 2 -> cofactor r c |]
            expectIeee (values (Diff.grad Linalg.det (at [| 3; 3 |] m))) expected "3×3"
        }
        test "the second derivative of a product over an infinity and several zeros is the closed form Σⱼ Πₖ≠ᵢ,ⱼ xₖ·vⱼ (fuzz 6/807, 10/213)" {
            // ∂²/∂x_i∂x_j Π x = Π_{k ≠ i, j} x_k (0 on the diagonal): with zeros and the infinity among the others that is
            // 0·∞ = NaN; with the infinity alone, ±∞ (over [−∞, 0, 0] the row of a 0 is −∞·v at the other 0's column)
            for n, at in [ 3, 0; 4, 2; 8, 7; 24, 14 ] do
                let xs = Array.init n (fun i -> if i = at then -infinity else 0.0)
                let vs = Array.init n (fun i -> float (i + 1))
                let v = Expr.constant (tensor [| n |] vs)
                let second = Diff.grad (fun a -> Expr.sum (Diff.grad (Expr.prodAxes [| 0 |] false) a * v)) (Expr.constant (tensor [| n |] xs))
                let others i j = Seq.fold (fun p k -> if k = i || k = j then p else p * xs.[k]) 1.0 [ 0 .. n - 1 ]
                let expected = Array.init n (fun i -> Seq.sum [ for j in 0 .. n - 1 do if j <> i then yield others i j * vs.[j] ])
                expectIeee (values second) expected (sprintf "H v over %d entries, infinity at %d" n at)
        }
        test "a product of finite entries with a 0 among them is ±0 however its partial products overflow, and one without is its value in every order (fuzz adversarial 13/221)" {
            // the fuzz program: 0s with 1.65e38 and 8.2e307, whose partial product overflowed to ∞ before it met a 0
            let found = [| 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; 1.6516362549940018E+38; 0.0; 0.0; 0.0; 8.218407461554972E+307; 0.0 |]
            expectIeee (values (Expr.prodAxes [| 0; 1; 2 |] false (Expr.constant (tensor [| 4; 1; 3 |] found)))) [| 0.0 |] "the program's product"
            // arrangements of huge and tiny entries with −0 or −1: along the last axis and along an outer one (columns)
            let rng = Random 5
            for trial in 1 .. 200 do
                let withZero = trial % 2 = 0
                let entries = Array.append (Array.append (Array.create 4 1e300) (Array.create 4 1e-300)) [| (if withZero then -0.0 else -1.0) |]
                rng.Shuffle entries
                // with a zero factor the product is 0, its sign the signs' product (−); without, it is (1e300·1e-300)⁴·(−1),
                // −1 to within a few ulps (1e300 and 1e-300 are not exact reciprocals in binary), in every order, where a
                // running product overflows or underflows first in most orders
                let check (got: float) what =
                    if withZero then Expect.isTrue (got = 0.0 && Double.IsNegative got) (sprintf "%s: %g, expected -0 for %A" what got entries)
                    else Expect.isTrue (abs (got + 1.0) <= 1e-14) (sprintf "%s: %g, expected -1 for %A" what got entries)
                check (values (Expr.prodAxes [| 0 |] false (constantVector entries))).[0] "along the axis"
                let columns = Expr.constant (tensor [| entries.Length; 2 |] (entries |> Array.collect (fun v -> [| v; v |])))
                for got in values (Expr.prodAxes [| 0 |] false columns) do check got "along an outer axis"
        }
        test "layer norm of a row of equal entries is exactly 0, so a function of it with no curvature at 0 has second derivative 0 there (fuzz 8/1213)" {
            // g(x) = Σ tanh(1.5·tanh(1.5·LN(x))), LN(x) = (x − μ)/√(σ² + ε). At a row of equal entries LN = 0 exactly, and
            // there d²LN = 0 (every term holds x − μ or dσ² = (2/n)(x − μ)·dx) and tanh″(0) = 0, so the row's entries of
            // the Hessian times any v are 0, the closed form and torch's. Σx/n misses x by an ulp for this x (3x/3 ≠ x),
            // and the noise, through 1/ε, was 1e-11 before LN centred about a held entry of the row.
            let a = 0.10580754143539614
            let rows = Expr.constant (tensor [| 2; 3 |] [| a; a; a; -0.44768068092793684; -0.5; a |])
            let v = Expr.constant (tensor [| 2; 3 |] [| -0.778103; -0.42361; 0.52521; -0.85198; -1.34991; 1.41563 |])
            let layer (x: Expr) = Nn.layerNorm 0.001 (Expr.scalar f64 1.0) (Expr.scalar f64 0.0) x
            let g (x: Expr) = Expr.sum (Expr.tanh (Expr.mul (Expr.scalar f64 1.5) (Expr.tanh (Expr.mul (Expr.scalar f64 1.5) (layer x)))))
            expectIeee (values (layer rows)).[0 .. 2] [| 0.0; 0.0; 0.0 |] "LN of the constant row"
            let gradAlong (x: Expr) = Expr.sum (Diff.grad g x * v)
            let second = values (Diff.grad gradAlong rows)
            expectIeee second.[0 .. 2] [| 0.0; 0.0; 0.0 |] "H v on the constant row, reverse over reverse"
            expectIeee (values (Diff.hvp g rows v)).[0 .. 2] [| 0.0; 0.0; 0.0 |] "H v on the constant row, forward over reverse"
            // the other row against central differences of the gradient along v
            let h = 1e-5
            let gradAt (t: float) = values (Diff.grad g (Expr.add rows (Expr.mul (Expr.scalar f64 t) v)))
            let plus, minus = gradAt h, gradAt -h
            for i in 3 .. 5 do
                Expect.floatClose { absolute = 1e-7; relative = 1e-5 } second.[i] ((plus.[i] - minus.[i]) / (2.0 * h)) (sprintf "H v entry %d" i)
        }
        test "max and min of a rank-0 tensor: torch's amax shares g among the entries equal to the result, so at NaN the derivative is NaN, elsewhere 1 (fuzz adversarial 2/256)" {
            // as over a size-1 axis: g·[x = y] / Σ[x = y], which is 0/0 where x is NaN
            for x in [ nan; infinity; -0.0; 2.5 ] do
                let expected = [| if Double.IsNaN x then nan else 1.0 |]
                let at = Expr.scalar f64 x
                expectIeee (values (Diff.grad Expr.max at)) expected (sprintf "max at %g" x)
                expectIeee (values (Diff.grad Expr.min at)) expected (sprintf "min at %g" x)
                expectIeee (values (snd (Diff.jvp Expr.max at (Expr.scalar f64 1.0)))) expected (sprintf "JVP of max at %g" x)
        }
        test "expm1 near float64's overflow is e^x - 1, finite up to 709.78, with derivative e^x (fuzz adversarial 3/122)" {
            // Kahan's correction (e^x - 1)·x / log e^x overflowed in its product for x above about 703
            let xs = [| 0.0; 1e-10; -3.0; 703.0; 709.0; 709.78; 710.0; -800.0 |]
            expectIeee (values (Expr.expm1 (constantVector xs))) (xs |> Array.map (fun x -> if x = 0.0 || x = 1e-10 then x else Math.Exp x - 1.0)) "values"
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Expr.expm1 y)) (constantVector xs))) (xs |> Array.map Math.Exp) "gradient"
        }
        test "logsumexp over an axis of length 1 is x itself: slope 1 at -inf, +inf and NaN, so exp of it has the gradient e^x (fuzz 4/1064)" {
            // closed form: logsumexp of one entry is that entry; d/dx e^x = e^x, 0 at -inf (the general form's e^(x - lse) was 0/0)
            let column = Expr.constant (tensor [| 4; 1 |] [| -infinity; 0.0; infinity; 1.5 |])
            let f (y: Expr) = Nn.logSumExp [| 1 |] false y
            expectIeee (values (f column)) [| -infinity; 0.0; infinity; 1.5 |] "values"
            expectIeee (values (Diff.grad (fun y -> Expr.sum (f y)) column)) [| 1.0; 1.0; 1.0; 1.0 |] "gradient"
            expectIeee (values (Diff.grad (fun y -> Expr.sum (Expr.exp (f y))) column)) [| 0.0; 1.0; infinity; Math.Exp 1.5 |] "gradient of exp"
            // the product of the diagonal embedding of exp(x) holds zeros besides x's entries, so it is 0 at every order
            let row = Expr.constant (tensor [| 1; 2 |] [| -infinity; 0.0 |])
            let g (y: Expr) = Expr.prodAxes [| 0; 1 |] false (Indexing.diagEmbed 1 (Expr.exp (Nn.logSumExp [| 0 |] false y)))
            expectIeee (values (Diff.hessian g row)) (Array.zeroCreate 4) "Hessian"
        }
        test "2-norm: huge and tiny entries give the norm, not x² overflowed or underflowed, with gradient x/|x| and Hessian (I - x̂x̂ᵀ)/|x| (fuzz adversarial 15/103)" {
            // closed forms: |(3, 4)·s| = 5s, gradient (0.6, 0.8), Hessian [[0.64, -0.48], [-0.48, 0.36]] / 5s
            for s in [ 1e200; 1e-200; 1.0 ] do
                let x = constantVector [| 3.0 * s; 4.0 * s |]
                let norm (y: Expr) = Statistics.norm 2.0 [| 0 |] false y
                expectIeee (values (norm x)) [| 5.0 * s |] (sprintf "value at scale %g" s)
                expectIeee (values (Diff.grad norm x)) [| 0.6; 0.8 |] (sprintf "gradient at scale %g" s)
                expectIeee (values (Diff.hessian norm x)) ([| 0.64; -0.48; -0.48; 0.36 |] |> Array.map (fun h -> h / (5.0 * s))) (sprintf "Hessian at scale %g" s)
            let scalar = Expr.scalar f64 1.1918984658185072e159
            expectIeee (values (Statistics.norm 2.0 [||] false scalar)) [| 1.1918984658185072e159 |] "a scalar's norm is |x|"
            // unchanged where max |x| is 0 or infinite: 0 with gradient 0 (torch's mask), and +inf
            expectIeee (values (Diff.grad (Statistics.norm 2.0 [| 0 |] false) (constantVector [| 0.0; 0.0 |]))) [| 0.0; 0.0 |] "gradient at 0"
            expectIeee (values (Statistics.norm 2.0 [| 0 |] false (constantVector [| infinity; 1.0 |]))) [| infinity |] "an infinite entry"
        }
        test "p-norm (p = 3, 0.5): huge and tiny entries give the norm, not |x|^p overflowed or underflowed, with gradient sign(x)·(|x|/‖x‖)^(p−1) (fuzz all adversarial 46/176)" {
            // closed forms at x = (3, 4)·s: ‖x‖ = s·(3^p + 4^p)^(1/p), gradient ((3/r)^(p−1), (4/r)^(p−1)) with r = (3^p + 4^p)^(1/p)
            for p in [ 3.0; 0.5 ] do
                let r = (3.0 ** p + 4.0 ** p) ** (1.0 / p)
                for s in [ 1e200; 1e-200; 1.0 ] do
                    let x = constantVector [| 3.0 * s; -4.0 * s |]
                    let norm (y: Expr) = Statistics.norm p [| 0 |] false y
                    expectClose 1e-14 (values (norm x)) [| r * s |] (sprintf "value, p = %g, scale %g" p s)
                    expectClose 1e-14 (values (Diff.grad norm x)) [| (3.0 / r) ** (p - 1.0); -((4.0 / r) ** (p - 1.0)) |] (sprintf "gradient, p = %g, scale %g" p s)
            // torch.dist(690.78, 1e300, p = 3) is |690.78 − 1e300| = 1e300
            expectIeee (values (Statistics.dist 3.0 (Expr.scalar f64 690.7755278982137) (Expr.scalar f64 1e300))) [| 1e300 |] "dist of one entry"
            // unchanged at 0 (gradient 0, torch's mask) and at an infinite entry (+inf)
            expectIeee (values (Diff.grad (Statistics.norm 3.0 [| 0 |] false) (constantVector [| 0.0; 0.0 |]))) [| 0.0; 0.0 |] "gradient at 0"
            expectIeee (values (Statistics.norm 3.0 [| 0 |] false (constantVector [| infinity; 1.0 |]))) [| infinity |] "an infinite entry"
        }
        test "hardswish at or below -3 is a constant whose slope is 0 under a NaN cotangent too (torch's mask, relu's rule); x^0 is 1 at every base, NaN included, so its derivatives are 0 (fuzz all adversarial 47/271, 47/105)" {
            // sin(hardswish x): at -∞ the value is NaN and the cotangent into hardswish cos(NaN) = NaN, which the constant
            // branch does not pass back; at -5 the slope is 0; at 1 it is cos(2/3)·(2·1 + 3)/6
            let f (v: Expr) = Expr.sum (Expr.sin (Activations.hardswish v))
            let xs = constantVector [| -infinity; -5.0; 1.0 |]
            expectIeee (values (Diff.grad f xs)) [| 0.0; 0.0; cos (2.0 / 3.0) * 5.0 / 6.0 |] "gradient"
            expectIeee (values (Diff.hessian f xs)) [| 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; 0.0; -sin (2.0 / 3.0) * (5.0 / 6.0) ** 2.0 + cos (2.0 / 3.0) / 3.0 |] "Hessian"
            // x^e with a tensor exponent e = 0: the constant 1 at x = NaN, 0.5 and 0 alike; gradient, JVP and Hessian 0
            let power (v: Expr) = Expr.sum (v ** Expr.constant (tensor [| 3 |] [| 0.0; 0.0; 0.0 |]))
            let at = constantVector [| nan; 0.5; 2.0 |]
            expectIeee (values (power at)) [| 3.0 |] "value"
            expectIeee (values (Diff.grad power at)) [| 0.0; 0.0; 0.0 |] "gradient of x^0"
            let _, tangent = Diff.jvp power at (constantVector [| 0.5; 1.0; -1.0 |])
            expectIeee (values tangent) [| 0.0 |] "JVP of x^0"
            expectIeee (values (Diff.hessian power at)) (Array.zeroCreate 9) "Hessian of x^0"
        }
        test "prod over three zeros beside entries whose running products overflow: gradient 0, the closed form (each product of the others holds a 0), not 0·∞ (fuzz all adversarial 48/290)" {
            let product (v: Expr) = Expr.prodAxes [| 0 |] false v
            let at = constantVector [| 0.0; 0.0; 0.0; 1e160; -1.5; 1e160 |]
            expectIeee (values (Diff.grad product at)) (Array.zeroCreate 6) "gradient"
            // the same zeros beside entries whose products stay in range: the closed form as before (x₀'s others
            // [0, 0, 2, 3] multiply to 0; with one zero, at x = (0, 2, 3), the gradient is (6, 0, 0))
            expectIeee (values (Diff.grad product (constantVector [| 0.0; 0.0; 0.0; 2.0; 3.0 |]))) (Array.zeroCreate 5) "in range"
            expectIeee (values (Diff.grad product (constantVector [| 0.0; 2.0; 3.0 |]))) [| 6.0; 0.0; 0.0 |] "one zero"
        }
        test "var and std: torch's fused rule g·2(x - mean)/(N - 1), so an infinite cotangent gives ±∞ by the sign of x - mean, not NaN; the Hessian is unchanged (fuzz 9/1438)" {
            let xs = [| 3.9559586; 0.0; 0.0; 0.0 |]
            let n = float xs.Length
            let mean = Array.average xs
            let std = sqrt ((xs |> Array.sumBy (fun x -> (x - mean) * (x - mean))) / (n - 1.0))
            // closed form of d/dx (std x / 0) = (1/0)·(x - mean)/((N - 1)·std): +inf above the mean, -inf below
            let expected = xs |> Array.map (fun x -> infinity * (x - mean) / ((n - 1.0) * std))
            let f (y: Expr) = Expr.sum (Statistics.std [| 0 |] 1.0 false y / Expr.scalar f64 0.0)
            expectIeee (values (Diff.grad f (constantVector xs))) expected "gradient of std/0"
            // the Hessian of var, 2/(N - 1)·(I - 11ᵀ/N), at finite points
            let hessian = values (Diff.hessian (Statistics.var [| 0 |] 1.0 false) (constantVector [| 1.5; -0.25; 2.0 |]))
            let closed = Array.init 9 (fun k -> 2.0 / 2.0 * ((if k / 3 = k % 3 then 1.0 else 0.0) - 1.0 / 3.0))
            expectClose 1e-12 hessian closed "Hessian of var"
            // over two axes, keeping them, against the closed form 2(x - mean)/(N - 1) with a cotangent per row
            let m = tensor [| 2; 3 |] [| 1.0; 2.0; 4.0; -1.0; 0.5; 3.0 |]
            let w = tensor [| 2; 1 |] [| 2.0; -0.5 |]
            let g = values (Diff.grad (fun y -> inner (Statistics.var [| 1 |] 1.0 true y) w) (constant m))
            let rows = [| [| 1.0; 2.0; 4.0 |]; [| -1.0; 0.5; 3.0 |] |]
            let reference =
                [| for r in 0 .. 1 do
                     let mu = Array.average rows.[r]
                     for x in rows.[r] -> [| 2.0; -0.5 |].[r] * 2.0 * (x - mu) / 2.0 |]
            expectClose 1e-12 g reference "gradient over rows"
        }
        test "prod: the Hessian of [0, ∞, −0.3] has ∂²/∂x₂∂x₀ = x₁ = ∞ through the tree of partial products, not 0 through the signs (fuzz 10/213)" {
            // closed form: H_ij is the product of the entries other than i and j
            let h = values (Diff.hessian (Expr.prodAxes [| 0 |] false) (constantVector [| 0.0; infinity; -0.3 |]))
            Expect.equal h.[2 * 3 + 0] infinity "(2, 0) = x1"
            Expect.equal h.[0 * 3 + 2] infinity "(0, 2) = x1"
            expectIeee [| h.[1 * 3 + 0] |] [| -0.3 |] "(1, 0) = x2"
            // the gradient is unchanged: the others' products, NaN where they are 0·∞
            expectIeee (values (Diff.grad (Expr.prodAxes [| 0 |] false) (constantVector [| 0.0; infinity; -0.3 |]))) [| -infinity; -0.0; nan |] "gradient"
        }
        test "std of a constant column is exactly 0 with the masked gradient 0, as torch's, however the mean of its entries rounds (fuzz 2/1667)" {
            // closed form: std of equal entries is 0, and torch's gradient there is 0 (the mask); −0.1 three times has a
            // rounded mean that is not −0.1
            let m = tensor [| 3; 3; 1 |] [| 0.0; 0.0; -0.1; 0.0; 0.0; -0.1; 0.0; 0.0; -0.1 |]
            let f (y: Expr) = Statistics.std [| 0 |] 0.0 false y
            expectIeee (values (f (constant m))) [| 0.0; 0.0; 0.0 |] "values"
            let w = tensor [| 3; 1 |] [| -1.63679; -1.61926; 0.151942 |]
            expectIeee (values (Diff.grad (fun y -> inner (f y) w) (constant m))) (Array.zeroCreate 9) "gradient"
            // and where the entries differ, the gradient is (x − mean)/(N·std) times the cotangent
            let column = [| 0.3; -0.1; 0.7 |]
            let mu = Array.average column
            let sd = sqrt ((column |> Array.sumBy (fun x -> (x - mu) * (x - mu))) / 3.0)
            expectClose 1e-12 (values (Diff.grad (fun y -> Expr.sum (Statistics.std [| 0 |] 0.0 false y)) (constantVector column)))
                (column |> Array.map (fun x -> (x - mu) / (3.0 * sd))) "gradient over differing entries"
        }
        test "the sum and the mean of a scalar −0 are +0, as torch's running sums from +0, so atan2 over them is +π (fuzz 13/429)" {
            // IEEE: a running sum starts from +0, and +0 + −0 = +0; the quotient by a count of 1 keeps it
            let runningSum = 0.0 + -0.0
            let scalar = Expr.scalar f64 -0.0
            let x = Expr.variable "x" [||] f64
            let at (e: Expr) = (Eval.evalWith [ x, Tensor.Scalar(-0.0, f64) ] e).ToScalar()
            for name, reduce in [ "sum", Expr.sum; "mean", Expr.mean ] do
                Expect.equal (1.0 / at (reduce x)) (1.0 / runningSum) (sprintf "%s of −0 is +0" name)
                Expect.equal (1.0 / value (reduce scalar)) (1.0 / runningSum) (sprintf "%s of the constant −0" name)
                Expect.equal (at (Expr.atan2 (reduce x) (Expr.scalar f64 -0.40895587))) (Math.Atan2(runningSum, -0.40895587))
                    (sprintf "atan2 of the %s" name)
                // its slope is still 1
                expectIeee [| value (Diff.grad reduce (Expr.scalar f64 -0.0)) |] [| 1.0 |] (sprintf "slope of the %s" name)
        }
        test "max pool returns the winning entry's bits, so a winning −0 stays −0; the cotangent still goes to torch's first largest entry (fuzz adversarial 21/201)" {
            // windows of one entry, and windows of two along the width: torch's winner is the first largest entry, which
            // it moves from only to a strictly larger one, and the value is that entry
            let reference (window: float[]) =
                let mutable k = 0
                for i in 1 .. window.Length - 1 do
                    if window.[i] > window.[k] then k <- i
                k
            let single = tensor [| 2; 1; 1 |] [| -0.0; 0.0 |]
            let pooled = values (Convolution.maxPool2d (1, 1) (1, 1) (0, 0) (1, 1) (constant single))
            Expect.equal (pooled |> Array.map (fun v -> 1.0 / v)) [| -infinity; infinity |] "1/x of the pooled −0 and +0"
            let pairs = [| -0.0; 0.0; 0.0; -0.0; -0.0; -1.0; -2.0; -0.0 |]
            let windows = Array.chunkBySize 2 pairs
            let x = tensor [| 1; 1; 8 |] pairs
            let pool (y: Expr) = Convolution.maxPool2d (1, 2) (1, 2) (0, 0) (1, 1) y
            let out = values (pool (constant x))
            let expected = windows |> Array.map (fun w -> w.[reference w])
            Expect.equal (out |> Array.map (fun v -> 1.0 / v)) (expected |> Array.map (fun v -> 1.0 / v)) "winners' signs"
            let w = [| 0.5; -1.5; 2.0; 0.25 |]
            let g = values (Diff.grad (fun y -> Expr.sum (pool y * Expr.constant (Tensor.FromArray(w, [| 1; 1; 4 |])))) (constant x))
            let oneHot = windows |> Array.mapi (fun i window -> Array.init 2 (fun j -> if j = reference window then w.[i] else 0.0)) |> Array.concat
            expectIeee g oneHot "cotangent to the first largest entry"
        }
        test "atan2(x, x) is constant where x is finite, so its derivative is 0 there, also where 1/(2x) overflows; NaN at ±∞ (fuzz adversarial 21/232)" {
            let xs = [| -5e-324; 5e-324; 1e-310; -2.5e-309; -3.0; 1e300; infinity |]
            // the closed form: d/dx atan2(x, x) = (x − x)/(2x²) = 0 for finite nonzero x; ∞/∞ at ±∞
            let expected = xs |> Array.map (fun x -> if Double.IsFinite x then 0.0 else nan)
            let f (y: Expr) = Expr.atan2 y y
            expectIeee (values (Diff.grad (fun y -> Expr.sum (f y)) (constantVector xs))) expected "gradient"
            let t = xs |> Array.map (fun _ -> -0.693976)
            expectIeee (values (snd (Diff.jvp f (constantVector xs) (constantVector t)))) expected "JVP"
            // and the value is atan2's own
            expectIeee (values (f (constantVector xs))) (xs |> Array.map (fun x -> Math.Atan2(x, x))) "value"
        }
        test "a monomial with a power of an unbounded atom beside other factors is multiplied as the chain is, so a vanishing factor meets x before x² (fuzz adversarial 16/127, 5/87)" {
            // d/dx logsigmoid(x²)·x = 2x²σ(−x²) + logsigmoid(x²); 2x²σ(−x²) = 2·e^(2 ln|x| − softplus(x²)), which is 0 where
            // x² overflows (e^(−∞)), as its limit; softplus(t) = t + log1p(e^−t) for t ≥ 0
            let softplus (t: float) = t + Math.Log(1.0 + Math.Exp(-t))
            let reference (x: float) = 2.0 * Math.Exp(2.0 * Math.Log(abs x) - softplus (x * x)) - Math.Log(1.0 + Math.Exp(-(x * x)))
            let xs = [| 1e160; -1e160; 3.0; -0.5 |]
            let f (y: Expr) = Expr.sum (Activations.logSigmoid (Expr.square y) * y)
            expectIeee (values (Diff.grad f (constantVector xs))) (xs |> Array.map reference) "gradient"
            // d²/dx² (x²)^c = 2c(2c − 1)·|x|^(2c − 2), 0 to every digit at x = −2.5e299 (|x|^−2.092 underflows)
            let c = -0.046
            let second (x: float) = 2.0 * c * (2.0 * c - 1.0) * Math.Pow(abs x, 2.0 * c - 2.0)
            let ys = [| -2.5e299; 1.7; -0.3 |]
            let h = values (Diff.hessian (fun y -> Expr.sum (Expr.pow (Expr.square y) (Expr.scalar f64 c))) (constantVector ys))
            expectIeee [| for i in 0 .. 2 -> h.[i * 3 + i] |] (ys |> Array.map second) "Hessian diagonal"
        }
        test "a monomial's factors of degree one meet it before an unbounded atom's power, even when they are older (the gradient of rsqrt(x₀)·x₁·u at subnormal x, edges19's find)" {
            // d/dx₀ rsqrt(x₀)·x₁·u = −½·x₀^(−3/2)·x₁·u, by logarithms (x₀^(−3/2) = 1e465 overflows alone), and
            // d/dx₁ = x₀^(−1/2)·u; two arguments, so the normal form's atoms are the arguments themselves (older
            // than the rsqrt node): x₁·y³ was formed as y³ = ∞ first
            let u = 0.7
            let cases = [| 1e-310, -1e-310; 1e-300, 3e-290; 2.0, -5.0; 1e-200, 1e-200 |]
            for x0, x1 in cases do
                let gradients =
                    Diff.gradN (fun vs -> match vs with [ a; b ] -> Expr.sum (Expr.rsqrt a * b * u) | _ -> failwith "two")
                        [ constantVector [| x0 |]; constantVector [| x1 |] ]
                let d0 = -(float (sign x1)) * 0.5 * u * Math.Exp(-1.5 * Math.Log x0 + Math.Log(abs x1))
                let d1 = u * Math.Exp(-0.5 * Math.Log x0)
                match gradients with
                | [ g0; g1 ] ->
                    let a, b = (values g0).[0], (values g1).[0]
                    Expect.floatClose Accuracy.high a d0 (sprintf "∂x₀ at (%g, %g): %g against %g" x0 x1 a d0)
                    Expect.floatClose Accuracy.high b d1 (sprintf "∂x₁ at (%g, %g): %g against %g" x0 x1 b d1)
                | _ -> failwith "two gradients"
        }
        test "solve against a right-hand side holding +∞ is the limit of A⁻¹b: ±∞ where the infinity reaches an unknown, no 0·∞ from a zero coefficient (fuzz adversarial 14/191, 22/290)" {
            // reference: A⁻¹'s columns by plain back substitution of the unit vectors (A upper triangular here), and
            // x = Σ_k A⁻¹[:, k]·b[k] with a term only where A⁻¹[i, k] ≠ 0, so b[k] = +∞ gives sign(A⁻¹[i, k])·∞
            let a = [| [| 5.0; 1.0; 0.0; 0.0 |]; [| 0.0; 5.0; -0.46211715726000974; 0.0 |]; [| 0.0; 0.0; 5.0; 1.0 |]; [| 0.0; 0.0; 0.0; 5.0 |] |]
            let inverseColumn (k: int) =
                let y = Array.zeroCreate 4
                for i in 3 .. -1 .. 0 do
                    let mutable v = if i = k then 1.0 else 0.0
                    for j in i + 1 .. 3 do
                        v <- v - a.[i].[j] * y.[j]
                    y.[i] <- v / a.[i].[i]
                y
            let b = [| [| 1.0; 0.0 |]; [| 2.0; 0.0 |]; [| -0.5; 0.0 |]; [| 4.0; infinity |] |]
            let expected =
                [| for i in 0 .. 3 do
                     for c in 0 .. 1 do
                         let mutable sum = 0.0
                         for k in 0 .. 3 do
                             let coefficient = (inverseColumn k).[i]
                             if coefficient <> 0.0 then sum <- sum + coefficient * b.[k].[c]
                         yield sum |]
            Expect.equal (expected |> Array.skip 1 |> Array.indexed |> Array.filter (fun (i, _) -> i % 2 = 0) |> Array.map snd)
                [| infinity; -infinity; -infinity; infinity |] "the reference's infinite column"
            let solved = values (Linalg.solve (constant (tensor [| 4; 4 |] (Array.concat a))) (constant (tensor [| 4; 2 |] (Array.concat b))))
            expectIeee solved expected "bidiagonal"
            // a dense 2×2 (the first matrix of fuzz adversarial 22/290): A⁻¹ = [[−2, −0.5], [1, −0.79577273]]/det, det > 0
            let dense = values (Linalg.solve (constant (tensor [| 2; 2 |] [| -0.79577273; 0.5; -1.0; -2.0 |])) (constantVector [| infinity; 0.27502778 |]))
            expectIeee dense [| -infinity; infinity |] "dense"
            // a NaN spreads to every unknown of its column, as torch's dense substitution: x₁ = NaN/d, x₀ = (0 − 0·x₁)/d
            let d = 1.3862944
            let x1 = nan / d
            let withNaN = values (Linalg.solve (constant (tensor [| 2; 2 |] [| d; 0.0; 0.0; d |])) (constantVector [| 0.0; nan |]))
            expectIeee withNaN [| (0.0 - 0.0 * x1) / d; x1 |] "NaN (fuzz 15/535)"
        }
        test "log1p of a huge x is log x: the ratio x/(1 + x − 1) is formed before the product with the log, which overflowed (fuzz adversarial 26/100)" {
            // log1p(x) = log x + log1p(1/x), and 1/x is below an ulp of log x for x above 1e17; below, Math.Log(1 + x) is
            // exact to an ulp away from 0, and x − x²/2 + x³/3 at |x| below 1e-8
            let reference (x: float) = if x > 1e17 then Math.Log x elif abs x < 1e-8 then x - x * x / 2.0 + x * x * x / 3.0 else Math.Log(1.0 + x)
            let xs = [| 8.218407461554972e307; Double.MaxValue; 1e300; 2.5e305; 3.0; 1e-20; -0.5 |]
            let actual = values (Expr.log1p (constantVector xs))
            for i in 0 .. xs.Length - 1 do
                let e = reference xs.[i]
                if not (abs (actual.[i] - e) <= 4e-16 * abs e) then
                    failtestf "log1p(%g) is %.17g, expected %.17g" xs.[i] actual.[i] e
        }
        test "sinc's curvature near 0 is −π²/3·(1 − 3u²/10 + …) also at tiny nonzero x, where the quotient rule cancels (fuzz adversarial 28/146, 28/10)" {
            // f(x) = sin u/u with u = πx; f″(x) = π²·[(2 − u²) sin u − 2u cos u]/u³, whose Maclaurin series is
            // π²·(−1/3 + u²/10 − u⁴/168 + u⁶/6480), exact to 1e-16 relative below u = 0.1
            let reference (x: float) =
                let u = Math.PI * x
                if abs u < 0.1 then
                    let u2 = u * u
                    Math.PI * Math.PI * (-1.0 / 3.0 + u2 / 10.0 - u2 * u2 / 168.0 + u2 * u2 * u2 / 6480.0)
                else Math.PI * Math.PI * ((2.0 - u * u) * Math.Sin u - 2.0 * u * Math.Cos u) / (u * u * u)
            let xs = [| 0.0; 1e-38; -5e-324; 1e-10; 3e-5; 2e-3; -0.004; 0.05; 0.3; -1.7 |]
            let hessian = values (Diff.hessian (fun y -> Expr.sum (Elementary.sinc y)) (constantVector xs))
            for i in 0 .. xs.Length - 1 do
                let e = reference xs.[i]
                let a = hessian.[i * xs.Length + i]
                if not (abs (a - e) <= 1e-10 * abs e) then failtestf "sinc″(%g) is %.15g, expected %.15g" xs.[i] a e
            // the value stays within an ulp or two of sin(πx)/(πx) across the bound
            for x in [| 0.003; 0.0031830; 0.0032; 0.5 |] do
                let v = (values (Elementary.sinc (constantVector [| x |]))).[0]
                let e = Math.Sin(Math.PI * x) / (Math.PI * x)
                if not (abs (v - e) <= 4e-16 * abs e) then failtestf "sinc(%g) is %.17g, expected %.17g" x v e
        }
        test "sinc's curvature far from 0 is π²·(−sin u/u − 2 cos u/u² + 2 sin u/u³), finite at 1e300 (fuzz all adversarial 58/218)" {
            // each term divided by u one factor at a time, so nothing overflows; beyond |u| = 1e15 the sines of
            // the kernel and of System.Math may reduce u differently, so there only the closed form's bound
            // π²·(1/|u| + 2/u² + 2/|u|³) is checked, with finiteness
            let terms (x: float) =
                let u = Math.PI * x
                let s, c = Math.Sin u, Math.Cos u
                Math.PI * Math.PI * (-(s / u) - 2.0 * (c / u) / u + 2.0 * ((s / u) / u) / u)
            let bound (x: float) =
                let u = abs (Math.PI * x)
                Math.PI * Math.PI * (1.0 / u + (2.0 / u) / u + ((2.0 / u) / u) / u)
            // with 0 among them, as the program's sinc of [1e300, 0]: the series branch is taken somewhere
            let xs = [| 7.5; -2.3; 1e300; -2.5e305; 1e200; 0.0 |]
            // a cotangent that is not a filled constant, as the program's (a filled 1 folds into the rule's product)
            let weights = [| 0.5; -1.5; 0.75; 2.0; -0.3; 1.25 |]
            let hessian = values (Diff.hessian (fun y -> Expr.sum (constantVector weights * Elementary.sinc y)) (constantVector xs))
            for i in 0 .. xs.Length - 1 do
                let a = hessian.[i * xs.Length + i] / weights.[i]
                if abs xs.[i] < 10.0 then
                    let e = if xs.[i] = 0.0 then -Math.PI * Math.PI / 3.0 else terms xs.[i]
                    if not (abs (a - e) <= 1e-12 * abs e) then failtestf "sinc″(%g) is %.15g, expected %.15g" xs.[i] a e
                elif not (Double.IsFinite a && abs a <= bound xs.[i]) then
                    failtestf "sinc″(%g) is %g, outside the closed form's bound %g" xs.[i] a (bound xs.[i])
            // the program itself: sinc(x₀ + x₁) with a scalar x₀ = 0 and x₁ = [[1e300, 0]], and the check
            // d/dx ⟨pullback_x(u), v⟩ through Vjp. With z = x₀ + x₁, its entries are (v₀ + v₁₊ⱼ)·uⱼ·sinc″(zⱼ) for
            // x₁ⱼ and their sum for x₀: sinc″(0) = −π²/3, and at 1e300 at most the bound above
            let u = [| 0.382007; -1.74026 |]
            let v = [| 0.48942; 0.383674; -0.772026 |]
            let x1 = Expr.constant (Tensor.FromArray([| 1e300; 0.0 |], [| 1; 2 |]))
            let inner (args: Expr list) =
                let _, pullback = Diff.vjpN (fun zs -> Elementary.sinc (zs.[0] + zs.[1])) args
                match pullback (Expr.constant (Tensor.FromArray(u, [| 1; 2 |]))) with
                | [ g0; g1 ] -> g0 * v.[0] + Expr.sum (g1 * Expr.constant (Tensor.FromArray(v.[1..], [| 1; 2 |])))
                | _ -> failwith "two cotangents"
            let second = Diff.gradN inner [ Expr.scalar DType.Float64 0.0; x1 ] |> List.map values
            let atZero = (v.[0] + v.[2]) * u.[1] * (-Math.PI * Math.PI / 3.0)
            let atLarge = second.[1].[0]
            if not (Double.IsFinite atLarge && abs atLarge <= abs ((v.[0] + v.[1]) * u.[0]) * bound 1e300) then
                failtestf "the entry at 1e300 is %g" atLarge
            if not (abs (second.[1].[1] - atZero) <= 1e-12 * abs atZero) then failtestf "the entry at 0 is %.15g, expected %.15g" second.[1].[1] atZero
            if not (abs (second.[0].[0] - (atZero + atLarge)) <= 1e-12 * abs atZero) then failtestf "x₀'s entry is %.15g" second.[0].[0]
        }
        test "softshrink is the constant 0 on (−λ, λ): no cotangent there, so a NaN cotangent gives 0 as torch's mask (fuzz adversarial 1/27)" {
            // d/dx Σ c·softshrink(x): c·0 on (−λ, λ) is the zero map (the function is constant there), c·1 outside
            let c = [| nan; 2.0; -3.0; infinity |]
            let xs = [| 0.2; 0.7; -0.9; 1e-45 |]
            let g = values (Diff.grad (fun y -> Expr.sum (constantVector c * Activations.softshrink 0.5 y)) (constantVector xs))
            expectIeee g [| 0.0; 2.0; -3.0; 0.0 |] "gradient"
            // NaN is outside [−λ, λ] as torch reads it: slope 1 (fuzz 2/663)
            let atNaN = values (Diff.grad (fun y -> Expr.sum (Activations.softshrink 1.0 y)) (constantVector [| 0.0; nan |]))
            expectIeee atNaN [| 0.0; 1.0 |] "at NaN"
        }
        test "hypot's gradient under an infinite cotangent is ±∞, the cotangent times a/h and b/h (fuzz all adversarial 59/149)" {
            // expm1(h) overflows for h > 709.8, so its cotangent into h is ∞ and the gradient ∞·(a/h), ∞·(b/h)
            let a = [| 1000.0; -1e30; 1e10 |]
            let b = [| 7.6; -69.8; -23.7 |]
            let ga, gb = Diff.grad2 (fun p q -> Expr.sum (Expr.expm1 (Elementary.hypot p q))) (constantVector a, constantVector b)
            expectIeee (values ga) [| infinity; -infinity; infinity |] "in a"
            expectIeee (values gb) [| infinity; -infinity; -infinity |] "in b"
            // and the curvature stays the closed form's where everything is finite: ∂²h/∂a² = b²/h³, ∂²h/∂a∂b = −ab/h³
            let xs = [| 3.0; -0.5 |]
            let ys = [| 4.0; 1e-3 |]
            let hessian = values (Diff.hessian (fun z -> Expr.sum (Elementary.hypot (Expr.sliceAxis 0 0 2 z) (Expr.sliceAxis 0 2 4 z))) (constantVector (Array.append xs ys)))
            for i in 0 .. 1 do
                let h = Math.Sqrt(xs.[i] * xs.[i] + ys.[i] * ys.[i])
                let expected = [| ys.[i] * ys.[i] / (h * h * h); -xs.[i] * ys.[i] / (h * h * h); xs.[i] * xs.[i] / (h * h * h) |]
                let actual = [| hessian.[i * 4 + i]; hessian.[i * 4 + 2 + i]; hessian.[(2 + i) * 4 + 2 + i] |]
                for k in 0 .. 2 do
                    if not (abs (actual.[k] - expected.[k]) <= 1e-12 * (abs expected.[k] + 1e-300)) then
                        failtestf "entry %d of point %d: %.15g, expected %.15g" k i actual.[k] expected.[k]
        }
        test "hypot at an infinite operand: +∞ with the limits of the slopes, sign of the infinite operand and 0 for the finite one (fuzz 2/309)" {
            // ∂h/∂a = a/h → sign(a) as |a| → ∞ with b finite, ∂h/∂b = b/h → 0
            let a = [| 0.0; -2.0; 1.0 |]
            let b = [| -infinity; -infinity; infinity |]
            let ga, gb = Diff.grad2 (fun p q -> Expr.sum (Elementary.hypot p q)) (constantVector a, constantVector b)
            expectIeee (values ga) [| 0.0; 0.0; 0.0 |] "finite operand"
            expectIeee (values gb) [| -1.0; -1.0; 1.0 |] "infinite operand"
            expectIeee (values (Elementary.hypot (constantVector a) (constantVector b))) [| infinity; infinity; infinity |] "value"
        }
        test "logaddexp's slopes are one factor each, g·σ(a − b) and g·σ(b − a), so an infinite cotangent gives ±∞, not ∞ − ∞ (fuzz adversarial 2/245)" {
            let sigma (t: float) = 1.0 / (1.0 + Math.Exp(-t))
            let a = [| 1.0; 0.0; 3.0; 1000.0 |]
            let b = [| 1.0; 2.0; -1.0; 1000.0 |]
            let c = [| infinity; -infinity; 1.0; infinity |]
            let ga, gb = Diff.grad2 (fun p q -> Expr.sum (constantVector c * Elementary.logAddExp p q)) (constantVector a, constantVector b)
            expectIeee (values ga) (Array.init 4 (fun i -> c.[i] * sigma (a.[i] - b.[i]))) "d/da"
            expectIeee (values gb) (Array.init 4 (fun i -> c.[i] * sigma (b.[i] - a.[i]))) "d/db"
            // logaddexp(x, x) = x + log 2, slope 1: under g = +∞ the gradient is +∞
            let same = values (Diff.grad (fun y -> Expr.sum (constantVector [| infinity; -infinity |] * Elementary.logAddExp y y)) (constantVector [| 0.207; 1000.0 |]))
            expectIeee same [| infinity; -infinity |] "logaddexp(x, x)"
            // equal infinities keep their slopes 1 and 0
            let ia, ib = Diff.grad2 (fun p q -> Expr.sum (Elementary.logAddExp p q)) (constantVector [| infinity |], constantVector [| infinity |])
            expectIeee (Array.append (values ia) (values ib)) [| 1.0; 0.0 |] "equal infinities"
        }
        test "the 2-norm of subnormal entries: value, gradient x/‖x‖ and JVP ⟨t, x⟩/‖x‖, with no ∞·0 from the scale's reciprocal (fuzz adversarial 25/129, 26/263)" {
            // reference: ‖x‖ = m·√Σ(x/m)² with m = max|x| (x/m and the product exact enough in plain float64: no square
            // underflows), the gradient x/‖x‖ as (x/m)/√Σ(x/m)², the JVP Σ t·x/‖x‖ written out
            let cases =
                [ [| 3; 1 |], [| 0.0; 0.0; 1e-310 |], [| 0.0730002; 1.03962; -0.946921 |]
                  [| 2; 1 |], [| 1e-310; 0.0 |], [| -1.47515; -1.62497 |]
                  [| 2; 1 |], [| 3e-310; -4e-310 |], [| 6.5; -2.0 |]
                  [| 1; 2 |], [| 5e-324; 0.0 |], [| 3.0; 100.0 |]
                  [| 2; 2 |], [| 1e-200; -2e-200; 0.0; 2e-200 |], [| 1.0; 2.0; -3.0; 50.0 |] ]
            for shape, xs, ts in cases do
                let m = xs |> Array.map abs |> Array.max
                let root = Math.Sqrt(xs |> Array.sumBy (fun x -> (x / m) * (x / m)))
                let unit = xs |> Array.map (fun x -> (x / m) / root)
                let expectedNorm = m * root
                let expectedTangent = Array.fold2 (fun acc t u -> acc + t * u) 0.0 ts unit
                let at = Expr.constant (Tensor.FromArray(xs, shape))
                let relative (a: float) (e: float) = abs (a - e) <= 1e-14 * abs e
                let value = (values (Statistics.frobenius false at)).[0]
                if not (relative value expectedNorm) then failtestf "norm of %A is %g, expected %g" xs value expectedNorm
                let gradient = values (Diff.grad (Statistics.frobenius false) at)
                for i in 0 .. xs.Length - 1 do
                    if not (abs (gradient.[i] - unit.[i]) <= 1e-14) then failtestf "gradient of %A is %A, expected %A" xs gradient unit
                let _, tangent = Diff.jvp (Statistics.frobenius false) at (Expr.constant (Tensor.FromArray(ts, shape)))
                let tangent = (values tangent).[0]
                if not (abs (tangent - expectedTangent) <= 1e-14 * (1.0 + abs expectedTangent)) then
                    failtestf "JVP of %A along %A is %g, expected %g" xs ts tangent expectedTangent
            // the Hessian (I − x̂x̂ᵀ)/‖x‖ where it is in range: at [3e-300, −4e-300], x̂ = [0.6, −0.8] and ‖x‖ = 5e-300
            let at = Expr.constant (Tensor.FromArray([| 3e-300; -4e-300 |], [| 2; 1 |]))
            let hessian = values (Diff.hessian (Statistics.frobenius false) at)
            let unit = [| 0.6; -0.8 |]
            let expected = [| for i in 0 .. 1 do for j in 0 .. 1 -> ((if i = j then 1.0 else 0.0) - unit.[i] * unit.[j]) / 5e-300 |]
            for i in 0 .. 3 do
                if not (abs (hessian.[i] - expected.[i]) <= 1e-13 * abs expected.[i]) then
                    failtestf "Hessian at [3e-300, -4e-300] is %A, expected %A" hessian expected
        }
        test "interpolate reads each output's taps by index: an infinite entry reaches only the outputs that read it (fuzz 21/317)" {
            // nearest: output o reads input ⌊o·in/out⌋; linear (align_corners false): (1 − w)·x[i0] + w·x[i1] at
            // source max(0, (o + 0.5)·in/out − 0.5), i0 = ⌊source⌋, i1 = min(i0 + 1, in − 1), w = source − i0; both
            // written out here in IEEE arithmetic (an infinite neighbour with weight 0 gives NaN, as torch's kernel)
            let x = [| 0.0; 0.0; 2.5; -infinity |]
            let input = x.Length
            for output in [ 4; 6; 3; 8 ] do
                let r = float input / float output
                let nearest = Array.init output (fun o -> x.[min (int (floor (float o * r))) (input - 1)])
                let linear =
                    Array.init output (fun o ->
                        let source = max 0.0 ((float o + 0.5) * r - 0.5)
                        let i0 = min (int (floor source)) (input - 1)
                        let i1 = min (i0 + 1) (input - 1)
                        let w = source - float i0
                        x.[i0] * (1.0 - w) + x.[i1] * w)
                let resampled mode = values (Resampling.interpolate mode [| output |] None false (Expr.constant (tensor [| 1; 1; input |] x)))
                // to the same size torch's kernels copy the input
                expectIeee (resampled InterpolationMode.Nearest) (if output = input then x else nearest) (sprintf "nearest to %d" output)
                expectIeee (resampled InterpolationMode.Linear) (if output = input then x else linear) (sprintf "linear to %d" output)
        }
        test "var's gradient over a row with an infinite or NaN entry first is torch's 2g(x − mean x)/(N − 1) in IEEE arithmetic: +∞ in the finite entry beside −∞ (fuzz adversarial 23/93)" {
            for row in [ [| -infinity; 0.0 |]; [| 0.0; -infinity |]; [| infinity; 1.5; -2.0 |]; [| nan; 1.0 |]; [| 2.0; 2.0; 2.0 |] ] do
                let g = 0.424
                let mean = Array.sum row / float row.Length
                let expected = row |> Array.map (fun x -> g * 2.0 * (x - mean) / float (row.Length - 1))
                let gradient = values (Diff.grad (fun y -> Expr.scalar DType.Float64 g * Statistics.var [| 0 |] 1.0 false y) (constantVector row))
                expectIeee gradient expected (sprintf "gradient of var %A" row)
        }
        test "sinc's rule is one factor: under an infinite cotangent its gradient is ±∞ by the sign of sinc′, and its derivatives match central differences (fuzz adversarial 23/114)" {
            let xs = [| 2.0560174; -0.7; 0.31; 1e-3; 5.5 |]
            // sinc′(x) = (cos πx − sinc x)/x, in closed form
            let slope (x: float) = (cos (Math.PI * x) - sin (Math.PI * x) / (Math.PI * x)) / x
            let _, pullback = Diff.vjp (fun y -> Elementary.sinc y) (constantVector xs)
            let gs = [| infinity; -infinity; infinity; -infinity; infinity |]
            expectIeee (values (pullback (constantVector gs))) (Array.map2 (fun g x -> g * slope x) gs xs) "gradient under ±∞"
            let f (y: Expr) = Expr.sum (Elementary.sinc y * constantVector [| 0.7; -1.1; 0.4; 2.0; -0.3 |])
            let numeric = numericGradient (fun ys -> f ys.Head) [ Tensor.FromArray(xs, [| xs.Length |]) ]
            expectClose 1e-8 (values (Diff.grad f (constantVector xs))) numeric.Head "gradient"
            let v = [| 0.5; -1.0; 0.25; 1.5; 2.0 |]
            let h = 1e-5
            let gradientAt (s: float) = values (Diff.grad f (constantVector (Array.map2 (fun a b -> a + s * b) xs v)))
            let differenced = Array.map2 (fun p m -> (p - m) / (2.0 * h)) (gradientAt h) (gradientAt -h)
            expectClose 1e-6 (values (Diff.hvp f (constantVector xs) (constantVector v))) differenced "HVP"
        }
        test "glu's rule forms a·σ′(b) before the cotangent meets it: the gradient of glu(x)² at a = 1e160, b = 710 is 2a²σ(b)σ′(b) = 4.5e11, not +∞ (fuzz adversarial 23/180)" {
            let a, b = 1e160, 710.0
            let f (x: Expr) = Expr.sum (Expr.square (Activations.glu 0 x))
            let gradient = values (Diff.grad f (constantVector [| a; b |]))
            // σ(710) = 1 and σ′(710) = e^−710/(1 + e^−710)² = e^−710 (a subnormal) in float64; the closed form in IEEE order
            let sigma, sigmaSlope = 1.0, Math.Exp(-b)
            expectIeee gradient [| 2.0 * a * sigma * sigma; 2.0 * a * sigma * (a * sigmaSlope) |] "gradient"
            Expect.isTrue (Double.IsFinite gradient.[1] && gradient.[1] > 4e11) "the slope in b is finite"
            // at moderate magnitudes against central differences, over a split axis
            let x = [| 0.3; -1.2; 0.8; 0.5; -0.4; 1.7 |]
            let weights = [| 1.0; -0.5; 2.0 |]
            let g (y: Expr) = Expr.sum (Expr.square (Activations.glu 1 (Expr.reshape [| 3; 2 |] y)) * constantVector weights)
            let numeric = numericGradient (fun ys -> g ys.Head) [ Tensor.FromArray(x, [| 6 |]) ]
            expectClose 1e-8 (values (Diff.grad g (constantVector x))) numeric.Head "gradient at moderate magnitudes"
            let v = [| 0.5; -1.0; 0.25; 1.5; 2.0; -0.7 |]
            let h = 1e-5
            let gradientAt (s: float) = values (Diff.grad g (constantVector (Array.map2 (fun p q -> p + s * q) x v)))
            let differenced = Array.map2 (fun p m -> (p - m) / (2.0 * h)) (gradientAt h) (gradientAt -h)
            expectClose 1e-6 (values (Diff.hvp g (constantVector x) (constantVector v))) differenced "HVP"
        }
        test "pow's second derivative where b(b − 1) overflows: the chain (g·b)·(b − 1) meets an exact 0 before the constants, so the Hessian entry is 0, not ∞·0 (fuzz adversarial 34/264)" {
            // f = (x₁·x₀)^b with b = −1e160 at x₁·x₀ = 1 exactly (1e-10·1e10): f′ = b, f″ = b(b − 1) = 1e320 (beyond
            // the range); ∂²f/∂x₀∂x₀ = f″·x₁x₁ᵀ and ∂²f/∂x₁∂x₀ = f″·x₀x₁ᵀ + f′·I. Their columns for x₀'s entry 0, where
            // x₁₀ = 0, hold f″ only times 0: [0, 0] and [b, 0]. (The other columns hold ∞ in the closed form's
            // rounding, and forward mode's tangent f″·ẋ = ∞ meets x₁₀ = 0 in them, as torch's rows meet it.)
            let b = -1e160
            let x0 = constantVector [| -1.2297299835421067; 1e10 |]
            let x1 = constantVector [| 0.0; 1e-10 |]
            let f (args: Expr list) = Expr.pow (Expr.matmul args.[1] args.[0]) (Expr.scalar f64 b)
            let blocks = Diff.hessianN f [ x0; x1 ]
            let column0 (block: Expr) = let h = values block in [| h.[0]; h.[2] |]
            expectIeee (column0 blocks.[0].[0]) [| 0.0; 0.0 |] "∂²f/∂x₀∂x₀₀"
            expectIeee (column0 blocks.[1].[0]) [| b; 0.0 |] "∂²f/∂x₁∂x₀₀"
            // reverse over reverse in the same direction: the HVP of ⟨grad f, e₀⟩ over x₀, by grad of grad
            let hvp = values (Diff.grad (fun y -> Expr.sum (Diff.grad (fun z -> f [ z; x1 ]) y * constantVector [| 1.0; 0.0 |])) x0)
            expectIeee hvp [| 0.0; 0.0 |] "reverse over reverse"
        }
        test "softmax and softmin over an axis of length 1 are the constant 1 (NaN at a non-finite entry), held where finite, so a Hessian beside terms of 1/eps keeps its entries (fuzz 24/1063)" {
            // f = u·(min x − softmin(n₀))·n₀ with n = normalize₁(x) = x/eps near x = 0 (‖x‖₁ < eps) and softmin over one entry the
            // constant 1: f = u·(min x − 1)·x₀/eps, whose Hessian at x = 0 is (u/eps)·[[2m₀, m₁], [m₁, 0]] with the tie's shares
            // m₀ = m₁ = 1/2 (torch's)
            let u = 0.902002
            for dtype in [ f64; DType.Float32 ] do
                let eps = match dtype with DType.Float32 -> float (1.0f / float32 1e-12) | DType.Float64 -> 1e12
                let f (x: Expr) =
                    let n0 = Expr.sliceAxis 0 0 1 (Functional.normalize 1.0 0 1e-12 x)
                    Expr.sum ((Expr.minAxes [| 0 |] false x - Activations.softmin 0 n0) * n0) * u
                let at = Expr.constant (Tensor.FromArray([| 0.0; 0.0 |], [| 2 |]).Cast dtype)
                let closed = [| u * eps; u * eps / 2.0; u * eps / 2.0; 0.0 |]
                let tolerance = match dtype with DType.Float32 -> 1e-6 | DType.Float64 -> 1e-14
                expectClose tolerance ((Eval.eval (Diff.hessian f at)).ToDoubleArray() |> Array.map (fun h -> h / (u * eps))) (closed |> Array.map (fun h -> h / (u * eps))) (sprintf "%A Hessian / (u/eps)" dtype)
            // the constant's value: 1 at finite entries, NaN at ±∞ and NaN; and no derivative
            let values1 = values (Nn.softmax 1 (Expr.constant (Tensor.FromArray([| 2.0; infinity; nan |], [| 3; 1 |]))))
            expectIeee values1 [| 1.0; nan; nan |] "softmax over one entry"
            expectIeee (values (Diff.grad (fun x -> Expr.sum (Nn.softmax 1 x * 3.0)) (Expr.constant (Tensor.FromArray([| 2.0; -5.0 |], [| 2; 1 |]))))) [| 0.0; 0.0 |] "gradient"
        }
        test "reciprocal: the cotangent meets y = 1/x one factor at a time, so a zero or small cotangent stays 0 or finite where y² overflows, at first and second order" {
            // f(x, u) = Σ u/x at x = 1e-160 (y = 1e160, y² = ∞) with u = 0 and 1e-200, and a plain entry; every closed form below
            // divides by x one factor at a time, as exact arithmetic allows: ∂f/∂x = −u/x², ∂f/∂u = 1/x, and the Hessian's
            // blocks ∂²f/∂x² = 2u/x³, ∂²f/∂x∂u = −1/x², ∂²f/∂u² = 0
            let x = [| 1e-160; 1e-160; 3.0 |]
            let u = [| 0.0; 1e-200; 1.5 |]
            let f (z: Expr) = Expr.sum (Expr.reciprocal (Expr.sliceAxis 0 0 3 z) * Expr.sliceAxis 0 3 6 z)
            let at = constantVector (Array.append x u)
            let gradient = Array.append (Array.init 3 (fun i -> -(u.[i] / x.[i]) / x.[i])) (Array.init 3 (fun i -> 1.0 / x.[i]))
            expectIeee (values (Diff.grad f at)) gradient "gradient"
            // the JVP of 1/x along a zero and a small tangent: −t/x²
            let t = [| 0.0; 1e-200; 1.5 |]
            expectIeee (values (snd (Diff.jvp Expr.reciprocal (constantVector x) (constantVector t)))) (Array.init 3 (fun i -> -(t.[i] / x.[i]) / x.[i])) "JVP"
            // second order along (dx, du) = (t, [0, 0, 1]): 2u·dx/x³ − du/x² in x, −dx/x² in u
            let du = [| 0.0; 0.0; 1.0 |]
            let direction = Array.append t du
            let expected =
                Array.append (Array.init 3 (fun i -> 2.0 * (u.[i] / x.[i]) * (t.[i] / x.[i]) / x.[i] - (du.[i] / x.[i]) / x.[i]))
                             (Array.init 3 (fun i -> -(t.[i] / x.[i]) / x.[i]))
            expectIeee (values (Diff.hvp f at (constantVector direction))) expected "HVP"
            expectIeee (values (snd (Diff.jvp (Diff.grad f) at (constantVector direction)))) expected "forward over reverse"
            expectIeee (values (Diff.grad (fun z -> Expr.sum (constantVector direction * Diff.grad f z)) at)) expected "reverse over reverse"
        }
    ]
