/// The memory a compiled step allocates, counted: the MLP step of issue 12 (cross-entropy with
/// class indices, so gather forward and scatter-add backward) runs in planned buffers, and the
/// training loop the README teaches runs without gen-2 collections.
module FunctionalDiff.Core.Tests.PlanMemoryTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

/// An MLP step as in the README's benchmark (issue 12): softmax cross-entropy of
/// `features -> hidden tanh -> classes` against class indices (a constant), the loss and the four
/// gradients, with random inputs W1, b1, W2, b2 and the batch x.
let mlpStepOf (dtype: DType) (batch: int) (features: int) (hidden: int) (classes: int) (seed: int) =
    let targets = Tensor.FromArray(Array.init batch (fun i -> float ((i * 7) % classes)), [| batch |]).Cast dtype
    let step (p: Expr[]) =
        let lossOf (q: Expr list) =
            match q with
            | [ w1; b1; w2; b2 ] -> Nn.crossEntropy (Expr.matmul (Expr.tanh (Expr.matmul p.[4] w1 + b1)) w2 + b2) (Expr.constant targets)
            | _ -> invalidArg "q" "four parameters"
        let loss, gradients = Diff.valueAndGradN lossOf (List.ofArray p.[0..3])
        Array.append [| loss |] (Array.ofList gradients)
    let random = Random seed
    let inputs =
        [| [| features; hidden |]; [| hidden |]; [| hidden; classes |]; [| classes |]; [| batch; features |] |]
        |> Array.map (randomTensor random dtype)
    step, inputs

/// The smaller step: batch 32, 20 -> 16 tanh -> 5.
let crossEntropyStep (dtype: DType) = mlpStepOf dtype 32 20 16 5 5

/// The steps of a plan that run node-by-node kernels, by op name (each allocates its result).
let internal kernelSteps (plan: Plan) =
    plan.Steps |> Array.choose (fun s ->
        match s with
        | Step.Kernel(node, _, _) -> Some (OpName.name node.Op)
        | Step.Fused _ | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Write _
        | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> None)

/// Bytes allocated on this thread per call, the least over rounds of 100 calls (code still in
/// tiered compilation's first tier allocates where optimised code does not, so rounds go on
/// until one meets the bound or 200 have passed).
let bytesPerCall (bound: float) (call: unit -> unit) =
    let mutable least = Double.MaxValue
    let mutable round = 0
    while least > bound && round < 200 do
        let before = GC.GetAllocatedBytesForCurrentThread()
        for _ in 1 .. 100 do call ()
        least <- min least (float (GC.GetAllocatedBytesForCurrentThread() - before) / 100.0)
        round <- round + 1
    least

/// The float32 step with 10 classes at a batch size and layer widths.
let mlpStep (batch: int) (features: int) (hidden: int) (seed: int) = mlpStepOf DType.Float32 batch features hidden 10 seed

/// Graphs of the ops with buffer-writing kernels (gather, scatter-add, pad, concat, cast,
/// argmax) over inputs, transposed and flipped inputs, computed values and slices of them, with
/// indices that are inputs, constants and computed, including repeated indices.
let structuralGraphs (dtype: DType) (a: Expr) (b: Expr) (index: Expr) =
    let other = match dtype with DType.Float32 -> DType.Float64 | DType.Float64 -> DType.Float32
    let computed = Expr.tanh a * 2.0
    let constantIndex = Expr.constant (Tensor.FromArray(Array.init 12 (fun i -> float ((i * 5) % 4)), [| 3; 4 |]).Cast dtype)
    let computedIndex = Expr.argmax 1 true (Expr.sin b) // [4, 1], values in [0, 3)
    [| "gather of an input", Expr.gather 1 index a
       "gather of a transposed input with a sliced index", Expr.gather 1 (Expr.slice [| 0; 0 |] [| 3; 3 |] [| 1; 1 |] index) (Expr.transpose b)
       "gather of a computed value with a constant index", Expr.gather 1 constantIndex computed
       "gather with a computed index", Expr.gather 1 computedIndex b
       "scatter-add with repeated indices", Expr.scatterAdd 1 index (Expr.exp a) [| 3; 5 |]
       "scatter-add of a flipped input along axis 0", Expr.scatterAdd 0 constantIndex (Expr.flip [| 1 |] a) [| 6; 4 |]
       "pad of an input", Expr.pad [| 1; 0 |] [| 2; 3 |] a
       "pad of a transposed computed value", Expr.pad [| 0; 2 |] [| 1; 1 |] (Expr.transpose computed)
       "concat of an input, a computed value and a slice", Expr.concat 0 [ a; computed; Expr.slice [| 1; 0 |] [| 3; 4 |] [| 1; 1 |] a ]
       "concat along the last axis of transposed parts", Expr.concat 1 [ Expr.transpose b; Expr.transpose (Expr.exp b) ]
       "cast of an input", Expr.cast other a
       "cast of a transposed computed value", Expr.cast other (Expr.transpose computed)
       "cast to the same dtype", Expr.cast dtype (Expr.transpose a)
       "argmax of an input", Expr.argmax 0 false a
       "argmax of a transposed computed value", Expr.argmax 1 true (Expr.transpose computed) |]

