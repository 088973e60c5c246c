/// Scan against the same loop unrolled in the test: values, edge cases and errors. Every
/// expected value is the unrolled loop (the same step applied row by row with plain slicing and
/// stacking), evaluated independently of the Scan node.
module FunctionalDiff.Core.Tests.ScanTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

/// Row t of a stacked value, as a graph.
let row (t: int) (x: Expr) = Expr.sliceAxis 0 t (t + 1) x |> Expr.reshape x.Dims.[1..]

/// The reference: `step` applied row by row, the ys stacked along a new first axis (T = 0 gives
/// empty ys of the shape the step returns, found by tracing it once on zeros).
let unrolled (reverse: bool) (length: int) (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) =
    let mutable carries = init
    let ys = Array.zeroCreate length
    for k in 0 .. length - 1 do
        let t = if reverse then length - 1 - k else k
        let next, y = step carries (xs |> Array.map (row t))
        carries <- next
        ys.[t] <- y
    let yCount, yShapes =
        let _, y = step init (xs |> Array.map (fun x -> Expr.zeros x.DType x.Dims.[1..]))
        y.Length, y |> Array.map (fun e -> e.Dims, e.DType)
    let stacked =
        Array.init yCount (fun j ->
            if length = 0 then Expr.zeros (snd yShapes.[j]) (Array.append [| 0 |] (fst yShapes.[j]))
            else Expr.stack 0 (ys |> Array.map (fun y -> y.[j])))
    carries, stacked

let random = Random 19

/// The bodies of the Scan nodes below a root (not inside bodies).
let internal bodiesBelow (root: Expr) =
    Graph.topologicalOrder [ root ]
    |> Array.choose (fun e -> match e.Op with Op.Scan(body, _, _, _) -> Some(ScanNode.bodyOf body) | _ -> None)

let draw (shape: int[]) = Expr.constant (sample random Normal shape)

/// Expecto runs tests in parallel, so draws from one module-wide generator inside test bodies would
/// depend on which tests ran before and beside each one (and System.Random is not thread-safe): each
/// test that draws takes a generator of its own, with its own seed. The module-wide one serves only
/// the values drawn while the test lists are built.
let private drawFrom (seed: int) =
    let random = Random seed
    fun (shape: int[]) -> Expr.constant (sample random Normal shape)

/// Asserts two graphs have equal shapes and values within 1e-12 relative.
let expectSame (actual: Expr) (expected: Expr) (message: string) =
    Expect.equal actual.Shape expected.Shape (message + ": shape")
    Expect.equal actual.DType expected.DType (message + ": dtype")
    expectClose 1e-12 (values actual) (values expected) message

/// A tanh RNN cell: h' = tanh(W h + U x + b), y = V h'.
let rnnStep (w: Expr) (u: Expr) (b: Expr) (v: Expr) (carries: Expr[]) (xs: Expr[]) =
    let h = Expr.tanh (Expr.matmul w carries.[0] + Expr.matmul u xs.[0] + b)
    [| h |], [| Expr.matmul v h |]

