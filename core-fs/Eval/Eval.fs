/// Evaluation: every Eval compiles the graph to a plan (see Plan.fs) and runs it. The plan is
/// cached with the graph's first root for as long as that node lives, so evaluating the same
/// graph again reuses its schedule and its arena of buffers; and a graph of the same structure
/// as one met before (see GraphKey: an uncompiled loop's next step) runs that graph's plan.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Runtime.CompilerServices

/// Evaluation of Exprs with Var bindings.
[<RequireQualifiedAccess>]
module Eval =

    /// A plan made for every graph of one structure (see GraphKey), with that structure's key.
    [<Sealed>]
    type private Shared(key: GraphKey, plan: Plan) =
        member _.Key = key
        member _.Plan = plan

    /// What a first root's graph is evaluated with: a plan, the roots and bound Vars it was asked
    /// for, and the leaves whose tensors it takes as its inputs (null: the plan takes `Inputs`).
    /// `shared` (null for a plan of this graph alone) keeps its structure's plan alive.
    [<Sealed; AllowNullLiteral>]
    type private Entry(plan: Plan, roots: Expr[], inputs: Expr[], leaves: Expr[], shared: Shared) =
        member _.Plan = plan
        member _.Roots = roots
        member _.Inputs = inputs
        member _.Leaves = leaves
        member _.Shared = shared

    /// Plans by first root; a root seldom has more than one, so a short list is searched.
    let private cache = ConditionalWeakTable<Expr, List<Entry>>()

    /// How many plans one first root keeps (different root sets or bindings over it).
    let private plansPerRoot = 4

    /// Plans by graph structure, the most recently used last, held weakly: a plan holds the graph
    /// it was made from, with that graph's leaves' tensors (a step's parameters and batch), and
    /// what a graph built of them captured, so it lives only while a graph that uses it does (the
    /// entries above hold it), as a plan made for one graph dies with it. A loop's current step
    /// holds its structure's plan for the next.
    let private byStructure = List<WeakReference<Shared>>()
    let private structuresKept = 16

    let private sameNodes (a: Expr[]) (b: Expr[]) =
        a.Length = b.Length
        && (let mutable same = true
            for i in 0 .. a.Length - 1 do
                if not (obj.ReferenceEquals(a.[i], b.[i])) then same <- false
            same)

    /// The plan kept for graphs of this structure, made now from `leaves` as its inputs if none is.
    let private planByStructure (key: GraphKey) (leaves: Expr[]) (roots: Expr[]) : Shared =
        let found =
            lock byStructure (fun () ->
                let mutable found = Unchecked.defaultof<Shared>
                let mutable i = 0
                while isNull (box found) && i < byStructure.Count do
                    match byStructure.[i].TryGetTarget() with
                    | true, shared when shared.Key.Same key ->
                        found <- shared
                        let entry = byStructure.[i]
                        byStructure.RemoveAt i
                        byStructure.Add entry
                    | true, _ -> i <- i + 1
                    | false, _ -> byStructure.RemoveAt i
                found)
        if not (isNull (box found)) then found
        else
            let plan = Planner.compile leaves roots false
            // between runs its large buffers serve other plans (as those of a plan that dies with its graph)
            plan.LendsSlots <- true
            let shared = Shared(key, plan)
            lock byStructure (fun () ->
                if byStructure.Count >= structuresKept then byStructure.RemoveAt 0
                byStructure.Add(WeakReference<Shared>(shared)))
            shared

    /// The entry of these roots with these Vars bound, planned on first use. Without bound Vars
    /// given, the graph's leaves (bound Vars, Consts of rank one or more) are the plan's inputs,
    /// and a graph of the same structure met before (the next step of a loop) takes its plan.
    let private entryFor (inputs: Expr[]) (roots: Expr[]) : Entry =
        let entries = cache.GetValue(roots.[0], fun _ -> List<Entry>())
        lock entries (fun () ->
            let mutable found = null
            for e in entries do
                if isNull found && sameNodes e.Roots roots && sameNodes e.Inputs inputs then found <- e
            if not (isNull found) then found
            else
                let entry =
                    let struct (key, leaves) = if inputs.Length = 0 then GraphKey.ofRoots roots else struct (null, null)
                    if isNull key then
                        let plan = Planner.compile inputs roots false
                        // the plan dies with its graph: its large buffers go to the next graph's plan between runs
                        plan.LendsSlots <- true
                        Entry(plan, Array.copy roots, Array.copy inputs, null, Unchecked.defaultof<Shared>)
                    else
                        let shared = planByStructure key leaves roots
                        Entry(shared.Plan, Array.copy roots, inputs, leaves, shared)
                if entries.Count >= plansPerRoot then entries.RemoveAt 0
                entries.Add entry
                entry)

    /// The cached plan of these roots with these Vars bound, compiled on first use (for tests:
    /// its inputs are the given Vars only when the graph could not be keyed by structure).
    let internal planFor (inputs: Expr[]) (roots: Expr[]) : Plan = (entryFor inputs roots).Plan

    /// The values of several roots sharing one pass over their common graph, with each Var in
    /// `bindings` given a tensor of its shape and dtype.
    let evalManyWith (bindings: (Expr * Tensor) seq) (roots: Expr seq) : Tensor[] =
        let roots = Array.ofSeq roots
        let bindings = Array.ofSeq bindings
        for var, value in bindings do
            match var.Op with
            | Op.Var(name, _) ->
                if value.Shape <> var.Dims || value.DType <> var.DType then
                    Shape.fail "Eval" (sprintf "variable %s is %O%s but was bound to %O%s" name var.DType (Shape.format var.Dims) value.DType (Shape.format value.Shape))
            | _ -> invalidArg "bindings" (sprintf "only variables can be bound, not %O" var)
        if roots.Length = 0 then [||]
        else
            let entry = entryFor (bindings |> Array.map fst) roots
            if isNull entry.Leaves then entry.Plan.RunOwned(bindings |> Array.map snd)
            else
                let given = GraphKey.valuesOf entry.Leaves
                let results = entry.Plan.RunOwned given
                // A root that is a leaf, or a view of one, is that leaf's memory: the caller's
                // parameter or data, which a result the caller owns must not share.
                for r in 0 .. results.Length - 1 do
                    for t in given do
                        if obj.ReferenceEquals(results.[r].Storage, t.Storage) then results.[r] <- Plan.FreshCopy results.[r]
                results

    /// The values of several roots of a closed graph (no free Vars).
    let evalMany (roots: Expr seq) : Tensor[] = evalManyWith [||] roots

    /// The value of a graph with its Vars bound.
    let evalWith (bindings: (Expr * Tensor) seq) (root: Expr) : Tensor = (evalManyWith bindings [ root ]).[0]

    /// The value of a closed graph; raises naming the first unbound Var otherwise.
    let eval (root: Expr) : Tensor = evalWith [] root
