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

/// Traversals over the DAG below one or more roots.
[<RequireQualifiedAccess>]
module Graph =

    /// Every node reachable from the roots, each once, inputs before the nodes that use them.
    let topologicalOrder (roots: Expr seq) : Expr[] =
        let order = List<Expr>()
        let visited = Scratch.RentSet()
        // Each stack entry is a node and the index of the next input to visit.
        let stack = Stack<struct (Expr * int)>()
        for root in roots do
            if visited.Add root.Id then stack.Push(struct (root, 0))
            while stack.Count > 0 do
                let struct (node, next) = stack.Pop()
                let args = node.Args
                if next < args.Length then
                    stack.Push(struct (node, next + 1))
                    let input = args.[next]
                    if visited.Add input.Id then stack.Push(struct (input, 0))
                else
                    order.Add node
        Scratch.ReturnSet visited
        order.ToArray()

    /// The number of distinct nodes reachable from the root (shared nodes count once).
    let nodeCount (root: Expr) = (topologicalOrder [ root ]).Length

    /// The free variables below the roots, in order of first appearance.
    let variables (roots: Expr seq) =
        topologicalOrder roots |> Array.filter (fun e -> match e.Op with Op.Var _ -> true | _ -> false)
