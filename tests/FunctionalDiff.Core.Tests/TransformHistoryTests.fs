/// A transform's cost does not depend on the history behind its arguments or behind the values
/// its function captures. Work is counted in nodes the symbolic layer visits on this thread
/// (Graph.visitedNodes), never timed. The workload is the bilevel descent loop
/// x ← x − 0.05 ∇ₓ f(x, w) with f(x, w) = Σ tanh(x·w)² + 0.1 Σ (x − w)², x in R⁸, differentiated in
/// w in the four mode combinations (outer reverse or forward, inner reverse or forward). Values and
/// outer derivatives are checked against the same loop written here in floats, with the inner
/// gradient by hand, and central differences of it.
module FunctionalDiff.Core.Tests.TransformHistoryTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.ForwardSupport

let private f64 = DType.Float64
let private size = 8

let private startX = Array.init size (fun i -> 0.3 + 0.1 * float i)
let private startW = Array.init size (fun i -> 0.5 - 0.07 * float i)

/// The unit vector e_i of R⁸.
let private basis (i: int) = Tensor.FromArray(Array.init size (fun j -> if i = j then 1.0 else 0.0), [| size |])

/// The inner objective f(x, w).
let private innerObjective (x: Expr) (w: Expr) =
    Expr.sum (Expr.square (tanh (x * w))) + 0.1 * Expr.sum (Expr.square (x - w))

/// ∇ₓ f by reverse mode, written as a user writes it.
let private reverseGradient (w: Expr) (x: Expr) = Diff.grad (fun xx -> innerObjective xx w) x

/// ∇ₓ f by forward mode: one jvp per basis vector.
let private forwardGradient (w: Expr) (x: Expr) =
    Expr.stack 0 [ for i in 0 .. size - 1 -> snd (Diff.jvp (fun xx -> innerObjective xx w) x (constant (basis i))) ]

/// Σ x_N² after N descent steps from startX, the inner gradient taken by `gradient`.
let private outerObjective (gradient: Expr -> Expr -> Expr) (steps: int) (w: Expr) =
    let mutable x = constant (tensor [| size |] startX)
    for _ in 1 .. steps do
        x <- x - 0.05 * gradient w x
    Expr.sum (Expr.square x)

/// The same loop in floats, with ∇ₓ f = 2 tanh(xw)(1 − tanh²(xw)) w + 0.2 (x − w) by hand.
let private referenceDescent (steps: int) (w: float[]) =
    let x = Array.copy startX
    for _ in 1 .. steps do
        for i in 0 .. size - 1 do
            let t = Math.Tanh(x.[i] * w.[i])
            x.[i] <- x.[i] - 0.05 * (2.0 * t * (1.0 - t * t) * w.[i] + 0.2 * (x.[i] - w.[i]))
    x

let private referenceObjective (steps: int) (w: float[]) = referenceDescent steps w |> Array.sumBy (fun v -> v * v)

/// d/dw of the reference objective by central differences (step 1e-6, error ~1e-10 here).
let private referenceOuterGradient (steps: int) (w: float[]) =
    let h = 1e-6
    Array.init size (fun j ->
        let moved (delta: float) = Array.mapi (fun i v -> if i = j then v + delta else v) w
        (referenceObjective steps (moved h) - referenceObjective steps (moved -h)) / (2.0 * h))

