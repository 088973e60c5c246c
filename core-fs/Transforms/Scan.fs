/// Scan: loops without unrolling (JAX's lax.scan). The step is traced once over fresh Vars into a
/// closed body held by one Scan node, so the graph's size does not depend on the trip count. This
/// file owns the tracing, the unpacking of the node's packed output, and the rules that every
/// body carries: its VJP (a forward Scan that saves residuals, then a reverse Scan over the
/// body's VJP, both built with the op language so that they are differentiated again by this same
/// rule) and its batched form for vmap.
namespace FunctionalDiff.Core

open System
open System.Collections.Generic

/// Where an input of a derived Scan comes from: the node's own input of that kind and position
/// (kind 0: a forward xs or captured value), a residual stack or hoisted invariant (kind 1), or
/// a y cotangent (kind 2).
[<Struct>]
type internal Source = { Kind: int; Index: int }

/// What the VJP of a body needs, derived once per body, residual policy and set of wanted
/// cotangents.
type internal ScanDerivation =
    { /// The body of the reverse Scan: carries (carry cotangents, captured accumulators), xs (of
      /// BackwardXs), captured (of BackwardCaptured); its ys are the cotangents of WantedXs.
      Backward: ScanBody
      BackwardXs: Source[]
      BackwardCaptured: Source[]
      /// The forward Scan that stacks the residuals as its last ys; null when none is needed. It
      /// reads the node's carries, xs and captured values at these positions.
      Saving: ScanBody
      SavingCarries: int[]
      SavingXs: int[]
      SavingCaptured: int[]
      /// The number of residuals the saving Scan stacks.
      Residuals: int
      /// Loop-invariant values the backward body reads, over the forward body's captured Vars.
      Hoisted: Expr[]
      /// The xs whose cotangents the backward Scan computes (its ys, in this order).
      WantedXs: int[]
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

    // The union's own case tests: a match here would need a wildcard over every other primitive.
    let private isVar (e: Expr) = e.Op.IsVar
    let private isConst (e: Expr) = e.Op.IsConst

    /// True for the ops that only lay out their input anew (recomputed rather than saved).
    let private isView (e: Expr) =
        match e.Op with
        | Op.Permute _ | Op.Reshape _ | Op.BroadcastTo _ | Op.Flip _ -> true
        | Op.Var _ | Op.Const _ | Op.Unary _ | Op.Binary _ | Op.Where | Op.Reduce _ | Op.ArgMax _ | Op.MatMul
        | Op.Slice _ | Op.Pad _ | Op.Concat _ | Op.Gather _ | Op.ScatterAdd _ | Op.Cast _ | Op.StopGradient
        | Op.Custom _ | Op.Cholesky | Op.TriangularSolve _ | Op.Solve | Op.SlogDet | Op.Qr | Op.Lu | Op.LuPermutation | Op.MatrixExp | Op.Eigh | Op.Svd
        | Op.Polygamma _ | Op.ArgSort _ | Op.Unfold _ | Op.Fold _ | Op.Scan _ | Op.Softmax _ | Op.LogSoftmax _ | Op.SoftmaxBackward _ | Op.LogSoftmaxBackward _ | Op.DiagonalMinusRankOne _ | Op.CumSum _ -> false

    /// The nodes that `roots` read from outside a region, found by a walk of the region only: the
    /// inputs (and roots) that `inside` rejects but that a node inside reads, each once, in order.
    let private frontier (order: Expr[]) (inside: Expr -> bool) (roots: Expr[]) (wanted: Expr -> bool) =
        let seen = HashSet<int64>()
        let found = List<Expr>()
        let consider (e: Expr) =
            if not (inside e) && wanted e && seen.Add e.Id then found.Add e
        for node in order do
            if inside node then
                for a in node.Inputs do consider a
        for r in roots do consider r
        found.ToArray()

    /// The roots rebuilt with each node of `replaced` (by id) swapped for its replacement: only the
    /// nodes of `order` (inputs first) that `rebuilt` accepts are rebuilt, so the walk never goes
    /// below the region it was given.
    let private rebuild (order: Expr[]) (rebuilt: Expr -> bool) (replaced: Dictionary<int64, Expr>) (roots: Expr[]) =
        let lookup (e: Expr) = match replaced.TryGetValue e.Id with | true, r -> r | _ -> e
        for node in order do
            if rebuilt node && node.ArgCount > 0 && not (replaced.ContainsKey node.Id) then
                let args = node.Inputs
                let next = args |> Array.map lookup
                if Array.exists2 (fun (a: Expr) (b: Expr) -> not (obj.ReferenceEquals(a, b))) args next then
                    replaced.[node.Id] <- Expr.apply node.Op next
        roots |> Array.map lookup

    // ---- the VJP rule ----

    /// The Vars below the roots (a body's graph is closed, so this walk is the body's size).
    let private varsBelow (roots: Expr seq) =
        let found = HashSet<int64>()
        for node in Graph.topologicalOrder roots do
            if isVar node then found.Add node.Id |> ignore
        found

    let rec private derivationOf (body: ScanBody) (remat: bool) (wantedXs: int[]) (wantedCaptured: int[]) : ScanDerivation =
        let key = sprintf "%b|%A|%A" remat wantedXs wantedCaptured
        lock body (fun () ->
            let cache =
                match body.Derived with
                | :? Dictionary<string, ScanDerivation> as c -> c
                | _ ->
                    let c = Dictionary<string, ScanDerivation>()
                    body.Derived <- c
                    c
            match cache.TryGetValue key with
            | true, d -> d
            | _ ->
                let d = derive body remat wantedXs wantedCaptured
                cache.[key] <- d
                d)

    /// Builds the backward body of `body` for the cotangents wanted (every carry's, since carries
    /// feed each other; the listed xs' and captured values'): the body's VJP over fresh cotangent
    /// Vars, split into what the reverse loop computes and what it reads per step (residuals,
    /// stacked by a forward saving Scan) or once (hoisted invariants of the captured values).
    /// Derived bodies read only the Vars they use, so a cotangent that the reverse loop is linear
    /// in never becomes an input of the loops that differentiate it again (forward mode by
    /// transposition then leaves no trace of its cotangent variable).
    and private derive (body: ScanBody) (remat: bool) (wantedXs: int[]) (wantedCaptured: int[]) : ScanDerivation =
        let carries = body.CarryVars.Length
        let start = Ir.newestId () + 1L
        let carrySeeds = body.Outputs.[.. carries - 1] |> Array.mapi (fun i o -> Ir.freshVar (sprintf "carry_cotangent%d" i) o.Dims o.DType)
        let ySeeds = body.Ys |> Array.mapi (fun j o -> Ir.freshVar (sprintf "y_cotangent%d" j) o.Dims o.DType)
        let wrt =
            Array.concat [ body.CarryVars; wantedXs |> Array.map (fun j -> body.XVars.[j]); wantedCaptured |> Array.map (fun l -> body.CapturedVars.[l]) ]
        let found = Vjp.backwardMany body.Outputs (Array.append carrySeeds ySeeds) wrt
        let xsAt, capturedAt = carries, carries + wantedXs.Length
        let accumulatedAt = [| for k in 0 .. wantedCaptured.Length - 1 do if found.[capturedAt + k].IsSome then yield k |]
        let accumulated = accumulatedAt |> Array.map (fun k -> wantedCaptured.[k])
        let accumulators = accumulated |> Array.map (fun l -> let v = body.CapturedVars.[l] in Ir.freshVar (sprintf "accumulated%d" l) v.Dims v.DType)
        let cotangentOr (i: int) = defaultArg found.[i] (Expr.zerosLike wrt.[i])
        let raw =
            Array.concat [
                Array.init carries cotangentOr
                Array.map2 (fun (acc: Expr) k -> acc + found.[capturedAt + k].Value) accumulators accumulatedAt
                Array.init wantedXs.Length (fun j -> cotangentOr (xsAt + j)) ]
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
            for a in node.Inputs do
                if cotangent.Contains a.Id then cotangent.Add node.Id |> ignore
                if step.Contains a.Id then step.Add node.Id |> ignore
                if captured.Contains a.Id then captured.Add node.Id |> ignore
        let isCarryVar = HashSet<int64>(body.CarryVars |> Seq.map (fun v -> v.Id))
        // What the backward body computes: the cotangent graph, with remat the forward step too,
        // and always the views (a transpose of the carry, say) of what it reads, so that the saved
        // value is the viewed one, and a view of an xs row is not saved at all.
        let inside (e: Expr) =
            cotangent.Contains e.Id || (step.Contains e.Id && not (isVar e) && (remat || isView e))
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
        // The backward body reads only the Vars it uses.
        let used = varsBelow backwardOutputs
        let pick (vars: Expr[]) (kind: int) = [| for i in 0 .. vars.Length - 1 do if used.Contains vars.[i].Id then yield vars.[i], { Kind = kind; Index = i } |]
        let backwardXs = Array.concat [ pick body.XVars 0; pick residualVars 1; pick ySeeds 2 ]
        let backwardCaptured = Array.append (pick body.CapturedVars 0) (pick invariantVars 1)
        let backward =
            ScanBody(Array.append carrySeeds accumulators, Array.map fst backwardXs, Array.map fst backwardCaptured,
                     backwardOutputs, deriveNode, batchNode)
        // The saving Scan runs the carries the residuals need (and those these need in turn).
        let savingCarries, savingXs, savingCaptured, saving =
            if residuals.Length = 0 then [||], [||], [||], null
            else
                let needed = varsBelow residuals
                let mutable grown = true
                while grown do
                    let more = varsBelow [ for i in 0 .. carries - 1 do if needed.Contains body.CarryVars.[i].Id then yield body.Outputs.[i] ]
                    grown <- false
                    for id in more do
                        if needed.Add id then grown <- true
                let kept = [| for i in 0 .. carries - 1 do if needed.Contains body.CarryVars.[i].Id then yield i |]
                if kept.Length = carries then
                    // every carry: the saving Scan extends the body (same inputs, the body's outputs
                    // first), so a plan that holds both computes the body's loop once
                    let s = ScanBody(body.CarryVars, body.XVars, body.CapturedVars, Array.append body.Outputs residuals, deriveNode, batchNode)
                    s.Extends <- body
                    [| 0 .. carries - 1 |], [| 0 .. body.XVars.Length - 1 |], [| 0 .. body.CapturedVars.Length - 1 |], s
                else
                    let savingOutputs = Array.append (kept |> Array.map (fun i -> body.Outputs.[i])) residuals
                    let reads = varsBelow savingOutputs
                    let xs = [| for j in 0 .. body.XVars.Length - 1 do if reads.Contains body.XVars.[j].Id then yield j |]
                    let cs = [| for l in 0 .. body.CapturedVars.Length - 1 do if reads.Contains body.CapturedVars.[l].Id then yield l |]
                    let s =
                        ScanBody(kept |> Array.map (fun i -> body.CarryVars.[i]), xs |> Array.map (fun j -> body.XVars.[j]),
                                 cs |> Array.map (fun l -> body.CapturedVars.[l]), savingOutputs, deriveNode, batchNode)
                    kept, xs, cs, s
        { Backward = backward; BackwardXs = Array.map snd backwardXs; BackwardCaptured = Array.map snd backwardCaptured
          Saving = saving; SavingCarries = savingCarries; SavingXs = savingXs; SavingCaptured = savingCaptured
          Residuals = residuals.Length; Hoisted = invariants; WantedXs = wantedXs; Accumulated = accumulated }

    /// The cotangents of a Scan node's inputs (init, xs, captured) given the cotangent g of its
    /// packed output: the reverse Scan over the backward body. `wanted` marks the inputs whose
    /// cotangents the reverse walk will ask for; the others are not computed.
    and private deriveNode (body: ScanBody) (node: Expr) (length: int) (reverse: bool) (remat: bool) (g: Expr) (wanted: bool[]) : (unit -> Expr) list =
        let inputs = node.Inputs
        let carries, xs = body.CarryVars.Length, body.XVars.Length
        let xsOf, captured = inputs.[carries .. carries + xs - 1], inputs.[carries + xs ..]
        let wantedXs = [| for j in 0 .. xs - 1 do if wanted.[carries + j] then yield j |]
        let wantedCaptured = [| for l in 0 .. captured.Length - 1 do if wanted.[carries + xs + l] then yield l |]
        let all =
            lazy (
                let d = derivationOf body remat wantedXs wantedCaptured
                let gParts = parts body length g
                let stacks =
                    if isNull d.Saving then [||]
                    else
                        let savingInputs =
                            Array.concat [ d.SavingCarries |> Array.map (fun i -> inputs.[i]); d.SavingXs |> Array.map (fun j -> xsOf.[j])
                                           d.SavingCaptured |> Array.map (fun l -> captured.[l]) ]
                        let saving = ScanNode.make "Scan" d.Saving length reverse remat savingInputs
                        (parts d.Saving length saving).[d.Saving.Outputs.Length - d.Residuals ..]
                let hoisted =
                    if d.Hoisted.Length = 0 then [||]
                    else Substitute.apply (Array.zip body.CapturedVars captured) d.Hoisted
                let init =
                    Array.append gParts.[.. carries - 1] (d.Accumulated |> Array.map (fun l -> Expr.zerosLike captured.[l]))
                let xsFrom (s: Source) = match s.Kind with 0 -> xsOf.[s.Index] | 1 -> stacks.[s.Index] | _ -> gParts.[carries + s.Index]
                let capturedFrom (s: Source) = if s.Kind = 0 then captured.[s.Index] else hoisted.[s.Index]
                let backwardInputs =
                    Array.concat [ init; d.BackwardXs |> Array.map xsFrom; d.BackwardCaptured |> Array.map capturedFrom ]
                let loop = ScanNode.make "Scan" d.Backward length (not reverse) remat backwardInputs
                let results = parts d.Backward length loop
                let xsAt = carries + d.Accumulated.Length
                Array.init inputs.Length (fun i ->
                    if i < carries then results.[i]
                    elif i < carries + xs then
                        match Array.IndexOf(d.WantedXs, i - carries) with
                        | -1 -> Expr.zerosLike inputs.[i]
                        | k -> results.[xsAt + k]
                    else
                        match Array.IndexOf(d.Accumulated, i - carries - xs) with
                        | -1 -> Expr.zerosLike inputs.[i]
                        | k -> results.[carries + k]))
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
                // one example's element count from the shape, not Numel / size: no examples (size 0) still have a shape
                Expr.reshape [| size; Shape.numel perExample.Dims.[1..] |] perExample |> Expr.cast dtype)
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
        let newCarries, ys =
            try
                step carryVars xVars
            with :? ShapeException as e ->
                // the op that failed names only its own operands, which are the step's carries and slices: say where they
                // came from, since the usual cause is xs laid out batch-first when Scan steps along axis 0
                let shapes (es: Expr[]) = es |> Array.map (fun e -> Shape.format e.Dims) |> String.concat ", "
                let rows =
                    if xs.Length = 0 then ""
                    else
                        sprintf " and x %s (rows of xs %s); %s slices xs along axis 0, the time axis, so batch-first xs [batch, time, ...] need their first two axes swapped"
                            (shapes xVars) (shapes xs) caller
                raise (ShapeException(sprintf "%s (raised inside %s's step, traced over carry %s%s)" e.Message caller (shapes carryVars) rows, e))
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
        // A loop of no steps is its init, and its ys are empty stacks: no node, so its derivatives are the identity
        // into init and no cotangent at all into the xs and the values the step captures, as torch's loop that does
        // not run. As a node, its second-order rule ran the backward loop's own reverse loop of no steps, whose
        // cotangent into init was a dense 0 that met an infinite slope before the loop as 0·∞ = NaN (`fuzz
        // adversarial 43/94`, float32: a transposed convolution with −∞ weights, then Repeat(0, ...); the map is
        // linear and its second derivative 0).
        if length = 0 then
            Array.copy init, ys |> Array.map (fun y -> Expr.zeros y.DType (Array.append [| 0 |] y.Dims))
        else
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
                elif node.Inputs |> Array.exists (fun a -> fresh.Contains a.Id) then fresh.Add node.Id |> ignore
                elif node.Inputs |> Array.exists (fun a -> outer.Contains a.Id) then outer.Add node.Id |> ignore
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
