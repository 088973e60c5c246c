/// The CumSum primitive (torch.cumsum): values against a running-sum loop written here, in both
/// dtypes, along a last and a middle axis, both directions, over IEEE edges; derivatives against
/// their closed forms and float64 central differences; and the graph it makes, one node per sum.
module FunctionalDiff.Core.Tests.RunningSumTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.TensorTestSupport

/// torch's CPU running sum: from 0, in float64, each output rounded once to the dtype.
let private reference (dtype: DType) (dims: int[]) (axis: int) (reverse: bool) (x: float[]) =
    let outer = Array.fold (*) 1 dims.[.. axis - 1]
    let length = dims.[axis]
    let inner = Array.fold (*) 1 dims.[axis + 1 ..]
    let result = Array.zeroCreate x.Length
    for o in 0 .. outer - 1 do
        for i in 0 .. inner - 1 do
            let mutable sum = 0.0
            for step in 0 .. length - 1 do
                let r = if reverse then length - 1 - step else step
                let k = (o * length + r) * inner + i
                sum <- sum + x.[k]
                result.[k] <- if dtype = DType.Float32 then float (float32 sum) else sum
    result

let private sameBits (actual: float[]) (expected: float[]) (what: string) =
    for i in 0 .. expected.Length - 1 do
        if BitConverter.DoubleToInt64Bits actual.[i] <> BitConverter.DoubleToInt64Bits expected.[i]
           && not (Double.IsNaN actual.[i] && Double.IsNaN expected.[i]) then
            failtestf "%s: entry %d is %.17g, expected %.17g" what i actual.[i] expected.[i]

