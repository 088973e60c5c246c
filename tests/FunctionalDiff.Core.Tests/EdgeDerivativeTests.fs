/// Specifications of derivatives at the edges: products with exact zeros, composites at their
/// kinks to third order, log-sum-exp and softmax with infinities, and reductions over empty axes.
/// References are closed forms, float64 finite differences of plain reference functions written
/// here, and IEEE/torch semantics spelled out as reference loops.
module FunctionalDiff.Core.Tests.EdgeDerivativeTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64
let private vector (data: float[]) = Expr.constant (Tensor.FromArray(data, [| data.Length |]))
let private valuesOf (e: Expr) = (Eval.eval e).ToDoubleArray()

/// The gradient, Hessian (row-major) and third derivative D³f[u,v,w] of a scalar f at x.
let private gradientAt (f: Expr -> Expr) (x: float[]) = valuesOf (Diff.grad f (vector x))
let private hessianAt (f: Expr -> Expr) (x: float[]) = valuesOf (Diff.hessian f (vector x))
let private thirdAt (f: Expr -> Expr) (x: float[]) (u: float[]) (v: float[]) (w: float[]) =
    let first (y: Expr) = snd (Diff.jvp f y (vector w))
    let second (y: Expr) = snd (Diff.jvp first y (vector v))
    value (snd (Diff.jvp second (vector x) (vector u)))

let private basis (n: int) (i: int) = Array.init n (fun j -> if i = j then 1.0 else 0.0)

let private expectAll (tolerance: float) (expected: float[]) (actual: float[]) (message: string) =
    Expect.equal actual.Length expected.Length (message + ": length")
    for i in 0 .. expected.Length - 1 do
        if not (GraphTestSupport.closeEnough tolerance actual.[i] expected.[i]) then
            failtestf "%s: element %d is %.12g, expected %.12g\nactual   %A\nexpected %A" message i actual.[i] expected.[i] actual expected

/// Product of the entries of `x` at the positions not in `skip`.
let private productWithout (x: float[]) (skip: int list) =
    x |> Array.indexed |> Array.fold (fun p (i, v) -> if List.contains i skip then p else p * v) 1.0

/// Central differences of a float64 reference function: gradient (h 1e-6), Hessian (h 1e-4)
/// and the third directional derivative g'''(0) of g(t) = r(x + t u) (h 1e-3).
let private shifted (x: float[]) (pairs: (float[] * float) list) =
    Array.init x.Length (fun i -> x.[i] + (pairs |> List.sumBy (fun (d, t) -> t * d.[i])))

let private fdGradient (r: float[] -> float) (x: float[]) =
    let h = 1e-6
    Array.init x.Length (fun i ->
        let e = basis x.Length i
        (r (shifted x [ e, h ]) - r (shifted x [ e, -h ])) / (2.0 * h))

let private fdHessian (r: float[] -> float) (x: float[]) =
    let h = 1e-4
    let n = x.Length
    Array.init (n * n) (fun k ->
        let ei, ej = basis n (k / n), basis n (k % n)
        (r (shifted x [ ei, h; ej, h ]) - r (shifted x [ ei, h; ej, -h ]) - r (shifted x [ ei, -h; ej, h ]) + r (shifted x [ ei, -h; ej, -h ]))
        / (4.0 * h * h))

let private fdThird (r: float[] -> float) (x: float[]) (u: float[]) =
    let h = 1e-3
    let g t = r (shifted x [ u, t ])
    (g (2.0 * h) - 2.0 * g h + 2.0 * g (-h) - g (-2.0 * h)) / (2.0 * h * h * h)

