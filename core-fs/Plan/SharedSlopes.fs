/// A rewrite the planner applies to the graph it compiles, before it schedules anything: tanh's
/// slope over a tanh the graph computes anyway is read from that tanh. The slope primitive is
/// (1 − y)(1 + y) at the rounded y = tanh x (see Build's tanhSlope and its kernel), so the two
/// forms give the same bits; but the primitive computes tanh x again. A training step of a tanh
/// layer has both (the forward's tanh, the backward's slope wherever the cotangent can be huge),
/// and the second tanh was a full transcendental pass over the layer's activations.
namespace FunctionalDiff.Core

open System.Collections.Generic

module internal SharedSlopes =

    /// The smallest slope worth rewriting: below a few hundred entries a pass costs its call, and
    /// the three cheap instructions of the product cost more than the tanh they save (an unrolled
    /// loop over 8-element tensors has thousands of such slopes).
    let minimumNumel = 256

    /// True for a slope this rewrite would consider; the planner asks it of every node it places,
    /// so a graph without one costs no second walk. (The wildcards here and below only say "another
    /// op": a new op is not tanh or its slope.)
    let isCandidate (node: Expr) =
        match node.Op with
        | Op.Unary UnaryOp.TanhSlope -> node.Numel >= minimumNumel
        | _ -> false

    /// The roots with every candidate slope whose argument also has a tanh in `graph` written as
    /// (1 − y)(1 + y) over that tanh; null when there is none (the graph is planned as it is).
    /// Nodes above a rewritten slope are rebuilt over it; the others stay the same objects.
    let rewrite (graph: PlanGraph) : Expr[] =
        let n = graph.Count
        // positions of the arguments that some tanh of the graph reads
        let tanhArguments = HashSet<int>()
        for p in 0 .. n - 1 do
            match (graph.Node p).Op with
            | Op.Unary UnaryOp.Tanh -> tanhArguments.Add(graph.Input(p, 0)) |> ignore
            | _ -> ()
        let shares (p: int) = isCandidate (graph.Node p) && tanhArguments.Contains(graph.Input(p, 0))
        let mutable any = false
        for p in 0 .. n - 1 do
            if not any && shares p then any <- true
        if not any then null
        else
            let rebuilt = Array.zeroCreate<Expr> n
            for p in 0 .. n - 1 do
                let node = graph.Node p
                rebuilt.[p] <-
                    if shares p then
                        // the graph's own tanh: interning finds it (its argument is rebuilt first)
                        let y = Expr.tanh rebuilt.[graph.Input(p, 0)]
                        (1.0 - y) * (1.0 + y)
                    else
                        let args = node |> Ir.changedArgs (fun k -> rebuilt.[graph.Input(p, k)])
                        if isNull args then node else Expr.apply node.Op args
            graph.RootPositions |> Array.map (fun p -> rebuilt.[p])
