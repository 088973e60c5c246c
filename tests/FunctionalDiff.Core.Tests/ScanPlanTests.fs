/// Scan in compiled plans: the plan runs the body's own plan once per step and must give the
/// interpreter's bits; a gradient's forward loop is shared with the value's (counted in body
/// evaluations); and a compiled scan's allocation per call does not grow with the length.
module FunctionalDiff.Core.Tests.ScanPlanTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.ScanTests
open FunctionalDiff.Core.Tests.ScanDerivativeTests
open FunctionalDiff.Core.Tests.PlanTests
open FunctionalDiff.Core.Tests.PlanMemoryTests

/// Loss and gradients of a random step's loop over (h0, xs, W, c), over Vars, as plan roots.
let lossAndGradients (remat: bool) (seed: int) (length: int) =
    let step = randomStep seed
    let point = pointOf seed length
    let vars = point |> List.mapi (fun i p -> Expr.variable (sprintf "p%d" i) p.Shape p.DType) |> Array.ofList
    let value, gradients = Diff.valueAndGradN (loss true remat step) (List.ofArray vars)
    vars, Array.ofList point, Array.append [| value |] (Array.ofList gradients)

/// The evaluations of every body below the roots, by role: the value's loop, the saving loop that
/// extends it, and the rest (backward loops).
let internal evaluationsBy (roots: Expr[]) =
    let bodies =
        Graph.topologicalOrder roots
        |> Array.choose (fun e -> match e.Op with Op.Scan(body, _, _, _) -> Some(ScanNode.bodyOf body) | _ -> None)
        |> Array.distinct
    bodies, (fun () -> bodies |> Array.map (fun b -> b.Evaluations))

