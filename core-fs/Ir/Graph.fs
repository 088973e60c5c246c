/// Whole-graph traversals shared by the transforms, the interpreter and the printer. All are
/// iterative with explicit stacks, so a chain of a million nodes is ordinary input.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

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
    /// `start`, each once, inputs before the nodes that use them. Nodes below `start` appear as
    /// leaves: their inputs are not visited.
    ///
    /// Why this bound is what a transform needs: ids increase and every input's id is smaller
    /// than its user's, so a node older than a transform's first fresh Var cannot depend on it
    /// (hash-consing returns an existing node only when it is structurally equal to the request,
    /// and no node that existed before the Var can hold it). With `start` the id of that Var,
    /// the walk covers what the transform's function added on top of its arguments and captured
    /// values, and never the history behind them.
    let topologicalOrderFrom (start: int64) (roots: Expr seq) : Expr[] =
        let order = List<Expr>()
        let visited = Scratch.RentSet()
        // Each stack entry is a node and the index of the next input to visit.
        let stack = Stack<struct (Expr * int)>()
        for root in roots do
            if visited.Add root.Id then stack.Push(struct (root, 0))
            while stack.Count > 0 do
                let struct (node, next) = stack.Pop()
                let args = node.Args
                if next < args.Length && node.Id >= start then
                    stack.Push(struct (node, next + 1))
                    let input = args.[next]
                    if visited.Add input.Id then stack.Push(struct (input, 0))
                else
                    order.Add node
        Scratch.ReturnSet visited
        Visits.Add order.Count
        order.ToArray()

    /// Every node reachable from the roots, each once, inputs before the nodes that use them.
    let topologicalOrder (roots: Expr seq) : Expr[] = topologicalOrderFrom Int64.MinValue roots

    /// The number of distinct nodes reachable from the root (shared nodes count once).
    let nodeCount (root: Expr) = (topologicalOrder [ root ]).Length

    /// The free variables below the roots, in order of first appearance.
    let variables (roots: Expr seq) =
        topologicalOrder roots |> Array.filter (fun e -> match e.Op with Op.Var _ -> true | _ -> false)

    /// The nodes this thread's traversals have visited so far; the difference across a call is
    /// the work that call did on graphs.
    let internal visitedNodes () : int64 = Visits.Count
