/// Whole-graph traversals shared by the transforms, the interpreter and the printer. All are
/// iterative with explicit stacks, so a chain of a million nodes is ordinary input.
namespace FunctionalDiff.Core

open System.Collections.Generic

/// Traversals over the DAG below one or more roots.
[<RequireQualifiedAccess>]
module Graph =

    /// Every node reachable from the roots, each once, inputs before the nodes that use them.
    let topologicalOrder (roots: Expr seq) : Expr[] =
        let order = List<Expr>()
        let visited = HashSet<int64>()
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
        order.ToArray()

    /// The number of distinct nodes reachable from the root (shared nodes count once).
    let nodeCount (root: Expr) = (topologicalOrder [ root ]).Length

    /// The free variables below the roots, in order of first appearance.
    let variables (roots: Expr seq) =
        topologicalOrder roots |> Array.filter (fun e -> match e.Op with Op.Var _ -> true | _ -> false)
