/// Fused groups with stored outputs: an elementwise chain whose intermediate values the backward
/// pass reads again (exp, then tanh, of a large input) is computed in one pass that writes those
/// values out on the way, instead of one pass per value with several uses. The passes are counted
/// from the plan's steps against what the chain's calculus needs, and the values are held to a
/// plain float64 loop and to the interpreter's bits.
module FunctionalDiff.Core.Tests.PlanStoredTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanTests

let private groups (plan: Plan) = fusedGroups plan

/// The loss Σ tanh(exp((x + 0.25)·0.5)) and its gradient in x (the issue's large chain).
let private chain (dtype: DType) (shape: int[]) =
    let x = Expr.variable "x" shape dtype
    let loss, gradient = Diff.valueAndGrad (fun x -> Expr.sum (Expr.tanh (Expr.exp ((x + 0.25) * 0.5)))) x
    x, [| loss; gradient |]

/// The same loss and gradient by a plain loop in float64: with e = exp((x + 0.25)·0.5) and
/// t = tanh e, the loss is Σ t and its derivative in x is (1 − t²)·e·0.5.
let private chainByLoop (xs: float[]) =
    let mutable loss = 0.0
    let gradient =
        xs |> Array.map (fun x ->
            let e = Math.Exp((x + 0.25) * 0.5)
            let t = Math.Tanh e
            loss <- loss + t
            (1.0 - t * t) * e * 0.5)
    loss, gradient

/// Steps that read a value of `numel` elements, counted once per distinct value a step reads.
let private fullReads (plan: Plan) (numel: int) =
    plan.Steps |> Array.sumBy (fun step ->
        let read =
            match step with
            | Step.Fused(group, _) -> group.InputValues
            | Step.Reduce(_, _, input, _) | Step.Copy(input, _) | Step.View(_, input, _, _, _, _) -> [| input |]
            | Step.Unfold(_, _, _, _, input, _) | Step.Fold(_, _, _, _, _, input, _) -> [| input |]
            | Step.MatMul(left, right, _, _, _, addend) -> (if addend >= 0 then [| left; right; addend |] else [| left; right |])
            | Step.FoldProduct(left, right, _, _, _, _, _, _) -> [| left; right |]
            | Step.Kernel(_, args, _) | Step.Write(_, args, _) | Step.Loop(_, args, _) -> args
        read |> Array.distinct |> Array.filter (fun v -> plan.ValueNumel v = numel) |> Array.length)

