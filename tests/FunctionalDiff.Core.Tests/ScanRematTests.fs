/// Checkpointing and vmap of Scans. References are independent of the code under test: the same
/// step unrolled in the test (ScanTests.unrolled), a loop over the batch, the function without
/// checkpointing, and central finite differences in float64. Recomputation and saved residuals are
/// counted (body evaluations, elements of the stacked residuals), never timed.
module FunctionalDiff.Core.Tests.ScanRematTests

open System
open System.Collections.Generic
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.ScanTests

let private random = Random 1919
let private drawT (shape: int[]) = sample random Normal shape
let private drawE (shape: int[]) = Expr.constant (drawT shape)

/// Expecto runs tests in parallel, so draws from one module-wide generator inside test bodies would
/// depend on which tests ran before and beside each one (and System.Random is not thread-safe): each
/// test that draws takes a generator of its own, with its own seed. The module-wide one serves only
/// the values drawn while the test lists are built.
let private drawsFrom (seed: int) =
    let random = Random seed
    (fun (shape: int[]) -> sample random Normal shape), (fun (shape: int[]) -> Expr.constant (sample random Normal shape))

/// Every Scan body below the roots, inside bodies too (iterative: bodies are walked one by one).
let internal allBodies (roots: Expr[]) : ScanBody[] =
    let seen = HashSet<int>()
    let found = List<ScanBody>()
    let pending = Stack<Expr[]>()
    pending.Push roots
    while pending.Count > 0 do
        for e in Graph.topologicalOrder (pending.Pop()) do
            match e.Op with
            | Op.Scan(b, _, _, _) ->
                let body = ScanNode.bodyOf b
                if seen.Add body.Id then
                    found.Add body
                    pending.Push body.Outputs
            | _ -> ()
    found.ToArray()

/// The evaluations of each body during `run`.
let internal evaluationsDuring (bodies: ScanBody[]) (run: unit -> unit) : Dictionary<int, int64> =
    let before = bodies |> Array.map (fun b -> b.Evaluations)
    run ()
    let counts = Dictionary<int, int64>()
    bodies |> Array.iteri (fun i b -> counts.[b.Id] <- b.Evaluations - before.[i])
    counts

/// Elements of the residual stacks of the saving Scans (bodies that extend another) directly
/// below the roots: what one level of the backward pass keeps. Inside bodies, only one evaluation
/// is alive at a time, so a body's own stacks count once per level: the peak is the roots' stacks
/// plus the largest peak of a body below them.
let rec internal peakResidualElements (roots: Expr[]) : int =
    let order = Graph.topologicalOrder roots
    let mutable here = 0
    let mutable deepest = 0
    for e in order do
        match e.Op with
        | Op.Scan(b, length, _, _) ->
            let body = ScanNode.bodyOf b
            if not (isNull body.Extends) then
                let own = (body.Extends.Offsets length).[body.Extends.Outputs.Length]
                here <- here + (e.Numel - own)
            deepest <- max deepest (peakResidualElements body.Outputs)
        | _ -> ()
    here + deepest

/// A tanh RNN cell with weights captured from outside: h' = tanh(W h + U x + b), y = V h'.
let private cell (w: Expr) (u: Expr) (b: Expr) (v: Expr) (c: Expr[]) (x: Expr[]) =
    let h = Expr.tanh (Expr.matmul w c.[0] + Expr.matmul u x.[0] + b)
    [| h |], [| Expr.matmul v h |]

/// The loss of the RNN over xs from h0, written with a Scan.
let private scanLoss (h0: Expr) (xs: Expr) (w: Expr) (u: Expr) (b: Expr) (v: Expr) =
    let carries, ys = Scan.scan (cell w u b v) [| h0 |] [| xs |]
    Expr.sum (carries.[0] * carries.[0]) + Expr.sum (Expr.sin ys.[0])

