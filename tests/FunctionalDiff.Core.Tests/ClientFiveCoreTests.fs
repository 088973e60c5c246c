/// The F# side of what the C# facade gained for JAX and torch.nn.functional users (ClientFive*Tests.cs):
/// Diff.valueAndGradWithAuxN (has_aux), the Functional module (normalize, cosine similarity, pairwise
/// distance, F.pad's modes) and the losses' ignore_index and pos_weight, each against a closed form or a
/// loop over doubles, gradients against central differences.
module FunctionalDiff.Core.Tests.ClientFiveCoreTests

open System
open Expecto
open FunctionalDiff.Core

let private values (t: Expr) = (Eval.eval t).ToDoubleArray()

let private close (tolerance: float) (expected: float[]) (actual: float[]) (what: string) =
    Expect.equal actual.Length expected.Length (what + ": length")
    for i in 0 .. expected.Length - 1 do
        Expect.isTrue (GraphTestSupport.closeEnough tolerance actual.[i] expected.[i])
            (sprintf "%s[%d]: expected %g, got %g" what i expected.[i] actual.[i])

/// Central differences of a function of a flat vector, step 1e-6.
let private numericGradient (f: float[] -> float) (x: float[]) = GraphTestSupport.centralGradient f x 1e-6

[<Tests>]
let tests =
    testList "client five (F# side of the porting additions)" [
        test "valueAndGradWithAuxN: the value, auxiliary outputs at the arguments, and the gradients" {
            let a0, b0 = [| 0.3; -1.2; 2.0 |], [| 1.5; 0.5; -0.7 |]
            let a, b = Expr.constant (Tensor.ofArray64 [| 3 |] a0), Expr.constant (Tensor.ofArray64 [| 3 |] b0)
            let value, aux, gradients =
                Diff.valueAndGradWithAuxN (fun p -> Expr.sum (Expr.sin p.[0] * p.[1]), [ p.[0] * p.[1]; Expr.max p.[1] ]) [ a; b ]
            close 1e-15 [| Array.map2 (fun x y -> sin x * y) a0 b0 |> Array.sum |] (values value) "value"
            close 0.0 (Array.map2 (*) a0 b0) (values aux.[0]) "aux 0"
            close 0.0 [| 1.5 |] (values aux.[1]) "aux 1"
            close 1e-15 (Array.map2 (fun x y -> cos x * y) a0 b0) (values gradients.[0]) "d/da"
            close 1e-15 (Array.map sin a0) (values gradients.[1]) "d/db"
        }
        test "Functional.pad reflect, replicate and circular copy entries; constant fills" {
            let x = Expr.constant (Tensor.ofArray64 [| 3 |] [| 1.0; 2.0; 3.0 |])
            let pad mode = values (Functional.pad mode 0.5 [| 2 |] [| 2 |] x)
            close 0.0 [| 3.0; 2.0; 1.0; 2.0; 3.0; 2.0; 1.0 |] (pad PadMode.Reflect) "reflect"
            close 0.0 [| 1.0; 1.0; 1.0; 2.0; 3.0; 3.0; 3.0 |] (pad PadMode.Replicate) "replicate"
            close 0.0 [| 2.0; 3.0; 1.0; 2.0; 3.0; 1.0; 2.0 |] (pad PadMode.Circular) "circular"
            close 0.0 [| 0.5; 0.5; 1.0; 2.0; 3.0; 0.5; 0.5 |] (pad PadMode.Constant) "constant"
            Expect.throwsT<ShapeException> (fun () -> Functional.pad PadMode.Reflect 0.0 [| 3 |] [| 0 |] x |> ignore) "reflect by the size"
        }
        test "Functional.cosineSimilarity and its gradient" {
            let a0, b0 = [| 0.3; -1.2; 2.0; 0.4 |], [| 1.5; 0.5; -0.7; 0.1 |]
            let cosine (a: float[]) =
                let norm (v: float[]) = sqrt (Array.sumBy (fun e -> e * e) v)
                Array.map2 (*) a b0 |> Array.sum |> fun dot -> dot / (norm a * norm b0)
            let b = Expr.constant (Tensor.ofArray64 [| 1; 4 |] b0)
            let f (a: Expr) = Expr.sum (Functional.cosineSimilarity 1 1e-8 a b)
            let a = Expr.constant (Tensor.ofArray64 [| 1; 4 |] a0)
            close 1e-15 [| cosine a0 |] (values (f a)) "value"
            close 1e-8 (numericGradient cosine a0) (values (Diff.grad f a)) "gradient"
        }
        test "Nn.crossEntropyIgnoring: ignored rows give 0 and are not counted" {
            let logits0 = [| 1.0; 2.0; 0.5; -1.0; 0.0; 3.0 |]
            let logits = Expr.constant (Tensor.ofArray64 [| 2; 3 |] logits0)
            let targets = Expr.constant (Tensor.ofArray64 [| 2 |] [| 2.0; -100.0 |])
            let perExample, kept = Nn.crossEntropyIgnoring 0.0 -100 logits targets
            let logSum = log (exp 1.0 + exp 2.0 + exp 0.5)
            close 1e-15 [| logSum - 0.5; 0.0 |] (values perExample) "per example"
            close 0.0 [| 1.0 |] (values kept) "kept"
        }
    ]
