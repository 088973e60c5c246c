/// vmap composed with the other transforms, on five models (a softmax cross-entropy MLP, a tanh
/// RNN, single-head attention, the CS229 two-layer network and a Gaussian likelihood through a
/// Cholesky factor): vmap(grad f) (per-example
/// gradients), grad(vmap f), jvp(vmap f), vmap(vmap f) and vmap(hessian f), each against a loop over
/// the examples and against central finite differences in float64. Also the batched Jacobian:
/// its graph does not grow with the number of rows, and its chunked form agrees with the whole.
module FunctionalDiff.Core.Tests.VmapCompositionTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport
open FunctionalDiff.Core.Tests.VmapSupport

/// A model: its parameters, per-example data (each entry one example's tensors) and the loss of
/// one example.
type Model =
    { Name: string
      Parameters: Tensor list
      Examples: Tensor list[]
      Loss: Expr list -> Expr list -> Expr }

let private random = Random(11)
let private normal (dims: int[]) = sample random Normal dims
let private scaled (s: float) (dims: int[]) = Tensor.FromArray((normal dims).ToDoubleArray() |> Array.map ((*) s), dims)

/// Expecto runs tests in parallel, so draws from one module-wide generator inside test bodies would
/// depend on which tests ran before and beside each one (and System.Random is not thread-safe): each
/// test that draws takes a generator of its own, with its own seed. The module-wide one serves only
/// the values drawn while the test lists are built.
let private drawsFrom (seed: int) =
    let random = Random seed
    let normal (dims: int[]) = sample random Normal dims
    normal, (fun (s: float) (dims: int[]) -> Tensor.FromArray((normal dims).ToDoubleArray() |> Array.map ((*) s), dims))

let private count = 4

let mlp =
    { Name = "softmax-CE MLP"
      Parameters = [ scaled 0.5 [| 4; 3 |]; normal [| 4 |]; scaled 0.5 [| 3; 4 |]; normal [| 3 |] ]
      Examples = Array.init count (fun b -> [ normal [| 3 |]; Tensor.FromArray([| float (b % 3) |], [| 1 |]) ])
      Loss = fun p data ->
        let logits = Expr.matmul p.[2] (Expr.tanh (Expr.matmul p.[0] data.[0] + p.[1])) + p.[3]
        Nn.crossEntropy (Expr.reshape [| 1; 3 |] logits) data.[1] }

let rnn =
    { Name = "tanh RNN, 5 steps"
      Parameters = [ scaled 0.5 [| 4; 4 |]; scaled 0.5 [| 4; 3 |]; normal [| 4 |] ]
      Examples = Array.init count (fun _ -> [ normal [| 5; 3 |] ])
      Loss = fun p data ->
        let mutable h = Expr.zeros DType.Float64 [| 4 |]
        for t in 0 .. 4 do
            let x = data.[0] |> Expr.sliceAxis 0 t (t + 1) |> Expr.reshape [| 3 |]
            h <- Expr.tanh (Expr.matmul p.[0] h + Expr.matmul p.[1] x + p.[2])
        Expr.sum (Expr.square h) }

let attention =
    { Name = "attention"
      Parameters = [ scaled 0.5 [| 3; 4 |]; scaled 0.5 [| 3; 4 |]; scaled 0.5 [| 3; 4 |] ]
      Examples = Array.init count (fun _ -> [ normal [| 5; 3 |] ])
      Loss = fun p data ->
        let x = data.[0]
        let q, k, v = Expr.matmul x p.[0], Expr.matmul x p.[1], Expr.matmul x p.[2]
        let weights = Nn.softmax -1 (Expr.matmul q (Expr.transpose k) / 2.0)
        Expr.sum (Expr.square (Expr.matmul weights v)) }

let cs229 =
    { Name = "CS229 two-layer"
      Parameters = [ normal [| 3; 2 |]; normal [| 3 |]; normal [| 1; 3 |]; normal [| 1 |] ]
      Examples = Array.init count (fun _ -> [ normal [| 2 |]; Tensor.FromArray([| random.NextDouble() |], [| 1 |]) ])
      Loss = fun p data ->
        let a1 = Expr.sigmoid (Expr.matmul p.[0] data.[0] + p.[1])
        let a2 = Expr.sigmoid (Expr.matmul p.[2] a1 + p.[3])
        Expr.sum (Expr.square (a2 - data.[1])) }

