module FunctionalDiff.Core.Tests.ShapeTests

open Expecto
open FunctionalDiff.Core

/// Reference broadcasting written out per NumPy's rule, independent of Shape.broadcast.
let referenceBroadcast (a: int[]) (b: int[]) =
    let rank = max a.Length b.Length
    let pad (s: int[]) = Array.append (Array.create (rank - s.Length) 1) s
    let a', b' = pad a, pad b
    if Array.forall2 (fun x y -> x = y || x = 1 || y = 1) a' b' then
        Some(Array.map2 (fun x y -> if x = 1 then y else x) a' b')
    else None

[<Tests>]
let tests =
    testList "Shape" [
        test "broadcast of compatible shapes follows NumPy" {
            for a, b in [ [||], [| 3 |]; [| 2; 1 |], [| 1; 4 |]; [| 5; 1; 3 |], [| 4; 1 |]; [| 0 |], [| 1 |]; [| 2; 0 |], [| 1; 0 |] ] do
                Expect.equal (Shape.broadcast "t" a b) (referenceBroadcast a b).Value (sprintf "%A %A" a b)
        }
        test "broadcast error names the op and both shapes" {
            let message =
                try Shape.broadcast "Add" [| 2; 3 |] [| 4 |] |> ignore; "no exception"
                with :? ShapeException as e -> e.Message
            Expect.equal message "Add: shapes [2,3] and [4] cannot be broadcast" "message"
        }
        test "a reshape target infers its one -1 from the source's element count" {
            // closed forms: 12 elements as [2,-1] is [2,6]; 0 elements as [-1,3] is [0,3]
            for source, shape, expected in [ [| 3; 4 |], [| 2; -1 |], [| 2; 6 |]
                                             [| 3; 4 |], [| -1 |], [| 12 |]
                                             [| 0; 5 |], [| -1; 3 |], [| 0; 3 |]
                                             [| 2; 3 |], [| 3; 2 |], [| 3; 2 |] ] do
                let target = Shape.reshapeTarget source shape
                Expect.equal target expected (sprintf "%A to %A" source shape)
                Expect.isFalse (obj.ReferenceEquals(target, shape)) "a fresh array"
        }
        test "a reshape target's errors name Reshape and both shapes" {
            let messageOf source shape =
                try Shape.reshapeTarget source shape |> ignore; "no exception"
                with :? ShapeException as e -> e.Message
            Expect.equal (messageOf [| 2; 3 |] [| -1; -1 |]) "Reshape: invalid target shape [-1,-1] for [2,3]" "two -1"
            Expect.equal (messageOf [| 2; 3 |] [| -2; 3 |]) "Reshape: invalid target shape [-2,3] for [2,3]" "negative"
            Expect.equal (messageOf [| 2; 3 |] [| 4; -1 |]) "Reshape: cannot infer -1 in [4,-1] for [2,3]" "not a divisor"
            Expect.equal (messageOf [| 2; 3 |] [| 0; -1 |]) "Reshape: cannot infer -1 in [0,-1] for [2,3]" "zero"
            Expect.equal (messageOf [| 2; 3 |] [| 4 |]) "Reshape: cannot reshape [2,3] (6 elements) to [4]" "size"
        }
        test "negative axes count from the end" {
            Expect.equal (Shape.normalizeAxis "Sum" 3 -1) 2 "-1"
            Expect.equal (Shape.normalizeAxes "Sum" 4 [| -1; 0 |]) [| 0; 3 |] "sorted"
            Expect.throwsT<ShapeException> (fun () -> Shape.normalizeAxis "Sum" 2 2 |> ignore) "out of range"
            Expect.throwsT<ShapeException> (fun () -> Shape.normalizeAxes "Sum" 2 [| 1; -1 |] |> ignore) "duplicate"
        }
        testPropertyWithConfig (PropertySupport.fixedSeed 6UL 100) "broadcast agrees with the reference on random small shapes" <| fun (a: byte list) (b: byte list) ->
            let toShape (xs: byte list) = xs |> List.truncate 4 |> List.map (fun x -> int x % 3) |> Array.ofList
            let a, b = toShape a, toShape b
            match referenceBroadcast a b with
            | Some expected -> Shape.broadcast "t" a b = expected
            | None -> (try Shape.broadcast "t" a b |> ignore; false with :? ShapeException -> true)
    ]