[<Tests>]
let tests =
    testList "PlanStored" [
        testCase "the chain's value and gradient take one fused pass: it stores tanh's result for the sum" <| fun () ->
            let n = 1 <<< 16
            let x, roots = chain DType.Float32 [| n |]
            let plan = Planner.compile [| x |] roots true
            let fused = groups plan
            // x → e = exp(·) → t = tanh e → (1 − t²)·e·0.5 in one pass: e is read only inside it (a
            // register), t also by the loss's sum after it (stored). The loss, a root of one element,
            // is placed after the gradient, so the sum is not t's first consumer.
            Expect.equal fused.Length 1 "one pass for the forward and the backward"
            Expect.equal fused.[0].StoredValues.Length 1 "the pass writes t besides the gradient"
            // x by the pass, t by the sum
            Expect.equal (fullReads plan n) 2 "two full reads"

        testCase "a node read twice by the group after its own is not stored" <| fun () ->
            // t·t reads t through two edges: t heads its own group, which the product reads
            let x = Expr.variable "x" [| 64 |] DType.Float64
            let t = Expr.tanh (Expr.exp x)
            let roots = [| Expr.sum t; t * t + 1.0 |]
            let fused = groups (Planner.compile [| x |] roots true)
            Expect.equal fused.Length 2 "exp and tanh, then the product"
            Expect.isTrue (fused |> Array.forall (fun g -> g.StoredValues.Length = 0)) "no stored outputs"

        testCase "a value read several times inside one group stays in a register: silu's value and gradient are one pass" <| fun () ->
            // s = σ(x) is read by the value s·x and by the gradient s + x·s·(1 − s): every read is in
            // the gradient's group, so s lives in a register and nothing but x is read in full
            let n = 1 <<< 14
            let x = Expr.variable "x" [| n |] DType.Float64
            let gradient = Diff.grad (fun x -> Expr.sum (Expr.sigmoid x * x)) x
            let plan = Planner.compile [| x |] [| gradient |] true
            let fused = groups plan
            Expect.equal fused.Length 1 "one pass"
            Expect.equal fused.[0].StoredValues.Length 0 "nothing written but the gradient"
            Expect.equal (fullReads plan n) 1 "x read once"
            let input = randomTensor (Random 11) DType.Float64 [| n |]
            expectSameBits (plan.Run([| input |], null).[0]) (interpreted [| x |] [| input |] [| gradient |]).[0] "the interpreter's bits"
            let ours = plan.Run([| input |], null).[0].ToDoubleArray()
            input.ToDoubleArray() |> Array.iteri (fun i v ->
                let s = 1.0 / (1.0 + Math.Exp(-v))
                let expected = s + v * s * (1.0 - s)
                if abs (ours.[i] - expected) > 1e-14 * (1.0 + abs expected) then failtestf "element %d: %g, the closed form %g" i ours.[i] expected)

        testCase "a group whose members are read late holds a bounded number of registers and allocates nothing per run" <| fun () ->
            // y ← tanh(y) 60 times over 2^16 values: the gradient reads every tanh again, in reverse
            // order, so all 60 would be live at once; past a bound they are stored members instead
            let n = 1 <<< 16
            let x = Expr.variable "x" [| n |] DType.Float64
            let f (x: Expr) =
                let mutable y = x
                for _ in 1 .. 60 do y <- Expr.tanh y
                Expr.sum y
            let gradient = Diff.grad f x
            let plan = Planner.compile [| x |] [| gradient |] true
            let fused = groups plan
            Expect.isLessThanOrEqual (fused |> Array.map (fun g -> g.Program.Registers) |> Array.max) 32 "registers per group"
            let input = randomTensor (Random 12) DType.Float64 [| n |]
            let outputs = plan.Run([| input |], null)
            expectSameBits outputs.[0] (interpreted [| x |] [| input |] [| gradient |]).[0] "the interpreter's bits"
            plan.Run([| input |], outputs) |> ignore
            // The least over up to ten runs: under load a run can take a path the runs before it did
            // not (the worker team busy, the caller doing every part) and allocate once on it; what
            // is bounded is what every run allocates (this test once failed alone in a loaded run).
            let mutable bytes = Int64.MaxValue
            let mutable round = 0
            while bytes > 4096L && round < 10 do
                let before = GC.GetAllocatedBytesForCurrentThread()
                plan.Run([| input |], outputs) |> ignore
                bytes <- min bytes (GC.GetAllocatedBytesForCurrentThread() - before)
                round <- round + 1
            Expect.isLessThanOrEqual bytes 4096L "bytes allocated by a run into kept outputs"
            // the chain rule by a loop: d/dx of tanh⁶⁰ is the product of (1 − tₖ²)
            let ours = outputs.[0].ToDoubleArray()
            input.ToDoubleArray() |> Array.iteri (fun i v ->
                let mutable y = v
                let mutable slope = 1.0
                for _ in 1 .. 60 do
                    y <- Math.Tanh y
                    slope <- slope * (1.0 - y * y)
                if abs (ours.[i] - slope) > 1e-13 * (1.0 + abs slope) then failtestf "element %d: %g, the loop %g" i ours.[i] slope)

        testCase "a stored value read by a reduction and a view after its group gives the interpreter's bits" <| fun () ->
            let x = Expr.variable "x" [| 64; 48 |] DType.Float64
            let e = Expr.exp x
            // e: stored by tanh's group, then summed and transposed into a product by later steps (every
            // root has one element, so the walk keeps their order and tanh's group comes first)
            let roots = [| Expr.sum (Expr.tanh e); Expr.sum e; Expr.sum (Expr.transpose e * 2.0) |]
            let plan = Planner.compile [| x |] roots true
            Expect.equal (groups plan |> Array.sumBy (fun g -> g.StoredValues.Length)) 1 "e is stored once"
            let input = randomTensor (Random 3) DType.Float64 [| 64; 48 |]
            let expected = interpreted [| x |] [| input |] roots
            let results = plan.Run([| input |], null)
            for r in 0 .. roots.Length - 1 do expectSameBits results.[r] expected.[r] (sprintf "root %d" r)

        for dtype, tolerance in [ DType.Float64, 1e-13; DType.Float32, 2e-5 ] do
            for n in [ 1; 100; 5000; 1 <<< 20 ] do
                testCase (sprintf "the chain's plan agrees with a float64 loop and gives the interpreter's bits (%O, %d elements)" dtype n) <| fun () ->
                    let random = Random(n)
                    let input = randomTensor random dtype [| n |]
                    let x, roots = chain dtype [| n |]
                    let plan = Planner.compile [| x |] roots true
                    let expected = interpreted [| x |] [| input |] roots
                    for run in 1 .. 2 do
                        let results = plan.Run([| input |], null)
                        expectSameBits results.[0] expected.[0] (sprintf "loss, run %d" run)
                        expectSameBits results.[1] expected.[1] (sprintf "gradient, run %d" run)
                    let loss, gradient = chainByLoop (input.ToDoubleArray())
                    let results = plan.Run([| input |], null)
                    Expect.floatClose { absolute = tolerance * float n; relative = tolerance } (results.[0].ToDoubleArray().[0]) loss "loss"
                    let ours = results.[1].ToDoubleArray()
                    for i in 0 .. n - 1 do
                        if abs (ours.[i] - gradient.[i]) > tolerance * (1.0 + abs gradient.[i]) then
                            failtestf "gradient element %d is %g, the loop gives %g" i ours.[i] gradient.[i]

        testCase "a chain over a broadcast bias, walked by rows with stored outputs, gives the interpreter's bits" <| fun () ->
            // rows of 2048 with the bias read in place; large enough that the output streams
            for dtype in [ DType.Float32; DType.Float64 ] do
                let random = Random(7)
                let x = Expr.variable "x" [| 512; 2048 |] dtype
                let b = Expr.variable "b" [| 2048 |] dtype
                let loss, gradients =
                    Diff.valueAndGradN (fun args -> match args with
                                                    | [ x; b ] -> Expr.sum (Expr.tanh (Expr.exp ((x + b) * 0.5)))
                                                    | _ -> failwith "two arguments") [ x; b ]
                let roots = Array.ofList (loss :: gradients)
                let inputs = [| randomTensor random dtype [| 512; 2048 |]; randomTensor random dtype [| 2048 |] |]
                let plan = Planner.compile [| x; b |] roots true
                Expect.isTrue (groups plan |> Array.exists (fun g -> g.StoredValues.Length > 0)) "some group stores a value"
                let expected = interpreted [| x; b |] inputs roots
                let results = plan.Run(inputs, null)
                for r in 0 .. roots.Length - 1 do expectSameBits results.[r] expected.[r] (sprintf "%O root %d" dtype r)

        testCase "an op with a rule of its own (elu's expm1, asinh) fuses through its Custom node: one pass, nothing stored" <| fun () ->
            // elu(x) = where(x > 0, x, expm1(min(x, 0))) with expm1 behind a Custom node (its own slope eˣ), and
            // asinh behind one (its slope 1/√(x² + 1)), and a stop_gradient: in a plan each is an alias of its value,
            // which used to be a consumer no group could join, so the expm1 was written out and read back
            let n = 1 <<< 16
            for dtype in [ DType.Float32; DType.Float64 ] do
                let x = Expr.variable "x" [| n |] dtype
                let value = Activations.elu 1.0 x + Elementary.asinh (Expr.stopGradient (x * 0.5))
                let plan = Planner.compile [| x |] [| value |] true
                let fused = groups plan
                Expect.equal fused.Length 1 (sprintf "%O: one pass" dtype)
                Expect.equal fused.[0].StoredValues.Length 0 (sprintf "%O: no intermediate stored" dtype)
                Expect.equal (fullReads plan n) 1 (sprintf "%O: x is read once" dtype)
                let random = Random(11)
                let input = randomTensor random dtype [| n |]
                let expected = interpreted [| x |] [| input |] [| value |]
                expectSameBits (plan.Run([| input |], null)).[0] expected.[0] (sprintf "%O: the interpreter's bits" dtype)
                // and a plain loop in float64: elu x + asinh(x/2)
                let xs = input.ToDoubleArray()
                let ours = (plan.Run([| input |], null)).[0].ToDoubleArray()
                let tolerance = if dtype = DType.Float32 then 1e-6 else 1e-14
                for i in 0 .. n - 1 do
                    let v = xs.[i]
                    let reference = (if v > 0.0 then v else Math.Exp v - 1.0) + Math.Asinh(v * 0.5)
                    if abs (ours.[i] - reference) > tolerance * (1.0 + abs reference) then
                        failtestf "%O element %d: %g, the loop gives %g" dtype i ours.[i] reference
    ]