[<Tests>]
let tests =
    testList "PlanMemory" [
        testCase "gather, scatter-add, pad, concat, cast and argmax give the interpreter's bits in planned buffers" <| fun () ->
            for dtype in [ DType.Float32; DType.Float64 ] do
                let random = Random 3
                let a = Expr.variable "a" [| 3; 4 |] dtype
                let b = Expr.variable "b" [| 4; 3 |] dtype
                let index = Expr.variable "index" [| 3; 4 |] dtype
                let indexValues = Tensor.FromArray(Array.init 12 (fun i -> float ((i * 7) % 4)), [| 3; 4 |]).Cast dtype
                let inputs = [| randomTensor random dtype [| 3; 4 |]; randomTensor random dtype [| 4; 3 |]; indexValues |]
                for name, graph in structuralGraphs dtype a b index do
                    // the op's result feeds an elementwise op too, so it is read from its buffer
                    let roots = [| graph; Expr.square graph |]
                    let expected = interpreted [| a; b; index |] inputs roots
                    let plan = Planner.compile [| a; b; index |] roots true
                    Expect.equal (kernelSteps plan) [||] (sprintf "%O %s: node-by-node kernels" dtype name)
                    for run in 1 .. 2 do
                        let actual = plan.Run(inputs, null)
                        for i in 0 .. roots.Length - 1 do
                            expectSameBits actual.[i] expected.[i] (sprintf "%O %s run %d root %d" dtype name run i)

        testCase "a planned gather raises for an index out of range, as the interpreter does" <| fun () ->
            let a = Expr.variable "a" [| 3; 4 |] DType.Float64
            let index = Expr.variable "index" [| 3; 4 |] DType.Float64
            let plan = Planner.compile [| a; index |] [| Expr.exp (Expr.gather 1 index a) |] true
            let bad = Tensor.FromArray(Array.init 12 (fun i -> if i = 5 then 4.0 else 0.0), [| 3; 4 |])
            let error = Expect.throwsC (fun () -> plan.Run([| Tensor.Zeros([| 3; 4 |], DType.Float64); bad |], null) |> ignore) id
            Expect.isTrue (error :? ShapeException) (sprintf "a ShapeException, not %s" (error.GetType().Name))
            Expect.stringContains error.Message "index 4 is out of range for axis 1 of size 4" "message"

        testCase "a cross-entropy MLP step has no node-by-node kernel and gives the interpreter's bits" <| fun () ->
            for dtype in [ DType.Float32; DType.Float64 ] do
                let step, inputs = crossEntropyStep dtype
                let compiled = Compile.compile step
                let plan = compiled.PlanFor inputs
                Expect.equal (kernelSteps plan) [||] (sprintf "%O: node-by-node kernels in the plan" dtype)
                let vars = inputs |> Array.mapi (fun i t -> Expr.variable (sprintf "v%d" i) t.Dims t.DType)
                let expected = interpreted vars inputs (step vars)
                let actual = compiled.Invoke inputs
                for i in 0 .. expected.Length - 1 do
                    expectSameBits actual.[i] expected.[i] (sprintf "%O output %d" dtype i)

        testSequenced (testCase "a compiled cross-entropy MLP step allocates at most 1 KB beyond its outputs" (fun () ->
            let step, inputs = crossEntropyStep DType.Float32
            let compiled = Compile.compile step
            let outputs = compiled.Invoke inputs
            for _ in 1 .. 200 do compiled.InvokeInto(inputs, outputs)
            let into = bytesPerCall 1024.0 (fun () -> compiled.InvokeInto(inputs, outputs))
            Expect.isLessThanOrEqual into 1024.0 "bytes per InvokeInto call"
            let kept = storageBytes outputs
            let fresh = bytesPerCall 1024.0 (fun () -> compiled.Invoke inputs |> ignore) - float kept
            Expect.isLessThanOrEqual fresh 1024.0 "bytes per Invoke call beyond the outputs' elements"))
    
        testSequenced (testCase "1,000 steps of the README's training loop over large-object parameters run no gen-2 collection" (fun () ->
            // the README's loop, with W of 100,000 float64 values (800 KB, a large object)
            let x = Tensor.randomNormal DType.Float64 3 [| 16; 2000 |]
            let y = Tensor.randomNormal DType.Float64 4 [| 16; 50 |]
            let lossOf (p: Expr list) =
                match p with
                | [ w; b ] -> Nn.mse (Expr.matmul (Expr.constant x) w + b) (Expr.constant y)
                | _ -> invalidArg "p" "W and b"
            let step =
                Compile.compile (fun p ->
                    let loss, g = Diff.valueAndGradN lossOf (List.ofArray p)
                    Array.append [| loss |] (Array.map2 (fun w gw -> w - 0.01 * gw) p (Array.ofList g)))
            let start = [| Tensor.Zeros([| 2000; 50 |], DType.Float64); Tensor.Zeros([| 50 |], DType.Float64) |]
            let mutable outs = step.Invoke start
            let mutable spare = step.Invoke start
            // the same steps with fresh results, the reference for the turn-taking loop
            let mutable fresh = step.Invoke start
            for _ in 1 .. 20 do
                step.InvokeInto(outs.[1..], spare)
                let written = spare
                spare <- outs
                outs <- written
                fresh <- step.Invoke fresh.[1..]
            for i in 0 .. 2 do expectSameBits outs.[i] fresh.[i] (sprintf "result %d after 21 steps" i)
            fresh <- null
            let gen2 = GC.CollectionCount 2
            for _ in 1 .. 1000 do
                step.InvokeInto(outs.[1..], spare)
                let written = spare
                spare <- outs
                outs <- written
            Expect.equal (GC.CollectionCount 2 - gen2) 0 "gen-2 collections over 1,000 steps"
            // a step allocates the slice outs.[1..] (a two-element array), and the library no more
            // than issue 12's bound (the hand-over of a large fused pass to the worker team is a
            // job object), however large the parameters
            let perStep =
                bytesPerCall 1024.0 (fun () ->
                    step.InvokeInto(outs.[1..], spare)
                    let written = spare
                    spare <- outs
                    outs <- written)
            Expect.isLessThanOrEqual perStep 1024.0 "bytes per step"))
    
        testSequenced (testCase "a full sum over 100,000 elements allocates nothing, and matches a float64 reference loop" (fun () ->
            // a run this long is summed in 1,024-element blocks added pairwise; the partial sums
            // must live on the stack, not in an array per reduction
            let previous = Parallelism.MaxDegree
            Parallelism.MaxDegree <- 1
            try
                for dtype in [ DType.Float32; DType.Float64 ] do
                    let x = randomTensor (Random 11) dtype [| 100_000 |]
                    let compiled = Compile.compile (fun (p: Expr[]) -> [| Expr.sum p.[0] |])
                    let inputs = [| x |]
                    let outputs = compiled.Invoke inputs
                    let mutable reference = 0.0
                    for v in x.ToDoubleArray() do reference <- reference + v
                    // the float32 sum carries float32 rounding; the float64 one agrees with the loop to far more digits
                    let accuracy = if dtype = DType.Float32 then Accuracy.medium else Accuracy.high
                    Expect.floatClose accuracy (outputs.[0].ToScalar()) reference (sprintf "%O sum against the reference loop" dtype)
                    let into = bytesPerCall 16.0 (fun () -> compiled.InvokeInto(inputs, outputs))
                    Expect.isLessThanOrEqual into 16.0 (sprintf "%O bytes per InvokeInto call" dtype)
            finally
                Parallelism.MaxDegree <- previous))
    
        testSequenced (testCase "with one thread, a step over blocks past the parallel threshold allocates nothing" (fun () ->
            // batch 128, 16 -> 512 tanh -> 10: the hidden layer's 65,536 elements would be split
            // over the worker team; with MaxDegree 1 its blocks run in a loop, with no hand-over
            let previous = Parallelism.MaxDegree
            Parallelism.MaxDegree <- 1
            try
                let step, inputs = mlpStep 128 16 512 9
                let compiled = Compile.compile step
                let outputs = compiled.Invoke inputs
                for _ in 1 .. 50 do compiled.InvokeInto(inputs, outputs)
                let into = bytesPerCall 16.0 (fun () -> compiled.InvokeInto(inputs, outputs))
                Expect.isLessThanOrEqual into 16.0 "bytes per InvokeInto call"
            finally
                Parallelism.MaxDegree <- previous))
    ]
