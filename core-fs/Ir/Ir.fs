/// The intermediate representation: the primitive ops, the immutable Expr node, and the
/// hash-consing table that makes structurally equal nodes one object.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Threading
open System.Runtime.CompilerServices
open System.Runtime.InteropServices

/// The primitives of the graph. Static parameters live in the case; the only tensor is the
/// Const leaf's value. Axes, shapes and slice bounds are stored normalised (non-negative).
[<RequireQualifiedAccess>]
type Op =
    /// A free variable: a leaf with its own identity (the serial), never merged with another.
    | Var of name: string * serial: int64
    /// A constant leaf wrapping a Tensor (compared by reference, scalars by value).
    | Const of Tensor
    /// An elementwise function of one argument.
    | Unary of UnaryOp
    /// An elementwise function of two arguments with NumPy/torch broadcasting.
    | Binary of BinaryOp
    /// Inputs (mask, ifTrue, ifFalse), broadcast together; nonzero mask entries pick ifTrue.
    | Where
    /// A reduction over sorted axes.
    | Reduce of ReduceOp * axes: int[] * keepDims: bool
    /// The index of the largest entry along an axis, as a float tensor (no gradient).
    | ArgMax of axis: int * keepDims: bool
    /// torch.matmul: vectors, matrices and broadcast batches of matrices.
    | MatMul
    /// Reorders axes: output axis i is input axis permutation[i].
    | Permute of permutation: int[]
    /// The same elements in another shape.
    | Reshape of shape: int[]
    /// NumPy broadcasting to a larger shape.
    | BroadcastTo of shape: int[]
    /// Strided slicing with 0 <= start <= stop <= dim and step >= 1 per axis.
    | Slice of starts: int[] * stops: int[] * steps: int[]
    /// Zero padding before and after each axis.
    | Pad of before: int[] * after: int[]
    /// Joins the inputs along an existing axis.
    | Concat of axis: int
    /// Reverses the order along the axes.
    | Flip of axes: int[]
    /// torch.gather: inputs (source, index); the output has the index's shape.
    | Gather of axis: int
    /// The adjoint of Gather: inputs (index, source), summed into zeros of `shape`.
    | ScatterAdd of axis: int * shape: int[]
    /// Converts to another dtype.
    | Cast of DType
    /// The identity whose cotangent is zero.
    | StopGradient
    /// A user-defined op (Diff.customVjp): inputs (x, forward x); its value is its second input
    /// and its cotangent comes from the user's rule, found in CustomRules under `id`.
    | Custom of id: int * name: string

