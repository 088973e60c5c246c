module FunctionalDiff.Core.Tests.RecyclingTests

open System
open System.Threading.Tasks
open Expecto
open FunctionalDiff.Core

/// 20,000 float64 values: 160 KB, a large object, so its results are recycled.
let private length = 20_000

let private input (k: int) = Tensor.ofArray64 [| length |] (Array.init length (fun i -> float k + float i * 1e-3))

/// What `input k + input k` holds, by a reference loop.
let private doubled (k: int) = Array.init length (fun i -> 2.0 * (float k + float i * 1e-3))

let private collectFully () =
    GC.Collect()
    GC.WaitForPendingFinalizers()

/// Produces results `first .. first + count - 1`; keeps every third whole and an odd-element
/// slice of every fifth (the view alone holds the array), and returns long weak references
/// (they follow an array through its finalizer) to the storage of all the others.
let private produce (first: int) (count: int) (kept: ResizeArray<int * Tensor>) (views: ResizeArray<int * Tensor>) =
    let dropped = ResizeArray<WeakReference>()
    for k in first .. first + count - 1 do
        let result = Elementwise.binary BinaryOp.Add (input k) (input k)
        if k % 3 = 0 then kept.Add((k, result))
        elif k % 5 = 0 then views.Add((k, Structural.slice [| 1 |] [| length |] [| 2 |] result))
        else dropped.Add(WeakReference(result.Storage, true))
    dropped

/// Checks every kept tensor and view against the reference loop.
let private expectIntact (kept: ResizeArray<int * Tensor>) (views: ResizeArray<int * Tensor>) =
    for k, tensor in kept do
        Expect.equal (tensor.ToDoubleArray()) (doubled k) (sprintf "result %d unchanged" k)
    for k, view in views do
        let expected = doubled k
        Expect.equal (view.ToDoubleArray()) (Array.init (length / 2) (fun i -> expected.[2 * i + 1])) (sprintf "view of result %d unchanged" k)

/// A long weak reference to the storage of `make ()`'s result, which is dropped at once.
[<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)>]
let private storageOf (make: unit -> Tensor) = WeakReference((make ()).Storage, true)

/// Runs `body` with TensorMemory.CacheLimit set to `limit`, then restores it.
let private withLimit (limit: int64) (body: unit -> unit) =
    let before = TensorMemory.CacheLimit
    try
        TensorMemory.CacheLimit <- limit
        body ()
    finally
        TensorMemory.CacheLimit <- before

let private reuses (dropped: seq<WeakReference>) (storage: Array) =
    dropped |> Seq.exists (fun reference -> obj.ReferenceEquals(reference.Target, storage))

