/// Shared helpers for the graph tests: random points, evaluation to arrays, central finite
/// differences in float64, and closeness checks with stated tolerances.
module FunctionalDiff.Core.Tests.GraphTestSupport

open System
open Expecto
open FunctionalDiff.Core

/// Where a case's inputs are drawn from, to stay away from points where it is not differentiable.
type Domain =
    /// Standard normal.
    | Normal
    /// Uniform in [0.5, 2]: for log, sqrt, reciprocal, pow bases, products.
    | Positive
    /// Uniform in [-1, 1]: for tan.
    | Unit

/// A float64 tensor of the shape drawn from the domain.
let sample (random: Random) (domain: Domain) (shape: int[]) : Tensor =
    let n = Shape.numel shape
    let draw () =
        match domain with
        | Normal ->
            // Box-Muller
            let u1, u2 = 1.0 - random.NextDouble(), random.NextDouble()
            sqrt (-2.0 * log u1) * cos (2.0 * Math.PI * u2)
        | Positive -> 0.5 + 1.5 * random.NextDouble()
        | Unit -> 2.0 * random.NextDouble() - 1.0
    Tensor.FromArray(Array.init n (fun _ -> draw ()), shape)

/// The values of a closed graph as a float64 array.

/// Standard normal samples from a generator of their own: the same seed, the same tensor.
let normalSample (seed: int) (shape: int[]) = sample (Random seed) Normal shape

/// The row-major position of an index in a shape (for reference loops over flat arrays).
let rowMajor (shape: int[]) (index: int[]) = Array.fold2 (fun s d i -> s * d + i) 0 shape index
let values (e: Expr) = (Eval.eval e).ToDoubleArray()

/// The value of a closed one-element graph.
let value (e: Expr) = (Eval.eval e).ToScalar()

/// Central differences of a function of a flat vector of floats in each coordinate, step h.
let centralGradient (f: float[] -> float) (x: float[]) (h: float) =
    Array.init x.Length (fun i ->
        let plus, minus = Array.copy x, Array.copy x
        plus.[i] <- plus.[i] + h
        minus.[i] <- minus.[i] - h
        (f plus - f minus) / (2.0 * h))

/// Central differences of a scalar function of several tensors, one gradient array per input.
/// The step 1e-6 balances truncation (~h^2 |f'''| ~ 1e-12) against rounding (~1e-16 |f| / h ~ 1e-10).
let numericGradient (phi: Expr list -> Expr) (points: Tensor list) : float[] list =
    let step = 1e-6
    let vars = points |> List.mapi (fun i p -> Expr.variable (sprintf "p%d" i) p.Shape p.DType)
    let output = phi vars
    let at (inputs: Tensor list) = (Eval.evalWith (List.zip vars inputs) output).ToScalar()
    points
    |> List.mapi (fun i p ->
        let data = p.ToDoubleArray()
        Array.init data.Length (fun k ->
            let shifted delta =
                let copy = Array.copy data
                copy.[k] <- copy.[k] + delta
                Tensor.FromArray(copy, p.Shape)
            let evaluate delta = at (points |> List.mapi (fun j q -> if j = i then shifted delta else q))
            (evaluate step - evaluate -step) / (2.0 * step)))

/// |actual - expected| <= tolerance * (1 + |expected|) where both are finite; otherwise the two must be equal (NaN
/// matches NaN). By the relative bound alone an infinite expected value would accept any finite one (∞ <= tolerance·∞),
/// and equal infinities would fail (∞ − ∞ is NaN).
let closeEnough (tolerance: float) (actual: float) (expected: float) =
    if Double.IsFinite actual && Double.IsFinite expected then abs (actual - expected) <= tolerance * (1.0 + abs expected)
    else actual.Equals expected

/// Asserts closeEnough elementwise.
let expectClose (tolerance: float) (actual: float[]) (expected: float[]) (message: string) =
    Expect.equal actual.Length expected.Length (message + ": length")
    for i in 0 .. actual.Length - 1 do
        let a, e = actual.[i], expected.[i]
        if not (closeEnough tolerance a e) then
            failtestf "%s: element %d is %.12g, expected %.12g (tolerance %g)\nactual   %A\nexpected %A" message i a e tolerance actual expected

/// expectClose with the expected values first (as the client-port test files read).
let closeExpectedFirst (tolerance: float) (expected: float[]) (actual: float[]) (what: string) = expectClose tolerance actual expected what

/// n smooth, distinct test values (a sine sampled off its zeros), varied by `salt`.
let sineData (n: int) (salt: int) = Array.init n (fun i -> 1.5 * sin (1.7 * float i + 0.3 + float salt))

/// IEEE agreement elementwise: NaN matches NaN, an infinity the same infinity, finite numbers
/// within 1e-12 relative (the edge tests' check against torch's semantics).
let expectIeee (actual: float[]) (expected: float[]) (message: string) =
    Expect.equal actual.Length expected.Length (message + ": length")
    for i in 0 .. expected.Length - 1 do
        let a, e = actual.[i], expected.[i]
        let same =
            if Double.IsNaN e then Double.IsNaN a
            elif Double.IsInfinity e then a = e
            else abs (a - e) <= 1e-12 * (1.0 + abs e)
        if not same then failtestf "%s: element %d is %g, expected %g\nactual   %A\nexpected %A" message i a e actual expected

