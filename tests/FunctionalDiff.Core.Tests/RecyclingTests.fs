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

/// Two rounds of collection and finalization: a dead array's lease hands it back at its second
/// finalization.
let private collectFully () =
    for _ in 1 .. 2 do
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

/// An object whose finalizer stores its tensor in a static list, reviving it.
type private Holder(tensor: Tensor) =
    static member val Rescued = ResizeArray<Tensor>()
    override _.Finalize() = lock Holder.Rescued (fun () -> Holder.Rescued.Add tensor)

/// A holder of `input k + input k`, dropped at once.
[<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)>]
let private holdAndDrop (k: int) = Holder(Elementwise.binary BinaryOp.Add (input k) (input k)) |> ignore

/// A long weak reference to the storage of `make ()`'s result, which is dropped at once.
[<System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)>]
let private storageOf (make: unit -> Tensor) = WeakReference((make ()).Storage, true)

/// Runs `body` with TensorMemory.CacheLimit set to `limit`, then restores it. Recycling is off by
/// default; every test that needs it turns it on in this scope, so no other test depends on it.
let private withLimit (limit: int64) (body: unit -> unit) =
    let before = TensorMemory.CacheLimit
    try
        TensorMemory.CacheLimit <- limit
        body ()
    finally
        TensorMemory.CacheLimit <- before

let private reuses (dropped: seq<WeakReference>) (storage: Array) =
    dropped |> Seq.exists (fun reference -> obj.ReferenceEquals(reference.Target, storage))


/// Fills the kept arrays with NaN-filled arrays of `count` elements of `dtype`, so that a kernel
/// taking one and failing to write every element shows NaN where the reference loop has a number.
/// Call it with recycling on.
let private poison (dtype: DType) (count: int) =
    let make () = for _ in 1 .. 4 do Tensor.Full([| count |], nan, dtype) |> ignore
    make ()
    collectFully ()

/// x[i, j] = sin(0.37 i + 0.11 j) for an m × n float64 matrix, and its row-major values.
let private grid (m: int) (n: int) =
    let values = Array.init (m * n) (fun e -> sin (0.37 * float (e / n) + 0.11 * float (e % n)))
    Tensor.ofArray64 [| m; n |] values, values

