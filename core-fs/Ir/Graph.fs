/// Whole-graph traversals shared by the transforms, the interpreter and the printer. All are
/// iterative with explicit stacks, so a chain of a million nodes is ordinary input.
namespace FunctionalDiff.Core

open System
open System.Buffers
open System.Numerics
open System.Collections.Generic
open System.Runtime.CompilerServices
open System.Runtime.InteropServices

/// Per-thread reusable scratch sets and maps for traversals. A traversal of a large graph needs
/// tables big enough for the large-object heap; allocating fresh ones per traversal made a loop
/// of build-and-differentiate spend a third of its time in full collections. Tables that grew
/// past a bound are dropped rather than kept, so one huge graph does not pin memory.
type internal Scratch private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private sets: Stack<HashSet<int64>>
    [<ThreadStatic; DefaultValue>]
    static val mutable private maps: Stack<Dictionary<int64, Expr>>

    static let keepAtMost = 1 <<< 17

    /// An empty set of node ids; hand it back with ReturnSet.
    static member RentSet() =
        if isNull Scratch.sets then Scratch.sets <- Stack()
        if Scratch.sets.Count > 0 then Scratch.sets.Pop() else HashSet<int64>()

    /// Gives a set back for reuse.
    static member ReturnSet(set: HashSet<int64>) =
        if set.Count <= keepAtMost && Scratch.sets.Count < 8 then
            set.Clear()
            Scratch.sets.Push set

    /// An empty map from node ids to nodes; hand it back with ReturnMap.
    static member RentMap() =
        if isNull Scratch.maps then Scratch.maps <- Stack()
        if Scratch.maps.Count > 0 then Scratch.maps.Pop() else Dictionary<int64, Expr>()

    /// Gives a map back for reuse.
    static member ReturnMap(map: Dictionary<int64, Expr>) =
        if map.Count <= keepAtMost && Scratch.maps.Count < 8 then
            map.Clear()
            Scratch.maps.Push map

/// Scratch arrays of traversals from the shared ArrayPool. Fresh arrays the size of a graph of 10^5
/// nodes land on the large-object heap, and its budget then triggers a full collection every few
/// traversals, which costs as much as the traversals. The shared pool keeps them between calls and
/// gives memory back to the system itself under pressure (it trims at full collections).
module internal Pool =
    /// An array of at least `length` elements, contents unspecified.
    let rent<'T> (length: int) : 'T[] = ArrayPool<'T>.Shared.Rent(max length 1)

    /// Sets the first `count` elements to the default value, by a loop of ours rather than
    /// Array.Clear (see `release`).
    let private clearFirst<'T> (a: 'T[]) (count: int) =
        let mutable i = 0
        while i < count do
            a.[i] <- Unchecked.defaultof<'T>
            i <- i + 1

    /// An array of at least `length` elements whose first `length` are the default value.
    /// Cleared by the JIT's block initialisation (or our loop, for elements holding references),
    /// not by Array.Clear: see `release`.
    let rentCleared<'T> (length: int) : 'T[] =
        let a = rent<'T> length
        if RuntimeHelpers.IsReferenceOrContainsReferences<'T>() then clearFirst a length
        elif length > 0 then
            // no references: zeroing the bytes is the default value, and the GC never reads them
            let bytes = int64 length * int64 sizeof<'T>
            if bytes <= int64 UInt32.MaxValue then
                let first = &MemoryMarshal.GetArrayDataReference a
                Unsafe.InitBlockUnaligned(&Unsafe.As<'T, byte>(&first), 0uy, uint32 bytes)
            else Array.Clear(a, 0, length)
        a

    /// Gives back an array of which at most the first `used` elements were written: only those
    /// are cleared (when they can hold references, so the pool keeps no node alive). Most
    /// traversals fill a small part of what they rent (a transform of a loop's step rents 1,024
    /// entries for a few dozen nodes), and the pool's own clearing covers the whole array. The
    /// loop is ours rather than Array.Clear: tiered compilation keeps the framework's clearing
    /// code in its slower profiling version for most of a training loop.
    let release<'T> (a: 'T[]) (used: int) =
        if not (isNull a) then
            if RuntimeHelpers.IsReferenceOrContainsReferences<'T>() then clearFirst a (min used a.Length)
            ArrayPool<'T>.Shared.Return(a, false)

    /// Gives an array back (cleared when it can hold references, so the pool keeps no node alive).
    let giveBack<'T> (a: 'T[]) = if not (isNull a) then release a a.Length

    /// A twice larger array with the first `used` elements of `a`, which is given back.
    let grow<'T> (a: 'T[]) (used: int) : 'T[] =
        let b = rent<'T> (2 * a.Length)
        Array.Copy(a, b, used)
        release a used
        b

