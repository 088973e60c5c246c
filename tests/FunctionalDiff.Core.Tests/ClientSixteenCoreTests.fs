/// The F# side of what the sixteenth porting client moved into the core: torch's nn.MultiheadAttention forward as
/// Attention.multiheadAttention, held to torch's formula written here over doubles and to finite differences of the
/// first and second order; and shape errors raised again with more context (a Scan's step, MatMul's batch axes)
/// keeping the original as their InnerException.
module FunctionalDiff.Core.Tests.ClientSixteenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

let private l, s, e, heads = 3, 4, 4, 2
let private queryValues = Array.init (l * e) (fun k -> sin (0.9 * float k + 0.2))
let private keyValues = Array.init (s * e) (fun k -> cos (1.1 * float k + 0.4))
let private valueValues = Array.init (s * e) (fun k -> sin (0.7 * float k - 0.5))
let private inWeight = Array.init (3 * e * e) (fun k -> 0.5 * sin (1.3 * float k + 0.1))
let private inBias = Array.init (3 * e) (fun k -> 0.2 * cos (2.1 * float k))
let private outWeight = Array.init (e * e) (fun k -> 0.6 * cos (0.8 * float k + 0.3))
let private outBias = Array.init e (fun k -> 0.1 * float (k + 1))
// key 2 is padding; query 0 may not attend to key 1
let private padding = [| 0.0; 0.0; 1.0; 0.0 |]
let private ignoreKeys = Array.init (l * s) (fun k -> if k = 1 then 1.0 else 0.0)

/// torch's multi-head attention over unbatched doubles with the padding, the mask and causal masking above: the
/// output [L, E] and the weights per head [H, L, S].
let private reference (query: float[]) =
    let d = e / heads
    let project (x: float[]) rows part =
        Array.init (rows * e) (fun k ->
            let t, o = k / e, k % e
            inBias.[part * e + o] + Seq.sum (seq { for i in 0 .. e - 1 -> x.[t * e + i] * inWeight.[(part * e + o) * e + i] }))
    let pq, pk, pv = project query l 0, project keyValues s 1, project valueValues s 2
    let weights = Array.zeroCreate (heads * l * s)
    let merged = Array.zeroCreate (l * e)
    for h in 0 .. heads - 1 do
        for i in 0 .. l - 1 do
            let kept j = padding.[j] = 0.0 && ignoreKeys.[i * s + j] = 0.0 && j <= i
            let score j = Seq.sum (seq { for c in 0 .. d - 1 -> pq.[i * e + h * d + c] * pk.[j * e + h * d + c] }) / sqrt (float d)
            let scores = [| for j in 0 .. s - 1 -> if kept j then score j else Double.NegativeInfinity |]
            let top = Array.max scores
            let total = scores |> Array.sumBy (fun z -> exp (z - top))
            for j in 0 .. s - 1 do
                let w = exp (scores.[j] - top) / total
                weights.[(h * l + i) * s + j] <- w
                for c in 0 .. d - 1 do
                    merged.[i * e + h * d + c] <- merged.[i * e + h * d + c] + w * pv.[j * e + h * d + c]
    let output =
        Array.init (l * e) (fun k ->
            let i, o = k / e, k % e
            outBias.[o] + Seq.sum (seq { for c in 0 .. e - 1 -> merged.[i * e + c] * outWeight.[o * e + c] }))
    output, weights

let private attention (average: bool) (query: Expr) =
    let c (shape: int[]) data = Expr.constant (tensor shape data)
    Attention.multiheadAttention heads false (Some (c [| s |] padding)) (Some (c [| l; s |] ignoreKeys)) None true true average
        (c [| 3 * e; e |] inWeight) (Some (c [| 3 * e |] inBias)) (c [| e; e |] outWeight) (Some (c [| e |] outBias))
        query (c [| s; e |] keyValues) (c [| s; e |] valueValues)

let private shapeError (build: unit -> Expr) : ShapeException =
    try
        build () |> ignore
        failtest "no ShapeException was raised"
    with :? ShapeException as e -> e

