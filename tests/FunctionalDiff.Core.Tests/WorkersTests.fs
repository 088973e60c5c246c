module FunctionalDiff.Core.Tests.WorkersTests

open System
open System.Threading
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core

/// Runs `count` parts through the team and returns how often each part ran.
let private runCounts (count: int) =
    let runs = Array.zeroCreate<int> count
    Workers.run count (fun part -> Interlocked.Increment(&runs.[part]) |> ignore)
    runs

[<Tests>]
let tests =
    testList "Tensor" [
        testList "Workers" [
            test "every part runs exactly once, for any count" {
                for count in [ 0; 1; 2; 3; 17; 1000 ] do
                    for _ in 1 .. 20 do
                        Expect.equal (runCounts count) (Array.create count 1) (sprintf "%d parts" count)
            }
            test "the parts' writes are all visible when run returns" {
                // each part fills its own slice; a reference loop computes the same values
                let count, slice = 64, 1000
                let data = Array.zeroCreate<float> (count * slice)
                Workers.run count (fun part ->
                    for i in part * slice .. (part + 1) * slice - 1 do
                        data.[i] <- sqrt (float i))
                let expected = Array.init (count * slice) (fun i -> sqrt (float i))
                Expect.equal data expected "every slice written"
            }
            test "a failing part's exception reaches the caller, and the team still works after it" {
                let error =
                    Expect.throwsC (fun () ->
                        Workers.run 8 (fun part -> if part = 5 then invalidOp "part 5 failed"))
                        id
                Expect.isTrue (error :? InvalidOperationException) "the part's own exception type"
                Expect.equal error.Message "part 5 failed" "the part's own message"
                Expect.equal (runCounts 9) (Array.create 9 1) "a later call runs every part"
            }
            test "no part is still running once a failed call returns" {
                // parts after the failure are skipped, but the caller waits for those running
                let finished = ref 0
                Expect.throwsT<InvalidOperationException>
                    (fun () ->
                        Workers.run 64 (fun part ->
                            if part = 7 then invalidOp "part 7"
                            Thread.SpinWait 20000
                            Interlocked.Increment(&finished.contents) |> ignore))
                    "the part's exception"
                let seen = Volatile.Read(&finished.contents)
                Thread.Sleep 20
                Expect.equal (Volatile.Read(&finished.contents)) seen "no part ran on after run returned"
            }
            test "a part that itself runs parts completes them all" {
                // the inner call finds the team busy and runs its parts on the calling thread
                let inner = Array.zeroCreate<int> (4 * 6)
                Workers.run 4 (fun outer ->
                    Workers.run 6 (fun part -> Interlocked.Increment(&inner.[outer * 6 + part]) |> ignore))
                Expect.equal inner (Array.create 24 1) "each inner part once"
            }
            test "several threads calling at once each get all their parts run" {
                let callers = 8
                let results =
                    Array.init callers (fun _ -> Task.Run(fun () -> Array.init 50 (fun round -> runCounts (1 + round % 7))))
                    |> Array.map (fun task -> task.Result)
                for caller in results do
                    for round, counts in Array.indexed caller do
                        Expect.equal counts (Array.create (1 + round % 7) 1) "parts of one call"
            }
        ]
    ]