/// The same loss unrolled (the reference).
let private unrolledLoss (h0: Expr) (xs: Expr) (w: Expr) (u: Expr) (b: Expr) (v: Expr) =
    let carries, ys = unrolled false xs.Dims.[0] (cell w u b v) [| h0 |] [| xs |]
    Expr.sum (carries.[0] * carries.[0]) + Expr.sum (Expr.sin ys.[0])

let private bits (e: Expr) = (Eval.eval e).ToDoubleArray() |> Array.map BitConverter.DoubleToInt64Bits

let private expectBitEqual (actual: Expr) (expected: Expr) (message: string) =
    Expect.equal actual.Shape expected.Shape (message + ": shape")
    Expect.equal (bits actual) (bits expected) (message + ": bits")

// ---- vmap ----

[<Tests>]
let vmapTests =
    let hidden, inputs, outputs, length, batch = 4, 3, 2, 6, 3
    let w, u, b, v = drawE [| hidden; hidden |] * 0.5, drawE [| hidden; inputs |], drawE [| hidden |], drawE [| outputs; hidden |]
    let h0s, xss = drawT [| batch; hidden |], drawT [| batch; length; inputs |]
    let rowOf (t: Tensor) (i: int) = Expr.constant t |> row i
    /// The loop over the batch: f of each example, stacked along a new first axis.
    let perExample (f: Expr -> Expr -> Expr) = Expr.stack 0 [ for i in 0 .. batch - 1 -> f (rowOf h0s i) (rowOf xss i) ]
    testList "Scan.vmap" [
        test "vmap of a scan equals the loop over the batch, for every batching of its inputs" {
            // carries and ys both come out: the packed output is rebuilt per example
            let f (h0: Expr) (xs: Expr) (w: Expr) =
                let carries, ys = Scan.scan (cell w u b v) [| h0 |] [| xs |]
                Expr.concat 0 [ carries.[0]; Expr.reshape [| ys.[0].Numel |] ys.[0] ]
            let ws = Expr.stack 0 [ w; w * 0.9; w * 1.1 ]
            for hAxis, xAxis, wAxis in [ Some 0, Some 0, None; Some 0, None, None; None, Some 0, None; None, None, Some 0; Some 0, Some 0, Some 0 ] do
                let arg (axis: int option) (stacked: Expr) (single: Expr) = if axis.IsSome then stacked else single
                let batched =
                    Diff.vmapN [ hAxis; xAxis; wAxis ] 0 (fun a -> f a.[0] a.[1] a.[2])
                        [ arg hAxis (Expr.constant h0s) (rowOf h0s 0); arg xAxis (Expr.constant xss) (rowOf xss 0); arg wAxis ws w ]
                let pick (axis: int option) (stacked: Expr) (single: Expr) i = if axis.IsSome then row i stacked else single
                let expected =
                    Expr.stack 0 [ for i in 0 .. batch - 1 ->
                                     let h, xs, wi = pick hAxis (Expr.constant h0s) (rowOf h0s 0) i, pick xAxis (Expr.constant xss) (rowOf xss 0) i, pick wAxis ws w i
                                     let c, ys = unrolled false length (cell wi u b v) [| h |] [| xs |]
                                     Expr.concat 0 [ c.[0]; Expr.reshape [| ys.[0].Numel |] ys.[0] ] ]
                expectClose 1e-12 (values batched) (values expected) (sprintf "axes %A %A %A" hAxis xAxis wAxis)
        }
        test "vmap of a reverse scan with several carries equals the loop" {
            let f (h0: Expr) (xs: Expr) =
                let step (c: Expr[]) (x: Expr[]) = [| Expr.tanh (Expr.matmul w c.[0] + Expr.matmul u x.[0]); c.[1] + Expr.sum c.[0] * Expr.sum x.[0] |], [| c.[1] * c.[0] |]
                let carries, ys = Scan.scanReverse step [| h0; Expr.sum h0 |] [| xs |]
                Expr.concat 0 [ carries.[0]; Expr.reshape [| 1 |] carries.[1]; Expr.reshape [| ys.[0].Numel |] ys.[0] ]
            let unrolledF (h0: Expr) (xs: Expr) =
                let step (c: Expr[]) (x: Expr[]) = [| Expr.tanh (Expr.matmul w c.[0] + Expr.matmul u x.[0]); c.[1] + Expr.sum c.[0] * Expr.sum x.[0] |], [| c.[1] * c.[0] |]
                let carries, ys = unrolled true length step [| h0; Expr.sum h0 |] [| xs |]
                Expr.concat 0 [ carries.[0]; Expr.reshape [| 1 |] carries.[1]; Expr.reshape [| ys.[0].Numel |] ys.[0] ]
            let batched = Diff.vmapN [ Some 0; Some 0 ] 0 (fun a -> f a.[0] a.[1]) [ Expr.constant h0s; Expr.constant xss ]
            expectClose 1e-12 (values batched) (values (perExample unrolledF)) "reverse, two carries"
        }
        test "vmap of grad of a scan: per-example gradients of a tanh RNN equal the loop of unrolled gradients" {
            let perExampleGrad =
                Diff.vmapN [ Some 0; Some 0; None ] 0 (fun a -> Diff.grad (fun w -> scanLoss a.[0] a.[1] w u b v) a.[2]) [ Expr.constant h0s; Expr.constant xss; w ]
            let expected = perExample (fun h xs -> Diff.grad (fun w -> unrolledLoss h xs w u b v) w)
            Expect.equal perExampleGrad.Shape [| batch; hidden; hidden |] "shape"
            expectClose 1e-12 (values perExampleGrad) (values expected) "dL_b/dW"
            let perExampleH =
                Diff.vmapN [ Some 0; Some 0 ] 0 (fun a -> Diff.grad (fun h -> scanLoss h a.[1] w u b v) a.[0]) [ Expr.constant h0s; Expr.constant xss ]
            expectClose 1e-12 (values perExampleH) (values (perExample (fun h xs -> Diff.grad (fun h -> unrolledLoss h xs w u b v) h))) "dL_b/dh0"
        }
        test "vmap of grad of a √T-checkpointed scan (a loop of loops) equals the loop of unrolled gradients" {
            let checkpointedLoss (h0: Expr) (xs: Expr) (w: Expr) =
                let carries, ys = Checkpoint.scanWith { ScanOptions.Default with Checkpoint = ScanCheckpoint.Sqrt } (cell w u b v) [| h0 |] [| xs |]
                Expr.sum (carries.[0] * carries.[0]) + Expr.sum (Expr.sin ys.[0])
            let perExampleGrad =
                Diff.vmapN [ Some 0; Some 0; None ] 0 (fun a -> Diff.grad (fun w -> checkpointedLoss a.[0] a.[1] w) a.[2]) [ Expr.constant h0s; Expr.constant xss; w ]
            let expected = perExample (fun h xs -> Diff.grad (fun w -> unrolledLoss h xs w u b v) w)
            expectClose 1e-12 (values perExampleGrad) (values expected) "dL_b/dW"
        }
        test "grad of a vmapped scan equals the sum of the unrolled per-example gradients" {
            let total (w: Expr) =
                Expr.sum (Diff.vmapN [ Some 0; Some 0 ] 0 (fun a -> scanLoss a.[0] a.[1] w u b v) [ Expr.constant h0s; Expr.constant xss ])
            let expected = [ for i in 0 .. batch - 1 -> Diff.grad (fun w -> unrolledLoss (rowOf h0s i) (rowOf xss i) w u b v) w ] |> List.reduce (+)
            expectClose 1e-12 (values (Diff.grad total w)) (values expected) "dΣL/dW"
            let totalXs (xs: Expr) = Expr.sum (Diff.vmapN [ Some 0; Some 0 ] 0 (fun a -> scanLoss a.[0] a.[1] w u b v) [ Expr.constant h0s; xs ])
            let expectedXs = perExample (fun h xs -> Diff.grad (fun xs -> unrolledLoss h xs w u b v) xs)
            expectClose 1e-12 (values (Diff.grad totalXs (Expr.constant xss))) (values expectedXs) "dΣL/dxs"
        }
    ]