/// The id tables of one traversal. Ids are dense: a transform's nodes are the ones made since its
/// first fresh Var, so the ids from that Var's to the newest node index flat pages directly,
/// instead of a hash table that costs 20 to 30 bytes per node, grows into the large-object heap
/// and triggers full collections on graphs of 10^5 nodes and more. Pages are made on first touch
/// (a sparse range costs only the page table); ids outside the range, and ranges too wide for
/// the page table to stay small, go to an ordinary hash table.
///
/// An open-ended table (`openEnded`) also takes ids made after it: its range runs 2^25 ids from
/// `low`, and its page table grows as ids arrive, for a walk that records the nodes it builds. Its
/// pages double in size, from 64 ids to 4,096 (then stay at 4,096): page p < 7 holds the 64·2^p ids
/// from low + 64·(2^p − 1), page 7 + j the 4,096 from low + 8,128 + 4,096·j. It cannot know how
/// many ids will come: a transform of a small function makes a few dozen, a long chain's millions,
/// and pages of one fixed size either cleared 4,096 entries for the first or took thousands of
/// small pages (most of them new arrays, beyond what the shared pool keeps) for the second.
[<AbstractClass>]
type internal IdPages<'T>(low: int64, openEnded: bool) =
    // Ranges up to 2^25 ids are dense.
    static let widest = 1L <<< 25
    let newest = Ir.newestId ()
    let high = if openEnded && low <> Int64.MinValue && low <= newest then low + widest - 1L else newest
    let dense = low <> Int64.MinValue && low <= high && high - low < widest
    // 4096 ids a page, or 8192 on a range wider than 16 pages: the shared pool keeps only a few
    // dozen arrays of one type and size per core, and it dropped (so the next traversal allocated
    // again) most of the 60 pages a table of a 10^5-op chain's transform used. Not larger: a page
    // of nodes would be a large object, and a sparse range clears each page it touches. A range
    // narrower than a page gets one page of its own size (a power of two, at least 64): a
    // transform of a small function (a step of a loop) would otherwise clear a whole page per
    // table for a few dozen ids.
    let geometric = openEnded && dense
    let pageBits =
        if dense && (high - low) >>> 12 >= 16L then 13
        elif dense && high - low < 4096L then max 6 (64 - BitOperations.LeadingZeroCount(uint64 (high - low)))
        else 12
    let mutable pages: 'T[][] = null
    // The entries of `pages` in use (cleared when rented); an open-ended table starts with a few
    // and doubles them when a newer id arrives.
    let mutable pageCount = if geometric then 8 elif dense then int ((high - low) >>> pageBits) + 1 else 0
    let lastPage = if geometric then 7 + int ((high - low - 8128L) >>> 12) elif dense then int ((high - low) >>> pageBits) else -1
    /// The page of an id and its slot there, or -1 when the id is outside the dense range.
    member _.Locate(id: int64, slot: byref<int>) =
        if dense && id >= low && id <= high then
            let k = id - low
            if not geometric then
                slot <- int (k &&& ((1L <<< pageBits) - 1L))
                int (k >>> pageBits)
            elif k < 8128L then
                let p = 63 - BitOperations.LeadingZeroCount(uint64 ((k >>> 6) + 1L))
                slot <- int (k - 64L * ((1L <<< p) - 1L))
                p
            else
                let j = k - 8128L
                slot <- int (j &&& 4095L)
                7 + int (j >>> 12)
        else -1
    /// Page p, rented from the pool and cleared on first touch (with the page table).
    member _.Page(p: int) : 'T[] =
        if p >= pageCount then
            let count = min (lastPage + 1) (max (p + 1) (2 * pageCount))
            if not (isNull pages) then
                let grown: 'T[][] = Pool.rentCleared count
                Array.Copy(pages, grown, pageCount)
                Pool.release pages pageCount
                pages <- grown
            pageCount <- count
        if isNull pages then pages <- Pool.rentCleared pageCount
        let mutable page = pages.[p]
        if isNull page then
            page <- Pool.rentCleared (if not geometric then 1 <<< pageBits elif p < 7 then 64 <<< p else 4096)
            pages.[p] <- page
        page
    /// Page p if it was touched, else null.
    member _.Touched(p: int) : 'T[] = if isNull pages || p >= pageCount then null else pages.[p]
    /// Gives the pages back to the pool.
    member _.ReleasePages() =
        if not (isNull pages) then
            for k in 0 .. pageCount - 1 do
                Pool.giveBack pages.[k]
            Pool.release pages pageCount
            pages <- null

