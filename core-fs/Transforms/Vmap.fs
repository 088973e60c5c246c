/// vmap: batching as a graph transform. f is built once at fresh per-example Vars; the walk then
/// visits the nodes that depend on them, inputs first, and rebuilds each through its batching rule
/// (BatchingRules.fs). Nodes that depend on no batched value are shared by the whole batch and
/// stay as they are, so a weight matrix is never copied per example. The result is an ordinary
/// graph: grad, jvp, hessian and vmap itself apply to it, and it applies to theirs.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic
open System.Runtime.CompilerServices

/// The batching walk, shared by vmap and the Jacobians.
[<RequireQualifiedAccess>]
module internal Batching =

    /// Batched rules of custom ops, one per (rule, batch size), so repeated batching of one op
    /// makes equal (hash-consed) nodes; each lives as long as the rule it batches.
    let private batchedRules = ConditionalWeakTable<CustomRule, Dictionary<int, CustomRule>>()

    /// The roots with each seed Var replaced by its value (batched ones carrying `size` examples on
    /// their first axis). Only nodes no older than the oldest seed are visited: nothing older can
    /// depend on a seed (Graph.topologicalOrderFrom), so the history behind them is never walked.
    let rec walk (size: int) (seeds: (Expr * Batched)[]) (roots: Expr[]) : Batched[] =
        let values = Dictionary<int64, Batched>()
        let mutable start = Int64.MaxValue
        for var, value in seeds do
            values.[var.Id] <- value
            start <- min start var.Id
        let find (e: Expr) =
            match values.TryGetValue e.Id with
            | true, v -> v
            | _ -> { Value = e; IsBatched = false }
        for node in Graph.topologicalOrderFrom start roots do
            if node.Id >= start && node.ArgCount > 0 && not (values.ContainsKey node.Id) then
                let args = node.Inputs |> Array.map find
                if args |> Array.exists (fun a -> a.IsBatched) then
                    let batched = BatchingRules.batch (batchRule size) size node args
                    if batched.Rank <> node.Rank + 1 || batched.Dims.[0] <> size
                       || not (Ir.sameDims batched.Dims.[1..] node.Dims) then
                        invalidOp (sprintf "Vmap: the batching rule of %s gave %s for %s over %d examples"
                                       (OpName.name node.Op) (Shape.format batched.Dims) (Shape.format node.Dims) size)
                    values.[node.Id] <- { Value = batched; IsBatched = true }
                elif args |> Array.exists2 (fun (a: Batched) (e: Expr) -> not (obj.ReferenceEquals(a.Value, e))) <| node.Inputs then
                    values.[node.Id] <- { Value = Expr.apply node.Op (args |> Array.map (fun a -> a.Value)); IsBatched = false }
        roots |> Array.map find

    /// The user's custom rule for a batch: vmap of the rule over x and the cotangent, both batched.
    and private batchRule (size: int) (rule: CustomRule) : CustomRule =
        lock batchedRules (fun () ->
            let bySize = batchedRules.GetOrCreateValue rule
            match bySize.TryGetValue size with
            | true, batched -> batched
            | _ ->
                let vjp (xs: Expr) (gs: Expr) =
                    let x = Ir.freshVar "x" xs.Dims.[1..] xs.DType
                    let g = Ir.freshVar "cotangent" gs.Dims.[1..] gs.DType
                    let output = rule.Vjp x g
                    let results = walk size [| x, { Value = xs; IsBatched = true }; g, { Value = gs; IsBatched = true } |] [| output |]
                    BatchingRules.expand size results.[0]
                let batched = CustomRules.register rule.Name vjp
                bySize.[size] <- batched
                batched)

    /// Moves axis `source` of x to position `target` (both already normalised).
    let moveAxis (source: int) (target: int) (x: Expr) =
        if source = target then x
        else
            let others = [| 0 .. x.Rank - 1 |] |> Array.filter (fun a -> a <> source)
            Expr.permute (Array.insertAt target source others) x

/// The public vmap.
[<RequireQualifiedAccess>]
module Vmap =

    /// vmap of f over the arguments. inAxes gives, per argument, the axis its examples lie along
    /// (negative counts from the end) or None for an argument shared by every example; outAxes
    /// gives, per output of f, the axis the examples go to in the result (None: axis 0 for every
    /// output, however many f returns). `caller` names the public method in errors.
    let internal apply (caller: string) (inAxes: int option list) (outAxes: int list option) (f: Expr list -> Expr list) (arguments: Expr list) : Expr list =
        if List.length inAxes <> List.length arguments then
            Shape.fail caller (sprintf "inAxes has %d entries for %d arguments" inAxes.Length arguments.Length)
        let axes =
            List.mapi2 (fun i (axis: int option) (x: Expr) ->
                axis |> Option.map (fun a ->
                    // no mention of inAxes: the one-argument vmap has none
                    if a < -x.Rank || a >= x.Rank then
                        Shape.fail caller (sprintf "argument %d of shape %s has no axis %d to batch along" i (Shape.format x.Dims) a)
                    if a < 0 then a + x.Rank else a)) inAxes arguments
        let sizes = List.map2 (fun (axis: int option) (x: Expr) -> axis |> Option.map (fun a -> x.Dims.[a])) axes arguments |> List.choose id
        let size =
            match sizes with
            | [] -> Shape.fail caller "inAxes batches no argument; at least one needs an axis"
            | first :: rest ->
                if rest |> List.exists ((<>) first) then
                    let shapes = List.map2 (fun (axis: int option) (x: Expr) -> sprintf "%s on axis %s" (Shape.format x.Dims) (match axis with Some a -> string a | None -> "none")) axes arguments
                    Shape.fail caller (sprintf "the batched arguments disagree on the batch size: %s" (String.Join(", ", shapes)))
                first
        let vars =
            List.mapi2 (fun i (axis: int option) (x: Expr) ->
                let dims = match axis with Some a -> Array.removeAt a x.Dims | None -> x.Dims
                Ir.freshScopedVar (sprintf "example%d" i) dims x.DType) axes arguments
        let outputs = f vars
        let outAxes = defaultArg outAxes (List.replicate outputs.Length 0)
        if List.length outAxes <> List.length outputs then
            Shape.fail caller (sprintf "outAxes has %d entries for %d outputs" outAxes.Length outputs.Length)
        let seeds =
            List.zip3 vars axes arguments
            |> List.map (fun (var, axis, x) ->
                match axis with
                | Some a -> var, { Value = Batching.moveAxis a 0 x; IsBatched = true }
                | None -> var, { Value = x; IsBatched = false })
            |> Array.ofList
        let results = Batching.walk size seeds (Array.ofList outputs)
        List.map2 (fun (result: Batched) (axis: int) ->
            let batched = BatchingRules.expand size result
            if axis < -batched.Rank || axis >= batched.Rank then
                // "output axis": the facade's overloads call it outAxis (one output) or outAxes (a list)
                Shape.fail caller (sprintf "output axis %d is not an axis of the batched output of shape %s" axis (Shape.format batched.Dims))
            Batching.moveAxis 0 (if axis < 0 then axis + batched.Rank else axis) batched) (List.ofArray results) outAxes
