/// Recycling of large result arrays. Arrays of disposed tensors (Tensor.Dispose, on by default,
/// bounded by `TensorMemory.DisposedCacheLimit`) need neither finalizers nor collections: Dispose
/// is the proof that the array is free. The rest of this header is about the other source, the
/// GC's proof, opt-in and off by default (`TensorMemory.CacheLimit` = 0). A
/// library must not request collections or rely on finalizers in its host's process unless asked
/// to, and compiled plans reuse their buffers without either. The README's "Memory of large
/// tensors" gives the measurement behind the default (fewer page faults with recycling on, but a
/// higher peak working set and no fewer gen-2 collections) and the command that repeats it.
///
/// Why it exists: a kernel's result is a fresh array, and an array of 85,000
/// bytes or more lives on the GC's large-object heap, where a fresh one often lands in memory the
/// process has never touched (or has given back to the OS). Its first write then takes a page
/// fault per 4 KB page, and on this project's VM a fault costs about 10 µs: a 4 MB result took
/// 10 ms to fault in, against 0.1 ms to compute. libtorch does not pay this because the C
/// allocator keeps freed blocks. This module keeps freed result arrays the same way.
///
/// An array is reused only after the GC has proved that nothing refers to it: each recycled array
/// is the key of a ConditionalWeakTable entry whose value (a lease) has a finalizer. The lease is
/// finalized once the array is unreachable from every tensor, view and raw reference; it then
/// registers itself for finalization once more, and hands the array back only when it is
/// finalized a second time. The second round is for other finalizable objects that died in the
/// same collection and refer to the array: their finalizers may still read it, or store it
/// somewhere live again, and they have all run (or still keep the array reachable) by then.
/// Because a large array is only found dead by a gen-2 collection, and recycling itself starves
/// the GC of the allocations that would trigger one, a collection is requested after every so many
/// recycled bytes handed out, at least 32 MB and more when collections cost a noticeable share of
/// the time between them.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Diagnostics
open System.Runtime
open System.Runtime.CompilerServices
open System.Threading

/// A kept array and its size in bytes, linked into the list of all kept arrays (oldest first)
/// and into the list of its own type and length.
type private KeptArray(array: Array, bytes: int64, disposed: bool) =
    member _.Array = array
    member _.Bytes = bytes
    /// True for an array a disposed tensor gave back (DisposedCacheLimit bounds those), false for
    /// one a lease gave back (CacheLimit bounds those).
    member _.FromDispose = disposed
    member val InAll: LinkedListNode<KeptArray> = null with get, set
    member val InSize: LinkedListNode<KeptArray> = null with get, set

