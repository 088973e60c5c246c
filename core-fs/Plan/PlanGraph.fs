/// The graph a plan compiles, numbered: every node below the roots gets its position in a
/// topological order, and each node's inputs are read as positions. The planner keeps all its
/// per-node facts (uses, consumers, groups, values) in arrays indexed by position. Keyed by node
/// id instead, as they were, each fact was a hash table of the graph's size: a graph of 3·10^5
/// nodes then allocated hundreds of megabytes while compiling, and the collections that this
/// triggered scanned the live tables again each time, so compile time grew faster than the graph.
namespace FunctionalDiff.Core

open System

/// Nodes in topological order with their inputs' positions. The arrays come from the shared pool
/// (graphs of 10^5 nodes would otherwise put a few large objects per compile on the large-object
/// heap, whose budget triggers full collections); `Release` gives them back.
[<Sealed>]
type internal PlanGraph private (nodes: Expr[], count: int, inputStart: int[], inputPositions: int[],
                                 marks: bool[], rootPositions: int[], varPositions: int[]) =

    /// The number of nodes.
    member _.Count = count

    /// The position of each root, in the order of the roots given to Build.
    member _.RootPositions = rootPositions

    /// The position of each Var given to Build, or -1 for a Var the roots do not depend on.
    member _.VarPositions = varPositions

    /// The node at position p.
    member _.Node(p: int) : Expr = nodes.[p]

    /// The position of input k of the node at position p.
    member _.Input(p: int, k: int) : int = inputPositions.[inputStart.[p] + k]

    /// The mark Build gave the node at position p.
    member _.Marked(p: int) : bool = marks.[p]

    /// The number of inputs of the node at position p.
    member _.InputCount(p: int) : int = inputStart.[p + 1] - inputStart.[p]

    /// A cleared array with an element per node, from the pool; give it back with GiveBack.
    member _.Table<'T>() : 'T[] = Pool.rentCleared<'T> count

    /// Gives a table of this graph back to the pool (only its element per node is cleared).
    member _.GiveBack<'T>(table: 'T[]) = Pool.release table count

    /// Gives the graph's arrays back to the pool; the graph is unusable afterwards.
    member _.Release() =
        Pool.release nodes count
        Pool.giveBack inputStart
        Pool.giveBack inputPositions
        Pool.giveBack marks

    /// The nodes reachable from the roots, each once, inputs before their users, in the order of
    /// Graph.topologicalOrder (a depth-first walk taking inputs left to right, roots in order),
    /// and the positions of the roots and of the Vars `vars`. Node ids index the walk's table
    /// directly (IdMap): a window of the newest 2^25 ids, where a graph about to be evaluated
    /// lives; older nodes (constants made at start-up, say) take the map's hash table. `mark` is
    /// asked once per node, when the walk places it: the node and its inputs are in cache then,
    /// and on a graph larger than the cache a later pass that reads them again misses per node.
    static member Build(roots: Expr[], vars: Expr[], mark: Expr -> bool) : PlanGraph =
        // A node reads the value behind a StopGradient or a Custom node (each an alias of one input in a
        // plan) directly, so the value's producer and its consumers can share a fused group: read through
        // the alias, as they were, the alias was a consumer no group can join, and the value was stored
        // to memory and read back (an elu's expm1 before its where). An alias is placed only as a root.
        let rec through (e: Expr) =
            match e.Op with
            | Op.StopGradient -> through e.First
            | Op.Custom _ -> through (e.Arg 1)
            | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
            | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
            | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet
            | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _
            | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> e
        // Input k of a node as the plan reads it. A custom node (placed only as a root) never reads
        // its x (Ir.readsInput; a multi-input rule's packed inputs): its x slot reads the forward
        // graph too, so x is neither planned nor run.
        let readThrough (node: Expr) (k: int) = through (if Ir.readsInput node k then node.Arg k else node.Arg 1)
        // IdMap's dense range is under 2^25 ids wide
        let low = max 0L (Ir.newestId () - (1L <<< 25) + 2L)
        // 0: not seen; -1: on the walk's stack; p + 1: placed at position p
        let positions = IdMap<int>(low)
        try
            let mutable nodes = Pool.rent<Expr> 1024
            let mutable inputStart = Pool.rent<int> 1024
            let mutable inputPositions = Pool.rent<int> 1024
            let mutable marks = Pool.rent<bool> 1024
            let mutable count = 0
            let mutable edges = 0
            let mutable stack = Pool.rent<struct (Expr * int)> 1024
            let mutable depth = 0
            // the deepest the stack went: what Pool.release clears
            let mutable deepest = 0
            // Roots of one element (a loss beside its gradients) are walked last: the reduction that
            // makes a loss then comes after the gradients' nodes, so a value both read (the forward's
            // last activation) joins the gradient's fused group as a stored member. Walked first, the
            // reduction was that value's first consumer, which no group can join, so the value headed a
            // group of its own and the forward's values it needed went out to memory and back.
            let walkOrder = Array.zeroCreate roots.Length
            let mutable next = 0
            for pass in 0 .. 1 do
                for root in roots do
                    if (root.Numel <= 1) = (pass = 1) then
                        walkOrder.[next] <- root
                        next <- next + 1
            for root in walkOrder do
                if positions.[root.Id] = 0 then
                    positions.[root.Id] <- -1
                    stack.[0] <- struct (root, 0)
                    depth <- 1
                    deepest <- max deepest 1
                while depth > 0 do
                    let struct (node, next) = stack.[depth - 1]
                    if next < node.ArgCount then
                        stack.[depth - 1] <- struct (node, next + 1)
                        let input = readThrough node next
                        if positions.[input.Id] = 0 then
                            positions.[input.Id] <- -1
                            if depth = stack.Length then stack <- Pool.grow stack depth
                            stack.[depth] <- struct (input, 0)
                            depth <- depth + 1
                            deepest <- max deepest depth
                    else
                        // every input is placed by now (a DAG's inputs finish first), and still in
                        // cache: its position is read here rather than in a second pass
                        depth <- depth - 1
                        if count = nodes.Length then nodes <- Pool.grow nodes count
                        if count = marks.Length then marks <- Pool.grow marks count
                        // (one more entry than nodes: the end of the last node's inputs)
                        if count + 1 >= inputStart.Length then inputStart <- Pool.grow inputStart count
                        let arity = node.ArgCount
                        if edges + arity > inputPositions.Length then
                            inputPositions <- Pool.grow inputPositions edges
                            if edges + arity > inputPositions.Length then
                                let wider = Pool.rent<int> (edges + arity)
                                Array.Copy(inputPositions, wider, edges)
                                Pool.giveBack inputPositions
                                inputPositions <- wider
                        inputStart.[count] <- edges
                        for k in 0 .. arity - 1 do
                            inputPositions.[edges] <- positions.[(readThrough node k).Id] - 1
                            edges <- edges + 1
                        // an Expr that a transform's function leaked out reads that transform's Var,
                        // bound for its results only (see Expr.IsWithheld): unbound, as inside f
                        if node.IsWithheld then
                            invalidOp (sprintf "Eval: %O was built inside a transform from its symbolic argument and is not among its results, so it has no value" node)
                        nodes.[count] <- node
                        marks.[count] <- mark node
                        positions.[node.Id] <- count + 1
                        count <- count + 1
            Pool.release stack deepest
            inputStart.[count] <- edges
            let rootPositions = roots |> Array.map (fun r -> positions.[r.Id] - 1)
            let varPositions = vars |> Array.map (fun v -> max -1 (positions.[v.Id] - 1))
            PlanGraph(nodes, count, inputStart, inputPositions, marks, rootPositions, varPositions)
        finally
            positions.Release()