[<Tests>]
let tests =
    testList "Tensor" [
        // sequenced: one test turns recycling off for a moment
        testSequenced <| testList "Recycling" [
            test "results still referenced, whole or through a view, never change while dropped ones are reused" {
                // three threads at once, so that hand-outs and the finalizer's returns interleave;
                // a high limit, so that other tests' arrays running in parallel evict none of ours
                withLimit (4L <<< 30) (fun () ->
                    let work (thread: int) =
                        let kept, views = ResizeArray(), ResizeArray()
                        let dropped = ResizeArray<WeakReference>()
                        for round in 0 .. 5 do
                            dropped.AddRange(produce (thread * 1000 + round * 30) 30 kept views)
                            collectFully ()
                        expectIntact kept views
                        dropped
                    let dropped = [ for thread in 0 .. 2 -> Task.Run(fun () -> work thread) ] |> List.collect (fun task -> List.ofSeq task.Result)
                    let next = Elementwise.binary BinaryOp.Add (input 7) (input 7)
                    Expect.isTrue (reuses dropped next.Storage) "the next result of that length takes a dropped array"
                    Expect.equal (next.ToDoubleArray()) (doubled 7) "and holds its own values")
            }
            test "a full collection is requested within every Trigger bytes of recycled results" {
                // without it, the kept arrays starve the GC of the allocations that start one, and
                // dead arrays stop coming back (seen in the benchmark: every result fresh)
                let requested, collected = RecycledArrays.Collections, GC.CollectionCount 2
                let results = int (RecycledArrays.Trigger / (int64 length * 8L)) + 1
                for k in 0 .. results - 1 do
                    Elementwise.binary BinaryOp.Add (input k) (input k) |> ignore
                Expect.isGreaterThan RecycledArrays.Collections requested (sprintf "requested within %d results" results)
                Expect.isGreaterThan (GC.CollectionCount 2) collected "and run"
            }
            test "a loop that drops its results mostly gets reused arrays" {
                // without recycling every result would be a fresh array; alone this test sees about
                // 5% fresh ones, beside the rest of the suite about 20%
                let results = 4000
                let seen = Collections.Generic.Dictionary<int, ResizeArray<WeakReference>>()
                let mutable fresh = 0
                for k in 0 .. results - 1 do
                    let storage = (Elementwise.binary BinaryOp.Add (input k) (input k)).Storage
                    let hash = Runtime.CompilerServices.RuntimeHelpers.GetHashCode storage
                    match seen.TryGetValue hash with
                    | true, references when reuses references storage -> ()
                    | true, references ->
                        fresh <- fresh + 1
                        references.Add(WeakReference(storage, true))
                    | _ ->
                        fresh <- fresh + 1
                        seen.[hash] <- ResizeArray [ WeakReference(storage, true) ]
                Expect.isLessThan fresh (results / 2) (sprintf "%d of %d results were fresh arrays" fresh results)
            }
            test "with CacheLimit 0 nothing is kept or reused" {
                let before = TensorMemory.CacheLimit
                try
                    TensorMemory.CacheLimit <- 0L
                    Expect.equal TensorMemory.CachedBytes 0L "setting the limit drops what was kept"
                    let dropped = ResizeArray<WeakReference>()
                    for k in 0 .. 9 do
                        let result = Elementwise.binary BinaryOp.Add (input k) (input k)
                        dropped.Add(WeakReference(result.Storage, true))
                    collectFully ()
                    Expect.equal TensorMemory.CachedBytes 0L "nothing kept"
                    let next = Elementwise.binary BinaryOp.Add (input 3) (input 3)
                    Expect.isFalse (reuses dropped next.Storage) "a fresh array"
                    Expect.equal (next.ToDoubleArray()) (doubled 3) "with its own values"
                finally
                    TensorMemory.CacheLimit <- before
            }
            test "CacheLimit bounds what is kept, and ClearCache empties it" {
                let before = TensorMemory.CacheLimit
                try
                    let bytes = int64 length * 8L
                    TensorMemory.CacheLimit <- 3L * bytes
                    for k in 0 .. 9 do
                        Elementwise.binary BinaryOp.Add (input k) (input k) |> ignore
                    collectFully ()
                    Expect.isLessThanOrEqual TensorMemory.CachedBytes (3L * bytes) "at most three arrays kept"
                    TensorMemory.ClearCache()
                    Expect.equal TensorMemory.CachedBytes 0L "cleared"
                finally
                    TensorMemory.CacheLimit <- before
            }
            test "a negative CacheLimit is refused" {
                let error = Expect.throwsC (fun () -> TensorMemory.CacheLimit <- -1L) id
                Expect.isTrue (error :? ArgumentOutOfRangeException) "ArgumentOutOfRangeException"
                Expect.stringContains error.Message "CacheLimit" "names the setting"
            }
            test "small results are not recycled" {
                // below the large-object size the GC's own nursery reuses memory better
                let zeros = Tensor.ofArray64 [| 100 |] (Array.zeroCreate 100)
                let reference = storageOf (fun () -> Elementwise.binary BinaryOp.Add zeros zeros)
                collectFully ()
                collectFully ()
                Expect.isNull reference.Target "a small result's array is freed, not kept"
            }
        ]
    ]