/// Every kernel that takes a recycled array, at a size that is recycled (results of 96 KB and
/// more), each result against a reference loop: name, the result, and the expected values.
let private staleDataCases : (string * (unit -> Tensor) * (unit -> float[])) list =
    // 400 × 300: 120,000 elements, above every parallel threshold of the elementwise kernels
    let m, n = 400, 300
    let x, xs = grid m n
    let wide, ws = grid 3 24000
    let tall, ts = grid 24000 3
    let at (values: float[]) columns i j = values.[i * columns + j]
    [ "unary exp", (fun () -> Elementwise.unary UnaryOp.Exp x), (fun () -> xs |> Array.map exp)
      "binary add with a broadcast row",
        (fun () -> Elementwise.binary BinaryOp.Add x (Tensor.ofArray64 [| n |] (Array.init n float))),
        (fun () -> Array.init (m * n) (fun e -> xs.[e] + float (e % n)))
      "where", (fun () -> Elementwise.where (Elementwise.binary BinaryOp.Greater x (Tensor.Scalar(0.0, DType.Float64))) x (Tensor.Scalar(-1.0, DType.Float64))),
        (fun () -> xs |> Array.map (fun v -> if v > 0.0 then v else -1.0))
      "contiguous copy of a transpose", (fun () -> (Structural.transpose x).Contiguous()),
        (fun () -> Array.init (m * n) (fun e -> at xs n (e % m) (e / m)))
      "sum over the leading axis (rows added)", (fun () -> Reduction.reduce ReduceOp.Sum [| 0 |] false wide),
        (fun () -> Array.init 24000 (fun j -> at ws 24000 0 j + at ws 24000 1 j + at ws 24000 2 j))
      "max over the last axis (runs)", (fun () -> Reduction.reduce ReduceOp.Max [| 1 |] false tall),
        (fun () -> Array.init 24000 (fun i -> max (at ts 3 i 0) (max (at ts 3 i 1) (at ts 3 i 2))))
      "argmax over the leading axis", (fun () -> Reduction.argmax 0 false wide),
        (fun () -> Array.init 24000 (fun j ->
            let column = [| for i in 0 .. 2 -> at ws 24000 i j |]
            float (Array.findIndex (fun v -> v = Array.max column) column)))
      "gather along the leading axis",
        (fun () -> Structural.gather 0 (Tensor.ofArray64 [| 2; 24000 |] (Array.init 48000 (fun e -> float ((e / 24000 + e) % 3)))) wide),
        (fun () -> Array.init 48000 (fun e -> at ws 24000 ((e / 24000 + e) % 3) (e % 24000)))
      "scatter-add along the leading axis",
        (fun () -> Structural.scatterAdd 0 (Tensor.ofArray64 [| 2; 24000 |] (Array.init 48000 (fun e -> float (e % 2)))) (Structural.sliceAxis 0 0 2 1 wide) [| 3; 24000 |]),
        (fun () ->
            let result = Array.zeroCreate 72000
            for e in 0 .. 47999 do
                let i, j = e / 24000, e % 24000
                result.[(e % 2) * 24000 + j] <- result.[(e % 2) * 24000 + j] + at ws 24000 i j
            result)
      "pad by one on every side", (fun () -> Structural.pad [| 1; 1 |] [| 1; 1 |] x),
        (fun () -> Array.init ((m + 2) * (n + 2)) (fun e ->
            let i, j = e / (n + 2) - 1, e % (n + 2) - 1
            if i < 0 || i >= m || j < 0 || j >= n then 0.0 else at xs n i j))
      "concat along the leading axis", (fun () -> Structural.concat 0 [| x; x |]),
        (fun () -> Array.append xs xs)
      "cast to float32 and back", (fun () -> (x.Cast DType.Float32).Cast DType.Float64),
        (fun () -> xs |> Array.map (fun v -> float (float32 v)))
      "sum over an empty axis (filled)", (fun () -> Reduction.reduce ReduceOp.Sum [| 0 |] false (Tensor.Zeros([| 0; 24000 |], DType.Float64))),
        (fun () -> Array.zeroCreate 24000)
      // 400 × 128 · 128 × 300: 15 million multiply-adds, split over the cores
      "matmul", (fun () -> LinearAlgebra.matmul (Structural.sliceAxis 1 0 128 1 x) (fst (grid 128 n))),
        (fun () ->
            let _, bs = grid 128 n
            Array.init (m * n) (fun e ->
                let i, j = e / n, e % n
                let mutable total = 0.0
                for p in 0 .. 127 do total <- total + at xs n i p * at bs n p j
                total))
      // four 100 × 64 · 64 × 120 products: each too small to split, the batch is spread instead
      "batched matmul",
        (fun () -> LinearAlgebra.matmul (Structural.reshape [| 4; 100; 64 |] (Structural.sliceAxis 1 0 64 1 x)) (Structural.reshape [| 4; 64; 120 |] (fst (grid 256 120)))),
        (fun () ->
            let _, bs = grid 256 120
            Array.init (4 * 100 * 120) (fun e ->
                let batch, i, j = e / 12000, (e % 12000) / 120, e % 120
                let mutable total = 0.0
                for p in 0 .. 63 do total <- total + at xs n (batch * 100 + i) p * bs.[(batch * 64 + p) * 120 + j]
                total)) ]