[<Tests>]
let tests =
    testList "client sixteen (multi-head attention; shape errors keep their inner exception)" [
        test "multiheadAttention, unbatched, with padding, a mask and causal masking, is torch's formula" {
            let output, weights = attention false (Expr.constant (tensor [| l; e |] queryValues))
            let expectedOutput, expectedWeights = reference queryValues
            close 1e-12 expectedOutput (values output) "output"
            Expect.equal weights.Value.Dims [| heads; l; s |] "weights per head"
            close 1e-12 expectedWeights (values weights.Value) "weights"
            let _, averaged = attention true (Expr.constant (tensor [| l; e |] queryValues))
            let mean = Array.init (l * s) (fun k -> (expectedWeights.[k] + expectedWeights.[l * s + k]) / 2.0)
            close 1e-12 mean (values averaged.Value) "averaged weights"
        }

        test "its gradient in the query is central differences of torch's formula, and its second order checks" {
            let coefficients = Array.init (l * e) (fun k -> cos (0.3 * float k))
            let loss (q: float[]) = Array.fold2 (fun acc a b -> acc + a * b) 0.0 (fst (reference q)) coefficients
            let h = 1e-6
            let numeric =
                Array.init queryValues.Length (fun i ->
                    let moved sign = queryValues |> Array.mapi (fun j v -> if j = i then v + sign * h else v)
                    (loss (moved 1.0) - loss (moved -1.0)) / (2.0 * h))
            let f (q: Expr) = Expr.sum (fst (attention true q) * Expr.constant (tensor [| l; e |] coefficients))
            let gradient = Diff.grad f (Expr.constant (tensor [| l; e |] queryValues))
            close 1e-7 numeric (values gradient) "d/dquery"
            let result = GradCheck.check { GradCheckOptions.Default with Order = 2 } f (tensor [| l; e |] queryValues)
            Expect.isTrue result.Passed result.Message
        }

        test "multiheadAttention's shape errors name it, the parameter and the shapes" {
            let q = Expr.constant (tensor [| l; e |] queryValues)
            let k = Expr.constant (tensor [| s; e |] keyValues)
            let w = Expr.constant (tensor [| 3 * e; e |] inWeight)
            let o = Expr.constant (tensor [| e; e |] outWeight)
            let run heads (mask: Expr option) =
                fun () -> fst (Attention.multiheadAttention heads false None mask None false false true w None o None q k k)
            let e1 = shapeError (run 3 None)
            Expect.stringStarts e1.Message "MultiheadAttention: numHeads 3 does not divide the embedding dimension E = 4" "heads"
            let e2 = shapeError (run 2 (Some (Expr.constant (tensor [| s; l |] ignoreKeys))))
            Expect.stringStarts e2.Message "MultiheadAttention: attnMask [4,3] must be [L, S] = [3,4] or [numHeads, L, S] = [2,3,4]" "mask"
        }

        test "a shape error inside Scan's step is the InnerException of the one that names the Scan" {
            let xs = Expr.constant (normalSample 15 [| 2; 5; 3 |])
            let w = Expr.constant (normalSample 16 [| 3; 4 |])
            let step (h: Expr) (x: Expr) =
                let h' = Expr.tanh (Expr.matmul x w + h)
                h', h'
            let e = shapeError (fun () -> fst (Scan.scan1 step (Expr.zeros DType.Float64 [| 2; 4 |]) xs))
            Expect.stringContains e.Message "Scan.scan1's step" "names the Scan"
            match e.InnerException with
            | :? ShapeException as inner ->
                Expect.stringStarts inner.Message "Add: " "the original names its op"
                Expect.stringStarts e.Message inner.Message "the outer message starts with the original"
            | other -> failtestf "the inner exception is %O" other
        }

        test "Structure.fillDiagonal, Indexing.bincount and Optimizers.clipGradNormOf are torch's" {
            let x = Expr.constant (tensor [| 2; 3 |] [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
            close 0.0 [| -1.0; 2.0; 3.0; 4.0; -1.0; 6.0 |] (values (Structure.fillDiagonal -1.0 x)) "fill_diagonal_"
            let ids = constantVector [| 2.0; 0.0; 2.0; 3.0 |]
            close 0.0 [| 1.0; 0.0; 2.0; 1.0; 0.0 |] (values (Indexing.bincount 5 None ids)) "bincount"
            close 0.0 [| 0.5; 0.0; 4.0; 8.0 |] (values (Indexing.bincount 4 (Some (constantVector [| 1.0; 0.5; 3.0; 8.0 |])) ids)) "weighted"
            let e = shapeError (fun () -> Indexing.bincount 3 None ids)
            Expect.stringStarts e.Message "Bincount: entry 3 of input [4] is 3" "names Bincount and the entry"
            // the ∞-norm of [3, -4] and [1] is 4: the factor 2 / (4 + 1e-6)
            let clipped, total = Optimizers.clipGradNormOf Double.PositiveInfinity 2.0 [| tensor [| 2 |] [| 3.0; -4.0 |]; tensor [| 1 |] [| 1.0 |] |]
            Expect.equal total 4.0 "the inf-norm"
            let picked = TensorMath.maskedSelect (tensor [| 3 |] [| 1.0; 0.0; 1.0 |]) (tensor [| 2; 3 |] [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
            close 0.0 [| 1.0; 3.0; 4.0; 6.0 |] (picked.ToDoubleArray()) "masked_select"
            close 1e-15 [| 3.0 * 2.0 / (4.0 + 1e-6); -4.0 * 2.0 / (4.0 + 1e-6) |] (clipped.[0].ToDoubleArray()) "clipped"
        }

        test "MatMul's batch error keeps the broadcast's as its InnerException" {
            let a = Expr.constant (normalSample 1 [| 2; 3; 4 |])
            let b = Expr.constant (normalSample 2 [| 3; 4; 5 |])
            let e = shapeError (fun () -> Expr.matmul a b)
            Expect.stringStarts e.Message "MatMul: [2,3,4] @ [3,4,5]: batch dimensions cannot be broadcast" "the outer"
            Expect.isTrue (e.InnerException :? ShapeException) "the broadcast's error is kept"
        }
    ]