/// A symbolic tensor: an op applied to input Exprs, with a static shape and dtype. Building one
/// computes nothing. Nodes are immutable and hash-consed: structurally equal nodes are one object,
/// so reference equality is structural equality.
[<Sealed>]
type Expr internal (op: Op, inputs: Expr[], shape: int[], dtype: DType, id: int64) =
    /// The primitive this node applies.
    member _.Op = op
    /// A copy of the input nodes, in the op's order.
    member _.Inputs = Array.copy inputs
    /// The input nodes without a copy, for traversals inside the core.
    member internal _.Args = inputs
    /// A copy of the static shape.
    member _.Shape = Array.copy shape
    /// The static shape without a copy.
    member internal _.Dims = shape
    /// The element type.
    member _.DType = dtype
    /// The number of dimensions.
    member _.Rank = shape.Length
    /// The number of elements.
    member _.Numel = Shape.numel shape
    /// A process-wide unique number; a node's inputs always have smaller ids.
    member _.Id = id

    // The operators below belong to the type (F# takes no operator overloads from extensions),
    // but the op language that implements them is compiled later, in Build. Build installs its
    // constructors here before any Expr can exist: every leaf is made by Build.
    static member val internal BinaryHook: BinaryOp -> Expr -> Expr -> Expr =
        (fun _ _ _ -> invalidOp "the op language is not loaded") with get, set
    static member val internal UnaryHook: UnaryOp -> Expr -> Expr =
        (fun _ _ -> invalidOp "the op language is not loaded") with get, set
    static member val internal ScalarHook: DType -> float -> Expr =
        (fun _ _ -> invalidOp "the op language is not loaded") with get, set

    /// Elementwise sum with broadcasting.
    static member (+)(a: Expr, b: Expr) = Expr.BinaryHook BinaryOp.Add a b
    /// Adds a scalar in the Expr's dtype.
    static member (+)(a: Expr, b: float) = Expr.BinaryHook BinaryOp.Add a (Expr.ScalarHook a.DType b)
    /// Adds a scalar in the Expr's dtype.
    static member (+)(a: float, b: Expr) = Expr.BinaryHook BinaryOp.Add (Expr.ScalarHook b.DType a) b
    /// Elementwise difference with broadcasting.
    static member (-)(a: Expr, b: Expr) = Expr.BinaryHook BinaryOp.Sub a b
    /// Subtracts a scalar.
    static member (-)(a: Expr, b: float) = Expr.BinaryHook BinaryOp.Sub a (Expr.ScalarHook a.DType b)
    /// Subtracts from a scalar.
    static member (-)(a: float, b: Expr) = Expr.BinaryHook BinaryOp.Sub (Expr.ScalarHook b.DType a) b
    /// Elementwise product with broadcasting.
    static member (*)(a: Expr, b: Expr) = Expr.BinaryHook BinaryOp.Mul a b
    /// Scales by a scalar.
    static member (*)(a: Expr, b: float) = Expr.BinaryHook BinaryOp.Mul a (Expr.ScalarHook a.DType b)
    /// Scales by a scalar.
    static member (*)(a: float, b: Expr) = Expr.BinaryHook BinaryOp.Mul (Expr.ScalarHook b.DType a) b
    /// Elementwise quotient with broadcasting.
    static member (/)(a: Expr, b: Expr) = Expr.BinaryHook BinaryOp.Div a b
    /// Divides by a scalar.
    static member (/)(a: Expr, b: float) = Expr.BinaryHook BinaryOp.Div a (Expr.ScalarHook a.DType b)
    /// Divides a scalar.
    static member (/)(a: float, b: Expr) = Expr.BinaryHook BinaryOp.Div (Expr.ScalarHook b.DType a) b
    /// Negation.
    static member (~-)(a: Expr) = Expr.UnaryHook UnaryOp.Neg a
    /// Elementwise power, used by `**`.
    static member Pow(a: Expr, b: Expr) = Expr.BinaryHook BinaryOp.Pow a b
    /// Power by a scalar, used by `**`.
    static member Pow(a: Expr, b: float) = Expr.BinaryHook BinaryOp.Pow a (Expr.ScalarHook a.DType b)
    /// Sine, used by `sin`.
    static member Sin(a: Expr) = Expr.UnaryHook UnaryOp.Sin a
    /// Cosine, used by `cos`.
    static member Cos(a: Expr) = Expr.UnaryHook UnaryOp.Cos a
    /// Tangent, used by `tan`.
    static member Tan(a: Expr) = Expr.UnaryHook UnaryOp.Tan a
    /// Exponential, used by `exp`.
    static member Exp(a: Expr) = Expr.UnaryHook UnaryOp.Exp a
    /// Natural logarithm, used by `log`.
    static member Log(a: Expr) = Expr.UnaryHook UnaryOp.Log a
    /// Hyperbolic tangent, used by `tanh`.
    static member Tanh(a: Expr) = Expr.UnaryHook UnaryOp.Tanh a
    /// Square root, used by `sqrt`.
    static member Sqrt(a: Expr) = Expr.UnaryHook UnaryOp.Sqrt a
    /// Absolute value, used by `abs`.
    static member Abs(a: Expr) = Expr.UnaryHook UnaryOp.Abs a
    /// Rounds down, used by `floor`.
    static member Floor(a: Expr) = Expr.UnaryHook UnaryOp.Floor a
    /// Rounds up, used by `ceil`.
    static member Ceiling(a: Expr) = Expr.UnaryHook UnaryOp.Ceil a
    /// Rounds half to even, used by `round`.
    static member Round(a: Expr) = Expr.UnaryHook UnaryOp.Round a

    /// A short description: op, dtype and shape, never the whole graph.
    override _.ToString() =
        let name =
            match op with
            | Op.Var(name, _) -> "var " + name
            | Op.Const t when t.Rank = 0 -> sprintf "const %g" (t.ToScalar())
            | Op.Const _ -> "const"
            | Op.Unary u -> (sprintf "%A" u).ToLowerInvariant()
            | Op.Binary b -> (sprintf "%A" b).ToLowerInvariant()
            | other -> (sprintf "%A" other).Split([| ' '; '\n' |]).[0].ToLowerInvariant()
        let short = match dtype with DType.Float32 -> "f32" | DType.Float64 -> "f64"
        sprintf "Expr(%s : %s%s)" name short (Shape.format shape)