[<Tests>]
let scanPlanTests =
    let config = PropertySupport.fixedSeed 5UL 20
    testList "Scan.plans" [
        testPropertyWithConfig config "plans give the interpreter's bits for a loop's value and gradients, run after run" <| fun (seed: int) ->
            let vars, inputs, roots = lossAndGradients (seed % 2 = 0) seed (abs seed % 6)
            let expected = interpreted vars inputs roots
            for fold in [ false; true ] do
                let plan = Planner.compile vars roots fold
                for run in 1 .. 2 do
                    let actual = plan.Run(inputs, null)
                    for i in 0 .. roots.Length - 1 do
                        expectSameBits actual.[i] expected.[i] (sprintf "seed %d fold %b run %d root %d" seed fold run i)
        test "a compiled function runs a loop and its gradient with the interpreter's bits" {
            let vars, inputs, roots = lossAndGradients false 3 7
            let expected = interpreted vars inputs roots
            let compiled = Compile.compile (fun xs -> Substitute.apply (Array.zip vars xs) roots)
            let actual = compiled.Invoke inputs
            for i in 0 .. roots.Length - 1 do
                expectSameBits actual.[i] expected.[i] (sprintf "root %d" i)
            let outputs = expected |> Array.map (fun t -> Tensor.Zeros(t.Shape, t.DType))
            compiled.InvokeInto(inputs, outputs)
            for i in 0 .. roots.Length - 1 do
                expectSameBits outputs.[i] expected.[i] (sprintf "into root %d" i)
        }
        test "a loop's value runs its body T times; with its gradient the forward loop runs once" {
            let length = 9
            let vars, inputs, roots = lossAndGradients false 5 length
            let valueOnly = Planner.compile vars [| roots.[0] |] false
            let bodies, counts = evaluationsBy roots
            let forward = bodies |> Array.filter (fun b -> isNull b.Extends && bodies |> Array.exists (fun s -> obj.ReferenceEquals(s.Extends, b)))
            Expect.equal forward.Length 1 "one forward body with a saving body that extends it"
            let saving = bodies |> Array.find (fun b -> obj.ReferenceEquals(b.Extends, forward.[0]))
            let backward = bodies |> Array.filter (fun b -> not (obj.ReferenceEquals(b, forward.[0])) && not (obj.ReferenceEquals(b, saving)))
            Expect.equal backward.Length 1 "one backward body"
            let before = counts ()
            valueOnly.Run(inputs, null) |> ignore
            let afterValue = counts ()
            Expect.equal (forward.[0].Evaluations - before.[Array.IndexOf(bodies, forward.[0])]) (int64 length) "the value alone: T steps of the forward body"
            (Planner.compile vars roots false).Run(inputs, null) |> ignore
            let delta (b: ScanBody) = b.Evaluations - afterValue.[Array.IndexOf(bodies, b)]
            Expect.equal (delta forward.[0] + delta saving) (int64 length) "value and gradients: the forward loop once (shared)"
            Expect.equal (delta backward.[0]) (int64 length) "value and gradients: T steps of the backward body"
        }
        test "with remat the saved residuals are the carries and the backward body recomputes the step" {
            let length = 6
            let vars, inputs, roots = lossAndGradients true 5 length
            let bodies, counts = evaluationsBy roots
            let saving = bodies |> Array.find (fun b -> not (isNull b.Extends))
            // the saving loop stacks exactly one residual per carry: the carry before each step
            Expect.equal (saving.Outputs.Length - saving.Extends.Outputs.Length) saving.CarryVars.Length "residuals"
            for i in 0 .. saving.CarryVars.Length - 1 do
                Expect.isTrue (obj.ReferenceEquals(saving.Outputs.[saving.Extends.Outputs.Length + i], saving.CarryVars.[i])) "the residual is the carry"
            let before = counts ()
            (Planner.compile vars roots false).Run(inputs, null) |> ignore
            let after = counts ()
            Expect.equal (Array.sum after - Array.sum before) (int64 (2 * length)) "T forward (shared) and T backward steps"
        }
        test "a compiled loop allocates no more per call at T = 1000 than at T = 10" {
            let compiledAt (length: int) =
                let vars, inputs, roots = lossAndGradients false 8 length
                let compiled = Compile.compile (fun xs -> Substitute.apply (Array.zip vars xs) roots)
                let outputs = roots |> Array.map (fun r -> Tensor.Zeros(r.Shape, r.DType))
                compiled, inputs, outputs
            let bytes (bound: float) (length: int) =
                let compiled, inputs, outputs = compiledAt length
                bytesPerCall bound (fun () -> compiled.InvokeInto(inputs, outputs))
            let short = bytes 0.0 10
            let long = bytes (short + 256.0) 1000
            Expect.isLessThanOrEqual long (short + 256.0) (sprintf "bytes per call: %.0f at T = 10, %.0f at T = 1000" short long)
        }
        test "a compiled gradient that sums a captured value's cotangent over the steps allocates no more per call at T = 1000 than at T = 10" {
            // the reverse loop carries the captured value's accumulated cotangent, a root of its
            // body copied out of the body's plan at every step
            let bytes (row: int[]) (bound: float) (length: int) =
                let f64 = DType.Float64
                let n = Array.reduce (*) row
                let w = Expr.variable "w" row f64
                let xs = Expr.variable "xs" (Array.append [| length |] row) f64
                let loss (w: Expr) = Expr.sum (snd (Scan.scan1 (fun h x -> h, Expr.sum (w * x)) (Expr.zeros f64 row) xs))
                let gradient = Diff.grad loss w
                let compiled = Compile.compile (fun args -> Substitute.apply [| w, args.[0]; xs, args.[1] |] [| gradient |])
                let inputs = [| Tensor.randomNormal f64 1 row; Tensor.randomNormal f64 2 (Array.append [| length |] row) |]
                let outputs = [| Tensor.Zeros(row, f64) |]
                compiled.InvokeInto(inputs, outputs)
                // the gradient is the sum of the rows of xs
                let rows = inputs.[1].ToDoubleArray()
                let expected = Array.init n (fun j -> Seq.sum (seq { for t in 0 .. length - 1 -> rows.[t * n + j] }))
                let close = Array.forall2 (fun (a: float) b -> abs (a - b) <= 1e-12 * (1.0 + abs b)) (outputs.[0].ToDoubleArray()) expected
                Expect.isTrue close "the gradient is the sum of the rows"
                bytesPerCall bound (fun () -> compiled.InvokeInto(inputs, outputs))
            // a vector carry (copied by the strided walk) and a matrix one (a dense block copy)
            for row in [ [| 8 |]; [| 2; 4 |] ] do
                let short = bytes row 0.0 10
                let long = bytes row (short + 256.0) 1000
                Expect.isLessThanOrEqual long (short + 256.0) (sprintf "%A: bytes per call: %.0f at T = 10, %.0f at T = 1000" row short long)
        }
    ]
