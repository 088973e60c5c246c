/// The F# side of what the twenty-first porting client added to the core: Segments.softmax, the softmax over the entries
/// that share a segment id (a graph attention network's normalisation over each node's incoming edges). Held to the
/// softmax of each segment computed in F# over doubles, to finite differences of the first and second order, and to
/// the size of its largest intermediate, which grows with the entries, not with entries times segments.
module FunctionalDiff.Core.Tests.ClientTwentyOneCoreTests

open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.GraphTestSupport

let private close = closeExpectedFirst

/// Each column of scores [n, heads] normalised over the rows that share an id, over doubles.
let private reference (scores: float[]) (ids: int[]) (heads: int) =
    Array.init scores.Length (fun k ->
        let row, head = k / heads, k % heads
        let members = ids |> Array.indexed |> Array.filter (fun (_, s) -> s = ids.[row]) |> Array.map fst
        let top = members |> Array.map (fun e -> scores.[e * heads + head]) |> Array.max
        exp (scores.[k] - top) / (members |> Array.sumBy (fun e -> exp (scores.[e * heads + head] - top))))

let private ids = [| 3; 0; 3; 1; 0; 3; 4; 1; 3 |]
let private idExpr = constantVector (Array.map float ids)

let private case =
    { Name = "Segments.softmax over [9, 2] in 6 segments (one empty, one single)"; Shapes = [ [| 9; 2 |] ]; Domain = Normal
      F = fun xs -> Segments.softmax 0 6 idExpr xs.[0] }

[<Tests>]
let tests =
    testList "client twenty-one (Segments.softmax)" [
        test "values are each segment's softmax, with ties at the maximum and scores beyond exp's range" {
            // a tie for the maximum in segment 3 (entries 0 and 5 of column 0), and ±800 added alternately
            let scores = Array.init 18 (fun k -> if k = 0 || k = 10 then 2.5 else sin (1.3 * float k) + (if k % 4 = 1 then 800.0 elif k % 4 = 3 then -800.0 else 0.0))
            let got = Segments.softmax 0 6 idExpr (Expr.constant (tensor [| 9; 2 |] scores))
            close 1e-15 (reference scores ids 2) (values got) "softmax of each segment"
            // the index along the last axis: the transpose's result is the transpose of this one
            let alongLast = Segments.softmax -1 6 idExpr (Expr.transpose (Expr.constant (tensor [| 9; 2 |] scores)))
            close 1e-15 (values (Expr.transpose got)) (values alongLast) "axis -1"
        }
        firstOrderTest 11 { case with Name = case.Name + ": first order" }
        secondOrderTest 12 { case with Name = case.Name + ": second order" }
        test "the largest intermediate, derivative included, holds entries or segments, never entries × segments" {
            let entries, segments = 2000, 700
            let ids = Array.init entries (fun e -> float ((e * 37) % segments))
            let x = Expr.variable "scores" [| entries; 2 |] DType.Float64
            let f = Expr.sum (Segments.softmax 0 segments (constantVector ids) x * Expr.constant (normalSample 3 [| entries; 2 |]))
            let largest = Graph.topologicalOrder [ f; Diff.grad (fun v -> Expr.sum (Segments.softmax 0 segments (constantVector ids) v)) x ] |> Array.map (fun e -> e.Numel) |> Array.max
            Expect.isLessThanOrEqual largest (entries * 2) "largest node"
        }
        test "a segment id that is not a whole number below numSegments names the op, the entry and the shapes" {
            let message = Expect.throwsC (fun () -> Segments.softmax 0 2 (constantVector [| 0.0; 2.0 |]) (Expr.constant (normalSample 1 [| 2; 3 |])) |> ignore) (fun e -> e.Message)
            Expect.stringStarts message "SegmentSoftmax: index 2 (entry 1 of index [2]) is not a segment id below numSegments 2 (input [2,3])" "message"
        }
    ]