/// The kept arrays and the collection spacing behind `Take` and `TensorMemory`, in one lock.
type internal RecycledArrays private () =
    /// Arrays smaller than this come from the GC's small-object heap, which reuses memory itself.
    static let minimumBytes = 85_000L
    /// The fewest recycled bytes handed out between two requested collections.
    static let smallestTrigger = 32L <<< 20
    static let gate = obj ()
    /// Every kept array, oldest first: trimming drops from the front.
    static let kept = LinkedList<KeptArray>()
    /// The kept arrays of each element type and length, newest last: a request takes the newest,
    /// the likeliest to be in cache.
    static let keptBySize = Dictionary<struct (Type * int), LinkedList<KeptArray>>()
    static let leases = ConditionalWeakTable<Array, obj>()
    static let mutable keptBytes = 0L
    /// The part of keptBytes that disposed tensors gave back.
    static let mutable keptDisposedBytes = 0L
    /// Zero: recycling is off until the application sets a limit.
    static let mutable limit = 0L
    /// The most bytes kept from disposed tensors: their arrays need no finalizer and no
    /// collection (Dispose is the proof that they are free), so this is on by default.
    static let mutable disposedLimit = 256L <<< 20
    /// Arrays handed out again from the kept ones (for tests that count reuse).
    static let mutable reuses = 0L
    /// Bytes in recycled arrays handed out since the last requested collection.
    static let mutable sinceCollection = 0L
    static let mutable trigger = smallestTrigger
    static let mutable collections = 0
    /// When the last requested collection ended (a Stopwatch timestamp).
    static let mutable lastCollection = 0L

    /// Unlinks a kept array from both lists. Caller holds the lock.
    static let forget (entry: KeptArray) =
        kept.Remove entry.InAll
        let sizeList = entry.InSize.List
        sizeList.Remove entry.InSize
        if sizeList.Count = 0 then keptBySize.Remove(struct (entry.Array.GetType(), entry.Array.Length)) |> ignore
        keptBytes <- keptBytes - entry.Bytes
        if entry.FromDispose then keptDisposedBytes <- keptDisposedBytes - entry.Bytes

    /// Drops the oldest kept arrays (to the GC) of each kind until at most `leasedBytes` from leases
    /// and `disposedBytes` from disposed tensors remain. Caller holds the lock.
    static let trimTo (leasedBytes: int64) (disposedBytes: int64) =
        let mutable node = kept.First
        while not (isNull node) && (keptBytes - keptDisposedBytes > leasedBytes || keptDisposedBytes > disposedBytes) do
            let next = node.Next
            let entry = node.Value
            if (if entry.FromDispose then keptDisposedBytes > disposedBytes else keptBytes - keptDisposedBytes > leasedBytes) then
                forget entry
            node <- next

    /// Keeps an array for reuse. Caller holds the lock.
    static let keep (array: Array) (bytes: int64) (fromDispose: bool) =
        let entry = KeptArray(array, bytes, fromDispose)
        entry.InAll <- kept.AddLast entry
        let key = struct (array.GetType(), array.Length)
        let sizeList =
            match keptBySize.TryGetValue key with
            | true, list -> list
            | _ ->
                let list = LinkedList<KeptArray>()
                keptBySize.[key] <- list
                list
        entry.InSize <- sizeList.AddLast entry
        keptBytes <- keptBytes + bytes
        if fromDispose then keptDisposedBytes <- keptDisposedBytes + bytes

    /// The spacing after a collection that took `cost` when the previous one ended `interval`
    /// before it (any one time unit): doubled (up to 64 GB) when the collection took more than a
    /// quarter of the interval, halved (down to 32 MB) when it took less than a twentieth.
    static member NextTrigger(trigger: int64, cost: float, interval: float) =
        if cost * 4.0 > interval then min (trigger * 2L) (64L <<< 30)
        elif cost * 20.0 < interval then max smallestTrigger (trigger / 2L)
        else trigger

    /// Called by a lease's second finalization: the array is unreachable, so it may be handed out
    /// again. Runs on the finalizer thread, so it must not throw.
    static member GiveBack(array: Array, bytes: int64) =
        lock gate (fun () ->
            if bytes <= limit then
                keep array bytes false
                trimTo limit disposedLimit)

    /// Called by Tensor.Dispose with the array of a tensor that made it and shared it with nothing:
    /// no one else can read it, so it may be handed out again at once. Arrays below the large-object
    /// threshold are left to the GC, whose small-object heap reuses memory by itself.
    static member Return(array: Array) =
        let bytes = int64 (Buffer.ByteLength array)
        if bytes >= minimumBytes then
            // A lease (recycling on) would give the array back again once it became unreachable,
            // while a later tensor might be using it: the array is back now, so the lease goes.
            match leases.TryGetValue array with
            | true, lease ->
                leases.Remove array |> ignore
                GC.SuppressFinalize lease
            | _ -> ()
            lock gate (fun () ->
                if bytes <= disposedLimit then
                    keep array bytes true
                    trimTo limit disposedLimit)

    /// The most bytes kept from disposed tensors' arrays.
    static member DisposedLimit
        with get () = lock gate (fun () -> disposedLimit)
        and set (value: int64) =
            if value < 0L then
                raise (ArgumentOutOfRangeException("value", value, "TensorMemory.DisposedCacheLimit must be zero or more bytes"))
            lock gate (fun () ->
                disposedLimit <- value
                trimTo limit value)

    /// The smallest array the GC puts on its large-object heap, in bytes: only those are kept (and lent, see LentSlots).
    static member MinimumBytes = minimumBytes

    /// Arrays handed out again from the kept ones since the process began.
    static member Reuses = Interlocked.Read(&reuses)

    static member Limit
        with get () = lock gate (fun () -> limit)
        and set (value: int64) =
            if value < 0L then
                raise (ArgumentOutOfRangeException("value", value, "TensorMemory.CacheLimit must be zero or more bytes"))
            lock gate (fun () ->
                limit <- value
                // what disposed tensors gave back stays within its own limit
                trimTo value disposedLimit)

    static member KeptBytes = lock gate (fun () -> keptBytes)

    /// Recycled bytes handed out between two requested collections, at the moment.
    static member Trigger = lock gate (fun () -> trigger)

    /// Collections this module has requested (for tests and diagnostics).
    static member Collections = lock gate (fun () -> collections)

    static member Clear() = lock gate (fun () -> trimTo 0L 0L)

    /// An array of `count` elements with unspecified contents.
    static member Take<'T>(count: int) : 'T[] =
        let bytes = int64 count * int64 sizeof<'T>
        // Arrays larger than the limit could never be kept, so they get no lease and do not count
        // towards a collection; with nothing kept (no disposed tensor gave one back) there is
        // nothing to look up either.
        let leased = bytes >= minimumBytes && bytes <= Volatile.Read(&limit)
        if bytes < minimumBytes || (not leased && Volatile.Read(&keptBytes) = 0L) then
            GC.AllocateUninitializedArray<'T> count
        else
            let reused, collect =
                lock gate (fun () ->
                    let reused =
                        match keptBySize.TryGetValue(struct (typeof<'T[]>, count)) with
                        | true, sizeList ->
                            let entry = sizeList.Last.Value
                            forget entry
                            reuses <- reuses + 1L
                            entry.Array :?> 'T[]
                        | _ -> null
                    if leased then sinceCollection <- sinceCollection + bytes
                    let collect = leased && sinceCollection >= trigger
                    if collect then sinceCollection <- 0L
                    reused, collect)
            if collect then RecycledArrays.Collect()
            let array = if isNull reused then GC.AllocateUninitializedArray<'T> count else reused
            if leased then leases.AddOrUpdate(array, Lease(array, bytes))
            array

    /// Runs a full collection so that dead recycled arrays come back; their finalizers then run on
    /// the finalizer thread while the caller goes on (the kept arrays cover the calls meanwhile).
    /// The spacing adapts to what a collection costs against the time since the last one: it
    /// doubles while collections take more than a quarter of that time (a large managed heap, or
    /// results produced faster than a collection runs) and halves back while they take less than
    /// a twentieth. So on a heap where collections are slow, they become rare and recycling
    /// fades out. Never inside a no-GC region or a low-latency mode the application asked for.
    static member private Collect() =
        match GCSettings.LatencyMode with
        | GCLatencyMode.NoGCRegion | GCLatencyMode.LowLatency | GCLatencyMode.SustainedLowLatency -> ()
        | _ ->
            let start = Stopwatch.GetTimestamp()
            GC.Collect(2, GCCollectionMode.Forced, true, false)
            let finish = Stopwatch.GetTimestamp()
            lock gate (fun () ->
                let cost = float (finish - start)
                let interval = float (start - lastCollection)
                collections <- collections + 1
                lastCollection <- finish
                trigger <- RecycledArrays.NextTrigger(trigger, cost, interval))

/// Hands a recycled array back at its second finalization (see the module's header for why not
/// at the first).
and [<Sealed>] private Lease(array: Array, bytes: int64) =
    let mutable finalizedOnce = false
    override this.Finalize() =
        if finalizedOnce then RecycledArrays.GiveBack(array, bytes)
        else
            finalizedOnce <- true
            GC.ReRegisterForFinalize this

/// The large arena slots that plans made for evaluation lend out between their runs (see
/// Plan.LendsSlots). Such a plan lives as long as its graph, and an uncompiled training loop builds a
/// new graph every step (its parameters are new constants), so a new plan: with arenas of their own,
/// each step's large intermediates were fresh large-object arrays, whose pages fault in on first touch
/// and whose allocations start full collections. A run takes its slots from here and gives them back
/// when it ends (nothing outside the run can see them: its results are copied out), so the next
/// step's plan runs in this one's memory. Kept apart from the arrays of disposed tensors: only a
/// plan's slot takes one, and TensorMemory.CachedBytes does not count them. At most `limit` bytes
/// stay: the oldest go to the collector first.
[<AbstractClass; Sealed>]
type internal LentSlots =
    static let gate = obj ()
    /// Oldest first: a full store drops from the front, so the sizes the latest runs used stay.
    static let kept = List<Array>()
    static let mutable bytes = 0L
    static let limit = 64L <<< 20

    /// An array of `count` elements with unspecified contents: the newest kept one of that type and
    /// length if any (a store holds at most a few hundred, of a few sizes).
    static member Take<'T>(count: int) : 'T[] =
        let mutable found: 'T[] = null
        // Monitor rather than `lock`, whose closure would be an allocation per slot per run
        Threading.Monitor.Enter gate
        try
            let mutable i = kept.Count - 1
            while isNull found && i >= 0 do
                match kept.[i] with
                | :? ('T[]) as a when a.Length = count ->
                    found <- a
                    kept.RemoveAt i
                    bytes <- bytes - int64 (Buffer.ByteLength a)
                | _ -> i <- i - 1
        finally
            Threading.Monitor.Exit gate
        if isNull found then GC.AllocateUninitializedArray<'T> count else found

    /// Keeps a slot the run that held it is done with, dropping the oldest kept ones beyond the limit.
    static member Return(array: Array) =
        let size = int64 (Buffer.ByteLength array)
        if size <= limit then
            Threading.Monitor.Enter gate
            try
                kept.Add array
                bytes <- bytes + size
                let mutable dropped = 0
                let mutable over = bytes - limit
                while over > 0L do
                    let first = int64 (Buffer.ByteLength kept.[dropped])
                    bytes <- bytes - first
                    over <- over - first
                    dropped <- dropped + 1
                if dropped > 0 then kept.RemoveRange(0, dropped)
            finally
                Threading.Monitor.Exit gate

    /// The bytes kept at this moment.
    static member Bytes =
        Threading.Monitor.Enter gate
        try bytes finally Threading.Monitor.Exit gate

    /// Drops every kept slot.
    static member Clear() =
        Threading.Monitor.Enter gate
        try
            kept.Clear()
            bytes <- 0L
        finally
            Threading.Monitor.Exit gate

/// The memory of large tensors. By default every kernel result is a fresh array that the garbage
/// collector reclaims as usual: the library requests no collections and registers no finalizers.
///
/// Setting `CacheLimit` above zero turns on recycling, which trades both of those for fewer page
/// faults. Results of kernels (elementwise ops, matmul, reductions, structural copies, casts, zeros
/// and fills) of 85,000 bytes or more, the GC's large objects, no larger than the limit, then each
/// get a lease: a small object with a finalizer, tied to the array by a ConditionalWeakTable. When
/// the GC finds the array unreachable (no tensor, view or array reference, and no finalizer of an
/// object that died with it), the lease's second finalization keeps the array, up to `CacheLimit`
/// bytes, for a later result of the same dtype and length, as libtorch's allocator does with freed
/// blocks. Because large arrays are only found dead by a full collection, the library then calls
/// `GC.Collect` (full, blocking, not compacting) after every 32 MB or more of recycled results;
/// the spacing doubles while a collection costs more than a quarter of the time since the last
/// one, and no collection is requested inside a no-GC region or a low-latency GC mode. Tensors
/// made from your own arrays (FromArray) are copies and are not recycled.
[<AbstractClass; Sealed>]
type TensorMemory =
    /// The most bytes of unused arrays kept for reuse. Zero, the default, keeps recycling off: every
    /// result is a fresh array, no finalizer is registered and no collection is requested. A
    /// positive value turns recycling on, with the finalizers and requested full collections the
    /// type's summary describes. Setting zero again drops what leases gave back (disposed tensors' arrays stay, within DisposedCacheLimit); leases already handed out
    /// still finalize, and their arrays then go to the GC.
    static member CacheLimit
        with get () : int64 = RecycledArrays.Limit
        and set (value: int64) = RecycledArrays.Limit <- value

    /// The most bytes of arrays kept from disposed tensors (256 MB by default; zero keeps none).
    /// A tensor that made its array and shared it with nothing hands a large array (85,000 bytes
    /// or more) back when disposed, for the next result of its dtype and length; this needs no
    /// finalizer and no collection, so it is on by default. Oldest arrays are dropped first.
    static member DisposedCacheLimit
        with get () : int64 = RecycledArrays.DisposedLimit
        and set (value: int64) = RecycledArrays.DisposedLimit <- value

    /// The bytes of unused arrays kept at this moment.
    static member CachedBytes : int64 = RecycledArrays.KeptBytes

    /// Gives every kept array back to the garbage collector, and the large buffers that evaluation
    /// (Eval, EvalMany) keeps between runs for the next graph's plan (up to 64 MB, not counted in
    /// CachedBytes).
    static member ClearCache() : unit =
        RecycledArrays.Clear()
        LentSlots.Clear()