// ---- Diff.checkpoint ----

[<Tests>]
let checkpointTests =
    let w = drawE [| 5; 5 |] * 0.4
    let block (h: Expr) = Expr.tanh (Expr.matmul w h) * Expr.sigmoid h + Expr.sin h
    let deep (h: Expr) = block (block (block h))
    let x0 = drawT [| 5 |]
    testList "Diff.checkpoint" [
        test "values are the function's, bit for bit" {
            let drawT, drawE = drawsFrom 100
            expectBitEqual (Diff.checkpoint deep (Expr.constant x0)) (deep (Expr.constant x0)) "deep block"
            let pair = Diff.checkpointN (fun a -> [ a.[0] * a.[1]; Expr.sum (Expr.exp a.[0]) ])
            let x, y = drawE [| 3; 2 |], drawE [| 2 |]
            let results = pair [ x; y ]
            expectBitEqual results.[0] (x * y) "first result"
            expectBitEqual results.[1] (Expr.sum (Expr.exp x)) "second result (a scalar)"
            // A scalar argument bound to a variable: `Expr.sin c * c` of a scalar constant c folds with
            // System.Math as it is built, and the kernels that evaluate the checkpoint (as any graph that
            // does not fold) may differ from System.Math in the last bit (about 1 draw in 20), so the
            // function's value is the one evaluated by the same kernels.
            let s = Expr.variable "s" [||] DType.Float64
            let bound = [ s, drawT [||] ]
            let f (s: Expr) = Expr.sin s * s
            let bitsAt (e: Expr) = (Eval.evalWith bound e).ToDoubleArray() |> Array.map BitConverter.DoubleToInt64Bits
            Expect.equal (bitsAt (Diff.checkpoint f s)) (bitsAt (f s)) "a scalar argument: bits"
            Expect.equal (bitsAt (Diff.grad (fun s -> Diff.checkpoint f s) s)) (bitsAt (Diff.grad f s)) "its derivative: bits"
        }
        test "gradients equal the uncheckpointed function's bit for bit, in the argument and in a captured weight" {
            let loss (f: Expr -> Expr) (x: Expr) = Expr.sum (f x * f x)
            let g = Diff.grad (loss (Diff.checkpoint deep)) (Expr.constant x0)
            let expected = Diff.grad (loss deep) (Expr.constant x0)
            // The same kernels on the same values (the seed enters the loop as a value, and x·1 = x
            // exactly), so the bits agree.
            expectBitEqual g expected "d/dx"
            let gw = Diff.grad (fun w -> Expr.sum (Diff.checkpoint (fun h -> Expr.tanh (Expr.matmul w h)) (Expr.constant x0))) w
            let gwExpected = Diff.grad (fun w -> Expr.sum (Expr.tanh (Expr.matmul w (Expr.constant x0)))) w
            expectBitEqual gw gwExpected "d/dW through a captured weight"
        }
        test "first and second derivatives equal central differences" {
            let drawT, drawE = drawsFrom 101
            let phi (args: Expr list) = Expr.sum (Expr.cos (Diff.checkpoint deep args.[0]))
            let numeric = numericGradient phi [ x0 ]
            let x = Expr.variable "x" [| 5 |] DType.Float64
            let g = Diff.grad (fun x -> phi [ x ]) x
            expectClose 1e-7 ((Eval.evalWith [ x, x0 ] g).ToDoubleArray()) numeric.[0] "gradient"
            // second order: the gradient of <grad phi, d> is the Hessian times d
            let d = drawT [| 5 |]
            let directional (args: Expr list) = inner (Diff.grad (fun x -> phi [ x ]) args.[0]) d
            let numericHd = numericGradient directional [ x0 ]
            let hd = Diff.hvp (fun x -> phi [ x ]) x (Expr.constant d)
            expectClose 1e-6 ((Eval.evalWith [ x, x0 ] hd).ToDoubleArray()) numericHd.[0] "Hessian-vector product"
            let hessian = Diff.hessian (fun x -> phi [ x ]) x
            let hessianPlain = Diff.hessian (fun x -> Expr.sum (Expr.cos (deep x))) x
            expectClose 1e-12 ((Eval.evalWith [ x, x0 ] hessian).ToDoubleArray()) ((Eval.evalWith [ x, x0 ] hessianPlain).ToDoubleArray()) "Hessian"
        }
        test "the backward pass recomputes the function once and keeps none of its values" {
            let x = Expr.constant x0
            let value, g = Diff.valueAndGrad (fun x -> Expr.sum (Diff.checkpoint deep x)) x
            let primal = allBodies [| value |]
            Expect.equal primal.Length 1 "one checkpoint body"
            let all = allBodies [| value; g |]
            let counts = evaluationsDuring all (fun () -> Eval.evalMany [ value; g ] |> ignore)
            Expect.equal counts.[primal.[0].Id] 1L "the forward once"
            let others = all |> Array.filter (fun b -> b.Id <> primal.[0].Id)
            Expect.equal others.Length 1 "one backward body, no saving body"
            Expect.equal counts.[others.[0].Id] 1L "the backward body (the recomputed forward and its VJP) once"
            Expect.equal (peakResidualElements [| g |]) 0 "no stacked residuals"
            // outside the loop bodies the gradient graph holds none of f's forward: no tanh, no matmul
            let outside = Graph.topologicalOrder [ g ] |> Array.filter (fun e -> match e.Op with Op.Unary(UnaryOp.Tanh) | Op.MatMul -> true | _ -> false)
            Expect.equal outside.Length 0 "forward nodes outside the loop"
        }
        test "checkpoint nests: a checkpointed block inside a checkpointed block, differentiated twice" {
            let outer = Diff.checkpoint (fun h -> Diff.checkpoint block (block h) |> Expr.sin)
            let plain (h: Expr) = Expr.sin (block (block h))
            let x = Expr.variable "x" [| 5 |] DType.Float64
            let gg = Diff.grad (fun x -> Expr.sum (Diff.grad (fun x -> Expr.sum (outer x)) x |> Expr.tanh)) x
            let ggPlain = Diff.grad (fun x -> Expr.sum (Diff.grad (fun x -> Expr.sum (plain x)) x |> Expr.tanh)) x
            expectClose 1e-12 ((Eval.evalWith [ x, x0 ] gg).ToDoubleArray()) ((Eval.evalWith [ x, x0 ] ggPlain).ToDoubleArray()) "grad of grad"
        }
    ]