/// The nodes visited on this thread during one call, and the call's result.
let private counted (action: unit -> 'a) =
    let before = Graph.visitedNodes ()
    let result = action ()
    Graph.visitedNodes () - before, result

/// An outer transform over the loop: reverse (the gradient in w) or forward (one jvp along e_0).
type private Outer =
    | Reverse
    | Forward

/// The four mode combinations: outer transform, inner gradient, and the N of the linearity test
/// (an inner forward gradient is eight jvps, so its N is smaller).
let private modes =
    [ "rr", Reverse, reverseGradient, 1000
      "fr", Forward, reverseGradient, 1000
      "rf", Reverse, forwardGradient, 100
      "ff", Forward, forwardGradient, 100 ]

/// The outer derivative of the N-step objective at startW.
let private outerDerivative (outer: Outer) gradient (steps: int) =
    let w = constant (tensor [| size |] startW)
    match outer with
    | Reverse -> Diff.grad (outerObjective gradient steps) w
    | Forward -> snd (Diff.jvp (outerObjective gradient steps) w (constant (basis 0)))

/// A history for the table of transforms: `steps` steps of a cheap chain over a Var w, so x_k sits
/// on 3k nodes. Returns x_k and x_(k-1), the value the transforms' functions capture.
let private history (steps: int) =
    let w = Expr.variable "w" [| size |] f64
    let mutable x = constant (tensor [| size |] startX)
    let mutable previous = x
    for _ in 1 .. steps do
        previous <- x
        x <- sin x * 0.9 + w
    x, previous

let private identityWithTanhRule = Diff.customVjpNamed "tanh_rule" id (fun x g -> g * (1.0 - Expr.square (tanh x)))

/// Every transform, applied at an argument x with the function capturing c; both carry history.
let private transformCases : (string * (Expr -> Expr -> obj)) list =
    let f (c: Expr) (v: Expr) = innerObjective v c
    let g (c: Expr) (v: Expr) = tanh (v * c) + v
    [ "grad", (fun x c -> box (Diff.grad (f c) x))
      "valueAndGrad", (fun x c -> box (Diff.valueAndGrad (f c) x))
      "gradN", (fun x c -> box (Diff.gradN (fun vs -> innerObjective vs.[0] vs.[1]) [ x; c ]))
      "vjp and its pullback at a cotangent with history", (fun x c -> let _, pullback = Diff.vjp (g c) x in box (pullback c))
      "jvp with a tangent with history", (fun x c -> box (Diff.jvp (g c) x c))
      "jvpN", (fun x c -> box (Diff.jvpN (fun vs -> g vs.[0] vs.[1]) [ x; c ] [ c; x ]))
      "hvp", (fun x c -> box (Diff.hvp (f c) x c))
      "jacobian, forward", (fun x c -> box (Diff.jacobianWith JacobianMode.Forward (g c) x))
      "jacobian, reverse", (fun x c -> box (Diff.jacobianWith JacobianMode.Reverse (g c) x))
      "hessian", (fun x c -> box (Diff.hessian (f c) x))
      "customVjp under grad", (fun x c -> box (Diff.grad (fun v -> Expr.sum (identityWithTanhRule (v * c))) x))
      "linearize and two applications", (fun x c -> let _, apply = Diff.linearize (g c) x in box (apply c, apply x))
      "grad of grad", (fun x c -> box (Diff.grad (fun v -> Expr.sum (Diff.grad (f c) v * v)) x))
      "jvp of grad", (fun x c -> box (Diff.jvp (Diff.grad (f c)) x c))
      "grad of jvp", (fun x c -> box (Diff.grad (fun v -> Expr.sum (snd (Diff.jvp (g c) v c))) x)) ]

/// The visits of one call in steady state. A node the call builds that depends on none of the
/// transform's Vars (a broadcast constant, say) is reused when an equal one is alive and rebuilt
/// when the collector has dropped it, and a rebuilt node is walked while a reused one is a leaf;
/// so the fewest visits over five calls is the count with every such node reused.
let private steadyVisits (call: unit -> obj) = List.init 5 (fun _ -> fst (counted call)) |> List.min

[<Tests>]
let tests =
    testList "Transforms" [
        testList "History" [
            test "one inner grad in the descent loop visits as many nodes at step 10 as at step 10,000" {
                let w = Expr.variable "w" [| size |] f64
                let mutable x = constant (tensor [| size |] startX)
                let visits = Collections.Generic.Dictionary<int, int64>()
                for k in 1 .. 10_000 do
                    if k = 10 || k = 10_000 then visits.[k] <- steadyVisits (fun () -> box (reverseGradient w x))
                    x <- x - 0.05 * reverseGradient w x
                Expect.isGreaterThan visits.[10] 0L "the counter counts"
                Expect.equal visits.[10_000] visits.[10] "visits at step 10,000 and at step 10"
                // and the loop computes what the reference loop computes
                let x10k = (Eval.evalWith [ w, tensor [| size |] startW ] x).ToDoubleArray()
                expectClose 1e-10 x10k (referenceDescent 10_000 startW) "x after 10,000 steps"
            }
            for name, outer, gradient, steps in modes do
                test (sprintf "%s: building the outer derivative of N steps visits nodes linearly in N" name) {
                    let small, _ = counted (fun () -> outerDerivative outer gradient steps)
                    let large, _ = counted (fun () -> outerDerivative outer gradient (2 * steps))
                    Expect.isGreaterThanOrEqual small (int64 steps) "at least a node per step"
                    // Linear work doubles with N (2.0), quadratic work quadruples.
                    Expect.isLessThanOrEqual (float large / float small) 2.1 (sprintf "%d visits at N = %d, %d at N = %d" small steps large (2 * steps))
                }
                test (sprintf "%s: value and outer derivative at N = 4 match the reference loop and central differences" name) {
                    let steps = 4
                    let w = constant (tensor [| size |] startW)
                    expectClose 1e-12 [| value (outerObjective gradient steps w) |] [| referenceObjective steps startW |] "value"
                    let reference = referenceOuterGradient steps startW
                    match outer with
                    | Reverse ->
                        expectClose 1e-7 (values (Diff.grad (outerObjective gradient steps) w)) reference "gradient in w"
                    | Forward ->
                        for j in 0 .. size - 1 do
                            let tangent = snd (Diff.jvp (outerObjective gradient steps) w (constant (basis j)))
                            expectClose 1e-7 [| value tangent |] [| reference.[j] |] (sprintf "derivative along e_%d" j)
                }
            test "rr: the graph of the outer derivative of N steps holds nodes linearly in N" {
                // What a built derivative holds is the graph reachable from it; every node is
                // interned once, so the distinct nodes are the memory the result keeps alive.
                let held steps = Graph.nodeCount (outerDerivative Reverse reverseGradient steps)
                let small, large = held 1000, held 2000
                Expect.isGreaterThanOrEqual small 1000 "at least a node per step"
                // Linear memory doubles with N (2.0); a graph that copied its history per step would quadruple.
                Expect.isLessThanOrEqual (float large / float small) 2.1 (sprintf "%d nodes at N = 1000, %d at N = 2000" small large)
            }
            test "tanh's rule does not look into a cotangent's polynomial history: the same visits after 10 steps of it as after 10,000" {
                // the cotangent reaching tanh is a captured value built by sums and products only (no bounded atom
                // stops a walk down it); tanh's rule asks whether it can be huge, and must answer without its history
                let polynomialHistory (steps: int) =
                    let w = Expr.variable "w" [| size |] f64
                    let mutable c = constant (tensor [| size |] startX)
                    for _ in 1 .. steps do
                        c <- c * 0.5 + w
                    c
                // Σ tanh(v)·c: tanh's cotangent is the captured c itself
                let gradientWith (c: Expr) () =
                    box (Diff.grad (fun v -> Expr.sum (tanh v * c)) (constant (tensor [| size |] startW)))
                let early = steadyVisits (gradientWith (polynomialHistory 10))
                let late = steadyVisits (gradientWith (polynomialHistory 10_000))
                Expect.isGreaterThan early 0L "the counter counts"
                Expect.equal late early "visits with a long history and with a short one"
            }
            for name, transform in transformCases do
                test (sprintf "%s visits as many nodes after 10 steps of history as after 10,000" name) {
                    let x10, c10 = history 10
                    let x10k, c10k = history 10_000
                    let early = steadyVisits (fun () -> transform x10 c10)
                    let late = steadyVisits (fun () -> transform x10k c10k)
                    Expect.isGreaterThan early 0L "the counter counts"
                    Expect.equal late early "visits with a long history and with a short one"
                }
        ]
    ]
