/// Plans and compiled functions against the node-by-node interpreter: the same bits on random
/// graphs, under concurrency, across signatures; and the memory a compiled step allocates.
module FunctionalDiff.Core.Tests.PlanTests

open System
open System.Threading
open Expecto
open FunctionalDiff.Core

/// Bitwise equality of two tensors (shape, dtype and every element's bits).
let expectSameBits (actual: Tensor) (expected: Tensor) (message: string) =
    Expect.equal actual.DType expected.DType (message + ": dtype")
    Expect.equal actual.Shape expected.Shape (message + ": shape")
    let a, e = actual.ToDoubleArray(), expected.ToDoubleArray()
    for i in 0 .. a.Length - 1 do
        if BitConverter.DoubleToInt64Bits a.[i] <> BitConverter.DoubleToInt64Bits e.[i] then
            failtestf "%s: element %d is %.17g, the interpreter gives %.17g" message i a.[i] e.[i]

/// The interpreter's values, the reference every plan is held to.
let interpreted (vars: Expr[]) (inputs: Tensor[]) (roots: Expr[]) =
    let bindings = Collections.Generic.Dictionary<int64, Tensor>()
    Array.iter2 (fun (v: Expr) t -> bindings.[v.Id] <- t) vars inputs
    Interpret.evalMany bindings roots

/// The fused groups of a plan, in schedule order.
let internal fusedGroups (plan: Plan) =
    plan.Steps |> Array.choose (fun step ->
        match step with
        | Step.Fused(group, _) -> Some group
        | Step.Reduce _ | Step.MatMul _ | Step.Copy _ | Step.View _ | Step.Kernel _ | Step.Write _
        | Step.Unfold _ | Step.Fold _ | Step.Loop _ | Step.FoldProduct _ -> None)

/// A random tensor of a shape and dtype.
let randomTensor (random: Random) (dtype: DType) (shape: int[]) =
    let data = Array.init (Shape.numel shape) (fun _ -> random.NextDouble() * 4.0 - 2.0)
    (Tensor.FromArray(data, shape)).Cast dtype

/// A random graph over `vars`: unary and binary ops with broadcasting, where, reductions, matmul,
/// views (transpose, reshape, broadcast, slice), shared subgraphs (nodes are drawn from a pool and
/// reused), constants; and roots that include an input Var, a constant and a repeated root.
let randomGraph (random: Random) (dtype: DType) (vars: Expr[]) (steps: int) =
    let pool = Collections.Generic.List<Expr>(vars)
    pool.Add(Expr.constant (randomTensor random dtype [| 3; 4 |]))
    pool.Add(Expr.scalar dtype 0.5)
    let pick () = pool.[random.Next pool.Count]
    let unaries = [| UnaryOp.Neg; UnaryOp.Exp; UnaryOp.Sin; UnaryOp.Tanh; UnaryOp.Sigmoid; UnaryOp.Abs; UnaryOp.Square; UnaryOp.Relu; UnaryOp.Cos; UnaryOp.Log; UnaryOp.Sqrt |]
    let binaries = [| BinaryOp.Add; BinaryOp.Sub; BinaryOp.Mul; BinaryOp.Div; BinaryOp.Maximum; BinaryOp.Minimum; BinaryOp.Less; BinaryOp.Pow; BinaryOp.Atan2 |]
    let tryAdd (make: unit -> Expr) =
        try pool.Add(make ()) with :? ArgumentException -> () // shapes that do not broadcast: draw again
    for _ in 1 .. steps do
        match random.Next 10 with
        | 0 | 1 | 2 -> tryAdd (fun () -> Expr.unary unaries.[random.Next unaries.Length] (pick ()))
        | 3 | 4 | 5 -> tryAdd (fun () -> Expr.binary binaries.[random.Next binaries.Length] (pick ()) (pick ()))
        | 6 -> tryAdd (fun () -> Expr.where (Expr.lt (pick ()) (pick ())) (pick ()) (pick ()))
        | 7 ->
            let x = pick ()
            if x.Rank > 0 then
                let axis = random.Next x.Rank
                let keep = random.Next 2 = 0
                tryAdd (fun () ->
                    match random.Next 3 with
                    | 0 -> Expr.sumAxes [| axis |] keep x
                    | 1 -> Expr.meanAxes [| axis |] keep x
                    | _ -> Expr.maxAxes [| axis |] keep x)
        | 8 ->
            let x = pick ()
            if x.Rank = 2 then tryAdd (fun () -> Expr.matmul x (Expr.transpose (pick ())))
            elif x.Rank = 1 then tryAdd (fun () -> Expr.matmul (pick ()) x)
        | _ ->
            let x = pick ()
            match random.Next 4 with
            | 0 -> tryAdd (fun () -> Expr.transpose x)
            | 1 -> tryAdd (fun () -> Expr.reshape [| x.Numel |] x)
            | 2 -> tryAdd (fun () -> Expr.broadcastTo (Array.append [| 2 |] x.Dims) x)
            | _ ->
                if x.Rank > 0 && x.Dims.[0] > 1 then
                    tryAdd (fun () -> Expr.sliceAxis 0 1 x.Dims.[0] x)
    let count = 1 + random.Next 4
    let roots = Array.init count (fun _ -> pool.[pool.Count - 1 - random.Next (min pool.Count 6)])
    Array.concat [ roots; [| roots.[0]; vars.[0]; pool.[vars.Length] |] ]

