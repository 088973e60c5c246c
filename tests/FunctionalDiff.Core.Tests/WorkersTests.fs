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

/// Runs `body` with the team's settings changed by `set`, then restores them.
let private withSettings (set: unit -> unit) (body: unit -> unit) =
    let degree, spin = Parallelism.MaxDegree, Parallelism.SpinTime
    try
        set ()
        body ()
    finally
        Parallelism.MaxDegree <- degree
        Parallelism.SpinTime <- spin

/// The CPU set of a kernel thread (0: the calling one) as bytes, or None where it cannot be read.
let private affinity (thread: int) = Placement.affinityOf thread |> Option.ofObj

/// utime + stime of one of this process's threads, in clock ticks, from /proc/self/task/<tid>/stat,
/// and its scheduler state letter (R running, S sleeping, ...).
let private threadCpu (tid: int) =
    let stat = IO.File.ReadAllText(sprintf "/proc/self/task/%d/stat" tid)
    let fields = stat.Substring(stat.LastIndexOf(')') + 2).Split(' ')
    // fields.[0] is field 3 (state); utime and stime are fields 14 and 15
    int64 fields.[11] + int64 fields.[12], fields.[0]

[<Tests>]
let settingsTests =
    testList "Tensor" [
        // sequenced: these change process-wide settings and watch the team's threads
        testSequenced <| testList "Workers settings" [
            test "MaxDegree and SpinTime round-trip, and out-of-range values name the setting" {
                withSettings ignore (fun () ->
                    Parallelism.MaxDegree <- 3
                    Expect.equal Parallelism.MaxDegree 3 "MaxDegree"
                    Parallelism.SpinTime <- TimeSpan.FromMilliseconds 1.5
                    Expect.floatClose Accuracy.high Parallelism.SpinTime.TotalMilliseconds 1.5 "SpinTime"
                    for bad in [ 0; -1 ] do
                        let error = Expect.throwsC (fun () -> Parallelism.MaxDegree <- bad) id
                        Expect.isTrue (error :? ArgumentOutOfRangeException) "ArgumentOutOfRangeException"
                        Expect.stringContains error.Message "Parallelism.MaxDegree" "names the setting"
                    for bad in [ TimeSpan.FromTicks -1L; TimeSpan.FromSeconds 1.5 ] do
                        let error = Expect.throwsC (fun () -> Parallelism.SpinTime <- bad) id
                        Expect.isTrue (error :? ArgumentOutOfRangeException) "ArgumentOutOfRangeException"
                        Expect.stringContains error.Message "Parallelism.SpinTime" "names the setting"
                    Expect.equal Parallelism.MaxDegree 3 "a refused value changes nothing"
                    Expect.floatClose Accuracy.high Parallelism.SpinTime.TotalMilliseconds 1.5 "a refused value changes nothing")
            }
            test "with MaxDegree 1 every part runs on the caller, and a large kernel uses no worker" {
                withSettings (fun () -> Parallelism.MaxDegree <- 1) (fun () ->
                    let caller = Thread.CurrentThread.ManagedThreadId
                    let threads = Array.zeroCreate<int> 64
                    Workers.run 64 (fun part -> threads.[part] <- Thread.CurrentThread.ManagedThreadId)
                    Expect.equal threads (Array.create 64 caller) "every part on the calling thread"
                    // 1M float32 exp: far above the parallel threshold
                    let n = 1 <<< 20
                    let values = Array.init n (fun i -> float32 (sin (float i)))
                    let joined = Workers.joinCount ()
                    let result = Elementwise.unary UnaryOp.Exp (Tensor.ofArray32 [| n |] values)
                    Expect.equal (Workers.joinCount ()) joined "no worker joined the kernel"
                    let actual = result.Data32
                    for i in 0 .. n - 1 do
                        let reference = exp (float values.[i])
                        if abs (float actual.[i] - reference) > 1e-6 * reference then
                            failtestf "element %d: %g, reference %g" i actual.[i] reference)
            }
            test "a worker that moves off its caller's CPU gets its own CPU set back after the job" {
                match affinity 0 with
                | None -> () // not Linux, or no C library: workers never change their affinity
                | Some own ->
                    // Spin 0: workers block after every job, so each job wakes them and they
                    // decide again whether to move (on 2 CPUs about half of the wakes land on the
                    // caller's CPU).
                    withSettings (fun () -> Parallelism.SpinTime <- TimeSpan.Zero) (fun () ->
                        let moves = Workers.moveCount ()
                        for _ in 1 .. 200 do
                            Workers.run 16 (fun _ -> Thread.SpinWait 2000)
                            Thread.Sleep 1
                        let workers = Workers.threadIdsSnapshot () |> Array.filter (fun tid -> tid > 0)
                        Expect.isNonEmpty workers "worker thread ids known"
                        for tid in workers do
                            // A worker counts its last part done before it restores its CPU set, so the
                            // caller can return first: wait for the restore (seconds under a loaded host;
                            // a worker left narrowed fails here as before).
                            SpinWait.SpinUntil((fun () -> affinity tid = Some own), TimeSpan.FromSeconds 10.0) |> ignore
                            Expect.equal (affinity tid) (Some own)
                                (sprintf "worker %d's CPU set equals the process's after 200 jobs (%d moves)" tid (Workers.moveCount () - moves)))
            }
            test "avoid narrows the calling thread's CPU set by one CPU and restore undoes it" {
                match affinity 0 with
                | None -> ()
                | Some own ->
                    let cpus = own |> Array.sumBy (fun b -> Numerics.BitOperations.PopCount(uint32 b))
                    let observed =
                        Task.Factory.StartNew((fun () ->
                            let cpu = Thread.GetCurrentProcessorId()
                            let original = Placement.avoid cpu
                            let during = affinity 0
                            Placement.restore original
                            cpu, original, during, affinity 0), TaskCreationOptions.LongRunning).Result
                    let cpu, original, during, after = observed
                    if cpus > 1 then
                        Expect.equal (Option.ofObj original) (Some own) "avoid returns the set it found"
                        let expected = Array.copy own
                        expected.[cpu / 8] <- expected.[cpu / 8] &&& ~~~(1uy <<< (cpu % 8))
                        Expect.equal during (Some expected) "the CPU it ran on removed, nothing else"
                    else
                        Expect.isNull original "the only CPU is never removed"
                    Expect.equal after (Some own) "restored"
            }
            test "idle workers use no CPU once their spin ends" {
                // at least two threads a call, so there is a team to watch on any host
                withSettings (fun () -> Parallelism.MaxDegree <- max 2 Parallelism.MaxDegree; Parallelism.SpinTime <- TimeSpan.FromMilliseconds 1.0) (fun () ->
                    Workers.run 16 (fun _ -> Thread.SpinWait 2000)
                    // a worker records its thread id when it starts, which can be after the job that started it
                    // ended (run alone, this test used to find no worker and check nothing)
                    let known () = Workers.threadIdsSnapshot () |> Array.filter (fun tid -> tid > 0)
                    SpinWait.SpinUntil((fun () -> known().Length > 0), TimeSpan.FromSeconds 10.0) |> ignore
                    let workers = known ()
                    Expect.isNonEmpty workers "the team's workers are known"
                    // wait for the condition, not for a time: every worker blocked (state S) once its spin ended,
                    // however late a loaded host lets it see the deadline; one still spinning fails below
                    SpinWait.SpinUntil((fun () -> workers |> Array.forall (fun tid -> snd (threadCpu tid) = "S")), TimeSpan.FromSeconds 10.0) |> ignore
                    let before = workers |> Array.map threadCpu
                    Thread.Sleep 500
                    let after = workers |> Array.map threadCpu
                    for (tid, (ticksBefore, _)), (ticksAfter, state) in Array.zip (Array.zip workers before) after do
                        Expect.equal ticksAfter ticksBefore (sprintf "worker %d used no CPU over half a second idle" tid)
                        Expect.equal state "S" (sprintf "worker %d is blocked (state S)" tid))
            }
        ]
    ]

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