/// A rank-1 constant node holding the data.
let constantVector (data: float[]) = Expr.constant (Tensor.FromArray(data, [| data.Length |]))

/// The inner product sum(x * w) as a graph: the scalar whose gradient is the VJP of w.
let inner (x: Expr) (w: Tensor) = Expr.sum (x * Expr.constant w)

/// The constant graph of a tensor.
let constant (t: Tensor) = Expr.constant t

/// A float64 tensor from values.
let tensor (shape: int[]) (data: float[]) = Tensor.FromArray(data, shape)

/// One function to check against finite differences: its name, the shapes of its inputs, where
/// the inputs are drawn from, and the function.
type RuleCase = { Name: string; Shapes: int[] list; Domain: Domain; F: Expr list -> Expr }

/// Inputs drawn from the case's domain, a weight w for its output (so the check is a VJP along w,
/// not only the gradient of a sum), and one direction per input for second order, from one seed.
let private rulePoints (seed: int) (c: RuleCase) =
    let random = Random seed
    let points = c.Shapes |> List.map (sample random c.Domain)
    let outputShape = (c.F (c.Shapes |> List.map (fun s -> Expr.variable "probe" s DType.Float64))).Shape
    let w = sample random Normal outputShape
    let directions = c.Shapes |> List.map (sample random Normal)
    points, w, directions

/// First order: the gradient of phi(x) = <f(x), w> against central differences. 1e-6 relative
/// leaves room for values of size ~100 (exp, reciprocal) without hiding wrong rules.
let firstOrderTest (seed: int) (c: RuleCase) =
    test c.Name {
        let points, w, _ = rulePoints seed c
        let phi xs = inner (c.F xs) w
        let ours = Diff.gradN phi (points |> List.map constant) |> List.map values
        List.iteri2 (fun i o r -> expectClose 1e-6 o r (sprintf "%s: input %d" c.Name i)) ours (numericGradient phi points)
    }

/// Second order: psi(x) = sum_i <grad_i phi(x), u_i>, whose gradient is a Hessian-vector
/// product, against central differences of our first-order graph; 1e-5 allows for the larger
/// third derivatives (tan, reciprocal, rsqrt) in the truncation error.
let secondOrderTest (seed: int) (c: RuleCase) =
    test c.Name {
        let points, w, directions = rulePoints seed c
        let phi xs = inner (c.F xs) w
        let psi xs = List.map2 inner (Diff.gradN phi xs) directions |> List.reduce (+)
        let ours = Diff.gradN psi (points |> List.map constant) |> List.map values
        List.iteri2 (fun i o r -> expectClose 1e-5 o r (sprintf "%s: input %d" c.Name i)) ours (numericGradient psi points)
    }

/// Forward mode: J·t of every case, at a point and a tangent drawn from the seed, against central differences of the
/// value along t (1e-6 relative).
let forwardModeTest (seed: int) (cases: RuleCase list) =
    test "forward mode matches central differences of the value" {
        for c in cases do
            let random = Random seed
            let points = c.Shapes |> List.map (sample random c.Domain)
            let tangents = c.Shapes |> List.map (sample random Normal)
            let _, tangent = Diff.jvpN c.F (points |> List.map Expr.constant) (tangents |> List.map Expr.constant)
            let h = 1e-6
            let shifted sign = List.map2 (fun (p: Tensor) (t: Tensor) -> Expr.constant (Tensor.FromArray(Array.map2 (fun a b -> a + sign * h * b) (p.ToDoubleArray()) (t.ToDoubleArray()), p.Shape))) points tangents
            let difference = Array.map2 (fun a b -> (a - b) / (2.0 * h)) (values (c.F (shifted 1.0))) (values (c.F (shifted -1.0)))
            expectClose 1e-6 (values tangent) difference (sprintf "%s: J t" c.Name)
    }

/// Node counts of nested derivatives, order 1 first, grow linearly: at most 3k + 3 at order k,
/// consecutive ratios at most 1.25 from order 4 on, and the last ratio below the first. Geometric
/// growth (ratios held near a constant above 1, as plain nesting gave) fails all three.
let expectLinearGrowth (counts: int[]) =
    for k in 1 .. counts.Length do
        Expect.isLessThanOrEqual counts.[k - 1] (3 * k + 3) (sprintf "order %d: %A" k counts)
    let ratios = Array.init (counts.Length - 1) (fun i -> float counts.[i + 1] / float counts.[i])
    Expect.isLessThan ratios.[ratios.Length - 1] ratios.[0] (sprintf "ratios %A" ratios)
    for i in 3 .. ratios.Length - 1 do
        Expect.isLessThanOrEqual ratios.[i] 1.25 (sprintf "order %d over %d: %A" (i + 2) (i + 1) counts)
