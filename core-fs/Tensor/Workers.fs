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

/// One parallel call: `count` parts of `body`, claimed through `Next`, counted down in `Pending`.
/// Workers numbered above `Helpers` leave it to the others (the degree the caller asked for).
[<AllowNullLiteral>]
type private WorkersJob(body: Action<int>, count: int, callerCpu: int, helpers: int) =
    [<DefaultValue>] val mutable Next: int
    [<DefaultValue>] val mutable Pending: int
    [<DefaultValue>] val mutable Failure: exn
    /// The CPU the caller published the job from, as `Thread.GetCurrentProcessorId` saw it.
    member _.CallerCpu = callerCpu
    member _.Helpers = helpers

    /// Claims and runs parts until none is left. After a part fails the remaining ones are only
    /// counted down, so the caller learns of the failure as soon as the running parts end.
    member this.RunParts() =
        let mutable part = Interlocked.Increment(&this.Next) - 1
        while part < count do
            if isNull (Volatile.Read(&this.Failure)) then
                try body.Invoke part
                with error -> Interlocked.CompareExchange(&this.Failure, error, null) |> ignore
            Interlocked.Decrement(&this.Pending) |> ignore
            part <- Interlocked.Increment(&this.Next) - 1

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

    /// The CPU set of a thread (0: the calling one), or null where it cannot be read.
    let affinityOf (thread: int) : byte[] =
        if not available then null
        else
            try
                let mask = Array.zeroCreate<byte> maskBytes
                if getAffinity(thread, nativeint maskBytes, mask) = 0 then mask else null
            with _ ->
                available <- false
                null

    /// The kernel's id of the calling thread (what `affinityOf` takes), or -1 where unknown.
    let currentThreadId () =
        if not available then -1
        else
            try gettid ()
            with _ -> -1

    /// Removes `cpu` from the CPUs the calling thread may run on, unless it is the only one left.
    /// Returns the set it had when it changed it (to hand to `restore`), else null.
    let avoid (cpu: int) : byte[] =
        if cpu < 0 || cpu >= 8 * maskBytes then null
        else
            let original = affinityOf 0
            if isNull original then null
            else
                let narrowed = Array.copy original
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

/// The shared team: up to `Parallelism.MaxDegree - 1` background threads, started on first use
/// (and added to if the setting grows).
module internal Workers =

    let private gate = obj ()
    /// The job on offer (null when none) and a version that changes with every job.
    let mutable private current: WorkersJob = null
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

    /// Helper threads a call may use now.
    let helpers () = max 0 (WorkerSettings.maxDegree - 1)

    let private workerLoop (index: int) () =
        lock threadIds (fun () -> threadIds.Add(Placement.currentThreadId ()))
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
            let job = Volatile.Read(&current)
            if not (isNull job) && index <= job.Helpers then
                Interlocked.Increment(&joined) |> ignore
                let original =
                    if Thread.GetCurrentProcessorId() = job.CallerCpu then Placement.avoid job.CallerCpu else null
                if not (isNull original) then Interlocked.Increment(&moves) |> ignore
                try job.RunParts()
                finally Placement.restore original

    /// Starts workers until there are `count`.
    let private ensureStarted (count: int) =
        if Volatile.Read(&started) < count then
            lock threadIds (fun () ->
                while started < count do
                    started <- started + 1
                    let thread = Thread(ThreadStart(workerLoop started), IsBackground = true, Name = sprintf "FunctionalDiff worker %d" started)
                    thread.Start())

    /// Runs `body part` for every part in [0, count) and returns when all have finished. The
    /// caller runs parts too; with one part, a degree of 1, or the team already busy, it runs them
    /// all itself, in order. The first exception a part throws is rethrown here once every
    /// running part has ended.
    let run (count: int) (body: int -> unit) =
        let helpers = helpers ()
        if count = 1 || (count > 1 && (helpers = 0 || Interlocked.CompareExchange(&busy, 1, 0) <> 0)) then
            for part in 0 .. count - 1 do
                body part
        elif count > 1 then
            try
                ensureStarted helpers
                let job = WorkersJob(Action<int>(body), count, Thread.GetCurrentProcessorId(), helpers)
                job.Pending <- count
                Volatile.Write(&current, job)
                // A full fence before reading `sleepers`, as the workers have one between
                // counting themselves asleep and rereading `version`: one side always sees the other.
                Interlocked.Increment(&version) |> ignore
                if Volatile.Read(&sleepers) > 0 then
                    lock gate (fun () -> Monitor.PulseAll gate)
                job.RunParts()
                let mutable spinner = SpinWait()
                while Volatile.Read(&job.Pending) > 0 do
                    spinner.SpinOnce(-1)
                Volatile.Write(&current, null)
                if not (isNull job.Failure) then
                    Runtime.ExceptionServices.ExceptionDispatchInfo.Capture(job.Failure).Throw()
            finally
                Volatile.Write(&busy, 0)

    /// The kernel thread ids of the workers started so far (-1 where unknown), for tests.
    let threadIdsSnapshot () = lock threadIds (fun () -> threadIds.ToArray())

    /// Jobs in which a worker moved off its caller's CPU, for tests and diagnostics.
    let moveCount () = Volatile.Read(&moves)

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
