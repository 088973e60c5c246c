/// KernelSupport: what every CPU kernel shares: when to go parallel, dense access to storage,
/// dtype promotion, and the row plan that walks a broadcast output one contiguous run at a time.
namespace FunctionalDiff.Core

open System
open System.Runtime.ExceptionServices
open System.Threading

/// A broadcast iteration folded to the fewest dimensions: the output is `Rows` runs of `Length`
/// elements; each operand advances by `InnerStrides.[k]` (0 or 1) inside a run, and its run
/// starts at the position found by decomposing the row index over `OuterShape`/`OuterStrides.[k]`.
type internal RowPlan =
    { Rows: int
      Length: int
      OuterShape: int[]
      OuterStrides: int[][]
      InnerStrides: int[] }

/// One loop over the indices [0, Count) shared by the calling thread and pool helpers. Each
/// participant claims the next index from a counter, so a helper that starts late (waking an
/// idle pool thread takes from 0.2 to several ms on a busy 2-vCPU guest) just finds less work,
/// and the caller never waits for a helper that has not started.
[<Sealed>]
type internal SharedLoop(count: int, body: int -> unit) =
    [<DefaultValue>] val mutable private next: int
    [<DefaultValue>] val mutable private finished: int
    [<DefaultValue>] val mutable private failure: exn

    /// Claims and runs indices until none are left. After a failure the remaining indices are
    /// claimed but skipped, so that `finished` still reaches `count`.
    member this.Run() =
        let mutable index = Interlocked.Increment(&this.next) - 1
        while index < count do
            try
                try
                    if isNull (Volatile.Read(&this.failure)) then body index
                with error -> Interlocked.CompareExchange(&this.failure, error, null) |> ignore
            finally
                Interlocked.Increment(&this.finished) |> ignore
            index <- Interlocked.Increment(&this.next) - 1

    /// Runs the loop on the calling thread with up to `helpers` pool threads, and returns
    /// once every index has run; rethrows the first failure.
    member this.RunWith(helpers: int) =
        for _ in 1 .. helpers do
            ThreadPool.UnsafeQueueUserWorkItem(this, false) |> ignore
        this.Run()
        // at most one index per helper is still running: a short spin, no blocking
        let mutable spinner = SpinWait()
        while Volatile.Read(&this.finished) < count do
            spinner.SpinOnce(-1)
        match Volatile.Read(&this.failure) with
        | null -> ()
        | error -> ExceptionDispatchInfo.Capture(error).Throw()

    interface IThreadPoolWorkItem with
        member this.Execute() = this.Run()

