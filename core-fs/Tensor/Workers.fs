/// Workers: the one team of threads that every parallel kernel shares, and its public settings
/// (`Parallelism`). A call splits its work into numbered parts; the caller and the team claim
/// parts from a shared counter until none is left, then the caller waits for the parts still
/// running. Because parts are claimed, never assigned, a worker that starts late (or never, on a
/// busy machine) only means the caller does more parts itself: no part waits for a particular
/// thread, so there is nothing to deadlock on.
///
/// After a job, workers spin for `Parallelism.SpinTime` before they block on a monitor, where they
/// use no CPU until the next job. Kernels are usually called back to back, and waking a blocked
/// thread costs tens of microseconds; worse, on a 2-vCPU VM Linux often places the woken thread on
/// the caller's own vCPU, where the two then run one after the other. A worker that keeps its CPU
/// busy between calls keeps it, and on Linux a worker that wakes on its caller's CPU moves off it
/// for the length of the job (see `Placement`).
namespace FunctionalDiff.Core

open System
open System.Diagnostics
open System.Runtime.InteropServices
open System.Threading

/// Linux only: moves a worker thread off its caller's CPU for one job, then gives it back the CPU
/// set it had. After a worker sleeps, the kernel often wakes it on the CPU of the thread that woke
/// it, even with another CPU idle, and the two then share one CPU for the whole job (a 512 × 512
/// float32 product at one core's speed). .NET has no per-thread affinity API on Linux, so this
/// calls the C library's `sched_getaffinity` and `sched_setaffinity` for the worker's own thread,
/// removing one CPU from the set it already had (so a process started under `taskset` keeps its
/// limits), and sets the saved set back when the job ends: the kernel may then schedule the worker
/// anywhere again, but does not move a running thread without cause, so it stays where it went
/// while it spins. It never touches the caller's thread. Where the calls are unavailable or fail,
/// workers stay where the kernel puts them.
module internal Placement =
    [<DllImport("libc", EntryPoint = "sched_getaffinity")>]
    extern int private getAffinity(int thread, nativeint maskBytes, byte[] mask)

    [<DllImport("libc", EntryPoint = "sched_setaffinity")>]
    extern int private setAffinity(int thread, nativeint maskBytes, byte[] mask)

    [<DllImport("libc", EntryPoint = "gettid")>]
    extern int private gettid()

    /// Bytes of the CPU mask: room for 1024 CPUs, the kernel's default limit.
    let private maskBytes = 128

    let mutable private available = OperatingSystem.IsLinux()

    /// Reads the CPU set of a thread (0: the calling one) into `mask` (`maskBytes` long); false
    /// where it cannot be read.
    let private readAffinity (thread: int) (mask: byte[]) =
        available
        && (try getAffinity(thread, nativeint maskBytes, mask) = 0
            with _ ->
                available <- false
                false)

    /// The CPU set of a thread (0: the calling one), or null where it cannot be read.
    let affinityOf (thread: int) : byte[] =
        let mask = Array.zeroCreate<byte> maskBytes
        if readAffinity thread mask then mask else null

    /// The kernel's id of the calling thread (what `affinityOf` takes), or -1 where unknown.
    let currentThreadId () =
        if not available then -1
        else
            try gettid ()
            with _ -> -1

    /// Two masks for `avoidWith`, which a worker allocates once and reuses for every job.
    let newMasks () = struct (Array.zeroCreate<byte> maskBytes, Array.zeroCreate<byte> maskBytes)

    /// Removes `cpu` from the CPUs the calling thread may run on, unless it is the only one left,
    /// using the two masks of `newMasks`. Returns the first mask, holding the set the thread had
    /// (to hand to `restore`), when it changed it; else null.
    let avoidWith (struct (original: byte[], narrowed: byte[])) (cpu: int) : byte[] =
        if cpu < 0 || cpu >= 8 * maskBytes || not (readAffinity 0 original) then null
        else
            Array.blit original 0 narrowed 0 maskBytes
            narrowed.[cpu / 8] <- narrowed.[cpu / 8] &&& ~~~(1uy <<< (cpu % 8))
            let changed = narrowed.[cpu / 8] <> original.[cpu / 8]
            if changed && Array.exists (fun b -> b <> 0uy) narrowed then
                try
                    if setAffinity(0, nativeint maskBytes, narrowed) = 0 then original else null
                with _ ->
                    // no C library by that name, or no such entry point: leave placement to the kernel
                    available <- false
                    null
            else null

    /// `avoidWith` with masks of its own.
    let avoid (cpu: int) : byte[] = avoidWith (newMasks ()) cpu

    /// Gives the calling thread back the CPU set that `avoid` returned.
    let restore (original: byte[]) =
        if not (isNull original) then
            try setAffinity(0, nativeint maskBytes, original) |> ignore
            with _ -> available <- false

