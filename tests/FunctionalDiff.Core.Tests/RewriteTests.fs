/// The Rewrite pass as a specification: normal forms against forms derived by hand (the same
/// object, thanks to hash-consing, and the same values as the original graph), like terms,
/// cancellation, the caps, idempotence, graphs left alone, non-finite constants, and linear time.
module FunctionalDiff.Core.Tests.RewriteTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private f64 = DType.Float64

let private simplify (e: Expr) = (Rewrite.simplify [| e |]).[0]

/// Evaluates both graphs at the same random inputs and compares them. Reassociation and
/// collected coefficients change float64 rounding only: 1e-12 relative.
let private expectSameValues (seed: int) (variables: Expr list) (original: Expr) (rewritten: Expr) (message: string) =
    let random = Random(seed)
    for _ in 1 .. 3 do
        let bindings = variables |> List.map (fun v -> v, sample random Normal v.Shape)
        let expected = (Eval.evalWith bindings original).ToDoubleArray()
        let actual = (Eval.evalWith bindings rewritten).ToDoubleArray()
        expectClose 1e-12 actual expected message

/// One case: variables, an expression, and its normal form written by hand with the constructors.
type private Case =
    { Name: string
      Shapes: int[] list
      Expression: Expr list -> Expr
      HandForm: Expr list -> Expr }

let private one (f: Expr -> Expr) = fun (vs: Expr list) -> f vs.[0]
let private two (f: Expr -> Expr -> Expr) = fun (vs: Expr list) -> f vs.[0] vs.[1]

let private case name shapes expression handForm =
    { Name = name; Shapes = shapes; Expression = expression; HandForm = handForm }

/// The ghost a cancellation leaves (see Poly): s - s over the sum s of the cancelled atoms, which
/// is +0 where they are finite and NaN where one is infinite or NaN, as the terms that cancelled.
let private ghost (atoms: Expr list) =
    let s = List.reduce (+) atoms
    s - s

// Hand forms follow the documented canonical order: terms by degree then by atom (variables in
// order of creation), a coefficient as `c * monomial`, a² as square a, a³ as a² · a, negative
// terms subtracted, and the ghost of what cancelled added last.
let private cases =
    [ case "like terms collect: x*y + 2*y*x = 3*x*y" [ [| 3 |]; [| 3 |] ]
          (two (fun x y -> x * y + 2.0 * y * x))
          (two (fun x y -> 3.0 * (x * y)))
      case "(x + y)(x - y) + y*y = x² plus the ghost of the cancelled xy and y² terms" [ [| 3 |]; [| 3 |] ]
          (two (fun x y -> (x + y) * (x - y) + y * y))
          (two (fun x y -> Expr.square x + ghost [ x; y ]))
      case "(x + 1)² - 2x - 1 = x² + (x - x)" [ [| 4 |] ]
          (one (fun x -> Expr.square (x + 1.0) - 2.0 * x - 1.0))
          (one (fun x -> Expr.square x + ghost [ x ]))
      case "constants fold through products: 2·(3·(x·(0.5·y))) = 3xy" [ [| 2 |]; [| 2 |] ]
          (two (fun x y -> 2.0 * (3.0 * (x * (0.5 * y)))))
          (two (fun x y -> 3.0 * (x * y)))
      case "(1 - t²)(-2t) + 2t³ expands to -2t + 4t³ with shared powers" [ [| 5 |] ]
          (one (fun x -> let t = tanh x in (1.0 - Expr.square t) * (-2.0 * t) + 2.0 * (Expr.square t * t)))
          (one (fun x -> let t = tanh x in -2.0 * t + 4.0 * (Expr.square t * t)))
      case "x + x + x + x = 4x" [ [| 2; 2 |] ]
          (one (fun x -> x + x + x + x))
          (one (fun x -> 4.0 * x))
      case "a cancellation keeps the broadcast shape and y's NaN: (x + y) - y stays, x + (y - y) is no smaller" [ [| 3 |]; [| 2; 3 |] ]
          (two (fun x y -> (x + y) - y))
          (two (fun x y -> (x + y) - y))
      case "-(x - y) - (y - x) = (x + y) - (x + y)" [ [| 3 |]; [| 3 |] ]
          (two (fun x y -> -(x - y) - (y - x)))
          (two (fun x y -> ghost [ x; y ]))
      case "atoms are opaque but combine: sin x · y - y · sin x + 2 sin x = 2 sin x + ghost" [ [| 3 |]; [| 3 |] ]
          (two (fun x y -> sin x * y - y * sin x + 2.0 * sin x))
          (two (fun x y -> 2.0 * sin x + ghost [ y; sin x ])) ]