[<Tests>]
let scanValueTests =
    let w, u, b, v = draw [| 4; 4 |] * 0.5, draw [| 4; 3 |], draw [| 4 |], draw [| 2; 4 |]
    let compare name reverse step (init: Expr[]) (xs: Expr[]) =
        test name {
            let length = if xs.Length > 0 then xs.[0].Dims.[0] else 0
            let carries, ys = (if reverse then Scan.scanReverse else Scan.scan) step init xs
            let expectedCarries, expectedYs = unrolled reverse length step init xs
            Expect.equal carries.Length expectedCarries.Length "carry count"
            Expect.equal ys.Length expectedYs.Length "ys count"
            Array.iteri2 (fun i a e -> expectSame a e (sprintf "carry %d" i)) carries expectedCarries
            Array.iteri2 (fun j a e -> expectSame a e (sprintf "ys %d" j)) ys expectedYs
        }
    testList "Scan.values" [
        compare "tanh RNN, T = 7" false (rnnStep w u b v) [| draw [| 4 |] |] [| draw [| 7; 3 |] |]
        compare "tanh RNN reversed, T = 5" true (rnnStep w u b v) [| draw [| 4 |] |] [| draw [| 5; 3 |] |]
        compare "T = 1" false (rnnStep w u b v) [| draw [| 4 |] |] [| draw [| 1; 3 |] |]
        compare "T = 0 gives init back and empty ys" false (rnnStep w u b v) [| draw [| 4 |] |] [| draw [| 0; 3 |] |]
        compare "scalar carry (a running sum)" false (fun c x -> [| c.[0] + Expr.sum x.[0] |], [| c.[0] |]) [| draw [||] |] [| draw [| 6; 2 |] |]
        compare "xs with extra axes, several carries, xs and ys" false
            (fun c x ->
                let a = c.[0] * Expr.sin x.[0] + Expr.matmul x.[0] c.[1]
                let m = Expr.tanh (c.[1] + Expr.sum x.[1])
                [| a; m |], [| Expr.sum a; m * 2.0; x.[0] |])
            [| draw [| 2; 3 |]; draw [| 3; 3 |] |] [| draw [| 4; 2; 3 |]; draw [| 4; 5 |] |]
        compare "captured values of several shapes" false
            (fun c x -> [| c.[0] * w + Expr.sum (b * x.[0]) |], [| Expr.sum (c.[0] * Expr.sliceAxis 0 0 1 v) + u |])
            [| draw [| 4; 4 |] |] [| draw [| 3; 4 |] |]
        compare "a step that ignores its carry" false (fun c x -> [| Expr.exp x.[0] |], [||]) [| draw [| 2 |] |] [| draw [| 3; 2 |] |]
        compare "float32 carry with float64 ys (packed as float64)" false
            (fun c x -> [| c.[0] * 0.5 |], [| Expr.cast DType.Float64 c.[0] + x.[0] |])
            [| Expr.cast DType.Float32 (draw [| 3 |]) |] [| draw [| 4; 3 |] |]
        test "repeat is a fori loop" {
            let draw = drawFrom 100
            let x0 = draw [| 3 |]
            let f (x: Expr) = Expr.cos x * 0.9 + 0.1
            let mutable expected = x0
            for _ in 1 .. 12 do expected <- f expected
            expectSame (Scan.repeat 12 f x0) expected "repeat 12"
            expectSame (Scan.repeat 0 f x0) x0 "repeat 0"
        }
        test "scanLength runs without xs" {
            let draw = drawFrom 101
            let c0 = draw [| 2 |]
            let carries, ys = Scan.scanLength 4 (fun c -> [| c.[0] * 1.5 + Expr.sliceAxis 0 0 2 b |], [| Expr.sum c.[0] |]) [| c0 |]
            let expected, expectedYs = unrolled false 4 (fun c _ -> [| c.[0] * 1.5 + Expr.sliceAxis 0 0 2 b |], [| Expr.sum c.[0] |]) [| c0 |] [||]
            expectSame carries.[0] expected.[0] "carry"
            expectSame ys.[0] expectedYs.[0] "ys"
        }
        test "nested scan: a scan inside the step reads the outer carry" {
            let draw = drawFrom 102
            let inner (h: Expr) (xs: Expr) =
                fst (Scan.scan1 (fun c x -> Expr.tanh (c * h + x), c) h xs)
            let step (c: Expr[]) (x: Expr[]) = [| inner c.[0] x.[0] |], [| Expr.sum c.[0] |]
            let init, xs = [| draw [| 3 |] |], [| draw [| 4; 5; 3 |] |]
            let carries, ys = Scan.scan step init xs
            let unrolledInner (h: Expr) (xs: Expr) =
                (fst (unrolled false xs.Dims.[0] (fun c x -> [| Expr.tanh (c.[0] * h + x.[0]) |], [| c.[0] |]) [| h |] [| xs |])).[0]
            let expected, expectedYs = unrolled false 4 (fun c x -> [| unrolledInner c.[0] x.[0] |], [| Expr.sum c.[0] |]) init xs
            expectSame carries.[0] expected.[0] "carry"
            expectSame ys.[0] expectedYs.[0] "ys"
        }
        test "the node count does not depend on the length" {
            let draw = drawFrom 103
            let count length =
                let carries, ys = Scan.scan (rnnStep w u b v) [| draw [| 4 |] |] [| Expr.zeros DType.Float64 [| length; 3 |] |]
                Graph.nodeCount (Expr.sum carries.[0] + Expr.sum ys.[0])
            Expect.equal (count 10) (count 100000) "nodes at T = 10 and T = 100,000"
        }
        test "a carry of another shape is an error naming the method, the carry and both shapes" {
            let draw = drawFrom 104
            let message =
                try
                    Scan.scan (fun c x -> [| c.[0]; Expr.sum c.[1] |], [||]) [| draw [| 2 |]; draw [| 3; 2 |] |] [| draw [| 4; 1 |] |] |> ignore
                    ""
                with :? ShapeException as e -> e.Message
            Expect.stringContains message "Scan.scan" "method"
            Expect.stringContains message "carry 1" "position"
            Expect.stringContains message "[3,2]" "init's shape"
            Expect.stringContains message "[]" "returned shape"
        }
        test "xs of different lengths are an error naming both shapes" {
            let draw = drawFrom 105
            let message =
                try
                    Scan.scan (fun c x -> c, [||]) [| draw [| 2 |] |] [| draw [| 4; 1 |]; draw [| 5; 1 |] |] |> ignore
                    ""
                with :? ShapeException as e -> e.Message
            Expect.stringContains message "Scan.scan" "method"
            Expect.stringContains message "[4,1]" "first"
            Expect.stringContains message "[5,1]" "second"
        }
        test "the interpreter runs the body once per step" {
            let draw = drawFrom 106
            let carries, _ = Scan.scan (rnnStep w u b v) [| draw [| 4 |] |] [| draw [| 9; 3 |] |]
            let body = (bodiesBelow carries.[0]).[0]
            let before = body.Evaluations
            Interpret.evalMany (Collections.Generic.Dictionary()) [| carries.[0] |] |> ignore
            Expect.equal (body.Evaluations - before) 9L "evaluations"
        }
    ]