/// The consumers of every node of a PlanGraph, an entry per input edge (a node that reads another
/// twice is listed twice), for the planner's choice of stored group members. Constant nodes are
/// not consumers: they are folded. The arrays come from the shared pool; `Release` gives them back.
[<Sealed>]
type internal Consumers private (graph: PlanGraph, start: int[], list: int[]) =

    /// The consumers of every node not marked `constant`.
    static member Build(graph: PlanGraph, constant: bool[]) : Consumers =
        let n = graph.Count
        let start = Pool.rentCleared<int> (n + 1)
        for q in 0 .. n - 1 do
            if not constant.[q] then
                for k in 0 .. graph.InputCount q - 1 do
                    let a = graph.Input(q, k)
                    start.[a + 1] <- start.[a + 1] + 1
        for p in 0 .. n - 1 do start.[p + 1] <- start.[p + 1] + start.[p]
        let list = Pool.rent<int> (max 1 start.[n])
        let filled = Pool.rentCleared<int> n
        for q in 0 .. n - 1 do
            if not constant.[q] then
                for k in 0 .. graph.InputCount q - 1 do
                    let a = graph.Input(q, k)
                    list.[start.[a] + filled.[a]] <- q
                    filled.[a] <- filled.[a] + 1
        Pool.giveBack filled
        Consumers(graph, start, list)

    /// The consumer of p whose group comes first (lowest `groupHead`, known for every consumer), and
    /// how many of p's edges run into that group (a consumer may read p twice, as x·x does, and
    /// several members of one group may read it); (-1, 0) when p has a Scan consumer. A Scan
    /// consumer rules p out: a saving Scan is planned at another Scan's position, earlier than its
    /// own, and might read p before the group that writes p has run.
    member _.Joinable(p: int, groupHead: int[]) : struct (int * int) =
        let mutable first = -1
        let mutable ties = 0
        let mutable scan = false
        for e in start.[p] .. start.[p + 1] - 1 do
            let c = list.[e]
            match graph.Node(c).Op with
            | Op.Scan _ -> scan <- true
            | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
            | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Flip _
            | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient | Op.Custom _ | Op.Cholesky
            | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd | Op.Polygamma _ | Op.ArgSort _
            | Op.Unfold _ | Op.Fold _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> ()
            if first < 0 || groupHead.[c] < groupHead.[first] then
                first <- c
                ties <- 1
            elif groupHead.[c] = groupHead.[first] then ties <- ties + 1
        if scan then struct (-1, 0) else struct (first, ties)

    /// Gives the arrays back to the pool.
    member _.Release() =
        Pool.giveBack start
        Pool.giveBack list
