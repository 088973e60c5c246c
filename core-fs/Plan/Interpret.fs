/// The node-by-node interpreter: each node's kernel runs once, in topological order, and returns
/// a fresh tensor. Plans use it to fold constant subgraphs when they compile, and tests use it as
/// the reference a plan must match bit for bit.
namespace FunctionalDiff.Core

open System.Collections.Generic

/// Evaluation without a plan: one kernel call per node, results from the kernels' own allocation.
module internal Interpret =

    /// The kernel for one node, given its inputs' values.
    let run (node: Expr) (inputs: Tensor[]) : Tensor =
        match node.Op with
        | Op.Var(name, _) -> invalidOp (sprintf "unbound variable %s" name)
        | Op.Const t -> t
        | Op.Unary op -> Elementwise.unary op inputs.[0]
        | Op.Binary op -> Elementwise.binary op inputs.[0] inputs.[1]
        | Op.Where -> Elementwise.where inputs.[0] inputs.[1] inputs.[2]
        | Op.Reduce(op, axes, keepDims) -> Reduction.reduce op axes keepDims inputs.[0]
        | Op.ArgMax(axis, keepDims) -> Reduction.argmax axis keepDims inputs.[0]
        | Op.MatMul -> LinearAlgebra.matmul inputs.[0] inputs.[1]
        | Op.Permute p -> Structural.permute p inputs.[0]
        | Op.Reshape s -> Structural.reshape s inputs.[0]
        | Op.BroadcastTo s -> Structural.broadcastTo s inputs.[0]
        | Op.Slice(starts, stops, steps) -> Structural.slice starts stops steps inputs.[0]
        | Op.Pad(before, after) -> Structural.pad before after inputs.[0]
        | Op.Concat axis -> Structural.concat axis inputs
        | Op.Flip axes -> Structural.flip axes inputs.[0]
        | Op.Gather axis -> Structural.gather axis inputs.[1] inputs.[0]
        | Op.ScatterAdd(axis, shape) -> Structural.scatterAdd axis inputs.[0] inputs.[1] shape
        | Op.Cast dtype -> Elementwise.cast dtype inputs.[0]
        | Op.StopGradient -> inputs.[0]
        // The forward graph is the second input, already evaluated: the rule matters only to Vjp.
        | Op.Custom _ -> inputs.[1]
        | Op.Cholesky -> LinalgTensors.cholesky inputs.[0]
        | Op.TriangularSolve(upper, left, unit) -> LinalgTensors.solveTriangular upper left unit inputs.[0] inputs.[1]
        | Op.Solve -> LinalgTensors.solve inputs.[0] inputs.[1]
        | Op.SlogDet -> LinalgTensors.slogdet inputs.[0]
        | Op.Qr -> LinalgTensors.qr inputs.[0]
        | Op.Eigh -> LinalgTensors.eigh inputs.[0]
        | Op.Polygamma n -> Elementwise.mapDouble (Special.polygamma n) inputs.[0]
        | Op.ArgSort(axis, descending) -> Sorting.argsort axis descending inputs.[0]

    /// The values of the roots, with each Var in `bindings` (already checked) given its tensor.
    /// Intermediates are dropped after their last consumer, so memory follows the live width.
    let evalMany (bindings: Dictionary<int64, Tensor>) (roots: Expr[]) : Tensor[] =
        let values = Dictionary<int64, Tensor>(bindings)
        let order = Graph.topologicalOrder roots
        // Remaining uses of each node's value; roots count one extra use so they survive.
        let uses = Dictionary<int64, int>()
        let addUse (e: Expr) = uses.[e.Id] <- (match uses.TryGetValue e.Id with | true, n -> n + 1 | _ -> 1)
        for node in order do
            for input in node.Args do addUse input
        for root in roots do addUse root
        for node in order do
            if not (values.ContainsKey node.Id) then
                match node.Op with
                | Op.Var(name, _) ->
                    invalidOp (sprintf "Eval: variable %s %O%s is not bound" name node.DType (Shape.format node.Dims))
                | _ ->
                    let args = node.Args
                    let inputs = args |> Array.map (fun a -> values.[a.Id])
                    values.[node.Id] <- run node inputs
                    for a in args do
                        let left = uses.[a.Id] - 1
                        uses.[a.Id] <- left
                        if left = 0 then values.Remove a.Id |> ignore
        roots |> Array.map (fun r -> values.[r.Id])