/// Checks f against its reference r at x: gradient, Hessian, and third derivatives along the
/// basis vectors and two mixed directions.
let private expectDerivativesToOrder3 (name: string) (f: Expr -> Expr) (r: float[] -> float) (x: float[]) =
    expectAll 1e-6 (fdGradient r x) (gradientAt f x) (name + " gradient")
    expectAll 1e-5 (fdHessian r x) (hessianAt f x) (name + " Hessian")
    let random = Random(3)
    let directions = [ for i in 0 .. x.Length - 1 -> basis x.Length i ] @ [ for _ in 1 .. 2 -> Array.init x.Length (fun _ -> random.NextDouble() - 0.5) ]
    for u in directions do
        let expected = fdThird r x u
        let actual = thirdAt f x u u u
        if not (abs (actual - expected) <= 1e-4 * (1.0 + abs expected)) then
            failtestf "%s third derivative along %A: %.10g, finite differences %.10g" name u actual expected

let private sigmoid (x: float) = 1.0 / (1.0 + Math.Exp(-x))
let private logSumExpOf (x: float[]) = let m = Array.max x in m + log (x |> Array.sumBy (fun v -> exp (v - m)))

let private weights = [| 0.7; -1.3; 0.4; 2.1 |]
let private weighted (x: Expr) (values: Expr) = Expr.sum (values * vector (Array.sub weights 0 x.Dims.[0]))
let private weightedRef (n: int) (values: float[]) = Array.fold2 (fun s w v -> s + w * v) 0.0 (Array.sub weights 0 n) values

