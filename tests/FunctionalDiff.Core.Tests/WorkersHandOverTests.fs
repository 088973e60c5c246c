/// The hand-over of work to the worker team, counted: a call reuses the team's one job slot and
/// a per-thread description of its parts, so with the team active neither a bare hand-over nor
/// a compiled MLP step of issue 12's size allocates; and the generation that guards the reused
/// slot keeps every part of every job running exactly once, with workers that wake late.
module FunctionalDiff.Core.Tests.WorkersHandOverTests

open System
open System.Threading
open Expecto
open FunctionalDiff.Core
open FunctionalDiff.Core.Tests.PlanMemoryTests

/// Runs `body` with at least two threads per parallel call (so the team is used even on a
/// one-CPU machine) and the given spin time, then restores the settings.
let private withTeam (spin: TimeSpan) (body: unit -> unit) =
    let degree, previousSpin = Parallelism.MaxDegree, Parallelism.SpinTime
    try
        Parallelism.MaxDegree <- max 2 degree
        Parallelism.SpinTime <- spin
        body ()
    finally
        Parallelism.MaxDegree <- degree
        Parallelism.SpinTime <- previousSpin

/// Bytes allocated by the whole process per call (every thread, the workers included), the
/// least over rounds of 100 calls, as `bytesPerCall` does for the calling thread.
let private processBytesPerCall (bound: float) (call: unit -> unit) =
    let mutable least = Double.MaxValue
    let mutable round = 0
    while least > bound && round < 200 do
        let before = GC.GetTotalAllocatedBytes true
        for _ in 1 .. 100 do call ()
        least <- min least (float (GC.GetTotalAllocatedBytes true - before) / 100.0)
        round <- round + 1
    least

[<Tests>]
let tests =
    testList "Tensor" [
        // sequenced: these change the team's settings and count the process's allocations
        testSequenced <| testList "Workers hand-over" [
            test "a hand-over to the team allocates nothing, on the caller or on the workers" {
                withTeam (TimeSpan.FromMilliseconds 0.5) (fun () ->
                    let data = Array.zeroCreate<float> 4096
                    // a function that captures nothing, and its state by value: what kernels pass
                    let call () =
                        Workers.runWith 8 (struct (data, 512)) (fun (struct (data: float[], size)) part ->
                            for i in part * size .. (part + 1) * size - 1 do
                                data.[i] <- data.[i] + 1.0)
                    for _ in 1 .. 200 do call ()
                    let handOvers = Workers.handOverCount ()
                    // any object is at least 24 bytes: less than 8 per call on average is none in
                    // most calls (the slot and closure of a fresh job came to about 150 bytes)
                    let own = bytesPerCall 8.0 call
                    Expect.isGreaterThan (Workers.handOverCount ()) handOvers "the calls were handed to the team"
                    Expect.isLessThan own 8.0 "bytes per hand-over on the calling thread"
                    let all = processBytesPerCall 8.0 call
                    Expect.isLessThan all 8.0 "bytes per hand-over in the whole process"
                    // 200 + at least 200 rounds of 100 calls added 1 to each element per call
                    let calls = data.[0]
                    Expect.isGreaterThanOrEqual calls 400.0 "calls counted"
                    Expect.equal data (Array.create 4096 calls) "every element updated once per call")
            }

            test "every part of every job runs once, with workers that block and wake late" {
                // Spin 0: workers block after each job and wake after the caller may have moved on
                // to the next job in the reused slot. Each job has its own counters, so a part run
                // with another job's state, or twice, or not at all, shows.
                for spin in [ TimeSpan.Zero; TimeSpan.FromMilliseconds 0.2 ] do
                    withTeam spin (fun () ->
                        let jobs = 3000
                        let counts = Array.init jobs (fun j -> Array.zeroCreate<int> (1 + j % 9))
                        for j in 0 .. jobs - 1 do
                            Workers.runWith counts.[j].Length (struct (counts, j)) (fun (struct (counts: int[][], j)) part ->
                                Interlocked.Increment(&counts.[j].[part]) |> ignore)
                        for j in 0 .. jobs - 1 do
                            Expect.equal counts.[j] (Array.create (1 + j % 9) 1) (sprintf "spin %O, job %d: each part once" spin j))
            }

            test "a failed job's exception reaches only its own caller" {
                withTeam (TimeSpan.FromMilliseconds 0.5) (fun () ->
                    for round in 1 .. 50 do
                        Expect.throwsT<InvalidOperationException>
                            (fun () -> Workers.runWith 6 round (fun round part -> if part = round % 6 then invalidOp "failed part"))
                            (sprintf "round %d: the failing job throws" round)
                        let counts = Array.zeroCreate<int> 6
                        Workers.runWith 6 counts (fun counts part -> Interlocked.Increment(&counts.[part]) |> ignore)
                        Expect.equal counts (Array.create 6 1) (sprintf "round %d: the next job runs every part and does not throw" round))
            }

            test "a compiled MLP step of the benchmark's size allocates at most 1 KB with the team active" {
                withTeam (TimeSpan.FromMilliseconds 0.5) (fun () ->
                    let step, inputs = mlpStep 256 784 512 12
                    let compiled = Compile.compile step
                    let outputs = compiled.Invoke inputs
                    for _ in 1 .. 50 do compiled.InvokeInto(inputs, outputs)
                    let handOvers = Workers.handOverCount ()
                    let own = bytesPerCall 1024.0 (fun () -> compiled.InvokeInto(inputs, outputs))
                    Expect.isGreaterThan (Workers.handOverCount ()) handOvers "the step's kernels were handed to the team"
                    Expect.isLessThanOrEqual own 1024.0 "bytes per InvokeInto call on the calling thread"
                    let all = processBytesPerCall 1024.0 (fun () -> compiled.InvokeInto(inputs, outputs))
                    Expect.isLessThanOrEqual all 1024.0 "bytes per InvokeInto call in the whole process")
            }
        ]
    ]