let private variablesFor (shapes: int[] list) = shapes |> List.mapi (fun i s -> Expr.variable (sprintf "v%d" i) s f64)

/// A chain of `steps` tanh layers whose arguments are small polynomials with like terms that
/// collect without cancelling: every step is rewritten. Seven nodes per step (e * y is one
/// shared node).
let private polynomialChain (steps: int) (x: Expr) (y: Expr) =
    let mutable e = x
    for _ in 1 .. steps do
        e <- tanh (e * y + y * e + e * y + 0.5 * e)
    e

[<Tests>]
let tests =
    testList "Rewrite" [
        testList "Normal forms" [
            for c in cases do
                test c.Name {
                    let variables = variablesFor c.Shapes
                    let original = c.Expression variables
                    let rewritten = simplify original
                    let hand = c.HandForm variables
                    // Hash-consing makes equal structure the same object, so this compares the whole
                    // graph with the hand-derived one, node for node.
                    Expect.isTrue (obj.ReferenceEquals(rewritten, hand))
                        (sprintf "rewritten:\n%s\nhand form:\n%s" (Print.text rewritten) (Print.text hand))
                    Expect.isLessThanOrEqual (Graph.nodeCount rewritten) (Graph.nodeCount original) "never larger"
                    Expect.equal rewritten.Shape original.Shape "shape"
                    expectSameValues 1 variables original rewritten "values"
                }
        ]
        testList "Properties" [
            test "a cancellation keeps IEEE values: x - x and (x + y)(x - y) + y² - x² are NaN where an atom is infinite or NaN, +0 elsewhere" {
                let x, y = Expr.variable "x" [| 5 |] f64, Expr.variable "y" [| 5 |] f64
                let at = tensor [| 5 |] [| Double.PositiveInfinity; Double.NegativeInfinity; nan; 1.5; -2.0 |]
                let finite = tensor [| 5 |] [| 1.0; 2.0; 3.0; -4.0; 0.5 |]
                // IEEE, element by element, as the unsimplified graph computes it
                let reference (f: float -> float -> float) (a: Tensor) (b: Tensor) =
                    Array.map2 f (a.ToDoubleArray()) (b.ToDoubleArray())
                let bits (v: float[]) = v |> Array.map (fun d -> if Double.IsNaN d then Double.NaN else d) |> Array.map BitConverter.DoubleToInt64Bits
                for name, e, f in [ "x - x", x - x, (fun (a: float) (_: float) -> a - a)
                                    "(x + y)(x - y) + y² - x²", (x + y) * (x - y) + y * y - x * x, (fun a b -> (a + b) * (a - b) + b * b - a * a) ] do
                    let rewritten = simplify e
                    for xs, ys in [ at, finite; finite, at ] do
                        let actual = (Eval.evalWith [ x, xs; y, ys ] rewritten).ToDoubleArray()
                        // same bits: NaN where the reference is NaN, and +0 (not -0) elsewhere
                        Expect.sequenceEqual (bits actual) (bits (reference f xs ys)) (sprintf "%s: %A\n%s" name actual (Print.text rewritten))
            }
            test "float32 graphs stay float32, with their coefficients in float32" {
                let x = Expr.variable "x" [| 3 |] DType.Float32
                let rewritten = simplify (x * 0.25 + x * 0.5)
                Expect.isTrue (obj.ReferenceEquals(rewritten, 0.75 * x)) (Print.text rewritten)
                Expect.equal rewritten.DType DType.Float32 "dtype"
            }
            test "a non-finite constant is never cancelled: (x + inf) - inf stays NaN" {
                let x = Expr.variable "x" [| 2 |] f64
                let inf = Expr.scalar f64 Double.PositiveInfinity
                let original = (x + inf) - inf
                let rewritten = simplify original
                Expect.isTrue (obj.ReferenceEquals(rewritten, original)) (Print.text rewritten)
                let result = (Eval.evalWith [ x, tensor [| 2 |] [| 1.0; -2.0 |] ] rewritten).ToDoubleArray()
                Expect.isTrue (result |> Array.forall Double.IsNaN) (sprintf "IEEE gives NaN: %A" result)
            }
            test "a coefficient beyond the dtype's range is not collected: (x·c)·c keeps the chain's values where c² overflows" {
                // the chain's own IEEE products, element by element, are the reference: the collected
                // c²·x would be ∞·0 = NaN at x = 0 and ∞ where the chain is finite
                for dtype, c, xs in [ f64, 1e200, [| 0.0; 1e-300; -2e-250 |]; DType.Float32, 1e20, [| 0.0; 1e-30; -2e-25 |] ] do
                    let x = Expr.variable "x" [| 3 |] dtype
                    let scalar = Expr.scalar dtype c
                    let original = (x * scalar) * scalar
                    let rewritten = simplify original
                    let actual = (Eval.evalWith [ x, Tensor.FromArray(xs, [| 3 |]).Cast dtype ] rewritten).ToDoubleArray()
                    let expected =
                        match dtype with
                        | DType.Float64 -> xs |> Array.map (fun v -> v * c * c)
                        | DType.Float32 -> xs |> Array.map (fun v -> float (float32 v * float32 c * float32 c))
                    expectIeee actual expected (sprintf "%A: %s" dtype (Print.text rewritten))
                    // a sum of like terms whose coefficient overflows is refused too: x·m + x·m at m = MaxValue
                    let largest = match dtype with DType.Float64 -> Double.MaxValue | DType.Float32 -> float Single.MaxValue
                    let m = Expr.scalar dtype largest
                    let sum = simplify (x * m + x * m)
                    let halves = Tensor.FromArray([| 0.5; -0.25; 0.0 |], [| 3 |]).Cast dtype
                    expectIeee ((Eval.evalWith [ x, halves ] sum).ToDoubleArray()) [| largest; -largest / 2.0; 0.0 |] (sprintf "%A sum: %s" dtype (Print.text sum))
            }
            test "graphs that are already minimal come back as the same objects" {
                let x, y = Expr.variable "x" [| 3 |] f64, Expr.variable "y" [| 3 |] f64
                let w = Expr.variable "W" [| 2; 3 |] f64
                let g = Expr.variable "g" [| 3 |] f64
                let minimal =
                    [ g * cos x
                      Expr.matmul w x
                      sin x * y + x
                      g * (1.0 - Expr.square (tanh x))
                      (x + y) * (x - y)
                      Expr.where (Expr.gt x y) (Expr.log x) (x * y) ]
                for e in minimal do
                    Expect.isTrue (obj.ReferenceEquals(simplify e, e)) (sprintf "changed:\n%s" (Print.text e))
            }
            test "simplify is idempotent: simplify (simplify e) is simplify e" {
                let roots =
                    [ for c in cases do
                        yield c.Expression (variablesFor c.Shapes)
                      let x = Expr.variable "x" [||] f64
                      let mutable f : Expr -> Expr = tanh
                      for _ in 1 .. 5 do
                          let inner = f
                          f <- Diff.grad inner
                          yield f x
                      yield polynomialChain 20 x (Expr.variable "y" [||] f64) ]
                for e in roots do
                    let once = simplify e
                    Expect.isTrue (obj.ReferenceEquals(simplify once, once)) (sprintf "second pass changed:\n%s" (Print.text once))
            }
            test "caps: a product of 40 distinct sums does not expand" {
                let random = Random(3)
                let sums = [ for i in 1 .. 40 -> Expr.variable (sprintf "a%d" i) [| 2 |] f64 + Expr.variable (sprintf "b%d" i) [| 2 |] f64 ]
                let product = sums |> List.reduce (*)
                let rewritten = simplify product
                // Fully expanded it would have 2^40 terms; capped, no node may grow the graph.
                Expect.isLessThanOrEqual (Graph.nodeCount rewritten) (Graph.nodeCount product) "nodes"
                let variables = Graph.variables [ product ] |> List.ofArray
                let bindings = variables |> List.map (fun v -> v, Tensor.FromArray(Array.init 2 (fun _ -> 0.5 + random.NextDouble()), [| 2 |]))
                let expected = (Eval.evalWith bindings product).ToDoubleArray()
                let actual = (Eval.evalWith bindings rewritten).ToDoubleArray()
                // 40 factors of ~2: products of 40 roundings, reassociated.
                expectClose 1e-12 actual expected "values"
            }
            test "caps: a power of degree 40 by repeated products stays a chain" {
                let x = Expr.variable "x" [| 2 |] f64
                let mutable e = x + 1.0
                for _ in 2 .. 40 do
                    e <- e * (x + 1.0)
                let rewritten = simplify e
                Expect.isLessThanOrEqual (Graph.nodeCount rewritten) (Graph.nodeCount e) "nodes"
                let at = tensor [| 2 |] [| 0.01; -0.02 |]
                let actual = (Eval.evalWith [ x, at ] rewritten).ToDoubleArray()
                // Closed form (1 + x)^40.
                expectClose 1e-12 actual [| 1.01 ** 40.0; 0.98 ** 40.0 |] "(1 + x)^40"
            }
            test "every step of a polynomial chain is rewritten, with the values of the original" {
                let x, y = Expr.variable "x" [| 3 |] f64, Expr.variable "y" [| 3 |] f64
                let original = polynomialChain 30 x y
                let rewritten = simplify original
                // Each step ty + yt + ty + 0.5t collects to 3ty + 0.5t: 5 nodes with its tanh instead of 7.
                Expect.isLessThan (Graph.nodeCount rewritten) (Graph.nodeCount original) "smaller"
                expectSameValues 2 [ x; y ] original rewritten "values"
            }
            test "large graphs take linear work: 10^5 nodes, then four times as many" {
                // Work is counted in steps (nodes visited, nodes explored when weighing a
                // replacement, polynomial terms formed, nodes built), on this thread only, so the
                // load and other tests cannot change it. Four times the nodes: linear work takes 4
                // times the steps, quadratic 16; the bound sits between them.
                let x, y = Expr.variable "x" [| 2 |] f64, Expr.variable "y" [| 2 |] f64
                let work (steps: int) =
                    let graph = polynomialChain steps x y
                    let before = RewriteWork.Steps
                    let rewritten = simplify graph
                    let taken = RewriteWork.Steps - before
                    Expect.isLessThan (Graph.nodeCount rewritten) (Graph.nodeCount graph) "rewritten"
                    taken, Graph.nodeCount graph
                let small, nodes = work 17_000
                let large, largeNodes = work 68_000
                Expect.isGreaterThanOrEqual nodes 100_000 "the small graph has 10^5 nodes"
                Expect.isGreaterThanOrEqual small (int64 nodes) "every node visited at least once"
                Expect.isLessThan (float large / float small) 8.0
                    (sprintf "%d steps for %d nodes, then %d for %d" small nodes large largeNodes)
            }
            test "a shared polynomial node that its region cannot pay for is kept without weighing its exact normal form" {
                // The gradient of a gated recurrent cell unrolled 60 steps over 8-vectors: its cotangents
                // are products of gates, each shared by several terms, and none is worth replacing (the
                // pass returns the graph it was given). Replacing a shared node saves at most what its
                // region below holds; where even the lower bound of its normal form's cost reaches
                // that, the exact cost (which forms every term of a deferred product) cannot change
                // the decision. Counted: exact costs formed, on this thread.
                let weights k = Expr.constant (Tensor.FromArray(Array.init 8 (fun i -> 0.05 * float (i + k)), [| 8 |]))
                let w1, w2, w3, w4 = weights 1, weights 2, weights 3, weights 4
                let unrolled (v: Expr) =
                    let mutable h, c = v, v
                    for _ in 1 .. 60 do
                        let forget = Expr.sigmoid (h * w1 + v)
                        let input = Expr.sigmoid (h * w2 + v)
                        let candidate = Expr.tanh (h * w3 + v)
                        c <- forget * c + input * candidate
                        h <- Expr.tanh c * Expr.sigmoid (h * w4)
                    Expr.sum h
                let x = Expr.variable "x" [| 8 |] f64
                let gradient = Diff.grad unrolled x
                let nodes = Graph.nodeCount gradient
                let before, weighedBefore = RewriteWork.Steps, RewriteWork.Weighed
                let rewritten = simplify gradient
                let steps, weighed = RewriteWork.Steps - before, RewriteWork.Weighed - weighedBefore
                Expect.isTrue (obj.ReferenceEquals(rewritten, gradient)) "nothing in the gradient is replaced"
                Expect.isGreaterThan steps (int64 nodes) "the pass visited the graph"
                Expect.isLessThanOrEqual weighed (int64 (nodes / 20)) (sprintf "%d exact costs formed over %d nodes" weighed nodes)
            }
        ]
    ]