[<Tests>]
let tests =
    testList "Graph.Edges" [
        test "prod with exact zeros: gradient, Hessian and JVP against the closed forms" {
            let prod (x: Expr) = Expr.prodAxes [| 0 |] false x
            expectAll 0.0 [| 0.0; 6.0; 0.0 |] (gradientAt prod [| 2.0; 0.0; 3.0 |]) "gradient at [2,0,3]"
            expectAll 0.0 [| 0.0; 3.0; 0.0; 3.0; 0.0; 2.0; 0.0; 2.0; 0.0 |] (hessianAt prod [| 2.0; 0.0; 3.0 |]) "Hessian at [2,0,3]"
            Expect.equal (value (snd (Diff.jvp prod (vector [| 2.0; 0.0; 3.0 |]) (vector [| 1.0; 1.0; 1.0 |])))) 6.0 "JVP along ones"
            expectAll 0.0 [| 0.0; 0.0; 0.0 |] (gradientAt prod [| 0.0; 0.0; 3.0 |]) "gradient at [0,0,3]"
            expectAll 0.0 [| 0.0; 3.0; 0.0; 3.0; 0.0; 0.0; 0.0; 0.0; 0.0 |] (hessianAt prod [| 0.0; 0.0; 3.0 |]) "Hessian at [0,0,3]"
        }

        test "prod: third derivatives are the products of the other entries, with 0, 1, 2 and 3 zeros" {
            let prod (x: Expr) = Expr.prodAxes [| 0 |] false x
            for x in [ [| 2.0; -1.5; 3.0; 0.5 |]; [| 2.0; 0.0; 3.0; 0.5 |]; [| 0.0; 0.0; 3.0; 0.5 |]; [| 0.0; 0.0; 0.0; 0.5 |]; [| 0.0; 4.0; 0.0; 0.0 |] ] do
                let n = x.Length
                expectAll 1e-12 (Array.init n (fun i -> productWithout x [ i ])) (gradientAt prod x) (sprintf "gradient at %A" x)
                expectAll 1e-12 (Array.init (n * n) (fun k -> if k / n = k % n then 0.0 else productWithout x [ k / n; k % n ])) (hessianAt prod x) (sprintf "Hessian at %A" x)
                for i in 0 .. n - 1 do
                    for j in 0 .. n - 1 do
                        for k in 0 .. n - 1 do
                            let expected = if i = j || j = k || i = k then 0.0 else productWithout x [ i; j; k ]
                            let actual = thirdAt prod x (basis n i) (basis n j) (basis n k)
                            Expect.floatClose Accuracy.veryHigh actual expected (sprintf "d3/dx%d dx%d dx%d at %A" i j k x)
                expectDerivativesToOrder3 (sprintf "prod at %A" x) prod (fun v -> Array.fold (*) 1.0 v) x
        }

        test "prod over several axes, with keepDims, where groups hold zeros: gradient and Hessian against a reference loop" {
            // x [2,3,2] reduced over axes 0 and 2: three groups of four entries, weighted
            let values = [| 1.5; 0.0; 2.0; -1.0; 0.5; 3.0; 0.0; 2.0; 0.0; 0.0; 1.25; -2.0 |]
            let groupOf (flat: int) = (flat / 2) % 3
            let groupWeights = [| 0.5; -2.0; 1.5 |]
            for keepDims in [ false; true ] do
                let f (x: Expr) =
                    let products = Expr.prodAxes [| 0; -1 |] keepDims (Expr.reshape [| 2; 3; 2 |] x)
                    Expr.sum (products * Expr.reshape products.Shape (vector groupWeights))
                let members (g: int) = [ 0 .. 11 ] |> List.filter (fun i -> groupOf i = g)
                let othersProduct (skip: int list) (g: int) =
                    members g |> List.filter (fun i -> not (List.contains i skip)) |> List.fold (fun p i -> p * values.[i]) 1.0
                let gradient = Array.init 12 (fun i -> groupWeights.[groupOf i] * othersProduct [ i ] (groupOf i))
                let hessian =
                    Array.init 144 (fun k ->
                        let i, j = k / 12, k % 12
                        if i = j || groupOf i <> groupOf j then 0.0 else groupWeights.[groupOf i] * othersProduct [ i; j ] (groupOf i))
                expectAll 1e-12 gradient (gradientAt f values) (sprintf "gradient, keepDims %b" keepDims)
                expectAll 1e-12 hessian (hessianAt f values) (sprintf "Hessian, keepDims %b" keepDims)
        }

        test "softplus at 0: derivatives sigma(0) = 1/2, sigma'(0) = 1/4, sigma''(0) = 0" {
            let f (x: Expr) = Expr.sum (Nn.softplus x)
            expectAll 0.0 [| 0.5 |] (gradientAt f [| 0.0 |]) "first"
            expectAll 1e-15 [| 0.25 |] (hessianAt f [| 0.0 |]) "second"
            Expect.floatClose Accuracy.veryHigh (thirdAt f [| 0.0 |] [| 1.0 |] [| 1.0 |] [| 1.0 |]) 0.0 "third"
            // and away from 0, against sigma's closed forms, including where e^{-x} overflows
            for x in [ -800.0; -30.0; -1.0; -1e-9; 1e-9; 2.0; 30.0; 800.0 ] do
                let s = sigmoid x
                expectAll 1e-14 [| s |] (gradientAt f [| x |]) (sprintf "first at %g" x)
                expectAll 1e-14 [| s * (1.0 - s) |] (hessianAt f [| x |]) (sprintf "second at %g" x)
                Expect.floatClose Accuracy.veryHigh (thirdAt f [| x |] [| 1.0 |] [| 1.0 |] [| 1.0 |]) (s * (1.0 - s) * (1.0 - 2.0 * s)) (sprintf "third at %g" x)
                Expect.isFalse (Double.IsNaN (value (f (vector [| x |])))) (sprintf "value at %g" x)
        }

        test "binary cross-entropy with logits at zero logits: Hessian diag(1/8, 1/8) as torch" {
            let targets = vector [| 1.0; 0.0 |]
            let f (x: Expr) = Nn.binaryCrossEntropyWithLogits x targets
            // mean over 2 of softplus(x) - x t: the Hessian is sigma'(x)/2 on the diagonal
            expectAll 1e-15 [| 0.125; 0.0; 0.0; 0.125 |] (hessianAt f [| 0.0; 0.0 |]) "Hessian"
            expectAll 1e-15 [| (0.5 - 1.0) / 2.0; 0.5 / 2.0 |] (gradientAt f [| 0.0; 0.0 |]) "gradient"
        }

        test "every composite at its kinks, to third order, against float64 finite differences of a reference" {
            let bceTargets = [| 1.0; 0.0; 0.25 |]
            let cases : (string * (Expr -> Expr) * (float[] -> float) * float[]) list =
                [ "softplus at 0", (fun x -> weighted x (Nn.softplus x)),
                  (fun v -> weightedRef 3 (v |> Array.map (fun x -> log (1.0 + exp x)))), [| 0.0; 0.0; -0.5 |]
                  "bce with logits at 0", (fun x -> Nn.binaryCrossEntropyWithLogits x (vector bceTargets)),
                  (fun v -> (Array.map2 (fun x t -> log (1.0 + exp x) - x * t) v bceTargets |> Array.sum) / 3.0), [| 0.0; 0.0; 0.0 |]
                  "logsumexp at a tie", (fun x -> Nn.logSumExp [| 0 |] false x), logSumExpOf, [| 1.0; 1.0; 1.0; -0.5 |]
                  "softmax at a tie", (fun x -> weighted x (Nn.softmax 0 x)),
                  (fun v -> let s = v |> Array.sumBy exp in weightedRef 4 (v |> Array.map (fun x -> exp x / s))), [| 0.5; 0.5; -1.0; 0.5 |]
                  "log_softmax at a tie", (fun x -> weighted x (Nn.logSoftmax 0 x)),
                  (fun v -> let l = logSumExpOf v in weightedRef 3 (v |> Array.map (fun x -> x - l))), [| 2.0; 2.0; 2.0 |]
                  "cross-entropy at tied logits", (fun x -> Nn.crossEntropy (Expr.reshape [| 2; 2 |] x) (vector [| 0.0; 1.0 |])),
                  (fun v -> -((v.[0] - logSumExpOf v.[0..1]) + (v.[3] - logSumExpOf v.[2..3])) / 2.0), [| 0.3; 0.3; -1.0; -1.0 |]
                  "mse where prediction = target", (fun x -> Nn.mse x (vector [| 1.0; -2.0; 0.5 |])),
                  (fun v -> (Array.map2 (fun p t -> (p - t) * (p - t)) v [| 1.0; -2.0; 0.5 |] |> Array.sum) / 3.0), [| 1.0; -2.0; 0.5 |]
                  "linear", (fun x -> weighted x (Nn.linear (Expr.constant (Tensor.FromArray([| 1.0; 2.0; -1.0; 0.5; 0.0; 3.0; 1.5; -2.0; 0.25 |], [| 3; 3 |]))) (vector [| 0.1; 0.2; 0.3 |]) x)),
                  (fun v -> weightedRef 3 [| v.[0] + 2.0 * v.[1] - v.[2] + 0.1; 0.5 * v.[0] + 3.0 * v.[2] + 0.2; 1.5 * v.[0] - 2.0 * v.[1] + 0.25 * v.[2] + 0.3 |]), [| 0.0; 0.0; 0.0 |]
                  "layer norm at equal entries", (fun x -> weighted x (Nn.layerNorm 0.1 (vector [| 1.0; 2.0; 0.5 |]) (vector [| 0.0; 1.0; -1.0 |]) x)),
                  (fun v ->
                      let m = Array.average v
                      let var = (v |> Array.sumBy (fun x -> (x - m) * (x - m))) / 3.0
                      weightedRef 3 (Array.map3 (fun x g b -> (x - m) / sqrt (var + 0.1) * g + b) v [| 1.0; 2.0; 0.5 |] [| 0.0; 1.0; -1.0 |])), [| 0.7; 0.7; 0.7 |] ]
            for name, f, r, x in cases do
                expectDerivativesToOrder3 name f r x
        }

        test "logsumexp at a tie: Hessian diag(p) - p pᵀ and third derivatives in closed form" {
            let x = [| 1.0; 1.0; 1.0; -0.5 |]
            let n = x.Length
            let l = logSumExpOf x
            let p = x |> Array.map (fun v -> exp (v - l))
            let delta i j = if i = j then 1.0 else 0.0
            let f (e: Expr) = Nn.logSumExp [| 0 |] false e
            expectAll 1e-14 (Array.init (n * n) (fun k -> let i, j = k / n, k % n in p.[i] * delta i j - p.[i] * p.[j])) (hessianAt f x) "Hessian"
            for i in 0 .. n - 1 do
                for j in 0 .. n - 1 do
                    for k in 0 .. n - 1 do
                        let expected =
                            p.[i] * delta i j * delta j k - p.[i] * p.[k] * delta i j - p.[i] * p.[j] * delta i k
                            - p.[i] * p.[j] * delta j k + 2.0 * p.[i] * p.[j] * p.[k]
                        Expect.floatClose Accuracy.veryHigh (thirdAt f x (basis n i) (basis n j) (basis n k)) expected (sprintf "T[%d,%d,%d]" i j k)
        }

        test "logsumexp, softmax and log_softmax with infinities follow torch" {
            let inf = Double.PositiveInfinity
            let same (tolerance: float) (expected: float[]) (actual: float[]) (message: string) =
                Expect.equal actual.Length expected.Length message
                for i in 0 .. expected.Length - 1 do
                    let ok = (Double.IsNaN expected.[i] && Double.IsNaN actual.[i]) || abs (expected.[i] - actual.[i]) <= tolerance || expected.[i] = actual.[i]
                    if not ok then failtestf "%s: %A, expected %A" message actual expected
            // torch: the max is subtracted only where it is finite (logsumexp); softmax and
            // log_softmax subtract it always, so a row with +inf or only -inf is NaN
            let torchLogSumExp (v: float[]) =
                let m = Array.max v
                let shift = if Double.IsInfinity m then 0.0 else m
                log (v |> Array.sumBy (fun x -> exp (x - shift))) + shift
            let torchSoftmax (v: float[]) =
                let m = Array.max v
                let e = v |> Array.map (fun x -> exp (x - m))
                let s = Array.sum e
                e |> Array.map (fun x -> x / s)
            let torchLogSoftmax (v: float[]) =
                let m = Array.max v
                let s = v |> Array.sumBy (fun x -> exp (x - m))
                v |> Array.map (fun x -> x - m - log s)
            for row in [ [| -inf; -inf |]; [| inf; 0.0 |]; [| -inf; 0.0 |]; [| inf; inf |]; [| nan; 0.0 |]; [| -inf; 2.0; 1.0 |]; [| 3.0; -inf |] ] do
                for dtype in [ DType.Float64; DType.Float32 ] do
                    let x = Expr.constant (Tensor.FromArray(row, [| row.Length |]).Cast dtype)
                    let same = same (if dtype = DType.Float64 then 1e-15 else 1e-6)
                    same [| torchLogSumExp row |] (valuesOf (Nn.logSumExp [| 0 |] false x)) (sprintf "logsumexp %A %A" row dtype)
                    same (torchSoftmax row) (valuesOf (Nn.softmax 0 x)) (sprintf "softmax %A %A" row dtype)
                    same (torchLogSoftmax row) (valuesOf (Nn.logSoftmax 0 x)) (sprintf "log_softmax %A %A" row dtype)
            Expect.equal (valuesOf (Nn.logSumExp [| 0 |] false (vector [| -inf; -inf |]))) [| -inf |] "[-inf,-inf] gives -inf"
            Expect.equal (valuesOf (Nn.logSumExp [| 0 |] false (vector [| inf; 0.0 |]))) [| inf |] "[inf, 0] gives inf"
        }

        test "reductions over empty axes follow torch: sum 0, prod 1, mean NaN, logsumexp -inf, softmax empty, max/min/argmax raise" {
            let x = Expr.constant (Tensor.Zeros([| 3; 0 |], f64))
            Expect.equal (valuesOf (Expr.sumAxes [| 1 |] false x)) [| 0.0; 0.0; 0.0 |] "sum"
            Expect.equal (valuesOf (Expr.prodAxes [| 1 |] false x)) [| 1.0; 1.0; 1.0 |] "prod"
            Expect.isTrue (valuesOf (Expr.meanAxes [| 1 |] false x) |> Array.forall Double.IsNaN) "mean"
            Expect.equal (valuesOf (Nn.logSumExp [| 1 |] false x)) (Array.create 3 Double.NegativeInfinity) "logsumexp"
            Expect.equal (valuesOf (Nn.logSumExp [| 1 |] true x)) (Array.create 3 Double.NegativeInfinity) "logsumexp keepDims"
            for name, result in [ "softmax", Nn.softmax 1 x; "log_softmax", Nn.logSoftmax 1 x ] do
                let t = Eval.eval result
                Expect.equal t.Shape [| 3; 0 |] (name + " keeps the empty shape")
            let empty0 = Expr.constant (Tensor.Zeros([| 0; 3 |], f64))
            Expect.equal (Eval.eval (Nn.softmax 0 empty0)).Shape [| 0; 3 |] "softmax over an empty axis 0"
            // over the non-empty axis of an empty tensor, the result is empty and nothing raises
            Expect.equal (Eval.eval (Nn.softmax 1 empty0)).Shape [| 0; 3 |] "softmax along the full axis"
            Expect.equal (Eval.eval (Expr.maxAxes [| 1 |] false empty0)).Shape [| 0 |] "max along a full axis of an empty tensor"
            for name, reduce in [ "max", (fun (e: Expr) -> Expr.maxAxes [| 1 |] false e); "min", (fun e -> Expr.minAxes [| 1 |] false e); "argmax", (fun e -> Expr.argmax 1 false e) ] do
                Expect.throwsT<ShapeException> (fun () -> Eval.eval (reduce x) |> ignore) (name + " over an empty axis")
            // derivatives through an empty softmax are empty too
            Expect.equal (Eval.eval (Diff.grad (fun e -> Expr.sum (Nn.softmax 1 e)) x)).Shape [| 3; 0 |] "gradient shape"
        }

        test "maximum and minimum share the cotangent as torch does, NaN included" {
            // torch: an operand gets nothing where it lost, half at a tie, all of g otherwise, so a
            // NaN on either side (no comparison holds) sends all of g to both operands.
            let a = [| nan; 1.0; 2.0; 3.0; nan |]
            let b = [| 0.5; 1.0; 5.0; -1.0; nan |]
            let u = [| 1.0; 2.0; 3.0; 4.0; 5.0 |]
            let share (lost: float -> float -> bool) (x: float[]) (y: float[]) =
                Array.init x.Length (fun i -> if lost x.[i] y.[i] then 0.0 elif x.[i] = y.[i] then u.[i] / 2.0 else u.[i])
            for name, op, lostA, lostB in
                [ "maximum", Expr.maximum, (fun x y -> x < y), (fun x y -> x > y)
                  "minimum", Expr.minimum, (fun x y -> x > y), (fun x y -> x < y) ] do
                let _, pullback = Diff.vjp2 op (vector a, vector b)
                let da, db = pullback (vector u)
                expectAll 0.0 (share lostA a b) (valuesOf da) (name + " cotangent of a")
                expectAll 0.0 (share (fun x y -> lostB x y) a b) (valuesOf db) (name + " cotangent of b")
        }

        test "sign of NaN is 0, as torch.sign computes (0 < x) - (x < 0)" {
            let x = [| nan; -0.0; 0.0; -2.0; 3.0; nan; 1e-300; -infinity |]
            let reference = x |> Array.map (fun v -> (if 0.0 < v then 1.0 else 0.0) - (if v < 0.0 then 1.0 else 0.0))
            expectAll 0.0 reference (valuesOf (Expr.sign (vector x))) "sign, vector path"
            expectAll 0.0 [| 0.0 |] (valuesOf (Expr.sign (Expr.scalar f64 nan))) "sign of a NaN scalar constant"
        }
    ]