[<Tests>]
let tests =
    testList "RunningSum" [
        test "values are the float64 running sum rounded once, along each axis, both ways, in both dtypes" {
            let random = Random 17
            // 7 runs along the last axis (four at a time, then three), and runs strided along a middle axis
            for dims in [ [| 7; 37 |]; [| 3; 5; 6 |]; [| 1; 1 |]; [| 9 |] ] do
                for dtype in dtypes do
                    let x = Array.init (Array.fold (*) 1 dims) (fun _ -> random.NextDouble() * 4.0 - 2.0) |> Array.map (fun v -> if dtype = DType.Float32 then float (float32 v) else v)
                    for axis in 0 .. dims.Length - 1 do
                        for reverse in [ false; true ] do
                            let actual = (Eval.eval (Expr.cumsumAlong axis reverse (Expr.constant (tensorOf dtype dims x)))).ToDoubleArray()
                            sameBits actual (reference dtype dims axis reverse x) (sprintf "%A %A axis %d reverse %b" dtype dims axis reverse)
        }
        test "edges: −0 comes out +0, NaN and ∞ carry to the end of the run, ∞ − ∞ is NaN, float32 overflow happens once at the rounding" {
            let runs =
                [ [| -0.0; -0.0; 1.0; -1.0 |]
                  [| 1.0; nan; 2.0; 3.0 |]
                  [| 1.0; infinity; 2.0; -infinity |]
                  [| 3e38; 3e38; -3e38; -3e38 |] ]
            for dtype in dtypes do
                for run in runs do
                    let x = run |> Array.map (fun v -> if dtype = DType.Float32 then float (float32 v) else v)
                    for reverse in [ false; true ] do
                        let actual = (Eval.eval (Expr.cumsumAlong 0 reverse (Expr.constant (tensorOf dtype [| 4 |] x)))).ToDoubleArray()
                        sameBits actual (reference dtype [| 4 |] 0 reverse x) (sprintf "%A %A reverse %b" dtype run reverse)
            // the closed forms of two of them
            let minusZero = (Eval.eval (Indexing.cumsum 0 (Expr.constant (tensorOf DType.Float64 [| 1 |] [| -0.0 |])))).ToDoubleArray()
            Expect.equal (BitConverter.DoubleToInt64Bits minusZero.[0]) 0L "cumsum [−0] is +0, as torch's sum from 0"
            let overflow = (Eval.eval (Indexing.cumsum 0 (Expr.constant (tensorOf DType.Float32 [| 3 |] [| 3e38; 3e38; -3e38 |])))).ToDoubleArray()
            Expect.equal overflow.[1] infinity "6e38 is past float32's range"
            Expect.equal overflow.[2] (float 3e38f) "but the sum went on in float64"
        }
        test "the gradient is the running sum of the cotangent from the other end, and the JVP the running sum of the tangent" {
            let dims = [| 3; 6 |]
            let random = Random 4
            let xv = Array.init 18 (fun _ -> random.NextDouble())
            let wv = Array.init 18 (fun _ -> random.NextDouble() * 2.0 - 1.0)
            let tv = Array.init 18 (fun _ -> random.NextDouble() * 2.0 - 1.0)
            let w = Expr.constant (tensorOf DType.Float64 dims wv)
            for axis in [ 0; 1 ] do
                let gradient = (Eval.eval (Diff.grad (fun x -> Expr.sum (w * Indexing.cumsum axis x)) (Expr.constant (tensorOf DType.Float64 dims xv)))).ToDoubleArray()
                // ∂/∂x_k Σ_j w_j Σ_{i≤j} x_i = Σ_{j≥k} w_j along the axis
                expectClose 1e-15 1e-15 (reference DType.Float64 dims axis true wv) gradient (sprintf "gradient along axis %d" axis)
                let _, tangent = Diff.jvp (Indexing.cumsum axis) (Expr.constant (tensorOf DType.Float64 dims xv)) (Expr.constant (tensorOf DType.Float64 dims tv))
                expectClose 1e-15 1e-15 (reference DType.Float64 dims axis false tv) ((Eval.eval tangent).ToDoubleArray()) (sprintf "JVP along axis %d" axis)
        }
        test "first and second derivatives of a nonlinear function of running sums match float64 central differences" {
            let n = 5
            let random = Random 8
            let xv = Array.init n (fun _ -> random.NextDouble() * 2.0 - 1.0)
            let f (x: Expr) = Expr.sum (Expr.sin (Indexing.cumsum 0 x) * Expr.cumsumAlong 0 true (x * x))
            let value (v: float[]) = (Eval.eval (f (Expr.constant (tensorOf DType.Float64 [| n |] v)))).ToDoubleArray().[0]
            let x = Expr.constant (tensorOf DType.Float64 [| n |] xv)
            let gradient = (Eval.eval (Diff.grad f x)).ToDoubleArray()
            let hessian = (Eval.eval (Diff.hessian f x)).ToDoubleArray()
            let h = 1e-5
            let bumped (i: int) (d: float) = Array.mapi (fun k v -> if k = i then v + d else v) xv
            for i in 0 .. n - 1 do
                let central = (value (bumped i h) - value (bumped i -h)) / (2.0 * h)
                Expect.floatClose { absolute = 1e-8; relative = 1e-7 } gradient.[i] central (sprintf "∂f/∂x%d" i)
                let gradientAt (v: float[]) = (Eval.eval (Diff.grad f (Expr.constant (tensorOf DType.Float64 [| n |] v)))).ToDoubleArray()
                let up, down = gradientAt (bumped i h), gradientAt (bumped i -h)
                for j in 0 .. n - 1 do
                    Expect.floatClose { absolute = 1e-7; relative = 1e-6 } hessian.[j * n + i] ((up.[j] - down.[j]) / (2.0 * h)) (sprintf "H[%d,%d]" j i)
        }
        test "a running sum is one node at any length, and its gradient's graph does not grow with the axis" {
            let nodesFor (n: int) =
                let x = Expr.variable "x" [| 4; n |] DType.Float32
                Graph.nodeCount (Indexing.cumsum 1 x), Graph.nodeCount (Diff.grad (fun z -> Expr.sum (Expr.square (Indexing.cumsum 1 z))) x)
            let shortValue, shortGradient = nodesFor 8
            let longValue, longGradient = nodesFor 4096
            Expect.equal longValue 2 "x and its running sum"
            Expect.equal shortValue longValue "the same at 8 and 4,096 entries"
            Expect.equal longGradient shortGradient "the gradient's graph is the same size at 8 and 4,096 entries"
        }
    ]
