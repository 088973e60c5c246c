/// The F# side of the transformer pieces the C# facade gained (ClientSix*Tests.cs): Attention.safeSoftmax,
/// Attention.scaledDotProductAttention and Normalisation.layerNorm over trailing axes, each against a loop over
/// doubles or the existing last-axis layer norm, gradients against central differences.
module FunctionalDiff.Core.Tests.ClientSixCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

let private data = sineData

[<Tests>]
let tests =
    testList "client six (F# side of the transformer pieces)" [
        test "safeSoftmax: a row of −∞ gives zeros and a zero gradient; other rows are softmax" {
            let x0 = [| 0.5; -1.0; 2.0; Double.NegativeInfinity; Double.NegativeInfinity; Double.NegativeInfinity |]
            let x = Expr.constant (Tensor.ofArray64 [| 2; 3 |] x0)
            let z = Array.sumBy exp x0.[0..2]
            close 1e-15 (Array.append (Array.map (fun v -> exp v / z) x0.[0..2]) [| 0.0; 0.0; 0.0 |]) (values (Attention.safeSoftmax x)) "value"
            let w = data 6 1
            let g = Diff.grad (fun v -> Expr.sum (Attention.safeSoftmax v * Expr.constant (Tensor.ofArray64 [| 2; 3 |] w))) x
            // the unmasked row is softmax's closed form: ∂/∂x_i Σ s_j w_j = s_i (w_i − Σ s_j w_j)
            let s = Array.map (fun v -> exp v / z) x0.[0..2]
            let mean = Array.fold2 (fun acc si wi -> acc + si * wi) 0.0 s w.[0..2]
            close 1e-14 (Array.map2 (fun si wi -> si * (wi - mean)) s w.[0..2]) (values g).[0..2] "softmax's gradient in the unmasked row"
            close 0.0 [| 0.0; 0.0; 0.0 |] (values g).[3..] "zero gradient in the masked row"
        }

        test "scaledDotProductAttention causal: the loop of torch's reference, and its gradient in q" {
            let l, e = 3, 2
            let q0, k0, v0 = data (l * e) 1, data (l * e) 2, data (l * e) 3
            let reference (q: float[]) =
                Array.init l (fun i ->
                    let scores = Array.init (i + 1) (fun j -> (q.[i * e] * k0.[j * e] + q.[i * e + 1] * k0.[j * e + 1]) / sqrt (float e))
                    let m = Array.max scores
                    let w = scores |> Array.map (fun s -> exp (s - m))
                    let total = Array.sum w
                    Array.init e (fun d -> Seq.sum (seq { for j in 0 .. i -> w.[j] / total * v0.[j * e + d] })))
                |> Array.concat
            let attention (q: Expr) =
                Attention.scaledDotProductAttention None None true None None q
                    (Expr.constant (Tensor.ofArray64 [| l; e |] k0)) (Expr.constant (Tensor.ofArray64 [| l; e |] v0))
            let q = Expr.constant (Tensor.ofArray64 [| l; e |] q0)
            close 1e-14 (reference q0) (values (attention q)) "value"
            let numeric =
                Array.init q0.Length (fun i ->
                    let plus, minus = Array.copy q0, Array.copy q0
                    plus.[i] <- plus.[i] + 1e-6
                    minus.[i] <- minus.[i] - 1e-6
                    (Array.sum (reference plus) - Array.sum (reference minus)) / 2e-6)
            close 1e-7 numeric (values (Diff.grad (fun v -> Expr.sum (attention v)) q)) "gradient"
        }

        test "layerNorm over one trailing axis is Nn.layerNorm; over two, the loop" {
            let x0 = data 24 4
            let x = Expr.constant (Tensor.ofArray64 [| 2; 3; 4 |] x0)
            let w = Expr.constant (Tensor.ofArray64 [| 4 |] (data 4 5))
            let b = Expr.constant (Tensor.ofArray64 [| 4 |] (data 4 6))
            // the loop: each group of `size` entries normalised with the biased variance
            let normalised (size: int) =
                x0 |> Array.chunkBySize size |> Array.collect (fun g ->
                    let mean = Array.average g
                    let variance = g |> Array.averageBy (fun v -> (v - mean) * (v - mean))
                    g |> Array.map (fun v -> (v - mean) / sqrt (variance + 1e-5)))
            // one axis, with weight and bias; both spellings share normaliseOver, so each meets the loop, not the other
            let w0, b0 = data 4 5, data 4 6
            let affine = normalised 4 |> Array.mapi (fun i v -> v * w0.[i % 4] + b0.[i % 4])
            close 1e-14 affine (values (Normalisation.layerNorm [| 4 |] 1e-5 w b x)) "one axis"
            close 1e-14 affine (values (Nn.layerNorm 1e-5 w b x)) "one axis, Nn.layerNorm"
            let one, zero = Expr.scalar DType.Float64 1.0, Expr.scalar DType.Float64 0.0
            close 1e-14 (normalised 12) (values (Normalisation.layerNorm [| 3; 4 |] 1e-5 one zero x)) "two axes"
            Expect.throwsT<ShapeException> (fun () -> Normalisation.layerNorm [| 3 |] 1e-5 one zero x |> ignore) "not trailing"
        }
    ]