/// The key a node is interned under: its op and its inputs' ids. Scalar constants compare by value
/// and dtype so `2.0` written twice is one node; other constants compare by tensor reference.
[<Sealed; AllowNullLiteral>]
type internal NodeKey(op: Op, inputIds: int64[]) =
    let scalarBits, scalarDType =
        match op with
        | Op.Const t when t.Rank = 0 -> BitConverter.DoubleToInt64Bits(t.ToScalar()), Some t.DType
        | _ -> 0L, None
    let hash =
        let mutable h =
            match op with
            | Op.Const t when t.Rank = 0 -> scalarBits.GetHashCode() * 31 + scalarDType.GetHashCode()
            | Op.Const t -> LanguagePrimitives.PhysicalHash t
            | _ -> op.GetHashCode()
        for i in inputIds do
            h <- h * 1000003 + i.GetHashCode()
        h
    member _.Op = op
    member _.InputIds = inputIds
    member _.ScalarBits = scalarBits
    member _.ScalarDType = scalarDType
    override _.GetHashCode() = hash
    override this.Equals(other: obj) =
        match other with
        | :? NodeKey as k ->
            k.GetHashCode() = hash
            && k.InputIds.Length = inputIds.Length
            && (let ids = k.InputIds
                let mutable same = true
                let mutable i = 0
                while same && i < ids.Length do
                    same <- ids.[i] = inputIds.[i]
                    i <- i + 1
                same)
            && (match op, k.Op with
                | Op.Const a, Op.Const b when a.Rank = 0 && b.Rank = 0 ->
                    scalarBits = k.ScalarBits && scalarDType = k.ScalarDType
                | Op.Const a, Op.Const b -> obj.ReferenceEquals(a, b)
                | a, b -> a.Equals b)
        | _ -> false

/// Node creation: the hash-consing table and fresh variables. Only Build calls `intern`; it has
/// already checked the shapes.
module internal Ir =

    let mutable private nextId = 0L
    // Values are weak GC handles rather than WeakReference objects: those carry a finalizer
    // each, which makes millions of nodes expensive to collect. Handles are freed by the purge.
    let private table = Dictionary<NodeKey, GCHandle>()
    let private gate = obj ()
    // The table is purged of dead entries whenever it doubles, so a loop that builds and drops
    // graphs keeps it (and the heap) bounded while lookups stay amortised O(1).
    let mutable private purgeAt = 1 <<< 16
    // Constants other than scalars are one node per tensor object, and are interned here rather
    // than in `table`: a key in `table` holds its op strongly, so a dead constant's tensor would
    // live on until a purge found its node dead (a loop wrapping a fresh 4 MB tensor each step
    // held hundreds of MB that way). This table is an ephemeron table: the node (which refers to
    // its tensor) lives exactly as long as the tensor is reachable from elsewhere, and both go in
    // the same collection, with no purge.
    let private constants = ConditionalWeakTable<Tensor, Expr>()

    let private newId () = Interlocked.Increment(&nextId)

    let private purgeLocked () =
        let dead = List<NodeKey>()
        for entry in table do
            if isNull entry.Value.Target then dead.Add entry.Key
        for key in dead do
            table.[key].Free()
            table.Remove key |> ignore
        purgeAt <- max (1 <<< 16) (2 * table.Count)

    /// Removes the entries of collected nodes now (tests call it before measuring memory).
    let purge () = lock gate purgeLocked

    let private internInTable (op: Op) (inputs: Expr[]) (shape: int[]) (dtype: DType) : Expr =
        let ids = Array.zeroCreate inputs.Length
        for i in 0 .. inputs.Length - 1 do
            ids.[i] <- inputs.[i].Id
        let key = NodeKey(op, ids)
        lock gate (fun () ->
            match table.TryGetValue key with
            | true, handle ->
                match handle.Target with
                | :? Expr as existing -> existing
                | _ ->
                    let node = Expr(op, inputs, shape, dtype, newId ())
                    let mutable h = handle
                    h.Target <- node
                    node
            | _ ->
                if table.Count >= purgeAt then purgeLocked ()
                let node = Expr(op, inputs, shape, dtype, newId ())
                table.[key] <- GCHandle.Alloc(node, GCHandleType.Weak)
                node)

    /// The one node for (op, inputs), creating it with the given shape and dtype when absent.
    let intern (op: Op) (inputs: Expr[]) (shape: int[]) (dtype: DType) : Expr =
        match op with
        | Op.Const tensor when tensor.Rank <> 0 ->
            constants.GetValue(tensor, fun _ -> Expr(op, inputs, shape, dtype, newId ()))
        | _ -> internInTable op inputs shape dtype

    /// True when two shapes are equal (a plain loop: F#'s generic array equality is slow).
    let sameDims (a: int[]) (b: int[]) =
        a.Length = b.Length
        && (let mutable same = true
            let mutable i = 0
            while same && i < a.Length do
                same <- a.[i] = b.[i]
                i <- i + 1
            same)

    /// A new variable leaf, distinct from every other node.
    let freshVar (name: string) (shape: int[]) (dtype: DType) : Expr =
        let id = newId ()
        Expr(Op.Var(name, id), [||], Array.copy shape, dtype, id)

    /// The number of live entries in the table, for memory tests.
    let tableSize () = lock gate (fun () -> table.Count)