let private shapes = [| [| 3; 4 |]; [| 4 |]; [| 3; 1 |]; [||]; [| 1; 4 |] |]

/// Draws inputs and a graph from a seed; both dtypes.
let private randomCase (seed: int) =
    let random = Random seed
    let dtype = if random.Next 2 = 0 then DType.Float32 else DType.Float64
    let inputShapes = Array.init (1 + random.Next 3) (fun i -> if i = 0 then [| 3; 4 |] else shapes.[random.Next shapes.Length])
    let vars = inputShapes |> Array.mapi (fun i s -> Expr.variable (sprintf "x%d" i) s dtype)
    let inputs = inputShapes |> Array.map (randomTensor random dtype)
    let roots = randomGraph random dtype vars (5 + random.Next 25)
    vars, inputs, roots, dtype


/// A small MLP step: batch 8, 6 -> 16 tanh -> 3, softmax cross-entropy against one-hot labels
/// (a constant of the plan), the loss and the gradients of W1, b1, W2, b2.
let mlpStep (dtype: DType) =
    let labels = Tensor.FromArray(Array.init 24 (fun i -> if i % 3 = (i / 3) % 3 then 1.0 else 0.0), [| 8; 3 |]).Cast dtype
    let x = randomTensor (Random 7) dtype [| 8; 6 |]
    let lossOf (p: Expr list) =
        match p with
        | [ w1; b1; w2; b2 ] ->
            let hidden = Expr.tanh (Expr.matmul (Expr.constant x) w1 + b1)
            let logits = Expr.matmul hidden w2 + b2
            let logProbabilities = Nn.logSoftmax 1 logits
            -(Expr.mean (Expr.sumAxes [| 1 |] false (logProbabilities * Expr.constant labels)))
        | _ -> invalidArg "p" "four parameters"
    let step (p: Expr[]) =
        let loss, gradients = Diff.valueAndGradN lossOf (List.ofArray p)
        Array.append [| loss |] (Array.ofList gradients)
    let random = Random 11
    let parameters = [| [| 6; 16 |]; [| 16 |]; [| 16; 3 |]; [| 3 |] |] |> Array.map (randomTensor random dtype)
    step, parameters

/// Bytes of the arrays behind tensors (their elements; headers not counted).
let storageBytes (ts: Tensor[]) =
    ts |> Array.sumBy (fun t -> int64 t.Numel * (match t.DType with DType.Float64 -> 8L | DType.Float32 -> 4L))