/// Helpers shared by the elementwise, reduction and structural kernels.
module internal KernelSupport =

    /// Element count from which a kernel splits its work over threads. Measured on this 2-vCPU
    /// guest (float32 TensorPrimitives into a preallocated output, back-to-back calls, full JIT,
    /// medians): with `parallelFor` a split Add is level with a serial one at 32K and 64K
    /// (3.8 and 8.5 µs both) and ahead from about 128K (18.5 vs 19.6 µs; 83 vs 155 µs at 1M).
    /// A split Exp loses a little at 32K (25-28 vs 18-22 µs) and wins from 64K (30-33 vs
    /// 39-48 µs; 131 vs 153-191 µs at 256K). The helper mostly arrives too late to matter
    /// below a few hundred µs of work: waking an idle pool thread took 0.2 ms (median) to 3 ms
    /// here. This middle value serves reductions and copies.
    let parallelThreshold = 32768

    /// The threshold for cheap per-element work (add, compare, copy), which is memory bound.
    let parallelThresholdCheap = 65536

    /// The threshold for transcendental functions, whose per-element cost repays threads sooner.
    /// Through the library (allocation included), float32 Exp and Tanh at 20K elements split
    /// in two were level with serial (14-19 and 21-27 µs either way), so splitting from 16K
    /// bought nothing.
    let parallelThresholdCostly = 32768

    /// Elements per parallel chunk: the caller waits at most one chunk for a helper at the end
    /// (16K float32 Exp: about 10 µs), and 64 claims per 1M elements cost nothing measurable.
    let chunkSize = 16384

    /// Runs `body index` for every index in [0, count) on the calling thread and up to
    /// ProcessorCount - 1 pool threads (see SharedLoop). Cheaper than Parallel.For, which on
    /// this machine often leaves the second core unused for a 1M-element Exp.
    let parallelFor (count: int) (body: int -> unit) =
        let helpers = min (Environment.ProcessorCount - 1) (count - 1)
        if helpers <= 0 then
            for index in 0 .. count - 1 do
                body index
        else SharedLoop(count, body).RunWith helpers

    /// Runs `body start length` over [0, count), split into parallel chunks from `threshold` on.
    let forChunksFrom (threshold: int) (count: int) (body: int -> int -> unit) =
        if count < threshold then
            if count > 0 then body 0 count
        else
            let chunks = (count + chunkSize - 1) / chunkSize
            parallelFor chunks (fun c ->
                let start = c * chunkSize
                body start (min chunkSize (count - start)))

    /// forChunksFrom with the general threshold.
    let forChunks (count: int) (body: int -> int -> unit) = forChunksFrom parallelThreshold count body

    /// The tensor itself when its elements are dense from Offset, else a dense copy.
    let dense (t: Tensor) = if t.IsContiguous then t else t.Contiguous()

    /// The storage as an array of the element type the caller dispatched on.
    let storage<'T> (t: Tensor) = t.Storage :?> 'T[]

    /// float32 meeting float64 computes in float64, as torch promotes.
    let promote (a: DType) (b: DType) = if a = DType.Float64 || b = DType.Float64 then DType.Float64 else DType.Float32

    /// Folds a broadcast iteration to as few dimensions as possible: drops size-1 dimensions and
    /// merges neighbours that every operand walks as one (stride[i] = stride[i+1]·shape[i+1]),
    /// so the inner run is as long as the layouts allow.
    let rowPlan (outShape: int[]) (operandStrides: int[][]) : RowPlan =
        let operands = operandStrides.Length
        let kept = [| 0 .. outShape.Length - 1 |] |> Array.filter (fun i -> outShape.[i] <> 1)
        let dims = ResizeArray<int>()
        let strides = Array.init operands (fun _ -> ResizeArray<int>())
        // build from the innermost dimension outwards, merging into the last dimension added
        for j in kept.Length - 1 .. -1 .. 0 do
            let axis = kept.[j]
            let size = outShape.[axis]
            let last = dims.Count - 1
            let mergeable =
                last >= 0
                && Array.forall (fun k -> operandStrides.[k].[axis] = strides.[k].[last] * dims.[last]) [| 0 .. operands - 1 |]
            if mergeable then dims.[last] <- dims.[last] * size
            else
                dims.Add size
                for k in 0 .. operands - 1 do
                    strides.[k].Add operandStrides.[k].[axis]
        if dims.Count = 0 then
            { Rows = 1; Length = 1; OuterShape = [||]; OuterStrides = Array.create operands [||]; InnerStrides = Array.zeroCreate operands }
        else
            // dims are innermost first; the outer ones are reversed back to outermost first
            let outer = dims.Count - 1
            let outerShape = Array.init outer (fun i -> dims.[outer - i])
            { Rows = Shape.numel outerShape
              Length = dims.[0]
              OuterShape = outerShape
              OuterStrides = Array.init operands (fun k -> Array.init outer (fun i -> strides.[k].[outer - i]))
              InnerStrides = Array.init operands (fun k -> strides.[k].[0]) }

    /// Strides that read any view `t` as if broadcast to `outShape`: its own strides, and 0
    /// along dimensions it lacks or has as 1.
    let viewStrides (t: Tensor) (outShape: int[]) =
        let lead = outShape.Length - t.Rank
        Array.init outShape.Length (fun i -> if i < lead || t.Dims.[i - lead] = 1 then 0 else t.Strides.[i - lead])

    /// A row plan that reads the operands in place (broadcast and outer-axis views cost no copy).
    /// Operands whose inner run would be strided (transposes, steps, inner flips) are copied
    /// dense first, because a contiguous run is what the vectorised kernels need; after that
    /// every inner stride is 0 or 1.
    let planOperands (outShape: int[]) (operands: Tensor[]) : Tensor[] * RowPlan =
        let plan = rowPlan outShape (operands |> Array.map (fun t -> viewStrides t outShape))
        if plan.InnerStrides |> Array.forall (fun s -> s = 0 || s = 1) then operands, plan
        else
            let operands = operands |> Array.mapi (fun k t -> if plan.InnerStrides.[k] = 0 || plan.InnerStrides.[k] = 1 then t else t.Contiguous())
            operands, rowPlan outShape (operands |> Array.map (fun t -> viewStrides t outShape))

    /// Calls `body row starts` for every row, where `starts.[k]` is operand k's element offset
    /// (relative to its own base) at the start of the row; rows run in parallel when the output is large.
    let forRows (plan: RowPlan) (body: int -> int[] -> unit) =
        let operands = plan.InnerStrides.Length
        let runBlock (first: int) (count: int) =
            let starts = Array.zeroCreate operands
            for row in first .. first + count - 1 do
                let mutable rest = row
                for k in 0 .. operands - 1 do
                    starts.[k] <- 0
                for axis in plan.OuterShape.Length - 1 .. -1 .. 0 do
                    let coordinate = rest % plan.OuterShape.[axis]
                    rest <- rest / plan.OuterShape.[axis]
                    for k in 0 .. operands - 1 do
                        starts.[k] <- starts.[k] + coordinate * plan.OuterStrides.[k].[axis]
                body row starts
        let total = int64 plan.Rows * int64 plan.Length
        if total < int64 parallelThreshold || plan.Rows = 1 then runBlock 0 plan.Rows
        else
            let rowsPerBlock = max 1 (chunkSize / max 1 plan.Length)
            let blocks = (plan.Rows + rowsPerBlock - 1) / rowsPerBlock
            parallelFor blocks (fun b ->
                let first = b * rowsPerBlock
                runBlock first (min rowsPerBlock (plan.Rows - first)))