[<Tests>]
let tests =
    testList "Tensor" [
        // sequenced: the tests turn recycling on (and one checks the default) for their duration
        testSequenced <| testList "Recycling" [
            test "off by default: no lease keeps a dropped result, no collection is requested" {
                Expect.equal TensorMemory.CacheLimit 0L "CacheLimit is 0 unless the application sets it"
                let requested = RecycledArrays.Collections
                // twice the spacing of requested collections in recycled-size results
                let results = int (2L * RecycledArrays.Trigger / (int64 length * 8L)) + 1
                for k in 0 .. results - 1 do
                    Elementwise.binary BinaryOp.Add (input k) (input k) |> ignore
                Expect.equal RecycledArrays.Collections requested (sprintf "no collection requested over %d large results" results)
                // A lease's finalizer would hold the array through the first collection, which a
                // long weak reference (one that follows resurrection) would still see.
                let reference = storageOf (fun () -> Elementwise.binary BinaryOp.Add (input 1) (input 1))
                GC.Collect()
                GC.WaitForPendingFinalizers()
                Expect.isNull reference.Target "one collection frees a dropped large result"
                Expect.equal TensorMemory.CachedBytes 0L "nothing kept"
            }
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
                        dropped, kept, views
                    let results = [ for thread in 0 .. 2 -> Task.Run(fun () -> work thread) ] |> List.map (fun task -> task.Result)
                    let dropped = results |> List.collect (fun (dropped, _, _) -> List.ofSeq dropped)
                    let next = Elementwise.binary BinaryOp.Add (input 7) (input 7)
                    Expect.isTrue (reuses dropped next.Storage) "the next result of that length takes a dropped array"
                    Expect.equal (next.ToDoubleArray()) (doubled 7) "and holds its own values"
                    // The kept results stay alive until here: had they died when their threads ended,
                    // a collection started by the allocations above could hand one of their arrays
                    // (not a dropped one) to `next`, and the check would fail for the wrong reason.
                    for _, kept, views in results do
                        expectIntact kept views)
            }
            test "a tensor that a dying object's finalizer stores away keeps its values" {
                // The lease of an array dies in the same collection as the holder; its array must not
                // be handed out while the holder's finalizer can still revive the tensor.
                withLimit (4L <<< 30) (fun () ->
                    holdAndDrop 11
                    collectFully ()
                    for k in 0 .. 19 do Tensor.Full([| length |], float k, DType.Float64) |> ignore
                    collectFully ()
                    for _ in 0 .. 19 do Tensor.Full([| length |], -1.0, DType.Float64) |> ignore
                    let rescued = lock Holder.Rescued (fun () -> List.ofSeq Holder.Rescued)
                    Expect.equal rescued.Length 1 "the holder's finalizer ran"
                    Expect.equal (rescued.Head.ToDoubleArray()) (doubled 11) "the rescued tensor holds its own values")
            }
            test "a full collection is requested within every Trigger bytes of recycled results" {
                // without it, the kept arrays starve the GC of the allocations that start one, and
                // dead arrays stop coming back (seen in the benchmark: every result fresh)
                withLimit (256L <<< 20) (fun () ->
                    let requested, collected = RecycledArrays.Collections, GC.CollectionCount 2
                    let results = int (RecycledArrays.Trigger / (int64 length * 8L)) + 1
                    for k in 0 .. results - 1 do
                        Elementwise.binary BinaryOp.Add (input k) (input k) |> ignore
                    Expect.isGreaterThan RecycledArrays.Collections requested (sprintf "requested within %d results" results)
                    Expect.isGreaterThan (GC.CollectionCount 2) collected "and run")
            }
            test "collections are spaced out while they are slow and drawn closer while cheap" {
                let mb (n: int64) = n <<< 20
                // (spacing, cost, interval) -> spacing after: cost above a quarter doubles, below a twentieth halves
                let cases =
                    [ mb 32L, 1.0, 3.0, mb 64L           // a third of the time: double
                      mb 64L, 1.0, 10.0, mb 64L          // a tenth: keep
                      mb 64L, 1.0, 30.0, mb 32L          // a thirtieth: halve
                      mb 32L, 1.0, 100.0, mb 32L         // never below 32 MB
                      (64L <<< 30), 5.0, 1.0, (64L <<< 30) ] // never above 64 GB
                for spacing, cost, interval, expected in cases do
                    Expect.equal (RecycledArrays.NextTrigger(spacing, cost, interval)) expected
                        (sprintf "%d MB after a collection of %g in %g" (spacing >>> 20) cost interval)
                // a heap whose collections always take half the time between them: the spacing
                // keeps doubling, so requested collections become rare rather than constant
                let mutable spacing = mb 32L
                for _ in 1 .. 10 do spacing <- RecycledArrays.NextTrigger(spacing, 1.0, 2.0)
                Expect.equal spacing (mb 32L * 1024L) "ten slow collections: 1024 times the spacing"
            }
            test "a loop that drops its results mostly gets reused arrays" {
                // Without recycling every result would be a fresh array. Arrays come back two
                // requested collections after they die, and the spacing of collections adapts to
                // their cost in this process, so the loop runs for sixteen spacings (as they are
                // when it checks) and counts fresh arrays over its second half only, with a limit
                // that can keep several spacings' worth.
                withLimit (64L <<< 30) (fun () ->
                    let bytes = int64 length * 8L
                    let seen = Collections.Generic.Dictionary<int, ResizeArray<WeakReference>>()
                    let fresh = ResizeArray<bool>()
                    while fresh.Count < 200_000 && int64 fresh.Count * bytes < 16L * RecycledArrays.Trigger do
                        let k = fresh.Count
                        let storage = (Elementwise.binary BinaryOp.Add (input k) (input k)).Storage
                        let hash = Runtime.CompilerServices.RuntimeHelpers.GetHashCode storage
                        match seen.TryGetValue hash with
                        | true, references when reuses references storage -> fresh.Add false
                        | true, references ->
                            fresh.Add true
                            references.Add(WeakReference(storage, true))
                        | _ ->
                            fresh.Add true
                            seen.[hash] <- ResizeArray [ WeakReference(storage, true) ]
                    let half = fresh.Count / 2
                    let freshLater = Seq.skip half fresh |> Seq.filter id |> Seq.length
                    Expect.isLessThan freshLater ((fresh.Count - half) / 2)
                        (sprintf "%d of the last %d results (of %d) were fresh arrays" freshLater (fresh.Count - half) fresh.Count))
            }
            test "setting CacheLimit back to 0 drops what was kept, and nothing is kept or reused after" {
                let before = TensorMemory.CacheLimit
                try
                    TensorMemory.CacheLimit <- 256L <<< 20
                    for k in 0 .. 9 do
                        Elementwise.binary BinaryOp.Add (input k) (input k) |> ignore
                    collectFully ()
                    Expect.isGreaterThan TensorMemory.CachedBytes 0L "arrays kept while on"
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
                    Expect.isGreaterThan TensorMemory.CachedBytes 0L "dropped arrays kept"
                    Expect.isLessThanOrEqual TensorMemory.CachedBytes (3L * bytes) "at most three arrays kept"
                    TensorMemory.ClearCache()
                    Expect.equal TensorMemory.CachedBytes 0L "cleared"
                finally
                    TensorMemory.CacheLimit <- before
            }
            testList "a kernel given a used array writes every element" [
                for name, make, expected in staleDataCases ->
                    test name {
                      withLimit (256L <<< 20) (fun () ->
                        let reference = expected ()
                        // a first result reveals the dtype and length to poison
                        let first = make ()
                        poison first.DType first.Numel
                        poison DType.Float32 first.Numel
                        let result = make ()
                        let actual = result.ToDoubleArray()
                        Expect.equal actual.Length reference.Length "length"
                        for e in 0 .. reference.Length - 1 do
                            if abs (actual.[e] - reference.[e]) > 1e-9 * (1.0 + abs reference.[e]) || Double.IsNaN actual.[e] then
                                failtestf "element %d: %g, reference %g" e actual.[e] reference.[e])
                    }
            ]
            test "a negative CacheLimit is refused" {
                let error = Expect.throwsC (fun () -> TensorMemory.CacheLimit <- -1L) id
                Expect.isTrue (error :? ArgumentOutOfRangeException) "ArgumentOutOfRangeException"
                Expect.stringContains error.Message "CacheLimit" "names the setting"
            }
            test "small results are not recycled" {
                // below the large-object size the GC's own nursery reuses memory better
                withLimit (256L <<< 20) (fun () ->
                    let zeros = Tensor.ofArray64 [| 100 |] (Array.zeroCreate 100)
                    let reference = storageOf (fun () -> Elementwise.binary BinaryOp.Add zeros zeros)
                    collectFully ()
                    collectFully ()
                    Expect.isNull reference.Target "a small result's array is freed, not kept")
            }
        ]
    ]
