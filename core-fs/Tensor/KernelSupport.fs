/// KernelSupport: what every CPU kernel shares: when to go parallel, dense access to storage,
/// dtype promotion, the row plan that walks a broadcast output one contiguous run at a time, and
/// streaming (non-temporal) stores for outputs far larger than the caches.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: streaming stores take the address of a pinned array element

open System
open System.Runtime.Intrinsics
open System.Runtime.Intrinsics.X86
open Microsoft.FSharp.NativeInterop

/// A broadcast iteration folded to the fewest dimensions: the output is `Rows` runs of `Length`
/// elements; each operand advances by `InnerStrides.[k]` (0 or 1) inside a run, and its run
/// starts at the position found by decomposing the row index over `OuterShape`/`OuterStrides.[k]`.
type internal RowPlan =
    { Rows: int
      Length: int
      OuterShape: int[]
      OuterStrides: int[][]
      InnerStrides: int[] }

/// A buffer per thread, kept between calls so that a compiled step allocates nothing. `'Owner`
/// is a marker type naming the user: each user gets its own slot, so one kernel's buffer is never
/// handed to another kernel running on the same thread. A buffer is valid until that user's next
/// `Get` on the thread.
type internal ThreadScratch<'Owner, 'T> private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private buffer: 'T[]

    /// A buffer of at least `length` elements. Buffers over `keepAtMost` elements are not kept,
    /// so one huge request does not pin memory on every thread that made it.
    static member Get(length: int, keepAtMost: int) : 'T[] =
        let kept = ThreadScratch<'Owner, 'T>.buffer
        if not (isNull kept) && kept.Length >= length then kept
        else
            let fresh = Array.zeroCreate<'T> length
            if length <= keepAtMost then ThreadScratch<'Owner, 'T>.buffer <- fresh
            fresh

/// Helpers shared by the elementwise, reduction and structural kernels.
module internal KernelSupport =

    /// Element count from which a kernel splits its work over threads. Measured on this 2-vCPU
    /// guest (float32 TensorPrimitives into a preallocated output, back-to-back calls, full JIT,
    /// medians), split into claimed chunks (see Workers.fs): Add is level with a serial one at
    /// 32K and 64K (3.8 and 8.5 µs both) and ahead from about 128K (18.5 vs 19.6 µs; 83 vs
    /// 155 µs at 1M). A split Exp loses a little at 32K (25-28 vs 18-22 µs) and wins from 64K
    /// (30-33 vs 39-48 µs; 131 vs 153-191 µs at 256K). Below a few hundred µs of work a sleeping
    /// thread mostly wakes too late to help: waking an idle pool thread took 0.2 ms (median) to
    /// 3 ms here. This middle value serves reductions and copies.
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

    /// Runs `body start length` over [0, count), split into parallel chunks from `threshold` on.
    let forChunksFrom (threshold: int) (count: int) (body: int -> int -> unit) =
        if count < threshold then
            if count > 0 then body 0 count
        else
            let chunks = (count + chunkSize - 1) / chunkSize
            Workers.run chunks (fun c ->
                let start = c * chunkSize
                body start (min chunkSize (count - start)))

    /// forChunksFrom with the general threshold.
    let forChunks (count: int) (body: int -> int -> unit) = forChunksFrom parallelThreshold count body

    /// The tensor itself when its elements are dense from Offset, else a dense copy.
    let dense (t: Tensor) = if t.IsContiguous then t else t.Contiguous()

    /// The entries before and after `axis`, for kernels that run along one axis (counted in a loop,
    /// not over slices of dims: a plan's step must not allocate).
    let aroundAxis (dims: int[]) (axis: int) =
        let mutable outer, inner = 1, 1
        for a in 0 .. dims.Length - 1 do
            if a < axis then outer <- outer * dims.[a]
            elif a > axis then inner <- inner * dims.[a]
        struct (outer, inner)

    /// A fresh dense tensor of t's shape and dtype whose array `fill` writes (an axis kernel's `into`).
    let freshFilled (t: Tensor) (fill: Array -> unit) : Tensor =
        match t.DType with
        | DType.Float64 ->
            let data = RecycledArrays.Take<float> t.Numel
            fill data
            Tensor.OwnDense(Array.copy t.Dims, data)
        | DType.Float32 ->
            let data = RecycledArrays.Take<float32> t.Numel
            fill data
            Tensor.OwnDense(Array.copy t.Dims, data)

    /// The storage as an array of the element type the caller dispatched on.
    let storage<'T> (t: Tensor) = t.Storage :?> 'T[]

    /// float32 meeting float64 computes in float64, as torch promotes.
    let promote (a: DType) (b: DType) = if a = DType.Float64 || b = DType.Float64 then DType.Float64 else DType.Float32

    /// Folds a broadcast iteration to as few dimensions as possible: drops size-1 dimensions and
    /// merges neighbours that every operand walks as one (stride[i] = stride[i+1]·shape[i+1]),
    /// so the inner run is as long as the layouts allow.
    let rowPlan (outShape: int[]) (operandStrides: int[][]) : RowPlan =
        let operands = operandStrides.Length
        // loops rather than ranges, Array.filter and Array.forall: every eager elementwise call
        // plans its rows here, and FSharp.Core's generic code starts unoptimised under tiering
        let kept = ResizeArray<int>(outShape.Length)
        for i in 0 .. outShape.Length - 1 do
            if outShape.[i] <> 1 then kept.Add i
        let dims = ResizeArray<int>()
        let strides = Array.init operands (fun _ -> ResizeArray<int>())
        // build from the innermost dimension outwards, merging into the last dimension added
        for j in kept.Count - 1 .. -1 .. 0 do
            let axis = kept.[j]
            let size = outShape.[axis]
            let last = dims.Count - 1
            let mergeable =
                last >= 0
                && (let mutable all = true
                    for k in 0 .. operands - 1 do
                        if operandStrides.[k].[axis] <> strides.[k].[last] * dims.[last] then all <- false
                    all)
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

    /// True when every operand of a row plan steps by 0 or 1 inside a run, as the vectorised
    /// kernels need (a loop, not Array.forall: see rowPlan).
    let innerStridesUnit (plan: RowPlan) =
        let mutable unit = true
        for s in plan.InnerStrides do
            if s <> 0 && s <> 1 then unit <- false
        unit

    /// A row plan that reads the operands in place (broadcast and outer-axis views cost no copy).
    /// Operands whose inner run would be strided (transposes, steps, inner flips) are copied
    /// dense first, because a contiguous run is what the vectorised kernels need; after that
    /// every inner stride is 0 or 1.
    let planOperands (outShape: int[]) (operands: Tensor[]) : Tensor[] * RowPlan =
        let plan = rowPlan outShape (operands |> Array.map (fun t -> viewStrides t outShape))
        if innerStridesUnit plan then operands, plan
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
            Workers.run blocks (fun b ->
                let first = b * rowsPerBlock
                runBlock first (min rowsPerBlock (plan.Rows - first)))