/// The team's settings, read by every parallel call.
module internal WorkerSettings =
    /// Parallel parts run on at most this many threads at once, the caller included.
    let mutable maxDegree = Environment.ProcessorCount

    /// How long a worker spins for the next job before it blocks, in Stopwatch ticks. Chosen by
    /// measurement (the README's Performance section gives the figures and how to repeat them):
    /// long enough to cover the gap between the kernels of one evaluation, short enough that a
    /// program that pauses gives the CPU back quickly.
    let mutable spinTicks = Stopwatch.Frequency / 2000L // 0.5 ms

    /// The longest spin a setting may ask for: workers must never hold a CPU for long unasked.
    let maxSpin = TimeSpan.FromSeconds 1.0

/// A parallel call's parts as an object that is kept and reused: the state they read, and a
/// function of that state and the part number. A kernel that hands the same kind of work to the
/// team on every call describes it with one of these instead of a fresh closure, so the
/// hand-over allocates nothing (`Workers.runWith`). Each thread keeps one spare per state type;
/// a call that finds it taken (a part that itself runs parallel work) makes a new one.
[<AbstractClass>]
type internal TeamJob() =
    /// Runs part `part` of the job.
    abstract RunPart: part: int -> unit

and [<Sealed>] internal PartsOf<'State>() =
    inherit TeamJob()
    [<ThreadStatic; DefaultValue>] static val mutable private spare: PartsOf<'State>
    [<DefaultValue>] val mutable State: 'State
    [<DefaultValue>] val mutable Work: 'State -> int -> unit
    override this.RunPart(part: int) = this.Work this.State part

    /// This thread's spare, or a new one when it is in use, holding `state` and `work`.
    static member Take(state: 'State, work: 'State -> int -> unit) =
        let kept = PartsOf<'State>.spare
        let parts =
            if obj.ReferenceEquals(kept, null) then PartsOf<'State>()
            else
                PartsOf<'State>.spare <- Unchecked.defaultof<_>
                kept
        parts.State <- state
        parts.Work <- work
        parts

    /// Gives the object back as this thread's spare, keeping nothing of the call alive.
    static member Return(parts: PartsOf<'State>) =
        parts.State <- Unchecked.defaultof<'State>
        parts.Work <- Unchecked.defaultof<'State -> int -> unit>
        PartsOf<'State>.spare <- parts

/// The shared team: up to `Parallelism.MaxDegree - 1` background threads, started on first use
/// (and added to if the setting grows).
module internal Workers =

    let private gate = obj ()
    /// A version that changes with every job, which idle workers watch.
    let mutable private version = 0L
    /// Workers blocked in Monitor.Wait, so that publishing skips the pulse when all are spinning.
    let mutable private sleepers = 0
    /// 1 while a call owns the team; a second caller (another thread, or a part that itself
    /// calls a parallel kernel) runs its parts alone instead of waiting.
    let mutable private busy = 0
    /// Threads started so far, and their kernel thread ids (-1 where unknown).
    let mutable private started = 0
    let private threadIds = Collections.Generic.List<int>()
    /// Jobs in which a worker moved off its caller's CPU (each one restored afterwards).
    let mutable private moves = 0
    /// Jobs that a worker joined (ran parts of, or found already done).
    let mutable private joined = 0
    /// Jobs handed to the team (calls that did not run all their parts alone).
    let mutable private handOvers = 0

    // The one job slot, reused by every call so that a hand-over allocates nothing. Only the
    // caller that owns the team (`busy`) writes it. `claim` holds the job's generation in its high
    // 32 bits and the next unclaimed part in its low 32 bits; parts are claimed by a
    // compare-exchange that also checks the generation, so a worker that wakes late, after its job
    // ended and the slot took the next one, can never run a part of a job it did not read. The
    // generation is odd while the slot is closed (its fields are being written, or no job is on
    // offer) and even while a job is open: a worker trusts the fields it read only if the same
    // even generation is there after it read them (a sequence lock).
    let mutable private claim = 1L <<< 32
    let mutable private body: TeamJob = Unchecked.defaultof<_>
    let mutable private count = 0
    let mutable private callerCpu = -1
    let mutable private jobHelpers = 0
    let mutable private pending = 0
    let mutable private failure: exn = null

    let inline private generationOf (word: int64) = int (word >>> 32)

    /// Claims and runs parts of the job of generation `generation` (whose fields the caller read
    /// as `work` and `parts`) until none is left or another job has taken the slot. After a part
    /// fails the remaining ones are only counted down, so the caller learns of the failure as
    /// soon as the running parts end.
    let private runParts (generation: int) (work: TeamJob) (parts: int) =
        let mutable word = Volatile.Read(&claim)
        while generationOf word = generation && int (word &&& 0xFFFFFFFFL) < parts do
            if Interlocked.CompareExchange(&claim, word + 1L, word) = word then
                if isNull (Volatile.Read(&failure)) then
                    try work.RunPart(int (word &&& 0xFFFFFFFFL))
                    with error -> Interlocked.CompareExchange(&failure, error, null) |> ignore
                Interlocked.Decrement(&pending) |> ignore
            word <- Volatile.Read(&claim)

    /// Helper threads a call may use now.
    let helpers () = max 0 (WorkerSettings.maxDegree - 1)

    let private workerLoop (index: int) () =
        lock threadIds (fun () -> threadIds.Add(Placement.currentThreadId ()))
        let masks = Placement.newMasks ()
        let mutable seen = 0L
        while true do
            // spin (unless this worker is above the current degree), then block, until the version moves on
            let spinTicks = if index <= helpers () then Volatile.Read(&WorkerSettings.spinTicks) else 0L
            let deadline = Stopwatch.GetTimestamp() + spinTicks
            let mutable spins = 0
            while Volatile.Read(&version) = seen && Stopwatch.GetTimestamp() < deadline do
                Thread.SpinWait 20
                spins <- spins + 1
                // let another thread that shares this CPU run now and then
                if spins % 64 = 0 then Thread.Yield() |> ignore
            if Volatile.Read(&version) = seen then
                lock gate (fun () ->
                    Interlocked.Increment(&sleepers) |> ignore
                    while Volatile.Read(&version) = seen do
                        Monitor.Wait gate |> ignore
                    Interlocked.Decrement(&sleepers) |> ignore)
            seen <- Volatile.Read(&version)
            // read the open job's fields, and trust them only if its generation is still there
            let generation = generationOf (Volatile.Read(&claim))
            if generation % 2 = 0 then
                // one binding each: a tuple here would be an allocation per job
                let work = body
                let parts = count
                let cpu = callerCpu
                let helpers = jobHelpers
                Interlocked.MemoryBarrier()
                if generationOf (Volatile.Read(&claim)) = generation && index <= helpers && not (isNull (box work)) then
                    Interlocked.Increment(&joined) |> ignore
                    let original =
                        if Thread.GetCurrentProcessorId() = cpu then Placement.avoidWith masks cpu else null
                    if not (isNull original) then Interlocked.Increment(&moves) |> ignore
                    try runParts generation work parts
                    finally Placement.restore original

    /// Starts workers until there are `wanted`.
    let private ensureStarted (wanted: int) =
        if Volatile.Read(&started) < wanted then
            lock threadIds (fun () ->
                while started < wanted do
                    started <- started + 1
                    let thread = Thread(ThreadStart(workerLoop started), IsBackground = true, Name = sprintf "FunctionalDiff worker %d" started)
                    thread.Start())

    /// Runs `work.RunPart part` for every part in [0, parts) and returns when all have finished. The
    /// caller runs parts too; with one part, a degree of 1, or the team already busy, it runs them
    /// all itself, in order. The first exception a part throws is rethrown here once every
    /// running part has ended.
    let private runJob (parts: int) (work: TeamJob) =
        let helpers = helpers ()
        if parts = 1 || (parts > 1 && (helpers = 0 || Interlocked.CompareExchange(&busy, 1, 0) <> 0)) then
            for part in 0 .. parts - 1 do
                work.RunPart part
        elif parts > 1 then
            let mutable opened = false
            let mutable generation = 0
            let mutable error: exn = null
            try
                ensureStarted helpers
                // the slot is closed (odd generation) between jobs: fill it, then open it
                body <- work
                count <- parts
                callerCpu <- Thread.GetCurrentProcessorId()
                jobHelpers <- helpers
                pending <- parts
                failure <- null
                generation <- (generationOf claim + 2) &&& ~~~1
                // a full fence: the fields are visible before the open generation is
                Interlocked.Exchange(&claim, int64 generation <<< 32) |> ignore
                opened <- true
                Interlocked.Increment(&handOvers) |> ignore
                // A full fence before reading `sleepers`, as the workers have one between
                // counting themselves asleep and rereading `version`: one side always sees the other.
                Interlocked.Increment(&version) |> ignore
                if Volatile.Read(&sleepers) > 0 then
                    // Enter/Exit rather than `lock`, whose lambda would be an allocation per wake
                    Monitor.Enter gate
                    try Monitor.PulseAll gate
                    finally Monitor.Exit gate
                runParts generation work parts
            finally
                if opened then
                    // Close the slot (a full fence, as above): no part is claimed after this. Parts
                    // never claimed (only if this thread left early) are counted off, then the
                    // caller waits for the parts still running, so no stale part can count down
                    // the next job's `pending`.
                    let closedAt = Interlocked.Exchange(&claim, int64 (generation + 1) <<< 32)
                    let claimed = if generationOf closedAt = generation then int (closedAt &&& 0xFFFFFFFFL) else parts
                    if claimed < parts then Interlocked.Add(&pending, claimed - parts) |> ignore
                    let mutable spinner = SpinWait()
                    while Volatile.Read(&pending) > 0 do
                        spinner.SpinOnce(-1)
                // keep nothing of the caller's alive in the slot; take the failure while the team
                // is still ours (the next owner clears it)
                body <- Unchecked.defaultof<_>
                error <- failure
                failure <- null
                Volatile.Write(&busy, 0)
            if not (isNull error) then
                Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(error).Throw()

    /// `run parts (work state)` without a closure: `work` should capture nothing (then F# keeps
    /// one instance of it), and everything a part reads travels in `state`, often a struct tuple
    /// or a struct record. With one part or no helper the parts run in a loop here, with no
    /// hand-over at all.
    let runWith (parts: int) (state: 'State) (work: 'State -> int -> unit) =
        if parts = 1 || (parts > 1 && helpers () = 0) then
            for part in 0 .. parts - 1 do
                work state part
        elif parts > 1 then
            let job = PartsOf<'State>.Take(state, work)
            try runJob parts job
            finally PartsOf<'State>.Return job

    /// Runs `work part` for every part in [0, parts), as `runWith`; the closure `work` is the
    /// call's only allocation.
    let run (parts: int) (work: int -> unit) = runWith parts work (fun work part -> work part)

    /// The kernel thread ids of the workers started so far (-1 where unknown), for tests.
    let threadIdsSnapshot () = lock threadIds (fun () -> threadIds.ToArray())

    /// Jobs in which a worker moved off its caller's CPU, for tests and diagnostics.
    let moveCount () = Volatile.Read(&moves)

    /// Jobs handed to the team, for tests and diagnostics.
    let handOverCount () = Volatile.Read(&handOvers)

    /// Jobs that workers joined, for tests and diagnostics.
    let joinCount () = Volatile.Read(&joined)

/// The settings of the worker threads that parallel kernels (elementwise ops and reductions on
/// large tensors, matrix products) share. They apply from the next parallel call on, process-wide.
[<AbstractClass; Sealed>]
type Parallelism =
    /// The most threads a parallel kernel runs on at once, the calling thread included: the
    /// number of logical processors unless set. 1 runs every kernel on the calling thread alone.
    /// Raising it above the number of processors starts more worker threads, which then share
    /// the processors.
    static member MaxDegree
        with get () : int = WorkerSettings.maxDegree
        and set (value: int) =
            if value < 1 then
                raise (ArgumentOutOfRangeException("value", value, "Parallelism.MaxDegree must be at least 1"))
            WorkerSettings.maxDegree <- value

    /// How long an idle worker thread keeps looking for the next job (using its CPU) before it
    /// blocks, where it uses no CPU until work arrives: half a millisecond unless set. A longer
    /// spin helps kernels called with short pauses between them; zero makes workers block at once.
    /// At most one second.
    static member SpinTime
        with get () : TimeSpan =
            TimeSpan.FromSeconds(float (Volatile.Read(&WorkerSettings.spinTicks)) / float Stopwatch.Frequency)
        and set (value: TimeSpan) =
            if value < TimeSpan.Zero || value > WorkerSettings.maxSpin then
                raise (ArgumentOutOfRangeException("value", value, "Parallelism.SpinTime must be between zero and one second"))
            Volatile.Write(&WorkerSettings.spinTicks, int64 (value.TotalSeconds * float Stopwatch.Frequency))
