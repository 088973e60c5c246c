/// Workers: the one team of threads that every parallel kernel shares. A call splits its work
/// into numbered parts; the caller and the team claim parts from a shared counter until none is
/// left, then the caller waits for the parts still running. Because parts are claimed, never
/// assigned, a worker that starts late (or never, on a busy machine) only means the caller does
/// more parts itself: no part waits for a particular thread, so there is nothing to deadlock on.
///
/// After a job, workers spin for a short while before they block. Kernels are usually called
/// back to back, and waking a blocked thread costs tens of microseconds; worse, on the 2-vCPU
/// VM this was tuned on, Linux often placed the woken thread on the caller's own vCPU, where
/// the two ran one after the other: a 512 × 512 float32 product then took the single-core time
/// (2.7 ms) with the second vCPU idle, in about half of all calls. A worker that keeps its CPU
/// busy between calls keeps it, and on Linux a worker that finds itself on its caller's CPU
/// moves off it (see `Placement`).
namespace FunctionalDiff.Core

open System
open System.Diagnostics
open System.Threading

/// One parallel call: `count` parts of `body`, claimed through `Next`, counted down in `Pending`.
[<AllowNullLiteral>]
type private WorkersJob(body: Action<int>, count: int, callerCpu: int) =
    [<DefaultValue>] val mutable Next: int
    [<DefaultValue>] val mutable Pending: int
    [<DefaultValue>] val mutable Failure: exn
    /// The CPU the caller published the job from, as `Thread.GetCurrentProcessorId` saw it.
    member _.CallerCpu = callerCpu

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

/// Linux only: moves a worker thread off its caller's CPU. After a worker sleeps, the kernel
/// often wakes it on the CPU of the thread that woke it, even with the other CPU idle, and the
/// two then share one CPU for as long as the worker stays awake. Measured on the 2-vCPU VM with
/// rounds of three 512 × 512 float32 products after a 50 ms pause, four processes each way:
/// without the move 7 to 17 of every 30-40 timed products ran at one core's speed; with it 1 of
/// 31-45 in three processes (12 of 31 in the fourth), after a single move per process. .NET has
/// no per-thread affinity API on Linux, so this calls the C library's `sched_getaffinity` and
/// `sched_setaffinity` for the worker's own thread, removing one CPU from the set it already had
/// (so a process started under `taskset` keeps its limits); it never touches the caller's
/// thread. Where the calls are unavailable or fail, workers stay where the kernel puts them.
module private Placement =
    [<System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sched_getaffinity")>]
    extern int private getAffinity(int thread, nativeint maskBytes, byte[] mask)

    [<System.Runtime.InteropServices.DllImport("libc", EntryPoint = "sched_setaffinity")>]
    extern int private setAffinity(int thread, nativeint maskBytes, byte[] mask)

    /// Bytes of the CPU mask: room for 1024 CPUs, the kernel's default limit.
    let private maskBytes = 128

    let mutable private available = OperatingSystem.IsLinux()

    /// Removes `cpu` from the CPUs the calling thread may run on (thread 0 means the caller),
    /// unless it is the only one left.
    let avoid (cpu: int) =
        if available && cpu >= 0 && cpu < 8 * maskBytes then
            try
                let mask = Array.zeroCreate<byte> maskBytes
                if getAffinity(0, nativeint maskBytes, mask) <> 0 then available <- false
                else
                    mask.[cpu / 8] <- mask.[cpu / 8] &&& ~~~(1uy <<< (cpu % 8))
                    if Array.exists (fun b -> b <> 0uy) mask then
                        setAffinity(0, nativeint maskBytes, mask) |> ignore
            with _ ->
                // no C library by that name, or no such entry point: leave placement to the kernel
                available <- false

/// The shared team: `Environment.ProcessorCount - 1` background threads, started on first use.
module internal Workers =

    /// How long a worker spins for the next job before it blocks. Long enough to cover the gap
    /// between two kernels of one evaluation, short enough not to hold a core for others long.
    let spinSeconds = 2e-3

    /// Threads in the team besides the caller.
    let helpers = max 0 (Environment.ProcessorCount - 1)

    let private gate = obj ()
    /// The job on offer (null when none) and a version that changes with every job.
    let mutable private current: WorkersJob = null
    let mutable private version = 0L
    /// Workers blocked in Monitor.Wait, so that publishing skips the pulse when all are spinning.
    let mutable private sleepers = 0
    /// 1 while a call owns the team; a second caller (another thread, or a part that itself
    /// calls a parallel kernel) runs its parts alone instead of waiting.
    let mutable private busy = 0
    let mutable private started = 0

    let private workerLoop () =
        let mutable seen = 0L
        while true do
            // spin, then block, until the version moves on
            let deadline = Stopwatch.GetTimestamp() + int64 (spinSeconds * float Stopwatch.Frequency)
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
            if not (isNull job) then
                if Thread.GetCurrentProcessorId() = job.CallerCpu then Placement.avoid job.CallerCpu
                job.RunParts()

    let private start () =
        if Interlocked.Exchange(&started, 1) = 0 then
            for index in 1 .. helpers do
                let thread = Thread(ThreadStart(workerLoop), IsBackground = true, Name = sprintf "FunctionalDiff worker %d" index)
                thread.Start()

    /// Runs `body part` for every part in [0, count) and returns when all have finished. The
    /// caller runs parts too; with one part, no helpers, or the team already busy, it runs them
    /// all itself, in order. The first exception a part throws is rethrown here once every
    /// running part has ended.
    let run (count: int) (body: int -> unit) =
        if count = 1 || (count > 1 && (helpers = 0 || Interlocked.CompareExchange(&busy, 1, 0) <> 0)) then
            for part in 0 .. count - 1 do
                body part
        elif count > 1 then
            try
                start ()
                let job = WorkersJob(Action<int>(body), count, Thread.GetCurrentProcessorId())
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
