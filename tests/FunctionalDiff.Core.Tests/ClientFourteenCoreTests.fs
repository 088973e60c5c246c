/// The F# side of what the GRU, ResNet and recommender ports (ClientFourteen*Tests.cs) added to the facade:
/// Indexing.embeddingBag and Nn.gruCell, each against torch's definition written here with doubles, with the gradient
/// of the bag against central differences.
module FunctionalDiff.Core.Tests.ClientFourteenCoreTests

open System
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst
let private vector (xs: float[]) = Expr.constant (Tensor.ofArray64 [| xs.Length |] xs)

let private ids = [| 0.0; 2.0; 3.0; 1.0; 4.0; 6.0; 5.0; 2.0 |]
let private starts = [| 0; 3; 4; 4; 6 |]   // bag 3 is empty
let private tableValues = Array.init 21 (fun i -> sin (float i + 0.5))

/// torch's embedding_bag over doubles, bag by bag: an empty bag is zeros.
let private bags (table: float[]) (mode: string) =
    Array.init starts.Length (fun b ->
        let stop = if b + 1 < starts.Length then starts.[b + 1] else ids.Length
        let members = [| starts.[b] .. stop - 1 |]
        Array.init 3 (fun k ->
            if members.Length = 0 then 0.0
            else
                let entries = members |> Array.map (fun j -> table.[int ids.[j] * 3 + k])
                match mode with
                | "sum" -> Array.sum entries
                | "mean" -> Array.average entries
                | _ -> Array.max entries))
    |> Array.concat

let private bagOf mode (table: Expr) =
    Indexing.embeddingBag mode (Some (vector (Array.map float starts))) false None None (vector ids) table

[<Tests>]
let tests =
    testList "client fourteen (F# side of embedding_bag and the GRU cell)" [
        for mode in [ "sum"; "mean"; "max" ] do
            test (sprintf "embeddingBag %s is torch's per-bag reduction and its gradient the central differences" mode) {
                let table = Expr.constant (Tensor.ofArray64 [| 7; 3 |] tableValues)
                close 1e-15 (bags tableValues mode) (values (bagOf mode table)) mode
                let weights = Array.init 15 (fun i -> cos (float i))
                let f (t: float[]) = Array.map2 (*) (bags t mode) weights |> Array.sum
                let h = 1e-6
                let numeric =
                    Array.init 21 (fun i ->
                        let plus = Array.copy tableValues
                        let minus = Array.copy tableValues
                        plus.[i] <- plus.[i] + h
                        minus.[i] <- minus.[i] - h
                        (f plus - f minus) / (2.0 * h))
                let loss (t: Expr) = Expr.sumAxes [| 0; 1 |] false (bagOf mode t * Expr.constant (Tensor.ofArray64 [| 5; 3 |] weights))
                close 1e-7 numeric (values (Diff.grad loss table)) (mode + " gradient")
            }

        test "embeddingBag of a 2-D input is one bag per row, with padding left out of a mean" {
            let table = Expr.constant (Tensor.ofArray64 [| 7; 3 |] tableValues)
            let rows = Expr.constant (Tensor.ofArray64 [| 2; 3 |] [| 1.0; 2.0; 0.0; 3.0; 0.0; 0.0 |])
            let row i = tableValues.[3 * i .. 3 * i + 2]
            let expected = Array.append (Array.map2 (fun a b -> (a + b) / 2.0) (row 1) (row 2)) (row 3)
            close 1e-15 expected (values (Indexing.embeddingBag "mean" None false None (Some 0) rows table)) "2-D mean"
        }

        test "gruCell is torch's GRU cell" {
            let x0, h0 = [| 0.3; -1.2 |], [| 0.5; -0.25 |]
            let wi = Array.init 12 (fun i -> sin (float i))
            let wh = Array.init 12 (fun i -> cos (float i))
            let bi = Array.init 6 (fun i -> 0.1 * float i)
            let bh = Array.init 6 (fun i -> -0.05 * float i)
            let sigmoid v = 1.0 / (1.0 + exp -v)
            let gate (w: float[]) (b: float[]) (v: float[]) g = Array.init 2 (fun j -> b.[2 * g + j] + w.[(2 * g + j) * 2] * v.[0] + w.[(2 * g + j) * 2 + 1] * v.[1])
            let r = Array.map2 (+) (gate wi bi x0 0) (gate wh bh h0 0) |> Array.map sigmoid
            let z = Array.map2 (+) (gate wi bi x0 1) (gate wh bh h0 1) |> Array.map sigmoid
            let n = Array.init 2 (fun j -> tanh ((gate wi bi x0 2).[j] + r.[j] * (gate wh bh h0 2).[j]))
            let expected = Array.init 2 (fun j -> (1.0 - z.[j]) * n.[j] + z.[j] * h0.[j])
            let m (v: float[]) = Expr.constant (Tensor.ofArray64 [| 6; 2 |] v)
            close 1e-15 expected (values (Nn.gruCell (m wi) (m wh) (vector bi) (vector bh) (vector x0) (vector h0))) "h'"
        }
    ]
