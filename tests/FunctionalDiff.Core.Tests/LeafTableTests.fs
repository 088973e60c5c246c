/// The table tanh's rule keeps per walk (Rules.cotangentIsBoundedPolynomial): node ids to the
/// oldest leaf reached, and a stack of pending nodes. Held to Dictionary and Stack, written in the
/// test as the reference, over keys that collide in the low bits, grow the table many times, and
/// are set again with new values.
module FunctionalDiff.Core.Tests.LeafTableTests

open System
open System.Collections.Generic
open Expecto
open FunctionalDiff.Core

[<Tests>]
let tests =
    testList "LeafTable" [
        testCase "finds what a Dictionary finds, after growing and overwriting" <| fun () ->
            let random = Random 3
            let table = LeafTable()
            let reference = Dictionary<int64, int64>()
            // consecutive ids (a walk's), ids a power of two apart (same low bits), and scattered ones
            let keys =
                Array.concat [ Array.init 3000 int64
                               Array.init 500 (fun i -> int64 i <<< 20)
                               Array.init 2000 (fun _ -> random.NextInt64(0L, Int64.MaxValue)) ]
            for round in 0 .. 1 do
                for key in keys do
                    let value = if round = 0 then key * 3L - 7L else Int64.MaxValue - key
                    table.Set(key, value)
                    reference.[key] <- value
            for key in Array.append keys (Array.init 1000 (fun _ -> random.NextInt64(Int64.MinValue + 1L, 0L))) do
                let mutable found = 0L
                let present = table.TryFind(key, &found)
                match reference.TryGetValue key with
                | true, expected ->
                    Expect.isTrue present (sprintf "key %d is there" key)
                    Expect.equal found expected (sprintf "value of %d" key)
                | _ -> Expect.isFalse present (sprintf "key %d is absent" key)
                Expect.equal (table.Contains key) present "Contains agrees with TryFind"

        testCase "its stack pops in the order a Stack does" <| fun () ->
            let nodes = Array.init 100 (fun i -> Expr.scalar DType.Float64 (float i))
            let table = LeafTable()
            let reference = Stack<Expr>()
            let random = Random 4
            for _ in 1 .. 1000 do
                if reference.Count = 0 || random.Next 3 > 0 then
                    let e = nodes.[random.Next nodes.Length]
                    table.Push e
                    reference.Push e
                else
                    Expect.isTrue (obj.ReferenceEquals(table.Peek(), reference.Peek())) "the same top"
                    table.Pop()
                    reference.Pop() |> ignore
                Expect.equal table.Depth reference.Count "the same depth"
    ]
