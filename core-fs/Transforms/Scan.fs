/// Scan: loops without unrolling (JAX's lax.scan). The step is traced once over fresh Vars into a
/// closed body held by one Scan node, so the graph's size does not depend on the trip count. This
/// file owns the tracing, the unpacking of the node's packed output, and the rules that every
/// body carries: its VJP (a forward Scan that saves residuals, then a reverse Scan over the
/// body's VJP, both built with the op language so that they are differentiated again by this same
/// rule) and its batched form for vmap.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// What the VJP of a body needs, derived once per body and residual policy.
type internal ScanDerivation =
    { /// The body of the reverse Scan: carries (carry cotangents, captured accumulators), xs (the
      /// forward xs, the residuals, the ys' cotangents), captured (the captured values, hoisted
      /// loop invariants).
      Backward: ScanBody
      /// The forward Scan that stacks the residuals as extra ys after the body's own outputs; null
      /// when the backward body needs none.
      Saving: ScanBody
      /// The number of residuals the saving Scan stacks.
      Residuals: int
      /// Loop-invariant values the backward body reads, over the forward body's captured Vars.
      Hoisted: Expr[]
      /// The captured values with a cotangent, as positions among the body's captured Vars.
      Accumulated: int[] }

/// Scan over Exprs: tracing, the packed output, the VJP and batching rules of bodies.
[<RequireQualifiedAccess>]
module Scan =

    /// The parts of a Scan node's packed output: the final carries, then each ys stacked along a
    /// first axis of `length`, each in its own dtype (the packing's widening cast is exact).
    let internal parts (body: ScanBody) (length: int) (packed: Expr) : Expr[] =
        let offsets = body.Offsets length
        let carries = body.CarryVars.Length
        body.Outputs |> Array.mapi (fun i o ->
            let dims = if i < carries then o.Dims else Array.append [| length |] o.Dims
            Expr.sliceAxis 0 offsets.[i] offsets.[i + 1] packed |> Expr.reshape dims |> Expr.cast o.DType)

    let private isVar (e: Expr) = match e.Op with Op.Var _ -> true | _ -> false
    let private isConst (e: Expr) = match e.Op with Op.Const _ -> true | _ -> false

    /// The nodes that `roots` read from outside a region, found by a walk of the region only: the
    /// inputs (and roots) that `inside` rejects but that a node inside reads, each once, in order.
    let private frontier (order: Expr[]) (inside: Expr -> bool) (roots: Expr[]) (wanted: Expr -> bool) =
        let seen = HashSet<int64>()
        let found = List<Expr>()
        let consider (e: Expr) =
            if not (inside e) && wanted e && seen.Add e.Id then found.Add e
        for node in order do
            if inside node then
                for a in node.Args do consider a
        for r in roots do consider r
        found.ToArray()

    /// The roots rebuilt with each node of `replaced` (by id) swapped for its replacement: only the
    /// nodes of `order` (inputs first) that `rebuilt` accepts are rebuilt, so the walk never goes
    /// below the region it was given.
    let private rebuild (order: Expr[]) (rebuilt: Expr -> bool) (replaced: Dictionary<int64, Expr>) (roots: Expr[]) =
        let lookup (e: Expr) = match replaced.TryGetValue e.Id with | true, r -> r | _ -> e
        for node in order do
            if rebuilt node && node.Args.Length > 0 && not (replaced.ContainsKey node.Id) then
                let args = node.Args
                let next = args |> Array.map lookup
                if Array.exists2 (fun (a: Expr) (b: Expr) -> not (obj.ReferenceEquals(a, b))) args next then
                    replaced.[node.Id] <- Expr.apply node.Op next
        roots |> Array.map lookup

    // ---- the VJP rule ----

    let rec private derivationOf (body: ScanBody) (remat: bool) : ScanDerivation =
        lock body (fun () ->
            let cache =
                match body.Derived with
                | :? (ScanDerivation[]) as c -> c
                | _ ->
                    let c = Array.zeroCreate 2
                    body.Derived <- c
                    c
            let k = if remat then 1 else 0
            if isNull (box cache.[k]) then cache.[k] <- derive body remat
            cache.[k])

    /// Builds the backward body of `body`: the body's VJP over fresh cotangent Vars, then split into
    /// what the reverse loop computes and what it reads per step (residuals, stacked by a forward
    /// saving Scan) or once (hoisted invariants of the captured values).
    and private derive (body: ScanBody) (remat: bool) : ScanDerivation =
        let carries = body.CarryVars.Length
        let start = Ir.newestId () + 1L
        let carrySeeds = body.Outputs.[.. carries - 1] |> Array.mapi (fun i o -> Ir.freshVar (sprintf "carry_cotangent%d" i) o.Dims o.DType)
        let ySeeds = body.Ys |> Array.mapi (fun j o -> Ir.freshVar (sprintf "y_cotangent%d" j) o.Dims o.DType)
        let vars = body.Vars
        let found = Vjp.backwardMany body.Outputs (Array.append carrySeeds ySeeds) vars
        let xsAt = carries
        let capturedAt = carries + body.XVars.Length
        let accumulated = [| for l in 0 .. body.CapturedVars.Length - 1 do if found.[capturedAt + l].IsSome then yield l |]
        let accumulators = accumulated |> Array.map (fun l -> let v = body.CapturedVars.[l] in Ir.freshVar (sprintf "accumulated%d" l) v.Dims v.DType)
        let cotangentOr (i: int) = defaultArg found.[i] (Expr.zerosLike vars.[i])
        let raw =
            Array.concat [
                Array.init carries cotangentOr
                Array.map2 (fun (acc: Expr) l -> acc + found.[capturedAt + l].Value) accumulators accumulated
                Array.init body.XVars.Length (fun j -> cotangentOr (xsAt + j)) ]
        let outputs = Rewrite.simplifyFrom start raw
        // Which Vars each node of the backward graph depends on (the graph is closed: its leaves
        // are the body's Vars, the fresh cotangent Vars and constants).
        let order = Graph.topologicalOrder outputs
        let isCotangentVar = HashSet<int64>(Array.concat [ carrySeeds; ySeeds; accumulators ] |> Seq.map (fun v -> v.Id))
        let isStepVar = HashSet<int64>(Array.append body.CarryVars body.XVars |> Seq.map (fun v -> v.Id))
        let isCapturedVar = HashSet<int64>(body.CapturedVars |> Seq.map (fun v -> v.Id))
        let cotangent, step, captured = HashSet<int64>(), HashSet<int64>(), HashSet<int64>()
        for node in order do
            if isCotangentVar.Contains node.Id then cotangent.Add node.Id |> ignore
            if isStepVar.Contains node.Id then step.Add node.Id |> ignore
            if isCapturedVar.Contains node.Id then captured.Add node.Id |> ignore
            for a in node.Args do
                if cotangent.Contains a.Id then cotangent.Add node.Id |> ignore
                if step.Contains a.Id then step.Add node.Id |> ignore
                if captured.Contains a.Id then captured.Add node.Id |> ignore
        let isCarryVar = HashSet<int64>(body.CarryVars |> Seq.map (fun v -> v.Id))
        // What the backward body computes: the cotangent graph, and with remat the forward step too.
        let inside (e: Expr) = cotangent.Contains e.Id || (remat && step.Contains e.Id && not (isVar e))
        // Saved per step: without remat, every value of the forward step the backward body reads
        // (the largest such nodes, a carry itself included; the xs are at hand); with remat, only
        // the carries, and the step is recomputed from them.
        let residual (e: Expr) =
            if remat then isCarryVar.Contains e.Id
            else step.Contains e.Id && not (isVar e && not (isCarryVar.Contains e.Id))
        // Read once: values of the captured Vars alone (a weight's transpose), never per step.
        let hoisted (e: Expr) = not (isVar e) && captured.Contains e.Id && not (step.Contains e.Id)
        let residuals = frontier order inside outputs residual
        let invariants = frontier order inside outputs hoisted
        let residualVars = residuals |> Array.mapi (fun p r -> Ir.freshVar (sprintf "residual%d" p) r.Dims r.DType)
        let invariantVars = invariants |> Array.mapi (fun q h -> Ir.freshVar (sprintf "invariant%d" q) h.Dims h.DType)
        let replaced = Dictionary<int64, Expr>()
        Array.iter2 (fun (r: Expr) v -> replaced.[r.Id] <- v) residuals residualVars
        Array.iter2 (fun (h: Expr) v -> replaced.[h.Id] <- v) invariants invariantVars
        let backwardOutputs = rebuild order inside replaced outputs
        let backward =
            ScanBody(Array.append carrySeeds accumulators,
                     Array.concat [ body.XVars; residualVars; ySeeds ],
                     Array.append body.CapturedVars invariantVars,
                     backwardOutputs, deriveNode, batchNode)
        let saving =
            if residuals.Length = 0 then null
            else
                let s = ScanBody(body.CarryVars, body.XVars, body.CapturedVars, Array.append body.Outputs residuals, deriveNode, batchNode)
                s.Extends <- body
                s
        { Backward = backward; Saving = saving; Residuals = residuals.Length; Hoisted = invariants; Accumulated = accumulated }

    /// The cotangents of a Scan node's inputs (init, xs, captured) given the cotangent g of its
    /// packed output: the reverse Scan over the backward body.
    and private deriveNode (body: ScanBody) (node: Expr) (length: int) (reverse: bool) (remat: bool) (g: Expr) : (unit -> Expr) list =
        let inputs = node.Args
        let carries, xs = body.CarryVars.Length, body.XVars.Length
        let captured = inputs.[carries + xs ..]
        let all =
            lazy (
                let d = derivationOf body remat
                let gParts = parts body length g
                let stacks =
                    if isNull d.Saving then [||]
                    else
                        let saving = ScanNode.make "Scan" d.Saving length reverse remat inputs
                        (parts d.Saving length saving).[body.Outputs.Length ..]
                let hoisted =
                    if d.Hoisted.Length = 0 then [||]
                    else Substitute.apply (Array.zip body.CapturedVars captured) d.Hoisted
                let init =
                    Array.append gParts.[.. carries - 1] (d.Accumulated |> Array.map (fun l -> Expr.zerosLike captured.[l]))
                let backwardInputs =
                    Array.concat [ init; inputs.[carries .. carries + xs - 1]; stacks; gParts.[carries ..]; captured; hoisted ]
                let loop = ScanNode.make "Scan" d.Backward length (not reverse) remat backwardInputs
                let results = parts d.Backward length loop
                let accumulators = carries
                let xsAt = carries + d.Accumulated.Length
                Array.init inputs.Length (fun i ->
                    if i < carries then results.[i]
                    elif i < carries + xs then results.[xsAt + i - carries]
                    else
                        match Array.IndexOf(d.Accumulated, i - carries - xs) with
                        | -1 -> Expr.zerosLike inputs.[i]
                        | k -> results.[accumulators + k]))
        List.init inputs.Length (fun i -> fun () -> all.Value.[i])

    /// A Scan node over batched inputs: the same loop over the body batched by vmap's walk. Every
    /// carry takes the batch axis (a carry is batched after one step as soon as anything it reads
    /// is); xs and captured values keep their own state. Batched xs carry the batch axis second.
    and private batchNode (body: ScanBody) (length: int) (reverse: bool) (remat: bool) (inputs: Expr[]) (batched: bool[]) (size: int) : Expr =
        let carries, xs = body.CarryVars.Length, body.XVars.Length
        let withBatch (d: int[]) = Array.append [| size |] d
        let vars = body.Vars
        let isBatched = Array.init vars.Length (fun i -> i < carries || batched.[i])
        let batchedVars =
            vars |> Array.mapi (fun i v -> Ir.freshVar (sprintf "batched%d" i) (if isBatched.[i] then withBatch v.Dims else v.Dims) v.DType)
        let seeds = Array.init vars.Length (fun i -> vars.[i], { Value = batchedVars.[i]; IsBatched = isBatched.[i] })
        let outputs = Batching.walk size seeds body.Outputs |> Array.map (BatchingRules.expand size)
        let batchedBody = ScanBody(batchedVars.[.. carries - 1], batchedVars.[carries .. carries + xs - 1], batchedVars.[carries + xs ..], outputs, deriveNode, batchNode)
        let values =
            inputs |> Array.mapi (fun i x ->
                if i < carries then BatchingRules.expand size { Value = x; IsBatched = batched.[i] }
                elif i < carries + xs && batched.[i] then Batching.moveAxis 0 1 x
                else x)
        let loop = ScanNode.make "Vmap" batchedBody length reverse remat values
        let dtype = body.PackedDType
        let pieces =
            parts batchedBody length loop |> Array.mapi (fun i p ->
                let perExample = if i < carries then p else Batching.moveAxis 1 0 p
                Expr.reshape [| size; perExample.Numel / max size 1 |] perExample |> Expr.cast dtype)
        if pieces.Length = 0 then Expr.zeros dtype [| size; 0 |] else Expr.concat 1 pieces

    // ---- tracing ----

    /// Traces `step` into a body and builds the Scan node; returns the final carries and the
    /// stacked ys. `caller` is the public method, named in errors.
    let internal trace (caller: string) (reverse: bool) (remat: bool) (length: int voption)
                       (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) : Expr[] * Expr[] =
        if isNull (box step) then nullArg "step"
        if isNull init then nullArg "init"
        if isNull xs then nullArg "xs"
        init |> Array.iteri (fun i c -> if isNull (box c) then Shape.fail caller (sprintf "init %d is null" i))
        xs |> Array.iteri (fun j x ->
            if isNull (box x) then Shape.fail caller (sprintf "xs %d is null" j)
            if x.Rank = 0 then Shape.fail caller (sprintf "xs %d is a scalar; xs are stacked along axis 0" j))
        let length =
            match length with
            | ValueSome t ->
                if t < 0 then Shape.fail caller (sprintf "the length must be >= 0, got %d" t)
                for j in 0 .. xs.Length - 1 do
                    if xs.[j].Dims.[0] <> t then
                        Shape.fail caller (sprintf "xs %d of shape %s has %d rows for a length of %d" j (Shape.format xs.[j].Dims) xs.[j].Dims.[0] t)
                t
            | ValueNone ->
                if xs.Length = 0 then Shape.fail caller "no xs to take the length from; give the length"
                let t = xs.[0].Dims.[0]
                for j in 1 .. xs.Length - 1 do
                    if xs.[j].Dims.[0] <> t then
                        Shape.fail caller
                            (sprintf "every xs needs the same length along axis 0: xs 0 has shape %s and xs %d has shape %s"
                                 (Shape.format xs.[0].Dims) j (Shape.format xs.[j].Dims))
                t
        let start = Ir.newestId () + 1L
        let carryVars = init |> Array.mapi (fun i c -> Ir.freshVar (sprintf "carry%d" i) c.Dims c.DType)
        let xVars = xs |> Array.mapi (fun j x -> Ir.freshVar (sprintf "x%d" j) x.Dims.[1..] x.DType)
        let newCarries, ys = step carryVars xVars
        if isNull newCarries then Shape.fail caller "the step returned null carries"
        if isNull ys then Shape.fail caller "the step returned null ys"
        if newCarries.Length <> init.Length then
            Shape.fail caller (sprintf "the step returned %d carries for %d in init" newCarries.Length init.Length)
        for i in 0 .. init.Length - 1 do
            let c = newCarries.[i]
            if isNull (box c) then Shape.fail caller (sprintf "the step returned null for carry %d" i)
            if not (Ir.sameDims c.Dims init.[i].Dims) || c.DType <> init.[i].DType then
                Shape.fail caller
                    (sprintf "the step returned carry %d as %O%s, but init %d is %O%s; a carry keeps its shape and dtype"
                         i c.DType (Shape.format c.Dims) i init.[i].DType (Shape.format init.[i].Dims))
        ys |> Array.iteri (fun j y -> if isNull (box y) then Shape.fail caller (sprintf "the step returned null for y %d" j))
        let outputs = Array.append newCarries ys
        // The step's own graph: the nodes made since its fresh Vars. Older nodes are leaves here.
        let order = Graph.topologicalOrderFrom start outputs
        let ours = HashSet<int64>(Array.append carryVars xVars |> Seq.map (fun v -> v.Id))
        let fresh, outer = HashSet<int64>(), HashSet<int64>()
        for node in order do
            if ours.Contains node.Id then fresh.Add node.Id |> ignore
            elif node.Id < start || isVar node then
                // an older value, or a Var of someone else's: captured unless it is a constant
                match node with
                | Fold.Filled _ -> ()
                | _ -> if not (isConst node) then outer.Add node.Id |> ignore
            elif node.Args |> Array.exists (fun a -> fresh.Contains a.Id) then fresh.Add node.Id |> ignore
            elif node.Args |> Array.exists (fun a -> outer.Contains a.Id) then outer.Add node.Id |> ignore
        // Captured: the largest values the step reads that depend on no fresh Var but on something
        // from outside; they become inputs of the node (cotangents reach them, and loop-invariant
        // work runs once). Subgraphs of constants alone stay in the body.
        let inside (e: Expr) = fresh.Contains e.Id && not (ours.Contains e.Id)
        let capturedValues = frontier order inside outputs (fun e -> outer.Contains e.Id)
        let capturedVars = capturedValues |> Array.mapi (fun k c -> Ir.freshVar (sprintf "captured%d" k) c.Dims c.DType)
        let replaced = Dictionary<int64, Expr>()
        Array.iter2 (fun (c: Expr) v -> replaced.[c.Id] <- v) capturedValues capturedVars
        let bodyOutputs = rebuild order inside replaced outputs
        // The body's values are the user's and follow IEEE: they are not simplified (see Diff's
        // `finish`); hash-consing already shares equal subgraphs.
        let body = ScanBody(carryVars, xVars, capturedVars, bodyOutputs, deriveNode, batchNode)
        let node = ScanNode.make caller body length reverse remat (Array.concat [ init; xs; capturedValues ])
        let results = parts body length node
        results.[.. init.Length - 1], results.[init.Length ..]

    // ---- the F# surface ----

    /// lax.scan: runs `step carries x` over the rows of the xs (stacked along axis 0), threading
    /// the carries, and returns the final carries and each per-step y stacked along a new first
    /// axis. The step is traced once; the loop is one node whatever its length, and every
    /// derivative of it is a loop too. The step must return carries of init's shapes and dtypes.
    let scan (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) : Expr[] * Expr[] =
        trace "Scan.scan" false false ValueNone step init xs

    /// As `scan`, running the steps from the last row to the first (each y stays at its row).
    let scanReverse (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) : Expr[] * Expr[] =
        trace "Scan.scanReverse" true false ValueNone step init xs

    /// As `scan` for `length` steps without xs: the step sees only the carries.
    let scanLength (length: int) (step: Expr[] -> Expr[] * Expr[]) (init: Expr[]) : Expr[] * Expr[] =
        if isNull (box step) then nullArg "step"
        trace "Scan.scanLength" false false (ValueSome length) (fun carries _ -> step carries) init [||]

    /// As `scan` with every option: `reverse` runs the steps backwards; `remat` makes the
    /// gradient save only the carries and recompute each step in the backward loop (less memory,
    /// one more evaluation of the step per step); `length` is needed when there are no xs.
    let scanWith (reverse: bool) (remat: bool) (length: int option) (step: Expr[] -> Expr[] -> Expr[] * Expr[]) (init: Expr[]) (xs: Expr[]) : Expr[] * Expr[] =
        trace "Scan.scanWith" reverse remat (match length with Some t -> ValueSome t | None -> ValueNone) step init xs

    /// `scan` with one carry and one xs: `step carry x` returns the new carry and the step's y.
    let scan1 (step: Expr -> Expr -> Expr * Expr) (init: Expr) (xs: Expr) : Expr * Expr =
        if isNull (box step) then nullArg "step"
        let carries, ys =
            trace "Scan.scan1" false false ValueNone (fun c x -> let c', y = step c.[0] x.[0] in [| c' |], [| y |]) [| init |] [| xs |]
        carries.[0], ys.[0]

    /// A fori loop: `step` applied `count` times to init, as one node.
    let repeat (count: int) (step: Expr -> Expr) (init: Expr) : Expr =
        if isNull (box step) then nullArg "step"
        (fst (trace "Scan.repeat" false false (ValueSome count) (fun c _ -> [| step c.[0] |], [||]) [| init |] [||])).[0]