/// A set of node ids over IdPages; see there.
[<Sealed>]
type internal IdSet(low: int64) =
    inherit IdPages<bool>(low, false)
    let mutable others: HashSet<int64> = null
    /// Adds the id; false when it was there already.
    member this.Add(id: int64) =
        let mutable slot = 0
        let p = this.Locate(id, &slot)
        if p >= 0 then
            let page = this.Page p
            if page.[slot] then false
            else
                page.[slot] <- true
                true
        else
            if isNull others then others <- Scratch.RentSet()
            others.Add id
    /// Hands the hash table (if one was needed) back to Scratch; the set is empty afterwards.
    member this.Release() =
        if not (isNull others) then
            Scratch.ReturnSet others
            others <- null
        this.ReleasePages()
    /// True when the id was added.
    member this.Contains(id: int64) =
        let mutable slot = 0
        let p = this.Locate(id, &slot)
        if p >= 0 then
            let page = this.Touched p
            not (isNull page) && page.[slot]
        else not (isNull others) && others.Contains id

/// A map from node ids over IdPages (see there); the default value of 'T means "absent", so
/// callers store only values that differ from it (non-null nodes, positions from 1).
[<Sealed>]
type internal IdMap<'T>(low: int64, openEnded: bool) =
    inherit IdPages<'T>(low, openEnded)
    let mutable others: Dictionary<int64, 'T> = null
    /// The value stored for the id, or the default of 'T.
    member this.Item
        with get (id: int64) : 'T =
            let mutable slot = 0
            let p = this.Locate(id, &slot)
            if p >= 0 then
                let page = this.Touched p
                if isNull page then Unchecked.defaultof<'T> else page.[slot]
            elif isNull others then Unchecked.defaultof<'T>
            else
                match others.TryGetValue id with
                | true, v -> v
                | _ -> Unchecked.defaultof<'T>
        and set (id: int64) (value: 'T) =
            let mutable slot = 0
            let p = this.Locate(id, &slot)
            if p >= 0 then (this.Page p).[slot] <- value
            else
                if isNull others then others <- Dictionary<int64, 'T>()
                others.[id] <- value
    /// A map over the ids that exist now from `low` (see IdPages).
    new(low: int64) = IdMap<'T>(low, false)
    /// Gives the pages back to the pool; the map is empty afterwards.
    member this.Release() =
        others <- null
        this.ReleasePages()

/// A per-thread count of the nodes the symbolic layer visits (traversals and substitution plans),
/// so tests can prove that a transform's work does not depend on the graph behind its arguments.
/// Per thread, so tests running in parallel do not see each other's work.
type internal Visits private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private count: int64

    /// The nodes visited on this thread so far.
    static member Count = Visits.count

    /// Records n more visited nodes.
    static member Add(n: int) = Visits.count <- Visits.count + int64 n

/// Traversals over the DAG below one or more roots.
[<RequireQualifiedAccess>]
module Graph =

    /// The nodes reachable from the roots without passing through a node whose id is below
    /// `start`, each once, inputs before the nodes that use them, as the first `count` entries of
    /// an array from the pool, which the caller gives back (Pool.release order count): a fresh array per
    /// transform is a large object for a graph of 10^4 nodes and more, and their budget made the
    /// GC run full collections. Nodes below `start` appear as leaves: their inputs are not visited.
    ///
    /// Why this bound is what a transform needs: ids increase and every input's id is smaller
    /// than its user's, so a node older than a transform's first fresh Var cannot depend on it
    /// (hash-consing returns an existing node only when it is structurally equal to the request,
    /// and no node that existed before the Var can hold it). With `start` the id of that Var,
    /// the walk covers what the transform's function added on top of its arguments and captured
    /// values, and never the history behind them.
    let internal topologicalOrderPooled (start: int64) (roots: Expr seq) : struct (Expr[] * int) =
        let mutable order = Pool.rent<Expr> 1024
        let mutable count = 0
        let visited = IdSet(start)
        // Each stack entry is a node and the index of the next input to visit.
        let mutable stack = Pool.rent<struct (Expr * int)> 1024
        let mutable depth = 0
        // the deepest the stack went: what release clears
        let mutable deepest = 0
        for root in roots do
            if visited.Add root.Id then
                stack.[0] <- struct (root, 0)
                depth <- 1
                deepest <- max deepest 1
            while depth > 0 do
                let struct (node, next) = stack.[depth - 1]
                if next < node.ArgCount && node.Id >= start then
                    stack.[depth - 1] <- struct (node, next + 1)
                    let input = node.Arg next
                    if visited.Add input.Id then
                        if depth = stack.Length then stack <- Pool.grow stack depth
                        stack.[depth] <- struct (input, 0)
                        depth <- depth + 1
                        deepest <- max deepest depth
                else
                    depth <- depth - 1
                    if count = order.Length then order <- Pool.grow order count
                    order.[count] <- node
                    count <- count + 1
        visited.Release()
        Pool.release stack deepest
        Visits.Add count
        struct (order, count)

    /// The nodes reachable from the roots without passing through a node whose id is below
    /// `start`, each once, inputs before the nodes that use them; see topologicalOrderPooled.
    let topologicalOrderFrom (start: int64) (roots: Expr seq) : Expr[] =
        let struct (order, count) = topologicalOrderPooled start roots
        let result = Array.sub order 0 count
        Pool.release order count
        result

    /// Every node reachable from the roots, each once, inputs before the nodes that use them.
    let topologicalOrder (roots: Expr seq) : Expr[] = topologicalOrderFrom Int64.MinValue roots

    /// The number of distinct nodes reachable from the root (shared nodes count once).
    let nodeCount (root: Expr) = (topologicalOrder [ root ]).Length

    /// The free variables below the roots, in order of first appearance: Vars not bound to a
    /// value (see NodeScope.Bindings), and bound ones too below a withheld node, which reads its
    /// Var outside the results it is bound for.
    let variables (roots: Expr seq) =
        let order = topologicalOrder roots
        let withheld = order |> Array.exists (fun e -> e.IsWithheld)
        order |> Array.filter (fun e ->
            match e.Op with
            | Op.Var _ -> withheld || (Ir.boundValue e).IsNone
            | _ -> false)

    /// The nodes this thread's traversals have visited so far; the difference across a call is
    /// the work that call did on graphs.
    let internal visitedNodes () : int64 = Visits.Count