[<Tests>]
let tests =
    testList "Plan" [
        testPropertyWithConfig (PropertySupport.fixedSeed 2UL 100) "plans give the interpreter's bits on random graphs, run after run" <| fun (seed: int) ->
            let vars, inputs, roots, _ = randomCase seed
            let expected = interpreted vars inputs roots
            for fold in [ false; true ] do
                let plan = Planner.compile vars roots fold
                for run in 1 .. 2 do
                    let actual = plan.Run(inputs, null)
                    for i in 0 .. roots.Length - 1 do
                        expectSameBits actual.[i] expected.[i] (sprintf "seed %d fold %b run %d root %d" seed fold run i)

        testPropertyWithConfig (PropertySupport.fixedSeed 3UL 100) "compiled functions give the interpreter's bits, fresh and into given outputs" <| fun (seed: int) ->
            let vars, inputs, roots, _ = randomCase seed
            let expected = interpreted vars inputs roots
            // the same graph, traced over the compiled function's own Vars
            let compiled = Compile.compile (fun xs -> Substitute.apply (Array.zip vars xs) roots)
            let actual = compiled.Invoke inputs
            for i in 0 .. roots.Length - 1 do
                expectSameBits actual.[i] expected.[i] (sprintf "seed %d root %d" seed i)
            let outputs = expected |> Array.map (fun t -> Tensor.Zeros(t.Shape, t.DType))
            compiled.InvokeInto(inputs, outputs)
            for i in 0 .. roots.Length - 1 do
                expectSameBits outputs.[i] expected.[i] (sprintf "seed %d into root %d" seed i)
            // the outputs of a call are not overwritten by the next
            let again = compiled.Invoke(inputs |> Array.map (fun t -> Structural.reshape t.Shape (Elementwise.unary UnaryOp.Neg t)))
            for i in 0 .. roots.Length - 1 do
                expectSameBits actual.[i] expected.[i] (sprintf "seed %d root %d after another call" seed i)
            Expect.equal again.Length roots.Length "results of the second call"

        testCase "8 threads x 1,000 calls of one compiled function give the bits of a sequential call" <| fun () ->
            let step, parameters = mlpStep DType.Float32
            let compiled = Compile.compile step
            let expected = compiled.Invoke parameters
            let failures = ref 0
            let threads =
                Array.init 8 (fun _ ->
                    Thread(fun () ->
                        for _ in 1 .. 1000 do
                            let actual = compiled.Invoke parameters
                            for i in 0 .. actual.Length - 1 do
                                if actual.[i].ToSingleArray() <> expected.[i].ToSingleArray() then
                                    Interlocked.Increment failures |> ignore))
            for t in threads do t.Start()
            for t in threads do t.Join()
            Expect.equal failures.Value 0 "calls whose results differ from the sequential call"

        testCase "a compiled step gives the interpreter's bits in both dtypes" <| fun () ->
            for dtype in [ DType.Float32; DType.Float64 ] do
                let step, parameters = mlpStep dtype
                let vars = parameters |> Array.mapi (fun i p -> Expr.variable (sprintf "p%d" i) p.Shape dtype)
                let expected = interpreted vars parameters (step vars)
                let actual = (Compile.compile step).Invoke parameters
                for i in 0 .. actual.Length - 1 do
                    expectSameBits actual.[i] expected.[i] (sprintf "%O output %d" dtype i)

        testCase "a new signature traces again; a known one does not" <| fun () ->
            let compiled = Compile.compile (fun xs -> [| Expr.sum (xs.[0] * xs.[0]) |])
            let call (values: float[]) (dtype: DType) = (compiled.Invoke [| (Tensor.FromArray(values, [| values.Length |])).Cast dtype |]).[0].ToScalar()
            Expect.equal (call [| 1.0; 2.0; 3.0 |] DType.Float64) 14.0 "1 + 4 + 9"
            Expect.equal compiled.TraceCount 1 "first signature"
            Expect.equal (call [| 2.0; 2.0; 2.0 |] DType.Float64) 12.0 "same signature, new values"
            Expect.equal compiled.TraceCount 1 "same signature"
            Expect.equal (call [| 1.0; 2.0; 3.0; 4.0 |] DType.Float64) 30.0 "new shape"
            Expect.equal compiled.TraceCount 2 "new shape traces"
            Expect.equal (call [| 1.0; 2.0; 3.0 |] DType.Float32) 14.0 "new dtype"
            Expect.equal compiled.TraceCount 3 "new dtype traces"
            Expect.equal (call [| 0.0; 1.0; 0.0 |] DType.Float64) 1.0 "first signature again"
            Expect.equal compiled.TraceCount 3 "known signatures are not traced again"

        testCase "a signature the function cannot take is named in the error: count, shape, dtype" <| fun () ->
            let compiled =
                Compile.compile (fun xs ->
                    if xs.[0].DType <> DType.Float64 then invalidArg "x" "this function takes float64 only"
                    [| Expr.matmul xs.[0] xs.[1] |])
            let a, b = Tensor.Ones([| 2; 3 |], DType.Float64), Tensor.Ones([| 3; 4 |], DType.Float64)
            Expect.equal ((compiled.Invoke(a, b)).[0].ToDoubleArray()) (Array.create 8 3.0) "ones(2,3) @ ones(3,4)"
            let expectMessage (f: unit -> unit) (parts: string list) =
                try
                    f ()
                    failtest "no exception"
                with :? ArgumentException as e ->
                    for p in parts do Expect.stringContains e.Message p "the message"
                    Expect.equal e.ParamName "inputs" "the parameter"
            expectMessage (fun () -> compiled.Invoke(a, Tensor.Ones([| 5; 4 |], DType.Float64)) |> ignore)
                [ "Invoke"; "inputs[1]"; "float64" + Shape.format [| 5; 4 |]; "float64" + Shape.format [| 3; 4 |] ]
            expectMessage (fun () -> compiled.Invoke(a) |> ignore) [ "Invoke"; "expected 2 inputs"; "got 1" ]
            expectMessage (fun () -> compiled.Invoke(a.Cast DType.Float32, b) |> ignore)
                [ "Invoke"; "inputs[0]"; "float32" + Shape.format [| 2; 3 |]; "float64" + Shape.format [| 2; 3 |] ]
            Expect.equal compiled.TraceCount 1 "failed traces are not kept"

        testCase "an Expr kept from an earlier trace is named in the error of a later one" <| fun () ->
            // JAX's leaked tracer: the function keeps its first input and adds it at every later trace
            let mutable kept = Unchecked.defaultof<Expr>
            let compiled =
                Compile.compile (fun xs ->
                    if isNull (box kept) then kept <- xs.[0]
                    [| xs.[0] + kept |])
            let first = compiled.Invoke [| Tensor.FromArray([| 1.0; 2.0 |], [| 2 |]) |]
            Expect.equal (first.[0].ToDoubleArray()) [| 2.0; 4.0 |] "x + x at the first trace"
            try
                compiled.Invoke [| Tensor.FromArray([| 1.0; 2.0 |], [| 2 |]).Cast DType.Float32 |] |> ignore
                failtest "no exception"
            with :? InvalidOperationException as e ->
                for part in [ "Invoke"; "input0"; "float64" + Shape.format [| 2 |]; "earlier" ] do
                    Expect.stringContains e.Message part "the message"
                Expect.isFalse (e.Message.StartsWith "Eval") "names the method called, not Eval"
            Expect.equal compiled.TraceCount 1 "the failed trace is not kept"

        testCase "a chain of a million elementwise nodes compiles to one fused step and runs" <| fun () ->
            let x = Expr.variable "x" [| 4 |] DType.Float64
            let mutable e = x
            for i in 1 .. 1_000_000 do
                e <- if i % 2 = 0 then Expr.sin e else e * 1.0000001
            let plan = Planner.compile [| x |] [| e |] true
            Expect.equal plan.Steps.Length 1 "one fused step"
            let input = Tensor.FromArray([| 0.1; 0.5; 1.0; -2.0 |], [| 4 |])
            let actual = (plan.Run([| input |], null)).[0].ToDoubleArray()
            let expected =
                input.ToDoubleArray() |> Array.map (fun v0 ->
                    let mutable v = v0
                    for i in 1 .. 1_000_000 do
                        v <- if i % 2 = 0 then Math.Sin v else v * 1.0000001
                    v)
            // sin of a vectorised kernel differs from Math.Sin by an ulp at most per step, and the
            // iteration contracts errors (|cos| < 1 near the fixed point), so they stay tiny
            for i in 0 .. 3 do
                Expect.isLessThan (abs (actual.[i] - expected.[i])) 1e-12 (sprintf "element %d" i)

        testCase "buffers are reused: a chain of reductions and products needs a bounded arena" <| fun () ->
            // each matmul's output dies at the next: the arena holds two slots, not one per step
            let x = Expr.variable "x" [| 16; 16 |] DType.Float64
            let mutable e = x
            for _ in 1 .. 50 do
                e <- Expr.matmul e x
            let plan = Planner.compile [| x |] [| Expr.sum e |] false
            Expect.equal plan.Steps.Length 51 "50 products and a sum"
            Expect.isLessThanOrEqual plan.SlotCount 2 "slots"

        testCase "a fused accumulation over an unrolled loop needs the same slots at every length" <| fun () ->
            // acc_k = sin(x·c_k) + acc_(k-1), the new term first, as a gradient's fan-in sums come:
            // one fused group through the whole loop. Walked in input order, each step's term held
            // a register while the older sums below it were computed, so a long loop spilled a
            // stored member (a buffer and a slot) per step past the group's registers.
            let x = Expr.variable "x" [| 8 |] DType.Float64
            let planFor (steps: int) =
                let mutable acc = Expr.sin x
                for k in 1 .. steps do
                    acc <- Expr.add (Expr.sin (x * Expr.scalar DType.Float64 (1.0 + 0.001 * float k))) acc
                acc, Planner.compile [| x |] [| acc |] false
            let input = Tensor.FromArray(Array.init 8 (fun i -> 0.1 * float i - 0.3), [| 8 |])
            for steps in [ 100; 1_000; 4_000 ] do
                let root, plan = planFor steps
                Expect.equal (fusedGroups plan).Length 1 (sprintf "%d steps: one fused group" steps)
                Expect.isLessThanOrEqual plan.SlotCount 1 (sprintf "%d steps: slots" steps)
                // the sum written out in a loop of its own, term by term in the graph's order
                let values = input.ToDoubleArray()
                let expected =
                    values |> Array.map (fun v ->
                        let mutable acc = Math.Sin v
                        for k in 1 .. steps do
                            acc <- Math.Sin(v * (1.0 + 0.001 * float k)) + acc
                        acc)
                let actual = (plan.Run([| input |], null)).[0]
                let got = actual.ToDoubleArray()
                for i in 0 .. 7 do
                    Expect.isLessThan (abs (got.[i] - expected.[i])) (1e-12 * float steps) (sprintf "%d steps, element %d" steps i)
                expectSameBits actual (interpreted [| x |] [| input |] [| root |]).[0] (sprintf "%d steps" steps)

        testSequenced (testCase "compiled steps of a small MLP (at least 1,000): no gen-2 collection, bounded allocation per call" (fun () ->
            let previousLimit = TensorMemory.CacheLimit
            // the finalizer-based recycling requests collections of its own; it is not what is measured
            TensorMemory.CacheLimit <- 0L
            try
                let step, parameters = mlpStep DType.Float32
                let compiled = Compile.compile step
                let outputs = compiled.Invoke parameters
                // past tiered compilation's first tier, whose code allocates where the optimised code does not
                let gen2 = GC.CollectionCount 2
                for _ in 1 .. 2000 do compiled.InvokeInto(parameters, outputs)
                // Bytes per call, the least over rounds of 100 calls. Code still in the first tier of
                // tiered compilation allocates where optimised code does not, and on a loaded machine
                // the optimised code can take seconds to arrive; so rounds go on until one meets the
                // bound, or 200 rounds have passed.
                let perCall (bound: float) (call: unit -> int64) =
                    let mutable least = Double.MaxValue
                    let mutable round = 0
                    while least > bound && round < 200 do
                        let before = GC.GetAllocatedBytesForCurrentThread()
                        let mutable kept = 0L
                        for _ in 1 .. 100 do kept <- kept + call ()
                        least <- min least (float (GC.GetAllocatedBytesForCurrentThread() - before - kept) / 100.0)
                        round <- round + 1
                    least
                let intoBytes = perCall 256.0 (fun () -> compiled.InvokeInto(parameters, outputs); 0L)
                let freshBytes = perCall 1024.0 (fun () -> storageBytes (compiled.Invoke parameters))
                Expect.equal (GC.CollectionCount 2) gen2 "gen-2 collections during the measured steps"
                // what remains: the tensor objects of views of the inputs, made per call because
                // each call may bring other arrays
                Expect.isLessThanOrEqual intoBytes 256.0 "bytes per call into given outputs"
                // five outputs: each a tensor object and its array header, and the result array
                Expect.isLessThanOrEqual freshBytes 1024.0 "bytes per call beyond the outputs' elements"
            finally
                TensorMemory.CacheLimit <- previousLimit))

        testCase "the README's F# compiled training loop is this file's code" <| fun () ->
            ReadmeSupport.expectReadmeBlock "tests/FunctionalDiff.Core.Tests/PlanTests.fs" ": Compiled functions" "## Compiled functions"

        testCase "the README's F# training loop matches gradient descent written out" <| fun () ->
            // BEGIN README: Compiled functions
            let x = Tensor.randomNormal DType.Float64 3 [| 64; 3 |]
            let y = Tensor.randomNormal DType.Float64 4 [| 64; 1 |]
            let lossOf (p: Expr list) =
                match p with
                | [ w; b ] -> Nn.mse (Expr.matmul (Expr.constant x) w + b) (Expr.constant y)
                | _ -> invalidArg "p" "W and b"

            let step =
                Compile.compile (fun p ->
                    let loss, g = Diff.valueAndGradN lossOf (List.ofArray p)
                    Array.append [| loss |] (Array.map2 (fun w gw -> w - 0.1 * gw) p (Array.ofList g)))

            let mutable parameters = [| Tensor.Zeros([| 3; 1 |], DType.Float64); Tensor.Zeros([| 1 |], DType.Float64) |]
            // two sets of results take turns, as in the C# loop
            let mutable outs = step.Invoke parameters
            let mutable spare = step.Invoke parameters
            printfn "%O" outs.[0]
            for i in 1 .. 99 do
                step.InvokeInto(outs.[1..], spare)
                let written = spare
                spare <- outs
                outs <- written
                if i % 25 = 0 then printfn "%O" outs.[0]
            parameters <- outs.[1..]
            // END README: Compiled functions
            // mean squared error of x w + b: gradients 2/n xᵀ r and 2/n Σ r
            let xs, ys = x.ToDoubleArray(), y.ToDoubleArray()
            let w = Array.zeroCreate 3
            let mutable b = 0.0
            for _ in 1 .. 100 do
                let gw = Array.zeroCreate 3
                let mutable gb = 0.0
                for i in 0 .. 63 do
                    let r = xs.[3 * i] * w.[0] + xs.[3 * i + 1] * w.[1] + xs.[3 * i + 2] * w.[2] + b - ys.[i]
                    for j in 0 .. 2 do gw.[j] <- gw.[j] + 2.0 / 64.0 * r * xs.[3 * i + j]
                    gb <- gb + 2.0 / 64.0 * r
                for j in 0 .. 2 do w.[j] <- w.[j] - 0.1 * gw.[j]
                b <- b - 0.1 * gb
            GraphTestSupport.expectClose 1e-12 (parameters.[0].ToDoubleArray()) w "W"
            GraphTestSupport.expectClose 1e-12 (parameters.[1].ToDoubleArray()) [| b |] "b"
            Expect.equal step.TraceCount 1 "one signature"
    ]
