/// The structure of a graph with its leaves' values left out, as the key under which Eval keeps a
/// plan for every graph of that structure. An uncompiled training loop (`ValueAndGrad`, then
/// `EvalMany`) makes a new graph at every step, over fresh Vars bound to that step's parameters
/// and over that step's batch: the same schedule each time, with other tensors at the leaves.
/// Planning it again was most of what evaluating it cost beyond the arithmetic; a plan made with
/// those leaves as its inputs runs every later step's graph as it is.
namespace FunctionalDiff.Core

open System

/// One graph's structure: per node in the order of Graph.topologicalOrder, its op (null for a
/// leaf that is an input: a bound Var, or a Const of rank one or more, which is data a loop
/// changes from step to step) and its inputs' positions; the inputs' shapes and dtypes. Two
/// graphs of equal structure differ only in those leaves' tensors, and node p of one stands where
/// node p of the other does.
[<Sealed; AllowNullLiteral>]
type internal GraphKey(ops: Op[], argStarts: int[], args: int[], leafDims: int[][], leafTypes: DType[], hash: int) =
    member _.Hash = hash
    member _.Count = ops.Length
    member internal _.Ops = ops
    member internal _.ArgStarts = argStarts
    member internal _.Args = args
    member internal _.LeafDims = leafDims
    member internal _.LeafTypes = leafTypes

    /// True when the two graphs have the same structure.
    member this.Same(other: GraphKey) =
        hash = other.Hash
        && ops.Length = other.Ops.Length
        && leafDims.Length = other.LeafDims.Length
        && args.Length = other.Args.Length
        && (let mutable same = true
            let mutable i = 0
            while same && i < args.Length do
                same <- args.[i] = other.Args.[i]
                i <- i + 1
            i <- 0
            while same && i < ops.Length do
                same <- argStarts.[i] = other.ArgStarts.[i]
                        && (let a, b = box ops.[i], box other.Ops.[i]
                            if isNull a || isNull b then isNull a && isNull b
                            else Ir.opEquals ops.[i] other.Ops.[i])
                i <- i + 1
            i <- 0
            while same && i < leafDims.Length do
                same <- leafTypes.[i] = other.LeafTypes.[i] && Ir.sameDims leafDims.[i] other.LeafDims.[i]
                i <- i + 1
            same)

/// Keys of graphs, with the leaves that are their inputs.
[<RequireQualifiedAccess>]
module internal GraphKey =

    /// Graphs larger than this are planned as before, for themselves alone: a plan kept under a
    /// key holds the graph it was made from, and a large graph evaluated once should die with its
    /// last reference, not wait in a cache.
    let maxNodes = 50_000

    let inline private mix (h: int) (v: int) = (h ^^^ v) * 16777619

    /// The key of the graph below the roots and its input leaves (bound Vars and Consts of rank
    /// one or more, in the order the key numbers them); null when the graph has a node no plan
    /// made for other leaves could run: an unbound Var, a node a transform withheld, or more than
    /// maxNodes nodes. (Eval then plans it as it did, and reports such a node as it did.)
    let ofRoots (roots: Expr[]) : struct (GraphKey * Expr[]) =
        let struct (order, count) = Graph.topologicalOrderPooled Int64.MinValue roots
        try
            if count > maxNodes then struct (null, null)
            else
                let low = max 0L (Ir.newestId () - (1L <<< 25) + 2L)
                let positions = IdMap<int>(low)
                try
                    let ops: Op[] = Array.zeroCreate count
                    let argStarts: int[] = Array.zeroCreate (count + 1)
                    let mutable edges = 0
                    for p in 0 .. count - 1 do
                        edges <- edges + order.[p].ArgCount
                    let args: int[] = Array.zeroCreate (edges + roots.Length)
                    let leaves = ResizeArray<Expr>()
                    let mutable h = mix count roots.Length
                    let mutable usable = true
                    let mutable e = 0
                    let mutable p = 0
                    while usable && p < count do
                        let node = order.[p]
                        positions.[node.Id] <- p + 1
                        argStarts.[p] <- e
                        if node.IsWithheld then usable <- false
                        elif node.Op.IsVar then
                            if (Ir.boundValue node).IsSome then
                                leaves.Add node
                                h <- mix (mix h -1) leaves.Count
                            else usable <- false
                        elif node.Op.IsConst && node.Rank > 0 then
                            leaves.Add node
                            h <- mix (mix h -1) leaves.Count
                        else
                            // a scalar Const is structure (by value, as hash-consing keys it): 0.9 is not 0.8
                            ops.[p] <- node.Op
                            h <- mix h (Ir.opHash node.Op)
                            for k in 0 .. node.ArgCount - 1 do
                                let at = positions.[(node.Arg k).Id] - 1
                                args.[e] <- at
                                h <- mix h at
                                e <- e + 1
                        p <- p + 1
                    argStarts.[count] <- e
                    // the roots' positions close the key: the same graph asked for other roots is another plan
                    for r in 0 .. roots.Length - 1 do
                        let at = positions.[roots.[r].Id] - 1
                        args.[edges + r] <- at
                        h <- mix h at
                    if not usable then struct (null, null)
                    else
                        let leafArray = leaves.ToArray()
                        let leafDims = leafArray |> Array.map (fun l -> l.Dims)
                        let leafTypes = leafArray |> Array.map (fun l -> l.DType)
                        for i in 0 .. leafArray.Length - 1 do
                            h <- mix (mix h (match leafTypes.[i] with DType.Float32 -> 1 | DType.Float64 -> 2)) leafDims.[i].Length
                            for d in leafDims.[i] do h <- mix h d
                        struct (GraphKey(ops, argStarts, args, leafDims, leafTypes, h), leafArray)
                finally
                    positions.Release()
        finally
            Pool.release order count

    /// The tensors of input leaves that ofRoots returned, in its order.
    let valuesOf (leaves: Expr[]) : Tensor[] =
        leaves |> Array.map (fun leaf ->
            match Ir.leafValue leaf with
            | ValueSome t -> t
            | ValueNone -> invalidOp (sprintf "Eval: %O has no value" leaf))
