/// The node and everything its operators need: the immutable Expr, the hash-consing table that
/// makes structurally equal live nodes one object, and the canonicalising elementwise
/// constructors. They share this file because F# takes operator overloads only from members of
/// the type itself (an extension in another file is ignored by `+`), and the operators must call
/// the real constructors: a fresh process can write `zeros + ones` before touching anything else.
namespace FunctionalDiff.Core

#nowarn "9" // native pointers: the interning table's slots live in native memory (see Ir)

open System
open System.Buffers
open System.Collections.Concurrent
open System.Runtime.CompilerServices
open System.Runtime.InteropServices
open System.Threading
open Microsoft.FSharp.NativeInterop

/// Who builds nodes on this thread: the user's function (the default), or a transform's own work (its rules, its
/// normal forms, its substitutions). A node records which when it is made (Expr.IsPrimal), so that the Rewrite pass
/// can tell the values f computes, which the rules read and which must stay as f computes them, from the derivative
/// graph around them (see Rewrite.simplifyHolding). Per thread: transforms run on several threads at once.
type internal Construction private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private byTransform: bool
    /// True while a transform builds its own nodes on this thread.
    static member ByTransform
        with get () = Construction.byTransform
        and set (value: bool) = Construction.byTransform <- value

    /// f x, its nodes built as the user's function builds them (primal) when `primal`, as a transform's own otherwise.
    static member inline As(primal: bool, f: 'a -> 'b, x: 'a) : 'b =
        let before = Construction.ByTransform
        Construction.ByTransform <- not primal
        try f x finally Construction.ByTransform <- before

/// A symbolic tensor: an op applied to input Exprs, with a static shape and dtype. Building one
/// computes nothing. Nodes are immutable and hash-consed: structurally equal nodes are one object,
/// so reference equality is structural equality.
///
/// The inputs are held in the node itself, not in an array of their own: `first` and `second`
/// (null when absent), and `more` with all of them only for the few ops of three or more inputs.
/// Every node of a large graph outlives the young collections, so an inputs array per node was
/// one more object for each collection to copy, and one more cache miss for every lookup of the
/// hash-consing table and every walk over the graph.
[<Sealed>]
type Expr internal (op: Op, first: Expr, second: Expr, more: Expr[], shape: int[], dtype: DType, id: int64, scope: NodeScope) =
    // The id and the dtype share one field (ids stay far below 2^61; bit 62 is set for float32): a
    // field less in every node, of which a large graph holds millions, every one outliving the
    // young collections that copy it. Bit 61 marks a withheld node (see Withhold), bit 63 a primal node (see IsPrimal).
    let mutable idAndType =
        (match dtype with DType.Float32 -> id ||| (1L <<< 62) | DType.Float64 -> id)
        ||| (if Construction.ByTransform then 0L else Int64.MinValue)
    /// The primitive this node applies.
    member _.Op = op
    /// A copy of the input nodes, in the op's order.
    member _.Inputs: Expr[] =
        if not (isNull more) then Array.copy more
        elif not (isNull (box second)) then [| first; second |]
        elif not (isNull (box first)) then [| first |]
        else [||]
    /// The number of inputs.
    member internal _.ArgCount =
        if not (isNull more) then more.Length
        elif not (isNull (box second)) then 2
        elif not (isNull (box first)) then 1
        else 0
    /// Input k, without a copy, for traversals inside the core.
    member internal _.Arg(k: int) : Expr =
        match k with
        | 0 when not (isNull (box first)) -> first
        | 1 when not (isNull (box second)) -> second
        | _ -> if isNull more then raise (IndexOutOfRangeException()) else more.[k]
    /// The first input (null for a leaf).
    member internal _.First = first
    /// The second input (null for fewer than two).
    member internal _.Second = second
    /// All the inputs of a node of three or more, null for fewer.
    member internal _.More = more
    /// A copy of the static shape.
    member _.Shape = Array.copy shape
    /// The static shape without a copy (nodes share these arrays; nothing writes to them).
    member internal _.Dims = shape
    /// The element type.
    member _.DType = if idAndType &&& (1L <<< 62) <> 0L then DType.Float32 else DType.Float64
    /// The number of dimensions.
    member _.Rank = shape.Length
    /// The number of elements.
    member _.Numel = Shape.numel shape
    /// A process-wide unique number; a node's inputs always have smaller ids.
    member _.Id = idAndType &&& ((1L <<< 61) - 1L)

    /// True for a node made by the user's function rather than by a transform's own work (see Construction), or
    /// rebuilt from such a node by a substitution: a value f computes, where the derivative graph reads it.
    member internal _.IsPrimal = idAndType < 0L

    /// True for a node a transform made over its Var that its results do not reach (an Expr that f
    /// leaked out of the transform): it reads the Var, which is bound to the argument only for the
    /// results, so evaluating it fails as for an unbound Var (see NodeScope.Bindings).
    member internal _.IsWithheld = idAndType &&& (1L <<< 61) <> 0L
    /// Marks the node withheld (under its scope's gate, once the transform is done).
    member internal _.Withhold() = idAndType <- idAndType ||| (1L <<< 61)
    /// Clears the mark: the node was built again from nodes that are not withheld.
    member internal _.Publish() = idAndType <- idAndType &&& ~~~(1L <<< 61)

    /// The C# facade's wrapper of this node, made at most once (see the facade's Expr.Wrap). A
    /// cache, not part of the node's value: it is here because a side table keyed by node (a
    /// ConditionalWeakTable) kept one dependent handle per node, which every collection rescans,
    /// so building a large graph through the facade took time quadratic in its size.
    [<DefaultValue>]
    val mutable internal FacadeWrapper: obj

    /// The table this node is interned in when it depends on a transform's Var (see NodeScope),
    /// null for the process-wide table.
    member internal _.Scope = scope

    /// A short description: op, dtype and shape, never the whole graph. The op is its primitive
    /// name (`less_equal`, `reduce_sum`), without static parameters.
    override _.ToString() =
        let name =
            match op with
            | Op.Var(name, _) -> "var " + name
            | Op.Const t when t.Rank = 0 -> sprintf "const %g" (t.ToScalar())
            | Op.Const _ -> "const"
            | other -> OpName.name other
        let short = if idAndType &&& (1L <<< 62) <> 0L then "f32" else "f64"
        sprintf "Expr(%s : %s%s)" name short (Shape.format shape)

/// The hash-consing table of the nodes that depend on one transform's Var: the nodes a transform
/// builds over its fresh Vars (f's graph, its derivative, their normal forms) live only as long as
/// the transform's work, and a node that depends on a Var can equal no node that does not. So they
/// are interned here, held strongly, instead of in the process-wide table with one weak GC handle
/// each (allocated, read at every rebuild, freed, and scanned by every collection): the table and
/// its nodes reference each other and die together once nothing outside holds one of them. A node
/// goes to the newest scope among its inputs' (a function of the inputs alone, so equal nodes
/// always meet in one table). Only Vars that transforms make for their own use have a scope: a Var
/// a user keeps would hold every graph ever built over it.
and [<Sealed; AllowNullLiteral>] internal NodeScope(serial: int64) =
    /// Orders scopes: a newer scope has a larger serial (its Var's id).
    member _.Serial = serial
    /// Open addressing with linear probing over ints only: slot i is the pair at 2i and 2i + 1, a
    /// hash (0 for an empty slot) and the position of its node in `Nodes`. The slots hold no object
    /// references: a store into a reference array marks its card for the GC, and stores at hashed,
    /// random slots of a large table left so many cards marked that every young collection rescanned
    /// most of the table. The pair shares a cache line: as two arrays, a hit in a large table (a
    /// transform nested in a 10,000-step loop) missed the cache twice before it reached the node.
    member val Slots: int[] = Array.zeroCreate 64 with get, set
    /// The nodes in the order they were made: appended, so stores mark only the cards at its end.
    member val Nodes: Expr[] = Array.zeroCreate 16 with get, set
    member val Count = 0 with get, set
    /// Taken around every lookup: a pullback may be called from several threads.
    member val Gate = System.Threading.Lock() with get
    /// Called (under the gate) with each node made in this scope, once, while a transform follows
    /// its nodes as they are made (see Substitute's NumbersAsMade); null otherwise.
    member val OnMade: Action<Expr> = null with get, set
    /// True once a node with an input from another scope was made here: then this scope's nodes
    /// may depend on another transform's Vars, and it is never sealed.
    member val Mixed = false with get, set
    /// True once the transform that made this scope returned its results over its Vars bound to
    /// the arguments (see Bindings). A sealed scope takes no new node: a node over its nodes goes
    /// to the newest open scope among its inputs, or to the process-wide table, and is only looked
    /// up here. Otherwise a user who keeps a gradient and builds graph after graph over it would
    /// keep all of them (and their tensors) alive for as long as the gradient.
    member val Sealed = false with get, set
    /// The values of the scope's Vars, by Var, once sealed: a transform at tensor arguments returns
    /// the graph it built over its Vars, bound to the arguments, instead of rebuilding every node
    /// of it over the arguments. Null while the transform runs: its Vars have no value inside f.
    member val Bindings: (Expr * Tensor)[] = null with get, set

/// One slot of the hash-consing table: the node's hash (0 while the slot is unused) and a weak
/// GC handle to it, as an IntPtr so the slot array holds no object references.
[<Struct; NoEquality; NoComparison>]
type internal Slot =
    { mutable Hash: int
      mutable Handle: nativeint }

/// A per-thread count of the nodes made (interned for the first time or fresh Vars), so tests can
/// count what a transform builds while other threads build graphs too.
type internal Made private () =
    [<ThreadStatic; DefaultValue>]
    static val mutable private count: int64

    /// The nodes this thread has made so far.
    static member Count = Made.count

    /// Records one more node made.
    static member One() = Made.count <- Made.count + 1L

/// Node creation: the hash-consing table and fresh variables. Only the constructors call
/// `intern`; they have already checked the shapes.
module internal Ir =

    /// True when two int arrays hold the same values (a plain loop: F#'s generic array equality
    /// is slow).
    let sameDims (a: int[]) (b: int[]) =
        a.Length = b.Length
        && (let mutable same = true
            let mutable i = 0
            while same && i < a.Length do
                same <- a.[i] = b.[i]
                i <- i + 1
            same)

    /// The smallest id among some nodes (Int64.MaxValue for none): a transform over Vars walks no
    /// node older than this, since nothing older can depend on them (Graph.topologicalOrderFrom).
    /// A loop, not Array.fold: FSharp.Core's generic code starts unoptimised under tiering.
    let oldestId (nodes: Expr[]) : int64 =
        let mutable oldest = Int64.MaxValue
        for e in nodes do
            oldest <- min oldest e.Id
        oldest

    /// A copy of a node's inputs, to change some: a plain loop, where Array.copy's clone was a
    /// tenth of a rewrite of a large graph.
    let copyArgs (node: Expr) : Expr[] =
        let copy = Array.zeroCreate node.ArgCount
        for k in 0 .. copy.Length - 1 do
            copy.[k] <- node.Arg k
        copy

    /// The node's inputs with input k replaced by `next k`, or null when every `next k` is the
    /// input itself: a rebuild copies the inputs only once one of them changed.
    let inline changedArgs ([<InlineIfLambda>] next: int -> Expr) (node: Expr) : Expr[] =
        let mutable args = null
        for k in 0 .. node.ArgCount - 1 do
            let r = next k
            if not (obj.ReferenceEquals(r, node.Arg k)) then
                if isNull args then args <- copyArgs node
                args.[k] <- r
        args

    /// The absent input (Expr takes no null literal in F#).
    let noNode = Unchecked.defaultof<Expr>

    /// True when two nodes have the very same inputs, in the same order.
    let sameArgs (a: Expr) (b: Expr) =
        a.ArgCount = b.ArgCount
        && (let mutable same = true
            let mutable k = 0
            while same && k < a.ArgCount do
                same <- obj.ReferenceEquals(a.Arg k, b.Arg k)
                k <- k + 1
            same)

    /// True when f holds for some input of the node (a loop: no inputs array is made).
    let inline existsArg ([<InlineIfLambda>] f: Expr -> bool) (node: Expr) =
        let mutable found = false
        let mutable k = 0
        while not found && k < node.ArgCount do
            found <- f (node.Arg k)
            k <- k + 1
        found

    /// A node over an inputs array: the first two inline, and the array kept only for three or more.
    let make (op: Op) (inputs: Expr[]) (shape: int[]) (dtype: DType) (id: int64) (scope: NodeScope) : Expr =
        match inputs.Length with
        | 0 -> Expr(op, noNode, noNode, null, shape, dtype, id, scope)
        | 1 -> Expr(op, inputs.[0], noNode, null, shape, dtype, id, scope)
        | 2 -> Expr(op, inputs.[0], inputs.[1], null, shape, dtype, id, scope)
        | _ -> Expr(op, inputs.[0], inputs.[1], inputs, shape, dtype, id, scope)

    let inline private mix (h: int) (v: int) = (h ^^^ v) * 16777619

    let private hashInts (seed: int) (values: int[]) =
        let mutable h = seed
        for v in values do
            h <- mix h v
        h

    let private scalarBits (t: Tensor) = BitConverter.DoubleToInt64Bits(t.ToScalar())

    let private dtypeCode (d: DType) = match d with DType.Float32 -> 1 | DType.Float64 -> 2

    /// A hash of the op's case and static parameters. Scalar constants hash by value and dtype
    /// (`2.0` written twice is one node); other constants by tensor identity.
    let internal opHash (op: Op) : int =
        match op with
        | Op.Var(_, serial) -> mix 1 (int serial ^^^ int (serial >>> 32))
        | Op.Const t ->
            if t.Rank = 0 then
                let bits = scalarBits t
                mix (mix 2 (int bits ^^^ int (bits >>> 32))) (dtypeCode t.DType)
            else mix 3 (RuntimeHelpers.GetHashCode t)
        | Op.Unary u -> mix 4 (u.GetHashCode())
        | Op.Binary b -> mix 5 (b.GetHashCode())
        | Op.Where -> 6
        | Op.Reduce(r, axes, keepDims) -> hashInts (mix (mix 7 (r.GetHashCode())) (if keepDims then 1 else 0)) axes
        | Op.ArgMax(axis, keepDims) -> mix (mix 8 axis) (if keepDims then 1 else 0)
        | Op.MatMul -> 9
        | Op.Permute p -> hashInts 10 p
        | Op.Reshape s -> hashInts 11 s
        | Op.BroadcastTo s -> hashInts 12 s
        | Op.Slice(starts, stops, steps) -> hashInts (hashInts (hashInts 13 starts) stops) steps
        | Op.Pad(before, after) -> hashInts (hashInts 14 before) after
        | Op.Concat axis -> mix 15 axis
        | Op.Flip axes -> hashInts 16 axes
        | Op.Gather axis -> mix 17 axis
        | Op.ScatterAdd(axis, shape) -> hashInts (mix 18 axis) shape
        | Op.Cast d -> mix 19 (dtypeCode d)
        | Op.StopGradient -> 20
        | Op.Custom(id, _) -> mix 21 id
        | Op.Cholesky -> 22
        | Op.TriangularSolve(upper, left, unit) -> mix (mix (mix 23 (if upper then 1 else 0)) (if left then 1 else 0)) (if unit then 1 else 0)
        | Op.Solve -> 24
        | Op.SlogDet -> 25
        | Op.Qr -> 26
        | Op.Lu -> 38
        | Op.LuPermutation -> 39
        | Op.Eigh -> 27
        | Op.Svd -> 36
        | Op.Polygamma n -> mix 28 n
        | Op.ArgSort(axis, descending) -> mix (mix 29 axis) (if descending then 1 else 0)
        | Op.Unfold(k, s, p, d) -> hashInts (hashInts (hashInts (hashInts 30 k) s) p) d
        | Op.Fold(size, k, s, p, d) -> hashInts (hashInts (hashInts (hashInts (hashInts 31 size) k) s) p) d
        | Op.Scan(body, length, reverse, remat) -> mix (mix (mix (mix 32 body.Id) length) (if reverse then 1 else 0)) (if remat then 1 else 0)
        | Op.Softmax axis -> mix 33 axis
        | Op.LogSoftmax axis -> mix 34 axis
        | Op.SoftmaxBackward axis -> mix 40 axis
        | Op.LogSoftmaxBackward axis -> mix 42 axis
        | Op.DiagonalMinusRankOne axis -> mix 41 axis
        | Op.CumSum(axis, reverse) -> mix (mix 35 axis) (if reverse then 1 else 0)
        | Op.MatrixExp -> 37

    /// Structural equality of ops, with constants compared as opHash hashes them. The outer
    /// match is total; each inner wildcard only says "a different case".
    let internal opEquals (a: Op) (b: Op) =
        match a with
        | Op.Var(_, s) -> (match b with Op.Var(_, t) -> s = t | _ -> false)
        | Op.Const t ->
            match b with
            | Op.Const u when t.Rank = 0 && u.Rank = 0 -> t.DType = u.DType && scalarBits t = scalarBits u
            | Op.Const u -> obj.ReferenceEquals(t, u)
            | _ -> false
        | Op.Unary u -> (match b with Op.Unary v -> u = v | _ -> false)
        | Op.Binary u -> (match b with Op.Binary v -> u = v | _ -> false)
        | Op.Where -> (match b with Op.Where -> true | _ -> false)
        | Op.Reduce(r, axes, keep) -> (match b with Op.Reduce(s, axes2, keep2) -> r = s && keep = keep2 && sameDims axes axes2 | _ -> false)
        | Op.ArgMax(axis, keep) -> (match b with Op.ArgMax(axis2, keep2) -> axis = axis2 && keep = keep2 | _ -> false)
        | Op.MatMul -> (match b with Op.MatMul -> true | _ -> false)
        | Op.Permute p -> (match b with Op.Permute q -> sameDims p q | _ -> false)
        | Op.Reshape s -> (match b with Op.Reshape t -> sameDims s t | _ -> false)
        | Op.BroadcastTo s -> (match b with Op.BroadcastTo t -> sameDims s t | _ -> false)
        | Op.Slice(a1, a2, a3) -> (match b with Op.Slice(b1, b2, b3) -> sameDims a1 b1 && sameDims a2 b2 && sameDims a3 b3 | _ -> false)
        | Op.Pad(a1, a2) -> (match b with Op.Pad(b1, b2) -> sameDims a1 b1 && sameDims a2 b2 | _ -> false)
        | Op.Concat axis -> (match b with Op.Concat axis2 -> axis = axis2 | _ -> false)
        | Op.Flip axes -> (match b with Op.Flip axes2 -> sameDims axes axes2 | _ -> false)
        | Op.Gather axis -> (match b with Op.Gather axis2 -> axis = axis2 | _ -> false)
        | Op.ScatterAdd(axis, shape) -> (match b with Op.ScatterAdd(axis2, shape2) -> axis = axis2 && sameDims shape shape2 | _ -> false)
        | Op.Cast d -> (match b with Op.Cast e -> d = e | _ -> false)
        | Op.StopGradient -> (match b with Op.StopGradient -> true | _ -> false)
        | Op.Custom(id, _) -> (match b with Op.Custom(id2, _) -> id = id2 | _ -> false)
        | Op.Cholesky -> (match b with Op.Cholesky -> true | _ -> false)
        | Op.TriangularSolve(u, l, d) -> (match b with Op.TriangularSolve(u2, l2, d2) -> u = u2 && l = l2 && d = d2 | _ -> false)
        | Op.Solve -> (match b with Op.Solve -> true | _ -> false)
        | Op.SlogDet -> (match b with Op.SlogDet -> true | _ -> false)
        | Op.Qr -> (match b with Op.Qr -> true | _ -> false)
        | Op.Lu -> (match b with Op.Lu -> true | _ -> false)
        | Op.LuPermutation -> (match b with Op.LuPermutation -> true | _ -> false)
        | Op.MatrixExp -> (match b with Op.MatrixExp -> true | _ -> false)
        | Op.Eigh -> (match b with Op.Eigh -> true | _ -> false)
        | Op.Svd -> (match b with Op.Svd -> true | _ -> false)
        | Op.Polygamma n -> (match b with Op.Polygamma m -> n = m | _ -> false)
        | Op.ArgSort(axis, descending) -> (match b with Op.ArgSort(axis2, descending2) -> axis = axis2 && descending = descending2 | _ -> false)
        | Op.Unfold(k, s, p, d) ->
            (match b with Op.Unfold(k2, s2, p2, d2) -> sameDims k k2 && sameDims s s2 && sameDims p p2 && sameDims d d2 | _ -> false)
        | Op.Fold(size, k, s, p, d) ->
            (match b with
             | Op.Fold(size2, k2, s2, p2, d2) -> sameDims size size2 && sameDims k k2 && sameDims s s2 && sameDims p p2 && sameDims d d2
             | _ -> false)
        | Op.Scan(body, length, reverse, remat) ->
            (match b with
             | Op.Scan(body2, length2, reverse2, remat2) ->
                 obj.ReferenceEquals(body, body2) && length = length2 && reverse = reverse2 && remat = remat2
             | _ -> false)
        | Op.Softmax axis -> (match b with Op.Softmax axis2 -> axis = axis2 | _ -> false)
        | Op.LogSoftmax axis -> (match b with Op.LogSoftmax axis2 -> axis = axis2 | _ -> false)
        | Op.SoftmaxBackward axis -> (match b with Op.SoftmaxBackward axis2 -> axis = axis2 | _ -> false)
        | Op.LogSoftmaxBackward axis -> (match b with Op.LogSoftmaxBackward axis2 -> axis = axis2 | _ -> false)
        | Op.DiagonalMinusRankOne axis -> (match b with Op.DiagonalMinusRankOne axis2 -> axis = axis2 | _ -> false)
        | Op.CumSum(axis, reverse) -> (match b with Op.CumSum(axis2, reverse2) -> axis = axis2 && reverse = reverse2 | _ -> false)

    let mutable private nextId = 0L
    let private newId () = Interlocked.Increment(&nextId)

    /// The id of the newest node so far: every existing node's id is at most this.
    let newestId () = Volatile.Read(&nextId)

    // The table is open addressing with linear probing over one flat array of slots: a hash (0
    // for a slot never used) and a weak GC handle to the node. The node is its own key, so the
    // table keeps nothing alive: a dead node's slot just reads null, and a dead constant's tensor
    // is free at once. Slots hold no object references, so filling them costs the GC nothing (no
    // card marking), and a lookup that finds nothing reads only hashes, one cache line per probe.
    // Dead slots stay in the probe chains until the next rebuild; a rebuild happens once 70% of
    // the slots are used and sizes a growing table to at least twice the live nodes (16 bytes a
    // slot, so 32 to 64 bytes per live node). A table shrinks only once it is 16 times larger than
    // that, and then keeps room for 4 times the live nodes: between graphs it may hold up to 256
    // bytes per live node, so a loop that builds and drops graphs keeps it bounded without
    // reallocating it every few steps, while insertion stays amortised O(1): a rebuild follows at
    // least a fifth of its size in insertions.
    // (Entries of nodes that died old may wait for the next full collection: see rebuildLocked.)
    // The slots live in native memory, allocated and freed here as the table grows and shrinks:
    // they hold no object references, and as managed arrays each growth was a large object whose
    // budget made the GC run a full collection while a large graph was being built.
    // The gate is a System.Threading.Lock: a Monitor on a plain object took its slow path on
    // every node a transform made.
    let private gate = Lock()
    let private smallest = 1 <<< 10
    let private allocate (count: int) : nativeptr<Slot> =
        NativePtr.ofVoidPtr (NativeMemory.AllocZeroed(unativeint count * unativeint sizeof<Slot>))
    let inline private view (slots: nativeptr<Slot>) (count: int) = Span<Slot>(NativePtr.toVoidPtr slots, count)
    let mutable private slots: nativeptr<Slot> = allocate smallest
    let mutable private slotCount = smallest
    let mutable private used = 0
    // What the last look at the handles saw (see rebuildLocked): the collections counted then,
    // the gen-2 collections among them, and whether a quarter or more of the entries were dead.
    let mutable private collectionsAtCheck = -1L
    let mutable private fullCollectionsAtCheck = -1
    let mutable private manyDeadAtCheck = true

    let private collections () =
        int64 (GC.CollectionCount 0) + int64 (GC.CollectionCount 1) + int64 (GC.CollectionCount 2)

    /// Drops the dead entries and sizes the table to at least twice the live ones. Only a
    /// collection clears a weak handle, and reading the handles (one cache miss each, in hash
    /// order) was most of a rebuild; so the handles are read only when `check` is asked, or when
    /// a collection ran since the last look and either it was a full one or that look found many
    /// entries dead. Otherwise every entry counts as live and the table just grows: nodes of a
    /// large graph outlive the young collections, and their dead slots wait for the next full one.
    let private rebuildLocked (check: bool) =
        let oldSlots = slots
        let old = view oldSlots slotCount
        let mutable live = 0
        let now = collections ()
        let full = GC.CollectionCount 2
        if check || (now <> collectionsAtCheck && (full <> fullCollectionsAtCheck || manyDeadAtCheck)) then
            collectionsAtCheck <- now
            fullCollectionsAtCheck <- full
            let mutable entries = 0
            for i in 0 .. old.Length - 1 do
                if old.[i].Hash <> 0 then
                    entries <- entries + 1
                    let handle = GCHandle.FromIntPtr old.[i].Handle
                    if isNull handle.Target then
                        handle.Free()
                        old.[i].Hash <- 0
                    else live <- live + 1
            manyDeadAtCheck <- 4 * (entries - live) >= entries
        else live <- used
        let mutable capacity = smallest
        while capacity < 2 * live do
            capacity <- capacity * 2
        if capacity <= old.Length && 16 * live >= old.Length then
            // The table is not more than 16 times too large: it is rebuilt where it is. A fresh
            // array of this size is a large object whose every page faults in anew, and whose
            // budget makes the GC run full collections; a loop of transforms, whose graphs die
            // between steps, would otherwise shrink and regrow the table every few steps.
            let keep = ArrayPool<Slot>.Shared.Rent(max live 1)
            let mutable count = 0
            for i in 0 .. old.Length - 1 do
                if old.[i].Hash <> 0 then
                    keep.[count] <- old.[i]
                    count <- count + 1
            old.Clear()
            let mask = old.Length - 1
            for k in 0 .. count - 1 do
                let mutable slot = keep.[k].Hash &&& mask
                while old.[slot].Hash <> 0 do
                    slot <- (slot + 1) &&& mask
                old.[slot] <- keep.[k]
            ArrayPool<Slot>.Shared.Return keep
        else
            // A shrinking table keeps room for as many nodes again before it must grow back.
            if capacity < old.Length then
                while capacity < 4 * live do
                    capacity <- capacity * 2
            let freshSlots = allocate capacity
            let fresh = view freshSlots capacity
            let mask = capacity - 1
            for i in 0 .. old.Length - 1 do
                let h = old.[i].Hash
                if h <> 0 then
                    let mutable slot = h &&& mask
                    while fresh.[slot].Hash <> 0 do
                        slot <- (slot + 1) &&& mask
                    fresh.[slot] <- old.[i]
            slots <- freshSlots
            slotCount <- capacity
            NativeMemory.Free(NativePtr.toVoidPtr oldSlots)
        used <- live

    /// Drops the entries of collected nodes now (tests call it before measuring memory).
    let private locked (f: unit -> 'T) =
        gate.Enter()
        try f () finally gate.Exit()

    let purge () = locked (fun () -> rebuildLocked true)

    /// The number of entries in the table after a purge: the live interned nodes.
    let tableSize () = locked (fun () -> rebuildLocked true; used)

    let private sameNode (e: Expr) (op: Op) (inputs: Expr[]) =
        e.ArgCount = inputs.Length
        && (let mutable same = true
            let mutable i = 0
            while same && i < inputs.Length do
                same <- obj.ReferenceEquals(e.Arg i, inputs.[i])
                i <- i + 1
            same)
        && opEquals e.Op op

    /// The node in the table with hash h for which `same` holds, or the one `create` makes, which
    /// then joins the table. Inlined with its lambdas, so a lookup allocates nothing.
    let inline private findOrAdd (h: int) ([<InlineIfLambda>] same: Expr -> bool) ([<InlineIfLambda>] create: unit -> Expr) : Expr =
        gate.Enter()
        try
            let table = view slots slotCount
            let mask = table.Length - 1
            let mutable slot = h &&& mask
            let mutable reusable = -1
            let mutable found = Unchecked.defaultof<Expr>
            let mutable searching = true
            while searching do
                let s = table.[slot].Hash
                if s = 0 then searching <- false
                else
                    if s = h then
                        match GCHandle.FromIntPtr(table.[slot].Handle).Target with
                        | null -> if reusable < 0 then reusable <- slot
                        | :? Expr as e when same e ->
                            found <- e
                            searching <- false
                        | _ -> ()
                    if searching then slot <- (slot + 1) &&& mask
            if not (isNull (box found)) then found
            else
                let node = create ()
                Made.One()
                if reusable >= 0 then
                    // A dead node with the same hash: its handle takes the new node.
                    let mutable handle = GCHandle.FromIntPtr table.[reusable].Handle
                    handle.Target <- node
                else
                    table.[slot].Hash <- h
                    table.[slot].Handle <- GCHandle.ToIntPtr(GCHandle.Alloc(node, GCHandleType.Weak))
                    used <- used + 1
                    if 10 * used > 7 * table.Length then rebuildLocked false
                node
        finally
            gate.Exit()

    let private smallestScope = 32

    /// Doubles a scope's slots, once they are half full. The larger arrays come from the shared
    /// pool and the smaller ones go back to it: a table growing to a long chain's size made as much
    /// garbage again as its final arrays, large objects whose budget makes the GC run full
    /// collections. (A dead scope's last arrays are left to the GC.)
    let private growScopeSlots (scope: NodeScope) =
        let slots = scope.Slots
        let capacity = slots.Length // slots after doubling: 2 ints a slot
        let fresh = ArrayPool<int>.Shared.Rent(2 * capacity)
        // the pool gives powers of two of at least the size asked; the mask needs that exact size
        if fresh.Length <> 2 * capacity then invalidOp "NodeScope: unexpected pooled array size"
        Array.Clear(fresh, 0, fresh.Length)
        let mask = capacity - 1
        for i in 0 .. slots.Length / 2 - 1 do
            let h = slots.[2 * i]
            if h <> 0 then
                let mutable slot = h &&& mask
                while fresh.[2 * slot] <> 0 do
                    slot <- (slot + 1) &&& mask
                fresh.[2 * slot] <- h
                fresh.[2 * slot + 1] <- slots.[2 * i + 1]
        scope.Slots <- fresh
        if slots.Length > 2 * smallestScope then ArrayPool<int>.Shared.Return slots

    /// Doubles a scope's node list once it is full, copying it in order.
    let private growScopeNodes (scope: NodeScope) =
        let nodes = scope.Nodes
        let fresh = ArrayPool<Expr>.Shared.Rent(2 * nodes.Length)
        Array.Copy(nodes, fresh, nodes.Length)
        scope.Nodes <- fresh
        if nodes.Length > smallestScope / 2 then ArrayPool<Expr>.Shared.Return(nodes, true)

    /// Where the probe of a scope's table for hash h stops (under the scope's gate): the node for
    /// which `same` holds, or null and the empty slot where such a node would go.
    let inline private probeScope (scope: NodeScope) (h: int) ([<InlineIfLambda>] same: Expr -> bool) : struct (Expr * int) =
        let slots, nodes = scope.Slots, scope.Nodes
        let mask = slots.Length / 2 - 1
        let mutable slot = h &&& mask
        let mutable found = Unchecked.defaultof<Expr>
        while isNull (box found) && slots.[2 * slot] <> 0 do
            if slots.[2 * slot] = h && same nodes.[slots.[2 * slot + 1]] then found <- nodes.[slots.[2 * slot + 1]]
            else slot <- (slot + 1) &&& mask
        struct (found, slot)

    /// The node in the scope's table with hash h for which `same` holds, or the one `create`
    /// makes, which then joins the table. Inlined with its lambdas, as findOrAdd.
    let inline private findOrAddScoped (scope: NodeScope) (mixed: bool) (h: int) ([<InlineIfLambda>] same: Expr -> bool) ([<InlineIfLambda>] create: unit -> Expr) : Expr =
        scope.Gate.Enter()
        try
            let slots, nodes = scope.Slots, scope.Nodes
            let struct (found, slot) = probeScope scope h same
            if not (isNull (box found)) then found
            else
                let node = create ()
                Made.One()
                if mixed then scope.Mixed <- true
                let count = scope.Count
                if count = nodes.Length then growScopeNodes scope
                scope.Nodes.[count] <- node
                slots.[2 * slot] <- h
                slots.[2 * slot + 1] <- count
                scope.Count <- count + 1
                if 4 * scope.Count > slots.Length then growScopeSlots scope
                let onMade = scope.OnMade
                if not (isNull onMade) then onMade.Invoke node
                node
        finally
            scope.Gate.Exit()

    /// The node in a sealed scope's table with hash h for which `same` holds, or null. A withheld
    /// node found here is asked for again from its inputs, so when none of them is withheld it is
    /// published: the user built it from nodes of the results (a normal form the transform made
    /// and dropped, say), and it reads nothing the results do not.
    let inline private findSealed (scope: NodeScope) (h: int) ([<InlineIfLambda>] same: Expr -> bool) : Expr =
        scope.Gate.Enter()
        try
            let struct (found, _) = probeScope scope h same
            if not (isNull (box found)) && found.IsWithheld then
                let mutable clear = true
                for k in 0 .. found.ArgCount - 1 do
                    if (found.Arg k).IsWithheld then clear <- false
                if clear then found.Publish()
            found
        finally
            scope.Gate.Exit()

    /// The node for a lookup whose inputs' newest scope is `scope` (null: the process-wide table),
    /// made by `make` with the scope it joins when absent. `mixed`: the inputs come from more than
    /// one scope. `openScope` gives the newest unsealed scope among the inputs (null for none),
    /// asked only when `scope` is sealed. A sealed scope holds no node with an input from another
    /// scope (it is never Mixed), so a node over one of its nodes and a node of an open scope is
    /// not there, and goes to that open scope as if the sealed one were not among its inputs; a
    /// node over sealed nodes and process-wide ones alone may be there, and otherwise joins the
    /// process-wide table. So no node that depends on an open scope's Var reaches that table.
    let inline private internAt (scope: NodeScope) (mixed: bool) ([<InlineIfLambda>] openScope: unit -> NodeScope) (h: int)
                                ([<InlineIfLambda>] same: Expr -> bool) ([<InlineIfLambda>] make: NodeScope -> Expr) : Expr =
        if isNull scope then findOrAdd h same (fun () -> make null)
        elif not scope.Sealed then findOrAddScoped scope mixed h same (fun () -> make scope)
        else
            let other = openScope ()
            if not (isNull other) then findOrAddScoped other true h same (fun () -> make other)
            else
                let found = findSealed scope h same
                if isNull (box found) then findOrAdd h same (fun () -> make null) else found

    /// The other input's scope when it is open and not `scope` (a node of two inputs).
    let inline private openOther (scope: NodeScope) (a: Expr) (b: Expr) =
        let other = if obj.ReferenceEquals(a.Scope, scope) then b.Scope else a.Scope
        if isNull other || other.Sealed || obj.ReferenceEquals(other, scope) then null else other

    let inline private mixId (h: int) (input: Expr) = mix h (int input.Id ^^^ int (input.Id >>> 32))

    /// The scope a node over this input goes to, given the one chosen among the inputs before it:
    /// the newer of the two (null is the process-wide table, older than every scope).
    let inline private newerScope (scope: NodeScope) (input: Expr) =
        let s = input.Scope
        if not (isNull s) && (isNull scope || s.Serial > scope.Serial) then s else scope

    /// The one node for (op, inputs), creating it with the given shape and dtype when absent.
    /// Inputs are compared by reference: they are interned themselves.
    let intern (op: Op) (inputs: Expr[]) (shape: int[]) (dtype: DType) : Expr =
        let mutable h = opHash op
        let mutable scope: NodeScope = null
        for input in inputs do
            h <- mixId h input
            scope <- newerScope scope input
        if h = 0 then h <- 1
        let same (e: Expr) = sameNode e op inputs
        let mutable mixed = false
        if not (isNull scope) then
            for input in inputs do
                if not (isNull input.Scope) && not (obj.ReferenceEquals(input.Scope, scope)) then mixed <- true
        let openScope () =
            let mutable newest: NodeScope = null
            for input in inputs do
                let s = input.Scope
                if not (isNull s) && not s.Sealed && (isNull newest || s.Serial > newest.Serial) then newest <- s
            newest
        internAt scope mixed openScope h same (fun table -> make op inputs shape dtype (newId ()) table)

    // intern1 and intern2 are `intern` for one and two inputs (the same hash, so they find the
    // same nodes) that make the inputs array only when the node is new: most requests on hot
    // paths (a transform's rules, rebuilding over a substitution) find the node already there,
    // and the array made for the lookup was garbage.

    /// `intern op [| x |] shape dtype`, allocating only when the node is new.
    let intern1 (op: Op) (x: Expr) (shape: int[]) (dtype: DType) : Expr =
        let mutable h = mixId (opHash op) x
        if h = 0 then h <- 1
        let scope = x.Scope
        let same (e: Expr) = obj.ReferenceEquals(e.First, x) && isNull (box e.Second) && opEquals e.Op op
        internAt scope false (fun () -> null) h same (fun table -> Expr(op, x, noNode, null, shape, dtype, newId (), table))

    /// `intern op [| a; b |] shape dtype`, allocating only when the node is new.
    let intern2 (op: Op) (a: Expr) (b: Expr) (shape: int[]) (dtype: DType) : Expr =
        let mutable h = mixId (mixId (opHash op) a) b
        if h = 0 then h <- 1
        let scope = newerScope (newerScope null a) b
        let same (e: Expr) =
            obj.ReferenceEquals(e.First, a) && obj.ReferenceEquals(e.Second, b) && isNull e.More && opEquals e.Op op
        let mixed = not (isNull a.Scope) && not (isNull b.Scope) && not (obj.ReferenceEquals(a.Scope, b.Scope))
        internAt scope mixed (fun () -> openOther scope a b) h same (fun table -> Expr(op, a, b, null, shape, dtype, newId (), table))

    /// `intern (Op.BroadcastTo shape) [| x |] shape dtype` with a copy of `shape`, made (with the
    /// op and the inputs array) only when the node is new. The inner wildcard only says "another
    /// case", as in opEquals.
    let internBroadcast (shape: int[]) (x: Expr) : Expr =
        let mutable h = mixId (hashInts 12 shape) x
        if h = 0 then h <- 1
        let scope = x.Scope
        let same (e: Expr) =
            obj.ReferenceEquals(e.First, x) && isNull (box e.Second)
            && (match e.Op with Op.BroadcastTo t -> sameDims t shape | _ -> false)
        let create (table: NodeScope) =
            let dims = Array.copy shape
            Expr(Op.BroadcastTo dims, x, noNode, null, dims, x.DType, newId (), table)
        internAt scope false (fun () -> null) h same create

    let private noDims : int[] = [||]

    /// The rank-0 constant of that value and dtype, as `intern` would give for a tensor holding it,
    /// but looked up by the value alone: folding scalars finds most results already interned, and
    /// building a tensor for each lookup was most of what a fold allocated.
    let internScalar (dtype: DType) (value: float) : Expr =
        // the value the tensor would hold (float32 rounds), so the bits match opHash's
        let value = match dtype with DType.Float64 -> value | DType.Float32 -> float (float32 value)
        let bits = BitConverter.DoubleToInt64Bits value
        let mutable h = mix (mix 2 (int bits ^^^ int (bits >>> 32))) (dtypeCode dtype)
        if h = 0 then h <- 1
        let same (e: Expr) =
            isNull (box e.First)
            && (match e.Op with
                | Op.Const t -> t.Rank = 0 && t.DType = dtype && scalarBits t = bits
                | _ -> false)
        findOrAdd h same (fun () -> Expr(Op.Const(Tensor.Scalar(value, dtype)), noNode, noNode, null, noDims, dtype, newId (), null))

    /// A new variable leaf, distinct from every other node.
    let freshVar (name: string) (shape: int[]) (dtype: DType) : Expr =
        let id = newId ()
        Made.One()
        Expr(Op.Var(name, id), noNode, noNode, null, Array.copy shape, dtype, id, null)

    /// A new variable leaf for a transform's own use, with its own NodeScope: the nodes built over
    /// it are interned there, and die with it. Only for Vars that no user keeps.
    let freshScopedVar (name: string) (shape: int[]) (dtype: DType) : Expr =
        let id = newId ()
        Made.One()
        Expr(Op.Var(name, id), noNode, noNode, null, Array.copy shape, dtype, id, NodeScope(id))

    /// New variable leaves for one transform's own use, sharing one NodeScope (so a node over
    /// several of them is not Mixed). Only for Vars that no user keeps.
    let freshScopedVars (names: string[]) (like: Expr[]) : Expr[] =
        if like.Length = 0 then [||]
        else
            let ids: int64[] = Array.zeroCreate like.Length
            for i in 0 .. ids.Length - 1 do
                ids.[i] <- newId ()
            // the first id orders the scope among the others (see NodeScope.Serial)
            let scope = NodeScope(ids.[0])
            let vars: Expr[] = Array.zeroCreate like.Length
            for i in 0 .. vars.Length - 1 do
                Made.One()
                vars.[i] <- Expr(Op.Var(names.[i], ids.[i]), noNode, noNode, null, Array.copy like.[i].Dims, like.[i].DType, ids.[i], scope)
            vars

    /// The value a Var is bound to (see NodeScope.Bindings); none for any other node.
    let boundValue (e: Expr) : Tensor voption =
        let scope = e.Scope
        if isNull scope || not e.Op.IsVar || isNull scope.Bindings then ValueNone
        else
            let mutable value = ValueNone
            for (v, t) in scope.Bindings do
                if obj.ReferenceEquals(v, e) then value <- ValueSome t
            value

    /// Whether evaluating the node reads its input k: a custom node's value is its forward graph
    /// (input 1), and its x (input 0) is only its rule's, so neither plans nor the interpreter
    /// evaluate x for it.
    let readsInput (node: Expr) (k: int) = not node.Op.IsCustom || k = 1

    /// The value a leaf holds: a Const's tensor, or a bound Var's; none for any other node.
    let leafValue (e: Expr) : Tensor voption =
        match e.Op with
        | Op.Const t -> ValueSome t
        | Op.Var _ -> boundValue e
        | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
        | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
        | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
        | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
        | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> ValueNone

/// Patterns over constant nodes, for canonicalisation and the transforms' symbolic zeros.
module internal Fold =

    // Both patterns return a struct option: constructors test every operand with them, and a
    // heap option per match was a twentieth of what differentiating a long chain allocated.

    /// A rank-0 constant and its value.
    [<return: Struct>]
    let (|ScalarConst|_|) (e: Expr) =
        match e.Op with
        | Op.Const t when t.Rank = 0 -> ValueSome(t.ToScalar())
        | _ -> ValueNone

    /// A node known to hold one value everywhere: a scalar constant or its broadcast.
    [<return: Struct>]
    let (|Filled|_|) (e: Expr) =
        match e with
        | ScalarConst v -> ValueSome v
        | _ ->
            match e.Op with
            | Op.BroadcastTo _ -> (match e.First with ScalarConst v -> ValueSome v | _ -> ValueNone)
            | _ -> ValueNone

    /// The fill value of a Filled node, NaN for any other node (NaN compares equal to nothing,
    /// so canonical forms can test the result with `=` directly).
    let fillOf (e: Expr) = match e with Filled v -> v | _ -> nan

    /// True for a symbolic zero (a broadcast scalar 0 of either sign), which the transforms treat
    /// as an absent cotangent. Never a reason to fold a value a user computes.
    let isZero (e: Expr) = match e with Filled 0.0 -> true | _ -> false

    /// True for a broadcast scalar 1.
    let isOne (e: Expr) = match e with Filled 1.0 -> true | _ -> false

    let private positiveZeroBits = BitConverter.DoubleToInt64Bits 0.0
    let private negativeZeroBits = BitConverter.DoubleToInt64Bits -0.0

    /// True for +0.0 exactly (not -0.0, not NaN).
    let isPositiveZero (v: float) = BitConverter.DoubleToInt64Bits v = positiveZeroBits

    /// True for -0.0 exactly.
    let isNegativeZero (v: float) = BitConverter.DoubleToInt64Bits v = negativeZeroBits

/// One entry of ExprCore's scalar cache: a value's bits, its dtype and its node.
[<Sealed; AllowNullLiteral>]
type internal ScalarEntry(bits: int64, dtype: DType, node: Expr) =
    member _.Bits = bits
    member _.DType = dtype
    member _.Node = node

/// The canonicalising constructors the operators need: scalar leaves, broadcasting, dtype
/// conversion and the elementwise ops. Build's `Expr` module re-exports them with the rest of the
/// op language. Only folds that IEEE arithmetic makes exact are applied: x*1, x/1, x**1, x-0,
/// x+(-0), -(-x), x*(-1) and operations on scalar constants. x*0 and 0/x are not zero when x is
/// NaN or infinite, and x+0 is not x when x is -0.
module internal ExprCore =

    let private constantNode (value: Tensor) = Ir.intern (Op.Const value) [||] value.Shape value.DType

    // The scalars the rules use on every node (0, 1, 2, 0.5, -1, ...) are kept at hand instead of
    // being re-made and re-interned each time: a direct-mapped cache of 1,024 entries, keyed by the
    // value's bits (as floats, 0.0 and -0.0 are equal, but they are different constants) and the
    // dtype. An entry is an immutable object, written and read whole (a reference store is atomic),
    // so threads share the cache without a lock. A slot keeps the first value that lands in it (the
    // common scalars come first): replacing entries on collisions would allocate one per lookup of a
    // program's many other values, and interning makes equal scalars one node either way (a value
    // outside the cache is found in the table without allocating). Our own code rather than a
    // ConcurrentDictionary keyed by a struct, whose generic code tiered compilation starts
    // unoptimised and then instruments for a long while, and every rule asks for scalars.
    let private scalarSlots = 1024
    let private scalarCache: ScalarEntry[] = Array.zeroCreate scalarSlots

    /// A rank-0 constant; equal values (bit for bit) of one dtype are one node.
    let scalar (dtype: DType) (value: float) =
        let bits = BitConverter.DoubleToInt64Bits value
        let code = match dtype with DType.Float32 -> 1L | DType.Float64 -> 2L
        let slot = int (((uint64 bits ^^^ uint64 code) * 11400714819323198485UL) >>> 54)
        let entry = Volatile.Read(&scalarCache.[slot])
        if not (isNull entry) && entry.Bits = bits && entry.DType = dtype then entry.Node
        else
            let e = Ir.internScalar dtype value
            if isNull entry && not (Double.IsNaN value) then Volatile.Write(&scalarCache.[slot], ScalarEntry(bits, dtype, e))
            e

    /// A constant node wrapping a tensor (one node per tensor object). A rank-0 tensor becomes the
    /// library's own scalar of its value: scalars are one node per value, shared by every graph, and
    /// a node holding the caller's tensor would fail in all of them once the caller disposed it.
    /// A larger tensor is marked shared, so disposing it never hands its array back while a graph
    /// or a plan may read it (they fail with ObjectDisposedException instead).
    let constant (value: Tensor) =
        value.CheckAlive()
        if value.Rank = 0 then scalar value.DType (value.ToScalar())
        else
            value.MarkShared()
            constantNode value

    /// NumPy broadcasting of x to a larger shape.
    let broadcastTo (shape: int[]) (x: Expr) : Expr =
        if Ir.sameDims x.Dims shape then x
        else
            Shape.validate "BroadcastTo" shape
            if not (Shape.broadcastsTo x.Dims shape) then
                Shape.fail "BroadcastTo" (sprintf "cannot broadcast %s to %s" (Shape.format x.Dims) (Shape.format shape))
            match x.Op with
            | Op.BroadcastTo _ -> Ir.internBroadcast shape x.First
            | _ -> Ir.internBroadcast shape x

    /// A tensor filled with one value, as a broadcast scalar.
    let full (dtype: DType) (shape: int[]) (value: float) = broadcastTo shape (scalar dtype value)

    // made once: a union case with a field is a fresh object each time it is written
    let private castTo32, castTo64 = Op.Cast DType.Float32, Op.Cast DType.Float64

    /// Converts to another dtype; scalar constants convert at build time.
    let cast (dtype: DType) (x: Expr) : Expr =
        if x.DType = dtype then x
        else
            match x with
            | Fold.ScalarConst v -> scalar dtype v
            | Fold.Filled v -> full dtype x.Dims v
            | _ -> Ir.intern1 (match dtype with DType.Float32 -> castTo32 | DType.Float64 -> castTo64) x x.Dims dtype

    /// Brings two operands to a common dtype: float32 meeting float64 gives float64.
    let promote (a: Expr) (b: Expr) =
        if a.DType = b.DType then struct (a, b) else struct (cast DType.Float64 a, cast DType.Float64 b)

    // Unary and binary op kinds are singletons, so their Op cases can be made once each instead
    // of once per node (one object less per node for the GC to trace). Looked up by the case's
    // index in a plain array: a dictionary lookup per node ran the framework's generic code, which
    // tiered compilation keeps in its instrumented (profiling) version for most of a training loop.
    let private unaryOps =
        let cases = Reflection.FSharpType.GetUnionCases typeof<UnaryOp>
        let table = Array.zeroCreate<Op> cases.Length
        for case in cases do
            let kind = Reflection.FSharpValue.MakeUnion(case, [||]) :?> UnaryOp
            table.[kind.Index] <- Op.Unary kind
        table
    let private binaryOps =
        let cases = Reflection.FSharpType.GetUnionCases typeof<BinaryOp>
        let table = Array.zeroCreate<Op> cases.Length
        for case in cases do
            let kind = Reflection.FSharpValue.MakeUnion(case, [||]) :?> BinaryOp
            table.[kind.Index] <- Op.Binary kind
        table

    let private isNeg (x: Expr) = match x.Op with Op.Unary UnaryOp.Neg -> true | _ -> false

    /// An elementwise function of one argument. Scalar constants fold, a filled constant negates
    /// to its negated fill, and -(-x) is x.
    let unary (op: UnaryOp) (x: Expr) : Expr =
        let folded = match x with Fold.ScalarConst v -> ScalarFold.unary op v | _ -> ValueNone
        match folded with
        | ValueSome v -> scalar x.DType (ScalarFold.toDType x.DType v)
        | ValueNone ->
            match op, x with
            | UnaryOp.Neg, Fold.Filled v -> full x.DType x.Dims -v
            | UnaryOp.Neg, _ when isNeg x -> x.First
            | _ -> Ir.intern1 unaryOps.[op.Index] x x.Dims x.DType

    let private isComparison (op: BinaryOp) =
        match op with
        | BinaryOp.Less | BinaryOp.LessEqual | BinaryOp.Greater | BinaryOp.GreaterEqual
        | BinaryOp.Equal | BinaryOp.NotEqual -> true
        | BinaryOp.Add | BinaryOp.Sub | BinaryOp.Mul | BinaryOp.Div | BinaryOp.Pow
        | BinaryOp.Maximum | BinaryOp.Minimum | BinaryOp.Atan2 | BinaryOp.Fmod | BinaryOp.Gammainc | BinaryOp.Gammaincc
        | BinaryOp.Zeta -> false

    /// An elementwise function of two arguments with NumPy/torch broadcasting and dtype promotion.
    /// Canonical forms, each exact in IEEE arithmetic for every x (NaN, infinities and signed
    /// zeros included): x+(-0), (-0)+x, x-0, x*1, 1*x, x/1, x**1 give x; x*(-1), (-1)*x, x/(-1)
    /// and (-0)-x give -x; two scalar constants fold; comparisons of two filled constants fold.
    let binary (op: BinaryOp) (a: Expr) (b: Expr) : Expr =
        // The result's shape is usually one operand's: share that array, and check for it before
        // computing the broadcast (a fresh array per node with a scalar operand otherwise).
        let shape =
            if Ir.sameDims a.Dims b.Dims || Shape.broadcastsTo b.Dims a.Dims then a.Dims
            elif Shape.broadcastsTo a.Dims b.Dims then b.Dims
            else Shape.broadcast (ScalarFold.caseName op) a.Dims b.Dims
        let struct (a, b) = promote a b
        let dtype = a.DType
        // Each operand's fill value is looked up once (NaN when it is not a filled constant);
        // the canonical forms then match on plain floats.
        let fa, fb = Fold.fillOf a, Fold.fillOf b
        let bothScalars = (match a.Op, b.Op with Op.Const s, Op.Const t -> s.Rank = 0 && t.Rank = 0 | _ -> false)
        if bothScalars then scalar dtype (ScalarFold.toDType dtype (ScalarFold.binary op fa fb))
        else
            match op with
            | BinaryOp.Add when Fold.isNegativeZero fa -> broadcastTo shape b
            | BinaryOp.Add when Fold.isNegativeZero fb -> broadcastTo shape a
            | BinaryOp.Sub when Fold.isPositiveZero fb -> broadcastTo shape a
            | BinaryOp.Sub when Fold.isNegativeZero fa -> broadcastTo shape (unary UnaryOp.Neg b)
            | BinaryOp.Mul when fa = 1.0 -> broadcastTo shape b
            | BinaryOp.Mul | BinaryOp.Div | BinaryOp.Pow when fb = 1.0 -> broadcastTo shape a
            | BinaryOp.Mul when fa = -1.0 -> broadcastTo shape (unary UnaryOp.Neg b)
            | BinaryOp.Mul | BinaryOp.Div when fb = -1.0 -> broadcastTo shape (unary UnaryOp.Neg a)
            | _ when isComparison op && not (Double.IsNaN fa) && not (Double.IsNaN fb) -> full dtype shape (ScalarFold.binary op fa fb)
            | _ -> Ir.intern2 binaryOps.[op.Index] a b shape dtype

// The operators belong to the type (F# takes no operator overloads from extensions in other
// files). This extension is intrinsic: it is compiled into Expr itself.
type Expr with
    /// Elementwise sum with broadcasting.
    static member (+)(a: Expr, b: Expr) = ExprCore.binary BinaryOp.Add a b
    /// Adds a scalar in the Expr's dtype.
    static member (+)(a: Expr, b: float) = ExprCore.binary BinaryOp.Add a (ExprCore.scalar a.DType b)
    /// Adds a scalar in the Expr's dtype.
    static member (+)(a: float, b: Expr) = ExprCore.binary BinaryOp.Add (ExprCore.scalar b.DType a) b
    /// Elementwise difference with broadcasting.
    static member (-)(a: Expr, b: Expr) = ExprCore.binary BinaryOp.Sub a b
    /// Subtracts a scalar.
    static member (-)(a: Expr, b: float) = ExprCore.binary BinaryOp.Sub a (ExprCore.scalar a.DType b)
    /// Subtracts from a scalar.
    static member (-)(a: float, b: Expr) = ExprCore.binary BinaryOp.Sub (ExprCore.scalar b.DType a) b
    /// Elementwise product with broadcasting.
    static member (*)(a: Expr, b: Expr) = ExprCore.binary BinaryOp.Mul a b
    /// Scales by a scalar.
    static member (*)(a: Expr, b: float) = ExprCore.binary BinaryOp.Mul a (ExprCore.scalar a.DType b)
    /// Scales by a scalar.
    static member (*)(a: float, b: Expr) = ExprCore.binary BinaryOp.Mul (ExprCore.scalar b.DType a) b
    /// Elementwise quotient with broadcasting.
    static member (/)(a: Expr, b: Expr) = ExprCore.binary BinaryOp.Div a b
    /// Divides by a scalar.
    static member (/)(a: Expr, b: float) = ExprCore.binary BinaryOp.Div a (ExprCore.scalar a.DType b)
    /// Divides a scalar.
    static member (/)(a: float, b: Expr) = ExprCore.binary BinaryOp.Div (ExprCore.scalar b.DType a) b
    /// Negation.
    static member (~-)(a: Expr) = ExprCore.unary UnaryOp.Neg a
    /// Elementwise power, used by `**`.
    static member Pow(a: Expr, b: Expr) = ExprCore.binary BinaryOp.Pow a b
    /// Power by a scalar, used by `**`.
    static member Pow(a: Expr, b: float) = ExprCore.binary BinaryOp.Pow a (ExprCore.scalar a.DType b)
    /// Sine, used by `sin`.
    static member Sin(a: Expr) = ExprCore.unary UnaryOp.Sin a
    /// Cosine, used by `cos`.
    static member Cos(a: Expr) = ExprCore.unary UnaryOp.Cos a
    /// Tangent, used by `tan`.
    static member Tan(a: Expr) = ExprCore.unary UnaryOp.Tan a
    /// Exponential, used by `exp`.
    static member Exp(a: Expr) = ExprCore.unary UnaryOp.Exp a
    /// Natural logarithm, used by `log`.
    static member Log(a: Expr) = ExprCore.unary UnaryOp.Log a
    /// Hyperbolic tangent, used by `tanh`.
    static member Tanh(a: Expr) = ExprCore.unary UnaryOp.Tanh a
    /// Square root, used by `sqrt`.
    static member Sqrt(a: Expr) = ExprCore.unary UnaryOp.Sqrt a
    /// Absolute value, used by `abs`.
    static member Abs(a: Expr) = ExprCore.unary UnaryOp.Abs a
    /// Rounds down, used by `floor`.
    static member Floor(a: Expr) = ExprCore.unary UnaryOp.Floor a
    /// Rounds up, used by `ceil`.
    static member Ceiling(a: Expr) = ExprCore.unary UnaryOp.Ceil a
    /// Rounds half to even, used by `round`.
    static member Round(a: Expr) = ExprCore.unary UnaryOp.Round a
