/// The F# side of what the PPO, U-Net and metric-learning ports (ClientEleven*Tests.cs) added to the facade:
/// Convolution.conv2dSame and conv1dSame, Indexing.embeddingWithPadding, Functional.tripletMarginLossElements,
/// cosineEmbeddingLossElements and marginRankingLossElements, and poissonNllLossElements broadcasting, each against
/// torch's formula written here with doubles.
module FunctionalDiff.Core.Tests.ClientElevenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst
let private vector (xs: float[]) = Expr.constant (Tensor.ofArray64 [| xs.Length |] xs)

[<Tests>]
let tests =
    testList "client eleven (F# side of padding same, padding_idx and the metric losses)" [
        test "conv1dSame with an even kernel pads one zero before and two after, as torch's" {
            // one channel, kernel [1, 2, 3, 4]: total 3 zeros, 1 before and 2 after
            let x0 = [| 1.0; -2.0; 0.5; 3.0; -1.0 |]
            let k = [| 1.0; 2.0; 3.0; 4.0 |]
            let x = Expr.constant (Tensor.ofArray64 [| 1; 1; 5 |] x0)
            let w = Expr.constant (Tensor.ofArray64 [| 1; 1; 4 |] k)
            let at i = if i >= 0 && i < 5 then x0.[i] else 0.0
            let expected = Array.init 5 (fun t -> Array.sum (Array.init 4 (fun j -> k.[j] * at (t - 1 + j))))
            close 1e-15 expected (values (Convolution.conv1dSame 1 1 w None x)) "conv1dSame"
        }

        test "conv2dSame keeps the height and width with dilation" {
            let x = Expr.constant (Tensor.ofArray64 [| 1; 1; 4; 5 |] (Array.init 20 (fun i -> sin (float i))))
            let w = Expr.constant (Tensor.ofArray64 [| 2; 1; 2; 3 |] (Array.init 12 (fun i -> cos (float i))))
            let y = Convolution.conv2dSame (2, 1) 1 w None x
            Expect.equal y.Dims [| 1; 2; 4; 5 |] "shape"
            // dilation 2 on a kernel height of 2 pads 2 rows (1 above, 1 below); width 3 pads 1 each side
            let xs = Array.init 20 (fun i -> sin (float i))
            let ws = Array.init 12 (fun i -> cos (float i))
            let at r c = if r >= 0 && r < 4 && c >= 0 && c < 5 then xs.[r * 5 + c] else 0.0
            let expected =
                Array.init 40 (fun idx ->
                    let o, i, j = idx / 20, (idx % 20) / 5, idx % 5
                    Array.sum (Array.init 6 (fun t -> let u, v = t / 3, t % 3 in ws.[o * 6 + u * 3 + v] * at (i - 1 + 2 * u) (j - 1 + v))))
            close 1e-14 expected (values y) "conv2dSame"
        }

        test "embeddingWithPadding reads the padding row and passes it no gradient" {
            let table = Expr.constant (Tensor.ofArray64 [| 3; 2 |] [| 1.0; 2.0; 3.0; 4.0; 5.0; 6.0 |])
            let ids = vector [| 2.0; 0.0; 2.0 |]
            close 0.0 [| 5.0; 6.0; 1.0; 2.0; 5.0; 6.0 |] (values (Indexing.embeddingWithPadding 2 ids table)) "lookup"
            let g = Diff.grad (fun t -> Expr.sum (Indexing.embeddingWithPadding -1 ids t)) table
            close 0.0 [| 1.0; 1.0; 0.0; 0.0; 0.0; 0.0 |] (values g) "gradient"
        }

        test "tripletMarginLossElements, cosineEmbeddingLossElements and marginRankingLossElements are torch's formulas" {
            let a, p, n = [| 0.2; -0.4 |], [| 0.5; 0.1 |], [| -0.3; 0.9 |]
            let d (x: float[]) (y: float[]) = sqrt (Array.sum (Array.map2 (fun u v -> (u - v + 1e-6) ** 2.0) x y))
            let row (xs: float[]) = Expr.constant (Tensor.ofArray64 [| 1; 2 |] xs)
            close 1e-15 [| max (1.0 + d a p - d a n) 0.0 |] (values (Functional.tripletMarginLossElements 1.0 2.0 1e-6 false (row a) (row p) (row n))) "triplet"
            close 1e-15 [| max (1.0 + d a p - min (d a n) (d p n)) 0.0 |]
                (values (Functional.tripletMarginLossElements 1.0 2.0 1e-6 true (row a) (row p) (row n))) "triplet swap"
            let cos = (a.[0] * p.[0] + a.[1] * p.[1]) / sqrt ((a.[0] ** 2.0 + a.[1] ** 2.0 + 1e-12) * (p.[0] ** 2.0 + p.[1] ** 2.0 + 1e-12))
            close 1e-15 [| 1.0 - cos |] (values (Functional.cosineEmbeddingLossElements 0.0 (row a) (row p) (vector [| 1.0 |]))) "cosine, similar"
            close 1e-15 [| max (cos + 0.5) 0.0 |] (values (Functional.cosineEmbeddingLossElements -0.5 (row a) (row p) (vector [| -1.0 |]))) "cosine, dissimilar"
            close 1e-15 [| max (0.1 - (0.2 - 0.5)) 0.0; max (0.1 + (-0.4 - 0.1)) 0.0 |]
                (values (Functional.marginRankingLossElements 0.1 (vector a) (vector p) (vector [| 1.0; -1.0 |]))) "ranking"
        }

        test "poissonNllLossElements broadcasts a rate per row against counts" {
            let x = Expr.constant (Tensor.ofArray64 [| 2; 1 |] [| 0.3; -0.2 |])
            let counts = Expr.constant (Tensor.ofArray64 [| 2; 3 |] [| 0.0; 1.0; 4.0; 2.0; 0.0; 1.0 |])
            let y = Functional.poissonNllLossElements true false 1e-8 x counts
            Expect.equal y.Dims [| 2; 3 |] "shape"
            close 1e-15 [| exp 0.3; exp 0.3 - 0.3; exp 0.3 - 1.2; exp -0.2 + 0.4; exp -0.2; exp -0.2 + 0.2 |] (values y) "elements"
        }
    ]
