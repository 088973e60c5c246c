/// Who owns the memory of a compiled function's results: Invoke's results share no memory with
/// the inputs, the plan's constants or each other, and InvokeInto gives the right numbers when an
/// output is also an input (an in-place update), checked against closed forms and plain loops.
module FunctionalDiff.Core.Tests.CompileAliasingTests

open System
open Expecto
open FunctionalDiff.Core

let private vector (values: float[]) = Tensor.FromArray(values, [| values.Length |])

let private expectClose (actual: float[]) (expected: float[]) (message: string) =
    Expect.equal actual.Length expected.Length (message + ": length")
    for i in 0 .. expected.Length - 1 do
        Expect.floatClose Accuracy.veryHigh actual.[i] expected.[i] (sprintf "%s: element %d" message i)

[<Tests>]
let compileAliasingTests =
    testList "compiled functions: memory of the results" [
        test "Invoke's results share no memory with the inputs, the captured constants or each other" {
            let captured = vector [| 10.0; 20.0 |]
            let compiled =
                Compile.compile (fun p ->
                    let c = Expr.constant captured
                    [| p.[0]; Expr.reshape [| 2; 1 |] p.[0]; p.[0] * 2.0; c; Expr.reshape [| 1; 2 |] c; p.[0] |])
            let input = vector [| 1.0; 2.0 |]
            let results = compiled.Invoke input
            let arrays = results |> Array.map (fun t -> t.Storage)
            for i in 0 .. arrays.Length - 1 do
                Expect.isFalse (obj.ReferenceEquals(arrays.[i], input.Storage)) (sprintf "result %d is not the input's memory" i)
                Expect.isFalse (obj.ReferenceEquals(arrays.[i], captured.Storage)) (sprintf "result %d is not the captured tensor's memory" i)
                for j in 0 .. i - 1 do
                    Expect.isFalse (obj.ReferenceEquals(arrays.[i], arrays.[j])) (sprintf "results %d and %d have memory of their own" j i)
            let expected = [| [| 1.0; 2.0 |]; [| 1.0; 2.0 |]; [| 2.0; 4.0 |]; [| 10.0; 20.0 |]; [| 10.0; 20.0 |]; [| 1.0; 2.0 |] |]
            Array.iteri2 (fun i (t: Tensor) e -> expectClose (t.ToDoubleArray()) e (sprintf "result %d" i)) results expected
            // so they can be the outputs of a later call without changing the input or the plan
            compiled.InvokeInto([| vector [| 5.0; 6.0 |] |], results)
            expectClose (input.ToDoubleArray()) [| 1.0; 2.0 |] "the first call's input is unchanged"
            expectClose (results.[3].ToDoubleArray()) [| 10.0; 20.0 |] "the captured tensor, written out again"
            expectClose ((compiled.Invoke(vector [| 0.0; 0.0 |])).[3].ToDoubleArray()) [| 10.0; 20.0 |] "the plan's constant is unchanged"
            expectClose (results.[2].ToDoubleArray()) [| 10.0; 12.0 |] "2 p of the second call"
        }

        test "an output that is also an input (an in-place update) gets the values computed from the old input" {
            // each result reads p after another result would have overwritten it in place
            let compiled = Compile.compile (fun p -> [| p.[0] + 1.0; Expr.sum (p.[0] * 3.0); Expr.sum (Expr.exp p.[0] * p.[0]); Expr.exp p.[0] |])
            let old = [| 0.5; -1.0; 2.0 |]
            let state = vector (Array.copy old)
            let outputs = compiled.Invoke state
            compiled.InvokeInto([| state |], [| state; outputs.[1]; outputs.[2]; outputs.[3] |])
            expectClose (state.ToDoubleArray()) (old |> Array.map (fun v -> v + 1.0)) "p + 1, written over p"
            expectClose (outputs.[1].ToDoubleArray()) [| 3.0 * Array.sum old |] "sum of 3 p at the old p"
            expectClose (outputs.[2].ToDoubleArray()) [| old |> Array.sumBy (fun v -> exp v * v) |] "sum of exp(p) p at the old p"
            expectClose (outputs.[3].ToDoubleArray()) (old |> Array.map exp) "exp p at the old p"
        }

        test "a training step written over its own parameters matches gradient descent written out" {
            // loss = sum((w x - y)^2) over 4 points; the step returns w - 0.1 dloss/dw into w itself
            let xs, ys = [| 1.0; 2.0; -1.0; 0.5 |], [| 2.0; 3.0; -1.0; 1.0 |]
            let x, y = Expr.constant (vector xs), Expr.constant (vector ys)
            let step =
                Compile.compile (fun p ->
                    let w = p.[0]
                    let loss = Expr.sum ((Expr.broadcastTo [| 4 |] (Expr.reshape [||] w) * x - y) * (Expr.broadcastTo [| 4 |] (Expr.reshape [||] w) * x - y))
                    let g = Diff.grad (fun w -> let r = Expr.broadcastTo [| 4 |] (Expr.reshape [||] w) * x - y in Expr.sum (r * r)) w
                    [| loss; w - 0.1 * g |])
            let w = vector [| 0.0 |]
            let outputs = step.Invoke w
            let mutable reference = 0.0
            for _ in 1 .. 5 do
                step.InvokeInto([| w |], [| outputs.[0]; w |])
                let gradient = Array.fold2 (fun acc xi yi -> acc + 2.0 * (reference * xi - yi) * xi) 0.0 xs ys
                reference <- reference - 0.1 * gradient
            expectClose (w.ToDoubleArray()) [| reference |] "w after 5 in-place steps"
        }

        test "InvokeInto refuses a captured tensor as an output" {
            let captured = vector [| 1.0; 2.0 |]
            let compiled = Compile.compile (fun p -> [| p.[0] + Expr.constant captured |])
            let input = vector [| 3.0; 4.0 |]
            compiled.Invoke input |> ignore
            try
                compiled.InvokeInto([| input |], [| captured |])
                failtest "no exception"
            with :? ArgumentException as error ->
                Expect.stringContains error.Message "InvokeInto" "names the method"
                Expect.stringContains error.Message "outputs[0]" "names the output"
                Expect.stringContains error.Message "captured" "says why"
                Expect.equal error.ParamName "outputs" "the parameter"
            expectClose (captured.ToDoubleArray()) [| 1.0; 2.0 |] "the captured tensor is unchanged"
        }

        test "InvokeInto refuses a tensor that a loop's step captured as an output" {
            // h_{t+1} = h_t + x_t * c over 3 steps of x = 1: h_3 = 3 c; c lives in the body's plan
            let captured = vector [| 1.0; 2.0 |]
            let compiled =
                Compile.compile (fun p ->
                    let carries, _ = Scan.scan (fun c x -> [| c.[0] + x.[0] * Expr.constant captured |], [| c.[0] |]) [| p.[0] |] [| p.[1] |]
                    [| carries.[0] |])
            let h0, xs = vector [| 0.0; 0.0 |], Tensor.Ones([| 3; 2 |], DType.Float64)
            expectClose ((compiled.Invoke(h0, xs)).[0].ToDoubleArray()) [| 3.0; 6.0 |] "3 c"
            try
                compiled.InvokeInto([| h0; xs |], [| captured |])
                failtest "no exception"
            with :? ArgumentException as error ->
                Expect.stringContains error.Message "outputs[0]" "names the output"
                Expect.stringContains error.Message "captured" "says why"
            expectClose (captured.ToDoubleArray()) [| 1.0; 2.0 |] "the captured tensor is unchanged"
            expectClose ((compiled.Invoke(h0, xs)).[0].ToDoubleArray()) [| 3.0; 6.0 |] "a later call still gives 3 c"
        }

        // Scalar constants are one node per value and dtype for the whole process (the rules' 2 and
        // 0.5 among them). Each test uses a value no other test uses, so that a failure here cannot
        // change another test's numbers.
        test "Eval's results are memory of their own: writing into one changes no constant of the graph" {
            let value = 1.8125
            let captured = vector [| 10.0; 20.0 |]
            let results = Eval.evalMany [ Expr.scalar DType.Float64 value; Expr.constant captured; Expr.reshape [| 2; 1 |] (Expr.constant captured) ]
            for i in 0 .. results.Length - 1 do
                Expect.isFalse (obj.ReferenceEquals(results.[i].Storage, captured.Storage)) (sprintf "result %d is not the captured tensor's memory" i)
            let times50 = Compile.compile (fun p -> [| p.[0] * 50.0 |])
            times50.InvokeInto([| Tensor.Scalar(1.0, DType.Float64) |], [| results.[0] |])
            times50.InvokeInto([| vector [| 1.0; 1.0 |] |], [| results.[1] |])
            Expect.equal (results.[0].ToScalar()) 50.0 "the output was written"
            expectClose (captured.ToDoubleArray()) [| 10.0; 20.0 |] "the captured tensor is unchanged"
            let later = Eval.eval (Expr.constant (vector [| 3.0 |]) * Expr.scalar DType.Float64 value)
            expectClose (later.ToDoubleArray()) [| 3.0 * value |] "x * 1.8125, built after the write"
        }

        test "a rank-0 constant made from a caller's tensor keeps its value when the caller writes into that tensor" {
            let value = 0.40625
            let owned = Tensor.Scalar(value, DType.Float64)
            let node = Expr.constant owned
            // the same value written as a literal, while the caller's tensor still holds it
            let x = Expr.constant (vector [| 3.0 |])
            expectClose ((Eval.eval (x * Expr.scalar DType.Float64 value)).ToDoubleArray()) [| 3.0 * value |] "x * 0.40625 before the write"
            let times50 = Compile.compile (fun p -> [| p.[0] * 50.0 |])
            times50.InvokeInto([| Tensor.Scalar(1.0, DType.Float64) |], [| owned |])
            Expect.equal (owned.ToScalar()) 50.0 "the output was written"
            expectClose ((Eval.eval node).ToDoubleArray()) [| value |] "the constant made before the write"
            let later = Eval.eval (Expr.constant (vector [| 4.0 |]) * Expr.scalar DType.Float64 value)
            expectClose (later.ToDoubleArray()) [| 4.0 * value |] "x * 0.40625, built after the write"
        }
    ]