/// Streaming stores: writing an output that no cache can hold with ordinary stores first reads
/// every line of it from memory (the store has to own the line), then writes it back, so each
/// byte crosses the memory bus twice; a non-temporal store writes whole lines without reading
/// them. A kernel that produces an output of at least `thresholdBytes` computes each run into a
/// small cached buffer as usual and moves it to the output with `copy`. (To see the difference on
/// a machine: fill a 200 MB array with Span.Fill and with Avx.StoreAlignedNonTemporal.)
module internal Streaming =

    /// Outputs from this size on are written with streaming stores: several times the private L2
    /// of a core, so the next step could not have read much of it from cache anyway.
    let thresholdBytes = 16L <<< 20

    /// True when the CPU has the 256-bit streaming store used here.
    let supported = Avx.IsSupported

    /// 512-bit stores write a whole cache line at once.
    let private wide = Avx512F.IsSupported

    /// Copies `bytes` bytes with streaming stores once the target is aligned to a cache line.
    /// Both element types go through bytes: their arrays are aligned to their element size, so
    /// the unaligned head is a whole number of elements.
    let private streamBytes (s: nativeptr<byte>) (t: nativeptr<byte>) (bytes: int64) =
        let head = min bytes (int64 ((64n - (NativePtr.toNativeInt t &&& 63n)) &&& 63n))
        let mutable i = 0L
        while i < head do
            NativePtr.set t (int i) (NativePtr.get s (int i))
            i <- i + 1L
        if wide then
            while i + 64L <= bytes do
                Avx512F.StoreAlignedNonTemporal(NativePtr.ofNativeInt<byte> (NativePtr.toNativeInt t + nativeint i),
                                                Avx512F.LoadVector512(NativePtr.ofNativeInt<byte> (NativePtr.toNativeInt s + nativeint i)))
                i <- i + 64L
        while i + 32L <= bytes do
            Avx.StoreAlignedNonTemporal(NativePtr.ofNativeInt<byte> (NativePtr.toNativeInt t + nativeint i),
                                        Avx.LoadVector256(NativePtr.ofNativeInt<byte> (NativePtr.toNativeInt s + nativeint i)))
            i <- i + 32L
        while i < bytes do
            NativePtr.write (NativePtr.ofNativeInt<byte> (NativePtr.toNativeInt t + nativeint i))
                            (NativePtr.read (NativePtr.ofNativeInt<byte> (NativePtr.toNativeInt s + nativeint i)))
            i <- i + 1L

    let private copy32 (source: float32[]) (sourceStart: int) (target: float32[]) (targetStart: int) (length: int) =
        use s = fixed &source.[sourceStart]
        use t = fixed &target.[targetStart]
        streamBytes (NativePtr.ofNativeInt (NativePtr.toNativeInt s)) (NativePtr.ofNativeInt (NativePtr.toNativeInt t)) (int64 length * 4L)

    let private copy64 (source: float[]) (sourceStart: int) (target: float[]) (targetStart: int) (length: int) =
        use s = fixed &source.[sourceStart]
        use t = fixed &target.[targetStart]
        streamBytes (NativePtr.ofNativeInt (NativePtr.toNativeInt s)) (NativePtr.ofNativeInt (NativePtr.toNativeInt t)) (int64 length * 8L)

    /// Copies `length` elements with streaming stores (an ordinary copy where they are not
    /// supported). Call `fence` before another thread reads what was written.
    let copy<'T> (source: 'T[]) (sourceStart: int) (target: 'T[]) (targetStart: int) (length: int) =
        if length > 0 then
            if not supported then Array.Copy(source, sourceStart, target, targetStart, length)
            elif Type.op_Equality(typeof<'T>, typeof<float32>) then copy32 (box source :?> float32[]) sourceStart (box target :?> float32[]) targetStart length
            elif Type.op_Equality(typeof<'T>, typeof<float>) then copy64 (box source :?> float[]) sourceStart (box target :?> float[]) targetStart length
            else Array.Copy(source, sourceStart, target, targetStart, length)

    /// Orders the streaming stores before every later store (they are weakly ordered otherwise).
    let fence () = if supported then Sse.StoreFence()
