/// Evaluation: every Eval compiles the graph to a plan (see Plan.fs) and runs it. The plan is
/// cached with the graph's first root for as long as that node lives, so evaluating the same
/// graph again reuses its schedule and its arena of buffers.
namespace FunctionalDiff.Core

open System.Collections.Generic
open System.Runtime.CompilerServices

/// Evaluation of Exprs with Var bindings.
[<RequireQualifiedAccess>]
module Eval =

    /// Plans by first root; a root seldom has more than one, so a short list is searched.
    let private cache = ConditionalWeakTable<Expr, List<Plan>>()

    /// How many plans one first root keeps (different root sets or bindings over it).
    let private plansPerRoot = 4

    let private sameNodes (a: Expr[]) (b: Expr[]) =
        a.Length = b.Length
        && (let mutable same = true
            for i in 0 .. a.Length - 1 do
                if not (obj.ReferenceEquals(a.[i], b.[i])) then same <- false
            same)

    /// The cached plan of these roots with these Vars bound, compiled on first use.
    let internal planFor (inputs: Expr[]) (roots: Expr[]) : Plan =
        let plans = cache.GetValue(roots.[0], fun _ -> List<Plan>())
        lock plans (fun () ->
            let mutable found = Unchecked.defaultof<Plan>
            for p in plans do
                if isNull (box found) && sameNodes p.Roots roots && sameNodes p.Inputs inputs then found <- p
            if not (isNull (box found)) then found
            else
                let plan = Planner.compile inputs roots false
                // the plan dies with its graph: its large buffers go to the next graph's plan between runs
                plan.LendsSlots <- true
                if plans.Count >= plansPerRoot then plans.RemoveAt 0
                plans.Add plan
                plan)

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
            let plan = planFor (bindings |> Array.map fst) roots
            plan.RunOwned(bindings |> Array.map snd)

    /// The values of several roots of a closed graph (no free Vars).
    let evalMany (roots: Expr seq) : Tensor[] = evalManyWith [||] roots

    /// The value of a graph with its Vars bound.
    let evalWith (bindings: (Expr * Tensor) seq) (root: Expr) : Tensor = (evalManyWith bindings [ root ]).[0]

    /// The value of a closed graph; raises naming the first unbound Var otherwise.
    let eval (root: Expr) : Tensor = evalWith [] root