// ---- the Scan checkpoint option ----

[<Tests>]
let scanCheckpointTests =
    let hidden, inputs = 4, 3
    let w, u, b, v = drawE [| hidden; hidden |] * 0.5, drawE [| hidden; inputs |], drawE [| hidden |], drawE [| 2; hidden |]
    let withPolicy (policy: ScanCheckpoint) (reverse: bool) (h0: Expr) (xs: Expr) (w: Expr) =
        let carries, ys = Checkpoint.scanWith { ScanOptions.Default with Checkpoint = policy; Reverse = reverse } (cell w u b v) [| h0 |] [| xs |]
        carries.[0], ys.[0]
    let lossOf (c: Expr, ys: Expr) = Expr.sum (c * c) + Expr.sum (Expr.sin ys)
    testList "Scan.checkpoint" [
        test "values equal the plain scan bit for bit, for every segmentation, forward and reversed" {
            let drawT, drawE = drawsFrom 102
            for length in [ 0; 1; 7; 12; 13 ] do
                let h0, xs = drawE [| hidden |], drawE [| length; inputs |]
                for reverse in [ false; true ] do
                    let plainC, plainYs = withPolicy ScanCheckpoint.NoCheckpoint reverse h0 xs w
                    let referenceC, referenceYs = unrolled reverse length (cell w u b v) [| h0 |] [| xs |]
                    expectClose 1e-12 (values plainC) (values referenceC.[0]) "plain carry vs unrolled"
                    expectClose 1e-12 (values plainYs) (values referenceYs.[0]) "plain ys vs unrolled"
                    for policy in [ ScanCheckpoint.Every 1; ScanCheckpoint.Every 3; ScanCheckpoint.Every 4; ScanCheckpoint.Every 20; ScanCheckpoint.Sqrt ] do
                        let c, ys = withPolicy policy reverse h0 xs w
                        let what = sprintf "T = %d, %A, reverse %b" length policy reverse
                        expectBitEqual c plainC (what + ": carry")
                        expectBitEqual ys plainYs (what + ": ys")
        }
        test "gradients equal the unrolled loop's in every input, forward and reversed, with a tail" {
            let drawT, drawE = drawsFrom 103
            let h0, xs = drawE [| hidden |], drawE [| 13; inputs |]
            for reverse in [ false; true ] do
                for policy in [ ScanCheckpoint.Every 4; ScanCheckpoint.Sqrt ] do
                    let f (a: Expr list) = lossOf (withPolicy policy reverse a.[0] a.[1] a.[2])
                    let reference (a: Expr list) =
                        let c, ys = unrolled reverse 13 (cell a.[2] u b v) [| a.[0] |] [| a.[1] |]
                        lossOf (c.[0], ys.[0])
                    let plain (a: Expr list) = lossOf (withPolicy ScanCheckpoint.NoCheckpoint reverse a.[0] a.[1] a.[2])
                    let g = Diff.gradN f [ h0; xs; w ]
                    let gRef = Diff.gradN reference [ h0; xs; w ]
                    let gPlain = Diff.gradN plain [ h0; xs; w ]
                    let what = sprintf "%A, reverse %b" policy reverse
                    List.iteri2 (fun i a e -> expectClose 1e-12 (values a) (values e) (sprintf "%s: input %d vs unrolled" what i)) g gRef
                    // The carry's and the xs' cotangents run through the same steps in the same order;
                    // the weight's is summed per segment first, a regrouping of the same terms.
                    expectBitEqual g.[0] gPlain.[0] (what + ": d/dh0 bits")
                    expectBitEqual g.[1] gPlain.[1] (what + ": d/dxs bits")
                    expectClose 1e-13 (values g.[2]) (values gPlain.[2]) (what + ": d/dW")
        }
        test "first and second derivatives through a checkpointed scan equal central differences" {
            let drawT, drawE = drawsFrom 104
            let h0, xs, w0 = drawT [| hidden |], drawT [| 6; inputs |], (drawT [| hidden; hidden |])
            let phi (a: Expr list) = lossOf (withPolicy (ScanCheckpoint.Every 2) false a.[0] (Expr.constant xs) (a.[1] * 0.5))
            let numeric = numericGradient phi [ h0; w0 ]
            let vars = [ Expr.variable "h" [| hidden |] DType.Float64; Expr.variable "w" [| hidden; hidden |] DType.Float64 ]
            let bindings = List.zip vars [ h0; w0 ]
            let g = Diff.gradN phi vars
            List.iteri2 (fun i (a: Expr) e -> expectClose 1e-7 ((Eval.evalWith bindings a).ToDoubleArray()) e (sprintf "gradient %d" i)) g numeric
            let d = drawT [| hidden |]
            let directional (a: Expr list) = inner (Diff.gradN phi a).[0] d
            let numericSecond = numericGradient directional [ h0; w0 ]
            let second = Diff.gradN directional vars
            List.iteri2 (fun i (a: Expr) e -> expectClose 1e-6 ((Eval.evalWith bindings a).ToDoubleArray()) e (sprintf "second order %d" i)) second numericSecond
        }
        test "with k, the backward pass recomputes T steps in segments and saves T/k carries" {
            let drawT, drawE = drawsFrom 105
            let length, k = 24, 4
            let h0, xs = drawE [| hidden |], drawE [| length; inputs |]
            // A loss linear in the loop's results: its gradient needs no forward value of the
            // loop itself, only what the backward loops save and recompute.
            let cw, yw = drawE [| hidden |], drawE [| length; 2 |]
            let linear (c: Expr, ys: Expr) = Expr.sum (c * cw) + Expr.sum (ys * yw)
            let run (policy: ScanCheckpoint) =
                let g = Diff.gradN (fun a -> linear (withPolicy policy false a.[0] xs a.[1])) [ h0; w ]
                let all = allBodies (Array.ofList g)
                let counts = evaluationsDuring all (fun () -> Eval.evalMany g |> ignore)
                // The step's forward (a trace of the cell, or one that also saves residuals): a body
                // without loops inside whose xs are the one row of inputs. Backward bodies also read
                // residuals and cotangents per step; the segment loops hold a loop.
                let isStep (s: ScanBody) =
                    allBodies s.Outputs |> Array.isEmpty && s.XVars.Length = 1 && s.XVars.[0].Dims = [| inputs |]
                let forward = all |> Array.filter isStep |> Array.sumBy (fun s -> counts.[s.Id])
                let total = all |> Array.sumBy (fun s -> counts.[s.Id])
                forward, total, peakResidualElements (Array.ofList g), all
            let plainForward, plainTotal, plainPeak, _ = run ScanCheckpoint.NoCheckpoint
            Expect.equal plainForward (int64 length) "plain: the forward saves as it goes, T steps"
            Expect.equal plainTotal (int64 (2 * length)) "plain: T forward and T backward steps"
            let forward, total, peak, all = run (ScanCheckpoint.Every k)
            let segments = length / k
            Expect.equal forward (int64 (2 * length)) "checkpointed: T forward steps and T recomputed in the backward pass"
            // T forward, T recomputed, T backward steps; the outer loop's saving and backward bodies once per segment
            Expect.equal total (int64 (3 * length + 2 * segments)) "checkpointed: every body evaluation"
            // the outer saving loop stacks exactly one carry per segment
            let outerSaving =
                all |> Array.filter (fun s -> not (isNull s.Extends) && s.Outputs.Length - s.Extends.Outputs.Length = 1 && s.Outputs.[s.Outputs.Length - 1].Dims = [| hidden |] && allBodies s.Outputs |> Array.isEmpty |> not)
            Expect.equal outerSaving.Length 1 "one saving loop over segments, stacking one carry"
            // peak: T/k carries, plus one segment's residuals (k steps of what the plain loop saves per step)
            let perStep = plainPeak / length
            Expect.equal (plainPeak % length) 0 "the plain loop saves the same per step"
            Expect.equal peak (segments * hidden + k * perStep) "checkpointed peak residual elements"
        }
        test "with k, the value and gradient of a loss of the loop's results together run the forward twice" {
            let drawT, drawE = drawsFrom 106
            // the loss reads the ys, so the value needs the forward pass; the plan must take it
            // from the loop that saves carries, not run a third forward pass for the value
            let length, k = 24, 4
            let h0, xs = drawE [| hidden |], drawE [| length; inputs |]
            let run (policy: ScanCheckpoint) =
                let v, g = Diff.valueAndGradN (fun a -> lossOf (withPolicy policy false a.[0] xs a.[1])) [ h0; w ]
                let roots = Array.ofList (v :: g)
                let all = allBodies roots
                let counts = evaluationsDuring all (fun () -> Eval.evalMany (List.ofArray roots) |> ignore)
                let isStep (s: ScanBody) =
                    allBodies s.Outputs |> Array.isEmpty && s.XVars.Length = 1 && s.XVars.[0].Dims = [| inputs |]
                let forward = all |> Array.filter isStep |> Array.sumBy (fun s -> counts.[s.Id])
                let total = all |> Array.sumBy (fun s -> counts.[s.Id])
                forward, total
            let pf, pt = run ScanCheckpoint.NoCheckpoint
            let cf, ct = run (ScanCheckpoint.Every k)
            Expect.equal (pf, pt) (int64 length, int64 (2 * length)) "plain: T forward steps (saving as they go), T backward"
            let segments = length / k
            Expect.equal cf (int64 (2 * length)) "checkpointed: T forward steps (value and saved carries) and T recomputed"
            Expect.equal ct (int64 (3 * length + 2 * segments)) "checkpointed: every body evaluation"
        }
        test "√T checkpointing of a long loop keeps at most a quarter of the plain loop's residuals" {
            let drawT, drawE = drawsFrom 107
            let length = 400
            let h0, xs = drawE [| hidden |], drawE [| length; inputs |]
            let peak policy = peakResidualElements (Array.ofList (Diff.gradN (fun a -> lossOf (withPolicy policy false a.[0] xs a.[1])) [ h0; w ]))
            let plain, sqrtT = peak ScanCheckpoint.NoCheckpoint, peak ScanCheckpoint.Sqrt
            Expect.isLessThanOrEqual (float sqrtT) (0.25 * float plain) (sprintf "√T: %d elements, plain: %d" sqrtT plain)
        }
        test "a scan without xs (a length) checkpoints too; the gradient equals the unrolled loop's" {
            let drawT, drawE = drawsFrom 108
            let f (policy: ScanCheckpoint) (c0: Expr) =
                let carries, ys = Checkpoint.scanWith { ScanOptions.Default with Checkpoint = policy; Length = Some 10 } (fun c _ -> [| Expr.cos (Expr.matmul w c.[0]) |], [| Expr.sum c.[0] |]) [| c0 |] [||]
                Expr.sum carries.[0] + Expr.sum (ys.[0] * ys.[0])
            let reference (c0: Expr) =
                let carries, ys = unrolled false 10 (fun c _ -> [| Expr.cos (Expr.matmul w c.[0]) |], [| Expr.sum c.[0] |]) [| c0 |] [||]
                Expr.sum carries.[0] + Expr.sum (ys.[0] * ys.[0])
            let c0 = drawE [| hidden |]
            expectBitEqual (f (ScanCheckpoint.Every 3) c0) (f ScanCheckpoint.NoCheckpoint c0) "value"
            expectClose 1e-12 (values (Diff.grad (f (ScanCheckpoint.Every 3)) c0)) (values (Diff.grad reference c0)) "gradient"
        }
        test "a carry of another shape is an error naming the method, the carry and both shapes" {
            let drawT, drawE = drawsFrom 109
            let message =
                try
                    Checkpoint.scanWith { ScanOptions.Default with Checkpoint = ScanCheckpoint.Sqrt } (fun c _ -> [| Expr.sum c.[0] |], [||]) [| drawE [| 3; 2 |] |] [| drawE [| 9; 1 |] |] |> ignore
                    ""
                with :? ShapeException as e -> e.Message
            Expect.stringContains message "Checkpoint.scanWith" "method"
            Expect.stringContains message "carry 0" "position"
            Expect.stringContains message "[3,2]" "init's shape"
        }
        test "a checkpoint interval below 1 is an error" {
            let drawT, drawE = drawsFrom 110
            Expect.throwsT<ShapeException> (fun () ->
                Checkpoint.scanWith { ScanOptions.Default with Checkpoint = ScanCheckpoint.Every 0 } (cell w u b v) [| drawE [| hidden |] |] [| drawE [| 5; inputs |] |] |> ignore) "Every 0"
        }
    ]
