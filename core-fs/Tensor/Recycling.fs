/// Recycling of large result arrays. A kernel's result is a fresh array, and an array of 85,000
/// bytes or more lives on the GC's large-object heap, where a fresh one often lands in memory the
/// process has never touched (or has given back to the OS). Its first write then takes a page
/// fault per 4 KB page, and on this project's VM a fault costs about 10 µs: a 4 MB result took
/// 10 ms to fault in, against 0.1 ms to compute. libtorch does not pay this because the C
/// allocator keeps freed blocks. This module keeps freed result arrays the same way.
///
/// An array is reused only after the GC has proved that nothing refers to it: each recycled array
/// is the key of a ConditionalWeakTable entry whose value has a finalizer, so the finalizer runs
/// only once the array itself is unreachable, from every tensor, view and raw reference alike,
/// and then hands the array back instead of letting it be freed. Because a large array is only
/// found dead by a gen-2 collection, and recycling itself starves the GC of the allocations that
/// would trigger one, a collection is requested after every so many recycled bytes handed out, at
/// least 32 MB and more when collections cost a noticeable share of the time between them.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Diagnostics
open System.Runtime
open System.Runtime.CompilerServices

/// The state behind `Recycling` and `TensorMemory`, in one lock.
type internal RecycledArrays private () =
    /// Arrays smaller than this come from the GC's small-object heap, which reuses memory itself.
    static let minimumBytes = 85_000L
    /// The fewest recycled bytes handed out between two requested collections.
    static let smallestTrigger = 32L <<< 20
    static let gate = obj ()
    /// Freed arrays kept for reuse, oldest first.
    static let kept = LinkedList<Array>()
    static let leases = ConditionalWeakTable<Array, obj>()
    static let mutable keptBytes = 0L
    static let mutable limit = 256L <<< 20
    /// Bytes in recycled arrays handed out since the last requested collection.
    static let mutable sinceCollection = 0L
    static let mutable trigger = smallestTrigger
    static let mutable collections = 0
    /// When the last requested collection ended (a Stopwatch timestamp).
    static let mutable lastCollection = 0L

    static let bytesOf (array: Array) =
        int64 array.Length * int64 (Buffer.ByteLength(array) / max 1 array.Length)

    /// Drops the oldest kept arrays (to the GC) until at most `bytes` remain. Caller holds the lock.
    static let trimTo (bytes: int64) =
        while keptBytes > bytes && kept.Count > 0 do
            keptBytes <- keptBytes - bytesOf kept.First.Value
            kept.RemoveFirst()

    static member MinimumBytes = minimumBytes

    /// The spacing after a collection that took `cost` when the previous one ended `interval`
    /// before it (any one time unit): doubled (up to 64 GB) when the collection took more than a
    /// quarter of the interval, halved (down to 32 MB) when it took less than a twentieth.
    static member NextTrigger(trigger: int64, cost: float, interval: float) =
        if cost * 4.0 > interval then min (trigger * 2L) (64L <<< 30)
        elif cost * 20.0 < interval then max smallestTrigger (trigger / 2L)
        else trigger

    /// Called by a lease's finalizer: the array is unreachable, so it may be handed out again.
    static member GiveBack(array: Array) =
        lock gate (fun () ->
            let bytes = bytesOf array
            if bytes <= limit then
                kept.AddLast array |> ignore
                keptBytes <- keptBytes + bytes
                trimTo limit)

    static member Limit
        with get () = lock gate (fun () -> limit)
        and set (value: int64) =
            if value < 0L then
                raise (ArgumentOutOfRangeException("value", value, "TensorMemory.CacheLimit must be zero or more bytes"))
            lock gate (fun () ->
                limit <- value
                trimTo value)

    static member KeptBytes = lock gate (fun () -> keptBytes)

    /// Recycled bytes handed out between two requested collections, at the moment.
    static member Trigger = lock gate (fun () -> trigger)

    /// Collections this module has requested (for tests and diagnostics).
    static member Collections = lock gate (fun () -> collections)

    static member Clear() = lock gate (fun () -> trimTo 0L)

    /// An array of `count` elements with unspecified contents.
    static member Take<'T>(count: int) : 'T[] =
        let bytes = int64 count * int64 sizeof<'T>
        if bytes < minimumBytes || RecycledArrays.Limit = 0L then
            GC.AllocateUninitializedArray<'T> count
        else
            let reused, collect =
                lock gate (fun () ->
                    // the newest kept array of this type and length: the likeliest to be in cache
                    let mutable node = kept.Last
                    while not (isNull node) && not (node.Value :? 'T[] && node.Value.Length = count) do
                        node <- node.Previous
                    let reused =
                        if isNull node then null
                        else
                            kept.Remove node
                            keptBytes <- keptBytes - bytes
                            node.Value :?> 'T[]
                    sinceCollection <- sinceCollection + bytes
                    let collect = sinceCollection >= trigger
                    if collect then sinceCollection <- 0L
                    reused, collect)
            if collect then RecycledArrays.Collect()
            let array = if isNull reused then GC.AllocateUninitializedArray<'T> count else reused
            leases.AddOrUpdate(array, Lease(array))
            array

    /// Runs a full collection so that dead recycled arrays come back; their finalizers then run on
    /// the finalizer thread while the caller goes on (the kept arrays cover the calls meanwhile).
    /// The spacing adapts to what a collection costs against the time since the last one: it
    /// doubles while collections take more than a quarter of that time (a large managed heap, or
    /// results produced faster than a collection runs) and halves back while they take less than
    /// a twentieth. So on a heap where collections are slow, they become rare and recycling
    /// fades out. Never inside a no-GC region or a low-latency mode the application asked for.
    static member private Collect() =
        if GCSettings.LatencyMode <> GCLatencyMode.NoGCRegion && GCSettings.LatencyMode <> GCLatencyMode.LowLatency then
            let start = Stopwatch.GetTimestamp()
            GC.Collect(2, GCCollectionMode.Forced, true, false)
            let finish = Stopwatch.GetTimestamp()
            lock gate (fun () ->
                let cost = float (finish - start)
                let interval = float (start - lastCollection)
                collections <- collections + 1
                lastCollection <- finish
                trigger <- RecycledArrays.NextTrigger(trigger, cost, interval))

/// Hands a recycled array back when the GC finds it unreachable.
and [<Sealed; AllowNullLiteral>] private Lease(array: Array) =
    override _.Finalize() = RecycledArrays.GiveBack array

/// The memory of large tensors. Results of 85,000 bytes or more (the GC's large objects) are
/// recycled: when the GC finds that nothing refers to one any more (no tensor, view or array
/// reference), its array is kept and handed to a later result of the same dtype and length, as
/// libtorch's allocator does with freed blocks. This spares the page faults of fresh memory, which
/// can cost more than the arithmetic (see the README's Performance section). To let dead arrays
/// come back, the library requests a full garbage collection after every 32 MB or more of
/// recycled results; the spacing grows when collections are slow, and none is requested inside a
/// no-GC region or a low-latency GC mode.
[<AbstractClass; Sealed>]
type TensorMemory =
    /// The most bytes of unused arrays kept for reuse: 256 MB unless set. Zero turns recycling off
    /// (every result is then a fresh array, and no collection is requested).
    static member CacheLimit
        with get () : int64 = RecycledArrays.Limit
        and set (value: int64) = RecycledArrays.Limit <- value

    /// The bytes of unused arrays kept at this moment.
    static member CachedBytes : int64 = RecycledArrays.KeptBytes

    /// Gives every kept array back to the garbage collector.
    static member ClearCache() : unit = RecycledArrays.Clear()