/// A Gaussian's negative log-likelihood (up to a constant) with covariance A Aᵀ + I, through its
/// Cholesky factor and a triangular solve: the linear-algebra primitives under every composition.
let gaussian =
    { Name = "Gaussian NLL via Cholesky"
      Parameters = [ scaled 0.5 [| 3; 3 |]; normal [| 3 |] ]
      Examples = Array.init count (fun _ -> [ normal [| 3 |] ])
      Loss = fun p data ->
        let covariance = Expr.matmul p.[0] (Expr.transpose p.[0]) + Linalg.identity DType.Float64 3
        let factor = Linalg.cholesky covariance
        let z = Linalg.solveTriangular false factor (Expr.reshape [| 3; 1 |] (data.[0] - p.[1]))
        0.5 * Expr.sum (Expr.square z) + Expr.sum (Expr.log (Linalg.diagonal factor)) }

let models = [ mlp; rnn; attention; cs229; gaussian ]

/// The examples' k-th tensors stacked along axis 0.
let private batchOf (model: Model) (k: int) =
    let dims = model.Examples.[0].[k].Shape
    stackAt 0 dims (model.Examples |> Array.map (fun e -> e.[k].ToDoubleArray()))

let private batches (model: Model) = List.init model.Examples.[0].Length (batchOf model)
let private constants (ts: Tensor list) = ts |> List.map Expr.constant
let private parameterCount (model: Model) = model.Parameters.Length
let private dataCount (model: Model) = model.Examples.[0].Length

/// vmap over the examples of a function of (parameters, one example's data); the parameters shared.
let private overExamples (model: Model) (outAxes: int list) (f: Expr list -> Expr list -> Expr list) (parameters: Expr list) =
    let inAxes = List.replicate (parameterCount model) None @ List.replicate (dataCount model) (Some 0)
    Diff.vmapWith inAxes outAxes (fun xs -> f (List.take (parameterCount model) xs) (List.skip (parameterCount model) xs))
        (parameters @ constants (batches model))

/// Finite-difference gradients of one example's loss.
let private numericExampleGradient (model: Model) (b: int) =
    numericGradient (fun ps -> model.Loss ps (constants model.Examples.[b])) model.Parameters

let private tight = 1e-12
let private loose = 1e-6

