/// The planner's int tables (core-fs/Plan/PlanTables.fs) against references written here with the
/// framework's collections: the same random operations applied to both, every answer compared.
module FunctionalDiff.Core.Tests.PlanTablesTests

open System
open System.Collections.Generic
open Expecto
open FunctionalDiff.Core

/// Keys from a small range collide and repeat; keys from the whole range (negative ones included)
/// spread; both are drawn.
let private key (random: Random) (spread: bool) =
    if spread then random.Next(Int32.MinValue, Int32.MaxValue) else random.Next(-40, 40)

[<Tests>]
let tests =
    testList "PlanTables" [
        test "IntStack pops what a Stack<int> pops, through growth and clears" {
            let random = Random 11
            let table, reference = IntStack(), Stack<int>()
            for _ in 1 .. 20_000 do
                match random.Next 10 with
                | 0 when random.Next 50 = 0 ->
                    table.Clear()
                    reference.Clear()
                | 0 | 1 | 2 | 3 when reference.Count > 0 -> Expect.equal (table.Pop()) (reference.Pop()) "popped"
                | _ ->
                    let v = random.Next()
                    table.Push v
                    reference.Push v
                Expect.equal table.Count reference.Count "count"
            Expect.throwsT<InvalidOperationException> (fun () -> IntStack().Pop() |> ignore) "popping an empty stack raises"
        }

        test "IntMap finds what a Dictionary<int, int> finds, through growth and clears" {
            for spread in [ false; true ] do
                let random = Random(if spread then 7 else 5)
                let table, reference = IntMap(), Dictionary<int, int>()
                for _ in 1 .. 50_000 do
                    let k = key random spread
                    match random.Next 20 with
                    | 0 when random.Next 100 = 0 ->
                        table.Clear()
                        reference.Clear()
                    | 0 | 1 | 2 | 3 | 4 | 5 | 6 | 7 | 8 ->
                        let v = random.Next()
                        table.Set(k, v)
                        reference.[k] <- v
                    | _ ->
                        let expected = match reference.TryGetValue k with | true, v -> v | _ -> -1
                        Expect.equal (table.Find k) expected (sprintf "the value of %d" k)
                        Expect.equal (table.Contains k) (expected >= 0) "contains"
                    Expect.equal table.Count reference.Count "count"
                for KeyValue(k, v) in reference do
                    Expect.equal (table.Find k) v "every key at the end"
            Expect.throwsT<ArgumentException> (fun () -> IntMap().Set(1, -1)) "a negative value is refused"
        }

        test "IntMap cleared many times forgets every key it held" {
            let table = IntMap()
            for round in 0 .. 999 do
                for k in 0 .. round % 40 do
                    Expect.equal (table.Find(k + round)) -1 "nothing from an earlier round"
                    table.Set(k + round, k)
                table.Clear()
                Expect.equal table.Count 0 "cleared"
        }

        test "IntRowSet numbers rows as a list searched by content does" {
            for width in [ 1; 2; 6 ] do
                let random = Random(width)
                let table = IntRowSet width
                let reference = List<int[]>()
                let row: int[] = Array.zeroCreate width
                for _ in 1 .. 20_000 do
                    for i in 0 .. width - 1 do
                        row.[i] <- random.Next(0, 4)
                    let expected = reference.FindIndex(fun r -> r.AsSpan().SequenceEqual(ReadOnlySpan row))
                    Expect.equal (table.Find row) expected "the row's number"
                    if expected < 0 then
                        Expect.equal (table.Add row) reference.Count "a new row takes the next number"
                        reference.Add(Array.copy row)
                    Expect.equal table.Count reference.Count "count"
                for r in 0 .. reference.Count - 1 do
                    for i in 0 .. width - 1 do
                        Expect.equal table.[r, i] reference.[r].[i] "every cell at the end"
            Expect.throwsT<ArgumentException> (fun () -> (IntRowSet 3).Find [| 1; 2 |] |> ignore) "a row of another width is refused"
        }
    ]