[<Tests>]
let tests =
    testList "Vmap.Compositions" [
        for model in models do
            test (sprintf "%s: vmap(grad f) gives per-example gradients" model.Name) {
                let perExample =
                    overExamples model (List.replicate (parameterCount model) 0)
                        (fun p data -> Diff.gradN (fun q -> model.Loss q data) p) (constants model.Parameters)
                for b in 0 .. count - 1 do
                    let loop = Diff.gradN (fun q -> model.Loss q (constants model.Examples.[b])) (constants model.Parameters)
                    let numeric = numericExampleGradient model b
                    List.iteri2 (fun i (batched: Expr) (reference: Expr) ->
                        let row = Eval.eval (Expr.sliceAxis 0 b (b + 1) batched |> Expr.reshape reference.Shape)
                        expectClose tight (row.ToDoubleArray()) (values reference) (sprintf "example %d, parameter %d vs the loop" b i)
                        expectClose loose (row.ToDoubleArray()) numeric.[i] (sprintf "example %d, parameter %d vs finite differences" b i)) perExample loop
            }
            test (sprintf "%s: grad(vmap f) is the sum of the per-example gradients" model.Name) {
                let total (p: Expr list) = Expr.sum (List.head (overExamples model [ 0 ] (fun q data -> [ model.Loss q data ]) p))
                let gradients = Diff.gradN total (constants model.Parameters)
                let loop =
                    [ for b in 0 .. count - 1 -> Diff.gradN (fun q -> model.Loss q (constants model.Examples.[b])) (constants model.Parameters) ]
                    |> List.reduce (List.map2 (+))
                let numeric = numericGradient total model.Parameters
                List.iteri2 (fun i (g: Expr) (reference: Expr) ->
                    expectClose tight (values g) (values reference) (sprintf "parameter %d vs the loop" i)
                    expectClose loose (values g) numeric.[i] (sprintf "parameter %d vs finite differences" i)) gradients loop
            }
            test (sprintf "%s: jvp(vmap f) gives every example's directional derivative" model.Name) {
                let tangents = model.Parameters |> List.map (fun p -> normal p.Shape)
                let losses (p: Expr list) = List.head (overExamples model [ 0 ] (fun q data -> [ model.Loss q data ]) p)
                let _, tangent = Diff.jvpN losses (constants model.Parameters) (constants tangents)
                let step = 1e-6
                let at (s: float) =
                    let moved = List.map2 (fun (p: Tensor) (t: Tensor) -> Tensor.FromArray(Array.map2 (fun a d -> a + s * d) (p.ToDoubleArray()) (t.ToDoubleArray()), p.Shape)) model.Parameters tangents
                    values (losses (constants moved))
                let numeric = Array.map2 (fun plus minus -> (plus - minus) / (2.0 * step)) (at step) (at -step)
                let loop = Array.init count (fun b -> value (snd (Diff.jvpN (fun q -> model.Loss q (constants model.Examples.[b])) (constants model.Parameters) (constants tangents))))
                expectClose tight (values tangent) loop "vs the loop"
                expectClose loose (values tangent) numeric "vs finite differences"
            }
            test (sprintf "%s: vmap(vmap f) over a 2 x 2 grid of examples, values and gradients" model.Name) {
                // The examples as [2, 2, ...]: the outer vmap takes the first axis, the inner one the second.
                let grid = batches model |> List.map (fun t -> Tensor.FromArray(t.ToDoubleArray(), Array.append [| 2; 2 |] t.Shape.[1..]))
                let n = parameterCount model
                let inner (p: Expr list) (rows: Expr list) =
                    let inAxes = List.replicate n None @ List.replicate rows.Length (Some 0)
                    Diff.vmapWith inAxes [ 0; 0 ] (fun xs ->
                        let q, data = List.take n xs, List.skip n xs
                        [ model.Loss q data; List.head (Diff.gradN (fun r -> model.Loss r data) q) ]) (p @ rows)
                let inAxes = List.replicate n None @ List.replicate grid.Length (Some 0)
                let outer = Diff.vmapWith inAxes [ 0; 0 ] (fun xs -> inner (List.take n xs) (List.skip n xs)) (constants model.Parameters @ constants grid)
                let lossValues, firstGradients = values outer.[0], values outer.[1]
                let gradientSize = model.Parameters.[0].Numel
                for b in 0 .. count - 1 do
                    let data = constants model.Examples.[b]
                    Expect.floatClose Accuracy.veryHigh lossValues.[b] (value (model.Loss (constants model.Parameters) data)) (sprintf "loss of example %d" b)
                    let reference = values (List.head (Diff.gradN (fun q -> model.Loss q data) (constants model.Parameters)))
                    expectClose tight (Array.sub firstGradients (b * gradientSize) gradientSize) reference (sprintf "gradient of example %d" b)
            }
            test (sprintf "%s: vmap(hessian f) gives per-example Hessians in the first parameter" model.Name) {
                let first = model.Parameters.[0]
                let rest = constants (List.tail model.Parameters)
                let hessians =
                    overExamples model [ 0 ] (fun p data -> [ Diff.hessian (fun w -> model.Loss (w :: List.tail p) data) p.[0] ]) (constants model.Parameters)
                    |> List.head
                let size = first.Numel
                let all = values hessians
                for b in [ 0; count - 1 ] do
                    let data = constants model.Examples.[b]
                    let loop = values (Diff.hessian (fun w -> model.Loss (w :: rest) data) (Expr.constant first))
                    let row = Array.sub all (b * size * size) (size * size)
                    expectClose tight row loop (sprintf "example %d vs the loop" b)
                    // Each column of the Hessian is the finite difference of the gradient.
                    let gradient = Diff.grad (fun w -> model.Loss (w :: rest) data)
                    let w = Expr.variable "w" first.Shape DType.Float64
                    let g = gradient w
                    let at (delta: float[]) = (Eval.evalWith [ w, Tensor.FromArray(Array.map2 (+) (first.ToDoubleArray()) delta, first.Shape) ] g).ToDoubleArray()
                    let step = 1e-5
                    for j in 0 .. size - 1 do
                        let e s = Array.init size (fun k -> if k = j then s else 0.0)
                        let column = Array.map2 (fun p m -> (p - m) / (2.0 * step)) (at (e step)) (at (e -step))
                        expectClose loose (Array.init size (fun i -> row.[i * size + j])) column (sprintf "example %d, column %d vs finite differences" b j)
            }
        test "custom ops batch with their rule: grad(vmap f) and vmap(grad f) use the user's VJP" {
            // The rule deliberately differs from the true derivative (2 cos x instead of cos x), so
            // only the user's rule, batched, gives these numbers.
            let custom = Diff.customVjp Expr.sin (fun x g -> g * 2.0 * Expr.cos x)
            let xs = tensor [| 3; 2 |] [| 0.1; -0.4; 1.2; 0.7; -2.0; 0.3 |]
            let viaVmapGrad = Diff.vmap (Diff.grad (fun x -> Expr.sum (custom x))) (Expr.constant xs)
            let viaGradVmap = Diff.grad (fun x -> Expr.sum (Diff.vmap custom x)) (Expr.constant xs)
            let expected = xs.ToDoubleArray() |> Array.map (fun x -> 2.0 * cos x)
            expectClose tight (values viaVmapGrad) expected "vmap(grad f)"
            expectClose tight (values viaGradVmap) expected "grad(vmap f)"
            expectClose tight (values (Diff.vmap custom (Expr.constant xs))) (xs.ToDoubleArray() |> Array.map sin) "values"
        }
        test "the batched Jacobian's graph does not grow with the number of rows" {
            let normal, scaled = drawsFrom 100
            let countFor (n: int) (mode: JacobianMode) =
                let w = Expr.constant (scaled 0.1 [| n; n |])
                let x = Expr.constant (normal [| n |])
                Graph.nodeCount (Diff.jacobianWith mode (fun x -> Expr.tanh (Expr.matmul w x)) x)
            for mode in [ JacobianMode.Forward; JacobianMode.Reverse ] do
                Expect.equal (countFor 40 mode) (countFor 5 mode) (sprintf "%A: nodes for n = 40 and n = 5" mode)
            let hessianNodes (n: int) =
                let w = Expr.constant (scaled 0.1 [| n; n |])
                Graph.nodeCount (Diff.hessian (fun x -> Expr.sum (Expr.square (Expr.tanh (Expr.matmul w x)))) (Expr.constant (normal [| n |])))
            Expect.equal (hessianNodes 40) (hessianNodes 5) "Hessian: nodes for n = 40 and n = 5"
        }
        test "a chunked Jacobian and Hessian equal the closed forms for every chunk size" {
            let normal, scaled = drawsFrom 101
            // J of tanh(W x) is diag(1 - tanh²(W x)) W; the Hessian of sum(x^3) is diag(6 x).
            let n = 5
            let wData = scaled 0.3 [| n; n |]
            let x0 = normal [| n |]
            let w = wData.ToDoubleArray()
            let z = Array.init n (fun i -> Array.init n (fun j -> w.[i * n + j] * x0.ToDoubleArray().[j]) |> Array.sum)
            let jacobian = Array.init (n * n) (fun k -> (1.0 - tanh z.[k / n] ** 2.0) * w.[k])
            let hessian = Array.init (n * n) (fun k -> if k / n = k % n then 6.0 * x0.ToDoubleArray().[k % n] else 0.0)
            for chunk in [ 1; 2; 3; 5; 8 ] do
                for mode in [ JacobianMode.Forward; JacobianMode.Reverse ] do
                    let j = Diff.jacobianChunked mode (Some chunk) (fun x -> Expr.tanh (Expr.matmul (Expr.constant wData) x)) (Expr.constant x0)
                    expectClose tight (values j) jacobian (sprintf "%A, chunk %d" mode chunk)
                let h = Diff.hessianChunked (Some chunk) (fun x -> Expr.sum (x ** 3.0)) (Expr.constant x0)
                expectClose tight (values h) hessian (sprintf "Hessian, chunk %d" chunk)
            Expect.throwsT<ArgumentException> (fun () -> Diff.jacobianChunked JacobianMode.Auto (Some 0) Expr.tanh (Expr.constant x0) |> ignore) "chunk size 0"
        }
    ]
